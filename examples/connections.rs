//! Manages Flow Service connections: list, get, test, delete, ensure,
//! rotate-password.
//!
//! ```text
//! connections list [--name NAME]
//! connections get ID
//! connections test ID
//! connections delete ID
//! connections ensure --name NAME [--description TEXT] [--auth connection-string|basic]
//! connections rotate-password ID
//! ```
//!
//! Same environment as `create_postgres_connection` (`AEP_*`, `PG*`), same
//! exit codes: 0 ok, 1 service or network failure, 2 bad input (nothing
//! sent). Output is JSON, one object per line; no auth parameter value is
//! ever printed.

mod common;

use std::process::ExitCode;

use aep_flow::{AuthSpec, Client, Connection, ListFilter};
use common::{Failure, Flags, Target, Usage};
use serde_json::json;

const USAGE: &str = "usage:
  connections list [--name NAME]
  connections get ID
  connections test ID
  connections delete ID
  connections ensure --name NAME [--description TEXT] [--auth connection-string|basic]
  connections rotate-password ID
common options: [--timeout SECS]";

enum Command {
    List {
        name: Option<String>,
    },
    Get {
        id: String,
    },
    Test {
        id: String,
    },
    Delete {
        id: String,
    },
    Ensure {
        name: String,
        description: Option<String>,
        auth: AuthSpec,
    },
    RotatePassword {
        id: String,
    },
}

fn parse_args(
    args: impl Iterator<Item = String>,
) -> Result<(Command, Option<std::time::Duration>), Usage> {
    let mut flags = Flags::new(args);
    let sub = flags
        .next_arg()
        .ok_or_else(|| Usage("a command is required".into()))?;
    if sub == "--help" || sub == "-h" {
        return Err(Usage(String::new()));
    }
    let mut name = None;
    let mut description = None;
    let mut auth = None;
    let mut timeout = None;
    let mut positional = Vec::new();
    while let Some(arg) = flags.next_arg() {
        match arg.as_str() {
            "--help" | "-h" => return Err(Usage(String::new())),
            "--name" => name = Some(flags.value("--name")?),
            "--description" => description = Some(flags.value("--description")?),
            "--auth" => auth = Some(common::parse_auth(&flags.value("--auth")?)?),
            "--timeout" => timeout = Some(common::parse_timeout(&flags.value("--timeout")?)?),
            a if a.starts_with("--") => return Err(Usage(format!("unknown argument `{a}`"))),
            _ => positional.push(arg),
        }
    }
    let one_id = |positional: Vec<String>| -> Result<String, Usage> {
        match <[String; 1]>::try_from(positional) {
            Ok([id]) => Ok(id),
            Err(_) => Err(Usage(format!("`{sub}` takes exactly one connection ID"))),
        }
    };
    let no_flags = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(Usage(format!(
                "`{sub}` takes no --name, --description or --auth"
            )))
        }
    };
    let command = match sub.as_str() {
        "list" => {
            if !positional.is_empty() || description.is_some() || auth.is_some() {
                return Err(Usage("`list` takes only --name".into()));
            }
            Command::List { name }
        }
        "get" | "test" | "delete" | "rotate-password" => {
            no_flags(name.is_none() && description.is_none() && auth.is_none())?;
            let id = one_id(positional)?;
            match sub.as_str() {
                "get" => Command::Get { id },
                "test" => Command::Test { id },
                "delete" => Command::Delete { id },
                _ => Command::RotatePassword { id },
            }
        }
        "ensure" => {
            if !positional.is_empty() {
                return Err(Usage("`ensure` takes no positional argument".into()));
            }
            Command::Ensure {
                name: name.ok_or_else(|| Usage("`ensure` needs --name".into()))?,
                description,
                auth: auth.unwrap_or_default(),
            }
        }
        other => return Err(Usage(format!("unknown command `{other}`"))),
    };
    Ok((command, timeout))
}

/// One line of `list`: `{"id","name","state","etag"}`, in that order.
fn summary(c: &Connection) -> String {
    #[derive(serde::Serialize)]
    struct Summary<'a> {
        id: &'a str,
        name: &'a str,
        state: Option<&'a str>,
        etag: &'a str,
    }
    let line = Summary {
        id: &c.id,
        name: &c.name,
        state: c.state.as_deref(),
        etag: &c.etag,
    };
    serde_json::to_string(&line).unwrap_or_default()
}

fn run() -> Result<Vec<String>, Failure> {
    let help = format!("{USAGE}\n\n{}", common::ENVIRONMENT_HELP);
    let (command, timeout) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(Usage(m)) if m.is_empty() => return Ok(vec![help]),
        Err(Usage(m)) => return Err(Failure(2, format!("error: {m}\n{help}"))),
    };
    let target = Target::from_env("connections")?;
    if let Some(fake) = &target.demo {
        // Something to look at in demo mode.
        fake.insert_connection(
            "Test connection for PostgreSQL",
            aep_flow::CONNECTION_STRING_AUTH,
            json!({"connectionString": "Server=postgres.demo.internal;Database=demo;Port=5432;UID=demo_reader;Password=demo-password"}),
        );
    }
    let demo = target.is_demo();
    let mut builder = Client::builder(target.platform);
    if let Some(t) = timeout {
        builder = builder.timeout(t).connect_timeout(t);
    }
    let client = builder.build()?;
    let lines = match command {
        Command::List { name } => {
            let mut filter = ListFilter::new();
            if let Some(n) = name {
                filter = filter.name(n);
            }
            let mut lines = Vec::new();
            for c in client.connections(&filter) {
                lines.push(summary(&c?));
            }
            lines
        }
        Command::Get { id } => {
            let c = client.get_connection(&id)?;
            // `Connection` holds no auth parameter by construction.
            vec![serde_json::to_string(&c).map_err(|e| Failure(1, format!("error: {e}")))?]
        }
        Command::Test { id } => {
            vec![json!({"result": client.test_connection(&id)?}).to_string()]
        }
        Command::Delete { id } => {
            client.delete_connection(&id)?;
            Vec::new()
        }
        Command::Ensure {
            name,
            description,
            auth,
        } => {
            let conn = common::postgres_from_env(&name, description.as_deref(), auth, demo)?;
            let ensured = client.ensure_postgres_connection(&conn)?;
            // `{"id","etag","created"}`, in that order.
            vec![serde_json::to_string(&ensured).map_err(|e| Failure(1, format!("error: {e}")))?]
        }
        Command::RotatePassword { id } => {
            // The name is not sent: the connection keeps its own.
            let creds =
                common::postgres_from_env("rotate-password", None, AuthSpec::default(), demo)?;
            let updated = client.update_postgres_credentials(&id, &creds)?;
            vec![serde_json::to_string(&updated).map_err(|e| Failure(1, format!("error: {e}")))?]
        }
    };
    Ok(lines)
}

fn main() -> ExitCode {
    common::finish(run())
}
