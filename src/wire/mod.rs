//! Layer 1: text and wire helpers with no knowledge of Flow Service's
//! resources or of the crate's error type.
//!
//! - [`buffer`]: exact-size zeroizing buffers (a body or a header value that
//!   holds a secret is measured first and allocated once, so it never
//!   reallocates and leaves an un-wiped copy behind);
//! - [`encode`]: percent- and form-encoding, JSON string escaping;
//! - [`text`]: service text made safe to show on one line;
//! - [`scrub`]: removal of the call's secrets from any text shown;
//! - [`response`]: an HTTP answer as the library keeps it;
//! - [`http_date`]: `Retry-After` (seconds or an RFC 9110 HTTP date);
//! - [`read`]: the reading policy, one rule per kind of answered field
//!   (times, counts, integers, text), lenient where the service varies;
//! - [`body`]: the pieces request bodies share (`{id, version}` and
//!   `{id, contentType}` references, JSON Patch operations, serialization).

pub(crate) mod body;
pub(crate) mod buffer;
pub(crate) mod encode;
pub(crate) mod http_date;
pub(crate) mod read;
pub(crate) mod response;
pub(crate) mod scrub;
pub(crate) mod text;
