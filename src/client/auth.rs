//! Where each request's bearer token comes from: a static token, or IMS
//! credentials with their cache, and the IMS token fetch.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::ims::{self, Clock, ImsCredentials, RENEWAL_MARGIN};
use super::platform::BaseUrl;
use super::send::Outcome as Attempt;
use super::Client;
use crate::error::{Delivery, Error, Service};
use crate::secret::Secret;
use crate::transport::Request;
use crate::wire::scrub::{Scrubber, SecretTables};

/// How a client authenticates. `Debug` shows no token: [`Secret`]s print
/// redacted.
#[derive(Debug)]
pub(crate) enum Auth {
    /// A token the caller gave; never renewed.
    Static(Arc<Bearer>),
    /// Tokens fetched from IMS, cached and renewed.
    Ims(Box<ImsAuth>),
}

/// A bearer token and the scrubber's spellings of it, computed once per
/// token rather than once per call.
pub(crate) struct Bearer {
    pub token: Secret,
    pub tables: Arc<SecretTables>,
}

impl Bearer {
    pub(crate) fn new(token: Secret) -> Arc<Bearer> {
        let tables = Arc::new(SecretTables::new(token.expose_secret()));
        Arc::new(Bearer { token, tables })
    }
}

// The token as `Secret` shows it (redacted); the spellings not at all.
impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.token.fmt(f)
    }
}

/// IMS credentials, the token endpoint and the cache.
#[derive(Debug)]
pub(crate) struct ImsAuth {
    pub credentials: ImsCredentials,
    /// `{ims}/ims/token/v3`, checked.
    pub token_url: BaseUrl,
    pub cache: TokenCache,
}

/// The token cache. One fetch at a time: threads that need a token while
/// one is being fetched wait for that fetch and share its outcome, token
/// or error, instead of each asking IMS in turn.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    state: Mutex<CacheState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct CacheState {
    /// The token and the instant to renew it at.
    token: Option<(Arc<Bearer>, Instant)>,
    /// A fetch is under way.
    fetching: bool,
    /// Completed fetches so far.
    fetches: u64,
    /// The error of the last fetch, if it failed, by fetch number.
    failure: Option<(u64, Error)>,
    /// Tokens issued before the current one (the newest last, at most
    /// [`RETIRED_KEPT`]): the service may still echo them.
    retired: Vec<Arc<Bearer>>,
}

/// How many replaced IMS tokens a client keeps for scrubbing.
const RETIRED_KEPT: usize = 4;

impl TokenCache {
    fn lock(&self) -> MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every token issued so far that the cache still knows (the current
    /// one and a few it replaced), without fetching one.
    fn issued(&self) -> Vec<Arc<Bearer>> {
        let state = self.lock();
        let mut all = state.retired.clone();
        all.extend(state.token.as_ref().map(|(t, _)| Arc::clone(t)));
        all
    }

    /// The token to send. The cached one while it has more than the
    /// renewal margin left, unless it is `rejected` (the service answered
    /// 401 to it): then a fresh one. A token another thread has already
    /// renewed is used as it is, so N concurrent 401s cause one fetch.
    pub(crate) fn token(
        &self,
        clock: &dyn Clock,
        rejected: Option<&Arc<Bearer>>,
        fetch: impl FnOnce() -> Result<(Secret, Duration), Error>,
    ) -> Result<Arc<Bearer>, Error> {
        let mut state = self.lock();
        loop {
            if let Some((token, renew_at)) = &state.token {
                let is_rejected = rejected.is_some_and(|r| Arc::ptr_eq(r, token));
                if !is_rejected && clock.now() < *renew_at {
                    return Ok(Arc::clone(token));
                }
            }
            if !state.fetching {
                break;
            }
            // Wait for the fetch under way and take its outcome.
            let waiting_for = state.fetches + 1;
            while state.fetching {
                state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            if let Some((n, err)) = &state.failure {
                if *n == waiting_for {
                    return Err(err.clone());
                }
            }
        }
        state.fetching = true;
        drop(state);
        // Whatever happens in `fetch` (even a panic), the waiters are woken.
        let mut guard = FetchGuard {
            cache: self,
            outcome: None,
        };
        let asked_at = clock.now();
        let outcome = fetch().map(|(token, lifetime)| {
            // Renew 5 minutes early, or at half-life for a token that short.
            let margin = RENEWAL_MARGIN.min(lifetime / 2);
            (Bearer::new(token), asked_at + (lifetime - margin))
        });
        let result = outcome.clone().map(|(token, _)| token);
        guard.outcome = Some(outcome);
        result
    }
}

type Outcome = Result<(Arc<Bearer>, Instant), Error>;

struct FetchGuard<'a> {
    cache: &'a TokenCache,
    outcome: Option<Outcome>,
}

impl Drop for FetchGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.cache.lock();
        state.fetching = false;
        state.fetches += 1;
        let outcome = self.outcome.take().unwrap_or_else(|| {
            Err(Error::UnexpectedResponse {
                status: 0,
                detail: "the Adobe IMS token request of another thread panicked".into(),
                request_id: None,
            })
        });
        match outcome {
            Ok(token) => {
                if let Some((old, _)) = state.token.replace(token) {
                    state.retired.push(old);
                    if state.retired.len() > RETIRED_KEPT {
                        state.retired.remove(0);
                    }
                }
                state.failure = None;
            }
            Err(e) => state.failure = Some((state.fetches, e)),
        }
        drop(state);
        self.cache.changed.notify_all();
    }
}

impl Client {
    /// Adds every secret this client holds to `scrubber`: the access token
    /// it was given, or the IMS client secret and the tokens IMS issued it
    /// (the current one and the last few it replaced). Nothing is fetched.
    pub(crate) fn add_held_secrets<'a>(&'a self, scrubber: &mut Scrubber<'a>) {
        self.add_caller_secrets(scrubber);
        match &self.inner.auth {
            Auth::Static(token) => scrubber.add_tables(Arc::clone(&token.tables)),
            Auth::Ims(ims) => {
                scrubber.add(ims.credentials.client_secret().expose_secret());
                for token in ims.cache.issued() {
                    scrubber.add_tables(Arc::clone(&token.tables));
                }
            }
        }
    }

    /// `error` with every secret this client holds scrubbed from its text
    /// ([`Error::scrubbed`]): for errors built from a parsed answer (an id
    /// or a status quoted back), which did not pass through a call's
    /// scrubber.
    pub(crate) fn scrub_error(&self, error: Error) -> Error {
        error.scrubbed(&self.held_scrubber())
    }

    /// A scrubber that knows every secret this client holds
    /// ([`Self::add_held_secrets`]).
    pub(crate) fn held_scrubber(&self) -> Scrubber<'_> {
        let mut scrubber = Scrubber::new();
        self.add_held_secrets(&mut scrubber);
        scrubber
    }

    /// `text` from the service (a flow's name, a mapping's path) scrubbed
    /// of every secret this client holds, as [`shown_run_error`](Self::shown_run_error)
    /// scrubs a run's error, and of the secrets registered with
    /// [`with_scrubbed_secret`](crate::ClientBuilder::with_scrubbed_secret);
    /// not cut, nor flattened. Sends nothing.
    pub fn scrubbed(&self, text: &str) -> String {
        self.held_scrubber().scrub(text)
    }

    /// A scrubber that knows the secrets the caller asked to be scrubbed
    /// ([`ClientBuilder::with_scrubbed_secret`](crate::ClientBuilder::with_scrubbed_secret)),
    /// for a call to add its own to.
    pub(crate) fn caller_scrubber(&self) -> Scrubber<'static> {
        let mut scrubber = Scrubber::new();
        self.add_caller_secrets(&mut scrubber);
        scrubber
    }

    /// Adds the caller's secrets to `scrubber` (see [`Self::caller_scrubber`]).
    pub(crate) fn add_caller_secrets(&self, scrubber: &mut Scrubber<'_>) {
        for tables in &self.inner.config.scrubbed {
            scrubber.add_tables(Arc::clone(tables));
        }
    }

    /// Tokens come from IMS (a 401 renews them).
    pub(super) fn uses_ims(&self) -> bool {
        matches!(self.inner.auth, Auth::Ims(_))
    }

    /// The bearer token for the next request: the static one, or IMS's
    /// (cached; fetched when missing, near expiry, or `rejected` by a 401).
    pub(super) fn bearer_token(
        &self,
        rejected: Option<&Arc<Bearer>>,
    ) -> Result<Arc<Bearer>, Error> {
        match &self.inner.auth {
            Auth::Static(token) => Ok(Arc::clone(token)),
            Auth::Ims(ims) => ims.cache.token(&*self.inner.config.clock, rejected, || {
                self.fetch_token(ims)
            }),
        }
    }

    /// `POST {ims}/ims/token/v3` with the form body, retried like any
    /// request that creates nothing. Its failures name Adobe IMS; a
    /// transport failure here means the platform request was not sent.
    fn fetch_token(&self, ims: &ImsAuth) -> Result<(Secret, Duration), Error> {
        let body = ims.credentials.form_body();
        // The client secret; its form-encoded spelling in the body is one
        // the scrubber knows.
        let mut scrubber = self.caller_scrubber();
        scrubber.add(ims.credentials.client_secret().expose_secret());
        let sent = self.retrying(Service::Ims, true, &mut scrubber, |scrubber, timeout| {
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
            // An answer over the cap is named for IMS, not for the
            // platform call (which was then not sent).
            Attempt::Sent(self.transmit(&request, Service::Ims, false, scrubber))
        });
        let token = sent.and_then(|resp| match resp.status {
            200 => ims::parse_token(&resp),
            _ => Err(self.error_from(&resp, &scrubber, Service::Ims)),
        });
        token.map_err(|mut e| {
            match &mut e {
                Error::Transport(t) => {
                    t.detail = format!("Adobe IMS token request: {}", t.detail);
                    t.delivery = Delivery::NotSent;
                }
                Error::UnexpectedResponse { detail, .. } => {
                    *detail = format!("Adobe IMS token request: {detail}");
                }
                _ => {}
            }
            e
        })
    }
}
