//! Dataflows against the fake: create → get round trip, list filters,
//! schedule and mapping updates (new etags, the Mapping entry's own
//! index, a 412 re-read), enable/disable, delete, the fake's refusals,
//! the flow spec check, and source connections a flow still uses.

mod common;
use common::id;

use std::time::Duration;

use aep_flow::{
    spec::CONNECTION_STRING_AUTH, spec::CRM_TO_AEP_FLOW_SPEC_ID, Client, ConnectionId, Error,
    FlowFilter, FlowId, FlowParts, FlowState, Frequency, NewFlow, NewSourceConnection,
    NewTargetConnection, Schedule, SourceConnectionId, TargetConnectionId,
};
use aep_flow_testing::{demo_catalog, FakeFlowService, Reply, DEMO_ACCESS_TOKEN};
use serde_json::{json, Value};

const DATASET: &str = "5c8c3c555033b814b69f947f";
const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/orders";

thread_local! {
    /// The target connection `setup` made for this test (each test has a
    /// thread of its own).
    static TARGET: std::cell::RefCell<Option<TargetConnectionId>> = const { std::cell::RefCell::new(None) };
}

/// The target connection of this test's fake.
fn target() -> TargetConnectionId {
    TARGET.with(|t| {
        t.borrow()
            .clone()
            .expect("setup made the target connection")
    })
}
const MAPPING: &str = "e7c80e4c0d8f4a98a7d400b4e178b635";
/// 2023-11-14: passed.
const PAST: i64 = 1_700_000_000;
/// 2096: not yet.
const FUTURE: i64 = 4_000_000_000;

fn client(fake: &FakeFlowService) -> Client {
    Client::builder(common::platform(fake))
        .with_retry_backoff(Duration::from_millis(10))
        .build()
        .unwrap()
}

/// A fake with a base connection (demo catalog) and source connections
/// for `public.orders` and `public.customers`.
fn setup() -> (
    FakeFlowService,
    Client,
    SourceConnectionId,
    SourceConnectionId,
) {
    let fake = FakeFlowService::start().unwrap();
    let base: ConnectionId = id(&fake.insert_connection(
        "pg",
        CONNECTION_STRING_AUTH,
        json!({"connectionString": "Server=db;Database=d;Port=5432;UID=u;Password=p"}),
    ));
    fake.set_catalog(&base, demo_catalog());
    let c = client(&fake);
    let orders = c
        .create_source_connection(&NewSourceConnection::new(
            "o",
            base.clone(),
            "public.orders",
        ))
        .unwrap()
        .id;
    let customers = c
        .create_source_connection(&NewSourceConnection::new(
            "c",
            base.clone(),
            "public.customers",
        ))
        .unwrap()
        .id;
    fake.add_dataset(DATASET, "orders", SCHEMA);
    let target = c
        .create_target_connection(&NewTargetConnection::new("t", id(DATASET), id(SCHEMA)))
        .unwrap()
        .id;
    TARGET.with(|t| *t.borrow_mut() = Some(target));
    (fake, c, orders, customers)
}

fn hourly() -> Schedule {
    Schedule::every(Frequency::Hour, 1, PAST).unwrap()
}

fn new_flow(source: &SourceConnectionId) -> NewFlow {
    NewFlow::new(FlowParts {
        name: "orders to dataset",
        source_connection_id: source.clone(),
        target_connection_id: target(),
        delta_column: "updated_at",
        mapping_set_id: id(MAPPING),
        mapping_set_version: 0,
        schedule: hourly(),
    })
}

/// A request to the fake outside the client, for bodies the client
/// would never send.
fn raw(
    fake: &FakeFlowService,
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", fake.base_url());
    let auth = format!("Bearer {DEMO_ACCESS_TOKEN}");
    let headers = |r: ureq::RequestBuilder<ureq::typestate::WithBody>| {
        let r = r
            .header("Authorization", &auth)
            .header("x-api-key", "k")
            .header("x-gw-ims-org-id", "o@AdobeOrg")
            .header("x-sandbox-name", "prod")
            .header("Content-Type", "application/json");
        match if_match {
            Some(e) => r.header("If-Match", e),
            None => r,
        }
    };
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut resp = match method {
        "POST" => headers(agent.post(&url)).send(body.as_bytes()),
        "PATCH" => headers(agent.patch(&url)).send(body.as_bytes()),
        other => panic!("{other}"),
    }
    .unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap())
}

/// The body the client sends for `new_flow(source)`, to vary by hand.
fn body(source: &str) -> Value {
    json!({"name": "raw", "description": "",
           "flowSpec": {"id": CRM_TO_AEP_FLOW_SPEC_ID, "version": "1.0"},
           "sourceConnectionIds": [source], "targetConnectionIds": [target()],
           "transformations": [
               {"name": "Copy", "params": {"deltaColumn": {"name": "updated_at",
                   "dateFormat": "YYYY-MM-DD", "timezone": "UTC"}}},
               {"name": "Mapping", "params": {"mappingId": MAPPING, "mappingVersion": 0}}],
           "scheduleParams": {"startTime": PAST, "frequency": "hour", "interval": 1,
                              "backfill": true}})
}

#[test]
fn create_then_get_round_trips() {
    let (fake, c, orders, _) = setup();
    let saved = c
        .create_flow(&new_flow(&orders).with_description("nightly"))
        .unwrap();
    let f = c.get_flow(&saved.id).unwrap();
    assert_eq!(f.id, saved.id);
    assert_eq!(f.etag, saved.etag);
    assert_eq!(f.name, "orders to dataset");
    assert_eq!(f.description.as_deref(), Some("nightly"));
    assert_eq!(f.state, FlowState::Enabled);
    assert_eq!(f.flow_spec_id.as_deref(), Some(CRM_TO_AEP_FLOW_SPEC_ID));
    assert_eq!(f.source_connection_ids, std::slice::from_ref(&orders));
    assert_eq!(f.target_connection_ids, [target()]);
    assert_eq!(f.schedule, Some(hourly()));
    assert_eq!(f.mapping(), Some((1, id(MAPPING), 0)));
    assert_eq!(f.delta_column(), Some("updated_at"));
    assert_eq!(f.last_run, None);
    assert!(f.created_at.is_some());
    // What the fake stored: Copy first, numbers and a boolean.
    let stored = &fake.flows()[0];
    assert_eq!(stored.raw()["transformations"][0]["name"], "Copy");
    assert_eq!(
        stored.raw()["transformations"][0]["params"]["deltaColumn"],
        json!({"name": "updated_at", "dateFormat": "YYYY-MM-DD", "timezone": "UTC"})
    );
    assert_eq!(stored.schedule_frequency, "hour");
    assert_eq!(stored.schedule_interval, Some(1));
    assert_eq!(
        stored.raw()["scheduleParams"],
        json!({"startTime": PAST, "frequency": "hour", "interval": 1, "backfill": true})
    );
    // lastRunDetails once a run happened.
    assert!(fake.set_flow_last_run(
        &saved.id,
        json!({"id": "run-1", "state": "success", "startedAtUTC": 5, "completedAtUTC": 9}),
    ));
    let run = c.get_flow(&saved.id).unwrap().last_run.unwrap();
    assert_eq!(run.id.as_deref(), Some("run-1"));
    assert_eq!((run.started_at, run.completed_at), (Some(5), Some(9)));

    // A once flow keeps only startTime and frequency.
    let once = NewFlow::new(FlowParts {
        name: "once",
        source_connection_id: orders.clone(),
        target_connection_id: target(),
        delta_column: "updated_at",
        mapping_set_id: id(MAPPING),
        mapping_set_version: 2,
        schedule: Schedule::once(FUTURE),
    });
    let saved = c.create_flow(&once).unwrap();
    let f = c.get_flow(&saved.id).unwrap();
    assert_eq!(f.schedule, Some(Schedule::once(FUTURE)));
    assert_eq!(f.mapping(), Some((1, id(MAPPING), 2)));
    // The flow spec was read once for both creates.
    let spec_reads = fake
        .requests()
        .iter()
        .filter(|r| r.path.contains("/flowSpecs"))
        .count();
    assert_eq!(spec_reads, 1);
}

#[test]
fn listings_filter_by_source_target_and_state() {
    let (fake, c, orders, customers) = setup();
    let a = c.create_flow(&new_flow(&orders)).unwrap();
    let b = c.create_flow(&new_flow(&customers)).unwrap();
    let all = c.list_flows(FlowFilter::new().with_page_size(1)).unwrap();
    assert_eq!(all.len(), 2);
    let by_source = c
        .list_flows(FlowFilter::new().with_source_connection_id(customers.clone()))
        .unwrap();
    assert_eq!(by_source.len(), 1);
    assert_eq!(by_source[0].id, b.id);
    let by_target = c
        .list_flows(FlowFilter::new().with_target_connection_id(target()))
        .unwrap();
    assert_eq!(by_target.len(), 2);
    assert!(c
        .list_flows(FlowFilter::new().with_target_connection_id(id("other-target")))
        .unwrap()
        .is_empty());
    // The wire carried the array filter.
    let last = fake.requests().last().unwrap().path.clone();
    assert!(
        last.contains("property=targetConnectionIds%5B%5D%3D%3Dother-target"),
        "{last}"
    );
    // State, drifted behind the client's back.
    assert!(fake.set_flow_state(&a.id, "disabled"));
    let disabled = c
        .list_flows(FlowFilter::new().with_state(FlowState::Disabled))
        .unwrap();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].id, a.id);
    // find_flow: one request when the first page has it.
    let before = fake.requests().len();
    let found = c.find_flow(&orders, &target()).unwrap().unwrap();
    assert_eq!(found.id, a.id);
    assert_eq!(fake.requests().len(), before + 1);
    assert_eq!(c.find_flow(&orders, &id("other-target")).unwrap(), None);
}

#[test]
fn schedule_updates_change_the_etag_and_keep_the_start_time() {
    let (fake, c, orders, _) = setup();
    let saved = c.create_flow(&new_flow(&orders)).unwrap();
    // Recurring → every 30 minutes without backfill.
    let every30 = Schedule::every(Frequency::Minute, 30, FUTURE)
        .unwrap()
        .without_backfill();
    let s1 = c.update_flow_schedule(&saved.id, &every30).unwrap();
    assert_ne!(s1.etag, saved.etag);
    let f = c.get_flow(&saved.id).unwrap();
    assert_eq!(f.etag, s1.etag);
    // The start time stays the flow's own (it has passed).
    assert_eq!(
        f.schedule,
        Some(
            Schedule::every(Frequency::Minute, 30, PAST)
                .unwrap()
                .without_backfill()
        )
    );
    // → once: interval and backfill are gone.
    let s2 = c
        .update_flow_schedule(&saved.id, &Schedule::once(FUTURE))
        .unwrap();
    assert_ne!(s2.etag, s1.etag);
    assert_eq!(
        fake.flows()[0].raw()["scheduleParams"],
        json!({"startTime": PAST, "frequency": "once"})
    );
    // → weekly again: added back.
    c.update_flow_schedule(
        &saved.id,
        &Schedule::every(Frequency::Week, 2, PAST).unwrap(),
    )
    .unwrap();
    assert_eq!(
        c.get_flow(&saved.id).unwrap().schedule,
        Some(Schedule::every(Frequency::Week, 2, PAST).unwrap())
    );
}

#[test]
fn a_switch_to_once_removes_members_with_their_current_values() {
    let (fake, c, orders, _) = setup();
    let saved = c.create_flow(&new_flow(&orders)).unwrap();
    c.update_flow_schedule(&saved.id, &Schedule::once(FUTURE))
        .unwrap();
    let patch = fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PATCH")
        .unwrap();
    let ops = patch.json();
    let removes: Vec<&Value> = ops
        .as_array()
        .unwrap()
        .iter()
        .filter(|op| op["op"] == "remove")
        .collect();
    assert_eq!(
        removes,
        [
            &json!({"op": "remove", "path": "/scheduleParams/interval", "value": 1}),
            &json!({"op": "remove", "path": "/scheduleParams/backfill", "value": true}),
        ]
    );
    assert_eq!(
        fake.flows()[0].raw()["scheduleParams"],
        json!({"startTime": PAST, "frequency": "once"})
    );
}

#[test]
fn mapping_updates_patch_the_mapping_entry_and_leave_copy_alone() {
    let (fake, c, orders, _) = setup();
    let saved = c.create_flow(&new_flow(&orders)).unwrap();
    let copy_before = fake.flows()[0].raw()["transformations"][0].clone();
    let s = c
        .update_flow_mapping(&saved.id, &id("newmapping"), 3)
        .unwrap();
    assert_ne!(s.etag, saved.etag);
    let patch = fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(patch.header("if-match"), Some(saved.etag.as_str()));
    assert_eq!(patch.json()[0]["path"], "/transformations/1");
    let flow = &fake.flows()[0];
    assert_eq!(flow.mappings, [("newmapping".to_owned(), 3)]);
    let stored = &flow.raw()["transformations"];
    assert_eq!(stored[0], copy_before);
    assert_eq!(
        stored[1],
        json!({"name": "Mapping", "params": {"mappingId": "newmapping", "mappingVersion": 3}})
    );
    let f = c.get_flow(&saved.id).unwrap();
    assert_eq!(f.mapping(), Some((1, id("newmapping"), 3)));
    assert_eq!(f.delta_column(), Some("updated_at"));

    // A 412 (someone else wrote first): one re-read, one more PATCH.
    fake.push_reply(
        Reply::json(
            412,
            json!({"type": "https://ns.adobe.com/aep/errors/FLOW-1404-412"}).to_string(),
        )
        .only_for("PATCH"),
    );
    let s2 = c
        .update_flow_mapping(&saved.id, &id("newmapping"), 4)
        .unwrap();
    assert_ne!(s2.etag, s.etag);
    let methods: Vec<String> = fake
        .requests()
        .iter()
        .rev()
        .take(4)
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, ["PATCH", "GET", "PATCH", "GET"]);
    assert_eq!(
        c.get_flow(&saved.id).unwrap().mapping(),
        Some((1, id("newmapping"), 4))
    );

    // A flow without a Mapping entry: Unsuitable, nothing written.
    assert!(fake.modify_flow(&saved.id, |f| {
        let copy = f["transformations"][0].clone();
        f["transformations"] = json!([copy]);
    }));
    let etag = c.get_flow(&saved.id).unwrap().etag;
    let e = c.update_flow_mapping(&saved.id, &id("m"), 0).unwrap_err();
    assert!(e.is_unsuitable(), "{e}");
    assert_eq!(c.get_flow(&saved.id).unwrap().etag, etag);
}

#[test]
fn enable_disable_and_delete() {
    let (fake, c, orders, _) = setup();
    let saved = c.create_flow(&new_flow(&orders)).unwrap();
    let off = c.disable_flow(&saved.id).unwrap();
    assert_eq!(off.id, saved.id);
    assert_ne!(off.etag, saved.etag);
    assert_eq!(c.get_flow(&saved.id).unwrap().state, FlowState::Disabled);
    assert_eq!(fake.flows()[0].state, "disabled");
    let on = c.enable_flow(&saved.id).unwrap();
    assert_ne!(on.etag, off.etag);
    assert_eq!(c.get_flow(&saved.id).unwrap().state, FlowState::Enabled);
    let action = fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "POST")
        .unwrap();
    assert!(
        action.path.ends_with("/action?op=enable"),
        "{}",
        action.path
    );
    assert!(action.body.is_empty());

    c.delete_flow(&saved.id).unwrap();
    assert!(fake.flows().is_empty());
    assert!(matches!(
        c.get_flow(&saved.id).unwrap_err(),
        Error::NotFound {
            resource: "flow",
            ..
        }
    ));
    for e in [
        c.delete_flow(&saved.id).unwrap_err(),
        c.enable_flow(&saved.id).unwrap_err(),
        c.update_flow_mapping(&saved.id, &id("m"), 1).unwrap_err(),
    ] {
        assert!(e.is_not_found(), "{e}");
    }
}

#[test]
fn flow_actions_are_sent_with_content_length_zero_not_chunked() {
    // What `curl -X POST` sends, and what a strict replay of Adobe's spec
    // accepts: an empty body announced by `Content-Length: 0`.
    let (fake, c, orders, _) = setup();
    let saved = c.create_flow(&new_flow(&orders)).unwrap();
    c.disable_flow(&saved.id).unwrap();
    c.enable_flow(&saved.id).unwrap();
    let actions: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/action?op="))
        .collect();
    assert_eq!(actions.len(), 2);
    for a in &actions {
        assert_eq!(a.header("content-length"), Some("0"), "{}", a.path);
        assert_eq!(a.header("transfer-encoding"), None, "{}", a.path);
        assert!(a.body.is_empty());
    }
}

#[test]
fn a_source_connection_used_by_a_flow_cannot_be_deleted() {
    let (_fake, c, orders, customers) = setup();
    let saved = c.create_flow(&new_flow(&orders)).unwrap();
    let e = c.delete_source_connection(&orders).unwrap_err();
    match &e {
        Error::InUse { resource, id, .. } => {
            assert_eq!(*resource, "source connection");
            assert_eq!(id, &orders);
        }
        other => panic!("{other}"),
    }
    // The target connection too.
    let e = c.delete_target_connection(&target()).unwrap_err();
    assert!(
        matches!(&e, Error::InUse { resource, .. } if *resource == "target connection"),
        "{e}"
    );
    // An unused one goes.
    c.delete_source_connection(&customers).unwrap();
    c.delete_flow(&saved.id).unwrap();
    c.delete_target_connection(&target()).unwrap();
    // A flow needs a target connection that exists.
    let e = c.create_flow(&new_flow(&orders)).unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(e.to_string().contains("Target connection"), "{e}");
    c.delete_source_connection(&orders).unwrap();
}

#[test]
fn the_fake_refuses_what_the_service_refuses() {
    let (fake, c, orders, _) = setup();
    // Through the client: an unknown source connection.
    let e = c.create_flow(&new_flow(&id("no-such-source"))).unwrap_err();
    match &e {
        Error::Api(api) => {
            assert_eq!(api.status, 400);
            assert_eq!(api.code.as_deref(), Some("FLOW-1415-400"));
            assert!(api.message.contains("no-such-source"), "{}", api.message);
        }
        other => panic!("{other}"),
    }
    // By hand: bodies the client never sends.
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "deltaColumn",
            Box::new(|b| b["transformations"][0]["params"] = json!({})),
        ),
        (
            "transformations need Copy",
            Box::new(|b| {
                let mapping = b["transformations"][1].clone();
                b["transformations"] = json!([mapping]);
            }),
        ),
        (
            "UTC",
            Box::new(|b| {
                b["transformations"][0]["params"]["deltaColumn"]["timezone"] = json!("CET")
            }),
        ),
        (
            "Flow spec",
            Box::new(|b| b["flowSpec"]["id"] = json!("unknown-spec")),
        ),
        (
            "frequency",
            Box::new(|b| b["scheduleParams"]["frequency"] = json!("hourly")),
        ),
        (
            "at least 15",
            Box::new(|b| {
                b["scheduleParams"]["frequency"] = json!("minute");
                b["scheduleParams"]["interval"] = json!(10);
            }),
        ),
        (
            "at least 1",
            Box::new(|b| b["scheduleParams"]["interval"] = json!(0)),
        ),
        (
            "not allowed",
            Box::new(|b| b["scheduleParams"]["frequency"] = json!("once")),
        ),
        (
            "startTime",
            Box::new(|b| b["scheduleParams"]["startTime"] = json!("soon")),
        ),
        (
            "startTime",
            Box::new(|b| b["scheduleParams"]["startTime"] = json!(-1)),
        ),
        (
            "Source connection",
            Box::new(|b| b["sourceConnectionIds"] = json!(["missing"])),
        ),
        (
            "sourceConnectionIds",
            Box::new(|b| b["sourceConnectionIds"] = json!([])),
        ),
    ];
    for (says, change) in cases {
        let mut b = body(&orders);
        change(&mut b);
        let (status, text) = raw(&fake, "POST", "/flows", Some(b), None);
        assert_eq!(status, 400, "{says}: {text}");
        assert!(
            text.contains("FLOW-1415-400") && text.contains(says),
            "{says}: {text}"
        );
    }
    assert!(fake.flows().is_empty());
    // Strings for the numbers are taken, as the service takes them.
    let mut b = body(&orders);
    b["scheduleParams"] = json!({"startTime": "1700000000", "frequency": "hour", "interval": "2", "backfill": "false"});
    let (status, text) = raw(&fake, "POST", "/flows", Some(b), None);
    assert_eq!(status, 201, "{text}");
    let id: FlowId = id(serde_json::from_str::<Value>(&text).unwrap()["id"]
        .as_str()
        .unwrap());
    assert_eq!(
        c.get_flow(&id).unwrap().schedule,
        Some(
            Schedule::every(Frequency::Hour, 2, PAST)
                .unwrap()
                .without_backfill()
        )
    );

    // PATCH: a passed startTime cannot change; a future one can.
    let etag = c.get_flow(&id).unwrap().etag;
    let op = json!([{"op": "replace", "path": "/scheduleParams/startTime", "value": FUTURE}]);
    let (status, text) = raw(
        &fake,
        "PATCH",
        &format!("/flows/{id}"),
        Some(op),
        Some(&etag),
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("passed"), "{text}");
    // A garbled Mapping entry, a bad index, a stale etag.
    for (op, want) in [
        (
            json!([{"op": "replace", "path": "/transformations/1",
                    "value": {"name": "Mapping", "params": {}}}]),
            400,
        ),
        (
            json!([{"op": "replace", "path": "/transformations/7",
                    "value": {"name": "Mapping", "params": {"mappingId": "m", "mappingVersion": 0}}}]),
            400,
        ),
        (
            json!([{"op": "remove", "path": "/scheduleParams/interval"}]),
            400,
        ),
    ] {
        let (status, text) = raw(
            &fake,
            "PATCH",
            &format!("/flows/{id}"),
            Some(op),
            Some(&etag),
        );
        assert_eq!(status, want, "{text}");
    }
    let (status, _) = raw(
        &fake,
        "PATCH",
        &format!("/flows/{id}"),
        Some(json!([])),
        Some("\"stale\""),
    );
    assert_eq!(status, 412);
    // An unknown action.
    let (status, _) = raw(
        &fake,
        "POST",
        &format!("/flows/{id}/action?op=finalize"),
        None,
        None,
    );
    assert_eq!(status, 400);
    assert_eq!(c.get_flow(&id).unwrap().etag, etag);
}

#[test]
fn a_flow_spec_without_postgres_is_unsuitable_and_nothing_is_created() {
    let (fake, c, orders, _) = setup();
    fake.set_flow_spec_source_connection_spec_ids(&["3c9b37f8-13a6-43d8-bad3-b863b941fedd"]);
    let e = c.create_flow(&new_flow(&orders)).unwrap_err();
    assert!(e.is_unsuitable(), "{e}");
    assert!(
        e.to_string()
            .contains(aep_flow::spec::POSTGRES_CONNECTION_SPEC_ID),
        "{e}"
    );
    assert!(!fake
        .requests()
        .iter()
        .any(|r| r.method == "POST" && r.path.ends_with("/flows")));
    assert!(fake.flows().is_empty());
    // A fresh client, once the spec lists PostgreSQL again.
    fake.set_flow_spec_source_connection_spec_ids(&[aep_flow::spec::POSTGRES_CONNECTION_SPEC_ID]);
    let spec = c.postgres_flow_spec().unwrap();
    assert_eq!(spec.id, CRM_TO_AEP_FLOW_SPEC_ID);
    assert_eq!(spec.version, "1.0");
    assert_eq!(
        spec.target_connection_spec_ids,
        ["c604ff05-7f1a-43c0-8e18-33bf874cb11c"]
    );
}

#[test]
fn a_rename_patches_the_name_with_if_match_rereads_once_on_412_and_is_never_resent() {
    let (fake, c, orders, _) = setup();
    let saved = c.create_flow(&new_flow(&orders)).unwrap();
    // An odd name: quotes, a dot, a backslash, unicode.
    let name = "Orders \"EU\" v1.2 \\ Zürich ☃";
    let s = c.update_flow_name(&saved.id, name).unwrap();
    assert_ne!(s.etag, saved.etag);
    let patch = fake.requests().last().unwrap().clone();
    assert_eq!(patch.method, "PATCH");
    assert_eq!(patch.header("if-match"), Some(saved.etag.as_str()));
    assert_eq!(
        patch.json(),
        json!([{"op": "replace", "path": "/name", "value": name}])
    );
    assert_eq!(c.get_flow(&saved.id).unwrap().name, name);

    // 412 (someone wrote first): one re-read, one more PATCH with the new
    // etag; a second 412 is the caller's to see.
    fake.push_reply(
        Reply::json(412, json!({"type": "x/FLOW-1404-412"}).to_string()).only_for("PATCH"),
    );
    let s2 = c.update_flow_name(&saved.id, "second").unwrap();
    let last: Vec<_> = fake.requests().into_iter().rev().take(4).collect();
    let methods: Vec<&str> = last.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["PATCH", "GET", "PATCH", "GET"]);
    assert_eq!(last[0].header("if-match"), Some(s.etag.as_str()));
    assert_ne!(s2.etag, s.etag);
    for _ in 0..2 {
        fake.push_reply(
            Reply::json(412, json!({"type": "x/FLOW-1404-412"}).to_string()).only_for("PATCH"),
        );
    }
    let before = fake.requests().len();
    let e = c.update_flow_name(&saved.id, "third").unwrap_err();
    assert!(e.is_precondition_failed(), "{e}");
    assert_eq!(
        fake.requests().len() - before,
        4,
        "read, patch, read, patch"
    );

    // A lost answer after the rename landed, and a 502/503/504: sent once.
    fake.push_reply(Reply::after_processing(Reply::close()).only_for("PATCH"));
    let before = fake.requests().len();
    let e = c.update_flow_name(&saved.id, "fourth").unwrap_err();
    assert!(e.may_have_been_processed(), "{e}");
    let patches = fake.requests()[before..]
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 1);
    assert_eq!(c.get_flow(&saved.id).unwrap().name, "fourth");
    for status in [502, 503, 504] {
        fake.push_reply(Reply::json(status, "{}").only_for("PATCH"));
        let before = fake.requests().len();
        let e = c.update_flow_name(&saved.id, "fifth").unwrap_err();
        assert_eq!(e.status(), Some(status));
        assert!(e.may_have_been_processed(), "{e}");
        let patches = fake.requests()[before..]
            .iter()
            .filter(|r| r.method == "PATCH")
            .count();
        assert_eq!(patches, 1, "HTTP {status} rename was resent");
    }

    // A name the service does not take: refused, nothing sent.
    let before = fake.requests().len();
    for bad in ["", "   ", "a\nb", &"x".repeat(257)] {
        let e = c.update_flow_name(&saved.id, bad).unwrap_err();
        assert!(e.is_invalid_input(), "{bad:?}: {e}");
    }
    assert_eq!(fake.requests().len(), before);
}
