//! OSP's token endpoint: the password and refresh-token grants with HTTP Basic client
//! authentication, answered in RFC 6749 shapes.
//!
//! Invariants: a wrong or missing client is 401 `invalid_client`; wrong user credentials or
//! an unknown, spent or expired refresh token are 400 `invalid_grant`; refresh tokens are
//! single-use, each grant issuing a new pair.

use std::collections::HashMap;

use actix_web::{
    http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE},
    web, HttpRequest, HttpResponse,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::json;

use super::state::IamState;

pub(super) const TOKEN_PATH: &str = "/osp/a/idm/auth/oauth2/token";

pub(super) async fn token(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<IamState>,
) -> HttpResponse {
    let client = basic_credentials(&request);
    let known_client = state.with(|s| {
        client
            .as_ref()
            .is_some_and(|(id, secret)| *id == s.client_id && *secret == s.client_secret)
    });
    if !known_client {
        return HttpResponse::Unauthorized()
            .insert_header((WWW_AUTHENTICATE, "Basic realm=\"osp\""))
            .json(json!({ "error": "invalid_client" }));
    }

    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let grant_type = field("grant_type");

    let user = match grant_type {
        Some("password") => match (field("username"), field("password")) {
            (Some(username), Some(password)) => state.with(|s| s.login(username, password)),
            _ => return refusal("invalid_request"),
        },
        Some("refresh_token") => match field("refresh_token") {
            Some(refresh) => state.with(|s| s.redeem(refresh)),
            None => return refusal("invalid_request"),
        },
        Some(_) => return refusal("unsupported_grant_type"),
        None => return refusal("invalid_request"),
    };
    let (Some(user), Some(grant_type)) = (user, grant_type) else {
        return refusal("invalid_grant");
    };

    let (access, refresh, ttl) = state.with(|s| {
        let (access, refresh) = s.issue(&user, grant_type);
        (access, refresh, s.token_ttl)
    });
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ttl.as_secs(),
            "refresh_token": refresh,
        }))
}

fn refusal(error: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(json!({ "error": error }))
}

/// `(client_id, client_secret)` from `Authorization: Basic base64(id:secret)`, as sent.
pub(super) fn basic_credentials(request: &HttpRequest) -> Option<(String, String)> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}
