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

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own, removed on drop.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "aep-flow-persist-{tag}-{}-{}",
                std::process::id(),
                unpredictable_suffix()
            ));
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        /// The names in the directory, sorted.
        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn temporary_names_differ_and_are_not_the_process_id() {
        let names: std::collections::HashSet<String> =
            (0..1000).map(|_| unpredictable_suffix()).collect();
        assert_eq!(names.len(), 1000);
        let pid = std::process::id().to_string();
        assert!(names
            .iter()
            .all(|n| { n != &pid && n.len() == 16 && n.bytes().all(|b| b.is_ascii_hexdigit()) }));
        // What a save creates is named so, next to the state file, and
        // is new.
        let dir = Scratch::new("names");
        let state = dir.0.join("state.json");
        let (tmp, _file) = create_temporary(&state).unwrap();
        let name = tmp.file_name().unwrap().to_str().unwrap();
        let suffix = name.strip_prefix("state.json.tmp-").unwrap();
        assert_eq!(suffix.len(), 16, "{name}");
        assert_ne!(suffix, pid);
        assert_eq!(tmp.parent(), Some(dir.0.as_path()));
        assert_eq!(fs::metadata(&tmp).unwrap().len(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_or_file_under_a_temporary_name_is_never_written_through() {
        let dir = Scratch::new("link");
        let state = dir.0.join("state.json");
        let victim = dir.0.join("victim");
        fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.0.join("state.json.tmp-planted")).unwrap();
        std::os::unix::fs::symlink(dir.0.join("nowhere"), dir.0.join("state.json.tmp-dangling"))
            .unwrap();
        fs::write(dir.0.join("state.json.tmp-taken"), "someone's").unwrap();
        let suffixes = ["planted", "dangling", "taken", "free"].map(String::from);
        let (tmp, _file) = create_new_among(&state, suffixes.into_iter()).unwrap();
        assert_eq!(tmp, dir.0.join("state.json.tmp-free"));
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert!(
            !dir.0.join("nowhere").exists(),
            "a dangling link was followed"
        );
        assert_eq!(
            fs::read_to_string(dir.0.join("state.json.tmp-taken")).unwrap(),
            "someone's"
        );
        // Only taken names: an error, nothing written.
        let err = create_new_among(&state, ["planted", "taken"].map(String::from).into_iter())
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        // No more than TEMPORARY_ATTEMPTS names are tried.
        let endless = std::iter::repeat_with(|| "taken".to_owned());
        assert!(create_new_among(&state, endless).is_err());

        // A whole save: the state file appears, a regular file, mode
        // 0600; the planted links still point where they did, at
        // untouched files.
        save(&state, r#"{"saved": 1}"#).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&state).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        assert!(fs::symlink_metadata(&state).unwrap().file_type().is_file());
        assert_eq!(fs::read_to_string(&state).unwrap(), "{\"saved\": 1}\n");
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        for planted in ["state.json.tmp-planted", "state.json.tmp-dangling"] {
            assert!(fs::symlink_metadata(dir.0.join(planted))
                .unwrap()
                .file_type()
                .is_symlink());
        }
        assert!(!dir.0.join("nowhere").exists());
    }

    /// A save replaces the file (a new file renamed over it), never
    /// rewrites it in place: a reader of the old file, or another name
    /// for it, still sees the old text whole; the new file is the
    /// owner's only, whatever the old one's mode; nothing is left beside.
    #[cfg(unix)]
    #[test]
    fn a_save_replaces_the_file_atomically_with_mode_0600() {
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        let dir = Scratch::new("atomic");
        let state = dir.0.join("state.json");
        fs::write(&state, "old sandbox").unwrap();
        fs::set_permissions(&state, fs::Permissions::from_mode(0o644)).unwrap();
        let other_name = dir.0.join("other-name");
        fs::hard_link(&state, &other_name).unwrap();
        let mut reader = fs::File::open(&state).unwrap();

        save(&state, "new sandbox").unwrap();
        assert_eq!(fs::read_to_string(&state).unwrap(), "new sandbox\n");
        let mut old = String::new();
        reader.read_to_string(&mut old).unwrap();
        assert_eq!(old, "old sandbox", "rewritten in place");
        assert_eq!(fs::read_to_string(&other_name).unwrap(), "old sandbox");
        let mode = fs::metadata(&state).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        assert_eq!(dir.names(), ["other-name", "state.json"]);

        // A save that cannot be renamed into place (a directory there)
        // leaves no temporary file behind.
        let taken = dir.0.join("taken.json");
        fs::create_dir(&taken).unwrap();
        fs::write(taken.join("inside"), "x").unwrap();
        assert!(save(&taken, "lost").is_err());
        assert_eq!(dir.names(), ["other-name", "state.json", "taken.json"]);
        assert_eq!(fs::read_to_string(taken.join("inside")).unwrap(), "x");
    }

    /// What `load` reads: a missing file is none; what was saved comes
    /// back; anything but a regular file, a file over the cap, or one
    /// that is not UTF-8 is an error naming the file (without opening a
    /// FIFO).
    #[cfg(unix)]
    #[test]
    fn load_reads_only_a_regular_file_within_the_cap() {
        let dir = Scratch::new("load");
        let state = dir.0.join("state.json");
        assert_eq!(load(&state).unwrap(), None);
        save(&state, "{}").unwrap();
        assert_eq!(load(&state).unwrap().as_deref(), Some("{}\n"));

        let named = |path: &Path, what: &str| {
            let err = load(path).unwrap_err().to_string();
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains(what), "{err}");
        };
        let link = dir.0.join("link.json");
        std::os::unix::fs::symlink(&state, &link).unwrap();
        named(&link, "symbolic link");
        let sub = dir.0.join("dir.json");
        fs::create_dir(&sub).unwrap();
        named(&sub, "not a regular file (a directory)");
        let fifo = dir.0.join("fifo.json");
        if std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
        {
            // Opening it would block this test for good.
            named(&fifo, "a FIFO");
        }
        let huge = dir.0.join("huge.json");
        fs::File::create(&huge)
            .unwrap()
            .set_len(MAX_STATE_BYTES + 1)
            .unwrap();
        named(&huge, "too large");
        let garbled = dir.0.join("garbled.json");
        fs::write(&garbled, b"\xff\xfe").unwrap();
        named(&garbled, "not UTF-8");
    }
}
