//! # aep-flow
//!
//! A blocking client for Adobe Experience Platform's **Flow Service** (and
//! the Catalog and Data Prep calls a dataflow needs) that takes a
//! PostgreSQL table to a scheduled dataflow into a dataset. Every id has a
//! type of its own and every secret lives in a zeroizing [`Secret`].
//!
//! The sections below go top down: a first program, the [`Client`], typed
//! ids, the pipeline call, one section per resource, errors, conventions,
//! security, and how the crate is built.
//!
//! ## Quick start
//!
//! Declare the pipeline, ask what would change, then make it so. Running
//! the same program again writes nothing.
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
//! ## The client
//!
//! A [`Platform`] says who calls and where: the access token, the API key
//! (the Developer Console project's client id), the IMS organization and
//! the sandbox ([`Sandbox`], named fields). The token comes one of two ways:
//!
//! - [`Platform::new`] takes a token you got yourself, used as it is (a
//!   token that expires is answered with 401: get a new one);
//! - [`Platform::from_ims`] takes OAuth Server-to-Server credentials
//!   ([`ImsCredentials`]): the client fetches a token from Adobe IMS on
//!   its first call, caches it, renews it
//!   [`RENEWAL_MARGIN`](defaults::RENEWAL_MARGIN) before it expires, and
//!   renews it once more when the platform answers 401.
//!
//! [`Platform::with_platform_url`] points at another gateway (a stage
//! environment, or a local fake; plain `http://` only for loopback hosts).
//!
//! [`Client::new`] builds a client with every default; [`Client::builder`]
//! returns a [`ClientBuilder`] whose methods change them: the connect
//! timeout, the time per attempt, a deadline for a whole run (every call,
//! retries included), the size caps on answers (and on explore answers),
//! retries (count, time budget, first backoff), keep-alive after a request
//! with a secret body, the root certificates, the clock token expiry is
//! measured with, and secrets of yours that no call sends but the service
//! may echo (a database password it stored:
//! [`ClientBuilder::with_scrubbed_secret`], see [Security](#security)). Each method says its default; the values
//! are in [`defaults`], and the ids, paths and limits Adobe documents are
//! in [`spec`]. A `Client` holds one connection pool and the token cache;
//! it is `Send + Sync`, and clones are cheap and share everything.
//!
//! ```no_run
//! use std::time::Duration;
//! use aep_flow::{Client, ImsCredentials, Platform, Sandbox, Secret};
//!
//! let secret = Secret::from(std::env::var("AEP_CLIENT_SECRET")?);
//! let ims = ImsCredentials::new("my-client-id", secret, "openid,AdobeID,read_organizations");
//! let sandbox = Sandbox { org_id: "ABC123@AdobeOrg", name: "prod" };
//! let client = Client::builder(Platform::from_ims(ims, sandbox))
//!     .with_timeout(Duration::from_secs(30))
//!     .with_max_retries(5)
//!     .build()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Input is checked before anything is sent ([`Error::InvalidInput`] names
//! the field and the rule). 429 is retried after its `Retry-After` (up to
//! 3 retries within a 30 s budget); failures before sending are retried; a
//! create that may have reached the service is never retried blindly (the
//! `ensure_*` calls look again instead).
//!
//! ## Typed ids
//!
//! One type per kind of id: [`ConnectionId`] (a base connection),
//! [`SourceConnectionId`], [`TargetConnectionId`], [`FlowId`],
//! [`MappingSetId`], [`DatasetId`], [`SchemaId`] and [`RunId`]. Every call
//! returns them and every call that takes an id takes its type, so a flow
//! id cannot be passed where a source connection id is expected.
//!
//! Make one from text with `str::parse` (`FromStr`) or `TryFrom<&str>` /
//! `TryFrom<String>`; serde reads and writes them as strings, with the
//! same rule. A plain id is 1 to 128 ASCII letters, digits, `-` and `_`:
//! empty text, longer text and any other character (`/`, `.`, `?`, `%`,
//! white space, ...) are refused with an [`IdError`], before anything is
//! sent, so an id can never change the path of a request. A [`SchemaId`]
//! is the schema's `$id` URL (`https://ns.adobe.com/{tenant}/schemas/{hex}`):
//! refused when blank, longer than 1024 characters, or holding white space
//! or control characters. The error names the kind and the rule, never the
//! text (which may be a secret pasted in the wrong place). Ids read from
//! the service's answers are kept as sent. An id reads as its text
//! (`as_str`, `Display`, `AsRef<str>`, `Deref<Target = str>`).
//!
//! ```
//! use aep_flow::{DatasetId, FlowId, SchemaId};
//!
//! let dataset: DatasetId = "5c8c3c555033b814b69f947f".parse()?;
//! assert_eq!(dataset.as_str(), "5c8c3c555033b814b69f947f");
//! let schema: SchemaId = "https://ns.adobe.com/acme/schemas/0a1b2c".parse()?;
//! assert_eq!(schema.to_string(), "https://ns.adobe.com/acme/schemas/0a1b2c");
//!
//! let refused = "../flows".parse::<FlowId>().unwrap_err();
//! assert_eq!(refused.kind(), "flow id");
//! # Ok::<(), aep_flow::IdError>(())
//! ```
//!
//! ## Pipelines
//!
//! A [`PipelineSpec`] declares a pipeline: the base connection and the
//! table, the dataset, the [`Mapping`]s, the delta column and the
//! [`Schedule`]; optionally the schema (checked against the dataset's), a
//! name, a description, and whether a disabled flow is enabled. Every
//! field has a setter (`with_*`) and is a public field you can read.
//!
//! [`Client::plan_pipeline`] reads the live state and says what would be
//! done, writing nothing: a [`PipelinePlan`], one decision per object. The
//! source and the target connection are each a [`ConnectionPlan`] (`Keep`
//! with its id, or `Create` with a name). The flow is a [`FlowPlan`]:
//! `Create`, which always carries the [`MappingSetPlan`] of its mapping set
//! (created, or reused from an earlier run that failed after making it);
//! `Update`, a [`FlowUpdate`] (a [`ScheduleChange`] and the state of a
//! flow to enable when they differ, and a [`MappingPlan`]: in sync, or a
//! [`MappingChange`]); or `Replace`,
//! a [`FlowReplace`] for what the service cannot change in place (the delta
//! column, a flow without a `Mapping` transformation).
//! [`PipelinePlan::is_in_sync`] and [`PipelinePlan::changes`] sum it up.
//!
//! [`Client::ensure_pipeline`] makes the plan and applies it under one
//! lock, and returns a [`PipelineOutcome`]: the ids of the flow, both
//! connections and the mapping set, the [`PipelineChange`]s made in order
//! (empty when everything was as declared), twin flows it left alone
//! (`duplicates`), and `warnings`. Before the first write it checks what
//! the writes need (the base connection is PostgreSQL, the table has the
//! delta column and every mapped column, the dataset exists, the flow spec
//! accepts PostgreSQL, the mapping validates); a failed check writes
//! nothing. A plan that needs a flow replaced is refused with the
//! [`Error::Unsuitable`] of [`FlowReplace::error`].
//!
//! A failure after some writes leaves them in place, and the next run
//! finishes the job: objects are found by what they join, never by name,
//! and a mapping set is named after its declaration ([`mapping_set_name`])
//! so that one made by a failed run is reused. To report what a failed run
//! made, call [`Client::ensure_pipeline_partial`]: its
//! [`PipelineFailure`] holds the error and the [`PipelineProgress`] (the
//! ids known and the writes made before it stopped).
//!
//! ```no_run
//! # use aep_flow::{Client, PipelineSpec};
//! # fn run(client: &Client, spec: &PipelineSpec) {
//! match client.ensure_pipeline_partial(spec) {
//!     Ok(outcome) if outcome.is_unchanged() => println!("as declared"),
//!     Ok(outcome) => println!("done: {:?}", outcome.changes),
//!     Err(failure) => eprintln!("{failure}; made before: {:?}", failure.done.changes),
//! }
//! # }
//! ```
//!
//! ### Request budget of `ensure_pipeline`
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
//! ## Resources
//!
//! For what the pipeline does not cover, every resource has its own calls
//! on [`Client`]; each call's docs name the requests it sends. They share
//! a shape:
//!
//! - a create returns [`Saved`] (the id and the etag); an `ensure_*` call
//!   finds before it creates and returns [`Ensured`] (`created` says which);
//! - a get of an id that does not exist is [`Error::NotFound`];
//! - each listing comes twice: lazily as [`Pages`] (an iterator of
//!   `Result`s that reads a page when it needs one; [`Pages::end`] says
//!   whether it reached the end or the cap), and collected into a `Vec` by
//!   `list_*`. A filter narrows it and sets the page size and the item cap
//!   (`with_page_size`, `with_max_items`; defaults
//!   [`DEFAULT_PAGE_SIZE`](defaults::DEFAULT_PAGE_SIZE) and
//!   [`DEFAULT_MAX_ITEMS`](defaults::DEFAULT_MAX_ITEMS));
//! - a write to an existing object (a rotation, a schedule, a mapping)
//!   sends the etag it read in `If-Match`, and reads again once on 412.
//!
//! ### Connections
//!
//! A base connection holds the database's address and login.
//! [`Client::create_postgres_connection`] makes one from a
//! [`PostgresConnection`] (a name and a [`PostgresLogin`] with named
//! fields; an [`AuthSpec`] and an [`SslMode`] optional);
//! [`Client::ensure_postgres_connection`] finds it by name first
//! ([`Client::find_postgres_connection`]). Then
//! [`Client::connections`] / [`Client::list_connections`] (a
//! [`ConnectionFilter`]), [`Client::get_connection`] (a [`Connection`]),
//! [`Client::test_connection`], [`Client::delete_connection`], and password
//! rotation with `If-Match`: [`Client::update_postgres_credentials`] with
//! new [`PostgresCredentials`]. A program that makes one connection and
//! exits writes `Client::new(platform)?.create_postgres_connection(&conn)`.
//!
//! ```no_run
//! use aep_flow::{Client, PostgresConnection, PostgresLogin, Secret, SslMode};
//! # fn run(client: &Client) -> Result<(), Box<dyn std::error::Error>> {
//! let login = PostgresLogin {
//!     server: "db.example.com",
//!     database: "shop",
//!     username: "aep_reader",
//!     password: Secret::from(std::env::var("PGPASSWORD")?),
//! };
//! let connection = PostgresConnection::new("shop-db", login).with_ssl_mode(SslMode::Require);
//! let ensured = client.ensure_postgres_connection(&connection)?;
//! println!("connection {} (created: {})", ensured.id(), ensured.created);
//! assert!(client.test_connection(ensured.id())?);
//! # Ok(()) }
//! ```
//!
//! ### Explore
//!
//! What the database behind a base connection holds:
//! [`Client::explore_tables`] (each a [`Table`]),
//! [`Client::explore_columns`] (a [`TableSchema`] of [`Column`]s, typed by
//! [`ColumnType`] and [`XdmType`]) and [`Client::preview_table`] (a
//! [`TablePreview`] with sample rows). Explore answers of large databases
//! are big: their cap is [`ClientBuilder::with_max_explore_bytes`], and an
//! answer above it is [`Error::TooLarge`].
//!
//! ### Source connections
//!
//! A source connection is one table of a base connection's database, as a
//! dataflow reads it: [`Client::create_source_connection`] and
//! [`Client::ensure_source_connection`] with a [`NewSourceConnection`],
//! [`Client::find_source_connection`] (by base connection and table),
//! [`Client::get_source_connection`] (a [`SourceConnection`]),
//! [`Client::source_connections`] / [`Client::list_source_connections`] (a
//! [`SourceConnectionFilter`]) and [`Client::delete_source_connection`].
//!
//! ### Target connections
//!
//! A target connection is where a dataflow writes: a dataset in the data
//! lake, with the XDM schema it follows.
//! [`Client::create_target_connection`] and
//! [`Client::ensure_target_connection`] with a [`NewTargetConnection`],
//! [`Client::find_target_connection`] (by dataset),
//! [`Client::get_target_connection`] (a [`TargetConnection`]),
//! [`Client::target_connections`] / [`Client::list_target_connections`] (a
//! [`TargetConnectionFilter`]) and [`Client::delete_target_connection`].
//!
//! ### Datasets
//!
//! Read only, from Catalog: [`Client::get_dataset`] returns a [`Dataset`]
//! with the id of the XDM schema it follows and whether it is
//! Profile-enabled ([`Dataset::profile_enabled`]). Ids differ per sandbox,
//! names do not: [`Client::find_datasets_named`] returns every dataset with
//! exactly that name (none, one, or several: Catalog lets names repeat),
//! and [`Client::datasets`] / [`Client::list_datasets`] (a
//! [`DatasetFilter`]) page through them all, 20 at a time (Catalog's
//! largest page for service tokens), so that many names resolve with one
//! listing per sandbox. Schemas and
//! datasets are made in Schema Registry and Catalog; this crate takes a
//! dataset id or name.
//!
//! ### Mapping sets
//!
//! A mapping set (Data Prep) says where each source column lands in the
//! dataset's schema. Build a [`NewMappingSet`] from a [`SchemaId`] and
//! [`Mapping`]s ([`Mapping::new`] for a column, [`Mapping::expression`] for
//! a calculated field), check it with [`Client::validate_mapping_set`] (a
//! [`MappingValidation`] of [`MappingCheck`]s; nothing is created), make it
//! with [`Client::create_mapping_set`] (a [`SavedMappingSet`]: id and
//! version), and read one with [`Client::get_mapping_set`],
//! [`Client::get_mapping_set_version`] or
//! [`Client::find_mapping_sets_named`] (each a [`MappingSet`]).
//!
//! ```no_run
//! use aep_flow::{Client, Mapping, NewMappingSet, SchemaId};
//! # fn run(client: &Client) -> Result<(), Box<dyn std::error::Error>> {
//! let schema: SchemaId = "https://ns.adobe.com/acme/schemas/0a1b2c".parse()?;
//! let set = NewMappingSet::new(schema, vec![Mapping::new("order_id", "_acme.orderId")]);
//! let check = client.validate_mapping_set(&set)?;
//! if check.is_valid() {
//!     let saved = client.create_mapping_set(&set)?;
//!     println!("mapping set {} version {}", saved.id, saved.version);
//! } else {
//!     eprintln!("{:?}", check.problems());
//! }
//! # Ok(()) }
//! ```
//!
//! ### Flows and schedules
//!
//! A flow joins a source connection to a target connection through a
//! mapping set, on a [`Schedule`]: [`Schedule::once`], or
//! [`Schedule::every`] a [`Frequency`] and an interval (at least
//! [`MIN_MINUTE_INTERVAL`](spec::MIN_MINUTE_INTERVAL) minutes), optionally
//! [`without_backfill`](Schedule::without_backfill).
//! [`Client::postgres_flow_spec`] reads the flow spec ([`FlowSpec`]);
//! [`Client::create_flow`] makes a flow from a [`NewFlow`];
//! [`Client::get_flow`] (a [`Flow`], with its [`FlowState`],
//! [`Transformation`]s and [`LastRun`]), [`Client::flows`] /
//! [`Client::list_flows`] (a [`FlowFilter`]) and [`Client::find_flow`] (by
//! source and target connection) read them;
//! [`Client::update_flow_schedule`], [`Client::update_flow_mapping`],
//! [`Client::update_flow_name`] (a rename), [`Client::enable_flow`],
//! [`Client::disable_flow`] and [`Client::delete_flow`] change them. The
//! pipeline leaves a flow's name as it found it: a [`FlowUpdate`] states
//! the flow's `name` and `description` for a caller that manages names to
//! compare and rename.
//!
//! ```no_run
//! use aep_flow::{Client, FlowId, Frequency, Schedule};
//! # fn run(client: &Client) -> Result<(), Box<dyn std::error::Error>> {
//! let flow: FlowId = "d8a68bd7-0000-4000-8000-0000000000f1".parse()?;
//! let every_15_minutes = Schedule::every(Frequency::Minute, 15, 1_767_225_600)?;
//! client.update_flow_schedule(&flow, &every_15_minutes)?;
//! client.enable_flow(&flow)?;
//! # Ok(()) }
//! ```
//!
//! ### Runs
//!
//! A run is one execution of a flow ([`Run`], with its [`RunStatus`],
//! times, counts and [`RunError`]s): [`Client::runs`] /
//! [`Client::list_runs`] (a [`RunFilter`] for one flow, newest first),
//! [`Client::get_run`], [`Client::latest_runs`],
//! [`Client::latest_finished_run`] and [`Client::run_summary`] (a
//! [`RunSummary`]: the newest run and the newest finished one).
//! [`Client::retrigger_run`] runs a failed run again: the new run names
//! it in [`Run::parent_run_id`], and it lists the new one in
//! [`Run::child_run_ids`]. It is not idempotent, so it is never sent twice
//! once it may have reached the service: after an error with
//! [`Error::may_have_been_processed`], look for a child run before trying
//! again. A run's errors are service text that may quote a secret: print
//! them with [`RunError::shown`] (scrubbed of the secrets given) or
//! [`Client::shown_run_error`] (and of every secret the client holds).
//!
//! ```no_run
//! use aep_flow::{Client, FlowId, RunFilter, RunStatus};
//! # fn run(client: &Client, flow: FlowId) -> Result<(), aep_flow::Error> {
//! if let Some(run) = client.run_summary(&flow)?.latest_finished {
//!     println!("last finished run {}: {}", run.id, run.status);
//! }
//! for run in client.runs(RunFilter::new(flow).with_status(RunStatus::Failed)).take(5) {
//!     let run = run?;
//!     println!("failed run {} created at {:?}", run.id, run.created_at);
//! }
//! # Ok(()) }
//! ```
//!
//! ## Errors
//!
//! Every call returns the one [`Error`] enum (`#[non_exhaustive]`,
//! `Clone`; no variant holds a secret):
//!
//! - [`Error::InvalidInput`]: refused before anything was sent (the field
//!   and the rule); [`Error::Unsuitable`]: what the input names exists but
//!   cannot be used so (nothing was written);
//! - [`Error::NotFound`] and [`Error::InUse`] (a delete refused because
//!   others use it), with the kind of resource and the id;
//! - [`Error::Api`]: any other error answer, an [`ApiError`] with the
//!   [`Service`], the HTTP status, Adobe's code, its message, the request
//!   id to quote to support, `Retry-After` and a [`hint`](ApiError::hint);
//! - [`Error::Transport`]: the network failed, a [`TransportError`];
//! - [`Error::TooLarge`]: an answer above the client's cap (the setting
//!   that raises it is named); [`Error::UnexpectedResponse`]: an answer the
//!   API does not promise.
//!
//! Test for a kind with the predicates, not by matching text:
//! [`is_not_found`](Error::is_not_found), [`is_in_use`](Error::is_in_use),
//! [`is_too_large`](Error::is_too_large),
//! [`is_precondition_failed`](Error::is_precondition_failed) (a write with
//! `If-Match` refused because the object changed), and
//! [`is_invalid_input`](Error::is_invalid_input),
//! [`is_unsuitable`](Error::is_unsuitable),
//! [`is_retryable`](Error::is_retryable).
//!
//! What matters after a failed write is whether it happened. A
//! [`TransportError`] carries a [`Delivery`]: [`Delivery::NotSent`]
//! (nothing reached the service: safe to repeat) or [`Delivery::Unknown`]
//! (the connection broke or timed out after the request was written).
//! [`Error::may_have_been_processed`] is true then, after a 5xx, and after
//! a success answer that could not be read; for a create, update, delete
//! or action (`write` on [`TransportError`] and [`ApiError`]) the message
//! says the change *may have been made* and to look it up before trying
//! again. The `ensure_*` calls and [`Client::ensure_pipeline`] do that
//! look-up themselves. A read (a GET, a validation) changes nothing, so
//! its errors say nothing of changes.
//!
//! ```no_run
//! # use aep_flow::{Client, ConnectionId};
//! # fn run(client: &Client, id: &ConnectionId) -> Result<(), aep_flow::Error> {
//! match client.delete_connection(id) {
//!     Ok(()) => println!("deleted"),
//!     Err(e) if e.is_not_found() => println!("already gone"),
//!     Err(e) if e.is_in_use() => eprintln!("still used by a dataflow: {e}"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```
//!
//! ## Enums
//!
//! One convention for every enum that names a word of the service or of
//! the library's messages ([`FlowState`], [`RunStatus`], [`Frequency`],
//! [`SslMode`], [`AuthSpec`], [`ColumnType`], [`MappingSourceType`],
//! [`Service`], [`Delivery`], [`TransportErrorKind`], [`ListingEnd`]):
//! `as_str` and `Display` give the word, `FromStr` reads it (its error a
//! [`ParseEnumError`] that names the type and the rule), and they derive
//! `Clone`, `PartialEq`, `Eq` and `Hash`. All but [`SslMode`] (libpq's
//! fixed set) are `#[non_exhaustive]`, so a value Adobe (or the library)
//! adds later is not a breaking change, and those the service reports
//! freely ([`FlowState`], [`RunStatus`], [`ColumnType`]) keep an unknown
//! word as `Other(word)`, so reading them never fails.
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
//! Two exceptions: `Column` and `XdmType` keep a `Serialize` derive,
//! because a source connection's request body carries the explore
//! columns exactly as they were read; and the typed ids ([`FlowId`], ...)
//! serialize as their plain string, so a program can store the ids it was
//! given and read them back.
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
//! JSON-escaped) even when the service echoes them back, and of the
//! secrets given to [`ClientBuilder::with_scrubbed_secret`] in every error
//! the client returns (the service's text, and the ids or names of an
//! answer an error quotes). These are fixed when the client is built:
//! an [`Error`] is scrubbed when it is made, by the client that makes it,
//! and one made elsewhere (by another client, or before this one was
//! built) is not scrubbed again. `Debug` of every
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
//! The public items are re-exported flat from private modules named after
//! the domain; Adobe's facts live in [`spec`], the library's own defaults
//! in [`defaults`]. The modules are layered, bottom up; each imports only
//! its own layer and the layers below it (a unit test, `src/layers.rs`,
//! reads every module's `crate::` paths and fails on an import that runs
//! upward):
//!
//! - `ids`: the typed ids and their rules (a leaf, at the bottom);
//! - `secret`: the zeroizing [`Secret`];
//! - `wire`: exact-size zeroizing buffers, encoders, one-line text, the
//!   scrubber, the raw answer, `Retry-After`, the one policy for reading
//!   answered fields, and the pieces request bodies share;
//! - `error`: [`Error`] and the reading of the services' error envelopes;
//! - `transport`: a crate-private trait, the only module that names
//!   `ureq` (through its stable API), and an in-memory implementation
//!   that the unit tests of the layers above use, without sockets;
//! - `client`: the core, split by concern: `platform` (credentials and
//!   URLs), `config` ([`ClientBuilder`] and its checks), `auth` and `ims`
//!   (where each request's token comes from), `request` (the one request
//!   builder every call goes through), `send` (headers, retries, the
//!   deadline, the 401 renewal, error mapping), `results` ([`Saved`],
//!   [`Ensured`], create-or-find), `paging` ([`Pages`]) and `resource`
//!   (the one shape every resource shares: get, pages, list, find,
//!   delete, written once);
//! - `resources`: one small module per resource (connections with
//!   `postgres`, explore, source and target connections, datasets,
//!   mapping sets, flows with `schedule`, runs) holding its types, paths
//!   and filters, the public `Client` methods as one-line wrappers, and
//!   the pipeline on top of them.
//!
//! The hidden `fuzzing` feature sits on top.
//!
//! ## Testing your own tools
//!
//! The companion crate `aep-flow-testing` (the workspace's `testing/`)
//! runs a fake Flow Service on 127.0.0.1 that checks requests like the real
//! one, keeps one state per sandbox and can be scripted with failures. It
//! shares no code with this crate, so it checks the client from outside.
//! Point a [`Platform`] at it and call the client as in production:
//!
//! ```
//! use aep_flow::{Client, ConnectionFilter, Platform, Sandbox, Secret};
//! use aep_flow_testing::FakeFlowService;
//!
//! let fake = FakeFlowService::start()?;
//! let sandbox = Sandbox { org_id: fake.org_id(), name: fake.sandbox_name() };
//! let platform = Platform::new(Secret::from(fake.access_token()), fake.api_key(), sandbox)
//!     .with_platform_url(fake.platform_url());
//! let client = Client::new(platform)?;
//! assert!(client.list_connections(ConnectionFilter::new().postgres())?.is_empty());
//! assert_eq!(fake.requests().len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
pub use resources::connections::{Connection, ConnectionFilter, Connections};
pub use resources::datasets::{Dataset, DatasetFilter, Datasets};
pub use resources::explore::{Column, ColumnType, Table, TablePreview, TableSchema, XdmType};
pub use resources::mapping_sets::{
    Mapping, MappingCheck, MappingSet, MappingSourceType, MappingValidation, NewMappingSet,
    SavedMappingSet,
};
pub use resources::pipeline::{
    mapping_set_name, ConnectionPlan, FlowPlan, FlowReplace, FlowUpdate, MappingChange,
    MappingPlan, MappingSetPlan, PipelineChange, PipelineFailure, PipelineOutcome, PipelinePlan,
    PipelineProgress, PipelineSpec, ScheduleChange,
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
