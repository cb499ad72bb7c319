//! Settings of the IAM's OpenID Connect provider (the admin API's bearer tokens and the
//! pages' sign-in) and of the pages themselves.

use super::Secret;

/// The admin API's sign-in: bearer tokens from the IAM's OIDC provider (Access Manager).
/// Without an issuer the admin API is off.
#[derive(clap::Args, Clone, Debug)]
pub struct OidcSettings {
    /// Issuer URL, e.g. `https://login.example.com/nidp/oauth/nam`; its discovery document is
    /// `{issuer}/.well-known/openid-configuration`. No default: the admin API is off without it.
    #[arg(long, env = "OIDC_ISSUER", default_value = "")]
    pub oidc_issuer: String,

    /// The `aud` access tokens must carry (the resource server agreed with the IAM admins).
    #[arg(long, env = "OIDC_AUDIENCE", default_value = "clickup-iam-router")]
    pub oidc_audience: String,

    /// Claim holding the roles: a list of strings, or one space-separated string; a dotted
    /// name (`realm_access.roles`) reads a nested member.
    #[arg(long, env = "OIDC_ROLES_CLAIM", default_value = "roles")]
    pub oidc_roles_claim: String,

    /// Role value granting every right (it includes the auditor's).
    #[arg(long, env = "OIDC_ADMIN_ROLE", default_value = "clickup-router-admin")]
    pub oidc_admin_role: String,

    /// Role value granting read access to audit, grants, requests and the brake.
    #[arg(
        long,
        env = "OIDC_AUDITOR_ROLE",
        default_value = "clickup-router-auditor"
    )]
    pub oidc_auditor_role: String,

    /// Role value granting read access to access requests.
    #[arg(
        long,
        env = "OIDC_APPROVER_ROLE",
        default_value = "clickup-router-approver"
    )]
    pub oidc_approver_role: String,

    /// Client id for RFC 7662 introspection of tokens the router cannot read (encrypted or
    /// opaque access tokens); without it such tokens are refused.
    #[arg(long, env = "OIDC_CLIENT_ID", default_value = "")]
    pub oidc_client_id: String,

    #[arg(
        long,
        env = "OIDC_CLIENT_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    pub oidc_client_secret: Secret,

    /// Timeout of one call to the provider (discovery, keys, introspection).
    #[arg(long, env = "OIDC_TIMEOUT_MS", default_value_t = 5_000)]
    pub oidc_timeout_ms: u64,

    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    #[arg(long, env = "OIDC_LEEWAY_SECS", default_value_t = 60)]
    pub oidc_leeway_secs: u64,

    /// Least time between two key-set refreshes caused by an unknown key id.
    #[arg(long, env = "OIDC_JWKS_REFRESH_MIN_SECS", default_value_t = 30)]
    pub oidc_jwks_refresh_min_secs: u64,

    /// How long a positive introspection answer is reused (0: ask every time).
    #[arg(long, env = "OIDC_INTROSPECTION_CACHE_SECS", default_value_t = 30)]
    pub oidc_introspection_cache_secs: u64,

    /// How long an inactive introspection answer is reused, so a repeated unknown token costs
    /// the provider one call per interval (0: ask every time).
    #[arg(
        long,
        env = "OIDC_INTROSPECTION_INACTIVE_CACHE_SECS",
        default_value_t = 60
    )]
    pub oidc_introspection_inactive_cache_secs: u64,

    /// Introspection calls allowed per minute, sustained; past it (and the burst) the admin
    /// API answers 503 `introspection_busy` without asking the provider. At least 1.
    #[arg(long, env = "OIDC_INTROSPECTION_PER_MINUTE", default_value_t = 600)]
    pub oidc_introspection_per_minute: u32,

    /// Introspection calls allowed at once above the sustained rate. At least 1.
    #[arg(long, env = "OIDC_INTROSPECTION_BURST", default_value_t = 20)]
    pub oidc_introspection_burst: u32,

    /// Introspection calls allowed per minute from one client address (the TCP peer; IPv6 by
    /// /64), checked before the global limit so one address cannot spend it alone. At least 1.
    #[arg(
        long,
        env = "OIDC_INTROSPECTION_PER_ADDRESS_PER_MINUTE",
        default_value_t = 60
    )]
    pub oidc_introspection_per_address_per_minute: u32,

    /// Introspection calls allowed at once from one client address above its rate. At least 1.
    #[arg(
        long,
        env = "OIDC_INTROSPECTION_PER_ADDRESS_BURST",
        default_value_t = 5
    )]
    pub oidc_introspection_per_address_burst: u32,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            oidc_issuer: String::new(),
            oidc_audience: "clickup-iam-router".into(),
            oidc_roles_claim: "roles".into(),
            oidc_admin_role: "clickup-router-admin".into(),
            oidc_auditor_role: "clickup-router-auditor".into(),
            oidc_approver_role: "clickup-router-approver".into(),
            oidc_client_id: String::new(),
            oidc_client_secret: Secret::new(""),
            oidc_timeout_ms: 5_000,
            oidc_leeway_secs: 60,
            oidc_jwks_refresh_min_secs: 30,
            oidc_introspection_cache_secs: 30,
            oidc_introspection_inactive_cache_secs: 60,
            oidc_introspection_per_minute: 600,
            oidc_introspection_burst: 20,
            oidc_introspection_per_address_per_minute: 60,
            oidc_introspection_per_address_burst: 5,
        }
    }
}

/// The `/ui` pages and their sign-in through the IAM's OpenID Connect provider (authorization
/// code with PKCE), with the issuer, client and roles of [`OidcSettings`]. The pages are
/// served only when `UI_PUBLIC_URL` and `OIDC_ISSUER` are set.
#[derive(clap::Args, Clone, Debug)]
pub struct UiSettings {
    /// The router's URL as browsers reach it (`https://router.example.com`); the provider
    /// sends them back to `<this>/ui/callback`. Empty: no pages.
    #[arg(long, env = "UI_PUBLIC_URL", default_value = "")]
    pub ui_public_url: String,

    /// Key of the session cookie (at least 32 characters; it is signed and encrypted with
    /// keys derived from this). Empty: a random key per process, so sessions end at restart
    /// and do not carry over between replicas.
    #[arg(
        long,
        env = "UI_SESSION_KEY",
        default_value = "",
        hide_env_values = true
    )]
    pub ui_session_key: Secret,
}

impl Default for UiSettings {
    fn default() -> Self {
        Self {
            ui_public_url: String::new(),
            ui_session_key: Secret::new(""),
        }
    }
}

impl UiSettings {
    /// Whether the pages are configured at all (they also need `OIDC_ISSUER`).
    pub fn enabled(&self, oidc: &OidcSettings) -> bool {
        !self.ui_public_url.trim().is_empty() && !oidc.oidc_issuer.trim().is_empty()
    }
}
