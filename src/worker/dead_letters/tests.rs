use serde_json::json;

use super::*;
use crate::bus::Death;

fn envelope_bytes() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "specversion": "1.0", "id": "term-1", "source": "urn:iam", "type": "com.example.iam.user.terminated.v1",
        "time": "2026-01-01T00:00:00Z", "datacontenttype": "application/json", "correlationid": "c",
        "routingkey": "iam.user.terminated", "data": {}
    }))
    .unwrap()
}

fn letter(body: Vec<u8>, reason: Option<&str>, delivery_count: Option<u64>) -> DeadLetter {
    DeadLetter {
        body,
        message_id: Some("amqp-id".into()),
        routing_key: "iam.user.terminated".into(),
        death: Death {
            queue: Some("cir.deprovision".into()),
            reason: reason.map(String::from),
            count: 1,
            first_at: Some(5_000),
            delivery_count,
            replay: None,
        },
    }
}

#[test]
fn a_dead_letter_says_why_from_the_failure_on_record_or_the_broker() {
    let failure = MessageFailure {
        attempts: 3,
        first_failed_at: 1_000,
        last_failed_at: 3_000,
        error_code: "clickup_server_error".into(),
        error: "ClickUp answered 503".into(),
    };
    type Case = (
        &'static str,
        DeadLetter,
        Option<MessageFailure>,
        NewDeadLetter,
    );
    let base = |body: Vec<u8>| NewDeadLetter {
        fingerprint: String::new(),
        message_id: Some("term-1".into()),
        lane: Some("deprovision".into()),
        source_queue: Some("cir.deprovision".into()),
        routing_key: "iam.user.terminated".into(),
        reason: "delivery_limit".into(),
        error_code: None,
        error: None,
        attempts: 1,
        first_failed_at: 5_000,
        last_failed_at: 5_000,
        failure_key: serde_json::from_slice::<Envelope>(&body)
            .ok()
            .map(|e| e.dedup_key()),
        envelope: body,
    };
    let cases: Vec<Case> = vec![
        (
            "failure on record",
            letter(envelope_bytes(), Some("delivery_limit"), Some(2)),
            Some(failure.clone()),
            NewDeadLetter {
                error_code: Some("clickup_server_error".into()),
                error: Some("ClickUp answered 503".into()),
                attempts: 3,
                first_failed_at: 1_000,
                last_failed_at: 3_000,
                ..base(envelope_bytes())
            },
        ),
        (
            "the broker counted more deliveries than the worker kept",
            letter(envelope_bytes(), Some("delivery_limit"), Some(4)),
            Some(failure),
            NewDeadLetter {
                error_code: Some("clickup_server_error".into()),
                error: Some("ClickUp answered 503".into()),
                attempts: 5,
                first_failed_at: 1_000,
                last_failed_at: 3_000,
                ..base(envelope_bytes())
            },
        ),
        (
            "nothing on record",
            letter(envelope_bytes(), None, None),
            None,
            NewDeadLetter {
                reason: "unknown".into(),
                ..base(envelope_bytes())
            },
        ),
        (
            "not an envelope",
            letter(b"not json".to_vec(), Some("rejected"), None),
            None,
            NewDeadLetter {
                message_id: Some("amqp-id".into()),
                reason: "rejected".into(),
                error_code: Some("undecodable".into()),
                error: Some("the message body is not a CloudEvents envelope".into()),
                ..base(b"not json".to_vec())
            },
        ),
    ];
    for (name, letter, failure, mut expected) in cases {
        let envelope = serde_json::from_slice::<Envelope>(&letter.body).ok();
        expected.fingerprint = letter.fingerprint();

        let row = describe(&letter, envelope.as_ref(), failure, 9_000);

        assert_eq!(format!("{row:?}"), format!("{expected:?}"), "{name}");
    }
}
