//! The connection lifecycle: list, get, test, delete, ensure, rotate.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{Call, Client};
use crate::error::{Delivery, Error, Scrubber};
use crate::postgres::{require_text, AuthSpec, PostgresConnection, POSTGRES_CONNECTION_SPEC_ID};
use crate::response::{self, CreatedConnection, RawResponse};

/// Default number of connections asked for per page.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Default cap on the number of connections a listing returns.
pub const DEFAULT_MAX_ITEMS: usize = 10_000;

/// A base connection as Flow Service describes it.
///
/// Auth parameters are deliberately absent: they may hold credentials, and
/// this type is meant to be printed and logged. Only the auth spec's name is
/// kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Connection {
    /// Connection id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// State, e.g. `enabled`.
    pub state: Option<String>,
    /// Etag, byte for byte (with its quotes): send it as `If-Match`.
    pub etag: String,
    /// Connection spec id (`74a1c565-...` for PostgreSQL).
    pub connection_spec_id: Option<String>,
    /// Auth spec name, e.g. `Connection String Based Authentication`.
    pub auth_spec_name: Option<String>,
    /// Creation time, epoch milliseconds.
    pub created_at: Option<i64>,
    /// Last update time, epoch milliseconds.
    pub updated_at: Option<i64>,
}

/// What the wire carries; `auth.params` is skipped by serde without being
/// copied out of the (zeroizing) response buffer.
#[derive(Deserialize)]
struct WireConnection {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default, rename = "connectionSpec")]
    connection_spec: Option<WireSpec>,
    #[serde(default)]
    auth: Option<WireAuth>,
    #[serde(default, rename = "createdAt")]
    created_at: Option<Value>,
    #[serde(default, rename = "updatedAt")]
    updated_at: Option<Value>,
}

#[derive(Deserialize)]
struct WireSpec {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct WireAuth {
    #[serde(default, rename = "specName")]
    spec_name: Option<String>,
}

impl From<WireConnection> for Connection {
    fn from(w: WireConnection) -> Self {
        let millis = |v: Option<Value>| v.and_then(|v| v.as_i64());
        Connection {
            id: w.id,
            name: w.name.unwrap_or_default(),
            description: w.description,
            state: w.state,
            etag: w.etag.unwrap_or_default(),
            connection_spec_id: w.connection_spec.and_then(|s| s.id),
            auth_spec_name: w.auth.and_then(|a| a.spec_name),
            created_at: millis(w.created_at),
            updated_at: millis(w.updated_at),
        }
    }
}

#[derive(Deserialize)]
struct WirePage {
    #[serde(default)]
    items: Vec<WireConnection>,
    #[serde(default, rename = "_links")]
    links: Option<WireLinks>,
}

#[derive(Deserialize)]
struct WireLinks {
    #[serde(default)]
    next: Option<WireHref>,
}

#[derive(Deserialize)]
struct WireHref {
    #[serde(default)]
    href: Option<String>,
}

/// Which connections to list.
#[derive(Debug, Clone)]
pub struct ListFilter {
    name: Option<String>,
    connection_spec_id: Option<String>,
    page_size: u32,
    max_items: usize,
}

impl Default for ListFilter {
    fn default() -> Self {
        ListFilter {
            name: None,
            connection_spec_id: None,
            page_size: DEFAULT_PAGE_SIZE,
            max_items: DEFAULT_MAX_ITEMS,
        }
    }
}

impl ListFilter {
    /// Every connection (up to the cap).
    pub fn new() -> Self {
        ListFilter::default()
    }

    /// Only connections with exactly this name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Only connections of this connection spec (e.g.
    /// [`POSTGRES_CONNECTION_SPEC_ID`]).
    pub fn connection_spec_id(mut self, id: impl Into<String>) -> Self {
        self.connection_spec_id = Some(id.into());
        self
    }

    /// Only PostgreSQL connections.
    pub fn postgres(self) -> Self {
        self.connection_spec_id(POSTGRES_CONNECTION_SPEC_ID)
    }

    /// Items per page (`limit`, 1–1000). Defaults to 50.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// Stop after this many connections. Defaults to 10 000.
    pub fn max_items(mut self, cap: usize) -> Self {
        self.max_items = cap;
        self
    }

    fn matches(&self, c: &Connection) -> bool {
        self.name.as_ref().is_none_or(|n| &c.name == n)
            && self
                .connection_spec_id
                .as_ref()
                .is_none_or(|s| c.connection_spec_id.as_ref() == Some(s))
    }

    fn first_path(&self) -> Result<String, Error> {
        if !(1..=1000).contains(&self.page_size) {
            return Err(Error::invalid_input(
                "page_size",
                "must be between 1 and 1000",
            ));
        }
        let mut path = format!("/connections?limit={}", self.page_size);
        if let Some(name) = &self.name {
            require_text("name", name)?;
            path.push_str("&property=name%3D%3D");
            percent_encode_into(&mut path, name);
        }
        if let Some(spec) = &self.connection_spec_id {
            require_text("connection_spec_id", spec)?;
            path.push_str("&property=connectionSpec.id%3D%3D");
            percent_encode_into(&mut path, spec);
        }
        Ok(path)
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode_into(out: &mut String, value: &str) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Connection ids go into the path: UUID-like text only.
fn check_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || id.len() > 128 {
        return Err(Error::invalid_input(
            "connection_id",
            "must be 1 to 128 characters",
        ));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::invalid_input(
            "connection_id",
            "may contain only letters, digits, `-` and `_`",
        ));
    }
    Ok(())
}

/// What [`Client::ensure_postgres_connection`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Ensured {
    /// The connection id.
    pub id: String,
    /// Its etag.
    pub etag: String,
    /// `true` when this call created it, `false` when it existed already.
    pub created: bool,
}

/// Pages through a listing, one connection at a time, following
/// `_links.next`. Made by [`Client::connections`].
pub struct Connections<'c> {
    client: &'c Client,
    filter: ListFilter,
    next_path: Option<String>,
    buffered: std::vec::IntoIter<Connection>,
    yielded: usize,
    pages: usize,
    failed: bool,
    /// An error to return before anything else (a bad filter).
    pending: Option<Error>,
}

impl fmt::Debug for Connections<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connections")
            .field("filter", &self.filter)
            .field("yielded", &self.yielded)
            .field("pages", &self.pages)
            .finish_non_exhaustive()
    }
}

impl Connections<'_> {
    fn fetch_page(&mut self, path: String) -> Result<(), Error> {
        self.pages += 1;
        // A service that keeps handing out pages (or loops) cannot keep
        // us here forever.
        let page_cap = self.filter.max_items / self.filter.page_size.max(1) as usize + 2;
        if self.pages > page_cap {
            return Err(Error::UnexpectedResponse {
                status: 200,
                detail: format!(
                    "more than {page_cap} pages for {} items; stopped",
                    self.filter.max_items
                ),
                request_id: None,
            });
        }
        let resp = self.client.get(&path, None)?;
        let page: WirePage = parse_json(&resp, "a page of connections {\"items\": [...]}")?;
        let items: Vec<Connection> = page
            .items
            .into_iter()
            .map(Connection::from)
            .filter(|c| self.filter.matches(c))
            .collect();
        self.buffered = items.into_iter();
        let next = page.links.and_then(|l| l.next).and_then(|n| n.href);
        self.next_path = match next {
            Some(href) if !href.is_empty() => {
                let p = self
                    .client
                    .next_page_path(&href, resp.request_id.as_deref())?;
                if p == path {
                    return Err(Error::UnexpectedResponse {
                        status: resp.status,
                        detail: "the next-page link points at the same page".into(),
                        request_id: resp.request_id.clone(),
                    });
                }
                Some(p)
            }
            _ => None,
        };
        Ok(())
    }
}

impl Iterator for Connections<'_> {
    type Item = Result<Connection, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.take() {
            self.failed = true;
            return Some(Err(e));
        }
        loop {
            if self.failed || self.yielded >= self.filter.max_items {
                return None;
            }
            if let Some(c) = self.buffered.next() {
                self.yielded += 1;
                return Some(Ok(c));
            }
            let path = self.next_path.take()?;
            if let Err(e) = self.fetch_page(path) {
                self.failed = true;
                return Some(Err(e));
            }
        }
    }
}

/// Parses one page of a listing into connections (for the fuzz targets).
pub(crate) fn parse_page(resp: &RawResponse) -> Result<usize, Error> {
    let page: WirePage = parse_json(resp, "a page of connections {\"items\": [...]}")?;
    Ok(page.items.len())
}

fn parse_json<T: serde::de::DeserializeOwned>(resp: &RawResponse, what: &str) -> Result<T, Error> {
    serde_json::from_slice(&resp.body).map_err(|e| Error::UnexpectedResponse {
        status: resp.status,
        detail: format!(
            "the body is not {what} ({})",
            response::describe_json_error(&e)
        ),
        request_id: resp.request_id.clone(),
    })
}

impl Client {
    /// A GET that may be retried (idempotent).
    fn get(&self, path: &str, id: Option<&str>) -> Result<RawResponse, Error> {
        let call = Call::idempotent("GET", path.to_owned());
        let mut scrubber = Scrubber::new();
        let resp = self.send(&call, &mut scrubber)?;
        match resp.status {
            200 => Ok(resp),
            _ => Err(self.error_for(&resp, &scrubber, id)),
        }
    }

    /// Like `error_from`, with 404 and "in use" named for connection `id`.
    fn error_for(&self, resp: &RawResponse, scrubber: &Scrubber<'_>, id: Option<&str>) -> Error {
        let err = self.error_from(resp, scrubber);
        let (Some(id), Error::Api(api)) = (id, &err) else {
            return err;
        };
        if api.status == 404 {
            return Error::NotFound {
                id: id.to_owned(),
                request_id: api.request_id.clone(),
            };
        }
        if api.status == 400 && api.code.as_deref().is_some_and(|c| c.ends_with("1418-400")) {
            return Error::InUse {
                id: id.to_owned(),
                message: api.message.clone(),
                request_id: api.request_id.clone(),
            };
        }
        err
    }

    /// Resolves a `_links.next.href` against the base URL. Only links to
    /// `/connections` on the configured base are followed: the token never
    /// goes elsewhere.
    fn next_page_path(&self, href: &str, request_id: Option<&str>) -> Result<String, Error> {
        let base = self.base_url();
        let base_path = base
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("");
        let relative = if let Some(rest) = href.strip_prefix(base) {
            rest
        } else if href.starts_with('/') && !base_path.is_empty() && href.starts_with(base_path) {
            &href[base_path.len()..]
        } else {
            href
        };
        if !relative.starts_with("/connections?")
            || relative.chars().any(|c| c.is_control() || c == ' ')
        {
            return Err(Error::UnexpectedResponse {
                status: 200,
                detail: format!("refusing to follow a next-page link outside {base}/connections"),
                request_id: request_id.map(str::to_owned),
            });
        }
        Ok(relative.to_owned())
    }

    /// Pages through the connections that match `filter`, lazily. Each item
    /// is a `Result`: a failed page ends the iteration with its error.
    pub fn connections(&self, filter: &ListFilter) -> Connections<'_> {
        let (next_path, pending) = match filter.first_path() {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        };
        Connections {
            client: self,
            filter: filter.clone(),
            next_path,
            buffered: Vec::new().into_iter(),
            yielded: 0,
            pages: 0,
            failed: false,
            pending,
        }
    }

    /// Lists the connections that match `filter`, following every page,
    /// up to the filter's cap (10 000 by default).
    pub fn list_connections(&self, filter: &ListFilter) -> Result<Vec<Connection>, Error> {
        self.connections(filter).collect()
    }

    /// Reads one connection: `GET /connections/{id}`.
    pub fn get_connection(&self, id: &str) -> Result<Connection, Error> {
        check_id(id)?;
        let resp = self.get(&format!("/connections/{id}"), Some(id))?;
        let page: WirePage = parse_json(&resp, "{\"items\": [connection]}")?;
        page.items
            .into_iter()
            .next()
            .map(Connection::from)
            .ok_or_else(|| Error::NotFound {
                id: id.to_owned(),
                request_id: resp.request_id.clone(),
            })
    }

    /// Asks Flow Service to test the connection's connectivity:
    /// `GET /connections/{id}/test`, `{"result": true|false}`.
    pub fn test_connection(&self, id: &str) -> Result<bool, Error> {
        check_id(id)?;
        let resp = self.get(&format!("/connections/{id}/test"), Some(id))?;
        #[derive(Deserialize)]
        struct TestResult {
            result: bool,
        }
        Ok(parse_json::<TestResult>(&resp, "{\"result\": true|false}")?.result)
    }

    /// Deletes a connection: `DELETE /connections/{id}`, 204 on success.
    /// [`Error::NotFound`] when there is no such connection,
    /// [`Error::InUse`] while dataflows still use it. A 404 on a retry
    /// (after a 502/503/504 or a lost answer) counts as deleted.
    pub fn delete_connection(&self, id: &str) -> Result<(), Error> {
        check_id(id)?;
        let call = Call::idempotent("DELETE", format!("/connections/{id}"));
        let mut scrubber = Scrubber::new();
        let resp = self.send(&call, &mut scrubber)?;
        match resp.status {
            200 | 202 | 204 => Ok(()),
            // An earlier attempt (whose answer was a 502/503/504 or was
            // lost) deleted it: the connection is gone, as asked.
            404 if resp.earlier_attempt_may_have_landed => Ok(()),
            _ => Err(self.error_for(&resp, &scrubber, Some(id))),
        }
    }

    /// Finds the PostgreSQL connection named `name` (searching every page).
    pub fn find_postgres_connection(&self, name: &str) -> Result<Option<Connection>, Error> {
        // The filter checks the name and spec locally too.
        let filter = ListFilter::new().name(name).postgres();
        self.connections(&filter).next().transpose()
    }

    /// Returns the PostgreSQL connection named like `connection` if one
    /// exists, else creates it; [`Ensured::created`] says which.
    ///
    /// Safe to run twice, and safe after a lost answer: when the create
    /// fails in a way that may have created the connection (5xx, timeout,
    /// broken connection after sending, a 2xx that could not be read), it
    /// looks again by name before giving up, so the caller gets the
    /// connection that was made instead of a duplicate on the next run.
    pub fn ensure_postgres_connection(
        &self,
        connection: &PostgresConnection,
    ) -> Result<Ensured, Error> {
        connection.validate()?;
        let found = |c: Connection, created: bool| Ensured {
            id: c.id,
            etag: c.etag,
            created,
        };
        if let Some(c) = self.find_postgres_connection(connection.name())? {
            return Ok(found(c, false));
        }
        match self.create_postgres_connection(connection) {
            Ok(CreatedConnection { id, etag }) => Ok(Ensured {
                id,
                etag,
                created: true,
            }),
            Err(e) if may_have_created(&e) => {
                match self.find_postgres_connection(connection.name()) {
                    Ok(Some(c)) => Ok(found(c, true)),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Replaces a PostgreSQL connection's credentials (password rotation).
    ///
    /// Reads the connection to learn its auth spec and etag, then sends
    /// `PATCH /connections/{id}` with `If-Match: <etag>` (exactly as
    /// returned) and `[{"op": "replace", "path": "/auth/params", "value":
    /// {...}}]`, the params written for the connection's own auth spec from
    /// `credentials` (server, port, database, username, password, SSL mode;
    /// its name, description and auth spec are not used). On 412 (someone
    /// else changed it) it reads again and retries once.
    pub fn update_postgres_credentials(
        &self,
        id: &str,
        credentials: &PostgresConnection,
    ) -> Result<CreatedConnection, Error> {
        check_id(id)?;
        // What every auth spec needs, before the connection is read; the
        // connection-string rules (no control character in the password)
        // can only be checked once its spec is known.
        credentials.validate_params(AuthSpec::Basic)?;
        let mut tries = 0;
        loop {
            tries += 1;
            let current = self.get_connection(id)?;
            if current.etag.is_empty() || !current.etag.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::UnexpectedResponse {
                    status: 200,
                    detail: format!(
                        "connection {id} came without a usable etag (empty or not visible ASCII); \
                         cannot send If-Match"
                    ),
                    request_id: None,
                });
            }
            if current.connection_spec_id.as_deref() != Some(POSTGRES_CONNECTION_SPEC_ID) {
                return Err(Error::invalid_input(
                    "connection_id",
                    "is not a PostgreSQL connection",
                ));
            }
            let spec: AuthSpec = current
                .auth_spec_name
                .as_deref()
                .unwrap_or("")
                .parse()
                .map_err(|_| Error::UnexpectedResponse {
                    status: 200,
                    detail: format!(
                        "connection {id} uses auth spec {:?}, which this crate cannot write",
                        current.auth_spec_name.as_deref().unwrap_or("")
                    ),
                    request_id: None,
                })?;
            let prepared = credentials.credentials_patch(spec)?;
            let mut scrubber = credentials.scrubber(&prepared);
            let call = Call {
                method: "PATCH",
                path: format!("/connections/{id}"),
                body: Some(&prepared.body),
                if_match: Some(&current.etag),
                idempotent: false,
            };
            let resp = self.send(&call, &mut scrubber)?;
            match resp.status {
                200 | 201 => return response::parse_created(&resp),
                412 if tries < 2 => continue,
                _ => return Err(self.error_for(&resp, &scrubber, Some(id))),
            }
        }
    }
}

/// Whether a failed create may have created the connection anyway.
fn may_have_created(e: &Error) -> bool {
    match e {
        Error::Api(api) => api.status >= 500,
        Error::Transport(t) => t.delivery == Delivery::Unknown,
        Error::UnexpectedResponse { status, .. } => (200..300).contains(status),
        _ => false,
    }
}
