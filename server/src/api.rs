//! The REST surface, described where it is built. Every route is registered together with its
//! description (who may call it, what it takes), and the OpenAPI 3.1 document at
//! `/api/openapi.json`, the reference page at `/api/docs` and the authorisation-matrix test all
//! read that one table: a route cannot be served without being documented.

use app::domain::authz::{authorize, Action};
use app::domain::roles::Role;
use app::server::state::AppState;
use axum::body::Bytes;
use axum::handler::Handler;
use axum::http::{header, Method};
use axum::response::Html;
use axum::routing::MethodFilter;
use axum::Router;
use serde_json::{json, Map, Value};

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (probes, the API description).
    Public,
    /// Anyone holding the secret in the path (a shared A/B test link).
    Link,
    /// A browser session or API token whose roles grant the action: 401 without one, 403 when
    /// the roles do not.
    Needs(Action),
    /// As `Needs`, for any one of the actions.
    AnyOf(&'static [Action]),
    /// Nobody: an operation the MLflow client knows that Gatehouse refuses by design (renaming
    /// or deleting registry records); 401 without a session, 403 with one.
    Never,
}

impl Access {
    /// Whether a session or token is needed.
    pub fn gated(self) -> bool {
        matches!(self, Access::Needs(_) | Access::AnyOf(_) | Access::Never)
    }

    /// The roles that may call, in display order (every role for public routes).
    pub fn roles(self) -> Vec<Role> {
        match self {
            Access::Public | Access::Link => Role::ALL.to_vec(),
            Access::Needs(a) => Role::ALL
                .into_iter()
                .filter(|r| authorize(&[*r], a))
                .collect(),
            Access::Never => Vec::new(),
            Access::AnyOf(actions) => Role::ALL
                .into_iter()
                .filter(|r| actions.iter().any(|a| authorize(&[*r], *a)))
                .collect(),
        }
    }
}

/// What a route's request body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// No body.
    None,
    /// A JSON document.
    Json,
    /// A multipart form with a file part.
    Multipart,
    /// Plain text of the given media type (a policy's TOML, say).
    Text(&'static str),
}

/// One query parameter: its name and what it does.
pub type Param = (&'static str, &'static str);

/// The description of one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Doc {
    /// One line: what the operation does.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Its request body.
    pub body: Body,
    /// Its query parameters.
    pub query: &'static [Param],
    /// The handler applies `access` itself rather than the route's gate, because it answers
    /// refusals its own way (a browser form redirects) or admits another credential too (the
    /// metrics scraper's secret).
    pub gated_in_handler: bool,
}

impl Doc {
    /// An operation without body or query parameters.
    pub const fn new(access: Access, summary: &'static str) -> Doc {
        Doc {
            summary,
            access,
            body: Body::None,
            query: &[],
            gated_in_handler: false,
        }
    }

    /// The same, taking a JSON body.
    pub const fn json(self) -> Doc {
        Doc {
            body: Body::Json,
            ..self
        }
    }

    /// The same, taking the given body.
    pub const fn body(self, body: Body) -> Doc {
        Doc { body, ..self }
    }

    /// The same, with query parameters.
    pub const fn query(self, query: &'static [Param]) -> Doc {
        Doc { query, ..self }
    }

    /// The same, for a handler that applies the access itself (see [`Doc::gated_in_handler`]).
    pub const fn gated_in_handler(self) -> Doc {
        Doc {
            gated_in_handler: true,
            ..self
        }
    }
}

/// Shorthand for a route gated by `action`.
pub const fn needs(action: Action, summary: &'static str) -> Doc {
    Doc::new(Access::Needs(action), summary)
}

/// One documented operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Its path, in the router's `{param}` syntax (also OpenAPI's).
    pub path: String,
    /// Its description.
    pub doc: Doc,
}

/// A router that records a description with every route it serves, and puts every gated
/// route behind the gate its description declares ([`crate::extract::gate`]).
pub struct Api<S = ()> {
    router: Router<S>,
    routes: Vec<Route>,
    /// The state the gate authenticates against; `None` for an API of public routes only.
    gate: Option<AppState>,
}

impl<S: Clone + Send + Sync + 'static> Default for Api<S> {
    fn default() -> Self {
        Api {
            router: Router::new(),
            routes: Vec::new(),
            gate: None,
        }
    }
}

macro_rules! method {
    ($name:ident, $method:ident) => {
        #[doc = concat!("Serves `", stringify!($method), " path` with `handler`, described by `doc`.")]
        pub fn $name<H, T>(self, path: &str, handler: H, doc: Doc) -> Self
        where
            H: Handler<T, S>,
            T: 'static,
        {
            self.on(Method::$method, MethodFilter::$method, path, handler, doc)
        }
    };
}

impl<S: Clone + Send + Sync + 'static> Api<S> {
    /// An empty API of public routes: registering a gated route on it is a programming error.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty API whose gated routes authenticate against `state`.
    pub fn gated(state: AppState) -> Self {
        Api {
            gate: Some(state),
            ..Self::default()
        }
    }

    method!(get, GET);
    method!(post, POST);
    method!(put, PUT);
    method!(patch, PATCH);
    method!(delete, DELETE);

    fn on<H, T>(mut self, method: Method, filter: MethodFilter, path: &str, h: H, doc: Doc) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let mut route = axum::routing::on(filter, h);
        if doc.access.gated() && !doc.gated_in_handler {
            let Some(state) = self.gate.clone() else {
                panic!("{method} {path} is gated: register it on Api::gated(state)");
            };
            route = route.route_layer(axum::middleware::from_fn_with_state(
                (state, doc.access),
                crate::extract::gate,
            ));
        }
        self.router = self.router.route(path, route);
        self.routes.push(Route {
            method,
            path: path.to_owned(),
            doc,
        });
        self
    }

    /// Answers every path under a prefix that no operation matched (an API's own 404 shape):
    /// not an operation, so not documented.
    pub fn not_found<H, T>(mut self, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.router = self.router.route(path, axum::routing::any(handler));
        self
    }

    /// Applies `f` to the router (for layers), keeping the table.
    pub fn map(mut self, f: impl FnOnce(Router<S>) -> Router<S>) -> Self {
        self.router = f(self.router);
        self
    }

    /// Both APIs' routes.
    pub fn merge(mut self, other: Api<S>) -> Self {
        self.router = self.router.merge(other.router);
        self.routes.extend(other.routes);
        self.gate = self.gate.or(other.gate);
        self
    }

    /// Provides the state, as [`Router::with_state`] does.
    pub fn with_state<S2>(self, state: S) -> Api<S2> {
        Api {
            router: self.router.with_state(state),
            routes: self.routes,
            gate: self.gate,
        }
    }

    /// The router and its table.
    pub fn into_parts(self) -> (Router<S>, Vec<Route>) {
        (self.router, self.routes)
    }
}

impl Api<()> {
    /// Adds `GET /api/openapi.json` and `GET /api/docs`, generated from every route registered
    /// so far, and returns the router.
    pub fn with_description(self) -> Router {
        let (router, mut routes) = self.into_parts();
        routes.push(Route {
            method: Method::GET,
            path: "/api/openapi.json".into(),
            doc: Doc::new(Access::Public, "This API's OpenAPI 3.1 description"),
        });
        routes.push(Route {
            method: Method::GET,
            path: "/api/docs".into(),
            doc: Doc::new(Access::Public, "This API's reference page"),
        });
        // Built once; each response shares the bytes.
        let json = Bytes::from(openapi(&routes).to_string());
        let page = Bytes::from(reference_page(&routes));
        router
            .route(
                "/api/openapi.json",
                axum::routing::get(move || {
                    let json = json.clone();
                    async move { ([(header::CONTENT_TYPE, "application/json")], json) }
                }),
            )
            .route(
                "/api/docs",
                axum::routing::get(move || {
                    let page = page.clone();
                    async move { Html(page) }
                }),
            )
    }
}

/// The group a path belongs to, for the document's tags and the reference page's sections.
pub fn tag(path: &str) -> &'static str {
    const TAGS: [(&str, &str); 12] = [
        ("/api/2.0/mlflow/registered-models", "MLflow model registry"),
        ("/api/2.0/mlflow/model-versions", "MLflow model registry"),
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
fn tags(routes: &[Route]) -> Vec<&'static str> {
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

fn operation(r: &Route) -> Value {
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
    let mut responses = Map::new();
    if r.doc.body == Body::Multipart {
        responses.insert(
            "303".into(),
            json!({ "description": "A browser form: to the result, back to the form with ?error=, or to /login without a session" }),
        );
    } else {
        responses.insert("2XX".into(), json!({ "description": "Success" }));
    }
    if r.doc.access.gated() {
        responses.insert(
            "401".into(),
            error_response(&r.path, "No session cookie or API token, or an expired one"),
        );
        responses.insert(
            "403".into(),
            error_response(&r.path, "The caller's roles do not allow this"),
        );
    }
    responses.insert(
        "4XX".into(),
        error_response(
            &r.path,
            "The request was refused; the message names the field",
        ),
    );
    responses.insert(
        "503".into(),
        error_response(&r.path, "The store is unavailable (disk full or read-only)"),
    );
    let roles: Vec<&str> = r.doc.access.roles().iter().map(|r| r.as_str()).collect();
    let mut op = json!({
        "operationId": operation_id(r),
        "summary": r.doc.summary,
        "tags": [tag(&r.path)],
        "parameters": parameters,
        "responses": responses,
        "x-gatehouse-roles": roles,
    });
    match r.doc.access {
        Access::Needs(_) | Access::AnyOf(_) | Access::Never => {
            op["security"] = json!([{ "session": [] }, { "token": [] }]);
        }
        Access::Public | Access::Link => op["security"] = json!([]),
    }
    let media = match r.doc.body {
        Body::None => None,
        Body::Json => Some(("application/json", json!({}))),
        Body::Multipart => Some((
            "multipart/form-data",
            json!({ "type": "object", "properties": { "file": { "type": "string", "contentMediaType": "application/octet-stream" } } }),
        )),
        Body::Text(t) => Some((t, json!({ "type": "string" }))),
    };
    if let Some((media, schema)) = media {
        op["requestBody"] = json!({ "required": true, "content": { media: { "schema": schema } } });
    }
    op
}

/// The OpenAPI 3.1 document for `routes`.
pub fn openapi(routes: &[Route]) -> Value {
    let mut paths = Map::new();
    for r in routes {
        let entry = paths
            .entry(r.path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[r.method.as_str().to_ascii_lowercase()] = operation(r);
    }
    json!({
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
                "session": { "type": "apiKey", "in": "cookie", "name": app::server::auth::SESSION_COOKIE,
                             "description": "The browser session; state changes also need a same-origin Origin header." },
                "token": { "type": "http", "scheme": "bearer",
                           "description": "An API token, created by its user on the Account page or with POST /api/v1/tokens (or by the operator with server create-token)." }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": { "type": "string", "description": "A stable code: validation, not_found, conflict, unauthorized, forbidden, payload_too_large, too_many_requests, unavailable, internal" },
                        "field": { "type": "string", "description": "The field, column or row the message is about" },
                        "message": { "type": "string" },
                        "limit_bytes": { "type": "integer", "description": "With payload_too_large: the limit that was passed" },
                        "retry_after_secs": { "type": "integer", "description": "With too_many_requests: seconds until another attempt is accepted" }
                    }
                },
                "MlflowError": {
                    "type": "object",
                    "required": ["error_code", "message"],
                    "properties": {
                        "error_code": { "type": "string" },
                        "message": { "type": "string" }
                    }
                }
            }
        }
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The reference page: every operation by group, with who may call it.
fn reference_page(routes: &[Route]) -> String {
    let tags = tags(routes);
    let mut out = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>API reference · Gatehouse</title><link rel=\"stylesheet\" href=\"STYLESHEET\"></head>\
         <body><main class=\"api-reference\"><h1>API reference</h1>\
         <p>Every REST operation Gatehouse serves, generated from the code that serves it. \
         The machine-readable description is <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3.1). \
         Call with a browser session or an <code>Authorization: Bearer</code> API token; \
         errors are JSON with <code>error</code>, <code>message</code> and, where it applies, <code>field</code> \
         (the MLflow-compatible API answers in MLflow's own <code>error_code</code> shape).</p>",
    );
    out = out.replace("STYLESHEET", &crate::startup::stylesheet_href());
    out.push_str("<nav aria-label=\"Groups\"><ul>");
    for (i, t) in tags.iter().enumerate() {
        out.push_str(&format!("<li><a href=\"#g{i}\">{}</a></li>", escape(t)));
    }
    out.push_str("</ul></nav>");
    for (i, t) in tags.iter().enumerate() {
        out.push_str(&format!(
            "<section aria-labelledby=\"g{i}\"><h2 id=\"g{i}\">{}</h2><div class=\"table-wrap\"><table>\
             <thead><tr><th scope=\"col\">Method</th><th scope=\"col\">Path</th><th scope=\"col\">What it does</th>\
             <th scope=\"col\">Who may call</th><th scope=\"col\">Body</th></tr></thead><tbody>",
            escape(t)
        ));
        for r in routes.iter().filter(|r| tag(&r.path) == *t) {
            let who = match r.doc.access {
                Access::Public => "anyone".to_owned(),
                Access::Link => "anyone with the link".to_owned(),
                Access::Never => "nobody (refused by design)".to_owned(),
                Access::Needs(_) | Access::AnyOf(_) => r
                    .doc
                    .access
                    .roles()
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let body = match r.doc.body {
                Body::None => "",
                Body::Json => "JSON",
                Body::Multipart => "multipart form",
                Body::Text(t) => t,
            };
            let mut query = String::new();
            for (name, description) in r.doc.query {
                query.push_str(&format!(
                    "<br><small><code>?{}</code> {}</small>",
                    escape(name),
                    escape(description)
                ));
            }
            out.push_str(&format!(
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}{query}</td><td>{}</td><td>{}</td></tr>",
                r.method,
                escape(&r.path),
                escape(r.doc.summary),
                escape(&who),
                escape(body)
            ));
        }
        out.push_str("</tbody></table></div></section>");
    }
    out.push_str("</main></body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let r = Route {
            method: Method::POST,
            path: "/api/v1/promotions/{id}/approve".into(),
            doc: needs(Action::ApprovePromotion, "Approve").json(),
        };
        let doc = openapi(std::slice::from_ref(&r));
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
        let r = Route {
            method: Method::GET,
            path: "/api/2.0/mlflow/runs/get".into(),
            doc: needs(Action::ReadWorkspace, "Get a run"),
        };
        let doc = openapi(&[r]);
        assert_eq!(
            doc["paths"]["/api/2.0/mlflow/runs/get"]["get"]["responses"]["4XX"]["content"]
                ["application/json"]["schema"]["$ref"],
            "#/components/schemas/MlflowError"
        );
    }

    #[test]
    #[should_panic(expected = "is gated")]
    fn a_gated_route_cannot_be_registered_without_its_gate() {
        async fn handler() {}
        let _ = Api::<()>::new().get("/api/v1/x", handler, needs(Action::ReadWorkspace, "Gated"));
    }
}
