//! How many copies of a password and a token outlive a create? Runs the
//! `residue_probe` example as a child process against the fake, then scans
//! the child's readable memory through `/proc/PID/maps` and `/proc/PID/mem`.
#![cfg(target_os = "linux")]

mod common;

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::process::Stdio;

use aep_flow::testing::FakeFlowService;

/// Copies of the password the library leaves behind (see README, Security).
const EXPECTED_PASSWORD_COPIES: usize = 0;
/// Copies of the token the library leaves behind (see README, Security).
const EXPECTED_TOKEN_COPIES: usize = 0;

struct Hit {
    canary: usize,
    region: String,
}

fn random_hex() -> String {
    let a = RandomState::new().hash_one(1u8);
    let b = RandomState::new().hash_one(2u8);
    format!("{a:016x}{b:016x}")
}

fn find_all(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// Every occurrence of each needle in the readable mappings of `pid`.
fn scan(pid: u32, needles: &[&[u8]]) -> (Vec<Hit>, usize) {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut mem = File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut hits = Vec::new();
    let mut scanned = 0;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let range = fields.next().unwrap();
        let perms = fields.next().unwrap();
        let path = fields.nth(3).unwrap_or("[anon]").to_owned();
        if !perms.starts_with('r') || path == "[vvar]" || path == "[vsyscall]" {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        let mut buf = vec![0u8; (end - start) as usize];
        if mem.seek(SeekFrom::Start(start)).is_err() || mem.read_exact(&mut buf).is_err() {
            continue;
        }
        scanned += buf.len();
        for (i, needle) in needles.iter().enumerate() {
            for _ in 0..find_all(&buf, needle) {
                hits.push(Hit {
                    canary: i,
                    region: path.clone(),
                });
            }
        }
    }
    (hits, scanned)
}

/// Runs the probe (keeping its values alive with `keep`) and counts the
/// copies of each canary in its memory once it says `done`.
fn probe(keep: bool) -> (usize, usize, String) {
    let fake = FakeFlowService::start().unwrap();
    let password = format!("pw-canary-{}", random_hex());
    let token = format!("tok-canary-{}", random_hex());

    let mut probe = common::example("residue_probe");
    probe.arg(fake.base_url());
    if keep {
        probe.arg("--keep");
    }
    let mut child = probe
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{password}\n{token}").unwrap();
    stdin.flush().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "done", "the probe failed");

    // The create really carried the canaries.
    let sent = fake.requests().remove(0);
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert!(String::from_utf8_lossy(&sent.body).contains(&password));

    let (hits, scanned) = scan(child.id(), &[password.as_bytes(), token.as_bytes()]);
    drop(stdin); // lets the probe exit
    let _ = child.wait();

    let count = |c: usize| hits.iter().filter(|h| h.canary == c).count();
    let mut report = String::new();
    for h in &hits {
        report.push_str(&format!(
            "  {} in {}\n",
            ["password", "token"][h.canary],
            h.region
        ));
    }
    eprintln!(
        "residue {} a create: password {} copies, token {} copies ({} MiB scanned)\n{report}",
        if keep {
            "while the client is alive, after"
        } else {
            "after"
        },
        count(0),
        count(1),
        scanned / (1024 * 1024)
    );
    assert!(scanned > 0, "nothing was scanned");
    (count(0), count(1), report)
}

#[test]
fn the_scan_finds_secrets_that_are_still_alive() {
    // The control: with the client and the connection alive, the
    // password and the token are in memory, and the scan must see them.
    let (password, token, report) = probe(true);
    assert!(password >= 1 && token >= 1, "the scan is blind:\n{report}");
}

#[test]
fn no_copy_of_the_password_or_token_outlives_a_create() {
    let (password, token, report) = probe(false);
    assert_eq!(
        (password, token),
        (EXPECTED_PASSWORD_COPIES, EXPECTED_TOKEN_COPIES),
        "the number of copies changed:\n{report}"
    );
}
