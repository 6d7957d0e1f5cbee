//! The checks an analysis request passes before any figure is computed; a refusal names the
//! field by its path, the metric and the variant.

use super::{AnalysisRequest, DataRow, MetricKind, MetricSpec};
use crate::domain::FieldError;

pub(super) fn bad(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

/// Per-arm moments of one metric after validation.
#[derive(Clone, Copy, Debug)]
pub(super) struct Arm {
    pub(super) n: f64,
    pub(super) mean: f64,
    pub(super) var: f64,
    pub(super) cov: Option<Cov>,
}

/// Covariate moments of an arm.
#[derive(Clone, Copy, Debug)]
pub(super) struct Cov {
    pub(super) sum_x: f64,
    pub(super) sum_x2: f64,
    pub(super) sum_xy: f64,
    pub(super) sum_y: f64,
    pub(super) sum_y2: f64,
}

fn finite(field: &str, what: &str, v: Option<f64>) -> Result<f64, FieldError> {
    let v = v.ok_or_else(|| bad(field, format!("{what} is missing")))?;
    if !v.is_finite() {
        return Err(bad(field, format!("{what} must be a finite number")));
    }
    Ok(v)
}

/// Checks one row of sufficient statistics for a metric, as a daily or total row: fields
/// present for the metric's kind, finite, counts not negative, conversions within units and
/// Σy² at least (Σy)²/n. `at` prefixes the field path; errors name the metric and variant.
pub fn check_row(
    metric: &str,
    kind: MetricKind,
    at: &str,
    row: &DataRow,
) -> Result<(), FieldError> {
    let field = |f: &str| format!("{at}.{f}");
    let who = format!("metric '{metric}', variant '{}'", row.variant);
    match kind {
        MetricKind::Binomial => {
            let n = finite(&field("units"), &format!("{who}: units"), row.units)?;
            let x = finite(
                &field("conversions"),
                &format!("{who}: conversions"),
                row.conversions,
            )?;
            if n < 0.0 {
                return Err(bad(
                    field("units"),
                    format!("{who}: units must not be negative"),
                ));
            }
            if x < 0.0 {
                return Err(bad(
                    field("conversions"),
                    format!("{who}: conversions must not be negative"),
                ));
            }
            if x > n {
                return Err(bad(
                    field("conversions"),
                    format!("{who}: conversions ({x}) exceed units ({n})"),
                ));
            }
        }
        MetricKind::Continuous => {
            let n = finite(&field("n"), &format!("{who}: n"), row.n)?;
            let s = finite(&field("sum"), &format!("{who}: sum"), row.sum)?;
            let q = finite(
                &field("sum_squares"),
                &format!("{who}: sum_squares"),
                row.sum_squares,
            )?;
            if n < 0.0 {
                return Err(bad(field("n"), format!("{who}: n must not be negative")));
            }
            if q < 0.0 {
                return Err(bad(
                    field("sum_squares"),
                    format!("{who}: sum_squares must not be negative"),
                ));
            }
            // Rounding in Σy² may leave a tiny shortfall; a real one is an error.
            if n > 0.0 && q - s * s / n < -1e-9 * q.max(1.0) {
                return Err(bad(
                    field("sum_squares"),
                    format!("{who}: sum_squares is smaller than sum²/n, so the variance would be negative"),
                ));
            }
        }
    }
    match (row.sum_x, row.sum_x2, row.sum_xy) {
        (None, None, None) => {}
        (sx, sx2, sxy) => {
            finite(&field("sum_x"), &format!("{who}: sum_x"), sx)?;
            let sum_x2 = finite(&field("sum_x2"), &format!("{who}: sum_x2"), sx2)?;
            finite(&field("sum_xy"), &format!("{who}: sum_xy"), sxy)?;
            if sum_x2 < 0.0 {
                return Err(bad(
                    field("sum_x2"),
                    format!("{who}: sum_x2 must not be negative"),
                ));
            }
        }
    }
    Ok(())
}

fn arm_of(m: &MetricSpec, mi: usize, ri: usize, row: &DataRow) -> Result<Arm, FieldError> {
    let at = format!("metrics[{mi}].data[{ri}]");
    check_row(&m.name, m.kind, &at, row)?;
    let who = format!("metric '{}', variant '{}'", m.name, row.variant);
    let v = |x: Option<f64>| x.unwrap_or(0.0);
    let (n, sum, sum_sq, mean, var) = match m.kind {
        MetricKind::Binomial => {
            let (n, x) = (v(row.units), v(row.conversions));
            if n < 1.0 {
                return Err(bad(
                    format!("{at}.units"),
                    format!("{who}: units must be at least 1"),
                ));
            }
            let p = x / n;
            (n, x, x, p, p * (1.0 - p))
        }
        MetricKind::Continuous => {
            let (n, s, q) = (v(row.n), v(row.sum), v(row.sum_squares));
            if n < 2.0 {
                return Err(bad(
                    format!("{at}.n"),
                    format!("{who}: n must be at least 2 for a continuous metric"),
                ));
            }
            (n, s, q, s / n, (q - s * s / n).max(0.0) / (n - 1.0))
        }
    };
    let cov = match (row.sum_x, row.sum_x2, row.sum_xy) {
        (Some(sum_x), Some(sum_x2), Some(sum_xy)) => Some(Cov {
            sum_x,
            sum_x2,
            sum_xy,
            sum_y: sum,
            sum_y2: sum_sq,
        }),
        _ => None,
    };
    Ok(Arm { n, mean, var, cov })
}

/// Validates the request: variants match the definition, counts are sane, sums finite. The
/// arms of each metric come back control first, then the treatments in the request's order.
pub(super) fn validate(req: &AnalysisRequest) -> Result<Vec<Vec<Arm>>, FieldError> {
    check_settings(req)?;
    check_variants(req)?;
    if req.metrics.is_empty() {
        return Err(bad("metrics", "at least one metric is needed"));
    }
    let order: Vec<&str> = std::iter::once(req.control.as_str())
        .chain(
            req.variants
                .iter()
                .map(|v| v.name.as_str())
                .filter(|n| *n != req.control),
        )
        .collect();
    req.metrics
        .iter()
        .enumerate()
        .map(|(mi, m)| metric_arms(req, mi, m, &order))
        .collect()
}

fn check_settings(req: &AnalysisRequest) -> Result<(), FieldError> {
    if !(req.alpha > 0.0 && req.alpha < 0.5) {
        return Err(bad("alpha", "alpha must be between 0 and 0.5"));
    }
    if !(req.mde > 0.0 && req.mde.is_finite()) {
        return Err(bad(
            "mde",
            "mde must be a positive relative effect, e.g. 0.05",
        ));
    }
    if !(req.sequential_tuning >= 1.0 && req.sequential_tuning.is_finite()) {
        return Err(bad(
            "sequential_tuning",
            "sequential_tuning must be at least 1",
        ));
    }
    if !(req.min_units >= 0.0 && req.min_units.is_finite()) {
        return Err(bad("min_units", "min_units must not be negative"));
    }
    Ok(())
}

fn check_variants(req: &AnalysisRequest) -> Result<(), FieldError> {
    if req.variants.len() < 2 {
        return Err(bad(
            "variants",
            "an experiment needs a control and at least one treatment",
        ));
    }
    for (i, v) in req.variants.iter().enumerate() {
        if v.name.trim().is_empty() {
            return Err(bad(
                format!("variants[{i}].name"),
                "variant names must not be empty",
            ));
        }
        if req.variants[..i].iter().any(|o| o.name == v.name) {
            return Err(bad(
                format!("variants[{i}].name"),
                format!("variant '{}' is listed twice", v.name),
            ));
        }
        if !(v.weight > 0.0 && v.weight.is_finite()) {
            return Err(bad(
                format!("variants[{i}].weight"),
                format!("variant '{}': weight must be positive", v.name),
            ));
        }
        if let Some(u) = v.units {
            if !(u >= 0.0 && u.is_finite()) {
                return Err(bad(
                    format!("variants[{i}].units"),
                    format!("variant '{}': units must not be negative", v.name),
                ));
            }
        }
    }
    if !req.variants.iter().any(|v| v.name == req.control) {
        return Err(bad(
            "control",
            format!("control '{}' is not one of the variants", req.control),
        ));
    }
    Ok(())
}

/// Metric `mi`'s arms in `order`: one row per variant, each checked.
fn metric_arms(
    req: &AnalysisRequest,
    mi: usize,
    m: &MetricSpec,
    order: &[&str],
) -> Result<Vec<Arm>, FieldError> {
    if m.name.trim().is_empty() {
        return Err(bad(
            format!("metrics[{mi}].name"),
            "metric names must not be empty",
        ));
    }
    if req.metrics[..mi].iter().any(|o| o.name == m.name) {
        return Err(bad(
            format!("metrics[{mi}].name"),
            format!("metric '{}' is listed twice", m.name),
        ));
    }
    if let Some(t) = m.tolerance {
        if !(t >= 0.0 && t.is_finite()) {
            return Err(bad(
                format!("metrics[{mi}].tolerance"),
                format!("metric '{}': tolerance must not be negative", m.name),
            ));
        }
    }
    let mut arms: Vec<Option<Arm>> = vec![None; order.len()];
    for (ri, row) in m.data.iter().enumerate() {
        let Some(slot) = order.iter().position(|v| *v == row.variant) else {
            return Err(bad(
                format!("metrics[{mi}].data[{ri}].variant"),
                format!(
                    "metric '{}': variant '{}' is not in the experiment",
                    m.name, row.variant
                ),
            ));
        };
        if arms[slot].is_some() {
            return Err(bad(
                format!("metrics[{mi}].data[{ri}].variant"),
                format!(
                    "metric '{}': variant '{}' has two rows",
                    m.name, row.variant
                ),
            ));
        }
        arms[slot] = Some(arm_of(m, mi, ri, row)?);
    }
    let mut out = Vec::with_capacity(order.len());
    for (slot, a) in arms.into_iter().enumerate() {
        let a = a.ok_or_else(|| {
            bad(
                format!("metrics[{mi}].data"),
                format!("metric '{}': no data for variant '{}'", m.name, order[slot]),
            )
        })?;
        out.push(a);
    }
    if out[0].mean == 0.0 {
        return Err(bad(
            format!("metrics[{mi}].data"),
            format!(
                "metric '{}': the control '{}' has a mean of zero, so a relative lift is undefined",
                m.name, order[0]
            ),
        ));
    }
    Ok(out)
}
