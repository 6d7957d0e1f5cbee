//! When a failed delivery is tried again: exponential backoff from `base`, doubling up to `cap`,
//! or what the receiver asked for in `Retry-After` (bounded by `cap`); after `max_attempts`
//! the delivery is dead and waits for an admin to send it again.

use std::time::Duration;

/// The retry schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The wait after the first failed attempt.
    pub base: Duration,
    /// The longest wait between attempts.
    pub cap: Duration,
    /// Attempts before the delivery is dead.
    pub max_attempts: u32,
}

impl Default for Schedule {
    /// 5 s, 10 s, 20 s … up to 10 minutes between attempts, 16 attempts: about an hour and a
    /// half of retrying, so a receiver that is down for ten minutes (or an hour) misses nothing.
    fn default() -> Self {
        Schedule {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(600),
            max_attempts: 16,
        }
    }
}

impl Schedule {
    /// The wait before attempt `attempts + 1`, after `attempts` failed ones; `None` once the
    /// attempts are used up. A receiver's `Retry-After` replaces the backoff (at most `cap`).
    pub fn next_wait(&self, attempts: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        if let Some(asked) = retry_after {
            return Some(asked.min(self.cap));
        }
        let doublings = attempts.saturating_sub(1).min(31);
        let wait = self.base.saturating_mul(1u32 << doublings);
        Some(wait.min(self.cap))
    }
}

/// A `Retry-After` value: seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`),
/// as the wait from `now`. `None` when it is neither; a date in the past is no wait.
pub fn parse_retry_after(value: &str, now: time::OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = at - now;
    Some(wait.try_into().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_then_the_delivery_is_dead() {
        let s = Schedule {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(30),
            max_attempts: 6,
        };
        let waits: Vec<Option<u64>> = (1..=6)
            .map(|n| s.next_wait(n, None).map(|d| d.as_secs()))
            .collect();
        assert_eq!(waits, [Some(2), Some(4), Some(8), Some(16), Some(30), None]);
        assert_eq!(s.next_wait(u32::MAX - 1, None), None);
        let big = Schedule {
            max_attempts: u32::MAX,
            ..s
        };
        assert_eq!(big.next_wait(200, None), Some(Duration::from_secs(30)));
    }

    #[test]
    fn retry_after_replaces_the_backoff_within_the_cap() {
        let s = Schedule::default();
        assert_eq!(
            s.next_wait(1, Some(Duration::from_secs(1))),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            s.next_wait(1, Some(Duration::from_secs(86_400))),
            Some(s.cap)
        );
        assert_eq!(
            s.next_wait(s.max_attempts, Some(Duration::from_secs(1))),
            None
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = time::macros::datetime!(2026-10-21 07:27:00 UTC);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
