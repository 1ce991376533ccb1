//! Target connections: where a dataflow writes, a dataset in Experience
//! Platform's data lake with the XDM schema it follows
//! (`/targetConnections`).
//!
//! Calls: [`Client::create_target_connection`] and the idempotent
//! [`Client::ensure_target_connection`] (a [`NewTargetConnection`]),
//! [`Client::find_target_connection`] (by dataset),
//! [`Client::get_target_connection`], the listings
//! [`Client::target_connections`] (lazy) and
//! [`Client::list_target_connections`] with a [`TargetConnectionFilter`],
//! and [`Client::delete_target_connection`].
//!
//! [`Client::create_target_connection`]: crate::Client::create_target_connection
//! [`Client::ensure_target_connection`]: crate::Client::ensure_target_connection
//! [`NewTargetConnection`]: crate::NewTargetConnection
//! [`Client::find_target_connection`]: crate::Client::find_target_connection
//! [`Client::get_target_connection`]: crate::Client::get_target_connection
//! [`Client::target_connections`]: crate::Client::target_connections
//! [`Client::list_target_connections`]: crate::Client::list_target_connections
//! [`TargetConnectionFilter`]: crate::TargetConnectionFilter
//! [`Client::delete_target_connection`]: crate::Client::delete_target_connection

use serde::{Deserialize, Serialize};

use super::datasets::check_schema_id;
use super::{
    check_name_and_description, filter_default, may_match, name_and_description, nested,
    or_default, unusable_answer, wire_item,
};
use crate::client::input::check_id;
use crate::client::paging::{paging_options, Pages, Query};
use crate::client::request::Method;
use crate::client::resource::{Filter, Resource};
use crate::client::results::{Ensured, Saved};
use crate::client::Client;
use crate::error::Error;
use crate::ids::{DatasetId, FromService, SchemaId, TargetConnectionId};
use crate::wire::body::SpecRef;
use crate::wire::read;

impl Resource for TargetConnection {
    const NAME: &'static str = "target connection";
    const COLLECTION: &'static str = "targetConnections";
    const ID_FIELD: &'static str = "target_connection_id";
    const PAGE: &'static str = "a page of target connections {\"items\": [...]}";
    type Wire = WireTargetConnection;
    type Filter = TargetConnectionFilter;
}

impl Filter<TargetConnection> for TargetConnectionFilter {
    fn query(&self) -> Result<Query, Error> {
        let mut query = Query::new("targetConnections", self.page_size)?;
        if let Some(dataset) = &self.dataset_id {
            check_id("dataset_id", dataset.as_str())?;
            query = query.property("params.dataSetId", dataset.as_str());
        }
        Ok(query)
    }
    /// The local match. An item without `params.dataSetId` is kept (the
    /// service may have matched it and only left the field out);
    /// [`check_listed`](Self::check_listed) turns it into an error.
    fn matches(&self, t: &TargetConnection) -> bool {
        may_match(&self.dataset_id, &t.dataset_id)
    }
    /// An item of this filter's listing that lacks `params.dataSetId` is an
    /// error naming the field, not an absence.
    fn check_listed(&self, t: &TargetConnection) -> Result<(), Error> {
        if self.dataset_id.is_some() && t.dataset_id.is_none() {
            return Err(unusable_answer(format!(
                "target connection {} in the listing lacks params.dataSetId, so whether it writes \
                 the dataset cannot be checked; refusing to treat it as absent (a create would \
                 duplicate it)",
                t.id
            )));
        }
        Ok(())
    }
}

/// The data lake's connection spec id: target connections that write to a
/// dataset use it.
pub const DATA_LAKE_CONNECTION_SPEC_ID: &str = "c604ff05-7f1a-43c0-8e18-33bf874cb11c";
/// The data lake connection spec's version.
pub const DATA_LAKE_CONNECTION_SPEC_VERSION: &str = "1.0";
/// The schema version sent with a target connection (`data.schema.version`)
/// and a mapping set (`outputSchema.schemaRef.contentType`): the schema's
/// latest minor version, fully expanded.
pub const XDM_FULL_CONTENT_TYPE: &str = "application/vnd.adobe.xed-full+json;version=1";

/// `data.format` of a new target connection.
///
/// Adobe's sources disagree: the database dataflow tutorial omits
/// `data.format`; the other source tutorials and Adobe's Python library
/// `aepp` send `parquet_xdm`; one OpenAPI description says `tabular`. We
/// follow the majority (`parquet_xdm`, what the data lake stores). This is
/// the one place to change once the service settles it.
pub const TARGET_DATA_FORMAT: &str = "parquet_xdm";

/// A target connection as Flow Service describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TargetConnection {
    /// Its id.
    pub id: TargetConnectionId,
    /// Name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// The dataset it writes to (`params.dataSetId`).
    pub dataset_id: Option<DatasetId>,
    /// The dataset's XDM schema (`data.schema.id`).
    pub schema_id: Option<SchemaId>,
    /// The data format (`data.format`), e.g. `parquet_xdm`.
    pub format: Option<String>,
    /// Connection spec id ([`DATA_LAKE_CONNECTION_SPEC_ID`] for the data lake).
    pub connection_spec_id: Option<String>,
    /// State, e.g. `enabled`.
    pub state: Option<String>,
    /// Etag, byte for byte (with its quotes).
    pub etag: String,
    /// Creation time, epoch milliseconds.
    pub created_at: Option<i64>,
    /// Last update time, epoch milliseconds.
    pub updated_at: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireTargetConnection {
    id: String,
    name: Option<String>,
    description: Option<String>,
    data: Option<WireData>,
    #[serde(default, rename = "params", deserialize_with = "dataset_in_params")]
    dataset_id: Option<String>,
    connection_spec: Option<SpecRef<'static>>,
    state: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    etag: String,
    #[serde(default, deserialize_with = "read::de::millis")]
    created_at: Option<i64>,
    #[serde(default, deserialize_with = "read::de::millis")]
    updated_at: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireData {
    format: Option<String>,
    schema: Option<SpecRef<'static>>,
}

nested!(fn dataset_in_params, "dataSetId", String);

wire_item!(WireTargetConnection);

impl From<WireTargetConnection> for TargetConnection {
    fn from(w: WireTargetConnection) -> Self {
        let data = w.data.unwrap_or_default();
        TargetConnection {
            id: TargetConnectionId::from_service(w.id),
            name: w.name.unwrap_or_default(),
            description: w.description.filter(|d| !d.is_empty()),
            dataset_id: w.dataset_id.map(DatasetId::from_service),
            schema_id: data
                .schema
                .and_then(SpecRef::into_id)
                .map(SchemaId::from_service),
            format: data.format,
            connection_spec_id: w.connection_spec.and_then(SpecRef::into_id),
            state: w.state,
            etag: w.etag,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A target connection to create: the data lake, writing to one dataset
/// that follows one XDM schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a builder does nothing until it is used"]
pub struct NewTargetConnection {
    name: String,
    description: Option<String>,
    dataset_id: DatasetId,
    schema_id: SchemaId,
}

name_and_description!(NewTargetConnection);

impl NewTargetConnection {
    /// A target connection named `name` writing to dataset `dataset_id`,
    /// whose XDM schema is `schema_id` (the schema's `$id` URL, as
    /// [`Client::get_dataset`] reads it in [`Dataset::schema_id`](crate::Dataset::schema_id)).
    pub fn new(name: impl Into<String>, dataset_id: DatasetId, schema_id: SchemaId) -> Self {
        NewTargetConnection {
            name: name.into(),
            description: None,
            dataset_id,
            schema_id,
        }
    }

    /// Checks every field; nothing is sent when one is wrong. The schema id
    /// must be visible text (no white space or control characters) of at
    /// most 1024 characters.
    pub fn validate(&self) -> Result<(), Error> {
        check_name_and_description(&self.name, self.description.as_deref())?;
        check_id("dataset_id", self.dataset_id.as_str())?;
        check_schema_id("schema_id", self.schema_id.as_str())
    }

    /// The `POST /targetConnections` body.
    fn request_body(&self) -> Result<Vec<u8>, Error> {
        self.validate()?;
        let body = CreateBody {
            name: &self.name,
            description: self.description.as_deref().unwrap_or(""),
            data: CreateData {
                format: TARGET_DATA_FORMAT,
                schema: SpecRef::new(self.schema_id.as_str(), XDM_FULL_CONTENT_TYPE),
            },
            params: CreateParams {
                dataset_id: self.dataset_id.as_str(),
            },
            connection_spec: SpecRef::new(
                DATA_LAKE_CONNECTION_SPEC_ID,
                DATA_LAKE_CONNECTION_SPEC_VERSION,
            ),
        };
        serde_json::to_vec(&body)
            .map_err(|e| Error::invalid_input("target_connection", e.to_string()))
    }
}

/// The `POST /targetConnections` body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    name: &'a str,
    description: &'a str,
    data: CreateData<'a>,
    params: CreateParams<'a>,
    connection_spec: SpecRef<'a>,
}

#[derive(Serialize)]
struct CreateData<'a> {
    format: &'static str,
    /// The schema's id, and as its `version` the content type
    /// ([`XDM_FULL_CONTENT_TYPE`]), as the tutorials send it.
    schema: SpecRef<'a>,
}

#[derive(Serialize)]
struct CreateParams<'a> {
    #[serde(rename = "dataSetId")]
    dataset_id: &'a str,
}

/// Which target connections to list.
#[derive(Debug, Clone)]
#[must_use = "a filter does nothing until a listing takes it"]
pub struct TargetConnectionFilter {
    dataset_id: Option<DatasetId>,
    page_size: u32,
    max_items: usize,
}

filter_default!(TargetConnectionFilter { dataset_id });

paging_options!(
    TargetConnectionFilter,
    "Stop after this many. Defaults to 10 000."
);

impl TargetConnectionFilter {
    /// Every target connection (up to the cap).
    pub fn new() -> Self {
        TargetConnectionFilter::default()
    }

    /// Only those writing to this dataset (`property=params.dataSetId==X`,
    /// also checked locally).
    pub fn with_dataset_id(mut self, id: DatasetId) -> Self {
        self.dataset_id = Some(id);
        self
    }
}

/// Pages through a listing of target connections. Made by
/// [`Client::target_connections`].
pub type TargetConnections = Pages<TargetConnection>;

impl Client {
    /// Creates a target connection: `POST /targetConnections` with
    /// `{"name", "description", "data": {"format": "parquet_xdm", "schema":
    /// {"id", "version": XDM_FULL_CONTENT_TYPE}}, "params": {"dataSetId"},
    /// "connectionSpec": {DATA_LAKE_CONNECTION_SPEC_ID, "1.0"}}`
    /// (`data.format` is [`TARGET_DATA_FORMAT`]). Never retried once it may
    /// have reached the service;
    /// [`ensure_target_connection`](Self::ensure_target_connection) is the
    /// call to repeat safely.
    pub fn create_target_connection(
        &self,
        target: &NewTargetConnection,
    ) -> Result<Saved<TargetConnectionId>, Error> {
        let body = target.request_body()?;
        self.request(Method::Post, "/targetConnections")
            .body(&body)
            .created()
    }

    /// Reads one target connection: `GET /targetConnections/{id}`.
    pub fn get_target_connection(
        &self,
        id: &TargetConnectionId,
    ) -> Result<TargetConnection, Error> {
        self.get_resource::<TargetConnection>(id.as_str())
    }

    /// Pages through the target connections that match `filter`, lazily.
    pub fn target_connections(&self, filter: TargetConnectionFilter) -> TargetConnections {
        self.pages::<TargetConnection>(filter)
    }

    /// Lists the target connections that match `filter`, every page, up to
    /// the filter's cap.
    pub fn list_target_connections(
        &self,
        filter: TargetConnectionFilter,
    ) -> Result<Vec<TargetConnection>, Error> {
        self.list::<TargetConnection>(filter)
    }

    /// Deletes a target connection: `DELETE /targetConnections/{id}`.
    /// [`Error::InUse`] while dataflows use it.
    pub fn delete_target_connection(&self, id: &TargetConnectionId) -> Result<(), Error> {
        self.delete_resource::<TargetConnection>(id.as_str())
    }

    /// Finds a target connection writing to `dataset_id`, if any: the first
    /// one listed (one request when it is on the first page).
    pub fn find_target_connection(
        &self,
        dataset_id: &DatasetId,
    ) -> Result<Option<TargetConnection>, Error> {
        let filter = TargetConnectionFilter::new().with_dataset_id(dataset_id.clone());
        self.find::<TargetConnection>(filter)
    }

    /// Returns the target connection for the same dataset if one exists,
    /// else creates it; [`Ensured::created`] says which. The dataset id is
    /// the identity: an existing one is returned whatever its name or
    /// schema.
    ///
    /// Ensures of the same dataset through one client (and its clones) run
    /// one at a time, and a create that failed in a way that may have
    /// created it (5xx, timeout, lost answer) is followed by a second look,
    /// so a lost answer never leads to a duplicate.
    pub fn ensure_target_connection(
        &self,
        target: &NewTargetConnection,
    ) -> Result<Ensured<TargetConnectionId>, Error> {
        target.validate()?;
        let dataset = &target.dataset_id;
        let find = || {
            Ok(self.find_target_connection(dataset)?.map(|t| Saved {
                id: t.id,
                etag: t.etag,
            }))
        };
        self.ensure_with(format!("targetConnection\u{0}{dataset}"), find, || {
            self.create_target_connection(target)
        })
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
        let body = |t: &NewTargetConnection| -> Value {
            serde_json::from_slice(&t.request_body().unwrap()).unwrap()
        };
        let want = |description: &str| {
            json!({"name": "orders dataset", "description": description,
                   "data": {"format": "parquet_xdm",
                            "schema": {"id": "https://ns.adobe.com/t/schemas/1",
                                       "version": "application/vnd.adobe.xed-full+json;version=1"}},
                   "params": {"dataSetId": "ds-1"},
                   "connectionSpec": {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c",
                                      "version": "1.0"}})
        };
        let plain = NewTargetConnection::new(
            "orders dataset",
            id("ds-1"),
            id("https://ns.adobe.com/t/schemas/1"),
        );
        assert_eq!(body(&plain), want(""));
        assert_eq!(body(&plain.with_description("d")), want("d"));
    }

    const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/0a1b2c";

    fn item(id: &str, dataset: &str) -> Value {
        json!({"id": id, "name": format!("n-{id}"), "etag": "\"e1\"",
               "data": {"format": "parquet_xdm",
                        "schema": {"id": SCHEMA, "version": XDM_FULL_CONTENT_TYPE}},
               "params": {"dataSetId": dataset},
               "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID, "version": "1.0"},
               "state": "enabled", "createdAt": 1, "updatedAt": 2, "extra": {"x": 1}})
    }

    fn page(items: &[Value]) -> String {
        json!({ "items": items }).to_string()
    }

    #[test]
    fn create_sends_the_notes_body() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(201, r#"{"id":"tc-1","etag":"\"e\""}"#);
        let new =
            NewTargetConnection::new("orders dataset", id("ds1"), id(SCHEMA)).with_description("d");
        let saved = client_on(&t).create_target_connection(&new).unwrap();
        assert_eq!((saved.id.as_str(), saved.etag.as_str()), ("tc-1", "\"e\""));
        let seen = &t.seen()[0];
        assert_eq!(seen.method, "POST");
        assert_eq!(
            seen.url,
            "https://flow.example/data/foundation/flowservice/targetConnections"
        );
        assert_eq!(
            seen.json(),
            json!({"name": "orders dataset", "description": "d",
                   "data": {"format": "parquet_xdm",
                            "schema": {"id": SCHEMA,
                                       "version": "application/vnd.adobe.xed-full+json;version=1"}},
                   "params": {"dataSetId": "ds1"},
                   "connectionSpec": {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c",
                                      "version": "1.0"}})
        );
        assert!(!seen.secret_body);
    }

    #[test]
    fn create_errors_are_the_services() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            400,
            r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1415-400","title":"Bad Request",
                "status":400,"report":{"detailed-message":"dataset not found"}}"#,
        );
        let c = client_on(&t);
        let new = NewTargetConnection::new("n", id("ds1"), id(SCHEMA));
        match c.create_target_connection(&new).unwrap_err() {
            Error::Api(api) => {
                assert_eq!(api.status, 400);
                assert_eq!(api.code.as_deref(), Some("FLOW-1415-400"));
                assert_eq!(api.message, "dataset not found");
            }
            other => panic!("{other}"),
        }
        // A 500 is not retried (the create may have landed) and says so.
        t.reply(500, "{}");
        let e = c.create_target_connection(&new).unwrap_err();
        assert_eq!(e.status(), Some(500));
        assert!(e.may_have_been_processed());
        assert_eq!(t.remaining(), 0);
        // A success without an id.
        t.reply(201, r#"{"etag":"\"e\""}"#);
        let e = c.create_target_connection(&new).unwrap_err();
        assert!(matches!(e, Error::UnexpectedResponse { .. }), "{e}");
    }

    #[test]
    fn get_reads_the_fields() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &page(&[item("tc-1", "ds1")]));
        let tc = client_on(&t).get_target_connection(&id("tc-1")).unwrap();
        assert_eq!(tc.name, "n-tc-1");
        assert_eq!(tc.dataset_id.as_ref().map(|i| i.as_str()), Some("ds1"));
        assert_eq!(tc.schema_id.as_ref().map(|i| i.as_str()), Some(SCHEMA));
        assert_eq!(tc.format.as_deref(), Some("parquet_xdm"));
        assert_eq!(
            tc.connection_spec_id.as_deref(),
            Some(DATA_LAKE_CONNECTION_SPEC_ID)
        );
        assert_eq!(tc.state.as_deref(), Some("enabled"));
        assert_eq!(tc.etag, "\"e1\"");
        assert_eq!((tc.created_at, tc.updated_at), (Some(1), Some(2)));
        assert!(t.seen()[0]
            .url
            .ends_with("/flowservice/targetConnections/tc-1"));
    }

    #[test]
    fn get_maps_404_and_garbled_answers() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        t.reply(404, r#"{"title":"Not Found","status":404}"#);
        assert!(matches!(
            c.get_target_connection(&id("tc-1")).unwrap_err(),
            Error::NotFound {
                resource: "target connection",
                ..
            }
        ));
        t.reply(200, r#"{"items": []}"#);
        assert!(matches!(
            c.get_target_connection(&id("tc-1")).unwrap_err(),
            Error::NotFound { .. }
        ));
        for body in [
            page(&[item("other", "ds1")]),
            r#"{"items": [{"id": 5}]}"#.to_owned(),
            r#"{"items": [{"id": "tc-1", "params": {"dataSetId": 9}}]}"#.to_owned(),
            "<html>".to_owned(),
        ] {
            t.reply(200, &body);
            let e = c.get_target_connection(&id("tc-1")).unwrap_err();
            assert!(matches!(e, Error::UnexpectedResponse { .. }), "{body}: {e}");
        }
        // Odd times are None, not a failure (a time without a zone cannot
        // be placed); times are read by the one rule, ISO 8601 included.
        for (time, want) in [
            (json!("2024-01-01T00:00:00"), None),
            (json!("yesterday"), None),
            (json!(-1), None),
            (json!({"t": 1}), None),
            (json!("2024-01-01T00:00:00Z"), Some(1_704_067_200_000)),
            (json!("1704067200000"), Some(1_704_067_200_000)),
        ] {
            let mut odd = item("tc-1", "ds1");
            odd["createdAt"] = time.clone();
            t.reply(200, &page(&[odd]));
            let got = c.get_target_connection(&id("tc-1")).unwrap();
            assert_eq!(got.created_at, want, "{time}");
        }
    }

    #[test]
    fn listing_filters_on_the_wire_and_locally() {
        let t = Arc::new(MemoryTransport::default());
        // A service that ignores the filter: the local check still applies.
        t.reply(200, &page(&[item("x", "other"), item("y", "ds1")]));
        let found = client_on(&t)
            .list_target_connections(
                TargetConnectionFilter::new()
                    .with_dataset_id(id("ds1"))
                    .with_page_size(20),
            )
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "y");
        assert!(t.seen()[0].url.ends_with(
            "/flowservice/targetConnections?limit=20&property=params.dataSetId%3D%3Dds1"
        ));
    }

    #[test]
    fn listing_follows_pages_up_to_the_cap() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            &json!({"items": [item("a", "d"), item("b", "d")],
                    "_links": {"next": {"href": "/targetConnections?limit=2&continuationToken=t1"}}})
            .to_string(),
        )
        .reply(200, &page(&[item("c", "d")]));
        let all = client_on(&t)
            .list_target_connections(TargetConnectionFilter::new().with_page_size(2))
            .unwrap();
        assert_eq!(all.len(), 3);
        assert!(t.seen()[1]
            .url
            .ends_with("/targetConnections?limit=2&continuationToken=t1"));
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &page(&[item("a", "d"), item("b", "d")]));
        let capped = client_on(&t)
            .list_target_connections(TargetConnectionFilter::new().with_max_items(1))
            .unwrap();
        assert_eq!(capped.len(), 1);
    }

    #[test]
    fn find_takes_one_request_when_the_first_page_has_it() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            200,
            &json!({"items": [item("y", "ds1")],
                    "_links": {"next": {"href": "/targetConnections?limit=50&continuationToken=t"}}})
            .to_string(),
        );
        let c = client_on(&t);
        let found = c.find_target_connection(&id("ds1")).unwrap().unwrap();
        assert_eq!(found.id, "y");
        assert_eq!(t.seen().len(), 1);
        t.reply(200, &page(&[]));
        assert!(c.find_target_connection(&id("ds2")).unwrap().is_none());
    }

    #[test]
    fn ensure_finds_before_creating_and_looks_again_after_a_lost_answer() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        let new = NewTargetConnection::new("orders", id("ds1"), id(SCHEMA));
        t.reply(200, &page(&[item("tc-9", "ds1")]));
        let e = c.ensure_target_connection(&new).unwrap();
        assert_eq!((e.id().as_str(), e.created), ("tc-9", false));
        assert_eq!(t.seen().len(), 1);
        // Not there; created.
        t.reply(200, &page(&[]))
            .reply(201, r#"{"id":"tc-10","etag":"\"e\""}"#);
        let e = c.ensure_target_connection(&new).unwrap();
        assert_eq!(
            (e.id().as_str(), e.etag(), e.created),
            ("tc-10", "\"e\"", true)
        );
        // Not there; the create's answer is lost; the second look finds it.
        t.reply(200, &page(&[]))
            .fail(TransportErrorKind::Io, Delivery::Unknown)
            .reply(200, &page(&[item("tc-11", "ds1")]));
        let e = c.ensure_target_connection(&new).unwrap();
        assert_eq!((e.id().as_str(), e.created), ("tc-11", true));
        assert_eq!(t.remaining(), 0);
        let posts = t.seen().iter().filter(|s| s.method == "POST").count();
        assert_eq!(posts, 2);
    }

    #[test]
    fn delete_maps_in_use_and_not_found() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        t.reply(204, "");
        c.delete_target_connection(&id("tc-1")).unwrap();
        assert_eq!(t.seen()[0].method, "DELETE");
        assert!(t.seen()[0].url.ends_with("/targetConnections/tc-1"));
        t.reply(
            400,
            r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1418-400","status":400,
                "title":"Bad Request","report":{"detailed-message":"used by a flow"}}"#,
        );
        assert!(matches!(
            c.delete_target_connection(&id("tc-1")).unwrap_err(),
            Error::InUse {
                resource: "target connection",
                ..
            }
        ));
        t.reply(404, "{}");
        assert!(matches!(
            c.delete_target_connection(&id("tc-1")).unwrap_err(),
            Error::NotFound { .. }
        ));
    }

    fn field_of(e: Error) -> String {
        match e {
            Error::InvalidInput { field, .. } => field,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn bad_input_sends_nothing() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        for (new, field) in [
            (NewTargetConnection::new(" ", id("ds"), id(SCHEMA)), "name"),
            (
                NewTargetConnection::new("n", id("d/../s"), id(SCHEMA)),
                "dataset_id",
            ),
            (
                NewTargetConnection::new("n", id(""), id(SCHEMA)),
                "dataset_id",
            ),
            (NewTargetConnection::new("n", id("ds"), id("")), "schema_id"),
            (
                NewTargetConnection::new("n", id("ds"), id("https://x/ y")),
                "schema_id",
            ),
            (
                NewTargetConnection::new("n", id("ds"), id("https://x/\u{7}")),
                "schema_id",
            ),
            (
                NewTargetConnection::new("n", id("ds"), id(&"h".repeat(1025))),
                "schema_id",
            ),
            (
                NewTargetConnection::new("n", id("ds"), id(SCHEMA)).with_description("\u{1b}[2J"),
                "description",
            ),
        ] {
            assert_eq!(field_of(new.validate().unwrap_err()), field);
            assert_eq!(
                field_of(c.create_target_connection(&new).unwrap_err()),
                field
            );
            assert_eq!(
                field_of(c.ensure_target_connection(&new).unwrap_err()),
                field
            );
        }
        assert!(
            NewTargetConnection::new("n", id("ds"), id(&"h".repeat(1024)))
                .validate()
                .is_ok()
        );
        assert_eq!(
            field_of(c.get_target_connection(&id("")).unwrap_err()),
            "target_connection_id"
        );
        assert!(c.delete_target_connection(&id("a b")).is_err());
        assert!(c.find_target_connection(&id("a/b")).is_err());
        assert!(c
            .list_target_connections(TargetConnectionFilter::new().with_page_size(0))
            .is_err());
        assert!(t.seen().is_empty());
    }

    #[test]
    fn getters_return_what_was_set() {
        let new = NewTargetConnection::new("n", id("ds"), id(SCHEMA)).with_description("d");
        assert_eq!(
            (
                new.name(),
                new.description(),
                new.dataset_id.as_str(),
                new.schema_id.as_str()
            ),
            ("n", Some("d"), "ds", SCHEMA)
        );
        let f = TargetConnectionFilter::new()
            .with_dataset_id(id("ds"))
            .with_page_size(5)
            .with_max_items(7);
        assert_eq!(
            (
                f.dataset_id.as_ref().map(|i| i.as_str()),
                f.page_size(),
                f.max_items()
            ),
            (Some("ds"), 5, 7)
        );
    }
}
