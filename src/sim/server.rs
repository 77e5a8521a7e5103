//! The simulator's HTTPS side: TLS with a certificate generated at start, the `X-Auth-Token`
//! check, fault injection (per-test [`Fault`]s, random 5xx, latency, a per-source rate limit),
//! a record of every request, and the CBC routes backed by [`Store`].
//!
//! Every request passes, in order: the request record; `latency`; the first matching injected
//! [`Fault`]; the rate limit; the token check; the random `fail_rate`; then the route. Error
//! bodies are CBC-shaped JSON: `{"error_code": ..., "message": ...}`, or
//! `{"reason": "query_malformed_syntax", "message": ...}` for an unparsable query.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::{Body as AxumBody, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_server::tls_rustls::RustlsConfig;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tempfile::TempDir;
use tokio::task::JoinHandle;

use super::SimOptions;
use super::replay::Replay;
use super::scenario::Generator;
use super::store::{JobKind, Org, SimError, Store};
use super::world::{Doc, Story, StorySource};

/// Largest request body read; larger ones get 413.
const MAX_BODY: usize = 2 * 1024 * 1024;
/// Request bodies are kept in [`RequestRecord::body`] up to this many bytes...
const RECORDED_BODY: usize = 32 * 1024;
/// ...for the newest this many requests (older records keep everything but the body).
const RECORDED_BODIES: usize = 10_000;
/// Request records kept; older ones are dropped (a long-running `socdeck sim` must not grow).
const MAX_RECORDS: usize = 100_000;
/// The rate limit's sliding window.
const RATE_WINDOW: Duration = Duration::from_secs(60);
/// Backlog stories converted and added to the store at a time.
const INGEST_BATCH: usize = 256;

// ------------------------------------------------------------------------------------------------
// Public types

/// A deterministic fault for tests, queued with [`SimHandle::inject`].
///
/// A request matches when its path (with the query string, if any) contains `path_contains` and,
/// if `method` is set, its method equals it (case-insensitive). Faults are tried in the order
/// they were injected; the first match is consumed (`times` counts down, at 0 the fault is
/// gone). Injected faults are checked before the token, so they also hit unauthenticated
/// requests.
///
/// The matching request first waits `delay`. Then:
/// * `status` 0: it is then handled and answered normally. With a `delay` longer than the
///   client's timeout this is "the server accepted the request and did not answer in time": the
///   request still takes effect after `delay` (a write is applied, the answer is lost).
/// * any other status: it is answered with that status, a JSON error body and, when
///   `retry_after` is set, that raw `Retry-After` value. A 429 always carries `Retry-After`
///   (`"1"` when `retry_after` is `None`). A status outside 100..=999 is answered as 500.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub path_contains: String,
    pub method: Option<String>,
    pub status: u16,
    pub retry_after: Option<String>,
    pub times: u32,
    pub delay: Duration,
}

impl Default for Fault {
    fn default() -> Self {
        Fault {
            path_contains: String::new(),
            method: None,
            status: 0,
            retry_after: None,
            times: 1,
            delay: Duration::ZERO,
        }
    }
}

impl Fault {
    /// Answer the next `times` requests whose path contains `path_contains` with `status`.
    pub fn status(path_contains: &str, status: u16, times: u32) -> Fault {
        Fault {
            path_contains: path_contains.to_string(),
            status,
            times,
            ..Fault::default()
        }
    }

    /// Hold the next request whose path contains `path_contains` for `delay`, then answer it.
    pub fn hang(path_contains: &str, delay: Duration) -> Fault {
        Fault {
            path_contains: path_contains.to_string(),
            delay,
            ..Fault::default()
        }
    }

    fn matches(&self, method: &Method, path_and_query: &str) -> bool {
        self.times > 0
            && path_and_query.contains(&self.path_contains)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
    }
}

/// One request the simulator received.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    /// Arrival order, from 0.
    pub seq: u64,
    pub at: Timestamp,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The body as text (lossy UTF-8, first 32 KiB), `None` when empty or when 10 000 newer
    /// requests have arrived since.
    pub body: Option<String>,
    /// The status the simulator answered with; 0 while it is still working on the request
    /// (e.g. during an injected delay). A request is carried out to the end even when the client
    /// stops waiting, so a write that timed out on the client side may still take effect.
    pub status: u16,
    /// Whether it carried exactly one `X-Auth-Token` equal to the simulator's token.
    pub auth_ok: bool,
    pub peer: IpAddr,
}

// ------------------------------------------------------------------------------------------------
// Shared state

struct Shared {
    store: Store,
    token: String,
    faults: Mutex<Vec<Fault>>,
    records: Mutex<Records>,
    rate_limit: Option<u32>,
    limiter: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    fail_rate: f64,
    latency: Duration,
    rng: Mutex<StdRng>,
}

#[derive(Default)]
struct Records {
    list: VecDeque<RequestRecord>,
    next_seq: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // See store.rs: state behind these locks is updated in single steps.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn org(&self, key: &str) -> Result<&Org, SimError> {
        self.store
            .org(key)
            .ok_or_else(|| SimError::NotFound(format!("unknown org_key {key}")))
    }

    fn begin(&self, parts: &Parts, body: &Bytes, auth_ok: bool, peer: IpAddr) -> u64 {
        let mut r = lock(&self.records);
        let seq = r.next_seq;
        r.next_seq += 1;
        r.list.push_back(RequestRecord {
            seq,
            at: Timestamp::now(),
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            body: (!body.is_empty()).then(|| {
                String::from_utf8_lossy(&body[..body.len().min(RECORDED_BODY)]).into_owned()
            }),
            status: 0,
            auth_ok,
            peer,
        });
        if r.list.len() > MAX_RECORDS {
            r.list.pop_front();
        }
        if let Some(old) = r.list.len().checked_sub(RECORDED_BODIES + 1) {
            r.list[old].body = None;
        }
        seq
    }

    fn finish(&self, seq: u64, status: StatusCode) {
        let mut r = lock(&self.records);
        if let Ok(i) = r.list.binary_search_by_key(&seq, |rec| rec.seq) {
            r.list[i].status = status.as_u16();
        }
    }

    fn take_fault(&self, method: &Method, path_and_query: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let i = faults
            .iter()
            .position(|f| f.matches(method, path_and_query))?;
        faults[i].times -= 1;
        let fault = faults[i].clone();
        if faults[i].times == 0 {
            faults.remove(i);
        }
        Some(fault)
    }

    /// Counts the request against its source's sliding window; `Some(seconds)` when it is over
    /// the limit. Rejected requests count too, as on CBC, so a client that keeps knocking pushes
    /// its own release time out.
    fn rate_limited(&self, peer: IpAddr) -> Option<u64> {
        let limit = usize::try_from(self.rate_limit?).unwrap_or(usize::MAX);
        let now = Instant::now();
        let mut all = lock(&self.limiter);
        let q = all.entry(peer).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= RATE_WINDOW)
        {
            q.pop_front();
        }
        q.push_back(now);
        // Bound memory under a flood; the oldest stamps matter least for the release time.
        if q.len() > limit.saturating_add(100_000) {
            q.pop_front();
        }
        if q.len() <= limit {
            return None;
        }
        // The next request passes once enough stamps left the window that fewer than `limit`
        // remain: that is when stamp number `len - limit` (0-based) expires.
        let wait = q.get(q.len() - limit).map_or(RATE_WINDOW, |t| {
            RATE_WINDOW.saturating_sub(now.duration_since(*t))
        });
        Some(wait.as_secs_f64().ceil().max(1.0) as u64)
    }
}

// ------------------------------------------------------------------------------------------------
// The handle

/// A running simulator. Dropping it stops the server at once; [`SimHandle::shutdown`] lets
/// requests in flight finish first.
pub struct SimHandle {
    addr: SocketAddr,
    url: String,
    ca_file: PathBuf,
    ca_pem: String,
    orgs: Vec<(String, String)>,
    shared: Arc<Shared>,
    server: axum_server::Handle<SocketAddr>,
    serve_task: Option<JoinHandle<std::io::Result<()>>>,
    live_task: Option<JoinHandle<()>>,
    // Keeps the temporary certificate directory alive as long as the simulator runs.
    _cert_dir: Option<TempDir>,
}

impl fmt::Debug for SimHandle {
    // Hand-written so the token never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHandle")
            .field("url", &self.url)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// `https://127.0.0.1:PORT` (or the listen address when it is a specific IP).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ca.pem`: the certificate clients must trust.
    pub fn ca_file(&self) -> &FsPath {
        &self.ca_file
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// `(org_key, name)` of every org.
    pub fn orgs(&self) -> Vec<(String, String)> {
        self.orgs.clone()
    }

    /// One line of JSON for scripts, keys in this order:
    /// `{"url", "ca_file", "token", "orgs": [{"org_key", "name"}]}`.
    pub fn banner_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Banner<'a> {
            url: &'a str,
            ca_file: String,
            token: &'a str,
            orgs: Vec<BannerOrg<'a>>,
        }
        #[derive(serde::Serialize)]
        struct BannerOrg<'a> {
            org_key: &'a str,
            name: &'a str,
        }
        let banner = Banner {
            url: &self.url,
            ca_file: self.ca_file.display().to_string(),
            token: &self.shared.token,
            orgs: self
                .orgs
                .iter()
                .map(|(org_key, name)| BannerOrg { org_key, name })
                .collect(),
        };
        // Plain strings always serialize.
        serde_json::to_string(&banner).unwrap_or_default()
    }

    /// Every request received so far (the newest 100 000), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.records).list.iter().cloned().collect()
    }

    /// Forgets the recorded requests (sequence numbers keep counting).
    pub fn clear_requests(&self) {
        lock(&self.shared.records).list.clear();
    }

    /// Queues a fault; see [`Fault`].
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// A device's `quarantined` flag as clients see it now (`None`: unknown org or device).
    pub fn device_quarantined(&self, org_key: &str, device_id: i64) -> Option<bool> {
        self.shared
            .store
            .org(org_key)?
            .device_quarantined(device_id, Timestamp::now())
    }

    /// An alert as clients see it now.
    pub fn alert(&self, org_key: &str, id: &str) -> Option<Doc> {
        self.shared.store.org(org_key)?.get_alert(id)
    }

    /// Number of alerts an org holds.
    pub fn alert_count(&self, org_key: &str) -> Option<usize> {
        self.shared.store.org(org_key).map(Org::alert_count)
    }

    /// Adds a story to an org now, as if it had arrived live. False for an unknown org.
    pub fn add_story(&self, org_key: &str, story: Story) -> bool {
        self.shared.store.ingest_into(org_key, story)
    }

    /// Stops accepting connections, lets requests in flight finish (up to 5 s), and waits for the
    /// server task.
    pub async fn shutdown(mut self) {
        if let Some(t) = self.live_task.take() {
            t.abort();
        }
        self.server.graceful_shutdown(Some(Duration::from_secs(5)));
        if let Some(t) = self.serve_task.take() {
            match t.await {
                Ok(Err(e)) => tracing::warn!(error = %e, "simulator server ended with an error"),
                Err(e) if e.is_panic() => tracing::warn!("simulator server task panicked"),
                _ => {}
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(t) = self.live_task.take() {
            t.abort();
        }
        self.server.shutdown();
    }
}

// ------------------------------------------------------------------------------------------------
// Start

/// Starts the simulator with the generator, or with the replay file when `opts.replay` is set.
pub async fn start(opts: SimOptions) -> anyhow::Result<SimHandle> {
    let source: Box<dyn StorySource> = match &opts.replay {
        Some(path) => Box::new(
            Replay::load(path, opts.keep_times)
                .with_context(|| format!("loading replay file {}", path.display()))?,
        ),
        None => Box::new(Generator::new(opts.seed, opts.orgs, opts.backlog)),
    };
    start_with_source(opts, source).await
}

/// Starts the simulator with any story source (tests use hand-made ones). `opts.replay`,
/// `opts.orgs` and `opts.backlog` are the source's business and are ignored here.
pub async fn start_with_source(
    opts: SimOptions,
    mut source: Box<dyn StorySource>,
) -> anyhow::Result<SimHandle> {
    // The process's TLS provider (ring), for this server and for clients built next to it.
    crate::cbc::install_crypto_provider();
    anyhow::ensure!(
        (0.0..=1.0).contains(&opts.fail_rate),
        "fail rate must be between 0 and 1, got {}",
        opts.fail_rate
    );
    let token = match &opts.token {
        Some(t) => {
            anyhow::ensure!(
                !t.is_empty() && HeaderValue::from_str(t).is_ok(),
                "the token must be non-empty and valid in an HTTP header"
            );
            t.clone()
        }
        None => random_token(),
    };
    // The API ID (after the slash) is who CBC says made a change.
    let actor = token.rsplit('/').next().unwrap_or(&token).to_string();

    let specs = source.orgs();
    anyhow::ensure!(!specs.is_empty(), "the story source has no orgs");
    let store = Store::new(specs, &actor, opts.checkin);
    // Story by story, in batches (each batch re-sorts the alert index once): the backlog never
    // exists all at once as `serde_json` documents.
    let mut batch = Vec::with_capacity(INGEST_BATCH);
    source.backlog_each(Timestamp::now(), &mut |org, story| {
        batch.push((org, story));
        if batch.len() == INGEST_BATCH {
            store.ingest_compact(std::mem::take(&mut batch));
        }
    });
    store.ingest_compact(batch);
    let orgs: Vec<(String, String)> = store
        .orgs()
        .iter()
        .map(|o| (o.key.clone(), o.name.clone()))
        .collect();

    let (cert_dir, tmp) = match &opts.cert_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            (d.clone(), None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("socdeck-sim-")
                .tempdir()
                .context("creating a temporary directory")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let certs = make_certs(opts.listen.ip())?;
    let ca_file = cert_dir.join("ca.pem");
    std::fs::write(&ca_file, &certs.ca_pem)
        .with_context(|| format!("writing {}", ca_file.display()))?;
    let tls = RustlsConfig::from_pem(certs.leaf_pem.into_bytes(), certs.key_pem.into_bytes())
        .await
        .context("building the TLS configuration")?;

    let shared = Arc::new(Shared {
        store,
        token,
        faults: Mutex::new(Vec::new()),
        records: Mutex::new(Records::default()),
        rate_limit: opts.rate_limit_per_min,
        limiter: Mutex::new(HashMap::new()),
        fail_rate: opts.fail_rate,
        latency: opts.latency,
        rng: Mutex::new(StdRng::seed_from_u64(opts.seed)),
    });

    let server = axum_server::Handle::new();
    let app = router(shared.clone());
    // TCP_NODELAY: without it small responses wait on Nagle + delayed ACK (~25-40 ms each).
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
        .acceptor(axum_server::accept::NoDelayAcceptor::new());
    let serving = axum_server::bind(opts.listen)
        .acceptor(acceptor)
        .handle(server.clone());
    let mut serve_task = tokio::spawn(async move {
        serving
            .serve(app.into_make_service_with_connect_info::<SocketAddr>())
            .await
    });
    let Some(addr) = server.listening().await else {
        let why = match (&mut serve_task).await {
            Ok(Err(e)) => e.to_string(),
            _ => "unknown error".to_string(),
        };
        anyhow::bail!("cannot listen on {}: {why}", opts.listen);
    };

    let live_task = (opts.rate_per_min.is_finite() && opts.rate_per_min > 0.0).then(|| {
        tokio::spawn(live_alerts(
            shared.clone(),
            source,
            opts.rate_per_min,
            opts.seed,
        ))
    });

    Ok(SimHandle {
        addr,
        url: format!("https://{}", url_host(addr)),
        ca_file,
        ca_pem: certs.ca_pem,
        orgs,
        shared,
        server,
        serve_task: Some(serve_task),
        live_task,
        _cert_dir: tmp,
    })
}

/// The host:port clients should use: loopback for a wildcard listen address.
fn url_host(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => format!("127.0.0.1:{}", addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => format!("[::1]:{}", addr.port()),
        _ => addr.to_string(),
    }
}

/// `<24 uppercase alphanumerics>/<10 uppercase alphanumerics>`, like a CBC API key, from the OS
/// RNG (not the scenario seed: the token must not be predictable).
fn random_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let mut part = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect()
    };
    let secret = part(24);
    format!("{secret}/{}", part(10))
}

struct Certs {
    ca_pem: String,
    leaf_pem: String,
    key_pem: String,
}

/// A throwaway CA (written to `ca.pem`) and a server certificate it signs for `localhost`,
/// `127.0.0.1`, `::1` and a specific listen IP. A separate CA rather than one self-signed leaf,
/// because strict verifiers (OpenSSL's X509_STRICT, webpki) want a proper CA as trust anchor
/// and a non-CA end-entity certificate.
fn make_certs(listen_ip: IpAddr) -> anyhow::Result<Certs> {
    let ca_key = KeyPair::generate().context("generating the CA key")?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "socdeck simulator CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca =
        CertifiedIssuer::self_signed(ca_params, ca_key).context("signing the CA certificate")?;

    let mut names = vec![
        "localhost".to_string(),
        Ipv4Addr::LOCALHOST.to_string(),
        Ipv6Addr::LOCALHOST.to_string(),
    ];
    if !listen_ip.is_unspecified() && !listen_ip.is_loopback() {
        names.push(listen_ip.to_string());
    }
    let leaf_key = KeyPair::generate().context("generating the server key")?;
    let mut leaf = CertificateParams::new(names)?;
    leaf.distinguished_name
        .push(DnType::CommonName, "socdeck simulator");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf
        .signed_by(&leaf_key, &ca)
        .context("signing the server certificate")?;
    Ok(Certs {
        ca_pem: ca.pem(),
        leaf_pem: leaf_cert.pem(),
        key_pem: leaf_key.serialize_pem(),
    })
}

/// New stories at `rate_per_min` on average, with exponential gaps (a Poisson process) from a
/// seeded RNG so runs with the same seed see the same rhythm.
async fn live_alerts(
    shared: Arc<Shared>,
    mut source: Box<dyn StorySource>,
    rate_per_min: f64,
    seed: u64,
) {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(0x9E37_79B9_7F4A_7C15));
    let mean = 60.0 / rate_per_min;
    loop {
        let u: f64 = rng.random_range(f64::EPSILON..1.0);
        // Clamped so a run of bad luck neither floods nor silences the queue.
        let gap = (-u.ln() * mean).clamp(mean / 20.0, mean * 5.0).max(0.001);
        tokio::time::sleep(Duration::from_secs_f64(gap)).await;
        match source.next_story(Timestamp::now()) {
            Some(story) => shared.store.ingest(vec![story]),
            None => break,
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Error responses and extractors

fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error_code": code, "message": message})),
    )
        .into_response()
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        match self {
            SimError::BadRequest(m) => error_body(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &m),
            SimError::NotFound(m) => error_body(StatusCode::NOT_FOUND, "NOT_FOUND", &m),
            SimError::Syntax { message, offset } => (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "reason": "query_malformed_syntax",
                    "message": format!("Error parsing query: {message} at offset {offset}"),
                    "error_code": "QUERY_MALFORMED_SYNTAX",
                })),
            )
                .into_response(),
        }
    }
}

type Reply = Result<Response, SimError>;

fn ok<T: serde::Serialize>(v: T) -> Reply {
    Ok(Json(v).into_response())
}

/// A body that is JSON already (alerts, serialized by the store).
fn raw_json(body: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Bytes of a search page serialized per piece of a streamed response.
const SEARCH_CHUNK: usize = 64 * 1024;

/// A JSON body sent as `chunks` yields it, each piece produced when the connection is ready
/// for it (chunked transfer encoding, as a large CBC response may be).
fn json_stream(chunks: impl Iterator<Item = Vec<u8>> + Send + 'static) -> Response {
    let stream =
        futures::stream::iter(chunks.map(|c| Ok::<_, std::convert::Infallible>(Bytes::from(c))));
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        AxumBody::from_stream(stream),
    )
        .into_response()
}

fn no_content() -> Reply {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A JSON request body; anything unparsable is CBC's 400, not axum's plain-text rejection.
struct JsonBody(Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| error_body(e.status(), "INVALID_REQUEST", &e.body_text()))?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            error_body(
                StatusCode::BAD_REQUEST,
                "MALFORMED_JSON",
                &format!("the body is not valid JSON: {e}"),
            )
        })
    }
}

impl JsonBody {
    fn object(&self) -> Result<&Map<String, Value>, SimError> {
        self.0
            .as_object()
            .ok_or_else(|| SimError::BadRequest("the body must be a JSON object".into()))
    }
}

/// Path parameters with CBC-style rejections.
struct P<T>(T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for P<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| P(t))
            .map_err(|e| error_body(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &e.body_text()))
    }
}

/// Query-string parameters with CBC-style rejections.
struct Qs(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Qs {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Qs(q))
            .map_err(|e: QueryRejection| {
                error_body(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &e.body_text())
            })
    }
}

impl Qs {
    fn uint(&self, key: &str) -> Result<Option<usize>, SimError> {
        self.0
            .get(key)
            .map(|v| {
                v.parse().map_err(|_| {
                    SimError::BadRequest(format!("'{key}' must be a non-negative integer"))
                })
            })
            .transpose()
    }
}

type St = State<Arc<Shared>>;

// ------------------------------------------------------------------------------------------------
// The gate: record, faults, rate limit, auth

async fn gate(
    State(s): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let auth_ok = {
        let mut values = parts.headers.get_all("x-auth-token").iter();
        matches!((values.next(), values.next()), (Some(v), None) if v.as_bytes() == s.token.as_bytes())
    };
    // Buffered here so the record holds the body (tests assert on what was sent).
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let seq = s.begin(&parts, &Bytes::new(), auth_ok, peer.ip());
            let resp = error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &format!("request bodies are limited to {MAX_BODY} bytes"),
            );
            s.finish(seq, resp.status());
            return resp;
        }
    };
    let seq = s.begin(&parts, &body, auth_ok, peer.ip());
    // A request the server has read is carried out even when the client stops waiting (a
    // timeout during `latency` or an injected delay): like CBC, the change happens and only the
    // answer is lost. So the rest runs in its own task, which a dropped connection cannot cancel.
    let task = tokio::spawn(async move {
        let resp = answer(&s, parts, body, auth_ok, peer.ip(), next).await;
        s.finish(seq, resp.status());
        resp
    });
    match task.await {
        Ok(resp) => resp,
        Err(_) => error_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "the simulator failed to answer this request",
        ),
    }
}

async fn answer(
    s: &Shared,
    parts: Parts,
    body: Bytes,
    auth_ok: bool,
    peer: IpAddr,
    next: Next,
) -> Response {
    if !s.latency.is_zero() {
        tokio::time::sleep(s.latency).await;
    }
    let target = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |pq| pq.as_str());
    if let Some(fault) = s.take_fault(&parts.method, target) {
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        if fault.status != 0 {
            return fault_response(&fault);
        }
    }
    if let Some(secs) = s.rate_limited(peer) {
        let mut resp = error_body(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            &format!("rate limit exceeded; retry after {secs} s"),
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return resp;
    }
    if !auth_ok {
        return error_body(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "missing or invalid X-Auth-Token",
        );
    }
    if s.fail_rate > 0.0 {
        let failure = {
            let mut rng = lock(&s.rng);
            rng.random_bool(s.fail_rate)
                .then(|| [500u16, 502, 503][rng.random_range(0..3usize)])
        };
        if let Some(code) = failure {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error_body(
                status,
                "SIMULATED_FAILURE",
                "simulated server failure (--fail-rate)",
            );
        }
    }
    next.run(Request::from_parts(parts, AxumBody::from(body)))
        .await
}

fn fault_response(f: &Fault) -> Response {
    let status = StatusCode::from_u16(f.status)
        .ok()
        .filter(|s| s.as_u16() >= 100)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = error_body(
        status,
        "SIMULATED_FAULT",
        &format!("injected fault: {}", status.as_u16()),
    );
    let retry_after = match (&f.retry_after, status) {
        (Some(v), _) => HeaderValue::from_str(v).ok(),
        (None, StatusCode::TOO_MANY_REQUESTS) => Some(HeaderValue::from_static("1")),
        (None, _) => None,
    };
    if let Some(v) = retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        // An unrepresentable raw value still must not leave a 429 without Retry-After.
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

// ------------------------------------------------------------------------------------------------
// Routes

fn router(shared: Arc<Shared>) -> Router {
    const ALERTS: &str = "/api/alerts/v7/orgs/{org}/alerts";
    const APP: &str = "/appservices/v6/orgs/{org}";
    const INV: &str = "/api/investigate/v2/orgs/{org}";
    Router::new()
        .route(&format!("{ALERTS}/_search"), post(alerts_search))
        .route(&format!("{ALERTS}/_facet"), post(alerts_facet))
        .route(&format!("{ALERTS}/workflow"), post(alerts_workflow))
        .route(&format!("{ALERTS}/{{id}}"), get(alert_get))
        .route(
            &format!("{ALERTS}/{{id}}/notes"),
            get(notes_list).post(notes_add),
        )
        .route(
            &format!("{ALERTS}/{{id}}/notes/{{note}}"),
            axum::routing::delete(notes_delete),
        )
        .route(&format!("{ALERTS}/{{id}}/history"), get(alert_history))
        .route("/jobs/v1/orgs/{org}/jobs/{id}", get(job_get))
        .route("/jobs/v1/orgs/{org}/jobs/{id}/progress", get(job_progress))
        .route(&format!("{APP}/devices/_search"), post(devices_search))
        .route(&format!("{APP}/devices/{{id}}"), get(device_get))
        .route(&format!("{APP}/device_actions"), post(device_actions))
        .route(
            &format!("{APP}/reputations/overrides"),
            post(override_create),
        )
        .route(
            &format!("{APP}/reputations/overrides/_search"),
            post(override_search),
        )
        .route(
            &format!("{APP}/reputations/overrides/_delete"),
            post(override_bulk_delete),
        )
        .route(
            &format!("{APP}/reputations/overrides/{{id}}"),
            get(override_get).delete(override_delete),
        )
        .route(
            &format!("{INV}/processes/search_validation"),
            post(validate_post).get(validate_get),
        )
        .route(
            &format!("{INV}/processes/search_jobs"),
            post(|st: St, p: P<String>, b: JsonBody| job_create(st, p, b, JobKind::ProcessSearch)),
        )
        .route(
            &format!("{INV}/processes/search_jobs/{{id}}/results"),
            get(|st: St, p: P<(String, String)>, q: Qs| {
                job_results(st, p, q, JobKind::ProcessSearch)
            }),
        )
        .route(
            &format!("{INV}/processes/detail_jobs"),
            post(|st: St, p: P<String>, b: JsonBody| job_create(st, p, b, JobKind::ProcessDetail)),
        )
        .route(
            &format!("{INV}/processes/detail_jobs/{{id}}/results"),
            get(|st: St, p: P<(String, String)>, q: Qs| {
                job_results(st, p, q, JobKind::ProcessDetail)
            }),
        )
        .route(
            &format!("{INV}/processes/summary_jobs"),
            post(|st: St, p: P<String>, b: JsonBody| job_create(st, p, b, JobKind::ProcessSummary)),
        )
        .route(
            &format!("{INV}/processes/summary_jobs/{{id}}/results"),
            get(summary_results),
        )
        .route(
            &format!("{INV}/observations/search_jobs"),
            post(|st: St, p: P<String>, b: JsonBody| {
                job_create(st, p, b, JobKind::ObservationSearch)
            }),
        )
        .route(
            &format!("{INV}/observations/search_jobs/{{id}}/results"),
            get(|st: St, p: P<(String, String)>, q: Qs| {
                job_results(st, p, q, JobKind::ObservationSearch)
            }),
        )
        .route(
            &format!("{INV}/observations/detail_jobs"),
            post(|st: St, p: P<String>, b: JsonBody| {
                job_create(st, p, b, JobKind::ObservationDetail)
            }),
        )
        .route(
            &format!("{INV}/observations/detail_jobs/{{id}}/results"),
            get(|st: St, p: P<(String, String)>, q: Qs| {
                job_results(st, p, q, JobKind::ObservationDetail)
            }),
        )
        .fallback(|| async { error_body(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route") })
        .method_not_allowed_fallback(|| async {
            error_body(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "method not allowed on this route",
            )
        })
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

// ---------------------------------------------------------------- alerts

async fn alerts_search(State(s): St, P(org): P<String>, body: JsonBody) -> Reply {
    let page = s
        .org(&org)?
        .search_alerts(body.object()?, Timestamp::now())?;
    Ok(json_stream(page.into_chunks(SEARCH_CHUNK)))
}

async fn alerts_facet(State(s): St, P(org): P<String>, body: JsonBody) -> Reply {
    ok(s.org(&org)?
        .facet_alerts(body.object()?, Timestamp::now())?)
}

async fn alerts_workflow(State(s): St, P(org): P<String>, body: JsonBody) -> Reply {
    let id = s.org(&org)?.workflow(body.object()?, Timestamp::now())?;
    ok(json!({ "request_id": id }))
}

async fn alert_get(State(s): St, P((org, id)): P<(String, String)>) -> Reply {
    let doc = s
        .org(&org)?
        .get_alert_json(&id)
        .ok_or_else(|| SimError::NotFound(format!("no alert {id}")))?;
    Ok(raw_json(doc))
}

async fn notes_list(State(s): St, P((org, id)): P<(String, String)>) -> Reply {
    let notes = s.org(&org)?.list_notes(&id)?;
    ok(json!({"num_found": notes.len(), "num_available": notes.len(), "results": notes}))
}

async fn notes_add(State(s): St, P((org, id)): P<(String, String)>, body: JsonBody) -> Reply {
    ok(s.org(&org)?
        .add_note(&id, body.object()?, Timestamp::now())?)
}

async fn notes_delete(State(s): St, P((org, id, note)): P<(String, String, String)>) -> Reply {
    s.org(&org)?.delete_note(&id, &note, Timestamp::now())?;
    no_content()
}

async fn alert_history(State(s): St, P((org, id)): P<(String, String)>) -> Reply {
    ok(json!({ "history": s.org(&org)?.history(&id)? }))
}

// ---------------------------------------------------------------- jobs service

fn workflow_job(s: &Shared, org: &str, id: &str) -> Result<Doc, SimError> {
    s.org(org)?
        .job(id)
        .ok_or_else(|| SimError::NotFound(format!("no job {id}")))
}

async fn job_get(State(s): St, P((org, id)): P<(String, String)>) -> Reply {
    ok(workflow_job(&s, &org, &id)?)
}

async fn job_progress(State(s): St, P((org, id)): P<(String, String)>) -> Reply {
    let job = workflow_job(&s, &org, &id)?;
    ok(job.get("progress").cloned().unwrap_or(Value::Null))
}

// ---------------------------------------------------------------- devices

async fn devices_search(State(s): St, P(org): P<String>, body: JsonBody) -> Reply {
    ok(s.org(&org)?
        .search_devices(body.object()?, Timestamp::now())?)
}

async fn device_get(State(s): St, P((org, id)): P<(String, String)>) -> Reply {
    let org = s.org(&org)?;
    let doc = id
        .parse::<i64>()
        .ok()
        .and_then(|n| org.get_device(n, Timestamp::now()))
        .ok_or_else(|| SimError::NotFound(format!("no device {id}")))?;
    ok(doc)
}

async fn device_actions(State(s): St, P(org): P<String>, body: JsonBody) -> Reply {
    s.org(&org)?
        .device_action(body.object()?, Timestamp::now())?;
    no_content()
}

// ---------------------------------------------------------------- reputation overrides

async fn override_create(State(s): St, P(org): P<String>, body: JsonBody) -> Reply {
    ok(s.org(&org)?
        .create_override(body.object()?, Timestamp::now())?)
}

async fn override_search(State(s): St, P(org): P<String>, body: JsonBody) -> Reply {
    ok(s.org(&org)?.search_overrides(body.object()?)?)
}

async fn override_get(State(s): St, P((org, id)): P<(String, String)>) -> Reply {
    let doc = s
        .org(&org)?
        .get_override(&id)
        .ok_or_else(|| SimError::NotFound(format!("no reputation override {id}")))?;
    ok(doc)
}

async fn override_delete(State(s): St, P((org, id)): P<(String, String)>) -> Reply {
    s.org(&org)?.delete_override(&id)?;
    no_content()
}

async fn override_bulk_delete(State(s): St, P(org): P<String>, body: JsonBody) -> Reply {
    s.org(&org)?.delete_overrides(&body.0)?;
    no_content()
}

// ---------------------------------------------------------------- investigate

async fn validate_post(State(s): St, P(org): P<String>, body: JsonBody) -> Reply {
    let org = s.org(&org)?;
    let q = body
        .object()?
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or("");
    ok(org.validate_query(q))
}

/// The older `GET ...?q=` form of the validation call.
async fn validate_get(State(s): St, P(org): P<String>, q: Qs) -> Reply {
    let org = s.org(&org)?;
    ok(org.validate_query(q.0.get("q").map_or("", String::as_str)))
}

async fn job_create(State(s): St, P(org): P<String>, body: JsonBody, kind: JobKind) -> Reply {
    let id = s
        .org(&org)?
        .create_job(kind, body.object()?, Timestamp::now())?;
    ok(json!({ "job_id": id }))
}

async fn job_results(
    State(s): St,
    P((org, id)): P<(String, String)>,
    q: Qs,
    kind: JobKind,
) -> Reply {
    ok(s.org(&org)?
        .job_results(kind, &id, q.uint("start")?, q.uint("rows")?)?)
}

async fn summary_results(State(s): St, P((org, id)): P<(String, String)>, q: Qs) -> Reply {
    let format = q.0.get("format").map_or("summary", String::as_str);
    ok(s.org(&org)?.summary_results(&id, format)?)
}
