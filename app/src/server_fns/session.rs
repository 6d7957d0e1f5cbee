//! Session server functions: who is signed in, sign-in and sign-out.

use crate::dto::{DemoAccounts, SessionInfo};
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in user (if any) and whether the server runs in demo mode.
#[server(prefix = "/api", endpoint = "session")]
pub async fn get_session() -> Result<SessionInfo, AppError> {
    use crate::dto::UserInfo;
    use crate::service::context;
    let state = context::state()?;
    let user = context::principal().await?.map(|p| UserInfo {
        username: p.username,
        roles: p.roles,
    });
    Ok(SessionInfo {
        user,
        demo: state.config.demo,
    })
}

/// The demo accounts and their password, only when the server runs in demo mode.
#[server(prefix = "/api", endpoint = "demo_accounts")]
pub async fn get_demo_accounts() -> Result<Option<DemoAccounts>, AppError> {
    use crate::service::{context, demo};
    let state = context::state()?;
    Ok(state.config.demo.then(|| DemoAccounts {
        password: demo::DEMO_PASSWORD.to_owned(),
        accounts: demo::DEMO_USERS
            .iter()
            .map(|(n, r)| ((*n).to_owned(), *r))
            .collect(),
    }))
}

/// Signs in with a user name and password, sets the session cookie and goes to `next`.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(
    /// The account's sign-in name.
    username: String,
    /// The account's password.
    password: String,
    /// The local page to return to after signing in.
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::accounts::safe_next;
    use crate::service::{auth, context};
    use axum::http::{header, HeaderValue};
    let state = context::state()?;
    let parts = context::parts()?;
    let client = context::client_addr(&parts, state.config.client_ip_header.as_deref());
    let ua = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(256).collect::<String>());
    let signed = auth::sign_in(&state, &username, &password, &client, ua.as_deref()).await?;
    let opts = expect_context::<leptos_axum::ResponseOptions>();
    let cookie = HeaderValue::from_str(&auth::session_cookie(&state, &signed.session_id))
        .map_err(|_| AppError::internal())?;
    opts.append_header(header::SET_COOKIE, cookie);
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Ends the current session and returns to the sign-in page.
#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::service::{auth, context};
    use axum::http::{header, HeaderValue};
    let state = context::state()?;
    let parts = context::parts()?;
    auth::sign_out(&state, &parts.headers).await?;
    let opts = expect_context::<leptos_axum::ResponseOptions>();
    opts.append_header(
        header::SET_COOKIE,
        HeaderValue::from_str(&auth::clear_session_cookie(&state))
            .map_err(|_| AppError::internal())?,
    );
    leptos_axum::redirect("/login");
    Ok(())
}
