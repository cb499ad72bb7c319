//! RFC 7662 introspection for tokens the router cannot read. Answers are cached by the
//! token's SHA-256 (the token itself is never kept): active ones for the configured time,
//! inactive ones too, so a repeated unknown token costs the provider one call per interval;
//! the calls themselves are rate limited per client address and globally ([`Budget`]), so
//! distinct junk tokens cannot flood the provider, nor one address starve everyone else.

use std::{net::IpAddr, time::Duration};

use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::Utc;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    budget::{Budget, Rate, MAX_ADDRESSES},
    cache::TtlCache,
    AuthError,
};
use crate::config::Secret;

/// How long answers are kept and how often the provider may be asked.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    pub active_ttl: Duration,
    pub inactive_ttl: Duration,
    /// Calls to the provider, from everyone.
    pub global: Rate,
    /// Calls to the provider, from one client address.
    pub per_address: Rate,
}

pub(super) struct Introspector {
    client_id: String,
    client_secret: Secret,
    active: TtlCache<Value>,
    inactive: TtlCache<()>,
    budget: Budget,
}

/// The cache key of a token: its SHA-256.
pub(super) fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Introspector {
    pub fn new(
        client_id: &str,
        client_secret: Secret,
        limits: Limits,
    ) -> anyhow::Result<Introspector> {
        let budget = Budget::new(limits.global, limits.per_address, MAX_ADDRESSES)?;

        Ok(Introspector {
            client_id: client_id.to_owned(),
            client_secret,
            active: TtlCache::new(limits.active_ttl),
            inactive: TtlCache::new(limits.inactive_ttl),
            budget,
        })
    }

    /// A kept answer: the claims of an active token, or `Inactive`.
    pub fn cached(&self, key: &[u8; 32]) -> Option<Result<Value, AuthError>> {
        if let Some(claims) = self.active.get(key) {
            return Some(Ok(claims));
        }
        self.inactive.get(key).map(|()| Err(AuthError::Inactive))
    }

    /// Takes one call from `peer`'s budget and the global one; `Busy`, with the time until
    /// the next one, when either is spent.
    pub fn admit(&self, peer: Option<IpAddr>) -> Result<(), AuthError> {
        self.budget.admit(peer)
    }

    /// Asks the provider about the token and keeps its answer: the claims of an active token,
    /// `Inactive` for everything the provider disowns.
    pub async fn ask(
        &self,
        http: &reqwest::Client,
        endpoint: &str,
        token: &str,
        key: [u8; 32],
    ) -> Result<Value, AuthError> {
        let response = http
            .post(endpoint)
            .header("Authorization", self.basic_credentials())
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| AuthError::Provider(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(AuthError::Provider(format!(
                "introspection answered {}",
                response.status()
            )));
        }
        let claims: Value = response
            .json()
            .await
            .map_err(|_| AuthError::Provider("introspection's answer is not JSON".into()))?;

        if claims["active"] != Value::Bool(true) {
            self.inactive.put(key, ());
            return Err(AuthError::Inactive);
        }
        self.active.put(key, claims.clone());
        Ok(claims)
    }

    /// RFC 6749 §2.3.1: id and secret form-encoded, then Basic.
    fn basic_credentials(&self) -> String {
        let encode =
            |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
        let pair = format!(
            "{}:{}",
            encode(&self.client_id),
            encode(self.client_secret.expose())
        );
        format!("Basic {}", STANDARD.encode(pair))
    }
}

/// What an active answer must also say: not expired, this issuer and audience when named.
pub(super) fn check(
    claims: &Value,
    issuer: &str,
    audience: &str,
    leeway: Duration,
) -> Result<(), AuthError> {
    let now = Utc::now().timestamp();
    let leeway = leeway.as_secs() as i64;
    if claims["exp"]
        .as_i64()
        .is_some_and(|exp| exp + leeway <= now)
    {
        return Err(AuthError::Expired);
    }
    if claims["nbf"].as_i64().is_some_and(|nbf| nbf - leeway > now) {
        return Err(AuthError::NotYetValid);
    }
    if claims["iss"].as_str().is_some_and(|iss| iss != issuer) {
        return Err(AuthError::WrongIssuer);
    }
    let audience_named = match &claims["aud"] {
        Value::Null => true,
        Value::String(aud) => aud == audience,
        Value::Array(auds) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
        _ => false,
    };
    match audience_named {
        true => Ok(()),
        false => Err(AuthError::WrongAudience),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn active_answers_are_checked_for_expiry_issuer_and_audience() {
        let now = Utc::now().timestamp();
        let leeway = Duration::from_secs(30);
        // claims, expected
        let cases = [
            (json!({ "exp": now + 60, "iss": "I", "aud": "A" }), Ok(())),
            (json!({}), Ok(())),
            (json!({ "aud": ["B", "A"] }), Ok(())),
            (json!({ "exp": now - 10 }), Ok(())),
            (json!({ "exp": now - 60 }), Err(AuthError::Expired)),
            (json!({ "nbf": now + 60 }), Err(AuthError::NotYetValid)),
            (json!({ "iss": "other" }), Err(AuthError::WrongIssuer)),
            (json!({ "aud": "B" }), Err(AuthError::WrongAudience)),
            (json!({ "aud": ["B"] }), Err(AuthError::WrongAudience)),
            (json!({ "aud": 7 }), Err(AuthError::WrongAudience)),
        ];
        for (claims, expected) in cases {
            assert_eq!(check(&claims, "I", "A", leeway), expected, "{claims}");
        }
    }

    fn introspector(active_secs: u64, per_minute: u32, burst: u32) -> Introspector {
        let limits = Limits {
            active_ttl: Duration::from_secs(active_secs),
            inactive_ttl: Duration::from_secs(60),
            global: Rate { per_minute, burst },
            per_address: Rate { per_minute, burst },
        };
        Introspector::new("c", Secret::new("s"), limits).unwrap()
    }

    #[test]
    fn answers_are_cached_by_hash_active_and_inactive_apart() {
        let cached = introspector(60, 600, 20);
        let uncached = introspector(0, 600, 20);

        cached.active.put(key("token"), json!({ "active": true }));
        uncached.active.put(key("token"), json!({ "active": true }));
        cached.inactive.put(key("junk"), ());

        assert_eq!(
            cached.cached(&key("token")),
            Some(Ok(json!({ "active": true })))
        );
        assert_eq!(cached.cached(&key("junk")), Some(Err(AuthError::Inactive)));
        assert_eq!(cached.cached(&key("other")), None);
        assert_eq!(uncached.cached(&key("token")), None);
    }

    #[test]
    fn calls_past_the_burst_are_refused_with_the_wait() {
        let limited = introspector(0, 1, 3);

        let admitted = (0..10).filter(|_| limited.admit(None).is_ok()).count();

        assert_eq!(admitted, 3);
        match limited.admit(None) {
            Err(AuthError::Busy { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_rate_or_burst_of_zero_is_refused() {
        let limits = |per_minute, burst| Limits {
            active_ttl: Duration::ZERO,
            inactive_ttl: Duration::ZERO,
            global: Rate { per_minute, burst },
            per_address: Rate {
                per_minute: 1,
                burst: 1,
            },
        };
        assert!(Introspector::new("c", Secret::new("s"), limits(0, 1)).is_err());
        assert!(Introspector::new("c", Secret::new("s"), limits(1, 0)).is_err());
        assert!(Introspector::new("c", Secret::new("s"), limits(1, 1)).is_ok());
    }

    #[test]
    fn credentials_are_form_encoded_before_basic() {
        let introspector = introspector(0, 1, 1);
        let introspector = Introspector {
            client_id: "id:1".into(),
            client_secret: Secret::new("s&t"),
            ..introspector
        };
        let expected = format!("Basic {}", STANDARD.encode("id%3A1:s%26t"));
        assert_eq!(introspector.basic_credentials(), expected);
    }
}
