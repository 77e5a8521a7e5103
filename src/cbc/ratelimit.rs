//! One rate-limit gate per CBC host, shared by every client in the process.
//!
//! CBC limits per source, and requests sent inside the `Retry-After` window push the release
//! further out, so after a 429 *nothing* may go to that host until the window has passed — not
//! from the org's poller, not from another org on the same host, not from an action.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use super::error::ApiError;

/// Used when `Retry-After` is absent or unreadable: long enough not to hammer a limiter.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Longest window honoured; anything longer is capped (and reported to the user, who can act).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
pub struct HostGate {
    blocked_until: Mutex<Option<(Instant, Timestamp)>>,
}

static GATES: LazyLock<Mutex<HashMap<String, Arc<HostGate>>>> = LazyLock::new(Default::default);

impl HostGate {
    /// The gate of `host` (`name[:port]`), created on first use.
    pub fn for_host(host: &str) -> Arc<HostGate> {
        let mut gates = GATES.lock().unwrap_or_else(|p| p.into_inner());
        gates.entry(host.to_owned()).or_default().clone()
    }

    /// Closes the gate for `wait` (never shortening a longer closure); returns the wall-clock
    /// time it opens again.
    pub fn block_for(&self, wait: Duration) -> Timestamp {
        let mut g = self.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + wait;
        let wall = Timestamp::now() + wait;
        match *g {
            Some((current, current_wall)) if current >= until => current_wall,
            _ => {
                *g = Some((until, wall));
                wall
            }
        }
    }

    /// The remaining closure, if any.
    pub fn remaining(&self) -> Option<(Duration, Timestamp)> {
        let g = self.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        g.and_then(|(until, wall)| {
            let now = Instant::now();
            (until > now).then(|| (until - now, wall))
        })
    }

    /// Waits until the gate is open when that takes at most `max_wait`; otherwise fails at once
    /// with the time it opens, so the caller can show it instead of hanging.
    pub async fn wait(&self, max_wait: Duration, host: &str) -> Result<(), ApiError> {
        while let Some((left, wall)) = self.remaining() {
            if left > max_wait {
                return Err(ApiError::RateLimited {
                    host: host.to_owned(),
                    until: wall,
                    wait_s: left.as_secs().max(1),
                });
            }
            tokio::time::sleep(left).await;
        }
        Ok(())
    }
}

/// `Retry-After` as delay-seconds or an HTTP-date; missing or malformed values give
/// [`DEFAULT_RETRY_AFTER`], huge ones are capped at [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(header: Option<&str>, now: Timestamp) -> Duration {
    let Some(raw) = header.map(str::trim) else {
        return DEFAULT_RETRY_AFTER;
    };
    let wait = if let Ok(secs) = raw.parse::<u64>() {
        Duration::from_secs(secs)
    } else if let Ok(date) = jiff::fmt::rfc2822::parse(raw) {
        let delta = date.timestamp().as_millisecond() - now.as_millisecond();
        Duration::from_millis(delta.max(0) as u64)
    } else {
        DEFAULT_RETRY_AFTER
    };
    wait.min(MAX_RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now: Timestamp = "2026-11-30T08:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after(Some("7"), now), Duration::from_secs(7));
        assert_eq!(parse_retry_after(Some(" 0 "), now), Duration::ZERO);
        assert_eq!(
            parse_retry_after(Some("Mon, 30 Nov 2026 08:00:30 GMT"), now),
            Duration::from_secs(30)
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after(Some("Mon, 30 Nov 2026 07:00:00 GMT"), now),
            Duration::ZERO
        );
        assert_eq!(parse_retry_after(Some("86400"), now), MAX_RETRY_AFTER);
        assert_eq!(parse_retry_after(Some("soon"), now), DEFAULT_RETRY_AFTER);
        assert_eq!(parse_retry_after(Some("-5"), now), DEFAULT_RETRY_AFTER);
        assert_eq!(parse_retry_after(None, now), DEFAULT_RETRY_AFTER);
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_gate_holds_every_caller_until_it_opens() {
        let gate = HostGate::for_host("gate-test.invalid:1");
        gate.block_for(Duration::from_secs(7));
        // A shorter block never reopens the gate early.
        gate.block_for(Duration::from_secs(1));
        let t0 = Instant::now();
        gate.wait(Duration::from_secs(60), "h").await.unwrap();
        assert!(t0.elapsed() >= Duration::from_secs(7));
        // Longer than the caller will wait: an error naming the wait, no sleep.
        gate.block_for(Duration::from_secs(600));
        let e = gate.wait(Duration::from_secs(60), "h").await.unwrap_err();
        assert!(
            matches!(e, ApiError::RateLimited { wait_s, .. } if wait_s >= 599),
            "{e}"
        );
    }
}
