//! The list-page parser: any body. Never panics; an `Ok(n)` means the body
//! is JSON whose `items` is an array of n entries (or absent and n == 0).
#![cfg_attr(not(test), no_main)]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = aep_flow::fuzzing::list_page(data) {
        // serde_json does not check the UTF-8 (or \u escapes) of fields a
        // struct ignores, while a `Value` holds every string: when `Value`
        // refuses the body there is nothing to compare with.
        let Ok(v) = serde_json::from_slice::<Value>(data) else {
            return;
        };
        // serde's derive also accepts a struct as a JSON array ([items, _links]).
        let items = match &v {
            Value::Object(m) => m.get("items"),
            Value::Array(a) => a.first(),
            other => panic!("accepted a JSON {other:?}"),
        };
        let want = match items {
            None => 0,
            Some(Value::Array(a)) => a.len(),
            Some(other) => panic!("accepted items = {other:?}"),
        };
        assert_eq!(n, want, "item count differs from the body's");
    }
});
