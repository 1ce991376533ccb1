//! What the builder asked the fake for: credentials to insist on and
//! quirks to show.

use std::time::Duration;

/// What the builder asked for: credentials to insist on, listing quirks.
#[derive(Default)]
pub(crate) struct Expected {
    pub(crate) ims_client_id: Option<String>,
    pub(crate) ims_client_secret: Option<String>,
    pub(crate) ims_token_lifetime: Option<Duration>,
    pub(crate) max_page_size: Option<usize>,
    pub(crate) ignore_property_filters: bool,
    pub(crate) ignore_orderby: bool,
    pub(crate) access_token: Option<String>,
    pub(crate) api_key: Option<String>,
    pub(crate) org_id: Option<String>,
    pub(crate) sandbox_name: Option<String>,
}
