//! `serve`'s single sign-on options: the OpenID Connect provider and how its groups map to
//! roles. All of them can come from the environment (`GATEHOUSE_OIDC_*`), the client secret
//! best of all.

use app::domain::sso::RoleMap;
use app::service::sso::SsoSettings;
use clap::Args;
use std::time::Duration;

#[derive(Args, Debug, Clone, Default)]
pub(crate) struct SsoArgs {
    /// The OpenID Connect provider's issuer URL (`https://login.example.com/realms/acme`);
    /// single sign-on is on when it is set. Its discovery document is read from
    /// `<issuer>/.well-known/openid-configuration`.
    #[arg(long, env = "GATEHOUSE_OIDC_ISSUER")]
    pub(crate) oidc_issuer: Option<String>,
    /// Gatehouse's client id at the provider.
    #[arg(long, env = "GATEHOUSE_OIDC_CLIENT_ID", default_value = "")]
    pub(crate) oidc_client_id: String,
    /// Gatehouse's client secret at the provider.
    #[arg(
        long,
        env = "GATEHOUSE_OIDC_CLIENT_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    pub(crate) oidc_client_secret: String,
    /// Scopes asked for besides `openid`, space-separated.
    #[arg(long, env = "GATEHOUSE_OIDC_SCOPES", default_value = "profile email")]
    pub(crate) oidc_scopes: String,
    /// The claim that lists a person's groups (a dotted path for a nested one, such as
    /// `realm_access.roles`).
    #[arg(long, env = "GATEHOUSE_OIDC_GROUPS_CLAIM", default_value = "groups")]
    pub(crate) oidc_groups_claim: String,
    /// The claim that gives the Gatehouse user name (lower-cased; it must be a valid name).
    #[arg(
        long,
        env = "GATEHOUSE_OIDC_USERNAME_CLAIM",
        default_value = "preferred_username"
    )]
    pub(crate) oidc_username_claim: String,
    /// Groups to roles, `group=role` pairs separated by commas
    /// (`ml-reviewers=reviewer,ml-admins=admin`). Roles follow the groups at every sign-in.
    #[arg(long, env = "GATEHOUSE_OIDC_ROLE_MAP", default_value = "")]
    pub(crate) oidc_role_map: String,
    /// Roles everyone the provider signs in gets, comma-separated (none by default: a
    /// person whose groups grant no role is refused).
    #[arg(long, env = "GATEHOUSE_OIDC_DEFAULT_ROLES", default_value = "")]
    pub(crate) oidc_default_roles: String,
    /// The provider's name on the sign-in page's button.
    #[arg(long, env = "GATEHOUSE_OIDC_NAME", default_value = "single sign-on")]
    pub(crate) oidc_name: String,
    /// The callback URL registered at the provider; default: the public URL's
    /// `/auth/oidc/callback`.
    #[arg(long, env = "GATEHOUSE_OIDC_REDIRECT_URL")]
    pub(crate) oidc_redirect_url: Option<String>,
    /// How far apart the provider's clock and this server's may be when an ID token's times
    /// are checked, in seconds (at most 300).
    #[arg(long, env = "GATEHOUSE_OIDC_CLOCK_SKEW_SECS", default_value_t = 60)]
    pub(crate) oidc_clock_skew_secs: u64,
}

impl SsoArgs {
    /// The provider's settings, `None` without an issuer; a setting that cannot work is
    /// refused naming its option.
    pub(crate) fn settings(&self) -> anyhow::Result<Option<SsoSettings>> {
        let Some(issuer) = self
            .oidc_issuer
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
        else {
            return Ok(None);
        };
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            anyhow::bail!("--oidc-issuer: `{issuer}` is not an http(s) URL");
        }
        if self.oidc_client_id.trim().is_empty() {
            anyhow::bail!("--oidc-client-id is required with --oidc-issuer");
        }
        if self.oidc_clock_skew_secs > 300 {
            anyhow::bail!("--oidc-clock-skew-secs: at most 300 seconds");
        }
        let roles = RoleMap::parse(&self.oidc_role_map, &self.oidc_default_roles)
            .map_err(|e| anyhow::anyhow!("--oidc-role-map / --oidc-default-roles: {e}"))?;
        if roles.pairs.is_empty() && roles.default_roles.is_empty() {
            anyhow::bail!(
                "--oidc-role-map: map at least one group to a role, or nobody could sign in"
            );
        }
        Ok(Some(SsoSettings {
            issuer: issuer.to_owned(),
            client_id: self.oidc_client_id.trim().to_owned(),
            client_secret: self.oidc_client_secret.clone(),
            scopes: self
                .oidc_scopes
                .split_whitespace()
                .filter(|s| *s != "openid")
                .map(str::to_owned)
                .collect(),
            groups_claim: self.oidc_groups_claim.trim().to_owned(),
            username_claim: self.oidc_username_claim.trim().to_owned(),
            roles,
            display_name: self.oidc_name.trim().to_owned(),
            clock_skew: Duration::from_secs(self.oidc_clock_skew_secs),
            redirect_url: self
                .oidc_redirect_url
                .clone()
                .filter(|u| !u.trim().is_empty()),
        }))
    }
}
