//! The fake's state as JSON ([`FakeFlowService::export_state`] and
//! [`FakeFlowServiceBuilder::restore_state`]), so that several runs of a
//! tool (a CLI's demo mode) tell one story.
//!
//! What is written: every sandbox's objects (ids, etags, times, fields)
//! and the id serial. What is not: the request log, scripted replies,
//! tokens, and any credential: a connection's auth params keep only the
//! fields that are not secret (`server`, `port`, `database`, `username`,
//! `sslMode`); every other value is written as `[REDACTED]`.
//!
//! [`FakeFlowService::export_state`]: crate::FakeFlowService::export_state
//! [`FakeFlowServiceBuilder::restore_state`]: crate::FakeFlowServiceBuilder::restore_state

use serde_json::{json, Map, Value};

use crate::connections::Connection;
use crate::state::{SandboxState, State};

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
                        Value::String(crate::wire::REDACTED.into())
                    };
                    (k.clone(), v)
                })
                .collect::<Map<String, Value>>(),
        ),
        _ => Value::String(crate::wire::REDACTED.into()),
    };
    c
}

/// The state as JSON: `{"format", "serial", "sandboxes": {NAME: {...}}}`.
pub(crate) fn export(state: &State) -> Value {
    let sandboxes: Map<String, Value> = state
        .sandboxes
        .iter()
        .map(|(name, sandbox)| (name.clone(), export_sandbox(sandbox)))
        // A sandbox holding nothing is the same as one never used (a
        // request that only looked at it made it).
        .filter(|(_, objects)| {
            objects.as_object().is_some_and(|stores| {
                stores
                    .values()
                    .any(|s| s.as_array().is_some_and(|a| !a.is_empty()))
            })
        })
        .collect();
    json!({
        "format": FORMAT,
        "serial": state.serial.current(),
        "sandboxes": sandboxes,
    })
}

/// One sandbox's objects.
fn export_sandbox(state: &SandboxState) -> Value {
    json!({
        "connections": state.connections.store.snapshot(redacted),
        "sourceConnections": state.source_connections.store.snapshot(Clone::clone),
        "runs": state.runs.store.snapshot(Clone::clone),
        "targetConnections": state.target_connections.store.snapshot(Clone::clone),
        "mappingSets": state.mapping_sets.store.snapshot(Clone::clone),
        "flows": state.flows.store.snapshot(Clone::clone),
    })
}

/// Puts an [`export`]'s objects into `state`; a store the export does
/// not mention stays empty. The error names what is wrong.
pub(crate) fn restore(state: &mut State, text: &str) -> Result<(), String> {
    let file: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if file["format"] != FORMAT {
        return Err(format!(
            "not an exported fake state (no \"format\": \"{FORMAT}\")"
        ));
    }
    let serial = file["serial"]
        .as_u64()
        .filter(|n| *n <= MAX_SERIAL)
        .ok_or("\"serial\" is not a number the fake hands out")?;
    let Some(sandboxes) = file["sandboxes"].as_object() else {
        return Err("\"sandboxes\" is not an object of sandbox names".into());
    };
    let mut highest = serial;
    for (name, sandbox) in sandboxes {
        let restored = state.sandbox_mut(name);
        let n = restore_sandbox(restored, sandbox).map_err(|e| format!("sandbox {name}: {e}"))?;
        restored
            .connections
            .fixtures()
            .note_held(&restored.connections.store);
        highest = highest.max(n);
    }
    state.serial.advance_to(highest);
    Ok(())
}

/// Restores one sandbox; returns the highest serial its objects hold.
fn restore_sandbox(state: &mut SandboxState, file: &Value) -> Result<u64, String> {
    if !file.is_object() {
        return Err("not an object".into());
    }
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
    let mut highest = 0;
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
    Ok(highest)
}

/// The largest serial an export may hold (far more than any demo makes,
/// far below where the counter would overflow).
const MAX_SERIAL: u64 = 1 << 40;

/// The serial number in an id or etag the fake made, if it is one.
pub(crate) fn serial_in(value: &str) -> Option<u64> {
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
