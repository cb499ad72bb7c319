//! Admin API errors and their answers: 401 with `WWW-Authenticate: Bearer` for no or bad
//! token, 403 `insufficient_role`, 400 naming the bad parameter, all as JSON.

use actix_web::{http::header::WWW_AUTHENTICATE, http::StatusCode, HttpResponse, ResponseError};
use serde_json::json;

use crate::{auth::AuthError, store::StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("parameter {name}: {detail}")]
    BadParameter { name: String, detail: String },
    #[error("{0}")]
    NotFound(String),
    #[error("the admin API is not configured (set OIDC_ISSUER)")]
    NotConfigured,
    #[error("internal error")]
    Store(#[from] StoreError),
}

impl AdminError {
    pub fn bad(name: &str, detail: impl Into<String>) -> AdminError {
        AdminError::BadParameter {
            name: name.to_owned(),
            detail: detail.into(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AdminError::Auth(error) => error.code(),
            AdminError::BadParameter { .. } => "invalid_parameter",
            AdminError::NotFound(_) => "not_found",
            AdminError::NotConfigured => "admin_api_not_configured",
            AdminError::Store(_) => "internal_error",
        }
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::Auth(AuthError::InsufficientRole(_)) => StatusCode::FORBIDDEN,
            AdminError::Auth(AuthError::Provider(_)) | AdminError::NotConfigured => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AdminError::Auth(_) => StatusCode::UNAUTHORIZED,
            AdminError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AdminError::Store(error) = self {
            tracing::error!(%error, "admin API store error");
        }
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        if let AdminError::BadParameter { name, .. } = self {
            body["parameter"] = json!(name);
        }
        let mut response = HttpResponse::build(self.status_code());
        // RFC 6750 §3: no error code when the request carried no token at all.
        let challenge = match self {
            AdminError::Auth(AuthError::Missing) => {
                Some("Bearer realm=\"clickup-iam-router\"".to_owned())
            }
            AdminError::Auth(AuthError::InsufficientRole(_)) => Some(
                "Bearer realm=\"clickup-iam-router\", error=\"insufficient_scope\"".to_owned(),
            ),
            AdminError::Auth(AuthError::Provider(_)) => None,
            AdminError::Auth(error) => Some(format!(
                "Bearer realm=\"clickup-iam-router\", error=\"invalid_token\", error_description=\"{}\"",
                error.code()
            )),
            _ => None,
        };
        if let Some(challenge) = challenge {
            response.insert_header((WWW_AUTHENTICATE, challenge));
        }
        if let AdminError::Auth(AuthError::InsufficientRole(role)) = self {
            body["required_role"] = json!(role);
        }
        response.json(body)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    #[test]
    fn each_refusal_has_its_status_code_and_challenge() {
        // error, status, error code, challenge contains
        let cases = [
            (
                AdminError::Auth(AuthError::Missing),
                401,
                "missing_token",
                Some("realm"),
            ),
            (
                AdminError::Auth(AuthError::Expired),
                401,
                "expired_token",
                Some("invalid_token"),
            ),
            (
                AdminError::Auth(AuthError::BadSignature),
                401,
                "bad_signature",
                Some("invalid_token"),
            ),
            (
                AdminError::Auth(AuthError::InsufficientRole("admin".into())),
                403,
                "insufficient_role",
                Some("insufficient_scope"),
            ),
            (
                AdminError::Auth(AuthError::Provider("down".into())),
                503,
                "identity_provider_unavailable",
                None,
            ),
            (
                AdminError::bad("limit", "too big"),
                400,
                "invalid_parameter",
                None,
            ),
            (
                AdminError::NotConfigured,
                503,
                "admin_api_not_configured",
                None,
            ),
        ];
        for (error, status, code, challenge) in cases {
            let response = error.error_response();
            assert_eq!(response.status().as_u16(), status, "{error}");
            let header = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .map(|v| v.to_str().unwrap().to_owned());
            match challenge {
                Some(part) => assert!(header.unwrap().contains(part), "{error}"),
                None => assert!(header.is_none(), "{error}"),
            }
            let bytes = response.into_body().try_into_bytes().unwrap();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(body["error"], code);
        }
    }
}
