//! `/flowSpecs` (the `CRMToAEP` spec, filtered by `property=name==X`) and
//! `/flows`: create (the source and target connections must exist, the
//! `Copy` transformation needs a delta column, the schedule must meet the
//! spec's rules, the flow spec must be known), get, list (with
//! `sourceConnectionIds[]==X` filters), patch (`If-Match`; schedule
//! members and whole transformation entries), enable/disable actions and
//! delete.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::call::{self, flow_error, Call};
use crate::config::Expected;
use crate::reply::Reply;
use crate::state::SandboxState;
use crate::store::{now_millis, Entry, Meta, Resource, Serial, Store};
use crate::wire::BASE_PATH;
use crate::wire::{
    CRM_TO_AEP_FLOW_SPEC_ID, CRM_TO_AEP_FLOW_SPEC_NAME, POSTGRES_CONNECTION_SPEC_ID,
};

/// The collection's path under the base path.
const COLLECTION: &str = "/flows";
/// The flow specs' path under the base path.
const SPECS: &str = "/flowSpecs";
/// The data lake target connection spec.
const DATA_LAKE_CONNECTION_SPEC_ID: &str = "c604ff05-7f1a-43c0-8e18-33bf874cb11c";
/// The etag of the served flow spec (fixed: specs are not written).
const SPEC_ETAG: &str = "\"0b00a0d1-0000-0200-0000-5e9f3e3a0000\"";

/// A flow's own fields (the store keeps id, etag and times).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Flow {
    name: String,
    description: String,
    flow_spec_id: String,
    flow_spec_version: String,
    source_connection_ids: Vec<String>,
    target_connection_ids: Vec<String>,
    /// The `transformations` array, as sent.
    transformations: Value,
    /// The `scheduleParams` object, as sent.
    schedule_params: Value,
    /// `enabled` or `disabled`.
    state: String,
    /// `lastRunDetails`, when a test set one.
    pub(crate) last_run: Option<Value>,
}

impl Resource for Flow {
    fn to_json(&self, meta: &Meta) -> Value {
        let mut view = json!({
            "id": meta.id,
            "createdAt": meta.created_at,
            "updatedAt": meta.updated_at,
            "createdBy": "fake@AdobeID",
            "updatedBy": "fake@AdobeID",
            "name": self.name,
            "description": self.description,
            "flowSpec": {"id": self.flow_spec_id, "version": self.flow_spec_version},
            "state": self.state,
            "version": meta.etag,
            "etag": meta.etag,
            "sourceConnectionIds": self.source_connection_ids,
            "targetConnectionIds": self.target_connection_ids,
            "inheritedAttributes": {},
            "scheduleParams": self.schedule_params,
            "transformations": self.transformations,
            "runs": format!("/runs?property=flowId=={}", meta.id),
        });
        if let Some(run) = &self.last_run {
            view["lastRunDetails"] = run.clone();
        }
        view
    }
}

impl Flow {
    /// A flow's fields from its JSON view (what a test changed through
    /// `modify_flow`); what is missing or of the wrong type is empty.
    fn from_view(view: &Value) -> Flow {
        let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
        let ids = |v: &Value| {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        Flow {
            name: text(&view["name"]),
            description: text(&view["description"]),
            flow_spec_id: text(&view["flowSpec"]["id"]),
            flow_spec_version: text(&view["flowSpec"]["version"]),
            source_connection_ids: ids(&view["sourceConnectionIds"]),
            target_connection_ids: ids(&view["targetConnectionIds"]),
            transformations: view["transformations"].clone(),
            schedule_params: view["scheduleParams"].clone(),
            state: text(&view["state"]),
            last_run: view.get("lastRunDetails").cloned(),
        }
    }
}

/// A flow spec's own fields.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FlowSpec {
    name: String,
    version: String,
    source_connection_spec_ids: Vec<String>,
    target_connection_spec_ids: Vec<String>,
}

impl Resource for FlowSpec {
    fn to_json(&self, meta: &Meta) -> Value {
        json!({
            "id": meta.id,
            "name": self.name,
            "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
            "version": self.version,
            "etag": meta.etag,
            "sourceConnectionSpecIds": self.source_connection_spec_ids,
            "targetConnectionSpecIds": self.target_connection_spec_ids,
            "attributes": {"isSourceFlow": true, "flacValidationSupported": true},
            "transformationSpecs": [
                {"name": "Copy", "spec": {"type": "object", "properties": {"deltaColumn": {
                    "type": "object", "required": ["name", "dateFormat", "timezone"]}}}},
                {"name": "Mapping", "spec": {"type": "object", "properties": {
                    "mappingId": {"type": "string"}, "mappingVersion": {"type": "string"}}}}],
            "scheduleSpec": {"name": "PeriodicSchedule", "type": "Periodic", "spec": {
                "type": "object", "required": ["startTime", "frequency"],
                "properties": {"startTime": {"type": "integer"},
                               "frequency": {"type": "string",
                                             "enum": ["once", "minute", "hour", "day", "week"]},
                               "interval": {"type": "integer"},
                               "backfill": {"type": "boolean", "default": true}}}},
        })
    }
}

/// The flows, and the flow specs served.
pub(crate) struct Flows {
    pub(crate) store: Store<Flow>,
    pub(crate) specs: Store<FlowSpec>,
}

impl Flows {
    pub(crate) fn new(serial: Serial) -> Self {
        // The spec has its own serial: serving it takes no number from the
        // shared one, so the first connection's id stays `...0001`.
        let mut specs = Store::new(Serial::default());
        specs.insert_as(
            CRM_TO_AEP_FLOW_SPEC_ID.to_owned(),
            SPEC_ETAG.to_owned(),
            FlowSpec {
                name: CRM_TO_AEP_FLOW_SPEC_NAME.to_owned(),
                version: "1.0".to_owned(),
                source_connection_spec_ids: vec![
                    // Other database sources share the spec.
                    "3c9b37f8-13a6-43d8-bad3-b863b941fedd".to_owned(),
                    POSTGRES_CONNECTION_SPEC_ID.to_owned(),
                ],
                target_connection_spec_ids: vec![DATA_LAKE_CONNECTION_SPEC_ID.to_owned()],
            },
        );
        Flows {
            store: Store::new(serial),
            specs,
        }
    }

    /// Whether any flow reads or writes connection `id` (a source or
    /// target connection): such a connection cannot be deleted.
    pub(crate) fn uses_connection(&self, id: &str) -> bool {
        self.store.iter().any(|e| {
            e.value.source_connection_ids.iter().any(|s| s == id)
                || e.value.target_connection_ids.iter().any(|t| t == id)
        })
    }
}

/// The refusal of a delete of a connection that a flow uses
/// ([`Flows::uses_connection`]): 400 `FLOW-1418-400`, as Flow Service
/// answers.
pub(crate) fn in_use(request_id: &str) -> Reply {
    flow_error(
        400,
        "FLOW-1418-400",
        "Connection is in use by one or more dataflows and cannot be deleted",
        request_id,
    )
}

/// Whether target connection `id` exists.
fn target_exists(state: &SandboxState, id: &str) -> bool {
    state.target_connections.exists(id)
}

/// Points flow `flow_id`'s `lastRunDetails` at its newest run (no new
/// etag: the service fills it in as runs happen).
pub(crate) fn refresh_last_run(state: &mut SandboxState, flow_id: &str) {
    let details = state.runs.last_run_details(flow_id);
    if let Some(entry) = state.flows.store.get_mut_unversioned(flow_id) {
        entry.value.last_run = details;
    }
}

/// Everything under `/flowSpecs`.
pub(crate) fn handle_specs(
    call: &Call<'_>,
    state: &mut SandboxState,
    expected: &Expected,
) -> Reply {
    let request_id = call.request_id;
    match (call.req.method.as_str(), call.rest) {
        ("GET", []) => call::list(&state.flows.specs, SPECS, call, expected),
        ("GET", [id]) => match state.flows.specs.get(id) {
            Some(s) => Reply::json(200, json!({"items": [s.to_json()]}).to_string()),
            None => call::not_found("Flow spec", id, request_id),
        },
        _ => call::method_not_allowed(request_id),
    }
}

/// Everything under `/flows`.
pub(crate) fn handle(call: &Call<'_>, state: &mut SandboxState, expected: &Expected) -> Reply {
    let request_id = call.request_id;
    match (call.req.method.as_str(), call.rest) {
        ("POST", []) => create(call, state),
        ("GET", []) => call::list(&state.flows.store, COLLECTION, call, expected),
        ("GET", [id]) => match state.flows.store.get(id) {
            Some(f) => Reply::json(200, json!({"items": [f.to_json()]}).to_string()),
            None => not_found(id, request_id),
        },
        ("PATCH", [id]) => patch(call, id, &mut state.flows.store),
        ("POST", [id, "action"]) => action(call, id, &mut state.flows.store),
        ("DELETE", [id]) => match state.flows.store.delete(id) {
            Some(_) => Reply::new(204),
            None => not_found(id, request_id),
        },
        _ => call::method_not_allowed(request_id),
    }
}

fn not_found(id: &str, request_id: &str) -> Reply {
    call::not_found("Flow", id, request_id)
}

fn saved(entry: &Entry<Flow>) -> Reply {
    Reply::json(
        200,
        json!({"id": entry.meta.id, "etag": entry.meta.etag}).to_string(),
    )
}

/// `POST /flows`.
fn create(call: &Call<'_>, state: &mut SandboxState) -> Reply {
    let request_id = call.request_id;
    let invalid = |message: &str| flow_error(400, "FLOW-1415-400", message, request_id);
    let (body, name) = match call::named_body(call) {
        Ok(named) => named,
        Err(refusal) => return refusal,
    };
    let Some(spec_id) = body["flowSpec"]["id"].as_str() else {
        return invalid("flowSpec.id is required");
    };
    let Some(spec) = state.flows.specs.get(spec_id) else {
        return invalid(&format!("Flow spec {spec_id} not found"));
    };
    let spec_version = match body["flowSpec"].get("version") {
        None => spec.value.version.clone(),
        Some(Value::String(v)) if *v == spec.value.version => v.clone(),
        Some(_) => return invalid(&format!("flowSpec.version must be {}", spec.value.version)),
    };
    let Some(sources) = id_list(&body["sourceConnectionIds"]) else {
        return invalid("sourceConnectionIds must be a non-empty array of ids");
    };
    let Some(targets) = id_list(&body["targetConnectionIds"]) else {
        return invalid("targetConnectionIds must be a non-empty array of ids");
    };
    for id in &sources {
        if state.source_connections.store.get(id).is_none() {
            return invalid(&format!("Source connection {id} not found"));
        }
    }
    for id in &targets {
        if !target_exists(state, id) {
            return invalid(&format!("Target connection {id} not found"));
        }
    }
    if let Err(message) = check_transformations(&body["transformations"]) {
        return invalid(&message);
    }
    if let Err(message) = check_schedule(&body["scheduleParams"]) {
        return invalid(&message);
    }
    let entry = state.flows.store.insert(Flow {
        name,
        description: body["description"].as_str().unwrap_or("").to_owned(),
        flow_spec_id: spec_id.to_owned(),
        flow_spec_version: spec_version,
        source_connection_ids: sources,
        target_connection_ids: targets,
        transformations: body["transformations"].clone(),
        schedule_params: body["scheduleParams"].clone(),
        state: "enabled".to_owned(),
        last_run: None,
    });
    let (id, etag) = (entry.meta.id.clone(), entry.meta.etag.clone());
    if state.demo_runs {
        // Demo mode: the flow ran at once, and well.
        let now = crate::store::now_millis();
        state.runs.add(
            &id,
            crate::runs::FakeRun::new("success")
                .with_counts(3, 3, 0)
                .with_bytes(412, 1_187)
                .with_times(now, now + 4_200)
                .with_created_at(now),
        );
        refresh_last_run(state, &id);
    }
    Reply::json(201, json!({"id": id, "etag": etag}).to_string())
        .header("Location", format!("{BASE_PATH}{COLLECTION}/{id}"))
}

/// A non-empty array of non-empty strings.
fn id_list(v: &Value) -> Option<Vec<String>> {
    let ids: Vec<String> = v
        .as_array()?
        .iter()
        .map(|i| i.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
        .collect::<Option<_>>()?;
    (!ids.is_empty()).then_some(ids)
}

/// An integer sent as a number or a numeric string, as the service takes.
fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `scheduleParams` by the flow spec's schedule schema (strings for the
/// numbers accepted, as the service does).
fn check_schedule(params: &Value) -> Result<(), String> {
    let Some(p) = params.as_object() else {
        return Err("scheduleParams is required".into());
    };
    match p.get("startTime").and_then(int_of) {
        Some(t) if t > 0 => {}
        _ => {
            return Err(
                "scheduleParams.startTime must be a positive integer (epoch seconds)".into(),
            )
        }
    }
    let frequency = match p.get("frequency").and_then(Value::as_str) {
        Some(f @ ("once" | "minute" | "hour" | "day" | "week")) => f,
        _ => {
            return Err(
                "scheduleParams.frequency must be one of once, minute, hour, day, week".into(),
            )
        }
    };
    if frequency == "once" {
        if p.contains_key("interval") || p.contains_key("backfill") {
            return Err(
                "scheduleParams.interval and scheduleParams.backfill are not allowed with \
                 frequency once"
                    .into(),
            );
        }
        return Ok(());
    }
    let min = if frequency == "minute" { 15 } else { 1 };
    match p.get("interval").and_then(int_of) {
        Some(i) if i >= min => {}
        _ => {
            return Err(format!(
                "scheduleParams.interval is required and must be at least {min} for frequency \
                 {frequency}"
            ))
        }
    }
    match p.get("backfill") {
        None | Some(Value::Bool(_)) => Ok(()),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(()),
        Some(_) => Err("scheduleParams.backfill must be a boolean".into()),
    }
}

/// One transformation entry: a name and params; `Copy` with a delta
/// column (UTC), `Mapping` with a mapping id and version.
fn check_transformation(t: &Value) -> Result<(), String> {
    let Some(name) = t["name"].as_str() else {
        return Err("transformations[].name is required".into());
    };
    let params = &t["params"];
    if !params.is_object() {
        return Err(format!("transformation {name} needs params"));
    }
    match name {
        "Copy" => {
            let delta = &params["deltaColumn"];
            if delta["name"].as_str().is_none_or(str::is_empty) {
                return Err("Copy needs params.deltaColumn.name (a table source)".into());
            }
            if delta.get("timezone").is_some_and(|z| z != "UTC") {
                return Err("params.deltaColumn.timezone must be UTC".into());
            }
            Ok(())
        }
        "Mapping" => {
            if params["mappingId"].as_str().is_none_or(str::is_empty) {
                return Err("Mapping needs params.mappingId".into());
            }
            if params
                .get("mappingVersion")
                .and_then(int_of)
                .is_none_or(|v| v < 0)
            {
                return Err("Mapping needs params.mappingVersion".into());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The `transformations` array: every entry valid, and a `Copy` with a
/// delta column (database flows need one).
fn check_transformations(ts: &Value) -> Result<(), String> {
    let Some(entries) = ts.as_array() else {
        return Err("transformations must be an array".into());
    };
    for t in entries {
        check_transformation(t)?;
    }
    if !entries.iter().any(|t| t["name"] == "Copy") {
        return Err(
            "transformations need Copy with params.deltaColumn.name (a table source)".into(),
        );
    }
    Ok(())
}

/// `PATCH /flows/{id}`: `replace`/`add`/`remove` of `/scheduleParams/*`
/// (not `startTime` once it has passed), `replace` of
/// `/transformations/{i}` (the entry is validated), `replace` of `/name`
/// and `/description`. The result must still be a valid flow.
fn patch(call: &Call<'_>, id: &str, store: &mut Store<Flow>) -> Reply {
    let request_id = call.request_id;
    let Some(current) = store.get(id) else {
        return not_found(id, request_id);
    };
    let ops = match call::patch_ops(call, &current.meta.etag) {
        Ok(ops) => ops,
        Err(refusal) => return refusal,
    };
    let mut flow = current.value.clone();
    let now_secs = now_millis() / 1000;
    let checked = ops
        .iter()
        .try_for_each(|op| apply(&mut flow, op, now_secs))
        .and_then(|()| check_schedule(&flow.schedule_params))
        .and_then(|()| check_transformations(&flow.transformations));
    if let Err(message) = checked {
        return flow_error(400, "FLOW-1415-400", &message, request_id);
    }
    match store.update(id, |f| *f = flow) {
        Some(entry) => saved(entry),
        None => not_found(id, request_id),
    }
}

/// Applies one JSON Patch operation to `flow`.
fn apply(flow: &mut Flow, op: &Value, now_secs: i64) -> Result<(), String> {
    let kind = op["op"].as_str().unwrap_or("").to_ascii_lowercase();
    let path = op["path"].as_str().unwrap_or("");
    let value = op.get("value");
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["", "scheduleParams", key @ ("startTime" | "frequency" | "interval" | "backfill")] => {
            let Some(params) = flow.schedule_params.as_object_mut() else {
                return Err("the flow has no scheduleParams".into());
            };
            if *key == "startTime"
                && params
                    .get("startTime")
                    .and_then(int_of)
                    .is_some_and(|t| t <= now_secs)
            {
                return Err("scheduleParams.startTime cannot be changed once it has passed".into());
            }
            apply_member(params, key, &kind, value)
        }
        ["", "transformations", index] => {
            let entries = flow
                .transformations
                .as_array_mut()
                .ok_or("the flow has no transformations")?;
            let i = index
                .parse::<usize>()
                .ok()
                .filter(|i| *i < entries.len())
                .ok_or_else(|| format!("no transformation at {path}"))?;
            match (kind.as_str(), value) {
                ("replace", Some(v)) => {
                    check_transformation(v)?;
                    entries[i] = v.clone();
                    Ok(())
                }
                _ => Err("only replace of a whole transformation is supported".into()),
            }
        }
        ["", field @ ("name" | "description")] => match (kind.as_str(), value) {
            ("replace", Some(Value::String(v)))
                if *field == "description" || !v.trim().is_empty() =>
            {
                if *field == "name" {
                    flow.name = v.clone();
                } else {
                    flow.description = v.clone();
                }
                Ok(())
            }
            _ => Err(format!(
                "only replace of /{field} with a string is supported"
            )),
        },
        _ => Err(format!("Unsupported patch path {path:?}")),
    }
}

/// JSON Patch on one member of an object.
fn apply_member(
    object: &mut Map<String, Value>,
    key: &str,
    kind: &str,
    value: Option<&Value>,
) -> Result<(), String> {
    match (kind, value) {
        ("replace", Some(v)) if object.contains_key(key) => {
            object.insert(key.to_owned(), v.clone());
            Ok(())
        }
        ("replace", Some(_)) => Err(format!("cannot replace {key}: it is not there (use add)")),
        ("add", Some(v)) => {
            object.insert(key.to_owned(), v.clone());
            Ok(())
        }
        // Adobe's spec requires `value` on every operation, `remove`
        // included (its only `remove` example sends one): a strict
        // service refuses a `remove` without.
        ("remove", None) => Err(format!(
            "remove of {key} needs a value (the member's current value)"
        )),
        ("remove", Some(_)) => object
            .remove(key)
            .map(|_| ())
            .ok_or_else(|| format!("cannot remove {key}: it is not there")),
        _ => Err(format!(
            "unsupported operation {kind:?} (with a value?) on {key}"
        )),
    }
}

/// `POST /flows/{id}/action?op=enable|disable` (any case, as the OpenAPI
/// enum is upper case and the tutorials lower case).
fn action(call: &Call<'_>, id: &str, store: &mut Store<Flow>) -> Reply {
    let request_id = call.request_id;
    if store.get(id).is_none() {
        return not_found(id, request_id);
    }
    let op = call
        .query
        .split('&')
        .find_map(|p| p.strip_prefix("op="))
        .unwrap_or("");
    let state = if op.eq_ignore_ascii_case("enable") {
        "enabled"
    } else if op.eq_ignore_ascii_case("disable") {
        "disabled"
    } else {
        return flow_error(
            400,
            "FLOW-1401-400",
            "op must be enable or disable",
            request_id,
        );
    };
    match store.update(id, |f| f.state = state.to_owned()) {
        Some(entry) => saved(entry),
        None => not_found(id, request_id),
    }
}

/// The flows, as the service shows them.
pub(crate) fn views(state: &SandboxState) -> Vec<Value> {
    state.flows.store.iter().map(Entry::to_json).collect()
}

/// Changes a flow through its JSON view, as another client's write would:
/// a new etag. False when there is no such flow.
pub(crate) fn modify(state: &mut SandboxState, id: &str, f: impl FnOnce(&mut Value)) -> bool {
    let Some(entry) = state.flows.store.get(id) else {
        return false;
    };
    let mut view = entry.to_json();
    f(&mut view);
    let changed = Flow::from_view(&view);
    state
        .flows
        .store
        .update(id, |flow| *flow = changed)
        .is_some()
}

/// Sets the served flow spec's `sourceConnectionSpecIds`.
pub(crate) fn set_spec_sources(state: &mut SandboxState, ids: Vec<String>) {
    let _ = state.flows.specs.update(CRM_TO_AEP_FLOW_SPEC_ID, |s| {
        s.source_connection_spec_ids = ids;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_follow_the_spec_rules() {
        for ok in [
            json!({"startTime": 1, "frequency": "once"}),
            json!({"startTime": "1764230400", "frequency": "hour", "interval": "1", "backfill": "true"}),
            json!({"startTime": 1, "frequency": "minute", "interval": 15, "backfill": false}),
            json!({"startTime": 1, "frequency": "week", "interval": 1}),
        ] {
            assert_eq!(check_schedule(&ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            (json!(null), "required"),
            (json!({"frequency": "once"}), "startTime"),
            (json!({"startTime": 0, "frequency": "once"}), "startTime"),
            (
                json!({"startTime": "soon", "frequency": "once"}),
                "startTime",
            ),
            (json!({"startTime": 1.5, "frequency": "once"}), "startTime"),
            (
                json!({"startTime": 1, "frequency": "Hourly", "interval": 1}),
                "frequency",
            ),
            (
                json!({"startTime": 1, "frequency": "once", "interval": 1}),
                "not allowed",
            ),
            (
                json!({"startTime": 1, "frequency": "once", "backfill": true}),
                "not allowed",
            ),
            (
                json!({"startTime": 1, "frequency": "minute", "interval": 14}),
                "at least 15",
            ),
            (
                json!({"startTime": 1, "frequency": "day", "interval": 0}),
                "at least 1",
            ),
            (json!({"startTime": 1, "frequency": "day"}), "interval"),
            (
                json!({"startTime": 1, "frequency": "day", "interval": 1, "backfill": 1}),
                "boolean",
            ),
        ] {
            let e = check_schedule(&bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn start_time_cannot_change_once_passed() {
        let mut flow = Flow::from_view(&json!({
            "scheduleParams": {"startTime": 100, "frequency": "once"},
        }));
        let op = json!({"op": "replace", "path": "/scheduleParams/startTime", "value": 500});
        assert!(apply(&mut flow, &op, 100).unwrap_err().contains("passed"));
        assert_eq!(apply(&mut flow, &op, 99), Ok(()));
        assert_eq!(flow.schedule_params["startTime"], 500);
    }
}
