//! Entry points for the fuzz targets in `fuzz/` and for property tests.
//! Not part of the supported API: compiled only with the hidden,
//! non-default `fuzzing` feature; may change.

use std::time::SystemTime;

use zeroize::Zeroizing;

use crate::client::results::parse_saved;
use crate::error::parse_api_error;
use crate::wire::http_date::parse_retry_after;
use crate::wire::response::RawResponse;
use crate::wire::scrub::Scrubber;
use crate::PostgresLogin;
use crate::{PostgresConnection, Secret};

fn raw(status: u16, body: &[u8]) -> RawResponse {
    RawResponse::from_body(status, body.to_vec(), Some("fuzz-request"))
}

/// Parses a create answer; `Ok((id, etag))` or the error's text.
pub fn create_response(status: u16, body: &[u8]) -> Result<(String, String), String> {
    parse_saved::<String>(&raw(status, body))
        .map(|c| (c.id, c.etag))
        .map_err(|e| e.to_string())
}

/// Parses an error answer (any envelope, or none) and formats it, with
/// `secret` registered for scrubbing. Returns the displayed text.
pub fn api_error(status: u16, body: &[u8], secret: &str) -> String {
    let mut scrubber = Scrubber::new();
    scrubber.add(secret);
    crate::Error::Api(Box::new(parse_api_error(&raw(status, body), &scrubber))).to_string()
}

/// Parses a page of a connection listing; the number of connections.
pub fn list_page(body: &[u8]) -> Result<usize, String> {
    crate::resources::connections::parse_page(&raw(200, body)).map_err(|e| e.to_string())
}

/// Parses a `Retry-After` value.
pub fn retry_after(value: &str) -> Option<std::time::Duration> {
    parse_retry_after(value, SystemTime::now())
}

/// Builds the connection string for these values; `None` when refused.
/// The string holds the password: it comes back in a zeroizing buffer.
pub fn connection_string(
    server: &str,
    database: &str,
    username: &str,
    password: &str,
) -> Option<Zeroizing<String>> {
    PostgresConnection::new(
        "fuzz",
        PostgresLogin {
            server,
            database,
            username,
            password: Secret::from(password),
        },
    )
    .connection_string()
    .ok()
    .map(|s| Zeroizing::new(s.expose_secret().to_owned()))
}

/// Splits a connection string into `(key, value)` pairs, undoing the
/// brace quoting; `None` when malformed.
pub fn parse_connection_string(s: &str) -> Option<Vec<(String, Zeroizing<String>)>> {
    crate::resources::postgres::parse_connection_string(s).map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| (k, Zeroizing::new(v)))
            .collect()
    })
}

/// Checks the scrubbing rule on one fuzz input (layout in
/// `fuzz/fuzz_targets/scrub.rs`): `Err` describes a run of the secret that
/// survived.
pub fn scrub(data: &[u8]) -> Result<(), String> {
    crate::wire::scrub::fuzz_one(data)
}
