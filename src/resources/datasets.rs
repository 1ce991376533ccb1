//! Datasets, as Catalog describes them (`GET {CATALOG_PATH}/dataSets/{id}`):
//! read only, for the id of the XDM schema a dataset follows
//! ([`Client::get_dataset`] returns a [`Dataset`]). Creating schemas and
//! datasets is Schema Registry's and Catalog's job; users bring a dataset
//! id.
//!
//! [`Client::get_dataset`]: crate::Client::get_dataset
//! [`Dataset`]: crate::Dataset

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::input::{check_id, require_text};
use crate::client::request::Method;
use crate::client::results::parse_json;
use crate::client::Client;
use crate::error::{Error, Service};
use crate::ids::{DatasetId, FromService, SchemaId};
use crate::wire::body::SchemaRef;

const RESOURCE: &str = "dataset";

/// A dataset as Catalog describes it: what a target connection needs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dataset {
    /// Its id (Catalog's, e.g. `5c8c3c555033b814b69f947f`).
    pub id: DatasetId,
    /// Name, if any.
    pub name: Option<String>,
    /// The `$id` URL of the XDM schema it follows (`schemaRef.id`, e.g.
    /// `https://ns.adobe.com/{TENANT}/schemas/...`): what target
    /// connections and mapping sets take. Never the schema's `meta:altId`.
    pub schema_id: Option<SchemaId>,
    /// The schema's content type (`schemaRef.contentType`), e.g.
    /// `application/vnd.adobe.xed+json;version=1`.
    pub schema_content_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireDataset {
    name: Option<String>,
    schema_ref: Option<SchemaRef<'static>>,
}

/// A schema id (`$id` URL) to send: not empty, no white space or control
/// characters, at most [`MAX_TEXT_CHARS`](crate::client::input::MAX_TEXT_CHARS) characters.
pub(crate) fn check_schema_id(field: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    // At most MAX_TEXT_CHARS characters, none of them a control character.
    require_text(field, value)?;
    if value.chars().any(char::is_whitespace) {
        return Err(Error::invalid_input(
            field,
            "must not contain white space (a schema id is its `$id` URL)",
        ));
    }
    Ok(())
}

impl Client {
    /// Reads one dataset from Catalog: `GET {CATALOG_PATH}/dataSets/{id}`,
    /// which answers an object keyed by the dataset id
    /// (`{"<id>": {"name", "schemaRef": {"id", "contentType"}, ...}}`).
    ///
    /// [`Error::NotFound`] (resource `dataset`) when Catalog has no such
    /// dataset; an answer keyed by another id, or a schema id that could not
    /// be sent back, is an [`Error::UnexpectedResponse`].
    pub fn get_dataset(&self, id: &DatasetId) -> Result<Dataset, Error> {
        let dataset_id = id.as_str();
        check_id("dataset_id", dataset_id)?;
        let resp = self
            .request(Method::Get, format!("/dataSets/{dataset_id}"))
            .service(Service::Catalog)
            .resource(RESOURCE, dataset_id)
            .send()?;
        let mut keyed: Map<String, Value> =
            parse_json(&resp, "a JSON object keyed by the dataset id")?;
        let Some(entry) = keyed.remove(dataset_id) else {
            return Err(Error::unexpected(
                &resp,
                format!(
                    "asked for dataset {dataset_id}, the answer is not keyed by it ({} other key(s))",
                    keyed.len()
                ),
            ));
        };
        let wire: WireDataset = serde_json::from_value(entry).map_err(|e| {
            Error::unexpected(
                &resp,
                format!(
                    "dataset {dataset_id} is not described as {{\"name\", \"schemaRef\": {{\"id\", \
                     \"contentType\"}}}} ({})",
                    crate::wire::response::describe_json_error(&e)
                ),
            )
        })?;
        let SchemaRef {
            id: schema_id,
            content_type,
        } = wire.schema_ref.unwrap_or_default();
        let schema_id = schema_id.map(Cow::into_owned).filter(|s| !s.is_empty());
        if let Some(schema) = &schema_id {
            if check_schema_id("schemaRef.id", schema).is_err() {
                return Err(Error::unexpected(
                    &resp,
                    format!(
                        "dataset {dataset_id} names a schema id that is not a URL without white \
                         space or control characters ({} bytes); refusing to use it",
                        schema.len()
                    ),
                ));
            }
        }
        Ok(Dataset {
            id: id.clone(),
            name: wire.name,
            schema_id: schema_id.map(SchemaId::from_service),
            schema_content_type: content_type.map(Cow::into_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::ids::id;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::client::input::MAX_TEXT_CHARS;
    use crate::client::test_support::client_on;
    use crate::transport::memory::MemoryTransport;

    const ID: &str = "5c8c3c555033b814b69f947f";
    const SCHEMA: &str = "https://ns.adobe.com/tenant/schemas/0a1b2c";

    fn answer(id: &str) -> String {
        json!({ id: {"name": "orders", "imsOrg": "ORG@AdobeOrg",
                     "schemaRef": {"id": SCHEMA,
                                   "contentType": "application/vnd.adobe.xed+json;version=1"},
                     "tags": {"adobe/pqs/table": ["orders"]}, "version": "1.0.1"}})
        .to_string()
    }

    #[test]
    fn get_reads_the_schema_ref_from_catalog() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &answer(ID));
        let d = client_on(&t).get_dataset(&id(ID)).unwrap();
        assert_eq!(d.id, ID);
        assert_eq!(d.name.as_deref(), Some("orders"));
        assert_eq!(d.schema_id.as_ref().map(|i| i.as_str()), Some(SCHEMA));
        assert_eq!(
            d.schema_content_type.as_deref(),
            Some("application/vnd.adobe.xed+json;version=1")
        );
        let seen = &t.seen()[0];
        assert_eq!(seen.method, "GET");
        assert_eq!(
            seen.url,
            format!("https://flow.example/data/foundation/catalog/dataSets/{ID}")
        );
        assert!(seen.body.is_none());
    }

    #[test]
    fn a_dataset_without_a_schema_ref_has_none() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &json!({ ID: {"name": "n"} }).to_string());
        let d = client_on(&t).get_dataset(&id(ID)).unwrap();
        assert_eq!((d.schema_id, d.schema_content_type), (None, None));
    }

    #[test]
    fn not_found_names_the_dataset() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            404,
            r#"{"type":"http://ns.adobe.com/aep/errors/CAT-1001-404","title":"Not Found",
                "status":404,"report":{"detailed-message":"dataset not found"}}"#,
        );
        let e = client_on(&t).get_dataset(&id(ID)).unwrap_err();
        assert!(
            matches!(&e, Error::NotFound { resource: "dataset", id, .. } if id == ID),
            "{e}"
        );
    }

    #[test]
    fn catalog_errors_name_catalog() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            403,
            r#"{"type":"http://ns.adobe.com/aep/errors/CAT-1104-403","title":"Forbidden",
                "status":403,"report":{"detailed-message":"no access to this sandbox"}}"#,
        );
        match client_on(&t).get_dataset(&id(ID)).unwrap_err() {
            Error::Api(api) => {
                assert_eq!(api.service, Service::Catalog);
                assert_eq!(api.code.as_deref(), Some("CAT-1104-403"));
                assert_eq!(api.message, "no access to this sandbox");
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn garbled_answers_are_unexpected() {
        for body in [
            answer("5c8c3c555033b814b69f0000"),
            "{}".to_owned(),
            "[]".to_owned(),
            "not json".to_owned(),
            json!({ ID: {"schemaRef": {"id": 7}} }).to_string(),
            json!({ ID: "text" }).to_string(),
            json!({ ID: {"schemaRef": {"id": "https://x/a b"}} }).to_string(),
            json!({ ID: {"schemaRef": {"id": "https://x/\u{1b}[2J"}} }).to_string(),
        ] {
            let t = Arc::new(MemoryTransport::default());
            t.reply(200, &body);
            let e = client_on(&t).get_dataset(&id(ID)).unwrap_err();
            assert!(matches!(e, Error::UnexpectedResponse { .. }), "{body}: {e}");
        }
    }

    #[test]
    fn bad_ids_send_nothing() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        for bad in ["", "a/b", "../x", "a b"] {
            let e = c.get_dataset(&id(bad)).unwrap_err();
            assert!(
                matches!(&e, Error::InvalidInput { field, .. } if field == "dataset_id"),
                "{e}"
            );
        }
        assert!(t.seen().is_empty());
    }

    #[test]
    fn schema_ids_are_checked() {
        assert!(check_schema_id("s", SCHEMA).is_ok());
        for bad in ["", "  ", "a b", "x\u{7}", &"x".repeat(MAX_TEXT_CHARS + 1)] {
            assert!(check_schema_id("s", bad).is_err(), "{bad:?}");
        }
    }
}
