//! [`Reply`]: what the fake answers, ordinary or scripted (silence, a body
//! cut short, a huge body, a dropped connection, an echo of the request).

use std::fmt;
use std::time::Duration;

use serde_json::json;

use crate::request::RecordedRequest;
use crate::wire::HEADER_AUTHORIZATION;

/// A scripted answer: the next request gets it instead of the normal
/// behaviour (replies are used in the order pushed). Besides ordinary
/// answers it can produce the faults a network produces: silence, a body
/// cut short, a huge body, a dropped connection, an echo of the request.
#[derive(Clone)]
pub struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) action: Action,
    /// Used only for requests with this method.
    pub(crate) method: Option<String>,
    /// Used only for requests whose path (without the query) ends so.
    pub(crate) path_suffix: Option<String>,
    /// Do what the service would (store the connection, say) first.
    pub(crate) process_first: bool,
}

impl fmt::Debug for Reply {
    // A scripted body or header may hold a secret (an echo test's canary):
    // show the shape only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .field("action", &self.action)
            .field("method", &self.method)
            .field("path_suffix", &self.path_suffix)
            .field("process_first", &self.process_first)
            .finish()
    }
}

/// How the server delivers a [`Reply`].
#[derive(Clone, Debug)]
pub(crate) enum Action {
    Respond,
    /// Read the request, then say nothing for this long, then close.
    Silent(Duration),
    /// Declare this Content-Length, send the body (shorter), then close.
    Truncate(usize),
    /// Send a body of this many bytes, generated on the fly.
    Stream(u64),
    /// Close the connection without answering.
    Close,
    /// Answer with the request (headers and body) in a JSON error message.
    Echo,
}

impl Reply {
    /// A reply with this status and an empty body.
    pub fn new(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            action: Action::Respond,
            method: None,
            path_suffix: None,
            process_first: false,
        }
    }

    /// A JSON reply (`Content-Type: application/json`).
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Reply::new(status)
            .header("Content-Type", "application/json")
            .body(body.into().into_bytes())
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Uses this reply only for a request with this method (`PATCH`, say);
    /// requests with other methods pass it by and are served normally.
    pub fn only_for(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Uses this reply only for a request whose path, without the query,
    /// ends with `suffix` (`/flows`, say; combine with
    /// [`only_for`](Self::only_for) for `POST /flows`); others pass it by.
    pub fn only_for_path(mut self, suffix: impl Into<String>) -> Self {
        self.path_suffix = Some(suffix.into());
        self
    }

    /// Reads the request and never answers; the connection is closed after
    /// `hold` (or when the fake stops).
    pub fn silent(hold: Duration) -> Self {
        Reply {
            action: Action::Silent(hold),
            ..Reply::new(0)
        }
    }

    /// Declares `Content-Length: declared_len` but sends only `body`
    /// (which must be shorter), then closes the connection.
    pub fn truncated(status: u16, declared_len: usize, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            action: Action::Truncate(declared_len),
            ..Reply::new(status)
                .header("Content-Type", "application/json")
                .body(body)
        }
    }

    /// A body of `len` bytes (`{"id":"` then `a` repeated), written in
    /// chunks as the client reads, without holding it in memory. The number
    /// of bytes that got out is in
    /// [`FakeFlowService::bytes_streamed`](crate::FakeFlowService::bytes_streamed).
    pub fn huge(status: u16, len: u64) -> Self {
        Reply {
            action: Action::Stream(len),
            ..Reply::new(status).header("Content-Type", "application/json")
        }
    }

    /// Closes the connection after reading the request, without a word.
    pub fn close() -> Self {
        Reply {
            action: Action::Close,
            ..Reply::new(0)
        }
    }

    /// Processes the request as the service would (a create stores the
    /// connection), then answers with `reply` instead of the real answer
    /// (an error, [`Reply::close`], [`Reply::silent`]): the answer was lost
    /// on the way back.
    pub fn after_processing(reply: Reply) -> Self {
        Reply {
            process_first: true,
            ..reply
        }
    }

    /// Answers `status` with the whole request echoed back inside a gateway
    /// error envelope: `{"error_code": "...", "message": "<headers and body>"}`,
    /// plus the `Authorization` value in an `x-echo-authorization` header. A
    /// client that shows service messages must scrub them.
    pub fn echo(status: u16) -> Self {
        Reply {
            action: Action::Echo,
            ..Reply::new(status)
        }
    }

    /// Whether this scripted reply is for `request`.
    pub(crate) fn applies_to(&self, request: &RecordedRequest) -> bool {
        let path = request.path.split('?').next().unwrap_or("");
        self.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&request.method))
            && self
                .path_suffix
                .as_ref()
                .is_none_or(|s| path.ends_with(s.as_str()))
    }

    /// The answer an [`Reply::echo`] gives to `request`.
    pub(crate) fn echoing(&self, request: &RecordedRequest) -> Reply {
        let mut text = format!("{} {}\n", request.method, request.path);
        for (k, v) in &request.headers {
            text.push_str(&format!("{k}: {v}\n"));
        }
        text.push_str(&String::from_utf8_lossy(&request.body));
        let mut out = Reply::json(
            self.status,
            json!({"error_code": format!("{}000", self.status), "message": text}).to_string(),
        );
        if let Some(auth) = request.header(HEADER_AUTHORIZATION) {
            out = out.header("x-echo-authorization", auth);
        }
        out.headers.extend(self.headers.iter().cloned());
        out
    }
}
