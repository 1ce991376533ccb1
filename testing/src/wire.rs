//! The service's facts as the fake knows them, written down here once and
//! independently of any client: paths, spec ids and versions, content
//! types, header names, reason phrases, the credentials the fake hands
//! out, and the fixtures it answers with.

// The header names Flow Service's gateway checks (lower case, as parsed).
pub(crate) const HEADER_AUTHORIZATION: &str = "authorization";
pub(crate) const HEADER_API_KEY: &str = "x-api-key";
pub(crate) const HEADER_ORG_ID: &str = "x-gw-ims-org-id";
pub(crate) const HEADER_SANDBOX: &str = "x-sandbox-name";

/// The path Flow Service is served under, as on `platform.adobe.io`.
pub const BASE_PATH: &str = "/data/foundation/flowservice";
/// The path Data Prep (mapping sets) is served under.
pub const DATA_PREP_PATH: &str = "/data/foundation/conversion";
/// The path Catalog (datasets) is served under.
pub const CATALOG_PATH: &str = "/data/foundation/catalog";
/// The access token [`FakeFlowService::access_token`](crate::FakeFlowService::access_token)
/// gives when the builder names none.
pub const DEMO_ACCESS_TOKEN: &str = "demo-access-token";
/// The API key [`FakeFlowService::api_key`](crate::FakeFlowService::api_key)
/// gives when the builder names none.
pub const DEMO_API_KEY: &str = "demo-api-key";
/// The org id [`FakeFlowService::org_id`](crate::FakeFlowService::org_id)
/// gives when the builder names none.
pub const DEMO_ORG_ID: &str = "DEMO0000000000000000@AdobeOrg";
/// The sandbox [`FakeFlowService::sandbox_name`](crate::FakeFlowService::sandbox_name)
/// gives when the builder names none.
pub const DEMO_SANDBOX: &str = "prod";
/// OAuth client id the fake IMS accepts by default.
pub const DEMO_CLIENT_ID: &str = "demo-client-id";
/// OAuth client secret the fake IMS accepts by default.
pub const DEMO_CLIENT_SECRET: &str = "demo-client-secret";
/// Scopes [`FakeFlowService::ims_scopes`](crate::FakeFlowService::ims_scopes) asks for.
pub const DEMO_SCOPES: &str =
    "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session";

/// The tutorial's answer to a connection-string create.
pub const FIXTURE_CREATE_RESPONSE: &str = include_str!("../fixtures/create_response.json");
/// An answer to a Basic Authentication create.
pub const FIXTURE_CREATE_RESPONSE_BASIC: &str =
    include_str!("../fixtures/create_response_basic.json");
/// The gateway's answer to a bad token.
pub const FIXTURE_ERROR_GATEWAY_401: &str = include_str!("../fixtures/error_gateway_401.json");
/// A Flow Service error envelope.
pub const FIXTURE_ERROR_FLOW_SERVICE_400: &str =
    include_str!("../fixtures/error_flow_service_400.json");
/// A Platform generic error envelope.
pub const FIXTURE_ERROR_GENERIC_400: &str = include_str!("../fixtures/error_generic_400.json");
/// A proxy's HTML error page.
pub const FIXTURE_ERROR_PROXY_502: &str = include_str!("../fixtures/error_proxy_502.html");

/// The IMS token endpoint's path.
pub(crate) const IMS_TOKEN_PATH: &str = "/ims/token/v3";

/// PostgreSQL's connection spec id.
pub const POSTGRES_CONNECTION_SPEC_ID: &str = "74a1c565-4e59-48d7-9d67-7c03b8a13137";
/// PostgreSQL's connection spec version.
pub const POSTGRES_CONNECTION_SPEC_VERSION: &str = "1.0";
/// The auth spec name of a connection-string connection.
pub const CONNECTION_STRING_AUTH: &str = "Connection String Based Authentication";
/// The auth spec name of a Basic Authentication connection.
pub const BASIC_AUTH: &str = "Basic Authentication";
/// The Data Lake's (target) connection spec id.
pub const DATA_LAKE_CONNECTION_SPEC_ID: &str = "c604ff05-7f1a-43c0-8e18-33bf874cb11c";
/// The Data Lake's connection spec version.
pub const DATA_LAKE_CONNECTION_SPEC_VERSION: &str = "1.0";
/// The `CRMToAEP` flow spec's id.
pub const CRM_TO_AEP_FLOW_SPEC_ID: &str = "14518937-270c-4525-bdec-c2ba7cce3860";
/// The `CRMToAEP` flow spec's name.
pub const CRM_TO_AEP_FLOW_SPEC_NAME: &str = "CRMToAEP";
/// The content type of an XDM schema in full (`Accept` of a schema read).
pub const XDM_FULL_CONTENT_TYPE: &str = "application/vnd.adobe.xed-full+json;version=1";
/// What the fake writes in place of a secret (exports, `Debug`).
pub const REDACTED: &str = "[REDACTED]";

/// The reason phrase of a status the fake answers with.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Decodes `%XX` escapes and `+` (form and query encoding); invalid
/// escapes stay as they are.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
