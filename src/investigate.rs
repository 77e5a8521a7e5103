//! Drill-down: loading what the detail screen shows, and finding lateral movement.
//!
//! Each part is fetched on its own and reported as soon as it arrives, so a slow process-tree
//! job never holds back the notes, and one failed search never hides the others' findings.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::app::detail::{Edge, Evidence, LATERAL_PORTS, Lateral, LateralHit, Part, ProcTree};
use crate::app::queue::Cell;
use crate::cbc::Client;
use crate::cbc::model::{Alert, DeviceSearch, Observation, SearchJob, SearchWindow};

/// How long a search or tree job may take before the part is reported as failed.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// Accounts that are on every Windows host: "same user" on them is no evidence.
const SHARED_ACCOUNTS: &[&str] = &[
    "system",
    "nt authority\\system",
    "local service",
    "nt authority\\local service",
    "network service",
    "nt authority\\network service",
    "root",
];

const CAP_SHORT: usize = 128;

/// Loads every part of an alert's detail, calling `report` for each as it arrives.
pub async fn load_detail<F>(client: &Client, alert_id: &str, window: SignedDuration, report: F)
where
    F: Fn(Part) + Clone + Send + Sync + 'static,
{
    let alert = client.alert(alert_id).await;
    let alert = match alert {
        Ok(a) => Box::new(a),
        Err(e) => {
            let msg = e.to_string();
            report(Part::Alert(Err(msg.clone())));
            for p in [
                Part::Device(Err(msg.clone())),
                Part::Tree(Err(msg.clone())),
                Part::Lateral(Err(msg.clone())),
            ] {
                report(p);
            }
            // Notes and history do not need the alert document.
            let (notes, history) =
                tokio::join!(client.alert_notes(alert_id), client.alert_history(alert_id));
            report(Part::Notes(notes.map_err(|e| e.to_string())));
            report(Part::History(history.map_err(|e| e.to_string())));
            return;
        }
    };
    report(Part::Alert(Ok(alert.clone())));
    let device = async {
        let r = match alert.device_id {
            Some(id) => client
                .device(id)
                .await
                .map(Box::new)
                .map_err(|e| e.to_string()),
            None => Err("the alert names no device".to_string()),
        };
        report(Part::Device(r));
    };
    let tree = async {
        let r = match alert.process_guid.as_deref().filter(|g| !g.is_empty()) {
            Some(guid) => client
                .process_tree(guid, JOB_TIMEOUT)
                .await
                .map(|root| ProcTree::build(&root, Some(guid)))
                .map_err(|e| e.to_string()),
            None => Err("the alert has no process (no process_guid)".to_string()),
        };
        report(Part::Tree(r));
    };
    let lateral = async {
        report(Part::Lateral(Ok(lateral(client, &alert, window).await)));
    };
    let notes = async {
        report(Part::Notes(
            client
                .alert_notes(alert_id)
                .await
                .map_err(|e| e.to_string()),
        ));
    };
    let history = async {
        report(Part::History(
            client
                .alert_history(alert_id)
                .await
                .map_err(|e| e.to_string()),
        ));
    };
    tokio::join!(device, tree, lateral, notes, history);
}

/// Finds other devices of the org linked to the alert's device within `window` either side
/// of the alert: same SHA-256 run, same user active, network connections on lateral-movement
/// ports in either direction. Failed searches are listed in `errors`; the rest still counts.
pub async fn lateral(client: &Client, alert: &Alert, window: SignedDuration) -> Lateral {
    let at = alert
        .backend_timestamp
        .or(alert.detection_timestamp)
        .unwrap_or_else(Timestamp::now);
    let (start, end) = (at - window, at + window);
    let mut out = Lateral {
        start: Some(start),
        end: Some(end),
        ..Lateral::default()
    };
    let Some(my_id) = alert.device_id else {
        out.errors
            .push("the alert names no device: nothing to compare".into());
        return out;
    };
    let my_name = alert.device_name.clone().unwrap_or_default();
    let search = |q: String| {
        let mut job = SearchJob::query(q);
        job.time_range = Some(SearchWindow {
            start: Some(start),
            end: Some(end),
            window: None,
        });
        job.rows = 500;
        job
    };

    // A trusted system file (powershell.exe, svchost.exe) runs on every host: the same hash
    // there is no evidence of spread, only noise.
    let trusted = alert
        .process_effective_reputation
        .as_deref()
        .or(alert.process_reputation.as_deref())
        .is_some_and(|r| r.contains("WHITE_LIST"));
    let sha = alert
        .process_sha256
        .as_deref()
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .filter(|_| !trusted);
    let user = alert
        .process_username
        .as_deref()
        .or(alert.device_username.as_deref())
        .filter(|u| !u.trim().is_empty() && !SHARED_ACCOUNTS.contains(&u.to_lowercase().as_str()));
    let ports = LATERAL_PORTS
        .iter()
        .map(|p| format!("netconn_port:{p}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let my_ip = alert.device_internal_ip.clone();

    let hash_q = sha.map(|h| search(format!("process_hash:{h}")));
    let user_q = user.map(|u| search(format!("process_username:{}", quote(u))));
    let mine_q = search(format!("device_id:{my_id} AND ({ports})"));
    let theirs_q = my_ip
        .as_deref()
        .map(|ip| search(format!("netconn_ipv4:{ip} AND ({ports})")));

    let opt_proc = |q: Option<SearchJob>| async move {
        match q {
            Some(q) => Some(client.search_processes(&q, JOB_TIMEOUT).await),
            None => None,
        }
    };
    let opt_obs = |q: Option<SearchJob>| async move {
        match q {
            Some(q) => Some(client.search_observations(&q, JOB_TIMEOUT).await),
            None => None,
        }
    };
    let devices_q = DeviceSearch {
        rows: 10_000,
        ..DeviceSearch::default()
    };
    let (by_hash, by_user, mine, theirs, devices) = tokio::join!(
        opt_proc(hash_q),
        opt_proc(user_q),
        client.search_observations(&mine_q, JOB_TIMEOUT),
        opt_obs(theirs_q),
        client.search_devices(&devices_q),
    );

    // Remote addresses are resolved to the org's devices by their last internal address.
    let mut by_ip: HashMap<String, (i64, String)> = HashMap::new();
    let mut my_ip = my_ip;
    match devices {
        Ok(page) => {
            for d in page.results {
                if let (Some(id), Some(ip)) = (d.id, d.last_internal_ip_address.clone()) {
                    if id == my_id {
                        my_ip = my_ip.or(Some(ip.clone()));
                    }
                    by_ip.insert(ip, (id, d.name.clone().unwrap_or_default()));
                }
            }
        }
        Err(e) => out.errors.push(format!("device list: {e}")),
    }

    let mut hits: BTreeMap<i64, LateralHit> = BTreeMap::new();
    let mut add = |id: i64, name: &str, ev: Evidence, seen: Option<Timestamp>| {
        if id == my_id {
            return;
        }
        let h = hits.entry(id).or_insert_with(|| LateralHit {
            device_id: Some(id),
            device: Cell::new(name, CAP_SHORT),
            device_raw: name.into(),
            evidence: Vec::new(),
            first_seen: None,
        });
        if !h.evidence.contains(&ev) {
            h.evidence.push(ev);
        }
        h.first_seen = match (h.first_seen, seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    };

    for (label, result, ev) in [
        ("same SHA-256", by_hash, Evidence::SameHash),
        (
            "same user",
            by_user,
            Evidence::SameUser(Cell::new(user.unwrap_or(""), CAP_SHORT)),
        ),
    ] {
        match result {
            None => {}
            Some(Err(e)) => out.errors.push(format!("{label}: {e}")),
            Some(Ok(procs)) => {
                for p in procs {
                    if let Some(id) = p.device_id {
                        let seen = p.process_start_time.or(p.backend_timestamp);
                        add(
                            id,
                            p.device_name.as_deref().unwrap_or("?"),
                            ev.clone(),
                            seen,
                        );
                    }
                }
            }
        }
    }

    // Connections on lateral-movement ports, from both ends: (other device id, its name,
    // outbound from the alert's device, port, the observation).
    let mut conns: Vec<(i64, String, bool, i64, Observation)> = Vec::new();
    // This device's own connections: the far end is a remote address.
    match mine {
        Err(e) => out.errors.push(format!("network from/to this device: {e}")),
        Ok(obs) => {
            for o in obs {
                let (Some(ip), Some(port)) = (o.remote_ip(), o.remote_port()) else {
                    continue;
                };
                let Some((id, name)) = by_ip.get(ip).cloned() else {
                    continue;
                };
                let outbound = !o.inbound().unwrap_or(false);
                conns.push((id, name, outbound, port, o));
            }
        }
    }
    // Other devices' records of connections with this device's address.
    match theirs {
        None => {}
        Some(Err(e)) => out
            .errors
            .push(format!("network seen by other devices: {e}")),
        Some(Ok(obs)) => {
            for o in obs {
                let (Some(id), Some(port)) = (o.device_id, o.remote_port()) else {
                    continue;
                };
                if id == my_id {
                    continue;
                }
                let name = o.device_name.clone().unwrap_or_default();
                // Their outbound connection is inbound to this device.
                let outbound = o.inbound().unwrap_or(false);
                conns.push((id, name, outbound, port, o));
            }
        }
    }
    let me = Cell::new(&my_name, CAP_SHORT);
    let mut edges: Vec<Edge> = Vec::new();
    for (id, name, outbound, port, o) in conns {
        let seen = o.device_timestamp.or(o.backend_timestamp);
        let process = Cell::from_opt(o.process_name.as_deref(), CAP_SHORT);
        add(
            id,
            &name,
            Evidence::Network {
                outbound,
                port,
                process,
            },
            seen,
        );
        let other = Cell::new(&name, CAP_SHORT);
        let (from, to) = if outbound {
            (me.clone(), other)
        } else {
            (other, me.clone())
        };
        edges.push(Edge {
            from,
            to,
            port,
            at: seen,
        });
    }
    // One edge per (from, to, port), at its first sighting: the graph shows the paths.
    edges.sort_by_key(|e| e.at);
    let mut seen = std::collections::HashSet::new();
    edges.retain(|e| {
        seen.insert((
            e.from.as_str().to_string(),
            e.to.as_str().to_string(),
            e.port,
        ))
    });
    let mut hits: Vec<LateralHit> = hits.into_values().collect();
    hits.sort_by_key(|h| (h.first_seen, h.device_id));
    out.hits = hits;
    out.edges = edges;
    out
}

/// A query value in double quotes (`\` and `"` escaped).
fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_escapes_backslashes_and_quotes() {
        assert_eq!(quote(r#"CORP\bob "x""#), r#""CORP\\bob \"x\"""#);
    }
}
