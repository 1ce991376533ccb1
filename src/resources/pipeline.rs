//! One idempotent call from a PostgreSQL table to a scheduled dataflow:
//! [`Client::ensure_pipeline`] finds what exists, creates what is missing,
//! converges what drifted; [`Client::plan_pipeline`] says what it would
//! do, one decision per object ([`PipelinePlan`]), without writing;
//! [`Client::ensure_pipeline_partial`] says on failure what was already
//! done ([`PipelineFailure`]).
//!
//! Identity is the triple (base connection and table, dataset, the flow
//! joining their source and target connections), never a name. Mapping
//! sets get a name derived from what they hold ([`mapping_set_name`]: the
//! schema and the mappings), which Data Prep can be asked for: a mapping
//! set an earlier, failed run made for the same declaration is reused, not
//! made again.
//!
//! [`Client::ensure_pipeline`]: crate::Client::ensure_pipeline
//! [`Client::plan_pipeline`]: crate::Client::plan_pipeline
//! [`Client::ensure_pipeline_partial`]: crate::Client::ensure_pipeline_partial
//! [`PipelinePlan`]: crate::PipelinePlan
//! [`PipelineFailure`]: crate::PipelineFailure
//! [`mapping_set_name`]: crate::mapping_set_name

use std::collections::BTreeSet;
use std::fmt;

use super::connections::Connection;
use super::explore::TableSchema;
use super::flows::{Flow, FlowFilter, FlowParts, FlowState, NewFlow, Schedule};
use super::mapping_sets::{Mapping, MappingSet, MappingSourceType, NewMappingSet};
use super::postgres::POSTGRES_CONNECTION_SPEC_ID;
use super::schedule::check_start_time;
use super::source_connections::{NewSourceConnection, SourceConnectionFilter};
use super::target_connections::{NewTargetConnection, TargetConnection, TargetConnectionFilter};
use super::unusable_answer;
use crate::client::input::{check_description, check_id, check_name, require_text};
use crate::client::resource::Filter;
use crate::client::results::created_or_found;
use crate::client::Client;
use crate::error::{named_enum, Error};
use crate::ids::{
    ConnectionId, DatasetId, FlowId, FromService, MappingSetId, SchemaId, SourceConnectionId,
    TargetConnectionId,
};

/// What starts the name of every mapping set [`Client::ensure_pipeline`]
/// makes; the rest is a digest of the schema and the mappings.
pub const MAPPING_SET_NAME_PREFIX: &str = "aep-flow-";

/// The name [`Client::ensure_pipeline`] gives the mapping set it makes for
/// `mappings` into `schema_id`: [`MAPPING_SET_NAME_PREFIX`] and 32 hex
/// digits of a digest (two 64-bit FNV-1a) of the schema and the mappings,
/// in any order. The same declaration always gets the same name, so a
/// later run can ask Data Prep for it (`GET /mappingSets?name=`); a
/// mapping set found by name is still compared with the declaration.
pub fn mapping_set_name(schema_id: &SchemaId, mappings: &[Mapping]) -> String {
    let mut keys: Vec<_> = mappings.iter().map(mapping_key).collect();
    keys.sort();
    keys.dedup();
    // Each part with its length first: no two declarations share a text.
    let mut text = Vec::new();
    let mut part = |p: &[u8]| {
        text.extend_from_slice(&(p.len() as u64).to_le_bytes());
        text.extend_from_slice(p);
    };
    part(schema_id.as_bytes());
    for (expression, source, destination) in keys {
        part(if expression { b"E" } else { b"A" });
        part(source.as_bytes());
        part(destination.as_bytes());
    }
    let fnv = |offset: u64| {
        text.iter().fold(offset, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "{MAPPING_SET_NAME_PREFIX}{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x6c62_272e_07bb_0142)
    )
}

/// What identifies a mapping: (whether it is an expression, its source,
/// its destination).
fn mapping_key(m: &Mapping) -> (bool, &str, &str) {
    (
        m.source_type() == MappingSourceType::Expression,
        m.source(),
        m.destination(),
    )
}

/// Longest name this call makes up for an object (the service takes 256).
const MAX_NAME: usize = 256;

/// What a pipeline should be: a table of a PostgreSQL base connection,
/// flowing into a dataset through a mapping, on a schedule.
///
/// Every field has a named setter, so a declaration reads without
/// comments and can be changed after it is made. The base connection,
/// the table, the dataset, at least one mapping, the delta column and the
/// schedule are required: [`validate`](Self::validate) (which every call
/// taking a spec runs before sending anything) names the first one
/// missing in an [`Error::InvalidInput`].
///
/// ```
/// use aep_flow::{Frequency, Mapping, PipelineSpec, Schedule};
///
/// let spec = PipelineSpec::new()
///     .with_base_connection_id("0123456789abcdef0123456789abcdef".parse()?)
///     .with_table_path("public.orders")
///     .with_dataset_id("5c8c3c555033b814b69f947f".parse()?)
///     .with_mapping(Mapping::new("id", "_tenant.orderId"))
///     .with_mapping(Mapping::new("amount", "_tenant.amount"))
///     .with_delta_column("updated_at")
///     .with_schedule(Schedule::every(Frequency::Hour, 1, 1_764_230_400).unwrap())
///     .with_enable(true);
/// assert!(spec.validate().is_ok());
/// assert!(PipelineSpec::new().validate().is_err());
/// # Ok::<(), aep_flow::IdError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct PipelineSpec {
    /// The PostgreSQL base connection the table is read through. Required.
    pub base_connection_id: Option<ConnectionId>,
    /// The table, schema-qualified as explore lists it (e.g.
    /// `public.orders`). Required (empty until set).
    pub table_path: String,
    /// The dataset the rows go into. Required.
    pub dataset_id: Option<DatasetId>,
    /// The dataset's schema (`$id` URL), if given; else it is read from
    /// Catalog.
    pub schema_id: Option<SchemaId>,
    /// The mappings (source column → XDM path). At least one is required.
    pub mappings: Vec<Mapping>,
    /// The date or time column that says which rows are new. Required
    /// (empty until set).
    pub delta_column: String,
    /// When the flow runs. Required.
    pub schedule: Option<Schedule>,
    /// The flow's name, if given (default: `{table} to {dataset}`).
    pub name: Option<String>,
    /// The flow's description, if given.
    pub description: Option<String>,
    /// Whether a disabled flow is enabled. Defaults to `false`.
    pub enable: bool,
}

impl PipelineSpec {
    /// An empty declaration: set its fields with the `with_*` setters.
    /// The schema is read from Catalog unless
    /// [`with_schema_id`](Self::with_schema_id) names it.
    pub fn new() -> Self {
        PipelineSpec::default()
    }

    /// The PostgreSQL base connection the table is read through. Required.
    pub fn with_base_connection_id(mut self, base_connection_id: ConnectionId) -> Self {
        self.base_connection_id = Some(base_connection_id);
        self
    }

    /// The table, schema-qualified as explore lists it (e.g.
    /// `public.orders`). Required.
    pub fn with_table_path(mut self, table_path: impl Into<String>) -> Self {
        self.table_path = table_path.into();
        self
    }

    /// The dataset the rows go into. Required.
    pub fn with_dataset_id(mut self, dataset_id: DatasetId) -> Self {
        self.dataset_id = Some(dataset_id);
        self
    }

    /// All the mappings (source column → XDM path), replacing any set
    /// before. At least one is required.
    pub fn with_mappings(mut self, mappings: impl IntoIterator<Item = Mapping>) -> Self {
        self.mappings = mappings.into_iter().collect();
        self
    }

    /// One more mapping, after those set before.
    pub fn with_mapping(mut self, mapping: Mapping) -> Self {
        self.mappings.push(mapping);
        self
    }

    /// The date or time column that says which rows are new (incremental
    /// loads). Required; an existing flow's cannot be changed in place.
    pub fn with_delta_column(mut self, delta_column: impl Into<String>) -> Self {
        self.delta_column = delta_column.into();
        self
    }

    /// When the flow runs. Required.
    pub fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// The dataset's schema (`$id` URL), instead of reading it from
    /// Catalog. It must be the dataset's.
    pub fn with_schema_id(mut self, schema_id: SchemaId) -> Self {
        self.schema_id = Some(schema_id);
        self
    }

    /// The flow's name (default: `{table} to {dataset}`); the source and
    /// target connections are named after it. Used at creation only.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The flow's description. Used at creation only.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Enables the flow if it is disabled. Without it a disabled flow stays
    /// disabled (someone disabled it on purpose). Defaults to `false`.
    pub fn with_enable(mut self, enable: bool) -> Self {
        self.enable = enable;
        self
    }

    /// Checks every field; nothing is sent when one is wrong. A required
    /// field that was never set is an [`Error::InvalidInput`] naming it.
    pub fn validate(&self) -> Result<(), Error> {
        let base = self
            .base_connection_id
            .as_ref()
            .map_or("", |id| id.as_str());
        let dataset = self.dataset_id.as_ref().map_or("", |id| id.as_str());
        for (field, value, setter) in [
            ("base_connection_id", base, "with_base_connection_id"),
            ("table_path", &self.table_path, "with_table_path"),
            ("dataset_id", dataset, "with_dataset_id"),
            ("delta_column", &self.delta_column, "with_delta_column"),
        ] {
            if value.is_empty() {
                return Err(missing(field, setter));
            }
        }
        if self.mappings.is_empty() {
            return Err(missing("mappings", "with_mapping or with_mappings"));
        }
        let schedule = self.declared_schedule()?;
        check_id("base_connection_id", base)?;
        require_text("table_path", &self.table_path)?;
        check_id("dataset_id", dataset)?;
        if let Some(schema) = &self.schema_id {
            require_text("schema_id", schema.as_str())?;
        }
        require_text("delta_column", &self.delta_column)?;
        if let Some(name) = &self.name {
            check_name("name", name)?;
        }
        if let Some(d) = &self.description {
            check_description("description", d)?;
        }
        // The mapping rules (at least one, XDM paths, no duplicate
        // destination) are the mapping set's.
        self.mapping_set(&SchemaId::from_service("schema".into()))
            .validate()?;
        // The rest of a new flow's rules (the start time) are the schedule's.
        check_start_time("schedule.start_time", schedule.start_time())
    }

    /// The schedule of a validated spec.
    fn declared_schedule(&self) -> Result<Schedule, Error> {
        required(&self.schedule, "schedule", "with_schedule").copied()
    }

    /// The base connection of a validated spec.
    fn base(&self) -> Result<&ConnectionId, Error> {
        let setter = "with_base_connection_id";
        required(&self.base_connection_id, "base_connection_id", setter)
    }

    /// The dataset of a validated spec.
    fn dataset(&self) -> Result<&DatasetId, Error> {
        required(&self.dataset_id, "dataset_id", "with_dataset_id")
    }

    fn mapping_set(&self, schema_id: &SchemaId) -> NewMappingSet {
        NewMappingSet::new(schema_id.clone(), self.mappings.clone())
    }

    fn flow_name(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => clip(format!(
                "{} to {}",
                self.table_path,
                self.dataset_id.as_ref().map_or("", |d| d.as_str())
            )),
        }
    }
}

/// The error for a required field of a [`PipelineSpec`] never set.
fn missing(field: &str, setter: &str) -> Error {
    Error::invalid_input(field, format!("is required: set it with {setter}"))
}

/// A required field of a validated [`PipelineSpec`].
fn required<'a, T>(value: &'a Option<T>, field: &str, setter: &str) -> Result<&'a T, Error> {
    value.as_ref().ok_or_else(|| missing(field, setter))
}

/// A name cut to what the service takes, on a character boundary.
fn clip(mut name: String) -> String {
    let end = (0..=MAX_NAME.min(name.len()))
        .rev()
        .find(|&end| name.is_char_boundary(end))
        .unwrap_or(0);
    name.truncate(end);
    name
}

/// One write [`Client::ensure_pipeline`] made (or, from a
/// [`PipelinePlan`], would make). Named (`as_str`, `Display`, `FromStr`,
/// exactly) as the CLI prints it: `created flow`, `updated
/// flow.schedule`...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PipelineChange {
    /// A source connection for the table was created.
    SourceConnectionCreated,
    /// A target connection for the dataset was created.
    TargetConnectionCreated,
    /// A mapping set was created (for a new flow, or a changed mapping).
    MappingSetCreated,
    /// The flow was created.
    FlowCreated,
    /// The flow's `Mapping` entry now names the new mapping set.
    FlowMappingUpdated,
    /// The flow's frequency, interval or backfill was changed.
    FlowScheduleUpdated,
    /// The disabled flow was enabled.
    FlowEnabled,
}

named_enum! {
    /// How the CLI prints it: `created sourceConnection`, `updated
    /// flow.schedule`, `enabled flow`...
    PipelineChange, str::eq, "must be a change as printed, e.g. `created flow`";
    SourceConnectionCreated => "created sourceConnection";
    TargetConnectionCreated => "created targetConnection";
    MappingSetCreated => "created mappingSet";
    FlowCreated => "created flow";
    FlowMappingUpdated => "updated flow.mapping";
    FlowScheduleUpdated => "updated flow.schedule";
    FlowEnabled => "enabled flow";
}

/// What a [`PipelinePlan`] does with the source or the target connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionPlan<I> {
    /// It exists: kept as it is.
    Keep {
        /// Its id.
        id: I,
    },
    /// It is missing: created, with this name.
    Create {
        /// The name it gets (after the flow's).
        name: String,
    },
}

impl<I> ConnectionPlan<I> {
    /// The id of the connection kept; `None` for one to create.
    pub fn id(&self) -> Option<&I> {
        match self {
            ConnectionPlan::Keep { id } => Some(id),
            ConnectionPlan::Create { .. } => None,
        }
    }
}

/// Where the mapping set a new flow or a changed mapping uses comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MappingSetPlan {
    /// Created from the declaration, with this name ([`mapping_set_name`]).
    Create {
        /// The name it gets.
        name: String,
    },
    /// An earlier run made it for this declaration and then failed to use
    /// it: used, not made again.
    Reuse {
        /// Its id.
        id: MappingSetId,
        /// The version used.
        version: i64,
    },
}

impl MappingSetPlan {
    /// The id of the mapping set reused; `None` for one to create.
    pub fn id(&self) -> Option<&MappingSetId> {
        match self {
            MappingSetPlan::Reuse { id, .. } => Some(id),
            MappingSetPlan::Create { .. } => None,
        }
    }
}

/// A flow's schedule as it is and as declared. Only the frequency, the
/// interval and the backfill are compared (the start time is set at
/// creation only).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScheduleChange {
    /// The flow's schedule; `None` when the service states none this crate
    /// can read.
    pub old: Option<Schedule>,
    /// The declared one.
    pub new: Schedule,
}

/// A flow's mapping as it is and as declared, and the mapping set the
/// flow's `Mapping` entry is pointed at (patched with `If-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MappingChange {
    /// The mapping set the flow runs now.
    pub old_mapping_set_id: MappingSetId,
    /// The version of it the flow runs.
    pub old_version: i64,
    /// Its mappings; `None` when it could not be read (gone, or an id the
    /// service refuses).
    pub old: Option<Vec<Mapping>>,
    /// The declared mappings.
    pub new: Vec<Mapping>,
    /// The mapping set the flow is pointed at.
    pub mapping_set: MappingSetPlan,
}

/// What a [`FlowUpdate`] does with the flow's mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MappingPlan {
    /// As declared: the flow keeps running this mapping set.
    InSync {
        /// The mapping set the flow runs.
        mapping_set_id: MappingSetId,
    },
    /// Different: see the change.
    Change(MappingChange),
}

/// An existing flow, changed in place where it differs from the
/// declaration; in sync when nothing is (see
/// [`is_in_sync`](Self::is_in_sync)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlowUpdate {
    /// The flow's id.
    pub id: FlowId,
    /// A different frequency, interval or backfill.
    pub schedule: Option<ScheduleChange>,
    /// The mapping: as declared, or changed.
    pub mapping: MappingPlan,
    /// A disabled flow enabled (because [`PipelineSpec::with_enable`]
    /// asks): its state now, which becomes [`FlowState::Enabled`].
    pub enable: Option<FlowState>,
    /// The flow's name, as the service states it. Not compared here (the
    /// spec's name is used at creation only); a caller that manages names
    /// compares it ([`Client::update_flow_name`] renames).
    ///
    /// [`Client::update_flow_name`]: crate::Client::update_flow_name
    pub name: String,
    /// The flow's description, as the service states it (`None` when it
    /// states none).
    pub description: Option<String>,
}

impl FlowUpdate {
    /// Whether the flow is as declared (nothing to change).
    pub fn is_in_sync(&self) -> bool {
        self.schedule.is_none()
            && matches!(self.mapping, MappingPlan::InSync { .. })
            && self.enable.is_none()
    }
}

/// An existing flow that differs in what the service cannot change in
/// place (its delta column, or a flow without a `Mapping` transformation):
/// only deleting it (its connections stay) and ensuring again converges
/// it. [`Client::ensure_pipeline`] refuses it ([`error`](Self::error)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlowReplace {
    /// The flow's id.
    pub id: FlowId,
    /// The field of [`PipelineSpec`] that differs (`delta_column`,
    /// `mappings`).
    pub field: String,
    /// What differs and what to do, in words.
    pub reason: String,
}

impl FlowReplace {
    /// The error [`Client::ensure_pipeline`] returns for it: an
    /// [`Error::Unsuitable`] naming the field.
    pub fn error(&self) -> Error {
        Error::Unsuitable {
            field: self.field.clone(),
            rule: self.reason.clone(),
        }
    }
}

/// What a [`PipelinePlan`] does with the flow. A new flow always comes
/// with its mapping set (created or reused).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowPlan {
    /// No flow joins the table and the dataset: one is created.
    Create {
        /// The name it gets.
        name: String,
        /// The mapping set it runs.
        mapping_set: MappingSetPlan,
    },
    /// The flow exists: kept, and changed in place where it differs.
    Update(FlowUpdate),
    /// The flow exists but cannot be changed in place to what is declared.
    Replace(FlowReplace),
}

/// What [`Client::ensure_pipeline`] would do for a [`PipelineSpec`], from
/// live state: one decision per object. Made by [`Client::plan_pipeline`],
/// which writes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PipelinePlan {
    /// The source connection (the table).
    pub source_connection: ConnectionPlan<SourceConnectionId>,
    /// The target connection (the dataset).
    pub target_connection: ConnectionPlan<TargetConnectionId>,
    /// The flow, and with it the mapping set.
    pub flow: FlowPlan,
    /// Other flows joining the same table and dataset (made by two
    /// processes at once, or by hand), oldest first. The oldest flow (by
    /// `createdAt`, then id) is the one planned for; these are left alone.
    pub duplicates: Vec<FlowId>,
    /// What the caller should know but that is not an error: twin flows, a
    /// mapping set made from this declaration that does not read back as
    /// written, a mapping set an earlier run made that is reused.
    pub warnings: Vec<String>,
    /// What the checks read for the writes.
    prepared: Prepared,
}

impl PipelinePlan {
    /// Whether everything is as declared: applying it writes nothing.
    pub fn is_in_sync(&self) -> bool {
        self.changes().is_empty() && self.replace_needed().is_none()
    }

    /// The flow that must be replaced, if one must
    /// ([`Client::ensure_pipeline`] refuses such a plan).
    pub fn replace_needed(&self) -> Option<&FlowReplace> {
        match &self.flow {
            FlowPlan::Replace(r) => Some(r),
            _ => None,
        }
    }

    /// The writes applying it makes, in order (empty when in sync, or when
    /// a replace is needed).
    pub fn changes(&self) -> Vec<PipelineChange> {
        use PipelineChange::*;
        let update = match &self.flow {
            FlowPlan::Update(u) => Some(u),
            _ => None,
        };
        let new_set = matches!(self.new_mapping_set(), Some(MappingSetPlan::Create { .. }));
        let new_flow = matches!(self.flow, FlowPlan::Create { .. });
        let remaps = update.is_some_and(|u| matches!(u.mapping, MappingPlan::Change(_)));
        let new_source = self.source_connection.id().is_none();
        let new_target = self.target_connection.id().is_none();
        let reschedules = update.is_some_and(|u| u.schedule.is_some());
        [
            (new_source, SourceConnectionCreated),
            (new_target, TargetConnectionCreated),
            (reschedules, FlowScheduleUpdated),
            (new_set, MappingSetCreated),
            (new_flow, FlowCreated),
            (remaps, FlowMappingUpdated),
            (update.is_some_and(|u| u.enable.is_some()), FlowEnabled),
        ]
        .into_iter()
        .filter_map(|(made, change)| made.then_some(change))
        .collect()
    }

    /// The existing flow's id; `None` when one is to be created.
    pub fn flow_id(&self) -> Option<&FlowId> {
        match &self.flow {
            FlowPlan::Create { .. } => None,
            FlowPlan::Update(u) => Some(&u.id),
            FlowPlan::Replace(r) => Some(&r.id),
        }
    }

    /// The id of the mapping set the flow runs after the plan is applied,
    /// when it exists already (the flow's own, or one reused).
    pub fn mapping_set_id(&self) -> Option<&MappingSetId> {
        match &self.flow {
            FlowPlan::Update(FlowUpdate {
                mapping: MappingPlan::InSync { mapping_set_id },
                ..
            }) => Some(mapping_set_id),
            _ => self.new_mapping_set()?.id(),
        }
    }

    /// What the plan found (no changes made yet).
    fn progress(&self) -> PipelineProgress {
        PipelineProgress {
            flow_id: self.flow_id().cloned(),
            source_connection_id: self.source_connection.id().cloned(),
            target_connection_id: self.target_connection.id().cloned(),
            // The set the flow will run, else the one it runs now.
            mapping_set_id: self
                .mapping_set_id()
                .or(self.mapping_change().map(|c| &c.old_mapping_set_id))
                .cloned(),
            changes: Vec::new(),
            duplicates: self.duplicates.clone(),
            warnings: self.warnings.clone(),
        }
    }

    /// The mapping set a new flow or a changed mapping uses.
    fn new_mapping_set(&self) -> Option<&MappingSetPlan> {
        match &self.flow {
            FlowPlan::Create { mapping_set, .. } => Some(mapping_set),
            _ => self.mapping_change().map(|c| &c.mapping_set),
        }
    }

    /// The existing flow's mapping change, when it has one.
    fn mapping_change(&self) -> Option<&MappingChange> {
        match &self.flow {
            FlowPlan::Update(FlowUpdate {
                mapping: MappingPlan::Change(change),
                ..
            }) => Some(change),
            _ => None,
        }
    }
}

/// What [`Client::ensure_pipeline`] found and did: every object's id, the
/// changes in the order made, and what it saw but left alone (twin flows,
/// values that do not read back).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PipelineOutcome {
    /// The flow.
    pub flow_id: FlowId,
    /// The source connection (the table).
    pub source_connection_id: SourceConnectionId,
    /// The target connection (the dataset).
    pub target_connection_id: TargetConnectionId,
    /// The mapping set the flow uses.
    pub mapping_set_id: MappingSetId,
    /// What this call created or updated; empty when the pipeline was as
    /// declared.
    pub changes: Vec<PipelineChange>,
    /// Other flows joining the same table and dataset (made by two
    /// processes at once, or by hand), oldest first. The oldest flow (by
    /// `createdAt`, then id) is the one converged and reported as
    /// [`flow_id`](Self::flow_id); these are left alone.
    pub duplicates: Vec<FlowId>,
    /// What the caller should know but that is not an error: twin flows, a
    /// value that was written but does not read back as written, a mapping
    /// set an earlier run made that was reused.
    pub warnings: Vec<String>,
}

impl PipelineOutcome {
    /// Whether nothing was created or updated.
    pub fn is_unchanged(&self) -> bool {
        self.changes.is_empty()
    }
}

/// How far an ensure (or a plan) that failed got: the ids known (found,
/// or made before the failure), the writes made, and the twin flows and
/// warnings the lookups found (reported even when a check failed after
/// them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PipelineProgress {
    /// The flow, when found or made.
    pub flow_id: Option<FlowId>,
    /// The source connection, when found or made.
    pub source_connection_id: Option<SourceConnectionId>,
    /// The target connection, when found or made.
    pub target_connection_id: Option<TargetConnectionId>,
    /// The mapping set the flow uses (or will), when known.
    pub mapping_set_id: Option<MappingSetId>,
    /// The writes made before the failure, in order.
    pub changes: Vec<PipelineChange>,
    /// As [`PipelineOutcome::duplicates`].
    pub duplicates: Vec<FlowId>,
    /// As [`PipelineOutcome::warnings`].
    pub warnings: Vec<String>,
}

/// An ensure (or a plan) that failed: the error, and what it had found
/// and already done (the writes before the one that failed; empty when it
/// failed before the first write). Made by
/// [`Client::ensure_pipeline_partial`] and
/// [`Client::plan_pipeline_partial`].
#[derive(Debug)]
#[non_exhaustive]
pub struct PipelineFailure {
    /// Why it stopped.
    pub error: Error,
    /// What it found and changed before it stopped.
    pub done: PipelineProgress,
}

impl fmt::Display for PipelineFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)?;
        if !self.done.changes.is_empty() {
            let done: Vec<&str> = self.done.changes.iter().map(|c| c.as_str()).collect();
            write!(f, " (already done: {})", done.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for PipelineFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// What the checks read that the writes use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Prepared {
    columns: Option<TableSchema>,
    schema_id: Option<SchemaId>,
}

/// How a mapping set compares with the declaration.
#[derive(Debug, PartialEq, Eq)]
enum MappingVerdict {
    /// As declared (what the service added, or left unstated, aside).
    Matches,
    /// Made from this declaration (its name says so) but it does not read
    /// back as written: kept, with this warning, instead of replaced on
    /// every run.
    Ours(String),
    /// Something else.
    Differs,
}

/// The version Data Prep gives a mapping set it creates.
const FIRST_MAPPING_SET_VERSION: i64 = 0;

/// Compares only what the declaration controls: a schema the mapping set
/// does not state (a legacy one) is not a different schema, and mappings
/// the service added to a mapping set made from this declaration (an `_id`,
/// say) are not drift, as long as it is the version ensure made: a later
/// version is someone's edit.
fn compare_mapping_set(
    current: &MappingSet,
    declared: &[Mapping],
    schema: Option<&SchemaId>,
) -> MappingVerdict {
    if let (Some(have), Some(want)) = (current.schema_id.as_ref(), schema) {
        if have != want {
            return MappingVerdict::Differs;
        }
    }
    let have: BTreeSet<_> = current.mappings.iter().map(mapping_key).collect();
    let want: BTreeSet<_> = declared.iter().map(mapping_key).collect();
    // Made by ensure for this declaration: its name says so, and it is
    // still the version ensure made (ensure creates mapping sets, never
    // updates them; an edit, in the UI or by `PUT`, is a later version,
    // and what it added or removed is drift).
    let ours = current.version == FIRST_MAPPING_SET_VERSION
        && schema.is_some_and(|s| current.name.as_deref() == Some(&mapping_set_name(s, declared)));
    if have == want && current.mappings.len() == declared.len() {
        return MappingVerdict::Matches;
    }
    if !ours {
        return MappingVerdict::Differs;
    }
    let missing: Vec<String> = want
        .difference(&have)
        .map(|(_, source, destination)| format!("{source} -> {destination}"))
        .collect();
    if missing.is_empty() {
        // Only what the service added.
        return MappingVerdict::Matches;
    }
    MappingVerdict::Ours(format!(
        "mapping set {} was made from this declaration but reads back without {}; it is kept \
         (not replaced on every run): check it in Data Prep",
        current.id,
        missing.join(", ")
    ))
}

impl Client {
    /// Converges a pipeline to `spec`: finds the source connection for the
    /// (base connection, table), the target connection for the dataset and
    /// the flow joining them; creates only what is missing; on an existing
    /// flow replaces a different mapping (a mapping set, then the flow's
    /// `Mapping` entry patched with `If-Match`) and a different frequency,
    /// interval or backfill (the start time is set at creation only), and
    /// enables a disabled flow only when
    /// [`with_enable`](PipelineSpec::with_enable) asks.
    ///
    /// Only what the declaration controls is compared, and only what the
    /// service states: a `scheduleParams` without `backfill`, a mapping set
    /// without a schema reference, or mappings the service added to a
    /// mapping set made from this declaration (the version ensure made,
    /// not a later edit) are not drift. A value that
    /// was written but does not read back is a warning in
    /// [`PipelineOutcome::warnings`], not a write on every run.
    ///
    /// Before the first write it checks what the writes need: the base
    /// connection exists and is PostgreSQL, the table exists and has the
    /// delta column (a date or time column, when explore types it) and
    /// every mapped column, the
    /// dataset exists (and has the schema given: checked whenever one is
    /// given), the flow spec accepts PostgreSQL, the mapping validates. A
    /// failed check writes nothing and says what to fix.
    ///
    /// The mapping set is named after the declaration
    /// ([`mapping_set_name`]) and looked up by that name before one is
    /// made, so that a run that failed after making it (a refused flow,
    /// a refused or lost mapping update) leaves nothing a later run does
    /// not reuse.
    ///
    /// When several flows join the table and the dataset (two processes
    /// made twins), the oldest is converged and the others are reported in
    /// [`PipelineOutcome::duplicates`] and a warning, never touched. A
    /// listed object that lacks the field the lookup checks (`params`,
    /// `baseConnectionId`, `sourceConnectionIds`) is an error naming it,
    /// never read as "nothing exists".
    ///
    /// A re-run that finds everything as declared sends four requests
    /// (three lookups and the flow's mapping set; five with a schema
    /// given) and writes nothing. A create whose answer was lost is looked
    /// up again before anything else is created, and a run killed between
    /// two steps is finished by the next one; ensures of the same pipeline
    /// through one client run one at a time.
    ///
    /// It is [`plan_pipeline`](Self::plan_pipeline) then the writes of that
    /// plan, under one lock. A plan that needs the flow replaced (a
    /// different delta column, a flow without a `Mapping` transformation)
    /// is refused with the [`Error::Unsuitable`] of
    /// [`FlowReplace::error`], before anything is written.
    pub fn ensure_pipeline(&self, spec: &PipelineSpec) -> Result<PipelineOutcome, Error> {
        self.ensure_pipeline_partial(spec).map_err(|f| f.error)
    }

    /// [`ensure_pipeline`](Self::ensure_pipeline), saying on failure what
    /// was already found and done ([`PipelineFailure::done`]), so that a
    /// run that fails halfway can report the objects it made, and a run
    /// refused by a check the twin flows the lookups found.
    pub fn ensure_pipeline_partial(
        &self,
        spec: &PipelineSpec,
    ) -> Result<PipelineOutcome, Box<PipelineFailure>> {
        self.planned(spec, |plan, progress| {
            self.apply_pipeline(spec, plan, progress)
        })
    }

    /// What [`ensure_pipeline`](Self::ensure_pipeline) would do, read from
    /// live state, writing nothing: the same lookups (four requests for a
    /// pipeline as declared, five with a schema given) and, when something
    /// would be created or updated, the same checks (the base connection,
    /// the table's columns, the dataset's schema, the flow spec, the
    /// mapping's validation, a mapping set an earlier run made), so that a
    /// plan that passes is one the writes can carry out.
    ///
    /// A flow that differs where the service cannot change it in place is
    /// planned as [`FlowPlan::Replace`], not an error.
    pub fn plan_pipeline(&self, spec: &PipelineSpec) -> Result<PipelinePlan, Error> {
        self.plan_pipeline_partial(spec).map_err(|f| f.error)
    }

    /// [`plan_pipeline`](Self::plan_pipeline), saying on failure what the
    /// lookups found before the check that failed
    /// ([`PipelineFailure::done`]: the ids, the twin flows and their
    /// warning; no changes).
    pub fn plan_pipeline_partial(
        &self,
        spec: &PipelineSpec,
    ) -> Result<PipelinePlan, Box<PipelineFailure>> {
        self.planned(spec, |plan, _| Ok(plan))
    }

    /// Validates `spec`, plans it under its locks and hands the plan to
    /// `then`; on failure, the error with what was found and done.
    fn planned<T>(
        &self,
        spec: &PipelineSpec,
        then: impl FnOnce(PipelinePlan, &mut PipelineProgress) -> Result<T, Error>,
    ) -> Result<T, Box<PipelineFailure>> {
        let mut progress = PipelineProgress::default();
        let result = spec.validate().and_then(|()| {
            let (base, dataset) = (spec.base()?, spec.dataset()?);
            let table = &spec.table_path;
            // The connections' keys first, then the pipeline's: ensures of
            // two pipelines sharing a table (or a dataset) do not both
            // create it.
            let _source = self.lock(format!("sourceConnection\u{0}{base}\u{0}{table}"));
            let _target = self.lock(format!("targetConnection\u{0}{dataset}"));
            let _pipeline = self.lock(format!("pipeline\u{0}{base}\u{0}{table}\u{0}{dataset}"));
            let plan = self.plan_locked(spec, &mut progress)?;
            then(plan, &mut progress)
        });
        result.map_err(|error| {
            Box::new(PipelineFailure {
                // The checks quote what the lookups read (a schema, a
                // connection spec, a column).
                error: self.scrub_error(error),
                done: progress,
            })
        })
    }

    /// Finds, compares and (when something is to be written) checks. What
    /// the lookups found is in `progress` before the checks run.
    fn plan_locked(
        &self,
        spec: &PipelineSpec,
        progress: &mut PipelineProgress,
    ) -> Result<PipelinePlan, Error> {
        // A schema given is checked against the dataset every time, not
        // only when something is created: otherwise the flow would be
        // re-pointed at it, and a run without it would flip it back.
        let catalog_schema = match &spec.schema_id {
            Some(_) => Some(self.dataset_schema(spec)?),
            None => None,
        };
        let (mut plan, target_schema) = self.find_pipeline(spec)?;
        *progress = plan.progress();
        // A flow to replace writes nothing, so it is not checked.
        if plan.changes().is_empty() {
            return Ok(plan);
        }
        let mapping_set;
        (plan.prepared, mapping_set) =
            self.check_pipeline(spec, &plan, target_schema, catalog_schema)?;
        match (&mut plan.flow, mapping_set) {
            (FlowPlan::Create { mapping_set: m, .. }, Some(mapping_set)) => *m = mapping_set,
            (FlowPlan::Update(update), Some(mapping_set)) => {
                if let MappingPlan::Change(change) = &mut update.mapping {
                    // A mapping set an earlier run made for this declaration
                    // that the flow already runs (a comparison that could
                    // not tell, for want of a schema) changes nothing.
                    let runs_reused = matches!(&mapping_set, MappingSetPlan::Reuse { id, version }
                        if *id == change.old_mapping_set_id && *version == change.old_version);
                    if runs_reused {
                        let mapping_set_id = change.old_mapping_set_id.clone();
                        update.mapping = MappingPlan::InSync { mapping_set_id };
                    } else {
                        change.mapping_set = mapping_set;
                    }
                }
            }
            _ => {}
        }
        if let Some(MappingSetPlan::Reuse { id, version }) = plan.new_mapping_set() {
            let reused = format!(
                "reusing mapping set {id} (version {version}), made for this declaration by an \
                 earlier run"
            );
            plan.warnings.push(reused);
        }
        *progress = plan.progress();
        Ok(plan)
    }

    /// The dataset's schema from Catalog, which must be the one given.
    fn dataset_schema(&self, spec: &PipelineSpec) -> Result<SchemaId, Error> {
        let dataset = self.get_dataset(spec.dataset()?)?;
        let Some(dataset_schema) = dataset.schema_id.filter(|s| !s.as_str().is_empty()) else {
            return Err(Error::Unsuitable {
                field: "dataset_id".into(),
                rule: format!(
                    "dataset {} has no schema (schemaRef.id) in Catalog; use a dataset made \
                     from an XDM schema",
                    spec.dataset()?
                ),
            });
        };
        if let Some(given) = &spec.schema_id {
            if *given != dataset_schema {
                return Err(Error::Unsuitable {
                    field: "schema_id".into(),
                    rule: format!(
                        "dataset {} uses schema {dataset_schema}, not {given}; drop the schema \
                         or give the dataset's",
                        spec.dataset()?
                    ),
                });
            }
        }
        Ok(dataset_schema)
    }

    /// Looks up what exists (four requests when the sandbox holds one of
    /// each, more only when it holds duplicates made elsewhere) and plans
    /// from it, except the mapping set a new flow or a changed mapping
    /// uses: the checks decide it. With the plan, the schema the target
    /// connection found states.
    fn find_pipeline(
        &self,
        spec: &PipelineSpec,
    ) -> Result<(PipelinePlan, Option<SchemaId>), Error> {
        let source_filter = SourceConnectionFilter::new()
            .with_base_connection_id(spec.base()?.clone())
            .with_table_name(&spec.table_path);
        let sources = self.list_source_connections(source_filter.clone())?;
        sources
            .iter()
            .try_for_each(|s| source_filter.check_listed(s))?;
        let target_filter = TargetConnectionFilter::new().with_dataset_id(spec.dataset()?.clone());
        let targets = self.list_target_connections(target_filter.clone())?;
        targets
            .iter()
            .try_for_each(|t| target_filter.check_listed(t))?;
        // A flow joins both: without one of them there is none. With
        // duplicates (made by hand, or by another tool), every flow joining
        // any of them is the pipeline's, so that no other flow is made.
        let mut flows: Vec<(usize, usize, Flow)> = Vec::new();
        if !sources.is_empty() {
            for (ti, t) in targets.iter().enumerate() {
                let mut filter = FlowFilter::new().with_target_connection_id(t.id.clone());
                if let [only] = sources.as_slice() {
                    filter = filter.with_source_connection_id(only.id.clone());
                }
                for flow in self.flows(filter) {
                    let flow = flow?;
                    check_listed_flow(&flow)?;
                    if flows.iter().any(|(_, _, f)| f.id == flow.id) {
                        continue;
                    }
                    if let Some(si) = sources
                        .iter()
                        .position(|s| flow.source_connection_ids.contains(&s.id))
                    {
                        flows.push((si, ti, flow));
                    }
                }
            }
        }
        // The oldest flow is the pipeline (by creation time, then id: the
        // same answer on every run); the others are reported, not touched.
        flows.sort_by_key(|(_, _, f)| (f.created_at.unwrap_or(i64::MAX), f.id.clone()));
        let mut warnings = Vec::new();
        let duplicates: Vec<FlowId> = flows.iter().skip(1).map(|(_, _, f)| f.id.clone()).collect();
        let (source, target, flow) = match flows.into_iter().next() {
            Some((si, ti, f)) => (sources.get(si).cloned(), targets.get(ti).cloned(), Some(f)),
            // The oldest of each (the service lists in creation order).
            None => (sources.into_iter().next(), targets.into_iter().next(), None),
        };
        if let Some(flow) = flow.as_ref().filter(|_| !duplicates.is_empty()) {
            warnings.push(format!(
                "{} flows join table {} and dataset {}: converging the oldest, {}, and leaving \
                 the others alone ({}); delete the ones not wanted",
                duplicates.len() + 1,
                spec.table_path,
                spec.dataset()?,
                flow.id,
                duplicates
                    .iter()
                    .map(FlowId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // A listing may leave out what the comparison reads (a service
        // that shortens listed items): a flow listed without
        // transformations or a readable schedule is read again by id (one
        // request, only then) before it is called one to replace or to
        // reschedule.
        let flow = match flow {
            Some(f) if f.transformations.is_empty() || f.schedule.is_none() => {
                Some(self.get_flow(&f.id)?)
            }
            other => other,
        };
        let flow = flow
            .map(|flow| self.compare_flow(spec, flow, target.as_ref(), &mut warnings))
            .transpose()?;
        let flow_name = spec.flow_name();
        fn connection<I>(existing: Option<I>, flow_name: &str, what: &str) -> ConnectionPlan<I> {
            match existing {
                Some(id) => ConnectionPlan::Keep { id },
                None => ConnectionPlan::Create {
                    name: clip(format!("{flow_name}: {what}")),
                },
            }
        }
        let target_schema = target.as_ref().and_then(|t| t.schema_id.clone());
        let plan = PipelinePlan {
            source_connection: connection(source.map(|s| s.id), &flow_name, "source"),
            target_connection: connection(target.map(|t| t.id), &flow_name, "dataset"),
            flow: flow.unwrap_or(FlowPlan::Create {
                name: flow_name,
                mapping_set: undecided_mapping_set(),
            }),
            duplicates,
            warnings,
            prepared: Prepared::default(),
        };
        Ok((plan, target_schema))
    }

    /// How the flow found compares with `spec`: a flow that must be
    /// replaced is not compared further.
    fn compare_flow(
        &self,
        spec: &PipelineSpec,
        flow: Flow,
        target: Option<&TargetConnection>,
        warnings: &mut Vec<String>,
    ) -> Result<FlowPlan, Error> {
        let replace = |field: &str, reason| {
            FlowPlan::Replace(FlowReplace {
                id: flow.id.clone(),
                field: field.into(),
                reason,
            })
        };
        let (_, mapping_set_id, mapping_version) =
            match (delta_column_problem(&flow, spec), flow.mapping()) {
                (Some(reason), _) => return Ok(replace("delta_column", reason)),
                (None, None) => {
                    let reason = format!(
                        "flow {} has no Mapping transformation to update; delete the flow and \
                         ensure again",
                        flow.id
                    );
                    return Ok(replace("mappings", reason));
                }
                (None, Some(mapping)) => mapping,
            };
        let mut old = None;
        // The version the flow runs, which need not be the latest.
        let mapping_matches = match self.get_mapping_set_version(&mapping_set_id, mapping_version) {
            Ok(current) => {
                old = Some(current.mappings.clone());
                // The schema given, else the target connection's, else
                // the one the mapping set states (its name is then
                // checked against that schema).
                let schema = spec
                    .schema_id
                    .as_ref()
                    .or(target.and_then(|t| t.schema_id.as_ref()))
                    .or(current.schema_id.as_ref());
                match compare_mapping_set(&current, &spec.mappings, schema) {
                    MappingVerdict::Matches => true,
                    MappingVerdict::Ours(warning) => {
                        warnings.push(warning);
                        true
                    }
                    MappingVerdict::Differs => false,
                }
            }
            // The flow names a mapping set that is gone, or an id or
            // version no mapping set can have (the service's answer,
            // not the caller's input): make another.
            Err(Error::NotFound { .. } | Error::InvalidInput { .. }) => false,
            Err(e) => return Err(e),
        };
        let mapping = if mapping_matches {
            MappingPlan::InSync { mapping_set_id }
        } else {
            MappingPlan::Change(MappingChange {
                old_mapping_set_id: mapping_set_id,
                old_version: mapping_version,
                old,
                new: spec.mappings.clone(),
                mapping_set: undecided_mapping_set(),
            })
        };
        let declared = spec.declared_schedule()?;
        Ok(FlowPlan::Update(FlowUpdate {
            schedule: (!same_schedule(&flow, &declared)).then_some(ScheduleChange {
                old: flow.schedule,
                new: declared,
            }),
            mapping,
            enable: (spec.enable && flow.state != FlowState::Enabled).then_some(flow.state),
            name: flow.name,
            description: flow.description,
            id: flow.id,
        }))
    }

    /// The reads that make sure the writes of `plan` can succeed: those of
    /// the connections it creates, and of a new mapping set (which a new
    /// flow comes with) when one is needed, and then that mapping set: one
    /// an earlier run made, reused, or one to create.
    fn check_pipeline(
        &self,
        spec: &PipelineSpec,
        plan: &PipelinePlan,
        target_schema: Option<SchemaId>,
        catalog_schema: Option<SchemaId>,
    ) -> Result<(Prepared, Option<MappingSetPlan>), Error> {
        let mut checked = Prepared::default();
        let new_source = plan.source_connection.id().is_none();
        let new_mapping_set = plan.new_mapping_set().is_some();

        if new_source || new_mapping_set {
            if new_source {
                let base = self.get_connection(spec.base()?)?;
                check_postgres(&base)?;
            }
            let columns = match self.explore_columns(spec.base()?, &spec.table_path) {
                Ok(columns) => columns,
                // The base connection is known to exist (read above, or a
                // source connection uses it): a 404 here is the table's.
                Err(e) if e.status() == Some(404) || e.is_not_found() => {
                    return Err(Error::Unsuitable {
                        field: "table_path".into(),
                        rule: format!(
                            "connection {} has no table {:?} (explore answered 404); name a \
                             table as explore lists it (schema-qualified, e.g. public.orders)",
                            spec.base()?,
                            spec.table_path
                        ),
                    });
                }
                Err(e) => return Err(e),
            };
            check_columns(spec, &columns)?;
            checked.columns = Some(columns);
        }

        // The schema: Catalog's when given (already checked), else the
        // target connection's, else Catalog's.
        let known = catalog_schema.clone().or(target_schema);
        if catalog_schema.is_none()
            && (plan.target_connection.id().is_none() || (new_mapping_set && known.is_none()))
        {
            checked.schema_id = Some(self.dataset_schema(spec)?);
        } else {
            checked.schema_id = known;
        }

        if matches!(plan.flow, FlowPlan::Create { .. }) {
            // Cached per client: one request the first time.
            self.postgres_flow_spec()?;
        }
        if new_mapping_set {
            let schema = checked.schema_id.clone().unwrap_or_else(no_schema);
            let name = mapping_set_name(&schema, &spec.mappings);
            // A mapping set an earlier run made for this declaration (and
            // then failed to use) is reused, not made again. Only one that
            // holds every declared mapping: the name alone is no proof (a
            // set named so by someone else, or edited since, can hold
            // anything).
            if let Some(reused) = self.mapping_set_named(&name, spec, &schema)? {
                let (id, version) = (reused.id, reused.version);
                return Ok((checked, Some(MappingSetPlan::Reuse { id, version })));
            }
            let mut set = spec.mapping_set(&schema);
            if let Some(columns) = &checked.columns {
                set = set.with_source_columns(columns.columns.clone());
            }
            let validation = self.validate_mapping_set(&set)?;
            if !validation.is_valid() {
                return Err(Error::Unsuitable {
                    field: "mappings".into(),
                    rule: format!(
                        "the mapping does not validate against schema {schema}: {}",
                        validation.problems().join("; ")
                    ),
                });
            }
            return Ok((checked, Some(MappingSetPlan::Create { name })));
        }
        Ok((checked, None))
    }

    /// The writes of `plan`, in order: source, target, the flow's schedule,
    /// mapping set, flow (or the flow's mapping entry), enabling. Each is
    /// recorded in `progress` as it is made.
    fn apply_pipeline(
        &self,
        spec: &PipelineSpec,
        plan: PipelinePlan,
        progress: &mut PipelineProgress,
    ) -> Result<PipelineOutcome, Error> {
        use PipelineChange::*;
        // A flow to replace exists, so both connections are kept: nothing
        // is written before the flow's arm refuses it.
        let source_id = match plan.source_connection {
            ConnectionPlan::Keep { id } => id,
            ConnectionPlan::Create { name } => {
                let mut new =
                    NewSourceConnection::new(name, spec.base()?.clone(), &spec.table_path);
                if let Some(columns) = plan.prepared.columns {
                    new = new.with_columns(columns.columns);
                }
                let saved = created_or_found(
                    || self.create_source_connection(&new).map(|s| s.id),
                    || {
                        Ok(self
                            .find_source_connection(spec.base()?, &spec.table_path)?
                            .map(|s| s.id))
                    },
                )?;
                progress.source_connection_id = Some(saved.clone());
                progress.changes.push(SourceConnectionCreated);
                saved
            }
        };
        let schema = plan.prepared.schema_id.unwrap_or_else(no_schema);
        let target_id = match plan.target_connection {
            ConnectionPlan::Keep { id } => id,
            ConnectionPlan::Create { name } => {
                let new = NewTargetConnection::new(name, spec.dataset()?.clone(), schema.clone());
                let saved = created_or_found(
                    || self.create_target_connection(&new).map(|s| s.id),
                    || Ok(self.find_target_connection(spec.dataset()?)?.map(|t| t.id)),
                )?;
                progress.target_connection_id = Some(saved.clone());
                progress.changes.push(TargetConnectionCreated);
                saved
            }
        };
        let (flow_id, mapping_set_id) = match plan.flow {
            FlowPlan::Create { name, mapping_set } => {
                let (mapping_id, mapping_version) =
                    self.apply_mapping_set(spec, &schema, mapping_set, progress)?;
                let mut new = NewFlow::new(FlowParts {
                    name: &name,
                    source_connection_id: source_id.clone(),
                    target_connection_id: target_id.clone(),
                    delta_column: &spec.delta_column,
                    mapping_set_id: mapping_id.clone(),
                    mapping_set_version: mapping_version,
                    schedule: spec.declared_schedule()?,
                });
                if let Some(d) = &spec.description {
                    new = new.with_description(d);
                }
                let flow_id = created_or_found(
                    || self.create_flow(&new).map(|s| s.id),
                    || Ok(self.find_flow(&source_id, &target_id)?.map(|f| f.id)),
                )?;
                progress.flow_id = Some(flow_id.clone());
                progress.changes.push(FlowCreated);
                (flow_id, mapping_id)
            }
            FlowPlan::Update(update) => {
                if let Some(change) = &update.schedule {
                    self.update_flow_schedule(&update.id, &change.new)?;
                    progress.changes.push(FlowScheduleUpdated);
                    // Read back once: a value that does not stick is said,
                    // and the next run compares only what the service states.
                    let after = self.get_flow(&update.id)?;
                    if !same_schedule(&after, &change.new) {
                        progress.warnings.push(format!(
                            "flow {}'s schedule was updated but reads back as {}; check it in \
                             the UI",
                            update.id,
                            after
                                .schedule
                                .map(|s| format!(
                                    "frequency {}, interval {}, backfill {}",
                                    s.frequency().map(|f| f.as_str()).unwrap_or("once"),
                                    s.interval().map(|i| i.to_string()).unwrap_or("none".into()),
                                    s.backfill().map(|b| b.to_string()).unwrap_or("none".into())
                                ))
                                .unwrap_or_else(|| "no readable schedule".to_owned())
                        ));
                    }
                }
                let mapping_set_id = match update.mapping {
                    MappingPlan::InSync { mapping_set_id } => mapping_set_id,
                    MappingPlan::Change(change) => {
                        let (mapping_id, mapping_version) =
                            self.apply_mapping_set(spec, &schema, change.mapping_set, progress)?;
                        self.update_flow_mapping(&update.id, &mapping_id, mapping_version)?;
                        progress.changes.push(FlowMappingUpdated);
                        mapping_id
                    }
                };
                if update.enable.is_some() {
                    self.enable_flow(&update.id)?;
                    progress.changes.push(FlowEnabled);
                }
                (update.id, mapping_set_id)
            }
            FlowPlan::Replace(replace) => return Err(replace.error()),
        };
        Ok(PipelineOutcome {
            flow_id,
            source_connection_id: source_id,
            target_connection_id: target_id,
            mapping_set_id,
            changes: std::mem::take(&mut progress.changes),
            duplicates: plan.duplicates,
            warnings: std::mem::take(&mut progress.warnings),
        })
    }

    /// The mapping set a new flow or a changed mapping uses: the one reused,
    /// or one made (named after the declaration: a lost answer is looked up
    /// by that name, and a later run reuses it if this one fails).
    fn apply_mapping_set(
        &self,
        spec: &PipelineSpec,
        schema: &SchemaId,
        plan: MappingSetPlan,
        progress: &mut PipelineProgress,
    ) -> Result<(MappingSetId, i64), Error> {
        let name = match plan {
            MappingSetPlan::Reuse { id, version } => return Ok((id, version)),
            MappingSetPlan::Create { name } => name,
        };
        let new = spec.mapping_set(schema).with_name(&name);
        let saved = created_or_found(
            || self.create_mapping_set(&new).map(|m| (m.id, m.version)),
            || {
                let found = self.mapping_set_named(&name, spec, schema)?;
                Ok(found.map(|m| (m.id, m.version)))
            },
        )?;
        progress.mapping_set_id = Some(saved.0.clone());
        progress.changes.push(PipelineChange::MappingSetCreated);
        Ok(saved)
    }

    /// The mapping set named `name` that holds the declared mappings (the
    /// name alone is no proof: a set named so by someone else, or edited
    /// since, can hold anything).
    fn mapping_set_named(
        &self,
        name: &str,
        spec: &PipelineSpec,
        schema: &SchemaId,
    ) -> Result<Option<MappingSet>, Error> {
        let named = self.find_mapping_sets_named(name)?;
        let matches = |m: &MappingSet| {
            compare_mapping_set(m, &spec.mappings, Some(schema)) == MappingVerdict::Matches
        };
        Ok(named.into_iter().find(matches))
    }
}

/// The mapping set of a new flow or a changed mapping until the checks
/// decide it (created, or reused).
fn undecided_mapping_set() -> MappingSetPlan {
    MappingSetPlan::Create {
        name: String::new(),
    }
}

/// The schema of a spec whose writes need none: empty, which no write
/// takes (its check refuses it before anything is sent).
fn no_schema() -> SchemaId {
    SchemaId::from_service(String::new())
}

/// A listed flow that lacks the connection ids the lookup checks is an
/// error naming the field: read as "not this pipeline's", every run would
/// make another flow.
fn check_listed_flow(flow: &Flow) -> Result<(), Error> {
    let lacks = if flow.source_connection_ids.is_empty() {
        "sourceConnectionIds"
    } else if flow.target_connection_ids.is_empty() {
        "targetConnectionIds"
    } else {
        return Ok(());
    };
    Err(unusable_answer(format!(
        "flow {} in the listing lacks {lacks}, so whether it joins this pipeline's \
         connections cannot be checked; refusing to treat it as absent (a create would \
         duplicate it)",
        flow.id
    )))
}

/// The flow must read changes by the declared delta column; a flow without
/// a `Copy` transformation (or one without a delta column) is named as such.
/// `None` when it does; else why it must be replaced.
fn delta_column_problem(flow: &Flow, spec: &PipelineSpec) -> Option<String> {
    let mut names: Vec<&str> = flow
        .transformations
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let has_copy = names.iter().any(|n| n.eq_ignore_ascii_case("Copy"));
    if names.is_empty() {
        names.push("none");
    }
    let problem = match flow.delta_column() {
        Some(c) if c == spec.delta_column => return None,
        Some(c) => format!(
            "reads changes by delta column {c:?}, not {:?}",
            spec.delta_column
        ),
        None if !has_copy => format!(
            "has no Copy transformation (its transformations: {}), so it reads no delta column",
            names.join(", ")
        ),
        None => {
            "has a Copy transformation without a delta column (params.deltaColumn.name)".to_owned()
        }
    };
    Some(format!(
        "flow {} {problem}; the service documents no way to change it: delete the flow (its \
         connections stay) and ensure again",
        flow.id
    ))
}

/// The base connection must be PostgreSQL's.
fn check_postgres(base: &Connection) -> Result<(), Error> {
    if base.connection_spec_id.as_deref() != Some(POSTGRES_CONNECTION_SPEC_ID) {
        return Err(Error::Unsuitable {
            field: "base_connection_id".into(),
            rule: format!(
                "connection {} is not a PostgreSQL connection (its connection spec is {}); \
                 give a PostgreSQL base connection",
                base.id,
                base.connection_spec_id.as_deref().unwrap_or("not given")
            ),
        });
    }
    Ok(())
}

/// Whether explore describes a date or time column: an XDM format
/// (`date-time`, `date`) or a type named for one (`timestamp`, `date`, ...).
fn is_date_or_time(c: &super::explore::Column) -> bool {
    let dated = |t: &str| {
        let t = t.to_ascii_lowercase();
        t.contains("date") || t.contains("time")
    };
    c.xdm_format().is_some_and(dated) || dated(&c.type_name)
}

/// The delta column (a date or time column) and every mapped column must
/// be the table's.
fn check_columns(spec: &PipelineSpec, table: &TableSchema) -> Result<(), Error> {
    let has = |name: &str| table.columns.iter().any(|c| c.name == name);
    let hint = |name: &str| {
        table
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| format!(" (did you mean {:?}?)", c.name))
            .unwrap_or_default()
    };
    let Some(delta) = table.columns.iter().find(|c| c.name == spec.delta_column) else {
        return Err(Error::Unsuitable {
            field: "delta_column".into(),
            rule: format!(
                "table {} has no column {:?}{}; name a column that says when a row changed",
                spec.table_path,
                spec.delta_column,
                hint(&spec.delta_column)
            ),
        });
    };
    // Only a type explore states is checked: a column it gives no type for
    // is not refused for want of one.
    let typed = !delta.type_name.trim().is_empty()
        || delta
            .xdm
            .as_ref()
            .and_then(|x| x.kind.as_deref())
            .is_some_and(|k| !k.trim().is_empty());
    if typed && !is_date_or_time(delta) {
        return Err(Error::Unsuitable {
            field: "delta_column".into(),
            rule: format!(
                "column {:?} of table {} is a {} column without a date or time format, so \
                 it cannot say when a row changed; name a date or time column",
                delta.name,
                spec.table_path,
                if delta.type_name.is_empty() {
                    "typeless"
                } else {
                    delta.type_name.as_str()
                }
            ),
        });
    }
    for (i, m) in spec.mappings.iter().enumerate() {
        if m.source_type() == MappingSourceType::Attribute && !has(m.source()) {
            return Err(Error::Unsuitable {
                field: format!("mappings[{i}].source"),
                rule: format!(
                    "table {} has no column {:?}{}",
                    spec.table_path,
                    m.source(),
                    hint(m.source())
                ),
            });
        }
    }
    Ok(())
}

/// Schedules compare on frequency, interval and backfill, a backfill the
/// flow does not state aside (not stated is not different); the start time
/// is set at creation only (the service refuses to change it once passed).
fn same_schedule(flow: &Flow, declared: &Schedule) -> bool {
    flow.schedule.is_some_and(|current| {
        current.frequency() == declared.frequency()
            && current.interval() == declared.interval()
            && (!flow.schedule_states_backfill || current.backfill() == declared.backfill())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_changes_read_back_as_printed() {
        use PipelineChange::*;
        for change in [
            SourceConnectionCreated,
            TargetConnectionCreated,
            MappingSetCreated,
            FlowCreated,
            FlowMappingUpdated,
            FlowScheduleUpdated,
            FlowEnabled,
        ] {
            assert_eq!(change.to_string(), change.as_str());
            assert_eq!(change.as_str().parse::<PipelineChange>(), Ok(change));
        }
        assert_eq!(FlowEnabled.as_str(), "enabled flow");
        let err = "Enabled Flow".parse::<PipelineChange>().unwrap_err();
        assert_eq!(err.type_name(), "PipelineChange");
    }

    #[test]
    fn clip_cuts_long_names_on_a_character_boundary() {
        assert_eq!(clip("short".into()), "short");
        assert_eq!(clip("a".repeat(MAX_NAME)), "a".repeat(MAX_NAME));
        assert_eq!(clip("a".repeat(MAX_NAME + 44)), "a".repeat(MAX_NAME));
        // `é` is two bytes: it would end at byte 257, so it goes whole.
        let name = format!("{}é", "a".repeat(MAX_NAME - 1));
        assert_eq!(clip(name), "a".repeat(MAX_NAME - 1));
        assert_eq!(clip("é".repeat(200)), "é".repeat(MAX_NAME / 2));
    }
}
