//! socdeck command line: the console (`--demo` or against configured orgs), the simulator
//! (`sim`) and the scripting view of the queue (`alerts --json`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use socdeck::commands;
use socdeck::sim::SimOptions;

#[derive(Parser, Debug)]
#[command(
    name = "socdeck",
    version,
    about = "Terminal SOC console for Carbon Black Cloud alerts"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Run against the built-in CBC simulator (no credentials, no network).
    #[arg(long)]
    demo: bool,

    #[command(flatten)]
    creds: CredOpts,

    #[command(flatten)]
    scenario: ScenarioOpts,
}

/// Where credentials come from. There is deliberately no `--token`: it would show in `ps`.
#[derive(Args, Debug, Clone)]
struct CredOpts {
    /// socdeck config file (default: $XDG_CONFIG_HOME/socdeck/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Use this profile of the Carbon Black SDK's credentials.cbc.
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    /// PEM bundle to verify the CBC server with (replaces the system roots).
    #[arg(long, global = true, value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// Refused with guidance: tokens on the command line leak through `ps` and shell history.
    #[arg(long, global = true, hide = true, value_name = "TOKEN")]
    token: Option<String>,
}

/// Scenario options shared by `sim` and `--demo`.
#[derive(Args, Debug, Clone)]
struct ScenarioOpts {
    /// Same seed, same orgs, devices and alerts.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Live alerts per minute across all orgs.
    #[arg(long, value_name = "ALERTS_PER_MIN", default_value_t = 2.0)]
    rate: f64,
    /// Alerts present at start (up to 100000).
    #[arg(long, value_name = "N", default_value_t = 40, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    backlog: u32,
    /// Serve the alerts of this file (Alerts v7 search response or JSON Lines) instead.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the CBC simulator over HTTPS; prints one JSON line (url, ca_file, token, orgs).
    Sim(SimArgs),
    /// Print the open alerts of the configured orgs as JSON Lines with their SLA clock.
    Alerts(AlertsArgs),
}

#[derive(Args, Debug)]
struct SimArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Number of customer orgs.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    orgs: u32,
    #[command(flatten)]
    scenario: ScenarioOpts,
    /// With --replay: keep the file's timestamps instead of shifting the newest to now.
    #[arg(long)]
    keep_times: bool,
    /// Simulated sensor check-in delay before a quarantine takes effect.
    #[arg(long, value_name = "S", default_value_t = 5.0)]
    checkin_s: f64,
    /// Directory for ca.pem (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    cert_dir: Option<PathBuf>,
    /// Probability that a request fails with a 5xx (fault injection).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    fail_rate: f64,
    /// Latency added to every request (fault injection).
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
    /// Requests per minute before 429 + Retry-After, e.g. `100/MIN` (fault injection).
    #[arg(long, value_name = "N/MIN", value_parser = parse_rate_limit)]
    rate_limit: Option<u32>,
}

#[derive(Args, Debug)]
struct AlertsArgs {
    /// JSON Lines output (the only format for now; kept explicit for scripts).
    #[arg(long)]
    json: bool,
    /// All alerts, not only open ones (OPEN, IN_PROGRESS).
    #[arg(long)]
    all: bool,
    /// How far back to look, e.g. `30d`, `8h`.
    #[arg(long, default_value = "30d", value_parser = parse_span)]
    since: jiff::SignedDuration,
}

fn parse_rate_limit(s: &str) -> Result<u32, String> {
    let n = s
        .trim()
        .trim_end_matches("/MIN")
        .trim_end_matches("/min")
        .trim_end_matches("/m");
    n.parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("expected requests per minute like 100/MIN, got {s:?}"))
}

fn parse_span(s: &str) -> Result<jiff::SignedDuration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("expected a duration like 30d or 8h, got {s:?}"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        "w" => n * 7 * 86_400,
        _ => return Err(format!("unknown unit in {s:?} (use s, m, h, d or w)")),
    };
    Ok(jiff::SignedDuration::from_secs(secs))
}

fn sim_options(args: &SimArgs) -> Result<SimOptions, String> {
    if !(0.0..=1.0).contains(&args.fail_rate) {
        return Err("--fail-rate must be between 0 and 1".into());
    }
    if !(args.checkin_s.is_finite() && args.checkin_s >= 0.0) {
        return Err("--checkin-s must be a non-negative number of seconds".into());
    }
    if !(args.scenario.rate.is_finite() && args.scenario.rate >= 0.0) {
        return Err("--rate must be a non-negative number of alerts per minute".into());
    }
    Ok(SimOptions {
        listen: args.listen,
        seed: args.scenario.seed,
        orgs: args.orgs as usize,
        rate_per_min: args.scenario.rate,
        backlog: args.scenario.backlog as usize,
        replay: args.scenario.replay.clone(),
        keep_times: args.keep_times,
        checkin: Duration::from_secs_f64(args.checkin_s),
        cert_dir: args.cert_dir.clone(),
        fail_rate: args.fail_rate,
        latency: Duration::from_millis(args.latency_ms),
        rate_limit_per_min: args.rate_limit,
        token: None,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.creds.token.is_some() {
        eprintln!(
            "socdeck: --token is not accepted: a token on the command line shows in `ps` and shell history.\n\
             Use the CBC_TOKEN environment variable, a token_file in the socdeck config, or a profile in\n\
             ~/.carbonblack/credentials.cbc (see README, \"Connecting to a real tenant\")."
        );
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("socdeck: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let creds = commands::CredentialArgs {
        config: cli.creds.config.clone(),
        profile: cli.creds.profile.clone(),
        ca_file: cli.creds.ca_file.clone(),
    };
    match cli.command {
        Some(Command::Sim(args)) => {
            init_stderr_logging();
            let opts = match sim_options(&args) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("socdeck sim: {e}");
                    return ExitCode::from(2);
                }
            };
            runtime.block_on(run_sim(opts))
        }
        Some(Command::Alerts(args)) => {
            init_stderr_logging();
            let _ = args.json;
            runtime.block_on(commands::alerts_json(
                &creds,
                args.all,
                args.since,
                &mut std::io::stdout(),
            ))
        }
        None => {
            if cli.demo {
                eprintln!(
                    "socdeck: the console is not built yet; run `socdeck sim` and `socdeck alerts --json` meanwhile"
                );
            } else {
                eprintln!("socdeck: the console is not built yet; see `socdeck --help`");
            }
            let _ = cli.scenario;
            ExitCode::from(2)
        }
    }
}

/// Warnings and errors of the non-interactive commands go to stderr (`RUST_LOG` to change).
fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run_sim(opts: SimOptions) -> ExitCode {
    let handle = match socdeck::sim::start(opts).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("socdeck sim: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    {
        // One line, flushed at once: scripts read it to learn the port, CA and token.
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{}", handle.banner_json())
            .and_then(|_| out.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
    }
    wait_for_shutdown_signal().await;
    handle.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(mut term), Ok(mut hup)) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
                _ = hup.recv() => {}
            }
        }
        // No signal driver: Ctrl-C (and kill -9) still stop the process.
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
