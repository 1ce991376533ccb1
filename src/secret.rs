//! The zeroizing secret string. The bottom layer: it imports nothing from
//! the crate.

use std::fmt;

use zeroize::Zeroizing;

/// Marker printed wherever a secret would otherwise appear
/// ([`Secret::REDACTED`] for users).
pub(crate) const REDACTED: &str = "[REDACTED]";

/// A string that is wiped from memory when dropped and never printed.
///
/// Access tokens, database passwords, connection strings and client secrets
/// live in this type. The only way to read the value is
/// [`expose_secret`](Secret::expose_secret), so every use of the plain text is
/// easy to find in a review.
///
/// # Security warning
///
/// - `Debug` prints `Secret([REDACTED])`. There is no `Display`, `Clone` or
///   `Serialize`, so a secret cannot be formatted, duplicated or serialized by
///   accident.
/// - [`From<String>`](#impl-From<String>-for-Secret) takes the `String`'s
///   buffer as it is (no shrink, no reallocation), so no un-wiped copy is left
///   behind by the conversion. When dropped, the whole buffer (its full
///   capacity) is overwritten with zeros.
/// - Copies made *before* the value reached this type (an environment
///   variable, a `String` that was grown by pushing characters, a config
///   file's buffer) are outside its reach.
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// What is printed wherever a secret would otherwise appear: the
    /// `Debug` of a `Secret` and of every type holding one, and the
    /// library's error messages after scrubbing the call's secrets.
    ///
    /// ```
    /// use aep_flow::Secret;
    /// let shown = format!("{:?}", Secret::from("s3cret"));
    /// assert_eq!(shown, format!("Secret({})", Secret::REDACTED));
    /// ```
    pub const REDACTED: &'static str = REDACTED;

    /// Wraps a `String` without copying it.
    pub fn new(value: String) -> Self {
        Secret(Zeroizing::new(value))
    }

    /// Reads a secret from UTF-8 bytes without copying them; the buffer is
    /// wiped if it is not valid UTF-8.
    pub fn from_utf8(bytes: Vec<u8>) -> Result<Self, InvalidUtf8> {
        match String::from_utf8(bytes) {
            Ok(s) => Ok(Secret::new(s)),
            Err(e) => {
                // Wipe the rejected buffer before it is freed.
                drop(Zeroizing::new(e.into_bytes()));
                Err(InvalidUtf8)
            }
        }
    }

    /// The plain value. Every call site is a place where the secret leaves
    /// its protection: keep it short-lived and never log it.
    pub fn expose_secret(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn from_zeroizing(value: Zeroizing<String>) -> Self {
        Secret(value)
    }
}

/// The bytes given to [`Secret::from_utf8`] were not UTF-8. Says nothing
/// about them: they were a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

impl fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the secret is not valid UTF-8")
    }
}

impl std::error::Error for InvalidUtf8 {}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    /// Copies the text into a buffer of exactly its length. The caller's
    /// `&str` is not wiped: prefer `From<String>` for values you own.
    fn from(value: &str) -> Self {
        // `to_owned` allocates exactly `value.len()` bytes and copies once.
        Secret::new(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::from("canary-7f3a9c");
        let printed = format!("{s:?} {s:#?}");
        assert!(!printed.contains("canary"), "{printed}");
        assert!(printed.contains(REDACTED));
    }

    #[test]
    fn from_string_keeps_the_same_buffer() {
        let mut value = String::with_capacity(64);
        value.push_str("hunter2");
        let ptr = value.as_ptr();
        let secret = Secret::from(value);
        // Same allocation: no shrink-and-copy that would leave the old
        // buffer un-wiped on the heap.
        assert_eq!(secret.expose_secret().as_ptr(), ptr);
        assert_eq!(secret.0.capacity(), 64);
        assert_eq!(secret.expose_secret(), "hunter2");
    }

    #[test]
    fn from_utf8_rejects_invalid_bytes_without_echoing_them() {
        let err = Secret::from_utf8(vec![b'p', 0xff, b'w']).unwrap_err();
        assert!(err.to_string().contains("UTF-8"));
        assert_eq!(
            Secret::from_utf8(b"pw".to_vec()).unwrap().expose_secret(),
            "pw"
        );
    }
}
