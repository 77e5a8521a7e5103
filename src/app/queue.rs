//! The alert queue: a compact row per alert, the sorted and filtered order, and a selection
//! that stays on the same alert while rows move under it.
//!
//! Rows are built once, when an alert arrives or changes (off the UI thread, in the poller):
//! every attacker-controlled string is sanitised then and kept as a [`Cell`], so drawing never
//! sanitises, parses or allocates per row. Sorting and filtering happen in [`Queue::recompute`],
//! called when data or filters change — never while drawing.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::triage::{Level, LevelPolicy};
use crate::cbc::model::{Alert, AlertSummary, WorkflowStatus};
use crate::sla::{Band, SlaPolicy};
use crate::text;

/// Index of an org in the console's org list.
pub type OrgIdx = u16;

/// Identity of an alert across orgs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub org: OrgIdx,
    pub id: Box<str>,
}

/// A sanitised, display-ready string: escapes of hidden characters are marked by byte range so
/// the view can style them distinctly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    text: Box<str>,
    escapes: Box<[(u32, u32)]>,
}

impl Cell {
    /// Sanitises `raw`, keeping at most `cap` characters.
    pub fn new(raw: &str, cap: usize) -> Cell {
        let safe = text::sanitize_with_cap(raw, cap);
        let escapes = safe
            .escapes()
            .iter()
            .map(|r| (r.start as u32, r.end as u32))
            .collect();
        Cell {
            text: safe.as_str().into(),
            escapes,
        }
    }

    pub fn from_opt(raw: Option<&str>, cap: usize) -> Cell {
        raw.map_or_else(Cell::default, |s| Cell::new(s, cap))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Whether the raw value held hidden or control characters (shown as escapes).
    pub fn is_flagged(&self) -> bool {
        !self.escapes.is_empty()
    }

    /// `(text, is_escape)` pieces in order, for styled rendering.
    pub fn pieces(&self) -> impl Iterator<Item = (&str, bool)> {
        let mut out = Vec::with_capacity(self.escapes.len() * 2 + 1);
        let mut at = 0usize;
        for &(s, e) in self.escapes.iter() {
            let (s, e) = (s as usize, e as usize);
            if s > at {
                out.push((&self.text[at..s], false));
            }
            out.push((&self.text[s..e], true));
            at = e;
        }
        if at < self.text.len() {
            out.push((&self.text[at..], false));
        }
        out.into_iter()
    }
}

/// Display caps, in characters: a row never carries more than a screen can show.
const CAP_SHORT: usize = 128;
const CAP_REASON: usize = 256;
const CAP_CMDLINE: usize = 512;

/// What the queue and the preview show of one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: AlertKey,
    pub received_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub severity: Option<u8>,
    pub status: WorkflowStatus,
    pub closure_reason: Option<Box<str>>,
    pub closed_at: Option<Timestamp>,
    pub determination: Option<Box<str>>,
    pub alert_type: Cell,
    pub device: Cell,
    pub device_id: Option<i64>,
    pub device_os: Cell,
    pub policy: Cell,
    pub user: Cell,
    pub reason: Cell,
    /// File name of the acting process (the path's last component).
    pub process: Cell,
    pub process_path: Cell,
    pub cmdline: Cell,
    pub sha256: Option<Box<str>>,
    pub ttps: Cell,
    pub owner: Option<Cell>,
    /// The analyst's level once set (issue: triage), else `None` and the suggestion shows.
    pub level_set: Option<Level>,
    /// When the analyst's level was set (a workflow change after it means the alert was
    /// reopened and the level no longer stops the clock).
    pub level_at: Option<Timestamp>,
    /// When the workflow last changed (status, owner).
    pub workflow_at: Option<Timestamp>,
    /// When the first report was sent (structured note), which stops the clock for good.
    pub first_report_at: Option<Timestamp>,
    /// When the second report was sent (structured note).
    pub second_report_at: Option<Timestamp>,
    /// Any field held hidden or control characters: itself a finding.
    pub flagged: bool,
}

impl Row {
    /// The compact row of a full alert (see [`Row::from_summary`]).
    pub fn from_alert(org: OrgIdx, a: &Alert) -> Option<Row> {
        Row::from_summary(org, &AlertSummary::from(a))
    }

    /// The compact row of an alert; `None` for an alert without an id (it cannot be told
    /// apart from others or acted on).
    pub fn from_summary(org: OrgIdx, a: &AlertSummary) -> Option<Row> {
        let id = a.id.as_deref().filter(|s| !s.is_empty())?;
        let process_path = a.process_name.as_deref();
        let process_file = process_path.map(|p| p.rsplit(['\\', '/']).next().unwrap_or(p));
        let workflow = a.workflow.as_ref();
        // An unknown status is shown as text: sanitised (and flagged) like every other field.
        let (status, status_flagged) = match a.status() {
            WorkflowStatus::Other(s) => {
                let safe = text::sanitize_with_cap(&s, CAP_SHORT);
                (
                    WorkflowStatus::Other(safe.as_str().to_owned()),
                    safe.is_flagged(),
                )
            }
            s => (s, false),
        };
        let owner = workflow
            .filter(|_| status == WorkflowStatus::InProgress)
            .filter(|w| w.changed_by_type.as_deref() != Some("SYSTEM"))
            .and_then(|w| w.changed_by.as_deref())
            .map(|s| Cell::new(s, CAP_SHORT));
        let sha256 = a
            .process_sha256
            .as_deref()
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|h| h.to_ascii_lowercase().into_boxed_str());
        let mut row = Row {
            key: AlertKey {
                org,
                id: Cell::new(id, CAP_SHORT).text,
            },
            received_at: a.backend_timestamp,
            updated_at: a.backend_update_timestamp,
            severity: a.severity.and_then(|s| u8::try_from(s.clamp(0, 10)).ok()),
            closure_reason: workflow
                .and_then(|w| w.closure_reason.as_deref())
                .map(Into::into),
            closed_at: (status == WorkflowStatus::Closed)
                .then(|| workflow.and_then(|w| w.change_timestamp))
                .flatten(),
            determination: a
                .determination
                .as_ref()
                .and_then(|d| d.value.as_deref())
                .map(Into::into),
            status,
            alert_type: Cell::from_opt(a.alert_type.as_deref(), CAP_SHORT),
            device: Cell::from_opt(a.device_name.as_deref(), CAP_SHORT),
            device_id: a.device_id,
            device_os: Cell::from_opt(a.device_os.as_deref(), CAP_SHORT),
            policy: Cell::from_opt(a.device_policy.as_deref(), CAP_SHORT),
            user: Cell::from_opt(
                a.process_username
                    .as_deref()
                    .or(a.device_username.as_deref()),
                CAP_SHORT,
            ),
            reason: Cell::from_opt(a.reason.as_deref(), CAP_REASON),
            process: Cell::from_opt(process_file, CAP_SHORT),
            process_path: Cell::from_opt(process_path, CAP_REASON),
            cmdline: Cell::from_opt(a.process_cmdline.as_deref(), CAP_CMDLINE),
            sha256,
            ttps: Cell::new(&a.ttps.join(", "), CAP_REASON),
            owner,
            level_set: None,
            level_at: None,
            workflow_at: workflow.and_then(|w| w.change_timestamp),
            first_report_at: None,
            second_report_at: None,
            flagged: false,
        };
        row.flagged = [
            &row.alert_type,
            &row.device,
            &row.device_os,
            &row.policy,
            &row.user,
            &row.reason,
            &row.process_path,
            &row.cmdline,
            &row.ttps,
        ]
        .iter()
        .any(|c| c.is_flagged())
            || row.owner.as_ref().is_some_and(Cell::is_flagged)
            || status_flagged
            || &*row.key.id != id;
        Some(row)
    }

    pub fn is_closed(&self) -> bool {
        self.status == WorkflowStatus::Closed
    }

    /// The triage level: the analyst's, else the suggestion from severity.
    pub fn level(&self, policy: &LevelPolicy) -> (Level, bool) {
        match self.level_set {
            Some(l) => (l, true),
            None => (policy.suggest(self.severity), false),
        }
    }

    /// The first-report clock of this row.
    pub fn clock(&self, sla: &SlaPolicy) -> Clock {
        let Some(received) = self.received_at else {
            return Clock::Unknown;
        };
        let Ok(deadline) = received.checked_add(sla.first_report) else {
            return Clock::Unknown;
        };
        if let Some(sent) = self.first_report_at {
            // The promise was kept or not; either way no clock runs after the report.
            return Clock::Stopped(Stop::Reported {
                late: sent > deadline,
                took: sent.duration_since(received),
            });
        }
        if let Some(l @ (Level::Low | Level::FalsePositive)) = self.level_set {
            // Reopened (the workflow moved after the triage, and not to closed): the level no
            // longer settles the alert and the clock runs again.
            let reopened = !self.is_closed()
                && matches!((self.workflow_at, self.level_at), (Some(w), Some(l)) if w > l);
            if !reopened {
                return Clock::Stopped(Stop::Triaged(l));
            }
        }
        if self.is_closed() {
            return Clock::Stopped(Stop::Closed {
                late: self.closed_at.is_some_and(|at| at > deadline),
            });
        }
        Clock::Running { deadline }
    }
}

/// Why a clock no longer runs. (Later: first report sent.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Closed in CBC; `late` when it was closed after the deadline.
    Closed { late: bool },
    /// An analyst triaged it Low or False positive: no report is owed.
    Triaged(Level),
    /// The first report was sent, `took` after receipt; `late` past the deadline.
    Reported { late: bool, took: SignedDuration },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Running {
        deadline: Timestamp,
    },
    Stopped(Stop),
    /// No receipt time: no clock can run (shown, never hidden).
    Unknown,
}

impl Clock {
    pub fn remaining(&self, now: Timestamp) -> Option<SignedDuration> {
        match self {
            Clock::Running { deadline } => Some(deadline.duration_since(now)),
            _ => None,
        }
    }

    pub fn band(&self, sla: &SlaPolicy, now: Timestamp) -> Option<Band> {
        self.remaining(now).map(|r| sla.band(r))
    }

    pub fn is_running(&self) -> bool {
        matches!(self, Clock::Running { .. })
    }
}

/// Which workflow statuses a status filter selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Open,
    InProgress,
    Closed,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 3] = [
        StatusFilter::Open,
        StatusFilter::InProgress,
        StatusFilter::Closed,
    ];

    pub fn matches(self, s: &WorkflowStatus) -> bool {
        match self {
            StatusFilter::Open => *s == WorkflowStatus::Open,
            StatusFilter::InProgress => *s == WorkflowStatus::InProgress,
            StatusFilter::Closed => *s == WorkflowStatus::Closed,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Open => "open",
            StatusFilter::InProgress => "in progress",
            StatusFilter::Closed => "closed",
        }
    }

    pub fn from_name(s: &str) -> Option<StatusFilter> {
        match s.to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
            "open" => Some(StatusFilter::Open),
            "in_progress" | "progress" => Some(StatusFilter::InProgress),
            "closed" => Some(StatusFilter::Closed),
            _ => None,
        }
    }
}

/// The queue's filters; all must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Case-insensitive substring over device, reason, process, user, org, policy and id.
    pub text: String,
    pub org: Option<OrgIdx>,
    pub level: Option<Level>,
    pub status: Option<StatusFilter>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.org.is_none() && self.level.is_none() && self.status.is_none()
    }
}

/// Counts for the header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Alerts not closed in CBC.
    pub open: usize,
    /// Alerts whose first-report clock runs.
    pub running: usize,
    /// Running clocks past their deadline.
    pub breached: usize,
}

/// Sort key: running clocks first by deadline (= by time left), then by severity (highest
/// first); below them the rows without a running clock — open ones (no receipt time) above
/// closed ones — by severity, then newest first.
fn sort_key(row: &Row, sla: &SlaPolicy) -> (u8, i64, i16, std::cmp::Reverse<i64>, Box<str>) {
    let sev = -i16::from(row.severity.unwrap_or(0));
    match row.clock(sla) {
        Clock::Running { deadline } => (
            0,
            deadline.as_millisecond(),
            sev,
            std::cmp::Reverse(0),
            row.key.id.clone(),
        ),
        _ => (
            if row.is_closed() { 2 } else { 1 },
            0,
            sev,
            std::cmp::Reverse(row.received_at.map_or(i64::MIN, |t| t.as_millisecond())),
            row.key.id.clone(),
        ),
    }
}

#[derive(Debug, Default)]
pub struct Queue {
    rows: HashMap<AlertKey, Row>,
    /// Visible rows (filtered), in display order.
    order: Vec<AlertKey>,
    selected: Option<AlertKey>,
    /// Index of `selected` in `order`.
    sel_idx: usize,
    /// First visible row of the table.
    offset: usize,
    paused: bool,
    /// Alerts that arrived while reordering was paused (appended at the bottom).
    arrived_while_paused: usize,
    pub filter: Filter,
    /// Deadlines of running clocks, sorted: breach counts are a binary search per tick.
    running_deadlines: Vec<Timestamp>,
    open: usize,
}

/// What a merge changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MergeResult {
    pub new: usize,
    pub changed: usize,
}

impl Queue {
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn visible_len(&self) -> usize {
        self.order.len()
    }
    pub fn get(&self, key: &AlertKey) -> Option<&Row> {
        self.rows.get(key)
    }

    /// Changes one row in place (what the analyst or another console set); the caller
    /// recomputes the order. `false` when the alert is not in the queue.
    pub fn update_row(&mut self, key: &AlertKey, edit: impl FnOnce(&mut Row)) -> bool {
        match self.rows.get_mut(key) {
            Some(r) => {
                edit(r);
                true
            }
            None => false,
        }
    }
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.values()
    }
    pub fn selected(&self) -> Option<&Row> {
        self.selected.as_ref().and_then(|k| self.rows.get(k))
    }
    pub fn selected_index(&self) -> Option<usize> {
        self.selected.as_ref().map(|_| self.sel_idx)
    }
    pub fn offset(&self) -> usize {
        self.offset
    }
    pub fn is_paused(&self) -> bool {
        self.paused
    }
    pub fn arrived_while_paused(&self) -> usize {
        self.arrived_while_paused
    }

    /// Rows `offset..offset + height` of the visible order: the only rows a frame touches.
    pub fn window(&self, height: usize) -> impl Iterator<Item = (usize, &Row)> {
        let end = (self.offset + height).min(self.order.len());
        self.order[self.offset.min(end)..end]
            .iter()
            .enumerate()
            .filter_map(move |(i, k)| self.rows.get(k).map(|r| (self.offset + i, r)))
    }

    /// Merges rows (newest version of each alert wins). Call [`Queue::recompute`] afterwards.
    pub fn merge(&mut self, rows: Vec<Row>) -> MergeResult {
        let mut result = MergeResult::default();
        for mut row in rows {
            match self.rows.get_mut(&row.key) {
                None => {
                    if self.paused {
                        self.arrived_while_paused += 1;
                    }
                    self.rows.insert(row.key.clone(), row);
                    result.new += 1;
                }
                Some(existing) => {
                    if row.updated_at < existing.updated_at {
                        continue;
                    }
                    // The analyst's level is ours, not CBC's: an update must not erase it.
                    row.level_set = row.level_set.or(existing.level_set);
                    if *existing != row {
                        *existing = row;
                        result.changed += 1;
                    }
                }
            }
        }
        result
    }

    /// Rebuilds the visible order from the rows and filters, and re-finds the selection.
    /// While paused, the existing order is kept and new rows are appended at the bottom.
    pub fn recompute(&mut self, sla: &SlaPolicy, levels: &LevelPolicy, org_names: &[String]) {
        let filter = &self.filter;
        let needle = filter.text.to_lowercase();
        let matches = |row: &Row| -> bool {
            filter.org.is_none_or(|o| o == row.key.org)
                && filter.level.is_none_or(|l| row.level(levels).0 == l)
                && filter.status.is_none_or(|s| s.matches(&row.status))
                && (needle.is_empty() || text_matches(row, &needle, org_names))
        };

        if self.paused {
            // Keep the rows already shown where they are; append newcomers at the bottom.
            let rows = &self.rows;
            self.order.retain(|k| rows.get(k).is_some_and(&matches));
            let present: std::collections::HashSet<&AlertKey> = self.order.iter().collect();
            let mut fresh: Vec<&Row> = rows
                .values()
                .filter(|r| !present.contains(&r.key) && matches(r))
                .collect();
            fresh.sort_by_cached_key(|r| sort_key(r, sla));
            let fresh: Vec<AlertKey> = fresh.into_iter().map(|r| r.key.clone()).collect();
            drop(present);
            self.order.extend(fresh);
        } else {
            let mut visible: Vec<&Row> = self.rows.values().filter(|r| matches(r)).collect();
            visible.sort_by_cached_key(|r| sort_key(r, sla));
            self.order = visible.into_iter().map(|r| r.key.clone()).collect();
        }

        let mut deadlines: Vec<Timestamp> = Vec::new();
        let mut open = 0;
        for row in self.rows.values() {
            if !row.is_closed() {
                open += 1;
            }
            if let Clock::Running { deadline } = row.clock(sla) {
                deadlines.push(deadline);
            }
        }
        deadlines.sort_unstable();
        self.running_deadlines = deadlines;
        self.open = open;
        self.reselect();
    }

    /// Keeps the selection on the same alert; if it left the view, on the row now at its
    /// position; on the first row when nothing was selected.
    fn reselect(&mut self) {
        if self.order.is_empty() {
            self.selected = None;
            self.sel_idx = 0;
            self.offset = 0;
            return;
        }
        let found = self
            .selected
            .as_ref()
            .and_then(|k| self.order.iter().position(|o| o == k));
        match found {
            Some(i) => self.sel_idx = i,
            None => {
                self.sel_idx = self.sel_idx.min(self.order.len() - 1);
                self.selected = Some(self.order[self.sel_idx].clone());
            }
        }
    }

    pub fn counts(&self, now: Timestamp) -> Counts {
        Counts {
            open: self.open,
            running: self.running_deadlines.len(),
            breached: self.running_deadlines.partition_point(|d| *d < now),
        }
    }

    /// Moves the selection by `delta` rows (clamped) and scrolls so it stays visible in a
    /// table of `height` rows.
    pub fn move_by(&mut self, delta: isize, height: usize) {
        if self.order.is_empty() {
            return;
        }
        let last = self.order.len() - 1;
        let target = (self.sel_idx as isize + delta).clamp(0, last as isize) as usize;
        self.select_index(target, height);
    }

    pub fn select_index(&mut self, i: usize, height: usize) {
        if self.order.is_empty() {
            return;
        }
        self.sel_idx = i.min(self.order.len() - 1);
        self.selected = Some(self.order[self.sel_idx].clone());
        self.scroll_to_selection(height);
    }

    /// Adjusts the scroll offset so the selected row is inside a table of `height` rows.
    pub fn scroll_to_selection(&mut self, height: usize) {
        let height = height.max(1);
        if self.sel_idx < self.offset {
            self.offset = self.sel_idx;
        } else if self.sel_idx >= self.offset + height {
            self.offset = self.sel_idx + 1 - height;
        }
        let max_offset = self.order.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        if !paused {
            self.arrived_while_paused = 0;
        }
    }
}

fn text_matches(row: &Row, needle: &str, org_names: &[String]) -> bool {
    let hit = |s: &str| s.to_lowercase().contains(needle);
    hit(row.device.as_str())
        || hit(row.reason.as_str())
        || hit(row.process_path.as_str())
        || hit(row.user.as_str())
        || hit(row.policy.as_str())
        || hit(row.alert_type.as_str())
        || hit(&row.key.id)
        || row.owner.as_ref().is_some_and(|o| hit(o.as_str()))
        || org_names.get(row.key.org as usize).is_some_and(|n| hit(n))
}
