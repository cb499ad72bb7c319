//! Table-driven tests of ClickUp normalisation over every fixture event.

use super::*;

const FIXTURES: &[(&str, &str)] = &[
    (
        "event-folderCreated.json",
        include_str!("../../../tests/fixtures/clickup/event-folderCreated.json"),
    ),
    (
        "event-folderDeleted.json",
        include_str!("../../../tests/fixtures/clickup/event-folderDeleted.json"),
    ),
    (
        "event-folderUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-folderUpdated.json"),
    ),
    (
        "event-goalCreated.json",
        include_str!("../../../tests/fixtures/clickup/event-goalCreated.json"),
    ),
    (
        "event-goalDeleted.json",
        include_str!("../../../tests/fixtures/clickup/event-goalDeleted.json"),
    ),
    (
        "event-goalUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-goalUpdated.json"),
    ),
    (
        "event-keyResultCreated.json",
        include_str!("../../../tests/fixtures/clickup/event-keyResultCreated.json"),
    ),
    (
        "event-keyResultDeleted.json",
        include_str!("../../../tests/fixtures/clickup/event-keyResultDeleted.json"),
    ),
    (
        "event-keyResultUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-keyResultUpdated.json"),
    ),
    (
        "event-listCreated.json",
        include_str!("../../../tests/fixtures/clickup/event-listCreated.json"),
    ),
    (
        "event-listDeleted.json",
        include_str!("../../../tests/fixtures/clickup/event-listDeleted.json"),
    ),
    (
        "event-listUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-listUpdated.json"),
    ),
    (
        "event-spaceCreated.json",
        include_str!("../../../tests/fixtures/clickup/event-spaceCreated.json"),
    ),
    (
        "event-spaceDeleted.json",
        include_str!("../../../tests/fixtures/clickup/event-spaceDeleted.json"),
    ),
    (
        "event-spaceUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-spaceUpdated.json"),
    ),
    (
        "event-taskAssigneeUpdated-add.json",
        include_str!("../../../tests/fixtures/clickup/event-taskAssigneeUpdated-add.json"),
    ),
    (
        "event-taskAssigneeUpdated-rem.INFERRED.json",
        include_str!("../../../tests/fixtures/clickup/event-taskAssigneeUpdated-rem.INFERRED.json"),
    ),
    (
        "event-taskCommentPosted.json",
        include_str!("../../../tests/fixtures/clickup/event-taskCommentPosted.json"),
    ),
    (
        "event-taskCommentUpdated.INFERRED.json",
        include_str!("../../../tests/fixtures/clickup/event-taskCommentUpdated.INFERRED.json"),
    ),
    (
        "event-taskCreated.json",
        include_str!("../../../tests/fixtures/clickup/event-taskCreated.json"),
    ),
    (
        "event-taskDeleted.json",
        include_str!("../../../tests/fixtures/clickup/event-taskDeleted.json"),
    ),
    (
        "event-taskDueDateUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-taskDueDateUpdated.json"),
    ),
    (
        "event-taskMoved.json",
        include_str!("../../../tests/fixtures/clickup/event-taskMoved.json"),
    ),
    (
        "event-taskPriorityUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-taskPriorityUpdated.json"),
    ),
    (
        "event-taskStatusUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-taskStatusUpdated.json"),
    ),
    (
        "event-taskTagUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-taskTagUpdated.json"),
    ),
    (
        "event-taskTimeEstimateUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-taskTimeEstimateUpdated.json"),
    ),
    (
        "event-taskTimeTrackedUpdated.json",
        include_str!("../../../tests/fixtures/clickup/event-taskTimeTrackedUpdated.json"),
    ),
    (
        "event-taskUpdated-companion-of-status.json",
        include_str!("../../../tests/fixtures/clickup/event-taskUpdated-companion-of-status.json"),
    ),
    (
        "event-taskUpdated-custom-field-checkbox-cleared.json",
        include_str!(
            "../../../tests/fixtures/clickup/event-taskUpdated-custom-field-checkbox-cleared.json"
        ),
    ),
    (
        "event-taskUpdated-custom-field-dropdown.json",
        include_str!(
            "../../../tests/fixtures/clickup/event-taskUpdated-custom-field-dropdown.json"
        ),
    ),
    (
        "event-taskUpdated-description.json",
        include_str!("../../../tests/fixtures/clickup/event-taskUpdated-description.json"),
    ),
];
fn now() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_700_000_000_000).unwrap()
}

#[test]
fn every_fixture_event_normalises_with_one_envelope_per_history_item() {
    let mut names = std::collections::BTreeSet::new();

    for (file, body) in FIXTURES {
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        let items = value["history_items"].as_array().map_or(0, Vec::len);

        let envelopes = normalise(body.as_bytes(), now()).unwrap_or_else(|e| panic!("{file}: {e}"));

        assert_eq!(envelopes.len(), items.max(1), "{file}");
        for envelope in &envelopes {
            let event = value["event"].as_str().unwrap();
            assert_eq!(
                envelope.event_type,
                format!("com.clickup.webhook.{event}"),
                "{file}"
            );
            assert!(envelope.routingkey.starts_with("clickup."), "{file}");
            assert!(envelope.routingkey.ends_with(event), "{file}");
            assert!(envelope.subject.is_some(), "{file} has no subject");
        }
        names.insert(value["event"].as_str().unwrap().to_string());
    }

    assert_eq!(names.len(), 28, "the fixtures cover all 28 events");
}

#[test]
fn history_item_keys_keep_nineteen_digit_ids_exact() {
    let body = br#"{"event":"taskStatusUpdated","webhook_id":"w1","task_id":"86abc0001",
        "history_items":[{"id":"2800787326392370003","date":"1735725900456"},
                         {"id":9223372036854775807,"date":1735725900457}]}"#;

    let envelopes = normalise(body, now()).unwrap();

    assert_eq!(envelopes[0].id, "w1:2800787326392370003");
    assert_eq!(envelopes[1].id, "w1:9223372036854775807");
    assert_eq!(envelopes[0].time.timestamp_millis(), 1735725900456);
    assert_eq!(envelopes[1].time.timestamp_millis(), 1735725900457);
    assert_eq!(envelopes[0].subject.as_deref(), Some("task:86abc0001"));
    assert_eq!(envelopes[0].source, "urn:clickup:webhook:w1");
    assert!(envelopes[1].data.get().contains("9223372036854775807"));
}

#[test]
fn companion_task_updated_shares_the_key_of_its_specific_event() {
    let specific = FIXTURES
        .iter()
        .find(|(f, _)| *f == "event-taskStatusUpdated.json")
        .unwrap()
        .1;
    let companion = FIXTURES
        .iter()
        .find(|(f, _)| *f == "event-taskUpdated-companion-of-status.json")
        .unwrap()
        .1;

    let a = normalise(specific.as_bytes(), now()).unwrap();
    let b = normalise(companion.as_bytes(), now()).unwrap();

    assert_eq!(a[0].dedup_key(), b[0].dedup_key());
}

#[test]
fn deliveries_without_history_are_keyed_by_their_body() {
    let one = br#"{"event":"goalCreated","goal_id":"g1","webhook_id":"w1"}"#;
    let two = br#"{"event":"goalCreated","goal_id":"g2","webhook_id":"w1"}"#;

    let a = normalise(one, now()).unwrap();
    let b = normalise(two, now()).unwrap();

    assert_ne!(a[0].id, b[0].id);
    assert!(a[0].id.starts_with("w1:goalCreated:"));
    assert_eq!(a[0].id, normalise(one, now()).unwrap()[0].id);
    assert_eq!(a[0].time, now());
}

#[test]
fn refusals_name_the_problem() {
    let cases: [(&[u8], ClickUpPayloadError); 16] = [
        (
            br#"{"event":"taskCreated","webhook_id":"w","history_items":[{"id":"1"}]}"#,
            ClickUpPayloadError::Missing("task_id"),
        ),
        (
            br#"{"event":"goalCreated","webhook_id":"w"}"#,
            ClickUpPayloadError::Missing("goal_id"),
        ),
        (
            br#"{"event":"taskCreated","webhook_id":"w","task_id":"t","history_items":["notalist"]}"#,
            ClickUpPayloadError::WrongType { field: "history_items[0]".into(), detail: "expected an object".into() },
        ),
        (
            br#"{"event":"taskCreated","webhook_id":"w","task_id":"t","history_items":[{"id":"1","date":"-99999999999999"}]}"#,
            ClickUpPayloadError::WrongType { field: "history_items[].date".into(), detail: "expected Unix milliseconds".into() },
        ),
        (b"{not json", ClickUpPayloadError::Malformed("body is not valid JSON".into())),
        (b"null", ClickUpPayloadError::Malformed("the body is JSON but not an object".into())),
        (b" [1,2]", ClickUpPayloadError::Malformed("the body is JSON but not an object".into())),
        (b"\xff\xfe{}", ClickUpPayloadError::Malformed("body is not valid JSON".into())),
        (
            br#"{"event":"taskCreated","webhook_id":"w","task_id":"t","history_items":"notalist"}"#,
            ClickUpPayloadError::WrongType { field: "history_items".into(), detail: "expected an array".into() },
        ),
        (
            br#"{"event":7,"webhook_id":"w"}"#,
            ClickUpPayloadError::WrongType { field: "event".into(), detail: "expected a string".into() },
        ),
        (br#"{"webhook_id":"w"}"#, ClickUpPayloadError::Missing("event")),
        (br#"{"event":"taskCreated"}"#, ClickUpPayloadError::Missing("webhook_id")),
        (br#"{"event":"userCreated","webhook_id":"w"}"#, ClickUpPayloadError::UnknownEvent("userCreated".into())),
        (
            br#"{"event":"taskCreated","webhook_id":"w","task_id":"t","history_items":[{"id":1.5}]}"#,
            ClickUpPayloadError::WrongType { field: "history_items[].id".into(), detail: String::new() },
        ),
        (
            br#"{"event":"taskCreated","webhook_id":"w","task_id":"t","history_items":[{"id":"1","date":"soon"}]}"#,
            ClickUpPayloadError::WrongType { field: "history_items[].date".into(), detail: String::new() },
        ),
        (
            br#"{"event":"taskCreated","webhook_id":{"x":1}}"#,
            ClickUpPayloadError::WrongType { field: "webhook_id".into(), detail: String::new() },
        ),
    ];

    for (body, expected) in cases {
        let error = normalise(body, now()).unwrap_err();
        let same_kind = match (&error, &expected) {
            (ClickUpPayloadError::Malformed(a), ClickUpPayloadError::Malformed(b)) => {
                a.starts_with(b.as_str())
            }
            (
                ClickUpPayloadError::WrongType {
                    field: a,
                    detail: x,
                },
                ClickUpPayloadError::WrongType {
                    field: b,
                    detail: y,
                },
            ) => a == b && x.starts_with(y.as_str()) && !x.contains("notalist"),
            (a, b) => a == b,
        };
        assert!(
            same_kind,
            "{} gave {error:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn webhook_id_is_read_before_verification() {
    assert_eq!(
        webhook_id(br#"{"webhook_id":"abc","event":"x"}"#).unwrap(),
        "abc"
    );
    assert_eq!(
        webhook_id(br#"{"event":"x"}"#),
        Err(ClickUpPayloadError::Missing("webhook_id"))
    );
    for body in [&b"[1,2"[..], b"null", b"[1,2]", b"\"w\""] {
        assert!(
            matches!(webhook_id(body), Err(ClickUpPayloadError::Malformed(_))),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}
