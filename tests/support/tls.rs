//! A TLS endpoint with a generated certificate, serving an axum router on 127.0.0.1:0: for
//! tests of how the client meets servers that misbehave in ways the simulator does not.

use std::net::SocketAddr;

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;

pub struct Tls {
    pub config: RustlsConfig,
    pub ca_pem: String,
}

pub async fn tls() -> Tls {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let ca_pem = cert.cert.pem();
    let config = RustlsConfig::from_pem(
        ca_pem.clone().into_bytes(),
        cert.signing_key.serialize_pem().into_bytes(),
    )
    .await
    .unwrap();
    Tls { config, ca_pem }
}

/// Serves `app` over TLS on 127.0.0.1:0; returns the bound address.
pub async fn serve(app: Router, config: RustlsConfig) -> SocketAddr {
    let handle = axum_server::Handle::new();
    let server =
        axum_server::bind_rustls("127.0.0.1:0".parse().unwrap(), config).handle(handle.clone());
    tokio::spawn(async move { server.serve(app.into_make_service()).await });
    handle.listening().await.unwrap()
}
