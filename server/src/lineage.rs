//! The OpenLineage API, Marquez-compatible: `POST /api/v1/lineage` ingests events.

use crate::api::{needs, Api, Body};
use crate::extract::{Caller, Created};
use app::domain::authz::Action;
use app::domain::lineage::parse_event;
use app::error::AppError;
use app::service::auth::Principal;
use app::service::lineage::graph::{graph_json, Graph};
use app::service::lineage::LineageWriter;
use app::service::state::AppState;
use app::store::lineage;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::io::Read;

/// State of the lineage routes: the app, the most bytes a body may hold once inflated, and
/// the queue to the writer.
#[derive(Clone)]
pub struct LineageState {
    app: AppState,
    max_body_bytes: usize,
    writer: LineageWriter,
}

/// The lineage routes (and their writer task).
pub fn router(app: AppState, max_body_bytes: usize) -> Api {
    let writer = LineageWriter::start(&app.pool);
    use Action::*;
    Api::gated(app.clone())
        .post(
            "/api/v1/lineage",
            ingest,
            needs(
                IngestTracking,
                "Ingest an OpenLineage run event (or a JSON array of them; gzip accepted)",
            )
            .body(Body::Spec(
                "An OpenLineage RunEvent, DatasetEvent or JobEvent, or an array of them, as the OpenLineage specification defines them (https://openlineage.io/spec/2-0-2/OpenLineage.json); checked against it, a refusal names the field by JSON pointer",
            )),
        )
        .get(
            "/api/v1/lineage",
            get_lineage,
            needs(
                ReadWorkspace,
                "The lineage graph around a node, Marquez-shaped",
            )
            .query(&[
                (
                    "nodeId",
                    "The node: dataset:ns:name, job:ns:name, run:id, model:name@version",
                ),
                ("depth", "Steps each way (default 20, at most 100)"),
                ("upstreamDepth", "Steps upstream, overriding depth"),
                ("downstreamDepth", "Steps downstream, overriding depth"),
            ]),
        )
        .get(
            "/api/v1/search",
            search,
            needs(ReadWorkspace, "Datasets, jobs and runs by name").query(&[
                ("q", "Text to look for"),
                ("limit", "Most results (default 20)"),
            ]),
        )
        .with_state(LineageState {
            app,
            max_body_bytes,
            writer,
        })
}

/// Why an ingest request was turned away.
enum Reject {
    /// Auth, validation or store errors.
    App(AppError),
    /// The inflated body passed the limit (bytes).
    TooLarge(usize),
    /// A `Content-Encoding` other than gzip.
    Encoding(String),
}

impl From<AppError> for Reject {
    fn from(e: AppError) -> Self {
        Reject::App(e)
    }
}

impl From<sqlx::Error> for Reject {
    fn from(e: sqlx::Error) -> Self {
        Reject::App(e.into())
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        match self {
            Reject::App(e) => e.into_response(),
            Reject::TooLarge(limit) => AppError::too_large(
                format!("request body is larger than the limit of {limit} bytes once decompressed"),
                limit as u64,
            )
            .into_response(),
            Reject::Encoding(other) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(json!({ "error": "unsupported_media_type", "field": "Content-Encoding",
                    "message": format!("Content-Encoding '{other}' is not supported (use gzip or none)") })),
            )
                .into_response(),
        }
    }
}

/// The request body, inflated when it is gzip-encoded; at most `limit` bytes either way.
fn inflate(headers: &HeaderMap, body: &Bytes, limit: usize) -> Result<Vec<u8>, Reject> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(body.to_vec()),
        Some("gzip") | Some("x-gzip") => {
            let mut out = Vec::new();
            // Read one byte past the limit to tell "exactly at" from "over".
            flate2::read::GzDecoder::new(&body[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| {
                    AppError::validation(
                        "Content-Encoding",
                        format!("the gzip body is corrupt: {e}"),
                    )
                })?;
            if out.len() > limit {
                return Err(Reject::TooLarge(limit));
            }
            Ok(out)
        }
        Some(other) => Err(Reject::Encoding(other.to_owned())),
    }
}

/// `POST /api/v1/lineage`: one OpenLineage RunEvent, DatasetEvent or JobEvent. 201 with an
/// empty body when stored (or already stored); 400 naming the field by JSON pointer when the
/// event is invalid, with nothing stored. Needs the scientist role; audited once per request.
async fn ingest(
    State(s): State<LineageState>,
    Caller(p): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Created<()>, Reject> {
    ingest_inner(&s, &p, &headers, &body).await?;
    Ok(Created(()))
}

async fn ingest_inner(
    s: &LineageState,
    p: &Principal,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(), Reject> {
    let raw = inflate(headers, body, s.max_body_bytes)?;
    let v: Value = serde_json::from_slice(&raw)
        .map_err(|e| AppError::validation("", format!("the body is not valid JSON: {e}")))?;
    let event = parse_event(&v).map_err(|e| {
        AppError::validation(
            e.field.clone(),
            format!("{}: {}", display_pointer(&e.field), e.message),
        )
    })?;
    let body = String::from_utf8_lossy(&raw).into_owned();
    s.writer.ingest(p, event, body).await?;
    Ok(())
}

fn display_pointer(p: &str) -> &str {
    if p.is_empty() {
        "the event"
    } else {
        p
    }
}

/// Query of `GET /api/v1/lineage`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineageQuery {
    node_id: Option<String>,
    depth: Option<String>,
    upstream_depth: Option<String>,
    downstream_depth: Option<String>,
}

/// Deepest walk a lineage query may ask for.
pub const MAX_DEPTH: usize = 100;
/// Depth when none is given (as in Marquez).
pub const DEFAULT_DEPTH: usize = 20;

fn depth(field: &str, v: Option<&str>, default: usize) -> Result<usize, AppError> {
    match v {
        None | Some("") => Ok(default),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|d| *d <= MAX_DEPTH)
            .ok_or_else(|| {
                AppError::validation(field, format!("'{s}' is not a depth from 0 to {MAX_DEPTH}"))
            }),
    }
}

/// `GET /api/v1/lineage?nodeId=…&depth=N` (and `upstreamDepth`, `downstreamDepth`): the graph
/// around a node in Marquez's shape, `{graph: [{id, type, data, inEdges, outEdges}]}`, with
/// each node's count of neighbours left out (`hiddenUpstream`, `hiddenDownstream`).
pub async fn get_lineage(
    State(s): State<LineageState>,
    axum::extract::Query(q): axum::extract::Query<LineageQuery>,
) -> Result<Json<Graph>, AppError> {
    let id = q.node_id.filter(|n| !n.is_empty()).ok_or_else(|| {
        AppError::validation(
            "nodeId",
            "nodeId is required, e.g. dataset:<namespace>:<name>",
        )
    })?;
    let both = depth("depth", q.depth.as_deref(), DEFAULT_DEPTH)?;
    let up = depth("upstreamDepth", q.upstream_depth.as_deref(), both)?;
    let down = depth("downstreamDepth", q.downstream_depth.as_deref(), both)?;
    let start = lineage::resolve(&s.app.pool, &id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no lineage node {id}")))?;
    Ok(Json(graph_json(&s.app.pool, &start, up, down).await?))
}

/// Query of `GET /api/v1/search`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct SearchQuery {
    q: Option<String>,
    limit: Option<String>,
}

/// Lineage nodes whose names match a search.
#[derive(serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    /// How many results there are (at most the limit asked for).
    pub total_count: usize,
    /// The matches: exact names first, then names starting with the text, then the rest.
    pub results: Vec<SearchResult>,
}

/// One match of a lineage search.
#[derive(serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// `DATASET`, `JOB` or `RUN`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The namespace it lives in, such as `s3://bucket` for a dataset.
    pub namespace: String,
    /// Its name within the namespace.
    pub name: String,
    /// Its id for `GET /api/v1/lineage?nodeId=…`.
    pub node_id: String,
    /// When an event last mentioned it, RFC 3339.
    pub updated_at: String,
}

/// `GET /api/v1/search?q=…&limit=N`: datasets, jobs and runs by name, Marquez-shaped
/// (`{totalCount, results: [{type, name, namespace, nodeId, updatedAt}]}`).
pub async fn search(
    State(s): State<LineageState>,
    axum::extract::Query(q): axum::extract::Query<SearchQuery>,
) -> Result<Json<SearchResults>, AppError> {
    let text =
        q.q.map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::validation("q", "q is required"))?;
    if text.chars().count() > 200 {
        return Err(AppError::validation("q", "q is longer than 200 characters"));
    }
    let limit = match q.limit.as_deref() {
        None | Some("") => 20,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| AppError::validation("limit", "limit must be from 1 to 100"))?,
    };
    let hits = lineage::search(&s.app.pool, &text, limit).await?;
    let results: Vec<SearchResult> = hits
        .into_iter()
        .map(
            |(kind, namespace, name, node_id, updated_at)| SearchResult {
                kind,
                namespace,
                name,
                node_id,
                updated_at,
            },
        )
        .collect();
    Ok(Json(SearchResults {
        total_count: results.len(),
        results,
    }))
}
