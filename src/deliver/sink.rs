//! Loopback receivers for delivered reports: a small ESMTP server ([`MailSink`]) and a
//! webhook receiver ([`WebhookSink`]). `socdeck --demo` delivers to them so the whole send path
//! works with no outside server, and the tests use them over real sockets.
//!
//! Both listen on 127.0.0.1 with an ephemeral port, keep what they receive in memory (capped),
//! and can be told to fail the next few deliveries. TLS uses a throwaway CA made with rcgen,
//! whose PEM the client adds to its trust roots, so verification stays on end to end.

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// Messages (or webhook requests) kept; older ones are dropped so a long demo cannot grow.
const MAX_KEPT: usize = 1000;
/// Largest message accepted by the mail sink (advertised as SIZE).
const MAX_MESSAGE: usize = 10 * 1024 * 1024;
/// Longest command or data line read.
const MAX_LINE: usize = 64 * 1024;
/// Recipients per transaction.
const MAX_RCPT: usize = 100;
/// An idle client is dropped after this long.
const IDLE: Duration = Duration::from_secs(120);

// ------------------------------------------------------------------------------------------------
// Certificates

struct SinkCerts {
    ca_pem: String,
    leaf_der: Vec<u8>,
    key_der: Vec<u8>,
}

/// A throwaway CA and a server certificate it signs for localhost, 127.0.0.1 and ::1 — a CA
/// rather than a self-signed leaf because webpki wants a proper trust anchor (as in the
/// simulator, `sim::server`).
fn make_certs(what: &str) -> io::Result<SinkCerts> {
    let err = |e: rcgen::Error| io::Error::other(format!("making the {what} certificate: {e}"));
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("socdeck {what} CA"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(err)?;
    let leaf_key = KeyPair::generate().map_err(err)?;
    let mut leaf = CertificateParams::new(vec![
        "localhost".to_string(),
        Ipv4Addr::LOCALHOST.to_string(),
        Ipv6Addr::LOCALHOST.to_string(),
    ])
    .map_err(err)?;
    leaf.distinguished_name
        .push(DnType::CommonName, format!("socdeck {what}"));
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca).map_err(err)?;
    Ok(SinkCerts {
        ca_pem: ca.pem(),
        leaf_der: leaf_cert.der().to_vec(),
        key_der: leaf_key.serialize_der(),
    })
}

fn server_config(certs: &SinkCerts, alpn: &[&[u8]]) -> io::Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(certs.leaf_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certs.key_der.clone())),
        )
        .map_err(io::Error::other)?;
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(cfg))
}

fn push_capped<T>(v: &mut VecDeque<T>, item: T) {
    if v.len() == MAX_KEPT {
        v.pop_front();
    }
    v.push_back(item);
}

// ------------------------------------------------------------------------------------------------
// Mail sink

/// How the mail sink protects its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SinkTls {
    /// Plain SMTP; STARTTLS is not offered.
    #[default]
    Plain,
    /// Plain greeting, STARTTLS offered and required before MAIL (and before AUTH).
    StartTls,
    /// TLS from the first byte.
    Implicit,
}

/// Options for [`MailSink::start`].
#[derive(Debug, Clone, Default)]
pub struct MailSinkOptions {
    pub tls: SinkTls,
    /// When set, AUTH must succeed with exactly these (user, password) before MAIL; when
    /// unset, AUTH is offered and accepts anything, but is not required.
    pub credentials: Option<(String, String)>,
}

/// One message the mail sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Envelope sender (MAIL FROM).
    pub from: String,
    /// Envelope recipients (RCPT TO), in order.
    pub to: Vec<String>,
    /// The DATA as received, dot-unstuffed, CRLF line ends, without the final `.` line.
    pub data: Vec<u8>,
    /// Whether the connection was encrypted (implicit TLS or after STARTTLS).
    pub tls: bool,
    /// The user name the client authenticated as, if it did.
    pub auth_user: Option<String>,
}

impl ReceivedMail {
    /// The DATA as text (it is 7-bit after MIME encoding; anything else is shown lossily).
    pub fn data_text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

struct MailShared {
    opts: MailSinkOptions,
    tls: Arc<rustls::ServerConfig>,
    messages: Mutex<VecDeque<ReceivedMail>>,
    /// Transactions answered with an injected failure (so a test can compare the attempts).
    rejected: Mutex<VecDeque<ReceivedMail>>,
    /// Reply codes for the next transactions, answered at the end of DATA instead of 250.
    faults: Mutex<VecDeque<u16>>,
}

/// A small ESMTP server on 127.0.0.1 for the demo and the tests. Stops when dropped.
pub struct MailSink {
    addr: SocketAddr,
    ca_pem: String,
    shared: Arc<MailShared>,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for MailSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSink")
            .field("addr", &self.addr)
            .field("tls", &self.shared.opts.tls)
            .finish()
    }
}

impl MailSink {
    /// Listens on 127.0.0.1 at an ephemeral port and serves until dropped (or [`down`]).
    ///
    /// [`down`]: MailSink::down
    pub async fn start(opts: MailSinkOptions) -> io::Result<MailSink> {
        let certs = make_certs("mail sink")?;
        let tls = server_config(&certs, &[])?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(MailShared {
            opts,
            tls,
            messages: Mutex::new(VecDeque::new()),
            rejected: Mutex::new(VecDeque::new()),
            faults: Mutex::new(VecDeque::new()),
        });
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let s = s.clone();
                tokio::spawn(async move {
                    // A client that misbehaves only ends its own session.
                    let _ = smtp_session(stream, s).await;
                });
            }
        });
        Ok(MailSink {
            addr,
            ca_pem: certs.ca_pem,
            shared,
            accept,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The PEM of the CA that signed the sink's certificate (trust it via `SmtpConfig::ca_pem`).
    pub fn ca_pem(&self) -> Vec<u8> {
        self.ca_pem.clone().into_bytes()
    }

    /// Messages accepted so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.shared.messages).iter().cloned().collect()
    }

    /// Transactions refused by [`fail_next`](MailSink::fail_next), oldest first.
    pub fn rejected(&self) -> Vec<ReceivedMail> {
        lock(&self.shared.rejected).iter().cloned().collect()
    }

    /// The next `n` transactions are answered with `code` (e.g. 451 or 550) at the end of DATA
    /// instead of being accepted, as a greylisting or rejecting server would.
    pub fn fail_next(&self, n: usize, code: u16) {
        let mut f = lock(&self.shared.faults);
        f.extend(std::iter::repeat_n(code, n));
    }

    /// Stops accepting connections: the port is closed, so clients see "connection refused".
    /// Sessions already open finish normally. Returns once a new connection is refused (the
    /// listener is dropped by the runtime shortly after the accept task is aborted).
    pub async fn down(&self) {
        self.accept.abort();
        for _ in 0..200 {
            if TcpStream::connect(self.addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicked holder cannot leave these collections half-updated in a way that matters.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Conn = BufReader<Box<dyn Io>>;

/// State of one SMTP session.
#[derive(Default)]
struct Session {
    greeted: bool,
    tls: bool,
    auth_user: Option<String>,
    from: Option<String>,
    rcpts: Vec<String>,
}

async fn reply(conn: &mut Conn, lines: &[&str]) -> io::Result<()> {
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        // "250-..." on all but the last line of a multi-line reply, "250 ..." on the last.
        let (code, text) = l.split_at(3);
        let sep = if i + 1 == lines.len() { ' ' } else { '-' };
        out.push_str(code);
        out.push(sep);
        out.push_str(text.trim_start());
        out.push_str("\r\n");
    }
    conn.write_all(out.as_bytes()).await?;
    conn.flush().await
}

/// One line including its CRLF, or None at end of stream. Too long a line is an error.
async fn read_line(conn: &mut Conn) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let n = tokio::time::timeout(
        IDLE,
        (&mut *conn)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut buf),
    )
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "idle client"))??;
    if n == 0 {
        return Ok(None);
    }
    if !buf.ends_with(b"\n") {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
    }
    Ok(Some(buf))
}

fn trim_crlf(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    s.trim_end_matches(['\r', '\n']).to_string()
}

/// The address inside `<...>` after a `FROM:`/`TO:` prefix (case-insensitive), ignoring
/// parameters such as `SIZE=` or `BODY=8BITMIME`.
fn path_arg(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some(rest[..end].to_string())
}

async fn smtp_session(stream: TcpStream, shared: Arc<MailShared>) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(shared.tls.clone());
    let mut st = Session::default();
    let io: Box<dyn Io> = if shared.opts.tls == SinkTls::Implicit {
        st.tls = true;
        Box::new(acceptor.accept(stream).await?)
    } else {
        Box::new(stream)
    };
    let mut conn: Conn = BufReader::new(io);
    reply(&mut conn, &["220 socdeck-sink ESMTP ready"]).await?;

    while let Some(line) = read_line(&mut conn).await? {
        let line = trim_crlf(&line);
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_string()),
            None => (line.to_ascii_uppercase(), String::new()),
        };
        let auth_offered = shared.opts.tls != SinkTls::StartTls || st.tls;
        match verb.as_str() {
            "EHLO" => {
                st.greeted = true;
                st.from = None;
                st.rcpts.clear();
                let size = format!("250 SIZE {MAX_MESSAGE}");
                let mut lines = vec!["250 socdeck-sink", "250 8BITMIME", size.as_str()];
                if shared.opts.tls == SinkTls::StartTls && !st.tls {
                    lines.push("250 STARTTLS");
                }
                if auth_offered {
                    lines.push("250 AUTH PLAIN LOGIN");
                }
                reply(&mut conn, &lines).await?;
            }
            "HELO" => {
                st.greeted = true;
                reply(&mut conn, &["250 socdeck-sink"]).await?;
            }
            "STARTTLS" => {
                if shared.opts.tls != SinkTls::StartTls || st.tls {
                    reply(&mut conn, &["503 5.5.1 TLS not available now"]).await?;
                    continue;
                }
                // Anything the client sent after STARTTLS but before the handshake would be
                // injected into the protected session: refuse (the classic STARTTLS attack).
                if !conn.buffer().is_empty() {
                    reply(&mut conn, &["554 5.5.1 pipelined data after STARTTLS"]).await?;
                    return Ok(());
                }
                reply(&mut conn, &["220 2.0.0 Ready to start TLS"]).await?;
                let plain = conn.into_inner();
                let tls = acceptor.accept(plain).await?;
                conn = BufReader::new(Box::new(tls));
                // RFC 3207: everything learned before the handshake is forgotten.
                st = Session {
                    tls: true,
                    ..Session::default()
                };
            }
            "AUTH" => {
                if !auth_offered {
                    reply(&mut conn, &["538 5.7.11 Encryption required for AUTH"]).await?;
                } else if st.auth_user.is_some() {
                    reply(&mut conn, &["503 5.5.1 Already authenticated"]).await?;
                } else {
                    auth(&mut conn, &shared, &mut st, &arg).await?;
                }
            }
            "MAIL" => {
                let Some(from) = path_arg(&arg, "FROM:") else {
                    reply(&mut conn, &["501 5.5.4 Syntax: MAIL FROM:<address>"]).await?;
                    continue;
                };
                let refusal = if !st.greeted {
                    Some("503 5.5.1 EHLO first")
                } else if shared.opts.tls == SinkTls::StartTls && !st.tls {
                    Some("530 5.7.0 Must issue a STARTTLS command first")
                } else if shared.opts.credentials.is_some() && st.auth_user.is_none() {
                    Some("530 5.7.0 Authentication required")
                } else if st.from.is_some() {
                    Some("503 5.5.1 Nested MAIL command")
                } else {
                    None
                };
                match refusal {
                    Some(r) => reply(&mut conn, &[r]).await?,
                    None => {
                        st.from = Some(from);
                        reply(&mut conn, &["250 2.1.0 Ok"]).await?;
                    }
                }
            }
            "RCPT" => {
                let Some(to) = path_arg(&arg, "TO:") else {
                    reply(&mut conn, &["501 5.5.4 Syntax: RCPT TO:<address>"]).await?;
                    continue;
                };
                if st.from.is_none() {
                    reply(&mut conn, &["503 5.5.1 MAIL first"]).await?;
                } else if st.rcpts.len() >= MAX_RCPT {
                    reply(&mut conn, &["452 4.5.3 Too many recipients"]).await?;
                } else {
                    st.rcpts.push(to);
                    reply(&mut conn, &["250 2.1.5 Ok"]).await?;
                }
            }
            "DATA" => {
                if st.from.is_none() || st.rcpts.is_empty() {
                    reply(&mut conn, &["503 5.5.1 RCPT first"]).await?;
                    continue;
                }
                reply(&mut conn, &["354 End data with <CR><LF>.<CR><LF>"]).await?;
                let data = read_data(&mut conn).await?;
                let from = st.from.take().unwrap_or_default();
                let to = std::mem::take(&mut st.rcpts);
                let Some(data) = data else {
                    reply(&mut conn, &["552 5.3.4 Message too big"]).await?;
                    continue;
                };
                let fault = lock(&shared.faults).pop_front();
                let mail = ReceivedMail {
                    from,
                    to,
                    data,
                    tls: st.tls,
                    auth_user: st.auth_user.clone(),
                };
                match fault {
                    Some(code) => {
                        push_capped(&mut lock(&shared.rejected), mail);
                        let text = if code < 500 {
                            format!("{code} 4.3.0 Temporary failure, try again later (injected)")
                        } else {
                            format!("{code} 5.7.1 Message rejected (injected)")
                        };
                        reply(&mut conn, &[text.as_str()]).await?;
                    }
                    None => {
                        let n = {
                            let mut m = lock(&shared.messages);
                            push_capped(&mut m, mail);
                            m.len()
                        };
                        let ok = format!("250 2.0.0 Ok: queued as {n}");
                        reply(&mut conn, &[ok.as_str()]).await?;
                    }
                }
            }
            "RSET" => {
                st.from = None;
                st.rcpts.clear();
                reply(&mut conn, &["250 2.0.0 Ok"]).await?;
            }
            "NOOP" => reply(&mut conn, &["250 2.0.0 Ok"]).await?,
            "QUIT" => {
                reply(&mut conn, &["221 2.0.0 Bye"]).await?;
                return Ok(());
            }
            _ => reply(&mut conn, &["502 5.5.2 Command not recognized"]).await?,
        }
    }
    Ok(())
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing. None when it exceeded the size
/// limit (the rest is still read, so the session stays in step).
async fn read_data(conn: &mut Conn) -> io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    let mut too_big = false;
    loop {
        let Some(line) = read_line(conn).await? else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in DATA",
            ));
        };
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        // RFC 5321 4.5.2: a leading dot was doubled by the sender.
        let line = line.strip_prefix(b".").unwrap_or(&line);
        if data.len() + line.len() > MAX_MESSAGE {
            too_big = true;
        }
        if !too_big {
            data.extend_from_slice(line);
        }
    }
    Ok((!too_big).then_some(data))
}

async fn auth(conn: &mut Conn, shared: &MailShared, st: &mut Session, arg: &str) -> io::Result<()> {
    let (mech, initial) = match arg.split_once(' ') {
        Some((m, i)) => (m.to_ascii_uppercase(), Some(i.trim().to_string())),
        None => (arg.to_ascii_uppercase(), None),
    };
    // Reads one base64 client response after a 334 challenge; None when cancelled ("*").
    async fn response(conn: &mut Conn, challenge: &str) -> io::Result<Option<String>> {
        reply(conn, &[challenge]).await?;
        let line = read_line(conn).await?.unwrap_or_default();
        let line = trim_crlf(&line);
        Ok((line != "*").then_some(line))
    }
    let decode = |s: &str| B64.decode(s.trim()).ok();
    let creds: Option<(String, String)> = match mech.as_str() {
        "PLAIN" => {
            let resp = match initial {
                Some(i) => Some(i),
                None => response(conn, "334 ").await?,
            };
            let Some(resp) = resp else {
                return reply(conn, &["501 5.7.0 Authentication cancelled"]).await;
            };
            decode(&resp).and_then(|raw| {
                // authzid \0 authcid \0 password
                let mut parts = raw.split(|&b| b == 0);
                let _authz = parts.next()?;
                let user = String::from_utf8(parts.next()?.to_vec()).ok()?;
                let pass = String::from_utf8(parts.next()?.to_vec()).ok()?;
                Some((user, pass))
            })
        }
        "LOGIN" => {
            let user = match initial {
                Some(i) => Some(i),
                // base64 "Username:" and "Password:", as every LOGIN server says.
                None => response(conn, "334 VXNlcm5hbWU6").await?,
            };
            let Some(user) = user else {
                return reply(conn, &["501 5.7.0 Authentication cancelled"]).await;
            };
            let Some(pass) = response(conn, "334 UGFzc3dvcmQ6").await? else {
                return reply(conn, &["501 5.7.0 Authentication cancelled"]).await;
            };
            match (decode(&user), decode(&pass)) {
                (Some(u), Some(p)) => String::from_utf8(u).ok().zip(String::from_utf8(p).ok()),
                _ => None,
            }
        }
        _ => {
            return reply(conn, &["504 5.5.4 Unrecognized authentication type"]).await;
        }
    };
    let Some((user, pass)) = creds else {
        return reply(conn, &["501 5.5.2 Cannot decode the response"]).await;
    };
    let ok = match &shared.opts.credentials {
        Some((u, p)) => *u == user && *p == pass,
        None => true,
    };
    if ok {
        st.auth_user = Some(user);
        reply(conn, &["235 2.7.0 Authentication successful"]).await
    } else {
        reply(conn, &["535 5.7.8 Authentication credentials invalid"]).await
    }
}

// ------------------------------------------------------------------------------------------------
// Webhook sink

/// One request the webhook sink received.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRequest {
    pub method: String,
    /// Path and query, e.g. `/services/T0/B0/XXXX`.
    pub path: String,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON, or `Null` when it is not JSON.
    pub body: serde_json::Value,
    /// The status the sink answered with.
    pub status: u16,
}

impl WebhookRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct HookShared {
    requests: Mutex<VecDeque<WebhookRequest>>,
    faults: Mutex<VecDeque<u16>>,
}

/// An HTTP(S) receiver on 127.0.0.1 that records every request and answers `200 ok` (as Slack
/// does), or an injected failure status. Stops when dropped.
pub struct WebhookSink {
    addr: SocketAddr,
    https: bool,
    ca_pem: String,
    shared: Arc<HookShared>,
    server: JoinHandle<()>,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("addr", &self.addr)
            .field("https", &self.https)
            .finish()
    }
}

impl WebhookSink {
    /// An HTTPS receiver; trust [`ca_pem`](WebhookSink::ca_pem) in the client.
    pub async fn start() -> io::Result<WebhookSink> {
        Self::start_with(true).await
    }

    /// A plain-HTTP receiver (allowed by `send_webhook` only because it is on loopback).
    pub async fn start_plain() -> io::Result<WebhookSink> {
        Self::start_with(false).await
    }

    async fn start_with(https: bool) -> io::Result<WebhookSink> {
        let certs = make_certs("webhook sink")?;
        let shared = Arc::new(HookShared {
            requests: Mutex::new(VecDeque::new()),
            faults: Mutex::new(VecDeque::new()),
        });
        let s = shared.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let s = s.clone();
                async move { record(&s, method, uri, headers, body) }
            },
        );
        let (addr, server) = if https {
            let tls = axum_server::tls_rustls::RustlsConfig::from_config(server_config(
                &certs,
                &[b"http/1.1"],
            )?);
            let handle = axum_server::Handle::new();
            let serving = axum_server::bind_rustls(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), tls)
                .handle(handle.clone());
            let task = tokio::spawn(async move {
                let _ = serving.serve(app.into_make_service()).await;
            });
            let Some(addr) = handle.listening().await else {
                task.abort();
                return Err(io::Error::other("the webhook sink could not listen"));
            };
            (addr, task)
        } else {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
            let addr = listener.local_addr()?;
            let task = tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            (addr, task)
        };
        Ok(WebhookSink {
            addr,
            https,
            ca_pem: certs.ca_pem,
            shared,
            server,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT{path}` (or `http://` for a plain sink).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    /// The PEM of the CA that signed the sink's certificate.
    pub fn ca_pem(&self) -> Vec<u8> {
        self.ca_pem.clone().into_bytes()
    }

    /// Requests received so far (failed ones included, with their status), oldest first.
    pub fn requests(&self) -> Vec<WebhookRequest> {
        lock(&self.shared.requests).iter().cloned().collect()
    }

    /// The next `n` requests are answered with `status` (e.g. 500) instead of 200.
    pub fn fail_next(&self, n: usize, status: u16) {
        lock(&self.shared.faults).extend(std::iter::repeat_n(status, n));
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn record(
    shared: &HookShared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let status = lock(&shared.faults).pop_front().unwrap_or(200);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let req = WebhookRequest {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| uri.path().to_string()),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        status: status.as_u16(),
    };
    push_capped(&mut lock(&shared.requests), req);
    if status.is_success() {
        (status, "ok").into_response()
    } else {
        (status, "injected failure").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_args() {
        assert_eq!(
            path_arg("FROM:<a@b.c> SIZE=10", "FROM:").as_deref(),
            Some("a@b.c")
        );
        assert_eq!(path_arg("to: <x@y>", "TO:").as_deref(), Some("x@y"));
        assert_eq!(path_arg("FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_arg("TO:x@y", "TO:"), None);
        assert_eq!(path_arg("FR", "FROM:"), None);
    }
}
