//! `/targetConnections`: create (the data lake spec, a dataset the fake's
//! Catalog holds, and that dataset's schema), get, list and delete.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::call::{self, flow_error, Call};
use crate::config::Expected;
use crate::reply::Reply;
use crate::state::SandboxState;
use crate::store::{Meta, Resource, Serial, Store};
use crate::wire::BASE_PATH;
use crate::wire::{DATA_LAKE_CONNECTION_SPEC_ID, DATA_LAKE_CONNECTION_SPEC_VERSION};

/// The collection's path under the base path.
const COLLECTION: &str = "/targetConnections";

/// A target connection's own fields (the store keeps id, etag and times).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TargetConnection {
    name: String,
    description: String,
    pub(crate) dataset_id: String,
    schema_id: String,
    schema_version: Option<String>,
    /// `data.format` as sent; Adobe's tutorials disagree on it, so any
    /// string (or none) is taken.
    format: Option<String>,
}

impl Resource for TargetConnection {
    fn to_json(&self, meta: &Meta) -> Value {
        let mut schema = json!({"id": self.schema_id});
        if let Some(version) = &self.schema_version {
            schema["version"] = json!(version);
        }
        let mut data = json!({"schema": schema});
        if let Some(format) = &self.format {
            data["format"] = json!(format);
        }
        json!({
            "id": meta.id,
            "createdAt": meta.created_at,
            "updatedAt": meta.updated_at,
            "createdBy": "fake@AdobeID",
            "updatedBy": "fake@AdobeID",
            "name": self.name,
            "description": self.description,
            "state": "enabled",
            "data": data,
            "params": {"dataSetId": self.dataset_id},
            "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID, "version": DATA_LAKE_CONNECTION_SPEC_VERSION},
            "version": "1.0",
            "etag": meta.etag,
        })
    }
}

/// The target connections.
pub(crate) struct TargetConnections {
    pub(crate) store: Store<TargetConnection>,
}

impl TargetConnections {
    pub(crate) fn new(serial: Serial) -> Self {
        TargetConnections {
            store: Store::new(serial),
        }
    }

    /// Whether a target connection with this id exists.
    pub(crate) fn exists(&self, id: &str) -> bool {
        self.store.get(id).is_some()
    }
}

/// Everything under `/targetConnections`.
pub(crate) fn handle(call: &Call<'_>, state: &mut SandboxState, expected: &Expected) -> Reply {
    let request_id = call.request_id;
    match (call.req.method.as_str(), call.rest) {
        ("POST", []) => create(call, state),
        ("GET", []) => call::list(&state.target_connections.store, COLLECTION, call, expected),
        ("GET", [id]) => match state.target_connections.store.get(id) {
            Some(t) => Reply::json(200, json!({"items": [t.to_json()]}).to_string()),
            None => not_found(id, request_id),
        },
        ("DELETE", [id]) => delete(id, state, request_id),
        _ => call::method_not_allowed(request_id),
    }
}

fn not_found(id: &str, request_id: &str) -> Reply {
    call::not_found("Target connection", id, request_id)
}

/// `DELETE /targetConnections/{id}`.
fn delete(id: &str, state: &mut SandboxState, request_id: &str) -> Reply {
    if state.target_connections.exists(id) && state.flows.uses_connection(id) {
        return crate::flows::in_use(request_id);
    }
    match state.target_connections.store.delete(id) {
        Some(_) => Reply::new(204),
        None => not_found(id, request_id),
    }
}

/// `POST /targetConnections`.
fn create(call: &Call<'_>, state: &mut SandboxState) -> Reply {
    let request_id = call.request_id;
    let invalid = |message: &str| flow_error(400, "FLOW-1415-400", message, request_id);
    let (body, name) = match call::named_body(call) {
        Ok(named) => named,
        Err(refusal) => return refusal,
    };
    let spec = &body["connectionSpec"];
    if spec["id"].as_str() != Some(DATA_LAKE_CONNECTION_SPEC_ID)
        || spec["version"].as_str() != Some(DATA_LAKE_CONNECTION_SPEC_VERSION)
    {
        return invalid(
            "connectionSpec must be the data lake's (c604ff05-7f1a-43c0-8e18-33bf874cb11c, version 1.0)",
        );
    }
    let data = &body["data"];
    if data.get("format").is_some_and(|f| !f.is_string()) {
        return invalid("data.format must be a string");
    }
    let Some(dataset_id) = body["params"]["dataSetId"].as_str().map(str::to_owned) else {
        return invalid("params.dataSetId is required");
    };
    let Some(dataset) = state.catalog.dataset(&dataset_id) else {
        return invalid(&format!("Dataset {dataset_id} not found"));
    };
    let Some(schema_id) = data["schema"]["id"].as_str().map(str::to_owned) else {
        return invalid("data.schema.id is required");
    };
    if schema_id != dataset.schema_id {
        return invalid(&format!(
            "data.schema.id {schema_id} is not the schema of dataset {dataset_id} ({})",
            dataset.schema_id
        ));
    }
    if data["schema"]
        .get("version")
        .is_some_and(|v| !v.is_string())
    {
        return invalid("data.schema.version must be a string");
    }
    let entry = state.target_connections.store.insert(TargetConnection {
        name,
        description: body["description"].as_str().unwrap_or("").to_owned(),
        dataset_id,
        schema_id,
        schema_version: data["schema"]["version"].as_str().map(str::to_owned),
        format: data["format"].as_str().map(str::to_owned),
    });
    let (id, etag) = (entry.meta.id.clone(), entry.meta.etag.clone());
    Reply::json(201, json!({"id": id, "etag": etag}).to_string())
        .header("Location", format!("{BASE_PATH}{COLLECTION}/{id}"))
}
