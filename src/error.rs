//! The crate's one error type.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::secret::Secret;

/// Everything that can go wrong in a call to Flow Service.
///
/// No variant holds a secret: text that comes from the service (or from the
/// transport) is scrubbed of the call's secrets before it is stored.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The input was rejected before anything was sent.
    InvalidInput {
        /// Which field (e.g. `postgres.password`, `platform.api_key`).
        field: String,
        /// The rule it broke, phrased as what to fix.
        rule: String,
    },
    /// The request could not be carried out at the network level.
    Transport(TransportError),
    /// The service answered with an error status.
    Api(Box<ApiError>),
    /// The connection does not exist (HTTP 404 on a get, test, update or
    /// delete).
    NotFound {
        /// The id asked for.
        id: String,
        /// Request id of the answer, if any.
        request_id: Option<String>,
    },
    /// The connection cannot be deleted: dataflows still use it (Flow
    /// Service code `1418-400`).
    InUse {
        /// The connection id.
        id: String,
        /// The service's message.
        message: String,
        /// Request id of the answer, if any.
        request_id: Option<String>,
    },
    /// The service answered something the API does not promise (a 201
    /// without an id, a body that is not JSON, a body over the size limit).
    UnexpectedResponse {
        /// HTTP status of the response.
        status: u16,
        /// What was wrong with it.
        detail: String,
        /// Request id from the `x-request-id` header, if any.
        request_id: Option<String>,
    },
}

/// Whether a failed request may have reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Nothing was sent (DNS failure, connection refused, TLS handshake
    /// failure): safe to retry.
    NotSent,
    /// The request may have been processed (e.g. the connection broke or
    /// timed out after the request was written). A create may have
    /// succeeded: look the connection up by name before trying again.
    Unknown,
}

/// What kind of network failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The host name could not be resolved.
    Dns,
    /// The TCP connection could not be made.
    Connect,
    /// TLS failed (handshake, certificate verification).
    Tls,
    /// A timeout expired.
    Timeout,
    /// Any other I/O or protocol failure.
    Io,
}

/// A network-level failure. See [`Error::Transport`].
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// Whether the request may have reached the service.
    pub delivery: Delivery,
    /// Description of the failure (secrets scrubbed).
    pub detail: String,
    /// How many attempts were made (more than 1 when a failure before
    /// sending was retried).
    pub attempts: u32,
    pub(crate) source: Option<Box<dyn StdError + Send + Sync>>,
}

/// Which service answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Service {
    /// Flow Service (or the Adobe I/O gateway in front of it).
    FlowService,
    /// Adobe IMS, the token endpoint.
    Ims,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::FlowService => "Flow Service",
            Service::Ims => "Adobe IMS",
        })
    }
}

/// An error answer from Flow Service or the Adobe I/O gateway in front of
/// it, or from Adobe IMS.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// Which service answered.
    pub service: Service,
    /// HTTP status, e.g. 400.
    pub status: u16,
    /// Adobe's error code: `FLOW-1415-400` (Flow Service, from `type`),
    /// `401013` (gateway `error_code`), when the body carried one.
    pub code: Option<String>,
    /// The service's title for the error (`title`), when it gave one.
    pub title: Option<String>,
    /// The service's explanation (secrets scrubbed).
    pub message: String,
    /// The request id to quote in a support ticket: the body's
    /// `report.request-id`, else the `x-request-id` header.
    pub request_id: Option<String>,
    /// The `Retry-After` the service asked for, if any.
    pub retry_after: Option<Duration>,
    /// How many attempts were made (more than 1 after 429 retries).
    pub attempts: u32,
}

impl Error {
    pub(crate) fn invalid_input(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::UnexpectedResponse { status, .. } => Some(*status),
            Error::NotFound { .. } => Some(404),
            Error::InUse { .. } => Some(400),
            _ => None,
        }
    }

    /// Request id of the answer, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.request_id.as_deref(),
            Error::UnexpectedResponse { request_id, .. }
            | Error::NotFound { request_id, .. }
            | Error::InUse { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// True when the input was refused before anything was sent.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::InvalidInput { .. })
    }
}

impl ApiError {
    /// A short, practical hint for the common statuses.
    pub fn hint(&self) -> Option<&'static str> {
        let code = self.code.as_deref().unwrap_or("");
        if self.service == Service::Ims {
            return Some(match code {
                "invalid_client" => {
                    "check the client id and client secret (AEP_CLIENT_ID, AEP_CLIENT_SECRET)"
                }
                "invalid_scope" => {
                    "check the scopes (AEP_SCOPES) against the Developer Console project"
                }
                _ => "the token request was refused: check the OAuth Server-to-Server credentials",
            });
        }
        Some(match (self.status, code) {
            (_, "400003") => "send the IMS organization id (x-gw-ims-org-id, ends in @AdobeOrg)",
            (_, "403000") | (_, "403003") => {
                "check the API key: it is the Developer Console project's client id"
            }
            (401, _) => "the access token was rejected or has expired: get a new one from Adobe IMS",
            (403, _) => "the credentials lack permission: check the product profile and the sandbox name",
            (404, _) => "check the sandbox name and the base URL",
            (429, _) => "rate limited: wait for the Retry-After delay, then try again",
            (500..=599, _) => "the service failed: if this was a create, check whether the connection exists before trying again",
            _ => return None,
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered HTTP {}", self.service, self.status)?;
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        if let Some(title) = &self.title {
            if title != &self.message {
                write!(f, " {title}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        if let Some(after) = self.retry_after {
            write!(f, " (Retry-After {} s)", after.as_secs())?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        if let Some(hint) = self.hint() {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Dns => "host name lookup failed",
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Tls => "TLS failed",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Io => "connection failed",
        })
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)?;
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        if self.delivery == Delivery::Unknown {
            f.write_str(
                " (the request may have reached the service: if it was a create, \
                 look for the connection by name before trying again)",
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput { field, rule } => {
                write!(f, "invalid {field}: {rule} (nothing was sent)")
            }
            Error::Transport(e) => e.fmt(f),
            Error::Api(e) => e.fmt(f),
            Error::NotFound { id, request_id } => {
                write!(f, "connection {id} not found (HTTP 404)")?;
                if let Some(r) = request_id {
                    write!(f, " (request id {r})")?;
                }
                Ok(())
            }
            Error::InUse {
                id,
                message,
                request_id,
            } => {
                write!(
                    f,
                    "connection {id} is still used by dataflows (HTTP 400 [1418-400]): {message}; \
                     delete or update those dataflows first"
                )?;
                if let Some(r) = request_id {
                    write!(f, " (request id {r})")?;
                }
                Ok(())
            }
            Error::UnexpectedResponse {
                status,
                detail,
                request_id,
            } => {
                write!(f, "unexpected response (HTTP {status}): {detail}")?;
                if let Some(id) = request_id {
                    write!(f, " (request id {id})")?;
                }
                Ok(())
            }
        }
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_ref()
            .map(|e| e.as_ref() as &(dyn StdError + 'static))
    }
}

impl StdError for ApiError {}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Transport(e) => Some(e),
            Error::Api(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

/// Replaces every occurrence of the call's secrets in text the library is
/// about to keep or show. Both the raw form and the JSON-escaped form are
/// removed, since a server that echoes a request body echoes it escaped.
pub(crate) struct Scrubber<'a> {
    secrets: Vec<ScrubItem<'a>>,
}

/// A secret to scrub: borrowed for the call, shared with a token cache, or
/// a derived form (form-encoded) owned and wiped here.
enum ScrubItem<'a> {
    Borrowed(&'a str),
    Shared(Arc<Secret>),
    Owned(Zeroizing<String>),
}

impl ScrubItem<'_> {
    fn as_str(&self) -> &str {
        match self {
            ScrubItem::Borrowed(s) => s,
            ScrubItem::Shared(s) => s.expose_secret(),
            ScrubItem::Owned(s) => s.as_str(),
        }
    }
}

/// An empty value would match everywhere. Anything longer is scrubbed, even
/// a one-letter password: a mangled message beats a leaked secret.
const MIN_SCRUB_LEN: usize = 1;

impl<'a> Scrubber<'a> {
    pub(crate) fn new() -> Self {
        Scrubber {
            secrets: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, secret: &'a str) {
        self.push(ScrubItem::Borrowed(secret));
    }

    pub(crate) fn add_shared(&mut self, secret: Arc<Secret>) {
        self.push(ScrubItem::Shared(secret));
    }

    pub(crate) fn add_owned(&mut self, secret: Zeroizing<String>) {
        self.push(ScrubItem::Owned(secret));
    }

    /// Adds a secret and, when JSON escaping changes it, its escaped forms:
    /// a server that echoes the request body echoes it JSON-escaped, and an
    /// echo of an echo (a body quoted inside a JSON string) escapes it
    /// twice. Kept longest first, so a connection string is removed whole
    /// before the password inside it.
    fn push(&mut self, item: ScrubItem<'a>) {
        if item.as_str().len() < MIN_SCRUB_LEN {
            return;
        }
        let mut forms = Vec::new();
        if needs_json_escape(item.as_str()) {
            let once = json_escaped(item.as_str());
            forms.push(ScrubItem::Owned(json_escaped(&once)));
            forms.push(ScrubItem::Owned(once));
        }
        self.secrets.push(item);
        self.secrets.extend(forms);
        self.secrets
            .sort_by_key(|s| std::cmp::Reverse(s.as_str().len()));
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            replace_all(&mut out, secret.as_str());
        }
        out
    }

    /// Service text as the library shows it: on one line, at most
    /// `max_chars`, without the call's secrets. Scrubbed before and after
    /// flattening: a secret spelled with white space inside is caught in
    /// the raw text, and one split by control characters (`a\u0000bc`
    /// for `abc`) once they are gone.
    pub(crate) fn shown(&self, text: &str, max_chars: usize) -> String {
        // Cut only at the end: a cut first could leave part of a secret
        // that the second scrub no longer recognises.
        let flat = Zeroizing::new(crate::response::one_line(&self.scrub(text), usize::MAX));
        let scrubbed = Zeroizing::new(self.scrub(&flat));
        crate::response::one_line(&scrubbed, max_chars)
    }
}

/// Whether serde_json writes `s` differently inside a JSON string.
fn needs_json_escape(s: &str) -> bool {
    s.chars().any(|c| c == '"' || c == '\\' || c < ' ')
}

fn replace_all(text: &mut String, needle: &str) {
    if text.contains(needle) {
        let replaced = text.replace(needle, crate::secret::REDACTED);
        zeroize::Zeroize::zeroize(text);
        *text = replaced;
    }
}

/// `s` as it appears between the quotes of a JSON string, built in a
/// zeroizing buffer of exactly the right size.
fn json_escaped(s: &str) -> Zeroizing<String> {
    let quoted = crate::postgres::serialize_exact(&s).unwrap_or_default();
    let inner = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or(&[]);
    let mut out = Zeroizing::new(String::with_capacity(inner.len()));
    out.push_str(std::str::from_utf8(inner).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubber_removes_raw_and_json_escaped_forms() {
        let mut s = Scrubber::new();
        s.add("p\"w\\canary");
        s.add("xy");
        s.add(""); // would match everywhere: ignored
        let text = r#"raw p"w\canary, escaped p\"w\\canary, twice p\\\"w\\\\canary; xy too"#;
        let out = s.scrub(text);
        assert!(!out.contains("canary"), "{out}");
        assert!(!out.contains("xy"), "{out}");
        assert_eq!(out.matches(crate::secret::REDACTED).count(), 4, "{out}");
    }

    #[test]
    fn a_secret_split_at_the_length_cap_is_not_left_half_shown() {
        let mut s = Scrubber::new();
        s.add("tokCANARY99");
        // The split secret ends just where the cap would cut.
        let text = format!("{}tok\u{1}CANARY99 tail", "a".repeat(995));
        let out = s.shown(&text, 1000);
        assert!(!out.contains("tokCA"), "{out}");
        assert!(out.chars().count() <= 1001);
    }

    #[test]
    fn display_of_each_variant_names_what_matters() {
        let e = Error::invalid_input("postgres.port", "must be between 1 and 65535");
        assert_eq!(
            e.to_string(),
            "invalid postgres.port: must be between 1 and 65535 (nothing was sent)"
        );
        let api = Error::Api(Box::new(ApiError {
            service: Service::FlowService,
            status: 400,
            code: Some("FLOW-1415-400".into()),
            title: Some("Bad request".into()),
            message: "connection spec not found".into(),
            request_id: Some("req-1".into()),
            retry_after: None,
            attempts: 1,
        }));
        let text = api.to_string();
        for part in ["400", "FLOW-1415-400", "connection spec not found", "req-1"] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        assert_eq!(api.status(), Some(400));
        assert_eq!(api.request_id(), Some("req-1"));
        let t = Error::Transport(TransportError {
            kind: TransportErrorKind::Timeout,
            delivery: Delivery::Unknown,
            detail: "global timeout".into(),
            attempts: 1,
            source: None,
        });
        assert!(t.to_string().contains("may have reached the service"));
    }
}
