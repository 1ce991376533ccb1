//! The create-response parser: any status, any body. Never panics; an `Ok`
//! carries a non-empty id and etag that are the body's `id` and `etag`.
//!
//! Input: 2 bytes of status selector, then the body.
#![cfg_attr(not(test), no_main)]

use aep_flow_fuzz::status_from;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = status_from(data[0], data[1]);
    let body = &data[2..];
    if let Ok((id, etag)) = aep_flow::fuzzing::create_response(status, body) {
        assert!(
            !id.is_empty() && !etag.is_empty(),
            "empty id or etag accepted"
        );
        // Cross-check with a plain JSON reading of the same body. serde's
        // derive also accepts a struct as a JSON array ([id, etag]).
        // serde_json does not check the UTF-8 (or \u escapes) of fields a
        // struct ignores, while a `Value` holds every string: when `Value`
        // refuses the body there is nothing to compare with.
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
            return;
        };
        let (want_id, want_etag) = match &v {
            serde_json::Value::Object(m) => (m.get("id"), m.get("etag")),
            serde_json::Value::Array(a) => (a.first(), a.get(1)),
            other => panic!("accepted a JSON {other:?}"),
        };
        assert_eq!(want_id.and_then(|v| v.as_str()), Some(id.as_str()));
        assert_eq!(want_etag.and_then(|v| v.as_str()), Some(etag.as_str()));
    }
});
