//! Benchmarks for issue 6: how close the client gets to the loopback limit,
//! and how it compares with `requests` (Python) and with `curl`.
//!
//! ```text
//! cargo run --release --example bench [-- --n CALLS --rounds R --runs RUNS --no-pin]
//! ```
//!
//! Everything runs against ONE loopback server started here: a minimal
//! keep-alive HTTP/1.1 server thread (per connection) that answers
//! `POST .../connections` with `201 Created` and the tutorial's fixture
//! (`{"id": ..., "etag": ...}`). It does not use `testing::FakeFlowService`
//! on purpose: the fake records every request (memory grows with N), checks
//! the body with serde_json and takes a mutex, and that cost would be
//! charged to every contender.
//!
//! Figures (the last line repeats them as `key=value` pairs):
//!
//! - `client_calls_per_s`: N creates through one reused `aep_flow::Client`
//!   with `keep_alive_after_secret_bodies(true)` (keep-alive for every call).
//! - `client_close_after_create_calls_per_s`: the same with the default
//!   settings, which close the connection after each create (a new TCP
//!   connection per call).
//! - `raw_socket_calls_per_s`: the client's own request bytes (captured by
//!   the server) written to one keep-alive `TcpStream`, the answer read by
//!   `Content-Length`: the loopback limit for this server.
//! - `python_requests_calls_per_s`: a `requests.Session` loop doing the
//!   same POST (same headers, same body), when `python3 -c "import
//!   requests"` works; skipped with a note otherwise. Nothing is installed.
//! - `process_*`: the release `create_postgres_connection` example as a whole
//!   process, one call (median wall time over `--runs`, default 21), and its
//!   peak RSS from GNU `/usr/bin/time -f %M` (not from `wait4` here: Linux
//!   carries the parent's high-water mark into a child's `ru_maxrss`).
//!   `curl_*`: the tutorial's `curl -X POST` doing the same call.
//! - Per-call allocations of a create through the client, from a counting
//!   global allocator (only the calling thread is counted), with the sizes
//!   of the blocks at least as large as the request body and the sizes of
//!   freed blocks that still held the password (copies not wiped).
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
//! Every loop is bounded, every socket and child process has a timeout, and
//! the whole run takes well under two minutes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use aep_flow::{Client, Platform, PostgresConnection, Secret};

// ---------------------------------------------------------------------------
// Counting allocator

/// Counts allocations made by threads that opted in (see [`Counting`]).
struct CountingAllocator;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
/// When set, the sizes of counted allocations are recorded in `TRACE` and
/// freed blocks are searched for `MARKER`.
static TRACING: AtomicBool = AtomicBool::new(false);
static TRACE: [AtomicUsize; 512] = [const { AtomicUsize::new(0) }; 512];
static TRACE_LEN: AtomicUsize = AtomicUsize::new(0);
/// Freed blocks (while tracing) that still contained the password, and
/// their sizes.
static FREED_WITH_SECRET: AtomicUsize = AtomicUsize::new(0);
static FREED_SIZES: [AtomicUsize; 16] = [const { AtomicUsize::new(0) }; 16];
/// The database password used by the bench; unique enough to search for.
const MARKER: &[u8] = b"bench-pw-7f3a9c";

thread_local! {
    static COUNT_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn counting() -> bool {
    COUNT_THIS_THREAD.try_with(Cell::get).unwrap_or(false)
}

fn record(size: usize) {
    if !counting() {
        return;
    }
    ALLOCS.fetch_add(1, Ordering::Relaxed);
    ALLOC_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    if TRACING.load(Ordering::Relaxed) {
        let i = TRACE_LEN.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = TRACE.get(i) {
            slot.store(size, Ordering::Relaxed);
        }
    }
}

fn check_freed(ptr: *mut u8, size: usize) {
    if !(counting() && TRACING.load(Ordering::Relaxed)) || size < MARKER.len() {
        return;
    }
    // SAFETY: `ptr` is a live block of `size` bytes (it is about to be freed).
    let bytes = unsafe { std::slice::from_raw_parts(ptr, size) };
    if bytes.windows(MARKER.len()).any(|w| w == MARKER) {
        let i = FREED_WITH_SECRET.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = FREED_SIZES.get(i) {
            slot.store(size, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the bookkeeping
// only touches atomics and a const-initialized thread-local (no allocation).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        check_freed(ptr, layout.size());
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A realloc may copy: count it as an allocation of the new size, and
        // the old block as freed (it may be left behind unwiped).
        record(new_size);
        check_freed(ptr, layout.size().min(new_size));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Counts this thread's allocations while alive.
struct Counting;

impl Counting {
    fn start() -> Counting {
        COUNT_THIS_THREAD.with(|c| c.set(true));
        Counting
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        COUNT_THIS_THREAD.with(|c| c.set(false));
    }
}

// ---------------------------------------------------------------------------
// The loopback server

/// The base path Flow Service lives under.
const BASE_PATH: &str = "/data/foundation/flowservice";
/// Idle keep-alive connections are closed after this.
const SERVER_IDLE: Duration = Duration::from_secs(10);

/// A minimal keep-alive HTTP/1.1 server on 127.0.0.1: one thread per
/// connection, `201` + the fixture for `POST .../connections`, `404`
/// otherwise. It captures the first request it receives (head and body).
struct Server {
    addr: SocketAddr,
    served: Arc<AtomicU64>,
    first_request: Arc<Mutex<Option<Vec<u8>>>>,
    shutdown: Arc<AtomicBool>,
}

impl Server {
    fn start() -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = Server {
            addr,
            served: Arc::default(),
            first_request: Arc::default(),
            shutdown: Arc::default(),
        };
        let (served, first, shutdown) = (
            Arc::clone(&server.served),
            Arc::clone(&server.first_request),
            Arc::clone(&server.shutdown),
        );
        thread::Builder::new()
            .name("bench-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if shutdown.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (served, first, shutdown) = (
                        Arc::clone(&served),
                        Arc::clone(&first),
                        Arc::clone(&shutdown),
                    );
                    let _ = thread::Builder::new()
                        .name("bench-conn".into())
                        .spawn(move || serve(stream, &served, &first, &shutdown));
                }
            })?;
        Ok(server)
    }

    fn base_url(&self) -> String {
        format!("http://{}{BASE_PATH}", self.addr)
    }

    fn create_url(&self) -> String {
        format!("{}/connections", self.base_url())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn created_response() -> Vec<u8> {
    let body = aep_flow::testing::FIXTURE_CREATE_RESPONSE.as_bytes();
    let mut out = format!(
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nx-request-id: bench-request\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn not_found_response() -> Vec<u8> {
    let body = br#"{"error_code":"404000","message":"not found"}"#;
    let mut out = format!(
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Serves one connection until the peer closes it, asks to close, goes
/// idle, sends something that is not a plain HTTP/1.1 request, or the
/// server shuts down.
fn serve(
    mut stream: TcpStream,
    served: &AtomicU64,
    first: &Mutex<Option<Vec<u8>>>,
    shutdown: &AtomicBool,
) {
    let created = created_response();
    let not_found = not_found_response();
    if stream.set_nodelay(true).is_err()
        || stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .is_err()
    {
        return;
    }
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    let mut idle_since = Instant::now();
    loop {
        // Is a whole request in the buffer?
        if let Some(head_end) = find(&buf, b"\r\n\r\n") {
            let head = &buf[..head_end];
            let Some(len) = content_length(head) else {
                return; // chunked or malformed: not what this bench sends
            };
            let total = head_end + 4 + len;
            if buf.len() >= total {
                if let Ok(mut slot) = first.lock() {
                    if slot.is_none() {
                        *slot = Some(buf[..total].to_vec());
                    }
                }
                let close = header_value(head, b"connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case(b"close"));
                let is_create = head.starts_with(b"POST ")
                    && head
                        .split(|&b| b == b' ')
                        .nth(1)
                        .is_some_and(|p| p.ends_with(b"/connections"));
                let answer = if is_create { &created } else { &not_found };
                if stream.write_all(answer).is_err() {
                    return;
                }
                served.fetch_add(1, Ordering::Relaxed);
                buf.drain(..total);
                if close {
                    return;
                }
                continue;
            }
        } else if buf.len() > 64 * 1024 {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                idle_since = Instant::now();
            }
            Err(e) if is_timeout(&e) => {
                if shutdown.load(Ordering::SeqCst) || idle_since.elapsed() > SERVER_IDLE {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of a header in an HTTP head (name case-insensitive).
fn header_value<'h>(head: &'h [u8], name: &[u8]) -> Option<&'h [u8]> {
    head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        let (k, v) = line.split_at(colon);
        k.eq_ignore_ascii_case(name).then(|| v[1..].trim_ascii())
    })
}

/// `Some(0)` without the header, `None` for chunked or a bad value.
fn content_length(head: &[u8]) -> Option<usize> {
    if header_value(head, b"transfer-encoding").is_some() {
        return None;
    }
    match header_value(head, b"content-length") {
        None => Some(0),
        Some(v) => std::str::from_utf8(v).ok()?.parse().ok(),
    }
}

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
    /// Pin the bench (all its threads and children) to one CPU; on by
    /// default, off with `--no-pin`.
    pin: bool,
}

const USAGE: &str =
    "usage: bench [--n CALLS (>= 2000, default 5000)] [--rounds R (1-9, default 3)] \
[--runs RUNS (>= 10, default 21)] [--no-pin (let threads float between CPUs)] \
[--only-client (just the client loop, for a profiler)]";

fn parse_settings() -> Result<Settings, String> {
    let mut s = Settings {
        n: 5000,
        rounds: 3,
        runs: 21,
        only_client: false,
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
    Platform::new(Secret::from(TOKEN), API_KEY, ORG_ID, SANDBOX).with_base_url(server.base_url())
}

fn connection() -> PostgresConnection {
    PostgresConnection::new(NAME, PG_HOST, PG_DATABASE, PG_USER, Secret::from(PASSWORD))
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
// Child processes

/// Kills the process `pid` (a child this bench started) unless told to
/// stand down within `timeout`.
fn watchdog(pid: u32, timeout: Duration) -> mpsc::Sender<()> {
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
fn run_timed(cmd: &mut Command, timeout: Duration) -> Result<(Duration, Output), String> {
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

fn run_with_input(cmd: &mut Command, input: &[u8], timeout: Duration) -> Result<Output, String> {
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
struct ProcessFigures {
    ms_median: f64,
    ms_min: f64,
    peak_kib: u64,
}

/// Runs `make()` `runs` times for wall time, then 5 times under GNU time
/// for the peak RSS (median). Each run must exit 0 and print the id.
fn measure_process(
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

/// The release `create_postgres_connection` next to this binary, (re)built
/// with cargo first when cargo is at hand.
fn release_example() -> Result<(PathBuf, Option<String>), String> {
    // The bench binary is `target/<profile>/deps/bench-<hash>`; cargo puts
    // examples in `target/<profile>/examples/`.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("no directory for the bench binary")?
        .join("examples");
    let target = dir.join(format!(
        "create_postgres_connection{}",
        std::env::consts::EXE_SUFFIX
    ));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--quiet",
        "--example",
        "create_postgres_connection",
    ])
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    let note = match run_timed(&mut cmd, Duration::from_secs(90)) {
        Ok((_, out)) if out.status.success() => None,
        Ok((_, out)) => Some(format!(
            "cargo build of the example failed ({}); using the binary on disk",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("cargo not run ({e}); using the binary on disk")),
    };
    if target.is_file() {
        Ok((target, note))
    } else {
        Err(format!(
            "{} is missing; run `cargo build --release --example create_postgres_connection`",
            target.display()
        ))
    }
}

// ---------------------------------------------------------------------------
// Allocations

/// Allocations of one create through the client, averaged over `calls`,
/// plus the block sizes of one traced call.
struct Allocations {
    per_call: f64,
    bytes_per_call: f64,
    traced_sizes: Vec<usize>,
    /// Sizes of the blocks freed during the traced call that still held
    /// the password.
    freed_with_secret: Vec<usize>,
}

fn count_allocations(
    calls: usize,
    mut call: impl FnMut() -> Result<(), String>,
) -> Result<Allocations, String> {
    call()?;
    let (a0, b0) = (
        ALLOCS.load(Ordering::SeqCst),
        ALLOC_BYTES.load(Ordering::SeqCst),
    );
    {
        let _counting = Counting::start();
        for _ in 0..calls {
            call()?;
        }
    }
    let (a1, b1) = (
        ALLOCS.load(Ordering::SeqCst),
        ALLOC_BYTES.load(Ordering::SeqCst),
    );
    TRACE_LEN.store(0, Ordering::SeqCst);
    FREED_WITH_SECRET.store(0, Ordering::SeqCst);
    TRACING.store(true, Ordering::SeqCst);
    let traced = {
        let _counting = Counting::start();
        call()
    };
    TRACING.store(false, Ordering::SeqCst);
    traced?;
    let len = TRACE_LEN.load(Ordering::SeqCst).min(TRACE.len());
    let traced_sizes = TRACE[..len]
        .iter()
        .map(|s| s.load(Ordering::SeqCst))
        .collect();
    Ok(Allocations {
        per_call: (a1 - a0) as f64 / calls as f64,
        bytes_per_call: (b1 - b0) as f64 / calls as f64,
        traced_sizes,
        freed_with_secret: FREED_SIZES[..FREED_WITH_SECRET
            .load(Ordering::SeqCst)
            .min(FREED_SIZES.len())]
            .iter()
            .map(|s| s.load(Ordering::SeqCst))
            .collect(),
    })
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
            _ => "NA".into(),
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
    if let Err(e) = run(&settings) {
        eprintln!("bench: error: {e}");
        std::process::exit(1);
    }
}

fn run(settings: &Settings) -> Result<(), String> {
    let mut notes: Vec<String> = Vec::new();
    // Build (or find) the release example first, before pinning (cargo may
    // use every CPU), so that no compiler of ours runs while anything is
    // measured.
    let build_started = Instant::now();
    let example = if settings.only_client {
        Err("not wanted".to_owned())
    } else {
        release_example()
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
    let url = server.base_url();
    let process = match example {
        Ok((exe, note)) => {
            notes.extend(note);
            let make = || {
                let mut cmd = Command::new(&exe);
                cmd.args(["--name", NAME, "--description", NAME])
                    .env_clear()
                    .env("AEP_ACCESS_TOKEN", TOKEN)
                    .env("AEP_API_KEY", API_KEY)
                    .env("AEP_ORG_ID", ORG_ID)
                    .env("AEP_SANDBOX_NAME", SANDBOX)
                    .env("AEP_FLOW_SERVICE_URL", &url)
                    .env("PGHOST", PG_HOST)
                    .env("PGDATABASE", PG_DATABASE)
                    .env("PGUSER", PG_USER)
                    .env("PGPASSWORD", PASSWORD);
                cmd
            };
            match measure_process(settings.runs, make, gnu_time) {
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
    let body = String::from_utf8_lossy(&request_parts(&request).1).into_owned();
    let create_url = server.create_url();
    let curl_ok = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let curl = if curl_ok {
        // The tutorial's command, with `-q` (no ~/.curlrc), `-sS` and
        // `--noproxy '*'` so that it stays on loopback.
        let make = || {
            let mut cmd = Command::new("curl");
            cmd.args(["-q", "-sS", "--noproxy", "*", "-X", "POST", &create_url])
                .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
                .args(["-H", &format!("x-api-key: {API_KEY}")])
                .args(["-H", &format!("x-gw-ims-org-id: {ORG_ID}")])
                .args(["-H", &format!("x-sandbox-name: {SANDBOX}")])
                .args(["-H", "Content-Type: application/json"])
                .args(["-d", &body])
                .env_clear();
            cmd
        };
        match measure_process(settings.runs, make, gnu_time) {
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
        Row::new("process_vs_curl", ratio(process_ms, curl_ms), 3).target("<=", 0.5),
        Row::new("peak_vs_curl", ratio(process_kib, curl_kib), 3).target("<=", 0.5),
        Row::new("client_cpu_us_per_call", client_rates.cpu_us_per_call, 1),
        Row::new("raw_cpu_us_per_call", raw_rates.cpu_us_per_call, 1),
        Row::new("client_allocs_per_call", Some(allocations.per_call), 1),
        Row::new(
            "client_alloc_bytes_per_call",
            Some(allocations.bytes_per_call),
            0,
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
        "server answered {} requests; measuring took {:.1} s (after {:.1} s building the example)",
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
