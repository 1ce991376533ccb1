//! A fake Adobe Experience Platform Flow Service on 127.0.0.1, for testing
//! Flow Service clients without an Adobe account.
//!
//! [`FakeFlowService`] is a real HTTP/1.1 server on a loopback port. It
//! serves Flow Service (connections, explore, source and target
//! connections, flow specs, flows, runs), Data Prep's mapping sets,
//! Catalog's datasets and the IMS token endpoint. It checks the platform
//! headers, the content types, the spec ids and the bodies' shape like the
//! real services would, answers with the same envelopes, records every
//! request for assertions, and can be scripted with replies for failure
//! tests.
//!
//! It depends on no client: its spec ids, paths and ODBC connection-string
//! reader are its own, so that a client's mistake in any of them is
//! refused here rather than agreed with.
//!
//! State is kept per sandbox (the request's `x-sandbox-name`): two
//! sandboxes never see each other's objects. The accessors of
//! [`FakeFlowService`] look at the builder's sandbox (default `prod`);
//! [`FakeFlowService::sandbox`] gives the same accessors for another. The
//! whole state can be exported as JSON and restored
//! ([`FakeFlowService::export_state`], [`FakeFlowServiceBuilder::restore_state`],
//! [`FakeFlowServiceBuilder::on_change`]).
//!
//! # Security warning
//!
//! This crate is for tests. What it records and stores is plain text:
//! [`RecordedRequest`] keeps the `Authorization` header and the request body
//! (passwords included), [`StoredConnection::params`] keeps the auth params,
//! and [`FakeFlowService::issued_tokens`] returns the tokens it issued. Their
//! `Debug` output is redacted, and exports write `[REDACTED]` for every
//! secret, but a failing `assert_eq!` on the values themselves prints them:
//! use canary values, never real credentials.
//!
//! ```
//! use aep_flow_testing::{FakeFlowService, Reply};
//!
//! let fake = FakeFlowService::start().unwrap();
//! // Point a client at `fake.base_url()` with `fake.access_token()`,
//! // `fake.api_key()`, `fake.org_id()` and `fake.sandbox_name()`...
//! assert!(fake.base_url().ends_with("/data/foundation/flowservice"));
//! assert_eq!(fake.sandbox_name(), "prod");
//! // ... script a failure for the next request ...
//! fake.push_reply(Reply::json(503, r#"{"error_code":"503000","message":"down"}"#));
//! // ... and look at what it received and holds.
//! assert!(fake.requests().is_empty());
//! assert!(fake.flows().is_empty());
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// Layout, bottom up. Leaves: `wire` (the service's facts: paths, spec ids,
// headers, reason phrases, fixtures), `odbc` (connection strings), `clock`,
// `config` (what the builder asked for), `request`, `reply`, `store` (ids,
// etags, times, filtered and paged listings), `views`, and `call` (what
// every handler uses: the routed request, body and If-Match checks, error
// envelopes). Above them the handlers (`connections`, `explore`, `catalog`,
// `source_connections`, `target_connections`, `mapping_sets`, `flows`,
// `runs`) around `state`, which holds their stores per sandbox; `ims` and
// `gateway`; `export`; then `router` and the server, `http`.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::Value;

mod call;
mod catalog;
mod clock;
mod config;
mod connections;
mod explore;
mod export;
mod flows;
mod gateway;
mod http;
mod ims;
mod mapping_sets;
mod odbc;
mod reply;
mod request;
mod router;
mod runs;
mod source_connections;
mod state;
mod store;
mod target_connections;
mod views;
mod wire;

pub use clock::ManualClock;
pub use connections::StoredConnection;
pub use explore::{demo_catalog, FakeTable};
pub use reply::Reply;
pub use request::RecordedRequest;
pub use runs::FakeRun;
pub use views::{FlowView, MappingSetView, RunView, SourceConnectionView, TargetConnectionView};
pub use wire::{
    BASE_PATH, BASIC_AUTH, CATALOG_PATH, CONNECTION_STRING_AUTH, CRM_TO_AEP_FLOW_SPEC_ID,
    CRM_TO_AEP_FLOW_SPEC_NAME, DATA_LAKE_CONNECTION_SPEC_ID, DATA_LAKE_CONNECTION_SPEC_VERSION,
    DATA_PREP_PATH, DEMO_ACCESS_TOKEN, DEMO_API_KEY, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET,
    DEMO_ORG_ID, DEMO_SANDBOX, DEMO_SCOPES, FIXTURE_CREATE_RESPONSE, FIXTURE_CREATE_RESPONSE_BASIC,
    FIXTURE_ERROR_FLOW_SERVICE_400, FIXTURE_ERROR_GATEWAY_401, FIXTURE_ERROR_GENERIC_400,
    FIXTURE_ERROR_PROXY_502, POSTGRES_CONNECTION_SPEC_ID, POSTGRES_CONNECTION_SPEC_VERSION,
    REDACTED, XDM_FULL_CONTENT_TYPE,
};

use config::Expected;
use connections::Connection;
use state::{ChangeHook, SandboxState, Shared, State};

/// Options for [`FakeFlowService`]: which credentials it insists on, its
/// quirks, and where its state starts from.
#[derive(Default)]
pub struct FakeFlowServiceBuilder {
    expected: Expected,
    demo_catalog: bool,
    restored: Option<State>,
    on_change: Option<ChangeHook>,
}

impl fmt::Debug for FakeFlowServiceBuilder {
    // The expected token and client secret stay out of the output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.expected;
        f.debug_struct("FakeFlowServiceBuilder")
            .field("access_token", &e.access_token.as_ref().map(|_| REDACTED))
            .field("api_key", &e.api_key)
            .field("org_id", &e.org_id)
            .field("sandbox_name", &e.sandbox_name)
            .field("ims_client_id", &e.ims_client_id)
            .field(
                "ims_client_secret",
                &e.ims_client_secret.as_ref().map(|_| REDACTED),
            )
            .field("max_page_size", &e.max_page_size)
            .field("demo_catalog", &self.demo_catalog)
            .field("restored", &self.restored.is_some())
            .field("on_change", &self.on_change.is_some())
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

    /// Only this sandbox is accepted (default: any), and it is the one the
    /// fake's accessors look at (default: [`DEMO_SANDBOX`], `prod`). Leave
    /// it unset to serve several sandboxes.
    pub fn sandbox_name(mut self, sandbox: impl Into<String>) -> Self {
        self.expected.sandbox_name = Some(sandbox.into());
        self
    }

    /// Gives every base connection without a catalog of its own, in every
    /// sandbox, the [`demo_catalog`].
    pub fn demo_catalog(mut self) -> Self {
        self.demo_catalog = true;
        self
    }

    /// Starts from a state [`FakeFlowService::export_state`] wrote (every
    /// sandbox's objects; redacted secrets stay redacted). Refuses text
    /// that is not such an export, saying what is wrong.
    pub fn restore_state(mut self, exported: &str) -> Result<Self, String> {
        let mut state = State::default();
        export::restore(&mut state, exported)?;
        self.restored = Some(state);
        Ok(self)
    }

    /// Calls `hook` with the exported state ([`FakeFlowService::export_state`])
    /// after every request that changed it, before the answer is sent
    /// (GETs, refused writes and token requests change nothing; a seeding
    /// call on a [`Sandbox`] is reported with the next request that
    /// writes). An error does not fail the request: it is kept for
    /// [`FakeFlowService::last_change_error`]. The hook runs under the
    /// fake's lock: it must not call the fake.
    pub fn on_change(
        mut self,
        hook: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.on_change = Some(Box::new(hook));
        self
    }

    /// Binds 127.0.0.1 on a free port and starts serving.
    pub fn start(self) -> io::Result<FakeFlowService> {
        let mut state = self.restored.unwrap_or_default();
        state.demo_catalog = self.demo_catalog;
        if self.on_change.is_some() {
            state.last_export = Some(export::export(&state).to_string());
        }
        if self.demo_catalog {
            for sandbox in state.sandboxes.values_mut() {
                sandbox.demo_catalog = Some(demo_catalog());
            }
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let default_sandbox = self
            .expected
            .sandbox_name
            .clone()
            .unwrap_or_else(|| DEMO_SANDBOX.to_owned());
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            expected: self.expected,
            on_change: self.on_change,
            shutdown: AtomicBool::new(false),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("aep-flow-fake-accept".into())
            .spawn(move || http::accept_loop(listener, accept_shared))?;
        Ok(FakeFlowService {
            addr,
            default: Sandbox {
                shared,
                name: default_sandbox,
            },
            accept: Some(accept),
        })
    }
}

/// A fake Flow Service on 127.0.0.1. Stops when dropped.
///
/// The accessors of the builder's sandbox ([`Sandbox`]'s methods) are
/// reached through `Deref`: `fake.flows()` is `fake.sandbox(fake.sandbox_name()).flows()`.
pub struct FakeFlowService {
    addr: SocketAddr,
    default: Sandbox,
    accept: Option<JoinHandle<()>>,
}

impl fmt::Debug for FakeFlowService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeFlowService")
            .field("addr", &self.addr)
            .field("sandbox", &self.default.name)
            .finish_non_exhaustive()
    }
}

impl Deref for FakeFlowService {
    type Target = Sandbox;

    fn deref(&self) -> &Sandbox {
        &self.default
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

    fn shared(&self) -> &Shared {
        &self.default.shared
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

    /// The fake IMS's base URL (`http://127.0.0.1:PORT`); tokens are at
    /// `POST /ims/token/v3`.
    pub fn ims_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bearer token the fake accepts: the builder's, or
    /// [`DEMO_ACCESS_TOKEN`] (any non-empty token is accepted then).
    pub fn access_token(&self) -> &str {
        let e = &self.shared().expected;
        e.access_token.as_deref().unwrap_or(DEMO_ACCESS_TOKEN)
    }

    /// The API key the fake accepts: the builder's, or [`DEMO_API_KEY`].
    pub fn api_key(&self) -> &str {
        self.shared()
            .expected
            .api_key
            .as_deref()
            .unwrap_or(DEMO_API_KEY)
    }

    /// The org id the fake accepts: the builder's, or [`DEMO_ORG_ID`].
    pub fn org_id(&self) -> &str {
        self.shared()
            .expected
            .org_id
            .as_deref()
            .unwrap_or(DEMO_ORG_ID)
    }

    /// The sandbox the accessors look at: the builder's, or
    /// [`DEMO_SANDBOX`] (`prod`).
    pub fn sandbox_name(&self) -> &str {
        &self.default.name
    }

    /// The OAuth client id the fake IMS accepts.
    pub fn ims_client_id(&self) -> &str {
        let e = &self.shared().expected;
        e.ims_client_id.as_deref().unwrap_or(DEMO_CLIENT_ID)
    }

    /// The OAuth client secret the fake IMS accepts.
    pub fn ims_client_secret(&self) -> &str {
        let e = &self.shared().expected;
        e.ims_client_secret.as_deref().unwrap_or(DEMO_CLIENT_SECRET)
    }

    /// The scopes a client of the fake IMS asks for ([`DEMO_SCOPES`]).
    pub fn ims_scopes(&self) -> &str {
        DEMO_SCOPES
    }

    /// The state of sandbox `name` (made empty on first use), with the
    /// same accessors and seeding methods as the builder's sandbox.
    pub fn sandbox(&self, name: &str) -> Sandbox {
        Sandbox {
            shared: Arc::clone(&self.default.shared),
            name: name.to_owned(),
        }
    }

    /// The names of the sandboxes that hold state, sorted.
    pub fn sandbox_names(&self) -> Vec<String> {
        self.shared().lock().sandboxes.keys().cloned().collect()
    }

    /// Tokens the fake IMS has issued, oldest first.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared().lock().issued_tokens.clone()
    }

    /// Makes every token issued so far invalid: the platform side answers
    /// 401 (`401013`) to them, as to an expired token.
    pub fn revoke_tokens(&self) {
        let mut state = self.shared().lock();
        let issued = state.issued_tokens.clone();
        state.revoked_tokens.extend(issued);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared().lock().requests.clone()
    }

    /// Queues a scripted reply for the next request.
    pub fn push_reply(&self, reply: Reply) {
        self.shared().lock().replies.push_back(reply);
    }

    /// How many body bytes the last [`Reply::huge`] got onto the socket
    /// before the client stopped reading; `None` until it has finished.
    pub fn bytes_streamed(&self) -> Option<u64> {
        self.shared().lock().bytes_streamed
    }

    /// Every sandbox's objects as JSON, for
    /// [`FakeFlowServiceBuilder::restore_state`]. Secrets (passwords,
    /// connection strings, any auth param but `server`, `port`,
    /// `database`, `username` and `sslMode`) are written as `[REDACTED]`;
    /// the request log, scripted replies and tokens are not written.
    pub fn export_state(&self) -> String {
        export::export(&self.shared().lock()).to_string()
    }

    /// Why the last call of the change hook ([`FakeFlowServiceBuilder::on_change`])
    /// failed; `None` when it succeeded (a later success clears it) or
    /// there is no hook.
    pub fn last_change_error(&self) -> Option<String> {
        self.shared().lock().change_error.clone()
    }

    /// Stops serving: once this returns, no request is answered and the
    /// change hook is never called again (a request being answered is
    /// finished first, its hook call included), so
    /// [`last_change_error`](Self::last_change_error) is final. Dropping
    /// the fake does this too; calling it twice is harmless.
    pub fn stop(&self) {
        self.shared().shutdown.store(true, Ordering::SeqCst);
        // Connections are served on threads of their own, which look at
        // the flag under the state's lock: once the lock has been taken
        // after the flag was set, none of them answers (or saves) again.
        drop(self.shared().lock());
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

/// One sandbox of a [`FakeFlowService`]: what requests with its
/// `x-sandbox-name` see, to inspect and to seed. Changes made here are not
/// requests: nothing is recorded and the change hook is not called.
pub struct Sandbox {
    shared: Arc<Shared>,
    name: String,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Runs `f` on this sandbox's state.
    fn with<R>(&self, f: impl FnOnce(&mut SandboxState) -> R) -> R {
        let mut state = self.shared.lock();
        f(state.sandbox_mut(&self.name))
    }

    /// The sandbox's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The connections the sandbox holds.
    pub fn connections(&self) -> Vec<StoredConnection> {
        self.with(|s| {
            s.connections
                .store
                .iter()
                .map(connections::to_public)
                .collect()
        })
    }

    /// Stores a PostgreSQL connection directly (no request recorded), as if
    /// it had been created earlier. Returns its id.
    pub fn insert_connection(&self, name: &str, spec_name: &str, params: Value) -> String {
        let connection = Connection::postgres(name.to_owned(), None, spec_name.to_owned(), params);
        self.with(|s| s.connections.store.insert(connection).meta.id.clone())
    }

    /// Changes a stored connection (e.g. `|c| c.in_use = true`). Returns
    /// false when there is no such id. The change is taken as it is: the
    /// etag and update time change only if `f` changes them.
    pub fn modify_connection(&self, id: &str, f: impl FnOnce(&mut StoredConnection)) -> bool {
        self.with(|s| match s.connections.store.get_mut_unversioned(id) {
            Some(entry) => {
                let mut public = connections::to_public(entry);
                f(&mut public);
                connections::write_back(entry, public);
                true
            }
            None => false,
        })
    }

    /// Sets the tables base connection `base_connection_id` shows to
    /// explore calls (and accepts for source connections), replacing any
    /// catalog set before. Without one a connection's database is empty
    /// (or, with [`use_demo_catalog`](Self::use_demo_catalog), the demo
    /// catalog).
    pub fn set_catalog(&self, base_connection_id: &str, tables: Vec<FakeTable>) {
        self.with(|s| s.catalogs.insert(base_connection_id.to_owned(), tables));
    }

    /// From now on every base connection of this sandbox without a catalog
    /// of its own shows the [`demo_catalog`]: `public.orders` and
    /// `public.customers`.
    pub fn use_demo_catalog(&self) {
        self.with(|s| s.demo_catalog = Some(demo_catalog()));
    }

    /// The source connections the sandbox holds.
    pub fn source_connections(&self) -> Vec<SourceConnectionView> {
        self.with(|s| {
            s.source_connections
                .store
                .iter()
                .map(|e| SourceConnectionView::from_json(e.to_json()))
                .collect()
        })
    }

    /// Stores a PostgreSQL connection under this id (no request
    /// recorded), as if it had been created earlier: a fixture's id, say.
    /// Returns false, storing nothing, when the sandbox holds that id
    /// already. Ids the fake itself makes never repeat it.
    pub fn insert_connection_as(
        &self,
        id: &str,
        name: &str,
        spec_name: &str,
        params: Value,
    ) -> bool {
        let connection = Connection::postgres(name.to_owned(), None, spec_name.to_owned(), params);
        let mut state = self.shared.lock();
        // An id ahead of the counter takes its own serial for the etag too
        // (one serial per object, as for the fake's own creates), so the
        // next object gets the id after it.
        let serial = match export::serial_in(id) {
            Some(n) if n > state.serial.current() => {
                state.serial.advance_to(n);
                n
            }
            _ => state.serial.next(),
        };
        let etag = store::etag_for(serial);
        let sandbox = state.sandbox_mut(&self.name);
        if sandbox.connections.store.get(id).is_some() {
            return false;
        }
        sandbox
            .connections
            .store
            .insert_as(id.to_owned(), etag, connection);
        true
    }

    /// From now on (`on`) every flow created in this sandbox has run at
    /// once, successfully: a run with record counts (3 in, 3 out), so that
    /// a demo shows a whole pipeline.
    pub fn complete_new_flows(&self, on: bool) {
        self.with(|s| s.demo_runs = on);
    }

    /// The flows the sandbox holds.
    pub fn flows(&self) -> Vec<FlowView> {
        self.with(|s| {
            flows::views(s)
                .into_iter()
                .map(FlowView::from_json)
                .collect()
        })
    }

    /// Changes a stored flow through its JSON view, as another client's
    /// write would (a new etag): e.g. `|f| f["scheduleParams"]["interval"] =
    /// 2.into()`. Returns false when there is no such id.
    pub fn modify_flow(&self, id: &str, f: impl FnOnce(&mut Value)) -> bool {
        self.with(|s| flows::modify(s, id, f))
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
        self.with(|s| flows::set_spec_sources(s, ids));
    }

    /// Adds a run of flow `flow_id` (no request recorded), as if the flow
    /// had run; returns the run's id. Runs list in the order added; their
    /// `createdAt` is [`FakeRun::with_created_at`]'s, or now.
    pub fn add_run(&self, flow_id: &str, run: FakeRun) -> String {
        // Any flow id is taken (tests of runs need no flow); a stored
        // flow's `lastRunDetails` follows its newest run.
        self.with(|s| {
            let id = s.runs.add(flow_id, run);
            flows::refresh_last_run(s, flow_id);
            id
        })
    }

    /// The runs the sandbox holds, in the order added.
    pub fn runs(&self) -> Vec<RunView> {
        self.with(|s| {
            s.runs
                .store
                .iter()
                .map(|e| RunView::from_json(e.to_json()))
                .collect()
        })
    }

    /// The newest run of `flow_id` (by `createdAt`); what the flow's
    /// `lastRunDetails` describes.
    pub fn latest_run(&self, flow_id: &str) -> Option<RunView> {
        self.with(|s| s.runs.latest_for_flow(flow_id))
            .map(RunView::from_json)
    }

    /// What a run re-triggered from now on (`POST
    /// /runs/{id}/action?op=re-trigger`) becomes: `run`'s status, counts
    /// and errors (its `createdAt` is the time of the action). Default:
    /// `FakeRun::new("inProgress")`.
    pub fn retrigger_runs_as(&self, run: FakeRun) {
        self.with(|s| s.runs.retrigger_as = Some(run));
    }

    /// Adds a dataset to the fake Catalog (`GET {CATALOG_PATH}/dataSets/{id}`
    /// answers it, and the listing `GET {CATALOG_PATH}/dataSets` holds it),
    /// following the XDM schema `schema_id` (its `$id` URL).
    /// Target connections to it must name that schema. Replaces a dataset
    /// with the same id.
    pub fn add_dataset(&self, dataset_id: &str, name: &str, schema_id: &str) {
        self.with(|s| {
            s.catalog.datasets.insert(
                dataset_id.to_owned(),
                catalog::Dataset::new(name, schema_id),
            )
        });
    }

    /// Adds a Profile-enabled dataset, as [`add_dataset`](Self::add_dataset)
    /// does: Catalog shows it tagged `"unifiedProfile": ["enabled:true"]`.
    pub fn add_profile_dataset(&self, dataset_id: &str, name: &str, schema_id: &str) {
        self.with(|s| {
            let mut dataset = catalog::Dataset::new(name, schema_id);
            dataset.profile = true;
            s.catalog.datasets.insert(dataset_id.to_owned(), dataset)
        });
    }

    /// Sets the fields of XDM schema `schema_id` (paths like
    /// `_tenant.orderId`): mapping set validation accepts only these as
    /// destinations. A schema is known to Data Prep once its fields are set
    /// or a dataset follows it; one known only through a dataset takes any
    /// destination.
    pub fn set_schema_fields(&self, schema_id: &str, fields: &[&str]) {
        self.with(|s| {
            s.catalog.schema_fields.insert(
                schema_id.to_owned(),
                fields.iter().map(|f| (*f).to_owned()).collect(),
            )
        });
    }

    /// The target connections the sandbox holds.
    pub fn target_connections(&self) -> Vec<TargetConnectionView> {
        self.with(|s| {
            s.target_connections
                .store
                .iter()
                .map(|e| TargetConnectionView::from_json(e.to_json()))
                .collect()
        })
    }

    /// The mapping sets the sandbox holds, each at its latest version, as
    /// `GET /mappingSets/{id}` shows them with the current field names.
    pub fn mapping_sets(&self) -> Vec<MappingSetView> {
        self.with(|s| s.mapping_sets.to_json_all())
            .into_iter()
            .map(MappingSetView::from_json)
            .collect()
    }

    /// From now on (`on`) `GET /mappingSets/{id}` names the mappings' fields
    /// the legacy way (`sourceAttribute`, `destinationXdmPath`, `sourceType`
    /// `text/x.schema-path`), as older mapping sets come back; `false`
    /// returns to the current names (`source`, `destination`, `ATTRIBUTE`).
    pub fn legacy_mapping_field_names(&self, on: bool) {
        self.with(|s| s.mapping_sets.legacy_names = on);
    }

    /// Replaces the latest version of mapping set `id`'s mappings (each an
    /// `ATTRIBUTE` mapping, source → destination) behind the API's back:
    /// no new version, as if Data Prep had added one (an `_id`, say) or
    /// dropped one. `false` when there is no such mapping set.
    pub fn set_mapping_set_mappings(&self, id: &str, pairs: &[(&str, &str)]) -> bool {
        self.with(|s| s.mapping_sets.set_mappings(id, pairs))
    }

    /// From now on (`on`) `GET /mappingSets` and `GET /mappingSets/{id}`
    /// answer without `outputSchema`, as legacy mapping sets come back.
    pub fn hide_mapping_set_schema(&self, on: bool) {
        self.with(|s| s.mapping_sets.hide_schema = on);
    }

    /// From now on listings of `collection` (`sourceConnections`,
    /// `targetConnections` or `flows`) leave these top-level fields out of
    /// their items, e.g. `params`: the `property=` filters still see them,
    /// as a service that matched an item but does not show the matched
    /// field would. A GET by id still shows everything. Panics on another
    /// collection.
    pub fn omit_in_listings(&self, collection: &str, fields: &[&str]) {
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        self.with(|s| match collection {
            "sourceConnections" => s.source_connections.store.listing_omits = fields,
            "targetConnections" => s.target_connections.store.listing_omits = fields,
            "flows" => s.flows.store.listing_omits = fields,
            other => panic!("omit_in_listings: no collection {other}"),
        });
    }
}
