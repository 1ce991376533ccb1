//! # aep-flow
//!
//! A small blocking client for Adobe Experience Platform's **Flow Service**
//! API that creates PostgreSQL source connections, exactly as Adobe's
//! tutorial does it, with every secret in a zeroizing type.
//!
//! - One call: [`create_postgres_connection`], or a reusable [`Client`]
//!   that keeps one connection pool.
//! - Both PostgreSQL auth specs: *Connection String Based Authentication*
//!   (the default; values quoted by the ODBC brace rule) and *Basic
//!   Authentication* (field by field; the safer choice for passwords with
//!   `;`, `{`, `}` and other special characters).
//! - Input is checked before anything is sent ([`Error::InvalidInput`] names
//!   the field and the rule). Service errors keep the HTTP status, Adobe's
//!   code, its message and the request id ([`ApiError`]).
//! - TLS (rustls, webpki roots) is always verified; plain `http://` is
//!   accepted only for loopback hosts. Redirects are never followed, so the
//!   token only goes to the configured host. Response bodies are read with a
//!   size limit (1 MiB). Timeouts: 10 s to connect, 60 s per request.
//! - 429 is retried after its `Retry-After` (up to 3 retries within a 30 s
//!   budget); failures before sending are retried; a create that may have
//!   reached the service is never retried blindly. All of it is
//!   configurable on [`ClientBuilder`].
//! - The lifecycle: [`Client::connections`] / [`Client::list_connections`]
//!   (every page), [`Client::get_connection`], [`Client::test_connection`],
//!   [`Client::delete_connection`], the idempotent
//!   [`Client::ensure_postgres_connection`] (no duplicate even after a lost
//!   answer) and [`Client::update_postgres_credentials`] (password rotation
//!   with `If-Match`).
//! - Explore the database behind a base connection
//!   ([`Client::explore_tables`], [`Client::explore_columns`],
//!   [`Client::preview_table`]) and create the source connection for one
//!   table ([`Client::ensure_source_connection`] and friends).
//! - Access tokens either given ([`Platform::new`]) or fetched from Adobe
//!   IMS with OAuth Server-to-Server credentials ([`Platform::from_ims`],
//!   [`ImsCredentials`]): cached, renewed before expiry, renewed once on a
//!   401.
//!
//! ```no_run
//! use aep_flow::{AuthSpec, Client, Platform, PostgresConnection, Secret, SslMode};
//!
//! let platform = Platform::new(
//!     Secret::from(std::env::var("AEP_ACCESS_TOKEN")?),
//!     "my-client-id",          // x-api-key
//!     "ABC123@AdobeOrg",       // x-gw-ims-org-id
//!     "prod",                  // x-sandbox-name
//! );
//! let client = Client::new(platform)?;
//! let conn = PostgresConnection::new(
//!     "orders-db",
//!     "db.example.com",
//!     "orders",
//!     "etl_reader",
//!     Secret::from(std::env::var("PGPASSWORD")?),
//! )
//! .with_ssl_mode(SslMode::VerifyFull)
//! .with_auth_spec(AuthSpec::Basic);
//! let created = client.create_postgres_connection(&conn)?;
//! println!("created {} (etag {})", created.id, created.etag);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Security
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
//! Layers, bottom up; each module imports only the layers below it:
//! `secret` (a leaf) → `wire` (exact-size zeroizing buffers, encoders,
//! one-line text, the scrubber, the raw answer, `Retry-After`) → `error`
//! → `transport` (a crate-private trait; the only module that names
//! `ureq`, through its stable API; an in-memory implementation for unit
//! tests) → `client` (platform, auth, retries and the deadline, request
//! building, and the plumbing every resource shares: get one, list pages,
//! create, patch with `If-Match`, delete) → `resources` (one small module
//! of types and paths per resource: connections, explore, source
//! connections). `testing` and the hidden `fuzzing` sit on top, behind
//! features.
//!
//! ## Testing your own tools
//!
//! With the `testing` feature, [`testing::FakeFlowService`] runs a fake
//! Flow Service on 127.0.0.1 that checks requests like the real one and can
//! be scripted with failures.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// Layers, bottom up; each module imports only the ones above it in this
// list (checked by `tools/modcycles.py`-style review, see the crate docs).
mod client;
mod error;
mod resources;
mod secret;
mod transport;
mod wire;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use client::plumbing::{Ensured, ListingEnd, Pages, Saved};
pub use client::{
    Client, ClientBuilder, Clock, ImsCredentials, Platform, SystemClock, CATALOG_PATH,
    DATA_PREP_PATH, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IMS_URL,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_PLATFORM_URL, DEFAULT_RETRY_BACKOFF,
    DEFAULT_RETRY_BUDGET, DEFAULT_TIMEOUT, FLOW_SERVICE_PATH, IMS_TOKEN_PATH,
    MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, RENEWAL_MARGIN,
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

/// The README's Rust examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub use resources::flows::{
    Flow, FlowFilter, FlowSpec, FlowState, Flows, Frequency, LastRun, NewFlow, Schedule,
    Transformation, CRM_TO_AEP_FLOW_SPEC_ID, CRM_TO_AEP_FLOW_SPEC_NAME, MIN_MINUTE_INTERVAL,
};
