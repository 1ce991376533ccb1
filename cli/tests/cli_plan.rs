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
/// Requests `plan` sends for `n` in-sync pipelines (into `n` datasets):
/// (those outside Catalog's dataset listing, the listing's pages).
fn plan_requests(n: usize) -> (usize, usize) {
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
    let sent = &fake.requests()[before..];
    let listing = format!("{}/dataSets?", aep_flow_testing::CATALOG_PATH);
    let pages = sent.iter().filter(|r| r.path.starts_with(&listing)).count();
    (sent.len() - pages, pages)
}

#[test]
fn plan_sends_at_most_4_requests_per_in_sync_pipeline_plus_a_constant() {
    let (one, one_pages) = plan_requests(1);
    let (twenty, twenty_pages) = plan_requests(20);
    assert!(twenty - one <= 4 * 19, "1: {one}, 20: {twenty}");
    // The constant: the base connection by name.
    assert!(one <= 4 + 1, "1 pipeline: {one} requests");
    // And Catalog's listing, 20 datasets a page (its largest for service
    // tokens): one page for one dataset; a full page and an empty one for
    // twenty.
    assert_eq!((one_pages, twenty_pages), (1, 2));
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
    let (bases, applied): (Vec<serde_json::Value>, Vec<serde_json::Value>) = p
        .run("apply --json", &fake)
        .expect(0)
        .json()
        .into_iter()
        .partition(|o| o.get("baseConnection").is_some());
    // One object per base connection and sandbox (first), one per pipeline
    // and sandbox, then the summary.
    assert_eq!(bases.len(), 2, "{bases:?}");
    assert!(bases.iter().all(|b| b["result"] == "created"), "{bases:?}");
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

/// A dataset name in the file that Catalog holds normalised otherwise
/// (decomposed accents, a trailing space) matches nothing (another name to
/// Catalog): exit 2 naming the file, line and key, and the look-alike with
/// its id, both names escaped so that the difference shows. Before: only
/// "no dataset named \"Café\"", with two names that look the same.
#[test]
fn a_dataset_name_normalised_otherwise_in_catalog_is_shown_escaped() {
    let fake = fake();
    let nfd = "Cafe\u{301} ";
    fake.sandbox("dev")
        .add_dataset("ffff00000000000000000002", nfd, SCHEMA);
    let text = format!("{}{}", head("crm-ingest"), pipeline("Caf\u{e9}", ""))
        .replace("[sandboxes.prod]\ncredentials = \"AEP_PROD\"\n", "");
    let p = Project::new(&text);
    let run = p.run("plan", &fake).expect(2);
    let file = p.path.display().to_string();
    assert!(
        run.err.contains(&format!("{file}:"))
            && run.err.contains("pipelines[0].dataset: no dataset named"),
        "{}",
        run.err
    );
    assert!(
        run.err.contains(
            "Catalog has \"Cafe\\u{301} \" (ffff00000000000000000002), which differs from \
             \"Caf\\u{e9}\" only in case, white space, punctuation or accents"
        ),
        "{}",
        run.err
    );
    assert_eq!(writes_since(&fake, 0), Vec::<String>::new());
}

/// A flow this project made (it carries the marker) renamed in the UI is
/// drift: `name: old → new`, and apply renames it back (one PATCH of
/// `/name` with If-Match), after which the plan is in sync. A flow without
/// the marker (adopted by `export`, named by whoever made it) keeps its
/// name: in sync, nothing written.
#[test]
fn a_flow_renamed_in_the_ui_is_drift_and_apply_renames_it_back() {
    let fake = fake();
    let p = Project::new(&format!(
        "{}{}{}",
        head("crm-ingest"),
        pipeline("Orders", ""),
        pipeline("Customers", "")
    ));
    p.run("apply --sandbox dev", &fake).expect(0);
    let dev = fake.sandbox("dev");
    let flows = dev.flows();
    let ours = flows
        .iter()
        .find(|f| f.name == "public.orders to Orders")
        .unwrap();
    let adopted = flows
        .iter()
        .find(|f| f.name == "public.orders to Customers")
        .unwrap();
    assert!(dev.modify_flow(&ours.id, |f| f["name"] =
        "Orders (renamed in the UI)".into()));
    assert!(dev.modify_flow(&adopted.id, |f| {
        f["name"] = "hand-made name".into();
        f["description"] = "made by hand".into();
    }));
    let drift = p
        .run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(2);
    assert!(
        drift.out.contains(
            "[dev] orders-db: public.orders → Orders: update in place\n    \
             name: \"Orders (renamed in the UI)\" → \"public.orders to Orders\""
        ),
        "{}",
        drift.out
    );
    assert!(
        drift
            .out
            .contains("[dev] orders-db: public.orders → Customers: in sync"),
        "{}",
        drift.out
    );
    assert_eq!(
        drift.summary(),
        "0 to create, 1 to update, 0 to replace, 0 to delete, 1 in sync"
    );
    let json = p.run("plan --sandbox dev --json", &fake).expect(0).json();
    assert_eq!(json[0]["action"], "update");
    assert_eq!(
        json[0]["changes"],
        serde_json::json!(["name: \"Orders (renamed in the UI)\" → \"public.orders to Orders\""])
    );
    let before = fake.requests().len();
    let applied = p.run("apply --sandbox dev", &fake).expect(0);
    assert!(
        applied
            .out
            .contains("[dev] orders-db: public.orders → Orders: updated (renamed flow)"),
        "{}",
        applied.out
    );
    assert_eq!(
        writes_since(&fake, before),
        vec![format!(
            "PATCH /data/foundation/flowservice/flows/{}",
            ours.id
        )]
    );
    let names: Vec<String> = dev.flows().into_iter().map(|f| f.name).collect();
    assert!(
        names.contains(&"public.orders to Orders".to_owned()),
        "{names:?}"
    );
    assert!(names.contains(&"hand-made name".to_owned()), "{names:?}");
    p.run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(0);
    // A service that stores the name normalised otherwise (case, white
    // space, decomposed accents) makes no rename on every run.
    assert!(dev.modify_flow(&ours.id, |f| f["name"] =
        " PUBLIC.orders  to\u{a0}Orders ".into()));
    p.run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(0);
}

/// A service whose flow listing leaves out `transformations` and
/// `scheduleParams` (a GET by id still shows them): the flow is read again
/// by id, so a plan right after apply is in sync, and `apply
/// --allow-replace` deletes nothing. Before: "replace needed: no Copy
/// transformation", and `--allow-replace` deleted a flow that was fine.
/// Drift made in the "UI" still shows.
#[test]
fn a_listing_without_transformations_or_schedule_is_no_replace() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    p.run("apply --sandbox prod", &fake).expect(0);
    let prod = fake.sandbox("prod");
    prod.omit_in_listings("flows", &["transformations", "scheduleParams"]);
    let plan = p
        .run("plan --sandbox prod --detailed-exitcode", &fake)
        .expect(0);
    assert_eq!(
        plan.summary(),
        "0 to create, 0 to update, 0 to replace, 0 to delete, 1 in sync",
        "{}",
        plan.out
    );
    let before = fake.requests().len();
    let applied = p
        .run("apply --sandbox prod --allow-replace", &fake)
        .expect(0);
    assert!(applied.out.contains(": unchanged"), "{}", applied.out);
    assert_eq!(writes_since(&fake, before), Vec::<String>::new());
    assert_eq!(prod.flows().len(), 1);
    let flow = prod.flows().remove(0);
    assert!(
        prod.modify_flow(&flow.id, |f| f["scheduleParams"]["frequency"] =
            "day".into())
    );
    let drift = p
        .run("plan --sandbox prod --detailed-exitcode", &fake)
        .expect(2);
    assert!(
        drift.out.contains("schedule.frequency: day → hour"),
        "{}",
        drift.out
    );
}

/// `plan --detailed-exitcode`: Terraform's rule for every error, usage
/// errors included (exit 1, never 2, which means "changes pending"); the
/// same errors without the flag stay 2. Nothing is sent.
#[test]
fn under_detailed_exitcode_every_usage_error_exits_1() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    let garbled_file = p.dir.file("garbled.toml", b"project = \"crm\xff\xfe\"\n");
    let bad_key = p.dir.file(
        "bad-key.toml",
        format!(
            "{}{}",
            head("crm-ingest"),
            pipeline("Orders", "colour = \"red\"")
        )
        .as_bytes(),
    );
    let run = |args: &[&std::ffi::OsStr]| {
        let mut cmd = common::aep_flow("");
        for prefix in ["AEP_DEV", "AEP_PROD"] {
            cmd.env(format!("{prefix}_ACCESS_TOKEN"), fake.access_token())
                .env(format!("{prefix}_API_KEY"), fake.api_key())
                .env(format!("{prefix}_ORG_ID"), fake.org_id())
                .env(format!("{prefix}_PLATFORM_URL"), fake.platform_url());
        }
        Run::of(cmd.args(args).output().unwrap())
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    let file = p.path.as_os_str();
    let cases: Vec<(&str, Vec<&std::ffi::OsStr>)> = vec![
        (
            "an unknown flag",
            vec![os("plan"), os("-f"), file, os("--bogus")],
        ),
        (
            "an unknown flag after a common option",
            vec![
                os("--timeout"),
                os("30"),
                os("plan"),
                os("-f"),
                file,
                os("--bogus"),
            ],
        ),
        (
            "a flag without its value",
            vec![os("plan"), os("-f"), file, os("--sandbox")],
        ),
        (
            "a sandbox the file lacks",
            vec![os("plan"), os("-f"), file, os("--sandbox"), os("stage")],
        ),
        (
            "a missing file",
            vec![os("plan"), os("-f"), os("/nonexistent/aep-flow.toml")],
        ),
        (
            "a garbled file",
            vec![os("plan"), os("-f"), garbled_file.as_os_str()],
        ),
        (
            "an unknown key in the file",
            vec![os("plan"), os("-f"), bad_key.as_os_str()],
        ),
        (
            "a garbled argument",
            vec![os("plan"), os("-f"), file, common::garbled(b"--x\xff")],
        ),
        (
            "a bad timeout",
            vec![os("--timeout"), os("-1"), os("plan"), os("-f"), file],
        ),
    ];
    for (what, args) in &cases {
        let mut with: Vec<&std::ffi::OsStr> = args.clone();
        with.push(os("--detailed-exitcode"));
        let detailed = run(&with);
        assert_eq!(
            detailed.code, 1,
            "{what}, with --detailed-exitcode: {}{}",
            detailed.out, detailed.err
        );
        assert!(detailed.err.contains("error"), "{what}: {}", detailed.err);
        let plain = run(args);
        assert_eq!(plain.code, 2, "{what}, plain: {}{}", plain.out, plain.err);
    }
    // The flag given a value is itself a usage error under the flag.
    let valued = run(&[os("plan"), os("-f"), file, os("--detailed-exitcode=yes")]);
    assert_eq!(valued.code, 1, "{}", valued.err);
    // The flag belongs to plan: on apply it is an unknown flag, exit 2.
    let apply = run(&[os("apply"), os("-f"), file, os("--detailed-exitcode")]);
    assert_eq!(apply.code, 2, "{}", apply.err);
    assert!(fake.requests().is_empty(), "nothing is sent");
    // The codes that are not errors are untouched: 2 pending, 0 in sync.
    run(&[os("plan"), os("-f"), file, os("--detailed-exitcode")]).expect(2);
}

/// Two flows carrying this project's marker join one declared table and
/// dataset (an apply's answer lost, another run): the one the pipeline does
/// not use is planned as delete under `--prune` and pruned by `apply
/// --prune`; an unmarked twin is warned about and never touched.
#[test]
fn a_marked_twin_is_pruned_and_an_unmarked_one_never() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    p.run("apply --sandbox dev", &fake).expect(0);
    let dev = fake.sandbox("dev");
    let used = dev.flows().remove(0);
    // Twins: the same source and target connections, one marked, one not.
    let client = library_client(&fake, "dev");
    let flow = client.get_flow(&used.id.parse().unwrap()).unwrap();
    let (mapping_set, version) = (&used.mappings[0].0, used.mappings[0].1);
    let twin = |description: &str| -> String {
        let new = aep_flow::NewFlow::new(aep_flow::FlowParts {
            name: "public.orders to Orders",
            source_connection_id: flow.source_connection_ids[0].clone(),
            target_connection_id: flow.target_connection_ids[0].clone(),
            delta_column: "updated_at",
            mapping_set_id: mapping_set.parse().unwrap(),
            mapping_set_version: version,
            schedule: flow.schedule.unwrap(),
        })
        .with_description(description);
        client.create_flow(&new).unwrap().id.to_string()
    };
    let marked = twin("aep-flow project: crm-ingest");
    let unmarked = twin("aep-flow project: crm-ingest-2");
    assert_eq!(dev.flows().len(), 3);

    let plan = p.run("plan --sandbox dev --prune --json", &fake).expect(0);
    let rows = plan.json();
    let deletes: Vec<&serde_json::Value> =
        rows.iter().filter(|o| o["action"] == "delete").collect();
    assert_eq!(deletes.len(), 1, "{rows:?}");
    assert_eq!(deletes[0]["flowId"], marked.as_str());
    assert_eq!(rows[0]["action"], "in sync", "{rows:?}");
    assert_eq!(rows[0]["flowId"], used.id.as_str());
    // Without --prune nothing is to delete.
    p.run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(0);

    let before = fake.requests().len();
    let run = p.run("apply --sandbox dev --prune", &fake).expect(0);
    assert!(run.summary().contains("1 deleted"), "{}", run.out);
    let writes = writes_since(&fake, before);
    assert_eq!(
        writes,
        vec![format!(
            "DELETE /data/foundation/flowservice/flows/{marked}"
        )],
        "only the marked twin goes; its connections are the used flow's"
    );
    let ids: Vec<String> = dev.flows().into_iter().map(|f| f.id).collect();
    assert!(ids.contains(&used.id) && ids.contains(&unmarked), "{ids:?}");
    assert_eq!(ids.len(), 2);
    p.run("plan --sandbox dev --prune --detailed-exitcode", &fake)
        .expect(0);
}

/// A flow whose marker was removed in the UI: while declared, `plan
/// --prune` warns that it is no longer recognisable; once it leaves the
/// file it is warned about again and never pruned.
#[test]
fn a_flow_whose_marker_was_removed_is_warned_about_and_never_pruned() {
    let fake = fake();
    let both = format!(
        "{}{}{}",
        head("crm-ingest"),
        pipeline("Orders", ""),
        pipeline("Customers", "")
    );
    let p = Project::new(&both);
    p.run("apply --sandbox dev", &fake).expect(0);
    let dev = fake.sandbox("dev");
    let customers = dev
        .flows()
        .into_iter()
        .find(|f| f.name.ends_with(" to Customers"))
        .unwrap();
    assert!(dev.modify_flow(&customers.id, |f| {
        f["description"] = "edited in the UI".into();
    }));
    let plan = p
        .run("plan --sandbox dev --prune --detailed-exitcode", &fake)
        .expect(0);
    assert!(
        plan.err.contains(&customers.id) && plan.err.contains("can no longer be recognised"),
        "{}",
        plan.err
    );
    // Without --prune it does not matter yet: no warning.
    let quiet = p.run("plan --sandbox dev", &fake).expect(0);
    assert!(!quiet.err.contains("recognised"), "{}", quiet.err);

    p.rewrite(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    let plan = p
        .run("plan --sandbox dev --prune --detailed-exitcode", &fake)
        .expect(0);
    assert!(!plan.out.contains(": delete"), "{}", plan.out);
    assert!(
        plan.err.contains(&customers.id)
            && plan.err.contains("will not be pruned")
            && plan.err.contains("carries no project marker"),
        "{}",
        plan.err
    );
    let before = fake.requests().len();
    p.run("apply --sandbox dev --prune", &fake).expect(0);
    assert!(writes_since(&fake, before).is_empty());
    assert!(dev.flows().iter().any(|f| f.id == customers.id));
}

/// A delta column other than the demo table's: in sync right after apply,
/// and the flow reads that column.
#[test]
fn another_delta_column_plans_in_sync_right_after_apply() {
    let fake = fake();
    let dev = fake.sandbox("dev");
    let base = dev.insert_connection(
        "orders-db",
        "Connection String Based Authentication",
        serde_json::json!({
            "connectionString": "Server=db.example.com;Database=orders;Port=5432;UID=etl_reader;Password=x;sslmode=verify-full"
        }),
    );
    dev.set_catalog(
        &base,
        vec![aep_flow_testing::FakeTable::new("public.orders")
            .column("id", "integer")
            .column_with_format("modified_at", "string", "date-time")
            .row(serde_json::json!({"id": 1, "modified_at": "2024-05-01T09:30:00Z"}))],
    );
    let p = Project::new(&format!(
        r#"{}
[[pipelines]]
connection = "orders-db"
table = "public.orders"
dataset = "Orders"
delta_column = "modified_at"
schedule = {{ frequency = "day", interval = 1, start = "2026-12-01T00:00:00Z", backfill = false }}
mappings = {{ id = "_tenant.orderId" }}
sandboxes = ["dev"]
"#,
        head("crm-ingest")
    ));
    p.run("apply", &fake).expect(0);
    p.run("plan --detailed-exitcode", &fake).expect(0);
    let flow = dev.flows().remove(0);
    let mut delta = String::new();
    dev.modify_flow(&flow.id, |f| {
        for t in f["transformations"].as_array().unwrap() {
            if t["name"] == "Copy" {
                delta = t["params"]["deltaColumn"]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned();
            }
        }
    });
    assert_eq!(delta, "modified_at");
}

/// `export -f FILE` of a sandbox where a flow this project made (it
/// carries the marker) was renamed in the UI: the file cannot declare a
/// flow's name, so export says on stderr that plan will name it back,
/// and the plan of the exported file shows exactly that one drift.
#[test]
fn export_of_a_renamed_project_flow_says_plan_names_it_back() {
    let fake = fake();
    let p = Project::new(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    p.run("apply --sandbox dev", &fake).expect(0);
    let dev = fake.sandbox("dev");
    let ours = dev.flows().remove(0);
    assert!(dev.modify_flow(&ours.id, |f| f["name"] =
        "Orders (renamed in the UI)".into()));
    let exported = p.run("export --sandbox dev", &fake).expect(0);
    assert!(
        exported.err.contains(&format!(
            "flow {}: named \"Orders (renamed in the UI)\", carries this project's marker \
             `aep-flow project: crm-ingest`: plan shows `name: \"Orders (renamed in the UI)\" → \
             \"public.orders to Orders\"` and apply names it back",
            ours.id
        )),
        "{}",
        exported.err
    );
    let q = Project::new(&exported.out);
    let plan = q
        .run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(2);
    assert_eq!(
        plan.summary(),
        "0 to create, 1 to update, 0 to replace, 0 to delete, 0 in sync",
        "{}",
        plan.out
    );
    // Renamed back, or renamed only as a service normalises names: export
    // says nothing, and the file plans in sync.
    assert!(dev.modify_flow(&ours.id, |f| f["name"] =
        " PUBLIC.orders  to\u{a0}Orders ".into()));
    let exported = p.run("export --sandbox dev", &fake).expect(0);
    assert!(!exported.err.contains("named"), "{}", exported.err);
    Project::new(&exported.out)
        .run("plan --sandbox dev --detailed-exitcode", &fake)
        .expect(0);
    // Another project's export (no -f: `dev-export`) adopts the flow as
    // it is, its name included: nothing to say.
    assert!(dev.modify_flow(&ours.id, |f| f["name"] =
        "Orders (renamed in the UI)".into()));
    let mut cmd = crate::common::aep_flow("export --sandbox dev");
    cmd.current_dir(&p.dir.0)
        .env("AEP_ACCESS_TOKEN", fake.access_token())
        .env("AEP_API_KEY", fake.api_key())
        .env("AEP_ORG_ID", fake.org_id())
        .env("AEP_PLATFORM_URL", fake.platform_url());
    std::fs::remove_file(&p.path).unwrap();
    let other = Run::of(cmd.output().unwrap()).expect(0);
    assert!(
        other.out.contains("project = \"dev-export\""),
        "{}",
        other.out
    );
    assert!(!other.err.contains("marker"), "{}", other.err);
}

/// Flow names come from the service: one that echoes the database
/// password and the access token (a flow renamed to them, a server that
/// echoes) shows them as `[REDACTED]` in plan's drift (`name: old →
/// new`), in `--prune`'s deletes and in export's warning. Before: printed
/// whole, on stdout and in `--json`.
#[test]
fn flow_names_echoing_secrets_are_scrubbed_in_plan_prune_and_export() {
    let fake = fake();
    let file = format!(
        "{}{}{}",
        head("crm-ingest"),
        pipeline("Orders", ""),
        pipeline("Customers", "")
    );
    let p = Project::new(&file);
    p.run("apply --sandbox dev", &fake).expect(0);
    let dev = fake.sandbox("dev");
    let token = token(&fake);
    let echo = format!("pw {DB_PASSWORD} tok {token}");
    for f in dev.flows() {
        assert!(dev.modify_flow(&f.id, |v| v["name"] = format!("{echo} {}", f.name).into()));
    }
    // Customers leaves the file: pruned, its (echoing) name listed.
    p.rewrite(&format!("{}{}", head("crm-ingest"), pipeline("Orders", "")));
    let runs = [
        p.run("plan --sandbox dev --prune", &fake).expect(0),
        p.run("plan --sandbox dev --prune --json", &fake).expect(0),
        p.run("export --sandbox dev", &fake).expect(0),
    ];
    for run in &runs {
        for text in [&run.out, &run.err] {
            for secret in [DB_PASSWORD, token.as_str()] {
                for w in secret.as_bytes().windows(6) {
                    let w = std::str::from_utf8(w).unwrap();
                    assert!(!text.contains(w), "{w} of a secret in:\n{text}");
                }
            }
        }
    }
    assert!(
        runs[0].out.contains("    name: \"pw [REDACTED] tok [REDACTED] public.orders to Orders\" → \"public.orders to Orders\""),
        "{}",
        runs[0].out
    );
    assert!(
        runs[0]
            .out
            .contains("flow \"pw [REDACTED] tok [REDACTED] public.orders to Customers\""),
        "{}",
        runs[0].out
    );
    assert!(
        runs[2]
            .err
            .contains("named \"pw [REDACTED] tok [REDACTED] public.orders to"),
        "{}",
        runs[2].err
    );
}
