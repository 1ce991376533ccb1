//! Clients on the in-memory transport, for the unit tests of the client
//! core and of the resources.

use std::sync::Arc;
use std::time::Duration;

use super::{Client, ClientBuilder, Platform};
use crate::secret::Secret;
use crate::transport::memory::MemoryTransport;
use crate::Sandbox;

/// The bearer token the test clients send.
pub(crate) const TOKEN: &str = "tok-canary-99";

/// Credentials for `https://flow.example/data/foundation/flowservice`.
pub(crate) fn platform() -> Platform {
    Platform::new(
        Secret::from(TOKEN),
        "key",
        Sandbox {
            org_id: "ORG@AdobeOrg",
            name: "prod",
        },
    )
    .with_base_url("https://flow.example/data/foundation/flowservice")
}

/// A client on `transport`, with fast retries. The transport is shared so
/// the test can script it and read its log.
pub(crate) fn client_on(transport: &Arc<MemoryTransport>) -> Client {
    client_with(transport, |b| b)
}

/// The same, with more settings.
pub(crate) fn client_with(
    transport: &Arc<MemoryTransport>,
    f: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client {
    f(Client::builder(platform())
        .with_retry_backoff(Duration::from_millis(1))
        .with_transport(Arc::clone(transport)))
    .build()
    .unwrap()
}
