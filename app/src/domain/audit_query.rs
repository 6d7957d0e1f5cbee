//! Audit trail filters: validation of what a reader typed, and where an entry's object lives.
//!
//! Pages are keyset-paginated on the sequence number (`before`), never by offset, so a page
//! costs the same at entry 10 and at entry 1,000,000.

use super::FieldError;
use serde::{Deserialize, Serialize};

/// Entries per page.
pub const PAGE_SIZE: i64 = 50;

/// Raw filter values as they arrive in a query string; every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilterInput {
    /// Exact actor.
    #[serde(default)]
    pub actor: Option<String>,
    /// Exact action, or a prefix ending in `.` such as `user.`.
    #[serde(default)]
    pub action: Option<String>,
    /// Only entries about this kind of object (`ab_test`, `model_version`, ...).
    #[serde(default)]
    pub object_type: Option<String>,
    /// Object identifier (needs `object_type`).
    #[serde(default)]
    pub object_id: Option<String>,
    /// Earliest time, inclusive: RFC 3339, `YYYY-MM-DDTHH:MM[:SS]` (UTC) or `YYYY-MM-DD`.
    #[serde(default)]
    pub from: Option<String>,
    /// Latest time, exclusive; same forms as `from`.
    #[serde(default)]
    pub to: Option<String>,
    /// Show entries with a sequence number below this one (the keyset cursor).
    #[serde(default)]
    pub before: Option<String>,
    /// Free text, found in the actor, action, object or details (case-insensitive).
    #[serde(default)]
    pub q: Option<String>,
}

/// A validated filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Exact actor.
    pub actor: Option<String>,
    /// Exact action.
    pub action: Option<String>,
    /// Action prefix (ends with `.`).
    pub action_prefix: Option<String>,
    /// Only entries about this kind of object (`ab_test`, `model_version`, ...).
    pub object_type: Option<String>,
    /// Object identifier.
    pub object_id: Option<String>,
    /// Inclusive lower bound in the stored timestamp form.
    pub from_ts: Option<String>,
    /// Exclusive upper bound in the stored timestamp form.
    pub to_ts: Option<String>,
    /// Keyset cursor.
    pub before_seq: Option<i64>,
    /// Free text (case-insensitive substring of actor, action, object type, id or details).
    pub text: Option<String>,
}

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn bounded(field: &'static str, v: Option<String>) -> Result<Option<String>, FieldError> {
    match v {
        Some(s) if s.chars().count() > 200 => {
            Err(FieldError::new(field, "must be at most 200 characters"))
        }
        other => Ok(other),
    }
}

/// Parses a time bound into the stored timestamp form (UTC, six fractional digits).
pub fn parse_time_bound(field: &'static str, s: &str) -> Result<String, FieldError> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let err = || {
        FieldError::new(
            field,
            format!("`{s}` is not a time; use e.g. 2026-11-27, 2026-11-27T08:30 (UTC) or RFC 3339"),
        )
    };
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(super::audit_chain::format_ts(t));
    }
    let minute = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let second = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(t) = time::PrimitiveDateTime::parse(s, second)
        .or_else(|_| time::PrimitiveDateTime::parse(s, minute))
    {
        return Ok(super::audit_chain::format_ts(t.assume_utc()));
    }
    if let Ok(d) = time::Date::parse(s, format_description!("[year]-[month]-[day]")) {
        return Ok(super::audit_chain::format_ts(d.midnight().assume_utc()));
    }
    Err(err())
}

impl AuditFilterInput {
    /// Validates every field; the first error names its field.
    pub fn validate(&self) -> Result<AuditFilter, FieldError> {
        let action = bounded("action", clean(&self.action))?;
        let (action, action_prefix) = match action {
            Some(a) if a.ends_with('.') => (None, Some(a)),
            other => (other, None),
        };
        let object_type = bounded("object_type", clean(&self.object_type))?;
        let object_id = bounded("object_id", clean(&self.object_id))?;
        if object_id.is_some() && object_type.is_none() {
            return Err(FieldError::new(
                "object_type",
                "is required when object_id is given",
            ));
        }
        let from_ts = clean(&self.from)
            .map(|s| parse_time_bound("from", &s))
            .transpose()?;
        let to_ts = clean(&self.to)
            .map(|s| parse_time_bound("to", &s))
            .transpose()?;
        if let (Some(f), Some(t)) = (&from_ts, &to_ts) {
            if f >= t {
                return Err(FieldError::new("to", "must be later than `from`"));
            }
        }
        let before_seq = match clean(&self.before) {
            None => None,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(FieldError::new(
                        "before",
                        "must be a positive sequence number",
                    ))
                }
            },
        };
        Ok(AuditFilter {
            actor: bounded("actor", clean(&self.actor))?,
            action,
            action_prefix,
            object_type,
            object_id,
            from_ts,
            to_ts,
            before_seq,
            text: bounded("q", clean(&self.q))?,
        })
    }
}

impl AuditFilter {
    /// The query string that reproduces this filter (without the cursor), for links.
    pub fn to_query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        if let Some(a) = &self.actor {
            v.push(("actor", a.clone()));
        }
        if let Some(a) = self.action.as_ref().or(self.action_prefix.as_ref()) {
            v.push(("action", a.clone()));
        }
        if let Some(a) = &self.object_type {
            v.push(("object_type", a.clone()));
        }
        if let Some(a) = &self.object_id {
            v.push(("object_id", a.clone()));
        }
        if let Some(a) = &self.from_ts {
            v.push(("from", a.clone()));
        }
        if let Some(a) = &self.to_ts {
            v.push(("to", a.clone()));
        }
        if let Some(a) = &self.text {
            v.push(("q", a.clone()));
        }
        v
    }
}

/// Where the object of an audit entry can be looked at, if it has a page of its own.
pub fn object_href(object_type: &str, object_id: &str) -> Option<String> {
    match object_type {
        "user" => Some(format!("/admin#user-{object_id}")),
        "api_token" => Some(format!("/admin#token-{object_id}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(f: impl FnOnce(&mut AuditFilterInput)) -> AuditFilterInput {
        let mut i = AuditFilterInput::default();
        f(&mut i);
        i
    }

    #[test]
    fn empty_fields_mean_no_filter() {
        let f = input(|i| {
            i.actor = Some("  ".into());
            i.before = Some(String::new());
        })
        .validate()
        .unwrap();
        assert_eq!(f, AuditFilter::default());
    }

    #[test]
    fn time_bounds_accept_the_common_forms() {
        assert_eq!(
            parse_time_bound("from", "2026-11-27").unwrap(),
            "2026-11-27T00:00:00.000000Z"
        );
        assert_eq!(
            parse_time_bound("from", "2026-11-27T08:30").unwrap(),
            "2026-11-27T08:30:00.000000Z"
        );
        assert_eq!(
            parse_time_bound("from", "2026-11-27T08:30:00+01:00").unwrap(),
            "2026-11-27T07:30:00.000000Z"
        );
        let e = parse_time_bound("to", "yesterday").unwrap_err();
        assert_eq!(e.field, "to");
    }

    #[test]
    fn errors_name_their_field() {
        let e = input(|i| i.before = Some("-3".into()))
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "before");
        let e = input(|i| i.object_id = Some("7".into()))
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "object_type");
        let e = input(|i| {
            i.from = Some("2026-02-01".into());
            i.to = Some("2026-01-01".into());
        })
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "to");
        let e = input(|i| i.actor = Some("x".repeat(201)))
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "actor");
    }

    #[test]
    fn a_trailing_dot_filters_by_action_prefix() {
        let f = input(|i| i.action = Some("user.".into()))
            .validate()
            .unwrap();
        assert_eq!(f.action_prefix.as_deref(), Some("user."));
        assert_eq!(f.action, None);
        assert_eq!(f.to_query_pairs(), vec![("action", "user.".to_string())]);
    }

    #[test]
    fn users_and_tokens_link_to_the_admin_page() {
        assert_eq!(
            object_href("user", "alice").as_deref(),
            Some("/admin#user-alice")
        );
        assert_eq!(object_href("session", "x"), None);
    }
}
