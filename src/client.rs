//! The blocking Flow Service client.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use zeroize::Zeroizing;

use std::sync::Arc;

use crate::error::{Delivery, Error, Scrubber, Service, TransportError, TransportErrorKind};
use crate::ims::{self, Clock, ImsCredentials, ImsToken, SystemClock, TokenCache};
use crate::postgres::PostgresConnection;
use crate::response::{self, CreatedConnection, RawResponse};
use crate::secret::Secret;

/// Flow Service's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://platform.adobe.io/data/foundation/flowservice";
/// Default time allowed to open the TCP connection (and TLS handshake).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for a whole request, from connect to the last byte
/// of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on the size of a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1024 * 1024;
/// Default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Default bound on the total time spent on one call including retries.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(30);
/// Default first backoff when the service gives no `Retry-After`; it
/// doubles with each retry and is jittered down by up to half.
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(500);

pub(crate) const HEADER_AUTHORIZATION: &str = "authorization";
pub(crate) const HEADER_API_KEY: &str = "x-api-key";
pub(crate) const HEADER_ORG_ID: &str = "x-gw-ims-org-id";
pub(crate) const HEADER_SANDBOX: &str = "x-sandbox-name";
pub(crate) const HEADER_REQUEST_ID: &str = "x-request-id";
const USER_AGENT: &str = concat!("aep-flow/", env!("CARGO_PKG_VERSION"));

/// Who is calling and where: the four values every Platform call carries,
/// plus the base URL.
///
/// ```
/// use aep_flow::{Platform, Secret};
/// let platform = Platform::new(
///     Secret::from(std::env::var("AEP_ACCESS_TOKEN").unwrap_or_default()),
///     "my-client-id",
///     "ABC123@AdobeOrg",
///     "prod",
/// );
/// assert_eq!(platform.base_url(), aep_flow::DEFAULT_BASE_URL);
/// ```
pub struct Platform {
    token: TokenSource,
    api_key: String,
    org_id: String,
    sandbox_name: String,
    base_url: String,
}

impl Platform {
    /// Credentials for the production Flow Service: a bearer access token
    /// (from Adobe IMS), the API key (the Developer Console client id), the
    /// IMS organization id (`...@AdobeOrg`) and the sandbox name (`prod`).
    pub fn new(
        access_token: Secret,
        api_key: impl Into<String>,
        org_id: impl Into<String>,
        sandbox_name: impl Into<String>,
    ) -> Self {
        Platform {
            token: TokenSource::Static(Arc::new(access_token)),
            api_key: api_key.into(),
            org_id: org_id.into(),
            sandbox_name: sandbox_name.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
        }
    }

    /// Credentials that get their access tokens from Adobe IMS (OAuth
    /// Server-to-Server): the client fetches a token when it first needs
    /// one, reuses it, renews it 5 minutes before it expires, and on a 401
    /// renews once and retries the request once. The API key defaults to
    /// the client id ([`with_api_key`](Platform::with_api_key) changes it).
    pub fn from_ims(
        ims: ImsCredentials,
        org_id: impl Into<String>,
        sandbox_name: impl Into<String>,
    ) -> Self {
        Platform {
            api_key: ims.client_id().to_owned(),
            token: TokenSource::Ims(Box::new(ims)),
            org_id: org_id.into(),
            sandbox_name: sandbox_name.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
        }
    }

    /// Sets the API key (`x-api-key`).
    pub fn with_api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = api_key.into();
        self
    }

    /// Overrides the base URL (a stage environment, or a local fake). Must
    /// be `https://` unless the host is a loopback address.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
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

    fn validate(&self) -> Result<(), Error> {
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

impl fmt::Debug for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Platform")
            .field("token", &self.token)
            .field("api_key", &self.api_key)
            .field("org_id", &self.org_id)
            .field("sandbox_name", &self.sandbox_name)
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Where the bearer token comes from.
enum TokenSource {
    /// Given by the caller; never renewed.
    Static(Arc<Secret>),
    /// Fetched from IMS, cached, renewed.
    Ims(Box<ImsCredentials>),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Static(t) => f.debug_tuple("Static").field(t).finish(),
            TokenSource::Ims(ims) => f.debug_tuple("Ims").field(ims).finish(),
        }
    }
}

/// Header values must be visible ASCII: no spaces, no control characters,
/// nothing a proxy could read as a second header.
fn check_header_value(field: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid_input(
            field,
            "must be visible ASCII only (no spaces, control characters or non-ASCII bytes)",
        ));
    }
    Ok(())
}

/// A parsed base URL: `scheme://authority/path`, no query or fragment.
struct BaseUrl {
    url: String,
    loopback: bool,
}

fn parse_base_url(raw: &str) -> Result<BaseUrl, Error> {
    const FIELD: &str = "platform.base_url";
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::invalid_input(
            FIELD,
            "must not contain spaces or control characters",
        ));
    }
    let (scheme, rest) = raw.split_once("://").ok_or_else(|| {
        Error::invalid_input(
            FIELD,
            "must be an absolute URL such as https://platform.adobe.io/data/foundation/flowservice",
        )
    })?;
    let scheme = scheme.to_ascii_lowercase();
    if rest.contains(['?', '#']) {
        return Err(Error::invalid_input(
            FIELD,
            "must not have a query or fragment",
        ));
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err(Error::invalid_input(
            FIELD,
            "must not contain user information",
        ));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err(Error::invalid_input(FIELD, "must name a host"));
    }
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match scheme.as_str() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(Error::invalid_input(
            FIELD,
            "must use https:// (plain http is allowed only for loopback hosts such as 127.0.0.1)",
        )),
    }
    Ok(BaseUrl {
        url: format!("{scheme}://{}", rest.trim_end_matches('/')),
        loopback,
    })
}

/// One request: what `Client::send` needs to know.
pub(crate) struct Call<'b> {
    pub method: &'static str,
    /// Path and query under the base URL, starting with `/`.
    pub path: String,
    pub body: Option<&'b [u8]>,
    /// Sent as `If-Match`, exactly as given.
    pub if_match: Option<&'b str>,
    /// Safe to repeat: also retried on 502/503/504 and on failures after
    /// sending.
    pub idempotent: bool,
}

impl Call<'_> {
    /// A bodiless request that is safe to repeat (GET, DELETE).
    pub(crate) fn idempotent(method: &'static str, path: String) -> Self {
        Call {
            method,
            path,
            body: None,
            if_match: None,
            idempotent: true,
        }
    }
}

/// Answers IP-literal hosts (`127.0.0.1`, `[::1]`) itself and hands names
/// to ureq's resolver. With a global timeout set, ureq resolves every call
/// on a fresh thread (to be able to abandon a slow lookup), even for an
/// address that needs no lookup: measured, that thread cost most of a
/// loopback call (see the README's Performance section).
#[derive(Debug, Default)]
struct IpLiteralResolver(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for IpLiteralResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        if let Some(authority) = uri.authority() {
            let host = authority.host();
            let bare = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let port = authority.port_u16().or(match uri.scheme_str() {
                Some("https") => Some(443),
                Some("http") => Some(80),
                _ => None,
            });
            if let (Ok(ip), Some(port)) = (bare.parse::<IpAddr>(), port) {
                let mut addrs = self.empty();
                addrs.push(std::net::SocketAddr::new(ip, port));
                return Ok(addrs);
            }
        }
        self.0.resolve(uri, config, timeout)
    }
}

/// Settings for a [`Client`]. Every setting has a default; see each method.
pub struct ClientBuilder {
    platform: Platform,
    connect_timeout: Duration,
    timeout: Duration,
    max_response_bytes: u64,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    keep_alive_after_secret_bodies: bool,
    root_certificates_pem: Option<Vec<u8>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("platform", &self.platform)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .field(
                "keep_alive_after_secret_bodies",
                &self.keep_alive_after_secret_bodies,
            )
            .field("custom_roots", &self.root_certificates_pem.is_some())
            .finish()
    }
}

/// When and how long to wait before trying again.
#[derive(Debug, Clone, Copy)]
struct RetryPolicy {
    max_retries: u32,
    budget: Duration,
    backoff: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based) when the service gave
    /// no `Retry-After`: `backoff * 2^retry`, minus up to half at random so
    /// that many clients do not come back in step.
    fn backoff(&self, retry: u32) -> Duration {
        let full = self.backoff.saturating_mul(1 << retry.min(16));
        let random = RandomState::new().hash_one(retry);
        let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
        full.mul_f64(fraction)
    }
}

impl ClientBuilder {
    /// Time allowed to connect (TCP and TLS). Defaults to 10 seconds.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for a whole request, from connect to the last byte of
    /// the answer. Defaults to 60 seconds.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest response body accepted; a larger one is refused without
    /// reading it all. Defaults to 1 MiB.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Retries allowed after the first attempt, for answers that were not
    /// processed (429) and failures before anything was sent (DNS,
    /// connection refused, connect timeout); for idempotent calls (GET,
    /// DELETE) also for 502/503/504 and failures after sending. Defaults
    /// to 3. `0` disables retries.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// Bound on the waiting one call may do: a retry is made only if its
    /// wait ends within this time of the first attempt. A `Retry-After`
    /// that would end past it fails at once (the error carries the
    /// Retry-After) instead of sleeping. Defaults to 30 seconds.
    pub fn retry_budget(mut self, budget: Duration) -> Self {
        self.retry.budget = budget;
        self
    }

    /// First wait when the service gives no `Retry-After`; doubled for each
    /// further retry, with random jitter of up to half. Defaults to 500 ms.
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry.backoff = backoff;
        self
    }

    /// Whether a connection that has just carried a request body with a
    /// secret in it (a create, a credential rotation) may go back to the
    /// idle pool. Defaults to `false`: such a request is sent with
    /// `Connection: close`, so ureq's buffer holding the password is freed
    /// at once instead of lingering in an idle connection until the client
    /// is dropped. Set `true` for bulk creates, where reusing the
    /// connection saves a TCP (and TLS) handshake per call.
    pub fn keep_alive_after_secret_bodies(mut self, keep: bool) -> Self {
        self.keep_alive_after_secret_bodies = keep;
        self
    }

    /// Trusts exactly the CA certificates in this PEM bundle instead of
    /// Mozilla's roots (webpki-roots, the default): for a TLS-intercepting
    /// corporate proxy or a test server. Certificates are still verified;
    /// there is no way to turn verification off.
    pub fn root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem = Some(pem.into());
        self
    }

    /// The clock token expiry is measured with. Defaults to the system
    /// clock; tests pass a manual one (`aep_flow::testing::ManualClock`).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The trusted roots: Mozilla's, or exactly those of the PEM bundle.
    fn tls_config(&self) -> Result<ureq::tls::TlsConfig, Error> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(pem) = &self.root_certificates_pem {
            const FIELD: &str = "tls.root_certificates";
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                    Ok(_) => {}
                    Err(_) => return Err(Error::invalid_input(FIELD, "is not a valid PEM bundle")),
                }
            }
            if certs.is_empty() {
                return Err(Error::invalid_input(FIELD, "holds no CERTIFICATE section"));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        Ok(tls.build())
    }

    fn agent(&self, loopback: bool, tls: &ureq::tls::TlsConfig) -> ureq::Agent {
        let config = ureq::Agent::config_builder()
            .tls_config(tls.clone())
            // Error statuses are answers to parse, not transport failures.
            .http_status_as_error(false)
            // Never follow a redirect: the bearer token stays with the
            // configured host, and a 3xx becomes an error naming Location.
            .max_redirects(0)
            .https_only(!loopback)
            // Loopback traffic never goes through a proxy from the environment.
            .proxy(if loopback {
                None
            } else {
                ureq::Proxy::try_from_env()
            })
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.timeout))
            .user_agent(USER_AGENT)
            .build();
        ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::default(),
            IpLiteralResolver::default(),
        )
    }

    /// Checks the credentials and the base URL and builds the client. No
    /// network traffic happens here.
    pub fn build(self) -> Result<Client, Error> {
        self.platform.validate()?;
        let base = parse_base_url(&self.platform.base_url)?;
        const DAY: Duration = Duration::from_secs(24 * 60 * 60);
        if self.timeout.is_zero() || self.timeout > DAY {
            return Err(Error::invalid_input(
                "timeout",
                "must be greater than zero and at most a day",
            ));
        }
        if self.connect_timeout.is_zero() || self.connect_timeout > DAY {
            return Err(Error::invalid_input(
                "connect_timeout",
                "must be greater than zero and at most a day",
            ));
        }
        let tls = self.tls_config()?;
        let token_cache = match &self.platform.token {
            TokenSource::Static(_) => None,
            TokenSource::Ims(ims) => {
                let ims_base = parse_base_url(ims.ims_url()).map_err(|e| match e {
                    Error::InvalidInput { rule, .. } => Error::invalid_input("ims.url", rule),
                    other => other,
                })?;
                Some(TokenCache::new(
                    format!("{}{}", ims_base.url, ims::IMS_TOKEN_PATH),
                    self.agent(ims_base.loopback, &tls),
                ))
            }
        };
        Ok(Client {
            agent: self.agent(base.loopback, &tls),
            base_url: base.url,
            platform: self.platform,
            token_cache,
            clock: self.clock,
            max_response_bytes: self.max_response_bytes,
            retry: self.retry,
            keep_alive_after_secret_bodies: self.keep_alive_after_secret_bodies,
        })
    }
}

/// A reusable Flow Service client: holds one connection pool
/// (`ureq::Agent`), the credentials and the settings. Cheap to call many
/// times; not `Clone` (it holds the access token).
pub struct Client {
    agent: ureq::Agent,
    base_url: String,
    platform: Platform,
    /// Present when tokens come from IMS.
    token_cache: Option<TokenCache>,
    clock: Arc<dyn Clock>,
    keep_alive_after_secret_bodies: bool,
    max_response_bytes: u64,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("platform", &self.platform)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the default settings.
    pub fn new(platform: Platform) -> Result<Client, Error> {
        Client::builder(platform).build()
    }

    /// A builder to change timeouts and limits.
    pub fn builder(platform: Platform) -> ClientBuilder {
        ClientBuilder {
            platform,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy {
                max_retries: DEFAULT_MAX_RETRIES,
                budget: DEFAULT_RETRY_BUDGET,
                backoff: DEFAULT_RETRY_BACKOFF,
            },
            clock: Arc::new(SystemClock),
            keep_alive_after_secret_bodies: false,
            root_certificates_pem: None,
        }
    }

    /// The base URL in use (normalized: no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Creates a PostgreSQL base connection: `POST {base}/connections`.
    ///
    /// Validates everything first (an invalid field is an
    /// [`Error::InvalidInput`] and nothing is sent). Returns the new id and
    /// etag on 201 (or 200).
    pub fn create_postgres_connection(
        &self,
        connection: &PostgresConnection,
    ) -> Result<CreatedConnection, Error> {
        let prepared = connection.request_body()?;
        let mut scrubber = connection.scrubber(&prepared);
        // A create is not idempotent: only answers that were not processed
        // (429) and failures before sending are retried.
        let call = Call {
            method: "POST",
            path: "/connections".into(),
            body: Some(&prepared.body),
            if_match: None,
            idempotent: false,
        };
        let resp = self.send(&call, &mut scrubber)?;
        match resp.status {
            200 | 201 => response::parse_created(&resp),
            _ => Err(self.error_from(&resp, &scrubber)),
        }
    }

    /// Sends with the retry policy. Retried: 429 (not processed), failures
    /// before anything was sent, and, when `idempotent`, 502/503/504 and
    /// failures after sending. Everything else is returned at once.
    pub(crate) fn send<'s>(
        &'s self,
        call: &Call<'_>,
        scrubber: &mut Scrubber<'s>,
    ) -> Result<RawResponse, Error> {
        let idempotent = call.idempotent;
        let started = Instant::now();
        let mut attempts = 0u32;
        let mut renew_token = false;
        let mut renewed = false;
        let mut may_have_landed = false;
        loop {
            attempts += 1;
            // A failed token request ends the call: the platform request
            // was not sent, so it says nothing about what may have landed.
            let token = self.bearer_token(renew_token)?;
            renew_token = false;
            let mut result = self.execute(call, scrubber, token);
            if let Ok(resp) = &mut result {
                resp.attempts = attempts;
                resp.earlier_attempt_may_have_landed = may_have_landed;
                // A 401 was not processed: with an IMS token source, renew
                // once and send once more, whatever the method.
                if resp.status == 401 && self.token_cache.is_some() && !renewed {
                    renewed = true;
                    renew_token = true;
                    continue;
                }
            }
            let retries_left = attempts <= self.retry.max_retries;
            let (wait, landed) = match &result {
                Ok(resp) if resp.status == 429 => (
                    resp.retry_after
                        .unwrap_or_else(|| self.retry.backoff(attempts - 1)),
                    false,
                ),
                Ok(resp) if idempotent && matches!(resp.status, 502..=504) => (
                    resp.retry_after
                        .unwrap_or_else(|| self.retry.backoff(attempts - 1)),
                    true,
                ),
                // A certificate that does not verify will not verify on the
                // next try either; other failures before sending may pass.
                Err(Error::Transport(t))
                    if t.delivery == Delivery::NotSent && t.kind != TransportErrorKind::Tls =>
                {
                    (self.retry.backoff(attempts - 1), false)
                }
                Err(Error::Transport(_)) if idempotent => (self.retry.backoff(attempts - 1), true),
                _ => return result,
            };
            let fits = started
                .elapsed()
                .checked_add(wait)
                .is_some_and(|end| end <= self.retry.budget);
            if !(retries_left && fits) {
                return match result {
                    Ok(resp) => {
                        let mut err = self.error_from(&resp, scrubber);
                        if let Error::Api(api) = &mut err {
                            api.attempts = attempts;
                        }
                        Err(err)
                    }
                    Err(Error::Transport(mut t)) => {
                        t.attempts = attempts;
                        Err(Error::Transport(t))
                    }
                    other => other,
                };
            }
            may_have_landed |= landed;
            std::thread::sleep(wait);
        }
    }

    /// The bearer token for the next request: the static one, or IMS's
    /// (cached; fetched when missing, near expiry, or `renew`).
    fn bearer_token(&self, renew: bool) -> Result<Arc<Secret>, Error> {
        match (&self.platform.token, &self.token_cache) {
            (TokenSource::Static(token), _) => Ok(Arc::clone(token)),
            (TokenSource::Ims(ims), Some(cache)) => {
                cache.token(&*self.clock, renew, || self.fetch_token(ims, cache))
            }
            (TokenSource::Ims(_), None) => unreachable!("build() makes a cache for IMS"),
        }
    }

    /// `POST {ims}/ims/token/v3` with the form body. Its failures name
    /// Adobe IMS; a transport failure here means the platform request was
    /// not sent.
    fn fetch_token(&self, ims: &ImsCredentials, cache: &TokenCache) -> Result<ImsToken, Error> {
        self.request_token(ims, cache).map_err(|e| match e {
            Error::Transport(mut t) => {
                t.detail = format!("Adobe IMS token request: {}", t.detail);
                t.delivery = Delivery::NotSent;
                Error::Transport(t)
            }
            Error::UnexpectedResponse {
                status,
                detail,
                request_id,
            } => Error::UnexpectedResponse {
                status,
                detail: format!("Adobe IMS token request: {detail}"),
                request_id,
            },
            other => other,
        })
    }

    fn request_token(&self, ims: &ImsCredentials, cache: &TokenCache) -> Result<ImsToken, Error> {
        let body = ims.form_body();
        // The client secret, raw and as it appears in the form body.
        let mut scrubber = Scrubber::new();
        scrubber.add(ims.client_secret().expose_secret());
        scrubber.add_owned(ims.encoded_secret());
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(&cache.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            // The connection's buffer held the client secret: don't pool it.
            .header("connection", "close")
            .body(&body[..])
            .map_err(|_| Error::invalid_input("ims.url", "does not form a valid request URL"))?;
        let resp = exchange(&cache.agent, request, self.max_response_bytes, &scrubber)?;
        match resp.status {
            200 => ims::parse_token(&resp),
            300..=399 => Err(self.error_from(&resp, &scrubber)),
            _ => {
                let mut api = response::parse_api_error(&resp, &scrubber);
                api.service = Service::Ims;
                Err(Error::Api(Box::new(api)))
            }
        }
    }

    /// Turns a non-success answer into the right error.
    pub(crate) fn error_from(&self, resp: &RawResponse, scrubber: &Scrubber<'_>) -> Error {
        match resp.status {
            300..=399 => Error::UnexpectedResponse {
                status: resp.status,
                detail: format!(
                    "redirect to {} not followed (the access token is only sent to the configured base URL)",
                    resp.location
                        .as_deref()
                        .map(|l| scrubber.scrub(l))
                        .unwrap_or_else(|| "an unnamed location".into())
                ),
                request_id: resp.request_id.clone(),
            },
            400..=599 => Error::Api(Box::new(response::parse_api_error(resp, scrubber))),
            _ => Error::UnexpectedResponse {
                status: resp.status,
                detail: "a status this operation does not use".into(),
                request_id: resp.request_id.clone(),
            },
        }
    }

    /// Sends one request with the platform headers and reads the answer
    /// (bounded) into a zeroizing buffer.
    pub(crate) fn execute<'s>(
        &'s self,
        call: &Call<'_>,
        scrubber: &mut Scrubber<'s>,
        token: Arc<Secret>,
    ) -> Result<RawResponse, Error> {
        scrubber.add_shared(Arc::clone(&token));
        let token = token.expose_secret();
        let mut authorization = Zeroizing::new(String::with_capacity(7 + token.len()));
        authorization.push_str("Bearer ");
        authorization.push_str(token);

        let url = format!("{}{}", self.base_url, call.path);
        let mut builder = ureq::http::Request::builder()
            .method(call.method)
            .uri(&url)
            .header(HEADER_AUTHORIZATION, authorization.as_str())
            .header(HEADER_API_KEY, &self.platform.api_key)
            .header(HEADER_ORG_ID, &self.platform.org_id)
            .header(HEADER_SANDBOX, &self.platform.sandbox_name)
            .header("accept", "application/json");
        if let Some(etag) = call.if_match {
            builder = builder.header("if-match", etag);
        }
        let invalid_url =
            |_| Error::invalid_input("platform.base_url", "does not form a valid request URL");
        match call.body {
            Some(bytes) => {
                if !self.keep_alive_after_secret_bodies {
                    builder = builder.header("connection", "close");
                }
                let request = builder
                    .header("content-type", "application/json")
                    .body(bytes)
                    .map_err(invalid_url)?;
                exchange(&self.agent, request, self.max_response_bytes, scrubber)
            }
            None => {
                let request = builder.body(()).map_err(invalid_url)?;
                exchange(&self.agent, request, self.max_response_bytes, scrubber)
            }
        }
    }
}

/// Runs one request and reads the answer (bounded) into a zeroizing buffer.
fn exchange(
    agent: &ureq::Agent,
    request: ureq::http::Request<impl ureq::AsSendBody>,
    max_response_bytes: u64,
    scrubber: &Scrubber<'_>,
) -> Result<RawResponse, Error> {
    let mut response = agent
        .run(request)
        .map_err(|e| transport_error(e, scrubber))?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| scrubber.shown(v, 500))
    };
    let status = response.status().as_u16();
    let request_id = header(HEADER_REQUEST_ID);
    let retry_after =
        header("retry-after").and_then(|v| response::parse_retry_after(&v, SystemTime::now()));
    let location = header("location");
    let content_type = header("content-type");

    let body = response
        .body_mut()
        .with_config()
        .limit(max_response_bytes)
        .read_to_vec();
    let body = match body {
        Ok(b) => Zeroizing::new(b),
        Err(e) => {
            return Err(body_error(
                e,
                status,
                request_id,
                max_response_bytes,
                scrubber,
            ))
        }
    };
    Ok(RawResponse {
        status,
        request_id,
        retry_after,
        location,
        content_type,
        body,
        attempts: 1,
        earlier_attempt_may_have_landed: false,
    })
}

fn transport_error(e: ureq::Error, scrubber: &Scrubber<'_>) -> Error {
    use ureq::Error as U;
    let (kind, delivery) = match &e {
        U::HostNotFound => (TransportErrorKind::Dns, Delivery::NotSent),
        U::ConnectionFailed => (TransportErrorKind::Connect, Delivery::NotSent),
        U::Timeout(t) => (
            TransportErrorKind::Timeout,
            match t {
                ureq::Timeout::Resolve | ureq::Timeout::Connect => Delivery::NotSent,
                _ => Delivery::Unknown,
            },
        ),
        U::Tls(_) | U::Rustls(_) | U::TlsRequired => (TransportErrorKind::Tls, Delivery::NotSent),
        U::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            (TransportErrorKind::Connect, Delivery::NotSent)
        }
        // ureq hands rustls failures up as `InvalidData` I/O errors. A
        // certificate is only checked during the handshake, before any
        // request byte is written; other TLS failures (an alert, a bad
        // record) may come after the request went out.
        U::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            let text = io.to_string().to_ascii_lowercase();
            let handshake = text.contains("certificate") || text.contains("handshake");
            (
                TransportErrorKind::Tls,
                if handshake {
                    Delivery::NotSent
                } else {
                    Delivery::Unknown
                },
            )
        }
        U::RequireHttpsOnly(_) => {
            return Error::invalid_input("platform.base_url", "must use https://")
        }
        _ => (TransportErrorKind::Io, Delivery::Unknown),
    };
    let detail = scrubber.scrub(&e.to_string());
    Error::Transport(TransportError {
        kind,
        delivery,
        detail,
        attempts: 1,
        source: Some(Box::new(e)),
    })
}

fn body_error(
    e: ureq::Error,
    status: u16,
    request_id: Option<String>,
    limit: u64,
    scrubber: &Scrubber<'_>,
) -> Error {
    let note = response::success_note(status);
    match e {
        ureq::Error::BodyExceedsLimit(_) => Error::UnexpectedResponse {
            status,
            detail: format!(
                "the body is larger than the {limit}-byte limit; it was not read{note}"
            ),
            request_id,
        },
        ureq::Error::Timeout(_) => Error::Transport(TransportError {
            kind: TransportErrorKind::Timeout,
            delivery: Delivery::Unknown,
            detail: format!("timed out reading the body of an HTTP {status} answer{note}"),
            attempts: 1,
            source: Some(Box::new(e)),
        }),
        other => Error::UnexpectedResponse {
            status,
            detail: format!(
                "the body could not be read in full ({}){note}",
                scrubber.scrub(&other.to_string())
            ),
            request_id,
        },
    }
}

/// Creates a PostgreSQL connection in one call, with a client built for the
/// occasion (default timeouts and limits).
///
/// ```no_run
/// use aep_flow::{create_postgres_connection, Platform, PostgresConnection, Secret};
///
/// let platform = Platform::new(
///     Secret::from(std::env::var("AEP_ACCESS_TOKEN")?),
///     "my-client-id",
///     "ABC123@AdobeOrg",
///     "prod",
/// );
/// let conn = PostgresConnection::new(
///     "orders-db",
///     "db.example.com",
///     "orders",
///     "etl_reader",
///     Secret::from(std::env::var("PGPASSWORD")?),
/// );
/// let created = create_postgres_connection(platform, &conn)?;
/// println!("{} {}", created.id, created.etag);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_postgres_connection(
    platform: Platform,
    connection: &PostgresConnection,
) -> Result<CreatedConnection, Error> {
    Client::new(platform)?.create_postgres_connection(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform() -> Platform {
        Platform::new(Secret::from("tok-canary-99"), "key", "ORG@AdobeOrg", "prod")
    }

    fn field_of(e: Error) -> String {
        match e {
            Error::InvalidInput { field, .. } => field,
            other => panic!("expected InvalidInput, got {other}"),
        }
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
        ] {
            let c = Client::new(platform().with_base_url(ok));
            assert!(c.is_ok(), "{ok}: {:?}", c.err());
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
        ] {
            let e = Client::new(platform().with_base_url(bad)).unwrap_err();
            assert_eq!(field_of(e), "platform.base_url", "{bad}");
        }
        let c = Client::new(platform().with_base_url("https://h.example/a/")).unwrap();
        assert_eq!(c.base_url(), "https://h.example/a");
    }

    #[test]
    fn header_values_must_be_visible_ascii() {
        let cases = [
            (
                Platform::new(Secret::from("tok\r\nX-Evil: 1"), "k", "o", "s"),
                "platform.access_token",
            ),
            (
                Platform::new(Secret::from(""), "k", "o", "s"),
                "platform.access_token",
            ),
            (
                Platform::new(Secret::from("t"), "k y", "o", "s"),
                "platform.api_key",
            ),
            (
                Platform::new(Secret::from("t"), "k", "", "s"),
                "platform.org_id",
            ),
            (
                Platform::new(Secret::from("t"), "k", "o", "prod\u{a0}"),
                "platform.sandbox_name",
            ),
        ];
        for (p, field) in cases {
            let e = Client::new(p).unwrap_err();
            let text = e.to_string();
            assert!(!text.contains("X-Evil"), "{text}");
            assert_eq!(field_of(e), field);
        }
    }

    #[test]
    fn the_documented_defaults_are_the_defaults() {
        let b = Client::builder(platform());
        assert_eq!(b.connect_timeout, Duration::from_secs(10));
        assert_eq!(b.timeout, Duration::from_secs(60));
        assert_eq!(b.max_response_bytes, 1024 * 1024);
        assert_eq!(b.retry.max_retries, 3);
        assert_eq!(b.retry.budget, Duration::from_secs(30));
        assert_eq!(b.retry.backoff, Duration::from_millis(500));
        assert!(!b.keep_alive_after_secret_bodies);
        assert!(b.root_certificates_pem.is_none());
        assert_eq!(platform().base_url(), DEFAULT_BASE_URL);
    }

    #[test]
    fn timeouts_must_be_positive_and_at_most_a_day() {
        for (builder, field) in [
            (
                Client::builder(platform()).timeout(Duration::MAX),
                "timeout",
            ),
            (
                Client::builder(platform()).timeout(Duration::ZERO),
                "timeout",
            ),
            (
                Client::builder(platform()).connect_timeout(Duration::from_secs(u64::MAX / 2)),
                "connect_timeout",
            ),
        ] {
            assert_eq!(field_of(builder.build().unwrap_err()), field);
        }
        assert!(Client::builder(platform())
            .timeout(Duration::from_secs(86_400))
            .build()
            .is_ok());
    }

    #[test]
    fn backoff_doubles_and_jitters_down_by_at_most_half() {
        let policy = RetryPolicy {
            max_retries: 3,
            budget: Duration::from_secs(30),
            backoff: Duration::from_millis(400),
        };
        let mut seen = std::collections::HashSet::new();
        for retry in 0..4u32 {
            let full = Duration::from_millis(400) * 2u32.pow(retry);
            for _ in 0..50 {
                let wait = policy.backoff(retry);
                assert!(wait >= full / 2 && wait <= full, "retry {retry}: {wait:?}");
                seen.insert(wait);
            }
        }
        assert!(seen.len() > 20, "no jitter: {} distinct waits", seen.len());
    }

    #[test]
    fn debug_of_client_and_platform_hides_the_token() {
        let c = Client::new(platform()).unwrap();
        let text = format!("{c:?} {:?}", platform());
        assert!(!text.contains("canary"), "{text}");
        assert!(text.contains("ORG@AdobeOrg"));
    }
}
