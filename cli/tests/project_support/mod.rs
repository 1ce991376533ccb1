//! Helpers for the `plan` / `apply` tests: a fake serving several
//! sandboxes, a declarative file, the binary with per-sandbox credentials.

#![allow(dead_code)] // each test file uses a different part

use std::path::PathBuf;
use std::process::{Command, Output};

use aep_flow_testing::FakeFlowService;

use crate::common::{aep_flow, text, TempDir};

/// The database password the tests give (a canary: never printed).
pub const DB_PASSWORD: &str = "pw-canary-Zq81x";
/// The access token the fake takes (a canary too).
pub fn token(fake: &FakeFlowService) -> String {
    fake.access_token().to_owned()
}

/// The schema of every test dataset (its fields are not set: any
/// destination validates).
pub const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/orders";

/// A fake serving any sandbox, with `dev` and `prod` seeded: the demo
/// database's tables behind every base connection, datasets named
/// `Orders` and `Customers` with ids of their own per sandbox.
pub fn fake() -> FakeFlowService {
    let fake = FakeFlowService::builder().start().unwrap();
    for (i, sandbox) in ["dev", "prod"].iter().enumerate() {
        seed(&fake, sandbox, &["Orders", "Customers"], i);
    }
    fake
}

/// Datasets `names` in `sandbox` (ids from `salt`), and the demo tables.
pub fn seed(fake: &FakeFlowService, sandbox: &str, names: &[&str], salt: usize) {
    let s = fake.sandbox(sandbox);
    s.use_demo_catalog();
    for (j, name) in names.iter().enumerate() {
        s.add_dataset(&dataset_id(salt, j), name, SCHEMA);
    }
}

/// The id of the `j`th dataset seeded with `salt`.
pub fn dataset_id(salt: usize, j: usize) -> String {
    format!("{salt:04x}d5e7a0b1c2{j:010x}")
}

/// The file's head: the project, `dev` and `prod`, connection `orders-db`.
pub fn head(project: &str) -> String {
    format!(
        r#"project = "{project}"

[sandboxes.dev]
credentials = "AEP_DEV"

[sandboxes.prod]
credentials = "AEP_PROD"

[connections.orders-db]
host = "db.example.com"
port = 5432
database = "orders"
user = "etl_reader"
password_env = "ORDERS_DB_PASSWORD"
ssl_mode = "verify-full"
"#
    )
}

/// One `[[pipelines]]` item of table `public.orders` into `dataset`.
pub fn pipeline(dataset: &str, extra: &str) -> String {
    format!(
        r#"
[[pipelines]]
connection = "orders-db"
table = "public.orders"
dataset = "{dataset}"
delta_column = "updated_at"
schedule = {{ frequency = "hour", interval = 1, start = "2026-12-01T00:00:00Z", backfill = true }}
mappings = {{ id = "_tenant.orderId", amount = "_tenant.amount" }}
{extra}"#
    )
}

/// A file in a directory of its own.
pub struct Project {
    pub dir: TempDir,
    pub path: PathBuf,
}

impl Project {
    pub fn new(text: &str) -> Project {
        let dir = TempDir::new("project");
        let path = dir.file("aep-flow.toml", text.as_bytes());
        Project { dir, path }
    }

    pub fn rewrite(&self, text: &str) {
        std::fs::write(&self.path, text).unwrap();
    }

    /// `aep-flow WORDS -f FILE` with both sandboxes' credentials for
    /// `fake` and the database password.
    pub fn cmd(&self, words: &str, fake: &FakeFlowService) -> Command {
        let mut cmd = aep_flow(words);
        cmd.arg("-f").arg(&self.path);
        for p in ["AEP_DEV", "AEP_PROD"] {
            cmd.env(format!("{p}_ACCESS_TOKEN"), fake.access_token())
                .env(format!("{p}_API_KEY"), fake.api_key())
                .env(format!("{p}_ORG_ID"), fake.org_id())
                .env(format!("{p}_PLATFORM_URL"), fake.platform_url());
        }
        cmd.env("ORDERS_DB_PASSWORD", DB_PASSWORD);
        cmd
    }

    pub fn run(&self, words: &str, fake: &FakeFlowService) -> Run {
        Run::of(self.cmd(words, fake).output().unwrap())
    }
}

/// A finished run: exit code, stdout, stderr.
pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl Run {
    pub fn of(output: Output) -> Run {
        let (out, err) = text(&output);
        Run {
            code: output.status.code().unwrap_or(-1),
            out,
            err,
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit {} (wanted {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.out, self.err
        );
        self
    }

    /// The last line of stdout.
    pub fn summary(&self) -> &str {
        self.out.lines().last().unwrap_or("")
    }

    /// stdout's lines as JSON.
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// Requests that write (POST, PATCH, PUT, DELETE) among `from..` of the
/// fake's log.
pub fn writes_since(fake: &FakeFlowService, from: usize) -> Vec<String> {
    fake.requests()[from..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// A library client on `sandbox` of the fake: changes "made in the UI".
pub fn library_client(fake: &FakeFlowService, sandbox: &str) -> aep_flow::Client {
    let platform = aep_flow::Platform::new(
        aep_flow::Secret::from(fake.access_token().to_owned()),
        fake.api_key(),
        aep_flow::Sandbox {
            org_id: fake.org_id(),
            name: sandbox,
        },
    )
    .with_platform_url(fake.platform_url());
    aep_flow::Client::builder(platform).build().unwrap()
}
