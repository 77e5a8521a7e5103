//! RELIABILITY A1–A4: hostile strings through the sanitiser and through ratatui widgets, on
//! `TestBackend` (cells), and on `CrosstermBackend` and the console's own wire backend over a
//! `Vec<u8>` (the bytes a tty would get).
//!
//! Figures are printed; run `cargo test --test hostile_strings -- --nocapture` to see them.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::rc::Rc;

use proptest::prelude::*;
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, List, ListItem, Paragraph, Row, Table, TableState, Wrap};
use ratatui::{Frame, Terminal, TerminalOptions, Viewport};
use socdeck::text::{
    self, DETAIL_CAP, DISPLAY_CAP, ESCAPE_STYLE, Safe, TITLE_CAP, TRUNCATION_MARKER, corpus,
    display_safe, osc52_copy, sanitize, sanitize_with_cap, title_safe, title_sequence,
};
use socdeck::ui::wire::WireBackend;

const W: u16 = 120;
const H: u16 = 24;
const BASE: Style = Style::new().fg(Color::Gray);

// ---------------------------------------------------------------------------------------------
// Independent oracle: Cc (std), Cf / Zl / Zp / Default_Ignorable_Code_Point transcribed from
// regex-syntax 0.8.12 `unicode_tables` (ucd-generate, Unicode 16.0.0). Cross-checked against
// `socdeck::text::is_hidden` exhaustively, and sampled from regex-syntax itself via proptest.
// ---------------------------------------------------------------------------------------------

const CF_U16: &[(u32, u32)] = &[
    (0xad, 0xad),
    (0x600, 0x605),
    (0x61c, 0x61c),
    (0x6dd, 0x6dd),
    (0x70f, 0x70f),
    (0x890, 0x891),
    (0x8e2, 0x8e2),
    (0x180e, 0x180e),
    (0x200b, 0x200f),
    (0x202a, 0x202e),
    (0x2060, 0x2064),
    (0x2066, 0x206f),
    (0xfeff, 0xfeff),
    (0xfff9, 0xfffb),
    (0x110bd, 0x110bd),
    (0x110cd, 0x110cd),
    (0x13430, 0x1343f),
    (0x1bca0, 0x1bca3),
    (0x1d173, 0x1d17a),
    (0xe0001, 0xe0001),
    (0xe0020, 0xe007f),
];

const DI_U16: &[(u32, u32)] = &[
    (0xad, 0xad),
    (0x34f, 0x34f),
    (0x61c, 0x61c),
    (0x115f, 0x1160),
    (0x17b4, 0x17b5),
    (0x180b, 0x180f),
    (0x200b, 0x200f),
    (0x202a, 0x202e),
    (0x2060, 0x206f),
    (0x3164, 0x3164),
    (0xfe00, 0xfe0f),
    (0xfeff, 0xfeff),
    (0xffa0, 0xffa0),
    (0xfff0, 0xfff8),
    (0x1bca0, 0x1bca3),
    (0x1d173, 0x1d17a),
    (0xe0000, 0xe0fff),
];

fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let cp = u32::from(c);
    table.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp))
}

/// Cc, Cf, Zl, Zp or Default_Ignorable: must never reach the terminal raw.
fn forbidden(c: char) -> bool {
    c.is_control()
        || in_ranges(CF_U16, c)
        || c == '\u{2028}'
        || c == '\u{2029}'
        || in_ranges(DI_U16, c)
}

/// The subset the brief names explicitly: bidi overrides/isolates/marks and zero-width chars.
fn is_bidi_or_zw(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{061c}' | '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{e0000}'..='\u{e007f}')
}

#[test]
fn oracle_matches_sanitizer_table_exhaustively() {
    let mut n = 0;
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        assert_eq!(forbidden(c), text::is_hidden(c), "U+{:04X}", u32::from(c));
        n += usize::from(forbidden(c));
    }
    assert_eq!(n, 4273);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Reverse the escapes using their ranges (literal backslashes elsewhere stay literal).
fn unescape(safe: &Safe) -> String {
    let s = safe.as_str();
    let mut out = String::new();
    let mut pos = 0;
    for r in safe.escapes() {
        out.push_str(&s[pos..r.start]);
        let e = &s[r.clone()];
        let hex = if let Some(h) = e.strip_prefix("\\x") {
            assert_eq!(h.len(), 2, "{e}");
            h
        } else if let Some(h) = e.strip_prefix("\\u{") {
            h.strip_suffix('}').expect(e)
        } else {
            let h = e.strip_prefix("\\u").expect(e);
            assert_eq!(h.len(), 4, "{e}");
            h
        };
        assert!(
            hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{e}"
        );
        out.push(char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap());
        pos = r.end;
    }
    out.push_str(&s[pos..]);
    out
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |b: u8| -> u32 {
        match b {
            b'A'..=b'Z' => u32::from(b - b'A'),
            b'a'..=b'z' => u32::from(b - b'a') + 26,
            b'0'..=b'9' => u32::from(b - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {b:#x}"),
        }
    };
    assert_eq!(s.len() % 4, 0);
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let pad = chunk.iter().filter(|&&b| b == b'=').count();
        let n = chunk[..4 - pad]
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | val(b) << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

/// Terminal columns taken by `s`, char by char as a terminal advances. unicode-width 0.2 gives
/// the halfwidth katakana sound marks U+FF9E/U+FF9F width 0; terminals (wcwidth) and ratatui's
/// cell width give them 1.
fn char_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '\u{ff9e}' | '\u{ff9f}' => 1,
            _ => Span::raw(c.encode_utf8(&mut [0; 4]).to_owned()).width(),
        })
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum View {
    /// Wrapped Paragraph in a bordered Block, "show whole command line" cap.
    DetailParagraph,
    /// Table row cell (with a selected-row highlight, as the alert list has).
    TableCell,
    ListItem,
    BlockTitle,
    /// A bare `Line` rendered as a status bar.
    StatusLine,
}

const VIEWS: [View; 5] = [
    View::DetailParagraph,
    View::TableCell,
    View::ListItem,
    View::BlockTitle,
    View::StatusLine,
];

/// What goes into the widget: the sanitised line, or (baseline only) the raw string.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sanitized,
    Raw,
}

fn content(view: View, s: &str, mode: Mode) -> (Line<'static>, Option<Safe>) {
    match mode {
        Mode::Raw => (Line::raw(s.to_owned()), None),
        Mode::Sanitized => {
            let cap = if view == View::DetailParagraph {
                DETAIL_CAP
            } else {
                DISPLAY_CAP
            };
            let safe = sanitize_with_cap(s, cap);
            (safe.to_line(BASE, ESCAPE_STYLE), Some(safe))
        }
    }
}

fn draw_view(f: &mut Frame, view: View, line: Line<'static>) {
    let area = f.area();
    match view {
        View::DetailParagraph => f.render_widget(
            Paragraph::new(line)
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title("Command line")),
            area,
        ),
        View::TableCell => {
            let rows = [
                Row::new(vec![Cell::from("HIGH"), Cell::from(line)]),
                Row::new(vec![Cell::from("LOW"), Cell::from("explorer.exe")]),
            ];
            let table = Table::new(rows, [Constraint::Length(6), Constraint::Fill(1)])
                .header(Row::new(["SEV", "PROCESS"]))
                .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
                .block(Block::bordered().title("Alerts"));
            let mut state = TableState::default().with_selected(Some(0));
            f.render_stateful_widget(table, area, &mut state);
        }
        View::ListItem => f.render_widget(
            List::new([ListItem::new(line), ListItem::new("next")]).block(Block::bordered()),
            area,
        ),
        View::BlockTitle => f.render_widget(Block::bordered().title(line), area),
        View::StatusLine => {
            let bar = Rect {
                y: area.bottom() - 1,
                height: 1,
                ..area
            };
            f.render_widget(line, bar);
        }
    }
}

fn render_test_backend(view: View, s: &str, mode: Mode) -> (Buffer, Option<Safe>) {
    let mut terminal = Terminal::new(TestBackend::new(W, H)).unwrap();
    let (line, safe) = content(view, s, mode);
    terminal.draw(|f| draw_view(f, view, line)).unwrap();
    (terminal.backend().buffer().clone(), safe)
}

/// A `Vec<u8>` sink we can still read after the backend took it (`CrosstermBackend::writer` is
/// behind an unstable feature).
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Draw on a real `CrosstermBackend` writing to memory; returns the bytes and the frame buffer.
fn render_crossterm(view: View, s: &str, mode: Mode) -> (Vec<u8>, Buffer) {
    let sink = Sink::default();
    let backend = CrosstermBackend::new(sink.clone());
    let options = TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, W, H)),
    };
    let mut terminal = Terminal::with_options(backend, options).unwrap();
    let (line, _) = content(view, s, mode);
    let buffer = terminal
        .draw(|f| draw_view(f, view, line))
        .unwrap()
        .buffer
        .clone();
    drop(terminal);
    let bytes = sink.0.take();
    (bytes, buffer)
}

/// The same on the console's wire backend (relative moves, carried SGR, one write per frame).
fn render_wire(view: View, s: &str, mode: Mode) -> (Vec<u8>, Buffer) {
    let sink = Sink::default();
    let backend = WireBackend::with_size(sink.clone(), W, H);
    let options = TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, W, H)),
    };
    let mut terminal = Terminal::with_options(backend, options).unwrap();
    let (line, _) = content(view, s, mode);
    let buffer = terminal
        .draw(|f| draw_view(f, view, line))
        .unwrap()
        .buffer
        .clone();
    terminal.backend_mut().finish().unwrap();
    drop(terminal);
    let bytes = sink.0.take();
    (bytes, buffer)
}

/// Cell-level check: no forbidden char in any symbol. Returns the offending chars.
fn forbidden_in_buffer(buf: &Buffer) -> Vec<char> {
    buf.content()
        .iter()
        .flat_map(|cell| cell.symbol().chars())
        .filter(|&c| forbidden(c))
        .collect()
}

/// Is `marker` (ASCII) on screen in consecutive cells that all carry the escape style?
fn marker_shown_with_escape_style(buf: &Buffer, marker: &str) -> bool {
    let area = buf.area;
    let want: Vec<&str> = marker
        .char_indices()
        .map(|(i, c)| &marker[i..i + c.len_utf8()])
        .collect();
    (area.top()..area.bottom()).any(|y| {
        let row: Vec<_> = (area.left()..area.right()).map(|x| &buf[(x, y)]).collect();
        row.windows(want.len()).any(|w| {
            w.iter().zip(&want).all(|(cell, sym)| {
                cell.symbol() == *sym
                    && Some(cell.fg) == ESCAPE_STYLE.fg
                    && Some(cell.bg) == ESCAPE_STYLE.bg
            })
        })
    })
}

fn buffer_rows(buf: &Buffer) -> Vec<String> {
    let area = buf.area;
    (area.top()..area.bottom())
        .map(|y| {
            let mut row = String::new();
            let mut skip = 0;
            for x in area.left()..area.right() {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let sym = buf[(x, y)].symbol();
                row.push_str(sym);
                skip = char_width(sym).saturating_sub(1);
            }
            row
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The tty byte stream: whitelist ratatui's own CSI sequences, replay them on a tiny screen model
// ---------------------------------------------------------------------------------------------

#[derive(Default, Debug)]
struct ByteScan {
    /// Problems: any ESC that is not a whitelisted CSI, any raw forbidden code point, …
    violations: Vec<String>,
    csi_count: usize,
    /// Text rows as a terminal would show them, rebuilt from CUP + printed chars.
    rows: Vec<String>,
}

/// Which cursor movements a backend may send.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Moves {
    /// CUP only (`CrosstermBackend`).
    Absolute,
    /// CUP (defaults allowed), CUU/CUD/CUF/CUB, and CR, LF, BS (the wire backend, raw mode).
    Relative,
}

fn scan_tty_bytes(bytes: &[u8], w: u16, h: u16) -> ByteScan {
    scan_tty_bytes_with(bytes, w, h, Moves::Absolute)
}

fn scan_tty_bytes_with(bytes: &[u8], w: u16, h: u16, moves: Moves) -> ByteScan {
    let mut scan = ByteScan::default();
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            scan.violations.push(format!("invalid UTF-8: {e}"));
            return scan;
        }
    };
    // Screen model: each cell holds what was printed there; "" = covered by a wide char.
    let mut grid = vec![vec![String::from(" "); usize::from(w)]; usize::from(h)];
    let (mut cx, mut cy) = (0usize, 0usize);
    let mut last: Option<(usize, usize)> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() != Some('[') {
                scan.violations.push("ESC not introducing a CSI".into());
                continue;
            }
            let mut params = String::new();
            let mut fin = None;
            for d in chars.by_ref() {
                match d {
                    '\x30'..='\x3f' | '\x20'..='\x2f' => params.push(d),
                    '\x40'..='\x7e' => {
                        fin = Some(d);
                        break;
                    }
                    _ => {
                        scan.violations.push(format!("bad CSI byte {d:?}"));
                        break;
                    }
                }
            }
            scan.csi_count += 1;
            match fin {
                Some('m') if params.chars().all(|p| p.is_ascii_digit() || p == ';') => {}
                Some('l' | 'h') if params == "?25" => {}
                Some('H') => match params.split_once(';').map(|(r, c)| (r.parse(), c.parse())) {
                    Some((Ok(r @ 1..), Ok(col @ 1..))) => {
                        let (r, col): (usize, usize) = (r, col);
                        (cy, cx) = (r - 1, col - 1);
                    }
                    // Defaults (row only, or home) from the wire backend.
                    None if moves == Moves::Relative && params.is_empty() => (cy, cx) = (0, 0),
                    None if moves == Moves::Relative
                        && params.parse::<usize>().is_ok_and(|r| r >= 1) =>
                    {
                        (cy, cx) = (params.parse::<usize>().unwrap() - 1, 0);
                    }
                    _ => scan.violations.push(format!("bad CUP {params:?}")),
                },
                Some(d @ ('A' | 'B' | 'C' | 'D'))
                    if moves == Moves::Relative
                        && (params.is_empty() || params.parse::<usize>().is_ok_and(|n| n >= 1)) =>
                {
                    let n = params.parse::<usize>().unwrap_or(1);
                    match d {
                        'A' => cy = cy.saturating_sub(n),
                        'B' => cy += n,
                        'C' => cx += n,
                        _ => cx = cx.saturating_sub(n),
                    }
                    if cy >= usize::from(h) || cx >= usize::from(w) {
                        scan.violations
                            .push(format!("move off the screen: {params}{d}"));
                    }
                }
                other => scan
                    .violations
                    .push(format!("unexpected CSI {params:?} {other:?}")),
            }
            continue;
        }
        if moves == Moves::Relative && matches!(c, '\r' | '\n' | '\x08') {
            match c {
                '\r' => cx = 0,
                '\n' if cy + 1 < usize::from(h) => cy += 1,
                '\x08' if cx > 0 => cx -= 1,
                _ => scan
                    .violations
                    .push(format!("{c:?} at the edge ({cx},{cy})")),
            }
            continue;
        }
        if forbidden(c) {
            scan.violations
                .push(format!("raw U+{:04X} on the wire", u32::from(c)));
            continue;
        }
        let cw = char_width(c.encode_utf8(&mut [0; 4]));
        if cw == 0 {
            match last {
                Some((x, y)) => grid[y][x].push(c),
                None => scan.violations.push("zero-width char with no base".into()),
            }
            continue;
        }
        if cy >= grid.len() || cx + cw > grid[cy].len() {
            scan.violations
                .push(format!("print outside the screen at ({cx},{cy})"));
            continue;
        }
        grid[cy][cx] = c.to_string();
        for k in 1..cw {
            grid[cy][cx + k].clear();
        }
        last = Some((cx, cy));
        cx += cw;
    }
    scan.rows = grid.into_iter().map(|r| r.concat()).collect();
    scan
}

// ---------------------------------------------------------------------------------------------
// A1 through the widgets
// ---------------------------------------------------------------------------------------------

#[test]
fn corpus_through_every_view_on_test_backend() {
    let corpus = corpus::hostile_corpus();
    let mut renders = 0;
    let mut marker_shown = 0;
    let mut failures = Vec::new();
    for (name, s) in &corpus {
        for view in VIEWS {
            let (buf, safe) = render_test_backend(view, s, Mode::Sanitized);
            let safe = safe.unwrap();
            renders += 1;
            let bad = forbidden_in_buffer(&buf);
            if !bad.is_empty() {
                failures.push(format!("{name}/{view:?}: raw {bad:?} in cells"));
            }
            assert!(safe.is_flagged(), "{name}: not flagged");
            let first = &safe.as_str()[safe.escapes()[0].clone()];
            if marker_shown_with_escape_style(&buf, first) {
                marker_shown += 1;
            } else {
                failures.push(format!(
                    "{name}/{view:?}: marker {first} not shown in style"
                ));
            }
        }
    }
    println!(
        "A1 TestBackend: {} hostile payloads x {} views = {renders} renders; {} cells with \
         Cc/Cf/Zl/Zp/bidi; {marker_shown}/{renders} showed the visible marker in the escape style",
        corpus.len(),
        VIEWS.len(),
        failures.iter().filter(|f| f.contains("in cells")).count(),
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(renders, corpus.len() * VIEWS.len());
}

#[test]
fn corpus_through_every_view_on_crossterm_bytes() {
    let corpus = corpus::hostile_corpus();
    let mut renders = 0;
    let mut bytes_total = 0;
    let mut csi_total = 0;
    let mut violations = Vec::new();
    let mut c1_or_bidi_bytes = 0;
    for (name, s) in &corpus {
        for view in VIEWS {
            let (bytes, buffer) = render_crossterm(view, s, Mode::Sanitized);
            renders += 1;
            bytes_total += bytes.len();
            // Byte-level, independent of the parser below: no BEL, no C2 80..C2 9F (C1).
            assert!(!bytes.contains(&0x07), "{name}/{view:?}: BEL");
            c1_or_bidi_bytes += bytes
                .windows(2)
                .filter(|w| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
                .count();
            let text = String::from_utf8_lossy(&bytes);
            c1_or_bidi_bytes += text.chars().filter(|&c| is_bidi_or_zw(c)).count();

            let scan = scan_tty_bytes(&bytes, W, H);
            csi_total += scan.csi_count;
            violations.extend(
                scan.violations
                    .iter()
                    .map(|v| format!("{name}/{view:?}: {v}")),
            );
            // What the terminal would show is exactly what ratatui meant to draw.
            assert_eq!(
                scan.rows,
                buffer_rows(&buffer),
                "{name}/{view:?}: screen rebuilt from bytes differs from the frame buffer"
            );
        }
    }
    println!(
        "A1 CrosstermBackend: {} hostile payloads x {} views = {renders} renders, {bytes_total} \
         bytes, {csi_total} CSI sequences (all SGR/CUP/DECTCEM from ratatui); {} raw control, C1 \
         or bidi bytes emitted",
        corpus.len(),
        VIEWS.len(),
        violations.len() + c1_or_bidi_bytes,
    );
    assert_eq!(c1_or_bidi_bytes, 0);
    assert!(violations.is_empty(), "{violations:#?}");
}

/// The console's own backend sends relative moves and carries SGR across cells: the same
/// guarantees, with the moves modelled.
#[test]
fn corpus_through_every_view_on_wire_bytes() {
    let corpus = corpus::hostile_corpus();
    let mut renders = 0;
    let mut bytes_total = 0;
    let mut csi_total = 0;
    let mut violations = Vec::new();
    let mut c1_or_bidi_bytes = 0;
    for (name, s) in &corpus {
        for view in VIEWS {
            let (bytes, buffer) = render_wire(view, s, Mode::Sanitized);
            renders += 1;
            bytes_total += bytes.len();
            // Byte-level, independent of the parser below: no BEL, no C2 80..C2 9F (C1).
            assert!(!bytes.contains(&0x07), "{name}/{view:?}: BEL");
            c1_or_bidi_bytes += bytes
                .windows(2)
                .filter(|w| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
                .count();
            let text = String::from_utf8_lossy(&bytes);
            c1_or_bidi_bytes += text.chars().filter(|&c| is_bidi_or_zw(c)).count();

            let scan = scan_tty_bytes_with(&bytes, W, H, Moves::Relative);
            csi_total += scan.csi_count;
            violations.extend(
                scan.violations
                    .iter()
                    .map(|v| format!("{name}/{view:?}: {v}")),
            );
            // What the terminal would show is exactly what ratatui meant to draw.
            assert_eq!(
                scan.rows,
                buffer_rows(&buffer),
                "{name}/{view:?}: screen rebuilt from bytes differs from the frame buffer"
            );
        }
    }
    println!(
        "A1 WireBackend: {} hostile payloads x {} views = {renders} renders, {bytes_total} \
         bytes, {csi_total} CSI sequences (SGR/CUP/CUx/DECTCEM, CR/LF/BS moves); {} raw control, C1 \
         or bidi bytes emitted",
        corpus.len(),
        VIEWS.len(),
        violations.len() + c1_or_bidi_bytes,
    );
    assert_eq!(c1_or_bidi_bytes, 0);
    assert!(violations.is_empty(), "{violations:#?}");
}

/// The scanner itself catches an injected sequence (otherwise the test above proves nothing).
#[test]
fn byte_scanner_catches_raw_sequences() {
    for raw in [
        "\x1b]0;x\x07",
        "\x1b[2J",
        "\x1b[1A",
        "\x1bP+q\x1b\\",
        "\u{9b}2J",
        "\u{202e}",
        "\u{200b}",
        "\x07",
    ] {
        let mut bytes = b"\x1b[1;1H".to_vec();
        bytes.extend_from_slice(raw.as_bytes());
        let scan = scan_tty_bytes(&bytes, 10, 2);
        assert!(!scan.violations.is_empty(), "{raw:?} not caught");
    }
    // Moves are refused from CrosstermBackend, modelled for the wire backend.
    for raw in ["\r", "\n", "\x08", "\x1b[2C"] {
        let mut bytes = b"\x1b[1;2H".to_vec();
        bytes.extend_from_slice(raw.as_bytes());
        let scan = scan_tty_bytes(&bytes, 10, 2);
        assert!(!scan.violations.is_empty(), "{raw:?} not caught");
        let scan = scan_tty_bytes_with(&bytes, 10, 2, Moves::Relative);
        assert!(scan.violations.is_empty(), "{raw:?}: {:?}", scan.violations);
    }
    for raw in [
        "\x1b[2;1H\n",
        "\x1b[H\x08",
        "\x1b[9C\x1b[C",
        "\x1b[3A\x1b[5B",
    ] {
        let scan = scan_tty_bytes_with(raw.as_bytes(), 10, 2, Moves::Relative);
        assert!(!scan.violations.is_empty(), "{raw:?} not caught");
    }
    let moved = scan_tty_bytes_with(
        "\x1b[2Hab\x08\x08c\x1b[Hd\n\x1b[Ce".as_bytes(),
        4,
        2,
        Moves::Relative,
    );
    assert!(moved.violations.is_empty(), "{:?}", moved.violations);
    assert_eq!(moved.rows, vec!["d   ".to_string(), "cbe ".to_string()]);
    let ok = scan_tty_bytes("\x1b[?25l\x1b[2;3H\x1b[38;5;0mab日\x1b[0m".as_bytes(), 6, 2);
    assert!(ok.violations.is_empty(), "{:?}", ok.violations);
    assert_eq!(ok.rows, vec!["      ".to_string(), "  ab日".to_string()]);
}

/// Baseline for the report: the same corpus rendered *without* the sanitiser. Not an assertion
/// on ratatui (it may improve); it shows what the sanitiser is protecting against.
#[test]
fn baseline_raw_strings_through_ratatui() {
    let corpus = corpus::hostile_corpus();
    let mut leaking_payloads = BTreeMap::new();
    let mut leaking_renders = 0;
    let mut esc_leaks = 0;
    for (name, s) in &corpus {
        for view in VIEWS {
            let (bytes, _) = render_crossterm(view, s, Mode::Raw);
            let scan = scan_tty_bytes(&bytes, W, H);
            if !scan.violations.is_empty() {
                leaking_renders += 1;
                leaking_payloads
                    .entry(*name)
                    .or_insert_with(|| scan.violations[0].clone());
            }
            if scan
                .violations
                .iter()
                .any(|v| v.contains("ESC") || v.contains("CSI"))
            {
                esc_leaks += 1;
            }
        }
    }
    println!(
        "A1 baseline without sanitiser (ratatui 0.30): {}/{} payloads leak, {leaking_renders}/{} \
         renders ({esc_leaks} with a raw ESC sequence); leaking: {:?}",
        leaking_payloads.len(),
        corpus.len(),
        corpus.len() * VIEWS.len(),
        leaking_payloads.keys().collect::<Vec<_>>(),
    );
}

// ---------------------------------------------------------------------------------------------
// A2: a newline in a host name does not forge a table row
// ---------------------------------------------------------------------------------------------

#[test]
fn newline_in_hostname_yields_exactly_one_row() {
    let alerts = [("host1\nFAKE-ROW", "HIGH"), ("host2", "LOW")];
    let rows = alerts.iter().map(|(host, sev)| {
        Row::new(vec![
            Cell::from(*sev),
            Cell::from(sanitize(host).to_line(BASE, ESCAPE_STYLE)),
        ])
    });
    let table = Table::new(rows, [Constraint::Length(6), Constraint::Fill(1)])
        .header(Row::new(["SEV", "HOST"]));
    let mut terminal = Terminal::new(TestBackend::new(60, 8)).unwrap();
    terminal.draw(|f| f.render_widget(table, f.area())).unwrap();
    let lines = buffer_rows(terminal.backend().buffer());
    let used: Vec<&String> = lines.iter().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(used.len(), 1 + alerts.len(), "{lines:#?}");
    assert!(
        used[1].starts_with("HIGH   host1\\x0aFAKE-ROW"),
        "{}",
        used[1]
    );
    assert!(used[2].starts_with("LOW    host2"), "{}", used[2]);
    assert_eq!(lines.iter().filter(|l| l.contains("FAKE-ROW")).count(), 1);
    assert_eq!(lines.iter().filter(|l| l.contains("host")).count(), 2);
}

#[test]
fn benign_text_passes_through_widgets_unchanged() {
    for (name, s) in corpus::benign_corpus() {
        let (buf, safe) = render_test_backend(View::StatusLine, &s, Mode::Sanitized);
        assert!(!safe.unwrap().is_flagged(), "{name}");
        let rows = buffer_rows(&buf);
        assert!(
            rows[usize::from(H) - 1].starts_with(&s),
            "{name}: {:?}",
            rows.last()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A3: proptest over arbitrary strings
// ---------------------------------------------------------------------------------------------

fn short_corpus_fragments() -> Vec<String> {
    corpus::hostile_corpus()
        .into_iter()
        .map(|(_, s)| s)
        .filter(|s| s.len() < 200)
        .collect()
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ -~]{1,8}",
        3 => any::<char>().prop_map(String::from),
        2 => (0u32..0x100).prop_map(|c| char::from_u32(c).unwrap().to_string()),
        2 => "[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}]",
        1 => "[ぁ-んァ-ン一-龯ｦ-ﾟ]{1,4}",
        1 => prop::sample::select(short_corpus_fragments()),
        1 => prop::sample::select(vec![
            "\\".to_string(),
            "\\x1b".to_string(),
            "\\u{".to_string(),
            TRUNCATION_MARKER.to_string(),
            "e\u{301}".to_string(),
            "🚨".to_string(),
        ]),
    ]
}

fn hostile_string() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|v| v.concat())
}

fn cap() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..80, Just(DISPLAY_CAP)]
}

/// `cases` per property; no regression file (proptest cannot locate one for an integration test
/// and would warn): a failure prints its minimal input, which belongs in the corpus.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn sanitized_output_is_safe_capped_idempotent_and_lossless(s in hostile_string(), cap in cap()) {
        let safe = sanitize_with_cap(&s, cap);
        let out = safe.as_str();
        prop_assert!(out.chars().all(|c| !forbidden(c)), "{out:?}");
        prop_assert!(out.chars().count() <= cap);
        // Idempotent (the default entry point and with the same cap).
        let again = sanitize_with_cap(out, cap);
        prop_assert_eq!(again.as_str(), out);
        let d = display_safe(&s);
        prop_assert_eq!(display_safe(&d), d.clone());
        prop_assert!(d.chars().count() <= DISPLAY_CAP);
        // The flag covers the whole input, cut-off tail included.
        prop_assert_eq!(safe.is_flagged(), s.chars().any(forbidden));
        prop_assert_eq!(safe.hidden_count(), s.chars().filter(|&c| forbidden(c)).count());
        // Escape ranges: sorted, disjoint, on char boundaries, each one a `\…` escape.
        let mut prev_end = 0;
        for r in safe.escapes() {
            prop_assert!(prev_end <= r.start && r.start < r.end && r.end <= out.len());
            prop_assert!(out[r.clone()].starts_with('\\'));
            prev_end = r.end;
        }
        // Lossless: the escapes decode back to the input (or a prefix of it, when cut).
        if safe.is_truncated() {
            let shown = unescape(&safe);
            let shown = shown.strip_suffix(TRUNCATION_MARKER).unwrap_or(&shown);
            prop_assert!(s.starts_with(shown));
        } else {
            prop_assert_eq!(unescape(&safe), s);
        }
        // Spans reassemble the text; escapes and only escapes carry the escape style.
        let spans = safe.to_spans(BASE, ESCAPE_STYLE);
        let joined: String = spans.iter().map(|s| s.content.as_ref()).collect();
        prop_assert_eq!(joined.as_str(), out);
        let styled: usize = spans.iter().filter(|s| s.style == ESCAPE_STYLE).map(|s| s.content.len()).sum();
        prop_assert_eq!(styled, safe.escapes().iter().map(|r| r.len()).sum::<usize>());
    }

}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn printable_ascii_is_unchanged(s in "[ -~]{0,300}", cap in cap()) {
        prop_assert_eq!(display_safe(&s), s.clone());
        let safe = sanitize_with_cap(&s, cap);
        prop_assert!(!safe.is_flagged());
        if s.len() <= cap {
            prop_assert_eq!(safe.as_str(), s.as_str());
        } else {
            let kept = safe.as_str().strip_suffix(TRUNCATION_MARKER).unwrap_or("");
            prop_assert_eq!(kept.len(), cap.saturating_sub(1));
            prop_assert!(s.starts_with(kept));
        }
    }

    /// Chars drawn from regex-syntax's own Unicode 16 tables (independent of both tables).
    #[test]
    fn every_cc_cf_zl_zp_di_char_is_escaped(
        c in "[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}]",
    ) {
        let safe = sanitize(&c);
        prop_assert!(safe.is_flagged());
        prop_assert_eq!(safe.escapes().len(), 1);
        prop_assert_eq!(unescape(&safe), c);
        prop_assert!(safe.as_str().is_ascii());
    }

    #[test]
    fn other_chars_pass_unchanged(c in any::<char>()) {
        let s = c.to_string();
        if forbidden(c) {
            prop_assert!(sanitize(&s).is_flagged());
        } else {
            prop_assert_eq!(display_safe(&s), s);
        }
    }

    // A4: byte builders.
    #[test]
    fn title_is_ascii_printable_capped_idempotent(s in hostile_string()) {
        let t = title_safe(&s);
        prop_assert!(t.bytes().all(|b| (0x20..0x7F).contains(&b)), "{t:?}");
        prop_assert!(t.len() <= TITLE_CAP);
        prop_assert_eq!(title_safe(&t), t.clone());
        let seq = title_sequence(&s);
        prop_assert_eq!(seq, format!("\x1b]2;{t}\x1b\\"));
    }

    #[test]
    fn osc52_has_no_inner_terminator_and_round_trips(s in hostile_string(), max in 0usize..600) {
        match osc52_copy(&s, max) {
            None => prop_assert!(s.len() > max),
            Some(seq) => {
                prop_assert!(s.len() <= max);
                let inner = seq
                    .strip_prefix("\x1b]52;c;")
                    .and_then(|r| r.strip_suffix("\x1b\\"))
                    .expect("framing");
                prop_assert!(inner.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)));
                prop_assert_eq!(seq.matches('\x1b').count(), 2);
                prop_assert!(!seq.contains('\x07'));
                prop_assert!(!seq.contains('\u{9c}'), "8-bit ST");
                prop_assert_eq!(base64_decode(inner), s.as_bytes());
            }
        }
    }
}

#[test]
fn a4_builders_on_the_corpus() {
    for (name, s) in corpus::hostile_corpus() {
        let t = title_sequence(&s);
        assert_eq!(t.matches('\x1b').count(), 2, "{name}");
        assert!(!t.contains('\x07') && t.len() <= TITLE_CAP + 6, "{name}");
        match osc52_copy(&s, text::OSC52_DEFAULT_MAX) {
            Some(seq) => {
                assert_eq!(seq.matches('\x1b').count(), 2, "{name}");
                assert!(!seq.contains('\x07'), "{name}");
                assert!(seq.len() <= 9 + text::OSC52_DEFAULT_MAX.div_ceil(3) * 4);
            }
            None => assert!(s.len() > text::OSC52_DEFAULT_MAX, "{name}"),
        }
    }
}
