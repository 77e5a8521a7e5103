//! The console's actions: the vocabulary of keymaps, the help screen and the command palette.
//! Each action has a stable snake_case name (what keymap files and `:` commands say) and a
//! one-line description (what help shows). Adding an action here is all it takes for it to be
//! bindable, listed in help and offered by the palette.

use std::fmt;

/// Where a binding applies. `Global` bindings work on every screen unless a screen binds the
/// same key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Mode {
    Global,
    #[default]
    Queue,
    Detail,
    Editor,
}

impl Mode {
    pub const ALL: &'static [Mode] = &[Mode::Global, Mode::Queue, Mode::Detail, Mode::Editor];

    /// The section name in keymap files (`[global]`, `[queue]`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Global => "global",
            Mode::Queue => "queue",
            Mode::Detail => "detail",
            Mode::Editor => "editor",
        }
    }

    pub fn from_name(s: &str) -> Option<Mode> {
        Mode::ALL.iter().copied().find(|m| m.name() == s)
    }
}

macro_rules! actions {
    ($( $variant:ident => $name:literal, $mode:ident, $desc:literal; )*) => {
        /// Something the analyst can ask for by key, by `:` command, or from help.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $( $variant, )* }

        impl Action {
            /// Every action, in help order.
            pub const ALL: &'static [Action] = &[ $( Action::$variant, )* ];

            /// The name used in keymap files and the command palette.
            pub fn name(self) -> &'static str {
                match self { $( Action::$variant => $name, )* }
            }

            /// One line for the help screen and the palette.
            pub fn description(self) -> &'static str {
                match self { $( Action::$variant => $desc, )* }
            }

            /// The screen where the action applies.
            pub fn mode(self) -> Mode {
                match self { $( Action::$variant => Mode::$mode, )* }
            }

            pub fn from_name(s: &str) -> Option<Action> {
                match s { $( $name => Some(Action::$variant), )* _ => None }
            }
        }
    };
}

actions! {
    Quit => "quit", Global, "Quit socdeck";
    Help => "help", Global, "Show the keys of this screen";
    CommandPalette => "command_palette", Global, "Run a command by name";
    Cancel => "cancel", Global, "Close the overlay, or go back to the queue";
    Refresh => "refresh", Global, "Poll every org now (and reload an open alert)";
    MoveDown => "move_down", Global, "Select the next line";
    MoveUp => "move_up", Global, "Select the previous line";
    PageDown => "page_down", Global, "Move down one page";
    PageUp => "page_up", Global, "Move up one page";
    First => "first", Global, "Go to the first line (the most urgent alert)";
    Last => "last", Global, "Go to the last line";
    SetLevel => "set_level", Global, "Set the triage level of the alert (High/Medium/Low/FP)";
    Take => "take", Global, "Take the alert: you become its owner";
    Quarantine => "quarantine", Global, "Quarantine (network-isolate) the alert's device";
    ReleaseQuarantine => "release_quarantine", Global, "Release the device's quarantine (needs the customer's approval)";
    BanHash => "ban_hash", Global, "Ban the alert's SHA-256 in CBC (BLACK_LIST)";
    AuditLog => "audit_log", Global, "Show the audit log of actions taken";
    Mailbox => "mailbox", Global, "Show what the demo's mailbox and webhook receiver got";
    WriteReport => "write_report", Global, "Write the alert's first report (opens the draft)";
    WriteSecondReport => "write_second_report", Global, "Write the alert's second report (by the next business day)";
    LogCall => "log_call", Global, "Log a phone call to the customer about the alert";
    OpenDetail => "open_detail", Queue, "Open the selected alert";
    FilterText => "filter_text", Queue, "Filter alerts by text";
    CycleOrg => "cycle_org", Queue, "Show one org at a time (cycles)";
    CycleLevel => "cycle_level", Queue, "Show one triage level at a time (cycles)";
    CycleStatus => "cycle_status", Queue, "Show one workflow status at a time (cycles)";
    ClearFilters => "clear_filters", Queue, "Clear every filter";
    TogglePause => "toggle_pause", Queue, "Pause or resume live reordering";
    TogglePreview => "toggle_preview", Queue, "Show or hide the preview of the selected alert";
    NextPane => "next_pane", Detail, "Next pane";
    PrevPane => "prev_pane", Detail, "Previous pane";
    PaneSummary => "pane_summary", Detail, "Summary pane";
    PaneTree => "pane_tree", Detail, "Process tree pane";
    PaneLateral => "pane_lateral", Detail, "Lateral movement pane";
    PaneNotes => "pane_notes", Detail, "Notes & history pane";
    Activate => "activate", Detail, "Expand/collapse the process; jump to the device's alerts";
    ExpandAll => "expand_all", Detail, "Expand the whole process tree";
    ToggleFullCmdline => "toggle_full_cmdline", Detail, "Show the selected command line whole";
    CopyCmdline => "copy_cmdline", Detail, "Copy the command line (OSC 52 clipboard)";
    CopyHash => "copy_hash", Detail, "Copy the SHA-256 (OSC 52 clipboard)";
    SaveDraft => "save_draft", Editor, "Save the draft now (it also saves itself)";
    PreviewReport => "preview_report", Editor, "Preview what the customer will get / back to editing";
    ExternalEditor => "external_editor", Editor, "Edit the draft in $EDITOR and come back";
    DiscardDraft => "discard_draft", Editor, "Discard the draft (asks first)";
    SendReport => "send_report", Editor, "Send the report through the customer's channels (previews first)";
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert!(seen.insert(a.name()), "duplicate name {}", a.name());
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert!(
                a.name()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                a.name()
            );
            assert!(!a.description().is_empty());
        }
        assert_eq!(Action::from_name("no_such_action"), None);
    }
}
