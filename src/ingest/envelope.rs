//! The bus message: a CloudEvents 1.0 event in structured JSON, whatever its source.
//!
//! `source` + `id` is the deduplication key. The payload is carried as raw JSON so that ids too
//! large for a float (ClickUp's 19-digit history ids) pass through byte for byte.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Where an event came from; decides its routing-key family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    ClickUp,
    Iam,
}

/// One event on the bus.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub specversion: String,
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub datacontenttype: String,
    /// Links an IAM event, the ClickUp calls it caused and the webhooks they echo.
    pub correlationid: String,
    /// Routing key the event is published with, e.g. `iam.user.terminated`.
    pub routingkey: String,
    /// When the receiver accepted the event (ms since the epoch), set just before publishing;
    /// absent in messages queued before the attribute existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptedat: Option<i64>,
    pub data: Box<RawValue>,
}

/// The attributes of an event, before its routing key is known.
pub struct EventMeta {
    pub id: String,
    pub source: String,
    pub event_type: String,
    pub time: DateTime<Utc>,
    pub subject: Option<String>,
    pub correlation_id: String,
}

impl Envelope {
    /// Builds an envelope; `None` when the event type has no routing key.
    pub fn new(origin: Origin, meta: EventMeta, data: Box<RawValue>) -> Option<Self> {
        let routingkey = routing_key(origin, &meta.event_type)?;
        Some(Self {
            specversion: "1.0".into(),
            id: meta.id,
            source: meta.source,
            event_type: meta.event_type,
            time: meta.time,
            subject: meta.subject,
            datacontenttype: "application/json".into(),
            correlationid: meta.correlation_id,
            routingkey,
            acceptedat: None,
            data,
        })
    }

    /// The deduplication key: unique per source.
    pub fn dedup_key(&self) -> String {
        format!("{} {}", self.source, self.id)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain strings, a timestamp and raw JSON cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The routing key for an event type.
///
/// IAM types `com.example.iam.user.terminated.v1` become `iam.user.terminated`; ClickUp
/// events become `clickup.<resource>.<event>`, e.g. `clickup.task.taskStatusUpdated`.
pub fn routing_key(origin: Origin, event_type: &str) -> Option<String> {
    match origin {
        Origin::Iam => {
            let rest = event_type.split_once(".iam.")?.1;
            let rest = rest.strip_suffix(".v1")?;
            Some(format!("iam.{rest}"))
        }
        Origin::ClickUp => {
            let event_type = event_type
                .strip_prefix(crate::ingest::clickup::TYPE_PREFIX)
                .unwrap_or(event_type);
            let resource = crate::ingest::clickup::resource_of(event_type)?;
            Some(format!("clickup.{resource}.{event_type}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_keys_by_origin_and_type() {
        let cases = [
            (
                Origin::Iam,
                "com.example.iam.user.terminated.v1",
                Some("iam.user.terminated"),
            ),
            (
                Origin::Iam,
                "com.example.iam.membership.added.v1",
                Some("iam.membership.added"),
            ),
            (Origin::Iam, "com.example.iam.user.terminated.v2", None),
            (Origin::Iam, "user.terminated", None),
            (
                Origin::ClickUp,
                "taskStatusUpdated",
                Some("clickup.task.taskStatusUpdated"),
            ),
            (
                Origin::ClickUp,
                "keyResultDeleted",
                Some("clickup.goal.keyResultDeleted"),
            ),
            (
                Origin::ClickUp,
                "spaceCreated",
                Some("clickup.space.spaceCreated"),
            ),
            (
                Origin::ClickUp,
                "com.clickup.webhook.taskMoved",
                Some("clickup.task.taskMoved"),
            ),
            (Origin::ClickUp, "userCreated", None),
        ];
        for (origin, event_type, expected) in cases {
            assert_eq!(
                routing_key(origin, event_type).as_deref(),
                expected,
                "{event_type}"
            );
        }
    }

    #[test]
    fn the_acceptance_time_is_optional_and_round_trips() {
        let data = RawValue::from_string("{}".into()).unwrap();
        let meta = EventMeta {
            id: "e1".into(),
            source: "urn:iam".into(),
            event_type: "com.example.iam.user.terminated.v1".into(),
            time: Utc::now(),
            subject: None,
            correlation_id: "c".into(),
        };
        let mut envelope = Envelope::new(Origin::Iam, meta, data).unwrap();
        let without: serde_json::Value = serde_json::from_slice(&envelope.to_bytes()).unwrap();
        envelope.acceptedat = Some(1_767_225_600_000);

        let with: Envelope = serde_json::from_slice(&envelope.to_bytes()).unwrap();
        let older: Envelope = serde_json::from_value(without.clone()).unwrap();

        assert!(without.get("acceptedat").is_none());
        assert_eq!(with.acceptedat, Some(1_767_225_600_000));
        assert_eq!(older.acceptedat, None);
    }

    #[test]
    fn envelope_keeps_large_ids_exact_through_a_round_trip() {
        let data = RawValue::from_string(r#"{"id":12345678901234567890123}"#.into()).unwrap();
        let meta = EventMeta {
            id: "w:1".into(),
            source: "urn:clickup:webhook:w".into(),
            event_type: "taskCreated".into(),
            time: Utc::now(),
            subject: None,
            correlation_id: "c".into(),
        };
        let envelope = Envelope::new(Origin::ClickUp, meta, data).unwrap();

        let decoded: Envelope = serde_json::from_slice(&envelope.to_bytes()).unwrap();

        assert_eq!(decoded.data.get(), r#"{"id":12345678901234567890123}"#);
        assert_eq!(decoded.dedup_key(), "urn:clickup:webhook:w w:1");
    }
}
