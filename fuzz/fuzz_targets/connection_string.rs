//! The connection-string builder. Input: server, database, username and
//! password separated by 0xFF bytes (never valid in UTF-8; each part is read
//! lossily, so other invalid bytes become U+FFFD).
//!
//! Checks: `None` exactly when a value is empty or holds a control character;
//! otherwise `fuzzing::parse_connection_string` gives back Server, Database, Port
//! (5432), UID and Password with the very values that went in.
#![cfg_attr(not(test), no_main)]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |&b| b == 0xFF).map(String::from_utf8_lossy);
    let mut next = || parts.next().unwrap_or_default();
    let (server, database, username, password) = (next(), next(), next(), next());
    let values = [&*server, &*database, &*username, &*password];

    let built = aep_flow::fuzzing::connection_string(&server, &database, &username, &password);
    let refuse = values
        .iter()
        .any(|v| v.is_empty() || v.chars().any(char::is_control));
    let Some(s) = built else {
        assert!(refuse, "refused valid values {values:?}");
        return;
    };
    assert!(!refuse, "accepted {values:?} as {s:?}");

    // Both come back in zeroizing buffers (they hold the password).
    let pairs = aep_flow::fuzzing::parse_connection_string(&s)
        .unwrap_or_else(|| panic!("built {s:?} from {values:?}, which does not parse"));
    let want = [
        ("Server", &*server),
        ("Database", &*database),
        ("Port", "5432"),
        ("UID", &*username),
        ("Password", &*password),
    ];
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert!(pairs.len() >= want.len(), "{s:?} gave the keys {keys:?}");
    for ((key, value), (want_key, want_value)) in pairs.iter().zip(want) {
        assert_eq!(key, want_key, "{s:?} from {values:?}");
        assert_eq!(value.as_str(), want_value, "{s:?} from {values:?}");
    }
    assert_eq!(
        pairs.len(),
        want.len(),
        "extra pairs in {s:?} (no SSL mode set)"
    );
});
