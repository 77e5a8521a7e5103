//! View functions: `view(&App, &mut Frame)`. They read the model and draw; they never change
//! it, sort, filter or sanitise (that happened when the data arrived). Only the rows inside the
//! visible window are built.

mod detail;
mod editor;
mod overlay;
mod queue;
pub mod wire;

use jiff::{SignedDuration, Timestamp};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::queue::Cell;
use crate::app::{App, Freshness, OrgState};
use crate::config::theme::Slot;

pub use queue::columns_for_width;

/// Lines above the table: title/counts and org states.
const HEADER_LINES: u16 = 2;
const FOOTER_LINES: u16 = 1;
/// Height of the preview pane when there is room for it.
pub const PREVIEW_LINES: u16 = 12;
/// The preview shows from this terminal height on.
pub const PREVIEW_MIN_HEIGHT: u16 = 36;

/// Whether the preview pane is drawn at this size.
pub fn preview_shown(size: (u16, u16), wanted: bool) -> bool {
    wanted && size.1 >= PREVIEW_MIN_HEIGHT && size.0 >= 60
}

/// Alert rows the queue table shows at this size (its header row excluded). The reducer uses
/// it for paging and scrolling; the view lays out the same way.
pub fn queue_table_rows(size: (u16, u16), preview: bool) -> usize {
    let preview = if preview_shown(size, preview) {
        PREVIEW_LINES
    } else {
        0
    };
    size.1
        .saturating_sub(HEADER_LINES + FOOTER_LINES + 1 + preview) as usize
}

/// Draws the whole screen.
pub fn view(app: &App, frame: &mut Frame) {
    let area = frame.area();
    frame
        .buffer_mut()
        .set_style(area, app.theme.style(Slot::Base));
    match &app.screen {
        crate::app::Screen::Detail(d) => {
            detail::draw(app, d, frame, area);
            overlay::draw(app, frame, area);
            return;
        }
        crate::app::Screen::Editor { editor, .. } => {
            editor::draw(app, editor, frame, area);
            overlay::draw(app, frame, area);
            return;
        }
        crate::app::Screen::Queue => {}
    }
    let preview = preview_shown((area.width, area.height), app.show_preview);
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(HEADER_LINES),
        Constraint::Min(1),
        Constraint::Length(FOOTER_LINES),
    ])
    .areas(area);
    queue::header(app, frame, header);
    if preview {
        let [table, pane] =
            Layout::vertical([Constraint::Min(2), Constraint::Length(PREVIEW_LINES)]).areas(body);
        queue::table(app, frame, table);
        queue::preview(app, frame, pane);
    } else {
        queue::table(app, frame, body);
    }
    queue::footer(app, frame, footer);
    overlay::draw(app, frame, area);
}

/// How an org's connection reads in the header. Coarse on purpose: it changes at most once a
/// minute while the org is healthy, so an idle console does not redraw every second.
pub fn org_age_text(org: &OrgState, now: Timestamp, stale_after: SignedDuration) -> String {
    let age = |t: Timestamp| coarse_age(now.duration_since(t));
    match (org.freshness(now, stale_after), &org.error, org.last_good) {
        (Freshness::Connecting, None, _) => "connecting".into(),
        (Freshness::Connecting, Some(_), _) => "ERROR, no data".into(),
        (Freshness::Live, None, Some(t)) => format!("ok {}", age(t)),
        (Freshness::Live, Some(_), Some(t)) => format!("ERROR, data {}", age(t)),
        (Freshness::Stale, _, Some(t)) => format!("STALE {}", age(t)),
        (_, _, _) => "?".into(),
    }
}

/// `<1m`, `5m`, `2h`, `3d`.
pub fn coarse_age(d: SignedDuration) -> String {
    let s = d.as_secs().max(0);
    match s {
        0..60 => "<1m".into(),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Spans of a sanitised cell: escapes of hidden characters in the theme's escape style.
pub fn cell_spans<'a>(cell: &'a Cell, base: Style, escape: Style) -> Vec<Span<'a>> {
    cell.pieces()
        .map(|(t, esc)| Span::styled(t, if esc { escape } else { base }))
        .collect()
}

pub(crate) fn cell_line<'a>(app: &App, cell: &'a Cell, base: Style) -> Line<'a> {
    Line::from(cell_spans(cell, base, app.theme.style(Slot::Escape)))
}

/// Clears `rect` for an overlay, including a double-width character that starts just left of
/// it: its right half would otherwise cover the overlay's left border on the terminal.
pub(crate) fn clear_for_overlay(frame: &mut Frame, rect: Rect) {
    frame.render_widget(ratatui::widgets::Clear, rect);
    if rect.x > 0 {
        let buf = frame.buffer_mut();
        for y in rect.y..rect.bottom() {
            let cell = &mut buf[(rect.x - 1, y)];
            if Span::raw(cell.symbol()).width() > 1 {
                cell.set_symbol(" ");
            }
        }
    }
}

/// A rectangle of `w`×`h` centred in `area` (clamped to it).
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
