//! Carbon Black Cloud REST client: typed requests and responses, retries, rate limiting.

pub mod client;
pub mod error;
pub mod lenient;
pub mod model;
pub mod page;
pub mod poll;
pub mod ratelimit;
pub mod scan;
pub mod summary;
pub mod token;

pub use client::{Client, ClientConfig, RetryPolicy};

/// Installs ring as the process's TLS crypto provider (idempotent). Every HTTPS client and
/// server in socdeck uses it; reqwest is built without a provider of its own, so anything that
/// builds a `reqwest::Client` must have called this first (`Client::new` and the simulator do).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
pub use error::ApiError;
pub use token::Token;
