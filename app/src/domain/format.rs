//! Numbers as the pages and verdicts write them.

/// A signed percentage with one decimal: `+3.1%`, `−0.4%`.
pub fn pct(x: f64) -> String {
    let v = x * 100.0;
    let s = format!("{:.1}", v.abs());
    if s == "0.0" {
        "0.0%".into()
    } else if v > 0.0 {
        format!("+{s}%")
    } else {
        format!("\u{2212}{s}%")
    }
}

/// An integer count with thousands separators: `48,210`.
pub fn count(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        assert_eq!(pct(0.031), "+3.1%");
        assert_eq!(pct(-0.0042), "\u{2212}0.4%");
        assert_eq!(pct(0.00001), "0.0%");
        assert_eq!(count(48210.0), "48,210");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(1_234_567.0), "1,234,567");
    }
}
