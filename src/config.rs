//! Settings: every knob is a command-line flag with an environment variable behind it.
//!
//! Secrets (API tokens, webhook secrets, credentialed URLs) are held in redacting types so that
//! `Debug` output and logs never show them.

use std::{collections::HashMap, fmt, str::FromStr, time::Duration};

use secrecy::{ExposeSecret, SecretString};

/// HTTP receiver settings.
#[derive(clap::Args, Clone, Debug)]
pub struct HttpSettings {
    /// Address the receivers listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: String,

    /// Longest time a client may take to send a request body; slower ones get 408.
    #[arg(long, env = "BODY_TIMEOUT_MS", default_value_t = 10_000)]
    pub body_timeout_ms: u64,

    /// Largest request body accepted; larger bodies get 413.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,

    #[command(flatten)]
    pub oidc: OidcSettings,
}

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

/// Message bus settings.
#[derive(clap::Args, Clone, Debug)]
pub struct BusSettings {
    /// RabbitMQ address (credentials in it are never logged).
    #[arg(
        long,
        env = "AMQP_URL",
        default_value = "amqp://127.0.0.1:5672/%2f",
        hide_env_values = true
    )]
    pub amqp_url: RedactedUrl,

    /// Prefix of every exchange and queue name, so several deployments can share a broker.
    #[arg(long, env = "AMQP_PREFIX", default_value = "cir")]
    pub amqp_prefix: String,

    /// Longest wait for a publisher confirm before the receiver answers 503 (at most 3000).
    #[arg(long, env = "CONFIRM_TIMEOUT_MS", default_value_t = 3000,
          value_parser = clap::value_parser!(u64).range(1..=3000))]
    pub confirm_timeout_ms: u64,

    /// Unacknowledged deliveries a worker holds per queue.
    #[arg(
        long = "worker-prefetch",
        env = "WORKER_PREFETCH",
        default_value_t = 32
    )]
    pub prefetch: u16,

    /// Deliveries of one message before the broker dead-letters it.
    #[arg(long, env = "DELIVERY_LIMIT", default_value_t = 20)]
    pub delivery_limit: u32,
}

impl BusSettings {
    pub fn confirm_timeout(&self) -> Duration {
        Duration::from_millis(self.confirm_timeout_ms)
    }
}

/// Store settings.
#[derive(clap::Args, Clone, Debug)]
pub struct StoreSettings {
    /// SQLite database (`sqlite://PATH`); created when missing.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://clickup-iam-router.db",
        hide_env_values = true
    )]
    pub database_url: RedactedUrl,
}

/// ClickUp settings: the API the worker calls and the webhooks the receiver accepts.
#[derive(clap::Args, Clone, Debug)]
pub struct ClickUpSettings {
    /// ClickUp API base, without the version segment.
    #[arg(
        long,
        env = "CLICKUP_API_URL",
        default_value = "https://api.clickup.com/api"
    )]
    pub clickup_api_url: String,

    /// API token of the router's service account (`pk_...`, or `Bearer ...` for OAuth).
    #[arg(
        long,
        env = "CLICKUP_TOKEN",
        default_value = "",
        hide_env_values = true
    )]
    pub clickup_token: Secret,

    /// Workspace (team) id the router manages.
    #[arg(long, env = "CLICKUP_TEAM_ID", default_value_t = 0)]
    pub clickup_team_id: u64,

    /// Webhook secrets as `WEBHOOK_ID=SECRET` pairs separated by commas.
    #[arg(
        long,
        env = "CLICKUP_WEBHOOK_SECRETS",
        default_value = "",
        hide_env_values = true
    )]
    pub clickup_webhook_secrets: WebhookSecrets,

    /// Attempts per ClickUp call on transient failures (5xx, 429, timeouts).
    #[arg(long, env = "CLICKUP_MAX_ATTEMPTS", default_value_t = 4)]
    pub clickup_max_attempts: u32,

    /// Timeout of one ClickUp call.
    #[arg(long, env = "CLICKUP_TIMEOUT_MS", default_value_t = 10_000)]
    pub clickup_timeout_ms: u64,

    /// Seconds between reads of ClickUp's audit log (Enterprise workspaces); 0 turns the
    /// poller off.
    #[arg(
        long = "clickup-audit-log-interval",
        env = "CLICKUP_AUDIT_LOG_INTERVAL",
        default_value_t = 300
    )]
    pub clickup_audit_log_interval_secs: u64,
}

impl ClickUpSettings {
    /// How often to read ClickUp's audit log, or `None` when the poller is off.
    pub fn audit_log_every(&self) -> Option<Duration> {
        (self.clickup_audit_log_interval_secs > 0)
            .then(|| Duration::from_secs(self.clickup_audit_log_interval_secs))
    }
}

/// IAM settings: the Standard Webhooks secrets the IAM signs with.
#[derive(clap::Args, Clone, Debug)]
pub struct IamSettings {
    /// `whsec_<base64>` secrets separated by commas (several during a rotation).
    #[arg(
        long,
        env = "IAM_WEBHOOK_SECRETS",
        default_value = "",
        hide_env_values = true
    )]
    pub iam_webhook_secrets: Secret,

    /// How old a signed timestamp may be, in seconds.
    #[arg(long, env = "IAM_TIMESTAMP_TOLERANCE_SECS", default_value_t = 300)]
    pub iam_timestamp_tolerance_secs: i64,

    /// How far in the future a signed timestamp may be, in seconds (clock skew).
    #[arg(long, env = "IAM_FUTURE_SKEW_SECS", default_value_t = 30)]
    pub iam_future_skew_secs: i64,
}

/// Rules and scheduler settings of the worker.
#[derive(clap::Args, Clone, Debug)]
pub struct RulesSettings {
    /// Folder of rule files (`*.yaml`), loaded and validated at start-up.
    #[arg(long, env = "RULES_DIR", default_value = "rules")]
    pub rules_dir: std::path::PathBuf,

    /// How often the scheduler looks for due expiries and reminders.
    #[arg(long, env = "SCHEDULER_TICK_MS", default_value_t = 5_000)]
    pub scheduler_tick_ms: u64,

    #[command(flatten)]
    pub iam_api: IamApiArgs,
}

impl Default for RulesSettings {
    fn default() -> Self {
        Self {
            rules_dir: "rules".into(),
            scheduler_tick_ms: 5_000,
            iam_api: IamApiArgs::default(),
        }
    }
}

/// The IAM's Identity Applications REST API (OSP sign-in), for access requests decided or
/// reported there. Without a URL, requests are decided in ClickUp only.
#[derive(clap::Args, Clone, Debug)]
pub struct IamApiArgs {
    /// Base URL of Identity Applications, e.g. `https://idapps.example.com:8543`.
    #[arg(long, env = "IAM_API_URL", default_value = "")]
    pub iam_api_url: String,

    /// OSP client id (Basic client authentication at the token endpoint).
    #[arg(long, env = "IAM_API_CLIENT_ID", default_value = "rbpmrest")]
    pub iam_api_client_id: String,

    #[arg(
        long,
        env = "IAM_API_CLIENT_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    pub iam_api_client_secret: Secret,

    /// The service account the router signs in as (password grant).
    #[arg(long, env = "IAM_API_USERNAME", default_value = "")]
    pub iam_api_username: String,

    #[arg(
        long,
        env = "IAM_API_PASSWORD",
        default_value = "",
        hide_env_values = true
    )]
    pub iam_api_password: Secret,

    /// Timeout of one call to the IAM, in milliseconds.
    #[arg(long, env = "IAM_API_TIMEOUT_MS", default_value_t = 10_000)]
    pub iam_api_timeout_ms: u64,
}

impl Default for IamApiArgs {
    fn default() -> Self {
        Self {
            iam_api_url: String::new(),
            iam_api_client_id: "rbpmrest".into(),
            iam_api_client_secret: Secret::new(""),
            iam_api_username: String::new(),
            iam_api_password: Secret::new(""),
            iam_api_timeout_ms: 10_000,
        }
    }
}

impl IamApiArgs {
    /// The client settings, or `None` when no IAM API is configured.
    pub fn to_settings(&self) -> anyhow::Result<Option<crate::iam::IamApiSettings>> {
        if self.iam_api_url.trim().is_empty() {
            return Ok(None);
        }
        let base_url = url::Url::parse(self.iam_api_url.trim())
            .map_err(|e| anyhow::anyhow!("IAM_API_URL is not a URL: {e}"))?;
        anyhow::ensure!(
            !self.iam_api_username.is_empty() && !self.iam_api_password.is_empty(),
            "IAM_API_USERNAME and IAM_API_PASSWORD are required with IAM_API_URL"
        );
        Ok(Some(crate::iam::IamApiSettings {
            base_url,
            client_id: self.iam_api_client_id.clone(),
            client_secret: self.iam_api_client_secret.clone(),
            username: self.iam_api_username.clone(),
            password: self.iam_api_password.clone(),
            timeout: std::time::Duration::from_millis(self.iam_api_timeout_ms),
        }))
    }
}

/// A secret string: parsed from the environment, redacted in `Debug`.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(value.trim()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A URL that may carry credentials: `Debug` and `Display` show it without them.
#[derive(Clone)]
pub struct RedactedUrl(Secret);

impl RedactedUrl {
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl FromStr for RedactedUrl {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        url::Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
        Ok(Self(Secret::new(value)))
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(self.expose()) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("redacted"));
                }
                write!(f, "{url}")
            }
            Err(_) => f.write_str("[unparseable url]"),
        }
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The secret of each ClickUp webhook, keyed by webhook id.
#[derive(Clone, Default)]
pub struct WebhookSecrets(HashMap<String, Secret>);

impl WebhookSecrets {
    pub fn insert(&mut self, webhook_id: impl Into<String>, secret: impl Into<String>) {
        self.0.insert(webhook_id.into(), Secret::new(secret));
    }

    pub fn get(&self, webhook_id: &str) -> Option<&Secret> {
        self.0.get(webhook_id)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for WebhookSecrets {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut secrets = Self::default();
        for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, secret) = pair.split_once('=').ok_or_else(|| {
                "expected WEBHOOK_ID=SECRET pairs separated by commas".to_string()
            })?;
            if id.trim().is_empty() || secret.trim().is_empty() {
                return Err("a webhook id or secret is empty".into());
            }
            secrets.insert(id.trim(), secret.trim());
        }
        Ok(secrets)
    }
}

impl fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.0.keys().collect();
        ids.sort();
        f.debug_struct("WebhookSecrets")
            .field("webhook_ids", &ids)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let secrets: WebhookSecrets = "hook-1=TOPSECRET, hook-2=ALSOSECRET".parse().unwrap();
        let url: RedactedUrl = "amqp://user:hunter2@localhost:5672/%2f".parse().unwrap();
        let token = Secret::new("pk_123_SECRET");

        let printed = format!("{secrets:?} {url:?} {url} {token:?}");

        assert!(!printed.contains("SECRET"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("hook-1") && printed.contains("user:redacted@localhost"));
    }

    #[test]
    fn webhook_secrets_parse_pairs_and_refuse_malformed_ones() {
        let cases = [
            ("a=1,b=2", Ok(2)),
            ("", Ok(0)),
            (" a = 1 , ", Ok(1)),
            ("a", Err(())),
            ("a=", Err(())),
            ("=1", Err(())),
        ];
        for (input, expected) in cases {
            let parsed = input
                .parse::<WebhookSecrets>()
                .map(|s| s.len())
                .map_err(|_| ());
            assert_eq!(parsed, expected, "input {input:?}");
        }
        let secrets: WebhookSecrets = " a = 1 ".parse().unwrap();
        assert_eq!(secrets.get("a").map(Secret::expose), Some("1"));
    }
}
