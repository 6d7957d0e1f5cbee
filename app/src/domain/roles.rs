//! The roles a Gatehouse user may hold and their textual form.
//!
//! Every role includes the read access of `viewer`; what each role adds is decided in
//! [`crate::domain::authz`].

use crate::domain::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A role granted to a user; a user may hold several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads every capability.
    Viewer,
    /// Runs A/B tests and requests promotions.
    ProductManager,
    /// Ingests runs and lineage, requests promotions.
    Scientist,
    /// Reviews fairness evidence and approves promotions.
    Reviewer,
    /// Reads, exports and verifies the audit trail.
    Auditor,
    /// Manages users, tokens and policies.
    Admin,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 6] = [
        Role::Viewer,
        Role::ProductManager,
        Role::Scientist,
        Role::Reviewer,
        Role::Auditor,
        Role::Admin,
    ];

    /// The stable identifier stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::ProductManager => "product_manager",
            Role::Scientist => "scientist",
            Role::Reviewer => "reviewer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// A human label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::ProductManager => "Product manager",
            Role::Scientist => "Data scientist",
            Role::Reviewer => "Compliance reviewer",
            Role::Auditor => "Auditor",
            Role::Admin => "Administrator",
        }
    }

    /// Parses the stable identifier; the error names the accepted values.
    pub fn parse(s: &str) -> Result<Role, Invalid> {
        let s = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role `{s}`; expected one of: {}",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })
            .map_err(Invalid::from)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a list of role identifiers into a sorted, de-duplicated set; at least one is required.
pub fn parse_roles<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Vec<Role>, Invalid> {
    let mut roles = items
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .map(Role::parse)
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err("at least one role is required".into());
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_identifier() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
    }

    #[test]
    fn unknown_role_error_lists_the_valid_ones() {
        let err = Role::parse("root").unwrap_err();
        assert!(
            err.contains("root") && err.contains("product_manager"),
            "{err}"
        );
    }

    #[test]
    fn role_lists_are_sorted_deduplicated_and_non_empty() {
        assert_eq!(
            parse_roles(["admin", "viewer", "admin"]),
            Ok(vec![Role::Viewer, Role::Admin])
        );
        assert!(parse_roles(["", " "]).is_err());
        assert!(parse_roles(["viewer", "nope"]).is_err());
    }
}
