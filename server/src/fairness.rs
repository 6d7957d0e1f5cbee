//! The fairness API: `POST /api/v1/fairness/analyze` (stateless) and stored reports under
//! `/api/v1/fairness/reports`, plus the browser's upload form (`POST /fairness/upload`).
//!
//! Bodies are streamed: each chunk is hashed, inflated when gzip, parsed and tallied as it
//! arrives, so these routes take files far larger than the general body limit (they have
//! their own, `--max-upload-bytes`) in memory that does not grow with the file.

mod upload;

use crate::api::{needs, Access, Api, Body as Payload, Doc, Param};
use crate::extract::{admit, Caller, Created, JsonBody};
use app::domain::authz::Action;
use app::domain::fairness::{report_csv, Mapping, Policy, Report, Rule};
use app::error::AppError;
use app::service::auth::authenticate;
use app::service::fairness::{self as ops, report_of, settings_for, Limits, Query};
use app::service::state::AppState;
use app::store::fairness::{self as db, ReportRow};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use upload::{receive, stream_body};

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

/// A report computed from an upload and stored nowhere.
#[derive(Serialize, JsonSchema)]
struct Analysed {
    /// The report: per-group rates with intervals, disparities, the checks and the verdict.
    #[serde(flatten)]
    report: Report,
    /// SHA-256 of the file as sent (before any gzip was inflated), hex.
    file_sha256: String,
    /// The file's size as sent, in bytes.
    file_bytes: u64,
}

/// `POST /api/v1/fairness/analyze?label=…&prediction=…|score=…&threshold=…&attributes=a,b…`
/// with the CSV as the body: the report, stored nowhere. Any signed-in role.
async fn analyze(
    State(u): State<UploadState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<Query>,
    body: Body,
) -> Result<Json<Analysed>, AppError> {
    let settings = settings_for(&u.app.pool, &q).await?;
    let (tally, file_sha256, file_bytes) = stream_body(&u, &q, &headers, body).await?;
    Ok(Json(Analysed {
        report: report_of(&tally, &settings)?,
        file_sha256,
        file_bytes,
    }))
}

/// Who may upload prediction files: scientists (their runs) and reviewers (their evidence).
const UPLOAD: &[Action] = &[Action::IngestTracking, Action::ReviewFairness];

/// A report just stored.
#[derive(Serialize, JsonSchema)]
struct StoredReport {
    /// Its id, for `/api/v1/fairness/reports/{id}`.
    id: i64,
    /// Its page in the UI.
    url: String,
    /// `pass` or `fail`.
    verdict: String,
    /// The verdict in one sentence.
    sentence: String,
    /// SHA-256 of the file as sent, hex.
    file_sha256: String,
    /// Data rows read.
    rows: i64,
    /// The report as stored.
    report: Report,
}

/// `POST /api/v1/fairness/reports?model_version=…&dataset=…&<mapping>`: a `text/csv` body (or
/// multipart with the same fields before `file`) becomes a stored, audited report.
async fn create(
    State(u): State<UploadState>,
    Caller(p): Caller,
    req: Request,
) -> Result<Created<Json<StoredReport>>, AppError> {
    let id = receive(&u, &p, req).await?;
    let (row, _, report) = db::get(&u.app.pool, id)
        .await?
        .ok_or_else(AppError::internal)?;
    Ok(Created(Json(StoredReport {
        id,
        url: format!("/fairness/{id}"),
        verdict: row.verdict,
        sentence: row.sentence,
        file_sha256: row.file_sha256,
        rows: row.rows,
        report,
    })))
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

/// The stored reports.
#[derive(Serialize, JsonSchema)]
struct ReportList {
    /// Their headers, newest first (at most 500).
    reports: Vec<ReportRow>,
}

/// `GET /api/v1/fairness/reports`.
async fn list(State(s): State<AppState>) -> Result<Json<ReportList>, AppError> {
    Ok(Json(ReportList {
        reports: db::list(&s.pool).await?,
    }))
}

/// The stored report `raw` names, or 404.
async fn stored(s: &AppState, raw: &str) -> Result<(i64, ReportRow, Mapping, Report), AppError> {
    let missing = || AppError::not_found(format!("no fairness report {raw}"));
    let id: i64 = raw.parse().map_err(|_| missing())?;
    let (row, mapping, report) = db::get(&s.pool, id).await?.ok_or_else(missing)?;
    Ok((id, row, mapping, report))
}

/// One stored report.
#[derive(Serialize, JsonSchema)]
struct StoredDetail {
    /// The report's id, as in `/fairness/<id>`.
    id: i64,
    /// What it judged (model version or run, dataset, file), its verdict, who stored it.
    header: ReportRow,
    /// How the file's columns were read.
    mapping: Mapping,
    /// The report as stored.
    report: Report,
}

/// `GET /api/v1/fairness/reports/{id}`.
async fn show(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<StoredDetail>, AppError> {
    let (id, header, mapping, report) = stored(&s, &id).await?;
    Ok(Json(StoredDetail {
        id,
        header,
        mapping,
        report,
    }))
}

/// `GET /api/v1/fairness/reports/{id}/export.csv`: one line per attribute × group.
async fn export_csv(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (id, _, _, report) = stored(&s, &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"fairness-report-{id}.csv\""),
            ),
        ],
        report_csv(&report),
    )
        .into_response())
}

/// A model's stored fairness policy.
#[derive(Serialize, JsonSchema)]
struct FairnessPolicy {
    /// The model name, or `*` for the default of models without their own.
    model: String,
    /// The ratio rules a report must meet.
    rules: Vec<Rule>,
    /// Groups with fewer rows get a warning.
    min_group_rows: u64,
    /// Who set it (absent in the answer to setting it).
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_by: Option<String>,
    /// When, RFC 3339 (absent in the answer to setting it).
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
}

/// Every stored policy, and the built-in default.
#[derive(Serialize, JsonSchema)]
struct FairnessPolicies {
    /// The stored policies by model name.
    policies: Vec<FairnessPolicy>,
    /// The policy of a model when neither it nor `*` has one: the four-fifths rule.
    default: Policy,
}

/// `GET /api/v1/fairness/policies`: the stored policies (`*` is every model's default).
async fn list_policies(State(s): State<AppState>) -> Result<Json<FairnessPolicies>, AppError> {
    let policies = db::policies(&s.pool)
        .await?
        .into_iter()
        .map(|(model, p, by, at)| FairnessPolicy {
            model,
            rules: p.rules,
            min_group_rows: p.min_group_rows,
            updated_by: Some(by),
            updated_at: Some(at),
        })
        .collect();
    Ok(Json(FairnessPolicies {
        policies,
        default: Policy::default(),
    }))
}

/// `PUT /api/v1/fairness/policies/{model}` (admins): `{rules: [{metric, min_ratio,
/// max_ratio}], min_group_rows}`; `*` sets the default for models without their own.
async fn set_policy(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(model): Path<String>,
    JsonBody(policy): JsonBody<Policy>,
) -> Result<Json<FairnessPolicy>, AppError> {
    let model = ops::set_policy(&s.pool, &p, &model, &policy).await?;
    Ok(Json(FairnessPolicy {
        model,
        rules: policy.rules,
        min_group_rows: policy.min_group_rows,
        updated_by: None,
        updated_at: None,
    }))
}
