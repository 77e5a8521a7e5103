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

    /// Colour theme (default, light, high-contrast, mono, or one of yours).
    #[arg(long, global = true, value_name = "NAME")]
    theme: Option<String>,

    /// Look without being able to act: every request that changes anything is refused.
    #[arg(long)]
    read_only: bool,

    /// Validate the config file, credentials, themes and keymaps; print every problem.
    #[arg(long)]
    check_config: bool,

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
    socdeck::runtime::tune_allocator();
    let runtime = match socdeck::runtime::build_runtime() {
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
            if cli.check_config {
                let report = socdeck::config::check_config(
                    &creds,
                    &socdeck::config::Env::from_process(),
                    cli.theme.as_deref(),
                );
                print!("{report}");
                return ExitCode::from(report.exit_code());
            }
            let opts = ConsoleOpts {
                demo: cli.demo,
                theme: cli.theme.clone(),
                read_only: cli.read_only,
                scenario: cli.scenario.clone(),
            };
            let code = runtime.block_on(console::run(&creds, opts));
            // Pollers may sit in a request: don't wait for them on the way out.
            runtime.shutdown_timeout(Duration::from_millis(200));
            code
        }
    }
}

struct ConsoleOpts {
    demo: bool,
    theme: Option<String>,
    read_only: bool,
    scenario: ScenarioOpts,
}

mod console {
    use super::*;
    use socdeck::app::{App, OrgState, Settings, ToastLevel};
    use socdeck::cbc::{Client, ClientConfig, Token};
    use socdeck::config::{
        Env, config_dir, load_config, load_keymap, load_theme, no_color, resolve_orgs,
    };
    use socdeck::notify::Notifier;
    use socdeck::runtime::{Clients, PollSettings};
    use socdeck::sim::SimHandle;
    use socdeck::sim::replay::Replay;
    use socdeck::sim::scenario::Generator;
    use socdeck::sim::world::StorySource;
    use std::sync::{Arc, Mutex};

    use anyhow::Context as _;

    pub async fn run(creds: &socdeck::commands::CredentialArgs, opts: ConsoleOpts) -> ExitCode {
        let env = Env::from_process();
        let log = init_file_logging(&env);

        // Orgs and clients: the in-process simulator for --demo, else the configured tenants.
        // The demo's simulator starts after the first frame (building a 10k backlog takes most
        // of a second): its orgs show "connecting" until it serves.
        let sim: Arc<Mutex<Option<SimHandle>>> = Arc::default();
        let (config, orgs, clients, mut warnings) = if opts.demo {
            let loaded = match load_config(&env, creds.config.as_deref()) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("socdeck: {e}");
                    return ExitCode::from(2);
                }
            };
            let sim_opts = SimOptions {
                seed: opts.scenario.seed,
                rate_per_min: opts.scenario.rate,
                backlog: opts.scenario.backlog as usize,
                replay: opts.scenario.replay.clone(),
                ..SimOptions::default()
            };
            // The story source now (cheap for the generator; a replay file is read here, so a
            // bad one is reported before the screen changes): it names the orgs.
            let source: Box<dyn StorySource> = match &sim_opts.replay {
                Some(path) => match Replay::load(path, sim_opts.keep_times) {
                    Ok(r) => Box::new(r),
                    Err(e) => {
                        eprintln!(
                            "socdeck --demo: cannot start the simulator: loading replay file {}: {e:#}",
                            path.display()
                        );
                        return ExitCode::FAILURE;
                    }
                },
                None => Box::new(Generator::new(
                    sim_opts.seed,
                    sim_opts.orgs,
                    sim_opts.backlog,
                )),
            };
            let specs: Vec<(String, String)> = source
                .orgs()
                .into_iter()
                .map(|o| (o.org_key, o.name))
                .collect();
            let orgs = specs
                .iter()
                .map(|(key, name)| OrgState::new(name.clone(), key.clone()))
                .collect();
            let read_only = opts.read_only || loaded.config.read_only;
            let slot = sim.clone();
            let connect = async move {
                let handle = socdeck::sim::server::start_with_source(sim_opts, source)
                    .await
                    .context("--demo: cannot start the simulator")?;
                anyhow::ensure!(
                    handle.orgs() == specs,
                    "--demo: the simulator's orgs are not the ones shown"
                );
                let mut clients = Vec::new();
                for (key, _) in handle.orgs() {
                    let token = Token::new(handle.token()).context("--demo")?;
                    let mut cfg = ClientConfig::new(handle.url(), &key, token);
                    // The simulator's own CA: verification stays on in the demo too.
                    cfg.ca_pem = Some(handle.ca_pem().as_bytes().to_vec());
                    cfg.read_only = read_only;
                    clients.push(Client::new(cfg).context("--demo")?);
                }
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
                Ok(clients)
            };
            (
                loaded.config,
                orgs,
                Clients::Later(Box::pin(connect)),
                loaded.warnings,
            )
        } else {
            let resolved = match resolve_orgs(creds, &env) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("socdeck: {e}");
                    return ExitCode::from(2);
                }
            };
            let read_only = opts.read_only || resolved.config.read_only;
            let mut clients = Vec::new();
            let mut orgs = Vec::new();
            for org in &resolved.orgs {
                match socdeck::commands::client_for(org, read_only) {
                    Ok(c) => clients.push(c),
                    Err(e) => {
                        eprintln!("socdeck: {} (org {}): {e}", org.name, org.org_key);
                        return ExitCode::from(2);
                    }
                }
                let mut state = OrgState::new(org.name.clone(), org.org_key.clone());
                match jiff::tz::TimeZone::get(&org.timezone) {
                    Ok(tz) => state.calendar.tz = tz,
                    Err(e) => {
                        eprintln!(
                            "socdeck: {} (org {}): time zone {:?}: {e}",
                            org.name, org.org_key, org.timezone
                        );
                        return ExitCode::from(2);
                    }
                }
                orgs.push(state);
            }
            (
                resolved.config,
                orgs,
                Clients::Ready(clients),
                resolved.warnings,
            )
        };

        let dir = config_dir(&env, creds.config.as_deref()).unwrap_or_default();
        let config_file = socdeck::config::config_path(&env, creds.config.as_deref())
            .unwrap_or_else(|_| dir.join("config.toml"));
        let theme_name = opts
            .theme
            .clone()
            .unwrap_or_else(|| config.ui.theme_name().to_string());
        let (theme, theme_warnings) = load_theme(&theme_name, &dir, no_color(&env));
        let (keymap, keymap_warnings) = load_keymap(config.ui.keymap_name(), &dir);
        warnings.extend(
            theme_warnings
                .iter()
                .chain(&keymap_warnings)
                .map(|w| w.to_string()),
        );
        if let Err(e) = &log {
            warnings.push(format!("no log file: {e}"));
        }

        let poll = PollSettings {
            interval: Duration::from_secs(config.poll.interval_s.max(1)),
            overlap: jiff::SignedDuration::from_secs(config.poll.overlap_s as i64),
            ..PollSettings::default()
        };
        let settings = Settings {
            sla: socdeck::commands::sla_policy(&config.sla),
            // Stale once three polls in a row are missing.
            stale_after: jiff::SignedDuration::from_secs(
                (config.poll.interval_s.max(1) * 3 + 15) as i64,
            ),
            read_only: opts.read_only || config.read_only,
            notify: config.notify.desktop || config.notify.bell,
            analyst: analyst_name(&config, &env),
            levels: (&config.triage).into(),
            second_column: config.ui.second_report_column,
            lateral_window: jiff::SignedDuration::from_hours(i64::from(
                config.investigate.lateral_window_h,
            )),
            ..Settings::default()
        };
        let notifier = Notifier::detect(
            config.notify.desktop || config.notify.bell,
            config.notify.bell,
            |k| env.var(k),
        );
        let smtp = match config.smtp.to_smtp_config(&env, &config_file) {
            Ok(s) => s,
            Err(e) => {
                warnings.push(format!("[smtp]: {e}; email reports cannot be sent"));
                None
            }
        };
        // Customer rules: a broken file is reported and the built-in safe rule applies
        // (isolation only after approval) until it is fixed; the watcher reloads it.
        let mut rules_path = config.rules_path(&env, &config_file);
        // The demo brings its own customer rules (one org isolates at once, the others only
        // after approval; Japanese and English reports) unless the analyst has a rules file.
        let demo_orgs: Vec<(String, String)> = orgs
            .iter()
            .map(|o: &OrgState| (o.org_key.clone(), o.name.clone()))
            .collect();
        // The demo delivers to a mailbox and a webhook receiver on loopback (shown with `M`).
        let sinks = if opts.demo {
            match demo_sinks().await {
                Ok(s) => Some(s),
                Err(e) => {
                    warnings.push(format!("demo mailbox not started: {e}"));
                    None
                }
            }
        } else {
            None
        };
        let _demo_rules = match (opts.demo, rules_path.exists()) {
            (true, false) => match demo_rules(&demo_orgs, sinks.as_ref()) {
                Ok((tmp, path)) => {
                    rules_path = path;
                    Some(tmp)
                }
                Err(e) => {
                    warnings.push(format!("demo rules not written: {e}"));
                    None
                }
            },
            _ => None,
        };
        let (rules, rule_errors) = socdeck::config::rules::RulesWatcher::new(rules_path);
        if let Err(errors) = rule_errors {
            warnings.extend(errors.iter().map(|e| e.to_string()));
        }
        let mut app = App::new(orgs, settings, keymap, theme, jiff::Timestamp::now());
        app.rules = rules.rules().clone();
        for w in warnings {
            app.toast(ToastLevel::Warning, w);
        }
        // The journal: a demo keeps its own, so practice never mixes with a real audit log.
        let journal = match journal_path(&config, &env, &config_file, opts.demo) {
            Ok(path) => match socdeck::journal::JournalHandle::open(path).await {
                Ok(j) => Some(j),
                Err(e) => {
                    app.toast(
                        ToastLevel::Error,
                        format!("journal unavailable, actions are disabled: {e}"),
                    );
                    None
                }
            },
            Err(e) => {
                app.toast(
                    ToastLevel::Error,
                    format!("no journal, actions are disabled: {e}"),
                );
                None
            }
        };
        let console = socdeck::runtime::Console {
            clients,
            poll,
            notifier,
            actions: socdeck::effects::ActionSettings {
                analyst: app.settings.analyst.clone(),
                lateral_window: app.settings.lateral_window,
                checkin_poll: if opts.demo {
                    Duration::from_secs(1)
                } else {
                    Duration::from_secs(5)
                },
                checkin_timeout: Duration::from_secs(config.quarantine.checkin_timeout_s),
                low_closure: config.triage.low_closure_reason.clone(),
                fp_closure: config.triage.fp_closure_reason.clone(),
                smtp: match &sinks {
                    Some(s) => Some(s.smtp()),
                    None => smtp,
                },
                // The demo's receiver has its own CA; a real console builds its webhook
                // client when it first sends (its system roots cost memory all shift).
                webhooks: sinks.as_ref().and_then(|s| {
                    socdeck::deliver::webhook_client(
                        Some(&s.hooks.ca_pem()),
                        socdeck::sender::WEBHOOK_TIMEOUT,
                    )
                    .map_err(|e| tracing::error!(error = %e, "no webhook client"))
                    .ok()
                }),
            },
            journal,
            rules: Some(rules),
            sinks,
        };
        let result = socdeck::runtime::run(app, console).await;
        // The simulator stops with the console.
        drop(sim.lock().unwrap_or_else(|p| p.into_inner()).take());
        match result {
            Ok(reason) => ExitCode::from(reason.exit_code()),
            Err(e) => {
                eprintln!("socdeck: {e:#}");
                ExitCode::FAILURE
            }
        }
    }

    /// The demo's loopback mailbox (plain SMTP on 127.0.0.1) and HTTPS webhook receiver.
    async fn demo_sinks() -> std::io::Result<socdeck::effects::DemoSinks> {
        use socdeck::deliver::sink::{MailSink, MailSinkOptions, SinkTls, WebhookSink};
        let mail = MailSink::start(MailSinkOptions {
            tls: SinkTls::Plain,
            credentials: None,
        })
        .await?;
        let hooks = WebhookSink::start().await?;
        Ok(socdeck::effects::DemoSinks {
            mail: std::sync::Arc::new(mail),
            hooks: std::sync::Arc::new(hooks),
        })
    }

    /// A rules file for the demo's orgs in a private temporary directory.
    fn demo_rules(
        orgs: &[(String, String)],
        sinks: Option<&socdeck::effects::DemoSinks>,
    ) -> std::io::Result<(tempfile::TempDir, PathBuf)> {
        let dir = tempfile::Builder::new().prefix("socdeck-demo-").tempdir()?;
        let mut text = String::from(
            "# socdeck --demo: customer rules for the simulator's orgs (edit me: reloaded live)\n\
             [default]\nisolation = \"approval\"\nreport_language = \"en\"\nchannels = [\"email\"]\n",
        );
        for (i, (key, name)) in orgs.iter().enumerate() {
            let (isolation, lang, hook) = match i % 3 {
                0 => ("immediate", "ja", "slack"),
                1 => ("approval", "en", "teams"),
                _ => ("approval", "ja", "slack"),
            };
            text.push_str(&format!(
                "\n[[org]]\norg_key = \"{key}\"\nisolation = \"{isolation}\"\nreport_language = \"{lang}\"\n\
                 channels = [\"phone\", \"email\", \"{hook}\"]\n  [[org.contacts]]\n  name = \"{name} security desk\"\n  \
                 email = \"security@{}.example\"\n  phone = \"+81-3-0000-000{i}\"\n",
                key.to_lowercase()
            ));
            if let Some(s) = sinks {
                text.push_str(&format!(
                    "  [[org.contacts]]\n  name = \"SOC channel\"\n  {hook}_webhook = \"{}\"\n",
                    s.hooks.url(&format!("/{hook}/{}", key.to_lowercase()))
                ));
            }
        }
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, text)?;
        Ok((dir, path))
    }

    /// Who is at the console: `analyst` in the config, else `$USER`, else "analyst".
    fn analyst_name(config: &socdeck::config::Config, env: &Env) -> String {
        config
            .analyst
            .clone()
            .or_else(|| env.var("USER"))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "analyst".into())
    }

    fn journal_path(
        config: &socdeck::config::Config,
        env: &Env,
        config_file: &std::path::Path,
        demo: bool,
    ) -> Result<PathBuf, String> {
        let dir = config
            .data_dir(env, config_file)
            .map_err(|e| e.to_string())?;
        Ok(dir.join(if demo {
            "journal-demo.db"
        } else {
            "journal.db"
        }))
    }

    /// The console logs to `<data dir>/socdeck.log`, never to the terminal it draws on.
    fn init_file_logging(env: &Env) -> Result<PathBuf, String> {
        let dir = socdeck::config::data_dir(env).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join("socdeck.log");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let filter =
            tracing_subscriber::EnvFilter::try_from_env("SOCDECK_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,rustls_platform_verifier=off")
            });
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
        Ok(path)
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
