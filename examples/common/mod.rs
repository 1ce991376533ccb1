//! What the example CLIs share: configuration from the environment, demo
//! mode, exit codes.

#![allow(dead_code)] // each example uses a different part

use std::env;
use std::time::Duration;

use aep_flow::testing::FakeFlowService;
use aep_flow::{AuthSpec, Error, ImsCredentials, Platform, PostgresConnection, Secret, SslMode};

/// The four Platform credentials; all are needed once any `AEP_*` is set.
pub const PLATFORM_VARS: [&str; 4] = [
    "AEP_ACCESS_TOKEN",
    "AEP_API_KEY",
    "AEP_ORG_ID",
    "AEP_SANDBOX_NAME",
];
/// Base URL override.
pub const URL_VAR: &str = "AEP_FLOW_SERVICE_URL";
/// OAuth Server-to-Server credentials, used when `AEP_ACCESS_TOKEN` is unset.
pub const IMS_VARS: [&str; 3] = ["AEP_CLIENT_ID", "AEP_CLIENT_SECRET", "AEP_SCOPES"];
/// IMS base URL override.
pub const IMS_URL_VAR: &str = "AEP_IMS_URL";

pub const ENVIRONMENT_HELP: &str = "environment:
  AEP_ACCESS_TOKEN, AEP_API_KEY, AEP_ORG_ID, AEP_SANDBOX_NAME  Platform credentials (all four)
  or, instead of AEP_ACCESS_TOKEN:
  AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_SCOPES                 tokens from Adobe IMS (AEP_API_KEY defaults to the client id)
  AEP_IMS_URL                                                  IMS base URL override (optional)
  AEP_FLOW_SERVICE_URL                                         base URL override (optional)
  PGHOST, PGPORT (5432), PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE   the PostgreSQL database
With no AEP_* variable set, runs against a built-in fake Flow Service on 127.0.0.1.";

/// A usage or input problem: exit 2, nothing sent. An empty message means
/// `--help` was asked for.
pub struct Usage(pub String);

/// How a run ends: exit code and the message for stderr.
pub struct Failure(pub u8, pub String);

impl From<Usage> for Failure {
    fn from(u: Usage) -> Self {
        Failure(2, format!("error: {} (see --help)", u.0))
    }
}

impl From<Error> for Failure {
    /// Exit 2 when the input was refused before sending, 1 otherwise.
    fn from(e: Error) -> Self {
        let code = if e.is_invalid_input() { 2 } else { 1 };
        Failure(code, format!("error: {e}"))
    }
}

/// A set, non-empty environment variable.
pub fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.is_empty())
}

/// Where the calls go: the real service (from `AEP_*`) or, when no `AEP_*`
/// variable is set, a fake on 127.0.0.1 that lives as long as this value.
pub struct Target {
    pub platform: Platform,
    pub demo: Option<FakeFlowService>,
}

impl Target {
    pub fn from_env(program: &str) -> Result<Target, Failure> {
        let demo = PLATFORM_VARS
            .iter()
            .chain(&IMS_VARS)
            .chain(&[URL_VAR, IMS_URL_VAR])
            .all(|v| env::var_os(v).is_none());
        if !demo {
            return Ok(Target {
                platform: platform_from_env()?,
                demo: None,
            });
        }
        let fake = FakeFlowService::start()
            .map_err(|e| Failure(1, format!("error: could not start the demo fake: {e}")))?;
        eprintln!(
            "note: {program}: no AEP_* variable is set: using the built-in fake Flow Service at {} \
             (demo mode; nothing leaves this machine)",
            fake.base_url()
        );
        Ok(Target {
            platform: fake.platform(),
            demo: Some(fake),
        })
    }

    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }
}

/// `AEP_ACCESS_TOKEN` wins; without it the IMS variables are used.
fn platform_from_env() -> Result<Platform, Usage> {
    let ims_mode = var("AEP_ACCESS_TOKEN").is_none()
        && IMS_VARS
            .iter()
            .chain(&[IMS_URL_VAR])
            .any(|v| var(v).is_some());
    let required: Vec<&str> = if ims_mode {
        IMS_VARS
            .iter()
            .chain(&["AEP_ORG_ID", "AEP_SANDBOX_NAME"])
            .copied()
            .collect()
    } else {
        PLATFORM_VARS.to_vec()
    };
    let missing: Vec<&str> = required.into_iter().filter(|v| var(v).is_none()).collect();
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
    let org = var("AEP_ORG_ID").unwrap_or_default();
    let sandbox = var("AEP_SANDBOX_NAME").unwrap_or_default();
    let mut platform = if ims_mode {
        let secret = Secret::from(env::var("AEP_CLIENT_SECRET").unwrap_or_default());
        let mut ims = ImsCredentials::new(
            var("AEP_CLIENT_ID").unwrap_or_default(),
            secret,
            var("AEP_SCOPES").unwrap_or_default(),
        );
        if let Some(url) = var(IMS_URL_VAR) {
            ims = ims.with_ims_url(url);
        }
        let mut platform = Platform::from_ims(ims, org, sandbox);
        if let Some(key) = var("AEP_API_KEY") {
            platform = platform.with_api_key(key);
        }
        platform
    } else {
        let token = Secret::from(env::var("AEP_ACCESS_TOKEN").unwrap_or_default());
        Platform::new(token, var("AEP_API_KEY").unwrap_or_default(), org, sandbox)
    };
    if let Some(url) = var(URL_VAR) {
        platform = platform.with_base_url(url);
    }
    Ok(platform)
}

/// The PostgreSQL connection from libpq's variables. In demo mode missing
/// values get demo values.
pub fn postgres_from_env(
    name: &str,
    description: Option<&str>,
    auth: AuthSpec,
    demo: bool,
) -> Result<PostgresConnection, Usage> {
    let pick = |name: &str, demo_value: &str| -> Option<String> {
        var(name).or_else(|| demo.then(|| demo_value.to_owned()))
    };
    let host = pick("PGHOST", "postgres.demo.internal");
    let database = pick("PGDATABASE", "demo");
    let user = pick("PGUSER", "demo_reader");
    let password = match env::var("PGPASSWORD") {
        // Moved, not copied, into the zeroizing Secret.
        Ok(p) if !p.is_empty() => Some(Secret::from(p)),
        _ if demo => Some(Secret::from("demo-password")),
        _ => None,
    };
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
    let port = match var("PGPORT") {
        None => aep_flow::DEFAULT_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| Usage(format!("PGPORT must be a port number 1-65535, not `{p}`")))?,
    };
    let mut conn = PostgresConnection::new(
        name,
        host.unwrap_or_default(),
        database.unwrap_or_default(),
        user.unwrap_or_default(),
        password.unwrap_or_else(|| Secret::from("")),
    )
    .port(port)
    .auth_spec(auth);
    if let Some(mode) = var("PGSSLMODE") {
        let mode: SslMode = mode.parse().map_err(|_| {
            Usage(format!(
                "PGSSLMODE must be one of disable, allow, prefer, require, verify-ca, verify-full, not `{mode}`"
            ))
        })?;
        conn = conn.ssl_mode(mode);
    }
    if let Some(d) = description {
        conn = conn.description(d);
    }
    Ok(conn)
}

/// Splits `--flag=value` and `--flag value` forms; reads the value of the
/// flag just seen.
pub struct Flags<I: Iterator<Item = String>> {
    args: I,
    inline: Option<String>,
}

impl<I: Iterator<Item = String>> Flags<I> {
    pub fn new(args: I) -> Self {
        Flags { args, inline: None }
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

    /// The value for `flag`.
    pub fn value(&mut self, flag: &str) -> Result<String, Usage> {
        self.inline
            .take()
            .or_else(|| self.args.next())
            .ok_or_else(|| Usage(format!("{flag} needs a value")))
    }
}

pub fn parse_auth(value: &str) -> Result<AuthSpec, Usage> {
    value
        .parse()
        .map_err(|_| Usage("--auth must be `connection-string` or `basic`".into()))
}

pub fn parse_timeout(value: &str) -> Result<Duration, Usage> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            Usage(format!(
                "--timeout must be a number of seconds, greater than 0 and at most 86400, not `{value}`"
            ))
        })
}

/// Prints the outcome and turns it into the process's exit code.
pub fn finish(result: Result<Vec<String>, Failure>) -> std::process::ExitCode {
    match result {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(Failure(code, message)) => {
            eprintln!("{message}");
            std::process::ExitCode::from(code)
        }
    }
}
