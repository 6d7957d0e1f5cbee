//! A report as CSV: one line per attribute × group, for spreadsheets.

use super::{AttributeReport, Report};
use crate::domain::csv::spreadsheet_cell as esc;
use std::fmt::Write;

/// The header line of [`report_csv`].
const HEADER: &str = "attribute,group,reference,rows,count,base_rate,selection_rate,\
favorable_rate,true_positive_rate,false_positive_rate,precision,accuracy,metric,\
ratio_vs_reference,ratio_ci_low,ratio_ci_high,pass\n";

impl Report {
    /// Each attribute's table in name order, then the intersectional one (named
    /// `intersectional`), if the report has it.
    pub fn tables(&self) -> impl Iterator<Item = (&str, &AttributeReport)> {
        self.by_attribute
            .iter()
            .map(|(a, r)| (a.as_str(), r))
            .chain(self.intersectional.iter().map(|r| ("intersectional", r)))
    }
}

/// The report's per-group table: the metrics of each group and its first rule's disparity
/// (metric, ratio to the reference group and its interval), cells quoted for spreadsheets.
pub fn report_csv(report: &Report) -> String {
    let mut out = String::from(HEADER);
    for (attr, r) in report.tables() {
        for (g, gr) in &r.groups {
            let m = &gr.metrics;
            let d = gr.disparities.first();
            let disparity = d.map_or_else(
                || ",,,".to_owned(),
                |d| {
                    format!(
                        "{},{},{},{}",
                        d.metric, d.ratio_vs_reference, d.ratio_ci[0], d.ratio_ci[1]
                    )
                },
            );
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{disparity},{}",
                esc(attr),
                esc(g),
                esc(&r.reference_group),
                m.rows,
                m.count,
                m.base_rate,
                m.selection_rate,
                m.favorable_rate,
                m.true_positive_rate,
                m.false_positive_rate,
                m.precision,
                m.accuracy,
                gr.pass
            );
        }
    }
    out
}
