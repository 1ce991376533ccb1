//! Every network fault a 3 a.m. cron job meets, produced for real by the
//! fake on 127.0.0.1, and what the client turns it into.

mod common;
use common::id;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aep_flow::{
    Client, ClientBuilder, ConnectionId, Delivery, Error, PostgresConnection, Secret,
    TransportErrorKind,
};
use aep_flow::{PostgresLogin, Sandbox};
use aep_flow_testing::{FakeFlowService, Reply};

/// The org and sandbox every platform in this file uses.
const SANDBOX: Sandbox<'static> = Sandbox {
    org_id: "o@AdobeOrg",
    name: "prod",
};

const TOKEN: &str = "tok-canary-Hx81Lq";
const PASSWORD: &str = "pw-canary-Zt55\"{;}";

fn fake() -> FakeFlowService {
    FakeFlowService::builder()
        .access_token(TOKEN)
        .start()
        .unwrap()
}

fn conn() -> PostgresConnection {
    PostgresConnection::new(
        "nightly",
        PostgresLogin {
            server: "db.internal",
            database: "orders",
            username: "etl",
            password: Secret::from(PASSWORD),
        },
    )
}

fn builder(fake: &FakeFlowService) -> ClientBuilder {
    Client::builder(common::platform(fake)).with_retry_backoff(Duration::from_millis(20))
}

/// Neither canary, nor the connection string, may appear in what the
/// library shows.
fn assert_no_secret(err: &Error) {
    let shown = format!("{err} | {err:?}");
    assert!(!shown.contains("canary"), "secret leaked: {shown}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let text = format!("{s} | {s:?}");
        assert!(!text.contains("canary"), "secret leaked in source: {text}");
        source = s.source();
    }
}

#[test]
fn a_429_is_retried_after_retry_after_then_succeeds() {
    let fake = fake();
    fake.push_reply(
        Reply::json(
            429,
            r#"{"error_code":"429050","message":"Too many requests"}"#,
        )
        .header("Retry-After", "1"),
    );
    fake.push_reply(Reply::new(429)); // empty body, no Retry-After: default backoff
    let client = builder(&fake).build().unwrap();
    let started = Instant::now();
    let created = client.create_postgres_connection(&conn()).unwrap();
    let took = started.elapsed();
    assert_eq!(created.id, "056dd1b4-da33-42f9-add1-b4da3392f94e");
    assert_eq!(fake.requests().len(), 3);
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured ({took:?})"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_retry_after_past_the_budget_fails_at_once_and_carries_it() {
    let fake = fake();
    fake.push_reply(
        Reply::json(
            429,
            r#"{"error_code":"429050","message":"Too many requests"}"#,
        )
        .header("Retry-After", "120"),
    );
    let client = builder(&fake)
        .with_retry_budget(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "it slept");
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 429);
    assert_eq!(api.code.as_deref(), Some("429050"));
    assert_eq!(api.retry_after, Some(Duration::from_secs(120)));
    assert!(err.to_string().contains("Retry-After 120 s"), "{err}");
    assert_eq!(fake.requests().len(), 1);
    assert_no_secret(&err);
}

#[test]
fn retries_are_capped() {
    let fake = fake();
    for _ in 0..5 {
        fake.push_reply(Reply::new(429).header("Retry-After", "0"));
    }
    let client = builder(&fake).with_max_retries(2).build().unwrap();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    assert_eq!(err.status(), Some(429));
    let Error::Api(api) = &err else { panic!() };
    assert_eq!(api.attempts, 3);
    assert_eq!(fake.requests().len(), 3);
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
    assert_no_secret(&err);
}

#[test]
fn a_retry_after_http_date_is_understood() {
    let fake = fake();
    fake.push_reply(Reply::new(429).header("Retry-After", "Fri, 31 Dec 2099 23:59:59 GMT"));
    let client = builder(&fake)
        .with_retry_budget(Duration::from_secs(5))
        .build()
        .unwrap();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    let after = api.retry_after.expect("the date was parsed");
    assert!(after > Duration::from_secs(60 * 60 * 24 * 365), "{after:?}");
    assert_eq!(fake.requests().len(), 1, "a far date fails at once");
}

#[test]
fn an_absurd_retry_after_neither_panics_nor_sleeps() {
    let fake = fake();
    fake.push_reply(Reply::new(429).header("Retry-After", "0"));
    fake.push_reply(Reply::new(429).header("Retry-After", "18446744073709551615"));
    fake.push_reply(Reply::new(429).header("Retry-After", "Fri, 31 Dec 99999999999 23:59:59 GMT"));
    let client = builder(&fake).build().unwrap();
    let started = Instant::now();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_create_that_fails_with_5xx_is_sent_once() {
    for status in [500, 502, 503, 504] {
        let fake = fake();
        fake.push_reply(Reply::echo(status));
        let client = builder(&fake).build().unwrap();
        let err = client.create_postgres_connection(&conn()).unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(fake.requests().len(), 1, "HTTP {status} create was retried");
        let text = err.to_string();
        assert!(text.contains("look it up before trying again"), "{text}");
        // The echo put the token and the password in the message.
        assert!(text.contains(aep_flow::Secret::REDACTED), "{text}");
        assert_no_secret(&err);
    }
}

#[test]
fn a_redirect_to_another_host_is_not_followed() {
    let other = fake(); // "another host": any request it gets is a leak
    let fake = fake();
    let location = format!("{}/connections?token={TOKEN}", other.base_url());
    fake.push_reply(Reply::new(307).header("Location", location));
    let client = builder(&fake).build().unwrap();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    assert!(other.requests().is_empty(), "the redirect was followed");
    let Error::UnexpectedResponse { status, detail, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 307);
    assert!(
        detail.contains(&other.base_url()),
        "the Location is named: {detail}"
    );
    assert!(detail.contains("not followed"), "{detail}");
    assert_no_secret(&err);
}

#[test]
fn a_64_mib_body_is_refused_without_reading_it() {
    let fake = fake();
    fake.push_reply(Reply::huge(201, 64 * 1024 * 1024));
    let client = builder(&fake).build().unwrap();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    let Error::TooLarge { status, limit, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((*status, *limit), (201, 1024 * 1024));
    assert!(err.is_too_large() && err.may_have_been_processed());
    let detail = err.to_string();
    assert!(
        detail.contains("larger than the 1048576-byte limit"),
        "{detail}"
    );
    assert!(
        detail.contains("the change was made"),
        "a 201 means created: {detail}"
    );
    assert!(detail.contains("with_max_response_bytes"), "{detail}");
    assert_no_secret(&err);
    // The client stopped reading at the limit: what got out is the limit
    // plus what the kernel's socket buffers held, far from 64 MiB.
    let deadline = Instant::now() + Duration::from_secs(10);
    let streamed = loop {
        if let Some(n) = fake.bytes_streamed() {
            break n;
        }
        assert!(
            Instant::now() < deadline,
            "the server never finished writing"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        streamed > 1024 * 1024,
        "the limit itself was reached: {streamed}"
    );
    assert!(streamed < 24 * 1024 * 1024, "{streamed} bytes were read");
}

#[test]
fn a_truncated_body_is_an_error_not_a_panic() {
    let fake = fake();
    fake.push_reply(Reply::truncated(
        201,
        200,
        format!(r#"{{"id":"abc","etag":"{PASSWORD}"#),
    ));
    let client = builder(&fake).build().unwrap();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    let Error::UnexpectedResponse { status, detail, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 201);
    assert!(detail.contains("could not be read in full"), "{detail}");
    assert!(detail.contains("the change was made"), "{detail}");
    assert_no_secret(&err);

    // Complete but not the promised JSON.
    fake.push_reply(Reply::json(
        201,
        format!(r#"{{"id": "abc", "etag": "{TOKEN}"#),
    ));
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    assert!(err.to_string().contains("ends early"), "{err}");
    assert!(err.to_string().contains("the change was made"), "{err}");
    assert_no_secret(&err);
}

#[test]
fn a_silent_server_times_out_near_the_configured_time_and_is_not_retried() {
    let fake = fake();
    fake.push_reply(Reply::silent(Duration::from_secs(20)));
    let client = builder(&fake)
        .with_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "{took:?}"
    );
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::Timeout);
    assert_eq!(t.delivery, Delivery::Unknown);
    assert!(
        err.to_string().contains("may have reached the service"),
        "{err}"
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "a create that may have landed was retried"
    );
    assert_no_secret(&err);
}

#[test]
fn a_dropped_connection_after_sending_is_not_retried() {
    let fake = fake();
    fake.push_reply(Reply::close());
    let client = builder(&fake).build().unwrap();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.delivery, Delivery::Unknown);
    assert_eq!(fake.requests().len(), 1);
    assert_no_secret(&err);
}

#[test]
fn connection_refused_is_retried_within_the_budget_then_reported() {
    // Port 1 (tcpmux): nothing listens there, and no parallel test can
    // take it, unlike a port released by a dropped listener.
    let platform = aep_flow::Platform::new(Secret::from(TOKEN), "k", SANDBOX)
        .with_base_url("http://127.0.0.1:1/data/foundation/flowservice");
    let client = Client::builder(platform)
        .with_retry_backoff(Duration::from_millis(50))
        .with_max_retries(2)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::Connect);
    assert_eq!(t.delivery, Delivery::NotSent);
    assert_eq!(t.attempts, 3);
    // Two backoffs of at least 25 ms and 50 ms (jitter takes up to half).
    assert!(
        started.elapsed() >= Duration::from_millis(75),
        "{:?}",
        started.elapsed()
    );
    assert!(!err.to_string().contains("may have reached"), "{err}");
    assert_no_secret(&err);
}

/// Runs a helper script from `tests/support/` and reads the first line it
/// prints: the port, then anything else.
struct Helper {
    child: Child,
    port: u16,
    extra: String,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Helper {
    fn start(script: &str, seconds: &str) -> Helper {
        let path = format!("{}/tests/support/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("python3")
            .arg(path)
            .arg(seconds)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the loopback helper servers");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let mut words = line.split_whitespace();
        let port = words
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port from {script}: {line:?}"));
        let extra = words.collect::<Vec<_>>().join(" ");
        Helper {
            child,
            port,
            extra,
            stdout,
        }
    }

    /// Everything the helper printed after its first line, once stopped.
    fn rest(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut self.stdout, &mut out);
        out
    }
}

#[test]
fn an_untrusted_certificate_is_refused_before_anything_is_sent() {
    let server = Helper::start("tls_flow_server.py", "20");
    let platform =
        aep_flow::Platform::new(Secret::from(TOKEN), "k", SANDBOX).with_base_url(format!(
            "https://127.0.0.1:{}/data/foundation/flowservice",
            server.port
        ));
    // Default retry settings: a certificate failure is not retried.
    let client = Client::builder(platform)
        .with_connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::Tls, "{err}");
    assert_eq!(t.delivery, Delivery::NotSent, "{err}");
    assert_eq!(t.attempts, 1, "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    assert_no_secret(&err);
    std::thread::sleep(Duration::from_millis(200));
    let log = server.rest();
    assert!(
        !log.contains("REQUEST"),
        "a request went over an untrusted TLS session: {log}"
    );
}

#[test]
fn a_server_trusted_through_its_ca_is_reached_over_tls() {
    let server = Helper::start("tls_flow_server.py", "20");
    let pem = std::fs::read(&server.extra).unwrap();
    let platform =
        aep_flow::Platform::new(Secret::from(TOKEN), "k", SANDBOX).with_base_url(format!(
            "https://127.0.0.1:{}/data/foundation/flowservice",
            server.port
        ));
    let client = Client::builder(platform)
        .with_root_certificates_pem(pem)
        .build()
        .unwrap();
    let created = client.create_postgres_connection(&conn()).unwrap();
    assert_eq!(created.id, "056dd1b4-da33-42f9-add1-b4da3392f94e");
    let log = server.rest();
    assert!(
        log.contains("REQUEST POST /data/foundation/flowservice/connections"),
        "{log}"
    );

    let bad = aep_flow::Platform::new(Secret::from(TOKEN), "k", SANDBOX);
    let err = Client::builder(bad)
        .with_root_certificates_pem("not a pem")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("tls.root_certificates"), "{err}");
}

#[test]
fn a_ca_bundle_is_decoded_only_when_a_url_is_https_and_a_bad_one_always_stops_the_build() {
    // Plain http (loopback): the bundle is only scanned, never decoded, so
    // one that only decoding would refuse (a base64 length that does not
    // add up) is no error, and the call goes through.
    let undecodable = "-----BEGIN CERTIFICATE-----\nAAAAA\n-----END CERTIFICATE-----\n";
    let plain = fake();
    let client = builder(&plain)
        .with_root_certificates_pem(undecodable)
        .build()
        .unwrap();
    client.create_postgres_connection(&conn()).unwrap();
    assert_eq!(plain.requests().len(), 1);
    // An unusable shape is an error even without TLS: an override that is
    // set but unusable is never ignored.
    let err = builder(&plain)
        .with_root_certificates_pem("not a pem")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("tls.root_certificates"), "{err}");

    // The same server named with https://: the garbage bundle is an error
    // naming the field, and nothing is sent.
    let fake = fake();
    let https = || {
        aep_flow::Platform::new(Secret::from(TOKEN), "k", SANDBOX).with_base_url(format!(
            "https://{}/data/foundation/flowservice",
            fake.addr()
        ))
    };
    for pem in ["not a pem", "", undecodable] {
        let err = Client::builder(https())
            .with_root_certificates_pem(pem)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        assert!(err.to_string().contains("tls.root_certificates"), "{err}");
    }
    assert!(fake.requests().is_empty());

    // A plain-http platform whose tokens come from an https IMS uses TLS
    // too: the bundle is read, and garbage is refused before the token
    // request.
    let ims = aep_flow::ImsCredentials::new("client-id", Secret::from("s3cret"), "openid")
        .with_ims_url(format!("https://{}", fake.addr()));
    let platform = aep_flow::Platform::from_ims(ims, SANDBOX).with_base_url(fake.base_url());
    let err = Client::builder(platform)
        .with_root_certificates_pem("not a pem")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("tls.root_certificates"), "{err}");
    assert!(fake.requests().is_empty());
}

#[test]
fn https_to_a_plain_http_server_fails_and_sends_nothing() {
    let fake = fake();
    let platform = aep_flow::Platform::new(Secret::from(TOKEN), "k", SANDBOX).with_base_url(
        format!("https://{}/data/foundation/flowservice", fake.addr()),
    );
    let client = Client::builder(platform)
        .with_max_retries(0)
        .with_connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(
        fake.requests().is_empty(),
        "a request went out in clear text"
    );
    assert_no_secret(&err);
}

#[test]
fn a_connect_timeout_is_reported_as_not_sent() {
    let server = Helper::start("backlog_server.py", "20");
    let platform =
        aep_flow::Platform::new(Secret::from(TOKEN), "k", SANDBOX).with_base_url(format!(
            "http://127.0.0.1:{}/data/foundation/flowservice",
            server.port
        ));
    let client = Client::builder(platform)
        .with_max_retries(0)
        .with_connect_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    let took = started.elapsed();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::Timeout, "{err}");
    assert_eq!(t.delivery, Delivery::NotSent, "{err}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_no_secret(&err);
    drop(server.rest());
}

#[test]
fn a_server_echoing_the_request_leaks_nothing_in_any_auth_spec() {
    for spec in [
        aep_flow::AuthSpec::ConnectionString,
        aep_flow::AuthSpec::Basic,
    ] {
        let fake = fake();
        fake.push_reply(Reply::echo(400).header("x-request-id", TOKEN));
        let client = builder(&fake).build().unwrap();
        let err = client
            .create_postgres_connection(&conn().with_auth_spec(spec))
            .unwrap_err();
        assert_eq!(err.status(), Some(400));
        assert_no_secret(&err);
        assert!(
            err.to_string()
                .contains("POST /data/foundation/flowservice/connections"),
            "{err}"
        );
    }
}

/// Every call of the pipeline path, answered by an echo of its own request
/// (the bearer token inside), from Flow Service, Data Prep and Catalog: no
/// run of six characters of the token reaches what the library shows.
#[test]
fn echoed_tokens_never_show_in_the_pipeline_calls() {
    use aep_flow::{
        FlowFilter, FlowParts, Frequency, Mapping, NewFlow, NewMappingSet, NewTargetConnection,
        PipelineSpec, RunFilter, Schedule,
    };
    const SCHEMA: &str = "https://ns.adobe.com/t/schemas/orders";
    const MAPPING: &str = "e7c80e4c0d8f4a98a7d400b4e178b635";
    let schedule = Schedule::every(Frequency::Hour, 1, 1_764_230_400).unwrap();
    type Call = Box<dyn Fn(&Client) -> Result<(), Error>>;
    let calls: Vec<(&str, Call)> = vec![
        (
            "get_dataset",
            Box::new(|c| c.get_dataset(&id("ds1")).map(drop)),
        ),
        (
            "create_target_connection",
            Box::new(|c| {
                c.create_target_connection(&NewTargetConnection::new("t", id("ds1"), id(SCHEMA)))
                    .map(drop)
            }),
        ),
        (
            "create_mapping_set",
            Box::new(|c| {
                c.create_mapping_set(&NewMappingSet::new(
                    id(SCHEMA),
                    vec![Mapping::new("id", "_t.id")],
                ))
                .map(drop)
            }),
        ),
        (
            "validate_mapping_set",
            Box::new(|c| {
                c.validate_mapping_set(&NewMappingSet::new(
                    id(SCHEMA),
                    vec![Mapping::new("id", "_t.id")],
                ))
                .map(drop)
            }),
        ),
        (
            "get_mapping_set",
            Box::new(|c| c.get_mapping_set(&id(MAPPING)).map(drop)),
        ),
        (
            "postgres_flow_spec",
            Box::new(|c| c.postgres_flow_spec().map(drop)),
        ),
        (
            "create_flow",
            Box::new(move |c| {
                c.create_flow(&NewFlow::new(FlowParts {
                    name: "f",
                    source_connection_id: id("s1"),
                    target_connection_id: id("t1"),
                    delta_column: "updated_at",
                    mapping_set_id: id(MAPPING),
                    mapping_set_version: 0,
                    schedule,
                }))
                .map(drop)
            }),
        ),
        (
            "list_flows",
            Box::new(|c| c.list_flows(FlowFilter::new()).map(drop)),
        ),
        (
            "update_flow_schedule",
            Box::new(move |c| c.update_flow_schedule(&id("f1"), &schedule).map(drop)),
        ),
        (
            "enable_flow",
            Box::new(|c| c.enable_flow(&id("f1")).map(drop)),
        ),
        (
            "list_runs",
            Box::new(|c| c.list_runs(RunFilter::new(id("f1"))).map(drop)),
        ),
        (
            "run_summary",
            Box::new(|c| c.run_summary(&id("f1")).map(drop)),
        ),
        (
            "ensure_pipeline",
            Box::new(move |c| {
                c.ensure_pipeline(
                    &PipelineSpec::new()
                        .with_base_connection_id(id("b1"))
                        .with_table_path("public.orders")
                        .with_dataset_id(id("ds1"))
                        .with_mappings(vec![Mapping::new("id", "_t.id")])
                        .with_delta_column("updated_at")
                        .with_schedule(schedule),
                )
                .map(drop)
            }),
        ),
    ];
    let runs: Vec<String> = TOKEN
        .chars()
        .collect::<Vec<_>>()
        .windows(6)
        .map(|w| w.iter().collect())
        .collect();
    for status in [400, 404, 500] {
        for (name, call) in &calls {
            let fake = fake();
            for _ in 0..4 {
                fake.push_reply(Reply::echo(status));
            }
            let client = builder(&fake).with_max_retries(0).build().unwrap();
            let err = call(&client).expect_err(name);
            let shown = format!("{err} | {err:?}");
            for run in &runs {
                assert!(
                    !shown.contains(run.as_str()),
                    "{name} {status}: {run:?} in {shown}"
                );
            }
            assert_no_secret(&err);
            // The echo did carry the token: the scrubber took it out (a
            // 404 becomes NotFound, which shows no service message).
            if !err.is_not_found() {
                assert!(
                    shown.contains(aep_flow::Secret::REDACTED),
                    "{name} {status}: {shown}"
                );
            }
        }
    }
}

const LOOP_FLOW: &str = "0f1e2d3c-0000-4000-8000-00000000f1a0";

/// A page of runs (ids given, all of `flow`) with a next link `next`.
fn run_page(ids: &[String], flow: &str, next: Option<&str>) -> Reply {
    let items: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "flowId": flow, "createdAt": 1_700_000_000_000_i64}))
        .collect();
    let mut body = serde_json::json!({ "items": items });
    if let Some(next) = next {
        body["_links"] = serde_json::json!({"next": {"href": next}});
    }
    Reply::json(200, body.to_string())
}

#[test]
fn the_same_item_under_fresh_next_links_is_a_loop_stopped_at_the_first_repeat() {
    let fake = fake();
    for p in 0..40 {
        let next = format!("/data/foundation/flowservice/runs?limit=50&continuationToken=t{p}");
        fake.push_reply(run_page(&["r-1".into()], LOOP_FLOW, Some(&next)));
    }
    let c = builder(&fake).build().unwrap();
    let e = c
        .list_runs(aep_flow::RunFilter::new(id(LOOP_FLOW)))
        .unwrap_err();
    assert!(e.to_string().contains("loops"), "{e}");
    assert_eq!(fake.requests().len(), 2, "stopped at the first repeat: {e}");
}

#[test]
fn many_pages_of_items_that_do_not_match_are_paged_to_the_end() {
    // A service that ignores `property=flowId==`: 150 pages of another
    // flow's runs, then the one run asked for. A finite listing.
    let fake = fake();
    let other = "0f1e2d3c-0000-4000-8000-00000000f1a1";
    for p in 0..150 {
        let next = format!("/data/foundation/flowservice/runs?limit=50&continuationToken=t{p}");
        fake.push_reply(run_page(&[format!("other-{p}")], other, Some(&next)));
    }
    fake.push_reply(run_page(&["mine".into()], LOOP_FLOW, None));
    let c = builder(&fake).build().unwrap();
    let mut pages = c.runs(aep_flow::RunFilter::new(id(LOOP_FLOW)));
    let runs: Vec<_> = pages.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, "mine");
    assert_eq!(pages.end(), Some(aep_flow::ListingEnd::Complete));
    assert_eq!(fake.requests().len(), 151);

    // The item cap: stopped with more to read, and it says so.
    let fake = fake_with_two_pages();
    let c = builder(&fake).build().unwrap();
    let mut capped = c.runs(aep_flow::RunFilter::new(id(LOOP_FLOW)).with_max_items(2));
    assert_eq!(capped.by_ref().count(), 2);
    assert_eq!(capped.end(), Some(aep_flow::ListingEnd::Capped));
    let fake = fake_with_two_pages();
    let c = builder(&fake).build().unwrap();
    let mut all = c.runs(aep_flow::RunFilter::new(id(LOOP_FLOW)));
    assert_eq!(all.end(), None, "not started");
    assert_eq!(all.by_ref().count(), 4);
    assert_eq!(all.end(), Some(aep_flow::ListingEnd::Complete));
}

fn fake_with_two_pages() -> FakeFlowService {
    let fake = fake();
    let next = "/data/foundation/flowservice/runs?limit=50&continuationToken=t1";
    fake.push_reply(run_page(
        &["a".into(), "b".into(), "c".into()],
        LOOP_FLOW,
        Some(next),
    ));
    fake.push_reply(run_page(&["d".into()], LOOP_FLOW, None));
    fake
}

/// Words that send a user looking for something a request made.
fn talks_about_changes(text: &str) -> bool {
    [
        "change was made",
        "look it up",
        "look the resource up",
        "create",
    ]
    .iter()
    .any(|w| text.contains(w))
}

#[test]
fn a_read_is_never_told_that_a_change_was_made() {
    let fake = fake();
    let client = builder(&fake).with_max_retries(0).build().unwrap();
    let id: ConnectionId = common::id("00000000-0000-4000-8000-0000000000aa");
    // A GET answered 200 with a body that is not the promised JSON.
    fake.push_reply(Reply::json(200, r#"{"items": [{"id": "#));
    let e = client.get_connection(&id).unwrap_err();
    assert!(e.to_string().contains("ends early"), "{e}");
    assert!(!talks_about_changes(&e.to_string()), "{e}");
    // A GET whose body is cut short.
    fake.push_reply(Reply::truncated(200, 500, r#"{"items": ["#));
    let e = client.get_connection(&id).unwrap_err();
    assert!(!talks_about_changes(&e.to_string()), "{e}");
    // A GET answered 503: no hint about creates.
    fake.push_reply(Reply::json(503, r#"{"message": "down"}"#));
    let e = client.get_connection(&id).unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert!(!talks_about_changes(&e.to_string()), "{e}");
    // A read that times out.
    fake.push_reply(Reply::silent(Duration::from_secs(20)));
    let slow = builder(&fake)
        .with_max_retries(0)
        .with_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let e = slow.get_connection(&id).unwrap_err();
    assert!(matches!(&e, Error::Transport(t) if !t.write), "{e:?}");
    assert!(!talks_about_changes(&e.to_string()), "{e}");
    // The same faults after a write do say so.
    fake.push_reply(Reply::json(201, r#"{"id": "#));
    let e = client.create_postgres_connection(&conn()).unwrap_err();
    assert!(e.to_string().contains("the change was made"), "{e}");
    fake.push_reply(Reply::json(503, r#"{"message": "down"}"#));
    let e = client.create_postgres_connection(&conn()).unwrap_err();
    assert!(e.to_string().contains("look it up"), "{e}");
}

#[test]
fn a_retry_after_beyond_a_day_prints_as_such() {
    let fake = fake();
    fake.push_reply(Reply::new(429).header("Retry-After", "18446744073709551615"));
    let client = builder(&fake).build().unwrap();
    let err = client.create_postgres_connection(&conn()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("Retry-After more than a year"), "{text}");
    assert!(!text.contains("18446744073709551615"), "{text}");
    fake.push_reply(Reply::new(429).header("Retry-After", "259200"));
    let text = client
        .create_postgres_connection(&conn())
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("Retry-After more than a day: 3 days"),
        "{text}"
    );
}

#[test]
fn a_last_page_of_an_item_already_read_ends_the_listing_it_is_no_loop() {
    // Fifty runs, pages of 50 by offset; a run is created between the two
    // requests, so the last page holds only the run that moved down from
    // page 1. No next link: the end of the listing, not a loop.
    let fake = fake();
    let first: Vec<String> = (0..50).map(|i| format!("r-{i}")).collect();
    let next = "/data/foundation/flowservice/runs?limit=50&start=50";
    fake.push_reply(run_page(&first, LOOP_FLOW, Some(next)));
    fake.push_reply(run_page(&["r-49".into()], LOOP_FLOW, None));
    let c = builder(&fake).build().unwrap();
    let mut pages = c.runs(aep_flow::RunFilter::new(id(LOOP_FLOW)));
    let runs: Vec<_> = pages.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(runs.len(), 50);
    assert_eq!(pages.end(), Some(aep_flow::ListingEnd::Complete));
}

#[test]
fn a_create_answered_with_an_unusable_id_says_the_change_was_made() {
    // 201: the connection exists; only its id cannot be used. The user
    // must look it up, not create it again.
    for body in [
        r#"{"id": "has space", "etag": "\"e1\""}"#,
        r#"{"id": "00000000-0000-4000-8000-000000000001", "etag": "caf\u00e9"}"#,
    ] {
        let fake = fake();
        fake.push_reply(Reply::json(201, body));
        let client = builder(&fake).build().unwrap();
        let err = client.create_postgres_connection(&conn()).unwrap_err();
        assert!(err.may_have_been_processed(), "{err}");
        assert!(
            err.to_string().contains("the change was made"),
            "{body}: {err}"
        );
    }
    // A read with such an id changed nothing: no such note.
    let fake = fake();
    fake.push_reply(Reply::json(
        200,
        r#"{"items": [{"id": "has space"}], "_links": {}}"#,
    ));
    let client = builder(&fake).build().unwrap();
    let err = client
        .list_runs(aep_flow::RunFilter::new(id(LOOP_FLOW)))
        .unwrap_err();
    assert!(!err.to_string().contains("change"), "{err}");
}

#[test]
fn the_same_item_on_every_page_beside_fresh_ones_is_a_loop_too() {
    // Each page repeats run A (read on page 1) beside one new run, under a
    // fresh next link, forever. A listing that moved repeats an item of
    // the page just before; A, read two pages back, does not come again.
    let fake = fake();
    for p in 0..40 {
        let next = format!("/data/foundation/flowservice/runs?limit=50&continuationToken=t{p}");
        fake.push_reply(run_page(
            &["run-a".into(), format!("new-{p}")],
            LOOP_FLOW,
            Some(&next),
        ));
    }
    let c = builder(&fake).build().unwrap();
    let e = c
        .list_runs(aep_flow::RunFilter::new(id(LOOP_FLOW)))
        .unwrap_err();
    assert!(e.to_string().contains("loops"), "{e}");
    assert!(e.to_string().contains("run-a"), "{e}");
    assert_eq!(fake.requests().len(), 3, "stopped at page 3: {e}");
}
