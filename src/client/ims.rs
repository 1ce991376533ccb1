//! Access tokens from Adobe IMS (OAuth Server-to-Server), cached and renewed.

use std::time::{Duration, Instant};

use serde::Deserialize;
use zeroize::Zeroizing;

use super::input::require_text;
use crate::error::Error;
use crate::secret::Secret;
use crate::wire::buffer::exact_bytes;
use crate::wire::encode::{encode_into, encoded_len, Style};
use crate::wire::read;
use crate::wire::response::{describe_json_error, RawResponse};
use crate::wire::text::one_line;

/// Adobe IMS's production base URL.
pub const DEFAULT_IMS_URL: &str = "https://ims-na1.adobelogin.com";
/// The token endpoint under the IMS base URL.
pub const IMS_TOKEN_PATH: &str = "/ims/token/v3";
/// A cached token is renewed this long before it expires.
pub const RENEWAL_MARGIN: Duration = Duration::from_secs(5 * 60);

/// OAuth Server-to-Server credentials from the Adobe Developer Console.
///
/// # Security warning
///
/// The client secret is a [`Secret`]: wiped on drop, never printed. The
/// form body that carries it to IMS is built in a zeroizing buffer.
// `Debug` shows the client secret as `Secret` does: redacted.
#[derive(Debug)]
#[must_use = "credentials do nothing until `Platform::from_ims` takes them"]
pub struct ImsCredentials {
    client_id: String,
    client_secret: Secret,
    scopes: String,
    ims_url: String,
}

impl ImsCredentials {
    /// Credentials for the production IMS. `scopes` is Adobe's
    /// comma-separated list, e.g.
    /// `openid,AdobeID,read_organizations,additional_info.projectedProductContext,session`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: Secret,
        scopes: impl Into<String>,
    ) -> Self {
        ImsCredentials {
            client_id: client_id.into(),
            client_secret,
            scopes: scopes.into(),
            ims_url: DEFAULT_IMS_URL.to_owned(),
        }
    }

    /// Overrides the IMS base URL (a local fake, another region). Must be
    /// `https://` unless the host is a loopback address.
    pub fn with_ims_url(mut self, url: impl Into<String>) -> Self {
        self.ims_url = url.into();
        self
    }

    /// The client id (also the default API key).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The IMS base URL.
    pub fn ims_url(&self) -> &str {
        &self.ims_url
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        for (field, value) in [
            ("ims.client_id", self.client_id.as_str()),
            ("ims.client_secret", self.client_secret.expose_secret()),
            ("ims.scopes", self.scopes.as_str()),
        ] {
            require_text(field, value)?;
        }
        Ok(())
    }

    /// `grant_type=client_credentials&client_id=..&client_secret=..&scope=..`,
    /// form-encoded into a buffer measured first and allocated once.
    pub(crate) fn form_body(&self) -> Zeroizing<Vec<u8>> {
        let fields = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("scope", self.scopes.as_str()),
        ];
        let len = fields
            .iter()
            .map(|(k, v)| k.len() + 1 + encoded_len(v, Style::Form))
            .sum::<usize>()
            + fields.len()
            - 1;
        exact_bytes(len, |body| {
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    body.push(b'&');
                }
                body.extend_from_slice(k.as_bytes());
                body.push(b'=');
                encode_into(body, v, Style::Form);
            }
        })
    }

    pub(crate) fn client_secret(&self) -> &Secret {
        &self.client_secret
    }
}

/// Longest token lifetime believed: IMS tokens live 24 hours.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses IMS's `{"access_token", "token_type", "expires_in"}` into the
/// bearer token and its lifetime from the moment it was issued (at most
/// 24 h).
pub(crate) fn parse_token(resp: &RawResponse) -> Result<(Secret, Duration), Error> {
    #[derive(Deserialize)]
    struct Wire {
        access_token: Option<String>,
        token_type: Option<String>,
        // Adobe documents seconds (86399); read as every count is (a number
        // or a numeric string).
        #[serde(default, deserialize_with = "read::de::count")]
        expires_in: Option<u64>,
    }
    let unexpected = |detail: String| Error::unexpected(resp, detail);
    let wire: Wire = serde_json::from_slice(&resp.body).map_err(|e| {
        unexpected(format!(
            "IMS's answer is not a token object ({})",
            describe_json_error(&e)
        ))
    })?;
    // Moved (not copied) into the zeroizing Secret.
    let access_token = match wire.access_token {
        Some(t) if !t.is_empty() => Secret::new(t),
        _ => return Err(unexpected("IMS's answer has no access_token".into())),
    };
    if !access_token
        .expose_secret()
        .bytes()
        .all(|b| b.is_ascii_graphic())
    {
        return Err(unexpected(
            "IMS's access_token has characters a header cannot carry".into(),
        ));
    }
    let expires_in = wire
        .expires_in
        .ok_or_else(|| unexpected("IMS's answer has no usable expires_in".into()))?;
    if let Some(kind) = wire.token_type.as_deref() {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(unexpected(format!(
                "IMS issued a {:?} token; only bearer tokens can be used",
                one_line(kind, 40)
            )));
        }
    }
    Ok((
        access_token,
        Duration::from_secs(expires_in).min(MAX_TOKEN_LIFETIME),
    ))
}

/// Where "now" comes from, for token expiry. Tests inject a manual clock
/// instead of sleeping.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_body_is_encoded_and_exactly_sized() {
        let creds = ImsCredentials::new(
            "client id+1",
            Secret::from("s3cr&t=/ é"),
            "openid,AdobeID,read_organizations",
        );
        let body = creds.form_body();
        assert_eq!(body.len(), body.capacity());
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            "grant_type=client_credentials&client_id=client+id%2B1\
             &client_secret=s3cr%26t%3D%2F+%C3%A9&scope=openid%2CAdobeID%2Cread_organizations"
        );
    }

    #[test]
    fn debug_hides_the_client_secret() {
        let creds = ImsCredentials::new("id", Secret::from("cs-canary-1"), "openid");
        assert!(!format!("{creds:?}").contains("canary"));
    }
}
