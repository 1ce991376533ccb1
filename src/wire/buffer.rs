//! Exact-size zeroizing buffers.
//!
//! Growing a `String` or `Vec` that holds a secret copies it to a new
//! allocation and frees the old one un-wiped. Every buffer here is measured
//! first and allocated once at its final size.

use std::io::{self, Write};

use serde::Serialize;
use zeroize::Zeroizing;

/// Serializes `value` as JSON into a zeroizing buffer allocated once at the
/// exact size (measured by a first pass that writes nothing).
pub(crate) fn serialize_exact<T: Serialize + ?Sized>(
    value: &T,
) -> Result<Zeroizing<Vec<u8>>, serde_json::Error> {
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, value)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(counter.0));
    serde_json::to_writer(&mut *buf, value)?;
    debug_assert_eq!(buf.capacity(), counter.0, "the buffer must not reallocate");
    Ok(buf)
}

/// The parts joined, in a zeroizing string of exactly their total length.
pub(crate) fn concat_exact(parts: &[&str]) -> Zeroizing<String> {
    let len = parts.iter().map(|p| p.len()).sum();
    exact_string(len, |out| parts.iter().for_each(|p| out.push_str(p)))
}

/// A zeroizing string of capacity `len`, filled by `fill`, which must write
/// exactly `len` bytes (checked in debug builds).
pub(crate) fn exact_string(len: usize, fill: impl FnOnce(&mut String)) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(len));
    fill(&mut out);
    debug_assert_eq!(out.len(), len, "the measured length must be exact");
    debug_assert_eq!(out.capacity(), len, "the buffer must not reallocate");
    out
}

/// A zeroizing byte buffer of capacity `len`, filled by `fill`.
pub(crate) fn exact_bytes(len: usize, fill: impl FnOnce(&mut Vec<u8>)) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    fill(&mut out);
    debug_assert_eq!(out.len(), len, "the measured length must be exact");
    debug_assert_eq!(out.capacity(), len, "the buffer must not reallocate");
    out
}

struct ByteCounter(usize);

impl Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_exactly_sized() {
        let body = serialize_exact(&serde_json::json!({"password": "p\"w"})).unwrap();
        assert_eq!(body.capacity(), body.len());
        assert_eq!(&body[..], br#"{"password":"p\"w"}"#);
        let joined = concat_exact(&["Bearer ", "tok"]);
        assert_eq!(joined.as_str(), "Bearer tok");
        assert_eq!(joined.capacity(), joined.len());
        let s = exact_string(3, |o| o.push_str("abc"));
        assert_eq!((s.as_str(), s.capacity()), ("abc", 3));
        let b = exact_bytes(2, |o| o.extend_from_slice(b"xy"));
        assert_eq!((&b[..], b.capacity()), (&b"xy"[..], 2));
    }
}
