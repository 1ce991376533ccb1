//! Where each request's bearer token comes from: a static token, or IMS
//! credentials with their cache.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use super::ims::{Clock, ImsCredentials, ImsToken, RENEWAL_MARGIN};
use super::platform::BaseUrl;
use crate::error::Error;
use crate::secret::Secret;

/// How a client authenticates.
pub(crate) enum Auth {
    /// A token the caller gave; never renewed.
    Static(Arc<Secret>),
    /// Tokens fetched from IMS, cached and renewed.
    Ims(Box<ImsAuth>),
}

/// IMS credentials, the token endpoint and the cache.
pub(crate) struct ImsAuth {
    pub credentials: ImsCredentials,
    /// `{ims}/ims/token/v3`, checked.
    pub token_url: BaseUrl,
    pub cache: TokenCache,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Static(t) => f.debug_tuple("Static").field(t).finish(),
            Auth::Ims(ims) => f
                .debug_struct("Ims")
                .field("credentials", &ims.credentials)
                .field("token_url", &ims.token_url.url)
                .finish_non_exhaustive(),
        }
    }
}

/// The token cache. One fetch at a time: threads that need a token while
/// one is being fetched wait for that fetch and share its outcome, token
/// or error, instead of each asking IMS in turn.
#[derive(Default)]
pub(crate) struct TokenCache {
    state: Mutex<CacheState>,
    changed: Condvar,
}

#[derive(Default)]
struct CacheState {
    /// The token and the instant to renew it at.
    token: Option<(Arc<Secret>, Instant)>,
    /// A fetch is under way.
    fetching: bool,
    /// Completed fetches so far.
    fetches: u64,
    /// The error of the last fetch, if it failed, by fetch number.
    failure: Option<(u64, Error)>,
}

impl TokenCache {
    fn lock(&self) -> MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token to send. The cached one while it has more than the
    /// renewal margin left, unless it is `rejected` (the service answered
    /// 401 to it): then a fresh one. A token another thread has already
    /// renewed is used as it is, so N concurrent 401s cause one fetch.
    pub(crate) fn token(
        &self,
        clock: &dyn Clock,
        rejected: Option<&Arc<Secret>>,
        fetch: impl FnOnce() -> Result<ImsToken, Error>,
    ) -> Result<Arc<Secret>, Error> {
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
                    return Err(err.duplicate());
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
        let (result, outcome) = match fetch() {
            Ok(fresh) => {
                // Renew 5 minutes early, or at half-life for a token that short.
                let margin = RENEWAL_MARGIN.min(fresh.expires_in / 2);
                let renew_at = asked_at + (fresh.expires_in - margin);
                let token = Arc::new(fresh.access_token);
                (Ok(Arc::clone(&token)), Ok((token, renew_at)))
            }
            Err(e) => {
                let copy = e.duplicate();
                (Err(e), Err(copy))
            }
        };
        guard.outcome = Some(outcome);
        result
    }
}

type Outcome = Result<(Arc<Secret>, Instant), Error>;

struct FetchGuard<'a> {
    cache: &'a TokenCache,
    outcome: Option<Outcome>,
}

impl Drop for FetchGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.cache.lock();
        state.fetching = false;
        state.fetches += 1;
        let n = state.fetches;
        match self.outcome.take() {
            Some(Ok(token)) => {
                state.token = Some(token);
                state.failure = None;
            }
            Some(Err(e)) => state.failure = Some((n, e)),
            None => {
                state.failure = Some((
                    n,
                    Error::UnexpectedResponse {
                        status: 0,
                        detail: "the Adobe IMS token request of another thread panicked".into(),
                        request_id: None,
                    },
                ))
            }
        }
        drop(state);
        self.cache.changed.notify_all();
    }
}
