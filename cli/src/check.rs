//! `aep-flow check`: one cron line that says whether the data is arriving
//! (issue 22).
//!
//! For each pipeline, from live state: the flow, and one page of its runs
//! (newest first where the service honours `orderby`, sorted here either
//! way), classified by [`classify`], a pure function of the flow, the runs,
//! the time and the limits. States, in precedence: missing, disabled,
//! failed, partial, stale, ok. `--retrigger N` re-triggers a failed latest
//! run, at most N times per original run, counted from the runs the
//! service lists (no state file).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aep_flow::{
    Client, Error, Flow, FlowId, FlowState, Frequency, ListingEnd, Run, RunFilter, RunId,
    RunStatus, Schedule,
};
use clap::Args;
use serde::Serialize;

use crate::env::{self, Common, Failure, Usage};
use crate::output::{iso, to_json, Output, RunLine};
use crate::target::Target;

pub const HELP: &str = "states, in precedence (the first that holds is the pipeline's):
  missing   no flow (check -f: none joins the table's source and the dataset,
            or the declared dataset does not exist in the sandbox)
  disabled  the flow is disabled
  failed    the latest finished run failed (its error code and message, scrubbed)
  partial   the latest finished run succeeded with more failed records than
            max_failed_records (default 0)
  stale     no successful run within max_age (default: three schedule intervals;
            flows that run once are never stale). A run exactly max_age old is NOT
            stale. The success time is the run's completion, else its creation;
            a run without a readable createdAt never counts (a time more
            than a day ahead of this machine's clock is not readable).
  ok        none of the above
what it prints: one line per pipeline (sandbox, table → dataset or the flow id,
state, last success in ISO 8601 UTC and its age, records read/written/failed of
the latest finished run, the reasons), then a summary line; with --json one
object per pipeline, then {\"summary\":{...}}.
  --max-age DURATION        (with --flow; in the file: each pipeline's max_age) whole
                            numbers with units s, m, h, d, w (`2h`, `1h30m`, `7d`)
  --max-failed-records N    (with --flow; in the file: max_failed_records) failed records
                            a successful run may have (default 0)
  --retrigger N             (0 to 10) re-trigger the latest finished run when the service
                            reports it failed, unless the original run (followed through
                            parentFlowRunId) already has N re-triggers among the listed runs,
                            or the failed run already has one, or the flow is disabled;
                            each one is printed
runs read: one page of 100 per flow, newest first; a service that ignores the order
and lists more than a page is read to the end (past 10 000 runs: an error, exit 1).
exit codes: 0 every pipeline ok, 3 any missing, disabled, failed, partial or stale,
1 a service or network failure, 2 bad input (nothing sent).";

/// Exit code when any pipeline needs attention.
pub const EXIT_ATTENTION: u8 = 3;
/// Runs asked for per flow: one page.
pub const RUNS_PAGE: u32 = 100;
/// How far ahead of this machine's clock a run's time may be (clock skew)
/// before it is read as garbled: a day, in ms.
pub const MAX_AHEAD_MS: i64 = 86_400_000;
/// Most re-triggers `--retrigger` allows per original run.
pub const MAX_RETRIGGER: u32 = 10;

/// `aep-flow check`'s flags.
#[derive(Args)]
pub struct CheckArgs {
    /// The declarative file (default aep-flow.toml).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<std::path::PathBuf>,
    /// Only this sandbox of the file (repeatable).
    #[arg(long = "sandbox", value_name = "NAME")]
    sandboxes: Vec<String>,
    /// Only the pipelines of this table (repeatable).
    #[arg(long = "pipeline", value_name = "TABLE")]
    pipelines: Vec<String>,
    /// One flow outside a file (plain AEP_* environment).
    #[arg(long, value_name = "FLOW_ID")]
    flow: Option<FlowId>,
    /// With --flow: the age after which a flow without a successful run is
    /// stale (default: three schedule intervals).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    max_age: Option<String>,
    /// With --flow: failed records a successful run may have (default 0).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    max_failed_records: Option<String>,
    /// One JSON object per pipeline, then a summary.
    #[arg(long)]
    json: bool,
    /// Re-trigger a failed latest run, at most N times per original run
    /// (0 to 10).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    retrigger: Option<String>,
}

/// A pipeline's state, in precedence order (the first is the worst).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    Missing,
    Disabled,
    Failed,
    Partial,
    Stale,
    Ok,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Missing => "missing",
            State::Disabled => "disabled",
            State::Failed => "failed",
            State::Partial => "partial",
            State::Stale => "stale",
            State::Ok => "ok",
        }
    }
}

/// What [`classify`] needs of a flow.
#[derive(Clone, Debug)]
pub struct FlowFacts {
    pub disabled: bool,
    /// `None`: no readable schedule.
    pub schedule: Option<Schedule>,
}

impl From<&Flow> for FlowFacts {
    fn from(f: &Flow) -> Self {
        FlowFacts {
            disabled: f.state == FlowState::Disabled,
            schedule: f.schedule,
        }
    }
}

/// What [`classify`] needs of a run; `error` is already scrubbed.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFacts {
    pub id: String,
    pub status: RunStatus,
    pub created_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub failed_records: Option<u64>,
    /// The run's errors, scrubbed, joined with `; `.
    pub error: String,
    pub parent: Option<String>,
    pub children: Vec<String>,
}

impl RunFacts {
    /// `run`'s facts, its error text scrubbed of every secret `client`
    /// holds: the token IMS issued it, and the command's secrets it was
    /// built to scrub ([`env::scrub_values_of`]).
    pub fn of(run: &Run, client: &Client) -> Self {
        let error = run
            .errors
            .iter()
            .map(|e| client.shown_run_error(e, &[]))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        RunFacts {
            id: run.id.to_string(),
            status: run.status.clone(),
            created_at: run.created_at,
            completed_at: run.completed_at,
            failed_records: run.failed_records,
            error,
            parent: run.parent_run_id.as_ref().map(|i| i.to_string()),
            children: run.child_run_ids.iter().map(|i| i.to_string()).collect(),
        }
    }

    /// When it succeeded: its completion, else its creation; never for a
    /// run that cannot be placed in time (no readable `createdAt`).
    fn success_time(&self) -> Option<i64> {
        self.created_at?;
        self.completed_at.or(self.created_at)
    }
}

/// The limits of one pipeline.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    /// `max_age`; `None`: three schedule intervals.
    pub max_age: Option<Duration>,
    /// `max_failed_records` (default 0).
    pub max_failed_records: u64,
}

/// What [`classify`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub state: State,
    /// Every reason that holds, worst first (empty when ok).
    pub reasons: Vec<String>,
    /// Index in the runs of the newest finished run that can be placed in
    /// time.
    pub latest_finished: Option<usize>,
    /// The newest success time, epoch ms.
    pub last_success: Option<i64>,
    /// The max age applied; `None` when staleness does not apply.
    pub max_age: Option<Duration>,
}

/// Three intervals of `schedule`; `None` for a flow that runs once.
pub fn default_max_age(schedule: &Schedule) -> Option<Duration> {
    let unit = match schedule.frequency()? {
        Frequency::Minute => 60,
        Frequency::Hour => 3_600,
        Frequency::Day => 86_400,
        Frequency::Week => 7 * 86_400,
        _ => return None,
    };
    let interval = u64::from(schedule.interval()?);
    Some(Duration::from_secs(unit * interval * 3))
}

/// The state of a pipeline with flow `flow` (`None`: missing) and `runs`
/// (in any order) at `now` (epoch ms). Pure: no clock, no request.
pub fn classify(flow: Option<&FlowFacts>, runs: &[RunFacts], now: i64, limits: &Limits) -> Verdict {
    let Some(flow) = flow else {
        return Verdict {
            state: State::Missing,
            reasons: vec!["no flow".into()],
            latest_finished: None,
            last_success: None,
            max_age: None,
        };
    };
    // A time more than a day ahead of this clock is garbled, not skew: it
    // would make its run the latest (hiding every newer failure) or a
    // success that never grows old. Such a time is read as absent.
    let placeable = |t: Option<i64>| t.filter(|t| *t <= now.saturating_add(MAX_AHEAD_MS));
    let sane: Vec<RunFacts> = runs
        .iter()
        .map(|r| RunFacts {
            created_at: placeable(r.created_at),
            completed_at: placeable(r.completed_at),
            ..r.clone()
        })
        .collect();
    let runs = &sane[..];
    let mut found: Vec<(State, String)> = Vec::new();
    if flow.disabled {
        found.push((State::Disabled, "the flow is disabled".into()));
    }
    // The newest finished run that can be placed in time (ties: the
    // greater id, as the library sorts them).
    let latest_finished = runs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status.is_finished() && r.created_at.is_some())
        .max_by(|(_, a), (_, b)| a.created_at.cmp(&b.created_at).then(b.id.cmp(&a.id)))
        .map(|(i, _)| i);
    if let Some(run) = latest_finished.map(|i| &runs[i]) {
        match run.status {
            RunStatus::Failed => {
                let at = run.completed_at.or(run.created_at).map(iso);
                let mut reason = format!("run {} failed", run.id);
                if let Some(at) = at {
                    reason.push_str(&format!(" at {at}"));
                }
                if !run.error.is_empty() {
                    reason.push_str(&format!(": {}", run.error));
                }
                found.push((State::Failed, reason));
            }
            RunStatus::Success => {
                if let Some(n) = run
                    .failed_records
                    .filter(|n| *n > limits.max_failed_records)
                {
                    let mut reason = format!(
                        "run {} succeeded with {n} failed record{} (max_failed_records {})",
                        run.id,
                        if n == 1 { "" } else { "s" },
                        limits.max_failed_records
                    );
                    if !run.error.is_empty() {
                        reason.push_str(&format!(": {}", run.error));
                    }
                    found.push((State::Partial, reason));
                }
            }
            _ => {}
        }
    }
    let last_success = runs
        .iter()
        .filter(|r| r.status == RunStatus::Success)
        .filter_map(RunFacts::success_time)
        .max();
    // Flows that run once are never stale; a flow without a readable
    // schedule only with an explicit max_age.
    let max_age = match &flow.schedule {
        Some(s) if s.is_once() => None,
        Some(s) => limits.max_age.or_else(|| default_max_age(s)),
        None => limits.max_age,
    };
    if let Some(max_age) = max_age {
        let limit_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        match last_success {
            None => found.push((
                State::Stale,
                format!(
                    "no successful run within max_age {} (none among the runs listed)",
                    human_duration(max_age)
                ),
            )),
            // Exactly max_age old is not stale.
            Some(t) if now.saturating_sub(t) > limit_ms => found.push((
                State::Stale,
                format!(
                    "no successful run within max_age {} (the last, {}, is {} old)",
                    human_duration(max_age),
                    iso(t),
                    human_age(now.saturating_sub(t))
                ),
            )),
            Some(_) => {}
        }
    }
    let state = found.iter().map(|(s, _)| *s).min().unwrap_or(State::Ok);
    found.sort_by_key(|(s, _)| *s);
    Verdict {
        state,
        reasons: found.into_iter().map(|(_, r)| r).collect(),
        latest_finished,
        last_success,
        max_age,
    }
}

/// What `--retrigger N` should do for these runs: `Some((run, original,
/// count))` when the newest finished run (`latest`) failed, has no
/// re-trigger of its own yet, and its original run has fewer than `max`
/// re-triggers among the listed runs; else `Err(reason)` when there is a
/// failed run left alone, `Ok(None)` when nothing failed.
pub fn retrigger_decision(
    runs: &[RunFacts],
    latest: Option<usize>,
    max: u32,
) -> Result<Option<(String, String, usize)>, String> {
    let Some(run) = latest.map(|i| &runs[i]) else {
        return Ok(None);
    };
    // Never a run the service did not report as failed.
    if run.status != RunStatus::Failed || max == 0 {
        return Ok(None);
    }
    let original = original_of(runs, &run.id);
    let count = retriggers_of(runs, &original);
    if !run.children.is_empty() || runs.iter().any(|r| r.parent.as_deref() == Some(&run.id)) {
        return Err(format!(
            "run {} was already re-triggered ({count} of {max} for run {original})",
            run.id
        ));
    }
    if count >= max as usize {
        return Err(format!(
            "not re-triggered: run {original} already has {count} re-trigger{} (--retrigger {max})",
            if count == 1 { "" } else { "s" }
        ));
    }
    Ok(Some((run.id.clone(), original, count)))
}

/// The original run of `id`: followed through the parent links while the
/// parent is listed (a parent not listed is the original), never looping.
/// A run's parent is its `parentFlowRunId`, else the listed run whose
/// `childFlowRunIds` names it: a service that fills only one side of the
/// link still has every retry counted against its original.
pub fn original_of(runs: &[RunFacts], id: &str) -> String {
    let mut parent_of: HashMap<&str, &str> = HashMap::new();
    for r in runs {
        if let Some(p) = r.parent.as_deref() {
            parent_of.insert(r.id.as_str(), p);
        }
    }
    for r in runs {
        for c in &r.children {
            parent_of.entry(c.as_str()).or_insert(r.id.as_str());
        }
    }
    let mut seen = BTreeSet::new();
    let mut current = id;
    while seen.insert(current) {
        match parent_of.get(current) {
            Some(parent) => current = parent,
            None => break,
        }
    }
    current.to_owned()
}

/// How many re-triggers count against `original`: the listed runs whose
/// original it is (other than itself), and the ids their
/// `childFlowRunIds` name, each once.
pub fn retriggers_of(runs: &[RunFacts], original: &str) -> usize {
    let mut family: BTreeSet<String> = BTreeSet::new();
    for r in runs {
        if r.id != original && original_of(runs, &r.id) == original {
            family.insert(r.id.clone());
        }
    }
    // Children named by the original or its descendants, listed or not.
    let mut named: Vec<String> = Vec::new();
    for r in runs {
        if r.id == original || family.contains(&r.id) {
            named.extend(r.children.iter().cloned());
        }
    }
    family.extend(named);
    family.remove(original);
    family.len()
}

/// `--max-age`: a duration as the file's `max_age` reads it
/// ([`crate::project::file::parse_duration`]), white space around it
/// ignored.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::project::file::parse_duration(text.trim()).ok_or_else(|| {
        format!(
            "{:?} must be whole numbers with units s, m, h, d or w, each unit once (`2h`, \
             `1h30m`, `7d`), more than zero and at most 100 years",
            text.escape_debug().to_string()
        )
    })
}

/// `3d 4h`, `2h 5m`, `35m`, `45s`: the two largest units.
pub fn human_duration(d: Duration) -> String {
    human_age(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// An age in ms as [`human_duration`] writes it (negative: `0s`).
pub fn human_age(ms: i64) -> String {
    let s = (ms.max(0) / 1000) as u64;
    let parts = [
        (s / 86_400, "d"),
        (s % 86_400 / 3_600, "h"),
        (s % 3_600 / 60, "m"),
        (s % 60, "s"),
    ];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    parts[first..]
        .iter()
        .take(2)
        .filter(|(n, _)| *n > 0 || first == 3)
        .map(|(n, u)| format!("{n}{u}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Where a pipeline is, for its line.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    pub sandbox: String,
    /// Table and dataset name (the file form); `None` for `--flow`.
    pub table: Option<String>,
    pub dataset: Option<String>,
    pub flow_id: Option<String>,
}

/// What `--retrigger` did for a pipeline.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Retriggered {
    /// `re-triggered`, `skipped` or `failed`.
    pub outcome: &'static str,
    pub run_id: Option<String>,
    pub original_run_id: Option<String>,
    /// Re-triggers of the original counted before this one.
    pub count: Option<usize>,
    pub max: u32,
    pub detail: String,
}

/// One checked pipeline.
pub struct Checked {
    pub subject: Subject,
    pub verdict: Option<Verdict>,
    /// The runs read (for the latest finished run's counts).
    pub runs: Vec<Run>,
    /// A failure reading it (exit 1): the verdict is unknown.
    pub error: Option<String>,
    pub retrigger: Option<Retriggered>,
    pub now: i64,
}

/// `{"sandbox","table","dataset","flowId","state","reasons","lastSuccess",
/// "lastSuccessAgeSeconds","maxAgeSeconds","latestRun","retrigger"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckLine<'a> {
    sandbox: &'a str,
    table: Option<&'a str>,
    dataset: Option<&'a str>,
    flow_id: Option<&'a str>,
    state: &'a str,
    reasons: Vec<&'a str>,
    last_success: Option<String>,
    last_success_age_seconds: Option<i64>,
    max_age_seconds: Option<u64>,
    latest_run: Option<RunLine<'a>>,
    retrigger: Option<&'a Retriggered>,
}

impl Checked {
    fn state_word(&self) -> &'static str {
        match (&self.error, &self.verdict) {
            (Some(_), _) | (None, None) => "error",
            (None, Some(v)) => v.state.as_str(),
        }
    }

    fn latest_run(&self) -> Option<&Run> {
        self.verdict
            .as_ref()
            .and_then(|v| v.latest_finished)
            .and_then(|i| self.runs.get(i))
    }

    fn reasons(&self) -> Vec<&str> {
        let mut reasons: Vec<&str> = match &self.error {
            Some(e) => vec![e.as_str()],
            None => self
                .verdict
                .iter()
                .flat_map(|v| v.reasons.iter().map(String::as_str))
                .collect(),
        };
        if let Some(r) = &self.retrigger {
            reasons.push(&r.detail);
        }
        reasons
    }

    fn json(&self) -> Result<String, Failure> {
        let last_success = self.verdict.as_ref().and_then(|v| v.last_success);
        to_json(&CheckLine {
            sandbox: &self.subject.sandbox,
            table: self.subject.table.as_deref(),
            dataset: self.subject.dataset.as_deref(),
            flow_id: self.subject.flow_id.as_deref(),
            state: self.state_word(),
            reasons: self.reasons(),
            last_success: last_success.map(iso),
            last_success_age_seconds: last_success.map(|t| (self.now - t).max(0) / 1000),
            max_age_seconds: self
                .verdict
                .as_ref()
                .and_then(|v| v.max_age)
                .map(|d| d.as_secs()),
            latest_run: self.latest_run().map(RunLine::from),
            retrigger: self.retrigger.as_ref(),
        })
    }

    fn human(&self) -> String {
        let what = match (&self.subject.table, &self.subject.dataset) {
            (Some(t), Some(d)) => format!("{t} → {d}"),
            _ => format!("flow {}", self.subject.flow_id.as_deref().unwrap_or("?")),
        };
        let mut line = format!("{}  {what}  {}", self.subject.sandbox, self.state_word());
        if self.error.is_none() && self.verdict.is_some() {
            match self.verdict.as_ref().and_then(|v| v.last_success) {
                Some(t) => line.push_str(&format!(
                    "  last success {} ({} ago)",
                    iso(t),
                    human_age(self.now - t)
                )),
                None => line.push_str("  last success never"),
            }
            if let Some(r) = self.latest_run() {
                let n = |c: Option<u64>| c.map_or("?".to_owned(), |n| n.to_string());
                line.push_str(&format!(
                    "  records {}/{}/{} read/written/failed",
                    n(r.input_records),
                    n(r.output_records),
                    n(r.failed_records)
                ));
            }
        }
        let reasons = self.reasons();
        if !reasons.is_empty() {
            line.push_str("  ");
            line.push_str(&reasons.join("; "));
        }
        line
    }
}

/// The summary: `{"summary":{"pipelines","ok","missing","disabled",
/// "failed","partial","stale","errors","retriggered"}}`.
#[derive(Serialize, Default)]
struct Summary {
    pipelines: usize,
    ok: usize,
    missing: usize,
    disabled: usize,
    failed: usize,
    partial: usize,
    stale: usize,
    errors: usize,
    retriggered: usize,
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    summary: &'a Summary,
}

fn summarize(checked: &[Checked]) -> Summary {
    let mut s = Summary {
        pipelines: checked.len(),
        ..Summary::default()
    };
    for c in checked {
        match (&c.error, c.verdict.as_ref().map(|v| v.state)) {
            (Some(_), _) | (None, None) => s.errors += 1,
            (None, Some(State::Ok)) => s.ok += 1,
            (None, Some(State::Missing)) => s.missing += 1,
            (None, Some(State::Disabled)) => s.disabled += 1,
            (None, Some(State::Failed)) => s.failed += 1,
            (None, Some(State::Partial)) => s.partial += 1,
            (None, Some(State::Stale)) => s.stale += 1,
        }
        if c.retrigger
            .as_ref()
            .is_some_and(|r| r.outcome == "re-triggered")
        {
            s.retriggered += 1;
        }
    }
    s
}

/// One page of the flow's runs, newest first (sorted here). A service
/// that did not list them newest first and has more than a page: every
/// page, sorted (the newest may be on the last); when even that is cut
/// at the library's listing cap, the newest runs are not known and the
/// flow cannot be checked (an error, never a verdict from the oldest).
pub fn read_runs(client: &Client, flow: &FlowId) -> Result<Vec<Run>, String> {
    let filter = RunFilter::new(flow.clone())
        .with_page_size(RUNS_PAGE)
        .with_max_items(RUNS_PAGE as usize);
    let mut pages = client.runs(filter);
    let mut runs = Vec::new();
    for run in pages.by_ref() {
        runs.push(run.map_err(|e| e.to_string())?);
    }
    let newest_first = runs
        .iter()
        .filter_map(|r| r.created_at)
        .collect::<Vec<_>>()
        .windows(2)
        .all(|w| w[0] >= w[1]);
    if pages.end() == Some(ListingEnd::Capped) && !newest_first {
        let mut all = client.runs(RunFilter::new(flow.clone()));
        runs.clear();
        for run in all.by_ref() {
            runs.push(run.map_err(|e| e.to_string())?);
        }
        if all.end() != Some(ListingEnd::Complete) {
            return Err(format!(
                "the service did not list the runs of flow {flow} newest first (orderby \
                 ignored) and the flow has more than the {} runs read: which run is the newest \
                 is not known",
                runs.len()
            ));
        }
    }
    // Newest first; runs without a readable time last (ties by id).
    runs.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.id.as_str().cmp(b.id.as_str()))
    });
    Ok(runs)
}

/// Checks one flow: its facts (`None`: missing), runs, verdict and, with
/// `retrigger`, the re-trigger. A failure to read is the pipeline's error.
pub fn check_flow(
    client: &Client,
    subject: Subject,
    flow: Option<&Flow>,
    limits: &Limits,
    retrigger: u32,
) -> Checked {
    let now = now_millis();
    let mut checked = Checked {
        subject,
        verdict: None,
        runs: Vec::new(),
        error: None,
        retrigger: None,
        now,
    };
    let Some(flow) = flow else {
        checked.verdict = Some(classify(None, &[], now, limits));
        return checked;
    };
    let runs = match read_runs(client, &flow.id) {
        Ok(runs) => runs,
        Err(e) => {
            checked.error = Some(e);
            return checked;
        }
    };
    let facts: Vec<RunFacts> = runs.iter().map(|r| RunFacts::of(r, client)).collect();
    let verdict = classify(Some(&FlowFacts::from(flow)), &facts, now, limits);
    // A disabled flow's failed run is left alone: whoever disabled the
    // flow stopped its ingestion on purpose.
    let decision = match retrigger_decision(&facts, verdict.latest_finished, retrigger) {
        Ok(Some((run, _, _))) if verdict.state == State::Disabled => Err(format!(
            "not re-triggered: run {run} failed but the flow is disabled"
        )),
        other => other,
    };
    if retrigger > 0 {
        checked.retrigger = match decision {
            Ok(None) => None,
            Err(detail) => Some(Retriggered {
                outcome: "skipped",
                run_id: verdict.latest_finished.map(|i| facts[i].id.clone()),
                original_run_id: None,
                count: None,
                max: retrigger,
                detail,
            }),
            Ok(Some((run, original, count))) => {
                let sent = run
                    .parse::<RunId>()
                    .map_err(|e| e.to_string())
                    .and_then(|id| client.retrigger_run(&id).map_err(|e| e.to_string()));
                Some(match sent {
                    Ok(()) => Retriggered {
                        outcome: "re-triggered",
                        detail: format!(
                            "re-triggered run {run} ({} of {retrigger} for run {original})",
                            count + 1
                        ),
                        run_id: Some(run),
                        original_run_id: Some(original),
                        count: Some(count + 1),
                        max: retrigger,
                    },
                    Err(e) => {
                        checked.error = Some(format!("re-triggering run {run} failed: {e}"));
                        Retriggered {
                            outcome: "failed",
                            detail: format!("re-trigger of run {run} not confirmed"),
                            run_id: Some(run),
                            original_run_id: Some(original),
                            count: Some(count),
                            max: retrigger,
                        }
                    }
                })
            }
        };
    }
    checked.verdict = Some(verdict);
    checked.runs = runs;
    checked
}

/// Checked flags.
struct Options {
    limits: Limits,
    retrigger: u32,
    json: bool,
}

fn parse_options(args: &CheckArgs) -> Result<Options, Usage> {
    let retrigger = match &args.retrigger {
        None => 0,
        Some(t) => match t.parse::<u32>() {
            Ok(n) if n <= MAX_RETRIGGER => n,
            _ => {
                return Err(Usage(format!(
                    "--retrigger {:?} must be a whole number from 0 to {MAX_RETRIGGER}",
                    t.escape_debug().to_string()
                )))
            }
        },
    };
    let max_age = args
        .max_age
        .as_deref()
        .map(|t| parse_duration(t).map_err(|e| Usage(format!("--max-age {e}"))))
        .transpose()?;
    let max_failed_records = match &args.max_failed_records {
        None => 0,
        Some(t) => t.parse::<u64>().map_err(|_| {
            Usage(format!(
                "--max-failed-records {:?} must be a whole number (0 or more)",
                t.escape_debug().to_string()
            ))
        })?,
    };
    Ok(Options {
        limits: Limits {
            max_age,
            max_failed_records,
        },
        retrigger,
        json: args.json,
    })
}

/// Prints the lines and the summary; the exit status.
fn report(checked: &[Checked], json: bool, out: &mut Output) -> Result<(), Failure> {
    for c in checked {
        out.line(&if json { c.json()? } else { c.human() })?;
    }
    let summary = summarize(checked);
    if json {
        out.line(&to_json(&SummaryLine { summary: &summary })?)?;
    } else {
        out.line(&format!(
            "{} pipeline{}: {} ok, {} missing, {} disabled, {} failed, {} partial, {} stale, {} \
             error{}{}",
            summary.pipelines,
            if summary.pipelines == 1 { "" } else { "s" },
            summary.ok,
            summary.missing,
            summary.disabled,
            summary.failed,
            summary.partial,
            summary.stale,
            summary.errors,
            if summary.errors == 1 { "" } else { "s" },
            if summary.retriggered > 0 {
                format!(", {} re-triggered", summary.retriggered)
            } else {
                String::new()
            }
        ))?;
    }
    if summary.errors > 0 {
        let first = checked
            .iter()
            .find_map(|c| c.error.as_deref())
            .unwrap_or("a pipeline could not be checked");
        return Err(Failure(1, format!("error: check: {first}")));
    }
    if summary.ok < summary.pipelines {
        return Err(Failure(EXIT_ATTENTION, String::new()));
    }
    Ok(())
}

pub fn run(args: CheckArgs, common: &Common, out: &mut Output) -> Result<(), Failure> {
    let options = parse_options(&args)?;
    let Some(flow_id) = args.flow.clone() else {
        if args.max_age.is_some() || args.max_failed_records.is_some() {
            return Err(Usage(
                "--max-age and --max-failed-records go with --flow; in the file they are each \
                 pipeline's max_age and max_failed_records"
                    .into(),
            )
            .into());
        }
        return check_file(&args, &options, common, out);
    };
    if args.file.is_some() || !args.sandboxes.is_empty() || !args.pipelines.is_empty() {
        return Err(Usage(
            "--flow checks one flow outside a file: it takes no -f, --sandbox or --pipeline".into(),
        )
        .into());
    }
    let target = Target::from_env("aep-flow", common)?;
    let sandbox = target.platform.sandbox_name().to_owned();
    // What runs may echo, besides the secrets the client holds itself
    // (PGPASSWORD always is).
    env::scrub_values_of(["AEP_ACCESS_TOKEN", "AEP_CLIENT_SECRET"]);
    let client = common.client(target.platform)?;
    let _demo = target.demo;
    let flow = match client.get_flow(&flow_id) {
        Ok(f) => Some(f),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    let subject = Subject {
        sandbox,
        table: None,
        dataset: None,
        flow_id: Some(flow_id.to_string()),
    };
    let checked = match &flow {
        Some(flow) => check_flow(
            &client,
            subject,
            Some(flow),
            &options.limits,
            options.retrigger,
        ),
        None => missing(subject, format!("flow {flow_id} not found")),
    };
    report(&[checked], options.json, out)
}

/// A pipeline without a flow, and why.
fn missing(subject: Subject, reason: String) -> Checked {
    Checked {
        subject,
        verdict: Some(Verdict {
            state: State::Missing,
            reasons: vec![reason],
            latest_finished: None,
            last_success: None,
            max_age: None,
        }),
        runs: Vec::new(),
        error: None,
        retrigger: None,
        now: now_millis(),
    }
}

/// `check -f FILE`: every declared pipeline (of the `--pipeline` tables)
/// in every sandbox (of `--sandbox`), the flow found as `plan` finds it:
/// the base connection by name and the datasets by name once per sandbox
/// ([`crate::project::live::resolve_tolerating_missing_datasets`]: a
/// declared dataset that does not exist is that pipeline missing), then per pipeline its source (base connection,
/// table), its target (dataset) and the flow joining them, and one page of
/// its runs: four requests for a healthy pipeline.
fn check_file(
    args: &CheckArgs,
    options: &Options,
    common: &Common,
    out: &mut Output,
) -> Result<(), Failure> {
    use crate::project::{live, plan};
    let selection = plan::Selection {
        file: args.file.clone(),
        sandboxes: args.sandboxes.clone(),
        json: args.json,
        prune: false,
    };
    let (session, platforms, chosen) = plan::Session::open("check", &selection, common)?;
    let project = &session.project;
    // Every --pipeline names a declared table, before anything is sent.
    for table in &args.pipelines {
        if !project.pipelines.iter().any(|p| &p.table == table) {
            return Err(Usage(format!(
                "--pipeline {:?}: {} declares no pipeline of that table",
                table.escape_debug().to_string(),
                project.shown_file()
            ))
            .into());
        }
    }
    let wanted =
        |table: &str| args.pipelines.is_empty() || args.pipelines.iter().any(|t| t == table);
    let sandboxes: Vec<&crate::project::SandboxDecl> =
        chosen.iter().map(|&i| &project.sandboxes[i]).collect();
    // What runs may echo (the sandboxes' tokens and client secrets, the
    // databases' passwords) every client scrubs: Session::open registered
    // them (Project::scrub_its_secrets).
    if let Some(demo) = &session.demo {
        // The README's file under --demo: one partial pipeline to show.
        for s in &sandboxes {
            crate::demo::check_seed::seed_partial(demo, &s.name);
        }
    }
    let connected = live::connect(&sandboxes, platforms, common)?;
    let mut checked = Vec::new();
    for c in &connected {
        // A declared dataset that does not exist here is that pipeline's
        // state (missing), not bad input: the file may be ahead of the
        // sandbox.
        // A service or network failure reading this sandbox is its
        // pipelines' error (exit 1); the other sandboxes are still checked
        // and printed. Bad input (exit 2) still stops the command.
        let state = match live::resolve_tolerating_missing_datasets(project, c) {
            Ok(state) => Ok(state),
            Err(Failure(1, message)) => Err(message
                .strip_prefix("error: ")
                .unwrap_or(&message)
                .to_owned()),
            Err(other) => return Err(other),
        };
        for decl in project
            .pipelines_in(&c.sandbox.name)
            .filter(|p| wanted(&p.table))
        {
            let subject = Subject {
                sandbox: c.sandbox.name.clone(),
                table: Some(decl.table.clone()),
                dataset: Some(decl.dataset.clone()),
                flow_id: None,
            };
            let state = match &state {
                Ok(state) => state,
                Err(message) => {
                    checked.push(Checked {
                        error: Some(message.clone()),
                        ..missing(subject, String::new())
                    });
                    continue;
                }
            };
            let Some(r) = state.pipelines.iter().find(|r| std::ptr::eq(r.decl, decl)) else {
                let why = state
                    .without_dataset
                    .iter()
                    .find(|(p, _)| std::ptr::eq(*p, decl))
                    .map_or_else(|| "no dataset".to_owned(), |(_, why)| why.clone());
                checked.push(missing(subject, why));
                continue;
            };
            let limits = Limits {
                max_age: r.decl.max_age,
                max_failed_records: r.decl.max_failed_records,
            };
            let base = state
                .base(&r.decl.connection)
                .and_then(|b| b.found.as_ref());
            checked.push(match find_flow(&c.client, base, r) {
                Ok(Ok(flow)) => {
                    let subject = Subject {
                        flow_id: Some(flow.id.to_string()),
                        ..subject
                    };
                    check_flow(&c.client, subject, Some(&flow), &limits, options.retrigger)
                }
                Ok(Err(reason)) => missing(subject, reason),
                Err(e) => Checked {
                    error: Some(e.to_string()),
                    ..missing(subject, String::new())
                },
            });
        }
    }
    let result = report(&checked, options.json, out);
    drop(session);
    result
}

/// The flow of a declared pipeline, found as `plan` finds it: the source
/// connection reading the table through the base connection, the target
/// connection writing the dataset, the flow joining them. `Ok(Err(why))`
/// when one of them is missing.
fn find_flow(
    client: &Client,
    base: Option<&aep_flow::Connection>,
    r: &crate::project::live::Resolved<'_>,
) -> Result<Result<Flow, String>, Error> {
    let Some(base) = base else {
        return Ok(Err(format!(
            "no base connection named {:?}",
            r.decl.connection
        )));
    };
    let Some(source) = client.find_source_connection(&base.id, &r.decl.table)? else {
        return Ok(Err(format!(
            "no source connection reads {} through {:?}",
            r.decl.table, r.decl.connection
        )));
    };
    let Some(target) = client.find_target_connection(&r.dataset.id)? else {
        return Ok(Err(format!(
            "no target connection writes dataset {:?} ({})",
            r.dataset.name, r.dataset.id
        )));
    };
    Ok(client.find_flow(&source.id, &target.id)?.ok_or_else(|| {
        format!(
            "no flow from source connection {} to target connection {}",
            source.id, target.id
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const NOW: i64 = 1_800_000_000_000;

    fn hourly() -> FlowFacts {
        FlowFacts {
            disabled: false,
            schedule: Some(Schedule::every(Frequency::Hour, 1, 1_700_000_000).unwrap()),
        }
    }

    fn run(id: &str, status: RunStatus, created: Option<i64>) -> RunFacts {
        RunFacts {
            id: id.into(),
            status,
            created_at: created,
            completed_at: created.map(|c| c + 1_000),
            failed_records: Some(0),
            error: String::new(),
            parent: None,
            children: Vec::new(),
        }
    }

    fn ok_at(id: &str, completed: i64) -> RunFacts {
        RunFacts {
            completed_at: Some(completed),
            ..run(id, RunStatus::Success, Some(completed - 60_000))
        }
    }

    fn state(flow: Option<&FlowFacts>, runs: &[RunFacts], limits: &Limits) -> State {
        classify(flow, runs, NOW, limits).state
    }

    #[test]
    fn every_state_and_its_precedence() {
        let l = Limits::default();
        assert_eq!(state(None, &[], &l), State::Missing);
        let healthy = [ok_at("a", NOW - H)];
        assert_eq!(state(Some(&hourly()), &healthy, &l), State::Ok);
        let v = classify(Some(&hourly()), &healthy, NOW, &l);
        assert!(v.reasons.is_empty());
        assert_eq!(v.last_success, Some(NOW - H));
        assert_eq!(v.max_age, Some(Duration::from_secs(3 * 3600)));

        let disabled = FlowFacts {
            disabled: true,
            ..hourly()
        };
        let mut failed = run("f", RunStatus::Failed, Some(NOW - 10_000));
        failed.error = "CONNECTOR-2001-500: refused".into();
        // Disabled beats failed; both reasons shown, worst first.
        let v = classify(Some(&disabled), &[failed.clone()], NOW, &l);
        assert_eq!(v.state, State::Disabled);
        assert_eq!(v.reasons[0], "the flow is disabled");
        assert!(
            v.reasons[1].starts_with("run f failed at "),
            "{:?}",
            v.reasons
        );
        assert!(v.reasons[1].ends_with(": CONNECTOR-2001-500: refused"));
        // Failed beats stale (no success at all).
        let v = classify(Some(&hourly()), &[failed.clone()], NOW, &l);
        assert_eq!(v.state, State::Failed);
        assert_eq!(v.reasons.len(), 2);
        assert!(v.reasons[1].starts_with("no successful run within max_age 3h"));
        // A failure followed by a success: ok.
        assert_eq!(
            state(
                Some(&hourly()),
                &[
                    failed.clone(),
                    run("s", RunStatus::Success, Some(NOW - 5_000))
                ],
                &l
            ),
            State::Ok
        );

        // Partial: failed records above the limit; at the limit it is ok.
        let mut partial = ok_at("p", NOW - H);
        partial.failed_records = Some(5);
        let v = classify(Some(&hourly()), &[partial.clone()], NOW, &l);
        assert_eq!(v.state, State::Partial);
        assert_eq!(
            v.reasons,
            ["run p succeeded with 5 failed records (max_failed_records 0)"]
        );
        let five = Limits {
            max_failed_records: 5,
            ..Limits::default()
        };
        assert_eq!(state(Some(&hourly()), &[partial.clone()], &five), State::Ok);
        // Unknown counts are not failed records.
        partial.failed_records = None;
        assert_eq!(state(Some(&hourly()), &[partial], &l), State::Ok);
        // Partial beats stale.
        let mut old_partial = ok_at("p", NOW - 10 * H);
        old_partial.failed_records = Some(1);
        let v = classify(Some(&hourly()), &[old_partial], NOW, &l);
        assert_eq!(v.state, State::Partial);
        assert_eq!(v.reasons.len(), 2);

        // Stale: no success within three intervals.
        assert_eq!(
            state(Some(&hourly()), &[ok_at("o", NOW - 4 * H)], &l),
            State::Stale
        );
        assert_eq!(state(Some(&hourly()), &[], &l), State::Stale);
    }

    #[test]
    fn the_clock_edges_of_max_age() {
        let l = Limits::default();
        // Exactly max_age old: not stale; a millisecond more: stale.
        assert_eq!(
            state(Some(&hourly()), &[ok_at("a", NOW - 3 * H)], &l),
            State::Ok
        );
        assert_eq!(
            state(Some(&hourly()), &[ok_at("a", NOW - 3 * H - 1)], &l),
            State::Stale
        );
        // An explicit max_age replaces the default.
        let two = Limits {
            max_age: Some(Duration::from_secs(2 * 3600)),
            ..Limits::default()
        };
        assert_eq!(
            state(Some(&hourly()), &[ok_at("a", NOW - 2 * H)], &two),
            State::Ok
        );
        assert_eq!(
            state(Some(&hourly()), &[ok_at("a", NOW - 2 * H - 1)], &two),
            State::Stale
        );
        // A success in the future (clock skew) is not stale.
        assert_eq!(
            state(Some(&hourly()), &[ok_at("a", NOW + H)], &l),
            State::Ok
        );
        // Every 15 minutes: 45 minutes.
        let quarter = FlowFacts {
            disabled: false,
            schedule: Some(Schedule::every(Frequency::Minute, 15, 1).unwrap()),
        };
        assert_eq!(
            state(Some(&quarter), &[ok_at("a", NOW - 45 * 60_000)], &l),
            State::Ok
        );
        assert_eq!(
            state(Some(&quarter), &[ok_at("a", NOW - 45 * 60_000 - 1)], &l),
            State::Stale
        );
        let weekly = Schedule::every(Frequency::Week, 2, 1).unwrap();
        assert_eq!(
            default_max_age(&weekly),
            Some(Duration::from_secs(6 * 7 * 86_400))
        );
        // Flows that run once are never stale, whatever max_age says.
        let once = FlowFacts {
            disabled: false,
            schedule: Some(Schedule::once(1)),
        };
        assert_eq!(state(Some(&once), &[], &l), State::Ok);
        assert_eq!(state(Some(&once), &[ok_at("a", 1_000)], &two), State::Ok);
        assert_eq!(default_max_age(&Schedule::once(1)), None);
        // No readable schedule: only an explicit max_age applies.
        let unknown = FlowFacts {
            disabled: false,
            schedule: None,
        };
        assert_eq!(state(Some(&unknown), &[], &l), State::Ok);
        assert_eq!(state(Some(&unknown), &[], &two), State::Stale);
    }

    #[test]
    fn runs_without_a_readable_time_never_count_as_a_success() {
        let l = Limits::default();
        // createdAt missing or garbled (read as None): no success time,
        // even with a completion time.
        let mut timeless = ok_at("t", NOW - 1_000);
        timeless.created_at = None;
        let v = classify(Some(&hourly()), &[timeless.clone()], NOW, &l);
        assert_eq!(v.state, State::Stale);
        assert_eq!(v.last_success, None);
        assert_eq!(v.latest_finished, None);
        // Nor as the latest finished run: a failed one without a time is
        // not "the latest".
        let mut failed = run("f", RunStatus::Failed, None);
        failed.completed_at = Some(NOW);
        let v = classify(
            Some(&hourly()),
            &[failed, ok_at("s", NOW - H), timeless],
            NOW,
            &l,
        );
        assert_eq!(v.state, State::Ok);
        assert_eq!(v.latest_finished, Some(1));
        // A success without a completion time counts from its creation.
        let mut no_end = run("n", RunStatus::Success, Some(NOW - 2 * H));
        no_end.completed_at = None;
        let v = classify(Some(&hourly()), &[no_end], NOW, &l);
        assert_eq!((v.state, v.last_success), (State::Ok, Some(NOW - 2 * H)));
    }

    #[test]
    fn times_far_in_the_future_are_garbled_not_the_latest_nor_a_success() {
        let l = Limits::default();
        const YEAR: i64 = 365 * 24 * H;
        // A success stamped decades ahead does not hide a newer failure.
        let future_ok = ok_at("future", NOW + 70 * YEAR);
        let failed = run("f", RunStatus::Failed, Some(NOW - 60_000));
        let v = classify(Some(&hourly()), &[future_ok.clone(), failed], NOW, &l);
        assert_eq!(v.state, State::Failed, "{v:?}");
        assert_eq!(v.latest_finished, Some(1));
        // Nor keeps a flow that stopped running fresh forever.
        let v = classify(Some(&hourly()), &[future_ok], NOW, &l);
        assert_eq!((v.state, v.last_success), (State::Stale, None));
        // A garbled completion falls back to the creation time.
        let mut late_end = ok_at("e", NOW - 10 * H);
        late_end.completed_at = Some(NOW + 70 * YEAR);
        let v = classify(Some(&hourly()), &[late_end], NOW, &l);
        assert_eq!(
            (v.state, v.last_success),
            (State::Stale, Some(NOW - 10 * H - 60_000))
        );
        // Skew within a day is still a time.
        let v = classify(Some(&hourly()), &[ok_at("s", NOW + 23 * H)], NOW, &l);
        assert_eq!(v.state, State::Ok);
    }

    #[test]
    fn runs_in_any_order_and_runs_not_over() {
        let l = Limits::default();
        let mut failed = run("new-fail", RunStatus::Failed, Some(NOW - 1_000));
        failed.error = "E".into();
        let old_ok = ok_at("old-ok", NOW - 2 * H);
        // Oldest first (a service ignoring orderby) or newest first: the
        // same verdict.
        let oldest_first = [old_ok.clone(), failed.clone()];
        let newest_first = [failed.clone(), old_ok.clone()];
        for runs in [&oldest_first[..], &newest_first[..]] {
            let v = classify(Some(&hourly()), runs, NOW, &l);
            assert_eq!(v.state, State::Failed);
            assert_eq!(runs[v.latest_finished.unwrap()].id, "new-fail");
            assert_eq!(v.last_success, old_ok.completed_at);
        }
        // Runs still going are not finished: the failure stands.
        let going = run("going", RunStatus::InProgress, Some(NOW));
        let scheduled = run("later", RunStatus::Scheduled, Some(NOW + 1));
        let other = run("odd", RunStatus::Other("Cancelled".into()), Some(NOW + 2));
        let v = classify(
            Some(&hourly()),
            &[going, failed, scheduled, other, old_ok],
            NOW,
            &l,
        );
        assert_eq!(v.state, State::Failed);
        // Equal times: the smaller id is the newer, as the library sorts.
        let a = run("a", RunStatus::Failed, Some(NOW - 1));
        let b = ok_at("b", NOW - 1);
        let b = RunFacts {
            created_at: Some(NOW - 1),
            ..b
        };
        let v = classify(Some(&hourly()), &[b, a], NOW, &l);
        assert_eq!(v.state, State::Failed);
    }

    fn child(id: &str, parent: &str, status: RunStatus, at: i64) -> RunFacts {
        RunFacts {
            parent: Some(parent.into()),
            ..run(id, status, Some(at))
        }
    }

    #[test]
    fn retriggers_count_against_the_original_run() {
        let mut original = run("r0", RunStatus::Failed, Some(1));
        original.children = vec!["r1".into()];
        let mut r1 = child("r1", "r0", RunStatus::Failed, 2);
        r1.children = vec!["r2".into()];
        let r2 = child("r2", "r1", RunStatus::Failed, 3);
        let runs = vec![original.clone(), r1.clone(), r2.clone()];
        assert_eq!(original_of(&runs, "r2"), "r0");
        assert_eq!(original_of(&runs, "r0"), "r0");
        assert_eq!(retriggers_of(&runs, "r0"), 2);
        // The latest (r2) failed: a third re-trigger is within 3, not 2.
        assert_eq!(
            retrigger_decision(&runs, Some(2), 3),
            Ok(Some(("r2".into(), "r0".into(), 2)))
        );
        let refused = retrigger_decision(&runs, Some(2), 2).unwrap_err();
        assert!(refused.contains("already has 2 re-triggers"), "{refused}");
        // Off, or a run not reported failed: nothing.
        assert_eq!(retrigger_decision(&runs, Some(2), 0), Ok(None));
        let ok = vec![ok_at("s", 5)];
        assert_eq!(retrigger_decision(&ok, Some(0), 5), Ok(None));
        assert_eq!(retrigger_decision(&ok, None, 5), Ok(None));
        let odd = vec![run("x", RunStatus::Other("FAILED-ish".into()), Some(1))];
        assert_eq!(retrigger_decision(&odd, Some(0), 5), Ok(None));
        // A failed run already re-triggered (its retry still going) is
        // not re-triggered again.
        let going = child("r3", "r2", RunStatus::InProgress, 4);
        let runs = vec![original.clone(), r1.clone(), r2.clone(), going];
        let skipped = retrigger_decision(&runs, Some(2), 5).unwrap_err();
        assert!(skipped.contains("already re-triggered"), "{skipped}");
        // A child named only in childFlowRunIds (not listed) counts.
        let mut lonely = run("q0", RunStatus::Failed, Some(1));
        lonely.children = vec!["unlisted".into()];
        assert_eq!(retriggers_of(&[lonely.clone()], "q0"), 1);
        // A parent not listed is the original; a loop ends.
        let orphan = vec![child("o1", "gone", RunStatus::Failed, 2)];
        assert_eq!(original_of(&orphan, "o1"), "gone");
        assert_eq!(retriggers_of(&orphan, "gone"), 1);
        let looped = vec![
            child("l1", "l2", RunStatus::Failed, 1),
            child("l2", "l1", RunStatus::Failed, 2),
        ];
        let o = original_of(&looped, "l1");
        assert!(o == "l1" || o == "l2");
        assert!(retriggers_of(&looped, &o) <= 1);
    }

    #[test]
    fn retries_linked_only_by_child_flow_run_ids_count_against_the_original() {
        // The service names each retry in its parent's childFlowRunIds
        // but sends no parentFlowRunId on the retry.
        let mut r0 = run("r0", RunStatus::Failed, Some(1));
        r0.children = vec!["r1".into()];
        let mut r1 = run("r1", RunStatus::Failed, Some(2));
        r1.children = vec!["r2".into()];
        let r2 = run("r2", RunStatus::Failed, Some(3));
        let runs = vec![r2, r1, r0];
        assert_eq!(original_of(&runs, "r2"), "r0");
        assert_eq!(retriggers_of(&runs, "r0"), 2);
        let refused = retrigger_decision(&runs, Some(0), 2).unwrap_err();
        assert!(refused.contains("already has 2 re-triggers"), "{refused}");
        assert_eq!(
            retrigger_decision(&runs, Some(0), 3),
            Ok(Some(("r2".into(), "r0".into(), 2)))
        );
    }

    #[test]
    fn durations_parse_strictly_and_print_shortly() {
        for (text, secs) in [
            ("2h", 7_200),
            ("1h30m", 5_400),
            ("90s", 90),
            ("7d", 604_800),
            ("1w", 604_800),
            (" 15m ", 900),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
        for bad in [
            "",
            "2",
            "h",
            "0h",
            "2H",
            "1.5h",
            "-1h",
            "2 h",
            "1h30",
            "99999999999999w",
            "2h\u{0}",
            "２h",
            "1h1h",
            "36601d",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("must be whole numbers"), "{bad:?}: {e}");
        }
        assert_eq!(human_age(0), "0s");
        assert_eq!(human_age(-5), "0s");
        assert_eq!(human_age(45_000), "45s");
        assert_eq!(human_age(35 * 60_000), "35m");
        assert_eq!(human_age(2 * H + 5 * 60_000 + 7_000), "2h 5m");
        assert_eq!(human_age(3 * 24 * H + 4 * H), "3d 4h");
        assert_eq!(human_age(24 * H + 30_000), "1d");
    }
}
