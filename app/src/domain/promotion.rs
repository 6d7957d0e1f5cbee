//! Promotion policy as code, and its evaluation against the evidence of one model version.
//!
//! A policy is TOML text, versioned per scope (`*`, `tier:<risk tier>` or `model:<name>`); the
//! most specific scope with a policy is in force. [`parse_policy`] validates the text and says
//! on which line a mistake is. [`evaluate`] turns a policy and an [`Evidence`] bundle into the
//! checklist a reviewer sees; [`Evidence::digest`] is the SHA-256 of the bundle's canonical
//! JSON, which approvals record so that later changes to the evidence stand out.

mod checks;
mod evidence;
mod parse;
mod policy;

pub use checks::*;
pub use evidence::*;
pub use parse::parse_policy;
pub use policy::*;

use crate::domain::roles::Role;

/// Whether every check passes or is waived.
pub fn all_clear(checks: &[Check]) -> bool {
    checks
        .iter()
        .all(|c| matches!(c.status, CheckStatus::Pass | CheckStatus::Waived))
}

/// Why `approver` may not approve, if they may not.
pub fn approval_refusal(
    policy: &Policy,
    requester: &str,
    approver: &str,
    run_author: Option<&str>,
) -> Option<String> {
    if requester == approver {
        return Some("You requested this promotion: someone else has to approve it.".into());
    }
    if !policy.run_author_may_approve && run_author.is_some_and(|a| a == approver) {
        return Some(
            "You trained the linked run, and the policy does not let a run's author approve its promotion."
                .into(),
        );
    }
    None
}

/// Why a waiver of `check` by someone holding `roles` is refused, if it is.
pub fn waiver_refusal(
    policy: &Policy,
    check: &Check,
    roles: &[Role],
    reason: &str,
) -> Option<String> {
    if reason.trim().chars().count() < 10 {
        return Some("A waiver needs a written reason of at least 10 characters.".into());
    }
    if check.status == CheckStatus::Pass {
        return Some(format!(
            "'{}' passes; there is nothing to waive.",
            check.label
        ));
    }
    if !check.waivable {
        return Some(format!(
            "The policy does not allow '{}' to be waived.",
            check.label
        ));
    }
    if !roles.iter().any(|r| policy.waiver_roles.contains(r)) {
        let allowed: Vec<&str> = policy.waiver_roles.iter().map(|r| r.as_str()).collect();
        return Some(format!(
            "Only {} may waive checks under this policy.",
            if allowed.is_empty() {
                "nobody".to_string()
            } else {
                allowed.join(", ")
            }
        ));
    }
    None
}

#[cfg(test)]
mod tests;
