//! Listings: a [`Query`] with its `property=` filters, and the lazy
//! [`Pages`] that follows the service's next-page links, confined to the
//! collection and bounded against services that loop.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::input::check_from_service;
use super::request::Method;
use super::results::{parse_json, WireItem};
use super::Client;
use crate::error::{named_enum, Error, Service};
use crate::wire::encode::{encode_into_string, Style};
use crate::wire::response::RawResponse;
use crate::wire::text::one_line;

#[derive(Deserialize)]
#[serde(bound = "W: DeserializeOwned")]
pub(crate) struct WirePage<W> {
    #[serde(default = "Vec::new")]
    pub(crate) items: Vec<W>,
    #[serde(default, rename = "_links")]
    links: Option<WireLinks>,
    #[serde(default, rename = "_page")]
    page: Option<WirePageInfo>,
}

impl<W> WirePage<W> {
    /// A page of `items` without a next-page link or token (offset paging
    /// finds the next page by itself: [`Query::by_offset`]).
    pub(crate) fn of(items: Vec<W>) -> Self {
        WirePage {
            items,
            links: None,
            page: None,
        }
    }
}

#[derive(Deserialize)]
struct WireLinks {
    next: Option<WireHref>,
}

#[derive(Deserialize)]
struct WireHref {
    href: Option<String>,
}

#[derive(Deserialize)]
struct WirePageInfo {
    #[serde(default, rename = "continuationToken")]
    continuation_token: Option<String>,
    next: Option<String>,
}

/// The paging setters and getters every listing filter has, over its
/// `page_size: u32` and `max_items: usize` fields: one text for all of
/// them. `$cap` documents the item cap.
macro_rules! paging_options {
    ($filter:ty, $cap:literal) => {
        impl $filter {
            /// Items per page (`limit`, 1–1000). Defaults to 50.
            pub fn with_page_size(mut self, size: u32) -> Self {
                self.page_size = size;
                self
            }

            #[doc = $cap]
            pub fn with_max_items(mut self, cap: usize) -> Self {
                self.max_items = cap;
                self
            }

            /// Items per page.
            pub fn page_size(&self) -> u32 {
                self.page_size
            }

            /// The item cap.
            pub fn max_items(&self) -> usize {
                self.max_items
            }
        }

        impl $crate::client::paging::Paged for $filter {
            fn item_cap(&self) -> usize {
                self.max_items
            }
        }
    };
}

/// What every listing filter has (written by `paging_options!`).
pub(crate) trait Paged {
    /// Items returned at most.
    fn item_cap(&self) -> usize;
}
pub(crate) use paging_options;

/// Characters that `property=field==value` filters cannot carry exactly:
/// Adobe calls `property` a comma-separated list, `=`, `!`, `<`, `>`, `~`
/// are its operators, and `"` (with `'` and `\` as the usual companions)
/// quotes values (`public."Orders"`, a mixed-case PostgreSQL table, would
/// match nothing). A value holding one is matched locally only.
pub(crate) fn filter_can_carry(value: &str) -> bool {
    !value.is_empty()
        && value == value.trim()
        && !value.contains([',', '=', '!', '<', '>', '~', '*', '"', '\'', '\\'])
        && !value.chars().any(char::is_control)
}

/// A listing request: the collection, a page size and `property=` filters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    collection: &'static str,
    limit: u32,
    params: String,
    /// Who answers (Flow Service when `None`).
    service: Option<Service>,
    /// Offset paging (`start=`, for services without next-page links:
    /// Catalog): the offset of the page to ask for.
    start: Option<usize>,
    /// Offset paging: the longest page read so far (a service that
    /// ignores `limit` pages by a size of its own).
    widest: usize,
}

impl Query {
    /// A listing of `collection` with pages of `page_size` (`limit`,
    /// 1–1000: refused before anything is sent otherwise).
    pub(crate) fn new(collection: &'static str, page_size: u32) -> Result<Self, Error> {
        if !(1..=1000).contains(&page_size) {
            return Err(Error::invalid_input(
                "page_size",
                "must be between 1 and 1000",
            ));
        }
        Ok(Query {
            collection,
            limit: page_size,
            params: String::new(),
            service: None,
            start: None,
            widest: 0,
        })
    }

    /// The same listing, asked of `service`.
    pub(crate) fn of_service(mut self, service: Service) -> Self {
        self.service = Some(service);
        self
    }

    /// The same listing, paged by offset (`start=0`, then `start=` the
    /// items read so far while a page comes back full): a page shorter
    /// than `limit` ends it. A longer one does not: a service that
    /// ignores `limit` may page by a size of its own (Catalog's default
    /// is 50), so the listing goes on while pages are as long as the
    /// longest so far, and one request more (empty, or shorter) ends it.
    pub(crate) fn by_offset(mut self) -> Self {
        self.start = Some(0);
        self
    }

    /// Adds `property={field}=={value}` when the filter syntax can carry
    /// the value; otherwise the caller's local match does the filtering.
    pub(crate) fn property(self, field: &str, value: &str) -> Self {
        if filter_can_carry(value) {
            // `==` is encoded as `%3D%3D`, like the field and the value.
            return self.param("property", &format!("{field}=={value}"));
        }
        self
    }

    /// Adds a raw query parameter (`name=value`, value encoded).
    pub(crate) fn param(mut self, name: &str, value: &str) -> Self {
        self.params.push('&');
        self.params.push_str(name);
        self.params.push('=');
        encode_into_string(&mut self.params, value, Style::Query);
        self
    }

    pub(crate) fn first_path(&self) -> String {
        let start = self
            .start
            .map(|s| format!("&start={s}"))
            .unwrap_or_default();
        format!(
            "/{}?limit={}{start}{}",
            self.collection, self.limit, self.params
        )
    }
}

/// Consecutive pages that hold no item at all (none on the wire, not just
/// none that matched) before the listing is refused: a service that hands
/// out empty pages forever cannot keep a caller here. Pages whose items
/// all fail the local check are not empty: a service that ignores
/// `property=` sends many of those in a finite listing.
const MAX_EMPTY_PAGES: usize = 100;
/// Items read from the service (matching or not) before a listing is
/// stopped, whatever its own item cap: bounds a service that ignores the
/// filters and never ends, with fresh items on every page.
pub(crate) const MAX_ITEMS_READ: usize = 100_000;
/// Longest next-page link followed.
const MAX_LINK_LEN: usize = 8 * 1024;

/// How a listing ended, once it has: [`Pages::end`]. Named (`as_str`,
/// `Display`, `FromStr`, ignoring case) `complete` and `capped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListingEnd {
    /// The service said there was no further page: every item was read.
    Complete,
    /// The listing's item cap was reached with more left to read: what
    /// was returned is the first part, in the service's order.
    Capped,
}

named_enum! {
    /// Its name: `complete` or `capped`.
    ListingEnd, str::eq_ignore_ascii_case, "must be `complete` or `capped`";
    Complete => "complete";
    Capped => "capped";
}

/// Pages through a listing lazily, one item at a time, following the
/// service's next-page links (`_links.next.href` or a
/// `continuationToken`), or, for Catalog, by offset (`start=`) while pages
/// come back full. Each item is a `Result`: a failed page ends the
/// iteration with its error. It stops when there is no next page or at the
/// listing's item cap; a page seen before (a loop) or a link outside the
/// collection is an [`Error::UnexpectedResponse`].
#[must_use = "a listing is lazy: it sends nothing until it is iterated"]
pub struct Pages<T> {
    // A page with a next link that brings only items already read or an
    // item first read more than a page before (a loop) is also refused.
    // Items that do not pass the local `keep` check are skipped; an item
    // read twice is returned once.
    client: Client,
    query: Query,
    what: &'static str,
    keep: Box<dyn Fn(&T) -> bool + Send + Sync>,
    /// Reads a page of the resource's wire form into `(id, item)` pairs.
    read: ReadPage<T>,
    next_path: Option<String>,
    seen_paths: HashSet<String>,
    /// Ids of every item read so far (kept or not), with the page each
    /// was first read on.
    seen_ids: HashMap<String, usize>,
    /// Items read from the service, kept or not.
    read_items: usize,
    buffered: std::vec::IntoIter<T>,
    yielded: usize,
    max_items: usize,
    pages: usize,
    empty_pages: usize,
    failed: bool,
    /// An error to return before anything else (a bad filter).
    pending: Option<Error>,
    /// An error to return once the buffered items are out (a loop found
    /// after a page was read).
    after_buffered: Option<Error>,
    /// A check every returned item passes, or ends the listing: see
    /// [`Pages::checked`].
    check: Option<ItemCheck<T>>,
}

/// The check of [`Pages::checked`].
type ItemCheck<T> = Box<dyn Fn(&T) -> Result<(), Error> + Send>;

pub(crate) type ReadPage<T> =
    fn(&RawResponse, &'static str) -> Result<WirePage<(String, T)>, Error>;

/// A page of `W`s, each item's id and etag checked, as `(id, item)` pairs.
fn read_page<W: WireItem, T: From<W>>(
    resp: &RawResponse,
    what: &'static str,
) -> Result<WirePage<(String, T)>, Error> {
    let WirePage::<W> { items, links, page } = parse_json(resp, what)?;
    let items = items
        .into_iter()
        .map(|item| {
            check_from_service(resp, "an item id", item.id())?;
            if let Some(etag) = item.etag() {
                check_from_service(resp, "an etag", etag)?;
            }
            for linked in item.linked_ids() {
                check_from_service(resp, "a linked id", linked)?;
            }
            Ok((item.id().to_owned(), T::from(item)))
        })
        .collect::<Result<_, Error>>()?;
    Ok(WirePage { items, links, page })
}

impl<T: Send + 'static> Pages<T> {
    /// A listing of `W`s read as `T`s, or of nothing but `query`'s error.
    pub(crate) fn new<W: WireItem>(
        client: &Client,
        query: Result<Query, Error>,
        what: &'static str,
        max_items: usize,
        keep: impl Fn(&T) -> bool + Send + Sync + 'static,
    ) -> Self
    where
        T: From<W>,
    {
        Self::read_by(client, query, what, max_items, keep, read_page::<W, T>)
    }

    /// A listing whose pages `read` reads (a service that does not answer
    /// `{"items": [...]}`: Catalog's object keyed by id).
    pub(crate) fn read_by(
        client: &Client,
        query: Result<Query, Error>,
        what: &'static str,
        max_items: usize,
        keep: impl Fn(&T) -> bool + Send + Sync + 'static,
        read: ReadPage<T>,
    ) -> Self {
        let (query, pending) = match query {
            Ok(q) => (q, None),
            // Never sent: there is no first page.
            Err(e) => (Query::default(), Some(e)),
        };
        Pages {
            client: client.clone(),
            next_path: pending.is_none().then(|| query.first_path()),
            query,
            what,
            keep: Box::new(keep),
            read,
            seen_paths: HashSet::new(),
            seen_ids: HashMap::new(),
            read_items: 0,
            buffered: Vec::new().into_iter(),
            yielded: 0,
            max_items,
            pages: 0,
            empty_pages: 0,
            failed: false,
            pending,
            after_buffered: None,
            check: None,
        }
    }

    /// The same listing, each item also put through `check`: an item that
    /// fails it (one the service matched but that cannot be checked) ends
    /// the listing with that error, instead of being skipped.
    pub(crate) fn checked(
        mut self,
        check: impl Fn(&T) -> Result<(), Error> + Send + 'static,
    ) -> Self {
        self.check = Some(Box::new(check));
        self
    }

    /// Every item of the pages fetched so far has been returned: the next
    /// item, if any, needs another request.
    pub(crate) fn at_page_end(&self) -> bool {
        self.buffered.as_slice().is_empty()
    }
}

impl<T> Pages<T> {
    fn fetch_page(&mut self, path: String) -> Result<(), Error> {
        self.pages += 1;
        self.seen_paths.insert(path.clone());
        let resp = self
            .client
            .request(Method::Get, path)
            .service(self.query.service.unwrap_or(Service::FlowService))
            .send()?;
        let page = (self.read)(&resp, self.what)?;
        let on_the_wire = page.items.len();
        let mut items = Vec::with_capacity(page.items.len());
        let mut repeated: Option<String> = None;
        // An item first read before the page just before this one.
        let mut stale: Option<String> = None;
        let mut new_items = 0;
        for (id, item) in page.items {
            // An item read before is returned once: a listing that moved
            // while it was paged (a run created meanwhile) shifts items
            // from one page to the next. It shifts them by less than a
            // page: an item of a page further back coming again is a loop.
            if let Some(&first) = self.seen_ids.get(&id) {
                if first + 1 < self.pages {
                    stale.get_or_insert_with(|| id.clone());
                }
                repeated.get_or_insert(id);
                continue;
            }
            self.seen_ids.insert(id, self.pages);
            new_items += 1;
            if (self.keep)(&item) {
                items.push(item);
            }
        }
        self.read_items += new_items;
        if on_the_wire == 0 {
            self.empty_pages += 1;
        } else {
            self.empty_pages = 0;
        }
        self.buffered = items.into_iter();
        let next = page
            .links
            .and_then(|l| l.next)
            .and_then(|n| n.href)
            .filter(|h| !h.is_empty())
            .map(|href| {
                self.client
                    .next_page_path(&href, self.query.collection, &resp)
            })
            .or_else(|| {
                let token = page
                    .page
                    .and_then(|p| p.continuation_token.or(p.next))
                    .filter(|t| !t.is_empty())?;
                Some(Ok(self
                    .query
                    .clone()
                    .param("continuationToken", &token)
                    .first_path()))
            })
            .transpose()?
            .or_else(|| {
                // Offset paging: a full page (as long as `limit`, or as
                // the longest page so far when the service pages by a
                // larger size of its own), and the next one starts after
                // every item read on the wire so far.
                let start = self.query.start?;
                let full = self.query.widest.max(self.query.limit as usize);
                (on_the_wire >= full).then(|| {
                    self.query.widest = on_the_wire;
                    self.query.start = Some(start + on_the_wire);
                    self.query.first_path()
                })
            });
        if let Some(next) = &next {
            // A page of items all read before, and yet another page: the
            // same items under a fresh next link, which a finite listing
            // never sends. Stopped at the first such page, not after
            // 10 000 requests. (Without a next link it is the end: the
            // last item moved down from the page before, a run created
            // meanwhile.)
            let stop = if let (0, Some(id)) = (new_items, &repeated) {
                Some(format!(
                    "page {} holds only items already read (item {} again): the listing \
                     loops; stopped",
                    self.pages,
                    one_line(id, 80)
                ))
            } else if let Some(id) = &stale {
                // The same item again and again beside fresh ones: a loop
                // that makes up new items, stopped at the first item that
                // comes back from further than the page before.
                Some(format!(
                    "page {} holds item {} again, first read more than a page before: \
                     the listing loops; stopped",
                    self.pages,
                    one_line(id, 80)
                ))
            } else if self.seen_paths.contains(next) {
                Some(format!(
                    "the next-page link after page {} leads back to a page already read \
                     (the listing loops); stopped",
                    self.pages
                ))
            } else if self.empty_pages >= MAX_EMPTY_PAGES {
                return Err(Error::unexpected(
                    &resp,
                    format!(
                        "{MAX_EMPTY_PAGES} pages in a row without an item, each with a \
                         next-page link; stopped before the end of the listing"
                    ),
                ));
            } else if self.read_items >= MAX_ITEMS_READ {
                Some(format!(
                    "read {} items ({} of them matched) and the listing goes on: \
                     stopped at the cap of {MAX_ITEMS_READ} items read, before the end \
                     of the listing",
                    self.read_items,
                    self.yielded + self.buffered.len()
                ))
            } else {
                None
            };
            if let Some(detail) = stop {
                self.after_buffered = Some(Error::unexpected(&resp, detail));
                return Ok(());
            }
        }
        self.next_path = next;
        Ok(())
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Items returned so far.
    pub fn yielded(&self) -> usize {
        self.yielded
    }

    /// How the listing ended: [`ListingEnd::Complete`] once the service
    /// said there is no further page and every item was returned,
    /// [`ListingEnd::Capped`] once the item cap stopped it with more left
    /// to read; `None` while it goes on, or after an error (which says
    /// why it stopped).
    pub fn end(&self) -> Option<ListingEnd> {
        if self.failed || self.pending.is_some() || self.after_buffered.is_some() {
            return None;
        }
        let more = !self.buffered.as_slice().is_empty() || self.next_path.is_some();
        if !more && self.pages > 0 {
            Some(ListingEnd::Complete)
        } else if more && self.yielded >= self.max_items {
            Some(ListingEnd::Capped)
        } else {
            None
        }
    }

    /// The next item, or the error that ends the listing.
    fn advance(&mut self) -> Option<Result<T, Error>> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        loop {
            if self.failed || self.yielded >= self.max_items {
                return None;
            }
            if let Some(item) = self.buffered.next() {
                self.yielded += 1;
                let checked = self.check.as_ref().map_or(Ok(()), |check| check(&item));
                return Some(checked.map(|()| item));
            }
            if let Some(e) = self.after_buffered.take() {
                return Some(Err(e));
            }
            let path = self.next_path.take()?;
            if let Err(e) = self.fetch_page(path) {
                return Some(Err(e));
            }
        }
    }
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("yielded", &self.yielded())
            .field("pages", &self.pages())
            .finish_non_exhaustive()
    }
}

impl<T> Iterator for Pages<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        // Every error ends the listing.
        let next = self.advance();
        self.failed |= matches!(next, Some(Err(_)));
        // An error may quote an item id or other text of a page: the
        // secrets the client holds are scrubbed from it.
        next.map(|item| item.map_err(|e| self.client.scrub_error(e)))
    }
}

impl Client {
    /// Resolves a `_links.next.href` against the base URL. Only links to
    /// the same collection on the configured base are followed (the token
    /// never goes elsewhere), and only with URL characters. A bad link is
    /// the service's fault: an unexpected response.
    fn next_page_path(
        &self,
        href: &str,
        collection: &str,
        resp: &RawResponse,
    ) -> Result<String, Error> {
        let base = self.base();
        let relative = if let Some(rest) = href.strip_prefix(base.url.as_str()) {
            rest
        } else if href.starts_with('/') && !base.path().is_empty() && href.starts_with(base.path())
        {
            &href[base.path().len()..]
        } else {
            href
        };
        let in_collection = relative
            .strip_prefix('/')
            .and_then(|r| r.strip_prefix(collection))
            .is_some_and(|r| r.starts_with('?'));
        let url_chars = relative
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?[]@!$&'()*+,;=%".contains(&b));
        if !in_collection || !url_chars || relative.len() > MAX_LINK_LEN {
            return Err(Error::unexpected(
                resp,
                format!(
                    "refusing to follow a next-page link outside {}/{collection} \
                     (or with characters a URL cannot hold)",
                    base.url
                ),
            ));
        }
        Ok(relative.to_owned())
    }
}
