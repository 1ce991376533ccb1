//! `aep-flow connections create` and `list` with OAuth Server-to-Server credentials instead of a
//! token, against the fake IMS.

mod common;

use std::process::Command;

use aep_flow_testing::{FakeFlowService, Reply, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SCOPES};
use common::{aep_flow, garbled, text, with_postgres};

fn with_ims(cmd: &mut Command, fake: &FakeFlowService, secret: &str) {
    cmd.env("AEP_CLIENT_ID", DEMO_CLIENT_ID)
        .env("AEP_CLIENT_SECRET", secret)
        .env("AEP_SCOPES", DEMO_SCOPES)
        .env("AEP_IMS_URL", fake.ims_url())
        .env("AEP_ORG_ID", "CLI@AdobeOrg")
        .env("AEP_SANDBOX_NAME", "prod")
        .env("AEP_FLOW_SERVICE_URL", fake.base_url());
    with_postgres(cmd, "pw-1");
}

fn token_requests(fake: &FakeFlowService) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.path == "/ims/token/v3")
        .count()
}

#[test]
fn both_clis_get_their_token_from_ims() {
    let fake = FakeFlowService::start().unwrap();
    let mut cmd = aep_flow("connections create");
    with_ims(&mut cmd, &fake, DEMO_CLIENT_SECRET);
    let out = cmd.args(["--name", "x"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("\"id\""));
    let create = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/connections"))
        .unwrap();
    assert_eq!(
        create.header("authorization"),
        Some("Bearer fake-ims-token-1")
    );
    assert_eq!(
        create.header("x-api-key"),
        Some(DEMO_CLIENT_ID),
        "API key defaults to the client id"
    );

    let mut cmd = aep_flow("connections");
    with_ims(&mut cmd, &fake, DEMO_CLIENT_SECRET);
    cmd.env("AEP_API_KEY", "explicit-key");
    let out = cmd.args(["list"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), 1);
    assert_eq!(token_requests(&fake), 2);
    let list = fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "GET")
        .unwrap();
    assert_eq!(list.header("x-api-key"), Some("explicit-key"));
}

#[test]
fn an_access_token_wins_over_client_credentials() {
    let fake = FakeFlowService::start().unwrap();
    let mut cmd = aep_flow("connections create");
    with_ims(&mut cmd, &fake, DEMO_CLIENT_SECRET);
    cmd.env("AEP_ACCESS_TOKEN", "static-tok")
        .env("AEP_API_KEY", "k");
    let out = cmd.args(["--name", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(token_requests(&fake), 0);
    assert_eq!(
        fake.requests()[0].header("authorization"),
        Some("Bearer static-tok")
    );
}

#[test]
fn an_ims_failure_is_exit_1_without_the_secret() {
    let fake = FakeFlowService::start().unwrap();
    let mut cmd = aep_flow("connections");
    with_ims(&mut cmd, &fake, "wrong-canary-secret");
    let out = cmd.args(["list"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("Adobe IMS") && stderr.contains("invalid_client"),
        "{stderr}"
    );
    assert!(!stderr.contains("canary"), "{stderr}");
}

#[test]
fn incomplete_client_credentials_are_exit_2_naming_the_missing() {
    let fake = FakeFlowService::start().unwrap();
    let mut cmd = aep_flow("connections create");
    with_ims(&mut cmd, &fake, DEMO_CLIENT_SECRET);
    cmd.env_remove("AEP_SCOPES").env_remove("AEP_ORG_ID");
    let out = cmd.args(["--name", "x"]).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("set AEP_SCOPES, AEP_ORG_ID"), "{stderr}");
    assert!(fake.requests().is_empty());
}

#[test]
fn an_ims_that_echoes_the_secret_does_not_reach_stderr() {
    let fake = FakeFlowService::builder()
        .ims_client(DEMO_CLIENT_ID, "echoed-canary-secret")
        .start()
        .unwrap();
    fake.push_reply(Reply::echo(400).only_for("POST"));
    let mut cmd = aep_flow("connections create");
    with_ims(&mut cmd, &fake, "echoed-canary-secret");
    let out = cmd.args(["--name", "x"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("grant_type=client_credentials"),
        "the echo is shown: {stderr}"
    );
    assert!(
        !stderr.contains("canary") && !stdout.contains("canary"),
        "{stderr}"
    );
}

#[test]
fn garbled_or_empty_ims_variables_are_exit_2_never_a_default() {
    let fake = FakeFlowService::start().unwrap();
    for var in [
        "AEP_CLIENT_ID",
        "AEP_CLIENT_SECRET",
        "AEP_SCOPES",
        "AEP_IMS_URL",
        "AEP_FLOW_SERVICE_URL",
    ] {
        for (value, expect) in [
            (garbled(b"canary-\xff\xfe"), "is not valid UTF-8"),
            (std::ffi::OsStr::new(""), "is set but empty"),
        ] {
            for (program, args) in [
                ("connections create", vec!["--name", "x"]),
                ("connections", vec!["list"]),
            ] {
                let mut cmd = aep_flow(program);
                with_ims(&mut cmd, &fake, DEMO_CLIENT_SECRET);
                let out = cmd.env(var, value).args(&args).output().unwrap();
                let (stdout, stderr) = text(&out);
                assert_eq!(out.status.code(), Some(2), "{program} {var}: {stderr}");
                assert!(stdout.is_empty());
                assert!(
                    stderr.contains(&format!("{var} {expect}")),
                    "{program} {var}: {stderr}"
                );
                assert!(!stderr.contains("canary"), "{stderr}");
            }
        }
    }
    assert!(fake.requests().is_empty(), "no token request, no call");
}
