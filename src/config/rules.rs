//! Customer rules (`rules.toml`): per org and per CBC policy, who to contact and how, whether the
//! SOC may isolate a device at once or only after the customer approves, and the language of
//! reports (PRODUCT.md §1 "Per-policy operating rules", issue 4 §5).
//!
//! The file is `rules_file` in the config (default: `rules.toml` next to the config file). A
//! changed file is picked up without a restart by [`RulesWatcher`]; a broken edit keeps the
//! last good rules and reports the problem.
//!
//! ```toml
//! # socdeck customer rules. Every key is optional except org_key and a policy's name or id.
//!
//! # Fallback for orgs (or fields) without their own rule. Without it, and without a rule for
//! # an org, socdeck uses the built-in rule: isolation = "approval", report_language = "en",
//! # no channels and no contacts.
//! [default]
//! isolation = "approval"          # "immediate" | "approval"  (absent everywhere: "approval")
//! report_language = "en"          # "ja" | "en"
//! channels = ["email"]            # any of "email", "phone", "slack", "teams"
//!
//! [[org]]
//! org_key = "ABCD1234"            # as the CBC console shows it (matched ignoring case)
//! isolation = "approval"
//! report_language = "ja"
//! channels = ["phone", "email"]   # preferred first
//!   [[org.contacts]]
//!   name = "Taro Yamada"
//!   email = "yamada@example.co.jp"
//!   phone = "+81-3-1234-5678"
//!   [[org.contacts]]
//!   name = "SOC desk"             # each contact needs a name and at least one way to reach them
//!   slack_webhook = "https://hooks.slack.com/services/T000/B000/XXXX"   # https:// only
//!   teams_webhook = "https://example.webhook.office.com/webhookb2/XXXX"
//!
//!   # Rules for one CBC policy of this org, by name (ignoring case) ...
//!   [[org.policy]]
//!   name = "Servers"
//!   isolation = "approval"
//!   # ... fields not given here are inherited from the org, then from [default];
//!   # contacts too, unless the policy lists its own:
//!     [[org.policy.contacts]]
//!     name = "Server team"
//!     phone = "+81-3-1234-0000"
//!
//!   # ... or by numeric policy id (exactly one of name or id).
//!   [[org.policy]]
//!   id = 6525
//!   isolation = "immediate"
//!   report_language = "en"
//! ```
//!
//! Precedence of [`Rules::lookup`]: a policy matching the alert's policy id, else one matching
//! its policy name, else the org's own fields, else `[default]`, else the built-in rule. Each
//! field is taken from the most specific level that sets it; `contacts` is one field (a policy
//! listing contacts replaces the org's list, it does not add to it).
//!
//! Webhook URLs are secrets (anyone holding one can post to the channel): `Debug` of
//! [`Contact`] and [`Rule`] and every error message show only their scheme and host. The file
//! itself should therefore be readable by you only (`chmod 600`).

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::check::{did_you_mean, printable};
use super::error::ConfigError;
use super::file::{line_col, redact_quoted};

/// Whether the SOC may isolate a device at once or must record the customer's approval first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isolation {
    Immediate,
    /// The safe side, and the default.
    Approval,
}

/// The language reports to the customer are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    Ja,
    En,
}

/// A way to notify the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Phone,
    Slack,
    Teams,
}

impl Isolation {
    pub const ALL: [Isolation; 2] = [Isolation::Immediate, Isolation::Approval];

    /// The name used in `rules.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::Immediate => "immediate",
            Isolation::Approval => "approval",
        }
    }
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Ja, Language::En];

    /// The name used in `rules.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
        }
    }
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Email,
        Channel::Phone,
        Channel::Slack,
        Channel::Teams,
    ];

    /// The name used in `rules.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Slack => "slack",
            Channel::Teams => "teams",
        }
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(Isolation, Language, Channel);

/// Someone at the customer to notify. At least one of the four ways to reach them is set.
#[derive(Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `https://` URL (a secret: never printed in full).
    pub slack_webhook: Option<String>,
    /// `https://` URL (a secret: never printed in full).
    pub teams_webhook: Option<String>,
}

impl fmt::Debug for Contact {
    /// Webhooks appear as `https://host/…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hook = |h: &Option<String>| h.as_deref().map(redact_url);
        f.debug_struct("Contact")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("phone", &self.phone)
            .field("slack_webhook", &hook(&self.slack_webhook))
            .field("teams_webhook", &hook(&self.teams_webhook))
            .finish()
    }
}

/// The rule in force for one alert: every field resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub isolation: Isolation,
    pub report_language: Language,
    /// Preferred first; empty when nothing says.
    pub channels: Vec<Channel>,
    pub contacts: Vec<Contact>,
    /// Where the rule came from, for humans: `ABCD1234 policy Servers`,
    /// `ABCD1234 policy id 6525`, `ABCD1234 org default`, `[default]` or
    /// `built-in (no rule)`.
    pub source: String,
}

impl Rule {
    /// The built-in rule: approval before isolation, English, nobody to contact.
    pub fn builtin() -> Rule {
        Rule {
            isolation: Isolation::Approval,
            report_language: Language::En,
            channels: Vec::new(),
            contacts: Vec::new(),
            source: "built-in (no rule)".to_owned(),
        }
    }
}

/// Fields one level of the file may set; `None` = inherit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Layer {
    isolation: Option<Isolation>,
    report_language: Option<Language>,
    channels: Option<Vec<Channel>>,
    contacts: Option<Vec<Contact>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PolicySel {
    Name(String),
    Id(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PolicyRules {
    sel: PolicySel,
    layer: Layer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OrgRules {
    org_key: String,
    layer: Layer,
    policies: Vec<PolicyRules>,
}

/// A parsed `rules.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    default: Option<Layer>,
    orgs: Vec<OrgRules>,
}

impl Rules {
    /// No rules: every lookup gives [`Rule::builtin`].
    pub fn empty() -> Rules {
        Rules::default()
    }

    /// True when the file defines neither `[default]` nor any org.
    pub fn is_empty(&self) -> bool {
        self.default.is_none() && self.orgs.is_empty()
    }

    /// The org keys with a section, in file order.
    pub fn org_keys(&self) -> impl Iterator<Item = &str> {
        self.orgs.iter().map(|o| o.org_key.as_str())
    }

    /// Parses the text of `path` (used in messages only). Every problem is reported, each as a
    /// [`ConfigError`] naming file and line, in the order they appear in the file.
    pub fn parse(text: &str, path: &Path) -> Result<Rules, Vec<ConfigError>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let doc = match DeTable::parse(text) {
            Ok(d) => d,
            Err(e) => {
                let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
                return Err(vec![ConfigError::Syntax {
                    path: path.to_owned(),
                    line,
                    column,
                    message: printable(&redact_quoted(e.message().trim())),
                }]);
            }
        };
        let mut p = Parser {
            path,
            text,
            errors: Vec::new(),
        };
        let rules = p.document(doc.get_ref());
        if p.errors.is_empty() {
            Ok(rules)
        } else {
            p.errors.sort_by_key(|(at, _)| *at);
            Err(p.errors.into_iter().map(|(_, e)| e).collect())
        }
    }

    /// Reads and parses the rules file at `path`; `Ok(None)` when it does not exist (which
    /// means [`Rules::empty`]). Used by `--check-config`; the console uses [`RulesWatcher`].
    pub fn load(path: &Path) -> Result<Option<Rules>, Vec<ConfigError>> {
        match read_text(path)? {
            None => Ok(None),
            Some(text) => Rules::parse(&text, path).map(Some),
        }
    }

    /// The rule for an alert of org `org_key` under the given CBC policy. Never fails: see the
    /// module documentation for the precedence.
    pub fn lookup(&self, org_key: &str, policy_name: Option<&str>, policy_id: Option<i64>) -> Rule {
        let org = self
            .orgs
            .iter()
            .find(|o| o.org_key.eq_ignore_ascii_case(org_key.trim()));
        let policy = org.and_then(|o| {
            let by_id = policy_id.and_then(|id| {
                o.policies
                    .iter()
                    .find(|p| matches!(p.sel, PolicySel::Id(x) if x == id))
            });
            by_id.or_else(|| {
                let wanted = policy_name?.trim().to_lowercase();
                o.policies
                    .iter()
                    .find(|p| matches!(&p.sel, PolicySel::Name(n) if n.to_lowercase() == wanted))
            })
        });
        let source = match (org, policy) {
            (Some(o), Some(p)) => match &p.sel {
                PolicySel::Name(n) => format!("{} policy {n}", o.org_key),
                PolicySel::Id(id) => format!("{} policy id {id}", o.org_key),
            },
            (Some(o), None) => format!("{} org default", o.org_key),
            (None, _) if self.default.is_some() => "[default]".to_owned(),
            (None, _) => return Rule::builtin(),
        };
        let layers: Vec<&Layer> = [
            policy.map(|p| &p.layer),
            org.map(|o| &o.layer),
            self.default.as_ref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let builtin = Rule::builtin();
        Rule {
            isolation: layers
                .iter()
                .find_map(|l| l.isolation)
                .unwrap_or(builtin.isolation),
            report_language: layers
                .iter()
                .find_map(|l| l.report_language)
                .unwrap_or(builtin.report_language),
            channels: layers
                .iter()
                .find_map(|l| l.channels.clone())
                .unwrap_or(builtin.channels),
            contacts: layers
                .iter()
                .find_map(|l| l.contacts.clone())
                .unwrap_or(builtin.contacts),
            source,
        }
    }
}

/// `https://host/…`: scheme and host of a URL, the rest (path, query, user info) hidden.
/// Text that is not a URL is hidden entirely.
pub(crate) fn redact_url(url: &str) -> String {
    match split_url(url) {
        None => "…".to_owned(),
        Some((scheme, None, _)) => format!("{scheme}://…"),
        Some((scheme, Some(host), more)) => {
            format!("{scheme}://{host}{}", if more { "/…" } else { "" })
        }
    }
}

/// `(scheme, host[:port], anything after it)` of a URL; the host is `None` unless it is a
/// plain `host[:port]` (no user info, nothing that could be part of a secret).
fn split_url(url: &str) -> Option<(&str, Option<&str>, bool)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme_ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let scheme = if scheme_ok { scheme } else { "…" };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let (name, port) = authority.split_once(':').unwrap_or((authority, "0"));
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !port.is_empty()
        && port.chars().all(|c| c.is_ascii_digit());
    Some((scheme, plain.then_some(authority), end < rest.len()))
}

const TOP_KEYS: &[&str] = &["default", "org"];
const LAYER_KEYS: &[&str] = &["isolation", "report_language", "channels", "contacts"];
const CONTACT_KEYS: &[&str] = &["name", "email", "phone", "slack_webhook", "teams_webhook"];

type Item<'i> = Spanned<DeValue<'i>>;
type Key<'i> = Spanned<std::borrow::Cow<'i, str>>;
/// Keys of a table left for the caller, with their values.
type Rest<'t, 'i> = Vec<(&'t Key<'i>, &'t Item<'i>)>;

/// Walks the parsed document, collecting every problem with its byte offset.
struct Parser<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<(usize, ConfigError)>,
}

impl Parser<'_> {
    fn err(&mut self, span: Range<usize>, place: &str, message: String, hint: Option<String>) {
        let (line, column) = line_col(self.text, span.start);
        let place = if place.is_empty() {
            String::new()
        } else {
            format!(" {place}")
        };
        self.errors.push((
            span.start,
            ConfigError::Invalid {
                origin: format!("{}:{line}:{column}{place}", self.path.display()),
                message,
                hint,
            },
        ));
    }

    fn unknown_key(&mut self, key: &Key<'_>, place: &str, allowed: &[&str]) {
        let name = key.get_ref();
        self.err(
            key.span(),
            place,
            format!(
                "unknown key `{}`{}",
                printable(name),
                did_you_mean(name, allowed.iter().copied())
            ),
            Some(format!("allowed here: {}", allowed.join(", "))),
        );
    }

    fn wrong_type(&mut self, v: &Item<'_>, place: &str, key: &str, expected: &str) {
        self.err(
            v.span(),
            place,
            format!("`{key}` must be {expected}, not {}", v.get_ref().type_str()),
            None,
        );
    }

    fn string(&mut self, v: &Item<'_>, place: &str, key: &str) -> Option<String> {
        match v.get_ref().as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                self.wrong_type(v, place, key, "a string");
                None
            }
        }
    }

    fn choice<T: Copy + fmt::Display>(
        &mut self,
        v: &Item<'_>,
        place: &str,
        key: &str,
        all: &[T],
    ) -> Option<T> {
        let s = self.string(v, place, key)?;
        let names: Vec<String> = all.iter().map(ToString::to_string).collect();
        if let Some(i) = names.iter().position(|n| *n == s.trim()) {
            return Some(all[i]);
        }
        self.err(
            v.span(),
            place,
            format!(
                "`{key}` cannot be \"{}\"{}",
                printable(&s),
                did_you_mean(&s, names.iter().map(String::as_str))
            ),
            Some(format!("allowed: {}", quoted(&names))),
        );
        None
    }

    /// The array of tables under `key`, or an error (a single `[key]` table is a common slip).
    fn tables<'v, 'i>(
        &mut self,
        v: &'v Item<'i>,
        place: &str,
        key: &str,
        header: &str,
    ) -> Vec<&'v Spanned<DeValue<'i>>> {
        let Some(arr) = v.get_ref().as_array() else {
            self.err(
                v.span(),
                place,
                format!(
                    "`{key}` must be a list of tables, not a {}",
                    v.get_ref().type_str()
                ),
                Some(format!(
                    "write each entry under its own [[{header}]] header"
                )),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in arr.iter() {
            if item.get_ref().is_table() {
                out.push(item);
            } else {
                self.wrong_type(item, place, key, "a list of tables");
            }
        }
        out
    }

    fn document(&mut self, doc: &DeTable<'_>) -> Rules {
        let mut rules = Rules::default();
        for (k, v) in doc.iter() {
            match k.get_ref().as_ref() {
                "default" => match v.get_ref().as_table() {
                    Some(t) => rules.default = Some(self.layer(t, "[default]", &[]).0),
                    None => self.wrong_type(v, "", "default", "a table ([default])"),
                },
                "org" => {
                    let mut seen: Vec<(String, usize)> = Vec::new();
                    for (i, item) in self.tables(v, "", "org", "org").into_iter().enumerate() {
                        if let Some(org) = self.org(item, i, &mut seen) {
                            rules.orgs.push(org);
                        }
                    }
                }
                _ => self.unknown_key(k, "", TOP_KEYS),
            }
        }
        rules
    }

    /// The layer keys of a table; other keys are returned for the caller (unknown to the
    /// layer, maybe known to the caller), `extra` lists them for the "allowed" hint.
    fn layer<'t, 'i>(
        &mut self,
        t: &'t DeTable<'i>,
        place: &str,
        extra: &[&str],
    ) -> (Layer, Rest<'t, 'i>) {
        let mut layer = Layer::default();
        let mut rest = Vec::new();
        for (k, v) in t.iter() {
            let key: &str = k.get_ref();
            match key {
                "isolation" => layer.isolation = self.choice(v, place, key, &Isolation::ALL),
                "report_language" => {
                    layer.report_language = self.choice(v, place, key, &Language::ALL)
                }
                "channels" => layer.channels = self.channels(v, place),
                "contacts" => {
                    let contacts: Vec<Contact> = self
                        .tables(v, place, key, "….contacts")
                        .into_iter()
                        .filter_map(|c| self.contact(c, place))
                        .collect();
                    layer.contacts = Some(contacts);
                }
                _ if extra.contains(&key) => rest.push((k, v)),
                _ => {
                    let allowed: Vec<&str> = extra.iter().chain(LAYER_KEYS).copied().collect();
                    self.unknown_key(k, place, &allowed);
                }
            }
        }
        (layer, rest)
    }

    fn channels(&mut self, v: &Item<'_>, place: &str) -> Option<Vec<Channel>> {
        let Some(arr) = v.get_ref().as_array() else {
            self.wrong_type(
                v,
                place,
                "channels",
                "a list such as [\"email\", \"phone\"]",
            );
            return None;
        };
        let mut out = Vec::new();
        for item in arr.iter() {
            if let Some(c) = self.choice(item, place, "channels", &Channel::ALL)
                && !out.contains(&c)
            {
                out.push(c);
            }
        }
        Some(out)
    }

    fn contact(&mut self, item: &Item<'_>, place: &str) -> Option<Contact> {
        let t = item.get_ref().as_table()?;
        let place = format!("{place} contact");
        let mut c = Contact {
            name: String::new(),
            email: None,
            phone: None,
            slack_webhook: None,
            teams_webhook: None,
        };
        let mut ok = true;
        for (k, v) in t.iter() {
            let key: &str = k.get_ref();
            let Some(s) = CONTACT_KEYS
                .contains(&key)
                .then(|| self.string(v, &place, key))
            else {
                self.unknown_key(k, &place, CONTACT_KEYS);
                ok = false;
                continue;
            };
            let Some(s) = s else {
                ok = false;
                continue;
            };
            let s = s.trim().to_owned();
            match key {
                "name" => c.name = s,
                "email" => {
                    let valid = s
                        .split_once('@')
                        .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
                        && !s.chars().any(|ch| ch.is_whitespace() || ch.is_control());
                    if !valid {
                        self.err(
                            v.span(),
                            &place,
                            format!("email \"{}\" is not an email address", printable(&s)),
                            None,
                        );
                        ok = false;
                    }
                    c.email = Some(s);
                }
                "phone" => {
                    if !s.chars().any(|ch| ch.is_ascii_digit()) {
                        self.err(
                            v.span(),
                            &place,
                            format!("phone \"{}\" has no digits", printable(&s)),
                            None,
                        );
                        ok = false;
                    }
                    c.phone = Some(s);
                }
                _ => {
                    let host_ok = matches!(split_url(&s),
                        Some((scheme, Some(_), _)) if scheme.eq_ignore_ascii_case("https"))
                        && !s.chars().any(|ch| ch.is_whitespace() || ch.is_control());
                    if !host_ok {
                        self.err(
                            v.span(),
                            &place,
                            format!(
                                "{key} must be an https:// URL with a host (got {})",
                                redact_url(&s)
                            ),
                            Some(
                                "webhooks carry alert details: socdeck posts over HTTPS only"
                                    .into(),
                            ),
                        );
                        ok = false;
                    }
                    if key == "slack_webhook" {
                        c.slack_webhook = Some(s);
                    } else {
                        c.teams_webhook = Some(s);
                    }
                }
            }
        }
        if c.name.is_empty() {
            self.err(
                item.span(),
                &place,
                "contact has no name".into(),
                Some("add name = \"...\"".into()),
            );
            ok = false;
        }
        if c.email.is_none()
            && c.phone.is_none()
            && c.slack_webhook.is_none()
            && c.teams_webhook.is_none()
        {
            self.err(
                item.span(),
                &place,
                format!(
                    "contact \"{}\" has no way to reach them",
                    printable(&c.name)
                ),
                Some("give at least one of email, phone, slack_webhook, teams_webhook".into()),
            );
            ok = false;
        }
        ok.then_some(c)
    }

    fn org(
        &mut self,
        item: &Item<'_>,
        index: usize,
        seen: &mut Vec<(String, usize)>,
    ) -> Option<OrgRules> {
        let t = item.get_ref().as_table()?;
        let key_item = t.get("org_key");
        let key = key_item.and_then(|v| v.get_ref().as_str()).map(str::trim);
        let place = match key {
            Some(k) => format!("[[org]] #{} ({})", index + 1, printable(k)),
            None => format!("[[org]] #{}", index + 1),
        };
        let (layer, rest) = self.layer(t, &place, &["org_key", "policy"]);
        let mut org_key = None;
        let mut policies = Vec::new();
        let mut ok = true;
        for (k, v) in rest {
            match k.get_ref().as_ref() {
                "org_key" => {
                    let Some(s) = self.string(v, &place, "org_key") else {
                        ok = false;
                        continue;
                    };
                    let s = s.trim().to_owned();
                    if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                        self.err(
                            v.span(),
                            &place,
                            "org_key must be letters and digits only".into(),
                            Some("copy the org key exactly as the CBC console shows it".into()),
                        );
                        ok = false;
                        continue;
                    }
                    let (line, _) = line_col(self.text, v.span().start);
                    if let Some((_, first)) = seen.iter().find(|(k, _)| k.eq_ignore_ascii_case(&s))
                    {
                        self.err(
                            v.span(),
                            &place,
                            format!("org {s} already has a section at line {first}"),
                            Some("merge the two [[org]] sections".into()),
                        );
                        ok = false;
                        continue;
                    }
                    seen.push((s.clone(), line));
                    org_key = Some(s);
                }
                _ => {
                    let mut sels: Vec<PolicySel> = Vec::new();
                    for p in self.tables(v, &place, "policy", "org.policy") {
                        if let Some(pr) = self.policy(p, &place, &sels) {
                            sels.push(pr.sel.clone());
                            policies.push(pr);
                        }
                    }
                }
            }
        }
        if key_item.is_none() {
            self.err(
                item.span(),
                &place,
                "has no org_key".into(),
                Some("add org_key = \"<the org key shown in the CBC console>\"".into()),
            );
        }
        Some(OrgRules {
            org_key: org_key.filter(|_| ok)?,
            layer,
            policies,
        })
    }

    fn policy(
        &mut self,
        item: &Item<'_>,
        org_place: &str,
        earlier: &[PolicySel],
    ) -> Option<PolicyRules> {
        let t = item.get_ref().as_table()?;
        let label = match (
            t.get("name").and_then(|v| v.get_ref().as_str()),
            t.get("id"),
        ) {
            (Some(n), _) => format!(" policy \"{}\"", printable(n)),
            (None, Some(id)) => match id.get_ref().as_integer() {
                Some(i) => format!(" policy id {}", i.as_str()),
                None => " policy".to_owned(),
            },
            (None, None) => " policy".to_owned(),
        };
        let place = format!("{org_place}{label}");
        let (layer, rest) = self.layer(t, &place, &["name", "id"]);
        let mut sel = Vec::new();
        let mut ok = true;
        for (k, v) in rest {
            if k.get_ref().as_ref() == "name" {
                match self.string(v, &place, "name") {
                    Some(n) if !n.trim().is_empty() => {
                        sel.push((v.span(), PolicySel::Name(n.trim().to_owned())))
                    }
                    Some(_) => {
                        self.err(v.span(), &place, "policy name is empty".into(), None);
                        ok = false;
                    }
                    None => ok = false,
                }
            } else {
                let id = v
                    .get_ref()
                    .as_integer()
                    .and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok());
                match id {
                    Some(id) if id >= 0 => sel.push((v.span(), PolicySel::Id(id))),
                    _ => {
                        self.wrong_type(v, &place, "id", "a policy id (a whole number, 0 or more)");
                        ok = false;
                    }
                }
            }
        }
        if !ok {
            return None;
        }
        // Keys come sorted by name; point at whichever of name and id comes second in the file.
        sel.sort_by_key(|(span, _)| span.start);
        let (span, sel) = match sel.len() {
            1 => sel.pop().expect("one"),
            0 => {
                self.err(
                    item.span(),
                    &place,
                    "policy has neither name nor id".into(),
                    Some("add name = \"<CBC policy name>\" or id = <CBC policy id>".into()),
                );
                return None;
            }
            _ => {
                self.err(
                    sel[1].0.clone(),
                    &place,
                    "policy has both name and id".into(),
                    Some("keep one: a policy entry matches by name or by id".into()),
                );
                return None;
            }
        };
        let dup = earlier.iter().any(|e| match (e, &sel) {
            (PolicySel::Name(a), PolicySel::Name(b)) => a.to_lowercase() == b.to_lowercase(),
            (PolicySel::Id(a), PolicySel::Id(b)) => a == b,
            _ => false,
        });
        if dup {
            self.err(
                span,
                &place,
                "this policy already has an entry in this org".into(),
                Some("merge the two [[org.policy]] entries".into()),
            );
            return None;
        }
        Some(PolicyRules { sel, layer })
    }
}

fn quoted(names: &[String]) -> String {
    let v: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    v.join(", ")
}

/// Rules files are small; anything bigger is a mistake.
const MAX_RULES_FILE: u64 = 4 << 20;

fn read_text(path: &Path) -> Result<Option<String>, Vec<ConfigError>> {
    let io = |action, source| {
        vec![ConfigError::Io {
            what: "rules file",
            path: path.to_owned(),
            action,
            source,
        }]
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("open", e)),
    };
    let meta = file.metadata().map_err(|e| io("inspect", e))?;
    if !meta.is_file() {
        return Err(vec![ConfigError::invalid(
            format!("rules file {}", path.display()),
            "is not a regular file",
        )]);
    }
    let mut bytes = Vec::new();
    file.take(MAX_RULES_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io("read", e))?;
    if bytes.len() as u64 > MAX_RULES_FILE {
        return Err(vec![ConfigError::invalid(
            format!("rules file {}", path.display()),
            format!("is larger than {MAX_RULES_FILE} bytes"),
        )]);
    }
    String::from_utf8(bytes).map(Some).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
        let (line, column) = line_col(&prefix, prefix.len());
        vec![ConfigError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: "the file is not valid UTF-8 text".to_owned(),
        }]
    })
}

fn hash_text(text: &str) -> u64 {
    // Change detection only, within one process: std's SipHash is plenty.
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// What [`RulesWatcher::check`] found.
#[derive(Debug)]
pub enum RulesChange {
    /// Nothing to do.
    Unchanged,
    /// New rules are in force (also after a broken or removed file was fixed: clear the error).
    Reloaded,
    /// The file changed and cannot be used (or was removed); the last good rules stay in
    /// force. Reported once per change of the file: keep showing it until `Reloaded`.
    Invalid(Vec<ConfigError>),
}

/// Owns the rules file path and the last good [`Rules`], and notices when the file changes.
///
/// * A file that does not exist when the watcher starts means empty rules (the built-in rule
///   everywhere), not an error; creating it later loads it.
/// * A file that is **removed** after it was loaded gives `Invalid` ("removed") and keeps the
///   last good rules: deleting the file by accident must not silently drop every customer's
///   contacts. To remove all rules, empty the file instead.
/// * Change detection is cheap: a `stat` per check, and the file is read and hashed only when
///   its modification time or length changed; a touch without a change of content is
///   `Unchanged`.
#[derive(Debug)]
pub struct RulesWatcher {
    path: PathBuf,
    rules: Rules,
    /// Modification time and length at the last read; `None` = absent or unreadable.
    stamp: Option<(Option<SystemTime>, u64)>,
    /// Hash of the last text read, good or bad; `None` after a removal, so the same text
    /// coming back is reported as `Reloaded`.
    hash: Option<u64>,
    /// The file is absent and that has been reported (or it never existed).
    missing: bool,
    /// A `stat` error has been reported.
    unreadable: bool,
}

impl RulesWatcher {
    /// Loads `path`. A missing file gives empty rules and `Ok(())`; a broken one gives empty
    /// rules and its errors.
    pub fn new(path: PathBuf) -> (RulesWatcher, Result<(), Vec<ConfigError>>) {
        let mut w = RulesWatcher {
            path,
            rules: Rules::empty(),
            stamp: None,
            hash: None,
            missing: false,
            unreadable: false,
        };
        let first = match w.check() {
            RulesChange::Invalid(errors) => Err(errors),
            RulesChange::Unchanged | RulesChange::Reloaded => Ok(()),
        };
        (w, first)
    }

    /// The rules file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rules in force: the last good ones.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Looks at the file and reloads it if it changed.
    pub fn check(&mut self) -> RulesChange {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let was_there = self.hash.is_some() || self.unreadable;
                let first_check = self.stamp.is_none() && !self.missing && !self.unreadable;
                self.forget();
                if self.missing || first_check {
                    self.missing = true;
                    return RulesChange::Unchanged;
                }
                self.missing = true;
                if !was_there {
                    return RulesChange::Unchanged;
                }
                return RulesChange::Invalid(vec![ConfigError::invalid_hint(
                    format!("rules file {}", self.path.display()),
                    "was removed; the rules loaded before stay in force",
                    "restore the file; to drop all rules, empty it instead of deleting it",
                )]);
            }
            Err(e) => {
                if self.unreadable {
                    return RulesChange::Unchanged;
                }
                self.forget();
                self.unreadable = true;
                return RulesChange::Invalid(vec![ConfigError::Io {
                    what: "rules file",
                    path: self.path.clone(),
                    action: "inspect",
                    source: e,
                }]);
            }
        };
        let stamp = (meta.modified().ok(), meta.len());
        if self.stamp == Some(stamp) {
            return RulesChange::Unchanged;
        }
        self.missing = false;
        self.unreadable = false;
        // Remember the stamp even when reading fails, so a broken file is reported once and
        // not re-read on every check; the next edit changes the stamp.
        self.stamp = Some(stamp);
        let text = match read_text(&self.path) {
            Ok(Some(t)) => t,
            Ok(None) => return self.check(), // removed between stat and open
            Err(errors) => {
                self.hash = None;
                return RulesChange::Invalid(errors);
            }
        };
        let hash = hash_text(&text);
        if self.hash == Some(hash) {
            return RulesChange::Unchanged;
        }
        self.hash = Some(hash);
        match Rules::parse(&text, &self.path) {
            Ok(rules) => {
                self.rules = rules;
                RulesChange::Reloaded
            }
            Err(errors) => RulesChange::Invalid(errors),
        }
    }

    fn forget(&mut self) {
        self.stamp = None;
        self.hash = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_to_scheme_and_host() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T0/B0/SECRET"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(redact_url("https://h.example"), "https://h.example");
        assert_eq!(redact_url("https://user:pw@h.example"), "https://…");
        assert_eq!(redact_url("https://h?k=SECRET"), "https://h/…");
        assert_eq!(redact_url("SECRET-not-a-url"), "…");
        assert_eq!(redact_url("http://\u{1b}[2J/x"), "http://…");
        assert_eq!(redact_url("ftp://u:SECRET/x@h/y"), "ftp://…");
        assert_eq!(
            redact_url("https://h.example:8443/x"),
            "https://h.example:8443/…"
        );
    }

    #[test]
    fn builtin_rule_is_the_safe_side() {
        let r = Rules::empty().lookup("ANY", Some("p"), Some(1));
        assert_eq!(r, Rule::builtin());
        assert_eq!(r.isolation, Isolation::Approval);
        assert_eq!(r.report_language, Language::En);
        assert!(r.contacts.is_empty() && r.channels.is_empty());
        assert_eq!(r.source, "built-in (no rule)");
    }
}
