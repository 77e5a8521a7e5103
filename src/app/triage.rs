//! The SOC's four triage levels, on top of CBC's 1–10 severity.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    High,
    Medium,
    Low,
    FalsePositive,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::High, Level::Medium, Level::Low, Level::FalsePositive];

    /// Short label for narrow columns.
    pub fn short(self) -> &'static str {
        match self {
            Level::High => "High",
            Level::Medium => "Med",
            Level::Low => "Low",
            Level::FalsePositive => "FP",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::High => "high",
            Level::Medium => "medium",
            Level::Low => "low",
            Level::FalsePositive => "false_positive",
        }
    }

    pub fn from_name(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "high" | "h" => Some(Level::High),
            "medium" | "med" | "m" => Some(Level::Medium),
            "low" | "l" => Some(Level::Low),
            "false_positive" | "fp" => Some(Level::FalsePositive),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::High => "High",
            Level::Medium => "Medium",
            Level::Low => "Low",
            Level::FalsePositive => "False positive",
        })
    }
}

/// Which CBC severities suggest which level (PRODUCT.md §1: 8–10 High, 5–7 Medium, 1–4 Low).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelPolicy {
    /// Lowest severity suggesting High.
    pub high_from: u8,
    /// Lowest severity suggesting Medium.
    pub medium_from: u8,
}

impl Default for LevelPolicy {
    fn default() -> Self {
        LevelPolicy {
            high_from: 8,
            medium_from: 5,
        }
    }
}

impl From<&crate::config::TriageConfig> for LevelPolicy {
    /// `[triage] high_min` / `medium_min` (validated when the config is loaded).
    fn from(c: &crate::config::TriageConfig) -> Self {
        LevelPolicy {
            high_from: c.high_min,
            medium_from: c.medium_min,
        }
    }
}

impl LevelPolicy {
    /// The level suggested by a CBC severity; an alert without severity is treated as Medium
    /// so it is neither ignored nor over-escalated.
    pub fn suggest(&self, severity: Option<u8>) -> Level {
        match severity {
            Some(s) if s >= self.high_from => Level::High,
            Some(s) if s >= self.medium_from => Level::Medium,
            Some(_) => Level::Low,
            None => Level::Medium,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_suggests_levels_at_the_documented_edges() {
        let p = LevelPolicy::default();
        assert_eq!(p.suggest(Some(10)), Level::High);
        assert_eq!(p.suggest(Some(8)), Level::High);
        assert_eq!(p.suggest(Some(7)), Level::Medium);
        assert_eq!(p.suggest(Some(5)), Level::Medium);
        assert_eq!(p.suggest(Some(4)), Level::Low);
        assert_eq!(p.suggest(Some(1)), Level::Low);
        assert_eq!(p.suggest(None), Level::Medium);
    }

    #[test]
    fn config_thresholds_drive_the_suggestion() {
        let default = LevelPolicy::from(&crate::config::TriageConfig::default());
        assert_eq!(default, LevelPolicy::default());
        let p = LevelPolicy::from(&crate::config::TriageConfig {
            high_min: 9,
            medium_min: 3,
            ..Default::default()
        });
        assert_eq!(p.suggest(Some(8)), Level::Medium);
        assert_eq!(p.suggest(Some(9)), Level::High);
        assert_eq!(p.suggest(Some(3)), Level::Medium);
        assert_eq!(p.suggest(Some(2)), Level::Low);
    }

    #[test]
    fn names_round_trip() {
        for l in Level::ALL {
            assert_eq!(Level::from_name(l.name()), Some(l));
        }
    }
}
