//! Catalog (`{CATALOG_PATH}/dataSets/{id}`): the datasets a test sets up
//! ([`FakeFlowService::add_dataset`](crate::Sandbox::add_dataset)),
//! and the fields of XDM schemas
//! ([`FakeFlowService::set_schema_fields`](crate::Sandbox::set_schema_fields))
//! that target connections and mapping sets are checked against.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::call::Call;
use crate::config::Expected;
use crate::reply::Reply;
use crate::state::SandboxState;
use crate::store::now_millis;

/// The content type Catalog shows in a dataset's `schemaRef`.
const SCHEMA_CONTENT_TYPE: &str = "application/vnd.adobe.xed+json;version=1";

/// A dataset in the fake Catalog.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Dataset {
    pub(crate) name: String,
    /// The `$id` URL of its XDM schema.
    pub(crate) schema_id: String,
    pub(crate) created: i64,
}

/// Datasets by id, and schemas' fields by schema id.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Catalog {
    pub(crate) datasets: BTreeMap<String, Dataset>,
    /// XDM paths (`_tenant.orderId`) by schema id.
    pub(crate) schema_fields: BTreeMap<String, Vec<String>>,
}

impl Catalog {
    /// The dataset with this id.
    pub(crate) fn dataset(&self, id: &str) -> Option<&Dataset> {
        self.datasets.get(id)
    }

    /// Whether the fake knows this schema: its fields were set, or a
    /// dataset follows it.
    pub(crate) fn knows_schema(&self, schema_id: &str) -> bool {
        self.schema_fields.contains_key(schema_id)
            || self.datasets.values().any(|d| d.schema_id == schema_id)
    }

    /// The schema's fields, when a test set them (`None`: any field is
    /// taken).
    pub(crate) fn fields(&self, schema_id: &str) -> Option<&[String]> {
        self.schema_fields.get(schema_id).map(Vec::as_slice)
    }

    /// The dataset as Catalog shows it: an object keyed by its id.
    fn to_json(&self, id: &str, d: &Dataset) -> Value {
        json!({ id: {
            "name": d.name,
            "description": "",
            "imsOrg": crate::wire::DEMO_ORG_ID,
            "sandboxId": "00000000-0000-0000-0000-000000000000",
            "tags": {},
            "version": "1.0.0",
            "created": d.created,
            "updated": d.created,
            "createdClient": "fake",
            "createdUser": "fake@AdobeID",
            "schemaRef": {"id": d.schema_id, "contentType": SCHEMA_CONTENT_TYPE},
            "files": format!("@/dataSetFiles?dataSetId={id}"),
        }})
    }
}

impl Dataset {
    pub(crate) fn new(name: &str, schema_id: &str) -> Self {
        Dataset {
            name: name.to_owned(),
            schema_id: schema_id.to_owned(),
            created: now_millis(),
        }
    }
}

/// Catalog's error envelope (the Platform one, with a `CAT-` code).
pub(crate) fn catalog_error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "type": format!("http://ns.adobe.com/aep/errors/{code}"),
            "title": crate::wire::reason_phrase(status),
            "status": status,
            "report": {"detailed-message": message, "request-id": request_id},
        })
        .to_string(),
    )
}

/// Everything under `/dataSets`: only a read by id.
pub(crate) fn handle(call: &Call<'_>, state: &mut SandboxState, _expected: &Expected) -> Reply {
    let request_id = call.request_id;
    match (call.req.method.as_str(), call.rest) {
        ("GET", [id]) => match state.catalog.dataset(id) {
            Some(d) => Reply::json(200, state.catalog.to_json(id, d).to_string()),
            None => catalog_error(
                404,
                "CAT-1403-404",
                &format!("Dataset with id {id} not found"),
                request_id,
            ),
        },
        _ => catalog_error(405, "CAT-1405-405", "Method not allowed", request_id),
    }
}
