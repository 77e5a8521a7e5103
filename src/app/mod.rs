//! The console's model and reducer (The Elm Architecture): `update(&mut App, Msg) -> Vec<Effect>`.
//! Pure: no IO, no tokio, no wall clock — time arrives as `Msg::Tick`.

pub mod action;
mod alert;
pub mod detail;
pub mod editor;
pub mod ledger;
pub mod msg;
pub mod pending;
pub mod queue;
pub mod report;
pub mod sending;
pub mod triage;
mod writing;

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use jiff::{SignedDuration, Timestamp};

pub use action::{Action, Mode};
pub use alert::{OSC52_MAX, rule_text};
pub use msg::{AuditRow, Effect, ExitReason, Msg};
use queue::{OrgIdx, Queue, StatusFilter};
use triage::{Level, LevelPolicy};
pub use writing::report_subject;

use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::sla::SlaPolicy;
use crate::ui;

/// Connection state of one org, as the header shows it.
#[derive(Debug, Clone)]
pub struct OrgState {
    pub name: String,
    pub org_key: String,
    /// End of the last successful poll.
    pub last_good: Option<Timestamp>,
    /// The last poll's error, until a poll succeeds.
    pub error: Option<String>,
    /// When the client may talk to the org again after a 429.
    pub retry_at: Option<Timestamp>,
    pub polling: bool,
    /// The customer's business calendar (second-report deadlines).
    pub calendar: crate::calendar::Calendar,
}

/// How fresh an org's data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Never polled successfully yet.
    Connecting,
    Live,
    /// The last good poll is older than the stale threshold: data may be out of date.
    Stale,
}

impl OrgState {
    pub fn new(name: impl Into<String>, org_key: impl Into<String>) -> Self {
        OrgState {
            name: name.into(),
            org_key: org_key.into(),
            last_good: None,
            error: None,
            retry_at: None,
            polling: false,
            calendar: crate::calendar::Calendar::default(),
        }
    }

    pub fn freshness(&self, now: Timestamp, stale_after: SignedDuration) -> Freshness {
        match self.last_good {
            None => Freshness::Connecting,
            Some(t) if now.duration_since(t) > stale_after => Freshness::Stale,
            Some(_) => Freshness::Live,
        }
    }
}

/// A transient message at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub level: ToastLevel,
    pub text: String,
    pub until: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Warning,
    Error,
}

/// What sits on top of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Overlay {
    #[default]
    None,
    Help {
        scroll: u16,
    },
    /// Typing a text filter; `previous` is restored on Esc.
    Filter {
        input: String,
        previous: String,
    },
    Palette(Palette),
    /// Choosing a triage level for an alert (h/m/l/f).
    LevelChoice {
        key: queue::AlertKey,
    },
    /// Confirming an action that changes the world.
    Prompt(Box<pending::Prompt>),
    /// Sending a report: what goes where, confirmed before anything leaves.
    Send(Box<sending::SendPrompt>),
    /// Logging a phone call.
    Call(Box<sending::CallPrompt>),
    /// The audit log (or, at start, actions of an earlier run reconciled with CBC).
    Audit {
        title: String,
        rows: Vec<AuditRow>,
        scroll: u16,
    },
}

/// The screen under the overlays.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Screen {
    #[default]
    Queue,
    Detail(Box<detail::Detail>),
    /// Writing a report; `back` is where Esc returns to.
    Editor {
        editor: Box<editor::Editor>,
        back: Box<Screen>,
    },
}

/// The `:` command palette.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Palette {
    pub input: String,
    /// Index into [`Palette::candidates`].
    pub selected: usize,
    /// The screen it was opened on: only its actions and the global ones are offered.
    pub screen: Mode,
}

/// Commands the palette offers besides action names: `name` and a hint for its argument.
pub const PALETTE_COMMANDS: &[(&str, &str)] = &[
    ("filter", "TEXT — filter by text"),
    ("org", "NAME|all — show one org"),
    ("level", "high|medium|low|fp|all — show one level"),
    ("status", "open|in_progress|closed|all — show one status"),
];

impl Palette {
    /// Completions for what is typed: commands and actions whose name starts with the first
    /// word (or contains it, after those that start with it).
    pub fn candidates(&self) -> Vec<(String, String)> {
        let word = self
            .input
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_lowercase();
        let mut all: Vec<(String, String)> = PALETTE_COMMANDS
            .iter()
            .map(|(n, h)| (n.to_string(), h.to_string()))
            .chain(
                Action::ALL
                    .iter()
                    .filter(|a| **a != Action::CommandPalette)
                    .filter(|a| a.mode() == Mode::Global || a.mode() == self.screen)
                    .map(|a| (a.name().to_string(), a.description().to_string())),
            )
            .collect();
        all.retain(|(n, _)| n.contains(&word));
        all.sort_by_key(|(n, _)| (!n.starts_with(&word), n.clone()));
        all
    }
}

/// Settings the reducer needs from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub sla: SlaPolicy,
    pub levels: LevelPolicy,
    /// An org's data counts as stale after this long without a good poll.
    pub stale_after: SignedDuration,
    pub read_only: bool,
    /// Desktop/bell notifications for new High alerts.
    pub notify: bool,
    /// Time zone for times on screen (the analyst's, by default the system's).
    pub display_tz: jiff::tz::TimeZone,
    /// Who is at the console: written into structured notes and the audit log.
    pub analyst: String,
    /// Lateral movement is searched this far either side of the alert.
    pub lateral_window: SignedDuration,
    /// Show the second report's deadline as a queue column (where there is room).
    pub second_column: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sla: SlaPolicy::default(),
            levels: LevelPolicy::default(),
            stale_after: SignedDuration::from_secs(60),
            read_only: false,
            notify: true,
            display_tz: jiff::tz::TimeZone::system(),
            analyst: "analyst".into(),
            lateral_window: SignedDuration::from_hours(24),
            second_column: false,
        }
    }
}

const TOAST_SECS: i64 = 6;

pub struct App {
    pub now: Timestamp,
    pub orgs: Vec<OrgState>,
    pub queue: Queue,
    pub settings: Settings,
    pub keymap: Keymap,
    pub theme: Theme,
    pub overlay: Overlay,
    pub toasts: VecDeque<Toast>,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    pub show_preview: bool,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    pub quit: Option<ExitReason>,
    pub screen: Screen,
    /// Customer rules (rules.toml), replaced when the file changes.
    pub rules: crate::config::rules::Rules,
    /// Confirmed actions of this run and their state (newest last).
    pub tracked: Vec<pending::Tracked>,
    next_track: pending::TrackId,
    /// Request generation of the detail screen: parts of an older request are dropped.
    detail_seq: u64,
    /// High alerts whose report went out without a logged phone call.
    pub phone_pending: std::collections::HashSet<queue::AlertKey>,
    /// What structured notes said per alert, re-applied when a poll replaces a row.
    ledgers: std::collections::HashMap<queue::AlertKey, ledger::Ledger>,
    /// Time-dependent header text at the last draw-relevant tick, to redraw only on change.
    last_clock_text: String,
}

impl App {
    pub fn new(
        orgs: Vec<OrgState>,
        settings: Settings,
        keymap: Keymap,
        theme: Theme,
        now: Timestamp,
    ) -> App {
        App {
            now,
            orgs,
            queue: Queue::default(),
            settings,
            keymap,
            theme,
            overlay: Overlay::None,
            toasts: VecDeque::new(),
            size: (80, 24),
            show_preview: true,
            dirty: true,
            quit: None,
            screen: Screen::Queue,
            rules: crate::config::rules::Rules::empty(),
            tracked: Vec::new(),
            next_track: 1,
            detail_seq: 0,
            ledgers: Default::default(),
            phone_pending: Default::default(),
            last_clock_text: String::new(),
        }
    }

    pub fn org_names(&self) -> Vec<String> {
        self.orgs.iter().map(|o| o.name.clone()).collect()
    }

    pub fn toast(&mut self, level: ToastLevel, text: impl Into<String>) {
        let until = self.now + SignedDuration::from_secs(TOAST_SECS);
        self.toasts.push_back(Toast {
            level,
            text: text.into(),
            until,
        });
        while self.toasts.len() > 3 {
            self.toasts.pop_front();
        }
        self.dirty = true;
    }

    fn table_height(&self) -> usize {
        ui::queue_table_rows(self.size, self.show_preview)
    }

    fn recompute(&mut self) {
        let names = self.org_names();
        self.queue
            .recompute(&self.settings.sla, &self.settings.levels, &names);
        let h = self.table_height();
        self.queue.scroll_to_selection(h);
        self.dirty = true;
    }

    /// Text that changes with time in the header and footer: redrawn only when it changes.
    ///
    /// Not the breach count: with a countdown on screen every second is redrawn anyway, and
    /// without one the header is a summary at the resolution of the HH:MM beside it — a clock
    /// passing its deadline off screen shows at the next minute (or sooner, with any other
    /// redraw). A 10k backlog breaches every second or two; an SSH link at rest should carry
    /// one small frame a minute for that, not one a second.
    fn clock_text(&self) -> String {
        // The header shows the wall clock as HH:MM while a clock can still breach (it dates
        // the counts beside it): a new minute is then a visible change. With nothing left to
        // breach nothing in the header moves, and an idle console sends nothing at all.
        let mut s = if self.header_clock() {
            self.now
                .to_zoned_datetime(self.settings.display_tz.clone())
                .strftime("%H:%M")
                .to_string()
        } else {
            String::new()
        };
        for o in &self.orgs {
            s.push('|');
            s.push_str(&ui::org_age_text(o, self.now, self.settings.stale_after));
        }
        s.push_str(&format!("|{}", self.toasts.len()));
        s
    }

    /// Whether the header shows the wall clock: while some running clock has not breached yet.
    pub fn header_clock(&self) -> bool {
        let c = self.queue.counts(self.now);
        c.running > c.breached
    }

    /// Whether a visible row shows a running countdown.
    fn countdown_visible(&self) -> bool {
        let sla = &self.settings.sla;
        self.queue
            .window(self.table_height())
            .any(|(_, r)| r.clock(sla).is_running())
            || self
                .queue
                .selected()
                .is_some_and(|r| self.show_preview && r.clock(sla).is_running())
    }
}

/// The reducer.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => {
            app.now = now;
            let save = writing::autosave(app);
            let before = app.toasts.len();
            app.toasts.retain(|t| t.until > now);
            let text = app.clock_text();
            if app.toasts.len() != before || text != app.last_clock_text || app.countdown_visible()
            {
                app.dirty = true;
            }
            app.last_clock_text = text;
            save
        }
        Msg::Resize(w, h) => {
            app.size = (w, h);
            let height = app.table_height();
            app.queue.scroll_to_selection(height);
            app.dirty = true;
            Vec::new()
        }
        Msg::Key(key) => on_key(app, key),
        Msg::PollStarted { org } => {
            if let Some(o) = app.orgs.get_mut(org as usize) {
                o.polling = true;
            }
            Vec::new()
        }
        Msg::Polled {
            org,
            rows,
            at,
            initial,
        } => on_polled(app, org, rows, at, initial),
        Msg::PollFailed {
            org,
            error,
            at: _,
            retry_at,
        } => {
            if let Some(o) = app.orgs.get_mut(org as usize) {
                o.polling = false;
                let first = o.error.is_none();
                o.error = Some(error.clone());
                o.retry_at = retry_at;
                let name = o.name.clone();
                if first {
                    app.toast(ToastLevel::Error, format!("{name}: {error}"));
                }
            }
            app.dirty = true;
            Vec::new()
        }
        Msg::TaskFailed(what) => {
            app.toast(ToastLevel::Error, format!("internal error: {what}"));
            Vec::new()
        }
        Msg::DetailPart { seq, part } => {
            alert::on_detail_part(app, seq, part);
            Vec::new()
        }
        Msg::ActionState { id, state } => alert::on_action_state(app, id, state),
        Msg::Ledger { org, entries } => {
            alert::on_ledger(app, org, entries);
            Vec::new()
        }
        Msg::DeviceState {
            org,
            device_id,
            quarantined,
        } => {
            alert::on_device_state(app, org, device_id, quarantined);
            Vec::new()
        }
        Msg::Rules(Ok(rules)) => {
            app.rules = *rules;
            app.toast(ToastLevel::Info, "customer rules reloaded");
            Vec::new()
        }
        Msg::Rules(Err(problems)) => {
            let first = problems.first().cloned().unwrap_or_default();
            let more = match problems.len() {
                0 | 1 => String::new(),
                n => format!(" (+{} more; socdeck --check-config lists them)", n - 1),
            };
            app.toast(
                ToastLevel::Error,
                format!("rules file NOT reloaded, the last good rules stay: {first}{more}"),
            );
            Vec::new()
        }
        Msg::Audit { title, rows } => {
            app.overlay = Overlay::Audit {
                title,
                rows,
                scroll: 0,
            };
            app.dirty = true;
            Vec::new()
        }
        Msg::Shutdown(reason) => {
            app.quit = Some(reason);
            // An unsaved draft is saved before the process leaves (SIGHUP, SIGTERM, q).
            writing::flush(app)
        }
        Msg::Draft { key, kind, text } => {
            writing::on_draft(app, key, kind, text);
            Vec::new()
        }
        Msg::DraftSaved {
            key,
            kind,
            at,
            result,
        } => {
            writing::on_saved(app, key, kind, at, result);
            Vec::new()
        }
        Msg::Delivered {
            key,
            kind,
            results,
            sent_at,
            note,
        } => writing::on_delivered(app, key, kind, results, sent_at, note),
        Msg::ExternalEdited(result) => {
            writing::on_external(app, result);
            Vec::new()
        }
    }
}

fn on_polled(
    app: &mut App,
    org: OrgIdx,
    rows: Vec<Row>,
    at: Timestamp,
    initial: bool,
) -> Vec<Effect> {
    let stale_after = app.settings.stale_after;
    let Some(state) = app.orgs.get_mut(org as usize) else {
        return Vec::new();
    };
    let shown_before = ui::org_age_text(state, app.now, stale_after);
    state.polling = false;
    state.last_good = Some(at);
    let recovered = state.error.take().is_some();
    state.retry_at = None;
    let org_name = state.name.clone();
    if recovered {
        app.toast(ToastLevel::Info, format!("{org_name}: connection restored"));
    }

    // New High alerts deserve a notification; the initial load is a backlog, not news.
    let mut fresh_high: Vec<(String, String)> = Vec::new();
    if !initial && app.settings.notify {
        for r in &rows {
            if app.queue.get(&r.key).is_none()
                && !r.is_closed()
                && r.level(&app.settings.levels).0 == Level::High
            {
                fresh_high.push((r.device.as_str().to_string(), r.reason.as_str().to_string()));
            }
        }
    }
    let shown_after = ui::org_age_text(&app.orgs[org as usize], app.now, stale_after);
    let mut rows = rows;
    for r in &mut rows {
        if let Some(l) = app.ledgers.get(&r.key) {
            alert::apply_ledger(r, l);
        }
    }
    let merged = app.queue.merge(rows);
    if merged.new + merged.changed > 0 {
        app.recompute();
    } else if shown_before != shown_after {
        // A poll that changed nothing visible draws nothing (idle SSH links stay quiet).
        app.dirty = true;
    }

    let mut effects = Vec::new();
    match fresh_high.len() {
        0 => {}
        1 => {
            let (device, reason) = &fresh_high[0];
            let title = format!("High alert — {org_name}");
            let body = format!("{device}: {reason}");
            app.toast(ToastLevel::Warning, format!("{title}: {body}"));
            effects.push(Effect::Notify { title, body });
        }
        n => {
            let title = format!("{n} new High alerts — {org_name}");
            let body = fresh_high
                .iter()
                .map(|(d, _)| d.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            app.toast(ToastLevel::Warning, title.clone());
            effects.push(Effect::Notify { title, body });
        }
    }
    effects
}

use queue::Row;

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if key.kind != KeyEventKind::Press {
        return Vec::new();
    }
    // Ctrl-C leaves from every overlay too (raw mode: no SIGINT), not only from the queue.
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl_c && app.overlay != Overlay::None {
        return run_action(app, Action::Quit);
    }
    match app.overlay.clone() {
        Overlay::Filter { input, previous } => {
            on_filter_key(app, key, input, previous);
            return Vec::new();
        }
        Overlay::Palette(p) => return on_palette_key(app, key, p),
        Overlay::Help { scroll } => {
            app.dirty = true;
            app.overlay = match key.code {
                KeyCode::Down | KeyCode::Char('j') => Overlay::Help {
                    scroll: scroll.saturating_add(1),
                },
                KeyCode::Up | KeyCode::Char('k') => Overlay::Help {
                    scroll: scroll.saturating_sub(1),
                },
                KeyCode::PageDown => Overlay::Help {
                    scroll: scroll.saturating_add(10),
                },
                KeyCode::PageUp => Overlay::Help {
                    scroll: scroll.saturating_sub(10),
                },
                // Any other key closes help (Esc, ?, q...).
                _ => Overlay::None,
            };
            return Vec::new();
        }
        Overlay::LevelChoice { key: alert } => return alert::on_level_key(app, key, alert),
        Overlay::Prompt(p) => return alert::on_prompt_key(app, key, *p),
        Overlay::Send(p) => return writing::on_send_key(app, key, *p),
        Overlay::Call(p) => return writing::on_call_key(app, key, *p),
        Overlay::Audit {
            title,
            rows,
            scroll,
        } => {
            app.dirty = true;
            app.overlay = match key.code {
                KeyCode::Down | KeyCode::Char('j') => Overlay::Audit {
                    title,
                    rows,
                    scroll: scroll.saturating_add(1),
                },
                KeyCode::Up | KeyCode::Char('k') => Overlay::Audit {
                    title,
                    rows,
                    scroll: scroll.saturating_sub(1),
                },
                _ => Overlay::None,
            };
            return Vec::new();
        }
        Overlay::None => {}
    }
    let mode = match app.screen {
        Screen::Queue => Mode::Queue,
        Screen::Detail(_) => Mode::Detail,
        Screen::Editor { .. } => return writing::on_editor_key(app, key),
    };
    match app.keymap.lookup(mode, &key) {
        Some(action) => run_action(app, action),
        None => Vec::new(),
    }
}

fn on_filter_key(app: &mut App, key: KeyEvent, mut input: String, previous: String) {
    match key.code {
        KeyCode::Esc => {
            app.queue.filter.text = previous;
            app.overlay = Overlay::None;
            app.recompute();
            return;
        }
        KeyCode::Enter => {
            app.overlay = Overlay::None;
            app.dirty = true;
            return;
        }
        KeyCode::Backspace => {
            input.pop();
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => input.clear(),
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) && !c.is_control() => {
            if input.chars().count() < 200 {
                input.push(c);
            }
        }
        _ => return,
    }
    // The queue follows what is typed.
    app.queue.filter.text = input.clone();
    app.overlay = Overlay::Filter { input, previous };
    app.recompute();
}

fn on_palette_key(app: &mut App, key: KeyEvent, mut p: Palette) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            app.overlay = Overlay::None;
            app.dirty = true;
            return Vec::new();
        }
        KeyCode::Enter => {
            app.overlay = Overlay::None;
            app.dirty = true;
            let input = if p.input.trim().is_empty() || !p.input.contains(' ') {
                // A bare word runs the highlighted completion.
                p.candidates()
                    .get(p.selected)
                    .map(|(n, _)| n.clone())
                    .unwrap_or(p.input.clone())
            } else {
                p.input.clone()
            };
            return run_command(app, input.trim());
        }
        KeyCode::Tab => {
            if let Some((name, _)) = p.candidates().get(p.selected) {
                p.input = format!("{name} ");
                p.selected = 0;
            }
        }
        KeyCode::Down => p.selected = (p.selected + 1).min(p.candidates().len().saturating_sub(1)),
        KeyCode::Up => p.selected = p.selected.saturating_sub(1),
        KeyCode::Backspace => {
            p.input.pop();
            p.selected = 0;
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) && !c.is_control() => {
            if p.input.chars().count() < 200 {
                p.input.push(c);
            }
            p.selected = 0;
        }
        _ => {}
    }
    app.overlay = Overlay::Palette(p);
    app.dirty = true;
    Vec::new()
}

/// Runs a palette command line: an action name, or `filter/org/level/status ARG`.
pub fn run_command(app: &mut App, line: &str) -> Vec<Effect> {
    let (cmd, arg) = line
        .split_once(' ')
        .map_or((line, ""), |(c, a)| (c, a.trim()));
    let cmd = cmd.to_lowercase();
    let all = arg.is_empty() || arg.eq_ignore_ascii_case("all");
    match cmd.as_str() {
        "filter" => {
            app.queue.filter.text = arg.to_string();
            app.recompute();
        }
        "org" => {
            let found = app
                .orgs
                .iter()
                .position(|o| {
                    o.name.eq_ignore_ascii_case(arg) || o.org_key.eq_ignore_ascii_case(arg)
                })
                .or_else(|| {
                    let a = arg.to_lowercase();
                    app.orgs
                        .iter()
                        .position(|o| o.name.to_lowercase().contains(&a))
                });
            match (all, found) {
                (true, _) => app.queue.filter.org = None,
                (false, Some(i)) => app.queue.filter.org = Some(i as OrgIdx),
                (false, None) => {
                    app.toast(ToastLevel::Warning, format!("no org matches {arg:?}"));
                    return Vec::new();
                }
            }
            app.recompute();
        }
        "level" => {
            match (all, Level::from_name(arg)) {
                (true, _) => app.queue.filter.level = None,
                (false, Some(l)) => app.queue.filter.level = Some(l),
                (false, None) => {
                    app.toast(
                        ToastLevel::Warning,
                        format!("unknown level {arg:?} (high, medium, low, fp)"),
                    );
                    return Vec::new();
                }
            }
            app.recompute();
        }
        "status" => {
            match (all, StatusFilter::from_name(arg)) {
                (true, _) => app.queue.filter.status = None,
                (false, Some(s)) => app.queue.filter.status = Some(s),
                (false, None) => {
                    app.toast(
                        ToastLevel::Warning,
                        format!("unknown status {arg:?} (open, in_progress, closed)"),
                    );
                    return Vec::new();
                }
            }
            app.recompute();
        }
        other => match Action::from_name(other) {
            Some(a) => return run_action(app, a),
            None => app.toast(
                ToastLevel::Warning,
                format!("unknown command {other:?} — Tab completes"),
            ),
        },
    }
    Vec::new()
}

/// Performs one action.
pub fn run_action(app: &mut App, action: Action) -> Vec<Effect> {
    let height = app.table_height();
    app.dirty = true;
    match action {
        Action::Quit => {
            app.quit = Some(ExitReason::User);
            return writing::flush(app);
        }
        Action::Help => app.overlay = Overlay::Help { scroll: 0 },
        Action::CommandPalette => {
            app.overlay = Overlay::Palette(Palette {
                screen: match app.screen {
                    Screen::Queue => Mode::Queue,
                    Screen::Detail(_) => Mode::Detail,
                    Screen::Editor { .. } => Mode::Editor,
                },
                ..Palette::default()
            })
        }
        Action::Cancel => {
            if app.overlay == Overlay::None && matches!(app.screen, Screen::Detail(_)) {
                app.screen = Screen::Queue;
            }
            app.overlay = Overlay::None;
        }
        Action::Refresh => {
            app.toast(ToastLevel::Info, "polling every org now");
            let mut effects = vec![Effect::PollNow(None)];
            if let Screen::Detail(d) = &app.screen {
                let key = d.key.clone();
                let pane = d.pane;
                effects.extend(alert::open_detail(app, key));
                if let Screen::Detail(d) = &mut app.screen {
                    d.pane = pane;
                }
            }
            return effects;
        }
        a if matches!(app.screen, Screen::Detail(_)) && alert::is_detail_motion(a) => {
            return alert::detail_action(app, a);
        }
        Action::MoveDown => app.queue.move_by(1, height),
        Action::MoveUp => app.queue.move_by(-1, height),
        Action::PageDown => app.queue.move_by(height.max(1) as isize, height),
        Action::PageUp => app.queue.move_by(-(height.max(1) as isize), height),
        Action::First => app.queue.select_index(0, height),
        Action::Last => app.queue.select_index(usize::MAX, height),
        Action::FilterText => {
            let current = app.queue.filter.text.clone();
            app.overlay = Overlay::Filter {
                input: current.clone(),
                previous: current,
            };
        }
        Action::CycleOrg => {
            let n = app.orgs.len() as OrgIdx;
            app.queue.filter.org = match app.queue.filter.org {
                None if n > 0 => Some(0),
                Some(i) if i + 1 < n => Some(i + 1),
                _ => None,
            };
            app.recompute();
        }
        Action::CycleLevel => {
            app.queue.filter.level = match app.queue.filter.level {
                None => Some(Level::High),
                Some(Level::High) => Some(Level::Medium),
                Some(Level::Medium) => Some(Level::Low),
                Some(Level::Low) => Some(Level::FalsePositive),
                Some(Level::FalsePositive) => None,
            };
            app.recompute();
        }
        Action::CycleStatus => {
            app.queue.filter.status = match app.queue.filter.status {
                None => Some(StatusFilter::Open),
                Some(StatusFilter::Open) => Some(StatusFilter::InProgress),
                Some(StatusFilter::InProgress) => Some(StatusFilter::Closed),
                Some(StatusFilter::Closed) => None,
            };
            app.recompute();
        }
        Action::ClearFilters => {
            app.queue.filter = Default::default();
            app.recompute();
        }
        Action::TogglePause => {
            let paused = !app.queue.is_paused();
            app.queue.set_paused(paused);
            app.toast(
                ToastLevel::Info,
                if paused {
                    "live reordering paused — rows stay put, new alerts go to the bottom"
                } else {
                    "live reordering resumed"
                },
            );
            app.recompute();
        }
        Action::TogglePreview => {
            app.show_preview = !app.show_preview;
            let height = app.table_height();
            app.queue.scroll_to_selection(height);
        }
        Action::OpenDetail => {
            if let Some(key) = app.queue.selected().map(|r| r.key.clone()) {
                return alert::open_detail(app, key);
            }
        }
        Action::SetLevel
        | Action::Take
        | Action::Quarantine
        | Action::ReleaseQuarantine
        | Action::BanHash => return alert::alert_action(app, action),
        Action::AuditLog => return vec![Effect::LoadAudit],
        Action::Mailbox => return vec![Effect::LoadMailbox],
        Action::WriteReport => return writing::open(app, editor::ReportKind::First),
        Action::WriteSecondReport => return writing::open(app, editor::ReportKind::Second),
        Action::SaveDraft
        | Action::PreviewReport
        | Action::ExternalEditor
        | Action::DiscardDraft
        | Action::SendReport => return writing::editor_action(app, action),
        Action::LogCall => return writing::open_call(app),
        Action::NextPane
        | Action::PrevPane
        | Action::PaneSummary
        | Action::PaneTree
        | Action::PaneLateral
        | Action::PaneNotes
        | Action::Activate
        | Action::ExpandAll
        | Action::ToggleFullCmdline
        | Action::CopyCmdline
        | Action::CopyHash => return alert::detail_action(app, action),
    }
    Vec::new()
}
