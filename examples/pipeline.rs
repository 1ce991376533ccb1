//! From a PostgreSQL table to a scheduled dataflow in one idempotent
//! command, and a monitor for cron.
//!
//! ```text
//! pipeline ensure --connection BASE_ID --table PATH --dataset DATASET_ID [--schema SCHEMA_ID]
//!                 --map COLUMN=XDM_PATH [--map COLUMN=XDM_PATH ...] --delta-column COLUMN
//!                 [--frequency once|minute|hour|day|week] [--interval N] [--no-backfill]
//!                 [--start EPOCH_SECONDS] [--name NAME] [--description TEXT] [--enable] [--plan]
//! pipeline status FLOW_ID
//! pipeline runs FLOW_ID [--limit N]
//! pipeline enable FLOW_ID
//! pipeline disable FLOW_ID
//! pipeline delete FLOW_ID [--with-connections]
//! ```
//!
//! Same environment, `--demo`, `--timeout` and exit codes as the other
//! examples (0 ok, 1 service or network failure, 2 bad input and nothing
//! written), plus 3 from `status` when the latest finished run failed.
//! Output is JSON, one object per line; times are ISO 8601 UTC.

mod common;

use std::io::Write;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use aep_flow::{Client, Frequency, Mapping, PipelineSpec, Run, Schedule};
use common::{Common, Failure, Flags, Output, Target, Usage};
use serde::Serialize;

const USAGE: &str = "usage:
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
      connection, never the dataset)";

/// Exit code of `status` when the latest finished run failed.
const EXIT_RUN_FAILED: u8 = 3;
/// Most runs `runs --limit` prints.
const MAX_LIMIT: usize = 10_000;

struct Ensure {
    connection: String,
    table: String,
    dataset: String,
    schema: Option<String>,
    maps: Vec<Mapping>,
    delta_column: String,
    schedule: Schedule,
    name: Option<String>,
    description: Option<String>,
    enable: bool,
    plan: bool,
}

enum Command {
    Ensure(Box<Ensure>),
    Status {
        flow: String,
    },
    Runs {
        flow: String,
        limit: Option<usize>,
    },
    Enable {
        flow: String,
    },
    Disable {
        flow: String,
    },
    Delete {
        flow: String,
        with_connections: bool,
    },
}

/// Every flag and its value, before the command decides which it takes.
#[derive(Default)]
struct Raw {
    values: Vec<(&'static str, String)>,
    maps: Vec<String>,
    switches: Vec<&'static str>,
}

impl Raw {
    fn take(&mut self, flag: &'static str) -> Option<String> {
        let i = self.values.iter().position(|(f, _)| *f == flag)?;
        Some(self.values.remove(i).1)
    }
    fn switch(&mut self, flag: &'static str) -> bool {
        let before = self.switches.len();
        self.switches.retain(|f| *f != flag);
        self.switches.len() != before
    }
    /// Refuses whatever the command did not take.
    fn done(self, sub: &str) -> Result<(), Usage> {
        let left: Vec<&str> = self
            .values
            .iter()
            .map(|(f, _)| *f)
            .chain(self.switches.iter().copied())
            .chain((!self.maps.is_empty()).then_some("--map"))
            .collect();
        match left.first() {
            Some(flag) => Err(Usage(format!("`{sub}` takes no {flag}"))),
            None => Ok(()),
        }
    }
}

const VALUE_FLAGS: &[&str] = &[
    "--connection",
    "--table",
    "--dataset",
    "--schema",
    "--delta-column",
    "--frequency",
    "--interval",
    "--start",
    "--name",
    "--description",
    "--limit",
];
const SWITCHES: &[&str] = &["--no-backfill", "--enable", "--plan", "--with-connections"];

fn parse_args(args: Vec<String>) -> Result<(Command, Common), Usage> {
    let mut flags = Flags::new(args);
    let mut common = Common::default();
    let mut raw = Raw::default();
    let mut sub = None;
    let mut positional = Vec::new();
    while let Some(arg) = flags.next_arg() {
        if common.take(&arg, &mut flags)? {
            continue;
        }
        if let Some(flag) = VALUE_FLAGS.iter().find(|f| **f == arg) {
            let value = flags.value(flag)?;
            raw.values.push((flag, value));
            continue;
        }
        if let Some(flag) = SWITCHES.iter().find(|f| **f == arg) {
            flags.switch(flag)?;
            raw.switches.push(flag);
            continue;
        }
        match arg.as_str() {
            "--help" | "-h" => return Err(Usage(String::new())),
            "--map" => raw.maps.push(flags.repeated_value("--map")?),
            a if a.starts_with("--") => {
                return Err(Usage(format!("unknown argument `{}`", a.escape_debug())))
            }
            _ if sub.is_none() => sub = Some(arg),
            _ => positional.push(arg),
        }
    }
    let sub = sub.ok_or_else(|| Usage("a command is required".into()))?;
    let one_flow = |positional: Vec<String>| -> Result<String, Usage> {
        match <[String; 1]>::try_from(positional) {
            Ok([id]) => Ok(id),
            Err(_) => Err(Usage(format!(
                "`{}` takes exactly one FLOW_ID",
                sub.escape_debug()
            ))),
        }
    };
    let command = match sub.as_str() {
        "ensure" => {
            if !positional.is_empty() {
                return Err(Usage("`ensure` takes no positional argument".into()));
            }
            let ensure = parse_ensure(&mut raw)?;
            Command::Ensure(Box::new(ensure))
        }
        "status" => Command::Status {
            flow: one_flow(positional)?,
        },
        "runs" => Command::Runs {
            flow: one_flow(positional)?,
            limit: raw.take("--limit").map(|l| parse_limit(&l)).transpose()?,
        },
        "enable" => Command::Enable {
            flow: one_flow(positional)?,
        },
        "disable" => Command::Disable {
            flow: one_flow(positional)?,
        },
        "delete" => Command::Delete {
            flow: one_flow(positional)?,
            with_connections: raw.switch("--with-connections"),
        },
        other => return Err(Usage(format!("unknown command `{}`", other.escape_debug()))),
    };
    raw.done(&sub)?;
    Ok((command, common))
}

fn parse_ensure(raw: &mut Raw) -> Result<Ensure, Usage> {
    let need = |raw: &mut Raw, flag: &'static str| {
        raw.take(flag)
            .ok_or_else(|| Usage(format!("`ensure` needs {flag}")))
    };
    let connection = need(raw, "--connection")?;
    let table = need(raw, "--table")?;
    let dataset = need(raw, "--dataset")?;
    let delta_column = need(raw, "--delta-column")?;
    if raw.maps.is_empty() {
        return Err(Usage(
            "`ensure` needs at least one --map COLUMN=XDM_PATH".into(),
        ));
    }
    let mut maps = Vec::new();
    for m in std::mem::take(&mut raw.maps) {
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
    let frequency = match raw.take("--frequency") {
        None => None,
        Some(f) if f.eq_ignore_ascii_case("once") => None,
        Some(f) => Some(Frequency::parse(&f).ok_or_else(|| {
            Usage(format!(
                "--frequency {:?} must be once, minute, hour, day or week",
                f.escape_debug().to_string()
            ))
        })?),
    };
    let interval = raw
        .take("--interval")
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
    let backfill = !raw.switch("--no-backfill");
    let start = match raw.take("--start") {
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
    Ok(Ensure {
        connection,
        table,
        dataset,
        schema: raw.take("--schema"),
        maps,
        delta_column,
        schedule,
        name: raw.take("--name"),
        description: raw.take("--description"),
        enable: raw.switch("--enable"),
        plan: raw.switch("--plan"),
    })
}

fn parse_limit(value: &str) -> Result<usize, Usage> {
    match value.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(Usage(format!(
            "--limit {:?} must be a whole number from 1 to {MAX_LIMIT}",
            value.escape_debug().to_string()
        ))),
    }
}

/// Epoch milliseconds as ISO 8601 UTC (`2026-11-27T13:51:25Z`).
fn iso(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// A run as `status` and `runs` print it, keys in this order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunLine<'a> {
    id: &'a str,
    status: &'a str,
    started_at: Option<String>,
    completed_at: Option<String>,
    input_records: Option<u64>,
    output_records: Option<u64>,
    failed_records: Option<u64>,
}

fn run_line(r: &Run) -> RunLine<'_> {
    RunLine {
        id: &r.id,
        status: r.status.as_str(),
        started_at: r.started_at.map(iso),
        completed_at: r.completed_at.map(iso),
        input_records: r.input_records,
        output_records: r.output_records,
        failed_records: r.failed_records,
    }
}

/// What `status` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusLine<'a> {
    flow_id: &'a str,
    state: &'a str,
    last_run: Option<RunLine<'a>>,
}

fn to_json(value: &impl Serialize) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure(1, format!("error: {e}")))
}

fn ensure(client: &Client, e: Ensure) -> Result<String, Failure> {
    let mut spec = PipelineSpec::new(
        e.connection,
        e.table,
        e.dataset,
        e.maps,
        e.delta_column,
        e.schedule,
    )
    .with_enable(e.enable)
    .with_plan(e.plan);
    if let Some(s) = e.schema {
        spec = spec.with_schema_id(s);
    }
    if let Some(n) = e.name {
        spec = spec.with_name(n);
    }
    if let Some(d) = e.description {
        spec = spec.with_description(d);
    }
    // `{"flowId","sourceConnectionId","targetConnectionId","mappingSetId","changed","planned",
    // "duplicates","warnings"}`; the warnings (twin flows, values that do not
    // read back) go to stderr as well.
    match client.ensure_pipeline_partial(&spec) {
        Ok(outcome) => {
            for w in &outcome.warnings {
                let _ = writeln!(std::io::stderr(), "warning: pipeline: {w}");
            }
            to_json(&outcome)
        }
        Err(failure) => {
            // A run that fails halfway says what it already made, so that
            // nothing is left unexplained (the next run finds and reuses it).
            let done = &failure.done;
            // Warnings found before the failure (twin flows) still matter.
            for w in &done.warnings {
                let _ = writeln!(std::io::stderr(), "warning: pipeline: {w}");
            }
            if !done.changes.is_empty() {
                let id_of = |c: &aep_flow::PipelineChange| match c {
                    aep_flow::PipelineChange::SourceConnectionCreated => {
                        done.source_connection_id.as_deref()
                    }
                    aep_flow::PipelineChange::TargetConnectionCreated => {
                        done.target_connection_id.as_deref()
                    }
                    aep_flow::PipelineChange::MappingSetCreated => done.mapping_set_id.as_deref(),
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
            Err(failure.error.into())
        }
    }
}

fn run(out: &mut Output) -> Result<(), Failure> {
    let help = format!(
        "{USAGE}\n\n{}\n\n{}\nexit 3: `status` found that the latest finished run failed.",
        common::COMMON_OPTIONS_HELP,
        common::ENVIRONMENT_HELP
    );
    let (command, options) = match common::args().and_then(parse_args) {
        Ok(parsed) => parsed,
        Err(Usage(m)) if m.is_empty() => return out.line(&help),
        Err(Usage(m)) => return Err(Failure(2, format!("error: {m}\n{help}"))),
    };
    let target = Target::from_env("pipeline", &options)?;
    if target.is_demo() {
        let _ = writeln!(
            std::io::stderr(),
            "note: pipeline: --demo: the demo Catalog holds dataset {} (schema fields {})",
            common::demo::DEMO_DATASET_ID,
            common::demo::DEMO_SCHEMA_FIELDS.join(", ")
        );
    }
    let client = options.client(target.platform)?;
    // The demo fake serves until the end of the command.
    let _demo = target.demo;
    match command {
        Command::Ensure(e) => {
            let line = ensure(&client, *e)?;
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
                last_run: runs.latest.as_ref().map(run_line),
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
                out.line(&to_json(&run_line(r))?)?;
            }
        }
        Command::Enable { flow } => {
            // `{"id","etag"}`, in that order.
            out.line(&to_json(&client.enable_flow(&flow)?)?)?;
        }
        Command::Disable { flow } => {
            out.line(&to_json(&client.disable_flow(&flow)?)?)?;
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
                let deletes = sources
                    .iter()
                    .map(|id| ("source", id))
                    .chain(targets.iter().map(|id| ("target", id)));
                for (kind, id) in deletes {
                    let result = if kind == "source" {
                        client.delete_source_connection(id)
                    } else {
                        client.delete_target_connection(id)
                    };
                    match result {
                        Ok(()) | Err(aep_flow::Error::NotFound { .. }) => {}
                        Err(aep_flow::Error::InUse { .. }) => {
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

fn main() -> ExitCode {
    let mut out = Output::new();
    let result = run(&mut out);
    common::finish(result, out)
}
