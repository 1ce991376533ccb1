//! The client's settings: [`ClientBuilder`], its defaults, and the checks
//! `build` makes before a [`Client`] exists.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::auth::{Auth, Bearer, ImsAuth, TokenCache};
use super::ims::{Clock, SystemClock, IMS_TOKEN_PATH};
use super::locks::KeyedLocks;
use super::platform::{parse_base_url, Platform, TokenSource, FLOW_SERVICE_PATH};
use super::retry::RetryPolicy;
use super::{Client, Inner};
use crate::error::Error;
use crate::secret::Secret;
use crate::transport::ureq_transport::{Settings, UreqTransport};
use crate::transport::Transport;
use crate::wire::scrub::SecretTables;

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
    pub(super) config: Config,
    pub(super) root_certificates_pem: Option<Vec<u8>>,
    #[cfg(test)]
    transport: Option<Box<dyn Transport>>,
}

/// The settings a client keeps, as the builder set them.
pub(super) struct Config {
    pub(super) connect_timeout: Duration,
    pub(super) timeout: Duration,
    pub(super) deadline: Option<Instant>,
    pub(super) max_response_bytes: u64,
    pub(super) max_explore_bytes: u64,
    pub(super) retry: RetryPolicy,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) keep_alive_after_secret_bodies: bool,
    /// Secrets of the caller's that no call sends (a database password a
    /// service may have stored and echoes back): scrubbed from every
    /// error and run error, as the call's own secrets are.
    pub(super) scrubbed: Vec<Arc<SecretTables>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("platform", &self.platform)
            .field("connect_timeout", &self.config.connect_timeout)
            .field("timeout", &self.config.timeout)
            .field("deadline", &self.config.deadline)
            .field("max_response_bytes", &self.config.max_response_bytes)
            .field("retry", &self.config.retry)
            .field(
                "keep_alive_after_secret_bodies",
                &self.config.keep_alive_after_secret_bodies,
            )
            .field("custom_roots", &self.root_certificates_pem.is_some())
            .finish()
    }
}

impl ClientBuilder {
    /// Time allowed to connect (TCP and TLS). Defaults to 10 seconds.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Time allowed for one attempt of a request, from connect to the last
    /// byte of the answer. Defaults to 60 seconds. A call that retries can
    /// take longer (see [`with_retry_budget`](Self::with_retry_budget));
    /// [`with_deadline`](Self::with_deadline) bounds everything.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// An instant after which the client starts no request and cuts any
    /// request in flight: the bound for a whole run of a command-line tool
    /// or a cron job, retries and several calls included. Defaults to none.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.config.deadline = Some(deadline);
        self
    }

    /// Largest response body accepted; a larger one is refused without
    /// reading it all. Defaults to 1 MiB.
    pub fn with_max_response_bytes(mut self, limit: u64) -> Self {
        self.config.max_response_bytes = limit;
        self
    }

    /// Largest explore answer accepted (table listings, columns, previews).
    /// Defaults to 64 MiB ([`DEFAULT_MAX_EXPLORE_BYTES`]).
    pub fn with_max_explore_bytes(mut self, limit: u64) -> Self {
        self.config.max_explore_bytes = limit;
        self
    }

    /// Retries allowed after the first attempt, for answers that were not
    /// processed (429) and failures before anything was sent (DNS,
    /// connection refused, connect timeout); for idempotent calls (GET,
    /// DELETE, the IMS token request) also for 502/503/504 and failures
    /// after sending. Defaults to 3. `0` disables retries.
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.config.retry.max_retries = retries;
        self
    }

    /// Bound on the time one call may take including its retries: a retry
    /// is made only if its wait ends within this time of the first attempt.
    /// A `Retry-After` that would end past it fails at once (the error
    /// carries the Retry-After) instead of sleeping. Defaults to 30 seconds.
    pub fn with_retry_budget(mut self, budget: Duration) -> Self {
        self.config.retry.budget = budget;
        self
    }

    /// First wait when the service gives no `Retry-After`; doubled for each
    /// further retry, with random jitter of up to half. Defaults to 500 ms.
    pub fn with_retry_backoff(mut self, backoff: Duration) -> Self {
        self.config.retry.backoff = backoff;
        self
    }

    /// Scrubs `secret` from every error this client returns and every run
    /// error it shows ([`Client::shown_run_error`]), as it scrubs the
    /// secrets a call sends: for secrets the caller holds that the service
    /// may echo in answers to calls that do not carry them (a database
    /// password stored in a connection, quoted back in an error to a
    /// listing). An empty secret is ignored. Repeatable.
    ///
    /// The text of an error is scrubbed when the error is made, by the
    /// client that makes it: every error of a client built with the
    /// secret is free of it (the service's message, and an id, name or
    /// status of an answer that an error quotes); an [`Error`] made by
    /// another client, or before this one was built, is not scrubbed
    /// again.
    pub fn with_scrubbed_secret(mut self, secret: &Secret) -> Self {
        if !secret.expose_secret().is_empty() {
            self.config
                .scrubbed
                .push(Arc::new(SecretTables::new(secret.expose_secret())));
        }
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
        self.config.keep_alive_after_secret_bodies = keep;
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
        self.config.clock = clock;
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
        let base = root.with_path(FLOW_SERVICE_PATH);
        for (field, value) in [
            ("timeout", self.config.timeout),
            ("connect_timeout", self.config.connect_timeout),
        ] {
            if value.is_zero() || value > DAY {
                return Err(Error::invalid_input(
                    field,
                    "must be greater than zero and at most a day",
                ));
            }
        }
        for (field, value) in [
            ("max_response_bytes", self.config.max_response_bytes),
            ("max_explore_bytes", self.config.max_explore_bytes),
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
            TokenSource::Static(token) => Auth::Static(Bearer::new(token)),
            TokenSource::Ims(credentials) => {
                let token_url =
                    parse_base_url("ims.url", credentials.ims_url())?.with_path(IMS_TOKEN_PATH);
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
                connect_timeout: self.config.connect_timeout,
                timeout: self.config.timeout,
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
                config: self.config,
                locks: KeyedLocks::default(),
                memos: Mutex::new(std::collections::HashMap::new()),
            }),
        })
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
            config: Config {
                connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                timeout: DEFAULT_TIMEOUT,
                deadline: None,
                max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
                max_explore_bytes: DEFAULT_MAX_EXPLORE_BYTES,
                retry: RetryPolicy::default(),
                clock: Arc::new(SystemClock),
                keep_alive_after_secret_bodies: false,
                scrubbed: Vec::new(),
            },
            root_certificates_pem: None,
            #[cfg(test)]
            transport: None,
        }
    }
}
