//! Source connections against the fake: create, get, list, delete,
//! ensure (after a lost answer, and from 8 threads), and the base
//! connection a source connection still uses.

mod common;
use common::id;

use std::time::Duration;

use aep_flow::{
    spec::CONNECTION_STRING_AUTH, Client, ConnectionId, Error, NewSourceConnection,
    SourceConnectionFilter,
};
use aep_flow_testing::{demo_catalog, FakeFlowService, Reply};
use serde_json::json;

fn client(fake: &FakeFlowService) -> Client {
    Client::builder(common::platform(fake))
        .with_retry_backoff(Duration::from_millis(10))
        .build()
        .unwrap()
}

/// A fake with one base connection that has the demo catalog.
fn setup() -> (FakeFlowService, ConnectionId) {
    let fake = FakeFlowService::start().unwrap();
    let id = fake.insert_connection(
        "pg",
        CONNECTION_STRING_AUTH,
        json!({"connectionString": "Server=db;Database=d;Port=5432;UID=u;Password=p"}),
    );
    fake.set_catalog(&id, demo_catalog());
    (fake, common::id(&id))
}

#[test]
fn create_get_list_delete() {
    let (fake, base) = setup();
    let c = client(&fake);
    let columns = c.explore_columns(&base, "public.orders").unwrap().columns;
    let new = NewSourceConnection::new("orders", base.clone(), "public.orders")
        .with_description("orders table")
        .with_columns(columns);
    let saved = c.create_source_connection(&new).unwrap();
    let got = c.get_source_connection(&saved.id).unwrap();
    assert_eq!(got.name, "orders");
    assert_eq!(got.description.as_deref(), Some("orders table"));
    assert_eq!(got.base_connection_id.as_ref(), Some(&base));
    assert_eq!(got.table_name.as_deref(), Some("public.orders"));
    assert_eq!(got.format.as_deref(), Some("tabular"));
    assert_eq!(got.etag, saved.etag);
    assert!(got.created_at.is_some());
    let stored = fake.source_connections();
    assert_eq!(stored[0].table_name, "public.orders");
    assert_eq!(
        stored[0].raw()["params"]["columns"][3]["name"],
        "updated_at"
    );

    let customers = c
        .create_source_connection(&NewSourceConnection::new(
            "c",
            base.clone(),
            "public.customers",
        ))
        .unwrap();
    let all = c
        .list_source_connections(SourceConnectionFilter::new())
        .unwrap();
    assert_eq!(all.len(), 2);
    let one = c
        .list_source_connections(SourceConnectionFilter::new().with_table_name("public.customers"))
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].id, customers.id);
    let by_base = c
        .list_source_connections(
            SourceConnectionFilter::new().with_base_connection_id(base.clone()),
        )
        .unwrap();
    assert_eq!(by_base.len(), 2);

    c.delete_source_connection(&saved.id).unwrap();
    assert!(matches!(
        c.get_source_connection(&saved.id).unwrap_err(),
        Error::NotFound {
            resource: "source connection",
            ..
        }
    ));
    assert!(matches!(
        c.delete_source_connection(&saved.id).unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[test]
fn the_fake_refuses_unknown_base_connections_and_tables() {
    let (fake, base) = setup();
    let c = client(&fake);
    let e = c
        .create_source_connection(&NewSourceConnection::new(
            "x",
            id("missing-base"),
            "public.orders",
        ))
        .unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    let e = c
        .create_source_connection(&NewSourceConnection::new("x", base.clone(), "public.nope"))
        .unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(e.to_string().contains("public.nope"), "{e}");
    assert!(fake.source_connections().is_empty());
}

#[test]
fn ensure_creates_once_and_then_finds() {
    let (fake, base) = setup();
    let c = client(&fake);
    let new = NewSourceConnection::new("orders", base.clone(), "public.orders");
    let first = c.ensure_source_connection(&new).unwrap();
    assert!(first.created);
    let again = c.ensure_source_connection(&new).unwrap();
    assert!(!again.created);
    assert_eq!(again.id(), first.id());
    assert_eq!(fake.source_connections().len(), 1);
}

#[test]
fn ensure_after_a_lost_answer_makes_no_duplicate() {
    let (fake, base) = setup();
    let c = client(&fake);
    fake.push_reply(Reply::after_processing(Reply::json(503, "{}")).only_for("POST"));
    let new = NewSourceConnection::new("orders", base.clone(), "public.orders");
    let e = c.ensure_source_connection(&new).unwrap();
    assert!(e.created);
    assert_eq!(fake.source_connections().len(), 1);
    assert_eq!(fake.source_connections()[0].id, e.id());
    // A later run finds it.
    assert!(!c.ensure_source_connection(&new).unwrap().created);
    assert_eq!(fake.source_connections().len(), 1);
}

#[test]
fn concurrent_ensures_through_clones_create_exactly_one() {
    let (fake, base) = setup();
    let c = client(&fake);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let c = c.clone();
                let base = base.clone();
                s.spawn(move || {
                    c.ensure_source_connection(&NewSourceConnection::new(
                        "orders",
                        base,
                        "public.orders",
                    ))
                    .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|e| e.created).count(), 1);
    assert!(results.iter().all(|e| e.id() == results[0].id()));
    assert_eq!(fake.source_connections().len(), 1);
}

#[test]
fn a_base_connection_in_use_cannot_be_deleted() {
    let (fake, base) = setup();
    let c = client(&fake);
    let sc = c
        .create_source_connection(&NewSourceConnection::new(
            "o",
            base.clone(),
            "public.orders",
        ))
        .unwrap();
    let e = c.delete_connection(&base).unwrap_err();
    assert!(e.is_in_use(), "{e}");
    c.delete_source_connection(&sc.id).unwrap();
    c.delete_connection(&base).unwrap();
    assert!(fake.connections().is_empty());
}

/// A listed source connection without the field the filter checks is kept
/// by the listing and makes `find_source_connection` fail naming the
/// field: it is not "none".
#[test]
fn a_listing_without_the_checked_field_is_an_error_for_find() {
    let (fake, base) = setup();
    let c = client(&fake);
    let id = c
        .create_source_connection(&NewSourceConnection::new(
            "orders",
            base.clone(),
            "public.orders",
        ))
        .unwrap()
        .id;
    fake.omit_in_listings("sourceConnections", &["params"]);
    let err = c
        .find_source_connection(&base, "public.orders")
        .unwrap_err();
    assert!(err.to_string().contains("params.tableName"), "{err}");
    assert!(err.to_string().contains(id.as_str()), "{err}");
    fake.omit_in_listings("sourceConnections", &[]);
    assert_eq!(
        c.find_source_connection(&base, "public.orders")
            .unwrap()
            .unwrap()
            .id,
        id
    );
}
