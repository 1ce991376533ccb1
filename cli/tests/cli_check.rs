//! `aep-flow check` as cron runs it, against the fake over 127.0.0.1:
//! every state, the clock edges the binary can show, a service that lists
//! runs oldest first, status casing and counts sent as strings, flows that
//! run once, re-trigger bounds across invocations, secrets the service
//! echoes never printed (the token IMS issued included), a declared
//! dataset that does not exist (missing, not bad input), file paths
//! printed escaped, bad input refused with nothing sent, and the requests
//! per healthy pipeline.

mod common;
mod project_support;

use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use aep_flow::{spec::CONNECTION_STRING_AUTH, Client, Frequency, Mapping, PipelineSpec, Schedule};
use aep_flow_testing::{demo_catalog, FakeFlowService, FakeRun, Reply};
use common::{aep_flow, text, with_platform};
use serde_json::{json, Value};

const DATASET: &str = "5c8c3c555033b814b69f947f";
const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/orders";
/// What `with_platform` sets: the token and the database password.
const TOKEN_CANARY: &str = "tok-cli-7788";
const PG_CANARY: &str = "pw-canary-4411";
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn assert_no_run_of(secret: &str, text: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for run in chars.windows(6) {
        let run: String = run.iter().collect();
        assert!(!text.contains(&run), "{run:?} leaked: {text}");
    }
}

/// A fake with an hourly flow made through the library; its id.
fn with_flow(fake: FakeFlowService) -> (FakeFlowService, String) {
    with_flow_scheduled(
        fake,
        Schedule::every(Frequency::Hour, 1, 1_764_230_400).unwrap(),
    )
}

/// A fake with a flow on `schedule` made through the library; its id.
fn with_flow_scheduled(fake: FakeFlowService, schedule: Schedule) -> (FakeFlowService, String) {
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
        .with_schedule(schedule);
    let flow = client.ensure_pipeline(&spec).unwrap().flow_id;
    (fake, String::from(flow))
}

fn hourly() -> (FakeFlowService, String) {
    with_flow(FakeFlowService::start().unwrap())
}

/// A success `ago` ms ago, 3 read, 3 written, `failed` failed.
fn success(ago: i64, failed: u64) -> FakeRun {
    let t = now() - ago;
    FakeRun::new("success")
        .with_created_at(t - MIN)
        .with_times(t - MIN, t)
        .with_counts(3, 3 - failed.min(3), failed)
}

/// `aep-flow check ARGS` against `fake`: exit code, stdout, stderr, with
/// no secret in either.
fn check(fake: &FakeFlowService, args: &[&str]) -> (i32, String, String) {
    let mut cmd = aep_flow("check");
    with_platform(&mut cmd, fake);
    cmd.args(args);
    let out: Output = cmd.output().unwrap();
    let (stdout, stderr) = text(&out);
    for secret in [TOKEN_CANARY, PG_CANARY] {
        assert_no_run_of(secret, &stdout);
        assert_no_run_of(secret, &stderr);
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Runs `check --flow FLOW --json` and returns (exit, the pipeline's
/// object).
fn check_json(fake: &FakeFlowService, flow: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--flow", flow, "--json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = check(fake, &args);
    let lines = json_lines(&stdout);
    assert_eq!(lines.len(), 2, "{stdout}{stderr}");
    assert_eq!(lines[1]["summary"]["pipelines"], 1);
    (code, lines[0].clone())
}

#[test]
fn a_healthy_flow_is_ok_exit_0_with_two_requests() {
    let (fake, flow) = hourly();
    fake.add_run(&flow, success(10 * MIN, 0));
    let before = fake.requests().len();
    let (code, stdout, stderr) = check(&fake, &["--flow", &flow]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with(&format!("prod  flow {flow}  ok  last success 20")));
    assert!(lines[0].contains("(10m ago)"), "{}", lines[0]);
    assert!(lines[0].contains("records 3/3/0 read/written/failed"));
    assert_eq!(
        lines[1],
        "1 pipeline: 1 ok, 0 missing, 0 disabled, 0 failed, 0 partial, 0 stale, 0 errors"
    );
    // The flow and one page of runs, newest first.
    let sent = &fake.requests()[before..];
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent[1].path.contains("orderby=-createdAt"),
        "{}",
        sent[1].path
    );
    assert!(sent[1].path.contains("limit=100"), "{}", sent[1].path);

    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["state"], "ok");
    assert_eq!(v["sandbox"], "prod");
    assert_eq!(v["flowId"], flow.as_str());
    assert_eq!(v["reasons"], json!([]));
    assert_eq!(v["maxAgeSeconds"], 3 * 3600);
    let age = v["lastSuccessAgeSeconds"].as_i64().unwrap();
    assert!((600..700).contains(&age), "{age}");
    assert!(v["lastSuccess"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v["latestRun"]["status"], "success");
    assert_eq!(v["latestRun"]["inputRecords"], 3);
    assert_eq!(v["retrigger"], Value::Null);
}

#[test]
fn missing_and_disabled_flows_exit_3() {
    let (fake, flow) = hourly();
    fake.add_run(&flow, success(MIN, 0));
    let (code, v) = check_json(&fake, "0f1e2d3c-0000-4000-8000-00000000dead", &[]);
    assert_eq!(code, 3);
    assert_eq!(v["state"], "missing");
    assert_eq!(
        v["reasons"],
        json!(["flow 0f1e2d3c-0000-4000-8000-00000000dead not found"])
    );
    assert!(fake.set_flow_state(&flow, "disabled"));
    let (code, stdout, _) = check(&fake, &["--flow", &flow]);
    assert_eq!(code, 3);
    assert!(
        stdout.contains("  disabled  last success") && stdout.contains("the flow is disabled"),
        "{stdout}"
    );
}

#[test]
fn a_failed_run_exits_3_with_its_error_scrubbed_of_echoed_secrets() {
    let (fake, flow) = hourly();
    fake.add_run(&flow, success(2 * HOUR, 0));
    let t = now() - MIN;
    fake.add_run(
        &flow,
        FakeRun::new("Failed")
            .with_created_at(t)
            .with_times(t, t + 1_000)
            .with_counts(10, 0, 10)
            .with_error(
                "CONNECTOR-2001-500",
                format!(
                    "login as reader with password {PG_CANARY} failed; token \"{TOKEN_CANARY}\"\n\
                     next line"
                ),
            ),
    );
    let (code, stdout, _) = check(&fake, &["--flow", &flow]);
    assert_eq!(code, 3, "{stdout}");
    let line = stdout.lines().next().unwrap();
    assert!(line.contains("  failed  last success "), "{line}");
    assert!(line.contains("records 10/0/10"), "{line}");
    assert!(line.contains("failed at "), "{line}");
    assert!(
        line.contains(": CONNECTOR-2001-500: login as reader with password [REDACTED] failed"),
        "{line}"
    );
    assert!(!stdout.contains("\nnext line"));
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["state"], "failed");
    assert_eq!(v["latestRun"]["status"], "failed");
    assert!(v["reasons"][0].as_str().unwrap().contains("[REDACTED]"));
}

#[test]
fn partial_and_its_limit() {
    let (fake, flow) = hourly();
    fake.add_run(&flow, success(5 * MIN, 2));
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["state"], "partial");
    assert!(v["reasons"][0]
        .as_str()
        .unwrap()
        .ends_with("succeeded with 2 failed records (max_failed_records 0)"));
    let (code, v) = check_json(&fake, &flow, &["--max-failed-records", "2"]);
    assert_eq!((code, v["state"].as_str()), (0, Some("ok")));
}

#[test]
fn stale_by_default_after_three_intervals_or_after_max_age() {
    let (fake, flow) = hourly();
    fake.add_run(&flow, success(4 * HOUR, 0));
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["state"], "stale");
    assert!(v["reasons"][0]
        .as_str()
        .unwrap()
        .starts_with("no successful run within max_age 3h (the last, "));
    let (code, v) = check_json(&fake, &flow, &["--max-age", "5h"]);
    assert_eq!((code, v["state"].as_str()), (0, Some("ok")));
    assert_eq!(v["maxAgeSeconds"], 5 * 3600);
    let (code, v) = check_json(&fake, &flow, &["--max-age", "3h59m"]);
    assert_eq!((code, v["state"].as_str()), (3, Some("stale")));
    // No run at all: stale, never ok.
    let (fake, flow) = hourly();
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!((code, v["state"].as_str()), (3, Some("stale")));
    assert_eq!(v["lastSuccess"], Value::Null);
}

#[test]
fn runs_with_missing_or_garbled_times_never_count_as_a_success() {
    let (fake, flow) = hourly();
    fake.add_run(&flow, success(MIN, 0).without_created_at());
    fake.add_run(&flow, success(MIN, 0).with_garbled_created_at("yesterday"));
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["state"], "stale");
    assert_eq!(v["lastSuccess"], Value::Null);
    // A readable one next to them counts.
    fake.add_run(&flow, success(2 * MIN, 0));
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!((code, v["state"].as_str()), (0, Some("ok")));
}

#[test]
fn a_service_listing_oldest_first_is_sorted_here() {
    let fake = FakeFlowService::builder().ignore_orderby().start().unwrap();
    let (fake, flow) = with_flow(fake);
    // Added (and listed) oldest first: a success, then the newer failure.
    fake.add_run(&flow, success(2 * HOUR, 0));
    fake.add_run(
        &flow,
        FakeRun::new("failed")
            .with_created_at(now() - MIN)
            .with_error("E-1", "broken"),
    );
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!((code, v["state"].as_str()), (3, Some("failed")));
    // More runs than a page, oldest first: the newest are on the last
    // page, which is read too (never a verdict from the oldest hundred).
    let fake = FakeFlowService::builder().ignore_orderby().start().unwrap();
    let (fake, flow) = with_flow(fake);
    for i in 0..120 {
        fake.add_run(&flow, success(10 * HOUR - i * MIN, 0));
    }
    fake.add_run(&flow, success(MIN, 7));
    let before = fake.requests().len();
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!((code, v["state"].as_str()), (3, Some("partial")), "{v}");
    assert!(fake.requests().len() - before > 2);
    // The same with a service that honours the order: one page.
    let (fake, flow) = hourly();
    for i in 0..120 {
        fake.add_run(&flow, success(10 * HOUR - i * MIN, 0));
    }
    fake.add_run(&flow, success(MIN, 7));
    let before = fake.requests().len();
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!((code, v["state"].as_str()), (3, Some("partial")));
    assert_eq!(fake.requests().len() - before, 2);
}

#[test]
fn retrigger_bounds_hold_across_invocations() {
    let (fake, flow) = hourly();
    fake.add_run(&flow, success(3 * HOUR, 0));
    let original = fake.add_run(
        &flow,
        FakeRun::new("failed")
            .with_created_at(now() - HOUR)
            .with_error("E", "down"),
    );
    // Every retry fails at once.
    fake.retrigger_runs_as(FakeRun::new("failed").with_error("E", "still down"));
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let (code, v) = check_json(&fake, &flow, &["--retrigger", "2"]);
        assert_eq!(code, 3);
        assert_eq!(v["state"], "failed");
        outcomes.push(v["retrigger"].clone());
    }
    let runs = fake.runs();
    let retries: Vec<_> = runs
        .iter()
        .filter(|r| r.raw().get("parentFlowRunId").is_some())
        .collect();
    assert_eq!(retries.len(), 2, "{runs:?}");
    assert_eq!(outcomes[0]["outcome"], "re-triggered");
    assert_eq!(outcomes[0]["runId"], original.as_str());
    assert_eq!(outcomes[0]["originalRunId"], original.as_str());
    assert_eq!(outcomes[0]["count"], 1);
    // The second re-triggers the retry, counted against the original.
    assert_eq!(outcomes[1]["outcome"], "re-triggered");
    assert_eq!(outcomes[1]["runId"], retries[0].id.as_str());
    assert_eq!(outcomes[1]["originalRunId"], original.as_str());
    assert_eq!(outcomes[1]["count"], 2);
    assert_eq!(outcomes[2]["outcome"], "skipped");
    assert!(outcomes[2]["detail"]
        .as_str()
        .unwrap()
        .contains("already has 2 re-triggers"));
    // The human line says what was done.
    let (fake, flow) = hourly();
    let failed = fake.add_run(&flow, FakeRun::new("failed").with_created_at(now() - MIN));
    let (code, stdout, _) = check(&fake, &["--flow", &flow, "--retrigger", "1"]);
    assert_eq!(code, 3);
    assert!(
        stdout.contains(&format!(
            "re-triggered run {failed} (1 of 1 for run {failed})"
        )),
        "{stdout}"
    );
    assert!(stdout.contains(", 1 re-triggered"), "{stdout}");
    // The retry is in progress: not re-triggered again, even with room.
    let (_, stdout, _) = check(&fake, &["--flow", &flow, "--retrigger", "5"]);
    assert!(stdout.contains("already re-triggered"), "{stdout}");
    assert_eq!(fake.runs().len(), 2);
}

#[test]
fn only_runs_reported_failed_are_re_triggered() {
    let (fake, flow) = hourly();
    fake.add_run(&flow, success(4 * HOUR, 0));
    fake.add_run(&flow, FakeRun::new("inProgress").with_created_at(now()));
    fake.add_run(
        &flow,
        FakeRun::new("Cancelled").with_created_at(now() - MIN),
    );
    let before = fake.runs().len();
    let (code, v) = check_json(&fake, &flow, &["--retrigger", "3"]);
    assert_eq!((code, v["state"].as_str()), (3, Some("stale")));
    assert_eq!(v["retrigger"], Value::Null);
    assert_eq!(fake.runs().len(), before);
    assert!(fake.requests().iter().all(|r| !r.path.contains("/action")));
}

#[test]
fn a_lost_re_trigger_answer_is_exit_1_and_said_so() {
    let (fake, flow) = hourly();
    fake.add_run(&flow, FakeRun::new("failed").with_created_at(now() - MIN));
    fake.push_reply(Reply::close().only_for("POST"));
    let (code, stdout, stderr) = check(&fake, &["--flow", &flow, "--retrigger", "2"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("may have"), "{stderr}");
    assert!(stdout.contains("  error  "), "{stdout}");
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.path.contains("/action"))
            .count(),
        1
    );
}

#[test]
fn a_service_failure_is_exit_1() {
    let (fake, flow) = hourly();
    fake.push_reply(Reply::json(500, r#"{"message":"oops"}"#).only_for_path("/runs"));
    let (code, stdout, stderr) = check(&fake, &["--flow", &flow]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.starts_with("error: check: "), "{stderr}");
}

#[test]
fn bad_input_is_exit_2_with_nothing_sent() {
    let (fake, flow) = hourly();
    let before = fake.requests().len();
    for (args, says) in [
        (
            vec!["--retrigger", "11"],
            "--retrigger \"11\" must be a whole number from 0 to 10",
        ),
        (vec!["--retrigger", "-1"], "--retrigger"),
        (
            vec!["--max-age", "0h"],
            "--max-age \"0h\" must be whole numbers",
        ),
        (vec!["--max-age", "2 hours"], "--max-age"),
        // A leading `-` is the value's, not a flag: the message names
        // --max-age and its rule.
        (
            vec!["--max-age", "-1h"],
            "--max-age \"-1h\" must be whole numbers",
        ),
        (
            vec!["--max-age", "0"],
            "--max-age \"0\" must be whole numbers",
        ),
        (
            vec!["--max-age", "1.5h"],
            "--max-age \"1.5h\" must be whole",
        ),
        (
            vec!["--max-age", "99999999999d"],
            "--max-age \"99999999999d\" must be whole numbers with units s, m, h, d or w, \
             each unit once (`2h`, `1h30m`, `7d`), more than zero and at most 100 years",
        ),
        (
            vec!["--max-age", "\u{663}h"],
            "--max-age \"\u{663}h\" must be whole",
        ),
        (vec!["--max-failed-records", "-1"], "--max-failed-records"),
        (vec!["-f", "x.toml"], "takes no -f"),
        (
            vec!["--sandbox", "dev"],
            "takes no -f, --sandbox or --pipeline",
        ),
    ] {
        let mut all = vec!["--flow", flow.as_str()];
        all.extend(args.iter());
        let (code, stdout, stderr) = check(&fake, &all);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(stdout.is_empty());
    }
    let (code, _, stderr) = check(&fake, &["--flow", "a b"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(fake.requests().len(), before);
}

// ---- check -f: the declarative file ----

/// The flow of `table to dataset` in `sandbox`.
fn flow_named(fake: &FakeFlowService, sandbox: &str, dataset: &str) -> String {
    fake.sandbox(sandbox)
        .flows()
        .into_iter()
        .find(|f| f.name == format!("public.orders to {dataset}"))
        .unwrap_or_else(|| panic!("no flow into {dataset} in {sandbox}"))
        .id
}

fn run_in(fake: &FakeFlowService, sandbox: &str, flow: &str, run: FakeRun) -> String {
    fake.sandbox(sandbox).add_run(flow, run)
}

#[test]
fn the_file_form_checks_every_pipeline_in_every_sandbox() {
    use project_support::{fake as project_fake, head, pipeline, Project, DB_PASSWORD};
    let fake = project_fake();
    let file = format!(
        "{}{}{}",
        head("crm-ingest"),
        pipeline("Orders", "max_age = \"2h\"\n"),
        pipeline("Customers", "max_failed_records = 1\n")
    );
    let project = Project::new(&file);
    project.run("apply", &fake).expect(0);
    // dev: Orders ok, Customers partial (2 failed records, 1 allowed).
    run_in(
        &fake,
        "dev",
        &flow_named(&fake, "dev", "Orders"),
        success(30 * MIN, 0),
    );
    run_in(
        &fake,
        "dev",
        &flow_named(&fake, "dev", "Customers"),
        success(MIN, 2),
    );
    // prod: Orders failed (echoing the database password and the token),
    // Customers disabled and stale.
    let t = now() - MIN;
    run_in(
        &fake,
        "prod",
        &flow_named(&fake, "prod", "Orders"),
        FakeRun::new("failed").with_created_at(t).with_error(
            "CONNECTOR-2001-500",
            format!("password {DB_PASSWORD} refused for {}", fake.access_token()),
        ),
    );
    let customers = flow_named(&fake, "prod", "Customers");
    run_in(&fake, "prod", &customers, success(5 * HOUR, 0));
    assert!(fake.sandbox("prod").set_flow_state(&customers, "disabled"));
    // A pipeline declared after the apply: missing everywhere (into a
    // dataset of its own: a dataset takes one pipeline).
    project_support::seed(&fake, "dev", &["Returns"], 10);
    project_support::seed(&fake, "prod", &["Returns"], 11);
    project.rewrite(&format!(
        "{file}{}",
        pipeline("Returns", "").replace("public.orders", "public.customers")
    ));
    let run = project.run("check --json", &fake).expect(3);
    for secret in [DB_PASSWORD, fake.access_token()] {
        assert_no_run_of(secret, &run.out);
        assert_no_run_of(secret, &run.err);
    }
    let lines = run.json();
    let states: Vec<(String, String, String, String)> = lines[..lines.len() - 1]
        .iter()
        .map(|v| {
            (
                v["sandbox"].as_str().unwrap().to_owned(),
                v["table"].as_str().unwrap().to_owned(),
                v["dataset"].as_str().unwrap().to_owned(),
                v["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = |sb: &str, t: &str, d: &str, s: &str| (sb.into(), t.into(), d.into(), s.into());
    assert_eq!(
        states,
        vec![
            want("dev", "public.orders", "Orders", "ok"),
            want("dev", "public.orders", "Customers", "partial"),
            want("dev", "public.customers", "Returns", "missing"),
            want("prod", "public.orders", "Orders", "failed"),
            want("prod", "public.orders", "Customers", "disabled"),
            want("prod", "public.customers", "Returns", "missing"),
        ]
    );
    assert_eq!(lines[0]["maxAgeSeconds"], 2 * 3600);
    assert!(lines[3]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("[REDACTED]"));
    assert!(lines[2]["reasons"][0]
        .as_str()
        .unwrap()
        .starts_with("no source connection reads public.customers"));
    assert_eq!(lines[2]["flowId"], Value::Null);
    let summary = &lines[lines.len() - 1]["summary"];
    assert_eq!(summary["pipelines"], 6);
    assert_eq!(summary["ok"], 1);
    assert_eq!(summary["missing"], 2);
    // The people's lines: table → dataset, state.
    let run = project
        .run("check --sandbox dev --pipeline public.orders", &fake)
        .expect(3);
    let lines: Vec<&str> = run.out.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.out);
    assert!(
        lines[0].starts_with("dev  public.orders → Orders  ok  last success "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("dev  public.orders → Customers  partial  "),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("records 3/1/2 read/written/failed"),
        "{}",
        lines[1]
    );
    // Only the healthy one: exit 0.
    project.rewrite(&format!(
        "{}{}",
        head("crm-ingest"),
        pipeline("Orders", "max_age = \"2h\"\n")
    ));
    project.run("check --sandbox dev", &fake).expect(0);
    // A --pipeline the file does not declare: exit 2, nothing sent.
    let before = fake.requests().len();
    let run = project.run("check --pipeline public.nope", &fake).expect(2);
    assert!(
        run.err.contains("declares no pipeline of that table"),
        "{}",
        run.err
    );
    let run = project.run("check --max-age 2h", &fake).expect(2);
    assert!(run.err.contains("go with --flow"), "{}", run.err);
    assert_eq!(fake.requests().len(), before);
}

#[test]
fn the_file_form_sends_four_requests_per_healthy_pipeline() {
    use project_support::{head, pipeline, seed, Project};
    let mut measured = Vec::new();
    for n in [1usize, 10] {
        let fake = FakeFlowService::builder().start().unwrap();
        let names: Vec<String> = (0..n).map(|i| format!("Set {i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        seed(&fake, "dev", &refs, 0);
        let mut file = head("crm-ingest");
        for name in &names {
            file.push_str(&pipeline(name, ""));
        }
        let project = Project::new(&file);
        project.run("apply --sandbox dev", &fake).expect(0);
        for name in &names {
            run_in(
                &fake,
                "dev",
                &flow_named(&fake, "dev", name),
                success(MIN, 0),
            );
        }
        let before = fake.requests().len();
        let run = project.run("check --sandbox dev", &fake).expect(0);
        assert_eq!(run.out.lines().count(), n + 1);
        measured.push(fake.requests().len() - before);
    }
    eprintln!(
        "check -f requests: 1 pipeline {}, 10 pipelines {}",
        measured[0], measured[1]
    );
    // Four per pipeline (source, target, flow, one page of runs) and a
    // constant per sandbox (the base connection by name, the datasets).
    assert_eq!(measured[1] - measured[0], 9 * 4, "{measured:?}");
    assert!(measured[0] <= 4 + 2, "{measured:?}");
}

#[test]
fn the_demo_shows_a_healthy_and_a_partial_pipeline_for_the_readme_file() {
    use project_support::Run;
    // The README's example file, as the walkthrough shows it.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme
        .find("```toml\nproject = ")
        .expect("the README's file")
        + 8;
    let file = &readme[start..start + readme[start..].find("```").unwrap()];
    let dir = common::TempDir::new("check-demo");
    let path = dir.file("aep-flow.toml", file.as_bytes());
    let state = common::fresh_demo_state();
    let demo = |words: &str| {
        let mut cmd = aep_flow(words);
        cmd.env("AEP_DEMO_STATE", &state)
            .arg("--demo")
            .arg("-f")
            .arg(&path);
        Run::of(cmd.output().unwrap())
    };
    demo("apply").expect(0);
    let run = demo("check").expect(3);
    let lines: Vec<&str> = run.out.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.out);
    assert!(
        lines[0].starts_with("dev  public.orders → Orders  ok  "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("prod  public.orders → Orders  ok  "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("prod  public.orders → Customers  partial  "),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("records 120/117/3"), "{}", lines[2]);
    assert!(
        lines[2].ends_with("_tenant.customer is required"),
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3],
        "3 pipelines: 2 ok, 0 missing, 0 disabled, 0 failed, 1 partial, 0 stale, 0 errors"
    );
    // Checking again shows the same.
    let again = demo("check --json").expect(3);
    let v = again.json();
    assert_eq!(v[2]["state"], "partial");
    assert_eq!(v[2]["latestRun"]["failedRecords"], 3);
    assert_eq!(v[3]["summary"]["partial"], 1);
    let _ = std::fs::remove_file(&state);
}

#[test]
fn a_run_error_echoing_the_token_ims_issued_or_the_client_secret_is_scrubbed() {
    const CLIENT_SECRET: &str = "cs-canary-Secr3t9";
    for json in [&[][..], &["--json"][..]] {
        let fake = FakeFlowService::builder()
            .ims_client(aep_flow_testing::DEMO_CLIENT_ID, CLIENT_SECRET)
            .start()
            .unwrap();
        let (fake, flow) = with_flow(fake);
        // The first token the fake IMS issues is `fake-ims-token-1`: the
        // command's client will get it, and the run's error echoes it.
        let t = now() - MIN;
        fake.add_run(
            &flow,
            FakeRun::new("failed").with_created_at(t).with_error(
                "CONNECTOR-2001-500",
                format!(
                    "Authorization: Bearer fake-ims-token-1 rejected \
                     (client_secret={CLIENT_SECRET})"
                ),
            ),
        );
        let mut cmd = aep_flow("check");
        cmd.env("AEP_CLIENT_ID", aep_flow_testing::DEMO_CLIENT_ID)
            .env("AEP_CLIENT_SECRET", CLIENT_SECRET)
            .env("AEP_SCOPES", aep_flow_testing::DEMO_SCOPES)
            .env("AEP_IMS_URL", fake.ims_url())
            .env("AEP_ORG_ID", "CLI@AdobeOrg")
            .env("AEP_SANDBOX_NAME", "prod")
            .env("AEP_FLOW_SERVICE_URL", fake.base_url())
            .args(["--flow", &flow])
            .args(json);
        let out = cmd.output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
        // The canary really is a token the command was issued.
        assert_eq!(fake.issued_tokens(), ["fake-ims-token-1"]);
        for secret in ["fake-ims-token-1", CLIENT_SECRET] {
            assert_no_run_of(secret, &stdout);
            assert_no_run_of(secret, &stderr);
        }
        assert!(
            stdout.contains(": CONNECTOR-2001-500: Authorization: Bearer [REDACTED] rejected"),
            "{stdout}"
        );
    }
}

#[test]
fn a_declared_dataset_that_does_not_exist_is_missing_not_bad_input() {
    use project_support::{fake as project_fake, head, pipeline, writes_since, Project};
    let fake = project_fake();
    let applied = format!("{}{}", head("crm-ingest"), pipeline("Orders", ""));
    let project = Project::new(&applied);
    project.run("apply", &fake).expect(0);
    for sandbox in ["dev", "prod"] {
        run_in(
            &fake,
            sandbox,
            &flow_named(&fake, sandbox, "Orders"),
            success(MIN, 0),
        );
    }
    // The file is ahead of the sandboxes: a dataset nobody made yet, in
    // prod only.
    project.rewrite(&format!(
        "{applied}{}sandboxes = [\"prod\"]\n",
        pipeline("Orders \\\"2027\\\"", "")
    ));
    let before = fake.requests().len();
    let run = project.run("check", &fake).expect(3);
    let lines: Vec<&str> = run.out.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.out);
    assert!(lines[0].starts_with("dev  public.orders → Orders  ok  "));
    assert!(lines[1].starts_with("prod  public.orders → Orders  ok  "));
    assert_eq!(
        lines[2],
        "prod  public.orders → Orders \"2027\"  missing  last success never  no dataset named \
         \"Orders \\\"2027\\\"\" in sandbox prod (Catalog lists 2 datasets)"
    );
    assert_eq!(
        lines[3],
        "3 pipelines: 2 ok, 1 missing, 0 disabled, 0 failed, 0 partial, 0 stale, 0 errors"
    );
    assert!(
        run.err.lines().all(|l| !l.starts_with("error")),
        "{}",
        run.err
    );
    assert!(writes_since(&fake, before).is_empty());
    let run = project.run("check --json --sandbox prod", &fake).expect(3);
    let v = run.json();
    assert_eq!(v[1]["state"], "missing");
    assert_eq!(v[1]["dataset"], "Orders \"2027\"");
    assert_eq!(v[1]["flowId"], Value::Null);
    assert!(v[1]["reasons"][0]
        .as_str()
        .unwrap()
        .starts_with("no dataset named "));
    // Only the missing one selected: still exit 3, not 2.
    project
        .run("check --sandbox prod --pipeline public.orders", &fake)
        .expect(3);
    // plan and apply keep their rule: exit 2 naming the file, line and key,
    // nothing written.
    let before = fake.requests().len();
    for words in ["plan", "apply"] {
        let run = project.run(words, &fake).expect(2);
        assert!(
            run.err.contains(":dataset: no dataset named")
                || run.err.contains(".dataset: no dataset named"),
            "{words}: {}",
            run.err
        );
    }
    assert!(writes_since(&fake, before).is_empty());
}

#[test]
fn file_paths_are_printed_escaped_never_raw() {
    use project_support::{fake as project_fake, head, pipeline, Project};
    use std::os::unix::ffi::OsStrExt;
    let fake = project_fake();
    // A directory whose name would start a forged line and colour the
    // terminal (arguments that are not UTF-8 are refused before: the
    // unit tests of `show_path` cover those bytes).
    let dir = common::TempDir::new("odd-path");
    let odd = dir.0.join(std::ffi::OsStr::from_bytes(
        b"x\nerror: all pipelines ok\x1b[32m",
    ));
    std::fs::create_dir_all(&odd).unwrap();
    let path = odd.join("aep-flow.toml");
    std::fs::write(
        &path,
        format!("{}{}", head("crm-ingest"), pipeline("Orders", "")),
    )
    .unwrap();
    let shown_dir = format!(
        "\"{}/x\\nerror: all pipelines ok\\u{{1b}}[32m/aep-flow.toml\"",
        dir.0.display()
    );
    let project = Project { dir, path };
    let check = |words: &str| project.run(words, &fake);
    let before = fake.requests().len();
    // check.rs: a --pipeline the file does not declare.
    let run = check("check --pipeline public.nope").expect(2);
    // live.rs: a --sandbox the file does not declare.
    let run2 = check("check --sandbox nope").expect(2);
    assert_eq!(fake.requests().len(), before);
    for (run, says) in [
        (&run, "declares no pipeline of that table"),
        (&run2, "declares no such sandbox"),
    ] {
        assert_eq!(run.err.lines().count(), 1, "{:?}", run.err);
        assert!(!run.err.contains('\u{1b}'), "{:?}", run.err);
        assert!(!run.err.contains('\u{fffd}'), "{:?}", run.err);
        assert!(run.err.contains(&shown_dir), "{:?}", run.err);
        assert!(run.err.contains(says), "{:?}", run.err);
    }
    // The project's FILE:LINE: KEY errors (two datasets of one name).
    fake.sandbox("dev").add_dataset(
        "0000d5e7a0b1c2ffffffffff",
        "Orders",
        project_support::SCHEMA,
    );
    let run = check("check --sandbox dev").expect(2);
    assert_eq!(run.err.lines().count(), 1, "{:?}", run.err);
    assert!(!run.err.contains('\u{1b}'), "{:?}", run.err);
    assert!(
        run.err.contains(&format!("{shown_dir}:")) && run.err.contains("2 datasets are named"),
        "{:?}",
        run.err
    );
}

#[test]
fn a_flow_that_runs_once_is_never_stale() {
    let (fake, flow) = with_flow_scheduled(
        FakeFlowService::start().unwrap(),
        Schedule::once(1_764_230_400),
    );
    // No run at all, or a success a year old: ok, whatever --max-age says.
    for extra in [&[][..], &["--max-age", "1m"][..]] {
        let (code, v) = check_json(&fake, &flow, extra);
        assert_eq!((code, v["state"].as_str()), (0, Some("ok")), "{v}");
        assert_eq!(v["maxAgeSeconds"], Value::Null);
    }
    fake.add_run(&flow, success(365 * 24 * HOUR, 0));
    let (code, v) = check_json(&fake, &flow, &["--max-age", "1m"]);
    assert_eq!((code, v["state"].as_str()), (0, Some("ok")), "{v}");
    // It can still fail.
    fake.add_run(&flow, FakeRun::new("failed").with_created_at(now() - MIN));
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!((code, v["state"].as_str()), (3, Some("failed")));
}

#[test]
fn max_age_edges_as_the_binary_sees_them() {
    // The binary's clock cannot be pinned: a success a few seconds inside
    // max_age is ok, one a second beyond it is stale. The exact edge (a
    // success exactly max_age old is ok, a millisecond more is stale) is
    // `check::classify`'s unit test `the_clock_edges_of_max_age`.
    let (fake, flow) = hourly();
    // Created 2h 1m ago, completed 5 s inside the window: the success
    // time is the completion, so it is ok.
    let inside = now() - 2 * HOUR + 5_000;
    fake.add_run(
        &flow,
        FakeRun::new("success")
            .with_created_at(now() - 2 * HOUR - MIN)
            .with_times(now() - 2 * HOUR - MIN, inside),
    );
    let (code, v) = check_json(&fake, &flow, &["--max-age", "2h"]);
    assert_eq!((code, v["state"].as_str()), (0, Some("ok")), "{v}");
    let (fake, flow) = hourly();
    let beyond = now() - 2 * HOUR - 1_000;
    fake.add_run(
        &flow,
        FakeRun::new("success")
            .with_created_at(beyond - MIN)
            .with_times(beyond - MIN, beyond),
    );
    let (code, v) = check_json(&fake, &flow, &["--max-age", "2h"]);
    assert_eq!((code, v["state"].as_str()), (3, Some("stale")), "{v}");
    assert!(v["reasons"][0]
        .as_str()
        .unwrap()
        .starts_with("no successful run within max_age 2h (the last, "));
}

#[test]
fn status_casing_from_the_service_does_not_matter() {
    for (word, state) in [
        ("FAILED", "failed"),
        ("failed", "failed"),
        ("Failed", "failed"),
        ("SUCCESS", "ok"),
        ("Success", "ok"),
    ] {
        let (fake, flow) = hourly();
        let run = fake.add_run(
            &flow,
            FakeRun::new(word)
                .with_created_at(now() - MIN)
                .with_times(now() - MIN, now() - 1_000)
                .with_counts(5, 5, 0),
        );
        let (code, v) = check_json(&fake, &flow, &["--retrigger", "1"]);
        assert_eq!(v["state"], state, "{word}: {v}");
        assert_eq!(code, if state == "ok" { 0 } else { 3 }, "{word}");
        // A failure in any casing is one the service reported: re-triggered.
        if state == "failed" {
            assert_eq!(v["retrigger"]["outcome"], "re-triggered", "{word}: {v}");
            assert_eq!(v["retrigger"]["runId"], run.as_str());
        } else {
            assert_eq!(v["retrigger"], Value::Null);
            assert!(fake.requests().iter().all(|r| !r.path.contains("/action")));
        }
    }
}

/// Scripts the next `/runs` listing: `items` as the service sends them.
fn script_runs(fake: &FakeFlowService, items: Value) {
    fake.push_reply(Reply::json(200, json!({ "items": items }).to_string()).only_for_path("/runs"));
}

#[test]
fn counts_and_times_sent_as_strings_are_read() {
    let (fake, flow) = hourly();
    let run = |failed: &str| {
        json!([{
            "id": "run-strings",
            "flowId": flow,
            "createdAt": (now() - 2 * MIN).to_string(),
            "metrics": {
                "statusSummary": {"status": "Success"},
                "durationSummary": {"completedAtUTC": (now() - MIN).to_string()},
                "recordSummary": {"inputRecordCount": "10", "outputRecordCount": "7",
                                  "failedRecordCount": failed}
            }
        }])
    };
    script_runs(&fake, run("3"));
    let (code, stdout, _) = check(&fake, &["--flow", &flow]);
    assert_eq!(code, 3, "{stdout}");
    let line = stdout.lines().next().unwrap();
    assert!(line.contains("  partial  last success "), "{line}");
    assert!(
        line.contains("records 10/7/3 read/written/failed"),
        "{line}"
    );
    assert!(
        line.ends_with("run run-strings succeeded with 3 failed records (max_failed_records 0)"),
        "{line}"
    );
    script_runs(&fake, run("3"));
    let (code, v) = check_json(&fake, &flow, &["--max-failed-records", "3"]);
    assert_eq!((code, v["state"].as_str()), (0, Some("ok")), "{v}");
    assert_eq!(v["latestRun"]["failedRecords"], 3);
    // A count that is not a number is unknown, never taken as failures
    // (nor as none: the line shows `?`).
    script_runs(&fake, run("three"));
    let (code, stdout, _) = check(&fake, &["--flow", &flow]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("records 10/7/? read/written/failed"),
        "{stdout}"
    );
}

#[test]
fn retries_named_only_in_child_flow_run_ids_still_bound_re_triggers() {
    // A service that links a retry to its run only through the run's
    // childFlowRunIds (no parentFlowRunId on the retry): two retries of
    // r0 listed, --retrigger 2, so nothing more is sent.
    let (fake, flow) = hourly();
    let failed = |id: &str, ago: i64, children: &[&str]| {
        json!({
            "id": id,
            "flowId": flow,
            "createdAt": now() - ago,
            "childFlowRunIds": children,
            "metrics": {"statusSummary": {"status": "failed",
                        "errors": [{"code": "E", "message": "down"}]}}
        })
    };
    for _ in 0..3 {
        script_runs(
            &fake,
            json!([
                failed("r2", MIN, &[]),
                failed("r1", 2 * MIN, &["r2"]),
                failed("r0", 3 * MIN, &["r1"]),
            ]),
        );
        let (code, v) = check_json(&fake, &flow, &["--retrigger", "2"]);
        assert_eq!((code, v["state"].as_str()), (3, Some("failed")), "{v}");
        assert_eq!(v["retrigger"]["outcome"], "skipped", "{v}");
        assert!(
            v["retrigger"]["detail"]
                .as_str()
                .unwrap()
                .contains("run r0 already has 2 re-triggers"),
            "{v}"
        );
    }
    assert!(fake.requests().iter().all(|r| !r.path.contains("/action")));
}

#[test]
fn a_run_stamped_far_in_the_future_hides_no_failure_and_is_no_success() {
    // A garbled createdAt decades ahead (a success) next to a real failure
    // a minute ago: the failure is the latest finished run.
    let (fake, flow) = hourly();
    let decades = 70 * 365 * 24 * HOUR;
    fake.add_run(&flow, success(-decades, 0));
    fake.add_run(
        &flow,
        FakeRun::new("failed")
            .with_created_at(now() - MIN)
            .with_error("E", "down"),
    );
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!((code, v["state"].as_str()), (3, Some("failed")), "{v}");
    // Alone, it is not a success that never grows old.
    let (fake, flow) = hourly();
    fake.add_run(&flow, success(-decades, 0));
    let (code, v) = check_json(&fake, &flow, &[]);
    assert_eq!((code, v["state"].as_str()), (3, Some("stale")), "{v}");
    assert_eq!(v["lastSuccess"], Value::Null, "{v}");
}

#[test]
fn a_re_trigger_the_service_made_but_whose_answer_was_lost_is_sent_once_and_counted() {
    let (fake, flow) = hourly();
    let failed = fake.add_run(&flow, FakeRun::new("failed").with_created_at(now() - MIN));
    fake.push_reply(Reply::after_processing(Reply::close()).only_for("POST"));
    let actions = |fake: &FakeFlowService| {
        fake.requests()
            .iter()
            .filter(|r| r.path.contains("/action"))
            .count()
    };
    let (code, stdout, stderr) = check(&fake, &["--flow", &flow, "--retrigger", "3"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("may have"), "{stderr}");
    // Sent once: never again after the answer was lost.
    assert_eq!(actions(&fake), 1);
    // The service made the retry; the next invocation sees it and sends
    // nothing while it runs, nor once it failed with the bound reached.
    let runs = fake.runs();
    let retry = runs
        .iter()
        .find(|r| r.raw()["parentFlowRunId"] == failed.as_str())
        .expect("the retry the service made");
    let (code, v) = check_json(&fake, &flow, &["--retrigger", "3"]);
    assert_eq!(
        (code, v["retrigger"]["outcome"].as_str()),
        (3, Some("skipped")),
        "{v}"
    );
    assert_eq!(actions(&fake), 1);
    let (code, v) = check_json(&fake, &flow, &["--retrigger", "1"]);
    assert_eq!(code, 3, "{v}");
    assert!(retry.raw()["id"].is_string());
    assert_eq!(actions(&fake), 1);
}

#[test]
fn a_service_ignoring_orderby_with_more_runs_than_the_cap_is_an_error_not_a_verdict() {
    // Oldest first, 10 050 runs (a week of minutes): the listing stops at
    // the library's cap of 10 000, before the newest run (a failure a
    // minute ago). A verdict from the oldest runs ("stale") would hide it.
    let fake = FakeFlowService::builder().ignore_orderby().start().unwrap();
    let (fake, flow) = with_flow(fake);
    for i in 0..10_049 {
        fake.add_run(&flow, success(30 * 24 * HOUR - i * MIN, 0));
    }
    fake.add_run(
        &flow,
        FakeRun::new("failed")
            .with_created_at(now() - MIN)
            .with_error("E", "down"),
    );
    let (code, stdout, stderr) = check(&fake, &["--flow", &flow, "--json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let v = json_lines(&stdout);
    assert_eq!(v[0]["state"], "error", "{stdout}");
    assert!(
        stderr.contains("did not list the runs of flow") && stderr.contains("newest first"),
        "{stderr}"
    );
}

#[test]
fn a_disabled_flows_failed_run_is_not_re_triggered() {
    let (fake, flow) = hourly();
    let failed = fake.add_run(
        &flow,
        FakeRun::new("failed")
            .with_created_at(now() - MIN)
            .with_error("E", "down"),
    );
    assert!(fake.set_flow_state(&flow, "disabled"));
    let (code, v) = check_json(&fake, &flow, &["--retrigger", "3"]);
    assert_eq!((code, v["state"].as_str()), (3, Some("disabled")), "{v}");
    assert_eq!(v["retrigger"]["outcome"], "skipped", "{v}");
    assert_eq!(
        v["retrigger"]["detail"],
        format!("not re-triggered: run {failed} failed but the flow is disabled")
    );
    assert!(fake.requests().iter().all(|r| !r.path.contains("/action")));
    assert_eq!(fake.runs().len(), 1);
}

#[test]
fn a_sandbox_whose_reads_fail_leaves_the_other_sandboxes_lines_printed() {
    use project_support::{fake, head, pipeline, Project};
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm"), pipeline("Orders", "")));
    p.run("apply", &fake).expect(0);
    for sandbox in ["dev", "prod"] {
        let s = fake.sandbox(sandbox);
        let flow = s.flows()[0].id.clone();
        s.add_run(&flow, success(MIN, 0));
    }
    // The first Catalog listing (dev's) fails.
    fake.push_reply(Reply::json(400, r#"{"message":"no"}"#).only_for_path("/dataSets"));
    let r = p.run("check --json", &fake);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    let lines = r.json();
    let prod: Vec<_> = lines.iter().filter(|l| l["sandbox"] == "prod").collect();
    assert_eq!(prod.len(), 1, "{}", r.out);
    assert_eq!(prod[0]["state"], "ok", "{}", r.out);
    let dev: Vec<_> = lines.iter().filter(|l| l["sandbox"] == "dev").collect();
    assert_eq!(dev.len(), 1, "{}", r.out);
    assert_eq!(dev[0]["state"], "error", "{}", r.out);
    assert_eq!(lines.last().unwrap()["summary"]["errors"], 1, "{}", r.out);
}

/// A one-letter database password (`e`) that a failed run's message
/// shares letters with: the letter is removed from the message once
/// (a mangled message beats a leaked secret), and the line stays about as
/// long as the message. Before: every scrub pass scrubbed its own
/// `[REDACTED]` markers again, and the reason became a nest of
/// `[R[R[R[REDACTED]DACT…` cut at the display limit.
#[test]
fn a_one_letter_password_removes_the_letter_not_the_message() {
    use project_support::{fake as project_fake, head, pipeline, Project, Run};
    let fake = project_fake();
    let project = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    project.run("apply --sandbox dev", &fake).expect(0);
    run_in(
        &fake,
        "dev",
        &flow_named(&fake, "dev", "Orders"),
        FakeRun::new("failed")
            .with_created_at(now() - MIN)
            .with_error("CONNECTOR-2015-400", "3 rows failed: e"),
    );
    let run = Run::of(
        project
            .cmd("check --sandbox dev", &fake)
            .env("ORDERS_DB_PASSWORD", "e")
            .output()
            .unwrap(),
    )
    .expect(3);
    assert!(
        run.out.contains(
            "CONN[REDACTED]CTOR-2015-400: 3 rows fail[REDACTED]d: [REDACTED]; no successful"
        ),
        "{}",
        run.out
    );
    assert!(
        !run.out.contains("[R[") && !run.out.contains('…'),
        "{}",
        run.out
    );
}
