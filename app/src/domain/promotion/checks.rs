//! The checklist: a policy evaluated against the evidence of one version, with waivers.

use serde::{Deserialize, Serialize};

use super::{Evidence, Policy};

/// A check's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum CheckStatus {
    /// The evidence meets the policy.
    Pass,
    /// It does not.
    Fail,
    /// There is no evidence.
    Missing,
    /// It failed or is missing, and someone allowed to waived it with a reason.
    Waived,
}

impl CheckStatus {
    /// Lower-case label.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Missing => "missing",
            CheckStatus::Waived => "waived",
        }
    }
}

/// A written waiver of one check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Waiver {
    /// Check id.
    pub check: String,
    /// Who waived.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
}

/// One line of the checklist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Check {
    /// Stable id: `metric:<name>`, `fairness`, `ab_test`, `lineage`.
    pub id: String,
    /// What is checked, for people.
    pub label: String,
    /// Outcome (after waivers).
    pub status: CheckStatus,
    /// What the evidence shows.
    pub detail: String,
    /// Where the evidence is, inside the app.
    pub link: Option<String>,
    /// Whether the policy lets this check be waived.
    pub waivable: bool,
    /// The waiver, when there is one.
    pub waiver: Option<Waiver>,
}

/// One day, in milliseconds.
pub(super) const DAY_MS: i64 = 86_400_000;

/// A number as a reviewer reads it: up to four decimals, no trailing zeros.
fn fmt_num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// The checklist being written: the policy, the time evidence is judged at, the checks so far.
struct Checklist<'a> {
    /// The policy in force.
    policy: &'a Policy,
    /// Now, in milliseconds since the epoch.
    now_ms: i64,
    /// The checks, in the order a reviewer reads them.
    out: Vec<Check>,
}

impl Checklist<'_> {
    /// How old evidence recorded at `at_ms` is, when that is older than the policy allows.
    fn stale(&self, at_ms: i64) -> Option<String> {
        let max = self.policy.max_evidence_age_days?;
        let age = (self.now_ms - at_ms) / DAY_MS;
        (age > i64::from(max)).then(|| format!("{age} days old (the policy allows {max})"))
    }

    /// Adds a check, waivable when the policy says so.
    fn push(
        &mut self,
        id: String,
        label: String,
        status: CheckStatus,
        detail: String,
        link: Option<String>,
    ) {
        self.out.push(Check {
            waivable: self.policy.waivable(&id),
            id,
            label,
            status,
            detail,
            link,
            waiver: None,
        });
    }
}

/// Evaluates every check of `policy` on `ev` at `now_ms`, applying `waivers`.
pub fn evaluate(policy: &Policy, ev: &Evidence, now_ms: i64, waivers: &[Waiver]) -> Vec<Check> {
    let mut list = Checklist {
        policy,
        now_ms,
        out: Vec::new(),
    };
    metric_checks(&mut list, ev);
    if policy.fairness.required {
        fairness_check(&mut list, ev);
    }
    let challenger = ev.champion.is_some_and(|c| c != ev.version);
    if policy.ab_required_for_challengers && challenger {
        ab_test_check(&mut list, ev);
    }
    if policy.require_training_datasets || policy.require_digests {
        lineage_check(&mut list, ev);
    }
    if policy.require_artifact {
        artifact_check(&mut list, ev);
    }
    let mut out = list.out;
    for c in &mut out {
        if c.status == CheckStatus::Pass {
            continue;
        }
        if let Some(w) = waivers.iter().rev().find(|w| w.check == c.id) {
            c.status = CheckStatus::Waived;
            c.waiver = Some(w.clone());
        }
    }
    out
}

/// One check per metric rule: the linked run's value within the bounds, and fresh enough.
fn metric_checks(list: &mut Checklist, ev: &Evidence) {
    for rule in &list.policy.metrics {
        let bounds = match (rule.min, rule.max) {
            (Some(lo), Some(hi)) => format!("between {} and {}", fmt_num(lo), fmt_num(hi)),
            (Some(lo), None) => format!("≥ {}", fmt_num(lo)),
            (None, Some(hi)) => format!("≤ {}", fmt_num(hi)),
            (None, None) => "logged".into(),
        };
        let label = format!("Metric {} {bounds}", rule.name);
        let id = format!("metric:{}", rule.name);
        let Some(run) = &ev.run else {
            list.push(
                id,
                label,
                CheckStatus::Missing,
                "No training run is linked to this version.".into(),
                None,
            );
            continue;
        };
        let link = Some(format!("/runs/run/{}", run.run_id));
        let Some(&v) = run.metrics.get(&rule.name) else {
            list.push(
                id,
                label,
                CheckStatus::Missing,
                format!("The run logged no metric '{}'.", rule.name),
                link,
            );
            continue;
        };
        let ok =
            v.is_finite() && rule.min.is_none_or(|lo| v >= lo) && rule.max.is_none_or(|hi| v <= hi);
        let (status, detail) = match (ok, list.stale(run.at_ms)) {
            (false, _) => (
                CheckStatus::Fail,
                format!("{} = {}, outside {bounds}.", rule.name, fmt_num(v)),
            ),
            (true, Some(age)) => (
                CheckStatus::Fail,
                format!("{} = {}, but the run is {age}.", rule.name, fmt_num(v)),
            ),
            (true, None) => (
                CheckStatus::Pass,
                format!("{} = {}.", rule.name, fmt_num(v)),
            ),
        };
        list.push(id, label, status, detail, link);
    }
}

/// The fairness report on the version passes, covers the attributes asked for, and is fresh.
fn fairness_check(list: &mut Checklist, ev: &Evidence) {
    let label = if list.policy.fairness.attributes.is_empty() {
        "Fairness report passes".to_string()
    } else {
        format!(
            "Fairness report passes, covering {}",
            list.policy.fairness.attributes.join(", ")
        )
    };
    match &ev.fairness {
        None => list.push(
            "fairness".into(),
            label,
            CheckStatus::Missing,
            format!("No fairness report on {}@{}.", ev.model, ev.version),
            None,
        ),
        Some(f) => {
            let link = Some(format!("/fairness/{}", f.report_id));
            let uncovered: Vec<&str> = list
                .policy
                .fairness
                .attributes
                .iter()
                .filter(|a| !f.attributes.contains(a))
                .map(String::as_str)
                .collect();
            let (status, detail) = if f.verdict != "pass" {
                (
                    CheckStatus::Fail,
                    format!("Report #{} fails: {}", f.report_id, f.sentence),
                )
            } else if !uncovered.is_empty() {
                (
                    CheckStatus::Fail,
                    format!(
                        "Report #{} does not cover {}.",
                        f.report_id,
                        uncovered.join(", ")
                    ),
                )
            } else if let Some(age) = list.stale(f.at_ms) {
                (
                    CheckStatus::Fail,
                    format!("Report #{} passes but is {age}.", f.report_id),
                )
            } else {
                (
                    CheckStatus::Pass,
                    format!("Report #{} passes: {}", f.report_id, f.sentence),
                )
            };
            list.push("fairness".into(), label, status, detail, link);
        }
    }
}

/// A challenger has an A/B test against the champion that decided to ship, recently enough.
fn ab_test_check(list: &mut Checklist, ev: &Evidence) {
    let champion = ev.champion.unwrap_or_default();
    let label = format!("A/B test against v{champion} decided to ship");
    match &ev.ab_test {
        None => list.push(
            "ab_test".into(),
            label,
            CheckStatus::Missing,
            format!(
                "'{}' serves v{champion}; no decided A/B test has {}@{} as a variant.",
                ev.alias, ev.model, ev.version
            ),
            None,
        ),
        Some(t) => {
            let link = Some(format!("/experiments/{}", t.test_id));
            let (status, detail) = match (t.decision.as_str(), list.stale(t.at_ms)) {
                ("ship", None) => (
                    CheckStatus::Pass,
                    format!("'{}': ship. {}", t.name, t.sentence),
                ),
                ("ship", Some(age)) => (
                    CheckStatus::Fail,
                    format!("'{}': ship, but the decision is {age}.", t.name),
                ),
                (other, _) => (
                    CheckStatus::Fail,
                    format!(
                        "'{}': the decision was {}.",
                        t.name,
                        other.replace('_', " ")
                    ),
                ),
            };
            list.push("ab_test".into(), label, status, detail, link);
        }
    }
}

/// The training datasets are known (and, when the policy asks, carry digests).
fn lineage_check(list: &mut Checklist, ev: &Evidence) {
    let label = if list.policy.require_digests {
        "Training datasets known, with digests".to_string()
    } else {
        "Training datasets known".to_string()
    };
    let link = ev
        .run
        .as_ref()
        .map(|_| crate::domain::url::model_lineage_href(&ev.model, ev.version));
    let (status, detail) = if ev.datasets.is_empty() {
        (
            CheckStatus::Missing,
            if ev.run.is_some() {
                "The linked run logged no training dataset.".to_string()
            } else {
                "No training run is linked, so no dataset is known.".to_string()
            },
        )
    } else {
        let undigested: Vec<&str> = ev
            .datasets
            .iter()
            .filter(|d| d.digest.as_deref().is_none_or(str::is_empty))
            .map(|d| d.name.as_str())
            .collect();
        if list.policy.require_digests && !undigested.is_empty() {
            (
                CheckStatus::Fail,
                format!("No digest for {}.", undigested.join(", ")),
            )
        } else {
            let names: Vec<&str> = ev.datasets.iter().map(|d| d.name.as_str()).collect();
            (
                CheckStatus::Pass,
                format!("Trained on {}.", names.join(", ")),
            )
        }
    };
    list.push("lineage".into(), label, status, detail, link);
}

/// The version's files are stored, sealed, and still hash to their digest.
fn artifact_check(list: &mut Checklist, ev: &Evidence) {
    let label = "Model files sealed, digest matches the store".to_string();
    let link = Some(crate::domain::url::model_version_href(
        &ev.model, ev.version,
    ));
    let (status, detail) = match &ev.artifact {
        None => (
            CheckStatus::Missing,
            "The version's files are not stored in Gatehouse: log the model with the MLflow client so its bytes can be bound to the approval.".to_string(),
        ),
        Some(a) if !a.sealed => (
            CheckStatus::Fail,
            format!("{} is not finalized: its files can still change.", a.source),
        ),
        Some(a) => match &a.verified {
            None => (
                CheckStatus::Missing,
                format!("{}: {}, never re-hashed.", a.source, a.digest),
            ),
            Some(v) if !v.ok => (
                CheckStatus::Fail,
                format!("{}: the stored bytes no longer match {} ({}).", a.source, a.digest, v.detail),
            ),
            Some(_) => (
                CheckStatus::Pass,
                format!(
                    "{}: {} file{}, {} bytes, {}.",
                    a.source,
                    a.files,
                    if a.files == 1 { "" } else { "s" },
                    a.bytes,
                    a.digest
                ),
            ),
        },
    };
    list.push("artifact".into(), label, status, detail, link);
}
