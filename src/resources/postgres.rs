//! PostgreSQL connection parameters ([`PostgresLogin`], named fields;
//! [`PostgresCredentials`]; [`PostgresConnection`]), the two auth specs
//! ([`AuthSpec`]) and [`SslMode`], the connection string (built in a
//! zeroizing buffer sized once), and the create and rotation request
//! bodies that `connections` sends.
//!
//! [`PostgresLogin`]: crate::PostgresLogin
//! [`PostgresCredentials`]: crate::PostgresCredentials
//! [`PostgresConnection`]: crate::PostgresConnection
//! [`AuthSpec`]: crate::AuthSpec
//! [`SslMode`]: crate::SslMode

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use zeroize::Zeroizing;

use super::{check_name_and_description, name_and_description};
use crate::client::input::{check_no_control, require_text};
use crate::error::{named_enum, Error};
use crate::secret::Secret;
use crate::wire::body::{PatchOp, SpecRef};
use crate::wire::buffer::{exact_string, serialize_exact};
use crate::wire::scrub::{Scrubber, SecretTables};

/// Flow Service's connection spec id for PostgreSQL.
pub const POSTGRES_CONNECTION_SPEC_ID: &str = "74a1c565-4e59-48d7-9d67-7c03b8a13137";
/// The connection spec version Adobe documents for PostgreSQL.
pub const POSTGRES_CONNECTION_SPEC_VERSION: &str = "1.0";
/// Auth spec name of the connection-string form (the tutorial's).
pub const CONNECTION_STRING_AUTH: &str = "Connection String Based Authentication";
/// Auth spec name of the field-by-field form.
pub const BASIC_AUTH: &str = "Basic Authentication";
/// PostgreSQL's default port.
pub const DEFAULT_PORT: u16 = 5432;

/// Characters that force a connection-string value into braces (ODBC rule).
const SPECIAL: &[char] = &[
    '[', ']', '{', '}', '(', ')', ',', ';', '?', '*', '=', '!', '@', '"', '\'',
];

/// How the credentials are sent to Flow Service. Written (`as_str`,
/// `Display`) as the connection spec names it
/// ([`CONNECTION_STRING_AUTH`], [`BASIC_AUTH`]); read (`FromStr`, exact
/// case) from those names or the short `connection-string` and `basic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AuthSpec {
    /// `Connection String Based Authentication`: one ODBC-style string
    /// `Server=..;Database=..;Port=..;UID=..;Password=..`. The tutorial's form
    /// and the default.
    #[default]
    ConnectionString,
    /// `Basic Authentication`: separate `server`, `port`, `database`,
    /// `username`, `password` (and `sslMode`) fields. Needs only JSON
    /// escaping, so it is the safer choice for passwords with `;`, `}` or
    /// other special characters.
    Basic,
}

named_enum! {
    /// The `specName` Flow Service knows this auth spec by:
    /// [`CONNECTION_STRING_AUTH`] or [`BASIC_AUTH`].
    AuthSpec,
    |name, word| name == word,
    "must be `connection-string` or `basic` (or the spec's name)";
    ConnectionString => CONNECTION_STRING_AUTH, "connection-string";
    Basic => BASIC_AUTH, "basic";
}

/// libpq's `sslmode` values. Written (`as_str`, `Display`) and read
/// (`FromStr`, exact case) in libpq's spelling (`verify-ca`). libpq's set
/// is fixed, so the enum is exhaustive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS only if the server insists.
    Allow,
    /// TLS if the server offers it.
    Prefer,
    /// TLS, certificate not verified.
    Require,
    /// TLS, certificate chain verified.
    VerifyCa,
    /// TLS, certificate chain and host name verified.
    VerifyFull,
}

impl SslMode {
    /// The connection-string options for this mode (empty for allow/prefer,
    /// which the connection string cannot express).
    pub fn connection_string_options(self) -> &'static str {
        match self {
            SslMode::Disable => ";EncryptionMethod=0",
            SslMode::Require => ";EncryptionMethod=1;ValidateServerCertificate=0",
            SslMode::VerifyCa | SslMode::VerifyFull => {
                ";EncryptionMethod=1;ValidateServerCertificate=1"
            }
            SslMode::Allow | SslMode::Prefer => "",
        }
    }

    /// The `sslMode` value Basic Authentication uses.
    pub fn basic_auth_value(self) -> &'static str {
        match self {
            SslMode::Disable => "Disable",
            SslMode::Allow => "Allow",
            SslMode::Prefer => "Prefer",
            SslMode::Require => "Require",
            SslMode::VerifyCa => "Verify-Ca",
            SslMode::VerifyFull => "Verify-Full",
        }
    }
}

named_enum! {
    /// The libpq spelling (`verify-ca`).
    SslMode,
    |name, word| name == word,
    "must be one of disable, allow, prefer, require, verify-ca, verify-full";
    Disable => "disable";
    Allow => "allow";
    Prefer => "prefer";
    Require => "require";
    VerifyCa => "verify-ca";
    VerifyFull => "verify-full";
}

/// Where and as whom Flow Service logs in to the database: host, port,
/// database, user, password and SSL mode. A credential rotation replaces
/// all of them at once (the service never returns stored credentials, so
/// nothing can be merged).
///
/// ```
/// use aep_flow::{PostgresCredentials, PostgresLogin, Secret, SslMode};
/// let creds = PostgresCredentials::new(PostgresLogin {
///     server: "db.example.com",
///     database: "orders",
///     username: "etl_reader",
///     password: Secret::from("s3cret"),
/// })
/// .with_port(5433)
/// .with_ssl_mode(SslMode::VerifyFull);
/// assert_eq!(creds.port(), 5433);
/// assert_eq!(creds.ssl_mode(), Some(SslMode::VerifyFull));
/// ```
#[must_use = "a builder does nothing until it is used"]
pub struct PostgresCredentials {
    server: String,
    port: u16,
    database: String,
    username: String,
    password: Secret,
    ssl_mode: Option<SslMode>,
    basic_ssl_mode_value: Option<String>,
    /// The scrubber's spellings of the password, computed once (wiped on
    /// drop).
    scrub_tables: OnceLock<Arc<SecretTables>>,
}

impl fmt::Debug for PostgresCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresCredentials")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("ssl_mode", &self.ssl_mode)
            .field("basic_ssl_mode_value", &self.basic_ssl_mode_value)
            .finish()
    }
}

/// Where and as whom to log in to PostgreSQL, by name: what
/// [`PostgresCredentials::new`] and [`PostgresConnection::new`] take, so
/// that the server, the database and the user cannot be swapped unseen.
///
/// ```
/// use aep_flow::{PostgresLogin, Secret};
///
/// let login = PostgresLogin {
///     server: "db.example.com",
///     database: "orders",
///     username: "etl_reader",
///     password: Secret::from("s3cret"),
/// };
/// # let _ = login;
/// ```
#[derive(Debug)]
pub struct PostgresLogin<'a> {
    /// The host name or address.
    pub server: &'a str,
    /// The database.
    pub database: &'a str,
    /// The user.
    pub username: &'a str,
    /// The user's password.
    pub password: Secret,
}

impl PostgresCredentials {
    /// `login.database` on `login.server` (port 5432), logging in as
    /// `login.username` with `login.password`, no SSL mode.
    pub fn new(login: PostgresLogin<'_>) -> Self {
        PostgresCredentials {
            server: login.server.to_owned(),
            port: DEFAULT_PORT,
            database: login.database.to_owned(),
            username: login.username.to_owned(),
            password: login.password,
            ssl_mode: None,
            basic_ssl_mode_value: None,
            scrub_tables: OnceLock::new(),
        }
    }

    /// Sets the port (1–65535). Defaults to 5432.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the SSL mode. Defaults to none (no SSL option sent). A
    /// rotation requires it: see [`Client::update_postgres_credentials`](crate::Client::update_postgres_credentials).
    pub fn with_ssl_mode(mut self, mode: SslMode) -> Self {
        self.ssl_mode = Some(mode);
        self
    }

    /// Overrides the literal `sslMode` string sent with Basic
    /// Authentication (Adobe's docs spell the values inconsistently).
    pub fn with_basic_ssl_mode_value(mut self, value: impl Into<String>) -> Self {
        self.basic_ssl_mode_value = Some(value.into());
        self
    }

    /// The port that will be sent.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The SSL mode, if set.
    pub fn ssl_mode(&self) -> Option<SslMode> {
        self.ssl_mode
    }

    /// The literal Basic Authentication `sslMode` override, if set.
    pub fn basic_ssl_mode_value(&self) -> Option<&str> {
        self.basic_ssl_mode_value.as_deref()
    }

    /// Checks the database fields as `spec` would send them.
    pub(crate) fn validate(&self, spec: AuthSpec) -> Result<(), Error> {
        if self.port == 0 {
            return Err(Error::invalid_input(
                "postgres.port",
                "must be between 1 and 65535",
            ));
        }
        for (field, value) in [
            ("postgres.server", self.server.as_str()),
            ("postgres.database", self.database.as_str()),
            ("postgres.username", self.username.as_str()),
        ] {
            require_text(field, value)?;
        }
        let password = self.password.expose_secret();
        if password.is_empty() {
            return Err(Error::invalid_input(
                "postgres.password",
                "must not be empty",
            ));
        }
        if password.len() > 4096 {
            return Err(Error::invalid_input(
                "postgres.password",
                "must be at most 4096 bytes",
            ));
        }
        if spec == AuthSpec::ConnectionString {
            check_no_control("postgres.password", password, false).map_err(|_| {
                Error::invalid_input(
                    "postgres.password",
                    "must not contain control characters in a connection string \
                     (use Basic Authentication for such passwords)",
                )
            })?;
        } else if password.contains('\0') {
            return Err(Error::invalid_input(
                "postgres.password",
                "must not contain a NUL character",
            ));
        }
        if let Some(v) = &self.basic_ssl_mode_value {
            require_text("postgres.ssl_mode", v)?;
        }
        Ok(())
    }

    /// Builds the connection string (`Server=..;Database=..;Port=..;UID=..;Password=..`
    /// plus SSL options), quoting values by the ODBC rule, in a buffer that is
    /// sized once and wiped on drop.
    pub fn connection_string(&self) -> Result<Secret, Error> {
        self.validate(AuthSpec::ConnectionString)?;
        let port = self.port.to_string();
        let parts: [(&str, &str); 5] = [
            ("Server=", &self.server),
            (";Database=", &self.database),
            (";Port=", &port),
            (";UID=", &self.username),
            (";Password=", self.password.expose_secret()),
        ];
        let options = self
            .ssl_mode
            .map(SslMode::connection_string_options)
            .unwrap_or("");
        let len = parts
            .iter()
            .map(|(k, v)| k.len() + quoted_len(v))
            .sum::<usize>()
            + options.len();
        let out = exact_string(len, |out| {
            for (key, value) in parts {
                out.push_str(key);
                push_quoted(out, value);
            }
            out.push_str(options);
        });
        Ok(Secret::from_zeroizing(out))
    }

    /// Serializes the auth params for `spec` through `f` into a zeroizing
    /// body, borrowing the secrets; the connection string (if any) is
    /// built once and wiped when the body holds it.
    fn with_params(
        &self,
        spec: AuthSpec,
        f: impl FnOnce(Params<'_>) -> Result<Zeroizing<Vec<u8>>, Error>,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        match spec {
            AuthSpec::ConnectionString => f(Params::ConnectionString {
                connection_string: self.connection_string()?.expose_secret(),
            }),
            AuthSpec::Basic => f(Params::Basic {
                server: &self.server,
                port: self.port,
                database: &self.database,
                username: &self.username,
                password: self.password.expose_secret(),
                ssl_mode: self
                    .basic_ssl_mode_value
                    .as_deref()
                    .or(self.ssl_mode.map(SslMode::basic_auth_value)),
            }),
        }
    }

    /// The JSON Patch that replaces a connection's auth params with these
    /// credentials, written as `spec` wants them (the connection's own
    /// auth spec): `[{"op": "replace", "path": "/auth/params", "value":
    /// {...}}]`. Same code, same zeroizing buffer as the create body.
    pub(crate) fn patch_body(&self, spec: AuthSpec) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.validate(spec)?;
        self.with_params(spec, |params| {
            serialize(&[PatchOp {
                op: "replace",
                path: Cow::Borrowed("/auth/params"),
                value: params,
            }])
        })
    }

    /// A scrubber for everything secret a request with these credentials
    /// carries: the password. Its brace-quoted form inside the connection
    /// string is one of the spellings the scrubber knows, and the rest of
    /// the connection string (host, database, user) is not secret.
    pub(crate) fn scrubber(&self) -> Scrubber<'static> {
        let tables = self
            .scrub_tables
            .get_or_init(|| Arc::new(SecretTables::new(self.password.expose_secret())));
        let mut s = Scrubber::new();
        s.add_tables(Arc::clone(tables));
        s
    }
}

/// A PostgreSQL base connection to create: a name, an optional
/// description, the auth spec, and the [`PostgresCredentials`].
///
/// ```
/// use aep_flow::{AuthSpec, PostgresConnection, PostgresLogin, Secret, SslMode};
/// let conn = PostgresConnection::new(
///     "orders-db",
///     PostgresLogin {
///         server: "db.example.com",
///         database: "orders",
///         username: "etl_reader",
///         password: Secret::from(String::from("s3cret")),
///     },
/// )
/// .with_description("Nightly orders import")
/// .with_port(5433)
/// .with_ssl_mode(SslMode::Require)
/// .with_auth_spec(AuthSpec::Basic);
/// assert_eq!(conn.credentials().port(), 5433);
/// assert_eq!(conn.auth_spec(), AuthSpec::Basic);
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until it is used"]
pub struct PostgresConnection {
    name: String,
    description: Option<String>,
    auth_spec: AuthSpec,
    credentials: PostgresCredentials,
}

name_and_description!(PostgresConnection);

impl PostgresConnection {
    /// A connection named `name` to the database of `login` (port 5432),
    /// using the connection-string auth spec and no SSL option.
    pub fn new(name: impl Into<String>, login: PostgresLogin<'_>) -> Self {
        PostgresConnection::from_credentials(name, PostgresCredentials::new(login))
    }

    /// A connection named `name` with these credentials.
    pub fn from_credentials(name: impl Into<String>, credentials: PostgresCredentials) -> Self {
        PostgresConnection {
            name: name.into(),
            description: None,
            auth_spec: AuthSpec::default(),
            credentials,
        }
    }

    /// Sets the port (1–65535). Defaults to 5432.
    pub fn with_port(mut self, port: u16) -> Self {
        self.credentials = self.credentials.with_port(port);
        self
    }

    /// Sets the SSL mode. Defaults to none (nothing sent).
    pub fn with_ssl_mode(mut self, mode: SslMode) -> Self {
        self.credentials = self.credentials.with_ssl_mode(mode);
        self
    }

    /// Overrides the literal `sslMode` string sent with Basic
    /// Authentication (Adobe's docs spell the values inconsistently).
    pub fn with_basic_ssl_mode_value(mut self, value: impl Into<String>) -> Self {
        self.credentials = self.credentials.with_basic_ssl_mode_value(value);
        self
    }

    /// Chooses the auth spec. Defaults to [`AuthSpec::ConnectionString`].
    pub fn with_auth_spec(mut self, spec: AuthSpec) -> Self {
        self.auth_spec = spec;
        self
    }

    /// The auth spec that will be used.
    pub fn auth_spec(&self) -> AuthSpec {
        self.auth_spec
    }

    /// The database credentials.
    pub fn credentials(&self) -> &PostgresCredentials {
        &self.credentials
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        check_name_and_description(&self.name, self.description.as_deref())?;
        self.credentials.validate(self.auth_spec)
    }

    /// The connection string these credentials make (see
    /// [`PostgresCredentials::connection_string`]).
    pub fn connection_string(&self) -> Result<Secret, Error> {
        self.credentials.connection_string()
    }

    /// Serializes the create request body into a zeroizing buffer of exactly
    /// the right size (measured first, so it never reallocates and leaves a
    /// stray copy of the password behind).
    pub(crate) fn request_body(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.validate()?;
        self.credentials.with_params(self.auth_spec, |params| {
            serialize(&CreateBody {
                name: &self.name,
                description: self.description.as_deref(),
                auth: AuthBody {
                    spec_name: self.auth_spec.as_str(),
                    params,
                },
                connection_spec: SpecRef::new(
                    POSTGRES_CONNECTION_SPEC_ID,
                    POSTGRES_CONNECTION_SPEC_VERSION,
                ),
            })
        })
    }

    pub(crate) fn scrubber(&self) -> Scrubber<'static> {
        self.credentials.scrubber()
    }
}

fn serialize<T: Serialize + ?Sized>(value: &T) -> Result<Zeroizing<Vec<u8>>, Error> {
    serialize_exact(value)
        .map_err(|_| Error::invalid_input("request", "could not be serialized as JSON"))
}

#[derive(Serialize)]
struct CreateBody<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    auth: AuthBody<'a>,
    #[serde(rename = "connectionSpec")]
    connection_spec: SpecRef<'static>,
}

#[derive(Serialize)]
pub(crate) struct AuthBody<'a> {
    #[serde(rename = "specName")]
    spec_name: &'a str,
    params: Params<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Params<'a> {
    ConnectionString {
        #[serde(rename = "connectionString")]
        connection_string: &'a str,
    },
    Basic {
        server: &'a str,
        #[serde(serialize_with = "as_text")]
        port: u16,
        database: &'a str,
        username: &'a str,
        password: &'a str,
        #[serde(rename = "sslMode", skip_serializing_if = "Option::is_none")]
        ssl_mode: Option<&'a str>,
    },
}

/// Adobe's examples send the port as a JSON string.
fn as_text<S: serde::Serializer>(port: &u16, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(port)
}

fn needs_braces(value: &str) -> bool {
    value.contains(SPECIAL)
        || value.starts_with(char::is_whitespace)
        || value.ends_with(char::is_whitespace)
}

fn quoted_len(value: &str) -> usize {
    if needs_braces(value) {
        value.len() + 2 + value.matches('}').count()
    } else {
        value.len()
    }
}

fn push_quoted(out: &mut String, value: &str) {
    if needs_braces(value) {
        out.push('{');
        for c in value.chars() {
            out.push(c);
            if c == '}' {
                out.push('}');
            }
        }
        out.push('}');
    } else {
        out.push_str(value);
    }
}

/// Quotes one connection-string value by the ODBC rule: braces around a
/// value that contains any of `[]{}(),;?*=!@'"` or starts or ends with white
/// space, with `}` doubled inside. Returns `None` for a value with a control
/// character, which the format cannot carry.
#[cfg(test)]
pub(crate) fn quote_connection_string_value(value: &str) -> Option<String> {
    if value.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(quoted_len(value));
    push_quoted(&mut out, value);
    Some(out)
}

/// Splits an ODBC-style connection string into `(key, value)` pairs,
/// undoing brace quoting. `None` when the string is malformed (an
/// unterminated brace, text after a closing brace, a pair without `=`).
/// Used only by the fuzz targets and the unit tests.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn parse_connection_string(s: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = &rest[..eq];
        if key.is_empty() || key.contains(';') {
            return None;
        }
        rest = &rest[eq + 1..];
        let value;
        if let Some(inner) = rest.strip_prefix('{') {
            let mut v = String::new();
            let mut chars = inner.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == '}' {
                    if inner[i + 1..].starts_with('}') {
                        v.push('}');
                        chars.next();
                    } else {
                        end = Some(i + 1);
                        break;
                    }
                } else {
                    v.push(c);
                }
            }
            let end = end?;
            rest = &inner[end..];
            value = v;
            match rest.strip_prefix(';') {
                Some(r) => rest = r,
                None if rest.is_empty() => {}
                None => return None,
            }
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            value = rest[..end].to_owned();
            rest = rest.get(end + 1..).unwrap_or("");
        }
        pairs.push((key.to_owned(), value));
    }
    Some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn conn(password: &str) -> PostgresConnection {
        PostgresConnection::new(
            "Test connection for PostgreSQL",
            PostgresLogin {
                server: "pg.example.com",
                database: "analytics",
                username: "etl",
                password: Secret::from(password),
            },
        )
    }

    #[test]
    fn plain_values_are_not_quoted() {
        let s = conn("hunter2").connection_string().unwrap();
        assert_eq!(
            s.expose_secret(),
            "Server=pg.example.com;Database=analytics;Port=5432;UID=etl;Password=hunter2"
        );
    }

    #[test]
    fn special_values_are_braced_and_closing_braces_doubled() {
        let s = conn("p;w}d").connection_string().unwrap();
        assert!(s.expose_secret().ends_with(";Password={p;w}}d}"));
        assert_eq!(quote_connection_string_value(" x").unwrap(), "{ x}");
        assert_eq!(quote_connection_string_value("a@b").unwrap(), "{a@b}");
        assert_eq!(quote_connection_string_value("it's").unwrap(), "{it's}");
        assert_eq!(
            quote_connection_string_value("plain pass").unwrap(),
            "plain pass"
        );
        assert_eq!(quote_connection_string_value("a\u{0}b"), None);
    }

    #[test]
    fn ssl_modes_append_the_documented_options() {
        let cases = [
            (None, ""),
            (Some(SslMode::Allow), ""),
            (Some(SslMode::Prefer), ""),
            (Some(SslMode::Disable), ";EncryptionMethod=0"),
            (
                Some(SslMode::Require),
                ";EncryptionMethod=1;ValidateServerCertificate=0",
            ),
            (
                Some(SslMode::VerifyCa),
                ";EncryptionMethod=1;ValidateServerCertificate=1",
            ),
            (
                Some(SslMode::VerifyFull),
                ";EncryptionMethod=1;ValidateServerCertificate=1",
            ),
        ];
        for (mode, suffix) in cases {
            let mut c = conn("pw12");
            if let Some(m) = mode {
                c = c.with_ssl_mode(m);
            }
            let s = c.connection_string().unwrap();
            let expected = format!(
                "Server=pg.example.com;Database=analytics;Port=5432;UID=etl;Password=pw12{suffix}"
            );
            assert_eq!(s.expose_secret(), expected, "{mode:?}");
        }
    }

    #[test]
    fn libpq_ssl_mode_names_parse_and_others_are_refused() {
        for m in [
            SslMode::Disable,
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ] {
            assert_eq!(m.as_str().parse::<SslMode>().unwrap(), m);
        }
        let err = "verify_full".parse::<SslMode>().unwrap_err();
        // Names the type and the rule (it was an `Error::InvalidInput` on
        // the field `postgres.ssl_mode` before the one enum convention).
        assert_eq!(err.type_name(), "SslMode");
        assert!(err.to_string().contains("verify-ca, verify-full"));
    }

    #[test]
    fn validation_names_the_field() {
        let cases: Vec<(PostgresConnection, &str)> = vec![
            (conn("pw").with_port(0), "postgres.port"),
            (conn(""), "postgres.password"),
            (conn("a\nb"), "postgres.password"),
            (
                PostgresConnection::new(
                    " ",
                    PostgresLogin {
                        server: "h",
                        database: "d",
                        username: "u",
                        password: Secret::from("p"),
                    },
                ),
                "name",
            ),
            (
                PostgresConnection::new(
                    "n",
                    PostgresLogin {
                        server: "",
                        database: "d",
                        username: "u",
                        password: Secret::from("p"),
                    },
                ),
                "postgres.server",
            ),
            (
                PostgresConnection::new(
                    "n",
                    PostgresLogin {
                        server: "h",
                        database: "",
                        username: "u",
                        password: Secret::from("p"),
                    },
                ),
                "postgres.database",
            ),
            (
                PostgresConnection::new(
                    "n",
                    PostgresLogin {
                        server: "h",
                        database: "d",
                        username: "",
                        password: Secret::from("p"),
                    },
                ),
                "postgres.username",
            ),
            (
                PostgresConnection::new(
                    "n",
                    PostgresLogin {
                        server: "h",
                        database: "d\u{7f}",
                        username: "u",
                        password: Secret::from("p"),
                    },
                ),
                "postgres.database",
            ),
            (
                PostgresConnection::new(
                    "n",
                    PostgresLogin {
                        server: "h\r\n",
                        database: "d",
                        username: "u",
                        password: Secret::from("p"),
                    },
                ),
                "postgres.server",
            ),
        ];
        for (c, field) in cases {
            match c.validate() {
                Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected invalid {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn basic_auth_accepts_a_tab_in_the_password_but_not_nul() {
        assert!(conn("a\tb")
            .with_auth_spec(AuthSpec::Basic)
            .validate()
            .is_ok());
        assert!(conn("a\0b")
            .with_auth_spec(AuthSpec::Basic)
            .validate()
            .is_err());
        assert!(conn("a\tb").validate().is_err());
    }

    #[test]
    fn body_buffer_is_exactly_sized() {
        let body = conn("p;w}d").with_description("d").request_body().unwrap();
        assert_eq!(body.len(), body.capacity());
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v["auth"]["params"]["connectionString"],
            "Server=pg.example.com;Database=analytics;Port=5432;UID=etl;Password={p;w}}d}"
        );
    }

    /// The create and rotation bodies, against the JSON the code sent
    /// before the bodies were typed (compared as values: key order is not
    /// meaning), each in an exactly sized buffer.
    #[test]
    fn bodies_are_the_documented_json_in_exact_buffers() {
        let spec = serde_json::json!({"id": POSTGRES_CONNECTION_SPEC_ID, "version": "1.0"});
        let cs = "Server=pg.example.com;Database=analytics;Port=5432;UID=etl;Password={p\"w}";
        let body = conn("p\"w").with_description("d").request_body().unwrap();
        assert_eq!(body.len(), body.capacity());
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"name": "Test connection for PostgreSQL", "description": "d",
                "auth": {"specName": CONNECTION_STRING_AUTH, "params": {"connectionString": cs}},
                "connectionSpec": spec})
        );
        let basic = conn("p\"w")
            .with_auth_spec(AuthSpec::Basic)
            .with_ssl_mode(SslMode::VerifyFull)
            .with_port(6543);
        let body = basic.request_body().unwrap();
        assert_eq!(body.len(), body.capacity());
        let params = serde_json::json!({"server": "pg.example.com", "port": "6543",
            "database": "analytics", "username": "etl", "password": "p\"w",
            "sslMode": "Verify-Full"});
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"name": "Test connection for PostgreSQL",
                "auth": {"specName": BASIC_AUTH, "params": params}, "connectionSpec": spec})
        );
        let patch = basic.credentials().patch_body(AuthSpec::Basic).unwrap();
        assert_eq!(patch.len(), patch.capacity());
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&patch).unwrap(),
            serde_json::json!([{"op": "replace", "path": "/auth/params", "value": params}])
        );
        let patch = conn("p\"w")
            .credentials()
            .patch_body(AuthSpec::ConnectionString)
            .unwrap();
        assert_eq!(patch.len(), patch.capacity());
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&patch).unwrap(),
            serde_json::json!([{"op": "replace", "path": "/auth/params",
                "value": {"connectionString": cs}}])
        );
    }

    #[test]
    fn the_scrubber_knows_the_password_in_its_quoted_form() {
        let c = conn("ab}cd;x");
        let scrubber = c.scrubber();
        // A message that quotes just the password as it sits in the
        // connection string: neither the raw password nor the whole string.
        let out = scrubber.scrub("bad value Password={ab}}cd;x} near UID");
        assert!(!out.contains("ab}"), "{out}");
        assert!(out.contains("[REDACTED]"), "{out}");
    }

    #[test]
    fn debug_of_a_connection_hides_the_password() {
        let text = format!("{:?}", conn("canary-pw-5150"));
        assert!(!text.contains("canary"), "{text}");
        assert!(text.contains("pg.example.com"));
    }

    #[test]
    fn parser_rejects_malformed_strings() {
        assert_eq!(parse_connection_string("Password={abc"), None);
        assert_eq!(parse_connection_string("Password={a}b"), None);
        assert_eq!(parse_connection_string("novalue"), None);
        assert_eq!(
            parse_connection_string("A=1;B={x;y}}}").unwrap(),
            vec![("A".into(), "1".into()), ("B".into(), "x;y}".into())]
        );
    }

    // Printable: any character that is not a control character.
    const PRINTABLE: &str = "[^\\p{Cc}]{1,40}";

    proptest! {
        #[test]
        fn quoting_round_trips(
            password in PRINTABLE,
            username in PRINTABLE,
            database in PRINTABLE,
            server in PRINTABLE,
            port in 1u16..,
        ) {
            let c = PostgresConnection::new(
                "n",
                PostgresLogin {
                    server: &server.clone(),
                    database: &database.clone(),
                    username: &username.clone(),
                    password: Secret::from(password.as_str()),
                },
            ).with_port(port).with_ssl_mode(SslMode::Require);
            let s = c.connection_string().unwrap();
            let pairs = parse_connection_string(s.expose_secret()).unwrap();
            let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            prop_assert_eq!(keys, vec!["Server", "Database", "Port", "UID", "Password",
                "EncryptionMethod", "ValidateServerCertificate"]);
            prop_assert_eq!(&pairs[0].1, &server);
            prop_assert_eq!(&pairs[1].1, &database);
            prop_assert_eq!(&pairs[2].1, &port.to_string());
            prop_assert_eq!(&pairs[3].1, &username);
            prop_assert_eq!(&pairs[4].1, &password);
        }

        #[test]
        fn control_characters_are_refused(
            prefix in "[a-z]{0,5}",
            control in "\\p{Cc}",
            suffix in "[a-z]{0,5}",
            field in 0usize..4,
        ) {
            let bad = format!("{prefix}{control}{suffix}");
            let mut values = ["db.internal", "orders", "etl", "pw"].map(str::to_owned);
            values[field] = bad.clone();
            let [server, database, username, password] = values;
            let c = PostgresConnection::new(
                "n",
                PostgresLogin {
                    server: &server,
                    database: &database,
                    username: &username,
                    password: Secret::from(password),
                },
            );
            let err = c.connection_string().unwrap_err();
            let name = ["postgres.server", "postgres.database", "postgres.username", "postgres.password"][field];
            prop_assert!(err.to_string().contains(name), "{}", err);
            prop_assert!(quote_connection_string_value(&bad).is_none());
            // Nothing a header or the body could carry is built.
            prop_assert!(c.request_body().is_err());
        }
    }
}
