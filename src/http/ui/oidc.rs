//! The relying party's side of OpenID Connect for the pages: the code exchange with the
//! PKCE verifier, and the ID token checked by the router's one token verifier
//! ([`crate::auth::Verifier`]: the same discovery document, key set cache, algorithm
//! allowlist and issuer check as the admin API's bearer tokens, with the client as audience).
//!
//! Invariant: an ID token is accepted only when the verifier accepts it for this client and
//! its `nonce` is the one this sign-in sent.

use std::{sync::Arc, time::Duration};

use serde::Deserialize;

use super::login::constant_time_eq;
use crate::auth::{AuthError, SignInEndpoints, Verifier};

/// Why sign-in through the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the provider could not be reached: {0}")]
    Unreachable(#[from] reqwest::Error),
    /// The token endpoint refused the code (`invalid_grant`: spent, expired, or not this
    /// sign-in's): the browser's fault or a replay, not the provider's.
    #[error("the provider refused the sign-in code")]
    CodeRefused,
    #[error("the provider answered {status} at {what}")]
    Status {
        what: &'static str,
        status: reqwest::StatusCode,
    },
    #[error("the token endpoint returned no ID token")]
    NoIdToken,
    #[error("the ID token is invalid: {0}")]
    InvalidToken(#[from] AuthError),
    #[error("the ID token's claims cannot be read: {0}")]
    Claims(#[from] serde_json::Error),
    #[error("the ID token's nonce does not match the sign-in")]
    NonceMismatch,
}

/// What the pages need from the provider's discovery document.
pub type Discovery = SignInEndpoints;

/// The claims of a valid ID token the pages read.
#[derive(Clone, Debug, Deserialize)]
pub struct IdClaims {
    pub sub: String,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Every claim, for the configured roles claim.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
}

/// The provider as the router's client knows it.
pub struct Provider {
    client_id: String,
    client_secret: crate::config::Secret,
    http: reqwest::Client,
    verifier: Arc<Verifier>,
}

impl Provider {
    pub fn new(
        verifier: Arc<Verifier>,
        client_id: &str,
        client_secret: crate::config::Secret,
    ) -> anyhow::Result<Provider> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Provider {
            client_id: client_id.to_owned(),
            client_secret,
            http,
            verifier,
        })
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The sign-in endpoints, from the verifier's discovery document (read once and kept).
    pub async fn discovery(&self) -> Result<Discovery, OidcError> {
        Ok(self.verifier.sign_in_endpoints().await?)
    }

    /// Exchanges an authorization code (with its PKCE verifier) for a validated ID token.
    pub async fn redeem(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
        nonce: &str,
    ) -> Result<IdClaims, OidcError> {
        let discovery = self.discovery().await?;
        let response = self
            .http
            .post(&discovery.token_endpoint)
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
            ])
            .send()
            .await?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.bytes().await.unwrap_or_default();
            return Err(token_refusal(status, &body));
        }
        let answer: TokenAnswer = response.json().await?;
        let id_token = answer.id_token.ok_or(OidcError::NoIdToken)?;

        let claims = self
            .verifier
            .verify_id_token(&id_token, &self.client_id)
            .await?;
        let claims: IdClaims = serde_json::from_value(claims)?;
        let nonce_matches = claims
            .nonce
            .as_deref()
            .is_some_and(|found| constant_time_eq(found, nonce));
        if !nonce_matches {
            return Err(OidcError::NonceMismatch);
        }
        Ok(claims)
    }
}

/// Why the token endpoint did not give tokens: `invalid_grant` in an RFC 6749 §5.2 error
/// answer (400) is a refused code; anything else (the router's client refused, a server
/// error, an answer that is no OAuth error) is the provider's or the setup's fault.
fn token_refusal(status: reqwest::StatusCode, body: &[u8]) -> OidcError {
    #[derive(Deserialize)]
    struct OAuthAnswer {
        error: String,
    }

    let error = serde_json::from_slice::<OAuthAnswer>(body).map(|answer| answer.error);
    match (status, error.as_deref()) {
        (reqwest::StatusCode::BAD_REQUEST, Ok("invalid_grant")) => OidcError::CodeRefused,
        _ => OidcError::Status {
            what: "the token endpoint",
            status,
        },
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::*;

    #[test]
    fn only_a_refused_grant_is_the_browsers_fault() {
        let grant = br#"{"error":"invalid_grant","error_description":"the code was already used"}"#;
        let cases: [(StatusCode, &[u8], bool); 7] = [
            (StatusCode::BAD_REQUEST, grant, true),
            (
                StatusCode::BAD_REQUEST,
                br#"{"error":"invalid_request"}"#,
                false,
            ),
            (
                StatusCode::UNAUTHORIZED,
                br#"{"error":"invalid_client"}"#,
                false,
            ),
            (StatusCode::UNAUTHORIZED, grant, false),
            (StatusCode::INTERNAL_SERVER_ERROR, grant, false),
            (
                StatusCode::BAD_REQUEST,
                b"<html>invalid_grant</html>",
                false,
            ),
            (StatusCode::BAD_GATEWAY, b"", false),
        ];
        for (status, body, refused) in cases {
            let found = token_refusal(status, body);
            assert_eq!(
                matches!(found, OidcError::CodeRefused),
                refused,
                "{status} {}: {found}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
