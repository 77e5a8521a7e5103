//! Themes: every style the UI draws with, named by a [`Slot`], loaded from TOML.
//!
//! ```toml
//! name = "default"
//! # inherits = "mono"            # optional (user themes): start from this built-in theme
//!
//! [styles]
//! band_warning = { fg = "yellow", bg = "reset", modifiers = ["bold", "reversed"] }
//! muted = "dark_gray"           # shorthand for { fg = "dark_gray" }
//! ```
//!
//! Colours: `black`, `red`, `green`, `yellow`, `blue`, `magenta`, `cyan`, `gray`, `dark_gray`,
//! `light_red`, `light_green`, `light_yellow`, `light_blue`, `light_magenta`, `light_cyan`,
//! `white` (the 16 ANSI colours), `reset` (the terminal's own colour), `#rrggbb`, and `0`–`255`
//! (the 256-colour palette). Modifiers: `bold`, `dim`, `italic`, `underlined`, `slow_blink`,
//! `rapid_blink`, `reversed`, `hidden`, `crossed_out`.
//!
//! An entry replaces the whole style of its slot. A theme file may set only some slots; the
//! others come from the built-in theme of the same name, else from `inherits`, else from the
//! built-in `default`. Built-in themes (embedded in the binary): `default` (dark background),
//! `light`, `high-contrast` and `mono` (modifiers only). They use only the 16 ANSI colours, so
//! they work on 16-colour terminals. A user theme `<config dir>/themes/NAME.toml` shadows the
//! built-in theme of the same name (per slot) or adds a new name.
//!
//! With `NO_COLOR` every colour is dropped and modifiers are kept ([`Theme::without_color`]).
//! Every built-in theme keeps the SLA bands, the selected row and escapes distinguishable by
//! modifiers alone, and the UI never relies on colour alone (bands also show a word).
//!
//! The UI patches styles from the outside in: `base`, then the row (`row`, `row_alt`,
//! `row_selected`, `row_flagged`), then the cell (`band_*`, `level_*`, ...). A slot that sets
//! no colour therefore shows the colour of what it is drawn on.

use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use toml::de::{DeTable, DeValue};

use super::check::{ConfigWarning, Source, did_you_mean, read_ui_file, valid_name};

macro_rules! slots {
    ($( $variant:ident => $name:literal, $doc:literal; )*) => {
        /// A style the UI uses. Its name is the key under `[styles]` in theme files.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Slot { $( #[doc = $doc] $variant, )* }

        impl Slot {
            /// Every slot, in theme-file order.
            pub const ALL: &'static [Slot] = &[ $( Slot::$variant, )* ];
            /// The number of slots.
            pub const COUNT: usize = Slot::ALL.len();

            /// The key in theme files.
            pub fn name(self) -> &'static str {
                match self { $( Slot::$variant => $name, )* }
            }

            /// What the slot styles.
            pub fn description(self) -> &'static str {
                match self { $( Slot::$variant => $doc, )* }
            }

            pub fn from_name(s: &str) -> Option<Slot> {
                match s { $( $name => Some(Slot::$variant), )* _ => None }
            }
        }
    };
}

slots! {
    Base => "base", "Everything not styled otherwise (screen background and text)";
    Header => "header", "The header bar";
    HeaderTitle => "header_title", "The product name and screen title in the header";
    OrgOk => "org_ok", "An org whose last poll succeeded recently";
    OrgStale => "org_stale", "An org not polled successfully for a while";
    OrgError => "org_error", "An org whose polls fail";
    Border => "border", "Borders and separators";
    TableHeader => "table_header", "Column titles of the queue";
    Row => "row", "A queue row";
    RowAlt => "row_alt", "Every other queue row (zebra); patched over row";
    RowSelected => "row_selected", "The selected row";
    RowFlagged => "row_flagged", "A flag mark in a row (e.g. the alert text holds hidden characters)";
    Escape => "escape", "Visible escapes of control, bidi and zero-width characters in alert text";
    BandNormal => "band_normal", "An SLA clock with plenty of time left";
    BandWarning => "band_warning", "An SLA clock in its warning band";
    BandCritical => "band_critical", "An SLA clock in its critical band";
    BandBreached => "band_breached", "An SLA clock past its deadline";
    ClockStopped => "clock_stopped", "An SLA clock that is stopped (report sent)";
    LevelHigh => "level_high", "Triage level high";
    LevelMedium => "level_medium", "Triage level medium";
    LevelLow => "level_low", "Triage level low";
    LevelFalsePositive => "level_false_positive", "Triage level false positive";
    SeverityHigh => "severity_high", "A high CBC severity";
    SeverityMedium => "severity_medium", "A medium CBC severity";
    SeverityLow => "severity_low", "A low CBC severity";
    StatusOpen => "status_open", "Workflow status open";
    StatusInProgress => "status_in_progress", "Workflow status in progress";
    StatusClosed => "status_closed", "Workflow status closed";
    Muted => "muted", "Secondary text (timestamps, hints, empty values)";
    BadgePaused => "badge_paused", "The PAUSED badge (live reordering paused)";
    BadgeReadOnly => "badge_read_only", "The READ-ONLY badge";
    ToastInfo => "toast_info", "An information message";
    ToastWarning => "toast_warning", "A warning message";
    ToastError => "toast_error", "An error message";
    HelpKey => "help_key", "Keys on the help screen";
    HelpDescription => "help_description", "Action descriptions on the help screen";
    HelpSection => "help_section", "Section titles on the help screen";
    Palette => "palette", "The command palette";
    PaletteSelected => "palette_selected", "The selected command in the palette";
    Filter => "filter", "The filter input and active filter indicators";
    PreviewLabel => "preview_label", "Field names in the preview";
    PreviewValue => "preview_value", "Field values in the preview";
}

/// Built-in themes: name and file text.
const EMBEDDED: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// The names of the built-in themes.
pub fn embedded_theme_names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _)| *n).collect()
}

/// A complete set of styles: one [`Style`] per [`Slot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// The theme's name (the file name without `.toml`).
    pub name: String,
    styles: [Style; Slot::COUNT],
}

impl Default for Theme {
    /// The built-in `default` theme.
    fn default() -> Self {
        Theme::embedded("default").unwrap_or_else(|| Theme::plain("default"))
    }
}

impl Theme {
    /// A theme where every slot is the terminal's plain style.
    pub fn plain(name: &str) -> Theme {
        Theme {
            name: name.to_owned(),
            styles: [Style::new(); Slot::COUNT],
        }
    }

    /// A built-in theme by name.
    pub fn embedded(name: &str) -> Option<Theme> {
        let (_, text) = EMBEDDED.iter().find(|(n, _)| *n == name)?;
        let mut theme = if name == "default" {
            Theme::plain(name)
        } else {
            Theme::default()
        };
        theme.name = name.to_owned();
        let path = embedded_path(name);
        let src = Source { path: &path, text };
        let mut warnings = Vec::new();
        // The tests keep the built-in files free of warnings.
        if let Ok(doc) = src.parse("built-in theme ignored") {
            apply(&mut theme, &doc, &src, &mut warnings);
        }
        debug_assert!(warnings.is_empty(), "{warnings:?}");
        Some(theme)
    }

    /// Parses a theme file. Its name is the file name without `.toml`; slots it does not set
    /// come from the built-in theme named by `inherits`, else the built-in theme of the same
    /// name, else `default`. Never fails: problems are returned as warnings, a bad entry is
    /// skipped, and a file with a TOML syntax error is ignored as a whole.
    pub fn from_toml(text: &str, path: &Path) -> (Theme, Vec<ConfigWarning>) {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "default".to_owned());
        let src = Source { path, text };
        let base_for = |name: &str| {
            let mut t = Theme::embedded(name).unwrap_or_default();
            t.name = name.to_owned();
            t
        };
        let mut warnings = Vec::new();
        let doc = match src.parse(&format!(
            "the file is ignored and the built-in {} theme is used",
            if Theme::embedded(&name).is_some() {
                &name
            } else {
                "default"
            }
        )) {
            Ok(doc) => doc,
            Err(w) => return (base_for(&name), vec![w]),
        };
        let mut theme = base_for(&name);
        if let Some((k, v)) = doc.get_key_value("inherits") {
            match v.get_ref().as_str() {
                Some(parent) if Theme::embedded(parent).is_some() => {
                    theme = Theme::embedded(parent).unwrap_or_default();
                    theme.name = name.clone();
                }
                Some(parent) => warnings.push(src.warn(
                    v.span().start,
                    format!(
                        "inherits = \"{parent}\": no such built-in theme ({}){}; ignored",
                        embedded_theme_names().join(", "),
                        did_you_mean(parent, embedded_theme_names())
                    ),
                )),
                None => warnings.push(src.warn(
                    k.span().start,
                    "inherits must be the name of a built-in theme, as a string; ignored",
                )),
            }
        }
        apply(&mut theme, &doc, &src, &mut warnings);
        (theme, warnings)
    }

    /// The style of a slot.
    pub fn style(&self, slot: Slot) -> Style {
        self.styles[slot as usize]
    }

    /// Replaces the style of a slot.
    pub fn set(&mut self, slot: Slot, style: Style) {
        self.styles[slot as usize] = style;
    }

    /// The theme without colours (for `NO_COLOR`): foreground, background and underline
    /// colours dropped, modifiers kept.
    pub fn without_color(&self) -> Theme {
        let mut out = self.clone();
        for s in &mut out.styles {
            *s = strip_color(*s);
        }
        out
    }

    /// True when no slot sets a colour.
    pub fn is_colorless(&self) -> bool {
        self.styles.iter().all(|s| strip_color(*s) == *s)
    }
}

fn strip_color(s: Style) -> Style {
    let mut out = Style::new();
    out.add_modifier = s.add_modifier;
    out.sub_modifier = s.sub_modifier;
    out
}

fn embedded_path(name: &str) -> PathBuf {
    PathBuf::from(format!("(built in) themes/{name}.toml"))
}

/// Loads the theme `name` for the console. Never fails.
///
/// `<config_dir>/themes/<name>.toml`, when it exists, is used over the built-in theme of the
/// same name (slots it leaves out come from that built-in theme). An unknown name, an
/// unreadable file or a TOML syntax error gives a warning and the built-in theme (of that
/// name, else `default`); a bad entry gives a warning and the slot keeps its built-in style.
/// With `no_color` (the `NO_COLOR` environment variable, see [`super::no_color`]) the result
/// has no colours.
pub fn load_theme(name: &str, config_dir: &Path, no_color: bool) -> (Theme, Vec<ConfigWarning>) {
    let (theme, warnings) = load_theme_colored(name, config_dir);
    if no_color {
        (theme.without_color(), warnings)
    } else {
        (theme, warnings)
    }
}

fn load_theme_colored(name: &str, config_dir: &Path) -> (Theme, Vec<ConfigWarning>) {
    let themes_dir = config_dir.join("themes");
    if !valid_name(name) {
        let w = ConfigWarning::file(
            &themes_dir,
            format!(
                "theme name {name:?} is not valid (letters, digits, `-` and `_`); using the built-in default theme"
            ),
        );
        return (Theme::default(), vec![w]);
    }
    let path = themes_dir.join(format!("{name}.toml"));
    match read_ui_file(&path) {
        Ok(Some(text)) => Theme::from_toml(&text, &path),
        Ok(None) => match Theme::embedded(name) {
            Some(t) => (t, Vec::new()),
            None => {
                let names = embedded_theme_names();
                let w = ConfigWarning::file(
                    &path,
                    format!(
                        "no theme named `{name}`: it is not built in ({}){} and this file does not exist; using the built-in default theme",
                        names.join(", "),
                        did_you_mean(name, names.iter().copied())
                    ),
                );
                (Theme::default(), vec![w])
            }
        },
        Err(mut w) => {
            let fallback = Theme::embedded(name).unwrap_or_default();
            w.message = format!("{}; using the built-in {} theme", w.message, fallback.name);
            (fallback, vec![w])
        }
    }
}

const TOP_KEYS: &[&str] = &["name", "inherits", "styles"];
const STYLE_KEYS: &[&str] = &["fg", "bg", "modifiers"];

/// Applies a parsed theme document onto `theme`: each valid `[styles]` entry replaces its slot.
fn apply(
    theme: &mut Theme,
    doc: &DeTable<'_>,
    src: &Source<'_>,
    warnings: &mut Vec<ConfigWarning>,
) {
    let mut top: Vec<_> = doc.iter().collect();
    top.sort_by_key(|(k, _)| k.span().start);
    for (k, v) in top {
        let key: &str = k.get_ref();
        match key {
            "name" => match v.get_ref().as_str() {
                Some(n) if n == theme.name => {}
                Some(n) => warnings.push(src.warn(
                    v.span().start,
                    format!(
                        "name = \"{n}\" differs from the file name; the theme is called `{}`",
                        theme.name
                    ),
                )),
                None => warnings.push(src.warn(v.span().start, "name must be a string")),
            },
            "inherits" => {} // handled by the caller
            "styles" => match v.get_ref() {
                DeValue::Table(styles) => {
                    let mut entries: Vec<_> = styles.iter().collect();
                    entries.sort_by_key(|(k, _)| k.span().start);
                    for (sk, sv) in entries {
                        let slot_name: &str = sk.get_ref();
                        let Some(slot) = Slot::from_name(slot_name) else {
                            warnings.push(src.warn(
                                sk.span().start,
                                format!(
                                    "unknown style `{slot_name}`{}; ignored",
                                    did_you_mean(slot_name, Slot::ALL.iter().map(|s| s.name()))
                                ),
                            ));
                            continue;
                        };
                        if let Some(style) = parse_style(slot, sv, src, warnings) {
                            theme.set(slot, style);
                        }
                    }
                }
                _ => warnings
                    .push(src.warn(v.span().start, "styles must be a table ([styles]); ignored")),
            },
            other => warnings.push(src.warn(
                k.span().start,
                format!(
                    "unknown key `{other}` ignored (a theme has {}){}",
                    TOP_KEYS.join(", "),
                    did_you_mean(other, TOP_KEYS.iter().copied())
                ),
            )),
        }
    }
}

type Spanned<'i> = toml::Spanned<DeValue<'i>>;

/// One `[styles]` entry: `"colour"` (foreground) or `{ fg, bg, modifiers }`. `None` (with a
/// warning) when a value is wrong: the slot then keeps the style it had.
fn parse_style(
    slot: Slot,
    v: &Spanned<'_>,
    src: &Source<'_>,
    warnings: &mut Vec<ConfigWarning>,
) -> Option<Style> {
    let keep = |what: String| format!("{what}; `{}` keeps its built-in style", slot.name());
    let table = match v.get_ref() {
        DeValue::String(s) => {
            return match parse_color(s) {
                Ok(c) => Some(Style::new().fg(c)),
                Err(e) => {
                    warnings.push(src.warn(v.span().start, keep(e)));
                    None
                }
            };
        }
        DeValue::Table(t) => t,
        other => {
            warnings.push(src.warn(
                v.span().start,
                keep(format!(
                    "a style is {{ fg = \"...\", bg = \"...\", modifiers = [...] }} or a colour, not a {}",
                    other.type_str()
                )),
            ));
            return None;
        }
    };
    let mut style = Style::new();
    let mut ok = true;
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    for (k, val) in entries {
        let key: &str = k.get_ref();
        match key {
            "fg" | "bg" => match color_value(val.get_ref()) {
                Ok(c) => {
                    style = if key == "fg" {
                        style.fg(c)
                    } else {
                        style.bg(c)
                    };
                }
                Err(e) => {
                    warnings.push(src.warn(val.span().start, keep(format!("{key}: {e}"))));
                    ok = false;
                }
            },
            "modifiers" => {
                let items: Vec<&Spanned<'_>> = match val.get_ref() {
                    DeValue::Array(a) => a.iter().collect(),
                    DeValue::String(_) => vec![val],
                    _ => {
                        warnings.push(src.warn(
                            val.span().start,
                            keep(
                                "modifiers must be a list such as [\"bold\", \"reversed\"]".into(),
                            ),
                        ));
                        ok = false;
                        continue;
                    }
                };
                for item in items {
                    match item.get_ref().as_str().map(parse_modifier) {
                        Some(Ok(m)) => style = style.add_modifier(m),
                        Some(Err(e)) => {
                            warnings.push(src.warn(item.span().start, keep(e)));
                            ok = false;
                        }
                        None => {
                            warnings.push(src.warn(
                                item.span().start,
                                keep("a modifier must be a string such as \"bold\"".into()),
                            ));
                            ok = false;
                        }
                    }
                }
            }
            other => warnings.push(src.warn(
                k.span().start,
                format!(
                    "unknown key `{other}` in style `{}` ignored (a style has fg, bg, modifiers){}",
                    slot.name(),
                    did_you_mean(other, STYLE_KEYS.iter().copied())
                ),
            )),
        }
    }
    ok.then_some(style)
}

fn color_value(v: &DeValue<'_>) -> Result<Color, String> {
    match v {
        DeValue::String(s) => parse_color(s),
        DeValue::Integer(i) => {
            let n = i64::from_str_radix(i.as_str(), i.radix()).ok();
            match n.and_then(|n| u8::try_from(n).ok()) {
                Some(n) => Ok(Color::Indexed(n)),
                None => Err(format!("colour number {} is outside 0-255", i.as_str())),
            }
        }
        other => Err(format!(
            "a colour is a name, \"#rrggbb\" or 0-255, not a {}",
            other.type_str()
        )),
    }
}

const COLORS: &[(&str, Color)] = &[
    ("reset", Color::Reset),
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("dark_gray", Color::DarkGray),
    ("light_red", Color::LightRed),
    ("light_green", Color::LightGreen),
    ("light_yellow", Color::LightYellow),
    ("light_blue", Color::LightBlue),
    ("light_magenta", Color::LightMagenta),
    ("light_cyan", Color::LightCyan),
    ("white", Color::White),
];

/// A colour as written in theme files: a name (see the module documentation; `-` may be
/// written for `_` and `grey` for `gray`), `#rrggbb`, or `0`–`255`.
pub fn parse_color(s: &str) -> Result<Color, String> {
    let norm = s
        .trim()
        .to_ascii_lowercase()
        .replace(['-', ' '], "_")
        .replace("grey", "gray");
    if let Some((_, c)) = COLORS.iter().find(|(n, _)| *n == norm) {
        return Ok(*c);
    }
    if let Some(hex) = norm.strip_prefix('#') {
        if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let v = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
            let [_, r, g, b] = v.to_be_bytes();
            return Ok(Color::Rgb(r, g, b));
        }
        return Err(format!("colour {s:?} is not #rrggbb"));
    }
    if !norm.is_empty() && norm.bytes().all(|b| b.is_ascii_digit()) {
        return norm
            .parse::<u8>()
            .map(Color::Indexed)
            .map_err(|_| format!("colour number {s} is outside 0-255"));
    }
    let hint = did_you_mean(&norm, COLORS.iter().map(|(n, _)| *n));
    Err(if hint.is_empty() {
        format!(
            "unknown colour {s:?} (colours: {}, #rrggbb, 0-255)",
            COLORS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!("unknown colour {s:?}{hint}")
    })
}

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("slow_blink", Modifier::SLOW_BLINK),
    ("rapid_blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed_out", Modifier::CROSSED_OUT),
];

/// A modifier name (`bold`, `reversed`, ...; `-` may be written for `_`).
pub fn parse_modifier(s: &str) -> Result<Modifier, String> {
    let norm = s.trim().to_ascii_lowercase().replace('-', "_");
    let norm = match norm.as_str() {
        "underline" => "underlined".to_owned(),
        "reverse" => "reversed".to_owned(),
        _ => norm,
    };
    MODIFIERS
        .iter()
        .find(|(n, _)| *n == norm)
        .map(|(_, m)| *m)
        .ok_or_else(|| {
            let hint = did_you_mean(&norm, MODIFIERS.iter().map(|(n, _)| *n));
            if hint.is_empty() {
                format!(
                    "unknown modifier {s:?} (modifiers: {})",
                    MODIFIERS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!("unknown modifier {s:?}{hint}")
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots_in(text: &str) -> Vec<String> {
        let doc = DeTable::parse(text).unwrap().into_inner();
        match doc.get("styles").map(|v| v.get_ref()) {
            Some(DeValue::Table(t)) => t.keys().map(|k| k.get_ref().to_string()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn slot_names_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for (i, s) in Slot::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
            assert!(seen.insert(s.name()));
            assert_eq!(Slot::from_name(s.name()), Some(*s));
            assert!(!s.description().is_empty());
        }
        assert_eq!(Slot::COUNT, Slot::ALL.len());
        assert_eq!(Slot::from_name("nope"), None);
    }

    #[test]
    fn every_builtin_theme_sets_every_slot() {
        // Built-in themes are complete on their own: nothing silently comes from `default`.
        for (name, text) in EMBEDDED {
            let set = slots_in(text);
            for s in Slot::ALL {
                assert!(
                    set.iter().any(|n| n == s.name()),
                    "{name} lacks {}",
                    s.name()
                );
            }
        }
    }

    #[test]
    fn colours() {
        assert_eq!(parse_color("yellow"), Ok(Color::Yellow));
        assert_eq!(parse_color("Dark-Grey"), Ok(Color::DarkGray));
        assert_eq!(parse_color("light_magenta"), Ok(Color::LightMagenta));
        assert_eq!(parse_color("reset"), Ok(Color::Reset));
        assert_eq!(parse_color("#ff8000"), Ok(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("208"), Ok(Color::Indexed(208)));
        assert!(parse_color("256").unwrap_err().contains("0-255"));
        assert!(parse_color("#ff80").is_err());
        assert!(
            parse_color("yelow")
                .unwrap_err()
                .contains("did you mean `yellow`")
        );
        assert_eq!(
            color_value(&DeValue::parse("12").unwrap().into_inner()),
            Ok(Color::Indexed(12))
        );
        assert!(color_value(&DeValue::parse("300").unwrap().into_inner()).is_err());
        assert!(color_value(&DeValue::parse("true").unwrap().into_inner()).is_err());
    }

    #[test]
    fn modifiers() {
        assert_eq!(parse_modifier("bold"), Ok(Modifier::BOLD));
        assert_eq!(parse_modifier("crossed-out"), Ok(Modifier::CROSSED_OUT));
        assert_eq!(parse_modifier("underline"), Ok(Modifier::UNDERLINED));
        assert!(parse_modifier("blod").unwrap_err().contains("`bold`"));
    }

    #[test]
    fn string_shorthand_and_entry_replaces_slot() {
        let (t, w) = Theme::from_toml(
            "[styles]\nmuted = \"dark_gray\"\nband_warning = { modifiers = \"bold\" }\n",
            Path::new("/x/new.toml"),
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(t.style(Slot::Muted), Style::new().fg(Color::DarkGray));
        // The whole slot is replaced: no colour left from the default theme.
        assert_eq!(
            t.style(Slot::BandWarning),
            Style::new().add_modifier(Modifier::BOLD)
        );
        assert_eq!(t.style(Slot::Header), Theme::default().style(Slot::Header));
    }

    #[test]
    fn inherits_a_builtin() {
        let (t, w) = Theme::from_toml(
            "inherits = \"mono\"\n[styles]\nband_breached = { fg = \"red\", modifiers = [\"reversed\"] }\n",
            Path::new("/x/mine.toml"),
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(t.name, "mine");
        let mono = Theme::embedded("mono").unwrap();
        assert_eq!(t.style(Slot::Header), mono.style(Slot::Header));
        assert_eq!(
            t.style(Slot::BandBreached),
            Style::new().fg(Color::Red).add_modifier(Modifier::REVERSED)
        );
        let (_, w) = Theme::from_toml("inherits = \"mnoo\"\n", Path::new("/x/mine.toml"));
        assert_eq!(w.len(), 1);
        assert!(w[0].message.contains("did you mean `mono`"), "{}", w[0]);
    }
}
