//! `aep-flow pipeline ...`: from a PostgreSQL table to a scheduled dataflow
//! in one idempotent command (`ensure`), and a monitor for cron.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use aep_flow::{
    Client, ConnectionId, DatasetId, FlowId, Frequency, Mapping, PipelineChange, PipelineFailure,
    PipelineSpec, Schedule, SchemaId,
};
use clap::{Args, Subcommand};

use crate::demo;
use crate::env::{Common, Failure, Usage};
use crate::output::{to_json, OutcomeLine, Output, RunLine, SavedLine, StatusLine};
use crate::target::Target;

pub const HELP: &str = "what each prints (JSON, one object per line; times ISO 8601 UTC):
  pipeline ensure --connection BASE_ID --table PATH --dataset DATASET_ID [--schema SCHEMA_ID]
                  --map COLUMN=XDM_PATH [--map COLUMN=XDM_PATH ...] --delta-column COLUMN
                  [--frequency once|minute|hour|day|week] [--interval N] [--no-backfill]
                  [--start EPOCH_SECONDS] [--name NAME] [--description TEXT] [--enable] [--plan]
      finds the source connection, target connection and flow for (connection, table,
      dataset), creates what is missing, converges a changed mapping or schedule, and
      prints {\"flowId\",\"sourceConnectionId\",\"targetConnectionId\",\"mappingSetId\",\"changed\",\"planned\",
      \"duplicates\",\"warnings\"} (warnings also on stderr; twin flows: the oldest is converged,
      the others listed in duplicates); a run that fails halfway names on stderr what it made;
      --plan only says what would change (nothing is written). Frequency defaults to
      once, --start to now; --interval defaults to 15 for minute, 1 otherwise.
  pipeline status FLOW_ID
      {\"flowId\",\"state\",\"lastRun\"}; exit 3 when the latest finished run failed,
      exit 1 when it cannot be known (a run without a time or a flowId, or more
      than 10000 runs listed in another order than newest first)
  pipeline runs FLOW_ID [--limit N]
      one line per run, newest first (the newest N; at most 10000)
  pipeline enable FLOW_ID | pipeline disable FLOW_ID
      {\"id\",\"etag\"}
  pipeline delete FLOW_ID [--with-connections]
      deletes the flow (and its source and target connections; never the base
      connection, never the dataset)
exit 3: `status` found that the latest finished run failed.";

/// Exit code of `status` when the latest finished run failed.
const EXIT_RUN_FAILED: u8 = 3;
/// Most runs `runs --limit` prints.
const MAX_LIMIT: usize = 10_000;

#[derive(Subcommand)]
pub enum Command {
    /// Converges (connection, table, dataset) to a scheduled dataflow:
    /// creates what is missing, updates a changed mapping or schedule.
    Ensure(Box<EnsureArgs>),
    /// Prints the flow's state and latest run; exit 3 when the latest
    /// finished run failed.
    Status {
        /// The flow's id.
        #[arg(value_name = "FLOW_ID")]
        flow: FlowId,
    },
    /// Prints the flow's runs, newest first, one JSON line each.
    Runs {
        /// The flow's id.
        #[arg(value_name = "FLOW_ID")]
        flow: FlowId,
        /// Only the newest N (1 to 10000).
        #[arg(long, value_name = "N", value_parser = limit, allow_negative_numbers = true)]
        limit: Option<usize>,
    },
    /// Enables the flow; prints {"id","etag"}.
    Enable {
        /// The flow's id.
        #[arg(value_name = "FLOW_ID")]
        flow: FlowId,
    },
    /// Disables the flow; prints {"id","etag"}.
    Disable {
        /// The flow's id.
        #[arg(value_name = "FLOW_ID")]
        flow: FlowId,
    },
    /// Deletes the flow (never the base connection, never the dataset).
    Delete {
        /// The flow's id.
        #[arg(value_name = "FLOW_ID")]
        flow: FlowId,
        /// Deletes its source and target connections too.
        #[arg(long)]
        with_connections: bool,
    },
}

/// `pipeline ensure`'s flags, checked into an [`Ensure`] before anything
/// is sent.
#[derive(Args)]
pub struct EnsureArgs {
    /// The base connection (from `connections create` or `ensure`).
    #[arg(long, value_name = "BASE_ID")]
    connection: ConnectionId,
    /// The table, schema-qualified, e.g. public.orders.
    #[arg(long, value_name = "PATH")]
    table: String,
    /// The dataset the rows go into.
    #[arg(long, value_name = "DATASET_ID")]
    dataset: DatasetId,
    /// The dataset's XDM schema (read from Catalog when not given).
    #[arg(long, value_name = "SCHEMA_ID")]
    schema: Option<SchemaId>,
    /// A column and the XDM path it goes to; one or more.
    #[arg(long = "map", value_name = "COLUMN=XDM_PATH", required = true)]
    maps: Vec<String>,
    /// The column that says which rows are new (incremental loads).
    #[arg(long, value_name = "COLUMN")]
    delta_column: String,
    /// once, minute, hour, day or week (default once).
    #[arg(long, value_name = "once|minute|hour|day|week")]
    frequency: Option<String>,
    /// Every N units of the frequency (default 15 for minute, 1 otherwise).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    interval: Option<String>,
    /// Do not load the rows from before the start.
    #[arg(long)]
    no_backfill: bool,
    /// When the schedule starts, seconds since 1970 (default now).
    #[arg(long, value_name = "EPOCH_SECONDS", allow_negative_numbers = true)]
    start: Option<String>,
    /// The flow's name.
    #[arg(long)]
    name: Option<String>,
    /// The flow's description.
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Enables the flow.
    #[arg(long)]
    enable: bool,
    /// Only says what would change; writes nothing.
    #[arg(long)]
    plan: bool,
}

/// `pipeline ensure` checked: the declaration, and whether only to plan.
struct Ensure {
    spec: PipelineSpec,
    plan: bool,
}

fn parse_ensure(raw: &EnsureArgs) -> Result<Ensure, Usage> {
    let mut maps = Vec::new();
    for m in &raw.maps {
        match m.split_once('=') {
            Some((column, path)) if !column.is_empty() && !path.is_empty() => {
                maps.push(Mapping::new(column, path))
            }
            _ => {
                return Err(Usage(format!(
                    "--map {:?} must be COLUMN=XDM_PATH",
                    m.escape_debug().to_string()
                )))
            }
        }
    }
    let frequency = match &raw.frequency {
        None => None,
        Some(f) if f.eq_ignore_ascii_case("once") => None,
        Some(f) => Some(f.parse::<Frequency>().map_err(|_| {
            Usage(format!(
                "--frequency {:?} must be once, minute, hour, day or week",
                f.escape_debug().to_string()
            ))
        })?),
    };
    let interval = raw
        .interval
        .as_ref()
        .map(|i| {
            i.parse::<u32>().map_err(|_| {
                // Digits only: a whole number, too big for any interval.
                let too_big = !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit());
                Usage(format!(
                    "--interval {:?} must be a whole number{}",
                    i.escape_debug().to_string(),
                    if too_big {
                        " of at most 2147483647 (the service stores it as a 32-bit integer)"
                    } else {
                        ""
                    }
                ))
            })
        })
        .transpose()?;
    let backfill = !raw.no_backfill;
    let start = match &raw.start {
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(Usage(format!(
                    "--start {:?} must be a positive number of seconds since 1970",
                    s.escape_debug().to_string()
                )))
            }
        },
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    };
    let schedule = match frequency {
        None => {
            if interval.is_some() || !backfill {
                return Err(Usage(
                    "--interval and --no-backfill need a --frequency other than once".into(),
                ));
            }
            Schedule::once(start)
        }
        Some(f) => {
            let interval = interval.unwrap_or(if f == Frequency::Minute { 15 } else { 1 });
            let s = Schedule::every(f, interval, start).map_err(|e| Usage(e.to_string()))?;
            if backfill {
                s
            } else {
                s.without_backfill()
            }
        }
    };
    let mut spec = PipelineSpec::new()
        .with_base_connection_id(raw.connection.clone())
        .with_table_path(&raw.table)
        .with_dataset_id(raw.dataset.clone())
        .with_mappings(maps)
        .with_delta_column(&raw.delta_column)
        .with_schedule(schedule)
        .with_enable(raw.enable);
    if let Some(s) = &raw.schema {
        spec = spec.with_schema_id(s.clone());
    }
    if let Some(n) = &raw.name {
        spec = spec.with_name(n);
    }
    if let Some(d) = &raw.description {
        spec = spec.with_description(d);
    }
    Ok(Ensure {
        spec,
        plan: raw.plan,
    })
}

fn limit(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!(
            "--limit {:?} must be a whole number from 1 to {MAX_LIMIT}",
            value.escape_debug().to_string()
        )),
    }
}

fn ensure(client: &Client, e: Ensure) -> Result<String, Failure> {
    let spec = e.spec;
    if e.plan {
        // The same line as an ensure, `planned: true`, the ids of what
        // exists and what would change; a flow that must be replaced is
        // refused as `ensure` refuses it.
        let plan = client.plan_pipeline_partial(&spec).map_err(failed)?;
        warn(&plan.warnings);
        if let Some(replace) = plan.replace_needed() {
            return Err(replace.error().into());
        }
        return to_json(&OutcomeLine::from(&plan));
    }
    // `{"flowId","sourceConnectionId","targetConnectionId","mappingSetId","changed","planned",
    // "duplicates","warnings"}`; the warnings (twin flows, values that do not
    // read back) go to stderr as well.
    let outcome = client.ensure_pipeline_partial(&spec).map_err(failed)?;
    warn(&outcome.warnings);
    to_json(&OutcomeLine::from(&outcome))
}

/// The warnings of an ensure or a plan, on stderr.
fn warn(warnings: &[String]) {
    for w in warnings {
        let _ = writeln!(std::io::stderr(), "warning: pipeline: {w}");
    }
}

/// An ensure or a plan that failed: the warnings found before the failure
/// (twin flows) still matter, and a run that fails halfway says what it
/// already made, so that nothing is left unexplained (the next run finds
/// and reuses it).
fn failed(failure: Box<PipelineFailure>) -> Failure {
    let done = &failure.done;
    warn(&done.warnings);
    if !done.changes.is_empty() {
        let id_of = |c: &PipelineChange| match c {
            PipelineChange::SourceConnectionCreated => done.source_connection_id.as_deref(),
            PipelineChange::TargetConnectionCreated => done.target_connection_id.as_deref(),
            PipelineChange::MappingSetCreated => done.mapping_set_id.as_deref(),
            _ => done.flow_id.as_deref(),
        };
        let list: Vec<String> = done
            .changes
            .iter()
            .map(|c| format!("{c} {}", id_of(c).unwrap_or("?")))
            .collect();
        let _ = writeln!(
            std::io::stderr(),
            "note: pipeline: before failing, this run already did: {}",
            list.join(", ")
        );
    }
    failure.error.into()
}

pub fn run(command: Command, common: &Common, out: &mut Output) -> Result<(), Failure> {
    // Every flag is checked before anything is read or sent.
    let mut checked = match command {
        Command::Ensure(ref args) => Some(parse_ensure(args)?),
        _ => None,
    };
    let target = Target::from_env("aep-flow", common)?;
    if target.is_demo() {
        let _ = writeln!(
            std::io::stderr(),
            "note: pipeline: --demo: {}",
            demo::catalog_note()
        );
    }
    let client = common.client(target.platform)?;
    // The demo fake serves until the end of the command.
    let _demo = target.demo;
    match command {
        Command::Ensure(_) => {
            let e = checked.take().expect("checked above");
            let line = ensure(&client, e)?;
            out.line(&line)?;
        }
        Command::Status { flow } => {
            let f = client.get_flow(&flow)?;
            // Exit 1 with the reason when the newest runs cannot be known
            // (the cap reached before the order was proven, a run that
            // cannot be placed in time or attributed): never "healthy".
            let runs = client.run_summary(&flow)?;
            let failed = runs
                .latest_finished
                .as_ref()
                .is_some_and(|r| r.status == aep_flow::RunStatus::Failed);
            out.line(&to_json(&StatusLine {
                flow_id: &f.id,
                state: f.state.as_str(),
                last_run: runs.latest.as_ref().map(RunLine::from),
            })?)?;
            if failed {
                return Err(Failure(
                    EXIT_RUN_FAILED,
                    format!("error: the latest finished run of flow {flow} failed"),
                ));
            }
        }
        Command::Runs { flow, limit } => {
            // The newest N, reading only the pages that hold them when the
            // service lists newest first; an error (exit 1) when they
            // cannot be known, never a partial list passed off as whole.
            let runs = client.latest_runs(&flow, limit.unwrap_or(MAX_LIMIT))?;
            for r in &runs {
                out.line(&to_json(&RunLine::from(r))?)?;
            }
        }
        Command::Enable { flow } => {
            // `{"id","etag"}`, in that order.
            out.line(&to_json(&SavedLine::from(&client.enable_flow(&flow)?))?)?;
        }
        Command::Disable { flow } => {
            out.line(&to_json(&SavedLine::from(&client.disable_flow(&flow)?))?)?;
        }
        Command::Delete {
            flow,
            with_connections,
        } => {
            // Read first: the flow's connections are only known while it
            // exists.
            let connections = if with_connections {
                let f = client.get_flow(&flow)?;
                Some((f.source_connection_ids, f.target_connection_ids))
            } else {
                None
            };
            client.delete_flow(&flow)?;
            if let Some((sources, targets)) = connections {
                // Every connection is tried: one still used by another flow
                // (a table read into two datasets, say) is kept and named;
                // one already gone is fine; the first other failure is the
                // exit status, after the rest were tried.
                let mut first_failure = None;
                // Lazy: each delete is sent as the loop reaches it.
                let deletes =
                    sources
                        .iter()
                        .map(|id| ("source", id.as_str(), client.delete_source_connection(id)))
                        .chain(targets.iter().map(|id| {
                            ("target", id.as_str(), client.delete_target_connection(id))
                        }));
                for (kind, id, result) in deletes {
                    match result {
                        Ok(()) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) if e.is_in_use() => {
                            let _ = writeln!(
                                std::io::stderr(),
                                "note: pipeline: kept {kind} connection {id}: another flow uses it"
                            );
                        }
                        Err(e) => {
                            let _ = writeln!(
                                std::io::stderr(),
                                "error: pipeline: could not delete {kind} connection {id}: {e}"
                            );
                            first_failure.get_or_insert(e);
                        }
                    }
                }
                if let Some(e) = first_failure {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}
