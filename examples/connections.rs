//! Manages Flow Service connections: list, get, test, delete, ensure,
//! rotate-password, and explores a connection's database.
//!
//! ```text
//! connections [--demo] [--timeout SECS] list [--name NAME]
//! connections [--demo] [--timeout SECS] get ID
//! connections [--demo] [--timeout SECS] test ID
//! connections [--demo] [--timeout SECS] delete ID
//! connections [--demo] [--timeout SECS] ensure --name NAME [--description TEXT] [--auth connection-string|basic]
//! connections [--demo] [--timeout SECS] rotate-password ID
//! connections [--demo] [--timeout SECS] explore ID [--table PATH [--preview]]
//! ```
//!
//! The common options `--demo` and `--timeout` go anywhere on the line.
//! Same environment as `create_postgres_connection` (`AEP_*`, `PG*`,
//! `SSL_CERT_FILE`), same exit codes: 0 ok, 1 service or network failure,
//! 2 bad input (nothing sent). Output is JSON, one object per line; no auth
//! parameter value is ever printed. `rotate-password` replaces all of the
//! connection's parameters (host, port, database, user, password, SSL mode)
//! from `PG*`, so it refuses to run unless `PGSSLMODE` is set.
//! `explore ID` prints one line per table; `--table PATH` prints that
//! table's columns as one object, `--preview` adds sample rows.

mod common;

use std::io::Write;
use std::process::ExitCode;

use aep_flow::{AuthSpec, Column, Connection, ListFilter, PostgresConnection, Table};
use common::{Common, Failure, Flags, Output, Target, Usage};
use serde_json::json;

const USAGE: &str = "usage:
  connections list [--name NAME]
  connections get ID
  connections test ID
  connections delete ID
  connections ensure --name NAME [--description TEXT] [--auth connection-string|basic]
  connections rotate-password ID
      replaces ALL of the connection's parameters (host, port, database, user,
      password, SSL mode) with the PG* values; refuses to run unless PGSSLMODE is set
  connections explore ID [--table PATH [--preview]]
      lists the tables of the connection's database (one JSON line each), or one
      table's columns (--table, schema-qualified path), with sample rows (--preview)";

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
    Explore {
        id: String,
        table: Option<String>,
        preview: bool,
    },
}

fn parse_args(args: Vec<String>) -> Result<(Command, Common), Usage> {
    let mut flags = Flags::new(args);
    let mut common = Common::default();
    let mut sub = None;
    let mut name = None;
    let mut description = None;
    let mut auth = None;
    let mut table = None;
    let mut preview = false;
    let mut positional = Vec::new();
    while let Some(arg) = flags.next_arg() {
        if common.take(&arg, &mut flags)? {
            continue;
        }
        match arg.as_str() {
            "--help" | "-h" => return Err(Usage(String::new())),
            "--name" => name = Some(flags.value("--name")?),
            "--description" => description = Some(flags.value("--description")?),
            "--auth" => auth = Some(common::parse_auth(&flags.value("--auth")?)?),
            "--table" => table = Some(flags.value("--table")?),
            "--preview" => {
                flags.switch("--preview")?;
                preview = true;
            }
            a if a.starts_with("--") => return Err(Usage(format!("unknown argument `{a}`"))),
            _ if sub.is_none() => sub = Some(arg),
            _ => positional.push(arg),
        }
    }
    let sub = sub.ok_or_else(|| Usage("a command is required".into()))?;
    if sub != "explore" && (table.is_some() || preview) {
        return Err(Usage(format!(
            "`{}` takes no --table or --preview",
            sub.escape_debug()
        )));
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
        "explore" => {
            no_flags(name.is_none() && description.is_none() && auth.is_none())?;
            if preview && table.is_none() {
                return Err(Usage("--preview needs --table PATH".into()));
            }
            Command::Explore {
                id: one_id(positional)?,
                table,
                preview,
            }
        }
        other => return Err(Usage(format!("unknown command `{}`", other.escape_debug()))),
    };
    Ok((command, common))
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

/// `get ID`: the connection with the keys in camelCase, as the service
/// and `pipeline` write them: `{"id","name","description","state","etag",
/// "connectionSpecId","authSpecName","createdAt","updatedAt"}`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionOutput<'a> {
    id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    state: Option<&'a str>,
    etag: &'a str,
    connection_spec_id: Option<&'a str>,
    auth_spec_name: Option<&'a str>,
    created_at: Option<i64>,
    updated_at: Option<i64>,
}

impl<'a> From<&'a Connection> for ConnectionOutput<'a> {
    fn from(c: &'a Connection) -> Self {
        ConnectionOutput {
            id: &c.id,
            name: &c.name,
            description: c.description.as_deref(),
            state: c.state.as_deref(),
            etag: &c.etag,
            connection_spec_id: c.connection_spec_id.as_deref(),
            auth_spec_name: c.auth_spec_name.as_deref(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// One line of `explore ID`: `{"name","path","type","canPreview","canFetchSchema"}`.
fn table_line(t: &Table) -> String {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Line<'a> {
        name: &'a str,
        path: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        can_preview: bool,
        can_fetch_schema: bool,
    }
    let line = Line {
        name: &t.name,
        path: &t.path,
        kind: &t.kind,
        can_preview: t.can_preview,
        can_fetch_schema: t.can_fetch_schema,
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// `explore ID --table PATH [--preview]`: `{"path","columns"[,"rows"]}`.
#[derive(serde::Serialize)]
struct TableOutput<'a> {
    path: &'a str,
    columns: &'a [Column],
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<&'a [serde_json::Map<String, serde_json::Value>]>,
}

fn to_json(value: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure(1, format!("error: {e}")))
}

fn run(out: &mut Output) -> Result<(), Failure> {
    let help = format!(
        "{USAGE}\n\n{}\n\n{}",
        common::COMMON_OPTIONS_HELP,
        common::ENVIRONMENT_HELP
    );
    let parsed = common::args().and_then(parse_args);
    let (command, options) = match parsed {
        Ok(parsed) => parsed,
        Err(Usage(m)) if m.is_empty() => return out.line(&help),
        Err(Usage(m)) => return Err(Failure(2, format!("error: {m}\n{help}"))),
    };
    if matches!(command, Command::RotatePassword { .. }) && common::var("PGSSLMODE")?.is_none() {
        return Err(Usage(
            "rotate-password replaces all of the connection's parameters, the SSL mode \
             included: set PGSSLMODE (disable, allow, prefer, require, verify-ca or verify-full)"
                .into(),
        )
        .into());
    }
    // The environment is read (and checked) before anything is sent, and
    // before the demo sandbox is taken (or, with --demo-reset, wiped).
    let env = Target::check_env("connections", &options)?;
    let demo = env.is_demo();
    let postgres: Option<PostgresConnection> = match &command {
        Command::Ensure {
            name,
            description,
            auth,
        } => Some(common::postgres_from_env(
            name,
            description.as_deref(),
            *auth,
            demo,
        )?),
        // The name is not sent: the connection keeps its own.
        Command::RotatePassword { .. } => Some(common::postgres_from_env(
            "rotate-password",
            None,
            AuthSpec::default(),
            demo,
        )?),
        _ => None,
    };
    let target = env.start(&options)?;
    let client = options.client(target.platform)?;
    match command {
        Command::List { name } => {
            let mut filter = ListFilter::new();
            if let Some(n) = name {
                filter = filter.with_name(n);
            }
            let cap = filter.max_items();
            let mut printed = 0;
            // Printed as the pages come, so `| head -1` stops the listing.
            for c in client.connections(filter) {
                out.line(&summary(&c?))?;
                printed += 1;
            }
            if printed >= cap {
                // The listing stops there: the rest, if any, is not printed.
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: connections list: stopped at the item cap of {cap} connections; \
                     there may be more (narrow the listing with --name)"
                );
            }
        }
        Command::Get { id } => {
            let c = client.get_connection(&id)?;
            // `Connection` holds no auth parameter by construction.
            out.line(&to_json(&ConnectionOutput::from(&c))?)?;
        }
        Command::Test { id } => {
            out.line(&json!({"result": client.test_connection(&id)?}).to_string())?;
        }
        Command::Delete { id } => client.delete_connection(&id)?,
        Command::Ensure { .. } => {
            let conn = postgres.expect("read above");
            let ensured = client.ensure_postgres_connection(&conn)?;
            // `{"id","etag","created"}`, in that order.
            out.line(&to_json(&ensured)?)?;
        }
        Command::RotatePassword { id } => {
            let creds = postgres.expect("read above");
            let updated = client.update_postgres_credentials(&id, creds.credentials())?;
            out.line(&to_json(&updated)?)?;
        }
        Command::Explore { id, table, preview } => match table {
            None => {
                for t in client.explore_tables(&id)? {
                    out.line(&table_line(&t))?;
                }
            }
            Some(path) if preview => {
                let p = client.preview_table(&id, &path)?;
                out.line(&to_json(&TableOutput {
                    path: &p.path,
                    columns: &p.columns,
                    rows: Some(&p.rows),
                })?)?;
            }
            Some(path) => {
                let s = client.explore_columns(&id, &path)?;
                out.line(&to_json(&TableOutput {
                    path: &s.path,
                    columns: &s.columns,
                    rows: None,
                })?)?;
            }
        },
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut out = Output::new();
    let result = run(&mut out);
    common::finish(result, out)
}
