//! `--demo`: the built-in fake Flow Service on 127.0.0.1, its sandbox kept
//! in a state file between runs, one demo command at a time.
//!
//! This module (with `demo/`) is the only place that names the fake
//! (`aep_flow_testing`).

mod lock;
mod persist;
mod seed;

use std::env;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use aep_flow::Sandbox;
use aep_flow::{Platform, Secret};
use aep_flow_testing::FakeFlowService;
use seed::{DEMO_DATASET_ID, DEMO_SCHEMA_FIELDS};

use crate::env::{aep_vars_set, Common, Failure, Usage};
use lock::DemoLock;

/// A running demo: the fake, and the lock on its state file. When it ends
/// (the end of the command) the fake stops first and checks that the
/// state file holds every change: if the last save failed,
/// [`take_save_failure`] says so and the run becomes exit 1 naming the
/// file, whatever was printed. The lock is released after that.
pub struct Demo {
    fake: FakeFlowService,
    _lock: DemoLock,
}

/// Set when the demo's last save failed; read by [`take_save_failure`]
/// once the command is over.
static DEMO_SAVE_FAILURE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Why the demo's last save failed, if it did (taken once).
pub fn take_save_failure() -> Option<String> {
    DEMO_SAVE_FAILURE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
}

impl Drop for Demo {
    fn drop(&mut self) {
        // No request answered (or saved) after this: the last save's
        // outcome is final before the lock is released.
        self.fake.stop();
        if let Some(failure) = self.fake.last_change_error() {
            let mut slot = DEMO_SAVE_FAILURE.lock().unwrap_or_else(|e| e.into_inner());
            *slot = Some(failure);
        }
    }
}

impl Demo {
    /// Takes the demo sandbox in `state` (waiting for its lock; with
    /// `--demo-reset`, starting over) and starts the fake, seeded with the
    /// demo connection and the demo Catalog.
    pub fn start(program: &str, state: &Path, common: &Common) -> Result<Demo, Failure> {
        let lock = DemoLock::acquire(state, common.deadline)?;
        remove_leftover_temporaries(state);
        if common.demo_reset {
            match std::fs::remove_file(state) {
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
        let restored = persist::load(state).map_err(|e| cannot_start(e.to_string()))?;
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
        let save_to = state.to_path_buf();
        let fake = builder
            .on_change(move |text| {
                persist::save(&save_to, text).map_err(|e| {
                    format!("could not save the state file {}: {e}", save_to.display())
                })
            })
            .start()
            .map_err(|e| cannot_start(e.to_string()))?;
        seed::seed(&fake, fresh);
        // The file's datasets, in every sandbox a file's apply has used
        // (the state file keeps objects, not the Catalog's seed): `export`
        // and `pipeline` read them there too.
        for name in fake.sandbox_names() {
            seed::seed_sandbox(&fake, &name);
        }
        // Written once at start: a file that cannot be written is an
        // error now, not a sandbox silently lost later.
        persist::save(state, &fake.export_state()).map_err(|e| {
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
        Ok(Demo { fake, _lock: lock })
    }

    /// The platform that reaches the fake.
    pub fn platform(&self) -> Platform {
        Platform::new(
            Secret::from(self.fake.access_token()),
            self.fake.api_key(),
            Sandbox {
                org_id: self.fake.org_id(),
                name: self.fake.sandbox_name(),
            },
        )
        .with_base_url(self.fake.base_url())
    }

    /// The platform that reaches sandbox `name` of the fake (`plan`,
    /// `apply`: every sandbox of the file), seeded with the demo datasets
    /// ([`seed::DEMO_FILE_DATASETS`], ids of its own) and catalog.
    pub fn platform_for(&self, name: &str) -> Platform {
        seed::seed_sandbox(&self.fake, name);
        Platform::new(
            Secret::from(self.fake.access_token()),
            self.fake.api_key(),
            Sandbox {
                org_id: self.fake.org_id(),
                name,
            },
        )
        .with_base_url(self.fake.base_url())
    }
}

/// The demo's PostgreSQL password, used by `apply --demo` when a
/// connection's `password_env` is unset.
pub const DEMO_PASSWORD: &str = "demo-password";

/// The datasets every demo sandbox of a file holds, for `--demo`'s note.
pub fn file_datasets_note() -> String {
    format!(
        "every demo sandbox holds datasets {} (ids of its own) and the demo database's tables \
         public.orders and public.customers",
        seed::DEMO_FILE_DATASETS
            .iter()
            .map(|d| format!("{d:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// What the demo Catalog holds, for `pipeline`'s note on stderr.
pub fn catalog_note() -> String {
    format!(
        "the demo Catalog holds dataset {DEMO_DATASET_ID} (schema fields {})",
        DEMO_SCHEMA_FIELDS.join(", ")
    )
}

/// Removes the temporary files that saves killed halfway left next to the
/// state file (`STATE.tmp-` and 16 hex digits, the fake's names), which
/// would otherwise pile up, one per kill. Called with the lock held: no
/// save can be under way. Only regular files under exactly such a name
/// are removed (a link planted under one is left alone); failures are
/// ignored (another user's file in a sticky directory, say).
fn remove_leftover_temporaries(state: &Path) {
    let (Some(name), dir) = (state.file_name(), state.parent()) else {
        return;
    };
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
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
pub fn state_from_env() -> Result<PathBuf, Usage> {
    let state = state_file()?;
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
fn state_file() -> Result<PathBuf, Usage> {
    match env::var_os(DEMO_STATE_VAR) {
        Some(v) if v.is_empty() => Err(Usage(format!("{DEMO_STATE_VAR} is set but empty"))),
        Some(v) => {
            let path = PathBuf::from(v);
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
