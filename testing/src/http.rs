//! The HTTP/1.1 server: accept loop, request parsing (Content-Length and
//! chunked bodies, size limits, idle timeouts), scripted faults, writing
//! replies, and [`RecordedRequest`].

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::export;
use crate::reply::{Action, Reply};
use crate::request::RecordedRequest;
use crate::router;
use crate::state::Shared;

const MAX_HEAD_BYTES: usize = 64 * 1024;
/// More header lines than any client of the fake sends.
const MAX_HEADERS: usize = 64;
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// How often a waiting connection looks at the shutdown flag.
pub(crate) const POLL: Duration = Duration::from_millis(100);
const IDLE_LIMIT: Duration = Duration::from_secs(30);

/// Accepts connections, one thread each, until the fake shuts down.
pub(crate) fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let conn_shared = Arc::clone(&shared);
        let _ = thread::Builder::new()
            .name("aep-flow-fake-conn".into())
            .spawn(move || {
                let _ = serve_connection(stream, &conn_shared);
            });
    }
}

/// Serves requests on one connection until the peer closes it, asks to
/// close, goes idle, or the fake shuts down.
fn serve_connection(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(POLL))?;
    stream.set_nodelay(true)?;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let Some(request) = read_request(&mut stream, &mut buf, shared)? else {
            return Ok(());
        };
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let reply = {
            let mut state = shared.lock();
            // Stopped (`FakeFlowService::stop`): a request that arrives
            // now is neither answered nor reported to the change hook,
            // whose file the fake's owner may already have handed on.
            if shared.shutdown.load(Ordering::SeqCst) {
                return Ok(());
            }
            state.requests.push(request.clone());
            let reply = match state.take_scripted_reply(&request) {
                Some(r) => {
                    if r.process_first {
                        let _ = router::respond(&request, &mut state, &shared.expected);
                    }
                    r
                }
                None => router::respond(&request, &mut state, &shared.expected),
            };
            if request.method != "GET" {
                if let Some(hook) = &shared.on_change {
                    // Only a change is reported (a refused create is none).
                    let exported = export::export(&state).to_string();
                    if state.last_export.as_deref() != Some(exported.as_str()) {
                        // A failure is kept for `FakeFlowService::last_change_error`.
                        state.change_error = hook(&exported).err();
                        state.last_export = Some(exported);
                    }
                }
            }
            reply
        };
        match &reply.action {
            Action::Respond => write_reply(&mut stream, &reply, close)?,
            Action::Echo => write_reply(&mut stream, &reply.echoing(&request), close)?,
            Action::Silent(hold) => {
                let until = Instant::now() + *hold;
                while Instant::now() < until && !shared.shutdown.load(Ordering::SeqCst) {
                    thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
                }
                return Ok(());
            }
            Action::Close => {
                let _ = stream.shutdown(Shutdown::Both);
                return Ok(());
            }
            Action::Truncate(declared) => {
                let mut head = reply.clone();
                head.headers
                    .push(("Content-Length".into(), declared.to_string()));
                write_head(&mut stream, &head, None)?;
                stream.write_all(&reply.body)?;
                stream.flush()?;
                let _ = stream.shutdown(Shutdown::Both);
                return Ok(());
            }
            Action::Stream(len) => {
                write_head(&mut stream, &reply, Some(*len))?;
                let written = stream_body(&mut stream, *len);
                shared.lock().bytes_streamed = Some(written);
                let _ = stream.shutdown(Shutdown::Both);
                return Ok(());
            }
        }
        if close {
            let _ = stream.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
}

/// Writes `len` bytes of a JSON-looking body; returns how many got out
/// before the peer stopped reading (or closed).
fn stream_body(stream: &mut TcpStream, len: u64) -> u64 {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let chunk = [b'a'; 64 * 1024];
    let prefix = b"{\"id\":\"";
    let mut written = 0u64;
    if stream.write_all(prefix).is_err() {
        return 0;
    }
    written += prefix.len() as u64;
    while written < len {
        let n = (len - written).min(chunk.len() as u64) as usize;
        match stream.write(&chunk[..n]) {
            Ok(0) | Err(_) => break,
            Ok(k) => written += k as u64,
        }
    }
    written
}

/// Reads one request. `Ok(None)` when the connection ends cleanly between
/// requests.
fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    shared: &Shared,
) -> io::Result<Option<RecordedRequest>> {
    let mut chunk = [0u8; 8192];
    let mut idle_since = Instant::now();
    let (method, path, headers) = loop {
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut slots);
        // Not HTTP (a TLS ClientHello, say) is an error at its first
        // byte: hang up like a plain server.
        match parsed
            .parse(buf)
            .map_err(|e| bad_owned(format!("bad request head: {e}")))?
        {
            httparse::Status::Complete(head_len) => {
                let method = parsed.method.unwrap_or_default().to_owned();
                let path = parsed.path.unwrap_or_default().to_owned();
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).trim().to_owned(),
                        )
                    })
                    .collect();
                buf.drain(..head_len);
                break (method, path, headers);
            }
            httparse::Status::Partial if buf.len() > MAX_HEAD_BYTES => {
                return Err(bad("head too large"))
            }
            httparse::Status::Partial => {}
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                idle_since = Instant::now();
            }
            Err(e) if is_timeout(&e) => {
                if shared.shutdown.load(Ordering::SeqCst) || idle_since.elapsed() > IDLE_LIMIT {
                    return Ok(None);
                }
            }
            Err(e) => return Err(e),
        }
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(stream, buf)?
    } else {
        let len: usize = header("content-length")
            .map(|v| v.parse().map_err(|_| bad("bad content-length")))
            .transpose()?
            .unwrap_or(0);
        if len > MAX_BODY_BYTES {
            return Err(bad("body too large"));
        }
        fill(stream, buf, len)?;
        buf.drain(..len).collect()
    };
    Ok(Some(RecordedRequest {
        method,
        path,
        headers,
        body,
    }))
}

fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let (line_len, size) = loop {
            match httparse::parse_chunk_size(buf).map_err(|_| bad("bad chunk size"))? {
                httparse::Status::Complete(parsed) => break parsed,
                httparse::Status::Partial if buf.len() > MAX_HEAD_BYTES => {
                    return Err(bad("bad chunk size"))
                }
                httparse::Status::Partial => {
                    let have = buf.len();
                    fill(stream, buf, have + 1)?;
                }
            }
        };
        let size = usize::try_from(size).map_err(|_| bad("body too large"))?;
        buf.drain(..line_len);
        if body.len().saturating_add(size) > MAX_BODY_BYTES {
            return Err(bad("body too large"));
        }
        fill(stream, buf, size + 2)?;
        body.extend(buf.drain(..size));
        buf.drain(..2);
        if size == 0 {
            return Ok(body);
        }
    }
}

/// Reads until `buf` holds at least `len` bytes.
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, len: usize) -> io::Result<()> {
    let mut chunk = [0u8; 8192];
    let started = Instant::now();
    while buf.len() < len {
        match stream.read(&mut chunk) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) && started.elapsed() < IDLE_LIMIT => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn bad_owned(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn bad(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn write_head(
    stream: &mut TcpStream,
    reply: &Reply,
    content_length: Option<u64>,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(256);
    write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        reply.status,
        crate::wire::reason_phrase(reply.status)
    )?;
    for (k, v) in &reply.headers {
        write!(out, "{k}: {v}\r\n")?;
    }
    if let Some(len) = content_length {
        write!(out, "Content-Length: {len}\r\n")?;
    }
    out.extend_from_slice(b"\r\n");
    stream.write_all(&out)
}

fn write_reply(stream: &mut TcpStream, reply: &Reply, close: bool) -> io::Result<()> {
    let mut head = reply.clone();
    if close {
        head.headers.push(("Connection".into(), "close".into()));
    }
    // 1xx, 204 and 304 carry no body and no Content-Length (RFC 9110).
    let no_body = matches!(reply.status, 100..=199 | 204 | 304);
    write_head(stream, &head, (!no_body).then_some(reply.body.len() as u64))?;
    stream.write_all(&reply.body)?;
    stream.flush()
}
