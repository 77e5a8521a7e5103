//! RELIABILITY (dropped link): search pages are parsed while they arrive, so a page cut off
//! mid-body must fail cleanly, and a read retried after a stall must not keep the alerts the
//! first attempt had already parsed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::post;
use socdeck::cbc::model::{AlertSearch, AlertSummary};
use socdeck::cbc::{ApiError, Client, ClientConfig, RetryPolicy, Token};

#[path = "support/tls.rs"]
mod support_tls;
use support_tls::{serve, tls};

const SEARCH: &str = "/api/alerts/v7/orgs/ORG1/alerts/_search";

/// The first half of a two-alert page; the rest never comes.
const HEAD: &str = r#"{"results":[{"id":"a","severity":5},"#;
const PAGE: &str =
    r#"{"results":[{"id":"a","severity":5},{"id":"b"}],"num_found":2,"num_available":2}"#;

/// A body that sends `head` at once, then after `wait` ends with `last` (an error drops the
/// connection).
fn head_then(head: impl Into<Bytes>, wait: Duration, last: Result<Bytes, std::io::Error>) -> Body {
    let head = futures::stream::iter([Ok(head.into())]);
    let last = futures::stream::once(async move {
        tokio::time::sleep(wait).await;
        last
    });
    Body::from_stream(futures::StreamExt::chain(head, last))
}

fn client(port: u16, ca_pem: &str, timeout: Duration) -> Client {
    let mut cfg = ClientConfig::new(
        &format!("https://127.0.0.1:{port}"),
        "ORG1",
        Token::new("SECRET/ID").unwrap(),
    );
    cfg.ca_pem = Some(ca_pem.as_bytes().to_vec());
    cfg.timeout = timeout;
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    Client::new(cfg).unwrap()
}

#[tokio::test]
async fn a_page_cut_off_mid_body_fails_with_a_clear_error() {
    let tls = tls().await;
    let app = Router::new().route(
        SEARCH,
        post(|| async {
            // Half a page (headers and all on the wire), then the connection breaks.
            head_then(
                HEAD,
                Duration::from_millis(200),
                Err(std::io::Error::other("link dropped")),
            )
        }),
    );
    let addr = serve(app, tls.config.clone()).await;
    let c = client(addr.port(), &tls.ca_pem, Duration::from_secs(10));
    let e = c
        .search_alerts_all_as::<AlertSummary>(&AlertSearch::default())
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Decode { .. }), "{e}");
    assert!(e.to_string().contains("cut off"), "{e}");
}

#[tokio::test]
async fn a_read_retried_after_a_stall_keeps_only_the_second_attempt() {
    let tls = tls().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let app = Router::new().route(
        SEARCH,
        post(move || {
            let n = n.clone();
            async move {
                if n.fetch_add(1, Ordering::SeqCst) == 0 {
                    // First attempt: thousands of alerts (more than the reader's window, so
                    // they are parsed as they come), then silence past the client's timeout.
                    let mut head = String::from(r#"{"results":["#);
                    for i in 0..8000 {
                        head.push_str(&format!(r#"{{"id":"stale-{i}","severity":1}},"#));
                    }
                    head_then(head, Duration::from_secs(30), Ok(Bytes::new()))
                } else {
                    Body::from(PAGE)
                }
            }
        }),
    );
    let addr = serve(app, tls.config.clone()).await;
    let c = client(addr.port(), &tls.ca_pem, Duration::from_millis(800));
    let alerts = c
        .search_alerts_all_as::<AlertSummary>(&AlertSearch::default())
        .await
        .unwrap();
    // What the first attempt had parsed is gone; only the second attempt's page is there.
    let ids: Vec<_> = alerts.iter().map(|a| a.id()).collect();
    assert_eq!(ids, [Some("a"), Some("b")]);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_connection_broken_before_the_answer_says_so_and_reads_retry() {
    let tls = tls().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let app = Router::new().route(
        SEARCH,
        post(move || {
            let n = n.clone();
            async move {
                n.fetch_add(1, Ordering::SeqCst);
                // The body fails before anything is written: the server drops the connection
                // without an answer.
                Body::from_stream(futures::stream::iter([Err::<Bytes, _>(
                    std::io::Error::other("gone"),
                )]))
            }
        }),
    );
    let addr = serve(app, tls.config.clone()).await;
    let c = client(addr.port(), &tls.ca_pem, Duration::from_secs(10));
    let e = c
        .search_alerts_all_as::<AlertSummary>(&AlertSearch::default())
        .await
        .unwrap_err();
    // Not "cannot connect": the connection was made and the request went out.
    assert!(matches!(e, ApiError::Dropped { .. }), "{e}");
    assert!(e.to_string().contains("broke during alert search"), "{e}");
    assert!(e.is_transient());
    // A read: tried again, up to the policy's attempts.
    assert_eq!(
        calls.load(Ordering::SeqCst),
        RetryPolicy::default().max_attempts as usize
    );
}
