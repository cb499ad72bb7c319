//! `POST /webhooks/clickup` and `POST /webhooks/iam`: read, verify, normalise, queue.
//!
//! Steps in order: read the raw body within the size limit; verify the signature over those
//! exact bytes; parse and validate; then `http::queue`: claim each event's dedup key, publish
//! with confirm, mark accepted.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use bytes::BytesMut;
use chrono::Utc;
use serde_json::json;
use tracing::{info_span, warn, Instrument};

use super::{
    queue::{self, QueueError},
    refusals::{self, Sender},
    ReceiverError, ReceiverState,
};
use crate::ingest::{
    clickup::{self, ClickUpPayloadError},
    envelope::Envelope,
    iam::{self, IamPayloadError},
    signature::{self, StandardHeaders},
};

pub(super) mod request;

pub async fn clickup(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReceiverState>,
) -> Result<HttpResponse, ReceiverError> {
    let mut sender = Sender {
        source: "clickup",
        ..Sender::default()
    };
    let answer = clickup_delivery(&request, payload, &state, &mut sender).await;
    count(&state, "clickup", &answer);
    if let Err(refused) = &answer {
        refusals::record(&state.store, &state.refusals, &sender, refused).await;
    }
    answer
}

pub async fn iam(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReceiverState>,
) -> Result<HttpResponse, ReceiverError> {
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let sender = Sender {
        source: "iam",
        message_id: refusals::plain_id(text("webhook-id")),
        ..Sender::default()
    };
    let answer = iam_delivery(&request, payload, &state).await;
    count(&state, "iam", &answer);
    if let Err(refused) = &answer {
        refusals::record(&state.store, &state.refusals, &sender, refused).await;
    }
    answer
}

/// Counts a delivery by source and result: accepted (202), duplicate (200), refused (4xx,
/// with the error code as the reason), in_flight (503: the same event is being published by
/// another request, an ordinary concurrent retry), unavailable (other 5xx: the sender
/// retries).
fn count(
    state: &ReceiverState,
    source: &'static str,
    answer: &Result<HttpResponse, ReceiverError>,
) {
    let (result, reason) = result_class(answer);
    state.metrics.webhook(source, result, reason);
}

/// The `result` and `reason` labels of an answer.
fn result_class(answer: &Result<HttpResponse, ReceiverError>) -> (&'static str, &'static str) {
    match answer {
        Ok(response) if response.status().as_u16() == 202 => ("accepted", "none"),
        Ok(_) => ("duplicate", "none"),
        Err(error) if error.status_code().is_client_error() => ("refused", error.code()),
        Err(error @ ReceiverError::InFlight) => ("in_flight", error.code()),
        Err(error) => ("unavailable", error.code()),
    }
}

/// Reads the raw body within the receivers' time and size limits.
async fn read_body(
    request: &HttpRequest,
    payload: web::Payload,
    state: &ReceiverState,
) -> Result<BytesMut, ReceiverError> {
    request::read_body(request, payload, state.max_body_bytes, state.body_timeout).await
}

async fn clickup_delivery(
    request: &HttpRequest,
    payload: web::Payload,
    state: &ReceiverState,
    sender: &mut Sender,
) -> Result<HttpResponse, ReceiverError> {
    request::check_headers(request, &request::CLICKUP_SINGLE)?;
    request::clickup_content_type(request)?;
    let body = read_body(request, payload, state).await?;
    request::check_depth(&body)?;

    let webhook_id = clickup::webhook_id(&body).map_err(|e| match e {
        malformed @ ClickUpPayloadError::Malformed(_) => {
            ReceiverError::Malformed(malformed.to_string())
        }
        _ => ReceiverError::UnknownWebhook,
    })?;

    // The id is unverified until it names a configured webhook: never log or echo it before.
    let Some(secret) = state.clickup_secrets.get(&webhook_id).cloned() else {
        warn!("delivery for an unknown webhook refused");
        return Err(ReceiverError::UnknownWebhook);
    };
    let span = info_span!("clickup_delivery", webhook_id = %webhook_id);
    sender.webhook_id = Some(webhook_id.clone());

    async move {
        let header = request
            .headers()
            .get("x-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if header.is_empty() || !signature::verify_clickup(secret.expose(), &body, header) {
            warn!("delivery with a bad or missing signature refused");
            return Err(ReceiverError::Forbidden(
                "X-Signature is missing or does not match the body".into(),
            ));
        }

        let envelopes = clickup::normalise(&body, Utc::now()).map_err(|e| match e {
            malformed @ ClickUpPayloadError::Malformed(_) => {
                ReceiverError::Malformed(malformed.to_string())
            }
            ClickUpPayloadError::Missing(field) => ReceiverError::Invalid {
                field: field.into(),
                detail: "missing".into(),
            },
            ClickUpPayloadError::WrongType { field, detail } => {
                ReceiverError::Invalid { field, detail }
            }
            ClickUpPayloadError::UnknownEvent(event) => ReceiverError::Invalid {
                field: "event".into(),
                detail: format!("{event:?} is not a ClickUp webhook event"),
            },
        })?;
        queue(state, envelopes).await
    }
    .instrument(span)
    .await
}

async fn iam_delivery(
    request: &HttpRequest,
    payload: web::Payload,
    state: &ReceiverState,
) -> Result<HttpResponse, ReceiverError> {
    request::check_headers(request, &request::IAM_SINGLE)?;
    let body = read_body(request, payload, state).await?;

    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let standard = StandardHeaders {
        id: text("webhook-id"),
        timestamp: text("webhook-timestamp"),
        signature: text("webhook-signature"),
    };
    let message_id = signature::verify_standard(
        &state.iam_keys,
        &standard,
        &body,
        Utc::now().timestamp(),
        state.iam_tolerance,
    )
    .map_err(|e| {
        warn!(reason = %e, "iam delivery refused");
        ReceiverError::Unauthorized(e.to_string())
    })?;
    let span = info_span!("iam_delivery", webhook_message_id = %message_id);

    async move {
        request::check_depth(&body)?;
        let framing = request::framing(request)?;
        let envelopes =
            iam::normalise(&state.iam_schema, &body, framing, Utc::now()).map_err(|e| match e {
                IamPayloadError::Malformed(detail) => {
                    ReceiverError::Malformed(format!("body is not valid JSON: {detail}"))
                }
                IamPayloadError::Schema { field, detail } => {
                    ReceiverError::Invalid { field, detail }
                }
                IamPayloadError::BatchSize { .. } => ReceiverError::Invalid {
                    field: "/".into(),
                    detail: e.to_string(),
                },
                IamPayloadError::Unroutable(_) => ReceiverError::Invalid {
                    field: "/type".into(),
                    detail: e.to_string(),
                },
            })?;
        queue(state, envelopes).await
    }
    .instrument(span)
    .await
}

/// Publishes the events not seen before; 202 when any was new, 200 when all were duplicates.
/// Each accepted event gets its `event.received` row with its acceptance.
async fn queue(
    state: &ReceiverState,
    mut envelopes: Vec<Envelope>,
) -> Result<HttpResponse, ReceiverError> {
    let queued = queue::queue(
        &mut &state.store,
        state.publisher.as_ref(),
        &state.metrics,
        &mut envelopes,
    )
    .await
    .map_err(|e| match e {
        QueueError::InFlight => ReceiverError::InFlight,
        e => ReceiverError::Unavailable(e.to_string()),
    })?;

    if queued.accepted.is_empty() {
        return Ok(HttpResponse::Ok()
            .json(json!({ "status": "duplicate", "duplicates": queued.duplicates })));
    }
    Ok(HttpResponse::Accepted().json(json!({
        "status": "accepted",
        "accepted": queued.accepted,
        "duplicates": queued.duplicates,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_counted_by_result_class() {
        let cases = [
            (Ok(HttpResponse::Accepted().finish()), ("accepted", "none")),
            (Ok(HttpResponse::Ok().finish()), ("duplicate", "none")),
            (
                Err(ReceiverError::UnknownWebhook),
                ("refused", "unknown_webhook"),
            ),
            (Err(ReceiverError::InFlight), ("in_flight", "in_flight")),
            (
                Err(ReceiverError::Unavailable("gone".into())),
                ("unavailable", "broker_unavailable"),
            ),
        ];

        for (answer, expected) in cases {
            assert_eq!(result_class(&answer), expected);
        }
    }
}
