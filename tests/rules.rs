//! Customer rules (`rules.toml`, issue 4 §5) on real files in a temp dir: the documented
//! example, lookup precedence and inheritance, every error naming file and line, secrets kept
//! out of `Debug` and messages, and reloading by `RulesWatcher`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use socdeck::config::ConfigError;
use socdeck::config::rules::{
    Channel, Contact, Isolation, Language, Rule, Rules, RulesChange, RulesWatcher,
};

/// The example of the module documentation (kept in sync by `module_doc_example_is_this_one`).
const EXAMPLE: &str = r#"# socdeck customer rules. Every key is optional except org_key and a policy's name or id.

# Fallback for orgs (or fields) without their own rule. Without it, and without a rule for
# an org, socdeck uses the built-in rule: isolation = "approval", report_language = "en",
# no channels and no contacts.
[default]
isolation = "approval"          # "immediate" | "approval"  (absent everywhere: "approval")
report_language = "en"          # "ja" | "en"
channels = ["email"]            # any of "email", "phone", "slack", "teams"

[[org]]
org_key = "ABCD1234"            # as the CBC console shows it (matched ignoring case)
isolation = "approval"
report_language = "ja"
channels = ["phone", "email"]   # preferred first
  [[org.contacts]]
  name = "Taro Yamada"
  email = "yamada@example.co.jp"
  phone = "+81-3-1234-5678"
  [[org.contacts]]
  name = "SOC desk"             # each contact needs a name and at least one way to reach them
  slack_webhook = "https://hooks.slack.com/services/T000/B000/XXXX"   # https:// only
  teams_webhook = "https://example.webhook.office.com/webhookb2/XXXX"

  # Rules for one CBC policy of this org, by name (ignoring case) ...
  [[org.policy]]
  name = "Servers"
  isolation = "approval"
  # ... fields not given here are inherited from the org, then from [default];
  # contacts too, unless the policy lists its own:
    [[org.policy.contacts]]
    name = "Server team"
    phone = "+81-3-1234-0000"

  # ... or by numeric policy id (exactly one of name or id).
  [[org.policy]]
  id = 6525
  isolation = "immediate"
  report_language = "en"
"#;

fn p() -> &'static Path {
    Path::new("/cfg/rules.toml")
}

fn parse(text: &str) -> Rules {
    Rules::parse(text, p()).unwrap_or_else(|e| panic!("{}", messages(&e).join("\n")))
}

fn messages(errors: &[ConfigError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

/// The single error of `text`, as displayed.
fn one_error(text: &str) -> String {
    let errs = Rules::parse(text, p()).expect_err("should be rejected");
    let m = messages(&errs);
    assert_eq!(m.len(), 1, "{m:#?}");
    m.into_iter().next().unwrap()
}

#[test]
fn module_doc_example_is_this_one() {
    let src = include_str!("../src/config/rules.rs");
    let doc: String = src
        .lines()
        .skip_while(|l| *l != "//! ```toml")
        .skip(1)
        .take_while(|l| *l != "//! ```")
        .map(|l| {
            format!(
                "{}\n",
                l.strip_prefix("//! ")
                    .unwrap_or(l.trim_start_matches("//!"))
            )
        })
        .collect();
    assert_eq!(doc, EXAMPLE);
}

#[test]
fn documented_example_parses_and_resolves() {
    let r = parse(EXAMPLE);
    assert_eq!(r.org_keys().collect::<Vec<_>>(), ["ABCD1234"]);

    let org = r.lookup("ABCD1234", Some("Workstations"), Some(1));
    assert_eq!(org.source, "ABCD1234 org default");
    assert_eq!(org.isolation, Isolation::Approval);
    assert_eq!(org.report_language, Language::Ja);
    assert_eq!(org.channels, [Channel::Phone, Channel::Email]);
    assert_eq!(org.contacts.len(), 2);
    assert_eq!(
        org.contacts[0],
        Contact {
            name: "Taro Yamada".into(),
            email: Some("yamada@example.co.jp".into()),
            phone: Some("+81-3-1234-5678".into()),
            slack_webhook: None,
            teams_webhook: None,
        }
    );
    assert_eq!(
        org.contacts[1].slack_webhook.as_deref(),
        Some("https://hooks.slack.com/services/T000/B000/XXXX")
    );

    let servers = r.lookup("ABCD1234", Some("servers"), None);
    assert_eq!(servers.source, "ABCD1234 policy Servers");
    assert_eq!(
        servers.report_language,
        Language::Ja,
        "inherited from the org"
    );
    assert_eq!(servers.channels, [Channel::Phone, Channel::Email]);
    assert_eq!(
        servers.contacts.len(),
        1,
        "the policy's own contacts replace the org's"
    );
    assert_eq!(servers.contacts[0].name, "Server team");

    let by_id = r.lookup("ABCD1234", None, Some(6525));
    assert_eq!(by_id.source, "ABCD1234 policy id 6525");
    assert_eq!(by_id.isolation, Isolation::Immediate);
    assert_eq!(by_id.report_language, Language::En);
    assert_eq!(
        by_id.contacts, org.contacts,
        "contacts inherited from the org"
    );

    let other = r.lookup("ZZZZ9999", Some("Servers"), Some(6525));
    assert_eq!(other.source, "[default]");
    assert_eq!(other.channels, [Channel::Email]);
    assert_eq!(other.report_language, Language::En);
    assert!(other.contacts.is_empty());
}

#[test]
fn precedence_id_then_name_then_org_then_default_then_builtin() {
    let text = r#"
[default]
isolation = "immediate"
report_language = "ja"

[[org]]
org_key = "ORG1"
channels = ["teams"]

  [[org.policy]]
  name = "Servers"
  channels = ["phone"]

  [[org.policy]]
  id = 42
  channels = ["slack"]
"#;
    let r = parse(text);
    // Id beats name, even when the name also matches another entry.
    let rule = r.lookup("ORG1", Some("Servers"), Some(42));
    assert_eq!(
        (rule.source.as_str(), &rule.channels[..]),
        ("ORG1 policy id 42", &[Channel::Slack][..])
    );
    // An id that matches nothing falls back to the name.
    let rule = r.lookup("ORG1", Some(" SERVERS "), Some(7));
    assert_eq!(
        (rule.source.as_str(), &rule.channels[..]),
        ("ORG1 policy Servers", &[Channel::Phone][..])
    );
    // Neither: the org.
    let rule = r.lookup("org1", Some("Laptops"), Some(7));
    assert_eq!(
        (rule.source.as_str(), &rule.channels[..]),
        ("ORG1 org default", &[Channel::Teams][..])
    );
    assert_eq!(
        rule.isolation,
        Isolation::Immediate,
        "inherited from [default]"
    );
    assert_eq!(rule.report_language, Language::Ja);
    // Unknown org: [default].
    let rule = r.lookup("OTHER", Some("Servers"), Some(42));
    assert_eq!(rule.source, "[default]");
    assert!(rule.channels.is_empty(), "[default] sets no channels");
    // No [default]: built-in.
    let r = parse("[[org]]\norg_key = \"ORG1\"\nisolation = \"immediate\"\n");
    assert_eq!(r.lookup("OTHER", None, None), Rule::builtin());
    let rule = r.lookup("ORG1", None, None);
    assert_eq!(rule.isolation, Isolation::Immediate);
    assert_eq!(
        rule.report_language,
        Language::En,
        "built-in fills the rest"
    );
    // Empty file: built-in everywhere.
    let r = parse("");
    assert!(r.is_empty());
    assert_eq!(
        r.lookup("ORG1", Some("Servers"), Some(42)).source,
        "built-in (no rule)"
    );
    assert_eq!(
        Rules::empty().lookup("X", None, None).isolation,
        Isolation::Approval
    );
}

#[test]
fn absent_isolation_everywhere_is_approval() {
    let r = parse(
        "[default]\nreport_language = \"ja\"\n[[org]]\norg_key = \"A1\"\n[[org.policy]]\nid = 1\n",
    );
    assert_eq!(r.lookup("A1", None, Some(1)).isolation, Isolation::Approval);
    assert_eq!(r.lookup("A1", None, Some(1)).report_language, Language::Ja);
}

/// `(text, line, words the message must contain)`: one per error kind.
#[test]
fn every_error_names_file_and_line() {
    let cases: &[(&str, usize, &[&str])] = &[
        (
            "[default]\nisolaton = \"approval\"\n",
            2,
            &["unknown key `isolaton`", "did you mean `isolation`"],
        ),
        ("bogus = 1\n", 1, &["unknown key `bogus`", "default, org"]),
        (
            "[[org]]\norg_key = \"A1\"\n\n  [[org.contacts]]\n  name = \"x\"\n  fax = \"1\"\n  email = \"a@b.c\"\n",
            6,
            &["unknown key `fax`"],
        ),
        (
            "[default]\nisolation = 1\n",
            2,
            &["`isolation` must be a string, not integer"],
        ),
        (
            "[default]\nchannels = \"email\"\n",
            2,
            &["`channels` must be a list"],
        ),
        (
            "[default]\nisolation = \"now\"\n",
            2,
            &["\"immediate\", \"approval\""],
        ),
        (
            "[default]\nreport_language = \"de\"\n",
            2,
            &["\"ja\", \"en\""],
        ),
        (
            "[default]\nchannels = [\"email\", \"fax\"]\n",
            2,
            &["\"email\", \"phone\", \"slack\", \"teams\""],
        ),
        (
            "[[org]]\norg_key = \"A1\"\n[[org]]\norg_key = \"a1\"\n",
            4,
            &["already has a section at line 2"],
        ),
        (
            "[[org]]\norg_key = \"A1\"\n[[org.policy]]\nisolation = \"approval\"\n",
            3,
            &["neither name nor id"],
        ),
        (
            "[[org]]\norg_key = \"A1\"\n[[org.policy]]\nname = \"S\"\nid = 5\n",
            5,
            &["both name and id"],
        ),
        (
            "[[org]]\norg_key = \"A1\"\n[[org.policy]]\nid = 5\n[[org.policy]]\nid = 5\n",
            6,
            &["already has an entry"],
        ),
        (
            "[[org]]\norg_key = \"A1\"\n[[org.policy]]\nid = \"5\"\n",
            4,
            &["policy id"],
        ),
        (
            "[[org]]\norg_key = \"A1\"\n[[org.contacts]]\nname = \"x\"\nslack_webhook = \"http://hooks.slack.com/services/T/B/SECRET\"\n",
            5,
            &["https://", "http://hooks.slack.com/…"],
        ),
        (
            "[[org]]\norg_key = \"A1\"\n[[org.contacts]]\nname = \"Nobody\"\n",
            3,
            &["\"Nobody\" has no way to reach them"],
        ),
        (
            "[[org]]\norg_key = \"A1\"\n[[org.contacts]]\nemail = \"a@b.c\"\n",
            3,
            &["no name"],
        ),
        (
            "[[org]]\norg_key = \"A1\"\n[[org.contacts]]\nname = \"x\"\nemail = \"not-an-address\"\n",
            5,
            &["not an email address"],
        ),
        (
            "[[org]]\nisolation = \"approval\"\n",
            1,
            &["has no org_key"],
        ),
        ("[[org]]\norg_key = \"AB-12\"\n", 2, &["letters and digits"]),
        (
            "[org]\norg_key = \"A1\"\n",
            1,
            &["list of tables", "[[org]]"],
        ),
        ("[default]\nisolation = \"approval\n", 2, &[]),
    ];
    for (text, line, words) in cases {
        let msg = one_error(text);
        assert!(
            msg.starts_with(&format!("/cfg/rules.toml:{line}:")),
            "expected line {line} for {text:?}: {msg}"
        );
        for w in *words {
            assert!(msg.contains(w), "{msg:?} lacks {w:?}");
        }
    }
}

#[test]
fn all_problems_are_reported_in_file_order() {
    let text = "[default]\nisolation = \"x\"\n[[org]]\norg_key = \"A1\"\nfoo = 1\n[[org.policy]]\n";
    let m = messages(&Rules::parse(text, p()).unwrap_err());
    assert_eq!(m.len(), 3, "{m:#?}");
    assert!(m[0].starts_with("/cfg/rules.toml:2:"), "{m:#?}");
    assert!(m[1].starts_with("/cfg/rules.toml:5:"), "{m:#?}");
    assert!(m[2].starts_with("/cfg/rules.toml:6:"), "{m:#?}");
}

#[test]
fn webhooks_never_appear_in_full_in_debug_or_errors() {
    let secret = "T0SECRET/B0SECRET/XXSECRET";
    let text = format!(
        "[[org]]\norg_key = \"A1\"\n[[org.contacts]]\nname = \"x\"\nslack_webhook = \"https://hooks.slack.com/services/{secret}\"\nteams_webhook = \"https://example.webhook.office.com/{secret}\"\n"
    );
    let r = parse(&text);
    let rule = r.lookup("A1", None, None);
    for dbg in [
        format!("{rule:?}"),
        format!("{r:?}"),
        format!("{:?}", rule.contacts[0]),
    ] {
        assert!(!dbg.contains("SECRET"), "{dbg}");
        assert!(dbg.contains("https://hooks.slack.com/…"), "{dbg}");
        assert!(
            dbg.contains("https://example.webhook.office.com/…"),
            "{dbg}"
        );
    }
    // The value is still there for whoever posts to it.
    assert!(
        rule.contacts[0]
            .slack_webhook
            .as_ref()
            .unwrap()
            .ends_with(secret)
    );

    // Wrong scheme, wrong type, user info: errors never echo the path.
    for bad in [
        format!("slack_webhook = \"http://hooks.slack.com/{secret}\""),
        format!("teams_webhook = \"ftp://u:{secret}@host/{secret}\""),
        format!("slack_webhook = \"{secret}\""),
        format!("slack_webhook = [\"{secret}\"]"),
        format!("slack_webhook = \"https://user:{secret}@h/x\""),
    ] {
        let text = format!("[[org]]\norg_key = \"A1\"\n[[org.contacts]]\nname = \"x\"\n{bad}\n");
        let errs = Rules::parse(&text, p()).expect_err(&bad);
        for m in messages(&errs) {
            assert!(!m.contains("SECRET"), "{m}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RulesWatcher

struct Dir {
    _tmp: tempfile::TempDir,
    path: PathBuf,
}

fn dir() -> Dir {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("rules.toml");
    Dir { _tmp: tmp, path }
}

/// Writes `text` and sets the modification time `secs` seconds after a fixed base, so every
/// write is seen as a change whatever the file system's time granularity.
fn write(path: &Path, text: &str, secs: u64) {
    fs::write(path, text).unwrap();
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs))
        .unwrap();
}

fn isolation_of(w: &RulesWatcher) -> Isolation {
    w.rules().lookup("A1", None, None).isolation
}

const GOOD_IMMEDIATE: &str = "[[org]]\norg_key = \"A1\"\nisolation = \"immediate\"\n";
const GOOD_APPROVAL: &str = "[[org]]\norg_key = \"A1\"\nisolation = \"approval\"\n";

#[test]
fn missing_file_is_empty_rules_and_creating_it_loads_it() {
    let d = dir();
    let (mut w, first) = RulesWatcher::new(d.path.clone());
    assert!(first.is_ok());
    assert!(w.rules().is_empty());
    assert_eq!(w.path(), d.path);
    assert!(matches!(w.check(), RulesChange::Unchanged));
    write(&d.path, GOOD_IMMEDIATE, 1);
    assert!(matches!(w.check(), RulesChange::Reloaded));
    assert_eq!(isolation_of(&w), Isolation::Immediate);
}

#[test]
fn changed_file_is_picked_up_and_touch_alone_is_unchanged() {
    let d = dir();
    write(&d.path, GOOD_IMMEDIATE, 1);
    let (mut w, first) = RulesWatcher::new(d.path.clone());
    assert!(first.is_ok());
    assert_eq!(isolation_of(&w), Isolation::Immediate);
    assert!(matches!(w.check(), RulesChange::Unchanged));

    write(&d.path, GOOD_APPROVAL, 2);
    assert!(matches!(w.check(), RulesChange::Reloaded));
    assert_eq!(isolation_of(&w), Isolation::Approval);
    assert!(matches!(w.check(), RulesChange::Unchanged));

    // Same content, new mtime: hashed, found equal, not reloaded.
    write(&d.path, GOOD_APPROVAL, 3);
    assert!(matches!(w.check(), RulesChange::Unchanged));
}

#[test]
fn invalid_edit_keeps_last_good_rules_and_fixing_it_reloads() {
    let d = dir();
    write(&d.path, GOOD_IMMEDIATE, 1);
    let (mut w, _) = RulesWatcher::new(d.path.clone());

    write(
        &d.path,
        "[[org]]\norg_key = \"A1\"\nisolation = \"sometimes\"\n",
        2,
    );
    match w.check() {
        RulesChange::Invalid(errs) => {
            let m = messages(&errs);
            assert_eq!(m.len(), 1);
            assert!(
                m[0].starts_with(&format!("{}:3:", d.path.display())),
                "{m:?}"
            );
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(
        isolation_of(&w),
        Isolation::Immediate,
        "last good rules stay"
    );
    assert!(matches!(w.check(), RulesChange::Unchanged), "reported once");

    write(&d.path, GOOD_APPROVAL, 3);
    assert!(matches!(w.check(), RulesChange::Reloaded));
    assert_eq!(isolation_of(&w), Isolation::Approval);
}

#[test]
fn broken_file_at_start_gives_empty_rules_and_the_errors() {
    let d = dir();
    write(&d.path, "[[org]]\norg_key = \"A1\"\nisolation = 3\n", 1);
    let (mut w, first) = RulesWatcher::new(d.path.clone());
    let errs = first.expect_err("broken file");
    assert!(messages(&errs)[0].contains(":3:"));
    assert!(w.rules().is_empty());
    assert!(matches!(w.check(), RulesChange::Unchanged));
    write(&d.path, GOOD_IMMEDIATE, 2);
    assert!(matches!(w.check(), RulesChange::Reloaded));
    assert_eq!(isolation_of(&w), Isolation::Immediate);
}

#[test]
fn removed_file_keeps_last_good_rules_and_says_so_once() {
    let d = dir();
    write(&d.path, GOOD_IMMEDIATE, 1);
    let (mut w, _) = RulesWatcher::new(d.path.clone());
    fs::remove_file(&d.path).unwrap();
    match w.check() {
        RulesChange::Invalid(errs) => {
            let m = messages(&errs).join("\n");
            assert!(m.contains("removed"), "{m}");
            assert!(m.contains(&d.path.display().to_string()), "{m}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(isolation_of(&w), Isolation::Immediate);
    assert!(matches!(w.check(), RulesChange::Unchanged));
    // The same text restored clears the error.
    write(&d.path, GOOD_IMMEDIATE, 2);
    assert!(matches!(w.check(), RulesChange::Reloaded));
    assert_eq!(isolation_of(&w), Isolation::Immediate);
}

#[test]
fn non_utf8_file_names_line() {
    let d = dir();
    fs::write(&d.path, b"[default]\nisolation = \"\xff\"\n").unwrap();
    let (_, first) = RulesWatcher::new(d.path.clone());
    let m = messages(&first.unwrap_err());
    assert!(
        m[0].starts_with(&format!("{}:2:", d.path.display())),
        "{m:?}"
    );
    assert!(m[0].contains("UTF-8"), "{m:?}");
}

// ---------------------------------------------------------------------------------------------
// --check-config

#[test]
fn check_config_reports_rules_errors_with_file_and_line() {
    use socdeck::config::{CredentialArgs, Env, check_config};
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let env = Env::from_vars(
        [("HOME", root.to_str().unwrap()), ("USER", "tester")],
        &root,
    )
    .with_system_dir(root.join("etc"));
    let cfg_dir = root.join(".config/socdeck");
    fs::create_dir_all(&cfg_dir).unwrap();
    let args = CredentialArgs::default();

    // No rules file: fine, and said so.
    let r = check_config(&args, &env, None);
    assert!(r.is_ok(), "{r}");
    assert!(r.to_string().contains("no rules file at"), "{r}");

    // The default location, next to the config file.
    let rules = cfg_dir.join("rules.toml");
    write(&rules, "[[org]]\norg_key = \"A1\"\n\n[[org.policy]]\n", 1);
    let r = check_config(&args, &env, None);
    assert_eq!(r.errors.len(), 1, "{r}");
    assert!(
        r.errors[0].starts_with(&format!("{}:4:", rules.display())),
        "{r}"
    );
    assert!(r.errors[0].contains("neither name nor id"), "{r}");

    // rules_file in the config, relative to the config directory.
    let other = cfg_dir.join("customers.toml");
    fs::write(
        cfg_dir.join("config.toml"),
        "rules_file = \"customers.toml\"\n",
    )
    .unwrap();
    write(&other, EXAMPLE, 1);
    let r = check_config(&args, &env, None);
    assert!(r.is_ok(), "{r}");
    assert!(
        r.to_string()
            .contains(&format!("rules file {} (1 org)", other.display())),
        "{r}"
    );
    assert_eq!(Rules::load(&other).unwrap(), Some(parse(EXAMPLE)));
    assert_eq!(Rules::load(&cfg_dir.join("absent.toml")).unwrap(), None);
}
