//! Report drafts survive the process: the real `socdeck --demo` on a pty, typing into the
//! first-report editor, then `kill -9` (loses at most the autosave window) or SIGTERM (flushes
//! everything), then a restart in the same `HOME` that reopens the draft.

#[path = "support/pty.rs"]
mod pty;

use std::time::Duration;

use pty::{Opts, PtyProc};

const STARTUP: Duration = Duration::from_secs(20);
const BACKLOG: &str = "30";

fn start(home: &std::path::Path) -> PtyProc {
    let opts = Opts {
        home: Some(home.to_path_buf()),
        ..Opts::size(80, 24)
    };
    let p = PtyProc::spawn(
        &["--demo", "--seed", "3", "--rate", "0", "--backlog", BACKLOG],
        opts,
    );
    // Every org loaded (the footer counts the whole backlog): the order is then the same
    // on every start, and `g` selects the same, most urgent alert.
    p.wait_for(STARTUP, "the whole backlog", |s| {
        s.contents()
            .contains(&format!(" {BACKLOG} alerts"))
            .then_some(())
    });
    p
}

/// Opens the first-report editor on the most urgent alert.
fn open_editor(p: &PtyProc) {
    p.send(b"g");
    std::thread::sleep(Duration::from_millis(200));
    p.send(b"w");
    p.wait_for(Duration::from_secs(5), "the report editor", |s| {
        s.contents().contains("1st report").then_some(())
    });
}

fn wait_text(p: &PtyProc, text: &str, what: &str) {
    p.wait_for(Duration::from_secs(10), what, |s| {
        s.contents().contains(text).then_some(())
    });
}

#[test]
fn kill_9_while_typing_loses_at_most_the_autosave_window() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path());
    open_editor(&p);
    // Ctrl-Home: the top of the draft, where typed text stays on screen.
    p.send(b"\x1b[1;5H");
    p.send("検知メモ-SAVED ".as_bytes());
    wait_text(&p, "検知メモ-SAVED", "the typed text");
    // The autosave runs on the first tick at least a second after the last key.
    p.wait_for(Duration::from_secs(5), "the autosave", |s| {
        s.contents().contains(" saved ").then_some(())
    });
    p.send(b"LOST-IN-WINDOW ");
    wait_text(&p, "LOST-IN-WINDOW", "the second text");
    p.signal(libc::SIGKILL);
    let exit = p.wait_exit(Duration::from_secs(5)).expect("killed");
    assert_eq!(exit.signal, Some(libc::SIGKILL));
    drop(p);

    let mut p = start(home.path());
    open_editor(&p);
    wait_text(&p, "検知メモ-SAVED", "the saved draft after kill -9");
    let screen = p.screen_text();
    assert!(screen.contains("draft restored"), "{screen}");
    p.send(b"\x1b");
    // Apart, or the terminal reads Esc q as Alt-q.
    std::thread::sleep(Duration::from_millis(300));
    p.send(b"q");
    assert_eq!(p.wait_exit(Duration::from_secs(5)).unwrap().code, Some(0));
}

#[test]
fn sigterm_flushes_the_draft_at_once() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path());
    open_editor(&p);
    p.send(b"\x1b[1;5H");
    p.send(b"FLUSHED-ON-SIGTERM ");
    wait_text(&p, "FLUSHED-ON-SIGTERM", "the typed text");
    // No waiting for the autosave: the signal saves it.
    p.signal(libc::SIGTERM);
    assert_eq!(p.wait_exit(Duration::from_secs(5)).unwrap().code, Some(143));
    drop(p);

    let mut p = start(home.path());
    open_editor(&p);
    wait_text(&p, "FLUSHED-ON-SIGTERM", "the draft saved on SIGTERM");
    p.signal(libc::SIGHUP);
    assert_eq!(p.wait_exit(Duration::from_secs(5)).unwrap().code, Some(129));
}

#[test]
fn editing_in_external_editor_comes_back_into_the_draft() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    // An "editor" that puts a line at the top of the file it is given.
    let script = home.path().join("fake-editor");
    std::fs::write(
        &script,
        "#!/bin/sh\n{ echo 'EDITED-IN-EDITOR'; cat \"$1\"; } > \"$1.new\" && mv \"$1.new\" \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    let opts = Opts {
        home: Some(home.path().to_path_buf()),
        env: vec![("EDITOR".into(), script.display().to_string())],
        ..Opts::size(80, 24)
    };
    let mut p = PtyProc::spawn(
        &["--demo", "--seed", "3", "--rate", "0", "--backlog", BACKLOG],
        opts,
    );
    p.wait_for(STARTUP, "the whole backlog", |s| {
        s.contents()
            .contains(&format!(" {BACKLOG} alerts"))
            .then_some(())
    });
    open_editor(&p);
    // F6: leave the screen, run $EDITOR, come back.
    p.send(b"\x1b[17~");
    wait_text(&p, "EDITED-IN-EDITOR", "the text from $EDITOR");
    wait_text(&p, "unsaved", "the draft marked changed");
    p.signal(libc::SIGTERM);
    assert_eq!(p.wait_exit(Duration::from_secs(5)).unwrap().code, Some(143));
}
