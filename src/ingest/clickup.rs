//! ClickUp webhook deliveries: parsing and normalisation into envelopes.
//!
//! One envelope per history item, keyed `webhook_id:history_item_id`, so the specific event and
//! its companion `taskUpdated` (same history item) count once. A delivery without history items
//! is keyed by the SHA-256 of its raw body. Ids are opaque strings: numbers are taken from their
//! JSON text, never through a float.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::envelope::{Envelope, EventMeta, Origin};

/// Prefix of the CloudEvents `type` of ClickUp events.
pub const TYPE_PREFIX: &str = "com.clickup.webhook.";

/// Every webhook event ClickUp sends, with the resource it concerns.
const EVENTS: [(&str, &str); 28] = [
    ("taskCreated", "task"),
    ("taskUpdated", "task"),
    ("taskDeleted", "task"),
    ("taskPriorityUpdated", "task"),
    ("taskStatusUpdated", "task"),
    ("taskAssigneeUpdated", "task"),
    ("taskDueDateUpdated", "task"),
    ("taskTagUpdated", "task"),
    ("taskMoved", "task"),
    ("taskCommentPosted", "task"),
    ("taskCommentUpdated", "task"),
    ("taskTimeEstimateUpdated", "task"),
    ("taskTimeTrackedUpdated", "task"),
    ("listCreated", "list"),
    ("listUpdated", "list"),
    ("listDeleted", "list"),
    ("folderCreated", "folder"),
    ("folderUpdated", "folder"),
    ("folderDeleted", "folder"),
    ("spaceCreated", "space"),
    ("spaceUpdated", "space"),
    ("spaceDeleted", "space"),
    ("goalCreated", "goal"),
    ("goalUpdated", "goal"),
    ("goalDeleted", "goal"),
    ("keyResultCreated", "goal"),
    ("keyResultUpdated", "goal"),
    ("keyResultDeleted", "goal"),
];

/// The resource family of a ClickUp event name, or `None` for an unknown name.
pub fn resource_of(event: &str) -> Option<&'static str> {
    EVENTS
        .iter()
        .find(|(name, _)| *name == event)
        .map(|(_, resource)| *resource)
}

/// Why a verified delivery could not be normalised.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClickUpPayloadError {
    #[error("{0}")]
    Malformed(String),
    #[error("field {0} is missing")]
    Missing(&'static str),
    #[error("field {field} has the wrong type: {detail}")]
    WrongType { field: String, detail: String },
    #[error("event {0:?} is not a ClickUp webhook event")]
    UnknownEvent(String),
}

/// The first thing read from a body: which webhook it claims to come from.
#[derive(Deserialize)]
struct WebhookRef<'a> {
    #[serde(borrow)]
    webhook_id: Option<&'a RawValue>,
}

/// Reads a JSON object from the body: a body that is not JSON, or is JSON but not an object,
/// is malformed (the fields of the structs read here are all optional raw values, so nothing
/// else can fail).
fn object<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ClickUpPayloadError> {
    let starts_an_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !starts_an_object {
        let detail = match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => "the body is JSON but not an object".to_owned(),
            Err(e) => not_json(e),
        };
        return Err(ClickUpPayloadError::Malformed(detail));
    }
    serde_json::from_slice(body).map_err(|e| ClickUpPayloadError::Malformed(not_json(e)))
}

fn not_json(error: serde_json::Error) -> String {
    format!("body is not valid JSON: {error}")
}

/// Reads `webhook_id` so the right secret can be chosen; the signature is checked next.
pub fn webhook_id(body: &[u8]) -> Result<String, ClickUpPayloadError> {
    let reference: WebhookRef = object(body)?;
    let raw = reference
        .webhook_id
        .ok_or(ClickUpPayloadError::Missing("webhook_id"))?;
    opaque_id(raw, "webhook_id")
}

#[derive(Deserialize)]
struct Delivery<'a> {
    #[serde(borrow)]
    event: Option<&'a RawValue>,
    #[serde(borrow)]
    webhook_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    history_items: Option<&'a RawValue>,
    #[serde(borrow, default)]
    task_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    list_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    folder_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    space_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    goal_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    key_result_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct HistoryItem<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    date: Option<&'a RawValue>,
}

/// Normalises a verified delivery into one envelope per history item.
pub fn normalise(
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Vec<Envelope>, ClickUpPayloadError> {
    let delivery: Delivery = object(body)?;
    // The fields are read as raw text and travel to the queue as received, so the whole body
    // must be JSON every reader takes: no lone surrogate, no number beyond a double.
    serde_json::from_slice::<serde_json::Value>(body)
        .map_err(|e| ClickUpPayloadError::Malformed(not_json(e)))?;

    let event_name: String = typed(
        delivery
            .event
            .ok_or(ClickUpPayloadError::Missing("event"))?,
        "event",
        "a string",
    )?;
    let event = event_name.as_str();
    let resource =
        resource_of(event).ok_or_else(|| ClickUpPayloadError::UnknownEvent(event.into()))?;
    let webhook_id = opaque_id(
        delivery
            .webhook_id
            .ok_or(ClickUpPayloadError::Missing("webhook_id"))?,
        "webhook_id",
    )?;
    let subject = subject_of(&delivery, resource)?;
    let source = format!("urn:clickup:webhook:{webhook_id}");

    let items: Vec<&RawValue> = match delivery.history_items {
        Some(raw) if raw.get() != "null" => typed(raw, "history_items", "an array")?,
        _ => Vec::new(),
    };
    if items.is_empty() {
        let key = format!("{webhook_id}:{event}:{}", hex::encode(Sha256::digest(body)));
        let data = event_data(&delivery, event, &webhook_id, subject.as_deref(), None)?;
        return Ok(vec![envelope(
            key,
            source,
            event,
            received_at,
            subject,
            data,
        )]);
    }

    let mut envelopes = Vec::with_capacity(items.len());
    for (index, raw_item) in items.iter().enumerate() {
        let item: HistoryItem =
            serde_json::from_str(raw_item.get()).map_err(|_| ClickUpPayloadError::WrongType {
                field: format!("history_items[{index}]"),
                detail: "expected an object".into(),
            })?;
        let item_id = opaque_id(
            item.id
                .ok_or(ClickUpPayloadError::Missing("history_items[].id"))?,
            "history_items[].id",
        )?;
        let time = match item.date {
            Some(raw) => millis_date(raw)?.unwrap_or(received_at),
            None => received_at,
        };
        let data = event_data(
            &delivery,
            event,
            &webhook_id,
            subject.as_deref(),
            Some(raw_item),
        )?;
        let key = format!("{webhook_id}:{item_id}");
        envelopes.push(envelope(
            key,
            source.clone(),
            event,
            time,
            subject.clone(),
            data,
        ));
    }
    Ok(envelopes)
}

fn envelope(
    id: String,
    source: String,
    event: &str,
    time: DateTime<Utc>,
    subject: Option<String>,
    data: Box<RawValue>,
) -> Envelope {
    let meta = EventMeta {
        correlation_id: id.clone(),
        id,
        source,
        event_type: format!("{TYPE_PREFIX}{event}"),
        time,
        subject,
    };
    match Envelope::new(Origin::ClickUp, meta, data) {
        Some(envelope) => envelope,
        None => unreachable!("every known ClickUp event has a routing key"),
    }
}

/// `task:86abc0001`, `list:901100000001`, `goal:<uuid>`, ...
fn subject_of(delivery: &Delivery, resource: &str) -> Result<Option<String>, ClickUpPayloadError> {
    let (field, raw) = match resource {
        "task" => ("task_id", delivery.task_id),
        "list" => ("list_id", delivery.list_id),
        "folder" => ("folder_id", delivery.folder_id),
        "space" => ("space_id", delivery.space_id),
        _ => match delivery.key_result_id {
            Some(raw) => ("key_result_id", Some(raw)),
            None => ("goal_id", delivery.goal_id),
        },
    };
    // Every event names the object it is about; one without it cannot be acted on.
    let raw = raw.ok_or(ClickUpPayloadError::Missing(field))?;
    Ok(Some(format!(
        "{}:{}",
        field.trim_end_matches("_id"),
        opaque_id(raw, field)?
    )))
}

/// The event's data on the bus: the delivery's ids plus the one history item, all as received.
fn event_data(
    delivery: &Delivery,
    event: &str,
    webhook_id: &str,
    subject: Option<&str>,
    history_item: Option<&RawValue>,
) -> Result<Box<RawValue>, ClickUpPayloadError> {
    #[derive(serde::Serialize)]
    struct Data<'a> {
        event: &'a str,
        webhook_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        subject: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        task_id: Option<&'a RawValue>,
        #[serde(skip_serializing_if = "Option::is_none")]
        list_id: Option<&'a RawValue>,
        #[serde(skip_serializing_if = "Option::is_none")]
        folder_id: Option<&'a RawValue>,
        #[serde(skip_serializing_if = "Option::is_none")]
        space_id: Option<&'a RawValue>,
        #[serde(skip_serializing_if = "Option::is_none")]
        goal_id: Option<&'a RawValue>,
        #[serde(skip_serializing_if = "Option::is_none")]
        key_result_id: Option<&'a RawValue>,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a RawValue>,
        #[serde(skip_serializing_if = "Option::is_none")]
        history_item: Option<&'a RawValue>,
    }

    let data = Data {
        event,
        webhook_id,
        subject,
        task_id: delivery.task_id,
        list_id: delivery.list_id,
        folder_id: delivery.folder_id,
        space_id: delivery.space_id,
        goal_id: delivery.goal_id,
        key_result_id: delivery.key_result_id,
        data: delivery.data,
        history_item,
    };
    let text =
        serde_json::to_string(&data).map_err(|e| ClickUpPayloadError::Malformed(e.to_string()))?;
    RawValue::from_string(text).map_err(|e| ClickUpPayloadError::Malformed(e.to_string()))
}

/// A field read as the type ClickUp sends; another type names the field, never its value.
fn typed<'a, T: Deserialize<'a>>(
    raw: &'a RawValue,
    field: &str,
    expected: &str,
) -> Result<T, ClickUpPayloadError> {
    serde_json::from_str(raw.get()).map_err(|_| ClickUpPayloadError::WrongType {
        field: field.to_owned(),
        detail: format!("expected {expected}"),
    })
}

/// An id that may arrive as a string or a number, kept as the exact text ClickUp sent.
fn opaque_id(raw: &RawValue, field: &str) -> Result<String, ClickUpPayloadError> {
    let text = raw.get().trim();
    let wrong = |detail: &str| ClickUpPayloadError::WrongType {
        field: field.into(),
        detail: detail.into(),
    };

    if text.starts_with('"') {
        let value: String = serde_json::from_str(text).map_err(|e| wrong(&e.to_string()))?;
        if value.is_empty() {
            return Err(wrong("empty string"));
        }
        return Ok(value);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(text.to_string());
    }
    Err(wrong("expected a string or an integer"))
}

/// A date in Unix milliseconds, as a string or a number; `null` gives `None`.
fn millis_date(raw: &RawValue) -> Result<Option<DateTime<Utc>>, ClickUpPayloadError> {
    if raw.get().trim() == "null" {
        return Ok(None);
    }
    let text = opaque_id(raw, "history_items[].date")?;
    let wrong = || ClickUpPayloadError::WrongType {
        field: "history_items[].date".into(),
        detail: "expected Unix milliseconds".into(),
    };
    let millis: i64 = text.parse().map_err(|_| wrong())?;
    if millis < 0 {
        return Err(wrong());
    }
    Utc.timestamp_millis_opt(millis)
        .single()
        .map(Some)
        .ok_or_else(wrong)
}

#[cfg(test)]
mod tests;
