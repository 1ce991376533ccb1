//! The command's environment contract: the `AEP_*`, `PG*` and
//! `SSL_CERT_FILE` variables, the common options, and how a run ends
//! (exit code and message).
//!
//! Every variable read here is either absent, or valid, or the run stops
//! with exit 2 naming it: a set value is never replaced by a default.

use std::env;
use std::ffi::OsString;
use std::time::{Duration, Instant};

use aep_flow::{
    AuthSpec, Client, Error, ImsCredentials, Platform, PostgresConnection, Secret, SslMode,
};
use aep_flow::{PostgresLogin, Sandbox};

/// Flow Service base URL override (kept for compatibility).
#[allow(dead_code)] // the names; the contract reads them by prefix
pub const URL_VAR: &str = "AEP_FLOW_SERVICE_URL";
/// Gateway root override: Flow Service, Data Prep and Catalog below it.
#[allow(dead_code)] // the names; the contract reads them by prefix
pub const PLATFORM_URL_VAR: &str = "AEP_PLATFORM_URL";
/// IMS base URL override.
#[allow(dead_code)] // the names; the contract reads them by prefix
pub const IMS_URL_VAR: &str = "AEP_IMS_URL";
/// A PEM bundle replacing the built-in roots, as curl and OpenSSL read it.
pub const CA_VAR: &str = "SSL_CERT_FILE";

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

/// Variables holding secrets the service may echo in answers to calls that
/// do not send them (the databases' `password_env`, other sandboxes'
/// tokens): every client [`Common::client`] makes after they are named
/// scrubs their values from its errors. `PGPASSWORD` always is.
static SCRUBBED_VARS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Names variables whose values every client made from now on scrubs
/// (see [`SCRUBBED_VARS`]).
pub fn scrub_values_of<'a>(names: impl IntoIterator<Item = &'a str>) {
    let mut held = SCRUBBED_VARS.lock().unwrap_or_else(|e| e.into_inner());
    for name in names {
        if !held.iter().any(|h| h == name) {
            held.push(name.to_owned());
        }
    }
}

/// The values of the variables [`scrub_values_of`] named, and of
/// `PGPASSWORD`; unset, empty and garbled ones left out (a garbled one is
/// refused where it is used).
fn scrubbed_values() -> Vec<Secret> {
    let held = SCRUBBED_VARS.lock().unwrap_or_else(|e| e.into_inner());
    held.iter()
        .map(String::as_str)
        .chain(["PGPASSWORD"])
        .filter_map(|n| secret_var(n).ok().flatten())
        .collect()
}

/// Names of the set environment variables that start with `AEP_`.
pub fn aep_vars_set() -> Vec<String> {
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

/// `AEP_ACCESS_TOKEN` wins; without it the IMS variables are used.
pub fn platform_from_env() -> Result<Platform, Usage> {
    platform_from_prefix("AEP", SandboxFrom::Var).map_err(|e| match e {
        CredsError::NoneSet => Usage(
            "no Platform credentials in the environment: set AEP_ACCESS_TOKEN (or AEP_CLIENT_ID, AEP_CLIENT_SECRET \
             and AEP_SCOPES), AEP_API_KEY, AEP_ORG_ID and AEP_SANDBOX_NAME, or pass --demo to run \
             against the built-in fake Flow Service"
                .into(),
        ),
        CredsError::Missing { missing, ims } => {
            let needed = if ims {
                "AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_SCOPES, AEP_ORG_ID and AEP_SANDBOX_NAME are needed for IMS tokens"
            } else {
                "AEP_ACCESS_TOKEN (or AEP_CLIENT_ID, AEP_CLIENT_SECRET and AEP_SCOPES), AEP_API_KEY, AEP_ORG_ID and AEP_SANDBOX_NAME are needed once any AEP_* variable is set"
            };
            Usage(format!(
                "missing Platform credentials: set {} ({needed})",
                missing.join(", ")
            ))
        }
        // Not reached with the sandbox from `AEP_SANDBOX_NAME`.
        CredsError::SandboxConflict(var) => Usage(format!("{var} names another sandbox")),
        CredsError::Bad(u) => u,
    })
}

/// Where the sandbox name comes from.
pub enum SandboxFrom<'a> {
    /// `P_SANDBOX_NAME`, required (the plain `AEP_*` contract).
    Var,
    /// A declared name (a `[sandboxes.NAME]` of the file); `P_SANDBOX_NAME`
    /// set to another name is a conflict.
    Declared(&'a str),
}

/// Why the credentials under a prefix cannot be had.
pub enum CredsError {
    /// No variable of the contract is set.
    NoneSet,
    /// These are needed and not set; `ims`: tokens from IMS were asked for.
    Missing { missing: Vec<String>, ims: bool },
    /// `P_SANDBOX_NAME` is set to another sandbox than the declared one
    /// (the variable's name).
    SandboxConflict(String),
    /// A variable is set but empty or garbled, or the URLs are wrong.
    Bad(Usage),
}

/// The credentials contract under the prefix `P` (`AEP` for the plain
/// variables): `P_ACCESS_TOKEN` wins; without it `P_CLIENT_ID`,
/// `P_CLIENT_SECRET` and `P_SCOPES` get tokens from IMS (`P_IMS_URL`
/// optional; `P_API_KEY` defaults to the client id). `P_API_KEY`,
/// `P_ORG_ID`; optional `P_PLATFORM_URL` or `P_FLOW_SERVICE_URL`. The one
/// implementation behind the plain contract and the file's per-sandbox
/// prefixes.
pub fn platform_from_prefix(
    prefix: &str,
    sandbox_from: SandboxFrom<'_>,
) -> Result<Platform, CredsError> {
    let name = |suffix: &str| format!("{prefix}_{suffix}");
    let bad = CredsError::Bad;
    // Every variable is checked, used or not: a garbled one is a broken
    // environment.
    let token = secret_var(&name("ACCESS_TOKEN")).map_err(bad)?;
    let api_key = var(&name("API_KEY")).map_err(bad)?;
    let org = var(&name("ORG_ID")).map_err(bad)?;
    let sandbox_var = var(&name("SANDBOX_NAME")).map_err(bad)?;
    let client_id = var(&name("CLIENT_ID")).map_err(bad)?;
    let client_secret = secret_var(&name("CLIENT_SECRET")).map_err(bad)?;
    let scopes = var(&name("SCOPES")).map_err(bad)?;
    let ims_url = var(&name("IMS_URL")).map_err(bad)?;
    let base_url = var(&name("FLOW_SERVICE_URL")).map_err(bad)?;
    let platform_url = var(&name("PLATFORM_URL")).map_err(bad)?;
    let root = gateway_root_named(
        &name("FLOW_SERVICE_URL"),
        &name("PLATFORM_URL"),
        base_url.as_deref(),
        platform_url.as_deref(),
    )
    .map_err(bad)?;
    let (sandbox, sandbox_given) = match sandbox_from {
        SandboxFrom::Var => (sandbox_var, None),
        SandboxFrom::Declared(declared) => {
            if sandbox_var.as_deref().is_some_and(|s| s != declared) {
                return Err(CredsError::SandboxConflict(name("SANDBOX_NAME")));
            }
            (Some(declared.to_owned()), Some(()))
        }
    };

    let any_ims =
        client_id.is_some() || client_secret.is_some() || scopes.is_some() || ims_url.is_some();
    let any = token.is_some()
        || api_key.is_some()
        || org.is_some()
        || (sandbox_given.is_none() && sandbox.is_some())
        || root.is_some()
        || any_ims;
    if !any {
        return Err(CredsError::NoneSet);
    }
    let ims_mode = token.is_none() && any_ims;
    let mut required: Vec<(String, bool)> = if ims_mode {
        vec![
            (name("CLIENT_ID"), client_id.is_some()),
            (name("CLIENT_SECRET"), client_secret.is_some()),
            (name("SCOPES"), scopes.is_some()),
            (name("ORG_ID"), org.is_some()),
        ]
    } else {
        vec![
            (name("ACCESS_TOKEN"), token.is_some()),
            (name("API_KEY"), api_key.is_some()),
            (name("ORG_ID"), org.is_some()),
        ]
    };
    if sandbox_given.is_none() {
        required.push((name("SANDBOX_NAME"), sandbox.is_some()));
    }
    let missing: Vec<String> = required
        .into_iter()
        .filter_map(|(name, set)| (!set).then_some(name))
        .collect();
    if !missing.is_empty() {
        return Err(CredsError::Missing {
            missing,
            ims: ims_mode,
        });
    }
    let org = org.unwrap_or_default();
    let sandbox = sandbox.unwrap_or_default();
    let mut platform = match (token, client_secret) {
        (Some(token), _) => Platform::new(
            token,
            api_key.unwrap_or_default(),
            Sandbox {
                org_id: &org,
                name: &sandbox,
            },
        ),
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
            let mut platform = Platform::from_ims(
                ims,
                Sandbox {
                    org_id: &org,
                    name: &sandbox,
                },
            );
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
fn gateway_root_named(
    url_var: &str,
    platform_url_var: &str,
    flow: Option<&str>,
    root: Option<&str>,
) -> Result<Option<String>, Usage> {
    const SUFFIX: &str = aep_flow::spec::FLOW_SERVICE_PATH;
    let from_flow = match flow {
        None => None,
        Some(url) => match url.trim_end_matches('/').strip_suffix(SUFFIX) {
            Some(r) if !r.is_empty() => Some(r.to_owned()),
            _ => {
                return Err(Usage(format!(
                    "{url_var} must end in {SUFFIX}; for a gateway root (Flow Service, Data Prep \
                     and Catalog below it) set {platform_url_var} instead"
                )))
            }
        },
    };
    match (from_flow, root) {
        (Some(a), Some(b)) if a != b.trim_end_matches('/') => Err(Usage(format!(
            "{url_var} and {platform_url_var} disagree: {url_var} must be {platform_url_var} \
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
        None => aep_flow::defaults::DEFAULT_PORT,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| {
            Usage(format!(
                "PGPORT must be a port number 1-65535, not `{}`",
                p.escape_debug()
            ))
        })?,
    };
    let mut conn = PostgresConnection::new(
        name,
        PostgresLogin {
            server: &host.unwrap_or_default(),
            database: &database.unwrap_or_default(),
            username: &user.unwrap_or_default(),
            password: password.unwrap_or_else(|| Secret::from(String::new())),
        },
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

/// The options every subcommand takes (`--timeout`, `--demo`,
/// `--demo-reset`).
pub struct Common {
    pub timeout: Option<Duration>,
    /// When `--timeout` runs out, counted from when the option was read
    /// (the start of the command): the demo lock's wait counts too.
    pub deadline: Option<Instant>,
    pub demo: bool,
    pub demo_reset: bool,
}

impl Common {
    /// The options as given; the deadline counts from now (the start of
    /// the command), so the demo lock's wait counts too.
    pub fn new(timeout: Option<Duration>, demo: bool, demo_reset: bool) -> Self {
        Common {
            timeout,
            deadline: timeout.map(|t| Instant::now() + t),
            demo: demo || demo_reset,
            demo_reset,
        }
    }

    /// The client for `platform`: `--timeout` is the client's deadline,
    /// the bound for the whole command (every request, retries and token
    /// requests included); `SSL_CERT_FILE` replaces the built-in roots.
    pub fn client(&self, platform: Platform) -> Result<Client, Failure> {
        let mut builder = Client::builder(platform);
        for secret in scrubbed_values() {
            builder = builder.with_scrubbed_secret(&secret);
        }
        if let Some(t) = self.timeout {
            builder = builder
                .with_timeout(t)
                .with_connect_timeout(t)
                .with_retry_budget(t)
                .with_deadline(self.deadline.unwrap_or_else(|| Instant::now() + t));
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
