//! Slack and Teams incoming webhooks over reqwest.
//!
//! A webhook URL's path is its credential. reqwest puts the full URL into its errors, so no
//! reqwest error is ever shown as is: errors are rebuilt from their kind and source chain, with
//! only the scheme and host ([`webhook_target`]).

use std::time::Duration;

use reqwest::Url;

use super::{
    Channel, DeliverError, Message, check_idempotency_key, find_in_chain, io_kind_in_chain,
    is_loopback_host, slack_payload, teams_payload,
};

/// Bound on one webhook call, whatever the client's own timeout (which applies if shorter).
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(30);
/// Characters of a failed response's body kept in the error.
const EXCERPT_CHARS: usize = 200;
/// Bytes of a response body read at most.
const MAX_RESPONSE: usize = 16 * 1024;

/// The client [`send_webhook`] is meant to be given: rustls on ring, TLS verification on (with
/// `ca_pem` added to the system roots), no redirects (a redirect would re-send the report to a
/// host the customer did not choose), no proxy surprises beyond the environment's, timeouts.
pub fn webhook_client(
    ca_pem: Option<&[u8]>,
    timeout: Duration,
) -> Result<reqwest::Client, DeliverError> {
    crate::cbc::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .user_agent(concat!("socdeck/", env!("CARGO_PKG_VERSION")))
        .http1_only();
    if let Some(pem) = ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|_| {
            DeliverError::Config("the webhook CA bundle is not a PEM certificate bundle".into())
        })?;
        if certs.is_empty() {
            return Err(DeliverError::Config(
                "the webhook CA bundle holds no certificate".into(),
            ));
        }
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    builder
        .build()
        .map_err(|_| DeliverError::Config("cannot set up HTTPS for webhooks".into()))
}

/// `scheme://host[:port]` of a webhook URL — all of it that may be shown or logged.
/// An unparsable URL shows as `<invalid webhook URL>`, never as itself.
pub fn webhook_target(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => target_of(&u),
        Err(_) => "<invalid webhook URL>".into(),
    }
}

fn target_of(u: &Url) -> String {
    // host_str keeps the brackets of an IPv6 literal.
    let host = u.host_str().unwrap_or_default();
    match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    }
}

/// Posts `msg` to a Slack or Teams incoming webhook, with an `Idempotency-Key` header.
///
/// HTTPS only, except plain HTTP to a loopback host (the demo sink). Any non-2xx status is an
/// error, 3xx included: build `http` with [`webhook_client`], which does not follow redirects.
/// A legacy Teams connector that answers 200 with "Webhook message delivery failed…" is also
/// reported as a failure.
pub async fn send_webhook(
    http: &reqwest::Client,
    channel: Channel,
    url: &str,
    msg: &Message,
    idempotency_key: &str,
) -> Result<(), DeliverError> {
    check_idempotency_key(idempotency_key)?;
    let payload = match channel {
        Channel::Slack => slack_payload(msg),
        Channel::Teams => teams_payload(msg),
        Channel::Email => {
            return Err(DeliverError::Config(
                "email is not a webhook channel".into(),
            ));
        }
    };
    // url's ParseError never contains the input, so it is safe to show.
    let parsed = Url::parse(url)
        .map_err(|e| DeliverError::Config(format!("the {channel} webhook URL is invalid: {e}")))?;
    let target = target_of(&parsed);
    let host = parsed.host_str().unwrap_or_default();
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        _ => {
            return Err(DeliverError::Config(format!(
                "refusing {channel} webhook {target}: only https:// is allowed (plain http only \
                 to a loopback host)"
            )));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(DeliverError::Config(format!(
            "the {channel} webhook URL for {target} must not hold a user name or password"
        )));
    }

    // An outer bound rather than RequestBuilder::timeout, which would *replace* a shorter
    // timeout the caller's client has.
    let call = async {
        let resp = http
            .post(parsed.clone())
            .header("Idempotency-Key", idempotency_key)
            .json(&payload)
            .send()
            .await?;
        let status = resp.status();
        Ok::<_, reqwest::Error>((status, read_limited(resp).await))
    };
    let (status, body) = match tokio::time::timeout(WEBHOOK_TIMEOUT, call).await {
        Err(_) => {
            return Err(DeliverError::Timeout {
                target,
                after: Some(WEBHOOK_TIMEOUT),
            });
        }
        Ok(r) => r.map_err(|e| request_error(e, &target))?,
    };
    let excerpt = excerpt(&body, &parsed);
    if !status.is_success() {
        return Err(DeliverError::Http {
            target,
            status: status.as_u16(),
            excerpt,
        });
    }
    if channel == Channel::Teams && body.starts_with("Webhook message delivery failed") {
        return Err(DeliverError::Http {
            target,
            status: status.as_u16(),
            excerpt,
        });
    }
    Ok(())
}

/// Reads at most [`MAX_RESPONSE`] bytes of a response body (an error body is only excerpted).
async fn read_limited(mut resp: reqwest::Response) -> String {
    let mut buf = Vec::new();
    while buf.len() < MAX_RESPONSE {
        match resp.chunk().await {
            Ok(Some(c)) => buf.extend_from_slice(&c),
            _ => break,
        }
    }
    buf.truncate(MAX_RESPONSE);
    String::from_utf8_lossy(&buf).into_owned()
}

/// A short, single-line excerpt of a response body, with the URL's path and its longer
/// segments cut out in case the server echoes the request line back.
fn excerpt(body: &str, url: &Url) -> String {
    let mut text: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let path = url.path();
    if path.len() > 1 {
        text = text.replace(path, "<path>");
    }
    for seg in url.path_segments().into_iter().flatten() {
        if seg.len() >= 8 {
            text = text.replace(seg, "<redacted>");
        }
    }
    if let Some(q) = url.query().filter(|q| !q.is_empty()) {
        text = text.replace(q, "<redacted>");
    }
    let text = text.trim();
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
}

fn request_error(e: reqwest::Error, target: &str) -> DeliverError {
    let target = target.to_owned();
    // Strip the URL first; everything below reads only kinds and sources.
    let e = e.without_url();
    if e.is_timeout() {
        return DeliverError::Timeout {
            target,
            after: None,
        };
    }
    if let Some(tls) = find_in_chain::<rustls::Error>(&e) {
        return DeliverError::Tls {
            target,
            detail: tls.to_string(),
        };
    }
    match io_kind_in_chain(&e) {
        Some(std::io::ErrorKind::ConnectionRefused) => DeliverError::Refused { target },
        Some(std::io::ErrorKind::TimedOut) => DeliverError::Timeout {
            target,
            after: None,
        },
        _ => {
            // The innermost cause; hyper/io messages do not contain the URL.
            let mut cause: &(dyn std::error::Error + 'static) = &e;
            while let Some(s) = cause.source() {
                cause = s;
            }
            let detail = if e.is_connect() {
                format!("cannot connect: {cause}")
            } else {
                cause.to_string()
            };
            DeliverError::Network { target, detail }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_is_scheme_and_host_only() {
        assert_eq!(
            webhook_target("https://hooks.slack.com/services/T0/B0/XXXX?x=1"),
            "https://hooks.slack.com"
        );
        assert_eq!(
            webhook_target("http://127.0.0.1:8080/a/b"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(webhook_target("http://[::1]:9/a"), "http://[::1]:9");
        assert_eq!(webhook_target("not a url /secret"), "<invalid webhook URL>");
    }

    #[test]
    fn excerpt_cuts_the_path_and_long_bodies() {
        let u = Url::parse("https://h.example/services/T0/B0/SECRETTOKEN123").unwrap();
        let e = excerpt("bad request for /services/T0/B0/SECRETTOKEN123\n", &u);
        assert_eq!(e, "bad request for <path>");
        let e = excerpt("token SECRETTOKEN123 invalid", &u);
        assert!(!e.contains("SECRETTOKEN123"), "{e}");
        let long = "x".repeat(500);
        assert_eq!(excerpt(&long, &u).chars().count(), EXCERPT_CHARS + 1);
    }
}
