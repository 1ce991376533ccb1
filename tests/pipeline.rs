//! `ensure_pipeline` against the fake: the first run creates four objects,
//! a re-run sends at most five requests and writes nothing, drift is
//! converged with If-Match, lost answers and killed runs leave exactly one
//! of each, bad declarations are refused before any write, and a plan
//! writes nothing.

mod common;
use common::id;

use std::sync::Arc;
use std::time::Duration;

use aep_flow::{
    mapping_set_name, spec::CONNECTION_STRING_AUTH, Client, ConnectionId, ConnectionPlan,
    DatasetId, Error, FlowPlan, FlowState, Frequency, Mapping, MappingPlan, MappingSetPlan,
    PipelineChange, PipelineSpec, Schedule, SourceConnectionId,
};
use aep_flow_testing::{demo_catalog, FakeFlowService, RecordedRequest, Reply};
use serde_json::{json, Value};

const DATASET: &str = "5c8c3c555033b814b69f947f";
const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/orders";
const START: i64 = 1_764_230_400;

struct Setup {
    fake: FakeFlowService,
    client: Client,
    base: ConnectionId,
}

fn setup() -> Setup {
    let fake = FakeFlowService::start().unwrap();
    let base: ConnectionId = id(&fake.insert_connection(
        "pg",
        CONNECTION_STRING_AUTH,
        json!({"connectionString": "Server=db;Database=d;Port=5432;UID=u;Password=p"}),
    ));
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

/// The declaration most tests use, on base connection `base`; a test
/// changes what it needs with the setters.
fn spec_on(base: &ConnectionId) -> PipelineSpec {
    PipelineSpec::new()
        .with_base_connection_id(base.clone())
        .with_table_path("public.orders")
        .with_dataset_id(id(DATASET))
        .with_mappings(mappings())
        .with_delta_column("updated_at")
        .with_schedule(hourly())
}

fn spec(s: &Setup) -> PipelineSpec {
    spec_on(&s.base)
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
    assert_one_of_each(&s.fake);
    let flow = &s.fake.flows()[0];
    assert_eq!(first.flow_id, flow.id.as_str());
    assert_eq!(
        first.source_connection_id,
        s.fake.source_connections()[0].id.as_str()
    );
    assert_eq!(
        first.target_connection_id,
        s.fake.target_connections()[0].id.as_str()
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
    let new_spec = spec(&s).with_mappings(changed.clone());
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
    let again = spec(&s).with_mappings(reordered);
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
    let new_spec = spec(&s).with_schedule(daily);
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
    let same = spec(&s).with_schedule(later);
    assert!(s.client.ensure_pipeline(&same).unwrap().changes.is_empty());
}

#[test]
fn a_disabled_flow_stays_disabled_unless_asked() {
    let s = setup();
    let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let flow = out.flow_id;
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
        (spec(&s).with_delta_column("changed_at"), "delta_column"),
        (
            spec(&s).with_mappings(vec![Mapping::new("no_such_column", "_tenant.orderId")]),
            "mappings[0].source",
        ),
        (
            spec(&s).with_mappings(vec![Mapping::new("id", "_tenant.notInSchema")]),
            "mappings",
        ),
        (
            spec(&s).with_dataset_id(id("0000000000000000000000ff")),
            "dataset",
        ),
        (spec(&s).with_table_path("public.nope"), "public.nope"),
        (
            spec(&s).with_schema_id(id("https://ns.adobe.com/tenant/schemas/other")),
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
    // Ids that break the rules cannot be made at all.
    assert_eq!(
        "".parse::<ConnectionId>().unwrap_err().kind(),
        "connection id"
    );
    assert_eq!("a/b".parse::<DatasetId>().unwrap_err().kind(), "dataset id");
    let without_base = PipelineSpec::new()
        .with_table_path("public.orders")
        .with_dataset_id(id(DATASET))
        .with_mappings(mappings())
        .with_delta_column("updated_at")
        .with_schedule(hourly());
    for bad in [
        without_base,
        spec(&s).with_table_path(""),
        spec(&s).with_mappings(vec![]),
        spec(&s).with_delta_column(""),
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
    let plan = s.client.plan_pipeline(&spec(&s)).unwrap();
    assert_eq!(plan.changes().len(), 4);
    assert!(!plan.is_in_sync());
    assert_eq!(
        (
            plan.flow_id(),
            plan.source_connection.id(),
            plan.target_connection.id(),
            plan.mapping_set_id()
        ),
        (None, None, None, None)
    );
    assert!(writes(&s.fake.requests()).is_empty());
    let again = s.client.plan_pipeline(&spec(&s)).unwrap();
    assert_eq!(again.changes()[0].as_str(), "created sourceConnection");
    assert!(again.flow_id().is_none());

    // Drifted: a plan names the updates and the ids it found.
    let made = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let before = s.fake.requests().len();
    let drifted = spec(&s)
        .with_mappings(vec![Mapping::new("customer", "_tenant.customer")])
        .with_schedule(Schedule::every(Frequency::Minute, 30, START).unwrap());
    let plan = s.client.plan_pipeline(&drifted).unwrap();
    assert_eq!(
        plan.changes(),
        [
            PipelineChange::FlowScheduleUpdated,
            PipelineChange::MappingSetCreated,
            PipelineChange::FlowMappingUpdated,
        ]
    );
    assert_eq!(plan.flow_id(), Some(&made.flow_id));
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
            s.base.clone(),
            "public.orders",
        ))
        .unwrap()
        .id
    };
    let target = |name: &str| {
        c.create_target_connection(&aep_flow::NewTargetConnection::new(
            name,
            id(DATASET),
            id(SCHEMA),
        ))
        .unwrap()
        .id
    };
    let (_s1, s2) = (source("a"), source("b"));
    let (_t1, t2) = (target("a"), target("b"));
    let set = c
        .create_mapping_set(&aep_flow::NewMappingSet::new(id(SCHEMA), mappings()))
        .unwrap();
    let flow = c
        .create_flow(&aep_flow::NewFlow::new(aep_flow::FlowParts {
            name: "by hand",
            source_connection_id: s2.clone(),
            target_connection_id: t2.clone(),
            delta_column: "updated_at",
            mapping_set_id: set.id.clone(),
            mapping_set_version: set.version,
            schedule: hourly(),
        }))
        .unwrap()
        .id;
    let out = c.ensure_pipeline(&spec(&s)).unwrap();
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    assert_eq!(out.flow_id, flow.as_str());
    assert_eq!(out.source_connection_id, s2.as_str());
    assert_eq!(out.target_connection_id, t2.as_str());
    assert_eq!(s.fake.flows().len(), 1);
}

/// The flow runs version 0 of its mapping set while another tool PUT a
/// version 1 that holds the declared mappings: the flow does not use
/// them, so that is drift.
#[test]
fn a_flow_on_an_older_version_of_its_mapping_set_is_drift() {
    let s = setup();
    let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let set_id = first.mapping_set_id.clone();
    let body = json!({"outputSchema": {"schemaRef": {"id": SCHEMA,
        "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": [{"sourceType": "ATTRIBUTE", "source": "customer", "destination": "_tenant.customer"}]});
    put_mapping_set(&s, &set_id, &body);
    let declared = vec![Mapping::new("customer", "_tenant.customer")];
    let sp = spec(&s).with_mappings(declared.clone());
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
    let flow = s.client.ensure_pipeline(&spec(&s)).unwrap().flow_id;
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
        let sp = spec(&s).with_table_path(*path);
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
    assert_eq!(out.mapping_set_id, flow_mapping_id(&s.fake));
    assert_one_of_each(&s.fake);
}

/// A mapping update lost to a storm of 412s, five runs in a row, leaves
/// one new mapping set, which the run that succeeds points the flow at.
#[test]
fn refused_mapping_updates_leave_one_new_mapping_set_over_five_runs() {
    let s = setup();
    let flow = s.client.ensure_pipeline(&spec(&s)).unwrap().flow_id;
    let changed = vec![Mapping::new("customer", "_tenant.customer")];
    let sp = spec(&s).with_mappings(changed.clone());
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
    let sp = spec(&s).with_schedule(hourly().without_backfill());
    let flow = s.client.ensure_pipeline(&sp).unwrap().flow_id;
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
        .ensure_pipeline(&spec(&s).with_schema_id(id(OTHER)))
        .unwrap_err();
    assert!(err.is_unsuitable(), "{err}");
    assert!(err.to_string().contains(SCHEMA), "{err}");
    assert!(writes(&since(&s.fake, before)).is_empty());
    // The right one changes nothing.
    let out = s
        .client
        .ensure_pipeline(&spec(&s).with_schema_id(id(SCHEMA)))
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
        first.source_connection_id.clone(),
        first.target_connection_id.clone(),
    );
    let set = first.mapping_set_id.clone();
    std::thread::sleep(Duration::from_millis(5));
    let twin = s
        .client
        .create_flow(&aep_flow::NewFlow::new(aep_flow::FlowParts {
            name: "twin",
            source_connection_id: source.clone(),
            target_connection_id: target.clone(),
            delta_column: "updated_at",
            mapping_set_id: set.clone(),
            mapping_set_version: 0,
            schedule: hourly(),
        }))
        .unwrap()
        .id;
    let daily = Schedule::every(Frequency::Day, 1, START).unwrap();
    let sp = spec(&s).with_schedule(daily);
    for _ in 0..2 {
        let out = s.client.ensure_pipeline(&sp).unwrap();
        assert_eq!(out.flow_id, first.flow_id);
        assert_eq!(out.duplicates, vec![twin.clone()]);
        assert!(
            out.warnings.iter().any(|w| w.contains(twin.as_str())),
            "{:?}",
            out.warnings
        );
    }
    let flows = s.fake.flows();
    let by_id = |id: &str| flows.iter().find(|f| f.id == id).unwrap().clone();
    assert_eq!(by_id(&first.flow_id).schedule_frequency, "day");
    assert_eq!(by_id(&twin).schedule_frequency, "hour");
}

/// A delta column that is not a date or time column is refused before any
/// write; a flow without a `Copy` transformation is named as such.
#[test]
fn delta_column_checks_name_the_problem() {
    let s = setup();
    let sp = spec(&s).with_delta_column("amount");
    let err = s.client.ensure_pipeline(&sp).unwrap_err();
    assert!(err.is_unsuitable(), "{err}");
    assert!(err.to_string().contains("date or time"), "{err}");
    assert!(writes(&s.fake.requests()).is_empty());

    let flow = s.client.ensure_pipeline(&spec(&s)).unwrap().flow_id;
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
    let flow = s.client.ensure_pipeline(&spec(&s)).unwrap().flow_id;
    s.fake.push_reply(
        Reply::json(200, json!({"id": flow, "etag": "\"ignored\""}).to_string())
            .only_for("PATCH")
            .only_for_path(format!("/flows/{flow}")),
    );
    let daily = spec(&s).with_schedule(Schedule::every(Frequency::Day, 1, START).unwrap());
    let out = s.client.ensure_pipeline(&daily).unwrap();
    assert_eq!(out.changes, [PipelineChange::FlowScheduleUpdated]);
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(out.warnings[0].contains("reads back as frequency hour"));
}

/// The digest name is the declaration's: the same whatever the order of
/// the mappings, different for another schema or mapping.
#[test]
fn mapping_set_names_follow_the_declaration() {
    let a = aep_flow::mapping_set_name(&id(SCHEMA), &mappings());
    let mut reversed = mappings();
    reversed.reverse();
    assert_eq!(a, aep_flow::mapping_set_name(&id(SCHEMA), &reversed));
    assert!(a.starts_with(aep_flow::defaults::MAPPING_SET_NAME_PREFIX));
    assert_eq!(
        a.len(),
        aep_flow::defaults::MAPPING_SET_NAME_PREFIX.len() + 32
    );
    assert_ne!(
        a,
        aep_flow::mapping_set_name(&id("https://ns.adobe.com/x"), &mappings())
    );
    assert_ne!(
        a,
        aep_flow::mapping_set_name(&id(SCHEMA), &[Mapping::new("id", "_tenant.orderId")])
    );
    assert_ne!(
        aep_flow::mapping_set_name(&id(SCHEMA), &[Mapping::new("a", "_b.c")]),
        aep_flow::mapping_set_name(&id(SCHEMA), &[Mapping::expression("a", "_b.c")])
    );
}

/// A mapping set that bears this declaration's name but holds other
/// mappings (made by someone else, or edited since) is not reused: the
/// flow gets the declared mappings.
#[test]
fn a_mapping_set_named_like_the_declaration_but_holding_other_mappings_is_not_reused() {
    let s = setup();
    let name = aep_flow::mapping_set_name(&id(SCHEMA), &mappings());
    for other in [
        vec![Mapping::new("customer", "_tenant.customer")],
        vec![Mapping::new("id", "_tenant.orderId")],
    ] {
        let foreign = s
            .client
            .create_mapping_set(&aep_flow::NewMappingSet::new(id(SCHEMA), other).with_name(&name))
            .unwrap()
            .id;
        let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
        assert_ne!(out.mapping_set_id, foreign);
        assert!(
            !out.warnings.iter().any(|w| w.contains(foreign.as_str())),
            "{:?}",
            out.warnings
        );
        assert_eq!(flow_mappings(&s.fake), declared_pairs(&mappings()));
        // Converged: the next run writes nothing.
        let before = s.fake.requests().len();
        assert!(s.client.ensure_pipeline(&spec(&s)).unwrap().is_unchanged());
        assert!(writes(&since(&s.fake, before)).is_empty());
        for f in s.fake.flows() {
            s.client.delete_flow(&id(&f.id)).unwrap();
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
        let set_id = first.mapping_set_id.clone();
        let name = aep_flow::mapping_set_name(&id(SCHEMA), &mappings());
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
            .update_flow_mapping(&first.flow_id, &set_id, 1)
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
    let set = first.mapping_set_id.clone();
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
        assert_eq!(out.mapping_set_id, set.as_str());
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }
    // A legacy mapping set that states no schema either: still no write.
    s.fake.hide_mapping_set_schema(true);
    let before = s.fake.requests().len();
    let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
    assert!(out.is_unchanged(), "{:?}", out.changes);
    assert!(writes(&since(&s.fake, before)).is_empty());
    let plan = s.client.plan_pipeline(&spec(&s)).unwrap();
    assert!(plan.is_in_sync(), "{plan:?}");
    assert!(plan.changes().is_empty(), "{plan:?}");
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
    let base: ConnectionId = id(&fake.insert_connection(
        "pg",
        CONNECTION_STRING_AUTH,
        json!({"connectionString": "Server=db;Database=d;Port=5432;UID=u;Password=p"}),
    ));
    fake.set_catalog(&base, demo_catalog());
    const OTHER: &str = "5c8c3c555033b814b69f9480";
    fake.add_dataset(DATASET, "orders", SCHEMA);
    fake.add_dataset(OTHER, "orders too", SCHEMA);
    fake.set_schema_fields(SCHEMA, &["_tenant.orderId", "_tenant.amount"]);
    let client = Client::builder(common::platform(&fake)).build().unwrap();
    let a = client.ensure_pipeline(&spec_on(&base)).unwrap();
    let b = client
        .ensure_pipeline(&spec_on(&base).with_dataset_id(id(OTHER)))
        .unwrap();
    let (source, target_b) = (a.source_connection_id, b.target_connection_id);
    let target_a = a.target_connection_id;
    // Checkable: found, and not found.
    assert_eq!(
        client.find_flow(&source, &target_b).unwrap().map(|f| f.id),
        Some(b.flow_id)
    );
    // A target connection's id asked for as a source: an explicit
    // conversion, as the types no longer let one kind pass for another.
    let target_a_as_source: SourceConnectionId = id(target_a.as_str());
    assert!(client
        .find_flow(&target_a_as_source, &target_b)
        .unwrap()
        .is_none());
    fake.omit_in_listings("flows", &["sourceConnectionIds", "targetConnectionIds"]);
    let err = client
        .find_flow(&target_a_as_source, &target_b)
        .unwrap_err();
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
    let changed = spec(&s).with_mappings(vec![Mapping::new("id", "_tenant.orderId")]);
    let err = s.client.ensure_pipeline(&changed).unwrap_err();
    assert!(err.to_string().contains("date or time"), "{err}");
}

/// The name is a fixed function of the declaration, the same on every run
/// and every build (a change would orphan every mapping set made before),
/// and fields are not run together: `a`+`bc` is not `ab`+`c`.
#[test]
fn mapping_set_names_are_pinned_and_unambiguous() {
    let name = aep_flow::mapping_set_name(&id(SCHEMA), &mappings());
    // Two 64-bit FNV-1a (offsets cbf29ce484222325, 6c62272e07bb0142) over
    // the length-prefixed parts, computed independently.
    assert_eq!(name, "aep-flow-5bd29d474dd88e6e19dbb5af9ae17373");
    let n = |source: &str, destination: &str| {
        aep_flow::mapping_set_name(&id(SCHEMA), &[Mapping::new(source, destination)])
    };
    assert_ne!(n("a", "bc"), n("ab", "c"));
    assert_ne!(
        aep_flow::mapping_set_name(
            &id(SCHEMA),
            &[Mapping::new("a", "b"), Mapping::new("c", "d")]
        ),
        aep_flow::mapping_set_name(
            &id(SCHEMA),
            &[Mapping::new("a", "d"), Mapping::new("c", "b")]
        )
    );
    assert_ne!(
        aep_flow::mapping_set_name(&id("s"), &[Mapping::new("x", "y")]),
        aep_flow::mapping_set_name(&id("sx"), &[Mapping::new("", "y")])
    );
}

/// The requests as `METHOD path`, for comparing two runs.
fn lines(requests: &[RecordedRequest]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// A request that changes something: POST, PATCH, PUT or DELETE (the
/// mapping validation, a POST that stores nothing, aside).
fn is_mutation(r: &RecordedRequest) -> bool {
    matches!(r.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE")
        && !r.path.ends_with("/mappingSets/validate")
}

#[test]
fn a_spec_missing_a_required_field_names_it_before_anything_is_sent() {
    let s = setup();
    let full = spec(&s);
    let before = s.fake.requests().len();
    let cases: Vec<(PipelineSpec, &str)> = vec![
        (
            PipelineSpec::new()
                .with_table_path("public.orders")
                .with_dataset_id(id(DATASET))
                .with_mappings(mappings())
                .with_delta_column("updated_at")
                .with_schedule(hourly()),
            "base_connection_id",
        ),
        (
            PipelineSpec::new()
                .with_base_connection_id(s.base.clone())
                .with_dataset_id(id(DATASET))
                .with_mappings(mappings())
                .with_delta_column("updated_at")
                .with_schedule(hourly()),
            "table_path",
        ),
        (
            PipelineSpec::new()
                .with_base_connection_id(s.base.clone())
                .with_table_path("public.orders")
                .with_mappings(mappings())
                .with_delta_column("updated_at")
                .with_schedule(hourly()),
            "dataset_id",
        ),
        (
            PipelineSpec::new()
                .with_base_connection_id(s.base.clone())
                .with_table_path("public.orders")
                .with_dataset_id(id(DATASET))
                .with_delta_column("updated_at")
                .with_schedule(hourly()),
            "mappings",
        ),
        (
            PipelineSpec::new()
                .with_base_connection_id(s.base.clone())
                .with_table_path("public.orders")
                .with_dataset_id(id(DATASET))
                .with_mappings(mappings())
                .with_schedule(hourly()),
            "delta_column",
        ),
        (
            PipelineSpec::new()
                .with_base_connection_id(s.base.clone())
                .with_table_path("public.orders")
                .with_dataset_id(id(DATASET))
                .with_mappings(mappings())
                .with_delta_column("updated_at"),
            "schedule",
        ),
    ];
    for (bad, field) in cases {
        for err in [
            bad.validate().unwrap_err(),
            s.client.plan_pipeline(&bad).unwrap_err(),
            s.client.ensure_pipeline(&bad).unwrap_err(),
        ] {
            match &err {
                Error::InvalidInput { field: named, rule } => {
                    assert_eq!(named, field, "{err}");
                    assert!(rule.contains("required"), "{err}");
                }
                other => panic!("{field}: {other}"),
            }
        }
    }
    assert_eq!(s.fake.requests().len(), before);
    // One mapping at a time builds the same declaration as all at once.
    let one_by_one = spec(&s)
        .with_mappings(Vec::new())
        .with_mapping(Mapping::new("id", "_tenant.orderId"))
        .with_mapping(Mapping::new("amount", "_tenant.amount"));
    assert_eq!(one_by_one, full);
    assert_eq!(full.schedule, Some(hourly()));
}

#[test]
fn a_plan_on_an_empty_sandbox_creates_everything_and_writes_nothing() {
    let s = setup();
    let plan = s.client.plan_pipeline(&spec(&s)).unwrap();
    let flow_name = format!("public.orders to {DATASET}");
    assert_eq!(
        plan.source_connection,
        ConnectionPlan::Create {
            name: format!("{flow_name}: source")
        }
    );
    assert_eq!(
        plan.target_connection,
        ConnectionPlan::Create {
            name: format!("{flow_name}: dataset")
        }
    );
    match &plan.flow {
        FlowPlan::Create { name, mapping_set } => {
            assert_eq!(name, &flow_name);
            assert_eq!(
                mapping_set,
                &MappingSetPlan::Create {
                    name: mapping_set_name(&id(SCHEMA), &mappings())
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!plan.is_in_sync());
    assert!(plan.replace_needed().is_none());
    assert!(plan.duplicates.is_empty() && plan.warnings.is_empty());
    assert!(!s.fake.requests().iter().any(is_mutation));
    assert!(s.fake.source_connections().is_empty() && s.fake.flows().is_empty());

    // Applying it does what it said, in its order.
    let out = s.client.ensure_pipeline(&spec(&s)).unwrap();
    assert_eq!(out.changes, plan.changes());
}

#[test]
fn a_plan_right_after_an_ensure_is_in_sync_on_every_field_and_sends_the_no_op_reads() {
    let s = setup();
    // Every field the spec has, set (the schema aside: see below).
    let declared = || {
        spec(&s)
            .with_name("orders hourly")
            .with_description("orders from the shop database")
            .with_enable(true)
            .with_schedule(hourly().without_backfill())
    };
    let full = declared().with_schema_id(id(SCHEMA));
    let made = s.client.ensure_pipeline(&full).unwrap();
    // A new flow may start disabled: the second run enables it.
    s.client.ensure_pipeline(&full).unwrap();

    let before = s.fake.requests().len();
    let plan = s.client.plan_pipeline(&full).unwrap();
    let planned = since(&s.fake, before);
    assert!(plan.is_in_sync(), "{plan:?}");
    assert!(plan.changes().is_empty());
    assert_eq!(plan.flow_id(), Some(&made.flow_id));
    assert_eq!(
        plan.source_connection.id(),
        Some(&made.source_connection_id)
    );
    assert_eq!(
        plan.target_connection.id(),
        Some(&made.target_connection_id)
    );
    assert_eq!(plan.mapping_set_id(), Some(&made.mapping_set_id));
    match &plan.flow {
        FlowPlan::Update(u) => {
            assert!(u.schedule.is_none() && u.enable.is_none(), "{u:?}");
            assert_eq!(
                u.mapping,
                MappingPlan::InSync {
                    mapping_set_id: made.mapping_set_id.clone()
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        planned.iter().all(|r| r.method == "GET"),
        "{:?}",
        lines(&planned)
    );
    // The same reads as a no-op ensure: five with a schema given.
    let before = s.fake.requests().len();
    let again = s.client.ensure_pipeline(&full).unwrap();
    assert!(again.is_unchanged(), "{:?}", again.changes);
    assert_eq!(lines(&planned), lines(&since(&s.fake, before)));
    assert_eq!(planned.len(), 5, "{:?}", lines(&planned));

    // Without a schema: four, the same as a no-op ensure.
    let before = s.fake.requests().len();
    let plan = s.client.plan_pipeline(&declared()).unwrap();
    let planned = since(&s.fake, before);
    assert!(plan.is_in_sync(), "{plan:?}");
    let before = s.fake.requests().len();
    assert!(s
        .client
        .ensure_pipeline(&declared())
        .unwrap()
        .is_unchanged());
    assert_eq!(lines(&planned), lines(&since(&s.fake, before)));
    assert_eq!(planned.len(), 4, "{:?}", lines(&planned));
    assert!(planned.iter().all(|r| r.method == "GET"));
}

#[test]
fn a_plan_shows_schedule_mapping_and_state_changes_with_old_and_new_values() {
    let s = setup();
    let made = s.client.ensure_pipeline(&spec(&s)).unwrap();
    s.client.disable_flow(&made.flow_id).unwrap();
    let daily = Schedule::every(Frequency::Day, 2, START).unwrap();
    let changed = vec![Mapping::new("customer", "_tenant.customer")];
    let drifted = spec(&s)
        .with_schedule(daily)
        .with_mappings(changed.clone())
        .with_enable(true);
    let before = s.fake.requests().len();
    let plan = s.client.plan_pipeline(&drifted).unwrap();
    assert!(!since(&s.fake, before).iter().any(is_mutation));
    assert_eq!(
        plan.source_connection,
        ConnectionPlan::Keep {
            id: made.source_connection_id.clone()
        }
    );
    assert_eq!(
        plan.target_connection,
        ConnectionPlan::Keep {
            id: made.target_connection_id.clone()
        }
    );
    let FlowPlan::Update(update) = &plan.flow else {
        panic!("{:?}", plan.flow);
    };
    assert_eq!(update.id, made.flow_id);
    let schedule = update.schedule.as_ref().expect("a schedule change");
    assert_eq!(schedule.new, daily);
    let old = schedule.old.expect("the flow's schedule reads back");
    assert_eq!(old.frequency(), Some(Frequency::Hour));
    assert_eq!(old.interval(), Some(1));
    let MappingPlan::Change(mapping) = &update.mapping else {
        panic!("{:?}", update.mapping);
    };
    assert_eq!(mapping.old_mapping_set_id, made.mapping_set_id);
    assert_eq!(mapping.old_version, 0);
    assert_eq!(
        declared_pairs(mapping.old.as_deref().expect("the old mappings")),
        declared_pairs(&mappings())
    );
    assert_eq!(mapping.new, changed);
    assert_eq!(
        mapping.mapping_set,
        MappingSetPlan::Create {
            name: mapping_set_name(&id(SCHEMA), &changed)
        }
    );
    // The flow is disabled now and gets enabled.
    assert_eq!(update.enable, Some(FlowState::Disabled));
    assert_eq!(
        plan.changes(),
        [
            PipelineChange::FlowScheduleUpdated,
            PipelineChange::MappingSetCreated,
            PipelineChange::FlowMappingUpdated,
            PipelineChange::FlowEnabled,
        ]
    );

    // Applying it makes exactly those changes; a plan after it is in sync.
    let out = s.client.ensure_pipeline(&drifted).unwrap();
    assert_eq!(out.changes, plan.changes());
    assert!(s.client.plan_pipeline(&drifted).unwrap().is_in_sync());

    // One field at a time: only that field changes.
    let plan = s
        .client
        .plan_pipeline(&drifted.clone().with_schedule(hourly()))
        .unwrap();
    assert_eq!(plan.changes(), [PipelineChange::FlowScheduleUpdated]);
    // Back to the first mappings: the mapping set made for them is reused.
    let plan = s
        .client
        .plan_pipeline(&drifted.clone().with_mappings(mappings()))
        .unwrap();
    assert_eq!(plan.changes(), [PipelineChange::FlowMappingUpdated]);
    let FlowPlan::Update(update) = &plan.flow else {
        panic!("{:?}", plan.flow);
    };
    let MappingPlan::Change(mapping) = &update.mapping else {
        panic!("{:?}", update.mapping);
    };
    assert_eq!(
        mapping.mapping_set,
        MappingSetPlan::Reuse {
            id: made.mapping_set_id.clone(),
            version: 0
        }
    );
    assert_eq!(plan.mapping_set_id(), Some(&made.mapping_set_id));
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("reusing mapping set")),
        "{:?}",
        plan.warnings
    );
    s.client.disable_flow(&made.flow_id).unwrap();
    let plan = s.client.plan_pipeline(&drifted).unwrap();
    assert_eq!(plan.changes(), [PipelineChange::FlowEnabled]);
    // Without with_enable a disabled flow is left alone: in sync.
    assert!(s
        .client
        .plan_pipeline(&drifted.with_enable(false))
        .unwrap()
        .is_in_sync());
}

#[test]
fn a_different_delta_column_is_a_replace_that_ensure_refuses() {
    let s = setup();
    let made = s.client.ensure_pipeline(&spec(&s)).unwrap();
    let other = spec(&s).with_delta_column("created_at");
    let before = s.fake.requests().len();
    let plan = s.client.plan_pipeline(&other).unwrap();
    let replace = plan.replace_needed().expect("a replace");
    assert_eq!(replace.id, made.flow_id);
    assert_eq!(replace.field, "delta_column");
    assert!(
        replace
            .reason
            .contains("reads changes by delta column \"updated_at\", not \"created_at\""),
        "{}",
        replace.reason
    );
    assert!(!plan.is_in_sync());
    assert!(plan.changes().is_empty());
    assert_eq!(
        plan.source_connection.id(),
        Some(&made.source_connection_id)
    );
    assert!(!since(&s.fake, before).iter().any(is_mutation));

    // ensure refuses it as before: unsuitable, naming the field, no write.
    let before = s.fake.requests().len();
    let err = s.client.ensure_pipeline(&other).unwrap_err();
    assert!(err.is_unsuitable(), "{err}");
    assert!(
        matches!(&err, Error::Unsuitable { field, .. } if field == "delta_column"),
        "{err}"
    );
    assert_eq!(err.to_string(), replace.error().to_string());
    assert!(writes(&since(&s.fake, before)).is_empty());
    let failed = s.client.ensure_pipeline_partial(&other).unwrap_err();
    assert!(failed.done.changes.is_empty());
    assert_eq!(s.fake.flows().len(), 1);
}

/// The request budget the crate docs and the README state, exactly: a
/// first run 12, a no-op re-run 4, a schedule change 7, a re-run with a
/// schema given 5; a plan of each (after the first) sends the reads of
/// its run (the checks included) and no write.
#[test]
fn the_request_budget_is_exact_and_a_plan_only_reads() {
    let s = setup();
    let count = |sp: &PipelineSpec| {
        let before = s.fake.requests().len();
        s.client.ensure_pipeline(sp).unwrap();
        since(&s.fake, before).len()
    };
    let plan_writes = |sp: &PipelineSpec| {
        let before = s.fake.requests().len();
        s.client.plan_pipeline(sp).unwrap();
        writes(&since(&s.fake, before))
    };
    let daily = spec(&s).with_schedule(Schedule::every(Frequency::Day, 1, START).unwrap());
    // First: the flow spec is read once per client, by whichever call
    // checks first (a plan would take it from this count).
    assert_eq!(count(&spec(&s)), 12);
    assert!(plan_writes(&spec(&s)).is_empty());
    assert_eq!(count(&spec(&s)), 4);
    assert!(plan_writes(&daily).is_empty());
    assert_eq!(count(&daily), 7);
    assert!(plan_writes(&daily.clone().with_schema_id(id(SCHEMA))).is_empty());
    assert_eq!(count(&daily.with_schema_id(id(SCHEMA))), 5);
}

/// Regression (review of the 1.0 pass, branch `docs` cfffd3a): a run
/// refused by a pre-write check still reports what the lookups found (the
/// flow, both connections, the twin flows and their warning) in
/// `PipelineFailure::done`, as 1d25872 did, so that a twin flow is never
/// hidden behind the check's error (the CLI prints `done.warnings` on
/// failure).
#[test]
fn a_failed_check_still_reports_what_the_lookups_found() {
    let s = setup();
    let first = s.client.ensure_pipeline(&spec(&s)).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let twin = s
        .client
        .create_flow(&aep_flow::NewFlow::new(aep_flow::FlowParts {
            name: "twin",
            source_connection_id: first.source_connection_id.clone(),
            target_connection_id: first.target_connection_id.clone(),
            delta_column: "updated_at",
            mapping_set_id: first.mapping_set_id.clone(),
            mapping_set_version: 0,
            schedule: hourly(),
        }))
        .unwrap()
        .id;
    // A changed mapping from a column the table does not have: refused by
    // the column check, after the lookups, before any write.
    let bad = spec(&s).with_mappings(vec![Mapping::new("no_such_column", "_tenant.orderId")]);
    let failed = s.client.ensure_pipeline_partial(&bad).unwrap_err();
    assert!(
        failed.error.is_invalid_input() || failed.error.is_unsuitable(),
        "{}",
        failed.error
    );
    assert!(failed.done.changes.is_empty());
    assert_eq!(
        failed.done.flow_id.as_ref(),
        Some(&first.flow_id),
        "the flow found is lost from done: {:?}",
        failed.done
    );
    assert_eq!(
        failed.done.source_connection_id.as_ref(),
        Some(&first.source_connection_id)
    );
    assert_eq!(failed.done.duplicates, vec![twin.clone()]);
    assert!(
        failed
            .done
            .warnings
            .iter()
            .any(|w| w.contains(twin.as_str())),
        "the twin-flow warning is lost: {:?}",
        failed.done.warnings
    );
    // A plan refused by the same check reports the same (`pipeline ensure
    // --plan` prints those warnings too).
    let planned = s.client.plan_pipeline_partial(&bad).unwrap_err();
    assert_eq!(planned.error.to_string(), failed.error.to_string());
    assert!(planned.done.changes.is_empty());
    assert_eq!(planned.done.flow_id.as_ref(), Some(&first.flow_id));
    assert_eq!(
        planned.done.target_connection_id.as_ref(),
        Some(&first.target_connection_id)
    );
    assert_eq!(planned.done.duplicates, vec![twin.clone()]);
    assert_eq!(planned.done.warnings, failed.done.warnings);
    assert_eq!(s.fake.flows().len(), 2, "nothing was written");
}

#[path = "pipeline/review.rs"]
mod review;
