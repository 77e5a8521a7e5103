//! The console loop: terminal in, messages from tasks, a tick aligned to the second; drain every
//! pending message, then draw once — only when something visible changed.
//!
//! Terminal safety: the terminal is restored on normal exit, on a panic of the UI thread (which
//! then ends the process), on SIGTERM / SIGHUP / SIGINT, and when the terminal goes away (a
//! dropped SSH link: crossterm's event stream ends or errors — we leave instead of spinning).

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::{Notify, mpsc};
use tokio::task::{JoinHandle, JoinSet};

use crate::app::ledger::Ledger;
use crate::app::queue::{Interner, OrgIdx, Row};
use crate::app::{App, ExitReason, Msg, update};
use crate::cbc::model::{AlertSearch, AlertSummary, Criteria};
use crate::cbc::poll::{AlertPoller, fetch_window_each};
use crate::cbc::{ApiError, Client};
use crate::config::rules::{RulesChange, RulesWatcher};
use crate::effects::{ActionSettings, EffectRunner, Terminal, edit_externally, reconcile};
use crate::journal::JournalHandle;
use crate::notify::Notifier;
use crate::ui;
use crate::ui::wire::{self, WireBackend};

/// How each org is polled.
#[derive(Debug, Clone)]
pub struct PollSettings {
    pub interval: Duration,
    pub overlap: SignedDuration,
    /// How far back the first load looks for open alerts.
    pub open_lookback: SignedDuration,
    /// How far back the first load looks for recently changed (incl. closed) alerts.
    pub recent_lookback: SignedDuration,
    pub rows: u32,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            interval: Duration::from_secs(15),
            overlap: SignedDuration::from_secs(120),
            open_lookback: SignedDuration::from_hours(24 * 30),
            recent_lookback: SignedDuration::from_hours(12),
            rows: 1000,
        }
    }
}

/// Messages the loop may have queued at once; pollers wait when it is full.
const CHANNEL: usize = 256;

/// The clients of the console's orgs (one per org, in `App::orgs` order).
pub enum Clients {
    Ready(Vec<Client>),
    /// Built after the first frame is drawn (the demo's in-process simulator); the orgs show
    /// "connecting" meanwhile. An error ends the console with that error.
    Later(Connect),
}

/// Everything the console's tasks need besides the model.
pub struct Console {
    pub clients: Clients,
    pub poll: PollSettings,
    pub notifier: Notifier,
    pub actions: ActionSettings,
    /// The journal (audit log, intents); without one, no action is sent.
    pub journal: Option<JournalHandle>,
    /// The customer rules file, watched for changes (the app starts with its rules).
    pub rules: Option<RulesWatcher>,
    /// The demo's mailbox and webhook receiver.
    pub sinks: Option<crate::effects::DemoSinks>,
}

/// How often the rules file is looked at (a `stat`; the file is read only when it changed).
const RULES_CHECK: Duration = Duration::from_secs(2);

/// Watches the rules file and reports every change.
async fn watch_rules(mut watcher: RulesWatcher, tx: mpsc::Sender<Msg>) {
    let mut every = tokio::time::interval(RULES_CHECK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        every.tick().await;
        let msg = match watcher.check() {
            RulesChange::Unchanged => continue,
            RulesChange::Reloaded => Msg::Rules(Ok(Box::new(watcher.rules().clone()))),
            RulesChange::Invalid(errors) => {
                Msg::Rules(Err(errors.iter().map(|e| e.to_string()).collect()))
            }
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

/// Builds the clients once the first frame is on screen.
pub type Connect = Pin<Box<dyn Future<Output = anyhow::Result<Vec<Client>>> + Send>>;

/// What starts the pollers and the start-up reconciliation once the clients exist.
struct Pollers {
    tx: mpsc::Sender<Msg>,
    pokes: Vec<Arc<Notify>>,
    poll: PollSettings,
    journal: Option<JournalHandle>,
}

impl Pollers {
    fn spawn(&self, clients: &[Client], tasks: &mut JoinSet<()>) {
        for (i, (client, poke)) in clients.iter().cloned().zip(&self.pokes).enumerate() {
            let (tx, poke, poll) = (self.tx.clone(), poke.clone(), self.poll.clone());
            tasks.spawn(poll_org(i as OrgIdx, client, tx, poke, poll));
        }
        if let Some(j) = self.journal.clone() {
            // Actions an earlier run left without an outcome: settle them by reading CBC.
            let (clients, tx) = (clients.to_vec(), self.tx.clone());
            let keys: Vec<String> = clients.iter().map(|c| c.org_key().to_string()).collect();
            tasks.spawn(async move {
                let index = |k: &str| keys.iter().position(|x| x == k).map(|i| i as OrgIdx);
                let rows = reconcile(&clients, index, &j).await;
                if !rows.is_empty() {
                    let title = "Unfinished actions of an earlier run, reconciled with CBC".into();
                    let _ = tx.send(Msg::Audit { title, rows }).await;
                }
            });
        }
    }
}

/// Runs the console until the analyst quits or a signal arrives; returns why it stopped.
pub async fn run(mut app: App, console: Console) -> anyhow::Result<ExitReason> {
    let Console {
        clients,
        poll,
        notifier,
        actions,
        journal,
        rules,
        sinks,
    } = console;
    let (tx, mut rx) = mpsc::channel::<Msg>(CHANNEL);
    let mut tasks = JoinSet::new();
    let pollers = Pollers {
        tx: tx.clone(),
        pokes: app.orgs.iter().map(|_| Arc::new(Notify::new())).collect(),
        poll,
        journal: journal.clone(),
    };
    if let Some(w) = rules {
        tasks.spawn(watch_rules(w, tx.clone()));
    }
    let mut runner = EffectRunner::new(
        Vec::new(),
        tx.clone(),
        pollers.pokes.clone(),
        notifier,
        actions,
        journal,
    );
    runner.set_sinks(sinks);
    let connect = match clients {
        Clients::Ready(clients) => {
            pollers.spawn(&clients, &mut tasks);
            runner.set_clients(clients);
            None
        }
        Clients::Later(connect) => Some(connect),
    };

    let mut terminal = init_terminal()?;
    install_panic_hook();
    let size = terminal.size()?;
    update(&mut app, Msg::Resize(size.width, size.height));
    update(&mut app, Msg::Tick(Timestamp::now()));

    let result = event_loop(
        &mut app,
        &mut terminal,
        &mut rx,
        &mut tasks,
        &pollers,
        connect,
        runner,
    )
    .await;
    tasks.abort_all();
    // Default rendition and a visible cursor before leaving (the wire backend carries its
    // state across frames). On a lost terminal this fails quietly: nothing may `eprintln!` to
    // the dead tty (a panic there aborts the process instead of exiting 129).
    let _ = terminal.backend_mut().finish();
    if let Err(e) = ratatui::try_restore() {
        let _ = writeln!(
            std::io::stderr(),
            "socdeck: could not restore the terminal: {e}"
        );
    }
    drop(terminal);
    result
}

/// The console's terminal: the byte-frugal backend on standard output.
pub type Tty = ratatui::Terminal<WireBackend<wire::Tty>>;

/// Raw mode, the alternate screen, and the wire backend (what `ratatui::try_init` does with
/// `CrosstermBackend`, whose per-frame framing costs the SSH link several times the bytes).
fn init_terminal() -> std::io::Result<Tty> {
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    ratatui::Terminal::new(WireBackend::new(wire::Tty))
}

/// Runs `f` with the terminal given back to the shell (cooked mode, main screen), then takes
/// it again and redraws everything.
fn suspended<T>(terminal: &mut Tty, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let _ = terminal.backend_mut().finish();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::terminal::LeaveAlternateScreen);
    let _ = crossterm::terminal::disable_raw_mode();
    let result = f();
    let back = crossterm::terminal::enable_raw_mode().and_then(|_| {
        crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)
    });
    // The wire backend's idea of the screen is stale: start from a clean slate.
    terminal.backend_mut().invalidate_size();
    let _ = terminal.clear();
    match (result, back) {
        (r, Ok(())) => r,
        (_, Err(e)) => Err(format!("the terminal could not be taken back: {e}")),
    }
}

async fn event_loop(
    app: &mut App,
    terminal: &mut Tty,
    rx: &mut mpsc::Receiver<Msg>,
    tasks: &mut JoinSet<()>,
    pollers: &Pollers,
    mut connect: Option<Connect>,
    mut runner: EffectRunner,
) -> anyhow::Result<ExitReason> {
    let mut pending: Option<JoinHandle<anyhow::Result<Vec<Client>>>> = None;
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval_at(next_second(), Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The tty's hang-up as an event from the reactor; a timer only where stdout cannot be
    // watched (not a pollable file).
    // SAFETY: fd 1 is open for the whole process and nothing here closes or replaces it.
    let hangup_watch = unsafe { AsyncFd::register_with_interest(StdoutFd, Interest::ERROR) }.ok();
    let mut hangup_probe = tokio::time::interval(HANGUP_PROBE);
    hangup_probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    loop {
        if app.dirty {
            if let Err(e) = terminal.draw(|f| ui::view(app, f)) {
                // Writing to the terminal failed: it is gone (SSH dropped).
                tracing::warn!(error = %e, "terminal write failed; leaving");
                return Ok(ExitReason::TerminalLost);
            }
            app.dirty = false;
            // Only now, on a worker thread: it must not compete with the first frame.
            if let Some(c) = connect.take() {
                pending = Some(tokio::spawn(c));
            }
        }
        let first = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => Some(Msg::Key(k)),
                Some(Ok(Event::Resize(w, h))) => {
                    terminal.backend_mut().invalidate_size();
                    Some(Msg::Resize(w, h))
                }
                Some(Ok(_)) => None,
                // End of input or a read error: the terminal is gone. Leave rather than spin.
                Some(Err(_)) | None => Some(Msg::Shutdown(ExitReason::TerminalLost)),
            },
            Some(msg) = rx.recv() => Some(msg),
            _ = tick.tick() => Some(Msg::Tick(Timestamp::now())),
            gone = hung_up(hangup_watch.as_ref(), &mut hangup_probe) => gone.then_some(Msg::Shutdown(ExitReason::TerminalLost)),
            _ = sigterm.recv() => Some(Msg::Shutdown(ExitReason::Terminate)),
            _ = sighup.recv() => Some(Msg::Shutdown(ExitReason::Hangup)),
            _ = sigint.recv() => Some(Msg::Shutdown(ExitReason::Interrupt)),
            connected = async { pending.as_mut().expect("guarded").await }, if pending.is_some() => {
                pending = None;
                match connected {
                    Ok(Ok(clients)) => {
                        pollers.spawn(&clients, tasks);
                        runner.set_clients(clients);
                        None
                    }
                    Ok(Err(e)) => return Err(e),
                    Err(e) => return Err(anyhow::anyhow!("connecting the orgs failed: {e}")),
                }
            }
            Some(joined) = tasks.join_next() => match joined {
                Err(e) if e.is_panic() => Some(Msg::TaskFailed("a background task stopped unexpectedly (see the log)".into())),
                _ => None,
            },
        };
        let mut pending: Vec<Msg> = first.into_iter().collect();
        while let Ok(m) = rx.try_recv() {
            pending.push(m);
        }
        let mut loaded = false;
        for msg in pending {
            loaded |= matches!(msg, Msg::Polled { initial: true, .. });
            for effect in update(app, msg) {
                match runner.run(effect, app.quit.is_some()) {
                    None => {}
                    Some(Terminal::Write(bytes)) => {
                        // Bell or OSC 52: straight to the terminal, between frames.
                        let out = terminal.backend_mut();
                        let _ = out.write_all(&bytes).and_then(|_| out.flush());
                    }
                    Some(Terminal::ExternalEditor(text)) => {
                        // The event reader must not steal the editor's keystrokes.
                        drop(events);
                        let result = suspended(terminal, || edit_externally(&text));
                        events = EventStream::new();
                        update(app, Msg::ExternalEdited(result));
                    }
                }
            }
        }
        if loaded {
            release_free_memory();
        }
        if let Some(reason) = app.quit {
            return Ok(reason);
        }
    }
}

/// Allocator settings for a console that holds a large queue for hours. Call before any
/// thread starts. glibc only (elsewhere nothing to do):
/// * one arena: rows are built on the runtime's worker threads and kept by the loop; per-thread
///   arenas would each keep their own fragments of the first load;
/// * a fixed mmap threshold: a page of search results (megabytes of JSON) is mapped and
///   unmapped, never left in the heap (glibc's dynamic threshold would move such buffers into
///   the heap after the first one is freed).
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; no allocation is in flight on another
    // thread (there is none yet).
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// The async runtime the `socdeck` binary runs on: the multi-thread scheduler with one worker.
/// The console's loop runs on the main thread (`block_on`) and never waits for the network;
/// pollers, the simulator of `--demo` and `alerts --json` run on the worker, where each
/// connection's task and the task parsing its pages meet without crossing threads. A second
/// worker bought no speed here and cost ~15 % more CPU per fetch (idle workers woken to look
/// for work on every body chunk; `cargo bench --bench fetch_alerts`, README); blocking work
/// (the journal) has tokio's blocking pool either way.
pub fn build_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
}

/// After a first load the pages' parsed JSON is free but glibc keeps it, spread over the
/// worker threads' arenas, as resident memory for good: hand it back to the system.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How often the loop checks that the terminal is still there when it cannot be watched
/// (see [`hung_up`]).
const HANGUP_PROBE: Duration = Duration::from_millis(100);

/// Standard output for the reactor; never closed by us.
struct StdoutFd;

impl AsRawFd for StdoutFd {
    fn as_raw_fd(&self) -> RawFd {
        libc::STDOUT_FILENO
    }
}

/// Resolves when the terminal may have gone, with whether it has. A hung-up tty polls as
/// EPOLLERR|EPOLLHUP, so the reactor wakes us then and only then (error interest: no wake-ups
/// for input or output readiness). Without a watch, a 100 ms probe: it costs ~0.15 % CPU at
/// rest, the watch nothing.
async fn hung_up(watch: Option<&AsyncFd<StdoutFd>>, probe: &mut tokio::time::Interval) -> bool {
    match watch {
        Some(fd) => match fd.ready(Interest::ERROR).await {
            Ok(mut guard) => {
                let gone = terminal_hung_up();
                if !gone {
                    // Some other error condition: wait for the next event.
                    guard.clear_ready();
                }
                gone
            }
            Err(_) => true,
        },
        None => {
            probe.tick().await;
            terminal_hung_up()
        }
    }
}

/// Whether the terminal we draw on has been hung up (the pty master closed: a dropped SSH
/// link) without a SIGHUP reaching us. crossterm's reader thread cannot tell us: on a hung-up
/// tty its `read` returns 0 and it reads again, forever, at 100% CPU (crossterm #793), and the
/// event stream never ends. So the loop looks for itself: a hung-up tty polls as POLLHUP.
fn terminal_hung_up() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd; a zero timeout never blocks.
    let n = unsafe { libc::poll(&mut fd, 1, 0) };
    n > 0 && fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

/// The instant of the next whole wall-clock second, so countdowns change on the second.
fn next_second() -> tokio::time::Instant {
    let now = Timestamp::now();
    let into = now.subsec_nanosecond().max(0) as u64;
    tokio::time::Instant::now() + Duration::from_nanos(1_000_000_000 - into)
}

/// A panic on the UI thread restores the terminal, prints the message on the normal screen
/// and ends the process (a UI must not be left on a cooked terminal). A panic in a background
/// task is logged; the task's end is reported in the status line.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("main") {
            // Restore the terminal (default rendition, cursor, main screen, cooked mode),
            // then print the message there.
            let _ = crossterm::execute!(
                std::io::stdout(),
                crossterm::style::SetAttribute(crossterm::style::Attribute::Reset),
                crossterm::cursor::Show,
                crossterm::terminal::LeaveAlternateScreen
            );
            let _ = crossterm::terminal::disable_raw_mode();
            previous(info);
            std::process::exit(101);
        } else {
            tracing::error!(panic = %info, "background task panicked");
        }
    }));
}

/// Polls one org forever: the first load, then changes since the last poll, every interval or
/// when poked. Errors back off (or wait out a 429) and are reported; data already shown stays.
async fn poll_org(
    org: OrgIdx,
    client: Client,
    tx: mpsc::Sender<Msg>,
    poke: Arc<Notify>,
    poll: PollSettings,
) {
    let mut poller = AlertPoller::new(
        AlertSearch {
            rows: poll.rows,
            ..AlertSearch::default()
        },
        poll.overlap,
        poll.open_lookback,
    );
    let mut loaded = false;
    let mut failures: u32 = 0;
    // The org's rows share equal strings (devices, users, policies, processes, reasons).
    let mut strings = Interner::default();
    // Alerts whose notes changed since they were last read (structured notes: level, owner,
    // reports sent).
    let mut notes = NotesSeen::default();
    loop {
        if tx.send(Msg::PollStarted { org }).await.is_err() {
            return;
        }
        let now = Timestamp::now();
        let result = if loaded {
            poll_changes(org, &client, &mut poller, now, &mut strings, &mut notes).await
        } else {
            initial_load(org, &client, &poll, now, &mut strings, &mut notes).await
        };
        let wait = match result {
            Ok(rows) => {
                if !loaded {
                    poller.resume_after(now);
                }
                let initial = !loaded;
                loaded = true;
                failures = 0;
                if tx
                    .send(Msg::Polled {
                        org,
                        rows,
                        at: now,
                        initial,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
                let noted = std::mem::take(&mut notes.pending);
                if !noted.is_empty() && read_ledgers(org, &client, noted, &tx).await.is_err() {
                    return;
                }
                poll.interval
            }
            Err(e) => {
                failures += 1;
                let retry_at = match &e {
                    ApiError::RateLimited { until, .. } => Some(*until),
                    _ => None,
                };
                tracing::warn!(org = client.org_key(), error = %e, "poll failed");
                if tx
                    .send(Msg::PollFailed {
                        org,
                        error: e.to_string(),
                        at: now,
                        retry_at,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
                let backoff = poll
                    .interval
                    .saturating_mul(1 << failures.min(4))
                    .min(Duration::from_secs(300));
                match retry_at {
                    Some(until) => Duration::from_millis(
                        until.duration_since(Timestamp::now()).as_millis().max(0) as u64,
                    )
                    .max(backoff),
                    None => backoff,
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = poke.notified() => {}
        }
    }
}

/// Which alerts' notes to read: those with notes whose update time moved since they were read.
#[derive(Default)]
struct NotesSeen {
    seen: HashMap<Box<str>, Option<Timestamp>>,
    pending: Vec<Box<str>>,
}

impl NotesSeen {
    fn check(&mut self, a: &AlertSummary) {
        let (Some(id), Some(true)) = (a.id(), a.alert_notes_present) else {
            return;
        };
        let at = a.backend_update_timestamp;
        if self.seen.get(id) != Some(&at) {
            self.seen.insert(id.into(), at);
            self.pending.push(id.into());
        }
    }
}

/// How many alerts' notes are read at once.
const NOTE_READS: usize = 4;

/// Reads the notes of `ids` and reports what socdeck's structured notes say (level, owner),
/// in batches. `Err` when the console is gone.
async fn read_ledgers(
    org: OrgIdx,
    client: &Client,
    ids: Vec<Box<str>>,
    tx: &mpsc::Sender<Msg>,
) -> Result<(), ()> {
    use futures::stream::{self, StreamExt};
    let mut results = stream::iter(ids)
        .map(|id| async move {
            let notes = client.alert_notes(&id).await;
            (id, notes)
        })
        .buffer_unordered(NOTE_READS);
    let mut batch = Vec::new();
    while let Some((id, notes)) = results.next().await {
        match notes {
            Ok(notes) => {
                let ledger = Ledger::from_texts(notes.iter().filter_map(|n| n.note.as_deref()));
                if !ledger.is_empty() {
                    batch.push((id, ledger));
                }
            }
            Err(e) => tracing::warn!(alert = %id, error = %e, "notes not read"),
        }
        if batch.len() >= 200 {
            let entries = std::mem::take(&mut batch);
            tx.send(Msg::Ledger { org, entries }).await.map_err(drop)?;
        }
    }
    if !batch.is_empty() {
        tx.send(Msg::Ledger {
            org,
            entries: batch,
        })
        .await
        .map_err(drop)?;
    }
    Ok(())
}

/// The first load: open alerts of the last `open_lookback`, and alerts closed in the last
/// `recent_lookback` (so a stopped clock shows how it ended). Page by page into compact rows:
/// the parsed alerts of one page at a time, never all of them.
async fn initial_load(
    org: OrgIdx,
    client: &Client,
    poll: &PollSettings,
    now: Timestamp,
    strings: &mut Interner,
    notes: &mut NotesSeen,
) -> Result<Vec<Row>, ApiError> {
    let mut rows: Vec<Row> = Vec::new();
    let mut add = |page: Vec<AlertSummary>| {
        page.iter().for_each(|a| notes.check(a));
        rows.extend(
            page.iter()
                .filter_map(|a| Row::from_summary_in(org, a, strings)),
        );
    };
    let open = AlertSearch {
        criteria: Criteria::default().strings("workflow_status", ["OPEN", "IN_PROGRESS"]),
        rows: poll.rows,
        ..AlertSearch::default()
    };
    fetch_window_each(
        client,
        &open,
        "backend_timestamp",
        now - poll.open_lookback,
        now,
        &mut add,
    )
    .await?;
    // Only closed ones: the open ones came above (asking for every recently updated alert
    // fetched and parsed most of the backlog twice).
    let closed = AlertSearch {
        criteria: Criteria::default().strings("workflow_status", ["CLOSED"]),
        rows: poll.rows,
        ..AlertSearch::default()
    };
    fetch_window_each(
        client,
        &closed,
        "backend_update_timestamp",
        now - poll.recent_lookback,
        now,
        &mut add,
    )
    .await?;
    Ok(rows)
}

async fn poll_changes(
    org: OrgIdx,
    client: &Client,
    poller: &mut AlertPoller,
    now: Timestamp,
    strings: &mut Interner,
    notes: &mut NotesSeen,
) -> Result<Vec<Row>, ApiError> {
    let alerts = poller.poll_as::<AlertSummary>(client, now).await?.alerts;
    alerts.iter().for_each(|a| notes.check(a));
    Ok(alerts
        .iter()
        .filter_map(|a| Row::from_summary_in(org, a, strings))
        .collect())
}
