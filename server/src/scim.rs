//! SCIM 2.0 users (RFC 7643, RFC 7644), the part an identity provider needs to end someone's
//! access: find a user by name (`GET /scim/v2/Users?filter=userName eq "ada"`), read one, and
//! deactivate or reactivate them (`PATCH` of `active`, in the shapes Okta and Entra ID send).
//! The provider authenticates with an administrator's API token (`Authorization: Bearer`).
//! Deactivation is [`accounts::set_active`]: sessions end at once, tokens are refused, the
//! record stays, and the change is an audit entry by the token's user.

use crate::api::{needs, Api};
use crate::extract::{path_id, Caller, JsonBody};
use app::domain::authz::Action;
use app::dto::UserSummary;
use app::error::AppError;
use app::service::accounts;
use app::service::state::AppState;
use app::store;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The routes, mounted by the main router.
pub fn router(state: AppState) -> Api {
    use Action::ManageUsers;
    Api::gated(state.clone())
        .get(
            "/scim/v2/Users",
            list,
            needs(ManageUsers, "SCIM: users, all or by `userName eq \"name\"`").query(&[
                (
                    "filter",
                    "`userName eq \"name\"` (the only filter supported)",
                ),
                (
                    "startIndex",
                    "1-based index of the first user answered (default 1)",
                ),
                ("count", "Most users answered (default 100, at most 1,000)"),
            ]),
        )
        .get(
            "/scim/v2/Users/{id}",
            get,
            needs(ManageUsers, "SCIM: one user"),
        )
        .patch(
            "/scim/v2/Users/{id}",
            patch,
            needs(
                ManageUsers,
                "SCIM: deactivate (`active` false) or reactivate a user",
            )
            .json(),
        )
        .with_state(state)
}

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A user as SCIM spells it.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ScimUser {
    /// `urn:ietf:params:scim:schemas:core:2.0:User`.
    schemas: Vec<String>,
    /// Gatehouse's user id, as text.
    id: String,
    /// The sign-in name.
    user_name: String,
    /// False once deactivated.
    active: bool,
    /// Resource type, creation time and location.
    meta: ScimMeta,
}

/// A resource's `meta`.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ScimMeta {
    /// Always `User`.
    resource_type: String,
    /// When the account was created (RFC 3339).
    created: String,
    /// The resource's path.
    location: String,
}

impl From<UserSummary> for ScimUser {
    fn from(u: UserSummary) -> Self {
        ScimUser {
            schemas: vec![USER_SCHEMA.to_owned()],
            id: u.id.to_string(),
            user_name: u.username,
            active: !u.disabled,
            meta: ScimMeta {
                resource_type: "User".into(),
                created: u.created_at,
                location: format!("/scim/v2/Users/{}", u.id),
            },
        }
    }
}

/// A page of users.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ScimList {
    /// `urn:ietf:params:scim:api:messages:2.0:ListResponse`.
    schemas: Vec<String>,
    /// Users matching the filter, on every page.
    total_results: usize,
    /// 1-based index of the first user of this page.
    start_index: usize,
    /// Users on this page.
    items_per_page: usize,
    /// The users.
    #[serde(rename = "Resources")]
    resources: Vec<ScimUser>,
}

/// The query of a users search.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    /// `userName eq "name"`.
    filter: Option<String>,
    /// 1-based.
    start_index: Option<usize>,
    /// Page size.
    count: Option<usize>,
}

/// The user name a filter asks for: `userName eq "name"` (attribute and operator in any case,
/// as RFC 7644 has them).
fn filtered_name(filter: &str) -> Result<String, AppError> {
    let unsupported = || AppError::validation("filter", "only `userName eq \"name\"` is supported");
    let mut parts = filter.trim().splitn(3, ' ');
    let (Some(attr), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(unsupported());
    };
    if !attr.eq_ignore_ascii_case("userName") || !op.eq_ignore_ascii_case("eq") {
        return Err(unsupported());
    }
    serde_json::from_str::<String>(value.trim()).map_err(|_| unsupported())
}

async fn list(
    State(s): State<AppState>,
    Caller(_): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<ScimList>, AppError> {
    let wanted = q.filter.as_deref().map(filtered_name).transpose()?;
    let start = q.start_index.unwrap_or(1).max(1);
    let count = q.count.unwrap_or(100).min(1000);
    let users: Vec<UserSummary> = store::users::list(&s.pool)
        .await?
        .into_iter()
        // SCIM's userName is matched without regard to case.
        .filter(|u| {
            wanted
                .as_ref()
                .is_none_or(|w| u.username.eq_ignore_ascii_case(w))
        })
        .collect();
    let total_results = users.len();
    let resources: Vec<ScimUser> = users
        .into_iter()
        .skip(start - 1)
        .take(count)
        .map(ScimUser::from)
        .collect();
    Ok(Json(ScimList {
        schemas: vec![LIST_SCHEMA.to_owned()],
        total_results,
        start_index: start,
        items_per_page: resources.len(),
        resources,
    }))
}

async fn user(s: &AppState, raw: &str) -> Result<UserSummary, AppError> {
    let id = path_id(raw, "user")?;
    store::users::list(&s.pool)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| AppError::not_found(format!("no user '{raw}'")))
}

async fn get(
    State(s): State<AppState>,
    Caller(_): Caller,
    Path(id): Path<String>,
) -> Result<Json<ScimUser>, AppError> {
    Ok(Json(user(&s, &id).await?.into()))
}

/// A SCIM `PatchOp` request.
#[derive(Deserialize, schemars::JsonSchema)]
struct PatchOp {
    /// `urn:ietf:params:scim:api:messages:2.0:PatchOp`.
    #[serde(default)]
    #[allow(dead_code)]
    schemas: Vec<String>,
    /// The changes; only `active` is changed here.
    #[serde(rename = "Operations")]
    operations: Vec<Operation>,
}

/// One change of a `PatchOp`.
#[derive(Deserialize, schemars::JsonSchema)]
struct Operation {
    /// `replace` (or `add`), in any case.
    op: String,
    /// `active`, or absent with `value` an object holding `active`.
    #[serde(default)]
    path: Option<String>,
    /// `true`/`false` (Entra ID sends the strings `"True"`/`"False"`), or `{"active": …}`.
    value: Value,
}

/// A boolean as identity providers send it: `false` or `"False"`.
fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(t) if t.eq_ignore_ascii_case("true") => Some(true),
        Value::String(t) if t.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The `active` value a patch sets; an operation on anything else is refused, naming it.
fn active_of(patch: &PatchOp) -> Result<bool, AppError> {
    let mut active = None;
    for (i, o) in patch.operations.iter().enumerate() {
        let field = |name: &str| format!("Operations[{i}].{name}");
        if !(o.op.eq_ignore_ascii_case("replace") || o.op.eq_ignore_ascii_case("add")) {
            return Err(AppError::validation(
                field("op"),
                "only `replace` of `active` is supported",
            ));
        }
        let value = match o.path.as_deref() {
            Some(p) if p.eq_ignore_ascii_case("active") => &o.value,
            Some(_) => {
                return Err(AppError::validation(
                    field("path"),
                    "only `active` can be changed through SCIM",
                ))
            }
            None => match o.value.as_object() {
                Some(m) if m.len() == 1 => m
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("active"))
                    .map(|(_, v)| v)
                    .ok_or_else(|| {
                        AppError::validation(
                            field("value"),
                            "only `active` can be changed through SCIM",
                        )
                    })?,
                _ => {
                    return Err(AppError::validation(
                        field("value"),
                        "must be an object holding only `active`",
                    ))
                }
            },
        };
        active = Some(flag(value).ok_or_else(|| {
            AppError::validation(field("value"), "`active` must be true or false")
        })?);
    }
    active.ok_or_else(|| AppError::validation("Operations", "no operation sets `active`"))
}

async fn patch(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<PatchOp>,
) -> Result<Json<ScimUser>, AppError> {
    let active = active_of(&req)?;
    let before = user(&s, &id).await?;
    // Setting what is already so changes nothing and records nothing (providers repeat).
    if before.disabled == active {
        accounts::set_active(&s.pool, &p, &before.username, active).await?;
    }
    Ok(Json(user(&s, &id).await?.into()))
}
