//! Sending: the platform headers, the retry loop (what is retried, the
//! budget, the deadline), the 401 renewal, and the reading of a failed
//! answer into the right error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::auth::Bearer;
use super::platform::{CATALOG_PATH, DATA_PREP_PATH, FLOW_SERVICE_PATH};
use super::request::{Method, RequestBuilder};
use super::Client;
use crate::error::{
    parse_api_error, Delivery, Error, Service, TransportError, TransportErrorKind,
    EXPLORE_CAP_SETTING, RESPONSE_CAP_SETTING,
};
use crate::transport::Request;
use crate::wire::buffer::concat_exact;
use crate::wire::response::RawResponse;
use crate::wire::scrub::Scrubber;

/// The path of a Platform service below the gateway root.
fn service_path(service: Service) -> &'static str {
    match service {
        Service::DataPrep => DATA_PREP_PATH,
        Service::Catalog => CATALOG_PATH,
        // IMS is not below the gateway; its calls never come here.
        Service::FlowService | Service::Ims => FLOW_SERVICE_PATH,
    }
}

/// What one attempt came to.
pub(super) enum Outcome {
    /// What the transport gave: an answer or a failure.
    Sent(Result<RawResponse, Error>),
    /// Ends the call at once, whatever the retry policy says.
    Final(Error),
    /// Send again at once (a renewed token after a 401).
    Again,
}

impl RequestBuilder<'_, '_> {
    /// Sends it with the platform headers and the retry policy. Retried:
    /// 429 (not processed), failures before anything was sent, and, when
    /// `idempotent`, 502/503/504 and failures after sending. A 401 with IMS
    /// tokens renews the token (unless another thread already did) and
    /// sends once more. Everything else is returned as it came.
    pub(super) fn dispatch(&mut self) -> Result<RawResponse, Error> {
        let client = self.client;
        let inner = &*client.inner;
        let url = format!(
            "{}{}{}",
            inner.root.url,
            service_path(self.service),
            self.path
        );
        let uses_ims = client.uses_ims();
        let mut renewed = false;
        let mut rejected: Option<Arc<Bearer>> = None;
        client.retrying(
            self.service,
            self.idempotent,
            &mut self.scrubber,
            |scrubber, timeout| {
                // A failed token request ends the call: the platform request
                // was not sent, so it says nothing about what may have landed.
                let bearer = match client.bearer_token(rejected.take().as_ref()) {
                    Ok(b) => b,
                    Err(e) => return Outcome::Final(e),
                };
                scrubber.add_tables(Arc::clone(&bearer.tables));
                let authorization = concat_exact(&["Bearer ", bearer.token.expose_secret()]);
                let mut headers = vec![
                    ("authorization", authorization.as_str()),
                    ("x-api-key", inner.api_key.as_str()),
                    ("x-gw-ims-org-id", inner.org_id.as_str()),
                    ("x-sandbox-name", inner.sandbox_name.as_str()),
                    ("accept", "application/json"),
                ];
                if let Some(etag) = self.if_match {
                    headers.push(("if-match", etag));
                }
                let request = Request {
                    method: self.method.as_str(),
                    url: &url,
                    headers,
                    body: self.body.map(|b| ("application/json", b)),
                    close: self.secret_body && !inner.config.keep_alive_after_secret_bodies,
                    secret_body: self.secret_body,
                    timeout,
                    loopback: inner.base.loopback,
                    // A POST that is safe to repeat (a validation) changes
                    // nothing; DELETE is idempotent but a write.
                    writes: self.method != Method::Get
                        && !(self.method == Method::Post && self.idempotent),
                };
                match client.transmit(&request, self.service, self.large, scrubber) {
                    // A 401 was not processed: renew once and send once more,
                    // whatever the method.
                    Ok(resp) if resp.status == 401 && uses_ims && !renewed => {
                        renewed = true;
                        rejected = Some(bearer);
                        Outcome::Again
                    }
                    sent => Outcome::Sent(sent),
                }
            },
        )
    }
}

impl Client {
    /// One attempt through the transport, read under the response cap (the
    /// explore cap when `large`). An answer over the cap names `service`
    /// and the setting that raises that cap.
    pub(super) fn transmit(
        &self,
        request: &Request<'_>,
        service: Service,
        large: bool,
        scrubber: &Scrubber<'_>,
    ) -> Result<RawResponse, Error> {
        let config = &self.inner.config;
        let (limit, cap_setting) = if large {
            (config.max_explore_bytes, EXPLORE_CAP_SETTING)
        } else {
            (config.max_response_bytes, RESPONSE_CAP_SETTING)
        };
        let mut result = self.inner.transport.send(request, limit, scrubber);
        if let Err(Error::TooLarge {
            service: named,
            setting,
            ..
        }) = &mut result
        {
            (*named, *setting) = (service, cap_setting);
        }
        result
    }

    /// The retry loop shared by platform calls and the IMS token request.
    pub(super) fn retrying<'s>(
        &'s self,
        service: Service,
        idempotent: bool,
        scrubber: &mut Scrubber<'s>,
        mut attempt: impl FnMut(&mut Scrubber<'s>, Duration) -> Outcome,
    ) -> Result<RawResponse, Error> {
        let inner = &*self.inner;
        let started = Instant::now();
        let mut attempts = 0u32;
        let mut may_have_landed = false;
        loop {
            attempts += 1;
            let Some(timeout) = self.attempt_timeout() else {
                return Err(deadline_passed(attempts - 1));
            };
            let mut result = match attempt(scrubber, timeout) {
                Outcome::Sent(result) => result,
                Outcome::Final(e) => return Err(e),
                Outcome::Again => continue,
            };
            match &mut result {
                Ok(resp) => {
                    resp.attempts = attempts;
                    resp.earlier_attempt_may_have_landed = may_have_landed;
                }
                Err(Error::Transport(t)) => t.attempts = attempts,
                Err(_) => {}
            }
            let retries_left = attempts <= inner.config.retry.max_retries;
            let backoff = || inner.config.retry.backoff(attempts - 1);
            let (wait, landed) = match &result {
                Ok(resp) if resp.status == 429 => (resp.retry_after.unwrap_or_else(backoff), false),
                Ok(resp) if idempotent && matches!(resp.status, 502..=504) => {
                    (resp.retry_after.unwrap_or_else(backoff), true)
                }
                // A certificate that does not verify will not verify on the
                // next try either; other failures before sending may pass.
                Err(Error::Transport(t))
                    if t.delivery == Delivery::NotSent && t.kind == TransportErrorKind::Tls =>
                {
                    return result
                }
                Err(Error::Transport(t)) if t.delivery == Delivery::NotSent => (backoff(), false),
                Err(Error::Transport(_)) if idempotent => (backoff(), true),
                _ => return result,
            };
            let fits_budget = started
                .elapsed()
                .checked_add(wait)
                .is_some_and(|end| end <= inner.config.retry.budget);
            let fits_deadline = inner
                .config
                .deadline
                .is_none_or(|d| Instant::now().checked_add(wait).is_some_and(|end| end < d));
            if !(retries_left && fits_budget && fits_deadline) {
                // `error_from` takes the attempts from the answer.
                return result.and_then(|resp| Err(self.error_from(&resp, scrubber, service)));
            }
            may_have_landed |= landed;
            std::thread::sleep(wait);
        }
    }

    /// This attempt's bound: the per-attempt timeout, cut at the deadline.
    /// `None` once the deadline has passed.
    fn attempt_timeout(&self) -> Option<Duration> {
        let inner = &*self.inner;
        match inner.config.deadline {
            None => Some(inner.config.timeout),
            Some(d) => {
                let left = d.checked_duration_since(Instant::now())?;
                (!left.is_zero()).then(|| left.min(inner.config.timeout))
            }
        }
    }

    /// Turns a non-success answer into the right error.
    pub(crate) fn error_from(
        &self,
        resp: &RawResponse,
        scrubber: &Scrubber<'_>,
        service: Service,
    ) -> Error {
        match resp.status {
            300..=399 => Error::unexpected(
                resp,
                format!(
                    "redirect to {} not followed (the access token is only sent to the configured base URL)",
                    resp.location
                        .as_deref()
                        .map(|l| scrubber.shown(l, 300))
                        .unwrap_or_else(|| "an unnamed location".into())
                ),
            ),
            400..=599 => {
                let mut api = parse_api_error(resp, scrubber);
                api.service = service;
                api.attempts = resp.attempts;
                Error::Api(Box::new(api))
            }
            _ => Error::unexpected(resp, "a status this operation does not use"),
        }
    }
}

fn deadline_passed(attempts: u32) -> Error {
    Error::Transport(TransportError {
        kind: TransportErrorKind::Timeout,
        delivery: Delivery::NotSent,
        detail: "the client's deadline passed before the request was sent".into(),
        attempts,
        // Not sent: nothing to look up, whatever the method.
        write: false,
    })
}
