//! The loopback server every in-process contender talks to.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The base path Flow Service lives under.
pub(crate) const BASE_PATH: &str = "/data/foundation/flowservice";
/// Idle keep-alive connections are closed after this.
pub(crate) const SERVER_IDLE: Duration = Duration::from_secs(10);

/// A minimal keep-alive HTTP/1.1 server on 127.0.0.1: one thread per
/// connection, `201` + the fixture for `POST .../connections`, `404`
/// otherwise. It captures the first request it receives (head and body).
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) served: Arc<AtomicU64>,
    pub(crate) first_request: Arc<Mutex<Option<Vec<u8>>>>,
    shutdown: Arc<AtomicBool>,
}

impl Server {
    pub(crate) fn start() -> io::Result<Server> {
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

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}{BASE_PATH}", self.addr)
    }

    pub(crate) fn create_url(&self) -> String {
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

pub(crate) fn created_response() -> Vec<u8> {
    let body = aep_flow_testing::FIXTURE_CREATE_RESPONSE.as_bytes();
    let mut out = format!(
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nx-request-id: bench-request\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

pub(crate) fn not_found_response() -> Vec<u8> {
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
pub(crate) fn serve(
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

pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of a header in an HTTP head (name case-insensitive).
pub(crate) fn header_value<'h>(head: &'h [u8], name: &[u8]) -> Option<&'h [u8]> {
    head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        let (k, v) = line.split_at(colon);
        k.eq_ignore_ascii_case(name).then(|| v[1..].trim_ascii())
    })
}

/// `Some(0)` without the header, `None` for chunked or a bad value.
pub(crate) fn content_length(head: &[u8]) -> Option<usize> {
    if header_value(head, b"transfer-encoding").is_some() {
        return None;
    }
    match header_value(head, b"content-length") {
        None => Some(0),
        Some(v) => std::str::from_utf8(v).ok()?.parse().ok(),
    }
}
