//! The reducer's alert-level parts: the detail screen's keys, and the actions on an alert
//! (triage, take, quarantine, release, ban) from their modal to their tracked state.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::detail::{Detail, Pane, Part};
use super::ledger::Ledger;
use super::pending::{Approval, ApprovalNeed, Prompt, Spec, State, TrackId, Tracked};
use super::queue::{AlertKey, Cell, OrgIdx, Row};
use super::triage::Level;
use super::{Action, App, Effect, Overlay, Screen, ToastLevel};
use crate::text;

/// Largest clipboard payload sent through OSC 52: terminals and tmux drop bigger ones.
pub const OSC52_MAX: usize = 32 * 1024;

pub(super) fn open_detail(app: &mut App, key: AlertKey) -> Vec<Effect> {
    app.detail_seq += 1;
    let seq = app.detail_seq;
    app.overlay = Overlay::None;
    app.screen = Screen::Detail(Box::new(Detail::new(key.clone(), seq)));
    app.dirty = true;
    vec![Effect::LoadDetail {
        org: key.org,
        alert_id: key.id.to_string(),
        seq,
    }]
}

pub(super) fn on_detail_part(app: &mut App, seq: u64, part: Part) {
    if let Screen::Detail(d) = &mut app.screen
        && d.seq == seq
    {
        d.apply(part);
        app.dirty = true;
    }
}

pub(super) fn is_detail_motion(a: Action) -> bool {
    matches!(
        a,
        Action::MoveDown
            | Action::MoveUp
            | Action::PageDown
            | Action::PageUp
            | Action::First
            | Action::Last
    )
}

pub(super) fn detail_action(app: &mut App, a: Action) -> Vec<Effect> {
    let page = (app.size.1 as usize).saturating_sub(9).max(1) as isize;
    let Screen::Detail(d) = &mut app.screen else {
        return Vec::new();
    };
    app.dirty = true;
    let delta: Option<isize> = match a {
        Action::MoveDown => Some(1),
        Action::MoveUp => Some(-1),
        Action::PageDown => Some(page),
        Action::PageUp => Some(-page),
        Action::First => Some(isize::MIN / 2),
        Action::Last => Some(isize::MAX / 2),
        _ => None,
    };
    if let Some(delta) = delta {
        let step = |at: usize, len: usize| -> usize {
            (at as isize)
                .saturating_add(delta)
                .clamp(0, len.saturating_sub(1) as isize) as usize
        };
        match d.pane {
            Pane::Tree => {
                if let Some(t) = d.tree.ready() {
                    d.tree_sel = step(d.tree_sel, t.lines.len());
                }
            }
            Pane::Lateral => {
                if let Some(l) = d.lateral.ready() {
                    d.lateral_sel = step(d.lateral_sel, l.hits.len());
                }
            }
            Pane::Summary | Pane::Notes => {
                d.scroll = (d.scroll as isize).saturating_add(delta).clamp(0, 10_000) as u16;
            }
        }
        return Vec::new();
    }
    let pane = |d: &mut Detail, p: Pane| {
        if d.pane != p {
            d.pane = p;
            d.scroll = 0;
        }
    };
    match a {
        Action::NextPane => pane(d, d.pane.next()),
        Action::PrevPane => pane(d, d.pane.prev()),
        Action::PaneSummary => pane(d, Pane::Summary),
        Action::PaneTree => pane(d, Pane::Tree),
        Action::PaneLateral => pane(d, Pane::Lateral),
        Action::PaneNotes => pane(d, Pane::Notes),
        Action::Activate => match d.pane {
            Pane::Tree => {
                if let super::detail::Load::Ready(t) = &mut d.tree {
                    d.tree_sel = t.toggle(d.tree_sel);
                }
            }
            Pane::Lateral => {
                let target = d
                    .lateral
                    .ready()
                    .and_then(|l| l.hits.get(d.lateral_sel))
                    .map(|h| h.device_raw.to_string());
                if let Some(device) = target {
                    // Jump: the queue, filtered to that device's alerts.
                    app.screen = Screen::Queue;
                    app.queue.filter = Default::default();
                    app.queue.filter.text = device.clone();
                    app.recompute();
                    app.toast(
                        ToastLevel::Info,
                        format!("alerts of {}", text::display_safe(&device)),
                    );
                }
            }
            Pane::Summary | Pane::Notes => {}
        },
        Action::ExpandAll => {
            if let super::detail::Load::Ready(t) = &mut d.tree {
                let node = t.lines.get(d.tree_sel).map(|(n, _)| *n);
                t.expand_all();
                d.tree_sel = node
                    .and_then(|n| t.lines.iter().position(|(m, _)| *m == n))
                    .unwrap_or(0);
            }
        }
        Action::ToggleFullCmdline => d.full_cmdline = !d.full_cmdline,
        Action::CopyCmdline | Action::CopyHash => {
            let from_tree = d.pane == Pane::Tree;
            let node = from_tree
                .then(|| d.tree.ready().and_then(|t| t.node_at(d.tree_sel)))
                .flatten();
            let alert = d.alert.ready();
            let (what, value) = if a == Action::CopyCmdline {
                let v = match node {
                    Some(n) => Some(n.cmdline_raw.to_string()),
                    None => alert.and_then(|a| a.process_cmdline.clone()),
                };
                ("command line", v)
            } else {
                let v = match node {
                    Some(n) => n.sha256.as_deref().map(str::to_string),
                    None => alert.and_then(|a| a.process_sha256.clone()),
                };
                ("SHA-256", v)
            };
            return copy(app, what, value);
        }
        _ => {}
    }
    Vec::new()
}

fn copy(app: &mut App, what: &str, value: Option<String>) -> Vec<Effect> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        app.toast(ToastLevel::Warning, format!("no {what} to copy"));
        return Vec::new();
    };
    match text::osc52_copy(&v, OSC52_MAX) {
        Some(seq) => {
            app.toast(
                ToastLevel::Info,
                format!("{what} copied ({} bytes, OSC 52)", v.len()),
            );
            vec![Effect::Copy(seq)]
        }
        None => {
            app.toast(
                ToastLevel::Warning,
                format!(
                    "{what} is {} bytes: too big for the terminal clipboard (max {OSC52_MAX})",
                    v.len()
                ),
            );
            Vec::new()
        }
    }
}

/// What the actions need to know about the alert in front of the analyst.
struct Target {
    key: AlertKey,
    org_name: String,
    device_id: Option<i64>,
    device: String,
    os: String,
    policy: String,
    policy_id: Option<i64>,
    reason: String,
    sha256: Option<String>,
    filename: Option<String>,
    owner: Option<String>,
    quarantined: Option<bool>,
}

/// The alert in front of the analyst: the open detail's or editor's, else the queue's selection.
pub(super) fn current_key(app: &App) -> Option<AlertKey> {
    Some(match &app.screen {
        Screen::Detail(d) => d.key.clone(),
        Screen::Editor { editor, .. } => editor.key.clone(),
        Screen::Queue => app.queue.selected()?.key.clone(),
    })
}

/// The alert of the open detail, else the queue's selection. Raw strings: the prompt
/// sanitises what it shows.
fn current_target(app: &App) -> Option<Target> {
    let key = current_key(app)?;
    let row = app.queue.get(&key);
    let detail = match &app.screen {
        Screen::Detail(d) => Some(d.as_ref()),
        Screen::Queue | Screen::Editor { .. } => None,
    };
    let alert = detail.and_then(|d| d.alert.ready());
    let device = detail.and_then(|d| d.device.ready());
    let pick = |a: Option<String>, r: Option<&Cell>| -> String {
        a.or_else(|| r.map(|c| c.as_str().to_string()))
            .unwrap_or_default()
    };
    Some(Target {
        org_name: app
            .orgs
            .get(key.org as usize)
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        device_id: alert
            .and_then(|a| a.device_id)
            .or(row.and_then(|r| r.device_id)),
        device: pick(
            alert.and_then(|a| a.device_name.clone()),
            row.map(|r| &r.device),
        ),
        os: pick(
            alert.and_then(|a| a.device_os.clone()),
            row.map(|r| &r.device_os),
        ),
        policy: pick(
            alert.and_then(|a| a.device_policy.clone()),
            row.map(|r| &r.policy),
        ),
        policy_id: alert.and_then(|a| a.device_policy_id),
        reason: pick(alert.and_then(|a| a.reason.clone()), row.map(|r| &r.reason)),
        sha256: alert
            .and_then(|a| a.process_sha256.clone())
            .or_else(|| row.and_then(|r| r.sha256.as_deref().map(str::to_string)))
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())),
        filename: alert
            .and_then(|a| a.process_name.clone())
            .map(|p| p.rsplit(['\\', '/']).next().unwrap_or(&p).to_string())
            .or_else(|| row.map(|r| r.process.as_str().to_string()))
            .filter(|s| !s.is_empty()),
        owner: row
            .and_then(|r| r.owner.as_ref())
            .map(|c| c.as_str().to_string()),
        quarantined: device.and_then(|d| d.quarantined),
        key,
    })
}

/// The customer's rule for a target: whether isolation needs approval, and how to show it.
fn rule_for(app: &App, t: &Target) -> (bool, String) {
    let org_key = app
        .orgs
        .get(t.key.org as usize)
        .map(|o| o.org_key.as_str())
        .unwrap_or("");
    let policy = (!t.policy.is_empty()).then_some(t.policy.as_str());
    let rule = app.rules.lookup(org_key, policy, t.policy_id);
    (
        rule.isolation == crate::config::rules::Isolation::Approval,
        rule_text(&rule),
    )
}

/// One line describing a rule: isolation, language, where it came from.
pub fn rule_text(rule: &crate::config::rules::Rule) -> String {
    use crate::config::rules::{Isolation, Language};
    format!(
        "isolation {}, report {} ({})",
        match rule.isolation {
            Isolation::Immediate => "immediate",
            Isolation::Approval => "after approval",
        },
        match rule.report_language {
            Language::Ja => "ja",
            Language::En => "en",
        },
        rule.source
    )
}

/// The prompt fact that shows the device's current quarantine state.
const QUARANTINE_NOW: &str = "Quarantine now";

pub(super) fn on_device_state(
    app: &mut App,
    org: OrgIdx,
    device_id: i64,
    quarantined: Result<Option<bool>, String>,
) {
    let text = match &quarantined {
        Ok(Some(true)) => "QUARANTINED".to_string(),
        Ok(Some(false)) => "not quarantined".to_string(),
        Ok(None) => "unknown (CBC does not say)".to_string(),
        Err(e) => format!("unknown (device not read: {e})"),
    };
    if let Overlay::Prompt(p) = &mut app.overlay
        && p.org == org
        && matches!(p.spec, Spec::Quarantine { device_id: d, .. } if d == device_id)
        && let Some(f) = p.facts.iter_mut().find(|(k, _)| k == QUARANTINE_NOW)
        // An action in flight says more than the device does.
        && f.1.starts_with("unknown")
    {
        f.1 = text;
        app.dirty = true;
    }
}

fn quarantine_text(t: &Target, app: &App) -> String {
    let tracked = t.device_id.and_then(|id| {
        app.tracked
            .iter()
            .rev()
            .find(|x| x.device() == Some(id) && !x.state.is_final())
    });
    match (tracked, t.quarantined) {
        (Some(x), _) => format!("{} {}", x.spec.label(), x.state.label()),
        (None, Some(true)) => "QUARANTINED".into(),
        (None, Some(false)) => "not quarantined".into(),
        (None, None) => "unknown (reading the device…)".into(),
    }
}

pub(super) fn alert_action(app: &mut App, a: Action) -> Vec<Effect> {
    if app.settings.read_only {
        app.toast(
            ToastLevel::Warning,
            format!("read-only mode: {} is disabled", a.name()),
        );
        return Vec::new();
    }
    let Some(t) = current_target(app) else {
        app.toast(ToastLevel::Warning, "no alert selected");
        return Vec::new();
    };
    let facts = |t: &Target, app: &App, extra: Vec<(String, String)>| {
        let mut f = vec![
            ("Customer".to_string(), t.org_name.clone()),
            (
                "Device".to_string(),
                match t.device_id {
                    Some(id) => format!("{} (id {id})", t.device),
                    None => t.device.clone(),
                },
            ),
            ("OS".to_string(), t.os.clone()),
            ("Policy".to_string(), t.policy.clone()),
            ("Rule".to_string(), rule_for(app, t).1),
            ("Reason".to_string(), t.reason.clone()),
        ];
        f.extend(extra);
        f
    };
    match a {
        Action::SetLevel => {
            app.overlay = Overlay::LevelChoice { key: t.key };
        }
        Action::Take => match &t.owner {
            Some(o) if *o != app.settings.analyst => {
                let f = vec![
                    ("Customer".to_string(), t.org_name.clone()),
                    ("Device".to_string(), t.device.clone()),
                    ("Reason".to_string(), t.reason.clone()),
                    ("Owned by".to_string(), o.clone()),
                ];
                app.overlay = Overlay::Prompt(Box::new(Prompt::new(
                    t.key,
                    Spec::Take,
                    ApprovalNeed::None,
                    f,
                )));
            }
            _ => return execute(app, t.key, Spec::Take, None),
        },
        Action::Quarantine | Action::ReleaseQuarantine => {
            let Some(device_id) = t.device_id else {
                app.toast(
                    ToastLevel::Warning,
                    "the alert names no device id: nothing to quarantine",
                );
                return Vec::new();
            };
            let on = a == Action::Quarantine;
            let need = if !on {
                ApprovalNeed::Release
            } else if rule_for(app, &t).0 {
                ApprovalNeed::Rule
            } else {
                ApprovalNeed::None
            };
            let state = quarantine_text(&t, app);
            let known = t.quarantined.is_some();
            let f = facts(&t, app, vec![(QUARANTINE_NOW.to_string(), state)]);
            let spec = Spec::Quarantine {
                on,
                device_id,
                device: t.device.clone(),
            };
            let org = t.key.org;
            app.overlay = Overlay::Prompt(Box::new(Prompt::new(t.key, spec, need, f)));
            app.dirty = true;
            // From the queue the device has not been read yet: read it for the prompt.
            if !known {
                return vec![Effect::LoadDevice { org, device_id }];
            }
        }
        Action::BanHash => {
            let Some(sha) = t.sha256.clone() else {
                app.toast(ToastLevel::Warning, "the alert has no SHA-256 to ban");
                return Vec::new();
            };
            let f = facts(
                &t,
                app,
                vec![
                    ("SHA-256".to_string(), sha.clone()),
                    ("File".to_string(), t.filename.clone().unwrap_or_default()),
                ],
            );
            let spec = Spec::HashOverride {
                ban: true,
                sha256: sha,
                filename: t.filename.clone(),
            };
            app.overlay =
                Overlay::Prompt(Box::new(Prompt::new(t.key, spec, ApprovalNeed::None, f)));
        }
        _ => {}
    }
    app.dirty = true;
    Vec::new()
}

/// Starts tracking a confirmed action and asks the runtime to carry it out.
fn execute(app: &mut App, key: AlertKey, spec: Spec, approval: Option<Approval>) -> Vec<Effect> {
    let id = app.next_track;
    app.next_track += 1;
    let t = Tracked {
        id,
        key,
        spec,
        approval,
        state: State::Requested,
        since: app.now,
    };
    app.tracked.push(t.clone());
    // Keep the list bounded over a long shift: finished actions live on in the journal.
    if app.tracked.len() > 500
        && let Some(i) = app.tracked.iter().position(|x| x.state.is_final())
    {
        app.tracked.remove(i);
    }
    app.dirty = true;
    vec![Effect::Execute(Box::new(t))]
}

pub(super) fn on_level_key(app: &mut App, key: KeyEvent, alert: AlertKey) -> Vec<Effect> {
    app.dirty = true;
    let level = match key.code {
        KeyCode::Char('h' | 'H' | '1') => Level::High,
        KeyCode::Char('m' | 'M' | '2') => Level::Medium,
        KeyCode::Char('l' | 'L' | '3') => Level::Low,
        KeyCode::Char('f' | 'F' | '4') => Level::FalsePositive,
        _ => {
            app.overlay = Overlay::None;
            return Vec::new();
        }
    };
    app.overlay = Overlay::None;
    let mut effects = execute(app, alert.clone(), Spec::Triage { level }, None);
    if level == Level::FalsePositive {
        // Offer the allow-list entry; it is a separate, confirmed action.
        if let Some(t) = current_target(app).filter(|t| t.key == alert)
            && let Some(sha) = t.sha256.clone()
        {
            let f = vec![
                ("Customer".to_string(), t.org_name.clone()),
                ("SHA-256".to_string(), sha.clone()),
                ("File".to_string(), t.filename.clone().unwrap_or_default()),
                (
                    "Effect".to_string(),
                    "CBC will trust this file in every policy of the org".to_string(),
                ),
            ];
            let spec = Spec::HashOverride {
                ban: false,
                sha256: sha,
                filename: t.filename,
            };
            app.overlay =
                Overlay::Prompt(Box::new(Prompt::new(alert, spec, ApprovalNeed::None, f)));
        }
    }
    effects.shrink_to_fit();
    effects
}

pub(super) fn on_prompt_key(app: &mut App, key: KeyEvent, mut p: Prompt) -> Vec<Effect> {
    app.dirty = true;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            app.overlay = Overlay::None;
            return Vec::new();
        }
        KeyCode::Char('n') if !p.needs_approval() => {
            app.overlay = Overlay::None;
            return Vec::new();
        }
        KeyCode::Enter | KeyCode::Char('y')
            if key.code == KeyCode::Enter || !p.needs_approval() =>
        {
            if app.settings.read_only {
                app.overlay = Overlay::None;
                app.toast(ToastLevel::Warning, "read-only mode: nothing is sent");
                return Vec::new();
            }
            if let Ok(approval) = p.confirm(app.now) {
                app.overlay = Overlay::None;
                return execute(app, p.key.clone(), p.spec.clone(), approval);
            }
        }
        KeyCode::Tab | KeyCode::BackTab => p.next_field(),
        KeyCode::Backspace => p.backspace(),
        KeyCode::Char(c) if !ctrl => p.input(c),
        _ => {}
    }
    app.overlay = Overlay::Prompt(Box::new(p));
    Vec::new()
}

pub(super) fn on_action_state(app: &mut App, id: TrackId, state: State) -> Vec<Effect> {
    let Some(t) = app.tracked.iter_mut().find(|t| t.id == id) else {
        return Vec::new();
    };
    t.state = state.clone();
    let t = t.clone();
    app.dirty = true;
    let target = app
        .queue
        .get(&t.key)
        .map(|r| r.device.as_str().to_string())
        .unwrap_or_else(|| t.key.id.to_string());
    match &state {
        State::Confirmed => {
            app.toast(
                ToastLevel::Info,
                format!("{} — {target}: done", t.spec.label()),
            );
            let mut l = app.ledgers.get(&t.key).cloned().unwrap_or_default();
            let me = app.settings.analyst.clone();
            match t.spec {
                Spec::Triage { level } => {
                    l.level = Some((level, me.clone(), app.now));
                    l.owner = Some((me, app.now));
                }
                Spec::Take => l.owner = Some((me, app.now)),
                Spec::Quarantine { on, device_id, .. } => {
                    if let Screen::Detail(d) = &mut app.screen
                        && let super::detail::Load::Ready(dev) = &mut d.device
                        && dev.id == Some(device_id)
                    {
                        dev.quarantined = Some(on);
                    }
                }
                Spec::HashOverride { .. } => {}
            }
            if !l.is_empty() {
                app.ledgers.insert(t.key.clone(), l.clone());
                if app.queue.update_row(&t.key, |r| apply_ledger(r, &l)) {
                    app.recompute();
                }
            }
            // The open detail of this alert shows the new notes and workflow.
            if let Screen::Detail(d) = &app.screen
                && d.key == t.key
            {
                let (pane, tree_sel, lateral_sel) = (d.pane, d.tree_sel, d.lateral_sel);
                let effects = open_detail(app, t.key.clone());
                if let Screen::Detail(d) = &mut app.screen {
                    (d.pane, d.tree_sel, d.lateral_sel) = (pane, tree_sel, lateral_sel);
                }
                return effects;
            }
        }
        State::Failed(e) => app.toast(
            ToastLevel::Error,
            format!("{} — {target}: FAILED: {e}", t.spec.label()),
        ),
        State::TimedOut => app.toast(
            ToastLevel::Warning,
            format!(
                "{} — {target}: the sensor did not check in in time; CBC applies it when it does",
                t.spec.label()
            ),
        ),
        _ => {}
    }
    Vec::new()
}

pub(super) fn on_ledger(app: &mut App, org: OrgIdx, entries: Vec<(Box<str>, Ledger)>) {
    let mut changed = false;
    for (id, l) in entries {
        let key = AlertKey { org, id: id.into() };
        // A newer local statement (just confirmed here) is not overwritten by an older read.
        let merged = match app.ledgers.get(&key) {
            Some(old) => old.combine(&l),
            None => l,
        };
        changed |= app.queue.update_row(&key, |r| apply_ledger(r, &merged));
        app.ledgers.insert(key, merged);
    }
    if changed {
        app.recompute();
    }
}

/// Puts what structured notes say onto a row.
pub(super) fn apply_ledger(r: &mut Row, l: &Ledger) {
    if let Some((level, _, at)) = &l.level {
        r.level_set = Some(*level);
        r.notes.get_or_insert_with(Default::default).level_at = Some(*at);
    }
    if let Some((at, _, _)) = &l.first_report {
        r.notes.get_or_insert_with(Default::default).first_report_at = Some(*at);
    }
    if let Some((at, _, _)) = &l.second_report {
        r.notes
            .get_or_insert_with(Default::default)
            .second_report_at = Some(*at);
    }
    if let Some((who, _)) = &l.owner {
        r.owner = Some(Cell::new(who, 128));
    }
}

/// What a report draft is prefilled from, for the alert in front of the analyst, and the
/// language of the customer's rule.
pub(super) fn report_facts(
    app: &App,
) -> Option<(AlertKey, String, super::report::Facts, super::report::Lang)> {
    use super::report::{Facts, Lang};
    let t = current_target(app)?;
    let row = app.queue.get(&t.key);
    let detail = match &app.screen {
        Screen::Detail(d) if d.key == t.key => Some(d.as_ref()),
        _ => None,
    };
    let alert = detail.and_then(|d| d.alert.ready());
    let org_key = app
        .orgs
        .get(t.key.org as usize)
        .map(|o| o.org_key.clone())
        .unwrap_or_default();
    let policy = (!t.policy.is_empty()).then_some(t.policy.as_str());
    let lang = match app
        .rules
        .lookup(&org_key, policy, t.policy_id)
        .report_language
    {
        crate::config::rules::Language::Ja => Lang::Ja,
        crate::config::rules::Language::En => Lang::En,
    };
    let ancestry = detail
        .and_then(|d| d.tree.ready())
        .and_then(|tr| {
            let a = tr.alert_node?;
            // The path root → alerting process, in tree order.
            let mut path: Vec<String> = tr
                .nodes
                .iter()
                .filter(|n| n.on_path)
                .map(|n| n.name.as_str().to_string())
                .collect();
            if path.is_empty() {
                path.push(tr.nodes[a].name.as_str().to_string());
            }
            Some(path)
        })
        .unwrap_or_default();
    let lateral = detail.and_then(|d| d.lateral.ready());
    let lateral_lines = lateral
        .map(|l| {
            l.hits
                .iter()
                .map(|h| {
                    let ev: Vec<String> = h.evidence.iter().map(|e| e.label()).collect();
                    format!("{}: {}", h.device.as_str(), ev.join(", "))
                })
                .collect()
        })
        .unwrap_or_default();
    let quarantine = match quarantine_text(&t, app) {
        s if s.starts_with("unknown") => None,
        s => Some(s),
    };
    let facts = Facts {
        customer: t.org_name.clone(),
        alert_id: t.key.id.to_string(),
        received: alert
            .and_then(|a| a.backend_timestamp)
            .or(row.and_then(|r| r.received_at)),
        device: t.device.clone(),
        device_os: t.os.clone(),
        user: alert
            .and_then(|a| a.process_username.clone().or(a.device_username.clone()))
            .or_else(|| row.map(|r| r.user.as_str().to_string()))
            .unwrap_or_default(),
        process: alert
            .and_then(|a| a.process_name.clone())
            .or_else(|| row.map(|r| r.process_path.as_str().to_string()))
            .unwrap_or_default(),
        cmdline: alert
            .and_then(|a| a.process_cmdline.clone())
            .or_else(|| row.map(|r| r.cmdline.as_str().to_string()))
            .unwrap_or_default(),
        sha256: t.sha256.clone().unwrap_or_default(),
        reason: t.reason.clone(),
        ttps: alert
            .map(|a| a.ttps.clone())
            .or_else(|| {
                row.map(|r| {
                    r.ttps
                        .as_str()
                        .split(", ")
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
            })
            .unwrap_or_default(),
        severity: alert
            .and_then(|a| a.severity)
            .or(row.and_then(|r| r.severity.map(i64::from))),
        level: row.map(|r| r.level(&app.settings.levels).0),
        ancestry,
        lateral: lateral_lines,
        lateral_known: lateral.is_some(),
        quarantine,
    };
    Some((t.key, org_key, facts, lang))
}
