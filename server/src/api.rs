//! The REST surface, described where it is built. Every route is registered together with its
//! description (who may call it, what it takes; its body and answer types are read from the
//! handler's signature), and the OpenAPI 3.1 document at
//! `/api/openapi.json`, the reference page at `/api/docs` and the authorisation-matrix test all
//! read that one table: a route cannot be served without being documented.

pub use crate::describe::Describe;
use crate::openapi;
pub use crate::openapi::{path_params, tag};
use app::domain::authz::{authorize, Action};
use app::domain::roles::Role;
use app::service::state::AppState;
use axum::body::Bytes;
use axum::handler::Handler;
use axum::http::{header, Method};
use axum::response::Html;
use axum::routing::MethodFilter;
use axum::Router;
use schemars::{Schema, SchemaGenerator};

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
    /// A JSON document (described by the handler's `JsonBody<T>`).
    Json,
    /// A JSON document of an external specification, described in words.
    Spec(&'static str),
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

/// Writes the JSON Schema of a request or response body into a generator, or says there is
/// none; read from the handler's own types (see [`Describe`]).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Option<Schema>;

/// One documented operation.
#[derive(Clone, Debug)]
pub struct Route {
    /// The HTTP method it answers.
    pub method: Method,
    /// Its path, in the router's `{param}` syntax (also OpenAPI's).
    pub path: String,
    /// Its description.
    pub doc: Doc,
    /// The JSON request body's schema, from the handler's [`JsonBody`] argument.
    pub request: SchemaFn,
    /// The success response's schema, from the handler's return type.
    pub response: SchemaFn,
    /// The success status, from the handler's return type ([`Created`], [`NoContent`]).
    pub status: u16,
}

impl Route {
    /// A route whose handler is not a described Rust function (the document itself).
    fn undescribed(method: Method, path: &str, doc: Doc) -> Route {
        Route {
            method,
            path: path.to_owned(),
            doc,
            request: |_| None,
            response: |_| None,
            status: 200,
        }
    }
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
        pub fn $name<H, T, A>(self, path: &str, handler: H, doc: Doc) -> Self
        where
            H: Handler<T, S> + Describe<A>,
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

    fn on<H, T, A>(
        mut self,
        method: Method,
        filter: MethodFilter,
        path: &str,
        h: H,
        doc: Doc,
    ) -> Self
    where
        H: Handler<T, S> + Describe<A>,
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
            request: H::request,
            response: H::response,
            status: H::STATUS,
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
        routes.push(Route::undescribed(
            Method::GET,
            "/api/openapi.json",
            Doc::new(Access::Public, "This API's OpenAPI 3.1 description"),
        ));
        routes.push(Route::undescribed(
            Method::GET,
            "/api/docs",
            Doc::new(Access::Public, "This API's reference page"),
        ));
        // Built once; each response shares the bytes.
        let json = Bytes::from(openapi::document(&routes).to_string());
        let page = Bytes::from(openapi::reference_page(&routes));
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

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::authz::Action;

    #[test]
    #[should_panic(expected = "is gated")]
    fn a_gated_route_cannot_be_registered_without_its_gate() {
        async fn handler() {}
        let _ = Api::<()>::new().get("/api/v1/x", handler, needs(Action::ReadWorkspace, "Gated"));
    }
}
