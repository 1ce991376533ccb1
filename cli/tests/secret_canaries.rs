//! Secrets the service echoes, in every kind of answer, never reach
//! stdout or stderr of `plan`, `apply`, `apply --json`, `export`, `check`
//! and `check --json`: the database password (from `password_env`) and
//! the access token, echoed in error answers to reads (which carry no
//! secret, so the library has no reason to scrub them) and in run errors.

mod common;
mod project_support;

use aep_flow_testing::{FakeFlowService, FakeRun, Reply};
use project_support::{fake, head, pipeline, Project, DB_PASSWORD};
use serde_json::json;

/// No run of six characters of `secret` in `text`.
fn assert_no_run_of(secret: &str, text: &str, what: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for run in chars.windows(6) {
        let run: String = run.iter().collect();
        assert!(!text.contains(&run), "{what}: {run:?} leaked:\n{text}");
    }
}

/// An error answer that echoes both secrets, as a service that quotes
/// what it was configured with might.
fn echoing(status: u16, token: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "type": "https://ns.adobe.com/aep/errors/FLOW-1999-400",
            "title": format!("connection Password={DB_PASSWORD} refused"),
            "report": {"detailed-message": format!("login with {DB_PASSWORD} and Bearer {token} failed")},
            "message": format!("pwd {DB_PASSWORD}; token {token}"),
        })
        .to_string(),
    )
}

fn commands() -> [&'static str; 6] {
    [
        "plan",
        "apply",
        "apply --json",
        "export --sandbox dev",
        "check",
        "check --json",
    ]
}

/// Runs `words` on `project`, asserting no run of a canary in its output.
fn run_clean(project: &Project, words: &str, fake: &FakeFlowService) -> project_support::Run {
    let r = project.run(words, fake);
    let token = fake.access_token().to_owned();
    for secret in [DB_PASSWORD, token.as_str()] {
        assert_no_run_of(secret, &r.out, &format!("{words} stdout"));
        assert_no_run_of(secret, &r.err, &format!("{words} stderr"));
    }
    r
}

#[test]
fn a_read_answered_with_an_error_echoing_the_secrets_prints_neither() {
    let project = Project::new(&format!("{}{}", head("crm"), pipeline("Orders", "")));
    // The first read of each kind answered with the echo: the flows, the
    // runs, the connections, the datasets, the source and target
    // connections, Catalog's explore.
    for path in [
        "/flows",
        "/runs",
        "/connections",
        "/dataSets",
        "/sourceConnections",
        "/targetConnections",
        "/explore",
        "/flowSpecs",
    ] {
        for words in commands() {
            // A fresh fake each time: a reply a command did not consume
            // would otherwise answer the next one.
            let fake = fake();
            project.run("apply", &fake).expect(0);
            let token = fake.access_token().to_owned();
            fake.push_reply(echoing(400, &token).only_for("GET").only_for_path(path));
            run_clean(&project, words, &fake);
        }
    }
}

#[test]
fn a_write_answered_with_an_error_echoing_the_password_prints_none_of_it() {
    let project = Project::new(&format!("{}{}", head("crm"), pipeline("Orders", "")));
    for path in [
        "/sourceConnections",
        "/targetConnections",
        "/flows",
        "/mappingSets",
    ] {
        for words in ["apply", "apply --json"] {
            let fake = fake();
            let token = fake.access_token().to_owned();
            fake.push_reply(echoing(400, &token).only_for("POST").only_for_path(path));
            let r = run_clean(&project, words, &fake);
            assert_eq!(r.code, 1, "{words} {path}: {}{}", r.out, r.err);
        }
    }
}

#[test]
fn run_errors_echoing_the_secrets_are_scrubbed_in_check() {
    let fake = fake();
    let project = Project::new(&format!("{}{}", head("crm"), pipeline("Orders", "")));
    project.run("apply", &fake).expect(0);
    let token = fake.access_token().to_owned();
    for sandbox in ["dev", "prod"] {
        let s = fake.sandbox(sandbox);
        let flow = s.flows()[0].id.clone();
        s.add_run(
            &flow,
            FakeRun::new("failed").with_error(
                format!("CODE-{DB_PASSWORD}"),
                format!("password {DB_PASSWORD} rejected; Bearer {token}"),
            ),
        );
    }
    for words in ["check", "check --json", "check --retrigger 1"] {
        let r = run_clean(&project, words, &fake);
        assert_eq!(r.code, 3, "{words}: {}{}", r.out, r.err);
    }
}

/// One sandbox signs in through IMS with a client secret, the other with
/// a token: the other sandbox's service echoing the client secret (with
/// the password and its own token) in run errors and error answers
/// prints none of them.
#[test]
fn another_sandboxs_client_secret_echoed_is_scrubbed_too() {
    const CLIENT_SECRET: &str = "cs-Canary-Wq7Rt5";
    let project = Project::new(&format!("{}{}", head("crm"), pipeline("Orders", "")));
    let start = || {
        let fake = FakeFlowService::builder()
            .ims_client(aep_flow_testing::DEMO_CLIENT_ID, CLIENT_SECRET)
            .start()
            .unwrap();
        for (i, sandbox) in ["dev", "prod"].iter().enumerate() {
            project_support::seed(&fake, sandbox, &["Orders", "Customers"], i);
        }
        fake
    };
    let run = |words: &str, fake: &FakeFlowService| {
        let mut cmd = project.cmd(words, fake);
        cmd.env_remove("AEP_DEV_ACCESS_TOKEN")
            .env("AEP_DEV_CLIENT_ID", aep_flow_testing::DEMO_CLIENT_ID)
            .env("AEP_DEV_CLIENT_SECRET", CLIENT_SECRET)
            .env("AEP_DEV_SCOPES", aep_flow_testing::DEMO_SCOPES)
            .env("AEP_DEV_IMS_URL", fake.ims_url());
        let r = project_support::Run::of(cmd.output().unwrap());
        let token = fake.access_token().to_owned();
        for secret in [DB_PASSWORD, token.as_str(), CLIENT_SECRET] {
            assert_no_run_of(secret, &r.out, &format!("{words} stdout"));
            assert_no_run_of(secret, &r.err, &format!("{words} stderr"));
        }
        r
    };
    let echo = |fake: &FakeFlowService| {
        let token = fake.access_token().to_owned();
        Reply::json(
            400,
            json!({"message": format!("client_secret={CLIENT_SECRET} pwd={DB_PASSWORD} token={token}")})
                .to_string(),
        )
    };
    for words in commands() {
        let fake = start();
        run("apply", &fake).expect(0);
        let s = fake.sandbox("prod");
        let flow = s.flows()[0].id.clone();
        s.add_run(
            &flow,
            FakeRun::new("failed").with_error(
                "E",
                format!("client_secret={CLIENT_SECRET} pwd={DB_PASSWORD}"),
            ),
        );
        fake.push_reply(echo(&fake).only_for("GET").only_for_path("/flows"));
        // Only prod is read: its client never held dev's client secret.
        let words = words.replace("--sandbox dev", "");
        run(&format!("{words} --sandbox prod"), &fake);
    }
}

/// A service that returns the stored password in the base connection's
/// body (real AEP masks it), with a host that differs from the file's
/// (so plan has drift to show): no command prints any of the password.
#[test]
fn connection_bodies_that_carry_the_password_print_none_of_it() {
    let project = Project::new(&format!("{}{}", head("crm"), pipeline("Orders", "")));
    for params in [
        json!({"connectionString": format!(
            "Server=other.example.com;Database=orders;Port=5432;UID=etl_reader;Password={DB_PASSWORD};sslmode=verify-full"
        )}),
        json!({"server": "other.example.com", "port": "5432", "database": "orders",
               "username": "etl_reader", "password": DB_PASSWORD, "sslMode": "verify-full"}),
    ] {
        for words in commands()
            .iter()
            .copied()
            .chain(["plan --json", "apply --rotate-passwords"])
        {
            let fake = fake();
            for sandbox in ["dev", "prod"] {
                let s = fake.sandbox(sandbox);
                let spec = if params.get("connectionString").is_some() {
                    aep_flow::spec::CONNECTION_STRING_AUTH
                } else {
                    aep_flow::spec::BASIC_AUTH
                };
                let base = s.insert_connection("orders-db", spec, params.clone());
                s.set_catalog(&base, aep_flow_testing::demo_catalog());
            }
            run_clean(&project, words, &fake);
        }
    }
}
