//! Benchmarks for issue 6: how close the client gets to the loopback limit,
//! and how it compares with `requests` (Python) and with `curl`.
//!
//! ```text
//! cargo bench --bench bench [-- --n CALLS --rounds R --runs RUNS --no-pin]
//! ```
//!
//! Everything runs against ONE loopback server started here: a minimal
//! keep-alive HTTP/1.1 server thread (per connection) that answers
//! `POST .../connections` with `201 Created` and the tutorial's fixture
//! (`{"id": ..., "etag": ...}`). It does not use `aep_flow_testing::FakeFlowService`
//! on purpose: the fake records every request (memory grows with N), checks
//! the body with serde_json and takes a mutex, and that cost would be
//! charged to every contender.
//!
//! Figures (the last line repeats them as `key=value` pairs):
//!
//! - `client_calls_per_s`: N creates through one reused `aep_flow::Client`
//!   with `with_keep_alive_after_secret_bodies(true)` (keep-alive for every
//!   call).
//! - `client_close_after_create_calls_per_s`: the same with the default
//!   settings, which close the connection after each create (a new TCP
//!   connection per call).
//! - `raw_socket_calls_per_s`: the client's own request bytes (captured by
//!   the server) written to one keep-alive `TcpStream`, the answer read by
//!   `Content-Length`: the loopback limit for this server.
//! - `python_requests_calls_per_s`: a `requests.Session` loop doing the
//!   same POST (same headers, same body), when `python3 -c "import
//!   requests"` works; skipped with a note otherwise. Nothing is installed.
//! - `process_*`: the release `aep-flow connections create` as a whole
//!   process, one call (median wall time over `--runs`, default 21), and its
//!   peak RSS from GNU `/usr/bin/time -f %M` (not from `wait4` here: Linux
//!   carries the parent's high-water mark into a child's `ru_maxrss`).
//!   `curl_*`: the tutorial's `curl -X POST` doing the same call.
//! - `tls_*`: the same two whole-process calls over TLS (11 runs each),
//!   against `tests/support/tls_flow_server.py` (a Python TLS server on
//!   127.0.0.1 with a self-signed certificate made by `openssl`): `aep-flow`
//!   trusts it through `SSL_CERT_FILE`, curl through `--cacert`.
//!   `tls_process_vs_curl` and `tls_peak_vs_curl` are the ratios of the wall
//!   time medians and of the peak RSS. `n/a` (with a note) when curl,
//!   python3, openssl or `/usr/bin/time` is missing. The Python server's
//!   handshake cost is in both figures alike; it sets `TCP_NODELAY` (without
//!   it, curl stalls ~40 ms per call on a delayed ACK).
//! - Per-call allocations of a create through the client, from a counting
//!   global allocator (only the calling thread is counted), with the sizes
//!   of the blocks at least as large as the request body and the sizes of
//!   freed blocks that still held the password (copies not wiped).
//!
//! - `pipeline_*`: request economy of `Client::ensure_pipeline` against the
//!   stateful `aep_flow_testing::FakeFlowService` (its request log counts): the
//!   requests and writes of a first run on an empty sandbox, of a re-run
//!   that finds everything as declared (target: at most 5 requests, no
//!   write), and of a run that converges a changed schedule; and the
//!   re-run's wall time (median of 51) next to one GET's.
//!
//! Diagnostic rows, to show where the time goes: `raw_split_calls_per_s`
//! (the raw loop writing head and body in two writes, as ureq does),
//! `ureq_calls_per_s` (a bare `ureq::Agent` configured like the client, same
//! request) and `ureq_no_global_timeout_calls_per_s` (the same without a
//! whole-request timeout: ureq then resolves the host on the calling thread
//! instead of spawning a thread per call), the calling thread's CPU time per
//! call (`/proc/thread-self/schedstat`) and bare ureq's allocations.
//!
//! By default the bench pins itself (and so its server threads, python and
//! the child processes) to one CPU: on a small virtual machine a ping-pong
//! between two CPUs measures how fast an idle CPU wakes up and varies
//! several-fold between runs; on one CPU the figures are CPU cost.
//! `--no-pin` measures the floating case. `--only-client` runs just the
//! client loop, for a profiler.
//!
//! - `cold_build_*` (printed after the table, unpinned): the cold `cargo
//!   build --release` time of the library alone against a reqwest-blocking
//!   equivalent doing the same create, each in a fresh target directory,
//!   and their ratio (goal ≤ 0.45): `bench/build_time.rs`. It adds a few
//!   minutes and needs crates.io for reqwest; `--no-cold-build` skips it,
//!   `--cold-build-only` runs just it. Never run by CI or the tests.
//!
//! Every loop is bounded, every socket and child process has a timeout, and
//! the measured run takes well under two minutes (the cold builds after it
//! take a few more). A figure that could not be measured is `n/a` in the
//! table and the last line.
//!
//! The release `aep-flow` binary is built first (a nested `cargo build
//! --release -p aep-flow-cli`, the workspace's release profile), so the
//! process figures need no separate build step. Modules: `bench/alloc.rs` (counting allocator),
//! `bench/server.rs` (loopback server), `bench/process.rs` (child
//! processes, the TLS server), `bench/build_time.rs` (cold build times).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use aep_flow::{Client, Platform, PostgresConnection, Secret};
use aep_flow::{PostgresLogin, Sandbox};

#[path = "bench/alloc.rs"]
mod alloc;
#[path = "bench/build_time.rs"]
mod build_time;
#[path = "bench/process.rs"]
mod process;
#[path = "bench/server.rs"]
mod server;

use alloc::count_allocations;
use process::{measure_process, release_command, run_with_input, ProcessFigures, TlsServer};
use server::{content_length, find, Server};

// ---------------------------------------------------------------------------
// CPU pinning

/// Pins the calling thread, and so every thread and process it starts
/// afterwards, to the last CPU it may run on. Returns that CPU.
///
/// Why: on a small (virtual) machine, a loopback ping-pong between two
/// threads on two CPUs is dominated by how fast an idle CPU wakes up, and
/// varies several-fold from run to run. On one CPU every figure is CPU
/// cost, which is what the ratios are meant to compare.
#[cfg(target_os = "linux")]
fn pin_to_one_cpu() -> Option<usize> {
    extern "C" {
        fn sched_getaffinity(pid: i32, size: usize, mask: *mut u64) -> i32;
        fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
    }
    const WORDS: usize = 16; // 1024 CPUs, glibc's cpu_set_t
    let mut mask = [0u64; WORDS];
    // SAFETY: `mask` is `WORDS * 8` writable bytes, the size passed; pid 0
    // is the calling thread.
    if unsafe { sched_getaffinity(0, WORDS * 8, mask.as_mut_ptr()) } != 0 {
        return None;
    }
    let cpu = (0..WORDS * 64)
        .rev()
        .find(|&i| mask[i / 64] & (1 << (i % 64)) != 0)?;
    let mut one = [0u64; WORDS];
    one[cpu / 64] = 1 << (cpu % 64);
    // SAFETY: as above, read-only.
    if unsafe { sched_setaffinity(0, WORDS * 8, one.as_ptr()) } != 0 {
        return None;
    }
    Some(cpu)
}

#[cfg(not(target_os = "linux"))]
fn pin_to_one_cpu() -> Option<usize> {
    None
}

// ---------------------------------------------------------------------------
// Settings

/// Command-line settings.
struct Settings {
    /// Calls per round for each throughput figure (≥ 2000).
    n: usize,
    /// Rounds per throughput figure; the median round is reported.
    rounds: usize,
    /// Whole-process runs for the wall-time median (≥ 10).
    runs: usize,
    /// Only the client loop, for a profiler (`--only-client`).
    only_client: bool,
    /// The cold build times (`bench/build_time.rs`): on by default, off
    /// with `--no-cold-build`; `--cold-build-only` runs just them.
    cold_build: bool,
    cold_build_only: bool,
    /// Pin the bench (all its threads and children) to one CPU; on by
    /// default, off with `--no-pin`.
    pin: bool,
}

const USAGE: &str =
    "usage: bench [--n CALLS (>= 2000, default 5000)] [--rounds R (1-9, default 3)] \
[--runs RUNS (>= 10, default 21)] [--no-pin (let threads float between CPUs)] \
[--only-client (just the client loop, for a profiler)] \
[--no-cold-build | --cold-build-only (cold `cargo build --release` vs reqwest, minutes)]";

fn parse_settings() -> Result<Settings, String> {
    let mut s = Settings {
        n: 5000,
        rounds: 3,
        runs: 21,
        only_client: false,
        cold_build: true,
        cold_build_only: false,
        pin: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = |name: &str| -> Result<usize, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number\n{USAGE}"))
        };
        match flag.as_str() {
            "--n" => s.n = value("--n")?.clamp(2000, 1_000_000),
            "--rounds" => s.rounds = value("--rounds")?.clamp(1, 9),
            "--runs" => s.runs = value("--runs")?.clamp(10, 1000),
            "--only-client" => s.only_client = true,
            "--no-pin" => s.pin = false,
            "--no-cold-build" => s.cold_build = false,
            "--cold-build-only" => s.cold_build_only = true,
            // `cargo bench` passes `--bench` to a bench without harness.
            "--bench" => {}
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(s)
}

// The same values for every contender.
const TOKEN: &str = "bench-access-token";
const API_KEY: &str = "bench-api-key";
const ORG_ID: &str = "BENCH0000000000000000@AdobeOrg";
const SANDBOX: &str = "prod";
const NAME: &str = "Test connection for PostgreSQL";
const PG_HOST: &str = "pg.example.com";
const PG_DATABASE: &str = "analytics";
const PG_USER: &str = "etl_reader";
const PASSWORD: &str = "bench-pw-7f3a9c";
const WARMUP: usize = 200;

fn platform(server: &Server) -> Platform {
    Platform::new(
        Secret::from(TOKEN),
        API_KEY,
        Sandbox {
            org_id: ORG_ID,
            name: SANDBOX,
        },
    )
    .with_base_url(server.base_url())
}

fn connection() -> PostgresConnection {
    PostgresConnection::new(
        NAME,
        PostgresLogin {
            server: PG_HOST,
            database: PG_DATABASE,
            username: PG_USER,
            password: Secret::from(PASSWORD),
        },
    )
    .with_description(NAME)
}

// ---------------------------------------------------------------------------
// Throughput

/// Calls per second of each round, and the calling thread's CPU time per
/// call over all rounds.
struct Rates {
    per_round: Vec<f64>,
    cpu_us_per_call: Option<f64>,
}

impl Rates {
    fn median(&self) -> f64 {
        median(&self.per_round)
    }
    fn spread(&self) -> String {
        let min = self.per_round.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.per_round.iter().copied().fold(0.0, f64::max);
        format!("{min:.0}-{max:.0}")
    }
}

/// Time this thread has spent on a CPU, in nanoseconds (Linux:
/// `/proc/thread-self/schedstat`); `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs `call` `WARMUP` times, then `rounds` rounds of `n`, timing each.
fn measure(
    settings: &Settings,
    mut call: impl FnMut() -> Result<(), String>,
) -> Result<Rates, String> {
    for _ in 0..WARMUP {
        call()?;
    }
    let mut per_round = Vec::with_capacity(settings.rounds);
    let cpu_before = thread_cpu_ns();
    for _ in 0..settings.rounds {
        let started = Instant::now();
        for _ in 0..settings.n {
            call()?;
        }
        per_round.push(settings.n as f64 / started.elapsed().as_secs_f64());
    }
    let calls = (settings.n * settings.rounds) as f64;
    let cpu_us_per_call = match (cpu_before, thread_cpu_ns()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / 1000.0 / calls),
        _ => None,
    };
    Ok(Rates {
        per_round,
        cpu_us_per_call,
    })
}

fn bench_client(settings: &Settings, client: &Client) -> Result<Rates, String> {
    let conn = connection();
    measure(settings, || {
        client
            .create_postgres_connection(&conn)
            .map(drop)
            .map_err(|e| format!("client: {e}"))
    })
}

/// One keep-alive connection that writes `request` and reads the answer by
/// its `Content-Length`.
struct RawConnection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConnection {
    fn open(addr: SocketAddr) -> io::Result<RawConnection> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        Ok(RawConnection {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends `request` (in one write, or in two when `split_at` is given),
    /// returns the status code.
    fn call(&mut self, request: &[u8], split_at: Option<usize>) -> io::Result<u16> {
        match split_at {
            None => self.stream.write_all(request)?,
            Some(at) => {
                let (head, body) = request.split_at(at.min(request.len()));
                self.stream.write_all(head)?;
                self.stream.write_all(body)?;
            }
        }
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        loop {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
            let Some(head_end) = find(&self.buf, b"\r\n\r\n") else {
                continue;
            };
            let head = &self.buf[..head_end];
            let len = content_length(head)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no content-length"))?;
            if self.buf.len() >= head_end + 4 + len {
                let status = head
                    .get(9..12)
                    .and_then(|s| std::str::from_utf8(s).ok())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                return Ok(status);
            }
        }
    }
}

/// The captured request's header lines (minus the ones a client writes
/// itself) and body.
fn request_parts(request: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let head_end = find(request, b"\r\n\r\n").unwrap_or(request.len());
    let head = String::from_utf8_lossy(&request[..head_end]);
    let headers = head
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| {
            !["host", "content-length", "transfer-encoding", "connection"]
                .contains(&k.trim().to_ascii_lowercase().as_str())
        })
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = request
        .get(head_end + 4..)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    (headers, body)
}

/// A bare `ureq::Agent` (the client's transport) doing the same POST with
/// the same headers, configured like the client. With `global_timeout`
/// off, ureq resolves the host on the calling thread instead of on a new
/// thread per call: the difference between the two is that thread.
struct UreqCaller {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl UreqCaller {
    fn new(server: &Server, request: &[u8], global_timeout: bool) -> UreqCaller {
        let limit = Some(Duration::from_secs(5));
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_connect(limit)
            .timeout_global(if global_timeout { limit } else { None })
            .timeout_recv_response(if global_timeout { None } else { limit })
            .timeout_recv_body(if global_timeout { None } else { limit })
            .user_agent(concat!("aep-flow/", env!("CARGO_PKG_VERSION")))
            .build();
        let (headers, body) = request_parts(request);
        UreqCaller {
            agent: ureq::Agent::new_with_config(config),
            url: server.create_url(),
            headers,
            body,
        }
    }

    fn call(&self) -> Result<(), String> {
        let mut req = self.agent.post(&self.url);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let mut resp = req.send(&self.body[..]).map_err(|e| format!("ureq: {e}"))?;
        let status = resp.status().as_u16();
        let answer = resp
            .body_mut()
            .with_config()
            .limit(1024 * 1024)
            .read_to_vec()
            .map_err(|e| format!("ureq: {e}"))?;
        if status != 201 || answer.is_empty() {
            return Err(format!("ureq: status {status}"));
        }
        Ok(())
    }
}

/// The raw-socket loop; with `split_at`, head and body go out in two
/// writes, as ureq sends them.
fn bench_raw(
    settings: &Settings,
    server: &Server,
    request: &[u8],
    split_at: Option<usize>,
) -> Result<Rates, String> {
    let mut conn = RawConnection::open(server.addr).map_err(|e| format!("raw: {e}"))?;
    measure(settings, || match conn.call(request, split_at) {
        Ok(201) => Ok(()),
        Ok(s) => Err(format!("raw: status {s}")),
        Err(e) => Err(format!("raw: {e}")),
    })
}

/// The `requests` loop: reads its settings as JSON on stdin, prints the
/// seconds each round took.
const PYTHON_LOOP: &str = r#"
import json, sys, time
import requests
cfg = json.load(sys.stdin)
s = requests.Session()
s.trust_env = False  # no proxies or netrc from the environment: loopback only
url, headers, body = cfg["url"], cfg["headers"], cfg["body"].encode()
def call():
    r = s.post(url, headers=headers, data=body)
    if r.status_code != 201:
        raise SystemExit("status %d" % r.status_code)
    r.json()["id"]
for _ in range(cfg["warmup"]):
    call()
out = []
for _ in range(cfg["rounds"]):
    t = time.perf_counter()
    for _ in range(cfg["n"]):
        call()
    out.append(time.perf_counter() - t)
print(" ".join(repr(x) for x in out))
"#;

enum Python {
    Rates(Rates),
    Skipped(String),
}

fn bench_python(settings: &Settings, server: &Server, request: &[u8], timeout: Duration) -> Python {
    let probe = Command::new("python3")
        .args(["-c", "import requests"])
        .stdin(Stdio::null())
        .output();
    match probe {
        Err(e) => return Python::Skipped(format!("python3 not found ({e})")),
        Ok(o) if !o.status.success() => {
            return Python::Skipped("python3 cannot import requests (pip install requests)".into())
        }
        Ok(_) => {}
    }
    // Same headers and body as the client's own request (Host and the
    // framing headers are written by requests itself).
    let (headers, body) = request_parts(request);
    let headers: serde_json::Map<String, serde_json::Value> =
        headers.into_iter().map(|(k, v)| (k, v.into())).collect();
    let body = String::from_utf8_lossy(&body).into_owned();
    let cfg = serde_json::json!({
        "url": server.create_url(),
        "headers": headers,
        "body": body,
        "n": settings.n,
        "rounds": settings.rounds,
        "warmup": WARMUP,
    });
    let mut cmd = Command::new("python3");
    cmd.args(["-c", PYTHON_LOOP])
        .env("NO_PROXY", "127.0.0.1,localhost");
    match run_with_input(&mut cmd, cfg.to_string().as_bytes(), timeout) {
        Err(e) => Python::Skipped(format!("python loop failed: {e}")),
        Ok(out) if out.status.code().is_none() => Python::Skipped(format!(
            "python loop killed after the {} s timeout",
            timeout.as_secs()
        )),
        Ok(out) if !out.status.success() => Python::Skipped(format!(
            "python loop failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(out) => {
            let secs: Vec<f64> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect();
            if secs.len() != settings.rounds {
                return Python::Skipped("python loop printed no timings".into());
            }
            Python::Rates(Rates {
                per_round: secs.iter().map(|s| settings.n as f64 / s).collect(),
                cpu_us_per_call: None,
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Report

/// One table row and its `key=value` pair.
struct Row {
    key: &'static str,
    value: Option<f64>,
    decimals: usize,
    spread: String,
    target: Option<(&'static str, f64)>,
}

impl Row {
    fn new(key: &'static str, value: Option<f64>, decimals: usize) -> Row {
        Row {
            key,
            value,
            decimals,
            spread: String::new(),
            target: None,
        }
    }
    fn spread(mut self, spread: String) -> Row {
        self.spread = spread;
        self
    }
    fn target(mut self, op: &'static str, bound: f64) -> Row {
        self.target = Some((op, bound));
        self
    }
    fn value_text(&self) -> String {
        match self.value {
            Some(v) if v.is_finite() => format!("{v:.*}", self.decimals),
            _ => "n/a".into(),
        }
    }
    fn status(&self) -> &'static str {
        match (self.target, self.value) {
            (None, _) => "",
            (Some(_), None) => "skipped",
            (Some((">=", b)), Some(v)) if v >= b => "met",
            (Some(("<=", b)), Some(v)) if v <= b => "met",
            _ => "MISSED",
        }
    }
}

/// The release `aep-flow connections create` doing one create against
/// `base_url`, trusting `ca` (`SSL_CERT_FILE`) when given.
fn command_create(exe: &Path, base_url: &str, ca: Option<&str>) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args([
        "connections",
        "create",
        "--name",
        NAME,
        "--description",
        NAME,
    ])
    .env_clear()
    .env("AEP_ACCESS_TOKEN", TOKEN)
    .env("AEP_API_KEY", API_KEY)
    .env("AEP_ORG_ID", ORG_ID)
    .env("AEP_SANDBOX_NAME", SANDBOX)
    .env("AEP_FLOW_SERVICE_URL", base_url)
    .env("PGHOST", PG_HOST)
    .env("PGDATABASE", PG_DATABASE)
    .env("PGUSER", PG_USER)
    .env("PGPASSWORD", PASSWORD);
    if let Some(ca) = ca {
        cmd.env("SSL_CERT_FILE", ca);
    }
    cmd
}

/// The tutorial's `curl -X POST`, with `-q` (no ~/.curlrc), `-sS` and
/// `--noproxy '*'` so that it stays on loopback; `--cacert ca` when given.
fn curl_command(create_url: &str, body: &str, ca: Option<&str>) -> Command {
    let mut cmd = Command::new("curl");
    cmd.args(["-q", "-sS", "--noproxy", "*"]);
    if let Some(ca) = ca {
        cmd.args(["--cacert", ca]);
    }
    cmd.args(["-X", "POST", create_url])
        .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
        .args(["-H", &format!("x-api-key: {API_KEY}")])
        .args(["-H", &format!("x-gw-ims-org-id: {ORG_ID}")])
        .args(["-H", &format!("x-sandbox-name: {SANDBOX}")])
        .args(["-H", "Content-Type: application/json"])
        .args(["-d", body])
        .env_clear();
    cmd
}

/// Whole-process runs for the TLS figures (median reported).
const TLS_RUNS: usize = 11;

/// One create over TLS as a whole process (`aep-flow` trusting the test
/// certificate through `SSL_CERT_FILE`) and curl doing the same POST with
/// `--cacert`, against `tests/support/tls_flow_server.py`.
fn bench_tls(
    exe: &Path,
    body: &str,
    gnu_time: Option<&Path>,
) -> Result<(Option<ProcessFigures>, Option<ProcessFigures>), String> {
    let server = TlsServer::start(Duration::from_secs(300))?;
    let base_url = server.base_url();
    let create_url = format!("{base_url}/connections");
    let cert = server.cert.clone();
    let (process, _) = measure_process(
        TLS_RUNS,
        || command_create(exe, &base_url, Some(&cert)),
        gnu_time,
    )
    .map_err(|e| format!("aep-flow over TLS: {e}"))?;
    let (curl, _) = measure_process(
        TLS_RUNS,
        || curl_command(&create_url, body, Some(&cert)),
        gnu_time,
    )
    .map_err(|e| format!("curl over TLS: {e}"))?;
    // Each measure_process makes 1 + runs + 5 calls.
    let expected = 2 * (1 + TLS_RUNS as u64 + 5);
    // The drain thread may lag the last line by a moment.
    let deadline = Instant::now() + Duration::from_secs(2);
    while server.requests() < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if server.requests() != expected {
        return Err(format!(
            "the TLS server logged {} requests, expected {expected}",
            server.requests()
        ));
    }
    Ok((Some(process), Some(curl)))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn main() {
    let settings = match parse_settings() {
        Ok(s) => s,
        Err(m) => {
            eprintln!("{m}");
            std::process::exit(2);
        }
    };
    if !settings.cold_build_only {
        if let Err(e) = run(&settings) {
            eprintln!("bench: error: {e}");
            std::process::exit(1);
        }
    }
    // Last and unpinned: cargo uses every CPU, and nothing else is measured
    // while it runs.
    if (settings.cold_build && !settings.only_client) || settings.cold_build_only {
        build_time::print_cold_build_times();
    }
}

/// Requests and writes one `ensure_pipeline` (or `plan_pipeline`) sends,
/// from the fake's log.
struct PipelineCounts {
    first: (usize, usize),
    rerun: (usize, usize),
    drift: (usize, usize),
    /// `plan_pipeline` on the converged pipeline.
    plan: (usize, usize),
    rerun_ms: f64,
    get_ms: f64,
}

fn bench_pipeline() -> Result<PipelineCounts, String> {
    use aep_flow::{Frequency, Mapping, PipelineSpec, Schedule};
    use aep_flow_testing::{demo_catalog, FakeFlowService};
    let fake = FakeFlowService::start().map_err(|e| format!("fake: {e}"))?;
    let base = fake.insert_connection(
        "pg",
        aep_flow::spec::CONNECTION_STRING_AUTH,
        serde_json::json!({"connectionString": "Server=db;Database=d;UID=u;Password=p"}),
    );
    fake.set_catalog(&base, demo_catalog());
    let base: aep_flow::ConnectionId = base.parse().map_err(|e| format!("base: {e}"))?;
    let dataset = "5c8c3c555033b814b69f947f";
    fake.add_dataset(dataset, "orders", "https://ns.adobe.com/t/schemas/orders");
    let dataset: aep_flow::DatasetId = dataset.parse().map_err(|e| format!("dataset: {e}"))?;
    let platform = Platform::new(
        Secret::from(fake.access_token()),
        fake.api_key(),
        Sandbox {
            org_id: fake.org_id(),
            name: fake.sandbox_name(),
        },
    )
    .with_base_url(fake.base_url());
    let client = Client::new(platform).map_err(|e| format!("client: {e}"))?;
    let spec = |frequency| {
        PipelineSpec::new()
            .with_base_connection_id(base.clone())
            .with_table_path("public.orders")
            .with_dataset_id(dataset.clone())
            .with_mappings(vec![
                Mapping::new("id", "_t.orderId"),
                Mapping::new("amount", "_t.amount"),
            ])
            .with_delta_column("updated_at")
            .with_schedule(Schedule::every(frequency, 1, 1_764_230_400).expect("a valid schedule"))
    };
    let count_of = |plan_only: bool, spec: &PipelineSpec| -> Result<(usize, usize), String> {
        let before = fake.requests().len();
        if plan_only {
            client.plan_pipeline(spec).map(drop)
        } else {
            client.ensure_pipeline(spec).map(drop)
        }
        .map_err(|e| format!("pipeline: {e}"))?;
        let sent = fake.requests().split_off(before);
        let writes = sent
            .iter()
            .filter(|r| r.method != "GET" && !r.path.contains("/validate"))
            .count();
        Ok((sent.len(), writes))
    };
    let count = |spec: &PipelineSpec| count_of(false, spec);
    let first = count(&spec(Frequency::Hour))?;
    let rerun = count(&spec(Frequency::Hour))?;
    let drift = count(&spec(Frequency::Day))?;
    let plan = count_of(true, &spec(Frequency::Day))?;
    let median_ms = |f: &dyn Fn() -> Result<(), String>| -> Result<f64, String> {
        let mut times = Vec::new();
        for _ in 0..51 {
            let t = Instant::now();
            f()?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        Ok(times[times.len() / 2])
    };
    let daily = spec(Frequency::Day);
    let rerun_ms = median_ms(&|| {
        client
            .ensure_pipeline(&daily)
            .map(drop)
            .map_err(|e| e.to_string())
    })?;
    let get_ms = median_ms(&|| {
        client
            .get_connection(&base)
            .map(drop)
            .map_err(|e| e.to_string())
    })?;
    Ok(PipelineCounts {
        first,
        rerun,
        drift,
        plan,
        rerun_ms,
        get_ms,
    })
}

fn run(settings: &Settings) -> Result<(), String> {
    let mut notes: Vec<String> = Vec::new();
    // Build (or find) the release command first, before pinning (cargo may
    // use every CPU), so that no compiler of ours runs while anything is
    // measured.
    let build_started = Instant::now();
    let command = if settings.only_client {
        Err("not wanted".to_owned())
    } else {
        release_command()
    };
    let build_time = build_started.elapsed();
    let started = Instant::now();
    let pinned = if settings.pin { pin_to_one_cpu() } else { None };
    if settings.pin && pinned.is_none() {
        notes.push("could not pin to one CPU: figures depend on scheduling".into());
    }
    let server = Server::start().map_err(|e| format!("server: {e}"))?;
    // Keep-alive for every create, as the issue asks: the default closes a
    // connection after a request body that holds a password (so ureq's
    // buffer does not linger); that costs a TCP handshake per create and
    // is measured separately below.
    let client = Client::builder(platform(&server))
        .with_timeout(Duration::from_secs(5))
        .with_connect_timeout(Duration::from_secs(5))
        .with_max_retries(0)
        .with_keep_alive_after_secret_bodies(true)
        .build()
        .map_err(|e| format!("client: {e}"))?;

    // Client throughput (its first call is the request the others replay).
    let client_rates = bench_client(settings, &client)?;
    if settings.only_client {
        println!(
            "client_calls_per_s={:.0} ({})",
            client_rates.median(),
            client_rates.spread()
        );
        return Ok(());
    }
    let request = server
        .first_request
        .lock()
        .ok()
        .and_then(|r| r.clone())
        .ok_or("the server captured no request")?;
    let head_end = find(&request, b"\r\n\r\n").unwrap_or(request.len());
    let body_len = request.len().saturating_sub(head_end + 4);

    let default_client = Client::builder(platform(&server))
        .with_timeout(Duration::from_secs(5))
        .with_connect_timeout(Duration::from_secs(5))
        .with_max_retries(0)
        .build()
        .map_err(|e| format!("client: {e}"))?;
    let default_rates = bench_client(settings, &default_client)?;
    let raw_rates = bench_raw(settings, &server, &request, None)?;
    let split_rates = bench_raw(settings, &server, &request, Some(head_end + 4))?;
    let ureq = UreqCaller::new(&server, &request, true);
    let ureq_rates = measure(settings, || ureq.call())?;
    let ureq_sync = UreqCaller::new(&server, &request, false);
    let ureq_sync_rates = measure(settings, || ureq_sync.call())?;

    // 60 s for the default 3 x 5000 calls (requests does ~1500/s here).
    let python_budget =
        Duration::from_secs_f64(30.0 + (settings.n * settings.rounds) as f64 / 500.0);
    let python = bench_python(settings, &server, &request, python_budget);
    let python_rate = match &python {
        Python::Rates(r) => Some(r.median()),
        Python::Skipped(why) => {
            notes.push(format!("python_requests skipped: {why}"));
            None
        }
    };

    let conn = connection();
    let allocations = count_allocations(1000, || {
        client
            .create_postgres_connection(&conn)
            .map(drop)
            .map_err(|e| format!("client: {e}"))
    })?;
    let ureq_allocations = count_allocations(1000, || ureq.call())?;

    // Whole processes.
    let gnu_time = Path::new("/usr/bin/time");
    let gnu_time = gnu_time.is_file().then_some(gnu_time);
    let body = String::from_utf8_lossy(&request_parts(&request).1).into_owned();
    let curl_ok = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let command = match command {
        Ok((exe, note)) => {
            notes.extend(note);
            Ok(exe)
        }
        Err(e) => Err(e),
    };
    let process = match &command {
        Ok(exe) => {
            let url = server.base_url();
            match measure_process(settings.runs, || command_create(exe, &url, None), gnu_time) {
                Ok((figures, note)) => {
                    notes.extend(note);
                    Some(figures)
                }
                Err(e) => {
                    notes.push(format!("process figures skipped: {e}"));
                    None
                }
            }
        }
        Err(e) => {
            notes.push(format!("process figures skipped: {e}"));
            None
        }
    };
    let curl = if curl_ok {
        let create_url = server.create_url();
        match measure_process(
            settings.runs,
            || curl_command(&create_url, &body, None),
            gnu_time,
        ) {
            Ok((figures, _)) => Some(figures),
            Err(e) => {
                notes.push(format!("curl figures skipped: {e}"));
                None
            }
        }
    } else {
        notes.push("curl not found: curl figures skipped".into());
        None
    };
    let (tls_process, tls_curl) = match (&command, curl_ok, gnu_time) {
        (Err(e), _, _) => {
            notes.push(format!("tls figures n/a: {e}"));
            (None, None)
        }
        (_, false, _) => {
            notes.push("tls figures n/a: curl not found".into());
            (None, None)
        }
        (_, _, None) => {
            notes.push("tls figures n/a: no /usr/bin/time (GNU time)".into());
            (None, None)
        }
        (Ok(exe), true, Some(_)) => match bench_tls(exe, &body, gnu_time) {
            Ok(figures) => figures,
            Err(e) => {
                notes.push(format!("tls figures n/a: {e}"));
                (None, None)
            }
        },
    };
    let floor_kib = gnu_time.and_then(|t| {
        let out = Command::new(t)
            .args(["-f", "%M", "true"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()?
            .trim()
            .parse::<u64>()
            .ok()
    });

    let pipeline = bench_pipeline();
    if let Err(e) = &pipeline {
        notes.push(format!("pipeline figures skipped: {e}"));
    }
    let p = pipeline.as_ref().ok();
    let n = |f: fn(&PipelineCounts) -> usize| p.map(|p| f(p) as f64);

    // Report.
    let client_rate = Some(client_rates.median());
    let raw_rate = Some(raw_rates.median());
    let process_ms = process.as_ref().map(|p| p.ms_median);
    let process_kib = process
        .as_ref()
        .map(|p| p.peak_kib as f64)
        .filter(|k| *k > 0.0);
    let curl_ms = curl.as_ref().map(|p| p.ms_median);
    let curl_kib = curl
        .as_ref()
        .map(|p| p.peak_kib as f64)
        .filter(|k| *k > 0.0);
    let ms = |p: &Option<ProcessFigures>| p.as_ref().map(|p| p.ms_median);
    let kib =
        |p: &Option<ProcessFigures>| p.as_ref().map(|p| p.peak_kib as f64).filter(|k| *k > 0.0);
    let (tls_process_ms, tls_process_kib) = (ms(&tls_process), kib(&tls_process));
    let (tls_curl_ms, tls_curl_kib) = (ms(&tls_curl), kib(&tls_curl));
    let min_spread = |p: &Option<ProcessFigures>| {
        p.as_ref()
            .map(|p| format!("min {:.2}", p.ms_min))
            .unwrap_or_default()
    };
    let rows = vec![
        Row::new("client_calls_per_s", client_rate, 0).spread(client_rates.spread()),
        Row::new(
            "client_close_after_create_calls_per_s",
            Some(default_rates.median()),
            0,
        )
        .spread(default_rates.spread()),
        Row::new("raw_socket_calls_per_s", raw_rate, 0).spread(raw_rates.spread()),
        Row::new("raw_split_calls_per_s", Some(split_rates.median()), 0)
            .spread(split_rates.spread()),
        Row::new("ureq_calls_per_s", Some(ureq_rates.median()), 0).spread(ureq_rates.spread()),
        Row::new(
            "ureq_no_global_timeout_calls_per_s",
            Some(ureq_sync_rates.median()),
            0,
        )
        .spread(ureq_sync_rates.spread()),
        Row::new("python_requests_calls_per_s", python_rate, 0).spread(match &python {
            Python::Rates(r) => r.spread(),
            Python::Skipped(_) => String::new(),
        }),
        Row::new("client_vs_raw", ratio(client_rate, raw_rate), 3).target(">=", 0.5),
        Row::new("client_vs_python", ratio(client_rate, python_rate), 2).target(">=", 15.0),
        Row::new("process_ms_median", process_ms, 2).spread(min_spread(&process)),
        Row::new("process_peak_kib", process_kib, 0),
        Row::new("curl_ms_median", curl_ms, 2).spread(min_spread(&curl)),
        Row::new("curl_peak_kib", curl_kib, 0),
        Row::new("process_vs_curl", ratio(process_ms, curl_ms), 3).target("<=", 0.35),
        Row::new("peak_vs_curl", ratio(process_kib, curl_kib), 3).target("<=", 0.35),
        Row::new("tls_process_ms_median", tls_process_ms, 2).spread(min_spread(&tls_process)),
        Row::new("tls_process_peak_kib", tls_process_kib, 0),
        Row::new("tls_curl_ms_median", tls_curl_ms, 2).spread(min_spread(&tls_curl)),
        Row::new("tls_curl_peak_kib", tls_curl_kib, 0),
        Row::new("tls_process_vs_curl", ratio(tls_process_ms, tls_curl_ms), 3).target("<=", 0.35),
        Row::new("tls_peak_vs_curl", ratio(tls_process_kib, tls_curl_kib), 3).target("<=", 0.35),
        Row::new("client_cpu_us_per_call", client_rates.cpu_us_per_call, 1),
        Row::new("raw_cpu_us_per_call", raw_rates.cpu_us_per_call, 1),
        Row::new("client_allocs_per_call", Some(allocations.per_call), 1),
        Row::new(
            "client_alloc_bytes_per_call",
            Some(allocations.bytes_per_call),
            0,
        ),
        Row::new("pipeline_first_run_requests", n(|p| p.first.0), 0),
        Row::new("pipeline_first_run_writes", n(|p| p.first.1), 0),
        Row::new("pipeline_rerun_requests", n(|p| p.rerun.0), 0).target("<=", 5.0),
        Row::new("pipeline_rerun_writes", n(|p| p.rerun.1), 0).target("<=", 0.0),
        Row::new("pipeline_schedule_drift_requests", n(|p| p.drift.0), 0),
        Row::new("pipeline_schedule_drift_writes", n(|p| p.drift.1), 0),
        Row::new("pipeline_plan_in_sync_requests", n(|p| p.plan.0), 0).target("<=", 4.0),
        Row::new("pipeline_plan_in_sync_writes", n(|p| p.plan.1), 0).target("<=", 0.0),
        Row::new("pipeline_rerun_ms_median", p.map(|p| p.rerun_ms), 2),
        Row::new(
            "pipeline_rerun_vs_one_get",
            p.map(|p| p.rerun_ms / p.get_ms),
            2,
        ),
        Row::new("ureq_allocs_per_call", Some(ureq_allocations.per_call), 1),
        Row::new(
            "ureq_alloc_bytes_per_call",
            Some(ureq_allocations.bytes_per_call),
            0,
        ),
    ];

    println!(
        "aep-flow bench: N={} calls x {} rounds (median round; {} warm-up calls), {} process runs",
        settings.n, settings.rounds, WARMUP, settings.runs
    );
    println!(
        "server: minimal keep-alive HTTP/1.1 thread in the bench at {} (201 + fixture); request {} B head + {} B body",
        server.addr,
        head_end + 4,
        body_len
    );
    println!(
        "cpu: {}",
        match pinned {
            Some(cpu) => format!(
                "bench, server, python and child processes all pinned to CPU {cpu} (--no-pin to let them float)"
            ),
            None => "not pinned: threads float between CPUs".into(),
        }
    );
    println!();
    println!(
        "{:<36} {:>10}  {:<16} {:<10} status",
        "figure", "value", "spread", "target"
    );
    println!("{}", "-".repeat(82));
    for row in &rows {
        let target = row
            .target
            .map(|(op, b)| format!("{op} {b}"))
            .unwrap_or_default();
        println!(
            "{:<36} {:>10}  {:<16} {:<10} {}",
            row.key,
            row.value_text(),
            row.spread,
            target,
            row.status()
        );
    }
    println!();
    let mut big: Vec<usize> = allocations
        .traced_sizes
        .iter()
        .copied()
        .filter(|s| *s >= body_len)
        .collect();
    big.sort_unstable_by(|a, b| b.cmp(a));
    println!(
        "one traced create: {} allocations, {} B; blocks >= body ({} B): {:?}; freed blocks still holding the password: {:?}",
        allocations.traced_sizes.len(),
        allocations.traced_sizes.iter().sum::<usize>(),
        body_len,
        big,
        allocations.freed_with_secret
    );
    if let Some(floor) = floor_kib {
        println!("peak RSS floor (GNU time running `true`): {floor} KiB");
    }
    for note in &notes {
        println!("note: {note}");
    }
    println!(
        "server answered {} requests; measuring took {:.1} s (after {:.1} s building aep-flow)",
        server.served.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        build_time.as_secs_f64()
    );
    let summary: Vec<String> = rows
        .iter()
        .map(|r| format!("{}={}", r.key, r.value_text()))
        .collect();
    println!("{}", summary.join(" "));
    Ok(())
}
