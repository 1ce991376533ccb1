//! Reading Flow Service's answers: success bodies and the error envelopes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{ApiError, Error, Scrubber};

/// What Flow Service returns for a created (or updated) connection.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct CreatedConnection {
    /// The new connection's id.
    pub id: String,
    /// Its etag, byte for byte as returned (it includes literal double
    /// quotes, e.g. `"\"1700e582-0000-0200-0000-5e3c85180000\""`). Send it as
    /// is in `If-Match`.
    pub etag: String,
}

/// A response as the library keeps it: status, the few headers it uses, and
/// the body in a zeroizing buffer (a server may echo secrets back).
pub(crate) struct RawResponse {
    pub status: u16,
    pub request_id: Option<String>,
    pub retry_after: Option<Duration>,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub body: Zeroizing<Vec<u8>>,
    /// Which attempt this answer came from (1 for the first).
    pub attempts: u32,
    /// An earlier attempt of this call may have been processed (it met a
    /// 502/503/504 or a failure after sending and was retried).
    pub earlier_attempt_may_have_landed: bool,
}

impl RawResponse {
    /// A JSON answer with just a status, a body and a request id: for
    /// tests and the fuzz entry points.
    pub(crate) fn from_body(status: u16, body: Vec<u8>, request_id: Option<&str>) -> Self {
        RawResponse {
            status,
            request_id: request_id.map(str::to_owned),
            retry_after: None,
            location: None,
            content_type: Some("application/json".into()),
            body: Zeroizing::new(body),
            attempts: 1,
            earlier_attempt_may_have_landed: false,
        }
    }
}

/// Parses a 200/201 create answer `{"id", "etag"}`.
pub(crate) fn parse_created(resp: &RawResponse) -> Result<CreatedConnection, Error> {
    let unexpected = |detail: String| Error::UnexpectedResponse {
        status: resp.status,
        detail,
        request_id: resp.request_id.clone(),
    };
    #[derive(Deserialize)]
    struct Loose {
        id: Option<String>,
        etag: Option<String>,
    }
    let parsed: Loose = serde_json::from_slice(&resp.body).map_err(|e| {
        unexpected(format!(
            "the body is not the JSON object {{\"id\", \"etag\"}} ({}); {}{}",
            describe_json_error(&e),
            describe_body(resp),
            success_note(resp.status)
        ))
    })?;
    match (parsed.id, parsed.etag) {
        (Some(id), Some(etag)) if !id.is_empty() && !etag.is_empty() => {
            Ok(CreatedConnection { id, etag })
        }
        (id, _) => Err(unexpected(format!(
            "the body lacks {}{}",
            if id.as_deref().is_none_or(str::is_empty) {
                "an id"
            } else {
                "an etag"
            },
            success_note(resp.status)
        ))),
    }
}

/// For a 2xx answer whose body could not be used: the change was made.
pub(crate) fn success_note(status: u16) -> &'static str {
    if (200..300).contains(&status) {
        " (the service answered with success, so the change was made: look the connection up \
         by name before trying again)"
    } else {
        ""
    }
}

pub(crate) fn describe_json_error(e: &serde_json::Error) -> String {
    // serde_json's messages quote no input, only positions and categories.
    match e.classify() {
        serde_json::error::Category::Eof => "the body ends early".into(),
        serde_json::error::Category::Syntax => {
            format!("not JSON at line {} column {}", e.line(), e.column())
        }
        serde_json::error::Category::Data => "JSON of the wrong shape".into(),
        serde_json::error::Category::Io => "read failed".into(),
    }
}

fn describe_body(resp: &RawResponse) -> String {
    format!(
        "{} bytes of {}",
        resp.body.len(),
        resp.content_type
            .as_deref()
            .unwrap_or("unknown content type")
    )
}

/// Turns an error answer into [`ApiError`], whatever envelope it uses
/// (gateway, Flow Service, platform generic), or none (empty, HTML).
pub(crate) fn parse_api_error(resp: &RawResponse, scrubber: &Scrubber<'_>) -> ApiError {
    let mut value: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let error = {
        let envelope = Envelope::read(&value);
        let mut message = envelope
            .message
            .map(|m| scrubber.shown(m, 1000))
            .unwrap_or_else(|| body_summary(resp, scrubber));
        if message.trim().is_empty() {
            message = reason_phrase(resp.status).to_owned();
        }
        ApiError {
            service: crate::error::Service::FlowService,
            status: resp.status,
            code: envelope.code.map(|c| scrubber.shown(&c, 100)),
            title: envelope.title.map(|t| scrubber.shown(t, 200)),
            message,
            request_id: envelope
                .request_id
                .map(|r| scrubber.shown(&r, 200))
                .or_else(|| resp.request_id.clone()),
            retry_after: resp.retry_after,
            attempts: 1,
        }
    };
    // The parsed JSON may hold an echoed secret: wipe it before it is freed.
    wipe(&mut value);
    error
}

struct Envelope<'v> {
    code: Option<String>,
    title: Option<&'v str>,
    message: Option<&'v str>,
    request_id: Option<String>,
}

impl<'v> Envelope<'v> {
    fn read(v: &'v Value) -> Self {
        let text = |key: &str| v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
        let report = v.get("report");
        let report_text = |key: &str| {
            report
                .and_then(|r| r.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        // Gateway: {"error_code": "401013", "message": ...}; the code may be a number.
        let gateway_code = v.get("error_code").and_then(|c| match c {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        // Flow Service / generic: the code is the last path segment of `type`.
        let type_code = text("type").and_then(|t| {
            let last = t.rsplit('/').next().unwrap_or(t);
            (!last.is_empty() && last.chars().any(|c| c.is_ascii_digit())).then(|| last.to_owned())
        });
        let request_id = report
            .and_then(|r| r.get("request-id"))
            .and_then(|r| match r {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        // IMS: {"error": "invalid_client", "error_description": ...}
        let oauth_code = text("error").map(str::to_owned);
        Envelope {
            code: gateway_code.or(type_code).or(oauth_code),
            title: text("title"),
            message: report_text("detailed-message")
                .or_else(|| text("errorMessage"))
                .or_else(|| text("detail"))
                .or_else(|| text("message"))
                .or_else(|| text("error_description"))
                .or_else(|| text("title")),
            request_id,
        }
    }
}

/// Overwrites every string in a parsed JSON value before it is dropped.
pub(crate) fn wipe(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => map.values_mut().for_each(wipe),
        _ => {}
    }
}

/// A one-line account of a body that is not a JSON error envelope: the
/// HTML `<title>` of a proxy page, or the start of the text.
fn body_summary(resp: &RawResponse, scrubber: &Scrubber<'_>) -> String {
    if resp.body.is_empty() {
        return format!("{} (empty body)", reason_phrase(resp.status));
    }
    let text = Zeroizing::new(String::from_utf8_lossy(&resp.body).into_owned());
    let scrubbed = Zeroizing::new(scrubber.scrub(&text));
    let lower = scrubbed.to_ascii_lowercase();
    let snippet = match (lower.find("<title>"), lower.find("</title>")) {
        (Some(a), Some(b)) if b > a + 7 => &scrubbed[a + 7..b],
        _ => scrubbed.as_str(),
    };
    let mut line = scrubber.shown(snippet, 200);
    if line.is_empty() {
        line = reason_phrase(resp.status).to_owned();
    }
    format!("{line} ({})", describe_body(resp))
}

/// Service text made safe for a one-line message: white space runs become
/// one space, control characters (ANSI escapes included) are dropped, and
/// the length is capped.
pub(crate) fn one_line(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars));
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            out.push(' ');
            count += 1;
        }
        for c in word.chars().filter(|c| !c.is_control()) {
            if count >= max_chars {
                out.push('…');
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        412 => "Precondition Failed",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "error",
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (IMF-fixdate).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn parse_http_date(s: &str) -> Option<SystemTime> {
    let rest = s.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    if parts.len() != 5 || parts[4] != "GMT" {
        return None;
    }
    let day: u64 = parts[0].parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[1])? as u64
        + 1;
    let year: u64 = parts[2].parse().ok()?;
    let hms: Vec<u64> = parts[3]
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if hms.len() != 3
        || !(1..=31).contains(&day)
        || !(1970..=9999).contains(&year)
        || hms[0] > 23
        || hms[1] > 59
        || hms[2] > 60
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), epoch 1970-01-01.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn raw(status: u16, body: &[u8]) -> RawResponse {
        RawResponse::from_body(status, body.to_vec(), None)
    }

    #[test]
    fn created_without_etag_is_unexpected() {
        let err = parse_created(&raw(201, br#"{"id":"abc"}"#)).unwrap_err();
        assert!(err.to_string().contains("lacks an etag"), "{err}");
        let err = parse_created(&raw(201, b"<html>")).unwrap_err();
        assert!(matches!(err, Error::UnexpectedResponse { status: 201, .. }));
        let err = parse_created(&raw(201, br#"{"id":"","etag":"x"}"#)).unwrap_err();
        assert!(err.to_string().contains("lacks an id"), "{err}");
    }

    #[test]
    fn numeric_gateway_codes_and_odd_shapes_are_tolerated() {
        let s = Scrubber::new();
        let e = parse_api_error(
            &raw(
                401,
                br#"{"error_code": 401013, "message": "Oauth token is not valid"}"#,
            ),
            &s,
        );
        assert_eq!(e.code.as_deref(), Some("401013"));
        for body in [
            &b"[1,2]"[..],
            b"\"str\"",
            b"{\"report\": 5, \"type\": 7}",
            b"null",
        ] {
            let e = parse_api_error(&raw(500, body), &s);
            assert_eq!(e.status, 500);
            assert!(!e.message.is_empty());
        }
    }

    /// Any JSON value, nested a few levels, with the envelope's own keys
    /// likely to appear.
    fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("type".to_owned()),
            Just("title".to_owned()),
            Just("status".to_owned()),
            Just("report".to_owned()),
            Just("request-id".to_owned()),
            Just("detailed-message".to_owned()),
            Just("error_code".to_owned()),
            Just("message".to_owned()),
            Just("detail".to_owned()),
            Just("error".to_owned()),
            Just("id".to_owned()),
            Just("etag".to_owned()),
            ".{0,8}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_json_error_body_parses_without_panic_or_leak(
            value in arbitrary_json(),
            status in 100u16..600,
            tail in "[a-z0-9\"\\;{}\n]{1,10}",
            placement in 0u8..5,
        ) {
            // "Zq" never occurs in the library's own wording, so any hit is
            // a leak of service text.
            let secret = format!("Zq{tail}");
            let echoed = match placement {
                0 => value,
                1 => serde_json::json!({"error_code": secret, "message": format!("bad {secret}"), "x": value}),
                2 => serde_json::json!({"type": format!("x/{secret}"), "title": secret,
                    "report": {"detailed-message": secret, "request-id": secret}, "y": value}),
                3 => serde_json::json!([value, {"detail": format!("{secret}{secret}")}]),
                // Split by a control character that flattening removes.
                _ => serde_json::json!({"message": format!("Z\u{0}{}", &secret[1..]), "v": value}),
            };
            let body = serde_json::to_vec(&echoed).unwrap();
            let mut scrubber = Scrubber::new();
            scrubber.add(&secret);
            let e = parse_api_error(&raw(status, &body), &scrubber);
            let shown = format!("{} {e:?}", Error::Api(Box::new(e.clone())));
            proptest::prop_assert!(!shown.contains(secret.as_str()), "{}", shown);
            proptest::prop_assert!(!Error::Api(Box::new(e)).to_string().contains('\n'));
            let _ = parse_created(&raw(status, &body));
        }

        #[test]
        fn any_bytes_parse_without_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256), status in 100u16..600) {
            let _ = parse_api_error(&raw(status, &body), &Scrubber::new());
            let _ = parse_created(&raw(status, &body));
            let _ = parse_retry_after(&String::from_utf8_lossy(&body), SystemTime::now());
        }
    }

    #[test]
    fn a_secret_is_caught_before_and_after_flattening() {
        let mut scrubber = Scrubber::new();
        scrubber.add("pass word");
        scrubber.add("abc\u{e9}");
        let body =
            "{\"message\": \"one pass word, two pass\\tword, three a\\u0000bc\\u001b\u{e9}\"}";
        let e = parse_api_error(&raw(400, body.as_bytes()), &scrubber);
        assert_eq!(
            e.message,
            "one [REDACTED], two [REDACTED], three [REDACTED]"
        );
        let e = parse_api_error(&raw(502, b"proxy said a\x00bc\x03\xc3\xa9"), &scrubber);
        assert!(!e.message.contains("abc"), "{}", e.message);
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784111777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Foo 1994 08:50:07 GMT", now),
            None
        );
    }
}
