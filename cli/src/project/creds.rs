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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn project(password_env: &str) -> Project {
        let text = format!(
            "project = \"p\"\n[sandboxes.prod]\ncredentials = \"C1_TEST_PROD\"\n\
             [connections.db]\nhost = \"h\"\ndatabase = \"d\"\nuser = \"u\"\npassword_env = \"{password_env}\"\n"
        );
        crate::project::file::parse(Path::new("f.toml"), text.as_bytes())
            .unwrap_or_else(|Usage(m)| panic!("{m}"))
    }

    // Variable names of their own: no other test reads them.
    #[test]
    fn password_from_its_variable() {
        let p = project("C1_TEST_PW_SET");
        std::env::set_var("C1_TEST_PW_SET", "pw-Canary-55");
        let secret = password_for(&p.connections[0], &p).unwrap_or_else(|Usage(m)| panic!("{m}"));
        assert_eq!(secret.expose_secret(), "pw-Canary-55");
        assert!(!format!("{secret:?}").contains("Canary"));

        let p = project("C1_TEST_PW_UNSET");
        let Err(Usage(m)) = password_for(&p.connections[0], &p) else {
            panic!()
        };
        assert_eq!(
            m,
            "f.toml:4: connections.db.password_env: C1_TEST_PW_UNSET is not set (the password of connection db)"
        );
        let p = project("C1_TEST_PW_EMPTY");
        std::env::set_var("C1_TEST_PW_EMPTY", "");
        let Err(Usage(m)) = password_for(&p.connections[0], &p) else {
            panic!()
        };
        assert_eq!(
            m,
            "f.toml:4: connections.db.password_env: C1_TEST_PW_EMPTY is set but empty"
        );
    }

    #[test]
    fn platform_from_the_prefix_with_the_files_sandbox() {
        let p = project("X");
        std::env::set_var("C1_TEST_PROD_ACCESS_TOKEN", "tok-Canary-77");
        std::env::set_var("C1_TEST_PROD_API_KEY", "key");
        let Err(Usage(m)) = platform_for(&p.sandboxes[0], &p) else {
            panic!()
        };
        assert_eq!(
            m,
            "f.toml:2: sandboxes.prod.credentials: C1_TEST_PROD_ORG_ID is not set"
        );
        std::env::set_var("C1_TEST_PROD_ORG_ID", "org@AdobeOrg");
        let platform = platform_for(&p.sandboxes[0], &p).unwrap_or_else(|Usage(m)| panic!("{m}"));
        assert_eq!(platform.sandbox_name(), "prod");
        assert_eq!(platform.api_key(), "key");
        assert_eq!(platform.org_id(), "org@AdobeOrg");
        assert!(!format!("{platform:?}").contains("Canary"));
    }
}
