//! A test's analysis as CSV, for spreadsheets: one line per metric × treatment, every text
//! cell made safe to open.

use super::{Analysis, ExperimentDef, MetricRole};

/// The analysis as CSV: one line per metric × treatment.
pub fn analysis_csv(def: &ExperimentDef, a: &Analysis) -> String {
    let mut out = String::from(
        "experiment,metric,role,variant,control_units,treatment_units,control_mean,treatment_mean,abs_diff,abs_diff_ci_low,abs_diff_ci_high,rel_lift,rel_lift_ci_low,rel_lift_ci_high,p_value,p_value_adjusted,chance_to_win,significant,basis\n",
    );
    let esc = crate::domain::csv::spreadsheet_cell;
    for m in &a.metrics {
        for c in &m.comparisons {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                esc(&def.name),
                esc(&m.name),
                if m.role == MetricRole::Goal {
                    "goal"
                } else {
                    "guardrail"
                },
                esc(&c.variant),
                c.control_units,
                c.treatment_units,
                c.control_mean,
                c.treatment_mean,
                c.abs_diff,
                c.abs_diff_ci[0],
                c.abs_diff_ci[1],
                c.rel_lift,
                c.decision_rel_lift_ci[0],
                c.decision_rel_lift_ci[1],
                c.p_value,
                c.p_value_adjusted,
                c.chance_to_win,
                c.significant,
                c.basis
            ));
        }
    }
    out
}
