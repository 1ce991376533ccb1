//! # aep-flow
//!
//! A blocking client for Adobe Experience Platform's **Flow Service** (and
//! the Catalog and Data Prep calls a dataflow needs) that takes a
//! PostgreSQL table to a scheduled dataflow into a dataset, with every
//! secret in a zeroizing type.
//!
//! - [`Client`] (built by [`Client::new`] or [`ClientBuilder`]) holds one
//!   connection pool, the credentials ([`Platform`]: a given token, or
//!   OAuth Server-to-Server credentials exchanged at Adobe IMS with
//!   [`Platform::from_ims`], cached and renewed) and the retry policy.
//! - [`Client::ensure_pipeline`]: one call from a table to a scheduled
//!   dataflow. Given a [`PipelineSpec`] (base connection, table, dataset,
//!   mappings, delta column, [`Schedule`]) it finds or creates the source
//!   connection, the target connection, the mapping set and the flow,
//!   converges a changed schedule or mapping, and reports what it did in a
//!   [`PipelineOutcome`]. Re-running it is safe: a re-run that finds
//!   everything as declared writes nothing.
//! - The resources, one call per request, for what the pipeline does not
//!   cover:
//!   - connections: [`Client::create_postgres_connection`], the
//!     idempotent [`Client::ensure_postgres_connection`],
//!     [`Client::list_connections`], [`Client::get_connection`],
//!     [`Client::test_connection`], [`Client::delete_connection`],
//!     password rotation with `If-Match`
//!     ([`Client::update_postgres_credentials`]); both PostgreSQL auth
//!     specs ([`AuthSpec`]);
//!   - explore the database behind a connection: [`Client::explore_tables`],
//!     [`Client::explore_columns`], [`Client::preview_table`];
//!   - source and target connections: [`Client::ensure_source_connection`],
//!     [`Client::create_target_connection`] and their get, list and delete;
//!   - datasets (Catalog): [`Client::get_dataset`];
//!   - mapping sets (Data Prep): [`Client::create_mapping_set`],
//!     [`Client::validate_mapping_set`], [`Client::get_mapping_set`];
//!   - flows and schedules: [`Client::create_flow`], [`Client::find_flow`],
//!     [`Client::update_flow_schedule`], [`Client::enable_flow`],
//!     [`Client::disable_flow`], [`Client::delete_flow`];
//!   - runs: [`Client::list_runs`], [`Client::latest_finished_run`],
//!     [`Client::run_summary`].
//! - Input is checked before anything is sent ([`Error::InvalidInput`] names
//!   the field and the rule). Service errors keep the HTTP status, Adobe's
//!   code, its message and the request id ([`ApiError`]).
//! - 429 is retried after its `Retry-After` (up to 3 retries within a 30 s
//!   budget); failures before sending are retried; a create that may have
//!   reached the service is never retried blindly (the `ensure_*` calls
//!   look again instead). All of it is configurable on [`ClientBuilder`].
//!
//! ```no_run
//! use aep_flow::{Client, Frequency, Mapping, PipelineSpec, Platform, Schedule, Secret};
//!
//! let platform = Platform::new(
//!     Secret::from(std::env::var("AEP_ACCESS_TOKEN")?),
//!     "my-client-id",          // x-api-key
//!     "ABC123@AdobeOrg",       // x-gw-ims-org-id
//!     "prod",                  // x-sandbox-name
//! );
//! let client = Client::new(platform)?;
//! let spec = PipelineSpec::new(
//!     "9e2b3ca1-0000-4000-8000-000000000001", // the PostgreSQL base connection
//!     "public.orders",                        // the table
//!     "5c8c3c555033b814b69f947f",             // the dataset
//!     vec![
//!         Mapping::new("order_id", "_tenant.orderId"),
//!         Mapping::new("updated_at", "_tenant.updatedAt"),
//!     ],
//!     "updated_at",                           // the delta column
//!     Schedule::every(Frequency::Hour, 1, 1_767_225_600)?,
//! )
//! .with_enable(true);
//! let outcome = client.ensure_pipeline(&spec)?;
//! println!("flow {:?}: {:?}", outcome.flow_id, outcome.changes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Request budget of `ensure_pipeline`
//!
//! Adobe publishes no rate limit, so the pipeline sends only what it needs
//! (counted from the fake service's request log; `tests/pipeline.rs` holds
//! the calls to them and `cargo bench` prints them):
//!
//! - a re-run that finds everything as declared: **4 requests** (three
//!   lookups and the flow's mapping set), no write;
//! - a first run on an empty sandbox: **12**, each needed (2 lookups, the
//!   base connection, the table's columns, the dataset, the flow spec, the
//!   mapping set's name, the validation, 4 creates; no flow lookup when a
//!   connection was missing);
//! - converging a changed schedule: **7**;
//! - a schema given ([`PipelineSpec::with_schema_id`]): one more Catalog
//!   read on a run over an existing pipeline (5 for a re-run); a first run
//!   stays at 12.
//!
//! ## Output models
//!
//! One policy: the models the library returns ([`Connection`],
//! [`SourceConnection`], [`TargetConnection`], [`Dataset`], [`Table`],
//! [`TableSchema`], [`Column`], [`TablePreview`], [`Flow`], [`Run`],
//! [`RunSummary`], [`RunStatus`], [`PipelineOutcome`], [`PipelineChange`],
//! [`Saved`], [`Ensured`], ...) are plain Rust values with public fields
//! or accessors, and do not implement `Serialize` for printing: how a
//! value is shown (JSON shape, field names, text) is the caller's
//! business, so a printing need can never change the library's API. The
//! request bodies the library sends are built by private `Serialize`
//! structs of their own, never by serializing an output model.
//! `Deserialize` stays where a model is read from the service's JSON.
//! One exception: `Column` and `XdmType` keep a `Serialize` derive,
//! because a source connection's request body carries the explore
//! columns exactly as they were read.
//!
//! ## Security
//!
//! TLS (rustls, webpki roots, or exactly the CA certificates given to
//! [`ClientBuilder::with_root_certificates_pem`]) is always verified;
//! plain `http://` is accepted only for loopback hosts. Redirects are never
//! followed, so the token only goes to the configured host. Response bodies
//! are read with a size limit (1 MiB). Timeouts: 10 s to connect, 60 s per
//! request.
//!
//! Zeroized on drop: the access token (given or from IMS), the IMS client
//! secret and the token request's form body, the database password, the
//! connection string (built in a buffer sized once, so it never
//! reallocates), the serialized request body (same), the `Authorization`
//! header value the library builds, every response body, and parsed error
//! JSON. Error messages are scrubbed of the call's secrets (raw and
//! JSON-escaped) even when the service echoes them back. `Debug` of every
//! public type prints `[REDACTED]` for secrets.
//!
//! A request whose body holds a secret (create, rotation, IMS token) is sent
//! with `Connection: close` by default, so ureq's buffer holding it is freed
//! at once rather than kept in an idle pooled connection
//! ([`ClientBuilder::with_keep_alive_after_secret_bodies`]). Measured with a
//! memory scan of a child process: no copy of the password or the token is
//! left after the client and the connection are dropped.
//!
//! Not zeroized: copies made inside `ureq`, `http` and `rustls` (the header
//! value ureq stores, TLS record buffers, connection buffers), copies
//! the caller made before handing a value to [`Secret`] (an environment
//! variable, a `String` grown by pushing), and the non-secret headers
//! (API key, org id, sandbox name).
//!
//! ## How the crate is built
//!
//! Layers, bottom up; each module imports only its own layer and the layers
//! below it (a unit test, `src/layers.rs`, reads every module's `crate::`
//! paths and fails on an import that runs upward):
//! `secret` (a leaf) → `wire` (exact-size zeroizing buffers, encoders,
//! one-line text, the scrubber, the raw answer, `Retry-After`) → `error`
//! → `transport` (a crate-private trait; the only module that names
//! `ureq`, through its stable API; an in-memory implementation for unit
//! tests) → `client` (platform, auth, retries and the deadline, request
//! building, and the plumbing every resource shares: get one, list pages,
//! create, patch with `If-Match`, delete) → `resources` (one small module
//! of types and paths per resource: connections, explore, source and
//! target connections, datasets, mapping sets, flows, schedules, runs, and
//! the pipeline on top of them). The hidden `fuzzing` feature sits on top.
//!
//! ## Testing your own tools
//!
//! The companion crate `aep-flow-testing` (the workspace's `testing/`)
//! runs a fake Flow Service on 127.0.0.1 that checks requests like the real
//! one, keeps one state per sandbox and can be scripted with failures. It
//! shares no code with this crate, so it checks the client from outside.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// Layers, bottom up: secret, wire, error, transport, client, resources; each
// module imports only its own layer and those below it (the test in
// `layers.rs` reads every module's `crate::` paths and enforces it).
mod client;
mod error;
mod resources;
mod secret;
mod transport;
mod wire;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use client::{
    Client, ClientBuilder, Clock, Ensured, ImsCredentials, ListingEnd, Pages, Platform, Saved,
    SystemClock, CATALOG_PATH, DATA_PREP_PATH, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_IMS_URL, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_PLATFORM_URL,
    DEFAULT_RETRY_BACKOFF, DEFAULT_RETRY_BUDGET, DEFAULT_TIMEOUT, FLOW_SERVICE_PATH,
    IMS_TOKEN_PATH, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, RENEWAL_MARGIN,
};
pub use error::{ApiError, Delivery, Error, Service, TransportError, TransportErrorKind};
pub use resources::connections::{
    create_postgres_connection, Connection, Connections, ListFilter, DEFAULT_MAX_ITEMS,
    DEFAULT_PAGE_SIZE,
};
pub use resources::datasets::Dataset;
pub use resources::explore::{
    Column, ColumnType, Table, TablePreview, TableSchema, XdmType, DEFAULT_MAX_EXPLORE_BYTES,
};
pub use resources::mapping_sets::{
    Mapping, MappingCheck, MappingSet, MappingSourceType, MappingValidation, NewMappingSet,
    SavedMappingSet,
};
pub use resources::pipeline::{
    mapping_set_name, PipelineChange, PipelineFailure, PipelineOutcome, PipelineSpec,
    MAPPING_SET_NAME_PREFIX,
};
pub use resources::postgres::{
    AuthSpec, PostgresConnection, PostgresCredentials, SslMode, BASIC_AUTH, CONNECTION_STRING_AUTH,
    DEFAULT_PORT, POSTGRES_CONNECTION_SPEC_ID, POSTGRES_CONNECTION_SPEC_VERSION,
};
pub use resources::runs::{Run, RunError, RunFilter, RunStatus, RunSummary, Runs};
pub use resources::source_connections::{
    NewSourceConnection, SourceConnection, SourceConnectionFilter, SourceConnections,
};
pub use resources::target_connections::{
    NewTargetConnection, TargetConnection, TargetConnectionFilter, TargetConnections,
    DATA_LAKE_CONNECTION_SPEC_ID, DATA_LAKE_CONNECTION_SPEC_VERSION, TARGET_DATA_FORMAT,
    XDM_FULL_CONTENT_TYPE,
};
pub use secret::{InvalidUtf8, Secret, REDACTED};

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod layers;

/// The README's Rust examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub use resources::flows::{
    Flow, FlowFilter, FlowSpec, FlowState, Flows, Frequency, LastRun, NewFlow, Schedule,
    Transformation, CRM_TO_AEP_FLOW_SPEC_ID, CRM_TO_AEP_FLOW_SPEC_NAME, MIN_MINUTE_INTERVAL,
};
