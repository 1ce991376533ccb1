//! The `connections` example as a user runs it, against the stateful fake.

mod common;

use std::process::{Command, Output};

use aep_flow::testing::{FakeFlowService, Reply};
use aep_flow::{BASIC_AUTH, CONNECTION_STRING_AUTH};
use common::{example, text, with_platform};
use serde_json::{json, Value};

const STORED_CANARY: &str = "stored-canary-pw-Lk3";

fn run(fake: &FakeFlowService, args: &[&str]) -> (Output, String, String) {
    let mut cmd: Command = example("connections");
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
    let mut cmd: Command = example("connections");
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
