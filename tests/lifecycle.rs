//! list / get / test / delete / ensure / rotate against the stateful fake.

mod common;
use common::id;

use std::time::Duration;

use aep_flow::PostgresLogin;
use aep_flow::{
    spec::BASIC_AUTH, spec::CONNECTION_STRING_AUTH, Client, ConnectionFilter, ConnectionId, Error,
    PostgresConnection, PostgresCredentials, Secret, SslMode,
};
use aep_flow_testing::{FakeFlowService, Reply};
use serde_json::json;

const CANARY: &str = "stored-canary-pw-7Gq2";

fn client(fake: &FakeFlowService) -> Client {
    Client::builder(common::platform(fake))
        .with_retry_backoff(Duration::from_millis(10))
        .build()
        .unwrap()
}

fn conn(name: &str) -> PostgresConnection {
    PostgresConnection::new(
        name,
        PostgresLogin {
            server: "db.internal",
            database: "orders",
            username: "etl",
            password: Secret::from("pw-1"),
        },
    )
}

/// Credentials for a rotation (the SSL mode is required).
fn rotation() -> PostgresCredentials {
    PostgresCredentials::new(PostgresLogin {
        server: "db.internal",
        database: "orders",
        username: "etl",
        password: Secret::from("pw-1"),
    })
    .with_ssl_mode(SslMode::Require)
}

fn insert_cs(fake: &FakeFlowService, name: &str) -> ConnectionId {
    id(&fake.insert_connection(
        name,
        CONNECTION_STRING_AUTH,
        json!({"connectionString": format!("Server=db;Database=d;Port=5432;UID=u;Password={CANARY}")}),
    ))
}

#[test]
fn listing_follows_every_page() {
    let fake = FakeFlowService::builder().max_page_size(2).start().unwrap();
    let ids: Vec<ConnectionId> = (0..7)
        .map(|i| insert_cs(&fake, &format!("conn-{i}")))
        .collect();
    let all = client(&fake)
        .list_connections(ConnectionFilter::new())
        .unwrap();
    assert_eq!(all.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), ids);
    let requests = fake.requests();
    assert_eq!(requests.len(), 4, "7 items in pages of 2");
    assert!(requests[0]
        .path
        .starts_with("/data/foundation/flowservice/connections?limit=50"));
    for (i, r) in requests.iter().enumerate().skip(1) {
        assert!(
            r.path
                .contains(&format!("continuationToken=fake-offset-{}", i * 2)),
            "{}",
            r.path
        );
    }
}

#[test]
fn listing_filters_by_name_and_spec_and_honours_the_cap() {
    let fake = FakeFlowService::builder().max_page_size(2).start().unwrap();
    for i in 0..5 {
        insert_cs(&fake, &format!("conn-{i}"));
    }
    insert_cs(&fake, "wanted; name & more");
    let c = client(&fake);
    let found = c
        .list_connections(
            ConnectionFilter::new()
                .with_name("wanted; name & more")
                .postgres(),
        )
        .unwrap();
    assert_eq!(found.len(), 1);
    let query = fake.requests().last().unwrap().path.clone();
    assert!(
        query.contains("property=name%3D%3Dwanted%3B%20name%20%26%20more"),
        "{query}"
    );
    assert!(
        query.contains("property=connectionSpec.id%3D%3D74a1c565-4e59-48d7-9d67-7c03b8a13137"),
        "{query}"
    );

    let capped = c
        .list_connections(ConnectionFilter::new().with_max_items(3))
        .unwrap();
    assert_eq!(capped.len(), 3);

    let none = c
        .list_connections(ConnectionFilter::new().with_connection_spec_id("another-spec"))
        .unwrap();
    assert!(none.is_empty());

    let err = c
        .list_connections(ConnectionFilter::new().with_page_size(0))
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
}

#[test]
fn a_next_link_to_another_host_is_not_followed() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(Reply::json(
        200,
        r#"{"items": [], "_links": {"next": {"href": "https://evil.example/connections?continuationToken=x"}}}"#,
    ));
    let err = client(&fake)
        .list_connections(ConnectionFilter::new())
        .unwrap_err();
    assert!(err.to_string().contains("refusing to follow"), "{err}");
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn get_returns_a_typed_connection_without_any_auth_parameter() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "orders");
    let c = client(&fake).get_connection(&id).unwrap();
    assert_eq!(c.id, id);
    assert_eq!(c.name, "orders");
    assert_eq!(c.state.as_deref(), Some("enabled"));
    assert_eq!(c.etag, fake.connections()[0].etag);
    assert!(c.etag.starts_with('"') && c.etag.ends_with('"'));
    assert_eq!(
        c.connection_spec_id.as_deref(),
        Some(aep_flow::spec::POSTGRES_CONNECTION_SPEC_ID)
    );
    assert_eq!(c.auth_spec_name.as_deref(), Some(CONNECTION_STRING_AUTH));
    assert!(c.created_at.is_some() && c.updated_at.is_some());
    let shown = format!("{c:?}");
    assert!(!shown.contains("canary"), "{shown}");
    // The stored params really did hold the canary.
    assert!(format!("{}", fake.connections()[0].params).contains(CANARY));
    assert!(!format!("{:?}", fake.connections()[0]).contains("canary"));
}

#[test]
fn get_of_a_missing_connection_is_not_found() {
    let fake = FakeFlowService::start().unwrap();
    let err = client(&fake).get_connection(&id("no-such-id")).unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { id, .. } if id == "no-such-id"),
        "{err:?}"
    );
    // A bad id cannot be made: refused at parse time, naming the kind.
    let err = "../etc".parse::<ConnectionId>().unwrap_err();
    assert_eq!(err.kind(), "connection id");
    assert_eq!(fake.requests().len(), 1, "a bad id is not sent");
}

#[test]
fn test_connection_reports_the_result() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "orders");
    let c = client(&fake);
    assert!(c.test_connection(&id).unwrap());
    fake.modify_connection(id.as_str(), |s| s.test_result = false);
    assert!(!c.test_connection(&id).unwrap());
    assert_eq!(
        fake.requests()[0].path,
        format!("/data/foundation/flowservice/connections/{id}/test")
    );
    assert_eq!(fake.requests()[0].method, "GET");
}

#[test]
fn delete_success_not_found_and_in_use_are_distinct() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "orders");
    let busy = insert_cs(&fake, "busy");
    fake.modify_connection(busy.as_str(), |s| s.in_use = true);
    let c = client(&fake);
    c.delete_connection(&id).unwrap();
    assert_eq!(fake.connections().len(), 1);
    assert_eq!(fake.requests()[0].method, "DELETE");

    let err = c.delete_connection(&id).unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(err.to_string().contains("not found"), "{err}");

    let err = c.delete_connection(&busy).unwrap_err();
    assert!(err.is_in_use(), "{err:?}");
    assert!(err.to_string().contains("still in use"), "{err}");
    assert_eq!(fake.connections().len(), 1);
}

#[test]
fn idempotent_calls_are_retried_on_503() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "orders");
    fake.push_reply(Reply::new(503));
    fake.push_reply(Reply::new(502));
    fake.push_reply(Reply::new(504));
    let c = client(&fake).get_connection(&id).unwrap();
    assert_eq!(c.id, id);
    assert_eq!(fake.requests().len(), 4);
}

#[test]
fn ensure_creates_when_absent_and_finds_it_the_second_time() {
    let fake = FakeFlowService::start().unwrap();
    let c = client(&fake);
    let first = c.ensure_postgres_connection(&conn("nightly")).unwrap();
    assert!(first.created);
    let second = c.ensure_postgres_connection(&conn("nightly")).unwrap();
    assert!(!second.created);
    assert_eq!((second.id(), second.etag()), (first.id(), first.etag()));
    assert_eq!(fake.connections().len(), 1, "a second run made a duplicate");
}

#[test]
fn ensure_finds_a_match_on_a_later_page() {
    // This fake ignores the name filter, so the match is only on page 3.
    let fake = FakeFlowService::builder()
        .max_page_size(2)
        .ignore_property_filters()
        .start()
        .unwrap();
    for i in 0..4 {
        insert_cs(&fake, &format!("other-{i}"));
    }
    let id = insert_cs(&fake, "nightly");
    let ensured = client(&fake)
        .ensure_postgres_connection(&conn("nightly"))
        .unwrap();
    assert!(!ensured.created);
    assert_eq!(ensured.id(), &id);
    assert_eq!(fake.requests().len(), 3);
    assert!(fake.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn ensure_after_a_lost_create_answer_returns_the_connection_that_was_made() {
    let fake = FakeFlowService::start().unwrap();
    // The fake stores the connection, then answers 502.
    fake.push_reply(Reply::after_processing(Reply::new(502)).only_for("POST"));
    let ensured = client(&fake)
        .ensure_postgres_connection(&conn("nightly"))
        .unwrap();
    assert!(ensured.created);
    let stored = fake.connections();
    assert_eq!(stored.len(), 1);
    assert_eq!(ensured.id(), stored[0].id);
    let methods: Vec<String> = fake.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(
        methods,
        ["GET", "POST", "GET"],
        "the create is sent once, then looked up"
    );
}

#[test]
fn ensure_after_a_create_that_was_not_made_returns_the_error() {
    let fake = FakeFlowService::start().unwrap();
    fake.push_reply(Reply::new(503).only_for("POST"));
    let err = client(&fake)
        .ensure_postgres_connection(&conn("nightly"))
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(fake.connections().is_empty());
}

#[test]
fn rotation_sends_the_exact_etag_and_a_json_patch_for_each_auth_spec() {
    let fake = FakeFlowService::start().unwrap();
    let cs = insert_cs(&fake, "cs");
    let basic: ConnectionId = id(&fake.insert_connection(
        "basic",
        BASIC_AUTH,
        json!({"server": "db", "port": "5432", "database": "d", "username": "u", "password": CANARY}),
    ));
    let c = client(&fake);
    // Each connection keeps its own auth spec; every parameter is replaced.
    let new_creds = PostgresCredentials::new(PostgresLogin {
        server: "db2.internal",
        database: "orders",
        username: "etl",
        password: Secret::from("new;pw}"),
    })
    .with_port(6432)
    .with_ssl_mode(SslMode::VerifyFull);

    for (id, expected_params) in [
        (
            &cs,
            json!({"connectionString": "Server=db2.internal;Database=orders;Port=6432;UID=etl;Password={new;pw}}};EncryptionMethod=1;ValidateServerCertificate=1"}),
        ),
        (
            &basic,
            json!({"server": "db2.internal", "port": "6432", "database": "orders", "username": "etl", "password": "new;pw}", "sslMode": "Verify-Full"}),
        ),
    ] {
        let before = fake
            .connections()
            .into_iter()
            .find(|s| s.id == *id)
            .unwrap()
            .etag;
        let updated = c.update_postgres_credentials(id, &new_creds).unwrap();
        let after = fake
            .connections()
            .into_iter()
            .find(|s| s.id == *id)
            .unwrap();
        assert_eq!(&updated.id, id);
        assert_eq!(updated.etag, after.etag);
        assert_ne!(updated.etag, before);
        assert_eq!(after.params, expected_params);
        let patch = fake
            .requests()
            .into_iter()
            .rfind(|r| r.method == "PATCH")
            .unwrap();
        assert_eq!(
            patch.header("if-match"),
            Some(before.as_str()),
            "If-Match byte for byte"
        );
        assert_eq!(patch.header("content-type"), Some("application/json"));
        assert_eq!(
            patch.json(),
            json!([{"op": "replace", "path": "/auth/params", "value": expected_params}])
        );
    }
}

#[test]
fn rotation_recovers_once_from_a_stale_etag() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "cs");
    let c = client(&fake);
    fake.push_reply(
        Reply::json(412, r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1404-412","title":"Precondition Failed"}"#)
            .only_for("PATCH"),
    );
    let updated = c.update_postgres_credentials(&id, &rotation()).unwrap();
    assert_eq!(updated.etag, fake.connections()[0].etag);
    let methods: Vec<String> = fake.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET", "PATCH", "GET", "PATCH"]);

    // Stale twice: the second 412 is returned.
    for _ in 0..2 {
        fake.push_reply(Reply::json(412, "{}").only_for("PATCH"));
    }
    let err = c.update_postgres_credentials(&id, &rotation()).unwrap_err();
    assert_eq!(err.status(), Some(412));
}

#[test]
fn rotation_errors_never_show_the_new_password() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "cs");
    fake.push_reply(Reply::echo(400).only_for("PATCH"));
    let creds = PostgresCredentials::new(PostgresLogin {
        server: "db",
        database: "d",
        username: "u",
        password: Secret::from("rotated-canary-pw"),
    })
    .with_ssl_mode(SslMode::Require);
    let err = client(&fake)
        .update_postgres_credentials(&id, &creds)
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("canary"), "{shown}");
    assert!(err.to_string().contains("PATCH"), "{err}");
}

#[test]
fn a_delete_whose_answer_was_lost_is_not_reported_as_not_found() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "orders");
    // Deleted, but the answer is a 502; the retry then meets a 404.
    fake.push_reply(Reply::after_processing(Reply::new(502)).only_for("DELETE"));
    client(&fake).delete_connection(&id).unwrap();
    assert!(fake.connections().is_empty());
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn a_404_after_a_429_retry_is_still_not_found() {
    let fake = FakeFlowService::start().unwrap();
    // A 429 was not processed: the 404 that follows is the truth.
    fake.push_reply(
        Reply::new(429)
            .header("Retry-After", "0")
            .only_for("DELETE"),
    );
    let err = client(&fake)
        .delete_connection(&id("never-existed"))
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn ensure_after_a_create_whose_connection_dropped_or_went_silent() {
    for lost in [Reply::close(), Reply::silent(Duration::from_secs(10))] {
        let fake = FakeFlowService::start().unwrap();
        fake.push_reply(Reply::after_processing(lost).only_for("POST"));
        let c = Client::builder(common::platform(&fake))
            .with_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let ensured = c.ensure_postgres_connection(&conn("nightly")).unwrap();
        assert!(ensured.created);
        assert_eq!(fake.connections().len(), 1);
        assert_eq!(ensured.id(), fake.connections()[0].id);
        let methods: Vec<String> = fake.requests().iter().map(|r| r.method.clone()).collect();
        assert_eq!(methods, ["GET", "POST", "GET"]);
    }
}

#[test]
fn rotation_after_a_stale_read_sends_the_fresh_etag() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "cs");
    let current = fake.connections()[0].etag.clone();
    // The first read returns an etag that someone else has since replaced:
    // the fake's own If-Match check answers 412, the client reads again.
    fake.push_reply(
        Reply::json(
            200,
            json!({"items": [{
                "id": id, "name": "cs", "etag": "\"stale-etag\"",
                "connectionSpec": {"id": aep_flow::spec::POSTGRES_CONNECTION_SPEC_ID, "version": "1.0"},
                "auth": {"specName": CONNECTION_STRING_AUTH},
            }]})
            .to_string(),
        )
        .only_for("GET"),
    );
    let updated = client(&fake)
        .update_postgres_credentials(&id, &rotation())
        .unwrap();
    assert_eq!(updated.etag, fake.connections()[0].etag);
    let if_match: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.header("if-match").unwrap().to_owned())
        .collect();
    assert_eq!(if_match, ["\"stale-etag\"".to_owned(), current]);
}

#[test]
fn rotation_refuses_a_connection_without_a_usable_etag() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "cs");
    for etag in ["", "\"bad\u{7}etag\""] {
        fake.modify_connection(id.as_str(), |c| c.etag = etag.to_owned());
        let err = client(&fake)
            .update_postgres_credentials(&id, &rotation())
            .unwrap_err();
        assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
        assert!(err.to_string().contains("an etag that is not"), "{err}");
    }
    assert!(fake.requests().iter().all(|r| r.method != "PATCH"));
}

#[test]
fn a_rotation_that_meets_a_5xx_is_not_sent_again() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "cs");
    fake.push_reply(Reply::new(503).only_for("PATCH"));
    let err = client(&fake)
        .update_postgres_credentials(&id, &rotation())
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    let patches = fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 1, "a PATCH that may have landed was sent again");
}

#[test]
fn a_rotation_with_bad_credentials_reads_nothing() {
    let fake = FakeFlowService::start().unwrap();
    let id = insert_cs(&fake, "cs");
    let bad = PostgresCredentials::new(PostgresLogin {
        server: "db",
        database: "",
        username: "u",
        password: Secret::from("pw"),
    })
    .with_ssl_mode(SslMode::Require);
    let err = client(&fake)
        .update_postgres_credentials(&id, &bad)
        .unwrap_err();
    assert!(err.to_string().contains("postgres.database"), "{err}");
    assert!(fake.requests().is_empty());
}
