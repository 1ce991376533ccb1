//! The rules every input meets before anything is sent, and the checks on
//! ids and etags that come back from the service.

use crate::error::Error;
use crate::ids::{from_service_ok, plain_ok, MAX_SERVICE_ID_LEN};
use crate::wire::response::{success_note, RawResponse};

/// Longest name accepted (characters). Adobe's UI takes far less than a
/// megabyte; 256 leaves room for generated names.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest description accepted (characters).
pub const MAX_DESCRIPTION_CHARS: usize = 4096;
/// Longest other text field accepted (host, database, user, table path).
pub(crate) const MAX_TEXT_CHARS: usize = 1024;

/// A required text field: not empty, no control characters, at most
/// [`MAX_TEXT_CHARS`].
pub(crate) fn require_text(field: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    check_text(field, value, MAX_TEXT_CHARS, false)
}

/// A name: not blank, one line, at most [`MAX_NAME_CHARS`].
pub(crate) fn check_name(field: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    check_text(field, value, MAX_NAME_CHARS, false)
}

/// A description: may hold new lines and tabs, at most
/// [`MAX_DESCRIPTION_CHARS`].
pub(crate) fn check_description(field: &str, value: &str) -> Result<(), Error> {
    check_text(field, value, MAX_DESCRIPTION_CHARS, true)
}

/// At most `max` characters, then no control characters (new lines and
/// tabs allowed when `allow_newlines`).
fn check_text(field: &str, value: &str, max: usize, allow_newlines: bool) -> Result<(), Error> {
    // Counting stops early: a megabyte name costs no more than a short one.
    if value.chars().nth(max).is_some() {
        return Err(Error::invalid_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    check_no_control(field, value, allow_newlines)
}

pub(crate) fn check_no_control(
    field: &str,
    value: &str,
    allow_newlines: bool,
) -> Result<(), Error> {
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\t')));
    if bad {
        Err(Error::invalid_input(
            field,
            "must not contain control characters",
        ))
    } else {
        Ok(())
    }
}

/// Header values must be visible ASCII: no spaces, no control characters,
/// nothing a proxy could read as a second header.
pub(crate) fn check_header_value(field: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid_input(
            field,
            "must be visible ASCII only (no spaces, control characters or non-ASCII bytes)",
        ));
    }
    Ok(())
}

/// Ids go into URL paths: 1 to 128 letters, digits, `-` and `_`.
pub(crate) fn check_id(field: &str, id: &str) -> Result<(), Error> {
    if id.is_empty() || id.len() > 128 {
        return Err(Error::invalid_input(field, "must be 1 to 128 characters"));
    }
    // The length is in range: what fails the id rule is a character.
    if !plain_ok(id) {
        return Err(Error::invalid_input(
            field,
            "may contain only letters, digits, `-` and `_`",
        ));
    }
    Ok(())
}

/// An id or etag the service sent: visible ASCII of a sane length, so that
/// it is safe to print and to send back in a path or `If-Match`.
pub(crate) fn check_from_service(resp: &RawResponse, what: &str, value: &str) -> Result<(), Error> {
    if !from_service_ok(value) {
        return Err(Error::unexpected(
            resp,
            format!(
                "the service sent {what} that is not 1 to {MAX_SERVICE_ID_LEN} visible ASCII \
                 characters ({} bytes); refusing to use it{}",
                value.len(),
                // After a write that succeeded, what was made exists.
                success_note(resp)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_rule(e: Error) -> (String, String) {
        match e {
            Error::InvalidInput { field, rule } => (field, rule),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn names_have_a_length_limit_counted_in_characters() {
        assert!(check_name("name", &"é".repeat(MAX_NAME_CHARS)).is_ok());
        let (field, rule) =
            field_rule(check_name("name", &"a".repeat(MAX_NAME_CHARS + 1)).unwrap_err());
        assert_eq!(field, "name");
        assert!(rule.contains("256"), "{rule}");
        assert!(check_name("name", &"x".repeat(1 << 20)).is_err());
        assert!(check_name("name", "  ").is_err());
        assert!(check_name("name", "a\u{1b}[2J").is_err());
        assert!(check_description("d", "two\nlines\tok").is_ok());
        assert!(check_description("d", &"d".repeat(MAX_DESCRIPTION_CHARS + 1)).is_err());
    }

    #[test]
    fn service_ids_must_be_printable_ascii() {
        let resp = RawResponse::from_body(201, Vec::new(), None);
        assert!(check_from_service(&resp, "an id", "abc-123").is_ok());
        assert!(check_from_service(&resp, "an etag", "\"0a00-1\"").is_ok());
        for bad in ["", "a\r\nb", "\u{1b}[31mred", "caf\u{e9}", "a b"] {
            let e = check_from_service(&resp, "an id", bad).unwrap_err();
            assert!(matches!(e, Error::UnexpectedResponse { .. }), "{bad:?}");
            assert!(!e.to_string().contains('\u{1b}'));
        }
        assert!(check_from_service(&resp, "an id", &"a".repeat(257)).is_err());
    }

    #[test]
    fn ids_for_paths() {
        assert!(check_id("connection_id", "abc-DEF_1").is_ok());
        for bad in ["", "a/b", "a b", "..", "%2e", &"a".repeat(129)] {
            assert!(check_id("connection_id", bad).is_err(), "{bad:?}");
        }
    }
}
