//! The one shape every Flow Service resource shares: get one by id
//! (`{"items": [one]}`), page through a filtered listing, find the first
//! match, delete. A resource module names its collection, its wire form
//! and its filter; the calls are written here once.

use super::input::{check_from_service, check_id};
use super::paging::{Paged, Pages, Query, WirePage};
use super::request::Method;
use super::results::{parse_json, WireItem};
use super::Client;
use crate::error::Error;

/// A Flow Service resource, implemented by its public model type.
pub(crate) trait Resource: From<Self::Wire> + Send + 'static {
    /// What errors call it (`connection`, `source connection`).
    const NAME: &'static str;
    /// Its collection below Flow Service (`connections`).
    const COLLECTION: &'static str;
    /// The input an id of it comes from, for input errors (`connection_id`).
    const ID_FIELD: &'static str;
    /// What a page of its listing is, for answers that are not one.
    const PAGE: &'static str;
    /// Its form on the wire.
    type Wire: WireItem + 'static;
    /// What its listings are filtered by.
    type Filter: Filter<Self>;

    /// `/{collection}/{id}`.
    fn path(id: &str) -> String {
        format!("/{}/{id}", Self::COLLECTION)
    }
}

/// A listing filter: what is sent (`property=`, the page size) and what
/// is checked locally; its item cap comes with `paging_options!`.
pub(crate) trait Filter<R>: Paged + Clone + Send + Sync + 'static {
    /// The listing's first request, or why it cannot be sent.
    fn query(&self) -> Result<Query, Error>;
    /// The local check every listed item passes (a service may ignore
    /// `property=`).
    fn matches(&self, item: &R) -> bool;
    /// What a found item must also be (checked after the local match,
    /// failing instead of skipping). Nothing by default.
    fn check_listed(&self, _item: &R) -> Result<(), Error> {
        Ok(())
    }
}

impl Client {
    /// Reads resource `id`: `GET /{collection}/{id}`.
    pub(crate) fn get_resource<R: Resource>(&self, id: &str) -> Result<R, Error> {
        self.read_one::<R>(id, false).map(R::from)
    }

    /// Reads resource `id` in its wire form to write it with `If-Match`:
    /// the answer must carry an etag (one that is missing or empty is
    /// refused like a bad one).
    pub(crate) fn get_to_write<R: Resource>(&self, id: &str) -> Result<R::Wire, Error> {
        self.read_one::<R>(id, true)
    }

    /// Reads resource `id` in its wire form: `GET /{collection}/{id}`,
    /// answered as `{"items": [one]}`. An empty list is
    /// [`Error::NotFound`]; an item with another id than the one asked for
    /// is an unexpected response. An etag is checked when there is one, or
    /// always if `etag_required`.
    fn read_one<R: Resource>(&self, id: &str, etag_required: bool) -> Result<R::Wire, Error> {
        check_id(R::ID_FIELD, id)?;
        let resource = R::NAME;
        let resp = self
            .request(Method::Get, R::path(id))
            .resource(resource, id)
            .send()?;
        let page: WirePage<R::Wire> = parse_json(&resp, "{\"items\": [one item]}")?;
        let item = page
            .items
            .into_iter()
            .next()
            .ok_or_else(|| Error::NotFound {
                resource,
                id: id.to_owned(),
                request_id: resp.request_id.clone(),
            })?;
        if item.id() != id {
            return Err(Error::unexpected(
                &resp,
                format!(
                    "asked for {resource} {id}, the answer describes another one ({} bytes of id)",
                    item.id().len()
                ),
            ));
        }
        if etag_required || item.etag().is_some() {
            check_from_service(&resp, "an etag", item.etag().unwrap_or(""))?;
        }
        for linked in item.linked_ids() {
            check_from_service(&resp, "a linked id", linked)?;
        }
        Ok(item)
    }

    /// Pages through the resources that match `filter`, lazily.
    pub(crate) fn pages<R: Resource>(&self, filter: R::Filter) -> Pages<R> {
        let query = filter.query();
        let max = filter.item_cap();
        Pages::new::<R::Wire>(self, query, R::PAGE, max, move |item| filter.matches(item))
    }

    /// Every resource that matches `filter`, up to its cap.
    pub(crate) fn list<R: Resource>(&self, filter: R::Filter) -> Result<Vec<R>, Error> {
        self.pages::<R>(filter).collect()
    }

    /// The first resource that matches `filter` (one request when the
    /// first page holds it), put through the filter's `check_listed`.
    pub(crate) fn find<R: Resource>(&self, filter: R::Filter) -> Result<Option<R>, Error> {
        let found = self.pages::<R>(filter.clone()).next().transpose()?;
        if let Some(item) = &found {
            // Its error may quote the item.
            filter.check_listed(item).map_err(|e| self.scrub_error(e))?;
        }
        Ok(found)
    }

    /// Deletes resource `id`: `DELETE /{collection}/{id}`.
    /// [`Error::NotFound`] when there is none, [`Error::InUse`] while
    /// others use it; a 404 on a retry counts as deleted.
    pub(crate) fn delete_resource<R: Resource>(&self, id: &str) -> Result<(), Error> {
        check_id(R::ID_FIELD, id)?;
        self.request(Method::Delete, R::path(id))
            .resource(R::NAME, id)
            .deleted()
    }
}
