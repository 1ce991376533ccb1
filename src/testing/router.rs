//! From a request to the service's answer: the IMS token endpoint, the
//! gateway's checks, then a dispatch on the first path segment under
//! [`BASE_PATH`] to the resource's handler module. Also the service's
//! error envelope and the helpers every resource shares.
//!
//! Adding a resource (flows, say): write `flows.rs` with the resource's
//! own fields as a type implementing `store::Resource` (its JSON view,
//! which answers and `property=` filters use), a `Flows` struct holding a
//! `Store<Flow>` built in `State::default` from the shared `Serial`, and a
//! `handle(call, state, expected) -> Reply` that matches
//! `(method, call.rest)` and ends with `method_not_allowed`; answer lists
//! with `router::list(&store, "/flows", call, expected)`, missing ids
//! with `not_found("Flow", id, ..)` and checks with `flow_error`. Then add
//! `mod flows;` to `mod.rs` and a `("flows", flows::handle)` line to
//! `RESOURCES`. The store gives ids, quoted etags that change on every
//! `update`, creation and update times, and paging for free.

use serde_json::json;

use super::flows;
use super::http::RecordedRequest;
use super::reply::Reply;
use super::runs;
use super::state::{Expected, State};
use super::store::{ListOptions, ListQuery, Resource, Store};
use super::{catalog, mapping_sets, target_connections};
use super::{
    connections, gateway, ims, source_connections, BASE_PATH, CATALOG_PATH, DATA_PREP_PATH,
};

/// A request routed to a resource.
pub(super) struct Call<'a> {
    /// The request.
    pub(super) req: &'a RecordedRequest,
    /// The query string, without `?`.
    pub(super) query: &'a str,
    /// The path segments after the resource's name: `[]` for the
    /// collection, `[id]`, `[id, "test"]`...
    pub(super) rest: &'a [&'a str],
    /// This answer's `x-request-id`.
    pub(super) request_id: &'a str,
}

/// A resource's handler: the answer to any request under its path.
pub(super) type Handler = fn(&Call<'_>, &mut State, &Expected) -> Reply;

/// The resources served: the service's path below the gateway root
/// ([`BASE_PATH`] for Flow Service, [`DATA_PREP_PATH`], [`CATALOG_PATH`])
/// and the first path segment under it. A new resource is one more line
/// here.
const RESOURCES: &[(&str, &str, Handler)] = &[
    (BASE_PATH, "connections", connections::handle),
    (BASE_PATH, "sourceConnections", source_connections::handle),
    (BASE_PATH, "runs", runs::handle),
    (CATALOG_PATH, "dataSets", catalog::handle),
    (BASE_PATH, "targetConnections", target_connections::handle),
    (DATA_PREP_PATH, "mappingSets", mapping_sets::handle),
    (BASE_PATH, "flowSpecs", flows::handle_specs),
    (BASE_PATH, "flows", flows::handle),
];

/// What Flow Service (or IMS) would answer.
pub(super) fn respond(req: &RecordedRequest, state: &mut State, expected: &Expected) -> Reply {
    state.next_request_id += 1;
    let request_id = format!("fake-request-{:04}", state.next_request_id);
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    if path == crate::IMS_TOKEN_PATH {
        return ims::token(req, state, expected);
    }
    if let Some(reply) = gateway::check(req, state, expected) {
        return reply.header("x-request-id", request_id);
    }
    let handler = RESOURCES.iter().find_map(|(service, name, handler)| {
        let rest = path.strip_prefix(service)?.strip_prefix('/')?;
        let segments: Vec<&str> = rest.split('/').collect();
        (segments[0] == *name).then_some((segments, handler))
    });
    let reply = match handler {
        Some((segments, handler)) => {
            let call = Call {
                req,
                query,
                rest: &segments[1..],
                request_id: &request_id,
            };
            handler(&call, state, expected)
        }
        None => flow_error(404, "FLOW-1404-404", "Resource not found", &request_id),
    };
    reply.header("x-request-id", request_id)
}

/// Flow Service's error envelope.
pub(super) fn flow_error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "type": format!("https://ns.adobe.com/aep/errors/{code}"),
            "title": crate::wire::text::reason_phrase(status),
            "status": status,
            "report": {"detailed-message": message, "request-id": request_id},
            "errorMessage": message,
        })
        .to_string(),
    )
}

/// 404 for an id the store does not hold; `kind` is e.g. `Connection`.
pub(super) fn not_found(kind: &str, id: &str, request_id: &str) -> Reply {
    flow_error(
        404,
        "FLOW-1404-404",
        &format!("{kind} with id {id} not found"),
        request_id,
    )
}

/// 405 for a method a resource's path does not take.
pub(super) fn method_not_allowed(request_id: &str) -> Reply {
    flow_error(405, "FLOW-1405-405", "Method not allowed", request_id)
}

/// `GET /{collection}?limit=..&property=..&continuationToken=..`: a page
/// of `store`, with the builder's page cap and filter quirk applied.
pub(super) fn list<T: Resource>(
    store: &Store<T>,
    collection: &str,
    call: &Call<'_>,
    expected: &Expected,
) -> Reply {
    let query = match ListQuery::parse(call.query) {
        Ok(query) => query,
        Err(message) => return flow_error(400, "FLOW-1401-400", message, call.request_id),
    };
    let options = ListOptions {
        collection,
        max_page_size: expected.max_page_size,
        ignore_filters: expected.ignore_property_filters,
    };
    Reply::json(200, store.list(&query, &options).to_string())
}

/// The request's JSON body, or the service's refusal: 415 without a JSON
/// content type, 400 when it does not parse.
pub(super) fn json_body(call: &Call<'_>) -> Result<serde_json::Value, Reply> {
    if !call
        .req
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json"))
    {
        return Err(flow_error(
            415,
            "FLOW-1415-415",
            "Content-Type must be application/json",
            call.request_id,
        ));
    }
    serde_json::from_slice(&call.req.body).map_err(|_| {
        flow_error(
            400,
            "FLOW-1415-400",
            "Request body is not valid JSON",
            call.request_id,
        )
    })
}

/// A create's JSON body and its `name`, or the service's refusal: the
/// [`json_body`] refusals, 400 when `name` is missing or blank, 400 when
/// a `description` is given that is not a string.
pub(super) fn named_body(call: &Call<'_>) -> Result<(serde_json::Value, String), Reply> {
    let body = json_body(call)?;
    let invalid = |message: &str| flow_error(400, "FLOW-1415-400", message, call.request_id);
    let name = match body.get("name").and_then(serde_json::Value::as_str) {
        Some(n) if !n.trim().is_empty() => n.to_owned(),
        _ => return Err(invalid("name is required")),
    };
    if body.get("description").is_some_and(|d| !d.is_string()) {
        return Err(invalid("description must be a string"));
    }
    Ok((body, name))
}

/// A PATCH's JSON Patch operations, once `If-Match` has been checked
/// against `etag`: 400 without it, 412 when it is stale, 400 when the body
/// is not an array.
pub(super) fn patch_ops(call: &Call<'_>, etag: &str) -> Result<Vec<serde_json::Value>, Reply> {
    let Some(if_match) = call.req.header("if-match") else {
        return Err(flow_error(
            400,
            "FLOW-1400-400",
            "If-Match header is required",
            call.request_id,
        ));
    };
    if if_match != etag {
        return Err(flow_error(
            412,
            "FLOW-1404-412",
            "Precondition failed: the etag does not match the current version",
            call.request_id,
        ));
    }
    match serde_json::from_slice(&call.req.body) {
        Ok(serde_json::Value::Array(ops)) => Ok(ops),
        _ => Err(flow_error(
            400,
            "FLOW-1415-400",
            "Body must be a JSON Patch array",
            call.request_id,
        )),
    }
}
