//! Every response fixture from the official SDK's tests (`../shared/cbc/fixtures`) parses into
//! the typed model, keeping the facts an analyst needs.

use std::path::PathBuf;

use socdeck::cbc::model::*;

fn fixture(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cbc/fixtures");
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("read fixture {name}: {e}"))
}

fn parse<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (file, check) — one row per response fixture the client reads.
#[test]
fn every_response_fixture_parses() {
    type Check = fn(&str);
    let table: &[(&str, Check)] = &[
        ("alert_v7_cb_analytics.json", |f| {
            let a: Alert = parse(f);
            assert_eq!(
                a.id.as_deref(),
                Some("6f1173f5-f921-8e11-2160-edf42b799333")
            );
            assert_eq!(a.kind(), AlertType::CbAnalytics);
            assert_eq!(a.severity, Some(4));
            assert_eq!(a.status(), WorkflowStatus::Open);
            assert_eq!(a.device_id, Some(12345678));
            assert!(a.backend_timestamp.is_some());
            // "" and "" tags in the SDK fixture are absent values, not errors.
            assert_eq!(a.user_update_timestamp, None);
            assert!(a.tags.is_empty());
            assert_eq!(a.parent_cmdline, None);
            assert!(a.process_cmdline.as_deref().unwrap().contains('\n'));
            assert_eq!(a.ttps.len(), 8);
        }),
        ("alert_v7_watchlist.json", |f| {
            let a: Alert = parse(f);
            assert_eq!(a.kind(), AlertType::Watchlist);
            assert!(!a.watchlists.is_empty(), "watchlists kept");
            assert!(a.report_name.is_some());
        }),
        ("alerts_v7_search_response.json", |f| {
            let p: AlertPage = parse(f);
            assert_eq!(p.results.len(), 1);
            assert!(p.num_found >= 1);
        }),
        ("alerts_v7_grouped_search_response.json", |f| {
            let v: serde_json::Value = parse(f);
            let most_recent = &v["results"][0]["most_recent_alert"];
            let a: Alert = serde_json::from_value(most_recent.clone()).unwrap();
            assert!(a.id.is_some());
        }),
        ("alert_workflow_response.json", |f| {
            let w: WorkflowAccepted = parse(f);
            assert!(!w.request_id.is_empty());
        }),
        ("alert_workflow_job_completed.json", |f| {
            let j: Job = parse(f);
            assert_eq!(j.id.as_deref(), Some("666666"));
            assert!(j.is_finished() && !j.failed());
            assert!(
                j.extra.contains_key("job_parameters"),
                "unknown fields kept"
            );
        }),
        ("alert_notes_list.json", |f| {
            let p: NotePage = parse(f);
            assert_eq!(p.results.len(), 2);
            assert_eq!(p.results[0].author.as_deref(), Some("Grogu"));
        }),
        ("alert_note_create_response.json", |f| {
            let n: Note = parse(f);
            assert_eq!(n.id.as_deref(), Some("3gsgsfds"));
        }),
        ("alert_history.json", |f| {
            let h: History = parse(f);
            assert_eq!(h.history.len(), 3);
            assert!(h.history[0].workflow.is_some());
            assert!(h.history[1].determination.is_some());
            assert!(h.history[2].note.is_some());
        }),
        ("device_search_response.json", |f| {
            let p: DevicePage = parse(f);
            assert!(!p.results.is_empty());
            assert!(p.results[0].id.is_some());
        }),
        ("device_get.json", |f| {
            let d: Device = parse(f);
            assert_eq!(d.id, Some(98765));
            assert_eq!(d.quarantined, Some(false));
            assert_eq!(d.policy_name.as_deref(), Some("policy-restrictive"));
        }),
        ("process_search_job_create_response.json", |f| {
            let j: JobCreated = parse(f);
            assert!(!j.job_id.is_empty());
        }),
        ("process_search_job_results_still_querying.json", |f| {
            let r: JobResults<Process> = parse(f);
            assert!(!r.is_done());
        }),
        ("process_search_job_results.json", |f| {
            let r: JobResults<Process> = parse(f);
            assert!(r.is_done());
            let p = &r.results[0];
            assert!(p.process_guid.is_some());
            assert!(
                p.process_pid.is_some(),
                "pid taken from the one-element array"
            );
            assert!(p.sha256().is_some(), "sha256 found in process_hash");
        }),
        ("process_detail_job_results.json", |f| {
            let r: JobResults<Process> = parse(f);
            assert!(!r.results.is_empty());
        }),
        ("process_summary_job_results_tree.json", |f| {
            let s: SummaryResults = parse(f);
            let tree = s.tree.expect("tree");
            assert!(tree.process_name.is_some());
            assert_eq!(tree.children.len(), 1);
            assert_eq!(s.exception, None);
        }),
        ("process_summary_job_results_summary.json", |f| {
            let s: SummaryResults = parse(f);
            let sum = s.summary.expect("summary");
            assert!(sum.process.is_some());
            assert!(!sum.children.is_empty());
        }),
        ("observations_search_job_create_response.json", |f| {
            let j: JobCreated = parse(f);
            assert!(!j.job_id.is_empty());
        }),
        ("observations_search_job_results_netconn.json", |f| {
            let r: JobResults<Observation> = parse(f);
            assert_eq!((r.num_found, r.num_available), (808, 52));
            let o = &r.results[0];
            assert!(o.observation_id.is_some());
            assert_eq!(o.remote_port(), Some(80));
        }),
        ("observations_detail_job_results.json", |f| {
            let r: JobResults<Observation> = parse(f);
            let o = &r.results[0];
            // Integer IPv4 (388818410) becomes dotted.
            assert_eq!(o.remote_ip(), Some("23.44.229.234"));
            assert_eq!(o.netconn_inbound, Some(false));
        }),
        ("reputation_override_create_response.json", |f| {
            let o: ReputationOverride = parse(f);
            assert_eq!(o.id.as_deref(), Some("e9410b754ea011ebbfd0db2585a41b07"));
            assert_eq!(o.override_list.as_deref(), Some("BLACK_LIST"));
        }),
        ("reputation_override_search_response.json", |f| {
            let p: OverridePage = parse(f);
            assert_eq!(p.num_found, Some(1));
        }),
    ];
    for (file, check) in table {
        check(file);
    }
    // Every response fixture is in the table (request bodies and out-of-scope APIs excepted).
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cbc/fixtures");
    let out_of_scope = [
        "request",
        "alerts_v7_facet_response.json",
        "process_search_validation_response.json",
        "observations_grouped_results.json",
        "watchlist",
        "vulnerabilities",
        "live_response",
        "MANIFEST.md",
    ];
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if out_of_scope.iter().any(|s| name.contains(s)) {
            continue;
        }
        assert!(
            table.iter().any(|(f, _)| *f == name),
            "fixture {name} has no parse check"
        );
    }
}

#[test]
fn unknown_types_and_fields_are_kept_and_odd_values_tolerated() {
    let raw = r#"{"id":"a1","type":"QUANTUM_THING","severity":"7","new_field":{"x":[1,2]},
        "backend_timestamp":"not a time","tags":"","mdr_alert":"false","device_id":"42",
        "workflow":"garbage","process_pid":[1234],"ttps":"SINGLE"}"#;
    let a: Alert = serde_json::from_str(raw).unwrap();
    assert_eq!(a.kind(), AlertType::Other("QUANTUM_THING".into()));
    assert_eq!(a.severity, Some(7));
    assert_eq!(a.backend_timestamp, None);
    assert_eq!(a.mdr_alert, Some(false));
    assert_eq!(a.device_id, Some(42));
    assert_eq!(a.workflow, None);
    assert_eq!(a.process_pid, Some(1234));
    assert_eq!(a.ttps, vec!["SINGLE".to_string()]);
    assert!(a.extra.contains_key("new_field"));
    // The unknown field survives a round trip for `alerts --json`.
    let back = serde_json::to_value(&a).unwrap();
    assert_eq!(back["new_field"]["x"][1], 2);
    assert_eq!(back["type"], "QUANTUM_THING");
}

#[test]
fn one_odd_alert_does_not_fail_the_page_but_broken_json_does() {
    let page = r#"{"num_found":2,"num_available":2,"results":[{"id":"ok","severity":5},
        {"id":7,"severity":{"nested":true},"workflow":[1,2]}]}"#;
    let p: AlertPage = serde_json::from_str(page).unwrap();
    assert_eq!(p.results.len(), 2);
    assert_eq!(p.results[1].id.as_deref(), Some("7"));
    assert_eq!(p.results[1].severity, None);
    assert!(serde_json::from_str::<AlertPage>(r#"{"results":[{"id":"x""#).is_err());
}

#[test]
fn request_bodies_match_what_cbc_expects() {
    let q = QuarantineAction::new(vec![6023], Toggle::On).unwrap();
    let expected: serde_json::Value =
        serde_json::from_slice(&fixture("device_action_quarantine_request.json")).unwrap();
    assert_eq!(serde_json::to_value(&q).unwrap(), expected);
    assert!(QuarantineAction::new(vec![], Toggle::On).is_none());

    let ban = HashOverride::new(
        OverrideList::Ban,
        "af62e6b3d475879c4234fe7bd8ba67ff6544ce6510131a069aaac75aa92aee7a",
        Some("foo.exe".into()),
        "An override for a sha256 hash".into(),
    )
    .unwrap();
    let expected: serde_json::Value =
        serde_json::from_slice(&fixture("reputation_override_create_request.json")).unwrap();
    assert_eq!(serde_json::to_value(&ban).unwrap(), expected);
    assert!(HashOverride::new(OverrideList::Ban, "abc", None, String::new()).is_none());

    let mut w = WorkflowUpdate::for_alerts(
        ["ABC12345-2ee5-88a2-4427-4af4ab93f528"],
        WorkflowStatus::Closed,
    );
    w.closure_reason = Some("OTHER".into());
    w.determination = Some("TRUE_POSITIVE".into());
    w.note = Some("Note about the determination".into());
    let body = serde_json::to_value(&w).unwrap();
    assert_eq!(
        body["criteria"]["id"][0],
        "ABC12345-2ee5-88a2-4427-4af4ab93f528"
    );
    assert_eq!(body["status"], "CLOSED");
}
