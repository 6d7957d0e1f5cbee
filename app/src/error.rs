//! `AppError`: the one error type that crosses the server-function and REST boundary.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// What went wrong, in terms the user can act on. Serialises as `{"error": kind, "message": …}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(schemars::JsonSchema),
    schemars(rename = "Error")
)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("{message}")]
    #[cfg_attr(feature = "ssr", schemars(title = "NotFoundError"))]
    NotFound {
        /// Human message.
        message: String,
    },
    /// No valid session or token.
    #[error("{message}")]
    #[cfg_attr(feature = "ssr", schemars(title = "UnauthorizedError"))]
    Unauthorized {
        /// Human message.
        message: String,
    },
    /// Signed in, but the roles held do not allow this.
    #[error("{message}")]
    #[cfg_attr(feature = "ssr", schemars(title = "ForbiddenError"))]
    Forbidden {
        /// Human message.
        message: String,
    },
    /// A field of the input is invalid.
    #[error("{field}: {message}")]
    #[cfg_attr(feature = "ssr", schemars(title = "ValidationError"))]
    Validation {
        /// The input field (or row) at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The change conflicts with existing state (for example a duplicate name).
    #[error("{message}")]
    #[cfg_attr(feature = "ssr", schemars(title = "ConflictError"))]
    Conflict {
        /// Human message.
        message: String,
    },
    /// The request (or what it inflates to) passes a size limit; nothing was stored.
    #[error("{message}")]
    #[cfg_attr(feature = "ssr", schemars(title = "PayloadTooLargeError"))]
    PayloadTooLarge {
        /// What was too large, naming the limit.
        message: String,
        /// The limit, in bytes.
        limit_bytes: u64,
    },
    /// Too many attempts; try again later.
    #[error("{message}")]
    #[cfg_attr(feature = "ssr", schemars(title = "TooManyRequestsError"))]
    TooManyRequests {
        /// Human message.
        message: String,
        /// Seconds until another attempt is accepted.
        retry_after_secs: u64,
    },
    /// The store cannot take writes right now (disk full, read-only, locked); nothing was
    /// changed and the same request can be sent again later.
    #[error("{message}")]
    #[cfg_attr(feature = "ssr", schemars(title = "UnavailableError"))]
    Unavailable {
        /// What the operator has to fix, without paths or internals.
        message: String,
    },
    /// Something failed on the server; details are in the server log only.
    #[error("{message}")]
    #[cfg_attr(feature = "ssr", schemars(title = "InternalError"))]
    Internal {
        /// Always a generic text.
        message: String,
    },
}

/// Longest message an error carries: messages quote user input, and an answer must never
/// echo more than a short prefix of it (a 256 MiB header once came back in an error).
pub const MAX_MESSAGE_CHARS: usize = 300;
/// Longest field name an error carries.
pub const MAX_FIELD_CHARS: usize = 120;

/// `s` cut to `max` characters, with an ellipsis when it was longer.
pub fn clip(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s,
        Some((at, _)) => {
            let mut out = s[..at].to_owned();
            out.push('…');
            out
        }
    }
}

impl AppError {
    /// A validation error on `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: clip(field.into(), MAX_FIELD_CHARS),
            message: clip(message.into(), MAX_MESSAGE_CHARS),
        }
    }

    /// The request is larger than `limit` bytes allows.
    pub fn too_large(message: impl Into<String>, limit: u64) -> Self {
        AppError::PayloadTooLarge {
            message: clip(message.into(), MAX_MESSAGE_CHARS),
            limit_bytes: limit,
        }
    }

    /// The caller is not signed in.
    pub fn unauthorized() -> Self {
        AppError::Unauthorized {
            message: "sign in required".into(),
        }
    }

    /// The caller's roles do not allow this.
    pub fn forbidden() -> Self {
        AppError::Forbidden {
            message: "your roles do not allow this".into(),
        }
    }

    /// A missing object, described for the user.
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound {
            message: clip(what.into(), MAX_MESSAGE_CHARS),
        }
    }

    /// A conflict, described for the user.
    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict {
            message: clip(message.into(), MAX_MESSAGE_CHARS),
        }
    }

    /// The generic server-side failure (log the cause before returning this).
    pub fn internal() -> Self {
        AppError::Internal {
            message: "internal error".into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotFound { .. } => 404,
            AppError::Unauthorized { .. } => 401,
            AppError::Forbidden { .. } => 403,
            AppError::Validation { .. } => 400,
            AppError::Conflict { .. } => 409,
            AppError::PayloadTooLarge { .. } => 413,
            AppError::TooManyRequests { .. } => 429,
            AppError::Unavailable { .. } => 503,
            AppError::Internal { .. } => 500,
        }
    }

    /// A short title for error pages.
    pub fn title(&self) -> &'static str {
        match self {
            AppError::NotFound { .. } => "Not found",
            AppError::Unauthorized { .. } => "Sign in required",
            AppError::Forbidden { .. } => "Forbidden",
            AppError::Validation { .. } => "Invalid input",
            AppError::Conflict { .. } => "Conflict",
            AppError::PayloadTooLarge { .. } => "Too large",
            AppError::TooManyRequests { .. } => "Too many requests",
            AppError::Unavailable { .. } => "Temporarily unavailable",
            AppError::Internal { .. } => "Something went wrong",
        }
    }
}

/// A 400 naming the place: the field, with the line when one row of a file is at fault.
impl From<crate::domain::FieldError> for AppError {
    fn from(e: crate::domain::FieldError) -> Self {
        AppError::validation(e.place(), e.message)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                AppError::validation("request", m)
            }
            ServerFnErrorErr::Request(_) => AppError::Internal {
                message: "the server could not be reached; check your connection".into(),
            },
            _ => AppError::internal(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return AppError::conflict("an entry with this name already exists");
            }
            // PostgreSQL gave up one of two writes that waited on each other (deadlock) or
            // could not serialise: the transaction was rolled back whole.
            if matches!(db.code().as_deref(), Some("40P01" | "40001")) {
                tracing::warn!(error = ?e, "a concurrent write conflicted; nothing was stored");
                return AppError::Unavailable {
                    message: "another write conflicted with this one: nothing was stored; send the request again".into(),
                };
            }
            if let Some(u) = db
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .and_then(AppError::storage)
            {
                tracing::error!(error = ?e, "the store refused a write");
                return u;
            }
        }
        tracing::error!(error = ?e, "database error");
        AppError::internal()
    }
}

#[cfg(feature = "ssr")]
impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        if let Some(u) = e
            .sqlite_error()
            .and_then(|f| AppError::storage(f.extended_code))
        {
            tracing::error!(error = %e, "the store refused a write");
            return u;
        }
        tracing::error!(error = %e, "database error");
        AppError::internal()
    }
}

#[cfg(feature = "ssr")]
impl From<crate::store::DriverError> for AppError {
    fn from(e: crate::store::DriverError) -> Self {
        match e {
            crate::store::DriverError::Pool(e) => e.into(),
            crate::store::DriverError::Sqlite(e) => e.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The answer for an SQLite result code that means the store cannot take writes now
    /// (full, read-only, locked past the busy timeout, or failing I/O); `None` for others.
    pub fn storage(code: i32) -> Option<AppError> {
        // Extended codes carry the primary code in their low byte.
        let message = match code & 0xff {
            13 => "the database's disk is full: nothing was stored; free space and send the request again",
            8 => "the database is read-only: nothing was stored; make it writable and send the request again",
            5 | 6 => "the database is busy: nothing was stored; send the request again",
            10 | 14 => "the database's storage is failing: nothing was stored; check the disk and send the request again",
            _ => return None,
        };
        Some(AppError::Unavailable {
            message: message.into(),
        })
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.status_code())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(&self)).into_response();
        if let AppError::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            if let Ok(v) = axum::http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        if matches!(self, AppError::Unavailable { .. }) {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("30"),
            );
        }
        if matches!(self, AppError::Unauthorized { .. }) {
            res.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"gatehouse\""),
            );
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_error_and_message() {
        let v = serde_json::to_value(AppError::forbidden()).unwrap();
        assert_eq!(v["error"], "forbidden");
        assert!(v["message"].is_string());
        let v = serde_json::to_value(AppError::validation("username", "too short")).unwrap();
        assert_eq!(v["field"], "username");
        let v = serde_json::to_value(AppError::too_large("big", 10)).unwrap();
        assert_eq!(v["error"], "payload_too_large");
        assert_eq!(v["limit_bytes"], 10);
        assert_eq!(AppError::too_large("big", 10).status_code(), 413);
    }

    #[test]
    fn messages_never_carry_more_than_a_short_prefix_of_input() {
        let long = "é".repeat(10_000);
        let AppError::Validation { field, message } =
            AppError::validation(long.clone(), format!("'{long}' is not valid"))
        else {
            unreachable!()
        };
        assert_eq!(field.chars().count(), MAX_FIELD_CHARS + 1);
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(message.ends_with('…'));
        assert_eq!(clip("short".into(), 10), "short");
    }
}
