//! Sending a report: who gets it on which channel (from the customer's rule), the confirm modal
//! that previews it, the result per channel, and the phone-call log High alerts ask for.

use jiff::Timestamp;

use super::editor::ReportKind;
use super::queue::AlertKey;
use crate::config::rules::{Channel, Rule};

/// One recipient on one written channel.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    pub channel: Channel,
    pub name: String,
    /// The email address, or the webhook URL (a secret: shown only as [`Target::shown`]).
    pub address: String,
    /// What the screen and the journal may show: the address, or the webhook's scheme+host.
    pub shown: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("channel", &self.channel)
            .field("name", &self.name)
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

/// The written channels and phone numbers a rule asks for. Channels without a reachable
/// contact are named in the second list (the modal says so).
pub fn targets(rule: &Rule) -> (Vec<Target>, Vec<(String, String)>, Vec<Channel>) {
    let mut out = Vec::new();
    let mut phones = Vec::new();
    let mut unreachable = Vec::new();
    let wanted: Vec<Channel> = if rule.channels.is_empty() {
        vec![Channel::Email]
    } else {
        rule.channels.clone()
    };
    for ch in wanted {
        let before = out.len() + phones.len();
        for c in &rule.contacts {
            let address = match ch {
                Channel::Email => c.email.clone(),
                Channel::Slack => c.slack_webhook.clone(),
                Channel::Teams => c.teams_webhook.clone(),
                Channel::Phone => {
                    if let Some(p) = &c.phone {
                        phones.push((c.name.clone(), p.clone()));
                    }
                    None
                }
            };
            if let Some(address) = address.filter(|a| !a.trim().is_empty()) {
                let shown = match ch {
                    Channel::Email => address.clone(),
                    _ => crate::config::rules::redact_url(&address),
                };
                out.push(Target {
                    channel: ch,
                    name: c.name.clone(),
                    address,
                    shown,
                });
            }
        }
        if out.len() + phones.len() == before {
            unreachable.push(ch);
        }
    }
    (out, phones, unreachable)
}

/// A report ready to go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub key: AlertKey,
    pub org_key: String,
    pub kind: ReportKind,
    pub subject: String,
    pub body: String,
    pub targets: Vec<Target>,
    /// Retry the failed channels of the last delivery of this report instead of a new one.
    pub retry: bool,
}

/// The send modal: what goes where, before anything leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendPrompt {
    pub delivery: Delivery,
    pub phones: Vec<(String, String)>,
    pub unreachable: Vec<Channel>,
    /// High alerts: phone first, and the call is logged.
    pub high: bool,
    pub scroll: u16,
}

/// How one channel went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelResult {
    pub channel: String,
    pub shown: String,
    pub result: Result<(), String>,
}

/// The phone-call log entry form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallPrompt {
    pub key: Option<AlertKey>,
    pub org_key: String,
    pub phones: Vec<(String, String)>,
    pub person: String,
    pub outcome: String,
    /// 0: person, 1: outcome.
    pub field: u8,
    pub error: Option<String>,
}

impl CallPrompt {
    pub fn input(&mut self, c: char) {
        if c.is_control() {
            return;
        }
        let f = if self.field == 0 {
            &mut self.person
        } else {
            &mut self.outcome
        };
        if f.chars().count() < 200 {
            f.push(c);
        }
        self.error = None;
    }

    pub fn backspace(&mut self) {
        if self.field == 0 {
            self.person.pop();
        } else {
            self.outcome.pop();
        }
    }

    /// The entry, or why not yet.
    pub fn confirm(&mut self, now: Timestamp) -> Result<(String, String, Timestamp), String> {
        let (p, o) = (self.person.trim(), self.outcome.trim());
        if p.is_empty() || o.is_empty() {
            let e = "enter who was reached (or tried) and the outcome".to_string();
            self.error = Some(e.clone());
            return Err(e);
        }
        Ok((p.to_string(), o.to_string(), now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::rules::Rules;

    #[test]
    fn targets_follow_the_rules_channels_and_hide_webhooks() {
        let rules = Rules::parse(
            r#"[[org]]
org_key = "ORG1"
channels = ["phone", "email", "slack", "teams"]
  [[org.contacts]]
  name = "Yamada"
  email = "yamada@example.jp"
  phone = "+81-3-1234-5678"
  [[org.contacts]]
  name = "SOC desk"
  slack_webhook = "https://hooks.slack.com/services/T0/B0/SECRET"
"#,
            std::path::Path::new("/r.toml"),
        )
        .unwrap();
        let (t, phones, unreachable) = targets(&rules.lookup("ORG1", None, None));
        assert_eq!(
            phones,
            [("Yamada".to_string(), "+81-3-1234-5678".to_string())]
        );
        assert_eq!(
            t.iter()
                .map(|t| (t.channel, t.shown.as_str()))
                .collect::<Vec<_>>(),
            [
                (Channel::Email, "yamada@example.jp"),
                (Channel::Slack, "https://hooks.slack.com/…")
            ]
        );
        assert!(!format!("{t:?}").contains("SECRET"));
        assert_eq!(unreachable, [Channel::Teams]);
        // No rule at all: email, with nobody to send to.
        let (t, _, unreachable) = targets(&Rules::empty().lookup("X", None, None));
        assert!(t.is_empty());
        assert_eq!(unreachable, [Channel::Email]);
    }

    #[test]
    fn a_call_needs_a_person_and_an_outcome() {
        let mut c = CallPrompt::default();
        assert!(c.confirm(Timestamp::UNIX_EPOCH).is_err());
        "Sato".chars().for_each(|ch| c.input(ch));
        c.field = 1;
        "reached, approves".chars().for_each(|ch| c.input(ch));
        assert_eq!(c.confirm(Timestamp::UNIX_EPOCH).unwrap().0, "Sato");
    }
}
