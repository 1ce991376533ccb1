//! `aep-flow plan`'s request economy and speed, against the fake on
//! 127.0.0.1 (the built binary; run with `cargo bench -p aep-flow-cli
//! --bench plan`):
//! - requests per pipeline of a `plan` over N = 50 in-sync pipelines in one
//!   sandbox (at most 4, plus a constant per sandbox);
//! - the time of a `plan` of 500 pipelines across 2 sandboxes (250 each),
//!   before and after the `apply` that creates them.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use aep_flow_testing::FakeFlowService;

const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/bench";

fn file(sandboxes: &[&str], datasets: usize) -> String {
    let mut text = String::from("project = \"bench\"\n");
    for s in sandboxes {
        text.push_str(&format!(
            "\n[sandboxes.{s}]\ncredentials = \"AEP_{}\"\n",
            s.to_ascii_uppercase()
        ));
    }
    text.push_str(
        "\n[connections.orders-db]\nhost = \"db.example.com\"\ndatabase = \"orders\"\nuser = \
         \"etl\"\npassword_env = \"BENCH_DB_PASSWORD\"\nssl_mode = \"require\"\n",
    );
    for i in 0..datasets {
        text.push_str(&format!(
            "\n[[pipelines]]\nconnection = \"orders-db\"\ntable = \"public.orders\"\ndataset = \
             \"Bench {i}\"\ndelta_column = \"updated_at\"\nschedule = {{ frequency = \"day\", \
             interval = 1, start = \"2026-12-01T00:00:00Z\" }}\nmappings = {{ id = \
             \"_tenant.orderId\", amount = \"_tenant.amount\" }}\n"
        ));
    }
    text
}

fn seed(fake: &FakeFlowService, sandboxes: &[&str], datasets: usize) {
    for (s, name) in sandboxes.iter().enumerate() {
        let sandbox = fake.sandbox(name);
        sandbox.use_demo_catalog();
        for i in 0..datasets {
            sandbox.add_dataset(
                &format!("{s:04x}be7c{i:016x}"),
                &format!("Bench {i}"),
                SCHEMA,
            );
        }
    }
}

fn run(fake: &FakeFlowService, path: &Path, sandboxes: &[&str], words: &str) -> f64 {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aep-flow"));
    cmd.args(words.split_whitespace())
        .arg("-f")
        .arg(path)
        .env_clear();
    for s in sandboxes {
        let p = format!("AEP_{}", s.to_ascii_uppercase());
        cmd.env(format!("{p}_ACCESS_TOKEN"), fake.access_token())
            .env(format!("{p}_API_KEY"), fake.api_key())
            .env(format!("{p}_ORG_ID"), fake.org_id())
            .env(format!("{p}_PLATFORM_URL"), fake.platform_url());
    }
    cmd.env("BENCH_DB_PASSWORD", "bench-password");
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let took = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "aep-flow {words}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn main() {
    let dir = std::env::temp_dir().join(format!("aep-flow-plan-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // Requests per in-sync pipeline, N = 50, one sandbox.
    let n = 50;
    let fake = FakeFlowService::builder().start().unwrap();
    seed(&fake, &["dev"], n);
    let path = dir.join("n50.toml");
    std::fs::write(&path, file(&["dev"], n)).unwrap();
    run(&fake, &path, &["dev"], "apply");
    let before = fake.requests().len();
    run(&fake, &path, &["dev"], "plan");
    let requests = fake.requests().len() - before;
    println!(
        "plan, {n} in-sync pipelines in one sandbox: {requests} requests, {:.2} per pipeline \
         (the per-sandbox constant included)",
        requests as f64 / n as f64
    );
    assert!(
        requests <= 4 * n + 4,
        "{requests} requests for {n} pipelines"
    );

    // 500 pipelines across 2 sandboxes.
    let sandboxes = ["dev", "prod"];
    let fake = FakeFlowService::builder().start().unwrap();
    seed(&fake, &sandboxes, 250);
    let path = dir.join("n500.toml");
    std::fs::write(&path, file(&sandboxes, 250)).unwrap();
    let fresh = run(&fake, &path, &sandboxes, "plan");
    let apply = run(&fake, &path, &sandboxes, "apply --parallel 8");
    let before = fake.requests().len();
    let in_sync = run(&fake, &path, &sandboxes, "plan");
    let requests = fake.requests().len() - before;
    println!(
        "plan, 500 pipelines across 2 sandboxes: {fresh:.2} s before apply (all to create), \
         {in_sync:.2} s in sync ({requests} requests); apply --parallel 8: {apply:.2} s"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
