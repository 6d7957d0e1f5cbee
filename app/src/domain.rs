//! Pure domain logic shared by the server and the browser: no I/O, no framework types.

pub mod ab_tests;
pub mod accounts;
pub mod artifacts;
pub mod audit_chain;
pub mod audit_query;
pub mod authz;
pub mod axis;
pub mod csv;
pub mod database_url;
pub mod downsample;
pub mod fairness;
pub mod format;
pub mod graph_layout;
pub mod lineage;
pub mod logged_models;
pub mod merkle;
pub mod names;
pub mod palette;
pub mod promotion;
pub mod roles;
pub mod run_search;
pub mod sso;
pub mod throttle;
pub mod url;
pub mod webhooks;
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

/// Input refused at a named place: the field (a path such as `metrics[1].data[0].conversions`,
/// a JSON pointer such as `/run/runId`, a CSV column or a query parameter), the line of a file
/// when one row is at fault (the header is line 1), and the rule it breaks. Every domain check
/// that reads a whole document answers this; `AppError::from` turns it into a 400 naming the
/// place.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{}: {message}", self.place())]
pub struct FieldError {
    /// Where the input is wrong.
    pub field: String,
    /// The line of the file, when one row is at fault.
    pub row: Option<u64>,
    /// The rule it breaks, in words.
    pub message: String,
}

impl FieldError {
    /// `field` breaks the rule `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            row: None,
            message: message.into(),
        }
    }

    /// `field` on line `row` of a file breaks the rule `message`.
    pub fn on_row(field: impl Into<String>, row: Option<u64>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            row,
            message: message.into(),
        }
    }

    /// The field, with the line when a row is at fault: `units (line 3)`.
    pub fn place(&self) -> String {
        match self.row {
            Some(r) => format!("{} (line {r})", self.field),
            None => self.field.clone(),
        }
    }
}
