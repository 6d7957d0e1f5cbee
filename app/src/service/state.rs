//! Application state shared by server functions and REST handlers.

use crate::store::Pool;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use std::time::Duration;

/// Runtime settings that affect authentication and presentation.
#[derive(Clone, Debug)]
pub struct Config {
    /// Serve with demo data: shows the banner and the demo accounts on the sign-in page.
    pub demo: bool,
    /// Mark cookies `Secure`: set when the public URL is https.
    pub cookie_secure: bool,
    /// The origins (`scheme://host[:port]`) browsers reach Gatehouse at; cookie-authenticated
    /// writes and sign-ins must come from one of them. The first is the public URL. Empty:
    /// `http://` plus the request's Host (only for in-process routers without a listener).
    pub origins: Vec<String>,
    /// Sessions end after this long without a request.
    pub session_idle: Duration,
    /// How long a session lasts after sign-in.
    pub session_ttl: Duration,
    /// How failed sign-ins slow further attempts.
    pub throttle: crate::domain::throttle::Policy,
    /// The header a trusted reverse proxy puts the client's address in (`x-forwarded-for`,
    /// whose last entry is the one the proxy added, or `x-real-ip`); without one, the peer
    /// address. Never read unless configured: clients could claim any address.
    pub client_ip_header: Option<String>,
    /// The largest artifact one upload may store.
    pub max_artifact_bytes: u64,
    /// Where webhooks may point and how deliveries are retried.
    pub webhooks: WebhookSettings,
    /// The OpenID Connect provider people sign in through, when one is configured.
    pub sso: Option<crate::service::sso::SsoSettings>,
}

/// Webhook settings: the private networks an admin allows receivers in, and the retry schedule.
#[derive(Clone, Debug, Default)]
pub struct WebhookSettings {
    /// Networks receivers may be in although not public (`WEBHOOK_ALLOWED_NETWORKS`).
    pub allowed: crate::domain::webhooks::address::Allowed,
    /// When failed deliveries are tried again, and how often.
    pub schedule: crate::domain::webhooks::retry::Schedule,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            demo: false,
            cookie_secure: false,
            origins: Vec::new(),
            session_idle: Duration::from_secs(2 * 3600),
            session_ttl: Duration::from_secs(12 * 3600),
            throttle: crate::domain::throttle::Policy::default(),
            client_ip_header: None,
            max_artifact_bytes: 64 << 30,
            webhooks: WebhookSettings::default(),
            sso: None,
        }
    }
}

impl Config {
    /// The origins a browser may reach this request's server at: the configured ones (the
    /// public URL first), else `http://` plus the request's `Host` (in-process routers only).
    pub fn browser_origins(&self, headers: &axum::http::HeaderMap) -> Vec<String> {
        if !self.origins.is_empty() {
            return self.origins.clone();
        }
        headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(|host| origin_of(&format!("http://{host}")))
            .into_iter()
            .collect()
    }
}

/// `url` as an origin: lower-case scheme and host, the port only when it is not the scheme's
/// default, no path. `None` unless it is an http(s) URL with a host.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority
        .strip_suffix(&format!(":{default_port}"))
        .map(str::to_owned)
        .unwrap_or(authority);
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            origin_of("HTTPS://Gate.Example.com:443/path?q").as_deref(),
            Some("https://gate.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3000").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(
            origin_of("http://[::1]:80/").as_deref(),
            Some("http://[::1]")
        );
        assert_eq!(
            origin_of("https://h:8443").as_deref(),
            Some("https://h:8443")
        );
        assert_eq!(origin_of("ftp://h"), None);
        assert_eq!(origin_of("null"), None);
        assert_eq!(origin_of("http://user@h"), None);
        assert_eq!(origin_of("http://"), None);
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    /// Leptos settings (site root, address, output name).
    pub leptos_options: LeptosOptions,
    /// The one SQLite pool.
    pub pool: Pool,
    /// Runtime settings.
    pub config: Arc<Config>,
    /// Where run and model files are kept.
    pub artifacts: crate::service::artifact_store::ArtifactStore,
}
