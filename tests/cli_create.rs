//! The `create_postgres_connection` example as a user runs it: a child
//! process with a controlled environment, against the fake on 127.0.0.1.

mod common;

use std::process::Command;

use aep_flow::testing::{FakeFlowService, Reply};
use common::{example, text, with_platform};

fn cli() -> Command {
    example("create_postgres_connection")
}

#[test]
fn demo_mode_works_with_an_empty_environment_and_demo() {
    let out = cli().args(["--name", "demo", "--demo"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["id"], "056dd1b4-da33-42f9-add1-b4da3392f94e");
    assert_eq!(v["etag"], "\"1700e582-0000-0200-0000-5e3c85180000\"");
    assert!(stdout.starts_with("{\"id\":"), "{stdout}");
    assert!(stderr.contains("fake Flow Service"), "{stderr}");
}

#[test]
fn real_mode_sends_the_environment_values() {
    let fake = FakeFlowService::builder()
        .access_token("tok-cli-7788")
        .start()
        .unwrap();
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    cmd.env("PGPORT", "6543").env("PGSSLMODE", "verify-full");
    let out = cmd
        .args([
            "--name",
            "orders",
            "--description",
            "from cron",
            "--auth",
            "basic",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("fake"),
        "no demo note in real mode: {stderr}"
    );
    assert!(stdout.contains("9f3c8b2e"), "{stdout}");
    let req = &fake.requests()[0];
    assert_eq!(req.header("x-api-key"), Some("cli-key"));
    assert_eq!(req.header("x-gw-ims-org-id"), Some("CLI@AdobeOrg"));
    let body = req.json();
    assert_eq!(body["description"], "from cron");
    let p = &body["auth"]["params"];
    assert_eq!(
        (
            p["server"].as_str(),
            p["port"].as_str(),
            p["database"].as_str()
        ),
        (Some("db.internal"), Some("6543"), Some("orders"))
    );
    assert_eq!(p["password"], "pw-canary-4411");
    assert_eq!(p["sslMode"], "Verify-Full");
}

#[test]
fn a_partial_platform_environment_is_exit_2_naming_the_missing() {
    let fake = FakeFlowService::start().unwrap();
    let out = cli()
        .env("AEP_ACCESS_TOKEN", "tok")
        .env("AEP_SANDBOX_NAME", "prod")
        .env("AEP_FLOW_SERVICE_URL", fake.base_url())
        .args(["--name", "x"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("AEP_API_KEY") && stderr.contains("AEP_ORG_ID"),
        "{stderr}"
    );
    assert!(!stderr.contains("set AEP_ACCESS_TOKEN"), "{stderr}");
    assert!(fake.requests().is_empty());
}

#[test]
fn bad_usage_and_bad_input_are_exit_2_and_send_nothing() {
    let fake = FakeFlowService::start().unwrap();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec![], vec![], "--name is required"),
        (vec!["--name", "x", "--bogus"], vec![], "unknown argument"),
        (vec!["--name", "x", "--auth", "kerberos"], vec![], "--auth"),
        (vec!["--name", "x", "--timeout", "-1"], vec![], "--timeout"),
        (vec!["--name", "x"], vec![("PGPORT", "70000")], "PGPORT"),
        (vec!["--name", "x"], vec![("PGSSLMODE", "on")], "PGSSLMODE"),
        (vec!["--name", "x"], vec![("PGPASSWORD", "")], "PGPASSWORD"),
        (
            vec!["--name", "x"],
            vec![("PGPASSWORD", "a\tb")],
            "postgres.password",
        ),
        (
            vec!["--name", "x"],
            vec![("AEP_FLOW_SERVICE_URL", "http://example.com/x")],
            "platform.base_url",
        ),
    ];
    for (args, env, expect) in cases {
        let mut cmd = cli();
        with_platform(&mut cmd, &fake);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = cmd.args(&args).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stdout.is_empty());
        assert!(stderr.contains(expect), "{args:?} {env:?}: {stderr}");
    }
    assert!(fake.requests().is_empty(), "nothing may be sent");
}

#[test]
fn a_service_error_is_exit_1_with_status_code_message_and_request_id() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(
        Reply::json(
            400,
            r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1415-400","title":"Bad Request","report":{"detailed-message":"Invalid connection string for pw-canary-4411","request-id":"req-abc"}}"#,
        ),
    );
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    let out = cmd.args(["--name", "x"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.is_empty());
    for part in [
        "400",
        "FLOW-1415-400",
        "Invalid connection string",
        "req-abc",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    assert!(
        !stderr.contains("canary"),
        "the echoed password leaked: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn an_unreachable_service_is_exit_1() {
    // Port 1 (tcpmux): nothing listens there.
    let fake = FakeFlowService::start().unwrap();
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    cmd.env("AEP_FLOW_SERVICE_URL", "http://127.0.0.1:1/x");
    let out = cmd.args(["--name", "x"]).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("could not connect"), "{stderr}");
}

#[test]
fn a_multi_line_service_message_is_one_line_on_stderr() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(Reply::json(
        400,
        r#"{"error_code":"400000","message":"first line
second line
[31mred[0m	tabbed"}"#,
    ));
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    let out = cmd.args(["--name", "x"]).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        !stderr.contains('\u{1b}'),
        "an escape sequence reached the terminal: {stderr:?}"
    );
    assert!(
        stderr.contains("first line second line [31mred[0m tabbed"),
        "{stderr:?}"
    );
}

#[test]
fn a_silent_service_is_exit_1_after_the_timeout() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(Reply::silent(std::time::Duration::from_secs(20)));
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    let started = std::time::Instant::now();
    let out = cmd
        .args(["--name", "x", "--timeout", "1"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty());
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    assert!(stderr.contains("timed out"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn a_long_retry_after_is_exit_1_naming_it() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(
        Reply::new(429)
            .header("Retry-After", "3600")
            .header("x-request-id", "rl-1"),
    );
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    let out = cmd.args(["--name", "x"]).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("429") && stderr.contains("Retry-After 3600 s") && stderr.contains("rl-1"),
        "{stderr}"
    );
}

/// Peak RSS (KiB) of the CLI as a whole process, by GNU time, which reads
/// the child's own high-water mark.
fn peak_kib(fake: &FakeFlowService) -> (Option<i32>, u64) {
    let bin = cli().get_program().to_owned();
    let mut cmd = Command::new("/usr/bin/time");
    cmd.env_clear()
        .args(["-f", "%M"])
        .arg(bin)
        .args(["--name", "x"]);
    with_platform(&mut cmd, fake);
    let out = cmd
        .output()
        .expect("GNU time (/usr/bin/time, Debian package `time`)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kib = stderr.lines().last().and_then(|l| l.trim().parse().ok());
    (
        out.status.code(),
        kib.unwrap_or_else(|| panic!("no %M in {stderr}")),
    )
}

#[test]
fn a_64_mib_answer_is_refused_with_bounded_memory() {
    let fake = FakeFlowService::start().unwrap();
    let (code, normal) = peak_kib(&fake);
    assert_eq!(code, Some(0));
    fake.push_reply(Reply::huge(201, 64 * 1024 * 1024));
    let (code, refusing) = peak_kib(&fake);
    assert_eq!(code, Some(1));
    eprintln!("peak RSS: normal create {normal} KiB, refusing a 64 MiB body {refusing} KiB");
    // The 1 MiB limit (and the buffer growth to reach it) is the only
    // difference allowed; reading 64 MiB would add at least 64 MiB.
    assert!(
        refusing < normal + 8 * 1024,
        "refusing a 64 MiB body cost {refusing} KiB against {normal} KiB"
    );
}
