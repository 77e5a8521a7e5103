//! Configuration errors. Every message names where the problem is (file and line, or the
//! environment variable) and how to fix it. No variant ever carries a token value: messages are
//! built from names, paths, modes and positions only.

use std::path::PathBuf;

/// Why configuration or credentials could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be opened or read.
    #[error("{what} {}: cannot {action}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// A file is not valid TOML / INI. `line` and `column` are 1-based.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    /// A value is missing or wrong. `origin` says where, e.g.
    /// `/home/a/.config/socdeck/config.toml:12:7 [[org]] #2 (Acme)` or `environment CBC_URL`.
    #[error("{origin}: {message}{}", hint_suffix(hint))]
    Invalid {
        origin: String,
        message: String,
        hint: Option<String>,
    },

    /// A file holding a secret (or its directory) is open to other users or owned by someone
    /// else. `fix` is a shell command.
    #[error("{what} {} {problem}; fix with: {fix}", path.display())]
    InsecurePermissions {
        what: &'static str,
        path: PathBuf,
        problem: String,
        fix: String,
    },

    /// A source asked to turn TLS certificate or hostname verification off.
    #[error(
        "{origin}: {setting} is not supported: socdeck always verifies TLS certificates and host names. \
         To trust a private or self-signed certificate authority, point ssl_cert_file (credentials.cbc), \
         ca_file (socdeck config) or --ca-file at its PEM file, and remove {setting}"
    )]
    TlsVerificationDisabled { origin: String, setting: String },

    /// `--profile NAME` (or `profile = "NAME"` in the config) names no profile.
    /// `wanted_by` says who asked: `--profile` or the config entry.
    #[error(
        "profile [{profile}] ({wanted_by}) not found in credentials.cbc; {}; searched: {}",
        available_text(available),
        paths_text(searched)
    )]
    ProfileNotFound {
        profile: String,
        wanted_by: String,
        available: Vec<String>,
        searched: Vec<PathBuf>,
    },

    /// No source configured any org.
    #[error(
        "no Carbon Black Cloud org is configured. Use one of: \
         (1) --profile NAME for a profile in ~/.carbonblack/credentials.cbc; \
         (2) the environment variables CBC_URL, CBC_TOKEN and CBC_ORG_KEY; \
         (3) [[org]] entries in {} (or a [default] profile in credentials.cbc). \
         Try `socdeck --demo` to run without credentials. (credentials.cbc searched: {}{})",
        config_path.display(),
        paths_text(searched),
        no_default_text(available)
    )]
    NoOrgs {
        config_path: PathBuf,
        searched: Vec<PathBuf>,
        /// Profiles that exist (none of them is `[default]`).
        available: Vec<String>,
    },

    /// Neither `$HOME` nor the password database gives a home directory.
    #[error(
        "cannot find your home directory to locate {what}: set HOME (or {xdg_var}), or pass the path explicitly"
    )]
    NoHome {
        what: &'static str,
        xdg_var: &'static str,
    },
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!(" ({h})"),
        None => String::new(),
    }
}

fn available_text(available: &[String]) -> String {
    if available.is_empty() {
        "no profiles are defined".to_owned()
    } else {
        let names: Vec<String> = available.iter().map(|n| format!("[{n}]")).collect();
        format!("available profiles: {}", names.join(", "))
    }
}

fn no_default_text(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        format!(
            "; it has no [default] profile but has {}: pass --profile NAME",
            available_text(available).trim_start_matches("available ")
        )
    }
}

fn paths_text(paths: &[PathBuf]) -> String {
    let v: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    v.join(", ")
}

impl ConfigError {
    pub(crate) fn invalid(origin: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            origin: origin.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn invalid_hint(
        origin: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            origin: origin.into(),
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}
