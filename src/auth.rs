//! Bearer tokens from the IAM's OIDC provider (Access Manager): signed JWTs checked against
//! the provider's discovery document and key set, and tokens the router cannot read
//! (encrypted or opaque access tokens) resolved by RFC 7662 introspection; roles from a
//! configured claim.
//!
//! Invariants: only RS256, PS256 and ES256 are accepted, each with a key of its own type
//! (never `none` or HMAC); `iss`, `aud` and `exp` are always checked; tokens are never logged
//! or kept, introspection answers are cached under the token's SHA-256 only; a token longer
//! than [`MAX_TOKEN_LEN`] or outside RFC 6750's `b64token` is refused before any provider
//! call, and introspection calls are rate limited per client address and globally.

mod budget;
mod cache;
mod introspection;
mod jws;
mod provider;
mod roles;

use std::{net::IpAddr, time::Duration};

use serde_json::Value;

pub use provider::SignInEndpoints;
pub use roles::{Need, Role, RoleNames, Roles};

use crate::config::OidcSettings;
use budget::Rate;
use introspection::{Introspector, Limits};
use provider::Provider;

/// Longest bearer token accepted, in bytes; real access tokens are far shorter.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Who a valid token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`.
    pub subject: String,
    pub roles: Roles,
    /// `jwt` or `introspection`: how the token was checked.
    pub checked_by: &'static str,
}

/// Why a request is refused; each maps to a 401 (403 for a missing role, 503 when the
/// provider cannot be reached or introspection is busy).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no bearer token in the Authorization header")]
    Missing,
    #[error("the token is malformed: {0}")]
    Malformed(String),
    #[error("the token is not a bearer token: {0}")]
    Invalid(&'static str),
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token names a key the provider does not publish")]
    UnknownKey,
    #[error("signing algorithm {0} is not accepted")]
    Algorithm(String),
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token is meant for another audience")]
    WrongAudience,
    #[error("the token is not active")]
    Inactive,
    #[error("the token cannot be read and introspection is not configured")]
    Unreadable,
    #[error("this needs the {0} role")]
    InsufficientRole(String),
    #[error("the identity provider could not be asked: {0}")]
    Provider(String),
    #[error("too many tokens to introspect right now; try again in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
}

impl AuthError {
    /// The `error` member of the JSON answer.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing_token",
            AuthError::Malformed(_) => "malformed_token",
            AuthError::Invalid(_) => "invalid_token",
            AuthError::Expired => "expired_token",
            AuthError::NotYetValid => "token_not_yet_valid",
            AuthError::BadSignature => "bad_signature",
            AuthError::UnknownKey => "unknown_key",
            AuthError::Algorithm(_) => "algorithm_not_accepted",
            AuthError::WrongIssuer => "wrong_issuer",
            AuthError::WrongAudience => "wrong_audience",
            AuthError::Inactive => "inactive_token",
            AuthError::Unreadable => "unreadable_token",
            AuthError::InsufficientRole(_) => "insufficient_role",
            AuthError::Provider(_) => "identity_provider_unavailable",
            AuthError::Busy { .. } => "introspection_busy",
        }
    }
}

/// Checks bearer tokens for one issuer and audience.
pub struct Verifier {
    issuer: String,
    audience: String,
    roles_claim: String,
    names: RoleNames,
    leeway: Duration,
    provider: Provider,
    introspector: Option<Introspector>,
}

impl Verifier {
    /// A verifier for the configured issuer, or `None` when no issuer is configured.
    /// Nothing is fetched until the first token arrives.
    pub fn from_settings(settings: &OidcSettings) -> anyhow::Result<Option<Verifier>> {
        let issuer = settings.oidc_issuer.trim().trim_end_matches('/');
        if issuer.is_empty() {
            return Ok(None);
        }
        url::Url::parse(issuer).map_err(|e| anyhow::anyhow!("OIDC_ISSUER is not a URL: {e}"))?;
        anyhow::ensure!(
            !settings.oidc_audience.trim().is_empty(),
            "OIDC_AUDIENCE is required with OIDC_ISSUER"
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.oidc_timeout_ms))
            .connect_timeout(Duration::from_millis(settings.oidc_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("clickup-iam-router/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let introspector = match settings.oidc_client_id.trim() {
            "" => None,
            client_id => Some(Introspector::new(
                client_id,
                settings.oidc_client_secret.clone(),
                Limits {
                    active_ttl: Duration::from_secs(settings.oidc_introspection_cache_secs),
                    inactive_ttl: Duration::from_secs(
                        settings.oidc_introspection_inactive_cache_secs,
                    ),
                    global: Rate {
                        per_minute: settings.oidc_introspection_per_minute,
                        burst: settings.oidc_introspection_burst,
                    },
                    per_address: Rate {
                        per_minute: settings.oidc_introspection_per_address_per_minute,
                        burst: settings.oidc_introspection_per_address_burst,
                    },
                },
            )?),
        };
        Ok(Some(Verifier {
            issuer: issuer.to_owned(),
            audience: settings.oidc_audience.trim().to_owned(),
            roles_claim: settings.oidc_roles_claim.trim().to_owned(),
            names: RoleNames {
                admin: settings.oidc_admin_role.clone(),
                auditor: settings.oidc_auditor_role.clone(),
                approver: settings.oidc_approver_role.clone(),
            },
            leeway: Duration::from_secs(settings.oidc_leeway_secs),
            provider: Provider::new(
                issuer,
                http,
                Duration::from_secs(settings.oidc_jwks_refresh_min_secs),
            ),
            introspector,
        }))
    }

    /// The principal of a valid token: a JWS is verified locally, anything else (a five-part
    /// JWE or an opaque token) is introspected, within `peer`'s budget (the client's TCP
    /// address; `None` when unknown) and the global one. A token that cannot be a bearer token
    /// is refused without asking the provider.
    #[tracing::instrument(name = "verify_token", skip_all, fields(checked_by))]
    pub async fn verify(&self, token: &str, peer: Option<IpAddr>) -> Result<Principal, AuthError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        check_shape(token)?;

        let (claims, checked_by) = match token.split('.').count() {
            3 => (self.verify_jws(token).await?, "jwt"),
            _ => (self.introspect(token, peer).await?, "introspection"),
        };
        tracing::Span::current().record("checked_by", checked_by);

        let subject = claims["sub"]
            .as_str()
            .filter(|sub| !sub.is_empty())
            .ok_or_else(|| AuthError::Malformed("the token has no sub".into()))?;
        Ok(Principal {
            subject: subject.to_owned(),
            roles: Roles::from_claims(&claims, &self.roles_claim, &self.names),
            checked_by,
        })
    }

    /// The claims of an ID token issued to `client_id` (the pages' sign-in): the same key
    /// set, algorithm allowlist, issuer and time checks as access tokens, with the client as
    /// audience. The caller checks the nonce it sent.
    pub async fn verify_id_token(&self, token: &str, client_id: &str) -> Result<Value, AuthError> {
        self.verify_signed(token.trim(), client_id).await
    }

    /// Where a browser signs in at the provider, from the same discovery document.
    pub async fn sign_in_endpoints(&self) -> Result<SignInEndpoints, AuthError> {
        self.provider.sign_in_endpoints().await
    }

    async fn verify_jws(&self, token: &str) -> Result<Value, AuthError> {
        self.verify_signed(token, &self.audience).await
    }

    async fn verify_signed(&self, token: &str, audience: &str) -> Result<Value, AuthError> {
        let header = jws::header(token)?;
        let kid = header
            .kid
            .as_deref()
            .ok_or_else(|| AuthError::Malformed("the token's header names no key (kid)".into()))?;
        let jwk = self.provider.key(kid).await?;
        jws::verify(
            token,
            header.alg,
            &jwk,
            &jws::Expected {
                issuer: &self.issuer,
                audience,
                leeway: self.leeway,
            },
        )
    }

    /// A kept answer, else one from the provider within the rate limits.
    async fn introspect(&self, token: &str, peer: Option<IpAddr>) -> Result<Value, AuthError> {
        let introspector = self.introspector.as_ref().ok_or(AuthError::Unreadable)?;
        let key = introspection::key(token);

        let claims = match introspector.cached(&key) {
            Some(answer) => answer?,
            None => {
                introspector.admit(peer)?;
                let endpoint = self.provider.introspection_endpoint().await?;
                introspector
                    .ask(self.provider.http(), &endpoint, token, key)
                    .await?
            }
        };

        introspection::check(&claims, &self.issuer, &self.audience, self.leeway)?;
        Ok(claims)
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("introspection", &self.introspector.is_some())
            .finish_non_exhaustive()
    }
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`,
/// and at most [`MAX_TOKEN_LEN`] bytes.
fn check_shape(token: &str) -> Result<(), AuthError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::Invalid("it is longer than 8192 characters"));
    }
    let body = token.trim_end_matches('=');
    let alphabet = |byte: u8| byte.is_ascii_alphanumeric() || b"-._~+/".contains(&byte);
    if body.is_empty() || !body.bytes().all(alphabet) {
        return Err(AuthError::Invalid(
            "it has characters outside RFC 6750's b64token alphabet",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_b64tokens_within_the_bound_pass() {
        let longest = "a".repeat(MAX_TOKEN_LEN);
        let too_long = "a".repeat(MAX_TOKEN_LEN + 1);
        // token, passes
        let cases = [
            ("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", true),
            ("a.b.c.d.e", true),
            ("opaque-token_1~x+y/z==", true),
            ("not-a-jwt", true),
            (longest.as_str(), true),
            (too_long.as_str(), false),
            ("==", false),
            ("a=b", false),
            ("garbage token", false),
            ("tok\"en", false),
            ("t\u{e9}t", false),
            ("a,b", false),
            ("a%20b", false),
        ];
        for (token, passes) in cases {
            assert_eq!(check_shape(token).is_ok(), passes, "{token:.40}");
        }
        assert_eq!(
            check_shape(&too_long).map_err(|e| e.code()),
            Err("invalid_token")
        );
    }
}
