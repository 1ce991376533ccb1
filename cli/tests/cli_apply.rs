//! `aep-flow apply` against the fake on 127.0.0.1: lost answers, a
//! failure in the middle of a parallel apply, replace with and without
//! `--allow-replace`, prune safety, `--demo` over every sandbox.

mod common;
mod project_support;

use aep_flow::{Frequency, Mapping, PipelineSpec, Schedule};
use aep_flow_testing::Reply;
use project_support::*;

/// Flows per target dataset in `sandbox`.
fn flows_per_dataset(fake: &aep_flow_testing::FakeFlowService, sandbox: &str) -> Vec<usize> {
    let s = fake.sandbox(sandbox);
    let targets = s.target_connections();
    let flows = s.flows();
    let mut datasets: Vec<&str> = targets.iter().map(|t| t.dataset_id.as_str()).collect();
    datasets.sort();
    datasets.dedup();
    datasets
        .iter()
        .map(|d| {
            flows
                .iter()
                .filter(|f| {
                    f.target_connection_ids
                        .iter()
                        .any(|t| targets.iter().any(|tc| &tc.id == t && tc.dataset_id == *d))
                })
                .count()
        })
        .collect()
}

#[test]
fn lost_answers_during_apply_converge_without_duplicates_on_rerun() {
    let fake = fake();
    let p = Project::new(&format!(
        "{}{}{}",
        head("crm-ingest"),
        pipeline("Orders", ""),
        pipeline("Customers", "")
    ));
    // The service acts, the answer is lost: the base connection, a source
    // connection, a target connection, a flow.
    for path in [
        "/connections",
        "/sourceConnections",
        "/targetConnections",
        "/flows",
    ] {
        fake.push_reply(
            Reply::after_processing(Reply::close())
                .only_for("POST")
                .only_for_path(path),
        );
    }
    let first = p.run("apply --parallel 2", &fake);
    assert!(
        first.code == 0 || first.code == 1,
        "{}{}",
        first.out,
        first.err
    );
    // The same run found, before creating again, what the lost answers
    // had made: no duplicate even before the re-run.
    for sandbox in ["dev", "prod"] {
        let s = fake.sandbox(sandbox);
        assert_eq!(s.connections().len(), 1, "{sandbox}: {}", first.err);
        assert!(s.source_connections().len() <= 1, "{sandbox}");
        assert!(
            flows_per_dataset(&fake, sandbox).iter().all(|n| *n <= 1),
            "{sandbox}"
        );
    }
    // Every lost answer was met.
    assert!(
        fake.requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count()
            >= 4
    );
    p.run("apply", &fake).expect(0);
    p.run("plan --detailed-exitcode", &fake).expect(0);
    for sandbox in ["dev", "prod"] {
        let s = fake.sandbox(sandbox);
        assert_eq!(s.connections().len(), 1, "{sandbox}: one base connection");
        assert_eq!(s.source_connections().len(), 1, "{sandbox}: one source");
        assert_eq!(s.target_connections().len(), 2, "{sandbox}: two targets");
        assert_eq!(flows_per_dataset(&fake, sandbox), vec![1, 1], "{sandbox}");
    }
}

#[test]
fn a_pipeline_failing_in_a_parallel_apply_is_named_and_the_others_are_done() {
    let fake = aep_flow_testing::FakeFlowService::builder()
        .start()
        .unwrap();
    let names = ["A1", "A2", "A3", "A4", "A5"];
    seed(&fake, "dev", &names, 5);
    let mut text = head("crm-ingest").replace("[sandboxes.prod]\ncredentials = \"AEP_PROD\"\n", "");
    for n in names {
        text.push_str(&pipeline(n, ""));
    }
    let p = Project::new(&text);
    // Let the base connection and some pipelines through, then refuse one
    // flow.
    fake.push_reply(
        Reply::json(
            400,
            r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1234-400","title":"refused","status":400}"#,
        )
        .only_for("POST")
        .only_for_path("/flows"),
    );
    let run = p.run("apply --parallel 4", &fake).expect(1);
    assert_eq!(run.out.matches(": failed").count(), 1, "{}", run.out);
    assert_eq!(run.out.matches(": created").count(), 4, "{}", run.out);
    assert!(
        run.summary().contains("4 created") && run.summary().contains("1 failed"),
        "{}",
        run.out
    );
    let failed = run.out.lines().find(|l| l.contains(": failed")).unwrap();
    let head_of_failed = failed.split(": failed").next().unwrap();
    assert!(
        run.err.contains(head_of_failed),
        "the failure is named: {}",
        run.err
    );
    assert_eq!(fake.sandbox("dev").flows().len(), 4);
    // The next apply finishes it, without duplicates.
    let again = p.run("apply --parallel 3", &fake).expect(0);
    assert!(again.summary().starts_with("1 created"), "{}", again.out);
    assert_eq!(flows_per_dataset(&fake, "dev"), vec![1; 5]);
}

#[test]
fn parallel_is_checked() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    for bad in ["0", "65", "x", "-1"] {
        let run = p.run(&format!("apply --parallel={bad}"), &fake).expect(2);
        assert!(run.err.contains("--parallel"), "{}", run.err);
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn a_replace_is_untouched_without_allow_replace_and_delete_then_create_with_it() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    p.run("apply --sandbox dev", &fake).expect(0);
    let dev = fake.sandbox("dev");
    let old = dev.flows().remove(0);
    // Someone made it read another delta column.
    assert!(dev.modify_flow(&old.id, |f| {
        for t in f["transformations"].as_array_mut().unwrap() {
            if t["name"] == "Copy" {
                t["params"]["deltaColumn"]["name"] = "created_at".into();
            }
        }
    }));
    let plan = p
        .run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(2);
    assert!(plan.out.contains("replace needed"), "{}", plan.out);
    assert!(plan
        .summary()
        .starts_with("0 to create, 0 to update, 1 to replace"));
    let before = fake.requests().len();
    let run = p.run("apply --sandbox dev", &fake).expect(3);
    assert!(run.out.contains(": untouched"), "{}", run.out);
    assert!(run.err.contains("--allow-replace"), "{}", run.err);
    assert!(writes_since(&fake, before).is_empty());
    assert_eq!(dev.flows()[0].id, old.id);

    let before = fake.requests().len();
    let run = p
        .run("apply --sandbox dev --allow-replace", &fake)
        .expect(0);
    assert!(run.out.contains(": replaced"), "{}", run.out);
    let writes = writes_since(&fake, before);
    let delete = writes
        .iter()
        .position(|w| w.starts_with("DELETE") && w.contains(&old.id));
    let create = writes
        .iter()
        .position(|w| w.starts_with("POST") && w.ends_with("/flows"));
    assert!(
        matches!((delete, create), (Some(d), Some(c)) if d < c),
        "delete, then create: {writes:?}"
    );
    let flows = dev.flows();
    assert_eq!(flows.len(), 1);
    assert_ne!(flows[0].id, old.id);
    p.run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(0);
}

#[test]
fn prune_deletes_only_this_projects_undeclared_flows() {
    let fake = fake();
    for (salt, sandbox) in ["dev", "prod"].iter().enumerate() {
        seed(
            &fake,
            sandbox,
            &["Orders", "Customers", "Hand", "Other"],
            salt,
        );
    }
    let both = format!(
        "{}{}{}",
        head("crm-ingest"),
        pipeline("Orders", ""),
        pipeline("Customers", "")
    );
    let p = Project::new(&both);
    p.run("apply", &fake).expect(0);
    // Look-alikes in dev: a flow made by hand, one of another project whose
    // name starts the same, both from the same base connection and table.
    let client = library_client(&fake, "dev");
    let base = fake.sandbox("dev").connections()[0].id.clone();
    for (dataset, description) in [
        ("Hand", "made by hand in the UI"),
        ("Other", "aep-flow project: crm-ingest-2"),
    ] {
        let j = ["Orders", "Customers", "Hand", "Other"]
            .iter()
            .position(|n| *n == dataset)
            .unwrap();
        let spec = PipelineSpec::new()
            .with_base_connection_id(base.parse().unwrap())
            .with_table_path("public.orders")
            .with_dataset_id(dataset_id(0, j).parse().unwrap())
            .with_mapping(Mapping::new("id", "_tenant.orderId"))
            .with_delta_column("updated_at")
            .with_schedule(Schedule::every(Frequency::Hour, 1, 1_764_547_200).unwrap())
            .with_description(description);
        client.ensure_pipeline(&spec).unwrap();
    }
    let dev = fake.sandbox("dev");
    assert_eq!(dev.flows().len(), 4);

    // Customers leaves the file.
    p.rewrite(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    let plain = p.run("plan --detailed-exitcode", &fake).expect(0);
    assert!(!plain.out.contains(": delete"), "{}", plain.out);
    let plan = p.run("plan --prune --json", &fake).expect(0).json();
    let deletes: Vec<&serde_json::Value> =
        plan.iter().filter(|o| o["action"] == "delete").collect();
    assert_eq!(deletes.len(), 2, "one per sandbox: {plan:?}");
    let customers_dev = dataset_id(0, 1);
    let doomed_dev_target = dev
        .target_connections()
        .into_iter()
        .find(|t| t.dataset_id == customers_dev)
        .unwrap()
        .id;
    let run = p.run("apply --prune", &fake).expect(0);
    assert!(run.summary().contains("2 deleted"), "{}", run.out);
    let flows = dev.flows();
    assert_eq!(flows.len(), 3, "Orders, Hand, Other stay");
    // The Customers target connection went; the source connection (which
    // other flows use), the base connection and the datasets stay.
    assert!(!dev
        .target_connections()
        .iter()
        .any(|t| t.id == doomed_dev_target));
    assert_eq!(dev.source_connections().len(), 1);
    assert_eq!(dev.connections().len(), 1);
    assert_eq!(fake.sandbox("prod").flows().len(), 1);
    p.run("plan --prune --detailed-exitcode", &fake).expect(0);
}

#[test]
fn demo_serves_every_sandbox_of_the_file_without_credentials() {
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    let state = common::fresh_demo_state();
    let run = |words: &str, password: Option<&str>| {
        let mut cmd = common::aep_flow(words);
        cmd.arg("-f").arg(&p.path).env("AEP_DEMO_STATE", &state);
        if let Some(pw) = password {
            cmd.env("ORDERS_DB_PASSWORD", pw);
        }
        Run::of(cmd.output().unwrap())
    };
    let plan = run("--demo plan --detailed-exitcode", None).expect(2);
    assert!(plan.out.contains("[dev] orders-db"), "{}", plan.out);
    assert!(plan.out.contains("[prod] orders-db"), "{}", plan.out);
    let apply = run("--demo apply", None).expect(0);
    assert!(
        apply.err.contains("ORDERS_DB_PASSWORD is not set"),
        "{}",
        apply.err
    );
    assert!(apply.summary().starts_with("2 created"), "{}", apply.out);
    run("--demo plan --detailed-exitcode", None).expect(0);
    // The two sandboxes' datasets have ids of their own.
    let json = run("--demo plan --json", None).expect(0).json();
    assert_ne!(json[0]["datasetId"], json[1]["datasetId"]);
    // A password given is used (rotation), and never stored.
    let rotate = run("--demo apply --rotate-passwords", Some(DB_PASSWORD)).expect(0);
    assert!(!rotate.err.contains("not set"), "{}", rotate.err);
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(!saved.contains(DB_PASSWORD));
    assert!(!saved.contains("pw-canary"));
    // Set and garbled is an error as always.
    let mut cmd = common::aep_flow("--demo apply --rotate-passwords");
    cmd.arg("-f")
        .arg(&p.path)
        .env("AEP_DEMO_STATE", &state)
        .env("ORDERS_DB_PASSWORD", common::garbled(b"\xff\xfe"));
    let garbled = Run::of(cmd.output().unwrap()).expect(2);
    assert!(
        garbled.err.contains("ORDERS_DB_PASSWORD"),
        "{}",
        garbled.err
    );
    // Set and empty too, named as without --demo: the file, the line and
    // the key (before: only the variable, as if no file were involved).
    let file = p.path.display().to_string();
    for value in [std::ffi::OsStr::new(""), common::garbled(b"\xff\xfe")] {
        let mut cmd = common::aep_flow("--demo apply --rotate-passwords");
        cmd.arg("-f")
            .arg(&p.path)
            .env("AEP_DEMO_STATE", &state)
            .env("ORDERS_DB_PASSWORD", value);
        let bad = Run::of(cmd.output().unwrap()).expect(2);
        assert!(
            bad.err.contains(&format!(
                "{file}:9: connections.orders-db.password_env: ORDERS_DB_PASSWORD"
            )),
            "{}",
            bad.err
        );
    }
}

/// Look-alikes of this project's flows are never pruned: another project's
/// marker (`crm-ingest-2`), the marker in the flow's name instead of its
/// description, the marker with a suffix, a prefix of the project's name,
/// the marker not at a line's start. Only the marked, undeclared flow goes
/// (with its unused target connection); never a base connection, never a
/// dataset.
#[test]
fn look_alikes_are_never_pruned_nor_base_connections_or_datasets() {
    let fake = fake();
    let names = ["Orders", "Customers", "L1", "L2", "L3", "L4", "L5"];
    seed(&fake, "dev", &names, 0);
    let text = head("crm-ingest").replace("[sandboxes.prod]\ncredentials = \"AEP_PROD\"\n", "");
    let p = Project::new(&format!(
        "{text}{}{}",
        pipeline("Orders", ""),
        pipeline("Customers", "")
    ));
    p.run("apply", &fake).expect(0);
    let client = library_client(&fake, "dev");
    let dev = fake.sandbox("dev");
    let base = dev.connections()[0].id.clone();
    let look_alikes = [
        ("L1", "x", "aep-flow project: crm-ingest-2"),
        ("L2", "aep-flow project: crm-ingest", "made by hand"),
        ("L3", "x", "aep-flow project: crm-ingest "),
        ("L4", "x", "aep-flow project: crm"),
        ("L5", "x", "see: aep-flow project: crm-ingest"),
    ];
    for (dataset, name, description) in look_alikes {
        let j = names.iter().position(|n| *n == dataset).unwrap();
        let spec = PipelineSpec::new()
            .with_base_connection_id(base.parse().unwrap())
            .with_table_path("public.orders")
            .with_dataset_id(dataset_id(0, j).parse().unwrap())
            .with_mapping(Mapping::new("id", "_tenant.orderId"))
            .with_delta_column("updated_at")
            .with_schedule(Schedule::every(Frequency::Hour, 1, 1_764_547_200).unwrap())
            .with_name(name)
            .with_description(description);
        client.ensure_pipeline(&spec).unwrap();
    }
    assert_eq!(dev.flows().len(), 7);
    let customers = dev
        .flows()
        .into_iter()
        .find(|f| f.name.ends_with(" to Customers"))
        .unwrap();

    // Customers leaves the file: it alone is planned as delete.
    p.rewrite(&format!("{text}{}", pipeline("Orders", "")));
    let plan = p.run("plan --prune --json", &fake).expect(0).json();
    let deletes: Vec<&serde_json::Value> =
        plan.iter().filter(|o| o["action"] == "delete").collect();
    assert_eq!(deletes.len(), 1, "{plan:?}");
    assert_eq!(deletes[0]["flowId"], customers.id.as_str());

    let before = fake.requests().len();
    p.run("apply --prune", &fake).expect(0);
    let writes = writes_since(&fake, before);
    assert!(
        writes.iter().all(
            |w| w.starts_with("DELETE /data/foundation/flowservice/flows/")
                || w.starts_with("DELETE /data/foundation/flowservice/targetConnections/")
                || w.starts_with("DELETE /data/foundation/flowservice/sourceConnections/")
        ),
        "only flows and their source and target connections: {writes:?}"
    );
    assert_eq!(
        writes
            .iter()
            .filter(|w| w.contains("/flows/"))
            .collect::<Vec<_>>(),
        vec![&format!(
            "DELETE /data/foundation/flowservice/flows/{}",
            customers.id
        )]
    );
    assert_eq!(dev.flows().len(), 6, "every look-alike stays");
    assert_eq!(dev.connections().len(), 1, "the base connection stays");
    // Every dataset is still listed by name.
    let datasets = client
        .list_datasets(aep_flow::DatasetFilter::new())
        .unwrap();
    assert_eq!(datasets.len(), names.len());
}

/// A failed `apply --rotate-passwords` exits 1 and names the base
/// connection; the password appears nowhere.
#[test]
fn a_failed_password_rotation_exits_1() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    p.run("apply --sandbox dev", &fake).expect(0);
    fake.push_reply(
        Reply::json(
            400,
            r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1234-400","title":"refused","status":400}"#,
        )
        .only_for("PATCH")
        .only_for_path(format!(
            "/connections/{}",
            fake.sandbox("dev").connections()[0].id
        )),
    );
    let run = p
        .run("apply --sandbox dev --rotate-passwords", &fake)
        .expect(1);
    assert!(
        run.err.contains("base connection orders-db") && run.err.contains("not re-sent"),
        "{}",
        run.err
    );
    assert!(
        run.summary().contains("0 failed"),
        "the pipelines: {}",
        run.out
    );
    for text in [&run.out, &run.err] {
        assert!(!text.contains(DB_PASSWORD) && !text.contains("pw-canary"));
    }
    // It goes through the next time: 0.
    let json = p
        .run("apply --sandbox dev --rotate-passwords --json", &fake)
        .expect(0)
        .json();
    assert_eq!(json[0]["result"], "rotated", "{json:?}");
}

/// `apply --json`: one object per base connection and sandbox, then one
/// per pipeline and sandbox, then the summary; every line is JSON and no
/// secret appears, whatever the run did.
#[test]
fn apply_json_reports_base_connections_and_holds_no_secret() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    let secrets = [DB_PASSWORD, "pw-canary", fake.access_token()];
    let check = |run: &Run| -> Vec<serde_json::Value> {
        for text in [&run.out, &run.err] {
            for s in secrets {
                assert!(!text.contains(s), "{s:?} in {text}");
            }
        }
        run.json()
    };
    let first = check(&p.run("apply --json", &fake).expect(0));
    let bases: Vec<&serde_json::Value> = first
        .iter()
        .filter(|o| o.get("baseConnection").is_some())
        .collect();
    assert_eq!(bases.len(), 2, "{first:?}");
    for (b, sandbox) in bases.iter().zip(["dev", "prod"]) {
        let keys: Vec<&String> = b.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["baseConnection", "id", "result", "sandbox"], "{b}");
        assert_eq!(b["sandbox"], sandbox);
        assert_eq!(b["baseConnection"], "orders-db");
        assert_eq!(b["result"], "created");
        assert_eq!(b["id"], fake.sandbox(sandbox).connections()[0].id.as_str());
    }
    assert_eq!(first.iter().filter(|o| o.get("table").is_some()).count(), 2);
    assert!(
        first.last().unwrap().get("created").is_some(),
        "the summary last"
    );
    let again = check(&p.run("apply --json", &fake).expect(0));
    assert_eq!(again[0]["result"], "unchanged", "{again:?}");
    assert_eq!(again[1]["result"], "unchanged", "{again:?}");
    let rotated = check(&p.run("apply --json --rotate-passwords", &fake).expect(0));
    assert_eq!(rotated[0]["result"], "rotated", "{rotated:?}");
    // An echoing service (the password in its answer) is scrubbed too.
    fake.push_reply(Reply::echo(400).only_for("PATCH"));
    let echoed = p
        .run("apply --json --rotate-passwords --sandbox dev", &fake)
        .expect(1);
    let echoed = check(&echoed);
    assert_eq!(echoed[0]["result"], "failed", "{echoed:?}");
    assert!(echoed[0]["error"].as_str().is_some());
}

/// Two base connections of one name made by two applies at once: after
/// creating, the run lists again, keeps the oldest and deletes its own.
/// Here the race is made certain: the run's two look-ups by name are
/// answered "none" while another run's connection (older) exists.
#[test]
fn a_twin_base_connection_made_at_the_same_time_is_settled_on_the_oldest() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    let dev = fake.sandbox("dev");
    let theirs = dev.insert_connection(
        "orders-db",
        "Connection String Based Authentication",
        serde_json::json!({
            "connectionString": "Server=db.example.com;Database=orders;Port=5432;UID=etl_reader;Password=other;sslmode=verify-full"
        }),
    );
    for _ in 0..2 {
        fake.push_reply(
            Reply::json(200, r#"{"items":[]}"#)
                .only_for("GET")
                .only_for_path("/connections"),
        );
    }
    let run = p.run("apply --sandbox dev --json", &fake).expect(0);
    let json = run.json();
    assert_eq!(json[0]["id"], theirs.as_str(), "{json:?}");
    assert!(run.err.contains("keeping the oldest"), "{}", run.err);
    let left = dev.connections();
    assert_eq!(left.len(), 1, "ours was deleted");
    assert_eq!(left[0].id, theirs);
    // The pipeline reads from the one kept.
    for s in dev.source_connections() {
        assert_eq!(s.base_connection_id, theirs);
    }
    p.run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(0);
}

/// Two `apply` processes on one file at once: one base connection of the
/// name stays in each sandbox, and every source connection reads from it.
#[test]
fn two_applies_at_once_leave_one_base_connection_per_sandbox() {
    for round in 0..3 {
        let fake = fake();
        let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
        let spawn = || {
            p.cmd("apply", &fake)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        for out in [&a, &b] {
            let run = Run::of(out.clone());
            assert!(run.code == 0, "round {round}: {}{}", run.out, run.err);
        }
        for sandbox in ["dev", "prod"] {
            let s = fake.sandbox(sandbox);
            let bases = s.connections();
            assert_eq!(bases.len(), 1, "round {round}, {sandbox}: {bases:?}");
            for source in s.source_connections() {
                assert_eq!(source.base_connection_id, bases[0].id);
            }
        }
        // Flows the two runs both made are marked twins: `--prune` settles
        // them, and the file is in sync.
        p.run("apply --prune", &fake).expect(0);
        p.run("plan --prune --detailed-exitcode", &fake).expect(0);
        for sandbox in ["dev", "prod"] {
            assert_eq!(flows_per_dataset(&fake, sandbox), vec![1], "{sandbox}");
        }
    }
}

/// The file moves a table to another dataset: under `--prune` the old
/// flow is a replace, not a delete beside a create. Without
/// `--allow-replace` nothing is touched, the replace is named, exit 3;
/// with it the old flow (and its target connection) is deleted first, then
/// the new flow created, reading the same source connection.
#[test]
fn a_dataset_changed_in_the_file_is_a_replace_delete_first() {
    let fake = fake();
    let dev_only = |dataset: &str| {
        format!(
            "{}{}",
            head("crm-ingest").replace("[sandboxes.prod]\ncredentials = \"AEP_PROD\"\n", ""),
            pipeline(dataset, "")
        )
    };
    let p = Project::new(&dev_only("Orders"));
    p.run("apply", &fake).expect(0);
    let dev = fake.sandbox("dev");
    let old = dev.flows().remove(0);
    let old_target = old.target_connection_ids[0].clone();
    let source = old.source_connection_ids[0].clone();

    p.rewrite(&dev_only("Customers"));
    // Without --prune the old flow is not this run's business: a create.
    let plain = p.run("plan", &fake).expect(0);
    assert!(plain
        .summary()
        .starts_with("1 to create, 0 to update, 0 to replace, 0 to delete"));
    let plan = p.run("plan --prune --detailed-exitcode", &fake).expect(2);
    assert_eq!(
        plan.summary(),
        "0 to create, 0 to update, 1 to replace, 0 to delete, 0 in sync",
        "{}",
        plan.out
    );
    assert!(
        plan.out.contains("replace needed") && plan.out.contains("dataset: Orders → Customers"),
        "{}",
        plan.out
    );
    assert!(plan.out.contains(&old.id), "{}", plan.out);

    let before = fake.requests().len();
    let run = p.run("apply --prune", &fake).expect(3);
    assert!(run.out.contains(": untouched"), "{}", run.out);
    assert!(run.err.contains("--allow-replace"), "{}", run.err);
    assert!(writes_since(&fake, before).is_empty());
    assert_eq!(dev.flows().len(), 1);

    let before = fake.requests().len();
    let run = p.run("apply --prune --allow-replace", &fake).expect(0);
    assert!(run.out.contains(": replaced"), "{}", run.out);
    assert!(run
        .summary()
        .starts_with("0 created, 0 updated, 1 replaced, 0 deleted"));
    let writes = writes_since(&fake, before);
    let at = |w: &str| writes.iter().position(|x| x == w);
    let flow_deleted = at(&format!(
        "DELETE /data/foundation/flowservice/flows/{}",
        old.id
    ));
    let target_deleted = at(&format!(
        "DELETE /data/foundation/flowservice/targetConnections/{old_target}"
    ));
    let flow_created = at("POST /data/foundation/flowservice/flows");
    assert!(
        matches!((flow_deleted, target_deleted, flow_created), (Some(d), Some(t), Some(c)) if d < t && t < c),
        "the old flow, its target connection, then the new flow: {writes:?}"
    );
    assert!(
        !writes.iter().any(|w| w.contains("/sourceConnections")),
        "{writes:?}"
    );
    let flows = dev.flows();
    assert_eq!(flows.len(), 1);
    assert_ne!(flows[0].id, old.id);
    assert_eq!(flows[0].source_connection_ids, vec![source]);
    p.run("plan --prune --detailed-exitcode", &fake).expect(0);
}

/// The file puts another table into the same dataset: with `--prune` the
/// old flow is a replace (deleted first: a dataset has at most one
/// dataflow), never a create beside it then a delete; and the plan never
/// lists for deletion the dataset's target connection, which the new flow
/// keeps. Before: "1 to create, 1 to delete" with the target connection in
/// the delete, the new flow created while the old one still fed the
/// dataset, and the target's delete left to the service's refusal.
#[test]
fn another_table_into_the_same_dataset_is_a_replace_that_keeps_the_target() {
    let fake = fake();
    let text = format!(
        "{}{}",
        head("crm-ingest").replace("[sandboxes.prod]\ncredentials = \"AEP_PROD\"\n", ""),
        pipeline("Orders", "")
    );
    let p = Project::new(&text);
    p.run("apply", &fake).expect(0);
    let dev = fake.sandbox("dev");
    let old = dev.flows().remove(0);
    let old_source = old.source_connection_ids[0].clone();
    let target = old.target_connection_ids[0].clone();
    let base = dev.connections()[0].id.clone();
    let table = |name: &str| {
        aep_flow_testing::FakeTable::new(name)
            .column("id", "integer")
            .column("amount", "double")
            .column_with_format("updated_at", "string", "date-time")
    };
    dev.set_catalog(
        &base,
        vec![table("public.orders"), table("public.orders_v2")],
    );
    p.rewrite(&text.replace("table = \"public.orders\"", "table = \"public.orders_v2\""));

    let plan = p.run("plan --prune --detailed-exitcode", &fake).expect(2);
    assert_eq!(
        plan.summary(),
        "0 to create, 0 to update, 1 to replace, 0 to delete, 0 in sync",
        "{}",
        plan.out
    );
    assert!(
        plan.out.contains("replace needed")
            && plan.out.contains("table: public.orders → public.orders_v2")
            && plan.out.contains(&old.id),
        "{}",
        plan.out
    );
    assert!(!plan.out.contains(&target), "{}", plan.out);
    let json = p.run("plan --prune --json", &fake).expect(0).json();
    assert_eq!(json.len(), 2, "{json:?}");
    assert_eq!(json[0]["action"], "replace");
    assert_eq!(json[0]["targetConnectionId"], target.as_str());

    let before = fake.requests().len();
    p.run("apply --prune", &fake).expect(3);
    assert!(writes_since(&fake, before).is_empty());

    let before = fake.requests().len();
    let run = p.run("apply --prune --allow-replace", &fake).expect(0);
    assert!(
        run.summary()
            .starts_with("0 created, 0 updated, 1 replaced, 0 deleted"),
        "{}",
        run.out
    );
    let writes = writes_since(&fake, before);
    let at = |w: &str| writes.iter().position(|x| x == w);
    let flow_deleted = at(&format!(
        "DELETE /data/foundation/flowservice/flows/{}",
        old.id
    ));
    let source_deleted = at(&format!(
        "DELETE /data/foundation/flowservice/sourceConnections/{old_source}"
    ));
    let flow_created = at("POST /data/foundation/flowservice/flows");
    assert!(
        matches!((flow_deleted, source_deleted, flow_created), (Some(d), Some(s), Some(c)) if d < s && s < c),
        "the old flow, its source connection, then the new flow: {writes:?}"
    );
    assert!(
        !writes.iter().any(|w| w.contains("/targetConnections")),
        "{writes:?}"
    );
    let flows = dev.flows();
    assert_eq!(flows.len(), 1);
    assert_ne!(flows[0].id, old.id);
    assert_eq!(flows[0].target_connection_ids, vec![target]);
    p.run("plan --prune --detailed-exitcode", &fake).expect(0);
}

/// A replace whose create fails after the delete: the error says what was
/// deleted and what to do; exit 1; the next apply creates it.
#[test]
fn a_replace_whose_create_fails_says_what_was_deleted_and_what_to_do() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    p.run("apply --sandbox dev", &fake).expect(0);
    let dev = fake.sandbox("dev");
    let old = dev.flows().remove(0);
    assert!(dev.modify_flow(&old.id, |f| {
        for t in f["transformations"].as_array_mut().unwrap() {
            if t["name"] == "Copy" {
                t["params"]["deltaColumn"]["name"] = "created_at".into();
            }
        }
    }));
    fake.push_reply(
        Reply::json(
            400,
            r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1234-400","title":"refused","status":400}"#,
        )
        .only_for("POST")
        .only_for_path("/flows"),
    );
    let run = p
        .run("apply --sandbox dev --allow-replace", &fake)
        .expect(1);
    let failed = run.out.lines().find(|l| l.contains(": failed")).unwrap();
    assert!(
        failed.contains(&format!("flow {} was deleted", old.id))
            && failed.contains("run apply again"),
        "{failed}"
    );
    assert!(dev.flows().is_empty());
    // As said: apply again creates it.
    let again = p.run("apply --sandbox dev", &fake).expect(0);
    assert!(again.summary().starts_with("1 created"), "{}", again.out);
    p.run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(0);
}
