//! The fake IMS: `POST /ims/token/v3` (OAuth Server-to-Server, client
//! credentials), issuing `fake-ims-token-N`.

use std::time::Duration;

use serde_json::json;

use crate::config::Expected;
use crate::reply::Reply;
use crate::request::RecordedRequest;
use crate::state::State;
use crate::wire::percent_decode;
use crate::wire::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

/// `POST /ims/token/v3`: checks the form like IMS, issues `fake-ims-token-N`.
pub(crate) fn token(req: &RecordedRequest, state: &mut State, expected: &Expected) -> Reply {
    let oauth_error = |status: u16, error: &str, description: &str| {
        Reply::json(
            status,
            json!({"error": error, "error_description": description}).to_string(),
        )
    };
    if req.method != "POST" {
        return oauth_error(405, "invalid_request", "POST only");
    }
    if !req
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
    {
        return oauth_error(
            400,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let body = String::from_utf8_lossy(&req.body);
    let form: Vec<(String, String)> = body
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let (Some(id), Some(secret)) = (field("client_id"), field("client_secret")) else {
        return oauth_error(
            400,
            "invalid_request",
            "client_id and client_secret are required",
        );
    };
    if field("scope").is_none_or(str::is_empty) {
        return oauth_error(400, "invalid_scope", "scope is required");
    }
    let want_id = expected.ims_client_id.as_deref().unwrap_or(DEMO_CLIENT_ID);
    let want_secret = expected
        .ims_client_secret
        .as_deref()
        .unwrap_or(DEMO_CLIENT_SECRET);
    if id != want_id || secret != want_secret {
        return oauth_error(
            400,
            "invalid_client",
            "invalid client_id or client_secret parameter",
        );
    }
    let token = format!("fake-ims-token-{}", state.issued_tokens.len() + 1);
    state.issued_tokens.push(token.clone());
    let lifetime = expected
        .ims_token_lifetime
        .unwrap_or(Duration::from_secs(86_399))
        .as_secs();
    Reply::json(
        200,
        json!({"access_token": token, "token_type": "bearer", "expires_in": lifetime}).to_string(),
    )
}
