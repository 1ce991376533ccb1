//! What every handler works with: the routed request ([`Call`]), its JSON
//! body, `If-Match` and JSON Patch checks, listings, and Flow Service's
//! error replies.

use serde_json::json;

use crate::config::Expected;
use crate::reply::Reply;
use crate::request::RecordedRequest;
use crate::store::{ListOptions, ListQuery, Resource, Store};

/// A request routed to a resource.
pub(crate) struct Call<'a> {
    /// The request.
    pub(crate) req: &'a RecordedRequest,
    /// The query string, without `?`.
    pub(crate) query: &'a str,
    /// The path segments after the resource's name: `[]` for the
    /// collection, `[id]`, `[id, "test"]`...
    pub(crate) rest: &'a [&'a str],
    /// This answer's `x-request-id`.
    pub(crate) request_id: &'a str,
}

/// Flow Service's error envelope.
pub(crate) fn flow_error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "type": format!("https://ns.adobe.com/aep/errors/{code}"),
            "title": crate::wire::reason_phrase(status),
            "status": status,
            "report": {"detailed-message": message, "request-id": request_id},
            "errorMessage": message,
        })
        .to_string(),
    )
}

/// 404 for an id the store does not hold; `kind` is e.g. `Connection`.
pub(crate) fn not_found(kind: &str, id: &str, request_id: &str) -> Reply {
    flow_error(
        404,
        "FLOW-1404-404",
        &format!("{kind} with id {id} not found"),
        request_id,
    )
}

/// 405 for a method a resource's path does not take.
pub(crate) fn method_not_allowed(request_id: &str) -> Reply {
    flow_error(405, "FLOW-1405-405", "Method not allowed", request_id)
}

/// `GET /{collection}?limit=..&property=..&continuationToken=..`: a page
/// of `store`, with the builder's page cap and filter quirk applied.
pub(crate) fn list<T: Resource>(
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
pub(crate) fn json_body(call: &Call<'_>) -> Result<serde_json::Value, Reply> {
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
pub(crate) fn named_body(call: &Call<'_>) -> Result<(serde_json::Value, String), Reply> {
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
/// against `etag`: 400 without it, 412 when it is stale, 415 without a JSON
/// content type (the tutorials send `application/json`, as for every
/// body), 400 when the body is not an array.
pub(crate) fn patch_ops(call: &Call<'_>, etag: &str) -> Result<Vec<serde_json::Value>, Reply> {
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
    match json_body(call)? {
        serde_json::Value::Array(ops) => Ok(ops),
        _ => Err(flow_error(
            400,
            "FLOW-1415-400",
            "Body must be a JSON Patch array",
            call.request_id,
        )),
    }
}
