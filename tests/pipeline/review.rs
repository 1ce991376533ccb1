//! Adversarial review of the 1.0 pass: request budgets of
//! `ensure_pipeline`, plan right after ensure, update retry, paging. A child
//! of `tests/pipeline.rs`, whose setup it shares.

use super::*;
use aep_flow::SchemaId;

fn lines(r: &[RecordedRequest]) -> Vec<String> {
    r.iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[test]
fn review_budget_first_run_at_most_12() {
    let s = setup();
    s.client.ensure_pipeline(&spec(&s)).unwrap();
    let all = s.fake.requests();
    assert!(
        all.len() <= 12,
        "first run sent {}: {:#?}",
        all.len(),
        lines(&all)
    );
}

#[test]
fn review_budget_noop_rerun_is_4() {
    let s = setup();
    s.client.ensure_pipeline(&spec(&s)).unwrap();
    let before = s.fake.requests().len();
    let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
    assert!(out.changes.is_empty());
    let sent = since(&s.fake, before);
    assert!(
        sent.len() <= 4,
        "no-op re-run sent {}: {:#?}",
        sent.len(),
        lines(&sent)
    );
}

#[test]
fn review_budget_schedule_change_at_most_7() {
    let s = setup();
    s.client.ensure_pipeline(&spec(&s)).unwrap();
    let before = s.fake.requests().len();
    let daily = Schedule::every(Frequency::Day, 2, START).unwrap();
    s.client
        .ensure_pipeline(&spec(&s).with_schedule(daily))
        .unwrap();
    let sent = since(&s.fake, before);
    assert!(
        sent.len() <= 7,
        "schedule change sent {}: {:#?}",
        sent.len(),
        lines(&sent)
    );
}

#[test]
fn review_budget_with_schema_noop_at_most_5() {
    let s = setup();
    let schema: SchemaId = SCHEMA.parse().unwrap();
    s.client
        .ensure_pipeline(&spec(&s).with_schema_id(schema.clone()))
        .unwrap();
    let before = s.fake.requests().len();
    let out = s
        .client
        .ensure_pipeline(&spec(&s).with_schema_id(schema))
        .unwrap();
    assert!(out.changes.is_empty());
    let sent = since(&s.fake, before);
    assert!(
        sent.len() <= 5,
        "re-run with schema sent {}: {:#?}",
        sent.len(),
        lines(&sent)
    );
}

#[test]
fn review_plan_right_after_ensure_is_in_sync() {
    let s = setup();
    s.client.ensure_pipeline(&spec(&s)).unwrap();
    let plan = s.client.plan_pipeline(&spec(&s)).unwrap();
    assert!(plan.is_in_sync(), "{:?}", plan.changes());
    // And after a schedule change, too.
    let daily = spec(&s).with_schedule(Schedule::every(Frequency::Day, 2, START).unwrap());
    s.client.ensure_pipeline(&daily).unwrap();
    let plan = s.client.plan_pipeline(&daily).unwrap();
    assert!(plan.is_in_sync(), "{:?}", plan.changes());
}

#[test]
fn review_failed_check_reports_what_the_lookups_found() {
    let s = setup();
    let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
    // A mapping from a column the table does not have: refused by a
    // check after the lookups found every object.
    let bad = spec(&s).with_mapping(Mapping::new("no_such_column", "_tenant.customer"));
    for (what, failure) in [
        (
            "ensure",
            s.client
                .ensure_pipeline_partial(&bad)
                .map(|_| ())
                .unwrap_err(),
        ),
        (
            "plan",
            s.client
                .plan_pipeline_partial(&bad)
                .map(|_| ())
                .unwrap_err(),
        ),
    ] {
        let done = &failure.done;
        assert!(done.changes.is_empty(), "{what}: {:?}", done.changes);
        assert_eq!(
            done.flow_id.as_ref(),
            Some(&first.flow_id),
            "{what}: {failure}"
        );
        assert_eq!(
            done.source_connection_id.as_ref(),
            Some(&first.source_connection_id),
            "{what}"
        );
        assert_eq!(
            done.target_connection_id.as_ref(),
            Some(&first.target_connection_id),
            "{what}"
        );
        // mapping_set_id is set only when the flow's matches the declaration (by design).
    }
}

/// `Saved` is public and `Deserialize` (it was at 1d25872, with a String
/// id): it is how a create's `{"id", "etag"}` answer reads. The library
/// itself keeps any visible-ASCII id the service sends (ids.rs: "a typed
/// id never refuses an answer that the service gave"), but deserializing
/// the same answer as `Saved<FlowId>` applies the input rule and refuses
/// it. At 1d25872 `serde_json::from_str::<Saved>` accepted it.
#[test]
fn saved_deserializes_an_id_the_service_gave() {
    use aep_flow::{FlowId, Saved};
    let answer = r#"{"id": "flow.v2:0a1b", "etag": "\"1700e582\""}"#;
    // What 1d25872's `Saved` (String id) read, still readable untyped:
    let untyped: Saved = serde_json::from_str(answer).unwrap();
    assert_eq!(untyped.id, "flow.v2:0a1b");
    // What the typed calls return:
    let typed = serde_json::from_str::<Saved<FlowId>>(answer);
    assert!(typed.is_ok(), "{:?}", typed.err().map(|e| e.to_string()));
}

/// The crate docs (lib.rs, "Request budget of `ensure_pipeline`"): "a
/// schema given ...: one more Catalog read on a run over an existing
/// pipeline (5 for a re-run); a first run stays at 12."
#[test]
fn review_budget_first_run_with_schema_stays_at_12() {
    let s = setup();
    let schema: SchemaId = SCHEMA.parse().unwrap();
    s.client
        .ensure_pipeline(&spec(&s).with_schema_id(schema))
        .unwrap();
    let all = s.fake.requests();
    assert!(
        all.len() <= 12,
        "first run with a schema sent {}: {:#?}",
        all.len(),
        lines(&all)
    );
}

#[test]
fn review_budget_exact_counts() {
    let s = setup();
    s.client.ensure_pipeline(&spec(&s)).unwrap();
    let first = s.fake.requests().len();
    let before = first;
    s.client.ensure_pipeline(&spec(&s)).unwrap();
    let noop = s.fake.requests().len() - before;
    let before = s.fake.requests().len();
    let daily = Schedule::every(Frequency::Day, 2, START).unwrap();
    s.client
        .ensure_pipeline(&spec(&s).with_schedule(daily))
        .unwrap();
    let sched = s.fake.requests().len() - before;
    eprintln!("first {first} noop {noop} schedule {sched}");
    assert_eq!((first, noop, sched), (12, 4, 7));
}

#[test]
fn review_plan_right_after_ensure_is_in_sync_for_each_shape() {
    type Shape = Box<dyn Fn(PipelineSpec) -> PipelineSpec>;
    let shapes: Vec<(&str, Shape)> = vec![
        ("once", Box::new(|p| p.with_schedule(Schedule::once(START)))),
        (
            "no backfill",
            Box::new(|p| {
                p.with_schedule(
                    Schedule::every(Frequency::Minute, 15, START)
                        .unwrap()
                        .without_backfill(),
                )
            }),
        ),
        ("enable", Box::new(|p| p.with_enable(true))),
        (
            "schema",
            Box::new(|p| p.with_schema_id(SCHEMA.parse().unwrap())),
        ),
        (
            "named",
            Box::new(|p| p.with_name("orders ü flow").with_description("d")),
        ),
    ];
    for (what, shape) in shapes {
        let s = setup();
        let declared = shape(spec(&s));
        s.client.ensure_pipeline(&declared).unwrap();
        let plan = s.client.plan_pipeline(&declared).unwrap();
        assert!(plan.is_in_sync(), "{what}: {:?}", plan.changes());
        let again = s.client.ensure_pipeline(&declared).unwrap();
        assert!(again.changes.is_empty(), "{what}: {:?}", again.changes);
        // Going from this shape to once and back converges too.
        let once = shape(spec(&s)).with_schedule(Schedule::once(START));
        s.client.ensure_pipeline(&once).unwrap();
        let plan = s.client.plan_pipeline(&once).unwrap();
        assert!(plan.is_in_sync(), "{what} -> once: {:?}", plan.changes());
    }
}

/// An id the library returned (the service's answer, kept as sent: ids.rs
/// "a typed id never refuses an answer that the service gave") does not
/// survive a serde round trip: `Serialize` writes it, `Deserialize`
/// (derived through `TryFrom<String>`, the input rule) refuses it. A
/// program that stores the ids it got (the CLI prints them as JSON) cannot
/// read them back. At 1d25872 ids were `String`s: any id round-tripped.
#[test]
fn a_service_id_survives_a_serde_round_trip() {
    use aep_flow::{NewSourceConnection, SourceConnectionId};
    let s = setup();
    s.fake.push_reply(
        aep_flow_testing::Reply::json(201, r#"{"id": "src.v2:0a1b", "etag": "\"1\""}"#)
            .only_for("POST"),
    );
    let saved = s
        .client
        .create_source_connection(&NewSourceConnection::new(
            "orders",
            s.base.clone(),
            "public.orders",
        ))
        .unwrap();
    assert_eq!(
        saved.id.as_str(),
        "src.v2:0a1b",
        "kept as the service sent it"
    );
    let stored = serde_json::to_string(&saved.id).unwrap();
    let back = serde_json::from_str::<SourceConnectionId>(&stored);
    assert_eq!(
        back.as_ref().map_err(|e| e.to_string()),
        Ok(&saved.id),
        "stored as {stored}"
    );
}

/// Every derived `Debug` on a type holding a secret, in both forms.
#[test]
fn review_no_debug_prints_a_secret() {
    use aep_flow::{
        AuthSpec, ImsCredentials, Platform, PostgresConnection, PostgresCredentials, PostgresLogin,
        Sandbox, Secret, SslMode,
    };
    const PW: &str = "canary-pw-7f3a";
    const CS: &str = "canary-cs-9b1c";
    const TK: &str = "canary-tk-2d4e";
    let login = || PostgresLogin {
        server: "db",
        database: "d",
        username: "u",
        password: Secret::from(PW),
    };
    let sandbox = Sandbox {
        org_id: "o@AdobeOrg",
        name: "prod",
    };
    let ims = || ImsCredentials::new("cid", Secret::from(CS), "openid");
    let texts = vec![
        format!("{:?} {:#?}", login(), login()),
        format!("{:?}", PostgresConnection::new("n", login())),
        format!(
            "{:#?}",
            PostgresConnection::new("n", login())
                .with_auth_spec(AuthSpec::Basic)
                .with_ssl_mode(SslMode::Require)
        ),
        format!("{:?}", PostgresCredentials::new(login())),
        format!("{:?} {:#?}", ims(), ims()),
        format!("{:?}", Platform::from_ims(ims(), sandbox)),
        format!("{:#?}", Platform::new(Secret::from(TK), "k", sandbox)),
        format!(
            "{:?}",
            Client::builder(
                Platform::from_ims(ims(), sandbox).with_platform_url("http://127.0.0.1:9")
            )
        ),
    ];
    for t in texts {
        assert!(!t.contains("canary"), "{t}");
    }
}

/// `Error::TooLarge { service }` names the service that answered; an IMS
/// token answer too large is not "may have been processed".
#[test]
fn review_too_large_names_the_service() {
    use aep_flow::{Error, Service};
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(4096));
    let s = setup();
    let small = |platform| {
        Client::builder(platform)
            .with_max_response_bytes(1024)
            .with_retry_backoff(Duration::from_millis(5))
            .build()
            .unwrap()
    };
    let c = small(common::platform(&s.fake));
    s.fake
        .push_reply(aep_flow_testing::Reply::json(200, big.clone()).only_for_path(DATASET));
    match c.get_dataset(&id(DATASET)) {
        Err(Error::TooLarge { service, .. }) => assert_eq!(service, Service::Catalog),
        other => panic!("{other:?}"),
    }
    s.fake
        .push_reply(aep_flow_testing::Reply::json(200, big.clone()).only_for("GET"));
    match c.find_mapping_sets_named("x") {
        Err(Error::TooLarge { service, .. }) => assert_eq!(service, Service::DataPrep),
        other => panic!("{other:?}"),
    }
    let c = small(common::platform_with_ims(&s.fake));
    s.fake
        .push_reply(aep_flow_testing::Reply::json(200, big).only_for("POST"));
    match c.get_dataset(&id(DATASET)) {
        Err(
            e @ Error::TooLarge {
                service: Service::Ims,
                ..
            },
        ) => {
            assert!(!e.may_have_been_processed(), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn review_replace_refusal_reports_what_was_found() {
    let s = setup();
    let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let other = spec(&s).with_delta_column("created_at");
    let failure = s
        .client
        .ensure_pipeline_partial(&other)
        .map(|_| ())
        .unwrap_err();
    assert!(failure.error.to_string().contains("delta"), "{failure}");
    assert!(failure.done.changes.is_empty());
    assert_eq!(
        failure.done.flow_id.as_ref(),
        Some(&first.flow_id),
        "{failure}"
    );
    assert_eq!(
        failure.done.source_connection_id.as_ref(),
        Some(&first.source_connection_id)
    );
    assert_eq!(
        failure.done.target_connection_id.as_ref(),
        Some(&first.target_connection_id)
    );
    // The plan of the same says Replace, without an error.
    let plan = s.client.plan_pipeline(&other).unwrap();
    assert!(plan.replace_needed().is_some());
    assert!(
        s.fake
            .requests()
            .iter()
            .filter(|r| r.method != "GET" && !r.path.contains("validate"))
            .count()
            == 4
    );
}

/// Debatable (low): `PipelineProgress::mapping_set_id` is documented as
/// "The mapping set the flow uses (or will), when known". When a check
/// fails on a pipeline whose flow runs another mapping set than declared,
/// the lookups read that mapping set (its id is in the flow), but
/// `done.mapping_set_id` is left `None` (pipeline.rs: set only when the
/// flow's mapping matches), so a failed run does not say which mapping set
/// the flow still uses.
#[test]
fn review_failed_check_keeps_the_mapping_set_the_flow_uses() {
    let s = setup();
    let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let bad = spec(&s).with_mapping(Mapping::new("no_such_column", "_tenant.customer"));
    let failure = s
        .client
        .plan_pipeline_partial(&bad)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        failure.done.mapping_set_id.as_ref(),
        Some(&first.mapping_set_id),
        "{failure}"
    );
}
