//! The provider as the router knows it: its discovery document (fetched once, then kept)
//! and its key set (kept, refreshed when a token names an unknown `kid`).
//!
//! Invariants: one refresh at a time (the others wait and then look again); refreshes caused
//! by unknown key ids are at least `min_refresh` apart, so a flood of junk `kid`s costs the
//! provider one fetch per interval; the discovery document must name the configured issuer.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use serde_json::Value;
use tokio::sync::Mutex;

use super::AuthError;

/// Longest time a key set is used before it is fetched again anyway.
const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug)]
struct Metadata {
    jwks_uri: String,
    introspection_endpoint: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
}

/// Where a browser signs in and where its code is redeemed.
#[derive(Clone, Debug)]
pub struct SignInEndpoints {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
}

#[derive(Default)]
struct KeySet {
    keys: HashMap<String, Jwk>,
    fetched_at: Option<Instant>,
}

pub(super) struct Provider {
    issuer: String,
    http: reqwest::Client,
    min_refresh: Duration,
    metadata: Mutex<Option<Arc<Metadata>>>,
    keys: RwLock<KeySet>,
    /// Held while fetching keys; holds when the last refresh for an unknown `kid` happened.
    refreshing: Mutex<Option<Instant>>,
}

impl Provider {
    pub fn new(issuer: &str, http: reqwest::Client, min_refresh: Duration) -> Provider {
        Provider {
            issuer: issuer.to_owned(),
            http,
            min_refresh,
            metadata: Mutex::new(None),
            keys: RwLock::new(KeySet::default()),
            refreshing: Mutex::new(None),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The published key with this `kid`, fetching the key set when it is missing, old, or
    /// does not have the key (within the refresh limit).
    pub async fn key(&self, kid: &str) -> Result<Jwk, AuthError> {
        if let Some(key) = self.cached(kid, false) {
            return Ok(key);
        }

        let mut last_refresh = self.refreshing.lock().await;
        // Another request may have refreshed while this one waited.
        if let Some(key) = self.cached(kid, false) {
            return Ok(key);
        }
        let fresh = self.is_fresh();
        if fresh && last_refresh.is_some_and(|at| at.elapsed() < self.min_refresh) {
            return Err(AuthError::UnknownKey);
        }

        let keys = self.fetch_keys().await?;
        tracing::info!(keys = keys.len(), "provider key set fetched");
        {
            let mut set = self.keys.write().unwrap_or_else(|e| e.into_inner());
            *set = KeySet {
                keys,
                fetched_at: Some(Instant::now()),
            };
        }
        if fresh {
            *last_refresh = Some(Instant::now());
        }
        self.cached(kid, true).ok_or(AuthError::UnknownKey)
    }

    /// The introspection endpoint the discovery document names.
    pub async fn introspection_endpoint(&self) -> Result<String, AuthError> {
        self.metadata()
            .await?
            .introspection_endpoint
            .clone()
            .ok_or_else(|| AuthError::Provider("the provider offers no introspection".into()))
    }

    /// The authorization and token endpoints the discovery document names.
    pub async fn sign_in_endpoints(&self) -> Result<SignInEndpoints, AuthError> {
        let metadata = self.metadata().await?;
        let named = |endpoint: &Option<String>, what: &str| {
            endpoint
                .clone()
                .ok_or_else(|| AuthError::Provider(format!("the discovery document has no {what}")))
        };
        Ok(SignInEndpoints {
            issuer: self.issuer.clone(),
            authorization_endpoint: named(
                &metadata.authorization_endpoint,
                "authorization_endpoint",
            )?,
            token_endpoint: named(&metadata.token_endpoint, "token_endpoint")?,
        })
    }

    fn cached(&self, kid: &str, even_if_old: bool) -> Option<Jwk> {
        let set = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let usable = even_if_old || set.fetched_at.is_some_and(|at| at.elapsed() < KEYS_MAX_AGE);
        usable.then(|| set.keys.get(kid).cloned()).flatten()
    }

    fn is_fresh(&self) -> bool {
        let set = self.keys.read().unwrap_or_else(|e| e.into_inner());
        set.fetched_at.is_some_and(|at| at.elapsed() < KEYS_MAX_AGE)
    }

    async fn metadata(&self) -> Result<Arc<Metadata>, AuthError> {
        let mut cached = self.metadata.lock().await;
        if let Some(metadata) = cached.as_ref() {
            return Ok(metadata.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let document = self.get_json(&url).await?;
        if document["issuer"].as_str() != Some(self.issuer.as_str()) {
            return Err(AuthError::Provider(
                "the discovery document names another issuer".into(),
            ));
        }
        let jwks_uri = document["jwks_uri"]
            .as_str()
            .ok_or_else(|| AuthError::Provider("the discovery document has no jwks_uri".into()))?;
        let metadata = Arc::new(Metadata {
            jwks_uri: jwks_uri.to_owned(),
            introspection_endpoint: document["introspection_endpoint"]
                .as_str()
                .map(str::to_owned),
            authorization_endpoint: document["authorization_endpoint"]
                .as_str()
                .map(str::to_owned),
            token_endpoint: document["token_endpoint"].as_str().map(str::to_owned),
        });
        *cached = Some(metadata.clone());
        Ok(metadata)
    }

    /// The signing keys of the key set by `kid`; keys without a `kid`, meant for encryption,
    /// or of a type this crate cannot read are left out.
    async fn fetch_keys(&self) -> Result<HashMap<String, Jwk>, AuthError> {
        let metadata = self.metadata().await?;
        let document = self.get_json(&metadata.jwks_uri).await?;
        let keys = document["keys"]
            .as_array()
            .ok_or_else(|| AuthError::Provider("the key set has no keys".into()))?;
        Ok(keys
            .iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
            .filter(|jwk| jwk.common.public_key_use != Some(PublicKeyUse::Encryption))
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, jwk)))
            .collect())
    }

    async fn get_json(&self, url: &str) -> Result<Value, AuthError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| AuthError::Provider(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(AuthError::Provider(format!(
                "the provider answered {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|_| AuthError::Provider("the provider's answer is not JSON".into()))
    }
}
