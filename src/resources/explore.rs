//! Exploring a base connection's database (`GET /connections/{id}/explore`):
//! its tables ([`Client::explore_tables`]), one table's columns
//! ([`Client::explore_columns`]) and sample rows
//! ([`Client::preview_table`]). Explore answers have their own, larger
//! size cap ([`ClientBuilder::with_max_explore_bytes`]).
//!
//! [`Client::explore_tables`]: crate::Client::explore_tables
//! [`Client::explore_columns`]: crate::Client::explore_columns
//! [`Client::preview_table`]: crate::Client::preview_table
//! [`ClientBuilder::with_max_explore_bytes`]: crate::ClientBuilder::with_max_explore_bytes

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::input::{check_id, require_text};
use crate::client::request::Method;
use crate::client::results::parse_json;
use crate::client::Client;
use crate::error::{named_enum, Error};
use crate::ids::ConnectionId;
use crate::wire::encode::{encode_into_string, Style};

/// One entry of a database's root listing (a table, usually).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Table {
    /// The entry's kind as the service names it, e.g. `table`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Its name, e.g. `public.orders`.
    #[serde(default)]
    pub name: String,
    /// Its path, schema-qualified (`public.orders`): what
    /// [`Client::explore_columns`], [`Client::preview_table`] and source
    /// connections take.
    pub path: String,
    /// Whether sample rows can be asked for.
    #[serde(rename = "canPreview", default)]
    pub can_preview: bool,
    /// Whether its columns can be asked for.
    #[serde(rename = "canFetchSchema", default)]
    pub can_fetch_schema: bool,
}

impl Table {
    /// Whether this entry is a table (`type` is `table`, in any case).
    pub fn is_table(&self) -> bool {
        self.kind.eq_ignore_ascii_case("table")
    }
}

/// A column's type, as the service names it. Types this crate does not
/// know are kept as text in [`ColumnType::Other`]. Read (`FromStr`, which
/// never fails) ignoring case; written (`as_str`, `Display`) as the service
/// spells it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// `boolean`.
    Boolean,
    /// `integer`.
    Integer,
    /// `long`.
    Long,
    /// `double` (XDM `number`).
    Double,
    /// `string` (dates and times too: see [`Column::xdm_format`]).
    String,
    /// Any other type, as sent.
    Other(String),
}

named_enum! {
    /// The type's name on the wire.
    ColumnType, str::eq_ignore_ascii_case, Other;
    Boolean => "boolean";
    Integer => "integer";
    Long => "long";
    Double => "double";
    String => "string";
}

/// A column's XDM type (`{"type": "string", "format": "date-time"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct XdmType {
    /// The XDM type, e.g. `string`, `number`, `integer`, `boolean`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its format, e.g. `date-time`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// One column of a table, in the shape explore answers and source
/// connections' `params.columns` take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Type name as sent (see [`Column::column_type`]).
    #[serde(rename = "type", default)]
    pub type_name: String,
    /// `meta:xdmType`, e.g. `date-time`, if sent.
    #[serde(rename = "meta:xdmType", skip_serializing_if = "Option::is_none")]
    pub meta_xdm_type: Option<String>,
    /// The XDM type, if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xdm: Option<XdmType>,
}

impl Column {
    /// A column with a name and a type name, no XDM details.
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            type_name: type_name.into(),
            meta_xdm_type: None,
            xdm: None,
        }
    }

    /// The type, parsed; unknown ones kept as text.
    pub fn column_type(&self) -> ColumnType {
        ColumnType::parse(&self.type_name)
    }

    /// The XDM format (`date-time`, say), from `xdm.format` or else
    /// `meta:xdmType`.
    pub fn xdm_format(&self) -> Option<&str> {
        self.xdm
            .as_ref()
            .and_then(|x| x.format.as_deref())
            .or(self.meta_xdm_type.as_deref())
    }
}

/// A table's columns: `{"format", "schema": {"columns": [...]}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableSchema {
    /// The table's path, as asked for.
    pub path: String,
    /// The format the service reports, e.g. `flat`.
    pub format: Option<String>,
    /// The columns, in the service's order.
    pub columns: Vec<Column>,
}

/// A table's columns and sample rows.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TablePreview {
    /// The table's path, as asked for.
    pub path: String,
    /// The format the service reports, e.g. `flat`.
    pub format: Option<String>,
    /// The columns, in the service's order.
    pub columns: Vec<Column>,
    /// Sample rows, one JSON object (column → value) each.
    pub rows: Vec<Map<String, Value>>,
}

#[derive(Deserialize)]
struct WireTableAnswer {
    format: Option<String>,
    schema: Option<WireSchema>,
    data: Option<Vec<Map<String, Value>>>,
}

#[derive(Deserialize)]
struct WireSchema {
    #[serde(default)]
    columns: Vec<Column>,
}

const RESOURCE: &str = "connection";

/// `/connections/{id}/explore?objectType=...`. The tutorials send
/// `objectType` in lower case (`root`, `table`) while the OpenAPI enum is
/// upper case; the tutorials' wire examples win, as elsewhere.
fn explore_path(base_id: &str, table: Option<&str>, preview: bool) -> String {
    let mut path = format!("/connections/{base_id}/explore?objectType=");
    match table {
        None => path.push_str("root"),
        Some(table) => {
            path.push_str("table&object=");
            encode_into_string(&mut path, table, Style::Query);
        }
    }
    if preview {
        path.push_str("&preview=true");
    }
    path
}

impl Client {
    /// `GET .../explore` for the root listing (`table` is `None`) or a
    /// table, read with the explore cap and parsed as `T`. Only the root
    /// listing names the connection on a 404.
    fn explore<T: DeserializeOwned>(
        &self,
        base_connection_id: &ConnectionId,
        table: Option<&str>,
        preview: bool,
    ) -> Result<T, Error> {
        let base_connection_id = base_connection_id.as_str();
        check_id("base_connection_id", base_connection_id)?;
        let path = explore_path(base_connection_id, table, preview);
        let mut request = self.request(Method::Get, path).large();
        let expected = match table {
            Some(table_path) => {
                require_text("table_path", table_path)?;
                "a table description {\"format\", \"schema\": {\"columns\": [...]}}"
            }
            None => {
                request = request.resource(RESOURCE, base_connection_id);
                "a JSON array of tables [{\"type\", \"name\", \"path\", ...}]"
            }
        };
        parse_json(&request.send()?, expected)
    }

    /// Lists the tables of a base connection's database:
    /// `GET /connections/{id}/explore?objectType=root`, a JSON array of
    /// `{"type", "name", "path", "canPreview", "canFetchSchema"}`.
    ///
    /// Unknown fields are ignored. [`Error::NotFound`] when there is no
    /// such connection. The answer is read with the client's explore cap
    /// (`ClientBuilder::with_max_explore_bytes`, 64 MiB by default), well
    /// above the cap for other answers.
    pub fn explore_tables(&self, base_connection_id: &ConnectionId) -> Result<Vec<Table>, Error> {
        self.explore(base_connection_id, None, false)
    }

    /// Reads one table's columns: `GET
    /// /connections/{id}/explore?objectType=table&object={PATH}` (the path
    /// percent-encoded). An unknown table is the service's 404
    /// ([`Error::Api`], status 404, with its message).
    pub fn explore_columns(
        &self,
        base_connection_id: &ConnectionId,
        table_path: &str,
    ) -> Result<TableSchema, Error> {
        let answer: WireTableAnswer = self.explore(base_connection_id, Some(table_path), false)?;
        Ok(TableSchema {
            path: table_path.to_owned(),
            format: answer.format,
            columns: answer.schema.map(|s| s.columns).unwrap_or_default(),
        })
    }

    /// Reads one table's columns and sample rows: as
    /// [`explore_columns`](Self::explore_columns) plus `&preview=true`; the
    /// rows come from `"data"`. Adobe documents previews only for some
    /// sources: a refusal is a normal API error.
    pub fn preview_table(
        &self,
        base_connection_id: &ConnectionId,
        table_path: &str,
    ) -> Result<TablePreview, Error> {
        let answer: WireTableAnswer = self.explore(base_connection_id, Some(table_path), true)?;
        Ok(TablePreview {
            path: table_path.to_owned(),
            format: answer.format,
            columns: answer.schema.map(|s| s.columns).unwrap_or_default(),
            rows: answer.data.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::ids::id;
    use std::sync::Arc;

    use super::*;
    use crate::client::test_support::client_on;
    use crate::transport::memory::MemoryTransport;

    const BASE: &str = "https://flow.example/data/foundation/flowservice";

    #[test]
    fn tables_are_typed_and_unknown_fields_ignored() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            r#"[{"type":"table","name":"public.orders","path":"public.orders","canPreview":true,
                "canFetchSchema":true,"extra":{"x":1}},
               {"type":"view","name":"v","path":"public.v"}]"#,
        );
        let tables = client_on(&t).explore_tables(&id("base-1")).unwrap();
        assert_eq!(tables.len(), 2);
        assert_eq!(tables[0].path, "public.orders");
        assert!(tables[0].is_table() && tables[0].can_preview && tables[0].can_fetch_schema);
        assert!(!tables[1].is_table() && !tables[1].can_preview);
        assert_eq!(
            t.seen()[0].url,
            format!("{BASE}/connections/base-1/explore?objectType=root")
        );
    }

    #[test]
    fn columns_keep_unknown_types_as_text() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            r#"{"format":"flat","schema":{"columns":[
                {"name":"id","type":"integer","xdm":{"type":"integer"}},
                {"name":"updated_at","type":"string","meta:xdmType":"date-time",
                 "xdm":{"type":"string","format":"date-time"}},
                {"name":"geo","type":"geometry","new":true}]}}"#,
        );
        let schema = client_on(&t)
            .explore_columns(&id("base-1"), "public.orders")
            .unwrap();
        assert_eq!(schema.format.as_deref(), Some("flat"));
        let types: Vec<ColumnType> = schema.columns.iter().map(Column::column_type).collect();
        assert_eq!(
            types,
            [
                ColumnType::Integer,
                ColumnType::String,
                ColumnType::Other("geometry".into())
            ]
        );
        assert_eq!(schema.columns[1].xdm_format(), Some("date-time"));
        assert_eq!(schema.columns[2].column_type().to_string(), "geometry");
        assert_eq!(
            t.seen()[0].url,
            format!("{BASE}/connections/base-1/explore?objectType=table&object=public.orders")
        );
    }

    #[test]
    fn preview_adds_rows_and_the_flag() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            r#"{"format":"flat","schema":{"columns":[{"name":"id","type":"integer"}]},
                "data":[{"id":1},{"id":2}]}"#,
        );
        let p = client_on(&t)
            .preview_table(&id("b"), "public.orders")
            .unwrap();
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[1]["id"], 2);
        assert!(t.seen()[0].url.ends_with("&preview=true"));
    }

    #[test]
    fn awkward_paths_are_percent_encoded() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, r#"{"schema":{"columns":[]}}"#);
        client_on(&t)
            .explore_columns(&id("b"), "public.\"odd table\".ü.x&y#z%+")
            .unwrap();
        assert_eq!(
            t.seen()[0].url,
            format!(
                "{BASE}/connections/b/explore?objectType=table&object=\
                 public.%22odd%20table%22.%C3%BC.x%26y%23z%25%2B"
            )
        );
    }

    #[test]
    fn bad_input_sends_nothing() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        for e in [
            c.explore_tables(&id("a/b")).unwrap_err(),
            c.explore_columns(&id("b"), "").unwrap_err(),
            c.preview_table(&id("b"), "x\ny").unwrap_err(),
            c.explore_columns(&id(""), "t").unwrap_err(),
        ] {
            assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        }
        assert!(t.seen().is_empty());
    }

    #[test]
    fn a_missing_connection_is_not_found_and_garbage_is_unexpected() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(404, r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1404-404","status":404,"title":"Not Found"}"#)
            .reply(200, r#"{"not":"an array"}"#);
        let c = client_on(&t);
        assert!(matches!(
            c.explore_tables(&id("gone")).unwrap_err(),
            Error::NotFound {
                resource: "connection",
                ..
            }
        ));
        assert!(matches!(
            c.explore_tables(&id("b")).unwrap_err(),
            Error::UnexpectedResponse { .. }
        ));
    }

    #[test]
    fn a_cap_error_names_the_explore_setting() {
        let t = Arc::new(MemoryTransport::default());
        t.then(|_| {
            Err(Error::TooLarge {
                service: crate::error::Service::FlowService,
                status: 200,
                limit: 10,
                setting: crate::error::RESPONSE_CAP_SETTING,
                write: false,
                request_id: None,
            })
        });
        let e = client_on(&t).explore_tables(&id("b")).unwrap_err();
        assert!(e.is_too_large(), "{e:?}");
        assert!(e.to_string().contains("10-byte limit"), "{e}");
        assert!(e.to_string().contains("with_max_explore_bytes"), "{e}");
    }
}
