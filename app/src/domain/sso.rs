//! Single sign-on rules that need no provider: which Gatehouse roles a person's groups at the
//! identity provider grant, where the groups and the name are in the claims, and what changed
//! since the last sign-in.

use crate::domain::accounts::Username;
use crate::domain::roles::Role;
use crate::domain::Invalid;
use serde_json::Value;

/// Groups at the identity provider and the Gatehouse roles each one grants, with the roles
/// everyone who signs in gets whatever their groups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleMap {
    /// `(group, role)` pairs, in the order configured; a group may grant several roles.
    pub pairs: Vec<(String, Role)>,
    /// Roles granted to every person the provider signs in (often none, or `viewer`).
    pub default_roles: Vec<Role>,
}

impl RoleMap {
    /// Reads `group=role` pairs separated by commas or new lines (`ml-reviewers=reviewer,
    /// ml-admins=admin`); group names are compared exactly, as the provider spells them.
    pub fn parse(map: &str, default_roles: &str) -> Result<RoleMap, Invalid> {
        let mut pairs = Vec::new();
        for item in map
            .split([',', '\n'])
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            let (group, role) = item
                .rsplit_once('=')
                .ok_or_else(|| Invalid(format!("`{item}` is not `group=role`")))?;
            let group = group.trim();
            if group.is_empty() {
                return Err(format!("`{item}` names no group").into());
            }
            let role =
                Role::parse(role.trim()).map_err(|e| Invalid(format!("`{item}`: {}", e.0)))?;
            pairs.push((group.to_owned(), role));
        }
        let default_roles = default_roles
            .split([',', ' '])
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| Role::parse(r).map_err(|e| Invalid(format!("default role: {}", e.0))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RoleMap {
            pairs,
            default_roles,
        })
    }

    /// The roles `groups` grant, with the default roles, sorted and without repeats.
    pub fn roles_for(&self, groups: &[String]) -> Vec<Role> {
        let mut roles: Vec<Role> = self
            .pairs
            .iter()
            .filter(|(g, _)| groups.contains(g))
            .map(|(_, r)| *r)
            .chain(self.default_roles.iter().copied())
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }
}

/// The value at a dotted `path` in `claims` (`groups`, or Keycloak's `realm_access.roles`). A
/// claim whose name itself holds dots (`https://example.com/groups`) is found as a whole first.
pub fn claim_at<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(path) {
        return Some(v);
    }
    path.split('.').try_fold(claims, |v, key| v.get(key))
}

/// The groups a claim carries: an array of strings, or one string (some providers send a
/// single group bare). Anything else carries none.
pub fn groups_in(claims: &Value, path: &str) -> Vec<String> {
    match claim_at(claims, path) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The Gatehouse user name the provider's `claim` gives, lower-cased; a value that is no valid
/// user name is refused naming the claim, so the provider's admin knows what to change.
pub fn username_from(claims: &Value, claim: &str) -> Result<Username, Invalid> {
    let raw = claim_at(claims, claim)
        .and_then(Value::as_str)
        .ok_or_else(|| Invalid(format!("the identity provider sent no `{claim}` claim")))?;
    Username::parse(&raw.trim().to_lowercase())
        .map_err(|e| Invalid(format!("`{claim}` claim `{raw}` {}", e.0)))
}

/// What a sign-in changes in a person's roles: the roles granted and the roles taken away.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleChange {
    /// Held now, not before.
    pub added: Vec<Role>,
    /// Held before, not now.
    pub removed: Vec<Role>,
}

impl RoleChange {
    /// The difference between the roles held and the roles the groups grant.
    pub fn between(before: &[Role], after: &[Role]) -> RoleChange {
        RoleChange {
            added: after
                .iter()
                .filter(|r| !before.contains(r))
                .copied()
                .collect(),
            removed: before
                .iter()
                .filter(|r| !after.contains(r))
                .copied()
                .collect(),
        }
    }

    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

#[cfg(test)]
mod tests;
