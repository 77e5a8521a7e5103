//! Themes, keymaps and `--check-config` (ARCHITECTURE.md "Testing" 3): every file in `themes/`
//! and `keymaps/` parses without a warning and is embedded, every action has a key in every
//! built-in keymap, user files shadow and merge, broken files fall back to defaults with a
//! warning naming file and line, and NO_COLOR / mono never rely on colour.

use std::fs;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use proptest::prelude::*;
use ratatui::style::{Color, Modifier, Style};

use socdeck::app::action::{Action, Mode};
use socdeck::config::{
    CredentialArgs, Env, KeyBinding, Keymap, Slot, Theme, check_config, embedded_keymap_names,
    embedded_theme_names, load_config, load_keymap, load_theme,
};

fn repo_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, mods)
}

fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c), KeyModifiers::NONE)
}

/// A config directory of its own.
fn config_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap().join("socdeck");
    fs::create_dir_all(dir.join("themes")).unwrap();
    fs::create_dir_all(dir.join("keymaps")).unwrap();
    (tmp, dir)
}

// ---------------------------------------------------------------------------------------------
// The shipped files

#[test]
fn every_theme_file_parses_without_warnings_and_is_embedded() {
    let files = repo_files("themes");
    let names: Vec<String> = files.iter().map(|p| stem(p)).collect();
    assert_eq!(names, ["default", "high-contrast", "light", "mono"]);
    let mut embedded = embedded_theme_names();
    embedded.sort();
    assert_eq!(names, embedded);
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        let (theme, warnings) = Theme::from_toml(&text, &path);
        assert!(warnings.is_empty(), "{}: {warnings:#?}", path.display());
        assert_eq!(theme.name, stem(&path));
        // The binary embeds what is in the repository.
        assert_eq!(Some(theme), Theme::embedded(&stem(&path)));
    }
}

#[test]
fn every_keymap_file_parses_without_warnings_and_is_embedded() {
    let files = repo_files("keymaps");
    let names: Vec<String> = files.iter().map(|p| stem(p)).collect();
    assert_eq!(names, ["default", "vim"]);
    assert_eq!(names, embedded_keymap_names());
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        // A duplicate spelling of a key in one section would be a warning too.
        let (km, warnings) = Keymap::parse_toml(&stem(&path), &text, &path);
        assert!(warnings.is_empty(), "{}: {warnings:#?}", path.display());
        assert_eq!(Some(km), Keymap::embedded(&stem(&path)));
    }
}

#[test]
fn every_action_has_a_key_in_every_builtin_keymap() {
    for name in embedded_keymap_names() {
        let km = Keymap::embedded(name).unwrap();
        for a in Action::ALL {
            assert!(
                !km.keys_in(a.mode(), *a).is_empty(),
                "keymap {name}: action {} has no key on its screen",
                a.name()
            );
            assert!(!km.keys_for(*a).is_empty());
        }
        // Help lists every action of the screen and the global ones, each with a key.
        for mode in Mode::ALL {
            let entries = km.help_entries(*mode);
            let expected: Vec<Action> = Action::ALL
                .iter()
                .copied()
                .filter(|a| a.mode() == *mode || a.mode() == Mode::Global)
                .collect();
            assert_eq!(
                entries.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
                expected
            );
            for (a, keys) in entries {
                assert!(!keys.is_empty(), "keymap {name}: {} in {mode:?}", a.name());
                assert!(!a.description().is_empty());
            }
        }
    }
}

#[test]
fn no_key_is_bound_twice_on_one_screen_in_builtin_keymaps() {
    for name in embedded_keymap_names() {
        let km = Keymap::embedded(name).unwrap();
        for mode in Mode::ALL {
            let own = km.section(*mode);
            let mut keys: Vec<KeyBinding> = own.iter().map(|(k, _)| *k).collect();
            // A screen does not silently shadow a global key either.
            if *mode != Mode::Global {
                keys.extend(km.section(Mode::Global).iter().map(|(k, _)| *k));
            }
            for (i, k) in keys.iter().enumerate() {
                assert!(
                    !keys[i + 1..].contains(k),
                    "keymap {name}: {k} bound twice in {mode:?}"
                );
            }
            assert!(
                own.iter().all(|(_, a)| a.is_some()),
                "no \"none\" in built-ins"
            );
        }
    }
}

#[test]
fn default_keymap_has_the_documented_keys() {
    let km = Keymap::default();
    let q = |ev: KeyEvent| km.lookup(Mode::Queue, &ev);
    assert_eq!(q(ch('j')), Some(Action::MoveDown));
    assert_eq!(
        q(key(KeyCode::Down, KeyModifiers::NONE)),
        Some(Action::MoveDown)
    );
    assert_eq!(q(ch('k')), Some(Action::MoveUp));
    assert_eq!(
        q(key(KeyCode::PageDown, KeyModifiers::NONE)),
        Some(Action::PageDown)
    );
    assert_eq!(q(ch('g')), Some(Action::First));
    assert_eq!(q(key(KeyCode::End, KeyModifiers::NONE)), Some(Action::Last));
    assert_eq!(q(ch('/')), Some(Action::FilterText));
    assert_eq!(q(ch('o')), Some(Action::CycleOrg));
    assert_eq!(q(ch('l')), Some(Action::CycleLevel));
    assert_eq!(q(ch('s')), Some(Action::CycleStatus));
    assert_eq!(q(ch('c')), Some(Action::ClearFilters));
    assert_eq!(q(ch('p')), Some(Action::TogglePause));
    assert_eq!(q(ch('v')), Some(Action::TogglePreview));
    assert_eq!(q(ch('r')), Some(Action::Refresh));
    assert_eq!(q(ch('?')), Some(Action::Help));
    assert_eq!(q(ch(':')), Some(Action::CommandPalette));
    assert_eq!(q(ch('q')), Some(Action::Quit));
    assert_eq!(
        q(key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Some(Action::Quit)
    );
    assert_eq!(
        q(key(KeyCode::Esc, KeyModifiers::NONE)),
        Some(Action::Cancel)
    );
    // Queue keys do nothing on other screens; movement works everywhere.
    assert_eq!(km.lookup(Mode::Detail, &ch('o')), None);
    assert_eq!(km.lookup(Mode::Detail, &ch('j')), Some(Action::MoveDown));
    assert_eq!(km.lookup(Mode::Global, &ch('q')), Some(Action::Quit));
    let shown: Vec<String> = km
        .keys_for(Action::Quit)
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(shown, ["q", "Ctrl-C"]);
    let shown: Vec<String> = km
        .keys_for(Action::PageDown)
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(shown, ["PgDn"]);

    let vim = Keymap::embedded("vim").unwrap();
    let ctrl = |c| key(KeyCode::Char(c), KeyModifiers::CONTROL);
    assert_eq!(vim.lookup(Mode::Queue, &ctrl('d')), Some(Action::PageDown));
    assert_eq!(vim.lookup(Mode::Queue, &ctrl('u')), Some(Action::PageUp));
    assert_eq!(vim.lookup(Mode::Queue, &ch('G')), Some(Action::Last));
}

// ---------------------------------------------------------------------------------------------
// Keys

#[test]
fn shifted_letters_and_symbols_match_however_the_terminal_reports_them() {
    let km = Keymap::default();
    for ev in [
        key(KeyCode::Char('G'), KeyModifiers::NONE),
        key(KeyCode::Char('G'), KeyModifiers::SHIFT),
        key(KeyCode::Char('g'), KeyModifiers::SHIFT),
    ] {
        assert_eq!(km.lookup(Mode::Queue, &ev), Some(Action::Last), "{ev:?}");
        assert!(KeyBinding::parse("G").unwrap().matches(&ev));
    }
    assert_eq!(km.lookup(Mode::Queue, &ch('g')), Some(Action::First));
    assert_eq!(
        km.lookup(Mode::Queue, &key(KeyCode::Char('?'), KeyModifiers::SHIFT)),
        Some(Action::Help)
    );
    assert_eq!(
        km.lookup(Mode::Queue, &key(KeyCode::Char(':'), KeyModifiers::SHIFT)),
        Some(Action::CommandPalette)
    );
    // Ctrl+Shift+C is Ctrl+C on a terminal.
    assert_eq!(
        km.lookup(
            Mode::Queue,
            &key(
                KeyCode::Char('C'),
                KeyModifiers::CONTROL | KeyModifiers::SHIFT
            )
        ),
        Some(Action::Quit)
    );
    // Shift+Tab arrives as BackTab, with or without SHIFT.
    let bt = KeyBinding::parse("backtab").unwrap();
    assert!(bt.matches(&key(KeyCode::BackTab, KeyModifiers::SHIFT)));
    assert!(bt.matches(&key(KeyCode::BackTab, KeyModifiers::NONE)));
    assert!(bt.matches(&key(KeyCode::Tab, KeyModifiers::SHIFT)));
    // Alt and Ctrl are not ignored.
    assert_eq!(
        km.lookup(Mode::Queue, &key(KeyCode::Char('j'), KeyModifiers::ALT)),
        None
    );
    // Only presses and repeats act.
    let mut release = ch('j');
    release.kind = KeyEventKind::Release;
    assert_eq!(km.lookup(Mode::Queue, &release), None);
    let mut repeat = ch('j');
    repeat.kind = KeyEventKind::Repeat;
    assert_eq!(km.lookup(Mode::Queue, &repeat), Some(Action::MoveDown));
}

#[test]
fn key_parse_display_round_trip() {
    for (written, shown) in [
        ("q", "q"),
        ("G", "G"),
        ("shift-g", "G"),
        ("ctrl-c", "Ctrl-C"),
        ("CTRL-C", "Ctrl-C"),
        ("alt-x", "Alt-x"),
        ("alt-shift-x", "Alt-X"),
        ("enter", "Enter"),
        ("esc", "Esc"),
        ("tab", "Tab"),
        ("backtab", "Shift-Tab"),
        ("space", "Space"),
        ("up", "Up"),
        ("down", "Down"),
        ("left", "Left"),
        ("right", "Right"),
        ("pageup", "PgUp"),
        ("pagedown", "PgDn"),
        ("home", "Home"),
        ("end", "End"),
        ("f1", "F1"),
        ("f12", "F12"),
        ("?", "?"),
        ("/", "/"),
        (":", ":"),
        ("-", "-"),
        ("ctrl--", "Ctrl--"),
        ("ctrl-alt-delete", "Ctrl-Alt-Del"),
        ("shift-pagedown", "Shift-PgDn"),
    ] {
        let k = KeyBinding::parse(written).unwrap();
        assert_eq!(k.to_string(), shown, "{written}");
        assert_eq!(KeyBinding::parse(shown), Ok(k), "{shown}");
    }
}

fn arb_code() -> impl Strategy<Value = KeyCode> {
    prop_oneof![
        any::<char>()
            .prop_filter("printable", |c| !c.is_control())
            .prop_map(KeyCode::Char),
        (1u8..=12).prop_map(KeyCode::F),
        prop::sample::select(vec![
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Backspace,
            KeyCode::Delete,
            KeyCode::Insert,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::Home,
            KeyCode::End,
        ]),
    ]
}

proptest! {
    #[test]
    fn any_binding_survives_display_and_parse(
        code in arb_code(),
        ctrl in any::<bool>(),
        alt in any::<bool>(),
        shift in any::<bool>(),
    ) {
        let mut mods = KeyModifiers::NONE;
        mods.set(KeyModifiers::CONTROL, ctrl);
        mods.set(KeyModifiers::ALT, alt);
        mods.set(KeyModifiers::SHIFT, shift);
        let k = KeyBinding::new(code, mods);
        prop_assert_eq!(KeyBinding::parse(&k.to_string()), Ok(k));
        prop_assert!(k.matches(&KeyEvent::new(code, mods)));
    }
}

// ---------------------------------------------------------------------------------------------
// User files

#[test]
fn user_keymap_merges_per_key_and_none_unbinds() {
    let (_tmp, dir) = config_dir();
    fs::write(
        dir.join("keymap.toml"),
        "[queue]\n\"j\" = \"last\"\n\"x\" = \"move_down\"\n\"k\" = \"none\"\n\"q\" = \"none\"\n\n[global]\n\"ctrl-q\" = \"quit\"\n",
    )
    .unwrap();
    let (km, warnings) = load_keymap("default", &dir);
    assert!(warnings.is_empty(), "{warnings:#?}");
    let q = |ev: KeyEvent| km.lookup(Mode::Queue, &ev);
    assert_eq!(q(ch('j')), Some(Action::Last), "rebound");
    assert_eq!(q(ch('x')), Some(Action::MoveDown), "added");
    assert_eq!(q(ch('k')), None, "unbound");
    assert_eq!(
        q(key(KeyCode::Up, KeyModifiers::NONE)),
        Some(Action::MoveUp),
        "kept"
    );
    assert_eq!(
        q(key(KeyCode::Down, KeyModifiers::NONE)),
        Some(Action::MoveDown)
    );
    assert_eq!(q(ch('G')), Some(Action::Last));
    // "none" on a screen hides the global binding there only.
    assert_eq!(q(ch('q')), None);
    assert_eq!(km.lookup(Mode::Global, &ch('q')), Some(Action::Quit));
    assert_eq!(
        q(key(KeyCode::Char('q'), KeyModifiers::CONTROL)),
        Some(Action::Quit)
    );
    // Help follows the merge.
    let help = km.help_entries(Mode::Queue);
    let keys_of = |a: Action| -> Vec<String> {
        help.iter()
            .find(|(x, _)| *x == a)
            .unwrap()
            .1
            .iter()
            .map(|k| k.to_string())
            .collect()
    };
    assert_eq!(keys_of(Action::MoveUp), ["Up"]);
    assert_eq!(keys_of(Action::MoveDown), ["x", "Down"]);
    assert_eq!(keys_of(Action::Last), ["G", "j", "End"]);
    assert_eq!(keys_of(Action::Quit), ["Ctrl-C", "Ctrl-Q"]);

    // The merge applies to the chosen base keymap.
    let (vim, warnings) = load_keymap("vim", &dir);
    assert!(warnings.is_empty());
    assert_eq!(
        vim.lookup(Mode::Queue, &key(KeyCode::Char('d'), KeyModifiers::CONTROL)),
        Some(Action::PageDown)
    );
    assert_eq!(vim.lookup(Mode::Queue, &ch('j')), Some(Action::Last));
}

#[test]
fn user_keymap_file_shadows_a_builtin_by_name_and_adds_new_names() {
    let (_tmp, dir) = config_dir();
    fs::write(
        dir.join("keymaps/vim.toml"),
        "[queue]\n\"space\" = \"page_down\"\n",
    )
    .unwrap();
    fs::write(
        dir.join("keymaps/mine.toml"),
        "[queue]\n\"n\" = \"move_down\"\n",
    )
    .unwrap();
    let (vim, w) = load_keymap("vim", &dir);
    assert!(w.is_empty(), "{w:#?}");
    assert_eq!(vim.name, "vim");
    assert_eq!(vim.lookup(Mode::Queue, &ch(' ')), Some(Action::PageDown));
    assert_eq!(
        vim.lookup(Mode::Queue, &key(KeyCode::Char('u'), KeyModifiers::CONTROL)),
        Some(Action::PageUp)
    );
    let (mine, w) = load_keymap("mine", &dir);
    assert!(w.is_empty(), "{w:#?}");
    assert_eq!(mine.lookup(Mode::Queue, &ch('n')), Some(Action::MoveDown));
    assert_eq!(
        mine.lookup(Mode::Queue, &ch('j')),
        Some(Action::MoveDown),
        "from default"
    );
}

#[test]
fn user_theme_shadows_by_name_and_adds_new_names() {
    let (_tmp, dir) = config_dir();
    fs::write(
        dir.join("themes/light.toml"),
        "name = \"light\"\n[styles]\nband_warning = { fg = \"magenta\", modifiers = [\"bold\"] }\n",
    )
    .unwrap();
    fs::write(
        dir.join("themes/ocean.toml"),
        "[styles]\nheader = { fg = \"#ffffff\", bg = 24 }\n",
    )
    .unwrap();
    let light = Theme::embedded("light").unwrap();
    let (t, w) = load_theme("light", &dir, false);
    assert!(w.is_empty(), "{w:#?}");
    assert_eq!(t.name, "light");
    assert_eq!(
        t.style(Slot::BandWarning),
        Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD)
    );
    for s in Slot::ALL.iter().filter(|s| **s != Slot::BandWarning) {
        assert_eq!(t.style(*s), light.style(*s), "{}", s.name());
    }
    let (t, w) = load_theme("ocean", &dir, false);
    assert!(w.is_empty(), "{w:#?}");
    assert_eq!(t.name, "ocean");
    assert_eq!(
        t.style(Slot::Header),
        Style::new()
            .fg(Color::Rgb(255, 255, 255))
            .bg(Color::Indexed(24))
    );
    assert_eq!(
        t.style(Slot::BandBreached),
        Theme::default().style(Slot::BandBreached)
    );
    // Built-in themes still load when the user has none of that name.
    let (t, w) = load_theme("mono", &dir, false);
    assert!(w.is_empty());
    assert_eq!(t, Theme::embedded("mono").unwrap());
}

// ---------------------------------------------------------------------------------------------
// Broken files

#[test]
fn broken_theme_entries_are_skipped_with_file_and_line() {
    let (_tmp, dir) = config_dir();
    let path = dir.join("themes/light.toml");
    fs::write(
        &path,
        "name = \"light\"\n\
         [styles]\n\
         band_warning = { fg = \"yelow\" }\n\
         row = { modifiers = [\"bold\", \"blink\"] }\n\
         band_warnin = {}\n\
         muted = { fg = \"blue\" }\n\
         header = { fg = 300 }\n",
    )
    .unwrap();
    let (t, w) = load_theme("light", &dir, false);
    let light = Theme::embedded("light").unwrap();
    let shown: Vec<String> = w.iter().map(|w| w.to_string()).collect();
    assert_eq!(w.len(), 4, "{shown:#?}");
    let p = path.display().to_string();
    assert!(
        shown[0].starts_with(&format!(
            "{p}:3:23: fg: unknown colour \"yelow\" (did you mean `yellow`?)"
        )),
        "{}",
        shown[0]
    );
    assert!(
        shown[0].ends_with("`band_warning` keeps its built-in style"),
        "{}",
        shown[0]
    );
    assert!(
        shown[1].starts_with(&format!("{p}:4:30: unknown modifier \"blink\"")),
        "{}",
        shown[1]
    );
    assert!(
        shown[2].starts_with(&format!(
            "{p}:5:1: unknown style `band_warnin` (did you mean `band_warning`?)"
        )),
        "{}",
        shown[2]
    );
    assert!(
        shown[3].starts_with(&format!("{p}:7:17: fg: colour number 300 is outside 0-255")),
        "{}",
        shown[3]
    );
    assert_eq!(w[0].path, path);
    assert_eq!((w[0].line, w[0].column), (Some(3), Some(23)));
    // Bad entries keep the built-in style; good ones apply.
    assert_eq!(t.style(Slot::BandWarning), light.style(Slot::BandWarning));
    assert_eq!(t.style(Slot::Row), light.style(Slot::Row));
    assert_eq!(t.style(Slot::Header), light.style(Slot::Header));
    assert_eq!(t.style(Slot::Muted), Style::new().fg(Color::Blue));
}

#[test]
fn theme_with_a_syntax_error_is_ignored_with_file_and_line() {
    let (_tmp, dir) = config_dir();
    let path = dir.join("themes/default.toml");
    fs::write(
        &path,
        "[styles]\nbase = {}\nrow = { fg = \"red\"\nmuted = {}\n",
    )
    .unwrap();
    let (t, w) = load_theme("default", &dir, false);
    assert_eq!(t, Theme::default());
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].path, path);
    // The inline table opened on line 3 is found unclosed where line 4 starts.
    assert_eq!((w[0].line, w[0].column), (Some(4), Some(1)), "{}", w[0]);
    assert!(
        w[0].message
            .ends_with("the file is ignored and the built-in default theme is used"),
        "{}",
        w[0]
    );

    // A new name with a syntax error falls back to default too.
    fs::write(dir.join("themes/x.toml"), "name = \n").unwrap();
    let (t, w) = load_theme("x", &dir, false);
    assert_eq!(t.style(Slot::Header), Theme::default().style(Slot::Header));
    assert_eq!(w[0].line, Some(1));

    // Not UTF-8.
    fs::write(dir.join("themes/bin.toml"), b"name = \"bin\"\n\xff\n").unwrap();
    let (_, w) = load_theme("bin", &dir, false);
    assert_eq!((w[0].line, w[0].column), (Some(2), Some(1)), "{}", w[0]);
}

#[test]
fn unknown_theme_or_keymap_name_falls_back_with_a_warning() {
    let (_tmp, dir) = config_dir();
    let (t, w) = load_theme("hight-contrast", &dir, false);
    assert_eq!(t, Theme::default());
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].path, dir.join("themes/hight-contrast.toml"));
    assert!(
        w[0].message.contains("did you mean `high-contrast`"),
        "{}",
        w[0]
    );
    let (t, w) = load_theme("../../etc/passwd", &dir, false);
    assert_eq!(t, Theme::default());
    assert!(w[0].message.contains("not valid"), "{}", w[0]);
    let (km, w) = load_keymap("vi", &dir);
    assert_eq!(km, Keymap::default());
    assert!(w[0].message.contains("did you mean `vim`"), "{}", w[0]);
}

#[test]
fn broken_keymap_entries_are_skipped_with_file_and_line() {
    let (_tmp, dir) = config_dir();
    let path = dir.join("keymap.toml");
    fs::write(
        &path,
        "[queue]\n\
         \"j\" = \"move_dwn\"\n\
         \"ctrl-shft-x\" = \"last\"\n\
         \"n\" = \"move_down\"\n\
         \"m\" = 3\n\
         [global]\n\
         \"z\" = \"cycle_org\"\n\
         [detalis]\n\
         \"x\" = \"quit\"\n",
    )
    .unwrap();
    let (km, w) = load_keymap("default", &dir);
    let shown: Vec<String> = w.iter().map(|w| w.to_string()).collect();
    let p = path.display().to_string();
    assert_eq!(w.len(), 5, "{shown:#?}");
    assert_eq!(
        shown[0],
        format!("{p}:2:7: unknown action `move_dwn` (did you mean `move_down`?); \"j\" ignored")
    );
    assert!(
        shown[1].starts_with(&format!("{p}:3:1: unknown key \"ctrl-shft-x\"")),
        "{}",
        shown[1]
    );
    assert!(
        shown[2].starts_with(&format!("{p}:5:7: \"m\" must be bound to an action name")),
        "{}",
        shown[2]
    );
    assert!(
        shown[3].starts_with(&format!(
            "{p}:7:7: `cycle_org` works on the queue screen only"
        )),
        "{}",
        shown[3]
    );
    assert!(
        shown[4].starts_with(&format!("{p}:8:2: unknown section [detalis] ignored")),
        "{}",
        shown[4]
    );
    // The good entry applies, the rest of the default keymap is untouched.
    assert_eq!(km.lookup(Mode::Queue, &ch('n')), Some(Action::MoveDown));
    assert_eq!(km.lookup(Mode::Queue, &ch('j')), Some(Action::MoveDown));
    assert_eq!(km.lookup(Mode::Queue, &ch('m')), None);
    assert_eq!(km.lookup(Mode::Global, &ch('z')), None);
}

#[test]
fn keymap_with_a_syntax_error_is_ignored_with_file_and_line() {
    let (_tmp, dir) = config_dir();
    let path = dir.join("keymap.toml");
    fs::write(&path, "[queue]\n\"j\" = \"last\"\n\"k\" = \"first\n").unwrap();
    let (km, w) = load_keymap("vim", &dir);
    assert_eq!(km, Keymap::embedded("vim").unwrap());
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].path, path);
    assert_eq!(w[0].line, Some(3), "{}", w[0]);
    assert!(w[0].message.ends_with("the file is ignored"), "{}", w[0]);

    // A directory where the file should be.
    fs::remove_file(&path).unwrap();
    fs::create_dir(&path).unwrap();
    let (km, w) = load_keymap("default", &dir);
    assert_eq!(km, Keymap::default());
    assert_eq!(w.len(), 1);
    assert!(w[0].to_string().starts_with(&path.display().to_string()));
}

// ---------------------------------------------------------------------------------------------
// NO_COLOR and mono

fn has_color(s: Style) -> bool {
    s.fg.is_some() || s.bg.is_some()
}

#[test]
fn no_color_drops_every_colour_and_keeps_modifiers() {
    let (_tmp, dir) = config_dir();
    for name in embedded_theme_names() {
        let (colored, _) = load_theme(name, &dir, false);
        let (t, w) = load_theme(name, &dir, true);
        assert!(w.is_empty());
        assert!(t.is_colorless());
        for s in Slot::ALL {
            assert!(!has_color(t.style(*s)), "{name}: {}", s.name());
            assert_eq!(
                t.style(*s).add_modifier,
                colored.style(*s).add_modifier,
                "{name}: {}",
                s.name()
            );
        }
    }
    // A user theme too.
    fs::write(
        dir.join("themes/loud.toml"),
        "[styles]\nrow = { fg = \"#ff0000\", bg = 1, modifiers = [\"bold\"] }\n",
    )
    .unwrap();
    let (t, _) = load_theme("loud", &dir, true);
    assert_eq!(
        t.style(Slot::Row),
        Style::new().add_modifier(Modifier::BOLD)
    );
}

#[test]
fn mono_has_no_colour_and_still_tells_bands_selection_and_escapes_apart() {
    let mono = Theme::embedded("mono").unwrap();
    assert!(mono.is_colorless());
    // Every built-in theme, with colours stripped (NO_COLOR), keeps these apart as well.
    let mut themes = vec![mono];
    for name in embedded_theme_names() {
        themes.push(Theme::embedded(name).unwrap().without_color());
    }
    for t in themes {
        let bands = [
            Slot::BandNormal,
            Slot::BandWarning,
            Slot::BandCritical,
            Slot::BandBreached,
        ];
        for (i, a) in bands.iter().enumerate() {
            for b in &bands[i + 1..] {
                assert_ne!(
                    t.style(*a),
                    t.style(*b),
                    "{}: {} vs {}",
                    t.name,
                    a.name(),
                    b.name()
                );
            }
        }
        assert_ne!(t.style(Slot::RowSelected), t.style(Slot::Row), "{}", t.name);
        assert_ne!(
            t.style(Slot::RowSelected),
            t.style(Slot::RowAlt),
            "{}",
            t.name
        );
        assert_ne!(t.style(Slot::Escape), t.style(Slot::Row), "{}", t.name);
        assert_ne!(
            t.style(Slot::PaletteSelected),
            t.style(Slot::Palette),
            "{}",
            t.name
        );
        assert_ne!(
            t.style(Slot::BandBreached),
            t.style(Slot::RowSelected),
            "{}: a breached clock stands out on the selected row",
            t.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// --check-config

struct World {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    cwd: PathBuf,
    etc: PathBuf,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let (home, cwd, etc) = (root.join("home"), root.join("work"), root.join("etc"));
        for d in [&home, &cwd, &etc] {
            fs::create_dir(d).unwrap();
        }
        World {
            _tmp: tmp,
            home,
            cwd,
            etc,
        }
    }

    fn env(&self) -> Env {
        Env::from_vars(
            [
                ("HOME", self.home.display().to_string()),
                ("USER", "tester".to_owned()),
            ],
            &self.cwd,
        )
        .with_system_dir(&self.etc)
    }

    fn dir(&self) -> PathBuf {
        self.home.join(".config/socdeck")
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.dir().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }
}

#[test]
fn config_file_ui_and_notify_sections() {
    let w = World::new();
    w.write(
        "config.toml",
        "[ui]\ntheme = \"mono\"\nkeymap = \"vim\"\n\n[notify]\ndesktop = false\n",
    );
    let loaded = load_config(&w.env(), None).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.config.ui.theme_name(), "mono");
    assert_eq!(loaded.config.ui.keymap_name(), "vim");
    assert!(!loaded.config.notify.desktop);
    assert!(loaded.config.notify.bell);
}

#[test]
fn check_config_with_nothing_configured_only_warns() {
    let w = World::new();
    let r = check_config(&CredentialArgs::default(), &w.env(), None);
    assert!(r.is_ok(), "{r}");
    assert_eq!(r.exit_code(), 0);
    assert_eq!(r.warnings.len(), 1, "{r}");
    assert!(r.warnings[0].contains("no Carbon Black Cloud org"), "{r}");
    assert!(r.to_string().contains("ok: theme default"), "{r}");
}

#[test]
fn check_config_reports_the_same_messages_as_the_console() {
    let w = World::new();
    w.write(
        "config.toml",
        "[ui]\ntheme = \"light\"\nkeymap = \"vim\"\nthme = \"x\"\n",
    );
    let theme = w.write("themes/light.toml", "[styles]\nrow = { fg = \"purple\" }\n");
    let unused = w.write("themes/spare.toml", "[styles\n");
    let keymap = w.write("keymap.toml", "[queue]\n\"j\" = \"jump\"\n");
    let env = w.env();
    let r = check_config(&CredentialArgs::default(), &env, None);
    assert!(!r.is_ok());
    assert_eq!(r.exit_code(), 1);

    let dir = w.dir();
    let (_, theme_warnings) = load_theme("light", &dir, false);
    let (_, keymap_warnings) = load_keymap("vim", &dir);
    let mut expected: Vec<String> = vec![format!(
        "{}:4:1: unknown key `thme` in [ui] ignored",
        dir.join("config.toml").display()
    )];
    expected.extend(theme_warnings.iter().map(|w| w.to_string()));
    expected.extend(keymap_warnings.iter().map(|w| w.to_string()));
    assert_eq!(r.errors.len(), 4, "{r}");
    assert_eq!(r.errors[..3], expected[..], "{r}");
    assert!(
        r.errors[1].starts_with(&format!("{}:2:14:", theme.display())),
        "{r}"
    );
    assert!(
        r.errors[2].starts_with(&format!("{}:2:7:", keymap.display())),
        "{r}"
    );
    // Files not selected now are checked as well.
    assert!(
        r.errors[3].starts_with(&format!("{}:1:", unused.display())),
        "{r}"
    );
    let text = r.to_string();
    assert!(text.contains("error: "), "{text}");
    assert!(text.ends_with("configuration has 4 problems\n"), "{text}");
}

#[test]
fn check_config_theme_override_and_broken_config() {
    let w = World::new();
    let r = check_config(&CredentialArgs::default(), &w.env(), Some("nope"));
    assert!(!r.is_ok());
    assert!(r.errors[0].contains("no theme named `nope`"), "{r}");
    let r = check_config(&CredentialArgs::default(), &w.env(), Some("high-contrast"));
    assert!(r.is_ok(), "{r}");

    // A config file the console refuses is an error; themes and keymaps are still checked.
    w.write("config.toml", "[sla]\nwarning_min = \"soon\"\n");
    w.write("keymap.toml", "[queue]\n\"j\" = 1\n");
    let r = check_config(&CredentialArgs::default(), &w.env(), None);
    assert_eq!(r.errors.len(), 2, "{r}");
    assert!(r.errors[0].contains("config.toml:2:"), "{r}");
    assert!(r.errors[1].contains("keymap.toml:2:7:"), "{r}");
}
