//! How many copies of a password and a token outlive a create? Runs the
//! probe as a child process against the fake, then scans the child's
//! readable memory through `/proc/PID/maps` and `/proc/PID/mem`. The probe
//! is this very test binary (`std::env::current_exe()`, which Cargo always
//! rebuilds), re-executed to run only [`residue_probe`], a test that does
//! nothing unless [`PROBE_VAR`] is set.
#![cfg(target_os = "linux")]
#![forbid(unsafe_code)]

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use aep_flow::{Client, Platform, PostgresConnection, Secret};
use aep_flow::{PostgresLogin, Sandbox};
use aep_flow_testing::FakeFlowService;

/// Copies left once everything is dropped (see README, Security).
const EXPECTED_AFTER_DROP: (usize, usize) = (0, 0);
/// Copies while the client and the connection are alive: each `Secret`
/// itself, nothing else (the create's connection is closed, not pooled).
const EXPECTED_ALIVE: (usize, usize) = (1, 1);

struct Scan {
    /// Copies of the password and of the token.
    counts: (usize, usize),
    report: String,
    scanned_bytes: usize,
    heap_scanned: bool,
}

fn random_hex() -> String {
    let a = RandomState::new().hash_one(1u8);
    let b = RandomState::new().hash_one(2u8);
    format!("{a:016x}{b:016x}")
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// Counts the password and the token in every readable mapping of `pid`.
fn scan(pid: u32, password: &str, token: &str) -> Scan {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut mem = File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut out = Scan {
        counts: (0, 0),
        report: String::new(),
        scanned_bytes: 0,
        heap_scanned: false,
    };
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let range = fields.next().unwrap();
        let perms = fields.next().unwrap();
        let region = fields.nth(3).unwrap_or("[anon]").to_owned();
        if !perms.starts_with('r') || region == "[vvar]" || region == "[vsyscall]" {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        let mut buf = vec![0u8; (end - start) as usize];
        if mem.seek(SeekFrom::Start(start)).is_err() || mem.read_exact(&mut buf).is_err() {
            out.report
                .push_str(&format!("  (could not read {region})\n"));
            continue;
        }
        out.scanned_bytes += buf.len();
        out.heap_scanned |= region == "[heap]";
        let p = count(&buf, password.as_bytes());
        let t = count(&buf, token.as_bytes());
        out.counts.0 += p;
        out.counts.1 += t;
        if p + t > 0 {
            out.report
                .push_str(&format!("  {region}: password {p}, token {t}\n"));
        }
    }
    out
}

/// Runs the probe against `base_url` (trusting `ca` for https) and scans it
/// alive, then after the drop. `sent` checks what the server received.
fn probe(base_url: &str, ca: Option<&str>, sent: impl FnOnce(&str, &str)) -> (Scan, Scan) {
    let password = format!("pw-canary-{}", random_hex());
    let token = format!("tok-canary-{}", random_hex());
    let mut probe = Command::new(std::env::current_exe().unwrap());
    probe.env_clear().env(PROBE_VAR, base_url).args([
        PROBE_TEST,
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ]);
    if let Some(ca) = ca {
        probe.env(PROBE_CA_VAR, ca);
    }
    let mut child = probe
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The test harness prints text of its own (`test residue_probe ... `
    // on the line the probe's first word ends): the probe's words follow
    // PROBE_SAYS.
    let mut wait_for = |word: &str| loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "the probe ended before it said {word:?}");
        if let Some((_, said)) = line.trim_end().split_once(PROBE_SAYS) {
            assert_eq!(said, word, "the probe failed");
            break;
        }
    };
    writeln!(stdin, "{password}\n{token}").unwrap();
    stdin.flush().unwrap();
    wait_for("alive");
    sent(&password, &token);
    let alive = scan(child.id(), &password, &token);
    writeln!(stdin).unwrap();
    stdin.flush().unwrap();
    wait_for("done");
    let dropped = scan(child.id(), &password, &token);
    drop(stdin); // lets the probe exit
    let status = child.wait().unwrap();
    assert!(status.success(), "the probe failed: {status}");
    (alive, dropped)
}

fn check(transport: &str, alive: Scan, dropped: Scan) {
    for (moment, s) in [("alive", &alive), ("after drop", &dropped)] {
        eprintln!(
            "residue over {transport}, {moment}: password {}, token {} ({} MiB scanned)\n{}",
            s.counts.0,
            s.counts.1,
            s.scanned_bytes / (1024 * 1024),
            s.report
        );
        assert!(s.heap_scanned, "the heap was not scanned:\n{}", s.report);
    }
    // The control: the same scan finds the live secrets.
    assert_eq!(alive.counts, EXPECTED_ALIVE, "alive:\n{}", alive.report);
    assert_eq!(
        dropped.counts, EXPECTED_AFTER_DROP,
        "the number of copies changed:\n{}",
        dropped.report
    );
}

#[test]
fn no_copy_of_the_password_or_token_outlives_a_create() {
    let fake = FakeFlowService::start().unwrap();
    let (alive, dropped) = probe(&fake.base_url(), None, |password, token| {
        // The create really carried the canaries.
        let sent = fake.requests().remove(0);
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {token}").as_str())
        );
        assert!(String::from_utf8_lossy(&sent.body).contains(password));
    });
    check("plain HTTP", alive, dropped);
}

#[test]
fn over_tls_rustls_leaves_no_copy_either() {
    // A TLS server (Python, self-signed certificate) answering the create.
    let mut server = Command::new("python3")
        .arg(format!(
            "{}/tests/support/tls_flow_server.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg("30")
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the TLS helper server");
    let mut out = BufReader::new(server.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let (port, ca) = first.trim().split_once(' ').expect("PORT CERT_PATH");
    let base_url = format!("https://127.0.0.1:{port}/data/foundation/flowservice");
    let (alive, dropped) = probe(&base_url, Some(ca), |_, _| {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert!(
            line.starts_with("REQUEST POST"),
            "the create did not arrive: {line}"
        );
    });
    let _ = server.kill();
    let _ = server.wait();
    check("TLS", alive, dropped);
}

// The probe: the child process whose memory is scanned.

/// Set (to the base URL of the server to create against) in the child
/// only: it makes [`residue_probe`] the probe.
const PROBE_VAR: &str = "AEP_FLOW_RESIDUE_PROBE_URL";
/// The PEM file of the CA that signed an https:// server, if any.
const PROBE_CA_VAR: &str = "AEP_FLOW_RESIDUE_PROBE_CA";
/// The name of the probe's test, run alone (`--exact`) in the child.
const PROBE_TEST: &str = "residue_probe";
/// What the probe's own lines on standard output start with.
const PROBE_SAYS: &str = "residue-probe: ";

/// The probe, when [`PROBE_VAR`] is set; otherwise it does nothing.
///
/// Reads two lines from standard input, straight into [`Secret`]s (no
/// `String`, no `BufReader`): the canary password, then the canary token.
/// Creates a PostgreSQL connection against the base URL and says `alive`;
/// after the next line on standard input it drops the client and every
/// value, says `done`, and waits until standard input closes. At each stop
/// the parent scans this process's memory for the canaries.
#[test]
fn residue_probe() {
    let Some(base_url) = std::env::var_os(PROBE_VAR) else {
        return;
    };
    let base_url = base_url.into_string().expect("a UTF-8 base URL");
    if let Err(e) = run_probe(base_url) {
        panic!("residue probe: {e}");
    }
}

/// Reads one line from unbuffered standard input into a buffer allocated
/// once, and hands that buffer to `Secret` without copying it.
fn read_secret_line(stdin: &mut File) -> Result<Secret, String> {
    let mut buf = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    loop {
        match stdin.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if buf.len() == buf.capacity() => {
                return Err("secret longer than 256 bytes".into())
            }
            Ok(_) => buf.push(byte[0]),
            Err(e) => return Err(format!("reading stdin: {e}")),
        }
    }
    Secret::from_utf8(buf).map_err(|e| e.to_string())
}

fn say(line: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{PROBE_SAYS}{line}").map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())
}

fn run_probe(base_url: String) -> Result<(), String> {
    // An https:// base URL needs the test server's CA.
    let ca = match std::env::var_os(PROBE_CA_VAR) {
        Some(path) => {
            let path = Path::new(&path);
            Some(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    // /dev/stdin as a plain file: no userspace buffer holding the canaries.
    let mut stdin = File::open("/dev/stdin").map_err(|e| e.to_string())?;
    let password = read_secret_line(&mut stdin)?;
    let token = read_secret_line(&mut stdin)?;
    let platform = Platform::new(
        token,
        "probe-key",
        Sandbox {
            org_id: "PROBE@AdobeOrg",
            name: "prod",
        },
    )
    .with_base_url(base_url);
    let mut builder = Client::builder(platform);
    if let Some(pem) = ca {
        builder = builder.with_root_certificates_pem(pem);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let conn = PostgresConnection::new(
        "residue-probe",
        PostgresLogin {
            server: "db.internal",
            database: "orders",
            username: "etl",
            password,
        },
    );
    let created = client
        .create_postgres_connection(&conn)
        .map_err(|e| e.to_string())?;

    // First scan: everything alive (the control: the scan must see the
    // secrets). Then drop the client (agent, pool, token), the connection
    // (password) and the answer, and wait for the second scan.
    say("alive")?;
    let mut line = [0u8; 1];
    while matches!(stdin.read(&mut line), Ok(1) if line[0] != b'\n') {}
    drop((client, conn, created));
    say("done")?;
    let mut rest = [0u8; 64];
    while matches!(stdin.read(&mut rest), Ok(n) if n > 0) {}
    Ok(())
}
