//! `socdeck sim`: a Carbon Black Cloud simulator served over HTTPS with a certificate generated
//! at start. It is faithful enough that the official Python SDK works against it unchanged
//! (`../shared/sdk-check/probe.py`), and `--demo` runs it in-process for the console.
//!
//! Layout:
//! - `world.rs`    the document model shared by the generator and the server
//! - `compact.rs`  the store's compact form of documents (interned keys and strings)
//! - `scenario.rs` seeded attack stories (ransomware, credential theft + lateral movement,
//!   coin miner, admin-tool false positive)
//! - `replay.rs`   stories from an Alerts v7 search response or JSON Lines file
//! - `query.rs`    criteria / exclusions / Lucene-subset query matching and sorting
//! - `store.rs`    per-org state: alerts, devices, notes, history, jobs, overrides
//! - `server.rs`   axum routes, auth, fault injection, TLS

pub mod compact;
pub mod query;
pub mod replay;
pub mod scenario;
pub mod server;
pub mod store;
pub mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use server::{Fault, RequestRecord, SimHandle, start};

/// Everything `socdeck sim` (and `--demo`, and tests) can configure.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Same seed, same orgs, devices and alerts.
    pub seed: u64,
    /// Number of customer orgs (ignored with `replay`, which makes one org per alert org_key).
    pub orgs: usize,
    /// Live alerts per minute across all orgs (0 = none arrive after start).
    pub rate_per_min: f64,
    /// Alerts present at start (up to 100 000).
    pub backlog: usize,
    /// Serve alerts from this file instead of the generator.
    pub replay: Option<PathBuf>,
    /// With `replay`: keep the file's timestamps instead of shifting the newest to now.
    pub keep_times: bool,
    /// Simulated sensor check-in delay: a quarantine request flips the device after this.
    pub checkin: Duration,
    /// Where to write `ca.pem` (a fresh temporary directory when `None`).
    pub cert_dir: Option<PathBuf>,
    /// Probability (0..=1) that a request fails with a 5xx.
    pub fail_rate: f64,
    /// Added latency per request.
    pub latency: Duration,
    /// Requests per minute per client before 429 + `Retry-After`.
    pub rate_limit_per_min: Option<u32>,
    /// Use this token instead of a random one (tests, benchmarks).
    pub token: Option<String>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            orgs: 3,
            rate_per_min: 2.0,
            backlog: 40,
            replay: None,
            keep_times: false,
            checkin: Duration::from_secs(5),
            cert_dir: None,
            fail_rate: 0.0,
            latency: Duration::ZERO,
            rate_limit_per_min: None,
            token: None,
        }
    }
}
