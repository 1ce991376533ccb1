//! `/runs`: list (filters `flowId` and `metrics.statusSummary.status`,
//! the status compared case-sensitively, as a strict service may; paging),
//! get by id, and the re-trigger action (`POST
//! /runs/{id}/action?op=re-trigger`, failed runs only: a new run of the
//! same flow, linked by `parentFlowRunId` and `childFlowRunIds`). The
//! service makes runs as flows execute; the fake gets them from tests
//! through [`FakeFlowService::add_run`](crate::Sandbox::add_run).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::call::{self, flow_error, Call};
use crate::config::Expected;
use crate::reply::Reply;
use crate::state::SandboxState;
use crate::store::{now_millis, ListOptions, ListQuery, Meta, Resource, Serial, Store};
use crate::wire::percent_decode;

/// The collection's path under the base path.
const COLLECTION: &str = "/runs";
/// The status field a listing may filter on.
const STATUS_FIELD: &str = "metrics.statusSummary.status";

/// A run for [`FakeFlowService::add_run`](crate::Sandbox::add_run):
/// its status as the service would send it (any casing, any word), and
/// the metrics it reports. Unset metrics are left out of the run's JSON.
///
/// ```
/// use aep_flow_testing::FakeRun;
///
/// let run = FakeRun::new("failed")
///     .with_counts(100, 90, 10)
///     .with_bytes(4096, 3900)
///     .with_times(1_700_000_000_000, 1_700_000_060_000)
///     .with_created_at(1_700_000_000_000)
///     .with_error("CONNECTOR-2001-500", "10 rows failed");
/// assert_eq!(run.status(), "failed");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeRun {
    status: String,
    input_records: Option<u64>,
    output_records: Option<u64>,
    failed_records: Option<u64>,
    input_bytes: Option<u64>,
    output_bytes: Option<u64>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
    created_at: Option<i64>,
    errors: Vec<(String, String)>,
    /// How `createdAt` is shown when not as the number (missing or
    /// garbled).
    #[serde(default)]
    created_at_shown: Option<Shown>,
    /// `parentFlowRunId`: the run this one re-triggers.
    #[serde(default)]
    parent: Option<String>,
}

/// A time shown otherwise than as epoch milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Shown {
    /// Left out of the run's JSON.
    Missing,
    /// This text instead of the number.
    Garbled(String),
}

impl FakeRun {
    /// A run whose `metrics.statusSummary.status` is `status`, as given
    /// (e.g. `success`, `Failed`, `inProgress`, `scheduled`).
    pub fn new(status: &str) -> Self {
        FakeRun {
            status: status.to_owned(),
            input_records: None,
            output_records: None,
            failed_records: None,
            input_bytes: None,
            output_bytes: None,
            started_at: None,
            completed_at: None,
            created_at: None,
            errors: Vec::new(),
            created_at_shown: None,
            parent: None,
        }
    }

    /// `metrics.recordSummary`: input, output and failed record counts.
    pub fn with_counts(mut self, input: u64, output: u64, failed: u64) -> Self {
        self.input_records = Some(input);
        self.output_records = Some(output);
        self.failed_records = Some(failed);
        self
    }

    /// `metrics.sizeSummary`: input and output bytes.
    pub fn with_bytes(mut self, input: u64, output: u64) -> Self {
        self.input_bytes = Some(input);
        self.output_bytes = Some(output);
        self
    }

    /// `metrics.durationSummary`: start and completion, epoch ms.
    pub fn with_times(mut self, started_ms: i64, completed_ms: i64) -> Self {
        self.started_at = Some(started_ms);
        self.completed_at = Some(completed_ms);
        self
    }

    /// `createdAt`, epoch ms (default: when it is added).
    pub fn with_created_at(mut self, ms: i64) -> Self {
        self.created_at = Some(ms);
        self
    }

    /// No `createdAt` in the run's JSON (it still sorts by the time it
    /// was added, or [`with_created_at`](Self::with_created_at)'s, where
    /// the fake orders runs).
    pub fn without_created_at(mut self) -> Self {
        self.created_at_shown = Some(Shown::Missing);
        self
    }

    /// `createdAt` shown as this text (e.g. `yesterday`) instead of a
    /// number.
    pub fn with_garbled_created_at(mut self, text: impl Into<String>) -> Self {
        self.created_at_shown = Some(Shown::Garbled(text.into()));
        self
    }

    /// `parentFlowRunId`: this run re-triggers run `parent_id` (as the
    /// re-trigger action makes them); [`add_run`](crate::Sandbox::add_run)
    /// also lists it in the parent's `childFlowRunIds`.
    pub fn with_parent(mut self, parent_id: impl Into<String>) -> Self {
        self.parent = Some(parent_id.into());
        self
    }

    /// Adds `{code, message}` to `metrics.statusSummary.errors`.
    pub fn with_error(mut self, code: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push((code.into(), message.into()));
        self
    }

    /// The status, as given.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// `createdAt`, if set.
    pub fn created_at(&self) -> Option<i64> {
        self.created_at
    }
}

/// A stored run: its flow, what the test gave, and its times (kept here,
/// not in the store's meta, so a test can set `createdAt`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Run {
    pub(crate) flow_id: String,
    run: FakeRun,
    created_at: i64,
    updated_at: i64,
    /// `childFlowRunIds`, in the order they were made.
    #[serde(default)]
    children: Vec<String>,
}

impl Resource for Run {
    fn to_json(&self, meta: &Meta) -> Value {
        let r = &self.run;
        let mut duration = Map::new();
        put(&mut duration, "startedAtUTC", r.started_at);
        put(&mut duration, "completedAtUTC", r.completed_at);
        let mut records = Map::new();
        put(&mut records, "inputRecordCount", r.input_records);
        put(&mut records, "outputRecordCount", r.output_records);
        put(&mut records, "failedRecordCount", r.failed_records);
        let mut size = Map::new();
        put(&mut size, "inputBytes", r.input_bytes);
        put(&mut size, "outputBytes", r.output_bytes);
        let errors: Vec<Value> = r
            .errors
            .iter()
            .map(|(code, message)| json!({"code": code, "message": message}))
            .collect();
        let mut run = json!({
            "id": meta.id,
            "flowId": self.flow_id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "createdBy": "fake@AdobeID",
            "updatedBy": "fake@AdobeID",
            "etag": meta.etag,
            "metrics": {
                "durationSummary": duration,
                "recordSummary": records,
                "sizeSummary": size,
                "statusSummary": {"status": r.status, "errors": errors},
            },
            "activities": [],
        });
        match &r.created_at_shown {
            None => {}
            Some(Shown::Missing) => {
                run.as_object_mut().map(|o| o.remove("createdAt"));
            }
            Some(Shown::Garbled(text)) => run["createdAt"] = Value::String(text.clone()),
        }
        if let Some(parent) = &r.parent {
            run["parentFlowRunId"] = Value::String(parent.clone());
        }
        if !self.children.is_empty() {
            run["childFlowRunIds"] = json!(self.children);
        }
        run
    }
}

fn put<T: Into<Value>>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), v.into());
    }
}

/// The runs.
pub(crate) struct Runs {
    pub(crate) store: Store<Run>,
    /// What a re-triggered run becomes (default: `inProgress`).
    pub(crate) retrigger_as: Option<FakeRun>,
}

impl Runs {
    pub(crate) fn new(serial: Serial) -> Self {
        Runs {
            store: Store::new(serial),
            retrigger_as: None,
        }
    }

    /// Stores `run` as a run of `flow_id`; returns its id. A run with a
    /// parent ([`FakeRun::with_parent`]) is added to the parent's
    /// `childFlowRunIds` when the parent is stored.
    pub(crate) fn add(&mut self, flow_id: &str, run: FakeRun) -> String {
        let now = now_millis();
        let created_at = run.created_at.unwrap_or(now);
        let parent = run.parent.clone();
        let entry = self.store.insert(Run {
            flow_id: flow_id.to_owned(),
            run,
            created_at,
            updated_at: created_at.max(now),
            children: Vec::new(),
        });
        let id = entry.meta.id.clone();
        if let Some(parent) = parent {
            if let Some(p) = self.store.get_mut_unversioned(&parent) {
                p.value.children.push(id.clone());
            }
        }
        id
    }

    /// The re-trigger action on run `id`: a new run of the same flow (as
    /// [`Runs::retrigger_as`] says, `inProgress` by default) whose parent
    /// is `id`, listed in `id`'s `childFlowRunIds` (the parent gets a new
    /// etag). `Err` with the refusal when `id` is not a failed run.
    fn retrigger(&mut self, id: &str) -> Result<(String, String), Refused> {
        let parent = self.store.get(id).ok_or(Refused::NotFound)?;
        if !parent.value.run.status.eq_ignore_ascii_case("failed") {
            return Err(Refused::NotFailed(parent.value.run.status.clone()));
        }
        let flow_id = parent.value.flow_id.clone();
        let template = self
            .retrigger_as
            .clone()
            .unwrap_or_else(|| FakeRun::new("inProgress"));
        // A retry is made now, whatever time its template names.
        let mut run = template.with_parent(id);
        run.created_at = None;
        let child = self.add(&flow_id, run);
        self.store.update(id, |_| {});
        Ok((child, flow_id))
    }

    /// The newest run of `flow_id` (by `createdAt`; of equal ones, the one
    /// added last), as the service shows it.
    pub(crate) fn latest_for_flow(&self, flow_id: &str) -> Option<Value> {
        self.store
            .iter()
            .filter(|e| e.value.flow_id == flow_id)
            .max_by_key(|e| e.value.created_at)
            .map(|e| e.to_json())
    }

    /// A flow's `lastRunDetails` (`{id, state, startedAtUTC,
    /// completedAtUTC}`) from its newest run.
    pub(crate) fn last_run_details(&self, flow_id: &str) -> Option<Value> {
        let run = self.latest_for_flow(flow_id)?;
        let metrics = &run["metrics"];
        let mut details = json!({
            "id": run["id"],
            "state": metrics["statusSummary"]["status"],
        });
        for key in ["startedAtUTC", "completedAtUTC"] {
            if let Some(t) = metrics["durationSummary"].get(key) {
                details[key] = t.clone();
            }
        }
        Some(details)
    }
}

/// Why a re-trigger is refused.
enum Refused {
    NotFound,
    /// The run's status, as stored.
    NotFailed(String),
}

/// Everything under `/runs`.
pub(crate) fn handle(call: &Call<'_>, state: &mut SandboxState, expected: &Expected) -> Reply {
    let request_id = call.request_id;
    match (call.req.method.as_str(), call.rest) {
        ("GET", []) => list(call, &state.runs, expected),
        ("GET", [id]) => match state.runs.store.get(id) {
            Some(r) => Reply::json(200, json!({"items": [r.to_json()]}).to_string()),
            None => call::not_found("Run", id, request_id),
        },
        ("POST", [id, "action"]) => action(call, state, id),
        _ => call::method_not_allowed(request_id),
    }
}

/// `POST /runs/{id}/action?op=re-trigger` (the tutorial's spelling; the
/// reference spec's `RE_TRIGGER` is taken too, ignoring case): a new run
/// of the failed run's flow, answered `{id, etag}` of the new run. Any
/// other op, or none, is a 400; an unknown run a 404; a run that did not
/// fail a 400, in the service's error shape.
fn action(call: &Call<'_>, state: &mut SandboxState, id: &str) -> Reply {
    let request_id = call.request_id;
    let ops: Vec<String> = call
        .query
        .split('&')
        .filter_map(|p| p.strip_prefix("op=").map(percent_decode))
        .collect();
    let known = |op: &str| op == "re-trigger" || op.eq_ignore_ascii_case("RE_TRIGGER");
    if ops.len() != 1 || !known(&ops[0]) {
        return flow_error(
            400,
            "FLOW-1401-400",
            "Unsupported or missing op: the only action on a run is re-trigger",
            request_id,
        );
    }
    match state.runs.retrigger(id) {
        Ok((child, flow_id)) => {
            crate::flows::refresh_last_run(state, &flow_id);
            let etag = state
                .runs
                .store
                .get(&child)
                .map(|e| e.meta.etag.clone())
                .unwrap_or_default();
            Reply::json(200, json!({"id": child, "etag": etag}).to_string())
        }
        Err(Refused::NotFound) => call::not_found("Run", id, request_id),
        Err(Refused::NotFailed(status)) => flow_error(
            400,
            "FLOW-1402-400",
            &format!(
                "Run {id} cannot be re-triggered: only failed runs can (its status is {status:?})"
            ),
            request_id,
        ),
    }
}

/// `GET /runs?...`: the store's listing, with a status filter compared
/// exactly (`==failed` does not find `Failed`), like a strict service
/// whose runs come in several casings: a client that relies on one
/// spelling loses runs.
fn list(call: &Call<'_>, runs: &Runs, expected: &Expected) -> Reply {
    let is_status_filter = |pair: &str| {
        pair.strip_prefix("property=")
            .map(percent_decode)
            .and_then(|v| {
                v.strip_prefix(STATUS_FIELD)?
                    .strip_prefix("==")
                    .map(str::to_owned)
            })
    };
    let pairs: Vec<&str> = call.query.split('&').filter(|p| !p.is_empty()).collect();
    let mut wanted: Vec<String> = pairs.iter().filter_map(|p| is_status_filter(p)).collect();
    if expected.ignore_property_filters {
        wanted.clear();
    }
    // `orderby=-createdAt`: newest first (unless the builder asked for a
    // service that ignores it).
    let newest_first = !expected.ignore_orderby
        && pairs
            .iter()
            .any(|p| percent_decode(p) == "orderby=-createdAt");
    if wanted.is_empty() && !newest_first {
        return call::list(&runs.store, COLLECTION, call, expected);
    }
    // The runs of the wanted status, in the asked order, listed with the
    // other filters.
    let mut chosen: Vec<_> = runs
        .store
        .iter()
        .filter(|e| {
            let status = &e.value.run.status;
            wanted.iter().all(|w| w == status)
        })
        .collect();
    if newest_first {
        // Stable: of equal times, the one added last first.
        chosen.reverse();
        chosen.sort_by_key(|e| std::cmp::Reverse(e.value.created_at));
    }
    let mut matching = Store::new(Serial::default());
    for e in chosen {
        matching.insert_as(e.meta.id.clone(), e.meta.etag.clone(), e.value.clone());
    }
    let rest: Vec<&str> = pairs
        .iter()
        .copied()
        .filter(|p| is_status_filter(p).is_none())
        .collect();
    let query = match ListQuery::parse(&rest.join("&")) {
        Ok(query) => query,
        Err(message) => return flow_error(400, "FLOW-1401-400", message, call.request_id),
    };
    let options = ListOptions {
        collection: COLLECTION,
        max_page_size: expected.max_page_size,
        ignore_filters: false,
    };
    let mut body = matching.list(&query, &options);
    // The next link repeats the whole query, status filter included.
    let token = body["_links"]["next"]["href"]
        .as_str()
        .and_then(|href| href.split_once("continuationToken="))
        .map(|(_, token)| token.to_owned());
    if let Some(token) = token {
        let mut next = format!("{COLLECTION}?");
        for pair in pairs
            .iter()
            .filter(|p| !p.starts_with("continuationToken="))
        {
            next.push_str(pair);
            next.push('&');
        }
        next.push_str("continuationToken=");
        next.push_str(&token);
        body["_links"]["next"]["href"] = Value::String(next);
    }
    Reply::json(200, body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RecordedRequest;
    use crate::wire::BASE_PATH;

    fn request(method: &str, path_and_query: &str) -> RecordedRequest {
        RecordedRequest {
            method: method.to_owned(),
            path: format!("{BASE_PATH}{path_and_query}"),
            headers: vec![
                ("authorization".into(), "Bearer t".into()),
                ("x-api-key".into(), "k".into()),
                ("x-gw-ims-org-id".into(), "o@AdobeOrg".into()),
                ("x-sandbox-name".into(), "prod".into()),
            ],
            body: Vec::new(),
        }
    }

    /// What `runs::handle` answers to `method path` (path under
    /// `BASE_PATH`, e.g. `/runs?limit=1`).
    fn send(
        state: &mut SandboxState,
        expected: &Expected,
        method: &str,
        path: &str,
    ) -> (u16, Value) {
        let req = request(method, path);
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let call = Call {
            req: &req,
            query,
            rest: &segments[1..],
            request_id: "test-request",
        };
        let reply = handle(&call, state, expected);
        let body = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        (reply.status, body)
    }

    fn statuses(body: &Value) -> Vec<&str> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["metrics"]["statusSummary"]["status"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn status_filter_is_case_sensitive_and_its_next_link_keeps_it() {
        let mut state = SandboxState::new(&Serial::default(), &Default::default());
        let expected = Expected {
            max_page_size: Some(1),
            ..Expected::default()
        };
        for (flow, status) in [
            ("f", "Failed"),
            ("f", "success"),
            ("g", "failed"),
            ("f", "FAILED"),
        ] {
            state.runs.add(flow, FakeRun::new(status));
        }
        let q = "/runs?limit=5&property=flowId%3D%3Df&property=metrics.statusSummary.status%3D%3Dfailed";
        let (status, body) = send(&mut state, &expected, "GET", q);
        assert_eq!(status, 200);
        assert_eq!(
            statuses(&body),
            Vec::<&str>::new(),
            "no run of f is `failed`"
        );
        state.runs.add("f", FakeRun::new("failed"));
        state.runs.add("f", FakeRun::new("failed"));
        let (_, body) = send(&mut state, &expected, "GET", q);
        assert_eq!(statuses(&body), ["failed"]);
        let next = body["_links"]["next"]["href"].as_str().unwrap().to_owned();
        assert_eq!(next, format!("{q}&continuationToken=fake-offset-1"));
        let (_, body) = send(&mut state, &expected, "GET", &next);
        assert_eq!(statuses(&body), ["failed"]);
        assert!(body.get("_links").is_none());
        // Without a status filter: the store's listing.
        let (_, body) = send(
            &mut state,
            &Expected::default(),
            "GET",
            "/runs?property=flowId==f",
        );
        assert_eq!(
            statuses(&body),
            ["Failed", "success", "FAILED", "failed", "failed"]
        );
        // A bad parameter is the service's 400.
        let (status, _) = send(
            &mut state,
            &expected,
            "GET",
            "/runs?limit=0&property=metrics.statusSummary.status==failed",
        );
        assert_eq!(status, 400);
    }

    #[test]
    fn get_by_id_404_and_405() {
        let mut state = SandboxState::new(&Serial::default(), &Default::default());
        let expected = Expected::default();
        let id = state
            .runs
            .add("f", FakeRun::new("success").with_created_at(5));
        let (status, body) = send(&mut state, &expected, "GET", &format!("/runs/{id}"));
        assert_eq!(status, 200);
        assert_eq!(body["items"][0]["id"], id.as_str());
        assert_eq!(body["items"][0]["createdAt"], 5);
        let (status, body) = send(&mut state, &expected, "GET", "/runs/nope");
        assert_eq!(status, 404);
        assert_eq!(body["errorMessage"], "Run with id nope not found");
        for (method, path) in [
            ("POST", "/runs".to_owned()),
            ("DELETE", format!("/runs/{id}")),
            ("PATCH", format!("/runs/{id}")),
            ("GET", format!("/runs/{id}/action")),
        ] {
            assert_eq!(
                send(&mut state, &expected, method, &path).0,
                405,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn the_latest_run_and_last_run_details() {
        let mut runs = Runs::new(Serial::default());
        assert!(runs.latest_for_flow("f").is_none());
        assert!(runs.last_run_details("f").is_none());
        let newest = runs.add(
            "f",
            FakeRun::new("failed")
                .with_created_at(30)
                .with_times(31, 32),
        );
        runs.add("f", FakeRun::new("success").with_created_at(10));
        runs.add("g", FakeRun::new("success").with_created_at(99));
        assert_eq!(runs.latest_for_flow("f").unwrap()["id"], newest.as_str());
        assert_eq!(
            runs.last_run_details("f").unwrap(),
            json!({"id": newest, "state": "failed", "startedAtUTC": 31, "completedAtUTC": 32})
        );
    }
}
