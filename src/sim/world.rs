//! The simulator's data model: what the scenario generator and the replay loader produce and
//! what the HTTP layer (`server.rs`, `store.rs`) serves.
//!
//! Documents are kept as JSON objects (`Doc`) rather than typed structs on purpose: a CBC server
//! serves whatever fields a document has, criteria and sort name fields generically, and replayed
//! alerts may carry fields and types this code has never heard of. The typed model lives on the
//! client side (`crate::cbc::model`). The store holds the same JSON in a compact form
//! ([`CompactStory`], `compact.rs`): sources hand their backlog over in it.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::compact::CDoc;

/// One JSON document (alert, device, process, observation, note, ...).
pub type Doc = Map<String, Value>;

/// A CBC policy of one org.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub id: i64,
    pub name: String,
}

/// One customer org as the simulator knows it before any alert exists.
#[derive(Debug, Clone)]
pub struct OrgSpec {
    /// Alphanumeric CBC org key, e.g. `7DESJ9GN`.
    pub org_key: String,
    /// Human name of the customer, e.g. `Tanaka Logistics`.
    pub name: String,
    pub policies: Vec<Policy>,
    /// Account names (`CORP\\t.sato`) that appear on devices and processes.
    pub users: Vec<String>,
    /// Device objects in the shape of `fixtures/device_get.json` (at least `id`, `name`, `os`,
    /// `os_version`, `status`, `quarantined`, `policy_id`, `policy_name`,
    /// `last_internal_ip_address`, `last_external_ip_address`, `last_contact_time`,
    /// `login_user_name`, `target_priority`, `organization_name`, ...). Device ids are unique
    /// across all orgs.
    pub devices: Vec<Doc>,
}

/// Everything one attack story adds to one org: its alerts plus the process and observation
/// documents behind them. Stories are self-consistent: every alert's `process_guid` /
/// `parent_guid` exist in `processes`, every process's `parent_guid` chain ends at a root,
/// observations name an existing `process_guid` and carry the alert ids they belong to.
#[derive(Debug, Clone, Default)]
pub struct Story {
    /// Alerts v7 objects (shape of `fixtures/alert_v7_cb_analytics.json`), complete with
    /// `id`, `org_key`, `type`, `backend_timestamp`, `backend_update_timestamp`, `workflow`,
    /// `determination`, device, process/parent/child fields, `ttps`, `severity`, `reason`...
    pub alerts: Vec<Doc>,
    /// Process documents (shape of `fixtures/process_search_job_results.json` results,
    /// plus `process_sha256`, `process_start_time`, `process_username` as arrays like CBC).
    pub processes: Vec<Doc>,
    /// Observation documents with the detail fields (shape of
    /// `fixtures/observations_detail_job_results.json` results), incl. `netconn_*` for network
    /// observations and `alert_id: [..]`.
    pub observations: Vec<Doc>,
}

impl Story {
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty() && self.processes.is_empty() && self.observations.is_empty()
    }
}

/// A [`Story`] in the form the store keeps documents in (see `compact.rs`; `From<&Story>`
/// converts).
#[derive(Debug, Clone, Default)]
pub struct CompactStory {
    pub alerts: Vec<CDoc>,
    pub processes: Vec<CDoc>,
    pub observations: Vec<CDoc>,
}

/// A source of stories: the seeded generator or a replay file.
pub trait StorySource: Send {
    /// The orgs this source populates. Called once at start.
    fn orgs(&self) -> Vec<OrgSpec>;
    /// The next live story, timestamped `now`, for one of the orgs. `None` when the source has
    /// nothing more (a replay file that has been served completely).
    fn next_story(&mut self, now: Timestamp) -> Option<(usize, Story)>;
    /// The stories present at start (backlog), each already timestamped in the past relative to
    /// `now`, oldest first. `(org index, story)` pairs.
    fn backlog(&mut self, now: Timestamp) -> Vec<(usize, Story)>;
    /// The same stories as [`StorySource::backlog`], in the same order, converted and handed to
    /// `sink` one at a time. The simulator starts from this: a source that can produce stories
    /// one by one (the generator, replay) overrides it so that a large backlog never exists all
    /// at once as `serde_json` documents. The default converts `backlog()`.
    fn backlog_each(&mut self, now: Timestamp, sink: &mut dyn FnMut(usize, CompactStory)) {
        for (org, story) in self.backlog(now) {
            sink(org, CompactStory::from(&story));
        }
    }
}
