//! Reports delivered for real: the sender against a loopback SMTP server and webhook receiver,
//! with the journal's outbox on a real SQLite file and the notes written to the simulator over
//! HTTPS. A channel that is down keeps the clock running and is retried alone.

use std::sync::Arc;
use std::time::Duration;

use socdeck::app::Msg;
use socdeck::app::editor::ReportKind;
use socdeck::app::ledger::Ledger;
use socdeck::app::queue::AlertKey;
use socdeck::app::sending::{Delivery, Target};
use socdeck::cbc::model::AlertSearch;
use socdeck::cbc::{Client, ClientConfig, Token};
use socdeck::config::rules::Channel;
use socdeck::deliver::sink::{MailSink, MailSinkOptions, SinkTls, WebhookSink};
use socdeck::deliver::{SmtpConfig, SmtpTls};
use socdeck::journal::JournalHandle;
use socdeck::sender::{SendCtx, deliver};
use socdeck::sim::{SimHandle, SimOptions, start};

struct World {
    sim: SimHandle,
    client: Client,
    mail: Arc<MailSink>,
    hooks: WebhookSink,
    journal: JournalHandle,
    _dir: tempfile::TempDir,
    alert_id: String,
}

async fn world() -> World {
    let sim = start(SimOptions {
        seed: 4,
        backlog: 10,
        rate_per_min: 0.0,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let org_key = sim.orgs()[0].0.clone();
    let mut cfg = ClientConfig::new(sim.url(), &org_key, Token::new(sim.token()).unwrap());
    cfg.ca_pem = Some(sim.ca_pem().as_bytes().to_vec());
    let client = Client::new(cfg).unwrap();
    let alert_id = client
        .search_alerts(&AlertSearch {
            rows: 1,
            ..AlertSearch::default()
        })
        .await
        .unwrap()
        .results[0]
        .id
        .clone()
        .unwrap();
    let mail = Arc::new(
        MailSink::start(MailSinkOptions {
            tls: SinkTls::Plain,
            credentials: None,
        })
        .await
        .unwrap(),
    );
    let hooks = WebhookSink::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = JournalHandle::open(dir.path().join("j.db")).await.unwrap();
    World {
        sim,
        client,
        mail,
        hooks,
        journal,
        _dir: dir,
        alert_id,
    }
}

impl World {
    fn ctx(&self) -> SendCtx {
        SendCtx {
            journal: Some(self.journal.clone()),
            client: Some(self.client.clone()),
            analyst: "yamada".into(),
            smtp: Some(SmtpConfig {
                host: "127.0.0.1".into(),
                port: self.mail.addr().port(),
                tls: SmtpTls::None,
                from: "SOC <soc@example.jp>".into(),
                username: None,
                password: None,
                ca_pem: None,
                timeout: Duration::from_secs(5),
            }),
            http: Some(
                socdeck::deliver::webhook_client(
                    Some(&self.hooks.ca_pem()),
                    Duration::from_secs(5),
                )
                .unwrap(),
            ),
        }
    }

    fn delivery(&self, body: &str) -> Delivery {
        let slack = self.hooks.url("/services/T0/B0/SECRET");
        Delivery {
            key: AlertKey {
                org: 0,
                id: self.alert_id.clone().into(),
            },
            org_key: self.sim.orgs()[0].0.clone(),
            kind: ReportKind::First,
            subject: "【第一報】田中精機 経理部-PC01 危険度: 高".into(),
            body: body.into(),
            targets: vec![
                Target {
                    channel: Channel::Email,
                    name: "山田 太郎".into(),
                    address: "yamada@example.jp".into(),
                    shown: "yamada@example.jp".into(),
                },
                Target {
                    channel: Channel::Slack,
                    name: "SOC desk".into(),
                    shown: socdeck::deliver::webhook_target(&slack),
                    address: slack,
                },
            ],
            retry: false,
        }
    }

    async fn notes(&self) -> Vec<String> {
        self.client
            .alert_notes(&self.alert_id)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|n| n.note)
            .collect()
    }
}

fn delivered(
    m: Msg,
) -> (
    Vec<socdeck::app::sending::ChannelResult>,
    bool,
    Result<(), String>,
) {
    match m {
        Msg::Delivered {
            results,
            sent_at,
            note,
            ..
        } => (results, sent_at.is_some(), note),
        other => panic!("{other:?}"),
    }
}

const BODY: &str =
    "■ 何が起こったか\n経理部-PC01 で不審な PowerShell を検知しました。\n\n■ 危険度\n高";

#[tokio::test]
async fn a_report_reaches_every_channel_and_stops_the_clock_for_every_console() {
    let w = world().await;
    let (results, sent, note) = delivered(deliver(w.ctx(), w.delivery(BODY)).await);
    assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
    assert!(sent, "the first written delivery stops the clock");
    note.unwrap();
    // The mail: UTF-8 Japanese subject and body arrive (encoded) for the right recipient.
    let mails = w.mail.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["yamada@example.jp"]);
    let raw = mails[0].data_text();
    assert!(raw.contains("Subject: =?utf-8?"), "{raw}");
    assert!(raw.contains("X-Socdeck-Delivery: "));
    // Slack got the same report once, with its idempotency key.
    let reqs = w.hooks.requests();
    assert_eq!(reqs.len(), 1);
    assert!(reqs[0].header("idempotency-key").is_some());
    assert!(reqs[0].body.to_string().contains("PowerShell"));
    // Every console: the structured note says when and on which channels; the report text
    // is a note of its own.
    let notes = w.notes().await;
    let ledger = Ledger::from_texts(notes.iter().map(String::as_str));
    let (_, who, channels) = ledger.first_report.unwrap();
    assert_eq!((who.as_str(), channels.as_str()), ("yamada", "email,slack"));
    assert!(notes.iter().any(|n| n.contains("経理部-PC01 で不審な")));
    // The outbox says so too.
    let (org, alert) = (w.sim.orgs()[0].0.clone(), w.alert_id.clone());
    let items = w
        .journal
        .with(move |j| j.report_items(&org, &alert, "first"))
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i.status == "sent"));
    assert!(
        !items.iter().any(|i| i.target.contains("SECRET")),
        "webhook paths are never stored"
    );
}

#[tokio::test]
async fn with_email_down_the_clock_keeps_running_and_a_retry_sends_only_that_channel() {
    let w = world().await;
    let mut d = w.delivery(BODY);
    d.targets.retain(|t| t.channel == Channel::Email);
    w.mail.fail_next(1, 451);
    let (results, sent, _) = delivered(deliver(w.ctx(), d.clone()).await);
    let err = results[0].result.as_ref().unwrap_err();
    assert!(err.contains("451"), "{err}");
    assert!(
        !sent,
        "nothing written reached the customer: the clock runs"
    );
    assert!(
        Ledger::from_texts(w.notes().await.iter().map(String::as_str))
            .first_report
            .is_none()
    );

    // The retry of the same text sends only what failed, with the same key.
    let (results, sent, note) = delivered(deliver(w.ctx(), d.clone()).await);
    assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
    assert_eq!(results.len(), 1, "only the failed channel was sent again");
    assert!(sent);
    note.unwrap();
    assert_eq!(w.mail.messages().len(), 1);
    // Same idempotency key on both attempts: the Message-ID of the rejected and the accepted
    // message is the same.
    let rejected = w.mail.rejected();
    assert_eq!(rejected.len(), 1);
    let id = |raw: &str| {
        raw.lines()
            .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            .map(str::to_string)
    };
    assert_eq!(
        id(&rejected[0].data_text()),
        id(&w.mail.messages()[0].data_text())
    );
    // The same text again: nothing is sent twice.
    let (results, _, _) = delivered(deliver(w.ctx(), d).await);
    assert!(
        results[0]
            .result
            .as_ref()
            .unwrap_err()
            .contains("already delivered")
    );
    assert_eq!(w.mail.messages().len(), 1);
}

#[tokio::test]
async fn without_a_journal_or_an_smtp_server_nothing_is_lost_and_the_reason_is_clear() {
    let w = world().await;
    let mut ctx = w.ctx();
    ctx.journal = None;
    let (results, sent, _) = delivered(deliver(ctx, w.delivery(BODY)).await);
    assert!(!sent);
    assert!(
        results
            .iter()
            .all(|r| r.result.as_ref().unwrap_err().contains("journal"))
    );
    assert!(w.mail.messages().is_empty() && w.hooks.requests().is_empty());

    let mut ctx = w.ctx();
    ctx.smtp = None;
    let (results, sent, _) = delivered(deliver(ctx, w.delivery(BODY)).await);
    let email = results.iter().find(|r| r.channel == "email").unwrap();
    assert!(email.result.as_ref().unwrap_err().contains("[smtp]"));
    assert!(sent, "Slack went out: that is a written delivery");
}
