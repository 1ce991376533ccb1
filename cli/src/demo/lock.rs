//! One demo command at a time per state file.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::DEMO_STATE_VAR;
use crate::env::Failure;

/// How long a demo command waits for another one to finish with the state
/// file (`--timeout`, when shorter, bounds it too).
const DEMO_LOCK_WAIT: Duration = Duration::from_secs(30);

/// One demo command at a time per state file: the owner holds an advisory
/// lock (`flock`) on `STATE.lock` while it runs. The kernel drops the lock
/// when its process ends, however it ends, so a killed command's lock is
/// never "stale" and nothing has to decide whether a process id is alive
/// (a container's pid 1, our own pid after a restart). The file also
/// holds the owner's process id, for messages only; it is removed when
/// the command ends.
pub(super) struct DemoLock {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl DemoLock {
    pub(super) fn acquire(
        state: &std::path::Path,
        deadline: Option<Instant>,
    ) -> Result<DemoLock, Failure> {
        let mut name = state.as_os_str().to_owned();
        name.push(".lock");
        let path = std::path::PathBuf::from(name);
        let shown = path.display().to_string();
        let give_up = {
            let wait = Instant::now() + DEMO_LOCK_WAIT;
            deadline.map_or(wait, |d| d.min(wait))
        };
        let moving = || {
            Failure(
                1,
                format!(
                    "error: the demo lock file {shown} keeps being removed or replaced; stop \
                     whatever is doing that, or point {DEMO_STATE_VAR} elsewhere"
                ),
            )
        };
        loop {
            let Some(file) = open_lock_file(&path)? else {
                // Removed or replaced under us: open again.
                if Instant::now() >= give_up {
                    return Err(moving());
                }
                // Not a spin: whatever removes it gets the processor.
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            match file.try_lock() {
                Ok(()) => {
                    // The previous owner removes the file as it ends: a lock
                    // on a file no longer at `path` locks nothing.
                    if !is_file_at(&file, &path) {
                        if Instant::now() >= give_up {
                            return Err(moving());
                        }
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    let mut file = file;
                    let _ = file.set_len(0);
                    let _ = write!(file, "{}", std::process::id());
                    return Ok(DemoLock { path, file });
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    if Instant::now() >= give_up {
                        let owner = std::fs::read_to_string(&path)
                            .ok()
                            .and_then(|t| t.trim().parse::<u32>().ok())
                            .map_or(String::new(), |pid| format!(" (process {pid})"));
                        return Err(Failure(
                            1,
                            format!(
                                "error: another demo command{owner} holds the demo lock {shown} \
                                 on {}: wait for it to end and try again, or point \
                                 {DEMO_STATE_VAR} elsewhere",
                                state.display()
                            ),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Failure(
                        1,
                        format!(
                            "error: cannot lock the demo lock file {shown}: {e}; remove it, or \
                             point {DEMO_STATE_VAR} elsewhere"
                        ),
                    ))
                }
            }
        }
    }
}

/// Opens the lock file, creating it (mode 0600) if needed. `None` when the
/// name changed between looking and opening (try again). Anything but a
/// regular file under the name (a directory, a link), or one that cannot
/// be opened (another user's), is exit 1 naming it: waiting would not help.
fn open_lock_file(path: &std::path::Path) -> Result<Option<std::fs::File>, Failure> {
    let shown = path.display();
    let cannot = |why: String| {
        Failure(
            1,
            format!(
                "error: cannot use the demo lock file {shown}: {why}; remove it if no demo \
                 command is running (or point {DEMO_STATE_VAR} elsewhere)"
            ),
        )
    };
    let mut create = std::fs::OpenOptions::new();
    // `create_new` never follows a link planted under the name.
    create.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        create.mode(0o600);
    }
    match create.open(path) {
        Ok(file) => return Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            // Nothing under the name: the directory is what is wrong
            // (missing, not writable, read-only), not a file to remove.
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.display().to_string(),
                _ => ".".to_owned(),
            };
            return Err(Failure(
                1,
                format!(
                    "error: cannot create the demo lock file {shown}: {e}; the directory {dir} \
                     must exist and be writable (or point {DEMO_STATE_VAR} elsewhere)"
                ),
            ));
        }
    }
    let seen = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e.to_string())),
    };
    let kind = seen.file_type();
    if kind.is_dir() {
        return Err(cannot("it is a directory, not a lock file".into()));
    }
    if !kind.is_file() {
        return Err(cannot("it is not a regular file (a link?)".into()));
    }
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e.to_string())),
    };
    // What was opened must be what was looked at (not a link swapped in).
    if !is_file_at(&file, path) {
        return Ok(None);
    }
    // The owner truncates the file and writes its process id: a file
    // with other names (a hard link to someone's file) must not be it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match file.metadata() {
            Ok(meta) if meta.nlink() == 1 => {}
            // Removed since it was looked at: open again.
            Ok(meta) if meta.nlink() == 0 => return Ok(None),
            Ok(_) => {
                return Err(cannot(
                    "it has other names (hard links): locking it would overwrite another file"
                        .into(),
                ))
            }
            Err(e) => return Err(cannot(e.to_string())),
        }
    }
    Ok(Some(file))
}

/// Whether `path` names `file` itself (same device and inode), not a link
/// to it or another file.
#[cfg(unix)]
fn is_file_at(file: &std::fs::File, path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => b.file_type().is_file() && a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_file_at(_: &std::fs::File, path: &std::path::Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

impl Drop for DemoLock {
    fn drop(&mut self) {
        // Removed while still locked, and only if it is still ours: a
        // command waiting on this file sees it gone and opens a new one.
        if is_file_at(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
        let _ = self.file.unlock();
    }
}
