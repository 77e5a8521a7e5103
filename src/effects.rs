//! The one place that turns the reducer's [`Effect`]s into IO: loading an alert's detail,
//! carrying out confirmed actions (journal intent → request → read-back → journal outcome),
//! the audit view, and reconciling actions a previous run left unfinished.
//!
//! A request that changes the world is never retried blindly: when its outcome is unclear
//! (a timeout, a 5xx after the request left), the state is read from CBC instead.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::app::detail::Part;
use crate::app::ledger::{Entry, Ledger, Note as LedgerNote};
use crate::app::pending::{Spec, State, Tracked};
use crate::app::queue::OrgIdx;
use crate::app::triage::Level;
use crate::app::{AuditRow, Effect, Msg};
use crate::cbc::model::{
    HashOverride, OverrideList, OverrideSearch, QuarantineAction, Toggle, WorkflowStatus,
    WorkflowUpdate,
};
use crate::cbc::{ApiError, Client};
use crate::journal::{
    ActionKind, ActionRecord, Approval as JApproval, Intent, JournalHandle, Outcome, OutcomeStatus,
};
use crate::notify::{Fallback, Notifier};

/// How actions are carried out.
#[derive(Debug, Clone)]
pub struct ActionSettings {
    pub analyst: String,
    /// CBC closure reason for alerts triaged Low / False positive.
    pub low_closure: String,
    pub fp_closure: String,
    /// How long to wait for a sensor to apply a quarantine change.
    pub checkin_timeout: Duration,
    /// How often the device is read while waiting.
    pub checkin_poll: Duration,
    pub lateral_window: SignedDuration,
    /// Where report email goes out (`[smtp]`, or the demo's mail sink).
    pub smtp: Option<crate::deliver::SmtpConfig>,
    /// The client for Slack/Teams webhooks.
    pub webhooks: Option<reqwest::Client>,
}

impl Default for ActionSettings {
    fn default() -> Self {
        ActionSettings {
            analyst: "analyst".into(),
            low_closure: "NO_REASON".into(),
            fp_closure: "RESOLVED_BENIGN_KNOWN_GOOD".into(),
            checkin_timeout: Duration::from_secs(900),
            checkin_poll: Duration::from_secs(5),
            lateral_window: SignedDuration::from_hours(24),
            smtp: None,
            webhooks: None,
        }
    }
}

/// What the loop does with the terminal for an effect.
#[derive(Debug, PartialEq, Eq)]
pub enum Terminal {
    /// Bytes between frames (bell, OSC 52).
    Write(Vec<u8>),
    /// Leave the screen, edit this text in `$EDITOR`, come back.
    ExternalEditor(String),
}

/// Edits `text` in the analyst's `$VISUAL` / `$EDITOR` (else `vi`) on a private temporary
/// file and returns the result. The caller has left the alternate screen and raw mode.
pub fn edit_externally(text: &str) -> Result<String, String> {
    use std::io::Write as _;
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let dir = tempfile::Builder::new()
        .prefix("socdeck-draft")
        .tempdir()
        .map_err(|e| format!("no temporary directory: {e}"))?;
    let path = dir.path().join("report.md");
    let mut f = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    drop(f);
    // `$EDITOR` may carry arguments ("code --wait"): split on whitespace, like git does.
    let mut words = editor.split_whitespace();
    let program = words.next().ok_or("$EDITOR is empty")?;
    let status = std::process::Command::new(program)
        .args(words)
        .arg(&path)
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "{program} exited with {status}; the draft is unchanged"
        ));
    }
    let out = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(out).map_err(|_| "the file is not UTF-8; the draft is unchanged".into())
}

/// The demo's loopback mailbox and webhook receiver.
#[derive(Clone)]
pub struct DemoSinks {
    pub mail: Arc<crate::deliver::sink::MailSink>,
    pub hooks: Arc<crate::deliver::sink::WebhookSink>,
}

impl DemoSinks {
    /// SMTP settings that deliver to the demo mailbox (plain text: loopback only).
    pub fn smtp(&self) -> crate::deliver::SmtpConfig {
        crate::deliver::SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.mail.addr().port(),
            tls: crate::deliver::SmtpTls::None,
            from: "socdeck demo SOC <soc@socdeck-demo.example>".into(),
            username: None,
            password: None,
            ca_pem: None,
            timeout: Duration::from_secs(10),
        }
    }

    /// What arrived, newest first, as audit-view lines.
    pub fn rows(&self) -> Vec<AuditRow> {
        let now = Timestamp::now();
        let mut rows: Vec<AuditRow> = self
            .mail
            .messages()
            .iter()
            .map(|m| {
                let text = m.data_text();
                let subject = text
                    .lines()
                    .find_map(|l| l.strip_prefix("Subject: "))
                    .unwrap_or("")
                    .to_string();
                AuditRow {
                    at: now,
                    analyst: m.from.clone(),
                    what: "email".into(),
                    target: m.to.join(", "),
                    outcome: format!("{subject} ({} bytes)", m.data.len()),
                }
            })
            .collect();
        rows.extend(self.hooks.requests().iter().map(|r| AuditRow {
            at: now,
            analyst: "webhook".into(),
            what: r.path.split('/').nth(1).unwrap_or("webhook").to_string(),
            target: r.path.clone(),
            outcome: format!(
                "HTTP {} · {}",
                r.status,
                r.body.to_string().chars().take(120).collect::<String>()
            ),
        }));
        rows.reverse();
        rows
    }
}

/// How long a workflow job may take before the outcome is read back instead.
const JOB_WAIT: Duration = Duration::from_secs(30);

pub struct EffectRunner {
    clients: Vec<Client>,
    tx: mpsc::Sender<Msg>,
    pokes: Vec<Arc<Notify>>,
    notifier: Notifier,
    settings: Arc<ActionSettings>,
    journal: Option<JournalHandle>,
    detail_task: Option<JoinHandle<()>>,
    sinks: Option<DemoSinks>,
}

impl EffectRunner {
    pub fn new(
        clients: Vec<Client>,
        tx: mpsc::Sender<Msg>,
        pokes: Vec<Arc<Notify>>,
        notifier: Notifier,
        settings: ActionSettings,
        journal: Option<JournalHandle>,
    ) -> EffectRunner {
        EffectRunner {
            clients,
            tx,
            pokes,
            notifier,
            settings: Arc::new(settings),
            journal,
            detail_task: None,
            sinks: None,
        }
    }

    /// The demo's mailbox, for the mailbox view.
    pub fn set_sinks(&mut self, sinks: Option<DemoSinks>) {
        self.sinks = sinks;
    }

    /// The orgs' clients, once they exist (the demo builds them after the first frame).
    pub fn set_clients(&mut self, clients: Vec<Client>) {
        self.clients = clients;
    }

    /// Runs one effect; returns what only the loop can do with the terminal, if anything.
    /// `leaving`: the process is about to exit, so drafts are saved before this returns.
    pub fn run(&mut self, effect: Effect, leaving: bool) -> Option<Terminal> {
        self.run_inner(effect, leaving)
    }

    fn run_inner(&mut self, effect: Effect, leaving: bool) -> Option<Terminal> {
        match effect {
            Effect::PollNow(None) => self.pokes.iter().for_each(|p| p.notify_one()),
            Effect::PollNow(Some(i)) => {
                if let Some(p) = self.pokes.get(i as usize) {
                    p.notify_one();
                }
            }
            Effect::Notify { title, body } => {
                if self.notifier.notify(&title, &body) == Fallback::RingBell {
                    return Some(Terminal::Write(b"\x07".to_vec()));
                }
            }
            Effect::Copy(seq) => return Some(Terminal::Write(seq.into_bytes())),
            Effect::ExternalEditor { text } => return Some(Terminal::ExternalEditor(text)),
            Effect::LoadDraft { key, org_key, kind } => {
                let (tx, journal) = (self.tx.clone(), self.journal.clone()?);
                tokio::spawn(async move {
                    let text = match journal
                        .load_draft(org_key, key.id.to_string(), kind.as_str())
                        .await
                    {
                        Ok(d) => d.map(|d| d.text),
                        Err(e) => {
                            tracing::error!(error = %e, "draft not read");
                            None
                        }
                    };
                    let _ = tx.send(Msg::Draft { key, kind, text }).await;
                });
            }
            Effect::SaveDraft {
                key,
                org_key,
                kind,
                text,
            } => {
                let Some(journal) = self.journal.clone() else {
                    let result = Err("no journal: the draft lives only in this editor".into());
                    let at = Timestamp::now();
                    let _ = self.tx.try_send(Msg::DraftSaved {
                        key,
                        kind,
                        at,
                        result,
                    });
                    return None;
                };
                let at = Timestamp::now();
                if leaving {
                    // On the way out nobody waits for a task: write it here and now.
                    if let Err(e) =
                        journal.save_draft_now(&org_key, &key.id, kind.as_str(), &text, at)
                    {
                        tracing::error!(error = %e, "draft not saved on exit");
                    }
                    return None;
                }
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = journal
                        .save_draft(org_key, key.id.to_string(), kind.as_str(), text, at)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = tx
                        .send(Msg::DraftSaved {
                            key,
                            kind,
                            at,
                            result,
                        })
                        .await;
                });
            }
            Effect::DiscardDraft {
                org_key,
                alert_id,
                kind,
            } => {
                let journal = self.journal.clone()?;
                tokio::spawn(async move {
                    if let Err(e) = journal
                        .discard_draft(org_key, alert_id, kind.as_str())
                        .await
                    {
                        tracing::error!(error = %e, "draft not discarded");
                    }
                });
            }
            Effect::LoadDetail { org, alert_id, seq } => {
                // Only the open alert matters: a previous load still running is dropped.
                if let Some(t) = self.detail_task.take() {
                    t.abort();
                }
                let client = self.clients.get(org as usize).cloned()?;
                let tx = self.tx.clone();
                let window = self.settings.lateral_window;
                self.detail_task = Some(tokio::spawn(async move {
                    let report = move |part: Part| {
                        // try_send: a full channel must not stall the other parts; the
                        // detail shows "loading" for a part that was dropped, and r reloads.
                        let _ = tx.try_send(Msg::DetailPart { seq, part });
                    };
                    crate::investigate::load_detail(&client, &alert_id, window, report).await;
                }));
            }
            Effect::Execute(t) => {
                let Some(client) = self.clients.get(t.key.org as usize).cloned() else {
                    let state = State::Failed("no client for this org".into());
                    let _ = self.tx.try_send(Msg::ActionState { id: t.id, state });
                    return None;
                };
                let (tx, journal, settings) =
                    (self.tx.clone(), self.journal.clone(), self.settings.clone());
                tokio::spawn(async move {
                    perform(&client, journal.as_ref(), &settings, *t, &tx).await;
                });
            }
            Effect::LoadDevice { org, device_id } => {
                let client = self.clients.get(org as usize).cloned()?;
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let quarantined = client
                        .device(device_id)
                        .await
                        .map(|d| d.quarantined)
                        .map_err(|e| e.to_string());
                    let _ = tx
                        .send(Msg::DeviceState {
                            org,
                            device_id,
                            quarantined,
                        })
                        .await;
                });
            }
            Effect::LogCall {
                org_key,
                alert_id,
                person,
                outcome,
                at,
            } => {
                let journal = self.journal.clone();
                let tx = self.tx.clone();
                let analyst = self.settings.analyst.clone();
                tokio::spawn(async move {
                    let call = crate::journal::Call {
                        at,
                        analyst,
                        person,
                        outcome,
                    };
                    let r = match journal {
                        Some(j) => j
                            .with(move |j| j.log_call(&org_key, &alert_id, &call))
                            .await
                            .map_err(|e| e.to_string()),
                        None => Err("no journal".to_string()),
                    };
                    if let Err(e) = r {
                        let _ = tx
                            .send(Msg::TaskFailed(format!("call not logged: {e}")))
                            .await;
                    }
                });
            }
            Effect::SendReport(d) => {
                let ctx = crate::sender::SendCtx {
                    journal: self.journal.clone(),
                    client: self.clients.get(d.key.org as usize).cloned(),
                    analyst: self.settings.analyst.clone(),
                    smtp: self.settings.smtp.clone(),
                    http: self.settings.webhooks.clone(),
                };
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let msg = crate::sender::deliver(ctx, *d).await;
                    let _ = tx.send(msg).await;
                });
            }
            Effect::LoadMailbox => {
                let (title, rows) = match &self.sinks {
                    Some(s) => (
                        format!(
                            "Demo mailbox (smtp://{}) and webhook receiver — what customers got",
                            s.mail.addr()
                        ),
                        s.rows(),
                    ),
                    None => (
                        "No demo mailbox: reports go to the customers' real channels".into(),
                        Vec::new(),
                    ),
                };
                let _ = self.tx.try_send(Msg::Audit { title, rows });
            }
            Effect::LoadAudit => {
                let (tx, journal) = (self.tx.clone(), self.journal.clone());
                tokio::spawn(async move {
                    let (title, rows) = match journal {
                        None => (
                            "Audit log (no journal: actions are disabled)".into(),
                            vec![],
                        ),
                        Some(j) => match j.audit(None, 500).await {
                            Ok(recs) => (
                                format!("Audit log — {}", j.path().display()),
                                recs.iter().map(audit_row).collect(),
                            ),
                            Err(e) => (format!("Audit log unavailable: {e}"), vec![]),
                        },
                    };
                    let _ = tx.send(Msg::Audit { title, rows }).await;
                });
            }
        }
        None
    }
}

/// An audit-view line of a journal record.
pub fn audit_row(r: &ActionRecord) -> AuditRow {
    let i = &r.intent;
    let mut what = i.kind.as_str().to_string();
    if !i.params.is_empty() {
        what = format!("{what} {}", i.params);
    }
    let outcome = match &r.outcome {
        None => "NO OUTCOME (interrupted)".to_string(),
        Some(o) if o.detail.is_empty() => o.status.as_str().to_string(),
        Some(o) => format!("{}: {}", o.status.as_str(), o.detail),
    };
    let approval = i
        .approval
        .as_ref()
        .map(|a| format!(" [approved by {} via {}]", a.approver, a.channel))
        .unwrap_or_default();
    AuditRow {
        at: i.at,
        analyst: i.analyst.clone(),
        what,
        target: format!("{} {}", i.org_key, i.target),
        outcome: format!("{outcome}{approval}"),
    }
}

fn intent_of(t: &Tracked, client: &Client, analyst: &str) -> Intent {
    let (kind, target, params, device_id) = match &t.spec {
        Spec::Quarantine {
            on,
            device_id,
            device,
        } => (
            if *on {
                ActionKind::QuarantineOn
            } else {
                ActionKind::QuarantineOff
            },
            format!("{device} (device {device_id})"),
            format!("toggle={}", if *on { "ON" } else { "OFF" }),
            Some(*device_id),
        ),
        Spec::HashOverride { ban, sha256, .. } => (
            if *ban {
                ActionKind::Ban
            } else {
                ActionKind::Allow
            },
            sha256.clone(),
            String::new(),
            None,
        ),
        Spec::Triage { level } => (
            ActionKind::Triage,
            format!("alert {}", t.key.id),
            format!("level={level}"),
            None,
        ),
        Spec::Take => (
            ActionKind::Take,
            format!("alert {}", t.key.id),
            String::new(),
            None,
        ),
    };
    Intent {
        at: Timestamp::now(),
        analyst: analyst.to_string(),
        org_key: client.org_key().to_string(),
        kind,
        alert_id: Some(t.key.id.to_string()),
        device_id,
        target,
        params,
        approval: t.approval.as_ref().map(|a| JApproval {
            approver: a.approver.clone(),
            channel: a.channel.clone(),
            at: a.at,
        }),
    }
}

/// Carries out one confirmed action, reporting its states.
pub async fn perform(
    client: &Client,
    journal: Option<&JournalHandle>,
    settings: &ActionSettings,
    t: Tracked,
    tx: &mpsc::Sender<Msg>,
) {
    let send = |state: State| {
        let tx = tx.clone();
        let id = t.id;
        async move {
            let _ = tx.send(Msg::ActionState { id, state }).await;
        }
    };
    // The intent is durable before anything leaves: without a journal nothing is sent.
    let Some(journal) = journal else {
        send(State::Failed(
            "no journal: actions are not sent without an audit record".into(),
        ))
        .await;
        return;
    };
    let intent = intent_of(&t, client, &settings.analyst);
    let jid = match journal.intent(intent).await {
        Ok(id) => id,
        Err(e) => {
            send(State::Failed(format!("journal: {e}; nothing was sent"))).await;
            return;
        }
    };
    send(State::Sent).await;
    let result = match &t.spec {
        Spec::Triage { level } => triage(client, settings, &t.key.id, *level).await,
        Spec::Take => take(client, settings, &t.key.id).await,
        Spec::HashOverride {
            ban,
            sha256,
            filename,
        } => hash_override(client, settings, &t, *ban, sha256, filename.clone()).await,
        Spec::Quarantine { on, device_id, .. } => {
            quarantine(client, settings, &t, *on, *device_id, &send).await
        }
    };
    let (status, state, detail) = match result {
        Ok(Done::Confirmed(detail)) => (OutcomeStatus::Succeeded, State::Confirmed, detail),
        Ok(Done::TimedOut(detail)) => (OutcomeStatus::Unclear, State::TimedOut, detail),
        Err(e) => (OutcomeStatus::Failed, State::Failed(e.clone()), e),
    };
    let outcome = Outcome {
        at: Timestamp::now(),
        status,
        detail,
    };
    if let Err(e) = journal.outcome(jid, outcome).await {
        tracing::error!(error = %e, "journal outcome not written");
    }
    send(state).await;
}

enum Done {
    Confirmed(String),
    /// Sent, but its effect was not seen in time (a sensor that has not checked in).
    TimedOut(String),
}

fn structured(settings: &ActionSettings, entry: Entry) -> String {
    LedgerNote {
        entry,
        analyst: settings.analyst.clone(),
        at: Timestamp::now(),
    }
    .to_line()
}

/// A workflow change, read back when its outcome is unclear.
async fn workflow(client: &Client, update: &WorkflowUpdate) -> Result<(), String> {
    match client.update_workflow(update).await {
        Ok(job) => match client.wait_job(&job, JOB_WAIT).await {
            Ok(_) => Ok(()),
            Err(ApiError::JobFailed { message, .. }) => {
                Err(format!("workflow job failed: {message}"))
            }
            Err(_) => read_back_workflow(client, update).await,
        },
        Err(e @ (ApiError::UnclearOutcome { .. } | ApiError::Timeout { .. })) => {
            tracing::warn!(error = %e, "workflow update outcome unclear; reading back");
            read_back_workflow(client, update).await
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn read_back_workflow(client: &Client, update: &WorkflowUpdate) -> Result<(), String> {
    match client.workflow_applied(update).await {
        Ok(true) => Ok(()),
        Ok(false) => Err("the workflow change is not visible in CBC (not applied)".into()),
        Err(e) => Err(format!("outcome unknown, and reading it back failed: {e}")),
    }
}

/// A note, read back when its outcome is unclear (never posted twice blindly).
async fn note(client: &Client, alert_id: &str, text: &str) -> Result<(), String> {
    match client.add_alert_note(alert_id, text).await {
        Ok(_) => Ok(()),
        Err(e @ (ApiError::UnclearOutcome { .. } | ApiError::Timeout { .. })) => {
            tracing::warn!(error = %e, "note outcome unclear; reading back");
            match client.note_present(alert_id, text).await {
                Ok(true) => Ok(()),
                Ok(false) => Err("the note is not visible in CBC (not added)".into()),
                Err(e) => Err(format!("note outcome unknown, reading back failed: {e}")),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn triage(
    client: &Client,
    settings: &ActionSettings,
    alert_id: &str,
    level: Level,
) -> Result<Done, String> {
    let mut update = match level {
        Level::High | Level::Medium => {
            WorkflowUpdate::for_alerts([alert_id], WorkflowStatus::InProgress)
        }
        Level::Low | Level::FalsePositive => {
            let mut u = WorkflowUpdate::for_alerts([alert_id], WorkflowStatus::Closed);
            u.closure_reason = Some(if level == Level::Low {
                settings.low_closure.clone()
            } else {
                settings.fp_closure.clone()
            });
            u
        }
    };
    if level == Level::FalsePositive {
        update.determination = Some("FALSE_POSITIVE".into());
    }
    // The structured note first: if the workflow change then fails, other consoles still see
    // the analyst's decision, and the failure is reported here.
    let line = structured(settings, Entry::Level(level));
    note(client, alert_id, &line).await?;
    workflow(client, &update).await?;
    Ok(Done::Confirmed(format!(
        "workflow {}{}",
        update.status.as_str(),
        update
            .closure_reason
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default()
    )))
}

async fn take(client: &Client, settings: &ActionSettings, alert_id: &str) -> Result<Done, String> {
    let line = structured(settings, Entry::Take);
    note(client, alert_id, &line).await?;
    let update = WorkflowUpdate::for_alerts([alert_id], WorkflowStatus::InProgress);
    workflow(client, &update).await?;
    Ok(Done::Confirmed("owner set, IN_PROGRESS".into()))
}

async fn hash_override(
    client: &Client,
    settings: &ActionSettings,
    t: &Tracked,
    ban: bool,
    sha256: &str,
    filename: Option<String>,
) -> Result<Done, String> {
    let list = if ban {
        OverrideList::Ban
    } else {
        OverrideList::Allow
    };
    let why = format!(
        "socdeck: {} by {} for alert {}",
        if ban { "ban" } else { "allow" },
        settings.analyst,
        t.key.id
    );
    let o = HashOverride::new(list, sha256, filename, why).ok_or("not a SHA-256")?;
    match client.create_override(&o).await {
        Ok(_) => {}
        Err(e @ (ApiError::UnclearOutcome { .. } | ApiError::Timeout { .. })) => {
            tracing::warn!(error = %e, "override outcome unclear; reading back");
            let found = override_present(client, list, sha256)
                .await
                .map_err(|e| format!("outcome unknown, reading back failed: {e}"))?;
            if !found {
                return Err("the override is not visible in CBC (not created)".into());
            }
        }
        Err(e) => return Err(e.to_string()),
    }
    let line = structured(
        settings,
        Entry::Override {
            ban,
            sha256: sha256.to_string(),
        },
    );
    if let Err(e) = note(client, &t.key.id, &line).await {
        // The override is in place; only the record on the alert is missing.
        return Ok(Done::Confirmed(format!(
            "override created; alert note failed: {e}"
        )));
    }
    Ok(Done::Confirmed(format!(
        "{} {sha256}",
        if ban { "BLACK_LIST" } else { "WHITE_LIST" }
    )))
}

async fn quarantine<F, Fut>(
    client: &Client,
    settings: &ActionSettings,
    t: &Tracked,
    on: bool,
    device_id: i64,
    send: &F,
) -> Result<Done, String>
where
    F: Fn(State) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let action = QuarantineAction::new(vec![device_id], if on { Toggle::On } else { Toggle::Off })
        .ok_or("no device")?;
    let mut unclear = None;
    match client.quarantine(&action).await {
        Ok(()) => {}
        // The sensor applies it at check-in: reading the device now would not tell. Wait and
        // watch instead of sending again.
        Err(e @ (ApiError::UnclearOutcome { .. } | ApiError::Timeout { .. })) => {
            unclear = Some(e.to_string());
        }
        Err(e) => return Err(e.to_string()),
    }
    let mut line = structured(settings, Entry::Quarantine { on, device_id });
    if let Some(a) = &t.approval {
        line.push_str(&format!(
            "\ncustomer approval: {} via {} at {}",
            a.approver, a.channel, a.at
        ));
    }
    if let Err(e) = note(client, &t.key.id, &line).await {
        tracing::warn!(error = %e, "quarantine note not written");
    }
    send(State::WaitingCheckin).await;
    match wait_quarantine(client, device_id, on, settings).await? {
        true => Ok(Done::Confirmed(format!("device reports quarantined={on}"))),
        false => Ok(Done::TimedOut(match unclear {
            Some(e) => format!("request outcome unclear ({e}) and no check-in within the timeout"),
            None => "accepted; the sensor did not check in within the timeout".into(),
        })),
    }
}

/// Whether CBC has an override of `list` for `sha256`.
async fn override_present(c: &Client, list: OverrideList, sha256: &str) -> Result<bool, ApiError> {
    let page = c
        .search_overrides(&OverrideSearch::for_hash(list, sha256))
        .await?;
    Ok(page.results.iter().any(|o| {
        o.sha256_hash
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case(sha256))
    }))
}

/// Reads the device until it reports `quarantined == on` or the timeout passes.
async fn wait_quarantine(
    client: &Client,
    device_id: i64,
    on: bool,
    settings: &ActionSettings,
) -> Result<bool, String> {
    let deadline = tokio::time::Instant::now() + settings.checkin_timeout;
    let mut failures = 0;
    loop {
        match client.device(device_id).await {
            Ok(d) if d.quarantined == Some(on) => return Ok(true),
            Ok(_) => failures = 0,
            Err(e) => {
                failures += 1;
                if failures >= 5 {
                    return Err(format!("sent, but the device cannot be read: {e}"));
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(settings.checkin_poll).await;
    }
}

/// On start: intents a previous run left without an outcome are settled by reading CBC, and
/// the result is recorded and reported.
pub async fn reconcile(
    clients: &[Client],
    org_index: impl Fn(&str) -> Option<OrgIdx>,
    journal: &JournalHandle,
) -> Vec<AuditRow> {
    let Ok(open) = journal.unresolved().await else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for rec in open {
        let i = &rec.intent;
        let client = org_index(&i.org_key).and_then(|o| clients.get(o as usize));
        let (status, detail) = match client {
            None => (
                OutcomeStatus::Abandoned,
                "org no longer configured: state unknown".to_string(),
            ),
            Some(c) => reconcile_one(c, &rec).await,
        };
        let outcome = Outcome {
            at: Timestamp::now(),
            status,
            detail,
        };
        if journal.outcome(rec.id, outcome.clone()).await.is_ok() {
            let mut r = rec.clone();
            r.outcome = Some(outcome);
            rows.push(audit_row(&r));
        }
    }
    rows
}

async fn reconcile_one(c: &Client, rec: &ActionRecord) -> (OutcomeStatus, String) {
    let i = &rec.intent;
    let alert_id = i.alert_id.as_deref().unwrap_or("");
    let seen = |ok: bool, yes: &str, no: &str| {
        if ok {
            (OutcomeStatus::Reconciled, yes.to_string())
        } else {
            (OutcomeStatus::Failed, no.to_string())
        }
    };
    match i.kind {
        ActionKind::QuarantineOn | ActionKind::QuarantineOff => {
            let on = i.kind == ActionKind::QuarantineOn;
            match i.device_id {
                Some(id) => match c.device(id).await {
                    Ok(d) if d.quarantined == Some(on) => (
                        OutcomeStatus::Reconciled,
                        format!("device reports quarantined={on}"),
                    ),
                    Ok(d) => (
                        OutcomeStatus::Failed,
                        format!(
                            "device reports quarantined={}: the request was lost or the sensor has not checked in — check and repeat if needed",
                            d.quarantined.map_or("unknown".into(), |q| q.to_string())
                        ),
                    ),
                    Err(e) => (
                        OutcomeStatus::Unclear,
                        format!("cannot read the device: {e}"),
                    ),
                },
                None => (OutcomeStatus::Abandoned, "no device id recorded".into()),
            }
        }
        ActionKind::Triage | ActionKind::Take | ActionKind::Note => {
            match c.alert_notes(alert_id).await {
                Ok(notes) => {
                    let texts: Vec<&str> = notes.iter().filter_map(|n| n.note.as_deref()).collect();
                    let ledger = Ledger::from_texts(texts.iter().copied());
                    let by_me_after = |who: &str, at: Timestamp| {
                        who == i.analyst && at >= i.at - SignedDuration::from_secs(5)
                    };
                    let done = match i.kind {
                        ActionKind::Triage => ledger
                            .level
                            .as_ref()
                            .is_some_and(|(_, who, at)| by_me_after(who, *at)),
                        _ => ledger
                            .owner
                            .as_ref()
                            .is_some_and(|(who, at)| by_me_after(who, *at)),
                    };
                    seen(
                        done,
                        "the note is in CBC",
                        "no note in CBC: the action was not applied — repeat it if still wanted",
                    )
                }
                Err(e) => (
                    OutcomeStatus::Unclear,
                    format!("cannot read the notes: {e}"),
                ),
            }
        }
        ActionKind::Ban | ActionKind::Allow => {
            let list = if i.kind == ActionKind::Ban {
                OverrideList::Ban
            } else {
                OverrideList::Allow
            };
            match override_present(c, list, &i.target).await {
                Ok(found) => seen(
                    found,
                    "the override is in CBC",
                    "no override in CBC: not created — repeat it if still wanted",
                ),
                Err(e) => (
                    OutcomeStatus::Unclear,
                    format!("cannot search overrides: {e}"),
                ),
            }
        }
    }
}
