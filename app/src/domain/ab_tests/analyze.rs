//! From a checked request to the figures of every comparison, the correction across goals and
//! the verdict.

use super::formulas::{
    benjamini_hochberg, chi_square_gof, cuped, expected_loss, holm, power, relative_lift,
    sequential_halfwidth, sequential_p, two_proportion_z, units_for_power, welch,
};
use super::stats::{norm_cdf, norm_ppf, t_ppf};
use super::validate::{bad, validate, Arm};
use super::verdict::verdict;
use super::{
    Analysis, AnalysisRequest, ArmSummary, Comparison, Context, Correction, CupedFigures,
    MetricKind, MetricResult, MetricRole, MetricSpec, SequentialFigures, Srm, SrmArm, VariantSpec,
    SRM_P,
};
use crate::domain::FieldError;

/// Analyses a request. Fails on the first invalid field, naming metric, variant and field.
pub fn analyze(req: &AnalysisRequest, ctx: Context) -> Result<Analysis, FieldError> {
    let arms_by_metric = validate(req)?;
    let order: Vec<&VariantSpec> = std::iter::once(
        req.variants
            .iter()
            .find(|v| v.name == req.control)
            .ok_or_else(|| bad("control", "no control"))?,
    )
    .chain(req.variants.iter().filter(|v| v.name != req.control))
    .collect();
    let (srm, total_units) = sample_ratio(&order, &arms_by_metric);
    let mut metrics: Vec<MetricResult> = req
        .metrics
        .iter()
        .zip(&arms_by_metric)
        .map(|(m, arms)| metric_result(req, m, arms, &order))
        .collect();
    correct_across_goals(req, &mut metrics);
    let verdict = verdict(req, &order, &srm, &metrics, total_units, ctx);
    Ok(Analysis {
        alpha: req.alpha,
        correction: req.correction,
        sequential: req.sequential,
        mde: req.mde,
        control: req.control.clone(),
        total_units,
        srm,
        metrics,
        verdict,
    })
}

/// The sample-ratio check over the assigned units (or the first metric's units where none
/// are given), with the total of units it counted.
fn sample_ratio(order: &[&VariantSpec], arms_by_metric: &[Vec<Arm>]) -> (Srm, f64) {
    let observed: Vec<f64> = order
        .iter()
        .enumerate()
        .map(|(i, v)| v.units.unwrap_or(arms_by_metric[0][i].n))
        .collect();
    let weights: Vec<f64> = order.iter().map(|v| v.weight).collect();
    let (chi2, df, p) = chi_square_gof(&observed, &weights);
    let total_units: f64 = observed.iter().sum();
    let wsum: f64 = weights.iter().sum();
    let srm = Srm {
        chi2,
        df,
        p_value: p,
        detected: p < SRM_P,
        variants: order
            .iter()
            .zip(&observed)
            .map(|(v, o)| SrmArm {
                variant: v.name.clone(),
                observed: *o,
                expected: total_units * v.weight / wsum,
                weight_share: v.weight / wsum,
            })
            .collect(),
    };
    (srm, total_units)
}

/// One metric: its arms and each treatment's comparison with the control (uncorrected).
fn metric_result(
    req: &AnalysisRequest,
    m: &MetricSpec,
    arms: &[Arm],
    order: &[&VariantSpec],
) -> MetricResult {
    MetricResult {
        name: m.name.clone(),
        kind: m.kind,
        direction: m.direction,
        role: m.role,
        tolerance: m.tolerance.unwrap_or(0.0),
        arms: order
            .iter()
            .zip(arms)
            .map(|(v, a)| ArmSummary {
                variant: v.name.clone(),
                units: a.n,
                mean: a.mean,
                variance: a.var,
            })
            .collect(),
        comparisons: (1..arms.len())
            .map(|ti| compare(req, m, arms, ti, &order[ti].name))
            .collect(),
    }
}

/// The fixed-horizon test of one treatment against the control: (statistic, two-sided p,
/// degrees of freedom for Welch, standard error of the difference, the test's name).
fn fixed_test(kind: MetricKind, t: Arm, c: Arm) -> (f64, f64, Option<f64>, f64, &'static str) {
    match kind {
        MetricKind::Binomial => {
            let (zs, p) = two_proportion_z(t.mean * t.n, t.n, c.mean * c.n, c.n);
            (zs, p, None, (t.var / t.n + c.var / c.n).sqrt(), "z")
        }
        MetricKind::Continuous => {
            let (ts, df, p, se) = welch(t.mean, t.var, t.n, c.mean, c.var, c.n);
            (ts, p, Some(df), se, "welch")
        }
    }
}

/// The posterior probability that the lift, signed so that positive is better, is above 0.
fn chance_to_win(mu: f64, sd: f64) -> f64 {
    if sd > 0.0 {
        norm_cdf(mu / sd)
    } else if mu > 0.0 {
        1.0
    } else if mu < 0.0 {
        0.0
    } else {
        0.5
    }
}

/// The confidence sequence around the estimate the decision reads (CUPED-adjusted when
/// available): `basis` is (difference, its se, relative lift, its se).
fn sequential_figures(
    req: &AnalysisRequest,
    basis: (f64, f64, f64, f64),
    n_all: f64,
) -> SequentialFigures {
    let (est, se, lift, lift_se) = basis;
    let (alpha, tuning) = (req.alpha, req.sequential_tuning);
    let hw = sequential_halfwidth(se, n_all, alpha, tuning);
    let hl = sequential_halfwidth(lift_se, n_all, alpha, tuning);
    SequentialFigures {
        abs_diff_ci: [est - hw, est + hw],
        rel_lift_ci: [lift - hl, lift + hl],
        p_value: sequential_p(est, se, n_all, alpha, tuning),
        rel_lift_p_value: sequential_p(lift, lift_se, n_all, alpha, tuning),
    }
}

/// Treatment `ti` of `arms` against the control (`arms[0]`) on metric `m`. The correction,
/// significance and outcome are filled in later by [`correct_across_goals`].
fn compare(
    req: &AnalysisRequest,
    m: &MetricSpec,
    arms: &[Arm],
    ti: usize,
    name: &str,
) -> Comparison {
    let alpha = req.alpha;
    let z = norm_ppf(1.0 - alpha / 2.0);
    let (c, t) = (arms[0], arms[ti]);
    let d = t.mean - c.mean;
    let (statistic, p_value, df, se_ci, test) = fixed_test(m.kind, t, c);
    let q = match df {
        Some(df) if df.is_finite() => t_ppf(1.0 - alpha / 2.0, df),
        _ => z,
    };
    let (lift, lift_se) = relative_lift(t.mean, t.var, t.n, c.mean, c.var, c.n);
    let mu = m.direction.sign() * lift;
    let cup: Option<(CupedFigures, f64, f64)> = cuped(arms, ti, alpha);
    let basis = match &cup {
        Some((f, lse, dse)) => (f.abs_diff, *dse, f.rel_lift, *lse),
        None => (d, se_ci, lift, lift_se),
    };
    let sequential = req
        .sequential
        .then(|| sequential_figures(req, basis, t.n + c.n));
    let basis_name = match (cup.is_some(), req.sequential) {
        (false, false) => "fixed",
        (true, false) => "cuped",
        (false, true) => "sequential",
        (true, true) => "cuped+sequential",
    };
    let (decision_p, decision_ci) = match (&sequential, &cup) {
        (Some(s), _) => (s.p_value, s.rel_lift_ci),
        (None, Some((f, _, _))) => (f.p_value, f.rel_lift_ci),
        (None, None) => (p_value, [lift - z * lift_se, lift + z * lift_se]),
    };
    let delta = req.mde * c.mean.abs();
    Comparison {
        variant: name.to_owned(),
        control_units: c.n,
        treatment_units: t.n,
        control_mean: c.mean,
        treatment_mean: t.mean,
        abs_diff: d,
        abs_diff_ci: [d - q * se_ci, d + q * se_ci],
        rel_lift: lift,
        rel_lift_ci: [lift - z * lift_se, lift + z * lift_se],
        p_value,
        test: test.into(),
        statistic,
        df,
        se: se_ci,
        chance_to_win: chance_to_win(mu, lift_se),
        risk: expected_loss(mu, lift_se),
        risk_control: expected_loss(-mu, lift_se),
        cuped: cup.map(|(f, _, _)| f),
        sequential,
        basis: basis_name.into(),
        decision_p_value: decision_p,
        p_value_adjusted: decision_p,
        decision_rel_lift_ci: decision_ci,
        significant: false,
        outcome: 0,
        beyond_tolerance: false,
        power: power(delta, se_ci, alpha),
        units_needed: units_for_power(delta, t.var, c.var, alpha),
        implausible: lift.abs() > req.max_plausible_lift,
    }
}

/// Applies the request's correction over goal metrics × treatments, then marks each
/// comparison significant, better or worse, and each guardrail beyond its tolerance.
fn correct_across_goals(req: &AnalysisRequest, metrics: &mut [MetricResult]) {
    let goal_ps: Vec<f64> = metrics
        .iter()
        .filter(|m| m.role == MetricRole::Goal)
        .flat_map(|m| m.comparisons.iter().map(|c| c.decision_p_value))
        .collect();
    let adjusted = match req.correction {
        Correction::None => goal_ps.clone(),
        Correction::Holm => holm(&goal_ps),
        Correction::BenjaminiHochberg => benjamini_hochberg(&goal_ps),
    };
    let mut k = 0;
    for m in metrics {
        let sign = m.direction.sign();
        for c in &mut m.comparisons {
            if m.role == MetricRole::Goal {
                c.p_value_adjusted = adjusted[k];
                k += 1;
            }
            c.significant = c.p_value_adjusted < req.alpha;
            let good = sign * c.rel_lift;
            c.outcome = if !c.significant || good == 0.0 {
                0
            } else if good > 0.0 {
                1
            } else {
                -1
            };
            if m.role == MetricRole::Guardrail {
                // Confidently worse than the tolerance: even the interval's best end is worse.
                let best = if sign > 0.0 {
                    c.decision_rel_lift_ci[1]
                } else {
                    -c.decision_rel_lift_ci[0]
                };
                c.beyond_tolerance = best < -m.tolerance;
            }
        }
    }
}
