//! `aep-flow export`: a sandbox's PostgreSQL dataflows, made with the
//! library against the fake, written as a declarative file; the file
//! loads (export `-f` reads it back) and says exactly what was made.

mod common;

use std::process::Output;

use aep_flow::spec::{BASIC_AUTH, CONNECTION_STRING_AUTH};
use aep_flow::{Client, FlowState, Frequency, Mapping, PipelineSpec, Schedule};
use aep_flow_testing::{FakeFlowService, FakeTable};
use common::{aep_flow, text, with_platform, TempDir};
use serde_json::json;

const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/orders";
const DB_CANARY: &str = "Jm4%Tr8!Xc";
const BASIC_CANARY: &str = "Qz7#Vw2$Lp";

/// What the library made: (connection name, table, dataset name, delta
/// column, schedule, mappings, enabled).
struct Made {
    connection: &'static str,
    table: &'static str,
    dataset: &'static str,
    delta: &'static str,
    schedule: Schedule,
    mappings: Vec<(&'static str, &'static str)>,
    enabled: bool,
}

fn made() -> Vec<Made> {
    vec![
        Made {
            connection: "orders-db",
            table: "public.orders",
            dataset: "Orders",
            delta: "updated_at",
            schedule: Schedule::every(Frequency::Hour, 1, 1_796_083_200).unwrap(),
            mappings: vec![("id", "_tenant.orderId"), ("amount", "_tenant.amount")],
            enabled: true,
        },
        Made {
            connection: "orders-db",
            table: "public.\"Odd \"\"Name\"\"\"",
            dataset: "Odd \"quoted\" \\ set",
            delta: "ts",
            schedule: Schedule::once(1_796_083_200),
            mappings: vec![("z", "_tenant.z"), ("a", "_tenant.a")],
            enabled: true,
        },
        Made {
            connection: "crm db.eu",
            table: "ventes.données.ünï",
            dataset: "Ventes ünï.v2",
            delta: "modifié",
            schedule: Schedule::every(Frequency::Minute, 30, 951_825_600)
                .unwrap()
                .without_backfill(),
            mappings: vec![("nom ünï", "_tenant.name"), ("id", "_tenant.id")],
            enabled: false,
        },
        Made {
            connection: "crm db.eu",
            table: "it's.a.table",
            dataset: "Weekly",
            delta: "changed_at",
            schedule: Schedule::every(Frequency::Week, 2, 1_709_164_800).unwrap(),
            mappings: vec![("w", "_tenant.w")],
            enabled: true,
        },
    ]
}

/// A fake holding what [`made`] declares, made through the library, and
/// a flow from a non-PostgreSQL connection (left out of the export).
fn fake_with_flows() -> (FakeFlowService, Vec<Made>) {
    let fake = FakeFlowService::start().unwrap();
    let orders = fake.insert_connection(
        "orders-db",
        CONNECTION_STRING_AUTH,
        json!({"connectionString": format!("Server=db.internal;Database=orders;Port=5432;UID=reader;Password={DB_CANARY}")}),
    );
    let crm = fake.insert_connection(
        "crm db.eu",
        BASIC_AUTH,
        json!({"server": "crm.internal", "port": "5433", "database": "crm", "username": "etl", "password": BASIC_CANARY}),
    );
    let all = made();
    for (base, conn) in [(&orders, "orders-db"), (&crm, "crm db.eu")] {
        let tables = all
            .iter()
            .filter(|m| m.connection == conn)
            .map(|m| {
                let mut t = FakeTable::new(m.table);
                for (c, _) in &m.mappings {
                    t = t.column(*c, "string");
                }
                t.column_with_format(m.delta, "string", "date-time")
            })
            .collect();
        fake.set_catalog(base, tables);
    }
    let client = Client::new(common::platform(&fake)).unwrap();
    for (i, m) in all.iter().enumerate() {
        let dataset = format!("5c8c3c555033b814b69f94{i:02}");
        fake.add_dataset(&dataset, m.dataset, SCHEMA);
        let base = if m.connection == "orders-db" {
            &orders
        } else {
            &crm
        };
        let spec = PipelineSpec::new()
            .with_base_connection_id(base.parse().unwrap())
            .with_table_path(m.table)
            .with_dataset_id(dataset.parse().unwrap())
            .with_mappings(
                m.mappings
                    .iter()
                    .map(|(c, d)| Mapping::new(*c, *d))
                    .collect::<Vec<_>>(),
            )
            .with_delta_column(m.delta)
            .with_schedule(m.schedule)
            .with_enable(true);
        let flow = client.ensure_pipeline(&spec).unwrap().flow_id;
        if !m.enabled {
            client.disable_flow(&flow).unwrap();
        }
        assert_eq!(
            client.get_flow(&flow).unwrap().state == FlowState::Enabled,
            m.enabled
        );
    }
    (fake, all)
}

fn export(fake: &FakeFlowService, dir: &TempDir, args: &[&str]) -> (Output, String, String) {
    let mut cmd = aep_flow("export");
    with_platform(&mut cmd, fake);
    cmd.current_dir(&dir.0).args(args);
    let out = cmd.output().unwrap();
    let (stdout, stderr) = text(&out);
    for canary in [DB_CANARY, BASIC_CANARY, "tok-cli-7788", "pw-canary-4411"] {
        for s in [&stdout, &stderr] {
            for w in canary.as_bytes().windows(5) {
                let w = std::str::from_utf8(w).unwrap();
                assert!(!s.contains(w), "a run of a secret ({w}) in:\n{s}");
            }
        }
    }
    (out, stdout, stderr)
}

fn field<'a>(t: &'a toml_edit::Table, key: &str) -> &'a toml_edit::Item {
    t.get(key).unwrap_or_else(|| panic!("no {key}"))
}

#[test]
fn export_then_load_says_what_was_made() {
    let (fake, all) = fake_with_flows();
    let dir = TempDir::new("export");
    let (out, stdout, stderr) = export(&fake, &dir, &["--sandbox", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    let doc = toml_edit::Document::parse(stdout.as_str()).unwrap();
    let root = doc.as_table();
    assert_eq!(field(root, "project").as_str(), Some("prod-export"));
    assert_eq!(
        root["sandboxes"]["prod"]["credentials"].as_str(),
        Some("AEP")
    );
    let conns = root["connections"].as_table().unwrap();
    let names: Vec<&str> = conns.iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["orders-db", "crm db.eu"]);
    assert_eq!(
        conns["orders-db"]["password_env"].as_str(),
        Some("ORDERS_DB_PASSWORD")
    );
    assert_eq!(
        conns["crm db.eu"]["password_env"].as_str(),
        Some("CRM_DB_EU_PASSWORD")
    );
    assert_eq!(conns["crm db.eu"]["auth"].as_str(), Some("basic"));
    assert_eq!(conns["orders-db"]["host"].as_str(), Some("CHANGE-ME"));
    assert!(stdout.contains("# The service masks this connection's credentials"));

    let pipelines = root["pipelines"].as_array_of_tables().unwrap();
    assert_eq!(pipelines.len(), all.len(), "{stdout}");
    for (p, m) in pipelines.iter().zip(&all) {
        assert_eq!(p["connection"].as_str(), Some(m.connection));
        assert_eq!(p["table"].as_str(), Some(m.table));
        assert_eq!(p["dataset"].as_str(), Some(m.dataset));
        assert_eq!(p["delta_column"].as_str(), Some(m.delta));
        let s = p["schedule"].as_inline_table().unwrap();
        let word = m
            .schedule
            .frequency()
            .map_or("once".to_owned(), |f| f.to_string());
        assert_eq!(
            s.get("frequency").and_then(|v| v.as_str()),
            Some(word.as_str())
        );
        assert_eq!(
            s.get("interval").and_then(|v| v.as_integer()),
            m.schedule.interval().map(i64::from)
        );
        assert_eq!(
            s.get("backfill").and_then(|v| v.as_bool()),
            m.schedule.backfill()
        );
        let mappings: Vec<(&str, &str)> = p["mappings"]
            .as_table_like()
            .unwrap()
            .iter()
            .map(|(k, v)| (k, v.as_str().unwrap()))
            .collect();
        assert_eq!(mappings, m.mappings);
        assert_eq!(
            p.get("enabled").and_then(|e| e.as_bool()).unwrap_or(true),
            m.enabled
        );
    }
    let starts: Vec<&str> = pipelines
        .iter()
        .map(|p| p["schedule"]["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-12-01T00:00:00Z",
            "2026-12-01T00:00:00Z",
            "2000-02-29T12:00:00Z",
            "2024-02-29T00:00:00Z"
        ]
    );

    // The file loads (export -f reads it, with its credentials prefix AEP
    // and its project name) and exports again to the same text.
    let file = dir.file("exported.toml", stdout.as_bytes());
    let (out, again, stderr) = export(
        &fake,
        &dir,
        &["--sandbox", "prod", "-f", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(again, stdout);
    // From the default file too.
    dir.file("aep-flow.toml", stdout.as_bytes());
    let (out, again, _) = export(&fake, &dir, &["--sandbox", "prod"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(again, stdout);

    // --connection keeps only flows on those base connections.
    let (out, only, _) = export(
        &fake,
        &dir,
        &["--sandbox", "prod", "--connection", "crm db.eu"],
    );
    assert_eq!(out.status.code(), Some(0));
    let doc = toml_edit::Document::parse(only.as_str()).unwrap();
    assert_eq!(doc["pipelines"].as_array_of_tables().unwrap().len(), 2);
    assert!(doc["connections"].get("orders-db").is_none());
}

#[test]
fn a_shared_dataset_name_is_said_and_still_exported() {
    let (fake, _) = fake_with_flows();
    fake.add_dataset("5c8c3c555033b814b69f9499", "Orders", SCHEMA);
    let dir = TempDir::new("export-twin");
    let (out, stdout, stderr) = export(&fake, &dir, &["--sandbox", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("dataset name \"Orders\" is shared by 2 datasets"),
        "{stderr}"
    );
    assert!(stdout.contains("dataset = \"Orders\""));
}

#[test]
fn an_empty_sandbox_exports_a_file_without_pipelines() {
    let fake = FakeFlowService::start().unwrap();
    let dir = TempDir::new("export-empty");
    let (out, stdout, stderr) = export(&fake, &dir, &["--sandbox", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stdout.contains("[[pipelines]]"));
    let file = dir.file("e.toml", stdout.as_bytes());
    let (out, _, stderr) = export(
        &fake,
        &dir,
        &["--sandbox", "prod", "-f", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn credentials_from_the_files_prefix() {
    let (fake, _) = fake_with_flows();
    let dir = TempDir::new("export-prefix");
    let file = dir.file(
        "f.toml",
        b"project = \"crm\"\n[sandboxes.prod]\ncredentials = \"AEP_PROD\"\n",
    );
    let mut cmd = aep_flow("export --sandbox prod -f");
    cmd.arg(&file)
        .env("AEP_PROD_ACCESS_TOKEN", fake.access_token())
        .env("AEP_PROD_API_KEY", fake.api_key())
        .env("AEP_PROD_ORG_ID", fake.org_id())
        .env("AEP_PROD_FLOW_SERVICE_URL", fake.base_url());
    let out = cmd.output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("project = \"crm\""));
    assert!(stdout.contains("credentials = \"AEP_PROD\""));
    assert_eq!(stdout.matches("[[pipelines]]").count(), 4);
}

#[test]
fn demo_export_shows_a_pipeline_made_in_the_demo() {
    let state = common::fresh_demo_state();
    let demo = |words: &str, args: &[&str]| {
        let mut cmd = aep_flow(words);
        cmd.env("AEP_DEMO_STATE", &state)
            .env("PGPASSWORD", DB_CANARY)
            .arg("--demo")
            .args(args);
        let out = cmd.output().unwrap();
        let (stdout, stderr) = text(&out);
        assert!(!stdout.contains(DB_CANARY) && !stderr.contains(DB_CANARY));
        (out.status.code(), stdout, stderr)
    };
    let (code, stdout, stderr) = demo("connections create", &["--name", "orders-db"]);
    assert_eq!(code, Some(0), "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    let base = line["id"].as_str().unwrap().to_owned();
    let (code, _, stderr) = demo(
        "pipeline",
        &[
            "ensure",
            "--connection",
            &base,
            "--dataset",
            common::DEMO_DATASET_ID,
            "--table",
            "public.orders",
            "--map",
            "id=_demo.orderId",
            "--delta-column",
            "updated_at",
            "--frequency",
            "hour",
            "--start",
            "1796083200",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, stderr) = demo("export", &["--sandbox", "prod"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("[connections.orders-db]"), "{stdout}");
    assert!(stdout.contains("table = \"public.orders\""), "{stdout}");
    assert!(stdout.contains(
        "schedule = { frequency = \"hour\", interval = 1, start = \"2026-12-01T00:00:00Z\", backfill = true }"
    ));
    // Another sandbox of the demo: its own state, empty.
    let (code, stdout, stderr) = demo("export", &["--sandbox", "dev"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("[sandboxes.dev]"), "{stdout}");
    assert!(!stdout.contains("[[pipelines]]"), "{stdout}");
    let _ = std::fs::remove_file(&state);
}

#[test]
fn the_files_connections_and_check_keys_are_kept() {
    let (fake, _) = fake_with_flows();
    let dir = TempDir::new("export-keep");
    let file = dir.file(
        "keep.toml",
        "project = \"crm\"
[sandboxes.prod]
credentials = \"AEP\"
[connections.orders-db]
host = \"db.internal\"
port = 6543
database = \"orders\"
user = \"reader\"
password_env = \"MY_PW\"
ssl_mode = \"require\"
[[pipelines]]
connection = \"orders-db\"
table = \"public.orders\"
dataset = \"Orders\"
delta_column = \"updated_at\"
schedule = { frequency = \"hour\", start = \"2026-12-01T00:00:00Z\" }
mappings = { id = \"_tenant.orderId\", amount = \"_tenant.amount\" }
max_age = \"90m\"
max_failed_records = 3
"
        .as_bytes(),
    );
    let (out, stdout, stderr) = export(
        &fake,
        &dir,
        &["--sandbox", "prod", "-f", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains(
        "[connections.orders-db]\nhost = \"db.internal\"\nport = 6543\ndatabase = \"orders\"\nuser = \"reader\"\npassword_env = \"MY_PW\"\nssl_mode = \"require\"\n"
    ), "{stdout}");
    assert!(
        stdout.contains("max_age = \"1h30m\"\nmax_failed_records = 3\n"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("max_age").count(), 1);
}

#[test]
fn export_then_plan_is_in_sync() {
    let (fake, all) = fake_with_flows();
    let dir = TempDir::new("export-plan");
    let (out, stdout, stderr) = export(&fake, &dir, &["--sandbox", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let file = dir.file("exported.toml", stdout.as_bytes());
    let mut cmd = aep_flow("plan --detailed-exitcode -f");
    cmd.arg(&file);
    with_platform(&mut cmd, &fake);
    let out = cmd.output().unwrap();
    let (plan, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{plan}\n{stderr}");
    assert!(
        plan.contains(&format!(
            "0 to create, 0 to update, 0 to replace, 0 to delete, {} in sync",
            all.len()
        )),
        "{plan}"
    );
    for s in [&plan, &stderr] {
        assert!(!s.contains(DB_CANARY) && !s.contains(BASIC_CANARY));
    }
}

/// A service whose flow listing leaves out `transformations` and
/// `scheduleParams` (a GET by id still shows them): export reads each such
/// flow again by id and declares every one; the file then plans in sync.
/// Before: every flow was left out ("no schedule the file can declare").
#[test]
fn flows_listed_without_schedule_or_transformations_are_read_again_and_exported() {
    let (fake, all) = fake_with_flows();
    fake.sandbox(fake.sandbox_name())
        .omit_in_listings("flows", &["transformations", "scheduleParams"]);
    let dir = TempDir::new("export-short-listing");
    let (out, stdout, stderr) = export(&fake, &dir, &["--sandbox", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("left out"), "{stderr}");
    assert_eq!(
        stdout.matches("[[pipelines]]").count(),
        all.len(),
        "{stdout}\n{stderr}"
    );
    let file = dir.file("exported.toml", stdout.as_bytes());
    let (code, plan) = plan(&fake, &file);
    assert_eq!(code, Some(0), "{plan}");
    assert!(
        plan.contains(&format!(
            "0 to create, 0 to update, 0 to replace, 0 to delete, {} in sync",
            all.len()
        )),
        "{plan}"
    );
}

/// Base connections (PostgreSQL, by name, each created once) and one
/// hourly flow per `(connection, table, dataset name)`, made through the
/// library on `fake`'s sandbox `prod`; datasets get ids of their own.
/// Returns the flow ids, in order.
fn make_flows(fake: &FakeFlowService, flows: &[(&str, &str, &str)]) -> Vec<String> {
    let client = Client::new(common::platform(fake)).unwrap();
    let mut bases: Vec<(String, String)> = Vec::new();
    let mut ids = Vec::new();
    for (i, (conn, table, dataset)) in flows.iter().enumerate() {
        let base = match bases.iter().find(|(n, _)| n == conn) {
            Some((_, id)) => id.clone(),
            None => {
                let id = fake.insert_connection(
                    conn,
                    BASIC_AUTH,
                    json!({"server": "h", "port": "5432", "database": "d", "username": "u", "password": BASIC_CANARY}),
                );
                bases.push(((*conn).to_owned(), id.clone()));
                id
            }
        };
        let tables: Vec<FakeTable> = flows
            .iter()
            .filter(|(c, _, _)| c == conn)
            .map(|(_, t, _)| {
                FakeTable::new(*t)
                    .column("id", "string")
                    .column_with_format("updated_at", "string", "date-time")
            })
            .collect();
        fake.set_catalog(&base, tables);
        let dataset_id = format!("6d8c3c555033b814b69f94{i:02}");
        fake.add_dataset(&dataset_id, dataset, SCHEMA);
        let spec = PipelineSpec::new()
            .with_base_connection_id(base.parse().unwrap())
            .with_table_path(*table)
            .with_dataset_id(dataset_id.parse().unwrap())
            .with_mappings(vec![Mapping::new("id", "_tenant.id")])
            .with_delta_column("updated_at")
            .with_schedule(Schedule::every(Frequency::Hour, 1, 1_796_083_200).unwrap())
            .with_enable(true);
        ids.push(client.ensure_pipeline(&spec).unwrap().flow_id.to_string());
    }
    ids
}

/// `plan --detailed-exitcode -f FILE` on the fake: (exit code, stdout).
fn plan(fake: &FakeFlowService, file: &std::path::Path) -> (Option<i32>, String) {
    let mut cmd = aep_flow("plan --detailed-exitcode -f");
    cmd.arg(file);
    with_platform(&mut cmd, fake);
    let out = cmd.output().unwrap();
    let (stdout, stderr) = text(&out);
    for s in [&stdout, &stderr] {
        assert!(!s.contains(BASIC_CANARY), "{s}");
    }
    (out.status.code(), format!("{stdout}\n{stderr}"))
}

#[test]
fn connections_named_alike_get_distinct_password_placeholders() {
    let fake = FakeFlowService::start().unwrap();
    // Four names that all read ORDERS_DB_PASSWORD, and one whose own
    // placeholder is the second's fallback.
    make_flows(
        &fake,
        &[
            ("orders-db", "public.a", "A"),
            ("orders_db", "public.b", "B"),
            ("Orders DB", "public.c", "C"),
            ("ORDERS.DB", "public.d", "D"),
            ("orders-db-2", "public.e", "E"),
        ],
    );
    let dir = TempDir::new("export-placeholders");
    let (out, stdout, stderr) = export(&fake, &dir, &["--sandbox", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc = toml_edit::Document::parse(stdout.as_str()).unwrap();
    let envs: Vec<(&str, &str)> = doc["connections"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(k, v)| (k, v["password_env"].as_str().unwrap()))
        .collect();
    assert_eq!(
        envs,
        [
            ("orders-db", "ORDERS_DB_PASSWORD"),
            ("orders_db", "ORDERS_DB_2_PASSWORD"),
            ("Orders DB", "ORDERS_DB_3_PASSWORD"),
            ("ORDERS.DB", "ORDERS_DB_4_PASSWORD"),
            ("orders-db-2", "ORDERS_DB_2_2_PASSWORD"),
        ]
    );
    // The file loads (export -f reads it back) and exports again the same.
    let file = dir.file("exported.toml", stdout.as_bytes());
    let (out, again, stderr) = export(
        &fake,
        &dir,
        &["--sandbox", "prod", "-f", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(again, stdout);
    // And plans in sync.
    let (code, plan) = plan(&fake, &file);
    assert_eq!(code, Some(0), "{plan}");
    assert!(
        plan.contains("0 to create, 0 to update, 0 to replace, 0 to delete, 5 in sync"),
        "{plan}"
    );
}

#[test]
fn flows_the_file_cannot_declare_are_left_out_and_named() {
    let fake = FakeFlowService::start().unwrap();
    let ids = make_flows(
        &fake,
        &[
            ("orders-db", "public.orders", "Orders"),
            ("orders-db", "public.t1", "D1"),
            ("orders-db", "public.t2", "D2"),
            ("orders-db", "public.t3", "D3"),
            ("orders-db", "public.t4", "D4"),
            ("orders-db", "public.t5", "D5"),
            ("gone-db", "public.t6", "D6"),
            ("crm-api", "public.t7", "D7"),
            ("orders-db", "public.t8", "Trailing "),
            ("orders-db", "public.t9", "D9"),
        ],
    );
    let s = fake.sandbox("prod");
    // 1: streaming-like, no schedule; 2: no mapping set; 3: a state
    // neither enabled nor disabled; 4: into flow 0's dataset; 9: disabled.
    assert!(s.modify_flow(&ids[1], |f| {
        f.as_object_mut().unwrap().remove("scheduleParams");
    }));
    assert!(s.modify_flow(&ids[2], |f| {
        f["transformations"]
            .as_array_mut()
            .unwrap()
            .retain(|t| t["name"] != "Mapping");
    }));
    assert!(s.set_flow_state(&ids[3], "draft"));
    let target0 = s.flows().into_iter().find(|f| f.id == ids[0]).unwrap();
    let target0 = target0.target_connection_ids.clone();
    assert!(s.modify_flow(&ids[4], |f| f["targetConnectionIds"] = json!(target0)));
    assert!(s.set_flow_state(&ids[9], "disabled"));
    // 5: its dataset deleted; 6: its base connection deleted; 7: its base
    // connection of another connection spec. Edited in the fake's state,
    // restored into a second fake whose Catalog lacks D5.
    let mut state: serde_json::Value = serde_json::from_str(&fake.export_state()).unwrap();
    let conns = state["sandboxes"]["prod"]["connections"]
        .as_array_mut()
        .unwrap();
    conns.retain(|c| c["value"]["name"] != "gone-db");
    for c in conns.iter_mut() {
        if c["value"]["name"] == "crm-api" {
            c["value"]["spec_id"] = json!("b3ba5556-48be-44b7-8b85-ff2b69b46dc4");
            c["value"]["spec_name"] = json!("OAuth2");
        }
    }
    let fake = FakeFlowService::builder()
        .restore_state(&state.to_string())
        .unwrap()
        .start()
        .unwrap();
    for (i, name) in [
        "Orders",
        "D1",
        "D2",
        "D3",
        "D4",
        "",
        "D6",
        "D7",
        "Trailing ",
        "D9",
    ]
    .iter()
    .enumerate()
    {
        if !name.is_empty() {
            fake.add_dataset(&format!("6d8c3c555033b814b69f94{i:02}"), name, SCHEMA);
        }
    }
    let dir = TempDir::new("export-left-out");
    let (out, stdout, stderr) = export(&fake, &dir, &["--sandbox", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let reasons = [
        (1, "left out: it has no schedule the file can declare (a streaming or unscheduled flow"),
        (2, "left out: it has no mapping set"),
        (4, "left out: it writes into the dataset of pipelines[0] (\"Orders\"), and the file takes one dataflow per dataset"),
        (5, "left out: its dataset 6d8c3c555033b814b69f9405 is not found in Catalog"),
        (6, "left out: its base connection"),
        (7, "left out: not a PostgreSQL flow: its base connection"),
        (8, "left out: its dataset 6d8c3c555033b814b69f9408 has a name the file cannot take (\"Trailing \"): a name must not begin or end with white space"),
        (3, "its state \"draft\" is neither enabled nor disabled: exported with enabled = false"),
    ];
    for (i, why) in reasons {
        let line = format!("warning: export: flow {}: ", ids[i]);
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&line) && l.contains(why)),
            "flow {i}: wanted {why:?} in:\n{stderr}"
        );
    }
    assert!(stderr.contains("no longer exists"), "{stderr}");
    assert_eq!(stderr.lines().count(), reasons.len(), "{stderr}");
    // What is written: flows 0, 3 (enabled = false) and 9 (disabled).
    let doc = toml_edit::Document::parse(stdout.as_str()).unwrap();
    let pipelines = doc["pipelines"].as_array_of_tables().unwrap();
    let tables: Vec<(&str, bool)> = pipelines
        .iter()
        .map(|p| {
            (
                p["table"].as_str().unwrap(),
                p.get("enabled").and_then(|e| e.as_bool()).unwrap_or(true),
            )
        })
        .collect();
    assert_eq!(
        tables,
        [
            ("public.orders", true),
            ("public.t3", false),
            ("public.t9", false)
        ]
    );
    assert!(doc["connections"].get("gone-db").is_none());
    assert!(doc["connections"].get("crm-api").is_none());
    // The file loads and plans in sync.
    let file = dir.file("exported.toml", stdout.as_bytes());
    let (code, plan) = plan(&fake, &file);
    assert_eq!(code, Some(0), "{plan}");
    assert!(plan.contains(", 3 in sync"), "{plan}");
}
