//! Helpers for the tests that run `aep-flow` as a child process.

#![allow(dead_code)] // each test file uses a different part

use aep_flow::Sandbox;
use std::path::PathBuf;
use std::process::{Command, Output};

use aep_flow_testing::FakeFlowService;

/// `aep-flow WORDS...`: the command (Cargo builds the binary before the
/// tests), with the subcommand's words, e.g. `"connections create"`, in a
/// cleared environment.
pub fn aep_flow(words: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aep-flow"));
    cmd.args(words.split_whitespace());
    cmd.env_clear();
    // Each command gets a demo sandbox of its own (a walkthrough test sets
    // one file for several commands).
    cmd.env("AEP_DEMO_STATE", fresh_demo_state());
    cmd
}

/// A path for a demo state file that does not exist yet, under cargo's
/// temporary directory for integration tests.
pub fn fresh_demo_state() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "demo-state-{}-{}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&path);
    path
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

/// Bytes that are not UTF-8, for garbled arguments and variables.
pub fn garbled(bytes: &[u8]) -> &std::ffi::OsStr {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(bytes)
}

/// A directory of its own under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "aep-flow-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `tests/support/tls_flow_server.py`: a TLS server on 127.0.0.1 with a
/// self-signed certificate, answering a create with 201. Killed on drop.
pub struct TlsServer {
    child: std::process::Child,
    pub port: u16,
    /// The server's certificate (PEM), its own CA.
    pub cert: String,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl TlsServer {
    pub fn start() -> TlsServer {
        use std::io::BufRead;
        let mut child = Command::new("python3")
            .arg(format!(
                "{}/../tests/support/tls_flow_server.py",
                env!("CARGO_MANIFEST_DIR")
            ))
            .arg("30")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the TLS helper server");
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let (port, cert) = line.trim().split_once(' ').expect("PORT CERT_PATH");
        TlsServer {
            port: port.parse().unwrap(),
            cert: cert.to_owned(),
            child,
            stdout,
        }
    }

    pub fn base_url(&self) -> String {
        format!(
            "https://127.0.0.1:{}/data/foundation/flowservice",
            self.port
        )
    }

    /// Everything the server printed after its first line, once stopped.
    pub fn rest(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut self.stdout, &mut out);
        out
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo's connection and dataset, as the README names them (copies:
/// the tests check the command from outside).
pub const DEMO_CONNECTION_ID: &str = "00000000-0000-4000-8000-000000000001";
pub const DEMO_DATASET_ID: &str = "6d1e4a0b8f0c2a001c9e3f7d";

/// A [`aep_flow::Platform`] pointed at `fake`, with the credentials it
/// expects.
pub fn platform(fake: &FakeFlowService) -> aep_flow::Platform {
    aep_flow::Platform::new(
        aep_flow::Secret::from(fake.access_token()),
        fake.api_key(),
        Sandbox {
            org_id: fake.org_id(),
            name: fake.sandbox_name(),
        },
    )
    .with_base_url(fake.base_url())
}
