//! Typed CBC documents and request bodies (see `../shared/cbc/API.md`).
//!
//! Responses are parsed leniently (`lenient.rs`): unknown alert types and unknown fields are
//! kept, absent or oddly-typed optional fields are `None`. Requests are strict types, so the
//! client cannot send a body CBC would misread — in particular a device action can only name
//! explicit device ids, never the `search` form that acts on every matching device.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::cbc_object;

// ---------------------------------------------------------------------------------------------
// Alerts v7

cbc_object! {
    /// The `workflow` object of an alert.
    pub struct Workflow {
        status: Option<String>,
        closure_reason: Option<String>,
        change_timestamp: Option<Timestamp>,
        changed_by_type: Option<String>,
        changed_by: Option<String>,
    }
}

cbc_object! {
    /// The `determination` object of an alert (separate from the workflow).
    pub struct Determination {
        value: Option<String>,
        change_timestamp: Option<Timestamp>,
        changed_by_type: Option<String>,
        changed_by: Option<String>,
    }
}

cbc_object! {
    /// `watchlists[]` entries of a WATCHLIST alert.
    pub struct WatchlistRef {
        id: Option<String>,
        name: Option<String>,
    }
}

cbc_object! {
    /// One Alerts v7 alert. Every type (CB_ANALYTICS, WATCHLIST, DEVICE_CONTROL,
    /// CONTAINER_RUNTIME, HOST_BASED_FIREWALL, INTRUSION_DETECTION_SYSTEM and any future one)
    /// parses into this struct; type-specific fields are modelled where the console uses them and
    /// kept in `extra` otherwise.
    pub struct Alert {
        id: Option<String>,
        org_key: Option<String>,
        alert_type = "type": Option<String>,
        alert_url: Option<String>,
        severity: Option<i64>,
        reason: Option<String>,
        reason_code: Option<String>,
        threat_id: Option<String>,
        primary_event_id: Option<String>,
        backend_timestamp: Option<Timestamp>,
        backend_update_timestamp: Option<Timestamp>,
        user_update_timestamp: Option<Timestamp>,
        detection_timestamp: Option<Timestamp>,
        first_event_timestamp: Option<Timestamp>,
        last_event_timestamp: Option<Timestamp>,
        policy_applied: Option<String>,
        run_state: Option<String>,
        sensor_action: Option<String>,
        workflow: Option<Workflow>,
        determination: Option<Determination>,
        tags: Vec<String>,
        alert_notes_present: Option<bool>,
        threat_notes_present: Option<bool>,
        is_updated: Option<bool>,
        mdr_alert: Option<bool>,
        device_id: Option<i64>,
        device_name: Option<String>,
        device_os: Option<String>,
        device_os_version: Option<String>,
        device_username: Option<String>,
        device_policy: Option<String>,
        device_policy_id: Option<i64>,
        device_target_value: Option<String>,
        device_location: Option<String>,
        device_external_ip: Option<String>,
        device_internal_ip: Option<String>,
        process_guid: Option<String>,
        process_pid: Option<i64>,
        process_name: Option<String>,
        process_sha256: Option<String>,
        process_md5: Option<String>,
        process_cmdline: Option<String>,
        process_username: Option<String>,
        process_reputation: Option<String>,
        process_effective_reputation: Option<String>,
        parent_guid: Option<String>,
        parent_pid: Option<i64>,
        parent_name: Option<String>,
        parent_sha256: Option<String>,
        parent_cmdline: Option<String>,
        parent_username: Option<String>,
        parent_reputation: Option<String>,
        childproc_guid: Option<String>,
        childproc_name: Option<String>,
        childproc_sha256: Option<String>,
        childproc_cmdline: Option<String>,
        childproc_username: Option<String>,
        ttps: Vec<String>,
        attack_tactic: Option<String>,
        attack_technique: Option<String>,
        // WATCHLIST
        report_id: Option<String>,
        report_name: Option<String>,
        ioc_id: Option<String>,
        ioc_hit: Option<String>,
        watchlists: Vec<WatchlistRef>,
        // Network evidence (HOST_BASED_FIREWALL, INTRUSION_DETECTION_SYSTEM, CONTAINER_RUNTIME)
        netconn_remote_ip: Option<String>,
        netconn_remote_port: Option<i64>,
        netconn_local_ip: Option<String>,
        netconn_local_port: Option<i64>,
        netconn_protocol: Option<String>,
        netconn_remote_domain: Option<String>,
        threat_name: Option<String>,
        // DEVICE_CONTROL
        vendor_name: Option<String>,
        product_name: Option<String>,
        serial_number: Option<String>,
    }
}

pub use super::summary::AlertSummary;

/// What polling and queues need of any alert representation.
pub trait AlertRecord:
    crate::cbc::lenient::LenientObject + Clone + PartialEq + Send + 'static
{
    fn id(&self) -> Option<&str>;
    fn updated_at(&self) -> Option<Timestamp>;
}

impl AlertRecord for Alert {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn updated_at(&self) -> Option<Timestamp> {
        self.backend_update_timestamp
    }
}

impl AlertRecord for AlertSummary {
    fn id(&self) -> Option<&str> {
        AlertSummary::id(self)
    }
    fn updated_at(&self) -> Option<Timestamp> {
        self.backend_update_timestamp
    }
}

/// Alert types the API documents. Anything else is `Other` and still shown.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AlertType {
    CbAnalytics,
    Watchlist,
    DeviceControl,
    ContainerRuntime,
    HostBasedFirewall,
    IntrusionDetectionSystem,
    Other(String),
}

impl AlertType {
    pub fn parse(s: &str) -> AlertType {
        match s {
            "CB_ANALYTICS" => AlertType::CbAnalytics,
            "WATCHLIST" => AlertType::Watchlist,
            "DEVICE_CONTROL" => AlertType::DeviceControl,
            "CONTAINER_RUNTIME" => AlertType::ContainerRuntime,
            "HOST_BASED_FIREWALL" => AlertType::HostBasedFirewall,
            "INTRUSION_DETECTION_SYSTEM" => AlertType::IntrusionDetectionSystem,
            other => AlertType::Other(other.to_owned()),
        }
    }
}

/// Workflow status of an alert (`OPEN`, `IN_PROGRESS`, `CLOSED`, or a value CBC may add later).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WorkflowStatus {
    Open,
    InProgress,
    Closed,
    Other(String),
}

impl WorkflowStatus {
    pub fn parse(s: &str) -> WorkflowStatus {
        match s {
            "OPEN" => WorkflowStatus::Open,
            "IN_PROGRESS" => WorkflowStatus::InProgress,
            "CLOSED" => WorkflowStatus::Closed,
            other => WorkflowStatus::Other(other.to_owned()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            WorkflowStatus::Open => "OPEN",
            WorkflowStatus::InProgress => "IN_PROGRESS",
            WorkflowStatus::Closed => "CLOSED",
            WorkflowStatus::Other(s) => s,
        }
    }
}

impl fmt::Display for WorkflowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for WorkflowStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Alert {
    pub fn kind(&self) -> AlertType {
        AlertType::parse(self.alert_type.as_deref().unwrap_or(""))
    }
    /// Workflow status; an alert without a readable workflow counts as open (safer to show).
    pub fn status(&self) -> WorkflowStatus {
        self.workflow
            .as_ref()
            .and_then(|w| w.status.as_deref())
            .map_or(WorkflowStatus::Open, WorkflowStatus::parse)
    }
    pub fn is_closed(&self) -> bool {
        self.status() == WorkflowStatus::Closed
    }
}

/// `POST alerts/_search` response, of full alerts or of summaries.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(bound = "T: crate::cbc::lenient::LenientObject")]
pub struct AlertPage<T = Alert> {
    #[serde(default, deserialize_with = "lenient_vec")]
    pub results: Vec<T>,
    #[serde(default)]
    pub num_found: u64,
    #[serde(default)]
    pub num_available: Option<u64>,
}

/// The counts of an alert search page parsed with [`AlertPageInto`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    pub num_found: u64,
    pub num_available: Option<u64>,
}

/// Parses an alert search page like [`AlertPage`]'s `Deserialize` (same fields, same rules,
/// same errors), but appends the results to a caller's `Vec` — the paging loop's collection —
/// instead of building a page-sized `Vec` that is then copied over. Returns the counts.
/// (Held to that, case by case, by the tests of `page.rs`.)
pub struct AlertPageInto<'a, T>(pub &'a mut Vec<T>);

impl<'de, T: crate::cbc::lenient::LenientObject> serde::de::DeserializeSeed<'de>
    for AlertPageInto<'_, T>
{
    type Value = PageCounts;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<PageCounts, D::Error> {
        use crate::cbc::lenient::ExtendLenient;
        use serde::de::{Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
        const FIELDS: &[&str] = &["results", "num_found", "num_available"];
        struct V<'a, T>(&'a mut Vec<T>);
        impl<'de, T: crate::cbc::lenient::LenientObject> Visitor<'de> for V<'_, T> {
            type Value = PageCounts;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("struct AlertPage")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PageCounts, A::Error> {
                if seq.next_element_seed(ExtendLenient(self.0))?.is_none() {
                    return Ok(PageCounts::default());
                }
                let num_found = seq.next_element::<u64>()?.unwrap_or_default();
                let num_available = seq.next_element::<Option<u64>>()?.unwrap_or_default();
                Ok(PageCounts {
                    num_found,
                    num_available,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PageCounts, A::Error> {
                let (mut results, mut num_found, mut num_available) = (false, None, None);
                while let Some(key) = map.next_key::<crate::cbc::lenient::Key<'de>>()? {
                    match key.0.as_ref() {
                        "results" => {
                            if results {
                                return Err(A::Error::duplicate_field("results"));
                            }
                            results = true;
                            map.next_value_seed(ExtendLenient(&mut *self.0))?;
                        }
                        "num_found" => {
                            if num_found.is_some() {
                                return Err(A::Error::duplicate_field("num_found"));
                            }
                            num_found = Some(map.next_value::<u64>()?);
                        }
                        "num_available" => {
                            if num_available.is_some() {
                                return Err(A::Error::duplicate_field("num_available"));
                            }
                            num_available = Some(map.next_value::<Option<u64>>()?);
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(PageCounts {
                    num_found: num_found.unwrap_or_default(),
                    num_available: num_available.unwrap_or_default(),
                })
            }
        }
        d.deserialize_struct("AlertPage", FIELDS, V(self.0))
    }
}

fn lenient_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: crate::cbc::lenient::LenientObject,
{
    <Vec<T> as crate::cbc::lenient::LenientField>::read(d)
}

/// A time window: relative (`-30d`) or absolute.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TimeRange {
    Relative { range: String },
    Absolute { start: Timestamp, end: Timestamp },
}

/// One criteria value: a list of strings or numbers, a time window, a number or a flag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Criterion {
    Strings(Vec<String>),
    Ints(Vec<i64>),
    Time(TimeRange),
    Int(i64),
    Bool(bool),
}

/// `criteria` / `exclusions`: field → value; OR within a field, AND across fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Criteria(pub BTreeMap<String, Criterion>);

impl Criteria {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn strings<I, S>(mut self, field: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.0.insert(
            field.into(),
            Criterion::Strings(values.into_iter().map(Into::into).collect()),
        );
        self
    }
    pub fn ints(mut self, field: &str, values: impl IntoIterator<Item = i64>) -> Self {
        self.0
            .insert(field.into(), Criterion::Ints(values.into_iter().collect()));
        self
    }
    pub fn time(mut self, field: &str, range: TimeRange) -> Self {
        self.0.insert(field.into(), Criterion::Time(range));
        self
    }
    pub fn int(mut self, field: &str, value: i64) -> Self {
        self.0.insert(field.into(), Criterion::Int(value));
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SortField {
    pub field: String,
    pub order: Order,
}

impl SortField {
    pub fn new(field: &str, order: Order) -> Self {
        SortField {
            field: field.into(),
            order,
        }
    }
}

/// `POST alerts/_search` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertSearch {
    #[serde(skip_serializing_if = "Criteria::is_empty")]
    pub criteria: Criteria,
    #[serde(skip_serializing_if = "Criteria::is_empty")]
    pub exclusions: Criteria,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_range: Option<TimeRange>,
    pub rows: u32,
    /// 1-based index of the first row; omitted for the first page, as the SDK does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortField>,
}

impl Default for AlertSearch {
    fn default() -> Self {
        AlertSearch {
            criteria: Criteria::default(),
            exclusions: Criteria::default(),
            query: None,
            time_range: None,
            rows: 100,
            start: None,
            sort: vec![SortField::new("backend_timestamp", Order::Desc)],
        }
    }
}

/// The deepest row CBC lets a search page reach.
pub const MAX_SEARCH_WINDOW: u64 = 10_000;

/// `POST alerts/workflow` body: which alerts (by explicit id) and what to set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowUpdate {
    pub criteria: Criteria,
    pub status: WorkflowStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closure_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub determination: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl WorkflowUpdate {
    /// An update of exactly the listed alerts.
    pub fn for_alerts<I, S>(ids: I, status: WorkflowStatus) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        WorkflowUpdate {
            criteria: Criteria::default().strings("id", ids),
            status,
            closure_reason: None,
            determination: None,
            note: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowAccepted {
    #[serde(deserialize_with = "string_or_number")]
    pub request_id: String,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    <Option<String> as crate::cbc::lenient::LenientField>::read(d)?
        .ok_or_else(|| serde::de::Error::custom("expected a job id"))
}

cbc_object! {
    pub struct JobProgress {
        num_total: Option<i64>,
        num_completed: Option<i64>,
        message: Option<String>,
    }
}

cbc_object! {
    /// A jobs-service job (`GET /jobs/v1/orgs/{org}/jobs/{id}`).
    pub struct Job {
        id: Option<String>,
        job_type = "type": Option<String>,
        status: Option<String>,
        progress: Option<JobProgress>,
        create_time: Option<Timestamp>,
        last_update_time: Option<Timestamp>,
    }
}

impl Job {
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_deref(), Some("COMPLETED") | Some("FAILED"))
    }
    pub fn failed(&self) -> bool {
        self.status.as_deref() == Some("FAILED")
    }
}

cbc_object! {
    /// An alert note.
    pub struct Note {
        id: Option<String>,
        author: Option<String>,
        note: Option<String>,
        create_timestamp: Option<Timestamp>,
        last_update_timestamp: Option<Timestamp>,
        source: Option<String>,
    }
}

cbc_object! {
    /// `GET alerts/{id}/notes` response.
    pub struct NotePage {
        num_found: Option<i64>,
        results: Vec<Note>,
    }
}

cbc_object! {
    /// One entry of `GET alerts/{id}/history`.
    pub struct HistoryEntry {
        entry_type = "type": Option<String>,
        workflow: Option<Workflow>,
        determination: Option<Determination>,
        note: Option<Note>,
    }
}

cbc_object! {
    pub struct History {
        history: Vec<HistoryEntry>,
    }
}

// ---------------------------------------------------------------------------------------------
// Devices

cbc_object! {
    /// A device (endpoint) of an org.
    pub struct Device {
        id: Option<i64>,
        name: Option<String>,
        os: Option<String>,
        os_version: Option<String>,
        status: Option<String>,
        quarantined: Option<bool>,
        passive_mode: Option<bool>,
        policy_id: Option<i64>,
        policy_name: Option<String>,
        policy_override: Option<bool>,
        last_contact_time: Option<Timestamp>,
        last_reported_time: Option<Timestamp>,
        registered_time: Option<Timestamp>,
        last_internal_ip_address: Option<String>,
        last_external_ip_address: Option<String>,
        last_location: Option<String>,
        login_user_name: Option<String>,
        email: Option<String>,
        sensor_version: Option<String>,
        sensor_states: Vec<String>,
        target_priority: Option<String>,
        deployment_type: Option<String>,
        organization_id: Option<i64>,
        organization_name: Option<String>,
        mac_address: Option<String>,
    }
}

cbc_object! {
    pub struct DevicePage {
        num_found: Option<i64>,
        results: Vec<Device>,
    }
}

/// `POST devices/_search` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceSearch {
    #[serde(skip_serializing_if = "Criteria::is_empty")]
    pub criteria: Criteria,
    #[serde(skip_serializing_if = "Criteria::is_empty")]
    pub exclusions: Criteria,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub rows: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortField>,
}

impl Default for DeviceSearch {
    fn default() -> Self {
        DeviceSearch {
            criteria: Criteria::default(),
            exclusions: Criteria::default(),
            query: None,
            rows: 100,
            start: None,
            sort: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Toggle {
    On,
    Off,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToggleOptions {
    pub toggle: Toggle,
}

/// `POST device_actions` for quarantine. Only the explicit-id form exists in this type: the
/// `search` form would act on every device matching a query, which no console key may ever do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarantineAction {
    action_type: &'static str,
    device_id: Vec<i64>,
    options: ToggleOptions,
}

impl QuarantineAction {
    /// `None` when `device_ids` is empty: an action must name at least one device.
    pub fn new(device_ids: Vec<i64>, toggle: Toggle) -> Option<Self> {
        (!device_ids.is_empty()).then_some(QuarantineAction {
            action_type: "QUARANTINE",
            device_id: device_ids,
            options: ToggleOptions { toggle },
        })
    }
    pub fn device_ids(&self) -> &[i64] {
        &self.device_id
    }
    pub fn toggle(&self) -> Toggle {
        self.options.toggle
    }
}

// ---------------------------------------------------------------------------------------------
// Platform search: processes and observations

/// `{"job_id": ...}` from any search/detail/summary job creation.
#[derive(Debug, Clone, Deserialize)]
pub struct JobCreated {
    #[serde(deserialize_with = "string_or_number")]
    pub job_id: String,
}

/// `POST processes/search_jobs` / `observations/search_jobs` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchJob {
    pub query: String,
    #[serde(skip_serializing_if = "Criteria::is_empty")]
    pub criteria: Criteria,
    #[serde(skip_serializing_if = "Criteria::is_empty")]
    pub exclusions: Criteria,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_range: Option<SearchWindow>,
    pub rows: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortField>,
}

impl SearchJob {
    pub fn query(q: impl Into<String>) -> Self {
        SearchJob {
            query: q.into(),
            criteria: Criteria::default(),
            exclusions: Criteria::default(),
            time_range: None,
            rows: 500,
            sort: Vec::new(),
        }
    }
}

/// Platform-search time window (`start`/`end` or a relative `window` such as `-2w`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchWindow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
}

/// A page of a search or detail job's results, with the job's progress counters.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound = "T: crate::cbc::lenient::LenientObject")]
pub struct JobResults<T> {
    #[serde(default, deserialize_with = "lenient_vec")]
    pub results: Vec<T>,
    #[serde(default)]
    pub num_found: u64,
    #[serde(default)]
    pub num_available: u64,
    #[serde(default)]
    pub contacted: u64,
    #[serde(default)]
    pub completed: u64,
    #[serde(default)]
    pub message: Option<String>,
}

impl<T> JobResults<T> {
    /// The SDK's rule: done once some shards were contacted and all of them answered, or when
    /// the server says there is no data.
    pub fn is_done(&self) -> bool {
        (self.contacted > 0 && self.completed >= self.contacted)
            || self
                .message
                .as_deref()
                .is_some_and(|m| m.contains("No data available"))
    }
}

cbc_object! {
    /// A process document (search result, detail, or a node of a tree with `children`).
    pub struct Process {
        process_guid: Option<String>,
        process_name: Option<String>,
        process_pid: Option<i64>,
        process_cmdline: Option<String>,
        process_username: Option<String>,
        process_hash: Vec<String>,
        process_sha256: Option<String>,
        process_reputation: Option<String>,
        process_effective_reputation: Option<String>,
        process_start_time: Option<Timestamp>,
        parent_guid: Option<String>,
        parent_name: Option<String>,
        parent_pid: Option<i64>,
        device_id: Option<i64>,
        device_name: Option<String>,
        device_os: Option<String>,
        device_internal_ip: Option<String>,
        device_timestamp: Option<Timestamp>,
        backend_timestamp: Option<Timestamp>,
        childproc_count: Option<i64>,
        netconn_count: Option<i64>,
        filemod_count: Option<i64>,
        regmod_count: Option<i64>,
        ttp: Vec<String>,
        alert_id: Vec<String>,
        children: Vec<Process>,
    }
}

impl Process {
    /// SHA-256 of the image: the explicit field, else the 64-hex entry of `process_hash`.
    pub fn sha256(&self) -> Option<&str> {
        self.process_sha256.as_deref().or_else(|| {
            self.process_hash
                .iter()
                .map(String::as_str)
                .find(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        })
    }
}

cbc_object! {
    /// `summary` of a summary job: the process, its parent, children and siblings.
    pub struct ProcessSummary {
        process: Option<Process>,
        parent: Option<Process>,
        children: Vec<Process>,
        siblings: Vec<Process>,
    }
}

cbc_object! {
    /// `GET processes/summary_jobs/{id}/results?format=tree|summary`.
    pub struct SummaryResults {
        exception: Option<String>,
        tree: Option<Process>,
        summary: Option<ProcessSummary>,
        contacted: Option<i64>,
        completed: Option<i64>,
    }
}

impl SummaryResults {
    pub fn is_done(&self) -> bool {
        let (c, d) = (self.contacted.unwrap_or(0), self.completed.unwrap_or(0));
        c > 0 && d >= c
    }
}

/// Output format of a summary job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryFormat {
    Tree,
    Summary,
}

impl SummaryFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SummaryFormat::Tree => "tree",
            SummaryFormat::Summary => "summary",
        }
    }
}

cbc_object! {
    /// An observation (network, process, ... evidence), with the detail fields where present.
    pub struct Observation {
        observation_id: Option<String>,
        observation_type: Option<String>,
        observation_description: Option<String>,
        alert_id: Vec<String>,
        device_id: Option<i64>,
        device_name: Option<String>,
        device_internal_ip: Option<String>,
        process_guid: Option<String>,
        process_name: Option<String>,
        process_sha256: Option<String>,
        process_username: Vec<String>,
        event_type: Vec<String>,
        enriched_event_type: Vec<String>,
        netconn_ipv4: Option<Ipv4Field>,
        netconn_local_ipv4: Option<Ipv4Field>,
        netconn_port: Option<i64>,
        netconn_local_port: Option<i64>,
        netconn_inbound: Option<bool>,
        netconn_protocol: Option<String>,
        netconn_domain: Option<String>,
        event_network_remote_ipv4: Option<String>,
        event_network_remote_port: Option<i64>,
        event_network_local_ipv4: Option<String>,
        event_network_inbound: Option<bool>,
        event_network_protocol: Option<String>,
        backend_timestamp: Option<Timestamp>,
        device_timestamp: Option<Timestamp>,
    }
}

/// An IPv4 address CBC sends either as a dotted string or as an integer (observations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Ipv4Field(pub String);

impl crate::cbc::lenient::LenientField for Option<Ipv4Field> {
    fn read<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <Option<String> as crate::cbc::lenient::LenientField>::read(d)?;
        Ok(raw.map(|s| match s.parse::<u32>() {
            Ok(n) => Ipv4Field(std::net::Ipv4Addr::from(n).to_string()),
            Err(_) => Ipv4Field(s),
        }))
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl Observation {
    pub fn remote_ip(&self) -> Option<&str> {
        self.netconn_ipv4
            .as_ref()
            .map(|i| i.0.as_str())
            .or(self.event_network_remote_ipv4.as_deref())
    }
    pub fn remote_port(&self) -> Option<i64> {
        self.netconn_port.or(self.event_network_remote_port)
    }
    pub fn local_ip(&self) -> Option<&str> {
        self.netconn_local_ipv4
            .as_ref()
            .map(|i| i.0.as_str())
            .or(self.event_network_local_ipv4.as_deref())
    }
    pub fn inbound(&self) -> Option<bool> {
        self.netconn_inbound.or(self.event_network_inbound)
    }
}

/// `POST observations/detail_jobs` body: explicit ids or every observation behind one alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ObservationDetail {
    Ids { observation_ids: Vec<String> },
    Alert { alert_id: String },
}

// ---------------------------------------------------------------------------------------------
// Reputation overrides

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OverrideList {
    #[serde(rename = "WHITE_LIST")]
    Allow,
    #[serde(rename = "BLACK_LIST")]
    Ban,
}

/// `POST reputations/overrides` body for a SHA-256 (the only override socdeck creates; CBC
/// accepts BLACK_LIST only for SHA-256 anyway).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HashOverride {
    pub override_list: OverrideList,
    override_type: &'static str,
    pub sha256_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    pub description: String,
}

impl HashOverride {
    /// `None` unless `sha256` is 64 hex digits (CBC would answer 400).
    pub fn new(
        list: OverrideList,
        sha256: &str,
        filename: Option<String>,
        description: String,
    ) -> Option<Self> {
        let ok = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| HashOverride {
            override_list: list,
            override_type: "SHA256",
            sha256_hash: sha256.to_ascii_lowercase(),
            filename,
            description,
        })
    }
}

cbc_object! {
    /// A reputation override as stored by CBC.
    pub struct ReputationOverride {
        id: Option<String>,
        created_by: Option<String>,
        create_time: Option<Timestamp>,
        description: Option<String>,
        override_list: Option<String>,
        override_type: Option<String>,
        sha256_hash: Option<String>,
        filename: Option<String>,
        path: Option<String>,
    }
}

cbc_object! {
    pub struct OverridePage {
        num_found: Option<i64>,
        results: Vec<ReputationOverride>,
    }
}

/// `POST reputations/overrides/_search` body (0-based `start`, omitted when 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverrideSearch {
    pub criteria: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub rows: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
}

impl OverrideSearch {
    /// SHA-256 overrides of one list whose text matches `sha256` (callers compare the hash).
    pub fn for_hash(list: OverrideList, sha256: &str) -> Self {
        let list = match list {
            OverrideList::Allow => "WHITE_LIST",
            OverrideList::Ban => "BLACK_LIST",
        };
        OverrideSearch {
            criteria: BTreeMap::from([
                ("override_list".to_string(), list.to_string()),
                ("override_type".to_string(), "SHA256".to_string()),
            ]),
            query: Some(sha256.to_ascii_lowercase()),
            rows: 100,
            start: None,
        }
    }
}

/// CBC's error JSON (`{"error_code", "message"}` or `{"reason", "message"}`), for messages.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}
