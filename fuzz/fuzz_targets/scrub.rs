//! The scrubber's rule (`src/scrub.rs`): a secret spelled in one of the
//! encodings the crate knows (raw, case-changed, JSON once/twice, percent,
//! form, HTML entities, ODBC, base64 standard/URL-safe of the raw or JSON
//! form, split across two fields), embedded in arbitrary text, leaves no run
//! of 6 of its spelling's characters (a shorter secret: no whole spelling)
//! in the scrubbed text. Never panics otherwise.
//!
//! Input: byte 0 picks the spelling, byte 1 the split point, byte 2 the
//! secret's length (1 to 40), that many bytes its characters, then the text
//! before and after it (separated by the first `0xFF`).
//!
//! Needs `aep_flow::fuzzing::scrub` (see fuzz/README.md).
#![cfg_attr(not(test), no_main)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(leak) = aep_flow::fuzzing::scrub(data) {
        panic!("{leak}");
    }
});
