//! `aep-flow pipeline` as a user runs it: a demo walkthrough across
//! commands through one state file, `status` exit codes for cron, and bad
//! input refused with exit 2 before anything is sent.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use aep_flow::{spec::CONNECTION_STRING_AUTH, Client, Frequency, Mapping, PipelineSpec, Schedule};
use aep_flow_testing::{demo_catalog, FakeFlowService, FakeRun, Reply};
use common::DEMO_DATASET_ID;
use common::{aep_flow, fresh_demo_state, garbled, text, with_platform, with_postgres};
use serde_json::{json, Value};

const DATASET: &str = "5c8c3c555033b814b69f947f";
const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/orders";
/// The demo's database password, a canary: no run of six of it may reach
/// the state file or the output.
const PG_CANARY: &str = "pg-Canary-9Vx!Qz";

fn demo(program: &str, state: &Path, args: &[&str]) -> (Output, String, String) {
    let mut cmd = aep_flow(program);
    cmd.env("AEP_DEMO_STATE", state)
        .env("PGPASSWORD", PG_CANARY)
        .arg("--demo")
        .args(args);
    finish(cmd)
}

fn real(fake: &FakeFlowService, args: &[&str]) -> (Output, String, String) {
    let mut cmd = aep_flow("pipeline");
    with_platform(&mut cmd, fake);
    cmd.args(args);
    finish(cmd)
}

fn finish(mut cmd: Command) -> (Output, String, String) {
    let out = cmd.output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_no_run_of(PG_CANARY, &stdout);
    assert_no_run_of(PG_CANARY, &stderr);
    assert!(!stdout.contains("tok-cli-7788") && !stderr.contains("tok-cli-7788"));
    (out, stdout, stderr)
}

fn assert_no_run_of(secret: &str, text: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for run in chars.windows(6) {
        let run: String = run.iter().collect();
        assert!(!text.contains(&run), "{run:?} leaked: {text}");
    }
}

fn json_line(stdout: &str) -> Value {
    let line = stdout.lines().next().unwrap_or_else(|| panic!("no output"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

const ENSURE: &[&str] = &[
    "ensure",
    "--table",
    "public.orders",
    "--map",
    "id=_demo.orderId",
    "--map=amount=_demo.amount",
    "--delta-column",
    "updated_at",
    "--frequency",
    "hour",
];

#[test]
fn a_demo_walkthrough_spans_commands_and_writes_no_secret() {
    let state = fresh_demo_state();
    let (out, stdout, _) = demo("connections create", &state, &["--name", "orders-db"]);
    assert_eq!(code(&out), 0);
    let base = json_line(&stdout)["id"].as_str().unwrap().to_owned();

    let (out, stdout, _) = demo(
        "connections",
        &state,
        &["explore", &base, "--table", "public.orders"],
    );
    assert_eq!(code(&out), 0, "{stdout}");
    assert_eq!(json_line(&stdout)["columns"][3]["name"], "updated_at");

    let mut args = ENSURE.to_vec();
    args.extend(["--connection", &base, "--dataset", DEMO_DATASET_ID]);
    let (out, stdout, stderr) = demo("pipeline", &state, &[&args[..], &["--plan"]].concat());
    assert_eq!(code(&out), 0, "{stderr}");
    let plan = json_line(&stdout);
    assert_eq!(plan["planned"], true);
    assert!(plan["flowId"].is_null());
    assert_eq!(plan["changed"].as_array().unwrap().len(), 4);
    assert!(stderr.contains(DEMO_DATASET_ID), "{stderr}");

    let (out, stdout, stderr) = demo("pipeline", &state, &args);
    assert_eq!(code(&out), 0, "{stderr}");
    let first = json_line(&stdout);
    let keys: Vec<&str> = stdout
        .split("\":")
        .map(|k| k.rsplit('"').next().unwrap())
        .collect();
    assert_eq!(
        &keys[..5],
        [
            "flowId",
            "sourceConnectionId",
            "targetConnectionId",
            "mappingSetId",
            "changed"
        ]
    );
    assert_eq!(
        first["changed"],
        json!([
            "created sourceConnection",
            "created targetConnection",
            "created mappingSet",
            "created flow"
        ])
    );
    let flow = first["flowId"].as_str().unwrap().to_owned();

    let (out, stdout, _) = demo("pipeline", &state, &args);
    assert_eq!(code(&out), 0);
    let again = json_line(&stdout);
    assert_eq!(again["changed"], json!([]));
    assert_eq!(again["flowId"], first["flowId"]);
    assert_eq!(again["mappingSetId"], first["mappingSetId"]);

    // The demo recorded a successful run when the flow was created.
    let (out, stdout, _) = demo("pipeline", &state, &["status", &flow]);
    assert_eq!(code(&out), 0, "{stdout}");
    let status = json_line(&stdout);
    assert_eq!(status["flowId"], flow.as_str());
    assert_eq!(status["state"], "enabled");
    assert_eq!(status["lastRun"]["status"], "success");
    assert_eq!(status["lastRun"]["inputRecords"], 3);
    let started = status["lastRun"]["startedAt"].as_str().unwrap();
    assert!(
        started.len() == 20 && started.ends_with('Z') && started.as_bytes()[10] == b'T',
        "{started}"
    );
    assert!(stdout.starts_with("{\"flowId\":"), "{stdout}");

    let (out, stdout, _) = demo("pipeline", &state, &["runs", &flow, "--limit", "5"]);
    assert_eq!(code(&out), 0);
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.starts_with("{\"id\":"), "{stdout}");

    let (out, stdout, _) = demo("pipeline", &state, &["disable", &flow]);
    assert_eq!(code(&out), 0);
    assert!(stdout.starts_with("{\"id\":"), "{stdout}");
    let (_, stdout, _) = demo("pipeline", &state, &args);
    assert_eq!(json_line(&stdout)["changed"], json!([]));
    let (_, stdout, _) = demo("pipeline", &state, &[&args[..], &["--enable"]].concat());
    assert_eq!(json_line(&stdout)["changed"], json!(["enabled flow"]));

    // Nothing of the password in the state file, and not readable by others.
    let file = std::fs::read_to_string(&state).unwrap();
    assert_no_run_of(PG_CANARY, &file);
    assert!(file.contains(&flow));

    // Delete with its connections: the base connection stays.
    let (out, stdout, stderr) = demo("pipeline", &state, &["delete", &flow, "--with-connections"]);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(stdout.is_empty());
    let (out, _, _) = demo("pipeline", &state, &["status", &flow]);
    assert_eq!(code(&out), 1);
    let (out, stdout, _) = demo("connections", &state, &["get", &base]);
    assert_eq!(code(&out), 0, "{stdout}");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    // The state file keeps each sandbox's objects apart.
    let sandboxes = file["sandboxes"].as_object().unwrap();
    assert!(!sandboxes.is_empty(), "{file}");
    for (name, objects) in sandboxes {
        for store in ["sourceConnections", "targetConnections", "flows"] {
            assert_eq!(objects[store], json!([]), "{name}: {store}");
        }
    }

    // --demo-reset starts over.
    let (out, _, _) = demo("pipeline", &state, &["status", &flow, "--demo-reset"]);
    assert_eq!(code(&out), 1);
    let (out, _, _) = demo("connections", &state, &["get", &base]);
    assert_eq!(code(&out), 1, "the reset kept the connection");
    let _ = std::fs::remove_file(&state);
}

/// A fake with a flow made through the library, for the status tests.
fn with_flow() -> (FakeFlowService, String) {
    let fake = FakeFlowService::start().unwrap();
    let base = fake.insert_connection(
        "pg",
        CONNECTION_STRING_AUTH,
        json!({"connectionString": "Server=db;Database=d;Port=5432;UID=u;Password=p"}),
    );
    fake.set_catalog(&base, demo_catalog());
    fake.add_dataset(DATASET, "orders", SCHEMA);
    let client = Client::new(common::platform(&fake)).unwrap();
    let spec = PipelineSpec::new()
        .with_base_connection_id(base.parse().unwrap())
        .with_table_path("public.orders")
        .with_dataset_id(DATASET.parse().unwrap())
        .with_mappings(vec![Mapping::new("id", "_tenant.orderId")])
        .with_delta_column("updated_at")
        .with_schedule(Schedule::every(Frequency::Day, 1, 1_764_230_400).unwrap());
    let flow = client.ensure_pipeline(&spec).unwrap().flow_id;
    (fake, String::from(flow))
}

#[test]
fn status_exit_codes_follow_the_latest_finished_run() {
    let (fake, flow) = with_flow();
    // No run yet: 0, lastRun null.
    let (out, stdout, _) = real(&fake, &["status", &flow]);
    assert_eq!(code(&out), 0);
    assert_eq!(json_line(&stdout)["lastRun"], Value::Null);

    fake.add_run(
        &flow,
        FakeRun::new("success")
            .with_created_at(1_000)
            .with_counts(5, 5, 0),
    );
    let (out, stdout, _) = real(&fake, &["status", &flow]);
    assert_eq!(code(&out), 0, "{stdout}");
    assert_eq!(json_line(&stdout)["lastRun"]["outputRecords"], 5);

    // In progress after a success: still 0.
    fake.add_run(&flow, FakeRun::new("inProgress").with_created_at(2_000));
    let (out, stdout, _) = real(&fake, &["status", &flow]);
    assert_eq!(code(&out), 0);
    assert_eq!(json_line(&stdout)["lastRun"]["status"], "inProgress");

    // A failure (in the service's casing): 3, with the JSON still printed.
    fake.add_run(
        &flow,
        FakeRun::new("Failed")
            .with_created_at(3_000)
            .with_counts(5, 3, 2)
            .with_error("CONNECTOR-2001-500", "2 rows failed"),
    );
    let (out, stdout, stderr) = real(&fake, &["status", &flow]);
    assert_eq!(code(&out), 3, "{stderr}");
    assert_eq!(json_line(&stdout)["lastRun"]["failedRecords"], 2);
    assert!(stderr.contains("failed"), "{stderr}");
    // In progress after the failure: the latest finished run still failed.
    fake.add_run(&flow, FakeRun::new("scheduled").with_created_at(4_000));
    let (out, _, _) = real(&fake, &["status", &flow]);
    assert_eq!(code(&out), 3);
    // Then a success: 0 again.
    fake.add_run(&flow, FakeRun::new("SUCCESS").with_created_at(5_000));
    let (out, _, _) = real(&fake, &["status", &flow]);
    assert_eq!(code(&out), 0);

    let (out, stdout, _) = real(&fake, &["runs", &flow, "--limit", "2"]);
    assert_eq!(code(&out), 0);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["status"], "success");
    assert_eq!(lines[1]["status"], "scheduled");

    // A flow that does not exist: a service answer, exit 1.
    let (out, _, stderr) = real(&fake, &["status", "00000000-0000-4000-8000-00000000ffff"]);
    assert_eq!(code(&out), 1, "{stderr}");
}

#[test]
fn bad_input_is_exit_2_and_nothing_is_sent() {
    let fake = FakeFlowService::start().unwrap();
    let base = ["--connection", "c1", "--dataset", DATASET];
    let ensure = |extra: &[&str]| -> Vec<String> {
        ENSURE
            .iter()
            .chain(base.iter())
            .chain(extra.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let mut cases: Vec<(Vec<String>, &str)> = vec![
        (ensure(&["--map", "no-equals"]), "COLUMN=XDM_PATH"),
        (ensure(&["--map", "=x"]), "COLUMN=XDM_PATH"),
        (
            ensure(&["--interval", "5", "--frequency", "minute"]),
            "--frequency",
        ),
        (ensure(&["--start", "soon"]), "--start"),
        (ensure(&["--start", "-5"]), "--start"),
        (ensure(&["--plan", "--plan"]), "more than once"),
        (ensure(&["--limit", "3"]), "--limit"),
        (ensure(&["--with-connections"]), "--with-connections"),
        (ensure(&["--map", "id=bad path!"]), "destination"),
        (ensure(&["--name", " "]), "name"),
        (vec!["status".into()], "FLOW_ID"),
        (vec!["status".into(), "a".into(), "b".into()], "FLOW_ID"),
        (vec!["status".into(), "a/../b".into()], "flow"),
        (
            vec!["runs".into(), "f".into(), "--limit".into(), "0".into()],
            "--limit",
        ),
        (
            vec!["runs".into(), "f".into(), "--limit".into(), "ten".into()],
            "--limit",
        ),
        (vec!["delete".into(), "f".into(), "--plan".into()], "--plan"),
        (vec!["frobnicate".into()], "unknown command"),
        (vec![], "a command is required"),
        (
            vec!["ensure".into(), "--table".into(), "t".into()],
            "--connection",
        ),
    ];
    // --frequency once with an interval, a bad frequency, a minute interval below 15.
    let mut with_frequency = |f: &str, extra: &[&str], expect: &'static str| {
        let mut args: Vec<String> = ensure(&[]);
        let i = args.iter().position(|a| a == "hour").unwrap();
        args[i] = f.into();
        args.extend(extra.iter().map(|s| s.to_string()));
        cases.push((args, expect));
    };
    with_frequency("once", &["--interval", "2"], "--interval");
    with_frequency("once", &["--no-backfill"], "--no-backfill");
    with_frequency("yearly", &[], "once, minute, hour, day or week");
    with_frequency("minute", &["--interval", "5"], "interval");
    with_frequency("hour", &["--interval", "0"], "interval");
    with_frequency("hour", &["--interval", "-1"], "--interval");
    for (args, expect) in cases {
        let (out, stdout, stderr) =
            real(&fake, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(code(&out), 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains(expect), "{args:?}: want {expect}: {stderr}");
    }
    // A garbled argument.
    let mut cmd = aep_flow("pipeline");
    with_platform(&mut cmd, &fake);
    let out = cmd
        .arg("status")
        .arg(garbled(b"flow-\xff"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(fake.requests().is_empty(), "{:?}", fake.requests().len());
}

#[test]
fn a_declaration_the_service_side_refuses_is_exit_2_with_no_write() {
    let (fake, _) = with_flow();
    let base = fake.connections()[0].id.clone();
    let before = fake.requests().len();
    let mut cmd = aep_flow("pipeline");
    with_platform(&mut cmd, &fake);
    with_postgres(&mut cmd, "pw-canary-4411");
    let out = cmd
        .args([
            "ensure",
            "--connection",
            &base,
            "--table",
            "public.orders",
            "--dataset",
            DATASET,
        ])
        .args([
            "--map",
            "id=_tenant.orderId",
            "--delta-column",
            "changed_at",
            "--frequency",
            "week",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(
        stderr.contains("delta_column") && stderr.contains("changed_at"),
        "{stderr}"
    );
    let writes = fake.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET" && !r.path.contains("/validate"))
        .count();
    assert_eq!(writes, 0);
}

#[test]
fn a_run_killed_while_waiting_on_a_write_is_finished_by_the_next() {
    use aep_flow_testing::Reply;
    use std::time::{Duration, Instant};
    for (path, processed) in [("/targetConnections", false), ("/flows", true)] {
        let fake = FakeFlowService::start().unwrap();
        let base = fake.insert_connection(
            "pg",
            CONNECTION_STRING_AUTH,
            json!({"connectionString": "Server=db;Database=d;Port=5432;UID=u;Password=p"}),
        );
        fake.set_catalog(&base, demo_catalog());
        fake.add_dataset(DATASET, "orders", SCHEMA);
        let silent = Reply::silent(Duration::from_secs(30));
        let reply = if processed {
            Reply::after_processing(silent)
        } else {
            silent
        };
        fake.push_reply(reply.only_for("POST").only_for_path(path));
        let args = [
            "ensure",
            "--connection",
            &base,
            "--table",
            "public.orders",
            "--dataset",
            DATASET,
            "--map",
            "id=_tenant.orderId",
            "--delta-column",
            "updated_at",
        ];
        let mut cmd = aep_flow("pipeline");
        with_platform(&mut cmd, &fake);
        let mut child = cmd.args(args).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !fake
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with(path))
        {
            assert!(Instant::now() < deadline, "{path}: the write never came");
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let (out, stdout, stderr) = real(&fake, &args);
        assert_eq!(code(&out), 0, "{path}: {stderr}");
        let changed = json_line(&stdout)["changed"].clone();
        assert!(
            !changed.to_string().contains("sourceConnection"),
            "{path}: {changed}"
        );
        assert_eq!(fake.source_connections().len(), 1, "{path}");
        assert_eq!(fake.target_connections().len(), 1, "{path}");
        assert_eq!(fake.flows().len(), 1, "{path}");
    }
}

#[test]
fn delete_with_connections_keeps_a_connection_another_flow_uses() {
    let (fake, flow_a) = with_flow();
    // A second pipeline reads the same table into another dataset.
    let other = "5c8c3c555033b814b69f9480";
    fake.add_dataset(other, "orders copy", SCHEMA);
    let client = Client::new(common::platform(&fake)).unwrap();
    let base = fake.connections()[0].id.clone();
    let spec = PipelineSpec::new()
        .with_base_connection_id(base.parse().unwrap())
        .with_table_path("public.orders")
        .with_dataset_id(other.parse().unwrap())
        .with_mappings(vec![Mapping::new("id", "_tenant.orderId")])
        .with_delta_column("updated_at")
        .with_schedule(Schedule::once(1_764_230_400));
    let flow_b = client.ensure_pipeline(&spec).unwrap().flow_id;
    assert_eq!(
        fake.source_connections().len(),
        1,
        "the table's source connection is shared"
    );
    assert_eq!(fake.target_connections().len(), 2);

    let (out, stdout, stderr) = real(&fake, &["delete", &flow_a, "--with-connections"]);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("kept source connection"), "{stderr}");
    // A's target connection is gone; B is untouched.
    let targets = fake.target_connections();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].dataset_id, other);
    assert_eq!(fake.flows().len(), 1);
    assert_eq!(fake.flows()[0].id, flow_b);
    assert_eq!(fake.source_connections().len(), 1);
    assert_eq!(fake.connections().len(), 1, "never the base connection");
}

#[test]
fn concurrent_demo_commands_on_one_state_file_lose_nothing() {
    let state = fresh_demo_state();
    let children: Vec<_> = (0..6)
        .map(|i| {
            let mut cmd = aep_flow("connections create");
            cmd.env("AEP_DEMO_STATE", &state)
                .env("PGPASSWORD", PG_CANARY)
                .args(["--demo", "--name", &format!("c{i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut ids = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(code(&out), 0, "{stderr}");
        ids.push(json_line(&stdout)["id"].as_str().unwrap().to_owned());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "ids handed out twice: {ids:?}");
    let (out, stdout, _) = demo("connections", &state, &["list"]);
    assert_eq!(code(&out), 0);
    // The six, and the demo connection every fresh sandbox has.
    assert_eq!(stdout.lines().count(), 7, "{stdout}");
    let mut lock = state.clone().into_os_string();
    lock.push(".lock");
    assert!(!Path::new(&lock).exists(), "the lock outlived its command");

    // A lock left by a killed command is taken over.
    std::fs::write(&lock, "4000000000").unwrap();
    let (out, _, stderr) = demo("connections", &state, &["list"]);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(!Path::new(&lock).exists());
    let _ = std::fs::remove_file(&state);
}

#[test]
fn an_unwritable_demo_state_file_is_an_error_not_a_lost_sandbox() {
    let dir = fresh_demo_state().with_extension("missing-dir");
    let state = dir.join("state.json");
    let (out, stdout, stderr) = demo("connections create", &state, &["--name", "x"]);
    assert_eq!(code(&out), 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("state.json"), "{stderr}");
}

/// `ensure` on the fake with `with_flow`'s dataset, plus `extra` args.
fn ensure_real(
    fake: &FakeFlowService,
    table: &str,
    delta: &str,
    map: &str,
) -> (Output, String, String) {
    let base = fake.connections()[0].id.clone();
    real(
        fake,
        &[
            "ensure",
            "--connection",
            &base,
            "--table",
            table,
            "--dataset",
            DATASET,
            "--map",
            map,
            "--delta-column",
            delta,
            "--frequency",
            "day",
        ],
    )
}

/// A table or column the database does not have is a wrong declaration:
/// exit 2, naming it, nothing written (not exit 1 with a sandbox hint).
#[test]
fn an_unknown_table_or_column_is_exit_2() {
    let (fake, _) = with_flow();
    let before = fake.requests().len();
    let (out, _, stderr) = ensure_real(&fake, "public.nope", "updated_at", "id=_tenant.orderId");
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(stderr.contains("public.nope"), "{stderr}");
    assert!(!stderr.contains("sandbox"), "{stderr}");
    let (out, _, stderr) = ensure_real(
        &fake,
        "public.customers",
        "updated_at",
        "id=_tenant.orderId",
    );
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(stderr.contains("updated_at"), "{stderr}");
    let writes = fake.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET" && !r.path.contains("/validate"))
        .count();
    assert_eq!(writes, 0);
}

/// A run that fails halfway (the flow create refused) names on stderr
/// what it already made; the next run reuses it.
#[test]
fn a_run_that_fails_halfway_says_what_it_made() {
    let fake = FakeFlowService::start().unwrap();
    let base = fake.insert_connection(
        "pg",
        CONNECTION_STRING_AUTH,
        json!({"connectionString": "Server=db;Database=d;Port=5432;UID=u;Password=p"}),
    );
    fake.set_catalog(&base, demo_catalog());
    fake.add_dataset(DATASET, "orders", SCHEMA);
    fake.push_reply(
        aep_flow_testing::Reply::json(400, json!({"message": "refused"}).to_string())
            .only_for("POST")
            .only_for_path("/flows"),
    );
    let (out, stdout, stderr) =
        ensure_real(&fake, "public.orders", "updated_at", "id=_tenant.orderId");
    assert_eq!(code(&out), 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let source = fake.source_connections()[0].id.clone();
    let set = fake.mapping_sets()[0].id.clone();
    assert!(
        stderr.contains(&format!("created sourceConnection {source}"))
            && stderr.contains(&format!("created mappingSet {set}")),
        "{stderr}"
    );
    let (out, stdout, stderr) =
        ensure_real(&fake, "public.orders", "updated_at", "id=_tenant.orderId");
    assert_eq!(code(&out), 0, "{stderr}");
    assert_eq!(json_line(&stdout)["changed"], json!(["created flow"]));
    assert_eq!(fake.mapping_sets().len(), 1);
}

/// Twin flows: a warning on stderr and their ids in the JSON result.
#[test]
fn twin_flows_are_named_on_stderr_and_in_the_result() {
    let (fake, flow, twin) = with_twin_flows();
    let (out, stdout, stderr) =
        ensure_real(&fake, "public.orders", "updated_at", "id=_tenant.orderId");
    assert_eq!(code(&out), 0, "{stderr}");
    let line = json_line(&stdout);
    assert_eq!(line["flowId"], json!(flow));
    assert_eq!(line["duplicates"], json!([twin]));
    assert!(
        stderr.contains("warning: pipeline:") && stderr.contains(&twin),
        "{stderr}"
    );
}

#[test]
fn the_readme_demo_connection_is_there_for_every_command_and_persists() {
    use common::DEMO_CONNECTION_ID as ID;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    assert!(
        readme.contains(&format!("--demo explore {ID}")),
        "the README's demo connection is not DEMO_CONNECTION_ID"
    );
    let mut args = ENSURE.to_vec();
    args.extend(["--connection", ID, "--dataset", DEMO_DATASET_ID]);

    // Whichever command comes first in a fresh sandbox, the connection is
    // there for it.
    for first in ["pipeline", "connections", "connections create"] {
        let state = fresh_demo_state();
        let (out, _, stderr) = match first {
            "pipeline" => demo("pipeline", &state, &args),
            "connections" => demo("connections", &state, &["get", ID]),
            _ => demo(first, &state, &["--name", "orders-db"]),
        };
        assert_eq!(code(&out), 0, "{first}: {stderr}");
        // ...and for every command after it, through the state file.
        let (out, stdout, stderr) = demo("connections", &state, &["get", ID]);
        assert_eq!(code(&out), 0, "after {first}: {stderr}");
        assert_eq!(json_line(&stdout)["id"], ID);
        let (out, stdout, stderr) = demo("pipeline", &state, &args);
        assert_eq!(code(&out), 0, "after {first}: {stderr}");
        let ensured = json_line(&stdout);
        assert_eq!(
            ensured["changed"].as_array().unwrap().is_empty(),
            first == "pipeline",
            "after {first}: {stdout}"
        );
        let (out, stdout, _) = demo("connections", &state, &["explore", ID]);
        assert_eq!(code(&out), 0);
        assert!(stdout.contains("public.orders"));
        let file = std::fs::read_to_string(&state).unwrap();
        assert!(file.contains(ID), "after {first}: not in the state file");
        assert!(
            !file.contains("demo-password"),
            "a password in the state file"
        );
        let _ = std::fs::remove_file(&state);
    }

    // A reset brings it back; deleting it is kept (it is not re-seeded).
    let state = fresh_demo_state();
    let (out, _, _) = demo("connections", &state, &["delete", ID, "--demo-reset"]);
    assert_eq!(code(&out), 0);
    let (out, _, _) = demo("connections", &state, &["get", ID]);
    assert_eq!(code(&out), 1, "deleted, then seeded again");
    let (out, _, _) = demo("connections", &state, &["get", ID, "--demo-reset"]);
    assert_eq!(code(&out), 0);
    let _ = std::fs::remove_file(&state);
}

/// Scripts `/runs` pages that ignore `orderby`: `successes` runs of `flow`
/// oldest first, then the newest, a failure; pages of 50.
fn script_runs_oldest_first(fake: &FakeFlowService, flow: &str, successes: usize) {
    let mut items: Vec<Value> = (0..successes)
        .map(|i| {
            json!({"id": format!("ok-{i}"), "flowId": flow,
                   "createdAt": 1_700_000_000_000_i64 + i as i64,
                   "metrics": {"statusSummary": {"status": "success"}}})
        })
        .collect();
    items.push(json!({"id": "newest-failed", "flowId": flow,
                      "createdAt": 1_800_000_000_000_i64,
                      "metrics": {"statusSummary": {"status": "failed"}}}));
    let pages: Vec<&[Value]> = items.chunks(50).collect();
    for (p, page) in pages.iter().enumerate() {
        let mut body = json!({ "items": page });
        if p + 1 < pages.len() {
            body["_links"] = json!({"next": {"href":
                format!("/data/foundation/flowservice/runs?limit=50&continuationToken=t{p}")}});
        }
        fake.push_reply(
            aep_flow_testing::Reply::json(200, body.to_string()).only_for_path("/runs"),
        );
    }
}

/// One scripted `/runs` page holding `items`.
fn script_runs(fake: &FakeFlowService, items: Value) {
    fake.push_reply(
        aep_flow_testing::Reply::json(200, json!({ "items": items }).to_string())
            .only_for_path("/runs"),
    );
}

#[test]
fn status_reports_what_it_cannot_know_instead_of_healthy() {
    // (a) The service ignores `orderby` and the flow has more runs than
    // the cap (and the page more read to settle the newest 10 000): the
    // newest (failed) run is beyond it. Exit 1, the reason.
    let (fake, flow) = with_flow();
    script_runs_oldest_first(&fake, &flow, 10_100);
    let (out, _, stderr) = real(&fake, &["status", &flow]);
    assert_eq!(code(&out), 1, "{stderr}");
    assert!(stderr.contains("newest first"), "{stderr}");

    // (b) Runs without a flowId cannot be attributed.
    let (fake, flow) = with_flow();
    script_runs(
        &fake,
        json!([{"id": "r-9", "createdAt": 1_800_000_000_000_i64,
                "metrics": {"statusSummary": {"status": "failed"}}}]),
    );
    let (out, _, stderr) = real(&fake, &["status", &flow]);
    assert_eq!(code(&out), 1, "{stderr}");
    assert!(stderr.contains("flowId"), "{stderr}");

    // (c) A newest failure timed in ISO 8601 text, or in seconds: placed,
    // exit 3.
    for newest in [json!("2027-01-01T00:00:00Z"), json!(1_798_761_600)] {
        let (fake, flow) = with_flow();
        script_runs(
            &fake,
            json!([
                {"id": "old-ok", "flowId": flow, "createdAt": 1_764_000_000_000_i64,
                 "metrics": {"statusSummary": {"status": "success"}}},
                {"id": "new-failed", "flowId": flow, "createdAt": newest,
                 "metrics": {"statusSummary": {"status": "failed"}}}
            ]),
        );
        let (out, stdout, stderr) = real(&fake, &["status", &flow]);
        assert_eq!(code(&out), 3, "{newest}: {stdout} {stderr}");
        assert_eq!(json_line(&stdout)["lastRun"]["id"], "new-failed");
    }
    // A time that cannot be placed: exit 1, naming the run.
    let (fake, flow) = with_flow();
    script_runs(
        &fake,
        json!([
            {"id": "old-ok", "flowId": flow, "createdAt": 1_764_000_000_000_i64,
             "metrics": {"statusSummary": {"status": "success"}}},
            {"id": "when-failed", "flowId": flow, "createdAt": "last Tuesday",
             "metrics": {"statusSummary": {"status": "failed"}}}
        ]),
    );
    let (out, _, stderr) = real(&fake, &["status", &flow]);
    assert_eq!(code(&out), 1, "{stderr}");
    assert!(stderr.contains("when-failed"), "{stderr}");
}

#[test]
fn runs_limit_reads_only_the_pages_it_needs() {
    let (fake, flow) = with_flow();
    for i in 0..400 {
        fake.add_run(&flow, FakeRun::new("success").with_created_at(1_000 + i));
    }
    let (out, stdout, stderr) = real(&fake, &["runs", &flow, "--limit", "1"]);
    assert_eq!(code(&out), 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1);
    let run_requests = |fake: &FakeFlowService| {
        fake.requests()
            .iter()
            .filter(|r| r.path.contains("/runs?"))
            .count()
    };
    // The page that holds it and the next, which shows the pages are in
    // order too (a service may sort each page only).
    assert_eq!(run_requests(&fake), 2, "two pages for --limit 1");
    let (out, stdout, _) = real(&fake, &["runs", &flow, "--limit", "60"]);
    assert_eq!(code(&out), 0);
    assert_eq!(stdout.lines().count(), 60);
    assert_eq!(run_requests(&fake), 5, "three pages for --limit 60");
    // Without --limit: every run, newest first.
    let (out, stdout, _) = real(&fake, &["runs", &flow]);
    assert_eq!(code(&out), 0);
    assert_eq!(stdout.lines().count(), 400);
}

#[test]
fn an_interval_beyond_the_services_int32_is_exit_2_and_nothing_is_sent() {
    let fake = FakeFlowService::start().unwrap();
    for (interval, fine) in [
        ("2147483648", false),
        ("4294967295", false),
        // Past a u32 too: still "at most 2147483647", not "a whole number".
        ("4294967296", false),
        ("99999999999999999999999", false),
        ("2147483647", true),
    ] {
        let mut args: Vec<&str> = ENSURE.to_vec();
        args.extend([
            "--connection",
            "c1",
            "--dataset",
            DATASET,
            "--interval",
            interval,
        ]);
        args.push("--plan");
        let (out, stdout, stderr) = real(&fake, &args);
        if fine {
            // Accepted as input (the plan then reads the connection).
            assert!(!stderr.contains("at most"), "{interval}: {stderr}");
        } else {
            assert_eq!(code(&out), 2, "{interval}: {stderr}");
            assert!(stdout.is_empty(), "{stdout}");
            assert!(stderr.contains("2147483647"), "{stderr}");
            assert!(fake.requests().is_empty(), "{interval}: sent");
        }
    }
}

#[test]
fn twin_flows_are_named_on_stderr_even_when_the_run_fails() {
    let (fake, _, twin) = with_twin_flows();
    // The schedule update (a PATCH) is refused: the run fails after it
    // found the twins, and still says so.
    fake.push_reply(Reply::json(400, r#"{"code":"400","message":"refused"}"#).only_for("PATCH"));
    let base = fake.connections()[0].id.clone();
    let (out, _, stderr) = real(
        &fake,
        &[
            "ensure",
            "--connection",
            &base,
            "--table",
            "public.orders",
            "--dataset",
            DATASET,
            "--map",
            "id=_tenant.orderId",
            "--delta-column",
            "updated_at",
            "--frequency",
            "week",
        ],
    );
    assert_eq!(code(&out), 1, "{stderr}");
    assert!(
        stderr.contains("warning: pipeline:") && stderr.contains(&twin),
        "{stderr}"
    );
}

/// `--plan` refused by a check (a mapped column the table lacks) still
/// names the twin flows the lookups found, as `ensure` does.
#[test]
fn twin_flows_are_named_on_stderr_even_when_a_plan_fails() {
    let (fake, _, twin) = with_twin_flows();
    let base = fake.connections()[0].id.clone();
    let (out, stdout, stderr) = real(
        &fake,
        &[
            "ensure",
            "--connection",
            &base,
            "--table",
            "public.orders",
            "--dataset",
            DATASET,
            "--map",
            "no_such_column=_tenant.orderId",
            "--delta-column",
            "updated_at",
            "--plan",
        ],
    );
    // Exit 2: the declaration does not suit the table.
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("no_such_column"), "{stderr}");
    assert!(
        stderr.contains("warning: pipeline:") && stderr.contains(&twin),
        "{stderr}"
    );
}

/// The README's demo walkthrough, run as written: the ids it shows are
/// the ids the command prints, and its `status` line names a real flow.
#[test]
fn the_readme_walkthrough_prints_the_ids_it_shows() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let shown = readme
        .split("$ aep-flow pipeline ensure --demo $ARGS\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect("the walkthrough's ensure line");
    let shown: Value = serde_json::from_str(shown).unwrap();
    let state = fresh_demo_state();
    let (out, _, stderr) = demo(
        "connections",
        &state,
        &["create", "--name", "orders-db", "--demo-reset"],
    );
    assert_eq!(code(&out), 0, "{stderr}");
    let args = [
        "ensure",
        "--connection",
        "056dd1b4-da33-42f9-add1-b4da3392f94e",
        "--table",
        "public.orders",
        "--dataset",
        DEMO_DATASET_ID,
        "--map",
        "id=_demo.orderId",
        "--map",
        "customer=_demo.customer",
        "--map",
        "amount=_demo.amount",
        "--delta-column",
        "updated_at",
        "--frequency",
        "hour",
        "--start",
        "1764230400",
    ];
    let (out, stdout, stderr) = demo("pipeline", &state, &args);
    assert_eq!(code(&out), 0, "{stderr}");
    assert_eq!(json_line(&stdout), shown);
    let flow = shown["flowId"].as_str().unwrap();
    let (out, stdout, stderr) = demo("pipeline", &state, &["status", flow]);
    assert_eq!(code(&out), 0, "{stderr}");
    assert_eq!(json_line(&stdout)["flowId"], flow);
    let _ = std::fs::remove_file(&state);
}

/// A pipeline's flow and a twin of it (same connections, made later, as a
/// second process would): `(fake, flow, twin)`.
fn with_twin_flows() -> (FakeFlowService, String, String) {
    let (fake, flow) = with_flow();
    let client = Client::new(common::platform(&fake)).unwrap();
    let f = client.get_flow(&flow.parse().unwrap()).unwrap();
    let (_, set, version) = f.mapping().unwrap();
    let twin = client
        .create_flow(&aep_flow::NewFlow::new(aep_flow::FlowParts {
            name: "twin",
            source_connection_id: f.source_connection_ids[0].clone(),
            target_connection_id: f.target_connection_ids[0].clone(),
            delta_column: "updated_at",
            mapping_set_id: set,
            mapping_set_version: version,
            schedule: Schedule::every(Frequency::Day, 1, 1_764_230_400).unwrap(),
        }))
        .unwrap()
        .id;
    (fake, flow, String::from(twin))
}

/// `--plan` on an existing pipeline: the ids it found, the field that
/// drifted, `planned: true`; a flow that needs replacing (another delta
/// column) is refused as `ensure` refuses it.
#[test]
fn plan_names_the_drift_and_refuses_a_replace_as_ensure_does() {
    let state = fresh_demo_state();
    let (out, stdout, _) = demo("connections create", &state, &["--name", "orders-db"]);
    assert_eq!(code(&out), 0);
    let base = json_line(&stdout)["id"].as_str().unwrap().to_owned();
    let mut args = ENSURE.to_vec();
    args.extend(["--connection", &base, "--dataset", DEMO_DATASET_ID]);
    let (out, stdout, stderr) = demo("pipeline", &state, &args);
    assert_eq!(code(&out), 0, "{stderr}");
    let made = json_line(&stdout);

    let (out, stdout, stderr) = demo("pipeline", &state, &[&args[..], &["--plan"]].concat());
    assert_eq!(code(&out), 0, "{stderr}");
    let in_sync = json_line(&stdout);
    assert_eq!(in_sync["planned"], true);
    assert_eq!(in_sync["changed"], json!([]));
    for id in [
        "flowId",
        "sourceConnectionId",
        "targetConnectionId",
        "mappingSetId",
    ] {
        assert_eq!(in_sync[id], made[id], "{id}");
    }

    let daily: Vec<&str> = args
        .iter()
        .map(|a| if *a == "hour" { "day" } else { a })
        .chain(["--plan"])
        .collect();
    let (out, stdout, stderr) = demo("pipeline", &state, &daily);
    assert_eq!(code(&out), 0, "{stderr}");
    let plan = json_line(&stdout);
    assert_eq!(plan["planned"], true);
    assert_eq!(plan["changed"], json!(["updated flow.schedule"]));
    assert_eq!(plan["flowId"], made["flowId"]);
    // Nothing was written: the same plan again, and an ensure still has it to do.
    let (_, again, _) = demo("pipeline", &state, &daily);
    assert_eq!(json_line(&again), plan);

    let other_delta: Vec<&str> = args
        .iter()
        .map(|a| if *a == "updated_at" { "created_at" } else { a })
        .collect();
    let (plan_out, plan_stdout, plan_stderr) = demo(
        "pipeline",
        &state,
        &[&other_delta[..], &["--plan"]].concat(),
    );
    let (ensure_out, ensure_stdout, ensure_stderr) = demo("pipeline", &state, &other_delta);
    assert_ne!(code(&ensure_out), 0, "{ensure_stdout}");
    assert_eq!(code(&plan_out), code(&ensure_out), "{plan_stderr}");
    assert!(plan_stdout.is_empty() && ensure_stdout.is_empty());
    assert!(ensure_stderr.contains("delta column"), "{ensure_stderr}");
    let error_line = |stderr: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .map(str::to_owned)
    };
    assert_eq!(error_line(&plan_stderr), error_line(&ensure_stderr));
    assert!(error_line(&plan_stderr).is_some(), "{plan_stderr}");
}

/// Ids are parsed from the arguments before anything is sent: a malformed
/// one, or one of another kind (a schema's URL where a dataset id goes, a
/// long pasted value), is exit 2 naming the argument and the id's rule,
/// without echoing the value.
#[test]
fn ids_of_the_wrong_kind_are_refused_at_parse_time() {
    let (fake, flow) = with_flow();
    let before = fake.requests().len();
    let long = "x".repeat(300);
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec![
                "ensure",
                "--connection",
                "0123456789abcdef",
                "--table",
                "public.orders",
                "--dataset",
                SCHEMA,
                "--map",
                "id=_tenant.orderId",
                "--delta-column",
                "updated_at",
            ],
            "--dataset",
            "dataset id",
        ),
        (
            vec![
                "ensure",
                "--connection",
                "../base",
                "--table",
                "public.orders",
                "--dataset",
                DATASET,
                "--map",
                "id=_tenant.orderId",
                "--delta-column",
                "updated_at",
            ],
            "--connection",
            "connection id",
        ),
        (vec!["status", SCHEMA], "<FLOW_ID>", "flow id"),
        (vec!["enable", "a b"], "<FLOW_ID>", "flow id"),
        (vec!["delete", &long], "<FLOW_ID>", "flow id"),
    ];
    for (args, arg, kind) in cases {
        let (out, stdout, stderr) = real(&fake, &args);
        assert_eq!(code(&out), 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(
            stderr.contains(arg) && stderr.contains(&format!("not a valid {kind}")),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("1 to 128 letters"), "{stderr}");
        assert!(
            !stderr.contains("xxxxxxxxxx") && !stderr.contains("ns.adobe.com"),
            "{stderr}"
        );
    }
    assert_eq!(fake.requests().len(), before, "nothing sent");
    // The flow's own id still works.
    let (out, _, stderr) = real(&fake, &["status", &flow]);
    assert_ne!(code(&out), 2, "{stderr}");
}
