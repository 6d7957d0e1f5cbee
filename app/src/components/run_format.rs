//! Formatting helpers for run pages.

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM` UTC.
pub fn fmt_ms(ms: Option<i64>) -> String {
    let Some(ms) = ms else { return "—".into() };
    match time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "—".into(),
    }
}

/// A run's duration as `12m 5s`.
pub fn fmt_duration(start: Option<i64>, end: Option<i64>) -> String {
    match (start, end) {
        (Some(s), Some(e)) if e >= s => {
            let secs = (e - s) / 1000;
            if secs >= 3600 {
                format!("{}h {}m", secs / 3600, (secs % 3600) / 60)
            } else {
                format!("{}m {}s", secs / 60, secs % 60)
            }
        }
        _ => "—".into(),
    }
}
