//! Structured notes: what socdeck writes to CBC so that every console — and the next shift on
//! another host — agrees on an alert's triage level, owner and actions (PRODUCT.md §5).
//!
//! A structured note is one line, `socdeck: <verb> key=value ...`, optionally followed by free
//! text on later lines (for people reading the note in the CBC console). Values with spaces or
//! quotes are double-quoted with `\"` and `\\` escapes. Anything that does not parse is simply
//! not a structured note: notes are written by people and other tools too, and a malformed or
//! hostile note must never change what the console believes beyond what it says.

use jiff::Timestamp;

use super::triage::Level;

/// The prefix that marks a structured note.
pub const PREFIX: &str = "socdeck:";

/// One structured statement about an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The analyst set the triage level.
    Level(Level),
    /// The analyst took the alert (became its owner).
    Take,
    /// A quarantine of the alert's device was requested (`on`) or released.
    Quarantine { on: bool, device_id: i64 },
    /// The alert's SHA-256 was banned (BLACK_LIST) or allowed (WHITE_LIST).
    Override { ban: bool, sha256: String },
    /// A report was sent (the first or the second) through these channels; the note's time
    /// is when the first written delivery succeeded.
    ReportSent { second: bool, channels: String },
}

/// A parsed structured note: the statement, who made it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub entry: Entry,
    pub analyst: String,
    pub at: Timestamp,
}

impl Note {
    /// The note's first line (what other consoles parse).
    pub fn to_line(&self) -> String {
        let mut s = String::from(PREFIX);
        match &self.entry {
            Entry::Level(l) => push_kv(&mut s, "level", level_word(*l)),
            Entry::Take => s.push_str(" take"),
            Entry::Quarantine { on, device_id } => {
                push_kv(&mut s, "quarantine", if *on { "on" } else { "off" });
                push_kv(&mut s, "device", &device_id.to_string());
            }
            Entry::Override { ban, sha256 } => {
                push_kv(&mut s, if *ban { "ban" } else { "allow" }, sha256);
            }
            Entry::ReportSent { second, channels } => {
                s.push_str(if *second {
                    " second-report sent"
                } else {
                    " first-report sent"
                });
                push_kv(&mut s, "channels", channels);
            }
        }
        push_kv(&mut s, "analyst", &self.analyst);
        push_kv(&mut s, "at", &self.at.to_string());
        s
    }

    /// Parses a note's text; `None` when it is not a well-formed structured note.
    pub fn parse(text: &str) -> Option<Note> {
        let line = text.lines().next()?.trim();
        let rest = line.strip_prefix(PREFIX)?;
        let pairs = tokens(rest)?;
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| v.as_deref())
        };
        let analyst = get("analyst")?.to_string();
        let at: Timestamp = get("at")?.parse().ok()?;
        let entry = if let Some(l) = get("level") {
            Entry::Level(parse_level(l)?)
        } else if pairs.iter().any(|(k, v)| k == "take" && v.is_none()) {
            Entry::Take
        } else if let Some(q) = get("quarantine") {
            let on = match q {
                "on" => true,
                "off" => false,
                _ => return None,
            };
            Entry::Quarantine {
                on,
                device_id: get("device")?.parse().ok()?,
            }
        } else if let Some(second) = ["first-report", "second-report"]
            .iter()
            .position(|w| pairs.iter().any(|(k, v)| k == w && v.is_none()))
            .filter(|_| pairs.iter().any(|(k, v)| k == "sent" && v.is_none()))
        {
            Entry::ReportSent {
                second: second == 1,
                channels: get("channels").unwrap_or("").to_string(),
            }
        } else if let Some(h) = get("ban").or(get("allow")) {
            Entry::Override {
                ban: get("ban").is_some(),
                sha256: h.to_string(),
            }
        } else {
            return None;
        };
        Some(Note { entry, analyst, at })
    }
}

fn level_word(l: Level) -> &'static str {
    match l {
        Level::High => "High",
        Level::Medium => "Medium",
        Level::Low => "Low",
        Level::FalsePositive => "FalsePositive",
    }
}

fn parse_level(s: &str) -> Option<Level> {
    match s {
        "High" => Some(Level::High),
        "Medium" => Some(Level::Medium),
        "Low" => Some(Level::Low),
        "FalsePositive" => Some(Level::FalsePositive),
        _ => None,
    }
}

fn push_kv(s: &mut String, k: &str, v: &str) {
    s.push(' ');
    s.push_str(k);
    s.push('=');
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '\\');
    if plain {
        s.push_str(v);
    } else {
        s.push('"');
        for c in v.chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                // One line: a newline in a name would end the structured line.
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                c => s.push(c),
            }
        }
        s.push('"');
    }
}

/// Splits `key=value` / bare-word tokens; `None` on an unterminated quote.
fn tokens(s: &str) -> Option<Vec<(String, Option<String>)>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            out.push((key, None));
            continue;
        }
        chars.next();
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => match chars.next()? {
                        'n' => value.push('\n'),
                        'r' => value.push('\r'),
                        c => value.push(c),
                    },
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key, Some(value)));
    }
}

/// What the structured notes of one alert say, latest statement winning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    pub level: Option<(Level, String, Timestamp)>,
    pub owner: Option<(String, Timestamp)>,
    /// The first report's sending time, analyst and channels (the earliest note counts).
    pub first_report: Option<(Timestamp, String, String)>,
    pub second_report: Option<(Timestamp, String, String)>,
}

impl Ledger {
    /// Folds notes (any order; unparseable ones are skipped) into the current state.
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Ledger {
        let mut notes: Vec<Note> = texts.into_iter().filter_map(Note::parse).collect();
        notes.sort_by_key(|n| n.at);
        let mut l = Ledger::default();
        for n in notes {
            match n.entry {
                Entry::Level(level) => {
                    // Setting a level is taking responsibility for the alert, too.
                    l.owner = Some((n.analyst.clone(), n.at));
                    l.level = Some((level, n.analyst, n.at));
                }
                Entry::Take => l.owner = Some((n.analyst, n.at)),
                Entry::ReportSent { second, channels } => {
                    let slot = if second {
                        &mut l.second_report
                    } else {
                        &mut l.first_report
                    };
                    // Sent once is sent: a later duplicate note does not move the time.
                    slot.get_or_insert((n.at, n.analyst, channels));
                }
                Entry::Quarantine { .. } | Entry::Override { .. } => {}
            }
        }
        l
    }

    /// What two readings say together, by the same rules as [`Ledger::from_texts`]: the latest
    /// level and owner win, the earliest sending of a report counts.
    pub fn combine(&self, other: &Ledger) -> Ledger {
        fn pick<T: Clone>(
            a: &Option<T>,
            b: &Option<T>,
            keep_a: impl Fn(&T, &T) -> bool,
        ) -> Option<T> {
            match (a, b) {
                (Some(x), Some(y)) => Some(if keep_a(x, y) { x.clone() } else { y.clone() }),
                (x, y) => y.clone().or_else(|| x.clone()),
            }
        }
        Ledger {
            level: pick(&self.level, &other.level, |a, b| a.2 > b.2),
            owner: pick(&self.owner, &other.owner, |a, b| a.1 > b.1),
            first_report: pick(&self.first_report, &other.first_report, |a, b| a.0 <= b.0),
            second_report: pick(&self.second_report, &other.second_report, |a, b| a.0 <= b.0),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.level.is_none()
            && self.owner.is_none()
            && self.first_report.is_none()
            && self.second_report.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn every_entry_round_trips() {
        let entries = [
            Entry::Level(Level::High),
            Entry::Level(Level::FalsePositive),
            Entry::Take,
            Entry::Quarantine {
                on: true,
                device_id: 42,
            },
            Entry::Quarantine {
                on: false,
                device_id: -1,
            },
            Entry::Override {
                ban: true,
                sha256: "ab".repeat(32),
            },
            Entry::Override {
                ban: false,
                sha256: "cd".repeat(32),
            },
            Entry::ReportSent {
                second: false,
                channels: "email,slack".into(),
            },
            Entry::ReportSent {
                second: true,
                channels: "teams".into(),
            },
        ];
        for analyst in ["yamada", "Taro \"T\" Yamada", "山田 太郎", "a\\b", "x\ny"] {
            for e in &entries {
                let n = Note {
                    entry: e.clone(),
                    analyst: analyst.into(),
                    at: at("2026-11-30T10:00:00Z"),
                };
                let line = n.to_line();
                assert!(!line.contains('\n'), "{line:?}");
                assert_eq!(Note::parse(&line), Some(n.clone()), "{line}");
                // Free text after the first line is for people; it does not change the parse.
                assert_eq!(Note::parse(&format!("{line}\nplease call me")), Some(n));
            }
        }
    }

    #[test]
    fn the_documented_form_parses() {
        let n = Note::parse("socdeck: level=High analyst=yamada at=2026-11-30T01:02:03Z").unwrap();
        assert_eq!(n.entry, Entry::Level(Level::High));
        assert_eq!(n.analyst, "yamada");
    }

    #[test]
    fn the_first_report_note_stops_at_its_earliest_sending() {
        let sent = |at: &str| {
            Note {
                entry: Entry::ReportSent {
                    second: false,
                    channels: "email".into(),
                },
                analyst: "yamada".into(),
                at: at.parse().unwrap(),
            }
            .to_line()
        };
        let (a, b) = (sent("2026-11-30T10:37:12Z"), sent("2026-11-30T11:00:00Z"));
        assert!(a.starts_with("socdeck: first-report sent channels=email analyst=yamada at="));
        let l = Ledger::from_texts([b.as_str(), a.as_str()]);
        assert_eq!(
            l.first_report.unwrap().0,
            "2026-11-30T10:37:12Z".parse::<Timestamp>().unwrap()
        );
        assert!(l.second_report.is_none());
    }

    #[test]
    fn malformed_and_foreign_notes_are_not_structured() {
        for t in [
            "",
            "call the customer",
            "socdeck:",
            "socdeck: level=High", // no analyst, no time
            "socdeck: level=Urgent analyst=a at=2026-11-30T00:00:00Z", // unknown level
            "socdeck: level=High analyst=a at=yesterday",
            "socdeck: level=High analyst=\"a at=2026-11-30T00:00:00Z", // unterminated quote
            "socdeck: quarantine=maybe device=1 analyst=a at=2026-11-30T00:00:00Z",
            "socdeck: quarantine=on device=x analyst=a at=2026-11-30T00:00:00Z",
            "socdeck: hello analyst=a at=2026-11-30T00:00:00Z",
            " note: socdeck: level=High analyst=a at=2026-11-30T00:00:00Z",
        ] {
            assert_eq!(Note::parse(t), None, "{t:?}");
        }
    }

    #[test]
    fn the_latest_statement_wins_whatever_the_note_order() {
        let l1 = Note {
            entry: Entry::Level(Level::High),
            analyst: "a".into(),
            at: at("2026-11-30T10:00:00Z"),
        }
        .to_line();
        let take = Note {
            entry: Entry::Take,
            analyst: "b".into(),
            at: at("2026-11-30T10:05:00Z"),
        }
        .to_line();
        let l2 = Note {
            entry: Entry::Level(Level::Low),
            analyst: "c".into(),
            at: at("2026-11-30T10:10:00Z"),
        }
        .to_line();
        let ledger = Ledger::from_texts([l2.as_str(), "free text", take.as_str(), l1.as_str()]);
        assert_eq!(ledger.level.as_ref().unwrap().0, Level::Low);
        assert_eq!(ledger.owner.as_ref().unwrap().0, "c");
        let ledger = Ledger::from_texts([l1.as_str(), take.as_str()]);
        assert_eq!(ledger.level.as_ref().unwrap().0, Level::High);
        assert_eq!(ledger.owner.as_ref().unwrap().0, "b");
        assert!(Ledger::from_texts(["nothing here"]).is_empty());
    }
}
