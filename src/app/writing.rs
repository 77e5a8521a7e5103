//! The reducer's report-writing parts: opening a draft, editor keys, autosave, leaving.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;

use super::editor::{Editor, MAX_DRAFT_CHARS, ReportKind};
use super::queue::AlertKey;
use super::{Action, App, Effect, Mode, Overlay, Screen, ToastLevel};

/// Opens the first-report draft of the alert in front of the analyst: the template at once,
/// replaced by the saved draft when the journal has one.
pub(super) fn open(app: &mut App, kind: ReportKind) -> Vec<Effect> {
    if matches!(app.screen, Screen::Editor { .. }) {
        return Vec::new();
    }
    let Some((key, org_key, facts, lang)) = super::alert::report_facts(app) else {
        app.toast(ToastLevel::Warning, "no alert selected");
        return Vec::new();
    };
    let text = match kind {
        // Times in the customer's own time zone: the report is read there.
        ReportKind::First => {
            let tz = app
                .orgs
                .get(key.org as usize)
                .map(|o| o.calendar.tz.clone())
                .unwrap_or_else(|| app.settings.display_tz.clone());
            super::report::first_report(lang, &facts, &tz)
        }
        ReportKind::Second => super::report::second_report(lang, &facts),
    };
    let editor = Editor::new(key.clone(), org_key.clone(), kind, lang, &text);
    let back = std::mem::take(&mut app.screen);
    app.screen = Screen::Editor {
        editor: Box::new(editor),
        back: Box::new(back),
    };
    app.overlay = Overlay::None;
    app.dirty = true;
    vec![Effect::LoadDraft { key, org_key, kind }]
}

fn editor_mut(app: &mut App) -> Option<&mut Editor> {
    match &mut app.screen {
        Screen::Editor { editor, .. } => Some(editor),
        _ => None,
    }
}

fn save_effect(e: &Editor) -> Effect {
    Effect::SaveDraft {
        key: e.key.clone(),
        org_key: e.org_key.clone(),
        kind: e.kind,
        text: e.text(),
    }
}

/// On every tick: saves a draft that changed and has been quiet long enough.
pub(super) fn autosave(app: &mut App) -> Vec<Effect> {
    let now = app.now;
    match editor_mut(app) {
        Some(e) if e.autosave_due(now) => {
            // Marked now so the next tick does not save the same text again; a failure
            // marks it unsaved again (`on_saved`).
            e.mark_saved(now);
            vec![save_effect(e)]
        }
        _ => Vec::new(),
    }
}

/// Saves an unsaved draft now (leaving the editor, quitting, a signal).
pub(super) fn flush(app: &mut App) -> Vec<Effect> {
    let now = app.now;
    match editor_mut(app) {
        Some(e) if e.unsaved_since.is_some() => {
            e.mark_saved(now);
            vec![save_effect(e)]
        }
        _ => Vec::new(),
    }
}

pub(super) fn on_draft(app: &mut App, key: AlertKey, kind: ReportKind, text: Option<String>) {
    if let Some(e) = editor_mut(app)
        && e.key == key
        && e.kind == kind
        && let Some(t) = text
        && !e.touched
    {
        e.set_text(&t);
        app.toast(ToastLevel::Info, "draft restored from the journal");
    }
}

pub(super) fn on_saved(
    app: &mut App,
    key: AlertKey,
    kind: ReportKind,
    at: Timestamp,
    result: Result<(), String>,
) {
    let Some(e) = editor_mut(app).filter(|e| e.key == key && e.kind == kind) else {
        if let Err(err) = result {
            app.toast(ToastLevel::Error, format!("draft NOT saved: {err}"));
        }
        return;
    };
    match result {
        Ok(()) => {
            e.last_saved = Some(at);
            app.dirty = true;
        }
        Err(err) => {
            // Keep it unsaved: the next tick tries again; the text stays in the editor.
            e.unsaved_since.get_or_insert(at);
            e.last_edit.get_or_insert(at);
            app.toast(ToastLevel::Error, format!("draft NOT saved: {err}"));
        }
    }
}

pub(super) fn on_external(app: &mut App, result: Result<String, String>) {
    let now = app.now;
    match result {
        Ok(text) => {
            if let Some(e) = editor_mut(app) {
                let text: String = text.chars().take(MAX_DRAFT_CHARS).collect();
                if text != e.text() {
                    e.set_text(&text);
                    e.changed(now);
                }
            }
        }
        Err(err) => app.toast(ToastLevel::Error, format!("$EDITOR: {err}")),
    }
    app.dirty = true;
}

/// Leaves the editor for the screen it was opened from, saving first.
fn leave(app: &mut App) -> Vec<Effect> {
    let effects = flush(app);
    if let Screen::Editor { back, .. } = std::mem::take(&mut app.screen) {
        app.screen = *back;
    }
    app.dirty = true;
    effects
}

pub(super) fn on_editor_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    app.dirty = true;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    // A pending "discard?" question takes the next key.
    if let Some(e) = editor_mut(app)
        && e.confirm_discard
    {
        e.confirm_discard = false;
        if matches!(key.code, KeyCode::Char('y')) {
            let (org_key, alert_id, kind) = (e.org_key.clone(), e.key.id.to_string(), e.kind);
            e.unsaved_since = None;
            if let Screen::Editor { back, .. } = std::mem::take(&mut app.screen) {
                app.screen = *back;
            }
            app.toast(ToastLevel::Info, "draft discarded");
            return vec![Effect::DiscardDraft {
                org_key,
                alert_id,
                kind,
            }];
        }
        return Vec::new();
    }
    match key.code {
        KeyCode::Esc => return leave(app),
        KeyCode::Char('c') if ctrl => {
            app.quit = Some(super::ExitReason::User);
            return flush(app);
        }
        KeyCode::F(1) => {
            app.overlay = Overlay::Help { scroll: 0 };
            return Vec::new();
        }
        _ => {}
    }
    // Only the editor's own bindings: every other key, `q` and `?` included, is text.
    if let Some(action) = app
        .keymap
        .section(Mode::Editor)
        .iter()
        .find(|(k, _)| k.matches(&key))
        .and_then(|(_, a)| *a)
    {
        return editor_action(app, action);
    }
    let now = app.now;
    let Some(e) = editor_mut(app) else {
        return Vec::new();
    };
    if e.preview {
        // The preview is read-only; any other key goes back to editing.
        e.preview = false;
        return Vec::new();
    }
    let is_insert = matches!(key.code, KeyCode::Char(_) | KeyCode::Enter | KeyCode::Tab) && !ctrl;
    if is_insert && e.char_count() >= MAX_DRAFT_CHARS {
        app.toast(ToastLevel::Warning, "the draft is at its size limit");
        return Vec::new();
    }
    if e.area.input(key) {
        e.changed(now);
    }
    Vec::new()
}

pub(super) fn editor_action(app: &mut App, action: Action) -> Vec<Effect> {
    app.dirty = true;
    let Some(e) = editor_mut(app) else {
        return Vec::new();
    };
    match action {
        Action::SaveDraft => {
            let fx = vec![save_effect(e)];
            let now = app.now;
            if let Some(e) = editor_mut(app) {
                e.mark_saved(now);
            }
            fx
        }
        Action::PreviewReport => {
            e.preview = !e.preview;
            Vec::new()
        }
        Action::ExternalEditor => vec![Effect::ExternalEditor { text: e.text() }],
        Action::DiscardDraft => {
            e.confirm_discard = true;
            Vec::new()
        }
        Action::SendReport => send(app),
        _ => Vec::new(),
    }
}

/// The subject line the report in `e` goes out with (what the preview shows too).
pub fn report_subject(app: &App, e: &Editor) -> String {
    let row = app.queue.get(&e.key);
    let facts = super::report::Facts {
        customer: app
            .orgs
            .get(e.key.org as usize)
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        device: row
            .map(|r| r.device.as_str().to_string())
            .unwrap_or_default(),
        level: row.map(|r| r.level(&app.settings.levels).0),
        ..Default::default()
    };
    match e.kind {
        ReportKind::First => super::report::subject(e.lang, &facts),
        ReportKind::Second => super::report::second_subject(e.lang, &facts),
    }
}

/// The rule and the facts for the report being edited: the send modal's contents.
fn send_prompt(app: &App) -> Option<super::sending::SendPrompt> {
    use super::sending::{Delivery, SendPrompt, targets};
    let Screen::Editor { editor: e, .. } = &app.screen else {
        return None;
    };
    let row = app.queue.get(&e.key);
    let policy = row.map(|r| r.policy.as_str()).filter(|p| !p.is_empty());
    let rule = app.rules.lookup(&e.org_key, policy, None);
    let (targets, phones, unreachable) = targets(&rule);
    let high = row.is_some_and(|r| r.level(&app.settings.levels).0 == super::triage::Level::High);
    Some(SendPrompt {
        delivery: Delivery {
            key: e.key.clone(),
            org_key: e.org_key.clone(),
            kind: e.kind,
            subject: report_subject(app, e),
            body: e.text(),
            targets,
            retry: false,
        },
        phones,
        unreachable,
        high,
        scroll: 0,
    })
}

fn send(app: &mut App) -> Vec<Effect> {
    if app.settings.read_only {
        app.toast(ToastLevel::Warning, "read-only mode: reports are not sent");
        return Vec::new();
    }
    match send_prompt(app) {
        Some(p) => {
            app.overlay = Overlay::Send(Box::new(p));
            // The draft is saved before it is sent: the outbox and the draft agree.
            flush(app)
        }
        None => Vec::new(),
    }
}

pub(super) fn on_send_key(
    app: &mut App,
    key: KeyEvent,
    mut p: super::sending::SendPrompt,
) -> Vec<Effect> {
    app.dirty = true;
    match key.code {
        KeyCode::Esc | KeyCode::Char('n') => {
            app.overlay = Overlay::None;
            Vec::new()
        }
        KeyCode::Enter | KeyCode::Char('y') => {
            app.overlay = Overlay::None;
            if p.delivery.targets.is_empty() {
                app.toast(
                    ToastLevel::Error,
                    "nobody to send to: the customer's rule has no reachable contact for its channels (rules.toml)",
                );
                return Vec::new();
            }
            app.toast(
                ToastLevel::Info,
                format!("sending to {} recipient(s)…", p.delivery.targets.len()),
            );
            vec![Effect::SendReport(Box::new(p.delivery))]
        }
        KeyCode::Down | KeyCode::Char('j') => {
            p.scroll = p.scroll.saturating_add(1);
            app.overlay = Overlay::Send(Box::new(p));
            Vec::new()
        }
        KeyCode::Up | KeyCode::Char('k') => {
            p.scroll = p.scroll.saturating_sub(1);
            app.overlay = Overlay::Send(Box::new(p));
            Vec::new()
        }
        _ => {
            app.overlay = Overlay::Send(Box::new(p));
            Vec::new()
        }
    }
}

pub(super) fn on_delivered(
    app: &mut App,
    key: AlertKey,
    kind: ReportKind,
    results: Vec<super::sending::ChannelResult>,
    sent_at: Option<Timestamp>,
    note: Result<(), String>,
) -> Vec<Effect> {
    app.dirty = true;
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| {
            r.result
                .as_ref()
                .err()
                .map(|e| format!("{} {}: {e}", r.channel, r.shown))
        })
        .collect();
    let ok = results.iter().filter(|r| r.result.is_ok()).count();
    if failed.is_empty() {
        app.toast(
            ToastLevel::Info,
            format!("{} report sent on {ok} channel(s)", kind.as_str()),
        );
    } else {
        app.toast(
            ToastLevel::Error,
            format!(
                "{} of {} channel(s) FAILED — send again to retry only those: {}",
                failed.len(),
                results.len(),
                failed.join("; ")
            ),
        );
    }
    if let Err(e) = note {
        app.toast(
            ToastLevel::Warning,
            format!("sent, but the note in CBC failed (other consoles do not see it yet): {e}"),
        );
    }
    let Some(at) = sent_at else {
        return Vec::new();
    };
    let mut l = app.ledgers.get(&key).cloned().unwrap_or_default();
    let me = app.settings.analyst.clone();
    let slot = match kind {
        ReportKind::First => &mut l.first_report,
        ReportKind::Second => &mut l.second_report,
    };
    slot.get_or_insert((at, me, String::new()));
    app.ledgers.insert(key.clone(), l.clone());
    if app
        .queue
        .update_row(&key, |r| super::alert::apply_ledger(r, &l))
    {
        app.recompute();
    }
    // High: the customer is called too; the alert says "phone pending" until it is logged.
    let high = app
        .queue
        .get(&key)
        .is_some_and(|r| r.level(&app.settings.levels).0 == super::triage::Level::High);
    if high && kind == ReportKind::First {
        app.phone_pending.insert(key.clone());
        return open_call_for(app, key);
    }
    Vec::new()
}

pub(super) fn open_call(app: &mut App) -> Vec<Effect> {
    match super::alert::current_key(app) {
        Some(k) => open_call_for(app, k),
        None => {
            app.toast(ToastLevel::Warning, "no alert selected");
            Vec::new()
        }
    }
}

fn open_call_for(app: &mut App, key: AlertKey) -> Vec<Effect> {
    let org_key = app
        .orgs
        .get(key.org as usize)
        .map(|o| o.org_key.clone())
        .unwrap_or_default();
    let policy = app
        .queue
        .get(&key)
        .map(|r| r.policy.as_str().to_string())
        .filter(|p| !p.is_empty());
    let rule = app.rules.lookup(&org_key, policy.as_deref(), None);
    let phones = rule
        .contacts
        .iter()
        .filter_map(|c| c.phone.clone().map(|p| (c.name.clone(), p)))
        .collect();
    app.overlay = Overlay::Call(Box::new(super::sending::CallPrompt {
        key: Some(key),
        org_key,
        phones,
        ..Default::default()
    }));
    app.dirty = true;
    Vec::new()
}

pub(super) fn on_call_key(
    app: &mut App,
    key: KeyEvent,
    mut p: super::sending::CallPrompt,
) -> Vec<Effect> {
    app.dirty = true;
    match key.code {
        KeyCode::Esc => {
            app.overlay = Overlay::None;
            return Vec::new();
        }
        KeyCode::Tab | KeyCode::BackTab => p.field = 1 - p.field.min(1),
        KeyCode::Backspace => p.backspace(),
        KeyCode::Enter => {
            if let Ok((person, outcome, at)) = p.confirm(app.now) {
                app.overlay = Overlay::None;
                let Some(k) = p.key.clone() else {
                    return Vec::new();
                };
                app.phone_pending.remove(&k);
                app.toast(ToastLevel::Info, "call logged");
                return vec![Effect::LogCall {
                    org_key: p.org_key.clone(),
                    alert_id: k.id.to_string(),
                    person,
                    outcome,
                    at,
                }];
            }
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => p.input(c),
        _ => {}
    }
    app.overlay = Overlay::Call(Box::new(p));
    Vec::new()
}
