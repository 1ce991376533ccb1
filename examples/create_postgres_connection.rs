//! Creates a PostgreSQL source connection, as Adobe's tutorial "Create a
//! PostgreSQL connector using the Flow Service API" does, from the
//! environment, and prints `{"id":"...","etag":"..."}`.
//!
//! ```text
//! AEP_ACCESS_TOKEN=... AEP_API_KEY=... AEP_ORG_ID=...@AdobeOrg AEP_SANDBOX_NAME=prod \
//! PGHOST=db.example.com PGDATABASE=orders PGUSER=etl_reader PGPASSWORD=... \
//!     cargo run --example create_postgres_connection
//! ```
//!
//! `PGPORT` (default 5432) and `PGSSLMODE` are optional. The `aep-flow`
//! command (`cli/`) does the same as `aep-flow connections create`, with
//! usage checks, IMS tokens, a demo mode and exit codes for scripts.

use std::env;

use aep_flow::PostgresLogin;
use aep_flow::{Client, Platform, PostgresConnection, Sandbox, Secret};

fn var(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    env::var(name).map_err(|e| format!("{name}: {e}").into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let platform = Platform::new(
        Secret::from(var("AEP_ACCESS_TOKEN")?),
        var("AEP_API_KEY")?,
        Sandbox {
            org_id: &var("AEP_ORG_ID")?,
            name: &var("AEP_SANDBOX_NAME")?,
        },
    );
    let mut connection = PostgresConnection::new(
        "Test connection for PostgreSQL",
        PostgresLogin {
            server: &var("PGHOST")?,
            database: &var("PGDATABASE")?,
            username: &var("PGUSER")?,
            password: Secret::from(var("PGPASSWORD")?),
        },
    )
    .with_description("Test connection for PostgreSQL");
    if let Ok(port) = env::var("PGPORT") {
        connection = connection.with_port(port.parse()?);
    }
    if let Ok(mode) = env::var("PGSSLMODE") {
        connection = connection.with_ssl_mode(mode.parse()?);
    }
    let created = Client::new(platform)?.create_postgres_connection(&connection)?;
    println!(
        "{{\"id\":{},\"etag\":{}}}",
        serde_json::to_string(&created.id)?,
        serde_json::to_string(&created.etag)?
    );
    Ok(())
}
