//! `aep-flow connections` as a user runs it, against the stateful fake.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use aep_flow::{spec::BASIC_AUTH, spec::CONNECTION_STRING_AUTH};
use aep_flow_testing::{FakeFlowService, Reply};
use common::{aep_flow, text, with_platform};
use serde_json::{json, Value};

const STORED_CANARY: &str = "stored-canary-pw-Lk3";

fn run(fake: &FakeFlowService, args: &[&str]) -> (Output, String, String) {
    let mut cmd: Command = aep_flow("connections");
    with_platform(&mut cmd, fake);
    let out = cmd.args(args).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(
        !stdout.contains("canary") && !stderr.contains("canary"),
        "leak: {stdout} {stderr}"
    );
    (out, stdout, stderr)
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn insert(fake: &FakeFlowService, name: &str) -> String {
    fake.insert_connection(
        name,
        CONNECTION_STRING_AUTH,
        json!({"connectionString": format!("Server=db;Database=d;Port=5432;UID=u;Password={STORED_CANARY}")}),
    )
}

#[test]
fn list_prints_one_object_per_connection_across_pages() {
    let fake = FakeFlowService::builder().max_page_size(2).start().unwrap();
    let ids: Vec<String> = (0..5).map(|i| insert(&fake, &format!("c{i}"))).collect();
    let (out, stdout, stderr) = run(&fake, &["list"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let items = lines(&stdout);
    assert_eq!(items.len(), 5);
    for (item, id) in items.iter().zip(&ids) {
        assert_eq!(item["id"], id.as_str());
        assert_eq!(item["state"], "enabled");
        assert!(item["etag"].as_str().unwrap().starts_with('"'));
        let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4, "{item}");
    }
    let (_, stdout, _) = run(&fake, &["list", "--name", "c3"]);
    let items = lines(&stdout);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "c3");
}

#[test]
fn get_never_prints_an_auth_parameter() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert(&fake, "orders");
    let (out, stdout, stderr) = run(&fake, &["get", &id]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v = &lines(&stdout)[0];
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["name"], "orders");
    assert_eq!(v["state"], "enabled");
    assert_eq!(v["etag"], fake.connections()[0].etag.as_str());
    assert!(
        !stdout.contains("Password") && !stdout.contains("params"),
        "{stdout}"
    );

    let (out, _, stderr) = run(&fake, &["get", "missing-id"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("not found") && stderr.contains("404"),
        "{stderr}"
    );
}

#[test]
fn get_writes_its_keys_in_camel_case_like_pipeline() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert(&fake, "orders");
    let (out, stdout, stderr) = run(&fake, &["get", &id]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v = &lines(&stdout)[0];
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for key in ["connectionSpecId", "authSpecName", "createdAt", "updatedAt"] {
        assert!(keys.contains(&key), "{key} missing: {stdout}");
    }
    assert!(keys.iter().all(|k| !k.contains('_')), "{stdout}");
    assert_eq!(
        v["connectionSpecId"],
        aep_flow::spec::POSTGRES_CONNECTION_SPEC_ID
    );
    assert_eq!(v["authSpecName"], CONNECTION_STRING_AUTH);
}

#[test]
fn list_says_on_stderr_when_it_stopped_at_the_item_cap() {
    let fake = FakeFlowService::start().unwrap();
    for i in 0..10_001 {
        insert(&fake, &format!("c{i}"));
    }
    let (out, stdout, stderr) = run(&fake, &["list"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), 10_000);
    assert!(stderr.contains("item cap of 10000"), "{stderr}");
    assert!(stderr.contains("--name"), "{stderr}");
    // Under the cap: nothing said.
    let (out, stdout, stderr) = run(&fake, &["list", "--name", "c7"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), 1);
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn test_prints_the_result() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert(&fake, "orders");
    fake.modify_connection(&id, |c| c.test_result = false);
    let (out, stdout, _) = run(&fake, &["test", &id]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout.trim(), r#"{"result":false}"#);
}

#[test]
fn delete_is_silent_on_success_and_exit_1_with_the_status_otherwise() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert(&fake, "orders");
    let (out, stdout, stderr) = run(&fake, &["delete", &id]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.is_empty());
    assert!(fake.connections().is_empty());
    let (out, stdout, stderr) = run(&fake, &["delete", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.is_empty());
    assert!(stderr.contains("404"), "{stderr}");
}

#[test]
fn ensure_creates_then_finds() {
    let fake = FakeFlowService::start().unwrap();
    let (out, stdout, stderr) = run(&fake, &["ensure", "--name", "nightly", "--auth", "basic"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let first = &lines(&stdout)[0];
    assert_eq!(first["created"], true);
    assert!(stdout.starts_with("{\"id\":"), "{stdout}");
    let (_, stdout, _) = run(&fake, &["ensure", "--name", "nightly"]);
    let second = &lines(&stdout)[0];
    assert_eq!(second["created"], false);
    assert_eq!(second["id"], first["id"]);
    assert_eq!(fake.connections().len(), 1);
    assert_eq!(fake.connections()[0].spec_name, BASIC_AUTH);
}

#[test]
fn rotate_password_uses_pgpassword_and_the_connections_own_spec() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert(&fake, "orders");
    let mut cmd: Command = aep_flow("connections");
    with_platform(&mut cmd, &fake);
    let out = cmd
        .env("PGSSLMODE", "require")
        .args(["rotate-password", &id])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v = &lines(&stdout)[0];
    let stored = &fake.connections()[0];
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["etag"], stored.etag.as_str());
    // with_platform sets PGPASSWORD=pw-canary-4411 (the new password).
    assert_eq!(
        stored.params["connectionString"],
        "Server=db.internal;Database=orders;Port=5432;UID=reader;Password=pw-canary-4411;EncryptionMethod=1;ValidateServerCertificate=0"
    );
}

#[test]
fn bad_input_is_exit_2_and_sends_nothing() {
    let fake = FakeFlowService::start().unwrap();
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["get"],
        vec!["get", "a", "b"],
        vec!["get", "../../x"],
        vec!["ensure"],
        vec!["list", "--bogus"],
        vec!["delete", "a b"],
        vec!["get", "abc", "--auth", "basic"],
        vec!["list", "--auth", "basic"],
    ] {
        let (out, stdout, stderr) = run(&fake, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty());
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn a_service_failure_is_exit_1() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(Reply::json(
        403,
        r#"{"error_code":"403027","message":"User region is missing"}"#,
    ));
    let (out, _, stderr) = run(&fake, &["list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("403") && stderr.contains("403027"),
        "{stderr}"
    );
}

#[test]
fn a_reader_that_goes_away_is_exit_1_not_a_quiet_end() {
    // `connections list | head -1`: far more output than a pipe holds, so
    // the CLI is still writing when the reader leaves.
    let fake = FakeFlowService::start().unwrap();
    let long = "n".repeat(200);
    for i in 0..1500 {
        insert(&fake, &format!("{long}-{i}"));
    }
    let mut cmd: Command = aep_flow("connections");
    with_platform(&mut cmd, &fake);
    let mut child = cmd
        .arg("list")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert!(first.starts_with("{\"id\":"), "{first}");
    drop(reader);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // What was printed is not the whole answer: a script must not take it
    // for one.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("standard output was closed"), "{stderr}");
    // It stopped listing once nobody read: not all 30 pages were fetched.
    assert!(fake.requests().len() < 30, "{}", fake.requests().len());
}

#[test]
fn a_stdout_whose_reader_is_already_gone_is_exit_1_for_every_command() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert(&fake, "one");
    for args in [&["list"][..], &["get", &id], &["test", &id]] {
        // A pipe whose read end is closed before the command even starts.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd: Command = aep_flow("connections");
        with_platform(&mut cmd, &fake);
        let out = cmd
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("standard output was closed"), "{stderr}");
        assert!(!stderr.contains("canary"), "{stderr}");
    }
    // The same for the other commands, in demo mode.
    for (program, args) in [
        ("connections create", &["--demo", "--name", "x"][..]),
        ("pipeline", &["--demo", "--help"][..]),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = aep_flow(program)
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{program}: {stderr}");
    }
}

#[test]
fn timeout_bounds_the_whole_command_retries_included() {
    let fake = FakeFlowService::start().unwrap();
    for _ in 0..4 {
        fake.push_reply(Reply::silent(Duration::from_secs(30)));
    }
    let started = Instant::now();
    let (out, stdout, stderr) = run(&fake, &["list", "--timeout", "2"]);
    let took = started.elapsed();
    eprintln!("connections list --timeout 2 against a silent service took {took:?}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("timed out"), "{stderr}");
    // Per attempt, the list (a GET, retried) would take 4 x 2 s plus backoff.
    assert!(took < Duration::from_secs(5), "{took:?}: {stderr}");
}

#[test]
fn rotate_password_refuses_without_pgsslmode_and_sends_nothing() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert(&fake, "orders");
    let before = fake.connections()[0].clone();
    let (out, stdout, stderr) = run(&fake, &["rotate-password", &id]);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("PGSSLMODE"), "{stderr}");
    // Demo mode too.
    let mut cmd = aep_flow("connections");
    let out = cmd
        .args([
            "rotate-password",
            "00000000-0000-4000-8000-000000000001",
            "--demo",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("PGSSLMODE"), "{stderr}");
    // Garbled is not "set".
    let mut cmd = aep_flow("connections");
    with_platform(&mut cmd, &fake);
    let out = cmd
        .env("PGSSLMODE", "")
        .args(["rotate-password", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("PGSSLMODE"));
    assert!(fake.requests().is_empty(), "nothing may be sent");
    assert_eq!(fake.connections()[0].params, before.params);

    let out = aep_flow("connections").arg("--help").output().unwrap();
    let (help, _) = text(&out);
    assert!(
        help.contains("replaces ALL of the connection's parameters (host, port, database, user,")
            && help.contains("password, SSL mode)")
            && help.contains("unless PGSSLMODE is set"),
        "{help}"
    );
}

fn explore_fake() -> (FakeFlowService, String) {
    let fake = FakeFlowService::start().unwrap();
    let id = insert(&fake, "pg");
    fake.set_catalog(
        &id,
        vec![
            aep_flow_testing::FakeTable::new("public.orders")
                .column("id", "integer")
                .column_with_format("updated_at", "string", "date-time")
                .row(json!({"id": 1, "updated_at": "2024-01-01T00:00:00Z"})),
            aep_flow_testing::FakeTable::new("sales.\"odd table\".ü&#%").column("flag", "boolean"),
        ],
    );
    (fake, id)
}

#[test]
fn explore_prints_one_line_per_table() {
    let (fake, id) = explore_fake();
    let (out, stdout, stderr) = run(&fake, &["explore", &id]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let items = lines(&stdout);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["path"], "public.orders");
    assert_eq!(items[0]["name"], "public.orders");
    assert_eq!(items[0]["type"], "table");
    assert_eq!(items[0]["canPreview"], true);
    assert_eq!(items[1]["path"], "sales.\"odd table\".ü&#%");
}

#[test]
fn explore_table_prints_columns_and_preview_adds_rows() {
    let (fake, id) = explore_fake();
    let (out, stdout, stderr) = run(&fake, &["explore", &id, "--table", "public.orders"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let items = lines(&stdout);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["path"], "public.orders");
    assert_eq!(items[0]["columns"][0]["name"], "id");
    assert_eq!(items[0]["columns"][0]["type"], "integer");
    assert_eq!(items[0]["columns"][1]["xdm"]["format"], "date-time");
    assert!(items[0].get("rows").is_none(), "{stdout}");

    let (out, stdout, stderr) = run(
        &fake,
        &[
            "explore",
            "--preview",
            &id,
            "--table",
            "sales.\"odd table\".ü&#%",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let items = lines(&stdout);
    assert_eq!(items[0]["columns"][0]["type"], "boolean");
    assert_eq!(items[0]["rows"], json!([]));
    let (_, stdout, _) = run(
        &fake,
        &["explore", &id, "--table", "public.orders", "--preview"],
    );
    assert_eq!(lines(&stdout)[0]["rows"][0]["id"], 1);
}

#[test]
fn explore_failures_and_bad_usage() {
    let (fake, id) = explore_fake();
    let (out, stdout, stderr) = run(&fake, &["explore", &id, "--table", "public.nope"]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("404") && stderr.contains("public.nope"),
        "{stderr}"
    );
    let sent = fake.requests().len();
    for args in [
        vec!["explore", &id, "--preview"],
        vec!["explore"],
        vec!["explore", "a/b"],
        vec!["explore", &id, "--table", ""],
        vec!["get", &id, "--table", "public.orders"],
    ] {
        let (out, _, stderr) = run(&fake, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    }
    assert_eq!(fake.requests().len(), sent, "nothing may be sent");
}

#[test]
fn explore_in_demo_mode_shows_the_demo_catalog() {
    let demo = |args: &[&str]| {
        let out = aep_flow("connections")
            .arg("--demo")
            .args(args)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        lines(&stdout)
    };
    let id = "00000000-0000-4000-8000-000000000001";
    let tables = demo(&["explore", id]);
    let paths: Vec<&str> = tables.iter().map(|t| t["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["public.orders", "public.customers"]);
    let cols = demo(&["explore", id, "--table", "public.orders"]);
    let names: Vec<&str> = cols[0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["id", "customer", "amount", "updated_at"]);
    let preview = demo(&["explore", id, "--table", "public.orders", "--preview"]);
    assert_eq!(preview[0]["rows"].as_array().unwrap().len(), 3);
}
