//! An injectable view of the process environment: variables, home and working directory, and the
//! system-wide configuration directory (`/etc`). Every path decision in `config` goes through it, so
//! tests never read the real home directory or `/etc`.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::fmt;
use std::path::{Path, PathBuf};

/// The environment that configuration loading sees.
///
/// `Debug` lists variable *names* only: values such as `CBC_TOKEN` are never printed.
#[derive(Clone)]
pub struct Env {
    vars: BTreeMap<String, String>,
    home: Option<PathBuf>,
    cwd: PathBuf,
    system_dir: PathBuf,
}

impl Env {
    /// The real process environment. Home is `$HOME`, or the password database entry of the
    /// effective user when `$HOME` is unset or empty.
    pub fn from_process() -> Env {
        let vars: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let home = absolute_var(&vars, "HOME").or_else(home_from_passwd);
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Env {
            vars,
            home,
            cwd,
            system_dir: PathBuf::from("/etc"),
        }
    }

    /// An environment made of the given variables only (for tests and embedding). Home is the
    /// `HOME` variable if present and absolute, otherwise there is none; nothing is looked up
    /// on the real system. The system directory is `/etc` until [`Env::with_system_dir`].
    pub fn from_vars<I, K, V>(vars: I, cwd: impl Into<PathBuf>) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let home = absolute_var(&vars, "HOME");
        Env {
            vars,
            home,
            cwd: cwd.into(),
            system_dir: PathBuf::from("/etc"),
        }
    }

    /// Replaces the system configuration directory (`/etc`), where
    /// `carbonblack/credentials.cbc` is searched last.
    pub fn with_system_dir(mut self, dir: impl Into<PathBuf>) -> Env {
        self.system_dir = dir.into();
        self
    }

    /// A variable's value; `None` when unset **or empty** (as the CBC SDK treats empty values).
    pub fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// The user's home directory, if known.
    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    /// The working directory (the SDK searches `./.carbonblack/` relative to it).
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The system configuration directory, `/etc` unless replaced.
    pub fn system_dir(&self) -> &Path {
        &self.system_dir
    }

    /// `$name` if it is set to an absolute path (the XDG rule: relative values are ignored).
    pub(crate) fn absolute_path_var(&self, name: &str) -> Option<PathBuf> {
        absolute_var(&self.vars, name)
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("home", &self.home)
            .field("cwd", &self.cwd)
            .field("system_dir", &self.system_dir)
            .finish()
    }
}

fn absolute_var(vars: &BTreeMap<String, String>, name: &str) -> Option<PathBuf> {
    vars.get(name)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// Home directory of the effective user from the password database (`getpwuid_r`).
fn home_from_passwd() -> Option<PathBuf> {
    let uid = crate::config::perms::euid();
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: zeroed `passwd` is a valid out-parameter; `buf` outlives the call and its
        // length is passed; `result` is only read after the call returns.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || result.is_null() || pwd.pw_dir.is_null() {
            return None;
        }
        // SAFETY: on success `pw_dir` points to a NUL-terminated string inside `buf`.
        let dir = unsafe { CStr::from_ptr(pwd.pw_dir) };
        let dir = PathBuf::from(dir.to_str().ok()?);
        return dir.is_absolute().then_some(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset_and_debug_hides_values() {
        let env = Env::from_vars(
            [
                ("CBC_TOKEN", "CANARY-env-debug"),
                ("EMPTY", ""),
                ("HOME", "/h"),
            ],
            "/w",
        );
        assert_eq!(env.var("EMPTY"), None);
        assert_eq!(env.var("CBC_TOKEN").as_deref(), Some("CANARY-env-debug"));
        assert_eq!(env.home(), Some(Path::new("/h")));
        let dbg = format!("{env:?}");
        assert!(dbg.contains("CBC_TOKEN"), "{dbg}");
        assert!(!dbg.contains("CANARY"), "{dbg}");
    }

    #[test]
    fn relative_home_is_ignored() {
        let env = Env::from_vars([("HOME", "relative/home")], "/w");
        assert_eq!(env.home(), None);
    }
}
