//! The fake on its own, over HTTP on 127.0.0.1 with a plain `TcpStream`:
//! sandboxes, export and restore, the change hook.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use aep_flow_testing::{
    FakeFlowService, BASE_PATH, BASIC_AUTH, CATALOG_PATH, CONNECTION_STRING_AUTH,
    POSTGRES_CONNECTION_SPEC_ID, REDACTED,
};
use serde_json::{json, Value};

const PASSWORD_CANARY: &str = "canary-pw-7f3a;}{=";

/// Sends one request to `fake` in `sandbox`; the status and the JSON body.
fn send(
    fake: &FakeFlowService,
    sandbox: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {BASE_PATH}{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         x-api-key: {}\r\nx-gw-ims-org-id: {}\r\nx-sandbox-name: {sandbox}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        fake.addr(),
        fake.access_token(),
        fake.api_key(),
        fake.org_id(),
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let text = String::from_utf8(answer).unwrap();
    let status = text[9..12].parse().unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn connection_body(name: &str) -> Value {
    json!({
        "name": name,
        "connectionSpec": {"id": POSTGRES_CONNECTION_SPEC_ID, "version": "1.0"},
        "auth": {
            "specName": CONNECTION_STRING_AUTH,
            "params": {"connectionString": format!(
                "Server=db;Database=orders;Port=5432;UID=etl;Password={{{}}}",
                PASSWORD_CANARY.replace('}', "}}")
            )},
        },
    })
}

fn basic_body(name: &str) -> Value {
    json!({
        "name": name,
        "connectionSpec": {"id": POSTGRES_CONNECTION_SPEC_ID, "version": "1.0"},
        "auth": {
            "specName": BASIC_AUTH,
            "params": {"server": "db", "port": "5432", "database": "orders",
                       "username": "etl", "password": PASSWORD_CANARY},
        },
    })
}

fn names(listing: &Value) -> Vec<&str> {
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect()
}

#[test]
fn a_connection_string_with_braced_separators_is_accepted() {
    let fake = FakeFlowService::start().unwrap();
    let (status, body) = send(
        &fake,
        "prod",
        "POST",
        "/connections",
        Some(&connection_body("a")),
    );
    assert_eq!(status, 201, "{body}");
    // The same password unbraced is malformed for the service.
    let mut bad = connection_body("b");
    bad["auth"]["params"]["connectionString"] =
        format!("Server=db;Database=orders;Port=5432;UID=etl;Password={PASSWORD_CANARY}").into();
    let (status, _) = send(&fake, "prod", "POST", "/connections", Some(&bad));
    assert_eq!(status, 400);
}

#[test]
fn sandboxes_never_see_each_other() {
    let fake = FakeFlowService::start().unwrap();
    let (status, a) = send(
        &fake,
        "prod",
        "POST",
        "/connections",
        Some(&connection_body("in-prod")),
    );
    assert_eq!(status, 201);
    let (status, _) = send(
        &fake,
        "dev",
        "POST",
        "/connections",
        Some(&basic_body("in-dev")),
    );
    assert_eq!(status, 201);

    let (_, prod) = send(&fake, "prod", "GET", "/connections", None);
    let (_, dev) = send(&fake, "dev", "GET", "/connections", None);
    assert_eq!(names(&prod), ["in-prod"]);
    assert_eq!(names(&dev), ["in-dev"]);
    // Not found by id from the other sandbox.
    let id = a["id"].as_str().unwrap();
    let (status, _) = send(&fake, "dev", "GET", &format!("/connections/{id}"), None);
    assert_eq!(status, 404);

    // The accessors: the builder's sandbox by default, any other by name.
    assert_eq!(fake.sandbox_name(), "prod");
    assert_eq!(fake.connections().len(), 1);
    assert_eq!(fake.connections()[0].name, "in-prod");
    assert_eq!(fake.sandbox("dev").connections()[0].name, "in-dev");
    assert!(fake.sandbox("qa").connections().is_empty());

    // Seeding another sandbox shows over HTTP there only.
    fake.sandbox("qa")
        .insert_connection("seeded", BASIC_AUTH, json!({"server": "db"}));
    let (_, qa) = send(&fake, "qa", "GET", "/connections", None);
    assert_eq!(names(&qa), ["seeded"]);
    let (_, prod) = send(&fake, "prod", "GET", "/connections", None);
    assert_eq!(names(&prod), ["in-prod"]);
}

#[test]
fn export_and_restore_keep_every_sandbox_but_never_a_secret() {
    let fake = FakeFlowService::start().unwrap();
    send(
        &fake,
        "prod",
        "POST",
        "/connections",
        Some(&connection_body("cs")),
    );
    send(
        &fake,
        "dev",
        "POST",
        "/connections",
        Some(&basic_body("basic")),
    );
    let exported = fake.export_state();
    assert!(
        !exported.contains("canary"),
        "a secret was exported: {exported}"
    );
    assert!(exported.contains(REDACTED));

    let restored = FakeFlowService::builder()
        .restore_state(&exported)
        .unwrap()
        .start()
        .unwrap();
    assert_eq!(restored.sandbox_names(), ["dev", "prod"]);
    let (_, prod) = send(&restored, "prod", "GET", "/connections", None);
    let (_, dev) = send(&restored, "dev", "GET", "/connections", None);
    assert_eq!(names(&prod), ["cs"]);
    assert_eq!(names(&dev), ["basic"]);
    let basic = &restored.sandbox("dev").connections()[0];
    assert_eq!(basic.params["password"], REDACTED);
    assert_eq!(basic.params["server"], "db");
    // Same ids and etags; new objects get new ids.
    assert_eq!(restored.connections()[0].id, fake.connections()[0].id);
    assert_eq!(restored.connections()[0].etag, fake.connections()[0].etag);
    let (_, again) = send(
        &restored,
        "prod",
        "POST",
        "/connections",
        Some(&connection_body("new")),
    );
    assert_ne!(again["id"], restored.connections()[0].id.as_str());
    assert_eq!(restored.connections().len(), 2);
    // Exporting the restored fake gives the same text back, as long as
    // nothing changed.
    let twice = FakeFlowService::builder()
        .restore_state(&exported)
        .unwrap()
        .start()
        .unwrap();
    assert_eq!(twice.export_state(), exported);
}

#[test]
fn garbled_exports_are_refused_with_what_is_wrong() {
    let refused = |text: &str| FakeFlowService::builder().restore_state(text).unwrap_err();
    assert!(refused("{").starts_with("not JSON"));
    assert!(refused(r#"{"format": "other"}"#).contains("format"));
    assert!(
        refused(r#"{"format": "aep-flow-fake-state/1", "serial": -1, "sandboxes": {}}"#)
            .contains("serial")
    );
    assert!(
        refused(r#"{"format": "aep-flow-fake-state/1", "serial": 1, "sandboxes": []}"#)
            .contains("sandboxes")
    );
    let message = refused(
        r#"{"format": "aep-flow-fake-state/1", "serial": 1, "sandboxes": {"dev": {"flows": 3}}}"#,
    );
    assert!(
        message.contains("sandbox dev") && message.contains("flows"),
        "{message}"
    );
}

#[test]
fn on_change_is_called_after_writes_only_and_its_error_is_kept() {
    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let failing = Arc::new(Mutex::new(false));
    let (log, fail) = (Arc::clone(&calls), Arc::clone(&failing));
    let fake = FakeFlowService::builder()
        .on_change(move |state| {
            log.lock().unwrap().push(state.to_owned());
            if *fail.lock().unwrap() {
                Err("disk full".into())
            } else {
                Ok(())
            }
        })
        .start()
        .unwrap();
    send(&fake, "prod", "GET", "/connections", None);
    assert!(calls.lock().unwrap().is_empty(), "called on a read");
    let mut refused = connection_body("a");
    refused["connectionSpec"]["id"] = "not-postgres".into();
    let (status, _) = send(&fake, "prod", "POST", "/connections", Some(&refused));
    assert_eq!(status, 400);
    assert!(
        calls.lock().unwrap().is_empty(),
        "called on a refused write"
    );

    let (_, created) = send(
        &fake,
        "prod",
        "POST",
        "/connections",
        Some(&connection_body("a")),
    );
    {
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 1);
        // Called with the export, after the change.
        assert_eq!(calls[0], fake.export_state());
        assert!(calls[0].contains(created["id"].as_str().unwrap()));
        assert!(!calls[0].contains("canary"));
    }
    assert_eq!(fake.last_change_error(), None);

    *failing.lock().unwrap() = true;
    let id = created["id"].as_str().unwrap();
    let (status, _) = send(&fake, "prod", "DELETE", &format!("/connections/{id}"), None);
    assert_eq!(status, 204, "a hook error does not fail the request");
    assert_eq!(fake.last_change_error().as_deref(), Some("disk full"));
    assert_eq!(calls.lock().unwrap().len(), 2);

    // Once stopped, nothing is answered or saved.
    fake.stop();
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    let _ = stream.write_all(b"DELETE /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(answer.is_empty());
    assert_eq!(calls.lock().unwrap().len(), 2);
}

#[test]
fn chunked_bodies_are_read_and_garbage_is_hung_up_on() {
    let fake = FakeFlowService::start().unwrap();
    let body = connection_body("chunked").to_string();
    let (first, rest) = body.split_at(10);
    let head = format!(
        "POST {BASE_PATH}/connections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\
         x-api-key: k\r\nx-gw-ims-org-id: o\r\nx-sandbox-name: prod\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x};ext=1\r\n{first}\r\n{:x}\r\n{rest}\r\n0\r\n\r\n",
        first.len(),
        rest.len()
    );
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201 "), "{answer}");
    assert_eq!(fake.connections()[0].name, "chunked");

    // A TLS ClientHello is not HTTP: the connection is closed unanswered.
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    stream.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05]).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(answer.is_empty());
}

#[test]
fn a_connection_inserted_under_a_fixed_id_is_never_shadowed() {
    let fake = FakeFlowService::start().unwrap();
    let fixed = "00000000-0000-4000-8000-000000000001";
    let params = json!({"server": "db"});
    assert!(fake.insert_connection_as(fixed, "fixed", BASIC_AUTH, params.clone()));
    assert!(!fake.insert_connection_as(fixed, "again", BASIC_AUTH, params.clone()));
    for name in ["a", "b"] {
        let (status, made) = send(
            &fake,
            "prod",
            "POST",
            "/connections",
            Some(&basic_body(name)),
        );
        assert_eq!(status, 201);
        assert_ne!(made["id"], fixed);
    }
    let (_, listing) = send(&fake, "prod", "GET", "/connections", None);
    assert_eq!(names(&listing), ["fixed", "a", "b"]);
}

#[test]
fn an_export_with_an_impossible_serial_is_refused_and_a_low_one_is_corrected() {
    let with_serial = |serial: &str| {
        format!(r#"{{"format": "aep-flow-fake-state/1", "serial": {serial}, "sandboxes": {{}}}}"#)
    };
    for serial in [
        "18446744073709551615",
        "1099511627777",
        "-1",
        "\"7\"",
        "1.5",
    ] {
        let err = FakeFlowService::builder()
            .restore_state(&with_serial(serial))
            .unwrap_err();
        assert!(err.contains("serial"), "{serial}: {err}");
    }
    // The largest the fake may hand out is taken.
    assert!(FakeFlowService::builder()
        .restore_state(&with_serial("1099511627776"))
        .is_ok());

    // An export whose serial is lower than its ids (in any sandbox): new
    // ids still never repeat restored ones.
    let fake = FakeFlowService::start().unwrap();
    for (sandbox, name) in [("prod", "a"), ("dev", "b"), ("dev", "c")] {
        let (status, _) = send(
            &fake,
            sandbox,
            "POST",
            "/connections",
            Some(&connection_body(name)),
        );
        assert_eq!(status, 201);
    }
    let mut exported: Value = serde_json::from_str(&fake.export_state()).unwrap();
    assert!(exported["serial"].as_u64().unwrap() >= 3, "{exported}");
    exported["serial"] = 0.into();
    let restored = FakeFlowService::builder()
        .restore_state(&exported.to_string())
        .unwrap()
        .start()
        .unwrap();
    let mut seen: Vec<String> = ["prod", "dev"]
        .iter()
        .flat_map(|s| restored.sandbox(s).connections())
        .map(|c| c.id)
        .collect();
    assert_eq!(seen.len(), 3);
    for i in 0..5 {
        let (status, created) = send(
            &restored,
            "prod",
            "POST",
            "/connections",
            Some(&connection_body(&format!("n{i}"))),
        );
        assert_eq!(status, 201);
        let id = created["id"].as_str().unwrap().to_owned();
        assert!(!seen.contains(&id), "{id} handed out again: {seen:?}");
        seen.push(id);
    }
}

/// A request still arriving when the fake stops (a client that gave up on
/// its deadline, a body still in flight) was answered, and reported to
/// the change hook, after the fake had been stopped: after the demo had
/// checked its saves and released its lock, when the next command may
/// already be working on the state file. Once `stop()` returns, the fake
/// neither answers nor calls the hook, even on a connection it was
/// serving.
#[test]
fn a_request_in_flight_when_stopped_is_neither_answered_nor_saved() {
    let calls: Arc<Mutex<usize>> = Arc::default();
    let counter = Arc::clone(&calls);
    let fake = FakeFlowService::builder()
        .on_change(move |_| {
            *counter.lock().unwrap() += 1;
            Ok(())
        })
        .start()
        .unwrap();
    let headers = format!(
        "Host: x\r\nAuthorization: Bearer {}\r\nx-api-key: {}\r\nx-gw-ims-org-id: {}\r\n\
         x-sandbox-name: prod\r\n",
        fake.access_token(),
        fake.api_key(),
        fake.org_id()
    );
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    // A first request, answered: the connection is being served.
    write!(
        stream,
        "GET {BASE_PATH}/connections HTTP/1.1\r\n{headers}\r\n"
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed");
        seen.extend_from_slice(&chunk[..n]);
    }
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200 "));
    // The whole answer, body included: its body may come in a later read,
    // and must not be taken for an answer after stop().
    let text = String::from_utf8_lossy(&seen).into_owned();
    let (head, _) = text.split_once("\r\n\r\n").unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .expect("a Content-Length");
    while seen.len() < head.len() + 4 + length {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed");
        seen.extend_from_slice(&chunk[..n]);
    }
    // A create, all but its last byte; the fake stops; the last byte.
    let body = connection_body("late").to_string();
    write!(
        stream,
        "POST {BASE_PATH}/connections HTTP/1.1\r\n{headers}Content-Type: application/json\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (head, last) = body.as_bytes().split_at(body.len() - 1);
    stream.write_all(head).unwrap();
    fake.stop();
    stream.write_all(last).unwrap();
    // Whatever comes back, until it hangs up: nothing.
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    assert_eq!(
        *calls.lock().unwrap(),
        0,
        "the hook was called after stop()"
    );
    assert!(
        rest.is_empty(),
        "answered after stop(): {:?}",
        String::from_utf8_lossy(&rest).lines().next()
    );
    assert!(fake.connections().is_empty());
}

#[test]
fn a_failed_run_is_re_triggered_into_a_linked_child_and_nothing_else_is() {
    use aep_flow_testing::FakeRun;
    let fake = FakeFlowService::start().unwrap();
    let failed = fake.add_run(
        "flow-1",
        FakeRun::new("Failed")
            .with_created_at(1_000)
            .with_error("CONNECTOR-2001-500", "boom"),
    );
    let ok = fake.add_run("flow-1", FakeRun::new("success").with_created_at(2_000));
    let path = |id: &str, op: &str| format!("/runs/{id}/action?op={op}");

    let (status, body) = send(&fake, "prod", "POST", &path(&failed, "re-trigger"), None);
    assert_eq!(status, 200, "{body}");
    let child = body["id"].as_str().unwrap().to_owned();
    assert!(body["etag"].as_str().is_some_and(|e| !e.is_empty()));
    let (_, got) = send(&fake, "prod", "GET", &format!("/runs/{child}"), None);
    let run = &got["items"][0];
    assert_eq!(run["flowId"], "flow-1");
    assert_eq!(run["parentFlowRunId"], failed.as_str());
    assert_eq!(run["metrics"]["statusSummary"]["status"], "inProgress");
    let (_, parent) = send(&fake, "prod", "GET", &format!("/runs/{failed}"), None);
    assert_eq!(parent["items"][0]["childFlowRunIds"], json!([child]));
    assert!(parent["items"][0].get("parentFlowRunId").is_none());

    // The status a retry takes is the test's; the spec's spelling works too.
    fake.retrigger_runs_as(FakeRun::new("failed").with_error("E", "again"));
    let (status, body) = send(&fake, "prod", "POST", &path(&failed, "RE_TRIGGER"), None);
    assert_eq!(status, 200);
    let second = body["id"].as_str().unwrap().to_owned();
    let (_, parent) = send(&fake, "prod", "GET", &format!("/runs/{failed}"), None);
    assert_eq!(
        parent["items"][0]["childFlowRunIds"],
        json!([child, second])
    );
    // A retry of a retry: its own child.
    let (status, _) = send(&fake, "prod", "POST", &path(&second, "re-trigger"), None);
    assert_eq!(status, 200);
    assert_eq!(fake.runs().len(), 5);

    // Refusals, in the service's error shape, changing nothing.
    for (id, op, want) in [
        (ok.as_str(), "re-trigger", 400),
        (child.as_str(), "re-trigger", 400),
        (failed.as_str(), "cancel", 400),
        (failed.as_str(), "", 400),
        ("nope", "re-trigger", 404),
    ] {
        let (status, body) = send(&fake, "prod", "POST", &path(id, op), None);
        assert_eq!(status, want, "{id} {op}: {body}");
        assert!(body["type"].as_str().unwrap().contains("FLOW-"), "{body}");
        assert_eq!(body["status"], want);
    }
    let (status, body) = send(&fake, "prod", "POST", &path(&ok, "re-trigger"), None);
    assert_eq!(status, 400);
    assert!(body["errorMessage"].as_str().unwrap().contains("success"));
    assert_eq!(fake.runs().len(), 5);
    // No action without the POST.
    let (status, _) = send(&fake, "prod", "GET", &path(&failed, "re-trigger"), None);
    assert_eq!(status, 405);
    // Runs of another sandbox are not found.
    let (status, _) = send(&fake, "dev", "POST", &path(&failed, "re-trigger"), None);
    assert_eq!(status, 404);
}

#[test]
fn runs_show_missing_or_garbled_times_and_may_come_oldest_first() {
    use aep_flow_testing::FakeRun;
    let fake = FakeFlowService::builder().ignore_orderby().start().unwrap();
    let a = fake.add_run("f", FakeRun::new("success").with_created_at(1_000));
    let b = fake.add_run("f", FakeRun::new("success").without_created_at());
    let c = fake.add_run(
        "f",
        FakeRun::new("success")
            .with_created_at(3_000)
            .with_garbled_created_at("yesterday"),
    );
    let d = fake.add_run("f", FakeRun::new("failed").with_created_at(4_000));
    let (status, body) = send(
        &fake,
        "prod",
        "GET",
        "/runs?property=flowId%3D%3Df&orderby=-createdAt",
        None,
    );
    assert_eq!(status, 200);
    let items = body["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|r| r["id"].as_str().unwrap()).collect();
    // Oldest first: `orderby` ignored.
    assert_eq!(ids, [a.as_str(), b.as_str(), c.as_str(), d.as_str()]);
    assert_eq!(items[0]["createdAt"], 1_000);
    assert!(items[1].get("createdAt").is_none());
    assert_eq!(items[2]["createdAt"], "yesterday");
    assert_eq!(items[3]["createdAt"], 4_000);

    // A service that honours it: newest first.
    let fake = FakeFlowService::start().unwrap();
    let old = fake.add_run("f", FakeRun::new("success").with_created_at(1_000));
    let new = fake.add_run("f", FakeRun::new("success").with_created_at(2_000));
    let (_, body) = send(
        &fake,
        "prod",
        "GET",
        "/runs?property=flowId%3D%3Df&orderby=-createdAt",
        None,
    );
    assert_eq!(body["items"][0]["id"], new.as_str());
    assert_eq!(body["items"][1]["id"], old.as_str());
}

/// `GET {CATALOG_PATH}{path}` in `sandbox`: the status and the body as
/// sent (its keys' order matters).
fn catalog_get(fake: &FakeFlowService, sandbox: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    let head = format!(
        "GET {CATALOG_PATH}{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         x-api-key: {}\r\nx-gw-ims-org-id: {}\r\nx-sandbox-name: {sandbox}\r\n\
         Connection: close\r\n\r\n",
        fake.addr(),
        fake.access_token(),
        fake.api_key(),
        fake.org_id(),
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let text = String::from_utf8(answer).unwrap();
    let status = text[9..12].parse().unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    (status, body.to_owned())
}

/// The ids of a Catalog listing, in the order sent.
fn keyed_ids(body: &str) -> Vec<String> {
    // serde_json's `Map` sorts keys: read the order from the text.
    let object: Value = serde_json::from_str(body).unwrap();
    let mut ids: Vec<(usize, String)> = object
        .as_object()
        .unwrap()
        .keys()
        .map(|k| {
            (
                body.find(&format!("{}:", Value::from(k.as_str()))).unwrap(),
                k.clone(),
            )
        })
        .collect();
    ids.sort();
    ids.into_iter().map(|(_, k)| k).collect()
}

const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/0a1b2c";

#[test]
fn catalog_lists_datasets_by_offset_with_catalogs_limits() {
    let fake = FakeFlowService::start().unwrap();
    for i in 0..45 {
        fake.add_dataset(&format!("ds{i:03}"), &format!("name {i}"), SCHEMA);
    }
    // Default page: 20, in id order when no order is asked.
    let (status, body) = catalog_get(&fake, "prod", "/dataSets");
    assert_eq!(status, 200);
    let ids = keyed_ids(&body);
    assert_eq!(ids.len(), 20);
    assert_eq!(ids[0], "ds000");
    // Offsets, ending with a short page.
    let mut all = Vec::new();
    for start in [0, 20, 40] {
        let (status, body) = catalog_get(
            &fake,
            "prod",
            &format!("/dataSets?limit=20&start={start}&orderBy=asc%3Acreated"),
        );
        assert_eq!(status, 200);
        all.extend(keyed_ids(&body));
    }
    assert_eq!(all.len(), 45);
    let expected: Vec<String> = (0..45).map(|i| format!("ds{i:03}")).collect();
    assert_eq!(all, expected);
    // Descending, and past the end.
    let (_, body) = catalog_get(&fake, "prod", "/dataSets?limit=3&orderBy=desc:created");
    assert_eq!(keyed_ids(&body), ["ds044", "ds043", "ds042"]);
    let (status, body) = catalog_get(&fake, "prod", "/dataSets?start=45");
    assert_eq!((status, body.as_str()), (200, "{}"));
    // 20 is the largest page for a service token (Adobe's guide; the
    // spec's 100 is the global limit); above it, or garbled, is Catalog's 400.
    let (status, body) = catalog_get(&fake, "prod", "/dataSets?limit=20");
    assert_eq!((status, keyed_ids(&body).len()), (200, 20));
    for bad in [
        "limit=21",
        "limit=100",
        "limit=101",
        "limit=0",
        "limit=x",
        "start=-1",
        "orderBy=asc:color",
    ] {
        let (status, body) = catalog_get(&fake, "prod", &format!("/dataSets?{bad}"));
        assert_eq!(status, 400, "{bad}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["status"], 400, "{bad}");
        assert!(
            error["type"].as_str().unwrap().contains("CAT-"),
            "{bad}: {error}"
        );
        assert!(error["report"]["detailed-message"].is_string(), "{bad}");
    }
}

#[test]
fn catalog_answers_only_the_asked_members_and_tags_profile_datasets() {
    let fake = FakeFlowService::start().unwrap();
    fake.add_dataset("plain1", "Plain", SCHEMA);
    fake.add_profile_dataset("profile1", "Profiled", SCHEMA);
    let (_, body) = catalog_get(
        &fake,
        "prod",
        "/dataSets?properties=name%2CschemaRef%2Ctags",
    );
    let listing: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        listing,
        json!({
            "plain1": {"name": "Plain", "tags": {},
                       "schemaRef": {"id": SCHEMA,
                                     "contentType": "application/vnd.adobe.xed+json;version=1"}},
            "profile1": {"name": "Profiled", "tags": {"unifiedProfile": ["enabled:true"]},
                         "schemaRef": {"id": SCHEMA,
                                       "contentType": "application/vnd.adobe.xed+json;version=1"}},
        })
    );
    // Without `properties`, every member; the read by id tags it too.
    let (_, body) = catalog_get(&fake, "prod", "/dataSets/profile1");
    let one: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        one["profile1"]["tags"]["unifiedProfile"],
        json!(["enabled:true"])
    );
    assert!(one["profile1"]["imsOrg"].is_string());
}

#[test]
fn catalog_filters_by_exact_name_per_sandbox() {
    let fake = FakeFlowService::start().unwrap();
    // No `,`, `*` or leading `!`: those mean more (the next test).
    let odd = "Orders \"EU\"; a&b #1 = ü/%+!";
    fake.add_dataset("a1", odd, SCHEMA);
    fake.add_dataset("a2", "orders \"eu\"; a&b #1 = ü/%+!", SCHEMA);
    fake.add_dataset("a3", odd, SCHEMA);
    fake.sandbox("dev").add_dataset("d1", odd, SCHEMA);
    let mut encoded = String::new();
    for b in odd.bytes() {
        encoded.push_str(&format!("%{b:02X}"));
    }
    let (status, body) = catalog_get(&fake, "prod", &format!("/dataSets?name={encoded}"));
    assert_eq!(status, 200);
    assert_eq!(keyed_ids(&body), ["a1", "a3"]);
    let (_, body) = catalog_get(&fake, "dev", &format!("/dataSets?name={encoded}"));
    assert_eq!(keyed_ids(&body), ["d1"]);
    let (_, body) = catalog_get(&fake, "qa", &format!("/dataSets?name={encoded}"));
    assert_eq!(body, "{}");
    let (_, body) = catalog_get(&fake, "prod", "/dataSets?name=Orders");
    assert_eq!(body, "{}");
}

/// Catalog's simple filter as Adobe's guide "Filter Catalog data using query
/// parameters" has it: `,` separates values (any matches), a leading `!`
/// negates, `*` is a wildcard (`**` a literal `*`). A client that sends a
/// name holding these as it is misses the dataset: the fake says so too.
#[test]
fn catalog_name_filters_are_lists_negations_and_wildcards() {
    let fake = FakeFlowService::start().unwrap();
    for (id, name) in [
        ("c1", "Orders, EU"),
        ("c2", "Orders"),
        ("c3", " EU"),
        ("c4", "te*st"),
        ("c5", "test"),
    ] {
        fake.add_dataset(id, name, SCHEMA);
    }
    for (query, ids) in [
        ("name=Orders%2C%20EU", vec!["c2", "c3"]),
        ("name=!Orders", vec!["c1", "c3", "c4", "c5"]),
        ("name=te*st", vec!["c4", "c5"]),
        ("name=te**st", vec!["c4"]),
    ] {
        let (status, body) = catalog_get(&fake, "prod", &format!("/dataSets?{query}"));
        assert_eq!(status, 200);
        let mut got = keyed_ids(&body);
        got.sort_unstable();
        assert_eq!(got, ids, "{query}");
    }
}
