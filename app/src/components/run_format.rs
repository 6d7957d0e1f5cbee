//! Formatting helpers for run pages.

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
