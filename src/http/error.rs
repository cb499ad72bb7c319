//! Receiver errors and their HTTP answers: a status and a JSON body naming the problem.
//!
//! ClickUp suspends a webhook at once on 401 or 410, so ClickUp refusals are 403; the IAM's
//! Standard Webhooks refusals are 401 as that scheme expects.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    #[error("the request body did not arrive within {0:?}")]
    BodyTimeout(std::time::Duration),
    #[error("body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the webhook named in the body is not configured")]
    UnknownWebhook,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{field}: {detail}")]
    Invalid { field: String, detail: String },
    #[error("content type {0:?} is not accepted")]
    UnsupportedMediaType(String),
    #[error("header {0} must be given once")]
    DuplicateHeader(&'static str),
    #[error("the request's headers are larger than {limit} bytes")]
    HeadersTooLarge { limit: usize },
    #[error("the body nests arrays and objects deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("event could not be queued: {0}")]
    Unavailable(String),
    #[error("the same event is being queued by another request")]
    InFlight,
    #[error("internal error")]
    Internal,
}

impl ReceiverError {
    /// The status of a refusal of the attempt itself (4xx); `None` for failures to queue.
    pub(crate) fn refusal_status(&self) -> Option<u16> {
        let status = self.status_code();
        status.is_client_error().then_some(status.as_u16())
    }

    /// The error's code: the JSON body's `error`, and the metrics' refusal reason.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            ReceiverError::BodyTimeout(_) => "request_timeout",
            ReceiverError::TooLarge { .. } => "payload_too_large",
            ReceiverError::Malformed(_) => "malformed_json",
            ReceiverError::Forbidden(_) => "signature_rejected",
            ReceiverError::UnknownWebhook => "unknown_webhook",
            ReceiverError::Unauthorized(_) => "signature_rejected",
            ReceiverError::Invalid { .. } => "invalid_event",
            ReceiverError::UnsupportedMediaType(_) => "unsupported_media_type",
            ReceiverError::DuplicateHeader(_) => "duplicate_header",
            ReceiverError::HeadersTooLarge { .. } => "headers_too_large",
            ReceiverError::TooDeep { .. } => "nesting_too_deep",
            ReceiverError::Unavailable(_) => "broker_unavailable",
            ReceiverError::InFlight => "in_flight",
            ReceiverError::Internal => "internal_error",
        }
    }
}

impl ResponseError for ReceiverError {
    fn status_code(&self) -> StatusCode {
        match self {
            ReceiverError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ReceiverError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ReceiverError::Malformed(_)
            | ReceiverError::Invalid { .. }
            | ReceiverError::DuplicateHeader(_)
            | ReceiverError::TooDeep { .. } => StatusCode::BAD_REQUEST,
            ReceiverError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ReceiverError::Forbidden(_) | ReceiverError::UnknownWebhook => StatusCode::FORBIDDEN,
            ReceiverError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ReceiverError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ReceiverError::Unavailable(_) | ReceiverError::InFlight => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ReceiverError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        match self {
            ReceiverError::Invalid { field, .. } => body["field"] = json!(field),
            ReceiverError::DuplicateHeader(name) => body["header"] = json!(name),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(
            self,
            ReceiverError::Unavailable(_) | ReceiverError::InFlight
        ) {
            response.insert_header(("Retry-After", "1"));
        }
        response.json(body)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    #[test]
    fn every_error_answers_json_with_its_status() {
        let cases = [
            (
                ReceiverError::TooLarge { limit: 10 },
                413,
                "payload_too_large",
            ),
            (
                ReceiverError::BodyTimeout(std::time::Duration::from_secs(1)),
                408,
                "request_timeout",
            ),
            (ReceiverError::Malformed("x".into()), 400, "malformed_json"),
            (
                ReceiverError::Forbidden("x".into()),
                403,
                "signature_rejected",
            ),
            (
                ReceiverError::Unauthorized("x".into()),
                401,
                "signature_rejected",
            ),
            (
                ReceiverError::Invalid {
                    field: "/data".into(),
                    detail: "x".into(),
                },
                400,
                "invalid_event",
            ),
            (
                ReceiverError::UnsupportedMediaType("text/plain".into()),
                415,
                "unsupported_media_type",
            ),
            (
                ReceiverError::Unavailable("down".into()),
                503,
                "broker_unavailable",
            ),
            (ReceiverError::InFlight, 503, "in_flight"),
            (
                ReceiverError::DuplicateHeader("x-signature"),
                400,
                "duplicate_header",
            ),
            (
                ReceiverError::HeadersTooLarge { limit: 16 },
                431,
                "headers_too_large",
            ),
            (
                ReceiverError::TooDeep { limit: 64 },
                400,
                "nesting_too_deep",
            ),
            (ReceiverError::Internal, 500, "internal_error"),
        ];
        for (error, status, code) in cases {
            let response = error.error_response();
            assert_eq!(response.status().as_u16(), status);

            let bytes = response.into_body().try_into_bytes().unwrap();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();

            assert_eq!(body["error"], code);
            assert!(!body["message"].as_str().unwrap().is_empty());
        }
    }
}
