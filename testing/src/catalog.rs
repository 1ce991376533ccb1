//! Catalog (`{CATALOG_PATH}/dataSets/{id}` and the listing
//! `{CATALOG_PATH}/dataSets?limit=&start=&orderBy=&properties=&name=`): the
//! datasets a test sets up
//! ([`FakeFlowService::add_dataset`](crate::Sandbox::add_dataset),
//! [`add_profile_dataset`](crate::Sandbox::add_profile_dataset)),
//! and the fields of XDM schemas
//! ([`FakeFlowService::set_schema_fields`](crate::Sandbox::set_schema_fields))
//! that target connections and mapping sets are checked against.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::call::Call;
use crate::config::Expected;
use crate::reply::Reply;
use crate::state::SandboxState;
use crate::store::now_millis;
use crate::wire::percent_decode;

/// The content type Catalog shows in a dataset's `schemaRef`.
const SCHEMA_CONTENT_TYPE: &str = "application/vnd.adobe.xed+json;version=1";

/// A dataset in the fake Catalog.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Dataset {
    pub(crate) name: String,
    /// The `$id` URL of its XDM schema.
    pub(crate) schema_id: String,
    pub(crate) created: i64,
    /// Enabled for Real-Time Customer Profile: tagged
    /// `unifiedProfile: ["enabled:true"]`.
    #[serde(default)]
    pub(crate) profile: bool,
}

/// Datasets by id, and schemas' fields by schema id.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Catalog {
    pub(crate) datasets: BTreeMap<String, Dataset>,
    /// XDM paths (`_tenant.orderId`) by schema id.
    pub(crate) schema_fields: BTreeMap<String, Vec<String>>,
}

impl Catalog {
    /// The dataset with this id.
    pub(crate) fn dataset(&self, id: &str) -> Option<&Dataset> {
        self.datasets.get(id)
    }

    /// Whether the fake knows this schema: its fields were set, or a
    /// dataset follows it.
    pub(crate) fn knows_schema(&self, schema_id: &str) -> bool {
        self.schema_fields.contains_key(schema_id)
            || self.datasets.values().any(|d| d.schema_id == schema_id)
    }

    /// The schema's fields, when a test set them (`None`: any field is
    /// taken).
    pub(crate) fn fields(&self, schema_id: &str) -> Option<&[String]> {
        self.schema_fields.get(schema_id).map(Vec::as_slice)
    }

    /// The dataset as Catalog shows it: an object keyed by its id.
    fn to_json(&self, id: &str, d: &Dataset) -> Value {
        json!({ id: d.members(id) })
    }

    /// `GET /dataSets?...`: one page of the datasets, keyed by id in the
    /// asked order, each with only the asked members.
    fn list(&self, query: &str, request_id: &str) -> Reply {
        let q = match ListQuery::parse(query) {
            Ok(q) => q,
            Err(message) => return catalog_error(400, "CAT-1400-400", &message, request_id),
        };
        let mut found: Vec<(&String, &Dataset)> = self
            .datasets
            .iter()
            .filter(|(_, d)| {
                q.name
                    .as_ref()
                    .is_none_or(|n| simple_filter_matches(n, &d.name))
            })
            .collect();
        if let Some((field, descending)) = &q.order_by {
            // Ties broken by id, so offsets are stable.
            found.sort_by(|(a_id, a), (b_id, b)| {
                let order = match field.as_str() {
                    "created" => a.created.cmp(&b.created),
                    // `updated` equals `created` here: nothing updates a dataset.
                    "updated" => a.created.cmp(&b.created),
                    "name" => a.name.cmp(&b.name),
                    _ => a_id.cmp(b_id),
                };
                let order = order.then_with(|| a_id.cmp(b_id));
                if *descending {
                    order.reverse()
                } else {
                    order
                }
            });
        }
        // Built by hand: a `Map` would sort the keys by id.
        let mut body = String::from("{");
        for (i, (id, d)) in found.into_iter().skip(q.start).take(q.limit).enumerate() {
            if i > 0 {
                body.push(',');
            }
            let mut members = d.members(id);
            if let (Some(keep), Some(object)) = (&q.properties, members.as_object_mut()) {
                object.retain(|k, _| keep.iter().any(|p| p == k));
            }
            body.push_str(&format!("{}:{members}", Value::from(id.as_str())));
        }
        body.push('}');
        Reply::json(200, body)
    }
}

/// Catalog's simple filter `name={VALUE}` as Adobe's guide "Filter Catalog
/// data using query parameters" describes it: a comma-separated list of
/// values, any of which matches; a leading `!` inverts the list; `*` in a
/// value is a wildcard that also matches nothing (`te*st` finds `test`),
/// and `**` is a literal asterisk. A name holding `,` or `*`, or starting
/// with `!`, is thus not found by sending it as it is.
fn simple_filter_matches(filter: &str, name: &str) -> bool {
    let (negate, list) = match filter.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, filter),
    };
    list.split(',').any(|value| wildcard_matches(value, name)) != negate
}

/// `pattern` (`*` any run of characters, `**` one literal `*`) against
/// the whole of `text`.
fn wildcard_matches(pattern: &str, text: &str) -> bool {
    // Tokens: Some(c) a literal character, None a wildcard.
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('*', Some('*')) => {
                chars.next();
                tokens.push(Some('*'));
            }
            ('*', _) => tokens.push(None),
            (c, _) => tokens.push(Some(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // matches[j]: the tokens so far match text[..j].
    let mut matches = vec![false; text.len() + 1];
    matches[0] = true;
    for token in tokens {
        let mut next = vec![false; text.len() + 1];
        for j in 0..=text.len() {
            next[j] = match token {
                None => matches[j] || (j > 0 && next[j - 1]),
                Some(c) => j > 0 && matches[j - 1] && text[j - 1] == c,
            };
        }
        matches = next;
    }
    matches[text.len()]
}

/// What a listing asks for.
struct ListQuery {
    limit: usize,
    start: usize,
    /// The member to sort by, and whether descending.
    order_by: Option<(String, bool)>,
    /// Top-level members to answer (all when `None`).
    properties: Option<Vec<String>>,
    name: Option<String>,
}

/// Catalog's default page size, and its largest for service tokens (the
/// OAuth Server-to-Server tokens clients of this fake use): Adobe's guide
/// "Filter Catalog data using query parameters" says 20, and a `limit` out
/// of range is a 400 (the reference spec's 100 is the global limit).
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 20;

impl ListQuery {
    /// Reads `limit` (1–20, default 20), `start` (default 0), `orderBy`
    /// (`created`, `asc:created`, `desc:created` or `-created`; also
    /// `updated`, `name`, `id`), `properties` and `name`; other parameters
    /// are ignored. Refusals say what is wrong, as Catalog's 400s do.
    fn parse(query: &str) -> Result<ListQuery, String> {
        let mut q = ListQuery {
            limit: DEFAULT_LIMIT,
            start: 0,
            order_by: None,
            properties: None,
            name: None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v);
            match k {
                "limit" => {
                    q.limit = match v.parse::<usize>() {
                        Ok(n @ 1..=MAX_LIMIT) => n,
                        Ok(n) if n > MAX_LIMIT => {
                            return Err(format!("limit {n} is above the maximum of {MAX_LIMIT}"))
                        }
                        _ => return Err(format!("limit must be a positive integer, not {v:?}")),
                    }
                }
                "start" => {
                    q.start = v
                        .parse()
                        .map_err(|_| format!("start must be a non-negative integer, not {v:?}"))?
                }
                "orderBy" => {
                    let (descending, field) = if let Some(f) = v.strip_prefix("desc:") {
                        (true, f)
                    } else if let Some(f) = v.strip_prefix("asc:") {
                        (false, f)
                    } else if let Some(f) = v.strip_prefix('-') {
                        (true, f)
                    } else {
                        (false, v.as_str())
                    };
                    // The first key decides; ties go by id.
                    let field = field.split(',').next().unwrap_or_default();
                    if !["created", "updated", "name", "id"].contains(&field) {
                        return Err(format!("cannot order by {field:?}"));
                    }
                    q.order_by = Some((field.to_owned(), descending));
                }
                "properties" => {
                    q.properties = Some(v.split(',').map(|p| p.trim().to_owned()).collect())
                }
                "name" => q.name = Some(v),
                _ => {}
            }
        }
        Ok(q)
    }
}

impl Dataset {
    pub(crate) fn new(name: &str, schema_id: &str) -> Self {
        Dataset {
            name: name.to_owned(),
            schema_id: schema_id.to_owned(),
            created: now_millis(),
            profile: false,
        }
    }

    /// Its members as Catalog shows them.
    fn members(&self, id: &str) -> Value {
        let tags = if self.profile {
            json!({"unifiedProfile": ["enabled:true"]})
        } else {
            json!({})
        };
        json!({
            "name": self.name,
            "description": "",
            "imsOrg": crate::wire::DEMO_ORG_ID,
            "sandboxId": "00000000-0000-0000-0000-000000000000",
            "tags": tags,
            "version": "1.0.0",
            "created": self.created,
            "updated": self.created,
            "createdClient": "fake",
            "createdUser": "fake@AdobeID",
            "schemaRef": {"id": self.schema_id, "contentType": SCHEMA_CONTENT_TYPE},
            "files": format!("@/dataSetFiles?dataSetId={id}"),
        })
    }
}

/// Catalog's error envelope (the Platform one, with a `CAT-` code).
pub(crate) fn catalog_error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "type": format!("http://ns.adobe.com/aep/errors/{code}"),
            "title": crate::wire::reason_phrase(status),
            "status": status,
            "report": {"detailed-message": message, "request-id": request_id},
        })
        .to_string(),
    )
}

/// Everything under `/dataSets`: the listing and a read by id.
pub(crate) fn handle(call: &Call<'_>, state: &mut SandboxState, _expected: &Expected) -> Reply {
    let request_id = call.request_id;
    match (call.req.method.as_str(), call.rest) {
        ("GET", []) => state.catalog.list(call.query, request_id),
        ("GET", [id]) => match state.catalog.dataset(id) {
            Some(d) => Reply::json(200, state.catalog.to_json(id, d).to_string()),
            None => catalog_error(
                404,
                "CAT-1403-404",
                &format!("Dataset with id {id} not found"),
                request_id,
            ),
        },
        _ => catalog_error(405, "CAT-1405-405", "Method not allowed", request_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_filters_are_lists_with_wildcards() {
        for (filter, name, hit) in [
            ("Orders", "Orders", true),
            ("Orders", "orders", false),
            ("Orders, EU", "Orders, EU", false),
            ("Orders, EU", "Orders", true),
            ("Orders, EU", " EU", true),
            // Every name but `Orders`: `!Orders` too, among all others.
            ("!Orders", "!Orders", true),
            ("!Orders", "Orders", false),
            ("!Orders", "Customers", true),
            ("te*st", "test", true),
            ("te*st", "te*st", true),
            ("te*st", "teXYst", true),
            ("te**st", "te*st", true),
            ("te**st", "teXst", false),
            ("*", "", true),
            ("ü*", "über", true),
        ] {
            assert_eq!(simple_filter_matches(filter, name), hit, "{filter} {name}");
        }
    }
}
