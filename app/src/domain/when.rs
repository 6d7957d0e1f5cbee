//! Times as people read them: `3 Dec 2026, 08:03 UTC`, and ages such as `2 h ago`.
//!
//! Pure functions of their arguments: nothing here reads the clock, so the server's HTML and the
//! hydrated page print the same text. Ages are measured against a `now` the server sends with the
//! data it is about.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn human_of(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{} {} {}, {:02}:{:02} UTC",
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year(),
        t.hour(),
        t.minute()
    )
}

/// An RFC 3339 timestamp as `3 Dec 2026, 08:03 UTC`; text that is not one is returned unchanged.
pub fn human(ts: &str) -> String {
    match OffsetDateTime::parse(ts, &Rfc3339) {
        Ok(t) => human_of(t),
        Err(_) => ts.to_string(),
    }
}

/// Milliseconds since the epoch (MLflow's times) as `3 Dec 2026, 08:03 UTC`.
pub fn human_ms(ms: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => human_of(t),
        Err(_) => "—".into(),
    }
}

/// Milliseconds since the epoch as RFC 3339 UTC with milliseconds, for `<time datetime>`.
pub fn rfc3339_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Seconds between two RFC 3339 timestamps (`later - earlier`), if both parse.
pub fn seconds_between(earlier: &str, later: &str) -> Option<i64> {
    let a = OffsetDateTime::parse(earlier, &Rfc3339).ok()?;
    let b = OffsetDateTime::parse(later, &Rfc3339).ok()?;
    Some((b - a).whole_seconds())
}

/// An age in seconds as `just now`, `5 min ago`, `2 h ago`, `3 d ago`.
pub fn ago(secs: i64) -> String {
    match secs {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86_400),
    }
}

/// How long ago `ts` was at `now` (both RFC 3339), or the human time when either does not parse.
pub fn ago_at(ts: &str, now: &str) -> String {
    match seconds_between(ts, now) {
        Some(s) => ago(s),
        None => human(ts),
    }
}

/// A stored RFC 3339 timestamp cut to the second for tables: `2026-11-27T10:00:00.000Z` →
/// `2026-11-27 10:00:00`; shorter text is returned unchanged.
pub fn short(ts: &str) -> String {
    ts.get(..19)
        .map(|s| s.replace('T', " "))
        .unwrap_or_else(|| ts.to_owned())
}

/// How long something took, from RFC 3339 start and end: `1h 05m`, `4m 09s`, `12s`; `—` while
/// it has no end or when either does not parse.
pub fn duration(start: &str, end: Option<&str>) -> String {
    let Some(secs) = end.and_then(|e| seconds_between(start, e)) else {
        return "—".into();
    };
    let secs = secs.max(0);
    if secs >= 3600 {
        format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
    } else if secs >= 60 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_times_and_durations_for_tables() {
        assert_eq!(short("2026-11-27T10:00:00.000000Z"), "2026-11-27 10:00:00");
        assert_eq!(short("2026-11-27"), "2026-11-27");
        let start = "2026-11-27T10:00:00Z";
        assert_eq!(duration(start, Some("2026-11-27T10:00:12Z")), "12s");
        assert_eq!(duration(start, Some("2026-11-27T10:04:09Z")), "4m 09s");
        assert_eq!(duration(start, Some("2026-11-27T11:05:00Z")), "1h 05m");
        assert_eq!(
            duration(start, Some("2026-11-27T09:00:00Z")),
            "0s",
            "clock skew"
        );
        assert_eq!(duration(start, None), "—");
        assert_eq!(duration("yesterday", Some(start)), "—");
    }

    #[test]
    fn human_reads_stored_timestamps_with_microseconds() {
        assert_eq!(
            human("2026-12-03T08:03:20.772000Z"),
            "3 Dec 2026, 08:03 UTC"
        );
        assert_eq!(human("2026-01-09T23:59:59Z"), "9 Jan 2026, 23:59 UTC");
    }

    #[test]
    fn human_converts_offsets_to_utc() {
        assert_eq!(human("2026-12-03T09:30:00+02:00"), "3 Dec 2026, 07:30 UTC");
        assert_eq!(human("2026-12-31T23:30:00-01:00"), "1 Jan 2027, 00:30 UTC");
    }

    #[test]
    fn text_that_is_not_a_timestamp_is_kept() {
        assert_eq!(human("yesterday"), "yesterday");
        assert_eq!(human(""), "");
        assert_eq!(ago_at("soon", "2026-12-03T08:00:00Z"), "soon");
    }

    #[test]
    fn milliseconds_since_the_epoch() {
        assert_eq!(human_ms(1_764_748_980_000), "3 Dec 2025, 08:03 UTC");
        assert_eq!(rfc3339_ms(1_764_748_980_123), "2025-12-03T08:03:00.123Z");
        assert_eq!(human_ms(i64::MAX), "—");
    }

    #[test]
    fn ages_round_down_to_their_unit() {
        assert_eq!(ago(-5), "just now");
        assert_eq!(ago(59), "just now");
        assert_eq!(ago(60), "1 min ago");
        assert_eq!(ago(7_199), "1 h ago");
        assert_eq!(ago(7_200), "2 h ago");
        assert_eq!(ago(3 * 86_400 + 5), "3 d ago");
        assert_eq!(
            ago_at("2026-12-03T06:00:00Z", "2026-12-03T08:03:20.772Z"),
            "2 h ago"
        );
    }
}
