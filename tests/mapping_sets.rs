//! Mapping sets against the fake's Data Prep: create and read back
//! (current and legacy field names), validate (a bad destination, a bad
//! source column), and Data Prep's refusals.

mod common;
use common::id;

use std::time::Duration;

use aep_flow::{Client, Column, Error, Mapping, MappingSourceType, NewMappingSet, Service};
use aep_flow_testing::{
    FakeFlowService, DATA_PREP_PATH, DEMO_ACCESS_TOKEN, DEMO_API_KEY, DEMO_ORG_ID, DEMO_SANDBOX,
};

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
    fake.set_schema_fields(
        SCHEMA,
        &["_id", "_tenant.orderId", "_tenant.amount", "_tenant.label"],
    );
    fake
}

fn orders() -> NewMappingSet {
    NewMappingSet::new(
        id(SCHEMA),
        vec![
            Mapping::new("order_id", "_tenant.orderId"),
            Mapping::new("amount", "_tenant.amount"),
            Mapping::expression("upper(customer)", "_tenant.label"),
        ],
    )
}

/// A GET with the platform headers over a plain socket: the fake's answer
/// as sent.
fn raw_get(fake: &FakeFlowService, path: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(fake.addr()).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {DEMO_ACCESS_TOKEN}\r\n\
         x-api-key: {DEMO_API_KEY}\r\nx-gw-ims-org-id: {DEMO_ORG_ID}\r\n\
         x-sandbox-name: {DEMO_SANDBOX}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(body).unwrap()
}

fn is_32_hex(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn create_then_get_round_trip() {
    let fake = setup();
    let c = client(&fake);
    let saved = c.create_mapping_set(&orders()).unwrap();
    assert!(is_32_hex(&saved.id), "{}", saved.id);
    assert_eq!(saved.version, 0);
    let request = &fake.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("{DATA_PREP_PATH}/mappingSets"));

    let got = c.get_mapping_set(&saved.id).unwrap();
    assert_eq!(got.id, saved.id);
    assert_eq!(got.version, 0);
    assert_eq!(got.schema_id.as_ref().map(|i| i.as_str()), Some(SCHEMA));
    assert_eq!(got.mappings, orders().mappings());
    assert_eq!(got.mappings[2].source_type(), MappingSourceType::Expression);
    assert!(got.created_at.is_some() && got.updated_at.is_some());
    let stored = fake.mapping_sets();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].mappings[0].0, "order_id");
}

#[test]
fn legacy_field_names_read_the_same() {
    let fake = setup();
    let c = client(&fake);
    let saved = c.create_mapping_set(&orders()).unwrap();
    fake.legacy_mapping_field_names(true);
    let got = c.get_mapping_set(&saved.id).unwrap();
    assert_eq!(got.mappings, orders().mappings());
    // The fake really answers with the legacy names.
    let body = raw_get(&fake, &format!("{DATA_PREP_PATH}/mappingSets/{}", saved.id));
    let first = &body["mappings"][0];
    assert_eq!(first["sourceAttribute"], "order_id");
    assert_eq!(first["destinationXdmPath"], "_tenant.orderId");
    assert_eq!(first["sourceType"], "text/x.schema-path");
    assert!(first.get("source").is_none() && first.get("destination").is_none());
    fake.legacy_mapping_field_names(false);
    assert_eq!(
        c.get_mapping_set(&saved.id).unwrap().mappings,
        orders().mappings()
    );
}

#[test]
fn validate_reports_a_bad_destination_and_a_bad_source_column() {
    let fake = setup();
    let c = client(&fake);
    let good = orders().with_source_columns(vec![
        Column::new("order_id", "integer"),
        Column::new("amount", "double"),
        Column::new("customer", "string"),
    ]);
    let v = c.validate_mapping_set(&good).unwrap();
    assert!(v.is_valid(), "{:?}", v.problems());
    assert_eq!(v.results.len(), 3);

    let bad = NewMappingSet::new(
        id(SCHEMA),
        vec![
            Mapping::new("order_id", "_tenant.orderId"),
            Mapping::new("amount", "_tenant.nope"),
            Mapping::new("missing_column", "_tenant.label"),
        ],
    )
    .with_source_columns(vec![
        Column::new("order_id", "integer"),
        Column::new("amount", "double"),
    ]);
    let v = c.validate_mapping_set(&bad).unwrap();
    assert!(!v.is_valid());
    assert!(v.results[0].is_success());
    let problems = v.problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("mappings[1]: ") && problems[0].contains("_tenant.nope"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("mappings[2]: ") && problems[1].contains("missing_column"),
        "{problems:?}"
    );
    let request = fake.requests().pop().unwrap();
    assert_eq!(
        request.path,
        format!("{DATA_PREP_PATH}/mappingSets/validate")
    );
    // Nothing was created.
    assert!(fake.mapping_sets().is_empty());
    // Without source columns, sources are not checked.
    let v = c
        .validate_mapping_set(&NewMappingSet::new(
            id(SCHEMA),
            vec![Mapping::new("anything", "_id")],
        ))
        .unwrap();
    assert!(v.is_valid());
}

#[test]
fn an_unknown_schema_is_refused_by_data_prep() {
    let fake = setup();
    let c = client(&fake);
    let unknown = NewMappingSet::new(
        id("https://ns.adobe.com/tenant/schemas/unknown"),
        vec![Mapping::new("a", "_id")],
    );
    for e in [
        c.create_mapping_set(&unknown).unwrap_err(),
        c.validate_mapping_set(&unknown).map(|_| ()).unwrap_err(),
    ] {
        match &e {
            Error::Api(api) => {
                assert_eq!((api.service, api.status), (Service::DataPrep, 400));
                assert!(api.message.contains("unknown"), "{e}");
                assert!(api.code.as_deref().is_some_and(|c| c.ends_with("-400")));
            }
            other => panic!("{other}"),
        }
    }
    assert!(fake.mapping_sets().is_empty());
    // A schema known only through a dataset is accepted, with any field.
    let other = "https://ns.adobe.com/tenant/schemas/from-a-dataset";
    fake.add_dataset("5c8c3c555033b814b69f0002", "other", other);
    let set = NewMappingSet::new(id(other), vec![Mapping::new("a", "_tenant.whatever")]);
    assert!(c.validate_mapping_set(&set).unwrap().is_valid());
    c.create_mapping_set(&set).unwrap();
}

#[test]
fn an_unknown_mapping_set_is_not_found() {
    let fake = setup();
    let c = client(&fake);
    let unknown = "0123456789abcdef0123456789abcdef";
    let e = c.get_mapping_set(&id(unknown)).unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { resource: "mapping set", id: got, .. } if got == unknown),
        "{e}"
    );
    // Refused before sending: not a mapping set id.
    let before = fake.requests().len();
    assert!(c
        .get_mapping_set(&id("not-an-id"))
        .unwrap_err()
        .is_invalid_input());
    assert_eq!(fake.requests().len(), before);
}

/// Every inline `inputSchema` property carries a JSON schema type, from the
/// explore column's type (a strict Data Prep refuses untyped properties,
/// and so does the fake).
#[test]
fn validate_types_every_input_schema_property() {
    let fake = setup();
    let c = client(&fake);
    let columns: Vec<Column> = serde_json::from_value(serde_json::json!([
        {"name": "order_id", "type": "long"},
        {"name": "amount", "type": "double", "xdm": {"type": "number"}},
        {"name": "customer", "type": "varchar"},
        {"name": "updated_at", "type": "string", "meta:xdmType": "date-time"},
        {"name": "ok", "type": "boolean"}
    ]))
    .unwrap();
    let v = c
        .validate_mapping_set(&orders().with_source_columns(columns))
        .unwrap();
    assert!(v.is_valid(), "{:?}", v.problems());
    let request = fake.requests().pop().unwrap();
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    let props = &body["inputSchema"]["jsonSchema"]["properties"];
    assert_eq!(props["order_id"], serde_json::json!({"type": "integer"}));
    assert_eq!(props["amount"], serde_json::json!({"type": "number"}));
    assert_eq!(props["customer"], serde_json::json!({"type": "string"}));
    assert_eq!(
        props["updated_at"],
        serde_json::json!({"type": "string", "format": "date-time"})
    );
    assert_eq!(props["ok"], serde_json::json!({"type": "boolean"}));
}

/// A named mapping set is found again by its name (`GET
/// /mappingSets?limit&start&name`), and only by its own.
#[test]
fn a_named_mapping_set_is_found_by_its_name() {
    let fake = setup();
    let c = client(&fake);
    let a = c
        .create_mapping_set(&orders().with_name("aep-flow one & \"two\""))
        .unwrap();
    c.create_mapping_set(&orders().with_name("aep-flow other"))
        .unwrap();
    c.create_mapping_set(&orders()).unwrap();
    let found = c.find_mapping_sets_named("aep-flow one & \"two\"").unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, a.id);
    assert_eq!(found[0].name.as_deref(), Some("aep-flow one & \"two\""));
    assert_eq!(found[0].mappings, orders().mappings());
    assert!(c
        .find_mapping_sets_named("aep-flow none")
        .unwrap()
        .is_empty());
    let listing = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "GET" && r.path.contains("/mappingSets?"))
        .unwrap();
    assert!(
        listing
            .path
            .contains("limit=50&start=0&name=aep-flow%20one%20%26%20%22two%22"),
        "{}",
        listing.path
    );
}

#[test]
fn a_create_answered_with_an_unusable_id_says_the_mapping_set_was_made() {
    let fake = setup();
    fake.push_reply(
        aep_flow_testing::Reply::json(200, r#"{"id": "not-hex", "version": 0}"#).only_for("POST"),
    );
    let err = client(&fake).create_mapping_set(&orders()).unwrap_err();
    assert!(err.may_have_been_processed(), "{err}");
    assert!(err.to_string().contains("the change was made"), "{err}");
}

/// A service that ignores `name=` and answers ten full pages of other
/// mapping sets: the search says it could not see them all (a match may lie
/// beyond), never "none", which would make a pipeline create a duplicate.
#[test]
fn ten_full_pages_of_other_names_are_an_error_not_none() {
    let fake = setup();
    let c = client(&fake);
    for page in 0..10 {
        let items: Vec<String> = (0..50)
            .map(|i| {
                format!(
                    r#"{{"id": "{:032x}", "name": "someone else's {page}-{i}"}}"#,
                    page * 50 + i + 1
                )
            })
            .collect();
        fake.push_reply(
            aep_flow_testing::Reply::json(200, format!(r#"{{"data": [{}]}}"#, items.join(",")))
                .only_for("GET"),
        );
    }
    let e = c.find_mapping_sets_named("aep-flow orders").unwrap_err();
    assert!(matches!(e, Error::UnexpectedResponse { .. }), "{e:?}");
    assert!(e.to_string().contains("ignore name="), "{e}");
    let listings = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("/mappingSets?"))
        .count();
    assert_eq!(listings, 10);
    // Nine full pages and a short one: read to the end, and "none" holds.
    let fake = setup();
    let c = client(&fake);
    for page in 0..9 {
        let items: Vec<String> = (0..50)
            .map(|i| format!(r#"{{"id": "{:032x}", "name": "other"}}"#, page * 50 + i + 1))
            .collect();
        fake.push_reply(
            aep_flow_testing::Reply::json(200, format!(r#"{{"data": [{}]}}"#, items.join(",")))
                .only_for("GET"),
        );
    }
    fake.push_reply(aep_flow_testing::Reply::json(200, r#"{"data": []}"#).only_for("GET"));
    assert!(c
        .find_mapping_sets_named("aep-flow orders")
        .unwrap()
        .is_empty());
}
