//! Child processes: timeouts, wall time and peak RSS of whole-process calls.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use super::median;
use super::server::BASE_PATH;

/// Kills the process `pid` (a child this bench started) unless told to
/// stand down within `timeout`.
pub(crate) fn watchdog(pid: u32, timeout: Duration) -> mpsc::Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(timeout) {
            let _ = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    });
    tx
}

/// Runs `cmd` to the end (killed after `timeout`); returns its wall time
/// (spawn to exit) and output.
pub(crate) fn run_timed(
    cmd: &mut Command,
    timeout: Duration,
) -> Result<(Duration, Output), String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let child = cmd.spawn().map_err(|e| e.to_string())?;
    let guard = watchdog(child.id(), timeout);
    let out = child.wait_with_output().map_err(|e| e.to_string());
    let elapsed = started.elapsed();
    let _ = guard.send(());
    Ok((elapsed, out?))
}

pub(crate) fn run_with_input(
    cmd: &mut Command,
    input: &[u8],
    timeout: Duration,
) -> Result<Output, String> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let guard = watchdog(child.id(), timeout);
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let out = child.wait_with_output().map_err(|e| e.to_string());
    let _ = guard.send(());
    out
}

/// Wall-time median and peak RSS of one kind of whole-process call.
pub(crate) struct ProcessFigures {
    pub(crate) ms_median: f64,
    pub(crate) ms_min: f64,
    pub(crate) peak_kib: u64,
}

/// Runs `make()` `runs` times for wall time, then 5 times under GNU time
/// for the peak RSS (median). Each run must exit 0 and print the id.
pub(crate) fn measure_process(
    runs: usize,
    make: impl Fn() -> Command,
    gnu_time: Option<&Path>,
) -> Result<(ProcessFigures, Option<String>), String> {
    let check = |out: &Output| -> Result<(), String> {
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && stdout.contains("056dd1b4-da33-42f9-add1-b4da3392f94e") {
            Ok(())
        } else {
            Err(format!(
                "exit {:?}, stdout `{}`, stderr `{}`",
                out.status.code(),
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    // One unmeasured run warms the page cache.
    check(&run_timed(&mut make(), Duration::from_secs(10))?.1)?;
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (elapsed, out) = run_timed(&mut make(), Duration::from_secs(10))?;
        check(&out)?;
        ms.push(elapsed.as_secs_f64() * 1000.0);
    }
    let mut peak_kib = 0;
    let mut note = None;
    match gnu_time {
        Some(time) => {
            let mut peaks = Vec::new();
            for _ in 0..5 {
                let inner = make();
                let mut cmd = Command::new(time);
                cmd.args(["-f", "%M"]).arg(inner.get_program());
                cmd.args(inner.get_args());
                cmd.env_clear();
                for (k, v) in inner.get_envs() {
                    if let Some(v) = v {
                        cmd.env(k, v);
                    }
                }
                let (_, out) = run_timed(&mut cmd, Duration::from_secs(10))?;
                check(&out)?;
                // GNU time writes `%M` as the last line of stderr.
                let stderr = String::from_utf8_lossy(&out.stderr);
                let kib = stderr
                    .lines()
                    .last()
                    .and_then(|l| l.trim().parse::<u64>().ok())
                    .ok_or_else(|| format!("GNU time printed no %M: `{}`", stderr.trim()))?;
                peaks.push(kib as f64);
            }
            peak_kib = median(&peaks) as u64;
        }
        None => note = Some("no /usr/bin/time (GNU time): peak RSS not measured".into()),
    }
    Ok((
        ProcessFigures {
            ms_median: median(&ms),
            ms_min: ms.iter().copied().fold(f64::INFINITY, f64::min),
            peak_kib,
        },
        note,
    ))
}

/// The release `aep-flow` command (package `aep-flow-cli`, the workspace's
/// release profile: what `cargo install --path cli` builds), (re)built with
/// cargo first when cargo is at hand.
pub(crate) fn release_command() -> Result<(PathBuf, Option<String>), String> {
    // The bench binary is `target/release/deps/bench-<hash>`; the command
    // is `target/release/aep-flow`.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("no directory for the bench binary")?
        .to_path_buf();
    let target = dir.join(format!("aep-flow{}", std::env::consts::EXE_SUFFIX));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "aep-flow-cli",
        "--bin",
        "aep-flow",
    ])
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    // `cargo bench` sets these for the bench; ring's build script watches
    // CARGO_MANIFEST_DIR, so passing them on would rebuild ring, rustls,
    // ureq and the crate on every run.
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("CARGO_PKG_") || key_text.starts_with("CARGO_MANIFEST_") {
            cmd.env_remove(&key);
        }
    }
    let note = match run_timed(&mut cmd, Duration::from_secs(600)) {
        Ok((_, out)) if out.status.success() => None,
        Ok((_, out)) => Some(format!(
            "cargo build of aep-flow failed ({}); using the binary on disk",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("cargo not run ({e}); using the binary on disk")),
    };
    if target.is_file() {
        Ok((target, note))
    } else {
        Err(format!(
            "{} is missing; run `cargo build --release -p aep-flow-cli`",
            target.display()
        ))
    }
}

/// `tests/support/tls_flow_server.py`: a Python TLS server on 127.0.0.1
/// that answers `POST` with `201` and the fixture, its self-signed
/// certificate for `IP:127.0.0.1` made with `openssl` (the file both the
/// command, through `SSL_CERT_FILE`, and curl, through `--cacert`, trust).
/// Killed when dropped.
pub(crate) struct TlsServer {
    child: Child,
    pub(crate) port: u16,
    pub(crate) cert: String,
    /// `REQUEST ...` lines the server printed, counted by a drain thread.
    requests: Arc<AtomicU64>,
}

impl TlsServer {
    /// Starts the server (it exits by itself after `lifetime`); `Err` with
    /// the reason when python3 or openssl is missing or it does not start.
    pub(crate) fn start(lifetime: Duration) -> Result<TlsServer, String> {
        for (tool, arg) in [("python3", "--version"), ("openssl", "version")] {
            let ok = Command::new(tool)
                .arg(arg)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(format!("{tool} not found"));
            }
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/tls_flow_server.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(lifetime.as_secs().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("python3 {}: {e}", script.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        let requests = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&requests);
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // Drain (and count) the request log so the server never blocks.
            for line in lines.map_while(Result::ok) {
                if line.starts_with("REQUEST ") {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let mut server = TlsServer {
            child,
            port: 0,
            cert: String::new(),
            requests,
        };
        // Key generation takes a moment; 20 s is plenty.
        let first = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Some(Ok(line))) => line,
            _ => return Err("the TLS server printed no `PORT CERT` line".into()),
        };
        let mut parts = first.splitn(2, ' ');
        server.port = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("unexpected first line `{first}`"))?;
        server.cert = parts
            .next()
            .filter(|c| Path::new(c).is_file())
            .ok_or_else(|| format!("no certificate file in `{first}`"))?
            .to_owned();
        Ok(server)
    }

    pub(crate) fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}{BASE_PATH}", self.port)
    }

    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
