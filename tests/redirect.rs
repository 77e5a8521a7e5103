//! RELIABILITY B4: a CBC endpoint that answers with a redirect must not make the client carry
//! `X-Auth-Token` anywhere — not to another port, not to plain HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use socdeck::cbc::model::AlertSearch;
use socdeck::cbc::{ApiError, Client, ClientConfig, Token};

#[path = "support/tls.rs"]
mod support_tls;
use support_tls::{serve, tls};

#[tokio::test]
async fn redirects_are_not_followed_and_the_token_goes_nowhere_else() {
    let tls = tls().await;
    let leaked = Arc::new(AtomicUsize::new(0));
    let hits = Arc::new(AtomicUsize::new(0));

    // The "other host": counts every request and every token it receives.
    let (l, h) = (leaked.clone(), hits.clone());
    let other = Router::new().fallback(move |headers: HeaderMap| {
        let (l, h) = (l.clone(), h.clone());
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            if headers.contains_key("x-auth-token") {
                l.fetch_add(1, Ordering::SeqCst);
            }
            "{}"
        }
    });
    let other_addr = serve(other, tls.config.clone()).await;

    for target in [
        format!("https://127.0.0.1:{}/steal", other_addr.port()),
        format!("http://127.0.0.1:{}/steal", other_addr.port()),
    ] {
        for status in [
            StatusCode::FOUND,
            StatusCode::TEMPORARY_REDIRECT,
            StatusCode::PERMANENT_REDIRECT,
        ] {
            let location = target.clone();
            let redirector = Router::new().fallback(move || async move {
                (status, [(header::LOCATION, location.clone())]).into_response()
            });
            let addr = serve(redirector, tls.config.clone()).await;

            let mut cfg = ClientConfig::new(
                &format!("https://127.0.0.1:{}", addr.port()),
                "ORG1",
                Token::new("CANARY/ID").unwrap(),
            );
            cfg.ca_pem = Some(tls.ca_pem.clone().into_bytes());
            let client = Client::new(cfg).unwrap();
            let e = client
                .search_alerts(&AlertSearch::default())
                .await
                .unwrap_err();
            // A redirect is neither success nor followed: it surfaces as an error.
            assert!(!matches!(e, ApiError::Decode { .. }), "{e}");
            assert_eq!(e.status(), Some(status.as_u16()), "{e}");
        }
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the other host was never contacted"
    );
    assert_eq!(leaked.load(Ordering::SeqCst), 0);
}
