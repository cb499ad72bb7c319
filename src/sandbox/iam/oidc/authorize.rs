//! The authorization endpoint: `GET` checks the request and shows the sign-in form, `POST`
//! (the form) checks the credentials and redirects back with a code.
//!
//! Errors follow RFC 6749 §4.1.2.1: an unknown client or a redirect URI that is missing or
//! not registered gets a 400 page and no redirect; every other error is sent back to the
//! redirect URI as `error=...&state=...`. The stand-in keeps no sign-in session, so
//! `prompt=none` is answered with `login_required` and every authorization shows the form.

use std::collections::HashMap;

use actix_web::{
    http::header::{CACHE_CONTROL, LOCATION},
    web, HttpResponse,
};

use super::{
    issue::PendingCode,
    page::{error_page, sign_in_page},
    OidcInner, OidcState,
};

/// The parameters of a valid authorization request.
pub(super) struct AuthzRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub nonce: Option<String>,
}

impl AuthzRequest {
    /// The request's parameters, for the form's hidden fields.
    pub fn hidden_fields(&self) -> Vec<(&'static str, &str)> {
        let mut fields = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", self.scope.as_str()),
            ("code_challenge", self.code_challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if let Some(state) = &self.state {
            fields.push(("state", state));
        }
        if let Some(nonce) = &self.nonce {
            fields.push(("nonce", nonce));
        }
        fields
    }
}

/// Why an authorization request is refused.
enum Refusal {
    /// The redirect URI cannot be trusted: answer with a page.
    Page(String),
    /// Tell the client through its redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

pub(super) async fn show(
    query: web::Query<Vec<(String, String)>>,
    state: web::Data<OidcState>,
) -> HttpResponse {
    match state.with(|s| validate(s, &query.into_inner())) {
        Ok(request) => sign_in_page(&request, None),
        Err(refusal) => refuse(refusal, &state),
    }
}

pub(super) async fn submit(body: web::Bytes, state: web::Data<OidcState>) -> HttpResponse {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let request = match state.with(|s| validate(s, &params)) {
        Ok(request) => request,
        Err(refusal) => return refuse(refusal, &state),
    };
    let field = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    };

    let signed_in = state.with(|s| {
        let user = s
            .users
            .iter()
            .find(|u| {
                u.username == field("username") && u.password.as_deref() == Some(field("password"))
            })?
            .dn
            .clone();
        let expires_at = OidcInner::now() + s.config.code_ttl.as_secs() as i64;
        let code = s.save_code(PendingCode {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            challenge: request.code_challenge.clone(),
            user_dn: user,
            scope: request.scope.clone(),
            nonce: request.nonce.clone(),
            expires_at,
        });
        Some((code, s.issuer.clone()))
    });
    let Some((code, issuer)) = signed_in else {
        return sign_in_page(&request, Some("Wrong username or password."));
    };

    let mut pairs = vec![("code", code.as_str()), ("iss", issuer.as_str())];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    redirect(&request.redirect_uri, &pairs)
}

fn validate(s: &OidcInner, params: &[(String, String)]) -> Result<AuthzRequest, Refusal> {
    let mut map: HashMap<&str, &str> = HashMap::new();
    let mut repeated = None;
    for (name, value) in params {
        if map.insert(name, value).is_some() {
            repeated = Some(name.clone());
        }
    }
    let get = |name: &str| map.get(name).copied().filter(|v| !v.is_empty());

    let Some(client) = get("client_id").and_then(|id| s.client(id)) else {
        return Err(Refusal::Page(
            "The client is missing or not registered.".into(),
        ));
    };
    let Some(redirect_uri) = get("redirect_uri").filter(|uri| {
        client
            .redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }) else {
        return Err(Refusal::Page(
            "The redirect URI is missing or not registered for this client.".into(),
        ));
    };
    let state = get("state").map(str::to_owned);
    let refuse = |error, description: &str| Refusal::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error,
        description: description.to_owned(),
    };

    if let Some(name) = repeated {
        return Err(refuse(
            "invalid_request",
            &format!("parameter {name} is repeated"),
        ));
    }
    if get("response_type") != Some("code") {
        return Err(refuse(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    let Some(challenge) = get("code_challenge") else {
        return Err(refuse("invalid_request", "PKCE code_challenge is required"));
    };
    if get("code_challenge_method") != Some("S256") {
        return Err(refuse(
            "invalid_request",
            "code_challenge_method must be S256",
        ));
    }
    if challenge.len() != 43 {
        return Err(refuse(
            "invalid_request",
            "code_challenge is not a SHA-256 in base64url",
        ));
    }
    if get("prompt").is_some_and(|prompt| prompt.split(' ').any(|p| p == "none")) {
        return Err(refuse("login_required", "the user has to sign in"));
    }
    Ok(AuthzRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope: get("scope").unwrap_or("openid").to_owned(),
        state,
        code_challenge: challenge.to_owned(),
        nonce: get("nonce").map(str::to_owned),
    })
}

fn refuse(refusal: Refusal, state: &OidcState) -> HttpResponse {
    match refusal {
        Refusal::Page(text) => error_page(&text),
        Refusal::Redirect {
            redirect_uri,
            state: client_state,
            error,
            description,
        } => {
            let issuer = state.with(|s| s.issuer.clone());
            let mut pairs = vec![
                ("error", error),
                ("error_description", description.as_str()),
                ("iss", issuer.as_str()),
            ];
            if let Some(client_state) = &client_state {
                pairs.push(("state", client_state));
            }
            redirect(&redirect_uri, &pairs)
        }
    }
}

/// 303 to `uri` with `pairs` added to its query (registered URIs are valid URLs).
pub(super) fn redirect(uri: &str, pairs: &[(&str, &str)]) -> HttpResponse {
    let Ok(mut target) = url::Url::parse(uri) else {
        return error_page("The redirect URI is not a URL.");
    };
    target.query_pairs_mut().extend_pairs(pairs);
    HttpResponse::SeeOther()
        .insert_header((LOCATION, target.as_str()))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish()
}
