//! The alert queue screen: header, table, preview, footer.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row as TRow, Table};

use super::{cell_line, coarse_age, org_age_text};
use crate::app::queue::{Clock, Row, Stop};
use crate::app::triage::Level;
use crate::app::{Action, App, Freshness, Overlay, ToastLevel};
use crate::cbc::model::WorkflowStatus;
use crate::config::theme::Slot;
use crate::sla::{Band, format_remaining};

/// The queue's columns. Display order is the enum order; [`PRIORITY`] decides which ones stay
/// when the terminal is narrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Col {
    Flag,
    Sla,
    Level,
    Severity,
    Org,
    Device,
    Reason,
    Process,
    Status,
    Owner,
    Type,
    /// The second report's deadline (optional: `[ui] second_report_column = true`).
    Second,
}

/// Columns in the order they are kept: the first four always show (80×24 included).
const PRIORITY: [Col; 12] = [
    Col::Sla,
    Col::Level,
    Col::Org,
    Col::Device,
    Col::Flag,
    Col::Reason,
    Col::Severity,
    Col::Process,
    Col::Status,
    Col::Owner,
    Col::Type,
    Col::Second,
];

impl Col {
    fn title(self) -> &'static str {
        match self {
            Col::Flag => "",
            Col::Sla => "SLA",
            Col::Level => "Level",
            Col::Severity => "Sev",
            Col::Org => "Customer",
            Col::Device => "Device",
            Col::Reason => "Reason",
            Col::Process => "Process",
            Col::Status => "Status",
            Col::Owner => "Owner",
            Col::Type => "Type",
            Col::Second => "2nd due",
        }
    }

    /// (minimum, maximum) width; the reason column takes what is left.
    fn widths(self) -> (u16, u16) {
        match self {
            Col::Flag => (1, 1),
            Col::Sla => (9, 9),
            Col::Level => (5, 5),
            Col::Severity => (3, 3),
            Col::Org => (8, 16),
            Col::Device => (10, 16),
            Col::Reason => (16, u16::MAX),
            Col::Process => (10, 20),
            Col::Status => (11, 11),
            Col::Owner => (8, 16),
            Col::Type => (12, 19),
            Col::Second => (9, 9),
        }
    }
}

/// The columns shown at `width` and their widths, in display order. Columns are added in
/// priority order while their minimum widths fit; spare width then grows the flexible ones.
pub fn columns_for_width(width: u16) -> Vec<(Col, u16)> {
    columns_for(width, false)
}

/// [`columns_for_width`], with the optional second-report column when `second` is set.
pub fn columns_for(width: u16, second: bool) -> Vec<(Col, u16)> {
    let mut chosen: Vec<Col> = Vec::new();
    let mut used: u16 = 0;
    for col in PRIORITY.into_iter().filter(|c| second || *c != Col::Second) {
        let (min, _) = col.widths();
        let extra = if chosen.is_empty() { 0 } else { 1 };
        // The first four always show; after that, the first column that does not fit ends
        // the list, so columns drop strictly in priority order.
        if used + extra + min > width && chosen.len() >= 4 {
            break;
        }
        used += extra + min;
        chosen.push(col);
    }
    chosen.sort();
    let mut widths: Vec<(Col, u16)> = chosen.iter().map(|c| (*c, c.widths().0)).collect();
    let mut spare = width.saturating_sub(used);
    // Grow bounded columns first (org, device, process, owner, type), the reason last.
    for (col, w) in widths.iter_mut() {
        let (_, max) = col.widths();
        if *col != Col::Reason && max > *w {
            let add = (max - *w).min(spare);
            *w += add;
            spare -= add;
        }
    }
    if let Some((_, w)) = widths.iter_mut().find(|(c, _)| *c == Col::Reason) {
        *w += spare;
    }
    widths
}

pub(super) fn header(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let counts = app.queue.counts(app.now);
    let tz = app.settings.display_tz.clone();
    let clock = if app.header_clock() {
        app.now.to_zoned_datetime(tz).strftime("%H:%M").to_string()
    } else {
        String::new()
    };
    let mut first = vec![
        Span::styled(" socdeck ", t.style(Slot::HeaderTitle)),
        Span::raw(" "),
    ];
    if app.settings.read_only {
        first.push(Span::styled("[READ-ONLY]", t.style(Slot::BadgeReadOnly)));
        first.push(Span::raw(" "));
    }
    if app.queue.is_paused() {
        let n = app.queue.arrived_while_paused();
        let text = if n > 0 {
            format!("[PAUSED +{n} new]")
        } else {
            "[PAUSED]".into()
        };
        first.push(Span::styled(text, t.style(Slot::BadgePaused)));
        first.push(Span::raw(" "));
    }
    first.push(Span::styled(
        format!("open {}  clocks {}  ", counts.open, counts.running),
        t.style(Slot::Header),
    ));
    let breach_style = if counts.breached > 0 {
        t.style(Slot::BandBreached)
    } else {
        t.style(Slot::Header)
    };
    first.push(Span::styled(
        format!("breached {}", counts.breached),
        breach_style,
    ));
    first.push(Span::styled(format!("  {clock}"), t.style(Slot::Muted)));

    // Orgs in trouble first, so a narrow terminal never hides a problem; healthy orgs that do
    // not fit collapse into "+N ok".
    let stale_after = app.settings.stale_after;
    let mut entries: Vec<(bool, Span, Span)> = app
        .orgs
        .iter()
        .map(|org| {
            let state = org_age_text(org, app.now, stale_after);
            let (slot, healthy) = match (org.freshness(app.now, stale_after), org.error.is_some()) {
                (_, true) => (Slot::OrgError, false),
                (Freshness::Live, false) => (Slot::OrgOk, true),
                _ => (Slot::OrgStale, false),
            };
            (
                healthy,
                Span::styled(org.name.clone(), t.style(Slot::Header)),
                Span::styled(state, t.style(slot)),
            )
        })
        .collect();
    let full_width: usize = entries
        .iter()
        .map(|(_, n, s)| n.width() + s.width() + 4)
        .sum();
    if full_width > area.width as usize {
        entries.sort_by_key(|(healthy, _, _)| *healthy);
    }
    let mut second: Vec<Span> = Vec::new();
    let mut used = 0usize;
    let total = entries.len();
    for (i, (healthy, name, state)) in entries.into_iter().enumerate() {
        let w = name.width() + state.width() + 4;
        let rest_ok = total - i;
        // Keep room for the "+N ok" summary when this healthy org would not fit.
        if healthy && used + w + 8 > area.width as usize && i + 1 < total {
            second.push(Span::styled(format!("+{rest_ok} ok"), t.style(Slot::OrgOk)));
            break;
        }
        if i > 0 {
            second.push(Span::styled(" | ", t.style(Slot::Muted)));
        }
        second.push(name);
        second.push(Span::raw(" "));
        second.push(state);
        used += w;
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]).style(t.style(Slot::Header)),
        area,
    );
}

/// The newest quarantine action on the row's device: (mark for the device cell, words, slot).
/// Marks read without colour: `Q+` isolating, `Q!` isolated, `Q?` no check-in yet, `Qx` failed;
/// `R` for a release.
pub(super) fn action_mark(app: &App, row: &Row) -> Option<(String, String, Slot)> {
    use crate::app::pending::{Spec, State};
    let device = row.device_id?;
    let t = app
        .tracked
        .iter()
        .rev()
        .find(|x| x.device() == Some(device))?;
    let on = matches!(t.spec, Spec::Quarantine { on: true, .. });
    let letter = if on { 'Q' } else { 'R' };
    let (sign, slot) = match &t.state {
        State::Requested | State::Sent | State::WaitingCheckin => ('+', Slot::BandWarning),
        State::Confirmed => ('!', if on { Slot::BandBreached } else { Slot::Muted }),
        State::TimedOut => ('?', Slot::BandWarning),
        State::Failed(_) => ('x', Slot::ToastError),
    };
    let words = format!(
        "{} {}",
        if on { "quarantine" } else { "release" },
        t.state.label()
    );
    Some((format!("{letter}{sign}"), words, slot))
}

/// The second report's deadline as `Tue 18:00` in the customer's time zone, or `sent`.
fn second_due(app: &App, row: &Row) -> String {
    if row.second_report_at().is_some() {
        return "sent".into();
    }
    let (Some(org), Some(received)) = (app.orgs.get(row.key.org as usize), row.received_at) else {
        return "-".into();
    };
    let due = org.calendar.second_report_due(received);
    due.to_zoned_datetime(org.calendar.tz.clone())
        .strftime("%a %H:%M")
        .to_string()
}

/// `mm:ss` up to 99:59, then `hhh` hours: five characters at most.
fn short_mmss(secs: i64) -> String {
    let s = secs.max(0);
    if s < 100 * 60 {
        format!("{:02}:{:02}", s / 60, s % 60)
    } else {
        format!("{:>4}h", (s / 3600).min(9999))
    }
}

/// SLA cell text and style slot for a row. Bands read without colour: `!` warning,
/// `!!` critical, `XX` breached.
pub(super) fn sla_cell(app: &App, row: &Row) -> (String, Slot) {
    let sla = &app.settings.sla;
    match row.clock(sla) {
        Clock::Running { deadline } => {
            // Whole seconds, rounded down: the text and the band always agree (−0.3 s reads
            // −00:01 and is breached; 20:00.5 reads 20:00 and is a warning only at 20:00).
            let secs = deadline
                .duration_since(app.now)
                .as_millis()
                .div_euclid(1000) as i64;
            let band = sla.band(jiff::SignedDuration::from_secs(secs));
            let mark = band_mark(band);
            let text = if secs.unsigned_abs() >= 1000 * 60 {
                // A day-old backlog: hours and minutes keep the cell readable.
                let m = secs.unsigned_abs() / 60;
                format!(
                    "{}{}h{:02}m",
                    if secs < 0 { "-" } else { "" },
                    m / 60,
                    m % 60
                )
            } else {
                format_remaining(secs)
            };
            (format!("{mark}{text:>7}"), band_slot(band))
        }
        Clock::Stopped(Stop::Closed { late: false }) => ("closed".into(), Slot::ClockStopped),
        Clock::Stopped(Stop::Closed { late: true }) => ("closed lt".into(), Slot::ClockStopped),
        Clock::Stopped(Stop::Triaged(l)) => (format!("{}: stop", l.short()), Slot::ClockStopped),
        Clock::Stopped(Stop::Reported { late, took }) => {
            let deadline = app.settings.sla.first_report.as_secs();
            if late {
                let by = (took.as_secs() - deadline).max(0);
                (format!("late{}", short_mmss(by)), Slot::BandBreached)
            } else {
                (
                    format!("met {}", short_mmss(took.as_secs())),
                    Slot::ClockStopped,
                )
            }
        }
        Clock::Unknown => ("no time".into(), Slot::Muted),
    }
}

pub(super) fn band_mark(band: Band) -> &'static str {
    match band {
        Band::Normal => "  ",
        Band::Warning => "! ",
        Band::Critical => "!!",
        Band::Breached => "XX",
    }
}

pub(super) fn band_slot(band: Band) -> Slot {
    match band {
        Band::Normal => Slot::BandNormal,
        Band::Warning => Slot::BandWarning,
        Band::Critical => Slot::BandCritical,
        Band::Breached => Slot::BandBreached,
    }
}

fn level_slot(level: Level) -> Slot {
    match level {
        Level::High => Slot::LevelHigh,
        Level::Medium => Slot::LevelMedium,
        Level::Low => Slot::LevelLow,
        Level::FalsePositive => Slot::LevelFalsePositive,
    }
}

fn status_text(s: &WorkflowStatus) -> (&str, Slot) {
    match s {
        WorkflowStatus::Open => ("open", Slot::StatusOpen),
        WorkflowStatus::InProgress => ("in progress", Slot::StatusInProgress),
        WorkflowStatus::Closed => ("closed", Slot::StatusClosed),
        WorkflowStatus::Other(o) => (o.as_str(), Slot::Muted),
    }
}

fn severity_slot(sev: Option<u8>) -> Slot {
    match sev {
        Some(8..) => Slot::SeverityHigh,
        Some(5..=7) => Slot::SeverityMedium,
        _ => Slot::SeverityLow,
    }
}

pub(super) fn table(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let cols = columns_for(area.width, app.settings.second_column);
    let height = area.height.saturating_sub(1) as usize;
    let stale_after = app.settings.stale_after;
    let selected = app.queue.selected_index();

    let rows: Vec<TRow> = app
        .queue
        .window(height)
        .map(|(idx, row)| {
            let is_selected = Some(idx) == selected;
            let base = if is_selected {
                t.style(Slot::RowSelected)
            } else if idx % 2 == 1 {
                t.style(Slot::RowAlt)
            } else {
                t.style(Slot::Row)
            };
            let org = app.orgs.get(row.key.org as usize);
            let org_stale =
                org.is_some_and(|o| o.freshness(app.now, stale_after) != Freshness::Live);
            let cells: Vec<Line> = cols
                .iter()
                .map(|(col, _)| match col {
                    Col::Flag => {
                        if row.flagged {
                            Line::from(Span::styled("#", t.style(Slot::RowFlagged)))
                        } else {
                            Line::raw(" ")
                        }
                    }
                    Col::Sla => {
                        let (text, slot) = sla_cell(app, row);
                        Line::from(Span::styled(text, t.style(slot)))
                    }
                    Col::Level => {
                        let (level, set) = row.level(&app.settings.levels);
                        let text = if set {
                            level.short().to_string()
                        } else {
                            format!("{}?", level.short())
                        };
                        Line::from(Span::styled(text, t.style(level_slot(level))))
                    }
                    Col::Severity => Line::from(Span::styled(
                        row.severity.map_or("-".into(), |s| s.to_string()),
                        t.style(severity_slot(row.severity)),
                    )),
                    Col::Org => {
                        let name = org.map_or("?", |o| o.name.as_str());
                        // Stale data is never shown as fresh: the org cell says so on the row.
                        if org_stale {
                            Line::from(Span::styled(format!("~{name}"), t.style(Slot::OrgStale)))
                        } else {
                            Line::raw(name.to_string())
                        }
                    }
                    Col::Device if app.phone_pending.contains(&row.key) => {
                        let mut l = cell_line(app, &row.device, Style::default());
                        l.spans
                            .insert(0, Span::styled("Ph? ", t.style(Slot::BandWarning)));
                        l
                    }
                    Col::Device => match action_mark(app, row) {
                        // An isolation in flight or in force leads the device cell: the
                        // device column shows at every width.
                        Some((short, _, slot)) => {
                            let mut l = cell_line(app, &row.device, Style::default());
                            l.spans
                                .insert(0, Span::styled(format!("{short} "), t.style(slot)));
                            l
                        }
                        None => cell_line(app, &row.device, Style::default()),
                    },
                    Col::Reason => cell_line(app, &row.reason, Style::default()),
                    Col::Process => cell_line(app, &row.process, Style::default()),
                    Col::Status => {
                        let (text, slot) = status_text(&row.status);
                        Line::from(Span::styled(text.to_string(), t.style(slot)))
                    }
                    Col::Owner => match &row.owner {
                        Some(o) => cell_line(app, o, Style::default()),
                        None => Line::styled("-", t.style(Slot::Muted)),
                    },
                    Col::Type => cell_line(app, &row.alert_type, t.style(Slot::Muted)),
                    Col::Second => Line::styled(second_due(app, row), t.style(Slot::Muted)),
                })
                .collect();
            TRow::new(cells).style(base)
        })
        .collect();

    let widths: Vec<Constraint> = cols.iter().map(|(_, w)| Constraint::Length(*w)).collect();
    let header =
        TRow::new(cols.iter().map(|(c, _)| Line::raw(c.title()))).style(t.style(Slot::TableHeader));
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    frame.render_widget(table, area);

    if app.queue.visible_len() == 0 {
        let msg = if app.queue.is_empty() {
            if app.orgs.iter().all(|o| o.last_good.is_none()) {
                "waiting for the first poll…"
            } else {
                "no alerts"
            }
        } else {
            "no alert matches the filters (c clears them)"
        };
        let y = area.y + 2.min(area.height.saturating_sub(1));
        let r = Rect {
            x: area.x + 2,
            y,
            width: area.width.saturating_sub(4),
            height: 1,
        };
        frame.render_widget(Paragraph::new(msg).style(t.style(Slot::Muted)), r);
    }
}

pub(super) fn preview(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(t.style(Slot::Border))
        .title(Span::styled(
            " Selected alert ",
            t.style(Slot::PreviewLabel),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(row) = app.queue.selected() else {
        return;
    };
    let label = |s: &'static str| Span::styled(format!("{s:<10}"), t.style(Slot::PreviewLabel));
    let value = t.style(Slot::PreviewValue);
    let esc = t.style(Slot::Escape);
    let cells = |c| super::cell_spans(c, value, esc);
    let tz = app.settings.display_tz.clone();
    let when = |ts: Option<Timestamp>| {
        ts.map_or("-".to_string(), |ts| {
            ts.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        })
    };
    let org = app.orgs.get(row.key.org as usize);
    let (level, set) = row.level(&app.settings.levels);
    let (sla_text, sla_slot) = sla_cell(app, row);

    let mut lines: Vec<Line> = Vec::new();
    let mut l = vec![label("Customer")];
    l.push(Span::styled(
        org.map_or("?".to_string(), |o| format!("{} ({})", o.name, o.org_key)),
        value,
    ));
    l.push(Span::raw("   "));
    l.push(label("Device"));
    l.extend(cells(&row.device));
    l.push(Span::styled(
        format!(
            " (id {}, {})",
            row.device_id.map_or("-".into(), |d| d.to_string()),
            if row.device_os.is_empty() {
                "-"
            } else {
                row.device_os.as_str()
            }
        ),
        value,
    ));
    if let Some((_, long, slot)) = action_mark(app, row) {
        l.push(Span::styled(format!("  {long}"), t.style(slot)));
    }
    lines.push(Line::from(l));

    let mut l = vec![label("Policy")];
    l.extend(cells(&row.policy));
    l.push(Span::raw("   "));
    l.push(label("User"));
    l.extend(cells(&row.user));
    lines.push(Line::from(l));

    lines.push(Line::from(vec![
        label("Level"),
        Span::styled(
            format!(
                "{level}{}",
                if set {
                    ""
                } else {
                    " (suggested from severity)"
                }
            ),
            t.style(level_slot(level)),
        ),
        Span::raw("   "),
        label("Severity"),
        Span::styled(
            row.severity.map_or("-".into(), |s| s.to_string()),
            t.style(severity_slot(row.severity)),
        ),
        Span::raw("   "),
        label("Status"),
        Span::styled(status_text(&row.status).0.to_string(), value),
        Span::raw("   "),
        label("Type"),
    ]));
    if let Some(last) = lines.last_mut() {
        last.spans.extend(cells(&row.alert_type));
    }

    let mut l = vec![label("Reason")];
    l.extend(cells(&row.reason));
    lines.push(Line::from(l));
    let mut l = vec![label("Process")];
    l.extend(cells(&row.process_path));
    lines.push(Line::from(l));
    let mut l = vec![label("Command")];
    l.extend(cells(&row.cmdline));
    lines.push(Line::from(l));
    lines.push(Line::from(vec![
        label("SHA-256"),
        Span::styled(row.sha256.as_deref().unwrap_or("-").to_string(), value),
    ]));
    let mut l = vec![label("TTPs")];
    l.extend(cells(&row.ttps));
    lines.push(Line::from(l));
    lines.push(Line::from(vec![
        label("Received"),
        Span::styled(when(row.received_at), value),
        Span::raw("   "),
        label("Clock"),
        Span::styled(sla_text, t.style(sla_slot)),
        Span::raw("   "),
        label("Owner"),
        Span::styled(
            row.owner.as_ref().map_or("-", |o| o.as_str()).to_string(),
            value,
        ),
    ]));
    if row.flagged {
        lines.push(Line::from(Span::styled(
            "# this alert holds hidden or control characters (shown as escapes) — treat as suspicious",
            t.style(Slot::RowFlagged),
        )));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

pub(super) fn footer(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    if let Overlay::Filter { input, .. } = &app.overlay {
        let line = Line::from(vec![
            Span::styled(" / ", t.style(Slot::Filter)),
            Span::raw(crate::text::display_safe(input)),
            Span::styled("_", Style::default().add_modifier(Modifier::SLOW_BLINK)),
            Span::styled("   Enter keeps · Esc cancels", t.style(Slot::Muted)),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    if let Some(toast) = app.toasts.back() {
        let slot = match toast.level {
            ToastLevel::Info => Slot::ToastInfo,
            ToastLevel::Warning => Slot::ToastWarning,
            ToastLevel::Error => Slot::ToastError,
        };
        let text = crate::text::display_safe(&toast.text);
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {text}"), t.style(slot))),
            area,
        );
        return;
    }
    let mut spans: Vec<Span> = Vec::new();
    let f = &app.queue.filter;
    let mut parts: Vec<String> = Vec::new();
    if !f.text.is_empty() {
        parts.push(format!("text \"{}\"", crate::text::display_safe(&f.text)));
    }
    if let Some(o) = f.org.and_then(|o| app.orgs.get(o as usize)) {
        parts.push(format!("org {}", o.name));
    }
    if let Some(l) = f.level {
        parts.push(format!("level {l}"));
    }
    if let Some(s) = f.status {
        parts.push(format!("status {}", s.label()));
    }
    if !parts.is_empty() {
        spans.push(Span::styled(
            format!(
                " {} of {} · {} ",
                app.queue.visible_len(),
                app.queue.len(),
                parts.join(" · ")
            ),
            t.style(Slot::Filter),
        ));
    } else {
        spans.push(Span::styled(
            format!(" {} alerts ", app.queue.len()),
            t.style(Slot::Muted),
        ));
    }
    for action in [
        Action::Help,
        Action::FilterText,
        Action::CommandPalette,
        Action::Quit,
    ] {
        if let Some(k) = app.keymap.keys_for(action).first() {
            spans.push(Span::styled(format!(" {k}"), t.style(Slot::HelpKey)));
            spans.push(Span::styled(
                format!(" {}", short_name(action)),
                t.style(Slot::Muted),
            ));
        }
    }
    let stale: Vec<&str> = app
        .orgs
        .iter()
        .filter(|o| o.freshness(app.now, app.settings.stale_after) == Freshness::Stale)
        .map(|o| o.name.as_str())
        .collect();
    if !stale.is_empty() {
        let oldest = app.orgs.iter().filter_map(|o| o.last_good).min();
        spans.push(Span::styled(
            format!(
                "  ~ = stale data ({})",
                oldest.map_or("-".into(), |t| coarse_age(app.now.duration_since(t)))
            ),
            t.style(Slot::OrgStale),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn short_name(a: Action) -> &'static str {
    match a {
        Action::Help => "help",
        Action::FilterText => "filter",
        Action::CommandPalette => "command",
        Action::Quit => "quit",
        _ => a.name(),
    }
}
