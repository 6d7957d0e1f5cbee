//! The identity provider as the `openidconnect` crate sees it: its discovery document (with
//! the signing keys it publishes), cached for a few minutes and read again after a failed
//! check, so rotated keys are picked up; the client built from it; and the HTTP calls, made
//! with the server's reqwest.

use app::service::sso::SsoSettings;
use http_client as reqwest;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AsyncHttpClient, ClientId, ClientSecret, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IdTokenFields,
    IssuerUrl, RedirectUrl, StandardErrorResponse, StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a discovery document (and its keys) is used before it is read again.
const METADATA_TTL: Duration = Duration::from_secs(600);
/// The longest any call to the provider may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Every claim beyond the standard ones (groups, for one), as JSON.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Extra {
    /// The claims by name.
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for Extra {}

/// The token endpoint's answer, with an ID token whose extra claims are kept.
pub type TokenResponse = StandardTokenResponse<
    IdTokenFields<
        Extra,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// A client of the provider, built from its discovery document.
pub type Client = openidconnect::Client<
    Extra,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The configured provider and what was last read from it.
pub struct Provider {
    /// How it is reached and what its answers mean.
    pub settings: SsoSettings,
    /// The HTTP client its calls go through.
    pub http: Http,
    cached: Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl Provider {
    /// A provider from settings; nothing is fetched until the first sign-in.
    pub fn new(settings: SsoSettings) -> anyhow::Result<Provider> {
        // Redirects are never followed: the token endpoint's answer is the one asked for.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .build()?;
        Ok(Provider {
            settings,
            http: Http(http),
            cached: Mutex::new(None),
        })
    }

    /// The discovery document, fetched when there is none younger than [`METADATA_TTL`].
    pub async fn metadata(&self) -> Result<CoreProviderMetadata, String> {
        let mut cached = self.cached.lock().await;
        if let Some((at, m)) = cached.as_ref() {
            if at.elapsed() < METADATA_TTL {
                return Ok(m.clone());
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| format!("the issuer URL is not a URL: {e}"))?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = ?e, issuer = %self.settings.issuer, "OpenID Connect discovery failed");
                format!("the identity provider could not be reached ({e})")
            })?;
        *cached = Some((Instant::now(), m.clone()));
        Ok(m)
    }

    /// Forgets the discovery document, so the next sign-in reads it (and the keys) again.
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }

    /// A client for the provider that sends people back to `redirect`.
    pub fn client(&self, metadata: CoreProviderMetadata, redirect: &str) -> Result<Client, String> {
        let redirect = RedirectUrl::new(redirect.to_owned())
            .map_err(|e| format!("the callback URL `{redirect}` is not a URL: {e}"))?;
        Ok(Client::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }
}

/// The HTTP client `openidconnect` calls the provider with: the server's reqwest.
pub struct Http(reqwest::Client);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = reqwest::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, reqwest::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(&self.0, request))
    }
}

/// One HTTP exchange with the provider, in the `http` types `openidconnect` speaks.
async fn send(
    http: &reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let answer = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut response = HttpResponse::new(Vec::new());
    *response.status_mut() = answer.status();
    *response.headers_mut() = answer.headers().clone();
    *response.body_mut() = answer.bytes().await?.to_vec();
    Ok(response)
}
