//! Layer 3: the transport seam. [`Transport`] carries one request and
//! brings back one bounded answer. The real implementation
//! ([`ureq_transport::UreqTransport`]) is the only code in the crate that
//! names `ureq`; tests of the layers above use the in-memory one
//! (`memory::MemoryTransport`), so retries, paging, link guards, If-Match
//! handling and error mapping are tested without sockets.

use std::fmt;
use std::time::Duration;

use crate::error::Error;
use crate::wire::response::RawResponse;
use crate::wire::scrub::Scrubber;

#[cfg(test)]
pub(crate) mod memory;
pub(crate) mod ureq_transport;

/// One HTTP request, fully formed by the client core.
pub(crate) struct Request<'a> {
    pub method: &'static str,
    /// Absolute URL; the client core has checked its scheme and host.
    pub url: &'a str,
    /// Header names in lower case; values are visible ASCII (checked
    /// above). The `authorization` value lives in the caller's zeroizing
    /// buffer.
    pub headers: Vec<(&'static str, &'a str)>,
    /// Content type and bytes of the body, if any.
    pub body: Option<(&'static str, &'a [u8])>,
    /// Send `Connection: close`, so that the connection's buffers (which
    /// held a secret body) are freed at once.
    pub close: bool,
    /// The body holds a secret: after it, send white space that overwrites
    /// the network library's send buffer (see `ureq_transport`).
    pub secret_body: bool,
    /// The bound for this attempt, from connect to the last byte.
    pub timeout: Duration,
    /// The URL's host is a loopback address: no proxy, plain HTTP allowed.
    pub loopback: bool,
    /// The request may change something (a create, update, delete or
    /// action), unlike a GET, a validation or a token request: only then
    /// may an error say "look it up before trying again".
    pub writes: bool,
}

/// Carries requests. `Send + Sync`: one client is shared by threads.
pub(crate) trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and reads the answer, refusing a body larger than
    /// `max_response_bytes`. Text kept from the answer's headers and from
    /// network errors is scrubbed with `scrubber`.
    fn send(
        &self,
        request: &Request<'_>,
        max_response_bytes: u64,
        scrubber: &Scrubber<'_>,
    ) -> Result<RawResponse, Error>;
}
