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
        let answer: TokenAnswer = checked(response, "the token endpoint")
            .await?
            .json()
            .await?;
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

async fn checked(
    response: reqwest::Response,
    what: &'static str,
) -> Result<reqwest::Response, OidcError> {
    match response.status().is_success() {
        true => Ok(response),
        false => Err(OidcError::Status {
            what,
            status: response.status(),
        }),
    }
}
