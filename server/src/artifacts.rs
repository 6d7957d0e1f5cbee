//! MLflow's artifact proxy, `/api/2.0/mlflow-artifacts/…`, as the official client uses it with
//! `mlflow-artifacts:` URIs (the default of `mlflow server`): files go up with `PUT`, come
//! back with `GET`, are listed with `GET …/artifacts?path=` and removed with `DELETE`.
//!
//! Bodies are streamed to the artifact store and hashed on the way; each stored file is one
//! audit entry with its size and SHA-256, written in the transaction that indexes it. Paths
//! must name a run or logged model (`<experiment>/<run>/artifacts/…`,
//! `<experiment>/models/<model>/artifacts/…`) and may not leave it (400). Files of a finalized
//! model, or under the run folder a registered version points at, are frozen (409).
//!
//! Multipart and presigned transfers are off, and answered as MLflow answers when they are:
//! `501 NOT_IMPLEMENTED`, which the client takes as "use the proxy".

use crate::api::{needs, Access, Api, Body as ReqBody, Doc};
use crate::extract::Caller;
use crate::mlflow::MlflowError;
use app::domain::artifacts::{media_type, parse_store_path, ArtifactPath};
use app::domain::authz::Action;
use app::error::AppError;
use app::service::artifacts as ops;
use app::service::state::AppState;
use app::store::artifacts;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// The prefix of the proxy's routes.
pub const PREFIX: &str = "/api/2.0/mlflow-artifacts";

/// An error in MLflow's shape, with a frozen file's conflict as `409 INVALID_STATE`.
#[derive(Debug)]
pub struct ArtifactError(pub AppError);

impl From<AppError> for ArtifactError {
    fn from(e: AppError) -> Self {
        ArtifactError(e)
    }
}

impl From<sqlx::Error> for ArtifactError {
    fn from(e: sqlx::Error) -> Self {
        ArtifactError(e.into())
    }
}

impl From<MlflowError> for ArtifactError {
    fn from(e: MlflowError) -> Self {
        ArtifactError(e.0)
    }
}

impl IntoResponse for ArtifactError {
    fn into_response(self) -> Response {
        match self.0 {
            AppError::Conflict { message } => (
                StatusCode::CONFLICT,
                Json(json!({ "error_code": "INVALID_STATE", "message": message })),
            )
                .into_response(),
            other => MlflowError(other).into_response(),
        }
    }
}

fn bad_path(message: String) -> ArtifactError {
    ArtifactError(AppError::validation("path", message))
}

fn not_implemented(message: &str) -> Response {
    (
        StatusCode::NOT_IMPLEMENTED,
        Json(json!({ "error_code": "NOT_IMPLEMENTED", "message": message })),
    )
        .into_response()
}

/// The routes.
pub fn router(state: AppState) -> Api {
    use Action::*;
    let a = format!("{PREFIX}/artifacts");
    let file = format!("{PREFIX}/artifacts/{{*path}}");
    Api::gated(state.clone())
        .get(
            "/api/3.0/mlflow/server-info",
            server_info,
            Doc::new(
                Access::Public,
                "What this server supports (the client asks before large transfers)",
            ),
        )
        .get(
            &a,
            list,
            needs(
                ReadWorkspace,
                "The files and folders directly under a run's or model's folder",
            )
            .query(&[(
                "path",
                "<experiment>/<run>/artifacts[/…] or <experiment>/models/<model>/artifacts[/…]",
            )]),
        )
        .get(
            &file,
            download,
            needs(ReadWorkspace, "A stored file, streamed"),
        )
        .put(
            &file,
            upload,
            needs(
                IngestTracking,
                "Store a file (streamed; 409 under a finalized or registered model)",
            )
            .body(ReqBody::Text("application/octet-stream")),
        )
        .delete(
            &file,
            remove,
            needs(
                IngestTracking,
                "Delete a file or a folder (409 under a finalized or registered model)",
            ),
        )
        .post(
            &format!("{PREFIX}/mpu/create/{{*path}}"),
            mpu_off,
            needs(
                IngestTracking,
                "Multipart upload: off (501, the client then uses PUT)",
            ),
        )
        .post(
            &format!("{PREFIX}/mpu/complete/{{*path}}"),
            mpu_off,
            needs(IngestTracking, "Multipart upload: off (501)"),
        )
        .post(
            &format!("{PREFIX}/mpu/abort/{{*path}}"),
            mpu_off,
            needs(IngestTracking, "Multipart upload: off (501)"),
        )
        .get(
            &format!("{PREFIX}/presigned/{{*path}}"),
            presigned_off,
            needs(
                ReadWorkspace,
                "Presigned download: off (501, the client then uses GET)",
            ),
        )
        .with_state(state)
}

async fn server_info() -> Json<Value> {
    Json(json!({
        "store_type": "SqlStore",
        "workspaces_enabled": false,
        "trace_archival_enabled": false,
        "multipart_uploads_enabled": false,
        "multipart_downloads_enabled": false,
        "presigned_upload_run_id_supported": false,
        "presigned_upload_model_id_supported": false,
        "features_enabled": {},
    }))
}

async fn mpu_off() -> Result<Response, ArtifactError> {
    Ok(not_implemented(
        "Multipart upload is not supported for the current artifact repository",
    ))
}

async fn presigned_off() -> Result<Response, ArtifactError> {
    Ok(not_implemented(
        "Multipart download is not supported for the current artifact repository",
    ))
}

fn parse(path: &str) -> Result<ArtifactPath, ArtifactError> {
    parse_store_path(path).map_err(|e| bad_path(e.into()))
}

async fn list(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ArtifactError> {
    let path = q.get("path").map(String::as_str).unwrap_or("");
    if path.is_empty() {
        return Err(bad_path(
            "`path` is required: <experiment>/<run>/artifacts[/…] or <experiment>/models/<model>/artifacts[/…]".into(),
        ));
    }
    let p = parse(path)?;
    let mut conn = s.pool.acquire().await?;
    let files = children(&mut conn, &p.key()).await?;
    if files.is_empty() {
        // MLflow answers an empty message for a file or an unknown folder.
        return Ok(Json(json!({})));
    }
    Ok(Json(json!({ "files": files })))
}

/// The entries directly under the folder `key`: folders first by name, then files.
pub async fn children(conn: &mut app::store::Conn, key: &str) -> Result<Vec<Value>, sqlx::Error> {
    let mut dirs: BTreeMap<String, ()> = BTreeMap::new();
    let mut files = Vec::new();
    for f in artifacts::files_below(conn, key).await? {
        let rest = &f.path[key.len() + 1..];
        match rest.split_once('/') {
            Some((dir, _)) => {
                dirs.insert(dir.to_string(), ());
            }
            None => files.push(json!({ "path": rest, "is_dir": false, "file_size": f.size })),
        }
    }
    let mut out: Vec<Value> = dirs
        .into_keys()
        .map(|d| json!({ "path": d, "is_dir": true }))
        .collect();
    out.extend(files);
    Ok(out)
}

async fn download(
    State(s): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, ArtifactError> {
    let p = parse(&path)?;
    let key = p.key();
    let missing = || ArtifactError(AppError::not_found(format!("No such artifact: '{key}'")));
    let indexed = {
        let mut conn = s.pool.acquire().await?;
        artifacts::file(&mut conn, &key).await?
    };
    if indexed.is_none() {
        return Err(missing());
    }
    let Some((size, stream)) = s.artifacts.get(&key).await.map_err(|e| {
        tracing::error!(error = %e, key, "artifact store read failed");
        ArtifactError(AppError::internal())
    })?
    else {
        tracing::error!(key, "an indexed artifact is missing from the store");
        return Err(missing());
    };
    let name = key.rsplit('/').next().unwrap_or("artifact");
    // Only safe characters in the header; the rest of the name is in the URL anyway.
    let shown: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut res = Response::new(Body::from_stream(stream));
    let hs = res.headers_mut();
    hs.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type(&key)),
    );
    hs.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{shown}\"")) {
        hs.insert(header::CONTENT_DISPOSITION, v);
    }
    // An artifact is data, never a page of this site.
    hs.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    hs.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

async fn upload(
    State(s): State<AppState>,
    Caller(who_): Caller,
    h: HeaderMap,
    Path(path): Path<String>,
    body: Body,
) -> Result<Json<Value>, ArtifactError> {
    let p = parse(&path)?;
    if p.rel.is_empty() {
        return Err(bad_path(format!(
            "`{path}` is a folder: name the file to store below it"
        )));
    }
    let max = s.config.max_artifact_bytes;
    let declared = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(ArtifactError(AppError::too_large(
            format!("the file is larger than the {max}-byte limit on one artifact"),
            max,
        )));
    }
    let body = (body.into_data_stream(), max);
    ops::upload(&s.pool, &s.artifacts, &who_, &p, body).await?;
    Ok(Json(json!({})))
}

async fn remove(
    State(s): State<AppState>,
    Caller(who_): Caller,
    Path(path): Path<String>,
) -> Result<Json<Value>, ArtifactError> {
    let p = parse(&path)?;
    ops::remove(&s.pool, &s.artifacts, &who_, &p).await?;
    Ok(Json(json!({})))
}
