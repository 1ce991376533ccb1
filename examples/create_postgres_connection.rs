//! Creates a PostgreSQL source connection in Adobe Experience Platform.
//!
//! ```text
//! create_postgres_connection --name NAME [--description TEXT]
//!     [--auth connection-string|basic] [--timeout SECS]
//! ```
//!
//! Platform credentials come from `AEP_ACCESS_TOKEN`, `AEP_API_KEY`,
//! `AEP_ORG_ID`, `AEP_SANDBOX_NAME` (and optionally `AEP_FLOW_SERVICE_URL`),
//! or, instead of the token, OAuth Server-to-Server credentials
//! `AEP_CLIENT_ID`, `AEP_CLIENT_SECRET`, `AEP_SCOPES` (optionally
//! `AEP_IMS_URL`; the API key then defaults to the client id); the database
//! from libpq's `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`,
//! `PGSSLMODE`. Secrets are never read from the command line.
//!
//! With none of the `AEP_*` variables set, it runs against the built-in fake
//! Flow Service on 127.0.0.1 (demo mode), so it works with no account.
//!
//! Prints `{"id":"...","etag":"..."}` on success (exit 0). Exit 1: the
//! service or the network failed. Exit 2: bad usage or input; nothing sent.

mod common;

use std::process::ExitCode;
use std::time::Duration;

use aep_flow::{AuthSpec, Client};
use common::{Failure, Flags, Target, Usage};

const USAGE: &str = "usage: create_postgres_connection --name NAME [--description TEXT] \
[--auth connection-string|basic] [--timeout SECS]";

struct Args {
    name: String,
    description: Option<String>,
    auth: AuthSpec,
    timeout: Option<Duration>,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Args, Usage> {
    let mut flags = Flags::new(args);
    let mut name = None;
    let mut description = None;
    let mut auth = AuthSpec::ConnectionString;
    let mut timeout = None;
    while let Some(flag) = flags.next_arg() {
        match flag.as_str() {
            "--help" | "-h" => return Err(Usage(String::new())),
            "--name" => name = Some(flags.value("--name")?),
            "--description" => description = Some(flags.value("--description")?),
            "--auth" => auth = common::parse_auth(&flags.value("--auth")?)?,
            "--timeout" => timeout = Some(common::parse_timeout(&flags.value("--timeout")?)?),
            other => return Err(Usage(format!("unknown argument `{other}`"))),
        }
    }
    Ok(Args {
        name: name.ok_or_else(|| Usage("--name is required".into()))?,
        description,
        auth,
        timeout,
    })
}

fn run() -> Result<Vec<String>, Failure> {
    let help = format!("{USAGE}\n\n{}", common::ENVIRONMENT_HELP);
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(Usage(m)) if m.is_empty() => return Ok(vec![help]),
        Err(Usage(m)) => return Err(Failure(2, format!("error: {m}\n{help}"))),
    };
    let target = Target::from_env("create_postgres_connection")?;
    let conn = common::postgres_from_env(
        &args.name,
        args.description.as_deref(),
        args.auth,
        target.is_demo(),
    )?;
    let mut builder = Client::builder(target.platform);
    if let Some(t) = args.timeout {
        builder = builder.timeout(t).connect_timeout(t);
    }
    let created = builder.build()?.create_postgres_connection(&conn)?;
    // `{"id": ..., "etag": ...}`, in that order.
    let line = serde_json::to_string(&created).map_err(|e| Failure(1, format!("error: {e}")))?;
    Ok(vec![line])
}

fn main() -> ExitCode {
    common::finish(run())
}
