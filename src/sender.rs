//! Sending a report for real: the outbox first (every channel `pending` in the journal before
//! anything leaves), then each channel, each outcome recorded; a retry of the same report sends
//! only what failed, with the same idempotency keys. On the first successful written delivery
//! the time is recorded in CBC as a structured note (every console's clock stops) with the
//! report text as a note of its own.

use std::time::Duration;

use jiff::Timestamp;

use crate::app::Msg;
use crate::app::editor::ReportKind;
use crate::app::ledger::{Entry, Note};
use crate::app::sending::{ChannelResult, Delivery, Target};
use crate::cbc::Client;
use crate::config::rules::Channel as RuleChannel;
use crate::deliver::{self, Channel, Message, Recipient, SmtpConfig};
use crate::journal::{
    ActionKind, Intent, JournalHandle, NewItem, OutboxItem, Outcome as JOutcome, OutcomeStatus,
};

/// CBC accepts notes up to about 20 000 characters; the report note is cut below that.
pub const NOTE_MAX_CHARS: usize = 19_000;

/// What a delivery needs besides the report.
#[derive(Clone)]
pub struct SendCtx {
    pub journal: Option<JournalHandle>,
    /// The alert's org, for the notes in CBC.
    pub client: Option<Client>,
    pub analyst: String,
    /// Where email goes out; `None` when no SMTP server is configured.
    pub smtp: Option<SmtpConfig>,
    /// The webhook client (TLS verified, no redirects).
    pub http: Option<reqwest::Client>,
}

fn channel(c: RuleChannel) -> Option<Channel> {
    match c {
        RuleChannel::Email => Some(Channel::Email),
        RuleChannel::Slack => Some(Channel::Slack),
        RuleChannel::Teams => Some(Channel::Teams),
        RuleChannel::Phone => None,
    }
}

fn result(item: &OutboxItem, r: Result<(), String>) -> ChannelResult {
    ChannelResult {
        channel: item.channel.clone(),
        shown: item.target.clone(),
        result: r,
    }
}

/// Delivers `d`; the answer for the console.
pub async fn deliver(ctx: SendCtx, d: Delivery) -> Msg {
    let (key, kind) = (d.key.clone(), d.kind);
    let (results, sent_at, note) = match run(&ctx, &d).await {
        Ok(x) => x,
        Err(e) => (
            d.targets
                .iter()
                .map(|t| ChannelResult {
                    channel: t.channel.as_str().to_string(),
                    shown: t.shown.clone(),
                    result: Err(e.clone()),
                })
                .collect(),
            None,
            Ok(()),
        ),
    };
    Msg::Delivered {
        key,
        kind,
        results,
        sent_at,
        note,
    }
}

type Outcome = (Vec<ChannelResult>, Option<Timestamp>, Result<(), String>);

async fn run(ctx: &SendCtx, d: &Delivery) -> Result<Outcome, String> {
    let journal = ctx
        .journal
        .as_ref()
        .ok_or("no journal: nothing is sent without an outbox record")?;
    let (org, alert, kind) = (d.org_key.clone(), d.key.id.to_string(), d.kind.as_str());
    let (o2, a2) = (org.clone(), alert.clone());
    let before = journal
        .with(move |j| j.report_items(&o2, &a2, kind))
        .await
        .map_err(|e| e.to_string())?;
    let already_sent = before.iter().any(|i| i.status == "sent");

    // Retry: the newest delivery of this very text with channels still to go.
    let last = before.last().map(|i| i.delivery.clone());
    let retry: Vec<OutboxItem> = match &last {
        Some(id) => before
            .iter()
            .filter(|i| &i.delivery == id && i.subject == d.subject && i.body == d.body)
            .filter(|i| i.status != "sent")
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let same_text_all_sent = last.as_ref().is_some_and(|id| {
        let items: Vec<_> = before.iter().filter(|i| &i.delivery == id).collect();
        !items.is_empty()
            && items
                .iter()
                .all(|i| i.status == "sent" && i.subject == d.subject && i.body == d.body)
    });
    if same_text_all_sent {
        return Err("this text was already delivered on every channel".into());
    }
    let items = if !retry.is_empty() {
        retry
    } else {
        let written: Vec<&Target> = d
            .targets
            .iter()
            .filter(|t| channel(t.channel).is_some())
            .collect();
        if written.is_empty() {
            return Err("no written channel to send on".into());
        }
        let new: Vec<NewItem> = written
            .iter()
            .map(|t| NewItem {
                channel: t.channel.as_str().to_string(),
                target: t.shown.clone(),
            })
            .collect();
        let id = uuid::Uuid::new_v4().to_string();
        let (s, b) = (d.subject.clone(), d.body.clone());
        journal
            .with(move |j| {
                j.queue_delivery(&id, &org, &alert, kind, &s, &b, &new, Timestamp::now())
            })
            .await
            .map_err(|e| format!("outbox: {e}; nothing was sent"))?
    };

    let msg = Message {
        subject: d.subject.clone(),
        body: d.body.clone(),
    };
    let mut results = Vec::new();
    let mut channels_ok: Vec<String> = Vec::new();
    for item in &items {
        let r = send_one(ctx, d, item, &msg).await;
        let (ok, detail) = match &r {
            Ok(()) => (true, "delivered".to_string()),
            Err(e) => (false, e.clone()),
        };
        let id = item.id;
        if let Err(e) = journal
            .with(move |j| j.mark_item(id, ok, &detail, Timestamp::now()))
            .await
        {
            tracing::error!(error = %e, "outbox outcome not recorded");
        }
        if ok && !channels_ok.contains(&item.channel) {
            channels_ok.push(item.channel.clone());
        }
        results.push(result(item, r));
    }

    // The first written delivery of this report stops the clock, for every console.
    let sent_at = (!already_sent && !channels_ok.is_empty()).then(Timestamp::now);
    if let Some(at) = sent_at {
        // `<kind>_report_sent_at` in the journal: an audit entry with the sending time.
        let intent = Intent {
            at,
            analyst: ctx.analyst.clone(),
            org_key: d.org_key.clone(),
            kind: ActionKind::Note,
            alert_id: Some(d.key.id.to_string()),
            device_id: None,
            target: format!("alert {}", d.key.id),
            params: format!("{}-report sent channels={}", kind, channels_ok.join(",")),
            approval: None,
        };
        let recorded = journal
            .with(move |j| {
                let id = j.record_intent(&intent)?;
                j.record_outcome(
                    id,
                    &JOutcome {
                        at,
                        status: OutcomeStatus::Succeeded,
                        detail: "delivered".into(),
                    },
                )
            })
            .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, "report sending not recorded in the audit log");
        }
    }
    let note = match (sent_at, &ctx.client) {
        (Some(at), Some(client)) => write_notes(client, d, at, &channels_ok, &ctx.analyst).await,
        (Some(_), None) => Err("no client for this org".into()),
        (None, _) => Ok(()),
    };
    Ok((results, sent_at, note))
}

async fn send_one(
    ctx: &SendCtx,
    d: &Delivery,
    item: &OutboxItem,
    msg: &Message,
) -> Result<(), String> {
    // The address: the delivery's target with this channel and shown form (a webhook URL is
    // never stored, only its scheme and host).
    let target = d
        .targets
        .iter()
        .find(|t| t.channel.as_str() == item.channel && t.shown == item.target)
        .ok_or("the recipient is no longer in the customer's rule")?;
    match channel(target.channel) {
        Some(Channel::Email) => {
            let smtp = ctx
                .smtp
                .as_ref()
                .ok_or("no SMTP server configured ([smtp] in the config)")?;
            let to = Recipient {
                name: target.name.clone(),
                email: Some(target.address.clone()),
                slack_webhook: None,
                teams_webhook: None,
            };
            deliver::send_email(smtp, &[&to], msg, &item.idem_key)
                .await
                .map_err(|e| e.to_string())
        }
        Some(ch @ (Channel::Slack | Channel::Teams)) => {
            let built;
            let http = match &ctx.http {
                Some(h) => h,
                None => {
                    built = deliver::webhook_client(None, WEBHOOK_TIMEOUT)
                        .map_err(|e| e.to_string())?;
                    &built
                }
            };
            deliver::send_webhook(http, ch, &target.address, msg, &item.idem_key)
                .await
                .map_err(|e| e.to_string())
        }
        None => Err("phone is logged, not sent".into()),
    }
}

/// The structured note (what consoles parse) and the report itself as a note of its own,
/// cut to CBC's limit and marked when cut.
async fn write_notes(
    client: &Client,
    d: &Delivery,
    at: Timestamp,
    channels: &[String],
    analyst: &str,
) -> Result<(), String> {
    let line = Note {
        entry: Entry::ReportSent {
            second: d.kind == ReportKind::Second,
            channels: channels.join(","),
        },
        analyst: analyst.to_string(),
        at,
    }
    .to_line();
    client
        .add_alert_note(&d.key.id, &line)
        .await
        .map_err(|e| e.to_string())?;
    let mut text = format!("{}\n\n{}", d.subject, d.body);
    if text.chars().count() > NOTE_MAX_CHARS {
        text = text.chars().take(NOTE_MAX_CHARS).collect();
        text.push_str("\n[… cut to fit CBC's note size; the full report is in the journal]");
    }
    client
        .add_alert_note(&d.key.id, &text)
        .await
        .map(drop)
        .map_err(|e| format!("the report text note: {e}"))
}

/// Timeout for one webhook call.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(20);
