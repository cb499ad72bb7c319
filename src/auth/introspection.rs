//! RFC 7662 introspection for tokens the router cannot read, with a short cache of positive
//! answers keyed by the token's SHA-256 (the token itself is never kept).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::Utc;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::AuthError;
use crate::config::Secret;

/// Most answers kept; past it, expired ones are dropped, then everything.
const CACHE_LIMIT: usize = 10_000;

pub(super) struct Introspector {
    client_id: String,
    client_secret: Secret,
    ttl: Duration,
    cache: Mutex<HashMap<[u8; 32], (Value, Instant)>>,
}

impl Introspector {
    pub fn new(client_id: &str, client_secret: Secret, ttl: Duration) -> Introspector {
        Introspector {
            client_id: client_id.to_owned(),
            client_secret,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The claims of an active token; `Inactive` for everything the provider disowns.
    pub async fn introspect(
        &self,
        http: &reqwest::Client,
        endpoint: &str,
        token: &str,
    ) -> Result<Value, AuthError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(claims) = self.cached(&key) {
            return Ok(claims);
        }

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
            return Err(AuthError::Inactive);
        }

        self.remember(key, &claims);
        Ok(claims)
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Value> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(claims, _)| claims.clone())
    }

    fn remember(&self, key: [u8; 32], claims: &Value) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_LIMIT {
            let now = Instant::now();
            cache.retain(|_, (_, until)| now < *until);
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
        }
        cache.insert(key, (claims.clone(), Instant::now() + self.ttl));
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

    #[test]
    fn positive_answers_are_cached_by_hash_and_for_the_ttl_only() {
        let cached = Introspector::new("c", Secret::new("s"), Duration::from_secs(60));
        let uncached = Introspector::new("c", Secret::new("s"), Duration::ZERO);
        let key: [u8; 32] = Sha256::digest(b"token").into();

        cached.remember(key, &json!({ "active": true }));
        uncached.remember(key, &json!({ "active": true }));

        assert_eq!(cached.cached(&key), Some(json!({ "active": true })));
        assert_eq!(uncached.cached(&key), None);
        assert_eq!(cached.cached(&Sha256::digest(b"other").into()), None);
    }

    #[test]
    fn credentials_are_form_encoded_before_basic() {
        let introspector = Introspector::new("id:1", Secret::new("s&t"), Duration::ZERO);
        let expected = format!("Basic {}", STANDARD.encode("id%3A1:s%26t"));
        assert_eq!(introspector.basic_credentials(), expected);
    }
}
