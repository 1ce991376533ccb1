//! What the example CLIs share: the environment contract, demo mode, the
//! common options, output and exit codes.
//!
//! Every variable read here is either absent, or valid, or the run stops
//! with exit 2 naming it: a set value is never replaced by a default.

#![allow(dead_code)] // each example uses a different part

pub mod demo;
mod persist;

use std::env;
use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use aep_flow::{
    AuthSpec, Client, Error, ImsCredentials, Platform, PostgresConnection, Secret, SslMode,
};
use aep_flow_testing::FakeFlowService;

/// The four Platform credentials; all are needed once any `AEP_*` is set.
pub const PLATFORM_VARS: [&str; 4] = [
    "AEP_ACCESS_TOKEN",
    "AEP_API_KEY",
    "AEP_ORG_ID",
    "AEP_SANDBOX_NAME",
];
/// Flow Service base URL override (kept for compatibility).
pub const URL_VAR: &str = "AEP_FLOW_SERVICE_URL";
/// Gateway root override: Flow Service, Data Prep and Catalog below it.
pub const PLATFORM_URL_VAR: &str = "AEP_PLATFORM_URL";
/// OAuth Server-to-Server credentials, used when `AEP_ACCESS_TOKEN` is unset.
pub const IMS_VARS: [&str; 3] = ["AEP_CLIENT_ID", "AEP_CLIENT_SECRET", "AEP_SCOPES"];
/// IMS base URL override.
pub const IMS_URL_VAR: &str = "AEP_IMS_URL";
/// A PEM bundle replacing the built-in roots, as curl and OpenSSL read it.
pub const CA_VAR: &str = "SSL_CERT_FILE";

pub const COMMON_OPTIONS_HELP: &str = "common options (anywhere on the line):
  --timeout SECS  bound for the whole command, retries included (0.001 to 86400)
  --demo          run against a built-in fake Flow Service on 127.0.0.1 (no AEP_* variable may be set);
                  its objects are kept in a state file between runs (AEP_DEMO_STATE, default
                  aep-flow-demo-USER.json in the temp directory), never a credential; one demo
                  command at a time uses it (another waits up to 30 s, within --timeout)
  --demo-reset    like --demo, starting over from a fresh demo sandbox (its demo connection only)
  --help          this text
A value that starts with `--` is written --flag=VALUE.";

pub const ENVIRONMENT_HELP: &str = "environment:
  AEP_ACCESS_TOKEN, AEP_API_KEY, AEP_ORG_ID, AEP_SANDBOX_NAME  Platform credentials (all four)
  or, instead of AEP_ACCESS_TOKEN:
  AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_SCOPES                 tokens from Adobe IMS (AEP_API_KEY defaults to the client id)
  AEP_IMS_URL                                                  IMS base URL override (optional)
  AEP_PLATFORM_URL                                             gateway root override, e.g. https://platform-stage.adobe.io (optional)
  AEP_FLOW_SERVICE_URL                                         Flow Service URL override (optional; must end in
                                                               /data/foundation/flowservice; agrees with AEP_PLATFORM_URL)
  PGHOST, PGPORT (5432), PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE   the PostgreSQL database
  SSL_CERT_FILE                                                PEM bundle trusted instead of the built-in roots (optional)
  AEP_DEMO_STATE                                               the demo's state file (with --demo only)
A variable is either unset or a non-empty UTF-8 value; an empty or garbled one is
an error (exit 2), never replaced by a default. With no AEP_* variable set, the
run stops (exit 2) unless --demo is given.
exit codes: 0 ok, 1 service or network failure, 2 bad usage or input (nothing sent).";

/// A usage or input problem: exit 2, nothing sent. An empty message means
/// `--help` was asked for.
pub struct Usage(pub String);

/// How a run ends: exit code and the message for stderr (none when empty).
pub struct Failure(pub u8, pub String);

impl From<Usage> for Failure {
    fn from(u: Usage) -> Self {
        Failure(2, format!("error: {} (see --help)", u.0))
    }
}

impl From<Error> for Failure {
    /// Exit 2 when the input was refused before sending, 1 otherwise.
    fn from(e: Error) -> Self {
        let code = if e.is_invalid_input() || e.is_unsuitable() {
            2
        } else {
            1
        };
        Failure(code, format!("error: {e}"))
    }
}

/// Wipes a value that will not be used (it may be a garbled secret).
fn wipe(value: OsString) {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        use zeroize::Zeroize;
        value.into_vec().zeroize();
    }
    #[cfg(not(unix))]
    drop(value);
}

/// An environment variable: `None` when unset, its value when it is
/// non-empty UTF-8, an error naming it otherwise.
pub fn var(name: &str) -> Result<Option<String>, Usage> {
    Ok(secret_var(name)?.map(|s| s.expose_secret().to_owned()))
}

/// Like [`var`], but the value goes straight into a zeroizing [`Secret`]
/// and no part of it is ever printed.
pub fn secret_var(name: &str) -> Result<Option<Secret>, Usage> {
    let Some(value) = env::var_os(name) else {
        return Ok(None);
    };
    match value.into_string() {
        Ok(s) if s.is_empty() => Err(Usage(format!("{name} is set but empty"))),
        // Moved, not copied, into the zeroizing Secret.
        Ok(s) => Ok(Some(Secret::from(s))),
        Err(garbled) => {
            wipe(garbled);
            Err(Usage(format!("{name} is not valid UTF-8")))
        }
    }
}

/// Names of the set environment variables that start with `AEP_`.
fn aep_vars_set() -> Vec<String> {
    let mut names: Vec<String> = env::vars_os()
        .map(|(name, value)| {
            wipe(value);
            name.to_string_lossy().into_owned()
        })
        .filter(|name| name.starts_with("AEP_"))
        .collect();
    names.sort();
    names
}

/// The program's arguments (without the program name), all UTF-8.
pub fn args() -> Result<Vec<String>, Usage> {
    env::args_os()
        .skip(1)
        .enumerate()
        .map(|(i, arg)| {
            arg.into_string().map_err(|garbled| {
                wipe(garbled);
                Usage(format!("argument {} is not valid UTF-8", i + 1))
            })
        })
        .collect()
}

/// Where the calls go: the real service (from `AEP_*`) or, with `--demo`,
/// a fake on 127.0.0.1 that lives as long as this value.
pub struct Target {
    pub platform: Platform,
    pub demo: Option<DemoFake>,
    /// Held while a demo command runs (dropped after the fake).
    _demo_lock: Option<DemoLock>,
}

/// The demo's fake. When it stops (the end of the command) it checks that
/// the state file holds every change: if the last save failed, [`finish`]
/// turns the run into exit 1 naming the file, whatever was printed.
pub struct DemoFake(FakeFlowService);

/// Set when the demo's last save failed; read by [`finish`]. (The fake is
/// dropped inside each example's `run`, before `finish` sees the result.)
static DEMO_SAVE_FAILURE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

impl std::ops::Deref for DemoFake {
    type Target = FakeFlowService;
    fn deref(&self) -> &FakeFlowService {
        &self.0
    }
}

impl Drop for DemoFake {
    fn drop(&mut self) {
        // No request answered (or saved) after this: the last save's
        // outcome is final before the lock is released.
        self.0.stop();
        if let Some(failure) = self.0.last_change_error() {
            let mut slot = DEMO_SAVE_FAILURE.lock().unwrap_or_else(|e| e.into_inner());
            *slot = Some(failure);
        }
    }
}

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
struct DemoLock {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl DemoLock {
    fn acquire(
        state: &std::path::Path,
        deadline: Option<std::time::Instant>,
    ) -> Result<DemoLock, Failure> {
        let mut name = state.as_os_str().to_owned();
        name.push(".lock");
        let path = std::path::PathBuf::from(name);
        let shown = path.display().to_string();
        let give_up = {
            let wait = std::time::Instant::now() + DEMO_LOCK_WAIT;
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
                if std::time::Instant::now() >= give_up {
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
                        if std::time::Instant::now() >= give_up {
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
                    if std::time::Instant::now() >= give_up {
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

/// Where the calls will go, checked but not started: the environment
/// has been read and refused or accepted, nothing has been touched yet
/// (the demo's lock and state file included). [`TargetEnv::start`] takes
/// it from there, once the command's other input has been checked too.
pub struct TargetEnv {
    program: String,
    kind: TargetKind,
}

enum TargetKind {
    Real(Platform),
    Demo(std::path::PathBuf),
}

impl TargetEnv {
    pub fn is_demo(&self) -> bool {
        matches!(self.kind, TargetKind::Demo(_))
    }

    /// Takes the demo sandbox (waiting for its lock) and starts the fake;
    /// for the real service, only hands the platform on.
    pub fn start(self, common: &Common) -> Result<Target, Failure> {
        match self.kind {
            TargetKind::Real(platform) => Ok(Target {
                platform,
                demo: None,
                _demo_lock: None,
            }),
            TargetKind::Demo(state) => Target::start_demo(&self.program, &state, common),
        }
    }
}

impl Target {
    pub fn from_env(program: &str, common: &Common) -> Result<Target, Failure> {
        Target::check_env(program, common)?.start(common)
    }

    /// Reads and checks the environment (the platform's variables, or the
    /// demo's), touching nothing.
    pub fn check_env(program: &str, common: &Common) -> Result<TargetEnv, Failure> {
        let kind = if common.demo {
            TargetKind::Demo(demo_env()?)
        } else {
            TargetKind::Real(platform_from_env()?)
        };
        Ok(TargetEnv {
            program: program.to_owned(),
            kind,
        })
    }

    fn start_demo(
        program: &str,
        state: &std::path::Path,
        common: &Common,
    ) -> Result<Target, Failure> {
        let state = state.to_path_buf();
        let lock = DemoLock::acquire(&state, common.deadline)?;
        remove_leftover_temporaries(&state);
        if common.demo_reset {
            match std::fs::remove_file(&state) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Failure(
                        1,
                        format!(
                            "error: --demo-reset: could not remove {}: {e}",
                            state.display()
                        ),
                    ))
                }
            }
        }
        let cannot_start =
            |e: String| Failure(1, format!("error: could not start the demo fake: {e}"));
        let restored = persist::load(&state).map_err(|e| cannot_start(e.to_string()))?;
        // Fresh: no state file yet, or one where nothing was ever made.
        let fresh = restored.as_deref().is_none_or(|text| {
            serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v["serial"] == 0)
        });
        let mut builder = FakeFlowService::builder().demo_catalog();
        if let Some(text) = &restored {
            builder = builder.restore_state(text).map_err(|e| {
                cannot_start(format!(
                    "{} is not a usable fake state file ({e}); remove it to start over",
                    state.display()
                ))
            })?;
        }
        let save_to = state.clone();
        let fake = builder
            .on_change(move |text| {
                persist::save(&save_to, text).map_err(|e| {
                    format!("could not save the state file {}: {e}", save_to.display())
                })
            })
            .start()
            .map_err(|e| cannot_start(e.to_string()))?;
        demo::seed(&fake, fresh);
        // Written once at start: a file that cannot be written is an
        // error now, not a sandbox silently lost later.
        persist::save(&state, &fake.export_state()).map_err(|e| {
            cannot_start(format!(
                "cannot write the state file {}: {e}",
                state.display()
            ))
        })?;
        let _ = writeln!(
            io::stderr(),
            "note: {program}: --demo: using the built-in fake Flow Service at {} \
             (nothing leaves this machine)",
            fake.base_url()
        );
        Ok(Target {
            platform: Platform::new(
                Secret::from(fake.access_token()),
                fake.api_key(),
                fake.org_id(),
                fake.sandbox_name(),
            )
            .with_base_url(fake.base_url()),
            demo: Some(DemoFake(fake)),
            _demo_lock: Some(lock),
        })
    }

    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }
}

/// Removes the temporary files that saves killed halfway left next to the
/// state file (`STATE.tmp-` and 16 hex digits, the fake's names), which
/// would otherwise pile up, one per kill. Called with the lock held: no
/// save can be under way. Only regular files under exactly such a name
/// are removed (a link planted under one is left alone); failures are
/// ignored (another user's file in a sticky directory, say).
fn remove_leftover_temporaries(state: &std::path::Path) {
    let (Some(name), dir) = (state.file_name(), state.parent()) else {
        return;
    };
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut prefix = name.to_owned();
    prefix.push(".tmp-");
    let Some(prefix) = prefix.to_str().map(str::to_owned) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let is_ours = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .is_some_and(|s| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()));
        if is_ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The demo's state file, once no `AEP_*` variable makes `--demo`
/// ambiguous.
fn demo_env() -> Result<std::path::PathBuf, Usage> {
    let state = demo_state_file()?;
    let set: Vec<String> = aep_vars_set()
        .into_iter()
        .filter(|name| name != DEMO_STATE_VAR)
        .collect();
    if !set.is_empty() {
        return Err(Usage(format!(
            "--demo is ambiguous with {} set: unset {} for the demo, or drop --demo to use {}",
            set.join(", "),
            if set.len() == 1 { "it" } else { "them" },
            if set.len() == 1 { "it" } else { "them" },
        )));
    }
    Ok(state)
}

/// Where the demo keeps its sandbox between runs.
pub const DEMO_STATE_VAR: &str = "AEP_DEMO_STATE";

/// `AEP_DEMO_STATE`, or `aep-flow-demo-USER.json` in the temp directory.
/// Set but empty is an error, never the default.
fn demo_state_file() -> Result<std::path::PathBuf, Usage> {
    match env::var_os(DEMO_STATE_VAR) {
        Some(v) if v.is_empty() => Err(Usage(format!("{DEMO_STATE_VAR} is set but empty"))),
        Some(v) => {
            let path = std::path::PathBuf::from(v);
            if path.is_dir() {
                return Err(Usage(format!(
                    "{DEMO_STATE_VAR} names a directory; it must name a file"
                )));
            }
            Ok(path)
        }
        None => {
            let user: String = env::var("USER")
                .or_else(|_| env::var("LOGNAME"))
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .take(32)
                .collect();
            let name = if user.is_empty() {
                "aep-flow-demo.json".to_owned()
            } else {
                format!("aep-flow-demo-{user}.json")
            };
            Ok(env::temp_dir().join(name))
        }
    }
}

/// `AEP_ACCESS_TOKEN` wins; without it the IMS variables are used.
fn platform_from_env() -> Result<Platform, Usage> {
    // Every variable is checked, used or not: a garbled one is a broken
    // environment.
    let token = secret_var("AEP_ACCESS_TOKEN")?;
    let api_key = var("AEP_API_KEY")?;
    let org = var("AEP_ORG_ID")?;
    let sandbox = var("AEP_SANDBOX_NAME")?;
    let client_id = var("AEP_CLIENT_ID")?;
    let client_secret = secret_var("AEP_CLIENT_SECRET")?;
    let scopes = var("AEP_SCOPES")?;
    let ims_url = var(IMS_URL_VAR)?;
    let base_url = var(URL_VAR)?;
    let platform_url = var(PLATFORM_URL_VAR)?;
    let root = gateway_root(base_url.as_deref(), platform_url.as_deref())?;

    let any_ims =
        client_id.is_some() || client_secret.is_some() || scopes.is_some() || ims_url.is_some();
    let any = token.is_some()
        || api_key.is_some()
        || org.is_some()
        || sandbox.is_some()
        || root.is_some()
        || any_ims;
    if !any {
        return Err(Usage(
            "no Platform credentials in the environment: set AEP_ACCESS_TOKEN (or AEP_CLIENT_ID, AEP_CLIENT_SECRET \
             and AEP_SCOPES), AEP_API_KEY, AEP_ORG_ID and AEP_SANDBOX_NAME, or pass --demo to run \
             against the built-in fake Flow Service"
                .into(),
        ));
    }
    let ims_mode = token.is_none() && any_ims;
    let required: Vec<(&str, bool)> = if ims_mode {
        vec![
            ("AEP_CLIENT_ID", client_id.is_some()),
            ("AEP_CLIENT_SECRET", client_secret.is_some()),
            ("AEP_SCOPES", scopes.is_some()),
            ("AEP_ORG_ID", org.is_some()),
            ("AEP_SANDBOX_NAME", sandbox.is_some()),
        ]
    } else {
        vec![
            ("AEP_ACCESS_TOKEN", token.is_some()),
            ("AEP_API_KEY", api_key.is_some()),
            ("AEP_ORG_ID", org.is_some()),
            ("AEP_SANDBOX_NAME", sandbox.is_some()),
        ]
    };
    let missing: Vec<&str> = required
        .into_iter()
        .filter_map(|(name, set)| (!set).then_some(name))
        .collect();
    if !missing.is_empty() {
        let needed = if ims_mode {
            "AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_SCOPES, AEP_ORG_ID and AEP_SANDBOX_NAME are needed for IMS tokens"
        } else {
            "AEP_ACCESS_TOKEN (or AEP_CLIENT_ID, AEP_CLIENT_SECRET and AEP_SCOPES), AEP_API_KEY, AEP_ORG_ID and AEP_SANDBOX_NAME are needed once any AEP_* variable is set"
        };
        return Err(Usage(format!(
            "missing Platform credentials: set {} ({needed})",
            missing.join(", ")
        )));
    }
    let org = org.unwrap_or_default();
    let sandbox = sandbox.unwrap_or_default();
    let mut platform = match (token, client_secret) {
        (Some(token), _) => Platform::new(token, api_key.unwrap_or_default(), org, sandbox),
        (None, secret) => {
            let secret = secret.unwrap_or_else(|| Secret::from(String::new()));
            let mut ims = ImsCredentials::new(
                client_id.unwrap_or_default(),
                secret,
                scopes.unwrap_or_default(),
            );
            if let Some(url) = ims_url {
                ims = ims.with_ims_url(url);
            }
            let mut platform = Platform::from_ims(ims, org, sandbox);
            if let Some(key) = api_key {
                platform = platform.with_api_key(key);
            }
            platform
        }
    };
    if let Some(url) = root {
        platform = platform.with_platform_url(url);
    }
    Ok(platform)
}

/// The gateway root from `AEP_PLATFORM_URL`, or from an
/// `AEP_FLOW_SERVICE_URL` ending in the Flow Service path (what precedes
/// the suffix). Anything else, or the two disagreeing, is exit 2.
fn gateway_root(flow: Option<&str>, root: Option<&str>) -> Result<Option<String>, Usage> {
    const SUFFIX: &str = aep_flow::FLOW_SERVICE_PATH;
    let from_flow = match flow {
        None => None,
        Some(url) => match url.trim_end_matches('/').strip_suffix(SUFFIX) {
            Some(r) if !r.is_empty() => Some(r.to_owned()),
            _ => {
                return Err(Usage(format!(
                    "{URL_VAR} must end in {SUFFIX}; for a gateway root (Flow Service, Data Prep \
                     and Catalog below it) set {PLATFORM_URL_VAR} instead"
                )))
            }
        },
    };
    match (from_flow, root) {
        (Some(a), Some(b)) if a != b.trim_end_matches('/') => Err(Usage(format!(
            "{URL_VAR} and {PLATFORM_URL_VAR} disagree: {URL_VAR} must be {PLATFORM_URL_VAR} \
             followed by {SUFFIX}; set only one of them"
        ))),
        (Some(a), _) => Ok(Some(a)),
        (None, Some(b)) => Ok(Some(b.to_owned())),
        (None, None) => Ok(None),
    }
}

/// The PostgreSQL connection from libpq's variables. In demo mode missing
/// values get demo values; a set value is always used (or refused).
pub fn postgres_from_env(
    name: &str,
    description: Option<&str>,
    auth: AuthSpec,
    demo: bool,
) -> Result<PostgresConnection, Usage> {
    let pick = |name: &str, demo_value: &str| -> Result<Option<String>, Usage> {
        Ok(var(name)?.or_else(|| demo.then(|| demo_value.to_owned())))
    };
    let host = pick("PGHOST", "postgres.demo.internal")?;
    let port = var("PGPORT")?;
    let database = pick("PGDATABASE", "demo")?;
    let user = pick("PGUSER", "demo_reader")?;
    let password = secret_var("PGPASSWORD")?
        .or_else(|| demo.then(|| Secret::from(String::from("demo-password"))));
    let ssl_mode = var("PGSSLMODE")?;
    let missing: Vec<&str> = [
        ("PGHOST", host.is_none()),
        ("PGDATABASE", database.is_none()),
        ("PGUSER", user.is_none()),
        ("PGPASSWORD", password.is_none()),
    ]
    .into_iter()
    .filter_map(|(n, m)| m.then_some(n))
    .collect();
    if !missing.is_empty() {
        return Err(Usage(format!(
            "missing PostgreSQL settings: set {}",
            missing.join(", ")
        )));
    }
    let port = match port {
        None => aep_flow::DEFAULT_PORT,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| {
            Usage(format!(
                "PGPORT must be a port number 1-65535, not `{}`",
                p.escape_debug()
            ))
        })?,
    };
    let mut conn = PostgresConnection::new(
        name,
        host.unwrap_or_default(),
        database.unwrap_or_default(),
        user.unwrap_or_default(),
        password.unwrap_or_else(|| Secret::from(String::new())),
    )
    .with_port(port)
    .with_auth_spec(auth);
    if let Some(mode) = ssl_mode {
        let mode: SslMode = mode.parse().map_err(|_| {
            Usage(format!(
                "PGSSLMODE must be one of disable, allow, prefer, require, verify-ca, verify-full, not `{}`",
                mode.escape_debug()
            ))
        })?;
        conn = conn.with_ssl_mode(mode);
    }
    if let Some(d) = description {
        conn = conn.with_description(d);
    }
    Ok(conn)
}

/// Splits `--flag=value` and `--flag value` forms; reads the value of the
/// flag just seen; refuses a flag given twice.
pub struct Flags {
    args: std::vec::IntoIter<String>,
    inline: Option<String>,
    seen: Vec<String>,
}

impl Flags {
    pub fn new(args: Vec<String>) -> Self {
        Flags {
            args: args.into_iter(),
            inline: None,
            seen: Vec::new(),
        }
    }

    /// The next flag or positional argument.
    pub fn next_arg(&mut self) -> Option<String> {
        let arg = self.args.next()?;
        match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => {
                self.inline = Some(v.to_owned());
                Some(f.to_owned())
            }
            _ => {
                self.inline = None;
                Some(arg)
            }
        }
    }

    fn once(&mut self, flag: &str) -> Result<(), Usage> {
        if self.seen.iter().any(|f| f == flag) {
            return Err(Usage(format!("{flag} is given more than once")));
        }
        self.seen.push(flag.to_owned());
        Ok(())
    }

    /// The value for `flag`. A following argument that looks like a flag
    /// is not taken as the value (write `--flag=--value` for that).
    pub fn value(&mut self, flag: &str) -> Result<String, Usage> {
        self.once(flag)?;
        if let Some(v) = self.inline.take() {
            return Ok(v);
        }
        match self.args.next() {
            Some(v) if !v.starts_with("--") => Ok(v),
            _ => Err(Usage(format!("{flag} needs a value"))),
        }
    }

    /// The value for a flag that may be given several times (`--map`).
    pub fn repeated_value(&mut self, flag: &str) -> Result<String, Usage> {
        if let Some(v) = self.inline.take() {
            return Ok(v);
        }
        match self.args.next() {
            Some(v) if !v.starts_with("--") => Ok(v),
            _ => Err(Usage(format!("{flag} needs a value"))),
        }
    }

    /// A flag that takes no value.
    pub fn switch(&mut self, flag: &str) -> Result<(), Usage> {
        self.once(flag)?;
        match self.inline.take() {
            Some(_) => Err(Usage(format!("{flag} takes no value"))),
            None => Ok(()),
        }
    }
}

/// The options every CLI takes.
#[derive(Default)]
pub struct Common {
    pub timeout: Option<Duration>,
    /// When `--timeout` runs out, counted from when the option was read
    /// (the start of the command): the demo lock's wait counts too.
    pub deadline: Option<std::time::Instant>,
    pub demo: bool,
    pub demo_reset: bool,
}

impl Common {
    /// Takes `flag` (and its value) if it is a common option; `false` when
    /// it is not one.
    pub fn take(&mut self, flag: &str, flags: &mut Flags) -> Result<bool, Usage> {
        match flag {
            "--timeout" => {
                let t = parse_timeout(&flags.value(flag)?)?;
                self.timeout = Some(t);
                self.deadline = Some(std::time::Instant::now() + t);
            }
            "--demo" => {
                flags.switch(flag)?;
                self.demo = true;
            }
            "--demo-reset" => {
                flags.switch(flag)?;
                self.demo = true;
                self.demo_reset = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The client for `platform`: `--timeout` is the client's deadline,
    /// the bound for the whole command (every request, retries and token
    /// requests included); `SSL_CERT_FILE` replaces the built-in roots.
    pub fn client(&self, platform: Platform) -> Result<Client, Failure> {
        let mut builder = Client::builder(platform);
        if let Some(t) = self.timeout {
            builder = builder
                .with_timeout(t)
                .with_connect_timeout(t)
                .with_retry_budget(t)
                .with_deadline(
                    self.deadline
                        .unwrap_or_else(|| std::time::Instant::now() + t),
                );
        }
        let ca = ca_bundle()?;
        if let Some((_, pem)) = &ca {
            builder = builder.with_root_certificates_pem(pem.clone());
        }
        builder.build().map_err(|e| match (&e, &ca) {
            (Error::InvalidInput { field, rule }, Some((path, _)))
                if field == "tls.root_certificates" =>
            {
                Usage(format!("{CA_VAR} ({path}) {rule}")).into()
            }
            _ => e.into(),
        })
    }
}

/// The path in `SSL_CERT_FILE` and the bundle it names, if set.
fn ca_bundle() -> Result<Option<(String, Vec<u8>)>, Usage> {
    let Some(path) = var(CA_VAR)? else {
        return Ok(None);
    };
    let shown = path.escape_debug().to_string();
    let pem = std::fs::read(&path)
        .map_err(|e| Usage(format!("{CA_VAR} ({shown}) cannot be read: {e}")))?;
    if pem.is_empty() {
        return Err(Usage(format!("{CA_VAR} ({shown}) is an empty file")));
    }
    Ok(Some((shown, pem)))
}

pub fn parse_auth(value: &str) -> Result<AuthSpec, Usage> {
    value
        .parse()
        .map_err(|_| Usage("--auth must be `connection-string` or `basic`".into()))
}

/// Seconds, at least a millisecond and at most a day.
pub fn parse_timeout(value: &str) -> Result<Duration, Usage> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.001..=86_400.0).contains(s))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            Usage(format!(
                "--timeout must be a number of seconds from 0.001 to 86400, not `{}`",
                value.escape_debug()
            ))
        })
}

/// Standard output, written line by line. A reader that went away (EPIPE,
/// as in `| head -1`) is exit 1: what the command printed did not all
/// arrive, and a script must not take it for a whole answer.
pub struct Output(io::StdoutLock<'static>);

impl Output {
    pub fn new() -> Self {
        Output(io::stdout().lock())
    }

    pub fn line(&mut self, line: &str) -> Result<(), Failure> {
        writeln!(self.0, "{line}").map_err(write_failure)
    }

    fn flush(&mut self) -> Result<(), Failure> {
        self.0.flush().map_err(write_failure)
    }
}

fn write_failure(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure(
            1,
            "error: standard output was closed (its reader went away) before the output was \
             written"
                .into(),
        )
    } else {
        Failure(1, format!("error: could not write the output: {e}"))
    }
}

/// Turns the outcome into the process's exit code, the message (if any)
/// on stderr. A demo whose state file could not be saved is exit 1 (its
/// changes are lost), even when the command itself succeeded.
pub fn finish(result: Result<(), Failure>, mut out: Output) -> ExitCode {
    let result = result.and_then(|()| out.flush());
    let save_failure = DEMO_SAVE_FAILURE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let result = match (result, save_failure) {
        (result, None) => result,
        (result, Some(failure)) => {
            let lost = format!(
                "error: --demo: {failure}; what this command changed is lost (the next demo \
                 command will not see it): free some space or fix the file's permissions, or \
                 point {DEMO_STATE_VAR} elsewhere, and run it again"
            );
            match result {
                Ok(()) => Err(Failure(1, lost)),
                Err(Failure(code, m)) if m.is_empty() => Err(Failure(code.max(1), lost)),
                Err(Failure(code, m)) => Err(Failure(code.max(1), format!("{m}\n{lost}"))),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, message)) => {
            let _ = out.flush();
            if !message.is_empty() {
                let _ = writeln!(io::stderr(), "{message}");
            }
            ExitCode::from(code)
        }
    }
}
