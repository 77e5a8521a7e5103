//! The HTTP client for one CBC org.
//!
//! - HTTPS only, TLS verification always on; an optional CA file replaces the trust roots (as
//!   the SDK's `ssl_cert_file` does) for private deployments and the simulator.
//! - Redirects are never followed: a redirect could carry `X-Auth-Token` to another host.
//! - Reads retry with full-jitter exponential backoff inside a time budget. A request that
//!   changes the world is retried only when it provably never left (connection refused);
//!   otherwise an unclear outcome is reported and the caller reads the state instead.
//! - After a 429, no request goes to that host — from any client of this process — until
//!   `Retry-After` has passed (`ratelimit.rs`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rand::RngExt;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::Token;
use super::error::ApiError;
use super::model::*;
use super::page::{PageError, PageReader};
use super::ratelimit::{HostGate, parse_retry_after};

/// Connection settings for one org.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://host[:port]`, no trailing slash.
    pub base_url: String,
    pub org_key: String,
    pub token: Token,
    /// PEM bundle that replaces the system trust roots.
    pub ca_pem: Option<Vec<u8>>,
    pub connect_timeout: Duration,
    /// Whole-request timeout (connect + send + read).
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Refuse every request that changes anything, before it leaves the process.
    pub read_only: bool,
    /// Largest response body accepted.
    pub max_body: usize,
}

impl ClientConfig {
    pub fn new(base_url: &str, org_key: &str, token: Token) -> Self {
        ClientConfig {
            base_url: base_url.trim_end_matches('/').to_owned(),
            org_key: org_key.to_owned(),
            token,
            ca_pem: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            read_only: false,
            max_body: 64 << 20,
        }
    }

    /// Loads a CA bundle from a file (the SDK's `ssl_cert_file`, `--ca-file`).
    pub fn with_ca_file(mut self, path: &Path) -> Result<Self, ApiError> {
        let pem = std::fs::read(path).map_err(|e| {
            ApiError::Config(format!("cannot read CA file {}: {e}", path.display()))
        })?;
        self.ca_pem = Some(pem);
        Ok(self)
    }
}

/// Backoff for reads.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, including the first.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts after this much time has passed since the first attempt.
    pub budget: Duration,
    /// A read waits for a rate-limit window at most this long; longer windows are reported.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            budget: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(60),
        }
    }
}

/// Whether a request reads or changes the world; decides what may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

/// Client for one org. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    cfg: ClientConfig,
    host: String,
    gate: Arc<HostGate>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("host", &self.inner.host)
            .field("org_key", &self.inner.cfg.org_key)
            .finish()
    }
}

/// Where a successful response body goes, chunk by chunk.
trait Sink: Send {
    /// Forgets an earlier attempt; `len` is the announced body length, if any.
    fn reset(&mut self, len: Option<u64>);
    fn feed(&mut self, chunk: &[u8]) -> Result<(), PageError>;
}

impl Sink for Vec<u8> {
    fn reset(&mut self, len: Option<u64>) {
        self.clear();
        self.reserve(len.map_or(8192, |n| n as usize));
    }
    fn feed(&mut self, chunk: &[u8]) -> Result<(), PageError> {
        self.extend_from_slice(chunk);
        Ok(())
    }
}

impl<T: AlertRecord> Sink for PageReader<'_, T> {
    fn reset(&mut self, _len: Option<u64>) {
        PageReader::reset(self);
    }
    fn feed(&mut self, chunk: &[u8]) -> Result<(), PageError> {
        PageReader::feed(self, chunk)
    }
}

/// A successful response body.
struct Body {
    status: StatusCode,
    bytes: Vec<u8>,
}

/// Parses a JSON body. The body is checked for UTF-8 once, up front, so that serde_json does
/// not re-validate every key and string it meets (`from_str` trusts its input); a body that
/// is not UTF-8 throughout still goes through `from_slice`, which accepts bytes it only
/// skips, exactly as before.
///
/// Takes a seed (a type through `PhantomData`, or a seed that parses into existing storage),
/// and does what `serde_json::from_str`/`from_slice` do with it.
pub(crate) fn parse_json_seed<'a, S: serde::de::DeserializeSeed<'a>>(
    bytes: &'a [u8],
    seed: S,
) -> serde_json::Result<S::Value> {
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let mut de = serde_json::Deserializer::from_str(text);
            let value = seed.deserialize(&mut de)?;
            de.end()?;
            Ok(value)
        }
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let value = seed.deserialize(&mut de)?;
            de.end()?;
            Ok(value)
        }
    }
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Result<Client, ApiError> {
        let url = reqwest::Url::parse(&cfg.base_url)
            .map_err(|e| ApiError::Config(format!("invalid CBC URL {:?}: {e}", cfg.base_url)))?;
        if url.scheme() != "https" {
            return Err(ApiError::Config(format!(
                "CBC URL must start with https:// (got {}); TLS is required",
                cfg.base_url
            )));
        }
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => {
                return Err(ApiError::Config(format!(
                    "CBC URL has no host: {}",
                    cfg.base_url
                )));
            }
        };
        if cfg.org_key.is_empty() || !cfg.org_key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiError::Config(format!(
                "org key {:?} must be alphanumeric",
                cfg.org_key
            )));
        }
        super::install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .user_agent(concat!("socdeck/", env!("CARGO_PKG_VERSION")))
            // HTTP/1.1: CBC calls are sequential per org, and h2 framing costs CPU for no gain.
            .http1_only();
        if let Some(pem) = &cfg.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                ApiError::Config(format!("CA file is not a PEM certificate bundle: {e}"))
            })?;
            if certs.is_empty() {
                return Err(ApiError::Config("CA file holds no certificate".into()));
            }
            builder = builder.tls_certs_only(certs);
        }
        let http = builder
            .build()
            .map_err(|e| ApiError::Config(format!("cannot set up HTTPS: {e}")))?;
        let gate = HostGate::for_host(&host);
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                cfg,
                host,
                gate,
            }),
        })
    }

    pub fn org_key(&self) -> &str {
        &self.inner.cfg.org_key
    }
    pub fn host(&self) -> &str {
        &self.inner.host
    }
    pub fn is_read_only(&self) -> bool {
        self.inner.cfg.read_only
    }

    fn url(&self, family: &str, rest: &str) -> String {
        format!(
            "{}/{family}/orgs/{}/{rest}",
            self.inner.cfg.base_url, self.inner.cfg.org_key
        )
    }

    fn alerts_url(&self, rest: &str) -> String {
        self.url("api/alerts/v7", rest)
    }
    fn appservices_url(&self, rest: &str) -> String {
        self.url("appservices/v6", rest)
    }
    fn investigate_url(&self, rest: &str) -> String {
        self.url("api/investigate/v2", rest)
    }

    // -----------------------------------------------------------------------------------------
    // Transport

    async fn send<B: Serialize + ?Sized>(
        &self,
        kind: Kind,
        method: Method,
        url: &str,
        body: Option<&B>,
        what: &str,
    ) -> Result<Body, ApiError> {
        let mut bytes = Vec::new();
        let status = self
            .send_into(kind, method, url, body, what, &mut bytes)
            .await?;
        Ok(Body { status, bytes })
    }

    /// [`Client::send`] handing the successful body to `sink` as it arrives (reset before
    /// every attempt): a buffer, or a parser that reads a page while it downloads.
    async fn send_into<B: Serialize + ?Sized>(
        &self,
        kind: Kind,
        method: Method,
        url: &str,
        body: Option<&B>,
        what: &str,
        sink: &mut dyn Sink,
    ) -> Result<StatusCode, ApiError> {
        let inner = &*self.inner;
        if kind == Kind::Write && inner.cfg.read_only {
            return Err(ApiError::ReadOnly {
                what: what.to_owned(),
            });
        }
        let payload = match body {
            Some(b) => Some(
                serde_json::to_vec(b)
                    .map_err(|e| ApiError::Config(format!("encode {what}: {e}")))?,
            ),
            None => None,
        };
        let policy = &inner.cfg.retry;
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let max_wait = match kind {
                Kind::Read => policy.max_rate_limit_wait,
                // A write never waits silently: the analyst decides when to act again.
                Kind::Write => Duration::ZERO,
            };
            inner.gate.wait(max_wait, &inner.host).await?;

            let mut req = inner
                .http
                .request(method.clone(), url)
                .header("X-Auth-Token", inner.cfg.token.expose())
                .header("Accept", "application/json");
            if let Some(p) = &payload {
                req = req
                    .header("Content-Type", "application/json")
                    .body(p.clone());
            }
            let outcome = match req.send().await {
                Ok(resp) => self.classify(resp, kind, what, sink).await,
                Err(e) => Err(self.transport_error(e, kind, what)),
            };
            let retryable = match &outcome {
                Ok(_) => return outcome,
                // Nothing reached the server: safe to retry even a write.
                Err(ApiError::Connect { .. }) => true,
                Err(ApiError::Timeout { .. })
                | Err(ApiError::Server { .. })
                | Err(ApiError::Dropped { .. }) => kind == Kind::Read,
                Err(ApiError::RateLimited { .. }) => kind == Kind::Read,
                Err(_) => false,
            };
            if !retryable || attempt >= policy.max_attempts {
                return outcome;
            }
            let delay = backoff(policy, attempt);
            if started.elapsed() + delay > policy.budget {
                return outcome;
            }
            tracing::debug!(host = %inner.host, what, attempt, ?delay, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    fn transport_error(&self, e: reqwest::Error, kind: Kind, what: &str) -> ApiError {
        let host = self.inner.host.clone();
        let detail = error_cause(&e);
        if is_certificate_error(&e) {
            return ApiError::Tls { host, detail };
        }
        if e.is_connect() {
            return ApiError::Connect { host, detail };
        }
        if kind == Kind::Write {
            // The body may have reached CBC: only reading the state can tell.
            return ApiError::UnclearOutcome {
                host,
                what: what.to_owned(),
                detail,
            };
        }
        if e.is_timeout() {
            return ApiError::Timeout {
                host,
                what: what.to_owned(),
                secs: self.inner.cfg.timeout.as_secs(),
            };
        }
        ApiError::Dropped {
            host,
            what: what.to_owned(),
            detail,
        }
    }

    async fn classify(
        &self,
        resp: reqwest::Response,
        kind: Kind,
        what: &str,
        sink: &mut dyn Sink,
    ) -> Result<StatusCode, ApiError> {
        let inner = &*self.inner;
        let status = resp.status();
        let host = inner.host.clone();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let header = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok());
            let wait = parse_retry_after(header, jiff::Timestamp::now());
            let until = inner.gate.block_for(wait);
            return Err(ApiError::RateLimited {
                host,
                until,
                wait_s: wait.as_secs(),
            });
        }
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| {
                    String::from_utf8_lossy(v.as_bytes())
                        .chars()
                        .take(200)
                        .collect()
                })
                .unwrap_or_default();
            return Err(ApiError::Redirect {
                host,
                what: what.to_owned(),
                status: status.as_u16(),
                location,
            });
        }
        // An error's body is CBC's error JSON, never the caller's document.
        let mut err_buf = Vec::new();
        let target: &mut dyn Sink = if status.is_success() {
            sink
        } else {
            &mut err_buf
        };
        match self.read_body(resp, what, target).await {
            Ok(()) => {}
            Err(e) if kind == Kind::Write && status.is_success() => {
                // The server accepted it; only the body read failed.
                return Err(ApiError::UnclearOutcome {
                    host,
                    what: what.to_owned(),
                    detail: e.to_string(),
                });
            }
            Err(e) => return Err(e),
        }
        if status.is_success() {
            return Ok(status);
        }
        let what = what.to_owned();
        let err_body: ErrorBody = serde_json::from_slice(&err_buf).unwrap_or_default();
        let message = self.scrub(
            err_body
                .message
                .or(err_body.error_code.clone())
                .or(err_body.reason.clone())
                .unwrap_or_else(|| format!("HTTP {status} with no error details")),
        );
        Err(match status.as_u16() {
            400 if err_body.reason.as_deref() == Some("query_malformed_syntax") => {
                ApiError::QuerySyntax { message }
            }
            400 => ApiError::BadRequest { what, message },
            401 => ApiError::Unauthorized {
                host,
                org_key: inner.cfg.org_key.clone(),
            },
            403 => ApiError::Forbidden { what },
            404 => ApiError::NotFound { what },
            409 => ApiError::Conflict { what, message },
            s if kind == Kind::Write && (s == 502 || s == 504) => {
                // A gateway error says nothing about whether the backend applied the change.
                ApiError::UnclearOutcome {
                    host,
                    what,
                    detail: format!("HTTP {s}"),
                }
            }
            s => ApiError::Server {
                host,
                status: s,
                what,
            },
        })
    }

    /// Hands the body to `out` (reset first) chunk by chunk, refusing more than `max_body`
    /// bytes.
    async fn read_body(
        &self,
        mut resp: reqwest::Response,
        what: &str,
        out: &mut dyn Sink,
    ) -> Result<(), ApiError> {
        let limit = self.inner.cfg.max_body;
        if resp.content_length().is_some_and(|n| n as usize > limit) {
            return Err(ApiError::TooLarge {
                host: self.inner.host.clone(),
                what: what.to_owned(),
                limit,
            });
        }
        out.reset(resp.content_length());
        let mut total = 0usize;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    total += chunk.len();
                    if total > limit {
                        return Err(ApiError::TooLarge {
                            host: self.inner.host.clone(),
                            what: what.to_owned(),
                            limit,
                        });
                    }
                    out.feed(&chunk)
                        .map_err(|e| self.decode_error(what, e.detail()))?;
                }
                Ok(None) => return Ok(()),
                Err(e) if e.is_timeout() => {
                    return Err(ApiError::Timeout {
                        host: self.inner.host.clone(),
                        what: what.to_owned(),
                        secs: self.inner.cfg.timeout.as_secs(),
                    });
                }
                Err(e) => {
                    return Err(ApiError::Decode {
                        host: self.inner.host.clone(),
                        what: what.to_owned(),
                        detail: format!("body cut off: {}", error_cause(&e)),
                    });
                }
            }
        }
    }

    /// Server text echoed into an error must never carry our secret.
    fn scrub(&self, s: String) -> String {
        let secret = self.inner.cfg.token.expose();
        let mut s = if s.contains(secret) {
            s.replace(secret, "<redacted>")
        } else {
            s
        };
        if let Some((key, _)) = secret.split_once('/')
            && s.contains(key)
        {
            s = s.replace(key, "<redacted>");
        }
        // Cap what one error can put on screen.
        if s.chars().count() > 300 {
            s = s.chars().take(300).collect::<String>() + "…";
        }
        s
    }

    fn decode<T: DeserializeOwned>(&self, body: &Body, what: &str) -> Result<T, ApiError> {
        self.decode_bytes(body.status, &body.bytes, what)
    }

    fn decode_bytes<T: DeserializeOwned>(
        &self,
        status: StatusCode,
        bytes: &[u8],
        what: &str,
    ) -> Result<T, ApiError> {
        self.decode_seed(status, bytes, what, std::marker::PhantomData::<T>)
    }

    fn decode_seed<'a, S: serde::de::DeserializeSeed<'a>>(
        &self,
        status: StatusCode,
        bytes: &'a [u8],
        what: &str,
        seed: S,
    ) -> Result<S::Value, ApiError> {
        if bytes.is_empty() && status == StatusCode::NO_CONTENT {
            return parse_json_seed(b"null", seed)
                .map_err(|_| self.decode_error(what, "empty body (204)".into()));
        }
        parse_json_seed(bytes, seed).map_err(|e| {
            // Position only: the body could echo anything, including headers.
            self.decode_error(
                what,
                format!(
                    "invalid JSON ({} at line {} column {})",
                    json_error_kind(e.classify()),
                    e.line(),
                    e.column()
                ),
            )
        })
    }

    fn decode_error(&self, what: &str, detail: String) -> ApiError {
        ApiError::Decode {
            host: self.inner.host.clone(),
            what: what.to_owned(),
            detail,
        }
    }

    async fn get<T: DeserializeOwned>(&self, url: &str, what: &str) -> Result<T, ApiError> {
        let body = self
            .send::<()>(Kind::Read, Method::GET, url, None, what)
            .await?;
        self.decode(&body, what)
    }

    async fn post_read<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
        what: &str,
    ) -> Result<T, ApiError> {
        let body = self
            .send(Kind::Read, Method::POST, url, Some(body), what)
            .await?;
        self.decode(&body, what)
    }

    async fn post_write<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
        what: &str,
    ) -> Result<T, ApiError> {
        let resp = self
            .send(Kind::Write, Method::POST, url, Some(body), what)
            .await?;
        // The change happened; a body we cannot read does not undo it.
        self.decode(&resp, what)
            .map_err(|e| ApiError::UnclearOutcome {
                host: self.inner.host.clone(),
                what: what.to_owned(),
                detail: e.to_string(),
            })
    }

    // -----------------------------------------------------------------------------------------
    // Alerts v7

    /// One page of an alert search.
    pub async fn search_alerts(&self, search: &AlertSearch) -> Result<AlertPage, ApiError> {
        self.search_alerts_as(search).await
    }

    /// One page of an alert search, parsed as full alerts or as summaries.
    pub async fn search_alerts_as<T: AlertRecord>(
        &self,
        search: &AlertSearch,
    ) -> Result<AlertPage<T>, ApiError> {
        let mut results = Vec::new();
        let counts = self.search_alerts_into(search, &mut results).await?;
        Ok(AlertPage {
            results,
            num_found: counts.num_found,
            num_available: counts.num_available,
        })
    }

    /// One page of an alert search, its alerts parsed while the body arrives and appended to
    /// `out` (see [`PageReader`]).
    async fn search_alerts_into<T: AlertRecord>(
        &self,
        search: &AlertSearch,
        out: &mut Vec<T>,
    ) -> Result<PageCounts, ApiError> {
        const WHAT: &str = "alert search";
        let url = self.alerts_url("alerts/_search");
        let mut reader = PageReader::new(out);
        let status = self
            .send_into(
                Kind::Read,
                Method::POST,
                &url,
                Some(search),
                WHAT,
                &mut reader,
            )
            .await?;
        if status == StatusCode::NO_CONTENT {
            return Err(self.decode_error(WHAT, "empty body (204)".into()));
        }
        reader
            .finish()
            .map_err(|e| self.decode_error(WHAT, e.detail()))
    }

    /// Every alert a search reaches (offset paging, at most CBC's 10 000-row window).
    pub async fn search_alerts_all(&self, search: &AlertSearch) -> Result<Vec<Alert>, ApiError> {
        self.search_alerts_all_as(search).await
    }

    /// [`Client::search_alerts_all`], parsed as full alerts or as summaries.
    pub async fn search_alerts_all_as<T: AlertRecord>(
        &self,
        search: &AlertSearch,
    ) -> Result<Vec<T>, ApiError> {
        let mut q = search.clone();
        q.start = None;
        // Pages are parsed straight into `out` while they arrive: no page-sized body buffer,
        // no page-sized Vec copied over.
        let mut out: Vec<T> = Vec::with_capacity(q.rows.min(MAX_SEARCH_WINDOW as u32) as usize);
        loop {
            let before = out.len();
            let page = self.search_alerts_into(&q, &mut out).await?;
            let reachable = page
                .num_available
                .unwrap_or(page.num_found)
                .min(page.num_found)
                .min(MAX_SEARCH_WINDOW);
            if before == 0 {
                out.reserve_exact((reachable as usize).saturating_sub(out.len()));
            }
            let got = out.len() - before;
            if got == 0 || out.len() as u64 >= reachable {
                // A first page smaller than `rows` leaves room never used: give it back.
                if out.capacity() > 2 * out.len() {
                    out.shrink_to_fit();
                }
                return Ok(out);
            }
            let next = out.len() as u64 + 1;
            if next + u64::from(q.rows) - 1 > MAX_SEARCH_WINDOW {
                q.rows = (MAX_SEARCH_WINDOW + 1 - next) as u32;
            }
            q.start = Some(next as u32);
        }
    }

    pub async fn alert(&self, id: &str) -> Result<Alert, ApiError> {
        let what = format!("alert {id}");
        self.get(
            &self.alerts_url(&format!("alerts/{}", path_segment(id)?)),
            &what,
        )
        .await
    }

    pub async fn alert_notes(&self, id: &str) -> Result<Vec<Note>, ApiError> {
        let url = self.alerts_url(&format!("alerts/{}/notes", path_segment(id)?));
        let page: NotePage = self.get(&url, &format!("notes of alert {id}")).await?;
        Ok(page.results)
    }

    pub async fn add_alert_note(&self, id: &str, text: &str) -> Result<Note, ApiError> {
        #[derive(Serialize)]
        struct NoteBody<'a> {
            note: &'a str,
        }
        let url = self.alerts_url(&format!("alerts/{}/notes", path_segment(id)?));
        self.post_write(
            &url,
            &NoteBody { note: text },
            &format!("note on alert {id}"),
        )
        .await
    }

    pub async fn alert_history(&self, id: &str) -> Result<Vec<HistoryEntry>, ApiError> {
        let url = self.alerts_url(&format!("alerts/{}/history", path_segment(id)?));
        let h: History = self.get(&url, &format!("history of alert {id}")).await?;
        Ok(h.history)
    }

    /// Starts a workflow change; returns the job id (`request_id`).
    pub async fn update_workflow(&self, update: &WorkflowUpdate) -> Result<String, ApiError> {
        let accepted: WorkflowAccepted = self
            .post_write(
                &self.alerts_url("alerts/workflow"),
                update,
                "alert workflow update",
            )
            .await?;
        Ok(accepted.request_id)
    }

    /// After an unclear workflow update: whether every alert it names by id now shows the
    /// requested status (and determination, when one was asked for). This is the read that
    /// replaces a blind retry.
    pub async fn workflow_applied(&self, update: &WorkflowUpdate) -> Result<bool, ApiError> {
        let Some(Criterion::Strings(ids)) = update.criteria.0.get("id") else {
            return Err(ApiError::Config(
                "workflow update names no alert ids".into(),
            ));
        };
        for id in ids {
            let alert = self.alert(id).await?;
            let determination_ok = update.determination.as_deref().is_none_or(|want| {
                alert
                    .determination
                    .as_ref()
                    .and_then(|d| d.value.as_deref())
                    == Some(want)
            });
            if alert.status() != update.status || !determination_ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// After an unclear note add: whether the alert has a note with exactly this text.
    pub async fn note_present(&self, alert_id: &str, text: &str) -> Result<bool, ApiError> {
        Ok(self
            .alert_notes(alert_id)
            .await?
            .iter()
            .any(|n| n.note.as_deref() == Some(text)))
    }

    pub async fn job(&self, job_id: &str) -> Result<Job, ApiError> {
        let url = self.url("jobs/v1", &format!("jobs/{}", path_segment(job_id)?));
        self.get(&url, &format!("job {job_id}")).await
    }

    /// Polls a jobs-service job until it finishes (back-off 0.1 s → 2 s, as the SDK does).
    pub async fn wait_job(&self, job_id: &str, timeout: Duration) -> Result<Job, ApiError> {
        let what = format!("job {job_id}");
        let job = poll_until(timeout, &what, || self.job(job_id), Job::is_finished).await?;
        if job.failed() {
            let message = job
                .progress
                .as_ref()
                .and_then(|p| p.message.clone())
                .unwrap_or_default();
            return Err(ApiError::JobFailed { what, message });
        }
        Ok(job)
    }

    // -----------------------------------------------------------------------------------------
    // Devices

    pub async fn search_devices(&self, search: &DeviceSearch) -> Result<DevicePage, ApiError> {
        self.post_read(
            &self.appservices_url("devices/_search"),
            search,
            "device search",
        )
        .await
    }

    pub async fn device(&self, id: i64) -> Result<Device, ApiError> {
        self.get(
            &self.appservices_url(&format!("devices/{id}")),
            &format!("device {id}"),
        )
        .await
    }

    /// Quarantine on or off for exactly the devices named in `action` (never a search).
    /// CBC answers 204; the device flips when its sensor next checks in.
    pub async fn quarantine(&self, action: &QuarantineAction) -> Result<(), ApiError> {
        let what = format!(
            "quarantine {} for device {}",
            if action.toggle() == Toggle::On {
                "ON"
            } else {
                "OFF"
            },
            action
                .device_ids()
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.send(
            Kind::Write,
            Method::POST,
            &self.appservices_url("device_actions"),
            Some(action),
            &what,
        )
        .await
        .map(drop)
    }

    // -----------------------------------------------------------------------------------------
    // Platform search

    /// Runs a process search job to completion and returns every result row.
    pub async fn search_processes(
        &self,
        job: &SearchJob,
        timeout: Duration,
    ) -> Result<Vec<Process>, ApiError> {
        #[derive(Serialize)]
        struct Validate<'a> {
            query: &'a str,
        }
        #[derive(serde::Deserialize)]
        struct Validation {
            #[serde(default)]
            valid: bool,
            #[serde(default)]
            invalid_message: Option<String>,
        }
        let v: Validation = self
            .post_read(
                &self.investigate_url("processes/search_validation"),
                &Validate { query: &job.query },
                "process query validation",
            )
            .await?;
        if !v.valid {
            return Err(ApiError::QuerySyntax {
                message: self.scrub(v.invalid_message.unwrap_or_else(|| "invalid query".into())),
            });
        }
        let created: JobCreated = self
            .post_read(
                &self.investigate_url("processes/search_jobs"),
                job,
                "process search",
            )
            .await?;
        self.collect_job(
            &format!(
                "processes/search_jobs/{}/results",
                path_segment(&created.job_id)?
            ),
            timeout,
            "process search",
        )
        .await
    }

    /// Runs an observation search job to completion.
    pub async fn search_observations(
        &self,
        job: &SearchJob,
        timeout: Duration,
    ) -> Result<Vec<Observation>, ApiError> {
        let created: JobCreated = self
            .post_read(
                &self.investigate_url("observations/search_jobs"),
                job,
                "observation search",
            )
            .await?;
        self.collect_job(
            &format!(
                "observations/search_jobs/{}/results",
                path_segment(&created.job_id)?
            ),
            timeout,
            "observation search",
        )
        .await
    }

    /// Full observation documents: by ids, or every observation behind one alert.
    pub async fn observation_details(
        &self,
        request: &ObservationDetail,
        timeout: Duration,
    ) -> Result<Vec<Observation>, ApiError> {
        let created: JobCreated = self
            .post_read(
                &self.investigate_url("observations/detail_jobs"),
                request,
                "observation details",
            )
            .await?;
        self.collect_job(
            &format!(
                "observations/detail_jobs/{}/results",
                path_segment(&created.job_id)?
            ),
            timeout,
            "observation details",
        )
        .await
    }

    /// Full process documents for the given guids.
    pub async fn process_details(
        &self,
        guids: &[String],
        timeout: Duration,
    ) -> Result<Vec<Process>, ApiError> {
        #[derive(Serialize)]
        struct Req<'a> {
            process_guids: &'a [String],
        }
        let created: JobCreated = self
            .post_read(
                &self.investigate_url("processes/detail_jobs"),
                &Req {
                    process_guids: guids,
                },
                "process details",
            )
            .await?;
        self.collect_job(
            &format!(
                "processes/detail_jobs/{}/results",
                path_segment(&created.job_id)?
            ),
            timeout,
            "process details",
        )
        .await
    }

    /// The process tree around `process_guid` (root ancestor with nested `children`), from a
    /// `summary_jobs` job.
    pub async fn process_tree(
        &self,
        process_guid: &str,
        timeout: Duration,
    ) -> Result<Process, ApiError> {
        let r = self
            .summary_job(process_guid, SummaryFormat::Tree, timeout)
            .await?;
        r.tree
            .ok_or_else(|| self.decode_error("process tree", "no tree in the result".into()))
    }

    /// Process, parent, children and siblings of `process_guid`.
    pub async fn process_summary(
        &self,
        process_guid: &str,
        timeout: Duration,
    ) -> Result<ProcessSummary, ApiError> {
        let r = self
            .summary_job(process_guid, SummaryFormat::Summary, timeout)
            .await?;
        r.summary
            .ok_or_else(|| self.decode_error("process summary", "no summary in the result".into()))
    }

    async fn summary_job(
        &self,
        guid: &str,
        format: SummaryFormat,
        timeout: Duration,
    ) -> Result<SummaryResults, ApiError> {
        #[derive(Serialize)]
        struct Req<'a> {
            process_guid: &'a str,
        }
        let what = format!("process {} of {guid}", format.as_str());
        let created: JobCreated = self
            .post_read(
                &self.investigate_url("processes/summary_jobs"),
                &Req { process_guid: guid },
                &what,
            )
            .await?;
        let base = self.investigate_url(&format!(
            "processes/summary_jobs/{}/results",
            path_segment(&created.job_id)?
        ));
        let poll_url = format!("{base}?format=summary");
        poll_until(
            timeout,
            &what,
            || self.get::<SummaryResults>(&poll_url, &what),
            SummaryResults::is_done,
        )
        .await?;
        let result: SummaryResults = self
            .get(&format!("{base}?format={}", format.as_str()), &what)
            .await?;
        if let Some(ex) = result.exception.as_deref().filter(|e| !e.is_empty()) {
            return Err(ApiError::JobFailed {
                what,
                message: self.scrub(ex.to_owned()),
            });
        }
        Ok(result)
    }

    /// Polls a search/detail job until done, then pages through `num_available` rows.
    async fn collect_job<T: crate::cbc::lenient::LenientObject>(
        &self,
        results_path: &str,
        timeout: Duration,
        what: &str,
    ) -> Result<Vec<T>, ApiError> {
        let base = self.investigate_url(results_path);
        let status_url = format!("{base}?start=0&rows=0");
        let status = poll_until(
            timeout,
            what,
            || self.get::<JobResults<T>>(&status_url, what),
            JobResults::is_done,
        )
        .await?;
        let total = status.num_available;
        let mut out = Vec::with_capacity(total.min(10_000) as usize);
        const PAGE: u64 = 500;
        while (out.len() as u64) < total {
            let url = format!("{base}?start={}&rows={PAGE}", out.len());
            let page: JobResults<T> = self.get(&url, what).await?;
            if page.results.is_empty() {
                break;
            }
            out.extend(page.results);
        }
        Ok(out)
    }

    // -----------------------------------------------------------------------------------------
    // Reputation overrides

    pub async fn create_override(
        &self,
        body: &HashOverride,
    ) -> Result<ReputationOverride, ApiError> {
        let what = format!(
            "{} of {}",
            if body.override_list == OverrideList::Ban {
                "ban"
            } else {
                "allow-list entry"
            },
            body.sha256_hash
        );
        self.post_write(&self.appservices_url("reputations/overrides"), body, &what)
            .await
    }

    pub async fn search_overrides(
        &self,
        search: &OverrideSearch,
    ) -> Result<OverridePage, ApiError> {
        self.post_read(
            &self.appservices_url("reputations/overrides/_search"),
            search,
            "reputation override search",
        )
        .await
    }

    pub async fn delete_override(&self, id: &str) -> Result<(), ApiError> {
        let url = self.appservices_url(&format!("reputations/overrides/{}", path_segment(id)?));
        self.send::<()>(
            Kind::Write,
            Method::DELETE,
            &url,
            None,
            &format!("delete reputation override {id}"),
        )
        .await
        .map(drop)
    }
}

/// Ids go into URL paths: refuse anything that could change the path.
fn path_segment(id: &str) -> Result<&str, ApiError> {
    if !id.is_empty()
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b))
    {
        Ok(id)
    } else {
        Err(ApiError::Config(format!(
            "invalid id {:?}",
            id.chars().take(80).collect::<String>()
        )))
    }
}

/// Full-jitter exponential backoff: uniform in `[0, min(max, base·2^(attempt-1))]`.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << (attempt - 1).min(16));
    let cap = exp.min(policy.max_delay);
    let ms = cap.as_millis() as u64;
    Duration::from_millis(if ms == 0 {
        0
    } else {
        rand::rng().random_range(0..=ms)
    })
}

/// Polls `fetch` with back-off (0.1 s doubling to 2 s) until `done`, or times out.
async fn poll_until<T, F, Fut>(
    timeout: Duration,
    what: &str,
    mut fetch: F,
    done: impl Fn(&T) -> bool,
) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(100);
    loop {
        let v = fetch().await?;
        if done(&v) {
            return Ok(v);
        }
        if Instant::now() + delay > deadline {
            return Err(ApiError::JobTimeout {
                what: what.to_owned(),
                secs: timeout.as_secs(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts
}

/// The useful end of an error chain ("tcp connect error: Connection refused (os error 111)"),
/// without reqwest's wrapper that repeats the URL.
fn error_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let chain = error_chain(e);
    let useful: Vec<&str> = chain
        .iter()
        .map(String::as_str)
        .filter(|p| !p.starts_with("error sending request") && !p.starts_with("client error ("))
        .collect();
    match useful.len() {
        0 => chain.last().cloned().unwrap_or_default(),
        n => useful[n.saturating_sub(2)..].join(": "),
    }
}

/// A TLS verification failure: never transient, and the fix is configuration.
fn is_certificate_error(e: &(dyn std::error::Error + 'static)) -> bool {
    error_chain(e).iter().any(|p| {
        let p = p.to_ascii_lowercase();
        p.contains("certificate") || p.contains("unknownissuer") || p.contains("tls handshake")
    })
}

/// What kind of JSON error, for messages that must not quote the body.
pub(crate) fn json_error_kind(category: serde_json::error::Category) -> &'static str {
    match category {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected shape",
        serde_json::error::Category::Eof => "truncated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_the_full_jitter_bounds() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let cap = p
                .base_delay
                .saturating_mul(1 << (attempt - 1))
                .min(p.max_delay);
            for _ in 0..200 {
                assert!(backoff(&p, attempt) <= cap);
            }
        }
    }

    #[test]
    fn ids_that_could_change_the_url_path_are_refused() {
        assert!(path_segment("6f1173f5-f921-8e11-2160-edf42b799333").is_ok());
        assert!(path_segment("8fbccc2da75f11ed:be6ff259-88e3").is_ok());
        for bad in ["", "../devices", "a/b", "a?b", "a#b", "a b", "x\u{1b}[2J"] {
            assert!(path_segment(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_is_parsed_alike_whether_or_not_the_body_is_utf8_throughout() {
        use crate::cbc::model::{AlertPage, AlertSummary};
        fn parse_json<'a, T: serde::Deserialize<'a>>(b: &'a [u8]) -> serde_json::Result<T> {
            parse_json_seed(b, std::marker::PhantomData::<T>)
        }
        let good = br#"{"results":[{"id":"a1","severity":3,"device_name":"h\u00e9","blob":"x"}],"num_found":1}"#;
        let page: AlertPage<AlertSummary> = parse_json(good).unwrap();
        assert_eq!(page.results[0].id(), Some("a1"));
        assert_eq!(page.results[0].device_name(), Some("h\u{e9}"));
        assert_eq!(page.num_found, 1);
        // Invalid UTF-8 inside a field the projection skips: accepted, as serde_json's slice
        // reader always did.
        let mut skipped = good.to_vec();
        let at = skipped.windows(3).position(|w| w == b"\"x\"").unwrap() + 1;
        skipped[at] = 0xff;
        let page: AlertPage<AlertSummary> = parse_json(&skipped).unwrap();
        assert_eq!(page.results[0].id(), Some("a1"));
        // Invalid UTF-8 in a field that is read: the page fails, with a position.
        let mut read = good.to_vec();
        let at = read.windows(4).position(|w| w == b"\"a1\"").unwrap() + 1;
        read[at] = 0xff;
        let e = parse_json::<AlertPage<AlertSummary>>(&read).unwrap_err();
        assert!(e.line() == 1 && e.column() > 0, "{e}");
        // Broken JSON fails either way, at the same place.
        let e1 = parse_json::<AlertPage<AlertSummary>>(b"{\"results\": [1,").unwrap_err();
        let e2 =
            serde_json::from_slice::<AlertPage<AlertSummary>>(b"{\"results\": [1,").unwrap_err();
        assert_eq!((e1.line(), e1.column()), (e2.line(), e2.column()));
    }

    #[test]
    fn http_urls_and_bad_org_keys_are_configuration_errors() {
        let t = Token::new("S/I").unwrap();
        let e =
            Client::new(ClientConfig::new("http://example.com", "ORG1", t.clone())).unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        let e = Client::new(ClientConfig::new("https://example.com", "OR/G", t)).unwrap_err();
        assert!(e.to_string().contains("alphanumeric"), "{e}");
    }
}
