//! The reducer's report-writing parts: opening a draft, editor keys, autosave, leaving.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;

use super::editor::{Editor, MAX_DRAFT_CHARS, ReportKind};
use super::queue::AlertKey;
use super::{Action, App, Effect, Mode, Overlay, Screen, ToastLevel};

/// Opens the first-report draft of the alert in front of the analyst: the template at once,
/// replaced by the saved draft when the journal has one.
pub(super) fn open(app: &mut App) -> Vec<Effect> {
    if matches!(app.screen, Screen::Editor { .. }) {
        return Vec::new();
    }
    let Some((key, org_key, facts, lang)) = super::alert::report_facts(app) else {
        app.toast(ToastLevel::Warning, "no alert selected");
        return Vec::new();
    };
    let text = super::report::first_report(lang, &facts, &app.settings.display_tz);
    let editor = Editor::new(key.clone(), org_key.clone(), ReportKind::First, lang, &text);
    let back = std::mem::take(&mut app.screen);
    app.screen = Screen::Editor {
        editor: Box::new(editor),
        back: Box::new(back),
    };
    app.overlay = Overlay::None;
    app.dirty = true;
    vec![Effect::LoadDraft {
        key,
        org_key,
        kind: ReportKind::First,
    }]
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
        _ => Vec::new(),
    }
}
