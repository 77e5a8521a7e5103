//! The alert queue: a compact row per alert, the sorted and filtered order, and a selection
//! that stays on the same alert while rows move under it.
//!
//! Rows are built once, when an alert arrives or changes (off the UI thread, in the poller):
//! every attacker-controlled string is sanitised then and kept as a [`Cell`], so drawing never
//! sanitises, parses or allocates per row. Sorting and filtering happen in [`Queue::recompute`],
//! called when data or filters change — never while drawing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::triage::{Level, LevelPolicy};
use crate::cbc::model::{Alert, AlertSummary, WorkflowStatus};
use crate::sla::{Band, SlaPolicy};
use crate::text;

/// Index of an org in the console's org list.
pub type OrgIdx = u16;

/// Identity of an alert across orgs. The id is shared (the queue's index and the row hold
/// one copy).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub org: OrgIdx,
    pub id: Arc<str>,
}

/// A sanitised, display-ready string: escapes of hidden characters are marked by byte range so
/// the view can style them distinctly.
///
/// One pointer wide, shared when equal: a queue of 100k alerts holds a few thousand distinct
/// device, user, policy, process and reason strings, each once (see [`Interner`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Cell(Option<Arc<CellText>>);

#[derive(Debug, PartialEq, Eq, Hash)]
struct CellText {
    text: Box<str>,
    escapes: Box<[(u32, u32)]>,
}

impl Cell {
    /// Sanitises `raw`, keeping at most `cap` characters.
    pub fn new(raw: &str, cap: usize) -> Cell {
        if raw.is_empty() {
            return Cell::default();
        }
        let safe = text::sanitize_with_cap(raw, cap);
        let escapes = safe
            .escapes()
            .iter()
            .map(|r| (r.start as u32, r.end as u32))
            .collect();
        Cell(Some(Arc::new(CellText {
            text: safe.as_str().into(),
            escapes,
        })))
    }

    pub fn from_opt(raw: Option<&str>, cap: usize) -> Cell {
        raw.map_or_else(Cell::default, |s| Cell::new(s, cap))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref().map_or("", |c| &c.text)
    }

    pub fn is_empty(&self) -> bool {
        self.as_str().is_empty()
    }

    /// Whether the raw value held hidden or control characters (shown as escapes).
    pub fn is_flagged(&self) -> bool {
        self.0.as_ref().is_some_and(|c| !c.escapes.is_empty())
    }

    /// `(text, is_escape)` pieces in order, for styled rendering.
    pub fn pieces(&self) -> impl Iterator<Item = (&str, bool)> {
        let text = self.as_str();
        let escapes: &[(u32, u32)] = self.0.as_ref().map_or(&[], |c| &c.escapes);
        let mut out = Vec::with_capacity(escapes.len() * 2 + 1);
        let mut at = 0usize;
        for &(s, e) in escapes {
            let (s, e) = (s as usize, e as usize);
            if s > at {
                out.push((&text[at..s], false));
            }
            out.push((&text[s..e], true));
            at = e;
        }
        if at < text.len() {
            out.push((&text[at..], false));
        }
        out.into_iter()
    }
}

/// Shares equal strings between rows: a poller builds its rows through one, so the thousands
/// of alerts on the same device, policy or process hold one copy of each string.
#[derive(Debug, Default)]
pub struct Interner {
    cells: HashSet<Cell>,
    strs: HashSet<Arc<str>>,
}

impl Interner {
    /// [`Cell::from_opt`], shared with an equal cell built before.
    pub fn cell(&mut self, raw: Option<&str>, cap: usize) -> Cell {
        let cell = Cell::from_opt(raw, cap);
        if cell.0.is_none() {
            return cell;
        }
        match self.cells.get(&cell) {
            Some(seen) => seen.clone(),
            None => {
                self.cells.insert(cell.clone());
                cell
            }
        }
    }

    /// A plain (already safe) string, shared with an equal one seen before.
    pub fn str(&mut self, s: &str) -> Arc<str> {
        match self.strs.get(s) {
            Some(seen) => seen.clone(),
            None => {
                let a: Arc<str> = s.into();
                self.strs.insert(a.clone());
                a
            }
        }
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
    pub closure_reason: Option<Arc<str>>,
    pub closed_at: Option<Timestamp>,
    pub determination: Option<Arc<str>>,
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
    pub sha256: Option<Arc<str>>,
    pub ttps: Cell,
    pub owner: Option<Cell>,
    /// The analyst's level once set (issue: triage), else `None` and the suggestion shows.
    pub level_set: Option<Level>,
    /// When the analyst's level was set (a workflow change after it means the alert was
    /// reopened and the level no longer stops the clock).
    /// What analysts recorded in structured notes (boxed: most rows have none, and a row is
    /// kept for every alert of the shift).
    pub notes: Option<Box<RowNotes>>,
    /// When the workflow last changed, in whole seconds (0: unknown).
    pub workflow_at_s: i64,
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
        Row::from_summary_in(org, a, &mut Interner::default())
    }

    /// [`Row::from_summary`], sharing equal strings with the rows built before through `strings`.
    pub fn from_summary_in(org: OrgIdx, a: &AlertSummary, strings: &mut Interner) -> Option<Row> {
        let id = a.id().filter(|s| !s.is_empty())?;
        let process_path = a.process_name();
        let process_file = process_path.map(|p| p.rsplit(['\\', '/']).next().unwrap_or(p));
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
        let owner = a
            .workflow_changed_by()
            .filter(|_| status == WorkflowStatus::InProgress)
            .filter(|_| a.workflow_changed_by_type() != Some("SYSTEM"))
            .map(|s| strings.cell(Some(s), CAP_SHORT));
        let sha256 = a
            .process_sha256()
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|h| strings.str(&h.to_ascii_lowercase()));
        let safe_id = Cell::new(id, CAP_SHORT);
        let mut row = Row {
            key: AlertKey {
                org,
                id: safe_id.as_str().into(),
            },
            received_at: a.backend_timestamp,
            updated_at: a.backend_update_timestamp,
            severity: a.severity.and_then(|s| u8::try_from(s.clamp(0, 10)).ok()),
            closure_reason: a.workflow_closure_reason().map(|s| strings.str(s)),
            closed_at: (status == WorkflowStatus::Closed)
                .then_some(a.workflow_change_timestamp)
                .flatten(),
            determination: a.determination().map(|s| strings.str(s)),
            status,
            alert_type: strings.cell(a.alert_type(), CAP_SHORT),
            device: strings.cell(a.device_name(), CAP_SHORT),
            device_id: a.device_id,
            device_os: strings.cell(a.device_os(), CAP_SHORT),
            policy: strings.cell(a.device_policy(), CAP_SHORT),
            user: strings.cell(a.process_username().or(a.device_username()), CAP_SHORT),
            reason: strings.cell(a.reason(), CAP_REASON),
            process: strings.cell(process_file, CAP_SHORT),
            process_path: strings.cell(process_path, CAP_REASON),
            cmdline: strings.cell(a.process_cmdline(), CAP_CMDLINE),
            sha256,
            ttps: strings.cell(Some(&a.ttps().collect::<Vec<_>>().join(", ")), CAP_REASON),
            owner,
            level_set: None,
            notes: None,
            workflow_at_s: a.workflow_change_timestamp.map_or(0, |t| t.as_second()),
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
        let notes = self.notes.as_deref();
        if let Some(sent) = notes.and_then(|n| n.first_report_at) {
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
                && notes
                    .and_then(|n| n.level_at)
                    .is_some_and(|l| self.workflow_at_s > l.as_second());
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

/// What structured notes say about one alert, as the row needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowNotes {
    /// When the analyst's level was set (a workflow change after it means the alert was
    /// reopened and the level no longer stops the clock).
    pub level_at: Option<Timestamp>,
    /// When the first report was sent, which stops the clock for good.
    pub first_report_at: Option<Timestamp>,
    pub second_report_at: Option<Timestamp>,
}

impl Row {
    pub fn second_report_at(&self) -> Option<Timestamp> {
        self.notes.as_deref().and_then(|n| n.second_report_at)
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
/// closed ones — by severity, then newest first. Ties end on the id (see [`Queue::recompute`]).
type SortKey = (u8, i64, i16, std::cmp::Reverse<i64>);

fn sort_key(row: &Row, sla: &SlaPolicy) -> SortKey {
    let sev = -i16::from(row.severity.unwrap_or(0));
    match row.clock(sla) {
        Clock::Running { deadline } => (0, deadline.as_millisecond(), sev, std::cmp::Reverse(0)),
        _ => (
            if row.is_closed() { 2 } else { 1 },
            0,
            sev,
            std::cmp::Reverse(row.received_at.map_or(i64::MIN, |t| t.as_millisecond())),
        ),
    }
}

/// Sorts row indices by [`sort_key`], then id, then org: one key per row, no id copied.
fn sort_rows(idx: &mut Vec<u32>, rows: &[Row], sla: &SlaPolicy) {
    let mut keyed: Vec<(SortKey, u32)> = idx
        .iter()
        .map(|&i| (sort_key(&rows[i as usize], sla), i))
        .collect();
    keyed.sort_unstable_by(|(ka, a), (kb, b)| {
        let (ra, rb) = (&rows[*a as usize].key, &rows[*b as usize].key);
        ka.cmp(kb)
            .then_with(|| ra.id.cmp(&rb.id))
            .then(ra.org.cmp(&rb.org))
    });
    idx.clear();
    idx.extend(keyed.into_iter().map(|(_, i)| i));
}

/// Rows live in one vector (never removed: a closed alert stays, its clock stopped); the
/// index, the visible order and the selection refer to them by position.
#[derive(Debug, Default)]
pub struct Queue {
    rows: Vec<Row>,
    index: HashMap<AlertKey, u32>,
    /// Visible rows (filtered), in display order.
    order: Vec<u32>,
    selected: Option<u32>,
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
        self.index.get(key).map(|&i| &self.rows[i as usize])
    }

    /// Changes one row in place (what the analyst or another console set); the caller
    /// recomputes the order. `false` when the alert is not in the queue.
    pub fn update_row(&mut self, key: &AlertKey, edit: impl FnOnce(&mut Row)) -> bool {
        match self.index.get(key) {
            Some(&i) => {
                edit(&mut self.rows[i as usize]);
                true
            }
            None => false,
        }
    }
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter()
    }
    pub fn selected(&self) -> Option<&Row> {
        self.selected.map(|i| &self.rows[i as usize])
    }
    pub fn selected_index(&self) -> Option<usize> {
        self.selected.map(|_| self.sel_idx)
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
            .map(move |(i, &r)| (self.offset + i, &self.rows[r as usize]))
    }

    /// Merges rows (newest version of each alert wins). Call [`Queue::recompute`] afterwards.
    pub fn merge(&mut self, rows: Vec<Row>) -> MergeResult {
        let mut result = MergeResult::default();
        self.rows.reserve(rows.len());
        for mut row in rows {
            match self.index.get(&row.key) {
                None => {
                    if self.paused {
                        self.arrived_while_paused += 1;
                    }
                    let i = self.rows.len() as u32;
                    self.index.insert(row.key.clone(), i);
                    self.rows.push(row);
                    result.new += 1;
                }
                Some(&i) => {
                    let existing = &mut self.rows[i as usize];
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
        // A first load grows the vector in doublings: give the slack back.
        if self.rows.capacity() > self.rows.len() + self.rows.len() / 8 + 64 {
            self.rows.shrink_to_fit();
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
        let rows = &self.rows;

        if self.paused {
            // Keep the rows already shown where they are; append newcomers at the bottom.
            self.order.retain(|&i| matches(&rows[i as usize]));
            let mut present = vec![false; rows.len()];
            for &i in &self.order {
                present[i as usize] = true;
            }
            let mut fresh: Vec<u32> = (0..rows.len() as u32)
                .filter(|&i| !present[i as usize] && matches(&rows[i as usize]))
                .collect();
            sort_rows(&mut fresh, rows, sla);
            self.order.extend(fresh);
        } else {
            let mut visible = std::mem::take(&mut self.order);
            visible.clear();
            visible.extend((0..rows.len() as u32).filter(|&i| matches(&rows[i as usize])));
            sort_rows(&mut visible, rows, sla);
            self.order = visible;
        }

        let mut deadlines: Vec<Timestamp> = Vec::new();
        let mut open = 0;
        for row in self.rows.iter() {
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
            .and_then(|k| self.order.iter().position(|&o| o == k));
        match found {
            Some(i) => self.sel_idx = i,
            None => {
                self.sel_idx = self.sel_idx.min(self.order.len() - 1);
                self.selected = Some(self.order[self.sel_idx]);
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
        self.selected = Some(self.order[self.sel_idx]);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, device: &str, reason: &str) -> AlertSummary {
        AlertSummary::from(&Alert {
            id: Some(id.into()),
            device_name: Some(device.into()),
            reason: Some(reason.into()),
            process_name: Some("c:\\windows\\system32\\cmd.exe".into()),
            ..Default::default()
        })
    }

    fn same_storage(a: &Cell, b: &Cell) -> bool {
        match (&a.0, &b.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    #[test]
    fn rows_built_through_one_interner_share_equal_strings() {
        let mut strings = Interner::default();
        let a = Row::from_summary_in(0, &summary("a", "WS-1", "macro"), &mut strings).unwrap();
        let b = Row::from_summary_in(0, &summary("b", "WS-1", "miner"), &mut strings).unwrap();
        assert!(same_storage(&a.device, &b.device));
        assert!(same_storage(&a.process, &b.process));
        assert!(!same_storage(&a.reason, &b.reason));
        assert_eq!(b.reason.as_str(), "miner");
        // Equal text with different escapes is not the same cell.
        let c = Row::from_summary_in(0, &summary("c", "WS-1\u{202e}", "x"), &mut strings).unwrap();
        let d = Row::from_summary_in(0, &summary("d", "WS-1\\u202e", "x"), &mut strings).unwrap();
        assert_eq!(c.device.as_str(), d.device.as_str());
        assert!(c.device.is_flagged() && !d.device.is_flagged());
        assert!(c.flagged && !d.flagged);
        // Without an interner nothing is shared, and the rows are still equal in value.
        let e = Row::from_summary(0, &summary("a", "WS-1", "macro")).unwrap();
        assert!(!same_storage(&a.device, &e.device));
        assert_eq!(a, e);
    }

    #[test]
    fn the_queue_keeps_one_row_per_alert_and_the_newest_version() {
        let mut q = Queue::default();
        let mut strings = Interner::default();
        let mut rows: Vec<Row> = (0..5)
            .map(|i| {
                Row::from_summary_in(0, &summary(&format!("r{i}"), "WS", "x"), &mut strings)
                    .unwrap()
            })
            .collect();
        rows.push(rows[2].clone());
        let merged = q.merge(rows);
        assert_eq!(merged, MergeResult { new: 5, changed: 0 });
        assert_eq!(q.len(), 5);
        let mut newer = q
            .get(&AlertKey {
                org: 0,
                id: "r2".into(),
            })
            .unwrap()
            .clone();
        newer.updated_at = Some(Timestamp::UNIX_EPOCH);
        newer.severity = Some(9);
        assert_eq!(q.merge(vec![newer]).changed, 1);
        q.recompute(&SlaPolicy::default(), &LevelPolicy::default(), &[]);
        // Severity first among rows without a clock: the updated row leads.
        let first = q.window(1).next().unwrap().1;
        assert_eq!(&*first.key.id, "r2");
        assert_eq!(q.visible_len(), 5);
    }
}
