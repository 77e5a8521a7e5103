//! Client errors. Messages are written for an analyst at 03:00: what failed, against which
//! host/org, and what to do. They never contain the token (it is not in any input they are built
//! from, and CBC error text is scrubbed of it before it gets here).

use jiff::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("CBC rejected the request (400) for {what}: {message}")]
    BadRequest { what: String, message: String },

    #[error("CBC could not parse the search query (400): {message}")]
    QuerySyntax { message: String },

    #[error(
        "authentication failed (401) for org {org_key} at {host}: check the API key (secret/ID) and the org key"
    )]
    Unauthorized { host: String, org_key: String },

    #[error("permission denied (403) for {what}: the API key's access level lacks this permission")]
    Forbidden { what: String },

    #[error("not found (404): {what}")]
    NotFound { what: String },

    #[error("conflict (409) for {what}: {message}")]
    Conflict { what: String, message: String },

    #[error("rate limited (429) by {host}: no requests until {until} ({wait_s} s)")]
    RateLimited {
        host: String,
        until: Timestamp,
        wait_s: u64,
    },

    #[error(
        "{host} answered {what} with a redirect ({status}) to {location:?}; not followed (it could carry the API token elsewhere) — check the CBC URL"
    )]
    Redirect {
        host: String,
        what: String,
        status: u16,
        location: String,
    },

    #[error("server error ({status}) from {host} for {what}")]
    Server {
        host: String,
        status: u16,
        what: String,
    },

    #[error("timed out after {secs} s waiting for {host} ({what})")]
    Timeout {
        host: String,
        what: String,
        secs: u64,
    },

    #[error(
        "the certificate of {host} is not trusted ({detail}); if it uses a private CA, give its PEM with --ca-file (or ssl_cert_file / ca_file)"
    )]
    Tls { host: String, detail: String },

    #[error("cannot connect to {host}: {detail}")]
    Connect { host: String, detail: String },

    /// The connection was made and the request sent, then it broke before an answer came
    /// (reads only: a write gets [`ApiError::UnclearOutcome`]).
    #[error("the connection to {host} broke during {what}: {detail}")]
    Dropped {
        host: String,
        what: String,
        detail: String,
    },

    #[error(
        "outcome unknown: {what} was sent to {host} but no clear answer came back ({detail}); it was not retried — read the current state before trying again"
    )]
    UnclearOutcome {
        host: String,
        what: String,
        detail: String,
    },

    #[error("malformed response from {host} for {what}: {detail}")]
    Decode {
        host: String,
        what: String,
        detail: String,
    },

    #[error("response from {host} for {what} is larger than {limit} bytes; refused")]
    TooLarge {
        host: String,
        what: String,
        limit: usize,
    },

    #[error("read-only mode: {what} was not sent")]
    ReadOnly { what: String },

    #[error("{what} did not finish within {secs} s")]
    JobTimeout { what: String, secs: u64 },

    #[error("{what} failed on the server: {message}")]
    JobFailed { what: String, message: String },

    #[error("client configuration: {0}")]
    Config(String),
}

impl ApiError {
    /// HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        Some(match self {
            ApiError::BadRequest { .. } | ApiError::QuerySyntax { .. } => 400,
            ApiError::Unauthorized { .. } => 401,
            ApiError::Forbidden { .. } => 403,
            ApiError::NotFound { .. } => 404,
            ApiError::Conflict { .. } => 409,
            ApiError::RateLimited { .. } => 429,
            ApiError::Server { status, .. } | ApiError::Redirect { status, .. } => *status,
            _ => return None,
        })
    }

    /// Worth trying again later (network, server trouble, rate limit), as opposed to a request
    /// that will fail the same way until someone changes something.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::RateLimited { .. }
                | ApiError::Server { .. }
                | ApiError::Timeout { .. }
                | ApiError::Connect { .. }
                | ApiError::Dropped { .. }
                | ApiError::JobTimeout { .. }
        )
    }
}
