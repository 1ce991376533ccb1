//! `aep-flow check -f`'s request economy and speed, against the fake on
//! 127.0.0.1 (the built binary; run with `cargo bench -p aep-flow-cli
//! --bench check`): N = 50 healthy pipelines in one sandbox, the requests
//! counted at the fake (from outside the command), per pipeline, and the
//! time. Issue 22's limit: at most 4 requests per healthy pipeline (the
//! source connection, the target connection, the flow, one page of runs),
//! plus a constant per sandbox (the base connection by name), and the
//! Catalog listing's pages (one per 20 datasets of the sandbox). The bench
//! fails if the limit is exceeded.

use std::path::Path;
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use aep_flow_testing::{FakeFlowService, FakeRun};

const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/bench";
/// Requests per healthy pipeline, at most (issue 22).
const LIMIT_PER_PIPELINE: usize = 4;
/// Requests per sandbox besides the pipelines', at most: the base
/// connection by name, and the Catalog listing's pages, counted apart (one
/// per 20 datasets of the sandbox, Catalog's largest page for service
/// tokens: they grow with the sandbox's datasets, not with the pipelines).
const PER_SANDBOX: usize = 1;
/// Datasets per page of Catalog's listing.
const CATALOG_PAGE: usize = 20;

fn file(datasets: usize) -> String {
    let mut text = String::from(
        "project = \"bench\"\n\n[sandboxes.dev]\ncredentials = \"AEP_DEV\"\n\n\
         [connections.orders-db]\nhost = \"db.example.com\"\ndatabase = \"orders\"\nuser = \
         \"etl\"\npassword_env = \"BENCH_DB_PASSWORD\"\nssl_mode = \"require\"\n",
    );
    for i in 0..datasets {
        text.push_str(&format!(
            "\n[[pipelines]]\nconnection = \"orders-db\"\ntable = \"public.orders\"\ndataset = \
             \"Bench {i}\"\ndelta_column = \"updated_at\"\nschedule = {{ frequency = \"hour\", \
             interval = 1, start = \"2026-12-01T00:00:00Z\" }}\nmappings = {{ id = \
             \"_tenant.orderId\", amount = \"_tenant.amount\" }}\nmax_age = \"2h\"\n"
        ));
    }
    text
}

/// Runs `aep-flow WORDS -f PATH` against `fake`: exit code, stdout, the
/// time it took.
fn run(fake: &FakeFlowService, path: &Path, words: &str) -> (i32, String, f64) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aep-flow"));
    cmd.args(words.split_whitespace())
        .arg("-f")
        .arg(path)
        .env_clear()
        .env("AEP_DEV_ACCESS_TOKEN", fake.access_token())
        .env("AEP_DEV_API_KEY", fake.api_key())
        .env("AEP_DEV_ORG_ID", fake.org_id())
        .env("AEP_DEV_PLATFORM_URL", fake.platform_url())
        .env("BENCH_DB_PASSWORD", "bench-password");
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let took = started.elapsed().as_secs_f64();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0,
        "aep-flow {words}: exit {code}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        took,
    )
}

/// `n` healthy pipelines applied in sandbox `dev` of a fresh fake, each
/// flow with a successful run 10 minutes ago; the fake and the file.
fn healthy(n: usize, dir: &Path) -> (FakeFlowService, std::path::PathBuf) {
    let fake = FakeFlowService::builder().start().unwrap();
    let sandbox = fake.sandbox("dev");
    sandbox.use_demo_catalog();
    for i in 0..n {
        sandbox.add_dataset(&format!("0000be7c{i:016x}"), &format!("Bench {i}"), SCHEMA);
    }
    let path = dir.join(format!("n{n}.toml"));
    std::fs::write(&path, file(n)).unwrap();
    run(&fake, &path, "apply --parallel 4");
    let done = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 10 * 60_000;
    let flows = sandbox.flows();
    assert_eq!(flows.len(), n);
    for flow in &flows {
        sandbox.add_run(
            &flow.id,
            FakeRun::new("success")
                .with_created_at(done - 60_000)
                .with_times(done - 60_000, done)
                .with_counts(100, 100, 0),
        );
    }
    (fake, path)
}

/// `check -f` over the file: requests counted at the fake (apart from the
/// pages of Catalog's dataset listing, checked here: the sandbox's datasets,
/// 20 a page, and an empty page after a full one), the time.
fn check(fake: &FakeFlowService, path: &Path, n: usize) -> (usize, f64) {
    let before = fake.requests().len();
    let (_, stdout, took) = run(fake, path, "check");
    let sent = &fake.requests()[before..];
    let listing = format!("{}/dataSets?", aep_flow_testing::CATALOG_PATH);
    let pages = sent.iter().filter(|r| r.path.starts_with(&listing)).count();
    assert_eq!(
        pages,
        n / CATALOG_PAGE + 1,
        "Catalog pages for {n} datasets"
    );
    let requests = sent.len() - pages;
    let summary = stdout.lines().last().unwrap_or("");
    assert!(
        summary.starts_with(&format!("{n} pipeline")) && summary.contains(&format!("{n} ok")),
        "{summary}"
    );
    (requests, took)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("aep-flow-check-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let n = 50;
    let (fake, path) = healthy(n, &dir);
    let (requests, took) = check(&fake, &path, n);
    // The per-pipeline cost apart from the sandbox's constant: the same
    // check over one pipeline.
    let (fake1, path1) = healthy(1, &dir);
    let (one, _) = check(&fake1, &path1, 1);
    let marginal = (requests - one) as f64 / (n - 1) as f64;
    println!(
        "check -f, {n} healthy pipelines in one sandbox: {requests} requests besides Catalog's \
         listing ({:.2} per \
         pipeline, the sandbox's constant included; {marginal:.2} per added pipeline; 1 \
         pipeline: {one}), {took:.2} s",
        requests as f64 / n as f64
    );
    assert!(
        marginal <= LIMIT_PER_PIPELINE as f64,
        "{marginal:.2} requests per added pipeline: the limit is {LIMIT_PER_PIPELINE}"
    );
    assert!(
        requests <= LIMIT_PER_PIPELINE * n + PER_SANDBOX,
        "{requests} requests for {n} pipelines: the limit is {LIMIT_PER_PIPELINE} per \
         pipeline plus {PER_SANDBOX} per sandbox"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
