//! Overlays: help (generated from the active keymap) and the command palette.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::centered;
use super::queue::{band_mark, band_slot};
use crate::app::{Action, App, Mode, Overlay};
use crate::config::theme::Slot;
use crate::sla::Band;

pub(super) fn draw(app: &App, frame: &mut Frame, area: Rect) {
    match &app.overlay {
        Overlay::Help { scroll } => help(app, frame, area, *scroll),
        Overlay::Palette(p) => palette(app, frame, area, p),
        Overlay::Filter { .. } | Overlay::None => {}
    }
}

/// Every action of the queue and global modes with its keys, from the keymap in use — so help
/// is never out of date — plus the legend of the SLA column.
pub fn help_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut lines = Vec::new();
    for mode in [Mode::Queue, Mode::Global] {
        lines.push(Line::styled(
            match mode {
                Mode::Queue => "Alert queue",
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
    lines.push(Line::from(vec![
        Span::styled("  closed  ", t.style(Slot::ClockStopped)),
        Span::styled(
            "clock stopped: closed in CBC",
            t.style(Slot::HelpDescription),
        ),
    ]));
    lines.push(Line::from(vec![
        Span::styled("  High?   ", t.style(Slot::LevelHigh)),
        Span::styled(
            "level suggested from CBC severity (no analyst decision yet)",
            t.style(Slot::HelpDescription),
        ),
    ]));
    lines.push(Line::from(vec![
        Span::styled("  #       ", t.style(Slot::RowFlagged)),
        Span::styled(
            "hidden/control characters in the alert, shown as escapes",
            t.style(Slot::HelpDescription),
        ),
    ]));
    lines.push(Line::from(vec![
        Span::styled("  ~Org    ", t.style(Slot::OrgStale)),
        Span::styled(
            "that org's data is stale (no good poll lately)",
            t.style(Slot::HelpDescription),
        ),
    ]));
    lines
}

fn help(app: &App, frame: &mut Frame, area: Rect, scroll: u16) {
    let t = &app.theme;
    let rect = centered(
        area,
        78.min(area.width),
        area.height.saturating_sub(2).max(3),
    );
    frame.render_widget(Clear, rect);
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
    frame.render_widget(Clear, rect);
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
