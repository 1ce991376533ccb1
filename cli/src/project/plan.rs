//! `aep-flow plan`: what `apply` would do, per pipeline and sandbox, read
//! from live state; writes nothing.
//!
//! The decisions (in sync, create, update in place, replace, delete) are
//! made here from the library's plan and shared with `apply`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use aep_flow::{
    Flow, FlowFilter, FlowId, FlowPlan, Frequency, MappingPlan, PipelineChange, Schedule,
    SourceConnectionId, TargetConnectionId,
};
use clap::Args;
use serde::Serialize;

use super::live::{self, Connected, Live, PipelineLive, SandboxState};
use super::{Project, DEFAULT_FILE};
use crate::demo::{self, Demo};
use crate::env::{Common, Failure};
use crate::output::{to_json, Output};

pub const HELP: &str = "prints, per pipeline and sandbox, one of:
  in sync; create (what); update in place (field: old → new); replace needed (why;
  apply needs --allow-replace); delete (with --prune only: flows whose description
  carries this project's marker, `aep-flow project: NAME`, that the file no longer
  declares, twins of a declared flow included, and their source and target
  connections when no other flow uses them; never a base connection, never a
  dataset, never an unmarked object, never a connection a declared pipeline
  keeps; a table the file moved to another dataset, or another table the file
  put into a dataset, is a replace of the old flow);
then `N to create, N to update, N to replace, N to delete, N in sync`.
--json: one object per pipeline and sandbox {\"sandbox\",\"connection\",\"table\",
  \"dataset\",\"action\",\"changes\",\"flowId\",\"sourceConnectionId\",
  \"targetConnectionId\",\"datasetId\"[,\"error\"]}, then one summary object
  {\"create\",\"update\",\"replace\",\"delete\",\"inSync\",\"failed\"}.
warnings (stderr): sandboxes whose planned batches into Profile-enabled datasets
  exceed 90 a day, naming the pipelines; with --prune, flows that look like this
  project's but lack its marker (removed in the UI): never pruned.
exit codes: 0 (even with changes pending), 1 a service failure, 2 bad input;
  with --detailed-exitcode: 0 in sync, 2 changes pending, 1 any error (bad input
  included).";

/// The selection and output flags `plan` and `apply` share.
#[derive(Args, Clone)]
pub struct Selection {
    /// The declarative file (default aep-flow.toml).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Only this sandbox of the file (repeatable; default: every one).
    #[arg(long = "sandbox", value_name = "NAME")]
    pub sandboxes: Vec<String>,
    /// One JSON object per pipeline and sandbox, then a summary object.
    #[arg(long)]
    pub json: bool,
    /// Flows this project made that the file no longer declares are
    /// deleted (with their source and target connections when unused).
    #[arg(long)]
    pub prune: bool,
}

/// `plan`'s flags.
#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Exit 0 in sync, 2 changes pending, 1 any error.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// What is to be done with one pipeline in one sandbox (or one flow to
/// prune).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// As declared.
    InSync,
    /// To create: what.
    Create,
    /// Changed in place.
    Update,
    /// Only deleting the flow and creating it again converges it.
    Replace,
    /// A flow this project made that the file no longer declares.
    Delete,
    /// It could not be planned.
    Error,
}

impl Action {
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::InSync => "in sync",
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Error => "error",
        }
    }
}

/// One line of the plan: a pipeline in a sandbox, or a flow to prune.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub sandbox: String,
    pub connection: Option<String>,
    pub table: Option<String>,
    pub dataset: Option<String>,
    #[serde(serialize_with = "action_str")]
    pub action: Action,
    /// What is created (create), `field: old → new` (update), why
    /// (replace), what is deleted (delete).
    pub changes: Vec<String>,
    pub flow_id: Option<String>,
    pub source_connection_id: Option<String>,
    pub target_connection_id: Option<String>,
    pub dataset_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn action_str<S: serde::Serializer>(a: &Action, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.as_str())
}

impl Row {
    /// The line `plan` prints (and, as the line's head, `apply`).
    pub fn head(&self) -> String {
        match (&self.connection, &self.table, &self.dataset) {
            (Some(c), Some(t), Some(d)) => format!("[{}] {c}: {t} → {d}", self.sandbox),
            _ => format!(
                "[{}] flow {}",
                self.sandbox,
                self.flow_id.as_deref().unwrap_or("?")
            ),
        }
    }

    fn text(&self) -> String {
        let head = self.head();
        match self.action {
            Action::InSync => format!("{head}: in sync"),
            Action::Create => format!("{head}: create {}", self.changes.join(", ")),
            Action::Update => {
                let mut s = format!("{head}: update in place");
                for c in &self.changes {
                    s.push_str(&format!("\n    {c}"));
                }
                s
            }
            Action::Replace => format!(
                "{head}: replace needed (apply needs --allow-replace): {}",
                self.changes.join("; ")
            ),
            Action::Delete => format!("{head}: delete {}", self.changes.join(", ")),
            Action::Error => format!(
                "{head}: error: {}",
                self.error.as_deref().unwrap_or("unknown")
            ),
        }
    }
}

/// How a schedule reads in a change.
fn frequency(s: &Schedule) -> &'static str {
    s.frequency().map_or("once", |f| f.as_str())
}

/// `field: old → new` for each schedule field that differs.
fn schedule_changes(old: Option<&Schedule>, new: &Schedule, out: &mut Vec<String>) {
    let Some(old) = old else {
        out.push(format!(
            "schedule: (none the service states) → {}",
            describe_schedule(new)
        ));
        return;
    };
    if old.frequency() != new.frequency() {
        out.push(format!(
            "schedule.frequency: {} → {}",
            frequency(old),
            frequency(new)
        ));
    }
    let opt = |v: Option<String>| v.unwrap_or_else(|| "(none)".into());
    if old.interval() != new.interval() {
        out.push(format!(
            "schedule.interval: {} → {}",
            opt(old.interval().map(|i| i.to_string())),
            opt(new.interval().map(|i| i.to_string()))
        ));
    }
    if old.backfill() != new.backfill() && old.frequency() == new.frequency() {
        out.push(format!(
            "schedule.backfill: {} → {}",
            opt(old.backfill().map(|b| b.to_string())),
            opt(new.backfill().map(|b| b.to_string()))
        ));
    }
}

fn describe_schedule(s: &Schedule) -> String {
    match (s.frequency(), s.interval()) {
        (Some(f), Some(i)) => format!(
            "every {i} {f}{}",
            if s.backfill() == Some(false) {
                ", no backfill"
            } else {
                ""
            }
        ),
        _ => "once".into(),
    }
}

/// `mappings.COLUMN: old → new` for each column mapped differently.
fn mapping_changes(change: &aep_flow::MappingChange, out: &mut Vec<String>) {
    let Some(old) = &change.old else {
        out.push(format!(
            "mappings: (mapping set {} version {} cannot be read) → {} mapping{}",
            change.old_mapping_set_id,
            change.old_version,
            change.new.len(),
            if change.new.len() == 1 { "" } else { "s" }
        ));
        return;
    };
    let pairs = |m: &[aep_flow::Mapping]| -> BTreeSet<(String, String)> {
        m.iter()
            .map(|m| (m.source().to_owned(), m.destination().to_owned()))
            .collect()
    };
    let (have, want) = (pairs(old), pairs(&change.new));
    let columns: BTreeSet<&String> = have
        .symmetric_difference(&want)
        .map(|(source, _)| source)
        .collect();
    for column in columns {
        let dests = |set: &BTreeSet<(String, String)>| {
            let d: Vec<&str> = set
                .iter()
                .filter(|(s, _)| s == column)
                .map(|(_, d)| d.as_str())
                .collect();
            if d.is_empty() {
                "(none)".to_owned()
            } else {
                d.join(", ")
            }
        };
        out.push(format!(
            "mappings.{column}: {} → {}",
            dests(&have),
            dests(&want)
        ));
    }
    if out.is_empty() {
        // The same pairs, read differently (a count the service added).
        out.push(format!(
            "mappings: mapping set {} differs from the declaration (same pairs, another shape)",
            change.old_mapping_set_id
        ));
    }
}

fn created(c: PipelineChange) -> Option<&'static str> {
    match c {
        PipelineChange::SourceConnectionCreated => Some("source connection"),
        PipelineChange::TargetConnectionCreated => Some("target connection"),
        PipelineChange::MappingSetCreated => Some("mapping set"),
        PipelineChange::FlowCreated => Some("flow"),
        _ => None,
    }
}

/// The row of one pipeline in one sandbox: the library's plan read as the
/// file declares (`enabled = false` included).
pub fn row(project: &Project, state: &SandboxState<'_>, p: &PipelineLive<'_>) -> Row {
    let decl = p.resolved.decl;
    let mut row = Row {
        sandbox: state.connected.sandbox.name.clone(),
        connection: Some(decl.connection.clone()),
        table: Some(decl.table.clone()),
        dataset: Some(decl.dataset.clone()),
        action: Action::InSync,
        changes: Vec::new(),
        flow_id: None,
        source_connection_id: None,
        target_connection_id: None,
        dataset_id: Some(p.resolved.dataset.id.to_string()),
        error: None,
    };
    let disabled = if decl.enabled { "" } else { " (disabled)" };
    match &p.live {
        Live::NoBase => {
            row.action = Action::Create;
            row.changes = vec![
                format!("base connection {}", decl.connection),
                "source connection".into(),
                "target connection".into(),
                "mapping set".into(),
                format!("flow{disabled}"),
            ];
        }
        Live::Failed(e) => {
            row.action = Action::Error;
            row.error = Some(e.to_string());
        }
        Live::Planned(plan) => {
            row.flow_id = plan.flow_id().map(ToString::to_string);
            row.source_connection_id = plan.source_connection.id().map(ToString::to_string);
            row.target_connection_id = plan.target_connection.id().map(ToString::to_string);
            match &plan.flow {
                FlowPlan::Replace(r) => {
                    row.action = Action::Replace;
                    row.changes = vec![format!("{}: {}", r.field, r.reason)];
                }
                FlowPlan::Create { .. } => {
                    row.action = Action::Create;
                    row.changes = plan
                        .changes()
                        .into_iter()
                        .filter_map(created)
                        .map(str::to_owned)
                        .collect();
                    if let Some(flow) = row.changes.last_mut() {
                        flow.push_str(disabled);
                    }
                }
                FlowPlan::Update(u) => {
                    if let Some(s) = &u.schedule {
                        schedule_changes(s.old.as_ref(), &s.new, &mut row.changes);
                    }
                    if let MappingPlan::Change(c) = &u.mapping {
                        let mut m = Vec::new();
                        mapping_changes(c, &mut m);
                        row.changes.extend(m);
                    }
                    let enabled_now = u.enable.is_none();
                    if enabled_now != decl.enabled {
                        row.changes
                            .push(format!("enabled: {enabled_now} → {}", decl.enabled));
                    }
                    if let Some((old, new)) = live::rename(project, p) {
                        row.changes.push(format!("name: {old:?} → {new:?}"));
                    }
                    if !row.changes.is_empty() {
                        row.action = Action::Update;
                    }
                }
                _ => {}
            }
        }
    }
    // Old values come from the service (a flow renamed in the UI, a
    // mapping's path): never a secret the command holds, whatever it echoes.
    scrub_changes(&mut row, &state.connected.client);
    row
}

/// The row's changes and error scrubbed of every secret `client` holds
/// (the database passwords the file names, the token, the client secret).
fn scrub_changes(row: &mut Row, client: &aep_flow::Client) {
    for c in &mut row.changes {
        *c = client.scrubbed(c);
    }
}

/// The flows `--prune` deletes in one sandbox: those carrying this
/// project's marker that no declared pipeline found (neither as its flow
/// nor as a twin), with the source and target connections no other flow
/// uses. `None` (and a warning) when a pipeline could not be planned: its
/// flow is unknown, so nothing can be called undeclared.
pub struct Prune {
    pub flow: Flow,
    pub sources: Vec<SourceConnectionId>,
    pub targets: Vec<TargetConnectionId>,
}

/// Reads the sandbox's flows (one paged listing) and picks what to prune.
pub fn prunable(
    project: &Project,
    state: &SandboxState<'_>,
    planned: &[PipelineLive<'_>],
) -> Result<Option<Vec<Prune>>, Failure> {
    let sandbox = &state.connected.sandbox.name;
    let mut declared: BTreeSet<FlowId> = BTreeSet::new();
    // The connections declared pipelines keep (a table's source, a
    // dataset's target, found for a flow to create too): never pruned.
    let mut kept_sources: BTreeSet<SourceConnectionId> = BTreeSet::new();
    let mut kept_targets: BTreeSet<TargetConnectionId> = BTreeSet::new();
    for p in planned {
        match &p.live {
            // Only the flow each pipeline uses: a twin (another flow
            // joining the same table and dataset, left by a lost answer or
            // another run) is pruned when it carries the marker.
            Live::Planned(plan) => {
                declared.extend(plan.flow_id().cloned());
                kept_sources.extend(plan.source_connection.id().cloned());
                kept_targets.extend(plan.target_connection.id().cloned());
            }
            Live::NoBase => {}
            Live::Failed(_) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: --prune: sandbox {sandbox}: nothing is pruned there, because \
                     {} could not be planned (its flow is unknown)",
                    p.resolved.decl.at("table").key
                );
                return Ok(None);
            }
        }
    }
    let flows = state.connected.client.list_flows(FlowFilter::new())?;
    warn_unmarked(project, state, planned, &flows);
    let doomed: Vec<&Flow> = flows
        .iter()
        .filter(|f| live::is_marked_by(f.description.as_deref(), &project.project))
        .filter(|f| !declared.contains(&f.id))
        .collect();
    let kept = |f: &&Flow| !doomed.iter().any(|d| d.id == f.id);
    let prunes = doomed
        .iter()
        .map(|f| Prune {
            flow: (*f).clone(),
            sources: f
                .source_connection_ids
                .iter()
                .filter(|s| {
                    !kept_sources.contains(*s)
                        && !flows
                            .iter()
                            .filter(kept)
                            .any(|o| o.source_connection_ids.contains(s))
                })
                .cloned()
                .collect(),
            targets: f
                .target_connection_ids
                .iter()
                .filter(|t| {
                    !kept_targets.contains(*t)
                        && !flows
                            .iter()
                            .filter(kept)
                            .any(|o| o.target_connection_ids.contains(t))
                })
                .cloned()
                .collect(),
        })
        .collect();
    Ok(Some(prunes))
}

/// `--prune` knows this project's flows by their marker only. Warns about
/// the flows it can no longer recognise: a declared pipeline's flow without
/// the marker (removed in the UI, or made elsewhere), which would not be
/// pruned once it leaves the file; and an undeclared flow named as this
/// project names its flows (`TABLE to DATASET`, DATASET one of the
/// sandbox's) that carries no project's marker, which is not pruned.
fn warn_unmarked(
    project: &Project,
    state: &SandboxState<'_>,
    planned: &[PipelineLive<'_>],
    flows: &[Flow],
) {
    let sandbox = &state.connected.sandbox.name;
    let marker = live::marker(&project.project);
    let mut used: BTreeSet<&FlowId> = BTreeSet::new();
    for p in planned {
        let Live::Planned(plan) = &p.live else {
            continue;
        };
        let Some(id) = plan.flow_id() else { continue };
        used.insert(id);
        let Some(flow) = flows.iter().find(|f| &f.id == id) else {
            continue;
        };
        if !live::is_marked_by(flow.description.as_deref(), &project.project) {
            let _ = writeln!(
                std::io::stderr(),
                "warning: --prune: sandbox {sandbox}: {} uses flow {id}, whose description lacks \
                 this project's marker line `{marker}` (removed in the UI, or made elsewhere): \
                 once it leaves the file it can no longer be recognised as this project's and \
                 will not be pruned; put the line back in its description to keep it managed",
                p.resolved.decl.at("table").key
            );
        }
    }
    let dataset_names: BTreeSet<&str> = state.datasets.values().map(|d| d.name.as_str()).collect();
    for flow in flows {
        let description = flow.description.as_deref().unwrap_or("");
        if used.contains(&flow.id) || live::marked_project(description).is_some() {
            continue;
        }
        let named_as_ours = flow
            .name
            .rsplit_once(" to ")
            .is_some_and(|(table, dataset)| !table.is_empty() && dataset_names.contains(dataset));
        if named_as_ours {
            let _ = writeln!(
                std::io::stderr(),
                "warning: --prune: sandbox {sandbox}: flow {} ({:?}) is named as this project \
                 names its flows but carries no project marker: if this project made it (the \
                 marker removed in the UI), it can no longer be recognised as this project's and \
                 will not be pruned; delete it by hand (`pipeline delete`) if it is not wanted",
                flow.id,
                state.connected.client.scrubbed(&flow.name)
            );
        }
    }
}

/// A declared pipeline to create whose table another flow to prune reads
/// (the file moved it to another dataset), or whose dataset another flow
/// to prune feeds (the file put another table into it): the flow is
/// replaced, deleted first (a dataset has at most one dataflow), never
/// left running beside the new one. Index into the sandbox's prunes.
fn moved_from(p: &PipelineLive<'_>, prunes: &[Prune]) -> Option<usize> {
    let Live::Planned(plan) = &p.live else {
        return None;
    };
    if !matches!(plan.flow, FlowPlan::Create { .. }) {
        return None;
    }
    let source = plan.source_connection.id();
    let target = plan.target_connection.id();
    prunes.iter().position(|d| {
        source.is_some_and(|s| d.flow.source_connection_ids.contains(s))
            || target.is_some_and(|t| d.flow.target_connection_ids.contains(t))
    })
}

/// The row of a flow to prune.
pub fn prune_row(state: &SandboxState<'_>, p: &Prune) -> Row {
    let sandbox = &state.connected.sandbox.name;
    let mut changes = vec![format!("flow {:?}", p.flow.name)];
    changes.extend(p.sources.iter().map(|s| format!("source connection {s}")));
    changes.extend(p.targets.iter().map(|t| format!("target connection {t}")));
    let mut row = Row {
        sandbox: sandbox.to_owned(),
        connection: None,
        table: None,
        dataset: None,
        action: Action::Delete,
        changes,
        flow_id: Some(p.flow.id.to_string()),
        source_connection_id: p.sources.first().map(ToString::to_string),
        target_connection_id: p.targets.first().map(ToString::to_string),
        dataset_id: None,
        error: None,
    };
    scrub_changes(&mut row, &state.connected.client);
    row
}

/// Batches a day a schedule makes (`once`: none counted).
pub fn batches_per_day(s: &Schedule) -> f64 {
    let interval = f64::from(s.interval().unwrap_or(1).max(1));
    match s.frequency() {
        Some(Frequency::Minute) => 1440.0 / interval,
        Some(Frequency::Hour) => 24.0 / interval,
        Some(Frequency::Day) => 1.0 / interval,
        Some(Frequency::Week) => 1.0 / (7.0 * interval),
        _ => 0.0,
    }
}

/// The documented soft limit: Profile batches per sandbox per day.
pub const PROFILE_BATCHES_PER_DAY: f64 = 90.0;

/// The Profile guardrail of one sandbox: a warning naming the pipelines
/// when their planned batches into Profile-enabled datasets exceed 90 a
/// day.
pub fn profile_warning(state: &SandboxState<'_>) -> Option<String> {
    let feeding: Vec<_> = state
        .pipelines
        .iter()
        .filter(|p| p.dataset.profile_enabled && p.decl.enabled)
        .map(|p| (p, batches_per_day(&p.decl.schedule)))
        .filter(|(_, n)| *n > 0.0)
        .collect();
    let total: f64 = feeding.iter().map(|(_, n)| n).sum();
    if total <= PROFILE_BATCHES_PER_DAY {
        return None;
    }
    let names: Vec<String> = feeding
        .iter()
        .map(|(p, n)| {
            format!(
                "pipelines[{}] ({} → {}, {} a day)",
                p.decl.index,
                p.decl.table,
                p.decl.dataset,
                round(*n)
            )
        })
        .collect();
    Some(format!(
        "sandbox {}: {} batches a day are planned into Profile-enabled datasets, over the \
         documented guardrail of 90 a day: {}; schedule them less often (at most one batch per \
         dataset per day is Adobe's advice)",
        state.connected.sandbox.name,
        round(total),
        names.join(", ")
    ))
}

fn round(n: f64) -> String {
    if (n - n.round()).abs() < 1e-9 {
        format!("{}", n.round() as i64)
    } else {
        format!("{n:.2}")
    }
}

/// The counts of a plan (or an apply's rows).
#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub in_sync: usize,
    pub failed: usize,
}

impl Summary {
    pub fn of(rows: &[Row]) -> Summary {
        let mut s = Summary::default();
        for r in rows {
            match r.action {
                Action::InSync => s.in_sync += 1,
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
                Action::Error => s.failed += 1,
            }
        }
        s
    }

    pub fn line(&self) -> String {
        let mut line = format!(
            "{} to create, {} to update, {} to replace, {} to delete, {} in sync",
            self.create, self.update, self.replace, self.delete, self.in_sync
        );
        if self.failed > 0 {
            line.push_str(&format!(", {} could not be planned", self.failed));
        }
        line
    }

    pub fn pending(&self) -> bool {
        self.create + self.update + self.replace + self.delete > 0
    }
}

/// The file, the selected sandboxes and their live state, read before
/// anything is written; shared by `plan` and `apply`.
pub struct Session {
    pub project: Project,
    pub demo: Option<Demo>,
}

impl Session {
    /// Reads the file, checks the selection and every sandbox's
    /// credentials (or starts the demo), before anything is sent.
    pub fn open(
        program: &str,
        selection: &Selection,
        common: &Common,
    ) -> Result<(Session, Vec<aep_flow::Platform>, Vec<usize>), Failure> {
        let file = selection
            .file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE));
        let project = super::file::load(&file)?;
        project.scrub_its_secrets();
        let chosen: Vec<usize> = live::select(&project, &selection.sandboxes)?
            .into_iter()
            .map(|s| {
                project
                    .sandboxes
                    .iter()
                    .position(|d| d.name == s.name)
                    .expect("selected from the file")
            })
            .collect();
        let sandboxes: Vec<&super::SandboxDecl> =
            chosen.iter().map(|&i| &project.sandboxes[i]).collect();
        let (demo, platforms) = if common.demo {
            let state = demo::state_from_env()?;
            let demo = Demo::start(program, &state, common)?;
            let _ = writeln!(
                std::io::stderr(),
                "note: {program}: --demo: {}",
                demo::file_datasets_note()
            );
            let platforms = live::platforms(&project, &sandboxes, Some(&demo))?;
            (Some(demo), platforms)
        } else {
            (None, live::platforms(&project, &sandboxes, None)?)
        };
        Ok((Session { project, demo }, platforms, chosen))
    }
}

/// Everything read, per sandbox: the state and the plans.
pub struct Read<'p> {
    pub project: &'p Project,
    pub states: Vec<SandboxState<'p>>,
    pub planned: Vec<Vec<PipelineLive<'p>>>,
    pub prunes: Vec<Vec<Prune>>,
    /// Per sandbox and pipeline: the prune (index into `prunes`) the
    /// pipeline replaces, when the file moved its table to another dataset
    /// (`--prune` only). Such a prune is done by the pipeline's replace,
    /// not listed on its own.
    pub moved: Vec<Vec<Option<usize>>>,
}

/// Resolves every sandbox first (a bad dataset name stops the run before
/// any plan), then plans each, then (with `--prune`) lists what to prune.
pub fn read_all<'p>(
    project: &'p Project,
    connected: &'p [Connected<'p>],
    prune: bool,
) -> Result<Read<'p>, Failure> {
    let states = connected
        .iter()
        .map(|c| live::resolve(project, c))
        .collect::<Result<Vec<_>, _>>()?;
    let planned: Vec<Vec<PipelineLive<'p>>> =
        states.iter().map(|s| live::plan_all(project, s)).collect();
    let mut prunes = Vec::new();
    let mut moved = Vec::new();
    for (state, planned) in states.iter().zip(&planned) {
        let these = if prune {
            prunable(project, state, planned)?.unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut taken = BTreeSet::new();
        moved.push(
            planned
                .iter()
                .map(|p| moved_from(p, &these).filter(|i| taken.insert(*i)))
                .collect(),
        );
        prunes.push(these);
    }
    Ok(Read {
        project,
        states,
        planned,
        prunes,
        moved,
    })
}

impl Read<'_> {
    /// Every row, sandbox by sandbox, pipelines in file order then the
    /// flows to prune.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for (s, (state, prunes)) in self.states.iter().zip(&self.prunes).enumerate() {
            rows.extend((0..self.planned[s].len()).map(|i| self.row_of(s, i)));
            rows.extend(self.unpaired(s).map(|p| prune_row(state, &prunes[p])));
        }
        rows
    }

    /// The row of pipeline `i` of sandbox `s`: as planned, or, when the
    /// file moved its table to another dataset, a replace of the old flow.
    pub fn row_of(&self, s: usize, i: usize) -> Row {
        let state = &self.states[s];
        let p = &self.planned[s][i];
        let mut r = row(self.project, state, p);
        if let Some(old) = self.moved_prune(s, i) {
            let (old_table, old_dataset) = match old.flow.name.rsplit_once(" to ") {
                Some((t, d)) => (t, d),
                None => ("(another)", "(another)"),
            };
            let decl = p.resolved.decl;
            let same_target = match &p.live {
                Live::Planned(plan) => plan
                    .target_connection
                    .id()
                    .is_some_and(|t| old.flow.target_connection_ids.contains(t)),
                _ => false,
            };
            let (field, what) = if same_target {
                (
                    format!("table: {old_table} → {}", decl.table),
                    "reads another table into this dataset",
                )
            } else {
                (
                    format!("dataset: {old_dataset} → {}", decl.dataset),
                    "reads this table into another dataset",
                )
            };
            r.action = Action::Replace;
            r.flow_id = Some(old.flow.id.to_string());
            r.changes = vec![format!(
                "{field}: flow {} ({:?}) {what}; it is deleted first (with its connections no \
                 other flow uses), then the new flow is created",
                old.flow.id, old.flow.name
            )];
        }
        r
    }

    /// The flow pipeline `i` of sandbox `s` replaces, if the file moved it.
    pub fn moved_prune(&self, s: usize, i: usize) -> Option<&Prune> {
        self.moved[s][i].map(|p| &self.prunes[s][p])
    }

    /// The prunes of sandbox `s` that no pipeline replaces.
    pub fn unpaired(&self, s: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.prunes[s].len()).filter(move |p| !self.moved[s].contains(&Some(*p)))
    }

    /// The guardrail warnings, on stderr.
    pub fn warn(&self, program: &str) {
        for state in &self.states {
            if let Some(w) = profile_warning(state) {
                let _ = writeln!(std::io::stderr(), "warning: {program}: {w}");
            }
        }
        for planned in &self.planned {
            for p in planned {
                if let Live::Planned(plan) = &p.live {
                    for w in &plan.warnings {
                        let _ = writeln!(
                            std::io::stderr(),
                            "warning: {program}: {}: {w}",
                            p.resolved.decl.at("table").key
                        );
                    }
                }
            }
        }
    }
}

pub fn run(args: PlanArgs, common: &Common, out: &mut Output) -> Result<(), Failure> {
    let detailed = args.detailed_exitcode;
    let result = plan(&args.selection, common, out);
    match result {
        // Terraform's codes: bad input is an error like any other.
        Err(Failure(2, m)) if detailed => Err(Failure(1, m)),
        Ok(summary) if detailed && summary.failed > 0 => Err(Failure(
            1,
            "error: plan: some pipelines could not be planned (see above)".into(),
        )),
        Ok(summary) if summary.failed > 0 => Err(Failure(
            1,
            "error: plan: some pipelines could not be planned (see above)".into(),
        )),
        Ok(summary) if detailed && summary.pending() => Err(Failure(2, String::new())),
        Ok(_) => Ok(()),
        Err(f) => Err(f),
    }
}

fn plan(selection: &Selection, common: &Common, out: &mut Output) -> Result<Summary, Failure> {
    let (session, platforms, chosen) = Session::open("plan", selection, common)?;
    let project = &session.project;
    let sandboxes: Vec<&super::SandboxDecl> =
        chosen.iter().map(|&i| &project.sandboxes[i]).collect();
    let connected = live::connect(&sandboxes, platforms, common)?;
    let read = read_all(project, &connected, selection.prune)?;
    read.warn("plan");
    let rows = read.rows();
    let summary = Summary::of(&rows);
    for r in &rows {
        if selection.json {
            out.line(&to_json(r)?)?;
        } else {
            out.line(&r.text())?;
        }
    }
    if selection.json {
        out.line(&to_json(&summary)?)?;
    } else {
        out.line(&summary.line())?;
    }
    drop(session);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_per_day_by_frequency() {
        let start = 1_767_225_600;
        let every = |f, i| Schedule::every(f, i, start).unwrap();
        assert_eq!(batches_per_day(&every(Frequency::Minute, 15)), 96.0);
        assert_eq!(batches_per_day(&every(Frequency::Hour, 1)), 24.0);
        assert_eq!(batches_per_day(&every(Frequency::Day, 1)), 1.0);
        assert!((batches_per_day(&every(Frequency::Week, 1)) - 1.0 / 7.0).abs() < 1e-9);
        assert_eq!(batches_per_day(&Schedule::once(start)), 0.0);
    }

    #[test]
    fn the_marker_is_parsed_exactly() {
        use live::{is_marked_by, marked_project, marker};
        assert_eq!(marker("crm-ingest"), "aep-flow project: crm-ingest");
        assert!(is_marked_by(
            Some("aep-flow project: crm-ingest"),
            "crm-ingest"
        ));
        assert!(!is_marked_by(
            Some("aep-flow project: crm-ingest-2"),
            "crm-ingest"
        ));
        assert!(!is_marked_by(
            Some("aep-flow project: crm-ingest "),
            "crm-ingest"
        ));
        assert!(!is_marked_by(Some("aep-flow project: crm"), "crm-ingest"));
        assert!(!is_marked_by(
            Some("x aep-flow project: crm-ingest"),
            "crm-ingest"
        ));
        assert!(!is_marked_by(None, "crm-ingest"));
        assert_eq!(
            marked_project("made by hand\naep-flow project: a.b\r\n"),
            Some("a.b")
        );
    }
}
