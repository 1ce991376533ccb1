//! The client core alone over the in-memory transport: header checks, the
//! documented defaults, timeouts, `Debug`, IMS tokens. The tests that drive
//! it through the resource calls (retries, the deadline, paging, link
//! guards, If-Match) are in `resources/client_tests.rs`, at the layer that
//! may name resource types.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::test_support::platform;
use super::*;
use crate::error::{Delivery, TransportErrorKind};
use crate::ids::id;
use crate::secret::Secret;
use crate::transport::memory::MemoryTransport;
use crate::wire::response::RawResponse;

/// A one-item answer to `GET /connections/{id}`: enough for a call to
/// succeed; the connection itself is the resources' business.
fn page(ids: &[&str]) -> String {
    let items: Vec<_> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "name": format!("n-{id}"), "etag": "\"e\""}))
        .collect();
    serde_json::json!({ "items": items }).to_string()
}

#[test]
fn header_values_must_be_visible_ascii() {
    let cases = [
        (
            Platform::new(
                Secret::from("tok\r\nX-Evil: 1"),
                "k",
                Sandbox {
                    org_id: "o",
                    name: "s",
                },
            ),
            "platform.access_token",
        ),
        (
            Platform::new(
                Secret::from(""),
                "k",
                Sandbox {
                    org_id: "o",
                    name: "s",
                },
            ),
            "platform.access_token",
        ),
        (
            Platform::new(
                Secret::from("t"),
                "k y",
                Sandbox {
                    org_id: "o",
                    name: "s",
                },
            ),
            "platform.api_key",
        ),
        (
            Platform::new(
                Secret::from("t"),
                "k",
                Sandbox {
                    org_id: "",
                    name: "s",
                },
            ),
            "platform.org_id",
        ),
        (
            Platform::new(
                Secret::from("t"),
                "k",
                Sandbox {
                    org_id: "o",
                    name: "prod\u{a0}",
                },
            ),
            "platform.sandbox_name",
        ),
    ];
    for (p, field) in cases {
        let e = Client::new(p).unwrap_err();
        let text = e.to_string();
        assert!(!text.contains("X-Evil"), "{text}");
        match e {
            Error::InvalidInput { field: f, .. } => assert_eq!(f, field),
            other => panic!("{other}"),
        }
    }
}

#[test]
fn the_documented_defaults_are_the_defaults() {
    let b = Client::builder(platform());
    assert_eq!(b.config.connect_timeout, Duration::from_secs(10));
    assert_eq!(b.config.timeout, Duration::from_secs(60));
    assert_eq!(b.config.max_response_bytes, 1024 * 1024);
    assert_eq!(b.config.retry.max_retries, 3);
    assert_eq!(b.config.retry.budget, Duration::from_secs(30));
    assert_eq!(b.config.retry.backoff, Duration::from_millis(500));
    assert!(!b.config.keep_alive_after_secret_bodies);
    assert!(b.root_certificates_pem.is_none());
    assert!(b.config.deadline.is_none());
    assert_eq!(
        Platform::new(
            Secret::from("t"),
            "k",
            Sandbox {
                org_id: "o",
                name: "s"
            }
        )
        .base_url(),
        DEFAULT_BASE_URL
    );
}

#[test]
fn timeouts_must_be_positive_and_at_most_a_day() {
    for (builder, field) in [
        (
            Client::builder(platform()).with_timeout(Duration::MAX),
            "timeout",
        ),
        (
            Client::builder(platform()).with_timeout(Duration::ZERO),
            "timeout",
        ),
        (
            Client::builder(platform()).with_connect_timeout(Duration::from_secs(u64::MAX / 2)),
            "connect_timeout",
        ),
    ] {
        match builder.build().unwrap_err() {
            Error::InvalidInput { field: f, .. } => assert_eq!(f, field),
            other => panic!("{other}"),
        }
    }
    assert!(Client::builder(platform())
        .with_timeout(Duration::from_secs(86_400))
        .build()
        .is_ok());
}

#[test]
fn debug_of_client_and_platform_hides_the_token() {
    let c = Client::new(platform()).unwrap();
    let text = format!("{c:?} {:?}", platform());
    assert!(!text.contains("canary"), "{text}");
    assert!(text.contains("ORG@AdobeOrg"));
}

mod ims_tokens {
    use super::*;
    use crate::client::ims::ImsCredentials;

    fn ims_client(t: &Arc<MemoryTransport>) -> Client {
        let creds = ImsCredentials::new("cid", Secret::from("s3cr3t-canary-xyz"), "openid")
            .with_ims_url("https://ims.example");
        Client::builder(
            Platform::from_ims(
                creds,
                Sandbox {
                    org_id: "ORG@AdobeOrg",
                    name: "prod",
                },
            )
            .with_base_url("https://flow.example/data/foundation/flowservice"),
        )
        .with_retry_backoff(Duration::from_millis(1))
        .with_transport(Arc::clone(t))
        .build()
        .unwrap()
    }

    fn token_reply(n: usize) -> String {
        format!(r#"{{"access_token":"tok-{n}","token_type":"bearer","expires_in":86399}}"#)
    }

    #[test]
    fn a_token_request_is_retried_like_any_request_that_creates_nothing() {
        let t = Arc::new(MemoryTransport::default());
        t.reply_retry_after(429, "", Duration::from_millis(2))
            .reply(503, "")
            .fail(TransportErrorKind::Connect, Delivery::NotSent)
            .reply(200, &token_reply(1))
            .reply(200, &page(&["a"]));
        let c = ims_client(&t);
        c.get_connection(&id("a")).unwrap();
        let seen = t.seen();
        assert_eq!(seen.len(), 5);
        assert!(seen[..4]
            .iter()
            .all(|s| s.url == "https://ims.example/ims/token/v3" && s.close));
        assert_eq!(seen[4].header("authorization"), Some("Bearer tok-1"));
    }

    #[test]
    fn debug_of_an_ims_client_hides_the_cached_token_and_the_client_secret() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &token_reply(1)).reply(200, &page(&["a"]));
        let c = ims_client(&t);
        c.get_connection(&id("a")).unwrap();
        let text = format!("{c:?}");
        assert!(
            !text.contains("tok-1") && !text.contains("canary"),
            "{text}"
        );
        assert!(text.contains("https://ims.example/ims/token/v3"), "{text}");
    }

    #[test]
    fn waiters_share_one_fetch_and_its_failure() {
        let t = Arc::new(MemoryTransport::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        {
            let fetches = Arc::clone(&fetches);
            t.then(move |_| {
                fetches.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
                Ok(RawResponse::from_body(
                    400,
                    br#"{"error":"invalid_client","error_description":"bad"}"#.to_vec(),
                    None,
                ))
            });
        }
        let c = ims_client(&t);
        let started = Instant::now();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || c.get_connection(&id("a")).unwrap_err().to_string())
            })
            .collect();
        for th in threads {
            let text = th.join().unwrap();
            assert!(text.contains("invalid_client"), "{text}");
        }
        // One fetch for all eight, not eight in turn.
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert!(started.elapsed() < Duration::from_millis(1000));
    }

    #[test]
    fn concurrent_401s_renew_the_token_once() {
        let t = Arc::new(MemoryTransport::default());
        let token_requests = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(std::sync::Barrier::new(8));
        t.reply(200, &token_reply(1));
        for _ in 0..40 {
            let (token_requests, gate) = (Arc::clone(&token_requests), Arc::clone(&gate));
            t.then(move |seen| {
                if seen.url.contains("/ims/") {
                    let n = token_requests.fetch_add(1, Ordering::SeqCst);
                    return Ok(RawResponse::from_body(
                        200,
                        token_reply(n + 2).into_bytes(),
                        None,
                    ));
                }
                if seen.header("authorization") == Some("Bearer tok-1") {
                    // Every thread is rejected with the revoked token at once.
                    gate.wait();
                    return Ok(RawResponse::from_body(401, Vec::new(), None));
                }
                Ok(RawResponse::from_body(200, page(&["a"]).into_bytes(), None))
            });
        }
        let c = ims_client(&t);
        // Fetch the first token before the threads start.
        c.bearer_token(None).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || c.get_connection(&id("a")).map(|x| x.id))
            })
            .collect();
        for th in threads {
            assert_eq!(th.join().unwrap().unwrap(), "a");
        }
        assert_eq!(token_requests.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_client_secret_never_shows_in_an_ims_error() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            400,
            r#"{"error":"invalid_request","error_description":"client_secret=s3cr3t-canary-xyz is wrong"}"#,
        );
        let err = ims_client(&t).get_connection(&id("a")).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("canary"), "{text}");
        assert!(text.contains("Adobe IMS"), "{text}");
    }
}

#[test]
fn a_failure_that_ends_the_retries_carries_the_count_of_attempts() {
    let t = Arc::new(MemoryTransport::default());
    t.reply_retry_after(429, "", Duration::from_millis(1))
        .fail(TransportErrorKind::Tls, Delivery::NotSent);
    let err = super::test_support::client_on(&t)
        .get_connection(&id("a"))
        .unwrap_err();
    match &err {
        Error::Transport(e) => assert_eq!((e.kind, e.attempts), (TransportErrorKind::Tls, 2)),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("after 2 attempts"), "{err}");
}

mod token_canaries {
    use super::*;
    use crate::client::ims::ImsCredentials;
    use crate::wire::scrub::{b64, json_inner};

    const TOKEN: &str = "eyJ4NTU/c2Vj+cmV0=&tOk<en>\"q'u%ote-9f8e7d6c5b4a";
    const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    fn spellings() -> Vec<(String, String)> {
        let pct: String = TOKEN
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let html: String = TOKEN
            .chars()
            .map(|c| match c {
                '&' => "&amp;".into(),
                '<' => "&lt;".into(),
                '>' => "&gt;".into(),
                '"' => "&quot;".into(),
                '\'' => "&#39;".into(),
                c => c.to_string(),
            })
            .collect();
        let mut out = vec![
            ("raw".to_owned(), TOKEN.to_owned()),
            ("json".to_owned(), json_inner(TOKEN)),
            ("json2".to_owned(), json_inner(&json_inner(TOKEN))),
            ("percent".to_owned(), pct),
            ("html".to_owned(), html),
        ];
        for (name, alphabet) in [("std", STD), ("url", URL)] {
            for prefix in ["", "x", "xy"] {
                let mut bytes = prefix.as_bytes().to_vec();
                bytes.extend_from_slice(b"Bearer ");
                bytes.extend_from_slice(TOKEN.as_bytes());
                out.push((
                    format!("b64 {name} +{}", prefix.len()),
                    b64(&bytes, alphabet),
                ));
            }
        }
        out
    }

    /// A long middle run of `spelled` (the scrubber may leave a few edge
    /// characters of an encoding).
    fn core(spelled: &str) -> &str {
        let n = spelled.len();
        &spelled[n / 4..n - n / 4]
    }

    fn check(c: &Client, t: &MemoryTransport, before_reply: impl Fn(&MemoryTransport)) {
        for (name, spelled) in spellings() {
            for field in ["title", "message", "detail"] {
                let body = serde_json::json!({
                    "type": "https://ns.adobe.com/aep/errors/FLOW-1234-400",
                    field: format!("bad token {spelled} end"),
                })
                .to_string();
                before_reply(t);
                t.reply(400, &body);
                let err = c.get_connection(&id("a")).unwrap_err();
                let shown = format!("{err} {err:?}");
                assert!(
                    !shown.contains(core(&spelled)),
                    "{name} in {field} shown: {shown}"
                );
            }
        }
    }

    #[test]
    fn static_token_echoed_in_an_api_error_is_removed_in_every_spelling() {
        let t = Arc::new(MemoryTransport::default());
        let c = Client::builder(
            Platform::new(
                Secret::from(TOKEN),
                "key",
                Sandbox {
                    org_id: "ORG@AdobeOrg",
                    name: "prod",
                },
            )
            .with_base_url("https://flow.example/data/foundation/flowservice"),
        )
        .with_retry_backoff(Duration::from_millis(1))
        .with_transport(Arc::clone(&t))
        .build()
        .unwrap();
        check(&c, &t, |_| {});
    }

    #[test]
    fn ims_token_rejected_then_echoed_is_removed_in_every_spelling() {
        let t = Arc::new(MemoryTransport::default());
        let creds = ImsCredentials::new("cid", Secret::from("s3cr3t-canary-xyz"), "openid")
            .with_ims_url("https://ims.example");
        let c = Client::builder(
            Platform::from_ims(
                creds,
                Sandbox {
                    org_id: "ORG@AdobeOrg",
                    name: "prod",
                },
            )
            .with_base_url("https://flow.example/data/foundation/flowservice"),
        )
        .with_retry_backoff(Duration::from_millis(1))
        .with_transport(Arc::clone(&t))
        .build()
        .unwrap();
        let tok = |s: &str| {
            serde_json::json!({"access_token": s, "token_type": "bearer", "expires_in": 86399})
                .to_string()
        };
        // The first call fetches TOKEN; each later call is answered 401
        // (TOKEN rejected), renews to another token, and gets the error
        // that echoes the rejected TOKEN.
        t.reply(200, &tok(TOKEN));
        let first = std::cell::Cell::new(true);
        check(&c, &t, |t| {
            if first.replace(false) {
                return;
            }
            t.reply(401, "{}").reply(200, &tok(TOKEN));
        });
    }
}

mod debug_of_cached_failures {
    use super::*;
    use crate::client::ims::ImsCredentials;

    const CS: &str = "cl1ent-S3cret/+=&<canary>";

    #[test]
    fn alt_debug_with_a_cached_ims_failure_shows_no_secret() {
        let t = Arc::new(MemoryTransport::default());
        let creds = ImsCredentials::new("cid", Secret::from(CS), "openid")
            .with_ims_url("https://ims.example");
        let body = serde_json::json!({
            "error": "invalid_client",
            "error_description": format!("bad secret {CS} / {}", crate::wire::scrub::json_inner(CS)),
        })
        .to_string();
        t.reply(400, &body);
        let c = Client::builder(
            Platform::from_ims(
                creds,
                Sandbox {
                    org_id: "ORG@AdobeOrg",
                    name: "prod",
                },
            )
            .with_base_url("https://flow.example/data/foundation/flowservice"),
        )
        .with_retry_backoff(Duration::from_millis(1))
        .with_transport(Arc::clone(&t))
        .build()
        .unwrap();
        let err = c.get_connection(&id("a")).unwrap_err();
        let text = format!("{c:#?} {c:?} {err} {err:?} {err:#?}");
        assert!(
            !text.contains("S3cret") && !text.contains("canary"),
            "{text}"
        );
        assert!(err.to_string().contains("IMS"), "{err}");
    }
}

#[test]
fn expires_in_forms_read_as_before() {
    use crate::client::ims::parse_token;
    let read = |v: serde_json::Value| {
        let body =
            serde_json::json!({"access_token": "tok", "token_type": "bearer", "expires_in": v});
        parse_token(&RawResponse::from_body(
            200,
            body.to_string().into_bytes(),
            None,
        ))
        .map(|(_, d)| d.as_secs())
        .map_err(|e| e.to_string())
    };
    assert_eq!(read(serde_json::json!(86399)), Ok(86399));
    assert_eq!(read(serde_json::json!("86399")), Ok(86399));
    assert_eq!(read(serde_json::json!(10_000_000)), Ok(24 * 3600));
    for bad in [
        serde_json::json!(null),
        serde_json::json!(-1),
        serde_json::json!("x"),
        serde_json::json!(1.5),
        serde_json::json!(true),
    ] {
        let e = read(bad.clone()).unwrap_err();
        assert!(e.contains("expires_in"), "{bad}: {e}");
    }
}
