//! One Identity Applications call: a bearer token, one more try on a fresh token after a 401,
//! and retries with backoff for transient failures.
//!
//! Invariants: a call that creates or decides something is sent again only when the server
//! surely did not act on it ([`Replay::IfUnprocessed`]); logs carry method, path, status and
//! attempt, never the query, the body or the token.

use std::time::Duration;

use rand::Rng;
use reqwest::{header::ACCEPT, Method};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::{debug, warn};

use super::{wire, IamClient, IamError};
use crate::config::Secret;

/// Root of the access REST resources, under the base URL.
pub(super) const API_BASE: &str = "/IDMProv/rest/access";

/// Attempts per call, the first included.
const MAX_ATTEMPTS: u32 = 4;

/// When a failed call may be sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Replay {
    /// Reads: after any transient failure.
    Always,
    /// Writes: only when the server surely did not act (no connection, 429, 503).
    IfUnprocessed,
}

impl Replay {
    fn allows(self, error: &IamError) -> bool {
        match self {
            Replay::Always => error.is_transient(),
            Replay::IfUnprocessed => error.surely_unprocessed(),
        }
    }
}

/// One call to `{base}/IDMProv/rest/access{path}`.
pub(super) struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: &'a [(&'a str, String)],
    pub body: Option<&'a Value>,
    pub replay: Replay,
}

impl IamClient {
    /// Sends the call, retrying transient failures as its [`Replay`] allows.
    pub(super) async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, IamError> {
        let mut attempt = 1;
        loop {
            let error = match self.authorised(&call).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if !call.replay.allows(&error) || attempt >= MAX_ATTEMPTS {
                return Err(error);
            }

            let wait = backoff(attempt);
            warn!(
                method = %call.method,
                path = call.path,
                attempt,
                status = error.status(),
                wait_ms = wait.as_millis() as u64,
                "identity applications call failed; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt; after a 401 the token is dropped and the call sent once more.
    async fn authorised<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, IamError> {
        let token = self.tokens.current().await?;
        match self.send(&token, call).await {
            Err(IamError::Status { status: 401, .. }) => {
                debug!(path = call.path, "token refused; renewing it once");
                self.tokens.forget(&token).await;
                let token = self.tokens.current().await?;
                self.send(&token, call).await
            }
            other => other,
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        token: &Secret,
        call: &Call<'_>,
    ) -> Result<T, IamError> {
        let url = format!("{}{API_BASE}{}", self.base, call.path);
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .bearer_auth(token.expose())
            .header(ACCEPT, "application/json")
            .query(call.query);
        if let Some(body) = call.body {
            request = request.json(body);
        }

        let response = request
            .send()
            .await
            .map_err(|e| IamError::transport(call.path, &e))?;
        let status = response.status().as_u16();
        debug!(method = %call.method, path = call.path, status, "identity applications answered");
        let body = response
            .bytes()
            .await
            .map_err(|e| IamError::transport(call.path, &e))?;
        wire::read_answer(call.path, status, &body)
    }
}

/// Exponential backoff with jitter: about 200 ms, 400 ms, 800 ms, capped at 5 s.
fn backoff(attempt: u32) -> Duration {
    let base = 200u64
        .saturating_mul(1 << attempt.saturating_sub(1).min(5))
        .min(5_000);
    let jitter = rand::rng().random_range(0..=base / 4);
    Duration::from_millis(base + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let cases = [
            (1, 200, 250),
            (2, 400, 500),
            (3, 800, 1_000),
            (30, 5_000, 6_250),
        ];

        for (attempt, low, high) in cases {
            let wait = backoff(attempt).as_millis() as u64;
            assert!((low..=high).contains(&wait), "{attempt}: {wait}");
        }
    }

    #[test]
    fn writes_are_replayed_only_when_surely_unprocessed() {
        let timeout = IamError::Transport {
            path: "/tasks".into(),
            kind: super::super::error::TransportKind::Timeout,
        };
        let busy = IamError::Status {
            path: "/tasks".into(),
            status: 503,
        };

        assert!(Replay::Always.allows(&timeout));
        assert!(!Replay::IfUnprocessed.allows(&timeout));
        assert!(Replay::Always.allows(&busy));
        assert!(Replay::IfUnprocessed.allows(&busy));
    }
}
