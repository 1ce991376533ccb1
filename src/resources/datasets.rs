//! Datasets, as Catalog describes them (`GET {CATALOG_PATH}/dataSets/{id}`
//! and the listing `GET {CATALOG_PATH}/dataSets`): read only, for the id of
//! the XDM schema a dataset follows and whether it is Profile-enabled
//! ([`Client::get_dataset`], [`Client::datasets`],
//! [`Client::find_datasets_named`] return [`Dataset`]s). Creating schemas
//! and datasets is Schema Registry's and Catalog's job; users bring a
//! dataset id or name.
//!
//! Catalog answers an object keyed by dataset id, not `{"items": [...]}`,
//! and pages by offset (`start`, `limit`), without next-page links.
//!
//! [`Client::get_dataset`]: crate::Client::get_dataset
//! [`Client::datasets`]: crate::Client::datasets
//! [`Client::find_datasets_named`]: crate::Client::find_datasets_named
//! [`Dataset`]: crate::Dataset

use std::borrow::Cow;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::input::{check_from_service, check_id, require_text};
use crate::client::paging::{Paged, Pages, Query, WirePage};
use crate::client::request::Method;
use crate::client::results::parse_json;
use crate::client::Client;
use crate::error::{Error, Service};
use crate::ids::{DatasetId, FromService, SchemaId};
use crate::wire::body::SchemaRef;
use crate::wire::response::RawResponse;

const RESOURCE: &str = "dataset";
/// Catalog's collection of datasets.
const COLLECTION: &str = "dataSets";
/// What a page of the listing is, for answers that are not one.
const PAGE: &str = "a JSON object keyed by dataset id";
/// The largest `limit` asked of Catalog, and the default. The reference
/// spec (catalog.yaml, `limit`) says at most 100; Adobe's guide "Filter
/// Catalog data using query parameters" says 20 for service tokens (the
/// OAuth Server-to-Server tokens this crate gets) and that a `limit` out of
/// range is a 400. The guide is followed: a listing at 100 would be refused,
/// or cut to 20 and then read as a short last page, losing datasets.
const MAX_PAGE_SIZE: u32 = 20;
/// The members a listing asks for (`properties=`): what [`Dataset`] reads.
const PROPERTIES: &str = "name,schemaRef,tags";
/// A stable order for offset paging: oldest first, so datasets created
/// while the listing runs come last instead of shifting earlier pages.
/// The spec's form (`orderBy=asc:created,updated`), `asc:` made explicit.
const ORDER_BY: &str = "asc:created";
/// The tag that says a dataset feeds Real-Time Customer Profile.
const PROFILE_TAG: &str = "unifiedProfile";
/// Its value on a Profile-enabled dataset.
const PROFILE_ENABLED: &str = "enabled:true";

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
    /// Whether it feeds Real-Time Customer Profile: its `tags.unifiedProfile`
    /// holds `"enabled:true"`. Batches into such datasets count against
    /// the platform's 90 Profile batches a day per sandbox. Tags that are
    /// missing, of another shape or with other values read as `false`.
    pub profile_enabled: bool,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireDataset {
    name: Option<String>,
    schema_ref: Option<SchemaRef<'static>>,
    /// Read leniently (any JSON): only `unifiedProfile` matters.
    tags: Value,
}

/// Whether `tags` (a dataset's `tags` member, as sent) marks it
/// Profile-enabled; anything garbled is `false`, never an error.
fn profile_enabled(tags: &Value) -> bool {
    tags.get(PROFILE_TAG)
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().any(|v| v.as_str() == Some(PROFILE_ENABLED)))
}

/// Reads dataset `id` from its entry in Catalog's answer (`resp`, for
/// errors): the same rules for a read by id and a listing.
fn read_dataset(resp: &RawResponse, id: &str, entry: Value) -> Result<Dataset, Error> {
    let wire: WireDataset = serde_json::from_value(entry).map_err(|e| {
        Error::unexpected(
            resp,
            format!(
                "dataset {id} is not described as {{\"name\", \"schemaRef\": {{\"id\", \
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
                resp,
                format!(
                    "dataset {id} names a schema id that is not a URL without white \
                     space or control characters ({} bytes); refusing to use it",
                    schema.len()
                ),
            ));
        }
    }
    Ok(Dataset {
        id: DatasetId::from_service(id.to_owned()),
        name: wire.name,
        schema_id: schema_id.map(SchemaId::from_service),
        schema_content_type: content_type.map(Cow::into_owned),
        profile_enabled: profile_enabled(&wire.tags),
    })
}

/// Catalog's answer to a listing, in the order sent (a `Map` would sort
/// it by id).
struct Keyed(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Keyed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyedVisitor;
        impl<'de> Visitor<'de> for KeyedVisitor {
            type Value = Keyed;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(PAGE)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keyed, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1000));
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Keyed(entries))
            }
        }
        deserializer.deserialize_map(KeyedVisitor)
    }
}

/// A page of Catalog's listing as `(id, dataset)` pairs, in the order
/// sent; each id checked like any id from a service.
fn read_page(resp: &RawResponse, what: &'static str) -> Result<WirePage<(String, Dataset)>, Error> {
    let Keyed(entries) = parse_json(resp, what)?;
    let items = entries
        .into_iter()
        .map(|(id, entry)| {
            check_from_service(resp, "a dataset id", &id)?;
            // It goes into paths later (a read by id, a target connection).
            if check_id("dataset_id", &id).is_err() {
                return Err(Error::unexpected(
                    resp,
                    format!(
                        "the service listed dataset id {id:?}, which is not 1 to 128 letters, \
                         digits, `-` and `_`; refusing to use it"
                    ),
                ));
            }
            let dataset = read_dataset(resp, &id, entry)?;
            Ok((id, dataset))
        })
        .collect::<Result<_, Error>>()?;
    Ok(WirePage::of(items))
}

/// Which datasets to list: every one, or those with one name. Catalog's
/// `name=` filter is sent when it can carry the name (not one holding `,`
/// or `*` or starting with `!`, which Catalog reads as a list, a wildcard
/// or a negation: such a name is matched here over every dataset), and the
/// name is compared exactly on this side too.
#[derive(Debug, Clone)]
#[must_use = "a filter does nothing until a listing takes it"]
pub struct DatasetFilter {
    name: Option<String>,
    page_size: u32,
    max_items: usize,
}

impl Default for DatasetFilter {
    fn default() -> Self {
        DatasetFilter {
            name: None,
            page_size: MAX_PAGE_SIZE,
            max_items: crate::resources::connections::DEFAULT_MAX_ITEMS,
        }
    }
}

impl DatasetFilter {
    /// Every dataset (up to the cap).
    pub fn new() -> Self {
        DatasetFilter::default()
    }

    /// Only datasets with exactly this name (any text: quotes, commas,
    /// `&`, `#`, unicode are sent encoded and compared exactly).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Items per page (`limit`, 1–20: Catalog's maximum for service
    /// tokens). Defaults to 20, the fewest requests.
    pub fn with_page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// Stop after this many datasets. Defaults to 10 000.
    pub fn with_max_items(mut self, cap: usize) -> Self {
        self.max_items = cap;
        self
    }

    /// The name filter, if set.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Items per page.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// The item cap.
    pub fn max_items(&self) -> usize {
        self.max_items
    }

    /// The first request: `limit`, `start=0`, the order, the members
    /// wanted and the name; or why it cannot be sent.
    fn query(&self) -> Result<Query, Error> {
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(Error::invalid_input(
                "page_size",
                "must be between 1 and 20 (Catalog's largest page for service tokens)",
            ));
        }
        let mut query = Query::new(COLLECTION, self.page_size)?
            .of_service(Service::Catalog)
            .by_offset()
            .param("orderBy", ORDER_BY)
            .param("properties", PROPERTIES);
        if let Some(name) = &self.name {
            if name.is_empty() {
                return Err(Error::invalid_input("name", "must not be empty"));
            }
            require_text("name", name)?;
            if catalog_can_filter_by(name) {
                query = query.param("name", name);
            }
        }
        Ok(query)
    }
}

/// Whether Catalog's simple filter `name={VALUE}` finds a dataset named
/// exactly `name`. Adobe's guide "Filter Catalog data using query
/// parameters" makes the value a comma-separated list (any one matches), a
/// leading `!` its negation, and `*` a wildcard in names (`**` a literal
/// one); the reference spec (catalog.yaml) calls it only "Filter on the
/// name". The guide is followed: a name holding `,` or `*`, or starting
/// with `!`, would ask for other datasets (`Orders, EU` finds `Orders` and
/// ` EU` but not itself), so it is not sent: every dataset is listed and
/// the name matched here.
fn catalog_can_filter_by(name: &str) -> bool {
    !name.starts_with('!') && !name.contains([',', '*'])
}

impl Paged for DatasetFilter {
    fn item_cap(&self) -> usize {
        self.max_items
    }
}

/// Pages through a listing of datasets, one at a time. Made by
/// [`Client::datasets`].
pub type Datasets = Pages<Dataset>;

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
        read_dataset(&resp, dataset_id, entry)
    }

    /// Pages through Catalog's datasets that match `filter`, lazily:
    /// `GET {CATALOG_PATH}/dataSets?limit=..&start=..&orderBy=asc:created&properties=name,schemaRef,tags[&name=..]`,
    /// by offset until a page comes back shorter than `limit` (a service
    /// that ignores `limit` and sends longer pages is read on until a page
    /// is shorter than the longest so far, or empty). Each item is a
    /// `Result`: a failed page ends the iteration with its error, and so
    /// does a page of datasets all read before (the listing loops) or a
    /// listing that never ends, as for every listing. A dataset listed
    /// twice is returned once.
    pub fn datasets(&self, filter: DatasetFilter) -> Datasets {
        let name = filter.name.clone();
        Pages::read_by(
            self,
            filter.query(),
            PAGE,
            filter.item_cap(),
            move |d: &Dataset| name.as_ref().is_none_or(|n| d.name.as_ref() == Some(n)),
            read_page,
        )
    }

    /// Lists the datasets that match `filter`, following every page, up
    /// to the filter's cap (10 000 by default).
    pub fn list_datasets(&self, filter: DatasetFilter) -> Result<Vec<Dataset>, Error> {
        self.datasets(filter).collect()
    }

    /// Every dataset named exactly `name` (Catalog's `name=` filter, every
    /// page, compared exactly here too), in Catalog's order: none, one, or
    /// several (Catalog lets datasets share a name), so a caller can say
    /// "no dataset named X" or "two datasets named X".
    pub fn find_datasets_named(&self, name: &str) -> Result<Vec<Dataset>, Error> {
        self.list_datasets(DatasetFilter::new().with_name(name))
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

    const LIST_URL: &str = "https://flow.example/data/foundation/catalog/dataSets";

    /// A listing page of datasets `ids` (in this order), each named `name`.
    fn page(ids: &[&str], name: &str) -> String {
        let mut out = String::from("{");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&format!(
                "{}:{}",
                json!(id),
                json!({"name": name, "schemaRef": {"id": SCHEMA}})
            ));
        }
        out.push('}');
        out
    }

    /// The `start=` of each request seen.
    fn starts(t: &MemoryTransport) -> Vec<String> {
        t.seen()
            .iter()
            .map(|s| {
                let q = s.url.split_once('?').unwrap().1;
                q.split('&')
                    .find_map(|p| p.strip_prefix("start="))
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn a_listing_asks_catalog_for_a_sorted_page_of_the_members_it_reads() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, "{}");
        let all = client_on(&t).list_datasets(DatasetFilter::new()).unwrap();
        assert!(all.is_empty());
        let seen = t.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].method, "GET");
        assert_eq!(
            seen[0].url,
            format!(
                "{LIST_URL}?limit=20&start=0&orderBy=asc%3Acreated\
                 &properties=name%2CschemaRef%2Ctags"
            )
        );
    }

    #[test]
    fn pages_follow_by_offset_in_the_order_sent_until_a_short_page() {
        let t = Arc::new(MemoryTransport::default());
        // Ids in reverse order: the order sent is kept (not sorted by id).
        t.reply(200, &page(&["e5", "d4"], "n"))
            .reply(200, &page(&["c3", "b2"], "n"))
            .reply(200, &page(&["a1"], "n"));
        let c = client_on(&t);
        let mut pages = c.datasets(DatasetFilter::new().with_page_size(2));
        let ids: Vec<String> = pages
            .by_ref()
            .map(|d| d.unwrap().id.as_str().to_owned())
            .collect();
        assert_eq!(ids, ["e5", "d4", "c3", "b2", "a1"]);
        assert_eq!(starts(&t), ["0", "2", "4"]);
        assert_eq!(pages.end(), Some(crate::ListingEnd::Complete));
        assert_eq!(pages.pages(), 3);
        assert!(t.seen().iter().all(|s| s.url.contains("limit=2&")));
    }

    #[test]
    fn a_full_last_page_costs_one_empty_page() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &page(&["a1", "b2"], "n")).reply(200, "{}");
        let all = client_on(&t)
            .list_datasets(DatasetFilter::new().with_page_size(2))
            .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(starts(&t), ["0", "2"]);
    }

    #[test]
    fn a_service_that_ignores_limit_and_sends_everything_costs_one_empty_page() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &page(&["a1", "b2", "c3", "d4", "e5"], "n"))
            .reply(200, "{}");
        let c = client_on(&t);
        let mut pages = c.datasets(DatasetFilter::new().with_page_size(2));
        assert_eq!(pages.by_ref().count(), 5);
        assert_eq!(pages.end(), Some(crate::ListingEnd::Complete));
        assert_eq!(starts(&t), ["0", "5"]);
    }

    #[test]
    fn a_service_that_ignores_limit_and_pages_by_its_own_size_is_read_to_the_end() {
        // Asked for 2, it pages by 3: a page longer than asked is not the
        // end (before, the listing stopped after a1..c3 and said Complete).
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &page(&["a1", "b2", "c3"], "n"))
            .reply(200, &page(&["d4", "e5", "f6"], "n"))
            .reply(200, &page(&["g7", "h8"], "n"));
        let c = client_on(&t);
        let mut pages = c.datasets(DatasetFilter::new().with_page_size(2));
        let ids: Vec<String> = pages
            .by_ref()
            .map(|d| d.unwrap().id.as_str().to_owned())
            .collect();
        assert_eq!(ids, ["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8"]);
        assert_eq!(pages.end(), Some(crate::ListingEnd::Complete));
        assert_eq!(starts(&t), ["0", "3", "6"]);
    }

    #[test]
    fn a_service_that_repeats_a_page_is_stopped() {
        let t = Arc::new(MemoryTransport::default());
        // Ignores `start`: the same full page again and again.
        for _ in 0..5 {
            t.reply(200, &page(&["a1", "b2"], "n"));
        }
        let c = client_on(&t);
        let mut pages = c.datasets(DatasetFilter::new().with_page_size(2));
        let got: Vec<_> = pages.by_ref().collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[..2].iter().all(Result::is_ok));
        let e = got[2].as_ref().unwrap_err();
        assert!(matches!(e, Error::UnexpectedResponse { .. }), "{e}");
        assert!(e.to_string().contains("loops"), "{e}");
        assert_eq!(pages.end(), None);
        assert_eq!(t.seen().len(), 2);
    }

    #[test]
    fn a_dataset_listed_twice_across_pages_is_returned_once() {
        let t = Arc::new(MemoryTransport::default());
        // A dataset created meanwhile shifted b2 onto the second page.
        t.reply(200, &page(&["a1", "b2"], "n"))
            .reply(200, &page(&["b2", "c3"], "n"))
            .reply(200, "{}");
        let ids: Vec<String> = client_on(&t)
            .list_datasets(DatasetFilter::new().with_page_size(2))
            .unwrap()
            .into_iter()
            .map(|d| d.id.as_str().to_owned())
            .collect();
        assert_eq!(ids, ["a1", "b2", "c3"]);
    }

    #[test]
    fn the_cap_stops_a_listing() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &page(&["a1", "b2"], "n"));
        let c = client_on(&t);
        let mut pages = c.datasets(DatasetFilter::new().with_page_size(2).with_max_items(2));
        assert_eq!(pages.by_ref().count(), 2);
        assert_eq!(pages.end(), Some(crate::ListingEnd::Capped));
        assert_eq!(t.seen().len(), 1);
    }

    #[test]
    fn names_are_sent_encoded_and_compared_exactly() {
        // No `,` (see the next test): everything else a query must encode.
        let name = "Orders \"EU\"; a&b #1 = ü/% +!";
        let t = Arc::new(MemoryTransport::default());
        let mut entries = Map::new();
        for (id, n) in [
            ("a1", Some(name.to_owned())),
            ("b2", Some(name.to_lowercase())),
            ("c3", Some(format!("{name} "))),
            ("d4", Some(name.to_owned())),
            ("e5", None),
        ] {
            entries.insert(id.to_owned(), json!({"name": n}));
        }
        t.reply(200, &Value::Object(entries).to_string());
        let found = client_on(&t).find_datasets_named(name).unwrap();
        let ids: Vec<&str> = found.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a1", "d4"]);
        let url = &t.seen()[0].url;
        let sent = url
            .split('&')
            .find_map(|p| p.strip_prefix("name="))
            .unwrap();
        assert!(
            sent.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"%-._~".contains(&b)),
            "{sent}"
        );
        assert_eq!(decode(sent), name);
        assert!(!url.contains('#') && !url.contains('"') && !url.contains(' '));
    }

    #[test]
    fn names_catalogs_simple_filter_misreads_are_matched_here_only() {
        // A list (`,`), a negation (leading `!`), a wildcard (`*`): sent,
        // Catalog would answer other datasets and not these.
        for name in ["Orders, EU", "!Orders", "te*st", "a,b*c"] {
            let t = Arc::new(MemoryTransport::default());
            let mut entries = Map::new();
            for (id, n) in [("a1", "Orders"), ("b2", name), ("c3", "test")] {
                entries.insert(id.to_owned(), json!({"name": n}));
            }
            t.reply(200, &Value::Object(entries).to_string());
            let found = client_on(&t).find_datasets_named(name).unwrap();
            let ids: Vec<&str> = found.iter().map(|d| d.id.as_str()).collect();
            assert_eq!(ids, ["b2"], "{name}");
            let url = &t.seen()[0].url;
            assert!(!url.contains("name="), "{name}: {url}");
            assert!(url.contains("limit=20&start=0&"), "{url}");
        }
        // `!` elsewhere than first is an ordinary character.
        assert!(catalog_can_filter_by("a!b"));
    }

    /// `%XX` decoding, for what the tests above sent.
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn profile_tags_in_every_form() {
        let cases = [
            (json!({"unifiedProfile": ["enabled:true"]}), true),
            (
                json!({"unifiedProfile": ["enabledAt:2026-01-01", "enabled:true"], "x": 1}),
                true,
            ),
            (json!({"unifiedProfile": ["enabled:false"]}), false),
            (json!({"unifiedProfile": ["enabled: true"]}), false),
            (json!({"unifiedProfile": ["ENABLED:TRUE"]}), false),
            (json!({"unifiedProfile": "enabled:true"}), false),
            (
                json!({"unifiedProfile": [true, 1, null, {"enabled": true}]}),
                false,
            ),
            (json!({"unifiedProfile": []}), false),
            (json!({"unifiedProfile": null}), false),
            (json!({"unifiedIdentity": ["enabled:true"]}), false),
            (json!({}), false),
            (json!(null), false),
            (json!("unifiedProfile"), false),
            (json!(["enabled:true"]), false),
            (json!(7), false),
        ];
        for (tags, expected) in cases {
            let t = Arc::new(MemoryTransport::default());
            t.reply(200, &json!({ ID: {"name": "n", "tags": tags} }).to_string());
            t.reply(200, &json!({ ID: {"name": "n", "tags": tags} }).to_string());
            let c = client_on(&t);
            let d = c.get_dataset(&id(ID)).unwrap();
            assert_eq!(d.profile_enabled, expected, "{tags}");
            let listed = c.list_datasets(DatasetFilter::new()).unwrap();
            assert_eq!(listed[0].profile_enabled, expected, "{tags}");
        }
        // Without tags at all.
        let t = Arc::new(MemoryTransport::default());
        t.reply(200, &json!({ ID: {"name": "n"} }).to_string());
        assert!(!client_on(&t).get_dataset(&id(ID)).unwrap().profile_enabled);
    }

    #[test]
    fn garbled_listings_are_unexpected() {
        for body in [
            "[]".to_owned(),
            "\"text\"".to_owned(),
            "not json".to_owned(),
            json!({"items": [{"id": ID}]}).to_string(),
            json!({ ID: "text" }).to_string(),
            json!({ ID: {"name": 7} }).to_string(),
            json!({"a/b": {"name": "n"}}).to_string(),
            json!({"": {"name": "n"}}).to_string(),
            json!({"a\u{1b}[2J": {"name": "n"}}).to_string(),
            json!({ ID: {"schemaRef": {"id": "https://x/a b"}} }).to_string(),
        ] {
            let t = Arc::new(MemoryTransport::default());
            t.reply(200, &body);
            let e = client_on(&t)
                .list_datasets(DatasetFilter::new())
                .unwrap_err();
            assert!(matches!(e, Error::UnexpectedResponse { .. }), "{body}: {e}");
        }
    }

    #[test]
    fn catalog_errors_on_a_listing_name_catalog() {
        let t = Arc::new(MemoryTransport::default());
        t.reply(
            400,
            r#"{"type":"http://ns.adobe.com/aep/errors/CAT-1400-400","title":"Bad Request",
                "status":400,"report":{"detailed-message":"limit must be at most 100"}}"#,
        );
        match client_on(&t)
            .list_datasets(DatasetFilter::new())
            .unwrap_err()
        {
            Error::Api(api) => {
                assert_eq!(api.service, Service::Catalog);
                assert_eq!(api.code.as_deref(), Some("CAT-1400-400"));
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn bad_filters_send_nothing() {
        let t = Arc::new(MemoryTransport::default());
        let c = client_on(&t);
        for (filter, field) in [
            (DatasetFilter::new().with_page_size(0), "page_size"),
            (DatasetFilter::new().with_page_size(21), "page_size"),
            (DatasetFilter::new().with_page_size(101), "page_size"),
            (DatasetFilter::new().with_name(""), "name"),
            (DatasetFilter::new().with_name("a\u{7}b"), "name"),
            (
                DatasetFilter::new().with_name("x".repeat(MAX_TEXT_CHARS + 1)),
                "name",
            ),
        ] {
            let e = c.list_datasets(filter.clone()).unwrap_err();
            assert!(
                matches!(&e, Error::InvalidInput { field: f, .. } if f == field),
                "{filter:?}: {e}"
            );
        }
        assert!(c.find_datasets_named("").is_err());
        assert!(t.seen().is_empty());
    }

    #[test]
    fn filter_defaults() {
        let f = DatasetFilter::new();
        assert_eq!((f.name(), f.page_size(), f.max_items()), (None, 20, 10_000));
        let f = f.with_name("x").with_page_size(5).with_max_items(7);
        assert_eq!((f.name(), f.page_size(), f.max_items()), (Some("x"), 5, 7));
    }

    #[test]
    fn schema_ids_are_checked() {
        assert!(check_schema_id("s", SCHEMA).is_ok());
        for bad in ["", "  ", "a b", "x\u{7}", &"x".repeat(MAX_TEXT_CHARS + 1)] {
            assert!(check_schema_id("s", bad).is_err(), "{bad:?}");
        }
    }
}
