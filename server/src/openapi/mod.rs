//! The API's description, generated from the route table ([`crate::api`]): the OpenAPI 3.1
//! document at `/api/openapi.json` (operations, access, status codes, and request and response
//! schemas read from the handlers' Rust types) and the reference page at `/api/docs`
//! ([`reference_page`]).

mod page;
mod schemas;

pub use page::reference_page;

use crate::api::{Body, Route};
use app::error::AppError;
use axum::http::Method;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

/// The group a path belongs to, for the document's tags and the reference page's sections.
pub fn tag(path: &str) -> &'static str {
    const TAGS: [(&str, &str); 15] = [
        ("/api/2.0/mlflow/registered-models", "MLflow model registry"),
        ("/api/2.0/mlflow/model-versions", "MLflow model registry"),
        ("/api/2.0/mlflow/webhooks", "Webhooks"),
        ("/api/v1/webhooks", "Webhooks"),
        ("/api/2.0/mlflow", "MLflow tracking"),
        ("/api/v1/lineage", "Lineage (OpenLineage)"),
        ("/api/v1/search", "Lineage (OpenLineage)"),
        ("/api/v1/ab", "A/B tests"),
        ("/api/v1/experiments", "A/B tests"),
        ("/api/v1/fairness", "Fairness"),
        ("/fairness", "Fairness"),
        ("/api/v1/models", "Registry and promotions"),
        ("/api/v1/promotions", "Registry and promotions"),
        ("/api/v1/policies", "Registry and promotions"),
        ("/scim/v2", "Users (SCIM 2.0)"),
    ];
    if let Some((_, t)) = TAGS.iter().find(|(p, _)| path.starts_with(p)) {
        return t;
    }
    if path.starts_with("/api/v1/audit") {
        "Audit trail"
    } else if path.starts_with("/api/v1") {
        "Session"
    } else if path.starts_with("/api/openapi") || path.starts_with("/api/docs") {
        "About this API"
    } else {
        "Operations"
    }
}

/// The groups of `routes`, sorted.
pub(crate) fn tags(routes: &[Route]) -> Vec<&'static str> {
    let mut tags: Vec<&str> = routes.iter().map(|r| tag(&r.path)).collect();
    tags.sort_unstable();
    tags.dedup();
    tags
}

/// The error shape of a path: MLflow's for the MLflow-compatible API, Gatehouse's elsewhere.
fn error_schema(path: &str) -> &'static str {
    if path.starts_with("/api/2.0/mlflow") {
        "#/components/schemas/MlflowError"
    } else {
        "#/components/schemas/Error"
    }
}

/// `path` as OpenAPI writes it: OpenAPI has no wildcard segment, so the router's `{*path}` is
/// a `{path}` there.
pub(crate) fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

/// The path's `{name}` parameters.
pub fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|p| p.trim_start_matches('*'))
        .collect()
}

fn operation_id(r: &Route) -> String {
    let slug: String = r
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let slug = slug
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    format!("{}_{slug}", r.method.as_str().to_ascii_lowercase())
}

fn error_response(path: &str, description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": error_schema(path) } } }
    })
}

/// The refusals an operation can answer, from what it takes and who may call it.
fn refusals(r: &Route, has_body: bool) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if has_body || !r.doc.query.is_empty() || !path_params(&r.path).is_empty() {
        out.push((
            "400",
            "The request was refused; `field` names the field, column or row",
        ));
    }
    if r.doc.access.gated() {
        out.push(("401", "No session cookie or API token, or an expired one"));
        out.push(("403", "The caller's roles do not allow this"));
    }
    if !path_params(&r.path).is_empty() {
        out.push(("404", "Nothing at that path"));
    }
    let writes = r.method != Method::GET && r.method != Method::HEAD;
    if writes {
        out.push((
            "409",
            "The change conflicts with what is stored (a duplicate, a frozen record)",
        ));
    }
    if has_body {
        out.push((
            "413",
            "The body passes its size limit (`limit_bytes` says which)",
        ));
    }
    if writes {
        out.push((
            "503",
            "The store cannot take writes (disk full or read-only); retry later",
        ));
    }
    out
}

fn request_body(r: &Route, g: &mut SchemaGenerator) -> Option<Value> {
    let (media, schema) = match (r.doc.body, (r.request)(g)) {
        (_, Some(schema)) => ("application/json", schema.to_value()),
        (Body::None, None) => return None,
        (Body::Json, None) => ("application/json", json!({ "type": "object" })),
        (Body::Spec(about), None) => (
            "application/json",
            json!({ "type": ["object", "array"], "description": about }),
        ),
        (Body::Multipart, None) => (
            "multipart/form-data",
            json!({ "type": "object", "properties": { "file": { "type": "string", "contentMediaType": "application/octet-stream" } } }),
        ),
        (Body::Text(t), None) => (t, json!({ "type": "string" })),
    };
    Some(json!({ "required": true, "content": { media: { "schema": schema } } }))
}

fn success(r: &Route, g: &mut SchemaGenerator) -> (String, Value) {
    if r.doc.body == Body::Multipart {
        return (
            "303".into(),
            json!({ "description": "A browser form: to the result, back to the form with ?error=, or to /login without a session" }),
        );
    }
    let description = match r.status {
        201 => "Created",
        204 => "Done; no body",
        _ => "Success",
    };
    let mut answer = json!({ "description": description });
    if let Some(schema) = (r.response)(g) {
        answer["content"] = json!({ "application/json": { "schema": schema.to_value() } });
    }
    (r.status.to_string(), answer)
}

fn operation(r: &Route, g: &mut SchemaGenerator) -> Value {
    let mut parameters: Vec<Value> = path_params(&r.path)
        .into_iter()
        .map(|name| {
            json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
        })
        .collect();
    parameters.extend(r.doc.query.iter().map(|(name, description)| {
        json!({ "name": name, "in": "query", "required": false,
                "description": description, "schema": { "type": "string" } })
    }));
    let body = request_body(r, g);
    let mut responses = Map::new();
    let (status, answer) = success(r, g);
    responses.insert(status, answer);
    for (status, description) in refusals(r, body.is_some()) {
        responses.insert(status.into(), error_response(&r.path, description));
    }
    let roles: Vec<&str> = r.doc.access.roles().iter().map(|r| r.as_str()).collect();
    let mut op = json!({
        "operationId": operation_id(r),
        "summary": r.doc.summary,
        "tags": [tag(&r.path)],
        "parameters": parameters,
        "responses": responses,
        "x-gatehouse-roles": roles,
    });
    op["security"] = if r.doc.access.gated() {
        json!([{ "session": [] }, { "token": [] }])
    } else {
        json!([])
    };
    if let Some(body) = body {
        op["requestBody"] = body;
    }
    op
}

/// The error bodies of the MLflow-compatible API, as MLflow's own server writes them.
#[derive(JsonSchema)]
#[schemars(rename = "MlflowError")]
#[allow(
    dead_code,
    reason = "described, never built: MlflowError writes this shape"
)]
struct MlflowErrorBody {
    /// MLflow's error code: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE, …
    error_code: String,
    /// What went wrong.
    message: String,
}

/// The OpenAPI 3.1 document for `routes`: operations from the route table, body schemas from
/// the handlers' Rust types (shared ones under `components.schemas`).
pub fn document(routes: &[Route]) -> Value {
    let mut g = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    // The two error shapes, under the names the operations refer to.
    g.subschema_for::<AppError>();
    g.subschema_for::<MlflowErrorBody>();
    let mut paths = Map::new();
    for r in routes {
        let op = operation(r, &mut g);
        let entry = paths
            .entry(openapi_path(&r.path))
            .or_insert_with(|| Value::Object(Map::new()));
        entry[r.method.as_str().to_ascii_lowercase()] = op;
    }
    let schemas = g.take_definitions(true);
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gatehouse",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Lineage, run comparison, A/B tests, fairness reports, governed promotions and a tamper-evident audit trail. Every operation lists the roles allowed to call it in x-gatehouse-roles.",
        },
        "tags": tags(routes).iter().map(|t| json!({ "name": t })).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": app::service::auth::SESSION_COOKIE,
                             "description": "The browser session; state changes also need a same-origin Origin header." },
                "token": { "type": "http", "scheme": "bearer",
                           "description": "An API token, created by its user on the Account page or with POST /api/v1/tokens (or by the operator with server create-token)." }
            },
            "schemas": schemas,
        }
    });
    schemas::open_schemas(&mut doc);
    schemas::string_enums(&mut doc);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{needs, Doc};
    use app::domain::authz::Action;

    fn route(method: Method, path: &str, doc: Doc) -> Route {
        Route {
            method,
            path: path.into(),
            doc,
            request: |_| None,
            response: |_| None,
            status: 200,
        }
    }

    #[test]
    fn path_parameters_are_read_from_the_template() {
        assert_eq!(
            path_params("/api/v1/models/{name}/aliases/{alias}"),
            ["name", "alias"]
        );
        assert_eq!(path_params("/api/v1/{*rest}"), ["rest"]);
        assert!(path_params("/api/v1/me").is_empty());
    }

    #[test]
    fn a_gated_operation_documents_its_roles_and_refusals() {
        let r = route(
            Method::POST,
            "/api/v1/promotions/{id}/approve",
            needs(Action::ApprovePromotion, "Approve").json(),
        );
        let doc = document(std::slice::from_ref(&r));
        let op = &doc["paths"]["/api/v1/promotions/{id}/approve"]["post"];
        assert_eq!(op["x-gatehouse-roles"], json!(["reviewer"]));
        assert_eq!(op["parameters"][0]["name"], "id");
        assert!(op["responses"]["401"].is_object());
        assert!(op["responses"]["403"].is_object());
        assert!(op["requestBody"]["content"]["application/json"].is_object());
        assert_eq!(op["operationId"], "post_api_v1_promotions_id_approve");
    }

    #[test]
    fn the_mlflow_api_documents_mlflow_errors() {
        let r = route(
            Method::GET,
            "/api/2.0/mlflow/runs/get",
            needs(Action::ReadWorkspace, "Get a run").query(&[("run_id", "The run")]),
        );
        let doc = document(&[r]);
        assert_eq!(
            doc["paths"]["/api/2.0/mlflow/runs/get"]["get"]["responses"]["400"]["content"]
                ["application/json"]["schema"]["$ref"],
            "#/components/schemas/MlflowError"
        );
    }
}
