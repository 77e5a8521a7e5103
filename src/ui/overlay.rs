//! Overlays: help (generated from the active keymap) and the command palette.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::centered;
use super::queue::{band_mark, band_slot};
use crate::app::pending::{ApprovalNeed, Field, Prompt};
use crate::app::sending::{CallPrompt, SendPrompt};
use crate::app::{Action, App, AuditRow, Mode, Overlay};
use crate::config::theme::Slot;
use crate::sla::Band;

pub(super) fn draw(app: &App, frame: &mut Frame, area: Rect) {
    match &app.overlay {
        Overlay::Help { scroll } => help(app, frame, area, *scroll),
        Overlay::Palette(p) => palette(app, frame, area, p),
        Overlay::LevelChoice { .. } => level_choice(app, frame, area),
        Overlay::Send(p) => send(app, frame, area, p),
        Overlay::Call(p) => call(app, frame, area, p),
        Overlay::Prompt(p) => prompt(app, frame, area, p),
        Overlay::Audit {
            title,
            rows,
            scroll,
        } => audit(app, frame, area, title, rows, *scroll),
        Overlay::Filter { .. } | Overlay::None => {}
    }
}

fn send(app: &App, frame: &mut Frame, area: Rect, p: &SendPrompt) {
    let t = &app.theme;
    let safe = |s: &str| crate::text::display_safe(s);
    let mut lines: Vec<Line> = Vec::new();
    let label = |s: &str| Span::styled(format!(" {s:<9}"), t.style(Slot::PreviewLabel));
    if p.high && !p.phones.is_empty() {
        lines.push(Line::styled(
            " High: call first, then log the call (L):",
            t.style(Slot::BandWarning),
        ));
        for (name, phone) in &p.phones {
            lines.push(Line::from(vec![
                label("phone"),
                Span::styled(
                    format!("{} {}", safe(phone), safe(name)),
                    t.style(Slot::PreviewValue),
                ),
            ]));
        }
    }
    for tgt in &p.delivery.targets {
        lines.push(Line::from(vec![
            label(tgt.channel.as_str()),
            Span::styled(
                format!("{} <{}>", safe(&tgt.name), safe(&tgt.shown)),
                t.style(Slot::PreviewValue),
            ),
        ]));
    }
    for ch in &p.unreachable {
        lines.push(Line::styled(
            format!(" {:<9}no contact for this channel in the rule", ch.as_str()),
            t.style(Slot::ToastWarning),
        ));
    }
    // Exactly what each channel carries: the email's subject and text, and the webhook
    // payloads as they are posted.
    let msg = crate::deliver::Message {
        subject: p.delivery.subject.clone(),
        body: p.delivery.body.clone(),
    };
    let mut kinds: Vec<crate::config::rules::Channel> = Vec::new();
    for tgt in &p.delivery.targets {
        if !kinds.contains(&tgt.channel) {
            kinds.push(tgt.channel);
        }
    }
    for ch in kinds {
        use crate::config::rules::Channel;
        lines.push(Line::styled(
            format!(" ─── {} ───", ch.as_str()),
            t.style(Slot::Border),
        ));
        let text: Vec<String> = match ch {
            Channel::Email => std::iter::once(format!("Subject: {}", msg.subject))
                .chain(msg.body.lines().map(str::to_string))
                .collect(),
            Channel::Slack | Channel::Teams => {
                let payload = if ch == Channel::Slack {
                    crate::deliver::slack_payload(&msg)
                } else {
                    crate::deliver::teams_payload(&msg)
                };
                serde_json::to_string_pretty(&payload)
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_string)
                    .collect()
            }
            Channel::Phone => Vec::new(),
        };
        for l in text {
            lines.push(Line::styled(
                format!(" {}", safe(&l)),
                t.style(Slot::PreviewValue),
            ));
        }
    }
    if p.delivery.targets.is_empty() {
        lines.push(Line::styled(
            " nobody to send to: add contacts for the rule's channels in rules.toml",
            t.style(Slot::ToastError),
        ));
    }
    let footer = Line::styled(
        " y/Enter send · n/Esc back · ↑/↓ scroll",
        t.style(Slot::Muted),
    );
    let rect = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    super::clear_for_overlay(frame, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.style(Slot::BandWarning))
        .title(Span::styled(
            " Send the report — nothing leaves until you confirm ",
            t.style(Slot::BandWarning),
        ));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [body, foot] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Min(1),
        ratatui::layout::Constraint::Length(1),
    ])
    .areas(inner);
    // Rows the wrapped text takes, so scrolling stops at its end.
    let w = body.width.max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(w)).sum();
    let max_scroll = (rows as u16).saturating_sub(body.height);
    let para = Paragraph::new(lines)
        .style(t.style(Slot::Base))
        .wrap(Wrap { trim: false });
    frame.render_widget(para.scroll((p.scroll.min(max_scroll), 0)), body);
    frame.render_widget(Paragraph::new(footer), foot);
}

fn call(app: &App, frame: &mut Frame, area: Rect, p: &CallPrompt) {
    let t = &app.theme;
    let safe = |s: &str| crate::text::display_safe(s);
    let mut lines: Vec<Line> = Vec::new();
    if p.phones.is_empty() {
        lines.push(Line::styled(
            " (no phone number in the customer's rule)",
            t.style(Slot::Muted),
        ));
    }
    for (name, phone) in &p.phones {
        lines.push(Line::styled(
            format!(" ☎ {}  {}", safe(phone), safe(name)),
            t.style(Slot::PreviewValue),
        ));
    }
    let field = |label: &str, value: &str, focused: bool| {
        Line::from(vec![
            Span::styled(format!(" {label:<16}"), t.style(Slot::PreviewLabel)),
            Span::styled(
                safe(value),
                if focused {
                    t.style(Slot::Palette)
                } else {
                    t.style(Slot::PreviewValue)
                },
            ),
            Span::styled(if focused { "_" } else { "" }, t.style(Slot::Muted)),
        ])
    };
    lines.push(Line::raw(""));
    lines.push(field("Person reached", &p.person, p.field == 0));
    lines.push(field("Outcome", &p.outcome, p.field == 1));
    lines.push(Line::raw(""));
    lines.push(match &p.error {
        Some(e) => Line::styled(format!(" {}", safe(e)), t.style(Slot::ToastError)),
        None => Line::styled(
            " Tab next field · Enter log the call · Esc later (phone stays pending)",
            t.style(Slot::Muted),
        ),
    });
    let rect = centered(
        area,
        74.min(area.width),
        (lines.len() as u16 + 2).min(area.height),
    );
    super::clear_for_overlay(frame, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.style(Slot::Border))
        .title(Span::styled(
            " Log a phone call ",
            t.style(Slot::HelpSection),
        ));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(t.style(Slot::Base)),
        rect,
    );
}

fn level_choice(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let rect = centered(area, 52.min(area.width), 7.min(area.height));
    super::clear_for_overlay(frame, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.style(Slot::Border))
        .title(Span::styled(
            " Set triage level ",
            t.style(Slot::HelpSection),
        ));
    let line = |k: &str, slot: Slot, name: &str, what: &str| {
        Line::from(vec![
            Span::styled(format!(" {k}  "), t.style(Slot::HelpKey)),
            Span::styled(format!("{name:<15}"), t.style(slot)),
            Span::styled(what.to_string(), t.style(Slot::Muted)),
        ])
    };
    let lines = vec![
        line("h", Slot::LevelHigh, "High", "in progress; phone + email"),
        line("m", Slot::LevelMedium, "Medium", "in progress; email"),
        line("l", Slot::LevelLow, "Low", "closes; clock stops"),
        line(
            "f",
            Slot::LevelFalsePositive,
            "False positive",
            "closes; offers allow-list",
        ),
        Line::styled(" any other key cancels", t.style(Slot::Muted)),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(t.style(Slot::Base)),
        rect,
    );
}

fn prompt(app: &App, frame: &mut Frame, area: Rect, p: &Prompt) {
    let t = &app.theme;
    let width = 76.min(area.width);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.style(Slot::BandWarning))
        .title(Span::styled(
            format!(" {} — nothing is sent until you confirm ", p.spec.title()),
            t.style(Slot::BandWarning),
        ));
    let mut lines: Vec<Line> = Vec::new();
    let value_width = width.saturating_sub(18) as usize;
    for (k, v) in &p.facts {
        let v = crate::text::sanitize_with_cap(v, value_width.max(8));
        lines.push(Line::from(vec![
            Span::styled(format!(" {k:<14} "), t.style(Slot::PreviewLabel)),
            Span::styled(v.as_str().to_string(), t.style(Slot::PreviewValue)),
        ]));
    }
    if p.needs_approval() {
        lines.push(Line::styled(
            match p.need {
                ApprovalNeed::Release => " Releasing always needs the customer's approval:",
                _ => " The customer's rule requires approval first:",
            },
            t.style(Slot::ToastWarning),
        ));
        let field = |label: &str, value: &str, focused: bool| {
            let style = if focused {
                t.style(Slot::Palette)
            } else {
                t.style(Slot::PreviewValue)
            };
            Line::from(vec![
                Span::styled(format!(" {label:<14} "), t.style(Slot::PreviewLabel)),
                Span::styled(crate::text::display_safe(value), style),
                Span::styled(if focused { "_" } else { "" }, t.style(Slot::Muted)),
            ])
        };
        lines.push(field(
            "Approved by",
            &p.approver,
            p.field == Field::Approver,
        ));
        lines.push(field(
            "Via (channel)",
            &p.channel,
            p.field == Field::Channel,
        ));
    }
    lines.push(Line::raw(""));
    if let Some(e) = &p.error {
        lines.push(Line::styled(
            format!(" {}", crate::text::display_safe(e)),
            t.style(Slot::ToastError),
        ));
    } else if p.needs_approval() {
        lines.push(Line::styled(
            " Tab next field · Enter confirm · Esc cancel",
            t.style(Slot::Muted),
        ));
    } else {
        lines.push(Line::styled(
            " y/Enter confirm · n/Esc cancel",
            t.style(Slot::Muted),
        ));
    }
    let rect = centered(area, width, (lines.len() as u16 + 2).min(area.height));
    super::clear_for_overlay(frame, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(t.style(Slot::Base)),
        rect,
    );
}

fn audit(app: &App, frame: &mut Frame, area: Rect, title: &str, rows: &[AuditRow], scroll: u16) {
    let t = &app.theme;
    let rect = centered(
        area,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    super::clear_for_overlay(frame, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.style(Slot::Border))
        .title(Span::styled(
            format!(
                " {} — ↑/↓ scroll, any key closes ",
                crate::text::display_safe(title)
            ),
            t.style(Slot::HelpSection),
        ));
    // Wide terminals give the action and its target room; 80 columns keep the outcome visible.
    let (ww, tw) = if rect.width >= 150 {
        (28, 40)
    } else {
        (16, 24)
    };
    let mut lines = vec![Line::styled(
        format!(
            " {:<16} {:<12} {:<ww$} {:<tw$} {}",
            "when", "who", "what", "target", "outcome"
        ),
        t.style(Slot::TableHeader),
    )];
    if rows.is_empty() {
        lines.push(Line::styled(" (no actions recorded)", t.style(Slot::Muted)));
    }
    let safe = |s: &str, w: usize| crate::text::sanitize_with_cap(s, w).as_str().to_string();
    for r in rows {
        let when =
            r.at.to_zoned_datetime(app.settings.display_tz.clone())
                .strftime("%m-%d %H:%M:%S")
                .to_string();
        lines.push(Line::styled(
            format!(
                " {:<16} {:<12} {:<ww$} {:<tw$} {}",
                when,
                safe(&r.analyst, 12),
                safe(&r.what, ww),
                safe(&r.target, tw),
                safe(&r.outcome, 200)
            ),
            t.style(Slot::Row),
        ));
    }
    let inner_h = rect.height.saturating_sub(2);
    let max_scroll = (lines.len() as u16).saturating_sub(inner_h);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(t.style(Slot::Base))
            .scroll((scroll.min(max_scroll), 0)),
        rect,
    );
}

/// Every action of the queue and global modes with its keys, from the keymap in use — so help
/// is never out of date — plus the legend of the SLA column.
pub fn help_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut lines = Vec::new();
    let screen = match app.screen {
        crate::app::Screen::Queue => Mode::Queue,
        crate::app::Screen::Detail(_) => Mode::Detail,
        crate::app::Screen::Editor { .. } => Mode::Editor,
    };
    // In the editor every key but its own and Esc/F1/Ctrl-C is text: the global keys do not
    // apply there, so help does not list them.
    let modes: &[Mode] = if screen == Mode::Editor {
        &[Mode::Editor]
    } else {
        &[screen, Mode::Global]
    };
    for &mode in modes {
        lines.push(Line::styled(
            match mode {
                Mode::Queue => "Alert queue",
                Mode::Detail => "Alert detail",
                Mode::Editor => "Report editor",
                Mode::Global => "Everywhere",
            },
            t.style(Slot::HelpSection),
        ));
        for action in Action::ALL.iter().filter(|a| a.mode() == mode) {
            let keys = app.keymap.keys_for(*action);
            let keys = if keys.is_empty() {
                format!(":{}", action.name())
            } else {
                keys.iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), t.style(Slot::HelpKey)),
                Span::styled(
                    action.description().to_string(),
                    t.style(Slot::HelpDescription),
                ),
            ]));
        }
        lines.push(Line::raw(""));
    }
    if screen == Mode::Editor {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<18}", "Esc"), t.style(Slot::HelpKey)),
            Span::styled("Back (the draft is saved)", t.style(Slot::HelpDescription)),
        ]));
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<18}", "F1 / Ctrl-C"), t.style(Slot::HelpKey)),
            Span::styled(
                "This help / quit (the draft is saved)",
                t.style(Slot::HelpDescription),
            ),
        ]));
        lines.push(Line::styled(
            "  Every other key edits: arrows, Home/End, Ctrl-A/E, Ctrl-K, Ctrl-U undo, Ctrl-R redo",
            t.style(Slot::HelpDescription),
        ));
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        "SLA column (time left for the first report)",
        t.style(Slot::HelpSection),
    ));
    for (band, text) in [
        (Band::Normal, "more than 20 min left"),
        (Band::Warning, "20 min or less"),
        (Band::Critical, "10 min or less"),
        (Band::Breached, "deadline passed (time shown negative)"),
    ] {
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {}mm:ss", band_mark(band)),
                t.style(band_slot(band)),
            ),
            Span::styled(format!("  {text}"), t.style(Slot::HelpDescription)),
        ]));
    }
    for (mark, slot, text) in [
        (
            "  closed  ",
            Slot::ClockStopped,
            "clock stopped: closed in CBC",
        ),
        (
            "  Low: stop",
            Slot::ClockStopped,
            "clock stopped: triaged Low / FP (no report owed)",
        ),
        (
            "  Q+ Q! Q? Qx ",
            Slot::BandWarning,
            "device: isolating, isolated, no check-in yet, failed (R: release)",
        ),
        (
            "  High?   ",
            Slot::LevelHigh,
            "level suggested from CBC severity (no analyst decision yet)",
        ),
        (
            "  #       ",
            Slot::RowFlagged,
            "hidden/control characters in the alert, shown as escapes",
        ),
        (
            "  ~Org    ",
            Slot::OrgStale,
            "that org's data is stale (no good poll lately)",
        ),
    ] {
        lines.push(Line::from(vec![
            Span::styled(mark, t.style(slot)),
            Span::styled(text, t.style(Slot::HelpDescription)),
        ]));
    }
    lines
}

fn help(app: &App, frame: &mut Frame, area: Rect, scroll: u16) {
    let t = &app.theme;
    let rect = centered(
        area,
        78.min(area.width),
        area.height.saturating_sub(2).max(3),
    );
    super::clear_for_overlay(frame, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.style(Slot::Border))
        .title(Span::styled(
            " Help — Esc closes, ↑/↓ scroll ",
            t.style(Slot::HelpSection),
        ));
    let lines = help_lines(app);
    let inner_h = rect.height.saturating_sub(2);
    let max_scroll = (lines.len() as u16).saturating_sub(inner_h);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(t.style(Slot::Base))
            .scroll((scroll.min(max_scroll), 0)),
        rect,
    );
}

fn palette(app: &App, frame: &mut Frame, area: Rect, p: &crate::app::Palette) {
    let t = &app.theme;
    let candidates = p.candidates();
    let shown = candidates.len().min(8) as u16;
    let rect = centered(area, 70.min(area.width), (shown + 3).min(area.height));
    super::clear_for_overlay(frame, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.style(Slot::Border))
        .title(Span::styled(
            " Command — Tab completes, Enter runs, Esc closes ",
            t.style(Slot::HelpSection),
        ));
    let mut lines = vec![Line::from(vec![
        Span::styled(":", t.style(Slot::Palette)),
        Span::styled(crate::text::display_safe(&p.input), t.style(Slot::Palette)),
        Span::styled("_", t.style(Slot::Muted)),
    ])];
    // Keep the highlighted candidate inside the visible slice.
    let start = p.selected.saturating_sub(shown.saturating_sub(1) as usize);
    for (i, (name, hint)) in candidates
        .iter()
        .enumerate()
        .skip(start)
        .take(shown as usize)
    {
        let slot = if i == p.selected {
            Slot::PaletteSelected
        } else {
            Slot::Palette
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {name:<16}"), t.style(slot)),
            Span::styled(format!(" {hint}"), t.style(Slot::Muted)),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(t.style(Slot::Base)),
        rect,
    );
}
