//! The real client against the real simulator over HTTPS on 127.0.0.1:0, verified with the
//! simulator's generated CA: every client call, and every error path.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use socdeck::cbc::model::*;
use socdeck::cbc::poll::{AlertPoller, fetch_window, fetch_window_each, merge_alerts};
use socdeck::cbc::{ApiError, Client, ClientConfig, RetryPolicy, Token};
use socdeck::sim::{Fault, SimHandle, SimOptions, start};

const JOB_WAIT: Duration = Duration::from_secs(20);

async fn sim_with(opts: SimOptions) -> SimHandle {
    start(SimOptions {
        rate_per_min: 0.0,
        ..opts
    })
    .await
    .expect("simulator starts")
}

async fn sim() -> SimHandle {
    sim_with(SimOptions {
        seed: 11,
        backlog: 60,
        checkin: Duration::from_millis(300),
        ..SimOptions::default()
    })
    .await
}

fn config(sim: &SimHandle, org: usize) -> ClientConfig {
    let org_key = sim.orgs()[org].0.clone();
    let mut cfg = ClientConfig::new(sim.url(), &org_key, Token::new(sim.token()).unwrap());
    cfg.ca_pem = Some(sim.ca_pem().as_bytes().to_vec());
    cfg.timeout = Duration::from_secs(10);
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        budget: Duration::from_secs(10),
        ..RetryPolicy::default()
    };
    cfg
}

fn client(sim: &SimHandle, org: usize) -> Client {
    Client::new(config(sim, org)).unwrap()
}

fn count(sim: &SimHandle, method: &str, path_contains: &str) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == method && r.path.contains(path_contains))
        .count()
}

async fn open_alerts(c: &Client) -> Vec<Alert> {
    let q = AlertSearch {
        criteria: Criteria::default().strings("workflow_status", ["OPEN"]),
        rows: 500,
        ..AlertSearch::default()
    };
    c.search_alerts_all(&q).await.unwrap()
}

#[tokio::test]
async fn alert_search_honours_criteria_exclusions_query_paging_and_sort() {
    let sim = sim().await;
    let c = client(&sim, 0);

    let all = c
        .search_alerts(&AlertSearch {
            rows: 5,
            ..AlertSearch::default()
        })
        .await
        .unwrap();
    assert_eq!(all.results.len(), 5);
    assert!(all.num_found > 5);
    let ts: Vec<_> = all
        .results
        .iter()
        .map(|a| a.backend_timestamp.unwrap())
        .collect();
    assert!(
        ts.windows(2).all(|w| w[0] >= w[1]),
        "default sort is backend_timestamp DESC"
    );

    // Paging with an awkward page size reaches every hit exactly once.
    let paged = c
        .search_alerts_all(&AlertSearch {
            rows: 7,
            ..AlertSearch::default()
        })
        .await
        .unwrap();
    assert_eq!(paged.len() as u64, all.num_found);
    let ids: HashSet<_> = paged.iter().map(|a| a.id.clone().unwrap()).collect();
    assert_eq!(ids.len(), paged.len());

    let severe = c
        .search_alerts_all(&AlertSearch {
            criteria: Criteria::default().int("minimum_severity", 8),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!severe.is_empty() && severe.iter().all(|a| a.severity.unwrap() >= 8));

    let no_cba = c
        .search_alerts_all(&AlertSearch {
            exclusions: Criteria::default().strings("type", ["CB_ANALYTICS"]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(no_cba.iter().all(|a| a.kind() != AlertType::CbAnalytics));
    assert!(no_cba.len() < paged.len());

    let device = paged[0].device_name.clone().unwrap();
    let by_query = c
        .search_alerts_all(&AlertSearch {
            query: Some(format!("device_name:{device}")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        !by_query.is_empty()
            && by_query
                .iter()
                .all(|a| a.device_name.as_deref() == Some(device.as_str()))
    );

    let asc = c
        .search_alerts(&AlertSearch {
            rows: 10,
            sort: vec![SortField::new("severity", Order::Asc)],
            ..Default::default()
        })
        .await
        .unwrap();
    let sev: Vec<_> = asc.results.iter().map(|a| a.severity.unwrap()).collect();
    assert!(sev.windows(2).all(|w| w[0] <= w[1]), "{sev:?}");
}

#[tokio::test]
async fn notes_history_and_workflow_change_the_alert_for_every_reader() {
    let sim = sim().await;
    let c = client(&sim, 0);
    let alert = open_alerts(&c).await.remove(0);
    let id = alert.id.clone().unwrap();
    assert_eq!(c.alert(&id).await.unwrap().id.as_deref(), Some(id.as_str()));

    let note = c
        .add_alert_note(&id, "socdeck: level=High analyst=t.sato 調査中")
        .await
        .unwrap();
    assert!(note.id.is_some());
    // A second client (another console) sees the note.
    let other = client(&sim, 0);
    let notes = other.alert_notes(&id).await.unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.note.as_deref() == Some("socdeck: level=High analyst=t.sato 調査中"))
    );
    let history = other.alert_history(&id).await.unwrap();
    assert!(
        history
            .iter()
            .any(|h| h.entry_type.as_deref() == Some("ALERT_NOTE_ADDED"))
    );

    let mut update = WorkflowUpdate::for_alerts([id.clone()], WorkflowStatus::InProgress);
    update.note = Some("taking ownership".into());
    let job_id = c.update_workflow(&update).await.unwrap();
    let job = c.wait_job(&job_id, JOB_WAIT).await.unwrap();
    assert_eq!(job.status.as_deref(), Some("COMPLETED"));

    let after = other.alert(&id).await.unwrap();
    assert_eq!(after.status(), WorkflowStatus::InProgress);
    assert!(after.backend_update_timestamp > alert.backend_update_timestamp);
    assert!(
        other
            .alert_notes(&id)
            .await
            .unwrap()
            .iter()
            .any(|n| n.note.as_deref() == Some("taking ownership"))
    );

    let mut close = WorkflowUpdate::for_alerts([id.clone()], WorkflowStatus::Closed);
    close.closure_reason = Some("RESOLVED_BENIGN_KNOWN_GOOD".into());
    close.determination = Some("FALSE_POSITIVE".into());
    let job_id = c.update_workflow(&close).await.unwrap();
    c.wait_job(&job_id, JOB_WAIT).await.unwrap();
    let closed = other.alert(&id).await.unwrap();
    assert!(closed.is_closed());
    assert_eq!(
        closed.determination.unwrap().value.as_deref(),
        Some("FALSE_POSITIVE")
    );
}

#[tokio::test]
async fn quarantine_names_one_device_and_flips_only_after_sensor_checkin() {
    let sim = sim().await;
    let c = client(&sim, 0);
    let page = c
        .search_devices(&DeviceSearch {
            criteria: Criteria::default().strings("os", ["WINDOWS"]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.num_found.unwrap() > 0);
    assert!(
        page.results
            .iter()
            .all(|d| d.os.as_deref() == Some("WINDOWS"))
    );
    let id = page.results[0].id.unwrap();
    assert_eq!(c.device(id).await.unwrap().quarantined, Some(false));

    c.quarantine(&QuarantineAction::new(vec![id], Toggle::On).unwrap())
        .await
        .unwrap();
    // Pending until the sensor checks in.
    assert_eq!(c.device(id).await.unwrap().quarantined, Some(false));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let d = c.device(id).await.unwrap();
    assert_eq!(d.quarantined, Some(true));

    let body = sim
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/device_actions"))
        .and_then(|r| r.body)
        .expect("device action body recorded");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["device_id"], serde_json::json!([id]));
    assert!(body.get("search").is_none());

    c.quarantine(&QuarantineAction::new(vec![id], Toggle::Off).unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(c.device(id).await.unwrap().quarantined, Some(false));
}

#[tokio::test]
async fn process_search_tree_summary_and_observations() {
    let sim = sim().await;
    let c = client(&sim, 0);
    let procs = c
        .search_processes(&SearchJob::query("process_name:powershell.exe"), JOB_WAIT)
        .await
        .unwrap();
    assert!(!procs.is_empty());
    assert!(procs.iter().all(|p| {
        p.process_name
            .as_deref()
            .unwrap()
            .to_lowercase()
            .contains("powershell")
    }));
    let guid = procs[0].process_guid.clone().unwrap();

    let tree = c.process_tree(&guid, JOB_WAIT).await.unwrap();
    fn find<'a>(p: &'a Process, guid: &str) -> Option<&'a Process> {
        if p.process_guid.as_deref() == Some(guid) {
            return Some(p);
        }
        p.children.iter().find_map(|c| find(c, guid))
    }
    assert!(
        find(&tree, &guid).is_some(),
        "the process is inside its tree"
    );

    let summary = c.process_summary(&guid, JOB_WAIT).await.unwrap();
    assert_eq!(
        summary.process.unwrap().process_guid.as_deref(),
        Some(guid.as_str())
    );
    assert!(summary.parent.is_some());

    let details = c
        .process_details(std::slice::from_ref(&guid), JOB_WAIT)
        .await
        .unwrap();
    assert_eq!(details[0].process_guid.as_deref(), Some(guid.as_str()));

    let obs = c
        .search_observations(
            &SearchJob::query("enriched_event_type:NETWORK AND netconn_port:445"),
            JOB_WAIT,
        )
        .await
        .unwrap();
    assert!(!obs.is_empty());
    assert!(obs.iter().all(|o| o.remote_port() == Some(445)));

    let alert = open_alerts(&c)
        .await
        .into_iter()
        .find(|a| !a.id.as_deref().unwrap_or("").is_empty())
        .unwrap();
    let behind = c
        .observation_details(
            &ObservationDetail::Alert {
                alert_id: alert.id.clone().unwrap(),
            },
            JOB_WAIT,
        )
        .await
        .unwrap();
    assert!(
        behind
            .iter()
            .all(|o| o.alert_id.contains(alert.id.as_ref().unwrap()))
    );
}

#[tokio::test]
async fn reputation_overrides_create_search_delete() {
    let sim = sim().await;
    let c = client(&sim, 0);
    let sha = "af62e6b3d475879c4234fe7bd8ba67ff6544ce6510131a069aaac75aa92aee7a";
    let ban = HashOverride::new(
        OverrideList::Ban,
        sha,
        Some("foo.exe".into()),
        "banned by socdeck test".into(),
    )
    .unwrap();
    let created = c.create_override(&ban).await.unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(created.sha256_hash.as_deref(), Some(sha));

    let search = OverrideSearch {
        criteria: [("override_list".to_string(), "BLACK_LIST".to_string())].into(),
        query: None,
        rows: 100,
        start: None,
    };
    let found = c.search_overrides(&search).await.unwrap();
    assert!(
        found
            .results
            .iter()
            .any(|o| o.id.as_deref() == Some(id.as_str()))
    );

    c.delete_override(&id).await.unwrap();
    let found = c.search_overrides(&search).await.unwrap();
    assert!(
        !found
            .results
            .iter()
            .any(|o| o.id.as_deref() == Some(id.as_str()))
    );
    assert!(matches!(
        c.delete_override(&id).await,
        Err(ApiError::NotFound { .. })
    ));
}

#[tokio::test]
async fn error_statuses_become_clear_typed_errors() {
    let sim = sim().await;
    let c = client(&sim, 0);

    // 401: a wrong token. The message names the org and host, never the token.
    let mut cfg = config(&sim, 0);
    cfg.token = Token::new("CANARYSECRETCANARY/CANARYID").unwrap();
    let bad = Client::new(cfg).unwrap();
    let e = bad
        .search_alerts(&AlertSearch::default())
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Unauthorized { .. }), "{e}");
    assert!(!format!("{e} {e:?}").contains("CANARY"), "{e:?}");
    assert_eq!(
        count(&sim, "POST", "alerts/_search"),
        1,
        "401 is not retried"
    );

    // 404
    let e = c
        .alert("00000000-0000-0000-0000-000000000000")
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::NotFound { .. }), "{e}");

    // 400 with CBC's error JSON shown.
    let e = c
        .search_alerts(&AlertSearch {
            start: Some(9_990),
            rows: 100,
            ..Default::default()
        })
        .await
        .unwrap_err();
    match &e {
        ApiError::BadRequest { message, .. } => assert!(!message.is_empty()),
        other => panic!("expected 400, got {other}"),
    }
    let e = c
        .search_alerts(&AlertSearch {
            query: Some("device_name:(unclosed".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::QuerySyntax { .. }), "{e}");

    // 403 and 409 as the server sends them.
    sim.inject(Fault::status("/devices/_search", 403, 1));
    let e = c
        .search_devices(&DeviceSearch::default())
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Forbidden { .. }), "{e}");
    sim.inject(Fault::status("/notes", 409, 1));
    let id = open_alerts(&c).await[0].id.clone().unwrap();
    let e = c.add_alert_note(&id, "x").await.unwrap_err();
    assert!(matches!(e, ApiError::Conflict { .. }), "{e}");
}

#[tokio::test]
async fn after_a_429_no_request_reaches_the_host_until_retry_after_has_passed() {
    let sim = sim().await;
    let a = client(&sim, 0);
    let b = client(&sim, 1);
    sim.inject(Fault {
        retry_after: Some("2".into()),
        ..Fault::status("alerts/_search", 429, 1)
    });

    let everything = AlertSearch::default();
    let (ra, rb) = tokio::join!(a.search_alerts(&everything), async {
        // Another org's client on the same host starts while the window is closed.
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.alert("00000000-0000-0000-0000-000000000000").await
    });
    ra.expect("the read waited for the window and succeeded");
    assert!(matches!(rb, Err(ApiError::NotFound { .. })));

    let reqs = sim.requests();
    let limited = reqs
        .iter()
        .find(|r| r.status == 429)
        .expect("a 429 was served");
    let after: Vec<_> = reqs.iter().filter(|r| r.seq > limited.seq).collect();
    assert!(!after.is_empty());
    for r in after {
        let gap = r.at.duration_since(limited.at);
        assert!(
            gap >= SignedDuration::from_millis(1_900),
            "request {} {} only {gap:?} after the 429",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn a_429_on_a_write_is_reported_not_waited_out() {
    let sim = sim().await;
    let c = client(&sim, 0);
    let id = open_alerts(&c).await[0].id.clone().unwrap();
    sim.inject(Fault {
        retry_after: Some("120".into()),
        ..Fault::status("alerts/workflow", 429, 1)
    });
    let e = c
        .update_workflow(&WorkflowUpdate::for_alerts(
            [id],
            WorkflowStatus::InProgress,
        ))
        .await
        .unwrap_err();
    match e {
        ApiError::RateLimited { wait_s, .. } => assert!((110..=120).contains(&wait_s)),
        other => panic!("expected 429, got {other}"),
    }
    // The gate is closed for reads too, longer than they wait: reported, not slept through.
    let e = c.search_alerts(&AlertSearch::default()).await.unwrap_err();
    assert!(matches!(e, ApiError::RateLimited { .. }), "{e}");
    assert_eq!(
        count(&sim, "POST", "alerts/_search"),
        1,
        "only the setup search was sent"
    );
}

#[tokio::test]
async fn server_errors_are_retried_on_reads_only() {
    let sim = sim().await;
    let c = client(&sim, 0);
    let id = open_alerts(&c).await[0].id.clone().unwrap();

    sim.inject(Fault::status(&format!("/alerts/{id}"), 503, 2));
    c.alert(&id).await.expect("a read survives two 503s");
    assert_eq!(count(&sim, "GET", &format!("/alerts/{id}")), 3);

    // Gateway error on a write: the outcome is unknown, so it is reported, not retried.
    sim.inject(Fault::status("alerts/workflow", 502, 1));
    let e = c
        .update_workflow(&WorkflowUpdate::for_alerts(
            [id.clone()],
            WorkflowStatus::InProgress,
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::UnclearOutcome { .. }), "{e}");
    assert_eq!(count(&sim, "POST", "alerts/workflow"), 1);

    sim.inject(Fault::status("device_actions", 500, 1));
    let dev = c
        .search_devices(&DeviceSearch::default())
        .await
        .unwrap()
        .results[0]
        .id
        .unwrap();
    let e = c
        .quarantine(&QuarantineAction::new(vec![dev], Toggle::On).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Server { status: 500, .. }), "{e}");
    assert_eq!(count(&sim, "POST", "device_actions"), 1);

    // Reads give up within their attempt budget.
    sim.inject(Fault::status(&format!("/alerts/{id}/history"), 504, 50));
    let e = c.alert_history(&id).await.unwrap_err();
    assert!(matches!(e, ApiError::Server { status: 504, .. }), "{e}");
    assert_eq!(
        count(&sim, "GET", "/history"),
        RetryPolicy::default().max_attempts as usize
    );
}

#[tokio::test]
async fn a_write_that_times_out_is_not_resent_and_a_read_is() {
    let sim = sim().await;
    let mut cfg = config(&sim, 0);
    cfg.timeout = Duration::from_millis(700);
    let c = Client::new(cfg).unwrap();
    let id = open_alerts(&c).await[0].id.clone().unwrap();

    sim.inject(Fault {
        method: Some("POST".into()),
        ..Fault::hang("/notes", Duration::from_secs(3))
    });
    let e = c.add_alert_note(&id, "hello").await.unwrap_err();
    assert!(matches!(e, ApiError::UnclearOutcome { .. }), "{e}");
    assert!(e.to_string().contains("read the current state"), "{e}");
    assert_eq!(count(&sim, "POST", "/notes"), 1);

    sim.inject(Fault::hang("/history", Duration::from_secs(3)));
    c.alert_history(&id)
        .await
        .expect("the second attempt answers");
    assert_eq!(count(&sim, "GET", "/history"), 2);
}

#[tokio::test]
async fn tls_is_verified_a_self_signed_server_is_refused_without_its_ca() {
    let sim = sim().await;
    let mut cfg = config(&sim, 0);
    cfg.ca_pem = None;
    let e = Client::new(cfg)
        .unwrap()
        .search_alerts(&AlertSearch::default())
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Tls { .. }), "{e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    assert_eq!(sim.requests().len(), 0, "no request got through");

    // A CA that did not sign the server's certificate is refused as well.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let mut cfg = config(&sim, 0);
    cfg.ca_pem = Some(other.cert.pem().into_bytes());
    let e = Client::new(cfg)
        .unwrap()
        .search_alerts(&AlertSearch::default())
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Tls { .. }), "{e}");
    assert!(
        e.to_string().contains("--ca-file"),
        "the message says how to fix it: {e}"
    );
    assert_eq!(sim.requests().len(), 0, "no request got through");
}

#[tokio::test]
async fn polling_picks_up_changes_made_by_another_console() {
    let sim = sim().await;
    let c = client(&sim, 0);
    let mut poller = AlertPoller::new(
        AlertSearch {
            rows: 25,
            ..AlertSearch::default()
        },
        SignedDuration::from_secs(120),
        SignedDuration::from_hours(24 * 30),
    );
    let mut store = HashMap::new();
    let first = poller.poll(&c, Timestamp::now()).await.unwrap();
    let stats = merge_alerts(&mut store, first.alerts);
    assert_eq!(
        stats.new as u64,
        c.search_alerts(&AlertSearch::default())
            .await
            .unwrap()
            .num_found
    );

    let id = store
        .values()
        .find(|a| !a.is_closed())
        .unwrap()
        .id
        .clone()
        .unwrap();
    let other = client(&sim, 0);
    let job = other
        .update_workflow(&WorkflowUpdate::for_alerts(
            [id.clone()],
            WorkflowStatus::InProgress,
        ))
        .await
        .unwrap();
    other.wait_job(&job, JOB_WAIT).await.unwrap();

    let second = poller.poll(&c, Timestamp::now()).await.unwrap();
    assert!(
        second.alerts.len() < store.len(),
        "the second window only holds recent changes"
    );
    let stats = merge_alerts(&mut store, second.alerts);
    assert_eq!(stats.new, 0);
    assert!(stats.updated >= 1);
    assert_eq!(store[&id].status(), WorkflowStatus::InProgress);
}

#[tokio::test]
async fn more_than_ten_thousand_hits_are_fetched_by_splitting_the_window() {
    let sim = sim_with(SimOptions {
        seed: 5,
        orgs: 1,
        backlog: 10_500,
        ..SimOptions::default()
    })
    .await;
    let c = client(&sim, 0);
    let now = Timestamp::now();
    let search = AlertSearch {
        rows: 1000,
        ..AlertSearch::default()
    };
    let w = fetch_window(
        &c,
        &search,
        "backend_timestamp",
        now - SignedDuration::from_hours(24 * 60),
        now + SignedDuration::from_secs(5),
    )
    .await
    .unwrap();
    let ids: HashSet<_> = w.alerts.iter().filter_map(|a| a.id.clone()).collect();
    assert_eq!(ids.len(), 10_500);
    assert_eq!(w.alerts.len(), 10_500, "no duplicates across split windows");
    assert_eq!(w.truncated_windows, 0);
    assert!(
        w.requests >= 12,
        "needed splitting: {} requests",
        w.requests
    );
}

/// The console's first load, page by page: every alert arrives, no page is larger than asked
/// for, and a split window repeats nothing.
#[tokio::test]
async fn a_split_window_is_delivered_page_by_page() {
    let sim = sim_with(SimOptions {
        seed: 5,
        orgs: 1,
        backlog: 10_500,
        ..SimOptions::default()
    })
    .await;
    let c = client(&sim, 0);
    let now = Timestamp::now();
    let search = AlertSearch {
        rows: 1000,
        ..AlertSearch::default()
    };
    let mut pages: Vec<usize> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut on_page = |page: Vec<AlertSummary>| {
        pages.push(page.len());
        ids.extend(page.into_iter().filter_map(|a| a.id().map(str::to_owned)));
    };
    let (requests, truncated) = fetch_window_each(
        &c,
        &search,
        "backend_timestamp",
        now - SignedDuration::from_hours(24 * 60),
        now + SignedDuration::from_secs(5),
        &mut on_page,
    )
    .await
    .unwrap();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 10_500);
    assert_eq!(ids.len(), 10_500, "no alert delivered twice");
    assert!(pages.iter().all(|n| *n <= 1000), "{pages:?}");
    assert!(pages.len() >= 11, "{pages:?}");
    assert_eq!(truncated, 0);
    // At least the whole window was asked once (too many to page), then its parts were paged.
    assert!(
        requests as usize > pages.len(),
        "{requests} requests, {} pages",
        pages.len()
    );
}

#[tokio::test]
async fn after_an_unclear_write_the_state_is_read_instead() {
    let sim = sim().await;
    let mut cfg = config(&sim, 0);
    cfg.timeout = Duration::from_millis(600);
    let c = Client::new(cfg).unwrap();
    let ids: Vec<String> = open_alerts(&c)
        .await
        .iter()
        .take(2)
        .map(|a| a.id.clone().unwrap())
        .collect();

    // The server takes the change but answers too late.
    sim.inject(Fault::hang("alerts/workflow", Duration::from_millis(1500)));
    let update = WorkflowUpdate::for_alerts([ids[0].clone()], WorkflowStatus::InProgress);
    let e = c.update_workflow(&update).await.unwrap_err();
    assert!(matches!(e, ApiError::UnclearOutcome { .. }), "{e}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        c.workflow_applied(&update).await.unwrap(),
        "the late change is found by reading"
    );
    assert_eq!(count(&sim, "POST", "alerts/workflow"), 1, "never resent");

    // A gateway error where the change did not happen: the read says so.
    sim.inject(Fault::status("alerts/workflow", 504, 1));
    let mut update = WorkflowUpdate::for_alerts([ids[1].clone()], WorkflowStatus::Closed);
    update.determination = Some("TRUE_POSITIVE".into());
    assert!(matches!(
        c.update_workflow(&update).await,
        Err(ApiError::UnclearOutcome { .. })
    ));
    assert!(!c.workflow_applied(&update).await.unwrap());

    sim.inject(Fault {
        method: Some("POST".into()),
        ..Fault::hang("/notes", Duration::from_millis(1500))
    });
    assert!(
        c.add_alert_note(&ids[1], "socdeck: take analyst=k.ito")
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        c.note_present(&ids[1], "socdeck: take analyst=k.ito")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn paging_through_one_reused_body_buffer_matches_a_single_page() {
    let sim = sim().await;
    let c = client(&sim, 0);
    // One page holding everything, and the same search in pages of 7 (the last one shorter,
    // so a body buffer that kept bytes of a longer earlier page would break the parse).
    let one = c
        .search_alerts_as::<AlertSummary>(&AlertSearch {
            rows: 1000,
            ..AlertSearch::default()
        })
        .await
        .unwrap();
    assert!(one.results.len() > 7 && one.results.len() % 7 != 0);
    let paged = c
        .search_alerts_all_as::<AlertSummary>(&AlertSearch {
            rows: 7,
            ..AlertSearch::default()
        })
        .await
        .unwrap();
    assert_eq!(paged, one.results);
    let full = c
        .search_alerts_all(&AlertSearch {
            rows: 7,
            ..AlertSearch::default()
        })
        .await
        .unwrap();
    let projected: Vec<AlertSummary> = full.iter().map(AlertSummary::from).collect();
    assert_eq!(projected, one.results);
}

#[tokio::test]
async fn a_body_over_max_body_is_refused_on_every_page() {
    let sim = sim().await;
    let mut cfg = config(&sim, 0);
    // A page of 7 alerts is several KiB; 1 KiB is too small for any of them.
    cfg.max_body = 1024;
    let c = Client::new(cfg).unwrap();
    let e = c
        .search_alerts_all_as::<AlertSummary>(&AlertSearch {
            rows: 7,
            ..AlertSearch::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::TooLarge { limit: 1024, .. }), "{e}");
}
