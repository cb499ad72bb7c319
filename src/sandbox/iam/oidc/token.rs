//! The token endpoint (authorization code with PKCE, refresh token, client credentials) and
//! RFC 7662 introspection, both behind client authentication.
//!
//! Invariants: a code is spent on its first use, right or wrong; its client, redirect URI and
//! PKCE verifier (S256) must all match; a refresh token is spent on use and only its own
//! client may use it; introspection never says more than `{"active":false}` about a token it
//! does not hold live.

use std::collections::HashMap;

use actix_web::{http::header::CACHE_CONTROL, web, HttpRequest, HttpResponse};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{
    client::{authenticate, form, OAuthError},
    issue::Tokens,
    OidcClient, OidcInner, OidcState,
};

pub(super) async fn token(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<OidcState>,
) -> HttpResponse {
    let answer = form(&body).and_then(|form| {
        state.with(|s| {
            let client = authenticate(s, &request, &form)?;
            grant(s, &client, &form)
        })
    });
    match answer {
        Ok(tokens) => {
            let mut body = json!({
                "access_token": tokens.access_token,
                "token_type": "Bearer",
                "expires_in": tokens.expires_in,
                "scope": tokens.scope,
            });
            if let Some(id_token) = tokens.id_token {
                body["id_token"] = json!(id_token);
            }
            if let Some(refresh) = tokens.refresh_token {
                body["refresh_token"] = json!(refresh);
            }
            HttpResponse::Ok()
                .insert_header((CACHE_CONTROL, "no-store"))
                .json(body)
        }
        Err(error) => error.answer(),
    }
}

fn grant(
    s: &mut OidcInner,
    client: &OidcClient,
    form: &HashMap<String, String>,
) -> Result<Tokens, OAuthError> {
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match field("grant_type") {
        Some("authorization_code") => authorization_code(s, client, field),
        Some("refresh_token") => refresh(s, client, field),
        Some("client_credentials") => {
            Ok(s.issue_for_client(client, field("scope").unwrap_or_default())?)
        }
        Some(other) => Err(OAuthError::new(
            "unsupported_grant_type",
            format!("grant type {other} is not supported"),
        )),
        None => Err(OAuthError::new("invalid_request", "grant_type is missing")),
    }
}

type Grant = Result<Tokens, OAuthError>;

fn authorization_code<'a>(
    s: &mut OidcInner,
    client: &OidcClient,
    field: impl Fn(&str) -> Option<&'a str>,
) -> Grant {
    let refuse = |code, text: &str| Err(OAuthError::new(code, text));
    let (Some(code), Some(redirect_uri), Some(verifier)) =
        (field("code"), field("redirect_uri"), field("code_verifier"))
    else {
        return refuse(
            "invalid_request",
            "code, redirect_uri and code_verifier are required",
        );
    };
    let Some(pending) = s.take_code(code) else {
        return refuse("invalid_grant", "the code is unknown or was already used");
    };

    if pending.expires_at <= OidcInner::now() {
        return refuse("invalid_grant", "the code has expired");
    }
    if pending.client_id != client.client_id {
        return refuse("invalid_grant", "the code was issued to another client");
    }
    if pending.redirect_uri != redirect_uri {
        return refuse(
            "invalid_grant",
            "redirect_uri differs from the authorization request",
        );
    }
    if !valid_verifier(verifier) {
        return refuse(
            "invalid_request",
            "code_verifier must be 43 to 128 unreserved characters",
        );
    }
    if s256(verifier) != pending.challenge {
        return refuse(
            "invalid_grant",
            "the PKCE verifier does not match the challenge",
        );
    }
    let Some(user) = s.user_by_dn(&pending.user_dn).cloned() else {
        return refuse("invalid_grant", "the user no longer exists");
    };
    Ok(s.issue_for_user(client, &user, &pending.scope, pending.nonce.as_deref())?)
}

fn refresh<'a>(
    s: &mut OidcInner,
    client: &OidcClient,
    field: impl Fn(&str) -> Option<&'a str>,
) -> Grant {
    let refuse = |text: &str| Err(OAuthError::new("invalid_grant", text));
    let Some(token) = field("refresh_token") else {
        return Err(OAuthError::new(
            "invalid_request",
            "refresh_token is missing",
        ));
    };
    let Some(grant) = s.take_refresh(token) else {
        return refuse("the refresh token is unknown or was already used");
    };
    if grant.expires_at <= OidcInner::now() || grant.client_id != client.client_id {
        return refuse("the refresh token has expired or belongs to another client");
    }
    let Some(user) = s.user_by_dn(&grant.user_dn).cloned() else {
        return refuse("the user no longer exists");
    };
    Ok(s.issue_for_user(client, &user, &grant.scope, None)?)
}

pub(super) async fn introspect(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<OidcState>,
) -> HttpResponse {
    state.with(|s| s.introspections += 1);
    let answer = form(&body).and_then(|form| {
        state.with(|s| {
            authenticate(s, &request, &form)?;
            let token = form
                .get("token")
                .filter(|t| !t.is_empty())
                .ok_or_else(|| OAuthError::new("invalid_request", "token is missing"))?;
            Ok(introspection(s, token))
        })
    });
    match answer {
        Ok(body) => HttpResponse::Ok()
            .insert_header((CACHE_CONTROL, "no-store"))
            .json(body),
        Err(error) => error.answer(),
    }
}

/// RFC 7662 §2.2: the token's claims with `active: true`, or only `active: false`.
fn introspection(s: &OidcInner, token: &str) -> Value {
    match s.active_claims(token) {
        Some(claims) => {
            let mut body = claims.clone();
            body["active"] = json!(true);
            body["token_type"] = json!("Bearer");
            body
        }
        None => json!({ "active": false }),
    }
}

/// BASE64URL(SHA-256(verifier)), RFC 7636 §4.2.
pub(super) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}
