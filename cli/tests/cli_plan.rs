//! `aep-flow plan` against the fake on 127.0.0.1: per-sandbox state, in
//! sync after an apply (every field of the file), drift made behind its
//! back, bad dataset names, exit codes, the Profile guardrail, request
//! economy, secrets.

mod common;
mod project_support;

use aep_flow_testing::FakeFlowService;
use project_support::*;

#[test]
fn plan_apply_plan_is_in_sync_in_every_sandbox_with_ids_of_their_own() {
    let fake = fake();
    // Every field of the file: two pipelines, one disabled, minute/15
    // without backfill, mappings in another order than any answer.
    let text = format!(
        "{}{}{}",
        head("crm-ingest"),
        pipeline("Orders", ""),
        r#"
[[pipelines]]
connection = "orders-db"
table = "public.orders"
dataset = "Customers"
delta_column = "updated_at"
schedule = { frequency = "minute", interval = 15, start = "2026-12-01T00:00:00Z", backfill = false }
mappings = { customer = "_tenant.customer", amount = "_tenant.amount", id = "_tenant.orderId" }
enabled = false
"#
    );
    let p = Project::new(&text);
    let first = p.run("plan", &fake).expect(0);
    assert_eq!(
        first.summary(),
        "4 to create, 0 to update, 0 to replace, 0 to delete, 0 in sync",
        "{}",
        first.out
    );
    assert!(
        first
            .out
            .contains("[dev] orders-db: public.orders → Orders: create base connection orders-db"),
        "{}",
        first.out
    );
    // A plan writes nothing.
    assert!(writes_since(&fake, 0).is_empty());

    let applied = p.run("apply", &fake).expect(0);
    assert!(
        applied.summary().starts_with("4 created, 0 updated"),
        "{}",
        applied.out
    );
    // Per sandbox: each target connection points at that sandbox's
    // dataset; each flow carries the marker; the disabled one is disabled.
    for (salt, sandbox) in ["dev", "prod"].iter().enumerate() {
        let s = fake.sandbox(sandbox);
        let mut datasets: Vec<String> = s
            .target_connections()
            .iter()
            .map(|t| t.dataset_id.clone())
            .collect();
        datasets.sort();
        let mut want = vec![dataset_id(salt, 0), dataset_id(salt, 1)];
        want.sort();
        assert_eq!(datasets, want, "{sandbox}");
        let flows = s.flows();
        assert_eq!(flows.len(), 2, "{sandbox}");
        let states: Vec<&str> = flows.iter().map(|f| f.state.as_str()).collect();
        assert!(
            states.contains(&"disabled") && states.contains(&"enabled"),
            "{states:?}"
        );
        assert_eq!(s.connections().len(), 1, "{sandbox}: one base connection");
    }
    let before = fake.requests().len();
    let again = p.run("plan --detailed-exitcode", &fake).expect(0);
    assert_eq!(
        again.summary(),
        "0 to create, 0 to update, 0 to replace, 0 to delete, 4 in sync",
        "{}",
        again.out
    );
    assert!(writes_since(&fake, before).is_empty());
    // And a no-op apply writes nothing.
    let before = fake.requests().len();
    let noop = p.run("apply", &fake).expect(0);
    assert!(noop.summary().contains("4 unchanged"), "{}", noop.out);
    assert_eq!(writes_since(&fake, before), Vec::<String>::new());
}

#[test]
fn ui_style_changes_show_as_drift_then_apply_converges() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    p.run("apply --sandbox prod", &fake).expect(0);
    let prod = fake.sandbox("prod");
    let flow = prod.flows().remove(0);
    // The schedule, the mapping and the state, changed in the "UI".
    assert!(prod.modify_flow(&flow.id, |f| {
        f["scheduleParams"]["frequency"] = "day".into();
    }));
    assert!(prod.set_flow_state(&flow.id, "disabled"));
    // A mapping edited in the UI: a new mapping set the flow now runs.
    let client = library_client(&fake, "prod");
    let edited = client
        .create_mapping_set(&aep_flow::NewMappingSet::new(
            SCHEMA.parse().unwrap(),
            vec![
                aep_flow::Mapping::new("id", "_tenant.orderId"),
                aep_flow::Mapping::new("amount", "_tenant.total"),
            ],
        ))
        .unwrap();
    client
        .update_flow_mapping(&flow.id.parse().unwrap(), &edited.id, edited.version)
        .unwrap();
    let drift = p
        .run("plan --sandbox prod --detailed-exitcode", &fake)
        .expect(2);
    assert!(drift.out.contains("update in place"), "{}", drift.out);
    for change in [
        "schedule.frequency: day → hour",
        "mappings.amount: _tenant.total → _tenant.amount",
        "enabled: false → true",
    ] {
        assert!(drift.out.contains(change), "{change}:\n{}", drift.out);
    }
    // --json: one object per pipeline and sandbox, then the summary.
    let json = p.run("plan --sandbox prod --json", &fake).expect(0).json();
    assert_eq!(json.len(), 2);
    assert_eq!(json[0]["sandbox"], "prod");
    assert_eq!(json[0]["action"], "update");
    assert_eq!(json[0]["flowId"], flow.id.as_str());
    assert_eq!(json[0]["datasetId"], dataset_id(1, 0).as_str());
    assert_eq!(json[1]["update"], 1);
    p.run("apply --sandbox prod", &fake).expect(0);
    p.run("plan --sandbox prod --detailed-exitcode", &fake)
        .expect(0);
    // dev was never touched.
    assert!(fake.sandbox("dev").flows().is_empty());
}

#[test]
fn a_dataset_name_matching_none_or_two_is_exit_2_naming_file_line_key() {
    let fake = fake();
    fake.sandbox("prod")
        .add_dataset("ffff00000000000000000001", "Orders", SCHEMA);
    let p = Project::new(&format!(
        "{}{}{}",
        head("crm-ingest"),
        pipeline("Customers", ""),
        pipeline("Orders", "")
    ));
    let run = p.run("apply", &fake).expect(2);
    let file = p.path.display().to_string();
    assert!(
        run.err.contains(&format!("{file}:")) && run.err.contains("pipelines[1].dataset"),
        "{}",
        run.err
    );
    assert!(
        run.err
            .contains("2 datasets are named \"Orders\" in sandbox prod"),
        "{}",
        run.err
    );
    assert_eq!(writes_since(&fake, 0), Vec::<String>::new());
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Nope", "")));
    let run = p.run("plan", &fake).expect(2);
    assert!(
        run.err
            .contains("pipelines[0].dataset: no dataset named \"Nope\" in sandbox dev"),
        "{}",
        run.err
    );
    // Terraform's codes: bad input is 1.
    p.run("plan --detailed-exitcode", &fake).expect(1);
    assert_eq!(writes_since(&fake, 0), Vec::<String>::new());
}

#[test]
fn detailed_exitcode_is_0_in_sync_2_pending_1_error() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    p.run("plan --detailed-exitcode", &fake).expect(2);
    p.run("plan", &fake).expect(0);
    p.run("apply", &fake).expect(0);
    p.run("plan --detailed-exitcode", &fake).expect(0);
    // An undeclared sandbox, unset credentials: errors, 1.
    p.run("plan --detailed-exitcode --sandbox stage", &fake)
        .expect(1);
    p.run("plan --sandbox stage", &fake).expect(2);
    let mut cmd = p.cmd("plan --detailed-exitcode", &fake);
    cmd.env_remove("AEP_PROD_ACCESS_TOKEN");
    let run = Run::of(cmd.output().unwrap()).expect(1);
    assert!(run.err.contains("AEP_PROD"), "{}", run.err);
}

#[test]
fn a_base_connection_that_is_not_postgres_or_is_there_twice_is_named() {
    let fake = fake();
    let dev = fake.sandbox("dev");
    let id = dev.insert_connection("orders-db", "Basic Authentication", serde_json::json!({}));
    assert!(dev.modify_connection(&id, |c| c.spec_id =
        "0ed90a81-07f4-4586-8190-b40eccef1c5a".into()));
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    let run = p.run("plan", &fake).expect(2);
    assert!(
        run.err.contains("connections.orders-db")
            && run.err.contains("not a PostgreSQL connection"),
        "{}",
        run.err
    );
    // Two PostgreSQL connections of that name in prod.
    let fake = self::fake();
    let prod = fake.sandbox("prod");
    for _ in 0..2 {
        prod.insert_connection(
            "orders-db",
            "Connection String Based Authentication",
            serde_json::json!({}),
        );
    }
    let run = p.run("plan", &fake).expect(2);
    assert!(
        run.err
            .contains("2 connections are named \"orders-db\" in sandbox prod"),
        "{}",
        run.err
    );
    assert_eq!(writes_since(&fake, 0), Vec::<String>::new());
}

#[test]
fn profile_guardrail_warns_naming_the_pipelines() {
    let fake = fake();
    for (i, name) in ["P1", "P2", "P3", "P4"].iter().enumerate() {
        fake.sandbox("dev")
            .add_profile_dataset(&dataset_id(7, i), name, SCHEMA);
    }
    let mut text = head("crm-ingest").replace("[sandboxes.prod]\ncredentials = \"AEP_PROD\"\n", "");
    for name in ["P1", "P2", "P3"] {
        text.push_str(&pipeline(name, ""));
    }
    let p = Project::new(&text);
    let run = p.run("plan", &fake).expect(0);
    assert!(
        !run.err.contains("guardrail"),
        "72 a day is fine: {}",
        run.err
    );
    text.push_str(&pipeline("P4", ""));
    p.rewrite(&text);
    let run = p.run("plan", &fake).expect(0);
    assert!(run.err.contains("96 batches a day"), "{}", run.err);
    for i in 0..4 {
        assert!(run.err.contains(&format!("pipelines[{i}]")), "{}", run.err);
    }
    // Daily pipelines into Profile, or hourly ones into other datasets:
    // no warning.
    p.rewrite(&text.replace("\"hour\"", "\"day\""));
    let run = p.run("plan", &fake).expect(0);
    assert!(!run.err.contains("guardrail"), "{}", run.err);
}

/// Requests a `plan` sends for `n` in-sync pipelines in one sandbox.
fn plan_requests(n: usize) -> usize {
    let fake = FakeFlowService::builder().start().unwrap();
    let names: Vec<String> = (0..n).map(|i| format!("Orders {i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    seed(&fake, "dev", &refs, 3);
    let mut text = head("crm-ingest").replace("[sandboxes.prod]\ncredentials = \"AEP_PROD\"\n", "");
    for name in &names {
        text.push_str(&pipeline(name, ""));
    }
    let p = Project::new(&text);
    p.run("apply", &fake).expect(0);
    let before = fake.requests().len();
    let run = p.run("plan", &fake).expect(0);
    assert!(
        run.summary().ends_with(&format!("{n} in sync")),
        "{}",
        run.out
    );
    fake.requests().len() - before
}

#[test]
fn plan_sends_at_most_4_requests_per_in_sync_pipeline_plus_a_constant() {
    let one = plan_requests(1);
    let twenty = plan_requests(20);
    assert!(twenty - one <= 4 * 19, "1: {one}, 20: {twenty}");
    // The constant: the base connection by name and one Catalog page.
    assert!(one <= 4 + 2, "1 pipeline: {one} requests");
}

#[test]
fn odd_identifiers_and_short_pages_plan_in_sync_after_apply() {
    // Pages of two items: the Catalog, flow and connection listings page.
    let fake = FakeFlowService::builder().max_page_size(2).start().unwrap();
    let names = [
        "Ordres \"été\", v2",
        "a.b&c#d",
        "Orders",
        "Orders 2",
        "Orders 3",
    ];
    seed(&fake, "dev", &names, 9);
    let dev = fake.sandbox("dev");
    let base = dev.insert_connection(
        "orders-db",
        "Connection String Based Authentication",
        serde_json::json!({}),
    );
    let table = "sales.\"Ordres.été\"";
    dev.set_catalog(
        &base,
        vec![aep_flow_testing::FakeTable::new(table)
            .column("id", "integer")
            .column("montant €", "double")
            .column_with_format("modifié", "string", "date-time")],
    );
    let mut text = head("crm-ingest").replace("[sandboxes.prod]\ncredentials = \"AEP_PROD\"\n", "");
    for name in names {
        text.push_str(&format!(
            r#"
[[pipelines]]
connection = "orders-db"
table = '{table}'
dataset = '{name}'
delta_column = "modifié"
schedule = {{ frequency = "day", interval = 2, start = "2026-12-01T00:00:00Z", backfill = false }}
mappings = {{ "montant €" = "_tenant.amount", id = "_tenant.orderId" }}
"#
        ));
    }
    let p = Project::new(&text);
    let run = p.run("apply", &fake).expect(0);
    assert!(run.summary().starts_with("5 created"), "{}", run.out);
    p.run("plan --detailed-exitcode", &fake).expect(0);
    assert_eq!(dev.flows().len(), 5);
}

#[test]
fn secrets_appear_in_no_output() {
    let fake = FakeFlowService::builder()
        .ims_client("ims-client-id", "ims-secret-canary-7Hq2")
        .start()
        .unwrap();
    for (i, sandbox) in ["dev", "prod"].iter().enumerate() {
        seed(&fake, sandbox, &["Orders"], i);
    }
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    let mut all = String::new();
    for words in [
        "plan",
        "apply",
        "plan --json",
        "apply --rotate-passwords --json",
    ] {
        // prod gets its tokens from IMS.
        let mut cmd = p.cmd(words, &fake);
        cmd.env_remove("AEP_PROD_ACCESS_TOKEN")
            .env("AEP_PROD_CLIENT_ID", "ims-client-id")
            .env("AEP_PROD_CLIENT_SECRET", "ims-secret-canary-7Hq2")
            .env("AEP_PROD_SCOPES", "openid,AdobeID")
            .env("AEP_PROD_IMS_URL", fake.ims_url());
        let run = Run::of(cmd.output().unwrap());
        assert!(run.code == 0, "{words}: {}{}", run.out, run.err);
        all.push_str(&run.out);
        all.push_str(&run.err);
    }
    assert!(!fake.issued_tokens().is_empty(), "prod used IMS");
    let mut secrets = vec![
        DB_PASSWORD.to_owned(),
        token(&fake),
        "ims-secret-canary-7Hq2".to_owned(),
    ];
    secrets.extend(fake.issued_tokens());
    for secret in &secrets {
        for window in secret.as_bytes().windows(6) {
            let w = std::str::from_utf8(window).unwrap();
            assert!(!all.contains(w), "{w:?} of a secret in:\n{all}");
        }
    }
}

#[test]
fn every_field_of_the_file_plans_in_sync_right_after_apply() {
    let fake = FakeFlowService::builder().start().unwrap();
    let names = ["Once", "Weekly", "Minutes", "Wide", "ProdOnly"];
    for (i, sandbox) in ["dev", "prod"].iter().enumerate() {
        seed(&fake, sandbox, &names, 20 + i);
    }
    let text = r#"project = "every.field"

[sandboxes.dev]
credentials = "AEP_DEV"

[sandboxes.prod]
credentials = "AEP_PROD"

[connections.basic-db]
host = "db.example.com"
database = "orders"
user = "etl_reader"
password_env = "ORDERS_DB_PASSWORD"
auth = "basic"

[[pipelines]]
connection = "basic-db"
table = "public.orders"
dataset = "Once"
delta_column = "updated_at"
schedule = { frequency = "once", start = "2026-12-01T00:00:00Z" }
mappings = { id = "_tenant.orderId" }

[[pipelines]]
connection = "basic-db"
table = "public.orders"
dataset = "Weekly"
delta_column = "updated_at"
schedule = { frequency = "week", interval = 2, start = 2026-12-01T00:00:00Z, backfill = false }
mappings = { amount = "_tenant.amount", id = "_tenant.orderId" }
enabled = false

[[pipelines]]
connection = "basic-db"
table = "public.orders"
dataset = "Minutes"
delta_column = "updated_at"
schedule = { frequency = "minute", interval = 45, start = "2026-12-01T00:00:00Z" }
mappings = { id = "_tenant.orderId" }

[[pipelines]]
connection = "basic-db"
table = "public.orders"
dataset = "Wide"
delta_column = "updated_at"
schedule = { frequency = "day", interval = 3, start = "2026-12-01T00:00:00Z" }
mappings = { updated_at = "_tenant.updatedAt", customer = "_tenant.customer", amount = "_tenant.amount", id = "_tenant.orderId" }

[[pipelines]]
connection = "basic-db"
table = "public.orders"
dataset = "ProdOnly"
delta_column = "updated_at"
schedule = { frequency = "hour", interval = 6, start = "2026-12-01T00:00:00Z" }
mappings = { id = "_tenant.orderId" }
sandboxes = ["prod"]
"#;
    let p = Project::new(text);
    let applied = p.run("apply --json", &fake).expect(0).json();
    // One object per pipeline and sandbox, then the summary.
    assert_eq!(applied.len(), 10);
    assert!(
        applied[..9].iter().all(|o| o["result"] == "created"),
        "{applied:?}"
    );
    assert_eq!(applied[9]["created"], 9);
    assert_eq!(fake.sandbox("dev").flows().len(), 4);
    assert_eq!(fake.sandbox("prod").flows().len(), 5);
    let run = p.run("plan --detailed-exitcode --prune", &fake).expect(0);
    assert_eq!(
        run.summary(),
        "0 to create, 0 to update, 0 to replace, 0 to delete, 9 in sync",
        "{}",
        run.out
    );
    let before = fake.requests().len();
    p.run("apply --prune", &fake).expect(0);
    assert_eq!(writes_since(&fake, before), Vec::<String>::new());
}

#[test]
fn the_enabled_state_drifts_both_ways_and_apply_restores_it() {
    let fake = fake();
    let p = Project::new(&format!(
        "{}{}{}",
        head("crm-ingest"),
        pipeline("Orders", ""),
        pipeline("Customers", "enabled = false\n")
    ));
    p.run("apply --sandbox dev", &fake).expect(0);
    let dev = fake.sandbox("dev");
    for f in dev.flows() {
        let flipped = if f.state == "enabled" {
            "disabled"
        } else {
            "enabled"
        };
        assert!(dev.set_flow_state(&f.id, flipped));
    }
    let drift = p.run("plan --sandbox dev", &fake).expect(0);
    assert!(drift.out.contains("enabled: false → true"), "{}", drift.out);
    assert!(drift.out.contains("enabled: true → false"), "{}", drift.out);
    assert!(drift.summary().starts_with("0 to create, 2 to update"));
    let applied = p.run("apply --sandbox dev", &fake).expect(0);
    assert!(applied.out.contains("disabled flow"), "{}", applied.out);
    assert!(applied.out.contains("enabled flow"), "{}", applied.out);
    p.run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(0);
}
