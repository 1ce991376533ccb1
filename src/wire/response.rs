//! An HTTP answer as the library keeps it, and the words used to describe
//! one that cannot be used.

use std::time::Duration;

use serde_json::Value;
use zeroize::{Zeroize, Zeroizing};

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
    /// The answer is to a request that may change something (a create,
    /// update, delete or action), not to a read.
    pub write: bool,
}

impl RawResponse {
    /// A JSON answer with just a status, a body and a request id: for
    /// the in-memory transport, tests and the fuzz entry points.
    #[cfg(any(test, feature = "fuzzing"))]
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
            write: false,
        }
    }
}

/// For a 2xx answer to a write whose body could not be used: the change
/// was made. Nothing for a read (a GET or a validation changed nothing).
pub(crate) fn success_note(resp: &RawResponse) -> &'static str {
    write_success_note(resp.status, resp.write)
}

/// [`success_note`] before the answer is whole (its body failed).
pub(crate) fn write_success_note(status: u16, write: bool) -> &'static str {
    if write && (200..300).contains(&status) {
        " (the service answered with success, so the change was made: look it up before \
         trying again)"
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

pub(crate) fn describe_body(resp: &RawResponse) -> String {
    format!(
        "{} bytes of {}",
        resp.body.len(),
        resp.content_type
            .as_deref()
            .unwrap_or("unknown content type")
    )
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
