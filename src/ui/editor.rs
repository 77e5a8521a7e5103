//! The report editor screen: a header naming the alert, customer, language and save state; the
//! tui-textarea widget (or the preview of what the customer gets); a footer with the keys.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::queue::sla_cell;
use crate::app::editor::{Editor, ReportKind};
use crate::app::report::Lang;
use crate::app::{Action, App, Mode, ToastLevel};
use crate::config::theme::Slot;
use crate::text;

pub(super) fn draw(app: &App, e: &Editor, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);

    let org = app
        .orgs
        .get(e.key.org as usize)
        .map(|o| o.name.as_str())
        .unwrap_or("?");
    let row = app.queue.get(&e.key);
    let mut spans = vec![Span::styled(
        match e.kind {
            ReportKind::First => " 1st report ",
            ReportKind::Second => " 2nd report ",
        },
        t.style(Slot::HeaderTitle),
    )];
    spans.push(Span::styled(
        format!(
            " {} · {} · {} ",
            text::display_safe(org),
            row.map(|r| r.device.as_str()).unwrap_or("?"),
            match e.lang {
                Lang::Ja => "ja",
                Lang::En => "en",
            }
        ),
        t.style(Slot::Header),
    ));
    if let Some(r) = row {
        let (txt, slot) = sla_cell(app, r);
        spans.push(Span::styled(format!(" SLA {} ", txt.trim()), t.style(slot)));
    }
    let saved = match (e.unsaved_since, e.last_saved) {
        (Some(_), _) => Span::styled(" ● unsaved ", t.style(Slot::ToastWarning)),
        (None, Some(at)) => Span::styled(
            format!(
                " saved {}",
                at.to_zoned_datetime(app.settings.display_tz.clone())
                    .strftime("%H:%M:%S")
            ),
            t.style(Slot::Muted),
        ),
        (None, None) => Span::styled(" template ", t.style(Slot::Muted)),
    };
    spans.push(saved);
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(t.style(Slot::Header)),
        header,
    );

    if e.preview {
        preview(app, e, frame, body);
    } else {
        let mut area = e.area.clone();
        area.set_style(t.style(Slot::Base));
        area.set_cursor_style(t.style(Slot::RowSelected).add_modifier(Modifier::REVERSED));
        area.set_cursor_line_style(t.style(Slot::Base));
        frame.render_widget(&area, body);
        // The terminal's own cursor sits on the text cursor, so an IME composes in place.
        let c = area.screen_cursor();
        let (top, left) = area.scroll_offset();
        let (row, col) = (
            c.row.saturating_sub(top as usize),
            c.col.saturating_sub(left as usize),
        );
        if row < body.height as usize && col < body.width as usize {
            frame.set_cursor_position(Position::new(body.x + col as u16, body.y + row as u16));
        }
    }

    let line = if e.confirm_discard {
        Line::styled(
            " Discard this draft? y discards, any other key keeps it",
            t.style(Slot::ToastWarning),
        )
    } else if let Some(toast) = app.toasts.back() {
        let slot = match toast.level {
            ToastLevel::Info => Slot::ToastInfo,
            ToastLevel::Warning => Slot::ToastWarning,
            ToastLevel::Error => Slot::ToastError,
        };
        Line::styled(
            format!(" {}", text::display_safe(&toast.text)),
            t.style(slot),
        )
    } else {
        let key = |a: Action| {
            app.keymap
                .keys_in(Mode::Editor, a)
                .first()
                .map(|k| k.to_string())
                .unwrap_or_else(|| format!(":{}", a.name()))
        };
        Line::styled(
            format!(
                " {} send · {} save · {} preview · {} $EDITOR · {} discard · Esc back",
                key(Action::SendReport),
                key(Action::SaveDraft),
                key(Action::PreviewReport),
                key(Action::ExternalEditor),
                key(Action::DiscardDraft),
            ),
            t.style(Slot::Muted),
        )
    };
    frame.render_widget(Paragraph::new(line), footer);
}

/// What the customer gets: subject and body, as sent.
fn preview(app: &App, e: &Editor, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let subject = crate::app::report_subject(app, e);
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(t.style(Slot::Border))
        .title(Span::styled(
            " Preview — what the customer receives (any key edits) ",
            t.style(Slot::PreviewLabel),
        ));
    let mut lines = vec![Line::from(vec![
        Span::styled("Subject: ", t.style(Slot::PreviewLabel)),
        Span::styled(text::display_safe(&subject), t.style(Slot::PreviewValue)),
    ])];
    lines.push(Line::raw(""));
    for l in e.area.lines() {
        // The body is the analyst's own text, but it may hold pasted alert data: sanitised.
        lines.push(Line::styled(
            text::display_safe(l),
            t.style(Slot::PreviewValue),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .style(t.style(Slot::Base)),
        area,
    );
}
