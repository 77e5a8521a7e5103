//! A small pty harness for driving the real `socdeck` binary: a pseudo-terminal of a fixed size,
//! the child on its slave side (optionally as session leader with the pty as its controlling
//! terminal), every byte the child writes kept and fed into a `vt100` screen, and exit status
//! plus CPU time collected with `wait4`.
//!
//! The child runs with a fresh temporary `HOME` (config, data and log go there), the
//! environment cleared except `PATH`, `TERM=xterm-256color` and `HOME`, and that `HOME` as its
//! working directory.

#![allow(dead_code)]

use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Leave the alternate screen.
pub const LEAVE_ALT: &[u8] = b"\x1b[?1049l";
/// Enter the alternate screen.
pub const ENTER_ALT: &[u8] = b"\x1b[?1049h";
/// Show the cursor.
pub const SHOW_CURSOR: &[u8] = b"\x1b[?25h";
/// Hide the cursor (ratatui ends every frame with it when no cursor is wanted).
pub const HIDE_CURSOR: &[u8] = b"\x1b[?25l";

/// How to start the child.
#[derive(Debug, Clone)]
pub struct Opts {
    pub cols: u16,
    pub rows: u16,
    /// Make the child a session leader with the pty as its controlling terminal (a login shell's
    /// child: closing the master sends it SIGHUP). Without it the child only gets its own
    /// process group, and a closed master shows only as EIO on read and write.
    pub controlling_tty: bool,
    /// Run with this `HOME` (kept by the caller, e.g. to restart in it) instead of a fresh
    /// temporary one.
    pub home: Option<PathBuf>,
    /// Extra environment for the child (on top of PATH, TERM and HOME).
    pub env: Vec<(String, String)>,
}

impl Opts {
    pub fn size(cols: u16, rows: u16) -> Opts {
        Opts {
            cols,
            rows,
            controlling_tty: true,
            home: None,
            env: Vec::new(),
        }
    }
}

/// How the child ended.
#[derive(Debug, Clone, Copy)]
pub struct Exit {
    /// Exit code when it exited normally.
    pub code: Option<i32>,
    /// Signal number when a signal killed it.
    pub signal: Option<i32>,
    /// User + system CPU time of the child over its whole life (`wait4` rusage).
    pub cpu: Duration,
    /// When the harness saw it exit.
    pub at: Instant,
}

/// Output after the last complete frame is shown anyway once nothing more came for this long
/// (a frame that ends by showing the cursor, the restore sequences, a message).
const SETTLE: Duration = Duration::from_millis(200);

struct State {
    bytes: Vec<u8>,
    /// The emulated screen, fed whole frames only: ratatui writes a frame in several `write`s,
    /// and a screen read between two of them would mix the old frame with the new one.
    parser: vt100::Parser,
    /// How much of `bytes` the parser has seen.
    shown: usize,
    last_data: Instant,
    eof: bool,
}

impl State {
    /// Feeds the parser up to the end of the last complete frame (ratatui ends each frame by
    /// hiding the cursor), or everything once the output has settled or ended.
    fn settle(&mut self) {
        let end = if self.eof || self.last_data.elapsed() >= SETTLE {
            self.bytes.len()
        } else {
            match rfind(&self.bytes[self.shown..], HIDE_CURSOR) {
                Some(at) => self.shown + at + HIDE_CURSOR.len(),
                None => return,
            }
        };
        if end > self.shown {
            self.parser.process(&self.bytes[self.shown..end]);
            self.shown = end;
        }
    }

    fn screen(&mut self) -> &vt100::Screen {
        self.settle();
        self.parser.screen()
    }
}

struct Shared {
    state: Mutex<State>,
    cv: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A `socdeck` process on a pty.
pub struct PtyProc {
    pid: libc::pid_t,
    master: Option<Arc<OwnedFd>>,
    /// The parent's own handle on the slave: lets the test read the terminal modes after the
    /// child exits. Closed by [`PtyProc::drain`] and [`PtyProc::close_master`].
    slave: Option<OwnedFd>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    exit: Option<Exit>,
    home: PathBuf,
    /// The fresh `HOME` when the caller gave none (removed with the process handle).
    _tmp_home: Option<tempfile::TempDir>,
    pub started: Instant,
}

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn check(r: libc::c_int, what: &str) -> std::io::Result<libc::c_int> {
    if r < 0 {
        let e = errno();
        Err(std::io::Error::new(e.kind(), format!("{what}: {e}")))
    } else {
        Ok(r)
    }
}

/// A master/slave pair, both close-on-exec from birth (no other test's child can inherit them).
fn open_pty(cols: u16, rows: u16) -> std::io::Result<(OwnedFd, OwnedFd)> {
    // SAFETY: plain libc calls on fds we own; every result is checked.
    unsafe {
        let m = check(
            libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC),
            "posix_openpt",
        )?;
        let master = OwnedFd::from_raw_fd(m);
        check(libc::grantpt(m), "grantpt")?;
        check(libc::unlockpt(m), "unlockpt")?;
        let mut name = [0 as libc::c_char; 128];
        let r = libc::ptsname_r(m, name.as_mut_ptr(), name.len());
        if r != 0 {
            return Err(std::io::Error::from_raw_os_error(r));
        }
        let path = CStr::from_ptr(name.as_ptr());
        let s = check(
            libc::open(
                path.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            ),
            "open slave",
        )?;
        let slave = OwnedFd::from_raw_fd(s);
        set_winsize(m, cols, rows)?;
        Ok((master, slave))
    }
}

fn set_winsize(fd: RawFd, cols: u16, rows: u16) -> std::io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer.
    check(
        unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) },
        "TIOCSWINSZ",
    )?;
    Ok(())
}

/// The emulator's size for a window size: vt100 0.15 panics (u16 underflow in `col_wrap`)
/// when a wide character is printed on a screen narrower than two columns, so the emulator
/// never goes below 4×4; whatever the app draws at a smaller size fits in it.
fn nz(n: u16) -> u16 {
    n.max(4)
}

impl PtyProc {
    /// Starts `socdeck ARGS` on a new pty.
    pub fn spawn(args: &[&str], opts: Opts) -> PtyProc {
        let tmp_home = match &opts.home {
            Some(_) => None,
            None => Some(
                tempfile::Builder::new()
                    .prefix("socdeck-pty-home-")
                    .tempdir()
                    .expect("temp HOME"),
            ),
        };
        let home: PathBuf = match (&opts.home, &tmp_home) {
            (Some(h), _) => h.clone(),
            (None, Some(t)) => t.path().to_path_buf(),
            (None, None) => unreachable!(),
        };
        let (master, slave) = open_pty(opts.cols, opts.rows).expect("pty");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_socdeck"));
        cmd.args(args)
            .env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
            .env("TERM", "xterm-256color")
            .env("HOME", &home)
            .envs(opts.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&home)
            .stdin(Stdio::from(slave.try_clone().expect("dup slave")))
            .stdout(Stdio::from(slave.try_clone().expect("dup slave")))
            .stderr(Stdio::from(slave.try_clone().expect("dup slave")));
        let ctty = opts.controlling_tty;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if ctty {
                    if libc::setsid() < 0 {
                        return Err(errno());
                    }
                    if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                        return Err(errno());
                    }
                } else if libc::setpgid(0, 0) < 0 {
                    return Err(errno());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn socdeck");
        let pid = child.id() as libc::pid_t;
        // Reaped by `wait4` below, not by `Child`.
        drop(child);
        let started = Instant::now();

        let master = Arc::new(master);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                bytes: Vec::new(),
                parser: vt100::Parser::new(nz(opts.rows), nz(opts.cols), 0),
                shown: 0,
                last_data: Instant::now(),
                eof: false,
            }),
            cv: Condvar::new(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (master, shared, stop) = (master.clone(), shared.clone(), stop.clone());
            std::thread::spawn(move || read_loop(&master, &shared, &stop))
        };
        PtyProc {
            pid,
            master: Some(master),
            slave: Some(slave),
            shared,
            stop,
            reader: Some(reader),
            exit: None,
            home,
            _tmp_home: tmp_home,
            started,
        }
    }

    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn log_path(&self) -> PathBuf {
        self.home().join(".local/share/socdeck/socdeck.log")
    }

    /// The log file's contents ("" when there is none).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Types `bytes` as if on the keyboard.
    pub fn send(&self, bytes: &[u8]) {
        let fd = self.master.as_ref().expect("master is open").as_raw_fd();
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: writes from a valid slice to an fd we own.
            let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
            if n < 0 {
                let e = errno();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                panic!("writing to the pty: {e}");
            }
            rest = &rest[n as usize..];
        }
    }

    /// Sends a signal to the child.
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child, which is not reaped yet (we own its pid).
        let r = unsafe { libc::kill(self.pid, sig) };
        assert_eq!(r, 0, "kill({}, {sig}): {}", self.pid, errno());
    }

    /// Changes the window size (the kernel sends SIGWINCH to the foreground process group).
    pub fn resize(&self, cols: u16, rows: u16) {
        set_winsize(
            self.master.as_ref().expect("master is open").as_raw_fd(),
            cols,
            rows,
        )
        .expect("resize");
        let mut st = self.shared.lock();
        st.settle();
        st.parser.set_size(nz(rows), nz(cols));
    }

    /// Every byte the child has written so far.
    pub fn output(&self) -> Vec<u8> {
        self.shared.lock().bytes.clone()
    }

    /// The screen as text, one line per row.
    pub fn screen_text(&self) -> String {
        self.shared.lock().screen().contents()
    }

    /// Runs `f` on the screen now.
    pub fn with_screen<T>(&self, f: impl FnOnce(&vt100::Screen) -> T) -> T {
        f(self.shared.lock().screen())
    }

    /// Waits until `f` returns `Some` for the screen (checked on every chunk of output), or
    /// fails with the screen and the log after `timeout`.
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut f: impl FnMut(&vt100::Screen) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            if let Some(t) = f(st.screen()) {
                return t;
            }
            let now = Instant::now();
            if now >= deadline || st.eof {
                let screen = st.screen().contents();
                let eof = st.eof;
                drop(st);
                panic!(
                    "timed out after {timeout:?} waiting for {what} (output ended: {eof}, exit: {:?})\n--- screen ---\n{screen}\n--- log ---\n{}",
                    self.exit_now(),
                    tail(&self.log(), 3000)
                );
            }
            let wait = (deadline - now).min(Duration::from_millis(100));
            st = self
                .shared
                .cv
                .wait_timeout(st, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// How the child ended, if [`PtyProc::try_wait`] has seen it end.
    fn exit_now(&self) -> Option<Exit> {
        self.exit
    }

    /// Reaps the child if it has exited.
    pub fn try_wait(&mut self) -> Option<Exit> {
        if self.exit.is_some() {
            return self.exit;
        }
        let mut status: libc::c_int = 0;
        // SAFETY: zeroed rusage is a valid value; wait4 fills it.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child with valid out-pointers.
        let r = unsafe { libc::wait4(self.pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == self.pid {
            let tv = |t: libc::timeval| {
                Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
            };
            let exit = Exit {
                code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
                signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
                cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
                at: Instant::now(),
            };
            self.exit = Some(exit);
        }
        self.exit
    }

    /// Waits up to `timeout` for the child to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<Exit> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.try_wait() {
                return Some(e);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// CPU time (user + system) the running child has used so far, from `/proc/<pid>/stat`
    /// (clock-tick resolution).
    pub fn cpu_so_far(&self) -> Option<Duration> {
        let fields = proc_stat_fields(self.pid)?;
        // After the ")" of the command: [0] state, [11] utime, [12] stime.
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Some(Duration::from_micros((utime + stime) * 1_000_000 / hz))
    }

    /// Terminal modes of the pty (local flags), read through the parent's slave handle.
    pub fn local_modes(&self) -> libc::tcflag_t {
        let fd = self.slave.as_ref().expect("slave handle kept").as_raw_fd();
        // SAFETY: tcgetattr fills a zeroed termios.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(
            unsafe { libc::tcgetattr(fd, &mut t) },
            0,
            "tcgetattr: {}",
            errno()
        );
        t.c_lflag
    }

    /// After the child exited: drops the parent's slave handle so the master reads end, and
    /// waits until every byte the child wrote has been read.
    pub fn drain(&mut self) {
        self.slave = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut st = self.shared.lock();
        while !st.eof && Instant::now() < deadline {
            st = self
                .shared
                .cv
                .wait_timeout(st, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        assert!(st.eof, "the pty output did not end after the child exited");
    }

    /// Hangs the terminal up the way a dropped SSH link does: stops reading and closes every
    /// handle this process has on the pty (master and slave).
    pub fn close_master(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.slave = None;
        let master = self.master.take().expect("master is open");
        assert_eq!(
            Arc::strong_count(&master),
            1,
            "someone else still holds the master"
        );
        drop(master);
    }

    /// Processes still in the child's process group or session (after it exited: leftovers).
    pub fn leftovers(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return out;
        };
        for e in dir.flatten() {
            let Some(pid) = e
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<libc::pid_t>().ok())
            else {
                continue;
            };
            if let Some(f) = proc_stat_fields(pid) {
                // [2] pgrp, [3] session.
                let pgrp: libc::pid_t = f.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
                let sid: libc::pid_t = f.get(3).and_then(|s| s.parse().ok()).unwrap_or(0);
                if pid == self.pid || pgrp == self.pid || sid == self.pid {
                    out.push(format!(
                        "pid {pid} state {}",
                        f.first().map_or("?", |s| s.as_str())
                    ));
                }
            }
        }
        out
    }
}

fn proc_stat_fields(pid: libc::pid_t) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    Some(after.split_whitespace().map(str::to_owned).collect())
}

fn read_loop(master: &OwnedFd, shared: &Shared, stop: &AtomicBool) {
    let fd = master.as_raw_fd();
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::SeqCst) {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, 20) };
        if r < 0 {
            if errno().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if r == 0 {
            continue;
        }
        // SAFETY: reads into a buffer we own.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            let chunk = &buf[..n as usize];
            let mut st = shared.lock();
            st.bytes.extend_from_slice(chunk);
            st.last_data = Instant::now();
            st.settle();
            drop(st);
            shared.cv.notify_all();
            continue;
        }
        if n < 0
            && matches!(
                errno().kind(),
                std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
            )
        {
            continue;
        }
        // 0 or EIO: every slave handle is closed.
        break;
    }
    shared.lock().eof = true;
    shared.cv.notify_all();
}

impl Drop for PtyProc {
    fn drop(&mut self) {
        if self.try_wait().is_none() {
            // SAFETY: our own unreaped child.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                let mut status = 0;
                libc::waitpid(self.pid, &mut status, 0);
            }
        }
        self.stop.store(true, Ordering::SeqCst);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// The last `n` bytes of `s` (on a char boundary).
pub fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Position of the last occurrence of `needle` in `hay`.
pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Number of occurrences of `needle` in `hay`.
pub fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Checks that the terminal was handed back: after the last frame (ratatui ends each frame by
/// hiding the cursor) the output leaves the alternate screen and shows the cursor, and the
/// emulated screen agrees. Returns a description of what is wrong.
pub fn restored(out: &[u8]) -> Result<(), String> {
    let last_frame = rfind(out, HIDE_CURSOR).ok_or("no frame was ever drawn (no hide-cursor)")?;
    let after = &out[last_frame..];
    let mut problems = Vec::new();
    if rfind(after, LEAVE_ALT).is_none() {
        problems.push("no leave-alternate-screen (ESC[?1049l) after the last frame");
    }
    if rfind(after, SHOW_CURSOR).is_none() {
        problems.push("no show-cursor (ESC[?25h) after the last frame");
    }
    if let (Some(enter), Some(leave)) = (rfind(out, ENTER_ALT), rfind(out, LEAVE_ALT))
        && enter > leave
    {
        problems.push("the alternate screen is entered again after it was left");
    }
    let mut p = vt100::Parser::new(nz(24), nz(80), 0);
    p.process(out);
    if p.screen().alternate_screen() {
        problems.push("emulated terminal: still on the alternate screen");
    }
    if p.screen().hide_cursor() {
        problems.push("emulated terminal: cursor still hidden");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}; output tail: {:?}",
            problems.join("; "),
            String::from_utf8_lossy(&out[out.len().saturating_sub(200)..])
        ))
    }
}
