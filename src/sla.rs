//! The first-report clock: every alert must get a first report within 60 minutes of receipt.
//!
//! Receipt is CBC's `backend_timestamp` (when the alert was created in CBC, which is when the SOC
//! could first see it). Bands by time left: normal > warning threshold (20 min), warning ≤ 20,
//! critical ≤ 10, breached < 0 — thresholds configurable.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::cbc::model::Alert;

/// Clock settings (config `[sla]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaPolicy {
    pub first_report: SignedDuration,
    pub warning: SignedDuration,
    pub critical: SignedDuration,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy {
            first_report: SignedDuration::from_mins(60),
            warning: SignedDuration::from_mins(20),
            critical: SignedDuration::from_mins(10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    Normal,
    Warning,
    Critical,
    Breached,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Normal => "normal",
            Band::Warning => "warning",
            Band::Critical => "critical",
            Band::Breached => "breached",
        }
    }
}

/// The running first-report clock of one alert at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Clock {
    pub received_at: Timestamp,
    pub deadline: Timestamp,
    /// Negative once breached.
    pub remaining_s: i64,
    pub band: Band,
}

impl SlaPolicy {
    pub fn band(&self, remaining: SignedDuration) -> Band {
        if remaining.is_negative() {
            Band::Breached
        } else if remaining <= self.critical {
            Band::Critical
        } else if remaining <= self.warning {
            Band::Warning
        } else {
            Band::Normal
        }
    }

    /// The clock of `alert` at `now`; `None` when the alert has no receipt time.
    pub fn clock(&self, alert: &Alert, now: Timestamp) -> Option<Clock> {
        let received_at = alert.backend_timestamp?;
        let deadline = received_at.checked_add(self.first_report).ok()?;
        let remaining = deadline.duration_since(now);
        Some(Clock {
            received_at,
            deadline,
            remaining_s: remaining.as_secs(),
            band: self.band(remaining),
        })
    }
}

/// `mm:ss` of time left, `-mm:ss` once breached; hours roll into minutes (`-125:03`).
pub fn format_remaining(remaining_s: i64) -> String {
    let sign = if remaining_s < 0 { "-" } else { "" };
    let s = remaining_s.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn bands_at_their_edges() {
        let p = SlaPolicy::default();
        let m = SignedDuration::from_mins;
        assert_eq!(p.band(m(21)), Band::Normal);
        assert_eq!(p.band(m(20) + SignedDuration::from_secs(1)), Band::Normal);
        assert_eq!(p.band(m(20)), Band::Warning);
        assert_eq!(p.band(m(10) + SignedDuration::from_secs(1)), Band::Warning);
        assert_eq!(p.band(m(10)), Band::Critical);
        assert_eq!(p.band(SignedDuration::ZERO), Band::Critical);
        assert_eq!(p.band(SignedDuration::from_secs(-1)), Band::Breached);
    }

    #[test]
    fn deadline_is_receipt_plus_sixty_minutes() {
        let a = Alert {
            backend_timestamp: Some(at("2026-11-30T08:00:00Z")),
            ..Default::default()
        };
        let c = SlaPolicy::default()
            .clock(&a, at("2026-11-30T08:45:30Z"))
            .unwrap();
        assert_eq!(c.deadline, at("2026-11-30T09:00:00Z"));
        assert_eq!(c.remaining_s, 14 * 60 + 30);
        assert_eq!(c.band, Band::Warning);
        let late = SlaPolicy::default()
            .clock(&a, at("2026-11-30T09:04:10Z"))
            .unwrap();
        assert_eq!(late.band, Band::Breached);
        assert_eq!(format_remaining(late.remaining_s), "-04:10");
        assert!(
            SlaPolicy::default()
                .clock(&Alert::default(), at("2026-11-30T09:00:00Z"))
                .is_none()
        );
    }

    #[test]
    fn remaining_formats() {
        assert_eq!(format_remaining(0), "00:00");
        assert_eq!(format_remaining(59 * 60 + 59), "59:59");
        assert_eq!(format_remaining(-1), "-00:01");
        assert_eq!(format_remaining(-(125 * 60 + 3)), "-125:03");
    }
}
