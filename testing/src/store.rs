//! The fake's state model: a [`Store`] of objects of one resource type
//! (connections today; source and target connections, flows, runs and
//! mapping sets can each get one), with what Flow Service keeps for every
//! object: an id, an etag that changes on every write, and creation and
//! update times. Listing follows Flow Service: `property=field==value`
//! filters on the object's JSON view (ANDed), `limit`, and paging through
//! `continuationToken` and `_links.next.href`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::wire::percent_decode;

/// Page size of a listing without `limit`.
const DEFAULT_PAGE_SIZE: usize = 10;
/// Prefix of the continuation tokens the fake hands out.
const TOKEN_PREFIX: &str = "fake-offset-";

/// Serial numbers for ids and etags, shared by every store of a fake so
/// that ids are unique across resources.
#[derive(Clone, Debug, Default)]
pub(crate) struct Serial(Arc<AtomicU64>);

impl Serial {
    /// The next number (the first is 1).
    pub(crate) fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The last number handed out (0 before the first).
    pub(crate) fn current(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Makes the next number at least `n + 1` (after a restore, so that
    /// new ids never repeat restored ones).
    pub(crate) fn advance_to(&self, n: u64) {
        self.0.fetch_max(n, Ordering::Relaxed);
    }
}

/// The id the fake gives the object made with serial number `n`.
pub(crate) fn id_for(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// An etag with serial number `n`, quoted as Flow Service sends them.
pub(crate) fn etag_for(n: u64) -> String {
    format!("\"{n:08x}-0000-0200-0000-000000000000\"")
}

/// Now, epoch milliseconds.
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What the store keeps about every object, whatever its type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meta {
    /// The object's id.
    pub(crate) id: String,
    /// Its etag, with the quotes; new on every write.
    pub(crate) etag: String,
    /// Creation time, epoch milliseconds.
    pub(crate) created_at: i64,
    /// Last write, epoch milliseconds; moves forward on every write.
    pub(crate) updated_at: i64,
}

/// One stored object.
#[derive(Clone, Debug)]
pub(crate) struct Entry<T> {
    /// Id, etag and times.
    pub(crate) meta: Meta,
    /// The resource's own fields.
    pub(crate) value: T,
}

/// A resource type the store can list: how its objects look in JSON (the
/// service's answer, and what `property=` filters look at).
pub(crate) trait Resource {
    /// The object as the service shows it.
    fn to_json(&self, meta: &Meta) -> Value;
}

impl<T: Resource> Entry<T> {
    /// The object as the service shows it.
    pub(crate) fn to_json(&self) -> Value {
        self.value.to_json(&self.meta)
    }
}

/// Objects of one resource type, in creation order.
#[derive(Debug)]
pub(crate) struct Store<T> {
    serial: Serial,
    entries: Vec<Entry<T>>,
    /// Top-level fields a listing leaves out of its items (the filters
    /// still see them): a service that matched an item but does not show
    /// the field a client checks.
    pub(crate) listing_omits: Vec<String>,
}

impl<T> Store<T> {
    /// An empty store drawing ids and etags from `serial`.
    pub(crate) fn new(serial: Serial) -> Self {
        Store {
            serial,
            entries: Vec::new(),
            listing_omits: Vec::new(),
        }
    }

    /// Takes the next serial number (for ids made by the caller).
    pub(crate) fn next_serial(&self) -> u64 {
        self.serial.next()
    }

    /// Stores `value` under a new id, with a new etag.
    pub(crate) fn insert(&mut self, value: T) -> &Entry<T> {
        let id = id_for(self.next_serial());
        let etag = etag_for(self.next_serial());
        self.insert_as(id, etag, value)
    }

    /// Stores `value` with this id and etag (a fixture's, say).
    pub(crate) fn insert_as(&mut self, id: String, etag: String, value: T) -> &Entry<T> {
        let now = now_millis();
        self.entries.push(Entry {
            meta: Meta {
                id,
                etag,
                created_at: now,
                updated_at: now,
            },
            value,
        });
        &self.entries[self.entries.len() - 1]
    }

    /// The object with this id.
    pub(crate) fn get(&self, id: &str) -> Option<&Entry<T>> {
        self.entries.iter().find(|e| e.meta.id == id)
    }

    /// The object with this id, to change behind the API's back: no new
    /// etag, no new update time (tests set up odd states this way).
    pub(crate) fn get_mut_unversioned(&mut self, id: &str) -> Option<&mut Entry<T>> {
        self.entries.iter_mut().find(|e| e.meta.id == id)
    }

    /// Changes the object with this id: it gets a new etag and its update
    /// time moves forward (by at least a millisecond).
    pub(crate) fn update(&mut self, id: &str, change: impl FnOnce(&mut T)) -> Option<&Entry<T>> {
        let index = self.entries.iter().position(|e| e.meta.id == id)?;
        let etag = etag_for(self.next_serial());
        let entry = &mut self.entries[index];
        change(&mut entry.value);
        entry.meta.etag = etag;
        entry.meta.updated_at = now_millis().max(entry.meta.updated_at.saturating_add(1));
        Some(entry)
    }

    /// Removes the object with this id.
    pub(crate) fn delete(&mut self, id: &str) -> Option<Entry<T>> {
        let index = self.entries.iter().position(|e| e.meta.id == id)?;
        Some(self.entries.remove(index))
    }

    /// Every object, in creation order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry<T>> {
        self.entries.iter()
    }

    /// Every object as `[{"meta": .., "value": view(value)}, ...]`, for a
    /// export (`view` leaves out what must not be written down).
    pub(crate) fn snapshot<U: Serialize>(&self, view: impl Fn(&T) -> U) -> Value {
        Value::Array(
            self.entries
                .iter()
                .map(|e| json!({"meta": e.meta, "value": view(&e.value)}))
                .collect(),
        )
    }

    /// Replaces every object with those of a [`snapshot`](Self::snapshot);
    /// the serial moves past every restored number.
    pub(crate) fn restore(&mut self, snapshot: &Value) -> Result<(), String>
    where
        T: DeserializeOwned,
    {
        #[derive(Deserialize)]
        #[serde(bound = "T: DeserializeOwned")]
        struct Saved<T> {
            meta: Meta,
            value: T,
        }
        let saved: Vec<Saved<T>> =
            serde_json::from_value(snapshot.clone()).map_err(|e| e.to_string())?;
        self.entries = saved
            .into_iter()
            .map(|s| Entry {
                meta: s.meta,
                value: s.value,
            })
            .collect();
        Ok(())
    }
}

impl<T: Resource> Store<T> {
    /// One page of a listing, as the service's JSON body:
    /// `{"items": [...]}`, plus `_links.next.href` when more match.
    pub(crate) fn list(&self, query: &ListQuery, options: &ListOptions<'_>) -> Value {
        let page_size = query
            .limit
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .min(options.max_page_size.unwrap_or(usize::MAX));
        let matching: Vec<Value> = self
            .entries
            .iter()
            .map(Entry::to_json)
            .filter(|view| options.ignore_filters || query.matches(view))
            .collect();
        let next_offset = query.offset.saturating_add(page_size);
        let more = next_offset < matching.len();
        let page: Vec<Value> = matching
            .into_iter()
            .skip(query.offset)
            .take(page_size)
            .map(|mut item| {
                if let Value::Object(fields) = &mut item {
                    for omitted in &self.listing_omits {
                        fields.remove(omitted);
                    }
                }
                item
            })
            .collect();
        let mut body = json!({"items": page});
        if more {
            // Like Flow Service: the next link repeats the query with a token.
            let mut next = format!("{}?", options.collection);
            for pair in query
                .raw
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("continuationToken="))
            {
                next.push_str(pair);
                next.push('&');
            }
            next.push_str(&format!("continuationToken={TOKEN_PREFIX}{next_offset}"));
            body["_links"] = json!({"next": {"href": next}});
        }
        body
    }
}

/// How a resource's listing behaves.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListOptions<'a> {
    /// The collection's path under the base path, e.g. `/connections`
    /// (the start of `_links.next.href`).
    pub(crate) collection: &'a str,
    /// Largest page, whatever `limit` asks.
    pub(crate) max_page_size: Option<usize>,
    /// Every object matches, whatever the `property=` filters.
    pub(crate) ignore_filters: bool,
}

/// A listing's query: `limit=N&property=a.b==X&property=c==Y&continuationToken=T`.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListQuery {
    limit: Option<usize>,
    offset: usize,
    filters: Vec<(String, String)>,
    /// The query as received, for the next link.
    raw: String,
}

impl ListQuery {
    /// Parses a query string (without the `?`); unknown parameters are
    /// ignored. The error is the service's message for a bad parameter.
    pub(crate) fn parse(query: &str) -> Result<ListQuery, &'static str> {
        let mut out = ListQuery {
            raw: query.to_owned(),
            ..ListQuery::default()
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v);
            match k {
                "limit" => match v.parse::<usize>() {
                    Ok(n) if n > 0 => out.limit = Some(n),
                    _ => return Err("limit must be a positive number"),
                },
                "continuationToken" => {
                    match v.strip_prefix(TOKEN_PREFIX).and_then(|n| n.parse().ok()) {
                        Some(n) => out.offset = n,
                        None => return Err("Invalid continuationToken"),
                    }
                }
                // A comma-separated list of conditions (flow-service.yaml:
                // "A comma-separated list of top-level object properties").
                "property" => {
                    for condition in v.split(',') {
                        match condition.split_once("==") {
                            Some((name, value)) => {
                                out.filters.push((name.to_owned(), value.to_owned()))
                            }
                            None => return Err("Unsupported property filter"),
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Whether an object's JSON view passes every `property` filter: the
    /// field (a dotted path, e.g. `connectionSpec.id`) is a string equal to
    /// the value, or a number or boolean written as it.
    fn matches(&self, view: &Value) -> bool {
        self.filters.iter().all(|(path, want)| {
            // Adobe's filter grammar quotes values with `"`: a value holding
            // one is not compared as written, so (like the service may) it
            // matches nothing.
            if want.contains('"') {
                return false;
            }
            // `field[]==value`: an array field holding the value.
            if let Some(array) = path.strip_suffix("[]") {
                return match array.split('.').try_fold(view, |v, key| v.get(key)) {
                    Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(want)),
                    _ => false,
                };
            }
            match path.split('.').try_fold(view, |v, key| v.get(key)) {
                Some(Value::String(s)) => s == want,
                Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                    serde_json::from_str::<Value>(want).is_ok_and(|w| w == *v)
                }
                _ => false,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[derive(Clone, Debug)]
    struct Thing {
        name: String,
        kind: &'static str,
        size: u32,
    }

    impl Resource for Thing {
        fn to_json(&self, meta: &Meta) -> Value {
            json!({
                "id": meta.id,
                "etag": meta.etag,
                "name": self.name,
                "spec": {"kind": self.kind, "size": self.size},
            })
        }
    }

    struct Tagged(Vec<&'static str>);

    impl Resource for Tagged {
        fn to_json(&self, meta: &Meta) -> Value {
            json!({"id": meta.id, "tags": self.0})
        }
    }

    fn thing(name: &str, kind: &'static str, size: u32) -> Thing {
        Thing {
            name: name.to_owned(),
            kind,
            size,
        }
    }

    fn store_of(n: u32) -> Store<Thing> {
        let mut store = Store::new(Serial::default());
        for i in 0..n {
            let kind = if i % 2 == 0 { "even" } else { "odd" };
            store.insert(thing(&format!("t{i}"), kind, i));
        }
        store
    }

    const ALL: ListOptions<'static> = ListOptions {
        collection: "/things",
        max_page_size: None,
        ignore_filters: false,
    };

    fn names(body: &Value) -> Vec<&str> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect()
    }

    fn next_query(body: &Value) -> Option<String> {
        let href = body["_links"]["next"]["href"].as_str()?;
        Some(href.strip_prefix("/things?").unwrap().to_owned())
    }

    fn list(store: &Store<Thing>, query: &str, options: &ListOptions<'_>) -> Value {
        store.list(&ListQuery::parse(query).unwrap(), options)
    }

    #[test]
    fn ids_and_etags_are_unique_even_across_stores() {
        let serial = Serial::default();
        let mut a = Store::new(serial.clone());
        let mut b = Store::new(serial);
        let mut ids = HashSet::new();
        let mut etags = HashSet::new();
        for i in 0..20 {
            let store = if i % 2 == 0 { &mut a } else { &mut b };
            let e = store.insert(thing("x", "even", 0));
            assert!(ids.insert(e.meta.id.clone()), "{}", e.meta.id);
            assert!(etags.insert(e.meta.etag.clone()), "{}", e.meta.etag);
        }
        assert_eq!(a.iter().count() + b.iter().count(), 20);
    }

    #[test]
    fn etags_are_quoted() {
        let mut store = store_of(0);
        let etag = store.insert(thing("x", "even", 0)).meta.etag.clone();
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2);
    }

    #[test]
    fn get_finds_by_id() {
        let mut store = store_of(3);
        let id = store.insert(thing("found", "odd", 9)).meta.id.clone();
        assert_eq!(store.get(&id).unwrap().value.name, "found");
        assert!(store.get("no-such-id").is_none());
    }

    #[test]
    fn every_update_changes_the_etag_and_moves_updated_at() {
        let mut store = store_of(0);
        let first = store.insert(thing("x", "even", 0)).meta.clone();
        assert_eq!(first.created_at, first.updated_at);
        let mut etags = HashSet::from([first.etag.clone()]);
        let mut last = first.clone();
        for size in 1..=5 {
            let now = store
                .update(&first.id, |t| t.size = size)
                .unwrap()
                .meta
                .clone();
            assert_eq!(now.id, first.id);
            assert_eq!(now.created_at, first.created_at);
            assert!(etags.insert(now.etag.clone()), "etag reused: {}", now.etag);
            assert!(now.updated_at > last.updated_at);
            last = now;
        }
        assert_eq!(store.get(&first.id).unwrap().value.size, 5);
        assert!(store.update("no-such-id", |t| t.size = 0).is_none());
    }

    #[test]
    fn unversioned_changes_keep_the_etag() {
        let mut store = store_of(0);
        let meta = store.insert(thing("x", "even", 0)).meta.clone();
        store.get_mut_unversioned(&meta.id).unwrap().value.size = 7;
        let entry = store.get(&meta.id).unwrap();
        assert_eq!(entry.meta, meta);
        assert_eq!(entry.value.size, 7);
    }

    #[test]
    fn delete_removes_and_keeps_the_order() {
        let mut store = store_of(4);
        let id = store.iter().nth(1).unwrap().meta.id.clone();
        assert_eq!(store.delete(&id).unwrap().value.name, "t1");
        assert!(store.get(&id).is_none());
        assert!(store.delete(&id).is_none());
        assert_eq!(names(&list(&store, "", &ALL)), ["t0", "t2", "t3"]);
    }

    #[test]
    fn filters_look_at_the_json_view_and_are_anded() {
        let store = store_of(6);
        let q = "property=spec.kind%3D%3Dodd";
        assert_eq!(names(&list(&store, q, &ALL)), ["t1", "t3", "t5"]);
        let q = "property=spec.kind==odd&property=name==t3";
        assert_eq!(names(&list(&store, q, &ALL)), ["t3"]);
        let q = "property=spec.kind==even&property=name==t3";
        assert!(names(&list(&store, q, &ALL)).is_empty());
        // Numbers compare as written; unknown fields and objects match nothing.
        assert_eq!(names(&list(&store, "property=spec.size==4", &ALL)), ["t4"]);
        assert!(names(&list(&store, "property=nope==x", &ALL)).is_empty());
        assert!(names(&list(&store, "property=spec==x", &ALL)).is_empty());
        // A quoted value is the grammar's, not a literal: it matches nothing.
        assert!(names(&list(&store, "property=name==%22t3%22", &ALL)).is_empty());
        // `property` is a comma-separated list (flow-service.yaml): a value
        // holding a comma is two filters, not one value.
        let q = "property=spec.kind%3D%3Dodd%2Cname%3D%3Dt3";
        assert_eq!(names(&list(&store, q, &ALL)), ["t3"]);
        let q = "property=name%3D%3Dt3%2Ct5";
        assert_eq!(
            ListQuery::parse(q).unwrap_err(),
            "Unsupported property filter"
        );
        // `field[]==value` looks inside an array field.
        let mut tagged = Store::new(Serial::default());
        tagged.insert(Tagged(vec!["a", "b"]));
        tagged.insert(Tagged(vec!["c"]));
        let q = "property=tags%5B%5D%3D%3Db";
        assert_eq!(
            tagged.list(&ListQuery::parse(q).unwrap(), &ALL)["items"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let q = "property=tags[]==z";
        assert!(tagged.list(&ListQuery::parse(q).unwrap(), &ALL)["items"]
            .as_array()
            .unwrap()
            .is_empty());
        assert!(
            tagged.list(&ListQuery::parse("property=tags==a").unwrap(), &ALL)["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // Unless filters are ignored.
        let ignore = ListOptions {
            ignore_filters: true,
            ..ALL
        };
        assert_eq!(names(&list(&store, "property=name==t3", &ignore)).len(), 6);
    }

    #[test]
    fn pages_follow_continuation_tokens() {
        let store = store_of(7);
        let mut query = String::from("limit=3&x=1");
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let body = list(&store, &query, &ALL);
            pages += 1;
            seen.extend(names(&body).into_iter().map(str::to_owned));
            match next_query(&body) {
                Some(next) => {
                    // The next link repeats the query, with one token.
                    assert!(next.starts_with("limit=3&x=1&continuationToken=fake-offset-"));
                    assert_eq!(next.matches("continuationToken").count(), 1);
                    query = next;
                }
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, ["t0", "t1", "t2", "t3", "t4", "t5", "t6"]);
    }

    #[test]
    fn paging_applies_after_filtering_and_the_page_cap() {
        let store = store_of(9);
        let capped = ListOptions {
            max_page_size: Some(2),
            ..ALL
        };
        let body = list(&store, "limit=50&property=spec.kind==even", &capped);
        assert_eq!(names(&body), ["t0", "t2"]);
        let body = list(&store, &next_query(&body).unwrap(), &capped);
        assert_eq!(names(&body), ["t4", "t6"]);
        let body = list(&store, &next_query(&body).unwrap(), &capped);
        assert_eq!(names(&body), ["t8"]);
        assert!(next_query(&body).is_none());
        // Without limit, pages hold ten.
        let big = store_of(11);
        let body = list(&big, "", &ALL);
        assert_eq!(names(&body).len(), 10);
        assert_eq!(
            next_query(&body).unwrap(),
            "continuationToken=fake-offset-10"
        );
        // A token past the end, even the largest, gives an empty last page.
        let body = list(&big, "continuationToken=fake-offset-11", &ALL);
        assert!(names(&body).is_empty());
        assert!(next_query(&body).is_none());
        let body = list(
            &big,
            &format!("continuationToken=fake-offset-{}", usize::MAX),
            &ALL,
        );
        assert!(names(&body).is_empty());
        assert!(next_query(&body).is_none());
    }

    #[test]
    fn bad_parameters_are_refused() {
        for (query, message) in [
            ("limit=0", "limit must be a positive number"),
            ("limit=ten", "limit must be a positive number"),
            ("continuationToken=abc", "Invalid continuationToken"),
            ("property=name", "Unsupported property filter"),
        ] {
            assert_eq!(ListQuery::parse(query).unwrap_err(), message, "{query}");
        }
        assert!(ListQuery::parse("unknown=1&&limit=2").is_ok());
    }
}
