//! Benchmark: what one frame of the queue screen costs — render time, and the bytes and write
//! syscalls a frame puts on the terminal (= on the SSH link) — with 1k, 10k and 100k alerts.
//!
//! ```text
//! cargo bench --bench draw                               # 1k, 10k, 100k alerts, 200×50
//! cargo bench --bench draw -- --alerts 1000,100000 --iters 2000 --size 200x50
//! cargo bench --bench draw -- --data sim                 # the demo's generated alerts
//! cargo bench --bench draw -- --json target/bench-draw.json --dump target/draw-frames
//! ```
//!
//! What is measured, per queue size (an `App` built the way the console builds it: rows from
//! alerts via `Msg::Polled`, then `Msg::Resize(200, 50)` and `Msg::Tick`):
//!
//! * `view`: `ui::view` into the frame buffer only (no diff, no output): the view's own cost.
//! * `test full` / `test tick`: `terminal.draw(|f| ui::view(&app, f))` on ratatui's
//!   `TestBackend` — render plus buffer diff, no terminal encoding. `full` is the first frame
//!   of a fresh terminal; `tick` is the frame after one `Msg::Tick` one second later (the
//!   countdowns changed): the per-second idle cost.
//! * `xterm full` / `xterm tick`: the same on `CrosstermBackend` (what `ratatui::init` uses)
//!   writing through a `LineWriter` — exactly how `std::io::Stdout` buffers, 1 KiB, so the
//!   counted `write` calls are the console's write syscalls — into a byte-counting sink:
//!   render + diff + escape-sequence encoding, bytes and writes per frame.
//! * `tick` (reducer): the cost of `update(Msg::Tick)` itself (it decides whether to redraw).
//! * live poll / filter keystroke (informational, not draws): `Msg::Polled` bringing one new
//!   alert (merge + full re-sort) and one keystroke in the text filter — O(n log n) work the
//!   analyst waits for, unlike the frames above.
//! * `wire full` / `wire tick`: the same on the console's own backend (src/ui/wire.rs: shortest
//!   cursor moves, SGR carried across cells and frames, one `write` per frame) — what the
//!   console sends since it replaced `CrosstermBackend`.
//! * idle model: the runtime's loop replayed for `--idle-secs` simulated seconds (one `Tick`
//!   per second, an empty poll result every 15 s as the poller delivers, a draw only when
//!   `app.dirty`) — frames, bytes/s and writes/s at rest; once with the default queue (running
//!   countdowns on every visible row) and once filtered to closed alerts (no countdown
//!   visible: the goal is 0 B/s). The header's `HH:MM` still changes once a minute, and its
//!   counts (`breached N`) are refreshed with it, so that case draws one small frame a minute;
//!   the frames counted say how many.
//!
//! Timings are medians and 95th percentiles over `--iters` frames; the first `--warmup` frames
//! are not recorded. Nothing is asserted: figures are printed against the goals (≤ 0.5 ms median
//! and flat ±10 % from 1k to 100k) and written as JSON with `--json`. `--dump DIR` writes the
//! bytes of the first full frame and of one steady tick frame per size for inspection.
//!
//! Data (`--data`): `synthetic` (default; fast and deterministic: three orgs, CBC-like strings,
//! 85 % open / 5 % in progress / 10 % closed, receipt ages drawn from the simulator's backlog
//! age bands, so the top of the queue holds running and breached countdowns as in `--demo`,
//! 1 % of alerts carry hidden characters), or `sim` (the simulator's own generator, as
//! `--demo --backlog N` serves it; slow for 100k).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, LineWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use ratatui::backend::{Backend, CrosstermBackend, TestBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use serde_json::json;

use socdeck::app::queue::{OrgIdx, Row};
use socdeck::app::{Action, App, Msg, OrgState, Settings, run_action, update};
use socdeck::cbc::model::{Alert, Workflow};
use socdeck::config::keymap::Keymap;
use socdeck::config::theme::Theme;
use socdeck::ui::wire::WireBackend;

const GOAL_MEDIAN_MS: f64 = 0.5;
const GOAL_FLAT: f64 = 0.10;
const GOAL_IDLE_BPS: f64 = 300.0;
const GOAL_IDLE_WPS: f64 = 1.0;
/// The runtime polls every org every 15 s (config default).
const POLL_EVERY_S: i64 = 15;
/// The instant the synthetic data is built around (fixed: same data, same frames, every run).
const NOW: &str = "2026-11-30T09:00:00Z";

// ---------------------------------------------------------------------------------------------
// Options

#[derive(Debug, Clone)]
struct Opts {
    alerts: Vec<usize>,
    width: u16,
    height: u16,
    iters: usize,
    warmup: usize,
    idle_secs: i64,
    data: Data,
    seed: u64,
    json: Option<PathBuf>,
    dump: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    Synthetic,
    Sim,
}

fn parse_opts(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        alerts: vec![1_000, 10_000, 100_000],
        width: 200,
        height: 50,
        iters: 1000,
        warmup: 50,
        idle_secs: 600,
        data: Data::Synthetic,
        seed: 1,
        json: None,
        dump: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => {}
            "--alerts" => {
                o.alerts = val(a)?
                    .split(',')
                    .map(|s| parse_count(s.trim()))
                    .collect::<Result<_, _>>()?;
            }
            "--size" => {
                let v = val(a)?;
                let (w, h) = v
                    .split_once('x')
                    .ok_or("--size is COLSxROWS, e.g. 200x50")?;
                o.width = w.parse().map_err(|_| "bad --size width")?;
                o.height = h.parse().map_err(|_| "bad --size height")?;
            }
            "--iters" => o.iters = val(a)?.parse().map_err(|_| "bad --iters")?,
            "--warmup" => o.warmup = val(a)?.parse().map_err(|_| "bad --warmup")?,
            "--idle-secs" => o.idle_secs = val(a)?.parse().map_err(|_| "bad --idle-secs")?,
            "--seed" => o.seed = val(a)?.parse().map_err(|_| "bad --seed")?,
            "--data" => {
                o.data = match val(a)?.as_str() {
                    "synthetic" => Data::Synthetic,
                    "sim" => Data::Sim,
                    other => return Err(format!("--data synthetic|sim, not {other:?}")),
                }
            }
            "--json" => o.json = Some(PathBuf::from(val(a)?)),
            "--dump" => o.dump = Some(PathBuf::from(val(a)?)),
            "-h" | "--help" => {
                return Err("usage: cargo bench --bench draw -- [--alerts 1000,10k,100k] [--size 200x50] \
                            [--iters N] [--warmup N] [--idle-secs N] [--data synthetic|sim] [--seed N] \
                            [--json FILE] [--dump DIR]"
                    .into());
            }
            other => return Err(format!("unknown option {other:?} (--help)")),
        }
    }
    if o.iters == 0 {
        return Err("--iters must be at least 1".into());
    }
    Ok(o)
}

fn parse_count(s: &str) -> Result<usize, String> {
    let (num, mul) = match s.strip_suffix(['k', 'K']) {
        Some(n) => (n, 1000),
        None => (s, 1),
    };
    num.parse::<usize>()
        .map(|n| n * mul)
        .map_err(|_| format!("bad alert count {s:?}"))
}

// ---------------------------------------------------------------------------------------------
// Data

/// splitmix64: a tiny deterministic generator (the bench must not depend on `rand`'s streams).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const ORGS: [(&str, &str); 3] = [
    ("Tanaka Logistics", "7DESJ9GN"),
    ("Northwind Health", "K2PQ8XTA"),
    ("Alder & Finch LLP", "Q9ZR4MWE"),
];
/// Receipt age bands in minutes, as the simulator's backlog (`sim/scenario.rs` AGE_BANDS/CYCLE).
const AGE_BANDS: [(i64, i64); 10] = [
    (1, 10),
    (1, 10),
    (10, 35),
    (10, 35),
    (43, 48),
    (53, 57),
    (62, 150),
    (62, 150),
    (150, 300),
    (300, 480),
];
const TYPES: [&str; 4] = [
    "CB_ANALYTICS",
    "WATCHLIST",
    "DEVICE_CONTROL",
    "INTRUSION_DETECTION_SYSTEM",
];
const DEPTS: [&str; 6] = ["FIN", "HR", "ENG", "OPS", "LEGAL", "SRV"];
const POLICIES: [&str; 4] = ["Standard", "Advanced", "Servers - Monitored", "Executives"];
const USERS: [&str; 5] = [
    "CORP\\t.sato",
    "CORP\\a.meyer",
    "NT AUTHORITY\\SYSTEM",
    "CORP\\svc_backup",
    "CORP\\j.okafor",
];
const PROCS: [(&str, &str); 6] = [
    (
        "c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe",
        "powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
    ),
    (
        "c:\\windows\\system32\\cmd.exe",
        "cmd.exe /c vssadmin delete shadows /all /quiet",
    ),
    (
        "c:\\windows\\system32\\rundll32.exe",
        "rundll32.exe C:\\Users\\Public\\libcurl.dll,Start",
    ),
    (
        "c:\\users\\t.sato\\appdata\\local\\temp\\xmrig.exe",
        "xmrig.exe -o pool.minexmr.com:4444 -u 4A1... --donate-level 1",
    ),
    ("c:\\windows\\psexesvc.exe", "PSEXESVC.exe"),
    (
        "c:\\program files\\7-zip\\7z.exe",
        "7z.exe a -p\"S3cret!\" c:\\perflogs\\out.7z c:\\users\\*\\documents",
    ),
];
const REASONS: [&str; 6] = [
    "The application powershell.exe invoked another application (cmd.exe) that attempted to delete volume shadow copies.",
    "A known ransomware artifact was detected on the device: files are being encrypted at a high rate in user profile folders.",
    "The application rundll32.exe established a TCP/443 connection to 185.220.101.4, a known command and control server.",
    "Credential dumping: the application accessed the memory of lsass.exe with PROCESS_VM_READ access.",
    "Watchlist hit: ATT&CK T1021.002 remote service creation over SMB from a workstation to a server.",
    "A cryptocurrency miner was detected; the process was terminated by policy.",
];
const TTPS: [&str; 6] = [
    "RAN_ATTACK",
    "DELETE_SHADOWS",
    "T1059.001",
    "MITRE_T1003_CREDENTIAL_DUMP",
    "ADAPTIVE_WHITE_APP",
    "NETWORK_ACCESS",
];
/// Hidden and control characters attackers put in names: the sanitiser shows them as escapes.
const HOSTILE: [&str; 3] = ["\u{202e}gpj.exe", "\x1b[2J\x1b[31mOK", "fin\u{200b}ance"];

fn synthetic_alerts(n: usize, seed: u64, now: Timestamp) -> Vec<(OrgIdx, Alert)> {
    let mut rng = Rng(seed ^ 0xD1A5_u64);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let org = rng.below(ORGS.len() as u64) as OrgIdx;
        let (lo, hi) = AGE_BANDS[rng.below(AGE_BANDS.len() as u64) as usize];
        let age_ms = lo * 60_000 + rng.below(((hi - lo) * 60_000) as u64) as i64;
        let received = now - SignedDuration::from_millis(age_ms);
        let roll = rng.below(100);
        let (status, changed_by) = match roll {
            0..85 => ("OPEN", None),
            85..90 => (
                "IN_PROGRESS",
                Some(
                    rng.pick(&["a.analyst", "b.analyst", "c.analyst"])
                        .to_string(),
                ),
            ),
            _ => ("CLOSED", Some("a.analyst".to_string())),
        };
        let (path, cmdline) = PROCS[rng.below(PROCS.len() as u64) as usize];
        let mut device = format!(
            "{}-{}-{:04}",
            rng.pick(&["WKS", "LT", "SRV"]),
            rng.pick(&DEPTS),
            rng.below(5000)
        );
        if rng.chance(0.01) {
            device.push_str(rng.pick(&HOSTILE));
        }
        let updated = if status == "OPEN" {
            received
        } else {
            received + SignedDuration::from_mins(rng.below(50) as i64)
        };
        out.push((
            org,
            Alert {
                id: Some(format!(
                    "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    rng.next() as u32,
                    i % 65536,
                    rng.below(4096),
                    rng.below(4096),
                    rng.next() >> 16
                )),
                org_key: Some(ORGS[org as usize].1.to_string()),
                alert_type: Some(rng.pick(&TYPES).to_string()),
                severity: Some(1 + rng.below(10) as i64),
                reason: Some(rng.pick(&REASONS).to_string()),
                backend_timestamp: Some(received),
                backend_update_timestamp: Some(updated),
                workflow: Some(Workflow {
                    status: Some(status.to_string()),
                    closure_reason: (status == "CLOSED").then(|| "NO_REASON".to_string()),
                    change_timestamp: Some(updated),
                    changed_by_type: changed_by.as_ref().map(|_| "USER".to_string()),
                    changed_by,
                    ..Default::default()
                }),
                device_id: Some(100_000 + rng.below(900_000) as i64),
                device_name: Some(device),
                device_os: Some(rng.pick(&["WINDOWS", "MAC", "LINUX"]).to_string()),
                device_username: Some(rng.pick(&USERS).to_string()),
                device_policy: Some(rng.pick(&POLICIES).to_string()),
                process_name: Some(path.to_string()),
                process_cmdline: Some(cmdline.to_string()),
                process_username: Some(rng.pick(&USERS).to_string()),
                process_sha256: Some(format!(
                    "{:016x}{:016x}{:016x}{:016x}",
                    rng.next(),
                    rng.next(),
                    rng.next(),
                    rng.next()
                )),
                ttps: (0..1 + rng.below(3))
                    .map(|_| rng.pick(&TTPS).to_string())
                    .collect(),
                ..Default::default()
            },
        ));
    }
    out
}

/// Org names, and alerts with the org each belongs to.
type OrgsAndAlerts = (Vec<String>, Vec<(OrgIdx, Alert)>);

/// The simulator's generated backlog (what `--demo --backlog N` serves), org names included.
fn sim_alerts(n: usize, seed: u64, now: Timestamp) -> Result<OrgsAndAlerts, String> {
    use socdeck::sim::scenario::Generator;
    use socdeck::sim::world::StorySource;
    let mut g = Generator::new_at(seed, 3, n, now);
    let names = g.orgs().into_iter().map(|o| o.name).collect();
    let mut out = Vec::with_capacity(n);
    for (org, story) in g.backlog(now) {
        for doc in story.alerts {
            let a: Alert = serde_json::from_value(serde_json::Value::Object(doc))
                .map_err(|e| e.to_string())?;
            out.push((org as OrgIdx, a));
        }
    }
    Ok((names, out))
}

/// An `App` as the console has it after the initial load: every org polled once, sized, ticked.
fn build_app(
    names: &[String],
    alerts: &[(OrgIdx, Alert)],
    now: Timestamp,
    w: u16,
    h: u16,
) -> (App, Duration, Duration) {
    let orgs: Vec<OrgState> = names
        .iter()
        .enumerate()
        .map(|(i, n)| OrgState::new(n.clone(), ORGS.get(i).map_or("ORG", |o| o.1)))
        .collect();
    let settings = Settings {
        display_tz: jiff::tz::TimeZone::UTC,
        ..Settings::default()
    };
    let mut app = App::new(orgs, settings, Keymap::default(), Theme::default(), now);
    let _ = update(&mut app, Msg::Resize(w, h));
    let t = Instant::now();
    let mut per_org: Vec<Vec<Row>> = vec![Vec::new(); names.len()];
    for (org, a) in alerts {
        if let Some(r) = Row::from_alert(*org, a) {
            per_org[*org as usize].push(r);
        }
    }
    let rows_time = t.elapsed();
    let t = Instant::now();
    for (org, rows) in per_org.into_iter().enumerate() {
        let _ = update(
            &mut app,
            Msg::Polled {
                org: org as OrgIdx,
                rows,
                at: now,
                initial: true,
            },
        );
    }
    let polled_time = t.elapsed();
    let _ = update(&mut app, Msg::Tick(now));
    (app, rows_time, polled_time)
}

// ---------------------------------------------------------------------------------------------
// Byte-counting terminal

/// What reached the terminal: bytes and `write` calls (behind a `LineWriter`, each call here is
/// one `write(2)` of `std::io::Stdout`), and optionally the bytes themselves.
#[derive(Default)]
struct Counts {
    bytes: u64,
    writes: u64,
    keep: Option<Vec<u8>>,
}

/// Shared with the bench so it can read the counts while the terminal owns the writer.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Counts>>);

impl Sink {
    fn take(&self) -> (u64, u64) {
        let mut c = self.0.borrow_mut();
        let out = (c.bytes, c.writes);
        c.bytes = 0;
        c.writes = 0;
        out
    }
    fn keep(&self, on: bool) -> Option<Vec<u8>> {
        let mut c = self.0.borrow_mut();
        std::mem::replace(&mut c.keep, on.then(Vec::new))
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut c = self.0.borrow_mut();
        c.bytes += buf.len() as u64;
        c.writes += 1;
        if let Some(k) = &mut c.keep {
            k.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

type XTerm = Terminal<CrosstermBackend<LineWriter<Sink>>>;

/// A fixed viewport: ratatui does not query the real terminal's size (there is none here);
/// the cells and bytes drawn are those of a fullscreen terminal of that size.
fn xterm(w: u16, h: u16) -> (XTerm, Sink) {
    let sink = Sink::default();
    let term = Terminal::with_options(
        CrosstermBackend::new(LineWriter::new(sink.clone())),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    )
    .expect("terminal");
    (term, sink)
}

type WireTerm = Terminal<WireBackend<Sink>>;

/// The console's backend, writing straight to the sink (as it writes to the tty: one `write`
/// per frame, no line buffering in between).
fn wire(w: u16, h: u16) -> (WireTerm, Sink) {
    let sink = Sink::default();
    let term = Terminal::new(WireBackend::with_size(sink.clone(), w, h)).expect("terminal");
    (term, sink)
}

fn test_terminal(w: u16, h: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(w, h)).expect("terminal")
}

// ---------------------------------------------------------------------------------------------
// Statistics

#[derive(Debug, Clone, Copy, Default)]
struct Stat {
    median_us: f64,
    p95_us: f64,
    min_us: f64,
    mean_us: f64,
}

fn stat(mut v: Vec<Duration>) -> Stat {
    if v.is_empty() {
        return Stat::default();
    }
    v.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    Stat {
        median_us: us(v[v.len() / 2]),
        p95_us: us(v[(v.len() * 95 / 100).min(v.len() - 1)]),
        min_us: us(v[0]),
        mean_us: v.iter().map(|d| us(*d)).sum::<f64>() / v.len() as f64,
    }
}

fn stat_json(s: Stat) -> serde_json::Value {
    json!({"median_us": round2(s.median_us), "p95_us": round2(s.p95_us), "min_us": round2(s.min_us), "mean_us": round2(s.mean_us)})
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[derive(Debug, Clone, Copy, Default)]
struct Bytes {
    min: u64,
    mean: f64,
    max: u64,
    writes_mean: f64,
    writes_max: u64,
}

fn bytes_stat(v: &[(u64, u64)]) -> Bytes {
    if v.is_empty() {
        return Bytes::default();
    }
    Bytes {
        min: v.iter().map(|x| x.0).min().unwrap_or(0),
        mean: v.iter().map(|x| x.0).sum::<u64>() as f64 / v.len() as f64,
        max: v.iter().map(|x| x.0).max().unwrap_or(0),
        writes_mean: v.iter().map(|x| x.1).sum::<u64>() as f64 / v.len() as f64,
        writes_max: v.iter().map(|x| x.1).max().unwrap_or(0),
    }
}

fn bytes_json(b: Bytes) -> serde_json::Value {
    json!({"min": b.min, "mean": round2(b.mean), "max": b.max, "writes_mean": round2(b.writes_mean), "writes_max": b.writes_max})
}

// ---------------------------------------------------------------------------------------------
// Measurements

/// Advances the app by one second as the runtime does: the poller's empty result every 15 s
/// (keeps the orgs live), then the once-a-second `Tick`.
fn advance(app: &mut App, now: &mut Timestamp, t0: Timestamp) -> Duration {
    *now += SignedDuration::from_secs(1);
    if now.duration_since(t0).as_secs() % POLL_EVERY_S == 0 {
        for org in 0..app.orgs.len() {
            let _ = update(
                app,
                Msg::Polled {
                    org: org as OrgIdx,
                    rows: Vec::new(),
                    at: *now,
                    initial: false,
                },
            );
        }
    }
    let t = Instant::now();
    let _ = update(app, Msg::Tick(*now));
    t.elapsed()
}

struct SizeResult {
    n: usize,
    rows_ms: f64,
    polled_ms: f64,
    visible: usize,
    view: Stat,
    test_full: Stat,
    test_tick: Stat,
    xterm_full: Stat,
    xterm_tick: Stat,
    tick_update: Stat,
    full_bytes: Bytes,
    tick_bytes: Bytes,
    wire_full: Stat,
    wire_tick: Stat,
    wire_full_bytes: Bytes,
    wire_tick_bytes: Bytes,
    idle: Idle,
    idle_closed: Idle,
    live_poll: Stat,
    filter_key: Stat,
}

#[derive(Debug, Clone, Copy, Default)]
struct Idle {
    secs: i64,
    frames: u64,
    bytes: u64,
    writes: u64,
}

impl Idle {
    fn bps(&self) -> f64 {
        self.bytes as f64 / self.secs.max(1) as f64
    }
    fn wps(&self) -> f64 {
        self.writes as f64 / self.secs.max(1) as f64
    }
    fn json(&self) -> serde_json::Value {
        json!({"simulated_s": self.secs, "frames": self.frames, "bytes": self.bytes, "writes": self.writes,
               "bytes_per_s": round2(self.bps()), "writes_per_s": round2(self.wps())})
    }
}

fn measure(o: &Opts, n: usize) -> Result<SizeResult, String> {
    let t0: Timestamp = NOW.parse().map_err(|e| format!("{e}"))?;
    let (names, alerts) = match o.data {
        Data::Synthetic => (
            ORGS.iter().map(|o| o.0.to_string()).collect::<Vec<_>>(),
            synthetic_alerts(n, o.seed, t0),
        ),
        Data::Sim => sim_alerts(n, o.seed, t0)?,
    };
    let (w, h) = (o.width, o.height);
    let (mut app, rows_time, polled_time) = build_app(&names, &alerts, t0, w, h);
    drop(alerts);
    let mut now = t0;
    let total = o.warmup + o.iters;

    // view only: the view into a fresh frame buffer, nothing diffed or written.
    let mut view = Vec::with_capacity(o.iters);
    let mut term = test_terminal(w, h);
    for i in 0..total {
        let mut frame = term.get_frame();
        frame.buffer_mut().reset();
        let t = Instant::now();
        socdeck::ui::view(&app, &mut frame);
        let d = t.elapsed();
        if i >= o.warmup {
            view.push(d);
        }
    }

    // TestBackend: first frame of a fresh terminal, then frames one tick apart.
    let mut test_full = Vec::with_capacity(o.iters);
    for i in 0..total {
        let mut term = test_terminal(w, h);
        let t = Instant::now();
        term.draw(|f| socdeck::ui::view(&app, f))
            .map_err(|e| e.to_string())?;
        let d = t.elapsed();
        if i >= o.warmup {
            test_full.push(d);
        }
    }
    let mut term = test_terminal(w, h);
    term.draw(|f| socdeck::ui::view(&app, f))
        .map_err(|e| e.to_string())?;
    let mut test_tick = Vec::with_capacity(o.iters);
    let mut tick_update = Vec::with_capacity(o.iters);
    for i in 0..total {
        let d_tick = advance(&mut app, &mut now, t0);
        let t = Instant::now();
        term.draw(|f| socdeck::ui::view(&app, f))
            .map_err(|e| e.to_string())?;
        let d = t.elapsed();
        app.dirty = false;
        if i >= o.warmup {
            test_tick.push(d);
            tick_update.push(d_tick);
        }
    }

    // Crossterm, then the console's wire backend, over a counting sink: same frames, with
    // encoding, bytes and writes.
    let (mut app, _, _) = build_app(&names, &alerts_again(o, n, t0, &names)?, t0, w, h);
    let xterm_run = encoded(o, n, &mut app, t0, || xterm(w, h), "xterm")?;
    let (mut app, _, _) = build_app(&names, &alerts_again(o, n, t0, &names)?, t0, w, h);
    let wire_run = encoded(o, n, &mut app, t0, || wire(w, h), "wire")?;
    let visible = app.queue.visible_len();

    // Idle model: the runtime loop at rest, draws only when dirty.
    let (mut app, _, _) = build_app(&names, &alerts_again(o, n, t0, &names)?, t0, w, h);
    let idle = idle_model(&mut app, t0, o.idle_secs, w, h)?;
    let (mut app, _, _) = build_app(&names, &alerts_again(o, n, t0, &names)?, t0, w, h);
    for _ in 0..3 {
        // open → in progress → closed, as pressing `s` three times
        let _ = run_action(&mut app, Action::CycleStatus);
    }
    let idle_closed = idle_model(&mut app, t0, o.idle_secs.max(3600), w, h)?;

    // Not draws, but what the analyst waits for at this queue size: a live poll bringing one
    // new alert (merge + full re-sort), and a keystroke in the text filter (re-filter + sort).
    let _ = run_action(&mut app, Action::ClearFilters);
    let mut live_poll = Vec::new();
    for (i, (org, a)) in synthetic_alerts(7, o.seed ^ 0xF00D, t0)
        .into_iter()
        .enumerate()
    {
        let row = Row::from_alert(org, &a).ok_or("synthetic alert without id")?;
        let at = t0 + SignedDuration::from_secs(i as i64);
        let t = Instant::now();
        let _ = update(
            &mut app,
            Msg::Polled {
                org,
                rows: vec![row],
                at,
                initial: false,
            },
        );
        live_poll.push(t.elapsed());
    }
    let key = |c: char| {
        Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            crossterm::event::KeyModifiers::NONE,
        ))
    };
    let _ = update(&mut app, key('/'));
    let mut filter_key = Vec::new();
    for c in "power".chars() {
        let t = Instant::now();
        let _ = update(&mut app, key(c));
        filter_key.push(t.elapsed());
    }

    Ok(SizeResult {
        n,
        rows_ms: rows_time.as_secs_f64() * 1e3,
        polled_ms: polled_time.as_secs_f64() * 1e3,
        visible,
        view: stat(view),
        test_full: stat(test_full),
        test_tick: stat(test_tick),
        xterm_full: xterm_run.full,
        xterm_tick: xterm_run.tick,
        tick_update: stat(tick_update),
        full_bytes: xterm_run.full_bytes,
        tick_bytes: xterm_run.tick_bytes,
        wire_full: wire_run.full,
        wire_tick: wire_run.tick,
        wire_full_bytes: wire_run.full_bytes,
        wire_tick_bytes: wire_run.tick_bytes,
        idle,
        idle_closed,
        live_poll: stat(live_poll),
        filter_key: stat(filter_key),
    })
}

/// First frames of fresh terminals and tick frames of one terminal through an encoding backend:
/// times, and bytes and `write` calls per frame.
struct Encoded {
    full: Stat,
    tick: Stat,
    full_bytes: Bytes,
    tick_bytes: Bytes,
}

fn encoded<B: Backend>(
    o: &Opts,
    n: usize,
    app: &mut App,
    t0: Timestamp,
    make: impl Fn() -> (Terminal<B>, Sink),
    name: &str,
) -> Result<Encoded, String>
where
    B::Error: std::fmt::Display,
{
    let total = o.warmup + o.iters;
    let mut now = t0;
    let mut full = Vec::with_capacity(o.iters);
    let mut full_bytes = Vec::with_capacity(o.iters);
    let mut first_frame_dump = None;
    for i in 0..total {
        let (mut term, sink) = make();
        if i == 0 && o.dump.is_some() {
            sink.keep(true);
        }
        let t = Instant::now();
        term.draw(|f| socdeck::ui::view(app, f))
            .map_err(|e| e.to_string())?;
        let d = t.elapsed();
        // Dropping a wire terminal flushes what its drop queued (a visible cursor): not part
        // of the frame.
        let c = sink.take();
        drop(term);
        if i == 0 {
            first_frame_dump = sink.keep(false);
        }
        let _ = sink.take();
        if i >= o.warmup {
            full.push(d);
            full_bytes.push(c);
        }
    }
    let (mut term, sink) = make();
    term.draw(|f| socdeck::ui::view(app, f))
        .map_err(|e| e.to_string())?;
    let _ = sink.take();
    let mut tick = Vec::with_capacity(o.iters);
    let mut tick_bytes = Vec::with_capacity(o.iters);
    let mut tick_frame_dump = None;
    for i in 0..total {
        let _ = advance(app, &mut now, t0);
        if i == o.warmup && o.dump.is_some() {
            sink.keep(true);
        }
        let t = Instant::now();
        term.draw(|f| socdeck::ui::view(app, f))
            .map_err(|e| e.to_string())?;
        let d = t.elapsed();
        app.dirty = false;
        if i == o.warmup {
            tick_frame_dump = sink.keep(false);
        }
        let c = sink.take();
        if i >= o.warmup {
            tick.push(d);
            tick_bytes.push(c);
        }
    }
    if let Some(dir) = &o.dump {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        if let Some(b) = first_frame_dump {
            std::fs::write(dir.join(format!("{name}-full-{n}.bin")), b)
                .map_err(|e| e.to_string())?;
        }
        if let Some(b) = tick_frame_dump {
            std::fs::write(dir.join(format!("{name}-tick-{n}.bin")), b)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(Encoded {
        full: stat(full),
        tick: stat(tick),
        full_bytes: bytes_stat(&full_bytes),
        tick_bytes: bytes_stat(&tick_bytes),
    })
}

/// The same alerts again (each App takes its rows by value; regenerating is deterministic).
fn alerts_again(
    o: &Opts,
    n: usize,
    t0: Timestamp,
    _names: &[String],
) -> Result<Vec<(OrgIdx, Alert)>, String> {
    Ok(match o.data {
        Data::Synthetic => synthetic_alerts(n, o.seed, t0),
        Data::Sim => sim_alerts(n, o.seed, t0)?.1,
    })
}

/// The runtime's loop at rest for `secs` simulated seconds: the first frame is drawn and not
/// counted, then per second an (empty) poll result every 15 s and a Tick, and a draw when dirty.
fn idle_model(app: &mut App, t0: Timestamp, secs: i64, w: u16, h: u16) -> Result<Idle, String> {
    let (mut term, sink) = wire(w, h);
    term.draw(|f| socdeck::ui::view(app, f))
        .map_err(|e| e.to_string())?;
    app.dirty = false;
    let _ = sink.take();
    let mut now = t0;
    let mut idle = Idle {
        secs,
        ..Idle::default()
    };
    for _ in 0..secs {
        let _ = advance(app, &mut now, t0);
        if app.dirty {
            term.draw(|f| socdeck::ui::view(app, f))
                .map_err(|e| e.to_string())?;
            app.dirty = false;
            idle.frames += 1;
            let (b, wr) = sink.take();
            idle.bytes += b;
            idle.writes += wr;
        }
    }
    Ok(idle)
}

// ---------------------------------------------------------------------------------------------
// Report

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn ms(us: f64) -> String {
    format!("{:.3}", us / 1000.0)
}

fn report(o: &Opts, results: &[SizeResult], load_before: &str, load_after: &str) {
    println!();
    println!(
        "draw bench: {}x{}, {} frames per figure (+{} warm-up), data {:?}, load average {} → {}",
        o.width, o.height, o.iters, o.warmup, o.data, load_before, load_after
    );
    println!();
    println!(
        "times in ms, median / p95                    {}",
        results
            .iter()
            .map(|r| format!("{:>17}", format!("{} alerts", r.n)))
            .collect::<String>()
    );
    let line = |label: &str, f: &dyn Fn(&SizeResult) -> String| {
        println!(
            "{label:<45}{}",
            results
                .iter()
                .map(|r| format!("{:>17}", f(r)))
                .collect::<String>()
        );
    };
    let mp = |s: Stat| format!("{} / {}", ms(s.median_us), ms(s.p95_us));
    line("view only (ui::view into the buffer)", &|r| mp(r.view));
    line("TestBackend draw, first frame", &|r| mp(r.test_full));
    line("TestBackend draw, tick frame", &|r| mp(r.test_tick));
    line("Crossterm draw, first frame (+encode)", &|r| {
        mp(r.xterm_full)
    });
    line(
        "Crossterm draw, tick frame (+encode)",
        &|r| mp(r.xterm_tick),
    );
    line("Wire draw, first frame (+encode)", &|r| mp(r.wire_full));
    line("Wire draw, tick frame (+encode)", &|r| mp(r.wire_tick));
    line("update(Msg::Tick)", &|r| mp(r.tick_update));
    println!();
    for (name, full, tick) in [
        (
            "Crossterm",
            (|r: &SizeResult| r.full_bytes) as fn(&SizeResult) -> Bytes,
            (|r: &SizeResult| r.tick_bytes) as fn(&SizeResult) -> Bytes,
        ),
        (
            "Wire",
            |r: &SizeResult| r.wire_full_bytes,
            |r: &SizeResult| r.wire_tick_bytes,
        ),
    ] {
        line(&format!("{name} first frame: bytes / write calls"), &|r| {
            format!("{} / {:.0}", full(r).mean as u64, full(r).writes_mean)
        });
        line(&format!("{name} tick frame: bytes mean (min-max)"), &|r| {
            format!("{:.0} ({}-{})", tick(r).mean, tick(r).min, tick(r).max)
        });
        line(&format!("{name} tick frame: writes mean (max)"), &|r| {
            format!("{:.2} ({})", tick(r).writes_mean, tick(r).writes_max)
        });
    }
    line("idle model: B/s, writes/s (countdowns)", &|r| {
        format!("{:.0}, {:.2}", r.idle.bps(), r.idle.wps())
    });
    line("idle model: frames in window", &|r| {
        format!("{}/{}s", r.idle.frames, r.idle.secs)
    });
    line("idle model: B/s (status closed, no row clock)", &|r| {
        format!("{:.2}", r.idle_closed.bps())
    });
    line("idle model: frames (header changes only)", &|r| {
        format!("{}/{}s", r.idle_closed.frames, r.idle_closed.secs)
    });
    println!();
    line("rows built from alerts (ms, once)", &|r| {
        format!("{:.1}", r.rows_ms)
    });
    line("Msg::Polled initial: merge+sort (ms, once)", &|r| {
        format!("{:.1}", r.polled_ms)
    });
    line("live poll, 1 new alert: ms median (max)", &|r| {
        format!(
            "{:.1} ({:.1})",
            r.live_poll.median_us / 1e3,
            r.live_poll.p95_us / 1e3
        )
    });
    line("filter keystroke: ms median (max)", &|r| {
        format!(
            "{:.1} ({:.1})",
            r.filter_key.median_us / 1e3,
            r.filter_key.p95_us / 1e3
        )
    });
    line("rows in the queue (visible)", &|r| r.visible.to_string());
    println!();
    let first = results.first();
    let verdict = |name: &str, get: &dyn Fn(&SizeResult) -> f64| {
        let Some(f) = first else { return };
        let base = get(f);
        let worst = results.iter().map(get).fold(0.0_f64, f64::max);
        let spread = results
            .iter()
            .map(|r| (get(r) / base - 1.0).abs())
            .fold(0.0_f64, f64::max);
        println!(
            "{name:<45} worst median {:.3} ms (goal ≤ {GOAL_MEDIAN_MS}): {}; spread vs {} alerts {:+.0}% max (goal ±{:.0}%): {}",
            worst / 1000.0,
            if worst / 1000.0 <= GOAL_MEDIAN_MS {
                "MET"
            } else {
                "NOT MET"
            },
            f.n,
            spread * 100.0,
            GOAL_FLAT * 100.0,
            if spread <= GOAL_FLAT {
                "MET"
            } else {
                "NOT MET"
            },
        );
    };
    verdict("TestBackend tick frame", &|r| r.test_tick.median_us);
    verdict("TestBackend first frame", &|r| r.test_full.median_us);
    verdict("Crossterm tick frame", &|r| r.xterm_tick.median_us);
    verdict("Wire tick frame", &|r| r.wire_tick.median_us);
    if let Some(worst) = results.iter().map(|r| r.idle.bps()).reduce(f64::max) {
        let wps = results.iter().map(|r| r.idle.wps()).fold(0.0_f64, f64::max);
        println!(
            "{:<45} {worst:.0} B/s (goal ≤ {GOAL_IDLE_BPS}): {}; {wps:.2} writes/s (goal ≤ {GOAL_IDLE_WPS}): {}",
            "idle model, countdowns visible",
            if worst <= GOAL_IDLE_BPS {
                "MET"
            } else {
                "NOT MET"
            },
            if wps <= GOAL_IDLE_WPS {
                "MET"
            } else {
                "NOT MET"
            },
        );
    }
    if let Some(worst) = results.iter().map(|r| r.idle_closed.bps()).reduce(f64::max) {
        println!(
            "{:<45} {worst:.2} B/s (goal 0): {}",
            "idle model, no countdown visible",
            if worst == 0.0 { "MET" } else { "NOT MET" }
        );
    }
}

fn to_json(
    o: &Opts,
    results: &[SizeResult],
    load_before: &str,
    load_after: &str,
) -> serde_json::Value {
    let mut sizes = BTreeMap::new();
    for r in results {
        sizes.insert(
            r.n.to_string(),
            json!({
                "rows_build_ms": round2(r.rows_ms),
                "polled_merge_sort_ms": round2(r.polled_ms),
                "live_poll_one_new_alert": stat_json(r.live_poll),
                "filter_keystroke": stat_json(r.filter_key),
                "visible_rows": r.visible,
                "view_only": stat_json(r.view),
                "test_backend_first_frame": stat_json(r.test_full),
                "test_backend_tick_frame": stat_json(r.test_tick),
                "crossterm_first_frame": stat_json(r.xterm_full),
                "crossterm_tick_frame": stat_json(r.xterm_tick),
                "tick_update": stat_json(r.tick_update),
                "first_frame_bytes": bytes_json(r.full_bytes),
                "tick_frame_bytes": bytes_json(r.tick_bytes),
                "wire_first_frame": stat_json(r.wire_full),
                "wire_tick_frame": stat_json(r.wire_tick),
                "wire_first_frame_bytes": bytes_json(r.wire_full_bytes),
                "wire_tick_frame_bytes": bytes_json(r.wire_tick_bytes),
                "idle_countdowns": r.idle.json(),
                "idle_status_closed": r.idle_closed.json(),
            }),
        );
    }
    json!({
        "bench": "draw",
        "size": format!("{}x{}", o.width, o.height),
        "iters": o.iters,
        "warmup": o.warmup,
        "data": format!("{:?}", o.data).to_lowercase(),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "goals": {"median_ms": GOAL_MEDIAN_MS, "flat": GOAL_FLAT, "idle_bytes_per_s": GOAL_IDLE_BPS, "idle_writes_per_s": GOAL_IDLE_WPS},
        "sizes": sizes,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse_opts(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("draw: {e}");
            return ExitCode::from(2);
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("draw: warning: not an optimised build (use `cargo bench`, not `cargo test`)");
    }
    let load_before = loadavg();
    let mut results = Vec::new();
    for &n in &o.alerts {
        eprintln!("draw: {n} alerts…");
        match measure(&o, n) {
            Ok(r) => results.push(r),
            Err(e) => {
                eprintln!("draw: {n} alerts: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let load_after = loadavg();
    report(&o, &results, &load_before, &load_after);
    if let Some(path) = &o.json {
        let v = to_json(&o, &results, &load_before, &load_after);
        if let Err(e) = std::fs::write(path, serde_json::to_string_pretty(&v).unwrap_or_default()) {
            eprintln!("draw: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("draw: wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
