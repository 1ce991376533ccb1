//! Dataflows (`/flows`) from a PostgreSQL source connection to a target
//! connection, through a mapping set, on a schedule (written and read in
//! `schedule`); and the flow spec they are made from (`/flowSpecs`,
//! `CRMToAEP`).
//!
//! Calls: [`Client::postgres_flow_spec`]; [`Client::create_flow`] (a
//! [`NewFlow`]); [`Client::get_flow`], the listings [`Client::flows`]
//! (lazy) and [`Client::list_flows`] with a [`FlowFilter`], and
//! [`Client::find_flow`] (by source and target connection); the changes
//! [`Client::update_flow_schedule`] and [`Client::update_flow_mapping`]
//! (both with `If-Match`), [`Client::enable_flow`],
//! [`Client::disable_flow`] and [`Client::delete_flow`].
//!
//! [`Client::postgres_flow_spec`]: crate::Client::postgres_flow_spec
//! [`Client::create_flow`]: crate::Client::create_flow
//! [`NewFlow`]: crate::NewFlow
//! [`Client::get_flow`]: crate::Client::get_flow
//! [`Client::flows`]: crate::Client::flows
//! [`Client::list_flows`]: crate::Client::list_flows
//! [`FlowFilter`]: crate::FlowFilter
//! [`Client::find_flow`]: crate::Client::find_flow
//! [`Client::update_flow_schedule`]: crate::Client::update_flow_schedule
//! [`Client::update_flow_mapping`]: crate::Client::update_flow_mapping
//! [`Client::enable_flow`]: crate::Client::enable_flow
//! [`Client::disable_flow`]: crate::Client::disable_flow
//! [`Client::delete_flow`]: crate::Client::delete_flow

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::postgres::POSTGRES_CONNECTION_SPEC_ID;
use super::schedule::{check_start_time, Member, ScheduleParams};
pub use super::schedule::{Frequency, Schedule, MIN_MINUTE_INTERVAL};
use super::{
    check_name_and_description, filter_default, name_and_description, or_default, text_id,
    unusable_answer, wire_item,
};
use crate::client::input::{check_from_service, check_id, require_text};
use crate::client::paging::{paging_options, Pages, Query};
use crate::client::request::Method;
use crate::client::resource::{Filter, Resource};
use crate::client::results::{parse_json, Saved};
use crate::client::Client;
use crate::error::{named_enum, Error};
use crate::ids::{
    FlowId, FromService, MappingSetId, RunId, SourceConnectionId, TargetConnectionId,
};
use crate::wire::body::{PatchOp, SpecRef};
use crate::wire::read;
use crate::wire::text::one_line;

impl Resource for Flow {
    const NAME: &'static str = "flow";
    const COLLECTION: &'static str = "flows";
    const ID_FIELD: &'static str = "flow_id";
    const PAGE: &'static str = "a page of flows {\"items\": [...]}";
    type Wire = WireFlow;
    type Filter = FlowFilter;
}

impl Filter<Flow> for FlowFilter {
    fn query(&self) -> Result<Query, Error> {
        let mut query = Query::new("flows", self.page_size)?;
        if let Some(id) = &self.source_connection_id {
            check_id("source_connection_id", id.as_str())?;
            query = query.property("sourceConnectionIds[]", id.as_str());
        }
        if let Some(id) = &self.target_connection_id {
            check_id("target_connection_id", id.as_str())?;
            query = query.property("targetConnectionIds[]", id.as_str());
        }
        if let Some(state) = &self.state {
            query = query.property("state", state.as_str());
        }
        Ok(query)
    }
    /// The local match. A flow listed without `sourceConnectionIds` (or
    /// `targetConnectionIds`) is kept when that is filtered on: the
    /// service may have matched it and left the field out, and a caller
    /// that must not duplicate it has to see it.
    fn matches(&self, f: &Flow) -> bool {
        self.source_connection_id.as_ref().is_none_or(|s| {
            f.source_connection_ids.is_empty() || f.source_connection_ids.contains(s)
        }) && self.target_connection_id.as_ref().is_none_or(|t| {
            f.target_connection_ids.is_empty() || f.target_connection_ids.contains(t)
        }) && self.state.as_ref().is_none_or(|s| {
            // Case-insensitive, like the parse.
            FlowState::parse(s.as_str()) == f.state
        })
    }
    /// A flow that lacks `sourceConnectionIds` (or `targetConnectionIds`)
    /// while the filter is on it is an error naming the field: it may be
    /// the one sought, or any other flow.
    fn check_listed(&self, f: &Flow) -> Result<(), Error> {
        let lacks = if self.source_connection_id.is_some() && f.source_connection_ids.is_empty() {
            "sourceConnectionIds"
        } else if self.target_connection_id.is_some() && f.target_connection_ids.is_empty() {
            "targetConnectionIds"
        } else {
            return Ok(());
        };
        Err(unusable_answer(format!(
            "flow {} in the listing lacks {lacks}, so whether it is the one sought cannot be \
             checked",
            f.id
        )))
    }
}

/// Name of the flow spec for database (and CRM) sources into the data lake.
pub const CRM_TO_AEP_FLOW_SPEC_NAME: &str = "CRMToAEP";
/// Id of the `CRMToAEP` flow spec, as Adobe documents it. The client looks
/// the spec up by name ([`Client::postgres_flow_spec`]) and uses the id the
/// service gives.
pub const CRM_TO_AEP_FLOW_SPEC_ID: &str = "14518937-270c-4525-bdec-c2ba7cce3860";

/// The `Copy` transformation's date format and time zone, as Adobe's
/// database tutorial sends them (the time zone must be UTC).
const DELTA_DATE_FORMAT: &str = "YYYY-MM-DD";
const DELTA_TIMEZONE: &str = "UTC";
/// Transformation names.
const COPY: &str = "Copy";
const MAPPING: &str = "Mapping";
/// Key of the flow spec in the client's memo.
const FLOW_SPEC_MEMO: &str = "flowSpec.CRMToAEP";

/// A flow spec: which source and target connection specs a dataflow of
/// this kind joins, read directly from the service's JSON
/// (`Deserialize`; a member that is missing or `null` reads as empty).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FlowSpec {
    /// Its id (`14518937-...` for `CRMToAEP`).
    #[serde(default, deserialize_with = "or_default")]
    pub id: String,
    /// Its name (`CRMToAEP`).
    #[serde(default, deserialize_with = "or_default")]
    pub name: String,
    /// Its version (`1.0`): text, or a number kept as written.
    #[serde(default, deserialize_with = "text_or_number")]
    pub version: String,
    /// The connection specs a flow of this spec may read from.
    #[serde(default, deserialize_with = "or_default")]
    pub source_connection_spec_ids: Vec<String>,
    /// The connection specs a flow of this spec may write to.
    #[serde(default, deserialize_with = "or_default")]
    pub target_connection_spec_ids: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireFlowSpecs {
    items: Vec<FlowSpec>,
}

/// Text, or a number kept as written ([`read::de::text_or_number`]);
/// anything else, or nothing, is empty.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(read::de::text_or_number(d)?.unwrap_or_default())
}

/// A flow's state. Read (`FromStr`, which never fails) case-insensitively;
/// states this crate does not know are kept as sent. Written (`as_str`,
/// `Display`) as the service spells it: `enabled`, `disabled`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlowState {
    /// Runs on its schedule.
    Enabled,
    /// Does not run.
    Disabled,
    /// Another state, as the service wrote it (empty when it sent none).
    Other(String),
}

named_enum! {
    /// The wire word: `enabled`, `disabled`, or the other state as sent.
    FlowState, str::eq_ignore_ascii_case, Other;
    Enabled => "enabled";
    Disabled => "disabled";
}

/// One entry of a flow's `transformations`: `Copy` (with the delta column)
/// or `Mapping` (with the mapping set), or another the service shows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Transformation {
    /// Its name, e.g. `Copy` or `Mapping`.
    #[serde(default, deserialize_with = "or_default")]
    pub name: String,
    /// Its parameters, as sent (`Value::Null` when it had none).
    #[serde(default)]
    pub params: Value,
}

/// What the service says about a flow's last run (`lastRunDetails`), read
/// as leniently as runs are.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct LastRun {
    /// The run's id.
    #[serde(default, deserialize_with = "text_id")]
    pub id: Option<RunId>,
    /// Its state, e.g. `success` or `failed`, as sent.
    #[serde(default, deserialize_with = "read::de::text")]
    pub state: Option<String>,
    /// When it started, epoch milliseconds.
    #[serde(
        default,
        rename = "startedAtUTC",
        deserialize_with = "read::de::millis"
    )]
    pub started_at: Option<i64>,
    /// When it completed, epoch milliseconds.
    #[serde(
        default,
        rename = "completedAtUTC",
        deserialize_with = "read::de::millis"
    )]
    pub completed_at: Option<i64>,
}

/// A dataflow as Flow Service describes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Flow {
    /// Its id.
    pub id: FlowId,
    /// Name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// State (`enabled` once created).
    pub state: FlowState,
    /// The flow spec's id.
    pub flow_spec_id: Option<String>,
    /// Source connections it reads.
    pub source_connection_ids: Vec<SourceConnectionId>,
    /// Target connections it writes.
    pub target_connection_ids: Vec<TargetConnectionId>,
    /// Its transformations, in order (`Copy` first on a database flow).
    pub transformations: Vec<Transformation>,
    /// Its schedule; `None` when absent or not a valid schedule by the
    /// service's rules.
    pub schedule: Option<Schedule>,
    /// Whether `scheduleParams` states `backfill` (a schedule read without
    /// it has the schema's default, which is not a stated value).
    pub schedule_states_backfill: bool,
    /// Etag, byte for byte (with its quotes).
    pub etag: String,
    /// The last run, if the service reports one.
    pub last_run: Option<LastRun>,
    /// Creation time, epoch milliseconds.
    pub created_at: Option<i64>,
    /// Last update time, epoch milliseconds.
    pub updated_at: Option<i64>,
}

impl Flow {
    /// The `Mapping` transformation: its index in
    /// [`transformations`](Self::transformations), `params.mappingId` and
    /// `params.mappingVersion` (a number or a numeric string). `None` when
    /// there is none or its parameters are not readable.
    pub fn mapping(&self) -> Option<(usize, MappingSetId, i64)> {
        let index = self.mapping_index()?;
        let params = &self.transformations[index].params;
        let id = read::text(params.get("mappingId")?)?;
        let version = read::int(params.get("mappingVersion")?)?;
        Some((index, MappingSetId::from_service(id.to_owned()), version))
    }

    /// The delta column: `Copy`'s `params.deltaColumn.name`.
    pub fn delta_column(&self) -> Option<&str> {
        self.transformations
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(COPY))?
            .params
            .get("deltaColumn")?
            .get("name")?
            .as_str()
    }

    /// The index of the entry named `Mapping`, whatever its parameters.
    fn mapping_index(&self) -> Option<usize> {
        self.transformations
            .iter()
            .position(|t| t.name.eq_ignore_ascii_case(MAPPING))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireFlow {
    id: String,
    name: Option<String>,
    description: Option<String>,
    state: Option<String>,
    flow_spec: Option<SpecRef<'static>>,
    source_connection_ids: Option<Vec<String>>,
    target_connection_ids: Option<Vec<String>>,
    transformations: Option<Vec<Transformation>>,
    schedule_params: Option<Value>,
    #[serde(default, deserialize_with = "or_default")]
    etag: String,
    #[serde(default, deserialize_with = "read::de::section")]
    last_run_details: Option<LastRun>,
    #[serde(default, deserialize_with = "read::de::millis")]
    created_at: Option<i64>,
    #[serde(default, deserialize_with = "read::de::millis")]
    updated_at: Option<i64>,
}

wire_item!(WireFlow);

/// Ids a flow lists, as the service sent them.
fn ids_from_service<I: FromService>(ids: Option<Vec<String>>) -> Vec<I> {
    ids.unwrap_or_default()
        .into_iter()
        .map(I::from_service)
        .collect()
}

impl From<WireFlow> for Flow {
    fn from(w: WireFlow) -> Self {
        Flow {
            id: FlowId::from_service(w.id),
            name: w.name.unwrap_or_default(),
            description: w.description.filter(|d| !d.is_empty()),
            state: FlowState::parse(w.state.as_deref().unwrap_or("")),
            flow_spec_id: w.flow_spec.and_then(SpecRef::into_id),
            source_connection_ids: ids_from_service(w.source_connection_ids),
            target_connection_ids: ids_from_service(w.target_connection_ids),
            transformations: w.transformations.unwrap_or_default(),
            schedule: w.schedule_params.as_ref().and_then(Schedule::from_wire),
            // A missing member (or a section that is no object) reads as null.
            schedule_states_backfill: w
                .schedule_params
                .as_ref()
                .is_some_and(|p| !p["backfill"].is_null()),
            etag: w.etag,
            last_run: w.last_run_details,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A dataflow to create: one source connection (a table) into one target
/// connection (a dataset), through a mapping set, on a schedule, reading
/// the rows whose delta column changed.
///
/// ```
/// use aep_flow::{FlowParts, Frequency, NewFlow, Schedule};
///
/// let flow = NewFlow::new(FlowParts {
///     name: "orders to dataset",
///     source_connection_id: "SOURCE_ID".parse()?,
///     target_connection_id: "TARGET_ID".parse()?,
///     delta_column: "updated_at",
///     mapping_set_id: "e7c80e4c0d8f4a98a7d400b4e178b635".parse()?,
///     mapping_set_version: 0,
///     schedule: Schedule::every(Frequency::Hour, 1, 1_764_230_400)?,
/// })
/// .with_description("hourly");
/// assert_eq!(flow.delta_column(), "updated_at");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a builder does nothing until it is used"]
pub struct NewFlow {
    name: String,
    description: Option<String>,
    source_connection_id: SourceConnectionId,
    target_connection_id: TargetConnectionId,
    delta_column: String,
    mapping_set_id: MappingSetId,
    mapping_set_version: i64,
    schedule: Schedule,
}

/// What a new flow joins, by name: what [`NewFlow::new`] takes, so that
/// the connections, the delta column and the mapping set cannot be
/// swapped unseen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowParts<'a> {
    /// The flow's name.
    pub name: &'a str,
    /// The source connection it reads (a table).
    pub source_connection_id: SourceConnectionId,
    /// The target connection it writes (a dataset).
    pub target_connection_id: TargetConnectionId,
    /// The column that says a row changed: incremental runs compare it.
    pub delta_column: &'a str,
    /// The Data Prep mapping set.
    pub mapping_set_id: MappingSetId,
    /// The mapping set's version (0 for a new one).
    pub mapping_set_version: i64,
    /// When it runs.
    pub schedule: Schedule,
}

name_and_description!(NewFlow);

impl NewFlow {
    /// A flow of `parts`, without a description.
    pub fn new(parts: FlowParts<'_>) -> Self {
        NewFlow {
            name: parts.name.to_owned(),
            description: None,
            source_connection_id: parts.source_connection_id,
            target_connection_id: parts.target_connection_id,
            delta_column: parts.delta_column.to_owned(),
            mapping_set_id: parts.mapping_set_id,
            mapping_set_version: parts.mapping_set_version,
            schedule: parts.schedule,
        }
    }

    /// The delta column.
    pub fn delta_column(&self) -> &str {
        &self.delta_column
    }

    /// Checks every field; nothing is sent when one is wrong.
    pub fn validate(&self) -> Result<(), Error> {
        check_name_and_description(&self.name, self.description.as_deref())?;
        check_id("source_connection_id", self.source_connection_id.as_str())?;
        check_id("target_connection_id", self.target_connection_id.as_str())?;
        require_text("delta_column", &self.delta_column)?;
        check_id("mapping_set_id", self.mapping_set_id.as_str())?;
        check_mapping_version(self.mapping_set_version)?;
        check_start_time("schedule.start_time", self.schedule.start_time())
    }

    /// The `POST /flows` body, with the flow spec's id and version.
    fn request_body(&self, spec: &FlowSpec) -> Result<Vec<u8>, Error> {
        self.validate()?;
        let body = CreateBody {
            name: &self.name,
            description: self.description.as_deref().unwrap_or(""),
            flow_spec: SpecRef::new(&spec.id, &spec.version),
            source_connection_ids: [self.source_connection_id.as_str()],
            target_connection_ids: [self.target_connection_id.as_str()],
            // Copy first, then Mapping: on a database flow the Mapping
            // entry is at index 1.
            transformations: (
                Entry {
                    name: COPY,
                    params: CopyParams {
                        delta_column: DeltaColumn {
                            name: &self.delta_column,
                            date_format: DELTA_DATE_FORMAT,
                            timezone: DELTA_TIMEZONE,
                        },
                    },
                },
                mapping_entry(self.mapping_set_id.as_str(), self.mapping_set_version),
            ),
            schedule_params: self.schedule.to_wire(),
        };
        serde_json::to_vec(&body).map_err(|e| Error::invalid_input("flow", e.to_string()))
    }
}

/// The whole `Mapping` transformation entry. `mappingVersion` is sent as
/// a number, as the database tutorial and Data Prep's own answers have it
/// (the flow spec's `transformationSpec` types it as a string); reads
/// accept both.
fn mapping_entry(mapping_set_id: &str, mapping_set_version: i64) -> Entry<MappingParams<'_>> {
    Entry {
        name: MAPPING,
        params: MappingParams {
            mapping_id: mapping_set_id,
            mapping_version: mapping_set_version,
        },
    }
}

/// The `POST /flows` body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    name: &'a str,
    description: &'a str,
    flow_spec: SpecRef<'a>,
    source_connection_ids: [&'a str; 1],
    target_connection_ids: [&'a str; 1],
    /// Serialized as a two-entry array.
    transformations: (Entry<CopyParams<'a>>, Entry<MappingParams<'a>>),
    schedule_params: ScheduleParams,
}

/// One entry of `transformations`: `Copy` or `Mapping`, with its params.
#[derive(Debug, Serialize)]
struct Entry<P> {
    name: &'static str,
    params: P,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CopyParams<'a> {
    delta_column: DeltaColumn<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeltaColumn<'a> {
    name: &'a str,
    date_format: &'static str,
    timezone: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MappingParams<'a> {
    mapping_id: &'a str,
    mapping_version: i64,
}

/// One operation of a `PATCH /flows/{id}` body.
type FlowPatch<'a> = PatchOp<'static, PatchValue<'a>>;

/// What a flow patch sets: a schedule member, the `Mapping` entry, or (in
/// a `remove`) the value as read.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum PatchValue<'a> {
    Member(Member),
    Mapping(Entry<MappingParams<'a>>),
    Read(Value),
}

/// `[{"op": "replace", "path": "/transformations/{index}", "value":
/// <the Mapping entry>}]`.
fn mapping_patch(
    index: usize,
    mapping_set_id: &str,
    mapping_set_version: i64,
) -> Vec<FlowPatch<'_>> {
    vec![PatchOp {
        op: "replace",
        path: Cow::Owned(format!("/transformations/{index}")),
        value: PatchValue::Mapping(mapping_entry(mapping_set_id, mapping_set_version)),
    }]
}

fn check_mapping_version(version: i64) -> Result<(), Error> {
    if version < 0 {
        return Err(Error::invalid_input(
            "mapping_set_version",
            "must be 0 or more (a new mapping set is version 0)",
        ));
    }
    Ok(())
}

/// Which flows to list.
#[derive(Debug, Clone)]
#[must_use = "a filter does nothing until a listing takes it"]
pub struct FlowFilter {
    source_connection_id: Option<SourceConnectionId>,
    target_connection_id: Option<TargetConnectionId>,
    state: Option<FlowState>,
    page_size: u32,
    max_items: usize,
}

filter_default!(FlowFilter {
    source_connection_id,
    target_connection_id,
    state
});

paging_options!(FlowFilter, "Stop after this many. Defaults to 10 000.");

impl FlowFilter {
    /// Every flow (up to the cap).
    pub fn new() -> Self {
        FlowFilter::default()
    }

    /// Only flows reading this source connection
    /// (`property=sourceConnectionIds[]==X`, also checked locally).
    pub fn with_source_connection_id(mut self, id: SourceConnectionId) -> Self {
        self.source_connection_id = Some(id);
        self
    }

    /// Only flows writing this target connection
    /// (`property=targetConnectionIds[]==X`, also checked locally).
    pub fn with_target_connection_id(mut self, id: TargetConnectionId) -> Self {
        self.target_connection_id = Some(id);
        self
    }

    /// Only flows in this state (`property=state==enabled`, also checked
    /// locally).
    pub fn with_state(mut self, state: FlowState) -> Self {
        self.state = Some(state);
        self
    }
}

/// Pages through a listing of flows. Made by [`Client::flows`].
pub type Flows = Pages<Flow>;

impl Client {
    /// The flow spec for database sources into the data lake: `GET
    /// /flowSpecs?property=name==CRMToAEP`, checked to list the PostgreSQL
    /// connection spec ([`POSTGRES_CONNECTION_SPEC_ID`](crate::spec::POSTGRES_CONNECTION_SPEC_ID))
    /// among its source connection specs. [`Error::Unsuitable`] names what
    /// is missing (no such spec, or one without PostgreSQL).
    ///
    /// Read once per client (its clones share it): later calls send
    /// nothing. A failure is not kept; the next call asks again.
    pub fn postgres_flow_spec(&self) -> Result<FlowSpec, Error> {
        self.memo(FLOW_SPEC_MEMO, || self.fetch_postgres_flow_spec())
            .map_err(|e| self.scrub_error(e))
    }

    fn fetch_postgres_flow_spec(&self) -> Result<FlowSpec, Error> {
        let resp = self
            .request(Method::Get, "/flowSpecs?property=name%3D%3DCRMToAEP")
            .send()?;
        let page: WireFlowSpecs = parse_json(&resp, "a list of flow specs {\"items\": [...]}")?;
        // Checked locally too: a service that ignores the filter answers
        // with every spec.
        let mut named: Vec<FlowSpec> = page
            .items
            .into_iter()
            .filter(|s| s.name == CRM_TO_AEP_FLOW_SPEC_NAME)
            .collect();
        // Two specs of that name: the one with the documented id; without
        // it there is no telling which one makes database dataflows.
        let documented = named.iter().position(|s| s.id == CRM_TO_AEP_FLOW_SPEC_ID);
        let spec = match (named.len(), documented) {
            (0, _) => {
                return Err(Error::Unsuitable {
                    field: "flow_spec".into(),
                    rule: format!(
                        "Flow Service lists no flow spec named {CRM_TO_AEP_FLOW_SPEC_NAME} in \
                         this sandbox (database sources need it; expected id \
                         {CRM_TO_AEP_FLOW_SPEC_ID})"
                    ),
                })
            }
            (1, _) => named.swap_remove(0),
            (_, Some(i)) => named.swap_remove(i),
            (n, None) => {
                return Err(Error::Unsuitable {
                    field: "flow_spec".into(),
                    rule: format!(
                        "Flow Service lists {n} flow specs named {CRM_TO_AEP_FLOW_SPEC_NAME} in \
                         this sandbox, none with the documented id {CRM_TO_AEP_FLOW_SPEC_ID}: \
                         refusing to choose one (ask Adobe which one database sources use)"
                    ),
                })
            }
        };
        check_from_service(&resp, "a flow spec id", &spec.id)?;
        if spec.version.is_empty() {
            return Err(Error::unexpected(
                &resp,
                format!("flow spec {CRM_TO_AEP_FLOW_SPEC_NAME} has no version"),
            ));
        }
        check_from_service(&resp, "a flow spec version", &spec.version)?;
        let sources = &spec.source_connection_spec_ids;
        if !sources.iter().any(|s| s == POSTGRES_CONNECTION_SPEC_ID) {
            return Err(Error::Unsuitable {
                field: "flow_spec".into(),
                rule: format!(
                    "flow spec {CRM_TO_AEP_FLOW_SPEC_NAME} ({}) does not list the PostgreSQL \
                     connection spec {POSTGRES_CONNECTION_SPEC_ID} in sourceConnectionSpecIds \
                     ({} listed): it cannot make a dataflow from PostgreSQL in this sandbox",
                    one_line(&spec.id, 80),
                    sources.len()
                ),
            });
        }
        Ok(spec)
    }

    /// Creates a dataflow: `POST /flows` with the flow spec from
    /// [`postgres_flow_spec`](Self::postgres_flow_spec), the source and
    /// target connection, `transformations` `[Copy {deltaColumn: {name,
    /// dateFormat: "YYYY-MM-DD", timezone: "UTC"}}, Mapping {mappingId,
    /// mappingVersion}]` and `scheduleParams`. Input is checked before
    /// anything is sent. Never retried once it may have reached the
    /// service.
    pub fn create_flow(&self, flow: &NewFlow) -> Result<Saved<FlowId>, Error> {
        flow.validate()?;
        let spec = self.postgres_flow_spec()?;
        let body = flow.request_body(&spec)?;
        self.request(Method::Post, "/flows").body(&body).created()
    }

    /// Reads one flow: `GET /flows/{id}`.
    pub fn get_flow(&self, id: &FlowId) -> Result<Flow, Error> {
        self.get_resource::<Flow>(id.as_str())
    }

    /// Pages through the flows that match `filter`, lazily.
    pub fn flows(&self, filter: FlowFilter) -> Flows {
        self.pages::<Flow>(filter)
    }

    /// Lists the flows that match `filter`, every page, up to the cap.
    pub fn list_flows(&self, filter: FlowFilter) -> Result<Vec<Flow>, Error> {
        self.list::<Flow>(filter)
    }

    /// The first flow from `source_connection_id` to
    /// `target_connection_id`, if any (one request when it is on the
    /// first page). A listed flow without the connection ids to check is
    /// an error naming the field, not an answer.
    pub fn find_flow(
        &self,
        source_connection_id: &SourceConnectionId,
        target_connection_id: &TargetConnectionId,
    ) -> Result<Option<Flow>, Error> {
        let filter = FlowFilter::new()
            .with_source_connection_id(source_connection_id.clone())
            .with_target_connection_id(target_connection_id.clone());
        self.find::<Flow>(filter)
    }

    /// Changes a flow's schedule: reads the flow, then `PATCH /flows/{id}`
    /// with its etag in `If-Match` and `replace` (or `add`) operations for
    /// `/scheduleParams/frequency`, `/scheduleParams/interval` and
    /// `/scheduleParams/backfill`; going to [`Schedule::once`] removes
    /// `interval` and `backfill`. On 412 it reads again and tries once
    /// more.
    ///
    /// The schedule's start time is **not** sent: the service forbids
    /// changing `startTime` once it has passed, so the flow keeps its own.
    /// A flow without `scheduleParams` is [`Error::Unsuitable`].
    pub fn update_flow_schedule(
        &self,
        flow_id: &FlowId,
        schedule: &Schedule,
    ) -> Result<Saved<FlowId>, Error> {
        let flow_id = flow_id.as_str();
        check_id("flow_id", flow_id)?;
        self.update_with_retry(
            || {
                let wire = self.get_to_write::<Flow>(flow_id)?;
                let Some(Value::Object(current)) = wire.schedule_params else {
                    return Err(Error::Unsuitable {
                        field: "flow_id".into(),
                        rule: format!(
                            "flow {flow_id} has no scheduleParams, so there is no schedule to \
                             change"
                        ),
                    });
                };
                let ops = schedule_ops(&current, schedule);
                Ok((wire.etag, ops))
            },
            |(etag, ops)| self.patch_flow(flow_id, etag, ops),
        )
    }

    /// Points a flow at another mapping set (or version): reads the flow,
    /// finds its `Mapping` transformation, and `PATCH /flows/{id}` with
    /// `If-Match` and `[{"op": "replace", "path": "/transformations/{i}",
    /// "value": {"name": "Mapping", "params": {"mappingId",
    /// "mappingVersion"}}}]`, where `i` is that entry's index in the flow
    /// (1 on a database flow, whose `Copy` comes first; Adobe's example
    /// uses 0, which would overwrite `Copy`). A flow without a `Mapping`
    /// entry is [`Error::Unsuitable`]. On 412 it reads again and tries
    /// once more.
    pub fn update_flow_mapping(
        &self,
        id: &FlowId,
        mapping_set_id: &MappingSetId,
        mapping_set_version: i64,
    ) -> Result<Saved<FlowId>, Error> {
        let (flow_id, mapping_set_id) = (id.as_str(), mapping_set_id.as_str());
        check_id("flow_id", flow_id)?;
        check_id("mapping_set_id", mapping_set_id)?;
        check_mapping_version(mapping_set_version)?;
        self.update_with_retry(
            || {
                let flow = Flow::from(self.get_to_write::<Flow>(flow_id)?);
                let Some(index) = flow.mapping_index() else {
                    return Err(Error::Unsuitable {
                        field: "flow_id".into(),
                        rule: format!(
                            "flow {flow_id} has no Mapping transformation to replace ({} \
                             transformation(s))",
                            flow.transformations.len()
                        ),
                    });
                };
                let ops = mapping_patch(index, mapping_set_id, mapping_set_version);
                Ok((flow.etag, ops))
            },
            |(etag, ops)| self.patch_flow(flow_id, etag, ops),
        )
    }

    /// Renames a flow: reads it, then `PATCH /flows/{id}` with its etag in
    /// `If-Match` and `[{"op": "replace", "path": "/name", "value": NAME}]`
    /// (a name the service takes: not empty, at most 256 characters, no
    /// control characters). On 412 it reads again and tries once more.
    pub fn update_flow_name(&self, id: &FlowId, name: &str) -> Result<Saved<FlowId>, Error> {
        let flow_id = id.as_str();
        check_id("flow_id", flow_id)?;
        crate::client::input::check_name("name", name)?;
        self.update_with_retry(
            || {
                let wire = self.get_to_write::<Flow>(flow_id)?;
                let ops = vec![PatchOp {
                    op: "replace",
                    path: Cow::Borrowed("/name"),
                    value: PatchValue::Read(Value::String(name.to_owned())),
                }];
                Ok((wire.etag, ops))
            },
            |(etag, ops)| self.patch_flow(flow_id, etag, ops),
        )
    }

    fn patch_flow(
        &self,
        flow_id: &str,
        etag: &str,
        ops: &[FlowPatch<'_>],
    ) -> Result<Saved<FlowId>, Error> {
        let body =
            serde_json::to_vec(ops).map_err(|e| Error::invalid_input("flow", e.to_string()))?;
        self.request(Method::Patch, Flow::path(flow_id))
            .body(&body)
            .if_match(etag)
            .resource(Flow::NAME, flow_id)
            .saved()
    }

    /// Enables a flow: `POST /flows/{id}/action?op=enable`, no body →
    /// `{id, etag}`.
    pub fn enable_flow(&self, id: &FlowId) -> Result<Saved<FlowId>, Error> {
        self.flow_action(id.as_str(), "enable")
    }

    /// Disables a flow: `POST /flows/{id}/action?op=disable`, no body →
    /// `{id, etag}`.
    pub fn disable_flow(&self, id: &FlowId) -> Result<Saved<FlowId>, Error> {
        self.flow_action(id.as_str(), "disable")
    }

    fn flow_action(&self, id: &str, op: &str) -> Result<Saved<FlowId>, Error> {
        check_id("flow_id", id)?;
        // The reference spec (flow-service.yaml, `postStateTransition`)
        // spells `op` as the enum `ENABLE`/`DISABLE` and marks a `subOp`
        // (`APPLY`, `ROLLBACK`, `PROGRESS`) required; Adobe's "Update
        // dataflows" tutorial sends `?op=enable` (or `disable`) alone, no
        // body, no If-Match. The tutorial is followed.
        self.request(Method::Post, format!("/flows/{id}/action?op={op}"))
            .resource(Flow::NAME, id)
            .saved()
    }

    /// Deletes a flow: `DELETE /flows/{id}` → 204.
    pub fn delete_flow(&self, id: &FlowId) -> Result<(), Error> {
        self.delete_resource::<Flow>(id.as_str())
    }
}

/// The JSON Patch operations that turn `current` (the flow's
/// `scheduleParams`) into `new`, leaving `startTime` alone: `replace` for a
/// member that is there, `add` for one that is not, `remove` for
/// `interval` and `backfill` when going to `once`.
///
/// A `remove` carries the member's current value (as read with the etag
/// sent in `If-Match`): RFC 6902 needs none, but Adobe's Flow Service
/// spec makes `value` required on every operation and its only `remove`
/// example sends one, so a strict service may refuse a `remove` without.
fn schedule_ops(
    current: &serde_json::Map<String, Value>,
    new: &Schedule,
) -> Vec<FlowPatch<'static>> {
    let path = |key: &str| Cow::Owned(format!("/scheduleParams/{key}"));
    let mut ops = Vec::new();
    let members = new.wire_members().into_iter();
    for (key, value) in members.filter(|(key, _)| *key != "startTime") {
        let op = if current.contains_key(key) {
            "replace"
        } else {
            "add"
        };
        ops.push(PatchOp {
            op,
            path: path(key),
            value: PatchValue::Member(value),
        });
    }
    // A `once` schedule has neither member: each one there is removed.
    for key in ["interval", "backfill"] {
        if let (true, Some(read)) = (new.is_once(), current.get(key)) {
            ops.push(PatchOp {
                op: "remove",
                path: path(key),
                value: PatchValue::Read(read.clone()),
            });
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use crate::ids::id;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::client::test_support::client_on;
    use crate::transport::memory::MemoryTransport;
    use crate::{Delivery, TransportErrorKind};

    const START: i64 = 1_764_230_400;

    /// The create body and the patches, against the JSON the code built
    /// before they were typed (compared as values: key order is not
    /// meaning).
    #[test]
    fn bodies_are_the_json_sent_before() {
        const MS: &str = "e7c80e4c0d8f4a98a7d400b4e178b635";
        let spec = FlowSpec {
            id: "spec-1".into(),
            name: CRM_TO_AEP_FLOW_SPEC_NAME.into(),
            version: "1.0".into(),
            source_connection_spec_ids: vec![],
            target_connection_spec_ids: vec![],
        };
        let want = |description: &str, version: i64, schedule: Value| {
            json!({"name": "orders flow", "description": description,
                   "flowSpec": {"id": "spec-1", "version": "1.0"},
                   "sourceConnectionIds": ["src-1"], "targetConnectionIds": ["tgt-1"],
                   "transformations": [
                       {"name": "Copy", "params": {"deltaColumn": {"name": "updated_at",
                           "dateFormat": "YYYY-MM-DD", "timezone": "UTC"}}},
                       {"name": "Mapping", "params": {"mappingId": MS, "mappingVersion": version}}],
                   "scheduleParams": schedule})
        };
        let body = |f: &NewFlow| -> Value {
            serde_json::from_slice(&f.request_body(&spec).unwrap()).unwrap()
        };
        let hourly = Schedule::every(Frequency::Hour, 1, START).unwrap();
        let flow = |version, schedule| {
            NewFlow::new(FlowParts {
                name: "orders flow",
                source_connection_id: id("src-1"),
                target_connection_id: id("tgt-1"),
                delta_column: "updated_at",
                mapping_set_id: id(MS),
                mapping_set_version: version,
                schedule,
            })
        };
        assert_eq!(
            body(&flow(3, hourly).with_description("d")),
            want(
                "d",
                3,
                json!({"startTime": START, "frequency": "hour", "interval": 1,
                                "backfill": true})
            )
        );
        assert_eq!(
            body(&flow(0, Schedule::once(START))),
            want("", 0, json!({"startTime": START, "frequency": "once"}))
        );
        let minutes = Schedule::every(Frequency::Minute, 15, START)
            .unwrap()
            .without_backfill();
        assert_eq!(
            body(&flow(0, minutes))["scheduleParams"],
            json!({"startTime": START, "frequency": "minute", "interval": 15, "backfill": false})
        );

        let as_json = |ops: &[FlowPatch<'_>]| serde_json::to_value(ops).unwrap();
        assert_eq!(
            as_json(&mapping_patch(1, MS, 2)),
            json!([{"op": "replace", "path": "/transformations/1",
                    "value": {"name": "Mapping", "params": {"mappingId": MS, "mappingVersion": 2}}}])
        );
        let current = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            as_json(&schedule_ops(
                &current(json!({"startTime": 1, "frequency": "hour", "interval": "1",
                                "backfill": true})),
                &Schedule::once(START)
            )),
            json!([{"op": "replace", "path": "/scheduleParams/frequency", "value": "once"},
                   {"op": "remove", "path": "/scheduleParams/interval", "value": "1"},
                   {"op": "remove", "path": "/scheduleParams/backfill", "value": true}])
        );
        assert_eq!(
            as_json(&schedule_ops(
                &current(json!({"startTime": 1, "frequency": "once"})),
                &minutes
            )),
            json!([{"op": "replace", "path": "/scheduleParams/frequency", "value": "minute"},
                   {"op": "add", "path": "/scheduleParams/interval", "value": 15},
                   {"op": "add", "path": "/scheduleParams/backfill", "value": false}])
        );
    }

    fn spec_page(sources: &[&str]) -> String {
        json!({"items": [{"id": CRM_TO_AEP_FLOW_SPEC_ID, "name": "CRMToAEP", "version": "1.0",
                          "sourceConnectionSpecIds": sources,
                          "targetConnectionSpecIds": ["c604ff05-7f1a-43c0-8e18-33bf874cb11c"],
                          "attributes": {}, "scheduleSpec": {}}]})
        .to_string()
    }

    fn good_spec() -> String {
        spec_page(&["0000-other", POSTGRES_CONNECTION_SPEC_ID])
    }

    fn flow_item(id: &str, etag: &str) -> Value {
        json!({"id": id, "name": "orders flow", "description": "d", "state": "enabled",
               "etag": etag, "flowSpec": {"id": CRM_TO_AEP_FLOW_SPEC_ID, "version": "1.0"},
               "sourceConnectionIds": ["src-1"], "targetConnectionIds": ["tgt-1"],
               "transformations": [
                   {"name": "Copy", "params": {"deltaColumn": {"name": "updated_at",
                       "dateFormat": "YYYY-MM-DD", "timezone": "UTC"}}},
                   {"name": "Mapping", "params": {"mappingId": "map1", "mappingVersion": 0}}],
               "scheduleParams": {"startTime": "1764230400", "frequency": "hour",
                                  "interval": "1", "backfill": "true"},
               "lastRunDetails": {"id": "run-1", "state": "success",
                                  "startedAtUTC": 1, "completedAtUTC": 2},
               "createdAt": 10, "updatedAt": 20, "unknown": {"x": 1}})
    }

    fn items(items: &[Value]) -> String {
        json!({ "items": items }).to_string()
    }

    fn new_flow() -> NewFlow {
        NewFlow::new(FlowParts {
            name: "orders flow",
            source_connection_id: id("src-1"),
            target_connection_id: id("tgt-1"),
            delta_column: "updated_at",
            mapping_set_id: id("e7c80e4c0d8f4a98a7d400b4e178b635"),
            mapping_set_version: 0,
            schedule: Schedule::every(Frequency::Hour, 1, START).unwrap(),
        })
    }

    fn field_of(e: &Error) -> &str {
        match e {
            Error::InvalidInput { field, .. } | Error::Unsuitable { field, .. } => field,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn create_sends_the_pipeline_body_after_reading_the_flow_spec() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &good_spec())
            .reply(201, r#"{"id":"flow-1","etag":"\"e1\""}"#);
        let saved = client_on(&t)
            .create_flow(&new_flow().with_description("nightly"))
            .unwrap();
        assert_eq!(
            (saved.id.as_str(), saved.etag.as_str()),
            ("flow-1", "\"e1\"")
        );
        let seen = t.seen();
        assert_eq!(seen[0].method, "GET");
        assert!(
            seen[0]
                .url
                .ends_with("/data/foundation/flowservice/flowSpecs?property=name%3D%3DCRMToAEP"),
            "{}",
            seen[0].url
        );
        assert_eq!(seen[1].method, "POST");
        assert!(seen[1].url.ends_with("/data/foundation/flowservice/flows"));
        assert_eq!(
            seen[1].json(),
            json!({"name": "orders flow", "description": "nightly",
                   "flowSpec": {"id": CRM_TO_AEP_FLOW_SPEC_ID, "version": "1.0"},
                   "sourceConnectionIds": ["src-1"], "targetConnectionIds": ["tgt-1"],
                   "transformations": [
                       {"name": "Copy", "params": {"deltaColumn": {"name": "updated_at",
                           "dateFormat": "YYYY-MM-DD", "timezone": "UTC"}}},
                       {"name": "Mapping", "params": {
                           "mappingId": "e7c80e4c0d8f4a98a7d400b4e178b635", "mappingVersion": 0}}],
                   "scheduleParams": {"startTime": START, "frequency": "hour", "interval": 1,
                                      "backfill": true}})
        );
        // Copy comes first in the bytes too.
        let body = String::from_utf8(seen[1].body.clone().unwrap()).unwrap();
        assert!(body.find("\"Copy\"").unwrap() < body.find("\"Mapping\"").unwrap());
    }

    #[test]
    fn a_once_flow_sends_start_time_and_frequency_only() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &good_spec())
            .reply(201, r#"{"id":"flow-1","etag":"\"e1\""}"#);
        let mut new = new_flow();
        new.schedule = Schedule::once(START).without_backfill();
        client_on(&t).create_flow(&new).unwrap();
        assert_eq!(
            t.seen()[1].json()["scheduleParams"],
            json!({"startTime": START, "frequency": "once"})
        );
    }

    #[test]
    fn the_flow_spec_is_read_once_per_client() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &good_spec());
        let c = client_on(&t);
        let spec = c.postgres_flow_spec().unwrap();
        assert_eq!(spec.id, CRM_TO_AEP_FLOW_SPEC_ID);
        assert_eq!(spec.name, "CRMToAEP");
        assert_eq!(spec.version, "1.0");
        assert!(spec
            .source_connection_spec_ids
            .contains(&POSTGRES_CONNECTION_SPEC_ID.to_owned()));
        assert_eq!(
            spec.target_connection_spec_ids,
            ["c604ff05-7f1a-43c0-8e18-33bf874cb11c"]
        );
        // The second call (and a clone's) sends nothing.
        assert_eq!(c.postgres_flow_spec().unwrap(), spec);
        assert_eq!(c.clone().postgres_flow_spec().unwrap(), spec);
        assert_eq!(t.seen().len(), 1);
        // A create uses the kept spec: only the POST goes out.
        t.reply(201, r#"{"id":"flow-1","etag":"\"e1\""}"#);
        c.create_flow(&new_flow()).unwrap();
        assert_eq!(t.seen().len(), 2);
        assert_eq!(t.seen()[1].method, "POST");
    }

    #[test]
    fn a_flow_spec_without_postgres_is_unsuitable_and_nothing_is_created() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &spec_page(&["other-spec"]));
        let c = client_on(&t);
        let e = c.create_flow(&new_flow()).unwrap_err();
        assert!(e.is_unsuitable(), "{e}");
        assert_eq!(field_of(&e), "flow_spec");
        assert!(e.to_string().contains(POSTGRES_CONNECTION_SPEC_ID), "{e}");
        assert_eq!(t.seen().len(), 1);
        // Not kept: the next call asks again. No spec of that name at all.
        t.reply(
            200,
            &items(&[json!({"id": "x", "name": "Other", "version": "1.0"})]),
        );
        let e = c.postgres_flow_spec().unwrap_err();
        assert!(e.is_unsuitable(), "{e}");
        assert!(e.to_string().contains("CRMToAEP"), "{e}");
        assert_eq!(t.seen().len(), 2);
    }

    #[test]
    fn of_two_specs_named_crm_to_aep_the_documented_one_is_taken_else_none() {
        let spec = |id: &str| {
            json!({"id": id, "name": "CRMToAEP", "version": "1.0",
                   "sourceConnectionSpecIds": [POSTGRES_CONNECTION_SPEC_ID]})
        };
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            &items(&[
                spec("0a0a0a0a-0000-4000-8000-000000000001"),
                spec(CRM_TO_AEP_FLOW_SPEC_ID),
            ]),
        );
        assert_eq!(
            client_on(&t).postgres_flow_spec().unwrap().id,
            CRM_TO_AEP_FLOW_SPEC_ID
        );
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            &items(&[
                spec("0a0a0a0a-0000-4000-8000-000000000001"),
                spec("0a0a0a0a-0000-4000-8000-000000000002"),
            ]),
        );
        let e = client_on(&t).postgres_flow_spec().unwrap_err();
        assert!(e.is_unsuitable(), "{e}");
        assert!(e.to_string().contains("2 flow specs named CRMToAEP"), "{e}");
        assert!(e.to_string().contains(CRM_TO_AEP_FLOW_SPEC_ID), "{e}");
        // One spec of that name with another id is still taken, as before.
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &items(&[spec("0a0a0a0a-0000-4000-8000-000000000001")]));
        assert!(client_on(&t).postgres_flow_spec().is_ok());
    }

    #[test]
    fn garbled_flow_spec_answers_are_errors() {
        for body in [
            "not json",
            "[1]",
            r#"{"items": "x"}"#,
            r#"{"items": [{"name": "CRMToAEP", "version": "1.0", "sourceConnectionSpecIds": []}]}"#,
            r#"{"items": [{"id": "a", "name": "CRMToAEP", "sourceConnectionSpecIds": ["74a1c565-4e59-48d7-9d67-7c03b8a13137"]}]}"#,
            r#"{"items": [{"id": 5, "name": "CRMToAEP"}]}"#,
            r#"{"items": [{"id": "a", "name": "CRMToAEP", "version": "1.0", "sourceConnectionSpecIds": "x"}]}"#,
        ] {
            let t = Arc::new(MemoryTransport::default());
            t.reply(200, body);
            let e = client_on(&t).postgres_flow_spec().unwrap_err();
            assert!(matches!(e, Error::UnexpectedResponse { .. }), "{body}: {e}");
        }
    }

    #[test]
    fn get_reads_every_field_leniently() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &items(&[flow_item("flow-1", "\"e1\"")]));
        let f = client_on(&t).get_flow(&id("flow-1")).unwrap();
        assert!(t.seen()[0].url.ends_with("/flows/flow-1"));
        assert_eq!(f.name, "orders flow");
        assert_eq!(f.description.as_deref(), Some("d"));
        assert_eq!(f.state, FlowState::Enabled);
        assert_eq!(f.flow_spec_id.as_deref(), Some(CRM_TO_AEP_FLOW_SPEC_ID));
        assert_eq!(f.source_connection_ids, ["src-1"]);
        assert_eq!(f.target_connection_ids, ["tgt-1"]);
        assert_eq!(
            f.schedule,
            Some(Schedule::every(Frequency::Hour, 1, START).unwrap())
        );
        assert_eq!(f.mapping(), Some((1, id("map1"), 0)));
        assert_eq!(f.delta_column(), Some("updated_at"));
        assert_eq!(f.etag, "\"e1\"");
        let run = f.last_run.unwrap();
        assert_eq!(run.id.as_ref().map(|i| i.as_str()), Some("run-1"));
        assert_eq!(run.state.as_deref(), Some("success"));
        assert_eq!((run.started_at, run.completed_at), (Some(1), Some(2)));
        assert_eq!((f.created_at, f.updated_at), (Some(10), Some(20)));
    }

    #[test]
    fn states_and_mapping_versions_parse_leniently() {
        assert_eq!(FlowState::parse("ENABLED"), FlowState::Enabled);
        assert_eq!(FlowState::parse("Disabled"), FlowState::Disabled);
        assert_eq!(
            FlowState::parse("draft"),
            FlowState::Other("draft".to_owned())
        );
        assert_eq!(FlowState::Other("draft".into()).as_str(), "draft");
        assert_eq!(FlowState::Enabled.to_string(), "enabled");
        let t = Arc::new(MemoryTransport::default());
        let mut item = flow_item("f", "\"e\"");
        item["transformations"][1]["params"]["mappingVersion"] = json!("3");
        item["state"] = json!("Disabled");
        item["scheduleParams"] = json!({"startTime": 1, "frequency": "minute", "interval": 5});
        t.reply(200, &items(&[item]));
        let f = client_on(&t).get_flow(&id("f")).unwrap();
        assert_eq!(f.mapping(), Some((1, id("map1"), 3)));
        assert_eq!(f.state, FlowState::Disabled);
        // Not a schedule by the rules (interval 5 minutes): None.
        assert_eq!(f.schedule, None);
    }

    #[test]
    fn garbled_flows_are_errors_or_absent_fields_never_panics() {
        // Wrong types where a value is needed: errors.
        for body in [
            "<html>".to_owned(),
            r#"{"items": {}}"#.to_owned(),
            items(&[json!({"id": 7})]),
            items(&[json!({"id": "f", "sourceConnectionIds": "src-1"})]),
            items(&[json!({"id": "f", "transformations": {"name": "Copy"}})]),
            items(&[json!({"id": "f", "transformations": [{"name": 1}]})]),
            items(&[json!({"id": "other"})]),
            items(&[json!({"id": "f", "etag": "bad etag\n"})]),
        ] {
            let t = Arc::new(MemoryTransport::default());
            t.reply(200, &body);
            let e = client_on(&t).get_flow(&id("f")).unwrap_err();
            assert!(matches!(e, Error::UnexpectedResponse { .. }), "{body}: {e}");
        }
        // Odd but harmless shapes: read as absent.
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            &items(&[
                json!({"id": "f", "scheduleParams": "hourly", "lastRunDetails": 5,
                             "createdAt": "soon", "state": null,
                             "transformations": [{"name": "Mapping", "params": 3},
                                                 {"name": "Copy"}]}),
            ]),
        );
        let f = client_on(&t).get_flow(&id("f")).unwrap();
        assert_eq!(f.schedule, None);
        assert_eq!(f.last_run, None);
        assert_eq!(f.created_at, None);
        assert_eq!(f.state, FlowState::Other(String::new()));
        assert_eq!(f.mapping(), None);
        assert_eq!(f.delta_column(), None);
        // An empty list is NotFound.
        t.reply(200, r#"{"items": []}"#);
        assert!(matches!(
            client_on(&t).get_flow(&id("f")).unwrap_err(),
            Error::NotFound {
                resource: "flow",
                ..
            }
        ));
    }

    #[test]
    fn service_errors_keep_their_meaning() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        t.reply(
            404,
            r#"{"type": "https://ns.adobe.com/aep/errors/FLOW-1404-404"}"#,
        );
        assert!(matches!(
            c.get_flow(&id("f")).unwrap_err(),
            Error::NotFound { resource: "flow", ref id, .. } if id == "f"
        ));
        // A create refused with Flow Service's envelope.
        t.reply(200, &good_spec()).reply(
            400,
            r#"{"type": "https://ns.adobe.com/aep/errors/FLOW-1415-400", "title": "Bad Request",
                "report": {"detailed-message": "Source connection src-1 not found"}}"#,
        );
        let e = c.create_flow(&new_flow()).unwrap_err();
        match &e {
            Error::Api(api) => {
                assert_eq!(api.status, 400);
                assert_eq!(api.code.as_deref(), Some("FLOW-1415-400"));
                assert!(api.message.contains("src-1"), "{}", api.message);
            }
            other => panic!("{other}"),
        }
        // A 5xx on create: not retried, may have landed.
        t.reply(503, r#"{"error_code": "503000", "message": "down"}"#);
        let e = c.create_flow(&new_flow()).unwrap_err();
        assert_eq!(e.status(), Some(503));
        assert!(e.may_have_been_processed());
        // A lost answer on an enable.
        t.fail(TransportErrorKind::Io, Delivery::Unknown);
        assert!(matches!(
            c.enable_flow(&id("f")).unwrap_err(),
            Error::Transport(_)
        ));
        // Deleting a flow that is gone.
        t.reply(404, "");
        assert!(matches!(
            c.delete_flow(&id("f")).unwrap_err(),
            Error::NotFound { .. }
        ));
        assert_eq!(t.remaining(), 0);
    }

    #[test]
    fn listing_filters_on_the_wire_and_locally() {
        let t = Arc::new(MemoryTransport::default());
        let mut other_target = flow_item("b", "\"e\"");
        other_target["targetConnectionIds"] = json!(["tgt-2"]);
        let mut disabled = flow_item("c", "\"e\"");
        disabled["state"] = json!("disabled");
        // A service that ignores the filters: the local check still applies.
        t.reply(
            200,
            &items(&[flow_item("a", "\"e\""), other_target, disabled]),
        );
        let found = client_on(&t)
            .list_flows(
                FlowFilter::new()
                    .with_source_connection_id(id("src-1"))
                    .with_target_connection_id(id("tgt-1"))
                    .with_state(FlowState::Enabled),
            )
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "a");
        let url = &t.seen()[0].url;
        assert!(
            url.ends_with(
                "/flows?limit=50&property=sourceConnectionIds%5B%5D%3D%3Dsrc-1\
                 &property=targetConnectionIds%5B%5D%3D%3Dtgt-1&property=state%3D%3Denabled"
            ),
            "{url}"
        );
    }

    /// Typed ids add no rule to what the service may send: a listing whose
    /// ids are visible ASCII outside the input rule (dots, colons) reads as
    /// before, each id kept byte for byte in its own type.
    #[test]
    fn ids_from_the_service_are_typed_without_a_new_rule() {
        let t = Arc::new(MemoryTransport::default());
        let mut item = flow_item("flow.1:a", "\"e\"");
        item["sourceConnectionIds"] = json!(["src.1"]);
        item["targetConnectionIds"] = json!(["tgt:1"]);
        item["lastRunDetails"]["id"] = json!("run.1");
        t.reply(200, &items(&[item]));
        let flows = client_on(&t).list_flows(FlowFilter::new()).unwrap();
        let f = &flows[0];
        assert_eq!(f.id.as_str(), "flow.1:a");
        assert_eq!(f.source_connection_ids, ["src.1"]);
        assert_eq!(f.target_connection_ids, ["tgt:1"]);
        assert_eq!(
            f.last_run
                .as_ref()
                .and_then(|r| r.id.as_ref())
                .map(|i| i.as_str()),
            Some("run.1")
        );
        // The same text typed by a caller is refused by the input rule.
        assert!("flow.1:a".parse::<FlowId>().is_err());
    }

    #[test]
    fn find_flow_takes_one_request_when_the_first_page_has_it() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            &json!({"items": [flow_item("a", "\"e\"")],
                    "_links": {"next": {"href": "/flows?limit=50&continuationToken=x"}}})
            .to_string(),
        );
        let c = client_on(&t);
        let f = c.find_flow(&id("src-1"), &id("tgt-1")).unwrap().unwrap();
        assert_eq!(f.id, "a");
        assert_eq!(t.seen().len(), 1);
        t.reply(200, &items(&[]));
        assert_eq!(c.find_flow(&id("src-1"), &id("tgt-9")).unwrap(), None);
    }

    /// An empty etag is read like a missing one; an update, which needs
    /// one for `If-Match`, refuses both before anything is written.
    #[test]
    fn an_empty_etag_is_read_like_a_missing_one_and_an_update_refuses_it() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        let mut missing = flow_item("flow-1", "");
        missing.as_object_mut().unwrap().remove("etag");
        for flow in [flow_item("flow-1", ""), missing] {
            let page = items(&[flow]);
            t.reply(200, &page).reply(200, &page).reply(200, &page);
            assert_eq!(c.get_flow(&id("flow-1")).unwrap().etag, "");
            let schedule = Schedule::every(Frequency::Hour, 2, 1_764_230_400).unwrap();
            for err in [
                c.update_flow_schedule(&id("flow-1"), &schedule)
                    .unwrap_err(),
                c.update_flow_mapping(&id("flow-1"), &id("newmap"), 4)
                    .unwrap_err(),
            ] {
                assert!(err.to_string().contains("an etag that is not"), "{err}");
            }
        }
        assert!(t.seen().iter().all(|s| s.method == "GET"));
        assert_eq!(t.remaining(), 0);
    }

    #[test]
    fn the_mapping_update_replaces_the_entry_at_its_own_index_not_zero() {
        // The pitfall: Adobe's example patches /transformations/0, which on
        // a database flow is the Copy entry.
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &items(&[flow_item("flow-1", "\"e1\"")]))
            .reply(200, r#"{"id":"flow-1","etag":"\"e2\""}"#);
        let saved = client_on(&t)
            .update_flow_mapping(&id("flow-1"), &id("newmap"), 4)
            .unwrap();
        assert_eq!(saved.etag, "\"e2\"");
        let seen = t.seen();
        assert_eq!(seen[0].method, "GET");
        assert_eq!(seen[1].method, "PATCH");
        assert!(seen[1].url.ends_with("/flows/flow-1"));
        assert_eq!(seen[1].header("if-match"), Some("\"e1\""));
        let ops = seen[1].json();
        assert_eq!(
            ops,
            json!([{"op": "replace", "path": "/transformations/1",
                    "value": {"name": "Mapping",
                              "params": {"mappingId": "newmap", "mappingVersion": 4}}}])
        );
        // The Copy entry (index 0) is untouched: no operation names it.
        assert!(!ops.to_string().contains("/transformations/0"));
        assert!(!ops.to_string().contains("Copy"));

        // Wherever the Mapping entry is, its own index is patched.
        let mut reordered = flow_item("flow-1", "\"e1\"");
        let ts = reordered["transformations"].as_array().unwrap().clone();
        reordered["transformations"] = json!([ts[1], ts[0]]);
        t.reply(200, &items(&[reordered]))
            .reply(200, r#"{"id":"flow-1","etag":"\"e3\""}"#);
        client_on(&t)
            .update_flow_mapping(&id("flow-1"), &id("newmap"), 5)
            .unwrap();
        assert_eq!(t.seen()[3].json()[0]["path"], "/transformations/0");
    }

    #[test]
    fn a_flow_without_a_mapping_is_unsuitable_and_nothing_is_written() {
        let t = Arc::new(MemoryTransport::default());
        let mut item = flow_item("flow-1", "\"e1\"");
        item["transformations"] = json!([item["transformations"][0]]);
        t.reply(200, &items(&[item]));
        let e = client_on(&t)
            .update_flow_mapping(&id("flow-1"), &id("m"), 0)
            .unwrap_err();
        assert!(e.is_unsuitable(), "{e}");
        assert_eq!(field_of(&e), "flow_id");
        assert_eq!(t.seen().len(), 1);
    }

    #[test]
    fn a_412_is_followed_by_one_reread_and_one_more_try() {
        let t = Arc::new(MemoryTransport::default());
        let stale = r#"{"type": "https://ns.adobe.com/aep/errors/FLOW-1404-412"}"#;
        t.reply(200, &items(&[flow_item("flow-1", "\"e1\"")]))
            .reply(412, stale)
            .reply(200, &items(&[flow_item("flow-1", "\"e2\"")]))
            .reply(200, r#"{"id":"flow-1","etag":"\"e3\""}"#);
        let c = client_on(&t);
        let schedule = Schedule::every(Frequency::Day, 1, START).unwrap();
        let saved = c.update_flow_schedule(&id("flow-1"), &schedule).unwrap();
        assert_eq!(saved.etag, "\"e3\"");
        let seen = t.seen();
        let methods: Vec<_> = seen.iter().map(|s| s.method).collect();
        assert_eq!(methods, ["GET", "PATCH", "GET", "PATCH"]);
        assert_eq!(seen[1].header("if-match"), Some("\"e1\""));
        assert_eq!(seen[3].header("if-match"), Some("\"e2\""));
        // A second 412 is returned.
        t.reply(200, &items(&[flow_item("flow-1", "\"e1\"")]))
            .reply(412, stale)
            .reply(200, &items(&[flow_item("flow-1", "\"e2\"")]))
            .reply(412, stale);
        let e = c
            .update_flow_mapping(&id("flow-1"), &id("m"), 1)
            .unwrap_err();
        assert_eq!(e.status(), Some(412));
        assert_eq!(t.remaining(), 0);
    }

    #[test]
    fn schedule_updates_replace_add_and_remove_but_never_touch_start_time() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        let patch_after = |params: Value, schedule: Schedule| {
            let mut item = flow_item("flow-1", "\"e1\"");
            item["scheduleParams"] = params;
            t.reply(200, &items(&[item]))
                .reply(200, r#"{"id":"flow-1","etag":"\"e2\""}"#);
            c.update_flow_schedule(&id("flow-1"), &schedule).unwrap();
            let seen = t.seen();
            let last = seen.last().unwrap();
            assert_eq!(last.method, "PATCH");
            assert!(!last.json().to_string().contains("startTime"));
            last.json()
        };
        // Recurring to recurring: replace all three.
        let ops = patch_after(
            json!({"startTime": START, "frequency": "hour", "interval": 1, "backfill": true}),
            Schedule::every(Frequency::Minute, 30, 99)
                .unwrap()
                .without_backfill(),
        );
        assert_eq!(
            ops,
            json!([{"op": "replace", "path": "/scheduleParams/frequency", "value": "minute"},
                   {"op": "replace", "path": "/scheduleParams/interval", "value": 30},
                   {"op": "replace", "path": "/scheduleParams/backfill", "value": false}])
        );
        // Once to recurring: interval and backfill are added.
        let ops = patch_after(
            json!({"startTime": START, "frequency": "once"}),
            Schedule::every(Frequency::Week, 2, START).unwrap(),
        );
        assert_eq!(
            ops,
            json!([{"op": "replace", "path": "/scheduleParams/frequency", "value": "week"},
                   {"op": "add", "path": "/scheduleParams/interval", "value": 2},
                   {"op": "add", "path": "/scheduleParams/backfill", "value": true}])
        );
        // Recurring to once: interval and backfill are removed.
        let ops = patch_after(
            json!({"startTime": START, "frequency": "day", "interval": "1", "backfill": "true"}),
            Schedule::once(START),
        );
        assert_eq!(
            ops,
            json!([{"op": "replace", "path": "/scheduleParams/frequency", "value": "once"},
                   {"op": "remove", "path": "/scheduleParams/interval", "value": "1"},
                   {"op": "remove", "path": "/scheduleParams/backfill", "value": "true"}])
        );
        // A recurring flow without backfill (defaulted): backfill is added.
        let ops = patch_after(
            json!({"startTime": START, "frequency": "day", "interval": 1}),
            Schedule::every(Frequency::Day, 3, START).unwrap(),
        );
        assert_eq!(ops[2]["op"], "add");
        assert_eq!(ops[1]["op"], "replace");
        // A flow without scheduleParams: Unsuitable, nothing written.
        let mut item = flow_item("flow-1", "\"e1\"");
        item.as_object_mut().unwrap().remove("scheduleParams");
        t.reply(200, &items(&[item]));
        let before = t.seen().len();
        let e = c
            .update_flow_schedule(&id("flow-1"), &Schedule::once(START))
            .unwrap_err();
        assert!(e.is_unsuitable(), "{e}");
        assert_eq!(t.seen().len(), before + 1);
    }

    #[test]
    fn enable_and_disable_post_an_action_without_a_body() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        t.reply(200, r#"{"id":"flow-1","etag":"\"e2\""}"#)
            .reply(200, r#"{"id":"flow-1","etag":"\"e3\""}"#);
        assert_eq!(c.enable_flow(&id("flow-1")).unwrap().etag, "\"e2\"");
        assert_eq!(c.disable_flow(&id("flow-1")).unwrap().etag, "\"e3\"");
        let seen = t.seen();
        assert_eq!(seen[0].method, "POST");
        assert!(seen[0].url.ends_with("/flows/flow-1/action?op=enable"));
        assert!(seen[0].body.is_none());
        assert!(seen[1].url.ends_with("/flows/flow-1/action?op=disable"));
        // A garbled answer is an error.
        t.reply(200, r#"{"id":"flow-1"}"#).reply(200, "ok");
        assert!(matches!(
            c.enable_flow(&id("flow-1")).unwrap_err(),
            Error::UnexpectedResponse { .. }
        ));
        assert!(matches!(
            c.disable_flow(&id("flow-1")).unwrap_err(),
            Error::UnexpectedResponse { .. }
        ));
        // Delete: 204.
        t.reply(204, "");
        c.delete_flow(&id("flow-1")).unwrap();
        assert_eq!(t.seen().last().unwrap().method, "DELETE");
    }

    #[test]
    fn bad_input_sends_nothing_and_names_the_field() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        let base = new_flow();
        let cases: Vec<(NewFlow, &str)> = vec![
            (
                NewFlow {
                    name: " ".into(),
                    ..base.clone()
                },
                "name",
            ),
            (
                NewFlow {
                    source_connection_id: id("a/b"),
                    ..base.clone()
                },
                "source_connection_id",
            ),
            (
                NewFlow {
                    target_connection_id: id(""),
                    ..base.clone()
                },
                "target_connection_id",
            ),
            (
                NewFlow {
                    delta_column: "".into(),
                    ..base.clone()
                },
                "delta_column",
            ),
            (
                NewFlow {
                    mapping_set_id: id("m m"),
                    ..base.clone()
                },
                "mapping_set_id",
            ),
            (
                NewFlow {
                    mapping_set_version: -1,
                    ..base.clone()
                },
                "mapping_set_version",
            ),
            (
                NewFlow {
                    schedule: Schedule::once(0),
                    ..base.clone()
                },
                "schedule.start_time",
            ),
            (
                NewFlow {
                    schedule: Schedule::once(START * 1000),
                    ..base.clone()
                },
                "schedule.start_time",
            ),
            (base.clone().with_description("\u{7}"), "description"),
        ];
        for (new, field) in cases {
            let e = c.create_flow(&new).unwrap_err();
            assert!(e.is_invalid_input(), "{e}");
            assert_eq!(field_of(&e), field);
        }
        let e = c.update_flow_mapping(&id("f"), &id("m"), -1).unwrap_err();
        assert_eq!(field_of(&e), "mapping_set_version");
        let e = c.update_flow_mapping(&id("f"), &id(""), 0).unwrap_err();
        assert_eq!(field_of(&e), "mapping_set_id");
        let once = Schedule::once(START);
        for e in [
            c.get_flow(&id("")).unwrap_err(),
            c.delete_flow(&id("a b")).unwrap_err(),
            c.enable_flow(&id("../x")).unwrap_err(),
            c.disable_flow(&id("")).unwrap_err(),
            c.update_flow_schedule(&id("?"), &once).unwrap_err(),
            c.update_flow_mapping(&id("f/1"), &id("m"), 0).unwrap_err(),
        ] {
            assert_eq!(field_of(&e), "flow_id");
        }
        let e = c
            .list_flows(FlowFilter::new().with_source_connection_id(id("x y")))
            .unwrap_err();
        assert_eq!(field_of(&e), "source_connection_id");
        let e = c
            .list_flows(FlowFilter::new().with_page_size(0))
            .unwrap_err();
        assert_eq!(field_of(&e), "page_size");
        assert!(t.seen().is_empty());
    }

    #[test]
    fn getters_return_what_was_given() {
        let n = new_flow().with_description("d");
        assert_eq!(n.name(), "orders flow");
        assert_eq!(n.description(), Some("d"));
        assert_eq!(&n.source_connection_id, "src-1");
        assert_eq!(&n.target_connection_id, "tgt-1");
        assert_eq!(n.delta_column(), "updated_at");
        assert_eq!(&n.mapping_set_id, "e7c80e4c0d8f4a98a7d400b4e178b635");
        assert_eq!(n.mapping_set_version, 0);
        assert_eq!(n.schedule.interval(), Some(1));
        assert!(n.validate().is_ok());
        let f = FlowFilter::new()
            .with_source_connection_id(id("s"))
            .with_target_connection_id(id("t"))
            .with_state(FlowState::Disabled)
            .with_page_size(7)
            .with_max_items(9);
        assert_eq!(
            f.source_connection_id.as_ref().map(|i| i.as_str()),
            Some("s")
        );
        assert_eq!(
            f.target_connection_id.as_ref().map(|i| i.as_str()),
            Some("t")
        );
        assert_eq!(f.state.as_ref(), Some(&FlowState::Disabled));
        assert_eq!((f.page_size(), f.max_items()), (7, 9));
    }
}
