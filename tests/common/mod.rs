//! Helpers shared by the tests: a `Platform` pointed at the fake
//! (`aep_flow_testing`).

#![allow(dead_code)] // each test file uses a different part

use std::sync::Arc;
use std::time::Instant;

use aep_flow::Sandbox;
use aep_flow::{Clock, ImsCredentials, Platform, Secret};
use aep_flow_testing::{FakeFlowService, ManualClock};

/// A [`Platform`] pointed at `fake`, with the credentials it expects.
pub fn platform(fake: &FakeFlowService) -> Platform {
    Platform::new(
        Secret::from(fake.access_token()),
        fake.api_key(),
        Sandbox {
            org_id: fake.org_id(),
            name: fake.sandbox_name(),
        },
    )
    .with_base_url(fake.base_url())
}

/// OAuth Server-to-Server credentials `fake`'s IMS accepts, pointed at it.
pub fn ims_credentials(fake: &FakeFlowService) -> ImsCredentials {
    ImsCredentials::new(
        fake.ims_client_id(),
        Secret::from(fake.ims_client_secret()),
        fake.ims_scopes(),
    )
    .with_ims_url(fake.ims_url())
}

/// A [`Platform`] that gets its tokens from `fake`'s IMS.
pub fn platform_with_ims(fake: &FakeFlowService) -> Platform {
    Platform::from_ims(
        ims_credentials(fake),
        Sandbox {
            org_id: fake.org_id(),
            name: fake.sandbox_name(),
        },
    )
    .with_base_url(fake.base_url())
}

/// The fake's [`ManualClock`] as the library's [`Clock`].
pub struct TestClock(pub Arc<ManualClock>);

impl Clock for TestClock {
    fn now(&self) -> Instant {
        self.0.now()
    }
}

/// An id of the kind the call takes, parsed from `text` (which must follow
/// the id rules: a test of a refused id parses it and checks the error).
pub fn id<T>(text: &str) -> T
where
    T: std::str::FromStr,
    T::Err: std::fmt::Debug,
{
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} is not an id: {e:?}"))
}

/// One request written by hand to `fake` (its own credentials and sandbox,
/// `Connection: close`), not through the client: `method`, `path` (with
/// its query, sent as given), extra header lines (each ending `\r\n`) and
/// a body. The answer's status and body.
pub fn raw_request(
    fake: &FakeFlowService,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(fake.addr()).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         x-api-key: {}\r\nx-gw-ims-org-id: {}\r\nx-sandbox-name: {}\r\n{headers}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        fake.access_token(),
        fake.api_key(),
        fake.org_id(),
        fake.sandbox_name(),
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}
