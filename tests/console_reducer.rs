//! The console's reducer with an injected clock: SLA bands and their edges, breaches, ordering,
//! selection stability, pause, filters, the palette, stale orgs, notifications, the dirty flag,
//! paging, quitting — and a proptest of random key sequences (RELIABILITY A5).
//!
//! Everything goes through `update(&mut App, Msg)`, as the runtime does: alerts arrive as
//! `Msg::Polled`, time as `Msg::Tick`, keys as `Msg::Key`. Nothing sleeps or reads the wall clock.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::text::Span;
use socdeck::app::ledger::Ledger;
use socdeck::app::pending::{ApprovalNeed, Spec, State, Tracked};
use socdeck::app::queue::{Clock, Row, StatusFilter, Stop};
use socdeck::app::triage::Level;
use socdeck::app::{
    Action, App, Effect, ExitReason, Freshness, Msg, OrgState, Overlay, Settings, ToastLevel,
    run_action, run_command, update,
};
use socdeck::cbc::model::{Alert, Workflow};
use socdeck::config::keymap::Keymap;
use socdeck::config::theme::Theme;
use socdeck::sla::Band;
use socdeck::ui::{org_age_text, queue_table_rows};

// ---------------------------------------------------------------------------------------------
// Fixtures

const NOW: &str = "2026-11-30T09:00:00Z";

const ORGS: [(&str, &str); 3] = [
    ("Tanaka Seiki", "7DESJ9GN"),
    ("Kobe Logistics", "KOBE2LOG"),
    ("Hokuriku Bank", "HKRK3BNK"),
];

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn now() -> Timestamp {
    ts(NOW)
}

fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn settings() -> Settings {
    Settings {
        display_tz: jiff::tz::TimeZone::UTC,
        ..Default::default()
    }
}

/// An 80×24 console at [`NOW`] with three orgs and no data yet.
fn new_app() -> App {
    let orgs = ORGS.iter().map(|(n, k)| OrgState::new(*n, *k)).collect();
    let theme = Theme::embedded("mono").expect("mono theme");
    let mut app = App::new(orgs, settings(), Keymap::default(), theme, now());
    update(&mut app, Msg::Resize(80, 24));
    update(&mut app, Msg::Tick(now()));
    app
}

/// An open alert whose first-report clock has `left` to run at [`NOW`].
fn alert(id: &str, left: SignedDuration, severity: i64) -> Alert {
    let received = now() - mins(60) + left;
    Alert {
        id: Some(id.into()),
        alert_type: Some("CB_ANALYTICS".into()),
        backend_timestamp: Some(received),
        backend_update_timestamp: Some(received),
        severity: Some(severity),
        device_name: Some(format!("WS-{id}")),
        reason: Some(format!("Suspicious behaviour {id}")),
        workflow: Some(Workflow {
            status: Some("OPEN".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `a`, closed in CBC at `at` (a newer version of the alert).
fn closed(mut a: Alert, at: Timestamp) -> Alert {
    a.workflow = Some(Workflow {
        status: Some("CLOSED".into()),
        closure_reason: Some("NO_REASON".into()),
        change_timestamp: Some(at),
        changed_by_type: Some("USER".into()),
        changed_by: Some("m.ito@soc.example".into()),
        ..Default::default()
    });
    a.backend_update_timestamp = Some(at);
    a
}

/// `a`, taken in progress by `owner`.
fn in_progress(mut a: Alert, owner: &str) -> Alert {
    let at = a.backend_timestamp.unwrap() + secs(30);
    a.workflow = Some(Workflow {
        status: Some("IN_PROGRESS".into()),
        change_timestamp: Some(at),
        changed_by_type: Some("USER".into()),
        changed_by: Some(owner.into()),
        ..Default::default()
    });
    a.backend_update_timestamp = Some(at);
    a
}

fn rows(org: u16, alerts: &[Alert]) -> Vec<Row> {
    alerts
        .iter()
        .map(|a| Row::from_alert(org, a).expect("fixture alerts have ids"))
        .collect()
}

/// A successful poll of `org` finishing now (the app's clock).
fn poll(app: &mut App, org: u16, alerts: &[Alert], initial: bool) -> Vec<Effect> {
    let at = app.now;
    update(
        app,
        Msg::Polled {
            org,
            rows: rows(org, alerts),
            at,
            initial,
        },
    )
}

fn tick(app: &mut App, t: Timestamp) -> Vec<Effect> {
    update(app, Msg::Tick(t))
}

fn key_mod(app: &mut App, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(code, mods)))
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    key_mod(app, code, KeyModifiers::NONE)
}

fn ch(app: &mut App, c: char) -> Vec<Effect> {
    key(app, KeyCode::Char(c))
}

fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    key_mod(app, KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn type_text(app: &mut App, s: &str) {
    for c in s.chars() {
        ch(app, c);
    }
}

/// Ids of the visible rows in display order (from the top of the list: the table must not be
/// scrolled).
fn order(app: &App) -> Vec<String> {
    assert_eq!(
        app.queue.offset(),
        0,
        "order() reads from the top of the list"
    );
    app.queue
        .window(app.queue.visible_len())
        .map(|(_, r)| r.key.id.to_string())
        .collect()
}

fn selected(app: &App) -> Option<String> {
    app.queue.selected().map(|r| r.key.id.to_string())
}

fn row<'a>(app: &'a App, id: &str) -> &'a Row {
    app.queue
        .rows()
        .find(|r| &*r.key.id == id)
        .unwrap_or_else(|| panic!("no row {id}"))
}

fn band(app: &App, id: &str) -> Option<Band> {
    row(app, id)
        .clock(&app.settings.sla)
        .band(&app.settings.sla, app.now)
}

/// The screen as text, one string per terminal row (wide characters take their cells).
fn screen(app: &App) -> Vec<String> {
    let (w, h) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| socdeck::ui::view(app, f)).unwrap();
    let buf = terminal.backend().buffer();
    (0..h)
        .map(|y| {
            let mut line = String::new();
            let mut skip = 0usize;
            for x in 0..w {
                let sym = buf[(x, y)].symbol();
                if skip == 0 {
                    line.push_str(sym);
                    skip = Span::raw(sym).width().saturating_sub(1);
                } else {
                    skip -= 1;
                }
            }
            line
        })
        .collect()
}

/// The screen line showing the row `id` (found by its device name).
fn screen_row(app: &App, id: &str) -> String {
    let device = format!("WS-{id}");
    screen(app)
        .into_iter()
        .find(|l| l.contains(&device))
        .unwrap_or_else(|| panic!("{device} not on screen"))
}

fn toast_texts(app: &App) -> Vec<String> {
    app.toasts.iter().map(|t| t.text.clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// SLA bands, breaches, header counts

#[test]
fn bands_change_at_their_edges_as_the_clock_ticks() {
    let mut app = new_app();
    // Received 08:00:00: the first report is due 09:00:00.
    poll(&mut app, 0, &[alert("A", mins(0), 5)], true);
    let deadline = now();
    let cases = [
        (mins(-21), Band::Normal, "    21:00"),
        (mins(-20) - secs(1), Band::Normal, "    20:01"),
        (mins(-20), Band::Warning, "!   20:00"),
        (mins(-10) - secs(1), Band::Warning, "!   10:01"),
        (mins(-10), Band::Critical, "!!  10:00"),
        (secs(-1), Band::Critical, "!!  00:01"),
        (SignedDuration::ZERO, Band::Critical, "!!  00:00"),
        (secs(1), Band::Breached, "XX -00:01"),
        (mins(65) + secs(3), Band::Breached, "XX -65:03"),
    ];
    for (offset, want, cell) in cases {
        tick(&mut app, deadline + offset);
        assert_eq!(band(&app, "A"), Some(want), "at deadline{offset:+}");
        let breached = usize::from(want == Band::Breached);
        assert_eq!(
            app.queue.counts(app.now).breached,
            breached,
            "at deadline{offset:+}"
        );
        // The band reads without colour: the mark is part of the SLA cell's text.
        let line = screen_row(&app, "A");
        assert!(
            line.contains(cell),
            "at deadline{offset:+}: {line:?} lacks {cell:?}"
        );
    }
}

#[test]
fn header_counts_follow_the_clock_across_deadlines() {
    let mut app = new_app();
    poll(
        &mut app,
        0,
        &[
            alert("due0905", mins(5), 5),
            alert("due0910", mins(10), 9),
            in_progress(alert("due0930", mins(30), 3), "k.sato"),
            closed(alert("done", mins(-30), 8), ts("2026-11-30T08:20:00Z")),
        ],
        true,
    );
    let counts = |app: &App| {
        let c = app.queue.counts(app.now);
        (c.open, c.running, c.breached)
    };
    assert_eq!(counts(&app), (3, 3, 0));
    assert!(screen(&app)[0].contains("open 3  clocks 3  breached 0"));

    for (at, breached) in [
        ("2026-11-30T09:05:00Z", 0),
        ("2026-11-30T09:05:01Z", 1),
        ("2026-11-30T09:10:00Z", 1),
        ("2026-11-30T09:10:01Z", 2),
        ("2026-11-30T09:30:01Z", 3),
    ] {
        app.dirty = false;
        tick(&mut app, ts(at));
        assert_eq!(counts(&app), (3, 3, breached), "at {at}");
        assert!(app.dirty, "a running countdown is on screen at {at}");
        let header = &screen(&app)[0];
        assert!(
            header.contains(&format!("breached {breached}")),
            "{at}: {header:?}"
        );
    }

    // Closing a breached alert stops its clock: fewer open, running and breached.
    tick(&mut app, ts("2026-11-30T09:31:00Z"));
    let at = app.now;
    poll(
        &mut app,
        0,
        &[closed(alert("due0905", mins(5), 5), at)],
        false,
    );
    assert_eq!(counts(&app), (2, 2, 2));
    assert_eq!(
        row(&app, "due0905").clock(&app.settings.sla),
        Clock::Stopped(Stop::Closed { late: true })
    );
    assert!(screen_row(&app, "due0905").contains("closed lt"));
}

// ---------------------------------------------------------------------------------------------
// Ordering and selection

#[test]
fn rows_sort_by_time_left_then_severity_with_stopped_clocks_below() {
    let mut app = new_app();
    poll(
        &mut app,
        0,
        &[
            alert("calm", mins(45), 10),
            alert("sev2", mins(5), 2),
            alert("sev9", mins(5), 9),
            alert("late", mins(-2), 1),
            closed(
                alert("closed-old", mins(-300), 10),
                ts("2026-11-30T04:30:00Z"),
            ),
            closed(
                alert("closed-new", mins(-30), 10),
                ts("2026-11-30T08:45:00Z"),
            ),
        ],
        true,
    );
    poll(&mut app, 1, &[alert("kobe-warn", mins(15), 4)], true);
    // Equal deadlines: the higher severity first. Closed alerts below the running clocks,
    // the newest first, their clocks stopped.
    assert_eq!(
        order(&app),
        [
            "late",
            "sev9",
            "sev2",
            "kobe-warn",
            "calm",
            "closed-new",
            "closed-old"
        ]
    );
    for id in ["closed-new", "closed-old"] {
        assert!(!row(&app, id).clock(&app.settings.sla).is_running(), "{id}");
        assert_eq!(band(&app, id), None);
    }
    // Time passing does not reorder: deadlines are fixed.
    tick(&mut app, now() + mins(50));
    assert_eq!(order(&app)[..3], ["late", "sev9", "sev2"]);
    let late = screen_row(&app, "late");
    let closed_new = screen_row(&app, "closed-new");
    assert!(late.contains("XX -52:00"), "{late:?}");
    assert!(closed_new.contains("closed"), "{closed_new:?}");
}

#[test]
fn an_open_alert_without_a_receipt_time_sorts_above_closed_alerts() {
    // No receipt time: no clock can run, but the alert is open work and must not sink among
    // (or below) closed alerts of higher severity.
    let mut app = new_app();
    let mut no_time = alert("no-time", mins(30), 3);
    no_time.backend_timestamp = None;
    poll(
        &mut app,
        0,
        &[
            closed(
                alert("closed-high", mins(-10), 10),
                ts("2026-11-30T08:55:00Z"),
            ),
            no_time,
            alert("running", mins(50), 1),
        ],
        true,
    );
    assert_eq!(
        row(&app, "no-time").clock(&app.settings.sla),
        Clock::Unknown
    );
    assert_eq!(order(&app), ["running", "no-time", "closed-high"]);
    assert!(screen_row(&app, "no-time").contains("no time"));
    assert_eq!(app.queue.counts(app.now).open, 2);
}

#[test]
fn selection_stays_on_the_same_alert_while_rows_move_under_it() {
    let mut app = new_app();
    poll(
        &mut app,
        0,
        &[
            alert("a", mins(10), 5),
            alert("b", mins(20), 5),
            alert("c", mins(30), 5),
            alert("d", mins(40), 5),
        ],
        true,
    );
    assert_eq!(
        selected(&app).as_deref(),
        Some("a"),
        "the most urgent first"
    );
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    assert_eq!(selected(&app).as_deref(), Some("c"));
    assert_eq!(app.queue.selected_index(), Some(2));

    // More urgent alerts arrive above the selection: it stays on "c", whose index changes.
    poll(
        &mut app,
        1,
        &[
            alert("x", mins(1), 9),
            alert("y", mins(2), 9),
            alert("z", mins(25), 9),
        ],
        false,
    );
    assert_eq!(order(&app), ["x", "y", "a", "b", "z", "c", "d"]);
    assert_eq!(selected(&app).as_deref(), Some("c"));
    assert_eq!(app.queue.selected_index(), Some(5));

    // "c" is closed in CBC: it moves below the running clocks and stays selected.
    let closed_at = app.now + secs(5);
    tick(&mut app, closed_at);
    poll(
        &mut app,
        0,
        &[closed(alert("c", mins(30), 5), closed_at)],
        false,
    );
    assert_eq!(order(&app), ["x", "y", "a", "b", "z", "d", "c"]);
    assert_eq!(selected(&app).as_deref(), Some("c"));
    assert_eq!(app.queue.selected_index(), Some(6));

    // An older version of "c" arriving late changes nothing.
    poll(&mut app, 0, &[alert("c", mins(30), 5)], false);
    assert!(row(&app, "c").is_closed());

    // The selection leaves the view (filtered out): the row now at its position is selected.
    ch(&mut app, 'k');
    assert_eq!(selected(&app).as_deref(), Some("d"));
    run_command(&mut app, "org Tanaka");
    assert_eq!(order(&app), ["a", "b", "d", "c"]);
    assert_eq!(selected(&app).as_deref(), Some("d"));
    run_command(&mut app, "org Kobe");
    assert_eq!(order(&app), ["x", "y", "z"]);
    assert_eq!(
        selected(&app).as_deref(),
        Some("z"),
        "clamped to the last row"
    );
}

#[test]
fn selection_stays_visible_when_rows_are_inserted_above_a_scrolled_table() {
    let mut app = new_app();
    let many: Vec<Alert> = (0..40)
        .map(|i| alert(&format!("r{i:02}"), mins(5) + secs(i * 30), 5))
        .collect();
    poll(&mut app, 0, &many, true);
    let height = queue_table_rows(app.size, app.show_preview);
    assert_eq!(height, 20);
    for _ in 0..25 {
        ch(&mut app, 'j');
    }
    assert_eq!(selected(&app).as_deref(), Some("r25"));
    let more: Vec<Alert> = (0..10)
        .map(|i| alert(&format!("new{i}"), secs(i), 9))
        .collect();
    poll(&mut app, 2, &more, false);
    assert_eq!(selected(&app).as_deref(), Some("r25"));
    let idx = app.queue.selected_index().unwrap();
    assert_eq!(idx, 35);
    let off = app.queue.offset();
    assert!(
        off <= idx && idx < off + height,
        "selection {idx} outside window {off}+{height}"
    );
}

#[test]
fn pause_keeps_rows_put_and_appends_newcomers_until_resumed() {
    let mut app = new_app();
    poll(
        &mut app,
        0,
        &[
            alert("a", mins(10), 5),
            alert("b", mins(20), 5),
            alert("c", mins(30), 5),
        ],
        true,
    );
    ch(&mut app, 'j');
    assert_eq!(selected(&app).as_deref(), Some("b"));
    ch(&mut app, 'p');
    assert!(app.queue.is_paused());
    assert_eq!(app.queue.arrived_while_paused(), 0);
    assert!(
        screen(&app)[0].contains("[PAUSED]"),
        "{:?}",
        screen(&app)[0]
    );

    // Urgent newcomers go to the bottom; the rows on screen stay where they are.
    poll(
        &mut app,
        1,
        &[alert("urgent2", mins(2), 9), alert("urgent1", mins(1), 9)],
        false,
    );
    assert_eq!(order(&app), ["a", "b", "c", "urgent1", "urgent2"]);
    assert_eq!(app.queue.arrived_while_paused(), 2);
    assert_eq!(selected(&app).as_deref(), Some("b"));
    assert_eq!(app.queue.selected_index(), Some(1));
    assert!(screen(&app)[0].contains("[PAUSED +2 new]"));

    // A closed alert keeps its place while paused.
    tick(&mut app, now() + secs(10));
    let at = app.now;
    poll(&mut app, 0, &[closed(alert("a", mins(10), 5), at)], false);
    assert_eq!(order(&app), ["a", "b", "c", "urgent1", "urgent2"]);
    assert_eq!(
        app.queue.arrived_while_paused(),
        2,
        "an update is not an arrival"
    );

    // Action::TogglePause (the palette's name for `p`) resumes and re-sorts.
    run_action(&mut app, Action::TogglePause);
    assert!(!app.queue.is_paused());
    assert_eq!(order(&app), ["urgent1", "urgent2", "b", "c", "a"]);
    assert_eq!(app.queue.arrived_while_paused(), 0);
    assert_eq!(selected(&app).as_deref(), Some("b"));
    assert_eq!(app.queue.selected_index(), Some(2));
    assert!(!screen(&app)[0].contains("PAUSED"));
}

// ---------------------------------------------------------------------------------------------
// Filters and the palette

/// Six alerts over three orgs: levels High/Medium/Low, statuses open/in progress/closed.
fn filter_fixture() -> App {
    let mut app = new_app();
    let mut t1 = alert("t1", mins(10), 9);
    t1.device_name = Some("FIN-WS-014".into());
    let mut t2 = alert("t2", mins(20), 6);
    t2.reason = Some("Mimikatz credential theft".into());
    let t3 = closed(alert("t3", mins(-40), 2), ts("2026-11-30T08:30:00Z"));
    poll(&mut app, 0, &[t1, t2, t3], true);
    let k1 = in_progress(alert("k1", mins(15), 8), "yuki.sato");
    let k2 = alert("k2", mins(25), 3);
    poll(&mut app, 1, &[k1, k2], true);
    let h1 = alert("h1", mins(35), 5);
    poll(&mut app, 2, &[h1], true);
    app
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn text_filter_is_case_insensitive_over_device_reason_and_org() {
    let mut app = filter_fixture();
    assert_eq!(order(&app), ["t1", "k1", "t2", "k2", "h1", "t3"]);
    run_command(&mut app, "filter fin-ws");
    assert_eq!(order(&app), ["t1"], "device");
    run_command(&mut app, "filter MIMIKATZ");
    assert_eq!(order(&app), ["t2"], "reason");
    run_command(&mut app, "filter kobe LOG");
    assert_eq!(order(&app), ["k1", "k2"], "org name");
    run_command(&mut app, "filter no such thing");
    assert!(order(&app).is_empty());
    assert!(
        screen(&app)
            .iter()
            .any(|l| l.contains("no alert matches the filters")),
        "an empty filtered view says why"
    );
    run_command(&mut app, "filter");
    assert_eq!(order(&app).len(), 6, "an empty filter shows everything");
}

#[test]
fn cycling_org_level_and_status_filters_and_clearing_them() {
    let mut app = filter_fixture();
    // Org: all → each org in turn → all.
    let ids = |v: &[&str]| sorted(v.iter().map(|s| s.to_string()).collect());
    let mut seen = Vec::new();
    for _ in 0..4 {
        ch(&mut app, 'o');
        seen.push((app.queue.filter.org, sorted(order(&app))));
    }
    assert_eq!(
        seen,
        [
            (Some(0), ids(&["t1", "t2", "t3"])),
            (Some(1), ids(&["k1", "k2"])),
            (Some(2), ids(&["h1"])),
            (None, ids(&["t1", "t2", "t3", "k1", "k2", "h1"])),
        ]
    );

    // Level (suggested from severity: 8–10 High, 5–7 Medium, 1–4 Low).
    let mut seen = Vec::new();
    for _ in 0..5 {
        ch(&mut app, 'l');
        seen.push((app.queue.filter.level, sorted(order(&app))));
    }
    assert_eq!(
        seen,
        [
            (Some(Level::High), ids(&["t1", "k1"])),
            (Some(Level::Medium), ids(&["t2", "h1"])),
            (Some(Level::Low), ids(&["k2", "t3"])),
            (Some(Level::FalsePositive), vec![]),
            (None, ids(&["t1", "t2", "t3", "k1", "k2", "h1"])),
        ]
    );

    // Status.
    let mut seen = Vec::new();
    for _ in 0..4 {
        ch(&mut app, 's');
        seen.push((app.queue.filter.status, sorted(order(&app))));
    }
    assert_eq!(
        seen,
        [
            (Some(StatusFilter::Open), ids(&["t1", "t2", "k2", "h1"])),
            (Some(StatusFilter::InProgress), ids(&["k1"])),
            (Some(StatusFilter::Closed), ids(&["t3"])),
            (None, ids(&["t1", "t2", "t3", "k1", "k2", "h1"])),
        ]
    );

    // Filters combine; `c` clears them all; the footer says what is filtered.
    ch(&mut app, 'o'); // Tanaka
    ch(&mut app, 'l'); // High
    run_command(&mut app, "filter fin");
    assert_eq!(order(&app), ["t1"]);
    // Toasts would cover the footer's filter summary.
    app.toasts.clear();
    let footer = screen(&app).pop().unwrap();
    assert!(
        footer.contains("1 of 6") && footer.contains("org Tanaka Seiki"),
        "{footer:?}"
    );
    ch(&mut app, 'c');
    assert!(app.queue.filter.is_empty());
    assert_eq!(order(&app).len(), 6);
}

#[test]
fn palette_commands_set_filters_and_unknown_ones_toast() {
    let mut app = filter_fixture();
    assert!(run_command(&mut app, "level high").is_empty());
    assert_eq!(app.queue.filter.level, Some(Level::High));
    assert_eq!(sorted(order(&app)), ["k1", "t1"]);
    run_command(&mut app, "level all");
    assert_eq!(app.queue.filter.level, None);

    run_command(&mut app, "org Tanaka");
    assert_eq!(app.queue.filter.org, Some(0), "a prefix of the org name");
    run_command(&mut app, "org hkrk3bnk");
    assert_eq!(app.queue.filter.org, Some(2), "the org key, any case");
    run_command(&mut app, "org");
    assert_eq!(app.queue.filter.org, None);

    run_command(&mut app, "status in_progress");
    assert_eq!(order(&app), ["k1"]);
    run_command(&mut app, "status all");

    let before = app.queue.filter.clone();
    for (line, says) in [
        ("bogus", "unknown command"),
        ("level extreme", "unknown level"),
        ("org Nowhere", "no org matches"),
        ("status done", "unknown status"),
    ] {
        app.toasts.clear();
        run_command(&mut app, line);
        let toast = app.toasts.back().expect("a toast");
        assert_eq!(toast.level, ToastLevel::Warning, "{line}");
        assert!(toast.text.contains(says), "{line}: {:?}", toast.text);
        assert_eq!(app.queue.filter, before, "{line} changed the filters");
    }

    // An action by name.
    run_command(&mut app, "toggle_pause");
    assert!(app.queue.is_paused());
}

#[test]
fn palette_by_keys_completes_runs_and_closes() {
    let mut app = filter_fixture();
    ch(&mut app, ':');
    assert!(matches!(app.overlay, Overlay::Palette(_)));
    type_text(&mut app, "lev");
    key(&mut app, KeyCode::Tab);
    match &app.overlay {
        Overlay::Palette(p) => assert_eq!(p.input, "level "),
        o => panic!("{o:?}"),
    }
    type_text(&mut app, "low");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay, Overlay::None);
    assert_eq!(app.queue.filter.level, Some(Level::Low));

    // A bare word runs the highlighted completion.
    ch(&mut app, ':');
    type_text(&mut app, "clear_f");
    key(&mut app, KeyCode::Enter);
    assert!(app.queue.filter.is_empty());

    // Esc closes without running anything; `q` typed into the palette does not quit.
    ch(&mut app, ':');
    type_text(&mut app, "quit");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay, Overlay::None);
    assert_eq!(app.quit, None);
}

#[test]
fn filter_typing_follows_the_input_and_esc_restores_the_previous_filter() {
    let mut app = filter_fixture();
    ch(&mut app, '/');
    type_text(&mut app, "Kobe");
    assert_eq!(app.queue.filter.text, "Kobe");
    assert_eq!(
        sorted(order(&app)),
        ["k1", "k2"],
        "the queue follows typing"
    );
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay, Overlay::None);
    assert_eq!(app.queue.filter.text, "Kobe", "Enter keeps it");

    ch(&mut app, '/');
    match &app.overlay {
        Overlay::Filter { input, previous } => {
            assert_eq!(input, "Kobe");
            assert_eq!(previous, "Kobe");
        }
        o => panic!("{o:?}"),
    }
    ctrl(&mut app, 'u');
    type_text(&mut app, "zzz");
    assert!(order(&app).is_empty());
    assert!(screen(&app).last().unwrap().contains(" / zzz_"));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay, Overlay::None);
    assert_eq!(app.queue.filter.text, "Kobe");
    assert_eq!(sorted(order(&app)), ["k1", "k2"]);

    // Backspace edits; keys that are actions elsewhere are text here.
    ch(&mut app, '/');
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    type_text(&mut app, "jkqGpo");
    assert_eq!(app.queue.filter.text, "KojkqGpo");
    assert_eq!(app.quit, None);
    assert!(!app.queue.is_paused());
}

// ---------------------------------------------------------------------------------------------
// Orgs: stale data, failures

#[test]
fn an_org_goes_stale_after_the_threshold_and_says_so() {
    let mut app = new_app();
    let stale_after = app.settings.stale_after;
    assert_eq!(stale_after, secs(60));
    assert_eq!(
        app.orgs[0].freshness(app.now, stale_after),
        Freshness::Connecting
    );
    assert_eq!(
        org_age_text(&app.orgs[0], app.now, stale_after),
        "connecting"
    );

    poll(&mut app, 0, &[alert("a", mins(30), 5)], true);
    poll(&mut app, 1, &[alert("b", mins(40), 5)], true);
    let t = app.now;
    assert_eq!(app.orgs[0].freshness(app.now, stale_after), Freshness::Live);
    assert_eq!(org_age_text(&app.orgs[0], app.now, stale_after), "ok <1m");

    tick(&mut app, t + stale_after);
    poll(&mut app, 1, &[], false); // org 1 stays live
    assert_eq!(app.orgs[0].freshness(app.now, stale_after), Freshness::Live);

    app.dirty = false;
    tick(&mut app, t + stale_after + secs(1));
    assert!(app.dirty);
    assert_eq!(
        app.orgs[0].freshness(app.now, stale_after),
        Freshness::Stale
    );
    assert_eq!(app.orgs[1].freshness(app.now, stale_after), Freshness::Live);
    let text = org_age_text(&app.orgs[0], app.now, stale_after);
    assert!(text.starts_with("STALE"), "{text:?}");

    // On screen: the header line of orgs, the org cell of its rows, the footer legend.
    let s = screen(&app);
    assert!(
        s[1].contains("Tanaka Seiki STALE 1m") && s[1].contains("Kobe Logistics ok"),
        "{:?}",
        s[1]
    );
    assert!(
        screen_row(&app, "a").contains("~Tanaka"),
        "stale rows are marked"
    );
    assert!(!screen_row(&app, "b").contains('~'), "live rows are not");
    assert!(s[23].contains("~ = stale data"), "{:?}", s[23]);

    // A good poll makes it live again.
    poll(&mut app, 0, &[], false);
    assert_eq!(org_age_text(&app.orgs[0], app.now, stale_after), "ok <1m");
    assert!(!screen_row(&app, "a").contains("~Tanaka"));
}

#[test]
fn a_failed_poll_keeps_the_rows_and_marks_the_org() {
    let mut app = new_app();
    poll(
        &mut app,
        2,
        &[alert("h1", mins(30), 5), alert("h2", mins(40), 7)],
        true,
    );
    let good = app.now;
    tick(&mut app, good + secs(20));
    let retry = good + secs(50);
    let at = app.now;
    update(
        &mut app,
        Msg::PollFailed {
            org: 2,
            error: "HTTP 503 Service Unavailable".into(),
            at,
            retry_at: Some(retry),
        },
    );
    assert_eq!(app.queue.len(), 2, "rows are kept");
    assert_eq!(order(&app), ["h1", "h2"]);
    let org = &app.orgs[2];
    assert_eq!(org.error.as_deref(), Some("HTTP 503 Service Unavailable"));
    assert_eq!(org.retry_at, Some(retry));
    assert_eq!(org.last_good, Some(good));
    assert_eq!(
        org_age_text(org, app.now, app.settings.stale_after),
        "ERROR, data <1m"
    );
    assert_eq!(app.toasts.len(), 1);
    assert_eq!(app.toasts[0].level, ToastLevel::Error);
    poll(&mut app, 0, &[], true);
    poll(&mut app, 1, &[], true);
    let header = &screen(&app)[1];
    assert!(
        header.contains("Hokuriku Bank ERROR, data <1m"),
        "{header:?}"
    );

    // A second failure does not toast again; the data ages into stale.
    let at = app.now;
    update(
        &mut app,
        Msg::PollFailed {
            org: 2,
            error: "HTTP 503 Service Unavailable".into(),
            at,
            retry_at: None,
        },
    );
    assert_eq!(app.toasts.len(), 1);
    tick(&mut app, good + secs(125));
    let text = org_age_text(&app.orgs[2], app.now, app.settings.stale_after);
    assert_eq!(text, "STALE 2m");
    assert!(screen_row(&app, "h1").contains("~Hokuriku"));

    // Recovery clears the error and says so.
    poll(&mut app, 2, &[], false);
    assert_eq!(app.orgs[2].error, None);
    assert!(
        toast_texts(&app)
            .iter()
            .any(|t| t.contains("connection restored"))
    );
    assert_eq!(
        org_age_text(&app.orgs[2], app.now, app.settings.stale_after),
        "ok <1m"
    );
}

#[test]
fn an_org_in_trouble_is_named_on_screen_at_80x24_with_four_orgs() {
    // An MDR SOC watches many customers: the header must not lose an org's failure off the
    // right edge. Here the fourth org has never answered and has no rows to carry a mark.
    let mut orgs: Vec<OrgState> = ORGS.iter().map(|(n, k)| OrgState::new(*n, *k)).collect();
    orgs.push(OrgState::new("Sapporo Medical", "SPRMED04"));
    let theme = Theme::embedded("mono").unwrap();
    let mut app = App::new(orgs, settings(), Keymap::default(), theme, now());
    update(&mut app, Msg::Resize(80, 24));
    for org in 0..3 {
        poll(
            &mut app,
            org,
            &[alert(&format!("o{org}"), mins(30), 5)],
            true,
        );
    }
    update(
        &mut app,
        Msg::PollFailed {
            org: 3,
            error: "401 Unauthorized".into(),
            at: now(),
            retry_at: None,
        },
    );
    tick(&mut app, now() + secs(10)); // the error toast is gone
    assert_eq!(
        org_age_text(&app.orgs[3], app.now, app.settings.stale_after),
        "ERROR, no data"
    );
    let s = screen(&app);
    assert!(
        s.iter()
            .any(|l| l.contains("Sapporo Medical") && l.contains("ERROR")),
        "the failing org is not on screen:\n{}",
        s.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Notifications

#[test]
fn new_high_alerts_notify_but_the_initial_backlog_does_not() {
    let mut app = new_app();
    let effects = poll(
        &mut app,
        0,
        &[
            alert("old-high", mins(30), 9),
            alert("old-low", mins(30), 2),
        ],
        true,
    );
    assert!(effects.is_empty(), "{effects:?}");
    assert!(app.toasts.is_empty());

    let mut fresh = alert("new-high", mins(60), 9);
    fresh.device_name = Some("FIN-WS-\u{1b}[2J014".into());
    fresh.reason = Some("Ransomware\u{202e} behaviour".into());
    let effects = poll(
        &mut app,
        0,
        &[
            fresh,
            alert("new-med", mins(60), 6),
            alert("old-high", mins(30), 9),
        ],
        false,
    );
    assert_eq!(effects.len(), 1, "{effects:?}");
    let Effect::Notify { title, body } = &effects[0] else {
        panic!("{effects:?}")
    };
    assert_eq!(title, "High alert — Tanaka Seiki");
    assert!(body.contains("Ransomware"), "{body:?}");
    assert!(
        !body
            .chars()
            .any(|c| c.is_control() || socdeck::text::is_hidden(c)),
        "notification text is sanitised: {body:?}"
    );
    assert!(
        body.contains("\\x1b") && body.contains("\\u202e"),
        "{body:?}"
    );
    assert_eq!(app.toasts.back().unwrap().level, ToastLevel::Warning);

    // An update of a known alert, a closed new alert, a non-High new alert: no notification.
    let at = app.now;
    let effects = poll(
        &mut app,
        0,
        &[
            in_progress(alert("old-high", mins(30), 9), "k.sato"),
            closed(alert("new-closed", mins(50), 10), at),
            alert("new-low", mins(60), 3),
        ],
        false,
    );
    assert!(effects.is_empty(), "{effects:?}");

    // Two at once: one notification naming both devices.
    let effects = poll(
        &mut app,
        1,
        &[alert("k-a", mins(60), 8), alert("k-b", mins(60), 10)],
        false,
    );
    match &effects[..] {
        [Effect::Notify { title, body }] => {
            assert_eq!(title, "2 new High alerts — Kobe Logistics");
            assert!(
                body.contains("WS-k-a") && body.contains("WS-k-b"),
                "{body:?}"
            );
        }
        e => panic!("{e:?}"),
    }

    // Notifications off: none.
    app.settings.notify = false;
    let effects = poll(&mut app, 1, &[alert("k-c", mins(60), 10)], false);
    assert!(effects.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Redraws

#[test]
fn a_tick_redraws_only_when_a_countdown_is_visible() {
    let mut app = new_app();
    let done = ts("2026-11-30T08:30:00Z");
    poll(
        &mut app,
        0,
        &[
            closed(alert("c1", mins(-30), 5), done),
            closed(alert("c2", mins(-20), 5), done),
        ],
        true,
    );
    // The runtime draws after the poll and after the first tick (the org line changed).
    tick(&mut app, now());
    app.dirty = false;
    tick(&mut app, now() + secs(1));
    assert!(!app.dirty, "only stopped clocks on screen");
    tick(&mut app, now() + secs(2));
    assert!(!app.dirty);

    poll(&mut app, 0, &[alert("run", mins(30), 5)], false);
    assert!(app.dirty, "a poll that changes rows redraws");
    app.dirty = false;
    tick(&mut app, now() + secs(3));
    assert!(app.dirty, "a running countdown is visible");

    // The running clock filtered out of view: no redraw.
    run_command(&mut app, "status closed");
    app.dirty = false;
    tick(&mut app, now() + secs(4));
    assert!(!app.dirty, "the countdown is not visible");
}

#[test]
fn a_tick_does_not_redraw_for_countdowns_scrolled_out_of_view() {
    let mut app = new_app();
    let mut alerts: Vec<Alert> = (0..3)
        .map(|i| alert(&format!("run{i}"), mins(30 + i), 5))
        .collect();
    let done = ts("2026-11-30T08:00:00Z");
    alerts.extend((0..40).map(|i| closed(alert(&format!("c{i:02}"), mins(-100 - i), 3), done)));
    poll(&mut app, 0, &alerts, true);
    ch(&mut app, 'G');
    assert_eq!(app.queue.selected_index(), Some(42));
    assert!(app.queue.offset() > 3, "the running rows scrolled away");
    tick(&mut app, now());
    app.dirty = false;
    tick(&mut app, now() + secs(1));
    assert!(!app.dirty);
    ch(&mut app, 'g');
    app.dirty = false;
    tick(&mut app, now() + secs(2));
    assert!(app.dirty);
}

/// Drives the loop as the runtime does — draw when dirty, then clear it — and checks that a
/// skipped draw never hid a change: whenever `dirty` is false, the screen must be exactly the
/// last one drawn.
fn check_skipped_draws(app: &mut App, from: Timestamp, to: Timestamp, step: SignedDuration) {
    let mut last = screen(app);
    app.dirty = false;
    let mut t = from;
    let mut skipped = 0;
    while t <= to {
        tick(app, t);
        let now = screen(app);
        if app.dirty {
            app.dirty = false;
        } else {
            skipped += 1;
            assert_eq!(
                now, last,
                "at {t} the screen changed but the tick left it clean"
            );
        }
        last = now;
        t += step;
    }
    assert!(skipped > 0, "the check skipped no draw at all");
}

#[test]
fn a_skipped_redraw_never_hides_a_change_on_screen() {
    // Only stopped clocks on screen, one org failing, a toast expiring, an org going stale
    // and the wall clock crossing minutes (the header shows HH:MM): every visible change must
    // mark the screen dirty. Polls land at :20 so org ages and the clock change at different
    // ticks.
    let mut app = new_app();
    tick(&mut app, now() + secs(20));
    let done = ts("2026-11-30T08:30:00Z");
    poll(
        &mut app,
        0,
        &[
            closed(alert("c1", mins(-30), 5), done),
            closed(alert("c2", mins(-50), 9), done),
        ],
        true,
    );
    poll(&mut app, 1, &[], true);
    let at = app.now;
    update(
        &mut app,
        Msg::PollFailed {
            org: 2,
            error: "connection refused".into(),
            at,
            retry_at: None,
        },
    );
    check_skipped_draws(&mut app, now() + secs(21), now() + mins(4), secs(1));
}

#[test]
fn the_header_clock_is_redrawn_when_the_minute_changes() {
    let mut app = new_app();
    poll(&mut app, 0, &[alert("later", mins(30), 5)], true);
    tick(&mut app, now() + secs(59));
    assert!(screen(&app)[0].contains("09:00"));
    app.dirty = false;
    // A poll at 09:00:59 that changes nothing keeps the org line as it was.
    poll(&mut app, 0, &[], false);
    app.dirty = false;
    tick(&mut app, now() + secs(60));
    assert!(screen(&app)[0].contains("09:01"));
    assert!(app.dirty, "the header clock changed from 09:00 to 09:01");
}

/// With nothing left to breach, nothing in the header moves: no clock, no redraw, 0 B/s.
#[test]
fn with_no_clock_left_to_breach_the_header_is_still() {
    let mut app = new_app();
    let done = ts("2026-11-30T08:30:00Z");
    poll(
        &mut app,
        0,
        &[
            closed(alert("c1", mins(-30), 5), done),
            alert("late", mins(-5), 5),
        ],
        true,
    );
    tick(&mut app, now() + secs(1));
    let header = screen(&app)[0].clone();
    assert!(!header.contains("09:00"), "{header}");
    assert!(header.contains("breached 1"), "{header}");
    for ch_ in ['s', 's', 's'] {
        ch(&mut app, ch_); // filter to closed: no countdown on screen
    }
    tick(&mut app, now() + secs(2));
    app.dirty = false;
    for s_ in 3..=180 {
        tick(&mut app, now() + secs(s_));
        if s_ % 15 == 0 {
            // Polls keep coming (and change nothing): the org stays `ok <1m`.
            poll(&mut app, 0, &[], false);
        }
        assert!(
            !app.dirty,
            "redraw at +{s_}s with nothing time-dependent on screen"
        );
    }
}

/// With no countdown on screen the header's counts follow the HH:MM beside them: a clock that
/// passes its deadline off screen (filtered out) shows at the next minute, not at once — an
/// idle SSH link carries one frame a minute, not one per breach.
#[test]
fn with_no_countdown_visible_breaches_show_with_the_minute() {
    let mut app = new_app();
    let done = ts("2026-11-30T08:30:00Z");
    poll(
        &mut app,
        0,
        &[
            alert("soon", secs(10), 5),
            // A clock still to breach later keeps the header clock (and its minute) going.
            alert("later", mins(30), 5),
            closed(alert("c1", mins(-30), 5), done),
        ],
        true,
    );
    for _ in 0..3 {
        ch(&mut app, 's'); // open → in progress → closed: no running clock on screen
    }
    assert_eq!(app.queue.visible_len(), 1);
    tick(&mut app, now() + secs(5));
    assert!(screen(&app)[0].contains("breached 0"));
    app.dirty = false;
    tick(&mut app, now() + secs(11));
    assert_eq!(app.queue.counts(app.now).breached, 1);
    assert!(!app.dirty, "a breach off screen alone does not redraw");
    tick(&mut app, now() + secs(60));
    assert!(app.dirty, "the minute changed");
    let header = &screen(&app)[0];
    assert!(
        header.contains("breached 1") && header.contains("09:01"),
        "{header}"
    );
    // With the countdown on screen the breach is drawn the second it happens.
    let mut app = new_app();
    poll(&mut app, 0, &[alert("soon", secs(10), 5)], true);
    tick(&mut app, now() + secs(5));
    app.dirty = false;
    tick(&mut app, now() + secs(11));
    assert!(app.dirty);
    assert!(screen(&app)[0].contains("breached 1"));
}

#[test]
fn resize_changes_the_page_size() {
    let mut app = new_app();
    let alerts: Vec<Alert> = (0..60)
        .map(|i| alert(&format!("r{i:02}"), mins(1) + secs(i * 10), 5))
        .collect();
    poll(&mut app, 0, &alerts, true);
    // 80×24: 2 header lines, the table's header row, 1 footer line → 20 rows.
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.queue.selected_index(), Some(20));
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.queue.selected_index(), Some(0));

    update(&mut app, Msg::Resize(100, 30));
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.queue.selected_index(), Some(26));

    // 200×50 shows the preview (12 lines): 34 rows; hiding it gives 46.
    update(&mut app, Msg::Resize(200, 50));
    key(&mut app, KeyCode::PageDown);
    assert_eq!(
        app.queue.selected_index(),
        Some(60 - 1),
        "clamped at the end"
    );
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.queue.selected_index(), Some(34));
    key(&mut app, KeyCode::Home);
    ch(&mut app, 'v');
    assert!(!app.show_preview);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.queue.selected_index(), Some(46));

    // Shrinking the terminal keeps the selection on screen.
    ch(&mut app, 'g');
    for _ in 0..45 {
        ch(&mut app, 'j');
    }
    update(&mut app, Msg::Resize(80, 24));
    let (idx, off) = (app.queue.selected_index().unwrap(), app.queue.offset());
    assert_eq!(idx, 45);
    assert!(
        off <= idx && idx < off + 20,
        "selection {idx}, offset {off}"
    );
    assert!(screen(&app).iter().any(|l| l.contains("WS-r45")));
}

// ---------------------------------------------------------------------------------------------
// Quitting

#[test]
fn quit_keys() {
    let mut app = new_app();
    ch(&mut app, 'q');
    assert_eq!(app.quit, Some(ExitReason::User));
    assert_eq!(ExitReason::User.exit_code(), 0);

    let mut app = new_app();
    ctrl(&mut app, 'c');
    assert_eq!(app.quit, Some(ExitReason::User));

    // Help open: `q` closes help, Ctrl-C still quits.
    let mut app = new_app();
    ch(&mut app, '?');
    assert!(matches!(app.overlay, Overlay::Help { .. }));
    ch(&mut app, 'j');
    assert_eq!(app.overlay, Overlay::Help { scroll: 1 });
    ch(&mut app, 'q');
    assert_eq!(app.overlay, Overlay::None);
    assert_eq!(app.quit, None);
    ch(&mut app, '?');
    ctrl(&mut app, 'c');
    assert_eq!(app.quit, Some(ExitReason::User));

    // `q` typed into the filter is text.
    let mut app = new_app();
    ch(&mut app, '/');
    ch(&mut app, 'q');
    assert_eq!(app.quit, None);
    assert_eq!(app.queue.filter.text, "q");

    // A signal.
    let mut app = new_app();
    update(&mut app, Msg::Shutdown(ExitReason::Hangup));
    assert_eq!(app.quit, Some(ExitReason::Hangup));
}

#[test]
fn ctrl_c_quits_from_the_filter_input_and_the_palette_too() {
    // Ctrl-C is the way out of a terminal program in raw mode (no SIGINT is sent): it quits
    // from help, so it must quit from every overlay.
    let mut app = new_app();
    ch(&mut app, '/');
    type_text(&mut app, "abc");
    ctrl(&mut app, 'c');
    assert_eq!(app.quit, Some(ExitReason::User), "from the filter input");

    let mut app = new_app();
    ch(&mut app, ':');
    type_text(&mut app, "lev");
    ctrl(&mut app, 'c');
    assert_eq!(app.quit, Some(ExitReason::User), "from the palette");
}

// ---------------------------------------------------------------------------------------------
// RELIABILITY A5: random key sequences

fn arb_key() -> impl Strategy<Value = KeyEvent> {
    let code = prop_oneof![
        10 => prop::sample::select(vec![
            'j', 'k', 'g', 'G', '/', 'o', 'l', 's', 'c', 'p', 'v', '?', ':', 'q', 'r', 'x', ' ',
            'a', 'e', 'h', 'f', 'i', 't', 'u', '1', '-', 'w', 'K', 'o',
        ])
        .prop_map(KeyCode::Char),
        2 => any::<char>().prop_map(KeyCode::Char),
        6 => prop::sample::select(vec![
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Backspace,
            KeyCode::Delete,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::F(1),
            KeyCode::F(5),
            KeyCode::Null,
        ]),
    ];
    let mods = prop_oneof![
        8 => Just(KeyModifiers::NONE),
        1 => Just(KeyModifiers::SHIFT),
        1 => Just(KeyModifiers::CONTROL),
        1 => Just(KeyModifiers::ALT),
        1 => Just(KeyModifiers::CONTROL | KeyModifiers::SHIFT),
    ];
    (code, mods).prop_map(|(c, m)| KeyEvent::new(c, m))
}

/// 30 alerts over three orgs in every state.
fn busy_app() -> App {
    let mut app = new_app();
    for org in 0..3u16 {
        let alerts: Vec<Alert> = (0..10i64)
            .map(|i| {
                let a = alert(&format!("o{org}-{i}"), mins(i * 7 - 20), (i % 10) + 1);
                match i % 4 {
                    0 => closed(a, now() - mins(1)),
                    1 => in_progress(a, "k.sato"),
                    _ => a,
                }
            })
            .collect();
        poll(&mut app, org, &alerts, true);
    }
    app
}

fn check_selection(app: &App) {
    let len = app.queue.visible_len();
    match app.queue.selected_index() {
        None => assert_eq!(len, 0, "nothing selected with {len} rows"),
        Some(i) => {
            assert!(i < len, "selected index {i} out of range ({len} rows)");
            let sel = app.queue.selected().expect("the selected row exists");
            let h = queue_table_rows(app.size, app.show_preview).max(1);
            let off = app.queue.offset();
            assert!(
                off <= i && i < off + h,
                "selection {i} off screen ({off}+{h})"
            );
            let shown: Vec<_> = app.queue.window(h).collect();
            assert!(
                shown.iter().any(|(j, r)| *j == i && r.key == sel.key),
                "the window does not show the selected row at {i}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_key_sequences_never_panic_or_lose_the_selection(
        keys in prop::collection::vec(arb_key(), 500)
    ) {
        let mut app = busy_app();
        for k in keys {
            let overlay_before = app.overlay.clone();
            let effects = update(&mut app, Msg::Key(k));
            for e in &effects {
                if let Effect::Execute(t) = e {
                    match &t.spec {
                        // Without a rules file isolation needs approval; release always does.
                        Spec::Quarantine { .. } => prop_assert!(t.approval.is_some(), "{t:?}"),
                        // Nothing destructive is sent without its confirm prompt.
                        Spec::HashOverride { .. } => prop_assert!(
                            matches!(&overlay_before, Overlay::Prompt(p) if p.spec == t.spec),
                            "{t:?} without a prompt"
                        ),
                        Spec::Triage { .. } | Spec::Take => {}
                    }
                }
            }
            check_selection(&app);
        }
        // And the result draws.
        let _ = screen(&app);
    }

    #[test]
    fn keys_mixed_with_polls_ticks_and_resizes_keep_the_selection_valid(
        steps in prop::collection::vec(
            prop_oneof![
                12 => arb_key().prop_map(Msg::Key),
                1 => (1u16..=220, 1u16..=60).prop_map(|(w, h)| Msg::Resize(w, h)),
                1 => (0i64..600).prop_map(|s| Msg::Tick(now() + SignedDuration::from_secs(s))),
                1 => (0u16..3, 0i64..12, any::<bool>()).prop_map(|(org, n, close)| {
                    let alerts: Vec<Alert> = (0..n)
                        .map(|i| {
                            let a = alert(&format!("p{org}-{}", (i * 5) % 13), mins(i * 9 - 30), i % 11);
                            if close && i % 2 == 0 { closed(a, now() + mins(1)) } else { a }
                        })
                        .collect();
                    Msg::Polled { org, rows: rows(org, &alerts), at: now(), initial: false }
                }),
            ],
            200,
        )
    ) {
        let mut app = busy_app();
        for msg in steps {
            update(&mut app, msg);
            check_selection(&app);
        }
        let _ = screen(&app);
    }
}

// ---------------------------------------------------------------------------------------------
// Actions on an alert: the modal state machine (issue 4)

/// One org, alerts a1 (sev 9, device 101, hash) and a2 (owned by someone else); a1 selected.
fn action_app() -> App {
    let mut app = new_app();
    let mut a1 = alert("a1", mins(30), 9);
    a1.device_id = Some(101);
    a1.process_sha256 = Some("ab".repeat(32));
    a1.process_name = Some(r"C:\t\x.exe".into());
    let a2 = in_progress(alert("a2", mins(40), 5), "k.sato@soc.example");
    poll(&mut app, 0, &[a1, a2], true);
    ch(&mut app, 'g');
    assert_eq!(selected(&app).as_deref(), Some("a1"));
    app
}

fn executed(effects: &[Effect]) -> Vec<Tracked> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Execute(t) => Some((**t).clone()),
            _ => None,
        })
        .collect()
}

fn enter(app: &mut App) -> Vec<Effect> {
    key(app, KeyCode::Enter)
}

#[test]
fn quarantine_is_not_sent_before_confirm_nor_without_the_required_approval() {
    let mut app = action_app();
    // Without a rules file the safe default applies: isolation needs approval. From the
    // queue the device's state is read for the prompt.
    assert_eq!(
        ch(&mut app, 'i'),
        [Effect::LoadDevice {
            org: 0,
            device_id: 101
        }]
    );
    let Overlay::Prompt(p) = &app.overlay else {
        panic!("{:?}", app.overlay)
    };
    assert_eq!(p.need, ApprovalNeed::Rule);
    update(
        &mut app,
        Msg::DeviceState {
            org: 0,
            device_id: 101,
            quarantined: Ok(Some(false)),
        },
    );
    assert!(screen(&app).join("\n").contains("not quarantined"));
    // `y` types into the form instead of confirming; Enter is refused until both fields.
    assert!(ch(&mut app, 'y').is_empty());
    key(&mut app, KeyCode::Backspace);
    assert!(enter(&mut app).is_empty());
    type_text(&mut app, "Kato");
    assert!(enter(&mut app).is_empty(), "channel still missing");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "phone");
    let sent = executed(&enter(&mut app));
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].spec,
        Spec::Quarantine {
            on: true,
            device_id: 101,
            device: "WS-a1".into()
        }
    );
    let a = sent[0].approval.as_ref().unwrap();
    assert_eq!((a.approver.as_str(), a.channel.as_str()), ("Kato", "phone"));
    assert_eq!(app.overlay, Overlay::None);
    // Esc on a fresh prompt sends nothing.
    ch(&mut app, 'i');
    assert!(key(&mut app, KeyCode::Esc).is_empty());
    assert_eq!(app.overlay, Overlay::None);
}

#[test]
fn an_immediate_rule_confirms_at_once_but_release_always_needs_approval() {
    let mut app = action_app();
    app.rules = socdeck::config::rules::Rules::parse(
        "[[org]]\norg_key = \"7DESJ9GN\"\nisolation = \"immediate\"\n",
        std::path::Path::new("/rules.toml"),
    )
    .unwrap();
    ch(&mut app, 'i');
    let Overlay::Prompt(p) = &app.overlay else {
        panic!()
    };
    assert_eq!(p.need, ApprovalNeed::None);
    let sent = executed(&ch(&mut app, 'y'));
    assert_eq!(sent.len(), 1);
    assert!(sent[0].approval.is_none());

    ch(&mut app, 'I');
    let Overlay::Prompt(p) = &app.overlay else {
        panic!()
    };
    assert_eq!(p.need, ApprovalNeed::Release);
    assert!(enter(&mut app).is_empty());
    assert!(
        screen(&app)
            .join("\n")
            .contains("always needs the customer's approval")
    );
    type_text(&mut app, "Kato");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "email");
    let sent = executed(&enter(&mut app));
    assert!(matches!(sent[0].spec, Spec::Quarantine { on: false, .. }));
    assert!(sent[0].approval.is_some());
}

#[test]
fn read_only_blocks_every_action_key() {
    let mut app = action_app();
    app.settings.read_only = true;
    for c in ['t', 'a', 'i', 'I', 'b'] {
        assert!(ch(&mut app, c).is_empty(), "{c}");
        assert_eq!(app.overlay, Overlay::None, "{c}");
    }
    assert!(
        toast_texts(&app).iter().any(|t| t.contains("read-only")),
        "{:?}",
        toast_texts(&app)
    );
}

#[test]
fn triage_levels_and_their_effects_on_the_clock() {
    let mut app = action_app();
    ch(&mut app, 't');
    assert!(matches!(app.overlay, Overlay::LevelChoice { .. }));
    let sent = executed(&ch(&mut app, 'l'));
    assert_eq!(sent[0].spec, Spec::Triage { level: Level::Low });
    assert!(row(&app, "a1").clock(&app.settings.sla).is_running());
    // Confirmed: the level is set, the clock stops and shows why.
    update(
        &mut app,
        Msg::ActionState {
            id: sent[0].id,
            state: State::Confirmed,
        },
    );
    assert_eq!(row(&app, "a1").level_set, Some(Level::Low));
    assert_eq!(
        row(&app, "a1").clock(&app.settings.sla),
        Clock::Stopped(Stop::Triaged(Level::Low))
    );
    assert!(screen_row(&app, "a1").contains("Low: stop"));
    // A later poll replaces the row; what the analyst decided stays.
    poll(&mut app, 0, &[alert("a1", mins(30), 9)], false);
    assert_eq!(row(&app, "a1").level_set, Some(Level::Low));
}

#[test]
fn false_positive_offers_an_allow_list_entry_confirmed_separately() {
    let mut app = action_app();
    ch(&mut app, 't');
    let sent = executed(&ch(&mut app, 'f'));
    assert_eq!(sent.len(), 1, "only the triage is sent");
    let Overlay::Prompt(p) = &app.overlay else {
        panic!("{:?}", app.overlay)
    };
    assert!(
        matches!(&p.spec, Spec::HashOverride { ban: false, sha256, .. } if *sha256 == "ab".repeat(32))
    );
    let sent = executed(&ch(&mut app, 'y'));
    assert!(matches!(
        sent[0].spec,
        Spec::HashOverride { ban: false, .. }
    ));
    // Declining is fine too.
    ch(&mut app, 't');
    ch(&mut app, 'f');
    assert!(executed(&ch(&mut app, 'n')).is_empty());
}

#[test]
fn taking_an_alert_owned_by_someone_else_asks_first() {
    let mut app = action_app();
    assert_eq!(
        executed(&ch(&mut app, 'a')).len(),
        1,
        "unowned: taken at once"
    );
    ch(&mut app, 'j');
    assert_eq!(selected(&app).as_deref(), Some("a2"));
    assert!(executed(&ch(&mut app, 'a')).is_empty());
    let Overlay::Prompt(p) = &app.overlay else {
        panic!()
    };
    assert!(
        p.facts
            .iter()
            .any(|(k, v)| k == "Owned by" && v == "k.sato@soc.example")
    );
    assert_eq!(executed(&ch(&mut app, 'y'))[0].spec, Spec::Take);
}

#[test]
fn structured_notes_from_another_console_set_level_and_owner() {
    let mut app = action_app();
    let l = Ledger {
        level: Some((Level::FalsePositive, "sato".into(), now())),
        owner: Some(("sato".into(), now())),
        ..Ledger::default()
    };
    update(
        &mut app,
        Msg::Ledger {
            org: 0,
            entries: vec![("a1".into(), l), ("no-such".into(), Ledger::default())],
        },
    );
    assert_eq!(row(&app, "a1").level_set, Some(Level::FalsePositive));
    assert_eq!(row(&app, "a1").owner.as_ref().unwrap().as_str(), "sato");
    assert!(!row(&app, "a1").clock(&app.settings.sla).is_running());
}

#[test]
fn a_failed_action_is_reported_and_the_row_keeps_its_state() {
    let mut app = action_app();
    ch(&mut app, 't');
    let sent = executed(&ch(&mut app, 'h'));
    update(
        &mut app,
        Msg::ActionState {
            id: sent[0].id,
            state: State::Failed("HTTP 503".into()),
        },
    );
    assert!(
        toast_texts(&app)
            .iter()
            .any(|t| t.contains("FAILED: HTTP 503"))
    );
    assert_eq!(row(&app, "a1").level_set, None);
}

// ---------------------------------------------------------------------------------------------
// Clock semantics once reports and triage come in (issue 5 §3)

fn ledger_msg(app: &mut App, id: &str, l: Ledger) {
    update(
        app,
        Msg::Ledger {
            org: 0,
            entries: vec![(id.into(), l)],
        },
    );
}

fn report_at(t: Timestamp) -> Ledger {
    Ledger {
        first_report: Some((t, "yamada".into(), "email".into())),
        ..Ledger::default()
    }
}

#[test]
fn a_sent_first_report_stops_the_clock_as_met_or_late() {
    let mut app = new_app();
    // a1 received 50 min ago (10 left), a2 received 70 min ago (breached by 10).
    poll(
        &mut app,
        0,
        &[alert("a1", mins(10), 8), alert("a2", mins(-10), 8)],
        true,
    );
    let received = |id: &str| row(&app, id).received_at.unwrap();
    let (r1, r2) = (received("a1"), received("a2"));
    ledger_msg(&mut app, "a1", report_at(r1 + secs(37 * 60 + 12)));
    ledger_msg(&mut app, "a2", report_at(r2 + secs(64 * 60 + 10)));
    assert_eq!(
        row(&app, "a1").clock(&app.settings.sla),
        Clock::Stopped(Stop::Reported {
            late: false,
            took: secs(37 * 60 + 12)
        })
    );
    assert!(
        screen_row(&app, "a1").contains("met 37:12"),
        "{}",
        screen_row(&app, "a1")
    );
    assert!(
        screen_row(&app, "a2").contains("late04:10"),
        "{}",
        screen_row(&app, "a2")
    );
    // Stopped clocks sort below running ones and count as no breach in progress.
    tick(&mut app, now() + mins(30));
    assert!(!row(&app, "a1").clock(&app.settings.sla).is_running());
    // A later poll (the alert changed again in CBC) keeps the report.
    poll(&mut app, 0, &[alert("a1", mins(10), 8)], false);
    assert!(matches!(
        row(&app, "a1").clock(&app.settings.sla),
        Clock::Stopped(Stop::Reported { late: false, .. })
    ));
}

#[test]
fn low_or_fp_stops_the_clock_until_the_alert_is_reopened() {
    let mut app = new_app();
    let a = alert("a1", mins(25), 3);
    poll(&mut app, 0, std::slice::from_ref(&a), true);
    let t_level = now() - mins(1);
    ledger_msg(
        &mut app,
        "a1",
        Ledger {
            level: Some((Level::Low, "sato".into(), t_level)),
            ..Ledger::default()
        },
    );
    assert_eq!(
        row(&app, "a1").clock(&app.settings.sla),
        Clock::Stopped(Stop::Triaged(Level::Low))
    );
    // Closed by the triage in CBC: still stopped, shown as the triage.
    let c = closed(a.clone(), now());
    poll(&mut app, 0, &[c], false);
    assert_eq!(
        row(&app, "a1").clock(&app.settings.sla),
        Clock::Stopped(Stop::Triaged(Level::Low))
    );
    // Someone reopens it after the triage: the clock runs again.
    let reopened = in_progress(a, "k.sato@soc.example");
    let mut reopened = reopened;
    if let Some(w) = reopened.workflow.as_mut() {
        w.change_timestamp = Some(now());
    }
    reopened.backend_update_timestamp = Some(now());
    poll(&mut app, 0, &[reopened], false);
    assert!(row(&app, "a1").clock(&app.settings.sla).is_running());
}

#[test]
fn a_high_report_sent_leaves_phone_pending_until_the_call_is_logged() {
    use socdeck::app::editor::ReportKind;
    use socdeck::app::sending::ChannelResult;
    let mut app = action_app();
    let alert = row(&app, "a1").key.clone();
    let effects = update(
        &mut app,
        Msg::Delivered {
            key: alert.clone(),
            kind: ReportKind::First,
            results: vec![ChannelResult {
                channel: "email".into(),
                shown: "x@example.jp".into(),
                result: Ok(()),
            }],
            sent_at: Some(now()),
            note: Ok(()),
        },
    );
    assert!(effects.is_empty());
    assert!(app.phone_pending.contains(&alert));
    assert!(
        matches!(app.overlay, Overlay::Call(_)),
        "the call log opens"
    );
    assert!(screen_row(&app, "a1").contains("Ph?"));
    assert!(matches!(
        row(&app, "a1").clock(&app.settings.sla),
        Clock::Stopped(Stop::Reported { .. })
    ));
    // Enter without who and what is refused; then logged.
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    type_text(&mut app, "Sato");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "reached; approves isolation");
    let effects = key(&mut app, KeyCode::Enter);
    assert!(matches!(
        effects.as_slice(),
        [Effect::LogCall { person, .. }] if person == "Sato"
    ));
    assert!(!app.phone_pending.contains(&alert));
    // A partial failure says which channel and keeps nothing from being retried.
    update(
        &mut app,
        Msg::Delivered {
            key: alert,
            kind: ReportKind::Second,
            results: vec![ChannelResult {
                channel: "slack".into(),
                shown: "https://hooks.slack.com".into(),
                result: Err("HTTP 500".into()),
            }],
            sent_at: None,
            note: Ok(()),
        },
    );
    assert!(
        toast_texts(&app)
            .iter()
            .any(|t| t.contains("1 of 1 channel(s) FAILED"))
    );
    assert_eq!(row(&app, "a1").second_report_at(), None);
}
