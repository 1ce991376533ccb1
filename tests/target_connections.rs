//! Datasets and target connections against the fake: read a dataset's
//! schema from Catalog, create/get/list/delete, ensure (twice, after a
//! lost answer, from 8 threads), and the fake's checks.

mod common;
use common::id;

use std::time::Duration;

use aep_flow::{
    spec::DATA_LAKE_CONNECTION_SPEC_ID, spec::XDM_FULL_CONTENT_TYPE, Client, Error,
    NewTargetConnection, Service, TargetConnectionFilter,
};
use aep_flow_testing::{FakeFlowService, Reply, CATALOG_PATH};

const DATASET: &str = "5c8c3c555033b814b69f947f";
const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/0a1b2c3d";

fn client(fake: &FakeFlowService) -> Client {
    Client::builder(common::platform(fake))
        .with_retry_backoff(Duration::from_millis(10))
        .build()
        .unwrap()
}

fn setup() -> FakeFlowService {
    let fake = FakeFlowService::start().unwrap();
    fake.add_dataset(DATASET, "orders", SCHEMA);
    fake
}

#[test]
fn the_dataset_gives_the_schema_for_the_target_connection() {
    let fake = setup();
    let c = client(&fake);
    let dataset = c.get_dataset(&id(DATASET)).unwrap();
    assert_eq!(dataset.name.as_deref(), Some("orders"));
    assert_eq!(dataset.schema_id.as_ref().map(|i| i.as_str()), Some(SCHEMA));
    let request = &fake.requests()[0];
    assert_eq!(request.path, format!("{CATALOG_PATH}/dataSets/{DATASET}"));

    let new = NewTargetConnection::new(
        "orders dataset",
        dataset.id.clone(),
        dataset.schema_id.unwrap(),
    )
    .with_description("where orders land");
    let saved = c.create_target_connection(&new).unwrap();
    let got = c.get_target_connection(&saved.id).unwrap();
    assert_eq!(got.name, "orders dataset");
    assert_eq!(got.description.as_deref(), Some("where orders land"));
    assert_eq!(got.dataset_id.as_ref().map(|i| i.as_str()), Some(DATASET));
    assert_eq!(got.schema_id.as_ref().map(|i| i.as_str()), Some(SCHEMA));
    assert_eq!(got.format.as_deref(), Some("parquet_xdm"));
    assert_eq!(
        got.connection_spec_id.as_deref(),
        Some(DATA_LAKE_CONNECTION_SPEC_ID)
    );
    assert_eq!(got.etag, saved.etag);
    assert!(got.created_at.is_some());
    let stored = &fake.target_connections()[0];
    assert_eq!(stored.schema_version, XDM_FULL_CONTENT_TYPE);
}

#[test]
fn an_unknown_dataset_is_not_found_in_catalog_and_refused_for_a_target() {
    let fake = setup();
    let c = client(&fake);
    let e = c.get_dataset(&id("000000000000000000000000")).unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { resource: "dataset", id, .. } if id == "000000000000000000000000"),
        "{e}"
    );
    assert!(e
        .request_id()
        .is_some_and(|r| r.starts_with("fake-request-")));
    let e = c
        .create_target_connection(&NewTargetConnection::new(
            "x",
            id("000000000000000000000000"),
            id(SCHEMA),
        ))
        .unwrap_err();
    match &e {
        Error::Api(api) => {
            assert_eq!((api.status, api.service), (400, Service::FlowService));
            assert!(api.message.contains("000000000000000000000000"), "{e}");
        }
        other => panic!("{other}"),
    }
    // The dataset exists, the schema is another one.
    let e = c
        .create_target_connection(&NewTargetConnection::new(
            "x",
            id(DATASET),
            id("https://ns.adobe.com/tenant/schemas/other"),
        ))
        .unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(fake.target_connections().is_empty());
}

#[test]
fn list_filters_by_dataset_and_delete_removes() {
    let fake = setup();
    fake.add_dataset("5c8c3c555033b814b69f0002", "customers", SCHEMA);
    let c = client(&fake);
    let a = c
        .create_target_connection(&NewTargetConnection::new("a", id(DATASET), id(SCHEMA)))
        .unwrap();
    let b = c
        .create_target_connection(&NewTargetConnection::new(
            "b",
            id("5c8c3c555033b814b69f0002"),
            id(SCHEMA),
        ))
        .unwrap();
    let all = c
        .list_target_connections(TargetConnectionFilter::new().with_page_size(1))
        .unwrap();
    assert_eq!(all.len(), 2);
    let one = c
        .list_target_connections(
            TargetConnectionFilter::new().with_dataset_id(id("5c8c3c555033b814b69f0002")),
        )
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].id, b.id);
    let last = fake.requests().pop().unwrap();
    assert!(
        last.path.ends_with(
            "/targetConnections?limit=50&property=params.dataSetId%3D%3D5c8c3c555033b814b69f0002"
        ),
        "{}",
        last.path
    );

    c.delete_target_connection(&a.id).unwrap();
    assert!(matches!(
        c.get_target_connection(&a.id).unwrap_err(),
        Error::NotFound {
            resource: "target connection",
            ..
        }
    ));
    assert!(matches!(
        c.delete_target_connection(&a.id).unwrap_err(),
        Error::NotFound { .. }
    ));
    assert_eq!(fake.target_connections().len(), 1);
}

#[test]
fn ensure_twice_creates_one() {
    let fake = setup();
    let c = client(&fake);
    let new = NewTargetConnection::new("orders dataset", id(DATASET), id(SCHEMA));
    let first = c.ensure_target_connection(&new).unwrap();
    assert!(first.created);
    let before = fake.requests().len();
    let again = c.ensure_target_connection(&new).unwrap();
    assert!(!again.created);
    assert_eq!(again.id(), first.id());
    assert_eq!(again.etag(), first.etag());
    // Found on the first page: one request.
    assert_eq!(fake.requests().len(), before + 1);
    assert_eq!(fake.target_connections().len(), 1);
}

#[test]
fn ensure_after_a_lost_answer_makes_no_duplicate() {
    let fake = setup();
    let c = client(&fake);
    fake.push_reply(Reply::after_processing(Reply::json(503, "{}")).only_for("POST"));
    let new = NewTargetConnection::new("orders dataset", id(DATASET), id(SCHEMA));
    let e = c.ensure_target_connection(&new).unwrap();
    assert!(e.created);
    assert_eq!(fake.target_connections().len(), 1);
    assert_eq!(fake.target_connections()[0].id, e.id());
    assert!(!c.ensure_target_connection(&new).unwrap().created);
    assert_eq!(fake.target_connections().len(), 1);
}

#[test]
fn ensure_finds_a_match_on_a_later_page_when_filters_are_ignored() {
    let fake = FakeFlowService::builder()
        .ignore_property_filters()
        .max_page_size(1)
        .start()
        .unwrap();
    fake.add_dataset(DATASET, "orders", SCHEMA);
    fake.add_dataset("5c8c3c555033b814b69f0002", "other", SCHEMA);
    let c = client(&fake);
    c.create_target_connection(&NewTargetConnection::new(
        "other",
        id("5c8c3c555033b814b69f0002"),
        id(SCHEMA),
    ))
    .unwrap();
    let made = c
        .create_target_connection(&NewTargetConnection::new("mine", id(DATASET), id(SCHEMA)))
        .unwrap();
    let e = c
        .ensure_target_connection(&NewTargetConnection::new("mine", id(DATASET), id(SCHEMA)))
        .unwrap();
    assert_eq!((e.id(), e.created), (&made.id, false));
    assert_eq!(fake.target_connections().len(), 2);
}

#[test]
fn concurrent_ensures_through_clones_create_exactly_one() {
    let fake = setup();
    let c = client(&fake);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let c = c.clone();
                s.spawn(move || {
                    c.ensure_target_connection(&NewTargetConnection::new(
                        "t",
                        id(DATASET),
                        id(SCHEMA),
                    ))
                    .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|e| e.created).count(), 1);
    assert!(results.iter().all(|e| e.id() == results[0].id()));
    assert_eq!(fake.target_connections().len(), 1);
}

/// A listed target connection without `params.dataSetId` makes
/// `find_target_connection` (and so `ensure_target_connection`) fail
/// naming the field, instead of creating another.
#[test]
fn a_listing_without_the_dataset_id_is_an_error_not_none() {
    let fake = setup();
    let c = client(&fake);
    let new = NewTargetConnection::new("orders dataset", id(DATASET), id(SCHEMA));
    let made = c.create_target_connection(&new).unwrap().id;
    fake.omit_in_listings("targetConnections", &["params"]);
    let err = c.ensure_target_connection(&new).unwrap_err();
    assert!(err.to_string().contains("params.dataSetId"), "{err}");
    assert_eq!(fake.target_connections().len(), 1);
    fake.omit_in_listings("targetConnections", &[]);
    assert_eq!(
        c.find_target_connection(&id(DATASET)).unwrap().unwrap().id,
        made
    );
}
