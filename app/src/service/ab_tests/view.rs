//! What a test's page shows: the stored test analysed, its forest plot and cumulative lift
//! drawn, units per day, decisions and (for a manager) share links.

use super::{snapshot, Snapshot};
use crate::domain::ab_tests::daily::{cumulative_lift, daily_units};
use crate::domain::ab_tests::{Analysis, Correction, MetricRole};
use crate::dto::AbTestView;
use crate::error::AppError;
use crate::service::auth::sha256_hex;
use crate::service::charts::{self, ForestRow};
use crate::service::state::AppState;
use crate::store::ab_tests as db;

/// Width of the page's charts, in SVG units.
const CHART_WIDTH: u32 = 760;

/// Everything the test's page shows, analysed with `correction` when given (the page's
/// selector) instead of the definition's.
pub async fn view(
    s: &AppState,
    id: i64,
    correction: Option<Correction>,
    can_manage: bool,
    can_decide: bool,
) -> Result<AbTestView, AppError> {
    let Snapshot {
        row,
        def,
        rows,
        days,
        analysis,
    } = snapshot(s, id, correction).await?;
    let (analysis, unavailable) = match analysis {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let forest_svg = analysis.as_ref().and_then(forest_svg);
    let (cumulative, cumulative_of) = cumulative_lift(&def, &rows, &days);
    let points: Vec<(f64, f64, f64, f64)> = cumulative
        .iter()
        .map(|(d, l, lo, hi)| {
            let x = days.iter().position(|x| x == d).unwrap_or(0) as f64;
            (x, *l, *lo, *hi)
        })
        .collect();
    let cumulative_svg = charts::cumulative_lift(&points, &days, CHART_WIDTH, 260);
    let daily_units = daily_units(&def, &rows, &days);
    Ok(AbTestView {
        id,
        def,
        status: row.status,
        created_by: row.created_by,
        created_at: row.created_at,
        analysis,
        unavailable,
        days,
        forest_svg,
        cumulative_svg,
        cumulative_of,
        cumulative,
        daily_units,
        decisions: db::decisions(&s.pool, id).await?,
        shares: if can_manage {
            db::shares(&s.pool, id).await?
        } else {
            Vec::new()
        },
        can_manage,
        can_decide,
        new_share: None,
    })
}

/// The forest plot: one row per metric × treatment (the metric alone when every metric has
/// one treatment), its relative lift and decision interval, a guardrail's tolerance marked.
fn forest_svg(a: &Analysis) -> Option<String> {
    let one_treatment = a.metrics.iter().map(|m| m.comparisons.len()).max() == Some(1);
    let rows: Vec<ForestRow> = a
        .metrics
        .iter()
        .flat_map(|m| {
            m.comparisons.iter().map(move |c| ForestRow {
                label: if one_treatment {
                    m.name.clone()
                } else {
                    format!("{} · {}", m.name, c.variant)
                },
                value: c.rel_lift,
                low: c.decision_rel_lift_ci[0],
                high: c.decision_rel_lift_ci[1],
                outcome: c.outcome,
                tolerance: (m.role == MetricRole::Guardrail && m.tolerance > 0.0)
                    .then(|| -m.direction_sign() * m.tolerance),
            })
        })
        .collect();
    charts::forest_plot(&rows, CHART_WIDTH)
}

/// The test a live share link opens, read-only.
pub async fn shared(s: &AppState, token: &str) -> Result<AbTestView, AppError> {
    let id = db::shared_test(&s.pool, &sha256_hex(token), &crate::service::now_ts())
        .await?
        .ok_or_else(|| AppError::not_found("this share link is unknown, expired or revoked"))?;
    view(s, id, None, false, false).await
}
