//! Sign-in through an OpenID Connect provider: `GET /auth/oidc/login` sends the browser to the
//! provider (authorization code flow with PKCE, a fresh `state` and `nonce`), and
//! `GET /auth/oidc/callback` takes it back: the `state` must be the one this browser was given
//! (a cookie) and is used once, the code is exchanged with the PKCE verifier, and the ID token's
//! signature (against the keys the discovery document publishes), issuer, audience, expiry
//! (within the allowed clock skew) and nonce are checked by `openidconnect`. The person's name
//! and groups come from the ID token's claims, or from the userinfo endpoint when the ID token
//! does not carry them; `app::service::sso::complete` does the rest.
//!
//! A failure returns the browser to the sign-in page, which shows why (the text travels in a
//! short-lived cookie, never in the URL, so no link can make the page say something else).

mod provider;

use crate::api::{Access, Api, Doc};
use app::domain::accounts::safe_next;
use app::domain::sso::{groups_in, username_from};
use app::error::AppError;
use app::service::cookies::{self, SameSite};
use app::service::sso::{self as service, Identity, SsoSettings};
use app::service::state::AppState;
use app::service::{auth, context};
use app::store::sso::PendingLogin;
use axum::extract::{Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use base64::Engine;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AccessTokenHash, AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, Scope, TokenResponse as _,
};
use provider::Provider;
use serde::Deserialize;
use std::sync::Arc;

/// The cookie that ties a sign-in at the provider to the browser that started it (its value is
/// the `state`).
const STATE_COOKIE: &str = "gatehouse_sso";

/// The routes, served (and documented) only when a provider is configured.
pub fn router(state: AppState) -> Api {
    let Some(settings) = state.config.sso.clone() else {
        return Api::new();
    };
    let provider = Provider::new(settings).map(Arc::new).map_err(|e| {
        tracing::error!(error = %e, "single sign-on cannot start");
        format!("single sign-on cannot start: {e}")
    });
    Api::new()
        .get(
            "/auth/oidc/login",
            login,
            Doc::new(
                Access::Public,
                "Single sign-on: redirects (303) to the identity provider",
            )
            .query(&[("next", "The local page to return to after signing in")]),
        )
        .get(
            "/auth/oidc/callback",
            callback,
            Doc::new(
                Access::Public,
                "Single sign-on: the identity provider's answer; signs in and redirects (303)",
            )
            .query(&[
                ("code", "The authorization code"),
                ("state", "The state this browser was given"),
                ("iss", "The issuer that answers (RFC 9207)"),
                ("error", "The provider's refusal, instead of a code"),
                ("error_description", "The refusal in words"),
            ]),
        )
        .with_state(Sso {
            app: state,
            provider,
        })
}

#[derive(Clone)]
struct Sso {
    app: AppState,
    provider: Result<Arc<Provider>, String>,
}

impl Sso {
    fn provider(&self) -> Result<Arc<Provider>, AppError> {
        self.provider
            .clone()
            .map_err(|message| AppError::Unavailable { message })
    }

    /// Where the provider sends people back: the configured callback, else the public URL's.
    fn redirect_url(&self, settings: &SsoSettings, parts: &Parts) -> String {
        if let Some(url) = &settings.redirect_url {
            return url.clone();
        }
        let origins = self.app.config.browser_origins(&parts.headers);
        let origin = origins.first().map_or("http://localhost", String::as_str);
        format!("{origin}/auth/oidc/callback")
    }

    fn cookie(
        &self,
        name: &str,
        value: &str,
        path: &str,
        max_age: i64,
    ) -> (header::HeaderName, String) {
        let secure = self.app.config.cookie_secure;
        let c = cookies::set(name, value, path, max_age, SameSite::Lax, secure);
        (header::SET_COOKIE, c)
    }

    /// Back to the sign-in page with `reason` shown there.
    fn fail(&self, reason: &str) -> Response {
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(reason);
        see_other(
            "/login",
            vec![
                self.cookie(service::ERROR_COOKIE, &encoded, "/login", 300),
                self.cookie(STATE_COOKIE, "", "/auth/oidc", 0),
            ],
        )
    }
}

/// A 303 to `location` setting `cookies`.
fn see_other(location: &str, cookies: Vec<(header::HeaderName, String)>) -> Response {
    (AppendHeaders(cookies), Redirect::to(location)).into_response()
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login(State(sso): State<Sso>, parts: Parts, Query(q): Query<LoginQuery>) -> Response {
    let provider = match sso.provider() {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let settings = &provider.settings;
    let client = match provider
        .metadata()
        .await
        .and_then(|m| provider.client(m, &sso.redirect_url(settings, &parts)))
    {
        Ok(c) => c,
        Err(e) => return sso.fail(&e),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scopes(settings.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge)
        .url();
    let next = safe_next(q.next.as_deref());
    let begun = service::begin(
        &sso.app.pool,
        state.secret(),
        nonce.secret(),
        verifier.secret(),
        &next,
    );
    if let Err(e) = begun.await {
        return e.into_response();
    }
    let max_age = i64::try_from(service::LOGIN_TTL.as_secs()).unwrap_or(600);
    let cookie = sso.cookie(STATE_COOKIE, state.secret(), "/auth/oidc", max_age);
    see_other(url.as_str(), vec![cookie])
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// The issuer, from providers that name it in their answer (RFC 9207).
    iss: Option<String>,
}

async fn callback(
    State(sso): State<Sso>,
    parts: Parts,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let provider = match sso.provider() {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match sign_in(&sso, &provider, &parts, q).await {
        Ok((session_id, next)) => {
            let session = auth::session_cookie(&sso.app, &session_id);
            see_other(
                &next,
                vec![
                    (header::SET_COOKIE, session),
                    sso.cookie(STATE_COOKIE, "", "/auth/oidc", 0),
                ],
            )
        }
        Err(reason) => {
            tracing::info!(reason = %reason, "single sign-on refused");
            sso.fail(&reason)
        }
    }
}

/// The callback's work: answers the new session's id and the page to go to, or why not.
async fn sign_in(
    sso: &Sso,
    provider: &Provider,
    parts: &Parts,
    q: CallbackQuery,
) -> Result<(String, String), String> {
    if let Some(error) = q.error {
        let why = q.error_description.unwrap_or(error);
        return Err(format!("The identity provider did not sign you in: {why}"));
    }
    let issuer = provider.settings.issuer.trim_end_matches('/');
    if q.iss
        .as_deref()
        .is_some_and(|iss| iss.trim_end_matches('/') != issuer)
    {
        return Err(
            "The answer came from another identity provider than the one configured.".into(),
        );
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Err("The identity provider's answer had no code or state.".into());
    };
    if cookies::get(&parts.headers, STATE_COOKIE).as_deref() != Some(state.as_str()) {
        return Err("This sign-in was not started in this browser; please start again.".into());
    }
    let pending = service::take(&sso.app.pool, &state)
        .await
        .map_err(|e| format!("Single sign-on failed: {e}"))?;
    let settings = &provider.settings;
    let redirect = sso.redirect_url(settings, parts);
    let client = provider.client(provider.metadata().await?, &redirect)?;
    let claims = match verified_claims(provider, &client, code, &pending).await {
        Ok(c) => c,
        Err(e) => {
            // Perhaps the provider rotated its keys: read them again for the next try.
            provider.forget().await;
            return Err(format!("Single sign-on failed: {e}"));
        }
    };
    let username = username_from(&claims.json, &settings.username_claim).map_err(|e| e.0)?;
    let who = Identity {
        issuer: claims.issuer,
        subject: claims.subject,
        username,
        groups: groups_in(&claims.json, &settings.groups_claim),
    };
    let client_addr = context::client_addr(parts, sso.app.config.client_ip_header.as_deref());
    let ua = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let ua: Option<String> = ua.map(|s| s.chars().take(256).collect());
    let session_id =
        service::complete(&sso.app, &settings.roles, &who, &client_addr, ua.as_deref())
            .await
            .map_err(|e| e.to_string())?;
    Ok((session_id, pending.next))
}

/// What a checked ID token (and the userinfo endpoint, for what it lacks) says.
struct Claims {
    issuer: String,
    subject: String,
    json: serde_json::Value,
}

async fn verified_claims(
    provider: &Provider,
    client: &provider::Client,
    code: String,
    pending: &PendingLogin,
) -> Result<Claims, String> {
    let send = &provider.http;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| format!("the provider has no token endpoint ({e})"))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(send)
        .await
        .map_err(|e| format!("the code could not be exchanged ({})", describe(&e)))?;
    let id_token = token.id_token().ok_or("the provider sent no ID token")?;
    let skew = chrono::Duration::from_std(provider.settings.clock_skew)
        .map_err(|_| "the allowed clock skew is too large")?;
    let verifier = client
        .id_token_verifier()
        // An ID token that expired up to `skew` ago is still taken (the provider's clock may
        // run ahead of ours), and one issued more than `skew` in the future is not.
        .set_time_fn(move || chrono::Utc::now() - skew)
        .set_issue_time_verifier_fn(move |iat| {
            if iat > chrono::Utc::now() + skew {
                Err(format!("issued in the future ({iat})"))
            } else {
                Ok(())
            }
        });
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce.clone()))
        .map_err(|e| format!("the ID token was refused: {e}"))?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|e| e.to_string())?;
        let key = id_token.signing_key(&verifier).map_err(|e| e.to_string())?;
        let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
            .map_err(|e| e.to_string())?;
        if actual != *expected {
            return Err("the ID token does not match the access token".into());
        }
    }
    let mut json = serde_json::to_value(claims).map_err(|e| e.to_string())?;
    let settings = &provider.settings;
    let lacking = [&settings.groups_claim, &settings.username_claim]
        .iter()
        .any(|c| app::domain::sso::claim_at(&json, c).is_none());
    if lacking && client.user_info_url().is_some() {
        let info = client
            .user_info(token.access_token().clone(), Some(claims.subject().clone()))
            .map_err(|e| e.to_string())?
            .request_async::<provider::Extra, _, openidconnect::core::CoreGenderClaim>(send)
            .await
            .map_err(|e| format!("the userinfo endpoint failed ({e})"))?;
        let info = serde_json::to_value(info).map_err(|e| e.to_string())?;
        if let (Some(into), serde_json::Value::Object(from)) = (json.as_object_mut(), info) {
            for (k, v) in from {
                into.entry(k).or_insert(v);
            }
        }
    }
    Ok(Claims {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        json,
    })
}

/// A token request's failure in words, with the provider's own description when it sent one.
fn describe<E: std::error::Error>(
    e: &openidconnect::RequestTokenError<
        E,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> String {
    match e {
        openidconnect::RequestTokenError::ServerResponse(r) => r.to_string(),
        other => other.to_string(),
    }
}
