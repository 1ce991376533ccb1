//! How many copies of a password and a token outlive a create? Runs the
//! `residue_probe` example as a child process against the fake, then scans
//! the child's readable memory through `/proc/PID/maps` and `/proc/PID/mem`.
#![cfg(target_os = "linux")]

mod common;

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::process::{Command, Stdio};

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
    let mut probe = common::example("residue_probe");
    probe.arg(base_url);
    if let Some(ca) = ca {
        probe.arg(ca);
    }
    let mut child = probe
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut wait_for = |word: &str| {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), word, "the probe failed");
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
    let _ = child.wait();
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
