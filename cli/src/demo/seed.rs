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

/// The datasets (by name) every sandbox of a file holds under `--demo`,
/// as the README's example file names them.
pub const DEMO_FILE_DATASETS: &[&str] = &["Orders", "Customers"];

/// The id of demo dataset `name` in `sandbox`: 24 hex digits of a digest
/// of both, so that every sandbox has ids of its own (as on Platform).
pub fn demo_dataset_id(sandbox: &str, name: &str) -> String {
    let digest = |offset: u64| {
        sandbox
            .bytes()
            .chain([0])
            .chain(name.bytes())
            .fold(offset, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            })
    };
    format!(
        "{:016x}{:08x}",
        digest(0xcbf2_9ce4_8422_2325),
        digest(0x6c62_272e_07bb_0142) as u32
    )
}

/// Seeds sandbox `name` of the fake for a file's `plan`/`apply`: the demo
/// database's tables behind every base connection, and the datasets
/// [`DEMO_FILE_DATASETS`] (their schemas take any field). Done at every
/// start (seeding is not a change: the state file does not keep it).
pub fn seed_sandbox(fake: &FakeFlowService, name: &str) {
    let sandbox = fake.sandbox(name);
    sandbox.use_demo_catalog();
    sandbox.complete_new_flows(true);
    for dataset in DEMO_FILE_DATASETS {
        let schema = format!(
            "https://ns.adobe.com/demo/schemas/{}",
            dataset.to_ascii_lowercase()
        );
        sandbox.add_dataset(&demo_dataset_id(name, dataset), dataset, &schema);
    }
}
