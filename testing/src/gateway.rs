//! The Adobe I/O gateway in front of Flow Service: token, API key, org and
//! sandbox checks, with the gateway's own error envelopes.

use serde_json::json;

use crate::config::Expected;
use crate::reply::Reply;
use crate::request::RecordedRequest;
use crate::state::State;
use crate::wire::{FIXTURE_ERROR_GATEWAY_401, FIXTURE_ERROR_GENERIC_400};
use crate::wire::{HEADER_API_KEY, HEADER_AUTHORIZATION, HEADER_ORG_ID, HEADER_SANDBOX};

/// The gateway's checks, in the order Adobe I/O applies them: `Some` is
/// the refusal.
pub(crate) fn check(req: &RecordedRequest, state: &State, expected: &Expected) -> Option<Reply> {
    let gateway = |status: u16, code: &str, message: &str| {
        Some(Reply::json(
            status,
            json!({"error_code": code, "message": message}).to_string(),
        ))
    };
    let token = req
        .header(HEADER_AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty());
    match token {
        None => return gateway(401, "403010", "Oauth token is missing."),
        Some(t) if state.revoked_tokens.iter().any(|r| r == t) => {
            return Some(Reply::json(401, FIXTURE_ERROR_GATEWAY_401))
        }
        Some(t)
            if expected.access_token.as_deref().is_some_and(|e| e != t)
                && !state.issued_tokens.iter().any(|i| i == t) =>
        {
            return Some(Reply::json(401, FIXTURE_ERROR_GATEWAY_401))
        }
        Some(_) => {}
    }
    match req.header(HEADER_API_KEY).filter(|v| !v.is_empty()) {
        None => return gateway(403, "403000", "Api Key is required"),
        Some(k) if expected.api_key.as_deref().is_some_and(|e| e != k) => {
            return gateway(403, "403003", "Api Key is invalid")
        }
        Some(_) => {}
    }
    match req.header(HEADER_ORG_ID).filter(|v| !v.is_empty()) {
        None => return gateway(400, "400003", "Missing x-gw-ims-org-id header"),
        Some(o) if expected.org_id.as_deref().is_some_and(|e| e != o) => {
            return gateway(403, "403025", "Profile is not valid")
        }
        Some(_) => {}
    }
    match req.header(HEADER_SANDBOX).filter(|v| !v.is_empty()) {
        None => {
            return Some(Reply::json(
                400,
                FIXTURE_ERROR_GENERIC_400.replace("is invalid", "is missing"),
            ))
        }
        Some(s) if expected.sandbox_name.as_deref().is_some_and(|e| e != s) => {
            return Some(Reply::json(400, FIXTURE_ERROR_GENERIC_400))
        }
        Some(_) => {}
    }
    None
}
