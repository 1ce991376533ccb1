//! `GET /connections/{id}/explore`: a base connection's tables, one
//! table's columns and sample rows, answered from a catalog the test sets
//! up ([`FakeTable`]), or in demo mode a small default one.

use serde_json::{json, Value};

use crate::call::{flow_error, not_found, Call};
use crate::reply::Reply;
use crate::state::SandboxState;
use crate::wire::percent_decode;

/// A table in a fake base connection's catalog.
///
/// ```
/// use aep_flow_testing::FakeTable;
/// use serde_json::json;
///
/// let orders = FakeTable::new("public.orders")
///     .column("id", "integer")
///     .column_with_format("updated_at", "string", "date-time")
///     .row(json!({"id": 1, "updated_at": "2024-01-01T00:00:00Z"}));
/// assert_eq!(orders.columns.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FakeTable {
    /// Its path, schema-qualified (`public.orders`); also its name.
    pub path: String,
    /// Columns: name, type (`integer`, `long`, `double`, `boolean`,
    /// `string`, ...) and an XDM format (`date-time`, say) if any.
    pub columns: Vec<(String, String, Option<String>)>,
    /// Sample rows (JSON objects), what a preview answers.
    pub rows: Vec<Value>,
}

impl FakeTable {
    /// A table with no columns and no rows.
    pub fn new(path: impl Into<String>) -> Self {
        FakeTable {
            path: path.into(),
            columns: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// Adds a column.
    pub fn column(mut self, name: impl Into<String>, type_name: impl Into<String>) -> Self {
        self.columns.push((name.into(), type_name.into(), None));
        self
    }

    /// Adds a column with an XDM format (`date-time`, `date`).
    pub fn column_with_format(
        mut self,
        name: impl Into<String>,
        type_name: impl Into<String>,
        format: impl Into<String>,
    ) -> Self {
        self.columns
            .push((name.into(), type_name.into(), Some(format.into())));
        self
    }

    /// Adds a sample row.
    pub fn row(mut self, row: Value) -> Self {
        self.rows.push(row);
        self
    }

    /// The root listing's entry for this table.
    fn entry(&self) -> Value {
        json!({"type": "table", "name": self.path, "path": self.path,
               "canPreview": true, "canFetchSchema": true})
    }

    /// The columns as explore describes them.
    fn columns_json(&self) -> Vec<Value> {
        self.columns
            .iter()
            .map(|(name, ty, format)| {
                let xdm_type = match ty.as_str() {
                    "double" | "float" | "decimal" => "number",
                    "long" | "integer" | "short" => "integer",
                    other => other,
                };
                let mut column = json!({"name": name, "type": ty, "xdm": {"type": xdm_type}});
                if let Some(format) = format {
                    column["meta:xdmType"] = json!(format);
                    column["xdm"]["format"] = json!(format);
                }
                column
            })
            .collect()
    }
}

/// The catalog demo mode gives every PostgreSQL connection: `public.orders`
/// (`id` integer, `customer` string, `amount` double, `updated_at` string
/// date-time) and `public.customers`, with a few rows each.
pub fn demo_catalog() -> Vec<FakeTable> {
    vec![
        FakeTable::new("public.orders")
            .column("id", "integer")
            .column("customer", "string")
            .column("amount", "double")
            .column_with_format("updated_at", "string", "date-time")
            .row(json!({"id": 1, "customer": "ada", "amount": 42.5, "updated_at": "2024-05-01T09:30:00Z"}))
            .row(json!({"id": 2, "customer": "grace", "amount": 17.0, "updated_at": "2024-05-02T14:05:00Z"}))
            .row(json!({"id": 3, "customer": "ada", "amount": 99.99, "updated_at": "2024-05-03T08:00:00Z"})),
        FakeTable::new("public.customers")
            .column("id", "integer")
            .column("name", "string")
            .column("active", "boolean")
            .row(json!({"id": 1, "name": "ada", "active": true}))
            .row(json!({"id": 2, "name": "grace", "active": false})),
    ]
}

/// The catalog of base connection `id`: the one set for it, else in demo
/// mode the demo catalog, else none (an empty database).
pub(crate) fn catalog<'s>(state: &'s SandboxState, id: &str) -> Option<&'s [FakeTable]> {
    state
        .catalogs
        .get(id)
        .map(Vec::as_slice)
        .or(state.demo_catalog.as_deref())
}

/// Whether base connection `id` has a table with this path.
pub(crate) fn has_table(state: &SandboxState, id: &str, path: &str) -> bool {
    catalog(state, id).is_some_and(|tables| tables.iter().any(|t| t.path == path))
}

/// `GET /connections/{id}/explore?objectType=root|table&object=P&preview=true`.
pub(crate) fn handle(call: &Call<'_>, id: &str, state: &SandboxState) -> Reply {
    let request_id = call.request_id;
    if state.connections.store.get(id).is_none() {
        return not_found("Connection", id, request_id);
    }
    let mut object_type = None;
    let mut object = None;
    let mut preview = false;
    for pair in call.query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "objectType" => object_type = Some(percent_decode(v)),
            "object" => object = Some(percent_decode(v)),
            "preview" => preview = v == "true",
            _ => {}
        }
    }
    let tables = catalog(state, id).unwrap_or(&[]);
    // The tutorials send lower case, the OpenAPI enum upper case: take both.
    match object_type.map(|t| t.to_ascii_lowercase()).as_deref() {
        Some("root") => Reply::json(
            200,
            Value::Array(tables.iter().map(FakeTable::entry).collect()).to_string(),
        ),
        Some("table") => {
            let Some(path) = object.filter(|p| !p.is_empty()) else {
                return flow_error(400, "FLOW-1401-400", "object is required", request_id);
            };
            let Some(table) = tables.iter().find(|t| t.path == path) else {
                return flow_error(
                    404,
                    "FLOW-1404-404",
                    &format!("Table {path} not found"),
                    request_id,
                );
            };
            let mut body = json!({"format": "flat", "schema": {"columns": table.columns_json()}});
            if preview {
                body["data"] = Value::Array(table.rows.clone());
            }
            Reply::json(200, body.to_string())
        }
        _ => flow_error(
            400,
            "FLOW-1401-400",
            "objectType must be root or table",
            request_id,
        ),
    }
}
