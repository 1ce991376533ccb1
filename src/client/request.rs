//! The one way a resource sends a request: `client.request(Method::Get,
//! path)`, a few settings, then a terminal call (the raw answer, a
//! [`Saved`], a delete). Retries, delivery notes and error
//! mapping happen in [`RequestBuilder::dispatch`] and
//! [`Client::error_from`], the same for every call.

use super::results::{parse_saved, Saved};
use super::Client;
use crate::error::{Error, Service};
use crate::ids::FromService;
use crate::wire::response::RawResponse;
use crate::wire::scrub::Scrubber;

/// The HTTP methods the services are called with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// GET and DELETE are safe to repeat; POST and PATCH are not unless
    /// said so ([`RequestBuilder::idempotent`]).
    fn idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Delete)
    }

    /// The statuses a call of this method succeeds with, unless
    /// [`RequestBuilder::accept`] says otherwise.
    fn accepted(self) -> &'static [u16] {
        match self {
            Method::Get => &[200],
            Method::Post => &[200, 201, 202],
            Method::Patch => &[200, 201],
            Method::Delete => &[200, 202, 204],
        }
    }
}

/// A request being put together: see [`Client::request`]. What it holds is
/// what [`RequestBuilder::dispatch`] sends.
#[must_use = "a request is sent by one of its terminal calls"]
pub(crate) struct RequestBuilder<'c, 'b> {
    pub(super) client: &'c Client,
    pub(super) method: Method,
    /// Which service (its path below the gateway root).
    pub(super) service: Service,
    /// Path and query under the service's path, starting with `/`.
    pub(super) path: String,
    pub(super) body: Option<&'b [u8]>,
    /// The body holds a secret: close the connection after it.
    pub(super) secret_body: bool,
    /// Sent as `If-Match`, exactly as given.
    pub(super) if_match: Option<&'b str>,
    /// Safe to repeat: also retried on 502/503/504 and on failures after
    /// sending.
    pub(super) idempotent: bool,
    /// Read with the explore cap instead of the response cap.
    pub(super) large: bool,
    pub(super) scrubber: Scrubber<'c>,
    /// The resource and id a 404 or a "still in use" answer names.
    resource: Option<(&'static str, &'b str)>,
    accepted: &'static [u16],
}

impl Client {
    /// A request to Flow Service (see [`RequestBuilder::service`] for the
    /// others): `path` (with its query) below the service's path.
    pub(crate) fn request<'b>(
        &self,
        method: Method,
        path: impl Into<String>,
    ) -> RequestBuilder<'_, 'b> {
        RequestBuilder {
            client: self,
            method,
            service: Service::FlowService,
            path: path.into(),
            body: None,
            secret_body: false,
            if_match: None,
            idempotent: method.idempotent(),
            large: false,
            scrubber: self.caller_scrubber(),
            resource: None,
            accepted: method.accepted(),
        }
    }
}

impl<'c, 'b> RequestBuilder<'c, 'b> {
    /// Another service than Flow Service.
    pub(crate) fn service(mut self, service: Service) -> Self {
        self.service = service;
        self
    }

    /// A JSON body without a secret in it.
    pub(crate) fn body(mut self, body: &'b [u8]) -> Self {
        self.body = Some(body);
        self
    }

    /// A JSON body holding a secret: the connection is closed after it
    /// (unless the client keeps it alive), and `scrubber` (which knows the
    /// secret) cleans what comes back.
    pub(crate) fn secret_body(mut self, body: &'b [u8], scrubber: Scrubber<'c>) -> Self {
        self.body = Some(body);
        self.secret_body = true;
        self.scrubber = scrubber;
        // The caller's secrets stay scrubbed too.
        self.client.add_caller_secrets(&mut self.scrubber);
        self
    }

    /// `If-Match: etag`, exactly as given.
    pub(crate) fn if_match(mut self, etag: &'b str) -> Self {
        self.if_match = Some(etag);
        self
    }

    /// Read with the explore cap instead of the response cap.
    pub(crate) fn large(mut self) -> Self {
        self.large = true;
        self
    }

    /// A 404 is [`Error::NotFound`] and a "still in use" answer
    /// [`Error::InUse`], both naming `resource` `id`.
    pub(crate) fn resource(mut self, resource: &'static str, id: &'b str) -> Self {
        self.resource = Some((resource, id));
        self
    }

    /// The statuses that count as success (by default: GET 200; POST
    /// 200–202; PATCH 200, 201; DELETE 200, 202, 204).
    pub(crate) fn accept(mut self, statuses: &'static [u16]) -> Self {
        self.accepted = statuses;
        self
    }

    /// A POST that changes nothing (a validation): retried like a GET.
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Sends it; an accepted status is the answer, any other the right
    /// error.
    pub(crate) fn send(self) -> Result<RawResponse, Error> {
        self.finish(|_| false)
    }

    /// Sends it and reads the answer's `{id, etag}`.
    pub(crate) fn saved<I: FromService>(self) -> Result<Saved<I>, Error> {
        parse_saved(&self.send()?)
    }

    /// Sends a create (200 or 201 with `{id, etag}`).
    pub(crate) fn created<I: FromService>(self) -> Result<Saved<I>, Error> {
        self.accept(&[200, 201]).saved()
    }

    /// Sends a delete. A 404 on a retry (after a 502/503/504 or a lost
    /// answer) counts as deleted: an earlier attempt deleted it.
    pub(crate) fn deleted(self) -> Result<(), Error> {
        self.finish(|resp| resp.status == 404 && resp.earlier_attempt_may_have_landed)
            .map(drop)
    }

    fn finish(mut self, also_ok: impl Fn(&RawResponse) -> bool) -> Result<RawResponse, Error> {
        let resp = self.dispatch()?;
        if self.accepted.contains(&resp.status) || also_ok(&resp) {
            return Ok(resp);
        }
        // 404 and "in use" named for the resource, when there is one.
        let err = self.client.error_from(&resp, &self.scrubber, self.service);
        let (Some((resource, id)), Error::Api(api)) = (self.resource, &err) else {
            return Err(err);
        };
        let (id, request_id) = (id.to_owned(), api.request_id.clone());
        match api.status {
            404 => Err(Error::NotFound {
                resource,
                id,
                request_id,
            }),
            400 if api.code.as_deref().is_some_and(|c| c.ends_with("1418-400")) => {
                Err(Error::InUse {
                    resource,
                    id,
                    message: api.message.clone(),
                    request_id,
                })
            }
            _ => Err(err),
        }
    }
}
