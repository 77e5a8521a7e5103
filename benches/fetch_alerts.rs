//! Benchmark: fetch and parse 10 000 alerts from the simulator with our client and with the
//! official Python SDK (carbon-black-cloud-sdk 1.5.10), in the same run, both over TLS verified
//! with the simulator's CA, same rows per page, same request bodies, same fields touched.
//!
//! ```text
//! cargo bench --bench fetch_alerts                       # 10 000 alerts, rows 1000, 3 runs
//! cargo bench --bench fetch_alerts -- --rows 100 --runs 5
//! FETCH_ALERTS_RUNS=5 FETCH_ALERTS_ROWS=500 cargo bench --bench fetch_alerts
//! ```
//!
//! Options (after `--`): `--rows N` (page size, both sides), `--runs N` (measured runs per
//! side, median reported), `--alerts N` (simulator backlog), `--warmup N` (unrecorded runs per
//! side first), `--seed N`, `--runtime multi|current|tokio-default` (tokio runtime of our
//! child: `multi`, the default, is the `socdeck` binary's own, `socdeck::runtime::build_runtime`
//! — multi-thread with one worker; `tokio-default` is tokio's one worker per core),
//! `--sdk-only` / `--ours-only`. Environment: `SDK_VENV`
//! (default `target/sdk-venv`, as `.ci/sdk-probe`), `FETCH_ALERTS_PYTHON` (an interpreter with
//! `cbc_sdk` installed), `FETCH_ALERTS_NO_INSTALL=1` (never create the venv).
//!
//! How it measures: the simulator (`socdeck sim --orgs 1`, fixed seed, no live alerts) runs as
//! one child; each fetch runs in its own fresh child process — this binary re-executed with a
//! hidden `--child-rust` argument, or `python benches/sdk_fetch.py` — so the figures are of a
//! process doing only the fetch. `wait4` gives each child's wall time (spawn → exit), user + sys
//! CPU and peak RSS; each child also reports its in-process fetch wall time (without interpreter
//! start and imports), and the simulator's CPU time during each child is recorded. One
//! unrecorded warm-up run per side comes first (it also fills the simulator's per-alert JSON
//! cache, which makes its first search several times slower). Sides alternate, medians are
//! reported, and the table plus
//! `target/bench-fetch-alerts.json` carry the SDK/ours ratios against the goals (≥ 10× wall,
//! ≥ 15× CPU, ≥ 5× RSS). Speed is reported, never asserted; correctness is: both sides must
//! get exactly the backlog, with the same set of ids and the same touched-field figures, or
//! the bench exits with failure.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use socdeck::cbc::model::{Alert, AlertRecord, AlertSearch, AlertSummary};
use socdeck::cbc::{Client, ClientConfig, Token};

const CHILD_ARG: &str = "--child-rust";
/// The sim token reaches the children through the environment, never through `argv` (`ps`).
/// `summary` or `full`: which alert type our side parses.
const PARSE_ENV: &str = "FETCH_ALERTS_PARSE";
const TOKEN_ENV: &str = "FETCH_ALERTS_TOKEN";
const SDK_VERSION: &str = "1.5.10";
const GOAL_WALL: f64 = 10.0;
const GOAL_CPU: f64 = 15.0;
const GOAL_RSS: f64 = 5.0;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(CHILD_ARG) {
        return match child_rust(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fetch_alerts child: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fetch_alerts: {e:#}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Options

#[derive(Debug, Clone)]
struct Opts {
    alerts: u32,
    rows: u32,
    runs: usize,
    warmup: usize,
    seed: u64,
    runtime: String,
    ours: bool,
    sdk: bool,
}

impl Opts {
    fn parse(args: &[String]) -> Result<Opts> {
        fn env_num<T: std::str::FromStr>(name: &str) -> Result<Option<T>> {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| anyhow!("{name}={v:?} is not a number")),
                Err(_) => Ok(None),
            }
        }
        let mut o = Opts {
            alerts: env_num("FETCH_ALERTS_ALERTS")?.unwrap_or(10_000),
            rows: env_num("FETCH_ALERTS_ROWS")?.unwrap_or(1000),
            runs: env_num("FETCH_ALERTS_RUNS")?.unwrap_or(3),
            warmup: 1,
            seed: 20_240_607,
            runtime: "multi".into(),
            ours: true,
            sdk: true,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut val = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| anyhow!("{name} needs a value"))
            };
            fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T> {
                v.parse()
                    .map_err(|_| anyhow!("{name} expects a number, got {v:?}"))
            }
            match a.as_str() {
                "--rows" => o.rows = num("--rows", val("--rows")?)?,
                "--runs" => o.runs = num("--runs", val("--runs")?)?,
                "--alerts" => o.alerts = num("--alerts", val("--alerts")?)?,
                "--warmup" => o.warmup = num("--warmup", val("--warmup")?)?,
                "--seed" => o.seed = num("--seed", val("--seed")?)?,
                "--runtime" => o.runtime = val("--runtime")?,
                "--ours-only" => o.sdk = false,
                "--sdk-only" => o.ours = false,
                // `cargo bench` passes `--bench`; a harness-less bench ignores libtest flags.
                _ => {}
            }
        }
        if o.rows == 0 || o.runs == 0 || o.alerts == 0 {
            bail!("--rows, --runs and --alerts must be at least 1");
        }
        if !matches!(o.runtime.as_str(), "multi" | "current" | "tokio-default") {
            bail!("--runtime must be multi, current or tokio-default");
        }
        if o.alerts > 10_000 {
            bail!(
                "--alerts {} is beyond the 10 000-row search window both clients stop at",
                o.alerts
            );
        }
        if o.sdk && o.alerts > o.rows && o.alerts % o.rows == 1 {
            bail!(
                "--alerts {} = k·rows + 1 with rows {}: SDK 1.5.10 never requests the last alert then \
                 (known paging bug), so the sides could not be compared; pick other values",
                o.alerts,
                o.rows
            );
        }
        Ok(o)
    }
}

// ---------------------------------------------------------------------------------------------
// Our side: the child process

/// `--child-rust URL ORG_KEY CA_FILE ROWS RUNTIME`, token in `FETCH_ALERTS_TOKEN`. Fetches every
/// alert, touches the same fields as `sdk_fetch.py`, prints one JSON line.
fn child_rust(args: &[String]) -> Result<()> {
    let [url, org, ca, rows, runtime] = args else {
        bail!("usage: {CHILD_ARG} URL ORG_KEY CA_FILE ROWS RUNTIME");
    };
    let rows: u32 = rows.parse().context("ROWS")?;
    let token = std::env::var(TOKEN_ENV).with_context(|| format!("{TOKEN_ENV} is not set"))?;

    // The allocator settings the `socdeck` binary starts with.
    socdeck::runtime::tune_allocator();
    let wall0 = Instant::now();
    let cpu0 = self_cpu_s();
    let rt = match runtime.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        "tokio-default" => tokio::runtime::Runtime::new()?,
        _ => socdeck::runtime::build_runtime()?,
    };
    let t_runtime = wall0.elapsed();
    let cfg = ClientConfig::new(url, org, Token::new(&token)?).with_ca_file(Path::new(ca))?;
    let client = Client::new(cfg)?;
    let t_client = wall0.elapsed();
    let search = AlertSearch {
        rows,
        ..Default::default()
    };
    // `summary` (default) is what the queue parses: the listed fields, the rest skipped
    // unbuilt; `full` builds every field of every alert (the detail view's type).
    let parse = std::env::var(PARSE_ENV).unwrap_or_else(|_| "summary".into());
    match parse.as_str() {
        "full" => finish::<Alert>(
            &rt, &client, &search, wall0, cpu0, t_runtime, t_client, runtime, &parse,
        ),
        _ => finish::<AlertSummary>(
            &rt, &client, &search, wall0, cpu0, t_runtime, t_client, runtime, "summary",
        ),
    }
}

/// Fields the benchmark touches, on either representation.
trait Touch: AlertRecord {
    fn severity(&self) -> Option<i64>;
    fn device_name(&self) -> Option<&str>;
    fn process_name(&self) -> Option<&str>;
    fn backend_timestamp(&self) -> Option<jiff::Timestamp>;
    fn workflow_status(&self) -> Option<&str>;
}

macro_rules! touch_impl {
    ($t:ty) => {
        impl Touch for $t {
            fn severity(&self) -> Option<i64> {
                self.severity
            }
            fn device_name(&self) -> Option<&str> {
                self.device_name.as_deref()
            }
            fn process_name(&self) -> Option<&str> {
                self.process_name.as_deref()
            }
            fn backend_timestamp(&self) -> Option<jiff::Timestamp> {
                self.backend_timestamp
            }
            fn workflow_status(&self) -> Option<&str> {
                self.workflow.as_ref().and_then(|w| w.status.as_deref())
            }
        }
    };
}
touch_impl!(Alert);

impl Touch for AlertSummary {
    fn severity(&self) -> Option<i64> {
        self.severity
    }
    fn device_name(&self) -> Option<&str> {
        AlertSummary::device_name(self)
    }
    fn process_name(&self) -> Option<&str> {
        AlertSummary::process_name(self)
    }
    fn backend_timestamp(&self) -> Option<jiff::Timestamp> {
        self.backend_timestamp
    }
    fn workflow_status(&self) -> Option<&str> {
        AlertSummary::workflow_status(self)
    }
}

#[allow(clippy::too_many_arguments)]
fn finish<T: Touch>(
    rt: &tokio::runtime::Runtime,
    client: &Client,
    search: &AlertSearch,
    wall0: Instant,
    cpu0: f64,
    t_runtime: std::time::Duration,
    t_client: std::time::Duration,
    runtime: &str,
    parse: &str,
) -> Result<()> {
    // As the console's pollers do: the fetch runs as a task of the runtime (on a worker of the
    // multi-thread one, beside the connection it reads from), not on the thread that blocks.
    let (c, q) = (client.clone(), search.clone());
    let alerts: Vec<T> = rt.block_on(async move {
        tokio::spawn(async move { c.search_alerts_all_as::<T>(&q).await }).await
    })??;
    let t_fetched = wall0.elapsed();

    // Touch the same fields as the SDK side.
    let mut severity_sum: i64 = 0;
    let mut device_name_chars: usize = 0;
    let mut device_name_present: usize = 0;
    let mut process_name_chars: usize = 0;
    let mut process_name_present: usize = 0;
    let mut backend_ts_present: usize = 0;
    let mut backend_ts_xor: i64 = 0;
    let mut status_counts: BTreeMap<&str, u64> = BTreeMap::new();
    for a in &alerts {
        severity_sum += a.severity().unwrap_or(0);
        if let Some(d) = a.device_name() {
            device_name_present += 1;
            device_name_chars += d.chars().count();
        }
        if let Some(p) = a.process_name() {
            process_name_present += 1;
            process_name_chars += p.chars().count();
        }
        if let Some(ts) = a.backend_timestamp() {
            backend_ts_present += 1;
            backend_ts_xor ^= ts.as_second();
        }
        let status = a.workflow_status().unwrap_or("");
        *status_counts.entry(status).or_default() += 1;
    }
    let mut ids: Vec<&str> = alerts.iter().map(|a| a.id().unwrap_or("")).collect();
    ids.sort_unstable();
    let fetch_wall = wall0.elapsed();
    let fetch_cpu = self_cpu_s() - cpu0;

    let out = json!({
        "side": "ours",
        "alerts": alerts.len(),
        "fetch_wall_s": fetch_wall.as_secs_f64(),
        "fetch_cpu_s": fetch_cpu,
        "phases_s": {
            "runtime": t_runtime.as_secs_f64(),
            "client": (t_client - t_runtime).as_secs_f64(),
            "fetch_parse": (t_fetched - t_client).as_secs_f64(),
            "touch": (fetch_wall - t_fetched).as_secs_f64(),
        },
        "runtime": runtime,
        "alert_size_bytes": std::mem::size_of::<T>(),
        "parse": parse,
        "touched": {
            "severity_sum": severity_sum,
            "device_name_chars": device_name_chars,
            "device_name_present": device_name_present,
            "process_name_chars": process_name_chars,
            "process_name_present": process_name_present,
            "backend_timestamp_present": backend_ts_present,
            "status_counts": status_counts,
        },
        "backend_ts_xor": backend_ts_xor,
    });
    // The ids are written from the borrowed, sorted list (as the SDK side's `json.dumps` writes
    // its list), not cloned into a `serde_json::Value` tree first.
    #[derive(serde::Serialize)]
    struct Report<'a> {
        #[serde(flatten)]
        head: Value,
        ids: &'a [&'a str],
    }
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer(
        &mut stdout,
        &Report {
            head: out,
            ids: &ids,
        },
    )?;
    {
        use std::io::Write;
        stdout.write_all(b"\n")?;
        stdout.flush()?;
    }
    // Output done, its buffer released; then the alerts go. They stay alive until printed, as
    // the SDK side keeps its list. (Freeing the 64 KiB writer *after* the ~200k small chunks
    // of the alerts would make glibc consolidate all of them: a walk the program never needs.)
    drop(stdout);
    drop(ids);
    drop(alerts);
    Ok(())
}

fn self_cpu_s() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    tv_s(ru.ru_utime) + tv_s(ru.ru_stime)
}

fn tv_s(tv: libc::timeval) -> f64 {
    tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6
}

// ---------------------------------------------------------------------------------------------
// The simulator

struct Sim {
    child: Child,
    url: String,
    ca_file: PathBuf,
    token: String,
    org_key: String,
    _dir: tempfile::TempDir,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(o: &Opts) -> Result<Sim> {
    let dir = tempfile::tempdir()?;
    let log = std::fs::File::create(dir.path().join("sim.log"))?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_socdeck"))
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--orgs",
            "1",
            "--rate",
            "0",
        ])
        .args([
            "--backlog",
            &o.alerts.to_string(),
            "--seed",
            &o.seed.to_string(),
        ])
        .arg("--cert-dir")
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .context("cannot start socdeck sim")?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        let _ = tx.send(r.read_line(&mut line).map(|_| line));
        // Keep draining so the simulator never blocks on (or dies of) a closed stdout.
        let _ = std::io::copy(&mut r, &mut std::io::sink());
    });
    let sim_log = |dir: &Path| std::fs::read_to_string(dir.join("sim.log")).unwrap_or_default();
    let line = match rx.recv_timeout(Duration::from_secs(180)) {
        Ok(Ok(line)) if !line.trim().is_empty() => line,
        Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "socdeck sim printed no banner; its log:\n{}",
                sim_log(dir.path())
            );
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "socdeck sim printed no banner within 180 s; its log:\n{}",
                sim_log(dir.path())
            );
        }
    };
    let parsed = (|| -> Result<(String, PathBuf, String, String)> {
        let b: Value = serde_json::from_str(line.trim()).context("sim banner is not JSON")?;
        let s = |v: &Value, k: &str| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("sim banner has no {k}"))
        };
        Ok((
            s(&b["url"], "url")?,
            PathBuf::from(s(&b["ca_file"], "ca_file")?),
            s(&b["token"], "token")?,
            s(&b["orgs"][0]["org_key"], "org")?,
        ))
    })();
    match parsed {
        Ok((url, ca_file, token, org_key)) => Ok(Sim {
            child,
            url,
            ca_file,
            token,
            org_key,
            _dir: dir,
        }),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring one child

#[derive(Debug, Clone)]
struct Sample {
    process_wall_s: f64,
    cpu_user_s: f64,
    cpu_sys_s: f64,
    maxrss_kib: i64,
    /// CPU the simulator spent while this child ran (both sides pay it in their wall time).
    sim_cpu_s: Option<f64>,
    report: Value,
}

impl Sample {
    fn cpu_s(&self) -> f64 {
        self.cpu_user_s + self.cpu_sys_s
    }
    fn fetch_wall_s(&self) -> f64 {
        self.report["fetch_wall_s"].as_f64().unwrap_or(f64::NAN)
    }
    fn alerts(&self) -> u64 {
        self.report["alerts"].as_u64().unwrap_or(0)
    }
}

/// CPU time used so far by every thread of process `pid` (Linux `schedstat`, nanoseconds).
fn process_cpu_s(pid: u32) -> Option<f64> {
    let mut ns: u64 = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(ns as f64 / 1e9)
}

/// Runs `cmd` to completion, reaping it with `wait4` for its rusage.
fn measure(mut cmd: Command, what: &str, sim_pid: u32) -> Result<Sample> {
    let err = tempfile::tempfile()?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(err.try_clone()?);
    let sim0 = process_cpu_s(sim_pid);
    let t0 = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut out)?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: plain syscall on our own child; `ru` is written by the kernel.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e).context("wait4");
        }
    }
    let wall = t0.elapsed();
    let sim_cpu_s = sim0.zip(process_cpu_s(sim_pid)).map(|(a, b)| b - a);
    // `child` was reaped by wait4: dropping the handle neither waits nor kills.
    drop(child);
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let mut e = String::new();
        let mut f = err;
        use std::io::Seek;
        f.rewind()?;
        f.read_to_string(&mut e)?;
        bail!(
            "{what} failed (wait status {status:#x}):\n{}",
            tail(&e, 4000)
        );
    }
    let report: Value =
        serde_json::from_str(out.lines().last().unwrap_or_default()).with_context(|| {
            format!(
                "{what} printed no JSON line; stdout was:\n{}",
                tail(&out, 2000)
            )
        })?;
    Ok(Sample {
        process_wall_s: wall.as_secs_f64(),
        cpu_user_s: tv_s(ru.ru_utime),
        cpu_sys_s: tv_s(ru.ru_stime),
        maxrss_kib: ru.ru_maxrss,
        sim_cpu_s,
        report,
    })
}

fn tail(s: &str, n: usize) -> &str {
    let mut i = s.len().saturating_sub(n);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

// ---------------------------------------------------------------------------------------------
// The SDK interpreter

/// A Python with `cbc_sdk` 1.5.10 importable, creating `target/sdk-venv` if needed (as
/// `.ci/sdk-probe` does). `Err` carries why the SDK side cannot run.
fn find_sdk_python(manifest: &Path) -> Result<PathBuf, String> {
    let check = |py: &Path| -> Result<(), String> {
        let out = Command::new(py)
            .args(["-c", "import cbc_sdk, sys; print(cbc_sdk.__version__)"])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", py.display()))?;
        let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !out.status.success() {
            return Err(format!("{} cannot import cbc_sdk", py.display()));
        }
        if v != SDK_VERSION {
            return Err(format!(
                "{} has cbc_sdk {v}, want {SDK_VERSION}",
                py.display()
            ));
        }
        Ok(())
    };
    if let Some(py) = std::env::var_os("FETCH_ALERTS_PYTHON") {
        let py = PathBuf::from(py);
        return check(&py).map(|()| py);
    }
    let venv = std::env::var_os("SDK_VENV")
        .map_or_else(|| manifest.join("target/sdk-venv"), PathBuf::from);
    let py = venv.join("bin/python");
    let first = match check(&py) {
        Ok(()) => return Ok(py),
        Err(e) => e,
    };
    if std::env::var_os("FETCH_ALERTS_NO_INSTALL").is_some() {
        return Err(first);
    }
    eprintln!(
        "fetch_alerts: {first}; creating {} with carbon-black-cloud-sdk=={SDK_VERSION} ...",
        venv.display()
    );
    let ok = |mut c: Command| c.status().map(|s| s.success()).unwrap_or(false);
    let mut mk = Command::new("python3");
    mk.arg("-m").arg("venv").arg(&venv);
    if !ok(mk) {
        return Err(format!(
            "{first}; `python3 -m venv {}` failed (is python3 with venv installed?)",
            venv.display()
        ));
    }
    let mut pip = Command::new(venv.join("bin/pip"));
    pip.args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("carbon-black-cloud-sdk=={SDK_VERSION}"));
    if !ok(pip) {
        return Err(format!(
            "{first}; pip install carbon-black-cloud-sdk=={SDK_VERSION} failed"
        ));
    }
    check(&py).map(|()| py)
}

// ---------------------------------------------------------------------------------------------
// The run

fn run(args: &[String]) -> Result<ExitCode> {
    let o = Opts::parse(args)?;
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| manifest.join("target"), PathBuf::from);
    let script = manifest.join("benches/sdk_fetch.py");

    let python = if o.sdk {
        match find_sdk_python(&manifest) {
            Ok(p) => Some(p),
            Err(why) => {
                eprintln!("fetch_alerts: the SDK side cannot run: {why}");
                eprintln!("fetch_alerts: reporting our side only (no ratios).");
                None
            }
        }
    } else {
        None
    };

    eprintln!(
        "fetch_alerts: starting socdeck sim (--orgs 1 --backlog {} --seed {}) ...",
        o.alerts, o.seed
    );
    let t = Instant::now();
    let sim = start_sim(&o)?;
    eprintln!(
        "fetch_alerts: sim ready in {:.1} s at {}",
        t.elapsed().as_secs_f64(),
        sim.url
    );

    let sim_pid = sim.child.id();
    let load_before = load_average();
    let self_exe = std::env::current_exe()?;
    let ours_cmd = || {
        let mut c = Command::new(&self_exe);
        c.arg(CHILD_ARG)
            .args([&sim.url, &sim.org_key])
            .arg(&sim.ca_file)
            .args([o.rows.to_string(), o.runtime.clone()])
            .env(TOKEN_ENV, &sim.token);
        c
    };
    let sdk_cmd = |py: &Path| {
        let mut c = Command::new(py);
        c.arg(&script)
            .args([&sim.url, &sim.org_key])
            .arg(&sim.ca_file)
            .arg(o.rows.to_string())
            .env(TOKEN_ENV, &sim.token)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        c
    };

    let mut ours: Vec<Sample> = Vec::new();
    let mut sdk: Vec<Sample> = Vec::new();
    let total = o.warmup + o.runs;
    for i in 0..total {
        let warm = i < o.warmup;
        let label = if warm {
            format!("warm-up {}/{}", i + 1, o.warmup)
        } else {
            format!("run {}/{}", i + 1 - o.warmup, o.runs)
        };
        // Alternate which side goes first.
        let sdk_first = i % 2 == 1;
        for side in if sdk_first {
            ["sdk", "ours"]
        } else {
            ["ours", "sdk"]
        } {
            let s = match side {
                "ours" if o.ours => measure(ours_cmd(), "our fetch child", sim_pid)?,
                "sdk" => match &python {
                    Some(py) => measure(sdk_cmd(py), "SDK fetch child", sim_pid)?,
                    None => continue,
                },
                _ => continue,
            };
            eprintln!(
                "fetch_alerts: {label:<12} {side:<4} alerts {:>6}  process wall {:>8.1} ms  fetch wall {:>8.1} ms  CPU {:>8.1} ms  RSS {:>7.1} MiB  (sim CPU {:>5.1} ms)",
                s.alerts(),
                s.process_wall_s * 1e3,
                s.fetch_wall_s() * 1e3,
                s.cpu_s() * 1e3,
                s.maxrss_kib as f64 / 1024.0,
                s.sim_cpu_s.unwrap_or(f64::NAN) * 1e3,
            );
            if !warm {
                if side == "ours" { &mut ours } else { &mut sdk }.push(s);
            }
        }
    }
    drop(sim);
    let load_after = load_average();

    // Correctness (not speed): every run got exactly the backlog, the same id set, and both
    // sides read the same values from the touched fields.
    let mut problems: Vec<String> = Vec::new();
    let mut reference: Option<(&str, &Value)> = None;
    for (side, samples) in [("ours", &ours), ("sdk", &sdk)] {
        for (i, s) in samples.iter().enumerate() {
            if s.alerts() != u64::from(o.alerts) {
                problems.push(format!(
                    "{side} run {}: {} alerts, want {}",
                    i + 1,
                    s.alerts(),
                    o.alerts
                ));
            }
            let ids = &s.report["ids"];
            let n = ids.as_array().map_or(0, Vec::len);
            let distinct = ids.as_array().map_or(0, |v| {
                let mut d = v.clone();
                d.dedup();
                d.len()
            });
            if distinct != n {
                problems.push(format!(
                    "{side} run {}: {} duplicate ids",
                    i + 1,
                    n - distinct
                ));
            }
            match reference {
                None => reference = Some((side, ids)),
                Some((rs, r)) if r != ids => {
                    problems.push(format!(
                        "{side} run {}: id set differs from {rs} run 1",
                        i + 1
                    ));
                }
                Some(_) => {}
            }
        }
    }
    if let (Some(a), Some(b)) = (ours.first(), sdk.first()) {
        let (ta, tb) = (&a.report["touched"], &b.report["touched"]);
        for k in [
            "severity_sum",
            "device_name_chars",
            "device_name_present",
            "process_name_chars",
            "process_name_present",
            "backend_timestamp_present",
            "status_counts",
        ] {
            if ta[k] != tb[k] {
                problems.push(format!(
                    "touched field {k}: ours {} vs sdk {}",
                    ta[k], tb[k]
                ));
            }
        }
    }
    let id_digest = reference.and_then(|(_, ids)| ids.as_array()).map(|ids| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for id in ids {
            for b in id.as_str().unwrap_or_default().bytes().chain([b'\n']) {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("fnv1a64:{h:016x}")
    });

    // Figures.
    let summary = |samples: &[Sample]| -> Option<Value> {
        if samples.is_empty() {
            return None;
        }
        let col = |f: &dyn Fn(&Sample) -> f64| -> Value {
            let v: Vec<f64> = samples.iter().map(f).collect();
            json!({"median": median(&v), "min": v.iter().copied().fold(f64::INFINITY, f64::min),
                   "max": v.iter().copied().fold(f64::NEG_INFINITY, f64::max), "all": v})
        };
        let mut last = samples[samples.len() - 1].report.clone();
        if let Some(m) = last.as_object_mut() {
            m.remove("ids");
        }
        Some(json!({
            "alerts": samples[0].alerts(),
            "process_wall_s": col(&|s| s.process_wall_s),
            "fetch_wall_s": col(&Sample::fetch_wall_s),
            "cpu_s": col(&Sample::cpu_s),
            "cpu_user_s": col(&|s| s.cpu_user_s),
            "cpu_sys_s": col(&|s| s.cpu_sys_s),
            "fetch_cpu_s": col(&|s| s.report["fetch_cpu_s"].as_f64().unwrap_or(f64::NAN)),
            "peak_rss_kib": col(&|s| s.maxrss_kib as f64),
            "sim_cpu_s": col(&|s| s.sim_cpu_s.unwrap_or(f64::NAN)),
            "child_report_last_run": last,
        }))
    };
    let med = |v: &Option<Value>, k: &str| v.as_ref().and_then(|v| v[k]["median"].as_f64());
    let ours_sum = summary(&ours);
    let sdk_sum = summary(&sdk);

    println!();
    println!(
        "fetch_alerts: {} alerts, rows {} per page, TLS (sim CA), sim seed {}, {} run(s) per side after {} warm-up, medians; our runtime: {}",
        o.alerts, o.rows, o.seed, o.runs, o.warmup, o.runtime
    );
    if let (Some(b), Some(a)) = (load_before, load_after) {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "machine: {cpus} CPU(s), 1-min load average {b:.1} before / {a:.1} after (other work skews wall times)"
        );
    }
    println!(
        "{:<6} {:>7} {:>14} {:>12} {:>16} {:>11} {:>10}",
        "side", "alerts", "process wall", "fetch wall", "CPU (user+sys)", "peak RSS", "sim CPU"
    );
    for (name, s) in [("ours", &ours_sum), ("sdk", &sdk_sum)] {
        if s.is_some() {
            println!(
                "{:<6} {:>7} {:>11.1} ms {:>9.1} ms {:>13.1} ms {:>7.1} MiB {:>7.1} ms",
                name,
                s.as_ref().map_or(0, |v| v["alerts"].as_u64().unwrap_or(0)),
                med(s, "process_wall_s").unwrap_or(f64::NAN) * 1e3,
                med(s, "fetch_wall_s").unwrap_or(f64::NAN) * 1e3,
                med(s, "cpu_s").unwrap_or(f64::NAN) * 1e3,
                med(s, "peak_rss_kib").unwrap_or(f64::NAN) / 1024.0,
                med(s, "sim_cpu_s").unwrap_or(f64::NAN) * 1e3,
            );
        }
    }
    let ratio = |k: &str| Some(med(&sdk_sum, k)? / med(&ours_sum, k)?);
    let mut ratios = Value::Null;
    if let (Some(w), Some(fw), Some(c), Some(r)) = (
        ratio("process_wall_s"),
        ratio("fetch_wall_s"),
        ratio("cpu_s"),
        ratio("peak_rss_kib"),
    ) {
        let mark = |x: f64, goal: f64| if x >= goal { "met" } else { "NOT met" };
        println!("ratio SDK/ours:");
        println!(
            "  wall (process) {w:>6.1}×  goal ≥ {GOAL_WALL}×: {}   [fetch-only wall {fw:.1}×]",
            mark(w, GOAL_WALL)
        );
        println!(
            "  CPU            {c:>6.1}×  goal ≥ {GOAL_CPU}×: {}",
            mark(c, GOAL_CPU)
        );
        println!(
            "  peak RSS       {r:>6.1}×  goal ≥ {GOAL_RSS}×: {}",
            mark(r, GOAL_RSS)
        );
        ratios = json!({
            "process_wall": w, "fetch_wall": fw, "cpu": c, "peak_rss": r,
            "goals": {"wall": GOAL_WALL, "cpu": GOAL_CPU, "peak_rss": GOAL_RSS},
            "met": {"wall": w >= GOAL_WALL, "cpu": c >= GOAL_CPU, "peak_rss": r >= GOAL_RSS},
        });
    } else if python.is_none() && o.sdk {
        println!(
            "(SDK side not run: no Python with carbon-black-cloud-sdk {SDK_VERSION}; no ratios)"
        );
    }

    let report = json!({
        "bench": "fetch_alerts",
        "alerts": o.alerts,
        "rows": o.rows,
        "runs": o.runs,
        "warmup": o.warmup,
        "seed": o.seed,
        "runtime": o.runtime,
        "tls": true,
        "sdk_version": python.as_ref().map(|_| SDK_VERSION),
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "load_average_1m": {"before": load_before, "after": load_after},
        "id_digest": id_digest,
        "ours": ours_sum,
        "sdk": sdk_sum,
        "ratios_sdk_over_ours": ratios,
        "correct": problems.is_empty(),
        "problems": problems,
    });
    let path = target.join("bench-fetch-alerts.json");
    std::fs::create_dir_all(&target)?;
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("written: {}", path.display());

    if !problems.is_empty() {
        eprintln!("fetch_alerts: CORRECTNESS FAILURE:");
        for p in &problems {
            eprintln!("  - {p}");
        }
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The 1-minute load average: other work on the machine skews wall times (and CPU, less).
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}
