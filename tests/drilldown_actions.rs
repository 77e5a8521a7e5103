//! Drill-down and actions against the real simulator over HTTPS: lateral movement per scenario,
//! the process tree, triage seen by a second console, quarantine through check-in, read-only,
//! and an action interrupted between its intent and its outcome, reconciled on the next start.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use socdeck::app::detail::{Evidence, Part, ProcTree};
use socdeck::app::ledger::Ledger;
use socdeck::app::pending::{Approval, Spec, State, Tracked};
use socdeck::app::queue::AlertKey;
use socdeck::app::triage::Level;
use socdeck::app::{Msg, OrgState};
use socdeck::cbc::model::*;
use socdeck::cbc::{Client, ClientConfig, RetryPolicy, Token};
use socdeck::effects::{ActionSettings, perform, reconcile};
use socdeck::journal::{ActionKind, Intent, JournalHandle, OutcomeStatus};
use socdeck::sim::{SimHandle, SimOptions, start};
use tokio::sync::mpsc;

async fn sim(checkin: Duration) -> SimHandle {
    start(SimOptions {
        seed: 5,
        backlog: 40,
        rate_per_min: 0.0,
        checkin,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts")
}

fn client(sim: &SimHandle, org: usize, read_only: bool) -> Client {
    let org_key = sim.orgs()[org].0.clone();
    let mut cfg = ClientConfig::new(sim.url(), &org_key, Token::new(sim.token()).unwrap());
    cfg.ca_pem = Some(sim.ca_pem().as_bytes().to_vec());
    cfg.timeout = Duration::from_secs(10);
    cfg.read_only = read_only;
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        budget: Duration::from_secs(5),
        ..RetryPolicy::default()
    };
    Client::new(cfg).unwrap()
}

async fn alerts(c: &Client) -> Vec<Alert> {
    c.search_alerts_all(&AlertSearch {
        rows: 500,
        ..AlertSearch::default()
    })
    .await
    .unwrap()
}

fn settings(analyst: &str) -> ActionSettings {
    ActionSettings {
        analyst: analyst.into(),
        checkin_timeout: Duration::from_secs(20),
        checkin_poll: Duration::from_millis(100),
        ..ActionSettings::default()
    }
}

async fn journal() -> (tempfile::TempDir, JournalHandle) {
    let dir = tempfile::tempdir().unwrap();
    let j = JournalHandle::open(dir.path().join("journal.db"))
        .await
        .unwrap();
    (dir, j)
}

fn tracked(id: u64, alert: &Alert, spec: Spec, approval: Option<Approval>) -> Tracked {
    Tracked {
        id,
        key: AlertKey {
            org: 0,
            id: alert.id.clone().unwrap().into(),
        },
        spec,
        approval,
        state: State::Requested,
        since: Timestamp::now(),
    }
}

/// Runs one action to its end and returns every state it reported.
async fn run(c: &Client, j: Option<&JournalHandle>, s: &ActionSettings, t: Tracked) -> Vec<State> {
    let (tx, mut rx) = mpsc::channel(64);
    perform(c, j, s, t, &tx).await;
    drop(tx);
    let mut states = Vec::new();
    while let Some(m) = rx.recv().await {
        if let Msg::ActionState { state, .. } = m {
            states.push(state);
        }
    }
    states
}

fn has_ttp(a: &Alert, ttp: &str) -> bool {
    a.ttps.iter().any(|t| t == ttp)
}

#[tokio::test]
async fn credential_theft_shows_spread_and_ransomware_shows_none() {
    let sim = sim(Duration::from_millis(200)).await;
    let c = client(&sim, 0, false);
    let all = alerts(&c).await;
    let window = SignedDuration::from_hours(24);

    let ransom = all
        .iter()
        .find(|a| has_ttp(a, "MITRE_T1486_DATA_ENCRYPTED_FOR_IMPACT"))
        .expect("the backlog has a ransomware alert");
    let lat = socdeck::investigate::lateral(&c, ransom, window).await;
    assert!(lat.errors.is_empty(), "{:?}", lat.errors);
    assert!(
        lat.hits.is_empty(),
        "single-host ransomware shows no spread: {:?}",
        lat.hits
            .iter()
            .map(|h| (h.device.as_str().to_string(), h.evidence.clone()))
            .collect::<Vec<_>>()
    );

    // The credential-theft story's hosts: some alert of it has network evidence to another
    // host of the org, both as a list entry and as a graph edge.
    let mut found = None;
    for a in all.iter().filter(|a| {
        a.ttps
            .iter()
            .any(|t| t.contains("T1003") || t.contains("T1021") || t.contains("T1569"))
    }) {
        let lat = socdeck::investigate::lateral(&c, a, window).await;
        assert!(lat.errors.is_empty(), "{:?}", lat.errors);
        if lat.hits.iter().any(|h| {
            h.evidence
                .iter()
                .any(|e| matches!(e, Evidence::Network { .. }))
        }) {
            found = Some((a.clone(), lat));
            break;
        }
    }
    let (a, lat) = found.expect("credential theft lights up lateral movement");
    assert!(!lat.edges.is_empty());
    let me = a.device_name.clone().unwrap();
    assert!(
        lat.edges
            .iter()
            .all(|e| e.from.as_str() == me || e.to.as_str() == me),
        "every edge touches the alert's device"
    );
    assert!(lat.hits.iter().all(|h| h.device_id != a.device_id));
    assert!(
        lat.edges
            .iter()
            .all(|e| [445, 139, 3389, 5985, 5986, 135, 22].contains(&e.port))
    );
}

#[tokio::test]
async fn the_detail_loads_every_part_and_the_tree_marks_the_alerting_process() {
    let sim = sim(Duration::from_millis(200)).await;
    let c = client(&sim, 0, false);
    let a = alerts(&c)
        .await
        .into_iter()
        .find(|a| a.process_guid.is_some())
        .unwrap();
    let parts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = parts.clone();
    socdeck::investigate::load_detail(
        &c,
        a.id.as_deref().unwrap(),
        SignedDuration::from_hours(24),
        move |p| sink.lock().unwrap().push(p),
    )
    .await;
    let parts = std::mem::take(&mut *parts.lock().unwrap());
    assert_eq!(
        parts.len(),
        6,
        "alert, device, tree, lateral, notes, history"
    );
    let mut tree: Option<ProcTree> = None;
    for p in parts {
        match p {
            Part::Alert(r) => assert_eq!(r.unwrap().id, a.id),
            Part::Device(r) => assert_eq!(r.unwrap().id, a.device_id),
            Part::Tree(r) => tree = Some(r.unwrap()),
            Part::Lateral(r) => assert!(r.unwrap().errors.is_empty()),
            Part::Notes(r) => {
                r.unwrap();
            }
            Part::History(r) => assert!(!r.unwrap().is_empty()),
        }
    }
    let tree = tree.unwrap();
    let line = tree
        .alert_line()
        .expect("the alerting process is in the tree");
    let node = tree.node_at(line).unwrap();
    assert!(node.is_alert && node.on_path);
    assert_eq!(Some(&*node.guid), a.process_guid.as_deref());
    assert_eq!(node.pid, a.process_pid);
}

#[tokio::test]
async fn a_triage_written_by_one_console_is_seen_by_another() {
    let sim = sim(Duration::from_millis(200)).await;
    let (_d, j) = journal().await;
    let mine = client(&sim, 0, false);
    let a = alerts(&mine)
        .await
        .into_iter()
        .find(|a| a.status() == WorkflowStatus::Open)
        .unwrap();
    let id = a.id.clone().unwrap();

    let states = run(
        &mine,
        Some(&j),
        &settings("yamada"),
        tracked(1, &a, Spec::Triage { level: Level::High }, None),
    )
    .await;
    assert_eq!(states, [State::Sent, State::Confirmed]);
    // The other console: its own client, reading CBC only.
    let other = client(&sim, 0, false);
    let seen = other.alert(&id).await.unwrap();
    assert_eq!(seen.status(), WorkflowStatus::InProgress);
    assert_eq!(seen.alert_notes_present, Some(true));
    let notes = other.alert_notes(&id).await.unwrap();
    let ledger = Ledger::from_texts(notes.iter().filter_map(|n| n.note.as_deref()));
    let (level, who, _) = ledger.level.unwrap();
    assert_eq!((level, who.as_str()), (Level::High, "yamada"));
    assert_eq!(ledger.owner.unwrap().0, "yamada");

    // False positive closes with the FP determination and the configured closure reason.
    let fp = run(
        &mine,
        Some(&j),
        &settings("sato"),
        tracked(
            2,
            &a,
            Spec::Triage {
                level: Level::FalsePositive,
            },
            None,
        ),
    )
    .await;
    assert_eq!(fp.last(), Some(&State::Confirmed));
    let closed = other.alert(&id).await.unwrap();
    assert_eq!(closed.status(), WorkflowStatus::Closed);
    assert_eq!(
        closed.determination.and_then(|d| d.value).as_deref(),
        Some("FALSE_POSITIVE")
    );
    assert_eq!(
        closed.workflow.and_then(|w| w.closure_reason).as_deref(),
        Some("RESOLVED_BENIGN_KNOWN_GOOD")
    );
    let notes = other.alert_notes(&id).await.unwrap();
    let ledger = Ledger::from_texts(notes.iter().filter_map(|n| n.note.as_deref()));
    assert_eq!(ledger.level.unwrap().0, Level::FalsePositive);

    // Both actions are in the audit log with their outcome.
    let audit = j.audit(None, 10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|r| r.intent.kind == ActionKind::Triage
        && r.outcome.as_ref().map(|o| o.status) == Some(OutcomeStatus::Succeeded)));
}

#[tokio::test]
async fn quarantine_names_one_device_and_is_confirmed_after_check_in() {
    let sim = sim(Duration::from_millis(600)).await;
    let (_d, j) = journal().await;
    let c = client(&sim, 0, false);
    let org_key = sim.orgs()[0].0.clone();
    let a = alerts(&c)
        .await
        .into_iter()
        .find(|a| a.device_id.is_some())
        .unwrap();
    let device_id = a.device_id.unwrap();
    assert_eq!(sim.device_quarantined(&org_key, device_id), Some(false));
    sim.clear_requests();
    let approval = Approval {
        approver: "Customer CISO".into(),
        channel: "phone".into(),
        at: Timestamp::now(),
    };
    let spec = Spec::Quarantine {
        on: true,
        device_id,
        device: a.device_name.clone().unwrap(),
    };
    let states = run(
        &c,
        Some(&j),
        &settings("yamada"),
        tracked(1, &a, spec, Some(approval)),
    )
    .await;
    assert_eq!(
        states,
        [State::Sent, State::WaitingCheckin, State::Confirmed]
    );
    assert_eq!(sim.device_quarantined(&org_key, device_id), Some(true));
    // Exactly one device action, naming exactly this device by id (never the search form).
    let actions: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/device_actions"))
        .collect();
    assert_eq!(actions.len(), 1);
    // The approval is on the alert for everyone to see, and in the journal.
    let notes = c.alert_notes(a.id.as_deref().unwrap()).await.unwrap();
    assert!(notes.iter().any(|n| {
        n.note
            .as_deref()
            .is_some_and(|t| t.starts_with("socdeck: quarantine=on") && t.contains("Customer CISO"))
    }));
    let rec = &j.audit(None, 1).await.unwrap()[0];
    assert_eq!(rec.intent.kind, ActionKind::QuarantineOn);
    assert_eq!(rec.intent.device_id, Some(device_id));
    assert_eq!(rec.intent.approval.as_ref().unwrap().channel, "phone");
    assert_eq!(
        rec.outcome.as_ref().unwrap().status,
        OutcomeStatus::Succeeded
    );
}

#[tokio::test]
async fn a_sensor_that_never_checks_in_times_out_without_resending() {
    // Check-in far in the future: the request is accepted, the device never flips.
    let sim = sim(Duration::from_secs(3600)).await;
    let (_d, j) = journal().await;
    let c = client(&sim, 0, false);
    let a = alerts(&c)
        .await
        .into_iter()
        .find(|a| a.device_id.is_some())
        .unwrap();
    let spec = Spec::Quarantine {
        on: true,
        device_id: a.device_id.unwrap(),
        device: "x".into(),
    };
    let mut s = settings("yamada");
    s.checkin_timeout = Duration::from_millis(500);
    sim.clear_requests();
    let states = run(&c, Some(&j), &s, tracked(1, &a, spec, None)).await;
    assert_eq!(states.last(), Some(&State::TimedOut));
    let posts = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/device_actions"))
        .count();
    assert_eq!(posts, 1, "never sent twice");
    let rec = &j.audit(None, 1).await.unwrap()[0];
    assert_eq!(rec.outcome.as_ref().unwrap().status, OutcomeStatus::Unclear);
    // Still unresolved: the next start reconciles it.
    assert_eq!(j.unresolved().await.unwrap().len(), 1);
}

#[tokio::test]
async fn read_only_sends_nothing_that_changes_the_world() {
    let sim = sim(Duration::from_millis(200)).await;
    let (_d, j) = journal().await;
    let c = client(&sim, 0, true);
    let a = alerts(&c)
        .await
        .into_iter()
        .find(|a| a.device_id.is_some() && a.process_sha256.is_some())
        .unwrap();
    sim.clear_requests();
    let specs = [
        Spec::Triage { level: Level::High },
        Spec::Take,
        Spec::Quarantine {
            on: true,
            device_id: a.device_id.unwrap(),
            device: "x".into(),
        },
        Spec::HashOverride {
            ban: true,
            sha256: a.process_sha256.clone().unwrap(),
            filename: None,
        },
    ];
    for (i, spec) in specs.into_iter().enumerate() {
        let states = run(
            &c,
            Some(&j),
            &settings("y"),
            tracked(i as u64, &a, spec, None),
        )
        .await;
        assert!(
            matches!(states.last(), Some(State::Failed(e)) if e.contains("read-only")),
            "{states:?}"
        );
    }
    let writes: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| {
            r.method != "GET" && !r.path.contains("_search") && !r.path.contains("search_jobs")
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        writes.is_empty(),
        "the simulator received writes: {writes:?}"
    );
}

#[tokio::test]
async fn an_action_interrupted_after_its_intent_is_reconciled_on_restart() {
    let sim = sim(Duration::from_millis(300)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let c = client(&sim, 0, false);
    let org_key = sim.orgs()[0].0.clone();
    let a = alerts(&c)
        .await
        .into_iter()
        .find(|a| a.device_id.is_some())
        .unwrap();
    let device_id = a.device_id.unwrap();
    {
        // The first run: intent written, request sent, then the process dies (no outcome).
        let j = JournalHandle::open(path.clone()).await.unwrap();
        j.intent(Intent {
            at: Timestamp::now(),
            analyst: "yamada".into(),
            org_key: org_key.clone(),
            kind: ActionKind::QuarantineOn,
            alert_id: a.id.clone(),
            device_id: Some(device_id),
            target: format!("device {device_id}"),
            params: "toggle=ON".into(),
            approval: None,
        })
        .await
        .unwrap();
        let action = QuarantineAction::new(vec![device_id], Toggle::On).unwrap();
        c.quarantine(&action).await.unwrap();
        // A second intent whose request never left.
        j.intent(Intent {
            at: Timestamp::now(),
            analyst: "yamada".into(),
            org_key: org_key.clone(),
            kind: ActionKind::Triage,
            alert_id: a.id.clone(),
            device_id: None,
            target: "alert".into(),
            params: "level=High".into(),
            approval: None,
        })
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The next start.
    let j = JournalHandle::open(path).await.unwrap();
    assert_eq!(j.unresolved().await.unwrap().len(), 2);
    let orgs = [OrgState::new("org", org_key.clone())];
    let rows = reconcile(
        std::slice::from_ref(&c),
        |k| orgs.iter().position(|o| o.org_key == k).map(|i| i as u16),
        &j,
    )
    .await;
    assert_eq!(rows.len(), 2, "both are shown to the analyst");
    assert!(j.unresolved().await.unwrap().is_empty());
    let audit = j.audit(None, 10).await.unwrap();
    let status = |k: ActionKind| {
        audit
            .iter()
            .find(|r| r.intent.kind == k)
            .and_then(|r| r.outcome.as_ref())
            .map(|o| o.status)
    };
    assert_eq!(
        status(ActionKind::QuarantineOn),
        Some(OutcomeStatus::Reconciled)
    );
    assert_eq!(status(ActionKind::Triage), Some(OutcomeStatus::Failed));
    assert!(rows.iter().any(|r| r.outcome.contains("quarantined=true")));
}

#[tokio::test]
async fn no_journal_means_nothing_is_sent() {
    let sim = sim(Duration::from_millis(200)).await;
    let c = client(&sim, 0, false);
    let a = alerts(&c).await.into_iter().next().unwrap();
    sim.clear_requests();
    let states = run(&c, None, &settings("y"), tracked(1, &a, Spec::Take, None)).await;
    assert!(matches!(states.as_slice(), [State::Failed(e)] if e.contains("journal")));
    assert!(sim.requests().is_empty());
}
