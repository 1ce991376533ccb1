//! Per-sandbox credentials: the environment contract of the plain
//! `AEP_*` variables under the prefix a `[sandboxes.NAME]` declares
//! (`credentials = "AEP_PROD"`: `AEP_PROD_ACCESS_TOKEN`, ...), with the
//! sandbox's name from the file, and the database passwords named by
//! `password_env`.

use aep_flow::{Platform, Secret};

use super::{At, ConnectionDecl, Project, SandboxDecl};
use crate::env::{platform_from_prefix, secret_var, CredsError, SandboxFrom, Usage};

/// The platform for `sandbox`: `P_ACCESS_TOKEN`, or `P_CLIENT_ID`,
/// `P_CLIENT_SECRET` and `P_SCOPES` (tokens from IMS; `P_API_KEY`
/// defaults to the client id); `P_API_KEY`, `P_ORG_ID`; optional
/// `P_PLATFORM_URL` (or `P_FLOW_SERVICE_URL`), `P_IMS_URL`. The sandbox
/// name is the file's; `P_SANDBOX_NAME` naming another is refused. Errors
/// name the variable, the sandbox and the file's line.
pub fn platform_for(sandbox: &SandboxDecl, project: &Project) -> Result<Platform, Usage> {
    let p = &sandbox.credentials;
    let at = At {
        line: sandbox.at.line,
        key: format!("{}.credentials", sandbox.at.key),
    };
    platform_from_prefix(p, SandboxFrom::Declared(&sandbox.name)).map_err(|e| {
        let rule = match e {
            CredsError::NoneSet => format!(
                "no credentials for sandbox {}: set {p}_ACCESS_TOKEN (or {p}_CLIENT_ID, \
                 {p}_CLIENT_SECRET and {p}_SCOPES), {p}_API_KEY and {p}_ORG_ID",
                sandbox.name
            ),
            CredsError::Missing { missing, ims } => format!(
                "{} {} not set{}",
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" },
                if ims {
                    format!(" ({p}_CLIENT_ID, {p}_CLIENT_SECRET, {p}_SCOPES and {p}_ORG_ID are needed for IMS tokens)")
                } else {
                    String::new()
                }
            ),
            CredsError::SandboxConflict(var) => format!(
                "{var} is set to another sandbox; the sandbox is {} (from the file): unset {var}",
                sandbox.name
            ),
            CredsError::Bad(Usage(m)) => m,
        };
        project.error_at(&at, rule)
    })
}

/// The database password for `conn`, from the variable its
/// `password_env` names; unset, empty or garbled is an error naming the
/// variable and the file's line (the value is never shown).
pub fn password_for(conn: &ConnectionDecl, project: &Project) -> Result<Secret, Usage> {
    let at = At {
        line: conn.at.line,
        key: format!("{}.password_env", conn.at.key),
    };
    match secret_var(&conn.password_env) {
        Ok(Some(secret)) => Ok(secret),
        Ok(None) => Err(project.error_at(
            &at,
            format!(
                "{} is not set (the password of connection {})",
                conn.password_env, conn.name
            ),
        )),
        Err(Usage(m)) => Err(project.error_at(&at, m)),
    }
}
