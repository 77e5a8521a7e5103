//! Customer rules (placeholder until the rules module lands; same API).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    Immediate,
    Approval,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Ja,
    En,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub isolation: Isolation,
    pub report_language: Language,
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {}

impl Rules {
    pub fn empty() -> Rules {
        Rules {}
    }
    pub fn lookup(&self, _org: &str, _name: Option<&str>, _id: Option<i64>) -> Rule {
        Rule {
            isolation: Isolation::Approval,
            report_language: Language::En,
            source: "built-in (no rule)".into(),
        }
    }
}
