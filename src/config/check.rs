//! `socdeck --check-config`: everything the console would load, validated in one pass, plus the
//! small pieces theme and keymap loading share (the warning type, file reading, suggestions).
//!
//! The console itself never stops on a broken theme, keymap or config entry: it uses the
//! built-in default for what is broken and shows a [`ConfigWarning`]. `--check-config` runs the
//! same loaders, so it prints exactly the messages the console would show, and fails when
//! there is any.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::env::Env;
use super::error::ConfigError;
use super::file::{Config, line_col, load_config};
use super::keymap::{self, Keymap};
use super::paths::config_path;
use super::rules::Rules;
use super::theme::{self, Theme};
use super::{CredentialArgs, resolve_orgs};

/// A problem found in a theme, keymap or config file. The console shows it and carries on with
/// defaults for what is broken. Displays as `path:line:col: message` (or `path: message` when
/// the problem is the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub path: PathBuf,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    pub message: String,
}

impl ConfigWarning {
    /// A warning about the file as a whole.
    pub fn file(path: &Path, message: impl Into<String>) -> ConfigWarning {
        ConfigWarning {
            path: path.to_owned(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigWarning {
    /// Control, bidi and zero-width characters (from a file's content or name) are shown as
    /// `\u{..}` escapes, never sent to the terminal raw.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", printable(&self.path.display().to_string()))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", printable(&self.message))
    }
}

/// `s` with control, bidi-override and zero-width characters replaced by `\u{..}` escapes:
/// messages quote what files contain, and a file may contain an escape sequence.
pub(crate) fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let hidden = c.is_control()
            || matches!(c,
                '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}');
        if hidden {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// The text of one file being checked, to turn byte spans into warnings with line numbers.
pub(crate) struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    /// A warning at byte offset `at` of the text.
    pub fn warn(&self, at: usize, message: impl Into<String>) -> ConfigWarning {
        let (line, column) = line_col(self.text, at);
        ConfigWarning {
            path: self.path.to_owned(),
            line: Some(line),
            column: Some(column),
            message: printable(&message.into()),
        }
    }

    /// Parses the text as a TOML document; a syntax error becomes a warning at its position,
    /// with `then` (what happens instead) appended.
    pub fn parse(&self, then: &str) -> Result<toml::de::DeTable<'_>, ConfigWarning> {
        toml::de::DeTable::parse(self.text)
            .map(|t| t.into_inner())
            .map_err(|e| {
                let at = e.span().map_or(0, |s| s.start);
                self.warn(at, format!("{}; {then}", e.message().trim()))
            })
    }
}

/// Theme and keymap files are small; anything bigger is a mistake.
const MAX_UI_FILE: u64 = 1 << 20;

/// Reads a small UTF-8 text file. `Ok(None)` when it does not exist; `Err` (a warning about
/// the whole file) when it exists but cannot be used.
pub(crate) fn read_ui_file(path: &Path) -> Result<Option<String>, ConfigWarning> {
    let fail = |why: String| ConfigWarning::file(path, why);
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(format!("cannot open: {e}"))),
    };
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot inspect: {e}")))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".to_owned()));
    }
    if meta.len() > MAX_UI_FILE {
        return Err(fail(format!(
            "is {} bytes; theme and keymap files are at most {MAX_UI_FILE} bytes",
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_UI_FILE)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
        let (line, column) = line_col(&prefix, prefix.len());
        ConfigWarning {
            path: path.to_owned(),
            line: Some(line),
            column: Some(column),
            message: "the file is not valid UTF-8 text".to_owned(),
        }
    })?;
    Ok(Some(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    }))
}

/// Names of themes and keymaps (built in or `NAME.toml` in the config directory): letters,
/// digits, `-` and `_`, so a name can never point outside the directory.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// ` (did you mean `x`?)` for the candidate closest to `word`, when one is close enough.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring characters each cost 1.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// socdeck's configuration directory: the directory of the config file (`--config PATH` or
/// the default `~/.config/socdeck/config.toml`). User themes live in `themes/` there, user
/// keymaps in `keymaps/`, key overrides in `keymap.toml`.
pub fn config_dir(env: &Env, cli_config: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let path = config_path(env, cli_config)?;
    Ok(path.parent().unwrap_or(Path::new("/")).to_owned())
}

/// Whether the user asked for no colour: `NO_COLOR` set to a non-empty value
/// (<https://no-color.org>).
pub fn no_color(env: &Env) -> bool {
    env.var("NO_COLOR").is_some()
}

/// What `socdeck --check-config` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Problems: the console would refuse to start, or would ignore something written in a
    /// file (unknown key, bad colour, unknown action, TOML syntax...). Any entry means
    /// `--check-config` exits non-zero.
    pub errors: Vec<String>,
    /// Worth knowing but not wrong (no org configured, environment credentials ignored...).
    pub warnings: Vec<String>,
    /// What was checked (config file, orgs, theme, keymap), for the human reading the output.
    pub info: Vec<String>,
}

impl CheckReport {
    /// True when nothing is broken (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// 0 when [`CheckReport::is_ok`], else 1.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.is_ok())
    }
}

impl fmt::Display for CheckReport {
    /// One line per message: `error: ...`, `warning: ...`, then `ok: ...` lines and a summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "error: {e}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        for i in &self.info {
            writeln!(f, "ok: {i}")?;
        }
        if self.is_ok() {
            writeln!(
                f,
                "configuration OK ({} warning{})",
                self.warnings.len(),
                if self.warnings.len() == 1 { "" } else { "s" }
            )
        } else {
            writeln!(
                f,
                "configuration has {} problem{}",
                self.errors.len(),
                if self.errors.len() == 1 { "" } else { "s" }
            )
        }
    }
}

/// Validates everything the console loads: the config file, the credentials of every
/// configured org, the selected theme (`theme_override` is `--theme`) and keymap, `keymap.toml`,
/// and every user theme and keymap file in the config directory, whether selected or not.
///
/// Broken files are errors (the console would ignore what is broken). Having no org configured
/// at all is only a warning: `socdeck --demo` runs without one.
pub fn check_config(args: &CredentialArgs, env: &Env, theme_override: Option<&str>) -> CheckReport {
    let mut r = CheckReport::default();
    let dir = match config_dir(env, args.config.as_deref()) {
        Ok(d) => Some(d),
        Err(e) => {
            r.errors.push(e.to_string());
            None
        }
    };

    let mut config = Config::default();
    let mut config_ok = false;
    if dir.is_some() {
        match load_config(env, args.config.as_deref()) {
            Ok(loaded) => {
                r.errors.extend(loaded.warnings.iter().cloned());
                r.info.push(if loaded.found {
                    format!("config file {}", loaded.path.display())
                } else {
                    format!(
                        "no config file at {} (defaults used)",
                        loaded.path.display()
                    )
                });
                check_rules(&loaded.config, env, &loaded.path, &mut r);
                config = loaded.config;
                config_ok = true;
            }
            Err(e) => r.errors.push(e.to_string()),
        }
    }

    if config_ok {
        match resolve_orgs(args, env) {
            Ok(resolved) => {
                for w in resolved.warnings {
                    if !r.errors.contains(&w) && !r.warnings.contains(&w) {
                        r.warnings.push(w);
                    }
                }
                for org in &resolved.orgs {
                    r.info.push(format!(
                        "org {} ({} at {}) from {}",
                        org.name, org.org_key, org.url, org.source
                    ));
                }
            }
            Err(e @ ConfigError::NoOrgs { .. }) => r.warnings.push(format!(
                "{e} (socdeck can only run with --demo until an org is configured)"
            )),
            Err(e) => r.errors.push(e.to_string()),
        }
    }

    let Some(dir) = dir else { return r };
    let theme_name = theme_override.unwrap_or(config.ui.theme_name());
    let keymap_name = config.ui.keymap_name();
    let (_, warnings) = theme::load_theme(theme_name, &dir, false);
    let broken_theme = !warnings.is_empty();
    r.errors.extend(warnings.iter().map(ToString::to_string));
    let (_, warnings) = keymap::load_keymap(keymap_name, &dir);
    let broken_keymap = !warnings.is_empty();
    r.errors.extend(warnings.iter().map(ToString::to_string));
    if !broken_theme {
        r.info.push(format!("theme {theme_name}"));
    }
    if !broken_keymap {
        r.info.push(format!("keymap {keymap_name}"));
    }

    // User files that are not selected now but could be later.
    for (sub, selected) in [("themes", theme_name), ("keymaps", keymap_name)] {
        for path in toml_files(&dir.join(sub)) {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if stem == selected {
                continue; // checked above
            }
            if !valid_name(&stem) {
                r.warnings.push(format!(
                    "{}: cannot be selected: names are letters, digits, `-` and `_`",
                    path.display()
                ));
                continue;
            }
            let warnings = match read_ui_file(&path) {
                Ok(None) => continue,
                Err(w) => vec![w],
                Ok(Some(text)) if sub == "themes" => Theme::from_toml(&text, &path).1,
                Ok(Some(text)) => Keymap::from_user_toml(&text, &path).1,
            };
            r.errors.extend(warnings.iter().map(ToString::to_string));
        }
    }
    r
}

/// The customer rules file: each problem an error with file and line; a missing file is fine
/// (the built-in rule applies).
fn check_rules(config: &Config, env: &Env, config_path: &Path, r: &mut CheckReport) {
    let path = config.rules_path(env, config_path);
    match Rules::load(&path) {
        Ok(Some(rules)) => r.info.push(format!(
            "rules file {} ({} org{})",
            path.display(),
            rules.org_keys().count(),
            if rules.org_keys().count() == 1 {
                ""
            } else {
                "s"
            }
        )),
        Ok(None) => r.info.push(format!(
            "no rules file at {} (built-in rule: isolation only after customer approval)",
            path.display()
        )),
        Err(errors) => r.errors.extend(errors.iter().map(ToString::to_string)),
    }
}

/// The `*.toml` files of a directory, sorted; none when it does not exist.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_display() {
        let mut w = ConfigWarning::file(Path::new("/c/k.toml"), "bad");
        assert_eq!(w.to_string(), "/c/k.toml: bad");
        w.line = Some(3);
        w.column = Some(7);
        assert_eq!(w.to_string(), "/c/k.toml:3:7: bad");
    }

    #[test]
    fn messages_never_carry_raw_control_characters() {
        let src = Source {
            path: Path::new("/k\u{1b}.toml"),
            text: "x",
        };
        let w = src.warn(0, "unknown action `\u{1b}[2J\u{202e}`");
        assert_eq!(w.message, "unknown action `\\u{1b}[2J\\u{202e}`");
        assert_eq!(
            w.to_string(),
            "/k\\u{1b}.toml:1:1: unknown action `\\u{1b}[2J\\u{202e}`"
        );
        assert_eq!(printable("日本 ok\t"), "日本 ok\\u{9}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("yelow", ["red", "yellow", "blue"]),
            " (did you mean `yellow`?)"
        );
        assert_eq!(did_you_mean("purple", ["red", "yellow"]), "");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("mnoo", "mono"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn names() {
        assert!(valid_name("high-contrast"));
        assert!(valid_name("my_theme2"));
        assert!(!valid_name(""));
        assert!(!valid_name("../etc/passwd"));
        assert!(!valid_name("a b"));
        assert!(!valid_name(".hidden"));
    }
}
