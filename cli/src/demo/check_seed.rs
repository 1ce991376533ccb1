//! What `aep-flow --demo check -f FILE` shows besides healthy pipelines:
//! the flow into the demo dataset `Customers` (the README's second
//! pipeline) last ran with failed records, a partial ingestion.
//!
//! Seeded by `check` only, at its start, into the sandboxes it checks:
//! a run added to the fake is not a change the state file keeps until a
//! command writes, so the other demo commands (and their ids) are not
//! touched by it.

use std::time::{SystemTime, UNIX_EPOCH};

use aep_flow_testing::FakeRun;

use super::seed::demo_dataset_id;
use super::Demo;

/// The demo dataset whose flow shows a partial run.
pub const PARTIAL_DATASET: &str = "Customers";

/// Gives every flow of `sandbox` into [`PARTIAL_DATASET`] a newest run
/// that succeeded with 3 of 120 records failed, unless its newest run
/// already has failed records.
pub fn seed_partial(demo: &Demo, sandbox: &str) {
    let s = demo.fake.sandbox(sandbox);
    let dataset = demo_dataset_id(sandbox, PARTIAL_DATASET);
    let targets: Vec<String> = s
        .target_connections()
        .into_iter()
        .filter(|t| t.dataset_id == dataset)
        .map(|t| t.id)
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    for flow in s.flows() {
        if !flow
            .target_connection_ids
            .iter()
            .any(|t| targets.contains(t))
        {
            continue;
        }
        let partial = s
            .latest_run(&flow.id)
            .is_some_and(|r| r.failed_records.unwrap_or(0) > 0);
        if !partial {
            s.add_run(
                &flow.id,
                FakeRun::new("success")
                    .with_counts(120, 117, 3)
                    .with_bytes(16_384, 15_970)
                    .with_times(now, now + 5_100)
                    .with_created_at(now)
                    .with_error(
                        "CONNECTOR-2015-400",
                        "3 rows failed XDM validation: _tenant.customer is required",
                    ),
            );
        }
    }
}
