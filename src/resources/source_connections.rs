//! Source connections: one table of a base connection's database, as Flow
//! Service reads it (`/sourceConnections`).
//!
//! Calls: [`Client::create_source_connection`] and the idempotent
//! [`Client::ensure_source_connection`] (a [`NewSourceConnection`]),
//! [`Client::find_source_connection`] (by base connection and table),
//! [`Client::get_source_connection`], the listings
//! [`Client::source_connections`] (lazy) and
//! [`Client::list_source_connections`] with a [`SourceConnectionFilter`],
//! and [`Client::delete_source_connection`].
//!
//! [`Client::create_source_connection`]: crate::Client::create_source_connection
//! [`Client::ensure_source_connection`]: crate::Client::ensure_source_connection
//! [`NewSourceConnection`]: crate::NewSourceConnection
//! [`Client::find_source_connection`]: crate::Client::find_source_connection
//! [`Client::get_source_connection`]: crate::Client::get_source_connection
//! [`Client::source_connections`]: crate::Client::source_connections
//! [`Client::list_source_connections`]: crate::Client::list_source_connections
//! [`SourceConnectionFilter`]: crate::SourceConnectionFilter
//! [`Client::delete_source_connection`]: crate::Client::delete_source_connection

use serde::{Deserialize, Serialize};

use super::explore::Column;
use super::postgres::{POSTGRES_CONNECTION_SPEC_ID, POSTGRES_CONNECTION_SPEC_VERSION};
use super::{
    check_name_and_description, filter_default, may_match, maybe_service_id, name_and_description,
    nested, non_empty, or_default, service_id, spec_id, unusable_answer, wire_item,
};
use crate::client::input::{check_id, require_text};
use crate::client::paging::{paging_options, Pages, Query};
use crate::client::request::Method;
use crate::client::resource::{Filter, Resource};
use crate::client::results::{Ensured, Saved};
use crate::client::Client;
use crate::error::Error;
use crate::ids::{ConnectionId, SourceConnectionId};
use crate::wire::body::SpecRef;
use crate::wire::read;

impl Resource for SourceConnection {
    const NAME: &'static str = "source connection";
    const COLLECTION: &'static str = "sourceConnections";
    const ID_FIELD: &'static str = "source_connection_id";
    const PAGE: &'static str = "a page of source connections {\"items\": [...]}";
    type Wire = SourceConnection;
    type Filter = SourceConnectionFilter;
}

impl Filter<SourceConnection> for SourceConnectionFilter {
    fn query(&self) -> Result<Query, Error> {
        let mut query = Query::new("sourceConnections", self.page_size)?;
        if let Some(base) = &self.base_connection_id {
            check_id("base_connection_id", base.as_str())?;
            query = query.property("baseConnectionId", base.as_str());
        }
        if let Some(table) = &self.table_name {
            require_text("table_name", table)?;
            query = query.property("params.tableName", table);
        }
        Ok(query)
    }
    /// The local match. An item that lacks a filtered field is kept (with
    /// the field `None`): the service may have matched it on that field
    /// and only left it out of the listing, so it is not "another
    /// table"; [`check_listed`](Self::check_listed) turns it into an error.
    fn matches(&self, s: &SourceConnection) -> bool {
        may_match(&self.base_connection_id, &s.base_connection_id)
            && may_match(&self.table_name, &s.table_name)
    }
    /// An item of this filter's listing that cannot be checked against it
    /// (it lacks `baseConnectionId` or `params.tableName`) is an error
    /// naming the field: treating it as absent would create a duplicate on
    /// every run.
    fn check_listed(&self, s: &SourceConnection) -> Result<(), Error> {
        let lacks = if self.base_connection_id.is_some() && s.base_connection_id.is_none() {
            "baseConnectionId"
        } else if self.table_name.is_some() && s.table_name.is_none() {
            "params.tableName"
        } else {
            return Ok(());
        };
        Err(unusable_answer(format!(
            "source connection {} in the listing lacks {lacks}, so whether it is the one sought \
             cannot be checked; refusing to treat it as absent (a create would duplicate it)",
            s.id
        )))
    }
}

/// A source connection as Flow Service describes it, read directly from
/// the service's JSON (`Deserialize`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SourceConnection {
    /// Its id.
    #[serde(deserialize_with = "service_id")]
    pub id: SourceConnectionId,
    /// Name.
    #[serde(default, deserialize_with = "or_default")]
    pub name: String,
    /// Description, if any.
    #[serde(default, deserialize_with = "non_empty")]
    pub description: Option<String>,
    /// The base connection it reads through.
    #[serde(default, deserialize_with = "maybe_service_id")]
    pub base_connection_id: Option<ConnectionId>,
    /// The table it reads (`params.tableName`), schema-qualified.
    #[serde(default, rename = "params", deserialize_with = "table_name")]
    pub table_name: Option<String>,
    /// The data format (`data.format`), e.g. `tabular`.
    #[serde(default, rename = "data", deserialize_with = "data_format")]
    pub format: Option<String>,
    /// Connection spec id (`74a1c565-...` for PostgreSQL).
    #[serde(default, rename = "connectionSpec", deserialize_with = "spec_id")]
    pub connection_spec_id: Option<String>,
    /// State, e.g. `enabled`.
    pub state: Option<String>,
    /// Etag, byte for byte (with its quotes).
    #[serde(default, deserialize_with = "or_default")]
    pub etag: String,
    /// Creation time, epoch milliseconds.
    #[serde(default, deserialize_with = "read::de::millis")]
    pub created_at: Option<i64>,
    /// Last update time, epoch milliseconds.
    #[serde(default, deserialize_with = "read::de::millis")]
    pub updated_at: Option<i64>,
}

nested!(fn table_name, "tableName", String);
nested!(fn data_format, "format", String);

wire_item!(SourceConnection);

/// A source connection to create: one table of a PostgreSQL base
/// connection, read as `tabular` data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a builder does nothing until it is used"]
pub struct NewSourceConnection {
    name: String,
    description: Option<String>,
    base_connection_id: ConnectionId,
    table_path: String,
    columns: Option<Vec<Column>>,
}

name_and_description!(NewSourceConnection);

impl NewSourceConnection {
    /// A source connection named `name` reading `table_path` (as
    /// [`Client::explore_tables`] lists it, e.g. `public.orders`) through
    /// the base connection `base_connection_id`.
    pub fn new(
        name: impl Into<String>,
        base_connection_id: ConnectionId,
        table_path: impl Into<String>,
    ) -> Self {
        NewSourceConnection {
            name: name.into(),
            description: None,
            base_connection_id,
            table_path: table_path.into(),
            columns: None,
        }
    }

    /// Sends these columns as `params.columns` (e.g. from
    /// [`Client::explore_columns`]); optional.
    pub fn with_columns(mut self, columns: Vec<Column>) -> Self {
        self.columns = Some(columns);
        self
    }

    /// Checks every field; nothing is sent when one is wrong.
    pub fn validate(&self) -> Result<(), Error> {
        check_name_and_description(&self.name, self.description.as_deref())?;
        check_id("base_connection_id", self.base_connection_id.as_str())?;
        require_text("table_path", &self.table_path)?;
        for c in self.columns.iter().flatten() {
            require_text("columns.name", &c.name)?;
        }
        Ok(())
    }

    /// The `POST /sourceConnections` body.
    fn request_body(&self) -> Result<Vec<u8>, Error> {
        self.validate()?;
        let body = CreateBody {
            name: &self.name,
            description: self.description.as_deref().unwrap_or(""),
            base_connection_id: self.base_connection_id.as_str(),
            data: DataFormat { format: "tabular" },
            params: CreateParams {
                table_name: &self.table_path,
                columns: self.columns.as_deref(),
            },
            connection_spec: SpecRef::new(
                POSTGRES_CONNECTION_SPEC_ID,
                POSTGRES_CONNECTION_SPEC_VERSION,
            ),
        };
        serde_json::to_vec(&body)
            .map_err(|e| Error::invalid_input("source_connection", e.to_string()))
    }
}

/// The `POST /sourceConnections` body: the tutorial's, with `params.columns`
/// when the caller gives them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    name: &'a str,
    description: &'a str,
    base_connection_id: &'a str,
    data: DataFormat,
    params: CreateParams<'a>,
    connection_spec: SpecRef<'a>,
}

#[derive(Serialize)]
struct DataFormat {
    format: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateParams<'a> {
    table_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    columns: Option<&'a [Column]>,
}

/// Which source connections to list.
#[derive(Debug, Clone)]
#[must_use = "a filter does nothing until a listing takes it"]
pub struct SourceConnectionFilter {
    base_connection_id: Option<ConnectionId>,
    table_name: Option<String>,
    page_size: u32,
    max_items: usize,
}

filter_default!(SourceConnectionFilter {
    base_connection_id,
    table_name
});

paging_options!(
    SourceConnectionFilter,
    "Stop after this many. Defaults to 10 000."
);

impl SourceConnectionFilter {
    /// Every source connection (up to the cap).
    pub fn new() -> Self {
        SourceConnectionFilter::default()
    }

    /// Only those reading through this base connection
    /// (`property=baseConnectionId==X`, also checked locally).
    pub fn with_base_connection_id(mut self, id: ConnectionId) -> Self {
        self.base_connection_id = Some(id);
        self
    }

    /// Only those reading this table (`property=params.tableName==X`,
    /// also checked locally).
    pub fn with_table_name(mut self, table: impl Into<String>) -> Self {
        self.table_name = Some(table.into());
        self
    }
}

/// Pages through a listing of source connections. Made by
/// [`Client::source_connections`].
pub type SourceConnections = Pages<SourceConnection>;

impl Client {
    /// Creates a source connection: `POST /sourceConnections` with
    /// `{"name", "description", "baseConnectionId", "data": {"format":
    /// "tabular"}, "params": {"tableName", "columns"?}, "connectionSpec"}`.
    /// Never retried once it may have reached the service;
    /// [`ensure_source_connection`](Self::ensure_source_connection) is the
    /// call to repeat safely.
    pub fn create_source_connection(
        &self,
        source: &NewSourceConnection,
    ) -> Result<Saved<SourceConnectionId>, Error> {
        let body = source.request_body()?;
        self.request(Method::Post, "/sourceConnections")
            .body(&body)
            .created()
    }

    /// Reads one source connection: `GET /sourceConnections/{id}`.
    pub fn get_source_connection(
        &self,
        id: &SourceConnectionId,
    ) -> Result<SourceConnection, Error> {
        self.get_resource::<SourceConnection>(id.as_str())
    }

    /// Pages through the source connections that match `filter`, lazily.
    pub fn source_connections(&self, filter: SourceConnectionFilter) -> SourceConnections {
        self.pages::<SourceConnection>(filter)
    }

    /// Lists the source connections that match `filter`, every page, up to
    /// the filter's cap.
    pub fn list_source_connections(
        &self,
        filter: SourceConnectionFilter,
    ) -> Result<Vec<SourceConnection>, Error> {
        self.list::<SourceConnection>(filter)
    }

    /// Deletes a source connection: `DELETE /sourceConnections/{id}`.
    pub fn delete_source_connection(&self, id: &SourceConnectionId) -> Result<(), Error> {
        self.delete_resource::<SourceConnection>(id.as_str())
    }

    /// Finds the source connection reading `table_path` through
    /// `base_connection_id`, if any.
    pub fn find_source_connection(
        &self,
        base_connection_id: &ConnectionId,
        table_path: &str,
    ) -> Result<Option<SourceConnection>, Error> {
        let filter = SourceConnectionFilter::new()
            .with_base_connection_id(base_connection_id.clone())
            .with_table_name(table_path);
        self.find::<SourceConnection>(filter)
    }

    /// Returns the source connection for the same (base connection, table)
    /// if one exists, else creates it; [`Ensured::created`] says which.
    ///
    /// Ensures of the same key through one client (and its clones) run one
    /// at a time, and a create that failed in a way that may have created
    /// it (5xx, timeout, lost answer) is followed by a second look, so a
    /// lost answer never leads to a duplicate.
    pub fn ensure_source_connection(
        &self,
        source: &NewSourceConnection,
    ) -> Result<Ensured<SourceConnectionId>, Error> {
        source.validate()?;
        let (base, table) = (&source.base_connection_id, &source.table_path);
        let find = || {
            Ok(self.find_source_connection(base, table)?.map(|s| Saved {
                id: s.id,
                etag: s.etag,
            }))
        };
        self.ensure_with(
            format!("sourceConnection\u{0}{base}\u{0}{table}"),
            find,
            || self.create_source_connection(source),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::ids::id;
    use std::sync::Arc;

    use serde_json::{json, Value};

    use super::*;
    use crate::client::test_support::client_on;
    use crate::transport::memory::MemoryTransport;
    use crate::{Delivery, TransportErrorKind};

    /// The body, against the JSON the code built before it was typed
    /// (compared as values: key order is not meaning).
    #[test]
    fn body_is_the_json_sent_before() {
        let spec = json!({"id": POSTGRES_CONNECTION_SPEC_ID, "version": "1.0"});
        let body = |s: &NewSourceConnection| -> Value {
            serde_json::from_slice(&s.request_body().unwrap()).unwrap()
        };
        let plain = NewSourceConnection::new("orders", id("base-1"), "public.orders");
        assert_eq!(
            body(&plain),
            json!({"name": "orders", "description": "", "baseConnectionId": "base-1",
                   "data": {"format": "tabular"}, "params": {"tableName": "public.orders"},
                   "connectionSpec": spec})
        );
        let mut at = Column::new("updated_at", "string");
        at.meta_xdm_type = Some("date-time".into());
        let columns = vec![Column::new("id", "integer"), at];
        let full = plain
            .with_description("nightly \u{e9}")
            .with_columns(columns.clone());
        assert_eq!(
            body(&full),
            json!({"name": "orders", "description": "nightly \u{e9}",
                   "baseConnectionId": "base-1", "data": {"format": "tabular"},
                   "params": {"tableName": "public.orders",
                              "columns": serde_json::to_value(&columns).unwrap()},
                   "connectionSpec": spec})
        );
        assert_eq!(
            body(&full)["params"]["columns"][1],
            json!({"name": "updated_at", "type": "string", "meta:xdmType": "date-time"})
        );
    }

    fn item(id: &str, base: &str, table: &str) -> Value {
        json!({"id": id, "name": format!("n-{id}"), "etag": "\"e1\"", "baseConnectionId": base,
               "data": {"format": "tabular"}, "params": {"tableName": table},
               "connectionSpec": {"id": POSTGRES_CONNECTION_SPEC_ID, "version": "1.0"},
               "state": "enabled", "createdAt": 1, "updatedAt": 2, "extra": [1]})
    }

    fn page(items: &[Value]) -> String {
        json!({ "items": items }).to_string()
    }

    #[test]
    fn create_sends_the_tutorial_body() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(201, r#"{"id":"sc-1","etag":"\"e\""}"#);
        let new = NewSourceConnection::new("orders", id("base-1"), "public.orders")
            .with_description("d")
            .with_columns(vec![Column::new("id", "integer")]);
        let saved = client_on(&t).create_source_connection(&new).unwrap();
        assert_eq!(saved.id, "sc-1");
        let seen = &t.seen()[0];
        assert_eq!(seen.method, "POST");
        assert!(seen.url.ends_with("/sourceConnections"));
        assert_eq!(
            seen.json(),
            json!({"name": "orders", "description": "d", "baseConnectionId": "base-1",
                   "data": {"format": "tabular"},
                   "params": {"tableName": "public.orders",
                              "columns": [{"name": "id", "type": "integer"}]},
                   "connectionSpec": {"id": POSTGRES_CONNECTION_SPEC_ID, "version": "1.0"}})
        );
    }

    #[test]
    fn get_reads_the_fields() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &page(&[item("sc-1", "b", "public.orders")]));
        let s = client_on(&t).get_source_connection(&id("sc-1")).unwrap();
        assert_eq!(s.table_name.as_deref(), Some("public.orders"));
        assert_eq!(s.base_connection_id.as_ref().map(|i| i.as_str()), Some("b"));
        assert_eq!(s.format.as_deref(), Some("tabular"));
        assert_eq!(s.etag, "\"e1\"");
        assert_eq!((s.created_at, s.updated_at), (Some(1), Some(2)));
    }

    #[test]
    fn listing_filters_on_the_wire_and_locally() {
        let t = Arc::new(MemoryTransport::default());
        // A service that ignores the filters: the local check still applies.
        t.reply(
            200,
            &page(&[
                item("x", "other", "public.orders"),
                item("y", "b", "public.customers"),
                item("z", "b", "public.orders"),
            ]),
        );
        let found = client_on(&t)
            .list_source_connections(
                SourceConnectionFilter::new()
                    .with_base_connection_id(id("b"))
                    .with_table_name("public.orders"),
            )
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "z");
        assert!(t.seen()[0].url.ends_with(
            "/sourceConnections?limit=50&property=baseConnectionId%3D%3Db\
             &property=params.tableName%3D%3Dpublic.orders"
        ));
    }

    #[test]
    fn ensure_finds_before_creating_and_looks_again_after_a_lost_answer() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        let new = NewSourceConnection::new("orders", id("b"), "public.orders");
        t.reply(200, &page(&[item("sc-9", "b", "public.orders")]));
        let e = c.ensure_source_connection(&new).unwrap();
        assert_eq!((e.id().as_str(), e.created), ("sc-9", false));
        // Not there; the create's answer is lost; the second look finds it.
        t.reply(200, &page(&[]))
            .fail(TransportErrorKind::Io, Delivery::Unknown)
            .reply(200, &page(&[item("sc-10", "b", "public.orders")]));
        let e = c.ensure_source_connection(&new).unwrap();
        assert_eq!((e.id().as_str(), e.created), ("sc-10", true));
        assert_eq!(t.remaining(), 0);
        let posts = t.seen().iter().filter(|s| s.method == "POST").count();
        assert_eq!(posts, 1);
    }

    #[test]
    fn bad_input_sends_nothing() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        for new in [
            NewSourceConnection::new(" ", id("b"), "t"),
            NewSourceConnection::new("n", id("b/../x"), "t"),
            NewSourceConnection::new("n", id("b"), ""),
            NewSourceConnection::new("n", id("b"), "t\u{7}"),
        ] {
            let e = c.ensure_source_connection(&new).unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
            let e = c.create_source_connection(&new).unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        }
        assert!(c.get_source_connection(&id("")).is_err());
        assert!(c.delete_source_connection(&id("a b")).is_err());
        assert!(t.seen().is_empty());
    }
}
