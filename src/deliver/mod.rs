//! Delivering a report through a customer's channels: email (SMTP), Slack and Teams incoming
//! webhooks — plus loopback sinks ([`sink`]) so the demo and the tests need no outside server.
//!
//! Rules every function here keeps:
//! - TLS verification is always on. A private CA is *added* to the trust roots (`ca_pem`); there
//!   is no switch to turn checking off. Plain text is allowed only to a loopback host.
//! - Secrets never leak: an SMTP password lives in a [`Secret`] (redacted in Debug/Display), and a
//!   webhook URL's path — which *is* the credential for Slack and Teams — never appears in an
//!   error, a log line, an [`Outcome`] or Debug output; only its scheme and host do.
//! - Each delivery carries an idempotency key: in the `Message-ID` and `X-Socdeck-Delivery`
//!   headers of an email, in the `Idempotency-Key` header of a webhook call, so a retried send is
//!   recognisable as the same message by the receiver (and by an analyst reading headers).
//!
//! Phone calls are not delivered; they are logged elsewhere.

mod email;
pub mod sink;
mod webhook;

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

pub use email::{email_preview, message_id, send_email};
pub use webhook::{send_webhook, webhook_client, webhook_target};

/// A written channel a report goes out through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Slack,
    Teams,
}

impl Channel {
    /// Stable lower-case name, for the journal and the CBC note (`channels=email,slack`).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Slack => "slack",
            Channel::Teams => "teams",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is sent: a subject and a plain-text body (UTF-8, Japanese included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

/// One contact of a customer and the channels they can be reached on.
///
/// The webhook URLs are credentials (anyone holding one can post), so Debug shows only their
/// scheme and host.
#[derive(Clone, PartialEq, Eq)]
pub struct Recipient {
    pub name: String,
    pub email: Option<String>,
    pub slack_webhook: Option<String>,
    pub teams_webhook: Option<String>,
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient")
            .field("name", &self.name)
            .field("email", &self.email)
            .field(
                "slack_webhook",
                &self.slack_webhook.as_deref().map(webhook_target),
            )
            .field(
                "teams_webhook",
                &self.teams_webhook.as_deref().map(webhook_target),
            )
            .finish()
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (no silent plain fallback).
    /// Usually port 587.
    StartTls,
    /// TLS from the first byte ("SMTPS"). Usually port 465.
    Implicit,
    /// No encryption: only for a loopback host (a local relay or the demo sink); refused
    /// for any other host.
    None,
}

/// SMTP server settings (from the config file; the password from the environment or a file).
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// The `From` mailbox, e.g. `SOC <soc@example.com>`; its domain also names the Message-ID.
    pub from: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// PEM bundle of extra trusted CAs (added to the system roots; verification is always on).
    pub ca_pem: Option<Vec<u8>>,
    /// Bounds the whole send: connect, TLS, AUTH and the transaction.
    pub timeout: Duration,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &self.password)
            .field(
                "ca_pem",
                &self.ca_pem.as_ref().map(|p| format!("<{} bytes>", p.len())),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A password that redacts itself in Debug and Display.
///
/// Built only from an environment variable or a 0600 file, never from a command-line argument
/// (which every user of the host can read in `ps`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Reads the secret from the environment variable `var`.
    pub fn from_env(var: &str) -> Result<Secret, DeliverError> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret(v)),
            Ok(_) => Err(DeliverError::Config(format!(
                "environment variable {var} is empty"
            ))),
            Err(std::env::VarError::NotPresent) => Err(DeliverError::Config(format!(
                "environment variable {var} is not set"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(DeliverError::Config(format!(
                "environment variable {var} is not valid UTF-8"
            ))),
        }
    }

    /// Reads the secret from a file that only its owner can read (0600/0400, in a 0700
    /// directory: the same checks as the CBC token file). One trailing newline is dropped.
    pub fn from_file(path: &Path) -> Result<Secret, DeliverError> {
        use crate::config::perms::{SecretRead, read_secret};
        let what = "SMTP password file";
        let bytes =
            match read_secret(what, path).map_err(|e| DeliverError::Config(e.to_string()))? {
                SecretRead::Read(b) => b,
                SecretRead::Missing => {
                    return Err(DeliverError::Config(format!(
                        "{what} {} does not exist",
                        path.display()
                    )));
                }
                SecretRead::Denied => {
                    return Err(DeliverError::Config(format!(
                        "{what} {} cannot be read by this user",
                        path.display()
                    )));
                }
            };
        let mut s = String::from_utf8(bytes)
            .map_err(|_| DeliverError::Config(format!("{what} {} is not UTF-8", path.display())))?;
        if s.ends_with('\n') {
            s.pop();
            if s.ends_with('\r') {
                s.pop();
            }
        }
        if s.is_empty() {
            return Err(DeliverError::Config(format!(
                "{what} {} is empty",
                path.display()
            )));
        }
        Ok(Secret(s))
    }

    /// The secret itself, for the one place that must send it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The result of one delivery attempt on one channel to one target.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub channel: Channel,
    /// The email address, or the webhook's scheme and host only (see [`webhook_target`]).
    pub target: String,
    pub result: Result<(), DeliverError>,
}

/// Why a delivery failed. Messages name the server (host:port, or a webhook's scheme and host)
/// and never carry a password or a webhook path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliverError {
    /// Bad settings or input, found before anything was sent.
    #[error("cannot deliver: {0}")]
    Config(String),
    #[error("{target}: connection refused (is the server running and the port right?)")]
    Refused { target: String },
    #[error("{target}: TLS failure: {detail}")]
    Tls { target: String, detail: String },
    #[error("{target}: authentication failed: {detail}")]
    Auth { target: String, detail: String },
    /// The SMTP server refused with a 4xx (try again later) or 5xx (permanent) reply.
    #[error("{target}: SMTP server answered {code}: {text}")]
    Smtp {
        target: String,
        code: u16,
        text: String,
    },
    /// The webhook answered with a non-success status (redirects are not followed).
    #[error("{target}: HTTP {status}: {excerpt}")]
    Http {
        target: String,
        status: u16,
        excerpt: String,
    },
    /// `after` is the limit that ran out, when known (a caller's reqwest client may have its
    /// own, shorter one).
    #[error("{target}: timed out{}", after_text(.after))]
    Timeout {
        target: String,
        after: Option<Duration>,
    },
    #[error("{target}: network error: {detail}")]
    Network { target: String, detail: String },
}

fn after_text(after: &Option<Duration>) -> String {
    match after {
        Some(d) => format!(" after {}s", d.as_secs_f32()),
        None => String::new(),
    }
}

impl DeliverError {
    /// Whether trying the same delivery again later may succeed without changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            DeliverError::Refused { .. }
            | DeliverError::Timeout { .. }
            | DeliverError::Network { .. } => true,
            DeliverError::Smtp { code, .. } => (400..500).contains(code),
            DeliverError::Http { status, .. } => *status == 429 || *status >= 500,
            DeliverError::Config(_) | DeliverError::Tls { .. } | DeliverError::Auth { .. } => false,
        }
    }
}

/// Slack incoming-webhook JSON: `{"text": "*subject*\nbody"}`.
///
/// `&`, `<` and `>` are escaped as Slack asks, so text from an alert (a command line, a URL
/// typed by an attacker) cannot become a link or a `<!channel>` ping. `*` in the subject
/// becomes a full-width `＊` so it cannot end the bold early. Link and media unfurling is off:
/// a report often names malicious URLs, and Slack must not fetch them.
pub fn slack_payload(msg: &Message) -> serde_json::Value {
    let subject = slack_escape(&one_line(&msg.subject)).replace('*', "＊");
    let text = format!("*{subject}*\n{}", slack_escape(&msg.body));
    serde_json::json!({
        "text": text,
        "mrkdwn": true,
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// Teams incoming-webhook JSON: an Adaptive Card (1.4) in a `message` envelope.
///
/// Adaptive Card rather than the legacy MessageCard: Microsoft is retiring Office 365
/// connectors, and the Workflows (Power Automate) webhooks that replace them accept only
/// Adaptive Cards — this envelope works with both. The body is a `RichTextBlock`/`TextRun`,
/// which Teams renders as plain text (no Markdown), so report text quoting a command line or a
/// URL shows verbatim and cannot turn into a link.
pub fn teams_payload(msg: &Message) -> serde_json::Value {
    serde_json::json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": { "width": "Full" },
                "body": [
                    {
                        "type": "RichTextBlock",
                        "inlines": [{
                            "type": "TextRun",
                            "text": one_line(&msg.subject),
                            "weight": "Bolder",
                            "size": "Medium",
                        }],
                    },
                    {
                        "type": "RichTextBlock",
                        "inlines": [{ "type": "TextRun", "text": msg.body }],
                    },
                ],
            },
        }],
    })
}

fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A subject is one line: control characters (CR/LF included) become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Idempotency keys go into headers verbatim: 1–200 visible ASCII characters.
fn check_idempotency_key(key: &str) -> Result<(), DeliverError> {
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DeliverError::Config(
            "the idempotency key must be 1-200 visible ASCII characters".into(),
        ));
    }
    Ok(())
}

/// `localhost` or a loopback IP address (the only hosts plain text may go to).
fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Finds the first error of type `T` in a source chain, looking inside `io::Error`s too: TLS
/// and socket errors arrive wrapped in them (sometimes io::Error in io::Error), and
/// `io::Error::source` skips the wrapped error itself.
fn find_in_chain<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            return find_in_chain::<T>(inner);
        }
        cur = e.source();
    }
    None
}

/// The io::ErrorKind of the first io::Error in a source chain.
/// An `Other` wrapper around another io::Error is looked through (hyper does that).
fn io_kind_in_chain(err: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let io = find_in_chain::<std::io::Error>(err)?;
    if io.kind() == std::io::ErrorKind::Other
        && let Some(inner) = io.get_ref()
        && let Some(kind) = io_kind_in_chain(inner)
    {
        return Some(kind);
    }
    Some(io.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_escapes_and_bolds() {
        let v = slack_payload(&Message {
            subject: "a*b <x>\nnext".into(),
            body: "run <!channel> & see <https://evil.example|here>".into(),
        });
        assert_eq!(
            v["text"],
            "*a＊b &lt;x&gt; next*\nrun &lt;!channel&gt; &amp; see &lt;https://evil.example|here&gt;"
        );
        assert_eq!(v["unfurl_links"], false);
    }

    #[test]
    fn teams_is_an_adaptive_card_with_plain_text() {
        let v = teams_payload(&Message {
            subject: "件名".into(),
            body: "本文\n二行目".into(),
        });
        let card = &v["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(card["content"]["body"][0]["inlines"][0]["text"], "件名");
        assert_eq!(
            card["content"]["body"][1]["inlines"][0]["text"],
            "本文\n二行目"
        );
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "127.0.0.1",
            "127.3.4.5",
            "::1",
            "[::1]",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["mail.example.com", "10.0.0.1", "localhost.evil.com", "::2"] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn idempotency_keys() {
        assert!(check_idempotency_key("alert-1:first:email").is_ok());
        for bad in ["", "a b", "a\r\nX-Evil: 1", "日本"] {
            assert!(check_idempotency_key(bad).is_err(), "{bad:?}");
        }
        assert!(check_idempotency_key(&"k".repeat(201)).is_err());
    }

    #[test]
    fn retryable_classes() {
        let t = || "h:25".to_string();
        assert!(
            DeliverError::Smtp {
                target: t(),
                code: 451,
                text: String::new()
            }
            .is_retryable()
        );
        assert!(
            !DeliverError::Smtp {
                target: t(),
                code: 550,
                text: String::new()
            }
            .is_retryable()
        );
        assert!(
            !DeliverError::Auth {
                target: t(),
                detail: String::new()
            }
            .is_retryable()
        );
        assert!(DeliverError::Refused { target: t() }.is_retryable());
    }

    #[test]
    fn recipient_debug_hides_webhook_paths() {
        let r = Recipient {
            name: "山田".into(),
            email: None,
            slack_webhook: Some("https://hooks.slack.com/services/T0/B0/SECRETTOKEN".into()),
            teams_webhook: None,
        };
        let d = format!("{r:?}");
        assert!(d.contains("https://hooks.slack.com"), "{d}");
        assert!(
            !d.contains("SECRETTOKEN") && !d.contains("/services"),
            "{d}"
        );
    }
}
