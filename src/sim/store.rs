//! Per-org simulator state: alerts (with notes and history), devices (with pending quarantine),
//! processes and observations, workflow and investigate jobs, reputation overrides.
//!
//! Everything here is synchronous and lock-scoped: handlers call one method, which takes the lock
//! it needs, does its work and returns owned data (or `Arc`s of documents) to serialize after the
//! lock is released. Each org has its own locks, and within an org alerts, devices, evidence,
//! jobs and overrides are locked separately; no method holds two of them at once.
//!
//! Choices where CBC's behaviour is not documented (see `../shared/cbc/API.md`):
//! * Device search: `rows` defaults to 20 (max 10 000), `start` is 1-based, default sort `id` ASC.
//! * Device actions: an unknown device id is ignored unless every id is unknown (then 404).
//!   Quarantine and its release are applied at the next simulated sensor check-in (`checkin`
//!   after the request; with a zero check-in, before the reply). BYPASS and UPDATE_POLICY apply
//!   at once; BACKGROUND_SCAN and the sensor actions are accepted and change nothing.
//! * Workflow needs `status` and a selective filter (`criteria` or `query`): a body that would
//!   close every alert of the org is refused with 400.
//! * Investigate jobs snapshot their results at creation. The first results request of each
//!   job reports `completed: 0` ("still querying"), later ones the results. A results request
//!   without `rows` gets 10 rows for search jobs and every result for detail jobs (the SDK reads
//!   detail results in one request). A summary job for an unknown `process_guid` is refused
//!   with 404 at creation. Each org keeps its newest 256 investigate jobs.
//! * Creating a reputation override identical to an existing one returns the existing one.
//!
//! Alerts, processes and observations are kept as compact documents (`compact.rs`: ~8 bytes a
//! field, strings interned) and indexed by interned ids; devices, notes, jobs and overrides,
//! few and often changed, stay `serde_json` maps.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use super::compact::{CDoc, CVal, FastMap, Str};
use super::query::{self, Filter, FilterError, SortSpec};
use super::world::{CompactStory, Doc, OrgSpec, Policy, Story};

/// Deepest row reachable by paging alerts (and the cap on `rows`).
pub const MAX_WINDOW: usize = 10_000;
/// Longest note CBC accepts, in characters.
pub const MAX_NOTE_CHARS: usize = 20_000;
/// The `contacted` figure investigate jobs report (CBC: number of search shards).
const SEARCHERS: u64 = 12;
/// Investigate jobs kept per org; older ones are forgotten (their results 404).
const MAX_SEARCH_JOBS: usize = 256;
/// Workflow jobs kept per org.
const MAX_WORKFLOW_JOBS: usize = 10_000;
/// Deepest process tree walked, so a parent cycle in replayed data cannot loop.
const MAX_TREE_DEPTH: usize = 64;

// ------------------------------------------------------------------------------------------------
// Errors and small helpers

/// A request the store refuses; the server turns it into CBC's error bodies.
#[derive(Debug, Clone, PartialEq)]
pub enum SimError {
    /// 400 `{"error_code": "INVALID_ARGUMENT", "message": ...}`
    BadRequest(String),
    /// 400 `{"reason": "query_malformed_syntax", "message": ...}`
    Syntax { message: String, offset: usize },
    /// 404 `{"error_code": "NOT_FOUND", "message": ...}`
    NotFound(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::BadRequest(m) | SimError::NotFound(m) => f.write_str(m),
            SimError::Syntax { message, offset } => write!(f, "{message} (at offset {offset})"),
        }
    }
}

impl std::error::Error for SimError {}

impl From<FilterError> for SimError {
    fn from(e: FilterError) -> Self {
        match e {
            FilterError::Syntax { message, offset } => SimError::Syntax { message, offset },
            FilterError::Invalid(m) => SimError::BadRequest(m),
        }
    }
}

fn bad(msg: impl Into<String>) -> SimError {
    SimError::BadRequest(msg.into())
}

fn not_found(msg: impl Into<String>) -> SimError {
    SimError::NotFound(msg.into())
}

/// CBC's response timestamp format: UTC with milliseconds.
pub fn iso(ts: Timestamp) -> String {
    format!("{ts:.3}")
}

// A panic inside one request must not take the whole simulator down with poisoned locks: the
// state each lock guards is updated in single steps, so the data behind a poisoned lock is
// still consistent.
fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}
fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}
fn lock<T>(l: &Mutex<T>) -> MutexGuard<'_, T> {
    l.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An optional non-negative integer body field.
fn uint_field(body: &Map<String, Value>, key: &str) -> Result<Option<usize>, SimError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| bad(format!("'{key}' must be a non-negative integer"))),
    }
}

fn str_field<'a>(body: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, SimError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("'{key}' must be a string"))),
    }
}

fn one_of<'a>(
    body: &'a Map<String, Value>,
    key: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, SimError> {
    match str_field(body, key)? {
        Some(v) if !allowed.contains(&v) => Err(bad(format!(
            "'{key}' must be one of {}, not {v:?}",
            allowed.join(", ")
        ))),
        other => Ok(other),
    }
}

/// A 1-based `start` (absent or 0 = 1).
fn start_1(body: &Map<String, Value>) -> Result<usize, SimError> {
    Ok(uint_field(body, "start")?.unwrap_or(1).max(1))
}

fn rows_field(body: &Map<String, Value>, default: usize) -> Result<usize, SimError> {
    let rows = uint_field(body, "rows")?.unwrap_or(default);
    if rows > MAX_WINDOW {
        return Err(bad(format!("'rows' must be at most {MAX_WINDOW}")));
    }
    Ok(rows)
}

// ------------------------------------------------------------------------------------------------
// Serializable pages

/// A page of documents plus the counters CBC reports with it: devices (`Doc`) or investigate
/// results (`CDoc`, which share their buffers with the store).
#[derive(Debug, Clone)]
pub struct Page<D = Doc> {
    pub results: Vec<D>,
    pub num_found: usize,
    /// Present for alerts and investigate jobs, absent for devices.
    pub num_available: Option<usize>,
    /// `(contacted, completed)` for investigate jobs.
    pub progress: Option<(u64, u64)>,
}

impl<D: Serialize> Serialize for Page<D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("results", &self.results)?;
        m.serialize_entry("num_found", &self.num_found)?;
        if let Some(n) = self.num_available {
            m.serialize_entry("num_available", &n)?;
        }
        if let Some((contacted, completed)) = self.progress {
            m.serialize_entry("contacted", &contacted)?;
            m.serialize_entry("completed", &completed)?;
        }
        m.end()
    }
}

// ------------------------------------------------------------------------------------------------
// The store

/// All orgs of one simulator.
pub struct Store {
    orgs: Vec<Org>,
    by_key: HashMap<String, usize>,
    /// The story source's org index → index in `orgs` (`None` for a duplicate org key).
    by_source: Vec<Option<usize>>,
}

impl Store {
    /// `actor` is the API ID part of the token: author of notes, `changed_by` of workflow
    /// changes, `created_by` of overrides. `checkin` is the simulated sensor check-in delay.
    pub fn new(specs: Vec<OrgSpec>, actor: &str, checkin: Duration) -> Store {
        let actor: Arc<str> = Arc::from(actor);
        let checkin = SignedDuration::try_from(checkin).unwrap_or(SignedDuration::MAX);
        // Job ids are unique across orgs, like CBC's jobs service; start high so they look real.
        let job_ids = Arc::new(AtomicU64::new(666_000));
        let mut by_key = HashMap::new();
        let mut by_source = Vec::with_capacity(specs.len());
        let mut orgs = Vec::with_capacity(specs.len());
        for spec in specs {
            if by_key.contains_key(&spec.org_key) {
                tracing::warn!(org = %spec.org_key, "duplicate org key from the story source ignored");
                by_source.push(None);
                continue;
            }
            by_key.insert(spec.org_key.clone(), orgs.len());
            by_source.push(Some(orgs.len()));
            orgs.push(Org::new(spec, actor.clone(), checkin, job_ids.clone()));
        }
        Store {
            orgs,
            by_key,
            by_source,
        }
    }

    pub fn org(&self, key: &str) -> Option<&Org> {
        self.by_key.get(key).map(|&i| &self.orgs[i])
    }

    pub fn orgs(&self) -> &[Org] {
        &self.orgs
    }

    /// Adds one story to the org `key` now. False for an unknown org.
    pub fn ingest_into(&self, key: &str, story: Story) -> bool {
        match self.org(key) {
            Some(org) => {
                org.ingest(vec![CompactStory::from(&story)]);
                true
            }
            None => false,
        }
    }

    /// Adds stories (live ones) to their orgs; the index is the story source's org index.
    pub fn ingest(&self, stories: Vec<(usize, Story)>) {
        self.ingest_compact(
            stories
                .into_iter()
                .map(|(idx, story)| (idx, CompactStory::from(&story)))
                .collect(),
        );
    }

    /// Adds converted stories (the backlog at start, in batches) to their orgs; the index is
    /// the story source's org index. Stories for an org index the source does not have are
    /// dropped with a warning.
    pub fn ingest_compact(&self, stories: Vec<(usize, CompactStory)>) {
        let mut per_org: Vec<Vec<CompactStory>> = self.orgs.iter().map(|_| Vec::new()).collect();
        for (idx, story) in stories {
            match self
                .by_source
                .get(idx)
                .copied()
                .flatten()
                .and_then(|i| per_org.get_mut(i))
            {
                Some(v) => v.push(story),
                None => tracing::warn!(idx, "story for an unknown org index dropped"),
            }
        }
        for (org, stories) in self.orgs.iter().zip(per_org) {
            if !stories.is_empty() {
                org.ingest(stories);
            }
        }
    }
}

/// One customer org.
pub struct Org {
    pub key: String,
    pub name: String,
    policies: Vec<Policy>,
    actor: Arc<str>,
    checkin: SignedDuration,
    job_ids: Arc<AtomicU64>,
    alerts: RwLock<Alerts>,
    devices: Mutex<Devices>,
    evidence: RwLock<Evidence>,
    jobs: Mutex<Jobs>,
    overrides: Mutex<Vec<Doc>>,
}

impl Org {
    fn new(
        spec: OrgSpec,
        actor: Arc<str>,
        checkin: SignedDuration,
        job_ids: Arc<AtomicU64>,
    ) -> Org {
        let mut devices = Devices::default();
        for doc in spec.devices {
            devices.insert(doc);
        }
        Org {
            key: spec.org_key,
            name: spec.name,
            policies: spec.policies,
            actor,
            checkin,
            job_ids,
            alerts: RwLock::new(Alerts::default()),
            devices: Mutex::new(devices),
            evidence: RwLock::new(Evidence::default()),
            jobs: Mutex::new(Jobs::default()),
            overrides: Mutex::new(Vec::new()),
        }
    }

    fn ingest(&self, stories: Vec<CompactStory>) {
        let mut alerts = Vec::new();
        {
            let mut ev = write(&self.evidence);
            for story in stories {
                for p in story.processes {
                    ev.insert_process(p);
                }
                for o in story.observations {
                    ev.insert_observation(o);
                }
                alerts.extend(story.alerts);
            }
        }
        // Evidence first: an alert is never visible before the processes behind it.
        write(&self.alerts).insert_all(alerts);
    }

    /// Number of alerts held (tests, banners).
    pub fn alert_count(&self) -> usize {
        read(&self.alerts).entries.len()
    }

    // --------------------------------------------------------------------------- alerts

    /// `POST alerts/_search`.
    pub fn search_alerts(
        &self,
        body: &Map<String, Value>,
        now: Timestamp,
    ) -> Result<AlertPage, SimError> {
        let filter = Filter::from_body(body, now)?;
        let sort = query::parse_sort(body.get("sort"))?;
        let rows = rows_field(body, 100)?;
        let start = start_1(body)?;
        if (start - 1).saturating_add(rows) > MAX_WINDOW {
            return Err(bad(format!(
                "start + rows - 1 must not exceed {MAX_WINDOW} (deep paging is capped; narrow the search)"
            )));
        }
        let alerts = read(&self.alerts);
        let (results, num_found) = alerts.search(&filter, &sort, start - 1, rows);
        Ok(AlertPage {
            results,
            num_found,
            num_available: num_found.min(MAX_WINDOW),
        })
    }

    pub fn get_alert(&self, id: &str) -> Option<Doc> {
        self.get_alert_compact(id).map(|d| d.to_map())
    }

    fn get_alert_compact(&self, id: &str) -> Option<CDoc> {
        let alerts = read(&self.alerts);
        alerts.index(id).ok().map(|i| alerts.entries[i].doc.clone())
    }

    /// The alert as JSON.
    pub fn get_alert_json(&self, id: &str) -> Option<Vec<u8>> {
        self.get_alert_compact(id).map(|d| to_json(&d))
    }

    /// `POST alerts/_facet`: `{results: [{field, values: [{id, name, total}]}]}`. `terms.rows`
    /// limits the values per field (absent or 0 = all), most frequent first.
    pub fn facet_alerts(
        &self,
        body: &Map<String, Value>,
        now: Timestamp,
    ) -> Result<Value, SimError> {
        let filter = Filter::from_body(body, now)?;
        let terms = body
            .get("terms")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("'terms' must be an object with 'fields'"))?;
        let fields: Vec<&str> = terms
            .get("fields")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .filter(|f: &Vec<&str>| !f.is_empty())
            .ok_or_else(|| bad("'terms.fields' must be a non-empty array of field names"))?;
        let rows = uint_field(terms, "rows")?
            .filter(|&r| r > 0)
            .unwrap_or(usize::MAX);

        let alerts = read(&self.alerts);
        let matched = alerts.search_all(&filter, &[]);
        let results: Vec<Value> = fields
            .iter()
            .map(|field| {
                let mut counts: HashMap<String, usize> = HashMap::new();
                for &i in &matched {
                    query::any_value(alerts.entries[i].doc.obj(), field, &mut |v| {
                        if let Some(t) = query::scalar_text(v) {
                            *counts.entry(t).or_default() += 1;
                        }
                        false
                    });
                }
                let mut values: Vec<(String, usize)> = counts.into_iter().collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                let values: Vec<Value> = values
                    .into_iter()
                    .take(rows)
                    .map(|(id, total)| json!({"id": id, "name": id, "total": total}))
                    .collect();
                json!({"field": field, "values": values})
            })
            .collect();
        Ok(json!({ "results": results }))
    }

    pub fn list_notes(&self, id: &str) -> Result<Vec<Doc>, SimError> {
        let alerts = read(&self.alerts);
        let i = alerts.index(id)?;
        Ok(alerts
            .extra
            .get(&i)
            .map(|x| x.notes.clone())
            .unwrap_or_default())
    }

    /// `POST alerts/{id}/notes {"note": ...}` → the created note.
    pub fn add_note(
        &self,
        id: &str,
        body: &Map<String, Value>,
        now: Timestamp,
    ) -> Result<Doc, SimError> {
        let text = note_text(body.get("note"))?.ok_or_else(|| bad("'note' is required"))?;
        let mut alerts = write(&self.alerts);
        let i = alerts.index(id)?;
        let note = new_note(text, &self.actor, now);
        alerts.add_note(i, note.clone(), now);
        Ok(note)
    }

    pub fn delete_note(&self, id: &str, note_id: &str, now: Timestamp) -> Result<(), SimError> {
        let mut alerts = write(&self.alerts);
        let i = alerts.index(id)?;
        let extra = alerts.extra_mut(i);
        let pos = extra
            .notes
            .iter()
            .position(|n| n.get("id").and_then(Value::as_str) == Some(note_id))
            .ok_or_else(|| not_found(format!("no note {note_id} on alert {id}")))?;
        extra.notes.remove(pos);
        let any_left = !extra.notes.is_empty();
        alerts.change(i, now, |doc| {
            doc.insert("alert_notes_present".into(), Value::Bool(any_left));
        });
        Ok(())
    }

    pub fn history(&self, id: &str) -> Result<Vec<Value>, SimError> {
        let alerts = read(&self.alerts);
        let i = alerts.index(id)?;
        Ok(match alerts.extra.get(&i) {
            Some(x) => x.history.clone(),
            None => initial_history(&alerts.entries[i].doc),
        })
    }

    /// `POST alerts/workflow` → the request id (a jobs-service job id).
    pub fn workflow(&self, body: &Map<String, Value>, now: Timestamp) -> Result<String, SimError> {
        let status = one_of(body, "status", &["OPEN", "IN_PROGRESS", "CLOSED"])?
            .ok_or_else(|| bad("'status' is required (OPEN, IN_PROGRESS or CLOSED)"))?;
        let closure = one_of(
            body,
            "closure_reason",
            &[
                "NO_REASON",
                "RESOLVED",
                "RESOLVED_BENIGN_KNOWN_GOOD",
                "DUPLICATE_CLEANUP",
                "OTHER",
            ],
        )?
        .unwrap_or("NO_REASON");
        let determination = one_of(
            body,
            "determination",
            &["TRUE_POSITIVE", "FALSE_POSITIVE", "NONE"],
        )?;
        let note = note_text(body.get("note"))?;
        let filter = Filter::from_body(body, now)?;
        if !filter.is_selective() {
            return Err(bad("select the alerts with 'criteria' or 'query'"));
        }

        let stamp = Value::String(iso(now));
        let workflow = json!({
            "change_timestamp": stamp,
            "changed_by_type": "API",
            "changed_by": &*self.actor,
            "closure_reason": closure,
            "status": status,
        });
        let determination = determination.map(|d| {
            json!({
                "change_timestamp": stamp,
                "changed_by_type": "API",
                "changed_by": &*self.actor,
                "value": d,
            })
        });

        let changed = {
            let mut alerts = write(&self.alerts);
            let selected = alerts.search_all(&filter, &[]);
            for &i in &selected {
                let history = &mut alerts.extra_mut(i).history;
                history.push(json!({"type": "USER_WORKFLOW_UPDATE", "workflow": workflow}));
                if let Some(d) = &determination {
                    history.push(json!({"type": "USER_DETERMINATION_UPDATE", "determination": d}));
                }
                alerts.change(i, now, |doc| {
                    doc.insert("workflow".into(), workflow.clone());
                    if let Some(d) = &determination {
                        doc.insert("determination".into(), d.clone());
                    }
                    doc.insert("user_update_timestamp".into(), stamp.clone());
                });
                if let Some(text) = note {
                    alerts.add_note(i, new_note(text, &self.actor, now), now);
                }
            }
            selected.len()
        };

        let id = self.job_ids.fetch_add(1, Ordering::Relaxed);
        let job = json!({
            "id": id,
            "type": "user_workflow_update",
            "job_parameters": {"job_parameters": {"request": body, "userWorkflowDto": workflow}},
            "connector_id": &*self.actor,
            "org_key": self.key,
            "owner_id": 0,
            "status": "COMPLETED",
            "progress": {"num_total": changed, "num_completed": changed, "message": "Dismissal completed"},
            "create_time": stamp,
            "last_update_time": stamp,
        });
        let mut jobs = lock(&self.jobs);
        if let Value::Object(doc) = job {
            jobs.workflow.insert(id, doc);
        }
        while jobs.workflow.len() > MAX_WORKFLOW_JOBS {
            jobs.workflow.pop_first();
        }
        Ok(id.to_string())
    }

    /// `GET /jobs/v1/orgs/{org}/jobs/{id}`.
    pub fn job(&self, id: &str) -> Option<Doc> {
        let id: u64 = id.parse().ok()?;
        lock(&self.jobs).workflow.get(&id).cloned()
    }

    // --------------------------------------------------------------------------- devices

    /// `POST devices/_search` → page without `num_available`.
    pub fn search_devices(
        &self,
        body: &Map<String, Value>,
        now: Timestamp,
    ) -> Result<Page, SimError> {
        let filter = Filter::from_body(body, now)?;
        let mut sort = query::parse_sort(body.get("sort"))?;
        if sort.is_empty() {
            sort.push(SortSpec {
                field: "id".into(),
                descending: false,
            });
        }
        let rows = rows_field(body, 20)?;
        let start = start_1(body)?;
        let mut devices = lock(&self.devices);
        devices.settle(now);
        let mut matched: Vec<&Doc> = devices
            .list
            .iter()
            .map(|d| &d.doc)
            .filter(|&d| {
                filter.matches(d)
                    && filter
                        .time_range
                        .is_none_or(|w| in_window(d, "last_contact_time", w))
            })
            .collect();
        query::sort_by_specs(&mut matched, |d| d, &sort);
        let results = matched
            .iter()
            .skip(start - 1)
            .take(rows)
            .map(|d| (*d).clone())
            .collect();
        Ok(Page {
            results,
            num_found: matched.len(),
            num_available: None,
            progress: None,
        })
    }

    pub fn get_device(&self, id: i64, now: Timestamp) -> Option<Doc> {
        let mut devices = lock(&self.devices);
        devices.settle(now);
        devices.get(id).map(|d| d.doc.clone())
    }

    /// The device's `quarantined` flag as a client would read it now.
    pub fn device_quarantined(&self, id: i64, now: Timestamp) -> Option<bool> {
        let mut devices = lock(&self.devices);
        devices.settle(now);
        devices
            .get(id)
            .and_then(|d| d.doc.get("quarantined"))
            .and_then(Value::as_bool)
    }

    /// `POST device_actions` (the reply is 204).
    pub fn device_action(&self, body: &Map<String, Value>, now: Timestamp) -> Result<(), SimError> {
        let action =
            str_field(body, "action_type")?.ok_or_else(|| bad("'action_type' is required"))?;
        let options = match body.get("options") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o),
            Some(_) => return Err(bad("'options' must be an object")),
        };
        let toggle = || -> Result<bool, SimError> {
            match options
                .and_then(|o| o.get("toggle"))
                .and_then(Value::as_str)
            {
                Some("ON") => Ok(true),
                Some("OFF") => Ok(false),
                _ => Err(bad(format!("{action} needs options.toggle ON or OFF"))),
            }
        };
        enum Act {
            Quarantine(bool),
            Bypass(bool),
            Policy(i64, String),
            Nothing,
        }
        let act = match action {
            "QUARANTINE" => Act::Quarantine(toggle()?),
            "BYPASS" => Act::Bypass(toggle()?),
            "BACKGROUND_SCAN" => {
                toggle()?;
                Act::Nothing
            }
            "UPDATE_POLICY" => {
                let pid = options
                    .and_then(|o| o.get("policy_id"))
                    .and_then(Value::as_i64)
                    .ok_or_else(|| bad("UPDATE_POLICY needs options.policy_id"))?;
                let name = match self.policies.iter().find(|p| p.id == pid) {
                    Some(p) => p.name.clone(),
                    None if self.policies.is_empty() => format!("policy-{pid}"),
                    None => return Err(bad(format!("unknown policy_id {pid}"))),
                };
                Act::Policy(pid, name)
            }
            "UPDATE_SENSOR_VERSION" | "UNINSTALL_SENSOR" | "DELETE_SENSOR" => Act::Nothing,
            other => return Err(bad(format!("unknown action_type {other:?}"))),
        };

        let mut devices = lock(&self.devices);
        devices.settle(now);
        let targets: Vec<usize> = match (body.get("device_id"), body.get("search")) {
            (Some(ids), _) if !ids.is_null() => {
                let ids = device_ids(ids)?;
                let found: Vec<usize> = ids
                    .iter()
                    .filter_map(|id| devices.by_id.get(id).copied())
                    .collect();
                if found.is_empty() {
                    return Err(not_found("none of the device ids exist in this org"));
                }
                found
            }
            (_, Some(Value::Object(search))) => {
                let filter = Filter::from_body(search, now)?;
                (0..devices.list.len())
                    .filter(|&i| filter.matches(&devices.list[i].doc))
                    .collect()
            }
            _ => return Err(bad("'device_id' (array of ids) or 'search' is required")),
        };
        let due = now.saturating_add(self.checkin).unwrap_or(Timestamp::MAX);
        for i in targets {
            let entry = &mut devices.list[i];
            match &act {
                Act::Quarantine(on) => entry.pending = Some((*on, due)),
                Act::Bypass(on) => {
                    let status = if *on {
                        "BYPASS"
                    } else if is_quarantined(&entry.doc) {
                        "QUARANTINE"
                    } else {
                        "REGISTERED"
                    };
                    entry.doc.insert("status".into(), status.into());
                }
                Act::Policy(pid, name) => {
                    entry.doc.insert("policy_id".into(), (*pid).into());
                    entry.doc.insert("policy_name".into(), name.clone().into());
                    entry.doc.insert("policy_override".into(), true.into());
                }
                Act::Nothing => {}
            }
        }
        // With a zero check-in the change is visible before the 204 goes out.
        devices.settle(now);
        Ok(())
    }

    // --------------------------------------------------------------------------- overrides

    /// `POST reputations/overrides`.
    pub fn create_override(
        &self,
        body: &Map<String, Value>,
        now: Timestamp,
    ) -> Result<Doc, SimError> {
        let list = one_of(body, "override_list", &["WHITE_LIST", "BLACK_LIST"])?
            .ok_or_else(|| bad("'override_list' is required (WHITE_LIST or BLACK_LIST)"))?;
        let kind = one_of(body, "override_type", &["SHA256", "IT_TOOL", "CERT"])?
            .ok_or_else(|| bad("'override_type' is required (SHA256, IT_TOOL or CERT)"))?;
        if list == "BLACK_LIST" && kind != "SHA256" {
            return Err(bad("BLACK_LIST is only valid with override_type SHA256"));
        }
        let description = str_field(body, "description")?.unwrap_or("");
        let mut doc = Map::new();
        doc.insert("override_list".into(), list.into());
        doc.insert("override_type".into(), kind.into());
        doc.insert("description".into(), description.into());
        // The fields that identify what is overridden; two overrides with equal keys are the same.
        let key_fields: &[&str] = match kind {
            "SHA256" => {
                let sha = str_field(body, "sha256_hash")?.unwrap_or("");
                if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad("'sha256_hash' must be 64 hexadecimal characters"));
                }
                doc.insert("sha256_hash".into(), sha.to_ascii_lowercase().into());
                if let Some(f) = str_field(body, "filename")? {
                    doc.insert("filename".into(), f.into());
                }
                &["sha256_hash"]
            }
            "IT_TOOL" => {
                let path = str_field(body, "path")?.filter(|p| !p.is_empty());
                let path = path.ok_or_else(|| bad("IT_TOOL overrides need 'path'"))?;
                let children = match body.get("include_child_processes") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(bad("'include_child_processes' must be a boolean")),
                };
                doc.insert("path".into(), path.into());
                doc.insert("include_child_processes".into(), children.into());
                &["path"]
            }
            _ => {
                let signer = str_field(body, "signed_by")?.filter(|s| !s.is_empty());
                let signer = signer.ok_or_else(|| bad("CERT overrides need 'signed_by'"))?;
                doc.insert("signed_by".into(), signer.into());
                if let Some(ca) = str_field(body, "certificate_authority")? {
                    doc.insert("certificate_authority".into(), ca.into());
                }
                &["signed_by", "certificate_authority"]
            }
        };
        let mut overrides = lock(&self.overrides);
        let same = |o: &Doc| {
            ["override_list", "override_type"]
                .iter()
                .chain(key_fields)
                .all(|k| o.get(*k) == doc.get(*k))
        };
        if let Some(existing) = overrides.iter().find(|o| same(o)) {
            return Ok(existing.clone());
        }
        doc.insert(
            "id".into(),
            uuid::Uuid::new_v4().simple().to_string().into(),
        );
        doc.insert("created_by".into(), (*self.actor).into());
        doc.insert("create_time".into(), iso(now).into());
        overrides.push(doc.clone());
        Ok(doc)
    }

    /// `POST reputations/overrides/_search` → `{num_found, results}`. `query` is a
    /// case-insensitive substring of sha256_hash, filename, description, path or signed_by.
    pub fn search_overrides(&self, body: &Map<String, Value>) -> Result<Value, SimError> {
        let no_criteria = Map::new();
        let criteria = match body.get("criteria") {
            None | Some(Value::Null) => &no_criteria,
            Some(Value::Object(c)) => c,
            Some(_) => return Err(bad("'criteria' must be an object")),
        };
        let wanted = |key: &str| -> Result<Vec<String>, SimError> {
            match criteria.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(s)) => Ok(vec![s.clone()]),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| bad(format!("criteria.{key} must hold strings")))
                    })
                    .collect(),
                Some(_) => Err(bad(format!(
                    "criteria.{key} must be a string or an array of strings"
                ))),
            }
        };
        let (lists, kinds) = (wanted("override_list")?, wanted("override_type")?);
        let text = str_field(body, "query")?.unwrap_or("").to_ascii_lowercase();
        let start = uint_field(body, "start")?.unwrap_or(0);
        let rows = rows_field(body, 100)?;
        let sort = query::parse_sort_pair(
            body.get("sort_field"),
            body.get("sort_order"),
            SortSpec {
                field: "create_time".into(),
                descending: true,
            },
        )?;

        let overrides = lock(&self.overrides);
        let field_is = |o: &Doc, key: &str, allowed: &[String]| {
            allowed.is_empty()
                || o.get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|v| allowed.iter().any(|a| a == v))
        };
        let mut matched: Vec<&Doc> = overrides
            .iter()
            .filter(|o| {
                field_is(o, "override_list", &lists) && field_is(o, "override_type", &kinds)
            })
            .filter(|o| {
                text.is_empty()
                    || [
                        "sha256_hash",
                        "filename",
                        "description",
                        "path",
                        "signed_by",
                    ]
                    .iter()
                    .any(|k| {
                        o.get(*k)
                            .and_then(Value::as_str)
                            .is_some_and(|v| v.to_ascii_lowercase().contains(&text))
                    })
            })
            .collect();
        query::sort_by_specs(&mut matched, |d| d, std::slice::from_ref(&sort));
        let results: Vec<&Doc> = matched.iter().skip(start).take(rows).copied().collect();
        Ok(json!({"num_found": matched.len(), "results": results}))
    }

    pub fn get_override(&self, id: &str) -> Option<Doc> {
        lock(&self.overrides)
            .iter()
            .find(|o| o.get("id").and_then(Value::as_str) == Some(id))
            .cloned()
    }

    pub fn delete_override(&self, id: &str) -> Result<(), SimError> {
        let mut overrides = lock(&self.overrides);
        let before = overrides.len();
        overrides.retain(|o| o.get("id").and_then(Value::as_str) != Some(id));
        if overrides.len() == before {
            return Err(not_found(format!("no reputation override {id}")));
        }
        Ok(())
    }

    /// `POST reputations/overrides/_delete ["id", ...]`: unknown ids are ignored.
    pub fn delete_overrides(&self, ids: &Value) -> Result<(), SimError> {
        let ids: HashSet<&str> = ids
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .ok_or_else(|| bad("the body must be an array of override ids"))?;
        lock(&self.overrides).retain(|o| {
            !o.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| ids.contains(id))
        });
        Ok(())
    }

    // --------------------------------------------------------------------------- investigate

    /// `POST processes/search_validation`.
    pub fn validate_query(&self, q: &str) -> Value {
        match query::parse_query(q) {
            Ok(_) => json!({"valid": true, "value_search_query": false}),
            Err(e) => {
                let offset = match &e {
                    FilterError::Syntax { offset, .. } => *offset,
                    FilterError::Invalid(_) => 0,
                };
                json!({
                    "valid": false,
                    "value_search_query": false,
                    "invalid_message": e.to_string(),
                    "invalid_trigger_offset": offset,
                })
            }
        }
    }

    /// Creates an investigate job of `kind` from its request body; returns the job id.
    pub fn create_job(
        &self,
        kind: JobKind,
        body: &Map<String, Value>,
        now: Timestamp,
    ) -> Result<String, SimError> {
        let ev = read(&self.evidence);
        let (docs, num_found, guid) = match kind {
            JobKind::ProcessSearch | JobKind::ObservationSearch => {
                let filter = Filter::from_body(body, now)?;
                let sort = query::parse_sort(body.get("sort"))?;
                let cap = rows_field(body, MAX_WINDOW)?;
                let pool = if kind == JobKind::ProcessSearch {
                    &ev.processes
                } else {
                    &ev.observations
                };
                let mut hits: Vec<&CDoc> =
                    pool.iter().filter(|d| filter.matches(d.obj())).collect();
                query::sort_by_specs(&mut hits, |d| d.obj(), &sort);
                let num_found = hits.len();
                hits.truncate(cap);
                (hits.into_iter().cloned().collect(), num_found, None)
            }
            JobKind::ProcessDetail => {
                let guids = string_list(body.get("process_guids"), "process_guids")?;
                let docs: Vec<CDoc> = guids
                    .iter()
                    .filter_map(|g| ev.process(g).map(|i| ev.processes[i].clone()))
                    .collect();
                let n = docs.len();
                (docs, n, None)
            }
            JobKind::ProcessSummary => {
                let guid = str_field(body, "process_guid")?
                    .ok_or_else(|| bad("'process_guid' is required"))?;
                if ev.process(guid).is_none() {
                    return Err(not_found(format!("no process {guid}")));
                }
                (Vec::new(), 1, Some(guid.to_string()))
            }
            JobKind::ObservationDetail => {
                let docs: Vec<CDoc> =
                    match (body.get("observation_ids"), str_field(body, "alert_id")?) {
                        (Some(ids), None) if !ids.is_null() => {
                            string_list(Some(ids), "observation_ids")?
                                .iter()
                                .filter_map(|id| {
                                    Str::lookup(id)
                                        .and_then(|id| ev.obs_by_id.get(&id))
                                        .map(|&i| ev.observations[i].clone())
                                })
                                .collect()
                        }
                        (None | Some(Value::Null), Some(alert)) => Str::lookup(alert)
                            .and_then(|a| ev.obs_by_alert.get(&a))
                            .map(|ix| ix.iter().map(|&i| ev.observations[i].clone()).collect())
                            .unwrap_or_default(),
                        _ => {
                            return Err(bad("give exactly one of 'observation_ids' or 'alert_id'"));
                        }
                    };
                let n = docs.len();
                (docs, n, None)
            }
        };
        drop(ev);
        let id = uuid::Uuid::new_v4().to_string();
        let mut jobs = lock(&self.jobs);
        jobs.search.insert(
            id.clone(),
            SearchJob {
                kind,
                docs,
                num_found,
                polls: 0,
                guid,
            },
        );
        jobs.order.push_back(id.clone());
        while jobs.order.len() > MAX_SEARCH_JOBS {
            if let Some(old) = jobs.order.pop_front() {
                jobs.search.remove(&old);
            }
        }
        Ok(id)
    }

    /// `GET .../{search,detail}_jobs/{id}/results?start=&rows=` (0-based `start`).
    pub fn job_results(
        &self,
        kind: JobKind,
        id: &str,
        start: Option<usize>,
        rows: Option<usize>,
    ) -> Result<Page<CDoc>, SimError> {
        let mut jobs = lock(&self.jobs);
        let job = jobs.get_mut(kind, id)?;
        job.polls = job.polls.saturating_add(1);
        let available = job.docs.len();
        if job.polls == 1 {
            return Ok(Page {
                results: Vec::new(),
                num_found: job.num_found,
                num_available: Some(0),
                progress: Some((SEARCHERS, 0)),
            });
        }
        let default_rows = if matches!(kind, JobKind::ProcessSearch | JobKind::ObservationSearch) {
            10
        } else {
            MAX_WINDOW
        };
        let start = start.unwrap_or(0);
        let rows = rows.unwrap_or(default_rows).min(MAX_WINDOW);
        let results = job.docs.iter().skip(start).take(rows).cloned().collect();
        Ok(Page {
            results,
            num_found: job.num_found,
            num_available: Some(available),
            progress: Some((SEARCHERS, SEARCHERS)),
        })
    }

    /// `GET processes/summary_jobs/{id}/results?format=summary|tree`.
    pub fn summary_results(&self, id: &str, format: &str) -> Result<Value, SimError> {
        let guid = {
            let mut jobs = lock(&self.jobs);
            let job = jobs.get_mut(JobKind::ProcessSummary, id)?;
            job.polls = job.polls.saturating_add(1);
            if job.polls == 1 {
                return Ok(json!({
                    "exception": "",
                    "summary": {"process": null, "parent": null, "children": null, "siblings": null},
                    "tree": null,
                    "contacted": SEARCHERS,
                    "completed": 0,
                }));
            }
            job.guid.clone().unwrap_or_default()
        };
        let ev = read(&self.evidence);
        let Some(idx) = ev.process(&guid) else {
            return Ok(
                json!({"exception": format!("process {guid} not found"), "contacted": SEARCHERS, "completed": SEARCHERS}),
            );
        };
        Ok(match format {
            "tree" => json!({
                "exception": "",
                "summary": {"process": null, "parent": null, "children": null, "siblings": null},
                "tree": ev.tree_from_root(idx),
                "contacted": SEARCHERS,
                "completed": SEARCHERS,
            }),
            "summary" => json!({
                "exception": "",
                "summary": ev.summary(idx),
                "contacted": SEARCHERS,
                "completed": SEARCHERS,
            }),
            other => {
                return Err(bad(format!(
                    "format must be 'summary' or 'tree', not {other:?}"
                )));
            }
        })
    }
}

/// A top-level field holding one parseable timestamp string.
fn time_of(doc: &CDoc, field: &str) -> Option<Timestamp> {
    doc.get(field)?.as_str()?.parse().ok()
}

fn in_window(doc: &Doc, field: &str, w: query::Window) -> bool {
    query::first_value(doc, field)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .is_some_and(|t| w.contains(t))
}

fn is_quarantined(doc: &Doc) -> bool {
    doc.get("quarantined")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn note_text(v: Option<&Value>) -> Result<Option<&str>, SimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(bad("'note' must not be empty")),
        Some(Value::String(s)) if s.chars().count() > MAX_NOTE_CHARS => Err(bad(format!(
            "'note' must be at most {MAX_NOTE_CHARS} characters"
        ))),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad("'note' must be a string")),
    }
}

fn new_note(text: &str, author: &str, now: Timestamp) -> Doc {
    let stamp = iso(now);
    match json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "author": author,
        "note": text,
        "create_timestamp": stamp,
        "last_update_timestamp": stamp,
        "source": "CUSTOMER",
        "parent_id": null,
        "read_history": null,
        "thread": null,
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The history an alert has before anyone touched it: its creation (OPEN by the system), then
/// the workflow and determination it arrived with when those differ (replayed alerts).
fn initial_history(doc: &CDoc) -> Vec<Value> {
    let field = |k: &str| doc.get(k).map(CVal::to_value);
    let created = field("backend_timestamp").unwrap_or(Value::Null);
    let mut history = vec![json!({
        "type": "USER_WORKFLOW_UPDATE",
        "workflow": {
            "change_timestamp": created,
            "changed_by_type": "SYSTEM",
            "changed_by": "ALERT_CREATION",
            "closure_reason": "NO_REASON",
            "status": "OPEN",
        },
    })];
    if let Some(w @ Value::Object(m)) = &field("workflow") {
        let pristine = m.get("status").and_then(Value::as_str) == Some("OPEN")
            && m.get("changed_by_type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "SYSTEM");
        if !pristine {
            history.push(json!({"type": "USER_WORKFLOW_UPDATE", "workflow": w}));
        }
    }
    if let Some(d @ Value::Object(m)) = &field("determination")
        && m.get("value")
            .and_then(Value::as_str)
            .is_some_and(|v| v != "NONE")
    {
        history.push(json!({"type": "USER_DETERMINATION_UPDATE", "determination": d}));
    }
    history
}

fn device_ids(v: &Value) -> Result<Vec<i64>, SimError> {
    let items = v
        .as_array()
        .ok_or_else(|| bad("'device_id' must be an array of device ids"))?;
    if items.is_empty() || items.len() > MAX_WINDOW {
        return Err(bad(format!(
            "'device_id' must list 1 to {MAX_WINDOW} devices"
        )));
    }
    items
        .iter()
        .map(|x| match x {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .map(|id| id.ok_or_else(|| bad("'device_id' entries must be integers")))
        .collect()
}

fn string_list(v: Option<&Value>, key: &str) -> Result<Vec<String>, SimError> {
    let items = v
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| bad(format!("'{key}' must be a non-empty array of strings")))?;
    items
        .iter()
        .map(|x| {
            x.as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(format!("'{key}' must hold strings")))
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// Alerts

struct AlertEntry {
    doc: CDoc,
    /// `backend_timestamp`, parsed once for the sorted index.
    backend: Timestamp,
    /// `backend_update_timestamp` when it is one parseable string (the key in `Alerts::updated`).
    updated: Option<Timestamp>,
}

impl AlertEntry {
    fn new(doc: CDoc) -> AlertEntry {
        AlertEntry {
            backend: time_of(&doc, "backend_timestamp").unwrap_or(Timestamp::UNIX_EPOCH),
            updated: time_of(&doc, "backend_update_timestamp"),
            doc,
        }
    }
}

/// A document serialized (an object of `String` keys always serializes; the fallback only keeps
/// the types honest).
fn to_json(doc: &CDoc) -> Vec<u8> {
    serde_json::to_vec(doc).unwrap_or_else(|_| b"{}".to_vec())
}

/// [`AlertPage::into_chunks`].
pub struct PageChunks {
    page: AlertPage,
    next: usize,
    size: usize,
    started: bool,
    done: bool,
}

impl Iterator for PageChunks {
    type Item = Vec<u8>;
    fn next(&mut self) -> Option<Vec<u8>> {
        if self.done {
            return None;
        }
        let results = &self.page.results;
        let mut out = Vec::with_capacity(self.size.min(results.len() * 4096 + 64));
        if !self.started {
            out.extend_from_slice(b"{\"results\":[");
            self.started = true;
        }
        while self.next < results.len() && out.len() < self.size {
            if self.next > 0 {
                out.push(b',');
            }
            // Writing into a `Vec` cannot fail, and a document always serializes.
            let _ = serde_json::to_writer(&mut out, &results[self.next]);
            self.next += 1;
        }
        if self.next == results.len() && out.len() < self.size {
            out.extend_from_slice(
                format!(
                    "],\"num_found\":{},\"num_available\":{}}}",
                    self.page.num_found, self.page.num_available
                )
                .as_bytes(),
            );
            self.done = true;
        }
        Some(out)
    }
}

/// A page of alerts (`{results, num_found, num_available}`).
///
/// Alerts are serialized per request, after the lock is released. Serializing a compact alert
/// takes ~5 µs (5 ms for a 1000-row page, half the time the `serde_json::Map` took), so there
/// is no cache of serialized alerts any more: it grew to the JSON of every alert ever served
/// (3.5 KB an alert, 350 MB with a 100 000 alert backlog) to save those 5 ms.
#[derive(Debug, Clone, Default)]
pub struct AlertPage {
    pub results: Vec<CDoc>,
    pub num_found: usize,
    pub num_available: usize,
}

impl AlertPage {
    /// The response body.
    pub fn to_json(&self) -> Vec<u8> {
        self.clone().into_chunks(usize::MAX).flatten().collect()
    }

    /// The response body in pieces of about `size` bytes, each serialized only when asked
    /// for: the server sends the first alerts while it still writes the rest, and holds one
    /// piece of a page in memory instead of all 3.5 MB of it.
    pub fn into_chunks(self, size: usize) -> PageChunks {
        PageChunks {
            page: self,
            next: 0,
            size: size.max(1),
            started: false,
            done: false,
        }
    }
    /// The page parsed back (tests, tools).
    pub fn to_value(&self) -> Value {
        serde_json::from_slice(&self.to_json()).unwrap_or(Value::Null)
    }
}

/// Notes and history exist only for alerts someone touched, to keep untouched alerts small.
struct AlertExtra {
    notes: Vec<Doc>,
    history: Vec<Value>,
}

#[derive(Default)]
struct Alerts {
    entries: Vec<AlertEntry>,
    /// Keyed by the interned id (see `compact.rs`): no second copy of 100 000 ids.
    by_id: FastMap<Str, usize>,
    /// Entry indices by `(backend_timestamp, index)` ascending: the default sort and
    /// `time_range` need no per-request sorting or parsing.
    order: Vec<usize>,
    /// `(backend_update_timestamp, index)`: pollers ask for "changed since", which this answers
    /// without testing every alert.
    updated: BTreeSet<(Timestamp, usize)>,
    /// Alerts whose `backend_update_timestamp` is not one parseable string: always candidates.
    irregular: Vec<usize>,
    extra: HashMap<usize, AlertExtra>,
}

impl Alerts {
    fn index(&self, id: &str) -> Result<usize, SimError> {
        Str::lookup(id)
            .and_then(|id| self.by_id.get(&id))
            .copied()
            .ok_or_else(|| not_found(format!("no alert {id}")))
    }

    fn insert_all(&mut self, docs: Vec<CDoc>) {
        let key = |e: &AlertEntry, i: usize| (e.backend, i);
        let mut sorted = true;
        for doc in docs {
            // An alert without an id cannot be fetched, noted or closed: CBC has none such.
            let Some(id) = doc.get("id").and_then(CVal::str_id) else {
                tracing::warn!("alert without an id dropped");
                continue;
            };
            let entry = AlertEntry::new(doc);
            let i = match self.by_id.get(&id) {
                Some(&i) => {
                    self.unindex_update(i);
                    self.entries[i] = entry;
                    sorted = false;
                    i
                }
                None => {
                    let i = self.entries.len();
                    if let Some(&last) = self.order.last() {
                        sorted &= key(&self.entries[last], last) < key(&entry, i);
                    }
                    self.by_id.insert(id, i);
                    self.order.push(i);
                    self.entries.push(entry);
                    i
                }
            };
            self.index_update(i);
        }
        if !sorted {
            // Mostly sorted already (live alerts are the newest): the stable sort is
            // near-linear.
            let entries = &self.entries;
            self.order.sort_by_key(|&i| key(&entries[i], i));
        }
    }

    /// The `order` slice inside `time_range`.
    fn window(&self, filter: &Filter) -> &[usize] {
        let Some(w) = filter.time_range else {
            return &self.order;
        };
        let lo = w.start.map_or(0, |s| {
            self.order.partition_point(|&i| self.entries[i].backend < s)
        });
        let hi = w.end.map_or(self.order.len(), |e| {
            self.order
                .partition_point(|&i| self.entries[i].backend <= e)
        });
        &self.order[lo..hi.max(lo)]
    }

    fn index_update(&mut self, i: usize) {
        match self.entries[i].updated {
            Some(t) => {
                self.updated.insert((t, i));
            }
            None => self.irregular.push(i),
        }
    }

    fn unindex_update(&mut self, i: usize) {
        match self.entries[i].updated {
            Some(t) => {
                self.updated.remove(&(t, i));
            }
            None => self.irregular.retain(|&j| j != i),
        }
    }

    /// The entries worth testing, in index order: the `time_range` slice of the index, or, when
    /// the criteria bound `backend_update_timestamp` to fewer alerts than that, those alerts.
    fn candidates(&self, filter: &Filter) -> Cow<'_, [usize]> {
        let window = self.window(filter);
        let Some(w) = filter.time_window("backend_update_timestamp") else {
            return Cow::Borrowed(window);
        };
        let lo = (w.start.unwrap_or(Timestamp::MIN), 0);
        let hi = (w.end.unwrap_or(Timestamp::MAX), usize::MAX);
        if lo > hi {
            // An inverted window matches nothing (and `BTreeSet::range` would panic on it).
            return Cow::Owned(Vec::new());
        }
        let mut picked = Vec::new();
        for &(_, i) in self.updated.range(lo..=hi) {
            if picked.len() >= window.len() {
                return Cow::Borrowed(window);
            }
            picked.push(i);
        }
        picked.extend_from_slice(&self.irregular);
        if let Some(tr) = filter.time_range {
            picked.retain(|&i| tr.contains(self.entries[i].backend));
        }
        picked.sort_unstable_by_key(|&i| (self.entries[i].backend, i));
        Cow::Owned(picked)
    }

    fn matches(&self, filter: &Filter, i: usize) -> bool {
        filter.matches(self.entries[i].doc.obj())
    }

    /// Matching entries in the requested order; `None` sort = `backend_timestamp` DESC.
    fn search_all(&self, filter: &Filter, sort: &[SortSpec]) -> Vec<usize> {
        let window = self.candidates(filter);
        let ascending = default_order(sort);
        let mut hits: Vec<usize> = match ascending {
            Some(true) => window
                .iter()
                .copied()
                .filter(|&i| self.matches(filter, i))
                .collect(),
            _ => window
                .iter()
                .rev()
                .copied()
                .filter(|&i| self.matches(filter, i))
                .collect(),
        };
        if ascending.is_none() {
            query::sort_by_specs(&mut hits, |i| self.entries[i].doc.obj(), sort);
        }
        hits
    }

    /// One page (`skip` 0-based) and the total number of matches. With the default order only
    /// the page's documents are touched beyond the filter.
    fn search(
        &self,
        filter: &Filter,
        sort: &[SortSpec],
        skip: usize,
        rows: usize,
    ) -> (Vec<CDoc>, usize) {
        let page = |hits: &mut dyn Iterator<Item = usize>| -> (Vec<CDoc>, usize) {
            let mut results = Vec::with_capacity(rows.min(1000));
            let mut found = 0;
            for i in hits {
                if found >= skip && results.len() < rows {
                    results.push(self.entries[i].doc.clone());
                }
                found += 1;
            }
            (results, found)
        };
        let window = self.candidates(filter);
        let matches = |i: &usize| self.matches(filter, *i);
        let ordered = default_order(sort);
        if filter.matches_everything()
            && let Some(ascending) = ordered
        {
            // Nothing to test: the page is a slice of the index.
            let page = |it: &mut dyn Iterator<Item = &usize>| {
                it.skip(skip)
                    .take(rows)
                    .map(|&i| self.entries[i].doc.clone())
                    .collect()
            };
            let results = if ascending {
                page(&mut window.iter())
            } else {
                page(&mut window.iter().rev())
            };
            return (results, window.len());
        }
        match ordered {
            Some(true) => page(&mut window.iter().copied().filter(matches)),
            Some(false) => page(&mut window.iter().rev().copied().filter(matches)),
            None => page(&mut self.search_all(filter, sort).into_iter()),
        }
    }

    /// Changes the alert at `now`: `edit` gets it as a map; every change also stamps
    /// `backend_update_timestamp` and re-indexes it.
    fn change(&mut self, i: usize, now: Timestamp, edit: impl FnOnce(&mut Doc)) {
        self.unindex_update(i);
        let stamp = iso(now);
        // The index key is the stamp as written (milliseconds), which is what filters compare.
        let key = stamp.parse().unwrap_or(now);
        self.updated.insert((key, i));
        let entry = &mut self.entries[i];
        entry.updated = Some(key);
        entry.doc.update(|doc| {
            doc.insert("backend_update_timestamp".into(), Value::String(stamp));
            edit(doc);
        });
    }

    fn extra_mut(&mut self, i: usize) -> &mut AlertExtra {
        let doc = &self.entries[i].doc;
        self.extra.entry(i).or_insert_with(|| AlertExtra {
            notes: Vec::new(),
            history: initial_history(doc),
        })
    }

    fn add_note(&mut self, i: usize, note: Doc, now: Timestamp) {
        let extra = self.extra_mut(i);
        extra
            .history
            .push(json!({"type": "ALERT_NOTE_ADDED", "note": note}));
        extra.notes.push(note);
        self.change(i, now, |doc| {
            doc.insert("alert_notes_present".into(), Value::Bool(true));
        });
    }
}

/// `Some(ascending)` when `sort` is the index order (`backend_timestamp` either way, or none =
/// DESC); `None` when the hits must be sorted.
fn default_order(sort: &[SortSpec]) -> Option<bool> {
    match sort {
        [] => Some(false),
        [s] if s.field == "backend_timestamp" => Some(!s.descending),
        _ => None,
    }
}

// ------------------------------------------------------------------------------------------------
// Devices

struct DeviceEntry {
    doc: Doc,
    /// A quarantine change waiting for the sensor's check-in: `(quarantine, due)`.
    pending: Option<(bool, Timestamp)>,
}

#[derive(Default)]
struct Devices {
    list: Vec<DeviceEntry>,
    by_id: HashMap<i64, usize>,
}

impl Devices {
    fn insert(&mut self, doc: Doc) {
        let Some(id) = doc.get("id").and_then(Value::as_i64) else {
            tracing::warn!("device without an integer id dropped");
            return;
        };
        match self.by_id.get(&id) {
            Some(&i) => self.list[i].doc = doc,
            None => {
                self.by_id.insert(id, self.list.len());
                self.list.push(DeviceEntry { doc, pending: None });
            }
        }
    }

    fn get(&self, id: i64) -> Option<&DeviceEntry> {
        self.by_id.get(&id).map(|&i| &self.list[i])
    }

    /// Applies every check-in due by `now`. Done lazily on each device access instead of by a
    /// timer task: nobody can observe a device between the due time and the next access.
    fn settle(&mut self, now: Timestamp) {
        for entry in &mut self.list {
            let Some((on, due)) = entry.pending else {
                continue;
            };
            if due > now {
                continue;
            }
            entry.pending = None;
            let d = &mut entry.doc;
            d.insert("quarantined".into(), on.into());
            let bypass = d.get("status").and_then(Value::as_str) == Some("BYPASS");
            let status = if on {
                "QUARANTINE"
            } else if bypass {
                "BYPASS"
            } else {
                "REGISTERED"
            };
            d.insert("status".into(), status.into());
            d.insert("last_contact_time".into(), iso(due).into());
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Processes and observations

/// Processes and observations, indexed by the interned ids of their GUIDs and alert ids (see
/// `compact.rs`): no second copy of half a million GUIDs.
#[derive(Default)]
struct Evidence {
    processes: Vec<CDoc>,
    proc_by_guid: FastMap<Str, usize>,
    /// parent_guid → child process indices.
    children: FastMap<Str, Vec<usize>>,
    observations: Vec<CDoc>,
    obs_by_id: FastMap<Str, usize>,
    obs_by_alert: FastMap<Str, Vec<usize>>,
}

impl Evidence {
    /// The process with this GUID.
    fn process(&self, guid: &str) -> Option<usize> {
        Str::lookup(guid).and_then(|g| self.proc_by_guid.get(&g).copied())
    }

    fn insert_process(&mut self, doc: CDoc) {
        let Some(guid) = doc.get("process_guid").and_then(CVal::str_id) else {
            tracing::warn!("process without process_guid dropped");
            return;
        };
        // Stories share ancestors (services.exe, explorer.exe): the first copy wins.
        if self.proc_by_guid.contains_key(&guid) {
            return;
        }
        let idx = self.processes.len();
        if let Some(parent) = doc
            .get("parent_guid")
            .and_then(CVal::str_id)
            .filter(|p| *p != guid)
        {
            self.children.entry(parent).or_default().push(idx);
        }
        self.proc_by_guid.insert(guid, idx);
        self.processes.push(doc);
    }

    fn insert_observation(&mut self, doc: CDoc) {
        let idx = self.observations.len();
        if let Some(id) = doc.get("observation_id").and_then(CVal::str_id) {
            if self.obs_by_id.contains_key(&id) {
                return;
            }
            self.obs_by_id.insert(id, idx);
        }
        let mut alert_ids = Vec::new();
        query::any_value(doc.obj(), "alert_id", &mut |v| {
            alert_ids.extend(v.str_id());
            false
        });
        for a in alert_ids {
            let list = self.obs_by_alert.entry(a).or_default();
            if list.last() != Some(&idx) {
                list.push(idx);
            }
        }
        self.observations.push(doc);
    }

    fn parent_of(&self, idx: usize) -> Option<usize> {
        let parent = self.processes[idx]
            .get("parent_guid")
            .and_then(CVal::str_id)?;
        self.proc_by_guid
            .get(&parent)
            .copied()
            .filter(|&p| p != idx)
    }

    /// The process's topmost known ancestor, rendered with nested `children` down to the leaves.
    fn tree_from_root(&self, idx: usize) -> Value {
        let mut root = idx;
        let mut seen = HashSet::from([idx]);
        while let Some(p) = self.parent_of(root) {
            if !seen.insert(p) || seen.len() > MAX_TREE_DEPTH {
                break;
            }
            root = p;
        }
        let mut visited = HashSet::new();
        self.subtree(root, 0, &mut visited)
    }

    fn subtree(&self, idx: usize, depth: usize, visited: &mut HashSet<usize>) -> Value {
        visited.insert(idx);
        let mut doc = self.processes[idx].to_map();
        let children: Vec<Value> = if depth < MAX_TREE_DEPTH {
            self.child_indices(idx)
                .filter(|c| !visited.contains(c))
                .collect::<Vec<_>>()
                .into_iter()
                .map(|c| self.subtree(c, depth + 1, visited))
                .collect()
        } else {
            Vec::new()
        };
        doc.insert("has_children".into(), (!children.is_empty()).into());
        doc.insert("children".into(), Value::Array(children));
        Value::Object(doc)
    }

    fn child_indices(&self, idx: usize) -> impl Iterator<Item = usize> + '_ {
        self.processes[idx]
            .get("process_guid")
            .and_then(CVal::str_id)
            .and_then(|g| self.children.get(&g))
            .into_iter()
            .flatten()
            .copied()
    }

    fn summary(&self, idx: usize) -> Value {
        let doc = |i: usize| Value::Object(self.processes[i].to_map());
        let parent = self.parent_of(idx);
        let children: Vec<Value> = self.child_indices(idx).map(doc).collect();
        let siblings: Vec<Value> = parent
            .map(|p| {
                self.child_indices(p)
                    .filter(|&s| s != idx)
                    .map(doc)
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "process": doc(idx),
            "parent": parent.map(doc),
            "children": children,
            "siblings": siblings,
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Jobs

/// The investigate job families; results must be fetched from the family that created them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    ProcessSearch,
    ProcessDetail,
    ProcessSummary,
    ObservationSearch,
    ObservationDetail,
}

struct SearchJob {
    kind: JobKind,
    docs: Vec<CDoc>,
    num_found: usize,
    polls: u32,
    /// The process of a summary job.
    guid: Option<String>,
}

#[derive(Default)]
struct Jobs {
    workflow: BTreeMap<u64, Doc>,
    search: HashMap<String, SearchJob>,
    /// Creation order, for forgetting the oldest investigate jobs.
    order: VecDeque<String>,
}

impl Jobs {
    fn get_mut(&mut self, kind: JobKind, id: &str) -> Result<&mut SearchJob, SimError> {
        self.search
            .get_mut(id)
            .filter(|j| j.kind == kind)
            .ok_or_else(|| not_found(format!("no job {id}")))
    }
}

#[cfg(test)]
mod page_chunk_tests {
    use super::*;

    /// Streaming a page changes nothing in its bytes: pieces of any size concatenate to the
    /// whole body, each piece stops once it reaches the size, and the body is valid JSON.
    #[test]
    fn chunks_concatenate_to_the_page_body() {
        let results: Vec<CDoc> = (0..40)
            .map(|n| {
                let doc = json!({"id": format!("alert-{n}"), "reason": "x".repeat(n * 10), "severity": n});
                CDoc::from_map(doc.as_object().unwrap())
            })
            .collect();
        let page = AlertPage {
            results,
            num_found: 57,
            num_available: 40,
        };
        let whole = page.to_json();
        let value: Value = serde_json::from_slice(&whole).unwrap();
        assert_eq!(value["results"].as_array().unwrap().len(), 40);
        assert_eq!(
            (value["num_found"].as_u64(), value["num_available"].as_u64()),
            (Some(57), Some(40))
        );
        for size in [1, 100, 1000, 4096, usize::MAX] {
            let chunks: Vec<Vec<u8>> = page.clone().into_chunks(size).collect();
            assert_eq!(chunks.concat(), whole, "size {size}");
            // Only the last piece may be short of the size; none is more than one alert over.
            for c in &chunks[..chunks.len() - 1] {
                assert!(c.len() >= size.min(whole.len()), "size {size}: {}", c.len());
                assert!(
                    c.len() < size.saturating_add(600),
                    "size {size}: {}",
                    c.len()
                );
            }
        }
        let empty = AlertPage::default().to_json();
        assert_eq!(empty, br#"{"results":[],"num_found":0,"num_available":0}"#);
    }
}
