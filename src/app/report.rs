//! First-report drafts: the four sections the service promises, in the customer's language,
//! prefilled from what the console knows about the alert. Pure text in, text out — the editor,
//! the journal and delivery build on it.
//!
//! Every attacker-controlled value is passed through the sanitiser before it enters a draft:
//! the draft is shown in the terminal and sent to the customer, and neither may receive raw
//! control characters or bidi overrides from an alert.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::triage::Level;
use crate::text;

/// The language of a report (the customer's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

/// What the console knows about an alert, as the draft uses it. Strings are raw; the template
/// sanitises them.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub customer: String,
    pub alert_id: String,
    pub received: Option<Timestamp>,
    pub device: String,
    pub device_os: String,
    pub user: String,
    pub process: String,
    pub cmdline: String,
    pub sha256: String,
    pub reason: String,
    pub ttps: Vec<String>,
    pub severity: Option<i64>,
    pub level: Option<Level>,
    /// Ancestors → the alerting process, as process names.
    pub ancestry: Vec<String>,
    /// Other devices linked to this one, with their evidence, one line each.
    pub lateral: Vec<String>,
    /// Whether the lateral-movement search ran (an empty list then means "none found").
    pub lateral_known: bool,
    /// The device's quarantine state in words, if known.
    pub quarantine: Option<String>,
}

/// Values in a draft: sanitised, one line, capped.
fn v(s: &str) -> String {
    let one_line: String = s.chars().map(|c| if c == '\n' { ' ' } else { c }).collect();
    let t = text::sanitize_with_cap(&one_line, 1000);
    if t.as_str().is_empty() {
        "-".into()
    } else {
        t.as_str().to_string()
    }
}

/// The lateral-movement findings as list lines; `unknown` when the search has not run,
/// `none` when it found nothing.
fn lateral_lines(f: &Facts, unknown: &str, none: &str) -> String {
    match (f.lateral_known, f.lateral.is_empty()) {
        (false, _) => unknown.to_string(),
        (true, true) => none.to_string(),
        (true, false) => f
            .lateral
            .iter()
            .map(|l| format!("  - {}", v(l)))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// The section headings of a first report, in order.
pub fn headings(lang: Lang) -> [&'static str; 4] {
    match lang {
        Lang::Ja => ["何が起こったか", "危険度", "推奨される対応", "隔離の要否"],
        Lang::En => [
            "What happened",
            "Severity",
            "Recommended actions",
            "Isolation",
        ],
    }
}

/// The subject line of a first report.
pub fn subject(lang: Lang, f: &Facts) -> String {
    let level = f.level.map(|l| level_word(lang, l)).unwrap_or_default();
    match lang {
        Lang::Ja => format!("【第一報】{} {} {}", v(&f.customer), v(&f.device), level),
        Lang::En => format!(
            "[First report] {} {} {}",
            v(&f.customer),
            v(&f.device),
            level
        ),
    }
    .trim_end()
    .to_string()
}

fn level_word(lang: Lang, l: Level) -> String {
    match (lang, l) {
        (Lang::Ja, Level::High) => "危険度: 高".into(),
        (Lang::Ja, Level::Medium) => "危険度: 中".into(),
        (Lang::Ja, Level::Low) => "危険度: 低".into(),
        (Lang::Ja, Level::FalsePositive) => "誤検知".into(),
        (Lang::En, l) => format!("Severity: {l}"),
    }
}

/// The prefilled first-report draft.
pub fn first_report(lang: Lang, f: &Facts, tz: &TimeZone) -> String {
    let [what, sev, todo, iso] = headings(lang);
    let when = f
        .received
        .map(|t| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_else(|| "-".into());
    let ttps = if f.ttps.is_empty() {
        "-".to_string()
    } else {
        f.ttps.iter().map(|t| v(t)).collect::<Vec<_>>().join(", ")
    };
    let ancestry = if f.ancestry.is_empty() {
        "-".to_string()
    } else {
        f.ancestry
            .iter()
            .map(|p| v(p))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    let lateral = lateral_lines(
        f,
        match lang {
            Lang::Ja => "  (未調査)",
            Lang::En => "  (not investigated yet)",
        },
        match lang {
            Lang::Ja => "  他の端末への横展開は確認されていません。",
            Lang::En => "  No spread to other devices was found.",
        },
    );
    let level = f
        .level
        .map(|l| level_word(lang, l))
        .unwrap_or_else(|| "-".into());
    let severity = f.severity.map_or("-".into(), |s| s.to_string());
    let quarantine = f.quarantine.as_deref().map_or("-".into(), v);
    match lang {
        Lang::Ja => format!(
            "■ {what}\n\
             {when}、{customer} 様の端末 {device}（{os}）でアラートを検知しました。\n\
             検知内容: {reason}\n\
             ユーザー: {user}\n\
             プロセス: {process}\n\
             コマンドライン: {cmdline}\n\
             SHA-256: {sha}\n\
             プロセスの系譜: {ancestry}\n\
             手法 (TTP): {ttps}\n\
             横展開:\n{lateral}\n\
             アラートID: {id}\n\
             \n\
             ■ {sev}\n\
             {level}（CBC 重大度 {severity}/10）\n\
             \n\
             ■ {todo}\n\
             - \n\
             \n\
             ■ {iso}\n\
             現在の状態: {quarantine}\n\
             - \n",
            customer = v(&f.customer),
            device = v(&f.device),
            os = v(&f.device_os),
            reason = v(&f.reason),
            user = v(&f.user),
            process = v(&f.process),
            cmdline = v(&f.cmdline),
            sha = v(&f.sha256),
            id = v(&f.alert_id),
        ),
        Lang::En => format!(
            "## {what}\n\
             At {when} an alert was raised on {customer}'s device {device} ({os}).\n\
             Detection: {reason}\n\
             User: {user}\n\
             Process: {process}\n\
             Command line: {cmdline}\n\
             SHA-256: {sha}\n\
             Process ancestry: {ancestry}\n\
             Techniques (TTPs): {ttps}\n\
             Lateral movement:\n{lateral}\n\
             Alert id: {id}\n\
             \n\
             ## {sev}\n\
             {level} (CBC severity {severity}/10)\n\
             \n\
             ## {todo}\n\
             - \n\
             \n\
             ## {iso}\n\
             Current state: {quarantine}\n\
             - \n",
            customer = v(&f.customer),
            device = v(&f.device),
            os = v(&f.device_os),
            reason = v(&f.reason),
            user = v(&f.user),
            process = v(&f.process),
            cmdline = v(&f.cmdline),
            sha = v(&f.sha256),
            id = v(&f.alert_id),
        ),
    }
}

/// The section headings of a second report, in order.
pub fn second_headings(lang: Lang) -> [&'static str; 4] {
    match lang {
        Lang::Ja => [
            "攻撃者と手法",
            "変更されたファイルとレジストリ",
            "アラート端末以外への横展開",
            "実施した対策と再発防止策",
        ],
        Lang::En => [
            "Attacker and techniques",
            "Files and registry changed",
            "Lateral movement beyond the alerting host",
            "Measures taken and recommended",
        ],
    }
}

/// A MITRE ATT&CK technique named in CBC's TTP form (`MITRE_T1059_001_POWERSHELL`), as
/// "T1059.001 Powershell"; other TTPs as they are.
pub fn mitre_name(ttp: &str) -> String {
    let Some(rest) = ttp.strip_prefix("MITRE_") else {
        return ttp.to_string();
    };
    let mut parts = rest.split('_');
    let Some(t) = parts.next().filter(|t| t.starts_with('T')) else {
        return ttp.to_string();
    };
    let mut id = t.to_string();
    let mut words: Vec<&str> = parts.collect();
    if let Some(sub) = words
        .first()
        .filter(|w| w.len() == 3 && w.bytes().all(|b| b.is_ascii_digit()))
    {
        id = format!("{id}.{sub}");
        words.remove(0);
    }
    let name: Vec<String> = words
        .iter()
        .map(|w| {
            let lower = w.to_lowercase();
            let mut c = lower.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("{id} {}", name.join(" ")).trim_end().to_string()
}

/// The subject line of a second report.
pub fn second_subject(lang: Lang, f: &Facts) -> String {
    match lang {
        Lang::Ja => format!("【第二報】{} {}", v(&f.customer), v(&f.device)),
        Lang::En => format!("[Second report] {} {}", v(&f.customer), v(&f.device)),
    }
}

/// The prefilled second-report draft: attacker and techniques, changes, spread, measures.
pub fn second_report(lang: Lang, f: &Facts) -> String {
    let [who, changed, spread, measures] = second_headings(lang);
    let mark = match lang {
        Lang::Ja => "■",
        Lang::En => "##",
    };
    let ttps = if f.ttps.is_empty() {
        "  -".to_string()
    } else {
        f.ttps
            .iter()
            .map(|t| format!("  - {}", v(&mitre_name(t))))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let lateral = lateral_lines(
        f,
        "  -",
        match lang {
            Lang::Ja => "  アラート端末以外への横展開は確認されていません。",
            Lang::En => "  No spread beyond the alerting host was found.",
        },
    );
    let (process_l, hash_l, banned_l, ioc_l) = match lang {
        Lang::Ja => (
            "プロセス",
            "SHA-256",
            "禁止したハッシュ",
            "ファイアウォール/UTM でのブロック推奨 (IOC)",
        ),
        Lang::En => (
            "Process",
            "SHA-256",
            "Hashes banned",
            "Recommended firewall/UTM blocks (IOCs)",
        ),
    };
    format!(
        "{mark} {who}\n{ttps}\n  {process_l}: {process}\n  {cmd}\n\n\
         {mark} {changed}\n  - \n\n\
         {mark} {spread}\n{lateral}\n\n\
         {mark} {measures}\n  {banned_l}: {hash_l} {sha}\n  {ioc_l}:\n  - \n",
        process = v(&f.process),
        cmd = v(&f.cmdline),
        sha = v(&f.sha256),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            customer: "Tanaka Seiki".into(),
            alert_id: "a-1".into(),
            received: Some("2026-11-30T00:05:00Z".parse().unwrap()),
            device: "経理部-PC01".into(),
            device_os: "WINDOWS".into(),
            user: r"TANAKA\k.sato".into(),
            process: "WINWORD.EXE".into(),
            cmdline: "evil\u{1b}[2J\u{202e}cmd\nsecond line".into(),
            sha256: "ab".repeat(32),
            reason: "Office macro started PowerShell".into(),
            ttps: vec!["MITRE_T1059_001_POWERSHELL".into()],
            severity: Some(9),
            level: Some(Level::High),
            ancestry: vec!["explorer.exe".into(), "WINWORD.EXE".into()],
            lateral: vec!["FIN-FS01: SMB 445 at 09:12".into()],
            lateral_known: true,
            quarantine: Some("not quarantined".into()),
        }
    }

    #[test]
    fn both_languages_have_the_four_sections_in_order() {
        let tz = TimeZone::get("Asia/Tokyo").unwrap();
        for lang in [Lang::Ja, Lang::En] {
            let d = first_report(lang, &facts(), &tz);
            let pos: Vec<usize> = headings(lang)
                .iter()
                .map(|h| d.find(h).unwrap_or_else(|| panic!("{h} missing:\n{d}")))
                .collect();
            assert!(pos.windows(2).all(|w| w[0] < w[1]), "{d}");
            assert!(d.contains("2026-11-30 09:05 JST"), "{d}");
            assert!(d.contains("explorer.exe → WINWORD.EXE"));
            assert!(d.contains("FIN-FS01: SMB 445"));
            assert!(d.contains(&"ab".repeat(32)));
        }
        let ja = first_report(Lang::Ja, &facts(), &tz);
        assert!(ja.contains("経理部-PC01") && ja.contains("危険度: 高"));
        assert!(subject(Lang::Ja, &facts()).starts_with("【第一報】Tanaka Seiki 経理部-PC01"));
        assert_eq!(
            subject(Lang::En, &facts()),
            "[First report] Tanaka Seiki 経理部-PC01 Severity: High"
        );
    }

    #[test]
    fn attacker_strings_arrive_sanitised_and_on_one_line() {
        let d = first_report(Lang::En, &facts(), &TimeZone::UTC);
        assert!(!d.chars().any(|c| c == '\u{1b}' || c == '\u{202e}'));
        assert!(d.contains(r"evil\x1b[2J\u202ecmd second line"), "{d}");
    }

    #[test]
    fn second_reports_name_mitre_techniques_and_have_their_sections() {
        assert_eq!(
            mitre_name("MITRE_T1059_001_POWERSHELL"),
            "T1059.001 Powershell"
        );
        assert_eq!(
            mitre_name("MITRE_T1003_CREDENTIAL_DUMPING"),
            "T1003 Credential Dumping"
        );
        assert_eq!(mitre_name("RUN_CMD_SHELL"), "RUN_CMD_SHELL");
        for lang in [Lang::Ja, Lang::En] {
            let d = second_report(lang, &facts());
            let pos: Vec<usize> = second_headings(lang)
                .iter()
                .map(|h| d.find(h).unwrap_or_else(|| panic!("{h}:\n{d}")))
                .collect();
            assert!(pos.windows(2).all(|w| w[0] < w[1]));
            assert!(d.contains("T1059.001 Powershell"));
            assert!(!d.contains('\u{1b}'));
        }
    }

    #[test]
    fn unknowns_say_so() {
        let f = Facts::default();
        let d = first_report(Lang::En, &f, &TimeZone::UTC);
        assert!(d.contains("(not investigated yet)"));
        let mut f = facts();
        f.lateral.clear();
        assert!(first_report(Lang::Ja, &f, &TimeZone::UTC).contains("横展開は確認されていません"));
    }
}
