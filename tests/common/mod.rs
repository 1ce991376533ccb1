//! Helpers for the tests that run the example CLIs as child processes.

#![allow(dead_code)] // each test file uses a different part

use std::path::PathBuf;
use std::process::{Command, Output};

use aep_flow::testing::FakeFlowService;

/// `cargo test` builds the examples next to the test binaries.
pub fn example(name: &str) -> Command {
    let mut path: PathBuf = std::env::current_exe().unwrap();
    path.pop(); // the test binary
    if path.ends_with("deps") {
        path.pop();
    }
    path.push("examples");
    path.push(name);
    assert!(
        path.exists(),
        "{} is missing: run through `cargo test`, which builds the examples",
        path.display()
    );
    let mut cmd = Command::new(path);
    cmd.env_clear();
    cmd
}

pub fn with_platform(cmd: &mut Command, fake: &FakeFlowService) {
    cmd.env("AEP_ACCESS_TOKEN", "tok-cli-7788")
        .env("AEP_API_KEY", "cli-key")
        .env("AEP_ORG_ID", "CLI@AdobeOrg")
        .env("AEP_SANDBOX_NAME", "prod")
        .env("AEP_FLOW_SERVICE_URL", fake.base_url());
    with_postgres(cmd, "pw-canary-4411");
}

/// The libpq variables for a database `db.internal/orders` as `reader`.
pub fn with_postgres(cmd: &mut Command, password: &str) {
    cmd.env("PGHOST", "db.internal")
        .env("PGDATABASE", "orders")
        .env("PGUSER", "reader")
        .env("PGPASSWORD", password);
}

pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
