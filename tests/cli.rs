//! The real binary's command line: what a user types, what they see.

use std::process::Command;

fn socdeck() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_socdeck"));
    // Never pick up the developer's own credentials or config.
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "HOME",
            std::env::temp_dir().join("socdeck-cli-test-home-does-not-exist"),
        );
    c
}

#[test]
fn a_token_on_the_command_line_is_refused_with_guidance() {
    let out = socdeck()
        .args(["alerts", "--json", "--token", "SECRET-CANARY/ID"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CBC_TOKEN"), "{err}");
    assert!(err.contains("ps"), "{err}");
    assert!(!err.contains("SECRET-CANARY"), "the token is echoed: {err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn alerts_without_any_credentials_says_how_to_configure() {
    let out = socdeck().args(["alerts", "--json"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    assert!(
        err.contains("CBC_URL") || err.contains("credentials.cbc"),
        "{err}"
    );
}

#[test]
fn an_http_url_is_refused() {
    let out = socdeck()
        .args(["alerts", "--json"])
        .env("CBC_URL", "http://127.0.0.1:9")
        .env("CBC_TOKEN", "CANARYSECRET/ID")
        .env("CBC_ORG_KEY", "ORG1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("https"), "{err}");
    assert!(!err.contains("CANARYSECRET"), "{err}");
}

/// Starts a simulator in this test process and returns it with the env for the binary.
fn sim_env(rt: &tokio::runtime::Runtime) -> (socdeck::sim::SimHandle, Vec<(&'static str, String)>) {
    let sim = rt
        .block_on(socdeck::sim::start(socdeck::sim::SimOptions {
            seed: 21,
            backlog: 30,
            rate_per_min: 0.0,
            ..Default::default()
        }))
        .unwrap();
    let env = vec![
        ("CBC_URL", sim.url().to_string()),
        ("CBC_TOKEN", sim.token().to_string()),
        ("CBC_ORG_KEY", sim.orgs()[0].0.clone()),
    ];
    (sim, env)
}

#[test]
fn alerts_json_prints_open_alerts_with_their_sla_clock() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sim, env) = sim_env(&rt);
    let out = socdeck()
        .args(["alerts", "--json", "--ca-file"])
        .arg(sim.ca_file())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    assert!(!lines.is_empty());
    let mut last_deadline = String::new();
    for a in &lines {
        let status = a["workflow"]["status"].as_str().unwrap();
        assert!(status == "OPEN" || status == "IN_PROGRESS", "{status}");
        let sla = &a["sla"];
        let received: jiff::Timestamp = sla["received_at"].as_str().unwrap().parse().unwrap();
        let deadline: jiff::Timestamp = sla["deadline"].as_str().unwrap().parse().unwrap();
        let backend: jiff::Timestamp = a["backend_timestamp"].as_str().unwrap().parse().unwrap();
        assert_eq!(received, backend);
        assert_eq!(
            deadline.duration_since(received),
            jiff::SignedDuration::from_mins(60)
        );
        let remaining = sla["remaining_s"].as_i64().unwrap();
        let band = sla["band"].as_str().unwrap();
        let expected = match remaining {
            r if r < 0 => "breached",
            r if r <= 600 => "critical",
            r if r <= 1200 => "warning",
            _ => "normal",
        };
        assert_eq!(band, expected, "remaining {remaining}");
        // Most urgent first.
        let d = sla["deadline"].as_str().unwrap().to_string();
        assert!(
            last_deadline.is_empty()
                || deadline >= last_deadline.parse::<jiff::Timestamp>().unwrap()
        );
        last_deadline = d;
    }
    // --all includes closed alerts too, so never fewer lines.
    let all = socdeck()
        .args(["alerts", "--json", "--all", "--ca-file"])
        .arg(sim.ca_file())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(all.status.success());
    assert!(String::from_utf8_lossy(&all.stdout).lines().count() >= lines.len());
}

#[test]
fn alerts_json_with_a_wrong_token_fails_with_one_line_and_no_secret() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sim, mut env) = sim_env(&rt);
    env[1].1 = "CANARYSECRETVALUE/CANARYID".into();
    let out = socdeck()
        .args(["alerts", "--json", "--ca-file"])
        .arg(sim.ca_file())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains("CANARY"), "{err}");
}

#[test]
fn alerts_json_against_a_dead_server_fails_with_one_clear_line() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = socdeck()
        .args(["alerts", "--json"])
        .env("CBC_URL", format!("https://127.0.0.1:{port}"))
        .env("CBC_TOKEN", "CANARYSECRET/ID")
        .env("CBC_ORG_KEY", "ORG1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot connect"), "{err}");
}

#[test]
fn check_config_names_file_and_line_and_fails_on_a_broken_theme() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".config/socdeck");
    std::fs::create_dir_all(dir.join("themes")).unwrap();
    std::fs::write(dir.join("config.toml"), "[ui]\ntheme = \"default\"\n").unwrap();
    std::fs::write(
        dir.join("themes/default.toml"),
        "name = \"default\"\n[styles]\nband_warning = { fg = \"yellowish\" }\n",
    )
    .unwrap();
    let run = || {
        socdeck()
            .arg("--check-config")
            .env("HOME", home.path())
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("themes/default.toml:3:"), "{text}");
    assert!(text.contains("yellowish"), "{text}");

    std::fs::remove_file(dir.join("themes/default.toml")).unwrap();
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A broken config file itself: named with its line, non-zero.
    std::fs::write(dir.join("config.toml"), "[ui]\ntheme = \n").unwrap();
    let out = run();
    assert_ne!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("config.toml:2"), "{text}");
}
