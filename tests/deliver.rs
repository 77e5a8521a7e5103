//! Report delivery against the real loopback sinks, over real sockets: SMTP (STARTTLS, implicit
//! TLS, AUTH, faults) and Slack/Teams webhooks (HTTPS with the sink's CA).

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use socdeck::deliver::sink::{MailSink, MailSinkOptions, ReceivedMail, SinkTls, WebhookSink};
use socdeck::deliver::{
    Channel, DeliverError, Message, Recipient, Secret, SmtpConfig, SmtpTls, email_preview,
    message_id, send_email, send_webhook, slack_payload, teams_payload, webhook_client,
};

const USER: &str = "soc-relay";
const PASSWORD: &str = "s3cr3t-パスワード";

fn japanese() -> Message {
    Message {
        subject: "【初報】socdeck: 不審なPowerShell実行を検知しました (ACME株式会社)".into(),
        body: "お世話になっております。\n\
               何が起こったか: WIN-FIN-07 で powershell.exe -enc ... が実行されました。\n\
               .で始まる行と\n\
               .\n\
               ドットだけの行も正しく届くこと。\n\
               危険度: 高 — 隔離を推奨します。 & <tag> \"quoted\"\n"
            .into(),
    }
}

fn recipients() -> Vec<Recipient> {
    vec![
        Recipient {
            name: "山田 太郎".into(),
            email: Some("yamada@acme.example.jp".into()),
            slack_webhook: None,
            teams_webhook: None,
        },
        // No address: skipped for email, not an error.
        Recipient {
            name: "Phone Only".into(),
            email: None,
            slack_webhook: None,
            teams_webhook: None,
        },
        Recipient {
            name: "Security Team".into(),
            email: Some("sec@acme.example.jp".into()),
            slack_webhook: None,
            teams_webhook: None,
        },
    ]
}

/// A password file the way an operator would keep it: 0600 in a 0700 directory.
fn password_file(dir: &tempfile::TempDir, password: &str) -> Secret {
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = dir.path().join("smtp-password");
    std::fs::write(&path, format!("{password}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    Secret::from_file(&path).expect("password file accepted")
}

fn config(sink: &MailSink, tls: SmtpTls, password: Option<Secret>) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.addr().port(),
        tls,
        from: "SOC 監視センター <soc@mdr.example.com>".into(),
        username: password.as_ref().map(|_| USER.to_string()),
        password,
        ca_pem: Some(sink.ca_pem()),
        timeout: Duration::from_secs(10),
    }
}

async fn sink(tls: SinkTls, auth: bool) -> MailSink {
    MailSink::start(MailSinkOptions {
        tls,
        credentials: auth.then(|| (USER.to_string(), PASSWORD.to_string())),
    })
    .await
    .expect("mail sink starts")
}

// ------------------------------------------------------------------------------------------------
// A minimal MIME reader: headers (unfolded, RFC 2047 decoded) and a single-part body decoded by
// its Content-Transfer-Encoding. Written here rather than trusting lettre to check itself.

struct Parsed {
    headers: Vec<(String, String)>,
    body: String,
}

impl Parsed {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn parse_mail(raw: &[u8]) -> Parsed {
    let raw = std::str::from_utf8(raw).expect("the wire form is 7-bit ASCII");
    assert!(raw.is_ascii(), "non-ASCII on the wire: {raw}");
    let (head, body) = raw.split_once("\r\n\r\n").expect("header/body separator");
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().expect("continuation after a header");
            last.1.push_str(line);
        } else {
            let (k, v) = line.split_once(':').expect("header line");
            headers.push((k.to_string(), v.trim_start().to_string()));
        }
    }
    let headers: Vec<(String, String)> = headers
        .into_iter()
        .map(|(k, v)| (k, decode_words(&v)))
        .collect();
    let cte = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Content-Transfer-Encoding"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_else(|| "7bit".into());
    let bytes = match cte.as_str() {
        "base64" => B64
            .decode(body.split_whitespace().collect::<String>())
            .expect("base64 body"),
        "quoted-printable" => qp_decode(body),
        "7bit" | "8bit" => body.as_bytes().to_vec(),
        other => panic!("unexpected transfer encoding {other}"),
    };
    Parsed {
        headers,
        body: String::from_utf8(bytes).expect("UTF-8 body"),
    }
}

fn qp_decode(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("QP escape"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// RFC 2047: `=?charset?B|Q?text?=` words, whitespace between adjacent words dropped, bytes of
/// adjacent words joined before UTF-8 decoding (a character may straddle two words).
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut rest = v;
    let mut gap = String::new();
    loop {
        let Some(start) = rest.find("=?") else {
            flush(&mut out, &mut pending);
            out.push_str(&gap);
            out.push_str(rest);
            return out;
        };
        let before = &rest[..start];
        let after = &rest[start + 2..];
        let parts: Vec<&str> = after.splitn(3, '?').collect();
        let end = parts.get(2).and_then(|p| p.find("?="));
        let (Some(end), [charset, enc, text_and_more]) = (end, parts.as_slice()) else {
            flush(&mut out, &mut pending);
            out.push_str(&gap);
            out.push_str(rest);
            return out;
        };
        assert!(charset.eq_ignore_ascii_case("utf-8"), "charset {charset}");
        if before.trim().is_empty() && !pending.is_empty() {
            // Whitespace between two encoded words is not part of the text.
        } else {
            flush(&mut out, &mut pending);
            out.push_str(&gap);
            out.push_str(before);
        }
        gap.clear();
        let text = &text_and_more[..end];
        match enc.to_ascii_uppercase().as_str() {
            "B" => pending.extend(B64.decode(text).expect("B word")),
            "Q" => pending.extend(qp_decode(&text.replace('_', " "))),
            e => panic!("encoding {e}"),
        }
        rest = &text_and_more[end + 2..];
    }
}

fn flush(out: &mut String, pending: &mut Vec<u8>) {
    if !pending.is_empty() {
        out.push_str(&String::from_utf8(std::mem::take(pending)).expect("UTF-8 word"));
    }
}

/// The wire text with the `Date:` line (stamped per build) replaced.
fn normalise(raw: &str) -> String {
    raw.split("\r\n")
        .map(|l| {
            if l.starts_with("Date:") {
                "Date: <normalised>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn check_japanese_mail(got: &ReceivedMail, key: &str) {
    let msg = japanese();
    assert_eq!(got.from, "soc@mdr.example.com");
    assert_eq!(got.to, ["yamada@acme.example.jp", "sec@acme.example.jp"]);
    assert!(got.tls, "delivered over TLS");
    assert_eq!(got.auth_user.as_deref(), Some(USER));
    let p = parse_mail(&got.data);
    assert_eq!(p.header("Subject"), Some(msg.subject.as_str()));
    let from = p.header("From").unwrap();
    assert!(from.contains("SOC 監視センター") && from.contains("<soc@mdr.example.com>"));
    let to = p.header("To").unwrap();
    assert!(
        to.contains("山田 太郎") && to.contains("<yamada@acme.example.jp>"),
        "{to}"
    );
    assert!(to.contains("<sec@acme.example.jp>"), "{to}");
    assert_eq!(
        p.header("Message-ID"),
        Some(message_id("mdr.example.com", key).as_str())
    );
    assert_eq!(p.header("X-Socdeck-Delivery"), Some(key));
    assert_eq!(p.header("MIME-Version"), Some("1.0"));
    assert_eq!(
        p.header("Content-Type")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert!(p.header("Date").is_some());
    // SMTP text is CRLF; the body must otherwise come back byte for byte.
    assert_eq!(p.body.replace("\r\n", "\n"), msg.body);
}

// ------------------------------------------------------------------------------------------------
// Email

#[tokio::test]
async fn japanese_mail_via_starttls_with_auth() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink(SinkTls::StartTls, true).await;
    let cfg = config(
        &sink,
        SmtpTls::StartTls,
        Some(password_file(&dir, PASSWORD)),
    );
    let rs = recipients();
    let to: Vec<&Recipient> = rs.iter().collect();
    send_email(&cfg, &to, &japanese(), "alert-7f3a:first:email")
        .await
        .expect("sent");
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    check_japanese_mail(&got[0], "alert-7f3a:first:email");
}

#[tokio::test]
async fn japanese_mail_via_implicit_tls_with_auth() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink(SinkTls::Implicit, true).await;
    let cfg = config(
        &sink,
        SmtpTls::Implicit,
        Some(password_file(&dir, PASSWORD)),
    );
    let rs = recipients();
    let to: Vec<&Recipient> = rs.iter().collect();
    send_email(&cfg, &to, &japanese(), "k-implicit")
        .await
        .expect("sent");
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    check_japanese_mail(&got[0], "k-implicit");
}

#[tokio::test]
async fn ascii_body_with_dot_lines_survives_dot_stuffing() {
    // 7-bit text goes on the wire as is, so a lone "." line would end DATA early unless the
    // client stuffs it and the sink unstuffs it.
    let sink = sink(SinkTls::Plain, false).await;
    let cfg = config(&sink, SmtpTls::None, None);
    let msg = Message {
        subject: "plain".into(),
        body: "line one\n.\n..two dots\n.leading\nend\n".into(),
    };
    let rs = recipients();
    send_email(&cfg, &[&rs[0]], &msg, "dots").await.unwrap();
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert!(!got[0].tls);
    let p = parse_mail(&got[0].data);
    assert_eq!(p.header("Content-Transfer-Encoding"), Some("7bit"));
    // lettre ends a text part with CRLF and then sends CRLF.CRLF, so a 7-bit body gains
    // trailing blank lines on the wire (base64, used for Japanese, is exact).
    assert_eq!(
        p.body.replace("\r\n", "\n").trim_end_matches('\n'),
        msg.body.trim_end_matches('\n')
    );
}

#[tokio::test]
async fn wrong_password_is_a_clear_auth_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink(SinkTls::StartTls, true).await;
    let cfg = config(
        &sink,
        SmtpTls::StartTls,
        Some(password_file(&dir, "wrong-pw-123")),
    );
    let rs = recipients();
    let err = send_email(&cfg, &[&rs[0]], &japanese(), "k1")
        .await
        .unwrap_err();
    assert!(matches!(err, DeliverError::Auth { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("authentication failed"), "{shown}");
    assert!(shown.contains("535"), "{shown}");
    assert!(shown.contains(&sink.addr().to_string()), "{shown}");
    assert!(!shown.contains("wrong-pw-123"), "{shown}");
    assert!(!err.is_retryable());
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn untrusted_ca_is_refused_with_verification_on() {
    let sink = sink(SinkTls::Implicit, false).await;
    let other = MailSink::start(MailSinkOptions::default()).await.unwrap();
    for ca in [None, Some(other.ca_pem())] {
        let mut cfg = config(&sink, SmtpTls::Implicit, None);
        cfg.ca_pem = ca;
        let rs = recipients();
        let err = send_email(&cfg, &[&rs[0]], &japanese(), "k")
            .await
            .unwrap_err();
        let DeliverError::Tls { detail, .. } = &err else {
            panic!("expected a TLS error, got {err:?}");
        };
        assert!(detail.contains("certificate"), "{err}");
    }
    // STARTTLS checks the certificate just the same.
    let st = self::sink(SinkTls::StartTls, false).await;
    let mut cfg = config(&st, SmtpTls::StartTls, None);
    cfg.ca_pem = None;
    let rs = recipients();
    let err = send_email(&cfg, &[&rs[0]], &japanese(), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, DeliverError::Tls { .. }), "{err:?}");
    assert!(sink.messages().is_empty() && st.messages().is_empty());
}

#[tokio::test]
async fn starttls_required_is_not_downgraded() {
    // A server (or a man in the middle) that does not offer STARTTLS gets nothing in clear.
    let sink = sink(SinkTls::Plain, false).await;
    let cfg = config(&sink, SmtpTls::StartTls, None);
    let rs = recipients();
    let err = send_email(&cfg, &[&rs[0]], &japanese(), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, DeliverError::Tls { .. }), "{err:?}");
    assert!(err.to_string().contains("STARTTLS"), "{err}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn smtp_down_is_connection_refused() {
    let sink = sink(SinkTls::StartTls, false).await;
    let cfg = config(&sink, SmtpTls::StartTls, None);
    sink.down().await;
    let rs = recipients();
    let err = send_email(&cfg, &[&rs[0]], &japanese(), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, DeliverError::Refused { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains("connection refused") && shown.contains(&sink.addr().to_string()),
        "{shown}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn silent_server_times_out() {
    // Accepted by the kernel, never greeted: the whole send is bounded by cfg.timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let cfg = SmtpConfig {
        host: "127.0.0.1".into(),
        port: listener.local_addr().unwrap().port(),
        tls: SmtpTls::None,
        from: "soc@mdr.example.com".into(),
        username: None,
        password: None,
        ca_pem: None,
        timeout: Duration::from_millis(300),
    };
    let rs = recipients();
    let started = std::time::Instant::now();
    let err = send_email(&cfg, &[&rs[0]], &japanese(), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, DeliverError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn temporary_failure_then_retry_keeps_the_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink(SinkTls::StartTls, true).await;
    let cfg = config(
        &sink,
        SmtpTls::StartTls,
        Some(password_file(&dir, PASSWORD)),
    );
    let rs = recipients();
    let to: Vec<&Recipient> = rs.iter().collect();
    sink.fail_next(1, 451);
    let err = send_email(&cfg, &to, &japanese(), "alert-9:first:email")
        .await
        .unwrap_err();
    let DeliverError::Smtp { code, text, .. } = &err else {
        panic!("expected an SMTP reply error, got {err:?}");
    };
    assert_eq!(*code, 451);
    assert!(text.contains("try again later"), "{err}");
    assert!(err.to_string().contains("451"), "{err}");
    assert!(err.is_retryable());
    assert!(sink.messages().is_empty());

    send_email(&cfg, &to, &japanese(), "alert-9:first:email")
        .await
        .expect("the retry goes through");
    let (first, second) = (sink.rejected(), sink.messages());
    assert_eq!((first.len(), second.len()), (1, 1));
    let id = |m: &ReceivedMail| parse_mail(&m.data).header("Message-ID").map(String::from);
    assert_eq!(id(&first[0]), id(&second[0]));
    assert_eq!(
        id(&second[0]).as_deref(),
        Some(message_id("mdr.example.com", "alert-9:first:email").as_str())
    );
    check_japanese_mail(&second[0], "alert-9:first:email");

    // A permanent refusal is reported as such.
    sink.fail_next(1, 550);
    let err = send_email(&cfg, &to, &japanese(), "k2").await.unwrap_err();
    assert!(
        matches!(err, DeliverError::Smtp { code: 550, .. }) && !err.is_retryable(),
        "{err:?}"
    );
}

#[tokio::test]
async fn preview_is_what_the_server_receives() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink(SinkTls::StartTls, true).await;
    let cfg = config(
        &sink,
        SmtpTls::StartTls,
        Some(password_file(&dir, PASSWORD)),
    );
    let rs = recipients();
    let to: Vec<&Recipient> = rs.iter().collect();
    let preview = email_preview(&cfg, &to, &japanese(), "k-preview");
    send_email(&cfg, &to, &japanese(), "k-preview")
        .await
        .unwrap();
    let got = sink.messages()[0].data_text();
    assert_eq!(
        normalise(got.trim_end_matches("\r\n")),
        normalise(preview.trim_end_matches("\r\n"))
    );
    // Not vacuous: the preview is the full encoded message.
    assert!(
        preview.contains("X-Socdeck-Delivery: k-preview"),
        "{preview}"
    );
    assert_eq!(
        parse_mail(preview.as_bytes()).body.replace("\r\n", "\n"),
        japanese().body
    );
}

#[tokio::test]
async fn plain_smtp_to_a_remote_host_is_refused() {
    let cfg = SmtpConfig {
        host: "mail.example.com".into(),
        port: 25,
        tls: SmtpTls::None,
        from: "soc@mdr.example.com".into(),
        username: None,
        password: None,
        ca_pem: None,
        timeout: Duration::from_secs(1),
    };
    let rs = recipients();
    let err = send_email(&cfg, &[&rs[0]], &japanese(), "k")
        .await
        .unwrap_err();
    let DeliverError::Config(why) = &err else {
        panic!("expected a config error, got {err:?}");
    };
    assert!(
        why.contains("mail.example.com") && why.contains("loopback"),
        "{err}"
    );
}

#[tokio::test]
async fn no_email_address_is_an_error() {
    let sink = sink(SinkTls::Plain, false).await;
    let cfg = config(&sink, SmtpTls::None, None);
    let rs = recipients();
    let err = send_email(&cfg, &[&rs[1]], &japanese(), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, DeliverError::Config(_)), "{err:?}");
    assert!(sink.messages().is_empty());
}

#[test]
fn debug_never_shows_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let secret = password_file(&dir, PASSWORD);
    assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    assert_eq!(secret.to_string(), "<redacted>");
    let cfg = SmtpConfig {
        host: "smtp.example.com".into(),
        port: 587,
        tls: SmtpTls::StartTls,
        from: "soc@mdr.example.com".into(),
        username: Some(USER.into()),
        password: Some(secret),
        ca_pem: Some(b"-----BEGIN CERTIFICATE-----".to_vec()),
        timeout: Duration::from_secs(5),
    };
    let d = format!("{cfg:?} {cfg:#?}");
    assert!(!d.contains(PASSWORD) && !d.contains("s3cr3t"), "{d}");
    assert!(
        d.contains("smtp.example.com") && d.contains("<redacted>"),
        "{d}"
    );
}

#[test]
fn password_file_must_be_private() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = dir.path().join("pw");
    std::fs::write(&path, "hunter2\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Secret::from_file(&path).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("chmod 600"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

// ------------------------------------------------------------------------------------------------
// Webhooks

const SLACK_PATH: &str = "/services/T0000/B0000/XXXXSLACKTOKEN";
const TEAMS_PATH: &str = "/webhookb2/abcd-TEAMSTOKEN/IncomingWebhook/ef01";

#[tokio::test]
async fn slack_and_teams_payloads_arrive_with_the_idempotency_key() {
    let sink = WebhookSink::start().await.unwrap();
    let http = webhook_client(Some(&sink.ca_pem()), Duration::from_secs(10)).unwrap();
    let msg = japanese();
    send_webhook(
        &http,
        Channel::Slack,
        &sink.url(SLACK_PATH),
        &msg,
        "a1:slack",
    )
    .await
    .expect("slack");
    send_webhook(
        &http,
        Channel::Teams,
        &sink.url(TEAMS_PATH),
        &msg,
        "a1:teams",
    )
    .await
    .expect("teams");
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 2);

    let slack = &reqs[0];
    assert_eq!(
        (slack.method.as_str(), slack.path.as_str()),
        ("POST", SLACK_PATH)
    );
    assert_eq!(slack.header("Idempotency-Key"), Some("a1:slack"));
    assert_eq!(slack.header("content-type"), Some("application/json"));
    assert_eq!(slack.body, slack_payload(&msg));
    let text = slack.body["text"].as_str().unwrap();
    assert!(
        text.starts_with("*【初報】socdeck: 不審なPowerShell実行を検知しました (ACME株式会社)*\n")
    );
    assert!(text.contains("&amp; &lt;tag&gt;"), "{text}");

    let teams = &reqs[1];
    assert_eq!(teams.path, TEAMS_PATH);
    assert_eq!(teams.header("idempotency-key"), Some("a1:teams"));
    assert_eq!(teams.body, teams_payload(&msg));
    let card = &teams.body["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["inlines"][0]["text"], msg.subject.as_str());
    assert_eq!(card["body"][1]["inlines"][0]["text"], msg.body.as_str());
}

#[tokio::test]
async fn webhook_500_names_the_host_but_never_the_path() {
    let sink = WebhookSink::start().await.unwrap();
    let http = webhook_client(Some(&sink.ca_pem()), Duration::from_secs(10)).unwrap();
    sink.fail_next(1, 500);
    let err = send_webhook(
        &http,
        Channel::Slack,
        &sink.url(SLACK_PATH),
        &japanese(),
        "k",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, DeliverError::Http { status: 500, .. }),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains(&format!("https://127.0.0.1:{}", sink.addr().port())),
        "{shown}"
    );
    assert!(shown.contains("injected failure"), "{shown}");
    assert!(
        !shown.contains("SLACKTOKEN") && !shown.contains("/services"),
        "{shown}"
    );
    assert!(err.is_retryable());
    // The failed request did arrive (and was answered 500); the next one succeeds.
    send_webhook(
        &http,
        Channel::Slack,
        &sink.url(SLACK_PATH),
        &japanese(),
        "k",
    )
    .await
    .unwrap();
    let statuses: Vec<u16> = sink.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 200]);
}

#[tokio::test]
async fn webhook_transport_errors_hide_the_path() {
    let https = WebhookSink::start().await.unwrap();
    // Not trusting the sink's CA: refused by verification, path not shown.
    let untrusting = webhook_client(None, Duration::from_secs(10)).unwrap();
    let err = send_webhook(
        &untrusting,
        Channel::Teams,
        &https.url(TEAMS_PATH),
        &japanese(),
        "k",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeliverError::Tls { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("TEAMSTOKEN"), "{err:?}");

    // Nobody listening: connection refused, path not shown.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let http = webhook_client(None, Duration::from_secs(5)).unwrap();
    let url = format!("http://{addr}{SLACK_PATH}");
    let err = send_webhook(&http, Channel::Slack, &url, &japanese(), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, DeliverError::Refused { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains(&format!("http://{addr}")), "{shown}");
    assert!(!shown.contains("SLACKTOKEN"), "{shown}");
}

#[tokio::test]
async fn plain_http_webhook_only_on_loopback() {
    let plain = WebhookSink::start_plain().await.unwrap();
    let http = webhook_client(None, Duration::from_secs(5)).unwrap();
    send_webhook(&http, Channel::Slack, &plain.url("/hook"), &japanese(), "k")
        .await
        .expect("plain HTTP to loopback is allowed");
    assert_eq!(plain.requests().len(), 1);

    let err = send_webhook(
        &http,
        Channel::Slack,
        "http://hooks.slack.com/services/T0/B0/SECRETTOKEN",
        &japanese(),
        "k",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeliverError::Config(_)), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains("http://hooks.slack.com") && shown.contains("https"),
        "{shown}"
    );
    assert!(!shown.contains("SECRETTOKEN"), "{shown}");
}

#[tokio::test]
async fn webhook_redirect_is_not_followed_and_silence_times_out() {
    let sink = WebhookSink::start().await.unwrap();
    let http = webhook_client(Some(&sink.ca_pem()), Duration::from_secs(10)).unwrap();
    sink.fail_next(1, 307);
    let err = send_webhook(
        &http,
        Channel::Teams,
        &sink.url(TEAMS_PATH),
        &japanese(),
        "k",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, DeliverError::Http { status: 307, .. }),
        "{err:?}"
    );
    assert_eq!(sink.requests().len(), 1);

    // Accepted by the kernel, never answered: the client's timeout ends the call.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}{SLACK_PATH}", listener.local_addr().unwrap());
    let quick = webhook_client(None, Duration::from_millis(300)).unwrap();
    let started = std::time::Instant::now();
    let err = send_webhook(&quick, Channel::Slack, &url, &japanese(), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, DeliverError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!format!("{err:?}").contains("SLACKTOKEN"));
}
