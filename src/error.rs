//! The crate's one error type, and the reading of the services' error
//! envelopes into it. Layer 2: imports only the secret and wire layers.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use serde_json::Value;
use zeroize::Zeroizing;

use crate::secret::InvalidUtf8;
use crate::wire::read;
use crate::wire::response::{describe_body, wipe, write_success_note, RawResponse};
use crate::wire::scrub::Scrubber;
use crate::wire::text::reason_phrase;

/// Everything that can go wrong in a call to Flow Service.
///
/// No variant holds a secret: text that comes from the service (or from the
/// transport) is scrubbed of the call's secrets before it is stored. It is
/// `Clone` (a failed token fetch is handed to every thread that waited on
/// it).
///
/// Test for a kind with the predicates ([`is_not_found`](Error::is_not_found),
/// [`is_in_use`](Error::is_in_use), [`is_too_large`](Error::is_too_large),
/// ...) rather than by matching its text.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The input was rejected before anything was sent.
    InvalidInput {
        /// Which field (e.g. `postgres.password`, `platform.api_key`).
        field: String,
        /// The rule it broke, phrased as what to fix.
        rule: String,
    },
    /// The input names something that exists but cannot be used this way
    /// (a rotation of a connection that is not PostgreSQL, a table without
    /// the named column). Found by reading from the service; nothing was
    /// written.
    Unsuitable {
        /// Which input (e.g. `connection_id`).
        field: String,
        /// What is wrong with what it names, phrased as what to fix.
        rule: String,
    },
    /// The request could not be carried out at the network level.
    Transport(TransportError),
    /// The service answered with an error status.
    Api(Box<ApiError>),
    /// The resource does not exist (HTTP 404 on a get, test, update or
    /// delete).
    NotFound {
        /// What kind of resource (`connection`, `source connection`, ...).
        resource: &'static str,
        /// The id asked for.
        id: String,
        /// Request id of the answer, if any.
        request_id: Option<String>,
    },
    /// The resource cannot be deleted: others still use it (Flow Service
    /// code `1418-400`, e.g. a base connection that dataflows use).
    InUse {
        /// What kind of resource.
        resource: &'static str,
        /// Its id.
        id: String,
        /// The service's message.
        message: String,
        /// Request id of the answer, if any.
        request_id: Option<String>,
    },
    /// The answer's body was larger than the client's cap for it, so it
    /// was not read. Raise the cap named by `setting` if answers this big
    /// are expected (explore answers of large databases can be).
    TooLarge {
        /// Which service answered. [`Service::Ims`]: the answer to the
        /// token request of a platform call, which was then not sent.
        service: Service,
        /// HTTP status of the response.
        status: u16,
        /// The cap, in bytes.
        limit: u64,
        /// The [`ClientBuilder`](crate::ClientBuilder) setting that raises
        /// it: `ClientBuilder::with_max_response_bytes`, or
        /// `ClientBuilder::with_max_explore_bytes` for explore answers.
        setting: &'static str,
        /// The request was a write: with a 2xx status, the change was made.
        write: bool,
        /// Request id from the `x-request-id` header, if any.
        request_id: Option<String>,
    },
    /// The service answered something the API does not promise (a 201
    /// without an id, a body that is not JSON).
    UnexpectedResponse {
        /// HTTP status of the response.
        status: u16,
        /// What was wrong with it.
        detail: String,
        /// Request id from the `x-request-id` header, if any.
        request_id: Option<String>,
    },
}

/// The setting that raises the cap on answers ([`Error::TooLarge`]).
pub(crate) const RESPONSE_CAP_SETTING: &str = "ClientBuilder::with_max_response_bytes";
/// The setting that raises the cap on explore answers.
pub(crate) const EXPLORE_CAP_SETTING: &str = "ClientBuilder::with_max_explore_bytes";

/// Whether a failed request may have reached the service.
///
/// Named (`as_str`, `Display`, `FromStr`, ignoring case) `not sent` and
/// `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Delivery {
    /// Nothing was sent (DNS failure, connection refused, TLS handshake
    /// failure): safe to retry.
    NotSent,
    /// The request may have been processed (e.g. the connection broke or
    /// timed out after the request was written). A create may have
    /// succeeded: look the resource up before trying again.
    Unknown,
}

/// What kind of network failure happened.
///
/// Named (`as_str`, `Display`, `FromStr`, ignoring case) as the library's
/// messages say it: `host name lookup failed`, `could not connect`, `TLS
/// failed`, `timed out`, `connection failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone)]
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
    /// The failed request was a write (a create, update, delete or
    /// action), which may have been carried out; a read (a GET, a
    /// validation, a token request) changed nothing either way.
    pub write: bool,
}

/// Gives a public enum the crate's one naming convention from one list of
/// `Variant => "name"` pairs: `as_str` (documented by the doc comment given
/// first), `Display` (the same text) and `FromStr`.
///
/// `same(name, word)` says how a word is compared with a name (exactly,
/// ignoring ASCII case, ...); names after a variant's first are aliases,
/// read but never written. A word that names no variant is either refused
/// with a [`ParseEnumError`] that names the type and the rule given, or,
/// with `Other` in place of the rule, kept as `Other(word)`: then `FromStr`
/// never fails, and a crate-private `parse` returns the value itself.
macro_rules! named_enum {
    (@impls $name:ident, $word:ident => $read:expr) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::ParseEnumError;

            fn from_str($word: &str) -> Result<Self, Self::Err> {
                $read
            }
        }
    };
    (
        $(#[$doc:meta])* $name:ident, $same:expr, Other;
        $($variant:ident => $spelling:expr $(, $alias:expr)*;)+
    ) => {
        impl $name {
            $(#[$doc])*
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $spelling,)+
                    $name::Other(word) => word,
                }
            }

            /// Reads a word by `FromStr`'s rules. The public way in is
            /// `FromStr`.
            pub(crate) fn parse(word: &str) -> $name {
                let names = [$(($name::$variant, [$spelling $(, $alias)*].as_slice()),)+];
                $crate::error::find_named(names, $same, word)
                    .unwrap_or_else(|| $name::Other(word.to_owned()))
            }
        }

        $crate::error::named_enum!(@impls $name, word => Ok($name::parse(word)));
    };
    (
        $(#[$doc:meta])* $name:ident, $same:expr, $rule:expr;
        $($variant:ident => $spelling:expr $(, $alias:expr)*;)+
    ) => {
        impl $name {
            $(#[$doc])*
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $spelling,)+
                }
            }
        }

        $crate::error::named_enum!(@impls $name, word => {
            let names = [$(($name::$variant, [$spelling $(, $alias)*].as_slice()),)+];
            $crate::error::find_named(names, $same, word).ok_or_else(|| {
                $crate::error::ParseEnumError::new(stringify!($name), $rule, word)
            })
        });
    };
}
pub(crate) use named_enum;

/// The value whose names include one that is the `same` as `word`: the
/// lookup behind [`named_enum!`]'s `FromStr`.
pub(crate) fn find_named<T, const N: usize>(
    names: [(T, &[&str]); N],
    same: fn(&str, &str) -> bool,
    word: &str,
) -> Option<T> {
    names
        .into_iter()
        .find(|(_, spellings)| spellings.iter().any(|name| same(name, word)))
        .map(|(value, _)| value)
}

/// Which service answered.
///
/// Named (`as_str`, `Display`, `FromStr`, ignoring case) as Adobe names
/// them: `Flow Service`, `Data Prep`, `Catalog`, `Adobe IMS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Service {
    /// Flow Service (or the Adobe I/O gateway in front of it).
    FlowService,
    /// Data Prep (mapping sets).
    DataPrep,
    /// Catalog (datasets).
    Catalog,
    /// Adobe IMS, the token endpoint.
    Ims,
}

named_enum! {
    /// Its name: `Flow Service`, `Data Prep`, `Catalog`, `Adobe IMS`.
    Service, str::eq_ignore_ascii_case, "must be one of Flow Service, Data Prep, Catalog, Adobe IMS";
    FlowService => "Flow Service";
    DataPrep => "Data Prep";
    Catalog => "Catalog";
    Ims => "Adobe IMS";
}

named_enum! {
    /// Its name: `not sent` or `unknown`.
    Delivery, str::eq_ignore_ascii_case, "must be `not sent` or `unknown`";
    NotSent => "not sent";
    Unknown => "unknown";
}

named_enum! {
    /// How messages say it: `host name lookup failed`, `could not
    /// connect`, `TLS failed`, `timed out`, `connection failed`.
    TransportErrorKind,
    str::eq_ignore_ascii_case,
    "must be one of `host name lookup failed`, `could not connect`, `TLS failed`, \
     `timed out`, `connection failed`";
    Dns => "host name lookup failed";
    Connect => "could not connect";
    Tls => "TLS failed";
    Timeout => "timed out";
    Io => "connection failed";
}

/// A word that names no value of one of the library's enums: what
/// `str::parse` (`FromStr`) returns for [`FlowState`](crate::FlowState),
/// [`SslMode`](crate::SslMode), [`Service`] and the others.
///
/// It names the type and the rule, and shows at most
/// [`MAX_INPUT_CHARS`](ParseEnumError::MAX_INPUT_CHARS) characters of the
/// input, escaped (a long or garbled input is cut, control characters are
/// shown as escapes).
///
/// ```
/// use aep_flow::SslMode;
/// let err = "verify_full".parse::<SslMode>().unwrap_err();
/// assert_eq!(err.type_name(), "SslMode");
/// assert_eq!(
///     err.to_string(),
///     "invalid SslMode \"verify_full\": must be one of disable, allow, prefer, require, verify-ca, verify-full"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParseEnumError {
    type_name: &'static str,
    rule: &'static str,
    input: String,
}

impl ParseEnumError {
    /// The longest part of the input kept (in characters, before escaping).
    pub const MAX_INPUT_CHARS: usize = 40;

    pub(crate) fn new(type_name: &'static str, rule: &'static str, input: &str) -> Self {
        let mut shown: String = input
            .chars()
            .take(Self::MAX_INPUT_CHARS)
            .flat_map(char::escape_debug)
            .collect();
        if input.chars().nth(Self::MAX_INPUT_CHARS).is_some() {
            shown.push('…');
        }
        ParseEnumError {
            type_name,
            rule,
            input: shown,
        }
    }

    /// The type that was asked for, e.g. `SslMode`.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The rule the input broke, e.g. `must be one of disable, allow, ...`.
    pub fn rule(&self) -> &'static str {
        self.rule
    }

    /// The input as shown: escaped, and cut after
    /// [`MAX_INPUT_CHARS`](ParseEnumError::MAX_INPUT_CHARS) characters
    /// (an ellipsis marks the cut).
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for ParseEnumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} \"{}\": {}",
            self.type_name, self.input, self.rule
        )
    }
}

impl StdError for ParseEnumError {}

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
    /// The request was a write (a create, update, delete or action); a
    /// read (a GET, a validation) changed nothing.
    pub write: bool,
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
            Error::UnexpectedResponse { status, .. } | Error::TooLarge { status, .. } => {
                Some(*status)
            }
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
            | Error::TooLarge { request_id, .. }
            | Error::NotFound { request_id, .. }
            | Error::InUse { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// True when the input was refused before anything was sent.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::InvalidInput { .. })
    }

    /// True when the input was refused after reading what it names, with
    /// nothing written ([`Error::Unsuitable`]).
    pub fn is_unsuitable(&self) -> bool {
        matches!(self, Error::Unsuitable { .. })
    }

    /// True when the resource does not exist ([`Error::NotFound`]).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// True when the resource could not be deleted because others still
    /// use it ([`Error::InUse`]).
    pub fn is_in_use(&self) -> bool {
        matches!(self, Error::InUse { .. })
    }

    /// True when an answer was larger than the client's cap for it
    /// ([`Error::TooLarge`]).
    pub fn is_too_large(&self) -> bool {
        matches!(self, Error::TooLarge { .. })
    }

    /// True when a write sent with `If-Match` was refused because the
    /// resource changed since it was read (HTTP 412).
    pub fn is_precondition_failed(&self) -> bool {
        matches!(self, Error::Api(api) if api.status == 412)
    }

    /// Whether the request may have been carried out by the service even
    /// though the call failed: the connection broke or timed out after the
    /// request was written, a 5xx answer, or a success answer that could
    /// not be read. After a failed create this means the resource may
    /// exist: look it up before creating again (the `ensure_*` calls do).
    pub fn may_have_been_processed(&self) -> bool {
        match self {
            Error::Transport(t) => t.delivery == Delivery::Unknown,
            // An IMS answer: the token request failed, the platform
            // request was not sent.
            Error::Api(api) => api.status >= 500 && api.service != Service::Ims,
            Error::UnexpectedResponse { status, .. } => (200..300).contains(status),
            // A token answer: the platform request was not sent.
            Error::TooLarge {
                service, status, ..
            } => *service != Service::Ims && (200..300).contains(status),
            _ => false,
        }
    }

    /// Whether trying the same call again later can succeed without a
    /// change on the caller's side: a network failure other than a
    /// certificate that does not verify, 429, and 500/502/503/504. Input
    /// errors, refusals (4xx) and answers the library cannot read are
    /// not. Combine with [`may_have_been_processed`](Error::may_have_been_processed)
    /// before repeating a create.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(t) => t.kind != TransportErrorKind::Tls,
            Error::Api(api) => matches!(api.status, 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// The `Retry-After` the service asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) => api.retry_after,
            _ => None,
        }
    }

    /// The same error with every text that may hold service text (an id,
    /// a status, a name quoted in a detail or rule, a request id) put
    /// through `scrubber` once more: for errors built from a parsed answer,
    /// after the call's own scrubbing of the raw body. An [`Error::Api`]
    /// was scrubbed when it was read and is left as it is.
    pub(crate) fn scrubbed(mut self, scrubber: &Scrubber<'_>) -> Self {
        if scrubber.is_empty() {
            return self;
        }
        let clean = |s: &mut String| {
            let cleaned = scrubber.scrub(s);
            if cleaned != *s {
                *s = cleaned;
            }
        };
        let clean_id = |r: &mut Option<String>| r.iter_mut().for_each(clean);
        match &mut self {
            Error::InvalidInput { rule, .. } | Error::Unsuitable { rule, .. } => clean(rule),
            Error::Transport(t) => clean(&mut t.detail),
            Error::NotFound { id, request_id, .. } => {
                clean(id);
                clean_id(request_id);
            }
            Error::InUse {
                id,
                message,
                request_id,
                ..
            } => {
                clean(id);
                clean(message);
                clean_id(request_id);
            }
            Error::TooLarge { request_id, .. } => clean_id(request_id),
            Error::UnexpectedResponse {
                detail, request_id, ..
            } => {
                clean(detail);
                clean_id(request_id);
            }
            Error::Api(_) => {}
        }
        self
    }

    /// An error for an answer the API does not promise.
    pub(crate) fn unexpected(resp: &RawResponse, detail: impl Into<String>) -> Self {
        Error::UnexpectedResponse {
            status: resp.status,
            detail: detail.into(),
            request_id: resp.request_id.clone(),
        }
    }
}

impl From<InvalidUtf8> for Error {
    fn from(_: InvalidUtf8) -> Self {
        Error::invalid_input("secret", "must be valid UTF-8")
    }
}

impl ApiError {
    /// A short, practical hint for the common statuses.
    pub fn hint(&self) -> Option<&'static str> {
        let code = self.code.as_deref().unwrap_or("");
        if self.service == Service::Ims {
            return Some(match code {
                "invalid_client" => "check the IMS client id and client secret (ImsCredentials)",
                "invalid_scope" => "check the IMS scopes against the Developer Console project",
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
            (500..=599, _) if self.write => "the service failed, and the change may have been made: look it up before trying again",
            (500..=599, _) => "the service failed: try again later",
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
            write!(f, " (Retry-After {})", RetryAfter(after))?;
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

/// A `Retry-After` wait as people read it: seconds up to a day, then
/// "more than a day" (a service can send any number, up to
/// 18446744073709551615 seconds).
struct RetryAfter(Duration);

impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAY: u64 = 86_400;
        match self.0.as_secs() {
            s if s <= DAY => write!(f, "{s} s"),
            s if s < 2 * DAY => f.write_str("more than a day"),
            s if s < 365 * DAY => write!(f, "more than a day: {} days", s / DAY),
            _ => f.write_str("more than a year"),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)?;
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        // Only a write can have left something behind; a read that timed
        // out changed nothing and is simply repeated.
        if self.delivery == Delivery::Unknown && self.write {
            f.write_str(
                " (the request may have reached the service: the change may have been \
                 made; look it up before trying again)",
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput { field, rule } => {
                return write!(f, "invalid {field}: {rule} (nothing was sent)");
            }
            Error::Unsuitable { field, rule } => {
                return write!(f, "unsuitable {field}: {rule} (nothing was written)");
            }
            Error::Transport(e) => return e.fmt(f),
            Error::Api(e) => return e.fmt(f),
            Error::NotFound { resource, id, .. } => {
                write!(f, "{resource} {id} not found (HTTP 404)")?;
            }
            Error::InUse {
                resource,
                id,
                message,
                ..
            } => write!(
                f,
                "{resource} {id} is still in use (HTTP 400 [1418-400]): {message}; \
                 delete or update what uses it first (e.g. its dataflows)"
            )?,
            Error::TooLarge {
                service,
                status,
                limit,
                setting,
                write,
                ..
            } => write!(
                f,
                "{}answer too large (HTTP {status}): the body is larger than the {limit}-byte \
                 limit; it was not read{}; if answers this big are expected, raise the limit \
                 with {setting}",
                if *service == Service::Ims {
                    "Adobe IMS token request: "
                } else {
                    ""
                },
                write_success_note(*status, *write)
            )?,
            Error::UnexpectedResponse { status, detail, .. } => {
                write!(f, "unexpected response (HTTP {status}): {detail}")?;
            }
        }
        if let Some(id) = self.request_id() {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

// Each cause is printed once (C-GOOD-ERR): `Error`'s `Display` already
// holds the whole story (the inner error's text, scrubbed), so no
// `source()` repeats it. The network library's own error is not kept: its
// text was scrubbed into `detail`, and the unscrubbed original could carry
// what the scrubber removed.
impl StdError for TransportError {}

impl StdError for ApiError {}

impl StdError for Error {}

/// Turns an error answer into [`ApiError`], whatever envelope it uses
/// (gateway, Flow Service, platform generic), or none (empty, HTML).
pub(crate) fn parse_api_error(resp: &RawResponse, scrubber: &Scrubber<'_>) -> ApiError {
    fn text<'v>(object: Option<&'v Value>, key: &str) -> Option<&'v str> {
        object?.get(key)?.as_str().filter(|s| !s.is_empty())
    }
    // A code or an id, sent as a text or as a number.
    let text_or_number = |c: &Value| read::text_or_number(c).filter(|s| !s.is_empty());
    let mut value: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let error = {
        let (top, report) = (Some(&value), value.get("report"));
        // Gateway: {"error_code": "401013", "message": ...}; the code may be a number.
        let gateway_code = value.get("error_code").and_then(text_or_number);
        // Flow Service / generic: the code is the last path segment of `type`.
        let type_code = text(top, "type").and_then(|t| {
            let last = t.rsplit('/').next().unwrap_or(t);
            (!last.is_empty() && last.chars().any(|c| c.is_ascii_digit())).then_some(last)
        });
        // IMS: {"error": "invalid_client", "error_description": ...}
        let mut code = (gateway_code.as_deref().or(type_code))
            .or_else(|| text(top, "error"))
            .map(|c| scrubber.shown(c, 100));
        let mut title = text(top, "title").map(|t| scrubber.shown(t, 200));
        let mut message = text(report, "detailed-message")
            .or_else(|| text(top, "errorMessage"))
            .or_else(|| text(top, "detail"))
            .or_else(|| text(top, "message"))
            .or_else(|| text(top, "error_description"))
            .or_else(|| text(top, "title"))
            .map(|m| scrubber.shown(m, 1000))
            .unwrap_or_else(|| body_summary(resp, scrubber));
        if message.trim().is_empty() {
            message = reason_phrase(resp.status).to_owned();
        }
        let mut request_id = report
            .and_then(|r| r.get("request-id"))
            .and_then(text_or_number)
            .map(|r| scrubber.shown(&r, 200));
        // Scrubbed again as `Display` shows them side by side: a secret
        // split across two fields is caught in the joined text.
        {
            let mut parts: Vec<&mut String> = Vec::with_capacity(4);
            parts.extend(code.as_mut());
            parts.extend(title.as_mut());
            parts.push(&mut message);
            parts.extend(request_id.as_mut());
            scrubber.rescrub_joined(&mut parts, " ");
        }
        ApiError {
            service: Service::FlowService,
            status: resp.status,
            code,
            title,
            message,
            request_id: request_id.or_else(|| resp.request_id.clone()),
            retry_after: resp.retry_after,
            attempts: 1,
            write: resp.write,
        }
    };
    // The parsed JSON may hold an echoed secret: wipe it before it is freed.
    wipe(&mut value);
    error
}

/// A one-line account of a body that is not a JSON error envelope: the
/// HTML `<title>` of a proxy page, or the start of the text.
fn body_summary(resp: &RawResponse, scrubber: &Scrubber<'_>) -> String {
    if resp.body.is_empty() {
        return format!("{} (empty body)", reason_phrase(resp.status));
    }
    let text = Zeroizing::new(String::from_utf8_lossy(&resp.body).into_owned());
    let scrubbed = Zeroizing::new(scrubber.scrub(&text));
    let lower = scrubbed.to_ascii_lowercase();
    let snippet = match (lower.find("<title>"), lower.find("</title>")) {
        (Some(a), Some(b)) if b > a + 7 => &scrubbed[a + 7..b],
        _ => scrubbed.as_str(),
    };
    let mut line = scrubber.shown(snippet, 200);
    if line.is_empty() {
        line = reason_phrase(resp.status).to_owned();
    }
    format!("{line} ({})", describe_body(resp))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            write: false,
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
            write: true,
        });
        assert!(t.to_string().contains("may have reached the service"));
        assert!(t.to_string().contains("look it up before trying again"));
    }

    #[test]
    fn only_a_write_is_told_to_look_it_up_and_long_waits_read_as_such() {
        let timeout = |write| {
            Error::Transport(TransportError {
                kind: TransportErrorKind::Timeout,
                delivery: Delivery::Unknown,
                detail: "timed out reading".into(),
                attempts: 1,
                write,
            })
            .to_string()
        };
        let read = timeout(false);
        assert!(!read.contains("create") && !read.contains("look"), "{read}");
        assert!(timeout(true).contains("look it up before trying again"));
        let api = |status, write, after| {
            Error::Api(Box::new(ApiError {
                service: Service::FlowService,
                status,
                code: None,
                title: None,
                message: "m".into(),
                request_id: None,
                retry_after: after,
                attempts: 1,
                write,
            }))
            .to_string()
        };
        let read = api(503, false, None);
        assert!(!read.contains("create") && !read.contains("look"), "{read}");
        assert!(api(503, true, None).contains("look it up"));
        for (secs, shown) in [
            (30, "(Retry-After 30 s)"),
            (86_400, "(Retry-After 86400 s)"),
            (86_401, "(Retry-After more than a day)"),
            (3 * 86_400 + 5, "(Retry-After more than a day: 3 days)"),
            (u64::MAX, "(Retry-After more than a year)"),
        ] {
            let text = api(429, false, Some(Duration::from_secs(secs)));
            assert!(text.contains(shown), "{secs}: {text}");
            assert!(!text.contains("18446744073709551615"), "{text}");
        }
    }

    fn raw(status: u16, body: &[u8]) -> RawResponse {
        RawResponse::from_body(status, body.to_vec(), None)
    }

    #[test]
    fn each_cause_is_printed_once() {
        let e = Error::Transport(TransportError {
            kind: TransportErrorKind::Io,
            delivery: Delivery::NotSent,
            detail: "connection refused by 127.0.0.1:9".into(),
            attempts: 1,
            write: false,
        });
        // What an `anyhow`-style printer shows: the error and every source.
        let mut chain = vec![e.to_string()];
        let mut cause = StdError::source(&e);
        while let Some(c) = cause {
            chain.push(c.to_string());
            cause = c.source();
        }
        let all = chain.join(": ");
        assert_eq!(all.matches("connection refused").count(), 1, "{all}");
    }

    #[test]
    fn predicates_for_a_callers_retry_logic() {
        let transport = |kind, delivery| {
            Error::Transport(TransportError {
                kind,
                delivery,
                detail: String::new(),
                attempts: 1,
                write: true,
            })
        };
        let api = |status| {
            Error::Api(Box::new(ApiError {
                service: Service::FlowService,
                status,
                code: None,
                title: None,
                message: "m".into(),
                request_id: None,
                retry_after: Some(Duration::from_secs(3)),
                attempts: 1,
                write: true,
            }))
        };
        let lost = transport(TransportErrorKind::Timeout, Delivery::Unknown);
        assert!(lost.may_have_been_processed() && lost.is_retryable());
        let refused = transport(TransportErrorKind::Connect, Delivery::NotSent);
        assert!(!refused.may_have_been_processed() && refused.is_retryable());
        let cert = transport(TransportErrorKind::Tls, Delivery::NotSent);
        assert!(!cert.may_have_been_processed() && !cert.is_retryable());
        assert!(api(429).is_retryable() && !api(429).may_have_been_processed());
        assert_eq!(api(429).retry_after(), Some(Duration::from_secs(3)));
        assert!(api(502).is_retryable() && api(502).may_have_been_processed());
        // An IMS 5xx: the token request failed, the platform request was
        // never sent.
        let Error::Api(mut ims) = api(503) else {
            unreachable!()
        };
        ims.service = Service::Ims;
        let ims = Error::Api(ims);
        assert!(ims.is_retryable() && !ims.may_have_been_processed());
        assert!(!api(400).is_retryable() && !api(400).may_have_been_processed());
        let input = Error::invalid_input("name", "must not be empty");
        assert!(!input.is_retryable() && !input.may_have_been_processed());
        let unreadable_success = Error::unexpected(&raw(201, b"x"), "no id");
        assert!(unreadable_success.may_have_been_processed());
        assert!(!unreadable_success.is_retryable());
        let copy = lost.clone();
        assert_eq!(copy.to_string(), lost.to_string());
    }

    #[test]
    fn predicates_name_each_kind_and_nothing_else() {
        let not_found = Error::NotFound {
            resource: "flow",
            id: "f".into(),
            request_id: None,
        };
        let in_use = Error::InUse {
            resource: "connection",
            id: "c".into(),
            message: "used".into(),
            request_id: None,
        };
        let too_large = Error::TooLarge {
            service: Service::FlowService,
            status: 200,
            limit: 10,
            setting: EXPLORE_CAP_SETTING,
            write: false,
            request_id: Some("r".into()),
        };
        let mut changed = parse_api_error(&raw(412, b"{}"), &Scrubber::new());
        changed.write = true;
        let changed = Error::Api(Box::new(changed));
        let all = [&not_found, &in_use, &too_large, &changed];
        let kinds: Vec<[bool; 4]> = all
            .iter()
            .map(|e| {
                [
                    e.is_not_found(),
                    e.is_in_use(),
                    e.is_too_large(),
                    e.is_precondition_failed(),
                ]
            })
            .collect();
        for (i, k) in kinds.iter().enumerate() {
            let mut want = [false; 4];
            want[i] = true;
            assert_eq!(*k, want, "{}", all[i]);
        }
        assert!(!Error::unexpected(&raw(404, b""), "x").is_not_found());
        // A too-large answer: its status and request id, what to raise,
        // and a 2xx to a read changed nothing.
        assert_eq!(too_large.status(), Some(200));
        assert_eq!(too_large.request_id(), Some("r"));
        assert!(too_large.may_have_been_processed() && !too_large.is_retryable());
        let text = too_large.to_string();
        assert!(text.contains("10-byte limit"), "{text}");
        assert!(text.contains("with_max_explore_bytes"), "{text}");
        assert!(!text.contains("the change was made"), "{text}");
        let created = Error::TooLarge {
            service: Service::FlowService,
            status: 201,
            limit: 10,
            setting: RESPONSE_CAP_SETTING,
            write: true,
            request_id: None,
        };
        assert!(created.to_string().contains("the change was made"));
    }

    #[test]
    fn numeric_gateway_codes_and_odd_shapes_are_tolerated() {
        let s = Scrubber::new();
        let e = parse_api_error(
            &raw(
                401,
                br#"{"error_code": 401013, "message": "Oauth token is not valid"}"#,
            ),
            &s,
        );
        assert_eq!(e.code.as_deref(), Some("401013"));
        for body in [
            &b"[1,2]"[..],
            b"\"str\"",
            b"{\"report\": 5, \"type\": 7}",
            b"null",
        ] {
            let e = parse_api_error(&raw(500, body), &s);
            assert_eq!(e.status, 500);
            assert!(!e.message.is_empty());
        }
    }

    /// Any JSON value, nested a few levels, with the envelope's own keys
    /// likely to appear.
    fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("type".to_owned()),
            Just("title".to_owned()),
            Just("status".to_owned()),
            Just("report".to_owned()),
            Just("request-id".to_owned()),
            Just("detailed-message".to_owned()),
            Just("error_code".to_owned()),
            Just("message".to_owned()),
            Just("detail".to_owned()),
            Just("error".to_owned()),
            Just("id".to_owned()),
            Just("etag".to_owned()),
            ".{0,8}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_json_error_body_parses_without_panic_or_leak(
            value in arbitrary_json(),
            status in 100u16..600,
            tail in "[a-z0-9\"\\;{}\n]{1,10}",
            placement in 0u8..5,
        ) {
            // "Zq" never occurs in the library's own wording, so any hit is
            // a leak of service text.
            let secret = format!("Zq{tail}");
            let echoed = match placement {
                0 => value,
                1 => serde_json::json!({"error_code": secret, "message": format!("bad {secret}"), "x": value}),
                2 => serde_json::json!({"type": format!("x/{secret}"), "title": secret,
                    "report": {"detailed-message": secret, "request-id": secret}, "y": value}),
                3 => serde_json::json!([value, {"detail": format!("{secret}{secret}")}]),
                // Split by a control character that flattening removes.
                _ => serde_json::json!({"message": format!("Z\u{0}{}", &secret[1..]), "v": value}),
            };
            let body = serde_json::to_vec(&echoed).unwrap();
            let mut scrubber = Scrubber::new();
            scrubber.add(&secret);
            let e = parse_api_error(&raw(status, &body), &scrubber);
            let shown = format!("{} {e:?}", Error::Api(Box::new(e.clone())));
            proptest::prop_assert!(!shown.contains(secret.as_str()), "{}", shown);
            proptest::prop_assert!(!Error::Api(Box::new(e)).to_string().contains('\n'));
        }

        #[test]
        fn any_bytes_parse_without_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256), status in 100u16..600) {
            let _ = parse_api_error(&raw(status, &body), &Scrubber::new());
        }
    }

    #[test]
    fn a_secret_is_caught_before_and_after_flattening() {
        let mut scrubber = Scrubber::new();
        scrubber.add("pass word");
        scrubber.add("abc\u{e9}");
        let body =
            "{\"message\": \"one pass word, two pass\\tword, three a\\u0000bc\\u001b\u{e9}\"}";
        let e = parse_api_error(&raw(400, body.as_bytes()), &scrubber);
        assert_eq!(
            e.message,
            "one [REDACTED], two [REDACTED], three [REDACTED]"
        );
        let e = parse_api_error(&raw(502, b"proxy said a\x00bc\x03\xc3\xa9"), &scrubber);
        assert!(!e.message.contains("abc"), "{}", e.message);
    }
}
