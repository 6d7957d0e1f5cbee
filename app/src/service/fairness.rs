//! Fairness reports: prediction files streamed through a push CSV parser (gzip inflated on the
//! way) into per-group counts (`upload`), the analysis settings a request asks for (`query`),
//! and the stored reports and policies with their audit entries (`reports`).
//!
//! Nothing keeps the file: each chunk of the request body is hashed, inflated if needed,
//! split into records and tallied, so memory depends on the number of groups, not rows.

mod query;
mod reports;
mod upload;

pub use query::Query;
pub use reports::{
    report_of, set_policy, settings_for, store_report, store_upload, summary_of, view, ReportUpload,
};
pub use upload::{CsvTally, Limits, Upload, UploadError};
