//! Messages into the reducer and effects out of it. Everything the console reacts to — a key,
//! the clock, a poll result, a signal — is a [`Msg`]; everything it asks the world to do is an
//! [`Effect`]. The reducer itself does no IO, so every rule is testable without sleeping.

use crossterm::event::KeyEvent;
use jiff::Timestamp;

use super::detail::Part;
use super::editor::ReportKind;
use super::ledger::Ledger;
use super::pending::{State, TrackId, Tracked};
use super::queue::{AlertKey, OrgIdx, Row};

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// Terminal size in columns and rows.
    Resize(u16, u16),
    /// The wall clock, once a second (aligned to the second).
    Tick(Timestamp),
    /// A poll of one org started.
    PollStarted {
        org: OrgIdx,
    },
    /// A poll of one org finished; `initial` for the first load after start.
    Polled {
        org: OrgIdx,
        rows: Vec<Row>,
        at: Timestamp,
        initial: bool,
    },
    /// A poll failed; the org's data is kept and marked stale as it ages.
    PollFailed {
        org: OrgIdx,
        error: String,
        at: Timestamp,
        retry_at: Option<Timestamp>,
    },
    /// A background task died; the console stays up and says so.
    TaskFailed(String),
    /// A part of the open detail arrived; `seq` names the request it answers.
    DetailPart {
        seq: u64,
        part: Part,
    },
    /// A confirmed action moved on.
    ActionState {
        id: TrackId,
        state: State,
    },
    /// What structured notes say about alerts of one org (level, owner).
    Ledger {
        org: OrgIdx,
        entries: Vec<(Box<str>, Ledger)>,
    },
    /// A device's quarantine state, read for an open prompt or detail.
    DeviceState {
        org: OrgIdx,
        device_id: i64,
        quarantined: Result<Option<bool>, String>,
    },
    /// The saved draft of a report (`None`: there is none), answering [`Effect::LoadDraft`].
    Draft {
        key: AlertKey,
        kind: ReportKind,
        text: Option<String>,
    },
    /// A draft was saved (`Ok`) or could not be (`Err`, the text stays in the editor).
    DraftSaved {
        key: AlertKey,
        kind: ReportKind,
        at: Timestamp,
        result: Result<(), String>,
    },
    /// `$EDITOR` returned with this text (`Err`: it could not run).
    ExternalEdited(Result<String, String>),
    /// The rules file changed: new rules in force (`Ok`), or it is broken and the last good
    /// rules stay (`Err` with the problems, each naming file and line).
    Rules(Result<Box<crate::config::rules::Rules>, Vec<String>>),
    /// A report delivery finished: each channel's result; `sent_at` when a written channel
    /// succeeded (the clock stops then); `note` is how writing the structured note to CBC went.
    Delivered {
        key: AlertKey,
        kind: ReportKind,
        results: Vec<super::sending::ChannelResult>,
        sent_at: Option<Timestamp>,
        note: Result<(), String>,
    },
    /// Rows for the audit view (newest first), with its title.
    Audit {
        title: String,
        rows: Vec<AuditRow>,
    },
    /// SIGTERM / SIGHUP / SIGINT, or the terminal went away: save and leave.
    Shutdown(ExitReason),
}

/// Why the console stopped; decides the exit status (128 + signal, as shells expect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    User,
    Hangup,
    Terminate,
    Interrupt,
    TerminalLost,
}

impl ExitReason {
    pub fn exit_code(self) -> u8 {
        match self {
            ExitReason::User => 0,
            ExitReason::Hangup | ExitReason::TerminalLost => 129,
            ExitReason::Interrupt => 130,
            ExitReason::Terminate => 143,
        }
    }
}

/// One line of the audit view: who did what to which target, when, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub at: Timestamp,
    pub analyst: String,
    pub what: String,
    pub target: String,
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Poll these orgs now (all when `None`).
    PollNow(Option<OrgIdx>),
    /// Load every part of an alert's detail; parts come back as [`Msg::DetailPart`].
    LoadDetail {
        org: OrgIdx,
        alert_id: String,
        seq: u64,
    },
    /// Carry out a confirmed action (journal intent, request, outcome), reporting
    /// [`Msg::ActionState`].
    Execute(Box<Tracked>),
    /// Put text on the clipboard through OSC 52 (already size-checked).
    Copy(String),
    /// Load the audit log into the audit view.
    LoadAudit,
    /// Show what the demo's mailbox and webhook receiver got.
    LoadMailbox,
    /// Read one device's quarantine state ([`Msg::DeviceState`]).
    LoadDevice { org: OrgIdx, device_id: i64 },
    /// Read the saved draft of a report ([`Msg::Draft`]).
    LoadDraft {
        key: AlertKey,
        org_key: String,
        kind: ReportKind,
    },
    /// Save a draft (done before the process exits when it comes with a shutdown).
    SaveDraft {
        key: AlertKey,
        org_key: String,
        kind: ReportKind,
        text: String,
    },
    /// Remove a draft.
    DiscardDraft {
        org_key: String,
        alert_id: String,
        kind: ReportKind,
    },
    /// Suspend the screen, edit `text` in `$EDITOR`, come back ([`Msg::ExternalEdited`]).
    ExternalEditor { text: String },
    /// Deliver a report (outbox first; only failed channels on a retry) ([`Msg::Delivered`]).
    SendReport(Box<super::sending::Delivery>),
    /// Record a phone call in the journal.
    LogCall {
        org_key: String,
        alert_id: String,
        person: String,
        outcome: String,
        at: Timestamp,
    },
    /// A desktop notification (or, without a desktop session, the bell).
    Notify { title: String, body: String },
}
