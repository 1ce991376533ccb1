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

/// Runs `cmd` to its end, killing it (and failing) after 20 s: a run
/// blocked on a FIFO fails the test instead of hanging it.
fn within_20s(cmd: &mut std::process::Command) -> Output {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("still running after 20 s (blocked reading the file?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn only_a_regular_file_is_read() {
    let dir = TempDir::new("project-kinds");
    let fifo = dir.0.join("fifo.toml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let cases = [
        (fifo.clone(), "is a FIFO (named pipe), not a regular file"),
        (dir.0.clone(), "is a directory, not a regular file"),
        (
            PathBuf::from("/dev/zero"),
            "is a device, not a regular file",
        ),
        (
            PathBuf::from("/dev/null"),
            "is a device, not a regular file",
        ),
    ];
    for (path, want) in &cases {
        // export, plan, apply and check read the file alike.
        for words in ["export --sandbox prod", "plan", "apply", "check"] {
            let fake = FakeFlowService::start().unwrap();
            let mut cmd = aep_flow(words);
            cmd.arg("-f").arg(path);
            with_platform(&mut cmd, &fake);
            let r = finish(within_20s(&mut cmd));
            refused(
                &fake,
                &r,
                &format!(
                    "error: {}: {want} (-f names the declarative file)",
                    path.display()
                ),
            );
        }
    }
}

#[test]
fn file_names_are_shown_escaped() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("project-names");
    let bad = format!("{GOOD}colour = 1\n");
    for (name, shown) in [
        (
            &b"x\nerror: forged line\x1b[2K.toml"[..],
            "x\\nerror: forged line\\u{1b}[2K.toml",
        ),
        (&b"rtl\xe2\x80\xaelmth.toml"[..], "rtl\\u{202e}lmth.toml"),
    ] {
        let path = dir.0.join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(&path, &bad).unwrap();
        let fake = FakeFlowService::start().unwrap();
        let r = run(&fake, &path, &[], &[]);
        let want = format!(
            "error: \"{}/{shown}\":11: connections.orders-db.colour: unknown key",
            dir.0.display()
        );
        assert_eq!(r.code, Some(2), "{}", r.stderr);
        assert!(r.stderr.contains(&want), "wanted {want} in:\n{}", r.stderr);
        // One line; no raw control character, nor a replacement one.
        assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
        assert!(!r
            .stderr
            .trim_end()
            .chars()
            .any(|c| c.is_control() || c == '\u{FFFD}' || c == '\u{202E}'));
        // A missing file, likewise.
        let missing = dir
            .0
            .join(std::ffi::OsStr::from_bytes(&[name, b".gone"].concat()));
        let r = run(&fake, &missing, &[], &[]);
        assert!(
            r.stderr.contains("cannot be read: no such file"),
            "{}",
            r.stderr
        );
        assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
        assert!(!r.stderr.trim_end().chars().any(char::is_control));
        assert!(fake.requests().is_empty());
    }
    // A name that is not UTF-8 cannot be given (arguments are UTF-8),
    // and is not echoed.
    let fake = FakeFlowService::start().unwrap();
    let garbled_name = dir.0.join(std::ffi::OsStr::from_bytes(b"bad\xff\xfe.toml"));
    let r = run(&fake, &garbled_name, &[], &[]);
    refused(&fake, &r, "error: argument 5 is not valid UTF-8");
    assert!(!r.stderr.contains("bad"), "{}", r.stderr);
    // The --sandbox error of plan names the file the same way.
    let path = dir.0.join(std::ffi::OsStr::from_bytes(b"p\x07.toml"));
    std::fs::write(&path, GOOD).unwrap();
    let fake = FakeFlowService::start().unwrap();
    let mut cmd = aep_flow("plan --sandbox dev -f");
    cmd.arg(&path);
    let r = finish(cmd.output().unwrap());
    refused(
        &fake,
        &r,
        &format!(
            "--sandbox \"dev\": \"{}/p\\u{{7}}.toml\" declares no such sandbox (it declares prod)",
            dir.0.display()
        ),
    );
}

#[test]
fn password_env_and_password_keys_never_echo_the_value() {
    let dir = TempDir::new("project-pwenv");
    for (from, to, want) in [
        // The password pasted where its variable's name goes.
        (
            "password_env = \"ORDERS_DB_PASSWORD\"",
            format!("password_env = \"{CANARY}\""),
            ":10: connections.orders-db.password_env: must name an environment variable, [A-Z_][A-Z0-9_]*",
        ),
        (
            "password_env = \"ORDERS_DB_PASSWORD\"",
            "password_env = \"orders_db_password\"".to_owned(),
            ":10: connections.orders-db.password_env: must name an environment variable",
        ),
        (
            "user = \"reader\"",
            format!("user = \"reader\"\npass = \"{CANARY}\""),
            ":10: connections.orders-db.pass: passwords come from the environment: use password_env",
        ),
        (
            "user = \"reader\"",
            format!("user = \"reader\"\npwd = \"{CANARY}\""),
            ":10: connections.orders-db.pwd: passwords come from the environment: use password_env",
        ),
    ] {
        let fake = FakeFlowService::start().unwrap();
        let file = dir.file("f.toml", GOOD.replace(from, &to).as_bytes());
        // `finish` fails on any run of four characters of the canary.
        let r = run(&fake, &file, &[], &[]);
        refused(&fake, &r, want);
        assert!(!r.stderr.contains("orders_db_password"), "{}", r.stderr);
    }
}

#[test]
fn pipelines_into_one_dataset_and_odd_names_are_refused() {
    let dir = TempDir::new("project-one-dataset");
    let p = |table: &str, dataset: &str| {
        format!("\n[[pipelines]]\nconnection = \"orders-db\"\ntable = \"{table}\"\ndataset = \"{dataset}\"\ndelta_column = \"c\"\nschedule = {{ frequency = \"day\", start = \"2026-12-01T00:00:00Z\" }}\nmappings = {{ a = \"_t.a\" }}\n")
    };
    let cases = [
        (
            format!("{GOOD}{}{}", p("public.a", "Orders"), p("public.b", "Orders")),
            ":20: pipelines[1]: writes into the same dataset as pipelines[0] (line 12) in sandbox prod: a dataset takes one dataflow",
        ),
        (
            format!("{GOOD}{}", p("public.a", "Orders ")),
            ":15: pipelines[0].dataset: must not begin or end with white space",
        ),
        (
            format!("{GOOD}{}", p(" public.a", "Orders")),
            ":14: pipelines[0].table: must not begin or end with white space",
        ),
        (
            GOOD.replace("[connections.orders-db]", "[connections.\"orders-db\\t\"]"),
            ":6: connections.\"orders-db\\t\": a connection name must not contain control characters",
        ),
        (
            GOOD.replace("[connections.orders-db]", "[connections.\"\\u00A0orders-db\"]"),
            ":6: connections.\"\\u{a0}orders-db\": a connection name must not begin or end with white space",
        ),
    ];
    for (text, want) in cases {
        let fake = FakeFlowService::start().unwrap();
        let file = dir.file("f.toml", text.as_bytes());
        let r = run(&fake, &file, &[], &[]);
        refused(&fake, &r, &format!("{}{want}", file.display()));
    }
}

#[test]
fn truncated_files_and_garbled_prefix_variables() {
    let dir = TempDir::new("project-truncated");
    for (text, line) in [
        (format!("{GOOD}\n[[pipelines]\n"), 12),
        (
            GOOD.replace("[connections.orders-db]", "[connections.orders-db"),
            6,
        ),
        (
            format!("{GOOD}\n[[pipelines]]\nschedule = {{ frequency = \"day\""),
            13,
        ),
        (GOOD[..GOOD.find("\"reader\"").unwrap() + 3].to_owned(), 9),
    ] {
        let fake = FakeFlowService::start().unwrap();
        let file = dir.file("t.toml", text.as_bytes());
        let r = run(&fake, &file, &[], &[]);
        refused(
            &fake,
            &r,
            &format!("{}:{line}: not valid TOML: ", file.display()),
        );
    }
    // A prefix variable set but empty, or not UTF-8: named, nothing sent.
    let file = dir.file("ok.toml", GOOD.as_bytes());
    for var in [
        "AEP_PROD_PLATFORM_URL",
        "AEP_PROD_API_KEY",
        "AEP_PROD_CLIENT_ID",
        "AEP_PROD_IMS_URL",
    ] {
        let fake = FakeFlowService::start().unwrap();
        let r = run(&fake, &file, &[], &[(var, "")]);
        refused(
            &fake,
            &r,
            &format!(
                "{}:3: sandboxes.prod.credentials: {var} is set but empty",
                file.display()
            ),
        );
        let mut cmd = aep_flow("export --sandbox prod -f");
        cmd.arg(&file)
            .env("AEP_PROD_ACCESS_TOKEN", fake.access_token())
            .env("AEP_PROD_API_KEY", fake.api_key())
            .env("AEP_PROD_ORG_ID", fake.org_id())
            .env("AEP_PROD_FLOW_SERVICE_URL", fake.base_url())
            .env(var, garbled(b"Fz8@\xff\xfe"));
        let r = finish(cmd.output().unwrap());
        refused(
            &fake,
            &r,
            &format!(
                "{}:3: sandboxes.prod.credentials: {var} is not valid UTF-8",
                file.display()
            ),
        );
    }
}

#[test]
fn the_help_lists_the_per_sandbox_variables() {
    for words in ["plan --help", "export --help", "--help"] {
        let out = aep_flow(words).output().unwrap();
        let (stdout, _) = text(&out);
        assert_eq!(out.status.code(), Some(0));
        for var in [
            "<PREFIX>_ACCESS_TOKEN",
            "<PREFIX>_API_KEY",
            "<PREFIX>_ORG_ID",
            "<PREFIX>_CLIENT_ID",
            "<PREFIX>_CLIENT_SECRET",
            "<PREFIX>_SCOPES",
            "<PREFIX>_IMS_URL",
            "<PREFIX>_PLATFORM_URL",
            "<PREFIX>_FLOW_SERVICE_URL",
            "<PREFIX>_SANDBOX_NAME",
            "password_env",
            "[sandboxes.NAME] credentials = \"PREFIX\"",
        ] {
            assert!(stdout.contains(var), "{words}: no {var} in:\n{stdout}");
        }
    }
}
