//! Admin API errors and their answers: 401 with `WWW-Authenticate: Bearer` for no or bad
//! token, 403 `insufficient_role`, 400 naming the bad parameter, all as JSON. Caller input
//! echoed in an answer (a parameter's name or value, a task id) is bounded by [`bounded`].

use actix_web::{
    http::header::{RETRY_AFTER, WWW_AUTHENTICATE},
    http::StatusCode,
    HttpResponse, ResponseError,
};
use serde_json::json;

use crate::{auth::AuthError, clickup::ClickUpError, store::StoreError};

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
    /// ClickUp did not answer a read the request needs.
    #[error("ClickUp could not be read: {0}")]
    ClickUp(String),
    /// The request conflicts with the object's state (a dead letter that is not open).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The broker did not confirm a publish; nothing changed.
    #[error("{0}")]
    Broker(String),
}

impl AdminError {
    pub fn bad(name: &str, detail: impl Into<String>) -> AdminError {
        AdminError::BadParameter {
            name: name.to_owned(),
            detail: detail.into(),
        }
    }

    /// ClickUp's failure, without its own error text (it can carry internals, e.g. a
    /// database message): the status and ECODE only.
    pub fn clickup(error: &ClickUpError) -> AdminError {
        let summary = match error {
            ClickUpError::Api { status, ecode, .. } => format!("ClickUp answered {status} {ecode}"),
            ClickUpError::Transport(_) => "ClickUp could not be reached".to_owned(),
            ClickUpError::RateLimited(wait) => {
                format!("ClickUp's rate limit holds for {} s more", wait.as_secs())
            }
            ClickUpError::Contract(_) => "ClickUp's answer does not follow its contract".to_owned(),
            ClickUpError::EnterpriseRequired { .. } => "ClickUp's plan refuses the read".to_owned(),
        };
        tracing::warn!(%error, "admin API read from ClickUp failed");
        AdminError::ClickUp(summary)
    }

    fn code(&self) -> &'static str {
        match self {
            AdminError::Auth(error) => error.code(),
            AdminError::BadParameter { .. } => "invalid_parameter",
            AdminError::NotFound(_) => "not_found",
            AdminError::NotConfigured => "admin_api_not_configured",
            AdminError::Store(_) => "internal_error",
            AdminError::ClickUp(_) => "clickup_unavailable",
            AdminError::Conflict { code, .. } => code,
            AdminError::Broker(_) => "broker_unavailable",
        }
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::Auth(AuthError::InsufficientRole(_)) => StatusCode::FORBIDDEN,
            AdminError::Auth(AuthError::Provider(_) | AuthError::Busy { .. })
            | AdminError::NotConfigured
            | AdminError::Broker(_) => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::Auth(_) => StatusCode::UNAUTHORIZED,
            AdminError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AdminError::ClickUp(_) => StatusCode::BAD_GATEWAY,
            AdminError::Conflict { .. } => StatusCode::CONFLICT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AdminError::Store(error) = self {
            tracing::error!(%error, "admin API store error");
        }
        let mut body = json!({ "error": self.code(), "message": bounded(&self.to_string()) });
        if let AdminError::BadParameter { name, .. } = self {
            body["parameter"] = json!(bounded(name));
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
            AdminError::Auth(AuthError::Provider(_) | AuthError::Busy { .. }) => None,
            AdminError::Auth(error) => Some(format!(
                "Bearer realm=\"clickup-iam-router\", error=\"invalid_token\", error_description=\"{}\"",
                error.code()
            )),
            _ => None,
        };
        if let Some(challenge) = challenge {
            response.insert_header((WWW_AUTHENTICATE, challenge));
        }
        if let AdminError::Auth(AuthError::Busy { retry_after_secs }) = self {
            response.insert_header((RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let AdminError::Auth(AuthError::InsufficientRole(role)) = self {
            body["required_role"] = json!(role);
        }
        response.json(body)
    }
}

/// Longest run of non-space characters an answer repeats (a caller's id, name or value).
const MAX_ECHOED_WORD: usize = 64;
/// Longest message an answer carries.
const MAX_MESSAGE: usize = 256;

/// `message` with each word past [`MAX_ECHOED_WORD`] characters cut short, and the whole past
/// [`MAX_MESSAGE`], each with an ellipsis: the one place every admin answer's text passes, so
/// no caller input is echoed at length whichever error carries it.
fn bounded(message: &str) -> String {
    let words: Vec<String> = message
        .split(' ')
        .map(|w| cut(w, MAX_ECHOED_WORD))
        .collect();
    cut(&words.join(" "), MAX_MESSAGE)
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
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
                AdminError::Auth(AuthError::Busy {
                    retry_after_secs: 3,
                }),
                503,
                "introspection_busy",
                None,
            ),
            (
                AdminError::Auth(AuthError::Invalid("too long")),
                401,
                "invalid_token",
                Some("invalid_token"),
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
            (
                AdminError::Conflict {
                    code: "not_open",
                    message: "dead letter 1 is replayed, not open".into(),
                },
                409,
                "not_open",
                None,
            ),
            (
                AdminError::Broker("not confirmed".into()),
                503,
                "broker_unavailable",
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

    #[test]
    fn a_busy_introspection_says_when_to_retry() {
        let busy = AdminError::Auth(AuthError::Busy {
            retry_after_secs: 7,
        });
        let response = busy.error_response();
        assert_eq!(response.headers().get(RETRY_AFTER).unwrap(), "7");
    }

    #[test]
    fn clickup_failures_say_the_status_and_ecode_but_not_clickups_text() {
        let error = ClickUpError::Api {
            status: 500,
            ecode: "SHARD_001".into(),
            message: "invalid input syntax for integer: \"99999999999999999999\"".into(),
        };
        let answer = AdminError::clickup(&error);
        assert_eq!(
            answer.to_string(),
            "ClickUp could not be read: ClickUp answered 500 SHARD_001"
        );
        assert_eq!(answer.status_code(), StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn echoed_input_is_bounded() {
        let long = "9".repeat(5000);
        let word = |n: usize| format!("{}…", "9".repeat(n));
        let many_words = "ab ".repeat(200);
        // message, bounded
        let cases = [
            (
                "parameter limit: expected 1 to 500".to_owned(),
                "parameter limit: expected 1 to 500".to_owned(),
            ),
            (
                format!("no access request for task {long}"),
                format!("no access request for task {}", word(64)),
            ),
            (
                format!("\"{}\"", "é".repeat(70)),
                format!("\"{}…", "é".repeat(63)),
            ),
            (many_words.clone(), format!("{}…", &many_words[..256])),
        ];
        for (message, expected) in cases {
            assert_eq!(bounded(&message), expected, "{message:.80}");
        }

        let error = AdminError::bad(&long, "unknown parameter; known: limit");
        let body = error.error_response().into_body().try_into_bytes().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["parameter"], json!(word(64)));
        assert_eq!(
            body["message"],
            json!(format!(
                "parameter {} unknown parameter; known: limit",
                word(64)
            ))
        );
    }
}
