//! Offline tests against the files in `fixtures/`.

use zeroize::Zeroizing;

use crate::client::results::parse_saved as parse_created;
use crate::error::parse_api_error;
use crate::wire::response::RawResponse;
use crate::wire::scrub::Scrubber;
use crate::PostgresLogin;
use crate::{AuthSpec, PostgresConnection, Secret, SslMode};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn raw(status: u16, name: &str, content_type: &str) -> RawResponse {
    RawResponse {
        content_type: Some(content_type.into()),
        ..RawResponse::from_body(status, fixture(name), Some("header-request-id"))
    }
}

fn golden_connection() -> PostgresConnection {
    PostgresConnection::new(
        "Test connection for PostgreSQL",
        PostgresLogin {
            server: "pg.example.com",
            database: "analytics",
            username: "etl_reader",
            password: Secret::from("p@ss;w}rd"),
        },
    )
    .with_description("Test connection for PostgreSQL")
}

fn golden(name: &str) -> String {
    String::from_utf8(fixture(name))
        .unwrap()
        .trim_end()
        .to_owned()
}

#[test]
fn connection_string_body_matches_golden_byte_for_byte() {
    let body = golden_connection().request_body().unwrap();
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        golden("request_connection_string.json")
    );
}

#[test]
fn basic_body_matches_golden_byte_for_byte() {
    let body = golden_connection()
        .with_auth_spec(AuthSpec::Basic)
        .with_ssl_mode(SslMode::Require)
        .request_body()
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        golden("request_basic.json")
    );
}

#[test]
fn basic_ssl_mode_can_be_overridden_and_is_omitted_when_unset() {
    let body = golden_connection()
        .with_auth_spec(AuthSpec::Basic)
        .request_body()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v["auth"]["params"].get("sslMode").is_none());
    let body = golden_connection()
        .with_auth_spec(AuthSpec::Basic)
        .with_ssl_mode(SslMode::VerifyFull)
        .with_basic_ssl_mode_value("verify-full")
        .request_body()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["auth"]["params"]["sslMode"], "verify-full");
}

#[test]
fn tutorial_create_response_parses_with_etag_quotes_kept() {
    let created: crate::Saved =
        parse_created(&raw(201, "create_response.json", "application/json")).unwrap();
    assert_eq!(created.id, "056dd1b4-da33-42f9-add1-b4da3392f94e");
    assert_eq!(created.etag, "\"1700e582-0000-0200-0000-5e3c85180000\"");
    let basic: crate::Saved =
        parse_created(&raw(201, "create_response_basic.json", "application/json")).unwrap();
    assert_eq!(basic.id, "9f3c8b2e-1d4a-4c6b-bc8b-2e1d4a5c6b7d");
    assert_eq!(basic.etag, "\"4f00b2c1-0000-0200-0000-63f8a1b20000\"");
}

#[test]
fn gateway_envelope() {
    let e = parse_api_error(
        &raw(401, "error_gateway_401.json", "application/json"),
        &Scrubber::new(),
    );
    assert_eq!(e.status, 401);
    assert_eq!(e.code.as_deref(), Some("401013"));
    assert_eq!(e.message, "Oauth token is not valid");
    assert_eq!(e.request_id.as_deref(), Some("header-request-id"));
}

#[test]
fn flow_service_envelope_prefers_the_body_request_id() {
    let e = parse_api_error(
        &raw(400, "error_flow_service_400.json", "application/json"),
        &Scrubber::new(),
    );
    assert_eq!(e.code.as_deref(), Some("FLOW-1415-400"));
    assert_eq!(e.title.as_deref(), Some("Bad Request"));
    assert!(
        e.message.starts_with("Connection spec with id"),
        "{}",
        e.message
    );
    assert_eq!(
        e.request_id.as_deref(),
        Some("Rk9MkIvoW1lq8uDMHq3Ii8Q9zfBrQYsU")
    );
}

#[test]
fn generic_envelope() {
    let e = parse_api_error(
        &raw(400, "error_generic_400.json", "application/json"),
        &Scrubber::new(),
    );
    assert_eq!(e.code.as_deref(), Some("PLATFORM-0400-400"));
    assert_eq!(e.title.as_deref(), Some("BadRequestError"));
    assert_eq!(
        e.message,
        "Sandbox name in x-sandbox-name header is invalid"
    );
}

#[test]
fn empty_body() {
    let e = parse_api_error(
        &raw(429, "error_empty_429.txt", "text/plain"),
        &Scrubber::new(),
    );
    assert_eq!(e.code, None);
    assert_eq!(e.message, "Too Many Requests (empty body)");
}

#[test]
fn html_body_gives_its_title() {
    let e = parse_api_error(
        &raw(502, "error_proxy_502.html", "text/html"),
        &Scrubber::new(),
    );
    assert_eq!(e.code, None);
    assert!(e.message.starts_with("502 Bad Gateway ("), "{}", e.message);
    assert!(e.message.contains("text/html"));
}

#[test]
fn echoed_secrets_are_scrubbed_from_errors() {
    let password = "canary-pw-Zq81";
    let body = format!(
        r#"{{"type":"x/FLOW-1415-400","report":{{"detailed-message":"bad connectionString Server=h;Password={password}"}}}}"#
    );
    let mut resp = raw(400, "error_empty_429.txt", "application/json");
    resp.body = Zeroizing::new(body.into_bytes());
    let mut scrubber = Scrubber::new();
    scrubber.add(password);
    let e = parse_api_error(&resp, &scrubber);
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("canary"), "{shown}");
    assert!(shown.contains(crate::Secret::REDACTED));
}
