//! Reading values where Adobe's sources disagree on the JSON type: a
//! number or a numeric string, a boolean or `"true"`/`"false"`.

use serde_json::Value;

/// An integer sent as a number or as a numeric string.
pub(crate) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean sent as one or as `"true"`/`"false"` (any case).
pub(crate) fn bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_numeric_strings() {
        assert_eq!(int(&json!(7)), Some(7));
        assert_eq!(int(&json!(" -3 ")), Some(-3));
        for v in [
            json!(1.5),
            json!("x"),
            json!(null),
            json!([1]),
            json!(u64::MAX),
        ] {
            assert_eq!(int(&v), None, "{v}");
        }
        assert_eq!(bool(&json!(true)), Some(true));
        assert_eq!(bool(&json!(" FALSE")), Some(false));
        assert_eq!(bool(&json!("yes")), None);
        assert_eq!(bool(&json!(1)), None);
    }
}
