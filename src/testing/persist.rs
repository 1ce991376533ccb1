//! The fake's state in a file, so that demo runs of several commands tell
//! one story (`FakeFlowServiceBuilder::state_file`).
//!
//! What is written: every store's objects (ids, etags, times, fields) and
//! the id serial. What is not: the request log, scripted replies, tokens,
//! and any credential: a connection's auth params keep only the fields that
//! are not secret (`server`, `port`, `database`, `username`, `sslMode`);
//! every other value is written as `[REDACTED]`. The file is replaced
//! atomically (a temporary file, then a rename) and, on Unix, readable by
//! its owner only.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde_json::{json, Map, Value};

use super::connections::Connection;
use super::state::State;

/// The first line of defence against reading some other JSON file.
const FORMAT: &str = "aep-flow-fake-state/1";

/// Auth params written as they are; every other one is redacted.
const NOT_SECRET_PARAMS: &[&str] = &["server", "port", "database", "username", "sslMode"];

/// A connection as written to the file: auth params redacted.
fn redacted(c: &Connection) -> Connection {
    let mut c = c.clone();
    c.params = match &c.params {
        Value::Object(params) => Value::Object(
            params
                .iter()
                .map(|(k, v)| {
                    let keep = NOT_SECRET_PARAMS.contains(&k.as_str())
                        && matches!(v, Value::String(_) | Value::Number(_) | Value::Null);
                    let v = if keep {
                        v.clone()
                    } else {
                        Value::String(crate::REDACTED.into())
                    };
                    (k.clone(), v)
                })
                .collect::<Map<String, Value>>(),
        ),
        _ => Value::String(crate::REDACTED.into()),
    };
    c
}

/// The state as the file holds it.
pub(super) fn snapshot(state: &State) -> Value {
    json!({
        "format": FORMAT,
        "serial": state.serial.current(),
        "connections": state.connections.store.snapshot(redacted),
        "sourceConnections": state.source_connections.store.snapshot(Clone::clone),
        "runs": state.runs.store.snapshot(Clone::clone),
        "targetConnections": state.target_connections.store.snapshot(Clone::clone),
        "mappingSets": state.mapping_sets.store.snapshot(Clone::clone),
        "flows": state.flows.store.snapshot(Clone::clone),
    })
}

/// Puts a snapshot's objects into `state`; a store the file does not
/// mention stays empty.
pub(super) fn restore(state: &mut State, file: &Value) -> Result<(), String> {
    if file["format"] != FORMAT {
        return Err(format!(
            "not a fake state file (no \"format\": \"{FORMAT}\")"
        ));
    }
    let serial = file["serial"]
        .as_u64()
        .filter(|n| *n <= MAX_SERIAL)
        .ok_or("\"serial\" is not a number the fake hands out")?;
    let empty = Value::Array(Vec::new());
    let part = |name: &str| file.get(name).unwrap_or(&empty);
    let named = |name: &str, r: Result<(), String>| r.map_err(|e| format!("{name}: {e}"));
    named(
        "connections",
        state.connections.store.restore(part("connections")),
    )?;
    named(
        "sourceConnections",
        state
            .source_connections
            .store
            .restore(part("sourceConnections")),
    )?;
    named("runs", state.runs.store.restore(part("runs")))?;
    named(
        "targetConnections",
        state
            .target_connections
            .store
            .restore(part("targetConnections")),
    )?;
    named(
        "mappingSets",
        state.mapping_sets.store.restore(part("mappingSets")),
    )?;
    named("flows", state.flows.store.restore(part("flows")))?;
    // New ids must not repeat restored ones, whatever "serial" says.
    let mut highest = serial;
    for store in [
        "connections",
        "sourceConnections",
        "targetConnections",
        "mappingSets",
        "flows",
        "runs",
    ] {
        for entry in part(store).as_array().into_iter().flatten() {
            for field in ["id", "etag"] {
                // Numbers beyond the cap are not the counter's (a fixed
                // fixture id, say): it never gets there.
                let n = entry["meta"][field].as_str().and_then(serial_in);
                highest = highest.max(n.filter(|n| *n <= MAX_SERIAL).unwrap_or(0));
            }
        }
    }
    state.serial.advance_to(highest);
    Ok(())
}

/// The largest serial a state file may hold (far more than any demo makes,
/// far below where the counter would overflow).
const MAX_SERIAL: u64 = 1 << 40;

/// The serial number in an id or etag the fake made, if it is one.
fn serial_in(value: &str) -> Option<u64> {
    // Ids (connections, flows, runs...), mapping set ids, and the fake's
    // etags only (a fixture's etag is another shape).
    let hex = value
        .strip_prefix("00000000-0000-4000-8000-")
        .or_else(|| value.strip_prefix("e7c80e4c0d8f4a98"))
        .or_else(|| {
            value
                .strip_prefix('"')?
                .strip_suffix("-0000-0200-0000-000000000000\"")
        })?;
    u64::from_str_radix(hex, 16).ok()
}

/// Reads the file into `state`; a missing file is an empty state.
pub(super) fn load(state: &mut State, path: &Path) -> io::Result<()> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let invalid = |detail: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is not a usable fake state file ({detail}); remove it to start over",
                path.display()
            ),
        )
    };
    let file: Value = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    restore(state, &file).map_err(invalid)
}

/// Writes the state to `path`, replacing the file atomically.
pub(super) fn save(state: &State, path: &Path) -> io::Result<()> {
    let body = serde_json::to_vec_pretty(&snapshot(state))?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = Path::new(&tmp_name);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = options.open(tmp).and_then(|mut f| {
        f.write_all(&body)?;
        f.write_all(b"\n")?;
        f.sync_all()
    });
    match result.and_then(|()| fs::rename(tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(tmp);
            Err(e)
        }
    }
}
