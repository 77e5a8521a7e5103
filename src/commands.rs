//! Non-interactive commands (`socdeck alerts --json`), in the library so tests reach them.

use std::io::Write;
use std::process::ExitCode;

use jiff::{SignedDuration, Timestamp};

use crate::cbc::model::{AlertSearch, Criteria, Order, SortField};
use crate::cbc::poll::fetch_window;
use crate::cbc::{ApiError, Client, ClientConfig};
use crate::config::{Env, OrgTarget, resolve_orgs};
use crate::sla::SlaPolicy;

pub use crate::config::CredentialArgs;

/// Builds the API client for one configured org.
pub fn client_for(org: &OrgTarget, read_only: bool) -> Result<Client, ApiError> {
    let mut cfg = ClientConfig::new(&org.url, &org.org_key, org.token.clone());
    if let Some(ca) = &org.ca_file {
        cfg = cfg.with_ca_file(ca)?;
    }
    cfg.read_only = read_only;
    Client::new(cfg)
}

/// The SLA policy of the config's `[sla]` section.
pub fn sla_policy(cfg: &crate::config::SlaConfig) -> SlaPolicy {
    SlaPolicy {
        first_report: SignedDuration::from_mins(i64::from(cfg.first_report_min)),
        warning: SignedDuration::from_mins(i64::from(cfg.warning_min)),
        critical: SignedDuration::from_mins(i64::from(cfg.critical_min)),
    }
}

/// `socdeck alerts --json`: one JSON object per alert — the alert's fields plus
/// `"sla": {received_at, deadline, remaining_s, band}` — most urgent first. Problems with an
/// org are one line on stderr each and make the exit status non-zero; the other orgs still print.
pub async fn alerts_json(
    args: &CredentialArgs,
    all: bool,
    since: SignedDuration,
    out: &mut dyn Write,
) -> ExitCode {
    let env = Env::from_process();
    let resolved = match resolve_orgs(args, &env) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("socdeck: {e}");
            return ExitCode::from(2);
        }
    };
    for w in &resolved.warnings {
        eprintln!("socdeck: warning: {w}");
    }
    let policy = sla_policy(&resolved.config.sla);
    let now = Timestamp::now();
    let start = now.checked_sub(since).unwrap_or(Timestamp::MIN);

    let mut search = AlertSearch {
        rows: 1000,
        ..AlertSearch::default()
    };
    search.sort = vec![SortField::new("backend_timestamp", Order::Desc)];
    if !all {
        search.criteria = Criteria::default().strings("workflow_status", ["OPEN", "IN_PROGRESS"]);
    }

    // Each org's fetch is a task of the runtime: it parses on the worker that drives its
    // connection, instead of every body chunk crossing to the thread blocked in `main`.
    let fetches = resolved.orgs.iter().map(|org| {
        let search = search.clone();
        let client = client_for(org, true);
        tokio::spawn(async move {
            fetch_window(&client?, &search, "backend_timestamp", start, now).await
        })
    });
    let results = futures::future::join_all(fetches)
        .await
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| Err(ApiError::Config(format!("the fetch stopped: {e}")))));

    let mut failed = false;
    let mut rows = Vec::new();
    for (org, result) in resolved.orgs.iter().zip(results) {
        match result {
            Ok(w) => {
                if w.truncated_windows > 0 {
                    eprintln!(
                        "socdeck: warning: {}: some alerts were beyond CBC's 10 000-hit window",
                        org.name
                    );
                }
                rows.extend(w.alerts);
            }
            Err(e) => {
                failed = true;
                if org.name == org.org_key {
                    eprintln!("socdeck: org {}: {e}", org.org_key);
                } else {
                    eprintln!("socdeck: {} (org {}): {e}", org.name, org.org_key);
                }
            }
        }
    }
    // Most urgent first; alerts without a receipt time last.
    rows.sort_by_key(|a| {
        (
            a.backend_timestamp.is_none(),
            a.backend_timestamp,
            a.id.clone(),
        )
    });
    for alert in rows {
        let mut obj = match serde_json::to_value(&alert) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => continue,
        };
        let sla = policy.clock(&alert, now).map(|c| {
            serde_json::json!({
                "received_at": c.received_at,
                "deadline": c.deadline,
                "remaining_s": c.remaining_s,
                "band": c.band,
            })
        });
        obj.insert("sla".into(), sla.unwrap_or(serde_json::Value::Null));
        let line = serde_json::Value::Object(obj).to_string();
        if writeln!(out, "{line}").is_err() {
            // Reader went away (`| head`): stop quietly.
            return ExitCode::SUCCESS;
        }
    }
    let _ = out.flush();
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
