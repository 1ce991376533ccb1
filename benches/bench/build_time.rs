//! Cold `cargo build --release` time: the library alone against a
//! reqwest-blocking equivalent doing the same job (issue 19, goal ≤ 0.45×).
//!
//! Two scratch crates in a temporary directory, each a `main` that sends
//! the tutorial's create (`POST .../connections` with a JSON body and a
//! zeroized password) and prints the answer:
//!
//! - `lib`: depends on this library (by path, default features: ureq,
//!   serde, serde_json, zeroize and nothing else), calls
//!   `create_postgres_connection`;
//! - `reqwest`: depends on `reqwest = { version = "0.12", default-features =
//!   false, features = ["blocking", "json", "rustls-tls"] }`, serde,
//!   serde_json and zeroize, and does the same POST by hand.
//!
//! Each is fetched first (`cargo fetch`, not timed: downloads are not
//! build time), then built with `cargo build --release` in its own fresh,
//! empty `CARGO_TARGET_DIR`, so every dependency is compiled from scratch.
//! The library's scratch crate reuses this repository's `Cargo.lock`, so it
//! builds the versions CI builds. Printed by `cargo bench` only; never run
//! by CI or the tests (it takes minutes and needs crates.io for reqwest).
//! When reqwest cannot be fetched, the library's own time is printed alone.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::run_timed;

/// The figures, in seconds; `reqwest` is `Err(reason)` when it could not
/// be fetched or built.
pub(crate) struct BuildTimes {
    pub lib: f64,
    pub reqwest: Result<f64, String>,
}

const LIB_MAIN: &str = r#"use aep_flow::{
    Client, Platform, PostgresConnection, PostgresLogin, Sandbox, Secret,
};

fn main() {
    let sandbox = Sandbox { org_id: "ORG@AdobeOrg", name: "prod" };
    let platform = Platform::new(Secret::from("token"), "key", sandbox)
        .with_base_url("http://127.0.0.1:9/data/foundation/flowservice");
    let conn = PostgresConnection::new(
        "n",
        PostgresLogin {
            server: "db.example.com",
            database: "orders",
            username: "etl",
            password: Secret::from("pw"),
        },
    );
    match Client::new(platform).and_then(|c| c.create_postgres_connection(&conn)) {
        Ok(created) => println!("{} {}", created.id, created.etag),
        Err(e) => eprintln!("{e}"),
    }
}
"#;

const REQWEST_MAIN: &str = r#"use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

#[derive(Serialize)]
struct Body<'a> {
    name: &'a str,
    auth: Auth<'a>,
    #[serde(rename = "connectionSpec")]
    connection_spec: Spec<'a>,
}
#[derive(Serialize)]
struct Auth<'a> {
    #[serde(rename = "specName")]
    spec_name: &'a str,
    params: Params<'a>,
}
#[derive(Serialize)]
struct Params<'a> {
    #[serde(rename = "connectionString")]
    connection_string: &'a str,
}
#[derive(Serialize)]
struct Spec<'a> {
    id: &'a str,
    version: &'a str,
}
#[derive(Deserialize)]
struct Created {
    id: String,
    etag: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = Zeroizing::new(String::from("token"));
    let conn = Zeroizing::new(format!(
        "Server={};Database={};UID={};Password={};SSLMode=verify-full",
        "db.example.com", "orders", "etl", "pw"
    ));
    let body = Zeroizing::new(serde_json::to_vec(&Body {
        name: "n",
        auth: Auth {
            spec_name: "Connection String Based Authentication",
            params: Params { connection_string: &conn },
        },
        connection_spec: Spec { id: "74a1c565-4e59-48d7-9d67-7c03b8a13137", version: "1.0" },
    })?);
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()?;
    let created: Created = client
        .post("http://127.0.0.1:9/data/foundation/flowservice/connections")
        .bearer_auth(token.as_str())
        .header("x-api-key", "key")
        .header("x-gw-ims-org-id", "ORG@AdobeOrg")
        .header("x-sandbox-name", "prod")
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()?
        .error_for_status()?
        .json()?;
    println!("{} {}", created.id, created.etag);
    Ok(())
}
"#;

/// Writes a scratch crate `name` under `dir` and returns its directory.
fn scratch(dir: &Path, name: &str, deps: &str, main: &str) -> Result<PathBuf, String> {
    let root = dir.join(name);
    fs::create_dir_all(root.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"cold-{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\n{deps}\n\n[workspace]\n"
    );
    fs::write(root.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    fs::write(root.join("src/main.rs"), main).map_err(|e| e.to_string())?;
    Ok(root)
}

/// `cargo fetch`, then a timed `cargo build --release` in a fresh target
/// directory. Returns the build's wall time in seconds.
fn cold_build(root: &Path) -> Result<f64, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = root.join("Cargo.toml");
    let (_, out) = run_timed(
        Command::new(&cargo)
            .arg("fetch")
            .arg("--manifest-path")
            .arg(&manifest),
        Duration::from_secs(600),
    )?;
    if !out.status.success() {
        return Err(format!(
            "cargo fetch failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let target = root.join("target");
    let _ = fs::remove_dir_all(&target);
    let (took, out) = run_timed(
        Command::new(&cargo)
            .args(["build", "--release", "--quiet", "--manifest-path"])
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("RUSTC_WRAPPER"),
        Duration::from_secs(1800),
    )?;
    if !out.status.success() {
        return Err(format!(
            "cargo build failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let _ = fs::remove_dir_all(&target);
    Ok(took.as_secs_f64())
}

/// Builds both scratch crates cold, the library's first.
pub(crate) fn cold_build_times() -> Result<BuildTimes, String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("aep-flow-cold-build-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = (|| {
        let lib = scratch(
            &dir,
            "lib",
            &format!("aep-flow = {{ path = {:?} }}", repo.display().to_string()),
            LIB_MAIN,
        )?;
        // The versions CI builds; cargo drops what this crate does not use.
        let _ = fs::copy(repo.join("Cargo.lock"), lib.join("Cargo.lock"));
        let lib_time = cold_build(&lib).map_err(|e| format!("library: {e}"))?;
        let reqwest = scratch(
            &dir,
            "reqwest",
            "reqwest = { version = \"0.12\", default-features = false, features = [\"blocking\", \"json\", \"rustls-tls\"] }\n\
             serde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"\nzeroize = \"1.8\"",
            REQWEST_MAIN,
        )?;
        Ok(BuildTimes {
            lib: lib_time,
            reqwest: cold_build(&reqwest),
        })
    })();
    let _ = fs::remove_dir_all(&dir);
    result
}

/// Prints the figure: both times and their ratio (goal ≤ 0.45).
pub(crate) fn print_cold_build_times() {
    println!();
    println!("cold `cargo build --release` (fresh target dir each, downloads not timed):");
    match cold_build_times() {
        Err(e) => println!("  n/a: {e}"),
        Ok(t) => {
            println!(
                "  library alone (ureq, serde, serde_json, zeroize): {:.1} s",
                t.lib
            );
            match t.reqwest {
                Ok(r) => {
                    println!("  reqwest-blocking equivalent:                     {r:.1} s");
                    println!("  cold_build_vs_reqwest {:.2} (goal <= 0.45)", t.lib / r);
                    println!(
                        "cold_build_lib_s={:.1} cold_build_reqwest_s={r:.1} cold_build_vs_reqwest={:.3}",
                        t.lib,
                        t.lib / r
                    );
                }
                Err(e) => {
                    println!("  reqwest-blocking equivalent: n/a ({e})");
                    println!("cold_build_lib_s={:.1} cold_build_vs_reqwest=n/a", t.lib);
                }
            }
        }
    }
}
