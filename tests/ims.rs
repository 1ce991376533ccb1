//! Tokens from the fake Adobe IMS: fetched, cached, renewed, and never shown.

mod common;
use common::id;

use std::sync::Arc;
use std::time::Duration;

use aep_flow::{
    defaults::RENEWAL_MARGIN, Client, Error, ImsCredentials, Platform, PostgresConnection, Secret,
    Service,
};
use aep_flow::{PostgresLogin, Sandbox};
use aep_flow_testing::{FakeFlowService, ManualClock, Reply, DEMO_CLIENT_ID, DEMO_SCOPES};

fn conn() -> PostgresConnection {
    PostgresConnection::new(
        "nightly",
        PostgresLogin {
            server: "db.internal",
            database: "orders",
            username: "etl",
            password: Secret::from("pw-1"),
        },
    )
}

fn ims_requests(fake: &FakeFlowService) -> Vec<aep_flow_testing::RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path == "/ims/token/v3")
        .collect()
}

fn platform_requests(fake: &FakeFlowService) -> Vec<aep_flow_testing::RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path != "/ims/token/v3")
        .collect()
}

/// The `Authorization` header of each platform request, in order.
fn bearer_headers(fake: &FakeFlowService) -> Vec<String> {
    platform_requests(fake)
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect()
}

#[test]
fn the_token_request_has_exactly_the_documented_form() {
    let fake = FakeFlowService::builder()
        .ims_client("client-id+1", "s3cr&t=/ x")
        .start()
        .unwrap();
    let ims = ImsCredentials::new("client-id+1", Secret::from("s3cr&t=/ x"), "openid,AdobeID")
        .with_ims_url(fake.ims_url());
    let platform = Platform::from_ims(
        ims,
        Sandbox {
            org_id: "ORG@AdobeOrg",
            name: "prod",
        },
    )
    .with_base_url(fake.base_url());
    Client::new(platform)
        .unwrap()
        .create_postgres_connection(&conn())
        .unwrap();
    let ims = ims_requests(&fake);
    assert_eq!(ims.len(), 1);
    let r = &ims[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        std::str::from_utf8(&r.body).unwrap(),
        "grant_type=client_credentials&client_id=client-id%2B1&client_secret=s3cr%26t%3D%2F+x&scope=openid%2CAdobeID"
    );
    assert!(
        r.header("authorization").is_none(),
        "no bearer token goes to IMS"
    );
    // The platform call carries the issued token, and the API key defaults
    // to the client id.
    let p = &platform_requests(&fake)[0];
    assert_eq!(p.header("authorization"), Some("Bearer fake-ims-token-1"));
    assert_eq!(p.header("x-api-key"), Some("client-id+1"));
}

#[test]
fn one_token_serves_many_calls_on_one_client() {
    let fake = FakeFlowService::start().unwrap();
    let client = Client::new(common::platform_with_ims(&fake)).unwrap();
    for _ in 0..3 {
        client.create_postgres_connection(&conn()).unwrap();
    }
    assert_eq!(ims_requests(&fake).len(), 1);
    for r in platform_requests(&fake) {
        assert_eq!(r.header("authorization"), Some("Bearer fake-ims-token-1"));
        assert_eq!(r.header("x-api-key"), Some(DEMO_CLIENT_ID));
    }
}

#[test]
fn the_token_is_renewed_five_minutes_before_it_expires() {
    let fake = FakeFlowService::builder()
        .ims_token_lifetime(Duration::from_secs(3600))
        .start()
        .unwrap();
    let clock = Arc::new(ManualClock::new());
    let client = Client::builder(common::platform_with_ims(&fake))
        .with_clock(Arc::new(common::TestClock(clock.clone())))
        .build()
        .unwrap();
    client.create_postgres_connection(&conn()).unwrap();
    // Just outside the margin: still reused.
    clock.advance(Duration::from_secs(3600) - RENEWAL_MARGIN - Duration::from_secs(1));
    client.create_postgres_connection(&conn()).unwrap();
    assert_eq!(ims_requests(&fake).len(), 1);
    // Inside the margin: renewed before use.
    clock.advance(Duration::from_secs(2));
    client.create_postgres_connection(&conn()).unwrap();
    assert_eq!(ims_requests(&fake).len(), 2);
    assert_eq!(
        bearer_headers(&fake),
        [
            "Bearer fake-ims-token-1",
            "Bearer fake-ims-token-1",
            "Bearer fake-ims-token-2"
        ]
    );
}

#[test]
fn a_401_renews_once_and_retries_once_even_for_a_create() {
    let fake = FakeFlowService::start().unwrap();
    let client = Client::new(common::platform_with_ims(&fake)).unwrap();
    client.create_postgres_connection(&conn()).unwrap();
    fake.revoke_tokens(); // the platform now answers 401 to token 1
    client.create_postgres_connection(&conn()).unwrap();
    assert_eq!(ims_requests(&fake).len(), 2);
    assert_eq!(
        bearer_headers(&fake),
        [
            "Bearer fake-ims-token-1",
            "Bearer fake-ims-token-1",
            "Bearer fake-ims-token-2"
        ]
    );
    assert_eq!(
        fake.connections().len(),
        2,
        "the rejected create made nothing"
    );
}

#[test]
fn a_second_401_is_returned_as_an_error() {
    let fake = FakeFlowService::start().unwrap();
    let client = Client::new(common::platform_with_ims(&fake)).unwrap();
    for _ in 0..2 {
        fake.push_reply(
            Reply::json(
                401,
                r#"{"error_code":"401013","message":"Oauth token is not valid"}"#,
            )
            .only_for("GET"),
        );
    }
    let err = client.get_connection(&id("abc")).unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((api.status, api.code.as_deref()), (401, Some("401013")));
    assert_eq!(ims_requests(&fake).len(), 2, "renewed once, not more");
    assert_eq!(platform_requests(&fake).len(), 2);
}

#[test]
fn a_static_token_is_never_renewed() {
    let fake = FakeFlowService::builder()
        .access_token("static-token-1")
        .start()
        .unwrap();
    let wrong = Platform::new(
        Secret::from("static-token-0"),
        "k",
        Sandbox {
            org_id: "o@AdobeOrg",
            name: "prod",
        },
    )
    .with_base_url(fake.base_url());
    let err = Client::new(wrong)
        .unwrap()
        .create_postgres_connection(&conn())
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(
        err.to_string().contains("access token was rejected"),
        "{err}"
    );
    assert_eq!(fake.requests().len(), 1);
    assert!(ims_requests(&fake).is_empty());
}

#[test]
fn invalid_client_is_reported_without_the_client_secret() {
    let fake = FakeFlowService::start().unwrap();
    let ims = ImsCredentials::new(
        DEMO_CLIENT_ID,
        Secret::from("wrong-canary-&secret"),
        DEMO_SCOPES,
    )
    .with_ims_url(fake.ims_url());
    let platform = Platform::from_ims(
        ims,
        Sandbox {
            org_id: "o@AdobeOrg",
            name: "prod",
        },
    )
    .with_base_url(fake.base_url());
    let err = Client::new(platform)
        .unwrap()
        .create_postgres_connection(&conn())
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.service, Service::Ims);
    assert_eq!(
        (api.status, api.code.as_deref()),
        (400, Some("invalid_client"))
    );
    let text = err.to_string();
    assert!(text.starts_with("Adobe IMS answered HTTP 400"), "{text}");
    assert!(
        text.contains("client secret"),
        "the hint says what to check: {text}"
    );
    assert!(!format!("{text} {err:?}").contains("canary"));
    assert!(
        platform_requests(&fake).is_empty(),
        "nothing went to the platform"
    );
}

#[test]
fn an_ims_that_echoes_the_form_leaks_nothing() {
    let fake = FakeFlowService::builder()
        .ims_client(DEMO_CLIENT_ID, "cs-canary-&=+ x")
        .start()
        .unwrap();
    fake.push_reply(Reply::echo(400).only_for("POST"));
    let ims = ImsCredentials::new(DEMO_CLIENT_ID, Secret::from("cs-canary-&=+ x"), DEMO_SCOPES)
        .with_ims_url(fake.ims_url());
    let platform = Platform::from_ims(
        ims,
        Sandbox {
            org_id: "o@AdobeOrg",
            name: "prod",
        },
    )
    .with_base_url(fake.base_url());
    let err = Client::new(platform)
        .unwrap()
        .create_postgres_connection(&conn())
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("client_secret="),
        "the echo is shown: {shown}"
    );
    assert!(!shown.contains("canary"), "{shown}");
}

#[test]
fn ims_urls_follow_the_https_rule_and_fields_are_checked() {
    let cases = [
        (
            ImsCredentials::new("id", Secret::from("s"), "openid")
                .with_ims_url("http://ims.example.com"),
            "ims.url",
        ),
        (
            ImsCredentials::new("", Secret::from("s"), "openid"),
            "ims.client_id",
        ),
        (
            ImsCredentials::new("id", Secret::from(""), "openid"),
            "ims.client_secret",
        ),
        (
            ImsCredentials::new("id", Secret::from("s"), ""),
            "ims.scopes",
        ),
    ];
    for (ims, field) in cases {
        let err = Client::new(Platform::from_ims(
            ims,
            Sandbox {
                org_id: "o@AdobeOrg",
                name: "prod",
            },
        ))
        .unwrap_err();
        let Error::InvalidInput { field: f, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(f, field);
    }
    let ims = ImsCredentials::new("id", Secret::from("s"), "openid");
    assert_eq!(ims.ims_url(), aep_flow::spec::DEFAULT_IMS_URL);
    let p = Platform::from_ims(
        ims,
        Sandbox {
            org_id: "o@AdobeOrg",
            name: "prod",
        },
    )
    .with_api_key("other-key");
    assert_eq!(p.api_key(), "other-key");
}

#[test]
fn a_garbled_token_answer_is_an_unexpected_response() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(
        Reply::json(200, r#"{"token_type":"bearer","expires_in":86399}"#).only_for("POST"),
    );
    let err = Client::new(common::platform_with_ims(&fake))
        .unwrap()
        .create_postgres_connection(&conn())
        .unwrap_err();
    assert!(err.to_string().contains("no access_token"), "{err}");
    assert!(platform_requests(&fake).is_empty());
}

#[test]
fn a_short_lived_token_is_renewed_at_half_life_not_every_call() {
    let fake = FakeFlowService::builder()
        .ims_token_lifetime(Duration::from_secs(120))
        .start()
        .unwrap();
    let clock = Arc::new(ManualClock::new());
    let client = Client::builder(common::platform_with_ims(&fake))
        .with_clock(Arc::new(common::TestClock(clock.clone())))
        .build()
        .unwrap();
    for _ in 0..3 {
        client.create_postgres_connection(&conn()).unwrap();
    }
    assert_eq!(ims_requests(&fake).len(), 1);
    clock.advance(Duration::from_secs(61));
    client.create_postgres_connection(&conn()).unwrap();
    assert_eq!(ims_requests(&fake).len(), 2);
}

#[test]
fn an_absurd_expires_in_neither_panics_nor_lives_forever() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(
        Reply::json(
            200,
            r#"{"access_token":"huge-lifetime-token","token_type":"bearer","expires_in":18446744073709551615}"#,
        )
        .only_for("POST"),
    );
    let clock = Arc::new(ManualClock::new());
    let client = Client::builder(common::platform_with_ims(&fake))
        .with_clock(Arc::new(common::TestClock(clock.clone())))
        .build()
        .unwrap();
    client.create_postgres_connection(&conn()).unwrap();
    // Capped at 24 hours: a day later it is renewed.
    clock.advance(Duration::from_secs(24 * 3600));
    client.create_postgres_connection(&conn()).unwrap();
    assert_eq!(ims_requests(&fake).len(), 2);
}

#[test]
fn a_failed_token_request_is_named_and_never_passes_for_a_lost_answer() {
    let fake = FakeFlowService::start().unwrap();
    // The token request's connection drops, on the first try and on each
    // retry (it creates nothing, so it is retried); the DELETE is never sent.
    for _ in 0..4 {
        fake.push_reply(Reply::close().only_for("POST"));
    }
    let err = Client::builder(common::platform_with_ims(&fake))
        .with_retry_backoff(Duration::from_millis(1))
        .build()
        .unwrap()
        .delete_connection(&id("never-existed"))
        .unwrap_err();
    assert_eq!(ims_requests(&fake).len(), 4, "the token request is retried");
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.delivery, aep_flow::Delivery::NotSent);
    assert!(
        err.to_string()
            .starts_with("connection failed: Adobe IMS token request"),
        "{err}"
    );
    assert!(!err.to_string().contains("may have reached"), "{err}");
    assert!(platform_requests(&fake).is_empty());
}

#[test]
fn a_non_bearer_token_is_refused() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(
        Reply::json(
            200,
            r#"{"access_token":"mac-token","token_type":"mac","expires_in":3600}"#,
        )
        .only_for("POST"),
    );
    let err = Client::new(common::platform_with_ims(&fake))
        .unwrap()
        .create_postgres_connection(&conn())
        .unwrap_err();
    assert!(err.to_string().contains("only bearer tokens"), "{err}");
    assert!(err.to_string().contains("Adobe IMS token request"), "{err}");
    assert!(platform_requests(&fake).is_empty());
}

/// An over-large token answer (review of the 1.0 pass, `docs` ad37b0a):
/// the error names the token request, keeps its typed kind, and does not
/// claim that the platform request, which was never sent, may have been
/// processed.
#[test]
fn an_over_large_ims_answer_still_names_the_token_request() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(Reply::huge(200, 4 * 1024 * 1024).only_for_path("/ims/token/v3"));
    let client = Client::builder(common::platform_with_ims(&fake))
        .with_retry_backoff(Duration::from_millis(5))
        .build()
        .unwrap();
    let err = client
        .list_connections(aep_flow::ConnectionFilter::new())
        .unwrap_err();
    assert!(
        fake.requests().iter().all(|r| r.path.contains("/ims/")),
        "the platform request was sent"
    );
    assert!(platform_requests(&fake).is_empty());
    assert!(
        err.to_string().contains("Adobe IMS token request"),
        "the error no longer says the token request failed: {err}"
    );
    assert!(err.is_too_large(), "{err:?}");
    assert!(
        !err.may_have_been_processed(),
        "the platform request was never sent: {err}"
    );
}
