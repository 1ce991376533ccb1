//! Data Prep's `/mappingSets`: create (200, a 32-hex id, version 0), update
//! (`PUT`, a new version), read (`GET /mappingSets/{id}[?version=N]`) and
//! validate (`POST /mappingSets/validate`: one result per mapping).
//!
//! A mapping set's output schema must be one the fake's Catalog knows.
//! Validation checks each destination against the schema's fields (when a
//! test set them; a schema known only through a dataset takes any field),
//! and each `ATTRIBUTE` source against the inline `inputSchema`'s
//! properties when the body carries them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::call::Call;
use crate::catalog::Catalog;
use crate::config::Expected;
use crate::reply::Reply;
use crate::state::SandboxState;
use crate::store::{etag_for, now_millis, Serial, Store};
use crate::wire::XDM_FULL_CONTENT_TYPE;

/// One mapping, as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FakeMapping {
    /// `ATTRIBUTE` or `EXPRESSION` (upper case).
    source_type: String,
    source: String,
    destination: String,
}

/// One version of a mapping set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct MappingSetVersion {
    schema_id: String,
    mappings: Vec<FakeMapping>,
    /// The inline input schema's properties, if the body had them.
    source_columns: Option<Vec<String>>,
    modified: i64,
}

/// A mapping set: every version, oldest first (version `n` at index `n`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct MappingSet {
    pub(crate) versions: Vec<MappingSetVersion>,
    /// The `name` the create sent, if any (`GET /mappingSets?name=` finds it).
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// The mapping sets, and how GET names the mappings' fields.
pub(crate) struct MappingSets {
    pub(crate) store: Store<MappingSet>,
    /// Answer with the legacy names (`sourceAttribute`,
    /// `destinationXdmPath`, `text/x.schema-path`) instead of the current
    /// ones.
    pub(crate) legacy_names: bool,
    /// Answer without `outputSchema`, as legacy mapping sets come back.
    pub(crate) hide_schema: bool,
}

impl MappingSets {
    pub(crate) fn new(serial: Serial) -> Self {
        MappingSets {
            store: Store::new(serial),
            legacy_names: false,
            hide_schema: false,
        }
    }

    /// Whether a mapping set with this id exists.
    pub(crate) fn exists(&self, id: &str) -> bool {
        self.store.get(id).is_some()
    }

    /// Every mapping set's latest version, as GET shows it (current names).
    pub(crate) fn to_json_all(&self) -> Vec<Value> {
        self.store
            .iter()
            .map(|e| {
                let latest = e.value.versions.len() - 1;
                render(&e.meta.id, e.meta.created_at, latest, &e.value, false)
            })
            .collect()
    }
}

/// A mapping set's id: 32 hex digits, like Data Prep's.
fn mapping_set_id(n: u64) -> String {
    format!("e7c80e4c0d8f4a98{n:016x}")
}

/// Data Prep's errors: the Platform envelope with a `CNV-` code. (Data
/// Prep's OpenAPI description gives its errors no body; this is the shape
/// other Platform services use.)
fn data_prep_error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "type": format!("https://ns.adobe.com/aep/errors/{code}"),
            "title": crate::wire::reason_phrase(status),
            "status": status,
            "detail": message,
            "report": {"request-id": request_id},
        })
        .to_string(),
    )
}

fn invalid(message: &str, request_id: &str) -> Reply {
    data_prep_error(400, "CNV-1001-400", message, request_id)
}

/// The mapping set as `GET /mappingSets/{id}` shows it.
fn render(id: &str, created: i64, version: usize, set: &MappingSet, legacy: bool) -> Value {
    let v = &set.versions[version];
    let mappings: Vec<Value> = v
        .mappings
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut out = json!({
                "id": format!("{:032x}", i + 1),
                "version": version,
                "createdDate": created,
                "modifiedDate": v.modified,
                "createdBy": "fake@AdobeID",
                "modifiedBy": "fake@AdobeID",
                "identity": false,
                "primaryIdentity": false,
                "functionVersion": 1,
            });
            if legacy {
                out["sourceType"] = json!(if m.source_type == "EXPRESSION" {
                    "text/x.aep-xl"
                } else {
                    "text/x.schema-path"
                });
                out["sourceAttribute"] = json!(m.source);
                out["destinationXdmPath"] = json!(m.destination);
            } else {
                out["sourceType"] = json!(m.source_type);
                out["source"] = json!(m.source);
                out["destination"] = json!(m.destination);
            }
            out
        })
        .collect();
    let mut out = json!({
        "id": id,
        "version": version,
        "createdDate": created,
        "modifiedDate": v.modified,
        "createdBy": "fake@AdobeID",
        "modifiedBy": "fake@AdobeID",
        "status": "PUBLISHED",
        "allowNullValues": false,
        "outputSchema": {
            "version": 0,
            "schemaRef": {"id": v.schema_id, "contentType": XDM_FULL_CONTENT_TYPE},
        },
        "mappings": mappings,
    });
    if let Some(name) = &set.name {
        out["name"] = json!(name);
    }
    out
}

/// The mapping set as GET shows it, with the quirks the tests asked for.
fn render_for(
    state: &MappingSets,
    id: &str,
    created: i64,
    version: usize,
    set: &MappingSet,
) -> Value {
    let mut out = render(id, created, version, set, state.legacy_names);
    if state.hide_schema {
        if let Value::Object(fields) = &mut out {
            fields.remove("outputSchema");
        }
    }
    out
}

impl MappingSets {
    /// Replaces the latest version's mappings (all `ATTRIBUTE`) behind the
    /// API's back: what the service added or dropped. `false` when there
    /// is no such mapping set.
    pub(crate) fn set_mappings(&mut self, id: &str, pairs: &[(&str, &str)]) -> bool {
        let Some(entry) = self.store.get_mut_unversioned(id) else {
            return false;
        };
        if let Some(latest) = entry.value.versions.last_mut() {
            latest.mappings = pairs
                .iter()
                .map(|(source, destination)| FakeMapping {
                    source_type: "ATTRIBUTE".to_owned(),
                    source: (*source).to_owned(),
                    destination: (*destination).to_owned(),
                })
                .collect();
        }
        true
    }
}

/// A request body checked and read: a known output schema and well-formed
/// mappings.
fn read_body(call: &Call<'_>, catalog: &Catalog) -> Result<MappingSetVersion, Reply> {
    let request_id = call.request_id;
    let bad = |message: &str| invalid(message, request_id);
    if !call
        .req
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json"))
    {
        return Err(data_prep_error(
            415,
            "CNV-1415-415",
            "Content-Type must be application/json",
            request_id,
        ));
    }
    let Ok(body) = serde_json::from_slice::<Value>(&call.req.body) else {
        return Err(bad("Request body is not valid JSON"));
    };
    let Some(schema_id) = body["outputSchema"]["schemaRef"]["id"]
        .as_str()
        .filter(|s| !s.is_empty())
    else {
        return Err(bad("outputSchema.schemaRef.id is required"));
    };
    if !catalog.knows_schema(schema_id) {
        return Err(bad(&format!("Schema {schema_id} not found")));
    }
    let Some(items) = body["mappings"].as_array().filter(|m| !m.is_empty()) else {
        return Err(bad("mappings must be a non-empty array"));
    };
    let mut mappings = Vec::with_capacity(items.len());
    for (i, m) in items.iter().enumerate() {
        let text = |current: &str, legacy: &str| {
            m[current]
                .as_str()
                .or_else(|| m[legacy].as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let source_type = match m["sourceType"].as_str() {
            None => "ATTRIBUTE".to_owned(),
            Some(t) if t.eq_ignore_ascii_case("ATTRIBUTE") => "ATTRIBUTE".to_owned(),
            Some(t) if t.eq_ignore_ascii_case("EXPRESSION") => "EXPRESSION".to_owned(),
            Some(t) => {
                return Err(bad(&format!(
                    "mappings[{i}].sourceType {t} is not supported"
                )))
            }
        };
        let Some(source) = text("source", "sourceAttribute") else {
            return Err(bad(&format!("mappings[{i}].source is required")));
        };
        let Some(destination) = text("destination", "destinationXdmPath") else {
            return Err(bad(&format!("mappings[{i}].destination is required")));
        };
        mappings.push(FakeMapping {
            source_type,
            source,
            destination,
        });
    }
    let properties = body["inputSchema"]["jsonSchema"]["properties"].as_object();
    // Like a strict Data Prep (every Adobe example types its properties):
    // an inline input schema property without a JSON schema type is refused.
    const TYPES: [&str; 6] = ["string", "number", "integer", "boolean", "object", "array"];
    for (column, schema) in properties.into_iter().flatten() {
        if !schema["type"].as_str().is_some_and(|t| TYPES.contains(&t)) {
            return Err(bad(&format!(
                "inputSchema property {column} has no valid type"
            )));
        }
    }
    let source_columns = properties.map(|p| p.keys().cloned().collect());
    Ok(MappingSetVersion {
        schema_id: schema_id.to_owned(),
        mappings,
        source_columns,
        modified: now_millis(),
    })
}

/// Everything under `/mappingSets`.
pub(crate) fn handle(call: &Call<'_>, state: &mut SandboxState, _expected: &Expected) -> Reply {
    let request_id = call.request_id;
    match (call.req.method.as_str(), call.rest) {
        ("POST", []) => create(call, state),
        ("POST", ["validate"]) => validate(call, state),
        ("GET", []) => list(call, state),
        ("GET", [id]) => get(call, id, state),
        ("PUT", [id]) => update(call, id, state),
        _ => data_prep_error(405, "CNV-1405-405", "Method not allowed", request_id),
    }
}

fn not_found(id: &str, request_id: &str) -> Reply {
    data_prep_error(
        404,
        "CNV-1404-404",
        &format!("Mapping set with id {id} not found"),
        request_id,
    )
}

/// `POST /mappingSets` → 200 `{id, version: 0, ...}`.
fn create(call: &Call<'_>, state: &mut SandboxState) -> Reply {
    let version = match read_body(call, &state.catalog) {
        Ok(v) => v,
        Err(refusal) => return refusal,
    };
    let name = serde_json::from_slice::<Value>(&call.req.body)
        .ok()
        .and_then(|b| b["name"].as_str().map(str::to_owned));
    let sets = &mut state.mapping_sets;
    let id = mapping_set_id(sets.store.next_serial());
    let etag = etag_for(sets.store.next_serial());
    let entry = sets.store.insert_as(
        id,
        etag,
        MappingSet {
            versions: vec![version],
            name,
        },
    );
    let created = entry.meta.created_at;
    Reply::json(
        200,
        json!({"id": entry.meta.id, "version": 0, "createdDate": created,
               "modifiedDate": created, "createdBy": "fake@AdobeID",
               "modifiedBy": "fake@AdobeID"})
        .to_string(),
    )
}

/// `GET /mappingSets?limit=N&start=M[&name=X]` → `{"data": [...], "_page":
/// {"count"}}`, oldest first; `limit` and `start` are required, as Data
/// Prep's guide says.
fn list(call: &Call<'_>, state: &SandboxState) -> Reply {
    let (mut limit, mut start, mut name) = (None, None, None);
    for pair in call.query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = crate::wire::percent_decode(v);
        match k {
            "limit" => limit = v.parse::<usize>().ok().filter(|n| *n > 0),
            "start" => start = v.parse::<usize>().ok(),
            "name" => name = Some(v),
            _ => {}
        }
    }
    let (Some(limit), Some(start)) = (limit, start) else {
        return invalid("limit and start are required", call.request_id);
    };
    let data: Vec<Value> = state
        .mapping_sets
        .store
        .iter()
        .filter(|e| name.is_none() || e.value.name == name)
        .skip(start)
        .take(limit)
        .map(|e| {
            let latest = e.value.versions.len() - 1;
            render_for(
                &state.mapping_sets,
                &e.meta.id,
                e.meta.created_at,
                latest,
                &e.value,
            )
        })
        .collect();
    let count = data.len();
    Reply::json(
        200,
        json!({"data": data, "_page": {"count": count}, "_links": {}}).to_string(),
    )
}

/// `PUT /mappingSets/{id}`: a new version.
fn update(call: &Call<'_>, id: &str, state: &mut SandboxState) -> Reply {
    if !state.mapping_sets.exists(id) {
        return not_found(id, call.request_id);
    }
    let version = match read_body(call, &state.catalog) {
        Ok(v) => v,
        Err(refusal) => return refusal,
    };
    let legacy = state.mapping_sets.legacy_names;
    match state
        .mapping_sets
        .store
        .update(id, |s| s.versions.push(version))
    {
        Some(e) => {
            let latest = e.value.versions.len() - 1;
            Reply::json(
                200,
                render(id, e.meta.created_at, latest, &e.value, legacy).to_string(),
            )
        }
        None => not_found(id, call.request_id),
    }
}

/// `GET /mappingSets/{id}[?version=N]`.
fn get(call: &Call<'_>, id: &str, state: &SandboxState) -> Reply {
    let Some(entry) = state.mapping_sets.store.get(id) else {
        return not_found(id, call.request_id);
    };
    let latest = entry.value.versions.len() - 1;
    let mut version = latest;
    for pair in call.query.split('&') {
        if let Some(v) = pair.strip_prefix("version=") {
            match v.parse::<usize>() {
                Ok(n) if n <= latest => version = n,
                _ => {
                    return not_found(&format!("{id} (version {v})"), call.request_id);
                }
            }
        }
    }
    Reply::json(
        200,
        render_for(
            &state.mapping_sets,
            id,
            entry.meta.created_at,
            version,
            &entry.value,
        )
        .to_string(),
    )
}

/// `POST /mappingSets/validate`: one `{"status", "errors"}` per mapping.
fn validate(call: &Call<'_>, state: &SandboxState) -> Reply {
    let version = match read_body(call, &state.catalog) {
        Ok(v) => v,
        Err(refusal) => return refusal,
    };
    let fields = state.catalog.fields(&version.schema_id);
    let results: Vec<Value> = version
        .mappings
        .iter()
        .map(|m| {
            let mut errors = Vec::new();
            if fields.is_some_and(|f| !f.contains(&m.destination)) {
                errors.push(json!({
                    "destination": m.destination,
                    "source": m.source,
                    "sourceType": m.source_type,
                    "exception": format!(
                        "Destination {} does not exist in schema {}",
                        m.destination, version.schema_id
                    ),
                }));
            }
            if m.source_type == "ATTRIBUTE" {
                if let Some(columns) = &version.source_columns {
                    if !columns.contains(&m.source) {
                        errors.push(json!({
                            "destination": m.destination,
                            "source": m.source,
                            "columnName": m.source,
                            "sourceType": m.source_type,
                            "exception": format!(
                                "Source attribute {} does not exist in the input schema",
                                m.source
                            ),
                        }));
                    }
                }
            }
            if errors.is_empty() {
                json!({"status": "SUCCESS", "errors": null})
            } else {
                json!({"status": "FAILURE", "errors": errors})
            }
        })
        .collect();
    Reply::json(200, json!({"validationResponse": results}).to_string())
}
