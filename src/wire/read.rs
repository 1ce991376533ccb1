//! How the service's answers are read: one rule per kind of field, the
//! same in every resource.
//!
//! Each rule has two entry points: a function on a parsed
//! [`Value`](serde_json::Value) (for members read out of a free-form
//! object, such as `scheduleParams` or a transformation's `params`) and,
//! in [`de`], a `deserialize_with` adapter of the same name for typed wire
//! structs (`#[serde(default, deserialize_with = "read::de::millis")]`).
//!
//! **Lenient** where Adobe's sources are known to disagree on the JSON
//! type (the wire notes, the tutorials and the answers seen); a value
//! that does not fit is `None`, never an error and never a guess:
//! - [`millis`], times in epoch milliseconds (`createdAt`, `updatedAt`,
//!   `createdDate`, `startedAtUTC`, ...): runs send milliseconds, seconds
//!   or ISO 8601 text, numbers as strings. A time is only shown and
//!   compared, never sent back, so reading every form costs nothing; one
//!   that cannot be placed is `None` (and a monitor refuses such a run).
//! - [`count`], record and byte counts: numbers or numeric strings, never
//!   negative.
//! - [`int`] and [`bool`], configuration values the tutorials send as
//!   strings (`"interval": "15"`, `"backfill": "true"`, `"startTime"` in
//!   epoch seconds, a mapping set's `"version": "3"`); the caller then
//!   applies the field's own rule (at least 0, at least 15, ...).
//! - [`text`], text in a run's report (`flowId`, `status`, `etag`) and in a
//!   flow's `lastRunDetails`: a string, else `None`. A number is *not*
//!   made into text here: a run whose `flowId` is `7` is unattributed,
//!   not the run of flow `"7"`.
//! - [`text_or_number`], a run's error codes and messages and a flow
//!   spec's `version`: text, or a number kept as written
//!   (`CONNECTOR-2001-500` or `2001`, `"1.0"` or `1.0`).
//! - [`de::section`] and [`de::sections`], parts of a report that may be
//!   missing or of another shape (`metrics`, `lastRunDetails`): an object
//!   of the expected shape, else `None` (or left out of the list).
//!
//! **Strict** everywhere else, through serde's own types: ids, etags,
//! names, descriptions, states, spec and schema ids, mappings. These
//! identify things or are sent back (`If-Match`, a patch, a create's
//! duplicate check), so an answer with a value of the wrong type is
//! refused whole rather than read as absent or as something plausible.

use serde_json::Value;

use super::http_date::parse_iso8601_millis;

/// Below this a number cannot be epoch milliseconds of anything Flow
/// Service made (it would be before 1973-03-03, decades before the
/// service), and from [`SECONDS_FROM`] up it is epoch seconds of 1973 to
/// 5138: read as seconds.
const MILLIS_FROM: i64 = 100_000_000_000;
/// Numbers below this are kept as milliseconds (either reading is 1970:
/// small values that tests and fakes use).
const SECONDS_FROM: i64 = 100_000_000;
/// 10000-01-01T00:00:00Z in epoch milliseconds: a time from then on is no
/// real time (microseconds, a sentinel, `i64::MAX`) and is read as not
/// set, or it would be "the newest run" forever.
const MILLIS_BEFORE: i64 = 253_402_300_800_000;

/// A time in epoch milliseconds: a positive whole number (milliseconds,
/// or seconds where that is the only plausible reading: see
/// [`MILLIS_FROM`]), a string holding one, or ISO 8601 text with a zone
/// (`2026-11-27T13:51:25Z`). Zero and negative values (`0` stands for
/// "not yet" in Adobe's examples), times from the year 10000 on, text
/// without a zone and anything else are `None`.
pub(crate) fn millis(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < i64::MAX as f64)
                .map(|f| f as i64)
        }),
        Value::String(s) => match s.trim().parse() {
            Ok(n) => Some(n),
            Err(_) => return parse_iso8601_millis(s).filter(|ms| (1..MILLIS_BEFORE).contains(ms)),
        },
        _ => None,
    }?;
    match n {
        n if n <= 0 => None,
        n if (SECONDS_FROM..MILLIS_FROM).contains(&n) => Some(n * 1000),
        n if n >= MILLIS_BEFORE => None,
        n => Some(n),
    }
}

/// A count: a non-negative whole number (`6.0` included), or a string
/// holding one.
pub(crate) fn count(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An integer sent as a number or as a numeric string (`1.5` and numbers
/// beyond `i64` are `None`).
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

/// Text: a string, else `None`.
pub(crate) fn text(v: &Value) -> Option<&str> {
    v.as_str()
}

/// A code, a message or a version: text, or a number written as its
/// digits (`2001`, `1.0`).
pub(crate) fn text_or_number(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The same rules as `deserialize_with` adapters, for `Option` fields
/// marked `#[serde(default)]` (a missing member is `None` too). None of
/// them fails on a value of another type: only JSON that is not JSON
/// fails the answer.
pub(crate) mod de {
    use serde::de::{DeserializeOwned, Deserializer};
    use serde::Deserialize;
    use serde_json::Value;

    use crate::wire::response::wipe;

    /// Reads any JSON value, applies `rule`, and wipes what it read (a
    /// member of an unexpected shape may hold anything).
    fn with<'de, D: Deserializer<'de>, T>(
        d: D,
        rule: impl FnOnce(&Value) -> Option<T>,
    ) -> Result<Option<T>, D::Error> {
        let mut v = Value::deserialize(d)?;
        let out = rule(&v);
        wipe(&mut v);
        Ok(out)
    }

    /// One adapter per rule of the same name in [`super`].
    macro_rules! adapters {
        ($($rule:ident -> $out:ty),*) => {$(
            pub(crate) fn $rule<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$out>, D::Error> {
                with(d, super::$rule)
            }
        )*};
    }
    adapters!(millis -> i64, count -> u64, int -> i64, text_or_number -> String);

    /// [`super::text`]: the string itself, not a copy.
    pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Some(s)),
            mut other => {
                wipe(&mut other);
                Ok(None)
            }
        }
    }

    /// An object read as `T`; `None` when it is not an object or does not
    /// have `T`'s shape. (Give `T` lenient fields, and a half-garbled
    /// section keeps what can be read.)
    pub(crate) fn section<'de, D: Deserializer<'de>, T: DeserializeOwned>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        with(d, read_section)
    }

    /// A list of objects, each read as `T`; entries that are not objects
    /// of `T`'s shape are left out, and anything but a list is empty.
    pub(crate) fn sections<'de, D: Deserializer<'de>, T: DeserializeOwned>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        Ok(with(d, |v| {
            Some(v.as_array()?.iter().filter_map(read_section).collect())
        })?
        .unwrap_or_default())
    }

    fn read_section<T: DeserializeOwned>(v: &Value) -> Option<T> {
        v.is_object().then(|| T::deserialize(v).ok()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    /// Forms no rule accepts: wrong types, NaN-like and empty text, text
    /// with non-ASCII digits.
    fn garbled() -> Vec<Value> {
        vec![
            json!(null),
            json!(true),
            json!([1]),
            json!({"ms": 1}),
            json!(""),
            json!("   "),
            json!("NaN"),
            json!("nan"),
            json!("inf"),
            json!("-Infinity"),
            json!("1e3"),
            json!("0x10"),
            json!("١٢٣"),      // Arabic-Indic digits
            json!("１２３"),   // full-width digits
            json!("12\u{0}3"), // NUL inside
            json!("yesterday"),
        ]
    }

    #[test]
    fn millis_reads_milliseconds_seconds_and_iso_text() {
        for (v, want) in [
            (json!(1_700_000_000_000_i64), 1_700_000_000_000),
            (json!(" 1700000000001 "), 1_700_000_000_001),
            (json!(1_700_000_000_000.0), 1_700_000_000_000),
            // Seconds, where only that reading is plausible.
            (json!(1_700_000_000), 1_700_000_000_000),
            (json!("1700000000"), 1_700_000_000_000),
            // Small values stay milliseconds (1970 either way).
            (json!(11), 11),
            (json!("12"), 12),
            (json!(12.0), 12),
            (json!("2026-11-27T13:51:25Z"), 1_795_787_485_000),
            (json!("2026-11-27T13:51:25.5Z"), 1_795_787_485_500),
            (json!("2026-11-27 14:51:25+01:00"), 1_795_787_485_000),
        ] {
            assert_eq!(millis(&v), Some(want), "{v}");
        }
    }

    #[test]
    fn millis_refuses_what_cannot_be_placed_in_time() {
        let mut refused = garbled();
        refused.extend([
            json!(0),
            json!(-5),
            json!("-5"),
            json!(1.5),
            json!(i64::MAX),
            json!(u64::MAX),
            json!(1e300),
            json!(-1e300),
            json!(MILLIS_BEFORE),
            json!("99999999999999999999999"),
            // No zone, no instant; an impossible date; a date before 1970.
            json!("2026-11-27T13:51:25"),
            json!("2026-13-27T13:51:25Z"),
            json!("1969-12-31T23:59:59Z"),
            json!("10000-01-01T00:00:00Z"),
            json!("２０２６-11-27T13:51:25Z"),
        ]);
        for v in refused {
            assert_eq!(millis(&v), None, "{v}");
        }
    }

    #[test]
    fn counts_are_whole_and_never_negative() {
        for (v, want) in [
            (json!(0), 0),
            (json!(7), 7),
            (json!(6.0), 6),
            (json!(" 7 "), 7),
            (json!(u64::MAX), u64::MAX),
            (json!("18446744073709551615"), u64::MAX),
        ] {
            assert_eq!(count(&v), Some(want), "{v}");
        }
        let mut refused = garbled();
        refused.extend([
            json!(-1),
            json!("-2"),
            json!(1.5),
            json!(1e300),
            json!(-0.5),
            json!("18446744073709551616"),
        ]);
        for v in refused {
            assert_eq!(count(&v), None, "{v}");
        }
    }

    #[test]
    fn integers_and_booleans_as_numbers_or_words() {
        assert_eq!(int(&json!(7)), Some(7));
        assert_eq!(int(&json!(" -3 ")), Some(-3));
        assert_eq!(int(&json!(i64::MIN)), Some(i64::MIN));
        let mut refused = garbled();
        refused.extend([json!(1.5), json!(u64::MAX), json!("9223372036854775808")]);
        for v in refused {
            assert_eq!(int(&v), None, "{v}");
        }
        assert_eq!(bool(&json!(true)), Some(true));
        assert_eq!(bool(&json!(" FALSE")), Some(false));
        for v in [
            json!("yes"),
            json!(1),
            json!(""),
            json!("ｔｒｕｅ"),
            json!(null),
        ] {
            assert_eq!(bool(&v), None, "{v}");
        }
    }

    #[test]
    fn text_is_a_string_and_a_code_may_be_a_number() {
        assert_eq!(text(&json!("flow-1")), Some("flow-1"));
        assert_eq!(text(&json!("ünïcode")), Some("ünïcode"));
        assert_eq!(text(&json!("")), Some(""));
        for v in [json!(7), json!(null), json!({"s": "x"}), json!(["a"])] {
            assert_eq!(text(&v), None, "{v}");
        }
        assert_eq!(
            text_or_number(&json!("CONNECTOR-2001-500")).as_deref(),
            Some("CONNECTOR-2001-500")
        );
        assert_eq!(text_or_number(&json!(2001)).as_deref(), Some("2001"));
        for v in [json!(null), json!(true), json!({}), json!([])] {
            assert_eq!(text_or_number(&v), None, "{v}");
        }
    }

    #[derive(Deserialize, Debug, PartialEq, Default)]
    struct Part {
        #[serde(default, deserialize_with = "de::count")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "de::text")]
        s: Option<String>,
    }

    #[derive(Deserialize, Debug)]
    struct Whole {
        #[serde(default, deserialize_with = "de::millis")]
        at: Option<i64>,
        #[serde(default, deserialize_with = "de::int")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "de::text_or_number")]
        c: Option<String>,
        #[serde(default, deserialize_with = "de::section")]
        part: Option<Part>,
        #[serde(default, deserialize_with = "de::sections")]
        parts: Vec<Part>,
    }

    #[test]
    fn adapters_apply_the_rules_and_never_fail_on_a_type() {
        let w: Whole = serde_json::from_value(json!({
            "at": "1700000000", "i": "4", "c": 12, "part": {"n": "3", "s": "x"},
            "parts": [{"n": 1}, null, [], "p", {"n": -1, "s": 5}, {"s": "ok"}]
        }))
        .unwrap();
        assert_eq!(
            (w.at, w.i, w.c.as_deref()),
            (Some(1_700_000_000_000), Some(4), Some("12"))
        );
        let part = |n, s: Option<&str>| Part {
            n,
            s: s.map(str::to_owned),
        };
        assert_eq!(w.part, Some(part(Some(3), Some("x"))));
        assert_eq!(
            w.parts,
            vec![
                part(Some(1), None),
                part(None, None),
                part(None, Some("ok"))
            ]
        );
        // Every member garbled, or null, or missing: all None, no error.
        for v in [
            json!({"at": {"t": 1}, "i": [2], "c": {}, "part": "down", "parts": "many"}),
            json!({"at": null, "i": null, "c": null, "part": null, "parts": null}),
            json!({"part": [], "parts": {"n": 1}}),
            json!({}),
        ] {
            let w: Whole = serde_json::from_value(v.clone()).unwrap();
            assert_eq!((w.at, w.i, w.c), (None, None, None), "{v}");
            assert_eq!((w.part, w.parts), (None, vec![]), "{v}");
        }
        // JSON that is not JSON still fails.
        assert!(serde_json::from_str::<Whole>(r#"{"at": 1"#).is_err());
    }
}
