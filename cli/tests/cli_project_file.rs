//! The declarative file as a user meets it through `aep-flow export -f`:
//! every refusal is exit 2 naming the file, the line and the key, and
//! sends nothing (the fake's request log stays empty); a secret in the
//! file is never echoed.

mod common;

use std::path::PathBuf;
use std::process::Output;

use aep_flow_testing::FakeFlowService;
use common::{aep_flow, garbled, text, with_platform, TempDir};

const CANARY: &str = "Fz8@Kq3&Wn";

const GOOD: &str = "project = \"crm\"

[sandboxes.prod]
credentials = \"AEP_PROD\"

[connections.orders-db]
host = \"db.internal\"
database = \"orders\"
user = \"reader\"
password_env = \"ORDERS_DB_PASSWORD\"
";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `export --sandbox prod -f FILE` with the plain variables and the
/// prefix `AEP_PROD` pointed at the fake, plus `env`.
fn run(fake: &FakeFlowService, file: &PathBuf, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = aep_flow("export --sandbox prod -f");
    cmd.arg(file).args(extra);
    with_platform(&mut cmd, fake);
    cmd.env("AEP_PROD_ACCESS_TOKEN", fake.access_token())
        .env("AEP_PROD_API_KEY", fake.api_key())
        .env("AEP_PROD_ORG_ID", fake.org_id())
        .env("AEP_PROD_FLOW_SERVICE_URL", fake.base_url());
    for (k, v) in env {
        cmd.env(k, v);
    }
    finish(cmd.output().unwrap())
}

fn finish(out: Output) -> Run {
    let (stdout, stderr) = text(&out);
    for s in [&stdout, &stderr] {
        for w in CANARY.as_bytes().windows(4) {
            let w = std::str::from_utf8(w).unwrap();
            assert!(!s.contains(w), "a run of the canary ({w}) in:\n{s}");
        }
    }
    Run {
        code: out.status.code(),
        stdout,
        stderr,
    }
}

/// Exit 2, `error: want...`, nothing sent.
fn refused(fake: &FakeFlowService, r: &Run, want: &str) {
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains(want), "wanted {want:?} in:\n{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        fake.requests().is_empty(),
        "sent: {:?}",
        fake.requests().len()
    );
}

#[test]
fn file_rules_are_refused_before_anything_is_sent() {
    let dir = TempDir::new("project-file");
    let cases: Vec<(String, String)> = vec![
        (
            GOOD.replace("user = \"reader\"", &format!("user = \"reader\"\npassword = \"{CANARY}\"")),
            ":10: connections.orders-db.password: passwords come from the environment: use password_env".into(),
        ),
        (
            GOOD.replace("user = \"reader\"", &format!("password = \"{CANARY}")),
            ":9: not valid TOML".into(),
        ),
        (
            GOOD.replace("[sandboxes.prod]", "[sandboxes.prod]\nregion = \"eu\""),
            ":4: sandboxes.prod.region: unknown key".into(),
        ),
        (
            GOOD.replace("project = \"crm\"\n", ""),
            ":1: project: is required".into(),
        ),
        (
            GOOD.replace("\"AEP_PROD\"", "\"aep_prod\""),
            ":4: sandboxes.prod.credentials: must be an environment prefix".into(),
        ),
        (
            format!(
                "{GOOD}\n[[pipelines]]\nconnection = \"nope\"\ntable = \"t\"\ndataset = \"D\"\ndelta_column = \"c\"\nschedule = {{ frequency = \"day\", start = \"2026-12-01T00:00:00Z\" }}\nmappings = {{ a = \"_t.a\" }}\n"
            ),
            ":13: pipelines[0].connection: names no [connections.NAME] of this file".into(),
        ),
        (
            format!(
                "{GOOD}\n[[pipelines]]\nconnection = \"orders-db\"\ntable = \"t\"\ndataset = \"D\"\ndelta_column = \"c\"\nschedule = {{ frequency = \"minute\", interval = 5, start = \"2026-12-01T00:00:00Z\" }}\nmappings = {{ a = \"_t.a\" }}\n"
            ),
            ":17: pipelines[0].schedule.interval: must be at least 15 for frequency minute".into(),
        ),
        (
            format!(
                "{GOOD}\n[[pipelines]]\nconnection = \"orders-db\"\ntable = \"t\"\ndataset = \"D\"\ndelta_column = \"c\"\nschedule = {{ frequency = \"day\", start = \"2026-02-29T00:00:00Z\" }}\nmappings = {{ a = \"_t.a\" }}\n"
            ),
            ":17: pipelines[0].schedule.start: has a day that does not exist in that month".into(),
        ),
    ];
    for (i, (contents, want)) in cases.iter().enumerate() {
        let fake = FakeFlowService::start().unwrap();
        let file = dir.file(&format!("f{i}.toml"), contents.as_bytes());
        let r = run(&fake, &file, &[], &[]);
        refused(&fake, &r, &format!("{}{want}", file.display()));
    }
}

#[test]
fn duplicate_pipelines_name_both_lines() {
    let dir = TempDir::new("project-dup");
    let p = "\n[[pipelines]]\nconnection = \"orders-db\"\ntable = \"public.\\\"Ünï\\\"\"\ndataset = \"D\"\ndelta_column = \"c\"\nschedule = { frequency = \"day\", start = \"2026-12-01T00:00:00Z\" }\nmappings = { a = \"_t.a\" }\n";
    let fake = FakeFlowService::start().unwrap();
    let file = dir.file("dup.toml", format!("{GOOD}{p}{p}").as_bytes());
    let r = run(&fake, &file, &[], &[]);
    refused(
        &fake,
        &r,
        ":20: pipelines[1]: declares the same (connection, table, dataset) as pipelines[0] (line 12) in sandbox prod",
    );
}

#[test]
fn hostile_files() {
    let dir = TempDir::new("project-hostile");
    // A garbled byte: named by line, never echoed.
    let mut bytes = GOOD.replace("reader", &format!("r{CANARY}")).into_bytes();
    let line_of_user = 9;
    let pos = bytes.windows(4).position(|w| w == b"user").unwrap() + 9;
    bytes[pos] = 0xff;
    let fake = FakeFlowService::start().unwrap();
    let file = dir.file("garbled.toml", &bytes);
    let r = run(&fake, &file, &[], &[]);
    refused(
        &fake,
        &r,
        &format!(
            "{}:{line_of_user}: the file is not valid UTF-8",
            file.display()
        ),
    );
    assert!(!r.stderr.contains('\u{FFFD}'));

    // NUL bytes.
    let fake = FakeFlowService::start().unwrap();
    let file = dir.file(
        "nul.toml",
        GOOD.replace("orders\"", "ord\0ers\"").as_bytes(),
    );
    let r = run(&fake, &file, &[], &[]);
    refused(&fake, &r, ":8: not valid TOML");

    // Too large.
    let fake = FakeFlowService::start().unwrap();
    let mut big = GOOD.to_owned();
    big.push_str(&"#".repeat(5 * 1024 * 1024));
    let file = dir.file("big.toml", big.as_bytes());
    let r = run(&fake, &file, &[], &[]);
    refused(&fake, &r, "is larger than 4 MiB");

    // -f naming no file.
    let fake = FakeFlowService::start().unwrap();
    let missing = dir.0.join("missing.toml");
    let r = run(&fake, &missing, &[], &[]);
    refused(
        &fake,
        &r,
        &format!("{}: cannot be read: no such file", missing.display()),
    );

    // BOM and CRLF are fine.
    let fake = FakeFlowService::start().unwrap();
    let file = dir.file(
        "crlf.toml",
        format!("\u{FEFF}{}", GOOD.replace('\n', "\r\n")).as_bytes(),
    );
    let r = run(&fake, &file, &[], &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("credentials = \"AEP_PROD\""));
}

#[test]
fn per_sandbox_credentials_are_named_with_the_file_line() {
    let dir = TempDir::new("project-creds");
    let file = dir.file("creds.toml", GOOD.as_bytes());
    let show = file.display().to_string();

    // A missing variable: named, with the sandbox's line and key.
    let fake = FakeFlowService::start().unwrap();
    let mut cmd = aep_flow("export --sandbox prod -f");
    cmd.arg(&file)
        .env("AEP_PROD_ACCESS_TOKEN", CANARY)
        .env("AEP_PROD_API_KEY", "k")
        .env("AEP_PROD_FLOW_SERVICE_URL", fake.base_url());
    let r = finish(cmd.output().unwrap());
    refused(
        &fake,
        &r,
        &format!("{show}:3: sandboxes.prod.credentials: AEP_PROD_ORG_ID is not set"),
    );

    // None set.
    let mut cmd = aep_flow("export --sandbox prod -f");
    cmd.arg(&file);
    let r = finish(cmd.output().unwrap());
    refused(&fake, &r, &format!("{show}:3: sandboxes.prod.credentials: no credentials for sandbox prod: set AEP_PROD_ACCESS_TOKEN"));

    // IMS half-set.
    let mut cmd = aep_flow("export --sandbox prod -f");
    cmd.arg(&file)
        .env("AEP_PROD_CLIENT_ID", "id")
        .env("AEP_PROD_CLIENT_SECRET", CANARY)
        .env("AEP_PROD_ORG_ID", "o@AdobeOrg");
    let r = finish(cmd.output().unwrap());
    refused(
        &fake,
        &r,
        "sandboxes.prod.credentials: AEP_PROD_SCOPES is not set",
    );

    // A sandbox variable that names another sandbox.
    let r = run(&fake, &file, &[], &[("AEP_PROD_SANDBOX_NAME", "dev")]);
    refused(
        &fake,
        &r,
        &format!(
            "{show}:3: sandboxes.prod.credentials: AEP_PROD_SANDBOX_NAME is set to another sandbox"
        ),
    );

    // Empty and garbled variables.
    let r = run(&fake, &file, &[], &[("AEP_PROD_ORG_ID", "")]);
    refused(
        &fake,
        &r,
        "sandboxes.prod.credentials: AEP_PROD_ORG_ID is set but empty",
    );
    let mut cmd = aep_flow("export --sandbox prod -f");
    cmd.arg(&file)
        .env("AEP_PROD_ACCESS_TOKEN", garbled(b"tok\xff\xfe"))
        .env("AEP_PROD_API_KEY", "k")
        .env("AEP_PROD_ORG_ID", "o");
    let r = finish(cmd.output().unwrap());
    refused(&fake, &r, "AEP_PROD_ACCESS_TOKEN is not valid UTF-8");
    assert!(!r.stderr.contains("tok"));

    // Set and right: the file's prefix is used (AEP_* point elsewhere).
    let r = run(
        &fake,
        &file,
        &[],
        &[(
            "AEP_FLOW_SERVICE_URL",
            "https://127.0.0.1:9/data/foundation/flowservice",
        )],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!fake.requests().is_empty());
    for req in fake.requests() {
        let sandbox = req.headers.iter().find(|(k, _)| k == "x-sandbox-name");
        assert_eq!(sandbox.map(|(_, v)| v.as_str()), Some("prod"));
    }
}

#[test]
fn plain_variables_when_the_file_does_not_declare_the_sandbox() {
    let dir = TempDir::new("project-plain");
    let fake = FakeFlowService::start().unwrap();
    // AEP_SANDBOX_NAME (prod) must agree with --sandbox.
    let mut cmd = aep_flow("export --sandbox dev");
    with_platform(&mut cmd, &fake);
    cmd.current_dir(&dir.0);
    let r = finish(cmd.output().unwrap());
    refused(
        &fake,
        &r,
        "AEP_SANDBOX_NAME names another sandbox than --sandbox dev",
    );

    let mut cmd = aep_flow("export --sandbox Prod");
    with_platform(&mut cmd, &fake);
    let r = finish(cmd.output().unwrap());
    refused(&fake, &r, "--sandbox must be a sandbox name");

    // Unset: the sandbox is --sandbox.
    let mut cmd = aep_flow("export --sandbox prod");
    with_platform(&mut cmd, &fake);
    cmd.env_remove("AEP_SANDBOX_NAME").current_dir(&dir.0);
    let r = finish(cmd.output().unwrap());
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("[sandboxes.prod]\ncredentials = \"AEP\""),
        "{}",
        r.stdout
    );
}
