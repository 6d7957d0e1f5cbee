//! Pure domain logic shared by the server and the browser: no I/O, no framework types.

pub mod ab;
pub mod accounts;
pub mod artifacts;
pub mod audit_chain;
pub mod audit_query;
pub mod authz;
pub mod axis;
pub mod csv;
pub mod downsample;
pub mod experiment;
pub mod fairness;
pub mod graph_layout;
pub mod lineage;
pub mod logged_models;
pub mod merkle;
pub mod names;
pub mod palette;
pub mod promotion;
pub mod roles;
pub mod run_search;
pub mod throttle;
pub mod url;
pub mod when;

/// A value that breaks a rule, with the rule in words ("must be 2 to 64 characters long"):
/// what the domain's parsers and checks answer. The caller names the field when it turns this
/// into an `AppError::Validation`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl From<String> for Invalid {
    fn from(message: String) -> Self {
        Invalid(message)
    }
}

impl From<&str> for Invalid {
    fn from(message: &str) -> Self {
        Invalid(message.to_owned())
    }
}

/// Reads as its message, so it can be searched and shown like the text it carries.
impl std::ops::Deref for Invalid {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<Invalid> for String {
    fn from(e: Invalid) -> Self {
        e.0
    }
}
