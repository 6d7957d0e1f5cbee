//! Sign-in throttling by delay, never by lock-out.
//!
//! Failed sign-ins are counted under three keys: the account together with the client
//! address, the account alone, and the address alone. Each key allows a few free failures,
//! then asks the next attempt to wait `2^(failures − free)` seconds after the last failure, up
//! to a ceiling. A refused (throttled) attempt is not a failure and is not counted, so an
//! attacker cannot keep a key locked by trying within the delay. The account-only ceiling is
//! short: someone guessing from elsewhere can slow a user by at most that much, while guessing
//! from one address (the account-and-address key) is slowed to one try per quarter hour. The
//! count of a key is forgotten after a quiet window. This follows OWASP's guidance on
//! authentication throttling (exponential delay; lock-out only as a last resort).

/// One key's allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Failures allowed before any delay.
    pub free: u32,
    /// Longest delay, in seconds.
    pub max_delay_secs: i64,
}

/// The allowances and the quiet window after which counts are forgotten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Account and address together.
    pub pair: Rule,
    /// Account alone, from any address.
    pub account: Rule,
    /// Address alone, over any accounts.
    pub address: Rule,
    /// Seconds without a failure after which a key's count starts again.
    pub window_secs: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            pair: Rule {
                free: 3,
                max_delay_secs: 15 * 60,
            },
            account: Rule {
                free: 10,
                max_delay_secs: 60,
            },
            address: Rule {
                free: 20,
                max_delay_secs: 5 * 60,
            },
            window_secs: 15 * 60,
        }
    }
}

/// The delay after `failures` counted failures: 0 while free, then doubling from 1 s.
pub fn delay_after(failures: u32, rule: Rule) -> i64 {
    if failures < rule.free {
        return 0;
    }
    let exp = (failures - rule.free).min(40);
    (1i64 << exp).min(rule.max_delay_secs)
}

/// Seconds left to wait for a key with `failures` (the last at `last`, unix seconds) at `now`;
/// 0 when an attempt may go ahead. A count older than the window no longer applies.
pub fn wait(failures: u32, last: i64, now: i64, rule: Rule, window_secs: i64) -> i64 {
    if now - last >= window_secs {
        return 0;
    }
    (last + delay_after(failures, rule) - now).max(0)
}

/// The count after one more failure at `now`: a count older than the window starts again.
pub fn next_count(failures: u32, last: i64, now: i64, window_secs: i64) -> u32 {
    if now - last >= window_secs {
        1
    } else {
        failures.saturating_add(1)
    }
}

/// The start (unix seconds) of the fixed window `at` falls in: failed sign-ins are reported
/// to the audit trail once per account and window.
pub fn window_start(at: i64, window_secs: i64) -> i64 {
    at - at.rem_euclid(window_secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const R: Rule = Rule {
        free: 3,
        max_delay_secs: 900,
    };

    #[test]
    fn free_tries_then_doubling_to_the_ceiling() {
        let d: Vec<i64> = (0..16).map(|n| delay_after(n, R)).collect();
        assert_eq!(&d[..8], &[0, 0, 0, 1, 2, 4, 8, 16]);
        assert_eq!(d[13], 900, "capped");
        assert_eq!(delay_after(u32::MAX, R), 900);
    }

    #[test]
    fn waiting_counts_from_the_last_failure_and_expires_with_the_window() {
        assert_eq!(wait(5, 1000, 1001, R, 900), 3);
        assert_eq!(wait(5, 1000, 1004, R, 900), 0);
        assert_eq!(wait(20, 1000, 1500, R, 900), 400);
        assert_eq!(wait(20, 1000, 1900, R, 900), 0, "the window has passed");
        assert_eq!(next_count(20, 1000, 1100, 900), 21);
        assert_eq!(next_count(20, 1000, 1900, 900), 1);
    }

    #[test]
    fn windows_are_fixed_buckets() {
        assert_eq!(window_start(1000, 900), 900);
        assert_eq!(window_start(1799, 900), 900);
        assert_eq!(window_start(1800, 900), 1800);
    }

    proptest! {
        #[test]
        fn the_wait_never_exceeds_the_ceiling(n in 0u32..1000, last in 0i64..10_000, d in 0i64..10_000) {
            let w = wait(n, last, last + d, R, 900);
            prop_assert!((0..=R.max_delay_secs).contains(&w));
        }
    }
}
