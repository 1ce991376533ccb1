//! Explore calls against the fake: tables, columns, preview, 404s, path
//! encoding and the response-size cap.

mod common;

use std::time::Duration;

use aep_flow::{
    defaults::DEFAULT_MAX_EXPLORE_BYTES, spec::CONNECTION_STRING_AUTH, Client, ColumnType,
    ConnectionId, Error,
};
use aep_flow_testing::{demo_catalog, FakeFlowService, FakeTable};
use serde_json::json;

fn client(fake: &FakeFlowService) -> Client {
    Client::builder(common::platform(fake))
        .with_retry_backoff(Duration::from_millis(10))
        .build()
        .unwrap()
}

fn base(fake: &FakeFlowService) -> ConnectionId {
    common::id(&fake.insert_connection(
        "pg",
        CONNECTION_STRING_AUTH,
        json!({"connectionString": "Server=db;Database=d;Port=5432;UID=u;Password=p"}),
    ))
}

#[test]
fn tables_columns_and_preview_come_from_the_catalog() {
    let fake = FakeFlowService::start().unwrap();
    let id = base(&fake);
    fake.set_catalog(&id, demo_catalog());
    let c = client(&fake);
    let tables = c.explore_tables(&id).unwrap();
    let paths: Vec<&str> = tables.iter().map(|t| t.path.as_str()).collect();
    assert_eq!(paths, ["public.orders", "public.customers"]);
    assert!(tables.iter().all(|t| t.is_table() && t.can_preview));

    let schema = c.explore_columns(&id, "public.orders").unwrap();
    assert_eq!(schema.format.as_deref(), Some("flat"));
    let cols: Vec<(&str, ColumnType)> = schema
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.column_type()))
        .collect();
    assert_eq!(
        cols,
        [
            ("id", ColumnType::Integer),
            ("customer", ColumnType::String),
            ("amount", ColumnType::Double),
            ("updated_at", ColumnType::String),
        ]
    );
    assert_eq!(schema.columns[3].xdm_format(), Some("date-time"));
    assert_eq!(
        schema.columns[2].xdm.as_ref().unwrap().kind.as_deref(),
        Some("number")
    );

    let preview = c.preview_table(&id, "public.orders").unwrap();
    assert_eq!(preview.columns, schema.columns);
    assert_eq!(preview.rows.len(), 3);
    assert_eq!(preview.rows[0]["customer"], "ada");
    let last = fake.requests().pop().unwrap();
    assert!(
        last.path
            .ends_with("/explore?objectType=table&object=public.orders&preview=true"),
        "{}",
        last.path
    );
}

#[test]
fn unknown_table_and_unknown_connection_are_404() {
    let fake = FakeFlowService::start().unwrap();
    let id = base(&fake);
    fake.set_catalog(&id, demo_catalog());
    let c = client(&fake);
    let e = c.explore_columns(&id, "public.nope").unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
    assert!(e.to_string().contains("public.nope"), "{e}");
    assert_eq!(
        c.preview_table(&id, "public.nope").unwrap_err().status(),
        Some(404)
    );
    assert!(matches!(
        c.explore_tables(&common::id("no-such-connection"))
            .unwrap_err(),
        Error::NotFound {
            resource: "connection",
            ..
        }
    ));
    // A connection without a catalog is an empty database.
    let other = base(&fake);
    assert!(c.explore_tables(&other).unwrap().is_empty());
}

#[test]
fn awkward_table_paths_survive_the_round_trip() {
    let fake = FakeFlowService::start().unwrap();
    let id = base(&fake);
    let awkward = [
        "public.\"odd table\".ü.x",
        "my schema.table with spaces",
        "public.\"quo'te\"",
        "public.a&b=c",
        "public.hash#tag",
        "public.100%+more",
    ];
    fake.set_catalog(
        &id,
        awkward
            .iter()
            .map(|p| FakeTable::new(*p).column("v", "long").row(json!({"v": 1})))
            .collect(),
    );
    let c = client(&fake);
    let listed: Vec<String> = c
        .explore_tables(&id)
        .unwrap()
        .into_iter()
        .map(|t| t.path)
        .collect();
    assert_eq!(listed, awkward);
    for path in awkward {
        let schema = c.explore_columns(&id, path).unwrap();
        assert_eq!(schema.path, path);
        assert_eq!(schema.columns[0].column_type(), ColumnType::Long);
        assert_eq!(c.preview_table(&id, path).unwrap().rows.len(), 1, "{path}");
    }
    let raw = &fake.requests()[1].path;
    assert!(
        raw.ends_with("object=public.%22odd%20table%22.%C3%BC.x"),
        "{raw}"
    );
}

#[test]
fn a_large_root_listing_within_and_beyond_the_cap() {
    let fake = FakeFlowService::start().unwrap();
    let id = base(&fake);
    let tables: Vec<FakeTable> = (0..12_000)
        .map(|i| FakeTable::new(format!("schema_{}.table_number_{i:05}", i % 7)))
        .collect();
    fake.set_catalog(&id, tables);
    // About 1.4 MB of JSON: beyond the 1 MiB cap for other answers, within
    // the explore cap (64 MiB by default).
    let all = client(&fake).explore_tables(&id).unwrap();
    assert_eq!(all.len(), 12_000);
    // Beyond a smaller explore cap: a clear error that names the setting.
    let small = Client::builder(common::platform(&fake))
        .with_max_explore_bytes(64 * 1024)
        .build()
        .unwrap();
    let e = small.explore_tables(&id).unwrap_err();
    assert!(e.is_too_large(), "{e}");
    assert!(matches!(e, Error::TooLarge { limit: 65536, .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("65536-byte limit"), "{text}");
    assert!(text.contains("with_max_explore_bytes"), "{text}");
    // The explore cap does not raise the cap for other answers.
    let big = Client::builder(common::platform(&fake))
        .with_max_explore_bytes(DEFAULT_MAX_EXPLORE_BYTES)
        .with_max_response_bytes(1024)
        .build()
        .unwrap();
    assert_eq!(big.explore_tables(&id).unwrap().len(), 12_000);
}

#[test]
fn demo_catalog_applies_to_connections_created_later() {
    let fake = FakeFlowService::builder().demo_catalog().start().unwrap();
    let id = base(&fake);
    let paths: Vec<String> = client(&fake)
        .explore_tables(&id)
        .unwrap()
        .into_iter()
        .map(|t| t.path)
        .collect();
    assert_eq!(paths, ["public.orders", "public.customers"]);

    let plain = FakeFlowService::start().unwrap();
    let id = base(&plain);
    assert!(client(&plain).explore_tables(&id).unwrap().is_empty());
    plain.use_demo_catalog();
    assert_eq!(client(&plain).explore_tables(&id).unwrap().len(), 2);
}
