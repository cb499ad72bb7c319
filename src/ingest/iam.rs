//! IAM identity events: CloudEvents 1.0 structured JSON, validated against the v1 schema.
//!
//! The schema (`schemas/iam-event.v1.schema.json`) is compiled once. A violation names the field
//! by JSON pointer and never echoes the offending value, which may be personal data.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{value::RawValue, Value};

use super::envelope::{Envelope, EventMeta, Origin};

mod consistency;

const SCHEMA: &str = include_str!("../../schemas/iam-event.v1.schema.json");

/// Why a verified IAM delivery was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IamPayloadError {
    #[error("body is not valid JSON: {0}")]
    Malformed(String),
    #[error("{field}: {detail}")]
    Schema { field: String, detail: String },
    #[error("a batch must hold between 1 and {max} events")]
    BatchSize { max: usize },
    #[error("event type {0:?} has no route")]
    Unroutable(String),
}

/// How the events are framed in the body (CloudEvents structured or batched mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Single,
    Batch,
}

/// Largest batch accepted in one delivery.
pub const MAX_BATCH: usize = 100;

/// The compiled v1 schema.
pub struct IamSchema {
    validator: jsonschema::Validator,
}

impl IamSchema {
    pub fn compile() -> anyhow::Result<Self> {
        let schema: Value = serde_json::from_str(SCHEMA)?;
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| anyhow::anyhow!("the IAM event schema does not compile: {e}"))?;
        Ok(Self { validator })
    }

    /// Validates one event, naming the first offending field.
    fn check(&self, event: &Value, prefix: &str) -> Result<(), IamPayloadError> {
        // The shallowest error is the most fundamental: a missing `type` also fails the
        // schema's type-dependent requirements deeper in `data`.
        let Some(error) = self
            .validator
            .iter_errors(event)
            .min_by_key(|error| error.instance_path().as_str().matches('/').count())
        else {
            return Ok(());
        };

        let mut field = format!("{prefix}{}", error.instance_path());
        if let jsonschema::error::ValidationErrorKind::Required { property } = error.kind() {
            field = format!("{field}/{}", property.as_str().unwrap_or_default());
        }
        if field.is_empty() {
            field = "/".into();
        }
        // A pattern's regex says nothing to a sender; say what the field must look like.
        let detail = match error.kind() {
            jsonschema::error::ValidationErrorKind::Pattern { .. }
                if field.ends_with("/subject") =>
            {
                "must be user:<the person's canonical id>".to_owned()
            }
            jsonschema::error::ValidationErrorKind::Pattern { .. } => {
                "does not have the form the event schema requires".to_owned()
            }
            _ => error.masked().to_string(),
        };
        Err(IamPayloadError::Schema { field, detail })
    }
}

#[derive(Deserialize)]
struct CloudEvent<'a> {
    id: String,
    source: String,
    #[serde(rename = "type")]
    event_type: String,
    time: DateTime<Utc>,
    subject: String,
    #[serde(default)]
    correlationid: Option<String>,
    #[serde(borrow)]
    data: &'a RawValue,
}

/// Validates and normalises a verified IAM delivery into envelopes (one per event).
pub fn normalise(
    schema: &IamSchema,
    body: &[u8],
    framing: Framing,
    now: DateTime<Utc>,
) -> Result<Vec<Envelope>, IamPayloadError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| IamPayloadError::Malformed(e.to_string()))?;
    let raws: Vec<&RawValue> = match framing {
        Framing::Single => {
            vec![serde_json::from_slice(body)
                .map_err(|e| IamPayloadError::Malformed(e.to_string()))?]
        }
        Framing::Batch => serde_json::from_slice(body).map_err(|_| IamPayloadError::Schema {
            field: "/".into(),
            detail: "a CloudEvents batch must be a JSON array".into(),
        })?,
    };

    let events: Vec<&Value> = match (&value, framing) {
        (_, Framing::Single) => vec![&value],
        (Value::Array(items), Framing::Batch) => items.iter().collect(),
        _ => unreachable!("a batch parsed as an array above"),
    };
    if events.is_empty() || events.len() > MAX_BATCH {
        return Err(IamPayloadError::BatchSize { max: MAX_BATCH });
    }

    let mut envelopes = Vec::with_capacity(events.len());
    for (index, (event, raw)) in events.iter().zip(raws).enumerate() {
        let prefix = match framing {
            Framing::Single => String::new(),
            Framing::Batch => format!("/{index}"),
        };
        schema.check(event, &prefix)?;
        consistency::check(event, &prefix, now)?;
        envelopes.push(to_envelope(raw, &prefix)?);
    }
    Ok(envelopes)
}

fn to_envelope(raw: &RawValue, prefix: &str) -> Result<Envelope, IamPayloadError> {
    let event: CloudEvent =
        serde_json::from_str(raw.get()).map_err(|e| IamPayloadError::Schema {
            field: format!("{prefix}/"),
            detail: e.to_string(),
        })?;

    let correlation_id = event
        .correlationid
        .clone()
        .unwrap_or_else(|| event.id.clone());
    let meta = EventMeta {
        id: event.id,
        source: event.source,
        event_type: event.event_type.clone(),
        time: event.time,
        subject: Some(event.subject),
        correlation_id,
    };
    let data = event.data.to_owned();
    Envelope::new(Origin::Iam, meta, data).ok_or(IamPayloadError::Unroutable(event.event_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: [(&str, &str); 13] = [
        (
            "01",
            include_str!("../../tests/fixtures/iam/01-joiner-employee.json"),
        ),
        (
            "02",
            include_str!("../../tests/fixtures/iam/02-joiner-contractor-end-date.json"),
        ),
        (
            "03",
            include_str!("../../tests/fixtures/iam/03-mover-dept-title-role.json"),
        ),
        (
            "04",
            include_str!("../../tests/fixtures/iam/04-leaver-terminated.json"),
        ),
        (
            "05",
            include_str!("../../tests/fixtures/iam/05-disable.json"),
        ),
        (
            "06",
            include_str!("../../tests/fixtures/iam/06-reenable.json"),
        ),
        (
            "07",
            include_str!("../../tests/fixtures/iam/07-manager-change.json"),
        ),
        (
            "08",
            include_str!("../../tests/fixtures/iam/08-group-membership-added.json"),
        ),
        (
            "09",
            include_str!("../../tests/fixtures/iam/09-group-membership-removed.json"),
        ),
        (
            "10",
            include_str!("../../tests/fixtures/iam/10-from-ssf-risc-account-disabled.json"),
        ),
        (
            "11",
            include_str!("../../tests/fixtures/iam/11-from-scim-patch-active-false.json"),
        ),
        (
            "12",
            include_str!("../../tests/fixtures/iam/12-batch-membership.cloudevents-batch.json"),
        ),
        (
            "13",
            include_str!("../../tests/fixtures/iam/13-request-decided-approved.json"),
        ),
    ];

    fn sample(name: &str) -> Value {
        let text = SAMPLES.iter().find(|(n, _)| *n == name).unwrap().1;
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn every_sample_event_is_accepted_with_its_routing_key() {
        let schema = IamSchema::compile().unwrap();

        for (name, text) in SAMPLES {
            let framing = if name == "12" {
                Framing::Batch
            } else {
                Framing::Single
            };

            let envelopes = normalise(&schema, text.as_bytes(), framing, Utc::now())
                .unwrap_or_else(|e| panic!("{name}: {e}"));

            assert!(!envelopes.is_empty());
            for envelope in envelopes {
                assert!(envelope.routingkey.starts_with("iam."), "{name}");
                assert!(
                    envelope.subject.as_deref().unwrap().starts_with("user:"),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn leaver_keeps_its_ids_and_correlation() {
        let schema = IamSchema::compile().unwrap();
        let text = SAMPLES[3].1;

        let envelope = normalise(&schema, text.as_bytes(), Framing::Single, Utc::now())
            .unwrap()
            .remove(0);

        assert_eq!(envelope.routingkey, "iam.user.terminated");
        assert_eq!(envelope.correlationid, "term-2026-0077");
        assert_eq!(
            envelope.source,
            "urn:opentext:idm:ACME-TREE:driverset1:ClickUp-REST"
        );
        assert!(envelope.data.get().contains("mark.lee@example.com"));
    }

    #[test]
    fn schema_violations_name_the_field_without_echoing_values() {
        let schema = IamSchema::compile().unwrap();
        let mut cases: Vec<(Value, &str)> = Vec::new();

        let mut no_email_format = sample("04");
        no_email_format["data"]["user"]["email"] = Value::from("mark.lee.at.example.com");
        cases.push((no_email_format, "/data/user/email"));

        let mut no_type = sample("04");
        no_type.as_object_mut().unwrap().remove("type");
        cases.push((no_type, "/type"));

        let mut bad_type = sample("04");
        bad_type["type"] = Value::from("com.example.iam.user.exploded.v1");
        cases.push((bad_type, "/type"));

        let mut bad_lifecycle = sample("04");
        bad_lifecycle["data"]["lifecycle"] = Value::from("vanished");
        cases.push((bad_lifecycle, "/data/lifecycle"));

        let mut no_data = sample("04");
        no_data.as_object_mut().unwrap().remove("data");
        cases.push((no_data, "/data"));

        let mut bad_time = sample("04");
        bad_time["time"] = Value::from("yesterday");
        cases.push((bad_time, "/time"));

        let mut bare_subject = sample("04");
        bare_subject["subject"] = Value::from("c0ffee00c0ffee00c0ffee00c0ffee00");
        cases.push((bare_subject, "/subject"));

        for (event, field) in cases {
            let body = serde_json::to_vec(&event).unwrap();

            let error = normalise(&schema, &body, Framing::Single, Utc::now()).unwrap_err();

            match &error {
                IamPayloadError::Schema { field: got, detail } => {
                    assert_eq!(got, field);
                    assert!(!detail.contains("mark.lee"), "{detail}");
                    assert!(
                        !detail.contains('^') && !detail.contains("c0ffee"),
                        "{detail}"
                    );
                }
                other => panic!("expected a schema error on {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn batches_are_all_or_nothing_and_name_the_index() {
        let schema = IamSchema::compile().unwrap();
        let good = sample("04");
        let mut bad = sample("05");
        bad.as_object_mut().unwrap().remove("subject");
        let body = serde_json::to_vec(&vec![good.clone(), bad]).unwrap();

        let error = normalise(&schema, &body, Framing::Batch, Utc::now()).unwrap_err();

        assert_eq!(error.to_string().split(':').next().unwrap(), "/1/subject");
        assert!(matches!(
            normalise(&schema, b"[]", Framing::Batch, Utc::now()),
            Err(IamPayloadError::BatchSize { .. })
        ));
        assert!(matches!(
            normalise(
                &schema,
                &serde_json::to_vec(&good).unwrap(),
                Framing::Batch,
                Utc::now()
            ),
            Err(IamPayloadError::Schema { .. })
        ));
        assert!(matches!(
            normalise(&schema, b"{oops", Framing::Single, Utc::now()),
            Err(IamPayloadError::Malformed(_))
        ));
    }
}
