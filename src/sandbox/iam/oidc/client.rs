//! Client authentication at the token and introspection endpoints: `client_secret_basic`
//! (RFC 6749 §2.3.1: id and secret form-encoded, then Basic) or `client_secret_post`, never
//! both at once; and the RFC 6749 §5.2 error answers.

use std::collections::HashMap;

use actix_web::{
    http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE},
    HttpRequest, HttpResponse,
};
use serde_json::json;

use super::{OidcClient, OidcInner};

/// Why a request was refused, in RFC 6749 §5.2 terms.
#[derive(Debug)]
pub(super) struct OAuthError {
    pub code: &'static str,
    pub description: String,
    /// The client tried Basic authentication (401 then names the scheme).
    pub basic: bool,
}

impl OAuthError {
    pub fn new(code: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
            basic: false,
        }
    }

    pub fn answer(&self) -> HttpResponse {
        let mut response = match self.code {
            "invalid_client" => HttpResponse::Unauthorized(),
            _ => HttpResponse::BadRequest(),
        };
        if self.code == "invalid_client" && self.basic {
            response.insert_header((WWW_AUTHENTICATE, "Basic realm=\"nam\""));
        }
        response
            .insert_header((CACHE_CONTROL, "no-store"))
            .json(json!({ "error": self.code, "error_description": self.description }))
    }
}

impl From<super::keys::KeyError> for OAuthError {
    fn from(error: super::keys::KeyError) -> OAuthError {
        OAuthError::new("server_error", error.to_string())
    }
}

/// The request's form body as a map; a repeated parameter is an error (RFC 6749 §3.1).
pub(super) fn form(body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut form = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(body).into_owned() {
        if form.insert(name.clone(), value).is_some() {
            return Err(OAuthError::new(
                "invalid_request",
                format!("parameter {name} is repeated"),
            ));
        }
    }
    Ok(form)
}

/// The registered client these credentials authenticate.
pub(super) fn authenticate(
    state: &OidcInner,
    request: &HttpRequest,
    form: &HashMap<String, String>,
) -> Result<OidcClient, OAuthError> {
    let basic = request.headers().get(AUTHORIZATION).is_some();
    let posted = form.contains_key("client_secret");
    let (id, secret) = match (basic, posted) {
        (true, true) => {
            return Err(OAuthError::new(
                "invalid_request",
                "use one client authentication method, not two",
            ))
        }
        (true, false) => basic_credentials(request).ok_or(OAuthError {
            code: "invalid_client",
            description: "malformed Basic credentials".into(),
            basic: true,
        })?,
        (false, true) => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
        (false, false) => {
            return Err(OAuthError::new(
                "invalid_client",
                "client authentication is required",
            ))
        }
    };

    let client = state
        .client(&id)
        .filter(|client| client.client_secret == secret)
        .ok_or(OAuthError {
            code: "invalid_client",
            description: "unknown client or wrong secret".into(),
            basic,
        })?;
    if basic && form.get("client_id").is_some_and(|posted| *posted != id) {
        return Err(OAuthError::new(
            "invalid_request",
            "client_id does not match the authenticated client",
        ));
    }
    Ok(client.clone())
}

/// `(client_id, client_secret)` from `Authorization: Basic`, each form-decoded as RFC 6749
/// section 2.3.1 asks of an OAuth client.
fn basic_credentials(request: &HttpRequest) -> Option<(String, String)> {
    let (id, secret) = crate::sandbox::iam::oauth::basic_credentials(request)?;
    Some((form_decode(&id), form_decode(&secret)))
}

fn form_decode(value: &str) -> String {
    url::form_urlencoded::parse(format!("v={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
