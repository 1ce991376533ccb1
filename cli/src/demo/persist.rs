//! The demo's state file: the fake's export (`FakeFlowService::export_state`)
//! kept between commands, read back with `FakeFlowServiceBuilder::restore_state`
//! and rewritten by the fake's `on_change` hook after every change.
//!
//! The file is replaced atomically (a temporary file, then a rename) and,
//! on Unix, readable by its owner only. Only a regular file is read.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// The largest state file read: far beyond any demo sandbox (a thousand
/// pipelines take a few megabytes), far below what would exhaust memory.
const MAX_STATE_BYTES: u64 = 256 << 20;

/// The file's text; `None` when there is no file (a fresh demo).
///
/// Only a regular file is opened, never a symbolic link: a FIFO would block the open (and the
/// command, holding the demo lock) forever, a device such as `/dev/zero`
/// would be read without end. A file beyond [`MAX_STATE_BYTES`] is
/// refused rather than read whole into memory.
pub fn load(path: &Path) -> io::Result<Option<String>> {
    let cannot = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!("cannot read the state file {}: {e}", path.display()),
        )
    };
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
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
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
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
    String::from_utf8(bytes).map(Some).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is not a usable fake state file (not UTF-8); remove it to start over",
                path.display()
            ),
        )
    })
}

/// Writes `text` (an export of the fake) to `path`, replacing the file atomically: the body
/// goes to a new temporary file next to it, which is then renamed over it.
///
/// The temporary file is created new (`O_EXCL`: an existing file, or a
/// link planted under its name, is never opened, let alone written
/// through) under a name no other user can predict, and is readable by its
/// owner only.
pub fn save(path: &Path, text: &str) -> io::Result<()> {
    let (tmp, file) = create_temporary(path)?;
    let result = write_all_synced(file, text.as_bytes());
    match result.and_then(|()| fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
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
