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

/// The largest state file read: far beyond any demo sandbox (a thousand
/// pipelines take a few megabytes), far below what would exhaust memory.
const MAX_STATE_BYTES: u64 = 256 << 20;

/// Reads the file into `state`; a missing file is an empty state.
///
/// Only a regular file is opened, never a symbolic link: a FIFO would block the open (and the
/// command, holding the demo lock) forever, a device such as `/dev/zero`
/// would be read without end. A file beyond [`MAX_STATE_BYTES`] is
/// refused rather than read whole into memory.
pub(super) fn load(state: &mut State, path: &Path) -> io::Result<()> {
    let cannot = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!("cannot read the state file {}: {e}", path.display()),
        )
    };
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(cannot(e)),
    };
    if meta.file_type().is_symlink() {
        // Read through the link, then replaced by the atomic rename: the
        // file linked to would silently stop receiving the sandbox.
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the state file {} is a symbolic link, and the fake replaces its state file \
                 (which would replace the link, not the file it names): name that file itself",
                path.display()
            ),
        ));
    }
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the state file {} is not a regular file ({}); remove it, or name another file",
                path.display(),
                if meta.is_dir() {
                    "a directory"
                } else {
                    "a FIFO, a socket or a device"
                }
            ),
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the state file {} is too large for a fake state file (over {} MiB); remove it \
                 to start over",
                path.display(),
                MAX_STATE_BYTES >> 20
            ),
        )
    };
    if meta.len() > MAX_STATE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    {
        use std::io::Read;
        let file = match fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(cannot(e)),
        };
        // Bounded even if the file grows (or was swapped) since it was
        // looked at.
        file.take(MAX_STATE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
    }
    if bytes.len() as u64 > MAX_STATE_BYTES {
        return Err(too_large());
    }
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

/// Writes the state to `path`, replacing the file atomically: the body
/// goes to a new temporary file next to it, which is then renamed over it.
///
/// The temporary file is created new (`O_EXCL`: an existing file, or a
/// link planted under its name, is never opened, let alone written
/// through) under a name no other user can predict, and is readable by its
/// owner only.
pub(super) fn save(state: &State, path: &Path) -> io::Result<()> {
    let body = serde_json::to_vec_pretty(&snapshot(state))?;
    let (tmp, file) = create_temporary(path)?;
    let result = write_all_synced(file, &body);
    match result.and_then(|()| fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Saves after a request that may have changed the state, and remembers
/// whether it failed: the command that made the change must not report a
/// success the next one will not see ([`FakeFlowService::state_file_error`]).
///
/// [`FakeFlowService::state_file_error`]: super::FakeFlowService::state_file_error
pub(super) fn save_after_change(state: &mut State, path: &Path) {
    state.save_failure = save(state, path)
        .err()
        .map(|e| format!("could not save the state file {}: {e}", path.display()));
}

fn write_all_synced(mut file: fs::File, body: &[u8]) -> io::Result<()> {
    file.write_all(body)?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// How many fresh names [`create_temporary`] tries before it gives up (a
/// clash of 64-bit random names means someone is planting files).
const TEMPORARY_ATTEMPTS: usize = 16;

/// Creates `PATH.tmp-RANDOM`, new, mode 0600 on Unix.
fn create_temporary(path: &Path) -> io::Result<(std::path::PathBuf, fs::File)> {
    create_new_among(path, std::iter::repeat_with(unpredictable_suffix))
}

/// Creates the first of `PATH.tmp-SUFFIX` that does not exist yet, trying
/// at most [`TEMPORARY_ATTEMPTS`] suffixes.
fn create_new_among(
    path: &Path,
    suffixes: impl Iterator<Item = String>,
) -> io::Result<(std::path::PathBuf, fs::File)> {
    let mut options = fs::OpenOptions::new();
    // `create_new` is `O_CREAT | O_EXCL`: it fails on any existing name,
    // a symbolic link included, so nothing is ever written through one.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    for suffix in suffixes.take(TEMPORARY_ATTEMPTS) {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".tmp-{suffix}"));
        let tmp = std::path::PathBuf::from(name);
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{} temporary names next to {} were all taken",
            TEMPORARY_ATTEMPTS,
            path.display()
        ),
    ))
}

/// 64 bits no other user can guess: std's `RandomState` is keyed from the
/// operating system's random source; the time, the process id, a counter
/// and an address are mixed in so that two calls never hash the same input.
fn unpredictable_suffix() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    hasher.write_usize(std::ptr::addr_of!(CALLS) as usize);
    hasher.write_usize(&nanos as *const u128 as usize);
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "aep-flow-persist-{tag}-{}-{}",
            std::process::id(),
            unpredictable_suffix()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn temporary_names_differ_and_are_not_the_process_id() {
        let names: std::collections::HashSet<String> =
            (0..1000).map(|_| unpredictable_suffix()).collect();
        assert_eq!(names.len(), 1000);
        let pid = std::process::id().to_string();
        assert!(names.iter().all(|n| n != &pid && n.len() == 16));
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_or_file_under_a_temporary_name_is_never_written_through() {
        let dir = scratch("link");
        let state = dir.join("state.json");
        let victim = dir.join("victim");
        fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("state.json.tmp-planted")).unwrap();
        std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("state.json.tmp-dangling"))
            .unwrap();
        fs::write(dir.join("state.json.tmp-taken"), "someone's").unwrap();
        let suffixes = ["planted", "dangling", "taken", "free"].map(String::from);
        let (tmp, _file) = create_new_among(&state, suffixes.into_iter()).unwrap();
        assert_eq!(tmp, dir.join("state.json.tmp-free"));
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert!(
            !dir.join("nowhere").exists(),
            "a dangling link was followed"
        );
        assert_eq!(
            fs::read_to_string(dir.join("state.json.tmp-taken")).unwrap(),
            "someone's"
        );
        // Only taken names: an error, nothing written.
        let err = create_new_among(&state, ["planted", "taken"].map(String::from).into_iter())
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");

        // A whole save: the state file appears, mode 0600; the planted
        // links still point where they did, at untouched files.
        save(&State::default(), &state).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&state).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
        assert!(fs::symlink_metadata(&state).unwrap().file_type().is_file());
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        let _ = fs::remove_dir_all(&dir);
    }
}
