//! The one authorisation table: which roles may perform which action.
//!
//! Every server function, REST route and CLI path asks [`authorize`]; nothing else decides.

use super::roles::Role;
use serde::{Deserialize, Serialize};

/// Something a principal may try to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Read runs, lineage, experiments, fairness reports, models and the overview.
    ReadWorkspace,
    /// Send MLflow runs and OpenLineage events.
    IngestTracking,
    /// Create A/B tests and send their results.
    ManageExperiments,
    /// Record the decision on an A/B test (ship, roll back, extend).
    DecideExperiment,
    /// Attach fairness reports and decide on them.
    ReviewFairness,
    /// Register models and versions, tag them, and set aliases that no policy protects.
    ManageRegistry,
    /// Ask for a model version to be promoted to an alias.
    RequestPromotion,
    /// Approve or reject someone else's promotion request.
    ApprovePromotion,
    /// Read the audit trail beyond one's own entries.
    ReadAudit,
    /// Recompute the audit hash chain.
    VerifyAudit,
    /// Export the audit trail.
    ExportAudit,
    /// Create users and change their roles.
    ManageUsers,
    /// List and revoke any user's API tokens (never create one for someone else).
    ManageTokens,
    /// Create, list and revoke one's own API tokens.
    ManageOwnTokens,
    /// Edit promotion and fairness policies.
    ManagePolicies,
    /// Create, change and remove webhooks, and send failed deliveries again.
    ManageWebhooks,
}

impl Action {
    /// Every action, for exhaustive tests and documentation.
    pub const ALL: [Action; 16] = [
        Action::ReadWorkspace,
        Action::IngestTracking,
        Action::ManageExperiments,
        Action::DecideExperiment,
        Action::ReviewFairness,
        Action::ManageRegistry,
        Action::RequestPromotion,
        Action::ApprovePromotion,
        Action::ReadAudit,
        Action::VerifyAudit,
        Action::ExportAudit,
        Action::ManageUsers,
        Action::ManageTokens,
        Action::ManageOwnTokens,
        Action::ManagePolicies,
        Action::ManageWebhooks,
    ];

    /// Decisions that must be the user's own: a token someone else issued may not make them.
    pub fn needs_own_credentials(self) -> bool {
        matches!(self, Action::ApprovePromotion)
    }
}

/// Whether a single role grants an action.
pub fn role_grants(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    if action == ReadWorkspace || action == ManageOwnTokens {
        // Every role includes the read access of `viewer`, and keeps its own API tokens.
        return true;
    }
    match role {
        Viewer => false,
        ProductManager => matches!(
            action,
            ManageExperiments | DecideExperiment | RequestPromotion
        ),
        Scientist => matches!(
            action,
            IngestTracking | ManageExperiments | ManageRegistry | RequestPromotion
        ),
        Reviewer => matches!(action, ReviewFairness | ApprovePromotion),
        Auditor => matches!(action, ReadAudit | VerifyAudit | ExportAudit),
        Admin => matches!(
            action,
            ReadAudit
                | VerifyAudit
                | ExportAudit
                | ManageUsers
                | ManageTokens
                | ManagePolicies
                | ManageWebhooks
        ),
    }
}

/// Whether a principal holding `roles` may perform `action`.
pub fn authorize(roles: &[Role], action: Action) -> bool {
    roles.iter().any(|&r| role_grants(r, action))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use Role::*;

    /// The expected table, written out in full so a change to it is a visible decision.
    fn expected(role: Role) -> &'static [Action] {
        match role {
            Viewer => &[ReadWorkspace, ManageOwnTokens],
            ProductManager => &[
                ReadWorkspace,
                ManageOwnTokens,
                ManageExperiments,
                DecideExperiment,
                RequestPromotion,
            ],
            Scientist => &[
                ReadWorkspace,
                ManageOwnTokens,
                IngestTracking,
                ManageExperiments,
                ManageRegistry,
                RequestPromotion,
            ],
            Reviewer => &[
                ReadWorkspace,
                ManageOwnTokens,
                ReviewFairness,
                ApprovePromotion,
            ],
            Auditor => &[
                ReadWorkspace,
                ManageOwnTokens,
                ReadAudit,
                VerifyAudit,
                ExportAudit,
            ],
            Admin => &[
                ReadWorkspace,
                ManageOwnTokens,
                ReadAudit,
                VerifyAudit,
                ExportAudit,
                ManageUsers,
                ManageTokens,
                ManagePolicies,
                ManageWebhooks,
            ],
        }
    }

    #[test]
    fn every_role_times_every_action_matches_the_table() {
        for role in Role::ALL {
            for action in Action::ALL {
                assert_eq!(
                    authorize(&[role], action),
                    expected(role).contains(&action),
                    "{role} / {action:?}"
                );
            }
        }
    }

    #[test]
    fn roles_combine_as_a_union() {
        assert!(authorize(&[Viewer, Auditor], VerifyAudit));
        assert!(authorize(&[Scientist, Reviewer], ApprovePromotion));
        assert!(!authorize(&[Scientist, ProductManager], ApprovePromotion));
    }

    #[test]
    fn no_roles_grant_nothing() {
        for action in Action::ALL {
            assert!(!authorize(&[], action), "{action:?}");
        }
    }
}
