//! Who is calling and where: the credentials every Platform call carries
//! and the base URL.

use std::net::IpAddr;

use super::ims::ImsCredentials;
use super::input::check_header_value;
use crate::error::Error;
use crate::secret::Secret;

/// The Adobe I/O gateway in production: every Platform service is below it.
pub const DEFAULT_PLATFORM_URL: &str = "https://platform.adobe.io";
/// Flow Service's path below the gateway root.
pub const FLOW_SERVICE_PATH: &str = "/data/foundation/flowservice";
/// Data Prep's (mapping sets) path below the gateway root.
pub const DATA_PREP_PATH: &str = "/data/foundation/conversion";
/// Catalog's (datasets) path below the gateway root.
pub const CATALOG_PATH: &str = "/data/foundation/catalog";
/// Flow Service's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://platform.adobe.io/data/foundation/flowservice";

/// Who is calling and where: the four values every Platform call carries,
/// plus the base URL.
///
/// ```
/// use aep_flow::{Platform, Sandbox, Secret};
/// let platform = Platform::new(
///     Secret::from(std::env::var("AEP_ACCESS_TOKEN").unwrap_or_default()),
///     "my-client-id",
///     Sandbox {
///         org_id: "ABC123@AdobeOrg",
///         name: "prod",
///     },
/// );
/// assert_eq!(platform.platform_url(), "https://platform.adobe.io");
/// assert_eq!(platform.base_url(), aep_flow::spec::DEFAULT_BASE_URL);
/// assert_eq!(platform.sandbox_name(), "prod");
/// ```
#[derive(Debug)]
#[must_use = "a `Platform` does nothing until a `Client` is built with it"]
pub struct Platform {
    pub(crate) token: TokenSource,
    pub(crate) api_key: String,
    pub(crate) org_id: String,
    pub(crate) sandbox_name: String,
    /// The gateway root; each service's base is derived from it. `Err`:
    /// a `with_base_url` value that does not end in the Flow Service path,
    /// kept as given for the build to refuse with a clear message.
    pub(crate) platform_url: Result<String, String>,
}

/// Where the bearer token comes from.
#[derive(Debug)]
pub(crate) enum TokenSource {
    /// Given by the caller; never renewed.
    Static(Secret),
    /// Fetched from IMS, cached, renewed.
    Ims(Box<ImsCredentials>),
}

/// The IMS organization and the sandbox every request names
/// (`x-gw-ims-org-id`, `x-sandbox-name`), by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sandbox<'a> {
    /// The IMS organization id (`...@AdobeOrg`).
    pub org_id: &'a str,
    /// The sandbox's name (`prod`).
    pub name: &'a str,
}

impl Platform {
    /// Credentials for the production Flow Service: a bearer access token
    /// (from Adobe IMS), the API key (the Developer Console client id), and
    /// the organization and sandbox.
    pub fn new(access_token: Secret, api_key: impl Into<String>, sandbox: Sandbox<'_>) -> Self {
        let token = TokenSource::Static(access_token);
        Platform::with_token(token, api_key.into(), sandbox)
    }

    /// Credentials that get their access tokens from Adobe IMS (OAuth
    /// Server-to-Server): the client fetches a token when it first needs
    /// one, reuses it, renews it 5 minutes before it expires, and on a 401
    /// renews once and retries the request once. The API key defaults to
    /// the client id ([`with_api_key`](Platform::with_api_key) changes it).
    pub fn from_ims(ims: ImsCredentials, sandbox: Sandbox<'_>) -> Self {
        let api_key = ims.client_id().to_owned();
        Platform::with_token(TokenSource::Ims(Box::new(ims)), api_key, sandbox)
    }

    fn with_token(token: TokenSource, api_key: String, sandbox: Sandbox<'_>) -> Self {
        Platform {
            token,
            api_key,
            org_id: sandbox.org_id.to_owned(),
            sandbox_name: sandbox.name.to_owned(),
            platform_url: Ok(DEFAULT_PLATFORM_URL.to_owned()),
        }
    }

    /// Sets the API key (`x-api-key`).
    pub fn with_api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = api_key.into();
        self
    }

    /// Overrides the gateway root (a stage environment such as
    /// `https://platform-stage.adobe.io`, or a local fake): Flow Service,
    /// Data Prep and Catalog are reached below it. Must be `https://` unless
    /// the host is a loopback address. Defaults to [`DEFAULT_PLATFORM_URL`].
    pub fn with_platform_url(mut self, url: impl Into<String>) -> Self {
        self.platform_url = Ok(url.into());
        self
    }

    /// Overrides Flow Service's base URL, for compatibility: it must end in
    /// [`FLOW_SERVICE_PATH`], and the gateway root is what precedes that
    /// suffix (the other services are derived from it). Anything else is
    /// refused when the client is built; use
    /// [`with_platform_url`](Platform::with_platform_url).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        let url: String = base_url.into();
        let trimmed = url.trim_end_matches('/');
        self.platform_url = match trimmed.strip_suffix(FLOW_SERVICE_PATH) {
            Some(root) if !root.is_empty() => Ok(root.to_owned()),
            _ => Err(url),
        };
        self
    }

    /// The gateway root.
    pub fn platform_url(&self) -> &str {
        match &self.platform_url {
            Ok(url) | Err(url) => url,
        }
    }

    /// Flow Service's base URL: the gateway root and [`FLOW_SERVICE_PATH`].
    pub fn base_url(&self) -> String {
        format!(
            "{}{FLOW_SERVICE_PATH}",
            self.platform_url().trim_end_matches('/')
        )
    }

    /// The checked gateway root.
    pub(crate) fn parsed_root(&self) -> Result<BaseUrl, Error> {
        let raw = match &self.platform_url {
            Ok(root) => return parse_base_url("platform.platform_url", root),
            Err(raw) => raw,
        };
        parse_base_url("platform.base_url", raw)?;
        Err(Error::invalid_input(
            "platform.base_url",
            format!(
                "must end in {FLOW_SERVICE_PATH} (Data Prep and Catalog are reached from the \
                 gateway root: use Platform::with_platform_url for it)"
            ),
        ))
    }

    /// The API key (`x-api-key`).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The IMS organization id (`x-gw-ims-org-id`).
    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    /// The sandbox name (`x-sandbox-name`).
    pub fn sandbox_name(&self) -> &str {
        &self.sandbox_name
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        match &self.token {
            TokenSource::Static(token) => {
                check_header_value("platform.access_token", token.expose_secret())?
            }
            TokenSource::Ims(ims) => ims.validate()?,
        }
        for (field, value) in [
            ("platform.api_key", self.api_key.as_str()),
            ("platform.org_id", self.org_id.as_str()),
            ("platform.sandbox_name", self.sandbox_name.as_str()),
        ] {
            check_header_value(field, value)?;
        }
        Ok(())
    }
}

/// A checked base URL: `scheme://host[:port]/path`, no query or fragment,
/// no trailing slash.
#[derive(Debug, Clone)]
pub(crate) struct BaseUrl {
    pub url: String,
    /// The path part (`/data/foundation/flowservice`), possibly empty.
    pub path_start: usize,
    pub loopback: bool,
}

impl BaseUrl {
    pub(crate) fn path(&self) -> &str {
        &self.url[self.path_start..]
    }

    /// The URL with `path` appended (e.g. a service's path below the
    /// gateway root); the same host, so its path starts where it did.
    pub(crate) fn with_path(&self, path: &str) -> BaseUrl {
        BaseUrl {
            url: format!("{}{path}", self.url),
            ..*self
        }
    }
}

/// Checks a base URL. `field` names it in errors.
pub(crate) fn parse_base_url(field: &str, raw: &str) -> Result<BaseUrl, Error> {
    let bad = |rule: &str| Error::invalid_input(field, rule.to_owned());
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("must not contain spaces or control characters"));
    }
    // RFC 3986's characters only: no `"`, `|`, `{`, `}`, `<`, `>`, `\`,
    // `^`, backquote or raw non-ASCII.
    if !raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b))
    {
        return Err(bad(
            "may contain only URL characters (percent-encode anything else)",
        ));
    }
    let (scheme, rest) = raw.split_once("://").ok_or_else(|| {
        bad("must be an absolute URL such as https://platform.adobe.io/data/foundation/flowservice")
    })?;
    let scheme = scheme.to_ascii_lowercase();
    if rest.contains(['?', '#']) {
        return Err(bad("must not have a query or fragment"));
    }
    if !percent_escapes_are_valid(rest) {
        return Err(bad("has a `%` that does not start a %XX escape"));
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad("must not contain user information"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("has an unclosed `[` in the host"))?;
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("has a bracketed host that is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad("has text after the IPv6 address"))?,
            ),
        };
        (inside, port)
    } else {
        authority
            .split_once(':')
            .map_or((authority, None), |(h, p)| (h, Some(p)))
    };
    if host.is_empty() {
        return Err(bad("must name a host"));
    }
    if !authority.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(bad(
            "has a host with characters other than letters, digits, `-` and `.`",
        ));
    }
    if let Some(port) = port {
        // Digits only (`u32` parsing would take `+1`), at most five (it
        // would take `000001`); an empty port does not parse.
        let valid = port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !valid {
            return Err(bad("has a port that is not a number from 1 to 65535"));
        }
    }
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match scheme.as_str() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(bad(
            "must use https:// (plain http is allowed only for loopback hosts such as 127.0.0.1)",
        )),
    }
    let url = format!("{scheme}://{}", rest.trim_end_matches('/'));
    let path_start = scheme.len() + 3 + authority.len();
    Ok(BaseUrl {
        path_start: path_start.min(url.len()),
        url,
        loopback,
    })
}

fn percent_escapes_are_valid(s: &str) -> bool {
    // What follows each `%` starts with two hex digits (never a `%`).
    s.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|xx| xx.iter().all(u8::is_ascii_hexdigit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: Error) -> String {
        match e {
            Error::InvalidInput { field, .. } => field,
            other => panic!("expected InvalidInput, got {other}"),
        }
    }

    #[test]
    fn a_base_url_outside_flow_service_is_shown_as_given_and_refused_at_build() {
        let sandbox = Sandbox {
            org_id: "ORG@AdobeOrg",
            name: "prod",
        };
        let platform = Platform::new(Secret::from("tok"), "key", sandbox)
            .with_base_url("https://h.example/data/foundation/catalog");
        assert_eq!(
            platform.platform_url(),
            "https://h.example/data/foundation/catalog"
        );
        let e = platform.parsed_root().unwrap_err();
        assert!(
            e.to_string()
                .contains("must end in /data/foundation/flowservice"),
            "{e}"
        );
        assert_eq!(field_of(e), "platform.base_url");
        let fixed = platform.with_platform_url("https://h.example");
        assert_eq!(fixed.parsed_root().unwrap().url, "https://h.example");
        let fixed = Platform::new(Secret::from("tok"), "key", sandbox)
            .with_base_url("https://h.example/x")
            .with_base_url("https://h.example/data/foundation/flowservice/");
        assert_eq!(
            fixed.base_url(),
            "https://h.example/data/foundation/flowservice"
        );
    }

    #[test]
    fn base_url_rules() {
        for ok in [
            "https://platform.adobe.io/data/foundation/flowservice",
            "https://platform-stage.adobe.io/data/foundation/flowservice/",
            "http://127.0.0.1:8080/x",
            "http://localhost:1",
            "http://[::1]:9/x",
            "http://127.3.4.5",
            "https://h.example:65535/a%20b",
        ] {
            assert!(parse_base_url("platform.base_url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://platform.adobe.io/data",
            "http://10.0.0.1/x",
            "http://localhost.evil.com/x",
            "ftp://127.0.0.1/",
            "platform.adobe.io",
            "https://user:pw@platform.adobe.io",
            "https://platform.adobe.io/x?y=1",
            "https://",
            "https://h.example:99999/x",
            "https://h.example:0/x",
            "https://h.example:abc/x",
            "https://h.example:/x",
            "https://h.example:-1/x",
            "https://h.example/a\"b",
            "https://h.example/a|b",
            "https://h.example/{x}",
            "https://h.example/caf\u{e9}",
            "https://h\u{e9}.example/",
            "https://h.example/%zz",
            "https://h.example/%4",
            "http://[::1/x",
            "http://[zz]/x",
            "https://h_x.example/",
        ] {
            let e = parse_base_url("platform.base_url", bad).unwrap_err();
            assert_eq!(field_of(e), "platform.base_url", "{bad}");
        }
        let b = parse_base_url("f", "https://h.example/a/").unwrap();
        assert_eq!(b.url, "https://h.example/a");
        assert_eq!(b.path(), "/a");
        assert!(!b.loopback);
        let b = parse_base_url("f", "http://[::1]:9").unwrap();
        assert_eq!((b.path(), b.loopback), ("", true));
    }
}
