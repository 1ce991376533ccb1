//! Runs against the fake: newest first whatever the order they were added
//! in, paging with small pages, the status filter in any casing, get by
//! id, and a flow without runs.

use std::time::Duration;

use aep_flow::testing::{FakeFlowService, FakeRun};
use aep_flow::{Client, Error, RunError, RunFilter, RunStatus};

const FLOW: &str = "0f1e2d3c-0000-4000-8000-00000000f1a0";
const OTHER_FLOW: &str = "0f1e2d3c-0000-4000-8000-00000000f1a1";

fn client(fake: &FakeFlowService) -> Client {
    Client::builder(fake.platform())
        .with_retry_backoff(Duration::from_millis(10))
        .build()
        .unwrap()
}

fn ids(runs: &[aep_flow::Run]) -> Vec<&str> {
    runs.iter().map(|r| r.id.as_str()).collect()
}

/// Seven runs of `FLOW`, added out of `createdAt` order, and one of
/// another flow. Returns the ids of `FLOW`'s runs, newest first.
fn seed(fake: &FakeFlowService) -> Vec<String> {
    let add = |status: &str, created: i64| {
        fake.add_run(FLOW, FakeRun::new(status).with_created_at(created))
    };
    let r3 = add("success", 3_000);
    let r6 = add("inProgress", 6_000);
    let r1 = add("Failed", 1_000);
    let r5 = add("failed", 5_000);
    let r2 = add("success", 2_000);
    let r7 = add("scheduled", 7_000);
    let r4 = add("SUCCESS", 4_000);
    fake.add_run(OTHER_FLOW, FakeRun::new("success").with_created_at(9_000));
    vec![r7, r6, r5, r4, r3, r2, r1]
}

#[test]
fn runs_added_out_of_order_come_back_newest_first_across_pages() {
    // A service that lists in its own order: the client sorts.
    let fake = FakeFlowService::builder()
        .max_page_size(2)
        .ignore_orderby()
        .start()
        .unwrap();
    let newest_first = seed(&fake);
    let c = client(&fake);
    let runs = c.list_runs(RunFilter::new(FLOW)).unwrap();
    assert_eq!(ids(&runs), newest_first);
    assert!(runs.iter().all(|r| r.flow_id.as_deref() == Some(FLOW)));
    // Seven runs in pages of two: four pages, each asking for the flow.
    let requests = fake.requests();
    assert_eq!(requests.len(), 4);
    for r in &requests {
        assert!(
            r.path.starts_with(
                "/data/foundation/flowservice/runs?limit=50&property=flowId%3D%3D0f1e2d3c"
            ),
            "{}",
            r.path
        );
    }
    // The lazy listing keeps the service's (here: insertion) order.
    let lazy: Vec<String> = c
        .runs(RunFilter::new(FLOW).with_page_size(3))
        .map(|r| r.unwrap().id)
        .collect();
    let mut sorted = lazy.clone();
    sorted.sort_by_key(|id| newest_first.iter().position(|n| n == id));
    assert_ne!(lazy, sorted);
    assert_eq!(sorted, newest_first);
}

#[test]
fn the_status_filter_matches_any_casing_and_pages() {
    let fake = FakeFlowService::builder().max_page_size(1).start().unwrap();
    let newest_first = seed(&fake);
    let c = client(&fake);
    let failed = c
        .list_runs(RunFilter::new(FLOW).with_status(RunStatus::Failed))
        .unwrap();
    // r5 (`failed`) and r1 (`Failed`), newest first.
    assert_eq!(ids(&failed), [&newest_first[2], &newest_first[6]]);
    assert!(failed.iter().all(|r| r.status == RunStatus::Failed));
    // Pages of one: the next-page links kept the status filter.
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert!(
            r.path
                .contains("&property=metrics.statusSummary.status%3D%3Dfailed"),
            "{}",
            r.path
        );
    }
    let success = c
        .list_runs(RunFilter::new(FLOW).with_status(RunStatus::Success))
        .unwrap();
    assert_eq!(
        ids(&success),
        [&newest_first[3], &newest_first[4], &newest_first[5]]
    );
    let in_progress = c
        .list_runs(RunFilter::new(FLOW).with_status(RunStatus::InProgress))
        .unwrap();
    assert_eq!(ids(&in_progress), [&newest_first[1]]);
}

#[test]
fn latest_finished_run_skips_runs_not_over() {
    let fake = FakeFlowService::start().unwrap();
    let newest_first = seed(&fake);
    let c = client(&fake);
    // r7 is scheduled, r6 in progress: r5 (failed) is the latest finished.
    let latest = c.latest_finished_run(FLOW).unwrap().unwrap();
    assert_eq!(latest.id, newest_first[2]);
    assert_eq!(latest.status, RunStatus::Failed);
    assert_eq!(
        fake.latest_run(FLOW).unwrap()["id"],
        newest_first[0].as_str()
    );
}

#[test]
fn get_reads_what_the_fake_holds() {
    let fake = FakeFlowService::start().unwrap();
    let id = fake.add_run(
        FLOW,
        FakeRun::new("Failed")
            .with_counts(100, 90, 10)
            .with_bytes(4096, 3900)
            .with_times(1_700_000_000_000, 1_700_000_060_000)
            .with_created_at(1_699_999_999_000)
            .with_error("CONNECTOR-2001-500", "10 rows failed"),
    );
    let c = client(&fake);
    let run = c.get_run(&id).unwrap();
    assert_eq!(run.id, id);
    assert_eq!(run.flow_id.as_deref(), Some(FLOW));
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.created_at, Some(1_699_999_999_000));
    assert!(run.updated_at >= run.created_at);
    assert_eq!(
        (run.started_at, run.completed_at),
        (Some(1_700_000_000_000), Some(1_700_000_060_000))
    );
    assert_eq!(
        (run.input_records, run.output_records, run.failed_records),
        (Some(100), Some(90), Some(10))
    );
    assert_eq!(
        (run.input_bytes, run.output_bytes),
        (Some(4096), Some(3900))
    );
    assert_eq!(run.errors.len(), 1);
    let RunError { code, message, .. } = &run.errors[0];
    assert_eq!(code.as_deref(), Some("CONNECTOR-2001-500"));
    assert_eq!(message.as_deref(), Some("10 rows failed"));
    let stored = fake.runs();
    assert_eq!(run.etag.as_deref(), stored[0]["etag"].as_str());
    assert_eq!(stored[0]["metrics"]["statusSummary"]["status"], "Failed");
    assert_eq!(stored[0]["activities"], serde_json::json!([]));
    let last = fake.requests().pop().unwrap();
    assert_eq!(last.method, "GET");
    assert_eq!(last.path, format!("/data/foundation/flowservice/runs/{id}"));

    // A run without metrics reads as nothing known.
    let bare = fake.add_run(FLOW, FakeRun::new("scheduled"));
    let run = c.get_run(&bare).unwrap();
    assert_eq!(run.status, RunStatus::Scheduled);
    assert_eq!((run.input_records, run.started_at), (None, None));
    assert!(run.created_at.is_some());

    let missing = "00000000-0000-4000-8000-0000000fffff";
    let e = c.get_run(missing).unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { resource: "run", id, .. } if id == missing),
        "{e}"
    );
}

#[test]
fn a_flow_without_runs_has_none() {
    let fake = FakeFlowService::start().unwrap();
    seed(&fake);
    let c = client(&fake);
    let empty = "0f1e2d3c-0000-4000-8000-0000000000ee";
    assert!(c.list_runs(RunFilter::new(empty)).unwrap().is_empty());
    assert_eq!(c.latest_finished_run(empty).unwrap(), None);
    assert!(fake.latest_run(empty).is_none());
    // A flow whose only run is still going has no finished one either.
    fake.add_run(empty, FakeRun::new("inProgress"));
    assert_eq!(c.list_runs(RunFilter::new(empty)).unwrap().len(), 1);
    assert_eq!(c.latest_finished_run(empty).unwrap(), None);
    // Bad input sends nothing.
    let before = fake.requests().len();
    assert!(c
        .list_runs(RunFilter::new("a/b"))
        .unwrap_err()
        .is_invalid_input());
    assert_eq!(fake.requests().len(), before);
}

/// 300 runs, oldest first, then a failed one: the summary finds it.
fn long_lived(fake: &FakeFlowService) -> String {
    let mut last = String::new();
    for i in 0..300 {
        last = fake.add_run(FLOW, FakeRun::new("success").with_created_at(1_000 + i));
    }
    let failed = fake.add_run(FLOW, FakeRun::new("Failed").with_created_at(5_000));
    assert_ne!(last, failed);
    failed
}

#[test]
fn the_summary_reads_one_page_when_the_service_sorts_newest_first() {
    let fake = FakeFlowService::start().unwrap();
    let failed = long_lived(&fake);
    fake.add_run(FLOW, FakeRun::new("inProgress").with_created_at(6_000));
    let c = client(&fake);
    let summary = c.run_summary(FLOW).unwrap();
    assert_eq!(summary.latest.unwrap().status, RunStatus::InProgress);
    assert_eq!(summary.latest_finished.unwrap().id, failed);
    assert_eq!(fake.requests().len(), 1, "one page");
    assert!(fake.requests()[0].path.contains("orderby=-createdAt"));
}

#[test]
fn the_summary_reads_every_page_when_the_service_ignores_the_order() {
    let fake = FakeFlowService::builder().ignore_orderby().start().unwrap();
    let failed = long_lived(&fake);
    let c = client(&fake);
    let summary = c.run_summary(FLOW).unwrap();
    assert_eq!(summary.latest.as_ref().unwrap().id, failed);
    assert_eq!(summary.latest_finished.unwrap().id, failed);
    // 301 runs in pages of 50: every page.
    assert_eq!(fake.requests().len(), 7);
    assert_eq!(c.latest_finished_run(FLOW).unwrap().unwrap().id, failed);
}
