//! The socdeck config file (TOML): settings with defaults for everything, and `[[org]]` entries.
//!
//! ```toml
//! analyst = "yamada"              # default: $USER
//! read_only = false
//! rules_file = "rules.toml"       # customer rules; default: rules.toml next to this file
//! data_dir = "~/.local/share/socdeck"  # journal; default: $XDG_DATA_HOME/socdeck
//!
//! [sla]
//! warning_min = 20                # minutes left when the countdown turns "warning"
//! critical_min = 10               # ... and "critical"
//! first_report_min = 60           # first-report deadline after an alert arrives
//!
//! [poll]
//! interval_s = 15
//! overlap_s = 120
//!
//! [ui]
//! theme = "default"               # default, light, high-contrast, mono, or themes/NAME.toml
//! keymap = "default"              # default or vim; keymap.toml next to this file overrides keys
//!
//! [notify]
//! desktop = true                  # desktop notifications (where there is a D-Bus session)
//! bell = true                     # terminal bell on new high-level alerts
//!
//! [triage]
//! high_min = 8                    # CBC severity from which High is suggested
//! medium_min = 5                  # ... and Medium (below: Low)
//! low_closure_reason = "NO_REASON"                    # CBC closure reason for Low
//! fp_closure_reason = "RESOLVED_BENIGN_KNOWN_GOOD"    # ... and for False positive
//!
//! [investigate]
//! lateral_window_h = 24           # lateral movement: hours either side of the alert (1..=720)
//!
//! [quarantine]
//! checkin_timeout_s = 900         # wait this long for the sensor to check in, then "timed out"
//!
//! [[org]]
//! name = "Acme"
//! url = "https://defense.conferdeploy.net"
//! org_key = "ABCD1234"
//! token_file = "~/.config/socdeck/acme.token"   # 0600, owned by you
//! ca_file = "/etc/ssl/acme-proxy-ca.pem"        # optional
//! timezone = "Asia/Tokyo"                       # optional (this is the default)
//!
//! [[org]]
//! name = "Globex"
//! profile = "globex"              # url, token and org_key from credentials.cbc [globex]
//! ```
//!
//! Each `[[org]]` has exactly one of `token_file`, `profile` or `token` (inline; allowed only
//! when the config file itself is 0600/0400 in a 0700/0500 directory owned by you).
//!
//! Unknown keys are not errors (later versions add sections) but are reported as warnings.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use toml::de::{DeTable, DeValue};

use super::env::Env;
use super::error::ConfigError;
use super::paths;
use super::perms;
use crate::cbc::Token;

/// The default time zone of an org's business calendar.
pub const DEFAULT_TIMEZONE: &str = "Asia/Tokyo";

/// socdeck's settings. Every field has a default, so an absent file is a valid config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Who is at the console (recorded in notes and the audit log). Default: `$USER`.
    pub analyst: Option<String>,
    /// Look but never act (shift-handover reviews).
    pub read_only: bool,
    pub sla: SlaConfig,
    pub poll: PollConfig,
    pub ui: UiConfig,
    pub notify: NotifyConfig,
    /// The customer rules file (`~/` and relative paths as for `token_file`). Default:
    /// `rules.toml` next to the config file. See [`Config::rules_path`].
    pub rules_file: Option<String>,
    /// Where the journal lives. Default: `$XDG_DATA_HOME/socdeck`, else
    /// `~/.local/share/socdeck`. See [`Config::data_dir`].
    pub data_dir: Option<String>,
    pub triage: TriageConfig,
    pub investigate: InvestigateConfig,
    pub quarantine: QuarantineConfig,
    pub smtp: SmtpSection,
    /// The `[[org]]` entries, in file order.
    #[serde(rename = "org")]
    pub orgs: Vec<OrgConfig>,
}

/// Top-level keys this version understands. Add new sections (`theme`, `keymap`, `notify`,
/// `rules_file`, ...) here when adding them to [`Config`], or they are reported as unknown.
const TOP_KEYS: &[&str] = &[
    "analyst",
    "read_only",
    "sla",
    "poll",
    "ui",
    "notify",
    "rules_file",
    "data_dir",
    "triage",
    "investigate",
    "quarantine",
    "smtp",
    "org",
];
const SLA_KEYS: &[&str] = &["warning_min", "critical_min", "first_report_min"];
const POLL_KEYS: &[&str] = &["interval_s", "overlap_s"];
const UI_KEYS: &[&str] = &["theme", "keymap", "second_report_column"];
const NOTIFY_KEYS: &[&str] = &["desktop", "bell"];
const TRIAGE_KEYS: &[&str] = &[
    "high_min",
    "medium_min",
    "low_closure_reason",
    "fp_closure_reason",
];
const INVESTIGATE_KEYS: &[&str] = &["lateral_window_h"];
const QUARANTINE_KEYS: &[&str] = &["checkin_timeout_s"];
const SMTP_KEYS: &[&str] = &[
    "host",
    "port",
    "tls",
    "from",
    "username",
    "password_env",
    "password_file",
    "ca_file",
    "timeout_s",
];

/// The closure reasons CBC accepts in an alert workflow change.
pub const CLOSURE_REASONS: &[&str] = &[
    "NO_REASON",
    "RESOLVED",
    "RESOLVED_BENIGN_KNOWN_GOOD",
    "DUPLICATE_CLEANUP",
    "OTHER",
];
const ORG_KEYS: &[&str] = &[
    "name",
    "url",
    "org_key",
    "token_file",
    "profile",
    "token",
    "ca_file",
    "timezone",
];

/// SLA clock thresholds, in minutes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SlaConfig {
    pub warning_min: u32,
    pub critical_min: u32,
    pub first_report_min: u32,
}

impl Default for SlaConfig {
    fn default() -> Self {
        SlaConfig {
            warning_min: 20,
            critical_min: 10,
            first_report_min: 60,
        }
    }
}

/// Alert polling, in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PollConfig {
    pub interval_s: u64,
    pub overlap_s: u64,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            interval_s: 15,
            overlap_s: 120,
        }
    }
}

/// `[ui]`: look and keys. `None` means `"default"` (see [`UiConfig::theme_name`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct UiConfig {
    /// A built-in theme (`default`, `light`, `high-contrast`, `mono`) or `themes/NAME.toml` in
    /// the config directory. `--theme` overrides it.
    pub theme: Option<String>,
    /// A built-in keymap (`default`, `vim`) or `keymaps/NAME.toml` in the config directory.
    pub keymap: Option<String>,
    /// Show the second report's deadline as a queue column.
    pub second_report_column: bool,
}

impl UiConfig {
    /// The theme to load: the configured one, else `"default"`.
    pub fn theme_name(&self) -> &str {
        self.theme.as_deref().unwrap_or("default")
    }

    /// The keymap to load: the configured one, else `"default"`.
    pub fn keymap_name(&self) -> &str {
        self.keymap.as_deref().unwrap_or("default")
    }
}

/// `[notify]`: how new alerts get attention.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct NotifyConfig {
    /// Desktop notifications (needs a D-Bus session; ignored where there is none).
    pub desktop: bool,
    /// The terminal bell.
    pub bell: bool,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            desktop: true,
            bell: true,
        }
    }
}

/// `[triage]`: which CBC severities suggest which level, and how Low and False positive close
/// the alert in CBC.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TriageConfig {
    /// Lowest CBC severity (1–10) suggesting High.
    pub high_min: u8,
    /// Lowest CBC severity suggesting Medium (at most `high_min`); below it, Low.
    pub medium_min: u8,
    /// CBC closure reason written when an alert is triaged Low (one of [`CLOSURE_REASONS`]).
    pub low_closure_reason: String,
    /// CBC closure reason written for False positive (with determination `FALSE_POSITIVE`).
    pub fp_closure_reason: String,
}

impl Default for TriageConfig {
    fn default() -> Self {
        TriageConfig {
            high_min: 8,
            medium_min: 5,
            low_closure_reason: "NO_REASON".to_owned(),
            fp_closure_reason: "RESOLVED_BENIGN_KNOWN_GOOD".to_owned(),
        }
    }
}

/// `[investigate]`: the drill-down panes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct InvestigateConfig {
    /// Lateral movement looks this many hours before and after the alert (1..=720).
    pub lateral_window_h: u32,
}

impl Default for InvestigateConfig {
    fn default() -> Self {
        InvestigateConfig {
            lateral_window_h: 24,
        }
    }
}

/// `[quarantine]`: device isolation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct QuarantineConfig {
    /// Seconds to wait for the sensor to check in and report the new state before the request
    /// shows as timed out (the request itself stays queued in CBC).
    pub checkin_timeout_s: u64,
}

impl Default for QuarantineConfig {
    fn default() -> Self {
        QuarantineConfig {
            checkin_timeout_s: 900,
        }
    }
}

/// `[smtp]`: where email reports go out. The password never sits in this file: it comes from
/// an environment variable (`password_env`) or a 0600 file (`password_file`).
///
/// ```toml
/// [smtp]
/// host = "smtp.example.co.jp"
/// port = 587                     # default: 587 for starttls, 465 for implicit
/// tls = "starttls"               # "starttls" | "implicit" ("none": loopback relays only)
/// from = "SOC <soc@example.co.jp>"
/// username = "soc"
/// password_env = "SOCDECK_SMTP_PASSWORD"   # or password_file = "~/.config/socdeck/smtp.pw"
/// ca_file = "/etc/ssl/private-ca.pem"       # optional extra trusted CA
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct SmtpSection {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<String>,
    pub from: Option<String>,
    pub username: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
    pub ca_file: Option<String>,
    pub timeout_s: Option<u64>,
}

impl SmtpSection {
    /// The SMTP settings, `None` when no `host` is set (email cannot be sent then).
    pub fn to_smtp_config(
        &self,
        env: &Env,
        config_path: &Path,
    ) -> Result<Option<crate::deliver::SmtpConfig>, String> {
        use crate::deliver::{Secret, SmtpConfig, SmtpTls};
        let Some(host) = self.host.clone().filter(|h| !h.trim().is_empty()) else {
            return Ok(None);
        };
        let tls = match self.tls.as_deref().unwrap_or("starttls") {
            "starttls" => SmtpTls::StartTls,
            "implicit" => SmtpTls::Implicit,
            "none" => SmtpTls::None,
            other => {
                return Err(format!(
                    "tls = {other:?}: use \"starttls\", \"implicit\" or \"none\""
                ));
            }
        };
        let from = self
            .from
            .clone()
            .ok_or("`from` is required (e.g. \"SOC <soc@example.co.jp>\")")?;
        let base = config_path.parent().unwrap_or(Path::new("/"));
        let password = match (&self.password_env, &self.password_file) {
            (Some(_), Some(_)) => return Err("give password_env or password_file, not both".into()),
            (Some(var), None) => Some(Secret::from_env(var).map_err(|e| e.to_string())?),
            (None, Some(f)) => Some(
                Secret::from_file(&paths::expand(env, Path::new(f), base))
                    .map_err(|e| e.to_string())?,
            ),
            (None, None) => None,
        };
        let ca_pem = match &self.ca_file {
            Some(f) => {
                let p = paths::expand(env, Path::new(f), base);
                Some(std::fs::read(&p).map_err(|e| format!("ca_file {}: {e}", p.display()))?)
            }
            None => None,
        };
        let port = self.port.unwrap_or(match tls {
            SmtpTls::Implicit => 465,
            _ => 587,
        });
        Ok(Some(SmtpConfig {
            host,
            port,
            tls,
            from,
            username: self.username.clone(),
            password,
            ca_pem,
            timeout: std::time::Duration::from_secs(self.timeout_s.unwrap_or(30).clamp(1, 600)),
        }))
    }
}

/// The longest `checkin_timeout_s` accepted: a week. More is almost certainly milliseconds
/// typed as seconds.
const MAX_CHECKIN_TIMEOUT_S: u64 = 7 * 24 * 3600;

impl Config {
    /// The customer rules file: `rules_file` with `~/` expanded and a relative path taken
    /// against the config file's directory; by default `rules.toml` there.
    pub fn rules_path(&self, env: &Env, config_path: &Path) -> PathBuf {
        let base = config_path.parent().unwrap_or(Path::new("/"));
        match &self.rules_file {
            Some(p) => paths::expand(env, Path::new(p), base),
            None => base.join("rules.toml"),
        }
    }

    /// The data directory (journal): `data_dir` expanded like [`Config::rules_path`], else
    /// `$XDG_DATA_HOME/socdeck`, else `~/.local/share/socdeck`.
    pub fn data_dir(&self, env: &Env, config_path: &Path) -> Result<PathBuf, ConfigError> {
        match &self.data_dir {
            Some(p) => {
                let base = config_path.parent().unwrap_or(Path::new("/"));
                Ok(paths::expand(env, Path::new(p), base))
            }
            None => paths::data_dir(env),
        }
    }
}

/// One `[[org]]` entry as written. [`super::resolve_orgs`] turns it into an
/// [`super::OrgTarget`]. Paths are as written (`~/` and relative paths are resolved against
/// home and the config file's directory when used).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct OrgConfig {
    /// Display name (the customer). Default: the profile name, else the org key.
    pub name: Option<String>,
    pub url: Option<String>,
    pub org_key: Option<String>,
    /// A file that contains only the token.
    pub token_file: Option<PathBuf>,
    /// A `credentials.cbc` profile supplying url, token and org_key.
    pub profile: Option<String>,
    /// Inline token (redacted in `Debug`).
    #[serde(deserialize_with = "de_token")]
    pub token: Option<Token>,
    /// PEM file of extra trusted CA certificates.
    pub ca_file: Option<PathBuf>,
    /// IANA time zone of the customer's business calendar. Default: `Asia/Tokyo`.
    pub timezone: Option<String>,
}

fn de_token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Token>, D::Error> {
    let s = String::deserialize(d)?;
    Token::new(s).map(Some).map_err(serde::de::Error::custom)
}

/// A loaded config file with what is needed to report problems by line.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// The config file path (whether or not it exists).
    pub path: PathBuf,
    /// False when the default path has no file (then `config` is all defaults).
    pub found: bool,
    /// Unknown keys and similar non-fatal findings, each naming file and line.
    pub warnings: Vec<String>,
    org_locs: Vec<OrgLocs>,
}

#[derive(Debug, Clone, Default)]
struct OrgLocs {
    /// `path:line:col` of the `[[org]]` table.
    table: String,
    /// `path:line:col` of each key's value.
    keys: BTreeMap<String, String>,
}

impl LoadedConfig {
    /// Where org `index` (0-based) or one of its keys is, for messages:
    /// `/p/config.toml:12:7 [[org]] #2 (Acme)`.
    pub(crate) fn org_origin(&self, index: usize, key: Option<&str>) -> String {
        let locs = self.org_locs.get(index);
        let at = locs
            .and_then(|l| key.and_then(|k| l.keys.get(k)).or(Some(&l.table)))
            .cloned()
            .unwrap_or_else(|| self.path.display().to_string());
        let name = self.config.orgs.get(index).and_then(|o| {
            o.name
                .as_deref()
                .or(o.profile.as_deref())
                .or(o.org_key.as_deref())
        });
        match name {
            Some(n) => format!("{at} [[org]] #{} ({n})", index + 1),
            None => format!("{at} [[org]] #{}", index + 1),
        }
    }

    /// The source description used in [`super::OrgTarget::source`].
    pub(crate) fn org_source(&self, index: usize) -> String {
        let name = self.config.orgs.get(index).and_then(|o| o.name.as_deref());
        match name {
            Some(n) => format!(
                "config {} [[org]] #{} ({n})",
                self.path.display(),
                index + 1
            ),
            None => format!("config {} [[org]] #{}", self.path.display(), index + 1),
        }
    }
}

const MAX_CONFIG_FILE: u64 = 4 << 20;

/// Loads the socdeck config file (`--config` path or the default one). A missing default
/// file gives the defaults; a missing `--config` file is an error. If any `[[org]]` holds an
/// inline `token`, the file must pass the same permission checks as a credentials file.
pub fn load_config(env: &Env, cli_override: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
    let path = paths::config_path(env, cli_override)?;
    let io_err = |action: &'static str, source| ConfigError::Io {
        what: "config file",
        path: path.clone(),
        action,
        source,
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && cli_override.is_none() => {
            let config = Config {
                analyst: default_analyst(env),
                ..Config::default()
            };
            return Ok(LoadedConfig {
                config,
                path,
                found: false,
                warnings: Vec::new(),
                org_locs: Vec::new(),
            });
        }
        Err(e) => return Err(io_err("open", e)),
    };
    let meta = file.metadata().map_err(|e| io_err("inspect", e))?;
    if meta.is_dir() {
        return Err(ConfigError::invalid(
            format!("config file {}", path.display()),
            "is a directory",
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_FILE)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err("read", e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let (line, column) = line_col(&String::from_utf8_lossy(&e.as_bytes()[..at]), at);
        ConfigError::Syntax {
            path: path.clone(),
            line,
            column,
            message: "the file is not valid UTF-8 text".to_owned(),
        }
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);

    let toml_err = |e: toml::de::Error| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ConfigError::Syntax {
            path: path.clone(),
            line,
            column,
            message: redact_quoted(e.message().trim()),
        }
    };
    let doc = DeTable::parse(text).map_err(toml_err)?;
    let mut config: Config = toml::from_str(text).map_err(toml_err)?;

    let loc = |span: Range<usize>| {
        let (l, c) = line_col(text, span.start);
        format!("{}:{l}:{c}", path.display())
    };
    let mut warnings = Vec::new();
    let mut org_locs = Vec::new();
    let mut key_locs: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in doc.get_ref().iter() {
        let key: &str = k.get_ref();
        key_locs.insert(key.to_owned(), loc(v.span()));
        if !TOP_KEYS.contains(&key) {
            warnings.push(format!(
                "{}: unknown key `{key}` ignored (not a socdeck setting in this version)",
                loc(k.span())
            ));
            continue;
        }
        let known: &[&str] = match key {
            "sla" => SLA_KEYS,
            "poll" => POLL_KEYS,
            "ui" => UI_KEYS,
            "notify" => NOTIFY_KEYS,
            "triage" => TRIAGE_KEYS,
            "investigate" => INVESTIGATE_KEYS,
            "quarantine" => QUARANTINE_KEYS,
            "smtp" => SMTP_KEYS,
            _ => &[],
        };
        if let DeValue::Table(t) = v.get_ref() {
            for (sk, sv) in t.iter() {
                let sub: &str = sk.get_ref();
                key_locs.insert(format!("{key}.{sub}"), loc(sv.span()));
                if !known.contains(&sub) {
                    warnings.push(format!(
                        "{}: unknown key `{sub}` in [{key}] ignored",
                        loc(sk.span())
                    ));
                }
            }
        }
        if key == "org"
            && let DeValue::Array(arr) = v.get_ref()
        {
            for (i, item) in arr.iter().enumerate() {
                let mut locs = OrgLocs {
                    table: loc(item.span()),
                    keys: BTreeMap::new(),
                };
                if let DeValue::Table(t) = item.get_ref() {
                    for (ok, ov) in t.iter() {
                        let name: &str = ok.get_ref();
                        locs.keys.insert(name.to_owned(), loc(ov.span()));
                        if !ORG_KEYS.contains(&name) {
                            warnings.push(format!(
                                "{}: unknown key `{name}` in [[org]] #{} ignored",
                                loc(ok.span()),
                                i + 1
                            ));
                        }
                    }
                }
                org_locs.push(locs);
            }
        }
    }

    if config
        .analyst
        .as_deref()
        .is_none_or(|a| a.trim().is_empty())
    {
        config.analyst = default_analyst(env);
    }
    let loaded = LoadedConfig {
        config,
        path: path.clone(),
        found: true,
        warnings,
        org_locs,
    };

    // An inline token makes the config file a secret.
    if loaded.config.orgs.iter().any(|o| o.token.is_some()) {
        let hint = |e: ConfigError| match e {
            ConfigError::InsecurePermissions {
                what,
                path,
                problem,
                fix,
            } => ConfigError::InsecurePermissions {
                what,
                path,
                problem: format!("{problem}, and it holds an inline token"),
                fix: format!("{fix}   (or move the token into a token_file)"),
            },
            other => other,
        };
        perms::check_file("config file", &path, &meta).map_err(hint)?;
        perms::check_dirs("config file", &path).map_err(hint)?;
    }

    validate(&loaded, &key_locs)?;
    Ok(loaded)
}

fn default_analyst(env: &Env) -> Option<String> {
    env.var("USER").or_else(|| env.var("LOGNAME"))
}

/// Checks that need no I/O: thresholds, the one-token-source rule, names, time zones.
fn validate(loaded: &LoadedConfig, key_locs: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    let c = &loaded.config;
    let at = |key: &str| {
        key_locs
            .get(key)
            .cloned()
            .unwrap_or_else(|| loaded.path.display().to_string())
    };
    if c.sla.critical_min > c.sla.warning_min {
        return Err(ConfigError::invalid_hint(
            at("sla.critical_min"),
            format!(
                "[sla] critical_min ({}) is larger than warning_min ({})",
                c.sla.critical_min, c.sla.warning_min
            ),
            "critical must come after warning: critical_min <= warning_min",
        ));
    }
    if c.sla.first_report_min == 0 {
        return Err(ConfigError::invalid(
            at("sla.first_report_min"),
            "[sla] first_report_min must be at least 1",
        ));
    }
    if c.poll.interval_s == 0 {
        return Err(ConfigError::invalid(
            at("poll.interval_s"),
            "[poll] interval_s must be at least 1",
        ));
    }

    let t = &c.triage;
    if !(1..=10).contains(&t.high_min) || !(1..=10).contains(&t.medium_min) {
        let key = if (1..=10).contains(&t.high_min) {
            "triage.medium_min"
        } else {
            "triage.high_min"
        };
        return Err(ConfigError::invalid(
            at(key),
            format!(
                "[triage] {} must be a CBC severity from 1 to 10",
                key.trim_start_matches("triage.")
            ),
        ));
    }
    if t.medium_min > t.high_min {
        return Err(ConfigError::invalid_hint(
            at("triage.medium_min"),
            format!(
                "[triage] medium_min ({}) is larger than high_min ({})",
                t.medium_min, t.high_min
            ),
            "Medium must start below High: medium_min <= high_min",
        ));
    }
    for key in ["low_closure_reason", "fp_closure_reason"] {
        let v = if key == "low_closure_reason" {
            &t.low_closure_reason
        } else {
            &t.fp_closure_reason
        };
        if !CLOSURE_REASONS.contains(&v.as_str()) {
            return Err(ConfigError::invalid_hint(
                at(&format!("triage.{key}")),
                format!(
                    "[triage] {key} \"{}\" is not a CBC closure reason{}",
                    super::check::printable(v),
                    closest_reason(v)
                ),
                format!("use one of {}", CLOSURE_REASONS.join(", ")),
            ));
        }
    }
    if !(1..=720).contains(&c.investigate.lateral_window_h) {
        return Err(ConfigError::invalid(
            at("investigate.lateral_window_h"),
            "[investigate] lateral_window_h must be from 1 to 720 (hours)",
        ));
    }
    if !(1..=MAX_CHECKIN_TIMEOUT_S).contains(&c.quarantine.checkin_timeout_s) {
        return Err(ConfigError::invalid(
            at("quarantine.checkin_timeout_s"),
            format!(
                "[quarantine] checkin_timeout_s must be from 1 to {MAX_CHECKIN_TIMEOUT_S} (seconds)"
            ),
        ));
    }
    for key in ["rules_file", "data_dir"] {
        let v = if key == "rules_file" {
            &c.rules_file
        } else {
            &c.data_dir
        };
        if v.as_deref().is_some_and(|p| p.trim().is_empty()) {
            return Err(ConfigError::invalid_hint(
                at(key),
                format!("{key} is empty"),
                "remove the key to use the default",
            ));
        }
    }

    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (i, org) in c.orgs.iter().enumerate() {
        let origin = |key: Option<&str>| loaded.org_origin(i, key);
        let sources: Vec<&str> = [
            org.token_file.as_ref().map(|_| "token_file"),
            org.profile.as_ref().map(|_| "profile"),
            org.token.as_ref().map(|_| "token"),
        ]
        .into_iter()
        .flatten()
        .collect();
        match sources.len() {
            0 => {
                return Err(ConfigError::invalid_hint(
                    origin(None),
                    "has no token source",
                    "set exactly one of token_file = \"PATH\", profile = \"NAME\" (credentials.cbc) or token = \"...\"",
                ));
            }
            1 => {}
            _ => {
                return Err(ConfigError::invalid_hint(
                    origin(Some(sources[1])),
                    format!("sets {} together; use exactly one", sources.join(" and ")),
                    "keep one of token_file, profile or token",
                ));
            }
        }
        if let Some(p) = &org.profile {
            for key in ["url", "org_key"] {
                let set = if key == "url" { &org.url } else { &org.org_key };
                if set.is_some() {
                    return Err(ConfigError::invalid_hint(
                        origin(Some(key)),
                        format!(
                            "sets {key} and profile = \"{p}\"; the profile supplies url, token and org_key"
                        ),
                        format!("remove {key}, or remove profile and give token_file"),
                    ));
                }
            }
        } else {
            for key in ["url", "org_key"] {
                let set = if key == "url" { &org.url } else { &org.org_key };
                if set.as_deref().is_none_or(|v| v.trim().is_empty()) {
                    return Err(ConfigError::invalid_hint(
                        origin(None),
                        format!("has no {key}"),
                        if key == "url" {
                            "add url = \"https://<your CBC hostname>\""
                        } else {
                            "add org_key = \"<your org key>\""
                        },
                    ));
                }
            }
        }
        if let Some(tz) = &org.timezone {
            check_timezone(tz).map_err(|m| {
                ConfigError::invalid_hint(
                    origin(Some("timezone")),
                    m,
                    "use an IANA name such as \"Asia/Tokyo\"",
                )
            })?;
        }
        let name = org
            .name
            .clone()
            .or_else(|| org.profile.clone())
            .or_else(|| org.org_key.clone())
            .unwrap_or_default();
        if name.trim().is_empty() {
            return Err(ConfigError::invalid(origin(Some("name")), "name is empty"));
        }
        if let Some(first) = names.insert(name.clone(), i) {
            return Err(ConfigError::invalid_hint(
                origin(Some("name")),
                format!(
                    "the name \"{name}\" is already used by [[org]] #{}",
                    first + 1
                ),
                "give each org a distinct name",
            ));
        }
    }
    Ok(())
}

/// ` (did you mean `RESOLVED`?)` for a mistyped closure reason. `did_you_mean` compares in
/// lower case, so compare lower-case names and answer with the real one.
fn closest_reason(v: &str) -> String {
    let lower: Vec<String> = CLOSURE_REASONS
        .iter()
        .map(|r| r.to_ascii_lowercase())
        .collect();
    let hint = super::check::did_you_mean(v, lower.iter().map(String::as_str));
    match lower.iter().position(|l| hint.contains(&format!("`{l}`"))) {
        Some(i) => format!(" (did you mean `{}`?)", CLOSURE_REASONS[i]),
        None => String::new(),
    }
}

/// Validates an IANA time zone name against the system database. When the machine has no
/// time zone database at all the name cannot be checked and is accepted.
pub(crate) fn check_timezone(name: &str) -> Result<(), String> {
    if jiff::tz::db().is_definitively_empty() {
        return Ok(());
    }
    jiff::tz::TimeZone::get(name)
        .map(|_| ())
        .map_err(|_| format!("unknown time zone \"{name}\""))
}

/// 1-based line and column (in characters) of byte offset `at`.
pub(crate) fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let mut at = at;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Hides string values quoted in a parser message: serde reports a wrongly typed value as
/// `invalid type: string "VALUE", expected a boolean`, and VALUE could be a token typed into
/// the wrong key. Other quotes (`expected `"``) are kept.
pub(crate) fn redact_quoted(msg: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(pos) = rest.find(MARK) {
        out.push_str(&rest[..pos + MARK.len()]);
        let after = &rest[pos + MARK.len()..];
        // The value is Debug-escaped: find the first quote not preceded by a backslash.
        let mut end = None;
        let mut escaped = false;
        for (i, ch) in after.char_indices() {
            match ch {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        out.push_str("…\"");
        match end {
            Some(i) => rest = &after[i + 1..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_empty() {
        let c: Config = toml::from_str("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.sla.warning_min, 20);
        assert_eq!(c.sla.critical_min, 10);
        assert_eq!(c.sla.first_report_min, 60);
        assert_eq!(c.poll.interval_s, 15);
        assert_eq!(c.poll.overlap_s, 120);
        assert!(!c.read_only);
        assert_eq!(c.ui.theme_name(), "default");
        assert_eq!(c.ui.keymap_name(), "default");
        assert!(c.notify.desktop && c.notify.bell);
        assert_eq!(c.rules_file, None);
        assert_eq!(c.data_dir, None);
        assert_eq!(c.triage.high_min, 8);
        assert_eq!(c.triage.medium_min, 5);
        assert_eq!(c.triage.low_closure_reason, "NO_REASON");
        assert_eq!(c.triage.fp_closure_reason, "RESOLVED_BENIGN_KNOWN_GOOD");
        assert_eq!(c.investigate.lateral_window_h, 24);
        assert_eq!(c.quarantine.checkin_timeout_s, 900);
    }

    /// Writes `text` as the config file of a fresh home and loads it.
    fn load_text(text: &str) -> (tempfile::TempDir, Result<LoadedConfig, ConfigError>) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let env = Env::from_vars([("HOME", tmp.path().to_str().unwrap())], tmp.path());
        let r = load_config(&env, Some(&path));
        (tmp, r)
    }

    #[test]
    fn triage_investigate_quarantine_and_paths_are_read() {
        let (_tmp, r) = load_text(
            "rules_file = \"~/r.toml\"\ndata_dir = \"data\"\n\
             [triage]\nhigh_min = 9\nmedium_min = 9\nlow_closure_reason = \"OTHER\"\n\
             fp_closure_reason = \"RESOLVED\"\n\
             [investigate]\nlateral_window_h = 720\n[quarantine]\ncheckin_timeout_s = 60\n",
        );
        let loaded = r.unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let c = &loaded.config;
        assert_eq!((c.triage.high_min, c.triage.medium_min), (9, 9));
        assert_eq!(c.triage.low_closure_reason, "OTHER");
        assert_eq!(c.triage.fp_closure_reason, "RESOLVED");
        assert_eq!(c.investigate.lateral_window_h, 720);
        assert_eq!(c.quarantine.checkin_timeout_s, 60);
        let env = Env::from_vars([("HOME", "/home/a")], "/w");
        let cfg = Path::new("/etc/sd/config.toml");
        assert_eq!(c.rules_path(&env, cfg), PathBuf::from("/home/a/r.toml"));
        assert_eq!(
            c.data_dir(&env, cfg).unwrap(),
            PathBuf::from("/etc/sd/data")
        );
        let d = Config::default();
        assert_eq!(d.rules_path(&env, cfg), PathBuf::from("/etc/sd/rules.toml"));
        assert_eq!(
            d.data_dir(&env, cfg).unwrap(),
            PathBuf::from("/home/a/.local/share/socdeck")
        );
    }

    #[test]
    fn bad_new_values_name_file_and_line() {
        let cases = [
            (
                "[triage]\nhigh_min = 11\n",
                2,
                "high_min must be a CBC severity",
            ),
            (
                "[triage]\nmedium_min = 0\n",
                2,
                "medium_min must be a CBC severity",
            ),
            (
                "[triage]\nhigh_min = 5\nmedium_min = 6\n",
                3,
                "larger than high_min",
            ),
            (
                "[triage]\nlow_closure_reason = \"RESOLVD\"\n",
                2,
                "did you mean `RESOLVED`",
            ),
            (
                "\n[triage]\nfp_closure_reason = \"false_positive\"\n",
                3,
                "NO_REASON, RESOLVED",
            ),
            ("[investigate]\nlateral_window_h = 721\n", 2, "1 to 720"),
            ("[investigate]\nlateral_window_h = 0\n", 2, "1 to 720"),
            (
                "[quarantine]\ncheckin_timeout_s = 0\n",
                2,
                "checkin_timeout_s must be",
            ),
            (
                "[quarantine]\ncheckin_timeout_s = 900000\n",
                2,
                "checkin_timeout_s must be",
            ),
            ("rules_file = \" \"\n", 1, "rules_file is empty"),
            ("data_dir = 3\n", 1, "invalid type"),
            ("[triage]\nhigh_min = 300\n", 2, "expected u8"),
        ];
        for (text, line, words) in cases {
            let (_tmp, r) = load_text(text);
            let msg = r.expect_err(text).to_string();
            assert!(
                msg.contains(&format!("config.toml:{line}:")),
                "{text:?}: {msg}"
            );
            assert!(msg.contains(words), "{text:?}: {msg}");
        }
    }

    #[test]
    fn unknown_keys_in_new_sections_are_warnings() {
        let (_tmp, r) =
            load_text("[triage]\nhigh = 8\n[investigate]\nwindow = 1\n[quarantine]\ntimeout = 1\n");
        let w = r.unwrap().warnings;
        assert_eq!(w.len(), 3, "{w:?}");
        for (line, what) in [
            (2, "`high` in [triage]"),
            (4, "`window` in [investigate]"),
            (6, "`timeout` in [quarantine]"),
        ] {
            assert!(
                w.iter()
                    .any(|m| m.contains(&format!("config.toml:{line}:")) && m.contains(what)),
                "{w:?}"
            );
        }
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("a\nbc\n", 3), (2, 2));
        assert_eq!(line_col("日本\nx", 7), (2, 1));
        assert_eq!(line_col("日本", 3), (1, 2));
    }

    #[test]
    fn redacts_quoted_values() {
        assert_eq!(
            redact_quoted("invalid type: string \"CANARY-1\", expected a boolean"),
            "invalid type: string \"…\", expected a boolean"
        );
        assert_eq!(
            redact_quoted("invalid value: string \"CANARY-\\\"2\", expected x; string \"CANARY-3"),
            "invalid value: string \"…\", expected x; string \"…\""
        );
        assert_eq!(
            redact_quoted("invalid basic string, expected `\"`"),
            "invalid basic string, expected `\"`"
        );
    }

    #[test]
    fn inline_token_is_redacted_in_debug() {
        let c: Config = toml::from_str(
            "[[org]]\nname='a'\nurl='https://x'\norg_key='K'\ntoken='CANARY-dbg/ID'\n",
        )
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("CANARY"), "{dbg}");
        assert_eq!(c.orgs[0].token.as_ref().unwrap().expose(), "CANARY-dbg/ID");
    }
}
