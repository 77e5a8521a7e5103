//! The wire backend (src/ui/wire.rs) must show exactly what `CrosstermBackend` shows, with fewer
//! bytes and one `write` per frame. Every frame sequence is drawn through both into a `vt100`
//! terminal and compared cell by cell (text, colours, bold, italic, underline, inverse, wide
//! characters, cursor); and, because vt100 0.15 ignores dim, blink, hidden and crossed-out,
//! the wire bytes are also replayed on a strict model here that knows every SGR attribute and
//! refuses the moves the backend must never make (a relative move from an untrusted column, a
//! print into a pending wrap, a line feed on the last row), and compared with ratatui's frame.
//!
//! Frames: random ones (proptest: styles, CJK, combining marks, box drawing, cursor shown or
//! not, resizes) and the console's own (the queue at 200×50 and 80×24, ticks, moves, the help
//! overlay, a resize, hostile and Japanese rows).

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::{Frame, Terminal, TerminalOptions, Viewport};

use socdeck::app::queue::Row;
use socdeck::app::{Action, App, Msg, OrgState, Settings, run_action, update};
use socdeck::cbc::model::{Alert, Workflow};
use socdeck::config::keymap::Keymap;
use socdeck::config::theme::Theme;
use socdeck::ui::wire::WireBackend;

/// Bytes and `write` calls that reached the "terminal".
#[derive(Clone, Default)]
struct Sink {
    bytes: Rc<RefCell<Vec<u8>>>,
    writes: Rc<RefCell<usize>>,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.borrow_mut().extend_from_slice(buf);
        *self.writes.borrow_mut() += 1;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn take(&self) -> (Vec<u8>, usize) {
        (self.bytes.take(), self.writes.replace(0))
    }
}

/// One step of a session: draw a frame, or resize the terminal (the next frame redraws all).
enum Step<'a> {
    Draw(Box<dyn Fn(&mut Frame) + 'a>),
    Resize(u16, u16),
}

/// Per-frame figures of one backend.
#[derive(Debug, Default)]
struct Wire {
    bytes: Vec<usize>,
    writes: Vec<usize>,
}

/// Runs `steps` through the wire backend and `CrosstermBackend` side by side, each into its own
/// vt100 terminal, and checks after every frame that both screens are the same, that the wire
/// bytes replayed on the strict model give ratatui's frame, and that each frame was one write.
fn compare(w: u16, h: u16, steps: &[Step]) -> (Wire, Wire) {
    let (wire_sink, xterm_sink) = (Sink::default(), Sink::default());
    let mut wire = Terminal::new(WireBackend::with_size(wire_sink.clone(), w, h)).unwrap();
    let fixed = |w, h| TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
    };
    let mut xterm =
        Terminal::with_options(CrosstermBackend::new(xterm_sink.clone()), fixed(w, h)).unwrap();
    let mut vt_wire = vt100::Parser::new(h, w, 0);
    let mut vt_xterm = vt100::Parser::new(h, w, 0);
    let mut model = Model::new(w, h);
    let (mut fw, mut fx) = (Wire::default(), Wire::default());
    let (mut cw, mut ch) = (w, h);
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Resize(nw, nh) => {
                (cw, ch) = (*nw, *nh);
                vt_wire.set_size(ch, cw);
                vt_xterm.set_size(ch, cw);
                model.resize(cw, ch);
                wire.backend_mut().set_size(cw, ch);
                // CrosstermBackend asks the tty for its size; a new terminal of the new size
                // after a clear is what ratatui's resize amounts to.
                xterm_sink.bytes.borrow_mut().extend_from_slice(b"\x1b[2J");
                xterm = Terminal::with_options(
                    CrosstermBackend::new(xterm_sink.clone()),
                    fixed(cw, ch),
                )
                .unwrap();
            }
            Step::Draw(f) => {
                let frame = wire.draw(|fr| f(fr)).unwrap().buffer.clone();
                let cursor = CURSOR.with(|c| c.get());
                xterm.draw(|fr| f(fr)).unwrap();
                let (wb, wn) = wire_sink.take();
                let (xb, xn) = xterm_sink.take();
                vt_wire.process(&wb);
                vt_xterm.process(&xb);
                model.feed(&wb);
                fw.bytes.push(wb.len());
                fw.writes.push(wn);
                fx.bytes.push(xb.len());
                fx.writes.push(xn);
                assert!(wn <= 1, "frame {i}: {wn} writes");
                same_screen(vt_wire.screen(), vt_xterm.screen(), cw, ch, i);
                model.matches(&frame, i);
                match cursor {
                    Some(p) => {
                        assert!(!vt_wire.screen().hide_cursor(), "frame {i}: cursor hidden");
                        assert_eq!(
                            vt_wire.screen().cursor_position(),
                            (p.y, p.x),
                            "frame {i}: cursor"
                        );
                        assert_eq!(model.cursor_shown, Some(true));
                    }
                    None => {
                        assert!(vt_wire.screen().hide_cursor(), "frame {i}: cursor shown");
                        assert_eq!(model.cursor_shown, Some(false));
                    }
                }
            }
        }
    }
    // What `Terminal`'s drop and the runtime's exit leave behind: default rendition, cursor on.
    wire.backend_mut().finish().unwrap();
    let (tail, _) = wire_sink.take();
    model.feed(&tail);
    assert_eq!(model.pen, Pen::RESET, "rendition not reset at the end");
    assert_eq!(model.cursor_shown, Some(true));
    (fw, fx)
}

thread_local! {
    /// Where the current frame function put the cursor (`Frame` does not expose it).
    static CURSOR: std::cell::Cell<Option<Position>> = const { std::cell::Cell::new(None) };
}

fn same_screen(a: &vt100::Screen, b: &vt100::Screen, w: u16, h: u16, frame: usize) {
    for y in 0..h {
        for x in 0..w {
            let (ca, cb) = (a.cell(y, x).unwrap(), b.cell(y, x).unwrap());
            let key = |c: &vt100::Cell| {
                (
                    c.contents(),
                    c.fgcolor(),
                    c.bgcolor(),
                    c.bold(),
                    c.italic(),
                    c.underline(),
                    c.inverse(),
                    c.is_wide(),
                    c.is_wide_continuation(),
                )
            };
            assert_eq!(
                key(ca),
                key(cb),
                "frame {frame}: cell ({x},{y}) differs (wire vs crossterm)\nwire:\n{}\ncrossterm:\n{}\n{:?}\n{:?}",
                a.contents(),
                b.contents(),
                String::from_utf8_lossy(&a.contents_formatted()),
                String::from_utf8_lossy(&b.contents_formatted()),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The strict model

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    ul: Color,
    m: Modifier,
}

impl Pen {
    const RESET: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        ul: Color::Reset,
        m: Modifier::empty(),
    };
}

/// Colours compared by what reaches the terminal: the 16 names are palette entries 0..=15.
fn norm(c: Color) -> Color {
    let named = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match named.iter().position(|n| *n == c) {
        Some(i) => Color::Indexed(i as u8),
        None => c,
    }
}

#[derive(Clone, Debug)]
struct MCell {
    sym: String,
    pen: Pen,
    /// Covered by the wide symbol to its left.
    cont: bool,
}

struct Model {
    w: u16,
    h: u16,
    grid: Vec<Vec<MCell>>,
    x: u16,
    y: u16,
    /// The column is trusted for relative moves (not after a non-ASCII or wide symbol).
    col_trusted: bool,
    /// The last print filled the last column.
    wrap_pending: bool,
    pen: Pen,
    cursor_shown: Option<bool>,
}

impl Model {
    fn new(w: u16, h: u16) -> Model {
        let mut m = Model {
            w,
            h,
            grid: Vec::new(),
            x: 0,
            y: 0,
            col_trusted: false,
            wrap_pending: false,
            pen: Pen::RESET,
            cursor_shown: None,
        };
        m.erase_all();
        m
    }

    fn blank() -> MCell {
        MCell {
            sym: " ".into(),
            pen: Pen::RESET,
            cont: false,
        }
    }

    fn erase_all(&mut self) {
        self.grid = vec![vec![Model::blank(); usize::from(self.w)]; usize::from(self.h)];
    }

    fn resize(&mut self, w: u16, h: u16) {
        for row in &mut self.grid {
            row.resize(usize::from(w), Model::blank());
        }
        self.grid
            .resize(usize::from(h), vec![Model::blank(); usize::from(w)]);
        (self.w, self.h) = (w, h);
        self.x = self.x.min(w - 1);
        self.y = self.y.min(h - 1);
        self.col_trusted = false;
        self.wrap_pending = false;
    }

    fn relative(&self, what: &str) {
        assert!(
            self.col_trusted && !self.wrap_pending,
            "{what} from an untrusted column or a pending wrap"
        );
    }

    fn feed(&mut self, bytes: &[u8]) {
        let s = std::str::from_utf8(bytes).expect("UTF-8");
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\x1b' => {
                    assert_eq!(chars.next(), Some('['), "ESC not introducing a CSI");
                    let mut params = String::new();
                    let fin = loop {
                        let d = chars.next().expect("unterminated CSI");
                        if ('\x40'..='\x7e').contains(&d) {
                            break d;
                        }
                        params.push(d);
                    };
                    self.csi(&params, fin);
                }
                '\r' => {
                    self.x = 0;
                    self.col_trusted = true;
                    self.wrap_pending = false;
                }
                '\n' => {
                    assert!(self.y + 1 < self.h, "line feed on the last row scrolls");
                    assert!(!self.wrap_pending, "line feed in a pending wrap");
                    self.y += 1;
                }
                '\x08' => {
                    self.relative("BS");
                    self.x = self.x.checked_sub(1).expect("BS at the left edge");
                }
                '\x07' => {}
                c => self.print(c),
            }
        }
    }

    fn print(&mut self, c: char) {
        assert!(!c.is_control(), "raw control {c:?}");
        let mut tmp = [0u8; 4];
        let cw = c.encode_utf8(&mut tmp).cell_width();
        if cw == 0 || (c as u32) == 0x301 {
            // A combining mark joins the symbol to the left.
            let x = if self.wrap_pending {
                self.x
            } else {
                self.x - 1
            };
            self.grid[usize::from(self.y)][usize::from(x)].sym.push(c);
            return;
        }
        assert!(
            !self.wrap_pending,
            "print into a pending wrap (an implicit line wrap)"
        );
        let (x, y) = (usize::from(self.x), usize::from(self.y));
        assert!(
            x + usize::from(cw) <= usize::from(self.w),
            "print past the edge"
        );
        self.grid[y][x] = MCell {
            sym: c.to_string(),
            pen: self.pen,
            cont: false,
        };
        for k in 1..usize::from(cw) {
            self.grid[y][x + k] = MCell {
                sym: String::new(),
                pen: self.pen,
                cont: true,
            };
        }
        let end = self.x + cw;
        if end >= self.w {
            self.x = self.w - 1;
            self.wrap_pending = true;
        } else {
            self.x = end;
        }
        // The backend may trust only ASCII advances for anything but the adjacent cell.
        if !c.is_ascii() {
            self.col_trusted = false;
        }
    }

    fn csi(&mut self, params: &str, fin: char) {
        let nums: Vec<u16> = if params.is_empty() || params.starts_with('?') {
            Vec::new()
        } else {
            params
                .split(';')
                .map(|p| if p.is_empty() { 0 } else { p.parse().unwrap() })
                .collect()
        };
        let n = nums.first().copied().unwrap_or(0).max(1);
        match fin {
            'm' => self.sgr(if nums.is_empty() { vec![0] } else { nums }),
            'H' => {
                let row = nums.first().copied().unwrap_or(1).max(1);
                let col = nums.get(1).copied().unwrap_or(1).max(1);
                assert!(row <= self.h && col <= self.w, "CUP off screen");
                (self.x, self.y) = (col - 1, row - 1);
                self.col_trusted = true;
                self.wrap_pending = false;
            }
            'A' => {
                self.relative("CUU");
                self.y = self.y.checked_sub(n).expect("CUU past the top");
            }
            'B' => {
                self.relative("CUD");
                self.y += n;
                assert!(self.y < self.h, "CUD past the bottom");
            }
            'C' => {
                self.relative("CUF");
                self.x += n;
                assert!(self.x < self.w, "CUF past the edge");
            }
            'D' => {
                self.relative("CUB");
                self.x = self.x.checked_sub(n).expect("CUB past the edge");
            }
            'J' | 'K' => {
                assert_eq!(self.pen, Pen::RESET, "erase with a non-default rendition");
                assert_eq!(params, "2", "only whole-screen erase expected");
                assert_eq!(fin, 'J');
                self.erase_all();
                self.col_trusted = false;
            }
            'h' | 'l' => {
                assert_eq!(params, "?25", "unexpected mode {params}{fin}");
                self.cursor_shown = Some(fin == 'h');
            }
            other => panic!("unexpected CSI {params:?} {other:?}"),
        }
    }

    fn sgr(&mut self, p: Vec<u16>) {
        let mut it = p.into_iter();
        let color = |it: &mut std::vec::IntoIter<u16>| match it.next() {
            Some(5) => Color::Indexed(it.next().unwrap() as u8),
            Some(2) => {
                let (r, g, b) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
                Color::Rgb(r as u8, g as u8, b as u8)
            }
            other => panic!("bad colour {other:?}"),
        };
        while let Some(n) = it.next() {
            let m = &mut self.pen.m;
            match n {
                0 => self.pen = Pen::RESET,
                1 => m.insert(Modifier::BOLD),
                2 => m.insert(Modifier::DIM),
                3 => m.insert(Modifier::ITALIC),
                4 => m.insert(Modifier::UNDERLINED),
                5 => m.insert(Modifier::SLOW_BLINK),
                6 => m.insert(Modifier::RAPID_BLINK),
                7 => m.insert(Modifier::REVERSED),
                8 => m.insert(Modifier::HIDDEN),
                9 => m.insert(Modifier::CROSSED_OUT),
                22 => m.remove(Modifier::BOLD | Modifier::DIM),
                23 => m.remove(Modifier::ITALIC),
                24 => m.remove(Modifier::UNDERLINED),
                25 => m.remove(Modifier::SLOW_BLINK | Modifier::RAPID_BLINK),
                27 => m.remove(Modifier::REVERSED),
                28 => m.remove(Modifier::HIDDEN),
                29 => m.remove(Modifier::CROSSED_OUT),
                38 => self.pen.fg = color(&mut it),
                39 => self.pen.fg = Color::Reset,
                48 => self.pen.bg = color(&mut it),
                49 => self.pen.bg = Color::Reset,
                58 => self.pen.ul = color(&mut it),
                59 => self.pen.ul = Color::Reset,
                other => panic!("unexpected SGR {other}"),
            }
        }
    }

    /// The screen is ratatui's frame: every symbol with its exact rendition.
    fn matches(&self, frame: &Buffer, i: usize) {
        for y in 0..self.h {
            for x in 0..self.w {
                let m = &self.grid[usize::from(y)][usize::from(x)];
                if m.cont {
                    continue;
                }
                let c = &frame[(x, y)];
                let want = Pen {
                    fg: norm(c.fg),
                    bg: norm(c.bg),
                    ul: norm(c.underline_color),
                    m: c.modifier,
                };
                let got = Pen {
                    fg: norm(m.pen.fg),
                    bg: norm(m.pen.bg),
                    ul: norm(m.pen.ul),
                    m: m.pen.m,
                };
                assert_eq!(
                    (m.sym.as_str(), got),
                    (c.symbol(), want),
                    "frame {i}: cell ({x},{y})"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random frames

const SYMBOLS: &[&str] = &[
    "alert",
    "a",
    " ",
    "日本語",
    "経理部-PC01",
    "…",
    "─",
    "│",
    "·",
    "e\u{301}",
    "x",
    "給与",
    "é",
    "#",
    "\\x1b",
    "—",
    "■",
];

fn arb_color() -> impl Strategy<Value = Color> {
    prop_oneof![
        Just(Color::Reset),
        (0u8..16).prop_map(norm_back),
        any::<u8>().prop_map(Color::Indexed),
        (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(r, g, b)| Color::Rgb(r, g, b)),
    ]
}

/// Named colours as ratatui spells them.
fn norm_back(i: u8) -> Color {
    [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ][usize::from(i)]
}

fn arb_style() -> impl Strategy<Value = Style> {
    (
        arb_color(),
        arb_color(),
        0u16..512,
        prop::bool::weighted(0.1),
    )
        .prop_map(|(fg, bg, bits, ul)| {
            let s = Style::default()
                .fg(fg)
                .bg(bg)
                .add_modifier(Modifier::from_bits_truncate(bits));
            // vt100 0.15 reads `58;5;N` as three SGR parameters (N = 1, 3, 4, 7 would set an
            // attribute); 200 means nothing to it. The strict model checks the colour itself.
            if ul {
                s.underline_color(Color::Indexed(200))
            } else {
                s
            }
        })
}

/// (x, y, text, style) strings painted on a frame; an optional cursor.
type Paint = (Vec<(u16, u16, usize, Style)>, Option<(u16, u16)>);

fn arb_frame(w: u16, h: u16) -> impl Strategy<Value = Paint> {
    (
        prop::collection::vec((0..w, 0..h, 0..SYMBOLS.len(), arb_style()), 0..40),
        prop::option::weighted(0.3, (0..w, 0..h)),
    )
}

fn painter(p: &Paint) -> impl Fn(&mut Frame) + '_ {
    move |f: &mut Frame| {
        let area = f.area();
        for (x, y, s, style) in &p.0 {
            if *x < area.width && *y < area.height {
                f.buffer_mut().set_stringn(
                    *x,
                    *y,
                    SYMBOLS[*s],
                    usize::from(area.width - x),
                    *style,
                );
            }
        }
        let cur = p.1.filter(|(x, y)| *x < area.width && *y < area.height);
        CURSOR.with(|c| c.set(cur.map(|(x, y)| Position { x, y })));
        if let Some((x, y)) = cur {
            f.set_cursor_position((x, y));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_frames_look_the_same_as_on_crossterm(
        frames in prop::collection::vec(arb_frame(30, 8), 1..6),
        resized in prop::collection::vec(arb_frame(22, 10), 0..3),
    ) {
        let mut steps: Vec<Step> = frames
            .iter()
            .map(|p| Step::Draw(Box::new(painter(p))))
            .collect();
        if !resized.is_empty() {
            steps.push(Step::Resize(22, 10));
            steps.extend(resized.iter().map(|p| Step::Draw(Box::new(painter(p))) as Step));
        }
        compare(30, 8, &steps);
    }
}

// ---------------------------------------------------------------------------------------------
// The console's own frames

fn ts(s: &str) -> Timestamp {
    format!("2026-11-30T{s}Z").parse().unwrap()
}

fn alert(i: usize, device: &str, process: &str, received: &str, status: &str) -> Alert {
    let received = ts(received);
    Alert {
        id: Some(format!("a{i:03}-3f9c2a")),
        alert_type: Some("CB_ANALYTICS".into()),
        severity: Some(1 + (i as i64 * 3) % 10),
        reason: Some(format!("Suspicious behaviour #{i} seen by the sensor")),
        backend_timestamp: Some(received),
        backend_update_timestamp: Some(received + SignedDuration::from_secs(30)),
        workflow: Some(Workflow {
            status: Some(status.into()),
            change_timestamp: Some(received + SignedDuration::from_secs(30)),
            changed_by_type: Some("USER".into()),
            changed_by: Some("k.sato".into()),
            ..Default::default()
        }),
        device_id: Some(1000 + i as i64),
        device_name: Some(device.into()),
        device_os: Some("WINDOWS".into()),
        process_name: Some(process.into()),
        process_cmdline: Some(format!("\"{process}\" -q")),
        ..Default::default()
    }
}

fn console(theme: &str, size: (u16, u16)) -> App {
    let orgs = vec![
        OrgState::new("Tanaka Seiki", "7DESJ9GN"),
        OrgState::new("Kobe Logistics", "KOBE2LOG"),
    ];
    let settings = Settings {
        display_tz: jiff::tz::TimeZone::UTC,
        ..Default::default()
    };
    let theme = Theme::embedded(theme).unwrap();
    let mut app = App::new(orgs, settings, Keymap::default(), theme, ts("08:59:00"));
    update(&mut app, Msg::Resize(size.0, size.1));
    let rows: Vec<Row> = (0..60)
        .map(|i| {
            let device = match i % 7 {
                0 => "経理部-PC01".to_string(),
                _ => format!("FIN-WS-{i:03}"),
            };
            let process = match i % 11 {
                3 => "C:\\Users\\Public\\evil\u{1b}[2J\u{202e}exe.txt".to_string(),
                _ => format!("C:\\Windows\\System32\\tool{i}.exe"),
            };
            let received = format!("08:{:02}:{:02}", (i * 7) % 60, (i * 13) % 60);
            let status = match i % 9 {
                4 => "CLOSED",
                5 => "IN_PROGRESS",
                _ => "OPEN",
            };
            Row::from_alert(
                (i % 2) as u16,
                &alert(i, &device, &process, &received, status),
            )
            .unwrap()
        })
        .collect();
    for org in 0..2u16 {
        let mine: Vec<Row> = rows.iter().filter(|r| r.key.org == org).cloned().collect();
        update(
            &mut app,
            Msg::Polled {
                org,
                rows: mine,
                at: ts("08:59:00"),
                initial: true,
            },
        );
    }
    update(&mut app, Msg::Tick(ts("09:00:00")));
    app
}

fn tick(a: &mut App) {
    let now = a.now + SignedDuration::from_secs(1);
    update(a, Msg::Tick(now));
}

/// The console's session: first frame, ticks, moves, the help overlay, a status filter, a new
/// minute, then a resize.
fn console_steps(theme: &str, size: (u16, u16)) -> Vec<Step<'static>> {
    let app = Rc::new(RefCell::new(console(theme, size)));
    let changes: [fn(&mut App); 8] = [
        |_| {},
        tick,
        tick,
        |a| {
            run_action(a, Action::MoveDown);
            run_action(a, Action::MoveDown);
        },
        |a| {
            run_action(a, Action::PageDown);
        },
        |a| {
            run_action(a, Action::Help);
        },
        |a| {
            run_action(a, Action::Cancel);
            run_action(a, Action::CycleStatus);
        },
        |a| {
            let now = a.now + SignedDuration::from_secs(61);
            update(a, Msg::Tick(now));
        },
    ];
    let mut steps: Vec<Step> = Vec::new();
    for change in changes {
        let app = app.clone();
        // Each frame function is called twice (wire, then crossterm): change the app once.
        let applied = std::cell::Cell::new(false);
        steps.push(Step::Draw(Box::new(move |f: &mut Frame| {
            if !applied.replace(true) {
                change(&mut app.borrow_mut());
            }
            CURSOR.with(|c| c.set(None));
            socdeck::ui::view(&app.borrow(), f);
        })));
    }
    steps.push(Step::Resize(size.0 * 3 / 5, size.1 * 3 / 4));
    steps.push(Step::Draw(Box::new(move |f: &mut Frame| {
        let area = f.area();
        if app.borrow().size != (area.width, area.height) {
            update(&mut app.borrow_mut(), Msg::Resize(area.width, area.height));
        }
        CURSOR.with(|c| c.set(None));
        socdeck::ui::view(&app.borrow(), f);
    })));
    steps
}

fn console_session(theme: &str, size: (u16, u16)) {
    let steps = console_steps(theme, size);
    let (wire, xterm) = compare(size.0, size.1, &steps);
    let (wb, xb): (usize, usize) = (wire.bytes.iter().sum(), xterm.bytes.iter().sum());
    println!(
        "{theme} {}x{}: wire {wb} B in {} writes, crossterm {xb} B in {} writes; per frame wire {:?} vs {:?}",
        size.0,
        size.1,
        wire.writes.iter().sum::<usize>(),
        xterm.writes.iter().sum::<usize>(),
        wire.bytes,
        xterm.bytes
    );
    // Fewer bytes on every frame that changed something.
    for (i, (w, x)) in wire.bytes.iter().zip(&xterm.bytes).enumerate() {
        assert!(w <= x, "frame {i}: wire {w} B > crossterm {x} B");
    }
    assert!(
        wb * 10 < xb * 8,
        "wire {wb} B is not 20 % below crossterm {xb} B"
    );
}

#[test]
fn console_frames_look_the_same_as_on_crossterm_200x50() {
    console_session("default", (200, 50));
}

#[test]
fn console_frames_look_the_same_as_on_crossterm_80x24_mono() {
    console_session("mono", (80, 24));
}

#[test]
fn console_frames_look_the_same_as_on_crossterm_light() {
    console_session("light", (120, 40));
}

/// The model is strict: it catches the moves the backend must never make.
#[test]
fn model_refuses_unsafe_moves() {
    let bad: &[&[u8]] = &[
        b"\x1b[1;10Hx\xe2\x80\xa6\x1b[2C", // relative move after a non-ASCII symbol
        b"\x1b[1;10H\xe6\x97\xa5\x1b[B",   // vertical move after a wide symbol
        b"\x1b[1;5Habcdef",                // prints past the last column
        b"\x1b[1;9Hx\x1b[D",               // CUB from a pending wrap
        b"\x1b[1;9Hx\x08",                 // BS from a pending wrap
        b"\x1b[3;1H\n",                    // line feed on the last row
        b"\x1b[31mX\x1b[2J",               // erase with a colour set
        b"\x1b[1;1H\x07\x1b[5n",           // an unknown sequence
    ];
    for b in bad {
        let r = std::panic::catch_unwind(|| {
            let mut m = Model::new(9, 3);
            m.feed(b);
        });
        assert!(r.is_err(), "{:?} was accepted", String::from_utf8_lossy(b));
    }
    let mut m = Model::new(9, 3);
    m.feed(b"\x1b[2;3Hab\x1b[C\x1b[1;2;38;5;9mc\r\n\x1b[2C\xe6\x97\xa5\r\x1b[Ad\n\x08e");
    assert_eq!(m.grid[1][2].sym, "a");
    assert_eq!(m.grid[1][5].sym, "c");
    assert_eq!(m.grid[1][5].pen.fg, Color::Indexed(9));
    assert_eq!(m.grid[2][2].sym, "日");
    assert_eq!(m.grid[1][0].sym, "d");
    assert_eq!(m.grid[2][0].sym, "e");
}
