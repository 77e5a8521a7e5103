//! Actions that change the world, as data (ARCHITECTURE.md: gitui's confirm-popup flow).
//!
//! An action is first a [`Prompt`] in a modal: nothing is sent until the analyst confirms, and
//! where the customer's rule (or the nature of the action) demands it, confirming is impossible
//! until the customer's approval is recorded. A confirmed action becomes a [`Tracked`] action
//! whose state the queue row and the detail show until it ends.

use jiff::Timestamp;

use super::queue::{AlertKey, OrgIdx};
use super::triage::Level;

/// What an action does. Every variant names exactly one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// Network isolation on (`on`) or off for exactly one device.
    Quarantine {
        on: bool,
        device_id: i64,
        device: String,
    },
    /// Reputation override for the alert's SHA-256: BLACK_LIST (`ban`) or WHITE_LIST.
    HashOverride {
        ban: bool,
        sha256: String,
        filename: Option<String>,
    },
    /// Set the triage level (workflow + structured note).
    Triage { level: Level },
    /// Become the alert's owner (note + IN_PROGRESS).
    Take,
}

impl Spec {
    pub fn title(&self) -> &'static str {
        match self {
            Spec::Quarantine { on: true, .. } => "Quarantine device",
            Spec::Quarantine { on: false, .. } => "Release quarantine",
            Spec::HashOverride { ban: true, .. } => "Ban SHA-256 (BLACK_LIST)",
            Spec::HashOverride { ban: false, .. } => "Allow-list SHA-256 (WHITE_LIST)",
            Spec::Triage { .. } => "Set triage level",
            Spec::Take => "Take alert",
        }
    }

    /// Short label for rows and the audit view.
    pub fn label(&self) -> String {
        match self {
            Spec::Quarantine { on: true, .. } => "quarantine".into(),
            Spec::Quarantine { on: false, .. } => "release".into(),
            Spec::HashOverride { ban: true, .. } => "ban".into(),
            Spec::HashOverride { ban: false, .. } => "allow".into(),
            Spec::Triage { level } => format!("level {level}"),
            Spec::Take => "take".into(),
        }
    }
}

/// Why a prompt needs the customer's approval before it may be confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalNeed {
    None,
    /// The customer's rule says `isolation = "approval"`.
    Rule,
    /// Releasing an isolation always needs the customer's word.
    Release,
}

/// A recorded customer approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub approver: String,
    /// How it was given: phone, email, slack, teams, ...
    pub channel: String,
    pub at: Timestamp,
}

/// Which input of the approval form has the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    #[default]
    Approver,
    Channel,
}

/// Longest approver / channel text accepted.
const FIELD_CAP: usize = 120;

/// A modal asking to confirm one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub key: AlertKey,
    pub org: OrgIdx,
    pub spec: Spec,
    /// Lines shown above the buttons: device, OS, customer, policy, rule, reason, state.
    pub facts: Vec<(String, String)>,
    pub need: ApprovalNeed,
    pub approver: String,
    pub channel: String,
    pub field: Field,
    /// Shown when a confirm was refused.
    pub error: Option<String>,
}

impl Prompt {
    pub fn new(
        key: AlertKey,
        spec: Spec,
        need: ApprovalNeed,
        facts: Vec<(String, String)>,
    ) -> Self {
        Prompt {
            org: key.org,
            key,
            spec,
            facts,
            need,
            approver: String::new(),
            channel: String::new(),
            field: Field::Approver,
            error: None,
        }
    }

    pub fn needs_approval(&self) -> bool {
        self.need != ApprovalNeed::None
    }

    /// Types into the focused field.
    pub fn input(&mut self, c: char) {
        if !self.needs_approval() || c.is_control() {
            return;
        }
        let f = self.field_mut();
        if f.chars().count() < FIELD_CAP {
            f.push(c);
        }
        self.error = None;
    }

    pub fn backspace(&mut self) {
        if self.needs_approval() {
            self.field_mut().pop();
        }
    }

    pub fn next_field(&mut self) {
        self.field = match self.field {
            Field::Approver => Field::Channel,
            Field::Channel => Field::Approver,
        };
    }

    fn field_mut(&mut self) -> &mut String {
        match self.field {
            Field::Approver => &mut self.approver,
            Field::Channel => &mut self.channel,
        }
    }

    /// Confirms: the approval (when one is needed), or why confirming is refused. The refusal
    /// is also kept in `error` for the modal to show.
    pub fn confirm(&mut self, now: Timestamp) -> Result<Option<Approval>, String> {
        if !self.needs_approval() {
            return Ok(None);
        }
        let approver = self.approver.trim();
        let channel = self.channel.trim();
        let missing = match (approver.is_empty(), channel.is_empty()) {
            (true, true) => Some("the approver and the channel of approval"),
            (true, false) => Some("the approver"),
            (false, true) => Some("the channel of approval"),
            (false, false) => None,
        };
        if let Some(m) = missing {
            let why = match self.need {
                ApprovalNeed::Release => {
                    "releasing a quarantine always needs the customer's approval"
                }
                _ => "the customer's rule requires approval",
            };
            let e = format!("{why}: enter {m} first");
            self.error = Some(e.clone());
            return Err(e);
        }
        Ok(Some(Approval {
            approver: approver.to_string(),
            channel: channel.to_string(),
            at: now,
        }))
    }
}

/// Where a confirmed action is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Confirmed; the intent is being written to the journal.
    Requested,
    /// The request is on its way.
    Sent,
    /// CBC accepted the quarantine; the sensor applies it at its next check-in.
    WaitingCheckin,
    /// Done (the device reports the new quarantine state, the write was read back).
    Confirmed,
    Failed(String),
    /// The sensor did not check in within the configured time.
    TimedOut,
}

impl State {
    pub fn is_final(&self) -> bool {
        matches!(self, State::Confirmed | State::Failed(_) | State::TimedOut)
    }

    pub fn label(&self) -> &str {
        match self {
            State::Requested => "requested",
            State::Sent => "sent",
            State::WaitingCheckin => "waiting for check-in",
            State::Confirmed => "confirmed",
            State::Failed(_) => "failed",
            State::TimedOut => "timed out",
        }
    }
}

/// Identifies a confirmed action within this console run.
pub type TrackId = u64;

/// A confirmed action and its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub id: TrackId,
    pub key: AlertKey,
    pub spec: Spec,
    pub approval: Option<Approval>,
    pub state: State,
    pub since: Timestamp,
}

impl Tracked {
    /// Whether this action concerns `device_id` (quarantine state in rows of that device).
    pub fn device(&self) -> Option<i64> {
        match self.spec {
            Spec::Quarantine { device_id, .. } => Some(device_id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AlertKey {
        AlertKey {
            org: 0,
            id: "a1".into(),
        }
    }

    fn quarantine(on: bool) -> Spec {
        Spec::Quarantine {
            on,
            device_id: 7,
            device: "ws-01".into(),
        }
    }

    fn now() -> Timestamp {
        "2026-11-30T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn no_approval_needed_confirms_at_once() {
        let mut p = Prompt::new(key(), quarantine(true), ApprovalNeed::None, vec![]);
        assert_eq!(p.confirm(now()), Ok(None));
        // Typing goes nowhere when there is no form.
        p.input('x');
        assert!(p.approver.is_empty());
    }

    #[test]
    fn approval_is_required_field_by_field() {
        for need in [ApprovalNeed::Rule, ApprovalNeed::Release] {
            let mut p = Prompt::new(key(), quarantine(need == ApprovalNeed::Rule), need, vec![]);
            let e = p.confirm(now()).unwrap_err();
            assert!(e.contains("approver and the channel"), "{e}");
            assert_eq!(p.error.as_deref(), Some(e.as_str()));
            for c in "Sato".chars() {
                p.input(c);
            }
            assert!(p.error.is_none(), "typing clears the refusal");
            assert!(p.confirm(now()).unwrap_err().contains("channel"));
            p.next_field();
            for c in "  ".chars() {
                p.input(c);
            }
            assert!(p.confirm(now()).is_err(), "blank is not a channel");
            for c in "phone".chars() {
                p.input(c);
            }
            let a = p.confirm(now()).unwrap().unwrap();
            assert_eq!(a.approver, "Sato");
            assert_eq!(a.channel, "phone");
            assert_eq!(a.at, now());
        }
        let mut r = Prompt::new(key(), quarantine(false), ApprovalNeed::Release, vec![]);
        assert!(r.confirm(now()).unwrap_err().contains("always"));
    }

    #[test]
    fn fields_are_capped_and_refuse_control_characters() {
        let mut p = Prompt::new(key(), quarantine(true), ApprovalNeed::Rule, vec![]);
        for _ in 0..500 {
            p.input('a');
        }
        p.input('\x1b');
        assert_eq!(p.approver.chars().count(), FIELD_CAP);
        p.backspace();
        assert_eq!(p.approver.chars().count(), FIELD_CAP - 1);
    }

    #[test]
    fn final_states() {
        assert!(!State::Sent.is_final());
        assert!(!State::WaitingCheckin.is_final());
        assert!(State::TimedOut.is_final());
        assert!(State::Failed("x".into()).is_final());
        assert!(State::Confirmed.is_final());
    }
}
