//! Validated account inputs: user names, passwords and API token labels.
//!
//! Each newtype's `parse` holds the rule; the error text is shown to the person who typed it.

use crate::domain::Invalid;
use serde::{Deserialize, Serialize};

/// A user name: 2–64 characters, lower-case ASCII letters, digits, `.`, `_` or `-`, starting with a letter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    /// Validates and normalises (trims) a user name.
    pub fn parse(s: &str) -> Result<Username, Invalid> {
        let s = s.trim();
        if s.len() < 2 || s.len() > 64 {
            return Err("must be 2 to 64 characters long".into());
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("must start with a lower-case letter".into());
        }
        if let Some(c) = s.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        }) {
            return Err(
                format!("may contain only a-z, 0-9, '.', '_' and '-' (found {c:?})").into(),
            );
        }
        Ok(Username(s.to_owned()))
    }

    /// The validated name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 12 and at most 1024 characters, not only whitespace.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

impl NewPassword {
    /// Minimum length, long enough that a passphrase is the easy choice.
    pub const MIN_CHARS: usize = 12;

    /// Validates a password chosen for a new account.
    pub fn parse(s: &str) -> Result<NewPassword, Invalid> {
        let n = s.chars().count();
        if n < Self::MIN_CHARS {
            return Err(format!("must be at least {} characters long", Self::MIN_CHARS).into());
        }
        if n > 1024 {
            return Err("must be at most 1024 characters long".into());
        }
        if s.trim().is_empty() {
            return Err("must not be only whitespace".into());
        }
        Ok(NewPassword(s.to_owned()))
    }

    /// The password text, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A label for an API token such as `ci-pipeline`: a name of 1–64 characters ([`super::names`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenName(String);

impl TokenName {
    /// Validates and trims a token label.
    pub fn parse(s: &str) -> Result<TokenName, Invalid> {
        let s = super::names::check_name(s, 64)?;
        Ok(TokenName(s.to_owned()))
    }

    /// The validated label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where to go after signing in: only a local absolute path, so the sign-in page cannot be used
/// to send people to another site; anything else falls back to `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control() || c == '\\')
                && !n.starts_with("/login") =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path_or_home() {
        assert_eq!(safe_next(Some("/audit?actor=x")), "/audit?actor=x");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "javascript:alert(1)",
            "/login",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn usernames_follow_the_rule() {
        assert_eq!(Username::parse(" alice ").unwrap().as_str(), "alice");
        assert!(Username::parse("pm.lee-2").is_ok());
        for bad in ["", "a", "Alice", "1abc", "al ice", "a/b", &"x".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords_need_length_and_content() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse(&" ".repeat(20)).is_err());
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert!(
            !format!("{:?}", NewPassword::parse("correct horse battery").unwrap())
                .contains("horse")
        );
    }

    #[test]
    fn token_names_are_printable_and_bounded() {
        assert_eq!(TokenName::parse(" ci ").unwrap().as_str(), "ci");
        assert!(TokenName::parse("").is_err());
        assert!(TokenName::parse("a\nb").is_err());
        assert!(TokenName::parse(&"é".repeat(64)).is_ok());
        assert!(TokenName::parse(&"é".repeat(65)).is_err());
    }
}
