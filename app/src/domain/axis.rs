//! Chart axes over run values: numeric where every value is a finite number, categorical
//! otherwise. Used by the parallel-coordinates chart and the param-against-metric scatter.

/// One axis, mapping values onto `0.0..=1.0` (bottom to top, or left to right).
#[derive(Clone, Debug, PartialEq)]
pub enum Axis {
    /// Every value parsed as a finite number: linear between the smallest and the largest.
    Numeric {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
    },
    /// Distinct values, evenly spaced in the order given (numbers first, then text).
    Categorical(Vec<String>),
}

/// Most tick labels a categorical axis prints; the rest are still placed, just unlabelled.
pub const MAX_CATEGORY_LABELS: usize = 12;

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

impl Axis {
    /// An axis for text values (params): numeric if every present value is a finite number.
    /// Missing values (`None`) are ignored. Returns `None` when nothing is present.
    pub fn for_text<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Option<Axis> {
        let present: Vec<&str> = values.into_iter().flatten().collect();
        if present.is_empty() {
            return None;
        }
        let numbers: Option<Vec<f64>> = present.iter().map(|s| number(s)).collect();
        match numbers {
            Some(ns) => Axis::for_numbers(ns),
            None => {
                let mut cats: Vec<String> = present.iter().map(|s| s.to_string()).collect();
                cats.sort_by(|a, b| match (number(a), number(b)) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => a.cmp(b),
                });
                cats.dedup();
                Some(Axis::Categorical(cats))
            }
        }
    }

    /// A numeric axis over the finite values; `None` when there are none.
    pub fn for_numbers(values: impl IntoIterator<Item = f64>) -> Option<Axis> {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|v| v.is_finite()) {
            min = min.min(v);
            max = max.max(v);
        }
        (min <= max).then_some(Axis::Numeric { min, max })
    }

    /// Where a text value sits on the axis, or `None` if it is not on it.
    pub fn position_of_text(&self, value: &str) -> Option<f64> {
        match self {
            Axis::Numeric { .. } => self.position_of_number(number(value)?),
            Axis::Categorical(cats) => {
                let i = cats.iter().position(|c| c == value)?;
                Some(if cats.len() == 1 {
                    0.5
                } else {
                    i as f64 / (cats.len() - 1) as f64
                })
            }
        }
    }

    /// Where a number sits on a numeric axis (a single-valued axis puts it in the middle).
    /// `None` for non-finite numbers and on categorical axes.
    pub fn position_of_number(&self, v: f64) -> Option<f64> {
        match *self {
            Axis::Numeric { min, max } if v.is_finite() => Some(if max > min {
                ((v - min) / (max - min)).clamp(0.0, 1.0)
            } else {
                0.5
            }),
            _ => None,
        }
    }

    /// Tick positions and labels: five even steps on a numeric axis, each category otherwise
    /// (at most [`MAX_CATEGORY_LABELS`], spread evenly).
    pub fn ticks(&self) -> Vec<(f64, String)> {
        match self {
            Axis::Numeric { min, max } if max > min => (0..=4)
                .map(|i| {
                    let t = i as f64 / 4.0;
                    (t, short_number(min + (max - min) * t))
                })
                .collect(),
            Axis::Numeric { min, .. } => vec![(0.5, short_number(*min))],
            Axis::Categorical(cats) => {
                let step = cats.len().div_ceil(MAX_CATEGORY_LABELS).max(1);
                cats.iter()
                    .enumerate()
                    .filter(|(i, _)| i % step == 0)
                    .filter_map(|(_, c)| Some((self.position_of_text(c)?, shorten(c, 14))))
                    .collect()
            }
        }
    }
}

/// A compact label for a tick: up to four significant digits, exponent form when large or tiny.
pub fn short_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.2e}");
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Text cut to `max` characters with an ellipsis.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// `s` cut to at most `max` characters by taking out its middle, so both ends stay readable:
/// `features.build_credit_features` becomes `features.bui…it_features`.
pub fn shorten_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 3 {
        return if n <= max {
            s.to_string()
        } else {
            shorten(s, max)
        };
    }
    let keep = max - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_lose_their_middle() {
        assert_eq!(
            shorten_middle("features.build_credit_features", 24),
            "features.bui…it_features"
        );
        assert_eq!(
            shorten_middle("features.build_credit_features", 24)
                .chars()
                .count(),
            24
        );
        assert_eq!(shorten_middle("short", 24), "short");
        assert_eq!(shorten_middle("évaluation.évaluer_crédit", 9), "éval…édit");
        assert_eq!(shorten_middle("abcdef", 2), "a…");
    }

    #[test]
    fn numbers_make_a_linear_axis() {
        let a = Axis::for_text([Some("0.1"), Some("0.3"), None, Some("0.2")]).unwrap();
        assert_eq!(a, Axis::Numeric { min: 0.1, max: 0.3 });
        assert_eq!(a.position_of_text("0.1"), Some(0.0));
        assert_eq!(a.position_of_text("0.3"), Some(1.0));
        assert!((a.position_of_text("0.2").unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(a.position_of_text("gbdt"), None);
    }

    #[test]
    fn any_text_makes_the_axis_categorical_with_numbers_first_in_numeric_order() {
        let a = Axis::for_text([Some("10"), Some("auto"), Some("9"), Some("10")]).unwrap();
        assert_eq!(
            a,
            Axis::Categorical(vec!["9".into(), "10".into(), "auto".into()])
        );
        assert_eq!(a.position_of_text("9"), Some(0.0));
        assert_eq!(a.position_of_text("10"), Some(0.5));
        assert_eq!(a.position_of_text("auto"), Some(1.0));
        assert_eq!(a.position_of_text("other"), None);
    }

    #[test]
    fn single_values_sit_in_the_middle_and_nothing_gives_no_axis() {
        let a = Axis::for_text([Some("6"), Some("6")]).unwrap();
        assert_eq!(a.position_of_text("6"), Some(0.5));
        assert_eq!(a.ticks(), vec![(0.5, "6".to_string())]);
        let c = Axis::for_text([Some("gini")]).unwrap();
        assert_eq!(c.position_of_text("gini"), Some(0.5));
        assert_eq!(Axis::for_text([None, None]), None);
        assert_eq!(Axis::for_numbers([f64::NAN, f64::INFINITY]), None);
    }

    #[test]
    fn non_finite_numbers_are_off_the_axis() {
        let a = Axis::for_numbers([0.5, f64::NAN, 0.9]).unwrap();
        assert_eq!(a, Axis::Numeric { min: 0.5, max: 0.9 });
        assert_eq!(a.position_of_number(f64::NAN), None);
        assert_eq!(a.position_of_number(f64::NEG_INFINITY), None);
        // "inf" parses as a float but is not finite, so such a param is categorical.
        assert!(matches!(
            Axis::for_text([Some("inf"), Some("1")]),
            Some(Axis::Categorical(_))
        ));
    }

    #[test]
    fn ticks_span_the_axis_and_thin_out_many_categories() {
        let a = Axis::Numeric { min: 0.0, max: 1.0 };
        let t = a.ticks();
        assert_eq!(t.len(), 5);
        assert_eq!(t[0], (0.0, "0".to_string()));
        assert_eq!(t[4], (1.0, "1".to_string()));
        let many: Vec<String> = (0..30).map(|i| format!("c{i:02}")).collect();
        let c = Axis::for_text(many.iter().map(|s| Some(s.as_str()))).unwrap();
        let t = c.ticks();
        assert!(t.len() <= MAX_CATEGORY_LABELS, "{}", t.len());
        assert_eq!(t[0].1, "c00");
    }

    #[test]
    fn short_numbers_keep_four_significant_digits() {
        assert_eq!(short_number(0.123456), "0.1235");
        assert_eq!(short_number(12.5), "12.5");
        assert_eq!(short_number(1234.0), "1234");
        assert_eq!(short_number(250000.0), "2.50e5");
        assert_eq!(short_number(-0.0001), "-1.00e-4");
        assert_eq!(shorten("learning_rate_schedule", 10), "learning_…");
    }
}
