//! Userinfo (OIDC Core §5.3) for a live access token, and end session, which only sends the
//! browser back since the stand-in keeps no sign-in session.

use actix_web::{
    http::header::{AUTHORIZATION, WWW_AUTHENTICATE},
    web, HttpRequest, HttpResponse,
};
use serde_json::{json, Value};

use super::{authorize::redirect, page::escape, OidcState};

pub(super) async fn userinfo(request: HttpRequest, state: web::Data<OidcState>) -> HttpResponse {
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());

    let claims = state.with(|s| {
        let claims = s.active_claims(token.as_deref()?)?.clone();
        let user = s
            .users
            .iter()
            .find(|u| Some(u.id.as_str()) == claims["sub"].as_str());
        let mut info = json!({ "sub": claims["sub"] });
        if let Some(user) = user {
            info["email"] = json!(user.email);
            info["name"] = json!(user.display_name);
            info["preferred_username"] = json!(user.username);
        }
        let roles_claim = &s.config.roles_claim;
        info[roles_claim] = claims.get(roles_claim).cloned().unwrap_or(Value::Null);
        Some(info)
    });
    match claims {
        Some(info) => HttpResponse::Ok().json(info),
        None => HttpResponse::Unauthorized()
            .insert_header((
                WWW_AUTHENTICATE,
                "Bearer error=\"invalid_token\", error_description=\"the access token is not active\"",
            ))
            .finish(),
    }
}

pub(super) async fn end_session(
    query: web::Query<Vec<(String, String)>>,
    state: web::Data<OidcState>,
) -> HttpResponse {
    let get = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let target = get("post_logout_redirect_uri").filter(|uri| {
        state.with(|s| {
            s.config
                .clients
                .iter()
                .any(|c| c.post_logout_redirect_uris.iter().any(|u| u == uri))
        })
    });
    match target {
        Some(uri) => {
            let pairs: Vec<(&str, &str)> = get("state").map(|s| ("state", s)).into_iter().collect();
            redirect(uri, &pairs)
        }
        None => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\
</head><body><h1>{0}</h1></body></html>",
                escape("Signed out")
            )),
    }
}
