//! The relying party's side of OpenID Connect for the pages: discovery from the issuer, the
//! code exchange with the PKCE verifier, and ID token validation against the JWKS (cached,
//! fetched again once when a token names a key it does not hold).
//!
//! Invariant: an ID token is accepted only when its signature checks against a key the
//! provider publishes, with the algorithm that key declares, and `iss`, `aud`, `exp` and the
//! session's `nonce` all match.

use std::time::Duration;

use jsonwebtoken::{
    decode, decode_header,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet},
    Algorithm, DecodingKey, Validation,
};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::login::constant_time_eq;

/// Seconds of clock skew allowed on `exp`, `iat` and `nbf`.
const LEEWAY_SECS: u64 = 60;

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
    #[error("the discovery document names issuer {found:?}, not the configured one")]
    IssuerMismatch { found: String },
    #[error("the token endpoint returned no ID token")]
    NoIdToken,
    #[error("the ID token names key {0:?}, which the provider does not publish")]
    UnknownKey(String),
    #[error("the ID token is invalid: {0}")]
    InvalidToken(#[from] jsonwebtoken::errors::Error),
    #[error("the ID token's nonce does not match the sign-in")]
    NonceMismatch,
}

/// What the pages need from the provider's discovery document.
#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

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
// FIXME(#6): this keeps a second copy of the discovery document and key set beside
// `auth::provider` (the admin API's, which is private to `auth`); making that one public and
// giving its verifier an ID-token mode (aud = client id, nonce) would leave one cache.
pub struct Provider {
    issuer: String,
    client_id: String,
    client_secret: crate::config::Secret,
    http: reqwest::Client,
    discovery: Mutex<Option<Discovery>>,
    keys: Mutex<Option<JwkSet>>,
}

impl Provider {
    pub fn new(
        issuer: &str,
        client_id: &str,
        client_secret: crate::config::Secret,
    ) -> anyhow::Result<Provider> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Provider {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            http,
            discovery: Mutex::new(None),
            keys: Mutex::new(None),
        })
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The discovery document, read once and kept.
    pub async fn discovery(&self) -> Result<Discovery, OidcError> {
        let mut cached = self.discovery.lock().await;
        if let Some(found) = cached.as_ref() {
            return Ok(found.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let response = self.http.get(url).send().await?;
        let found: Discovery = checked(response, "discovery").await?.json().await?;
        if found.issuer.trim_end_matches('/') != self.issuer {
            return Err(OidcError::IssuerMismatch {
                found: found.issuer,
            });
        }
        *cached = Some(found.clone());
        Ok(found)
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
        self.validate(&discovery, &id_token, nonce).await
    }

    async fn validate(
        &self,
        discovery: &Discovery,
        token: &str,
        nonce: &str,
    ) -> Result<IdClaims, OidcError> {
        let header = decode_header(token)?;
        let kid = header.kid.clone().unwrap_or_default();
        let jwk = match self.key(discovery, &kid, false).await? {
            Some(jwk) => jwk,
            None => self
                .key(discovery, &kid, true)
                .await?
                .ok_or_else(|| OidcError::UnknownKey(kid.clone()))?,
        };

        // The key decides the algorithm; a token claiming another one fails validation.
        let mut validation = Validation::new(algorithm_of(&jwk)?);
        validation.set_issuer(&[&discovery.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        let claims = decode::<IdClaims>(token, &DecodingKey::from_jwk(&jwk)?, &validation)?.claims;

        let nonce_matches = claims
            .nonce
            .as_deref()
            .is_some_and(|found| constant_time_eq(found, nonce));
        if !nonce_matches {
            return Err(OidcError::NonceMismatch);
        }
        Ok(claims)
    }

    /// The published key `kid`; with `refresh`, the JWKS is fetched again first.
    async fn key(
        &self,
        discovery: &Discovery,
        kid: &str,
        refresh: bool,
    ) -> Result<Option<Jwk>, OidcError> {
        let mut keys = self.keys.lock().await;
        if refresh || keys.is_none() {
            let response = self.http.get(&discovery.jwks_uri).send().await?;
            *keys = Some(checked(response, "the JWKS").await?.json().await?);
        }
        Ok(keys.as_ref().and_then(|set| set.find(kid)).cloned())
    }
}

/// The one algorithm a published key verifies: the one it declares, else its curve's or
/// RS256 for RSA. Symmetric keys are never accepted from a JWKS.
fn algorithm_of(jwk: &Jwk) -> Result<Algorithm, OidcError> {
    let unusable = || OidcError::UnknownKey(jwk.common.key_id.clone().unwrap_or_default());
    if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
        return Err(unusable());
    }
    if let Some(declared) = jwk.common.key_algorithm {
        return declared.to_string().parse().map_err(|_| unusable());
    }
    match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Ok(Algorithm::ES256),
            EllipticCurve::P384 => Ok(Algorithm::ES384),
            _ => Err(unusable()),
        },
        AlgorithmParameters::RSA(_) => Ok(Algorithm::RS256),
        AlgorithmParameters::OctetKeyPair(_) => Ok(Algorithm::EdDSA),
        AlgorithmParameters::OctetKey(_) => Err(unusable()),
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
