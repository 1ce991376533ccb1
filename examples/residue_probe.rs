//! Memory-residue probe: how many copies of a password and a token are left
//! in this process after a create, once every value has been dropped?
//!
//! ```text
//! residue_probe BASE_URL [CA_PEM]
//! ```
//!
//! Reads two lines from standard input, straight into [`Secret`]s (no
//! `String`, no `BufReader`): the canary password, then the canary token.
//! Creates a PostgreSQL connection against `BASE_URL` (a loopback fake run
//! by the caller) and prints `alive`; after the next line on standard input
//! it drops the client and every value, prints `done`, and waits until
//! standard input closes. At each stop the caller scans this process's
//! memory (`/proc/PID/maps`, `/proc/PID/mem`) for the canaries: see
//! `tests/residue.rs`.

use std::fs::File;
use std::io::{Read, Write};
use std::process::ExitCode;

use aep_flow::{Client, Platform, PostgresConnection, Secret};

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
    writeln!(stdout, "{line}").map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())
}

fn run() -> Result<(), String> {
    let base_url = std::env::args()
        .nth(1)
        .ok_or("usage: residue_probe BASE_URL [CA_PEM]")?;
    // An https:// base URL needs the test server's CA.
    let ca = match std::env::args().nth(2) {
        Some(path) => Some(std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?),
        None => None,
    };
    // /dev/stdin as a plain file: no userspace buffer holding the canaries.
    let mut stdin = File::open("/dev/stdin").map_err(|e| e.to_string())?;
    let password = read_secret_line(&mut stdin)?;
    let token = read_secret_line(&mut stdin)?;
    let platform =
        Platform::new(token, "probe-key", "PROBE@AdobeOrg", "prod").with_base_url(base_url);
    let mut builder = Client::builder(platform);
    if let Some(pem) = ca {
        builder = builder.with_root_certificates_pem(pem);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let conn = PostgresConnection::new("residue-probe", "db.internal", "orders", "etl", password);
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

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("residue_probe: {e}");
            ExitCode::FAILURE
        }
    }
}
