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
