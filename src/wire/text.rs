//! Service text made safe to show.

/// Service text made safe for a one-line message: white space runs become
/// one space, control characters (ANSI escapes included) are dropped, and
/// the length is capped at `max_chars` (an ellipsis marks the cut).
pub(crate) fn one_line(text: &str, max_chars: usize) -> String {
    // Sized once: the text may hold an echoed secret, and a reallocation
    // would leave an un-wiped copy behind.
    let mut out = String::with_capacity(text.len() + '…'.len_utf8());
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            out.push(' ');
            count += 1;
        }
        for c in word.chars().filter(|c| !c.is_control()) {
            if count >= max_chars {
                out.push('…');
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

/// The reason phrase for the statuses the library meets.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        412 => "Precondition Failed",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_flattens_drops_controls_and_caps() {
        assert_eq!(one_line("a \n\t b\u{1b}[31mc", 100), "a b[31mc");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("", 3), "");
    }
}
