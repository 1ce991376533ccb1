//! TEMPORARY stand-ins for what other branches bring (C1: `creds`,
//! `file::load`; B: Catalog listing). Removed when they are merged.

use std::path::Path;

use aep_flow::{Client, Error, Platform, Sandbox, Secret};

use super::live::DatasetEntry;
use super::{ConnectionDecl, Project, SandboxDecl};
use crate::env::{secret_var, var, Usage};

/// Stand-in for `creds::platform_for` (access token only).
pub fn platform_for(sandbox: &SandboxDecl, _project: &Project) -> Result<Platform, Usage> {
    let p = &sandbox.credentials;
    let need =
        |n: &str| var(&format!("{p}_{n}"))?.ok_or_else(|| Usage(format!("{p}_{n} is not set")));
    let token = secret_var(&format!("{p}_ACCESS_TOKEN"))?
        .ok_or_else(|| Usage(format!("{p}_ACCESS_TOKEN is not set")))?;
    let mut platform = Platform::new(
        token,
        need("API_KEY")?,
        Sandbox {
            org_id: &need("ORG_ID")?,
            name: &sandbox.name,
        },
    );
    if let Some(url) = var(&format!("{p}_PLATFORM_URL"))? {
        platform = platform.with_platform_url(url);
    }
    Ok(platform)
}

/// Stand-in for `creds::password_for`.
pub fn password_for(conn: &ConnectionDecl, _project: &Project) -> Result<Secret, Usage> {
    secret_var(&conn.password_env)?
        .ok_or_else(|| Usage(format!("{} is not set", conn.password_env)))
}

/// Stand-in for `file::load`.
pub fn load(path: &Path) -> Result<Project, Usage> {
    Err(Usage(format!(
        "{}: the file reader is not merged yet",
        path.display()
    )))
}

/// Stand-in for `Client::list_datasets`.
pub fn list_datasets(_client: &Client) -> Result<Vec<DatasetEntry>, Error> {
    Err(Error::Unsuitable {
        field: "dataset".into(),
        rule: "dataset listing is not merged yet".into(),
    })
}
