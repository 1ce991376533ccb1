//! The Retry-After parser: any text. Never panics (no overflow in the date
//! arithmetic); delay-seconds come back exactly.
#![cfg_attr(not(test), no_main)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = aep_flow::fuzzing::retry_after(value);
    if let Ok(secs) = value.trim().parse::<u64>() {
        assert_eq!(parsed, Some(std::time::Duration::from_secs(secs)));
    }
});
