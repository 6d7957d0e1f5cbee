//! A/B tests as their list, page and shared view show them.

use serde::{Deserialize, Serialize};

/// An A/B test as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AbTestSummary {
    /// The test's id, as in `/ab-tests/<id>`.
    pub id: i64,
    /// The test's display name.
    pub name: String,
    /// Who answers for the test (its creator unless set).
    pub owner: String,
    /// draft, running, stopped or decided.
    pub status: crate::domain::ab_tests::Status,
    /// Current verdict, when there is data to read.
    pub verdict: Option<crate::domain::ab_tests::Decision>,
    /// The verdict in one plain sentence.
    pub sentence: Option<String>,
    /// Days with results.
    pub days: usize,
    /// Units assigned.
    pub users: Option<f64>,
    /// First day.
    pub start_date: Option<String>,
}

/// A recorded decision on an A/B test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DecisionRow {
    /// The decision's id, in the order decisions were recorded.
    pub id: i64,
    /// ship, roll_back or extend.
    pub decision: String,
    /// The decider's reasons.
    pub comment: String,
    /// The verdict at the time.
    pub verdict: String,
    /// The verdict's sentence at the time.
    pub sentence: String,
    /// Who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: String,
}

/// A read-only share link as listed to its test's managers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ShareLink {
    /// The link's id (its secret is never listed).
    pub id: i64,
    /// Creator.
    pub created_by: String,
    /// When it was made, RFC 3339.
    pub created_at: String,
    /// When it stops working, RFC 3339.
    pub expires_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// Everything the A/B test page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AbTestView {
    /// The test's id, as in `/ab-tests/<id>`.
    pub id: i64,
    /// Definition.
    pub def: crate::domain::ab_tests::ExperimentDef,
    /// Draft, running, stopped or decided.
    pub status: crate::domain::ab_tests::Status,
    /// Creator.
    pub created_by: String,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// The analysis (with the correction asked for), if the data can be read.
    pub analysis: Option<crate::domain::ab_tests::Analysis>,
    /// Why there is no analysis.
    pub unavailable: Option<String>,
    /// Days with results.
    pub days: Vec<String>,
    /// Forest plot of every comparison's lift (SVG).
    pub forest_svg: Option<String>,
    /// Cumulative lift of the first goal metric by day (SVG).
    pub cumulative_svg: Option<String>,
    /// Which metric and variant the cumulative chart follows.
    pub cumulative_of: String,
    /// Its values: day, lift, low, high.
    pub cumulative: Vec<(String, f64, f64, f64)>,
    /// Units per day per variant (variants in definition order).
    pub daily_units: Vec<(String, Vec<f64>)>,
    /// Decisions, newest first.
    pub decisions: Vec<DecisionRow>,
    /// Share links (managers only).
    pub shares: Vec<ShareLink>,
    /// The viewer may send results, change status and share.
    pub can_manage: bool,
    /// The viewer may record the decision.
    pub can_decide: bool,
    /// A share link this viewer just created without JavaScript (shown once).
    pub new_share: Option<String>,
}
