//! What the fake holds between requests: the request log, scripted
//! replies, the resources' stores, IMS tokens, and the credentials the fake
//! insists on.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use std::collections::HashMap;

use super::connections::Connections;
use super::explore::FakeTable;
use super::flows::Flows;
use super::http::RecordedRequest;
use super::reply::Reply;
use super::runs::Runs;
use super::source_connections::SourceConnections;
use super::store::Serial;
use super::{catalog::Catalog, mapping_sets::MappingSets, target_connections::TargetConnections};

/// What the builder asked for: credentials to insist on, listing quirks.
#[derive(Default)]
pub(super) struct Expected {
    pub(super) ims_client_id: Option<String>,
    pub(super) ims_client_secret: Option<String>,
    pub(super) ims_token_lifetime: Option<Duration>,
    pub(super) max_page_size: Option<usize>,
    pub(super) ignore_property_filters: bool,
    pub(super) ignore_orderby: bool,
    pub(super) access_token: Option<String>,
    pub(super) api_key: Option<String>,
    pub(super) org_id: Option<String>,
    pub(super) sandbox_name: Option<String>,
}

/// Everything that changes as requests come in.
pub(super) struct State {
    /// Ids and etags for every store.
    pub(super) serial: Serial,
    /// Every request, in order.
    pub(super) requests: Vec<RecordedRequest>,
    /// Scripted replies, in the order pushed.
    pub(super) replies: VecDeque<Reply>,
    /// `/connections`.
    pub(super) connections: Connections,
    /// `/sourceConnections`.
    pub(super) source_connections: SourceConnections,
    /// `/runs`.
    pub(super) runs: Runs,
    /// Explore catalogs, by base connection id.
    pub(super) catalogs: HashMap<String, Vec<FakeTable>>,
    /// The catalog of a connection without one set (demo mode).
    pub(super) demo_catalog: Option<Vec<FakeTable>>,
    /// The last `x-request-id` number handed out.
    pub(super) next_request_id: u64,
    /// Bytes a [`Reply::huge`] got out.
    pub(super) bytes_streamed: Option<u64>,
    /// Tokens the fake IMS issued, oldest first.
    pub(super) issued_tokens: Vec<String>,
    /// Tokens the gateway refuses.
    pub(super) revoked_tokens: Vec<String>,
    /// Catalog: datasets and schemas' fields.
    pub(super) catalog: Catalog,
    /// `/targetConnections`.
    pub(super) target_connections: TargetConnections,
    /// Data Prep's `/mappingSets`.
    pub(super) mapping_sets: MappingSets,
    /// `/flows` and `/flowSpecs`.
    pub(super) flows: Flows,
    /// Demo mode: a new flow gets a successful run at once.
    pub(super) demo_runs: bool,
    /// Why the last save of the state file failed, if it did (a later
    /// save that succeeds clears it: the file holds the whole state).
    pub(super) save_failure: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        // One serial for every store: ids are unique across resources.
        let serial = Serial::default();
        State {
            requests: Vec::new(),
            replies: VecDeque::new(),
            connections: Connections::new(serial.clone()),
            runs: Runs::new(serial.clone()),
            source_connections: SourceConnections::new(serial.clone()),
            catalogs: HashMap::new(),
            demo_catalog: None,
            next_request_id: 0,
            bytes_streamed: None,
            issued_tokens: Vec::new(),
            revoked_tokens: Vec::new(),
            catalog: Catalog::default(),
            target_connections: TargetConnections::new(serial.clone()),
            mapping_sets: MappingSets::new(serial.clone()),
            flows: Flows::new(serial.clone()),
            demo_runs: false,
            save_failure: None,
            serial,
        }
    }
}

impl State {
    /// Takes the first scripted reply meant for `request`.
    pub(super) fn take_scripted_reply(&mut self, request: &RecordedRequest) -> Option<Reply> {
        let index = self.replies.iter().position(|r| r.applies_to(request))?;
        self.replies.remove(index)
    }
}

/// What the server threads and the [`FakeFlowService`](super::FakeFlowService)
/// handle share.
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// Where the state is kept between runs, if anywhere.
    pub(super) state_file: Option<std::path::PathBuf>,
    pub(super) expected: Expected,
    pub(super) shutdown: AtomicBool,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not wedge the server.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
