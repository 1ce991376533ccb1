//! `aep-flow connections create` as a user runs it: a child
//! process with a controlled environment, against the fake on 127.0.0.1.

mod common;

use std::process::Command;

use std::ffi::OsStr;
use std::process::Output;

use aep_flow_testing::{FakeFlowService, Reply};
use common::{aep_flow, garbled, text, with_platform, with_postgres, TempDir, TlsServer};

fn cli() -> Command {
    aep_flow("connections create")
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
            vec![(
                "AEP_FLOW_SERVICE_URL",
                "http://example.com/data/foundation/flowservice",
            )],
            "must use https://",
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
    cmd.env(
        "AEP_FLOW_SERVICE_URL",
        "http://127.0.0.1:1/data/foundation/flowservice",
    );
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
        .args(["connections", "create", "--name", "x"]);
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

/// Runs `cmd` and checks the common shape of a refusal: exit 2, nothing on
/// stdout, no panic, `expect` in the message.
fn refused(cmd: &mut Command, expect: &str) -> String {
    let out: Output = cmd.output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{cmd:?}: {stderr}");
    assert!(stdout.is_empty(), "{cmd:?}: {stdout}");
    assert!(!stderr.contains("panicked"), "{cmd:?}: {stderr}");
    assert!(stderr.contains(expect), "{cmd:?}: want {expect}: {stderr}");
    stderr
}

#[test]
fn no_aep_variable_and_no_demo_is_exit_2_naming_what_is_needed() {
    for (program, args) in [
        ("connections create", vec!["--name", "x"]),
        ("connections", vec!["list"]),
    ] {
        // What cron gives a job whose environment failed to load.
        let mut cmd = aep_flow(program);
        cmd.env("PATH", "/usr/bin:/bin").env("HOME", "/root");
        with_postgres(&mut cmd, "pw-1");
        let stderr = refused(cmd.args(&args), "--demo");
        for var in [
            "AEP_ACCESS_TOKEN",
            "AEP_API_KEY",
            "AEP_ORG_ID",
            "AEP_SANDBOX_NAME",
        ] {
            assert!(stderr.contains(var), "{program}: {var}: {stderr}");
        }
        assert!(!stderr.contains("fake Flow Service at"), "{stderr}");
    }
}

#[test]
fn demo_with_any_aep_variable_is_ambiguous_and_exit_2_naming_it() {
    let fake = FakeFlowService::start().unwrap();
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    let stderr = refused(cmd.args(["--name", "x", "--demo"]), "--demo");
    assert!(
        stderr.contains("AEP_ACCESS_TOKEN") && stderr.contains("AEP_FLOW_SERVICE_URL"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("tok-cli-7788"),
        "a value was shown: {stderr}"
    );
    // One variable, even an empty or unknown one, is enough.
    for var in ["AEP_SANDBOX_NAME", "AEP_SOMETHING_ELSE"] {
        refused(
            aep_flow("connections")
                .env(var, "")
                .args(["list", "--demo"]),
            var,
        );
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn demo_is_a_common_option_accepted_wherever_timeout_is() {
    for args in [
        vec!["--demo", "--name", "x"],
        vec!["--name", "x", "--demo"],
        vec!["--name=x", "--timeout", "5", "--demo"],
    ] {
        let out = cli().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out).1);
    }
    for args in [
        vec!["--demo", "list"],
        vec!["list", "--demo"],
        vec!["list", "--name", "Test connection for PostgreSQL", "--demo"],
        vec!["--timeout", "5", "list", "--demo"],
        vec!["get", "00000000-0000-4000-8000-000000000001", "--demo"],
        vec![
            "test",
            "00000000-0000-4000-8000-000000000001",
            "--timeout=5",
            "--demo",
        ],
    ] {
        let out = aep_flow("connections").args(&args).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stdout.lines().count(), 1, "{args:?}: {stdout}");
    }
    refused(
        cli().args(["--name", "x", "--demo=yes"]),
        "--demo takes no value",
    );
    refused(cli().args(["--demo", "--name", "x", "--demo"]), "--demo");
}

#[test]
fn the_help_names_demo_and_the_meaning_of_timeout() {
    for program in ["connections create", "connections"] {
        let out = aep_flow(program).arg("--help").output().unwrap();
        let (stdout, _) = text(&out);
        assert_eq!(out.status.code(), Some(0));
        for part in [
            "--demo",
            "--timeout SECS  bound for the whole command, retries included",
            "SSL_CERT_FILE",
            "non-empty UTF-8",
        ] {
            assert!(stdout.contains(part), "{program}: {part}: {stdout}");
        }
        assert!(
            !stdout.contains("With no AEP_* variable set, runs against"),
            "{stdout}"
        );
    }
}

#[test]
fn a_garbled_or_empty_variable_is_exit_2_naming_it_never_a_default() {
    let fake = FakeFlowService::start().unwrap();
    for var in [
        "AEP_ACCESS_TOKEN",
        "AEP_API_KEY",
        "AEP_ORG_ID",
        "AEP_SANDBOX_NAME",
        "AEP_FLOW_SERVICE_URL",
        "PGHOST",
        "PGPORT",
        "PGDATABASE",
        "PGUSER",
        "PGPASSWORD",
        "PGSSLMODE",
        "SSL_CERT_FILE",
    ] {
        for (value, expect) in [
            (garbled(b"\xff\xfe"), "is not valid UTF-8"),
            (OsStr::new(""), "is set but empty"),
        ] {
            let mut cmd = cli();
            with_platform(&mut cmd, &fake);
            cmd.env(var, value).args(["--name", "x"]);
            let stderr = refused(&mut cmd, &format!("{var} {expect}"));
            assert!(!stderr.contains('\u{fffd}'), "{stderr}");
        }
    }
    // Not a port: never 5432 instead.
    for port in ["abc", "0", "99999", "-1", " 5432"] {
        let mut cmd = cli();
        with_platform(&mut cmd, &fake);
        refused(cmd.env("PGPORT", port).args(["--name", "x"]), "PGPORT");
    }
    // The same rules in demo mode: a set value is not replaced by a demo one.
    refused(
        cli()
            .env("PGHOST", garbled(b"db\xff"))
            .args(["--name", "x", "--demo"]),
        "PGHOST is not valid UTF-8",
    );
    refused(
        cli().env("PGPORT", "").args(["--name", "x", "--demo"]),
        "PGPORT is set but empty",
    );
    assert!(fake.requests().is_empty(), "nothing may be sent");
}

#[test]
fn a_garbled_password_is_reported_as_such_without_any_of_it() {
    let fake = FakeFlowService::start().unwrap();
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    cmd.env("PGPASSWORD", garbled(b"pw-canary-\xff-4411"))
        .args(["--name", "x"]);
    let stderr = refused(&mut cmd, "PGPASSWORD is not valid UTF-8");
    assert!(
        !stderr.contains("canary") && !stderr.contains("4411") && !stderr.contains("missing"),
        "{stderr}"
    );
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    cmd.env("AEP_ACCESS_TOKEN", garbled(b"tok-canary-\xfe"))
        .args(["--name", "x"]);
    let stderr = refused(&mut cmd, "AEP_ACCESS_TOKEN is not valid UTF-8");
    assert!(!stderr.contains("canary"), "{stderr}");
    assert!(fake.requests().is_empty());
}

#[test]
fn a_non_utf8_argument_is_exit_2_not_a_panic() {
    let fake = FakeFlowService::start().unwrap();
    for (program, args) in [
        (
            "connections create",
            vec![OsStr::new("--name"), garbled(b"x\xff")],
        ),
        (
            "connections create",
            vec![garbled(b"--name=\xc3"), OsStr::new("--demo")],
        ),
        ("connections", vec![OsStr::new("get"), garbled(b"\xff\xfe")]),
        ("connections", vec![garbled(b"\x80list")]),
    ] {
        let mut cmd = aep_flow(program);
        with_platform(&mut cmd, &fake);
        refused(cmd.args(&args), "not valid UTF-8");
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn repeated_flags_and_flags_as_values_are_exit_2_naming_the_flag() {
    let fake = FakeFlowService::start().unwrap();
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "connections create",
            vec!["--name", "a", "--name", "b"],
            "--name is given more than once",
        ),
        (
            "connections create",
            vec!["--name", "a", "--name=b"],
            "--name is given more than once",
        ),
        (
            "connections create",
            vec!["--name", "a", "--timeout", "1", "--timeout", "2"],
            "--timeout is given more than once",
        ),
        (
            "connections create",
            vec!["--name", "a", "--auth", "basic", "--auth", "basic"],
            "--auth is given more than once",
        ),
        (
            "connections create",
            vec!["--name", "--timeout", "5"],
            "--name needs a value",
        ),
        (
            "connections create",
            vec!["--name", "x", "--description", "--auth", "basic"],
            "--description needs a value",
        ),
        (
            "connections create",
            vec!["--name", "x", "--timeout"],
            "--timeout needs a value",
        ),
        (
            "connections",
            vec!["list", "--name", "a", "--name", "b"],
            "--name is given more than once",
        ),
        (
            "connections",
            vec!["--timeout", "1", "list", "--timeout", "2"],
            "--timeout is given more than once",
        ),
        (
            "connections",
            vec!["list", "--name", "--timeout", "5"],
            "--name needs a value",
        ),
        (
            "connections",
            vec!["ensure", "--name", "--description", "d"],
            "--name needs a value",
        ),
    ];
    for (program, args, expect) in cases {
        let mut cmd = aep_flow(program);
        with_platform(&mut cmd, &fake);
        refused(cmd.args(&args), expect);
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn timeout_must_be_finite_positive_at_least_a_millisecond_and_at_most_a_day() {
    let fake = FakeFlowService::start().unwrap();
    for value in [
        "1e-10", "0", "0.0", "-1", "NaN", "nan", "inf", "-inf", "1e400", "0.0009", "86401", "abc",
        "",
    ] {
        for program in ["connections create", "connections"] {
            let mut cmd = aep_flow(program);
            with_platform(&mut cmd, &fake);
            let first = if program == "connections" {
                "list"
            } else {
                "--name=x"
            };
            refused(
                cmd.arg(first).arg(format!("--timeout={value}")),
                "--timeout",
            );
        }
    }
    assert!(fake.requests().is_empty());
    for value in ["86400", "2.5"] {
        let mut cmd = cli();
        with_platform(&mut cmd, &fake);
        let out = cmd
            .args(["--name", "x", "--timeout", value])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{value}: {}", text(&out).1);
    }
    // A millisecond is accepted (and is too short to get an answer).
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    let out = cmd
        .args(["--name", "x", "--timeout", "0.001"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", text(&out).1);
}

#[test]
fn an_unusable_ssl_cert_file_is_exit_2_naming_it() {
    let fake = FakeFlowService::start().unwrap();
    let dir = TempDir::new("cli-ca");
    let missing = dir.0.join("does-not-exist.pem");
    let empty = dir.file("empty.pem", b"");
    let garbage = dir.file("garbage.pem", b"this is not a certificate\n");
    let key_only = dir.file(
        "bad.pem",
        b"-----BEGIN CERTIFICATE-----\n%%%% not base64 %%%%\n-----END CERTIFICATE-----\n",
    );
    for (path, expect) in [
        (&missing, "cannot be read"),
        (&dir.0, "cannot be read"),
        (&empty, "empty"),
        (&garbage, "CERTIFICATE"),
        (&key_only, "SSL_CERT_FILE"),
    ] {
        for (program, args) in [
            ("connections create", vec!["--name", "x"]),
            ("connections", vec!["list"]),
        ] {
            let mut cmd = aep_flow(program);
            with_platform(&mut cmd, &fake);
            let stderr = refused(cmd.env("SSL_CERT_FILE", path).args(&args), "SSL_CERT_FILE");
            assert!(stderr.contains(expect), "{path:?}: {stderr}");
        }
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn ssl_cert_file_replaces_the_built_in_roots() {
    let server = TlsServer::start();
    let run = |ca: Option<&str>| {
        let fake = FakeFlowService::start().unwrap();
        let mut cmd = cli();
        with_platform(&mut cmd, &fake);
        cmd.env("AEP_FLOW_SERVICE_URL", server.base_url());
        if let Some(ca) = ca {
            cmd.env("SSL_CERT_FILE", ca);
        }
        cmd.args(["--name", "x", "--timeout", "10"])
            .output()
            .unwrap()
    };
    // Not in the built-in roots: refused before anything is sent.
    let out = run(None);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
    // Trusted through SSL_CERT_FILE.
    let out = run(Some(&server.cert));
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("056dd1b4-da33-42f9-add1-b4da3392f94e"),
        "{stdout}"
    );
    let log = server.rest();
    assert_eq!(log.matches("REQUEST POST").count(), 1, "{log}");
}

#[test]
fn aep_platform_url_is_the_gateway_root_and_flow_service_url_must_agree_with_it() {
    let fake = FakeFlowService::start().unwrap();
    // The root alone.
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    cmd.env_remove("AEP_FLOW_SERVICE_URL")
        .env("AEP_PLATFORM_URL", fake.platform_url());
    let out = cmd.args(["--name", "root"]).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(fake.connections().len(), 1);
    // Both, agreeing (a trailing slash is not a disagreement).
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    cmd.env("AEP_PLATFORM_URL", format!("{}/", fake.platform_url()));
    let out = cmd.args(["--name", "both"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(fake.connections().len(), 2);
    let before = fake.requests().len();
    // A Flow Service URL without the Flow Service path, and two that
    // disagree: exit 2, nothing sent.
    for (flow, root, says) in [
        (
            Some(fake.platform_url() + "/x"),
            None,
            "AEP_PLATFORM_URL instead",
        ),
        (
            Some(fake.base_url()),
            Some("http://127.0.0.1:1".to_owned()),
            "disagree",
        ),
    ] {
        let mut cmd = cli();
        with_platform(&mut cmd, &fake);
        cmd.env_remove("AEP_FLOW_SERVICE_URL");
        if let Some(f) = flow {
            cmd.env("AEP_FLOW_SERVICE_URL", f);
        }
        if let Some(r) = root {
            cmd.env("AEP_PLATFORM_URL", r);
        }
        let out = cmd.args(["--name", "x"]).output().unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
    // Garbled, empty and non-loopback plain http: exit 2, never production.
    for bad in [garbled(b"\xff\xfe"), OsStr::new("")] {
        let mut cmd = cli();
        with_platform(&mut cmd, &fake);
        cmd.env_remove("AEP_FLOW_SERVICE_URL")
            .env("AEP_PLATFORM_URL", bad);
        let out = cmd.args(["--name", "x"]).output().unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("AEP_PLATFORM_URL"), "{stderr}");
    }
    let mut cmd = cli();
    with_platform(&mut cmd, &fake);
    cmd.env_remove("AEP_FLOW_SERVICE_URL")
        .env("AEP_PLATFORM_URL", "http://platform.example");
    let out = cmd.args(["--name", "x"]).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("https"), "{stderr}");
    assert_eq!(fake.requests().len(), before, "nothing was sent");
}
