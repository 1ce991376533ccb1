//! An in-memory transport for unit tests: each request is logged and
//! answered by the next scripted step. No socket is opened.

use std::collections::VecDeque;
use std::sync::Mutex;

use zeroize::Zeroizing;

use super::{Request, Transport};
use crate::error::{Delivery, Error, TransportError, TransportErrorKind};
use crate::wire::response::RawResponse;
use crate::wire::scrub::Scrubber;

/// A request as the transport saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    pub close: bool,
    pub secret_body: bool,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(self.body.as_deref().unwrap_or(b"null")).unwrap()
    }
}

type Step = Box<dyn FnOnce(&Seen) -> Result<RawResponse, Error> + Send>;

/// Answers from a script, in order; a request with no step left is a test
/// failure (a 599 answer that says so).
#[derive(Default)]
pub(crate) struct MemoryTransport {
    script: Mutex<VecDeque<Step>>,
    log: Mutex<Vec<Seen>>,
}

impl std::fmt::Debug for MemoryTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTransport").finish_non_exhaustive()
    }
}

impl MemoryTransport {
    /// Adds a step computed from the request.
    pub(crate) fn then(
        &self,
        step: impl FnOnce(&Seen) -> Result<RawResponse, Error> + Send + 'static,
    ) -> &Self {
        self.script.lock().unwrap().push_back(Box::new(step));
        self
    }

    /// Adds a JSON answer.
    pub(crate) fn reply(&self, status: u16, body: &str) -> &Self {
        let body = body.as_bytes().to_vec();
        self.then(move |_| Ok(RawResponse::from_body(status, body, Some("req-mem"))))
    }

    /// Adds a JSON answer with a `Retry-After`.
    pub(crate) fn reply_retry_after(
        &self,
        status: u16,
        body: &str,
        after: std::time::Duration,
    ) -> &Self {
        let body = body.as_bytes().to_vec();
        self.then(move |_| {
            let mut r = RawResponse::from_body(status, body, None);
            r.retry_after = Some(after);
            Ok(r)
        })
    }

    /// Adds a network failure.
    pub(crate) fn fail(&self, kind: TransportErrorKind, delivery: Delivery) -> &Self {
        self.then(move |_| {
            Err(Error::Transport(TransportError {
                kind,
                delivery,
                detail: format!("scripted {kind}"),
                attempts: 1,
                write: false,
            }))
        })
    }

    /// The requests seen so far.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    /// How many steps are left.
    pub(crate) fn remaining(&self) -> usize {
        self.script.lock().unwrap().len()
    }
}

/// Shared, so a test keeps a handle to script it and read its log.
impl Transport for std::sync::Arc<MemoryTransport> {
    fn send(
        &self,
        request: &Request<'_>,
        max_response_bytes: u64,
        scrubber: &Scrubber<'_>,
    ) -> Result<RawResponse, Error> {
        self.as_ref().send(request, max_response_bytes, scrubber)
    }
}

impl Transport for MemoryTransport {
    fn send(
        &self,
        request: &Request<'_>,
        _max_response_bytes: u64,
        _scrubber: &Scrubber<'_>,
    ) -> Result<RawResponse, Error> {
        let seen = Seen {
            method: request.method,
            url: request.url.to_owned(),
            headers: request
                .headers
                .iter()
                .map(|(n, v)| (*n, (*v).to_owned()))
                .collect(),
            body: request.body.map(|(_, b)| b.to_vec()),
            close: request.close,
            secret_body: request.secret_body,
        };
        self.log.lock().unwrap().push(seen.clone());
        let step = self.script.lock().unwrap().pop_front();
        let result = match step {
            Some(step) => step(&seen),
            None => Ok(RawResponse {
                body: Zeroizing::new(b"{\"title\":\"no scripted answer left\"}".to_vec()),
                ..RawResponse::from_body(599, Vec::new(), None)
            }),
        };
        // As the real transport: answers and failures know whether the
        // request was a write.
        match result {
            Ok(mut resp) => {
                resp.write = request.writes;
                Ok(resp)
            }
            Err(Error::Transport(mut t)) => {
                t.write = request.writes;
                Err(Error::Transport(t))
            }
            Err(e) => Err(e),
        }
    }
}
