//! Model registry use cases (registered models, versions, aliases, risk tiers): each change is
//! written with its audit entry in one transaction. The MLflow-compatible registry handlers and
//! Gatehouse's v1 registry routes (`server/src/registry.rs`) call these. Protected aliases move
//! only through promotions (`service::promotions`); the handlers check that before calling.

pub mod evidence_pack;

use super::audit_and_commit;
use super::webhooks::emit;
use crate::domain::url::{model_href, model_version_href};
use crate::domain::webhooks::EventKind;
use crate::error::AppError;
use crate::service::auth::Principal;
use crate::service::now_ms;
use crate::store::begin_write;
use crate::store::registry;
use crate::store::Pool;
use serde_json::json;

/// Registers model `name` with its description and tags.
pub async fn create_model(
    pool: &Pool,
    p: &Principal,
    name: &str,
    description: &str,
    tags: &[(String, String)],
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    registry::create_model(&mut tx, name, description, tags, &p.username, now_ms()).await?;
    let data = json!({ "name": name, "tags": tag_map(tags), "description": description });
    emit(
        &mut tx,
        EventKind::MODEL_CREATED,
        data,
        Some(&model_href(name)),
    )
    .await?;
    let details = json!({ "description": description });
    let object = ("registered_model", name);
    audit_and_commit(tx, p, "registry.model.create", object, details).await
}

/// Replaces model `name`'s description.
pub async fn update_model(
    pool: &Pool,
    p: &Principal,
    name: &str,
    description: &str,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    registry::update_model(&mut tx, name, description, now_ms()).await?;
    let details = json!({ "description": description });
    let object = ("registered_model", name);
    audit_and_commit(tx, p, "registry.model.update", object, details).await
}

/// Sets tag `key` of model `name` to `value`.
pub async fn set_model_tag(
    pool: &Pool,
    p: &Principal,
    name: &str,
    (key, value): (&str, &str),
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    registry::set_model_tag(&mut tx, name, key, value, now_ms()).await?;
    let details = json!({ "key": key, "value": value });
    let object = ("registered_model", name);
    audit_and_commit(tx, p, "registry.model.set_tag", object, details).await
}

/// Removes tag `key` from model `name`.
pub async fn delete_model_tag(
    pool: &Pool,
    p: &Principal,
    name: &str,
    key: &str,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    registry::delete_model_tag(&mut tx, name, key, now_ms()).await?;
    let object = ("registered_model", name);
    audit_and_commit(
        tx,
        p,
        "registry.model.delete_tag",
        object,
        json!({ "key": key }),
    )
    .await
}

/// Points an unprotected alias of model `name` at `version` directly (the alias history keeps
/// the move).
pub async fn set_alias(
    pool: &Pool,
    p: &Principal,
    name: &str,
    alias: &str,
    version: i64,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    let how = "set directly";
    let before = registry::set_alias(
        &mut tx,
        name,
        alias,
        version,
        &p.username,
        now_ms(),
        None,
        how,
    )
    .await?;
    alias_events(&mut tx, name, alias, (before, version), how).await?;
    let object = format!("{name}@{version}");
    let details = json!({ "alias": alias, "previous_version": before });
    audit_and_commit(
        tx,
        p,
        "registry.alias.set",
        ("model_version", &object),
        details,
    )
    .await
}

/// Removes an unprotected alias of model `name`.
pub async fn delete_alias(
    pool: &Pool,
    p: &Principal,
    name: &str,
    alias: &str,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    let before = registry::delete_alias(&mut tx, name, alias, &p.username, now_ms()).await?;
    let data = json!({ "name": name, "alias": alias });
    emit(
        &mut tx,
        EventKind::ALIAS_DELETED,
        data,
        Some(&model_href(name)),
    )
    .await?;
    let object = format!("{name}@{before}");
    let details = json!({ "alias": alias });
    audit_and_commit(
        tx,
        p,
        "registry.alias.delete",
        ("model_version", &object),
        details,
    )
    .await
}

/// A model version to register.
#[derive(Debug)]
pub struct NewVersion<'a> {
    /// The registered model.
    pub name: &'a str,
    /// Where its files are (`runs:/…`, `models:/m-…`, `mlflow-artifacts:/…`).
    pub source: &'a str,
    /// The run that produced it.
    pub run_id: Option<&'a str>,
    /// The logged model it registers.
    pub model_id: Option<&'a str>,
    /// A link to the run, as the client gave it.
    pub run_link: &'a str,
    /// Free text shown with the version.
    pub description: &'a str,
    /// Key-value tags to set on the version.
    pub tags: &'a [(String, String)],
}

/// Registers a new version; returns its number.
pub async fn create_version(
    pool: &Pool,
    p: &Principal,
    v: NewVersion<'_>,
) -> Result<i64, AppError> {
    let mut tx = begin_write(pool).await?;
    let version = registry::create_version(
        &mut tx,
        v.name,
        v.source,
        v.run_id,
        v.model_id,
        v.run_link,
        v.description,
        v.tags,
        &p.username,
        now_ms(),
    )
    .await?;
    let data = json!({
        "name": v.name, "version": version.to_string(), "source": v.source,
        "run_id": v.run_id, "tags": tag_map(v.tags), "description": v.description,
    });
    let link = model_version_href(v.name, version);
    emit(&mut tx, EventKind::VERSION_CREATED, data, Some(&link)).await?;
    let object = format!("{}@{version}", v.name);
    let details = json!({ "source": v.source, "run_id": v.run_id, "model_id": v.model_id });
    audit_and_commit(
        tx,
        p,
        "registry.version.create",
        ("model_version", &object),
        details,
    )
    .await?;
    Ok(version)
}

/// Replaces a version's description.
pub async fn update_version(
    pool: &Pool,
    p: &Principal,
    (name, version): (&str, i64),
    description: &str,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    registry::update_version(&mut tx, name, version, description, now_ms()).await?;
    let object = format!("{name}@{version}");
    let details = json!({ "description": description });
    audit_and_commit(
        tx,
        p,
        "registry.version.update",
        ("model_version", &object),
        details,
    )
    .await
}

/// Sets tag `key` of a version to `value`.
pub async fn set_version_tag(
    pool: &Pool,
    p: &Principal,
    (name, version): (&str, i64),
    (key, value): (&str, &str),
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    registry::set_version_tag(&mut tx, name, version, key, value, now_ms()).await?;
    let data = json!({ "name": name, "version": version.to_string(), "key": key, "value": value });
    let link = model_version_href(name, version);
    emit(&mut tx, EventKind::VERSION_TAG_SET, data, Some(&link)).await?;
    let object = format!("{name}@{version}");
    let details = json!({ "key": key, "value": value });
    audit_and_commit(
        tx,
        p,
        "registry.version.set_tag",
        ("model_version", &object),
        details,
    )
    .await
}

/// Removes tag `key` from a version.
pub async fn delete_version_tag(
    pool: &Pool,
    p: &Principal,
    (name, version): (&str, i64),
    key: &str,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    registry::delete_version_tag(&mut tx, name, version, key).await?;
    let data = json!({ "name": name, "version": version.to_string(), "key": key });
    let link = model_version_href(name, version);
    emit(&mut tx, EventKind::VERSION_TAG_DELETED, data, Some(&link)).await?;
    let object = format!("{name}@{version}");
    let details = json!({ "key": key });
    audit_and_commit(
        tx,
        p,
        "registry.version.delete_tag",
        ("model_version", &object),
        details,
    )
    .await
}

/// Sets model `name`'s risk tier (`low`, `medium`, `high`), which picks its promotion policy.
pub async fn set_risk_tier(
    pool: &Pool,
    p: &Principal,
    name: &str,
    tier: &str,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    let before = registry::set_risk_tier(&mut tx, name, tier, now_ms()).await?;
    let details = json!({ "from": before, "to": tier });
    let object = ("registered_model", name);
    audit_and_commit(tx, p, "registry.model.risk_tier", object, details).await
}

fn tag_map(tags: &[(String, String)]) -> serde_json::Map<String, serde_json::Value> {
    tags.iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect()
}

/// The webhook events of an alias pointed at `to` (from `from`, if it was set): MLflow's
/// `model_version_alias.created`, and Gatehouse's `model_version_alias.moved` when it moved
/// from another version, saying `how` (directly, or by which promotion).
pub(crate) async fn alias_events(
    conn: &mut crate::store::Conn,
    name: &str,
    alias: &str,
    (from, to): (Option<i64>, i64),
    how: &str,
) -> Result<(), sqlx::Error> {
    let link = model_version_href(name, to);
    let data = json!({ "name": name, "alias": alias, "version": to.to_string() });
    emit(conn, EventKind::ALIAS_CREATED, data, Some(&link)).await?;
    if let Some(from) = from.filter(|f| *f != to) {
        let data = json!({
            "name": name, "alias": alias, "from_version": from.to_string(),
            "to_version": to.to_string(), "reason": how,
        });
        emit(conn, EventKind::ALIAS_MOVED, data, Some(&link)).await?;
    }
    Ok(())
}
