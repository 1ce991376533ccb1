//! What calls return: a resource's `{id, etag}` ([`Saved`]), what an
//! `ensure_*` call did ([`Ensured`]), the reading of JSON answers, and the
//! create-or-find and read-then-write patterns built on them.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::input::check_from_service;
use super::Client;
use crate::error::Error;
use crate::ids::FromService;
use crate::wire::response::{describe_json_error, success_note, RawResponse};

/// A resource the service created or changed: its id and its new etag.
/// Create, update and enable/disable calls return this; `I` is the
/// resource's id type ([`FlowId`](crate::FlowId), ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Saved<I = String> {
    /// The resource's id.
    pub id: I,
    /// Its etag, byte for byte as returned (it includes literal double
    /// quotes, e.g. `"\"1700e582-0000-0200-0000-5e3c85180000\""`). Send it
    /// as is in `If-Match`.
    pub etag: String,
}

/// What an `ensure_*` call did: the resource (as [`Saved`]) and whether
/// this call created it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ensured<I = String> {
    /// The resource's id and etag.
    pub saved: Saved<I>,
    /// `true` when this call created it, `false` when it existed already.
    pub created: bool,
}

impl<I> Ensured<I> {
    /// The resource's id.
    pub fn id(&self) -> &I {
        &self.saved.id
    }

    /// Its etag.
    pub fn etag(&self) -> &str {
        &self.saved.etag
    }
}

/// Runs `create`; after a failure that may have created it anyway (a
/// timeout, a 5xx, a lost answer) looks once with `find`: what it made is
/// the answer. Otherwise the create's error stands.
pub(crate) fn created_or_found<T>(
    create: impl FnOnce() -> Result<T, Error>,
    find: impl FnOnce() -> Result<Option<T>, Error>,
) -> Result<T, Error> {
    match create() {
        Err(e) if e.may_have_been_processed() => find().ok().flatten().ok_or(e),
        made => made,
    }
}

/// A wire item that carries its id.
pub(crate) trait WireItem: DeserializeOwned {
    fn id(&self) -> &str;
    fn etag(&self) -> Option<&str> {
        None
    }
    /// Ids of other objects the item names (a run's parent and children),
    /// checked like its own id: one a caller cannot pass back, or print,
    /// refuses the item.
    fn linked_ids(&self) -> Vec<&str> {
        Vec::new()
    }
}

/// Parses JSON of type `T`, naming `what` was expected if it is not.
pub(crate) fn parse_json<T: DeserializeOwned>(resp: &RawResponse, what: &str) -> Result<T, Error> {
    serde_json::from_slice(&resp.body).map_err(|e| {
        Error::unexpected(
            resp,
            format!(
                "the body is not {what} ({}){}",
                describe_json_error(&e),
                success_note(resp)
            ),
        )
    })
}

/// Parses a create or update answer `{"id", "etag"}`; both must be visible
/// ASCII of a sane length.
pub(crate) fn parse_saved<I: FromService>(resp: &RawResponse) -> Result<Saved<I>, Error> {
    #[derive(Deserialize)]
    struct Loose {
        id: Option<String>,
        etag: Option<String>,
    }
    let parsed: Loose = parse_json(resp, "the JSON object {\"id\", \"etag\"}")?;
    let lacks =
        |what| Error::unexpected(resp, format!("the body lacks {what}{}", success_note(resp)));
    let id = parsed
        .id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| lacks("an id"))?;
    let etag = parsed
        .etag
        .filter(|s| !s.is_empty())
        .ok_or_else(|| lacks("an etag"))?;
    check_from_service(resp, "an id", &id)?;
    check_from_service(resp, "an etag", &etag)?;
    Ok(Saved {
        id: I::from_service(id),
        etag,
    })
}

impl Client {
    /// Finds before it creates, and looks again after a create whose
    /// answer was lost: `find` returns the resource's id and etag if it
    /// exists. Ensures of the same `key` through this client (and its
    /// clones) run one at a time, so threads never both find nothing and
    /// both create. Two processes can still race.
    pub(crate) fn ensure_with<I>(
        &self,
        key: String,
        find: impl Fn() -> Result<Option<Saved<I>>, Error>,
        create: impl FnOnce() -> Result<Saved<I>, Error>,
    ) -> Result<Ensured<I>, Error> {
        let _serialized = self.lock(key);
        let (saved, created) = match find()? {
            Some(saved) => (saved, false),
            None => (created_or_found(create, find)?, true),
        };
        Ok(Ensured { saved, created })
    }

    /// Reads the current etag with `read`, then writes with `write`; on 412
    /// reads again and writes once more.
    pub(crate) fn update_with_retry<C, I>(
        &self,
        mut read: impl FnMut() -> Result<C, Error>,
        mut write: impl FnMut(&C) -> Result<Saved<I>, Error>,
    ) -> Result<Saved<I>, Error> {
        let result = match write(&read()?) {
            Err(e) if e.is_precondition_failed() => write(&read()?),
            other => other,
        };
        // A check of what was read may quote it (a spec name, an id).
        result.map_err(|e| self.scrub_error(e))
    }
}
