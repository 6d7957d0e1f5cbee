//! One row of the table `make bench` prints: each benchmark records its figures here, beside
//! its own detailed output.

use std::io::Write;

/// What a figure must reach.
#[derive(Clone, Copy)]
#[allow(dead_code)]
pub enum Target {
    /// At most this much (times).
    AtMost(f64),
    /// At least this much (rates).
    AtLeast(f64),
    /// Reported only.
    None,
}

/// Appends `figure`, its target and the measured value to `target/bench-table.tsv`.
///
/// Figures measured on PostgreSQL (`GATEHOUSE_BENCH_DATABASE=postgres`) are named so.
pub fn record(figure: &str, target: Target, measured: f64, unit: &str) {
    let figure = if std::env::var("GATEHOUSE_BENCH_DATABASE").is_ok_and(|v| v == "postgres") {
        format!("PostgreSQL: {figure}")
    } else {
        figure.to_owned()
    };
    let (target_text, verdict) = match target {
        Target::AtMost(t) => (
            format!("≤ {} {unit}", number(t)),
            if measured <= t { "pass" } else { "FAIL" },
        ),
        Target::AtLeast(t) => (
            format!("≥ {} {unit}", number(t)),
            if measured >= t { "pass" } else { "FAIL" },
        ),
        Target::None => ("—".to_owned(), "—"),
    };
    let row = format!(
        "{figure}\t{target_text}\t{} {unit}\t{verdict}\n",
        number(measured)
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-table.tsv");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(row.as_bytes()));
    if let Err(e) = written {
        eprintln!("could not record the figure in {}: {e}", path.display());
    }
}

/// A readable number: thousands grouped, three significant decimals for small values.
fn number(v: f64) -> String {
    if v.abs() >= 1000.0 {
        let s = format!("{:.0}", v);
        let (sign, digits) = s.split_at(usize::from(s.starts_with('-')));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}
