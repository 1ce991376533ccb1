//! `/connections`: create, get, list, patch (`If-Match`, 412), delete and
//! test, with the checks Flow Service makes on a PostgreSQL connection's
//! spec and auth params.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::call::{self, flow_error, Call};
use crate::config::Expected;
use crate::odbc::parse_connection_string;
use crate::reply::Reply;
use crate::state::SandboxState;
use crate::store::{etag_for, id_for, Entry, Meta, Resource, Serial, Store};
use crate::wire::{BASE_PATH, FIXTURE_CREATE_RESPONSE, FIXTURE_CREATE_RESPONSE_BASIC};
use crate::wire::{
    BASIC_AUTH, CONNECTION_STRING_AUTH, POSTGRES_CONNECTION_SPEC_ID,
    POSTGRES_CONNECTION_SPEC_VERSION,
};

/// The collection's path under the base path.
const COLLECTION: &str = "/connections";

/// A connection the fake holds (created through the API or inserted).
#[derive(Clone)]
#[non_exhaustive]
pub struct StoredConnection {
    /// Its id.
    pub id: String,
    /// Its etag (with the quotes).
    pub etag: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its connection spec id.
    pub spec_id: String,
    /// Its auth spec name.
    pub spec_name: String,
    /// Its auth params as stored (they hold the credentials; `Debug`
    /// does not show them).
    pub params: Value,
    /// `enabled`.
    pub state: String,
    /// Creation time, epoch milliseconds.
    pub created_at: i64,
    /// Last update, epoch milliseconds.
    pub updated_at: i64,
    /// What `GET /connections/{id}/test` answers.
    pub test_result: bool,
    /// When set, a delete answers 400 `FLOW-1418-400` (used by dataflows).
    pub in_use: bool,
}

impl fmt::Debug for StoredConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredConnection")
            .field("id", &self.id)
            .field("etag", &self.etag)
            .field("name", &self.name)
            .field("spec_id", &self.spec_id)
            .field("spec_name", &self.spec_name)
            .field("params", &crate::wire::REDACTED)
            .field("state", &self.state)
            .field("in_use", &self.in_use)
            .finish_non_exhaustive()
    }
}

/// A connection's own fields (the store keeps id, etag and times).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Connection {
    name: String,
    description: Option<String>,
    spec_id: String,
    spec_name: String,
    /// The auth params (credentials included; never written to a state
    /// file as they are).
    pub(crate) params: Value,
    state: String,
    test_result: bool,
    in_use: bool,
}

impl Connection {
    /// An enabled PostgreSQL connection that tests fine and is not in use.
    pub(crate) fn postgres(
        name: String,
        description: Option<String>,
        spec_name: String,
        params: Value,
    ) -> Self {
        Connection {
            name,
            description,
            spec_id: POSTGRES_CONNECTION_SPEC_ID.to_owned(),
            spec_name,
            params,
            state: "enabled".into(),
            test_result: true,
            in_use: false,
        }
    }
}

impl Resource for Connection {
    fn to_json(&self, meta: &Meta) -> Value {
        json!({
            "id": meta.id,
            "createdAt": meta.created_at,
            "updatedAt": meta.updated_at,
            "createdBy": "fake@AdobeID",
            "updatedBy": "fake@AdobeID",
            "name": self.name,
            "description": self.description.clone().unwrap_or_default(),
            "connectionSpec": {"id": self.spec_id, "version": POSTGRES_CONNECTION_SPEC_VERSION},
            "state": self.state,
            "auth": {"specName": self.spec_name, "params": self.params},
            "version": "1.0",
            "etag": meta.etag,
        })
    }
}

/// A stored connection as the public API shows it.
pub(crate) fn to_public(entry: &Entry<Connection>) -> StoredConnection {
    let (meta, c) = (&entry.meta, entry.value.clone());
    StoredConnection {
        id: meta.id.clone(),
        etag: meta.etag.clone(),
        name: c.name,
        description: c.description,
        spec_id: c.spec_id,
        spec_name: c.spec_name,
        params: c.params,
        state: c.state,
        created_at: meta.created_at,
        updated_at: meta.updated_at,
        test_result: c.test_result,
        in_use: c.in_use,
    }
}

/// Writes a [`StoredConnection`] changed by a test back, as it is (no new
/// etag unless the test set one).
pub(crate) fn write_back(entry: &mut Entry<Connection>, c: StoredConnection) {
    entry.meta = Meta {
        id: c.id,
        etag: c.etag,
        created_at: c.created_at,
        updated_at: c.updated_at,
    };
    entry.value = Connection {
        name: c.name,
        description: c.description,
        spec_id: c.spec_id,
        spec_name: c.spec_name,
        params: c.params,
        state: c.state,
        test_result: c.test_result,
        in_use: c.in_use,
    };
}

/// Whether the tutorial's answers (the fixtures' ids) have been given,
/// in any sandbox: ids are unique across the whole fake, as on Platform.
#[derive(Debug, Default)]
pub(crate) struct FixtureIds {
    connection_string: AtomicBool,
    basic: AtomicBool,
}

impl FixtureIds {
    /// Marks the fixtures' ids that `store` holds (a restored state) as given.
    pub(crate) fn note_held(&self, store: &Store<Connection>) {
        for (given, fixture) in [
            (&self.connection_string, FIXTURE_CREATE_RESPONSE),
            (&self.basic, FIXTURE_CREATE_RESPONSE_BASIC),
        ] {
            let fixture: Value = serde_json::from_str(fixture).unwrap_or(Value::Null);
            if fixture["id"]
                .as_str()
                .is_some_and(|id| store.get(id).is_some())
            {
                given.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// The connections, and the fake's record of the fixtures' ids.
pub(crate) struct Connections {
    pub(crate) store: Store<Connection>,
    fixtures: Arc<FixtureIds>,
}

impl Connections {
    pub(crate) fn new(serial: Serial, fixtures: Arc<FixtureIds>) -> Self {
        Connections {
            store: Store::new(serial),
            fixtures,
        }
    }

    /// The fake's record of the fixtures' ids.
    pub(crate) fn fixtures(&self) -> &FixtureIds {
        &self.fixtures
    }
}

/// Everything under `/connections`.
pub(crate) fn handle(call: &Call<'_>, state: &mut SandboxState, expected: &Expected) -> Reply {
    let request_id = call.request_id;
    match (call.req.method.as_str(), call.rest) {
        ("GET", [id, "explore"]) => return crate::explore::handle(call, id, state),
        ("DELETE", [id])
            if state.connections.store.get(id).is_some() && state.source_connections.uses(id) =>
        {
            return flow_error(
                400,
                "FLOW-1418-400",
                "Connection is in use by one or more source connections and cannot be deleted",
                request_id,
            )
        }
        ("DELETE", [id]) => {
            state.catalogs.remove(*id);
        }
        _ => {}
    }
    let connections = &mut state.connections;
    match (call.req.method.as_str(), call.rest) {
        ("POST", []) => create(call, connections),
        ("GET", []) => call::list(&connections.store, COLLECTION, call, expected),
        ("GET", [id]) => match connections.store.get(id) {
            Some(c) => Reply::json(200, json!({"items": [c.to_json()]}).to_string()),
            None => not_found(id, request_id),
        },
        ("GET", [id, "test"]) => match connections.store.get(id) {
            Some(c) => Reply::json(200, json!({"result": c.value.test_result}).to_string()),
            None => not_found(id, request_id),
        },
        ("PATCH", [id]) => patch(call, id, connections),
        ("DELETE", [id]) => match connections.store.get(id) {
            Some(c) if c.value.in_use => flow_error(
                400,
                "FLOW-1418-400",
                "Connection is in use by one or more dataflows and cannot be deleted",
                request_id,
            ),
            Some(_) => {
                connections.store.delete(id);
                Reply::new(204)
            }
            None => not_found(id, request_id),
        },
        _ => call::method_not_allowed(request_id),
    }
}

fn not_found(id: &str, request_id: &str) -> Reply {
    call::not_found("Connection", id, request_id)
}

/// `POST /connections`: the first create of each kind answers exactly like
/// the fixture; later ones get new ids.
fn create(call: &Call<'_>, connections: &mut Connections) -> Reply {
    let request_id = call.request_id;
    let invalid = |message: &str| flow_error(400, "FLOW-1415-400", message, request_id);
    let (body, name) = match call::named_body(call) {
        Ok(named) => named,
        Err(refusal) => return refusal,
    };
    let spec = &body["connectionSpec"];
    if spec["id"].as_str() != Some(POSTGRES_CONNECTION_SPEC_ID) {
        return flow_error(
            400,
            "FLOW-1415-400",
            "Connection spec not found. This fake knows only PostgreSQL (74a1c565-4e59-48d7-9d67-7c03b8a13137)",
            request_id,
        );
    }
    if spec["version"].as_str() != Some(POSTGRES_CONNECTION_SPEC_VERSION) {
        return invalid("connectionSpec.version must be \"1.0\"");
    }
    let spec_name = body["auth"]["specName"].as_str().unwrap_or("");
    let params = &body["auth"]["params"];
    let problem = match spec_name {
        CONNECTION_STRING_AUTH => check_connection_string(params),
        BASIC_AUTH => check_basic(params),
        _ => Some("auth.specName must be \"Connection String Based Authentication\" or \"Basic Authentication\""),
    };
    if let Some(problem) = problem {
        return invalid(problem);
    }
    let (given, fixture) = if spec_name == BASIC_AUTH {
        (&connections.fixtures.basic, FIXTURE_CREATE_RESPONSE_BASIC)
    } else {
        (
            &connections.fixtures.connection_string,
            FIXTURE_CREATE_RESPONSE,
        )
    };
    let n = connections.store.next_serial();
    let fixture: Value = serde_json::from_str(fixture).unwrap_or(Value::Null);
    // The tutorial's answer, once in the whole fake: not again after a
    // restored state already holds its id.
    let first = !given.swap(true, Ordering::Relaxed)
        && fixture["id"]
            .as_str()
            .is_some_and(|id| connections.store.get(id).is_none());
    let answer: Value = if first {
        fixture
    } else {
        json!({"id": id_for(n), "etag": etag_for(n)})
    };
    let id = answer["id"].as_str().unwrap_or("").to_owned();
    let etag = answer["etag"].as_str().unwrap_or("").to_owned();
    let connection = Connection::postgres(
        name,
        body["description"].as_str().map(str::to_owned),
        spec_name.to_owned(),
        params.clone(),
    );
    connections.store.insert_as(id.clone(), etag, connection);
    Reply::json(201, answer.to_string()).header("Location", format!("{BASE_PATH}{COLLECTION}/{id}"))
}

/// `PATCH /connections/{id}` with `If-Match` and a JSON Patch array that
/// replaces `/auth/params`.
fn patch(call: &Call<'_>, id: &str, connections: &mut Connections) -> Reply {
    let request_id = call.request_id;
    let Some(current) = connections.store.get(id) else {
        return not_found(id, request_id);
    };
    let ops = match call::patch_ops(call, &current.meta.etag) {
        Ok(ops) => ops,
        Err(refusal) => return refusal,
    };
    let spec_name = current.value.spec_name.as_str();
    let mut params = current.value.params.clone();
    for op in &ops {
        if op["op"] != "replace" || op["path"] != "/auth/params" {
            return flow_error(
                400,
                "FLOW-1415-400",
                "Only replace of /auth/params is supported",
                request_id,
            );
        }
        let problem = match spec_name {
            CONNECTION_STRING_AUTH => check_connection_string(&op["value"]),
            _ => check_basic(&op["value"]),
        };
        if let Some(problem) = problem {
            return flow_error(400, "FLOW-1415-400", problem, request_id);
        }
        params = op["value"].clone();
    }
    match connections.store.update(id, |c| c.params = params) {
        Some(c) => Reply::json(
            200,
            json!({"id": c.meta.id, "etag": c.meta.etag}).to_string(),
        ),
        None => not_found(id, request_id),
    }
}

/// What is wrong with connection-string auth params, if anything.
fn check_connection_string(params: &Value) -> Option<&'static str> {
    let Some(s) = params["connectionString"].as_str() else {
        return Some("auth.params.connectionString is required");
    };
    let Some(pairs) = parse_connection_string(s) else {
        return Some("auth.params.connectionString is malformed");
    };
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    if keys.len() < 5 || keys[..5] != ["Server", "Database", "Port", "UID", "Password"] {
        return Some("auth.params.connectionString must start Server=..;Database=..;Port=..;UID=..;Password=..");
    }
    if pairs[2].1.parse::<u16>().map_or(true, |p| p == 0) {
        return Some("auth.params.connectionString has an invalid Port");
    }
    for (k, v) in &pairs[5..] {
        let ok = match k.as_str() {
            "EncryptionMethod" => ["0", "1", "6"].contains(&v.as_str()),
            "ValidateServerCertificate" => ["0", "1"].contains(&v.as_str()),
            _ => false,
        };
        if !ok {
            return Some("auth.params.connectionString has an unknown option");
        }
    }
    None
}

/// What is wrong with Basic Authentication params, if anything.
fn check_basic(params: &Value) -> Option<&'static str> {
    for key in ["server", "database", "username", "password"] {
        if params[key].as_str().is_none_or(str::is_empty) {
            return Some("auth.params needs server, port, database, username and password");
        }
    }
    match params["port"].as_str().map(str::parse::<u16>) {
        Some(Ok(p)) if p > 0 => {}
        _ => return Some("auth.params.port must be a string holding a port number"),
    }
    if params.get("sslMode").is_some_and(|m| !m.is_string()) {
        return Some("auth.params.sslMode must be a string");
    }
    None
}
