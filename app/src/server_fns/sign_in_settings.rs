//! How people sign in: the options the sign-in page offers, and the admin's view and switch
//! of password sign-in beside single sign-on.

use crate::dto::{SignInOptions, SignInSettings};
use crate::error::AppError;
use leptos::prelude::*;

/// What the sign-in page offers: single sign-on (with the provider's name), the password form
/// unless an admin turned it off, and why the last single sign-on failed (shown once).
#[server(prefix = "/api", endpoint = "sign_in_options")]
pub async fn get_sign_in_options() -> Result<SignInOptions, AppError> {
    use crate::service::{context, cookies, sso};
    use base64::Engine;
    let state = context::state()?;
    let parts = context::parts()?;
    let error = cookies::get(&parts.headers, sso::ERROR_COOKIE).and_then(|v| {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v)
            .ok()?;
        String::from_utf8(bytes).ok()
    });
    if error.is_some() {
        context::set_flash_cookie(
            sso::ERROR_COOKIE,
            "",
            "/login",
            0,
            state.config.cookie_secure,
        );
    }
    Ok(SignInOptions {
        sso: state.config.sso.as_ref().map(|s| s.display_name.clone()),
        local: sso::local_sign_in_enabled(&state.pool).await?,
        error,
    })
}

/// The identity provider as configured and whether password sign-in is on, for admins.
#[server(prefix = "/api", endpoint = "sign_in_settings")]
pub async fn get_sign_in_settings() -> Result<SignInSettings, AppError> {
    use crate::domain::authz::Action;
    use crate::dto::ProviderSummary;
    use crate::service::{context, sso};
    let (state, _p) = context::authorized(Action::ManageUsers).await?;
    let provider = state.config.sso.as_ref().map(|s| ProviderSummary {
        name: s.display_name.clone(),
        issuer: s.issuer.clone(),
        groups_claim: s.groups_claim.clone(),
        role_map: s.roles.pairs.clone(),
        default_roles: s.roles.default_roles.clone(),
    });
    Ok(SignInSettings {
        provider,
        local: sso::local_sign_in_enabled(&state.pool).await?,
    })
}

/// Turns password sign-in on or off for everyone (API tokens are unaffected); off needs a
/// configured identity provider.
#[server(prefix = "/api", endpoint = "set_local_sign_in")]
pub async fn set_local_sign_in(
    /// `true` to allow password sign-in, `false` to allow only single sign-on.
    enabled: bool,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, sso};
    let (state, p) = context::authorized(Action::ManageUsers).await?;
    sso::set_local_sign_in(&state, &p.actor(), enabled).await
}
