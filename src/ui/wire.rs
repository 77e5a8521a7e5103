//! A byte-frugal terminal backend. Every byte the console writes crosses the analyst's SSH link,
//! and an idle queue redraws its countdowns every second, so the encoding matters:
//!
//! * cursor moves are the shortest of absolute (CUP) and relative (LF, BS, CR, CUF/CUB/CUD/CUU)
//!   for where the terminal's cursor really is. LF moves straight down only with output
//!   post-processing off: the backend assumes raw mode, as the console runs (a countdown one row
//!   down is then `\n\x08`, two bytes, where `CrosstermBackend` sends `\x1b[12;11H`);
//! * the SGR state (colours, modifiers) is carried across cells and frames: only what changes is
//!   sent, as one sequence (or a reset plus the new state, when that is shorter);
//! * the cursor is hidden or shown only when that changes;
//! * a frame is buffered whole and goes out in one `write` on [`Backend::flush`];
//! * the terminal size is cached until [`WireBackend::invalidate_size`] (a resize event).
//!
//! Colours use exactly the encodings `CrosstermBackend` uses (`38;5;N`, `38;2;R;G;B`), so the
//! screen is the same cell for cell (tests/wire_backend.rs compares both on `vt100`); only the
//! framing is cheaper.
//!
//! Robustness matches `CrosstermBackend`'s: the column after a non-ASCII symbol follows ratatui's
//! width table, which a terminal may not share, so it is trusted only for the adjacent cell
//! (as `CrosstermBackend` does); any other move from there starts with CR or is absolute. After
//! a print into the last column the terminal holds a pending wrap, which only CR or an absolute
//! move end predictably.

use std::cell::Cell as StdCell;
use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::{Cell, CellWidth};
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};

/// What the terminal's cursor position is known to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Unknown,
    /// Exactly here.
    At(u16, u16),
    /// Here by ratatui's width table after a non-ASCII symbol: good for the adjacent cell only.
    After(u16, u16),
    /// On this row, column unknown (after a wide symbol) or a wrap pending (after the last
    /// column): only CR or an absolute move are safe.
    Row(u16),
}

/// The rendition the terminal applies to what is printed next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    underline: Color,
    modifier: Modifier,
}

impl Pen {
    const RESET: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        underline: Color::Reset,
        modifier: Modifier::empty(),
    };

    fn of(cell: &Cell) -> Pen {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            underline: cell.underline_color,
            modifier: cell.modifier,
        }
    }
}

/// Where the size comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SizeSource {
    /// The controlling terminal (ioctl), cached.
    Terminal,
    /// Fixed by the owner (tests, benchmarks).
    Fixed,
}

/// A [`Backend`] that writes as few bytes and `write` calls as it can; see the module docs.
pub struct WireBackend<W: Write> {
    out: W,
    buf: Vec<u8>,
    cursor: Cursor,
    /// `None` until the first SGR: the terminal's state is not known then.
    pen: Option<Pen>,
    cursor_shown: Option<bool>,
    size: StdCell<Option<Size>>,
    source: SizeSource,
}

impl<W: Write> WireBackend<W> {
    /// A backend for the real terminal `out` writes to (its size is asked of the tty).
    pub fn new(out: W) -> Self {
        WireBackend {
            out,
            buf: Vec::with_capacity(16 * 1024),
            cursor: Cursor::Unknown,
            pen: None,
            cursor_shown: None,
            size: StdCell::new(None),
            source: SizeSource::Terminal,
        }
    }

    /// A backend of a fixed size (no tty involved): for tests and benchmarks.
    pub fn with_size(out: W, width: u16, height: u16) -> Self {
        let mut b = WireBackend::new(out);
        b.source = SizeSource::Fixed;
        b.size.set(Some(Size { width, height }));
        b
    }

    /// The terminal was resized: ask its size again, and trust no cursor position (terminals
    /// that reflow move the cursor).
    pub fn invalidate_size(&mut self) {
        if self.source == SizeSource::Terminal {
            self.size.set(None);
        }
        self.cursor = Cursor::Unknown;
    }

    /// Sets the size of a fixed-size backend (a simulated resize).
    pub fn set_size(&mut self, width: u16, height: u16) {
        self.size.set(Some(Size { width, height }));
        self.cursor = Cursor::Unknown;
    }

    pub fn writer(&self) -> &W {
        &self.out
    }

    /// Before leaving: default rendition and a visible cursor, written now. An error means the
    /// terminal is gone.
    pub fn finish(&mut self) -> io::Result<()> {
        self.set_pen(Pen::RESET);
        self.cursor_visibility(true);
        Backend::flush(self)
    }

    fn width(&self) -> u16 {
        self.size().map_or(0, |s| s.width)
    }

    fn cursor_visibility(&mut self, shown: bool) {
        if self.cursor_shown != Some(shown) {
            self.buf
                .extend_from_slice(if shown { b"\x1b[?25h" } else { b"\x1b[?25l" });
            self.cursor_shown = Some(shown);
        }
    }

    /// Moves the terminal's cursor to (x, y) with the fewest bytes.
    fn move_to(&mut self, x: u16, y: u16) {
        let (cx, cy, col_known) = match self.cursor {
            Cursor::At(cx, cy) if (cx, cy) == (x, y) => return,
            Cursor::After(cx, cy) if (cx, cy) == (x, y) => return,
            Cursor::At(cx, cy) => (cx, cy, true),
            Cursor::After(_, cy) | Cursor::Row(cy) => (0, cy, false),
            Cursor::Unknown => {
                cup(&mut self.buf, x, y);
                self.cursor = Cursor::At(x, y);
                return;
            }
        };
        // Absolute, or relative: vertical (LF / CUD / CUU keep the column), then horizontal
        // (BS / CUB / CUF, or CR and CUF). Without a trusted column, relative starts with CR.
        let cr = usize::from(!col_known);
        let rel = cr + vertical_len(cy, y) + horizontal_len(cx, x);
        if cup_len(x, y) <= rel {
            cup(&mut self.buf, x, y);
        } else {
            if !col_known {
                self.buf.push(b'\r');
            }
            vertical(&mut self.buf, cy, y);
            horizontal(&mut self.buf, cx, x);
        }
        self.cursor = Cursor::At(x, y);
    }

    /// Switches the rendition to `to`: only the changes, or a reset plus `to` when shorter.
    fn set_pen(&mut self, to: Pen) {
        if self.pen == Some(to) {
            return;
        }
        let mut params: Vec<u8> = Vec::with_capacity(32);
        match self.pen {
            Some(from) => {
                let mut diff = Vec::with_capacity(32);
                pen_diff(&mut diff, from, to);
                let mut reset = Vec::with_capacity(32);
                reset.push(b'0');
                pen_diff(&mut reset, Pen::RESET, to);
                params = if reset.len() < diff.len() {
                    reset
                } else {
                    diff
                };
            }
            None => {
                params.push(b'0');
                pen_diff(&mut params, Pen::RESET, to);
            }
        }
        self.buf.extend_from_slice(b"\x1b[");
        self.buf.extend_from_slice(&params);
        self.buf.push(b'm');
        self.pen = Some(to);
    }
}

/// `;`-separated SGR parameters taking the rendition from `from` to `to`.
fn pen_diff(out: &mut Vec<u8>, from: Pen, to: Pen) {
    let param = |out: &mut Vec<u8>, p: &[u8]| {
        if !out.is_empty() {
            out.push(b';');
        }
        out.extend_from_slice(p);
    };
    let removed = from.modifier - to.modifier;
    let added = to.modifier - from.modifier;
    let intensity = Modifier::BOLD | Modifier::DIM;
    let blink = Modifier::SLOW_BLINK | Modifier::RAPID_BLINK;
    // 22 ends bold and dim together, 25 both blinks: re-add the one that stays.
    let (on_intensity, on_blink) = (
        if removed.intersects(intensity) {
            param(out, b"22");
            to.modifier & intensity
        } else {
            added & intensity
        },
        if removed.intersects(blink) {
            param(out, b"25");
            to.modifier & blink
        } else {
            added & blink
        },
    );
    for (m, off) in [
        (Modifier::ITALIC, &b"23"[..]),
        (Modifier::UNDERLINED, b"24"),
        (Modifier::REVERSED, b"27"),
        (Modifier::HIDDEN, b"28"),
        (Modifier::CROSSED_OUT, b"29"),
    ] {
        if removed.contains(m) {
            param(out, off);
        }
    }
    let on = on_intensity | on_blink | (added - intensity - blink);
    for (m, code) in [
        (Modifier::BOLD, &b"1"[..]),
        (Modifier::DIM, b"2"),
        (Modifier::ITALIC, b"3"),
        (Modifier::UNDERLINED, b"4"),
        (Modifier::SLOW_BLINK, b"5"),
        (Modifier::RAPID_BLINK, b"6"),
        (Modifier::REVERSED, b"7"),
        (Modifier::HIDDEN, b"8"),
        (Modifier::CROSSED_OUT, b"9"),
    ] {
        if on.contains(m) {
            param(out, code);
        }
    }
    for (a, b, base) in [
        (from.fg, to.fg, 38u8),
        (from.bg, to.bg, 48),
        (from.underline, to.underline, 58),
    ] {
        if a != b {
            if !out.is_empty() {
                out.push(b';');
            }
            color(out, b, base);
        }
    }
}

/// A colour as `CrosstermBackend` encodes it (the 16 named colours as `5;N` palette entries).
fn color(out: &mut Vec<u8>, c: Color, base: u8) {
    let idx = |out: &mut Vec<u8>, n: u8| {
        let _ = write!(out, "{base};5;{n}");
    };
    match c {
        Color::Reset => {
            let _ = write!(out, "{}", base + 1);
        }
        Color::Black => idx(out, 0),
        Color::Red => idx(out, 1),
        Color::Green => idx(out, 2),
        Color::Yellow => idx(out, 3),
        Color::Blue => idx(out, 4),
        Color::Magenta => idx(out, 5),
        Color::Cyan => idx(out, 6),
        Color::Gray => idx(out, 7),
        Color::DarkGray => idx(out, 8),
        Color::LightRed => idx(out, 9),
        Color::LightGreen => idx(out, 10),
        Color::LightYellow => idx(out, 11),
        Color::LightBlue => idx(out, 12),
        Color::LightMagenta => idx(out, 13),
        Color::LightCyan => idx(out, 14),
        Color::White => idx(out, 15),
        Color::Indexed(n) => idx(out, n),
        Color::Rgb(r, g, b) => {
            let _ = write!(out, "{base};2;{r};{g};{b}");
        }
    }
}

fn digits(n: u16) -> usize {
    match n {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        _ => 5,
    }
}

/// Length of `CSI n X` (the count is left out when it is 1, its default).
fn csi_len(n: u16) -> usize {
    if n == 1 { 3 } else { 3 + digits(n) }
}

fn csi(buf: &mut Vec<u8>, n: u16, fin: u8) {
    buf.extend_from_slice(b"\x1b[");
    if n != 1 {
        let _ = write!(buf, "{n}");
    }
    buf.push(fin);
}

/// Length of CUP to (x, y), defaults (1) left out.
fn cup_len(x: u16, y: u16) -> usize {
    match (x, y) {
        (0, 0) => 3,
        (0, y) => 3 + digits(y + 1),
        (x, y) => 4 + digits(y + 1) + digits(x + 1),
    }
}

fn cup(buf: &mut Vec<u8>, x: u16, y: u16) {
    let _ = match (x, y) {
        (0, 0) => buf.write_all(b"\x1b[H"),
        (0, y) => write!(buf, "\x1b[{}H", y + 1),
        (x, y) => write!(buf, "\x1b[{};{}H", y + 1, x + 1),
    };
}

/// Bytes to go from row `from` to `to` in the same column: LF (raw mode: no CR is added, and
/// never on the last row, so it never scrolls), CUD or CUU.
fn vertical_len(from: u16, to: u16) -> usize {
    match to.cmp(&from) {
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => usize::from(to - from).min(csi_len(to - from)),
        std::cmp::Ordering::Less => csi_len(from - to),
    }
}

fn vertical(buf: &mut Vec<u8>, from: u16, to: u16) {
    match to.cmp(&from) {
        std::cmp::Ordering::Equal => {}
        std::cmp::Ordering::Greater => {
            let n = to - from;
            if usize::from(n) <= csi_len(n) {
                buf.extend(std::iter::repeat_n(b'\n', usize::from(n)));
            } else {
                csi(buf, n, b'B');
            }
        }
        std::cmp::Ordering::Less => csi(buf, from - to, b'A'),
    }
}

/// How to go from column `from` to `to` on the same row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Horizontal {
    Stay,
    /// CR, then CUF to `to` unless it is 0.
    Return,
    /// `n` backspaces.
    Backspace(u16),
    Csi(u16, u8),
}

fn horizontal_plan(from: u16, to: u16) -> (usize, Horizontal) {
    if from == to {
        return (0, Horizontal::Stay);
    }
    let ret = (
        if to == 0 { 1 } else { 1 + csi_len(to) },
        Horizontal::Return,
    );
    let rel = if to > from {
        (csi_len(to - from), Horizontal::Csi(to - from, b'C'))
    } else {
        let n = from - to;
        let bs = (usize::from(n), Horizontal::Backspace(n));
        let cub = (csi_len(n), Horizontal::Csi(n, b'D'));
        if bs.0 <= cub.0 { bs } else { cub }
    };
    if rel.0 <= ret.0 { rel } else { ret }
}

fn horizontal_len(from: u16, to: u16) -> usize {
    horizontal_plan(from, to).0
}

fn horizontal(buf: &mut Vec<u8>, from: u16, to: u16) {
    match horizontal_plan(from, to).1 {
        Horizontal::Stay => {}
        Horizontal::Return => {
            buf.push(b'\r');
            if to > 0 {
                csi(buf, to, b'C');
            }
        }
        Horizontal::Backspace(n) => buf.extend(std::iter::repeat_n(b'\x08', usize::from(n))),
        Horizontal::Csi(n, fin) => csi(buf, n, fin),
    }
}

impl<W: Write> Write for WireBackend<W> {
    /// Raw bytes (the bell) join the buffered frame; they must not move the cursor.
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(self)
    }
}

impl<W: Write> Backend for WireBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let width = self.width();
        for (x, y, cell) in content {
            self.move_to(x, y);
            // Printing on from an untrusted column (the cell adjacent to a non-ASCII symbol)
            // leaves the column as untrusted as it was.
            let trusted = matches!(self.cursor, Cursor::At(..));
            self.set_pen(Pen::of(cell));
            let sym = cell.symbol();
            // A control character in a cell would act on the terminal (the sanitiser keeps
            // them out; this is the second line): it shows as U+FFFD instead, so the only CR,
            // LF and BS on the wire are this backend's own moves.
            let clean = !sym.chars().any(char::is_control);
            if clean {
                self.buf.extend_from_slice(sym.as_bytes());
            } else {
                for c in sym.chars() {
                    let c = if c.is_control() { '\u{fffd}' } else { c };
                    self.buf
                        .extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
            if !clean {
                self.cursor = Cursor::Unknown;
                continue;
            }
            let w = cell.cell_width();
            let end = x.saturating_add(w);
            self.cursor = if end >= width || w != 1 {
                Cursor::Row(y)
            } else if trusted && sym.is_ascii() {
                Cursor::At(end, y)
            } else {
                Cursor::After(end, y)
            };
        }
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.cursor_visibility(false);
        Ok(())
    }

    /// Buffered like everything else: [`WireBackend::finish`] or the next flush writes it.
    fn show_cursor(&mut self) -> io::Result<()> {
        self.cursor_visibility(true);
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        match (self.cursor, self.source) {
            (Cursor::At(x, y), _) => Ok(Position { x, y }),
            (_, SizeSource::Terminal) => {
                Backend::flush(self)?;
                let (x, y) = crossterm::cursor::position().map_err(io::Error::other)?;
                self.cursor = Cursor::At(x, y);
                Ok(Position { x, y })
            }
            (_, SizeSource::Fixed) => Ok(Position::ORIGIN),
        }
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let Position { x, y } = position.into();
        self.move_to(x, y);
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        // Erasing fills with the current background: erase in the default rendition, as
        // `CrosstermBackend` does (it resets after every frame).
        self.set_pen(Pen::RESET);
        self.buf.extend_from_slice(match clear_type {
            ClearType::All => b"\x1b[2J",
            ClearType::AfterCursor => b"\x1b[J",
            ClearType::BeforeCursor => b"\x1b[1J",
            ClearType::CurrentLine => b"\x1b[2K",
            ClearType::UntilNewLine => b"\x1b[K",
        });
        // Erasing ends a pending wrap on some terminals and not others.
        if let Cursor::Row(_) | Cursor::After(..) = self.cursor {
            self.cursor = Cursor::Unknown;
        }
        Ok(())
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        for _ in 0..n {
            self.buf.push(b'\n');
        }
        self.cursor = Cursor::Unknown;
        Backend::flush(self)
    }

    fn size(&self) -> io::Result<Size> {
        if let Some(s) = self.size.get() {
            return Ok(s);
        }
        let (width, height) = crossterm::terminal::size()?;
        let s = Size { width, height };
        self.size.set(Some(s));
        Ok(s)
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        match self.source {
            SizeSource::Terminal => {
                let w = crossterm::terminal::window_size()?;
                Ok(WindowSize {
                    columns_rows: Size {
                        width: w.columns,
                        height: w.rows,
                    },
                    pixels: Size {
                        width: w.width,
                        height: w.height,
                    },
                })
            }
            SizeSource::Fixed => Ok(WindowSize {
                columns_rows: self.size()?,
                pixels: Size::default(),
            }),
        }
    }

    /// The frame goes out in one `write` (the writer must not split it: see [`Tty`]).
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = self.out.write_all(&self.buf).and_then(|_| self.out.flush());
        self.buf.clear();
        result
    }
}

impl<W: Write> Drop for WireBackend<W> {
    /// What `Terminal`'s drop queued (a visible cursor) still goes out; a dead terminal is not
    /// reported (there is nowhere to report it).
    fn drop(&mut self) {
        let _ = Backend::flush(self);
    }
}

/// Standard output without `Stdout`'s line buffering, which would split a frame at its last
/// line feed into two `write`s.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tty;

impl Write for Tty {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        loop {
            // SAFETY: a valid buffer of `data.len()` bytes; fd 1 is ours for the process's life.
            let n = unsafe { libc::write(libc::STDOUT_FILENO, data.as_ptr().cast(), data.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(from: Cursor, x: u16, y: u16) -> String {
        let mut b = WireBackend::with_size(Vec::new(), 200, 50);
        b.cursor = from;
        b.move_to(x, y);
        String::from_utf8(b.buf.clone()).unwrap()
    }

    #[test]
    fn moves_are_the_shortest_form() {
        assert_eq!(moved(Cursor::At(10, 5), 10, 5), "");
        assert_eq!(moved(Cursor::At(10, 5), 11, 5), "\x1b[C");
        assert_eq!(moved(Cursor::At(10, 5), 7, 5), "\x08\x08\x08");
        assert_eq!(moved(Cursor::At(10, 5), 2, 5), "\x1b[8D");
        assert_eq!(moved(Cursor::At(10, 5), 0, 5), "\r");
        // The countdown column, one row down: LF keeps the column in raw mode.
        assert_eq!(moved(Cursor::At(11, 5), 10, 6), "\n\x08");
        assert_eq!(moved(Cursor::At(10, 5), 0, 6), "\n\r");
        assert_eq!(moved(Cursor::At(10, 5), 10, 10), "\x1b[5B");
        assert_eq!(moved(Cursor::At(10, 9), 10, 5), "\x1b[4A");
        assert_eq!(moved(Cursor::At(150, 45), 1, 46), "\n\r\x1b[C");
        assert_eq!(moved(Cursor::At(150, 5), 2, 40), "\x1b[41;3H");
        assert_eq!(moved(Cursor::At(150, 5), 0, 0), "\x1b[H");
        assert_eq!(moved(Cursor::Unknown, 4, 2), "\x1b[3;5H");
        // No relative column after a wide symbol or a pending wrap: CR first, or absolute.
        assert_eq!(moved(Cursor::Row(5), 3, 5), "\r\x1b[3C");
        assert_eq!(moved(Cursor::Row(5), 0, 6), "\r\n");
        assert_eq!(moved(Cursor::After(8, 5), 8, 5), "");
        assert_eq!(moved(Cursor::After(8, 5), 9, 5), "\r\x1b[9C");
    }

    #[test]
    fn control_characters_in_cells_never_reach_the_wire() {
        let mut b = WireBackend::with_size(Vec::new(), 10, 2);
        let cells: Vec<Cell> = ["\n", "\x1b", "\r", "\x08", "\u{9b}", "a"]
            .iter()
            .map(|s| {
                let mut c = Cell::default();
                c.set_symbol(s);
                c
            })
            .collect();
        b.draw(cells.iter().enumerate().map(|(i, c)| (i as u16, 1, c)))
            .unwrap();
        let out = String::from_utf8(b.buf.clone()).unwrap();
        // Only the backend's own sequences: a CUP to each cell (no position is trusted after
        // a replaced symbol) and an SGR reset.
        assert_eq!(
            out,
            "\x1b[2H\x1b[0m\u{fffd}\x1b[2;2H\u{fffd}\x1b[2;3H\u{fffd}\x1b[2;4H\u{fffd}\x1b[2;5H\u{fffd}\x1b[2;6Ha"
        );
    }

    fn sgr(from: Option<Pen>, to: Pen) -> String {
        let mut b = WireBackend::with_size(Vec::new(), 10, 1);
        b.pen = from;
        b.set_pen(to);
        String::from_utf8(b.buf.clone()).unwrap()
    }

    #[test]
    fn sgr_sends_only_changes_in_one_sequence() {
        let red_bold = Pen {
            fg: Color::Red,
            modifier: Modifier::BOLD,
            ..Pen::RESET
        };
        assert_eq!(sgr(None, red_bold), "\x1b[0;1;38;5;1m");
        assert_eq!(sgr(Some(red_bold), red_bold), "");
        assert_eq!(
            sgr(
                Some(red_bold),
                Pen {
                    modifier: Modifier::BOLD | Modifier::REVERSED,
                    ..red_bold
                }
            ),
            "\x1b[7m"
        );
        // Bold off while dim stays: 22 ends both, dim comes back.
        assert_eq!(
            sgr(
                Some(Pen {
                    modifier: Modifier::BOLD | Modifier::DIM | Modifier::ITALIC,
                    ..Pen::RESET
                }),
                Pen {
                    modifier: Modifier::DIM | Modifier::ITALIC,
                    ..Pen::RESET
                }
            ),
            "\x1b[22;2m"
        );
        // Everything off: a reset is shorter than five offs.
        let busy = Pen {
            fg: Color::Rgb(1, 2, 3),
            bg: Color::Indexed(200),
            underline: Color::Reset,
            modifier: Modifier::ITALIC | Modifier::UNDERLINED | Modifier::REVERSED,
        };
        assert_eq!(sgr(Some(busy), Pen::RESET), "\x1b[0m");
    }
}
