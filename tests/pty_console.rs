//! The real `socdeck` binary on a pseudo-terminal: what an analyst's terminal receives and
//! shows, read back through a terminal emulator (`vt100`).
//!
//! - a running SLA countdown goes down on screen; `q` exits 0 and hands the terminal back;
//! - RELIABILITY E2: SIGTERM / SIGHUP / SIGINT → 143 / 129 / 130 within 2 s, terminal restored;
//! - RELIABILITY E3: the pty master closed (a dropped SSH link, with and without the kernel's
//!   SIGHUP) → exit within 2 s using < 0.2 CPU-s, nothing left running;
//! - RELIABILITY A1 through the real binary: a `--replay` file of hostile strings, every row
//!   scrolled through with its preview, and every byte the process wrote checked;
//! - window sizes down to 0×0 do not end the console.
//!
//! Not here: RELIABILITY E4 (a panic on the UI thread restores the terminal) needs a hidden way
//! to make the binary panic, and it has none.
//!
//! Run `cargo test --test pty_console -- --nocapture` to see the figures.

#[path = "support/pty.rs"]
mod pty;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use pty::{Opts, PtyProc, count, restored};

/// Startup of a debug build on a loaded 2-core machine: the simulator generates its world,
/// serves it over TLS and the first poll lands.
const STARTUP: Duration = Duration::from_secs(20);
/// The reliability budget for leaving after `q`, a signal or a hangup.
const EXIT_BUDGET: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------------------------
// Reading the queue off the screen
// ---------------------------------------------------------------------------------------------

/// A queue row as the screen shows it at 80 columns: flag (col 0), SLA cell (cols 2..11), and
/// everything after it (level, severity, customer, device, reason, process), which identifies
/// the row while its clock changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ScreenRow {
    band: String,
    /// Remaining seconds as shown (negative once breached).
    remaining: i64,
    rest: String,
}

/// `mm:ss` / `-mm:ss` / `mmm:ss` → seconds.
fn parse_clock(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (m, sec) = s.split_once(':')?;
    if m.len() < 2
        || sec.len() != 2
        || !m.bytes().all(|b| b.is_ascii_digit())
        || !sec.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let sec: i64 = sec.parse().ok()?;
    if sec >= 60 {
        return None;
    }
    let v = m.parse::<i64>().ok()? * 60 + sec;
    Some(if neg { -v } else { v })
}

fn queue_rows(screen: &vt100::Screen) -> Vec<ScreenRow> {
    screen
        .rows(0, screen.size().1)
        .filter_map(|line| {
            let chars: Vec<char> = line.chars().collect();
            if chars.len() < 12 || chars[1] != ' ' || chars[11] != ' ' {
                return None;
            }
            let cell: String = chars[2..11].iter().collect();
            let band = cell[..2].to_string();
            if !matches!(band.as_str(), "  " | "! " | "!!" | "XX") {
                return None;
            }
            let remaining = parse_clock(cell[2..].trim())?;
            let rest: String = chars[11..]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_string();
            Some(ScreenRow {
                band,
                remaining,
                rest,
            })
        })
        .collect()
}

fn unique_rows(rows: &[ScreenRow]) -> Vec<&ScreenRow> {
    rows.iter()
        .filter(|r| rows.iter().filter(|o| o.rest == r.rest).count() == 1)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. The countdown goes down on a real terminal; q exits 0 and restores it
// ---------------------------------------------------------------------------------------------

#[test]
fn demo_countdown_goes_down_on_screen_and_q_restores_the_terminal() {
    let mut p = PtyProc::spawn(
        &["--demo", "--seed", "3", "--rate", "0", "--backlog", "30"],
        Opts::size(80, 24),
    );

    // Wait for a running, positive countdown on a row we can tell apart from the others, far
    // enough from zero that it stays positive while we watch.
    let seen = p.wait_for(STARTUP, "a queue row with a running countdown", |s| {
        let rows = queue_rows(s);
        unique_rows(&rows)
            .into_iter()
            .find(|r| r.band != "XX" && r.remaining >= 30)
            .cloned()
    });
    let startup = p.started.elapsed();
    // Start the stopwatch on a change of that clock, so both readings sit at the same point of
    // their second.
    let (before, t0) = p.wait_for(
        Duration::from_secs(5),
        "the countdown to change at all",
        |s| {
            queue_rows(s)
                .into_iter()
                .find(|r| r.rest == seen.rest && r.remaining != seen.remaining)
                .map(|r| (r, Instant::now()))
        },
    );
    assert!(
        before.remaining < seen.remaining,
        "the countdown went up: {seen:?} → {before:?}"
    );

    std::thread::sleep(Duration::from_millis(2500));
    let (after, elapsed) = p.with_screen(|s| {
        let elapsed = t0.elapsed();
        let row = queue_rows(s).into_iter().find(|r| r.rest == before.rest);
        (row, elapsed)
    });
    let after = after.unwrap_or_else(|| {
        panic!(
            "row {:?} is gone from the screen:\n{}",
            before.rest,
            p.screen_text()
        )
    });
    let went_down = before.remaining - after.remaining;
    eprintln!(
        "countdown: {:?} {}s -> {}s after {:.2}s (startup {:.2}s)",
        before
            .rest
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" "),
        before.remaining,
        after.remaining,
        elapsed.as_secs_f64(),
        startup.as_secs_f64()
    );
    // The clock changes on whole seconds: 2.5 s after a change it reads 2 s less (3 if this
    // thread overslept; more only if it overslept by more than a second).
    let hi = elapsed.as_secs_f64().ceil() as i64;
    assert!(
        (2..=hi.max(3)).contains(&went_down),
        "the countdown of {:?} went from {} to {} in {:.2}s (expected 2–3 s less)\n{}",
        before.rest,
        before.remaining,
        after.remaining,
        elapsed.as_secs_f64(),
        p.screen_text()
    );
    assert!(
        after.band != "XX",
        "a countdown ≥30 s was shown as breached: {after:?}"
    );

    let modes_running = p.local_modes();
    assert_eq!(
        modes_running & libc::ICANON,
        0,
        "the console runs in raw mode"
    );

    let sent = Instant::now();
    p.send(b"q");
    let exit = p
        .wait_exit(EXIT_BUDGET)
        .unwrap_or_else(|| panic!("still running 2 s after q\n{}", p.screen_text()));
    eprintln!(
        "q -> exit {:?} in {} ms",
        exit.code,
        (exit.at - sent).as_millis()
    );
    assert_eq!(exit.code, Some(0), "{exit:?}");
    let modes = p.local_modes();
    assert_ne!(modes & libc::ICANON, 0, "canonical mode is not restored");
    assert_ne!(modes & libc::ECHO, 0, "echo is not restored");
    p.drain();
    restored(&p.output()).unwrap();
    assert!(p.leftovers().is_empty(), "{:?}", p.leftovers());
}

/// `--demo` draws before its simulator is up; when the simulator then fails to start (here: no
/// temporary directory for its certificate), the console leaves with the reason, on a restored
/// terminal.
#[test]
fn demo_simulator_failure_after_the_first_frame_restores_the_terminal() {
    let mut p = PtyProc::spawn(
        &["--demo", "--rate", "0", "--backlog", "2000"],
        Opts {
            env: vec![("TMPDIR".into(), "/nonexistent/socdeck-tmp".into())],
            ..Opts::size(80, 24)
        },
    );
    let exit = p
        .wait_exit(STARTUP)
        .unwrap_or_else(|| panic!("still running\n{}", p.screen_text()));
    let modes = p.local_modes();
    assert_ne!(modes & libc::ICANON, 0, "canonical mode is not restored");
    p.drain();
    let out = p.output();
    assert_eq!(exit.code, Some(1), "{exit:?}");
    // The first frame was drawn (orgs connecting) before the failure.
    let frame = String::from_utf8_lossy(&out);
    assert!(frame.contains("connecting"), "no first frame: {frame:?}");
    restored(&out).unwrap();
    let text = p.screen_text();
    assert!(
        text.contains("socdeck: --demo: cannot start the simulator")
            && text.contains("temporary directory"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. RELIABILITY E2: signals on a live pty
// ---------------------------------------------------------------------------------------------

fn signal_exits_with(sig: libc::c_int, name: &str, code: i32) {
    let mut p = PtyProc::spawn(
        &["--demo", "--seed", "5", "--rate", "0", "--backlog", "10"],
        Opts::size(80, 24),
    );
    p.wait_for(STARTUP, "the first poll's rows", |s| {
        (!queue_rows(s).is_empty()).then_some(())
    });
    let sent = Instant::now();
    p.signal(sig);
    let exit = p
        .wait_exit(EXIT_BUDGET)
        .unwrap_or_else(|| panic!("{name}: still running 2 s later\n{}", p.screen_text()));
    let took = exit.at - sent;
    eprintln!(
        "{name}: exit {:?} (signal {:?}) in {} ms",
        exit.code,
        exit.signal,
        took.as_millis()
    );
    assert_eq!(
        exit.signal, None,
        "{name} killed the process instead of being handled: {exit:?}"
    );
    assert_eq!(exit.code, Some(code), "{name}: {exit:?}");
    assert_ne!(
        p.local_modes() & libc::ICANON,
        0,
        "{name}: canonical mode is not restored"
    );
    p.drain();
    restored(&p.output()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(p.leftovers().is_empty(), "{name}: {:?}", p.leftovers());
}

#[test]
fn e2_sigterm_exits_143_and_restores_the_terminal() {
    signal_exits_with(libc::SIGTERM, "SIGTERM", 143);
}

#[test]
fn e2_sighup_exits_129_and_restores_the_terminal() {
    signal_exits_with(libc::SIGHUP, "SIGHUP", 129);
}

#[test]
fn e2_sigint_exits_130_and_restores_the_terminal() {
    signal_exits_with(libc::SIGINT, "SIGINT", 130);
}

// ---------------------------------------------------------------------------------------------
// 3. RELIABILITY E3: the terminal goes away
// ---------------------------------------------------------------------------------------------

fn hangup_leaves_quickly(controlling_tty: bool, backlog: &str, what: &str) {
    let opts = Opts {
        controlling_tty,
        ..Opts::size(80, 24)
    };
    let mut p = PtyProc::spawn(
        &["--demo", "--seed", "7", "--rate", "0", "--backlog", backlog],
        opts,
    );
    p.wait_for(STARTUP, "the first poll", |s| {
        let text = s.contents();
        (!queue_rows(s).is_empty() || text.contains("no alerts")).then_some(())
    });
    // Let the start-up work settle so the CPU figure is about the hangup, not the start.
    std::thread::sleep(Duration::from_millis(300));
    let cpu_before = p.cpu_so_far().expect("/proc/<pid>/stat");
    let closed = Instant::now();
    p.close_master();
    let exit = p.wait_exit(EXIT_BUDGET);
    let Some(exit) = exit else {
        let cpu = p
            .cpu_so_far()
            .unwrap_or_default()
            .saturating_sub(cpu_before);
        panic!(
            "{what}: still running 2 s after the pty master was closed (CPU used since: {cpu:?})\n--- log ---\n{}",
            p.log()
        );
    };
    let took = exit.at - closed;
    let cpu = exit.cpu.saturating_sub(cpu_before);
    eprintln!(
        "{what}: exit {:?} (signal {:?}) {} ms after the master closed; CPU-s used meanwhile {:.3}",
        exit.code,
        exit.signal,
        took.as_millis(),
        cpu.as_secs_f64()
    );
    assert!(
        cpu < Duration::from_millis(200),
        "{what}: {cpu:?} CPU after the hangup (spinning?)"
    );
    // 129: SIGHUP or "terminal lost" (the same code on purpose).
    assert_eq!(exit.code, Some(129), "{what}: {exit:?}");
    let left = p.leftovers();
    assert!(left.is_empty(), "{what}: left behind: {left:?}");
    let log = p.log();
    assert!(!log.contains("panicked"), "{what}: {log}");
}

#[test]
fn e3_closed_master_with_sighup_from_the_kernel() {
    hangup_leaves_quickly(true, "10", "hangup (controlling tty, kernel SIGHUP)");
}

/// The crossterm #793 shape: the terminal is gone but no SIGHUP arrives (here: the pty is not
/// the process's controlling terminal), so only the failing reads and writes tell. Running
/// countdowns redraw every second, and that write fails…
#[test]
fn e3_closed_master_without_sighup_does_not_spin() {
    hangup_leaves_quickly(false, "10", "hangup without SIGHUP (no controlling tty)");
}

/// …but an idle console (nothing to redraw) writes nothing, and crossterm's reader thread
/// spins on the dead tty without ever ending the event stream.
#[test]
fn e3_idle_console_closed_master_without_sighup_does_not_spin() {
    hangup_leaves_quickly(false, "0", "idle console, hangup without SIGHUP");
}

// ---------------------------------------------------------------------------------------------
// 4. RELIABILITY A1 through the real binary: a replay file of hostile strings
// ---------------------------------------------------------------------------------------------

/// Fields of each hostile alert that carry the payload.
const HOSTILE_FIELDS: &[&str] = &[
    "device_name",
    "process_name",
    "reason",
    "process_cmdline",
    "device_os",
    "device_policy",
    "device_username",
    "process_username",
];

fn tag(i: usize) -> String {
    format!("T{i:03}-")
}

/// One JSON line per corpus payload. `device_name` starts with a visible tag (`T007-`) so each
/// row can be recognised on screen; the other fields hold the payload as it is.
fn hostile_replay(corpus: &[(&'static str, String)]) -> String {
    let newest = jiff::Timestamp::now();
    let mut out = String::new();
    for (i, (name, payload)) in corpus.iter().enumerate() {
        let at = newest - jiff::SignedDuration::from_secs(60 * i as i64);
        let mut alert = serde_json::json!({
            "id": format!("00000000-0000-4000-8000-{:012x}", 0xA1_0000 + i),
            "org_key": "HOSTILE1",
            "type": "CB_ANALYTICS",
            "severity": (i % 10) + 1,
            "backend_timestamp": at.to_string(),
            "backend_update_timestamp": at.to_string(),
            "device_id": 10_000 + i,
            "process_sha256": format!("{:064x}", i),
            "ttps": [payload, name],
            "workflow": {"status": "OPEN", "change_timestamp": at.to_string()},
        });
        for f in HOSTILE_FIELDS {
            alert[*f] = serde_json::Value::String(payload.clone());
        }
        alert["device_name"] = serde_json::Value::String(format!("{}{payload}", tag(i)));
        out.push_str(&serde_json::to_string(&alert).unwrap());
        out.push('\n');
    }
    out
}

/// What was found in the raw output.
#[derive(Debug, Default)]
struct OutputScan {
    /// CSI sequences by shape (parameters with digits as `n`, plus the final byte).
    csi: BTreeMap<String, usize>,
    /// Anything else: non-CSI escapes, bare controls, C1, bidi, zero-width, …
    raw: Vec<String>,
}

/// Walks every byte: an ESC must start a well-formed CSI (`ESC [` parameter bytes,
/// intermediate bytes, final byte); every other character must not be hidden
/// (`socdeck::text::is_hidden`: Cc incl. BEL/C1, Cf incl. bidi and zero-width, Zl/Zp, DI).
fn scan_output(bytes: &[u8]) -> OutputScan {
    let mut scan = OutputScan::default();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            scan.raw
                .push(format!("invalid UTF-8 at byte {}", e.valid_up_to()));
            return scan;
        }
    };
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0x1b {
            if b.get(i + 1) != Some(&b'[') {
                let ctx = String::from_utf8_lossy(&b[i..(i + 12).min(b.len())]).into_owned();
                scan.raw.push(format!("non-CSI escape at {i}: {ctx:?}"));
                i += 1;
                continue;
            }
            let mut j = i + 2;
            while j < b.len() && (0x30..=0x3f).contains(&b[j]) {
                j += 1;
            }
            while j < b.len() && (0x20..=0x2f).contains(&b[j]) {
                j += 1;
            }
            if j < b.len() && (0x40..=0x7e).contains(&b[j]) {
                let params = &text[i + 2..j];
                let shape: String = params
                    .chars()
                    .map(|c| if c.is_ascii_digit() { 'n' } else { c })
                    .collect();
                let mut shape = shape.replace("nn", "n");
                while shape.contains("nn") {
                    shape = shape.replace("nn", "n");
                }
                // Keep the private modes readable: ?1049h, ?25l.
                let key = if params.starts_with('?') {
                    format!("{params}{}", b[j] as char)
                } else {
                    format!("{shape}{}", b[j] as char)
                };
                *scan.csi.entry(key).or_default() += 1;
                i = j + 1;
            } else {
                let ctx = String::from_utf8_lossy(&b[i..(i + 12).min(b.len())]).into_owned();
                scan.raw.push(format!("malformed CSI at {i}: {ctx:?}"));
                i += 2;
            }
            continue;
        }
        let c = text[i..].chars().next().unwrap();
        // The wire backend's relative moves (it never prints a control from a cell: those go
        // out as U+FFFD, see src/ui/wire.rs).
        if let Some(name) = match c {
            '\r' => Some("CR"),
            '\n' => Some("LF"),
            '\x08' => Some("BS"),
            _ => None,
        } {
            *scan.csi.entry(name.to_string()).or_default() += 1;
            i += 1;
            continue;
        }
        if socdeck::text::is_hidden(c) {
            scan.raw
                .push(format!("raw U+{:04X} at byte {i}", u32::from(c)));
        }
        i += c.len_utf8();
    }
    scan
}

/// CSI shapes the console draws with: cursor position (absolute and relative, and the CR, LF
/// and BS moves), SGR, clear, cursor visibility and the alternate screen. A payload's CSI
/// escaping the sanitiser raw would show up as another shape (or as extra counts of the
/// once-only ones, checked separately).
fn csi_allowed(key: &str) -> bool {
    matches!(
        key,
        "n;nH"
            | "nH"
            | "H"
            | "A"
            | "nA"
            | "B"
            | "nB"
            | "C"
            | "nC"
            | "D"
            | "nD"
            | "CR"
            | "LF"
            | "BS"
            | "?25l"
            | "?25h"
            | "?1049h"
            | "?1049l"
            | "nJ"
    ) || (key.ends_with('m')
        && key[..key.len() - 1]
            .chars()
            .all(|c| matches!(c, 'n' | ';' | ':')))
}

#[test]
fn a1_hostile_replay_through_the_real_binary_emits_no_raw_controls() {
    let corpus = socdeck::text::corpus::hostile_corpus();
    assert!(corpus.len() >= 40, "the corpus shrank to {}", corpus.len());
    let n = corpus.len();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.jsonl");
    std::fs::write(&file, hostile_replay(&corpus)).unwrap();

    let mut p = PtyProc::spawn(
        &["--demo", "--replay", file.to_str().unwrap(), "--rate", "0"],
        Opts::size(200, 50),
    );

    // The preview's "Device" field names the selected alert by its tag.
    let preview_tag = |s: &vt100::Screen| -> Option<usize> {
        s.rows(0, 200).find_map(|line| {
            let at = line.find("Device    T")?;
            let digits = line.get(at + 11..at + 14)?;
            digits.parse().ok()
        })
    };
    let first = p.wait_for(STARTUP, "the hostile rows and their preview", |s| {
        let text = s.contents();
        (text.contains(&format!("{} alerts", n)) && text.contains("Selected alert"))
            .then(|| preview_tag(s))
            .flatten()
    });
    let mut seen_tags = BTreeSet::from([first]);
    let mut screens = vec![p.screen_text()];
    let flagged_rows_first = p.with_screen(|s| {
        s.rows(0, 200)
            .filter(|l| l.starts_with("# ") && l.contains(" T0"))
            .count()
    });

    // Scroll through every row; each step waits until the preview shows another alert.
    let scroll_start = Instant::now();
    let mut last = first;
    for step in 1..n {
        p.send(b"j");
        last = p.wait_for(
            Duration::from_secs(10),
            &format!("the preview to move on (step {step}, last T{last:03})"),
            |s| preview_tag(s).filter(|t| *t != last),
        );
        seen_tags.insert(last);
        screens.push(p.screen_text());
    }
    let scroll = scroll_start.elapsed();
    // One more `j` at the bottom must not crash or move.
    p.send(b"j");
    p.send(b"q");
    let exit = p
        .wait_exit(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("still running after q\n{}", p.screen_text()));
    assert_eq!(exit.code, Some(0), "{exit:?}\n{}", p.log());
    p.drain();
    let out = p.output();

    // Every alert was shown in the preview.
    let missing: Vec<usize> = (0..n).filter(|i| !seen_tags.contains(i)).collect();
    assert!(
        missing.is_empty(),
        "alerts never shown in the preview: {missing:?}"
    );

    // Nothing raw reached the terminal.
    let scan = scan_output(&out);
    let odd_csi: Vec<(&String, &usize)> =
        scan.csi.iter().filter(|(k, _)| !csi_allowed(k)).collect();
    eprintln!(
        "A1 via pty: {n} payloads × {} fields, {} screens, {} bytes written; scroll {:.2}s; CSI shapes {:?}",
        HOSTILE_FIELDS.len(),
        screens.len(),
        out.len(),
        scroll.as_secs_f64(),
        scan.csi
    );
    eprintln!(
        "A1 via pty: {n} payloads → {} raw control bytes, {} unexpected CSI",
        scan.raw.len(),
        odd_csi.len()
    );
    assert!(
        scan.raw.is_empty(),
        "raw control/hidden characters reached the tty: {:?}",
        &scan.raw[..scan.raw.len().min(40)]
    );
    assert!(
        odd_csi.is_empty(),
        "CSI sequences ratatui does not draw with: {odd_csi:?}"
    );
    assert_eq!(
        count(&out, b"\x1b[?1049h"),
        1,
        "alternate screen entered more than once"
    );
    assert_eq!(
        count(&out, b"\x1b[?1049l"),
        1,
        "alternate screen left more than once"
    );
    assert!(!out.contains(&0x07), "BEL in the output");
    restored(&out).unwrap();

    // Each hidden character shows as a visible escape, and rows carry the flag.
    let all = screens.join("\n");
    for marker in [
        "\\x1b",
        "\\x07",
        "\\x9b",
        "\\x00",
        "\\x0a",
        "\\x0d",
        "\\x7f",
        "\\u202e",
        "\\u2066",
        "\\u200b",
        "\\ufeff",
        "\\u2028",
        "\\u{e0069}",
    ] {
        assert!(all.contains(marker), "no visible {marker} on any screen");
    }
    assert!(
        all.contains("# this alert holds hidden or control characters"),
        "no flag line in the preview"
    );
    let table_rows = 50 - 2 - 1 - 1 - 12;
    assert_eq!(
        flagged_rows_first,
        n.min(table_rows),
        "rows without the # flag:\n{}",
        screens[0]
    );
    // A1/A2: no payload adds or moves a line — the "FAKE-ROW" text never starts a line.
    assert!(
        !all.lines().any(|l| l.starts_with("FAKE-ROW")),
        "a payload split a row"
    );
    let log = p.log();
    assert!(!log.contains("panicked"), "{log}");
}

// ---------------------------------------------------------------------------------------------
// Resizes, including to nothing, keep the console up
// ---------------------------------------------------------------------------------------------

#[test]
fn tiny_and_odd_window_sizes_do_not_crash_the_console() {
    let mut p = PtyProc::spawn(
        &["--demo", "--seed", "11", "--rate", "0", "--backlog", "20"],
        Opts::size(80, 24),
    );
    p.wait_for(STARTUP, "the first poll's rows", |s| {
        (!queue_rows(s).is_empty()).then_some(())
    });
    for (cols, rows) in [
        (1, 1),
        (0, 0),
        (10, 3),
        (200, 1),
        (1, 200),
        (59, 36),
        (60, 36),
        (20, 50),
        (80, 24),
    ] {
        p.resize(cols, rows);
        std::thread::sleep(Duration::from_millis(150));
        if let Some(exit) = p.try_wait() {
            panic!(
                "the console ended at {cols}×{rows}: {exit:?}\n--- log ---\n{}",
                p.log()
            );
        }
    }
    // Back at 80×24 it draws the queue again.
    p.wait_for(Duration::from_secs(10), "the queue at 80×24 again", |s| {
        (!queue_rows(s).is_empty()).then_some(())
    });
    p.send(b"q");
    let exit = p.wait_exit(EXIT_BUDGET).expect("exit after q");
    assert_eq!(exit.code, Some(0), "{exit:?}");
}
