//! Snapshots of the console on `TestBackend` (insta; the `.snap` files are committed and a
//! stale one fails `cargo test`): the queue at 80×24 and 200×50 in the `default` and `mono`
//! themes, the help overlay and the command palette — each as the screen's text plus a map of
//! the cells' styles. Plus the layout rules (columns kept at 80 columns, the preview at
//! 200×50), and every hostile string of the corpus through the queue and the preview
//! (RELIABILITY A1): no cell may hold a control or format character, every row is flagged.
//!
//! Review a changed snapshot with `cargo insta review`, or run
//! `INSTA_UPDATE=always cargo test --test console_snapshots` and read the diff of the `.snap`
//! files before committing them.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Style;
use ratatui::text::Span;
use socdeck::app::queue::Row;
use socdeck::app::{App, Msg, OrgState, Settings, update};
use socdeck::cbc::model::{Alert, Workflow};
use socdeck::config::keymap::Keymap;
use socdeck::config::theme::{Slot, Theme};
use socdeck::text::{corpus::hostile_corpus, is_hidden};
use socdeck::ui::columns_for_width;

// ---------------------------------------------------------------------------------------------
// Rendering helpers

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn at(hms: &str) -> Timestamp {
    ts(&format!("2026-11-30T{hms}Z"))
}

fn render(app: &App) -> Buffer {
    let (w, h) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| socdeck::ui::view(app, f)).unwrap();
    let buf = terminal.backend().buffer().clone();
    assert_clean(&buf);
    buf
}

/// No cell holds a control character or a hidden (format, bidi, zero-width...) one.
fn assert_clean(buf: &Buffer) {
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let sym = buf[(x, y)].symbol();
            for c in sym.chars() {
                assert!(
                    !c.is_control() && !is_hidden(c),
                    "cell ({x},{y}) holds U+{:04X} in {sym:?}",
                    u32::from(c)
                );
            }
        }
    }
}

/// One terminal row as text: a wide character takes its cells.
fn line(buf: &Buffer, y: u16) -> String {
    let mut out = String::new();
    let mut skip = 0usize;
    for x in 0..buf.area.width {
        let sym = buf[(x, y)].symbol();
        if skip == 0 {
            out.push_str(sym);
            skip = Span::raw(sym).width().saturating_sub(1);
        } else {
            skip -= 1;
        }
    }
    out
}

fn lines(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height).map(|y| line(buf, y)).collect()
}

/// The screen's text, each row numbered (trailing blanks dropped).
fn text(buf: &Buffer) -> String {
    lines(buf)
        .iter()
        .enumerate()
        .map(|(y, l)| format!("{y:02}│{}", l.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A map of the cells' styles: a legend (one letter per distinct style, in order of first
/// appearance), then one string per row with a letter per cell.
fn styles(buf: &Buffer) -> String {
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut ids: HashMap<String, char> = HashMap::new();
    let mut legend: Vec<String> = Vec::new();
    let mut grid: Vec<String> = Vec::new();
    for y in 0..buf.area.height {
        let mut row = format!("{y:02}│");
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            let mut desc = format!("fg={:?} bg={:?}", c.fg, c.bg);
            if !c.modifier.is_empty() {
                desc.push_str(&format!(" {:?}", c.modifier));
            }
            let next = ids.len();
            let id = *ids.entry(desc.clone()).or_insert_with(|| {
                let l = LETTERS.chars().nth(next).expect("fewer than 62 styles");
                legend.push(format!("{l} = {desc}"));
                l
            });
            row.push(id);
        }
        grid.push(row);
    }
    format!("{}\n\n{}", legend.join("\n"), grid.join("\n"))
}

fn snapshot(buf: &Buffer) -> String {
    format!("{}\n\n-- styles --\n{}", text(buf), styles(buf))
}

fn key(app: &mut App, code: KeyCode) {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn ch(app: &mut App, c: char) {
    key(app, KeyCode::Char(c));
}

/// Moves the selection down (with `j`, as an analyst would) until `id` is selected.
fn select(app: &mut App, id: &str) {
    ch(app, 'g');
    for _ in 0..app.queue.visible_len() {
        if app.queue.selected().is_some_and(|r| &*r.key.id == id) {
            return;
        }
        ch(app, 'j');
    }
    panic!("{id} not in the queue");
}

/// The screen row showing `needle`.
fn row_with(buf: &Buffer, needle: &str) -> (u16, String) {
    lines(buf)
        .into_iter()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .map(|(y, l)| (y as u16, l))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{}", text(buf)))
}

/// Whether `cell` carries `style` (its colours where set, and its modifiers).
fn has_style(cell: &ratatui::buffer::Cell, style: Style) -> bool {
    style.fg.is_none_or(|fg| cell.fg == fg)
        && style.bg.is_none_or(|bg| cell.bg == bg)
        && cell.modifier.contains(style.add_modifier)
}

/// Cells of row `y` where an escape (`\x..` / `\u..`) starts, with whether it has `style`.
fn escapes_on_row(buf: &Buffer, y: u16, x0: u16, style: Style) -> Vec<(u16, bool)> {
    (x0..buf.area.width.saturating_sub(1))
        .filter(|&x| buf[(x, y)].symbol() == "\\" && matches!(buf[(x + 1, y)].symbol(), "x" | "u"))
        .map(|x| {
            (
                x,
                has_style(&buf[(x, y)], style) && has_style(&buf[(x + 1, y)], style),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The dataset: 25 alerts over three orgs at 09:00:00 UTC — every band, a closed alert (on time
// and late), an alert without a receipt time, work in progress, Japanese text, a hostile
// process name; Tanaka Seiki live, Kobe Logistics stale, Hokuriku Bank failing.

const ORGS: [(&str, &str); 3] = [
    ("Tanaka Seiki", "7DESJ9GN"),
    ("Kobe Logistics", "KOBE2LOG"),
    ("Hokuriku Bank", "HKRK3BNK"),
];

const JP_CMDLINE: &str = r#""C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n "C:\Users\k.sato\Downloads\給与明細_2026年3月.docm""#;
const HOSTILE_PROCESS: &str = "C:\\Users\\Public\\evil\u{1b}[2J\u{202e}exe.txt";
const HOSTILE_SHOWN: &str = "evil\\x1b[2J\\u202eexe.txt";

struct Spec {
    id: &'static str,
    org: u16,
    /// `backend_timestamp` (HH:MM:SS on 2026-11-30), `None` for no receipt time.
    received: Option<&'static str>,
    severity: i64,
    kind: &'static str,
    device: &'static str,
    reason: &'static str,
    process: &'static str,
    /// "OPEN", "IN_PROGRESS" (owner k.sato / yuki.sato) or "CLOSED at HH:MM:SS".
    status: &'static str,
}

#[rustfmt::skip]
const SPECS: &[Spec] = &[
    Spec { id: "T-01", org: 0, received: Some("07:55:57"), severity: 8, kind: "CB_ANALYTICS", device: "FIN-WS-014", reason: "Ransomware-like mass file encryption", process: r"C:\Users\m.ito\AppData\Local\Temp\7zr.exe", status: "OPEN" },
    Spec { id: "K-01", org: 1, received: Some("07:58:30"), severity: 9, kind: "CB_ANALYTICS", device: "KOBE-DC01", reason: "Credential dumping from LSASS memory", process: r"C:\Windows\System32\rundll32.exe", status: "OPEN" },
    Spec { id: "H-01", org: 2, received: Some("08:00:00"), severity: 7, kind: "HOST_BASED_FIREWALL", device: "HKB-TELLER-07", reason: "Outbound connection to known C2 infrastructure", process: r"C:\Program Files\TellerApp\updater.exe", status: "OPEN" },
    Spec { id: "T-02", org: 0, received: Some("08:04:12"), severity: 10, kind: "CB_ANALYTICS", device: "経理部-PC01", reason: "Office macro in 給与明細_2026年3月.docm started PowerShell", process: r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE", status: "OPEN" },
    Spec { id: "K-02", org: 1, received: Some("08:08:00"), severity: 6, kind: "DEVICE_CONTROL", device: "KOBE-WH-LAPTOP3", reason: "Blocked USB mass storage device", process: "", status: "OPEN" },
    Spec { id: "T-03", org: 0, received: Some("08:10:00"), severity: 5, kind: "WATCHLIST", device: "DEV-BUILD-02", reason: "Watchlist hit: AMSI bypass strings", process: r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", status: "OPEN" },
    Spec { id: "H-02", org: 2, received: Some("08:10:01"), severity: 8, kind: "CB_ANALYTICS", device: "HKB-HQ-FS01", reason: "Lateral movement with PsExec", process: r"C:\Windows\PSEXESVC.exe", status: "IN_PROGRESS yuki.sato@soc.example" },
    Spec { id: "T-04", org: 0, received: Some("08:15:30"), severity: 4, kind: "CB_ANALYTICS", device: "FIN-WS-022", reason: "Unsigned program ran from a public folder", process: HOSTILE_PROCESS, status: "OPEN" },
    Spec { id: "K-03", org: 1, received: Some("08:20:00"), severity: 7, kind: "INTRUSION_DETECTION_SYSTEM", device: "KOBE-EDGE-FW", reason: "SMB exploit attempt (EternalBlue signature)", process: "", status: "OPEN" },
    Spec { id: "T-05", org: 0, received: Some("08:20:01"), severity: 3, kind: "WATCHLIST", device: "FIN-WS-031", reason: "Known admin tool used: AnyDesk", process: r"C:\Users\h.mori\Downloads\AnyDesk.exe", status: "OPEN" },
    Spec { id: "H-03", org: 2, received: Some("08:25:00"), severity: 2, kind: "CB_ANALYTICS", device: "HKB-ATM-GW-02", reason: "Scheduled task created by an installer", process: r"C:\Windows\System32\schtasks.exe", status: "OPEN" },
    Spec { id: "T-06", org: 0, received: Some("08:30:00"), severity: 6, kind: "CB_ANALYTICS", device: "SALES-MBP-11", reason: "Persistence via LaunchAgent plist", process: "/usr/bin/osascript", status: "IN_PROGRESS k.sato@soc.example" },
    Spec { id: "K-04", org: 1, received: Some("08:31:00"), severity: 1, kind: "CONTAINER_RUNTIME", device: "kobe-k8s-node-4", reason: "Shell spawned in a container", process: "/bin/sh", status: "OPEN" },
    Spec { id: "T-07", org: 0, received: Some("08:40:00"), severity: 9, kind: "CB_ANALYTICS", device: "FIN-WS-014", reason: "Shadow copies deleted with vssadmin", process: r"C:\Windows\System32\vssadmin.exe", status: "OPEN" },
    Spec { id: "T-08", org: 0, received: Some("08:40:00"), severity: 4, kind: "WATCHLIST", device: "FIN-WS-040", reason: "Suspicious certutil download", process: r"C:\Windows\System32\certutil.exe", status: "OPEN" },
    Spec { id: "H-04", org: 2, received: Some("08:45:00"), severity: 5, kind: "CB_ANALYTICS", device: "HKB-BR12-PC03", reason: "Browser spawned a script host", process: r"C:\Windows\System32\wscript.exe", status: "OPEN" },
    Spec { id: "K-05", org: 1, received: Some("08:52:00"), severity: 3, kind: "CB_ANALYTICS", device: "KOBE-OFFICE-PC9", reason: "PUP installer detected", process: r"C:\Users\t.abe\Downloads\setup_free.exe", status: "OPEN" },
    Spec { id: "T-09", org: 0, received: Some("08:58:59"), severity: 7, kind: "CB_ANALYTICS", device: "経理部-PC02", reason: "Encoded PowerShell command line", process: r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", status: "OPEN" },
    Spec { id: "H-05", org: 2, received: Some("08:59:30"), severity: 8, kind: "CB_ANALYTICS", device: "HKB-TELLER-09", reason: "Outbound connection to known C2 infrastructure", process: r"C:\Program Files\TellerApp\updater.exe", status: "OPEN" },
    Spec { id: "H-06", org: 2, received: None, severity: 5, kind: "WATCHLIST", device: "HKB-LEGACY-01", reason: "Watchlist hit without a receipt time", process: r"C:\Windows\System32\cmd.exe", status: "OPEN" },
    Spec { id: "T-10", org: 0, received: Some("07:30:00"), severity: 6, kind: "CB_ANALYTICS", device: "FIN-WS-014", reason: "Suspicious PowerShell download cradle", process: r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", status: "CLOSED 08:10:00" },
    Spec { id: "K-06", org: 1, received: Some("06:00:00"), severity: 8, kind: "CB_ANALYTICS", device: "KOBE-DC01", reason: "Kerberoasting pattern", process: r"C:\Windows\System32\lsass.exe", status: "CLOSED 07:30:00" },
    Spec { id: "H-07", org: 2, received: Some("08:20:00"), severity: 4, kind: "HOST_BASED_FIREWALL", device: "HKB-BR12-PC01", reason: "Blocked inbound RDP", process: "", status: "CLOSED 08:35:00" },
    Spec { id: "T-11", org: 0, received: Some("05:00:00"), severity: 2, kind: "WATCHLIST", device: "DEV-BUILD-02", reason: "Compiler wrote to System32 (false positive)", process: r"C:\Program Files\LLVM\bin\clang.exe", status: "CLOSED 05:20:00" },
    Spec { id: "K-07", org: 1, received: Some("08:35:00"), severity: 1, kind: "DEVICE_CONTROL", device: "KOBE-WH-LAPTOP3", reason: "Approved USB device connected", process: "", status: "CLOSED 08:50:00" },
];

fn spec_alert(s: &Spec) -> Alert {
    let received = s.received.map(at);
    let opt = |v: &str| (!v.is_empty()).then(|| v.to_string());
    let (status, owner, changed) = match s.status.split_once(' ') {
        None => (s.status, None, None),
        Some(("IN_PROGRESS", owner)) => ("IN_PROGRESS", Some(owner), None),
        Some(("CLOSED", when)) => ("CLOSED", Some("m.ito@soc.example"), Some(at(when))),
        Some(other) => panic!("{other:?}"),
    };
    let updated = changed.or(received.map(|r| r + SignedDuration::from_secs(40)));
    let japanese = s.device.starts_with("経理部");
    Alert {
        id: Some(format!("{}-3f9c2a", s.id)),
        alert_type: Some(s.kind.into()),
        severity: Some(s.severity),
        reason: Some(s.reason.into()),
        backend_timestamp: received,
        backend_update_timestamp: updated,
        workflow: Some(Workflow {
            status: Some(status.into()),
            closure_reason: changed.map(|_| "OTHER".into()),
            change_timestamp: updated,
            changed_by_type: Some("USER".into()),
            changed_by: owner.map(Into::into),
            ..Default::default()
        }),
        device_id: Some(48_000 + i64::from(s.org) * 1000 + s.severity * 7),
        device_name: Some(s.device.into()),
        device_os: Some(
            if s.process.starts_with('/') {
                "LINUX"
            } else {
                "WINDOWS"
            }
            .into(),
        ),
        device_policy: Some("Standard".into()),
        process_name: opt(s.process),
        process_username: Some(
            if japanese {
                r"TANAKA\k.sato"
            } else {
                r"CORP\svc-user"
            }
            .into(),
        ),
        process_sha256: opt(s.process)
            .map(|_| "6f1c8a3b0e9d4f27a5c1e8b2d7f3a9c04e6b8d1f2a3c5e7b9d0f1a2b3c4d5e6f".into()),
        process_cmdline: if s.id == "T-02" {
            Some(JP_CMDLINE.into())
        } else {
            opt(s.process).map(|p| format!("\"{p}\" -q"))
        },
        ttps: vec!["MITRE_T1059_COMMAND_SCRIPTING".into()],
        ..Default::default()
    }
}

/// The dataset delivered through the reducer as the runtime would: Kobe polled at 08:56:30
/// (stale by 09:00), Hokuriku polled at 08:59:40 then failing at 08:59:50, Tanaka polled at
/// 08:59:58; the clock at 09:00:00.
fn dataset(theme: &str, size: (u16, u16)) -> App {
    let orgs = ORGS.iter().map(|(n, k)| OrgState::new(*n, *k)).collect();
    let settings = Settings {
        display_tz: jiff::tz::TimeZone::UTC,
        ..Default::default()
    };
    let theme = Theme::embedded(theme).expect("built-in theme");
    let mut app = App::new(orgs, settings, Keymap::default(), theme, at("08:56:00"));
    update(&mut app, Msg::Resize(size.0, size.1));
    let poll = |app: &mut App, org: u16, when: &str| {
        update(app, Msg::Tick(at(when)));
        let rows: Vec<Row> = SPECS
            .iter()
            .filter(|s| s.org == org)
            .map(|s| Row::from_alert(org, &spec_alert(s)).unwrap())
            .collect();
        update(
            app,
            Msg::Polled {
                org,
                rows,
                at: at(when),
                initial: true,
            },
        );
    };
    poll(&mut app, 1, "08:56:30");
    poll(&mut app, 2, "08:59:40");
    update(&mut app, Msg::Tick(at("08:59:50")));
    update(
        &mut app,
        Msg::PollFailed {
            org: 2,
            error: "HTTP 503 Service Unavailable".into(),
            at: at("08:59:50"),
            retry_at: Some(at("09:00:20")),
        },
    );
    poll(&mut app, 0, "08:59:58");
    update(&mut app, Msg::Tick(at("09:00:00")));
    assert_eq!(app.queue.len(), SPECS.len());
    assert!(app.toasts.is_empty(), "{:?}", app.toasts);
    app
}

fn id(short: &str) -> String {
    format!("{short}-3f9c2a")
}

// ---------------------------------------------------------------------------------------------
// Snapshots

fn queue_snapshot(theme: &str, size: (u16, u16)) -> (Buffer, String) {
    let mut app = dataset(theme, size);
    select(&mut app, &id("T-02"));
    let buf = render(&app);
    let snap = snapshot(&buf);
    (buf, snap)
}

#[test]
fn queue_80x24_default() {
    insta::assert_snapshot!("queue_80x24_default", queue_snapshot("default", (80, 24)).1);
}

#[test]
fn queue_80x24_mono() {
    insta::assert_snapshot!("queue_80x24_mono", queue_snapshot("mono", (80, 24)).1);
}

#[test]
fn queue_200x50_default() {
    insta::assert_snapshot!(
        "queue_200x50_default",
        queue_snapshot("default", (200, 50)).1
    );
}

#[test]
fn queue_200x50_mono() {
    insta::assert_snapshot!("queue_200x50_mono", queue_snapshot("mono", (200, 50)).1);
}

#[test]
fn queue_200x50_hostile_alert_selected() {
    let mut app = dataset("default", (200, 50));
    select(&mut app, &id("T-04"));
    insta::assert_snapshot!("queue_200x50_hostile_selected", snapshot(&render(&app)));
}

#[test]
fn help_overlay_80x24() {
    let mut app = dataset("default", (80, 24));
    ch(&mut app, '?');
    insta::assert_snapshot!("help_80x24", snapshot(&render(&app)));
    // Scrolled to the end: the legend of the SLA column.
    for _ in 0..40 {
        ch(&mut app, 'j');
    }
    let buf = render(&app);
    let t = text(&buf);
    assert!(t.contains("deadline passed"), "{t}");
    assert!(t.contains("that org's data is stale"), "{t}");
}

#[test]
fn palette_80x24() {
    let mut app = dataset("default", (80, 24));
    ch(&mut app, ':');
    insta::assert_snapshot!("palette_80x24", snapshot(&render(&app)));
    for c in "lev".chars() {
        ch(&mut app, c);
    }
    let buf = render(&app);
    let (_, l) = row_with(&buf, ":lev_");
    assert!(l.contains(":lev_"), "{l}");
    row_with(&buf, "level");
    row_with(&buf, "high|medium|low|fp|all");
}

// ---------------------------------------------------------------------------------------------
// Layout rules

#[test]
fn the_text_is_the_same_in_every_theme() {
    // Bands, levels, flags and stale marks read without colour: only styles differ.
    for size in [(80, 24), (200, 50)] {
        let default = text(&queue_snapshot("default", size).0);
        let mono = text(&queue_snapshot("mono", size).0);
        assert_eq!(default, mono, "{size:?}");
    }
}

#[test]
fn columns_drop_in_a_fixed_priority_order_and_the_first_four_always_show() {
    const PRIORITY: [&str; 11] = [
        "Sla", "Level", "Org", "Device", "Flag", "Reason", "Severity", "Process", "Status",
        "Owner", "Type",
    ];
    let mut previous = 0;
    for width in 0..=300u16 {
        let cols = columns_for_width(width);
        let names: Vec<String> = cols.iter().map(|(c, _)| format!("{c:?}")).collect();
        // The kept columns are a prefix of the priority list, growing with the width.
        let n = names.len();
        let mut kept: Vec<&str> = PRIORITY[..n].to_vec();
        kept.sort_by_key(|c| {
            [
                "Flag", "Sla", "Level", "Severity", "Org", "Device", "Reason", "Process", "Status",
                "Owner", "Type",
            ]
            .iter()
            .position(|d| d == c)
        });
        assert_eq!(names, kept, "width {width}");
        assert!(n >= 4 && n >= previous, "width {width}: {names:?}");
        previous = n;
        // They fit once the four fit (35 columns); with a Reason column, exactly.
        let used: u16 = cols.iter().map(|(_, w)| *w).sum::<u16>() + (n as u16 - 1);
        if width >= 35 {
            assert!(used <= width, "width {width}: {cols:?}");
        }
        if names.iter().any(|c| c == "Reason") {
            assert_eq!(used, width, "width {width}: {cols:?}");
        }
    }
    let at80: Vec<String> = columns_for_width(80)
        .iter()
        .map(|(c, _)| format!("{c:?}"))
        .collect();
    assert_eq!(
        at80,
        [
            "Flag", "Sla", "Level", "Severity", "Org", "Device", "Reason", "Process"
        ]
    );
    assert_eq!(columns_for_width(200).len(), 11);
}

#[test]
fn at_80_columns_and_narrower_the_countdown_level_org_and_device_show() {
    for width in [80, 64, 48, 40] {
        let mut app = dataset("mono", (width, 24));
        select(&mut app, &id("T-02"));
        let buf = render(&app);
        let header = line(&buf, 2);
        for title in ["SLA", "Level", "Customer", "Device"] {
            assert!(header.contains(title), "{width}: {header:?} lacks {title}");
        }
        let (_, row) = row_with(&buf, "!!  04:12");
        assert!(row.contains("High?"), "{width}: {row:?}");
        assert!(row.contains("Tanaka"), "{width}: {row:?}");
        assert!(row.contains("経理部"), "{width}: {row:?}");
        // Stale data is marked on its rows; bands read as marks.
        let (_, kobe) = row_with(&buf, "XX -01:30");
        assert!(kobe.contains("~Kobe"), "{width}: {kobe:?}");
    }
}

#[test]
fn the_80x24_queue_shows_counts_org_states_bands_and_the_hostile_row() {
    let (buf, _) = queue_snapshot("mono", (80, 24));
    let header = line(&buf, 0);
    assert!(
        header.contains("open 20  clocks 19  breached 2  09:00"),
        "{header:?}"
    );
    let orgs = line(&buf, 1);
    for state in [
        "Tanaka Seiki ok <1m",
        "Kobe Logistics STALE 3m",
        "Hokuriku Bank ERROR, data <1m",
    ] {
        assert!(orgs.contains(state), "{orgs:?} lacks {state:?}");
    }
    for mark in [
        "XX -04:03",
        "!!  00:00",
        "!   10:01",
        "!   20:00",
        "    20:01",
    ] {
        row_with(&buf, mark);
    }
    // The hostile row: flagged, escapes visible and styled as escapes.
    let (y, row) = row_with(&buf, "FIN-WS-022");
    assert!(row.starts_with('#'), "{row:?}");
    assert!(row.contains("evil\\x1b["), "{row:?}");
    let escape = Theme::embedded("mono").unwrap().style(Slot::Escape);
    let found = escapes_on_row(&buf, y, 0, escape);
    assert!(
        !found.is_empty() && found.iter().all(|(_, styled)| *styled),
        "{found:?}"
    );
    // Rows without hidden characters carry no flag.
    let (_, plain) = row_with(&buf, "FIN-WS-031");
    assert!(plain.starts_with(' '), "{plain:?}");
    // The footer: the legend of the stale mark.
    assert!(line(&buf, 23).contains("~ = stale data (3m)"));
}

#[test]
fn at_200x50_every_column_and_the_preview_show() {
    let (buf, _) = queue_snapshot("default", (200, 50));
    let header = line(&buf, 2);
    for title in [
        "SLA", "Level", "Sev", "Customer", "Device", "Reason", "Process", "Status", "Owner", "Type",
    ] {
        assert!(header.contains(title), "{header:?} lacks {title}");
    }
    let t = text(&buf);
    assert!(t.contains("Selected alert"), "{t}");
    let (_, customer) = row_with(&buf, "Customer  Tanaka Seiki (7DESJ9GN)");
    assert!(customer.contains("経理部-PC01"), "{customer:?}");
    let (_, cmd) = row_with(&buf, "Command   ");
    assert!(cmd.contains("給与明細_2026年3月.docm"), "{cmd:?}");
    let (_, received) = row_with(&buf, "Received  ");
    assert!(
        received.contains("2026-11-30 08:04:12 UTC") && received.contains("!!  04:12"),
        "{received:?}"
    );
    // All 25 alerts fit: the closed ones last.
    let (_, last) = row_with(&buf, "KOBE-WH-LAPTOP3  Approved USB");
    assert!(last.contains("closed"), "{last:?}");
    // The hostile row in full width: both escapes and the flag.
    let (y, row) = row_with(&buf, "FIN-WS-022");
    assert!(row.starts_with('#'), "{row:?}");
    // The Process column (20 wide) cuts the name: ".txt" is left for the preview.
    assert!(row.contains("evil\\x1b[2J\\u202eexe"), "{row:?}");
    let escape = Theme::embedded("default").unwrap().style(Slot::Escape);
    let found = escapes_on_row(&buf, y, 0, escape);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|(_, styled)| *styled), "{found:?}");
}

#[test]
fn the_hostile_alert_in_the_preview_shows_escapes_and_the_warning() {
    let mut app = dataset("mono", (200, 50));
    select(&mut app, &id("T-04"));
    let buf = render(&app);
    let (y, process) = row_with(&buf, "Process   C:\\Users\\Public\\");
    assert!(process.contains(HOSTILE_SHOWN), "{process:?}");
    let escape = app.theme.style(Slot::Escape);
    let found = escapes_on_row(&buf, y, 0, escape);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|(_, s)| *s), "{found:?}");
    row_with(&buf, "# this alert holds hidden or control characters");
}

// ---------------------------------------------------------------------------------------------
// RELIABILITY A1: the hostile corpus through the queue and the preview

fn hostile_app(size: (u16, u16)) -> App {
    let orgs = ORGS.iter().map(|(n, k)| OrgState::new(*n, *k)).collect();
    let settings = Settings {
        display_tz: jiff::tz::TimeZone::UTC,
        ..Default::default()
    };
    let now = at("09:00:00");
    let mut app = App::new(
        orgs,
        settings,
        Keymap::default(),
        Theme::embedded("mono").unwrap(),
        now,
    );
    update(&mut app, Msg::Resize(size.0, size.1));
    let corpus = hostile_corpus();
    assert!(corpus.len() >= 50, "{}", corpus.len());
    let rows: Vec<Row> = corpus
        .iter()
        .enumerate()
        .map(|(i, (_, payload))| {
            let received =
                now - SignedDuration::from_mins(30) + SignedDuration::from_secs(i as i64);
            let in_progress = i % 2 == 1;
            let a = Alert {
                id: Some(format!("hostile-{i:02}")),
                alert_type: Some(payload.clone()),
                severity: Some((i as i64 % 10) + 1),
                reason: Some(payload.clone()),
                backend_timestamp: Some(received),
                backend_update_timestamp: Some(received),
                workflow: Some(Workflow {
                    status: Some(if in_progress { "IN_PROGRESS" } else { "OPEN" }.into()),
                    changed_by_type: Some("USER".into()),
                    changed_by: in_progress.then(|| payload.clone()),
                    ..Default::default()
                }),
                device_name: Some(payload.clone()),
                device_os: Some(payload.clone()),
                device_policy: Some(payload.clone()),
                process_name: Some(payload.clone()),
                process_cmdline: Some(payload.clone()),
                process_username: Some(payload.clone()),
                ttps: vec![payload.clone()],
                ..Default::default()
            };
            Row::from_alert(0, &a).unwrap()
        })
        .collect();
    update(
        &mut app,
        Msg::Polled {
            org: 0,
            rows,
            at: now,
            initial: true,
        },
    );
    update(&mut app, Msg::Tick(now));
    assert_eq!(app.queue.len(), corpus.len());
    app
}

#[test]
fn every_hostile_string_renders_escaped_and_flagged_in_the_queue_and_preview() {
    let corpus = hostile_corpus();
    let mut app = hostile_app((200, 50));
    for r in app.queue.rows() {
        assert!(r.flagged, "{} not flagged", r.key.id);
    }
    let escape = app.theme.style(Slot::Escape);
    let table_rows = socdeck::ui::queue_table_rows(app.size, app.show_preview);
    assert_eq!(table_rows, 34);
    let preview_top = 50 - 1 - socdeck::ui::PREVIEW_LINES;
    for (i, (name, _)) in corpus.iter().enumerate() {
        let sel = app.queue.selected().expect("a selection");
        assert_eq!(&*sel.key.id, format!("hostile-{i:02}"), "{name}");
        let buf = render(&app); // asserts no control or hidden character in any cell
        // Every row on screen carries the flag.
        for y in 3..3 + table_rows as u16 {
            assert_eq!(buf[(0, y)].symbol(), "#", "{name}: row {y} unflagged");
        }
        // The preview warns and shows escapes, styled as escapes.
        let t = text(&buf);
        assert!(
            t.contains("# this alert holds hidden or control characters"),
            "{name}:\n{t}"
        );
        let escapes: Vec<(u16, bool)> = (preview_top..49)
            .flat_map(|y| escapes_on_row(&buf, y, 0, escape))
            .collect();
        assert!(
            escapes.iter().any(|(_, styled)| *styled),
            "{name}: no styled escape in the preview:\n{t}"
        );
        ch(&mut app, 'j');
    }
}

#[test]
fn every_hostile_string_renders_clean_at_80x24_too() {
    let mut app = hostile_app((80, 24));
    let mut pages = 0;
    loop {
        let buf = render(&app);
        for y in 3..23 {
            assert_eq!(buf[(0, y)].symbol(), "#", "row {y} unflagged");
        }
        if app.queue.selected_index() == Some(app.queue.visible_len() - 1) {
            break;
        }
        key(&mut app, KeyCode::PageDown);
        pages += 1;
    }
    assert!(pages >= 4);
    // The overlays and the filter input over hostile rows.
    ch(&mut app, '?');
    render(&app);
    key(&mut app, KeyCode::Esc);
    ch(&mut app, ':');
    for c in "fil\u{202e}\u{200b}".chars() {
        ch(&mut app, c);
    }
    render(&app);
    key(&mut app, KeyCode::Esc);
    ch(&mut app, '/');
    for c in "\u{202e}evil\u{2066}".chars() {
        ch(&mut app, c);
    }
    let buf = render(&app);
    assert!(
        line(&buf, 23).contains("\\u202eevil\\u2066"),
        "{}",
        line(&buf, 23)
    );
}

#[test]
fn a_workflow_status_from_the_api_is_sanitised_too() {
    // The status is CBC's, but it arrives over the wire like every other field: an unknown
    // one is shown as text (Status column, preview), so it must be escaped and flagged.
    let mut app = dataset("mono", (200, 50));
    let mut a = spec_alert(&SPECS[0]);
    a.id = Some("odd-status".into());
    a.device_name = Some("ODD-STATUS-PC".into());
    a.workflow = Some(Workflow {
        status: Some("TRIAGED\u{202e}\u{1b}[8m".into()),
        ..Default::default()
    });
    let row = Row::from_alert(0, &a).unwrap();
    assert!(
        row.flagged,
        "a hidden character in the status flags the row"
    );
    update(
        &mut app,
        Msg::Polled {
            org: 0,
            rows: vec![row],
            at: at("09:00:00"),
            initial: false,
        },
    );
    select(&mut app, "odd-status");
    let buf = render(&app); // asserts no control or hidden character in any cell
    let (_, row) = row_with(&buf, "ODD-STATUS-PC");
    assert!(row.starts_with('#'), "{row:?}");
    assert!(row.contains("TRIAGED\\u2"), "{row:?}");
    row_with(&buf, "TRIAGED\\u202e\\x1b[8m");
}

#[test]
fn stale_and_failing_orgs_are_never_shown_as_fresh() {
    let (buf, _) = queue_snapshot("default", (200, 50));
    let stale = Theme::embedded("default").unwrap().style(Slot::OrgStale);
    for l in lines(&buf).iter().skip(3).take(34) {
        if l.contains("KOBE") || l.contains("kobe") {
            assert!(l.contains("~Kobe Logistics"), "{l:?}");
        }
        if l.contains("FIN-WS") {
            assert!(!l.contains('~'), "{l:?}");
        }
    }
    // The stale mark is styled as stale.
    let (y, l) = row_with(&buf, "~Kobe Logistics");
    let x = l.find("~Kobe").unwrap() as u16; // ASCII before it on this row
    assert!(has_style(&buf[(x, y)], stale));
    // Not stale yet at 09:00:00 but stale later: the failing org's rows get the mark too.
    let mut app = dataset("default", (200, 50));
    update(&mut app, Msg::Tick(at("09:01:00")));
    let buf = render(&app);
    let (_, h) = row_with(&buf, "HKB-TELLER-07");
    assert!(h.contains("~Hokuriku"), "{h:?}");
    assert!(
        line(&buf, 1).contains("Hokuriku Bank STALE 1m"),
        "{}",
        line(&buf, 1)
    );
}

// ---------------------------------------------------------------------------------------------
// The alert detail at 80×24: each pane, and the quarantine prompt with its approval form.

/// T-01 opened with Enter, and every part of its detail delivered as the loader would.
fn detail_app(theme: &str) -> App {
    use socdeck::app::detail::{Edge, Evidence, Lateral, LateralHit, Part, ProcTree};
    use socdeck::app::queue::Cell;
    use socdeck::cbc::model::{Device, HistoryEntry, Note, Process};

    let mut app = dataset(theme, (80, 24));
    select(&mut app, "T-01-3f9c2a");
    let effects = update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let seq = match effects.as_slice() {
        [socdeck::app::Effect::LoadDetail { seq, alert_id, .. }] => {
            assert_eq!(alert_id, "T-01-3f9c2a");
            *seq
        }
        other => panic!("{other:?}"),
    };
    let mut alert = spec_alert(&SPECS[0]);
    alert.process_guid = Some("G-7ZR".into());
    alert.process_pid = Some(6120);
    alert.device_internal_ip = Some("10.1.4.14".into());
    alert.process_reputation = Some("NOT_LISTED".into());
    let proc = |guid: &str, name: &str, pid: i64, cmd: &str, children: Vec<Process>| Process {
        process_guid: Some(guid.into()),
        process_name: Some(name.into()),
        process_pid: Some(pid),
        process_username: Some(r"CORP\m.ito".into()),
        process_cmdline: Some(cmd.into()),
        process_hash: vec![
            "6f1c8a3b0e9d4f27a5c1e8b2d7f3a9c04e6b8d1f2a3c5e7b9d0f1a2b3c4d5e6f".into(),
        ],
        process_reputation: Some("NOT_LISTED".into()),
        children,
        ..Default::default()
    };
    let tree = proc(
        "G-EXP",
        r"C:\Windows\explorer.exe",
        4100,
        r"C:\Windows\Explorer.EXE",
        vec![
            proc(
                "G-WORD",
                r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
                5012,
                JP_CMDLINE,
                vec![proc(
                    "G-7ZR",
                    r"C:\Users\m.ito\AppData\Local\Temp\7zr.exe",
                    6120,
                    "7zr.exe a -p\u{1b}]0;owned\u{7} -mhe=on C:\\Users\\m.ito\\Documents",
                    vec![proc(
                        "G-VSS",
                        r"C:\Windows\System32\vssadmin.exe",
                        6200,
                        "vssadmin delete shadows /all /quiet",
                        vec![],
                    )],
                )],
            ),
            proc(
                "G-OUT",
                r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
                4300,
                "OUTLOOK.EXE",
                vec![proc("G-X", "x.exe", 1, "x", vec![])],
            ),
        ],
    );
    let hit = |name: &str, ev: Vec<Evidence>, t: &str| LateralHit {
        device_id: Some(1),
        device: Cell::new(name, 64),
        device_raw: name.into(),
        evidence: ev,
        first_seen: Some(at(t)),
    };
    let lateral = Lateral {
        start: Some(at("07:55:57") - SignedDuration::from_hours(24)),
        end: Some(at("07:55:57") + SignedDuration::from_hours(24)),
        hits: vec![
            hit(
                "FIN-FS01",
                vec![Evidence::Network {
                    outbound: true,
                    port: 445,
                    process: Cell::new("7zr.exe", 64),
                }],
                "07:57:10",
            ),
            hit(
                "FIN-WS-022",
                vec![
                    Evidence::SameHash,
                    Evidence::SameUser(Cell::new(r"CORP\m.ito", 64)),
                ],
                "08:12:00",
            ),
        ],
        edges: vec![Edge {
            from: Cell::new("FIN-WS-014", 64),
            to: Cell::new("FIN-FS01", 64),
            port: 445,
            at: Some(at("07:57:10")),
        }],
        errors: vec![],
    };
    let notes = vec![
        Note {
            author: Some("soc-api".into()),
            note: Some("socdeck: level=High analyst=yamada at=2026-11-30T08:05:00Z".into()),
            create_timestamp: Some(at("08:05:00")),
            ..Default::default()
        },
        Note {
            author: Some("k.sato".into()),
            note: Some("お客様に電話済み\nevil\u{1b}[31m red".into()),
            create_timestamp: Some(at("08:07:00")),
            ..Default::default()
        },
    ];
    let history = vec![HistoryEntry {
        entry_type: Some("USER_WORKFLOW_UPDATE".into()),
        workflow: alert.workflow.clone(),
        ..Default::default()
    }];
    let device = Device {
        id: alert.device_id,
        name: alert.device_name.clone(),
        quarantined: Some(false),
        ..Default::default()
    };
    for part in [
        Part::Alert(Ok(Box::new(alert))),
        Part::Device(Ok(Box::new(device))),
        Part::Tree(Ok(ProcTree::build(&tree, Some("G-7ZR")))),
        Part::Lateral(Ok(lateral)),
        Part::Notes(Ok(notes)),
        Part::History(Ok(history)),
    ] {
        update(&mut app, Msg::DetailPart { seq, part });
    }
    // A part for an older request is dropped.
    update(
        &mut app,
        Msg::DetailPart {
            seq: seq - 1,
            part: Part::Notes(Err("stale".into())),
        },
    );
    app
}

#[test]
fn detail_panes_80x24() {
    let mut app = detail_app("default");
    insta::assert_snapshot!("detail_summary_80x24", snapshot(&render(&app)));
    ch(&mut app, '2');
    let buf = render(&app);
    // The alerting process is selected and marked; side branches start collapsed.
    let (_, l) = row_with(&buf, "▶ALERT");
    assert!(l.contains("7zr.exe") && l.contains("pid 6120"), "{l}");
    assert!(row_with(&buf, "OUTLOOK.EXE").1.contains("+ "));
    insta::assert_snapshot!("detail_tree_80x24", snapshot(&buf));
    // The whole command line on demand, its escapes visible.
    ch(&mut app, 'f');
    let t = text(&render(&app));
    assert!(t.contains(r"\x1b]0;owned\x07"), "{t}");
    ch(&mut app, '3');
    insta::assert_snapshot!("detail_lateral_80x24", snapshot(&render(&app)));
    ch(&mut app, '4');
    let buf = render(&app);
    assert!(text(&buf).contains(r"evil\x1b[31m red"));
    insta::assert_snapshot!("detail_notes_80x24", snapshot(&buf));
    // Mono: the marks read without colour.
    let mut mono = detail_app("mono");
    ch(&mut mono, '2');
    insta::assert_snapshot!("detail_tree_80x24_mono", snapshot(&render(&mono)));
}

#[test]
fn lateral_enter_jumps_to_that_devices_alerts() {
    let mut app = detail_app("default");
    ch(&mut app, '3');
    ch(&mut app, 'j');
    key(&mut app, KeyCode::Enter);
    assert!(matches!(app.screen, socdeck::app::Screen::Queue));
    assert_eq!(app.queue.filter.text, "FIN-WS-022");
    assert_eq!(app.queue.visible_len(), 1);
    assert_eq!(&*app.queue.selected().unwrap().key.id, "T-04-3f9c2a");
}

#[test]
fn quarantine_prompt_80x24_needs_the_customers_approval() {
    let mut app = detail_app("default");
    ch(&mut app, 'i');
    insta::assert_snapshot!("quarantine_prompt_80x24", snapshot(&render(&app)));
    // Enter without the approval is refused, and says why.
    let effects = update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(effects.is_empty());
    assert!(text(&render(&app)).contains("enter the approver and the channel"));
    for c in "Kato (CISO)".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Tab);
    for c in "phone".chars() {
        ch(&mut app, c);
    }
    let effects = update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let [socdeck::app::Effect::Execute(t)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(t.approval.as_ref().unwrap().approver, "Kato (CISO)");
    // The detail header and the queue row show the state as it moves.
    update(
        &mut app,
        Msg::ActionState {
            id: t.id,
            state: socdeck::app::pending::State::WaitingCheckin,
        },
    );
    assert!(text(&render(&app)).contains("quarantine waiting for check-in"));
    key(&mut app, KeyCode::Esc);
    let buf = render(&app);
    assert!(row_with(&buf, "FIN-WS-014").1.contains("Q+ FIN-WS-014"));
}

#[test]
fn first_report_editor_80x24_in_japanese() {
    let mut app = detail_app("default");
    app.rules = socdeck::config::rules::Rules::parse(
        "[[org]]\norg_key = \"7DESJ9GN\"\nreport_language = \"ja\"\n",
        std::path::Path::new("/rules.toml"),
    )
    .unwrap();
    let effects = update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::NONE)),
    );
    assert!(matches!(
        effects.as_slice(),
        [socdeck::app::Effect::LoadDraft { .. }]
    ));
    // Typed at the top: double-width text through the widget, as an IME would commit it.
    key(&mut app, KeyCode::Up);
    for c in "至急: 隔離を推奨します。".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Enter);
    let buf = render(&app);
    let t = text(&buf);
    assert!(t.contains("至急: 隔離を推奨します。"), "{t}");
    assert!(t.contains("■ 何が起こったか"), "{t}");
    assert!(t.contains("unsaved"), "{t}");
    insta::assert_snapshot!("editor_ja_80x24", snapshot(&buf));
    // `q` and `?` are text in the editor, not quit and help.
    ch(&mut app, 'q');
    ch(&mut app, '?');
    assert!(app.quit.is_none());
    assert!(matches!(app.overlay, socdeck::app::Overlay::None));
}

#[test]
fn the_second_report_column_is_optional_and_shows_the_business_deadline() {
    let mut app = dataset("default", (200, 50));
    assert!(!text(&render(&app)).contains("2nd due"));
    app.settings.second_column = true;
    update(&mut app, Msg::Resize(200, 50));
    let buf = render(&app);
    assert!(text(&buf).contains("2nd due"), "{}", text(&buf));
    // T-01 arrived Monday 16:55 JST: due Tuesday at the close of business.
    let (_, l) = row_with(&buf, "FIN-WS-014");
    assert!(l.contains("Tue 18:00"), "{l}");
}

#[test]
fn an_overlay_over_japanese_text_keeps_its_left_border() {
    let mut app = detail_app("default");
    app.rules = socdeck::config::rules::Rules::parse(
        "[[org]]\norg_key = \"7DESJ9GN\"\nreport_language = \"ja\"\n",
        std::path::Path::new("/rules.toml"),
    )
    .unwrap();
    ch(&mut app, 'w');
    key(&mut app, KeyCode::F(1));
    let buf = render(&app);
    let t = text(&buf);
    assert!(t.contains("Report editor"), "{t}");
    assert!(
        !t.contains("Set the triage level"),
        "global keys do not apply in the editor"
    );
    // Every row of the help box starts with its border, whatever wide text lay under it.
    let rows: Vec<String> = lines(&buf);
    let (top, _) = row_with(&buf, "Help — Esc closes");
    let x = rows[top as usize].chars().position(|c| c == '┌').unwrap();
    for (y, row) in rows.iter().enumerate().skip(top as usize + 1) {
        let c = row.chars().nth(x).unwrap();
        assert!(c == '│' || c == '└', "row {y}: {row:?}");
        if c == '└' {
            break;
        }
    }
}
