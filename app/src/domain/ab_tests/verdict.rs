//! The verdict: one decision and the sentence that explains it. The rules, in order: a
//! sample-ratio mismatch or too few units make the reading invalid; a treatment whose goals are
//! all better and no guardrail worse ships; one with a goal worse or a guardrail worse beyond
//! its tolerance rolls back; otherwise the test keeps running, with the units still needed.

use super::{
    AnalysisRequest, Comparison, Context, Decision, MetricResult, MetricRole, Srm, VariantSpec,
    Verdict, SRM_P,
};
use crate::domain::format::{count, pct};

fn lift_phrase(m: &MetricResult, c: &Comparison, alpha: f64) -> String {
    let ci = c.decision_rel_lift_ci;
    format!(
        "{} {} ({:.0}% CI {} to {})",
        m.name,
        pct(c.rel_lift),
        (1.0 - alpha) * 100.0,
        pct(ci[0]),
        pct(ci[1])
    )
}

/// What every verdict shares: the sentence's tail (days and users) and the warnings.
struct Writer {
    tail: String,
    warnings: Vec<String>,
}

impl Writer {
    fn new(
        req: &AnalysisRequest,
        metrics: &[MetricResult],
        total_units: f64,
        ctx: Context,
    ) -> Self {
        let tail = match ctx.days {
            Some(d) => format!(
                "{d} day{}, {} users",
                if d == 1 { "" } else { "s" },
                count(total_units)
            ),
            None => format!("{} users", count(total_units)),
        };
        let warnings = metrics
            .iter()
            .flat_map(|m| {
                m.comparisons.iter().filter(|c| c.implausible).map(move |c| {
                    format!(
                        "{} on '{}' moved {}, more than a plausible {}: check the data before believing it",
                        m.name,
                        c.variant,
                        pct(c.rel_lift),
                        pct(req.max_plausible_lift)
                    )
                })
            })
            .collect();
        Writer { tail, warnings }
    }

    fn done(
        &self,
        decision: Decision,
        variant: Option<String>,
        why: String,
        reasons: Vec<String>,
        need: Option<f64>,
    ) -> Verdict {
        Verdict {
            decision,
            variant,
            sentence: format!("{}: {why}; {}.", decision.label(), self.tail),
            reasons,
            units_still_needed: need,
            warnings: self.warnings.clone(),
        }
    }
}

/// The decision for the analysed metrics of a request.
pub(super) fn verdict(
    req: &AnalysisRequest,
    order: &[&VariantSpec],
    srm: &Srm,
    metrics: &[MetricResult],
    total_units: f64,
    ctx: Context,
) -> Verdict {
    let w = Writer::new(req, metrics, total_units, ctx);
    if srm.detected {
        return sample_ratio_mismatch(&w, srm, total_units);
    }
    let small = too_small(req, order, srm, metrics);
    if !small.is_empty() {
        return w.done(
            Decision::Invalid,
            None,
            format!(
                "too few units to read ({}; at least {} per variant are needed)",
                small.join(", "),
                count(req.min_units)
            ),
            small,
            None,
        );
    }
    let read = Reading::new(req, order, metrics);
    read.ship(&w)
        .or_else(|| read.roll_back(&w))
        .unwrap_or_else(|| read.keep_running(&w))
}

fn sample_ratio_mismatch(w: &Writer, srm: &Srm, total_units: f64) -> Verdict {
    let worst = srm.variants.iter().max_by(|a, b| {
        ((a.observed - a.expected).abs() / a.expected.max(1.0))
            .total_cmp(&((b.observed - b.expected).abs() / b.expected.max(1.0)))
    });
    let detail = worst
        .map(|w| {
            format!(
                ", '{}' got {:.1}% of users against {:.1}% intended",
                w.variant,
                100.0 * w.observed / total_units.max(1.0),
                100.0 * w.weight_share
            )
        })
        .unwrap_or_default();
    w.done(
        Decision::Invalid,
        None,
        format!(
            "sample-ratio mismatch (p = {:.2e}){detail}; fix the assignment before reading any metric",
            srm.p_value
        ),
        vec![format!(
            "χ² = {:.2} with {} degrees of freedom, p = {:.3e} < {SRM_P}",
            srm.chi2, srm.df, srm.p_value
        )],
        None,
    )
}

/// The variants with fewer units than the request's minimum, in any metric or in assignment.
fn too_small(
    req: &AnalysisRequest,
    order: &[&VariantSpec],
    srm: &Srm,
    metrics: &[MetricResult],
) -> Vec<String> {
    order
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let fewest = std::iter::once(srm.variants[i].observed)
                .chain(metrics.iter().map(|m| m.arms[i].units))
                .fold(f64::INFINITY, f64::min);
            (fewest < req.min_units).then(|| format!("'{}' has {} units", v.name, count(fewest)))
        })
        .collect()
}

/// The goals and guardrails read treatment by treatment: the best treatment to ship, if any,
/// and the first one that is worse, with why.
struct Reading<'a> {
    req: &'a AnalysisRequest,
    goals: Vec<&'a MetricResult>,
    guards: Vec<&'a MetricResult>,
    treatments: Vec<&'a str>,
    ship: Option<&'a str>,
    worse: Option<(String, Vec<String>)>,
}

fn comparison<'m>(m: &'m MetricResult, t: &str) -> Option<&'m Comparison> {
    m.comparisons.iter().find(|c| c.variant == t)
}

impl<'a> Reading<'a> {
    fn new(
        req: &'a AnalysisRequest,
        order: &[&'a VariantSpec],
        metrics: &'a [MetricResult],
    ) -> Self {
        let mut read = Reading {
            req,
            goals: metrics
                .iter()
                .filter(|m| m.role == MetricRole::Goal)
                .collect(),
            guards: metrics
                .iter()
                .filter(|m| m.role == MetricRole::Guardrail)
                .collect(),
            treatments: order.iter().skip(1).map(|v| v.name.as_str()).collect(),
            ship: None,
            worse: None,
        };
        let mut best: Option<f64> = None;
        for &t in &read.treatments {
            let t_worse = read.worse_for(t);
            let all_better = !read.goals.is_empty()
                && read
                    .goals
                    .iter()
                    .all(|m| comparison(m, t).is_some_and(|c| c.outcome > 0));
            if all_better && t_worse.is_empty() {
                let g = read.goals[0];
                let first = comparison(g, t).map_or(0.0, |c| g.direction.sign() * c.rel_lift);
                if best.is_none_or(|b| first > b) {
                    best = Some(first);
                    read.ship = Some(t);
                }
            } else if !t_worse.is_empty() && read.worse.is_none() {
                read.worse = Some((t.to_owned(), t_worse));
            }
        }
        read
    }

    /// Why treatment `t` is worse: goals confidently worse, guardrails beyond tolerance.
    fn worse_for(&self, t: &str) -> Vec<String> {
        let alpha = self.req.alpha;
        let mut out = Vec::new();
        for m in &self.goals {
            if let Some(c) = comparison(m, t).filter(|c| c.outcome < 0) {
                out.push(format!("{} is worse", lift_phrase(m, c, alpha)));
            }
        }
        for m in &self.guards {
            if let Some(c) = comparison(m, t).filter(|c| c.beyond_tolerance) {
                out.push(if m.tolerance > 0.0 {
                    format!(
                        "{} is worse beyond its {} tolerance",
                        lift_phrase(m, c, alpha),
                        pct(m.tolerance).trim_start_matches('+')
                    )
                } else {
                    format!("{} is worse", lift_phrase(m, c, alpha))
                });
            }
        }
        out
    }

    /// `'t': ` before the reasons when there is more than one treatment to tell apart.
    fn prefix(&self, t: &str) -> String {
        if self.treatments.len() > 1 {
            format!("'{t}': ")
        } else {
            String::new()
        }
    }

    fn ship(&self, w: &Writer) -> Option<Verdict> {
        let t = self.ship?;
        let lifts: Vec<String> = self
            .goals
            .iter()
            .filter_map(|m| comparison(m, t).map(|c| lift_phrase(m, c, self.req.alpha)))
            .collect();
        let guard = if self.guards.is_empty() {
            "no guardrails set"
        } else {
            "no guardrail worse"
        };
        Some(w.done(
            Decision::Ship,
            Some(t.to_owned()),
            format!("{}{}, {guard}", self.prefix(t), lifts.join(", ")),
            lifts,
            None,
        ))
    }

    fn roll_back(&self, w: &Writer) -> Option<Verdict> {
        let (t, worse) = self.worse.clone()?;
        Some(w.done(
            Decision::RollBack,
            Some(t.clone()),
            format!("{}{}", self.prefix(&t), worse.join(", ")),
            worse,
            None,
        ))
    }

    /// Keep running: how far the sample is from finding the minimum detectable effect.
    fn keep_running(&self, w: &Writer) -> Verdict {
        let req = self.req;
        let need = self
            .goals
            .iter()
            .flat_map(|m| m.comparisons.iter())
            .map(|c| (c.units_needed - c.control_units.min(c.treatment_units)).max(0.0))
            .fold(0.0, f64::max)
            .ceil();
        let leading = self
            .goals
            .first()
            .and_then(|m| m.comparisons.first().map(|c| lift_phrase(m, c, req.alpha)));
        let mde = pct(req.mde);
        let mde = mde.trim_start_matches('+');
        let why = match (leading, self.goals.is_empty()) {
            (_, true) => "no goal metric is set, and no guardrail is worse".to_owned(),
            (Some(l), false) if need > 0.0 => format!(
                "no goal is conclusive yet ({l}); about {} more units per variant are needed to find a {mde} effect",
                count(need)
            ),
            (Some(l), false) => format!(
                "no goal is conclusive ({l}) although the sample can find a {mde} effect; any true effect is likely smaller"
            ),
            (None, false) => "no goal is conclusive yet".to_owned(),
        };
        w.done(
            Decision::KeepRunning,
            None,
            why,
            vec![],
            (need > 0.0).then_some(need),
        )
    }
}
