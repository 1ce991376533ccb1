//! Creates a PostgreSQL source connection in Adobe Experience Platform.
//!
//! ```text
//! create_postgres_connection --name NAME [--description TEXT]
//!     [--auth connection-string|basic] [--timeout SECS] [--demo]
//! ```
//!
//! Platform credentials come from `AEP_ACCESS_TOKEN`, `AEP_API_KEY`,
//! `AEP_ORG_ID`, `AEP_SANDBOX_NAME` (and optionally `AEP_FLOW_SERVICE_URL`),
//! or, instead of the token, OAuth Server-to-Server credentials
//! `AEP_CLIENT_ID`, `AEP_CLIENT_SECRET`, `AEP_SCOPES` (optionally
//! `AEP_IMS_URL`; the API key then defaults to the client id); the database
//! from libpq's `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`,
//! `PGSSLMODE`; `SSL_CERT_FILE` names a PEM bundle trusted instead of the
//! built-in roots. Secrets are never read from the command line. A variable
//! is either unset or a non-empty UTF-8 value: anything else is exit 2.
//!
//! With `--demo` (and no `AEP_*` variable set) it runs against the built-in
//! fake Flow Service on 127.0.0.1, so it works with no account. With no
//! `AEP_*` variable and no `--demo` it stops (exit 2): an environment that
//! failed to load never turns into a "successful" demo run.
//!
//! `--timeout SECS` bounds the whole command, retries included.
//!
//! Prints `{"id":"...","etag":"..."}` on success (exit 0). Exit 1: the
//! service or the network failed. Exit 2: bad usage or input; nothing sent.

mod common;

use std::process::ExitCode;

use aep_flow::AuthSpec;
use common::{Common, Failure, Flags, Output, Target, Usage};

const USAGE: &str = "usage: create_postgres_connection --name NAME [--description TEXT] \
[--auth connection-string|basic] [--timeout SECS] [--demo]";

struct Args {
    name: String,
    description: Option<String>,
    auth: AuthSpec,
    common: Common,
}

fn parse_args(args: Vec<String>) -> Result<Args, Usage> {
    let mut flags = Flags::new(args);
    let mut common = Common::default();
    let mut name = None;
    let mut description = None;
    let mut auth = None;
    while let Some(flag) = flags.next_arg() {
        if common.take(&flag, &mut flags)? {
            continue;
        }
        match flag.as_str() {
            "--help" | "-h" => return Err(Usage(String::new())),
            "--name" => name = Some(flags.value("--name")?),
            "--description" => description = Some(flags.value("--description")?),
            "--auth" => auth = Some(common::parse_auth(&flags.value("--auth")?)?),
            other => {
                return Err(Usage(format!(
                    "unknown argument `{}`",
                    other.escape_debug()
                )))
            }
        }
    }
    Ok(Args {
        name: name.ok_or_else(|| Usage("--name is required".into()))?,
        description,
        auth: auth.unwrap_or(AuthSpec::ConnectionString),
        common,
    })
}

fn run(out: &mut Output) -> Result<(), Failure> {
    let help = format!(
        "{USAGE}\n\n{}\n\n{}",
        common::COMMON_OPTIONS_HELP,
        common::ENVIRONMENT_HELP
    );
    let args = match common::args().and_then(parse_args) {
        Ok(args) => args,
        Err(Usage(m)) if m.is_empty() => return out.line(&help),
        Err(Usage(m)) => return Err(Failure(2, format!("error: {m}\n{help}"))),
    };
    // The whole environment is checked before the demo sandbox is taken
    // (or, with --demo-reset, wiped): a bad value is exit 2, nothing touched.
    let env = Target::check_env("create_postgres_connection", &args.common)?;
    let conn = common::postgres_from_env(
        &args.name,
        args.description.as_deref(),
        args.auth,
        env.is_demo(),
    )?;
    let target = env.start(&args.common)?;
    let created = args
        .common
        .client(target.platform)?
        .create_postgres_connection(&conn)?;
    // `{"id": ..., "etag": ...}`, in that order.
    let line = serde_json::to_string(&created).map_err(|e| Failure(1, format!("error: {e}")))?;
    out.line(&line)
}

fn main() -> ExitCode {
    let mut out = Output::new();
    let result = run(&mut out);
    common::finish(result, out)
}
