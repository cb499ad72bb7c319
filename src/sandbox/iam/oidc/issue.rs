//! Issuing and remembering what the provider hands out: authorization codes, access tokens
//! (signed or opaque), ID tokens and refresh tokens, and the test helper that mints a token
//! for a user directly.
//!
//! Invariants: a code or refresh token is removed when it is redeemed, whatever the outcome;
//! every access token is recorded with its claims, so introspection and userinfo answer from
//! the record, never by parsing the token.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::Utc;
use serde_json::{json, Map, Value};

use super::{keys::KeyError, AccessTokenFormat, OidcClient, OidcInner};
use crate::sandbox::iam::{state::new_id, IamSandboxUser};

/// A code waiting to be exchanged.
pub(super) struct PendingCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub user_dn: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub expires_at: i64,
}

pub(super) struct IssuedToken {
    pub claims: Value,
    pub expires_at: i64,
    pub revoked: bool,
}

pub(super) struct RefreshGrant {
    pub client_id: String,
    pub user_dn: String,
    pub scope: String,
    pub expires_at: i64,
}

/// The token endpoint's answer before serialisation.
pub(super) struct Tokens {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// A token minted directly for a test: any user, chosen roles and lifetime (negative:
/// already expired), audience and format, signed by the provider's key or a foreign one.
#[derive(Clone, Debug)]
pub struct TokenSpec {
    pub username: String,
    /// The user's configured roles when `None`.
    pub roles: Option<Vec<String>>,
    pub lifetime_secs: i64,
    /// The first client's audience when `None`.
    pub audience: Option<String>,
    pub format: AccessTokenFormat,
    /// Sign with a key the JWKS never publishes (keeping the signing key's `kid`).
    pub foreign_key: bool,
}

impl TokenSpec {
    /// A signed token for `username` with their roles, valid for five minutes.
    pub fn new(username: &str) -> TokenSpec {
        TokenSpec {
            username: username.to_owned(),
            roles: None,
            lifetime_secs: 300,
            audience: None,
            format: AccessTokenFormat::Jwt,
            foreign_key: false,
        }
    }
}

/// Who a token is about: a user, or the client itself.
enum Subject<'a> {
    User(&'a IamSandboxUser),
    Client(&'a OidcClient),
}

impl OidcInner {
    pub(super) fn now() -> i64 {
        Utc::now().timestamp()
    }

    pub(super) fn save_code(&mut self, code: PendingCode) -> String {
        let value = random_token(32);
        let now = Self::now();
        self.codes.retain(|_, pending| pending.expires_at > now);
        self.codes.insert(value.clone(), code);
        value
    }

    /// Spends a code; it is gone afterwards even when the caller then refuses it.
    pub(super) fn take_code(&mut self, code: &str) -> Option<PendingCode> {
        self.codes.remove(code)
    }

    pub(super) fn take_refresh(&mut self, token: &str) -> Option<RefreshGrant> {
        self.refresh.remove(token)
    }

    /// The claims of a live access token this provider issued.
    pub(in crate::sandbox::iam) fn active_claims(&self, token: &str) -> Option<&Value> {
        self.tokens
            .get(token)
            .filter(|issued| !issued.revoked && issued.expires_at > Self::now())
            .map(|issued| &issued.claims)
    }

    /// Marks one access token revoked; `false` when it is unknown.
    pub(in crate::sandbox::iam) fn revoke(&mut self, token: &str) -> bool {
        self.tokens
            .get_mut(token)
            .map(|issued| issued.revoked = true)
            .is_some()
    }

    pub(in crate::sandbox::iam) fn revoke_all(&mut self) {
        self.tokens.values_mut().for_each(|t| t.revoked = true);
        self.refresh.clear();
    }

    /// Tokens for a signed-in user: access, ID token when `openid` was asked for, refresh.
    pub(super) fn issue_for_user(
        &mut self,
        client: &OidcClient,
        user: &IamSandboxUser,
        scope: &str,
        nonce: Option<&str>,
    ) -> Result<Tokens, KeyError> {
        let ttl = self.config.access_token_ttl.as_secs() as i64;
        let access = self.access_claims(Subject::User(user), client, scope, None, ttl);
        let access_token = self.record_access(access, client.access_tokens, false)?;

        let id_token = match scope.split(' ').any(|s| s == "openid") {
            true => Some(self.id_token(user, client, nonce, ttl)?),
            false => None,
        };
        let refresh_token = random_token(32);
        self.refresh.insert(
            refresh_token.clone(),
            RefreshGrant {
                client_id: client.client_id.clone(),
                user_dn: user.dn.clone(),
                scope: scope.to_owned(),
                expires_at: Self::now() + self.config.refresh_token_ttl.as_secs() as i64,
            },
        );
        Ok(Tokens {
            access_token,
            expires_in: ttl,
            scope: scope.to_owned(),
            id_token,
            refresh_token: Some(refresh_token),
        })
    }

    /// An access token for the client itself (client credentials).
    pub(super) fn issue_for_client(
        &mut self,
        client: &OidcClient,
        scope: &str,
    ) -> Result<Tokens, KeyError> {
        let ttl = self.config.access_token_ttl.as_secs() as i64;
        let claims = self.access_claims(Subject::Client(client), client, scope, None, ttl);
        Ok(Tokens {
            access_token: self.record_access(claims, client.access_tokens, false)?,
            expires_in: ttl,
            scope: scope.to_owned(),
            id_token: None,
            refresh_token: None,
        })
    }

    /// The test helper behind [`crate::sandbox::iam::IamSandbox::issue_token`].
    pub(in crate::sandbox::iam) fn mint(&mut self, spec: &TokenSpec) -> anyhow::Result<String> {
        let user = self
            .user_by_name(&spec.username)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no user {} in the stand-in", spec.username))?;
        let mut client = self
            .config
            .clients
            .first()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the stand-in has no OIDC client"))?;
        if let Some(audience) = &spec.audience {
            client.audience = audience.clone();
        }
        let claims = self.access_claims(
            Subject::User(&user),
            &client,
            "openid",
            spec.roles.as_deref(),
            spec.lifetime_secs,
        );
        Ok(self.record_access(claims, spec.format, spec.foreign_key)?)
    }

    fn access_claims(
        &self,
        subject: Subject<'_>,
        client: &OidcClient,
        scope: &str,
        roles: Option<&[String]>,
        ttl: i64,
    ) -> Value {
        let now = Self::now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("aud".into(), json!(client.audience));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + ttl));
        claims.insert("jti".into(), json!(new_id()));
        claims.insert("client_id".into(), json!(client.client_id));
        claims.insert("scope".into(), json!(scope));
        let own_roles = match subject {
            Subject::User(user) => {
                claims.insert("sub".into(), json!(user.id));
                claims.insert("email".into(), json!(user.email));
                claims.insert("preferred_username".into(), json!(user.username));
                &user.roles
            }
            Subject::Client(client) => {
                claims.insert("sub".into(), json!(client.client_id));
                &client.roles
            }
        };
        claims.insert(
            self.config.roles_claim.clone(),
            json!(roles.unwrap_or(own_roles)),
        );
        Value::Object(claims)
    }

    fn id_token(
        &self,
        user: &IamSandboxUser,
        client: &OidcClient,
        nonce: Option<&str>,
        ttl: i64,
    ) -> Result<String, KeyError> {
        let now = Self::now();
        let mut claims = json!({
            "iss": self.issuer,
            "sub": user.id,
            "aud": client.client_id,
            "iat": now,
            "exp": now + ttl,
            "email": user.email,
            "name": user.display_name,
            "preferred_username": user.username,
        });
        claims[&self.config.roles_claim] = json!(user.roles);
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        self.keys.signing().sign(&claims, "JWT", None)
    }

    /// Turns claims into a token of the given format and records it.
    fn record_access(
        &mut self,
        claims: Value,
        format: AccessTokenFormat,
        foreign_key: bool,
    ) -> Result<String, KeyError> {
        let token = match (format, foreign_key) {
            (AccessTokenFormat::Jwt, false) => self.keys.signing().sign(&claims, "at+jwt", None)?,
            (AccessTokenFormat::Jwt, true) => {
                let kid = self.keys.signing().kid.clone();
                self.keys.foreign().sign(&claims, "at+jwt", Some(&kid))?
            }
            (AccessTokenFormat::Encrypted, _) => jwe_shaped(),
        };
        let expires_at = claims["exp"].as_i64().unwrap_or_default();
        // Forged tokens are not the provider's: introspection must not know them.
        if !foreign_key {
            self.tokens.insert(
                token.clone(),
                IssuedToken {
                    claims,
                    expires_at,
                    revoked: false,
                },
            );
        }
        Ok(token)
    }
}

/// `len` random bytes, base64url.
pub(super) fn random_token(len: usize) -> String {
    let bytes: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWE's shape (header, encrypted key, IV, ciphertext, tag) with random content:
/// the relying party sees what NAM's encrypted access tokens look like and cannot read it.
fn jwe_shaped() -> String {
    let header =
        json!({ "alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "nam-encryption", "typ": "JWT" });
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    format!(
        "{header}.{}.{}.{}.{}",
        random_token(256),
        random_token(12),
        random_token(96),
        random_token(16)
    )
}
