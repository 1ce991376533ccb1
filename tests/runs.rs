//! Runs against the fake: newest first whatever the order they were added
//! in, paging with small pages, the status filter in any casing, get by
//! id, and a flow without runs.

mod common;
use common::id;

use std::time::Duration;

use aep_flow::{
    Client, Error, ImsCredentials, Platform, RunError, RunFilter, RunId, RunStatus, Sandbox, Secret,
};
use aep_flow_testing::{FakeFlowService, FakeRun};

const FLOW: &str = "0f1e2d3c-0000-4000-8000-00000000f1a0";
const OTHER_FLOW: &str = "0f1e2d3c-0000-4000-8000-00000000f1a1";

fn client(fake: &FakeFlowService) -> Client {
    Client::builder(common::platform(fake))
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
    let runs = c.list_runs(RunFilter::new(id(FLOW))).unwrap();
    assert_eq!(ids(&runs), newest_first);
    assert!(runs
        .iter()
        .all(|r| r.flow_id.as_ref().map(|i| i.as_str()) == Some(FLOW)));
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
    let lazy: Vec<RunId> = c
        .runs(RunFilter::new(id(FLOW)).with_page_size(3))
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
        .list_runs(RunFilter::new(id(FLOW)).with_status(RunStatus::Failed))
        .unwrap();
    // r5 (`failed`) and r1 (`Failed`), newest first.
    assert_eq!(ids(&failed), [&newest_first[2], &newest_first[6]]);
    assert!(failed.iter().all(|r| r.status == RunStatus::Failed));
    // Pages of one: the status is matched locally, so every run of the
    // flow is read (seven pages), none asking the service for a status.
    let requests = fake.requests();
    assert_eq!(requests.len(), 7);
    for r in &requests {
        assert!(!r.path.contains("statusSummary"), "{}", r.path);
    }
    let success = c
        .list_runs(RunFilter::new(id(FLOW)).with_status(RunStatus::Success))
        .unwrap();
    assert_eq!(
        ids(&success),
        [&newest_first[3], &newest_first[4], &newest_first[5]]
    );
    let in_progress = c
        .list_runs(RunFilter::new(id(FLOW)).with_status(RunStatus::InProgress))
        .unwrap();
    assert_eq!(ids(&in_progress), [&newest_first[1]]);
}

#[test]
fn a_case_sensitive_service_cannot_drop_failed_runs() {
    // The fake compares a status filter exactly, as a strict service may;
    // its runs say `Failed` (Adobe's guide) and `failed` (seen too).
    let fake = FakeFlowService::start().unwrap();
    let documented = fake.add_run(FLOW, FakeRun::new("Failed").with_created_at(2_000));
    let lower = fake.add_run(FLOW, FakeRun::new("failed").with_created_at(1_000));
    fake.add_run(FLOW, FakeRun::new("success").with_created_at(3_000));
    let c = client(&fake);
    let failed = c
        .list_runs(RunFilter::new(id(FLOW)).with_status(RunStatus::Failed))
        .unwrap();
    assert_eq!(ids(&failed), [documented.as_str(), lower.as_str()]);
}

#[test]
fn latest_finished_run_skips_runs_not_over() {
    let fake = FakeFlowService::start().unwrap();
    let newest_first = seed(&fake);
    let c = client(&fake);
    // r7 is scheduled, r6 in progress: r5 (failed) is the latest finished.
    let latest = c.latest_finished_run(&id(FLOW)).unwrap().unwrap();
    assert_eq!(latest.id, newest_first[2]);
    assert_eq!(latest.status, RunStatus::Failed);
    assert_eq!(fake.latest_run(FLOW).unwrap().id, newest_first[0].as_str());
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
    let run = c.get_run(&common::id(&id)).unwrap();
    assert_eq!(run.id, id);
    assert_eq!(run.flow_id.as_ref().map(|i| i.as_str()), Some(FLOW));
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
    assert_eq!(run.etag.as_deref(), Some(stored[0].etag.as_str()));
    assert_eq!(stored[0].status, "Failed");
    assert_eq!(stored[0].raw()["activities"], serde_json::json!([]));
    let last = fake.requests().pop().unwrap();
    assert_eq!(last.method, "GET");
    assert_eq!(last.path, format!("/data/foundation/flowservice/runs/{id}"));

    // A run without metrics reads as nothing known.
    let bare = fake.add_run(FLOW, FakeRun::new("scheduled"));
    let run = c.get_run(&common::id(&bare)).unwrap();
    assert_eq!(run.status, RunStatus::Scheduled);
    assert_eq!((run.input_records, run.started_at), (None, None));
    assert!(run.created_at.is_some());

    let missing = "00000000-0000-4000-8000-0000000fffff";
    let e = c.get_run(&common::id(missing)).unwrap_err();
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
    assert!(c.list_runs(RunFilter::new(id(empty))).unwrap().is_empty());
    assert_eq!(c.latest_finished_run(&id(empty)).unwrap(), None);
    assert!(fake.latest_run(empty).is_none());
    // A flow whose only run is still going has no finished one either.
    fake.add_run(empty, FakeRun::new("inProgress"));
    assert_eq!(c.list_runs(RunFilter::new(id(empty))).unwrap().len(), 1);
    assert_eq!(c.latest_finished_run(&id(empty)).unwrap(), None);
    // Bad input sends nothing.
    let before = fake.requests().len();
    let err = "a/b".parse::<aep_flow::FlowId>().unwrap_err();
    assert_eq!(err.kind(), "flow id");
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
fn the_summary_reads_two_pages_when_the_service_sorts_newest_first() {
    let fake = FakeFlowService::start().unwrap();
    let failed = long_lived(&fake);
    fake.add_run(FLOW, FakeRun::new("inProgress").with_created_at(6_000));
    let c = client(&fake);
    let summary = c.run_summary(&id(FLOW)).unwrap();
    assert_eq!(summary.latest.unwrap().status, RunStatus::InProgress);
    assert_eq!(summary.latest_finished.unwrap().id, failed);
    // The page that holds the answer, and the next one: it shows that
    // the pages come in order too, not only the runs within a page.
    assert_eq!(fake.requests().len(), 2, "two pages of 302 runs");
    assert!(fake.requests()[0].path.contains("orderby=-createdAt"));
}

#[test]
fn the_summary_reads_every_page_when_the_service_ignores_the_order() {
    let fake = FakeFlowService::builder().ignore_orderby().start().unwrap();
    let failed = long_lived(&fake);
    let c = client(&fake);
    let summary = c.run_summary(&id(FLOW)).unwrap();
    assert_eq!(summary.latest.as_ref().unwrap().id, failed);
    assert_eq!(summary.latest_finished.unwrap().id, failed);
    // 301 runs in pages of 50: every page.
    assert_eq!(fake.requests().len(), 7);
    assert_eq!(
        c.latest_finished_run(&id(FLOW)).unwrap().unwrap().id,
        failed
    );
}

/// A page of runs as a service might send it, scripted for `/runs`.
fn scripted_runs(fake: &FakeFlowService, items: serde_json::Value) {
    fake.push_reply(
        aep_flow_testing::Reply::json(200, serde_json::json!({ "items": items }).to_string())
            .only_for_path("/runs"),
    );
}

/// Scripts a listing that ignores `orderby`: `successes` successful runs
/// of `FLOW`, oldest first, in pages of 50, then the newest run, a
/// failure. Returns the failure's id.
pub fn script_oldest_first(fake: &FakeFlowService, successes: usize) -> String {
    let mut items: Vec<serde_json::Value> = (0..successes)
        .map(|i| {
            serde_json::json!({"id": format!("ok-{i}"), "flowId": FLOW,
                               "createdAt": 1_700_000_000_000_i64 + i as i64,
                               "metrics": {"statusSummary": {"status": "success"}}})
        })
        .collect();
    items.push(serde_json::json!({"id": "newest-failed", "flowId": FLOW,
                                  "createdAt": 1_800_000_000_000_i64,
                                  "metrics": {"statusSummary": {"status": "failed"}}}));
    let pages: Vec<&[serde_json::Value]> = items.chunks(50).collect();
    for (p, page) in pages.iter().enumerate() {
        let mut body = serde_json::json!({ "items": page });
        if p + 1 < pages.len() {
            body["_links"] = serde_json::json!({"next": {"href":
                format!("/data/foundation/flowservice/runs?limit=50&continuationToken=t{p}")}});
        }
        fake.push_reply(
            aep_flow_testing::Reply::json(200, body.to_string()).only_for_path("/runs"),
        );
    }
    "newest-failed".into()
}

#[test]
fn the_cap_reached_before_the_order_is_proven_is_an_error_not_a_guess() {
    // A service that ignores `orderby`, and a flow with more runs than the
    // 10 000-run cap (and the page more read to settle the newest
    // 10 000): the newest run (a failure) is beyond it.
    let summary = {
        let fake = FakeFlowService::start().unwrap();
        script_oldest_first(&fake, 10_100);
        let e = client(&fake).run_summary(&id(FLOW)).unwrap_err();
        assert_eq!(fake.requests().len(), 201, "stopped at the cap");
        e
    };
    let latest = {
        let fake = FakeFlowService::start().unwrap();
        script_oldest_first(&fake, 10_100);
        client(&fake).latest_runs(&id(FLOW), 1).unwrap_err()
    };
    for e in [summary, latest] {
        let text = e.to_string();
        assert!(text.contains("newest first"), "{text}");
        assert!(text.contains("10000"), "{text}");
    }
    let fake = FakeFlowService::start().unwrap();
    let c = client(&fake);
    // Below the cap, every page is read and the failure found.
    script_oldest_first(&fake, 120);
    let summary = c.run_summary(&id(FLOW)).unwrap();
    assert_eq!(summary.latest_finished.unwrap().id, "newest-failed");
}

#[test]
fn a_run_without_a_flow_id_cannot_be_attributed_and_is_an_error() {
    let fake = FakeFlowService::start().unwrap();
    scripted_runs(
        &fake,
        serde_json::json!([
            {"id": "r-2", "createdAt": 2_000,
             "metrics": {"statusSummary": {"status": "failed"}}},
            {"id": "r-1", "flowId": FLOW, "createdAt": 1_000,
             "metrics": {"statusSummary": {"status": "success"}}}
        ]),
    );
    let c = client(&fake);
    let e = c.run_summary(&id(FLOW)).unwrap_err();
    assert!(e.to_string().contains("r-2"), "{e}");
    assert!(e.to_string().contains("flowId"), "{e}");
    scripted_runs(
        &fake,
        serde_json::json!([{"id": "r-2", "createdAt": 2_000}]),
    );
    let e = c.list_runs(RunFilter::new(id(FLOW))).unwrap_err();
    assert!(e.to_string().contains("cannot be attributed"), "{e}");
}

#[test]
fn run_times_in_iso_text_or_seconds_are_placed_and_unreadable_ones_refused() {
    let fake = FakeFlowService::start().unwrap();
    let c = client(&fake);
    let run = |id: &str, created: serde_json::Value, status: &str| {
        serde_json::json!({"id": id, "flowId": FLOW, "createdAt": created,
                           "metrics": {"statusSummary": {"status": status}}})
    };
    // ISO 8601 text (the newest, failed), seconds, milliseconds.
    scripted_runs(
        &fake,
        serde_json::json!([
            run("ms", 1_764_000_000_000_i64.into(), "success"),
            run("iso", "2025-11-27T13:51:25Z".into(), "failed"),
            run("secs", 1_764_100_000.into(), "success"),
        ]),
    );
    let summary = c.run_summary(&id(FLOW)).unwrap();
    let latest = summary.latest_finished.unwrap();
    assert_eq!(latest.id, "iso");
    assert_eq!(latest.created_at, Some(1_764_251_485_000));
    scripted_runs(
        &fake,
        serde_json::json!([
            run("ms", 1_764_000_000_000_i64.into(), "success"),
            run("secs", 1_764_100_000.into(), "failed"),
        ]),
    );
    let latest = c.latest_finished_run(&id(FLOW)).unwrap().unwrap();
    assert_eq!(
        (latest.id.as_str(), latest.created_at),
        ("secs", Some(1_764_100_000_000))
    );
    // A time that cannot be placed: an error naming the run, not "healthy".
    for unreadable in [
        serde_json::json!("yesterday"),
        serde_json::json!("2025-11-27T13:51:25"),
        serde_json::Value::Null,
    ] {
        scripted_runs(
            &fake,
            serde_json::json!([
                run("ok", 1_764_000_000_000_i64.into(), "success"),
                run("odd", unreadable.clone(), "failed"),
            ]),
        );
        let e = c.run_summary(&id(FLOW)).unwrap_err();
        assert!(e.to_string().contains("run odd"), "{unreadable}: {e}");
        assert!(e.to_string().contains("placed in time"), "{e}");
    }
}

#[test]
fn the_newest_runs_take_a_page_more_than_they_fill_when_the_service_sorts() {
    let fake = FakeFlowService::start().unwrap();
    // 120 older runs: three pages of 50 in all.
    for i in 0..120 {
        fake.add_run(FLOW, FakeRun::new("success").with_created_at(100 + i));
    }
    let newest_first = seed(&fake);
    let c = client(&fake);
    let one = c.latest_runs(&id(FLOW), 1).unwrap();
    assert_eq!(ids(&one), [&newest_first[0]]);
    let three = c.latest_runs(&id(FLOW), 3).unwrap();
    assert_eq!(ids(&three), &newest_first[..3]);
    assert_eq!(fake.requests().len(), 4, "two pages each");
    assert_eq!(c.latest_runs(&id(FLOW), 60).unwrap().len(), 60);
    assert_eq!(fake.requests().len(), 7, "three pages for 60");
    // Ignored order: every page, sorted.
    let fake = FakeFlowService::builder()
        .ignore_orderby()
        .max_page_size(2)
        .start()
        .unwrap();
    let newest_first = seed(&fake);
    let c = client(&fake);
    assert_eq!(
        ids(&c.latest_runs(&id(FLOW), 2).unwrap()),
        &newest_first[..2]
    );
    assert_eq!(fake.requests().len(), 4);
}

/// Scripts `pages` as the successive pages of `/runs`, each but the last
/// with a next-page link.
fn script_pages(fake: &FakeFlowService, pages: &[serde_json::Value]) {
    for (p, items) in pages.iter().enumerate() {
        let mut body = serde_json::json!({ "items": items });
        if p + 1 < pages.len() {
            body["_links"] = serde_json::json!({"next": {"href":
                format!("/data/foundation/flowservice/runs?limit=50&continuationToken=p{p}")}});
        }
        fake.push_reply(
            aep_flow_testing::Reply::json(200, body.to_string()).only_for_path("/runs"),
        );
    }
}

fn scripted_run(id: &str, created: i64, status: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "flowId": FLOW, "createdAt": created,
                       "metrics": {"statusSummary": {"status": status}}})
}

#[test]
fn a_service_that_sorts_each_page_but_not_the_listing_is_not_believed() {
    // `orderby` applied to each page, the pages in storage order (oldest
    // first): page 1 is the oldest 50 runs, newest first, and looks
    // proven; the newest run, a failure, is on page 2.
    let page = |from: i64, failed_at: Option<i64>| {
        serde_json::Value::Array(
            (from..from + 50)
                .rev()
                .map(|t| {
                    let status = if Some(t) == failed_at {
                        "failed"
                    } else {
                        "success"
                    };
                    scripted_run(&format!("r-{t}"), 1_700_000_000_000 + t, status)
                })
                .collect(),
        )
    };
    let fake = FakeFlowService::start().unwrap();
    script_pages(&fake, &[page(0, None), page(50, Some(99))]);
    let summary = client(&fake).run_summary(&id(FLOW)).unwrap();
    assert_eq!(summary.latest_finished.unwrap().id, "r-99");
    let fake = FakeFlowService::start().unwrap();
    script_pages(&fake, &[page(0, None), page(50, Some(99))]);
    let latest = client(&fake).latest_runs(&id(FLOW), 1).unwrap();
    assert_eq!(latest[0].id, "r-99");
}

#[test]
fn runs_of_equal_time_across_a_page_boundary_are_all_weighed() {
    // The newest finished run on page 1 shares its createdAt with a
    // failed run at the top of page 2: the summary must agree with the
    // full listing (ties by id), not stop at page 1's end.
    let pages = [
        serde_json::json!([
            scripted_run("going", 3_000, "inProgress"),
            scripted_run("b-ok", 2_000, "success")
        ]),
        serde_json::json!([
            scripted_run("a-failed", 2_000, "failed"),
            scripted_run("old", 1_000, "success")
        ]),
    ];
    let fake = FakeFlowService::start().unwrap();
    script_pages(&fake, &pages);
    let all = client(&fake).list_runs(RunFilter::new(id(FLOW))).unwrap();
    assert_eq!(ids(&all), ["going", "a-failed", "b-ok", "old"]);
    let fake = FakeFlowService::start().unwrap();
    script_pages(&fake, &pages);
    let summary = client(&fake).run_summary(&id(FLOW)).unwrap();
    assert_eq!(summary.latest_finished.unwrap().id, "a-failed");
    let fake = FakeFlowService::start().unwrap();
    script_pages(&fake, &pages);
    assert_eq!(
        ids(&client(&fake).latest_runs(&id(FLOW), 2).unwrap()),
        ["going", "a-failed"]
    );
}

#[test]
fn a_run_timed_beyond_the_year_10000_cannot_be_placed() {
    // A sentinel or garbled time (microseconds, i64::MAX) would otherwise
    // be "the newest run" forever, hiding every later failure.
    for huge in [
        serde_json::json!(i64::MAX),
        serde_json::json!(1_764_000_000_000_000_i64),
        serde_json::json!(253_402_300_800_000_i64),
        serde_json::json!("1e300"),
        serde_json::json!(9.0e18),
    ] {
        let fake = FakeFlowService::start().unwrap();
        scripted_runs(
            &fake,
            serde_json::json!([
                {"id": "sentinel", "flowId": FLOW, "createdAt": huge.clone(),
                 "metrics": {"statusSummary": {"status": "success"}}},
                {"id": "real-failed", "flowId": FLOW, "createdAt": 1_764_000_000_000_i64,
                 "metrics": {"statusSummary": {"status": "failed"}}}
            ]),
        );
        let e = client(&fake).run_summary(&id(FLOW)).unwrap_err();
        assert!(e.to_string().contains("run sentinel"), "{huge}: {e}");
    }
    // The last millisecond of 9999 is still a time.
    let fake = FakeFlowService::start().unwrap();
    scripted_runs(
        &fake,
        serde_json::json!([
            {"id": "late", "flowId": FLOW, "createdAt": 253_402_300_799_999_i64,
             "metrics": {"statusSummary": {"status": "failed"}}}
        ]),
    );
    let summary = client(&fake).run_summary(&id(FLOW)).unwrap();
    assert_eq!(summary.latest_finished.unwrap().id, "late");
}

#[test]
fn two_runs_in_order_on_pages_of_one_prove_nothing() {
    // A service that ignores `orderby` and `limit`, one run a page: the
    // first two runs happen to come newest first (a coin toss); the
    // newest run, a failure, comes third.
    let fake = FakeFlowService::builder()
        .ignore_orderby()
        .max_page_size(1)
        .start()
        .unwrap();
    fake.add_run(FLOW, FakeRun::new("success").with_created_at(2_000));
    fake.add_run(FLOW, FakeRun::new("success").with_created_at(1_000));
    let failed = fake.add_run(FLOW, FakeRun::new("failed").with_created_at(3_000));
    let c = client(&fake);
    assert_eq!(
        c.run_summary(&id(FLOW))
            .unwrap()
            .latest_finished
            .unwrap()
            .id,
        failed
    );
    assert_eq!(
        ids(&c.latest_runs(&id(FLOW), 1).unwrap()),
        [failed.as_str()]
    );
}

#[test]
fn a_failed_run_is_re_triggered_and_the_runs_carry_their_links() {
    let fake = FakeFlowService::start().unwrap();
    let failed = fake.add_run(
        FLOW,
        FakeRun::new("failed")
            .with_created_at(1_000)
            .with_error("CONNECTOR-2001-500", "down"),
    );
    let c = client(&fake);
    c.retrigger_run(&id(&failed)).unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert!(
        requests[0]
            .path
            .ends_with(&format!("/runs/{failed}/action?op=re-trigger")),
        "{}",
        requests[0].path
    );
    assert!(requests[0].body.is_empty());
    let runs = c.list_runs(RunFilter::new(id(FLOW))).unwrap();
    assert_eq!(runs.len(), 2);
    let child = runs.iter().find(|r| r.id != failed.as_str()).unwrap();
    let parent = runs.iter().find(|r| r.id == failed.as_str()).unwrap();
    assert_eq!(
        child.parent_run_id.as_ref().map(|i| i.as_str()),
        Some(failed.as_str())
    );
    assert_eq!(child.status, RunStatus::InProgress);
    assert!(child.child_run_ids.is_empty());
    assert_eq!(parent.parent_run_id, None);
    assert_eq!(
        parent
            .child_run_ids
            .iter()
            .map(|i| i.as_str())
            .collect::<Vec<_>>(),
        [child.id.as_str()]
    );
}

#[test]
fn a_run_that_did_not_fail_is_refused_and_an_unknown_one_not_found() {
    let fake = FakeFlowService::start().unwrap();
    let ok = fake.add_run(FLOW, FakeRun::new("success"));
    let going = fake.add_run(FLOW, FakeRun::new("inProgress"));
    let c = client(&fake);
    for run in [&ok, &going] {
        let e = c.retrigger_run(&id(run)).unwrap_err();
        match &e {
            Error::Api(api) => assert_eq!(api.status, 400, "{e}"),
            other => panic!("{other}"),
        }
        assert!(!e.may_have_been_processed());
    }
    let e = c.retrigger_run(&id("r-unknown")).unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { resource: "run", id, .. } if id == "r-unknown"),
        "{e}"
    );
    assert_eq!(fake.runs().len(), 2);
}

#[test]
fn a_lost_answer_to_a_re_trigger_is_never_sent_again() {
    use aep_flow_testing::Reply;
    // The connection closes after the request was read: it may have been
    // processed. Sent once, and said so.
    let fake = FakeFlowService::start().unwrap();
    let failed = fake.add_run(FLOW, FakeRun::new("failed"));
    fake.push_reply(Reply::close());
    let c = client(&fake);
    let e = c.retrigger_run(&id(&failed)).unwrap_err();
    assert!(e.may_have_been_processed(), "{e}");
    assert!(matches!(e, Error::Transport(_)), "{e}");
    assert!(e.to_string().contains("may have"), "{e}");
    assert_eq!(fake.requests().len(), 1);
    // A 502/503/504 is not retried either (a GET would be).
    for status in [502, 503, 504] {
        let fake = FakeFlowService::start().unwrap();
        let failed = fake.add_run(FLOW, FakeRun::new("failed"));
        fake.push_reply(Reply::json(status, r#"{"message":"busy"}"#));
        let e = client(&fake).retrigger_run(&id(&failed)).unwrap_err();
        assert_eq!(e.status(), Some(status));
        assert!(e.may_have_been_processed(), "{e}");
        assert_eq!(
            fake.requests().len(),
            1,
            "HTTP {status} re-trigger was retried"
        );
    }
    // A 429 was not processed: retried, and the run re-triggered once.
    let fake = FakeFlowService::start().unwrap();
    let failed = fake.add_run(FLOW, FakeRun::new("failed"));
    fake.push_reply(Reply::json(429, "{}").header("retry-after", "0"));
    client(&fake).retrigger_run(&id(&failed)).unwrap();
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(fake.runs().len(), 2);
}

#[test]
fn run_errors_are_shown_scrubbed_of_the_secrets_given() {
    let canary = "canary-Tok3n;pw";
    let token = aep_flow::Secret::from(canary.to_owned());
    let fake = FakeFlowService::start().unwrap();
    let echo = fake.add_run(
        FLOW,
        FakeRun::new("failed").with_error(
            "CONNECTOR-2001-500",
            format!(
                "login failed\nwith {canary} and \"{canary}\" (%22{})",
                canary.replace(';', "%3B")
            ),
        ),
    );
    let blank = fake.add_run(FLOW, FakeRun::new("failed").with_error("", ""));
    let long = fake.add_run(
        FLOW,
        FakeRun::new("failed").with_error("", "x".repeat(5000)),
    );
    let c = client(&fake);
    let shown = c.get_run(&id(&echo)).unwrap().errors[0].shown(&[&token]);
    assert!(!shown.to_lowercase().contains("tok3n"), "{shown}");
    assert!(!shown.contains('\n'), "{shown}");
    assert!(
        shown.starts_with("CONNECTOR-2001-500: login failed with "),
        "{shown}"
    );
    assert!(shown.contains(aep_flow::Secret::REDACTED), "{shown}");
    assert_eq!(c.get_run(&id(&blank)).unwrap().errors[0].shown(&[]), "");
    let cut = c.get_run(&id(&long)).unwrap().errors[0].shown(&[]);
    // 300 characters and the ellipsis that says it was cut.
    assert!(cut.chars().count() <= 301, "{}", cut.chars().count());
}

#[test]
fn run_errors_are_scrubbed_of_every_secret_the_client_holds() {
    // IMS client credentials: the client secret is the caller's, the
    // access token is one IMS issued the client (the caller never sees it).
    let fake = FakeFlowService::builder()
        .ims_client(aep_flow_testing::DEMO_CLIENT_ID, "client-Secr3t-canary")
        .start()
        .unwrap();
    let platform = Platform::from_ims(
        ImsCredentials::new(
            fake.ims_client_id(),
            Secret::from("client-Secr3t-canary"),
            fake.ims_scopes(),
        )
        .with_ims_url(fake.ims_url()),
        Sandbox {
            org_id: fake.org_id(),
            name: fake.sandbox_name(),
        },
    )
    .with_base_url(fake.base_url());
    let c = Client::new(platform).unwrap();
    // The first token the fake IMS issues is `fake-ims-token-1`; a run's
    // error echoes it (raw and JSON-quoted) and the client secret.
    let echo = fake.add_run(
        FLOW,
        FakeRun::new("failed").with_error(
            "CONNECTOR-2001-500",
            "bearer fake-ims-token-1 refused; \"fake-ims-token-1\"; secret client-Secr3t-canary",
        ),
    );
    let run = c.get_run(&id(&echo)).unwrap();
    assert_eq!(fake.issued_tokens(), ["fake-ims-token-1"]);
    let shown = c.shown_run_error(&run.errors[0], &[]);
    for piece in ["ims-token", "token-1", "Secr3t", "canary"] {
        assert!(!shown.contains(piece), "{piece}: {shown}");
    }
    assert!(
        shown.starts_with("CONNECTOR-2001-500: bearer [REDACTED] refused"),
        "{shown}"
    );
    // Without the client's secrets (what a caller alone can pass), the
    // issued token would show: this is what the method adds.
    assert!(run.errors[0].shown(&[]).contains("fake-ims-token-1"));
    // A token renewed after a 401: the old one and the new one are both
    // scrubbed.
    fake.revoke_tokens();
    let again = fake.add_run(
        FLOW,
        FakeRun::new("failed").with_error("E", "fake-ims-token-1 then fake-ims-token-2"),
    );
    let run = c.get_run(&id(&again)).unwrap();
    assert_eq!(fake.issued_tokens().len(), 2);
    let shown = c.shown_run_error(&run.errors[0], &[]);
    assert_eq!(shown, "E: [REDACTED] then [REDACTED]");
    // A static token, and the caller's own secrets, as before.
    let fake = FakeFlowService::builder()
        .access_token("static-Tok3n-canary")
        .start()
        .unwrap();
    let c = client(&fake);
    let echo = fake.add_run(
        FLOW,
        FakeRun::new("failed").with_error("E", "static-Tok3n-canary and pw-Db-canary"),
    );
    let run = c.get_run(&id(&echo)).unwrap();
    let pw = Secret::from("pw-Db-canary");
    assert_eq!(
        c.shown_run_error(&run.errors[0], &[&pw]),
        "E: [REDACTED] and [REDACTED]"
    );
}
