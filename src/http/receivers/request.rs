//! What the receivers check of a request before its signature: header sizes, headers that
//! must come once, the content type, and the body within its time and size limits.

use actix_web::{http::header, web, HttpRequest};
use bytes::BytesMut;
use futures_util::StreamExt;

use crate::{
    http::ReceiverError,
    ingest::{depth, iam::Framing},
};

/// Largest total of header names and values a delivery may carry. ClickUp's and the IAM's
/// deliveries carry well under 2 KiB; actix itself stops reading headers at 128 KiB.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Headers each receiver reads; a second copy would make the answer depend on which one a
/// reader takes, so two copies are refused.
pub const CLICKUP_SINGLE: [&str; 2] = ["x-signature", "content-type"];
pub const IAM_SINGLE: [&str; 4] = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
];

/// Refuses oversized headers (431) and a second copy of any of `single` (400).
pub fn check_headers(request: &HttpRequest, single: &[&'static str]) -> Result<(), ReceiverError> {
    let headers = request.headers();
    let size: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return Err(ReceiverError::HeadersTooLarge {
            limit: MAX_HEADER_BYTES,
        });
    }

    match single
        .iter()
        .find(|name| headers.get_all(**name).count() > 1)
    {
        Some(name) => Err(ReceiverError::DuplicateHeader(name)),
        None => Ok(()),
    }
}

/// The media type of a Content-Type header, lower-cased, without parameters.
pub fn essence(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn content_type(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"))
}

/// ClickUp sends `application/json`; a delivery without Content-Type is read as JSON too.
pub fn clickup_content_type(request: &HttpRequest) -> Result<(), ReceiverError> {
    match essence(content_type(request)).as_str() {
        "application/json" => Ok(()),
        other => Err(ReceiverError::UnsupportedMediaType(bounded(other))),
    }
}

/// CloudEvents structured mode (`application/cloudevents+json`, or plain JSON) or batched mode.
pub fn framing(request: &HttpRequest) -> Result<Framing, ReceiverError> {
    framing_of(content_type(request))
}

fn framing_of(content_type: Option<&str>) -> Result<Framing, ReceiverError> {
    match essence(content_type).as_str() {
        "application/cloudevents+json" | "application/json" => Ok(Framing::Single),
        "application/cloudevents-batch+json" => Ok(Framing::Batch),
        other => Err(ReceiverError::UnsupportedMediaType(bounded(other))),
    }
}

/// A media type echoed in a refusal, cut to 64 characters.
fn bounded(media_type: &str) -> String {
    match media_type.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &media_type[..cut]),
        None => media_type.to_owned(),
    }
}

/// Refuses a body that nests deeper than [`depth::MAX_DEPTH`].
pub fn check_depth(body: &[u8]) -> Result<(), ReceiverError> {
    match depth::exceeds(body, depth::MAX_DEPTH) {
        true => Err(ReceiverError::TooDeep {
            limit: depth::MAX_DEPTH,
        }),
        false => Ok(()),
    }
}

/// Reads the raw body within the time and size limits.
pub async fn read_body(
    request: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<BytesMut, ReceiverError> {
    tokio::time::timeout(timeout, read_limited(request, payload, limit))
        .await
        .unwrap_or(Err(ReceiverError::BodyTimeout(timeout)))
}

/// Reads the raw body, refusing anything over `limit` (early, by Content-Length, when given).
async fn read_limited(
    request: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<BytesMut, ReceiverError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ReceiverError::TooLarge { limit });
    }

    let mut body = BytesMut::with_capacity(declared.unwrap_or(4096).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ReceiverError::Malformed(format!("body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ReceiverError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn framing_by_content_type() {
        let cases = [
            (None, Ok(Framing::Single)),
            (Some("application/json"), Ok(Framing::Single)),
            (
                Some("application/cloudevents+json; charset=utf-8"),
                Ok(Framing::Single),
            ),
            (
                Some("Application/CloudEvents-Batch+JSON"),
                Ok(Framing::Batch),
            ),
            (Some("text/plain"), Err("text/plain")),
        ];
        for (content_type, expected) in cases {
            let got = framing_of(content_type).map_err(|e| match e {
                ReceiverError::UnsupportedMediaType(t) => t,
                other => other.to_string(),
            });
            assert_eq!(got, expected.map_err(String::from), "{content_type:?}");
        }
    }

    #[test]
    fn clickup_takes_json_only() {
        let cases = [
            (None, true),
            (Some("application/json"), true),
            (Some("application/json; charset=utf-8"), true),
            (Some("APPLICATION/JSON"), true),
            (Some("text/plain"), false),
            (Some("application/x-www-form-urlencoded"), false),
            (Some("multipart/form-data; boundary=x"), false),
            (Some("application/cloudevents+json"), false),
        ];
        for (content_type, accepted) in cases {
            let mut request = TestRequest::default();
            if let Some(value) = content_type {
                request = request.insert_header(("content-type", value));
            }

            let verdict = clickup_content_type(&request.to_http_request());

            assert_eq!(verdict.is_ok(), accepted, "{content_type:?}");
        }
    }

    #[test]
    fn headers_too_large_or_given_twice_are_refused() {
        let twice = TestRequest::default()
            .append_header(("x-signature", "aa"))
            .append_header(("x-signature", "bb"))
            .to_http_request();
        let large = TestRequest::default()
            .insert_header(("x-padding", "a".repeat(MAX_HEADER_BYTES)))
            .to_http_request();
        let fine = TestRequest::default()
            .insert_header(("x-signature", "aa"))
            .to_http_request();

        assert!(matches!(
            check_headers(&twice, &CLICKUP_SINGLE),
            Err(ReceiverError::DuplicateHeader("x-signature"))
        ));
        assert!(matches!(
            check_headers(&large, &CLICKUP_SINGLE),
            Err(ReceiverError::HeadersTooLarge { .. })
        ));
        assert!(check_headers(&fine, &CLICKUP_SINGLE).is_ok());
    }
}
