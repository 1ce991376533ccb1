//! The client core driven through the resource calls over the in-memory
//! transport: retries, the deadline, error mapping, paging, link guards,
//! If-Match. No socket. (The core alone: `client/tests.rs`.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::test_support::{client_on, client_with};
use crate::error::{Delivery, Error, TransportError, TransportErrorKind};
use crate::ids::id;
use crate::secret::Secret;
use crate::transport::memory::MemoryTransport;
use crate::wire::response::RawResponse;
use crate::PostgresLogin;
use crate::{ConnectionFilter, PostgresCredentials, SslMode};

fn page(ids: &[&str], next: Option<&str>) -> String {
    let items: Vec<_> = ids
        .iter()
        .map(|id| {
            serde_json::json!({"id": id, "name": format!("n-{id}"), "etag": "\"e\"",
            "connectionSpec": {"id": crate::resources::postgres::POSTGRES_CONNECTION_SPEC_ID}})
        })
        .collect();
    let mut body = serde_json::json!({ "items": items });
    if let Some(n) = next {
        body["_links"] = serde_json::json!({"next": {"href": n}});
    }
    body.to_string()
}

const NEXT: &str = "/data/foundation/flowservice/connections?limit=50&continuationToken=";

#[test]
fn every_request_carries_the_platform_headers() {
    let t = Arc::new(MemoryTransport::default());
    t.reply(200, &page(&["a"], None));
    let c = client_on(&t);
    c.get_connection(&id("a")).unwrap();
    let seen = &t.seen()[0];
    assert_eq!(
        seen.url,
        "https://flow.example/data/foundation/flowservice/connections/a"
    );
    assert_eq!(seen.header("authorization"), Some("Bearer tok-canary-99"));
    assert_eq!(seen.header("x-api-key"), Some("key"));
    assert_eq!(seen.header("x-gw-ims-org-id"), Some("ORG@AdobeOrg"));
    assert_eq!(seen.header("x-sandbox-name"), Some("prod"));
    assert!(!seen.close, "a GET holds no secret");
    assert!(!seen.secret_body);
}

#[test]
fn a_429_is_retried_after_its_retry_after_and_a_create_is_not_repeated_after_a_502() {
    let t = Arc::new(MemoryTransport::default());
    t.reply_retry_after(429, "", Duration::from_millis(5))
        .reply(201, r#"{"id":"new","etag":"\"1\""}"#);
    let c = client_on(&t);
    let conn = crate::PostgresConnection::new(
        "n",
        PostgresLogin {
            server: "h",
            database: "d",
            username: "u",
            password: Secret::from("pw"),
        },
    );
    assert_eq!(c.create_postgres_connection(&conn).unwrap().id, "new");
    assert_eq!(t.seen().len(), 2);
    assert!(
        t.seen()[1].close,
        "a body with a password closes the connection"
    );

    t.reply(502, r#"{"title":"bad gateway"}"#);
    let err = c.create_postgres_connection(&conn).unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(err.may_have_been_processed());
    assert_eq!(t.seen().len(), 3, "a create is never repeated after a 502");
}

#[test]
fn idempotent_calls_retry_502_and_lost_answers_then_give_up_with_the_count() {
    let t = Arc::new(MemoryTransport::default());
    t.reply(503, "")
        .fail(TransportErrorKind::Io, Delivery::Unknown)
        .reply(200, &page(&["a"], None));
    let c = client_on(&t);
    assert_eq!(c.get_connection(&id("a")).unwrap().id, "a");
    assert_eq!(t.seen().len(), 3);

    for _ in 0..4 {
        t.reply(504, "");
    }
    let err = c.get_connection(&id("a")).unwrap_err();
    match &err {
        Error::Api(api) => assert_eq!((api.status, api.attempts), (504, 4)),
        other => panic!("{other}"),
    }
}

#[test]
fn failures_before_sending_are_retried_but_a_bad_certificate_is_not() {
    let t = Arc::new(MemoryTransport::default());
    t.fail(TransportErrorKind::Dns, Delivery::NotSent)
        .fail(TransportErrorKind::Connect, Delivery::NotSent)
        .reply(201, r#"{"id":"x","etag":"\"1\""}"#);
    let c = client_on(&t);
    let conn = crate::PostgresConnection::new(
        "n",
        PostgresLogin {
            server: "h",
            database: "d",
            username: "u",
            password: Secret::from("pw"),
        },
    );
    c.create_postgres_connection(&conn).unwrap();
    assert_eq!(t.seen().len(), 3);

    t.fail(TransportErrorKind::Tls, Delivery::NotSent);
    let err = c.get_connection(&id("x")).unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(t.seen().len(), 4);
}

#[test]
fn a_retry_after_beyond_the_budget_fails_at_once() {
    let t = Arc::new(MemoryTransport::default());
    t.reply_retry_after(429, "", Duration::from_secs(3600));
    let c = client_on(&t);
    let started = Instant::now();
    let err = c.get_connection(&id("a")).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
}

#[test]
fn the_deadline_bounds_retries_and_every_attempt() {
    let t = Arc::new(MemoryTransport::default());
    let timeouts = Arc::new(std::sync::Mutex::new(Vec::new()));
    for _ in 0..10 {
        let timeouts = Arc::clone(&timeouts);
        t.then(move |_| {
            timeouts.lock().unwrap().push(());
            std::thread::sleep(Duration::from_millis(40));
            Err(Error::Transport(TransportError {
                kind: TransportErrorKind::Connect,
                delivery: Delivery::NotSent,
                detail: "refused".into(),
                attempts: 1,
                write: false,
            }))
        });
    }
    let c = client_with(&t, |b| {
        b.with_max_retries(10)
            .with_retry_backoff(Duration::from_millis(30))
            .with_deadline(Instant::now() + Duration::from_millis(150))
    });
    let started = Instant::now();
    let err = c.get_connection(&id("a")).unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(400), "{err}");
    assert!(timeouts.lock().unwrap().len() < 5);
    // Once the deadline has passed, nothing more is sent.
    let before = t.seen().len();
    std::thread::sleep(Duration::from_millis(160));
    let err = c.get_connection(&id("a")).unwrap_err();
    assert!(err.to_string().contains("deadline"), "{err}");
    assert_eq!(t.seen().len(), before);
}

#[test]
fn paging_follows_links_on_short_pages_until_there_is_no_next() {
    // 10 items a page under a page size of 50, 2 100 items: today's page
    // cap (max/size + 2 = 202 pages) would have refused this.
    let t = Arc::new(MemoryTransport::default());
    let pages = 210;
    for p in 0..pages {
        let ids: Vec<String> = (0..10).map(|i| format!("c{p}-{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let next = (p + 1 < pages).then(|| format!("{NEXT}t{p}"));
        t.reply(200, &page(&ids, next.as_deref()));
    }
    let c = client_on(&t);
    let all = c.list_connections(ConnectionFilter::new()).unwrap();
    assert_eq!(all.len(), 2100);
    assert_eq!(t.seen().len(), pages);
    assert!(t.seen()[1].url.ends_with("continuationToken=t0"));
}

#[test]
fn a_loop_of_pages_is_refused_on_the_first_repeat() {
    // A -> B -> A: refused when the link back to A arrives, after 2 pages.
    let t = Arc::new(MemoryTransport::default());
    t.reply(200, &page(&["a"], Some(&format!("{NEXT}B"))));
    t.reply(
        200,
        &page(
            &["b"],
            Some("/data/foundation/flowservice/connections?limit=50"),
        ),
    );
    let c = client_on(&t);
    let err = c.list_connections(ConnectionFilter::new()).unwrap_err();
    assert!(err.to_string().contains("loops"), "{err}");
    assert_eq!(t.seen().len(), 2);
}

#[test]
fn a_continuation_token_without_links_is_followed_and_looping_tokens_are_refused() {
    let t = Arc::new(MemoryTransport::default());
    t.reply(
        200,
        r#"{"items":[{"id":"a"}],"_page":{"continuationToken":"T1"}}"#,
    )
    .reply(
        200,
        r#"{"items":[{"id":"b"}],"_page":{"continuationToken":"T1"}}"#,
    );
    let c = client_on(&t);
    let mut it = c.connections(ConnectionFilter::new());
    assert_eq!(it.next().unwrap().unwrap().id, "a");
    assert_eq!(it.next().unwrap().unwrap().id, "b");
    assert!(it.next().unwrap().is_err());
    assert!(it.next().is_none());
    assert!(t.seen()[1].url.ends_with("&continuationToken=T1"));
}

#[test]
fn endless_empty_pages_stop() {
    let t = Arc::new(MemoryTransport::default());
    for p in 0..150 {
        t.reply(200, &page(&[], Some(&format!("{NEXT}e{p}"))));
    }
    let err = client_on(&t)
        .list_connections(ConnectionFilter::new())
        .unwrap_err();
    assert!(err.to_string().contains("without an item"), "{err}");
    assert_eq!(t.seen().len(), 100);
}

#[test]
fn filter_extremes_do_not_panic_and_the_item_cap_stops_paging() {
    let t = Arc::new(MemoryTransport::default());
    t.reply(200, &page(&["a"], Some(&format!("{NEXT}1"))))
        .reply(200, &page(&["b"], Some(&format!("{NEXT}2"))));
    let c = client_on(&t);
    let all = c
        .list_connections(
            ConnectionFilter::new()
                .with_page_size(1)
                .with_max_items(usize::MAX),
        )
        .unwrap_err();
    // The script ran out: the fake's "no scripted answer" is the third page.
    assert_eq!(all.status(), Some(599));
    let t = Arc::new(MemoryTransport::default());
    t.reply(200, &page(&["a", "b", "c"], Some(&format!("{NEXT}1"))));
    let two = client_on(&t)
        .list_connections(ConnectionFilter::new().with_max_items(2))
        .unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(t.seen().len(), 1, "the cap stops before another page");
}

#[test]
fn next_links_outside_the_collection_or_with_odd_characters_are_the_services_fault() {
    for href in [
        "https://evil.example/data/foundation/flowservice/connections?x=1",
        "/data/foundation/flowservice/flows?x=1",
        "/data/foundation/flowservice/connections?x=\"1\"",
        "/data/foundation/flowservice/connections?x=1|2",
        "/data/foundation/flowservice/connections?x=caf\u{e9}",
        "/data/foundation/flowservice/connections?x=1\r\nX-Evil: 1",
    ] {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &page(&["a"], Some(href)));
        let err = client_on(&t)
            .list_connections(ConnectionFilter::new())
            .unwrap_err();
        assert!(
            matches!(err, Error::UnexpectedResponse { .. }),
            "{href}: {err}"
        );
        assert!(!err.is_invalid_input(), "{href}: not the user's fault");
        assert_eq!(t.seen().len(), 1, "{href}");
    }
}

#[test]
fn filters_the_syntax_cannot_carry_are_matched_locally() {
    let t = Arc::new(MemoryTransport::default());
    let body = serde_json::json!({"items": [
        {"id": "1", "name": "a,b", "etag": "\"e\"", "connectionSpec": {"id": crate::resources::postgres::POSTGRES_CONNECTION_SPEC_ID}},
        {"id": "2", "name": "a", "etag": "\"e\"", "connectionSpec": {"id": crate::resources::postgres::POSTGRES_CONNECTION_SPEC_ID}},
    ]});
    t.reply(200, &body.to_string());
    let c = client_on(&t);
    let found = c.find_postgres_connection("a,b").unwrap().unwrap();
    assert_eq!(found.id, "1");
    let url = &t.seen()[0].url;
    assert!(!url.contains("property=name"), "{url}");
    assert!(url.contains("property=connectionSpec.id%3D%3D"), "{url}");
    t.reply(200, &body.to_string());
    c.find_postgres_connection("plain").unwrap();
    assert!(t.seen()[1].url.contains("property=name%3D%3Dplain"));
}

#[test]
fn a_get_answered_with_another_id_is_unexpected() {
    let t = Arc::new(MemoryTransport::default());
    t.reply(200, &page(&["other"], None));
    let err = client_on(&t).get_connection(&id("asked")).unwrap_err();
    assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err}");
    t.reply(200, r#"{"items":[]}"#);
    let err = client_on(&t).get_connection(&id("asked")).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

#[test]
fn ids_and_etags_from_the_service_must_be_printable() {
    let t = Arc::new(MemoryTransport::default());
    let conn = crate::PostgresConnection::new(
        "n",
        PostgresLogin {
            server: "h",
            database: "d",
            username: "u",
            password: Secret::from("pw"),
        },
    );
    for body in [
        r#"{"id":"x\u001b[31m\r\nSet-Cookie: a","etag":"\"1\""}"#,
        r#"{"id":"ok","etag":"\"1\"\r\n"}"#,
        r#"{"id":"caf\u00e9","etag":"\"1\""}"#,
    ] {
        t.reply(201, body);
        let err = client_on(&t).create_postgres_connection(&conn).unwrap_err();
        assert!(
            matches!(err, Error::UnexpectedResponse { status: 201, .. }),
            "{err}"
        );
        assert!(err.may_have_been_processed(), "a 201 means it was made");
        assert!(!err.to_string().contains('\u{1b}'));
    }
    t.reply(200, r#"{"items":[{"id":"a\u0007b","etag":"\"1\""}]}"#);
    assert!(client_on(&t)
        .list_connections(ConnectionFilter::new())
        .is_err());
}

#[test]
fn rotation_sends_if_match_and_rereads_once_on_412() {
    let t = Arc::new(MemoryTransport::default());
    let item = |etag: &str| {
        serde_json::json!({"items": [{"id": "c1", "etag": etag,
            "connectionSpec": {"id": crate::resources::postgres::POSTGRES_CONNECTION_SPEC_ID},
            "auth": {"specName": crate::resources::postgres::BASIC_AUTH}}]})
        .to_string()
    };
    t.reply(200, &item("\"v1\""))
        .reply(412, r#"{"type":"x/FLOW-1404-412","title":"stale"}"#)
        .reply(200, &item("\"v2\""))
        .reply(200, r#"{"id":"c1","etag":"\"v3\""}"#);
    let creds = PostgresCredentials::new(PostgresLogin {
        server: "h",
        database: "d",
        username: "u",
        password: Secret::from("new-pw"),
    })
    .with_ssl_mode(SslMode::VerifyFull);
    let saved = client_on(&t)
        .update_postgres_credentials(&id("c1"), &creds)
        .unwrap();
    assert_eq!(saved.etag, "\"v3\"");
    let seen = t.seen();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[1].header("if-match"), Some("\"v1\""));
    assert_eq!(seen[3].header("if-match"), Some("\"v2\""));
    assert_eq!(seen[3].json()[0]["value"]["sslMode"], "Verify-Full");

    // A second 412 is the caller's to handle.
    t.reply(200, &item("\"v1\""))
        .reply(412, "")
        .reply(200, &item("\"v2\""))
        .reply(412, "");
    let err = client_on(&t)
        .update_postgres_credentials(&id("c1"), &creds)
        .unwrap_err();
    assert_eq!(err.status(), Some(412));
}

#[test]
fn rotation_without_an_ssl_mode_is_refused_before_anything_is_sent() {
    let t = Arc::new(MemoryTransport::default());
    let creds = PostgresCredentials::new(PostgresLogin {
        server: "h",
        database: "d",
        username: "u",
        password: Secret::from("pw"),
    });
    let err = client_on(&t)
        .update_postgres_credentials(&id("c1"), &creds)
        .unwrap_err();
    match err {
        Error::InvalidInput { field, .. } => assert_eq!(field, "postgres.ssl_mode"),
        other => panic!("{other}"),
    }
    assert!(t.seen().is_empty());
}

/// An empty etag is read like a missing one (both are stored as ""); any
/// other etag is still checked, and a write that needs one refuses both.
#[test]
fn an_empty_etag_is_read_like_a_missing_one() {
    let t = Arc::new(MemoryTransport::default());
    let c = client_on(&t);
    let spec = crate::resources::postgres::POSTGRES_CONNECTION_SPEC_ID;
    let blank = serde_json::json!({"id": "c1", "etag": "", "connectionSpec": {"id": spec}});
    let mut missing = blank.clone();
    missing.as_object_mut().unwrap().remove("etag");
    for item in [&blank, &missing] {
        let page = serde_json::json!({ "items": [item] }).to_string();
        t.reply(200, &page).reply(200, &page);
        assert_eq!(c.get_connection(&id("c1")).unwrap().etag, "");
        let listed = c.list_connections(ConnectionFilter::new()).unwrap();
        assert_eq!(listed[0].etag, "");
        // The rotation needs an etag for If-Match: refused, nothing written.
        t.reply(200, &page);
        let creds = PostgresCredentials::new(PostgresLogin {
            server: "h",
            database: "d",
            username: "u",
            password: Secret::from("pw"),
        })
        .with_ssl_mode(SslMode::Require);
        let err = c
            .update_postgres_credentials(&id("c1"), &creds)
            .unwrap_err();
        assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
        assert!(err.to_string().contains("an etag that is not"), "{err}");
    }
    assert!(t.seen().iter().all(|s| s.method == "GET"));
    // A non-empty etag is checked as before, by a get and by a listing.
    let bad = r#"{"items":[{"id":"c1","etag":"\"bad etag\""}]}"#;
    t.reply(200, bad).reply(200, bad);
    let err = c.get_connection(&id("c1")).unwrap_err();
    assert!(err.to_string().contains("an etag that is not"), "{err}");
    let err = c.list_connections(ConnectionFilter::new()).unwrap_err();
    assert!(err.to_string().contains("an etag that is not"), "{err}");
    assert_eq!(t.remaining(), 0);
}

#[test]
fn rotating_a_connection_of_another_spec_says_nothing_was_written() {
    let t = Arc::new(MemoryTransport::default());
    t.reply(
        200,
        r#"{"items":[{"id":"c1","etag":"\"1\"","connectionSpec":{"id":"other-spec"}}]}"#,
    );
    let creds = PostgresCredentials::new(PostgresLogin {
        server: "h",
        database: "d",
        username: "u",
        password: Secret::from("pw"),
    })
    .with_ssl_mode(SslMode::Require);
    let err = client_on(&t)
        .update_postgres_credentials(&id("c1"), &creds)
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("nothing was written"), "{text}");
    assert!(!text.contains("nothing was sent"), "{text}");
    assert_eq!(t.seen().len(), 1);
}

#[test]
fn delete_maps_404_and_in_use_and_forgives_404_after_a_lost_answer() {
    let t = Arc::new(MemoryTransport::default());
    t.reply(404, r#"{"title":"not found"}"#);
    let c = client_on(&t);
    assert!(matches!(
        c.delete_connection(&id("a")).unwrap_err(),
        Error::NotFound { .. }
    ));
    t.reply(
        400,
        r#"{"type":"https://ns.adobe.com/aep/errors/FLOW-1418-400","title":"in use"}"#,
    );
    assert!(matches!(
        c.delete_connection(&id("a")).unwrap_err(),
        Error::InUse { .. }
    ));
    t.fail(TransportErrorKind::Io, Delivery::Unknown)
        .reply(404, "");
    c.delete_connection(&id("a")).unwrap();
}

#[test]
fn ensure_looks_again_after_a_lost_create() {
    let t = Arc::new(MemoryTransport::default());
    t.reply(200, r#"{"items":[]}"#)
        .fail(TransportErrorKind::Timeout, Delivery::Unknown)
        .reply(200, &page(&["made"], None).replace("n-made", "n"));
    let conn = crate::PostgresConnection::new(
        "n",
        PostgresLogin {
            server: "h",
            database: "d",
            username: "u",
            password: Secret::from("pw"),
        },
    );
    let ensured = client_on(&t).ensure_postgres_connection(&conn).unwrap();
    assert_eq!((ensured.id().as_str(), ensured.created), ("made", true));
    assert_eq!(t.seen().len(), 3);
    assert_eq!(t.remaining(), 0);
}

#[test]
fn concurrent_ensures_of_one_name_in_one_client_create_once() {
    let t = Arc::new(MemoryTransport::default());
    let created = Arc::new(AtomicUsize::new(0));
    // A tiny stateful service: list shows what was created.
    for _ in 0..40 {
        let created = Arc::clone(&created);
        t.then(move |seen| {
            std::thread::sleep(Duration::from_millis(2));
            let body = if seen.method == "POST" {
                created.fetch_add(1, Ordering::SeqCst);
                r#"{"id":"one","etag":"\"1\""}"#.to_owned()
            } else if created.load(Ordering::SeqCst) > 0 {
                page(&["one"], None).replace("n-one", "same")
            } else {
                r#"{"items":[]}"#.to_owned()
            };
            Ok(RawResponse::from_body(
                if seen.method == "POST" { 201 } else { 200 },
                body.into_bytes(),
                None,
            ))
        });
    }
    let c = client_on(&t);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                let conn = crate::PostgresConnection::new(
                    "same",
                    PostgresLogin {
                        server: "h",
                        database: "d",
                        username: "u",
                        password: Secret::from("pw"),
                    },
                );
                c.ensure_postgres_connection(&conn).unwrap().saved.id
            })
        })
        .collect();
    for th in threads {
        assert_eq!(th.join().unwrap(), "one");
    }
    assert_eq!(created.load(Ordering::SeqCst), 1);
}

#[test]
fn error_answers_are_mapped_with_status_code_and_request_id() {
    let t = Arc::new(MemoryTransport::default());
    t.reply(
        403,
        r#"{"error_code":"403003","message":"Api Key is invalid"}"#,
    );
    let err = client_on(&t).get_connection(&id("a")).unwrap_err();
    match &err {
        Error::Api(api) => {
            assert_eq!(api.code.as_deref(), Some("403003"));
            assert_eq!(api.request_id.as_deref(), Some("req-mem"));
        }
        other => panic!("{other}"),
    }
    let t = Arc::new(MemoryTransport::default());
    t.then(|_| {
        let mut r = RawResponse::from_body(307, Vec::new(), None);
        r.location = Some("https://elsewhere.example/".into());
        Ok(r)
    });
    let err = client_on(&t).get_connection(&id("a")).unwrap_err();
    assert!(err.to_string().contains("elsewhere.example"), "{err}");
    assert!(err.to_string().contains("not followed"), "{err}");
}

#[test]
fn models_read_edge_json_as_before() {
    use crate::resources::connections::Connection;
    use crate::resources::source_connections::SourceConnection;
    let c: Connection = serde_json::from_value(serde_json::json!({
        "id": "c1", "name": null, "etag": null, "state": null,
        "auth": {"specName": "Basic", "params": {"password": "pw"}},
        "connectionSpec": {"id": "spec", "version": 1},
        "createdAt": "1700000000000", "updatedAt": 1.7e12
    }))
    .unwrap();
    assert_eq!(
        (
            c.name.as_str(),
            c.etag.as_str(),
            c.auth_spec_name.as_deref()
        ),
        ("", "", Some("Basic"))
    );
    assert_eq!(c.connection_spec_id.as_deref(), Some("spec"));
    assert_eq!(
        (c.created_at, c.updated_at),
        (Some(1_700_000_000_000), Some(1_700_000_000_000))
    );
    let s: SourceConnection = serde_json::from_value(serde_json::json!({
        "id": "s1", "description": "", "baseConnectionId": null,
        "params": {"tableName": "public.t", "other": 5},
        "data": {"format": "tabular", "schema": null}
    }))
    .unwrap();
    assert_eq!(s.description, None);
    assert_eq!(s.table_name.as_deref(), Some("public.t"));
    assert_eq!(s.format.as_deref(), Some("tabular"));
    assert!(
        serde_json::from_value::<Connection>(serde_json::json!({"id": "c", "name": 5})).is_err()
    );
}
