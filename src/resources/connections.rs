//! Base connections (`/connections`): a database's address and login, as
//! Flow Service keeps them. The PostgreSQL parameters and request bodies
//! are in `postgres`; this module sends them and reads the answers.
//!
//! Calls: [`Client::create_postgres_connection`] and the idempotent
//! [`Client::ensure_postgres_connection`] (found by name first,
//! [`Client::find_postgres_connection`]); the listings
//! [`Client::connections`] (lazy) and [`Client::list_connections`], with a
//! [`ConnectionFilter`]; [`Client::get_connection`],
//! [`Client::test_connection`], [`Client::delete_connection`]; password
//! rotation with `If-Match`, [`Client::update_postgres_credentials`].
//!
//! [`Client::create_postgres_connection`]: crate::Client::create_postgres_connection
//! [`Client::ensure_postgres_connection`]: crate::Client::ensure_postgres_connection
//! [`Client::find_postgres_connection`]: crate::Client::find_postgres_connection
//! [`Client::connections`]: crate::Client::connections
//! [`Client::list_connections`]: crate::Client::list_connections
//! [`ConnectionFilter`]: crate::ConnectionFilter
//! [`Client::get_connection`]: crate::Client::get_connection
//! [`Client::test_connection`]: crate::Client::test_connection
//! [`Client::delete_connection`]: crate::Client::delete_connection
//! [`Client::update_postgres_credentials`]: crate::Client::update_postgres_credentials

use serde::Deserialize;

use super::postgres::{
    AuthSpec, PostgresConnection, PostgresCredentials, POSTGRES_CONNECTION_SPEC_ID,
};
use super::{filter_default, nested, or_default, service_id, spec_id, unusable_answer, wire_item};
use crate::client::input::{check_id, check_name, require_text};
use crate::client::paging::{paging_options, Pages, Query};
use crate::client::request::Method;
use crate::client::resource::{Filter, Resource};
use crate::client::results::{parse_json, Ensured, Saved};
use crate::client::Client;
use crate::error::Error;
use crate::ids::ConnectionId;
use crate::wire::read;

/// Default number of connections asked for per page.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Default cap on the number of connections a listing returns.
pub const DEFAULT_MAX_ITEMS: usize = 10_000;

/// A base connection as Flow Service describes it, read directly from the
/// service's JSON (`Deserialize`).
///
/// Auth parameters are deliberately absent: they may hold credentials, and
/// this type is meant to be printed and logged. Only the auth spec's name is
/// kept; `auth.params` is skipped by serde without being copied out of the
/// (zeroizing) response buffer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Connection {
    /// Connection id.
    #[serde(deserialize_with = "service_id")]
    pub id: ConnectionId,
    /// Name.
    #[serde(default, deserialize_with = "or_default")]
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// State, e.g. `enabled`.
    pub state: Option<String>,
    /// Etag, byte for byte (with its quotes): send it as `If-Match`.
    #[serde(default, deserialize_with = "or_default")]
    pub etag: String,
    /// Connection spec id (`74a1c565-...` for PostgreSQL).
    #[serde(default, rename = "connectionSpec", deserialize_with = "spec_id")]
    pub connection_spec_id: Option<String>,
    /// Auth spec name, e.g. `Connection String Based Authentication`.
    #[serde(default, rename = "auth", deserialize_with = "auth_spec_name")]
    pub auth_spec_name: Option<String>,
    /// Creation time, epoch milliseconds.
    #[serde(default, deserialize_with = "read::de::millis")]
    pub created_at: Option<i64>,
    /// Last update time, epoch milliseconds.
    #[serde(default, deserialize_with = "read::de::millis")]
    pub updated_at: Option<i64>,
}

nested!(fn auth_spec_name, "specName", String);

wire_item!(Connection);

impl Resource for Connection {
    const NAME: &'static str = "connection";
    const COLLECTION: &'static str = "connections";
    const ID_FIELD: &'static str = "connection_id";
    const PAGE: &'static str = "a page of connections {\"items\": [...]}";
    type Wire = Connection;
    type Filter = ConnectionFilter;
}

impl Filter<Connection> for ConnectionFilter {
    fn query(&self) -> Result<Query, Error> {
        let mut query = Query::new("connections", self.page_size)?;
        if let Some(name) = &self.name {
            check_name("name", name)?;
            query = query.property("name", name);
        }
        if let Some(spec) = &self.connection_spec_id {
            require_text("connection_spec_id", spec)?;
            query = query.property("connectionSpec.id", spec);
        }
        Ok(query)
    }
    fn matches(&self, c: &Connection) -> bool {
        self.name.as_ref().is_none_or(|n| &c.name == n)
            && self
                .connection_spec_id
                .as_ref()
                .is_none_or(|s| c.connection_spec_id.as_ref() == Some(s))
    }
}

/// Which connections to list.
#[derive(Debug, Clone)]
#[must_use = "a filter does nothing until a listing takes it"]
pub struct ConnectionFilter {
    name: Option<String>,
    connection_spec_id: Option<String>,
    page_size: u32,
    max_items: usize,
}

filter_default!(ConnectionFilter {
    name,
    connection_spec_id
});

paging_options!(
    ConnectionFilter,
    "Stop after this many connections. Defaults to 10 000."
);

impl ConnectionFilter {
    /// Every connection (up to the cap).
    pub fn new() -> Self {
        ConnectionFilter::default()
    }

    /// Only connections with exactly this name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Only connections of this connection spec (e.g.
    /// [`POSTGRES_CONNECTION_SPEC_ID`]).
    pub fn with_connection_spec_id(mut self, id: impl Into<String>) -> Self {
        self.connection_spec_id = Some(id.into());
        self
    }

    /// Only PostgreSQL connections.
    pub fn postgres(self) -> Self {
        self.with_connection_spec_id(POSTGRES_CONNECTION_SPEC_ID)
    }
}

/// Pages through a listing of connections, one at a time. Made by
/// [`Client::connections`].
pub type Connections = Pages<Connection>;

/// Parses one page of a listing (for the fuzz targets).
#[cfg(feature = "fuzzing")]
pub(crate) fn parse_page(resp: &crate::wire::response::RawResponse) -> Result<usize, Error> {
    #[derive(Deserialize)]
    struct Page {
        #[serde(default)]
        items: Vec<Connection>,
    }
    let page: Page = parse_json(resp, "a page of connections {\"items\": [...]}")?;
    Ok(page.items.len())
}

impl Client {
    /// Creates a PostgreSQL base connection: `POST /connections`.
    ///
    /// Validates everything first (an invalid field is an
    /// [`Error::InvalidInput`] and nothing is sent). Returns the new id and
    /// etag on 201 (or 200). Never retried once it may have reached the
    /// service; [`ensure_postgres_connection`](Self::ensure_postgres_connection)
    /// is the call to repeat safely.
    pub fn create_postgres_connection(
        &self,
        connection: &PostgresConnection,
    ) -> Result<Saved<ConnectionId>, Error> {
        let body = connection.request_body()?;
        self.request(Method::Post, "/connections")
            .secret_body(&body, connection.scrubber())
            .created()
    }

    /// Pages through the connections that match `filter`, lazily. Each item
    /// is a `Result`: a failed page ends the iteration with its error.
    /// Values the `property=` filter syntax cannot carry exactly (a comma,
    /// `==`) are matched locally only.
    pub fn connections(&self, filter: ConnectionFilter) -> Connections {
        self.pages::<Connection>(filter)
    }

    /// Lists the connections that match `filter`, following every page,
    /// up to the filter's cap (10 000 by default).
    pub fn list_connections(&self, filter: ConnectionFilter) -> Result<Vec<Connection>, Error> {
        self.list::<Connection>(filter)
    }

    /// Reads one connection: `GET /connections/{id}`.
    pub fn get_connection(&self, id: &ConnectionId) -> Result<Connection, Error> {
        self.get_resource::<Connection>(id.as_str())
    }

    /// Asks Flow Service to test the connection's connectivity:
    /// `GET /connections/{id}/test`, `{"result": true|false}`.
    pub fn test_connection(&self, id: &ConnectionId) -> Result<bool, Error> {
        let id = id.as_str();
        check_id("connection_id", id)?;
        let resp = self
            .request(Method::Get, format!("/connections/{id}/test"))
            .resource(Connection::NAME, id)
            .send()?;
        #[derive(Deserialize)]
        struct TestResult {
            result: bool,
        }
        Ok(parse_json::<TestResult>(&resp, "{\"result\": true|false}")?.result)
    }

    /// Deletes a connection: `DELETE /connections/{id}`, 204 on success.
    /// [`Error::NotFound`] when there is no such connection,
    /// [`Error::InUse`] while dataflows or source connections still use
    /// it. A 404 on a retry (after a 502/503/504 or a lost answer) counts
    /// as deleted.
    pub fn delete_connection(&self, id: &ConnectionId) -> Result<(), Error> {
        self.delete_resource::<Connection>(id.as_str())
    }

    /// Finds the PostgreSQL connection named `name` (searching every page).
    pub fn find_postgres_connection(&self, name: &str) -> Result<Option<Connection>, Error> {
        // The filter checks the name and spec locally too.
        let filter = ConnectionFilter::new().with_name(name).postgres();
        self.find::<Connection>(filter)
    }

    /// Returns the PostgreSQL connection named like `connection` if one
    /// exists, else creates it; [`Ensured::created`] says which.
    ///
    /// Safe to run twice, and safe after a lost answer: when the create
    /// fails in a way that may have created the connection (5xx, timeout,
    /// broken connection after sending, a 2xx that could not be read), it
    /// looks again by name before giving up, so the caller gets the
    /// connection that was made instead of a duplicate on the next run.
    /// Ensures of the same name through one client (and its clones) run
    /// one at a time. Two processes can still race: run one deploy at a
    /// time (e.g. under `flock`), or list by name afterwards and delete the
    /// newer duplicate.
    pub fn ensure_postgres_connection(
        &self,
        connection: &PostgresConnection,
    ) -> Result<Ensured<ConnectionId>, Error> {
        connection.validate()?;
        let find = || {
            Ok(self
                .find_postgres_connection(connection.name())?
                .map(|c| Saved {
                    id: c.id,
                    etag: c.etag,
                }))
        };
        self.ensure_with(
            format!("connection\u{0}{}", connection.name()),
            find,
            || self.create_postgres_connection(connection),
        )
    }

    /// Replaces a PostgreSQL connection's credentials (password rotation).
    ///
    /// Every parameter is replaced: host, port, database, user, password
    /// and SSL mode (the service never returns stored credentials, so
    /// nothing can be kept). The SSL mode must therefore be set
    /// ([`PostgresCredentials::with_ssl_mode`]): a rotation without it
    /// would silently drop the TLS options.
    ///
    /// Reads the connection to learn its auth spec and etag, then sends
    /// `PATCH /connections/{id}` with `If-Match: <etag>` (exactly as
    /// returned) and `[{"op": "replace", "path": "/auth/params", "value":
    /// {...}}]`, written for the connection's own auth spec. On 412
    /// (someone else changed it) it reads again and retries once.
    pub fn update_postgres_credentials(
        &self,
        id: &ConnectionId,
        credentials: &PostgresCredentials,
    ) -> Result<Saved<ConnectionId>, Error> {
        check_id("connection_id", id.as_str())?;
        if credentials.ssl_mode().is_none() && credentials.basic_ssl_mode_value().is_none() {
            return Err(Error::invalid_input(
                "postgres.ssl_mode",
                "must be set for a rotation: every connection parameter is replaced, and an \
                 unset SSL mode would drop the connection's TLS options (use disable to send none)",
            ));
        }
        // What every auth spec needs, before the connection is read; the
        // connection-string rules (no control character in the password)
        // can only be checked once its spec is known.
        credentials.validate(AuthSpec::Basic)?;
        self.update_with_retry(
            || {
                let current = self.get_to_write::<Connection>(id.as_str())?;
                if current.connection_spec_id.as_deref() != Some(POSTGRES_CONNECTION_SPEC_ID) {
                    return Err(Error::Unsuitable {
                        field: "connection_id".into(),
                        rule: format!(
                            "must name a PostgreSQL connection; {id} is of connection spec {}",
                            current.connection_spec_id.as_deref().unwrap_or("unknown")
                        ),
                    });
                }
                let spec_name = current.auth_spec_name.as_deref().unwrap_or("");
                let spec: AuthSpec = spec_name.parse().map_err(|_| {
                    unusable_answer(format!(
                        "connection {id} uses auth spec {:?}, which this crate cannot write \
                         (nothing was written)",
                        crate::wire::text::one_line(spec_name, 80)
                    ))
                })?;
                Ok((current.etag, spec))
            },
            |(etag, spec)| {
                let body = credentials.patch_body(*spec)?;
                self.request(Method::Patch, Connection::path(id.as_str()))
                    .secret_body(&body, credentials.scrubber())
                    .if_match(etag)
                    .resource(Connection::NAME, id.as_str())
                    .saved()
            },
        )
    }
}
