//! What the fake holds between requests: the request log, scripted
//! replies and IMS tokens (the whole fake's), and per sandbox
//! ([`SandboxState`]) the resources' stores.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::catalog::Catalog;
use crate::config::Expected;
use crate::connections::{Connections, FixtureIds};
use crate::explore::FakeTable;
use crate::flows::Flows;
use crate::mapping_sets::MappingSets;
use crate::reply::Reply;
use crate::request::RecordedRequest;
use crate::runs::Runs;
use crate::source_connections::SourceConnections;
use crate::store::Serial;
use crate::target_connections::TargetConnections;

/// One sandbox's objects: what requests with its `x-sandbox-name` see.
pub(crate) struct SandboxState {
    /// `/connections`.
    pub(crate) connections: Connections,
    /// `/sourceConnections`.
    pub(crate) source_connections: SourceConnections,
    /// `/runs`.
    pub(crate) runs: Runs,
    /// Explore catalogs, by base connection id.
    pub(crate) catalogs: HashMap<String, Vec<FakeTable>>,
    /// The catalog of a connection without one set (demo mode).
    pub(crate) demo_catalog: Option<Vec<FakeTable>>,
    /// Catalog: datasets and schemas' fields.
    pub(crate) catalog: Catalog,
    /// `/targetConnections`.
    pub(crate) target_connections: TargetConnections,
    /// Data Prep's `/mappingSets`.
    pub(crate) mapping_sets: MappingSets,
    /// `/flows` and `/flowSpecs`.
    pub(crate) flows: Flows,
    /// Demo mode: a new flow gets a successful run at once.
    pub(crate) demo_runs: bool,
}

impl SandboxState {
    /// An empty sandbox drawing ids and etags from `serial`; `fixtures`
    /// is the whole fake's.
    pub(crate) fn new(serial: &Serial, fixtures: &Arc<FixtureIds>) -> Self {
        SandboxState {
            connections: Connections::new(serial.clone(), Arc::clone(fixtures)),
            runs: Runs::new(serial.clone()),
            source_connections: SourceConnections::new(serial.clone()),
            catalogs: HashMap::new(),
            demo_catalog: None,
            catalog: Catalog::default(),
            target_connections: TargetConnections::new(serial.clone()),
            mapping_sets: MappingSets::new(serial.clone()),
            flows: Flows::new(serial.clone()),
            demo_runs: false,
        }
    }
}

/// Everything that changes as requests come in.
#[derive(Default)]
pub(crate) struct State {
    /// Ids and etags for every store of every sandbox: ids are unique
    /// across resources and sandboxes.
    pub(crate) serial: Serial,
    /// Which fixture ids were given, in any sandbox.
    pub(crate) fixtures: Arc<FixtureIds>,
    /// Every request, in order.
    pub(crate) requests: Vec<RecordedRequest>,
    /// Scripted replies, in the order pushed.
    pub(crate) replies: VecDeque<Reply>,
    /// The sandboxes, by name; one is made on first use.
    pub(crate) sandboxes: BTreeMap<String, SandboxState>,
    /// The last `x-request-id` number handed out.
    pub(crate) next_request_id: u64,
    /// Bytes a [`Reply::huge`] got out.
    pub(crate) bytes_streamed: Option<u64>,
    /// Tokens the fake IMS issued, oldest first.
    pub(crate) issued_tokens: Vec<String>,
    /// Tokens the gateway refuses.
    pub(crate) revoked_tokens: Vec<String>,
    /// New sandboxes show the demo catalog.
    pub(crate) demo_catalog: bool,
    /// What the change hook was last called with (or the state at start).
    pub(crate) last_export: Option<String>,
    /// Why the last change hook call failed, if it did (a later call that
    /// succeeds clears it).
    pub(crate) change_error: Option<String>,
}

impl State {
    /// Takes the first scripted reply meant for `request`.
    pub(crate) fn take_scripted_reply(&mut self, request: &RecordedRequest) -> Option<Reply> {
        let index = self.replies.iter().position(|r| r.applies_to(request))?;
        self.replies.remove(index)
    }

    /// The sandbox `name`, made empty on first use.
    pub(crate) fn sandbox_mut(&mut self, name: &str) -> &mut SandboxState {
        let (serial, fixtures) = (&self.serial, &self.fixtures);
        let demo_catalog = self.demo_catalog;
        self.sandboxes.entry(name.to_owned()).or_insert_with(|| {
            let mut sandbox = SandboxState::new(serial, fixtures);
            if demo_catalog {
                sandbox.demo_catalog = Some(crate::explore::demo_catalog());
            }
            sandbox
        })
    }
}

/// The change hook: called with the exported state after every request
/// that changed it.
pub(crate) type ChangeHook = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// What the server threads and the [`FakeFlowService`](crate::FakeFlowService)
/// handle share.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) expected: Expected,
    /// Called after every state-changing request, before the answer.
    pub(crate) on_change: Option<ChangeHook>,
    pub(crate) shutdown: AtomicBool,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not wedge the server.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
