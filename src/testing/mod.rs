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

// Layout, one concern per file: `http` (the HTTP/1.1 server and
// `RecordedRequest`), `reply` (`Reply` and its scripted faults), `router`
// (dispatch on the first path segment to a resource's handler; how to add
// a resource is described there), `gateway` (the Adobe I/O gateway's
// checks), `store` (a generic store: ids, etags new on every write, times,
// filtered and paged listings), `connections` (the `/connections`
// handlers), `ims` (the token endpoint), `clock` (`ManualClock`) and
// `state` (what the fake holds).

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::Value;

use crate::{ImsCredentials, Platform, Secret};

mod catalog;
mod clock;
mod connections;
mod explore;
mod flows;
mod gateway;
mod http;
mod ims;
mod mapping_sets;
mod persist;
mod reply;
mod router;
mod runs;
mod source_connections;
mod state;
mod store;
mod target_connections;

pub use clock::ManualClock;
pub use connections::StoredConnection;
pub use explore::{demo_catalog, FakeTable};
pub use http::RecordedRequest;
pub use reply::Reply;
pub use runs::FakeRun;

use connections::Connection;

// The header names Flow Service's gateway checks (lower case, as parsed).
const HEADER_AUTHORIZATION: &str = "authorization";
const HEADER_API_KEY: &str = "x-api-key";
const HEADER_ORG_ID: &str = "x-gw-ims-org-id";
const HEADER_SANDBOX: &str = "x-sandbox-name";
use state::{Expected, Shared, State};

/// The path Flow Service is served under, as on `platform.adobe.io`.
pub const BASE_PATH: &str = crate::FLOW_SERVICE_PATH;
/// The path Data Prep (mapping sets) is served under.
pub const DATA_PREP_PATH: &str = crate::DATA_PREP_PATH;
/// The path Catalog (datasets) is served under.
pub const CATALOG_PATH: &str = crate::CATALOG_PATH;
/// The dataset [`FakeFlowService::seed_demo`] puts in the fake Catalog.
pub const DEMO_DATASET_ID: &str = "6d1e4a0b8f0c2a001c9e3f7d";
/// The XDM schema of [`DEMO_DATASET_ID`].
pub const DEMO_SCHEMA_ID: &str =
    "https://ns.adobe.com/demo/schemas/0f9c1b2d3e4f5a6b7c8d9e0f1a2b3c4d";
/// The fields of [`DEMO_SCHEMA_ID`], one per column of the demo
/// `public.orders` table (`id`, `customer`, `amount`, `updated_at`).
pub const DEMO_SCHEMA_FIELDS: &[&str] = &[
    "_demo.orderId",
    "_demo.customer",
    "_demo.amount",
    "_demo.updatedAt",
];
/// The PostgreSQL connection [`FakeFlowService::seed_demo`] puts in a
/// fresh demo sandbox (one where nothing was ever made), named
/// [`DEMO_CONNECTION_NAME`].
pub const DEMO_CONNECTION_ID: &str = "00000000-0000-4000-8000-000000000001";
/// The name of [`DEMO_CONNECTION_ID`].
pub const DEMO_CONNECTION_NAME: &str = "Test connection for PostgreSQL";
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

/// Options for [`FakeFlowService`]: which credentials it insists on.
#[derive(Default)]
pub struct FakeFlowServiceBuilder {
    expected: Expected,
    demo_catalog: bool,
    state_file: Option<std::path::PathBuf>,
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
            .field("demo_catalog", &self.demo_catalog)
            .field("state_file", &self.state_file)
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

    /// Ignores `orderby` in run listings (runs come in the order added),
    /// like a service that does not honour it.
    pub fn ignore_orderby(mut self) -> Self {
        self.expected.ignore_orderby = true;
        self
    }

    /// Only this sandbox is accepted (default: any).
    pub fn sandbox_name(mut self, sandbox: impl Into<String>) -> Self {
        self.expected.sandbox_name = Some(sandbox.into());
        self
    }

    /// Gives every base connection without a catalog of its own the
    /// [`demo_catalog`] (what `--demo` in the example CLIs shows).
    pub fn demo_catalog(mut self) -> Self {
        self.demo_catalog = true;
        self
    }

    /// Keeps the fake's objects in this file: read at start (a missing
    /// file is an empty fake), written after every request that is not a
    /// GET, so that several runs (the example CLIs' `--demo`) see one
    /// sandbox. A write that fails does not fail the request: check
    /// [`FakeFlowService::state_file_error`] before trusting the file. Credentials are never written: a connection's secret auth
    /// params are stored as `[REDACTED]` (the fake keeps them in memory
    /// only while it runs). A file that is not a state file is an
    /// [`io::ErrorKind::InvalidData`] error at start; so is one over 256
    /// MiB. The path must name a regular file (or nothing yet): a symbolic
    /// link (the file is replaced on every write, which would replace the
    /// link), a directory, a FIFO or a device is an error at start, never
    /// opened. One fake at a time per file: two running on the same file
    /// each write their own state over the other's (the example CLIs hold
    /// a lock for that).
    pub fn state_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Binds 127.0.0.1 on a free port and starts serving.
    pub fn start(self) -> io::Result<FakeFlowService> {
        let mut state = State::default();
        if let Some(path) = &self.state_file {
            persist::load(&mut state, path)?;
            // Written once at start: a file that cannot be written is an
            // error now, not a sandbox silently lost later.
            persist::save(&state, path).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot write the state file {}: {e}", path.display()),
                )
            })?;
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        if self.demo_catalog {
            state.demo_catalog = Some(demo_catalog());
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            state_file: self.state_file,
            expected: self.expected,
            shutdown: AtomicBool::new(false),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("aep-flow-fake-accept".into())
            .spawn(move || http::accept_loop(listener, accept_shared))?;
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

    /// The gateway root the fake stands for: `http://127.0.0.1:PORT`.
    pub fn platform_url(&self) -> String {
        format!("http://{}", self.addr)
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
        let state = self.shared.lock();
        state
            .connections
            .store
            .iter()
            .map(connections::to_public)
            .collect()
    }

    /// Stores a PostgreSQL connection directly (no request recorded), as if
    /// it had been created earlier. Returns its id.
    pub fn insert_connection(&self, name: &str, spec_name: &str, params: Value) -> String {
        let connection = Connection::postgres(name.to_owned(), None, spec_name.to_owned(), params);
        let mut state = self.shared.lock();
        let entry = state.connections.store.insert(connection);
        entry.meta.id.clone()
    }

    /// Changes a stored connection (e.g. `|c| c.in_use = true`). Returns
    /// false when there is no such id. The change is taken as it is: the
    /// etag and update time change only if `f` changes them.
    pub fn modify_connection(&self, id: &str, f: impl FnOnce(&mut StoredConnection)) -> bool {
        let mut state = self.shared.lock();
        match state.connections.store.get_mut_unversioned(id) {
            Some(entry) => {
                let mut public = connections::to_public(entry);
                f(&mut public);
                connections::write_back(entry, public);
                true
            }
            None => false,
        }
    }
}

impl FakeFlowService {
    /// Sets the tables base connection `base_connection_id` shows to
    /// explore calls (and accepts for source connections), replacing any
    /// catalog set before. Without one a connection's database is empty
    /// (or, with [`use_demo_catalog`](Self::use_demo_catalog), the demo
    /// catalog).
    pub fn set_catalog(&self, base_connection_id: &str, tables: Vec<FakeTable>) {
        self.shared
            .lock()
            .catalogs
            .insert(base_connection_id.to_owned(), tables);
    }

    /// From now on every base connection without a catalog of its own
    /// (those already stored and those created later) shows the
    /// [`demo_catalog`]: `public.orders` and `public.customers`.
    pub fn use_demo_catalog(&self) {
        self.shared.lock().demo_catalog = Some(demo_catalog());
    }

    /// The source connections the fake holds, as the service shows them
    /// (`{"id", "name", "baseConnectionId", "params": {"tableName"}, ...}`).
    pub fn source_connections(&self) -> Vec<Value> {
        let state = self.shared.lock();
        state
            .source_connections
            .store
            .iter()
            .map(|e| e.to_json())
            .collect()
    }
}

impl FakeFlowService {
    /// What the example CLIs' `--demo` shows: every base connection has
    /// the [`demo_catalog`], Catalog holds [`DEMO_DATASET_ID`] (schema
    /// [`DEMO_SCHEMA_ID`], with XDM fields matching `public.orders`), and
    /// creating a flow records a successful run with counts, so a demo
    /// shows a whole pipeline. A fresh sandbox (nothing ever made in it,
    /// not even something since deleted) gets the PostgreSQL connection
    /// [`DEMO_CONNECTION_ID`], written to the state file at once, so every
    /// later run sees it. Idempotent: a restored state is kept.
    pub fn seed_demo(&self) {
        self.use_demo_catalog();
        self.add_dataset(DEMO_DATASET_ID, "Demo orders", DEMO_SCHEMA_ID);
        self.set_schema_fields(DEMO_SCHEMA_ID, DEMO_SCHEMA_FIELDS);
        let mut state = self.shared.lock();
        state.demo_runs = true;
        if state.serial.current() == 0 {
            let connection = Connection::postgres(
                DEMO_CONNECTION_NAME.to_owned(),
                None,
                crate::CONNECTION_STRING_AUTH.to_owned(),
                serde_json::json!({"connectionString": "Server=postgres.demo.internal;Database=demo;Port=5432;UID=demo_reader;Password=demo-password"}),
            );
            let n = state.serial.next();
            state.connections.store.insert_as(
                DEMO_CONNECTION_ID.to_owned(),
                store::etag_for(n),
                connection,
            );
            if let Some(path) = &self.shared.state_file {
                persist::save_after_change(&mut state, path);
            }
        }
    }

    /// Why the last write of the state file
    /// ([`FakeFlowServiceBuilder::state_file`]) failed, naming the file;
    /// `None` when it succeeded or there is no state file. The change that
    /// was being saved is in the fake's memory only: a later fake started
    /// on the same file will not have it (unless a later save succeeded,
    /// which clears this).
    pub fn state_file_error(&self) -> Option<String> {
        self.shared.lock().save_failure.clone()
    }

    /// The flows the fake holds, as the service shows them
    /// (`{"id", "state", "scheduleParams", "transformations", ...}`).
    pub fn flows(&self) -> Vec<Value> {
        flows::views(&self.shared.lock())
    }

    /// Changes a stored flow through its JSON view, as another client's
    /// write would (a new etag): e.g. `|f| f["scheduleParams"]["interval"] =
    /// 2.into()`. Returns false when there is no such id.
    pub fn modify_flow(&self, id: &str, f: impl FnOnce(&mut Value)) -> bool {
        flows::modify(&mut self.shared.lock(), id, f)
    }

    /// Sets a flow's `state` (e.g. `disabled`), with a new etag.
    pub fn set_flow_state(&self, id: &str, state: &str) -> bool {
        self.modify_flow(id, |f| f["state"] = state.into())
    }

    /// Sets a flow's `lastRunDetails` (`{"id", "state", "startedAtUTC",
    /// "completedAtUTC"}`), with a new etag.
    pub fn set_flow_last_run(&self, id: &str, last_run: Value) -> bool {
        self.modify_flow(id, |f| f["lastRunDetails"] = last_run)
    }

    /// Sets the `sourceConnectionSpecIds` of the `CRMToAEP` flow spec
    /// served (to test a sandbox whose spec lacks PostgreSQL).
    pub fn set_flow_spec_source_connection_spec_ids(&self, ids: &[&str]) {
        let ids = ids.iter().map(|s| (*s).to_owned()).collect();
        flows::set_spec_sources(&mut self.shared.lock(), ids);
    }
}

impl FakeFlowService {
    /// Stops serving: once this returns, no request is answered and the
    /// state file ([`FakeFlowServiceBuilder::state_file`]) is never written
    /// again (a request being answered is finished first, its save
    /// included), so [`state_file_error`](Self::state_file_error) is final
    /// and the file can be handed to another process. Dropping the fake
    /// does this too; calling it twice is harmless.
    pub fn stop(&self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Connections are served on threads of their own, which look at
        // the flag under the state's lock: once the lock has been taken
        // after the flag was set, none of them answers (or saves) again.
        drop(self.shared.lock());
    }
}

impl Drop for FakeFlowService {
    fn drop(&mut self) {
        self.stop();
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

impl FakeFlowService {
    /// Adds a run of flow `flow_id` (no request recorded), as if the flow
    /// had run; returns the run's id. Runs list in the order added; their
    /// `createdAt` is [`FakeRun::with_created_at`]'s, or now.
    pub fn add_run(&self, flow_id: &str, run: FakeRun) -> String {
        // Any flow id is taken (tests of runs need no flow); a stored
        // flow's `lastRunDetails` follows its newest run.
        let mut state = self.shared.lock();
        let id = state.runs.add(flow_id, run);
        flows::refresh_last_run(&mut state, flow_id);
        id
    }

    /// The runs the fake holds, in the order added, as the service shows
    /// them (`{"id", "flowId", "createdAt", "metrics": {...}, ...}`).
    pub fn runs(&self) -> Vec<Value> {
        let state = self.shared.lock();
        state.runs.store.iter().map(|e| e.to_json()).collect()
    }

    /// The newest run of `flow_id` (by `createdAt`), as the service shows
    /// it; what the flow's `lastRunDetails` describes.
    pub fn latest_run(&self, flow_id: &str) -> Option<Value> {
        self.shared.lock().runs.latest_for_flow(flow_id)
    }
    /// Adds a dataset to the fake Catalog (`GET {CATALOG_PATH}/dataSets/{id}`
    /// answers it), following the XDM schema `schema_id` (its `$id` URL).
    /// Target connections to it must name that schema. Replaces a dataset
    /// with the same id.
    pub fn add_dataset(&self, dataset_id: &str, name: &str, schema_id: &str) {
        self.shared.lock().catalog.datasets.insert(
            dataset_id.to_owned(),
            catalog::Dataset::new(name, schema_id),
        );
    }

    /// Sets the fields of XDM schema `schema_id` (paths like
    /// `_tenant.orderId`): mapping set validation accepts only these as
    /// destinations. A schema is known to Data Prep once its fields are set
    /// or a dataset follows it; one known only through a dataset takes any
    /// destination.
    pub fn set_schema_fields(&self, schema_id: &str, fields: &[&str]) {
        self.shared.lock().catalog.schema_fields.insert(
            schema_id.to_owned(),
            fields.iter().map(|f| (*f).to_owned()).collect(),
        );
    }

    /// The target connections the fake holds, as the service shows them
    /// (`{"id", "name", "data": {"format", "schema": {"id", "version"}},
    /// "params": {"dataSetId"}, ...}`).
    pub fn target_connections(&self) -> Vec<Value> {
        let state = self.shared.lock();
        state
            .target_connections
            .store
            .iter()
            .map(|e| e.to_json())
            .collect()
    }

    /// The mapping sets the fake holds, each at its latest version, as
    /// `GET /mappingSets/{id}` shows them with the current field names
    /// (`{"id", "version", "outputSchema": {"schemaRef"}, "mappings":
    /// [{"sourceType", "source", "destination", ...}], ...}`).
    pub fn mapping_sets(&self) -> Vec<Value> {
        self.shared.lock().mapping_sets.to_json_all()
    }

    /// From now on (`on`) `GET /mappingSets/{id}` names the mappings' fields
    /// the legacy way (`sourceAttribute`, `destinationXdmPath`, `sourceType`
    /// `text/x.schema-path`), as older mapping sets come back; `false`
    /// returns to the current names (`source`, `destination`, `ATTRIBUTE`).
    pub fn legacy_mapping_field_names(&self, on: bool) {
        self.shared.lock().mapping_sets.legacy_names = on;
    }

    /// Replaces the latest version of mapping set `id`'s mappings (each an
    /// `ATTRIBUTE` mapping, source → destination) behind the API's back:
    /// no new version, as if Data Prep had added one (an `_id`, say) or
    /// dropped one. `false` when there is no such mapping set.
    pub fn set_mapping_set_mappings(&self, id: &str, pairs: &[(&str, &str)]) -> bool {
        self.shared.lock().mapping_sets.set_mappings(id, pairs)
    }

    /// From now on (`on`) `GET /mappingSets` and `GET /mappingSets/{id}`
    /// answer without `outputSchema`, as legacy mapping sets come back.
    pub fn hide_mapping_set_schema(&self, on: bool) {
        self.shared.lock().mapping_sets.hide_schema = on;
    }

    /// From now on listings of `collection` (`sourceConnections`,
    /// `targetConnections` or `flows`) leave these top-level fields out of
    /// their items, e.g. `params`: the `property=` filters still see them,
    /// as a service that matched an item but does not show the matched
    /// field would. A GET by id still shows everything. Panics on another
    /// collection.
    pub fn omit_in_listings(&self, collection: &str, fields: &[&str]) {
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        let mut state = self.shared.lock();
        match collection {
            "sourceConnections" => state.source_connections.store.listing_omits = fields,
            "targetConnections" => state.target_connections.store.listing_omits = fields,
            "flows" => state.flows.store.listing_omits = fields,
            other => panic!("omit_in_listings: no collection {other}"),
        }
    }
}
