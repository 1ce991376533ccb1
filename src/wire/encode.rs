//! Percent-encoding (RFC 3986 query components), form encoding (WHATWG
//! `application/x-www-form-urlencoded`) and JSON string escaping.

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// How a byte is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// RFC 3986: unreserved bytes (`A-Z a-z 0-9 - . _ ~`) as they are,
    /// everything else `%XX`.
    Query,
    /// WHATWG forms: `A-Z a-z 0-9 * - . _` as they are, space as `+`,
    /// everything else `%XX`.
    Form,
}

impl Style {
    fn width(self, b: u8) -> usize {
        match (self, b) {
            (_, b) if b.is_ascii_alphanumeric() => 1,
            (Style::Query, b'-' | b'.' | b'_' | b'~') => 1,
            (Style::Form, b'*' | b'-' | b'.' | b'_' | b' ') => 1,
            _ => 3,
        }
    }
}

/// Length of `value` once encoded.
pub(crate) fn encoded_len(value: &str, style: Style) -> usize {
    value.bytes().map(|b| style.width(b)).sum()
}

/// Appends `value`, encoded, to `out`.
pub(crate) fn encode_into(out: &mut Vec<u8>, value: &str, style: Style) {
    for b in value.bytes() {
        if style.width(b) == 1 {
            out.push(if b == b' ' { b'+' } else { b });
        } else {
            out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        }
    }
}

/// Appends `value`, encoded, to a `String` (encoding yields ASCII only).
pub(crate) fn encode_into_string(out: &mut String, value: &str, style: Style) {
    let mut bytes = Vec::with_capacity(encoded_len(value, style));
    encode_into(&mut bytes, value, style);
    out.push_str(std::str::from_utf8(&bytes).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_form_styles() {
        let mut q = String::new();
        encode_into_string(&mut q, "a b,c==d~é", Style::Query);
        assert_eq!(q, "a%20b%2Cc%3D%3Dd~%C3%A9");
        let mut f = Vec::new();
        encode_into(&mut f, "a b*~", Style::Form);
        assert_eq!(f, b"a+b*%7E");
        assert_eq!(encoded_len("a b*~", Style::Form), f.len());
    }
}
