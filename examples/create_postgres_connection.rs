//! Creates a PostgreSQL source connection in Adobe Experience Platform.
//!
//! ```text
//! create_postgres_connection --name NAME [--description TEXT]
//!     [--auth connection-string|basic] [--timeout SECS]
//! ```
//!
//! Platform credentials come from `AEP_ACCESS_TOKEN`, `AEP_API_KEY`,
//! `AEP_ORG_ID`, `AEP_SANDBOX_NAME` (and optionally `AEP_FLOW_SERVICE_URL`);
//! the database from libpq's `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`,
//! `PGPASSWORD`, `PGSSLMODE`. Secrets are never read from the command line.
//!
//! With none of the `AEP_*` variables set, it runs against the built-in fake
//! Flow Service on 127.0.0.1 (demo mode), so it works with no account.
//!
//! Prints `{"id": "...", "etag": "..."}` on success (exit 0). Exit 1: the
//! service or the network failed. Exit 2: bad usage or input; nothing sent.

use std::env;
use std::process::ExitCode;
use std::time::Duration;

use aep_flow::testing::FakeFlowService;
use aep_flow::{AuthSpec, Client, Error, Platform, PostgresConnection, Secret, SslMode};

const USAGE: &str = "usage: create_postgres_connection --name NAME [--description TEXT] \
[--auth connection-string|basic] [--timeout SECS]

environment:
  AEP_ACCESS_TOKEN, AEP_API_KEY, AEP_ORG_ID, AEP_SANDBOX_NAME  Platform credentials (all four)
  AEP_FLOW_SERVICE_URL                                         base URL override (optional)
  PGHOST, PGPORT (5432), PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE   the PostgreSQL database
With no AEP_* variable set, runs against a built-in fake Flow Service on 127.0.0.1.";

const PLATFORM_VARS: [&str; 4] = [
    "AEP_ACCESS_TOKEN",
    "AEP_API_KEY",
    "AEP_ORG_ID",
    "AEP_SANDBOX_NAME",
];
const URL_VAR: &str = "AEP_FLOW_SERVICE_URL";

struct Args {
    name: String,
    description: Option<String>,
    auth: AuthSpec,
    timeout: Option<Duration>,
}

/// A usage or input problem: exit 2, nothing sent.
struct Usage(String);

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, Usage> {
    let mut name = None;
    let mut description = None;
    let mut auth = AuthSpec::ConnectionString;
    let mut timeout = None;
    while let Some(flag) = args.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (flag, None),
        };
        if flag == "--help" || flag == "-h" {
            return Err(Usage(String::new()));
        }
        let mut value = |flag: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| Usage(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--name" => name = Some(value("--name")?),
            "--description" => description = Some(value("--description")?),
            "--auth" => {
                auth = value("--auth")?
                    .parse()
                    .map_err(|_| Usage("--auth must be `connection-string` or `basic`".into()))?
            }
            "--timeout" => {
                let v = value("--timeout")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
                    .ok_or_else(|| {
                        Usage(format!(
                            "--timeout must be a number of seconds between 0 and 86400, not `{v}`"
                        ))
                    })?;
                timeout = Some(Duration::from_secs_f64(secs));
            }
            other => return Err(Usage(format!("unknown argument `{other}`"))),
        }
    }
    let name = name.ok_or_else(|| Usage("--name is required".into()))?;
    Ok(Args {
        name,
        description,
        auth,
        timeout,
    })
}

/// A set, non-empty environment variable.
fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.is_empty())
}

fn platform_from_env() -> Result<Platform, Usage> {
    let missing: Vec<&str> = PLATFORM_VARS
        .iter()
        .copied()
        .filter(|v| var(v).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(Usage(format!(
            "missing Platform credentials: set {} (all four of {} are needed once any AEP_* variable is set)",
            missing.join(", "),
            PLATFORM_VARS.join(", ")
        )));
    }
    let token = Secret::from(env::var("AEP_ACCESS_TOKEN").unwrap_or_default());
    let mut platform = Platform::new(
        token,
        var("AEP_API_KEY").unwrap_or_default(),
        var("AEP_ORG_ID").unwrap_or_default(),
        var("AEP_SANDBOX_NAME").unwrap_or_default(),
    );
    if let Some(url) = var(URL_VAR) {
        platform = platform.with_base_url(url);
    }
    Ok(platform)
}

fn postgres_from_env(args: &Args, demo: bool) -> Result<PostgresConnection, Usage> {
    let pick = |name: &str, demo_value: &str| -> Option<String> {
        var(name).or_else(|| demo.then(|| demo_value.to_owned()))
    };
    let host = pick("PGHOST", "postgres.demo.internal");
    let database = pick("PGDATABASE", "demo");
    let user = pick("PGUSER", "demo_reader");
    let password = match env::var("PGPASSWORD") {
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
        args.name.clone(),
        host.unwrap_or_default(),
        database.unwrap_or_default(),
        user.unwrap_or_default(),
        password.unwrap_or_else(|| Secret::from("")),
    )
    .port(port)
    .auth_spec(args.auth);
    if let Some(mode) = var("PGSSLMODE") {
        let mode: SslMode = mode.parse().map_err(|_| {
            Usage(format!(
                "PGSSLMODE must be one of disable, allow, prefer, require, verify-ca, verify-full, not `{mode}`"
            ))
        })?;
        conn = conn.ssl_mode(mode);
    }
    if let Some(d) = &args.description {
        conn = conn.description(d.clone());
    }
    Ok(conn)
}

fn run() -> Result<String, (u8, String)> {
    let args = parse_args(env::args().skip(1)).map_err(|u| {
        if u.0.is_empty() {
            (2, USAGE.to_owned())
        } else {
            (2, format!("error: {}\n{USAGE}", u.0))
        }
    })?;
    let usage = |u: Usage| (2, format!("error: {} (see --help)", u.0));
    let demo = PLATFORM_VARS
        .iter()
        .chain(std::iter::once(&URL_VAR))
        .all(|v| env::var_os(v).is_none());

    // In demo mode the fake lives until the end of this function.
    let fake;
    let platform = if demo {
        fake = FakeFlowService::start()
            .map_err(|e| (1, format!("error: could not start the demo fake: {e}")))?;
        eprintln!(
            "note: no AEP_* variable is set: using the built-in fake Flow Service at {} (demo mode; nothing leaves this machine)",
            fake.base_url()
        );
        fake.platform()
    } else {
        platform_from_env().map_err(usage)?
    };
    let conn = postgres_from_env(&args, demo).map_err(usage)?;

    let mut builder = Client::builder(platform);
    if let Some(t) = args.timeout {
        builder = builder.timeout(t).connect_timeout(t);
    }
    let result = builder
        .build()
        .and_then(|client| client.create_postgres_connection(&conn));
    match result {
        Ok(created) => {
            // `{"id": ..., "etag": ...}`, in that order.
            serde_json::to_string(&created).map_err(|e| (1, format!("error: {e}")))
        }
        Err(e @ Error::InvalidInput { .. }) => Err((2, format!("error: {e}"))),
        Err(e) => Err((1, format!("error: {e}"))),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("{message}");
            ExitCode::from(code)
        }
    }
}
