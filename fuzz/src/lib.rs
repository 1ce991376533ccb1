//! Helpers shared by the fuzz targets: turning fuzz bytes into a status and
//! a secret.

/// Statuses the library treats specially, picked by an even selector; an odd
/// selector gives any u16 (0, 1xx, 2xx, 999, 65535...).
const STATUSES: [u16; 16] = [
    200, 201, 202, 204, 400, 401, 403, 404, 409, 412, 415, 429, 500, 502, 503, 504,
];

pub fn status_from(a: u8, b: u8) -> u16 {
    let raw = u16::from_le_bytes([a, b]);
    if raw & 1 == 0 {
        STATUSES[usize::from(raw / 2) % STATUSES.len()]
    } else {
        raw / 2
    }
}

/// Characters a fuzzed secret is made of: letters, digits, JSON-significant
/// and other punctuation, and non-ASCII. Left out on purpose, so that a hit
/// is a real scrubbing miss and not the library's own text: white space,
/// control characters, `[ ] ( ) : ;` (the separators `Display` puts around
/// the service's fields, and the brackets of `[REDACTED]`) and `…` (which
/// `one_line` appends when it truncates).
const SECRET_CHARS: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's',
    't', 'u', 'v', 'w', 'x', 'y', 'z', 'A', 'E', 'R', 'D', 'T', 'C', 'F', 'S', 'H', 'P', 'X', '0',
    '1', '2', '4', '9', '"', '\\', '/', '<', '>', '&', '\'', '-', '_', '.', '=', ',', '{', '}',
    '!', '?', '#', '%', '*', '+', '@', '$', '~', '|', '`', '^', 'é', 'ß', '€', '😀', 'Ω',
    '\u{fffd}',
];

/// Non-ASCII, so never in the library's own (ASCII) text: every secret holds
/// at least one.
fn is_canary(c: char) -> bool {
    !c.is_ascii()
}

/// Splits the input into a secret of 1 to 12 characters (from
/// [`SECRET_CHARS`], always holding a non-ASCII "canary" character so that
/// the library's own ASCII text can never spell it) and the rest.
pub fn secret_from(data: &[u8]) -> Option<(String, &[u8])> {
    let (&len, rest) = data.split_first()?;
    let len = 1 + usize::from(len % 12);
    if rest.len() < len {
        return None;
    }
    let (chars, rest) = rest.split_at(len);
    let mut secret: String = chars
        .iter()
        .map(|&b| SECRET_CHARS[usize::from(b) % SECRET_CHARS.len()])
        .collect();
    if !secret.chars().any(is_canary) {
        secret.push('é');
    }
    Some((secret, rest))
}
