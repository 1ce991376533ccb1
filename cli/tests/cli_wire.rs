//! Every request `apply` (create, update, disable, `--rotate-passwords`,
//! `--prune`), `plan`, `export` and `check -f --retrigger` send, recorded
//! at the fake and held against the shapes of Adobe's published specs
//! (`reference/flow-service.yaml`, `data-prep.yaml`, `catalog.yaml`; where
//! a tutorial disagrees, the tutorial's form, said so at the rule):
//! method and path template, query parameter names of the operation and
//! their encoding (`%XX` only, no raw space, `#`, quote or non-ASCII byte),
//! the four platform headers, `Content-Type: application/json` on every
//! body, a JSON body of the operation's shape (an object for creates, a
//! JSON Patch array of RFC 6902 operations on `/`-pointers for PATCH),
//! `If-Match` on every PATCH, an etag with its quotes (the fake refuses a
//! stale one with 412, so an apply that succeeds sent the current one). Dataset names carry quotes, `&`, `#`, `+`, `%` and unicode.

mod common;
mod project_support;

use aep_flow_testing::{FakeFlowService, FakeRun, RecordedRequest};
use aep_flow_testing::{BASE_PATH, CATALOG_PATH, DATA_PREP_PATH};
use serde_json::Value;

use project_support::{fake, head, Project, SCHEMA};

/// A dataset name no query may carry unencoded.
const ODD: &str = "Orders \"EU\" & co #1 ü+%/é";
/// The same, as a TOML basic string's contents.
const ODD_TOML: &str = "Orders \\\"EU\\\" & co #1 ü+%/é";

/// One operation of the specs: method, service prefix, path template
/// (`{}` is one id segment) and the query parameters it takes.
struct Op {
    method: &'static str,
    service: &'static str,
    path: &'static str,
    query: &'static [&'static str],
    body: Body,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Body {
    None,
    Object,
    Patch,
}

/// Flow Service's listing parameters (flow-service.yaml, e.g. `GET /flows`).
const FLOW_LIST: &[&str] = &["property", "limit", "orderby", "continuationToken", "count"];
/// Catalog's `GET /dataSets` parameters used here (catalog.yaml).
const CATALOG_LIST: &[&str] = &[
    "limit",
    "start",
    "orderBy",
    "properties",
    "name",
    "property",
];
/// Data Prep's `GET /mappingSets` (data-prep.yaml).
const MAPPING_LIST: &[&str] = &["limit", "start", "name", "orderBy", "expandSchema"];

const OPS: &[Op] = &[
    op("GET", BASE_PATH, "/connections", FLOW_LIST, Body::None),
    op("POST", BASE_PATH, "/connections", &[], Body::Object),
    op("GET", BASE_PATH, "/connections/{}", &[], Body::None),
    op("PATCH", BASE_PATH, "/connections/{}", &[], Body::Patch),
    op("DELETE", BASE_PATH, "/connections/{}", &[], Body::None),
    op("GET", BASE_PATH, "/connections/{}/test", &[], Body::None),
    op(
        "GET",
        BASE_PATH,
        "/connections/{}/explore",
        &[
            "objectType",
            "object",
            "fileType",
            "preview",
            "sourceParams",
        ],
        Body::None,
    ),
    op(
        "GET",
        BASE_PATH,
        "/sourceConnections",
        FLOW_LIST,
        Body::None,
    ),
    op("POST", BASE_PATH, "/sourceConnections", &[], Body::Object),
    op("GET", BASE_PATH, "/sourceConnections/{}", &[], Body::None),
    op(
        "PATCH",
        BASE_PATH,
        "/sourceConnections/{}",
        &[],
        Body::Patch,
    ),
    op(
        "DELETE",
        BASE_PATH,
        "/sourceConnections/{}",
        &[],
        Body::None,
    ),
    op(
        "GET",
        BASE_PATH,
        "/targetConnections",
        FLOW_LIST,
        Body::None,
    ),
    op("POST", BASE_PATH, "/targetConnections", &[], Body::Object),
    op("GET", BASE_PATH, "/targetConnections/{}", &[], Body::None),
    op(
        "PATCH",
        BASE_PATH,
        "/targetConnections/{}",
        &[],
        Body::Patch,
    ),
    op(
        "DELETE",
        BASE_PATH,
        "/targetConnections/{}",
        &[],
        Body::None,
    ),
    op("GET", BASE_PATH, "/flowSpecs", FLOW_LIST, Body::None),
    op("GET", BASE_PATH, "/flows", FLOW_LIST, Body::None),
    op("POST", BASE_PATH, "/flows", &[], Body::Object),
    op("GET", BASE_PATH, "/flows/{}", &[], Body::None),
    op("PATCH", BASE_PATH, "/flows/{}", &[], Body::Patch),
    op("DELETE", BASE_PATH, "/flows/{}", &[], Body::None),
    // The spec also lists a required `subOp`; the "Update dataflows"
    // tutorial sends `op` alone.
    op("POST", BASE_PATH, "/flows/{}/action", &["op"], Body::None),
    op("GET", BASE_PATH, "/runs", FLOW_LIST, Body::None),
    op("GET", BASE_PATH, "/runs/{}", &[], Body::None),
    op("POST", BASE_PATH, "/runs/{}/action", &["op"], Body::None),
    op("GET", CATALOG_PATH, "/dataSets", CATALOG_LIST, Body::None),
    op("GET", CATALOG_PATH, "/dataSets/{}", &[], Body::None),
    op(
        "GET",
        DATA_PREP_PATH,
        "/mappingSets",
        MAPPING_LIST,
        Body::None,
    ),
    op("POST", DATA_PREP_PATH, "/mappingSets", &[], Body::Object),
    op(
        "POST",
        DATA_PREP_PATH,
        "/mappingSets/validate",
        &[],
        Body::Object,
    ),
    op(
        "GET",
        DATA_PREP_PATH,
        "/mappingSets/{}",
        &["expandSchema", "version"],
        Body::None,
    ),
];

const fn op(
    method: &'static str,
    service: &'static str,
    path: &'static str,
    query: &'static [&'static str],
    body: Body,
) -> Op {
    Op {
        method,
        service,
        path,
        query,
        body,
    }
}

/// Whether `path` (no query) fits `template` under `service`.
fn fits(op: &Op, method: &str, path: &str) -> bool {
    let Some(rest) = path.strip_prefix(op.service) else {
        return false;
    };
    let want: Vec<&str> = op.path.split('/').collect();
    let got: Vec<&str> = rest.split('/').collect();
    method == op.method
        && want.len() == got.len()
        && want.iter().zip(&got).all(|(w, g)| {
            if *w == "{}" {
                // An id segment: unreserved characters only.
                !g.is_empty()
                    && g.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            } else {
                w == g
            }
        })
}

/// RFC 3986 query text: unreserved or sub-delims other than `&`/`=`
/// inside a value only as `%XX`; `%` only as a valid escape.
fn decode(value: &str) -> Result<String, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = value.get(i + 1..i + 3).ok_or("a cut `%` escape")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad escape %{hex}"))?);
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => {
                out.push(b);
                i += 1;
            }
            b => return Err(format!("unencoded byte {:?}", b as char)),
        }
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 once decoded".into())
}

/// What is wrong with `r` against the specs, if anything.
fn spec_violations(r: &RecordedRequest, fake: &FakeFlowService) -> Vec<String> {
    let mut wrong = Vec::new();
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    let Some(op) = OPS.iter().find(|o| fits(o, &r.method, path)) else {
        return vec![format!("no operation of the specs is {} {path}", r.method)];
    };
    // Headers (every operation's parameters list the four).
    let auth = r.header("authorization").unwrap_or_default();
    if auth != format!("Bearer {}", fake.access_token()) {
        wrong.push("Authorization is not `Bearer TOKEN`".into());
    }
    if r.header("x-api-key") != Some(fake.api_key()) {
        wrong.push("x-api-key".into());
    }
    if r.header("x-gw-ims-org-id") != Some(fake.org_id()) {
        wrong.push("x-gw-ims-org-id".into());
    }
    match r.header("x-sandbox-name") {
        Some("dev" | "prod") => {}
        other => wrong.push(format!("x-sandbox-name {other:?}")),
    }
    // Query: names of the operation, values encoded.
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !op.query.contains(&name) {
            wrong.push(format!(
                "query parameter {name:?} is not one of {:?}",
                op.query
            ));
        }
        let decoded = match decode(value) {
            Ok(d) => d,
            Err(e) => {
                wrong.push(format!("{name}={value}: {e}"));
                continue;
            }
        };
        match name {
            "limit" => {
                let max = if op.service == CATALOG_PATH { 20 } else { 1000 };
                if !decoded.parse::<u32>().is_ok_and(|n| (1..=max).contains(&n)) {
                    wrong.push(format!("limit {decoded:?} not in 1..={max}"));
                }
            }
            "start" if decoded.parse::<u64>().is_err() => {
                wrong.push(format!("start {decoded:?} is not an offset"));
            }
            // `field==value` (Flow Service's filter; Catalog's `property`
            // takes expressions, none sent here).
            "property" if !decoded.contains("==") => {
                wrong.push(format!("property {decoded:?} is not field==value"));
            }
            // The spec's enum is ENABLE/DISABLE and RE_TRIGGER; the
            // tutorials ("Update dataflows", "Retry failed dataflow runs")
            // write enable, disable and re-trigger, and are followed.
            "op" => {
                let ok: &[&str] = if path.starts_with(&format!("{BASE_PATH}/runs/")) {
                    &["re-trigger"]
                } else {
                    &["enable", "disable"]
                };
                if !ok.contains(&decoded.as_str()) {
                    wrong.push(format!("op {decoded:?} not one of {ok:?}"));
                }
            }
            _ => {}
        }
    }
    // Body.
    let content_type = r.header("content-type");
    let json = serde_json::from_slice::<Value>(&r.body).ok();
    match (op.body, r.body.is_empty()) {
        (Body::None, true) => {
            if content_type.is_some() {
                wrong.push("Content-Type without a body".into());
            }
        }
        (Body::None, false) => wrong.push(format!("a body on {} {}", op.method, op.path)),
        (_, true) => wrong.push("no body".into()),
        (shape, false) => {
            if content_type != Some("application/json") {
                wrong.push(format!("Content-Type {content_type:?}"));
            }
            match (shape, &json) {
                (Body::Object, Some(Value::Object(_))) => {}
                (Body::Patch, Some(Value::Array(ops))) if !ops.is_empty() => {
                    for o in ops {
                        wrong.extend(patch_op_violation(o));
                    }
                }
                _ => wrong.push(format!("body is not a {shape:?}")),
            }
        }
    }
    // If-Match: on every PATCH, an etag as the service gives them, quotes
    // included (`"0a00d6c4-0000-0200-0000-5e8b7ae50000"`).
    match (op.method, r.header("if-match")) {
        ("PATCH", Some(tag)) if tag.len() > 2 && tag.starts_with('"') && tag.ends_with('"') => {}
        ("PATCH", Some(tag)) => wrong.push(format!("If-Match {tag:?} is not a quoted etag")),
        ("PATCH", None) => wrong.push("PATCH without If-Match".into()),
        _ => {}
    }
    wrong
}

/// RFC 6902: `op` one of six, `path` a JSON pointer, `value` where the op
/// takes one (Adobe's spec makes `value` required on every op: a `remove`
/// may carry one), `from` for move/copy.
fn patch_op_violation(o: &Value) -> Option<String> {
    let op = o["op"].as_str().unwrap_or_default();
    let path = o["path"].as_str().unwrap_or_default();
    if !path.starts_with('/') {
        return Some(format!("patch path {path:?} is not a JSON pointer"));
    }
    let needs_value = matches!(op, "add" | "replace" | "test");
    match op {
        "add" | "replace" | "test" | "remove" => {}
        "move" | "copy" if o["from"].is_string() => {}
        _ => return Some(format!("patch op {op:?}")),
    }
    (needs_value && o.get("value").is_none()).then(|| format!("{op} {path} without a value"))
}

fn file(dataset: &str, interval: u32, enabled: bool, customers: bool) -> String {
    let mut text = head("wire");
    text.push_str(&format!(
        r#"
[[pipelines]]
connection = "orders-db"
table = "public.orders"
dataset = "{dataset}"
delta_column = "updated_at"
schedule = {{ frequency = "hour", interval = {interval}, start = "2026-12-01T00:00:00Z", backfill = true }}
mappings = {{ id = "_tenant.orderId", amount = "_tenant.amount" }}
enabled = {enabled}
"#
    ));
    if customers {
        text.push_str(
            r#"
[[pipelines]]
connection = "orders-db"
table = "public.orders"
dataset = "Customers"
delta_column = "updated_at"
schedule = { frequency = "day", interval = 1, start = "2026-12-01T00:00:00Z" }
mappings = { customer = "_tenant.customerId" }
"#,
        );
    }
    text
}

#[test]
fn every_request_of_plan_apply_export_and_check_fits_the_specs() {
    let fake = fake();
    for (i, sandbox) in ["dev", "prod"].iter().enumerate() {
        fake.sandbox(sandbox)
            .add_dataset(&format!("{i:04x}0dd0000000000000"), ODD, SCHEMA);
    }
    let project = Project::new(&file(ODD_TOML, 1, true, true));
    // Creates, then changes in place (schedule, enabled), a rotation, a
    // prune, a plan, an export and a check that re-triggers.
    project.run("plan", &fake).expect(0);
    project.run("apply", &fake).expect(0);
    project.rewrite(&file(ODD_TOML, 2, false, true));
    project.run("apply", &fake).expect(0);
    project.rewrite(&file(ODD_TOML, 2, true, true));
    project.run("apply --rotate-passwords", &fake).expect(0);
    project.rewrite(&file(ODD_TOML, 2, true, false));
    project.run("apply --prune", &fake).expect(0);
    project.run("plan", &fake).expect(0);
    project.run("export --sandbox dev", &fake).expect(0);
    let flow = fake.sandbox("dev").flows()[0].id.clone();
    fake.sandbox("dev").add_run(&flow, FakeRun::new("failed"));
    project
        .run("check --sandbox dev --retrigger 1", &fake)
        .expect(3);

    let requests = fake.requests();
    let mut wrong = Vec::new();
    for r in &requests {
        for w in spec_violations(r, &fake) {
            wrong.push(format!("{} {}: {w}", r.method, r.path));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // What was sent covers the area: every kind of request was made.
    let seen = |method: &str, part: &str| {
        requests
            .iter()
            .any(|r| r.method == method && r.path.contains(part))
    };
    for (method, part) in [
        ("GET", "/dataSets?limit=20&start=0&"),
        ("POST", "/connections"),
        ("PATCH", "/connections/"),
        ("POST", "/sourceConnections"),
        ("POST", "/targetConnections"),
        ("POST", "/mappingSets"),
        ("POST", "/flows"),
        ("PATCH", "/flows/"),
        ("POST", "/action?op=disable"),
        ("POST", "/action?op=enable"),
        ("DELETE", "/flows/"),
        ("GET", "/runs?"),
        ("POST", "/action?op=re-trigger"),
    ] {
        assert!(seen(method, part), "no {method} …{part}…");
    }
    // The odd name went out encoded (export looks datasets up by name).
    let encoded = "&name=Orders%20%22EU%22%20%26%20co%20%231%20%C3%BC%2B%25%2F%C3%A9";
    assert!(
        requests
            .iter()
            .any(|r| r.path.starts_with(CATALOG_PATH) && r.path.ends_with(encoded)),
        "the odd dataset name was never looked up"
    );
}

/// The fake refuses what the service would, for the requests above: the
/// tests catch a wrong request only if it does. Each is a request written
/// by hand (the client's code is not used).
#[test]
fn the_fake_refuses_malformed_writes_as_the_service_would() {
    let fake = fake();
    let project = Project::new(&file("Orders", 1, true, false));
    project.run("apply", &fake).expect(0);
    let dev = fake.sandbox("dev");
    let flow = dev.flows()[0].id.clone();
    let flow_path = format!("{BASE_PATH}/flows/{flow}");
    let etag = dev.flows()[0].etag.clone();
    let json = "Content-Type: application/json\r\n";
    let patch = r#"[{"op":"replace","path":"/scheduleParams/interval","value":3}]"#;
    let dev_request = |method: &str, path: &str, headers: &str, body: &str| {
        raw_in(&fake, "dev", method, path, headers, body)
    };
    // If-Match missing, unquoted, or stale.
    let unquoted = format!("{json}If-Match: {}\r\n", etag.trim_matches('"'));
    for (headers, status) in [
        (json.to_owned(), 400),
        (unquoted, 412),
        (format!("{json}If-Match: \"0000\"\r\n"), 412),
    ] {
        let (got, body) = dev_request("PATCH", &flow_path, &headers, patch);
        assert_eq!(got, status, "{headers}: {body}");
    }
    // Not a JSON Patch array, or no JSON content type.
    let with_tag = format!("{json}If-Match: {etag}\r\n");
    let (got, _) = dev_request("PATCH", &flow_path, &with_tag, r#"{"op":"replace"}"#);
    assert_eq!(got, 400);
    for content_type in ["", "Content-Type: text/plain\r\n"] {
        let headers = format!("{content_type}If-Match: {etag}\r\n");
        let (got, body) = dev_request("PATCH", &flow_path, &headers, patch);
        assert_eq!(got, 415, "{content_type:?}: {body}");
    }
    // An action with an op the service does not know, or none.
    for query in ["", "?op=start", "?op=enabled"] {
        let (got, body) = dev_request("POST", &format!("{flow_path}/action{query}"), "", "");
        assert_eq!(got, 400, "{query}: {body}");
    }
    // A re-trigger with another op.
    let run = dev.add_run(&flow, FakeRun::new("failed"));
    let (got, _) = dev_request(
        "POST",
        &format!("{BASE_PATH}/runs/{run}/action?op=retrigger"),
        "",
        "",
    );
    assert_eq!(got, 400);
    // A create without a JSON content type.
    let (got, _) = dev_request("POST", &format!("{BASE_PATH}/flows"), "", "{}");
    assert_eq!(got, 415);
    // Catalog: a page above 20, a start that is no offset.
    for query in ["limit=21", "limit=0", "start=x"] {
        let (got, _) = dev_request("GET", &format!("{CATALOG_PATH}/dataSets?{query}"), "", "");
        assert_eq!(got, 400, "{query}");
    }
    // Nothing changed the flow.
    assert_eq!(dev.flows()[0].etag, etag);
}

/// A request to `sandbox` of `fake`, written by hand.
fn raw_in(
    fake: &FakeFlowService,
    sandbox: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(fake.addr()).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         x-api-key: {}\r\nx-gw-ims-org-id: {}\r\nx-sandbox-name: {sandbox}\r\n{headers}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        fake.access_token(),
        fake.api_key(),
        fake.org_id(),
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}
