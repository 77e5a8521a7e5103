//! Keymaps: which key runs which [`Action`] on which screen ([`Mode`]), loaded from TOML.
//!
//! ```toml
//! [global]                 # every screen, unless the screen binds the same key itself
//! "q" = "quit"
//! "ctrl-c" = "quit"
//!
//! [queue]
//! "j" = "move_down"
//! "down" = "move_down"
//! "G" = "last"             # an uppercase letter implies Shift
//! "x" = "none"             # "none" unbinds the key (here: also hides a [global] x)
//! ```
//!
//! Keys: a single character (`q`, `G`, `?`, `/`, `:`), or `ctrl-`, `alt-`, `shift-` followed by
//! a key, or a named key: `enter`, `esc`, `tab`, `backtab` (= `shift-tab`), `space`,
//! `backspace`, `delete`, `insert`, `up`, `down`, `left`, `right`, `pageup`, `pagedown`,
//! `home`, `end`, `f1`–`f12`. Names are case-insensitive; `ctrl-C` is `ctrl-c` (terminals
//! cannot tell them apart). Values: an action name (see [`Action`]) or `"none"`.
//!
//! Built-in keymaps (embedded): `default` and `vim`; `[ui] keymap` picks one. A file
//! `<config dir>/keymaps/NAME.toml` shadows the built-in keymap of that name per key, or adds
//! a new name (based on `default`). Then `<config dir>/keymap.toml`, when it exists, merges
//! per key onto whichever keymap was chosen: bind a key to change it, bind it to `"none"` to
//! unbind it; every other key keeps its binding.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use toml::de::{DeTable, DeValue};

use super::check::{ConfigWarning, Source, did_you_mean, read_ui_file, valid_name};
use crate::app::action::{Action, Mode};

/// One key with its modifiers, normalised so that what the user writes, what help shows and
/// what the terminal reports compare equal:
///
/// * a character never carries `SHIFT`: `G` is Shift+g whether or not the terminal reports
///   SHIFT, and `?` is `?` on every keyboard layout;
/// * with `CONTROL`, letters are lowercase (`Ctrl-C` = `ctrl-c` = Ctrl+Shift+C);
/// * Shift+Tab is `BackTab`.
///
/// Build it with [`KeyBinding::new`], [`KeyBinding::parse`] or [`KeyBinding::from_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyBinding {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyBinding {
    /// A binding, normalised (see the type documentation).
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> KeyBinding {
        let mut code = code;
        let mut mods = modifiers;
        match code {
            KeyCode::Char(c) => {
                if mods.contains(KeyModifiers::CONTROL) && c.is_ascii_alphabetic() {
                    code = KeyCode::Char(c.to_ascii_lowercase());
                } else if mods.contains(KeyModifiers::SHIFT) && c.is_lowercase() {
                    let mut up = c.to_uppercase();
                    if let (Some(u), None) = (up.next(), up.next()) {
                        code = KeyCode::Char(u);
                    }
                }
                mods.remove(KeyModifiers::SHIFT);
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                code = KeyCode::BackTab;
                mods.remove(KeyModifiers::SHIFT);
            }
            KeyCode::BackTab => mods.remove(KeyModifiers::SHIFT),
            _ => {}
        }
        KeyBinding {
            code,
            modifiers: mods,
        }
    }

    /// The binding a key event stands for.
    pub fn from_event(ev: &KeyEvent) -> KeyBinding {
        KeyBinding::new(ev.code, ev.modifiers)
    }

    /// Whether the key event is this key (release events never match).
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        ev.kind != KeyEventKind::Release
            && KeyBinding::from_event(ev) == KeyBinding::new(self.code, self.modifiers)
    }

    /// Parses the keymap-file syntax (`q`, `G`, `ctrl-c`, `alt-x`, `shift-up`, `pagedown`,
    /// `f1`, ...). Also accepts what [`fmt::Display`] prints (`Ctrl-C`, `PgDn`, `Shift-Tab`).
    pub fn parse(s: &str) -> Result<KeyBinding, String> {
        if s.is_empty() {
            return Err("empty key".to_owned());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        while let Some((head, tail)) = split_modifier(rest) {
            let m = match head.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => KeyModifiers::CONTROL,
                "alt" | "meta" => KeyModifiers::ALT,
                "shift" => KeyModifiers::SHIFT,
                _ => break,
            };
            if mods.contains(m) {
                return Err(format!("key {s:?} repeats {head}"));
            }
            mods |= m;
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() => KeyCode::Char(c),
            _ => named_key(rest).ok_or_else(|| {
                format!(
                    "unknown key {s:?} (a key is one character, or ctrl-/alt-/shift- and a key, or one of \
                     enter, esc, tab, backtab, space, backspace, delete, insert, up, down, left, right, \
                     pageup, pagedown, home, end, f1-f12)"
                )
            })?,
        };
        Ok(KeyBinding::new(code, mods))
    }

    /// Sort key for help: plain characters, then named keys, then combinations.
    fn rank(&self) -> (u8, u8, String) {
        let combo = u8::from(!self.modifiers.is_empty());
        let named = u8::from(!matches!(self.code, KeyCode::Char(c) if c != ' '));
        (combo, named, self.to_string())
    }
}

/// `ctrl-x` → `("ctrl", "x")`; also `ctrl+x`. `None` when there is no separator followed by a
/// key (so `-` and `ctrl--` work).
fn split_modifier(s: &str) -> Option<(&str, &str)> {
    let i = s.find(['-', '+'])?;
    if i == 0 || i + 1 >= s.len() {
        return None;
    }
    Some((&s[..i], &s[i + 1..]))
}

fn named_key(s: &str) -> Option<KeyCode> {
    let lower = s.to_ascii_lowercase();
    Some(match lower.as_str() {
        "enter" | "return" | "ret" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" | "spc" => KeyCode::Char(' '),
        "backspace" | "bs" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pageup" | "pgup" | "page_up" => KeyCode::PageUp,
        "pagedown" | "pgdn" | "pgdown" | "page_down" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        f if f.starts_with('f') && f.len() > 1 => {
            let n: u8 = f[1..].parse().ok()?;
            if !(1..=24).contains(&n) || f[1..].starts_with('0') {
                return None;
            }
            KeyCode::F(n)
        }
        _ => return None,
    })
}

impl fmt::Display for KeyBinding {
    /// For help and the palette: `q`, `G`, `?`, `Ctrl-C`, `Alt-x`, `Shift-Tab`, `PgDn`, `F1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = KeyBinding::new(self.code, self.modifiers);
        for (m, name) in [
            (KeyModifiers::CONTROL, "Ctrl-"),
            (KeyModifiers::ALT, "Alt-"),
            (KeyModifiers::SHIFT, "Shift-"),
            (KeyModifiers::SUPER, "Super-"),
            (KeyModifiers::HYPER, "Hyper-"),
            (KeyModifiers::META, "Meta-"),
        ] {
            if k.modifiers.contains(m) {
                f.write_str(name)?;
            }
        }
        match k.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if k.modifiers.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Up => f.write_str("Up"),
            KeyCode::Down => f.write_str("Down"),
            KeyCode::Left => f.write_str("Left"),
            KeyCode::Right => f.write_str("Right"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl FromStr for KeyBinding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyBinding::parse(s)
    }
}

/// Built-in keymaps: name and file text.
const EMBEDDED: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

/// The names of the built-in keymaps.
pub fn embedded_keymap_names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _)| *n).collect()
}

/// Key bindings per [`Mode`]. A key bound to `None` is explicitly unbound (`"none"` in a
/// file): it does nothing in that mode, even if `[global]` binds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// The keymap's name (`default`, `vim`, or a user keymap's file name).
    pub name: String,
    sections: BTreeMap<Mode, Vec<(KeyBinding, Option<Action>)>>,
}

impl Default for Keymap {
    /// The built-in `default` keymap.
    fn default() -> Self {
        Keymap::embedded("default").unwrap_or_else(|| Keymap::empty("default"))
    }
}

impl Keymap {
    /// A keymap with no bindings.
    pub fn empty(name: &str) -> Keymap {
        Keymap {
            name: name.to_owned(),
            sections: BTreeMap::new(),
        }
    }

    /// A built-in keymap by name, exactly as its file says (not merged onto anything).
    pub fn embedded(name: &str) -> Option<Keymap> {
        let (_, text) = EMBEDDED.iter().find(|(n, _)| *n == name)?;
        let path = PathBuf::from(format!("(built in) keymaps/{name}.toml"));
        let (km, warnings) = Keymap::parse_toml(name, text, &path);
        // The tests keep the built-in files free of warnings.
        debug_assert!(warnings.is_empty(), "{warnings:?}");
        Some(km)
    }

    /// Parses a keymap file on its own (onto an empty keymap). Never fails: each bad entry is
    /// skipped with a warning; a file with a TOML syntax error gives one warning and no
    /// bindings.
    pub fn parse_toml(name: &str, text: &str, path: &Path) -> (Keymap, Vec<ConfigWarning>) {
        let mut km = Keymap::empty(name);
        let warnings = km.merge_toml(text, path);
        (km, warnings)
    }

    /// Merges a keymap file onto this keymap, per key: each key the file binds replaces the
    /// binding of that key in that mode (`"none"` unbinds it); other keys are kept. Never
    /// fails: each bad entry is skipped with a warning; a file with a TOML syntax error is
    /// ignored as a whole (one warning, nothing changed).
    pub fn merge_toml(&mut self, text: &str, path: &Path) -> Vec<ConfigWarning> {
        let src = Source { path, text };
        match src.parse("the file is ignored") {
            Ok(doc) => {
                let mut warnings = Vec::new();
                self.apply(&doc, &src, &mut warnings);
                warnings
            }
            Err(w) => vec![w],
        }
    }

    /// A user keymap file `keymaps/NAME.toml`: merged onto the built-in keymap of the same
    /// name, else onto `default`.
    pub(crate) fn from_user_toml(text: &str, path: &Path) -> (Keymap, Vec<ConfigWarning>) {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "default".to_owned());
        let mut km = Keymap::embedded(&name).unwrap_or_default();
        km.name = name;
        let warnings = km.merge_toml(text, path);
        (km, warnings)
    }

    /// Binds `key` to `action` in `mode` (`None`: explicitly unbound), replacing what the key
    /// did in that mode.
    pub fn bind(&mut self, mode: Mode, key: KeyBinding, action: Option<Action>) {
        let key = KeyBinding::new(key.code, key.modifiers);
        let section = self.sections.entry(mode).or_default();
        match section.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = action,
            None => section.push((key, action)),
        }
    }

    /// The bindings of one section (`[global]`, `[queue]`) in the order they were made; `None`
    /// marks a key explicitly unbound there.
    pub fn section(&self, mode: Mode) -> &[(KeyBinding, Option<Action>)] {
        self.sections.get(&mode).map_or(&[], Vec::as_slice)
    }

    /// What `key` does in `mode`: the mode's own binding, else the `[global]` one.
    /// `Some(None)` when the key is explicitly unbound.
    fn binding(&self, mode: Mode, key: &KeyBinding) -> Option<Option<Action>> {
        let find = |m: Mode| {
            self.sections
                .get(&m)
                .and_then(|s| s.iter().find(|(k, _)| k == key))
                .map(|(_, a)| *a)
        };
        find(mode).or_else(|| {
            if mode == Mode::Global {
                None
            } else {
                find(Mode::Global)
            }
        })
    }

    /// The action a key press runs in `mode`: the mode's binding first, then `[global]`.
    /// Release events run nothing.
    pub fn lookup(&self, mode: Mode, ev: &KeyEvent) -> Option<Action> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        self.binding(mode, &KeyBinding::from_event(ev)).flatten()
    }

    /// Every key bound to `action` in any section, for help and the palette (plain keys
    /// first).
    pub fn keys_for(&self, action: Action) -> Vec<KeyBinding> {
        let mut keys: Vec<KeyBinding> = Vec::new();
        for section in self.sections.values() {
            for (k, a) in section {
                if *a == Some(action) && !keys.contains(k) {
                    keys.push(*k);
                }
            }
        }
        keys.sort_by_key(KeyBinding::rank);
        keys
    }

    /// The keys that run `action` in `mode` (taking `[global]` and shadowing into account).
    pub fn keys_in(&self, mode: Mode, action: Action) -> Vec<KeyBinding> {
        let mut keys: Vec<KeyBinding> = Vec::new();
        for m in [mode, Mode::Global] {
            for (k, a) in self.sections.get(&m).into_iter().flatten() {
                if *a == Some(action)
                    && !keys.contains(k)
                    && self.binding(mode, k) == Some(Some(action))
                {
                    keys.push(*k);
                }
            }
        }
        keys.sort_by_key(KeyBinding::rank);
        keys
    }

    /// For the help screen and the palette: every action available in `mode` (the mode's own
    /// actions and the global ones, in [`Action::ALL`] order) with the keys that run it there.
    /// An action without a key is listed with none (it is still reachable from the palette).
    pub fn help_entries(&self, mode: Mode) -> Vec<(Action, Vec<KeyBinding>)> {
        Action::ALL
            .iter()
            .filter(|a| a.mode() == mode || a.mode() == Mode::Global)
            .map(|a| (*a, self.keys_in(mode, *a)))
            .collect()
    }

    fn apply(&mut self, doc: &DeTable<'_>, src: &Source<'_>, warnings: &mut Vec<ConfigWarning>) {
        let mut top: Vec<_> = doc.iter().collect();
        top.sort_by_key(|(k, _)| k.span().start);
        let section_names = || Mode::ALL.iter().map(|m| m.name());
        for (k, v) in top {
            let key: &str = k.get_ref();
            if key == "name" && v.get_ref().is_str() {
                continue;
            }
            let Some(mode) = Mode::from_name(key) else {
                warnings.push(src.warn(
                    k.span().start,
                    format!(
                        "unknown section [{key}] ignored (sections: {}){}",
                        section_names().collect::<Vec<_>>().join(", "),
                        did_you_mean(key, section_names())
                    ),
                ));
                continue;
            };
            let DeValue::Table(table) = v.get_ref() else {
                warnings.push(src.warn(
                    v.span().start,
                    format!("[{key}] must be a table of \"key\" = \"action\"; ignored"),
                ));
                continue;
            };
            let mut entries: Vec<_> = table.iter().collect();
            entries.sort_by_key(|(k, _)| k.span().start);
            // Keys bound by this file in this section, to report two spellings of one key.
            let mut seen: Vec<(KeyBinding, String, usize)> = Vec::new();
            for (kk, kv) in entries {
                let key_text: &str = kk.get_ref();
                let binding = match KeyBinding::parse(key_text) {
                    Ok(b) => b,
                    Err(e) => {
                        warnings.push(src.warn(kk.span().start, format!("{e}; ignored")));
                        continue;
                    }
                };
                let Some(value) = kv.get_ref().as_str() else {
                    warnings.push(src.warn(
                        kv.span().start,
                        format!(
                            "\"{key_text}\" must be bound to an action name or \"none\", not a {}; ignored",
                            kv.get_ref().type_str()
                        ),
                    ));
                    continue;
                };
                let action = if value == "none" {
                    None
                } else {
                    let Some(a) = Action::from_name(value) else {
                        warnings.push(src.warn(
                            kv.span().start,
                            format!(
                                "unknown action `{value}`{}; \"{key_text}\" ignored",
                                did_you_mean(value, Action::ALL.iter().map(|a| a.name()))
                            ),
                        ));
                        continue;
                    };
                    if a.mode() != mode && a.mode() != Mode::Global {
                        warnings.push(src.warn(
                            kv.span().start,
                            format!(
                                "`{value}` works on the {} screen only: bind it in [{}], not [{key}]; ignored",
                                a.mode().name(),
                                a.mode().name()
                            ),
                        ));
                        continue;
                    }
                    Some(a)
                };
                if let Some((_, first, line)) = seen.iter().find(|(b, _, _)| *b == binding) {
                    warnings.push(src.warn(
                        kk.span().start,
                        format!(
                            "\"{key_text}\" is the same key as \"{first}\" on line {line} of [{key}]; this later binding wins"
                        ),
                    ));
                } else {
                    let (line, _) = super::file::line_col(src.text, kk.span().start);
                    seen.push((binding, key_text.to_owned(), line));
                }
                self.bind(mode, binding, action);
            }
        }
    }
}

/// Loads the keymap `name` for the console. Never fails.
///
/// The base is `<config_dir>/keymaps/<name>.toml` merged onto the built-in keymap of that name
/// (or `default`), else the built-in keymap `name`. Then `<config_dir>/keymap.toml`, when it
/// exists, is merged per key. An unknown name, an unreadable file or a TOML syntax error gives
/// a warning and that file is ignored; a bad entry gives a warning and is skipped.
pub fn load_keymap(name: &str, config_dir: &Path) -> (Keymap, Vec<ConfigWarning>) {
    let mut warnings = Vec::new();
    let dir = config_dir.join("keymaps");
    let mut km = if !valid_name(name) {
        warnings.push(ConfigWarning::file(
            &dir,
            format!(
                "keymap name {name:?} is not valid (letters, digits, `-` and `_`); using the built-in default keymap"
            ),
        ));
        Keymap::default()
    } else {
        let path = dir.join(format!("{name}.toml"));
        match read_ui_file(&path) {
            Ok(Some(text)) => {
                let (km, w) = Keymap::from_user_toml(&text, &path);
                warnings.extend(w);
                km
            }
            Ok(None) => match Keymap::embedded(name) {
                Some(km) => km,
                None => {
                    let names = embedded_keymap_names();
                    warnings.push(ConfigWarning::file(
                        &path,
                        format!(
                            "no keymap named `{name}`: it is not built in ({}){} and this file does not exist; using the built-in default keymap",
                            names.join(", "),
                            did_you_mean(name, names.iter().copied())
                        ),
                    ));
                    Keymap::default()
                }
            },
            Err(mut w) => {
                let km = Keymap::embedded(name).unwrap_or_default();
                w.message = format!("{}; using the built-in {} keymap", w.message, km.name);
                warnings.push(w);
                km
            }
        }
    };
    let user = config_dir.join("keymap.toml");
    match read_ui_file(&user) {
        Ok(Some(text)) => warnings.extend(km.merge_toml(&text, &user)),
        Ok(None) => {}
        Err(mut w) => {
            w.message = format!("{}; the file is ignored", w.message);
            warnings.push(w);
        }
    }
    (km, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> KeyBinding {
        KeyBinding::parse(s).unwrap()
    }

    #[test]
    fn parse_forms() {
        assert_eq!(
            k("q"),
            KeyBinding::new(KeyCode::Char('q'), KeyModifiers::NONE)
        );
        assert_eq!(
            k("G"),
            KeyBinding::new(KeyCode::Char('G'), KeyModifiers::NONE)
        );
        assert_eq!(k("shift-g"), k("G"));
        assert_eq!(
            k("ctrl-c"),
            KeyBinding::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
        );
        assert_eq!(k("Ctrl-C"), k("ctrl-c"));
        assert_eq!(k("ctrl+c"), k("ctrl-c"));
        assert_eq!(k("ctrl-shift-c"), k("ctrl-c"));
        assert_eq!(
            k("alt-x"),
            KeyBinding::new(KeyCode::Char('x'), KeyModifiers::ALT)
        );
        assert_ne!(k("alt-X"), k("alt-x"));
        assert_eq!(
            k("-"),
            KeyBinding::new(KeyCode::Char('-'), KeyModifiers::NONE)
        );
        assert_eq!(
            k("ctrl--"),
            KeyBinding::new(KeyCode::Char('-'), KeyModifiers::CONTROL)
        );
        assert_eq!(
            k("+"),
            KeyBinding::new(KeyCode::Char('+'), KeyModifiers::NONE)
        );
        assert_eq!(k("space"), k(" "));
        assert_eq!(k("backtab"), k("shift-tab"));
        assert_eq!(k("backtab").code, KeyCode::BackTab);
        assert_eq!(k("shift-up").modifiers, KeyModifiers::SHIFT);
        assert_eq!(k("PgDn"), k("pagedown"));
        assert_eq!(k("f12").code, KeyCode::F(12));
        assert_eq!(k("あ").code, KeyCode::Char('あ'));
        for bad in [
            "",
            "ctrl-",
            "hyper-x",
            "f0",
            "f25",
            "f01",
            "enterr",
            "ctrl-ctrl-c",
            "\u{1b}",
        ] {
            assert!(KeyBinding::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn display() {
        assert_eq!(k("ctrl-c").to_string(), "Ctrl-C");
        assert_eq!(k("pagedown").to_string(), "PgDn");
        assert_eq!(k("backtab").to_string(), "Shift-Tab");
        assert_eq!(k("G").to_string(), "G");
        assert_eq!(k("space").to_string(), "Space");
        assert_eq!(k("alt-x").to_string(), "Alt-x");
        assert_eq!(k("shift-up").to_string(), "Shift-Up");
    }

    #[test]
    fn help_order() {
        let mut v = [k("ctrl-c"), k("down"), k("q"), k("j")];
        v.sort_by_key(KeyBinding::rank);
        let s: Vec<String> = v.iter().map(|b| b.to_string()).collect();
        assert_eq!(s, ["j", "q", "Down", "Ctrl-C"]);
    }

    #[test]
    fn wrong_mode_and_duplicate_spelling_warn() {
        let text = "[global]\n\"j\" = \"cycle_org\"\n[queue]\n\"G\" = \"last\"\n\"shift-g\" = \"first\"\n\"x\" = \"quit\"\n";
        let (km, w) = Keymap::parse_toml("t", text, Path::new("/k.toml"));
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(w[0].line, Some(2));
        assert!(w[0].message.contains("[queue]"), "{}", w[0]);
        assert_eq!(w[1].line, Some(5));
        assert!(w[1].message.contains("line 4"), "{}", w[1]);
        let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(km.lookup(Mode::Queue, &ev), Some(Action::First));
        // A global action may be bound on a screen.
        let ev = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(km.lookup(Mode::Queue, &ev), Some(Action::Quit));
        assert_eq!(km.lookup(Mode::Global, &ev), None);
    }
}
