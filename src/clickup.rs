//! ClickUp API client: the calls the workers make, with ClickUp's auth, limits and errors.
//!
//! Transient failures (connection errors, timeouts, 5xx, 429) are retried with exponential
//! backoff; a 429 waits until `X-RateLimit-Reset`. Other 4xx answers are permanent and carry
//! ClickUp's `err`/`ECODE`. The token is sent as ClickUp expects (`pk_...` raw, OAuth tokens
//! as `Bearer`) and never logged.

use std::time::Duration;

use rand::Rng;
use reqwest::{header, Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::{debug, warn};

use crate::{
    config::{ClickUpSettings, Secret},
    metrics::Metrics,
};

pub mod access;
pub mod answers;
pub mod audit_log;
pub mod hierarchy;
pub mod metered;
pub mod shared;
pub mod tasks;
pub mod types;
pub mod webhooks;

pub use types::{Member, Plan, Role};

/// Longest wait honoured for one 429 before giving the message back to the bus.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// Why a ClickUp call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClickUpError {
    #[error("ClickUp answered {status} {ecode}: {message}")]
    Api {
        status: u16,
        ecode: String,
        message: String,
    },
    #[error("ClickUp could not be reached: {0}")]
    Transport(String),
    #[error("ClickUp's rate limit holds for {0:?} more")]
    RateLimited(Duration),
    #[error("ClickUp sent an answer that does not follow its contract: {0}")]
    Contract(String),
    #[error("workspace {team_id} is on the {plan} plan; {what} needs the Enterprise plan")]
    EnterpriseRequired {
        team_id: u64,
        plan: String,
        what: &'static str,
    },
}

impl ClickUpError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ClickUpError::Transport(_) | ClickUpError::RateLimited(_) => true,
            ClickUpError::Api { status, ecode, .. } => {
                // SHARD_001 is a 500 for a malformed id: retrying cannot help.
                (*status >= 500 && ecode != "SHARD_001") || *status == 429
            }
            ClickUpError::Contract(_) | ClickUpError::EnterpriseRequired { .. } => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ClickUpError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Result of a removal: done now, or nothing left to remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    Removed,
    AlreadyGone,
}

#[derive(Clone)]
pub struct ClickUpClient {
    http: reqwest::Client,
    base: String,
    token: Secret,
    max_attempts: u32,
    repeats: Repeats,
    metrics: Metrics,
}

/// Which failed attempts of a call are repeated by the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Repeats {
    /// Every transient failure, up to `CLICKUP_MAX_ATTEMPTS`.
    Transient,
    /// Only a 429, which ClickUp answers without acting: a 5xx, a timeout or a lost
    /// connection may come after ClickUp acted, and a blind repeat would act twice.
    RateLimited,
}

impl ClickUpClient {
    pub fn new(settings: &ClickUpSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.clickup_timeout_ms))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("clickup-iam-router/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base: settings.clickup_api_url.trim_end_matches('/').to_string(),
            token: settings.clickup_token.clone(),
            max_attempts: settings.clickup_max_attempts.max(1),
            repeats: Repeats::Transient,
            metrics: Metrics::new(),
        })
    }

    /// The same client, but a call whose every repetition is a second effect (a comment, an
    /// assignee change) is not repeated after a failure that may come after ClickUp acted;
    /// its caller looks at what ClickUp shows before it tries again. A 429 is still waited out.
    pub fn without_repeats(mut self) -> Self {
        self.repeats = Repeats::RateLimited;
        self
    }

    /// Records calls, retries and 429s in `metrics` (the process's), instead of a registry
    /// nobody serves.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The metrics this client records into; the workers record theirs there too.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// `GET /v2/team`: the workspaces the token sees, with their members and guests.
    pub async fn teams(&self) -> Result<Vec<types::Team>, ClickUpError> {
        let teams: types::Teams = self.call(Method::GET, "/v2/team", None).await?;
        Ok(teams.teams)
    }

    /// `GET /v2/team/{team_id}/plan`.
    pub async fn plan(&self, team_id: u64) -> Result<Plan, ClickUpError> {
        self.call(Method::GET, &format!("/v2/team/{team_id}/plan"), None)
            .await
    }

    /// The active member or guest of a workspace with this email (case-insensitive).
    pub async fn find_member(
        &self,
        team_id: u64,
        email: &str,
    ) -> Result<Option<Member>, ClickUpError> {
        self.find_account(team_id, None, &[email.to_string()]).await
    }

    /// The account with this user id, else the first with one of these emails, from one
    /// `GET /v2/team` (a workspace's member list is large; read it once per lookup).
    pub async fn find_account(
        &self,
        team_id: u64,
        user_id: Option<u64>,
        emails: &[String],
    ) -> Result<Option<Member>, ClickUpError> {
        let teams = self.teams().await?;
        let team = teams
            .into_iter()
            .find(|team| team.id == team_id.to_string())
            .ok_or_else(|| ClickUpError::Api {
                status: 401,
                ecode: "OAUTH_023".into(),
                message: format!("workspace {team_id} is not authorised for the router's token"),
            })?;
        let members: Vec<Member> = team.members.into_iter().map(|m| m.user).collect();

        let by_id = user_id.and_then(|id| members.iter().find(|m| m.id == id));
        let by_email = || {
            emails.iter().find_map(|email| {
                members.iter().find(|m| {
                    m.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
                })
            })
        };
        Ok(by_id.or_else(by_email).cloned())
    }

    /// `DELETE /v2/team/{team_id}/user/{user_id}`: deactivates a member.
    pub async fn remove_member(&self, team_id: u64, user_id: u64) -> Result<Removal, ClickUpError> {
        self.remove(&format!("/v2/team/{team_id}/user/{user_id}"))
            .await
    }

    /// `DELETE /v2/team/{team_id}/guest/{guest_id}`: revokes a guest's workspace access.
    pub async fn remove_guest(&self, team_id: u64, guest_id: u64) -> Result<Removal, ClickUpError> {
        self.remove(&format!("/v2/team/{team_id}/guest/{guest_id}"))
            .await
    }

    async fn remove(&self, path: &str) -> Result<Removal, ClickUpError> {
        match self
            .call::<serde_json::Value>(Method::DELETE, path, None)
            .await
        {
            Ok(_) => Ok(Removal::Removed),
            Err(ClickUpError::Api { status: 404, .. }) => Ok(Removal::AlreadyGone),
            Err(error) => Err(error),
        }
    }

    /// One call with retries of transient failures, counted by kind and result.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, ClickUpError> {
        let kind = metered::call_kind(&method, path, body);
        let outcome = self.call_with_retries(kind, method, path, body).await;
        self.metrics
            .clickup_call(kind, metered::result_class(&outcome));
        outcome
    }

    async fn call_with_retries<T: DeserializeOwned>(
        &self,
        kind: &'static str,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, ClickUpError> {
        let mut attempt = 1;
        loop {
            let error = match self.attempt(method.clone(), path, body).await {
                Ok(body) => {
                    return serde_json::from_slice(&body)
                        .map_err(|e| ClickUpError::Contract(format!("{path}: {e}")));
                }
                Err(error) => error,
            };
            if matches!(error, ClickUpError::RateLimited(_)) {
                self.metrics.clickup_rate_limited();
            }
            let repeatable = match self.repeats {
                Repeats::Transient => error.is_transient(),
                Repeats::RateLimited => matches!(error, ClickUpError::RateLimited(_)),
            };
            if !repeatable || attempt >= self.max_attempts {
                return Err(error);
            }
            self.metrics.clickup_retry(kind);

            let wait = match &error {
                ClickUpError::RateLimited(wait) => *wait,
                _ => backoff(attempt),
            };
            warn!(%method, path, attempt, error = %error, wait_ms = wait.as_millis() as u64, "clickup call failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, ClickUpError> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header(header::AUTHORIZATION, self.token.expose())
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                answers::note(&method, path, None);
                return Err(ClickUpError::Transport(without_url(e)));
            }
        };
        let status = response.status();
        debug!(%method, path, status = status.as_u16(), "clickup answered");
        answers::note(&method, path, Some(status.as_u16()));

        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ClickUpError::RateLimited(rate_limit_wait(
                response.headers(),
            )));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| ClickUpError::Transport(without_url(e)))?;
        if status.is_success() {
            return Ok(if body.is_empty() {
                b"null".to_vec()
            } else {
                body.to_vec()
            });
        }
        Err(api_error(status, &body))
    }
}

/// ClickUp's error body: `{"err": "...", "ECODE": "..."}` (some endpoints say `error`).
fn api_error(status: StatusCode, body: &[u8]) -> ClickUpError {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let message = parsed["err"]
        .as_str()
        .or(parsed["error"].as_str())
        .unwrap_or("no error message");
    let ecode = parsed["ECODE"].as_str().unwrap_or("none");
    ClickUpError::Api {
        status: status.as_u16(),
        ecode: ecode.to_string(),
        message: message.to_string(),
    }
}

/// How long to wait after a 429: until `X-RateLimit-Reset` (Unix seconds), within bounds.
fn rate_limit_wait(headers: &header::HeaderMap) -> Duration {
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let now = chrono::Utc::now().timestamp_millis();
    match reset {
        Some(reset) => {
            let wait_ms = (reset * 1000 - now).max(0) as u64 + 50;
            Duration::from_millis(wait_ms).min(MAX_RATE_LIMIT_WAIT)
        }
        None => Duration::from_secs(1),
    }
}

/// Exponential backoff with jitter: about 250 ms, 500 ms, 1 s, ... capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    let base = 250u64
        .saturating_mul(1 << attempt.saturating_sub(1).min(5))
        .min(8_000);
    let jitter = rand::rng().random_range(0..=base / 4);
    Duration::from_millis(base + jitter)
}

/// reqwest errors print the URL; keep the kind only.
fn without_url(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "body error"
    } else {
        "request failed"
    };
    kind.to_string()
}

#[cfg(test)]
mod tests;
