//! Incremental alert polling.
//!
//! Each poll asks for the alerts whose `backend_update_timestamp` lies in
//! `[previous end − overlap, now]` — that catches new alerts *and* changes to old ones (a note,
//! a workflow change by another analyst) — and merges them into the store by id, newest
//! version winning. CBC lets a search page reach only its first 10 000 hits, so a window with
//! more hits is split in halves until each half fits.

use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};

use super::client::Client;
use super::error::ApiError;
use super::model::{
    Alert, AlertRecord, AlertSearch, MAX_SEARCH_WINDOW, Order, SortField, TimeRange,
};

/// The field polling follows.
pub const UPDATE_FIELD: &str = "backend_update_timestamp";

/// How often the result set may change under us before a window is accepted as read.
const MAX_WINDOW_ATTEMPTS: u32 = 3;

/// What a window fetch returned.
#[derive(Debug)]
pub struct WindowResult<T = Alert> {
    pub alerts: Vec<T>,
    /// Requests sent.
    pub requests: u32,
    /// Windows that still had more than 10 000 hits at millisecond width (hits beyond were
    /// unreachable); 0 in any sane tenant.
    pub truncated_windows: u32,
}

impl<T> Default for WindowResult<T> {
    fn default() -> Self {
        WindowResult {
            alerts: Vec::new(),
            requests: 0,
            truncated_windows: 0,
        }
    }
}

/// Fetches every alert matching `base` whose `field` lies in `[start, end]`.
pub async fn fetch_window(
    client: &Client,
    base: &AlertSearch,
    field: &str,
    start: Timestamp,
    end: Timestamp,
) -> Result<WindowResult, ApiError> {
    fetch_window_as(client, base, field, start, end).await
}

/// [`fetch_window`], parsed as full alerts or as summaries.
pub async fn fetch_window_as<T: AlertRecord>(
    client: &Client,
    base: &AlertSearch,
    field: &str,
    start: Timestamp,
    end: Timestamp,
) -> Result<WindowResult<T>, ApiError> {
    let mut out = WindowResult::<T>::default();
    let mut seen = HashSet::new();
    // Explicit stack instead of recursion: async recursion needs boxing, and a stack is clearer.
    let mut windows = vec![(start, end)];
    while let Some((lo, hi)) = windows.pop() {
        match fetch_fitting(client, base, field, lo, hi, &mut out).await? {
            Fetched::All(alerts) => {
                for a in alerts {
                    if a.id().is_none_or(|id| seen.insert(id.to_owned())) {
                        out.alerts.push(a);
                    }
                }
            }
            Fetched::TooMany => {
                let mid = midpoint(lo, hi);
                // Both halves include `mid`; duplicates are removed by id above.
                windows.push((mid, hi));
                windows.push((lo, mid));
            }
        }
    }
    Ok(out)
}

/// [`fetch_window_as`] page by page: every page goes to `page` as it arrives, so a large first
/// load never holds all its alerts at once (a console keeps only its compact rows). Pages may
/// repeat alerts — overlapping halves of a split window, a window read again because it changed
/// while paged — so the consumer keeps the newest version of each id. Returns the number of
/// requests and of windows truncated at [`MAX_SEARCH_WINDOW`].
pub async fn fetch_window_each<T: AlertRecord>(
    client: &Client,
    base: &AlertSearch,
    field: &str,
    start: Timestamp,
    end: Timestamp,
    page: &mut (dyn FnMut(Vec<T>) + Send),
) -> Result<(u32, u32), ApiError> {
    let (mut requests, mut truncated) = (0u32, 0u32);
    let mut windows = vec![(start, end)];
    'windows: while let Some((lo, hi)) = windows.pop() {
        let mut q = base.clone();
        q.criteria = q
            .criteria
            .time(field, TimeRange::Absolute { start: lo, end: hi });
        q.sort = vec![SortField::new(field, Order::Asc)];
        let splittable = hi.duration_since(lo) > SignedDuration::from_millis(1);
        for _ in 0..MAX_WINDOW_ATTEMPTS {
            q.start = None;
            q.rows = base.rows;
            let first = client.search_alerts_as::<T>(&q).await?;
            requests += 1;
            if first.num_found > MAX_SEARCH_WINDOW && splittable {
                let mid = midpoint(lo, hi);
                windows.push((mid, hi));
                windows.push((lo, mid));
                continue 'windows;
            }
            if first.num_found > MAX_SEARCH_WINDOW {
                truncated += 1;
            }
            let expected = first.num_found;
            let reachable = expected.min(MAX_SEARCH_WINDOW);
            let mut got = first.results.len() as u64;
            let mut stable = true;
            page(first.results);
            while got < reachable {
                let next = got + 1;
                q.start = Some(next as u32);
                q.rows = q.rows.min((MAX_SEARCH_WINDOW + 1 - next) as u32);
                let more = client.search_alerts_as::<T>(&q).await?;
                requests += 1;
                if more.num_found != expected {
                    // Rows shifted while we paged: read the window again (see fetch_fitting).
                    stable = false;
                }
                if more.results.is_empty() {
                    break;
                }
                got += more.results.len() as u64;
                page(more.results);
            }
            if stable {
                break;
            }
        }
    }
    Ok((requests, truncated))
}

enum Fetched<T> {
    All(Vec<T>),
    TooMany,
}

async fn fetch_fitting<T: AlertRecord>(
    client: &Client,
    base: &AlertSearch,
    field: &str,
    lo: Timestamp,
    hi: Timestamp,
    stats: &mut WindowResult<T>,
) -> Result<Fetched<T>, ApiError> {
    let mut q = base.clone();
    q.criteria = q
        .criteria
        .time(field, TimeRange::Absolute { start: lo, end: hi });
    q.sort = vec![SortField::new(field, Order::Asc)];
    q.start = None;
    let splittable = hi.duration_since(lo) > SignedDuration::from_millis(1);

    let mut collected: HashMap<String, T> = HashMap::new();
    let mut anonymous = Vec::new();
    for _ in 0..MAX_WINDOW_ATTEMPTS {
        q.start = None;
        let first = client.search_alerts_as::<T>(&q).await?;
        stats.requests += 1;
        if first.num_found > MAX_SEARCH_WINDOW && splittable {
            return Ok(Fetched::TooMany);
        }
        if first.num_found > MAX_SEARCH_WINDOW {
            stats.truncated_windows += 1;
        }
        let expected = first.num_found;
        let reachable = expected.min(MAX_SEARCH_WINDOW);
        let mut got = first.results.len() as u64;
        let mut stable = true;
        add(&mut collected, &mut anonymous, first.results);
        while got < reachable {
            let next = got + 1;
            q.start = Some(next as u32);
            q.rows = q.rows.min((MAX_SEARCH_WINDOW + 1 - next) as u32);
            let page = client.search_alerts_as::<T>(&q).await?;
            stats.requests += 1;
            if page.num_found != expected {
                // Alerts entered or left the window while we paged: rows shifted, one may have
                // slipped between pages. Keep what we have and read the window again.
                stable = false;
            }
            if page.results.is_empty() {
                break;
            }
            got += page.results.len() as u64;
            add(&mut collected, &mut anonymous, page.results);
        }
        q.rows = base.rows;
        if stable {
            break;
        }
    }
    let mut all: Vec<T> = collected.into_values().collect();
    all.extend(anonymous);
    Ok(Fetched::All(all))
}

fn add<T: AlertRecord>(into: &mut HashMap<String, T>, anonymous: &mut Vec<T>, alerts: Vec<T>) {
    for a in alerts {
        match a.id().map(str::to_owned) {
            Some(id) => {
                merge_one(into, id, a);
            }
            None => anonymous.push(a),
        }
    }
}

fn midpoint(lo: Timestamp, hi: Timestamp) -> Timestamp {
    let half = hi.duration_since(lo) / 2;
    lo.checked_add(half).unwrap_or(lo)
}

/// Keeps the newer version of an alert: a late page must not undo a fresher update.
fn merge_one<T: AlertRecord>(store: &mut HashMap<String, T>, id: String, incoming: T) -> Merge {
    match store.get_mut(&id) {
        None => {
            store.insert(id, incoming);
            Merge::New
        }
        Some(existing) => {
            if incoming.updated_at() >= existing.updated_at() {
                let changed = *existing != incoming;
                *existing = incoming;
                if changed { Merge::Updated } else { Merge::Same }
            } else {
                Merge::Same
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Merge {
    New,
    Updated,
    Same,
}

/// Counts from merging a poll into a store.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MergeStats {
    pub new: usize,
    pub updated: usize,
}

/// Merges polled alerts into `store` by id (alerts without an id are dropped: they cannot be
/// told apart or acted on).
pub fn merge_alerts<T: AlertRecord>(
    store: &mut HashMap<String, T>,
    incoming: Vec<T>,
) -> MergeStats {
    let mut stats = MergeStats::default();
    for a in incoming {
        let Some(id) = a.id().map(str::to_owned) else {
            continue;
        };
        match merge_one(store, id, a) {
            Merge::New => stats.new += 1,
            Merge::Updated => stats.updated += 1,
            Merge::Same => {}
        }
    }
    stats
}

/// Polls one org for alerts that changed since the previous poll.
#[derive(Debug, Clone)]
pub struct AlertPoller {
    /// Filters applied to every poll (criteria, exclusions, query) and the page size.
    pub base: AlertSearch,
    /// How far back each window reaches into the previous one, for late-indexed updates and
    /// clock skew between us and CBC.
    pub overlap: SignedDuration,
    /// How far back the first poll looks.
    pub lookback: SignedDuration,
    last_end: Option<Timestamp>,
}

impl AlertPoller {
    pub fn new(base: AlertSearch, overlap: SignedDuration, lookback: SignedDuration) -> Self {
        AlertPoller {
            base,
            overlap,
            lookback,
            last_end: None,
        }
    }

    /// End of the last successful window.
    pub fn last_end(&self) -> Option<Timestamp> {
        self.last_end
    }

    /// The window the next poll at `now` will read.
    pub fn next_window(&self, now: Timestamp) -> (Timestamp, Timestamp) {
        let start = match self.last_end {
            Some(end) => end.checked_sub(self.overlap).unwrap_or(end),
            None => now.checked_sub(self.lookback).unwrap_or(now),
        };
        (start.min(now), now)
    }

    /// Reads the next window. The window advances only when the whole read succeeded, so a
    /// failed poll loses nothing: the next one covers it.
    pub async fn poll(
        &mut self,
        client: &Client,
        now: Timestamp,
    ) -> Result<WindowResult, ApiError> {
        self.poll_as(client, now).await
    }

    /// [`AlertPoller::poll`], parsed as full alerts or as summaries.
    pub async fn poll_as<T: AlertRecord>(
        &mut self,
        client: &Client,
        now: Timestamp,
    ) -> Result<WindowResult<T>, ApiError> {
        let (start, end) = self.next_window(now);
        let result = fetch_window_as(client, &self.base, UPDATE_FIELD, start, end).await?;
        self.last_end = Some(end);
        Ok(result)
    }

    /// Continues after a first load that read everything up to `end` by other means.
    pub fn resume_after(&mut self, end: Timestamp) {
        self.last_end = Some(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str, updated: &str) -> Alert {
        Alert {
            id: Some(id.into()),
            backend_update_timestamp: Some(updated.parse().unwrap()),
            ..Default::default()
        }
    }

    #[test]
    fn merge_keeps_the_newest_version() {
        let mut store = HashMap::new();
        let s = merge_alerts(
            &mut store,
            vec![
                alert("a", "2026-01-01T00:00:02Z"),
                alert("b", "2026-01-01T00:00:00Z"),
            ],
        );
        assert_eq!(s, MergeStats { new: 2, updated: 0 });
        let mut newer = alert("a", "2026-01-01T00:00:05Z");
        newer.severity = Some(9);
        let s = merge_alerts(&mut store, vec![alert("a", "2026-01-01T00:00:01Z"), newer]);
        assert_eq!(s, MergeStats { new: 0, updated: 1 });
        assert_eq!(store["a"].severity, Some(9));
        // An older copy arriving late changes nothing.
        let s = merge_alerts(&mut store, vec![alert("a", "2026-01-01T00:00:03Z")]);
        assert_eq!(s, MergeStats::default());
        assert_eq!(store["a"].severity, Some(9));
    }

    #[test]
    fn windows_overlap_and_start_from_the_lookback() {
        let mut p = AlertPoller::new(
            AlertSearch::default(),
            SignedDuration::from_secs(120),
            SignedDuration::from_hours(24),
        );
        let now: Timestamp = "2026-11-30T08:00:00Z".parse().unwrap();
        assert_eq!(
            p.next_window(now).0,
            "2026-11-29T08:00:00Z".parse().unwrap()
        );
        p.last_end = Some(now);
        let later: Timestamp = "2026-11-30T08:00:15Z".parse().unwrap();
        assert_eq!(
            p.next_window(later),
            ("2026-11-30T07:58:00Z".parse().unwrap(), later)
        );
    }

    #[test]
    fn midpoint_splits_a_window() {
        let lo: Timestamp = "2026-11-30T00:00:00Z".parse().unwrap();
        let hi: Timestamp = "2026-11-30T02:00:00Z".parse().unwrap();
        assert_eq!(midpoint(lo, hi), "2026-11-30T01:00:00Z".parse().unwrap());
    }
}
