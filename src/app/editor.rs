//! The report editor: a first (or second) report draft in the tui-textarea widget
//! (`ratatui-textarea`), autosaved to the journal.
//!
//! Text is kept exactly as typed (Japanese included); what reaches the terminal goes through the
//! widget, which draws characters, never raw control bytes. The draft is saved when it changed
//! and has been quiet for [`AUTOSAVE_AFTER`] (checked on every tick), when the analyst leaves the
//! editor, and on SIGHUP/SIGTERM.

use jiff::{SignedDuration, Timestamp};
use tui_textarea::TextArea;

use super::queue::AlertKey;
use super::report::Lang;

/// Which report a draft is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    First,
    Second,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::First => "first",
            ReportKind::Second => "second",
        }
    }
}

/// A draft changed this long ago is saved on the next tick.
pub const AUTOSAVE_AFTER: SignedDuration = SignedDuration::from_secs(1);

/// Longest draft accepted (characters): far above any report, far below what hurts.
pub const MAX_DRAFT_CHARS: usize = 200_000;

#[derive(Debug, Clone)]
pub struct Editor {
    pub key: AlertKey,
    pub org_key: String,
    pub kind: ReportKind,
    pub lang: Lang,
    pub area: TextArea<'static>,
    /// Typed since the last save: when the first unsaved change was made.
    pub unsaved_since: Option<Timestamp>,
    /// When the last change was made (the debounce runs from here).
    pub last_edit: Option<Timestamp>,
    pub last_saved: Option<Timestamp>,
    /// The analyst has typed: a draft arriving late from the journal must not replace it.
    pub touched: bool,
    /// Showing the preview of what the customer gets instead of the text area.
    pub preview: bool,
    /// Asking to confirm discarding the draft.
    pub confirm_discard: bool,
}

impl PartialEq for Editor {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
            && self.kind == other.kind
            && self.area.lines() == other.area.lines()
            && self.preview == other.preview
    }
}

impl Editor {
    pub fn new(key: AlertKey, org_key: String, kind: ReportKind, lang: Lang, text: &str) -> Editor {
        Editor {
            key,
            org_key,
            kind,
            lang,
            area: area_with(text),
            unsaved_since: None,
            last_edit: None,
            last_saved: None,
            touched: false,
            preview: false,
            confirm_discard: false,
        }
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// Replaces the text (a saved draft arrived, or `$EDITOR` returned).
    pub fn set_text(&mut self, text: &str) {
        let (block, style) = (self.area.block().cloned(), self.area.style());
        self.area = area_with(text);
        if let Some(b) = block {
            self.area.set_block(b);
        }
        self.area.set_style(style);
    }

    /// Records a change at `now`.
    pub fn changed(&mut self, now: Timestamp) {
        self.touched = true;
        self.unsaved_since.get_or_insert(now);
        self.last_edit = Some(now);
    }

    /// Whether the autosave is due at `now`.
    pub fn autosave_due(&self, now: Timestamp) -> bool {
        self.unsaved_since.is_some()
            && self
                .last_edit
                .is_some_and(|t| now.duration_since(t) >= AUTOSAVE_AFTER)
    }

    pub fn mark_saved(&mut self, now: Timestamp) {
        self.unsaved_since = None;
        self.last_saved = Some(now);
    }

    pub fn char_count(&self) -> usize {
        self.area
            .lines()
            .iter()
            .map(|l| l.chars().count() + 1)
            .sum()
    }
}

fn area_with(text: &str) -> TextArea<'static> {
    let lines: Vec<String> = text.split('\n').map(|l| l.replace('\r', "")).collect();
    let mut a = TextArea::new(lines);
    // Reports are prose: wrap at word boundaries rather than scrolling sideways.
    a.set_wrap_mode(tui_textarea::WrapMode::Word);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AlertKey {
        AlertKey {
            org: 0,
            id: "a".into(),
        }
    }

    #[test]
    fn text_round_trips_and_autosave_waits_for_a_quiet_second() {
        let t0: Timestamp = "2026-11-30T10:00:00Z".parse().unwrap();
        let mut e = Editor::new(
            key(),
            "ORG".into(),
            ReportKind::First,
            Lang::Ja,
            "一行目\n二行目",
        );
        assert_eq!(e.text(), "一行目\n二行目");
        assert!(!e.autosave_due(t0));
        e.changed(t0);
        assert!(!e.autosave_due(t0));
        assert!(e.autosave_due(t0 + SignedDuration::from_secs(1)));
        e.changed(t0 + SignedDuration::from_millis(1500));
        assert!(!e.autosave_due(t0 + SignedDuration::from_secs(2)));
        e.mark_saved(t0 + SignedDuration::from_secs(3));
        assert!(!e.autosave_due(t0 + SignedDuration::from_secs(9)));
        e.set_text("a\r\nb");
        assert_eq!(e.text(), "a\nb");
    }
}
