//! One idempotent call from a PostgreSQL table to a scheduled dataflow:
//! [`Client::ensure_pipeline`] finds what exists, creates what is missing,
//! converges what drifted, and (with [`PipelineSpec::with_plan`]) says what
//! it would do without writing.
//!
//! Identity is the triple (base connection and table, dataset, the flow
//! joining their source and target connections), never a name. Mapping
//! sets have no identity the service can look up: one whose create answer
//! was lost stays behind unused, and the next run makes another.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use super::connections::Connection;
use super::explore::TableSchema;
use super::flows::{Flow, FlowFilter, FlowState, NewFlow, Schedule};
use super::mapping_sets::{Mapping, MappingSourceType, NewMappingSet};
use super::postgres::POSTGRES_CONNECTION_SPEC_ID;
use super::source_connections::{NewSourceConnection, SourceConnection, SourceConnectionFilter};
use super::target_connections::{NewTargetConnection, TargetConnection, TargetConnectionFilter};
use crate::client::input::{check_description, check_id, check_name, require_text};
use crate::client::plumbing::created_or_found;
use crate::client::Client;
use crate::error::Error;

/// Longest name this call makes up for an object (the service takes 256).
const MAX_NAME: usize = 256;

/// What a pipeline should be: a table of a PostgreSQL base connection,
/// flowing into a dataset through a mapping, on a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineSpec {
    base_connection_id: String,
    table_path: String,
    dataset_id: String,
    schema_id: Option<String>,
    mappings: Vec<Mapping>,
    delta_column: String,
    schedule: Schedule,
    name: Option<String>,
    description: Option<String>,
    enable: bool,
    plan: bool,
}

impl PipelineSpec {
    /// Table `table_path` (e.g. `public.orders`) of base connection
    /// `base_connection_id` into dataset `dataset_id`, with `mappings`
    /// (source column → XDM path), incremental by `delta_column`, on
    /// `schedule`. The schema is read from Catalog unless
    /// [`with_schema_id`](Self::with_schema_id) names it.
    pub fn new(
        base_connection_id: impl Into<String>,
        table_path: impl Into<String>,
        dataset_id: impl Into<String>,
        mappings: Vec<Mapping>,
        delta_column: impl Into<String>,
        schedule: Schedule,
    ) -> Self {
        PipelineSpec {
            base_connection_id: base_connection_id.into(),
            table_path: table_path.into(),
            dataset_id: dataset_id.into(),
            schema_id: None,
            mappings,
            delta_column: delta_column.into(),
            schedule,
            name: None,
            description: None,
            enable: false,
            plan: false,
        }
    }

    /// The dataset's schema (`$id` URL), instead of reading it from
    /// Catalog. It must be the dataset's.
    pub fn with_schema_id(mut self, schema_id: impl Into<String>) -> Self {
        self.schema_id = Some(schema_id.into());
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
    /// disabled (someone disabled it on purpose).
    pub fn with_enable(mut self, enable: bool) -> Self {
        self.enable = enable;
        self
    }

    /// Plan only: find and compare as usual, check what a write would need,
    /// and report what would be created or updated; write nothing.
    pub fn with_plan(mut self, plan: bool) -> Self {
        self.plan = plan;
        self
    }

    /// The base connection's id.
    pub fn base_connection_id(&self) -> &str {
        &self.base_connection_id
    }

    /// The table's path.
    pub fn table_path(&self) -> &str {
        &self.table_path
    }

    /// The dataset's id.
    pub fn dataset_id(&self) -> &str {
        &self.dataset_id
    }

    /// The schema, if given.
    pub fn schema_id(&self) -> Option<&str> {
        self.schema_id.as_deref()
    }

    /// The mappings.
    pub fn mappings(&self) -> &[Mapping] {
        &self.mappings
    }

    /// The delta column.
    pub fn delta_column(&self) -> &str {
        &self.delta_column
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The flow's name, if given.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The flow's description, if given.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Whether a disabled flow is enabled.
    pub fn enable(&self) -> bool {
        self.enable
    }

    /// Whether this is a plan only.
    pub fn plan(&self) -> bool {
        self.plan
    }

    /// Checks every field; nothing is sent when one is wrong.
    pub fn validate(&self) -> Result<(), Error> {
        check_id("base_connection_id", &self.base_connection_id)?;
        require_text("table_path", &self.table_path)?;
        check_id("dataset_id", &self.dataset_id)?;
        if let Some(schema) = &self.schema_id {
            require_text("schema_id", schema)?;
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
        self.mapping_set("schema").validate()?;
        NewFlow::new(
            "name",
            "source",
            "target",
            &self.delta_column,
            "0123456789abcdef0123456789abcdef",
            0,
            self.schedule,
        )
        .validate()?;
        Ok(())
    }

    fn mapping_set(&self, schema_id: &str) -> NewMappingSet {
        NewMappingSet::new(schema_id, self.mappings.clone())
    }

    fn flow_name(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => clip(format!("{} to {}", self.table_path, self.dataset_id)),
        }
    }

    /// Ensures of the same pipeline through one client run one at a time.
    fn lock_key(&self) -> String {
        format!(
            "pipeline\u{0}{}\u{0}{}\u{0}{}",
            self.base_connection_id, self.table_path, self.dataset_id
        )
    }
}

/// A name cut to what the service takes, on a character boundary.
fn clip(mut name: String) -> String {
    if name.len() > MAX_NAME {
        let mut end = MAX_NAME;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    name
}

/// One thing [`Client::ensure_pipeline`] created or updated (or, in a
/// plan, would).
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

impl PipelineChange {
    /// How the CLI prints it: `created sourceConnection`, `updated
    /// flow.schedule`, `enabled flow`...
    pub fn as_str(&self) -> &'static str {
        match self {
            PipelineChange::SourceConnectionCreated => "created sourceConnection",
            PipelineChange::TargetConnectionCreated => "created targetConnection",
            PipelineChange::MappingSetCreated => "created mappingSet",
            PipelineChange::FlowCreated => "created flow",
            PipelineChange::FlowMappingUpdated => "updated flow.mapping",
            PipelineChange::FlowScheduleUpdated => "updated flow.schedule",
            PipelineChange::FlowEnabled => "enabled flow",
        }
    }
}

impl fmt::Display for PipelineChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PipelineChange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What [`Client::ensure_pipeline`] found and did: every object's id (none
/// for an object a plan would create) and the changes, in the order made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PipelineOutcome {
    /// The flow.
    pub flow_id: Option<String>,
    /// The source connection (the table).
    pub source_connection_id: Option<String>,
    /// The target connection (the dataset).
    pub target_connection_id: Option<String>,
    /// The mapping set the flow uses.
    pub mapping_set_id: Option<String>,
    /// What this call created or updated (a plan: would); empty when the
    /// pipeline was as declared.
    #[serde(rename = "changed")]
    pub changes: Vec<PipelineChange>,
    /// `true` for a plan: nothing was written.
    pub planned: bool,
}

impl PipelineOutcome {
    /// Whether nothing was (or, in a plan, would be) created or updated.
    pub fn is_unchanged(&self) -> bool {
        self.changes.is_empty()
    }
}

/// What the finding step saw.
struct Found {
    source: Option<SourceConnection>,
    target: Option<TargetConnection>,
    flow: Option<Flow>,
    /// The flow's mapping set, when it matches the declared mappings.
    mapping_matches: bool,
    schedule_matches: bool,
}

/// What the checks learned for the writes.
#[derive(Default)]
struct Checked {
    columns: Option<TableSchema>,
    schema_id: Option<String>,
}

impl Client {
    /// Converges a pipeline to `spec`: finds the source connection for the
    /// (base connection, table), the target connection for the dataset and
    /// the flow joining them; creates only what is missing; on an existing
    /// flow replaces a different mapping (a new mapping set, then the
    /// flow's `Mapping` entry patched with `If-Match`) and a different
    /// frequency, interval or backfill (the start time is set at creation
    /// only), and enables a disabled flow only when
    /// [`with_enable`](PipelineSpec::with_enable) asks.
    ///
    /// Before the first write it checks what the writes need: the base
    /// connection exists and is PostgreSQL, the table exists and has the
    /// delta column and every mapped column, the dataset exists (and has
    /// the schema given), the flow spec accepts PostgreSQL, the mapping
    /// validates. A failed check writes nothing and says what to fix.
    ///
    /// A re-run that finds everything as declared sends four requests
    /// (three lookups and the flow's mapping set) and writes nothing. A
    /// create whose answer was lost is looked up again before anything
    /// else is created, and a run killed between two steps is finished by
    /// the next one; ensures of the same pipeline through one client run
    /// one at a time.
    pub fn ensure_pipeline(&self, spec: &PipelineSpec) -> Result<PipelineOutcome, Error> {
        spec.validate()?;
        // The connections' keys first, then the pipeline's: ensures of two
        // pipelines sharing a table (or a dataset) do not both create it.
        let _source = self.lock(source_key(spec));
        let _target = self.lock(target_key(spec));
        let _pipeline = self.lock(spec.lock_key());

        let found = self.find_pipeline(spec)?;
        let mut plan = Vec::new();
        if found.source.is_none() {
            plan.push(PipelineChange::SourceConnectionCreated);
        }
        if found.target.is_none() {
            plan.push(PipelineChange::TargetConnectionCreated);
        }
        match &found.flow {
            None => {
                plan.push(PipelineChange::MappingSetCreated);
                plan.push(PipelineChange::FlowCreated);
            }
            Some(flow) => {
                // The schedule first: a flow whose schedule cannot be
                // patched is refused before anything is written.
                if !found.schedule_matches {
                    plan.push(PipelineChange::FlowScheduleUpdated);
                }
                if !found.mapping_matches {
                    plan.push(PipelineChange::MappingSetCreated);
                    plan.push(PipelineChange::FlowMappingUpdated);
                }
                if spec.enable && flow.state != FlowState::Enabled {
                    plan.push(PipelineChange::FlowEnabled);
                }
            }
        }
        let mut outcome = PipelineOutcome {
            flow_id: found.flow.as_ref().map(|f| f.id.clone()),
            source_connection_id: found.source.as_ref().map(|s| s.id.clone()),
            target_connection_id: found.target.as_ref().map(|t| t.id.clone()),
            mapping_set_id: found
                .flow
                .as_ref()
                .filter(|_| found.mapping_matches)
                .and_then(|f| f.mapping().map(|(_, id, _)| id.to_owned())),
            changes: Vec::new(),
            planned: spec.plan,
        };
        if plan.is_empty() {
            return Ok(outcome);
        }
        let checked = self.check_pipeline(spec, &found, &plan)?;
        if spec.plan {
            outcome.changes = plan;
            return Ok(outcome);
        }
        self.apply_pipeline(spec, found, checked, &plan, &mut outcome)?;
        Ok(outcome)
    }

    /// Looks up what exists: four requests when the sandbox holds one of
    /// each (more only when it holds duplicates made elsewhere).
    fn find_pipeline(&self, spec: &PipelineSpec) -> Result<Found, Error> {
        let sources = self.list_source_connections(
            SourceConnectionFilter::new()
                .with_base_connection_id(&spec.base_connection_id)
                .with_table_name(&spec.table_path),
        )?;
        let targets = self.list_target_connections(
            TargetConnectionFilter::new().with_dataset_id(&spec.dataset_id),
        )?;
        // A flow joins both: without one of them there is none. With
        // duplicates (made by hand, or by another tool), the flow joining
        // any of them is the pipeline, so that no second flow is made.
        let mut found = None;
        if !sources.is_empty() {
            'targets: for t in &targets {
                let filter = if sources.len() == 1 {
                    FlowFilter::new()
                        .with_source_connection_id(&sources[0].id)
                        .with_target_connection_id(&t.id)
                } else {
                    FlowFilter::new().with_target_connection_id(&t.id)
                };
                for flow in self.flows(filter) {
                    let flow = flow?;
                    if let Some(s) = sources
                        .iter()
                        .find(|s| flow.source_connection_ids.contains(&s.id))
                    {
                        found = Some((s.clone(), t.clone(), flow));
                        break 'targets;
                    }
                }
            }
        }
        let (source, target, flow) = match found {
            Some((s, t, f)) => (Some(s), Some(t), Some(f)),
            // The oldest of each (the service lists in creation order).
            None => (sources.into_iter().next(), targets.into_iter().next(), None),
        };
        let (mut mapping_matches, mut schedule_matches) = (false, false);
        if let Some(flow) = &flow {
            if flow.delta_column() != Some(spec.delta_column.as_str()) {
                return Err(Error::Unsuitable {
                    field: "delta_column".into(),
                    rule: format!(
                        "flow {} reads changes by delta column {:?}, not {:?}; the service \
                         documents no way to change it: delete the flow (its connections \
                         stay) and ensure again",
                        flow.id,
                        flow.delta_column().unwrap_or(""),
                        spec.delta_column
                    ),
                });
            }
            let Some((_, mapping_id, mapping_version)) = flow.mapping() else {
                return Err(Error::Unsuitable {
                    field: "mappings".into(),
                    rule: format!(
                        "flow {} has no Mapping transformation to update; delete the flow \
                         and ensure again",
                        flow.id
                    ),
                });
            };
            // The version the flow runs, which need not be the latest.
            mapping_matches = match self.get_mapping_set_version(mapping_id, mapping_version) {
                Ok(current) => {
                    let schema = spec
                        .schema_id
                        .as_deref()
                        .or(target.as_ref().and_then(|t| t.schema_id.as_deref()));
                    same_mappings(&current.mappings, &spec.mappings)
                        && schema.is_none_or(|s| current.schema_id.as_deref() == Some(s))
                }
                // The flow names a mapping set that is gone, or an id or
                // version no mapping set can have (the service's answer,
                // not the caller's input): make another.
                Err(Error::NotFound { .. } | Error::InvalidInput { .. }) => false,
                Err(e) => return Err(e),
            };
            schedule_matches = flow
                .schedule
                .is_some_and(|current| same_schedule(&current, &spec.schedule));
        }
        Ok(Found {
            source,
            target,
            flow,
            mapping_matches,
            schedule_matches,
        })
    }

    /// The reads that make sure the planned writes can succeed.
    fn check_pipeline(
        &self,
        spec: &PipelineSpec,
        found: &Found,
        plan: &[PipelineChange],
    ) -> Result<Checked, Error> {
        let creates_source = plan.contains(&PipelineChange::SourceConnectionCreated);
        let creates_target = plan.contains(&PipelineChange::TargetConnectionCreated);
        let creates_mapping = plan.contains(&PipelineChange::MappingSetCreated);
        let creates_flow = plan.contains(&PipelineChange::FlowCreated);
        let mut checked = Checked::default();

        if creates_source || creates_mapping || creates_flow {
            if creates_source {
                let base = self.get_connection(&spec.base_connection_id)?;
                check_postgres(&base)?;
            }
            let columns = self.explore_columns(&spec.base_connection_id, &spec.table_path)?;
            check_columns(spec, &columns)?;
            checked.columns = Some(columns);
        }

        // The schema: given, else the target connection's, else Catalog's.
        let known = spec
            .schema_id
            .clone()
            .or_else(|| found.target.as_ref().and_then(|t| t.schema_id.clone()));
        if creates_target || (creates_mapping && known.is_none()) {
            let dataset = self.get_dataset(&spec.dataset_id)?;
            let Some(dataset_schema) = dataset.schema_id.filter(|s| !s.is_empty()) else {
                return Err(Error::Unsuitable {
                    field: "dataset_id".into(),
                    rule: format!(
                        "dataset {} has no schema (schemaRef.id) in Catalog; use a dataset \
                         made from an XDM schema",
                        spec.dataset_id
                    ),
                });
            };
            if let Some(given) = &spec.schema_id {
                if *given != dataset_schema {
                    return Err(Error::Unsuitable {
                        field: "schema_id".into(),
                        rule: format!(
                            "dataset {} uses schema {dataset_schema}, not {given}; drop the \
                             schema or give the dataset's",
                            spec.dataset_id
                        ),
                    });
                }
            }
            checked.schema_id = Some(dataset_schema);
        } else {
            checked.schema_id = known;
        }

        if creates_flow {
            // Cached per client: one request the first time.
            self.postgres_flow_spec()?;
        }
        if creates_mapping {
            let schema = checked.schema_id.as_deref().unwrap_or_default();
            let mut set = spec.mapping_set(schema);
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
        }
        Ok(checked)
    }

    /// The writes, in order: source, target, mapping set, flow (or the
    /// flow's updates).
    fn apply_pipeline(
        &self,
        spec: &PipelineSpec,
        found: Found,
        checked: Checked,
        plan: &[PipelineChange],
        outcome: &mut PipelineOutcome,
    ) -> Result<(), Error> {
        let flow_name = spec.flow_name();
        let source_id = match found.source {
            Some(s) => s.id,
            None => {
                let mut new = NewSourceConnection::new(
                    clip(format!("{flow_name}: source")),
                    &spec.base_connection_id,
                    &spec.table_path,
                );
                if let Some(columns) = checked.columns.clone() {
                    new = new.with_columns(columns.columns);
                }
                let saved = created_or_found(
                    || self.create_source_connection(&new).map(|s| s.id),
                    || {
                        Ok(self
                            .find_source_connection(&spec.base_connection_id, &spec.table_path)?
                            .map(|s| s.id))
                    },
                )?;
                outcome.source_connection_id = Some(saved.clone());
                outcome
                    .changes
                    .push(PipelineChange::SourceConnectionCreated);
                saved
            }
        };
        let schema = checked.schema_id.clone().unwrap_or_default();
        let target_id = match found.target {
            Some(t) => t.id,
            None => {
                let new = NewTargetConnection::new(
                    clip(format!("{flow_name}: dataset")),
                    &spec.dataset_id,
                    &schema,
                );
                let saved = created_or_found(
                    || self.create_target_connection(&new).map(|s| s.id),
                    || Ok(self.find_target_connection(&spec.dataset_id)?.map(|t| t.id)),
                )?;
                outcome.target_connection_id = Some(saved.clone());
                outcome
                    .changes
                    .push(PipelineChange::TargetConnectionCreated);
                saved
            }
        };
        if found.flow.is_some() && plan.contains(&PipelineChange::FlowScheduleUpdated) {
            let flow = found
                .flow
                .as_ref()
                .map(|f| f.id.as_str())
                .unwrap_or_default();
            self.update_flow_schedule(flow, &spec.schedule)?;
            outcome.changes.push(PipelineChange::FlowScheduleUpdated);
        }
        let mapping = if plan.contains(&PipelineChange::MappingSetCreated) {
            // No identity to look up after a lost answer: an error here
            // may leave an unused mapping set behind.
            let saved = self.create_mapping_set(&spec.mapping_set(&schema))?;
            outcome.mapping_set_id = Some(saved.id.clone());
            outcome.changes.push(PipelineChange::MappingSetCreated);
            Some(saved)
        } else {
            None
        };
        let Some(flow) = found.flow else {
            let mapping = mapping.expect("planned with the flow");
            let mut new = NewFlow::new(
                flow_name,
                &source_id,
                &target_id,
                &spec.delta_column,
                &mapping.id,
                mapping.version,
                spec.schedule,
            );
            if let Some(d) = &spec.description {
                new = new.with_description(d);
            }
            let flow_id = created_or_found(
                || self.create_flow(&new).map(|s| s.id),
                || Ok(self.find_flow(&source_id, &target_id)?.map(|f| f.id)),
            )?;
            outcome.flow_id = Some(flow_id);
            outcome.changes.push(PipelineChange::FlowCreated);
            return Ok(());
        };
        if let Some(mapping) = &mapping {
            self.update_flow_mapping(&flow.id, &mapping.id, mapping.version)?;
            outcome.changes.push(PipelineChange::FlowMappingUpdated);
        }
        if plan.contains(&PipelineChange::FlowEnabled) {
            self.enable_flow(&flow.id)?;
            outcome.changes.push(PipelineChange::FlowEnabled);
        }
        Ok(())
    }
}

fn source_key(spec: &PipelineSpec) -> String {
    format!(
        "sourceConnection\u{0}{}\u{0}{}",
        spec.base_connection_id, spec.table_path
    )
}

fn target_key(spec: &PipelineSpec) -> String {
    format!("targetConnection\u{0}{}", spec.dataset_id)
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

/// The delta column and every mapped column must be the table's.
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
    if !has(&spec.delta_column) {
        return Err(Error::Unsuitable {
            field: "delta_column".into(),
            rule: format!(
                "table {} has no column {:?}{}; name a column that says when a row changed",
                spec.table_path,
                spec.delta_column,
                hint(&spec.delta_column)
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

/// Mappings compare as sets: the order they were declared in does not
/// matter to Data Prep.
fn same_mappings(current: &[Mapping], declared: &[Mapping]) -> bool {
    let key = |m: &Mapping| {
        (
            m.source_type() == MappingSourceType::Expression,
            m.source().to_owned(),
            m.destination().to_owned(),
        )
    };
    let a: BTreeSet<_> = current.iter().map(key).collect();
    let b: BTreeSet<_> = declared.iter().map(key).collect();
    a == b && current.len() == declared.len()
}

/// Schedules compare on frequency, interval and backfill; the start time
/// is set at creation only (the service refuses to change it once passed).
fn same_schedule(current: &Schedule, declared: &Schedule) -> bool {
    current.frequency() == declared.frequency()
        && current.interval() == declared.interval()
        && current.backfill() == declared.backfill()
}
