//! The fairness API: `POST /api/v1/fairness/analyze` (stateless) and stored reports under
//! `/api/v1/fairness/reports`, plus the browser's upload form (`POST /fairness/upload`).
//!
//! Bodies are streamed: each chunk is hashed, inflated when gzip, parsed and tallied as it
//! arrives, so these routes take files far larger than the general body limit (they have
//! their own, `--max-upload-bytes`) in memory that does not grow with the file.

use crate::api::{needs, Access, Api, Body as Payload, Doc, Param};
use crate::extract::{admit, Caller, Created, JsonBody};
use app::domain::authz::Action;
use app::error::AppError;
use app::service::auth::{authenticate, Principal};
use app::service::fairness::{self as ops, report_of, Limits, Query, ReportUpload, Upload};
use app::service::state::AppState;
use app::store::fairness as db;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use futures_util::StreamExt;
use serde_json::{json, Value};

/// What the upload routes need: the store, the limit on the body as sent, and the ceilings
/// on what it inflates to.
#[derive(Clone, axum::extract::FromRef)]
pub struct UploadState {
    /// The application.
    pub app: AppState,
    /// Most bytes sent.
    pub max_upload_bytes: u64,
    /// Ceilings on the CSV once inflated.
    pub limits: Limits,
}

/// Longest text field of the multipart form (the mapping, the subject), in bytes.
const MAX_FORM_FIELD_BYTES: usize = 64 * 1024;

/// The routes, with the upload limit in bytes and the ceilings on the inflated CSV.
pub fn router(state: AppState, max_upload_bytes: usize, limits: Limits) -> Api {
    use Action::*;
    /// The column mapping, shared by the analysis and stored reports.
    const MAPPING: &[Param] = &[
        ("label", "Label column (0/1); required"),
        (
            "prediction",
            "Prediction column (0/1), or give score and threshold",
        ),
        ("score", "Score column"),
        ("threshold", "Threshold for the score"),
        (
            "attributes",
            "Sensitive attributes, comma-separated; required",
        ),
        ("reference", "Reference groups, attr:group,attr:group"),
        (
            "favorable",
            "1 (default) when prediction 1 is favourable, 0 when it is adverse",
        ),
        ("intersectional", "true to cross the first two attributes"),
        ("weight", "Sample-weight column"),
        ("min_group_rows", "Smallest group without a warning"),
        (
            "rules",
            "Policy rules metric:min:max,… (default: the four-fifths rule)",
        ),
        (
            "model_version",
            "The model version, name@version (stored reports)",
        ),
        ("run_id", "Or the tracking run (stored reports)"),
        ("dataset", "Evaluation dataset name (stored reports)"),
    ];
    Api::gated(state.clone())
        .post("/api/v1/fairness/analyze", analyze,
            needs(ReadWorkspace, "Analyse a CSV (or CSV.gz) of predictions; nothing is stored")
                .body(Payload::Text("text/csv")).query(MAPPING))
        .post("/api/v1/fairness/reports", create,
            Doc::new(Access::AnyOf(UPLOAD), "Store a fairness report from a CSV body, or a multipart form with the mapping before the file")
                .body(Payload::Text("text/csv")).query(MAPPING))
        .get("/api/v1/fairness/reports", list, needs(ReadWorkspace, "List fairness reports with their verdicts"))
        .get("/api/v1/fairness/reports/{id}", show, needs(ReadWorkspace, "A stored fairness report"))
        .get("/api/v1/fairness/reports/{id}/export.csv", export_csv,
            needs(ReadWorkspace, "A report's per-group table as CSV"))
        .get("/api/v1/fairness/policies", list_policies,
            needs(ReadWorkspace, "The fairness policy of every model that has one"))
        .put("/api/v1/fairness/policies/{model}", set_policy,
            needs(ManagePolicies, "Set a model's fairness policy").json())
        .post("/fairness/upload", upload_form,
            Doc::new(Access::AnyOf(UPLOAD), "The upload form's target: stores a report and redirects to it")
                .body(Payload::Multipart).gated_in_handler())
        .map(|r| {
            r.layer(axum::extract::DefaultBodyLimit::max(max_upload_bytes))
                .layer(tower_http::limit::RequestBodyLimitLayer::new(max_upload_bytes))
                .layer(axum::middleware::from_fn_with_state(
                    max_upload_bytes,
                    crate::middleware::declared_body_limit,
                ))
        })
        .with_state(UploadState {
            app: state,
            max_upload_bytes: max_upload_bytes as u64,
            limits,
        })
}

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

/// The report settings: the query's, with the model's stored policy (or the default one)
/// unless the query gives its own rules.
async fn settings_for(
    s: &AppState,
    q: &Query,
) -> Result<app::domain::fairness::Settings, AppError> {
    let (_, mut settings) = q.settings()?;
    if q.rules.as_deref().is_none_or(|r| r.trim().is_empty()) {
        let model = q
            .model_version
            .as_deref()
            .and_then(|m| m.split('@').next())
            .filter(|m| !m.is_empty());
        if let Some(p) = db::policy_for(&s.pool, model).await? {
            let min = if q
                .min_group_rows
                .as_deref()
                .is_some_and(|m| !m.trim().is_empty())
            {
                settings.policy.min_group_rows
            } else {
                p.min_group_rows
            };
            settings.policy = app::domain::fairness::Policy {
                rules: p.rules,
                min_group_rows: min,
            };
        }
    }
    Ok(settings)
}

/// Streams a raw body (`text/csv`, optionally gzip) through an upload.
async fn stream_body(
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

/// `POST /api/v1/fairness/analyze?label=…&prediction=…|score=…&threshold=…&attributes=a,b…`
/// with the CSV as the body: the report, stored nowhere. Any signed-in role.
async fn analyze(
    State(u): State<UploadState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<Query>,
    body: Body,
) -> Result<Json<Value>, AppError> {
    let s = &u.app;
    let settings = settings_for(s, &q).await?;
    let (tally, digest, bytes) = stream_body(&u, &q, &headers, body).await?;
    let report = report_of(&tally, &settings)?;
    let mut v = serde_json::to_value(&report).map_err(|_| AppError::internal())?;
    v["file_sha256"] = json!(digest);
    v["file_bytes"] = json!(bytes);
    Ok(Json(v))
}

/// Who may upload prediction files: scientists (their runs) and reviewers (their evidence).
const UPLOAD: &[Action] = &[Action::IngestTracking, Action::ReviewFairness];

/// Stores a finished upload's report with its audit entry; returns the id.
async fn store(
    s: &AppState,
    p: &Principal,
    q: &Query,
    tally: &app::domain::fairness::Tally,
    digest: &str,
    bytes: u64,
) -> Result<i64, AppError> {
    let (mapping, _) = q.settings()?;
    let settings = settings_for(s, q).await?;
    let report = report_of(tally, &settings)?;
    let model_version = q
        .model_version
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let run_id = q.run_id.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let dataset = q.dataset.as_deref().map(str::trim).unwrap_or_default();
    let upload = ReportUpload {
        model_version,
        run_id,
        dataset,
        file_sha256: digest,
        file_bytes: bytes,
        mapping: &mapping,
        report: &report,
    };
    ops::store_report(&s.pool, p, &upload).await
}

fn check_subject(q: &Query) -> Result<(), AppError> {
    let has = |v: &Option<String>| v.as_deref().is_some_and(|x| !x.trim().is_empty());
    if !has(&q.model_version) && !has(&q.run_id) {
        return Err(AppError::validation(
            "model_version",
            "name the model version (model@version) or the run the report is about",
        ));
    }
    if let Some(m) = q.model_version.as_deref().filter(|m| !m.trim().is_empty()) {
        if !m.contains('@') || m.starts_with('@') || m.ends_with('@') {
            return Err(AppError::validation(
                "model_version",
                "is not model@version",
            ));
        }
    }
    if !has(&q.dataset) {
        return Err(AppError::validation(
            "dataset",
            "name the evaluation dataset",
        ));
    }
    if let Some(d) = &q.dataset {
        app::domain::names::check_name(d, app::domain::names::MAX_NAME_CHARS)
            .map_err(|m| AppError::validation("dataset", format!("the dataset name {m}")))?;
    }
    Ok(())
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
            check_subject(&q)?;
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
async fn receive(u: &UploadState, p: &Principal, req: Request) -> Result<i64, AppError> {
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
        check_subject(&query)?;
        let headers = req.headers().clone();
        let (t, d, b) = stream_body(u, &query, &headers, req.into_body()).await?;
        (query, t, d, b)
    };
    store(s, p, &q, &tally, &digest, bytes).await
}

/// `POST /api/v1/fairness/reports?model_version=…&dataset=…&<mapping>`: a `text/csv` body (or
/// multipart with the same fields before `file`) becomes a stored, audited report.
async fn create(
    State(u): State<UploadState>,
    Caller(p): Caller,
    req: Request,
) -> Result<Created<Json<Value>>, AppError> {
    let id = receive(&u, &p, req).await?;
    let s = &u.app;
    let (row, _, report) = db::get(&s.pool, id).await?.ok_or_else(AppError::internal)?;
    Ok(Created(Json(
        json!({ "id": id, "url": format!("/fairness/{id}"), "verdict": row.verdict, "sentence": row.sentence,
                     "file_sha256": row.file_sha256, "rows": row.rows, "report": report }),
    )))
}

/// `POST /fairness/upload`: the browser's multipart form; redirects to the report, or back to
/// the form with the error (sign-in included, so the route is gated here).
async fn upload_form(State(u): State<UploadState>, req: Request) -> Response {
    let stored = match authenticate(&u.app, req.headers()).await {
        Ok(caller) => match admit(Access::AnyOf(UPLOAD), caller) {
            Ok(p) => receive(&u, &p, req).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match stored {
        Ok(id) => Redirect::to(&format!("/fairness/{id}")).into_response(),
        Err(AppError::Unauthorized { .. }) => {
            Redirect::to("/login?next=%2Ffairness").into_response()
        }
        Err(e) => {
            let (field, message) = match &e {
                AppError::Validation { field, message } => (field.clone(), message.clone()),
                other => (String::new(), other.to_string()),
            };
            let text = if field.is_empty() {
                message
            } else {
                format!("{field}: {message}")
            };
            let q: String = crate::middleware::url_encode(&text);
            Redirect::to(&format!("/fairness?error={q}#upload")).into_response()
        }
    }
}

/// `GET /api/v1/fairness/reports`.
async fn list(State(s): State<AppState>) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "reports": db::list(&s.pool).await? })))
}

fn report_id(raw: &str) -> Result<i64, AppError> {
    raw.parse()
        .map_err(|_| AppError::not_found(format!("no fairness report {raw}")))
}

/// `GET /api/v1/fairness/reports/{id}`.
async fn show(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let id = report_id(&id)?;
    let (row, mapping, report) = db::get(&s.pool, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no fairness report {id}")))?;
    Ok(Json(
        json!({ "id": id, "header": row, "mapping": mapping, "report": report }),
    ))
}

/// `GET /api/v1/fairness/reports/{id}/export.csv`: one line per attribute × group.
async fn export_csv(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = report_id(&id)?;
    let (_, _, report) = db::get(&s.pool, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no fairness report {id}")))?;
    let mut out = String::from("attribute,group,reference,rows,count,base_rate,selection_rate,favorable_rate,true_positive_rate,false_positive_rate,precision,accuracy,metric,ratio_vs_reference,ratio_ci_low,ratio_ci_high,pass\n");
    let esc = app::domain::csv::spreadsheet_cell;
    let all = report
        .by_attribute
        .iter()
        .map(|(a, r)| (a.clone(), r))
        .chain(
            report
                .intersectional
                .iter()
                .map(|r| ("intersectional".to_owned(), r)),
        );
    for (attr, r) in all {
        for (g, gr) in &r.groups {
            let m = &gr.metrics;
            let d = gr.disparities.first();
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                esc(&attr),
                esc(g),
                esc(&r.reference_group),
                m.rows,
                m.count,
                m.base_rate,
                m.selection_rate,
                m.favorable_rate,
                m.true_positive_rate,
                m.false_positive_rate,
                m.precision,
                m.accuracy,
                d.map(|d| d.metric.clone()).unwrap_or_default(),
                d.map(|d| d.ratio_vs_reference.to_string())
                    .unwrap_or_default(),
                d.map(|d| d.ratio_ci[0].to_string()).unwrap_or_default(),
                d.map(|d| d.ratio_ci[1].to_string()).unwrap_or_default(),
                gr.pass
            ));
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"fairness-report-{id}.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}

/// `GET /api/v1/fairness/policies`: the stored policies (`*` is every model's default).
async fn list_policies(State(s): State<AppState>) -> Result<Json<Value>, AppError> {
    let list: Vec<Value> = db::policies(&s.pool)
        .await?
        .into_iter()
        .map(|(model, p, by, at)| json!({ "model": model, "rules": p.rules, "min_group_rows": p.min_group_rows, "updated_by": by, "updated_at": at }))
        .collect();
    Ok(Json(
        json!({ "policies": list, "default": app::domain::fairness::Policy::default() }),
    ))
}

/// `PUT /api/v1/fairness/policies/{model}` (admins): `{rules: [{metric, min_ratio,
/// max_ratio}], min_group_rows}`; `*` sets the default for models without their own.
async fn set_policy(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(model): Path<String>,
    JsonBody(policy): JsonBody<app::domain::fairness::Policy>,
) -> Result<Json<Value>, AppError> {
    let model = ops::set_policy(&s.pool, &p, &model, &policy).await?;
    Ok(Json(
        json!({ "model": model, "rules": policy.rules, "min_group_rows": policy.min_group_rows }),
    ))
}
