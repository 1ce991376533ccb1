//! Typed ids: one newtype over `String` per kind of resource, so that a
//! flow id cannot be passed where a source connection id is expected.
//!
//! An id parsed from text ([`FromStr`], [`TryFrom`], serde) meets the
//! service's rule for its kind: 1 to 128 letters, digits, `-` and `_`,
//! except a [`SchemaId`], which is the schema's `$id` URL
//! (`https://ns.adobe.com/{tenant}/schemas/{hex}`): not blank, at most
//! 1024 characters, no white space or control characters. An id read from
//! a service answer is kept as the service sent it (the answer's checks
//! apply, as for any answer), so a typed id never refuses an answer that
//! the service gave, and serde also reads any id the service could have
//! sent (1 to 256 visible ASCII characters), so ids a program stored read
//! back. A refused text is an [`IdError`], which names the
//! kind and the rule, never the text (it may be a secret pasted in the
//! wrong place).
//!
//! ```
//! use aep_flow::{FlowId, SourceConnectionId};
//!
//! let flow: FlowId = "0a1b2c3d-flow".parse().unwrap();
//! assert_eq!(flow.as_str(), "0a1b2c3d-flow");
//! assert!("../etc".parse::<SourceConnectionId>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

/// The rule of the plain ids.
const PLAIN_RULE: &str = "must be 1 to 128 letters, digits, `-` or `_`";
/// The rule of schema ids.
const SCHEMA_RULE: &str =
    "must be a URL of 1 to 1024 characters without white space or control characters";
/// Longest schema id accepted (characters).
const MAX_SCHEMA_CHARS: usize = 1024;

/// Why a text is not an id of some kind. It names the kind and the rule
/// and gives the length of the text, never the text itself (which may be
/// long, garbled or a secret pasted in the wrong place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    kind: &'static str,
    rule: &'static str,
    len: usize,
}

impl IdError {
    /// The kind of id that was expected (`flow id`, `schema id`).
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The rule the text broke.
    pub fn rule(&self) -> &'static str {
        self.rule
    }
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a valid {} ({} bytes): {}",
            self.kind, self.len, self.rule
        )
    }
}

impl std::error::Error for IdError {}

/// 1 to 128 letters, digits, `-` and `_`: what goes into a URL path.
pub(crate) fn plain_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A schema's `$id` URL: not blank, at most 1024 characters, no white space
/// or control characters.
fn schema_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars().nth(MAX_SCHEMA_CHARS).is_none()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Longest id or etag accepted from the service.
pub(crate) const MAX_SERVICE_ID_LEN: usize = 256;

/// What the service may send as an id: 1 to 256 visible ASCII characters,
/// safe to print and to send back in a path.
pub(crate) fn from_service_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_SERVICE_ID_LEN && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Builds an id from what the service sent, without the rule for input.
pub(crate) trait FromService: Sized {
    /// The id as the service sent it.
    fn from_service(id: String) -> Self;
}

// Untyped ids: for the tests and the fuzz targets.
#[cfg(any(test, feature = "fuzzing"))]
impl FromService for String {
    fn from_service(id: String) -> Self {
        id
    }
}

/// `PartialEq` between two types that both read as text.
macro_rules! eq_as_text {
    ($($left:ty, $right:ty;)*) => {$(
        impl PartialEq<$right> for $left {
            fn eq(&self, other: &$right) -> bool {
                AsRef::<str>::as_ref(self) == AsRef::<str>::as_ref(other)
            }
        }
    )*};
}

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident, $kind:literal, $ok:ident, $rule:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        /// Reads a string that meets the input rule or could have come from
        /// the service (1 to 256 visible ASCII characters): an id a program
        /// stored reads back, whatever the service made it.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if from_service_ok(&s) {
                    return Ok(Self(s));
                }
                // The input rule, with its error.
                Self::try_from(s).map_err(serde::de::Error::custom)
            }
        }

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromService for $name {
            fn from_service(id: String) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// As in oauth2-rs's id types: an id reads as the text it is
        /// wherever a `&str` is expected (never the other way round).
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::try_from(s.to_owned())
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;

            fn try_from(s: &str) -> Result<Self, IdError> {
                s.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(s: String) -> Result<Self, IdError> {
                if $ok(&s) {
                    Ok(Self(s))
                } else {
                    Err(IdError { kind: $kind, rule: $rule, len: s.len() })
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        eq_as_text! {
            $name, str; $name, &str; $name, String; str, $name; &str, $name;
            String, $name; &$name, String; String, &$name;
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

    )*};
}

ids! {
    /// The id of a base connection (`/connections/{id}`), e.g. a
    /// PostgreSQL connection.
    ConnectionId, "connection id", plain_ok, PLAIN_RULE;
    /// The id of a source connection (`/sourceConnections/{id}`).
    SourceConnectionId, "source connection id", plain_ok, PLAIN_RULE;
    /// The id of a target connection (`/targetConnections/{id}`).
    TargetConnectionId, "target connection id", plain_ok, PLAIN_RULE;
    /// The id of a dataflow (`/flows/{id}`).
    FlowId, "flow id", plain_ok, PLAIN_RULE;
    /// The id of a Data Prep mapping set.
    MappingSetId, "mapping set id", plain_ok, PLAIN_RULE;
    /// The id of a Catalog dataset.
    DatasetId, "dataset id", plain_ok, PLAIN_RULE;
    /// The id of an XDM schema: its `$id` URL
    /// (`https://ns.adobe.com/{tenant}/schemas/{hex}`).
    SchemaId, "schema id", schema_ok, SCHEMA_RULE;
    /// The id of a flow run (`/runs/{id}`).
    RunId, "run id", plain_ok, PLAIN_RULE;
}

/// An id for a test, as the service could send it: no rule applied, so
/// tests can also hand the library ids its own checks must refuse.
#[cfg(test)]
pub(crate) fn id<T: FromService>(id: &str) -> T {
    T::from_service(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain_rules<T>(kind: &str)
    where
        T: FromStr<Err = IdError> + fmt::Debug + AsRef<str>,
    {
        let good = T::from_str("0a1B-2c_3d").unwrap();
        assert_eq!(good.as_ref(), "0a1B-2c_3d");
        assert!(T::from_str(&"a".repeat(128)).is_ok());
        for bad in [
            String::new(),
            "a".repeat(129),
            "\"quoted\"".into(),
            "a.b".into(),
            "a/b".into(),
            "é".into(),
            "a\0b".into(),
            "a b".into(),
            "..".into(),
        ] {
            let e = T::from_str(&bad).unwrap_err();
            assert_eq!(e.kind(), kind);
            assert_eq!(e.rule(), PLAIN_RULE);
            let text = e.to_string();
            assert!(text.contains(kind) && text.contains("128"), "{text}");
        }
    }

    #[test]
    fn plain_ids_follow_the_services_rule() {
        plain_rules::<ConnectionId>("connection id");
        plain_rules::<SourceConnectionId>("source connection id");
        plain_rules::<TargetConnectionId>("target connection id");
        plain_rules::<FlowId>("flow id");
        plain_rules::<MappingSetId>("mapping set id");
        plain_rules::<DatasetId>("dataset id");
        plain_rules::<RunId>("run id");
    }

    #[test]
    fn schema_ids_are_urls() {
        let url = "https://ns.adobe.com/tenant/schemas/0a1b2c";
        assert_eq!(url.parse::<SchemaId>().unwrap().as_str(), url);
        assert!(SchemaId::try_from(format!("https://x/{}", "a".repeat(1000))).is_ok());
        for bad in [
            String::new(),
            "a".repeat(1025),
            "https://ns.adobe.com/a b".into(),
            "https://x/\0".into(),
            "\t".into(),
        ] {
            let e = bad.parse::<SchemaId>().unwrap_err();
            assert_eq!(e.kind(), "schema id");
            assert_eq!(e.rule(), SCHEMA_RULE);
        }
    }

    #[test]
    fn errors_never_echo_the_input() {
        let long = format!("secret-{}", "x/".repeat(5000));
        let e = long.parse::<FlowId>().unwrap_err();
        let text = e.to_string();
        assert!(!text.contains("secret"), "{text}");
        assert!(text.len() < 200, "{text}");
        assert!(text.contains("10007 bytes"), "{text}");
    }

    #[test]
    fn serde_is_a_plain_string_and_checks_the_rule() {
        let id: FlowId = "f-1".parse().unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"f-1\"");
        let back: FlowId = serde_json::from_str("\"f-1\"").unwrap();
        assert_eq!(back, id);
        // What the service could have sent reads back; what neither rule
        // allows is refused, named, never echoed.
        let odd: FlowId = serde_json::from_str("\"src.v2:0a1b\"").unwrap();
        assert_eq!(odd, "src.v2:0a1b");
        for bad in ["\"a b\"", "\"\"", "\"café\""] {
            let e = serde_json::from_str::<FlowId>(bad).unwrap_err();
            assert!(e.to_string().contains("flow id"), "{e}");
        }
        let long = format!("\"{}\"", "a".repeat(MAX_SERVICE_ID_LEN + 1));
        assert!(serde_json::from_str::<FlowId>(&long).is_err());
        assert!(serde_json::from_str::<RunId>("12").is_err());
        let schema: SchemaId =
            serde_json::from_str("\"https://ns.adobe.com/t/schemas/1\"").unwrap();
        assert_eq!(schema, "https://ns.adobe.com/t/schemas/1");
        assert!(serde_json::from_str::<SchemaId>("\"a b\"").is_err());
    }

    #[test]
    fn ids_from_the_service_are_kept_as_sent() {
        // The service's answer passed its own checks; a typed id does not
        // add a rule that would refuse it.
        let id = FlowId::from_service("odd.but.visible".into());
        assert_eq!(id.as_str(), "odd.but.visible");
        assert_eq!(id.to_string(), "odd.but.visible");
        assert_eq!(String::from(id), "odd.but.visible");
    }
}
