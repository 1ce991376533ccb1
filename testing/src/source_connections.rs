//! `/sourceConnections`: create (the base connection must exist and hold
//! the table), get, list, patch (`If-Match`, 412) and delete.

use serde_json::{json, Value};

use crate::call::{self, flow_error, Call};
use crate::config::Expected;
use crate::explore::has_table;
use crate::reply::Reply;
use crate::state::SandboxState;
use crate::store::{Meta, Resource, Serial, Store};
use crate::wire::BASE_PATH;
use crate::wire::{POSTGRES_CONNECTION_SPEC_ID, POSTGRES_CONNECTION_SPEC_VERSION};

/// The collection's path under the base path.
const COLLECTION: &str = "/sourceConnections";

/// A source connection's own fields (the store keeps id, etag and times).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct SourceConnection {
    name: String,
    description: String,
    pub(crate) base_connection_id: String,
    table_name: String,
    format: String,
    columns: Option<Value>,
}

impl Resource for SourceConnection {
    fn to_json(&self, meta: &Meta) -> Value {
        let mut params = json!({"tableName": self.table_name});
        if let Some(columns) = &self.columns {
            params["columns"] = columns.clone();
        }
        json!({
            "id": meta.id,
            "createdAt": meta.created_at,
            "updatedAt": meta.updated_at,
            "createdBy": "fake@AdobeID",
            "updatedBy": "fake@AdobeID",
            "name": self.name,
            "description": self.description,
            "baseConnectionId": self.base_connection_id,
            "state": "enabled",
            "data": {"format": self.format},
            "params": params,
            "connectionSpec": {"id": POSTGRES_CONNECTION_SPEC_ID, "version": POSTGRES_CONNECTION_SPEC_VERSION},
            "version": "1.0",
            "etag": meta.etag,
        })
    }
}

/// The source connections.
pub(crate) struct SourceConnections {
    pub(crate) store: Store<SourceConnection>,
}

impl SourceConnections {
    pub(crate) fn new(serial: Serial) -> Self {
        SourceConnections {
            store: Store::new(serial),
        }
    }

    /// Whether any source connection reads through base connection `id`.
    pub(crate) fn uses(&self, id: &str) -> bool {
        self.store.iter().any(|e| e.value.base_connection_id == id)
    }
}

/// Everything under `/sourceConnections`.
pub(crate) fn handle(call: &Call<'_>, state: &mut SandboxState, expected: &Expected) -> Reply {
    let request_id = call.request_id;
    match (call.req.method.as_str(), call.rest) {
        ("POST", []) => create(call, state),
        ("GET", []) => call::list(&state.source_connections.store, COLLECTION, call, expected),
        ("GET", [id]) => match state.source_connections.store.get(id) {
            Some(s) => Reply::json(200, json!({"items": [s.to_json()]}).to_string()),
            None => not_found(id, request_id),
        },
        ("PATCH", [id]) => patch(call, id, &mut state.source_connections),
        ("DELETE", [id])
            if state.source_connections.store.get(id).is_some()
                && state.flows.uses_connection(id) =>
        {
            crate::flows::in_use(request_id)
        }
        ("DELETE", [id]) => match state.source_connections.store.delete(id) {
            Some(_) => Reply::new(204),
            None => not_found(id, request_id),
        },
        _ => call::method_not_allowed(request_id),
    }
}

fn not_found(id: &str, request_id: &str) -> Reply {
    call::not_found("Source connection", id, request_id)
}

/// `POST /sourceConnections`.
fn create(call: &Call<'_>, state: &mut SandboxState) -> Reply {
    let request_id = call.request_id;
    let invalid = |message: &str| flow_error(400, "FLOW-1415-400", message, request_id);
    let (body, name) = match call::named_body(call) {
        Ok(named) => named,
        Err(refusal) => return refusal,
    };
    let spec = &body["connectionSpec"];
    if spec["id"].as_str() != Some(POSTGRES_CONNECTION_SPEC_ID)
        || spec["version"].as_str() != Some(POSTGRES_CONNECTION_SPEC_VERSION)
    {
        return invalid("connectionSpec must be PostgreSQL's (74a1c565-4e59-48d7-9d67-7c03b8a13137, version 1.0)");
    }
    let Some(format) = body["data"]["format"].as_str().map(str::to_owned) else {
        return invalid("data.format is required");
    };
    let Some(base) = body["baseConnectionId"].as_str().map(str::to_owned) else {
        return invalid("baseConnectionId is required");
    };
    let Some(table) = body["params"]["tableName"].as_str().map(str::to_owned) else {
        return invalid("params.tableName is required");
    };
    if state.connections.store.get(&base).is_none() {
        return invalid(&format!("Base connection {base} not found"));
    }
    if !has_table(state, &base, &table) {
        return invalid(&format!(
            "Table {table} not found in base connection {base}"
        ));
    }
    let columns = body["params"].get("columns").cloned();
    if columns.as_ref().is_some_and(|c| !c.is_array()) {
        return invalid("params.columns must be an array");
    }
    let entry = state.source_connections.store.insert(SourceConnection {
        name,
        description: body["description"].as_str().unwrap_or("").to_owned(),
        base_connection_id: base,
        table_name: table,
        format,
        columns,
    });
    let (id, etag) = (entry.meta.id.clone(), entry.meta.etag.clone());
    Reply::json(201, json!({"id": id, "etag": etag}).to_string())
        .header("Location", format!("{BASE_PATH}{COLLECTION}/{id}"))
}

/// `PATCH /sourceConnections/{id}`: replace `/name` or `/description`.
fn patch(call: &Call<'_>, id: &str, sources: &mut SourceConnections) -> Reply {
    let request_id = call.request_id;
    let Some(current) = sources.store.get(id) else {
        return not_found(id, request_id);
    };
    let ops = match call::patch_ops(call, &current.meta.etag) {
        Ok(ops) => ops,
        Err(refusal) => return refusal,
    };
    let mut changes = Vec::new();
    for op in &ops {
        match (op["op"].as_str(), op["path"].as_str(), op["value"].as_str()) {
            (Some("replace"), Some(path @ ("/name" | "/description")), Some(value)) => {
                changes.push((path, value.to_owned()))
            }
            _ => {
                return flow_error(
                    400,
                    "FLOW-1415-400",
                    "Only replace of /name or /description is supported",
                    request_id,
                )
            }
        }
    }
    match sources.store.update(id, |s| {
        for (path, value) in changes {
            if path == "/name" {
                s.name = value;
            } else {
                s.description = value;
            }
        }
    }) {
        Some(s) => Reply::json(
            200,
            json!({"id": s.meta.id, "etag": s.meta.etag}).to_string(),
        ),
        None => not_found(id, request_id),
    }
}
