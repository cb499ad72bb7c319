//! Settings: every knob is a command-line flag with an environment variable behind it.
//!
//! Secrets (API tokens, webhook secrets, credentialed URLs) are held in redacting types so that
//! `Debug` output and logs never show them.

use std::time::Duration;

mod oidc;
mod retry;
mod scim;
mod secrets;

pub use oidc::{OidcSettings, UiSettings};
pub use retry::{duration_label, parse_duration, DurationError, RetryTiers};
pub use scim::ScimTokens;
pub use secrets::{RedactedUrl, Secret, WebhookSecrets};

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

    /// SCIM clients and their bearer tokens, `CLIENT=TOKEN` pairs separated by commas; without
    /// any, every `/scim/v2` request is answered 404.
    #[arg(long, env = "SCIM_TOKENS", default_value = "", hide_env_values = true)]
    pub scim_tokens: ScimTokens,

    #[command(flatten)]
    pub oidc: OidcSettings,
}

/// Message bus settings.
#[derive(clap::Args, Clone, Debug)]
pub struct BusSettings {
    /// RabbitMQ address (credentials in it are never logged). Unset: the embedded engine,
    /// whose queues live in the store (`DATABASE_URL`).
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    pub amqp_url: Option<RedactedUrl>,

    /// Prefix of every exchange and queue name, so several deployments can share a broker.
    #[arg(long, env = "AMQP_PREFIX", default_value = "cir")]
    pub amqp_prefix: String,

    /// Longest wait for a publisher confirm before the receiver answers 503 (at most 2500, so
    /// the answer, with the receipt's claim and release around the publish, comes within 3 s).
    #[arg(long, env = "CONFIRM_TIMEOUT_MS", default_value_t = 2500,
          value_parser = clap::value_parser!(u64).range(1..=2500))]
    pub confirm_timeout_ms: u64,

    /// Unacknowledged deliveries a worker holds per queue (RabbitMQ; the embedded engine's
    /// consumers hold one, as RabbitMQ's handle theirs one after the other).
    #[arg(
        long = "worker-prefetch",
        env = "WORKER_PREFETCH",
        default_value_t = 32,
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub prefetch: u16,

    /// Deliveries of one message before the broker dead-letters it.
    #[arg(long, env = "DELIVERY_LIMIT", default_value_t = 20)]
    pub delivery_limit: u32,

    /// Delays before each new attempt after a transient failure (one delay queue each);
    /// after the last, the message is dead-lettered as `retries_exhausted`.
    #[arg(long, env = "RETRY_TIERS", default_value = "10s,1m,10m,1h")]
    pub retry_tiers: RetryTiers,

    /// Embedded engine: how long a delivery stays invisible to other consumers unless its
    /// consumer renews it (every third of it while the handler runs); a consumer that died
    /// leaves its message to be delivered again after this.
    #[arg(long = "embedded-visibility-timeout", env = "EMBEDDED_VISIBILITY_TIMEOUT",
          default_value = "60s", value_parser = parse_duration)]
    pub visibility_timeout: Duration,
}

impl BusSettings {
    pub fn confirm_timeout(&self) -> Duration {
        Duration::from_millis(self.confirm_timeout_ms)
    }
}

/// Store settings.
#[derive(clap::Args, Clone, Debug)]
pub struct StoreSettings {
    /// The store: a SQLite file (`sqlite://PATH`, created when missing) or a PostgreSQL
    /// database (`postgres://USER:PASSWORD@HOST:PORT/DB`, which needs `AMQP_URL`).
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

    /// How old a signed timestamp may be, in seconds (1 to 3600; replays older than this are
    /// refused).
    #[arg(long, env = "IAM_TIMESTAMP_TOLERANCE_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(i64).range(1..=3600))]
    pub iam_timestamp_tolerance_secs: i64,

    /// How far in the future a signed timestamp may be, in seconds (clock skew; 0 to 300).
    #[arg(long, env = "IAM_FUTURE_SKEW_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(i64).range(0..=300))]
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

    /// How long a worker's hold on the periodic duties lasts without a renewal (renewed every
    /// third of it): when a worker dies, another takes the duties over after at most this.
    #[arg(long, env = "SCHEDULER_LEASE", default_value = "30s", value_parser = parse_lease)]
    pub scheduler_lease: Duration,

    /// How often the worker reconciles webhooks and missed task changes (`5m`, `300s`, `1h`);
    /// `0` or `off` turns it off.
    #[arg(long, env = "RECONCILE_INTERVAL", default_value = "5m")]
    pub reconcile_interval: crate::reconcile::Interval,

    #[command(flatten)]
    pub iam_api: IamApiArgs,
}

impl Default for RulesSettings {
    fn default() -> Self {
        Self {
            rules_dir: "rules".into(),
            scheduler_tick_ms: 5_000,
            scheduler_lease: Duration::from_secs(30),
            reconcile_interval: crate::reconcile::Interval(Some(Duration::from_secs(300))),
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

/// Shortest scheduler lease: renewed every third of it, a shorter one would renew too often
/// for a store that answers in milliseconds but may pause for a second.
const MIN_SCHEDULER_LEASE: Duration = Duration::from_secs(3);

/// Reads `SCHEDULER_LEASE`: a duration of at least [`MIN_SCHEDULER_LEASE`].
fn parse_lease(text: &str) -> Result<Duration, String> {
    let lease = parse_duration(text).map_err(|e| e.to_string())?;
    match lease < MIN_SCHEDULER_LEASE {
        true => Err(format!(
            "{text:?} is shorter than {}s, the shortest scheduler lease",
            MIN_SCHEDULER_LEASE.as_secs()
        )),
        false => Ok(lease),
    }
}

#[cfg(test)]
mod compose_tests;
