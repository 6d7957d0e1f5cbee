//! Reading an upload as it streams: a raw `text/csv` body (gzip when declared) or a multipart
//! form whose text fields (the mapping and the subject) come before the `file`. Each chunk goes
//! straight into the tally, so memory does not grow with the file.

use super::UploadState;
use app::error::AppError;
use app::service::auth::Principal;
use app::service::fairness::{self as ops, Query, Upload};
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderMap};
use futures_util::StreamExt;

/// Longest text field of the multipart form (the mapping, the subject), in bytes.
const MAX_FORM_FIELD_BYTES: usize = 64 * 1024;

/// A failed read of the body: past the upload limit (413, naming it) or cut off.
fn body_error(text: String, limit: u64) -> AppError {
    if text.contains("length limit") {
        AppError::too_large(
            format!("the upload is larger than the limit of {limit} bytes"),
            limit,
        )
    } else {
        AppError::validation("file", format!("the upload was cut off: {text}"))
    }
}

fn declared_gzip(headers: &HeaderMap) -> Option<bool> {
    let enc = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let ty = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/gzip") || v.starts_with("application/x-gzip"));
    (enc || ty).then_some(true)
}

/// Streams a raw body (`text/csv`, optionally gzip) through an upload.
pub(super) async fn stream_body(
    u: &UploadState,
    q: &Query,
    headers: &HeaderMap,
    body: Body,
) -> Result<(app::domain::fairness::Tally, String, u64), AppError> {
    let (mapping, _) = q.settings()?;
    let mut up = Upload::with_limits(mapping, declared_gzip(headers), u.limits);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| body_error(e.to_string(), u.max_upload_bytes))?;
        up.push(&chunk)?;
    }
    Ok(up.finish()?)
}

/// Reads a multipart upload: text fields (the mapping, before the file) then the `file`.
async fn stream_multipart(
    u: &UploadState,
    mut mp: Multipart,
    mut q: Query,
) -> Result<(Query, app::domain::fairness::Tally, String, u64), AppError> {
    let limit = u.max_upload_bytes;
    let bad_part = |e: axum::extract::multipart::MultipartError| {
        body_error(format!("the upload is not valid multipart: {e}"), limit)
    };
    while let Some(mut field) = mp.next_field().await.map_err(bad_part)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            q.check_subject()?;
            let gz = field
                .file_name()
                .is_some_and(|f| f.ends_with(".gz"))
                .then_some(true);
            let (mapping, _) = q.settings()?;
            let mut up = Upload::with_limits(mapping, gz, u.limits);
            while let Some(chunk) = field.chunk().await.map_err(bad_part)? {
                up.push(&chunk)?;
            }
            let (t, d, b) = up.finish()?;
            return Ok((q, t, d, b));
        }
        // Text fields are read whole: bounded, so a huge one cannot take the memory.
        let mut raw = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad_part)? {
            if raw.len() + chunk.len() > MAX_FORM_FIELD_BYTES {
                return Err(AppError::too_large(
                    format!(
                        "the form field '{}' is longer than the limit of {MAX_FORM_FIELD_BYTES} bytes",
                        app::error::clip(name.clone(), 40)
                    ),
                    MAX_FORM_FIELD_BYTES as u64,
                ));
            }
            raw.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(raw).map_err(|_| {
            AppError::validation(app::error::clip(name.clone(), 40), "is not UTF-8 text")
        })?;
        let slot = match name.as_str() {
            "label" => {
                q.label = value;
                continue;
            }
            "attributes" => {
                q.attributes = value;
                continue;
            }
            "prediction" => &mut q.prediction,
            "score" => &mut q.score,
            "threshold" => &mut q.threshold,
            "reference" => &mut q.reference,
            "favorable" => &mut q.favorable,
            "intersectional" => &mut q.intersectional,
            "weight" => &mut q.weight,
            "min_group_rows" => &mut q.min_group_rows,
            "rules" => &mut q.rules,
            "model_version" => &mut q.model_version,
            "run_id" => &mut q.run_id,
            "dataset" => &mut q.dataset,
            _ => continue,
        };
        *slot = Some(value);
    }
    Err(AppError::validation("file", "no file was uploaded"))
}

/// Stores the upload in `req` for `p`; returns the report's id.
pub(super) async fn receive(u: &UploadState, p: &Principal, req: Request) -> Result<i64, AppError> {
    let s = &u.app;
    let query: Query = axum::extract::Query::<Query>::try_from_uri(req.uri())
        .map(|q| q.0)
        .map_err(|e| AppError::validation("query", e.body_text()))?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (q, tally, digest, bytes) = if multipart {
        let mp = Multipart::from_request(req, s)
            .await
            .map_err(|e| AppError::validation("file", e.body_text()))?;
        stream_multipart(u, mp, query).await?
    } else {
        query.check_subject()?;
        let headers = req.headers().clone();
        let (t, d, b) = stream_body(u, &query, &headers, req.into_body()).await?;
        (query, t, d, b)
    };
    ops::store_upload(&s.pool, p, &q, &tally, &digest, bytes).await
}
