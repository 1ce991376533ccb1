//! `aep-flow connections ...`: create, list, get, test, delete, ensure,
//! rotate-password, and explore a connection's database.

use std::io::Write;

use aep_flow::{AuthSpec, ConnectionFilter, ConnectionId, PostgresConnection};
use clap::Subcommand;

use crate::env::{self, Common, Failure, Usage};
use crate::output::{
    to_json, ConnectionLine, ConnectionSummary, EnsuredLine, Output, SavedLine, TableColumns,
    TableLine,
};
use crate::target::Target;

pub const HELP: &str = "what each prints (JSON, one object per line):
  connections create --name NAME [--description TEXT] [--auth connection-string|basic]
      {\"id\",\"etag\"}
  connections list [--name NAME]          one {\"id\",\"name\",\"state\",\"etag\"} per connection
  connections get ID                      {\"id\",\"name\",\"description\",\"state\",\"etag\",
                                          \"connectionSpecId\",\"authSpecName\",\"createdAt\",\"updatedAt\"}
  connections test ID                     {\"result\": true|false}
  connections delete ID                   nothing; exit 1 with the status when not deleted
  connections ensure --name NAME [--description TEXT] [--auth connection-string|basic]
      {\"id\",\"etag\",\"created\"}
  connections rotate-password ID
      replaces ALL of the connection's parameters (host, port, database, user,
      password, SSL mode) with the PG* values; refuses to run unless PGSSLMODE is set
  connections explore ID [--table PATH [--preview]]
      lists the tables of the connection's database (one JSON line each), or one
      table's columns (--table, schema-qualified path), with sample rows (--preview)";

#[derive(Subcommand)]
pub enum Command {
    /// Creates a PostgreSQL base connection from the PG* variables (as
    /// Adobe's tutorial does); prints {"id","etag"}.
    Create {
        /// The connection's name.
        #[arg(long)]
        name: String,
        /// Its description.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// How the credentials are sent.
        #[arg(long, value_name = "connection-string|basic", value_parser = auth)]
        auth: Option<AuthSpec>,
    },
    /// Lists the connections, one JSON line each.
    List {
        /// Only the connections with this name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Prints one connection (never its auth parameters).
    Get {
        /// The connection's id.
        #[arg(value_name = "ID")]
        id: ConnectionId,
    },
    /// Asks the service to test the connection; prints {"result": true|false}.
    Test {
        /// The connection's id.
        #[arg(value_name = "ID")]
        id: ConnectionId,
    },
    /// Deletes the connection (nothing on stdout).
    Delete {
        /// The connection's id.
        #[arg(value_name = "ID")]
        id: ConnectionId,
    },
    /// Finds the connection by name or creates it; prints {"id","etag","created"}.
    Ensure {
        /// The connection's name.
        #[arg(long)]
        name: String,
        /// Its description (when created).
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// How the credentials are sent.
        #[arg(long, value_name = "connection-string|basic", value_parser = auth)]
        auth: Option<AuthSpec>,
    },
    /// Replaces ALL of the connection's parameters from the PG* variables
    /// (PGSSLMODE must be set).
    RotatePassword {
        /// The connection's id.
        #[arg(value_name = "ID")]
        id: ConnectionId,
    },
    /// Lists the database's tables, or one table's columns (--table), with
    /// sample rows (--preview).
    Explore {
        /// The connection's id.
        #[arg(value_name = "ID")]
        id: ConnectionId,
        /// A schema-qualified table path, e.g. public.orders.
        #[arg(long, value_name = "PATH")]
        table: Option<String>,
        /// Sample rows as well (needs --table).
        #[arg(long, requires = "table")]
        preview: bool,
    },
}

fn auth(value: &str) -> Result<AuthSpec, String> {
    env::parse_auth(value).map_err(|Usage(m)| m)
}

pub fn run(command: Command, common: &Common, out: &mut Output) -> Result<(), Failure> {
    if matches!(command, Command::RotatePassword { .. }) && env::var("PGSSLMODE")?.is_none() {
        return Err(Usage(
            "rotate-password replaces all of the connection's parameters, the SSL mode \
             included: set PGSSLMODE (disable, allow, prefer, require, verify-ca or verify-full)"
                .into(),
        )
        .into());
    }
    // The environment is read (and checked) before anything is sent, and
    // before the demo sandbox is taken (or, with --demo-reset, wiped).
    let env = Target::check_env("aep-flow", common)?;
    let demo = env.is_demo();
    let postgres: Option<PostgresConnection> = match &command {
        Command::Create {
            name,
            description,
            auth,
        }
        | Command::Ensure {
            name,
            description,
            auth,
        } => Some(env::postgres_from_env(
            name,
            description.as_deref(),
            auth.unwrap_or_default(),
            demo,
        )?),
        // The name is not sent: the connection keeps its own.
        Command::RotatePassword { .. } => Some(env::postgres_from_env(
            "rotate-password",
            None,
            AuthSpec::default(),
            demo,
        )?),
        _ => None,
    };
    let target = env.start(common)?;
    let client = common.client(target.platform)?;
    // The demo fake serves until the end of the command.
    let _demo = target.demo;
    match command {
        Command::Create { .. } => {
            let conn = postgres.expect("read above");
            let created = client.create_postgres_connection(&conn)?;
            out.line(&to_json(&SavedLine::from(&created))?)?;
        }
        Command::List { name } => {
            let mut filter = ConnectionFilter::new();
            if let Some(n) = name {
                filter = filter.with_name(n);
            }
            let cap = filter.max_items();
            let mut printed = 0;
            // Printed as the pages come, so `| head -1` stops the listing.
            for c in client.connections(filter) {
                out.line(&to_json(&ConnectionSummary::from(&c?))?)?;
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
            out.line(&to_json(&ConnectionLine::from(&c))?)?;
        }
        Command::Test { id } => {
            let result = client.test_connection(&id)?;
            out.line(&serde_json::json!({ "result": result }).to_string())?;
        }
        Command::Delete { id } => client.delete_connection(&id)?,
        Command::Ensure { .. } => {
            let conn = postgres.expect("read above");
            let ensured = client.ensure_postgres_connection(&conn)?;
            out.line(&to_json(&EnsuredLine::from(&ensured))?)?;
        }
        Command::RotatePassword { id } => {
            let creds = postgres.expect("read above");
            let updated = client.update_postgres_credentials(&id, creds.credentials())?;
            out.line(&to_json(&SavedLine::from(&updated))?)?;
        }
        Command::Explore { id, table, preview } => match table {
            None => {
                for t in client.explore_tables(&id)? {
                    out.line(&to_json(&TableLine::from(&t))?)?;
                }
            }
            Some(path) if preview => {
                let p = client.preview_table(&id, &path)?;
                out.line(&to_json(&TableColumns::from(&p))?)?;
            }
            Some(path) => {
                let s = client.explore_columns(&id, &path)?;
                out.line(&to_json(&TableColumns::from(&s))?)?;
            }
        },
    }
    Ok(())
}
