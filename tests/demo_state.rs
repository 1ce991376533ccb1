//! The fake's state file: what one run creates, the next sees; no
//! credential is ever written to it; a broken file is refused at start.

mod common;

use aep_flow::testing::{demo_catalog, FakeFlowService};
use aep_flow::{Client, NewSourceConnection, PostgresConnection, Secret};
use common::TempDir;

/// A canary password: no run of six of its characters may reach the file.
const CANARY: &str = "Cx9#qZ-canary-7Rw!pL";

fn start(path: &std::path::Path) -> FakeFlowService {
    FakeFlowService::builder()
        .state_file(path)
        .demo_catalog()
        .start()
        .unwrap()
}

fn assert_no_canary(text: &str) {
    let chars: Vec<char> = CANARY.chars().collect();
    for run in chars.windows(6) {
        let run: String = run.iter().collect();
        assert!(!text.contains(&run), "state file holds {run:?}");
    }
}

#[test]
fn a_second_fake_sees_what_the_first_made_and_no_secret_is_written() {
    let dir = TempDir::new("demo-state");
    let path = dir.0.join("state.json");
    let (base, source) = {
        let fake = start(&path);
        let c = Client::new(fake.platform()).unwrap();
        let conn = PostgresConnection::new(
            "pg",
            "db.example.com",
            "orders",
            "etl",
            Secret::from(CANARY),
        );
        let base = c.create_postgres_connection(&conn).unwrap().id;
        let basic = PostgresConnection::new(
            "pg2",
            "db.example.com",
            "orders",
            "etl",
            Secret::from(CANARY),
        )
        .with_auth_spec(aep_flow::AuthSpec::Basic);
        c.create_postgres_connection(&basic).unwrap();
        let source = c
            .create_source_connection(&NewSourceConnection::new("s", &base, "public.orders"))
            .unwrap()
            .id;
        (base, source)
    };
    let text = std::fs::read_to_string(&path).unwrap();
    assert_no_canary(&text);
    assert!(text.contains("[REDACTED]"));
    assert!(text.contains("db.example.com") || text.contains("[REDACTED]"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "state file readable by others: {mode:o}");
    }

    let fake = start(&path);
    let c = Client::new(fake.platform()).unwrap();
    assert_eq!(c.get_connection(&base).unwrap().id, base);
    assert_eq!(c.get_source_connection(&source).unwrap().id, source);
    assert_eq!(c.explore_tables(&base).unwrap().len(), demo_catalog().len());
    // New ids never repeat restored ones.
    let again = c
        .create_source_connection(&NewSourceConnection::new("t", &base, "public.customers"))
        .unwrap();
    assert_ne!(again.id, source);
    assert_ne!(again.id, base);
    // The serial carries on from the fake's own ids, not from the
    // fixture's etag (`"1700e582-..."`): no jump to a huge number.
    assert!(
        again.id.starts_with("00000000-0000-4000-8000-0000000000"),
        "{}",
        again.id
    );
    assert_eq!(fake.source_connections().len(), 2);
    // The tutorial's fixed answer is not handed out a second time.
    let conn = PostgresConnection::new("pg3", "db", "d", "u", Secret::from(CANARY));
    let third = c.create_postgres_connection(&conn).unwrap();
    assert_ne!(third.id, base);
    assert_eq!(fake.connections().len(), 3);
    drop(fake);
    assert_no_canary(&std::fs::read_to_string(&path).unwrap());
}

#[test]
fn a_missing_file_is_an_empty_fake_and_a_broken_one_is_refused() {
    let dir = TempDir::new("demo-state-bad");
    let fresh = start(&dir.0.join("none-yet.json"));
    assert!(fresh.connections().is_empty());
    for (name, body) in [
        ("garbage.json", &b"\xff\xfe not json"[..]),
        ("other.json", br#"{"some": "other file"}"#),
        ("truncated.json", br#"{"format": "aep-flow-fake-state/1", "serial": 3, "connections": [{"meta""#),
        ("wrong.json", br#"{"format": "aep-flow-fake-state/1", "serial": 3, "connections": [{"meta": 1, "value": 2}]}"#),
    ] {
        let path = dir.file(name, body);
        let err = FakeFlowService::builder().state_file(&path).start().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{name}");
        assert!(err.to_string().contains("remove it"), "{name}: {err}");
        // The broken file is left as it was.
        assert_eq!(std::fs::read(&path).unwrap(), body);
    }
}

#[test]
fn a_state_file_with_an_impossible_serial_is_refused_and_a_low_one_is_corrected() {
    let dir = TempDir::new("demo-state-serial");
    for serial in ["18446744073709551615", "1099511627777", "-1", "\"7\""] {
        let path = dir.file(
            &format!("s{}.json", serial.len()),
            format!(r#"{{"format": "aep-flow-fake-state/1", "serial": {serial}}}"#).as_bytes(),
        );
        let err = FakeFlowService::builder()
            .state_file(&path)
            .start()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{serial}");
    }
    // A file whose serial is lower than its ids: new ids still never repeat.
    let path = dir.0.join("low.json");
    let id = {
        let fake = start(&path);
        let c = Client::new(fake.platform()).unwrap();
        let conn = PostgresConnection::new("pg", "db", "d", "u", Secret::from(CANARY));
        c.create_postgres_connection(&conn).unwrap();
        let base = fake.connections()[0].id.clone();
        c.create_source_connection(&NewSourceConnection::new("s", &base, "public.orders"))
            .unwrap()
            .id
    };
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file["serial"] = 0.into();
    std::fs::write(&path, file.to_string()).unwrap();
    let fake = start(&path);
    let c = Client::new(fake.platform()).unwrap();
    let base = fake.connections()[0].id.clone();
    for _ in 0..5 {
        let new = c
            .create_source_connection(&NewSourceConnection::new("t", &base, "public.customers"))
            .unwrap();
        assert_ne!(new.id, id);
    }
}
