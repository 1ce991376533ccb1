//! Layer 4: the client core. Platform credentials and the base URL
//! (`platform`), the settings (`config`), authentication and the IMS
//! token fetch (`auth`, `ims`), the request builder (`request`), sending
//! with retries and deadlines (`send`), what calls return (`results`),
//! listings (`paging`), and the one shape every resource shares
//! (`resource`).

mod auth;
mod config;
pub(crate) mod ims;
pub(crate) mod input;
mod locks;
pub(crate) mod paging;
pub(crate) mod platform;
pub(crate) mod request;
pub(crate) mod resource;
pub(crate) mod results;
mod retry;
mod send;

use std::fmt;
use std::sync::{Arc, Mutex};

pub use config::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_EXPLORE_BYTES, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
};
pub use ims::{
    Clock, ImsCredentials, SystemClock, DEFAULT_IMS_URL, IMS_TOKEN_PATH, RENEWAL_MARGIN,
};
pub use input::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};
pub use paging::{ListingEnd, Pages};
pub use platform::{
    Platform, Sandbox, CATALOG_PATH, DATA_PREP_PATH, DEFAULT_BASE_URL, DEFAULT_PLATFORM_URL,
    FLOW_SERVICE_PATH,
};
pub use results::{Ensured, Saved};
pub use retry::{DEFAULT_MAX_RETRIES, DEFAULT_RETRY_BACKOFF, DEFAULT_RETRY_BUDGET};

use auth::Auth;
use config::Config;
use locks::{KeyGuard, KeyedLocks};
use platform::BaseUrl;

use crate::error::Error;
use crate::transport::Transport;

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
    config: Config,
    locks: KeyedLocks,
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
            .field("timeout", &i.config.timeout)
            .field("max_response_bytes", &i.config.max_response_bytes)
            .field("retry", &i.config.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
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
        let memos = || self.inner.memos.lock().unwrap_or_else(|e| e.into_inner());
        let lookup = || {
            memos()
                .get(key)
                .and_then(|v| v.downcast_ref::<T>())
                .cloned()
        };
        if let Some(v) = lookup() {
            return Ok(v);
        }
        let _single_flight = self.lock(format!("memo\u{0}{key}"));
        if let Some(v) = lookup() {
            return Ok(v);
        }
        let value = fetch()?;
        memos().insert(key, Arc::new(value.clone()));
        Ok(value)
    }
}

/// The public types a caller shares between threads: checked whenever the
/// tests compile.
#[cfg(test)]
#[allow(dead_code)]
fn assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Client>();
    is::<ClientBuilder>();
    is::<Platform>();
    is::<Error>();
    is::<crate::secret::Secret>();
    is::<ImsCredentials>();
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
