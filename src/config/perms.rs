//! Permission checks for files that hold a token.
//!
//! Rule (RELIABILITY.md B1, and the CBC SDK's own check): the file must be owned by the effective
//! user and give group and others no permission at all (0600 or 0400); the directory holding it
//! must be owned by the effective user and give group and others no permission either (0700 or
//! 0500), so nobody else can list, replace or swap the file. For a symlink both the link's
//! directory and the target's directory are checked.
//!
//! Files are opened first and the checks run on the open handle's metadata, so the bytes read
//! are those of the file that was checked.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::error::ConfigError;

/// The effective user id of this process.
pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// What is wrong with a file's or directory's ownership or mode, if anything.
/// Returns `(problem, fix command)`.
pub(crate) fn problem(
    path: &Path,
    is_dir: bool,
    mode: u32,
    owner: u32,
    euid: u32,
) -> Option<(String, String)> {
    let mode = mode & 0o7777;
    let q = shell_quote(path);
    if owner != euid {
        return Some((
            format!("is owned by uid {owner}, not by you (uid {euid})"),
            format!("sudo chown {euid} {q}   (or copy it to a file you own)"),
        ));
    }
    if mode & 0o077 != 0 {
        let who = if is_dir {
            if mode & 0o022 != 0 {
                "writable"
            } else {
                "accessible"
            }
        } else if mode & 0o044 != 0 {
            "readable"
        } else {
            "accessible"
        };
        let fix = if is_dir { "chmod 700" } else { "chmod 600" };
        return Some((
            format!("is {who} by group or others (mode {mode:04o})"),
            format!("{fix} {q}"),
        ));
    }
    None
}

/// Checks a secret file's own metadata.
pub(crate) fn check_file(
    what: &'static str,
    path: &Path,
    meta: &Metadata,
) -> Result<(), ConfigError> {
    if !meta.is_file() {
        return Err(ConfigError::invalid(
            format!("{what} {}", path.display()),
            "is not a regular file",
        ));
    }
    match problem(path, false, meta.mode(), meta.uid(), euid()) {
        None => Ok(()),
        Some((problem, fix)) => Err(ConfigError::InsecurePermissions {
            what,
            path: path.to_owned(),
            problem,
            fix,
        }),
    }
}

/// Checks the directory (or directories, through a symlink) that hold a secret file.
pub(crate) fn check_dirs(what: &'static str, path: &Path) -> Result<(), ConfigError> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        dirs.push(d.to_owned());
    }
    if let Ok(real) = std::fs::canonicalize(path)
        && let Some(d) = real.parent()
        && !dirs.iter().any(|x| x == d)
    {
        dirs.push(d.to_owned());
    }
    for dir in dirs {
        let meta = std::fs::metadata(&dir).map_err(|source| ConfigError::Io {
            what: "directory",
            path: dir.clone(),
            action: "inspect",
            source,
        })?;
        if let Some((problem, fix)) = problem(&dir, true, meta.mode(), meta.uid(), euid()) {
            return Err(ConfigError::InsecurePermissions {
                what: dir_what(what),
                path: dir,
                problem: format!("(which holds {}) {problem}", path.display()),
                fix,
            });
        }
    }
    Ok(())
}

fn dir_what(what: &'static str) -> &'static str {
    match what {
        "credentials file" => "credentials directory",
        "token file" => "token file directory",
        _ => "directory",
    }
}

/// The outcome of opening a secret file that may legitimately be absent.
pub(crate) enum SecretRead {
    /// The file's bytes, after the checks passed.
    Read(Vec<u8>),
    /// No such file.
    Missing,
    /// The file exists but this user may not open it.
    Denied,
}

/// Largest secret file we read (a token is ~60 bytes; credentials files are small).
const MAX_SECRET_FILE: u64 = 1 << 20;

/// Opens `path`, checks it and its directory, and reads it.
pub(crate) fn read_secret(what: &'static str, path: &Path) -> Result<SecretRead, ConfigError> {
    let io_err = |action: &'static str, source| ConfigError::Io {
        what,
        path: path.to_owned(),
        action,
        source,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SecretRead::Missing),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Ok(SecretRead::Denied);
        }
        Err(e) => return Err(io_err("open", e)),
    };
    let meta = file.metadata().map_err(|e| io_err("inspect", e))?;
    check_file(what, path, &meta)?;
    check_dirs(what, path)?;
    if meta.len() > MAX_SECRET_FILE {
        return Err(ConfigError::invalid(
            format!("{what} {}", path.display()),
            format!("is too large ({} bytes)", meta.len()),
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err("read", e))?;
    Ok(SecretRead::Read(bytes))
}

/// Quotes a path for a copy-and-paste shell command.
pub(crate) fn shell_quote(path: &Path) -> String {
    let s = path.display().to_string();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@%=~".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_matrix_for_files() {
        let p = Path::new("/h/.carbonblack/credentials.cbc");
        for ok in [0o600, 0o400, 0o100600] {
            assert_eq!(problem(p, false, ok, 7, 7), None, "{ok:o}");
        }
        for bad in [0o640, 0o644, 0o660, 0o604, 0o620, 0o601, 0o610] {
            let (msg, fix) = problem(p, false, bad, 7, 7).expect("refused");
            assert!(msg.contains(&format!("{:04o}", bad & 0o7777)), "{msg}");
            assert_eq!(fix, "chmod 600 /h/.carbonblack/credentials.cbc");
        }
        let (msg, _) = problem(p, false, 0o644, 7, 7).unwrap();
        assert_eq!(msg, "is readable by group or others (mode 0644)");
    }

    #[test]
    fn mode_matrix_for_dirs() {
        let d = Path::new("/h/.carbonblack");
        for ok in [0o700, 0o500] {
            assert_eq!(problem(d, true, ok, 7, 7), None);
        }
        for bad in [0o750, 0o755, 0o770, 0o777, 0o701] {
            let (_, fix) = problem(d, true, bad, 7, 7).expect("refused");
            assert_eq!(fix, "chmod 700 /h/.carbonblack");
        }
        assert!(
            problem(d, true, 0o777, 7, 7)
                .unwrap()
                .0
                .contains("writable")
        );
    }

    #[test]
    fn owner_must_be_euid() {
        let p = Path::new("/x/f");
        let (msg, fix) = problem(p, false, 0o600, 65534, 1000).unwrap();
        assert!(
            msg.contains("uid 65534") && msg.contains("uid 1000"),
            "{msg}"
        );
        assert!(fix.starts_with("sudo chown 1000 /x/f"), "{fix}");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
        assert_eq!(shell_quote(Path::new("/a/b.cbc")), "/a/b.cbc");
    }
}
