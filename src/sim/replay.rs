//! Stories from a file of real (or hand-made) alerts: an Alerts v7 search response
//! (`{"results": [...], ...}`), a JSON array of alerts, a single alert object, or JSON Lines (one
//! alert object per line, blank lines ignored).
//!
//! Alerts are kept exactly as they are in the file — any `type`, unknown fields, and hostile
//! strings (escape sequences, bidi overrides, newlines in process names) byte for byte: the
//! console sanitises on display, the simulator never cleans. The only changes:
//! - unless `keep_times`, every timestamp (any field, at any depth, whose name ends in
//!   `_timestamp` or `_time` and whose value is an ISO-8601 string) moves by one offset so the
//!   newest `backend_timestamp` becomes `now` ("as if just received"), keeping the number of
//!   fractional digits of each value;
//! - an alert without `org_key` is put in the default org [`DEFAULT_ORG`] and given that key;
//!   an alert without a string `id` gets a deterministic UUID derived from its position.
//!
//! Each alert's `org_key` becomes an org; devices named by the alerts (`device_id`,
//! `device_name`, `device_os`, policy, IPs, username) become device documents. Each alert is one
//! story with the parent and the acting process synthesised from its `parent_*`/`process_*`
//! fields (so the process tree has parent → process), and one NETWORK observation when the alert
//! carries `netconn_*` evidence.

use super::scenario::stable_uuid;
use super::world::{CompactStory, Doc, OrgSpec, Policy, Story, StorySource};
use anyhow::{Context, bail};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;

/// Org key for alerts that carry none.
pub const DEFAULT_ORG: &str = "REPLAY01";

/// A replay file loaded into memory.
pub struct Replay {
    orgs: Vec<OrgSpec>,
    /// (org index, alert exactly as in the file apart from a filled-in `org_key` / `id`).
    alerts: Vec<(usize, Doc)>,
    keep_times: bool,
}

impl Replay {
    /// Reads and validates the whole file. Errors name the file and, for JSON Lines, the line.
    pub fn load(path: &Path, keep_times: bool) -> anyhow::Result<Replay> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow::anyhow!(
                "{}: not UTF-8 (invalid byte at offset {})",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        let raw =
            parse(&text).with_context(|| format!("loading alerts from {}", path.display()))?;
        Ok(Replay::from_alerts(raw, keep_times, Timestamp::now()))
    }

    /// Builds orgs and devices from parsed alerts; `loaded_at` stands in for "now" in device
    /// contact times (the real shift happens in `backlog(now)`).
    fn from_alerts(raw: Vec<Doc>, keep_times: bool, loaded_at: Timestamp) -> Replay {
        let mut org_index: HashMap<String, usize> = HashMap::new();
        let mut orgs: Vec<OrgSpec> = Vec::new();
        let mut alerts = Vec::with_capacity(raw.len());
        for (i, mut a) in raw.into_iter().enumerate() {
            let key = match a.get("org_key").and_then(Value::as_str) {
                Some(k) if !k.is_empty() => k.to_string(),
                _ => {
                    a.insert("org_key".into(), json!(DEFAULT_ORG));
                    DEFAULT_ORG.to_string()
                }
            };
            if !a.get("id").is_some_and(Value::is_string) {
                a.insert("id".into(), json!(position_uuid(i)));
            }
            let org = *org_index.entry(key.clone()).or_insert_with(|| {
                orgs.push(OrgSpec {
                    name: format!("Replay {key}"),
                    org_key: key,
                    policies: Vec::new(),
                    users: Vec::new(),
                    devices: Vec::new(),
                });
                orgs.len() - 1
            });
            alerts.push((org, a));
        }
        let offset = if keep_times {
            SignedDuration::ZERO
        } else {
            offset_to(&alerts, loaded_at)
        };
        add_devices(&mut orgs, &alerts, offset);
        Replay {
            orgs,
            alerts,
            keep_times,
        }
    }
}

impl StorySource for Replay {
    fn orgs(&self) -> Vec<OrgSpec> {
        self.orgs.clone()
    }

    fn next_story(&mut self, _now: Timestamp) -> Option<(usize, Story)> {
        None
    }

    fn backlog(&mut self, now: Timestamp) -> Vec<(usize, Story)> {
        let mut out = Vec::with_capacity(self.alerts.len());
        self.each_story(now, &mut |org, story| out.push((org, story)));
        out
    }

    fn backlog_each(&mut self, now: Timestamp, sink: &mut dyn FnMut(usize, CompactStory)) {
        self.each_story(now, &mut |org, story| sink(org, CompactStory::from(&story)));
    }
}

impl Replay {
    /// The backlog oldest first by the (shifted) `backend_timestamp`, file order among equals;
    /// each story is built only when it is handed over.
    fn each_story(&self, now: Timestamp, sink: &mut dyn FnMut(usize, Story)) {
        let offset = if self.keep_times {
            SignedDuration::ZERO
        } else {
            offset_to(&self.alerts, now)
        };
        let mut order: Vec<(Option<Timestamp>, usize)> = self
            .alerts
            .iter()
            .enumerate()
            .map(|(i, (_, alert))| (shifted_backend(alert, offset), i))
            .collect();
        order.sort_by_key(|(t, _)| *t);
        for (_, i) in order {
            let (org, alert) = &self.alerts[i];
            let mut alert = alert.clone();
            if !offset.is_zero() {
                shift(&mut alert, offset);
            }
            sink(*org, story(alert));
        }
    }
}

/// The alerts of a file in any of the accepted shapes.
fn parse(text: &str) -> anyhow::Result<Vec<Doc>> {
    let body = text.trim_start_matches('\u{feff}');
    if body.trim().is_empty() {
        bail!("the file is empty");
    }
    // One JSON document: a search response, an array of alerts, or a single alert.
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        return match v {
            Value::Object(mut m) => match m.remove("results") {
                Some(Value::Array(results)) => objects(results, "results"),
                Some(_) => bail!("\"results\" is not an array"),
                None => Ok(vec![m]),
            },
            Value::Array(items) => objects(items, "array"),
            _ => bail!("expected an Alerts v7 search response, alert objects or JSON Lines"),
        };
    }
    // JSON Lines.
    let mut out = Vec::new();
    for (i, line) in body.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) => out.push(m),
            Ok(other) => bail!(
                "line {}: expected an alert object, found {}",
                i + 1,
                kind(&other)
            ),
            Err(e) => bail!("line {}: invalid JSON: {e}", i + 1),
        }
    }
    Ok(out)
}

fn objects(items: Vec<Value>, what: &str) -> anyhow::Result<Vec<Doc>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(m) => Ok(m),
            other => bail!(
                "{what}[{i}]: expected an alert object, found {}",
                kind(&other)
            ),
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A deterministic UUID (v4 layout) for the alert at `index` of the file.
fn position_uuid(index: usize) -> String {
    stable_uuid(&format!("replay-alert-{index}"))
}

// ---------------------------------------------------------------------------------------------
// Time shifting
// ---------------------------------------------------------------------------------------------

fn ts(v: &Value) -> Option<Timestamp> {
    v.as_str()?.parse::<Timestamp>().ok()
}

/// The alert's `backend_timestamp` as [`shift`] leaves it.
fn shifted_backend(alert: &Doc, offset: SignedDuration) -> Option<Timestamp> {
    let v = alert.get("backend_timestamp")?;
    match v.as_str().filter(|_| !offset.is_zero()) {
        Some(s) => shift_str(s, offset).map_or_else(|| ts(v), |moved| moved.parse().ok()),
        None => ts(v),
    }
}

/// The offset that moves the newest `backend_timestamp` to `now` (zero when no alert has one).
fn offset_to(alerts: &[(usize, Doc)], now: Timestamp) -> SignedDuration {
    alerts
        .iter()
        .filter_map(|(_, a)| a.get("backend_timestamp").and_then(ts))
        .max()
        .map_or(SignedDuration::ZERO, |newest| now.duration_since(newest))
}

fn is_time_key(k: &str) -> bool {
    k.ends_with("_timestamp") || k.ends_with("_time")
}

/// Moves every ISO timestamp under a `*_timestamp` / `*_time` key, at any depth.
fn shift(doc: &mut Doc, offset: SignedDuration) {
    for (k, v) in doc.iter_mut() {
        match v {
            Value::String(s) if is_time_key(k) => {
                if let Some(moved) = shift_str(s, offset) {
                    *s = moved;
                }
            }
            Value::Object(m) => shift(m, offset),
            Value::Array(items) => shift_items(items, offset),
            _ => {}
        }
    }
}

fn shift_items(items: &mut [Value], offset: SignedDuration) {
    for item in items {
        match item {
            Value::Object(m) => shift(m, offset),
            Value::Array(inner) => shift_items(inner, offset),
            _ => {}
        }
    }
}

/// `s` moved by `offset`, in UTC with as many fractional digits as `s` had; `None` when `s` is
/// not an ISO-8601 timestamp (left untouched).
fn shift_str(s: &str, offset: SignedDuration) -> Option<String> {
    let t: Timestamp = s.parse().ok()?;
    let moved = t.checked_add(offset).ok()?;
    let digits = s
        .split_once('.')
        .map_or(0, |(_, frac)| {
            frac.bytes().take_while(u8::is_ascii_digit).count()
        })
        .min(9);
    Some(format!("{moved:.digits$}"))
}

// ---------------------------------------------------------------------------------------------
// Orgs and devices
// ---------------------------------------------------------------------------------------------

fn str_of<'a>(a: &'a Doc, k: &str) -> Option<&'a str> {
    a.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn device_id(a: &Doc) -> Option<i64> {
    match a.get("device_id")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Device documents (shape of `fixtures/device_get.json`, null where the alerts say nothing),
/// policies and users for every org, from the alerts that name them. Later alerts (by
/// `backend_timestamp`) win; a device id already used by another org is not created twice.
fn add_devices(orgs: &mut [OrgSpec], alerts: &[(usize, Doc)], offset: SignedDuration) {
    let mut order: Vec<&(usize, Doc)> = alerts.iter().collect();
    order.sort_by_key(|(_, a)| a.get("backend_timestamp").and_then(ts));
    let mut owner: HashMap<i64, (usize, usize)> = HashMap::new();
    for (org, a) in order {
        let spec = &mut orgs[*org];
        for k in ["device_username", "process_username", "parent_username"] {
            if let Some(u) = str_of(a, k)
                && !spec.users.iter().any(|x| x == u)
            {
                spec.users.push(u.to_string());
            }
        }
        let policy_id = a.get("device_policy_id").and_then(Value::as_i64);
        if let Some(id) = policy_id
            && !spec.policies.iter().any(|p| p.id == id)
        {
            let name = str_of(a, "device_policy")
                .unwrap_or("Replay policy")
                .to_string();
            spec.policies.push(Policy { id, name });
        }
        let Some(id) = device_id(a) else { continue };
        let slot = match owner.get(&id) {
            Some(&(o, slot)) if o == *org => slot,
            Some(_) => continue,
            None => {
                spec.devices.push(blank_device(id, &spec.name));
                owner.insert(id, (*org, spec.devices.len() - 1));
                spec.devices.len() - 1
            }
        };
        let d = &mut spec.devices[slot];
        let mut set = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                d.insert(k.to_string(), v);
            }
        };
        let s = |k: &str| str_of(a, k).map(|v| json!(v));
        set("name", s("device_name"));
        set("os", s("device_os"));
        set("sensor_kit_type", s("device_os"));
        set("os_version", s("device_os_version"));
        set("policy_id", policy_id.map(|v| json!(v)));
        set("policy_name", s("device_policy"));
        set("current_sensor_policy_name", s("device_policy"));
        set("last_internal_ip_address", s("device_internal_ip"));
        set("last_external_ip_address", s("device_external_ip"));
        set("login_user_name", s("device_username"));
        set(
            "email",
            str_of(a, "device_username")
                .filter(|u| u.contains('@'))
                .map(|u| json!(u)),
        );
        set("target_priority", s("device_target_value"));
        set("last_location", s("device_location"));
        let seen = a
            .get("backend_timestamp")
            .and_then(ts)
            .and_then(|t| t.checked_add(offset).ok());
        set("last_contact_time", seen.map(|t| json!(format!("{t:.3}"))));
        set("last_reported_time", seen.map(|t| json!(format!("{t:.3}"))));
    }
}

fn blank_device(id: i64, org_name: &str) -> Doc {
    let mut d = Doc::new();
    for k in [
        "activation_code",
        "ad_group_id",
        "appliance_name",
        "av_last_scan_time",
        "av_status",
        "current_sensor_policy_name",
        "deregistered_time",
        "email",
        "first_name",
        "last_contact_time",
        "last_external_ip_address",
        "last_internal_ip_address",
        "last_name",
        "last_reported_time",
        "linux_kernel_version",
        "login_user_name",
        "mac_address",
        "os_version",
        "policy_id",
        "policy_name",
        "registered_time",
        "sensor_version",
        "vuln_score",
        "vuln_severity",
    ] {
        d.insert(k.into(), Value::Null);
    }
    for (k, v) in [
        ("id", json!(id)),
        ("name", json!(format!("device-{id}"))),
        ("os", json!("OTHER")),
        ("status", json!("REGISTERED")),
        ("quarantined", json!(false)),
        ("passive_mode", json!(false)),
        ("policy_override", json!(false)),
        ("last_location", json!("UNKNOWN")),
        ("target_priority", json!("MEDIUM")),
        ("deployment_type", json!("ENDPOINT")),
        ("sensor_kit_type", json!("OTHER")),
        ("sensor_states", json!([])),
        ("sensor_out_of_date", json!(false)),
        ("asset_group", json!([])),
        ("organization_name", json!(org_name)),
    ] {
        d.insert(k.into(), v);
    }
    d
}

// ---------------------------------------------------------------------------------------------
// Stories
// ---------------------------------------------------------------------------------------------

/// One alert's story: the alert, its parent and acting process, and a NETWORK observation when
/// the alert has connection evidence. Every string is copied verbatim.
fn story(alert: Doc) -> Story {
    let mut processes = Vec::new();
    let mut observations = Vec::new();
    let guid = str_of(&alert, "process_guid").map(str::to_string);
    let parent = str_of(&alert, "parent_guid")
        .filter(|p| Some(*p) != guid.as_deref())
        .map(str::to_string);
    if let Some(g) = &guid {
        let mut device = Doc::new();
        for (to, from) in [
            ("device_id", "device_id"),
            ("device_name", "device_name"),
            ("device_os", "device_os"),
            ("device_policy", "device_policy"),
            ("device_policy_id", "device_policy_id"),
            ("device_internal_ip", "device_internal_ip"),
            ("device_external_ip", "device_external_ip"),
            ("org_id", "org_key"),
        ] {
            if let Some(v) = alert.get(from) {
                device.insert(to.into(), v.clone());
            }
        }
        let first = alert
            .get("first_event_timestamp")
            .cloned()
            .unwrap_or(Value::Null);
        let backend = alert
            .get("backend_timestamp")
            .cloned()
            .unwrap_or(Value::Null);
        let one = |v: Option<&Value>| v.filter(|v| !v.is_null()).map_or(json!([]), |v| json!([v]));
        let hash = |md5: &str, sha: &str| {
            let hs: Vec<&Value> = [md5, sha]
                .iter()
                .filter_map(|k| alert.get(*k))
                .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                .collect();
            json!(hs)
        };
        let mut p = device.clone();
        for (k, v) in [
            ("process_guid", json!(g)),
            (
                "process_name",
                alert.get("process_name").cloned().unwrap_or(Value::Null),
            ),
            ("process_pid", one(alert.get("process_pid"))),
            ("process_cmdline", one(alert.get("process_cmdline"))),
            ("process_username", one(alert.get("process_username"))),
            ("process_hash", hash("process_md5", "process_sha256")),
            (
                "process_sha256",
                alert.get("process_sha256").cloned().unwrap_or(Value::Null),
            ),
            (
                "process_reputation",
                alert
                    .get("process_reputation")
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
            (
                "process_effective_reputation",
                alert
                    .get("process_effective_reputation")
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
            ("process_start_time", first.clone()),
            ("device_timestamp", first.clone()),
            ("backend_timestamp", backend.clone()),
            ("childproc_count", json!(0)),
            ("crossproc_count", json!(0)),
            ("filemod_count", json!(0)),
            ("modload_count", json!(0)),
            ("netconn_count", json!(0)),
            ("regmod_count", json!(0)),
            ("scriptload_count", json!(0)),
            ("event_type", json!([])),
            ("enriched_event_type", json!([])),
            ("ttp", alert.get("ttps").cloned().unwrap_or(json!([]))),
            ("alert_id", json!([alert.get("id")])),
        ] {
            p.insert(k.into(), v);
        }
        if let Some(pg) = &parent {
            p.insert("parent_guid".into(), json!(pg));
            p.insert(
                "parent_name".into(),
                alert.get("parent_name").cloned().unwrap_or(Value::Null),
            );
            p.insert(
                "parent_pid".into(),
                alert.get("parent_pid").cloned().unwrap_or(Value::Null),
            );
            p.insert("parent_hash".into(), hash("parent_md5", "parent_sha256"));
            let mut pp = device.clone();
            for (k, v) in [
                ("process_guid", json!(pg)),
                (
                    "process_name",
                    alert.get("parent_name").cloned().unwrap_or(Value::Null),
                ),
                ("process_pid", one(alert.get("parent_pid"))),
                ("process_cmdline", one(alert.get("parent_cmdline"))),
                ("process_username", one(alert.get("parent_username"))),
                ("process_hash", hash("parent_md5", "parent_sha256")),
                (
                    "process_sha256",
                    alert.get("parent_sha256").cloned().unwrap_or(Value::Null),
                ),
                (
                    "process_reputation",
                    alert
                        .get("parent_reputation")
                        .cloned()
                        .unwrap_or(Value::Null),
                ),
                (
                    "process_effective_reputation",
                    alert
                        .get("parent_effective_reputation")
                        .cloned()
                        .unwrap_or(Value::Null),
                ),
                ("process_start_time", first.clone()),
                ("device_timestamp", first.clone()),
                ("backend_timestamp", backend.clone()),
                ("childproc_count", json!(1)),
                ("event_type", json!(["childproc"])),
                ("enriched_event_type", json!(["CREATE_PROCESS"])),
            ] {
                pp.insert(k.into(), v);
            }
            processes.push(pp);
        }
        let remote =
            str_of(&alert, "netconn_remote_ip").or_else(|| str_of(&alert, "netconn_remote_ipv4"));
        if let Some(remote) = remote {
            p.insert("netconn_count".into(), json!(1));
            p.insert("event_type".into(), json!(["netconn"]));
            p.insert("enriched_event_type".into(), json!(["NETWORK"]));
            observations.push(network_observation(&alert, &device, &p, remote));
        }
        processes.push(p);
    }
    Story {
        alerts: vec![alert],
        processes,
        observations,
    }
}

fn ipv4_int(s: &str) -> Value {
    s.parse::<std::net::Ipv4Addr>()
        .map_or(Value::Null, |ip| json!(u32::from(ip)))
}

fn network_observation(alert: &Doc, device: &Doc, process: &Doc, remote: &str) -> Doc {
    let id = alert.get("id").and_then(Value::as_str).unwrap_or_default();
    let event = alert
        .get("primary_event_id")
        .and_then(Value::as_str)
        .map(|e| e.replace('-', "").to_lowercase())
        .filter(|e| e.len() == 32 && e.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| id.replace('-', ""));
    let local = str_of(alert, "netconn_local_ip")
        .or_else(|| str_of(alert, "netconn_local_ipv4"))
        .unwrap_or_default();
    let port = alert
        .get("netconn_remote_port")
        .cloned()
        .unwrap_or(Value::Null);
    let mut o = device.clone();
    for k in [
        "process_guid",
        "process_name",
        "process_pid",
        "process_cmdline",
        "process_username",
        "process_hash",
        "process_sha256",
        "parent_guid",
        "parent_name",
        "parent_pid",
    ] {
        if let Some(v) = process.get(k) {
            o.insert(k.into(), v.clone());
        }
    }
    for (k, v) in [
        ("observation_id", json!(format!("{event}:{id}"))),
        (
            "observation_type",
            alert.get("type").cloned().unwrap_or(Value::Null),
        ),
        ("alert_id", json!([id])),
        ("alert_category", json!(["THREAT"])),
        ("event_id", json!(event)),
        ("event_type", json!("netconn")),
        ("enriched_event_type", json!("NETWORK")),
        (
            "backend_timestamp",
            alert
                .get("backend_timestamp")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        (
            "device_timestamp",
            alert
                .get("first_event_timestamp")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        ("netconn_ipv4", ipv4_int(remote)),
        ("netconn_local_ipv4", ipv4_int(local)),
        ("netconn_port", port.clone()),
        (
            "netconn_local_port",
            alert
                .get("netconn_local_port")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        ("netconn_inbound", json!(false)),
        ("netconn_protocol", json!("PROTO_TCP")),
        (
            "netconn_domain",
            alert
                .get("netconn_remote_domain")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        ("event_network_inbound", json!(false)),
        ("event_network_remote_ipv4", json!(remote)),
        ("event_network_remote_port", port),
        ("event_network_local_ipv4", json!(local)),
        ("event_network_protocol", json!("TCP")),
    ] {
        o.insert(k.into(), v);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn fixture_path(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/cbc/fixtures")
            .join(name)
    }

    fn file(content: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content.as_bytes()).unwrap();
        f
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn at(v: &Value) -> Timestamp {
        t(v.as_str().unwrap())
    }

    const NOW: &str = "2026-04-01T09:00:00.250Z";

    /// Three alerts of different types, one of a type this code has never heard of, one without
    /// an org_key, hostile strings, blank lines and CRLF.
    fn jsonl() -> String {
        [
            r#"{"id":"a1","org_key":"ORGA0001","type":"CB_ANALYTICS","backend_timestamp":"2024-05-01T10:00:00.000Z","backend_update_timestamp":"2024-05-01T10:05:00.000Z","detection_timestamp":"2024-05-01T09:59:30.500Z","first_event_timestamp":"2024-05-01T09:59:00Z","workflow":{"status":"OPEN","change_timestamp":"2024-05-01T10:00:00.000Z"},"determination":{"value":"NONE","change_timestamp":"2024-05-01T10:00:00.000Z"},"user_update_timestamp":null,"device_id":1001,"device_name":"HOST-A","device_os":"WINDOWS","device_policy":"Standard","device_policy_id":77,"device_internal_ip":"10.0.0.5","device_external_ip":"203.0.113.5","device_username":"CORP\\alice","process_guid":"ORGA0001-000003e9-00000abc-00000000-1da9b1c2d3e4f50","process_pid":2748,"process_name":"c:\\temp\\\u001b[31mevil\nname\u202egpj.exe","process_cmdline":"evil.exe \u001b]0;pwned\u0007 --x","process_username":"CORP\\alice","process_sha256":"aa","parent_guid":"ORGA0001-000003e9-00000200-00000000-1da9b1c2d3e4f00","parent_name":"c:\\windows\\explorer.exe","parent_pid":512,"ttps":["X"]}"#,
            "",
            "   ",
            r#"{"id":"a2","type":"MY_FUTURE_TYPE","backend_timestamp":"2024-05-01T11:30:00.123456Z","weird":{"nested":[{"create_time":"2024-05-01T11:00:00Z","value":1},{"label_time":"not a time"}],"x":[1,2,3]},"severity":"eleven","device_id":"2002","device_name":"Ψ-host"}"#,
            "\r",
            r#"{"id":"a3","org_key":"ORGB0002","type":"HOST_BASED_FIREWALL","backend_timestamp":"2024-05-01T09:00:00.000Z","device_id":3003,"device_name":"HOST-C","process_guid":"ORGB0002-00000bbb-00000010-00000000-1da9b1c2d3e4f50","process_name":"c:\\program files\\google\\chrome\\application\\chrome.exe","netconn_remote_ip":"198.51.100.7","netconn_local_ip":"10.1.1.9","netconn_remote_port":8443,"netconn_local_port":50123}"#,
        ]
        .join("\r\n")
    }

    #[test]
    fn loads_the_search_response_fixture_and_shifts_to_now() {
        let path = fixture_path("alerts_v7_search_response.json");
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let original = original["results"][0].as_object().unwrap().clone();
        let mut r = Replay::load(&path, false).unwrap();
        let orgs = r.orgs();
        assert_eq!(orgs.len(), 1);
        assert_eq!(orgs[0].org_key, "ABC12345");
        assert_eq!(orgs[0].devices.len(), 1);
        let dev = &orgs[0].devices[0];
        assert_eq!(dev["id"], 18118170);
        assert_eq!(dev["name"], "test");
        assert_eq!(dev["policy_id"], 465946);
        assert_eq!(dev["policy_name"], "Pscr SE Testing");
        assert_eq!(dev["email"], "test@carbonblack.com");
        assert_eq!(
            orgs[0].policies,
            vec![Policy {
                id: 465946,
                name: "Pscr SE Testing".into()
            }]
        );

        let b = r.backlog(t(NOW));
        assert_eq!(b.len(), 1);
        let a = &b[0].1.alerts[0];
        assert_eq!(a["backend_timestamp"], "2026-04-01T09:00:00.250Z");
        let offset = t(NOW).duration_since(at(&original["backend_timestamp"]));
        for k in [
            "detection_timestamp",
            "first_event_timestamp",
            "last_event_timestamp",
            "backend_update_timestamp",
        ] {
            assert_eq!(
                at(&a[k]),
                at(&original[k]).checked_add(offset).unwrap(),
                "{k}"
            );
        }
        assert_eq!(at(&a["workflow"]["change_timestamp"]), t(NOW));
        assert_eq!(at(&a["determination"]["change_timestamp"]), t(NOW));
        assert!(a["user_update_timestamp"].is_null());
        // Everything else is untouched.
        for (k, v) in &original {
            if !k.ends_with("_timestamp") && k != "workflow" && k != "determination" {
                assert_eq!(&a[k], v, "{k}");
            }
        }
        let p = &b[0].1.processes[0];
        assert_eq!(p["process_guid"], original["process_guid"]);
        assert_eq!(p["alert_id"], json!([original["id"]]));
        assert_eq!(
            p["process_hash"],
            json!([original["process_md5"], original["process_sha256"]])
        );
        assert!(r.next_story(t(NOW)).is_none());
        // Repeatable.
        assert_eq!(r.backlog(t(NOW))[0].1.alerts, b[0].1.alerts);
    }

    #[test]
    fn keep_times_leaves_the_file_alone() {
        let path = fixture_path("alerts_v7_search_response.json");
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut r = Replay::load(&path, true).unwrap();
        let b = r.backlog(t(NOW));
        assert_eq!(
            Value::Object(b[0].1.alerts[0].clone()),
            original["results"][0]
        );
    }

    #[test]
    fn single_alert_file_builds_parent_and_process() {
        let path = fixture_path("alert_v7_cb_analytics.json");
        let mut r = Replay::load(&path, false).unwrap();
        let b = r.backlog(t(NOW));
        let s = &b[0].1;
        assert_eq!(s.alerts.len(), 1);
        assert_eq!(s.processes.len(), 2);
        let parent = s
            .processes
            .iter()
            .find(|p| p["process_guid"] == s.alerts[0]["parent_guid"])
            .unwrap();
        let proc = s
            .processes
            .iter()
            .find(|p| p["process_guid"] == s.alerts[0]["process_guid"])
            .unwrap();
        assert_eq!(proc["parent_guid"], parent["process_guid"]);
        assert_eq!(parent["childproc_count"], 1);
        assert!(!parent.contains_key("parent_guid"));
        assert_eq!(proc["process_cmdline"][0], s.alerts[0]["process_cmdline"]);
        assert_eq!(
            parent["process_cmdline"],
            json!([]),
            "null parent_cmdline becomes an empty list"
        );
    }

    #[test]
    fn json_lines_with_any_types_and_hostile_strings() {
        let f = file(&jsonl());
        let mut r = Replay::load(f.path(), true).unwrap();
        let orgs = r.orgs();
        let keys: Vec<&str> = orgs.iter().map(|o| o.org_key.as_str()).collect();
        assert_eq!(keys, ["ORGA0001", DEFAULT_ORG, "ORGB0002"]);
        assert_eq!(orgs[1].name, "Replay REPLAY01");
        assert_eq!(orgs[1].devices[0]["id"], 2002);
        assert_eq!(orgs[1].devices[0]["name"], "Ψ-host");
        assert_eq!(orgs[0].users, vec!["CORP\\alice".to_string()]);
        let b = r.backlog(t(NOW));
        assert_eq!(b.len(), 3);
        // Oldest first: a3 (09:00), a1 (10:00), a2 (11:30).
        let ids: Vec<&str> = b
            .iter()
            .map(|(_, s)| s.alerts[0]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a3", "a1", "a2"]);
        let by_id = |id: &str| b.iter().find(|(_, s)| s.alerts[0]["id"] == id).unwrap();
        let (org, s1) = by_id("a1");
        assert_eq!(*org, 0);
        let lines: Vec<Value> = jsonl()
            .lines()
            .filter(|l| l.trim().len() > 1)
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            Value::Object(s1.alerts[0].clone()),
            lines[0],
            "a1 must be byte-for-byte the input"
        );
        let hostile = "c:\\temp\\\u{1b}[31mevil\nname\u{202e}gpj.exe";
        assert_eq!(s1.alerts[0]["process_name"], hostile);
        let proc = s1
            .processes
            .iter()
            .find(|p| p["process_guid"] == s1.alerts[0]["process_guid"])
            .unwrap();
        assert_eq!(proc["process_name"], hostile);
        assert_eq!(
            proc["process_cmdline"][0],
            "evil.exe \u{1b}]0;pwned\u{7} --x"
        );
        let (org, s2) = by_id("a2");
        assert_eq!(*org, 1);
        assert_eq!(s2.alerts[0]["type"], "MY_FUTURE_TYPE");
        assert_eq!(s2.alerts[0]["org_key"], DEFAULT_ORG);
        assert_eq!(s2.alerts[0]["severity"], "eleven");
        assert_eq!(s2.alerts[0]["weird"], lines[1]["weird"]);
        assert!(s2.processes.is_empty());
        let (_, s3) = by_id("a3");
        let o = &s3.observations[0];
        assert_eq!(
            o["netconn_ipv4"],
            u32::from(std::net::Ipv4Addr::new(198, 51, 100, 7))
        );
        assert_eq!(o["event_network_remote_ipv4"], "198.51.100.7");
        assert_eq!(o["netconn_port"], 8443);
        assert_eq!(o["alert_id"], json!(["a3"]));
        assert_eq!(o["observation_type"], "HOST_BASED_FIREWALL");
        assert!(o["observation_id"].as_str().unwrap().ends_with(":a3"));
        assert_eq!(o["process_guid"], s3.alerts[0]["process_guid"]);
    }

    #[test]
    fn shift_moves_every_timestamp_by_one_offset() {
        let f = file(&jsonl());
        let mut r = Replay::load(f.path(), false).unwrap();
        let b = r.backlog(t(NOW));
        let get = |id: &str| {
            b.iter()
                .map(|(_, s)| &s.alerts[0])
                .find(|a| a["id"] == id)
                .unwrap()
                .clone()
        };
        let (a1, a2, a3) = (get("a1"), get("a2"), get("a3"));
        // The newest backend_timestamp (a2, microseconds) becomes now, keeping 6 digits.
        assert_eq!(a2["backend_timestamp"], "2026-04-01T09:00:00.250000Z");
        let offset = t(NOW).duration_since(t("2024-05-01T11:30:00.123456Z"));
        // Each value keeps its own precision, so a millisecond field drops the offset's
        // sub-millisecond part.
        let moved = |s: &str| {
            let exact = t(s).checked_add(offset).unwrap();
            let digits = s.split_once('.').map_or(0, |(_, f)| f.len() - 1) as u32;
            let unit = 10i128.pow(9 - digits);
            Timestamp::from_nanosecond(exact.as_nanosecond() / unit * unit).unwrap()
        };
        assert_eq!(
            at(&a1["backend_timestamp"]),
            moved("2024-05-01T10:00:00.000Z")
        );
        assert_eq!(
            at(&a1["backend_update_timestamp"]),
            moved("2024-05-01T10:05:00.000Z")
        );
        assert_eq!(
            at(&a1["detection_timestamp"]),
            moved("2024-05-01T09:59:30.500Z")
        );
        assert_eq!(
            at(&a1["workflow"]["change_timestamp"]),
            moved("2024-05-01T10:00:00.000Z")
        );
        assert_eq!(
            at(&a1["determination"]["change_timestamp"]),
            moved("2024-05-01T10:00:00.000Z")
        );
        assert_eq!(
            at(&a3["backend_timestamp"]),
            moved("2024-05-01T09:00:00.000Z")
        );
        // Precision is kept: whole seconds stay whole seconds, milliseconds stay milliseconds.
        let first = a1["first_event_timestamp"].as_str().unwrap();
        assert!(!first.contains('.') && first.ends_with('Z'), "{first}");
        assert_eq!(a1["backend_timestamp"].as_str().unwrap().len(), 24);
        // Nested in arrays, and non-times under time-like keys left alone.
        assert_eq!(
            at(&a2["weird"]["nested"][0]["create_time"]),
            moved("2024-05-01T11:00:00Z")
        );
        assert_eq!(a2["weird"]["nested"][1]["label_time"], "not a time");
        assert!(a1["user_update_timestamp"].is_null());
        // Untouched non-time fields, and the hostile strings.
        assert_eq!(a1["process_pid"], 2748);
        assert_eq!(a1["process_cmdline"], "evil.exe \u{1b}]0;pwned\u{7} --x");
        // Synthesised processes carry the shifted times.
        let s1 = &b.iter().find(|(_, s)| s.alerts[0]["id"] == "a1").unwrap().1;
        assert!(
            s1.processes
                .iter()
                .all(|p| p["process_start_time"] == a1["first_event_timestamp"])
        );
        // Devices seen in the file report contact at (about) the shifted time, not in 2024.
        let dev = &r.orgs()[0].devices[0];
        assert!(at(&dev["last_contact_time"]) > t("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let text = format!(
            "{}\n\n{{\"id\": \"x\", oops}}\n",
            jsonl().lines().next().unwrap()
        );
        let err = Replay::load(file(&text).path(), false).err().unwrap();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("line 3") && msg.contains("invalid JSON"),
            "{msg}"
        );

        let err = Replay::load(file("{\"id\":\"x\"}\n[1, 2]\n").path(), false)
            .err()
            .unwrap();
        assert!(
            format!("{err:#}").contains("line 2: expected an alert object, found an array"),
            "{err:#}"
        );

        let err = Replay::load(file("{\"results\": [{\"id\": 1}, 7]}").path(), false)
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("results[1]"), "{err:#}");

        let err = Replay::load(file(" \n").path(), false).err().unwrap();
        assert!(format!("{err:#}").contains("empty"), "{err:#}");

        let err = Replay::load(Path::new("/nonexistent/alerts.jsonl"), false)
            .err()
            .unwrap();
        assert!(
            format!("{err:#}").contains("/nonexistent/alerts.jsonl"),
            "{err:#}"
        );
    }

    #[test]
    fn arrays_ids_and_device_ownership() {
        // A JSON array; alerts without ids get stable ones; a device id claimed by two orgs
        // stays with the first; later alerts update the device.
        let text = r#"[
            {"org_key":"O1","backend_timestamp":"2024-01-01T00:00:00.000Z","device_id":5,"device_name":"old-name"},
            {"org_key":"O1","backend_timestamp":"2024-01-02T00:00:00.000Z","device_id":5,"device_name":"new-name","device_os":"MAC"},
            {"org_key":"O2","backend_timestamp":"2024-01-03T00:00:00.000Z","device_id":5,"device_name":"imposter"}
        ]"#;
        let f = file(text);
        let mut r = Replay::load(f.path(), true).unwrap();
        let orgs = r.orgs();
        assert_eq!(orgs[0].devices.len(), 1);
        assert_eq!(orgs[0].devices[0]["name"], "new-name");
        assert_eq!(orgs[0].devices[0]["os"], "MAC");
        assert!(orgs[1].devices.is_empty());
        let ids: Vec<String> = r
            .backlog(t(NOW))
            .iter()
            .map(|(_, s)| s.alerts[0]["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));
        let again: Vec<String> = Replay::load(f.path(), true)
            .unwrap()
            .backlog(t(NOW))
            .iter()
            .map(|(_, s)| s.alerts[0]["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, again);
    }
}
