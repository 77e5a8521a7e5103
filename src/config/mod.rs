//! Configuration and credentials.
//!
//! # Where socdeck gets Carbon Black Cloud credentials
//!
//! socdeck takes the **first** of these sources that is present, and only that one:
//!
//! 1. **Command line**: `--profile NAME` uses profile `[NAME]` of the CBC SDK's
//!    `credentials.cbc` (an error if there is no such profile; the message lists the profiles
//!    that exist and the files searched).
//! 2. **Environment**: `CBC_URL` and `CBC_TOKEN` (with `CBC_ORG_KEY`, which is then required).
//!    The SDK's older names `CBAPI_URL`, `CBAPI_TOKEN`, `CBAPI_ORG_KEY` are accepted too.
//!    One org.
//! 3. **Files**: the `[[org]]` entries of the socdeck config file (several orgs), which is
//!    `--config PATH`, else `$XDG_CONFIG_HOME/socdeck/config.toml`, else
//!    `~/.config/socdeck/config.toml`. If it has no `[[org]]`, profile `[default]` of
//!    `credentials.cbc`.
//!
//! `--ca-file PATH` (a PEM bundle of extra trusted CA certificates) applies on top of whichever
//! source is used, replacing `ssl_cert_file` / `ca_file`. There is deliberately no `--token`
//! option: a token on the command line is visible to every user through `ps`.
//!
//! `credentials.cbc` is found where the CBC SDK looks, highest priority first:
//! `./.carbonblack/credentials.cbc`, `./.carbonblack/credentials.psc`,
//! `~/.carbonblack/credentials.cbc`, `~/.carbonblack/credentials.psc`,
//! `/etc/carbonblack/credentials.cbc`, `/etc/carbonblack/credentials.psc`. Like the SDK, socdeck
//! reads all of them that exist and a key in a higher-priority file overrides the same key of
//! the same profile in a lower one. Keys used: `url`, `token`, `org_key`, `ssl_cert_file`;
//! `ssl_verify`, `ssl_verify_hostname`, `ssl_force_tls_1_2`, `ignore_system_proxy`, `proxy`,
//! `integration`, `default_timeout` are accepted (`proxy` is ignored with a warning).
//!
//! Security rules:
//!
//! * Every file that holds a token (each `credentials.cbc`/`.psc` read, a `token_file`, a
//!   config file with an inline `token`) must be owned by you and readable by nobody else
//!   (mode 0600 or 0400), in a directory owned by you that nobody else can enter or change
//!   (0700 or 0500). Otherwise socdeck stops and prints the `chmod` that fixes it.
//! * URLs must be `https://`. TLS verification is always on: `ssl_verify=false`,
//!   `ssl_verify_hostname=false` or `CBC_SSL_VERIFY=false` are refused; trust a private CA with
//!   `ssl_cert_file`, `ca_file` or `--ca-file` instead.
//! * Tokens are held only as [`crate::cbc::Token`], which never prints; no error message
//!   contains a token.

mod check;
mod credentials;
mod env;
mod error;
mod file;
mod ini;
pub mod keymap;
mod paths;
pub(crate) mod perms;
pub mod rules;
pub mod theme;

use std::path::{Path, PathBuf};

pub use check::{CheckReport, ConfigWarning, check_config, config_dir, no_color};
pub use env::Env;
pub use error::ConfigError;
pub use file::{
    CLOSURE_REASONS, Config, DEFAULT_TIMEZONE, InvestigateConfig, LoadedConfig, NotifyConfig,
    OrgConfig, PollConfig, QuarantineConfig, SlaConfig, TriageConfig, UiConfig, load_config,
};
pub use keymap::{KeyBinding, Keymap, embedded_keymap_names, load_keymap};
pub use paths::{config_path, credentials_search_path, data_dir};
pub use theme::{Slot, Theme, embedded_theme_names, load_theme, parse_color, parse_modifier};

use crate::cbc::Token;
use credentials::CredStore;
use perms::SecretRead;

/// The credential options of the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialArgs {
    /// `--config PATH`: the socdeck config file.
    pub config: Option<PathBuf>,
    /// `--profile NAME`: a `credentials.cbc` profile.
    pub profile: Option<String>,
    /// `--ca-file PATH`: extra trusted CA certificates (PEM) for every org.
    pub ca_file: Option<PathBuf>,
}

/// One CBC org to connect to, ready for the API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgTarget {
    /// Display name (customer).
    pub name: String,
    /// `https://host[:port][/path]`, without a trailing slash.
    pub url: String,
    pub org_key: String,
    pub token: Token,
    /// PEM bundle of extra trusted CAs (checked to exist and hold a certificate).
    pub ca_file: Option<PathBuf>,
    /// IANA time zone of the org's business calendar (default `Asia/Tokyo`).
    pub timezone: String,
    /// Where the credentials came from, for humans, e.g. `env CBC_URL/CBC_TOKEN`,
    /// `profile [default] in /home/x/.carbonblack/credentials.cbc`, or
    /// `config /home/x/.config/socdeck/config.toml [[org]] #2 (Acme)`.
    pub source: String,
}

/// The outcome of [`resolve_orgs`].
#[derive(Debug, Clone)]
pub struct Resolved {
    /// At least one org.
    pub orgs: Vec<OrgTarget>,
    /// The settings (defaults where the file has none, `analyst` defaulted from `$USER`).
    pub config: Config,
    /// The config file consulted (it may not exist).
    pub config_path: PathBuf,
    /// Non-fatal findings to show the user (unknown keys, ignored sources, ...).
    pub warnings: Vec<String>,
}

/// A value and where it came from (`path:line:col ...` or `environment CBC_URL`).
#[derive(Debug, Clone)]
pub(crate) struct Sourced<T> {
    pub value: T,
    pub origin: String,
}

/// An org before URL, org key and CA file are checked.
#[derive(Debug)]
pub(crate) struct Candidate {
    pub name: String,
    pub url: Sourced<String>,
    pub org_key: Sourced<String>,
    pub token: Token,
    pub ca_file: Option<Sourced<PathBuf>>,
    pub timezone: Option<String>,
    pub source: String,
}

/// Finds the orgs to connect to, following the precedence in the module documentation.
pub fn resolve_orgs(args: &CredentialArgs, env: &Env) -> Result<Resolved, ConfigError> {
    let loaded = load_config(env, args.config.as_deref())?;
    let mut warnings = loaded.warnings.clone();
    let n_config_orgs = loaded.config.orgs.len();
    let ignored_config = |warnings: &mut Vec<String>, why: &str| {
        if n_config_orgs > 0 {
            warnings.push(format!(
                "{} [[org]] entries in {} ignored because {why}",
                n_config_orgs,
                loaded.path.display()
            ));
        }
    };

    let candidates: Vec<Candidate> = if let Some(profile) = &args.profile {
        let store = CredStore::load(env, &mut warnings)?;
        let c = store.candidate(env, profile, "named by --profile", &mut warnings)?;
        if env_has_credentials(env) {
            warnings.push(format!(
                "CBC_URL/CBC_TOKEN in the environment ignored because --profile {profile} was given"
            ));
        }
        ignored_config(&mut warnings, "--profile was given");
        vec![c]
    } else if let Some(c) = credentials::env_candidate(env, &mut warnings)? {
        ignored_config(
            &mut warnings,
            "CBC_URL/CBC_TOKEN are set in the environment",
        );
        vec![c]
    } else if n_config_orgs > 0 {
        let mut store: Option<CredStore> = None;
        let mut out = Vec::with_capacity(n_config_orgs);
        for i in 0..n_config_orgs {
            out.push(config_candidate(
                &loaded,
                i,
                env,
                &mut store,
                &mut warnings,
            )?);
        }
        out
    } else {
        let store = CredStore::load(env, &mut warnings)?;
        if !store.has_profile("default") {
            return Err(ConfigError::NoOrgs {
                config_path: loaded.path.clone(),
                searched: store.searched.clone(),
                available: store.profile_names().to_vec(),
            });
        }
        vec![store.candidate(
            env,
            "default",
            "the default when the config has no [[org]]",
            &mut warnings,
        )?]
    };

    let cli_ca = args.ca_file.as_ref().map(|p| Sourced {
        value: paths::absolute(env, p),
        origin: "--ca-file".to_owned(),
    });
    let mut orgs: Vec<OrgTarget> = Vec::with_capacity(candidates.len());
    let mut checked_ca: Vec<PathBuf> = Vec::new();
    for c in candidates {
        let org = finish(c, cli_ca.as_ref(), &mut checked_ca)?;
        if let Some(prev) = orgs
            .iter()
            .find(|o| o.url == org.url && o.org_key == org.org_key)
        {
            warnings.push(format!(
                "{} and {} point at the same org ({} at {})",
                prev.source, org.source, org.org_key, org.url
            ));
        }
        orgs.push(org);
    }
    Ok(Resolved {
        orgs,
        config: loaded.config,
        config_path: loaded.path,
        warnings,
    })
}

fn env_has_credentials(env: &Env) -> bool {
    (env.var("CBC_URL").is_some() || env.var("CBAPI_URL").is_some())
        && (env.var("CBC_TOKEN").is_some() || env.var("CBAPI_TOKEN").is_some())
}

/// Org `i` of the config file as a candidate: token from `token_file`, `profile` or inline.
fn config_candidate(
    loaded: &LoadedConfig,
    i: usize,
    env: &Env,
    store: &mut Option<CredStore>,
    warnings: &mut Vec<String>,
) -> Result<Candidate, ConfigError> {
    let org = &loaded.config.orgs[i];
    let base = loaded.path.parent().unwrap_or(Path::new("/"));
    let origin = |key: &str| loaded.org_origin(i, Some(key));
    let ca_file = org.ca_file.as_ref().map(|p| Sourced {
        value: paths::expand(env, p, base),
        origin: origin("ca_file"),
    });

    if let Some(profile) = &org.profile {
        if store.is_none() {
            *store = Some(CredStore::load(env, warnings)?);
        }
        let store = store.as_ref().expect("loaded above");
        let wanted_by = format!("named by {}", origin("profile"));
        let mut c = store.candidate(env, profile, &wanted_by, warnings)?;
        c.name = org.name.clone().unwrap_or_else(|| profile.clone());
        if ca_file.is_some() {
            c.ca_file = ca_file;
        }
        c.timezone = org.timezone.clone();
        c.source = format!("{} via {}", loaded.org_source(i), c.source);
        return Ok(c);
    }

    // `validate` guaranteed url and org_key here.
    let url = Sourced {
        value: org.url.clone().unwrap_or_default(),
        origin: origin("url"),
    };
    let org_key = Sourced {
        value: org.org_key.clone().unwrap_or_default(),
        origin: origin("org_key"),
    };
    let token = if let Some(t) = &org.token {
        t.clone()
    } else if let Some(tf) = &org.token_file {
        let path = paths::expand(env, tf, base);
        let not_read = |why: &str| {
            ConfigError::invalid_hint(
                origin("token_file"),
                format!("token file {} {why}", path.display()),
                "create it with only the token in it, then: chmod 600 FILE",
            )
        };
        let bytes = match perms::read_secret("token file", &path)? {
            SecretRead::Read(b) => b,
            SecretRead::Missing => return Err(not_read("does not exist")),
            SecretRead::Denied => return Err(not_read("cannot be opened (permission denied)")),
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| not_read("is not UTF-8 text"))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Token::new(text).map_err(|e| {
            ConfigError::invalid(
                origin("token_file"),
                format!("token file {}: {e}", path.display()),
            )
        })?
    } else {
        // `validate` guarantees one token source.
        return Err(ConfigError::invalid(
            loaded.org_origin(i, None),
            "has no token source",
        ));
    };
    Ok(Candidate {
        name: org.name.clone().unwrap_or_else(|| org_key.value.clone()),
        url,
        org_key,
        token,
        ca_file,
        timezone: org.timezone.clone(),
        source: loaded.org_source(i),
    })
}

/// Checks URL, org key and CA file, and applies `--ca-file`.
fn finish(
    c: Candidate,
    cli_ca: Option<&Sourced<PathBuf>>,
    checked_ca: &mut Vec<PathBuf>,
) -> Result<OrgTarget, ConfigError> {
    let url = normalize_url(&c.url.value).map_err(|(message, hint)| ConfigError::Invalid {
        origin: c.url.origin.clone(),
        message,
        hint: Some(hint),
    })?;
    let org_key = c.org_key.value.trim();
    if org_key.is_empty() || !org_key.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        return Err(ConfigError::invalid_hint(
            c.org_key.origin.clone(),
            "org_key must be letters and digits only",
            "copy the org key exactly as the CBC console shows it",
        ));
    }
    let ca = cli_ca.or(c.ca_file.as_ref());
    if let Some(ca) = ca
        && !checked_ca.contains(&ca.value)
    {
        check_ca_file(ca)?;
        checked_ca.push(ca.value.clone());
    }
    let timezone = c
        .timezone
        .clone()
        .unwrap_or_else(|| DEFAULT_TIMEZONE.to_owned());
    Ok(OrgTarget {
        name: c.name,
        url,
        org_key: org_key.to_owned(),
        token: c.token,
        ca_file: ca.map(|s| s.value.clone()),
        timezone,
        source: c.source,
    })
}

/// `https://host[:port][/path]` without trailing slashes; `Err((message, hint))` otherwise.
fn normalize_url(raw: &str) -> Result<String, (String, String)> {
    let s = raw.trim();
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("http://") {
        return Err((
            format!("url {s} uses http://; socdeck talks to Carbon Black Cloud over HTTPS only"),
            "use the https:// URL of your CBC console".to_owned(),
        ));
    }
    let Some(rest) = lower
        .starts_with("https://")
        .then(|| &s["https://".len()..])
    else {
        return Err((
            "url must start with https://".to_owned(),
            "e.g. url = https://defense.conferdeploy.net".to_owned(),
        ));
    };
    let rest = rest.trim_end_matches('/');
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty()
        || host.contains('@')
        || rest.contains(['?', '#'])
        || rest.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err((
            "url is not a plain https://host[:port] URL (no user, query or spaces)".to_owned(),
            "e.g. url = https://defense.conferdeploy.net".to_owned(),
        ));
    }
    Ok(format!("https://{rest}"))
}

/// The CA file must exist and hold at least one PEM certificate.
fn check_ca_file(ca: &Sourced<PathBuf>) -> Result<(), ConfigError> {
    let path = &ca.value;
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigError::invalid_hint(
            ca.origin.clone(),
            format!("CA file {}: {e}", path.display()),
            "point it at a PEM file of CA certificates",
        )
    })?;
    let n = rustls_pemfile::certs(&mut bytes.as_slice())
        .filter(|c| c.is_ok())
        .count();
    if n == 0 {
        return Err(ConfigError::invalid_hint(
            ca.origin.clone(),
            format!("CA file {} holds no PEM certificate", path.display()),
            "it must contain -----BEGIN CERTIFICATE----- blocks",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            normalize_url(" https://defense.conferdeploy.net/ ").unwrap(),
            "https://defense.conferdeploy.net"
        );
        assert_eq!(
            normalize_url("HTTPS://h:8443/api//").unwrap(),
            "https://h:8443/api"
        );
        assert!(normalize_url("http://h").unwrap_err().0.contains("http://"));
        assert!(normalize_url("h.example").is_err());
        assert!(normalize_url("https://").is_err());
        assert!(normalize_url("https://u:p@h").is_err());
        assert!(normalize_url("https://h/?x=1").is_err());
        assert!(normalize_url("https://h x").is_err());
    }
}
