//! The create call end to end against the fake (`aep_flow_testing`) on 127.0.0.1.

mod common;

use aep_flow::{
    AuthSpec, Client, ConnectionId, Error, Platform, PostgresConnection, Saved, Secret, SslMode,
};
use aep_flow::{PostgresLogin, Sandbox};
use aep_flow_testing::{self, FakeFlowService, Reply};

/// The one-shot create: a client built for one call.
fn create_once(
    platform: Platform,
    conn: &PostgresConnection,
) -> Result<Saved<ConnectionId>, Error> {
    Client::new(platform)?.create_postgres_connection(conn)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
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

fn strict_fake() -> FakeFlowService {
    FakeFlowService::builder()
        .access_token("tok-1234")
        .api_key("client-id-1")
        .org_id("ORG1@AdobeOrg")
        .sandbox_name("dev-sandbox")
        .start()
        .unwrap()
}

#[test]
fn create_sends_the_tutorial_request_and_returns_id_and_etag() {
    let fake = strict_fake();
    let client = Client::new(common::platform(&fake)).unwrap();
    let created = client
        .create_postgres_connection(&golden_connection())
        .unwrap();
    assert_eq!(created.id, "056dd1b4-da33-42f9-add1-b4da3392f94e");
    assert_eq!(created.etag, "\"1700e582-0000-0200-0000-5e3c85180000\"");

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/data/foundation/flowservice/connections");
    assert_eq!(r.header("authorization"), Some("Bearer tok-1234"));
    assert_eq!(r.header("x-api-key"), Some("client-id-1"));
    assert_eq!(r.header("x-gw-ims-org-id"), Some("ORG1@AdobeOrg"));
    assert_eq!(r.header("x-sandbox-name"), Some("dev-sandbox"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_golden_then_spaces(&r.body, &fixture("request_connection_string.json"));
}

#[test]
fn basic_authentication_create() {
    let fake = strict_fake();
    let client = Client::new(common::platform(&fake)).unwrap();
    let conn = golden_connection()
        .with_auth_spec(AuthSpec::Basic)
        .with_ssl_mode(SslMode::Require);
    let created = client.create_postgres_connection(&conn).unwrap();
    assert_eq!(created.id, "9f3c8b2e-1d4a-4c6b-bc8b-2e1d4a5c6b7d");
    let r = &fake.requests()[0];
    assert_golden_then_spaces(&r.body, &fixture("request_basic.json"));
    assert_eq!(fake.connections()[0].spec_name, "Basic Authentication");
}

#[test]
fn free_function_and_reused_client_both_work() {
    let fake = FakeFlowService::start().unwrap();
    let created = create_once(common::platform(&fake), &golden_connection()).unwrap();
    assert_eq!(created.id, "056dd1b4-da33-42f9-add1-b4da3392f94e");

    let client = Client::new(common::platform(&fake)).unwrap();
    let a = client
        .create_postgres_connection(&golden_connection())
        .unwrap();
    let b = client
        .create_postgres_connection(&golden_connection())
        .unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(fake.connections().len(), 3);
}

#[test]
fn a_200_answer_is_accepted_too() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(Reply::json(200, r#"{"id":"abc","etag":"\"e1\""}"#));
    let created = create_once(common::platform(&fake), &golden_connection()).unwrap();
    assert_eq!(
        (created.id.as_str(), created.etag.as_str()),
        ("abc", "\"e1\"")
    );
}

#[test]
fn invalid_input_sends_nothing() {
    let fake = FakeFlowService::start().unwrap();
    let client = Client::new(common::platform(&fake)).unwrap();
    let bad = [
        (golden_connection().with_port(0), "postgres.port"),
        (
            PostgresConnection::new(
                "n",
                PostgresLogin {
                    server: "h",
                    database: "d",
                    username: "u",
                    password: Secret::from("bad\u{0}pw"),
                },
            ),
            "postgres.password",
        ),
        (
            PostgresConnection::new(
                "",
                PostgresLogin {
                    server: "h",
                    database: "d",
                    username: "u",
                    password: Secret::from("pw"),
                },
            ),
            "name",
        ),
    ];
    for (conn, field) in bad {
        match client.create_postgres_connection(&conn) {
            Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected invalid {field}: {other:?}"),
        }
    }
    let bad_platform = Platform::new(
        Secret::from("tok"),
        "key",
        Sandbox {
            org_id: "org",
            name: "prod",
        },
    )
    .with_base_url("http://example.com/flowservice");
    let err = create_once(bad_platform, &golden_connection()).unwrap_err();
    assert!(err.to_string().contains("platform.base_url"), "{err}");
    assert!(fake.requests().is_empty(), "nothing may be sent");
}

/// Each error envelope, served for real, reaches the caller with status,
/// code, message and request id.
#[test]
fn error_fixtures_end_to_end() {
    let fake = FakeFlowService::start().unwrap();
    // No retries: the 429 case must come back as it is.
    let client = Client::builder(common::platform(&fake))
        .with_max_retries(0)
        .build()
        .unwrap();
    struct Case {
        status: u16,
        body: String,
        content_type: &'static str,
        code: Option<&'static str>,
        message_part: &'static str,
        request_id: &'static str,
    }
    let cases = [
        Case {
            status: 401,
            body: fixture("error_gateway_401.json"),
            content_type: "application/json",
            code: Some("401013"),
            message_part: "Oauth token is not valid",
            request_id: "hdr-1",
        },
        Case {
            status: 400,
            body: fixture("error_flow_service_400.json"),
            content_type: "application/json",
            code: Some("FLOW-1415-400"),
            message_part: "Connection spec with id",
            request_id: "Rk9MkIvoW1lq8uDMHq3Ii8Q9zfBrQYsU",
        },
        Case {
            status: 400,
            body: fixture("error_generic_400.json"),
            content_type: "application/json",
            code: Some("PLATFORM-0400-400"),
            message_part: "x-sandbox-name header is invalid",
            request_id: "hdr-3",
        },
        Case {
            status: 429,
            body: fixture("error_empty_429.txt"),
            content_type: "text/plain",
            code: None,
            message_part: "empty body",
            request_id: "hdr-4",
        },
        Case {
            status: 502,
            body: fixture("error_proxy_502.html"),
            content_type: "text/html",
            code: None,
            message_part: "502 Bad Gateway",
            request_id: "hdr-5",
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        fake.push_reply(
            Reply::new(case.status)
                .header("Content-Type", case.content_type)
                .header("x-request-id", format!("hdr-{}", i + 1))
                .body(case.body.clone()),
        );
        let err = client
            .create_postgres_connection(&golden_connection())
            .unwrap_err();
        let Error::Api(api) = &err else {
            panic!("case {i}: expected Api error, got {err:?}")
        };
        assert_eq!(api.status, case.status, "case {i}");
        assert_eq!(api.code.as_deref(), case.code, "case {i}");
        assert!(
            api.message.contains(case.message_part),
            "case {i}: {}",
            api.message
        );
        assert_eq!(api.request_id.as_deref(), Some(case.request_id), "case {i}");
        let text = err.to_string();
        assert!(
            text.contains(&case.status.to_string()) && text.contains(case.request_id),
            "{text}"
        );
    }
}

#[test]
fn the_fake_rejects_what_flow_service_rejects() {
    let fake = strict_fake();
    // Wrong token: the gateway's 401013.
    let wrong = Platform::new(
        Secret::from("other-token"),
        "client-id-1",
        Sandbox {
            org_id: "ORG1@AdobeOrg",
            name: "dev-sandbox",
        },
    )
    .with_base_url(fake.base_url());
    let err = create_once(wrong, &golden_connection()).unwrap_err();
    let Error::Api(api) = err else { panic!() };
    assert_eq!((api.status, api.code.as_deref()), (401, Some("401013")));
    assert!(api.to_string().contains("hint"), "{api}");

    // Wrong sandbox: the platform's generic envelope.
    let wrong = Platform::new(
        Secret::from("tok-1234"),
        "client-id-1",
        Sandbox {
            org_id: "ORG1@AdobeOrg",
            name: "prod",
        },
    )
    .with_base_url(fake.base_url());
    let err = create_once(wrong, &golden_connection()).unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err
        .request_id()
        .is_some_and(|id| id.starts_with("fake-request-")));
    assert!(fake.connections().is_empty());
}

#[test]
fn a_201_without_etag_is_an_unexpected_response() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(Reply::json(201, r#"{"id":"abc"}"#).header("x-request-id", "r-9"));
    let err = create_once(common::platform(&fake), &golden_connection()).unwrap_err();
    match &err {
        Error::UnexpectedResponse {
            status, request_id, ..
        } => {
            assert_eq!((*status, request_id.as_deref()), (201, Some("r-9")));
        }
        other => panic!("{other:?}"),
    }
    fake.push_reply(
        Reply::new(201)
            .header("Content-Type", "text/html")
            .body("<html>ok</html>"),
    );
    let err = create_once(common::platform(&fake), &golden_connection()).unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedResponse { status: 201, .. }),
        "{err:?}"
    );
}

#[test]
fn an_echoed_password_and_token_never_reach_the_error() {
    let fake = FakeFlowService::builder()
        .access_token("tok-canary-A1b2C3")
        .start()
        .unwrap();
    let conn = PostgresConnection::new(
        "n",
        PostgresLogin {
            server: "h",
            database: "d",
            username: "u",
            password: Secret::from("pw-canary-Q9z\"x"),
        },
    );
    // A server that echoes the whole request back: the body (JSON-escaped
    // password, connection string) and the Authorization header.
    fake.push_reply(
        Reply::json(
            400,
            serde_json::json!({
                "error_code": "400000",
                "message": format!(
                    "bad request Bearer tok-canary-A1b2C3 body {}",
                    String::from_utf8(
                        sent_body(&conn)
                    ).unwrap()
                ),
            })
            .to_string(),
        )
        .header("x-request-id", "tok-canary-A1b2C3"),
    );
    let err = Client::new(common::platform(&fake))
        .unwrap()
        .create_postgres_connection(&conn)
        .unwrap_err();
    let shown = format!("{err} | {err:?}");
    assert!(!shown.contains("canary"), "{shown}");
    assert!(shown.contains(aep_flow::Secret::REDACTED), "{shown}");
}

/// The exact request body the client sends for `conn`, captured from a
/// throwaway fake (so the echo test echoes the real bytes).
fn sent_body(conn: &PostgresConnection) -> Vec<u8> {
    let probe = FakeFlowService::start().unwrap();
    let _ = Client::new(common::platform(&probe))
        .unwrap()
        .create_postgres_connection(conn);
    probe.requests().remove(0).body
}

#[test]
fn the_fake_answers_a_foreign_spec_id_like_flow_service() {
    let fake = FakeFlowService::start().unwrap();
    let body = fixture("request_connection_string.json").replace(
        aep_flow::spec::POSTGRES_CONNECTION_SPEC_ID,
        "00000000-0000-0000-0000-000000000000",
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .post(format!("{}/connections", fake.base_url()))
        .header(
            "Authorization",
            format!("Bearer {}", aep_flow_testing::DEMO_ACCESS_TOKEN),
        )
        .header("x-api-key", "k")
        .header("x-gw-ims-org-id", "o@AdobeOrg")
        .header("x-sandbox-name", "prod")
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let text = resp.body_mut().read_to_string().unwrap();
    assert!(
        text.contains("FLOW-1415-400") && text.contains("Connection spec not found"),
        "{text}"
    );
    assert!(fake.connections().is_empty());
}

/// The wire body is the golden JSON byte for byte, then only spaces (which
/// overwrite the network library's send buffer after a secret body).
fn assert_golden_then_spaces(body: &[u8], golden: &str) {
    let golden = golden.trim_end().as_bytes();
    assert_eq!(
        std::str::from_utf8(&body[..golden.len().min(body.len())]).unwrap(),
        std::str::from_utf8(golden).unwrap()
    );
    let padding = &body[golden.len()..];
    assert!(padding.iter().all(|b| *b == b' '), "only spaces follow");
    assert!(padding.len() >= golden.len(), "enough to cover the body");
}
