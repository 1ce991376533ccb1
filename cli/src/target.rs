//! Where the calls go: the real service (from `AEP_*`) or, with `--demo`,
//! the built-in fake.

use aep_flow::Platform;

use crate::demo::{self, Demo};
use crate::env::{platform_from_env, Common, Failure};

/// Where the calls go; a demo's fake lives as long as this value.
pub struct Target {
    pub platform: Platform,
    pub demo: Option<Demo>,
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
            }),
            TargetKind::Demo(state) => {
                let demo = Demo::start(&self.program, &state, common)?;
                Ok(Target {
                    platform: demo.platform(),
                    demo: Some(demo),
                })
            }
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
            TargetKind::Demo(demo::state_from_env()?)
        } else {
            TargetKind::Real(platform_from_env()?)
        };
        Ok(TargetEnv {
            program: program.to_owned(),
            kind,
        })
    }

    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }
}
