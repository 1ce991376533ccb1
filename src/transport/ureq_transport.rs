//! The real transport, on `ureq` (stable API only). The only module that
//! names `ureq`.

use std::io;
use std::time::{Duration, SystemTime};

use zeroize::Zeroizing;

use super::{Request, Transport};
use crate::error::{
    Delivery, Error, Service, TransportError, TransportErrorKind, RESPONSE_CAP_SETTING,
};
use crate::wire::http_date::parse_retry_after;
use crate::wire::response::{write_success_note, RawResponse};
use crate::wire::scrub::Scrubber;

const USER_AGENT: &str = concat!("aep-flow/", env!("CARGO_PKG_VERSION"));

/// What the transport is built from.
pub(crate) struct Settings<'a> {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// A PEM bundle that replaces the built-in roots.
    pub root_certificates_pem: Option<&'a [u8]>,
    /// Whether any configured URL (Platform, IMS) is `https://`. When none
    /// is, no request can go over TLS (the service's links are held to the
    /// configured host and redirects are never followed), so the bundle is
    /// not parsed at all.
    pub tls_used: bool,
}

/// Two agents (connection pools): one for remote hosts (HTTPS only, proxy
/// from the environment) and one for loopback hosts (no proxy).
#[derive(Debug)]
pub(crate) struct UreqTransport {
    remote: ureq::Agent,
    loopback: ureq::Agent,
}

impl UreqTransport {
    pub(crate) fn new(settings: &Settings<'_>) -> Result<Self, Error> {
        let tls = tls_config(settings.root_certificates_pem, settings.tls_used)?;
        Ok(UreqTransport {
            remote: agent(settings, &tls, false),
            loopback: agent(settings, &tls, true),
        })
    }
}

const ROOTS_FIELD: &str = "tls.root_certificates";

/// The trusted roots: Mozilla's (webpki-roots), or exactly those of the
/// PEM bundle. The bundle is decoded only when `tls_used`: decoding costs
/// about 0.6 ms per process, which a plain-HTTP (loopback) client never
/// needs. Without TLS it is only scanned ([`check_pem_shape`]: no decoding,
/// no allocation), so a bundle that is set but unusable is still an error
/// whatever the URLs; and it trusts nothing, so a TLS session could never
/// fall back to the default roots in its place.
fn tls_config(pem: Option<&[u8]>, tls_used: bool) -> Result<ureq::tls::TlsConfig, Error> {
    let mut tls = ureq::tls::TlsConfig::builder();
    let invalid = |rule| Error::invalid_input(ROOTS_FIELD, rule);
    match pem {
        None => {}
        Some(pem) if !tls_used => {
            check_pem_shape(pem).map_err(invalid)?;
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&[]));
        }
        Some(pem) => {
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                    Ok(_) => {}
                    Err(_) => return Err(invalid("is not a valid PEM bundle")),
                }
            }
            if certs.is_empty() {
                return Err(invalid("holds no CERTIFICATE section"));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
    }
    Ok(tls.build())
}

/// The shape of a PEM bundle, read in one pass without decoding: at least
/// one `CERTIFICATE` section, every section closed, and only base64
/// characters in the lines of a certificate. Text outside the sections is
/// ignored, as the full parser does. The rules are those of the full parse
/// with the same words; what only decoding finds (a base64 length that does
/// not add up, a body that is not DER) is left to the first TLS use.
fn check_pem_shape(pem: &[u8]) -> Result<(), &'static str> {
    const INVALID: &str = "is not a valid PEM bundle";
    let mut certificates = 0usize;
    // Inside a section: whether it is a certificate.
    let mut open: Option<bool> = None;
    let mut rest = pem;
    while !rest.is_empty() {
        let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        let line = rest[..end].trim_ascii();
        rest = rest.get(end + 1..).unwrap_or_default();
        let label = |marker: &[u8]| line.strip_prefix(marker)?.strip_suffix(b"-----");
        if let Some(label) = label(b"-----BEGIN ") {
            if open.is_some() {
                return Err(INVALID);
            }
            open = Some(label == b"CERTIFICATE");
            continue;
        }
        if let Some(label) = label(b"-----END ") {
            match open.take() {
                Some(true) if label == b"CERTIFICATE" => certificates += 1,
                Some(false) if label != b"CERTIFICATE" => {}
                _ => return Err(INVALID),
            }
            continue;
        }
        if open == Some(true) && !line.iter().copied().all(is_base64) {
            return Err(INVALID);
        }
    }
    match (open, certificates) {
        (Some(_), _) => Err(INVALID),
        (None, 0) => Err("holds no CERTIFICATE section"),
        (None, _) => Ok(()),
    }
}

/// A byte of base64 (standard alphabet and padding).
fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

fn agent(settings: &Settings<'_>, tls: &ureq::tls::TlsConfig, loopback: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .tls_config(tls.clone())
        // Error statuses are answers to parse, not transport failures.
        .http_status_as_error(false)
        // Never follow a redirect: the bearer token stays with the
        // configured host, and a 3xx becomes an error naming Location.
        .max_redirects(0)
        .https_only(!loopback)
        // Loopback traffic never goes through a proxy from the environment.
        .proxy((!loopback).then(ureq::Proxy::try_from_env).flatten())
        .timeout_connect(Some(settings.connect_timeout))
        .timeout_global(Some(settings.timeout))
        .user_agent(USER_AGENT)
        .build();
    ureq::Agent::new_with_config(config)
}

impl Transport for UreqTransport {
    fn send(
        &self,
        request: &Request<'_>,
        max_response_bytes: u64,
        scrubber: &Scrubber<'_>,
    ) -> Result<RawResponse, Error> {
        let agent = if request.loopback {
            &self.loopback
        } else {
            &self.remote
        };
        let mut builder = ureq::http::Request::builder()
            .method(request.method)
            .uri(request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, *value);
        }
        if request.close {
            builder = builder.header("connection", "close");
        }
        // The client core checked every part of the URL and every header
        // value, so a refusal here means a link from the service.
        let invalid = |_| Error::UnexpectedResponse {
            status: 0,
            detail: "the request could not be formed from the URL (nothing was sent)".into(),
            request_id: None,
        };
        let Some((content_type, bytes)) = request.body else {
            // A POST (or PUT, PATCH) without a body, e.g. a flow's
            // `action?op=enable`: ureq would announce an empty body of
            // unknown length (`Transfer-Encoding: chunked`). Send what
            // `curl -X POST` sends and Adobe's spec expects instead: an
            // empty body of known length, `Content-Length: 0`.
            return if matches!(request.method, "POST" | "PUT" | "PATCH") {
                let req = builder.body(&[][..]).map_err(invalid)?;
                exchange(agent, req, request, max_response_bytes, scrubber)
            } else {
                let req = builder.body(()).map_err(invalid)?;
                exchange(agent, req, request, max_response_bytes, scrubber)
            };
        };
        let builder = builder.header("content-type", content_type);
        if !request.secret_body {
            let req = builder.body(bytes).map_err(invalid)?;
            return exchange(agent, req, request, max_response_bytes, scrubber);
        }
        let mut padded = PaddedBody {
            body: bytes,
            sent: 0,
            padding: wipe_len(request, bytes),
        };
        let req = builder
            .header("content-length", padded.len().to_string())
            .body(ureq::SendBody::from_reader(&mut padded))
            .map_err(invalid)?;
        exchange(agent, req, request, max_response_bytes, scrubber)
    }
}

/// How much white space follows a secret body: enough to cover the request
/// head (it holds the token) and the body itself in the send buffer.
fn wipe_len(request: &Request<'_>, body: &[u8]) -> usize {
    let head: usize = request
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 4)
        .sum::<usize>()
        + request.url.len()
        + 512;
    head.max(body.len()) + 64
}

/// A JSON body followed by white space (which JSON allows after a value).
///
/// ureq copies a body into its per-connection send buffer, starting at the
/// buffer's first byte, and never wipes that buffer; the request head (with
/// the bearer token) was there before. The body is handed over in one
/// read and the white space in a second one, which ureq writes over the
/// same bytes, so once the request is sent the buffer holds spaces where
/// the password and the token were. The freed buffer then holds no
/// secret, whether the allocator returns it to the kernel or keeps it.
struct PaddedBody<'a> {
    body: &'a [u8],
    sent: usize,
    padding: usize,
}

impl PaddedBody<'_> {
    fn len(&self) -> usize {
        self.body.len() + self.padding
    }
}

impl io::Read for PaddedBody<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.sent < self.body.len() {
            let n = (self.body.len() - self.sent).min(buf.len());
            buf[..n].copy_from_slice(&self.body[self.sent..self.sent + n]);
            self.sent += n;
            return Ok(n);
        }
        let n = self.padding.min(buf.len());
        buf[..n].fill(b' ');
        self.padding -= n;
        Ok(n)
    }
}

/// Runs one request (`http`, formed from `request`) with the attempt's
/// timeout and reads the answer (bounded) into a zeroizing buffer.
fn exchange(
    agent: &ureq::Agent,
    http: ureq::http::Request<impl ureq::AsSendBody>,
    request: &Request<'_>,
    max_response_bytes: u64,
    scrubber: &Scrubber<'_>,
) -> Result<RawResponse, Error> {
    let writes = request.writes;
    let http = agent
        .configure_request(http)
        .timeout_global(Some(request.timeout))
        .build();
    let mut response = agent
        .run(http)
        .map_err(|e| transport_error(&e, writes, scrubber))?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| scrubber.shown(v, 500))
    };
    let status = response.status().as_u16();
    let request_id = header("x-request-id");
    let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v, SystemTime::now()));
    let location = header("location");
    let content_type = header("content-type");

    let note = write_success_note(status, writes);
    let body_error = |e: ureq::Error, request_id| match e {
        // The client names the service that answered.
        ureq::Error::BodyExceedsLimit(_) => Error::TooLarge {
            service: Service::FlowService,
            status,
            limit: max_response_bytes,
            setting: RESPONSE_CAP_SETTING,
            write: writes,
            request_id,
        },
        ureq::Error::Timeout(_) => Error::Transport(TransportError {
            kind: TransportErrorKind::Timeout,
            delivery: Delivery::Unknown,
            detail: format!("timed out reading the body of an HTTP {status} answer{note}"),
            attempts: 1,
            write: writes,
        }),
        other => Error::UnexpectedResponse {
            status,
            detail: format!(
                "the body could not be read in full ({}){note}",
                scrubber.shown(&other.to_string(), 300)
            ),
            request_id,
        },
    };
    let body = response
        .body_mut()
        .with_config()
        .limit(max_response_bytes)
        .read_to_vec()
        .map(Zeroizing::new)
        .map_err(|e| body_error(e, request_id.clone()))?;
    Ok(RawResponse {
        status,
        request_id,
        retry_after,
        location,
        content_type,
        body,
        attempts: 1,
        earlier_attempt_may_have_landed: false,
        write: writes,
    })
}

/// Where a failure happened decides whether the request may have been
/// processed. Everything up to and including the TLS handshake happens
/// before a request byte is written.
pub(crate) fn classify(e: &ureq::Error) -> Result<(TransportErrorKind, Delivery), &'static str> {
    use ureq::Error as U;
    use Delivery::{NotSent, Unknown};
    use TransportErrorKind as K;
    Ok(match e {
        U::HostNotFound => (K::Dns, NotSent),
        U::ConnectionFailed | U::ConnectProxyFailed(_) => (K::Connect, NotSent),
        U::Timeout(t) => (
            K::Timeout,
            match t {
                ureq::Timeout::Resolve | ureq::Timeout::Connect => NotSent,
                _ => Unknown,
            },
        ),
        U::Tls(_) | U::Rustls(_) | U::TlsRequired => (K::Tls, NotSent),
        U::Io(io) => classify_io(io),
        U::RequireHttpsOnly(_) => return Err("must use https://"),
        _ => (K::Io, Unknown),
    })
}

/// ureq hands several failures before sending up as plain I/O errors: a
/// failed name lookup (std's resolver), a refused connection, and rustls
/// certificate failures (as `InvalidData`).
fn classify_io(io: &io::Error) -> (TransportErrorKind, Delivery) {
    use Delivery::{NotSent, Unknown};
    use TransportErrorKind as K;
    let text = io.to_string().to_ascii_lowercase();
    match io.kind() {
        io::ErrorKind::ConnectionRefused | io::ErrorKind::AddrNotAvailable => (K::Connect, NotSent),
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => (K::Connect, NotSent),
        // A certificate is only checked during the handshake, before any
        // request byte is written; other TLS failures (an alert, a bad
        // record) may come after the request went out.
        io::ErrorKind::InvalidData => {
            let handshake = text.contains("certificate") || text.contains("handshake");
            (K::Tls, if handshake { NotSent } else { Unknown })
        }
        _ if text.contains("lookup address")
            || text.contains("name or service not known")
            || text.contains("nodename nor servname")
            || text.contains("no address associated") =>
        {
            (K::Dns, NotSent)
        }
        _ => (K::Io, Unknown),
    }
}

fn transport_error(e: &ureq::Error, write: bool, scrubber: &Scrubber<'_>) -> Error {
    match classify(e) {
        Ok((kind, delivery)) => Error::Transport(TransportError {
            kind,
            delivery,
            detail: scrubber.shown(&e.to_string(), 500),
            attempts: 1,
            write,
        }),
        Err(rule) => Error::invalid_input("platform.base_url", rule),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_is_decoded_only_when_tls_is_used_and_scanned_otherwise() {
        // Well formed in shape but not decodable (a base64 length that does
        // not add up): only decoding finds it, so it passes without TLS.
        let undecodable = b"-----BEGIN CERTIFICATE-----\nAAAAA\n-----END CERTIFICATE-----\n";
        assert!(tls_config(Some(undecodable), false).is_ok());
        assert!(tls_config(Some(undecodable), true).is_err());
        assert!(tls_config(None, false).is_ok());
        assert!(tls_config(None, true).is_ok());
        // Unusable in shape: an error naming the field with or without TLS.
        for pem in [
            &b"not a pem"[..],
            b"",
            b"-----BEGIN CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\n%%%% not base64 %%%%\n-----END CERTIFICATE-----\n",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            for tls_used in [false, true] {
                let err = tls_config(Some(pem), tls_used).unwrap_err();
                assert!(err.to_string().contains("tls.root_certificates"), "{err}");
            }
        }
    }

    #[test]
    fn the_shape_check_accepts_what_the_full_parse_accepts() {
        let cert = "-----BEGIN CERTIFICATE-----\r\nMIIB\r\nAAAA==\r\n-----END CERTIFICATE-----\r\n";
        let bundle = format!(
            "# a comment, as in distribution bundles\n{cert}\n-----BEGIN X509 CRL-----\nAA:BB\n-----END X509 CRL-----\n{cert}"
        );
        assert_eq!(check_pem_shape(bundle.as_bytes()), Ok(()));
    }

    #[test]
    fn a_secret_body_is_followed_by_white_space_in_a_separate_read() {
        use std::io::Read;
        let mut padded = PaddedBody {
            body: br#"{"password":"pw"}"#,
            sent: 0,
            padding: 40,
        };
        assert_eq!(padded.len(), 57);
        let mut buf = [b'x'; 128];
        assert_eq!(padded.read(&mut buf).unwrap(), 17, "the body alone first");
        assert_eq!(padded.read(&mut buf).unwrap(), 40);
        assert!(
            buf[..40].iter().all(|b| *b == b' '),
            "written over the body"
        );
        assert_eq!(padded.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn failures_before_sending_are_not_sent() {
        let lookup =
            io::Error::other("failed to lookup address information: Name or service not known");
        for (e, kind) in [
            (ureq::Error::Io(lookup), TransportErrorKind::Dns),
            (ureq::Error::HostNotFound, TransportErrorKind::Dns),
            (ureq::Error::ConnectionFailed, TransportErrorKind::Connect),
            (
                ureq::Error::Io(io::ErrorKind::ConnectionRefused.into()),
                TransportErrorKind::Connect,
            ),
            (
                ureq::Error::ConnectProxyFailed("403 Forbidden".into()),
                TransportErrorKind::Connect,
            ),
            (
                ureq::Error::Timeout(ureq::Timeout::Connect),
                TransportErrorKind::Timeout,
            ),
            (
                ureq::Error::Timeout(ureq::Timeout::Resolve),
                TransportErrorKind::Timeout,
            ),
            (
                ureq::Error::Io(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "invalid peer certificate: UnknownIssuer",
                )),
                TransportErrorKind::Tls,
            ),
        ] {
            assert_eq!(classify(&e), Ok((kind, Delivery::NotSent)), "{e}");
        }
    }

    #[test]
    fn failures_after_sending_may_have_landed() {
        for e in [
            ureq::Error::Io(io::ErrorKind::ConnectionReset.into()),
            ureq::Error::Io(io::ErrorKind::UnexpectedEof.into()),
            ureq::Error::Timeout(ureq::Timeout::RecvResponse),
            ureq::Error::Timeout(ureq::Timeout::Global),
        ] {
            assert_eq!(classify(&e).unwrap().1, Delivery::Unknown, "{e}");
        }
    }
}
