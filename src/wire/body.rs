//! The pieces request bodies (and answers) share: references to a spec or
//! a schema, and JSON Patch operations. Every body is a private
//! `Serialize` struct in its resource's module, built from these.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// A reference by id and version: `connectionSpec`, `flowSpec`, a target
/// connection's `data.schema` (`{"id", "version"}`); also how a mapping
/// set's `schemaRef` is read, by its id alone (see [`SchemaRef`]).
///
/// Sent with both members. Read with the `id` only, strictly (a spec id is
/// compared and sent back, so one of the wrong type refuses the answer);
/// the `version` of an answer's reference is not read, so its type cannot
/// refuse an answer nothing uses it from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SpecRef<'a> {
    /// The spec's or schema's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Cow<'a, str>>,
    /// Its version (sent only).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub version: Option<Cow<'a, str>>,
}

impl<'a> SpecRef<'a> {
    /// `{"id": id, "version": version}`, borrowed.
    pub(crate) fn new(id: &'a str, version: &'a str) -> Self {
        SpecRef {
            id: Some(Cow::Borrowed(id)),
            version: Some(Cow::Borrowed(version)),
        }
    }

    /// The id read from an answer.
    pub(crate) fn into_id(self) -> Option<String> {
        self.id.map(Cow::into_owned)
    }
}

/// A reference to an XDM schema by id and content type: `schemaRef` of a
/// dataset or a mapping set's `outputSchema` (`{"id", "contentType"}`).
/// Read strictly (both are text the service writes) where both are used
/// (a dataset's); a mapping set uses only the id, so it reads its
/// `schemaRef` as a [`SpecRef`], and a content type of another type does
/// not refuse its answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SchemaRef<'a> {
    /// The schema's `$id` URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Cow<'a, str>>,
    /// Its content type, e.g. `application/vnd.adobe.xed-full+json;version=1`.
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    pub content_type: Option<Cow<'a, str>>,
}

impl<'a> SchemaRef<'a> {
    /// `{"id": id, "contentType": content_type}`, borrowed.
    pub(crate) fn new(id: &'a str, content_type: &'a str) -> Self {
        SchemaRef {
            id: Some(Cow::Borrowed(id)),
            content_type: Some(Cow::Borrowed(content_type)),
        }
    }
}

/// One JSON Patch operation (RFC 6902) as Flow Service takes it:
/// `{"op", "path", "value"}`. The tutorials write `op` in lower case.
/// Adobe's spec makes `value` required on every operation, `remove`
/// included, so every operation carries one.
#[derive(Debug, Serialize)]
pub(crate) struct PatchOp<'a, V> {
    /// `add`, `replace` or `remove`.
    pub op: &'static str,
    /// The member's JSON Pointer, e.g. `/scheduleParams/frequency`.
    pub path: Cow<'a, str>,
    /// The new value (for `remove`, the value removed).
    pub value: V,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_are_sent_whole_and_read_by_id() {
        let spec = SpecRef::new("74a1c565", "1.0");
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            json!({"id": "74a1c565", "version": "1.0"})
        );
        let schema = SchemaRef::new("https://ns/s", "application/x");
        assert_eq!(
            serde_json::to_value(&schema).unwrap(),
            json!({"id": "https://ns/s", "contentType": "application/x"})
        );
        // Read: the id strictly; a reference's version, whatever its type,
        // is not read.
        let read: SpecRef = serde_json::from_value(json!({"id": "x", "version": 1})).unwrap();
        assert_eq!((read.into_id().as_deref(), None), (Some("x"), None::<&str>));
        let read: SpecRef = serde_json::from_value(json!({})).unwrap();
        assert_eq!(read, SpecRef::default());
        assert!(serde_json::from_value::<SpecRef>(json!({"id": 7})).is_err());
        assert!(serde_json::from_value::<SchemaRef>(json!({"id": 7})).is_err());
        let read: SchemaRef =
            serde_json::from_value(json!({"id": "s", "contentType": "c", "more": 1})).unwrap();
        assert_eq!(read, SchemaRef::new("s", "c"));
    }

    #[test]
    fn a_patch_operation_always_carries_a_value() {
        let op = PatchOp {
            op: "remove",
            path: Cow::Borrowed("/scheduleParams/interval"),
            value: 15,
        };
        assert_eq!(
            serde_json::to_value(&op).unwrap(),
            json!({"op": "remove", "path": "/scheduleParams/interval", "value": 15})
        );
    }
}
