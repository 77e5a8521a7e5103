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
