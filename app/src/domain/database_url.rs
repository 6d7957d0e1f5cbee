//! `DATABASE_URL`: which database it names, checked before anything is opened, and the URL as
//! it may be shown (in logs, errors and command output) with its password hidden.

use crate::domain::Invalid;

/// The schemes this build opens, as the refusal lists them.
pub const SUPPORTED: &str = "sqlite:// (a file, e.g. sqlite://data/gatehouse.db), sqlite::memory: \
     or postgres:// (postgres://user:password@host:5432/database, also postgresql://)";

/// A database URL this build can open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite database: the URL as sqlx reads it (`sqlite://path`, `sqlite:path`,
    /// `sqlite::memory:`, with `?mode=…` options).
    Sqlite(String),
    /// A PostgreSQL database: the URL as given (`postgres://…` or `postgresql://…`, with
    /// libpq-style options such as `?sslmode=require`).
    Postgres(String),
}

/// Reads `url`: an `sqlite:` or `postgres:` URL is used as one; any other scheme, or a value
/// without one, is refused naming what was found and what is supported (a URL is never taken
/// for a file name).
pub fn parse(url: &str) -> Result<DatabaseUrl, Invalid> {
    let url = url.trim();
    if url.is_empty() {
        return Err(format!("DATABASE_URL is empty; supported: {SUPPORTED}").into());
    }
    match scheme(url) {
        Some(s) if s.eq_ignore_ascii_case("sqlite") => {
            let rest = &url[s.len() + 1..];
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(format!(
                    "DATABASE_URL {} names no database file; supported: {SUPPORTED}",
                    redacted(url)
                )
                .into());
            }
            Ok(DatabaseUrl::Sqlite(url.to_owned()))
        }
        Some(s) if s.eq_ignore_ascii_case("postgres") || s.eq_ignore_ascii_case("postgresql") => {
            Ok(DatabaseUrl::Postgres(url.to_owned()))
        }
        Some(s) => Err(format!(
            "DATABASE_URL {}: the scheme '{s}' is not supported by this build; supported: {SUPPORTED}",
            redacted(url)
        )
        .into()),
        None => Err(format!(
            "DATABASE_URL '{}' has no scheme; supported: {SUPPORTED}",
            redacted(url)
        )
        .into()),
    }
}

/// The URL's scheme: the letters, digits, `+`, `-` and `.` before the first `:`, starting
/// with a letter (RFC 3986 §3.1); `None` for a plain path.
fn scheme(url: &str) -> Option<&str> {
    let (s, _) = url.split_once(':')?;
    let mut chars = s.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(s)
}

/// The URL with its password replaced by `***`, in the user information
/// (`postgres://app:***@db:5432/gatehouse`) and in a `password=` query parameter, fit for logs
/// and messages.
pub fn redacted(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = redacted_authority(base);
    if let Some(q) = query {
        let pairs: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// `base` (a URL without its query) with the user information's password hidden.
fn redacted_authority(base: &str) -> String {
    let Some(after) = base.find("://").map(|i| i + 3) else {
        return base.to_owned();
    };
    let authority_end = base[after..]
        .find(['/', '#'])
        .map_or(base.len(), |i| after + i);
    let authority = &base[after..authority_end];
    let Some(at) = authority.rfind('@') else {
        return base.to_owned();
    };
    match authority[..at].split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &base[..after], &base[after + at..]),
        None => base.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_are_used_as_sqlite() {
        for url in [
            "sqlite://data/gatehouse.db",
            "sqlite:data/gatehouse.db",
            "sqlite:///tmp/x.db?mode=rwc",
            "sqlite::memory:",
            " SQLITE://data/x.db ",
        ] {
            assert_eq!(
                parse(url),
                Ok(DatabaseUrl::Sqlite(url.trim().to_owned())),
                "{url}"
            );
        }
    }

    #[test]
    fn postgres_urls_are_used_as_postgres() {
        for url in [
            "postgres://app:s3cret@db.internal:5432/gatehouse",
            "postgresql://app@db/gatehouse?sslmode=require",
        ] {
            assert_eq!(
                parse(url),
                Ok(DatabaseUrl::Postgres(url.to_owned())),
                "{url}"
            );
        }
    }

    #[test]
    fn other_schemes_are_refused_naming_them_and_what_is_supported() {
        let e = parse("mysql://root:s3cret@localhost/db").unwrap_err();
        assert!(
            e.0.contains("the scheme 'mysql' is not supported"),
            "{}",
            e.0
        );
        assert!(e.0.contains("sqlite://"), "{}", e.0);
        assert!(e.0.contains("postgres://"), "{}", e.0);
        assert!(
            !e.0.contains("s3cret"),
            "the password is never shown: {}",
            e.0
        );
        assert!(e.0.contains("mysql://root:***@localhost/db"), "{}", e.0);
    }

    #[test]
    fn a_plain_path_or_an_empty_value_is_refused() {
        assert!(parse("data/gatehouse.db")
            .unwrap_err()
            .0
            .contains("has no scheme"));
        assert!(parse("/var/lib/g.db")
            .unwrap_err()
            .0
            .contains("has no scheme"));
        assert!(parse("  ").unwrap_err().0.contains("is empty"));
        assert!(parse("sqlite://")
            .unwrap_err()
            .0
            .contains("names no database file"));
        assert!(parse("sqlite:?mode=rwc")
            .unwrap_err()
            .0
            .contains("names no database file"));
    }

    #[test]
    fn only_the_password_is_hidden() {
        assert_eq!(
            redacted("postgres://u:p@w:rd@h:5432/d?sslmode=require"),
            "postgres://u:***@h:5432/d?sslmode=require"
        );
        assert_eq!(redacted("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(
            redacted("postgres://h/d?password=x&sslmode=require"),
            "postgres://h/d?password=***&sslmode=require"
        );
        assert_eq!(redacted("sqlite://data/g.db"), "sqlite://data/g.db");
        assert_eq!(redacted("sqlite::memory:"), "sqlite::memory:");
    }
}
