//! OSP access tokens: fetched with the password grant (HTTP Basic client auth), renewed with
//! the refresh token when one is held, and cached until shortly before they expire.
//!
//! Invariants: tokens and credentials live only in `Secret`s and are never logged; one
//! renewal runs at a time (the cache lock is held across it), so concurrent calls share a
//! token instead of each logging in.

use std::time::{Duration, Instant};

use reqwest::header::ACCEPT;
use serde::Deserialize;
use tokio::sync::Mutex;
use tracing::debug;

use super::{error::transport_kind, IamError};
use crate::config::Secret;

/// OSP's token endpoint, under the base URL.
pub(super) const TOKEN_PATH: &str = "/osp/a/idm/auth/oauth2/token";

/// Longest head start a renewal takes on the expiry.
const MAX_MARGIN: Duration = Duration::from_secs(10);

/// A cached token. `Debug` shows no token (the fields redact themselves).
#[derive(Debug)]
struct HeldToken {
    access: Secret,
    refresh: Option<Secret>,
    renew_at: Instant,
}

/// OSP's token answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    token_type: String,
    expires_in: u64,
    refresh_token: Option<String>,
}

/// The credentials and the cached token of one client.
pub(super) struct Tokens {
    http: reqwest::Client,
    url: String,
    client_id: String,
    client_secret: Secret,
    username: String,
    password: Secret,
    held: Mutex<Option<HeldToken>>,
}

impl Tokens {
    pub fn new(
        http: reqwest::Client,
        base: &str,
        client_id: &str,
        client_secret: Secret,
        username: &str,
        password: Secret,
    ) -> Self {
        Tokens {
            http,
            url: format!("{base}{TOKEN_PATH}"),
            client_id: client_id.to_owned(),
            client_secret,
            username: username.to_owned(),
            password,
            held: Mutex::new(None),
        }
    }

    /// A token to send now: the cached one while it is fresh, else a renewed one.
    pub async fn current(&self) -> Result<Secret, IamError> {
        let mut held = self.held.lock().await;
        if let Some(token) = held.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.access.clone());
        }

        let refresh = held.take().and_then(|token| token.refresh);
        let fresh = self.renew(refresh).await?;
        let access = fresh.access.clone();
        *held = Some(fresh);
        Ok(access)
    }

    /// Drops `used` after the API refused it, unless a newer token has replaced it; the
    /// refresh token is kept for the renewal.
    pub async fn forget(&self, used: &Secret) {
        let mut held = self.held.lock().await;
        if let Some(token) = held
            .as_mut()
            .filter(|token| token.access.expose() == used.expose())
        {
            token.renew_at = Instant::now();
        }
    }

    /// The refresh grant when a refresh token is held, falling back to the password grant.
    async fn renew(&self, refresh: Option<Secret>) -> Result<HeldToken, IamError> {
        if let Some(refresh) = refresh {
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.expose()),
            ];
            match self.grant(&form).await {
                Ok(token) => return Ok(token),
                Err(error) => debug!(%error, "osp refused the refresh; logging in again"),
            }
        }

        let form = [
            ("grant_type", "password"),
            ("username", self.username.as_str()),
            ("password", self.password.expose()),
        ];
        self.grant(&form).await
    }

    async fn grant(&self, form: &[(&str, &str)]) -> Result<HeldToken, IamError> {
        let requested = Instant::now();
        let unreachable = |error: reqwest::Error| IamError::Token {
            status: None,
            reason: transport_kind(&error).to_string(),
        };

        let response = self
            .http
            .post(&self.url)
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .header(ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        debug!(path = TOKEN_PATH, status, "osp answered");
        let body = response.bytes().await.map_err(unreachable)?;

        if !(200..300).contains(&status) {
            return Err(IamError::Token {
                status: Some(status),
                reason: oauth_error(&body),
            });
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|_| IamError::Contract {
                path: TOKEN_PATH.to_owned(),
                detail: "not {access_token, token_type, expires_in, refresh_token?}".to_owned(),
            })?;
        if !answer.token_type.eq_ignore_ascii_case("bearer") {
            return Err(IamError::Contract {
                path: TOKEN_PATH.to_owned(),
                detail: "token_type is not bearer".to_owned(),
            });
        }

        let lifetime = Duration::from_secs(answer.expires_in);
        Ok(HeldToken {
            access: Secret::new(answer.access_token),
            refresh: answer.refresh_token.map(Secret::new),
            renew_at: requested + lifetime - renewal_margin(lifetime),
        })
    }
}

/// How long before the expiry a token is renewed: a quarter of its life, at most 10 s
/// (OSP tokens live 60 s by default, so they are renewed after 50 s).
fn renewal_margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(MAX_MARGIN)
}

/// The OAuth `error` code of a refusal (RFC 6749 §5.2); its description is not kept.
fn oauth_error(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value.get("error")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "no OAuth error code".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_ahead_of_their_expiry() {
        let cases = [(60, 10_000), (3600, 10_000), (20, 5_000), (2, 500), (0, 0)];

        for (lifetime_secs, margin_ms) in cases {
            let margin = renewal_margin(Duration::from_secs(lifetime_secs));
            assert_eq!(margin, Duration::from_millis(margin_ms), "{lifetime_secs}");
        }
    }

    #[test]
    fn only_the_oauth_error_code_is_kept() {
        let cases: [(&[u8], &str); 3] = [
            (
                br#"{"error":"invalid_grant","error_description":"user jdoe"}"#,
                "invalid_grant",
            ),
            (br#"{"error":"invalid_client"}"#, "invalid_client"),
            (b"<html>", "no OAuth error code"),
        ];

        for (body, code) in cases {
            assert_eq!(oauth_error(body), code);
        }
    }

    #[test]
    fn a_held_token_never_shows_in_debug() {
        let token = HeldToken {
            access: Secret::new("access-abc"),
            refresh: Some(Secret::new("refresh-def")),
            renew_at: Instant::now(),
        };

        let printed = format!("{token:?}");

        assert!(!printed.contains("access-abc"), "{printed}");
        assert!(!printed.contains("refresh-def"), "{printed}");
    }
}
