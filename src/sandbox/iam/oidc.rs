//! An OpenID Connect provider on Access Manager's (NAM) paths: discovery, JWKS, the
//! authorization endpoint with a sign-in form, the token endpoint (authorization code with
//! PKCE, refresh token, client credentials), RFC 7662 introspection, userinfo and end session.
//!
//! Access tokens are signed JWTs or, as NAM does by default, tokens the relying party cannot
//! read (a JWE-shaped reference here: five base64url parts, random content) that only
//! introspection resolves. ID tokens are always signed (ES256).
//!
//! Invariants: codes are one-time and short-lived and bound to the client, the redirect URI
//! and the PKCE challenge (S256 only); refresh tokens are single-use; every issued access
//! token is on record, so introspection answers `active` only for tokens this provider issued
//! that are neither expired nor revoked; redirect URIs are loopback.

mod authorize;
mod client;
mod issue;
pub(super) mod keys;
mod page;
#[cfg(test)]
mod tests;
mod token;
mod userinfo;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{http::header::CACHE_CONTROL, web, HttpResponse};
use serde_json::json;

use super::IamSandboxUser;
pub use issue::TokenSpec;
use issue::{IssuedToken, PendingCode, RefreshGrant};
use keys::KeyRing;

/// Path of the issuer under the stand-in's base URL.
pub const ISSUER_PATH: &str = "/nidp/oauth/nam";
const DISCOVERY_PATH: &str = "/nidp/oauth/nam/.well-known/openid-configuration";
const AUTHORIZATION_PATH: &str = "/nidp/oauth/nam/authz";
const TOKEN_PATH: &str = "/nidp/oauth/nam/token";
const USERINFO_PATH: &str = "/nidp/oauth/nam/userinfo";
const JWKS_PATH: &str = "/nidp/oauth/nam/keys";
const INTROSPECTION_PATH: &str = "/nidp/oauth/v1/nam/introspect";
const END_SESSION_PATH: &str = "/nidp/oauth/v1/nam/end_session";

/// How the provider behaves and whom it knows as relying parties.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    pub clients: Vec<OidcClient>,
    /// Name of the claim carrying a user's roles in access tokens, ID tokens and userinfo.
    pub roles_claim: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Lifetime of an authorization code (RFC 6749 recommends at most ten minutes).
    pub code_ttl: Duration,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            clients: Vec::new(),
            roles_claim: "roles".to_owned(),
            access_token_ttl: Duration::from_secs(300),
            refresh_token_ttl: Duration::from_secs(8 * 3600),
            code_ttl: Duration::from_secs(60),
        }
    }
}

/// A registered relying party.
#[derive(Clone)]
pub struct OidcClient {
    pub client_id: String,
    pub client_secret: String,
    /// Exact redirect URIs accepted at the authorization endpoint (loopback only).
    pub redirect_uris: Vec<String>,
    /// Where end session may send the browser back to (loopback only).
    pub post_logout_redirect_uris: Vec<String>,
    /// `aud` of the access tokens issued to this client (NAM's resource server).
    pub audience: String,
    pub access_tokens: AccessTokenFormat,
    /// Roles of the tokens this client gets for itself (client credentials).
    pub roles: Vec<String>,
}

impl OidcClient {
    /// A client whose access tokens are signed JWTs for `audience`, with no redirect URIs.
    pub fn new(client_id: &str, client_secret: &str, audience: &str) -> OidcClient {
        OidcClient {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            audience: audience.to_owned(),
            access_tokens: AccessTokenFormat::Jwt,
            roles: Vec::new(),
        }
    }
}

/// What an access token looks like to the relying party.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccessTokenFormat {
    /// A JWS the relying party verifies against the JWKS.
    #[default]
    Jwt,
    /// An opaque, JWE-shaped reference only introspection resolves.
    Encrypted,
}

/// The provider's data, behind one lock held only inside [`OidcState::with`].
pub(super) struct OidcInner {
    pub config: OidcConfig,
    pub issuer: String,
    pub users: Vec<IamSandboxUser>,
    pub keys: KeyRing,
    pub jwks_fetches: usize,
    /// Calls at the introspection endpoint, answered or refused.
    pub introspections: usize,
    codes: HashMap<String, PendingCode>,
    tokens: HashMap<String, IssuedToken>,
    refresh: HashMap<String, RefreshGrant>,
}

#[derive(Clone)]
pub(super) struct OidcState(Arc<Mutex<OidcInner>>);

impl OidcState {
    /// Checks the clients and makes the keys; `base_url` is the stand-in's `http://host:port`.
    pub fn new(
        config: OidcConfig,
        users: Vec<IamSandboxUser>,
        base_url: &str,
    ) -> anyhow::Result<OidcState> {
        for client in &config.clients {
            for uri in client
                .redirect_uris
                .iter()
                .chain(&client.post_logout_redirect_uris)
            {
                ensure_loopback_uri(uri)?;
            }
        }
        Ok(OidcState(Arc::new(Mutex::new(OidcInner {
            config,
            issuer: format!("{base_url}{ISSUER_PATH}"),
            users,
            keys: KeyRing::generate()?,
            jwks_fetches: 0,
            introspections: 0,
            codes: HashMap::new(),
            tokens: HashMap::new(),
            refresh: HashMap::new(),
        }))))
    }

    pub fn with<R>(&self, action: impl FnOnce(&mut OidcInner) -> R) -> R {
        // Every transition completes before it returns, so a poisoned lock's data is sound.
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        action(&mut inner)
    }
}

impl OidcInner {
    pub fn client(&self, client_id: &str) -> Option<&OidcClient> {
        self.config
            .clients
            .iter()
            .find(|client| client.client_id == client_id)
    }

    pub fn user_by_dn(&self, dn: &str) -> Option<&IamSandboxUser> {
        self.users.iter().find(|u| u.dn.eq_ignore_ascii_case(dn))
    }

    pub fn user_by_name(&self, username: &str) -> Option<&IamSandboxUser> {
        self.users.iter().find(|u| u.username == username)
    }
}

/// Adds the provider's routes to the stand-in's app.
pub(super) fn configure(config: &mut web::ServiceConfig) {
    config
        .route(DISCOVERY_PATH, web::get().to(discovery))
        .route(JWKS_PATH, web::get().to(jwks))
        .route(AUTHORIZATION_PATH, web::get().to(authorize::show))
        .route(AUTHORIZATION_PATH, web::post().to(authorize::submit))
        .route(TOKEN_PATH, web::post().to(token::token))
        .route(INTROSPECTION_PATH, web::post().to(token::introspect))
        .route(USERINFO_PATH, web::get().to(userinfo::userinfo))
        .route(USERINFO_PATH, web::post().to(userinfo::userinfo))
        .route(END_SESSION_PATH, web::get().to(userinfo::end_session));
}

async fn discovery(state: web::Data<OidcState>) -> HttpResponse {
    let (issuer, roles_claim) = state.with(|s| (s.issuer.clone(), s.config.roles_claim.clone()));
    let base = issuer.trim_end_matches(ISSUER_PATH);
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}{AUTHORIZATION_PATH}"),
        "token_endpoint": format!("{base}{TOKEN_PATH}"),
        "userinfo_endpoint": format!("{base}{USERINFO_PATH}"),
        "jwks_uri": format!("{base}{JWKS_PATH}"),
        "introspection_endpoint": format!("{base}{INTROSPECTION_PATH}"),
        "end_session_endpoint": format!("{base}{END_SESSION_PATH}"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email"],
        "claims_supported":
            ["sub", "iss", "aud", "exp", "iat", "email", "name", "preferred_username", roles_claim],
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn jwks(state: web::Data<OidcState>) -> HttpResponse {
    let keys = state.with(|s| {
        s.jwks_fetches += 1;
        s.keys.jwks()
    });
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .json(keys)
}

/// Refuses a redirect URI that is not an absolute http(s) URL on a loopback host.
fn ensure_loopback_uri(uri: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(uri).map_err(|e| anyhow::anyhow!("{uri} is not a URL: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    anyhow::ensure!(
        loopback && matches!(parsed.scheme(), "http" | "https"),
        "redirect URI {uri} must be http(s) on loopback"
    );
    Ok(())
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uris", &self.redirect_uris)
            .field("audience", &self.audience)
            .field("access_tokens", &self.access_tokens)
            .finish_non_exhaustive()
    }
}
