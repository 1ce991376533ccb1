//! `aep-flow export --sandbox NAME [-f FILE] [--connection NAME]...`:
//! every PostgreSQL dataflow of a sandbox, written as a declarative file
//! that [`load`](super::file::load) accepts and that plans in sync. This
//! is how a team adopts what it already has (made in the UI, or by other
//! tools).
//!
//! Nothing secret is written: passwords become `password_env`
//! placeholders; what the service does not show (a connection's host,
//! database and user sit in its masked credentials) is written as a
//! visible placeholder with a comment, unless the file declares the
//! connection already.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use aep_flow::{
    AuthSpec, Client, Connection, ConnectionFilter, DatasetId, FlowFilter, FlowState, Frequency,
    MappingSourceType, Schedule, SourceConnectionFilter, TargetConnectionFilter,
};
use clap::Args;

use super::file::{format_utc, is_env_name, is_sandbox_name, is_unsafe_char, name_problem};
use super::{creds, live, At, ConnectionDecl, PipelineDecl, Project, SandboxDecl, DEFAULT_FILE};
use crate::env::{platform_from_prefix, Common, CredsError, Failure, SandboxFrom, Usage};
use crate::output::Output;
use crate::target::Target;

/// Written where the service shows no value (masked credentials).
pub const PLACEHOLDER: &str = "CHANGE-ME";

/// `export`'s flags.
#[derive(Args)]
pub struct ExportArgs {
    /// The sandbox to read (its `x-sandbox-name`).
    #[arg(long, value_name = "NAME")]
    sandbox: String,
    /// The declarative file (default aep-flow.toml, when it exists): its
    /// project name, the sandbox's credentials prefix, the connections it
    /// declares.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Only flows on this base connection (by name); repeatable.
    #[arg(long = "connection", value_name = "NAME")]
    connections: Vec<String>,
}

pub const HELP: &str = "export --sandbox NAME [-f FILE] [--connection NAME]...
  writes to stdout a declarative file (TOML) declaring every PostgreSQL dataflow of the
  sandbox: its tables, datasets by name, schedules, mappings, enabled state. Credentials
  come from the file's [sandboxes.NAME] (FILE, default aep-flow.toml if it exists),
  else from the plain AEP_* variables (AEP_SANDBOX_NAME, if set, must be NAME).
  Passwords are never written: each connection gets a password_env variable name;
  what the service masks is written as CHANGE-ME with a comment.
  stderr names what the file cannot say: each flow left out (with the reason), and
  each flow carrying the project's marker whose name is not `TABLE to DATASET`
  (renamed in the UI: plan shows the rename, apply names it back).";

pub fn run(args: ExportArgs, common: &Common, out: &mut Output) -> Result<(), Failure> {
    if !is_sandbox_name(&args.sandbox) {
        return Err(Usage(
            "--sandbox must be a sandbox name: 1 to 256 lowercase letters, digits and `-`".into(),
        )
        .into());
    }
    for c in &args.connections {
        if c.is_empty() || c.chars().any(char::is_control) {
            return Err(Usage(
                "--connection must be a connection name (no control characters)".into(),
            )
            .into());
        }
    }
    // The file: -f given must exist; the default only when it does.
    let project = match &args.file {
        Some(path) => Some(super::file::load(path)?),
        None => {
            let path = PathBuf::from(DEFAULT_FILE);
            if path.exists() {
                Some(super::file::load(&path)?)
            } else {
                None
            }
        }
    };
    if let Some(p) = &project {
        p.scrub_its_secrets();
    }
    let declared = project
        .as_ref()
        .and_then(|p| p.sandboxes.iter().find(|s| s.name == args.sandbox));
    let (platform, demo) = if common.demo {
        // The demo fake serves every sandbox, each with state of its own.
        let target = Target::from_env("aep-flow", common)?;
        let platform = match &target.demo {
            Some(demo) => demo.platform_for(&args.sandbox),
            None => target.platform,
        };
        (platform, target.demo)
    } else {
        let platform = match (declared, &project) {
            (Some(s), Some(p)) => creds::platform_for(s, p)?,
            _ => plain_platform(&args.sandbox)?,
        };
        (platform, None)
    };
    let client = common.client(platform)?;
    let _demo = demo;
    let mut warn = |m: String| {
        let _ = writeln!(std::io::stderr(), "warning: export: {m}");
    };
    let exported = export(
        &client,
        &args.sandbox,
        project.as_ref(),
        &args.connections,
        &mut warn,
    )?;
    out.line(exported.trim_end())
}

/// The plain `AEP_*` contract, the sandbox from `--sandbox`
/// (`AEP_SANDBOX_NAME` must agree or be unset).
fn plain_platform(sandbox: &str) -> Result<aep_flow::Platform, Usage> {
    platform_from_prefix("AEP", SandboxFrom::Declared(sandbox)).map_err(|e| match e {
        CredsError::NoneSet => Usage(format!(
            "no Platform credentials for sandbox {sandbox}: declare it in the file \
             ([sandboxes.{sandbox}] credentials = PREFIX), or set AEP_ACCESS_TOKEN (or \
             AEP_CLIENT_ID, AEP_CLIENT_SECRET and AEP_SCOPES), AEP_API_KEY and AEP_ORG_ID, \
             or pass --demo"
        )),
        CredsError::Missing { missing, .. } => Usage(format!(
            "missing Platform credentials: set {}",
            missing.join(", ")
        )),
        CredsError::SandboxConflict(var) => Usage(format!(
            "{var} names another sandbox than --sandbox {sandbox}: unset it or make them agree"
        )),
        CredsError::Bad(u) => u,
    })
}

/// Reads the sandbox's PostgreSQL dataflows and renders the file.
/// `warn` gets what the file cannot say exactly: each flow left out, with
/// the reason (not a PostgreSQL flow, no schedule, no mapping set, a
/// dataset or base connection that is gone, a name the file refuses, a
/// second flow into one dataset), a state other than enabled or disabled,
/// shared names, a flow of this project renamed (apply names it back).
pub fn export(
    client: &Client,
    sandbox: &str,
    file: Option<&Project>,
    only: &[String],
    warn: &mut dyn FnMut(String),
) -> Result<String, aep_flow::Error> {
    // Every base connection, PostgreSQL or not: a flow from another source
    // is named as such, not mistaken for one whose connection is gone.
    let bases: BTreeMap<String, Connection> = client
        .list_connections(ConnectionFilter::new())?
        .into_iter()
        .map(|c| (c.id.as_str().to_owned(), c))
        .collect();
    let is_postgres = |c: &Connection| {
        c.connection_spec_id.as_deref() == Some(aep_flow::spec::POSTGRES_CONNECTION_SPEC_ID)
    };
    // Base connection names used twice cannot be told apart by name.
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for c in bases.values().filter(|c| is_postgres(c)) {
        *names.entry(c.name.as_str()).or_default() += 1;
    }
    let sources: BTreeMap<String, aep_flow::SourceConnection> = client
        .list_source_connections(SourceConnectionFilter::new())?
        .into_iter()
        .map(|s| (s.id.as_str().to_owned(), s))
        .collect();
    let targets: BTreeMap<String, aep_flow::TargetConnection> = client
        .list_target_connections(TargetConnectionFilter::new())?
        .into_iter()
        .map(|t| (t.id.as_str().to_owned(), t))
        .collect();
    let mut flows = client.list_flows(FlowFilter::new())?;
    // Oldest first: of twin flows, the one `ensure_pipeline` converges.
    flows.sort_by_key(|f| (f.created_at.unwrap_or(i64::MAX), f.id.as_str().to_owned()));

    let project_name = file.map_or_else(|| export_project_name(sandbox), |p| p.project.clone());
    let mut dataset_names: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut used: Vec<&Connection> = Vec::new();
    let mut pipelines: Vec<PipelineDecl> = Vec::new();
    for flow in &flows {
        let what = format!("flow {}", flow.id);
        let left_out = |warn: &mut dyn FnMut(String), why: String| {
            warn(format!("{what}: left out: {why}"));
        };
        // Before the base connection's name is known, a flow is named only
        // when no --connection narrows the export.
        let Some(source_id) = flow.source_connection_ids.first() else {
            if only.is_empty() {
                left_out(warn, "it names no source connection".into());
            }
            continue;
        };
        let Some(source) = sources.get(source_id.as_str()) else {
            if only.is_empty() {
                left_out(
                    warn,
                    format!("its source connection {source_id} is not listed"),
                );
            }
            continue;
        };
        let Some(base_id) = source.base_connection_id.as_ref() else {
            if only.is_empty() {
                left_out(
                    warn,
                    "its source connection has no base connection: not a PostgreSQL flow".into(),
                );
            }
            continue;
        };
        let Some(base) = bases.get(base_id.as_str()) else {
            if only.is_empty() {
                left_out(
                    warn,
                    format!(
                        "its base connection {base_id} no longer exists (the file names a \
                         connection by its name)"
                    ),
                );
            }
            continue;
        };
        if !only.is_empty() && !only.contains(&base.name) {
            continue;
        }
        if !is_postgres(base) {
            left_out(
                warn,
                format!(
                    "not a PostgreSQL flow: its base connection {} is of connection spec {}",
                    base.id,
                    shown(base.connection_spec_id.as_deref().unwrap_or("(none)"))
                ),
            );
            continue;
        }
        if let Some(rule) = name_problem(&base.name) {
            left_out(
                warn,
                format!(
                    "its base connection {} has a name the file cannot take ({}): a name {rule}",
                    base.id,
                    shown(&base.name)
                ),
            );
            continue;
        }
        if names.get(base.name.as_str()).copied().unwrap_or(0) > 1 {
            warn(format!(
                "{what}: base connection name {} is shared by several base connections: \
                 the file names connections by name, so plan will see only one of them",
                shown(&base.name)
            ));
        }
        let Some(table) = source.table_name.clone().filter(|t| !t.is_empty()) else {
            left_out(warn, "its source connection names no table".into());
            continue;
        };
        if let Some(rule) = name_problem(&table) {
            left_out(
                warn,
                format!(
                    "its table {} is a name the file cannot take: a table {rule}",
                    shown(&table)
                ),
            );
            continue;
        }
        // A listing may leave out what the file needs (a service that
        // shortens listed items): a flow listed without transformations or
        // a readable schedule is read again by id (one request, only then)
        // before it is left out for want of them.
        let reread;
        let flow = if flow.transformations.is_empty() || flow.schedule.is_none() {
            reread = match client.get_flow(&flow.id) {
                Ok(f) => f,
                Err(e) if e.is_not_found() => {
                    left_out(warn, "it was deleted while the export read it".into());
                    continue;
                }
                Err(e) => return Err(e),
            };
            &reread
        } else {
            flow
        };
        let Some(schedule) = flow.schedule else {
            left_out(
                warn,
                "it has no schedule the file can declare (a streaming or unscheduled flow; the \
                 file declares scheduled batch flows)"
                    .into(),
            );
            continue;
        };
        if frequency_word(&schedule).is_none() {
            left_out(
                warn,
                "its schedule's frequency is not one the file declares".into(),
            );
            continue;
        }
        let Some(target) = flow
            .target_connection_ids
            .first()
            .and_then(|id| targets.get(id.as_str()))
        else {
            left_out(warn, "its target connection is not listed".into());
            continue;
        };
        let Some(dataset_id) = target.dataset_id.clone() else {
            left_out(warn, "its target connection names no dataset".into());
            continue;
        };
        let Some(delta_column) = flow.delta_column().map(str::to_owned) else {
            left_out(warn, "it has no delta column".into());
            continue;
        };
        if delta_column.is_empty() || delta_column.chars().any(is_unsafe_char) {
            left_out(
                warn,
                "its delta column is empty or holds control or invisible characters".into(),
            );
            continue;
        }
        let Some((_, mapping_id, version)) = flow.mapping() else {
            left_out(
                warn,
                "it has no mapping set (the file declares each pipeline's mappings)".into(),
            );
            continue;
        };
        let set = match client.get_mapping_set_version(&mapping_id, version) {
            Ok(set) => set,
            Err(e) if e.is_not_found() => {
                left_out(
                    warn,
                    format!("its mapping set {mapping_id} (version {version}) is not found"),
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        if set
            .mappings
            .iter()
            .any(|m| m.source_type() != MappingSourceType::Attribute)
        {
            left_out(
                warn,
                "its mapping set uses expressions, which the file cannot declare".into(),
            );
            continue;
        }
        let mappings: Vec<(String, String)> = set
            .mappings
            .iter()
            .map(|m| (m.source().to_owned(), m.destination().to_owned()))
            .collect();
        if let Some(why) = mappings_problem(&mappings) {
            left_out(warn, why);
            continue;
        }
        let dataset = match dataset_names.get(dataset_id.as_str()) {
            Some(n) => n.clone(),
            None => {
                let name = dataset_name(client, &dataset_id, warn)?;
                dataset_names.insert(dataset_id.as_str().to_owned(), name.clone());
                name
            }
        };
        let Some(dataset) = dataset else {
            left_out(
                warn,
                format!(
                    "its dataset {dataset_id} is not found in Catalog, or has no name (the file \
                     names datasets by name)"
                ),
            );
            continue;
        };
        if let Some(rule) = name_problem(&dataset) {
            left_out(
                warn,
                format!(
                    "its dataset {dataset_id} has a name the file cannot take ({}): a name {rule}",
                    shown(&dataset)
                ),
            );
            continue;
        }
        if let Some(twin) = pipelines.iter().find(|p| p.dataset == dataset) {
            let why = if twin.connection == base.name && twin.table == table {
                format!(
                    "it is a twin of pipelines[{}] (same connection, table and dataset)",
                    twin.index
                )
            } else {
                format!(
                    "it writes into the dataset of pipelines[{}] ({}), and the file takes one \
                     dataflow per dataset",
                    twin.index,
                    shown(&dataset)
                )
            };
            left_out(warn, why);
            continue;
        }
        let enabled = match &flow.state {
            FlowState::Enabled => true,
            FlowState::Disabled => false,
            other => {
                let state = match other {
                    FlowState::Other(s) => s.clone(),
                    s => s.to_string(),
                };
                warn(format!(
                    "{what}: its state {} is neither enabled nor disabled: exported with \
                     enabled = false",
                    shown(&state)
                ));
                false
            }
        };
        if !used.iter().any(|c| c.name == base.name) {
            used.push(base);
        }
        // `check`'s keys are the file's (the service knows nothing of them).
        let declared = file.and_then(|p| {
            p.pipelines_in(sandbox)
                .find(|d| d.connection == base.name && d.table == table && d.dataset == dataset)
        });
        let decl = PipelineDecl {
            max_age: declared.and_then(|d| d.max_age),
            max_failed_records: declared.map_or(0, |d| d.max_failed_records),
            index: pipelines.len(),
            connection: base.name.clone(),
            table,
            dataset,
            delta_column,
            schedule,
            mappings,
            enabled,
            sandboxes: None,
            line: 0,
            lines: BTreeMap::new(),
        };
        // The file cannot declare a flow's name: one this project made
        // (its marker) and someone renamed is named back by `apply`.
        let want = live::flow_name(&decl);
        if live::is_marked_by(flow.description.as_deref(), &project_name)
            && live::names_differ(&flow.name, &want)
        {
            warn(format!(
                "{what}: named {}, carries this project's marker `{}`: plan shows \
                 `name: {} → {}` and apply names it back (the file cannot declare a flow's \
                 name; to keep it, remove the marker line from its description)",
                shown(&client.scrubbed(&flow.name)),
                live::marker(&project_name),
                shown(&client.scrubbed(&flow.name)),
                shown(&want)
            ));
        }
        pipelines.push(decl);
    }

    let nowhere = At {
        line: 0,
        key: String::new(),
    };
    let mut masked = Vec::new();
    // Placeholders: no two connections share one (`orders-db`, `orders_db`
    // and `Orders DB` would all read ORDERS_DB_PASSWORD), nor take one the
    // file declares for another connection.
    let mut taken: BTreeSet<String> = file
        .map(|p| {
            p.connections
                .iter()
                .map(|c| c.password_env.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut placeholders: BTreeMap<&str, String> = BTreeMap::new();
    for base in &used {
        if file.and_then(|p| p.connection(&base.name)).is_none() {
            let env = distinct_password_env(&base.name, &taken);
            taken.insert(env.clone());
            placeholders.insert(base.name.as_str(), env);
        }
    }
    let connections: Vec<ConnectionDecl> = used
        .iter()
        .map(|base| match file.and_then(|p| p.connection(&base.name)) {
            Some(c) => {
                // Placeholders kept from an earlier export keep their note.
                if [&c.host, &c.database, &c.user].contains(&&PLACEHOLDER.to_owned()) {
                    masked.push(c.name.clone());
                }
                c.clone()
            }
            None => {
                masked.push(base.name.clone());
                ConnectionDecl {
                    name: base.name.clone(),
                    host: PLACEHOLDER.into(),
                    port: aep_flow::defaults::DEFAULT_PORT,
                    database: PLACEHOLDER.into(),
                    user: PLACEHOLDER.into(),
                    password_env: placeholders[base.name.as_str()].clone(),
                    ssl_mode: None,
                    auth: match base.auth_spec_name.as_deref() {
                        Some(aep_flow::spec::BASIC_AUTH) => Some(AuthSpec::Basic),
                        _ => None,
                    },
                    at: nowhere.clone(),
                }
            }
        })
        .collect();
    let declared = file.and_then(|p| p.sandboxes.iter().find(|s| s.name == sandbox));
    let project = Project {
        file: PathBuf::new(),
        project: project_name,
        sandboxes: vec![SandboxDecl {
            name: sandbox.to_owned(),
            credentials: declared.map_or_else(|| "AEP".to_owned(), |s| s.credentials.clone()),
            at: nowhere.clone(),
        }],
        connections,
        pipelines,
    };
    Ok(render(&project, &masked))
}

/// The dataset's name; a name shared with other datasets is warned about
/// (the file names datasets by name).
fn dataset_name(
    client: &Client,
    id: &DatasetId,
    warn: &mut dyn FnMut(String),
) -> Result<Option<String>, aep_flow::Error> {
    let dataset = match client.get_dataset(id) {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(name) = dataset.name.filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let same = client.find_datasets_named(&name)?;
    if same.len() > 1 {
        let ids: Vec<&str> = same.iter().map(|d| d.id.as_str()).collect();
        warn(format!(
            "dataset name {} is shared by {} datasets ({}): plan will refuse it until \
             one is renamed",
            shown(&name),
            same.len(),
            ids.join(", ")
        ));
    }
    Ok(Some(name))
}

/// `<sandbox>-export`, within the project name's 64 characters.
fn export_project_name(sandbox: &str) -> String {
    let mut base: String = sandbox.chars().take(57).collect();
    base.push_str("-export");
    base
}

/// `orders-db` → `ORDERS_DB_PASSWORD`: upper-cased, anything else than
/// letters and digits to `_`; a leading digit gets `PG_` in front.
pub fn password_env_for(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "PG_");
    }
    s.push_str("_PASSWORD");
    debug_assert!(is_env_name(&s));
    s
}

/// [`password_env_for`]`(name)`, or, when another connection has it,
/// the first free of `STEM_2_PASSWORD`, `STEM_3_PASSWORD`, ...
pub fn distinct_password_env(name: &str, taken: &BTreeSet<String>) -> String {
    let first = password_env_for(name);
    if !taken.contains(&first) {
        return first;
    }
    let stem = first.strip_suffix("_PASSWORD").unwrap_or(&first).to_owned();
    (2..)
        .map(|n| format!("{stem}_{n}_PASSWORD"))
        .find(|c| !taken.contains(c))
        .expect("an unbounded range has a free name")
}

/// A value from the service as shown in a warning: quoted, control
/// characters escaped, at most 100 characters.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(100).collect();
    let more = if cut.len() < s.len() { "..." } else { "" };
    format!("{cut:?}{more}")
}

/// Why these mappings cannot be written into the file (its rules for
/// `mappings`); `None` when they can.
fn mappings_problem(mappings: &[(String, String)]) -> Option<String> {
    if mappings.is_empty() {
        return Some("its mapping set maps no column".into());
    }
    let mut seen = BTreeSet::new();
    for (column, dest) in mappings {
        if column.is_empty() || column.chars().any(is_unsafe_char) {
            return Some(
                "its mapping set has a source column that is empty or holds control or \
                 invisible characters"
                    .into(),
            );
        }
        if dest.is_empty() || dest.chars().any(|c| is_unsafe_char(c) || c.is_whitespace()) {
            return Some(
                "its mapping set has a destination that is not an XDM path without spaces".into(),
            );
        }
        if !seen.insert(dest.as_str()) {
            return Some(format!(
                "its mapping set maps two columns to {} (the file maps each XDM path from one \
                 column)",
                shown(dest)
            ));
        }
    }
    None
}

/// A TOML basic string: `"`, `\` and control characters escaped, the rest
/// (unicode included) as is.
pub fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be, quoted otherwise.
pub fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        s.to_owned()
    } else {
        toml_string(s)
    }
}

/// Seconds as `1h30m` (what `max_age` reads back).
pub fn format_duration(mut secs: u64) -> String {
    let mut out = String::new();
    for (unit, size) in [
        ('w', 604_800),
        ('d', 86_400),
        ('h', 3600),
        ('m', 60),
        ('s', 1),
    ] {
        if secs >= size {
            let _ = write!(out, "{}{unit}", secs / size);
            secs %= size;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// The file's word for the schedule's frequency; `None` for one the file
/// has no word for.
fn frequency_word(s: &Schedule) -> Option<&'static str> {
    match s.frequency() {
        None => Some("once"),
        Some(Frequency::Minute) => Some("minute"),
        Some(Frequency::Hour) => Some("hour"),
        Some(Frequency::Day) => Some("day"),
        Some(Frequency::Week) => Some("week"),
        Some(_) => None,
    }
}

/// The file for `project`; `masked`: connections whose host, database
/// and user are placeholders.
pub fn render(project: &Project, masked: &[String]) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "# Written by `aep-flow export`. Passwords come from the environment (password_env)."
    );
    let _ = writeln!(w, "project = {}", toml_string(&project.project));
    for s in &project.sandboxes {
        let _ = writeln!(w, "\n[sandboxes.{}]", toml_key(&s.name));
        let _ = writeln!(w, "credentials = {}", toml_string(&s.credentials));
    }
    for c in &project.connections {
        let _ = writeln!(w, "\n[connections.{}]", toml_key(&c.name));
        if masked.contains(&c.name) {
            let _ = writeln!(
                w,
                "# The service masks this connection's credentials: replace {PLACEHOLDER} \
                 with the host, database and user (needed only to create it in another sandbox)."
            );
        }
        let _ = writeln!(w, "host = {}", toml_string(&c.host));
        let _ = writeln!(w, "port = {}", c.port);
        let _ = writeln!(w, "database = {}", toml_string(&c.database));
        let _ = writeln!(w, "user = {}", toml_string(&c.user));
        let _ = writeln!(w, "password_env = {}", toml_string(&c.password_env));
        if let Some(m) = c.ssl_mode {
            let _ = writeln!(w, "ssl_mode = {}", toml_string(&m.to_string()));
        }
        if let Some(a) = c.auth {
            let word = match a {
                AuthSpec::Basic => "basic",
                _ => "connection-string",
            };
            let _ = writeln!(w, "auth = {}", toml_string(word));
        }
    }
    for p in &project.pipelines {
        let _ = writeln!(w, "\n[[pipelines]]");
        let _ = writeln!(w, "connection = {}", toml_string(&p.connection));
        let _ = writeln!(w, "table = {}", toml_string(&p.table));
        let _ = writeln!(w, "dataset = {}", toml_string(&p.dataset));
        let _ = writeln!(w, "delta_column = {}", toml_string(&p.delta_column));
        let s = &p.schedule;
        // Unknown frequencies are left out before rendering.
        let word = frequency_word(s).unwrap_or("once");
        let mut schedule = format!("frequency = {}", toml_string(word));
        if let Some(i) = s.interval() {
            let _ = write!(schedule, ", interval = {i}");
        }
        let _ = write!(
            schedule,
            ", start = {}",
            toml_string(&format_utc(s.start_time()))
        );
        if let Some(b) = s.backfill() {
            let _ = write!(schedule, ", backfill = {b}");
        }
        let _ = writeln!(w, "schedule = {{ {schedule} }}");
        if !p.enabled {
            let _ = writeln!(w, "enabled = false");
        }
        if let Some(sandboxes) = &p.sandboxes {
            let list: Vec<String> = sandboxes.iter().map(|s| toml_string(s)).collect();
            let _ = writeln!(w, "sandboxes = [{}]", list.join(", "));
        }
        if let Some(age) = p.max_age {
            let _ = writeln!(
                w,
                "max_age = {}",
                toml_string(&format_duration(age.as_secs()))
            );
        }
        if p.max_failed_records != 0 {
            let _ = writeln!(w, "max_failed_records = {}", p.max_failed_records);
        }
        let _ = writeln!(w, "[pipelines.mappings]");
        for (column, dest) in &p.mappings {
            let _ = writeln!(w, "{} = {}", toml_key(column), toml_string(dest));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn pipeline(index: usize, table: &str, dataset: &str, schedule: Schedule) -> PipelineDecl {
        PipelineDecl {
            index,
            connection: "orders \"db\"".into(),
            table: table.into(),
            dataset: dataset.into(),
            delta_column: "upd\\ated".into(),
            schedule,
            mappings: vec![
                ("z col".into(), "_tenant.z".into()),
                ("a.\"b\"".into(), "_tenant.ä".into()),
                ("id".into(), "_tenant.id".into()),
            ],
            enabled: index.is_multiple_of(2),
            sandboxes: None,
            max_age: None,
            max_failed_records: 0,
            line: 0,
            lines: BTreeMap::new(),
        }
    }

    #[test]
    fn render_then_load_is_equal() {
        let at = At {
            line: 0,
            key: String::new(),
        };
        let p = Project {
            file: PathBuf::new(),
            project: "dev-export".into(),
            sandboxes: vec![SandboxDecl {
                name: "dev".into(),
                credentials: "AEP".into(),
                at: at.clone(),
            }],
            connections: vec![ConnectionDecl {
                name: "orders \"db\"".into(),
                host: PLACEHOLDER.into(),
                port: 5433,
                database: "ord\u{e9}rs".into(),
                user: "u\\ser".into(),
                password_env: password_env_for("orders \"db\""),
                ssl_mode: Some(aep_flow::SslMode::VerifyFull),
                auth: Some(AuthSpec::Basic),
                at,
            }],
            pipelines: vec![
                pipeline(
                    0,
                    "public.\"Ünïcode\".t'x'",
                    "Orders \"2026\"",
                    Schedule::once(1_796_083_200),
                ),
                pipeline(
                    1,
                    "s.'q'",
                    "Sales \\ tab",
                    Schedule::every(Frequency::Minute, 30, 951_825_600)
                        .unwrap()
                        .without_backfill(),
                ),
                pipeline(
                    2,
                    "a.b.c",
                    "D",
                    Schedule::every(Frequency::Week, 2, 1).unwrap(),
                ),
            ],
        };
        let mut p = p;
        p.pipelines[1].max_age = Some(std::time::Duration::from_secs(5400));
        p.pipelines[1].max_failed_records = 7;
        let text = render(&p, &["orders \"db\"".to_owned()]);
        let back = super::super::file::parse(Path::new("x.toml"), text.as_bytes())
            .unwrap_or_else(|Usage(m)| panic!("{m}\n{text}"));
        assert_eq!(back.project, p.project);
        assert_eq!(back.sandboxes[0].name, "dev");
        assert_eq!(back.sandboxes[0].credentials, "AEP");
        let (a, b) = (&back.connections[0], &p.connections[0]);
        assert_eq!(
            (
                &a.name,
                &a.host,
                a.port,
                &a.database,
                &a.user,
                &a.password_env,
                a.ssl_mode,
                a.auth
            ),
            (
                &b.name,
                &b.host,
                b.port,
                &b.database,
                &b.user,
                &b.password_env,
                b.ssl_mode,
                b.auth
            )
        );
        assert_eq!(a.password_env, "ORDERS__DB__PASSWORD");
        assert_eq!(back.pipelines.len(), 3);
        for (a, b) in back.pipelines.iter().zip(&p.pipelines) {
            assert_eq!(a.connection, b.connection);
            assert_eq!(a.table, b.table);
            assert_eq!(a.dataset, b.dataset);
            assert_eq!(a.delta_column, b.delta_column);
            assert_eq!(a.schedule, b.schedule);
            assert_eq!(a.mappings, b.mappings);
            assert_eq!(a.enabled, b.enabled);
            assert_eq!(a.sandboxes, b.sandboxes);
            assert_eq!(a.max_age, b.max_age);
            assert_eq!(a.max_failed_records, b.max_failed_records);
        }
        assert!(text.contains("max_age = \"1h30m\""));
    }

    #[test]
    fn strings_and_names() {
        assert_eq!(toml_string("a\"b\\c\n\u{0}é"), "\"a\\\"b\\\\c\\n\\u0000é\"");
        assert_eq!(toml_key("orders-db"), "orders-db");
        assert_eq!(toml_key("a.b"), "\"a.b\"");
        assert_eq!(password_env_for("orders-db"), "ORDERS_DB_PASSWORD");
        assert_eq!(password_env_for("9db"), "PG_9DB_PASSWORD");
        assert_eq!(password_env_for("ünï"), "_N__PASSWORD");
        assert_eq!(export_project_name("prod"), "prod-export");
        assert_eq!(format_duration(694_861), "1w1d1h1m1s");
        assert_eq!(format_duration(1800), "30m");
        assert!(super::super::file::is_project_token(&export_project_name(
            &"x".repeat(256)
        )));
    }
}
