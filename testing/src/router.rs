//! From a request to the service's answer: the IMS token endpoint, the
//! gateway's checks, then a dispatch on the first path segment under
//! [`BASE_PATH`] to the resource's handler module, with the state of the
//! sandbox the request names (`x-sandbox-name`).
//!
//! Adding a resource (flows, say): write `flows.rs` with the resource's
//! own fields as a type implementing `store::Resource` (its JSON view,
//! which answers and `property=` filters use), a `Flows` struct holding a
//! `Store<Flow>` built in `SandboxState::new` from the shared `Serial`, and a
//! `handle(call, state, expected) -> Reply` that matches
//! `(method, call.rest)` and ends with `method_not_allowed`; answer lists
//! with `call::list(&store, "/flows", call, expected)`, missing ids
//! with `not_found("Flow", id, ..)` and checks with `flow_error`. Then add
//! `mod flows;` to `lib.rs` and a `("flows", flows::handle)` line to
//! `RESOURCES`. The store gives ids, quoted etags that change on every
//! `update`, creation and update times, and paging for free.

use crate::call::{self, Call};
use crate::config::Expected;
use crate::flows;
use crate::reply::Reply;
use crate::request::RecordedRequest;
use crate::runs;
use crate::state::{SandboxState, State};
use crate::wire::{BASE_PATH, CATALOG_PATH, DATA_PREP_PATH, HEADER_SANDBOX, IMS_TOKEN_PATH};
use crate::{catalog, mapping_sets, target_connections};
use crate::{connections, gateway, ims, source_connections};

/// A resource's handler: the answer to any request under its path.
pub(crate) type Handler = fn(&Call<'_>, &mut SandboxState, &Expected) -> Reply;

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
pub(crate) fn respond(req: &RecordedRequest, state: &mut State, expected: &Expected) -> Reply {
    state.next_request_id += 1;
    let request_id = format!("fake-request-{:04}", state.next_request_id);
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    if path == IMS_TOKEN_PATH {
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
            // The gateway has checked the header is there.
            let sandbox = req.header(HEADER_SANDBOX).unwrap_or_default();
            handler(&call, state.sandbox_mut(sandbox), expected)
        }
        None => call::flow_error(404, "FLOW-1404-404", "Resource not found", &request_id),
    };
    reply.header("x-request-id", request_id)
}
