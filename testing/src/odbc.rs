//! ODBC connection strings, read the way the service reads them: written
//! here from the ODBC rules, not taken from any client, so that a client's
//! quoting mistake shows up as a refusal.
//!
//! A connection string is `key=value` pairs separated by `;` (a trailing
//! `;` is allowed). A value that holds `;` or starts with `{` is wrapped
//! in braces: `{...}`, inside which `}` is written `}}` and everything
//! else (`;`, `=`, `{`) stands for itself. Nothing may follow the closing
//! brace but `;` or the end.

/// The `(key, value)` pairs of `s`, braces undone, in order; `None` when
/// `s` is malformed: a pair without `=`, an empty key, an unterminated
/// brace, or text after a closing brace.
pub(crate) fn parse_connection_string(s: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut chars = s.chars().peekable();
    while chars.peek().is_some() {
        let mut key = String::new();
        loop {
            match chars.next()? {
                '=' => break,
                ';' => return None,
                c => key.push(c),
            }
        }
        if key.is_empty() {
            return None;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'{') {
            chars.next();
            loop {
                match chars.next()? {
                    '}' if chars.peek() == Some(&'}') => {
                        chars.next();
                        value.push('}');
                    }
                    '}' => break,
                    c => value.push(c),
                }
            }
            match chars.next() {
                None | Some(';') => {}
                Some(_) => return None,
            }
        } else {
            for c in chars.by_ref() {
                if c == ';' {
                    break;
                }
                value.push(c);
            }
        }
        pairs.push((key, value));
    }
    Some(pairs)
}

#[cfg(test)]
mod tests {
    use super::parse_connection_string as parse;

    fn pairs(s: &str) -> Vec<(String, String)> {
        parse(s).unwrap_or_else(|| panic!("refused: {s}"))
    }

    fn owned(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn plain_pairs() {
        assert_eq!(
            pairs("Server=db;Database=orders;Port=5432;UID=etl;Password=pw"),
            owned(&[
                ("Server", "db"),
                ("Database", "orders"),
                ("Port", "5432"),
                ("UID", "etl"),
                ("Password", "pw"),
            ])
        );
        assert_eq!(pairs("A=1;"), owned(&[("A", "1")]));
        assert_eq!(pairs("A=;B=2"), owned(&[("A", ""), ("B", "2")]));
        assert_eq!(pairs(""), owned(&[]));
    }

    #[test]
    fn braces_carry_separators_and_doubled_closing_braces() {
        assert_eq!(pairs("Password={a;b}"), owned(&[("Password", "a;b")]));
        assert_eq!(pairs("Password={a=b}"), owned(&[("Password", "a=b")]));
        assert_eq!(pairs("Password={{x}"), owned(&[("Password", "{x")]));
        assert_eq!(pairs("Password={x}}}"), owned(&[("Password", "x}")]));
        assert_eq!(
            pairs("Password={}}{;=}}};UID=u"),
            owned(&[("Password", "}{;=}"), ("UID", "u")])
        );
        assert_eq!(pairs("P={ spaced }"), owned(&[("P", " spaced ")]));
        assert_eq!(pairs("P={}"), owned(&[("P", "")]));
        // An `=` in an unbraced value is the value's (only `;` ends it).
        assert_eq!(pairs("P=a=b;Q=c"), owned(&[("P", "a=b"), ("Q", "c")]));
    }

    #[test]
    fn malformed_strings_are_refused() {
        for s in [
            "novalue",
            "=v",
            "A;B=1",
            "Password={abc",
            "Password={a}b",
            "Password={a}}",
            "Password={a}};",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
    }
}
