//! `ensure_pipeline` against the fake: the first run creates four objects,
//! a re-run sends at most five requests and writes nothing, drift is
//! converged with If-Match, lost answers and killed runs leave exactly one
//! of each, bad declarations are refused before any write, and a plan
//! writes nothing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use aep_flow::{
    spec::CONNECTION_STRING_AUTH, Client, Error, Frequency, Mapping, PipelineChange, PipelineSpec,
    Schedule,
};
use aep_flow_testing::{demo_catalog, FakeFlowService, RecordedRequest, Reply};
use serde_json::{json, Value};

const DATASET: &str = "5c8c3c555033b814b69f947f";
const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/orders";
const START: i64 = 1_764_230_400;

struct Setup {
    fake: FakeFlowService,
    client: Client,
    base: String,
}

fn setup() -> Setup {
    let fake = FakeFlowService::start().unwrap();
    let base = fake.insert_connection(
        "pg",
        CONNECTION_STRING_AUTH,
        json!({"connectionString": "Server=db;Database=d;Port=5432;UID=u;Password=p"}),
    );
    fake.set_catalog(&base, demo_catalog());
    fake.add_dataset(DATASET, "orders", SCHEMA);
    fake.set_schema_fields(
        SCHEMA,
        &[
            "_tenant.orderId",
            "_tenant.customer",
            "_tenant.amount",
            "_tenant.updatedAt",
        ],
    );
    let client = Client::builder(common::platform(&fake))
        .with_retry_backoff(Duration::from_millis(5))
        .build()
        .unwrap();
    Setup { fake, client, base }
}

fn mappings() -> Vec<Mapping> {
    vec![
        Mapping::new("id", "_tenant.orderId"),
        Mapping::new("amount", "_tenant.amount"),
    ]
}

fn hourly() -> Schedule {
    Schedule::every(Frequency::Hour, 1, START).unwrap()
}

fn spec(s: &Setup) -> PipelineSpec {
    PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        mappings(),
        "updated_at",
        hourly(),
    )
}

/// Requests the fake saw since `from`.
fn since(fake: &FakeFlowService, from: usize) -> Vec<RecordedRequest> {
    fake.requests().split_off(from)
}

/// A write: anything but a GET and a mapping validation.
fn is_write(r: &RecordedRequest) -> bool {
    r.method != "GET" && !r.path.contains("/mappingSets/validate")
}

fn writes(requests: &[RecordedRequest]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| is_write(r))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn assert_one_of_each(fake: &FakeFlowService) {
    assert_eq!(fake.source_connections().len(), 1, "source connections");
    assert_eq!(fake.target_connections().len(), 1, "target connections");
    assert_eq!(fake.flows().len(), 1, "flows");
}

/// The mappings of the mapping set the (only) flow uses, as (source, destination).
fn flow_mappings(fake: &FakeFlowService) -> Vec<(String, String)> {
    let flow = &fake.flows()[0];
    let (id, _) = flow.mappings.first().expect("the flow has a mapping");
    let set = fake
        .mapping_sets()
        .into_iter()
        .find(|m| &m.id == id)
        .expect("the flow's mapping set exists");
    let mut pairs = set.mappings;
    pairs.sort();
    pairs
}

fn declared_pairs(mappings: &[Mapping]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = mappings
        .iter()
        .map(|m| (m.source().to_owned(), m.destination().to_owned()))
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn first_run_creates_four_objects_and_a_rerun_changes_nothing_in_at_most_five_requests() {
    let s = setup();
    let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
    assert_eq!(
        first.changes,
        [
            PipelineChange::SourceConnectionCreated,
            PipelineChange::TargetConnectionCreated,
            PipelineChange::MappingSetCreated,
            PipelineChange::FlowCreated,
        ]
    );
    assert!(!first.planned);
    assert_one_of_each(&s.fake);
    let flow = &s.fake.flows()[0];
    assert_eq!(first.flow_id.as_deref(), Some(flow.id.as_str()));
    assert_eq!(
        first.source_connection_id.as_deref(),
        Some(s.fake.source_connections()[0].id.as_str())
    );
    assert_eq!(
        first.target_connection_id.as_deref(),
        Some(s.fake.target_connections()[0].id.as_str())
    );
    assert_eq!(flow_mappings(&s.fake), declared_pairs(&mappings()));
    // The first run on an empty sandbox: no request it does not need.
    let all = s.fake.requests();
    assert_eq!(
        writes(&all),
        [
            "POST /data/foundation/flowservice/sourceConnections",
            "POST /data/foundation/flowservice/targetConnections",
            "POST /data/foundation/conversion/mappingSets",
            "POST /data/foundation/flowservice/flows",
        ]
    );
    let first_count = all.len();
    // 12: the mapping set's name is looked up before one is made.
    assert!(first_count <= 12, "first run sent {first_count} requests");
    // No lookup of a flow that cannot exist yet.
    assert!(!all
        .iter()
        .any(|r| r.method == "GET" && r.path.contains("/flows?")));

    let before = s.fake.requests().len();
    let again = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let rerun = since(&s.fake, before);
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    assert!(again.is_unchanged());
    assert!(rerun.len() <= 5, "re-run sent {} requests", rerun.len());
    assert!(writes(&rerun).is_empty(), "{:?}", writes(&rerun));
    assert_eq!(again.flow_id, first.flow_id);
    assert_eq!(again.source_connection_id, first.source_connection_id);
    assert_eq!(again.target_connection_id, first.target_connection_id);
    assert_eq!(again.mapping_set_id, first.mapping_set_id);
    assert_one_of_each(&s.fake);
}

#[test]
fn a_changed_mapping_makes_a_mapping_set_and_patches_the_mapping_entry_at_its_index() {
    let s = setup();
    let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let etag_before = s.fake.flows()[0].etag.clone();
    let changed = vec![
        Mapping::new("id", "_tenant.orderId"),
        Mapping::new("customer", "_tenant.customer"),
        Mapping::new("amount", "_tenant.amount"),
    ];
    let new_spec = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        changed.clone(),
        "updated_at",
        hourly(),
    );
    let before = s.fake.requests().len();
    let out = s.client.ensure_pipeline(&new_spec).unwrap();
    assert_eq!(
        out.changes,
        [
            PipelineChange::MappingSetCreated,
            PipelineChange::FlowMappingUpdated
        ]
    );
    assert_ne!(out.mapping_set_id, first.mapping_set_id);
    let sent = since(&s.fake, before);
    let patch = sent.iter().find(|r| r.method == "PATCH").expect("a PATCH");
    assert_eq!(patch.header("if-match"), Some(etag_before.as_str()));
    let ops: Value = serde_json::from_slice(&patch.body).unwrap();
    // Copy is first on a database flow: the Mapping entry is at index 1.
    assert_eq!(ops[0]["path"], "/transformations/1");
    assert_eq!(ops[0]["value"]["name"], "Mapping");
    assert_eq!(flow_mappings(&s.fake), declared_pairs(&changed));
    let flow = &s.fake.flows()[0];
    assert_eq!(flow.raw()["transformations"][0]["name"], "Copy");
    assert_ne!(flow.etag, etag_before);
    assert_one_of_each(&s.fake);
    // Converged: the next run changes nothing. Declaration order does not matter.
    let mut reordered = changed;
    reordered.reverse();
    let again = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        reordered,
        "updated_at",
        hourly(),
    );
    assert!(s.client.ensure_pipeline(&again).unwrap().changes.is_empty());
}

#[test]
fn a_changed_schedule_is_patched_with_if_match_and_the_start_time_is_never_compared() {
    let s = setup();
    s.client.ensure_pipeline(&spec(&s)).unwrap();
    let etag_before = s.fake.flows()[0].etag.clone();
    let daily = Schedule::every(Frequency::Day, 2, START + 999)
        .unwrap()
        .without_backfill();
    let new_spec = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        mappings(),
        "updated_at",
        daily,
    );
    let before = s.fake.requests().len();
    let out = s.client.ensure_pipeline(&new_spec).unwrap();
    assert_eq!(out.changes, [PipelineChange::FlowScheduleUpdated]);
    let sent = since(&s.fake, before);
    let patch = sent.iter().find(|r| r.method == "PATCH").expect("a PATCH");
    assert!(patch.header("if-match").is_some());
    let body = String::from_utf8_lossy(&patch.body);
    assert!(!body.contains("startTime"), "{body}");
    let params = s.fake.flows()[0].raw()["scheduleParams"].clone();
    assert_eq!(params["frequency"], "day");
    assert_eq!(params["interval"].to_string().trim_matches('"'), "2");
    assert_eq!(
        params["startTime"].to_string().trim_matches('"'),
        START.to_string()
    );
    assert_ne!(s.fake.flows()[0].etag, etag_before);
    // Only the start time differs now: nothing to do.
    let later = Schedule::every(Frequency::Day, 2, START + 86_400)
        .unwrap()
        .without_backfill();
    let same = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        mappings(),
        "updated_at",
        later,
    );
    assert!(s.client.ensure_pipeline(&same).unwrap().changes.is_empty());
}

#[test]
fn a_disabled_flow_stays_disabled_unless_asked() {
    let s = setup();
    let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let flow = out.flow_id.unwrap();
    s.client.disable_flow(&flow).unwrap();
    assert!(s
        .client
        .ensure_pipeline(&spec(&s))
        .unwrap()
        .changes
        .is_empty());
    assert_eq!(s.fake.flows()[0].state, "disabled");
    let out = s
        .client
        .ensure_pipeline(&spec(&s).with_enable(true))
        .unwrap();
    assert_eq!(out.changes, [PipelineChange::FlowEnabled]);
    assert_eq!(s.fake.flows()[0].state, "enabled");
}

#[test]
fn a_lost_answer_at_each_creating_write_ends_with_one_of_each() {
    for path in [
        "/sourceConnections",
        "/targetConnections",
        "/mappingSets",
        "/flows",
    ] {
        let s = setup();
        s.fake.push_reply(
            Reply::after_processing(Reply::close())
                .only_for("POST")
                .only_for_path(path),
        );
        // The mapping set too: it is looked up by its declaration's name.
        let first = s.client.ensure_pipeline(&spec(&s));
        let out = first.unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(out.changes.len(), 4, "{path}");
        let again = s.client.ensure_pipeline(&spec(&s)).unwrap();
        assert!(again.changes.is_empty(), "{path}: {:?}", again.changes);
        assert_one_of_each(&s.fake);
        assert_eq!(s.fake.mapping_sets().len(), 1, "{path}");
        assert_eq!(
            flow_mappings(&s.fake),
            declared_pairs(&mappings()),
            "{path}"
        );
    }
}

#[test]
fn a_run_stopped_after_each_step_is_finished_by_the_next() {
    for path in ["/targetConnections", "/mappingSets", "/flows"] {
        let s = setup();
        // The step is refused before the service acts: the run stops there.
        s.fake.push_reply(
            Reply::json(400, r#"{"message": "stopped here"}"#)
                .only_for("POST")
                .only_for_path(path),
        );
        assert!(s.client.ensure_pipeline(&spec(&s)).is_err(), "{path}");
        let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
        assert!(out.changes.contains(&PipelineChange::FlowCreated), "{path}");
        assert!(
            !out.changes
                .contains(&PipelineChange::SourceConnectionCreated),
            "{path}"
        );
        assert_one_of_each(&s.fake);
        assert_eq!(
            flow_mappings(&s.fake),
            declared_pairs(&mappings()),
            "{path}"
        );
        assert!(s
            .client
            .ensure_pipeline(&spec(&s))
            .unwrap()
            .changes
            .is_empty());
    }
}

#[test]
fn bad_declarations_are_refused_before_any_write() {
    let s = setup();
    let cases: Vec<(PipelineSpec, &str)> = vec![
        (
            PipelineSpec::new(
                &s.base,
                "public.orders",
                DATASET,
                mappings(),
                "changed_at",
                hourly(),
            ),
            "delta_column",
        ),
        (
            PipelineSpec::new(
                &s.base,
                "public.orders",
                DATASET,
                vec![Mapping::new("no_such_column", "_tenant.orderId")],
                "updated_at",
                hourly(),
            ),
            "mappings[0].source",
        ),
        (
            PipelineSpec::new(
                &s.base,
                "public.orders",
                DATASET,
                vec![Mapping::new("id", "_tenant.notInSchema")],
                "updated_at",
                hourly(),
            ),
            "mappings",
        ),
        (
            PipelineSpec::new(
                &s.base,
                "public.orders",
                "0000000000000000000000ff",
                mappings(),
                "updated_at",
                hourly(),
            ),
            "dataset",
        ),
        (
            PipelineSpec::new(
                &s.base,
                "public.nope",
                DATASET,
                mappings(),
                "updated_at",
                hourly(),
            ),
            "public.nope",
        ),
        (
            spec(&s).with_schema_id("https://ns.adobe.com/tenant/schemas/other"),
            "schema_id",
        ),
    ];
    for (bad, expect) in cases {
        let err = s.client.ensure_pipeline(&bad).unwrap_err();
        assert!(err.to_string().contains(expect), "want {expect}: {err}");
        assert!(writes(&s.fake.requests()).is_empty(), "{expect}: {err}");
    }
    // A base connection that is not PostgreSQL.
    s.fake.modify_connection(&s.base, |c| {
        c.spec_id = "b3ba5556-48be-44b7-8b85-ff2b69b46dc4".into()
    });
    let err = s.client.ensure_pipeline(&spec(&s)).unwrap_err();
    assert!(err.is_unsuitable(), "{err}");
    assert!(err.to_string().contains("PostgreSQL"), "{err}");
    assert!(writes(&s.fake.requests()).is_empty());
    // Input the client refuses without sending anything.
    let before = s.fake.requests().len();
    for bad in [
        PipelineSpec::new(
            "",
            "public.orders",
            DATASET,
            mappings(),
            "updated_at",
            hourly(),
        ),
        PipelineSpec::new(&s.base, "", DATASET, mappings(), "updated_at", hourly()),
        PipelineSpec::new(
            &s.base,
            "public.orders",
            "a/b",
            mappings(),
            "updated_at",
            hourly(),
        ),
        PipelineSpec::new(
            &s.base,
            "public.orders",
            DATASET,
            vec![],
            "updated_at",
            hourly(),
        ),
        PipelineSpec::new(&s.base, "public.orders", DATASET, mappings(), "", hourly()),
        spec(&s).with_name(" "),
    ] {
        let err = s.client.ensure_pipeline(&bad).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }
    assert_eq!(s.fake.requests().len(), before);
}

#[test]
fn a_plan_reports_and_writes_nothing() {
    let s = setup();
    let plan = s.client.ensure_pipeline(&spec(&s).with_plan(true)).unwrap();
    assert!(plan.planned);
    assert_eq!(plan.changes.len(), 4);
    assert_eq!(
        (
            plan.flow_id,
            plan.source_connection_id,
            plan.target_connection_id,
            plan.mapping_set_id
        ),
        (None, None, None, None)
    );
    assert!(writes(&s.fake.requests()).is_empty());
    let again = s.client.ensure_pipeline(&spec(&s).with_plan(true)).unwrap();
    assert!(again.planned);
    assert_eq!(again.changes[0].as_str(), "created sourceConnection");
    assert!(again.flow_id.is_none());

    // Drifted: a plan names the updates and the ids it found.
    let made = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let before = s.fake.requests().len();
    let drifted = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        vec![Mapping::new("customer", "_tenant.customer")],
        "updated_at",
        Schedule::every(Frequency::Minute, 30, START).unwrap(),
    )
    .with_plan(true);
    let plan = s.client.ensure_pipeline(&drifted).unwrap();
    assert_eq!(
        plan.changes,
        [
            PipelineChange::FlowScheduleUpdated,
            PipelineChange::MappingSetCreated,
            PipelineChange::FlowMappingUpdated,
        ]
    );
    assert_eq!(plan.flow_id, made.flow_id);
    assert!(writes(&since(&s.fake, before)).is_empty());
}

#[test]
fn concurrent_ensures_on_one_client_make_one_of_each() {
    let s = setup();
    let client = Arc::new(s.client.clone());
    let spec = Arc::new(spec(&s));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let (c, sp) = (Arc::clone(&client), Arc::clone(&spec));
            std::thread::spawn(move || c.ensure_pipeline(&sp).unwrap())
        })
        .collect();
    let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(outcomes.iter().filter(|o| !o.changes.is_empty()).count(), 1);
    assert_one_of_each(&s.fake);
    assert_eq!(s.fake.mapping_sets().len(), 1);
}

#[test]
fn duplicates_made_elsewhere_never_lead_to_a_second_flow() {
    let s = setup();
    let c = &s.client;
    // Another tool made two source connections for the table and two
    // target connections for the dataset, and a flow joining the second of each.
    let source = |name: &str| {
        c.create_source_connection(&aep_flow::NewSourceConnection::new(
            name,
            &s.base,
            "public.orders",
        ))
        .unwrap()
        .id
    };
    let target = |name: &str| {
        c.create_target_connection(&aep_flow::NewTargetConnection::new(name, DATASET, SCHEMA))
            .unwrap()
            .id
    };
    let (_s1, s2) = (source("a"), source("b"));
    let (_t1, t2) = (target("a"), target("b"));
    let set = c
        .create_mapping_set(&aep_flow::NewMappingSet::new(SCHEMA, mappings()))
        .unwrap();
    let flow = c
        .create_flow(&aep_flow::NewFlow::new(
            "by hand",
            &s2,
            &t2,
            "updated_at",
            &set.id,
            set.version,
            hourly(),
        ))
        .unwrap()
        .id;
    let out = c.ensure_pipeline(&spec(&s)).unwrap();
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    assert_eq!(out.flow_id.as_deref(), Some(flow.as_str()));
    assert_eq!(out.source_connection_id.as_deref(), Some(s2.as_str()));
    assert_eq!(out.target_connection_id.as_deref(), Some(t2.as_str()));
    assert_eq!(s.fake.flows().len(), 1);
}

/// The flow runs version 0 of its mapping set while another tool PUT a
/// version 1 that holds the declared mappings: the flow does not use
/// them, so that is drift.
#[test]
fn a_flow_on_an_older_version_of_its_mapping_set_is_drift() {
    let s = setup();
    let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let set_id = first.mapping_set_id.clone().unwrap();
    let body = json!({"outputSchema": {"schemaRef": {"id": SCHEMA,
        "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": [{"sourceType": "ATTRIBUTE", "source": "customer", "destination": "_tenant.customer"}]});
    put_mapping_set(&s, &set_id, &body);
    let declared = vec![Mapping::new("customer", "_tenant.customer")];
    let sp = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        declared.clone(),
        "updated_at",
        hourly(),
    );
    let out = s.client.ensure_pipeline(&sp).unwrap();
    assert_eq!(
        out.changes,
        [
            PipelineChange::MappingSetCreated,
            PipelineChange::FlowMappingUpdated
        ]
    );
    assert_eq!(flow_mappings(&s.fake), declared_pairs(&declared));
    assert!(s.client.ensure_pipeline(&sp).unwrap().changes.is_empty());
}

/// Another tool stored the start time in milliseconds: it is never
/// compared, so a re-run still writes nothing (no PATCH that can never
/// converge).
#[test]
fn an_odd_start_time_on_the_flow_is_not_drift() {
    let s = setup();
    let flow = s
        .client
        .ensure_pipeline(&spec(&s))
        .unwrap()
        .flow_id
        .unwrap();
    s.fake.modify_flow(&flow, |f| {
        f["scheduleParams"]["startTime"] = json!(START * 1000);
    });
    let before = s.fake.requests().len();
    let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    assert!(writes(&since(&s.fake, before)).is_empty());
}

/// Table names that Adobe's filter grammar gives a meaning to (`"`
/// quotes, `,` separates, `==` compares) or that need encoding (`&`,
/// spaces, unicode): each pipeline is found again, not made again.
#[test]
fn odd_table_names_are_found_again_not_duplicated() {
    let s = setup();
    let odd = [
        "public.\"Orders\"",
        "\"My Schema\".\"Order \"\"Lines\"\"\"",
        "public.a,b",
        "public.x==y",
        "public.a&b=c",
        "public.with space",
        "sales.dotted.name",
        "public.bestellungen_ü_日本",
    ];
    let tables: Vec<_> = odd
        .iter()
        .map(|p| {
            aep_flow_testing::FakeTable::new(*p)
                .column("id", "integer")
                .column("amount", "double")
                .column_with_format("updated_at", "string", "date-time")
        })
        .collect();
    s.fake.set_catalog(&s.base, tables);
    for (i, path) in odd.iter().enumerate() {
        let sp = PipelineSpec::new(&s.base, *path, DATASET, mappings(), "updated_at", hourly());
        let first = s.client.ensure_pipeline(&sp).unwrap();
        assert!(
            first.changes.contains(&PipelineChange::FlowCreated),
            "{path}: {:?}",
            first.changes
        );
        for _ in 0..2 {
            let again = s.client.ensure_pipeline(&sp).unwrap();
            assert!(again.changes.is_empty(), "{path}: {:?}", again.changes);
            assert_eq!(again.flow_id, first.flow_id, "{path}");
        }
        assert_eq!(s.fake.source_connections().len(), i + 1, "{path}");
        assert_eq!(s.fake.flows().len(), i + 1, "{path}");
    }
    // No filter value that the grammar could read otherwise went out.
    for r in s.fake.requests() {
        for pair in r.path.split(['?', '&']) {
            if let Some(v) = pair.strip_prefix("property=") {
                assert!(!v.contains("%22") && !v.contains('"'), "{}", r.path);
            }
        }
    }
}

/// The id of the mapping set the (only, or oldest) flow uses.
fn flow_mapping_id(fake: &FakeFlowService) -> String {
    let flow = &fake.flows()[0];
    flow.mappings
        .first()
        .expect("the flow has a mapping")
        .0
        .clone()
}

/// A listing whose items lack the field the lookup checks is not "nothing
/// exists": it is an error naming the field, and nothing is created.
#[test]
fn a_listing_that_hides_the_checked_field_is_an_error_not_an_absence() {
    let s = setup();
    s.client.ensure_pipeline(&spec(&s)).unwrap();
    for (collection, field, named) in [
        ("sourceConnections", "params", "params.tableName"),
        ("sourceConnections", "baseConnectionId", "baseConnectionId"),
        ("targetConnections", "params", "params.dataSetId"),
        ("flows", "sourceConnectionIds", "sourceConnectionIds"),
        ("flows", "targetConnectionIds", "targetConnectionIds"),
    ] {
        s.fake.omit_in_listings(collection, &[field]);
        let before = s.fake.requests().len();
        let err = s.client.ensure_pipeline(&spec(&s)).unwrap_err();
        assert!(
            err.to_string().contains(named),
            "{collection}.{field}: {err}"
        );
        assert!(
            writes(&since(&s.fake, before)).is_empty(),
            "{collection}.{field}"
        );
        assert_one_of_each(&s.fake);
        assert_eq!(s.fake.mapping_sets().len(), 1);
        s.fake.omit_in_listings(collection, &[]);
    }
    assert!(s.client.ensure_pipeline(&spec(&s)).unwrap().is_unchanged());
}

/// A flow create refused five runs in a row leaves one mapping set, which
/// the run that succeeds uses.
#[test]
fn refused_flow_creates_leave_one_mapping_set_over_five_runs() {
    let s = setup();
    let refusal = || {
        Reply::json(
            400,
            json!({"code": "FLOW-1400-400", "message": "Bad request"}).to_string(),
        )
        .only_for("POST")
        .only_for_path("/flows")
    };
    for run in 0..5 {
        s.fake.push_reply(refusal());
        let failed = s.client.ensure_pipeline_partial(&spec(&s)).unwrap_err();
        assert_eq!(failed.error.status(), Some(400), "run {run}");
        if run == 0 {
            // What the run did before the refusal is reported.
            assert_eq!(
                failed.done.changes,
                [
                    PipelineChange::SourceConnectionCreated,
                    PipelineChange::TargetConnectionCreated,
                    PipelineChange::MappingSetCreated,
                ]
            );
        } else {
            assert!(failed.done.changes.is_empty(), "{:?}", failed.done.changes);
            assert!(failed.done.mapping_set_id.is_some());
        }
        assert_eq!(s.fake.mapping_sets().len(), 1, "run {run}");
    }
    let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
    assert_eq!(out.changes, [PipelineChange::FlowCreated]);
    assert_eq!(s.fake.mapping_sets().len(), 1);
    assert_eq!(out.mapping_set_id.unwrap(), flow_mapping_id(&s.fake));
    assert_one_of_each(&s.fake);
}

/// A mapping update lost to a storm of 412s, five runs in a row, leaves
/// one new mapping set, which the run that succeeds points the flow at.
#[test]
fn refused_mapping_updates_leave_one_new_mapping_set_over_five_runs() {
    let s = setup();
    let flow = s
        .client
        .ensure_pipeline(&spec(&s))
        .unwrap()
        .flow_id
        .unwrap();
    let changed = vec![Mapping::new("customer", "_tenant.customer")];
    let sp = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        changed.clone(),
        "updated_at",
        hourly(),
    );
    for run in 0..5 {
        // The update tries twice (it reads again after a 412).
        for _ in 0..2 {
            s.fake.push_reply(
                Reply::json(
                    412,
                    json!({"code": "FLOW-1404-412", "message": "Precondition failed"}).to_string(),
                )
                .only_for("PATCH")
                .only_for_path(format!("/flows/{flow}")),
            );
        }
        let err = s.client.ensure_pipeline(&sp).unwrap_err();
        assert_eq!(err.status(), Some(412), "run {run}: {err}");
        assert_eq!(s.fake.mapping_sets().len(), 2, "run {run}");
    }
    let out = s.client.ensure_pipeline(&sp).unwrap();
    assert_eq!(out.changes, [PipelineChange::FlowMappingUpdated]);
    assert_eq!(s.fake.mapping_sets().len(), 2);
    assert_eq!(flow_mappings(&s.fake), declared_pairs(&changed));
    assert!(s.client.ensure_pipeline(&sp).unwrap().is_unchanged());
}

/// What the service leaves unstated or adds is not drift: a mapping set
/// read back without its schema, a schedule without `backfill`, an `_id`
/// mapping Data Prep added. Each re-run writes nothing.
#[test]
fn equivalent_read_backs_converge_without_writes() {
    let s = setup();
    let sp = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        mappings(),
        "updated_at",
        hourly().without_backfill(),
    );
    let flow = s.client.ensure_pipeline(&sp).unwrap().flow_id.unwrap();
    let set = flow_mapping_id(&s.fake);
    s.fake.hide_mapping_set_schema(true);
    let mut with_id: Vec<(&str, &str)> = vec![
        ("id", "_tenant.orderId"),
        ("amount", "_tenant.amount"),
        ("order_id", "_id"),
    ];
    for run in 0..3 {
        // The service keeps dropping backfill and adding `_id`.
        s.fake.modify_flow(&flow, |f| {
            f["scheduleParams"]
                .as_object_mut()
                .unwrap()
                .remove("backfill");
        });
        assert!(s.fake.set_mapping_set_mappings(&set, &with_id));
        let before = s.fake.requests().len();
        let out = s.client.ensure_pipeline(&sp).unwrap();
        assert!(out.changes.is_empty(), "run {run}: {:?}", out.changes);
        assert!(writes(&since(&s.fake, before)).is_empty(), "run {run}");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }
    // A declared mapping that does not read back: a warning, not a write
    // on every run.
    with_id.remove(1);
    assert!(s.fake.set_mapping_set_mappings(&set, &with_id));
    for _ in 0..2 {
        let before = s.fake.requests().len();
        let out = s.client.ensure_pipeline(&sp).unwrap();
        assert!(out.changes.is_empty(), "{:?}", out.changes);
        assert!(writes(&since(&s.fake, before)).is_empty());
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("amount -> _tenant.amount"));
    }
    assert_eq!(s.fake.mapping_sets().len(), 1);
}

/// A schema given for an existing pipeline is checked against the
/// dataset's, every run: a wrong one is refused, never written.
#[test]
fn a_schema_given_is_checked_against_the_dataset_on_an_existing_pipeline() {
    let s = setup();
    const OTHER: &str = "https://ns.adobe.com/tenant/schemas/other";
    s.fake
        .add_dataset("5c8c3c555033b814b69f9480", "other", OTHER);
    s.client.ensure_pipeline(&spec(&s)).unwrap();
    let before = s.fake.requests().len();
    let err = s
        .client
        .ensure_pipeline(&spec(&s).with_schema_id(OTHER))
        .unwrap_err();
    assert!(err.is_unsuitable(), "{err}");
    assert!(err.to_string().contains(SCHEMA), "{err}");
    assert!(writes(&since(&s.fake, before)).is_empty());
    // The right one changes nothing.
    let out = s
        .client
        .ensure_pipeline(&spec(&s).with_schema_id(SCHEMA))
        .unwrap();
    assert!(out.is_unchanged(), "{:?}", out.changes);
    assert_eq!(s.fake.mapping_sets().len(), 1);
}

/// Two flows for the same table and dataset (two processes at once): the
/// oldest is converged, the other is reported and left alone, every run.
#[test]
fn twin_flows_are_reported_and_the_oldest_converged() {
    let s = setup();
    let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let (source, target) = (
        first.source_connection_id.clone().unwrap(),
        first.target_connection_id.clone().unwrap(),
    );
    let set = first.mapping_set_id.clone().unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let twin = s
        .client
        .create_flow(&aep_flow::NewFlow::new(
            "twin",
            &source,
            &target,
            "updated_at",
            &set,
            0,
            hourly(),
        ))
        .unwrap()
        .id;
    let daily = Schedule::every(Frequency::Day, 1, START).unwrap();
    let sp = spec(&s);
    let sp = PipelineSpec::new(
        sp.base_connection_id(),
        sp.table_path(),
        DATASET,
        mappings(),
        "updated_at",
        daily,
    );
    for _ in 0..2 {
        let out = s.client.ensure_pipeline(&sp).unwrap();
        assert_eq!(out.flow_id, first.flow_id);
        assert_eq!(out.duplicates, vec![twin.clone()]);
        assert!(
            out.warnings.iter().any(|w| w.contains(&twin)),
            "{:?}",
            out.warnings
        );
    }
    let flows = s.fake.flows();
    let by_id = |id: &str| flows.iter().find(|f| f.id == id).unwrap().clone();
    assert_eq!(
        by_id(first.flow_id.as_deref().unwrap()).schedule_frequency,
        "day"
    );
    assert_eq!(by_id(&twin).schedule_frequency, "hour");
}

/// A delta column that is not a date or time column is refused before any
/// write; a flow without a `Copy` transformation is named as such.
#[test]
fn delta_column_checks_name_the_problem() {
    let s = setup();
    let sp = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        mappings(),
        "amount",
        hourly(),
    );
    let err = s.client.ensure_pipeline(&sp).unwrap_err();
    assert!(err.is_unsuitable(), "{err}");
    assert!(err.to_string().contains("date or time"), "{err}");
    assert!(writes(&s.fake.requests()).is_empty());

    let flow = s
        .client
        .ensure_pipeline(&spec(&s))
        .unwrap()
        .flow_id
        .unwrap();
    s.fake.modify_flow(&flow, |f| {
        f["transformations"]
            .as_array_mut()
            .unwrap()
            .retain(|t| t["name"] != "Copy");
    });
    let err = s.client.ensure_pipeline(&spec(&s)).unwrap_err();
    assert!(err.to_string().contains("no Copy transformation"), "{err}");
    assert!(!err.to_string().contains("delta column \"\""), "{err}");
}

/// A schedule update the service acknowledges but does not apply is read
/// back once and reported as a warning.
#[test]
fn a_schedule_that_does_not_read_back_is_a_warning() {
    let s = setup();
    let flow = s
        .client
        .ensure_pipeline(&spec(&s))
        .unwrap()
        .flow_id
        .unwrap();
    s.fake.push_reply(
        Reply::json(200, json!({"id": flow, "etag": "\"ignored\""}).to_string())
            .only_for("PATCH")
            .only_for_path(format!("/flows/{flow}")),
    );
    let daily = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        mappings(),
        "updated_at",
        Schedule::every(Frequency::Day, 1, START).unwrap(),
    );
    let out = s.client.ensure_pipeline(&daily).unwrap();
    assert_eq!(out.changes, [PipelineChange::FlowScheduleUpdated]);
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(out.warnings[0].contains("reads back as frequency hour"));
}

/// The digest name is the declaration's: the same whatever the order of
/// the mappings, different for another schema or mapping.
#[test]
fn mapping_set_names_follow_the_declaration() {
    let a = aep_flow::mapping_set_name(SCHEMA, &mappings());
    let mut reversed = mappings();
    reversed.reverse();
    assert_eq!(a, aep_flow::mapping_set_name(SCHEMA, &reversed));
    assert!(a.starts_with(aep_flow::defaults::MAPPING_SET_NAME_PREFIX));
    assert_eq!(
        a.len(),
        aep_flow::defaults::MAPPING_SET_NAME_PREFIX.len() + 32
    );
    assert_ne!(
        a,
        aep_flow::mapping_set_name("https://ns.adobe.com/x", &mappings())
    );
    assert_ne!(
        a,
        aep_flow::mapping_set_name(SCHEMA, &[Mapping::new("id", "_tenant.orderId")])
    );
    assert_ne!(
        aep_flow::mapping_set_name(SCHEMA, &[Mapping::new("a", "_b.c")]),
        aep_flow::mapping_set_name(SCHEMA, &[Mapping::expression("a", "_b.c")])
    );
}

/// A mapping set that bears this declaration's name but holds other
/// mappings (made by someone else, or edited since) is not reused: the
/// flow gets the declared mappings.
#[test]
fn a_mapping_set_named_like_the_declaration_but_holding_other_mappings_is_not_reused() {
    let s = setup();
    let name = aep_flow::mapping_set_name(SCHEMA, &mappings());
    for other in [
        vec![Mapping::new("customer", "_tenant.customer")],
        vec![Mapping::new("id", "_tenant.orderId")],
    ] {
        let foreign = s
            .client
            .create_mapping_set(&aep_flow::NewMappingSet::new(SCHEMA, other).with_name(&name))
            .unwrap()
            .id;
        let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
        assert_ne!(out.mapping_set_id.as_deref(), Some(foreign.as_str()));
        assert!(
            !out.warnings.iter().any(|w| w.contains(&foreign)),
            "{:?}",
            out.warnings
        );
        assert_eq!(flow_mappings(&s.fake), declared_pairs(&mappings()));
        // Converged: the next run writes nothing.
        let before = s.fake.requests().len();
        assert!(s.client.ensure_pipeline(&spec(&s)).unwrap().is_unchanged());
        assert!(writes(&since(&s.fake, before)).is_empty());
        for f in s.fake.flows() {
            s.client.delete_flow(&f.id).unwrap();
        }
    }
}

/// `PUT /mappingSets/{id}` (a new version, as an edit in the UI makes),
/// with the headers the client sent on its first mapping set create.
fn put_mapping_set(s: &Setup, set_id: &str, body: &Value) {
    use std::io::{Read, Write};
    let template = s
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.contains("/mappingSets"))
        .unwrap();
    let body = body.to_string();
    let mut req = format!(
        "PUT /data/foundation/conversion/mappingSets/{set_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Connection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in &template.headers {
        if [
            "authorization",
            "x-api-key",
            "x-gw-ims-org-id",
            "x-sandbox-name",
            "content-type",
        ]
        .contains(&k.as_str())
        {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    req.push_str("\r\n");
    req.push_str(&body);
    let mut tcp = std::net::TcpStream::connect(s.fake.addr()).unwrap();
    tcp.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Someone edits the flow's mapping set (a new version, keeping its name,
/// as the UI does) and points the flow at it: a removed or an added
/// mapping is drift, converged back to the declaration, not a warning.
#[test]
fn an_edited_version_of_the_declarations_mapping_set_is_drift() {
    let edits: [&[(&str, &str)]; 2] = [
        // A declared mapping removed.
        &[("id", "_tenant.orderId")],
        // A mapping added.
        &[
            ("id", "_tenant.orderId"),
            ("amount", "_tenant.amount"),
            ("customer", "_tenant.customer"),
        ],
    ];
    for edit in edits {
        let s = setup();
        let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
        let set_id = first.mapping_set_id.clone().unwrap();
        let name = aep_flow::mapping_set_name(SCHEMA, &mappings());
        let mappings_json: Vec<Value> = edit
            .iter()
            .map(|(source, destination)| {
                json!({"sourceType": "ATTRIBUTE", "source": source, "destination": destination})
            })
            .collect();
        put_mapping_set(
            &s,
            &set_id,
            &json!({"name": name, "outputSchema": {"schemaRef": {"id": SCHEMA,
                "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
                "mappings": mappings_json}),
        );
        s.client
            .update_flow_mapping(first.flow_id.as_deref().unwrap(), &set_id, 1)
            .unwrap();
        let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
        assert_eq!(
            out.changes,
            [
                PipelineChange::MappingSetCreated,
                PipelineChange::FlowMappingUpdated
            ],
            "{edit:?}: {:?}",
            out.warnings
        );
        assert_eq!(flow_mappings(&s.fake), declared_pairs(&mappings()));
        assert!(s.client.ensure_pipeline(&spec(&s)).unwrap().is_unchanged());
    }
}

/// A target connection listed without its schema (`data`) while Data Prep
/// added an `_id` to the flow's mapping set: re-runs write nothing (the
/// flow is never patched to the mapping set it already uses).
#[test]
fn a_target_connection_without_its_schema_does_not_patch_the_flow_on_every_run() {
    let s = setup();
    let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let set = first.mapping_set_id.clone().unwrap();
    s.fake.omit_in_listings("targetConnections", &["data"]);
    assert!(s.fake.set_mapping_set_mappings(
        &set,
        &[
            ("id", "_tenant.orderId"),
            ("amount", "_tenant.amount"),
            ("order_id", "_id"),
        ]
    ));
    for run in 0..3 {
        let before = s.fake.requests().len();
        let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
        let sent = since(&s.fake, before);
        assert!(out.is_unchanged(), "run {run}: {:?}", out.changes);
        assert!(writes(&sent).is_empty(), "run {run}: {:?}", writes(&sent));
        assert!(sent.len() <= 4, "run {run}: {} requests", sent.len());
        assert_eq!(out.mapping_set_id.as_deref(), Some(set.as_str()));
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }
    // A legacy mapping set that states no schema either: still no write.
    s.fake.hide_mapping_set_schema(true);
    let before = s.fake.requests().len();
    let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
    assert!(out.is_unchanged(), "{:?}", out.changes);
    assert!(writes(&since(&s.fake, before)).is_empty());
    let plan = s.client.ensure_pipeline(&spec(&s).with_plan(true)).unwrap();
    assert!(plan.is_unchanged(), "{:?}", plan.changes);
    assert_eq!(s.fake.mapping_sets().len(), 1);
}

/// `find_flow` on a listing whose flows lack their connection ids (and a
/// service that ignores `property=`): an error naming the field, never
/// another pipeline's flow.
#[test]
fn find_flow_never_returns_a_flow_it_could_not_check() {
    let fake = FakeFlowService::builder()
        .ignore_property_filters()
        .start()
        .unwrap();
    let base = fake.insert_connection(
        "pg",
        CONNECTION_STRING_AUTH,
        json!({"connectionString": "Server=db;Database=d;Port=5432;UID=u;Password=p"}),
    );
    fake.set_catalog(&base, demo_catalog());
    const OTHER: &str = "5c8c3c555033b814b69f9480";
    fake.add_dataset(DATASET, "orders", SCHEMA);
    fake.add_dataset(OTHER, "orders too", SCHEMA);
    fake.set_schema_fields(SCHEMA, &["_tenant.orderId", "_tenant.amount"]);
    let client = Client::builder(common::platform(&fake)).build().unwrap();
    let a = client
        .ensure_pipeline(&PipelineSpec::new(
            &base,
            "public.orders",
            DATASET,
            mappings(),
            "updated_at",
            hourly(),
        ))
        .unwrap();
    let b = client
        .ensure_pipeline(&PipelineSpec::new(
            &base,
            "public.orders",
            OTHER,
            mappings(),
            "updated_at",
            hourly(),
        ))
        .unwrap();
    let (source, target_b) = (
        a.source_connection_id.unwrap(),
        b.target_connection_id.unwrap(),
    );
    let target_a = a.target_connection_id.unwrap();
    // Checkable: found, and not found.
    assert_eq!(
        client.find_flow(&source, &target_b).unwrap().map(|f| f.id),
        b.flow_id
    );
    assert!(client.find_flow(&target_a, &target_b).unwrap().is_none());
    fake.omit_in_listings("flows", &["sourceConnectionIds", "targetConnectionIds"]);
    let err = client.find_flow(&target_a, &target_b).unwrap_err();
    assert!(err.to_string().contains("sourceConnectionIds"), "{err}");
}

/// Explore that does not say a column's type: the delta column is not
/// refused for want of one (only a type explore states is checked).
#[test]
fn a_delta_column_explore_gives_no_type_for_is_not_refused() {
    let s = setup();
    s.fake.set_catalog(
        &s.base,
        vec![aep_flow_testing::FakeTable::new("public.orders")
            .column("id", "integer")
            .column("amount", "double")
            .column("updated_at", "")],
    );
    let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
    assert!(
        out.changes.contains(&PipelineChange::FlowCreated),
        "{:?}",
        out.changes
    );
    // A type that is stated and is not a date or time is still refused.
    s.fake.set_catalog(
        &s.base,
        vec![aep_flow_testing::FakeTable::new("public.orders")
            .column("id", "integer")
            .column("amount", "double")
            .column("updated_at", "integer")],
    );
    let changed = PipelineSpec::new(
        &s.base,
        "public.orders",
        DATASET,
        vec![Mapping::new("id", "_tenant.orderId")],
        "updated_at",
        hourly(),
    );
    let err = s.client.ensure_pipeline(&changed).unwrap_err();
    assert!(err.to_string().contains("date or time"), "{err}");
}

/// The name is a fixed function of the declaration, the same on every run
/// and every build (a change would orphan every mapping set made before),
/// and fields are not run together: `a`+`bc` is not `ab`+`c`.
#[test]
fn mapping_set_names_are_pinned_and_unambiguous() {
    let name = aep_flow::mapping_set_name(SCHEMA, &mappings());
    // Two 64-bit FNV-1a (offsets cbf29ce484222325, 6c62272e07bb0142) over
    // the length-prefixed parts, computed independently.
    assert_eq!(name, "aep-flow-5bd29d474dd88e6e19dbb5af9ae17373");
    let n = |source: &str, destination: &str| {
        aep_flow::mapping_set_name(SCHEMA, &[Mapping::new(source, destination)])
    };
    assert_ne!(n("a", "bc"), n("ab", "c"));
    assert_ne!(
        aep_flow::mapping_set_name(SCHEMA, &[Mapping::new("a", "b"), Mapping::new("c", "d")]),
        aep_flow::mapping_set_name(SCHEMA, &[Mapping::new("a", "d"), Mapping::new("c", "b")])
    );
    assert_ne!(
        aep_flow::mapping_set_name("s", &[Mapping::new("x", "y")]),
        aep_flow::mapping_set_name("sx", &[Mapping::new("", "y")])
    );
}
