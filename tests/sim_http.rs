//! The simulator over real HTTPS: a hand-made story source (two orgs, a PowerShell process tree,
//! network observations, 24 alerts in the first org), the real TLS stack, and reqwest trusting
//! only the simulator's `ca.pem`.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reqwest::{Certificate, Client, Method, StatusCode};
use serde_json::{Value, json};
use socdeck::sim::server::start_with_source;
use socdeck::sim::world::{Doc, OrgSpec, Policy, Story, StorySource};
use socdeck::sim::{Fault, SimHandle, SimOptions};

const TOKEN: &str = "TESTSECRETTESTSECRETTEST/TESTAPIID1";
const ORG: &str = "ACME1234";
const ORG_B: &str = "BETA5678";
const ALERTS: &str = "/api/alerts/v7/orgs/ACME1234";
const APP: &str = "/appservices/v6/orgs/ACME1234";
const INV: &str = "/api/investigate/v2/orgs/ACME1234";

const G_EXPLORER: &str = "ACME1234-00001389-00000f00-00000000-1da0000000000a1";
const G_PS: &str = "ACME1234-00001389-00001000-00000000-1da0000000000a2";
const G_WHOAMI: &str = "ACME1234-00001389-00001001-00000000-1da0000000000a3";
const G_NET: &str = "ACME1234-00001389-00001002-00000000-1da0000000000a4";
const G_NOTEPAD: &str = "ACME1234-00001389-00001003-00000000-1da0000000000a5";
const G_SVCHOST: &str = "ACME1234-0000138a-00000300-00000000-1da0000000000b1";

// ------------------------------------------------------------------------------------------------
// The hand-made story source

fn obj(v: Value) -> Doc {
    match v {
        Value::Object(m) => m,
        other => panic!("fixture documents are objects, got {other}"),
    }
}

fn iso(t: Timestamp) -> String {
    format!("{t:.3}")
}

fn alert_id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn device(id: i64, name: &str, os: &str, priority: &str, policy: (i64, &str)) -> Doc {
    obj(json!({
        "id": id,
        "name": name,
        "os": os,
        "os_version": if os == "WINDOWS" { "Windows 10 x64" } else { "Other" },
        "status": "REGISTERED",
        "quarantined": false,
        "policy_id": policy.0,
        "policy_name": policy.1,
        "last_internal_ip_address": "10.0.0.5",
        "last_external_ip_address": "203.0.113.7",
        "last_contact_time": "2024-05-01T00:00:00.000Z",
        "login_user_name": "CORP\\t.sato",
        "target_priority": priority,
        "organization_name": "acme.example",
        "sensor_version": "3.9.1.2451",
    }))
}

fn process(
    guid: &str,
    parent: Option<(&str, &str)>,
    name: &str,
    dev: &Doc,
    start: Timestamp,
) -> Doc {
    let mut d = obj(json!({
        "process_guid": guid,
        "process_name": name,
        "process_pid": [4242],
        "process_hash": ["d41d8cd98f00b204e9800998ecf8427e", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
        "process_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "process_cmdline": [name],
        "process_username": ["CORP\\t.sato"],
        "process_start_time": iso(start),
        "process_reputation": "TRUSTED_WHITE_LIST",
        "device_id": dev["id"],
        "device_name": dev["name"],
        "device_os": dev["os"],
        "device_timestamp": iso(start),
        "backend_timestamp": iso(start),
        "childproc_count": 0,
        "netconn_count": 1,
    }));
    if let Some((pguid, pname)) = parent {
        d.insert("parent_guid".into(), pguid.into());
        d.insert("parent_name".into(), pname.into());
    }
    d
}

struct AlertSpec<'a> {
    n: u32,
    kind: &'a str,
    severity: i64,
    dev: &'a Doc,
    at: Timestamp,
    status: &'a str,
    process: (&'a str, &'a str),
    reason: String,
}

fn alert(org: &str, s: AlertSpec<'_>) -> Doc {
    obj(json!({
        "id": alert_id(s.n),
        "org_key": org,
        "type": s.kind,
        "severity": s.severity,
        "reason": s.reason,
        "reason_code": "T_TEST",
        "threat_id": format!("{:032x}", s.n),
        "backend_timestamp": iso(s.at),
        "backend_update_timestamp": iso(s.at),
        "detection_timestamp": iso(s.at),
        "first_event_timestamp": iso(s.at),
        "last_event_timestamp": iso(s.at),
        "user_update_timestamp": null,
        "workflow": {
            "change_timestamp": iso(s.at),
            "changed_by_type": if s.status == "OPEN" { "SYSTEM" } else { "USER" },
            "changed_by": if s.status == "OPEN" { "ALERT_CREATION" } else { "analyst@acme.example" },
            "closure_reason": if s.status == "CLOSED" { "RESOLVED" } else { "NO_REASON" },
            "status": s.status,
        },
        "determination": {"value": "NONE", "change_timestamp": iso(s.at), "changed_by_type": "SYSTEM", "changed_by": ""},
        "alert_notes_present": false,
        "device_id": s.dev["id"],
        "device_name": s.dev["name"],
        "device_os": s.dev["os"],
        "device_policy_id": s.dev["policy_id"],
        "device_target_value": s.dev["target_priority"],
        "process_guid": s.process.0,
        "process_name": s.process.1,
        "ttps": ["MITRE_T1059_001_POWERSHELL"],
    }))
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn org_a_devices() -> Vec<Doc> {
    vec![
        device(5001, "WIN-FIN-01", "WINDOWS", "HIGH", (1001, "Standard")),
        device(5002, "WIN-HR-02", "WINDOWS", "MEDIUM", (1001, "Standard")),
        device(
            5003,
            "lnx-web-01",
            "LINUX",
            "MISSION_CRITICAL",
            (1002, "Servers"),
        ),
    ]
}

/// Org A's stories relative to `now`: 24 alerts (3 told, 20 fillers, 1 older than 30 days).
fn org_a_stories(now: Timestamp) -> Vec<Story> {
    let devs = org_a_devices();
    let (fin, hr, web) = (&devs[0], &devs[1], &devs[2]);
    let t1 = now - hours(1);
    let ps = "c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe";
    let explorer = "c:\\windows\\explorer.exe";
    let processes = vec![
        process(G_EXPLORER, None, explorer, fin, t1 - hours(5)),
        process(G_PS, Some((G_EXPLORER, explorer)), ps, fin, t1),
        process(
            G_WHOAMI,
            Some((G_PS, ps)),
            "c:\\windows\\system32\\whoami.exe",
            fin,
            t1,
        ),
        process(
            G_NET,
            Some((G_PS, ps)),
            "c:\\windows\\system32\\net.exe",
            fin,
            t1,
        ),
        process(
            G_NOTEPAD,
            Some((G_EXPLORER, explorer)),
            "c:\\windows\\system32\\notepad.exe",
            fin,
            t1,
        ),
    ];
    let netconn = |id: &str, port: i64, remote: i64| {
        obj(json!({
            "observation_id": id,
            "observation_type": "CB_ANALYTICS",
            "alert_id": [alert_id(1)],
            "event_type": ["netconn"],
            "enriched_event_type": ["NETWORK"],
            "device_id": 5001,
            "device_name": "WIN-FIN-01",
            "process_guid": G_PS,
            "process_name": ps,
            "netconn_port": port,
            "netconn_ipv4": remote,
            "netconn_local_ipv4": 167772165,
            "netconn_local_port": 50123,
            "netconn_inbound": false,
            "netconn_protocol": "PROTO_TCP",
            "backend_timestamp": iso(t1),
        }))
    };
    let story1 = Story {
        alerts: vec![alert(
            ORG,
            AlertSpec {
                n: 1,
                kind: "CB_ANALYTICS",
                severity: 8,
                dev: fin,
                at: t1,
                status: "OPEN",
                process: (G_PS, ps),
                reason: "Credential theft with PowerShell".into(),
            },
        )],
        processes,
        observations: vec![
            netconn(
                "8fbccc2da75f11ed937ae3cb089984c6:00000000-0000-4000-8000-000000000001",
                445,
                167772166,
            ),
            netconn(
                "8fbccc2da75f11ed937ae3cb089984c7:00000000-0000-4000-8000-000000000001",
                3389,
                167772167,
            ),
        ],
    };
    let svchost = "c:\\windows\\system32\\svchost.exe";
    let story2 = Story {
        alerts: vec![alert(
            ORG,
            AlertSpec {
                n: 2,
                kind: "WATCHLIST",
                severity: 5,
                dev: hr,
                at: now - hours(2),
                status: "OPEN",
                process: (G_SVCHOST, svchost),
                reason: "Watchlist hit".into(),
            },
        )],
        processes: vec![process(G_SVCHOST, None, svchost, hr, now - hours(30))],
        observations: Vec::new(),
    };
    let mut rest = vec![alert(
        ORG,
        AlertSpec {
            n: 3,
            kind: "CB_ANALYTICS",
            severity: 3,
            dev: web,
            at: now - hours(72),
            status: "CLOSED",
            process: ("", "/usr/bin/bash"),
            reason: "Closed long ago".into(),
        },
    )];
    for i in 0..20u32 {
        rest.push(alert(
            ORG,
            AlertSpec {
                n: 100 + i,
                kind: if i % 2 == 0 {
                    "DEVICE_CONTROL"
                } else {
                    "CB_ANALYTICS"
                },
                severity: i64::from(i % 10) + 1,
                dev: [fin, hr, web][i as usize % 3],
                // Half past the hour, so no filler sits on a whole-hour window boundary.
                at: now - hours(10 + i64::from(i)) - SignedDuration::from_mins(30),
                status: if i % 4 == 3 { "IN_PROGRESS" } else { "OPEN" },
                process: ("", "c:\\tools\\filler.exe"),
                reason: format!("filler {i}"),
            },
        ));
    }
    rest.push(alert(
        ORG,
        AlertSpec {
            n: 900,
            kind: "WATCHLIST",
            severity: 9,
            dev: fin,
            at: now - hours(40 * 24),
            status: "OPEN",
            process: ("", "c:\\old.exe"),
            reason: "Older than a month".into(),
        },
    ));
    vec![
        story1,
        story2,
        Story {
            alerts: rest,
            ..Story::default()
        },
    ]
}

struct Fixture {
    /// Live stories handed out by `next_story`.
    live: u32,
}

impl StorySource for Fixture {
    fn orgs(&self) -> Vec<OrgSpec> {
        vec![
            OrgSpec {
                org_key: ORG.into(),
                name: "Acme Logistics".into(),
                policies: vec![
                    Policy {
                        id: 1001,
                        name: "Standard".into(),
                    },
                    Policy {
                        id: 1002,
                        name: "Servers".into(),
                    },
                ],
                users: vec!["CORP\\t.sato".into()],
                devices: org_a_devices(),
            },
            OrgSpec {
                org_key: ORG_B.into(),
                name: "Beta Bank".into(),
                policies: vec![Policy {
                    id: 2001,
                    name: "Default".into(),
                }],
                users: vec!["BETA\\k.ito".into()],
                devices: vec![device(6001, "MAC-CEO", "MAC", "HIGH", (2001, "Default"))],
            },
        ]
    }

    fn next_story(&mut self, now: Timestamp) -> Option<(usize, Story)> {
        if self.live == 0 {
            return None;
        }
        self.live -= 1;
        let dev = device(6001, "MAC-CEO", "MAC", "HIGH", (2001, "Default"));
        let spec = AlertSpec {
            n: 5000 + self.live,
            kind: "CB_ANALYTICS",
            severity: 6,
            dev: &dev,
            at: now,
            status: "OPEN",
            process: ("", "/usr/bin/curl"),
            reason: "live".into(),
        };
        Some((
            1,
            Story {
                alerts: vec![alert(ORG_B, spec)],
                ..Story::default()
            },
        ))
    }

    fn backlog(&mut self, now: Timestamp) -> Vec<(usize, Story)> {
        let mut out: Vec<(usize, Story)> = org_a_stories(now).into_iter().map(|s| (0, s)).collect();
        let dev = device(6001, "MAC-CEO", "MAC", "HIGH", (2001, "Default"));
        let spec = AlertSpec {
            n: 4000,
            kind: "CB_ANALYTICS",
            severity: 4,
            dev: &dev,
            at: now - hours(3),
            status: "OPEN",
            process: ("", "/usr/bin/python3"),
            reason: "beta".into(),
        };
        out.push((
            1,
            Story {
                alerts: vec![alert(ORG_B, spec)],
                ..Story::default()
            },
        ));
        out
    }
}

/// Org A's alerts as the fixture defines them (for expectations computed independently of the
/// simulator's matching code).
fn fixture_alerts() -> Vec<Doc> {
    org_a_stories(Timestamp::now())
        .into_iter()
        .flat_map(|s| s.alerts)
        .collect()
}

// ------------------------------------------------------------------------------------------------
// Harness

fn opts() -> SimOptions {
    SimOptions {
        rate_per_min: 0.0,
        checkin: Duration::ZERO,
        token: Some(TOKEN.into()),
        ..SimOptions::default()
    }
}

async fn sim_with(o: SimOptions) -> SimHandle {
    start_with_source(o, Box::new(Fixture { live: 0 }))
        .await
        .expect("simulator starts")
}

async fn sim() -> SimHandle {
    sim_with(opts()).await
}

fn client(sim: &SimHandle) -> Client {
    let ca = Certificate::from_pem(sim.ca_pem().as_bytes()).expect("ca.pem parses");
    Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client builds")
}

struct Api {
    sim: SimHandle,
    http: Client,
}

impl Api {
    async fn new() -> Api {
        Api::with(opts()).await
    }

    async fn with(o: SimOptions) -> Api {
        let sim = sim_with(o).await;
        let http = client(&sim);
        Api { sim, http }
    }

    /// Sends a request with the right token; returns status, headers and the parsed JSON body
    /// (`Null` when empty).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sim.url()))
            .header("X-Auth-Token", TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request is answered");
        let (status, headers) = (resp.status(), resp.headers().clone());
        let text = resp.text().await.expect("body reads");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("body is JSON")
        };
        (status, headers, json)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, v) = self.call(Method::GET, path, None).await;
        (s, v)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, _, v) = self.call(Method::POST, path, Some(body)).await;
        (s, v)
    }

    async fn search(&self, body: Value) -> Value {
        let (s, v) = self.post(&format!("{ALERTS}/alerts/_search"), body).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_string())
        .collect()
}

fn num(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

// ------------------------------------------------------------------------------------------------
// Start-up, TLS, auth

#[tokio::test]
async fn banner_is_one_json_line_and_ca_file_matches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = sim_with(SimOptions {
        cert_dir: Some(dir.path().join("certs")),
        ..opts()
    })
    .await;
    let banner = sim.banner_json();
    assert!(!banner.contains('\n'));
    assert!(banner.starts_with("{\"url\":"), "{banner}");
    let key_at = |k: &str| banner.find(&format!("\"{k}\":")).expect(k);
    assert!(
        key_at("url") < key_at("ca_file")
            && key_at("ca_file") < key_at("token")
            && key_at("token") < key_at("orgs")
    );
    let v: Value = serde_json::from_str(&banner).expect("banner is JSON");
    assert_eq!(v["url"], sim.url());
    assert!(sim.url().starts_with("https://127.0.0.1:"));
    assert_ne!(sim.addr().port(), 0, "the real port is reported");
    assert_eq!(v["token"], TOKEN);
    assert_eq!(
        v["orgs"],
        json!([{"org_key": ORG, "name": "Acme Logistics"}, {"org_key": ORG_B, "name": "Beta Bank"}])
    );
    assert_eq!(sim.ca_file(), dir.path().join("certs").join("ca.pem"));
    assert_eq!(v["ca_file"], sim.ca_file().display().to_string());
    assert_eq!(
        std::fs::read_to_string(sim.ca_file()).expect("ca.pem exists"),
        sim.ca_pem()
    );
    assert_eq!(
        sim.orgs(),
        vec![
            (ORG.into(), "Acme Logistics".into()),
            (ORG_B.into(), "Beta Bank".into())
        ]
    );
}

#[tokio::test]
async fn random_token_has_cbc_shape() {
    let sim = sim_with(SimOptions {
        token: None,
        ..opts()
    })
    .await;
    let (secret, id) = sim.token().split_once('/').expect("secret/id");
    assert_eq!(secret.len(), 24);
    assert_eq!(id.len(), 10);
    assert!(
        sim.token()
            .chars()
            .all(|c| c == '/' || c.is_ascii_uppercase() || c.is_ascii_digit())
    );
}

#[tokio::test]
async fn tls_is_verified_against_ca_pem_only() {
    let sim = sim().await;
    // Built-in roots do not know the simulator's CA.
    let default = Client::builder().build().expect("client");
    let err = default
        .get(format!("{}{ALERTS}/alerts/x", sim.url()))
        .send()
        .await;
    assert!(err.is_err(), "an unknown CA must be refused");
    // Trusting ca.pem works, also under the name localhost.
    let http = client(&sim);
    let url = format!(
        "https://localhost:{}{ALERTS}/alerts/{}",
        sim.addr().port(),
        alert_id(1)
    );
    let resp = http
        .get(url)
        .header("X-Auth-Token", TOKEN)
        .send()
        .await
        .expect("TLS verifies");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_missing_or_doubled_token_is_401() {
    let api = Api::new().await;
    let url = format!("{}{ALERTS}/alerts/{}", api.sim.url(), alert_id(1));
    let missing = api.http.get(&url).send().await.expect("answered");
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let body: Value = missing.json().await.expect("JSON 401");
    assert_eq!(body["error_code"], "UNAUTHORIZED");
    let wrong = api
        .http
        .get(&url)
        .header("X-Auth-Token", "NOPE/NOPE")
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let doubled = api
        .http
        .get(&url)
        .header("X-Auth-Token", TOKEN)
        .header("X-Auth-Token", TOKEN)
        .send()
        .await
        .expect("answered");
    assert_eq!(doubled.status(), StatusCode::UNAUTHORIZED);
    let ok = api
        .http
        .get(&url)
        .header("X-Auth-Token", TOKEN)
        .send()
        .await
        .expect("answered");
    assert_eq!(ok.status(), StatusCode::OK);
    let recs = api.sim.requests();
    assert_eq!(recs.len(), 4);
    assert_eq!(
        recs.iter().map(|r| r.auth_ok).collect::<Vec<_>>(),
        vec![false, false, false, true]
    );
    assert_eq!(
        recs.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![401, 401, 401, 200]
    );
    assert!(
        recs.iter()
            .all(|r| r.method == "GET" && r.path.ends_with(&alert_id(1)))
    );
}

// ------------------------------------------------------------------------------------------------
// Alerts

#[tokio::test]
async fn default_search_counts_and_orders_newest_first() {
    let api = Api::new().await;
    let page = api.search(json!({})).await;
    assert_eq!(num(&page["num_found"]), 24);
    assert_eq!(num(&page["num_available"]), 24);
    let got = ids(&page);
    assert_eq!(got.len(), 24, "default rows is 100");
    assert_eq!(got[0], alert_id(1));
    assert_eq!(got[1], alert_id(2));
    assert_eq!(got[23], alert_id(900));
    assert!(page.get("errorMessage").is_none());
    let stamps: Vec<Timestamp> = page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|a| {
            a["backend_timestamp"]
                .as_str()
                .expect("ts")
                .parse()
                .expect("iso")
        })
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] >= w[1]),
        "backend_timestamp DESC"
    );
    // Org B is separate.
    let (s, b) = api
        .post(
            &format!("/api/alerts/v7/orgs/{ORG_B}/alerts/_search"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids(&b), vec![alert_id(4000)]);
}

#[tokio::test]
async fn criteria_exclusions_and_time_range_match_the_fixture() {
    let api = Api::new().await;
    let all = fixture_alerts();
    let now = Timestamp::now();
    let expect =
        |pred: &dyn Fn(&Doc) -> bool| -> u64 { all.iter().filter(|a| pred(a)).count() as u64 };
    let status = |a: &Doc| a["workflow"]["status"].as_str().unwrap_or("").to_string();
    let sev = |a: &Doc| a["severity"].as_i64().unwrap_or(0);
    let recent = |a: &Doc| {
        let t: Timestamp = a["backend_timestamp"]
            .as_str()
            .unwrap_or("")
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        t >= now - hours(30 * 24)
    };

    // The probe's first search.
    let probe = api
        .search(json!({
            "criteria": {"minimum_severity": 1, "workflow_status": ["OPEN", "IN_PROGRESS"]},
            "rows": 2,
            "sort": [{"field": "backend_timestamp", "order": "DESC"}],
            "time_range": {"range": "-30d"}
        }))
        .await;
    let want = expect(&|a| status(a) != "CLOSED" && recent(a));
    assert_eq!(num(&probe["num_found"]), want);
    assert_eq!(ids(&probe), vec![alert_id(1), alert_id(2)]);

    let p = api
        .search(json!({"criteria": {"minimum_severity": 7, "workflow_status": ["OPEN"]}}))
        .await;
    assert_eq!(
        num(&p["num_found"]),
        expect(&|a| sev(a) >= 7 && status(a) == "OPEN")
    );

    let p = api
        .search(json!({"criteria": {"device_id": ["5002", 5003], "type": ["DEVICE_CONTROL"]}}))
        .await;
    let want = expect(&|a| {
        [5002, 5003].contains(&a["device_id"].as_i64().unwrap_or(0))
            && a["type"] == "DEVICE_CONTROL"
    });
    assert!(want > 0);
    assert_eq!(num(&p["num_found"]), want);

    let p = api
        .search(json!({"exclusions": {"type": ["DEVICE_CONTROL"], "severity": [9]}}))
        .await;
    assert_eq!(
        num(&p["num_found"]),
        expect(&|a| a["type"] != "DEVICE_CONTROL" && sev(a) != 9)
    );

    let p = api
        .search(json!({"criteria": {"backend_timestamp": {"range": "-1d"}}}))
        .await;
    assert_eq!(
        num(&p["num_found"]),
        expect(&|a| {
            let t: Timestamp = a["backend_timestamp"]
                .as_str()
                .unwrap_or("")
                .parse()
                .unwrap_or(Timestamp::UNIX_EPOCH);
            t >= now - hours(24)
        })
    );

    let start = iso(now - hours(12));
    let end = iso(now - hours(9));
    let p = api
        .search(json!({"time_range": {"start": start, "end": end}}))
        .await;
    assert_eq!(
        num(&p["num_found"]),
        2,
        "fillers 0 and 1 are 10.5 and 11.5 hours old, filler 2 12.5"
    );
}

#[tokio::test]
async fn lucene_queries() {
    let api = Api::new().await;
    let count = |q: &str| {
        let q = q.to_string();
        let api = &api;
        async move { num(&api.search(json!({"query": q})).await["num_found"]) }
    };
    assert_eq!(
        count("process_name:powershell.exe AND device_name:WIN-FIN-01").await,
        1
    );
    assert_eq!(count("reason:\"filler 1\" OR reason:\"filler 2\"").await, 2);
    assert_eq!(count("reason:filler*").await, 20);
    assert_eq!(
        count("reason:filler* AND NOT device_name:lnx-web-01").await,
        14
    );
    assert_eq!(
        count("(type:WATCHLIST OR type:DEVICE_CONTROL) -severity:9").await,
        9
    );
    assert_eq!(count("severity:[8 TO 10]").await, 8);
    assert_eq!(count("workflow_status:IN_PROGRESS").await, 5);
    assert_eq!(
        count("Credential").await,
        1,
        "bare terms search every text field"
    );
    assert_eq!(count("").await, 24);

    for bad in ["device_name:(a", "AND x", "severity:[1 TO", "\"open"] {
        let (s, v) = api
            .post(&format!("{ALERTS}/alerts/_search"), json!({"query": bad}))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(v["reason"], "query_malformed_syntax", "{bad}");
    }
}

#[tokio::test]
async fn paging_is_one_based_and_complete() {
    let api = Api::new().await;
    let full = ids(&api.search(json!({"rows": 100})).await);
    let mut paged = Vec::new();
    let mut start = 1;
    loop {
        let page = api.search(json!({"rows": 5, "start": start})).await;
        let got = ids(&page);
        let found = num(&page["num_found"]) as usize;
        if start <= found {
            assert!(
                !got.is_empty(),
                "results must not be empty while start <= num_found"
            );
        } else {
            assert!(got.is_empty());
            break;
        }
        start += got.len();
        paged.extend(got);
    }
    assert_eq!(paged, full);
    // `start: 0` is the first row too (the SDK omits start on page one).
    assert_eq!(
        ids(&api.search(json!({"rows": 1, "start": 0})).await),
        vec![alert_id(1)]
    );
    assert_eq!(
        ids(&api.search(json!({"rows": 1, "start": 2})).await),
        vec![alert_id(2)]
    );
}

#[tokio::test]
async fn sort_on_any_field_and_direction() {
    let api = Api::new().await;
    let page = api
        .search(json!({"sort": [{"field": "severity", "order": "ASC"}], "rows": 100}))
        .await;
    let sev: Vec<i64> = page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|a| a["severity"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(sev.len(), 24);
    assert!(sev.windows(2).all(|w| w[0] <= w[1]), "{sev:?}");
    let page = api
        .search(json!({"sort": [{"field": "backend_timestamp", "order": "ASC"}], "rows": 1}))
        .await;
    assert_eq!(ids(&page), vec![alert_id(900)]);
    let page = api
        .search(json!({"sort": [{"field": "device_name", "order": "DESC"}, {"field": "severity", "order": "DESC"}], "rows": 1}))
        .await;
    assert_eq!(page["results"][0]["device_name"], "WIN-HR-02");
    let (s, v) = api
        .post(
            &format!("{ALERTS}/alerts/_search"),
            json!({"sort": [{"order": "ASC"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn deep_paging_and_bad_bodies_are_400() {
    let api = Api::new().await;
    let path = format!("{ALERTS}/alerts/_search");
    let (s, _) = api.post(&path, json!({"start": 9996, "rows": 6})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "start + rows - 1 = 10001");
    let (s, v) = api.post(&path, json!({"start": 9995, "rows": 6})).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "start + rows - 1 = 10000 is allowed: {v}"
    );
    assert_eq!(num(&v["num_available"]), 24);
    let (s, _) = api
        .post(&path, json!({"start": u64::MAX, "rows": 10}))
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "huge start is refused, not overflowed"
    );
    let (s, _) = api.post(&path, json!({"rows": 10_001})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = api.post(&path, json!({"rows": -1})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error_code"], "INVALID_ARGUMENT");
    let (s, _) = api
        .post(&path, json!({"criteria": {"severity": [{"nested": 1}]}}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api.post(&path, json!(["not", "an", "object"])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let resp = api
        .http
        .post(format!("{}{path}", api.sim.url()))
        .header("X-Auth-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body("{\"criteria\": ")
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: Value = resp.json().await.expect("JSON error");
    assert_eq!(v["error_code"], "MALFORMED_JSON");
}

#[tokio::test]
async fn get_alert_and_facets() {
    let api = Api::new().await;
    let (s, a) = api.get(&format!("{ALERTS}/alerts/{}", alert_id(2))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(a["id"], alert_id(2));
    assert_eq!(a["type"], "WATCHLIST");
    let (s, v) = api.get(&format!("{ALERTS}/alerts/{}", alert_id(777))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error_code"], "NOT_FOUND");

    let (s, f) = api
        .post(
            &format!("{ALERTS}/alerts/_facet"),
            json!({"terms": {"fields": ["type", "device_name"], "rows": 0}, "time_range": {"range": "-30d"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{f}");
    let results = f["results"].as_array().expect("results");
    assert_eq!(results[0]["field"], "type");
    let total: u64 = results[0]["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| num(&v["total"]))
        .sum();
    assert_eq!(total, 23, "the 40-day-old alert is outside -30d");
    assert_eq!(
        results[0]["values"][0],
        json!({"id": "CB_ANALYTICS", "name": "CB_ANALYTICS", "total": 12})
    );
    assert_eq!(results[1]["values"].as_array().expect("values").len(), 3);
    let (s, _) = api
        .post(
            &format!("{ALERTS}/alerts/_facet"),
            json!({"terms": {"fields": []}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn notes_persist_and_are_validated() {
    let api = Api::new().await;
    let notes = format!("{ALERTS}/alerts/{}/notes", alert_id(2));
    let (s, n1) = api.post(&notes, json!({"note": "triage started"})).await;
    assert_eq!(s, StatusCode::OK, "{n1}");
    assert_eq!(n1["note"], "triage started");
    assert_eq!(n1["author"], "TESTAPIID1");
    assert_eq!(n1["source"], "CUSTOMER");
    assert!(n1["parent_id"].is_null() && n1["read_history"].is_null() && n1["thread"].is_null());
    assert!(
        n1["create_timestamp"]
            .as_str()
            .is_some_and(|t| t.parse::<Timestamp>().is_ok())
    );
    let (_, n2) = api.post(&notes, json!({"note": "second"})).await;

    let (s, list) = api.get(&notes).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(num(&list["num_found"]), 2);
    assert_eq!(num(&list["num_available"]), 2);
    assert_eq!(list["results"][0]["id"], n1["id"]);
    let alert = api.sim.alert(ORG, &alert_id(2)).expect("alert");
    assert_eq!(alert["alert_notes_present"], true);
    assert!(
        alert["backend_update_timestamp"].as_str()
            > Some(alert["backend_timestamp"].as_str().unwrap_or(""))
    );

    let (s, h) = api
        .get(&format!("{ALERTS}/alerts/{}/history", alert_id(2)))
        .await;
    assert_eq!(s, StatusCode::OK);
    let types: Vec<&str> = h["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        types,
        vec![
            "USER_WORKFLOW_UPDATE",
            "ALERT_NOTE_ADDED",
            "ALERT_NOTE_ADDED"
        ]
    );
    assert_eq!(h["history"][0]["workflow"]["changed_by"], "ALERT_CREATION");

    let note_id = n2["id"].as_str().expect("id");
    let (s, _, body) = api
        .call(Method::DELETE, &format!("{notes}/{note_id}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(body.is_null());
    let (s, _, _) = api
        .call(Method::DELETE, &format!("{notes}/{note_id}"), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(num(&api.get(&notes).await.1["num_found"]), 1);

    let (s, _) = api.post(&notes, json!({"note": "x".repeat(20_001)})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api.post(&notes, json!({"note": "x".repeat(20_000)})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api.post(&notes, json!({"text": "wrong key"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api
        .post(
            &format!("{ALERTS}/alerts/{}/notes", alert_id(777)),
            json!({"note": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn workflow_closes_alerts_through_a_completed_job() {
    let api = Api::new().await;
    let before = api.sim.alert(ORG, &alert_id(1)).expect("alert");
    let request = json!({
        "criteria": {"id": [alert_id(1), alert_id(2)]},
        "status": "CLOSED",
        "closure_reason": "RESOLVED",
        "determination": "TRUE_POSITIVE",
        "note": "contained by MDR"
    });
    let (s, r) = api
        .post(&format!("{ALERTS}/alerts/workflow"), request.clone())
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let request_id = r["request_id"].as_str().expect("request_id is a string");
    assert!(request_id.parse::<u64>().is_ok());

    let (s, job) = api
        .get(&format!("/jobs/v1/orgs/{ORG}/jobs/{request_id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(job["status"], "COMPLETED");
    assert_eq!(job["progress"]["num_total"], 2);
    assert_eq!(job["progress"]["num_completed"], 2);
    assert_eq!(job["job_parameters"]["job_parameters"]["request"], request);
    assert_eq!(
        job["id"].as_u64().map(|n| n.to_string()).as_deref(),
        Some(request_id)
    );
    let (s, p) = api
        .get(&format!("/jobs/v1/orgs/{ORG}/jobs/{request_id}/progress"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(p["num_completed"], 2);

    let (_, a) = api.get(&format!("{ALERTS}/alerts/{}", alert_id(1))).await;
    assert_eq!(a["workflow"]["status"], "CLOSED");
    assert_eq!(a["workflow"]["closure_reason"], "RESOLVED");
    assert_eq!(a["workflow"]["changed_by_type"], "API");
    assert_eq!(a["workflow"]["changed_by"], "TESTAPIID1");
    assert_eq!(a["determination"]["value"], "TRUE_POSITIVE");
    assert_eq!(a["alert_notes_present"], true);
    assert!(a["backend_update_timestamp"].as_str() > before["backend_update_timestamp"].as_str());
    assert_eq!(a["user_update_timestamp"], a["backend_update_timestamp"]);
    let (_, notes) = api
        .get(&format!("{ALERTS}/alerts/{}/notes", alert_id(1)))
        .await;
    assert_eq!(notes["results"][0]["note"], "contained by MDR");
    let (_, h) = api
        .get(&format!("{ALERTS}/alerts/{}/history", alert_id(1)))
        .await;
    let types: Vec<&str> = h["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        types,
        vec![
            "USER_WORKFLOW_UPDATE",
            "USER_WORKFLOW_UPDATE",
            "USER_DETERMINATION_UPDATE",
            "ALERT_NOTE_ADDED"
        ]
    );

    // Polling by backend_update_timestamp finds exactly the changed alerts.
    let since = before["backend_update_timestamp"].as_str().expect("ts");
    let changed = api
        .search(json!({"criteria": {"backend_update_timestamp": {"start": since, "end": iso(Timestamp::now() + hours(1))}}}))
        .await;
    let mut got = ids(&changed);
    got.sort();
    assert_eq!(got, vec![alert_id(1), alert_id(2)]);
    let closed = api
        .search(json!({"criteria": {"workflow_status": ["CLOSED"]}}))
        .await;
    assert_eq!(num(&closed["num_found"]), 3);

    let path = format!("{ALERTS}/alerts/workflow");
    let (s, _) = api.post(&path, json!({"status": "CLOSED"})).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "closing every alert of the org needs a filter"
    );
    let (s, _) = api
        .post(
            &path,
            json!({"criteria": {"id": [alert_id(1)]}, "status": "DONE"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api.post(&path, json!({"criteria": {"id": [alert_id(1)]}, "status": "OPEN", "note": "y".repeat(20_001)})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api.get(&format!("/jobs/v1/orgs/{ORG}/jobs/1")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn changed_since_queries_find_every_changed_alert() {
    let api = Api::new().await;
    let now = Timestamp::now();
    let devs = org_a_devices();
    let spec = |n: u32| AlertSpec {
        n,
        kind: "CB_ANALYTICS",
        severity: 2,
        dev: &devs[0],
        at: now - SignedDuration::from_mins(5),
        status: "OPEN",
        process: ("", "c:\\x.exe"),
        reason: "odd update stamp".into(),
    };
    // Irregular `backend_update_timestamp`s: an array, and none at all.
    let mut odd = alert(ORG, spec(7001));
    odd.insert(
        "backend_update_timestamp".into(),
        json!([iso(now - SignedDuration::from_mins(10))]),
    );
    let mut missing = alert(ORG, spec(7002));
    missing.remove("backend_update_timestamp");
    assert!(api.sim.add_story(
        ORG,
        Story {
            alerts: vec![odd, missing],
            ..Story::default()
        }
    ));
    assert!(!api.sim.add_story("NOPE0000", Story::default()));
    assert_eq!(api.sim.alert_count(ORG), Some(26));

    let since = |start: Timestamp, end: Timestamp| json!({"criteria": {"backend_update_timestamp": {"start": iso(start), "end": iso(end)}}});
    let window = since(now - SignedDuration::from_mins(30), now + hours(1));
    assert_eq!(ids(&api.search(window.clone()).await), vec![alert_id(7001)]);
    let inverted = api.search(since(now, now - hours(1))).await;
    assert_eq!(num(&inverted["num_found"]), 0);

    let (s, _) = api
        .post(
            &format!("{ALERTS}/alerts/{}/notes", alert_id(2)),
            json!({"note": "seen"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut got = ids(&api.search(window.clone()).await);
    got.sort();
    assert_eq!(got, vec![alert_id(2), alert_id(7001)]);
    // With a time_range on backend_timestamp too (alert 2 was created two hours ago).
    let mut both = window.clone();
    both["time_range"] = json!({"range": "-90m"});
    assert_eq!(ids(&api.search(both).await), vec![alert_id(7001)]);
    // A window that is exactly the stamp the change wrote.
    let stamp: Timestamp =
        api.sim.alert(ORG, &alert_id(2)).expect("alert")["backend_update_timestamp"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("stamp");
    assert_eq!(
        ids(&api.search(since(stamp, stamp)).await),
        vec![alert_id(2)]
    );
}

// ------------------------------------------------------------------------------------------------
// Devices

#[tokio::test]
async fn device_search_and_get() {
    let api = Api::new().await;
    let path = format!("{APP}/devices/_search");
    let (s, v) = api
        .post(&path, json!({"criteria": {"os": ["WINDOWS"]}}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(num(&v["num_found"]), 2);
    assert!(v.get("num_available").is_none());
    let names: Vec<&str> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(names, vec!["WIN-FIN-01", "WIN-HR-02"]);
    let (_, v) = api
        .post(
            &path,
            json!({"rows": 1, "start": 2, "sort": [{"field": "name", "order": "DESC"}]}),
        )
        .await;
    assert_eq!(num(&v["num_found"]), 3);
    assert_eq!(v["results"][0]["name"], "WIN-FIN-01");
    let (_, v) = api
        .post(
            &path,
            json!({"query": "name:lnx*", "criteria": {"target_priority": ["MISSION_CRITICAL"]}}),
        )
        .await;
    assert_eq!(num(&v["num_found"]), 1);
    let (s, d) = api.get(&format!("{APP}/devices/5002")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(d["name"], "WIN-HR-02");
    assert_eq!(
        api.get(&format!("{APP}/devices/6001")).await.0,
        StatusCode::NOT_FOUND,
        "another org's device"
    );
    assert_eq!(
        api.get(&format!("{APP}/devices/abc")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn quarantine_is_pending_until_the_sensor_checks_in() {
    let api = Api::with(SimOptions {
        checkin: Duration::from_millis(400),
        ..opts()
    })
    .await;
    let (s, _, body) = api
        .call(
            Method::POST,
            &format!("{APP}/device_actions"),
            Some(json!({"action_type": "QUARANTINE", "device_id": [5001], "options": {"toggle": "ON"}})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(body.is_null(), "204 has no body");
    let (_, d) = api.get(&format!("{APP}/devices/5001")).await;
    assert_eq!(d["quarantined"], false, "not before check-in");
    assert_eq!(d["status"], "REGISTERED");
    assert_eq!(api.sim.device_quarantined(ORG, 5001), Some(false));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, d) = api.get(&format!("{APP}/devices/5001")).await;
    assert_eq!(d["quarantined"], true);
    assert_eq!(d["status"], "QUARANTINE");
    assert_ne!(d["last_contact_time"], "2024-05-01T00:00:00.000Z");
    let (_, v) = api
        .post(
            &format!("{APP}/devices/_search"),
            json!({"criteria": {"status": ["QUARANTINE"]}}),
        )
        .await;
    assert_eq!(num(&v["num_found"]), 1);
    assert_eq!(api.sim.device_quarantined(ORG, 5001), Some(true));
}

#[tokio::test]
async fn quarantine_with_zero_checkin_applies_before_the_reply() {
    let api = Api::new().await;
    let actions = format!("{APP}/device_actions");
    let on = json!({"action_type": "QUARANTINE", "device_id": [5002], "options": {"toggle": "ON"}});
    assert_eq!(api.post(&actions, on).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        api.get(&format!("{APP}/devices/5002")).await.1["quarantined"],
        true
    );
    let off = json!({"action_type": "QUARANTINE", "device_id": [5002, 99999], "options": {"toggle": "OFF"}});
    assert_eq!(
        api.post(&actions, off).await.0,
        StatusCode::NO_CONTENT,
        "unknown ids beside known ones are ignored"
    );
    let d = api.get(&format!("{APP}/devices/5002")).await.1;
    assert_eq!(
        (d["quarantined"].clone(), d["status"].clone()),
        (json!(false), json!("REGISTERED"))
    );

    // The `search` form (the SDK can send it; socdeck never does).
    let by_search = json!({"action_type": "QUARANTINE", "search": {"criteria": {"os": ["LINUX"]}}, "options": {"toggle": "ON"}});
    assert_eq!(
        api.post(&actions, by_search).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.sim.device_quarantined(ORG, 5003), Some(true));
    assert_eq!(api.sim.device_quarantined(ORG, 5001), Some(false));

    let policy = json!({"action_type": "UPDATE_POLICY", "device_id": [5001], "options": {"policy_id": 1002}});
    assert_eq!(api.post(&actions, policy).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        api.get(&format!("{APP}/devices/5001")).await.1["policy_name"],
        "Servers"
    );

    for (body, want) in [
        (
            json!({"action_type": "QUARANTINE", "device_id": [99999], "options": {"toggle": "ON"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"action_type": "QUARANTINE", "device_id": [5001]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"action_type": "QUARANTINE", "device_id": [], "options": {"toggle": "ON"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"action_type": "QUARANTINE", "device_id": ["x"], "options": {"toggle": "ON"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"action_type": "QUARANTINE", "options": {"toggle": "ON"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"action_type": "SELF_DESTRUCT", "device_id": [5001]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"action_type": "UPDATE_POLICY", "device_id": [5001], "options": {"policy_id": 4}}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        assert_eq!(api.post(&actions, body.clone()).await.0, want, "{body}");
    }
    assert_eq!(
        api.sim.device_quarantined(ORG, 5001),
        Some(false),
        "failed requests changed nothing"
    );
}

// ------------------------------------------------------------------------------------------------
// Reputation overrides

#[tokio::test]
async fn overrides_create_search_get_delete() {
    let api = Api::new().await;
    let base = format!("{APP}/reputations/overrides");
    let sha = "af62e6b3d475879c4234fe7bd8ba67ff6544ce6510131a069aaac75aa92aee7a";
    let ban = json!({"description": "banned", "override_list": "BLACK_LIST", "override_type": "SHA256", "sha256_hash": sha, "filename": "foo.exe"});
    let (s, o) = api.post(&base, ban.clone()).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    let id = o["id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(o["created_by"], "TESTAPIID1");
    assert!(
        o["create_time"]
            .as_str()
            .is_some_and(|t| t.parse::<Timestamp>().is_ok())
    );
    assert_eq!(
        api.post(&base, ban).await.1["id"],
        o["id"],
        "the same override is not created twice"
    );
    let tool = json!({"override_list": "WHITE_LIST", "override_type": "IT_TOOL", "path": "C:\\tools\\psexec.exe", "include_child_processes": true, "description": "admin tool"});
    assert_eq!(api.post(&base, tool).await.0, StatusCode::OK);

    let search = format!("{base}/_search");
    let (s, r) = api
        .post(
            &search,
            json!({"criteria": {"override_list": "BLACK_LIST", "override_type": "SHA256"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(num(&r["num_found"]), 1);
    assert_eq!(r["results"][0]["sha256_hash"], sha);
    assert_eq!(num(&api.post(&search, json!({})).await.1["num_found"]), 2);
    assert_eq!(
        num(&api.post(&search, json!({"query": "psexec"})).await.1["num_found"]),
        1
    );
    let (_, r) = api
        .post(
            &search,
            json!({"start": 1, "rows": 5, "sort_field": "override_type", "sort_order": "ASC"}),
        )
        .await;
    assert_eq!(r["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(r["results"][0]["override_type"], "SHA256");

    assert_eq!(
        api.get(&format!("{base}/{id}")).await.1["filename"],
        "foo.exe"
    );
    assert_eq!(
        api.call(Method::DELETE, &format!("{base}/{id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get(&format!("{base}/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.call(Method::DELETE, &format!("{base}/{id}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let rest: Vec<Value> = api.post(&search, json!({})).await.1["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rest_ids: Vec<Value> = rest.iter().map(|o| o["id"].clone()).collect();
    assert_eq!(
        api.post(&format!("{base}/_delete"), Value::Array(rest_ids))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(num(&api.post(&search, json!({})).await.1["num_found"]), 0);

    for bad in [
        json!({"override_list": "BLACK_LIST", "override_type": "IT_TOOL", "path": "c:\\x.exe"}),
        json!({"override_list": "BLACK_LIST", "override_type": "SHA256", "sha256_hash": "abc"}),
        json!({"override_list": "GREY_LIST", "override_type": "SHA256", "sha256_hash": sha}),
        json!({"override_list": "WHITE_LIST", "override_type": "CERT"}),
        json!({"override_type": "SHA256", "sha256_hash": sha}),
    ] {
        assert_eq!(
            api.post(&base, bad.clone()).await.0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Platform search

async fn finished_results(api: &Api, results_path: &str) -> Value {
    let (s, first) = api.get(results_path).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert!(num(&first["contacted"]) > 0);
    assert_eq!(
        num(&first["completed"]),
        0,
        "the first poll is still querying"
    );
    let (s, done) = api.get(results_path).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(done["completed"], done["contacted"]);
    done
}

#[tokio::test]
async fn process_search_job_polls_then_pages() {
    let api = Api::new().await;
    let (s, v) = api
        .post(
            &format!("{INV}/processes/search_validation"),
            json!({"query": "process_name:powershell.exe"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"valid": true, "value_search_query": false}));
    let (_, v) = api
        .post(
            &format!("{INV}/processes/search_validation"),
            json!({"query": "process_name:(powershell.exe"}),
        )
        .await;
    assert_eq!(v["valid"], false);
    assert!(v["invalid_message"].as_str().is_some_and(|m| !m.is_empty()));

    let (s, job) = api
        .post(
            &format!("{INV}/processes/search_jobs"),
            json!({"query": "process_name:powershell.exe", "rows": 10000, "sort": null}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let job_id = job["job_id"].as_str().expect("job_id");
    assert!(uuid_like(job_id));
    let results = format!("{INV}/processes/search_jobs/{job_id}/results");
    let done = finished_results(&api, &format!("{results}?start=0&rows=0")).await;
    assert_eq!(num(&done["num_found"]), 1);
    assert_eq!(num(&done["num_available"]), 1);
    assert_eq!(done["results"], json!([]), "rows=0 returns no rows");
    let (_, page) = api.get(&format!("{results}?start=0&rows=500")).await;
    assert_eq!(page["results"][0]["process_guid"], G_PS);
    assert_eq!(page["results"][0]["parent_guid"], G_EXPLORER);

    // Paging and sorting over every process on the device.
    let (_, job) = api
        .post(
            &format!("{INV}/processes/search_jobs"),
            json!({"query": "device_name:WIN-FIN-01", "sort": [{"field": "process_name", "order": "ASC"}]}),
        )
        .await;
    let results = format!(
        "{INV}/processes/search_jobs/{}/results",
        job["job_id"].as_str().expect("job_id")
    );
    let done = finished_results(&api, &results).await;
    assert_eq!(num(&done["num_available"]), 5);
    let (_, p2) = api.get(&format!("{results}?start=3&rows=2")).await;
    let names: Vec<&str> = p2["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|p| p["process_name"].as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "c:\\windows\\system32\\whoami.exe",
            "c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe"
        ]
    );

    let (s, v) = api
        .post(
            &format!("{INV}/processes/search_jobs"),
            json!({"query": "process_name:(x"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["reason"], "query_malformed_syntax");
    assert_eq!(
        api.get(&format!(
            "{INV}/processes/search_jobs/{}/results",
            alert_id(1)
        ))
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get(&format!("{results}?start=x")).await.0,
        StatusCode::BAD_REQUEST
    );

    let (_, d) = api
        .post(
            &format!("{INV}/processes/detail_jobs"),
            json!({"process_guids": [G_NET, "nope"]}),
        )
        .await;
    let det = finished_results(
        &api,
        &format!(
            "{INV}/processes/detail_jobs/{}/results",
            d["job_id"].as_str().expect("job_id")
        ),
    )
    .await;
    assert_eq!(num(&det["num_found"]), 1);
    assert_eq!(det["results"][0]["process_guid"], G_NET);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|&c| c == '-').count() == 4
}

#[tokio::test]
async fn process_tree_and_summary_shapes() {
    let api = Api::new().await;
    let create = |guid: &str| {
        let body = json!({ "process_guid": guid });
        let api = &api;
        async move {
            let (s, v) = api
                .post(&format!("{INV}/processes/summary_jobs"), body)
                .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            format!(
                "{INV}/processes/summary_jobs/{}/results",
                v["job_id"].as_str().expect("job_id")
            )
        }
    };
    let results = create(G_PS).await;
    finished_results(&api, &format!("{results}?format=summary")).await;
    let (s, tree) = api.get(&format!("{results}?format=tree")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(tree["exception"], "");
    assert_eq!(tree["completed"], tree["contacted"]);
    let root = &tree["tree"];
    assert_eq!(
        root["process_guid"], G_EXPLORER,
        "the tree starts at the root ancestor"
    );
    let kids = root["children"].as_array().expect("children");
    let kid_guids: Vec<&str> = kids
        .iter()
        .filter_map(|k| k["process_guid"].as_str())
        .collect();
    assert_eq!(kid_guids, vec![G_PS, G_NOTEPAD]);
    let grandkids: Vec<&str> = kids[0]["children"]
        .as_array()
        .expect("children")
        .iter()
        .filter_map(|k| k["process_guid"].as_str())
        .collect();
    assert_eq!(grandkids, vec![G_WHOAMI, G_NET]);
    assert_eq!(kids[1]["children"], json!([]), "leaves have empty children");

    let results = create(G_PS).await;
    finished_results(&api, &format!("{results}?format=summary")).await;
    let (_, sum) = api.get(&format!("{results}?format=summary")).await;
    assert_eq!(sum["exception"], "");
    let s = &sum["summary"];
    assert_eq!(s["process"]["process_guid"], G_PS);
    assert_eq!(s["parent"]["process_guid"], G_EXPLORER);
    assert_eq!(s["children"].as_array().map(Vec::len), Some(2));
    assert_eq!(s["siblings"][0]["process_guid"], G_NOTEPAD);
    assert_eq!(s["siblings"].as_array().map(Vec::len), Some(1));

    let results = create(G_SVCHOST).await;
    finished_results(&api, &results).await;
    let sum = api.get(&results).await.1;
    assert!(sum["summary"]["parent"].is_null(), "a root has no parent");

    let (s, _) = api
        .post(
            &format!("{INV}/processes/summary_jobs"),
            json!({"process_guid": "nope"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .post(&format!("{INV}/processes/summary_jobs"), json!({}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn observations_search_and_details_by_alert() {
    let api = Api::new().await;
    let (s, job) = api
        .post(
            &format!("{INV}/observations/search_jobs"),
            json!({"query": "enriched_event_type:NETWORK AND netconn_port:445", "rows": 500}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let results = format!(
        "{INV}/observations/search_jobs/{}/results",
        job["job_id"].as_str().expect("job_id")
    );
    let done = finished_results(&api, &results).await;
    assert_eq!(num(&done["num_available"]), 1);
    let (_, page) = api.get(&format!("{results}?start=0&rows=500")).await;
    assert_eq!(page["results"][0]["netconn_port"], 445);

    let (s, d) = api
        .post(
            &format!("{INV}/observations/detail_jobs"),
            json!({"alert_id": alert_id(1)}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let det = finished_results(
        &api,
        &format!(
            "{INV}/observations/detail_jobs/{}/results",
            d["job_id"].as_str().expect("job_id")
        ),
    )
    .await;
    assert_eq!(num(&det["num_found"]), 2);
    let ports: Vec<u64> = det["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|o| o["netconn_port"].as_u64())
        .collect();
    assert_eq!(ports, vec![445, 3389]);
    assert_eq!(
        det["results"][0]["netconn_ipv4"], 167772166,
        "full detail documents"
    );

    let obs_id = "8fbccc2da75f11ed937ae3cb089984c7:00000000-0000-4000-8000-000000000001";
    let (_, d) = api
        .post(
            &format!("{INV}/observations/detail_jobs"),
            json!({"observation_ids": [obs_id]}),
        )
        .await;
    let det = finished_results(
        &api,
        &format!(
            "{INV}/observations/detail_jobs/{}/results",
            d["job_id"].as_str().expect("job_id")
        ),
    )
    .await;
    assert_eq!(det["results"][0]["observation_id"], obs_id);

    let (_, d) = api
        .post(
            &format!("{INV}/observations/detail_jobs"),
            json!({"alert_id": alert_id(2)}),
        )
        .await;
    let det = finished_results(
        &api,
        &format!(
            "{INV}/observations/detail_jobs/{}/results",
            d["job_id"].as_str().expect("job_id")
        ),
    )
    .await;
    assert_eq!(num(&det["num_found"]), 0);
    let (s, _) = api
        .post(
            &format!("{INV}/observations/detail_jobs"),
            json!({"alert_id": "x", "observation_ids": ["y"]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // A job's results are only served under its own family.
    assert_eq!(
        api.get(&format!(
            "{INV}/processes/detail_jobs/{}/results",
            d["job_id"].as_str().expect("job_id")
        ))
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

// ------------------------------------------------------------------------------------------------
// Errors, faults, limits

#[tokio::test]
async fn unknown_org_route_and_method() {
    let api = Api::new().await;
    let (s, v) = api
        .post("/api/alerts/v7/orgs/NOPE0000/alerts/_search", json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error_code"], "NOT_FOUND");
    let (s, v) = api.get("/api/alerts/v7/orgs/ACME1234/nothing/here").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error_code"], "NOT_FOUND");
    let (s, v) = api.get(&format!("{ALERTS}/alerts/_search")).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert!(v["message"].is_string());
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let api = Api::with(SimOptions {
        rate_limit_per_min: Some(3),
        ..opts()
    })
    .await;
    let path = format!("{ALERTS}/alerts/{}", alert_id(1));
    for _ in 0..3 {
        assert_eq!(api.get(&path).await.0, StatusCode::OK);
    }
    let (s, headers, body) = api.call(Method::GET, &path, None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let secs: u64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&secs), "{secs}");
    assert_eq!(body["error_code"], "TOO_MANY_REQUESTS");
    // Still limited: the rejected request counted too.
    assert_eq!(
        api.call(Method::GET, &path, None).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn injected_faults_are_consumed_in_order() {
    let api = Api::new().await;
    let path = format!("{ALERTS}/alerts/{}", alert_id(1));
    api.sim.inject(Fault {
        retry_after: Some("7".into()),
        ..Fault::status("/alerts/0000", 503, 2)
    });
    api.sim.inject(Fault {
        method: Some("POST".into()),
        ..Fault::status("_search", 502, 1)
    });
    api.sim.inject(Fault::status("history", 429, 1));
    for _ in 0..2 {
        let (s, h, v) = api.call(Method::GET, &path, None).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            h.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("7")
        );
        assert!(v["error_code"].is_string());
    }
    assert_eq!(
        api.get(&path).await.0,
        StatusCode::OK,
        "the fault was used up"
    );
    assert_eq!(
        api.get(&format!("{ALERTS}/alerts/_search")).await.0,
        StatusCode::METHOD_NOT_ALLOWED,
        "GET does not match a POST fault"
    );
    assert_eq!(
        api.post(&format!("{ALERTS}/alerts/_search"), json!({}))
            .await
            .0,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        api.post(&format!("{ALERTS}/alerts/_search"), json!({}))
            .await
            .0,
        StatusCode::OK
    );
    let (s, h, _) = api
        .call(Method::GET, &format!("{path}/history"), None)
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        h.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1"),
        "every 429 has Retry-After"
    );
    let statuses: Vec<u16> = api.sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![503, 503, 200, 405, 502, 200, 429]);
}

#[tokio::test]
async fn hanging_fault_outlasts_a_client_timeout_and_the_write_still_lands() {
    let api = Api::new().await;
    let notes = format!("{ALERTS}/alerts/{}/notes", alert_id(1));
    api.sim.inject(Fault {
        method: Some("POST".into()),
        ..Fault::hang("/notes", Duration::from_millis(1200))
    });
    let impatient = Client::builder()
        .tls_certs_only([Certificate::from_pem(api.sim.ca_pem().as_bytes()).expect("pem")])
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let err = impatient
        .post(format!("{}{notes}", api.sim.url()))
        .header("X-Auth-Token", TOKEN)
        .json(&json!({"note": "sent into the void"}))
        .send()
        .await;
    assert!(err.is_err_and(|e| e.is_timeout()));
    let recs = api.sim.requests();
    assert_eq!(recs.len(), 1, "the server saw the request");
    assert_eq!(recs[0].status, 0, "and has not answered it yet");
    assert_eq!(
        num(&api.get(&notes).await.1["num_found"]),
        0,
        "not applied during the delay"
    );

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (_, list) = api.get(&notes).await;
    assert_eq!(
        list["results"][0]["note"], "sent into the void",
        "applied after the delay although nobody waited"
    );
    assert_eq!(api.sim.requests()[0].status, 200);

    // Status 0 with a short delay is just a slow answer.
    api.sim
        .inject(Fault::hang("/history", Duration::from_millis(300)));
    let t0 = std::time::Instant::now();
    assert_eq!(
        api.get(&format!("{ALERTS}/alerts/{}/history", alert_id(1)))
            .await
            .0,
        StatusCode::OK
    );
    assert!(t0.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn fail_rate_and_latency() {
    let api = Api::with(SimOptions {
        fail_rate: 1.0,
        ..opts()
    })
    .await;
    for _ in 0..6 {
        let s = api.get(&format!("{ALERTS}/alerts/{}", alert_id(1))).await.0;
        assert!([500, 502, 503].contains(&s.as_u16()), "{s}");
    }
    let api = Api::with(SimOptions {
        latency: Duration::from_millis(250),
        ..opts()
    })
    .await;
    let t0 = std::time::Instant::now();
    assert_eq!(
        api.get(&format!("{ALERTS}/alerts/{}", alert_id(1))).await.0,
        StatusCode::OK
    );
    assert!(t0.elapsed() >= Duration::from_millis(250));
    assert!(
        start_with_source(
            SimOptions {
                fail_rate: 1.5,
                ..opts()
            },
            Box::new(Fixture { live: 0 })
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn requests_record_bodies() {
    let api = Api::new().await;
    let body =
        json!({"action_type": "QUARANTINE", "device_id": [5001], "options": {"toggle": "ON"}});
    api.post(&format!("{APP}/device_actions"), body.clone())
        .await;
    api.get(&format!(
        "{INV}/processes/search_jobs/x/results?start=0&rows=5"
    ))
    .await;
    let recs = api.sim.requests();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].method, "POST");
    assert_eq!(recs[0].status, 204);
    let sent: Value =
        serde_json::from_str(recs[0].body.as_deref().expect("body kept")).expect("JSON");
    assert_eq!(sent, body);
    assert_eq!(recs[1].query.as_deref(), Some("start=0&rows=5"));
    assert!(recs[1].body.is_none());
    assert!(recs[0].seq < recs[1].seq);
    api.sim.clear_requests();
    assert!(api.sim.requests().is_empty());
}

#[tokio::test]
async fn live_stories_arrive_at_the_configured_rate() {
    let o = SimOptions {
        rate_per_min: 600.0,
        ..opts()
    };
    let sim = start_with_source(o, Box::new(Fixture { live: 3 }))
        .await
        .expect("starts");
    assert_eq!(sim.alert_count(ORG_B), Some(1));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sim.alert_count(ORG_B) != Some(4) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        sim.alert_count(ORG_B),
        Some(4),
        "three live stories arrived, then the source ran dry"
    );
    assert_eq!(sim.alert_count(ORG), Some(24));
    let http = client(&sim);
    let page: Value = http
        .post(format!(
            "{}/api/alerts/v7/orgs/{ORG_B}/alerts/_search",
            sim.url()
        ))
        .header("X-Auth-Token", TOKEN)
        .json(&json!({"rows": 1}))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        page["results"][0]["reason"], "live",
        "the newest alert is live"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sim = sim().await;
    let http = client(&sim);
    let url = format!("{}{ALERTS}/alerts/{}", sim.url(), alert_id(1));
    assert!(
        http.get(&url)
            .header("X-Auth-Token", TOKEN)
            .send()
            .await
            .is_ok()
    );
    sim.shutdown().await;
    assert!(
        http.get(&url)
            .header("X-Auth-Token", TOKEN)
            .send()
            .await
            .is_err(),
        "nothing answers after shutdown"
    );
}

/// Serves the fixture on a fixed port until killed, for running the official SDK probe:
/// `SIM_PORT=18443 cargo test --test sim_http -- --ignored --nocapture serve_fixture_for_probe`
/// then `python3 ../shared/sdk-check/probe.py --url URL --token TOKEN --org ACME1234 --ca-file CA --mutate`.
#[tokio::test]
#[ignore = "serves forever; run by hand for the SDK probe"]
async fn serve_fixture_for_probe() {
    let port: u16 = std::env::var("SIM_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(18443);
    let o = SimOptions {
        listen: ([127, 0, 0, 1], port).into(),
        ..opts()
    };
    let sim = sim_with(o).await;
    println!("{}", sim.banner_json());
    tokio::time::sleep(Duration::from_secs(3600)).await;
}
