//! Pipelines as code: the declarative file (`aep-flow.toml`), and the
//! `plan`, `apply` and `export` commands built on it.
//!
//! State lives in Adobe Experience Platform, nowhere else: the file says
//! what should exist, each command reads what does exist, live.
//!
//! This module holds the file's model: what it declares, and where each
//! key is (for errors that name the file, the line and the key).

// Filled in by the file reader (`file.rs`); used by plan/apply/export/check.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use aep_flow::{AuthSpec, Schedule, SslMode};

use crate::env::Usage;

/// The file read when `-f` is not given.
pub const DEFAULT_FILE: &str = "aep-flow.toml";

/// Where a key is in the file: its line (1-based) and its dotted path
/// (`pipelines[2].dataset`, `connections.orders-db.port`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At {
    /// 1-based line of the key (of its table when the key is absent).
    pub line: usize,
    /// The key's dotted path, with `[i]` (0-based) for array items.
    pub key: String,
}

/// The whole file, checked: every reference resolves, every value meets
/// its rule. Nothing in it is secret (passwords are named by
/// `password_env`, read from the environment when needed).
#[derive(Clone, Debug)]
pub struct Project {
    /// The file as named on the command line (or [`DEFAULT_FILE`]).
    pub file: PathBuf,
    /// `project = "..."`: the marker written into the description of
    /// every flow this file creates; `--prune` deletes only flows that
    /// carry it.
    pub project: String,
    /// `[sandboxes.NAME]`, in file order.
    pub sandboxes: Vec<SandboxDecl>,
    /// `[connections.NAME]`, in file order.
    pub connections: Vec<ConnectionDecl>,
    /// `[[pipelines]]`, in file order.
    pub pipelines: Vec<PipelineDecl>,
}

/// `[sandboxes.NAME]`.
#[derive(Clone, Debug)]
pub struct SandboxDecl {
    /// The key: the `x-sandbox-name`.
    pub name: String,
    /// The environment prefix of its credentials (`AEP_DEV`:
    /// `AEP_DEV_ACCESS_TOKEN`, or `AEP_DEV_CLIENT_ID` with
    /// `AEP_DEV_CLIENT_SECRET` and `AEP_DEV_SCOPES`; `AEP_DEV_API_KEY`,
    /// `AEP_DEV_ORG_ID`; optional `AEP_DEV_PLATFORM_URL`, `AEP_DEV_IMS_URL`).
    pub credentials: String,
    /// The `[sandboxes.NAME]` header.
    pub at: At,
}

/// `[connections.NAME]`: a PostgreSQL base connection, found by name in
/// every sandbox, created from these values when missing.
#[derive(Clone, Debug)]
pub struct ConnectionDecl {
    /// The key: the base connection's name in every sandbox.
    pub name: String,
    /// `host`.
    pub host: String,
    /// `port` (default 5432).
    pub port: u16,
    /// `database`.
    pub database: String,
    /// `user`.
    pub user: String,
    /// `password_env`: the variable holding the password (never the
    /// password itself; a `password` key is refused).
    pub password_env: String,
    /// `ssl_mode` (optional, as `PGSSLMODE`).
    pub ssl_mode: Option<SslMode>,
    /// `auth` (optional: `basic` or the default connection string).
    pub auth: Option<AuthSpec>,
    /// The `[connections.NAME]` header.
    pub at: At,
}

/// One `[[pipelines]]` item: a table into a dataset, by a scheduled flow.
#[derive(Clone, Debug)]
pub struct PipelineDecl {
    /// 0-based position among `[[pipelines]]`.
    pub index: usize,
    /// `connection`: a key of `[connections]`.
    pub connection: String,
    /// `table`: the table's path as the source explores it (`public.orders`).
    pub table: String,
    /// `dataset`: a dataset NAME, looked up in Catalog in each sandbox.
    pub dataset: String,
    /// `delta_column`.
    pub delta_column: String,
    /// `schedule = { frequency, interval, start, backfill }`.
    pub schedule: Schedule,
    /// `mappings = { column = "xdm.path", ... }`: (source column, XDM
    /// destination) in file order.
    pub mappings: Vec<(String, String)>,
    /// `enabled` (default true).
    pub enabled: bool,
    /// `sandboxes` (default: every declared sandbox).
    pub sandboxes: Option<Vec<String>>,
    /// `max_age` (for `check`; default: three schedule intervals).
    pub max_age: Option<Duration>,
    /// `max_failed_records` (for `check`; default 0).
    pub max_failed_records: u64,
    /// Line of the `[[pipelines]]` header.
    pub line: usize,
    /// Line of each key given, by key name (`dataset`, `schedule`, ...).
    pub lines: BTreeMap<String, usize>,
}

impl PipelineDecl {
    /// Where `key` of this pipeline is (its header's line when absent).
    pub fn at(&self, key: &str) -> At {
        At {
            line: self.lines.get(key).copied().unwrap_or(self.line),
            key: format!("pipelines[{}].{key}", self.index),
        }
    }

    /// Whether this pipeline is declared for `sandbox`.
    pub fn in_sandbox(&self, sandbox: &str) -> bool {
        self.sandboxes
            .as_ref()
            .is_none_or(|s| s.iter().any(|n| n == sandbox))
    }
}

impl Project {
    /// An input error at `at`: `FILE:LINE: KEY: RULE` (exit 2, nothing
    /// sent).
    pub fn error_at(&self, at: &At, rule: impl fmt::Display) -> Usage {
        Usage(format!(
            "{}:{}: {}: {rule}",
            self.shown_file(),
            at.line,
            at.key
        ))
    }

    /// The file's path as every message shows it ([`file::show_path`]:
    /// escaped when it holds control characters or bytes that are not
    /// UTF-8).
    pub fn shown_file(&self) -> String {
        file::show_path(&self.file)
    }

    /// The pipelines declared for `sandbox`, in file order.
    pub fn pipelines_in<'a>(
        &'a self,
        sandbox: &'a str,
    ) -> impl Iterator<Item = &'a PipelineDecl> + 'a {
        self.pipelines.iter().filter(move |p| p.in_sandbox(sandbox))
    }

    /// The connection named `name`.
    pub fn connection(&self, name: &str) -> Option<&ConnectionDecl> {
        self.connections.iter().find(|c| c.name == name)
    }

    /// Every client made from now on scrubs the secrets this file names
    /// from what the service answers: the connections' passwords (sent
    /// only when a connection is written, yet stored by the service, which
    /// may echo them in any answer) and each sandbox's token and client
    /// secret.
    pub fn scrub_its_secrets(&self) {
        let mut names: Vec<String> = self
            .connections
            .iter()
            .map(|c| c.password_env.clone())
            .collect();
        for s in &self.sandboxes {
            names.push(format!("{}_ACCESS_TOKEN", s.credentials));
            names.push(format!("{}_CLIENT_SECRET", s.credentials));
        }
        crate::env::scrub_values_of(names.iter().map(String::as_str));
    }
}

pub mod creds;
pub mod export;
pub mod file;

// plan / apply (C2): live state, planning, applying.
pub mod apply;
pub mod live;
pub mod plan;
