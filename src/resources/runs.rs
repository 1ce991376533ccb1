//! Dataflow runs (`/runs`): one execution of a flow, with its status,
//! times, record and byte counts and errors, as Flow Service's
//! `metrics` describe them.
//!
//! Calls: the listings [`Client::runs`] (lazy) and [`Client::list_runs`]
//! with a [`RunFilter`] (one flow), [`Client::get_run`], and the monitor
//! calls [`Client::latest_runs`], [`Client::latest_finished_run`] and
//! [`Client::run_summary`]; the action [`Client::retrigger_run`].
//!
//! Adobe's sources disagree on the details, so runs are read leniently
//! (the rules of [`crate::wire::read`]): counts and times may come as
//! numbers or as numeric strings, the status in any casing (`failed`,
//! `Failed`), the etag as `etag` or `eTag`, times as milliseconds, seconds
//! or ISO 8601 text, any section of `metrics` missing or garbled. Only the
//! run's `id` is required to read a run; a listing also needs its `flowId`
//! (a run that cannot be attributed to the flow is an error), and the
//! monitor calls its `createdAt` (a run that cannot be placed in time is an
//! error). The order of a listing is not documented: [`Client::list_runs`]
//! sorts newest first itself.
//!
//! [`Client::runs`]: crate::Client::runs
//! [`Client::list_runs`]: crate::Client::list_runs
//! [`RunFilter`]: crate::RunFilter
//! [`Client::get_run`]: crate::Client::get_run
//! [`Client::latest_runs`]: crate::Client::latest_runs
//! [`Client::latest_finished_run`]: crate::Client::latest_finished_run
//! [`Client::run_summary`]: crate::Client::run_summary
//! [`Client::retrigger_run`]: crate::Client::retrigger_run

use std::cmp::Ordering;

use serde::Deserialize;

use super::connections::{DEFAULT_MAX_ITEMS, DEFAULT_PAGE_SIZE};
use super::flows::LastRun;
use super::unusable_answer;
use crate::client::input::check_id;
use crate::client::paging::{paging_options, ListingEnd, Pages, Query};
use crate::client::request::Method;
use crate::client::resource::{Filter, Resource};
use crate::client::results::WireItem;
use crate::client::Client;
use crate::error::{named_enum, Error};
use crate::ids::{FlowId, FromService, RunId};
use crate::secret::Secret;
use crate::wire::read;
use crate::wire::response::wipe;
use crate::wire::scrub::Scrubber;

impl Resource for Run {
    const NAME: &'static str = "run";
    const COLLECTION: &'static str = "runs";
    const ID_FIELD: &'static str = "run_id";
    const PAGE: &'static str = "a page of runs {\"items\": [...]}";
    type Wire = WireRun;
    type Filter = RunFilter;
}

impl Filter<Run> for RunFilter {
    fn query(&self) -> Result<Query, Error> {
        check_id("flow_id", self.flow_id.as_str())?;
        // No status filter on the wire: see `with_status`.
        let query = Query::new("runs", self.page_size)?.property("flowId", self.flow_id.as_str());
        // Newest first where the service honours `orderby` (the list's
        // order is not documented; `list_runs` sorts again either way).
        // With a cap below the flow's run count, this keeps the newest.
        Ok(query.param("orderby", "-createdAt"))
    }
    /// Runs of another flow are skipped (a service that ignores the
    /// filter); runs without a `flowId` are kept, for
    /// [`attributed`](Self::attributed) to refuse.
    fn matches(&self, run: &Run) -> bool {
        run.flow_id
            .as_ref()
            .is_none_or(|flow| *flow == self.flow_id)
            && self.status.as_ref().is_none_or(|s| run.status.same_as(s))
    }
}

/// A run's status (`metrics.statusSummary.status`), read (`FromStr`, which
/// never fails) ignoring case and surrounding spaces, `inProgress` also as
/// `in_progress`, `in progress` or `in-progress`; words this crate does not
/// know are kept as sent. Written (`as_str`, `Display`) as the service
/// spells it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunStatus {
    /// `success`: the run finished and its data was ingested.
    Success,
    /// `failed`: the run finished with an error.
    Failed,
    /// `inProgress`: the run is going on.
    InProgress,
    /// `scheduled`: the run has not started yet.
    Scheduled,
    /// Any other word, as the service sent it (an empty text when the run
    /// has no status).
    Other(String),
}

named_enum! {
    /// The wire word: `success`, `failed`, `inProgress`, `scheduled`, or
    /// the text of [`RunStatus::Other`].
    RunStatus, |name, word| name.eq_ignore_ascii_case(word.trim()), Other;
    Success => "success";
    Failed => "failed";
    InProgress => "inProgress", "in_progress", "in progress", "in-progress";
    Scheduled => "scheduled";
}

impl RunStatus {
    /// Whether the run is over: [`Success`](RunStatus::Success) or
    /// [`Failed`](RunStatus::Failed).
    pub fn is_finished(&self) -> bool {
        matches!(self, RunStatus::Success | RunStatus::Failed)
    }

    /// The same status, with unknown words compared case-insensitively.
    fn same_as(&self, other: &RunStatus) -> bool {
        match (self, other) {
            (RunStatus::Other(a), RunStatus::Other(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
            _ => self == other,
        }
    }
}

/// One error a run reports (`metrics.statusSummary.errors[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RunError {
    /// The error's code, e.g. `CONNECTOR-2001-500` (numbers are kept as
    /// their text).
    #[serde(default, deserialize_with = "read::de::text_or_number")]
    pub code: Option<String>,
    /// The error's message.
    #[serde(default, deserialize_with = "read::de::text_or_number")]
    pub message: Option<String>,
}

/// Longest text [`RunError::shown`] returns, in characters.
const MAX_SHOWN_CHARS: usize = 300;

impl RunError {
    /// The code and the message as one line (`CODE: MESSAGE`, or either
    /// alone; empty when the run sent neither), fit to print: scrubbed of
    /// `secrets` by the library's scrubber (every spelling it knows, see
    /// the crate's security notes), white space runs made one space,
    /// control characters dropped, cut to 300 characters (and an ellipsis
    /// marking the cut). The text comes
    /// from the service, which may echo what it was given (a database
    /// password in a connection error, a token): pass every secret the
    /// caller holds.
    ///
    /// A [`Client`] holds secrets its caller may not have (the token IMS
    /// issued it): [`Client::shown_run_error`] adds those.
    pub fn shown(&self, secrets: &[&Secret]) -> String {
        let mut scrubber = Scrubber::new();
        for secret in secrets {
            scrubber.add(secret.expose_secret());
        }
        self.shown_with(&scrubber)
    }

    fn shown_with(&self, scrubber: &Scrubber<'_>) -> String {
        let mut code = self.code.clone().unwrap_or_default();
        let mut message = self.message.clone().unwrap_or_default();
        // A secret split between the code and the message is caught too.
        scrubber.scrub_joined(&mut [&mut code, &mut message], ": ");
        let joined = match (code.trim().is_empty(), message.trim().is_empty()) {
            (true, true) => String::new(),
            (false, true) => code,
            (true, false) => message,
            (false, false) => format!("{code}: {message}"),
        };
        scrubber.reshown(&joined, MAX_SHOWN_CHARS)
    }
}

/// A dataflow run as Flow Service describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Run {
    /// Its id.
    pub id: RunId,
    /// The flow it is a run of.
    pub flow_id: Option<FlowId>,
    /// `metrics.statusSummary.status`; `RunStatus::Other("")` when the run
    /// has none (or it is not text).
    pub status: RunStatus,
    /// Creation time, epoch milliseconds (read from milliseconds, from
    /// seconds where only that reading is plausible, or from ISO 8601
    /// text with a zone); `None` when missing or unreadable.
    pub created_at: Option<i64>,
    /// Last update time, epoch milliseconds.
    pub updated_at: Option<i64>,
    /// `metrics.durationSummary.startedAtUTC`, epoch milliseconds.
    pub started_at: Option<i64>,
    /// `metrics.durationSummary.completedAtUTC`, epoch milliseconds.
    pub completed_at: Option<i64>,
    /// `metrics.recordSummary.inputRecordCount`.
    pub input_records: Option<u64>,
    /// `metrics.recordSummary.outputRecordCount`.
    pub output_records: Option<u64>,
    /// `metrics.recordSummary.failedRecordCount`.
    pub failed_records: Option<u64>,
    /// `metrics.sizeSummary.inputBytes`.
    pub input_bytes: Option<u64>,
    /// `metrics.sizeSummary.outputBytes`.
    pub output_bytes: Option<u64>,
    /// `metrics.statusSummary.errors`, in the service's order.
    pub errors: Vec<RunError>,
    /// Etag (`etag` or `eTag`), byte for byte.
    pub etag: Option<String>,
    /// `parentFlowRunId`: the run this one re-triggers
    /// ([`Client::retrigger_run`]); `None` when absent, empty or not
    /// text. Text that is not an id the service could have made (control
    /// characters, spaces, over 256 bytes) refuses the run
    /// ([`Error::UnexpectedResponse`](crate::Error::UnexpectedResponse)).
    pub parent_run_id: Option<RunId>,
    /// `childFlowRunIds`: the runs that re-trigger this one, in the
    /// service's order; entries that are empty or not text are left out,
    /// anything but a list is empty; text that is not an id refuses the
    /// run, as for [`parent_run_id`](Self::parent_run_id).
    pub child_run_ids: Vec<RunId>,
}

/// Newest first by `createdAt`; runs without one last (`None` is the
/// smallest `Option`, so it sorts last in reverse); ties by id.
fn newest_first(a: &Run, b: &Run) -> Ordering {
    b.created_at
        .cmp(&a.created_at)
        .then_with(|| a.id.cmp(&b.id))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireRun {
    id: String,
    #[serde(default, deserialize_with = "read::de::text")]
    flow_id: Option<String>,
    #[serde(default, deserialize_with = "read::de::millis")]
    created_at: Option<i64>,
    #[serde(default, deserialize_with = "read::de::millis")]
    updated_at: Option<i64>,
    #[serde(default, deserialize_with = "read::de::text")]
    etag: Option<String>,
    #[serde(default, deserialize_with = "read::de::text")]
    e_tag: Option<String>,
    #[serde(default, deserialize_with = "read::de::section")]
    metrics: Option<WireMetrics>,
    #[serde(default, deserialize_with = "read::de::text")]
    parent_flow_run_id: Option<String>,
    #[serde(default, deserialize_with = "texts")]
    child_flow_run_ids: Vec<String>,
}

/// A list of texts: entries that are not text are left out, anything but
/// a list is empty (what was read and not kept is wiped).
fn texts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let mut v = serde_json::Value::deserialize(d)?;
    let out = match &mut v {
        serde_json::Value::Array(items) => items
            .iter_mut()
            .filter_map(|item| match item {
                serde_json::Value::String(s) => Some(std::mem::take(s)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    wipe(&mut v);
    Ok(out)
}

/// `metrics`: every section may be missing or of another shape.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireMetrics {
    /// `startedAtUTC` and `completedAtUTC`, the members (and rules) of a
    /// flow's `lastRunDetails`; an `id` or `state` here is not used.
    #[serde(deserialize_with = "read::de::section")]
    duration_summary: Option<LastRun>,
    #[serde(deserialize_with = "read::de::section")]
    record_summary: Option<WireRecords>,
    #[serde(deserialize_with = "read::de::section")]
    size_summary: Option<WireSizes>,
    #[serde(deserialize_with = "read::de::section")]
    status_summary: Option<WireStatus>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireRecords {
    #[serde(deserialize_with = "read::de::count")]
    input_record_count: Option<u64>,
    #[serde(deserialize_with = "read::de::count")]
    output_record_count: Option<u64>,
    #[serde(deserialize_with = "read::de::count")]
    failed_record_count: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireSizes {
    #[serde(deserialize_with = "read::de::count")]
    input_bytes: Option<u64>,
    #[serde(deserialize_with = "read::de::count")]
    output_bytes: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireStatus {
    #[serde(deserialize_with = "read::de::text")]
    status: Option<String>,
    /// Entries that are not objects are left out.
    #[serde(deserialize_with = "read::de::sections")]
    errors: Vec<RunError>,
}

impl WireItem for WireRun {
    fn id(&self) -> &str {
        &self.id
    }
    fn etag(&self) -> Option<&str> {
        self.etag.as_deref().or(self.e_tag.as_deref())
    }
    /// The re-trigger links: a garbled one refuses the run rather than
    /// being dropped, since a caller that saw no child would re-trigger
    /// the run again.
    fn linked_ids(&self) -> Vec<&str> {
        self.parent_flow_run_id
            .iter()
            .chain(&self.child_flow_run_ids)
            .map(String::as_str)
            // Empty: no link (as absent).
            .filter(|id| !id.is_empty())
            .collect()
    }
}

impl From<WireRun> for Run {
    fn from(w: WireRun) -> Self {
        let metrics = w.metrics.unwrap_or_default();
        let duration = metrics.duration_summary;
        let records = metrics.record_summary.unwrap_or_default();
        let sizes = metrics.size_summary.unwrap_or_default();
        let status = metrics.status_summary.unwrap_or_default();
        Run {
            id: RunId::from_service(w.id),
            flow_id: w.flow_id.map(FlowId::from_service),
            // No status (or one that is not text): `Other("")`.
            status: RunStatus::parse(status.status.as_deref().unwrap_or("")),
            created_at: w.created_at,
            updated_at: w.updated_at,
            started_at: duration.as_ref().and_then(|d| d.started_at),
            completed_at: duration.and_then(|d| d.completed_at),
            input_records: records.input_record_count,
            output_records: records.output_record_count,
            failed_records: records.failed_record_count,
            input_bytes: sizes.input_bytes,
            output_bytes: sizes.output_bytes,
            errors: status.errors,
            etag: w.etag.or(w.e_tag),
            parent_run_id: w
                .parent_flow_run_id
                .filter(|id| !id.is_empty())
                .map(RunId::from_service),
            child_run_ids: w
                .child_flow_run_ids
                .into_iter()
                .filter(|id| !id.is_empty())
                .map(RunId::from_service)
                .collect(),
        }
    }
}

/// Which runs to list: those of one flow, optionally of one status.
#[derive(Debug, Clone)]
#[must_use = "a filter does nothing until a listing takes it"]
pub struct RunFilter {
    flow_id: FlowId,
    status: Option<RunStatus>,
    page_size: u32,
    max_items: usize,
}

paging_options!(
    RunFilter,
    "Stop after this many (counted in the service's order). Defaults to 10 000."
);

impl RunFilter {
    /// The runs of flow `flow_id` (`property=flowId==X`, also checked
    /// locally).
    pub fn new(flow_id: FlowId) -> Self {
        RunFilter {
            flow_id,
            status: None,
            page_size: DEFAULT_PAGE_SIZE,
            max_items: DEFAULT_MAX_ITEMS,
        }
    }

    /// Only runs with this status, matched locally, case-insensitively
    /// (`failed` finds `Failed` and `FAILED`).
    ///
    /// The status is not sent as a `property=` filter: Adobe's
    /// sort-and-filter guide writes `metrics.statusSummary.status==Failed`,
    /// this crate used to send `==failed`, and runs come back in both
    /// casings. No one spelling can be right for a service that stores
    /// both and compares case-sensitively, and a run it drops is a failure
    /// a monitor never sees; so the flow's runs are listed and the status
    /// is compared here.
    pub fn with_status(mut self, status: RunStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// The flow's id.
    pub fn flow_id(&self) -> &FlowId {
        &self.flow_id
    }

    /// The status filter, if set.
    pub fn status(&self) -> Option<&RunStatus> {
        self.status.as_ref()
    }
}

/// Pages through a listing of runs, in the service's order. Made by
/// [`Client::runs`].
pub type Runs = Pages<Run>;

impl Client {
    /// `error` fit to print, as [`RunError::shown`] makes it, scrubbed of
    /// `secrets` and of every secret this client holds: the access token
    /// it was given, or the IMS client secret and the access tokens IMS
    /// issued it (which its caller never sees). Sends nothing.
    pub fn shown_run_error(&self, error: &RunError, secrets: &[&Secret]) -> String {
        let mut scrubber = self.held_scrubber();
        for secret in secrets {
            scrubber.add(secret.expose_secret());
        }
        error.shown_with(&scrubber)
    }

    /// Pages through the runs that match `filter`, lazily, in the
    /// service's order (which is not documented): `GET
    /// /runs?limit=N&property=flowId==X&orderby=-createdAt`, the status
    /// matched locally. A bad flow id or page size is the first item's
    /// error, before anything is sent. A run without a `flowId` ends the
    /// listing with an [`Error::UnexpectedResponse`] naming it: it cannot
    /// be attributed to the flow.
    pub fn runs(&self, filter: RunFilter) -> Runs {
        let flow_id = filter.flow_id.clone();
        // A run listed for this flow that does not say whose it is cannot
        // be counted as this flow's (nor silently dropped: a monitor would
        // call the flow healthy).
        self.pages::<Run>(filter)
            .checked(move |run| match run.flow_id {
                Some(_) => Ok(()),
                None => Err(unusable_answer(format!(
                    "run {} in the listing for flow {flow_id} carries no flowId: it cannot be \
                     attributed to the flow; stopped",
                    run.id
                ))),
            })
    }

    /// Lists the runs that match `filter`, every page up to the filter's
    /// cap, sorted newest first by `createdAt` (runs without one last,
    /// ties by id). The cap counts runs in the service's order, before
    /// sorting.
    pub fn list_runs(&self, filter: RunFilter) -> Result<Vec<Run>, Error> {
        let mut runs = self.runs(filter).collect::<Result<Vec<_>, _>>()?;
        runs.sort_by(newest_first);
        Ok(runs)
    }

    /// Reads one run: `GET /runs/{id}` (answering `{"items": [run]}`).
    pub fn get_run(&self, id: &RunId) -> Result<Run, Error> {
        self.get_resource::<Run>(id.as_str())
    }

    /// Re-triggers a failed run: `POST /runs/{id}/action?op=re-trigger`,
    /// no body, as Adobe's "Retry failed dataflow runs" tutorial writes it.
    /// The service makes a new run of the same flow whose
    /// [`parent_run_id`](Run::parent_run_id) is `id` (and lists it in the
    /// run's [`child_run_ids`](Run::child_run_ids)); what it answers is
    /// not read. It refuses runs that did not fail (a 400,
    /// [`Error::Api`]); an unknown run is [`Error::NotFound`].
    ///
    /// Not idempotent: every success starts one more run, so the request
    /// is never sent again once it may have reached the service (a lost
    /// answer, a 502/503/504); the error then says so
    /// ([`Error::may_have_been_processed`]): list the flow's runs to see
    /// whether a child appeared before trying again. A 429 or a request
    /// that was not sent is retried as any call is.
    pub fn retrigger_run(&self, id: &RunId) -> Result<(), Error> {
        check_id("run_id", id.as_str())?;
        // The reference spec (flow-service.yaml, `postAction`) spells the
        // op as the enum `RE_TRIGGER`; Adobe's tutorial and its example
        // request use `re-trigger`. The tutorials are followed (the
        // project's rule when the two disagree on case or spelling).
        self.request(
            Method::Post,
            format!("/{}/{}/action?op=re-trigger", Run::COLLECTION, id.as_str()),
        )
        .resource(Run::NAME, id.as_str())
        .send()
        .map(drop)
    }

    /// The newest run (by `createdAt`, as [`list_runs`](Self::list_runs)
    /// orders them) of flow `flow_id` that is finished
    /// ([`RunStatus::is_finished`]: success or failed); `None` when the
    /// flow has no finished run. Runs still in progress or scheduled are
    /// skipped.
    pub fn latest_finished_run(&self, flow_id: &FlowId) -> Result<Option<Run>, Error> {
        Ok(self.run_summary(flow_id)?.latest_finished)
    }

    /// The newest run of flow `flow_id` and its newest finished one, what
    /// a monitor needs, reading as little as it can: runs are asked for
    /// newest first (`orderby=-createdAt`), and once every run read so far
    /// came newest first (at least 50 of them), whole pages, and a
    /// finished one is strictly newer than every run of a later page, no
    /// further page is read (for a flow of more than one page, that is two
    /// pages: the later page shows that the pages, not only the runs
    /// within a page, are in order). A service that lists in another order is detected (a newer
    /// run after an older one) and then every page is read and sorted, as
    /// [`list_runs`](Self::list_runs) does.
    ///
    /// Never a guess: an [`Error::UnexpectedResponse`] says why when the
    /// 10 000-run cap is reached before the answer is known (the service
    /// ignores the order and the flow has more runs), when a run has no
    /// `createdAt` this crate can read (epoch milliseconds or seconds, or
    /// ISO 8601 with a zone), or when a run carries no `flowId`.
    pub fn run_summary(&self, flow_id: &FlowId) -> Result<RunSummary, Error> {
        let read = self
            .newest_runs_until(flow_id, |read| read.iter().any(|r| r.status.is_finished()))
            .map_err(|e| self.scrub_error(e))?;
        let latest_finished = read.iter().find(|r| r.status.is_finished()).cloned();
        Ok(RunSummary {
            latest: read.into_iter().next(),
            latest_finished,
        })
    }

    /// The newest `count` runs of flow `flow_id`, newest first, reading as
    /// little as it can: with a service that honours `orderby=-createdAt`,
    /// the pages that hold them and the next one (two pages of 50 for up
    /// to 50 runs).
    /// Otherwise every page is read and sorted. The same errors as
    /// [`run_summary`](Self::run_summary): the cap reached before the
    /// newest runs are known, a run that cannot be placed in time or
    /// attributed to the flow.
    pub fn latest_runs(&self, flow_id: &FlowId, count: usize) -> Result<Vec<Run>, Error> {
        let mut read = self
            .newest_runs_until(flow_id, |read| read.len() >= count)
            .map_err(|e| self.scrub_error(e))?;
        read.truncate(count);
        Ok(read)
    }

    /// Reads runs in the service's order until `enough` holds of the runs
    /// known to be the newest, or to the end of the listing. Sorted newest
    /// first.
    ///
    /// The runs known to be the newest are those of earlier pages that are
    /// strictly newer than every run of the page read last, checked at the
    /// end of a page, with every run so far (at least
    /// [`MIN_RUNS_IN_ORDER`]) newest first. A later page is
    /// needed: a service that sorts each page but hands the pages out in
    /// another order (the oldest 50 first, newest first) shows a page in
    /// order; the next page then brings a newer run and gives it away. A
    /// run of the same `createdAt` as one of the last page may also be
    /// further on, and which of equal runs comes first is settled by id,
    /// as [`list_runs`](Self::list_runs) does. One page more than the
    /// 10 000-run cap is read, so that the newest 10 000 can be known.
    fn newest_runs_until(
        &self,
        flow_id: &FlowId,
        enough: impl Fn(&[Run]) -> bool,
    ) -> Result<Vec<Run>, Error> {
        let cap = DEFAULT_MAX_ITEMS;
        let filter =
            RunFilter::new(flow_id.clone()).with_max_items(cap + DEFAULT_PAGE_SIZE as usize);
        let mut pages = self.runs(filter);
        let mut read: Vec<Run> = Vec::new();
        let mut in_order = true;
        let mut proven = false;
        // Where the page being read starts in `read`.
        let mut page_start = 0;
        while let Some(run) = pages.next() {
            let run = run?;
            let Some(now) = run.created_at else {
                return Err(unusable_answer(format!(
                    "run {} of flow {flow_id} has no createdAt that can be placed in time (epoch \
                     milliseconds or seconds, or ISO 8601 with a zone): which run is the newest \
                     is not known",
                    run.id
                )));
            };
            if read
                .last()
                .and_then(|r| r.created_at)
                .is_some_and(|before| now > before)
            {
                in_order = false;
            }
            read.push(run);
            if pages.at_page_end() {
                if in_order && page_start > 0 && read.len() >= MIN_RUNS_IN_ORDER {
                    // In order: the page's first run is its newest, and
                    // the runs of earlier pages newer than it are a prefix.
                    let newest_of_page = read[page_start].created_at;
                    let settled =
                        read[..page_start].partition_point(|r| r.created_at > newest_of_page);
                    if enough(&read[..settled]) {
                        proven = true;
                        break;
                    }
                }
                page_start = read.len();
            }
        }
        if !proven && pages.end() != Some(ListingEnd::Complete) {
            return Err(unusable_answer(if in_order {
                format!(
                    "the newest {cap} runs of flow {flow_id} and a page more were read \
                     (the cap) and what was asked for is not known from them"
                )
            } else {
                format!(
                    "the service did not list the runs of flow {flow_id} newest first \
                     (orderby=-createdAt ignored) and the flow has more than {cap} runs \
                     (the cap): which run is the newest is not known"
                )
            }));
        }
        read.sort_by(newest_first);
        Ok(read)
    }
}

/// Runs read newest first before an early stop is trusted: a page's
/// worth. Two runs in order prove nothing (a service that ignores
/// `orderby` and sends one run a page lists two in order every other
/// time); fifty in order by chance do not happen.
const MIN_RUNS_IN_ORDER: usize = DEFAULT_PAGE_SIZE as usize;

/// A flow's newest run and newest finished run ([`Client::run_summary`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RunSummary {
    /// The newest run, whatever its status.
    pub latest: Option<Run>,
    /// The newest run that is finished (success or failed).
    pub latest_finished: Option<Run>,
}

#[cfg(test)]
mod tests {
    use crate::ids::id;
    use std::sync::Arc;

    use serde_json::{json, Value};

    use super::*;
    use crate::client::test_support::{client_on, client_with};
    use crate::transport::memory::MemoryTransport;

    fn run(id: &str, flow: &str, status: &str, created: Value) -> Value {
        json!({"id": id, "flowId": flow, "createdAt": created, "updatedAt": 5,
               "etag": "\"r1\"",
               "metrics": {
                   "durationSummary": {"startedAtUTC": 10, "completedAtUTC": 20},
                   "recordSummary": {"inputRecordCount": 3, "outputRecordCount": 2,
                                     "failedRecordCount": 1, "skippedRecordCount": 0},
                   "sizeSummary": {"inputBytes": 300, "outputBytes": 200},
                   "statusSummary": {"status": status, "errors": []}},
               "activities": []})
    }

    fn page(items: &[Value]) -> String {
        json!({ "items": items }).to_string()
    }

    fn page_then(items: &[Value], token: &str) -> String {
        json!({"items": items, "_page": {"continuationToken": token}}).to_string()
    }

    fn ids(runs: &[Run]) -> Vec<&str> {
        runs.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn status_words_are_read_case_insensitively_and_unknown_ones_kept() {
        for (word, want) in [
            ("success", RunStatus::Success),
            ("SUCCESS", RunStatus::Success),
            ("failed", RunStatus::Failed),
            ("Failed", RunStatus::Failed),
            ("inProgress", RunStatus::InProgress),
            ("INPROGRESS", RunStatus::InProgress),
            ("in_progress", RunStatus::InProgress),
            ("In Progress", RunStatus::InProgress),
            ("scheduled", RunStatus::Scheduled),
            (" Scheduled ", RunStatus::Scheduled),
            ("Cancelled", RunStatus::Other("Cancelled".into())),
            ("", RunStatus::Other(String::new())),
        ] {
            assert_eq!(RunStatus::parse(word), want, "{word:?}");
        }
        assert_eq!(RunStatus::InProgress.as_str(), "inProgress");
        assert_eq!(RunStatus::Failed.to_string(), "failed");
        assert_eq!(RunStatus::Other("Queued".into()).as_str(), "Queued");
        assert!(RunStatus::Success.is_finished() && RunStatus::Failed.is_finished());
        assert!(!RunStatus::InProgress.is_finished());
        assert!(!RunStatus::Scheduled.is_finished());
        assert!(!RunStatus::Other("done".into()).is_finished());
        for s in [RunStatus::Success, RunStatus::Failed, RunStatus::InProgress] {
            assert_eq!(RunStatus::parse(s.as_str()), s);
        }
        assert_eq!(RunStatus::InProgress.as_str(), "inProgress");
    }

    #[test]
    fn get_reads_every_field() {
        let t = Arc::new(MemoryTransport::default());
        let mut item = run("r-1", "flow-1", "Failed", json!(1700));
        item["metrics"]["statusSummary"]["errors"] = json!([
            {"code": "CONNECTOR-2001-500", "message": "connection refused"},
            {"code": 42},
            "not an object"
        ]);
        t.reply(200, &page(&[item]));
        let r = client_on(&t).get_run(&id("r-1")).unwrap();
        assert!(t.seen()[0]
            .url
            .ends_with("/data/foundation/flowservice/runs/r-1"));
        assert_eq!(t.seen()[0].method, "GET");
        assert_eq!(r.id, "r-1");
        assert_eq!(r.flow_id.as_ref().map(|i| i.as_str()), Some("flow-1"));
        assert_eq!(r.status, RunStatus::Failed);
        assert_eq!((r.created_at, r.updated_at), (Some(1700), Some(5)));
        assert_eq!((r.started_at, r.completed_at), (Some(10), Some(20)));
        assert_eq!(
            (r.input_records, r.output_records, r.failed_records),
            (Some(3), Some(2), Some(1))
        );
        assert_eq!((r.input_bytes, r.output_bytes), (Some(300), Some(200)));
        assert_eq!(r.etag.as_deref(), Some("\"r1\""));
        assert_eq!(
            r.errors,
            [
                RunError {
                    code: Some("CONNECTOR-2001-500".into()),
                    message: Some("connection refused".into())
                },
                RunError {
                    code: Some("42".into()),
                    message: None
                }
            ]
        );
    }

    #[test]
    fn retrigger_links_are_read_leniently() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        let mut item = run("r-1", "f", "failed", json!(1));
        item["parentFlowRunId"] = json!("r-0");
        item["childFlowRunIds"] = json!(["r-2", 7, null, {"id": "x"}, "r-3"]);
        t.reply(200, &page(&[item]));
        let r = c.get_run(&id("r-1")).unwrap();
        assert_eq!(r.parent_run_id.as_ref().map(|i| i.as_str()), Some("r-0"));
        assert_eq!(
            r.child_run_ids
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>(),
            ["r-2", "r-3"]
        );
        for (parent, children) in [
            (json!(12), json!("r-2")),
            (json!(null), json!({"r-2": 1})),
            (json!(["r-0"]), json!(null)),
            // Empty text: no link.
            (json!(""), json!([""])),
        ] {
            let mut item = run("r-1", "f", "failed", json!(1));
            item["parentFlowRunId"] = parent;
            item["childFlowRunIds"] = children;
            t.reply(200, &page(&[item]));
            let r = c.get_run(&id("r-1")).unwrap();
            assert_eq!(r.parent_run_id, None);
            assert!(r.child_run_ids.is_empty());
        }
        // Text that is no id (control characters, a megabyte, empty):
        // the run is refused, in a read by id and in a listing, rather
        // than read without its link (a caller that sees no child would
        // re-trigger the run again).
        for bad in [
            json!("r-2\u{1b}[2J"),
            json!("x".repeat(100_000)),
            json!("a b"),
        ] {
            for field in ["parentFlowRunId", "childFlowRunIds"] {
                let mut item = run("r-1", "f", "failed", json!(1));
                item[field] = if field == "childFlowRunIds" {
                    json!([bad.clone()])
                } else {
                    bad.clone()
                };
                t.reply(200, &page(&[item.clone()]));
                let e = c.get_run(&id("r-1")).unwrap_err();
                assert!(
                    matches!(e, Error::UnexpectedResponse { .. }),
                    "{field}: {e}"
                );
                assert!(e.to_string().contains("linked id"), "{e}");
                t.reply(200, &page(&[item]));
                let e = c.list_runs(RunFilter::new(id("f"))).unwrap_err();
                assert!(e.to_string().contains("linked id"), "{e}");
            }
        }
        // Absent: none.
        t.reply(200, &page(&[run("r-1", "f", "failed", json!(1))]));
        let r = c.get_run(&id("r-1")).unwrap();
        assert_eq!((r.parent_run_id, r.child_run_ids.len()), (None, 0));
    }

    #[test]
    fn retrigger_posts_the_action_and_refuses_a_bad_id_unsent() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        t.reply(200, r#"{"id":"r-2","etag":"\"1\""}"#);
        c.retrigger_run(&id("r-1")).unwrap();
        let seen = t.seen();
        assert_eq!(seen[0].method, "POST");
        assert!(seen[0]
            .url
            .ends_with("/data/foundation/flowservice/runs/r-1/action?op=re-trigger"));
        for bad in ["", "a b", "../runs", "r?op=x"] {
            let e = c.retrigger_run(&id(bad)).unwrap_err();
            assert!(
                matches!(&e, Error::InvalidInput { field, .. } if field == "run_id"),
                "{bad:?}: {e}"
            );
        }
        assert_eq!(t.seen().len(), 1);
    }

    #[test]
    fn numbers_may_come_as_strings_and_the_etag_as_e_tag() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            &page(&[json!({
                "id": "r-2", "createdAt": "1700000000000", "updatedAt": " 1700000000001 ",
                "eTag": "\"e2\"",
                "metrics": {
                    "durationSummary": {"startedAtUTC": "11", "completedAtUTC": 12.0},
                    "recordSummary": {"inputRecordCount": "7", "outputRecordCount": 6.0,
                                      "failedRecordCount": "1"},
                    "sizeSummary": {"inputBytes": "1024", "outputBytes": 512}}
            })]),
        );
        let r = client_on(&t).get_run(&id("r-2")).unwrap();
        assert_eq!(r.created_at, Some(1_700_000_000_000));
        assert_eq!(r.updated_at, Some(1_700_000_000_001));
        assert_eq!((r.started_at, r.completed_at), (Some(11), Some(12)));
        assert_eq!(
            (r.input_records, r.output_records, r.failed_records),
            (Some(7), Some(6), Some(1))
        );
        assert_eq!((r.input_bytes, r.output_bytes), (Some(1024), Some(512)));
        assert_eq!(r.etag.as_deref(), Some("\"e2\""));
        // No status at all: an empty `Other`, not finished.
        assert_eq!(r.status, RunStatus::Other(String::new()));
        assert_eq!(r.flow_id, None);
        assert!(r.errors.is_empty());
    }

    #[test]
    fn garbled_metrics_are_none_never_a_panic() {
        let t = Arc::new(MemoryTransport::default());
        let garbled = [
            json!({"id": "g1", "metrics": "down", "createdAt": "yesterday", "flowId": 7}),
            json!({"id": "g2", "metrics": {"recordSummary": [1, 2], "sizeSummary": "big",
                   "durationSummary": null, "statusSummary": {"status": 3, "errors": "many"}}}),
            json!({"id": "g3", "createdAt": -5, "updatedAt": 0, "metrics": {
                   "recordSummary": {"inputRecordCount": -1, "outputRecordCount": "-2",
                                     "failedRecordCount": 1.5},
                   "sizeSummary": {"inputBytes": "1e3", "outputBytes": 1e300},
                   "durationSummary": {"startedAtUTC": {"t": 1},
                                       "completedAtUTC": "99999999999999999999999"},
                   "statusSummary": {"status": {"s": "x"}, "errors": [null, [], {"code": {}}]}}}),
            json!({"id": "g4", "metrics": {"recordSummary": {"inputRecordCount": u64::MAX,
                   "outputRecordCount": "18446744073709551616"}}}),
        ];
        for item in &garbled {
            t.reply(200, &page(std::slice::from_ref(item)));
            let id_text = item["id"].as_str().unwrap();
            let r = client_on(&t).get_run(&id(id_text)).unwrap();
            assert_eq!(r.output_records, None, "{id_text}");
            assert_eq!(r.failed_records, None, "{id_text}");
            assert_eq!((r.input_bytes, r.output_bytes), (None, None), "{id_text}");
            assert_eq!((r.started_at, r.completed_at), (None, None), "{id_text}");
            assert_eq!((r.created_at, r.updated_at), (None, None), "{id_text}");
            assert_eq!(r.status, RunStatus::Other(String::new()), "{id_text}");
            assert_eq!(r.flow_id, None, "{id_text}");
        }
        // Only the g3 error object survives, with nothing readable in it.
        // The largest count still fits.
        t.reply(200, &page(&[garbled[3].clone()]));
        assert_eq!(
            client_on(&t).get_run(&id("g4")).unwrap().input_records,
            Some(u64::MAX)
        );
        t.reply(200, &page(&[garbled[2].clone()]));
        assert_eq!(
            client_on(&t).get_run(&id("g3")).unwrap().errors,
            [RunError {
                code: None,
                message: None
            }]
        );
        // What cannot be a run at all is an unexpected answer.
        for body in [
            r#"{"items": [{"flowId": "f"}]}"#,
            r#"{"items": [{"id": 12}]}"#,
            r#"{"items": "runs"}"#,
            "<html>busy</html>",
            "",
        ] {
            t.reply(200, body);
            let e = client_on(&t).get_run(&id("r-1")).unwrap_err();
            assert!(matches!(e, Error::UnexpectedResponse { .. }), "{body}: {e}");
            t.reply(200, body);
            let e = client_on(&t)
                .list_runs(RunFilter::new(id("flow-1")))
                .unwrap_err();
            assert!(matches!(e, Error::UnexpectedResponse { .. }), "{body}: {e}");
        }
    }

    #[test]
    fn listing_sends_the_flow_and_status_filters() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &page(&[]));
        let c = client_on(&t);
        assert!(c
            .list_runs(RunFilter::new(id("flow-1")))
            .unwrap()
            .is_empty());
        t.reply(200, &page(&[]));
        c.list_runs(
            RunFilter::new(id("flow-1"))
                .with_status(RunStatus::Failed)
                .with_page_size(5),
        )
        .unwrap();
        t.reply(200, &page(&[]));
        c.list_runs(RunFilter::new(id("flow-1")).with_status(RunStatus::InProgress))
            .unwrap();
        let urls: Vec<String> = t.seen().into_iter().map(|s| s.url).collect();
        assert!(
            urls[0].ends_with(
                "/data/foundation/flowservice/runs?limit=50&property=flowId%3D%3Dflow-1&orderby=-createdAt"
            ),
            "{}",
            urls[0]
        );
        // The status is matched locally only: no spelling of it on the
        // wire can be right for a service that stores several casings and
        // compares case-sensitively.
        assert!(
            urls[1].ends_with("/runs?limit=5&property=flowId%3D%3Dflow-1&orderby=-createdAt"),
            "{}",
            urls[1]
        );
        assert!(
            urls[2].ends_with("/runs?limit=50&property=flowId%3D%3Dflow-1&orderby=-createdAt"),
            "{}",
            urls[2]
        );
        assert!(urls.iter().all(|u| !u.contains("statusSummary")));
        let f = RunFilter::new(id("f")).with_status(RunStatus::Scheduled);
        assert_eq!(
            (
                f.flow_id().as_str(),
                f.status(),
                f.page_size(),
                f.max_items()
            ),
            (
                "f",
                Some(&RunStatus::Scheduled),
                DEFAULT_PAGE_SIZE,
                DEFAULT_MAX_ITEMS
            )
        );
    }

    #[test]
    fn filters_also_apply_locally_with_statuses_in_any_casing() {
        let t = Arc::new(MemoryTransport::default());
        // A service that ignores the filters.
        let items = [
            run("a", "flow-1", "Failed", json!(1)),
            run("b", "flow-1", "success", json!(2)),
            run("c", "other", "failed", json!(3)),
            run("d", "flow-1", "FAILED", json!(4)),
            run("e", "flow-1", "Cancelled", json!(5)),
        ];
        t.reply(200, &page(&items));
        let c = client_on(&t);
        let failed = c
            .list_runs(RunFilter::new(id("flow-1")).with_status(RunStatus::Failed))
            .unwrap();
        assert_eq!(ids(&failed), ["d", "a"]);
        t.reply(200, &page(&items));
        let all = c.list_runs(RunFilter::new(id("flow-1"))).unwrap();
        assert_eq!(ids(&all), ["e", "d", "b", "a"]);
        t.reply(200, &page(&items));
        let other = c
            .list_runs(
                RunFilter::new(id("flow-1")).with_status(RunStatus::Other("cancelled".into())),
            )
            .unwrap();
        assert_eq!(ids(&other), ["e"]);
    }

    #[test]
    fn list_sorts_newest_first_across_scrambled_pages() {
        let t = Arc::new(MemoryTransport::default());
        let f = "flow-1";
        t.reply(
            200,
            &page_then(
                &[
                    run("r3", f, "success", json!(3000)),
                    run("none-b", f, "success", Value::Null),
                    run("r9", f, "failed", json!("9000")),
                ],
                "t1",
            ),
        )
        .reply(
            200,
            &page_then(
                &[
                    run("r1", f, "success", json!(1000)),
                    run("tie-b", f, "success", json!(5000)),
                ],
                "t2",
            ),
        )
        .reply(
            200,
            &page(&[
                run("tie-a", f, "success", json!(5000)),
                run("none-a", f, "success", json!("never")),
                run("r7", f, "inProgress", json!(7000)),
            ]),
        );
        let runs = client_on(&t)
            .list_runs(RunFilter::new(id(f)).with_page_size(3))
            .unwrap();
        assert_eq!(
            ids(&runs),
            ["r9", "r7", "tie-a", "tie-b", "r3", "r1", "none-a", "none-b"]
        );
        let seen = t.seen();
        assert_eq!(seen.len(), 3);
        assert!(seen[1].url.ends_with(
            "/runs?limit=3&property=flowId%3D%3Dflow-1&orderby=-createdAt&continuationToken=t1"
        ));
        assert!(seen[2].url.ends_with("&continuationToken=t2"));
    }

    #[test]
    fn the_lazy_listing_keeps_the_service_order_and_the_cap() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            &page(&[
                run("old", "f", "success", json!(1)),
                run("new", "f", "success", json!(2)),
                run("newer", "f", "success", json!(3)),
            ]),
        );
        let c = client_on(&t);
        let runs: Vec<Run> = c
            .runs(RunFilter::new(id("f")))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ids(&runs), ["old", "new", "newer"]);
        t.reply(
            200,
            &page(&[
                run("old", "f", "success", json!(1)),
                run("new", "f", "success", json!(2)),
                run("newer", "f", "success", json!(3)),
            ]),
        );
        let capped = c
            .list_runs(RunFilter::new(id("f")).with_max_items(2))
            .unwrap();
        assert_eq!(ids(&capped), ["new", "old"]);
    }

    #[test]
    fn latest_finished_run_skips_runs_not_over() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        t.reply(
            200,
            &page(&[
                run("done-old", "f", "success", json!(100)),
                run("going", "f", "inProgress", json!(400)),
                run("failed", "f", "Failed", json!(200)),
                run("later", "f", "SCHEDULED", json!(500)),
                run("odd", "f", "Cancelled", json!(300)),
            ]),
        );
        let latest = c.latest_finished_run(&id("f")).unwrap().unwrap();
        assert_eq!(latest.id, "failed");
        assert_eq!(latest.status, RunStatus::Failed);
        assert!(t.seen()[0]
            .url
            .ends_with("/runs?limit=50&property=flowId%3D%3Df&orderby=-createdAt"));
        t.reply(
            200,
            &page(&[
                run("going", "f", "in_progress", json!(400)),
                run("later", "f", "scheduled", json!(500)),
            ]),
        );
        assert_eq!(c.latest_finished_run(&id("f")).unwrap(), None);
        t.reply(200, &page(&[]));
        assert_eq!(c.latest_finished_run(&id("f")).unwrap(), None);
    }

    #[test]
    fn service_errors() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_with(&t, |b| b.with_max_retries(0));
        t.reply(
            404,
            r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1404-404","title":"Not Found",
                "status":404,"report":{"detailed-message":"Run with id r-9 not found"}}"#,
        );
        let e = c.get_run(&id("r-9")).unwrap_err();
        assert!(
            matches!(&e, Error::NotFound { resource: "run", id, .. } if id == "r-9"),
            "{e}"
        );
        // An empty list for an id is NotFound too.
        t.reply(200, &page(&[]));
        assert!(matches!(
            c.get_run(&id("r-9")).unwrap_err(),
            Error::NotFound { .. }
        ));
        // Another run than the one asked for is refused.
        t.reply(200, &page(&[run("r-8", "f", "success", json!(1))]));
        assert!(matches!(
            c.get_run(&id("r-9")).unwrap_err(),
            Error::UnexpectedResponse { .. }
        ));
        t.reply(
            400,
            r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1401-400","title":"Bad Request",
                "status":400,"report":{"detailed-message":"Unsupported property filter"}}"#,
        );
        let e = c.list_runs(RunFilter::new(id("f"))).unwrap_err();
        match &e {
            Error::Api(api) => {
                assert_eq!(api.status, 400);
                assert_eq!(api.code.as_deref(), Some("FLOW-1401-400"));
            }
            other => panic!("{other}"),
        }
        t.reply(503, r#"{"message":"down"}"#);
        assert_eq!(
            c.latest_finished_run(&id("f")).unwrap_err().status(),
            Some(503)
        );
        t.reply(500, "oops");
        assert_eq!(c.get_run(&id("r-1")).unwrap_err().status(), Some(500));
        assert_eq!(t.remaining(), 0);
    }

    #[test]
    fn bad_input_sends_nothing() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        for bad in ["", "a b", "../runs", "f?x=1", &"x".repeat(129)] {
            for e in [
                c.list_runs(RunFilter::new(id(bad))).unwrap_err(),
                c.runs(RunFilter::new(id(bad))).next().unwrap().unwrap_err(),
                c.latest_finished_run(&id(bad)).unwrap_err(),
            ] {
                assert!(
                    matches!(&e, Error::InvalidInput { field, .. } if field == "flow_id"),
                    "{bad:?}: {e}"
                );
            }
            let e = c.get_run(&id(bad)).unwrap_err();
            assert!(
                matches!(&e, Error::InvalidInput { field, .. } if field == "run_id"),
                "{bad:?}: {e}"
            );
        }
        for size in [0, 1001] {
            let e = c
                .list_runs(RunFilter::new(id("f")).with_page_size(size))
                .unwrap_err();
            assert!(
                matches!(&e, Error::InvalidInput { field, .. } if field == "page_size"),
                "{e}"
            );
        }
        assert!(t.seen().is_empty());
    }
}
