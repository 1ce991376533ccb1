//! One sandbox's live state for the file, read the same way by `plan`,
//! `apply` (and `check`): a client per sandbox, the declared base
//! connections found by name, the dataset names resolved by one Catalog
//! listing, then per pipeline a [`PipelineSpec`] and the library's plan
//! ([`Client::plan_pipeline`]).
//!
//! Economy: per sandbox, one listing per declared base connection used
//! there and one (paged) Catalog listing; per pipeline, the plan's lookups
//! (four requests for a pipeline in sync). A pipeline whose base
//! connection does not exist yet is "create" without asking the service.
//!
//! Nothing here writes.

use std::collections::BTreeMap;

use aep_flow::{
    Client, Connection, ConnectionFilter, ConnectionId, DatasetFilter, DatasetId, Error, Mapping,
    PipelinePlan, PipelineSpec, Platform,
};

use super::{ConnectionDecl, PipelineDecl, Project, SandboxDecl};
use crate::env::{Common, Failure, Usage};

/// What starts the line of a flow's description that names the project
/// that made it (`aep-flow project: crm-ingest`).
pub const MARKER_PREFIX: &str = "aep-flow project: ";

/// The description every flow this file creates carries: the marker line.
pub fn marker(project: &str) -> String {
    format!("{MARKER_PREFIX}{project}")
}

/// The project a description marks: the rest of the first line that
/// starts with [`MARKER_PREFIX`], exactly (no trimming but a line end's
/// `\r`), so that `crm-ingest-2` is never `crm-ingest`.
pub fn marked_project(description: &str) -> Option<&str> {
    description.lines().find_map(|l| {
        l.strip_suffix('\r')
            .unwrap_or(l)
            .strip_prefix(MARKER_PREFIX)
    })
}

/// Whether `description` carries `project`'s marker.
pub fn is_marked_by(description: Option<&str>, project: &str) -> bool {
    description.and_then(marked_project) == Some(project)
}

/// A dataset as the file needs it: its id in this sandbox, its name, and
/// whether it feeds Profile (for the 90-batches-a-day guardrail).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetEntry {
    /// Catalog's id, in this sandbox.
    pub id: DatasetId,
    /// Its name (what the file says).
    pub name: String,
    /// `tags.unifiedProfile` holds `enabled:true`.
    pub profile_enabled: bool,
}

/// A sandbox of the file and the client that reaches it.
pub struct Connected<'p> {
    /// The sandbox as declared.
    pub sandbox: &'p SandboxDecl,
    /// Its client (requests carry its `x-sandbox-name`).
    pub client: Client,
}

/// The sandboxes named by `--sandbox` (each must be declared), else every
/// declared one, in file order.
pub fn select<'p>(project: &'p Project, names: &[String]) -> Result<Vec<&'p SandboxDecl>, Usage> {
    if names.is_empty() {
        return Ok(project.sandboxes.iter().collect());
    }
    let mut chosen = Vec::new();
    for name in names {
        let Some(s) = project.sandboxes.iter().find(|s| &s.name == name) else {
            let declared: Vec<&str> = project.sandboxes.iter().map(|s| s.name.as_str()).collect();
            return Err(Usage(format!(
                "--sandbox {:?}: {} declares no such sandbox (it declares {})",
                name.escape_debug().to_string(),
                project.shown_file(),
                if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.join(", ")
                }
            )));
        };
        if !chosen.iter().any(|c: &&SandboxDecl| c.name == s.name) {
            chosen.push(s);
        }
    }
    // File order, whatever the order on the command line.
    chosen.sort_by_key(|s| s.at.line);
    Ok(chosen)
}

/// The platform of each selected sandbox: from its credentials prefix, or
/// (with `--demo`) the demo fake's for that sandbox. Every sandbox's
/// variables are read and checked before anything is sent.
pub fn platforms(
    project: &Project,
    sandboxes: &[&SandboxDecl],
    demo: Option<&crate::demo::Demo>,
) -> Result<Vec<Platform>, Failure> {
    sandboxes
        .iter()
        .map(|s| match demo {
            Some(demo) => Ok(demo.platform_for(&s.name)),
            None => Ok(super::creds::platform_for(s, project)?),
        })
        .collect()
}

/// A client per sandbox.
pub fn connect<'p>(
    sandboxes: &[&'p SandboxDecl],
    platforms: Vec<Platform>,
    common: &Common,
) -> Result<Vec<Connected<'p>>, Failure> {
    sandboxes
        .iter()
        .zip(platforms)
        .map(|(s, p)| {
            Ok(Connected {
                sandbox: s,
                client: common.client(p)?,
            })
        })
        .collect()
}

/// A declared base connection in one sandbox: found by name, or missing.
#[derive(Clone, Debug)]
pub struct Base<'p> {
    /// As declared.
    pub decl: &'p ConnectionDecl,
    /// The PostgreSQL connection of that name; `None` when there is none.
    pub found: Option<Connection>,
}

/// One pipeline in one sandbox, resolved: its dataset, and the spec (once
/// the base connection exists).
#[derive(Clone, Debug)]
pub struct Resolved<'p> {
    /// As declared.
    pub decl: &'p PipelineDecl,
    /// Its dataset in this sandbox.
    pub dataset: DatasetEntry,
}

/// One sandbox's state for the file, before the per-pipeline plans.
pub struct SandboxState<'p> {
    /// The sandbox, its client.
    pub connected: &'p Connected<'p>,
    /// The base connections its pipelines use, in file order.
    pub bases: Vec<Base<'p>>,
    /// Its pipelines, in file order.
    pub pipelines: Vec<Resolved<'p>>,
    /// Catalog's datasets, by id (for names and guardrails).
    pub datasets: BTreeMap<DatasetId, DatasetEntry>,
    /// Pipelines whose dataset name matches no dataset, and why: only
    /// with [`resolve_tolerating_missing_datasets`] (`check` reports them
    /// missing); [`resolve`] refuses them.
    pub without_dataset: Vec<(&'p PipelineDecl, String)>,
}

impl<'p> SandboxState<'p> {
    /// The base connection named `name`, as found.
    pub fn base(&self, name: &str) -> Option<&Base<'p>> {
        self.bases.iter().find(|b| b.decl.name == name)
    }
}

/// Reads one sandbox's base connections (by name, one listing each) and
/// datasets (one Catalog listing), and resolves every pipeline's dataset
/// name. A name matching no dataset or two, a base connection that is not
/// PostgreSQL or is there twice: an input error naming the file, the line
/// and the key (exit 2), nothing written.
pub fn resolve<'p>(
    project: &'p Project,
    connected: &'p Connected<'p>,
) -> Result<SandboxState<'p>, Failure> {
    resolve_with(project, connected, false)
}

/// [`resolve`] for `check`: a dataset name that matches no dataset in the
/// sandbox is not an input error but the pipeline's state (missing), its
/// reason in [`SandboxState::without_dataset`]. Everything else is as
/// [`resolve`] (a name matching two datasets is still exit 2).
pub fn resolve_tolerating_missing_datasets<'p>(
    project: &'p Project,
    connected: &'p Connected<'p>,
) -> Result<SandboxState<'p>, Failure> {
    resolve_with(project, connected, true)
}

fn resolve_with<'p>(
    project: &'p Project,
    connected: &'p Connected<'p>,
    missing_ok: bool,
) -> Result<SandboxState<'p>, Failure> {
    let sandbox = &connected.sandbox.name;
    let client = &connected.client;
    let mut bases: Vec<Base<'p>> = Vec::new();
    for p in project.pipelines_in(sandbox) {
        if bases.iter().any(|b| b.decl.name == p.connection) {
            continue;
        }
        let Some(decl) = project.connection(&p.connection) else {
            return Err(project
                .error_at(
                    &p.at("connection"),
                    format!(
                        "names connection {:?}, which [connections] does not declare",
                        p.connection
                    ),
                )
                .into());
        };
        let found = find_base(project, decl, sandbox, client)?;
        bases.push(Base { decl, found });
    }
    let listed = if project.pipelines_in(sandbox).next().is_some() {
        sandbox_datasets(client)?
    } else {
        Vec::new()
    };
    let mut by_name: BTreeMap<&str, Vec<&DatasetEntry>> = BTreeMap::new();
    for d in &listed {
        by_name.entry(d.name.as_str()).or_default().push(d);
    }
    let mut pipelines = Vec::new();
    let mut without_dataset = Vec::new();
    for p in project.pipelines_in(sandbox) {
        let dataset = match by_name.get(p.dataset.as_str()).map(Vec::as_slice) {
            Some([one]) => (*one).clone(),
            None | Some([]) => {
                let why = format!(
                    "no dataset named {:?} in sandbox {sandbox} (Catalog lists {} dataset{})",
                    p.dataset,
                    listed.len(),
                    if listed.len() == 1 { "" } else { "s" }
                );
                if missing_ok {
                    without_dataset.push((p, why));
                    continue;
                }
                return Err(project
                    .error_at(
                        &p.at("dataset"),
                        format!(
                            "{why}{}; create it, or name an existing one",
                            near(p, &listed)
                        ),
                    )
                    .into());
            }
            Some(many) => {
                let ids: Vec<&str> = many.iter().map(|d| d.id.as_str()).collect();
                return Err(project
                    .error_at(
                        &p.at("dataset"),
                        format!(
                            "{} datasets are named {:?} in sandbox {sandbox} ({}); a name must \
                             match exactly one: rename the others",
                            many.len(),
                            p.dataset,
                            ids.join(", ")
                        ),
                    )
                    .into());
            }
        };
        pipelines.push(Resolved { decl: p, dataset });
    }
    let datasets = listed.into_iter().map(|d| (d.id.clone(), d)).collect();
    Ok(SandboxState {
        connected,
        bases,
        pipelines,
        datasets,
        without_dataset,
    })
}

/// For a dataset name that matches none: the datasets whose names differ
/// from it only in case, white space, punctuation or accents (Unicode
/// composed or decomposed look alike but are other names to Catalog),
/// both names shown with every character beyond ASCII as `\u{..}`.
fn near(p: &PipelineDecl, listed: &[DatasetEntry]) -> String {
    let want = name_skeleton(&p.dataset);
    if want.is_empty() {
        return String::new();
    }
    let alike: Vec<String> = listed
        .iter()
        .filter(|d| name_skeleton(&d.name) == want)
        .map(|d| format!("\"{}\" ({})", ascii_shown(&d.name), d.id))
        .collect();
    if alike.is_empty() {
        return String::new();
    }
    format!(
        "; Catalog has {}, which differs from \"{}\" only in case, white space, punctuation or \
         accents: name it exactly as Catalog does",
        alike.join(", "),
        ascii_shown(&p.dataset)
    )
}

/// `s` with `"`, `\\` and every character beyond printable ASCII escaped
/// (`\u{301}`), so that names that look alike show how they differ.
fn ascii_shown(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    out
}

/// The base connection named as declared: one listing by name. Two, or
/// one that is not PostgreSQL, is an input error naming it.
fn find_base(
    project: &Project,
    decl: &ConnectionDecl,
    sandbox: &str,
    client: &Client,
) -> Result<Option<Connection>, Failure> {
    let named: Vec<Connection> = client
        .list_connections(ConnectionFilter::new().with_name(&decl.name))?
        .into_iter()
        .filter(|c| c.name == decl.name)
        .collect();
    match named.as_slice() {
        [] => Ok(None),
        [one]
            if one.connection_spec_id.as_deref()
                == Some(aep_flow::spec::POSTGRES_CONNECTION_SPEC_ID) =>
        {
            Ok(Some(one.clone()))
        }
        [one] => Err(project
            .error_at(
                &decl.at,
                format!(
                    "connection {:?} in sandbox {sandbox} ({}) is not a PostgreSQL connection \
                     (its connection spec is {}); rename it or this declaration",
                    decl.name,
                    one.id,
                    one.connection_spec_id.as_deref().unwrap_or("not given")
                ),
            )
            .into()),
        many => {
            let ids: Vec<&str> = many.iter().map(|c| c.id.as_str()).collect();
            Err(project
                .error_at(
                    &decl.at,
                    format!(
                        "{} connections are named {:?} in sandbox {sandbox} ({}); the name must \
                         match one: delete or rename the others",
                        many.len(),
                        decl.name,
                        ids.join(", ")
                    ),
                )
                .into())
        }
    }
}

/// Every dataset of the sandbox: one Catalog listing (paged).
fn sandbox_datasets(client: &Client) -> Result<Vec<DatasetEntry>, Error> {
    let listed = client.list_datasets(DatasetFilter::new())?;
    Ok(listed
        .into_iter()
        // A dataset without a name cannot be named by the file.
        .filter_map(|d| {
            Some(DatasetEntry {
                name: d.name?,
                id: d.id,
                profile_enabled: d.profile_enabled,
            })
        })
        .collect())
}

/// The longest flow name made up here (the service takes 256).
const MAX_NAME_CHARS: usize = 256;

/// The spec of `pipeline` in a sandbox where its base connection is
/// `base`: every field of the file, the flow's name
/// (`TABLE to DATASET`) and the project's marker as its description.
/// `enable` is the file's `enabled` (apply), or `true` for a plan (so
/// that the plan says whether the flow is disabled; see
/// [`PipelineLive::enabled_now`]).
pub fn spec(
    project: &Project,
    p: &Resolved<'_>,
    base: &ConnectionId,
    enable: bool,
) -> PipelineSpec {
    let name = flow_name(p.decl);
    PipelineSpec::new()
        .with_base_connection_id(base.clone())
        .with_table_path(&p.decl.table)
        .with_dataset_id(p.dataset.id.clone())
        .with_mappings(
            p.decl
                .mappings
                .iter()
                .map(|(column, path)| Mapping::new(column, path)),
        )
        .with_delta_column(&p.decl.delta_column)
        .with_schedule(p.decl.schedule)
        .with_name(name)
        .with_description(marker(&project.project))
        .with_enable(enable)
}

/// The name this file gives the flow of `decl`: `TABLE to DATASET`
/// (control characters left out, at most 256 characters).
pub fn flow_name(decl: &PipelineDecl) -> String {
    format!("{} to {}", decl.table, decl.dataset)
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect()
}

/// The existing flow's name and the one the file gives it, when they
/// differ ([`name_skeleton`]: not merely as a service normalises text)
/// and the flow carries `project`'s marker (this project made it,
/// and named it: a rename in the UI is drift). A flow without the marker
/// (made by hand or by another tool, adopted by `export`) keeps the name
/// it has.
pub fn rename(project: &Project, p: &PipelineLive<'_>) -> Option<(String, String)> {
    let Live::Planned(plan) = &p.live else {
        return None;
    };
    let aep_flow::FlowPlan::Update(u) = &plan.flow else {
        return None;
    };
    if !is_marked_by(u.description.as_deref(), &project.project) {
        return None;
    }
    let want = flow_name(p.resolved.decl);
    names_differ(&u.name, &want).then(|| (u.name.clone(), want))
}

/// Whether a flow named `have` must be renamed to `want`: they differ
/// other than as a service normalises text ([`name_skeleton`]).
pub fn names_differ(have: &str, want: &str) -> bool {
    name_skeleton(have) != name_skeleton(want)
}

/// What of a flow name is compared: its ASCII letters (lower-cased) and
/// digits, in order. A service that stores names normalised otherwise
/// (Unicode composed or decomposed, white space trimmed or collapsed,
/// another case, punctuation) must not make a rename on every run: such
/// differences are not drift. A letter followed by a combining mark is
/// left out with it (`e` + U+0301 is `é`, which is left out whole).
fn name_skeleton(name: &str) -> String {
    let mut out = String::new();
    let mut last_pushed = false;
    for c in name.chars() {
        if is_combining_mark(c) {
            if last_pushed {
                out.pop();
            }
            last_pushed = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            last_pushed = true;
        } else {
            last_pushed = false;
        }
    }
    out
}

/// The blocks of combining marks (diacritics) decomposed text uses.
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// What one pipeline is in one sandbox.
#[derive(Debug)]
pub enum Live {
    /// Its base connection does not exist: everything is to be created
    /// (the service was not asked).
    NoBase,
    /// The library's plan, made with `enable` set (see
    /// [`PipelineLive::enabled_now`]).
    Planned(Box<PipelinePlan>),
    /// The plan failed (a missing table or column, a mapping that does
    /// not validate, the service).
    Failed(Error),
}

/// One pipeline in one sandbox: resolved, and planned.
#[derive(Debug)]
pub struct PipelineLive<'p> {
    /// The pipeline and its dataset.
    pub resolved: Resolved<'p>,
    /// What it is.
    pub live: Live,
}

impl PipelineLive<'_> {
    /// Whether the existing flow is enabled: the plan is made asking to
    /// enable it, so it says when it is not. `None` when no flow exists.
    pub fn enabled_now(&self) -> Option<bool> {
        match &self.live {
            Live::Planned(plan) => match &plan.flow {
                aep_flow::FlowPlan::Update(u) => Some(u.enable.is_none()),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Plans every pipeline of the sandbox (the library's plan, four requests
/// for one in sync).
pub fn plan_all<'p>(project: &'p Project, state: &SandboxState<'p>) -> Vec<PipelineLive<'p>> {
    state
        .pipelines
        .iter()
        .map(|r| PipelineLive {
            resolved: r.clone(),
            live: plan_one(project, state, r),
        })
        .collect()
}

/// One pipeline's plan.
pub fn plan_one(project: &Project, state: &SandboxState<'_>, r: &Resolved<'_>) -> Live {
    let Some(base) = state
        .base(&r.decl.connection)
        .and_then(|b| b.found.as_ref())
    else {
        return Live::NoBase;
    };
    let spec = spec(project, r, &base.id, true);
    match state.connected.client.plan_pipeline(&spec) {
        Ok(plan) => Live::Planned(Box::new(plan)),
        Err(e) => Live::Failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::name_skeleton;

    #[test]
    fn names_normalised_by_the_service_have_one_skeleton() {
        let nfc = "ventes.donn\u{e9}es to Caf\u{e9} \u{fc}n\u{ef}";
        let nfd = "ventes.donne\u{301}es  to Cafe\u{301} u\u{308}ni\u{308} ";
        assert_eq!(name_skeleton(nfc), name_skeleton(nfd));
        assert_eq!(name_skeleton(nfc), "ventesdonnestocafn");
        assert_eq!(
            name_skeleton("public.orders to Orders"),
            name_skeleton("PUBLIC.ORDERS TO ORDERS")
        );
        assert_ne!(
            name_skeleton("public.orders to Orders"),
            name_skeleton("Orders (renamed in the UI)")
        );
        assert_ne!(
            name_skeleton("ventes to Caf\u{e9} 2"),
            name_skeleton("ventes to Caf\u{e9}")
        );
    }
}
