//! A fake Flow Service on 127.0.0.1, for testing tools built on this crate
//! without an Adobe account (feature `testing`).
//!
//! [`FakeFlowService`] is a real HTTP/1.1 server on a loopback port. It
//! behaves like Flow Service's create endpoint: it checks the platform
//! headers, the content type, the connection spec id and the body's shape
//! like the real service would, answers with the same envelopes (the
//! crate's `fixtures/`), records every request for assertions, and can be
//! scripted with replies for failure tests.
//!
//! # Security warning
//!
//! This module is for tests. What it records and stores is plain text:
//! [`RecordedRequest`] keeps the `Authorization` header and the request body
//! (passwords included), [`StoredConnection::params`] keeps the auth params,
//! and [`FakeFlowService::issued_tokens`] returns the tokens it issued. Their
//! `Debug` output is redacted, but a failing `assert_eq!` on the values
//! themselves prints them: use canary values, never real credentials.
//!
//! ```
//! use aep_flow::testing::{FakeFlowService, Reply};
//! use aep_flow::{Client, PostgresConnection, Secret};
//!
//! let fake = FakeFlowService::start().unwrap();
//! let client = Client::new(fake.platform()).unwrap();
//! let conn = PostgresConnection::new("demo", "db.example.com", "orders", "etl", Secret::from("pw"));
//!
//! let created = client.create_postgres_connection(&conn).unwrap();
//! assert_eq!(created.id, "056dd1b4-da33-42f9-add1-b4da3392f94e"); // the tutorial's answer
//!
//! let requests = fake.requests();
//! assert_eq!(requests[0].method, "POST");
//! assert_eq!(requests[0].header("x-sandbox-name"), Some("prod"));
//!
//! // Script a failure for the next request.
//! fake.push_reply(Reply::json(503, r#"{"error_code":"503000","message":"down"}"#));
//! assert_eq!(client.create_postgres_connection(&conn).unwrap_err().status(), Some(503));
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{HEADER_API_KEY, HEADER_AUTHORIZATION, HEADER_ORG_ID, HEADER_SANDBOX};
use crate::postgres::{
    parse_connection_string, BASIC_AUTH, CONNECTION_STRING_AUTH, POSTGRES_CONNECTION_SPEC_ID,
    POSTGRES_CONNECTION_SPEC_VERSION,
};
use crate::{ImsCredentials, Platform, Secret};

mod clock;

pub use clock::ManualClock;

/// The path Flow Service is served under, as on `platform.adobe.io`.
pub const BASE_PATH: &str = "/data/foundation/flowservice";
/// Access token the fake hands out through [`FakeFlowService::platform`].
pub const DEMO_ACCESS_TOKEN: &str = "demo-access-token";
/// API key the fake hands out through [`FakeFlowService::platform`].
pub const DEMO_API_KEY: &str = "demo-api-key";
/// Org id the fake hands out through [`FakeFlowService::platform`].
pub const DEMO_ORG_ID: &str = "DEMO0000000000000000@AdobeOrg";
/// Sandbox the fake hands out through [`FakeFlowService::platform`].
pub const DEMO_SANDBOX: &str = "prod";
/// OAuth client id the fake IMS accepts by default.
pub const DEMO_CLIENT_ID: &str = "demo-client-id";
/// OAuth client secret the fake IMS accepts by default.
pub const DEMO_CLIENT_SECRET: &str = "demo-client-secret";
/// Scopes [`FakeFlowService::ims_credentials`] asks for.
pub const DEMO_SCOPES: &str =
    "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session";

/// The tutorial's answer to a connection-string create.
pub const FIXTURE_CREATE_RESPONSE: &str = include_str!("../../fixtures/create_response.json");
/// An answer to a Basic Authentication create.
pub const FIXTURE_CREATE_RESPONSE_BASIC: &str =
    include_str!("../../fixtures/create_response_basic.json");
/// The gateway's answer to a bad token.
pub const FIXTURE_ERROR_GATEWAY_401: &str = include_str!("../../fixtures/error_gateway_401.json");
/// A Flow Service error envelope.
pub const FIXTURE_ERROR_FLOW_SERVICE_400: &str =
    include_str!("../../fixtures/error_flow_service_400.json");
/// A Platform generic error envelope.
pub const FIXTURE_ERROR_GENERIC_400: &str = include_str!("../../fixtures/error_generic_400.json");
/// A proxy's HTML error page.
pub const FIXTURE_ERROR_PROXY_502: &str = include_str!("../../fixtures/error_proxy_502.html");

const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
const POLL: Duration = Duration::from_millis(100);
const IDLE_LIMIT: Duration = Duration::from_secs(30);

/// One request as the fake received it.
#[derive(Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query, e.g. `/data/foundation/flowservice/connections`.
    pub path: String,
    /// Header names (lower case) and values, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Value::Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl fmt::Debug for RecordedRequest {
    // Requests carry the token and the password: show their shape only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A scripted answer: the next request gets it instead of the normal
/// behaviour (replies are used in the order pushed). Besides ordinary
/// answers it can produce the faults a network produces: silence, a body
/// cut short, a huge body, a dropped connection, an echo of the request.
#[derive(Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    action: Action,
    method: Option<String>,
    /// Do what the service would (store the connection, say) first.
    process_first: bool,
}

impl fmt::Debug for Reply {
    // A scripted body or header may hold a secret (an echo test's canary):
    // show the shape only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .field("action", &self.action)
            .field("method", &self.method)
            .field("process_first", &self.process_first)
            .finish()
    }
}

#[derive(Clone, Debug)]
enum Action {
    Respond,
    /// Read the request, then say nothing for this long, then close.
    Silent(Duration),
    /// Declare this Content-Length, send the body (shorter), then close.
    Truncate(usize),
    /// Send a body of this many bytes, generated on the fly.
    Stream(u64),
    /// Close the connection without answering.
    Close,
    /// Answer with the request (headers and body) in a JSON error message.
    Echo,
}

impl Reply {
    /// A reply with this status and an empty body.
    pub fn new(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            action: Action::Respond,
            method: None,
            process_first: false,
        }
    }

    /// A JSON reply (`Content-Type: application/json`).
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Reply::new(status)
            .header("Content-Type", "application/json")
            .body(body.into().into_bytes())
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Uses this reply only for a request with this method (`PATCH`, say);
    /// requests with other methods pass it by and are served normally.
    pub fn only_for(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Reads the request and never answers; the connection is closed after
    /// `hold` (or when the fake stops).
    pub fn silent(hold: Duration) -> Self {
        Reply {
            action: Action::Silent(hold),
            ..Reply::new(0)
        }
    }

    /// Declares `Content-Length: declared_len` but sends only `body`
    /// (which must be shorter), then closes the connection.
    pub fn truncated(status: u16, declared_len: usize, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            action: Action::Truncate(declared_len),
            ..Reply::new(status)
                .header("Content-Type", "application/json")
                .body(body)
        }
    }

    /// A body of `len` bytes (`{"id":"` then `a` repeated), written in
    /// chunks as the client reads, without holding it in memory. The number
    /// of bytes that got out is in [`FakeFlowService::bytes_streamed`].
    pub fn huge(status: u16, len: u64) -> Self {
        Reply {
            action: Action::Stream(len),
            ..Reply::new(status).header("Content-Type", "application/json")
        }
    }

    /// Closes the connection after reading the request, without a word.
    pub fn close() -> Self {
        Reply {
            action: Action::Close,
            ..Reply::new(0)
        }
    }

    /// Processes the request as the service would (a create stores the
    /// connection), then answers with `reply` instead of the real answer
    /// (an error, [`Reply::close`], [`Reply::silent`]): the answer was lost
    /// on the way back.
    pub fn after_processing(reply: Reply) -> Self {
        Reply {
            process_first: true,
            ..reply
        }
    }

    /// Answers `status` with the whole request echoed back inside a gateway
    /// error envelope: `{"error_code": "...", "message": "<headers and body>"}`,
    /// plus the `Authorization` value in an `x-echo-authorization` header. A
    /// client that shows service messages must scrub them.
    pub fn echo(status: u16) -> Self {
        Reply {
            action: Action::Echo,
            ..Reply::new(status)
        }
    }
}

/// A connection the fake holds (created through the API or inserted).
#[derive(Clone)]
#[non_exhaustive]
pub struct StoredConnection {
    /// Its id.
    pub id: String,
    /// Its etag (with the quotes).
    pub etag: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its connection spec id.
    pub spec_id: String,
    /// Its auth spec name.
    pub spec_name: String,
    /// Its auth params as stored (they hold the credentials; `Debug`
    /// does not show them).
    pub params: Value,
    /// `enabled`.
    pub state: String,
    /// Creation time, epoch milliseconds.
    pub created_at: i64,
    /// Last update, epoch milliseconds.
    pub updated_at: i64,
    /// What `GET /connections/{id}/test` answers.
    pub test_result: bool,
    /// When set, a delete answers 400 `FLOW-1418-400` (used by dataflows).
    pub in_use: bool,
}

impl StoredConnection {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "createdBy": "fake@AdobeID",
            "updatedBy": "fake@AdobeID",
            "name": self.name,
            "description": self.description.clone().unwrap_or_default(),
            "connectionSpec": {"id": self.spec_id, "version": POSTGRES_CONNECTION_SPEC_VERSION},
            "state": self.state,
            "auth": {"specName": self.spec_name, "params": self.params},
            "version": "1.0",
            "etag": self.etag,
        })
    }
}

impl fmt::Debug for StoredConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredConnection")
            .field("id", &self.id)
            .field("etag", &self.etag)
            .field("name", &self.name)
            .field("spec_id", &self.spec_id)
            .field("spec_name", &self.spec_name)
            .field("params", &crate::REDACTED)
            .field("state", &self.state)
            .field("in_use", &self.in_use)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Expected {
    ims_client_id: Option<String>,
    ims_client_secret: Option<String>,
    ims_token_lifetime: Option<Duration>,
    max_page_size: Option<usize>,
    ignore_property_filters: bool,
    access_token: Option<String>,
    api_key: Option<String>,
    org_id: Option<String>,
    sandbox_name: Option<String>,
}

#[derive(Default)]
struct State {
    requests: Vec<RecordedRequest>,
    replies: VecDeque<Reply>,
    connections: Vec<StoredConnection>,
    created_connection_string: usize,
    created_basic: usize,
    next_request_id: u64,
    bytes_streamed: Option<u64>,
    etag_counter: u64,
    issued_tokens: Vec<String>,
    revoked_tokens: Vec<String>,
}

struct Shared {
    state: Mutex<State>,
    expected: Expected,
    shutdown: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not wedge the server.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Options for [`FakeFlowService`]: which credentials it insists on.
#[derive(Default)]
pub struct FakeFlowServiceBuilder {
    expected: Expected,
}

impl fmt::Debug for FakeFlowServiceBuilder {
    // The expected token and client secret stay out of the output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.expected;
        f.debug_struct("FakeFlowServiceBuilder")
            .field(
                "access_token",
                &e.access_token.as_ref().map(|_| crate::REDACTED),
            )
            .field("api_key", &e.api_key)
            .field("org_id", &e.org_id)
            .field("sandbox_name", &e.sandbox_name)
            .field("ims_client_id", &e.ims_client_id)
            .field(
                "ims_client_secret",
                &e.ims_client_secret.as_ref().map(|_| crate::REDACTED),
            )
            .field("max_page_size", &e.max_page_size)
            .finish_non_exhaustive()
    }
}

impl FakeFlowServiceBuilder {
    /// Only this bearer token is accepted (default: any non-empty token).
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.expected.access_token = Some(token.into());
        self
    }

    /// Only this API key is accepted (default: any).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.expected.api_key = Some(key.into());
        self
    }

    /// Only this org id is accepted (default: any).
    pub fn org_id(mut self, org: impl Into<String>) -> Self {
        self.expected.org_id = Some(org.into());
        self
    }

    /// The OAuth client the fake IMS accepts (default: [`DEMO_CLIENT_ID`]
    /// and [`DEMO_CLIENT_SECRET`]).
    pub fn ims_client(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.expected.ims_client_id = Some(client_id.into());
        self.expected.ims_client_secret = Some(client_secret.into());
        self
    }

    /// `expires_in` of the tokens the fake IMS issues (default 86399 s, as
    /// Adobe's).
    pub fn ims_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.expected.ims_token_lifetime = Some(lifetime);
        self
    }

    /// Largest page a listing returns, whatever `limit` asks (default:
    /// `limit`, or 10 without one). Small values exercise paging.
    pub fn max_page_size(mut self, size: usize) -> Self {
        self.expected.max_page_size = Some(size.max(1));
        self
    }

    /// Ignores `property=` filters in listings (every connection comes
    /// back, page by page), so a client has to check names itself and find
    /// a match on a later page.
    pub fn ignore_property_filters(mut self) -> Self {
        self.expected.ignore_property_filters = true;
        self
    }

    /// Only this sandbox is accepted (default: any).
    pub fn sandbox_name(mut self, sandbox: impl Into<String>) -> Self {
        self.expected.sandbox_name = Some(sandbox.into());
        self
    }

    /// Binds 127.0.0.1 on a free port and starts serving.
    pub fn start(self) -> io::Result<FakeFlowService> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            expected: self.expected,
            shutdown: AtomicBool::new(false),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("aep-flow-fake-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))?;
        Ok(FakeFlowService {
            addr,
            shared,
            accept: Some(accept),
        })
    }
}

/// A fake Flow Service on 127.0.0.1. Stops when dropped.
pub struct FakeFlowService {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl fmt::Debug for FakeFlowService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeFlowService")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeFlowService {
    /// Starts a fake that accepts any well-formed credentials.
    pub fn start() -> io::Result<FakeFlowService> {
        FakeFlowServiceBuilder::default().start()
    }

    /// A builder to require specific credentials.
    pub fn builder() -> FakeFlowServiceBuilder {
        FakeFlowServiceBuilder::default()
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/data/foundation/flowservice`.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, BASE_PATH)
    }

    /// A [`Platform`] pointed at this fake, with the credentials it expects
    /// (the demo values where it expects none in particular).
    pub fn platform(&self) -> Platform {
        let e = &self.shared.expected;
        Platform::new(
            Secret::from(e.access_token.as_deref().unwrap_or(DEMO_ACCESS_TOKEN)),
            e.api_key.as_deref().unwrap_or(DEMO_API_KEY),
            e.org_id.as_deref().unwrap_or(DEMO_ORG_ID),
            e.sandbox_name.as_deref().unwrap_or(DEMO_SANDBOX),
        )
        .with_base_url(self.base_url())
    }

    /// The fake IMS's base URL (`http://127.0.0.1:PORT`); tokens are at
    /// `POST /ims/token/v3`.
    pub fn ims_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// OAuth Server-to-Server credentials the fake IMS accepts, pointed at it.
    pub fn ims_credentials(&self) -> ImsCredentials {
        let e = &self.shared.expected;
        ImsCredentials::new(
            e.ims_client_id.as_deref().unwrap_or(DEMO_CLIENT_ID),
            Secret::from(e.ims_client_secret.as_deref().unwrap_or(DEMO_CLIENT_SECRET)),
            DEMO_SCOPES,
        )
        .with_ims_url(self.ims_url())
    }

    /// A [`Platform`] that gets its tokens from this fake's IMS.
    pub fn platform_with_ims(&self) -> Platform {
        Platform::from_ims(self.ims_credentials(), DEMO_ORG_ID, DEMO_SANDBOX)
            .with_base_url(self.base_url())
    }

    /// Tokens the fake IMS has issued, oldest first.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.lock().issued_tokens.clone()
    }

    /// Makes every token issued so far invalid: the platform side answers
    /// 401 (`401013`) to them, as to an expired token.
    pub fn revoke_tokens(&self) {
        let mut state = self.shared.lock();
        let issued = state.issued_tokens.clone();
        state.revoked_tokens.extend(issued);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Queues a scripted reply for the next request.
    pub fn push_reply(&self, reply: Reply) {
        self.shared.lock().replies.push_back(reply);
    }

    /// How many body bytes the last [`Reply::huge`] got onto the socket
    /// before the client stopped reading; `None` until it has finished.
    pub fn bytes_streamed(&self) -> Option<u64> {
        self.shared.lock().bytes_streamed
    }

    /// The connections the fake holds.
    pub fn connections(&self) -> Vec<StoredConnection> {
        self.shared.lock().connections.clone()
    }

    /// Stores a PostgreSQL connection directly (no request recorded), as if
    /// it had been created earlier. Returns its id.
    pub fn insert_connection(&self, name: &str, spec_name: &str, params: Value) -> String {
        let mut state = self.shared.lock();
        let n = next_serial(&mut state);
        let id = format!("00000000-0000-4000-8000-{n:012x}");
        let etag = new_etag(&mut state);
        state.connections.push(StoredConnection {
            id: id.clone(),
            etag,
            name: name.to_owned(),
            description: None,
            spec_id: POSTGRES_CONNECTION_SPEC_ID.to_owned(),
            spec_name: spec_name.to_owned(),
            params,
            state: "enabled".into(),
            created_at: now_millis(),
            updated_at: now_millis(),
            test_result: true,
            in_use: false,
        });
        id
    }

    /// Changes a stored connection (e.g. `|c| c.in_use = true`). Returns
    /// false when there is no such id.
    pub fn modify_connection(&self, id: &str, f: impl FnOnce(&mut StoredConnection)) -> bool {
        let mut state = self.shared.lock();
        match state.connections.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                f(c);
                true
            }
            None => false,
        }
    }
}

impl Drop for FakeFlowService {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
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
            state.requests.push(request.clone());
            let scripted = state
                .replies
                .iter()
                .position(|r| {
                    r.method
                        .as_ref()
                        .is_none_or(|m| m.eq_ignore_ascii_case(&request.method))
                })
                .and_then(|i| state.replies.remove(i));
            match scripted {
                Some(r) => {
                    if r.process_first {
                        let _ = handle(&request, &mut state, &shared.expected);
                    }
                    r
                }
                None => handle(&request, &mut state, &shared.expected),
            }
        };
        match &reply.action {
            Action::Respond => write_reply(&mut stream, &reply, close)?,
            Action::Echo => write_reply(&mut stream, &echo_reply(&reply, &request), close)?,
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

fn echo_reply(reply: &Reply, request: &RecordedRequest) -> Reply {
    let mut text = format!("{} {}\n", request.method, request.path);
    for (k, v) in &request.headers {
        text.push_str(&format!("{k}: {v}\n"));
    }
    text.push_str(&String::from_utf8_lossy(&request.body));
    let mut out = Reply::json(
        reply.status,
        json!({"error_code": format!("{}000", reply.status), "message": text}).to_string(),
    );
    if let Some(auth) = request.header(HEADER_AUTHORIZATION) {
        out = out.header("x-echo-authorization", auth);
    }
    out.headers.extend(reply.headers.iter().cloned());
    out
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
    let head_end = loop {
        if let Some(pos) = find(buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(bad("head too large"));
        }
        if buf.first().is_some_and(|b| !b.is_ascii_uppercase()) {
            // Not HTTP (a TLS ClientHello, say): hang up like a plain server.
            return Err(bad("not an HTTP request"));
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
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
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
        let line_end = loop {
            if let Some(p) = find(buf, b"\r\n") {
                break p;
            }
            let have = buf.len();
            fill(stream, buf, have + 1)?;
        };
        let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad("bad chunk size"))?;
        buf.drain(..line_end + 2);
        if body.len() + size > MAX_BODY_BYTES {
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

fn bad(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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
        crate::response::reason_phrase(reply.status)
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

/// What Flow Service would answer.
fn handle(req: &RecordedRequest, state: &mut State, expected: &Expected) -> Reply {
    state.next_request_id += 1;
    let request_id = format!("fake-request-{:04}", state.next_request_id);
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    if path == crate::ims::IMS_TOKEN_PATH {
        return ims_token(req, state, expected);
    }
    if let Some(reply) = check_gateway(req, state, expected) {
        return reply.header("x-request-id", request_id);
    }
    let rest = path.strip_prefix(BASE_PATH).unwrap_or("");
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let reply = match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["connections"]) => create(req, state, &request_id),
        ("GET", ["connections"]) => list(query, state, expected, &request_id),
        ("GET", ["connections", id]) => match find_connection(state, id) {
            Some(c) => Reply::json(200, json!({"items": [c.to_json()]}).to_string()),
            None => not_found(id, &request_id),
        },
        ("GET", ["connections", id, "test"]) => match find_connection(state, id) {
            Some(c) => Reply::json(200, json!({"result": c.test_result}).to_string()),
            None => not_found(id, &request_id),
        },
        ("PATCH", ["connections", id]) => patch(req, id, state, &request_id),
        ("DELETE", ["connections", id]) => match state.connections.iter().position(|c| c.id == *id)
        {
            Some(i) if state.connections[i].in_use => flow_error(
                400,
                "FLOW-1418-400",
                "Connection is in use by one or more dataflows and cannot be deleted",
                &request_id,
            ),
            Some(i) => {
                state.connections.remove(i);
                Reply::new(204)
            }
            None => not_found(id, &request_id),
        },
        (_, ["connections", ..]) => {
            flow_error(405, "FLOW-1405-405", "Method not allowed", &request_id)
        }
        _ => flow_error(404, "FLOW-1404-404", "Resource not found", &request_id),
    };
    reply.header("x-request-id", request_id)
}

fn find_connection<'s>(state: &'s State, id: &str) -> Option<&'s StoredConnection> {
    state.connections.iter().find(|c| c.id == id)
}

fn not_found(id: &str, request_id: &str) -> Reply {
    flow_error(
        404,
        "FLOW-1404-404",
        &format!("Connection with id {id} not found"),
        request_id,
    )
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn next_serial(state: &mut State) -> u64 {
    state.etag_counter += 1;
    state.etag_counter
}

fn new_etag(state: &mut State) -> String {
    let n = next_serial(state);
    format!("\"{n:08x}-0000-0200-0000-000000000000\"")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `POST /ims/token/v3`: checks the form like IMS, issues `fake-ims-token-N`.
fn ims_token(req: &RecordedRequest, state: &mut State, expected: &Expected) -> Reply {
    let oauth_error = |status: u16, error: &str, description: &str| {
        Reply::json(
            status,
            json!({"error": error, "error_description": description}).to_string(),
        )
    };
    if req.method != "POST" {
        return oauth_error(405, "invalid_request", "POST only");
    }
    if !req
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
    {
        return oauth_error(
            400,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let body = String::from_utf8_lossy(&req.body);
    let form: Vec<(String, String)> = body
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let (Some(id), Some(secret)) = (field("client_id"), field("client_secret")) else {
        return oauth_error(
            400,
            "invalid_request",
            "client_id and client_secret are required",
        );
    };
    if field("scope").is_none_or(str::is_empty) {
        return oauth_error(400, "invalid_scope", "scope is required");
    }
    let want_id = expected.ims_client_id.as_deref().unwrap_or(DEMO_CLIENT_ID);
    let want_secret = expected
        .ims_client_secret
        .as_deref()
        .unwrap_or(DEMO_CLIENT_SECRET);
    if id != want_id || secret != want_secret {
        return oauth_error(
            400,
            "invalid_client",
            "invalid client_id or client_secret parameter",
        );
    }
    let token = format!("fake-ims-token-{}", state.issued_tokens.len() + 1);
    state.issued_tokens.push(token.clone());
    let lifetime = expected
        .ims_token_lifetime
        .unwrap_or(Duration::from_secs(86_399))
        .as_secs();
    Reply::json(
        200,
        json!({"access_token": token, "token_type": "bearer", "expires_in": lifetime}).to_string(),
    )
}

/// `GET /connections?limit=N&property=name==X&property=connectionSpec.id==Y&continuationToken=T`
fn list(query: &str, state: &State, expected: &Expected, request_id: &str) -> Reply {
    let mut limit = None;
    let mut offset = 0usize;
    let mut filters: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        match k {
            "limit" => match v.parse::<usize>() {
                Ok(n) if n > 0 => limit = Some(n),
                _ => {
                    return flow_error(
                        400,
                        "FLOW-1401-400",
                        "limit must be a positive number",
                        request_id,
                    )
                }
            },
            "continuationToken" => {
                match v.strip_prefix("fake-offset-").and_then(|n| n.parse().ok()) {
                    Some(n) => offset = n,
                    None => {
                        return flow_error(
                            400,
                            "FLOW-1401-400",
                            "Invalid continuationToken",
                            request_id,
                        )
                    }
                }
            }
            "property" => match v.split_once("==") {
                Some((name, value)) => filters.push((name.to_owned(), value.to_owned())),
                None => {
                    return flow_error(
                        400,
                        "FLOW-1401-400",
                        "Unsupported property filter",
                        request_id,
                    )
                }
            },
            _ => {}
        }
    }
    let page_size = limit
        .unwrap_or(10)
        .min(expected.max_page_size.unwrap_or(usize::MAX));
    let matching: Vec<&StoredConnection> = state
        .connections
        .iter()
        .filter(|c| {
            expected.ignore_property_filters
                || filters.iter().all(|(k, v)| match k.as_str() {
                    "name" => &c.name == v,
                    "connectionSpec.id" => &c.spec_id == v,
                    "state" => &c.state == v,
                    _ => false,
                })
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .map(|c| c.to_json())
        .collect();
    let mut body = json!({"items": page});
    if offset + page_size < matching.len() {
        // Like Flow Service: the next link repeats the query with a token.
        let mut next = String::from("/connections?");
        for pair in query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("continuationToken="))
        {
            next.push_str(pair);
            next.push('&');
        }
        next.push_str(&format!(
            "continuationToken=fake-offset-{}",
            offset + page_size
        ));
        body["_links"] = json!({"next": {"href": next}});
    }
    Reply::json(200, body.to_string())
}

/// `PATCH /connections/{id}` with `If-Match` and a JSON Patch array.
fn patch(req: &RecordedRequest, id: &str, state: &mut State, request_id: &str) -> Reply {
    let Some(index) = state.connections.iter().position(|c| c.id == id) else {
        return not_found(id, request_id);
    };
    let Some(if_match) = req.header("if-match") else {
        return flow_error(
            400,
            "FLOW-1400-400",
            "If-Match header is required",
            request_id,
        );
    };
    if if_match != state.connections[index].etag {
        return flow_error(
            412,
            "FLOW-1404-412",
            "Precondition failed: the etag does not match the current version",
            request_id,
        );
    }
    let Ok(Value::Array(ops)) = serde_json::from_slice::<Value>(&req.body) else {
        return flow_error(
            400,
            "FLOW-1415-400",
            "Body must be a JSON Patch array",
            request_id,
        );
    };
    let spec_name = state.connections[index].spec_name.clone();
    let mut params = state.connections[index].params.clone();
    for op in &ops {
        if op["op"] != "replace" || op["path"] != "/auth/params" {
            return flow_error(
                400,
                "FLOW-1415-400",
                "Only replace of /auth/params is supported",
                request_id,
            );
        }
        let problem = match spec_name.as_str() {
            CONNECTION_STRING_AUTH => check_connection_string(&op["value"]),
            _ => check_basic(&op["value"]),
        };
        if let Some(problem) = problem {
            return flow_error(400, "FLOW-1415-400", problem, request_id);
        }
        params = op["value"].clone();
    }
    let etag = new_etag(state);
    let c = &mut state.connections[index];
    c.params = params;
    c.etag = etag;
    c.updated_at = now_millis();
    Reply::json(200, json!({"id": c.id, "etag": c.etag}).to_string())
}

/// The gateway's checks, in the order Adobe I/O applies them.
fn check_gateway(req: &RecordedRequest, state: &State, expected: &Expected) -> Option<Reply> {
    let gateway = |status: u16, code: &str, message: &str| {
        Some(Reply::json(
            status,
            json!({"error_code": code, "message": message}).to_string(),
        ))
    };
    let token = req
        .header(HEADER_AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty());
    match token {
        None => return gateway(401, "403010", "Oauth token is missing."),
        Some(t) if state.revoked_tokens.iter().any(|r| r == t) => {
            return Some(Reply::json(401, FIXTURE_ERROR_GATEWAY_401))
        }
        Some(t)
            if expected.access_token.as_deref().is_some_and(|e| e != t)
                && !state.issued_tokens.iter().any(|i| i == t) =>
        {
            return Some(Reply::json(401, FIXTURE_ERROR_GATEWAY_401))
        }
        Some(_) => {}
    }
    match req.header(HEADER_API_KEY).filter(|v| !v.is_empty()) {
        None => return gateway(403, "403000", "Api Key is required"),
        Some(k) if expected.api_key.as_deref().is_some_and(|e| e != k) => {
            return gateway(403, "403003", "Api Key is invalid")
        }
        Some(_) => {}
    }
    match req.header(HEADER_ORG_ID).filter(|v| !v.is_empty()) {
        None => return gateway(400, "400003", "Missing x-gw-ims-org-id header"),
        Some(o) if expected.org_id.as_deref().is_some_and(|e| e != o) => {
            return gateway(403, "403025", "Profile is not valid")
        }
        Some(_) => {}
    }
    match req.header(HEADER_SANDBOX).filter(|v| !v.is_empty()) {
        None => {
            return Some(Reply::json(
                400,
                FIXTURE_ERROR_GENERIC_400.replace("is invalid", "is missing"),
            ))
        }
        Some(s) if expected.sandbox_name.as_deref().is_some_and(|e| e != s) => {
            return Some(Reply::json(400, FIXTURE_ERROR_GENERIC_400))
        }
        Some(_) => {}
    }
    None
}

fn flow_error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "type": format!("https://ns.adobe.com/aep/errors/{code}"),
            "title": crate::response::reason_phrase(status),
            "status": status,
            "report": {"detailed-message": message, "request-id": request_id},
            "errorMessage": message,
        })
        .to_string(),
    )
}

fn create(req: &RecordedRequest, state: &mut State, request_id: &str) -> Reply {
    let invalid = |message: &str| flow_error(400, "FLOW-1415-400", message, request_id);
    if !req
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json"))
    {
        return flow_error(
            415,
            "FLOW-1415-415",
            "Content-Type must be application/json",
            request_id,
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return invalid("Request body is not valid JSON");
    };
    let name = match body.get("name").and_then(Value::as_str) {
        Some(n) if !n.trim().is_empty() => n.to_owned(),
        _ => return invalid("name is required"),
    };
    if body.get("description").is_some_and(|d| !d.is_string()) {
        return invalid("description must be a string");
    }
    let spec = &body["connectionSpec"];
    if spec["id"].as_str() != Some(POSTGRES_CONNECTION_SPEC_ID) {
        return flow_error(
            400,
            "FLOW-1415-400",
            "Connection spec not found. This fake knows only PostgreSQL (74a1c565-4e59-48d7-9d67-7c03b8a13137)",
            request_id,
        );
    }
    if spec["version"].as_str() != Some(POSTGRES_CONNECTION_SPEC_VERSION) {
        return invalid("connectionSpec.version must be \"1.0\"");
    }
    let spec_name = body["auth"]["specName"].as_str().unwrap_or("");
    let params = &body["auth"]["params"];
    let problem = match spec_name {
        CONNECTION_STRING_AUTH => check_connection_string(params),
        BASIC_AUTH => check_basic(params),
        _ => Some("auth.specName must be \"Connection String Based Authentication\" or \"Basic Authentication\""),
    };
    if let Some(problem) = problem {
        return invalid(problem);
    }
    let (counter, fixture) = if spec_name == BASIC_AUTH {
        (&mut state.created_basic, FIXTURE_CREATE_RESPONSE_BASIC)
    } else {
        (
            &mut state.created_connection_string,
            FIXTURE_CREATE_RESPONSE,
        )
    };
    *counter += 1;
    let first = *counter == 1;
    let n = next_serial(state);
    let answer: Value = if first {
        // The first create of each kind answers exactly like the fixture.
        serde_json::from_str(fixture).unwrap_or(Value::Null)
    } else {
        json!({
            "id": format!("00000000-0000-4000-8000-{n:012x}"),
            "etag": format!("\"{n:08x}-0000-0200-0000-000000000000\""),
        })
    };
    let id = answer["id"].as_str().unwrap_or("").to_owned();
    state.connections.push(StoredConnection {
        id: id.clone(),
        etag: answer["etag"].as_str().unwrap_or("").to_owned(),
        name,
        description: body["description"].as_str().map(str::to_owned),
        spec_id: POSTGRES_CONNECTION_SPEC_ID.to_owned(),
        spec_name: spec_name.to_owned(),
        params: params.clone(),
        state: "enabled".into(),
        created_at: now_millis(),
        updated_at: now_millis(),
        test_result: true,
        in_use: false,
    });
    Reply::json(201, answer.to_string()).header("Location", format!("{BASE_PATH}/connections/{id}"))
}

fn check_connection_string(params: &Value) -> Option<&'static str> {
    let Some(s) = params["connectionString"].as_str() else {
        return Some("auth.params.connectionString is required");
    };
    let Some(pairs) = parse_connection_string(s) else {
        return Some("auth.params.connectionString is malformed");
    };
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    if keys.len() < 5 || keys[..5] != ["Server", "Database", "Port", "UID", "Password"] {
        return Some("auth.params.connectionString must start Server=..;Database=..;Port=..;UID=..;Password=..");
    }
    if pairs[2].1.parse::<u16>().map_or(true, |p| p == 0) {
        return Some("auth.params.connectionString has an invalid Port");
    }
    for (k, v) in &pairs[5..] {
        let ok = match k.as_str() {
            "EncryptionMethod" => ["0", "1", "6"].contains(&v.as_str()),
            "ValidateServerCertificate" => ["0", "1"].contains(&v.as_str()),
            _ => false,
        };
        if !ok {
            return Some("auth.params.connectionString has an unknown option");
        }
    }
    None
}

fn check_basic(params: &Value) -> Option<&'static str> {
    for key in ["server", "database", "username", "password"] {
        if params[key].as_str().is_none_or(str::is_empty) {
            return Some("auth.params needs server, port, database, username and password");
        }
    }
    match params["port"].as_str().map(str::parse::<u16>) {
        Some(Ok(p)) if p > 0 => {}
        _ => return Some("auth.params.port must be a string holding a port number"),
    }
    if params.get("sslMode").is_some_and(|m| !m.is_string()) {
        return Some("auth.params.sslMode must be a string");
    }
    None
}
