//! Layer 4: the client core. Platform credentials and the base URL,
//! authentication (a static token or IMS with its cache), retries and
//! deadlines, request building, and the plumbing every resource shares
//! (get one, list pages, create, patch with `If-Match`, delete).

mod auth;
pub(crate) mod ims;
pub(crate) mod input;
mod locks;
pub(crate) mod platform;
pub(crate) mod plumbing;
mod retry;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use ims::{
    Clock, ImsCredentials, SystemClock, DEFAULT_IMS_URL, IMS_TOKEN_PATH, RENEWAL_MARGIN,
};
pub use input::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};
pub use platform::{
    Platform, CATALOG_PATH, DATA_PREP_PATH, DEFAULT_BASE_URL, DEFAULT_PLATFORM_URL,
    FLOW_SERVICE_PATH,
};
pub use retry::{DEFAULT_MAX_RETRIES, DEFAULT_RETRY_BACKOFF, DEFAULT_RETRY_BUDGET};

use auth::{Auth, ImsAuth, TokenCache};
use ims::ImsToken;
use locks::{KeyGuard, KeyedLocks};
use platform::{parse_base_url, BaseUrl, TokenSource};
use retry::RetryPolicy;

use crate::error::{parse_api_error, Delivery, Error, Service, TransportError, TransportErrorKind};
use crate::secret::Secret;
use crate::transport::ureq_transport::{Settings, UreqTransport};
use crate::transport::{Request, Transport};
use crate::wire::buffer::concat_exact;
use crate::wire::response::RawResponse;
use crate::wire::scrub::{Scrubber, SecretTables};

/// Default time allowed to open the TCP connection (and TLS handshake).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for one attempt of a request, from connect to the
/// last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on the size of a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1024 * 1024;
/// Default cap on the size of an explore answer: a database with thousands
/// of tables answers the root listing with a body far larger than a create
/// answer.
pub const DEFAULT_MAX_EXPLORE_BYTES: u64 = 64 * 1024 * 1024;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Settings for a [`Client`]. Every setting has a default; see each method.
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    platform: Platform,
    connect_timeout: Duration,
    timeout: Duration,
    deadline: Option<Instant>,
    max_response_bytes: u64,
    max_explore_bytes: u64,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    keep_alive_after_secret_bodies: bool,
    root_certificates_pem: Option<Vec<u8>>,
    #[cfg(test)]
    transport: Option<Box<dyn Transport>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("platform", &self.platform)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
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

impl ClientBuilder {
    /// Time allowed to connect (TCP and TLS). Defaults to 10 seconds.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for one attempt of a request, from connect to the last
    /// byte of the answer. Defaults to 60 seconds. A call that retries can
    /// take longer (see [`with_retry_budget`](Self::with_retry_budget));
    /// [`with_deadline`](Self::with_deadline) bounds everything.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// An instant after which the client starts no request and cuts any
    /// request in flight: the bound for a whole run of a command-line tool
    /// or a cron job, retries and several calls included. Defaults to none.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Largest response body accepted; a larger one is refused without
    /// reading it all. Defaults to 1 MiB.
    pub fn with_max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Largest explore answer accepted (table listings, columns, previews).
    /// Defaults to 64 MiB ([`DEFAULT_MAX_EXPLORE_BYTES`]).
    pub fn with_max_explore_bytes(mut self, limit: u64) -> Self {
        self.max_explore_bytes = limit;
        self
    }

    /// Retries allowed after the first attempt, for answers that were not
    /// processed (429) and failures before anything was sent (DNS,
    /// connection refused, connect timeout); for idempotent calls (GET,
    /// DELETE, the IMS token request) also for 502/503/504 and failures
    /// after sending. Defaults to 3. `0` disables retries.
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// Bound on the time one call may take including its retries: a retry
    /// is made only if its wait ends within this time of the first attempt.
    /// A `Retry-After` that would end past it fails at once (the error
    /// carries the Retry-After) instead of sleeping. Defaults to 30 seconds.
    pub fn with_retry_budget(mut self, budget: Duration) -> Self {
        self.retry.budget = budget;
        self
    }

    /// First wait when the service gives no `Retry-After`; doubled for each
    /// further retry, with random jitter of up to half. Defaults to 500 ms.
    pub fn with_retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry.backoff = backoff;
        self
    }

    /// Whether a connection that has just carried a request body with a
    /// secret in it (a create, a credential rotation, a token request) may
    /// go back to the idle pool. Defaults to `false`: such a request is
    /// sent with `Connection: close`, so the network library's buffer
    /// holding the password is freed at once instead of lingering in an
    /// idle connection until the client is dropped. Set `true` for bulk
    /// creates, where reusing the connection saves a TCP (and TLS)
    /// handshake per call.
    pub fn with_keep_alive_after_secret_bodies(mut self, keep: bool) -> Self {
        self.keep_alive_after_secret_bodies = keep;
        self
    }

    /// Trusts exactly the CA certificates in this PEM bundle instead of
    /// Mozilla's roots (webpki-roots, the default): for a TLS-intercepting
    /// corporate proxy or a test server. Certificates are still verified;
    /// there is no way to turn verification off.
    ///
    /// [`build`](ClientBuilder::build) refuses a bundle that is not PEM,
    /// holds no certificate or has a certificate line that is not base64
    /// (an error naming `tls.root_certificates`, before anything is sent),
    /// whatever the URLs. It decodes the certificates only when the
    /// platform URL or the IMS URL is `https://`: when every URL is plain
    /// `http://` (a loopback test server), no request can use TLS, so the
    /// bundle is only scanned and trusts nothing.
    pub fn with_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem = Some(pem.into());
        self
    }

    /// The clock token expiry is measured with. Defaults to the system
    /// clock; tests pass a manual one (e.g. `aep_flow_testing::ManualClock`
    /// behind a one-line `Clock` adapter).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `transport` instead of the network (unit tests).
    #[cfg(test)]
    pub(crate) fn with_transport(mut self, transport: impl Transport + 'static) -> Self {
        self.transport = Some(Box::new(transport));
        self
    }

    /// Checks the credentials and the base URL and builds the client. No
    /// network traffic happens here.
    pub fn build(self) -> Result<Client, Error> {
        self.platform.validate()?;
        let root = self.platform.parsed_root()?;
        let base = BaseUrl {
            url: format!("{}{FLOW_SERVICE_PATH}", root.url),
            path_start: root.path_start,
            loopback: root.loopback,
        };
        for (field, value) in [
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
        ] {
            if value.is_zero() || value > DAY {
                return Err(Error::invalid_input(
                    field,
                    "must be greater than zero and at most a day",
                ));
            }
        }
        for (field, value) in [
            ("max_response_bytes", self.max_response_bytes),
            ("max_explore_bytes", self.max_explore_bytes),
        ] {
            if value == 0 {
                return Err(Error::invalid_input(field, "must be greater than zero"));
            }
        }
        let Platform {
            token,
            api_key,
            org_id,
            sandbox_name,
            ..
        } = self.platform;
        let auth = match token {
            TokenSource::Static(token) => Auth::Static(token),
            TokenSource::Ims(credentials) => {
                let ims = parse_base_url("ims.url", credentials.ims_url())?;
                let token_url = BaseUrl {
                    url: format!("{}{IMS_TOKEN_PATH}", ims.url),
                    ..ims
                };
                Auth::Ims(Box::new(ImsAuth {
                    credentials: *credentials,
                    token_url,
                    cache: TokenCache::default(),
                }))
            }
        };
        // Every request goes to the platform root or the IMS token URL
        // (links from the service are held to the configured host), so TLS
        // is used exactly when one of them is https.
        let tls_used = root.url.starts_with("https://")
            || matches!(&auth, Auth::Ims(ims) if ims.token_url.url.starts_with("https://"));
        #[cfg(test)]
        let injected = self.transport;
        #[cfg(not(test))]
        let injected: Option<Box<dyn Transport>> = None;
        let transport = match injected {
            Some(t) => t,
            None => Box::new(UreqTransport::new(&Settings {
                connect_timeout: self.connect_timeout,
                timeout: self.timeout,
                root_certificates_pem: self.root_certificates_pem.as_deref(),
                tls_used,
            })?),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                root,
                base,
                api_key,
                org_id,
                sandbox_name,
                auth,
                clock: self.clock,
                timeout: self.timeout,
                deadline: self.deadline,
                max_response_bytes: self.max_response_bytes,
                max_explore_bytes: self.max_explore_bytes,
                retry: self.retry,
                keep_alive_after_secret_bodies: self.keep_alive_after_secret_bodies,
                locks: KeyedLocks::default(),
                token_tables: Mutex::new(None),
                memos: Mutex::new(std::collections::HashMap::new()),
            }),
        })
    }
}

/// A reusable Flow Service client: one connection pool, the credentials,
/// the token cache and the settings. `Clone` is cheap: clones share all of
/// it, and a client can be used from many threads at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Box<dyn Transport>,
    /// The gateway root.
    root: BaseUrl,
    /// Flow Service's base, below the root.
    base: BaseUrl,
    api_key: String,
    org_id: String,
    sandbox_name: String,
    auth: Auth,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    deadline: Option<Instant>,
    max_response_bytes: u64,
    max_explore_bytes: u64,
    retry: RetryPolicy,
    keep_alive_after_secret_bodies: bool,
    locks: KeyedLocks,
    /// The scrubber's spellings of the current bearer token, computed once
    /// per token rather than once per call.
    token_tables: Mutex<Option<(Arc<Secret>, Arc<SecretTables>)>>,
    /// Answers read once per client and kept (the flow spec), by key.
    memos: Mutex<std::collections::HashMap<&'static str, Arc<dyn std::any::Any + Send + Sync>>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &i.base.url)
            .field("api_key", &i.api_key)
            .field("org_id", &i.org_id)
            .field("sandbox_name", &i.sandbox_name)
            .field("auth", &i.auth)
            .field("timeout", &i.timeout)
            .field("max_response_bytes", &i.max_response_bytes)
            .field("retry", &i.retry)
            .finish_non_exhaustive()
    }
}

/// The path of a Platform service below the gateway root.
fn service_path(service: Service) -> &'static str {
    match service {
        Service::DataPrep => DATA_PREP_PATH,
        Service::Catalog => CATALOG_PATH,
        // IMS is not below the gateway; its calls never come here.
        Service::FlowService | Service::Ims => FLOW_SERVICE_PATH,
    }
}

/// One request to a Platform service: what [`Client::send`] needs to know.
pub(crate) struct Call<'b> {
    pub method: &'static str,
    /// Which service (its path below the gateway root).
    pub service: Service,
    /// Path and query under the base URL, starting with `/`.
    pub path: String,
    pub body: Option<&'b [u8]>,
    /// The body holds a secret: close the connection after it.
    pub secret_body: bool,
    /// Sent as `If-Match`, exactly as given.
    pub if_match: Option<&'b str>,
    /// Safe to repeat: also retried on 502/503/504 and on failures after
    /// sending.
    pub idempotent: bool,
    /// Read with the explore cap instead of the response cap.
    pub large: bool,
}

impl Call<'_> {
    /// A bodiless request that is safe to repeat (GET, DELETE).
    pub(crate) fn idempotent(method: &'static str, path: String) -> Self {
        Call {
            method,
            service: Service::FlowService,
            path,
            body: None,
            secret_body: false,
            if_match: None,
            idempotent: true,
            large: false,
        }
    }
}

/// What one attempt came to.
enum Outcome {
    Answer(RawResponse),
    Failed(Error),
    /// Ends the call at once, whatever the retry policy says.
    Final(Error),
    /// Send again at once (a renewed token after a 401).
    Again,
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
            deadline: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_explore_bytes: DEFAULT_MAX_EXPLORE_BYTES,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            keep_alive_after_secret_bodies: false,
            root_certificates_pem: None,
            #[cfg(test)]
            transport: None,
        }
    }

    /// Flow Service's base URL in use (normalized: no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base.url
    }

    /// The gateway root in use (normalized: no trailing slash).
    pub fn platform_url(&self) -> &str {
        &self.inner.root.url
    }

    /// The sandbox name every call carries.
    pub fn sandbox_name(&self) -> &str {
        &self.inner.sandbox_name
    }

    pub(crate) fn base(&self) -> &BaseUrl {
        &self.inner.base
    }

    /// Holds the named lock until the guard is dropped.
    pub(crate) fn lock(&self, key: String) -> KeyGuard<'_> {
        self.inner.locks.lock(key)
    }

    /// The value kept under `key` by an earlier successful `fetch`, else
    /// what `fetch` returns now (kept when it is `Ok`). Fetches of one key
    /// run one at a time, so concurrent first calls fetch once. Shared by
    /// clones.
    pub(crate) fn memo<T: Clone + Send + Sync + 'static>(
        &self,
        key: &'static str,
        fetch: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let kept = |memos: &std::collections::HashMap<_, Arc<dyn std::any::Any + Send + Sync>>| {
            memos.get(key).and_then(|v| v.downcast_ref::<T>()).cloned()
        };
        let lookup = || kept(&self.inner.memos.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(v) = lookup() {
            return Ok(v);
        }
        let _single_flight = self.lock(format!("memo\u{0}{key}"));
        if let Some(v) = lookup() {
            return Ok(v);
        }
        let value = fetch()?;
        self.inner
            .memos
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Arc::new(value.clone()));
        Ok(value)
    }

    /// Sends a Flow Service request with the platform headers and the
    /// retry policy. Retried: 429 (not processed), failures before anything
    /// was sent, and, when `idempotent`, 502/503/504 and failures after
    /// sending. A 401 with IMS tokens renews the token (unless another
    /// thread already did) and sends once more. Everything else is
    /// returned as it came.
    pub(crate) fn send<'s>(
        &'s self,
        call: &Call<'_>,
        scrubber: &mut Scrubber<'s>,
    ) -> Result<RawResponse, Error> {
        let inner = &*self.inner;
        let url = format!(
            "{}{}{}",
            inner.root.url,
            service_path(call.service),
            call.path
        );
        let uses_ims = matches!(inner.auth, Auth::Ims(_));
        let mut renewed = false;
        let mut rejected: Option<Arc<Secret>> = None;
        self.retrying(
            call.service,
            call.idempotent,
            scrubber,
            |scrubber, timeout| {
                // A failed token request ends the call: the platform request
                // was not sent, so it says nothing about what may have landed.
                let token = match self.bearer_token(rejected.take().as_ref()) {
                    Ok(t) => t,
                    Err(e) => return Outcome::Final(e),
                };
                scrubber.add_tables(self.token_tables(&token));
                let authorization = concat_exact(&["Bearer ", token.expose_secret()]);
                let mut headers = vec![
                    ("authorization", authorization.as_str()),
                    ("x-api-key", inner.api_key.as_str()),
                    ("x-gw-ims-org-id", inner.org_id.as_str()),
                    ("x-sandbox-name", inner.sandbox_name.as_str()),
                    ("accept", "application/json"),
                ];
                if let Some(etag) = call.if_match {
                    headers.push(("if-match", etag));
                }
                let request = Request {
                    method: call.method,
                    url: &url,
                    headers,
                    body: call.body.map(|b| ("application/json", b)),
                    close: call.secret_body && !inner.keep_alive_after_secret_bodies,
                    secret_body: call.secret_body,
                    timeout,
                    loopback: inner.base.loopback,
                    // A POST that is safe to repeat (a validation) changes
                    // nothing; DELETE is idempotent but a write.
                    writes: call.method != "GET" && !(call.method == "POST" && call.idempotent),
                };
                let limit = if call.large {
                    inner.max_explore_bytes
                } else {
                    inner.max_response_bytes
                };
                match inner.transport.send(&request, limit, scrubber) {
                    // A 401 was not processed: renew once and send once more,
                    // whatever the method.
                    Ok(resp) if resp.status == 401 && uses_ims && !renewed => {
                        renewed = true;
                        rejected = Some(token);
                        Outcome::Again
                    }
                    Ok(resp) => Outcome::Answer(resp),
                    Err(e) => Outcome::Failed(e),
                }
            },
        )
    }

    /// The retry loop shared by platform calls and the IMS token request.
    fn retrying<'s>(
        &'s self,
        service: Service,
        idempotent: bool,
        scrubber: &mut Scrubber<'s>,
        mut attempt: impl FnMut(&mut Scrubber<'s>, Duration) -> Outcome,
    ) -> Result<RawResponse, Error> {
        let inner = &*self.inner;
        let started = Instant::now();
        let mut attempts = 0u32;
        let mut may_have_landed = false;
        loop {
            attempts += 1;
            let timeout = match self.attempt_timeout() {
                Some(t) => t,
                None => return Err(deadline_passed(attempts - 1)),
            };
            let mut result = match attempt(scrubber, timeout) {
                Outcome::Answer(resp) => Ok(resp),
                Outcome::Failed(e) => Err(e),
                Outcome::Final(e) => return Err(e),
                Outcome::Again => continue,
            };
            if let Ok(resp) = &mut result {
                resp.attempts = attempts;
                resp.earlier_attempt_may_have_landed = may_have_landed;
            }
            let retries_left = attempts <= inner.retry.max_retries;
            let backoff = || inner.retry.backoff(attempts - 1);
            let (wait, landed) = match &result {
                Ok(resp) if resp.status == 429 => (resp.retry_after.unwrap_or_else(backoff), false),
                Ok(resp) if idempotent && matches!(resp.status, 502..=504) => {
                    (resp.retry_after.unwrap_or_else(backoff), true)
                }
                // A certificate that does not verify will not verify on the
                // next try either; other failures before sending may pass.
                Err(Error::Transport(t))
                    if t.delivery == Delivery::NotSent && t.kind == TransportErrorKind::Tls =>
                {
                    return result
                }
                Err(Error::Transport(t)) if t.delivery == Delivery::NotSent => (backoff(), false),
                Err(Error::Transport(_)) if idempotent => (backoff(), true),
                _ => return result,
            };
            let fits_budget = started
                .elapsed()
                .checked_add(wait)
                .is_some_and(|end| end <= inner.retry.budget);
            let fits_deadline = inner
                .deadline
                .is_none_or(|d| Instant::now().checked_add(wait).is_some_and(|end| end < d));
            if !(retries_left && fits_budget && fits_deadline) {
                return match result {
                    Ok(resp) => {
                        let mut err = self.error_from(&resp, scrubber, service);
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

    /// This attempt's bound: the per-attempt timeout, cut at the deadline.
    /// `None` once the deadline has passed.
    fn attempt_timeout(&self) -> Option<Duration> {
        let inner = &*self.inner;
        match inner.deadline {
            None => Some(inner.timeout),
            Some(d) => {
                let left = d.checked_duration_since(Instant::now())?;
                (!left.is_zero()).then(|| left.min(inner.timeout))
            }
        }
    }

    /// The scrubber's spellings of `token`, cached while it is the token.
    fn token_tables(&self, token: &Arc<Secret>) -> Arc<SecretTables> {
        let mut cached = self
            .inner
            .token_tables
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match &*cached {
            Some((t, tables)) if Arc::ptr_eq(t, token) => Arc::clone(tables),
            _ => {
                let tables = Arc::new(SecretTables::new(token.expose_secret()));
                *cached = Some((Arc::clone(token), Arc::clone(&tables)));
                tables
            }
        }
    }

    /// The bearer token for the next request: the static one, or IMS's
    /// (cached; fetched when missing, near expiry, or `rejected` by a 401).
    fn bearer_token(&self, rejected: Option<&Arc<Secret>>) -> Result<Arc<Secret>, Error> {
        match &self.inner.auth {
            Auth::Static(token) => Ok(Arc::clone(token)),
            Auth::Ims(ims) => ims
                .cache
                .token(&*self.inner.clock, rejected, || self.fetch_token(ims)),
        }
    }

    /// `POST {ims}/ims/token/v3` with the form body, retried like any
    /// request that creates nothing. Its failures name Adobe IMS; a
    /// transport failure here means the platform request was not sent.
    fn fetch_token(&self, ims: &ImsAuth) -> Result<ImsToken, Error> {
        self.request_token(ims).map_err(|e| match e {
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

    fn request_token(&self, ims: &ImsAuth) -> Result<ImsToken, Error> {
        let inner = &*self.inner;
        let body = ims.credentials.form_body();
        // The client secret; its form-encoded spelling in the body is one
        // the scrubber knows.
        let mut scrubber = Scrubber::new();
        scrubber.add(ims.credentials.client_secret().expose_secret());
        let resp = self.retrying(Service::Ims, true, &mut scrubber, |scrubber, timeout| {
            let request = Request {
                method: "POST",
                url: &ims.token_url.url,
                headers: vec![("accept", "application/json")],
                body: Some(("application/x-www-form-urlencoded", &body)),
                // The connection's buffer held the client secret: don't pool it.
                close: true,
                // A form body cannot take trailing white space: it would
                // become part of the last value.
                secret_body: false,
                timeout,
                loopback: ims.token_url.loopback,
                // A token request creates nothing.
                writes: false,
            };
            match inner
                .transport
                .send(&request, inner.max_response_bytes, scrubber)
            {
                Ok(resp) => Outcome::Answer(resp),
                Err(e) => Outcome::Failed(e),
            }
        })?;
        match resp.status {
            200 => ims::parse_token(&resp),
            _ => Err(self.error_from(&resp, &scrubber, Service::Ims)),
        }
    }

    /// Turns a non-success answer into the right error.
    pub(crate) fn error_from(
        &self,
        resp: &RawResponse,
        scrubber: &Scrubber<'_>,
        service: Service,
    ) -> Error {
        match resp.status {
            300..=399 => Error::UnexpectedResponse {
                status: resp.status,
                detail: format!(
                    "redirect to {} not followed (the access token is only sent to the configured base URL)",
                    resp.location
                        .as_deref()
                        .map(|l| scrubber.shown(l, 300))
                        .unwrap_or_else(|| "an unnamed location".into())
                ),
                request_id: resp.request_id.clone(),
            },
            400..=599 => {
                let mut api = parse_api_error(resp, scrubber);
                api.service = service;
                api.attempts = resp.attempts;
                Error::Api(Box::new(api))
            }
            _ => Error::UnexpectedResponse {
                status: resp.status,
                detail: "a status this operation does not use".into(),
                request_id: resp.request_id.clone(),
            },
        }
    }
}

fn deadline_passed(attempts: u32) -> Error {
    Error::Transport(TransportError {
        kind: TransportErrorKind::Timeout,
        delivery: Delivery::NotSent,
        detail: "the client's deadline passed before the request was sent".into(),
        attempts,
        // Not sent: nothing to look up, whatever the method.
        write: false,
    })
}

/// The public types a caller shares between threads.
#[allow(dead_code)]
fn assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Client>();
    is::<ClientBuilder>();
    is::<Platform>();
    is::<Error>();
    is::<Secret>();
    is::<ImsCredentials>();
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
