//! What every REST handler shares: the access gate the route table applies, the caller it
//! admits, and the JSON body reader. Errors take the shape of the API the path belongs to:
//! MLflow's `{error_code, message}` under `/api/2.0/mlflow`, Gatehouse's `{error, field,
//! message}` everywhere else.

use crate::api::Access;
use crate::mlflow::MlflowError;
use app::error::AppError;
use app::service::auth::{authenticate, Principal};
use app::service::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// Whether `path` belongs to the MLflow-compatible API, which answers errors in MLflow's shape.
pub fn is_mlflow(path: &str) -> bool {
    path.starts_with("/api/2.0/mlflow")
}

/// `error` as the response of the API that `path` belongs to.
pub fn refusal(error: AppError, path: &str) -> Response {
    if is_mlflow(path) {
        MlflowError(error).into_response()
    } else {
        error.into_response()
    }
}

/// Who may pass the gate: `access`'s 401 without a session or token, 403 when the caller's
/// roles grant none of its actions.
pub fn admit(access: Access, caller: Option<Principal>) -> Result<Principal, AppError> {
    let Some(p) = caller else {
        return Err(AppError::unauthorized());
    };
    let allowed = match access {
        Access::Public | Access::Link => true,
        Access::Needs(action) => p.can(action),
        Access::AnyOf(actions) => actions.iter().any(|a| p.can(*a)),
        // Refused by design: the handler says why (401 came first, above).
        Access::Never => true,
    };
    if allowed {
        Ok(p)
    } else {
        Err(AppError::forbidden())
    }
}

/// The route layer every gated route gets from the table ([`crate::api::Api`]): authenticates
/// the request, applies the route's declared access and hands the admitted [`Principal`] to the
/// handler (through the request's extensions, read back by [`Caller`]).
pub async fn gate(
    State((state, access)): State<(AppState, Access)>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let admitted = match authenticate(&state, req.headers()).await {
        Ok(caller) => admit(access, caller),
        Err(e) => Err(e),
    };
    match admitted {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => refusal(e, &path),
    }
}

/// The principal the route's gate admitted.
#[derive(Clone, Debug)]
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        match parts.extensions.get::<Principal>() {
            Some(p) => Ok(Caller(p.clone())),
            None => {
                // A handler asked for a caller on a route the table does not gate: a bug here,
                // never the client's fault.
                tracing::error!(path = parts.uri.path(), "Caller used on an ungated route");
                Err(refusal(AppError::internal(), parts.uri.path()))
            }
        }
    }
}

/// A JSON request body. A document that does not fit is a 400 naming the field, as a dotted
/// path with indices (`rows[1].day`); an empty body reads as `{}` (as MLflow's own server reads
/// it), so a missing required field is named rather than the body called empty.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let path = req.uri().path().to_owned();
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        parse_json(&bytes)
            .map(JsonBody)
            .map_err(|e| refusal(e, &path))
    }
}

/// Reads `bytes` as a `T`; an empty body is `{}`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { bytes };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| body_error(&e))?;
    de.end().map_err(|e| {
        AppError::validation("body", format!("the body is not a valid request: {e}"))
    })?;
    Ok(value)
}

/// The field a deserialisation error is about: the path serde reached, and for a missing field
/// the field itself (serde reports it at its parent).
fn body_error(e: &serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let inner = e.inner();
    let at = e.path().to_string();
    let at = if at == "." { String::new() } else { at };
    let missing = inner
        .to_string()
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned());
    let field = match (at.is_empty(), missing) {
        (true, Some(name)) => name,
        (false, Some(name)) => format!("{at}.{name}"),
        (true, None) => "body".to_owned(),
        (false, None) => at,
    };
    AppError::validation(field, format!("the body is not a valid request: {inner}"))
}

/// A 201 answer with `T` as its body (the operation's description says 201 from this type).
#[derive(Debug)]
pub struct Created<T>(pub T);

impl<T: IntoResponse> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, self.0).into_response()
    }
}

/// A 204 answer without a body.
#[derive(Debug)]
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// A numeric id from the path; anything else names no record (404 saying which kind).
pub fn path_id(raw: &str, what: &str) -> Result<i64, AppError> {
    raw.parse()
        .map_err(|_| AppError::not_found(format!("no {what} '{raw}'")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "read by serde only")]
    struct Row {
        day: String,
        units: u64,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "read by serde only")]
    struct Req {
        comment: String,
        rows: Vec<Row>,
    }

    fn field_of(json: &str) -> String {
        match parse_json::<Req>(json.as_bytes()) {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_body_error_names_the_field_by_its_path() {
        assert_eq!(field_of(r#"{"rows": []}"#), "comment");
        assert_eq!(
            field_of(r#"{"comment": "", "rows": [{"day": "d", "units": 1}, {"day": "d"}]}"#),
            "rows[1].units"
        );
        assert_eq!(
            field_of(r#"{"comment": "", "rows": [{"day": "d", "units": -1}]}"#),
            "rows[0].units"
        );
        assert_eq!(field_of("not json"), "body");
        assert_eq!(field_of(r#"{"comment": "", "rows": []} trailing"#), "body");
    }

    #[test]
    fn an_empty_body_is_an_empty_object() {
        #[derive(Deserialize)]
        struct Lenient {
            #[serde(default)]
            _x: Option<u8>,
        }
        assert!(parse_json::<Lenient>(b"").is_ok());
        assert_eq!(field_of(""), "comment");
    }

    #[test]
    fn the_gate_refuses_strangers_and_the_wrong_roles() {
        use app::domain::authz::Action;
        use app::domain::roles::Role;
        let viewer = Principal {
            user_id: 1,
            username: "v".into(),
            roles: vec![Role::Viewer],
            token: None,
            delegated: false,
        };
        let needs = Access::Needs(Action::ManagePolicies);
        assert!(matches!(
            admit(needs, None),
            Err(AppError::Unauthorized { .. })
        ));
        assert!(matches!(
            admit(needs, Some(viewer.clone())),
            Err(AppError::Forbidden { .. })
        ));
        assert!(admit(Access::Needs(Action::ReadWorkspace), Some(viewer.clone())).is_ok());
        assert!(admit(
            Access::AnyOf(&[Action::ManagePolicies, Action::ReadWorkspace]),
            Some(viewer)
        )
        .is_ok());
    }

    #[test]
    fn ids_in_paths_are_numbers() {
        assert_eq!(path_id("42", "A/B test").ok(), Some(42));
        assert!(matches!(
            path_id("x", "A/B test"),
            Err(AppError::NotFound { .. })
        ));
    }
}
