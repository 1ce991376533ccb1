//! `aep-flow apply`: the plan, carried out. Everything is resolved and
//! planned first (a bad dataset name stops the run before any write);
//! then the base connections are ensured, then every pipeline with
//! `ensure_pipeline`, N at a time, each one reported; then, with
//! `--prune`, the plan's deletes.
//!
//! A pipeline in sync is not touched (a no-op apply writes nothing); a
//! replace is delete-then-create (a dataset has at most one dataflow) and
//! only with `--allow-replace`.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use aep_flow::{
    Client, ConnectionFilter, ConnectionId, PipelineChange, PostgresConnection, PostgresLogin,
    Secret,
};
use clap::Args;
use serde::Serialize;

use super::live::{self, Live, PipelineLive, SandboxState};
use super::plan::{self, Action, Prune, Read, Row, Selection, Session};
use super::{ConnectionDecl, Project};
use crate::env::{self, Common, Failure, Usage};
use crate::output::{to_json, Output};

pub const HELP: &str = "resolves and plans everything first (nothing is written when any
input is wrong), then ensures the base connections (created when missing, the
password from password_env), then every pipeline, N at a time, continuing past one
that fails; pipelines in sync are not touched.
a base connection this run created is listed again by name: when another apply
made one of that name at the same time, the oldest (creation time, then id) is
kept and ours deleted.
prints one line per pipeline and sandbox (`--json`: first one object per base
  connection and sandbox {\"sandbox\",\"baseConnection\",\"result\",\"id\"
  [,\"error\"]}, result one of unchanged, created, rotated, failed; then
  {\"sandbox\",\"connection\",\"table\",\"dataset\",\"result\",\"changes\",\"flowId\",
  \"sourceConnectionId\",\"targetConnectionId\",\"datasetId\"[,\"error\"]}, result one
  of unchanged, created, updated, replaced, deleted, untouched, failed), then a
  summary.
  --allow-replace  a flow that must be replaced (another delta column; with
                   --prune, a table the file moved to another dataset) is deleted,
                   then created again (never created first: a dataset has at most
                   one dataflow); without it, it is left untouched and named. When
                   the create fails after the delete, the error says so: run
                   apply again
  --prune          deletes what `plan --prune` lists
  --rotate-passwords  re-sends the password of every existing base connection
                   (If-Match), with every other parameter from the file; one
                   that fails is exit 1
  --parallel N     pipelines applied at once (1 to 64, default 4)
  --demo           an unset password_env falls back to the demo's password
exit codes: 0 done, 1 a pipeline (or anything else) failed, 2 bad input (nothing
written), 3 nothing failed but a replace was left untouched.";

/// Exit code of `apply` when nothing failed but a replace was not allowed.
const EXIT_ATTENTION: u8 = 3;
/// Default pipelines at once.
const DEFAULT_PARALLEL: usize = 4;

/// `apply`'s flags.
#[derive(Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Pipelines applied at once (1 to 64, default 4).
    #[arg(long, value_name = "N", value_parser = parallel)]
    pub parallel: Option<usize>,
    /// Replaces (delete, then create) flows that cannot be changed in place.
    #[arg(long)]
    pub allow_replace: bool,
    /// Re-sends the password of every existing base connection.
    #[arg(long)]
    pub rotate_passwords: bool,
}

fn parallel(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err(format!(
            "--parallel {:?} must be a whole number from 1 to 64",
            value.escape_debug().to_string()
        )),
    }
}

/// One line of `apply`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Done {
    pub sandbox: String,
    pub connection: Option<String>,
    pub table: Option<String>,
    pub dataset: Option<String>,
    pub result: &'static str,
    pub changes: Vec<String>,
    pub flow_id: Option<String>,
    pub source_connection_id: Option<String>,
    pub target_connection_id: Option<String>,
    pub dataset_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Done {
    fn from_row(row: &Row, result: &'static str) -> Done {
        Done {
            sandbox: row.sandbox.clone(),
            connection: row.connection.clone(),
            table: row.table.clone(),
            dataset: row.dataset.clone(),
            result,
            changes: Vec::new(),
            flow_id: row.flow_id.clone(),
            source_connection_id: row.source_connection_id.clone(),
            target_connection_id: row.target_connection_id.clone(),
            dataset_id: row.dataset_id.clone(),
            error: None,
        }
    }

    fn failed(mut self, error: impl std::fmt::Display) -> Done {
        self.result = "failed";
        self.error = Some(error.to_string());
        self
    }

    fn text(&self, head: &str) -> String {
        let mut line = format!("{head}: {}", self.result);
        if !self.changes.is_empty() {
            // `created (sourceConnection, flow)`, not `created (created
            // sourceConnection, created flow)`.
            let prefix = format!("{} ", self.result);
            let changes: Vec<&str> = self
                .changes
                .iter()
                .map(|c| c.strip_prefix(&prefix).unwrap_or(c))
                .collect();
            line.push_str(&format!(" ({})", changes.join(", ")));
        }
        if let Some(e) = &self.error {
            line.push_str(&format!(": {e}"));
        }
        line
    }
}

/// One base connection in one sandbox, as `apply` left it (`--json`:
/// `{"sandbox","baseConnection","result","id"[,"error"]}`; result one of
/// unchanged, created, rotated, failed). Never a credential.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BaseDone {
    pub sandbox: String,
    pub base_connection: String,
    pub result: &'static str,
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl BaseDone {
    fn text(&self) -> String {
        let mut line = format!(
            "[{}] base connection {}: {}",
            self.sandbox, self.base_connection, self.result
        );
        if let Some(id) = &self.id {
            line.push_str(&format!(" ({id})"));
        }
        if let Some(e) = &self.error {
            line.push_str(&format!(": {e}"));
        }
        line
    }
}

/// After creating base connection `name` (`ours`): another apply running
/// at the same time may have created one of that name too. Lists again by
/// name; when there are several, every run keeps the same one, the oldest
/// (by creation time, then id), and the run whose connection is not that
/// one deletes its own (nothing uses it yet: the pipelines come after).
/// Returns the id to use. A listing or delete that fails keeps ours, said
/// on stderr (`connections list` shows the twins).
fn keep_oldest(
    client: &Client,
    name: &str,
    ours: &ConnectionId,
    line: &mut BaseDone,
) -> ConnectionId {
    let named = match client.list_connections(ConnectionFilter::new().with_name(name)) {
        Ok(listed) => listed,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "warning: apply: [{}] base connection {name}: created ({ours}), but could not \
                 check for another of that name: {e}",
                line.sandbox
            );
            return ours.clone();
        }
    };
    let oldest = named
        .iter()
        .filter(|c| {
            c.name == name
                && c.connection_spec_id.as_deref()
                    == Some(aep_flow::spec::POSTGRES_CONNECTION_SPEC_ID)
        })
        .min_by_key(|c| (c.created_at.unwrap_or(i64::MAX), c.id.clone()));
    let Some(oldest) = oldest.filter(|c| &c.id != ours) else {
        return ours.clone();
    };
    match client.delete_connection(ours) {
        Ok(()) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "warning: apply: [{}] base connection {name}: another apply created one of that \
                 name too ({}); deleting ours ({ours}) failed: {e}; delete it by hand",
                line.sandbox,
                oldest.id
            );
            return oldest.id.clone();
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "note: apply: [{}] base connection {name}: another apply created one of that name at the \
         same time; keeping the oldest ({}) and deleting ours ({ours})",
        line.sandbox,
        oldest.id
    );
    line.result = "unchanged";
    oldest.id.clone()
}

/// The base connection's password: from its `password_env`; with
/// `--demo`, an unset variable falls back to the demo's password (said on
/// stderr). A set but garbled variable is an error as always.
fn password(conn: &ConnectionDecl, project: &Project, demo: bool) -> Result<Secret, Usage> {
    // A garbled or empty variable goes to `password_for`, whose error
    // names the file, line and key.
    if demo && matches!(env::secret_var(&conn.password_env), Ok(None)) {
        let _ = writeln!(
            std::io::stderr(),
            "note: apply: --demo: {} is not set; connection {} gets the demo's password",
            conn.password_env,
            conn.name
        );
        return Ok(Secret::from(crate::demo::DEMO_PASSWORD.to_owned()));
    }
    super::creds::password_for(conn, project)
}

/// The connection as declared, with `password`.
fn postgres(conn: &ConnectionDecl, password: &Secret) -> PostgresConnection {
    let mut pg = PostgresConnection::new(
        &conn.name,
        PostgresLogin {
            server: &conn.host,
            database: &conn.database,
            username: &conn.user,
            password: Secret::from(password.expose_secret().to_owned()),
        },
    )
    .with_port(conn.port)
    .with_auth_spec(conn.auth.unwrap_or_default());
    if let Some(mode) = conn.ssl_mode {
        pg = pg.with_ssl_mode(mode);
    }
    pg
}

pub fn run(args: ApplyArgs, common: &Common, out: &mut Output) -> Result<(), Failure> {
    let (session, platforms, chosen) = Session::open("apply", &args.selection, common)?;
    let project = &session.project;
    let demo = session.demo.is_some();
    let sandboxes: Vec<&super::SandboxDecl> =
        chosen.iter().map(|&i| &project.sandboxes[i]).collect();
    let connected = live::connect(&sandboxes, platforms, common)?;
    let read = plan::read_all(project, &connected, args.selection.prune)?;
    read.warn("apply");

    // Every password needed, read (and checked) before the first write.
    let mut passwords: BTreeMap<String, Secret> = BTreeMap::new();
    for state in &read.states {
        for base in &state.bases {
            let needed = base.found.is_none() || args.rotate_passwords;
            if needed && !passwords.contains_key(&base.decl.name) {
                if args.rotate_passwords && base.found.is_some() && base.decl.ssl_mode.is_none() {
                    return Err(project
                        .error_at(
                            &base.decl.at,
                            "--rotate-passwords replaces every parameter of the connection, the \
                             SSL mode included: set ssl_mode",
                        )
                        .into());
                }
                passwords.insert(base.decl.name.clone(), password(base.decl, project, demo)?);
            }
        }
    }

    // The base connections, sandbox by sandbox: their ids, or why not.
    let mut bases: Vec<BTreeMap<String, Result<ConnectionId, String>>> = Vec::new();
    let mut base_done: Vec<BaseDone> = Vec::new();
    for state in &read.states {
        let client = &state.connected.client;
        let sandbox = &state.connected.sandbox.name;
        let mut ids = BTreeMap::new();
        for base in &state.bases {
            let name = &base.decl.name;
            let mut line = BaseDone {
                sandbox: sandbox.clone(),
                base_connection: name.clone(),
                result: "unchanged",
                id: None,
                error: None,
            };
            let id = match &base.found {
                Some(found) => {
                    line.id = Some(found.id.to_string());
                    if args.rotate_passwords {
                        let pg = postgres(base.decl, &passwords[name]);
                        match client.update_postgres_credentials(&found.id, pg.credentials()) {
                            Ok(_) => line.result = "rotated",
                            Err(e) => {
                                line.result = "failed";
                                line.error = Some(format!("password not re-sent: {e}"));
                            }
                        }
                    }
                    Ok(found.id.clone())
                }
                None => {
                    let pg = postgres(base.decl, &passwords[name]);
                    match client.ensure_postgres_connection(&pg) {
                        Ok(ensured) => {
                            let ours = ensured.id().clone();
                            let kept = if ensured.created {
                                line.result = "created";
                                keep_oldest(client, name, &ours, &mut line)
                            } else {
                                ours
                            };
                            line.id = Some(kept.to_string());
                            Ok(kept)
                        }
                        Err(e) => {
                            line.result = "failed";
                            line.error = Some(format!("could not be created: {e}"));
                            Err(format!("base connection {name} could not be created: {e}"))
                        }
                    }
                }
            };
            ids.insert(name.clone(), id);
            base_done.push(line);
        }
        bases.push(ids);
    }
    drop(passwords);
    // `--json`: one object per base connection, first; else a line each
    // on stderr (stdout is the pipelines' report).
    for line in &base_done {
        if args.selection.json {
            out.line(&to_json(line)?)?;
        } else if line.result != "unchanged" || line.error.is_some() {
            let _ = writeln!(std::io::stderr(), "{}", line.text());
        }
    }

    // Every pipeline, N at a time.
    let jobs: Vec<(usize, usize)> = read
        .planned
        .iter()
        .enumerate()
        .flat_map(|(s, planned)| (0..planned.len()).map(move |p| (s, p)))
        .collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<(String, Done)>>> = Mutex::new(vec![None; jobs.len()]);
    let threads = args
        .parallel
        .unwrap_or(DEFAULT_PARALLEL)
        .min(jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(s, p)) = jobs.get(i) else { break };
                let state = &read.states[s];
                let pipeline = &read.planned[s][p];
                let row = read.row_of(s, p);
                let moved = read.moved_prune(s, p);
                let done = apply_one(project, state, pipeline, moved, &row, &bases[s], &args);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some((row.head(), done));
            });
        }
    });
    let mut done: Vec<(String, Done)> = results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect();

    // The plan's deletes, last.
    if args.selection.prune {
        done.extend(prune_all(&read));
    }

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (head, d) in &done {
        *counts.entry(d.result).or_default() += 1;
        if args.selection.json {
            out.line(&to_json(d)?)?;
        } else {
            out.line(&d.text(head))?;
        }
    }
    let count = |k: &str| counts.get(k).copied().unwrap_or(0);
    if args.selection.json {
        out.line(&to_json(&serde_json::json!({
            "created": count("created"),
            "updated": count("updated"),
            "replaced": count("replaced"),
            "deleted": count("deleted"),
            "unchanged": count("unchanged"),
            "untouched": count("untouched"),
            "failed": count("failed"),
        }))?)?;
    } else {
        out.line(&format!(
            "{} created, {} updated, {} replaced, {} deleted, {} unchanged, {} untouched, {} failed",
            count("created"),
            count("updated"),
            count("replaced"),
            count("deleted"),
            count("unchanged"),
            count("untouched"),
            count("failed")
        ))?;
    }
    drop(read);
    drop(connected);
    drop(session);
    let base_failed: Vec<String> = base_done
        .iter()
        .filter(|b| b.result == "failed")
        .map(|b| format!("[{}] base connection {}", b.sandbox, b.base_connection))
        .collect();
    let failed = count("failed") + base_failed.len();
    if failed > 0 {
        let names: Vec<&str> = base_failed
            .iter()
            .map(String::as_str)
            .chain(
                done.iter()
                    .filter(|(_, d)| d.result == "failed")
                    .map(|(h, _)| h.as_str()),
            )
            .collect();
        return Err(Failure(
            1,
            format!("error: apply: {failed} failed: {}", names.join("; ")),
        ));
    }
    if count("untouched") > 0 {
        return Err(Failure(
            EXIT_ATTENTION,
            "error: apply: a flow that must be replaced was left untouched (see above); \
             run again with --allow-replace to delete and recreate it"
                .into(),
        ));
    }
    Ok(())
}

/// Applies one pipeline of the plan.
fn apply_one(
    project: &Project,
    state: &SandboxState<'_>,
    p: &PipelineLive<'_>,
    moved: Option<&Prune>,
    row: &Row,
    bases: &BTreeMap<String, Result<ConnectionId, String>>,
    args: &ApplyArgs,
) -> Done {
    let client = &state.connected.client;
    let decl = p.resolved.decl;
    let mut done = Done::from_row(row, "unchanged");
    match row.action {
        Action::InSync => return done,
        Action::Error => {
            return done.failed(row.error.as_deref().unwrap_or("could not be planned"));
        }
        Action::Replace if !args.allow_replace => {
            done.result = "untouched";
            done.changes = row.changes.clone();
            done.changes.push("needs --allow-replace".into());
            return done;
        }
        _ => {}
    }
    let base = match bases.get(&decl.connection) {
        Some(Ok(id)) => id,
        Some(Err(e)) => return done.failed(e),
        None => return done.failed("its base connection was not read"),
    };
    let mut changes = Vec::new();
    // What a replace deleted, for the error when the create then fails.
    let mut deleted: Option<String> = None;
    if let Some(old) = moved.filter(|_| row.action == Action::Replace) {
        // The file moved the table to another dataset: the old flow goes
        // first (with its target connection; the source connection, which
        // the new flow reads, stays), then the new one is created.
        let kept_source = match &p.live {
            Live::Planned(plan) => plan.source_connection.id().cloned(),
            _ => None,
        };
        let old = Prune {
            flow: old.flow.clone(),
            sources: old
                .sources
                .iter()
                .filter(|s| Some(*s) != kept_source.as_ref())
                .cloned()
                .collect(),
            targets: old.targets.clone(),
        };
        let gone = prune_one(client, &old, row);
        changes.extend(gone.changes);
        if let Some(e) = gone.error {
            done.changes = changes;
            return done.failed(e);
        }
        deleted = Some(format!("flow {} ({:?})", old.flow.id, old.flow.name));
    } else if row.action == Action::Replace {
        let Some(flow) = p_flow_id(p) else {
            return done.failed("the flow to replace is unknown");
        };
        // Delete first: a dataset has at most one dataflow.
        match client.delete_flow(&flow) {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return done.failed(format!("could not delete flow {flow}: {e}")),
        }
        changes.push(format!("deleted flow {flow}"));
        deleted = Some(format!("flow {flow}"));
    }
    let spec = live::spec(project, &p.resolved, base, decl.enabled);
    let outcome = match client.ensure_pipeline_partial(&spec) {
        Ok(o) => o,
        Err(failure) => {
            changes.extend(failure.done.changes.iter().map(|c| c.as_str().to_owned()));
            done.changes = changes;
            done.flow_id = failure.done.flow_id.as_ref().map(ToString::to_string);
            return match deleted {
                // Half a replace: say what is gone and how to finish.
                Some(gone) => done.failed(format!(
                    "replace: {gone} was deleted, but its successor could not be created: {}; \
                     nothing reads {} into {} now: run apply again to create it",
                    failure.error, decl.table, decl.dataset
                )),
                None => done.failed(failure.error),
            };
        }
    };
    changes.extend(outcome.changes.iter().map(|c| c.as_str().to_owned()));
    done.flow_id = Some(outcome.flow_id.to_string());
    done.source_connection_id = Some(outcome.source_connection_id.to_string());
    done.target_connection_id = Some(outcome.target_connection_id.to_string());
    for w in &outcome.warnings {
        let _ = writeln!(std::io::stderr(), "warning: apply: {}: {w}", row.head());
    }
    // A flow this project made, renamed in the UI: its name back.
    if let Some((_, name)) = live::rename(project, p) {
        match client.update_flow_name(&outcome.flow_id, &name) {
            Ok(_) => changes.push("renamed flow".into()),
            Err(e) => {
                done.changes = changes;
                return done.failed(format!("could not rename flow {}: {e}", outcome.flow_id));
            }
        }
    }
    // `enabled = false`: a new flow starts enabled, and a flow enabled in
    // the UI is disabled.
    let created = outcome.changes.contains(&PipelineChange::FlowCreated);
    if !decl.enabled && (created || p.enabled_now() == Some(true)) {
        match client.disable_flow(&outcome.flow_id) {
            Ok(_) => changes.push("disabled flow".into()),
            Err(e) => {
                done.changes = changes;
                return done.failed(format!("could not disable flow {}: {e}", outcome.flow_id));
            }
        }
    }
    done.result = match row.action {
        Action::Replace => "replaced",
        Action::Create => "created",
        _ => "updated",
    };
    if changes.is_empty() {
        done.result = "unchanged";
    }
    done.changes = changes;
    done
}

fn p_flow_id(p: &PipelineLive<'_>) -> Option<aep_flow::FlowId> {
    match &p.live {
        Live::Planned(plan) => plan.flow_id().cloned(),
        _ => None,
    }
}

/// The plan's deletes: each flow, then its source and target connections
/// no other flow uses (one another flow started using since is kept).
fn prune_all(read: &Read<'_>) -> Vec<(String, Done)> {
    let mut done = Vec::new();
    for (s, (state, prunes)) in read.states.iter().zip(&read.prunes).enumerate() {
        // A prune a pipeline replaces was done (or left) by that pipeline.
        for p in read.unpaired(s).map(|i| &prunes[i]) {
            let row = plan::prune_row(state, p);
            done.push((row.head(), prune_one(&state.connected.client, p, &row)));
        }
    }
    done
}

fn prune_one(client: &Client, p: &Prune, row: &Row) -> Done {
    let mut done = Done::from_row(row, "deleted");
    match client.delete_flow(&p.flow.id) {
        Ok(()) => done.changes.push(format!("deleted flow {}", p.flow.id)),
        Err(e) if e.is_not_found() => {}
        Err(e) => return done.failed(format!("could not delete flow {}: {e}", p.flow.id)),
    }
    let mut first_error = None;
    let deletes = p
        .sources
        .iter()
        .map(|s| ("source", s.as_str(), client.delete_source_connection(s)))
        .chain(
            p.targets
                .iter()
                .map(|t| ("target", t.as_str(), client.delete_target_connection(t))),
        );
    for (kind, id, result) in deletes {
        match result {
            Ok(()) => done.changes.push(format!("deleted {kind} connection {id}")),
            Err(e) if e.is_not_found() => {}
            Err(e) if e.is_in_use() => {
                done.changes.push(format!(
                    "kept {kind} connection {id} (another flow uses it)"
                ));
            }
            Err(e) => {
                first_error.get_or_insert(format!("could not delete {kind} connection {id}: {e}"));
            }
        }
    }
    match first_error {
        Some(e) => done.failed(e),
        None => done,
    }
}
