//! What `--demo` shows: the demo's sample data, seeded into the fake.

use aep_flow::spec::CONNECTION_STRING_AUTH;
use aep_flow_testing::FakeFlowService;

/// The dataset the demo's Catalog holds.
pub const DEMO_DATASET_ID: &str = "6d1e4a0b8f0c2a001c9e3f7d";
/// The XDM schema of [`DEMO_DATASET_ID`].
pub const DEMO_SCHEMA_ID: &str =
    "https://ns.adobe.com/demo/schemas/0f9c1b2d3e4f5a6b7c8d9e0f1a2b3c4d";
/// The fields of [`DEMO_SCHEMA_ID`], one per column of the demo
/// `public.orders` table (`id`, `customer`, `amount`, `updated_at`).
pub const DEMO_SCHEMA_FIELDS: &[&str] = &[
    "_demo.orderId",
    "_demo.customer",
    "_demo.amount",
    "_demo.updatedAt",
];
/// The PostgreSQL connection a fresh demo starts with.
pub const DEMO_CONNECTION_ID: &str = "00000000-0000-4000-8000-000000000001";
/// The name of [`DEMO_CONNECTION_ID`].
pub const DEMO_CONNECTION_NAME: &str = "Test connection for PostgreSQL";

/// Every base connection shows the demo catalog, Catalog holds
/// [`DEMO_DATASET_ID`], and a new flow has run at once with counts, so a
/// demo shows a whole pipeline. A `fresh` demo (no state file yet) also
/// gets the PostgreSQL connection [`DEMO_CONNECTION_ID`].
pub fn seed(fake: &FakeFlowService, fresh: bool) {
    fake.use_demo_catalog();
    fake.add_dataset(DEMO_DATASET_ID, "Demo orders", DEMO_SCHEMA_ID);
    fake.set_schema_fields(DEMO_SCHEMA_ID, DEMO_SCHEMA_FIELDS);
    fake.complete_new_flows(true);
    if fresh {
        fake.insert_connection_as(
            DEMO_CONNECTION_ID,
            DEMO_CONNECTION_NAME,
            CONNECTION_STRING_AUTH,
            serde_json::json!({"connectionString": "Server=postgres.demo.internal;Database=demo;\
                Port=5432;UID=demo_reader;Password=demo-password"}),
        );
    }
}
