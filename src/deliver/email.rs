//! Email over SMTP with lettre (tokio transport, rustls on ring).

use lettre::message::header::{ContentType, HeaderName, HeaderValue, MessageId};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::{
    DeliverError, Message, Recipient, SmtpConfig, SmtpTls, check_idempotency_key, find_in_chain,
    io_kind_in_chain, is_loopback_host, one_line,
};

/// The header that carries the idempotency key verbatim.
const DELIVERY_HEADER: &str = "X-Socdeck-Delivery";

/// Sends `msg` to every recipient of `to` that has an email address, in one message (all in
/// `To`: they are the same customer's contacts and should see who else was told).
///
/// The `Message-ID` is derived from `idempotency_key` (see [`message_id`]), so a retry of the
/// same delivery carries the same id and a receiving system can drop the duplicate.
pub async fn send_email(
    cfg: &SmtpConfig,
    to: &[&Recipient],
    msg: &Message,
    idempotency_key: &str,
) -> Result<(), DeliverError> {
    let mail = build(cfg, to, msg, idempotency_key)?;
    let transport = transport(cfg)?;
    let target = smtp_target(cfg);
    // lettre's timeout applies per operation; this bounds the whole exchange.
    match tokio::time::timeout(cfg.timeout, transport.send(mail)).await {
        Err(_) => Err(DeliverError::Timeout {
            target,
            after: Some(cfg.timeout),
        }),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify(&e, target, cfg)),
    }
}

/// The message exactly as [`send_email`] would put it on the wire (headers and encoded body,
/// CRLF line ends), except for the `Date` header, which is stamped at build time. For an
/// invalid input (no address, bad `from`), the error text instead, so a preview never panics.
pub fn email_preview(
    cfg: &SmtpConfig,
    to: &[&Recipient],
    msg: &Message,
    idempotency_key: &str,
) -> String {
    match build(cfg, to, msg, idempotency_key) {
        Ok(mail) => String::from_utf8_lossy(&mail.formatted()).into_owned(),
        Err(e) => e.to_string(),
    }
}

/// `<socdeck.KEY@DOMAIN>`: the key with every byte outside `[A-Za-z0-9_-]` written as `=HH`
/// (injective, so two keys never share an id), at the `From` address's domain.
pub fn message_id(from_domain: &str, idempotency_key: &str) -> String {
    let mut id = String::with_capacity(idempotency_key.len() + 32);
    id.push_str("<socdeck.");
    for b in idempotency_key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            id.push(b as char);
        } else {
            id.push_str(&format!("={b:02X}"));
        }
    }
    id.push('@');
    id.push_str(&from_domain.to_ascii_lowercase());
    id.push('>');
    id
}

fn build(
    cfg: &SmtpConfig,
    to: &[&Recipient],
    msg: &Message,
    idempotency_key: &str,
) -> Result<lettre::Message, DeliverError> {
    check_idempotency_key(idempotency_key)?;
    let from: Mailbox = cfg.from.parse().map_err(|e| {
        DeliverError::Config(format!("the From address {:?} is invalid: {e}", cfg.from))
    })?;
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .subject(one_line(&msg.subject))
        .header(MessageId::from(message_id(
            from.email.domain(),
            idempotency_key,
        )))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(DELIVERY_HEADER),
            idempotency_key.to_owned(),
        ));
    let mut any = false;
    for r in to {
        let Some(email) = r.email.as_deref() else {
            continue;
        };
        let address: Address = email.trim().parse().map_err(|e| {
            DeliverError::Config(format!(
                "{}'s email address {email:?} is invalid: {e}",
                r.name
            ))
        })?;
        let name = one_line(r.name.trim());
        builder = builder.to(Mailbox::new((!name.is_empty()).then_some(name), address));
        any = true;
    }
    if !any {
        return Err(DeliverError::Config(
            "no recipient has an email address".into(),
        ));
    }
    // text/plain; charset=utf-8 — lettre picks quoted-printable or base64 for non-ASCII text
    // and normalises line ends to CRLF, as SMTP requires.
    builder
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(msg.body.clone()),
        )
        .map_err(|e| DeliverError::Config(format!("cannot build the email: {e}")))
}

fn transport(cfg: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliverError> {
    crate::cbc::install_crypto_provider();
    if cfg.host.is_empty() {
        return Err(DeliverError::Config("the SMTP host is empty".into()));
    }
    let tls = match cfg.tls {
        SmtpTls::None => {
            if !is_loopback_host(&cfg.host) {
                return Err(DeliverError::Config(format!(
                    "refusing unencrypted SMTP to {}: tls = none is allowed only for a loopback \
                     host (localhost, 127.0.0.1, ::1); use starttls or implicit",
                    cfg.host
                )));
            }
            Tls::None
        }
        SmtpTls::StartTls => Tls::Required(tls_parameters(cfg)?),
        SmtpTls::Implicit => Tls::Wrapper(tls_parameters(cfg)?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.as_str())
        .port(cfg.port)
        .tls(tls)
        .timeout(Some(cfg.timeout));
    match (&cfg.username, &cfg.password) {
        (Some(user), Some(pass)) => {
            builder = builder.credentials(Credentials::new(user.clone(), pass.expose().to_owned()));
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(DeliverError::Config(
                "an SMTP username is set but no password".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(DeliverError::Config(
                "an SMTP password is set but no username".into(),
            ));
        }
    }
    Ok(builder.build())
}

/// System roots plus `ca_pem` (through the platform verifier); verification always on.
fn tls_parameters(cfg: &SmtpConfig) -> Result<TlsParameters, DeliverError> {
    let mut builder = TlsParameters::builder(cfg.host.clone());
    if let Some(pem) = &cfg.ca_pem {
        // Count the certificates ourselves: lettre accepts a bundle with none, which would
        // silently trust nothing extra.
        let n = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| DeliverError::Config("the SMTP CA bundle is not valid PEM".into()))?
            .len();
        if n == 0 {
            return Err(DeliverError::Config(
                "the SMTP CA bundle holds no certificate".into(),
            ));
        }
        let cert = Certificate::from_pem(pem)
            .map_err(|e| DeliverError::Config(format!("the SMTP CA bundle is not usable: {e}")))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| DeliverError::Config(format!("cannot set up TLS for SMTP: {e}")))
}

/// `host:port` of the SMTP server, naming it in errors.
fn smtp_target(cfg: &SmtpConfig) -> String {
    if cfg.host.contains(':') {
        format!("[{}]:{}", cfg.host, cfg.port)
    } else {
        format!("{}:{}", cfg.host, cfg.port)
    }
}

/// Sorts a lettre error into the classes an analyst acts on. Credentials are never part of a
/// lettre error (it sends them; it does not echo them), and neither is the password here.
fn classify(e: &lettre::transport::smtp::Error, target: String, cfg: &SmtpConfig) -> DeliverError {
    let server_text = || {
        std::error::Error::source(e)
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    if let Some(code) = e.status() {
        let code: u16 = code.to_string().parse().unwrap_or(0);
        let text = server_text();
        // 535 bad credentials, 534/538 mechanism too weak or needs encryption, 530 auth required.
        if matches!(code, 530 | 534 | 535 | 538) {
            return DeliverError::Auth {
                target,
                detail: format!("the server answered {code}: {text}"),
            };
        }
        return DeliverError::Smtp { target, code, text };
    }
    if e.is_timeout() {
        return DeliverError::Timeout {
            target,
            after: Some(cfg.timeout),
        };
    }
    if let Some(tls) = find_in_chain::<rustls::Error>(e) {
        return DeliverError::Tls {
            target,
            detail: tls.to_string(),
        };
    }
    if e.is_tls() {
        return DeliverError::Tls {
            target,
            detail: server_text(),
        };
    }
    match io_kind_in_chain(e) {
        Some(std::io::ErrorKind::ConnectionRefused) => return DeliverError::Refused { target },
        Some(std::io::ErrorKind::TimedOut) => {
            return DeliverError::Timeout {
                target,
                after: Some(cfg.timeout),
            };
        }
        _ => {}
    }
    let text = server_text();
    if e.is_client() {
        if text.contains("STARTTLS") {
            return DeliverError::Tls {
                target,
                detail: "the server does not offer STARTTLS".into(),
            };
        }
        if text.contains("authentication") {
            return DeliverError::Auth {
                target,
                detail: text,
            };
        }
    }
    DeliverError::Network {
        target,
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_injective_and_valid() {
        assert_eq!(
            message_id("Example.COM", "a1-b_2"),
            "<socdeck.a1-b_2@example.com>"
        );
        assert_eq!(message_id("x", "a/b"), "<socdeck.a=2Fb@x>");
        assert_ne!(message_id("x", "a/b"), message_id("x", "a=2Fb"));
    }
}
