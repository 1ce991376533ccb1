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
//! use aep_flow::{Client, Frequency, Mapping, PipelineSpec, Platform, Sandbox, Schedule, Secret};
//!
//! let token = Secret::from(std::env::var("AEP_ACCESS_TOKEN")?);
//! let sandbox = Sandbox { org_id: "ABC123@AdobeOrg", name: "prod" };
//! let platform = Platform::new(token, "my-client-id", sandbox);
//! let client = Client::new(platform)?;
//! let spec = PipelineSpec::new()
//!     .with_base_connection_id("9e2b3ca1-0000-4000-8000-000000000001".parse()?)
//!     .with_table_path("public.orders")
//!     .with_dataset_id("5c8c3c555033b814b69f947f".parse()?)
//!     .with_mapping(Mapping::new("order_id", "_tenant.orderId"))
//!     .with_mapping(Mapping::new("updated_at", "_tenant.updatedAt"))
//!     .with_delta_column("updated_at")
//!     .with_schedule(Schedule::every(Frequency::Hour, 1, 1_767_225_600)?)
//!     .with_enable(true);
//! let plan = client.plan_pipeline(&spec)?;
//! println!("in sync: {}, would do: {:?}", plan.is_in_sync(), plan.changes());
//! let outcome = client.ensure_pipeline(&spec)?;
//! println!("flow {}: {:?}", outcome.flow_id, outcome.changes);
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
mod ids;
mod resources;
mod secret;
mod transport;
mod wire;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use client::{
    Client, ClientBuilder, Clock, Ensured, ImsCredentials, ListingEnd, Pages, Platform, Sandbox,
    Saved, SystemClock,
};
pub use error::{
    ApiError, Delivery, Error, ParseEnumError, Service, TransportError, TransportErrorKind,
};
pub use ids::{
    ConnectionId, DatasetId, FlowId, IdError, MappingSetId, RunId, SchemaId, SourceConnectionId,
    TargetConnectionId,
};
pub use resources::connections::{
    create_postgres_connection, Connection, ConnectionFilter, Connections,
};
pub use resources::datasets::Dataset;
pub use resources::explore::{Column, ColumnType, Table, TablePreview, TableSchema, XdmType};
pub use resources::mapping_sets::{
    Mapping, MappingCheck, MappingSet, MappingSourceType, MappingValidation, NewMappingSet,
    SavedMappingSet,
};
pub use resources::pipeline::{
    mapping_set_name, ConnectionPlan, FlowPlan, FlowReplace, FlowUpdate, MappingChange,
    MappingPlan, MappingSetPlan, PipelineChange, PipelineFailure, PipelineOutcome, PipelinePlan,
    PipelineProgress, PipelineSpec, ScheduleChange, StateChange,
};
pub use resources::postgres::{
    AuthSpec, PostgresConnection, PostgresCredentials, PostgresLogin, SslMode,
};
pub use resources::runs::{Run, RunError, RunFilter, RunStatus, RunSummary, Runs};
pub use resources::source_connections::{
    NewSourceConnection, SourceConnection, SourceConnectionFilter, SourceConnections,
};
pub use resources::target_connections::{
    NewTargetConnection, TargetConnection, TargetConnectionFilter, TargetConnections,
};
pub use secret::{InvalidUtf8, Secret};

/// Adobe's facts: the ids, names, paths and limits of Experience Platform
/// that the library sends or checks, each as Adobe documents it.
///
/// These are not settings: the library uses them as they are, and a test
/// double (such as `aep-flow-testing`) or a caller that reads the service's
/// own answers can compare against them. Where Adobe's sources disagree,
/// the constant says which one is followed. The tutorials named below are
/// Adobe Experience League's (`experienceleague.adobe.com`, *Experience
/// Platform > Sources > API tutorials*); the API references are Adobe
/// Developer's (`developer.adobe.com/experience-platform-apis`).
///
/// ```
/// use aep_flow::spec;
/// assert_eq!(spec::POSTGRES_CONNECTION_SPEC_ID, "74a1c565-4e59-48d7-9d67-7c03b8a13137");
/// assert_eq!(spec::DEFAULT_BASE_URL, format!("{}{}", spec::DEFAULT_PLATFORM_URL, spec::FLOW_SERVICE_PATH));
/// ```
pub mod spec {
    // Each re-export's docs come first, then the definition's own: a
    // summary line, then where Adobe documents the value.

    /// Catalog's base path.
    ///
    /// Adobe documents it in the Catalog Service API reference.
    ///
    pub use crate::client::CATALOG_PATH;
    /// Data Prep's base path.
    ///
    /// Adobe documents it in the Data Prep API reference.
    ///
    pub use crate::client::DATA_PREP_PATH;
    /// Flow Service's production URL.
    ///
    /// [`DEFAULT_PLATFORM_URL`] followed by [`FLOW_SERVICE_PATH`].
    ///
    pub use crate::client::DEFAULT_BASE_URL;
    /// Adobe IMS's production URL.
    ///
    /// Adobe documents it in Adobe Developer's *OAuth Server-to-Server
    /// credential implementation guide* (the token endpoint's host).
    ///
    pub use crate::client::DEFAULT_IMS_URL;
    /// The Adobe I/O gateway's production URL.
    ///
    /// Adobe documents it in *Getting started with Experience Platform
    /// APIs*: every Platform API is below it.
    ///
    pub use crate::client::DEFAULT_PLATFORM_URL;
    /// Flow Service's base path.
    ///
    /// Adobe documents it in the Flow Service API reference.
    ///
    pub use crate::client::FLOW_SERVICE_PATH;
    /// The IMS token endpoint's path.
    ///
    /// Adobe documents it beside [`DEFAULT_IMS_URL`].
    ///
    pub use crate::client::IMS_TOKEN_PATH;
    /// The id of the `CRMToAEP` flow spec.
    ///
    /// Adobe documents it beside [`CRM_TO_AEP_FLOW_SPEC_NAME`].
    ///
    pub use crate::resources::flows::CRM_TO_AEP_FLOW_SPEC_ID;
    /// The name of the flow spec for database sources into the data lake.
    ///
    /// Adobe documents it in the database dataflow tutorial's *Look up
    /// dataflow specifications* step.
    ///
    pub use crate::resources::flows::CRM_TO_AEP_FLOW_SPEC_NAME;
    /// The smallest `minute` interval of a schedule.
    ///
    /// Adobe documents it in the database dataflow tutorial's schedule
    /// parameters (`scheduleParams.interval`).
    ///
    pub use crate::resources::flows::MIN_MINUTE_INTERVAL;
    /// The field-by-field auth spec's name.
    ///
    /// The PostgreSQL connection spec's `authSpec` list names it
    /// (`GET /connectionSpecs/{id}`). [`AuthSpec`](crate::AuthSpec) reads
    /// and writes it.
    ///
    pub use crate::resources::postgres::BASIC_AUTH;
    /// The connection-string auth spec's name.
    ///
    /// Adobe documents it in the PostgreSQL tutorial (`auth.specName`);
    /// the connection spec's `authSpec` list names it
    /// (`GET /connectionSpecs/{id}`). [`AuthSpec`](crate::AuthSpec) reads
    /// and writes it.
    ///
    pub use crate::resources::postgres::CONNECTION_STRING_AUTH;
    /// PostgreSQL's connection spec id.
    ///
    /// Adobe documents it in *Connect PostgreSQL to Experience Platform
    /// using the Flow Service API* (the base connection's
    /// `connectionSpec.id`); `GET /connectionSpecs` lists it.
    ///
    pub use crate::resources::postgres::POSTGRES_CONNECTION_SPEC_ID;
    /// PostgreSQL's connection spec version.
    ///
    /// Adobe documents it beside [`POSTGRES_CONNECTION_SPEC_ID`]
    /// (`connectionSpec.version`).
    ///
    pub use crate::resources::postgres::POSTGRES_CONNECTION_SPEC_VERSION;
    /// The data lake's connection spec id.
    ///
    /// Adobe documents it in *Create a dataflow for a database source
    /// using the Flow Service API* (the target connection's
    /// `connectionSpec.id`).
    ///
    pub use crate::resources::target_connections::DATA_LAKE_CONNECTION_SPEC_ID;
    /// The data lake's connection spec version.
    ///
    /// Adobe documents it beside [`DATA_LAKE_CONNECTION_SPEC_ID`]
    /// (`connectionSpec.version`).
    ///
    pub use crate::resources::target_connections::DATA_LAKE_CONNECTION_SPEC_VERSION;
    /// The data format of a new target connection.
    ///
    /// Adobe documents it in the source tutorials' target connection step;
    /// its sources disagree (see below for which one is followed).
    ///
    pub use crate::resources::target_connections::TARGET_DATA_FORMAT;
    /// The XDM schema content type (a schema's full, expanded form).
    ///
    /// Adobe documents it in the database dataflow tutorial (the target
    /// connection's `data.schema.version`) and the Data Prep API reference
    /// (a mapping set's `outputSchema.schemaRef.contentType`).
    ///
    pub use crate::resources::target_connections::XDM_FULL_CONTENT_TYPE;
}

/// This library's own choices: timeouts, retries, size caps, paging, input
/// limits, token renewal and the names it gives. The builder methods named
/// below change them; the input limits and the mapping set name prefix are
/// fixed.
///
/// Adobe documents none of these values (it publishes no rate limit and no
/// size limit for these APIs); [`spec`] holds what Adobe does document.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(aep_flow::defaults::DEFAULT_TIMEOUT, Duration::from_secs(60));
/// assert_eq!(aep_flow::defaults::DEFAULT_PORT, 5432);
/// ```
pub mod defaults {
    // Each re-export's docs come first, then the definition's own.

    /// Time to connect. Change it with
    /// [`ClientBuilder::with_connect_timeout`](crate::ClientBuilder::with_connect_timeout).
    ///
    pub use crate::client::DEFAULT_CONNECT_TIMEOUT;
    /// Explore answer size cap. Change it with
    /// [`ClientBuilder::with_max_explore_bytes`](crate::ClientBuilder::with_max_explore_bytes).
    ///
    pub use crate::client::DEFAULT_MAX_EXPLORE_BYTES;
    /// Response size cap. Change it with
    /// [`ClientBuilder::with_max_response_bytes`](crate::ClientBuilder::with_max_response_bytes).
    ///
    pub use crate::client::DEFAULT_MAX_RESPONSE_BYTES;
    /// Retries per call. Change it with
    /// [`ClientBuilder::with_max_retries`](crate::ClientBuilder::with_max_retries).
    ///
    pub use crate::client::DEFAULT_MAX_RETRIES;
    /// First backoff. Change it with
    /// [`ClientBuilder::with_retry_backoff`](crate::ClientBuilder::with_retry_backoff).
    ///
    pub use crate::client::DEFAULT_RETRY_BACKOFF;
    /// Time per call, retries included. Change it with
    /// [`ClientBuilder::with_retry_budget`](crate::ClientBuilder::with_retry_budget).
    ///
    pub use crate::client::DEFAULT_RETRY_BUDGET;
    /// Time per attempt. Change it with
    /// [`ClientBuilder::with_timeout`](crate::ClientBuilder::with_timeout).
    ///
    pub use crate::client::DEFAULT_TIMEOUT;
    /// Description length limit, checked before anything is sent.
    ///
    pub use crate::client::MAX_DESCRIPTION_CHARS;
    /// Name length limit, checked before anything is sent.
    ///
    pub use crate::client::MAX_NAME_CHARS;
    /// Token renewal margin, for tokens fetched from Adobe IMS
    /// ([`Platform::from_ims`](crate::Platform::from_ims)).
    ///
    pub use crate::client::RENEWAL_MARGIN;
    /// Item cap of every listing. Change it on the listing's filter
    /// (`with_max_items`).
    ///
    pub use crate::resources::connections::DEFAULT_MAX_ITEMS;
    /// Page size of every listing. Change it on the listing's filter
    /// (`with_page_size`).
    ///
    pub use crate::resources::connections::DEFAULT_PAGE_SIZE;
    /// How the mapping sets [`Client::ensure_pipeline`](crate::Client::ensure_pipeline)
    /// makes are named ([`mapping_set_name`](crate::mapping_set_name)).
    ///
    pub use crate::resources::pipeline::MAPPING_SET_NAME_PREFIX;
    /// Database port sent when none is given. Change it with
    /// [`PostgresCredentials::with_port`](crate::PostgresCredentials::with_port).
    ///
    pub use crate::resources::postgres::DEFAULT_PORT;
}

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod layers;

/// The README's Rust examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub use resources::flows::{
    Flow, FlowFilter, FlowParts, FlowSpec, FlowState, Flows, Frequency, LastRun, NewFlow, Schedule,
    Transformation,
};
