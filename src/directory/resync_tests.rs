//! `directory resync` against a temporary SQLite store: counts, event-time merging, refusals
//! that name the event and the field but no value.

use serde_json::{json, Value};

use super::resync::{resync, Position, Refused, Report, ResyncError};
use crate::{
    ingest::iam::{IamPayloadError, IamSchema},
    store::{IdentityRecord, Store},
};

const JOINER: &str = include_str!("../../tests/fixtures/iam/01-joiner-employee.json");
const MOVER: &str = include_str!("../../tests/fixtures/iam/03-mover-dept-title-role.json");
const DISABLE: &str = include_str!("../../tests/fixtures/iam/05-disable.json");
const REENABLE: &str = include_str!("../../tests/fixtures/iam/06-reenable.json");
const DECIDED: &str = include_str!("../../tests/fixtures/iam/13-request-decided-approved.json");
const JANE: &str = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";

use crate::store::temp_store as store;

fn event(fixture: &str) -> Value {
    serde_json::from_str(fixture).unwrap()
}

/// A mover-shaped update of Jane at `time` setting `profile`, with its own id.
fn update(id: &str, time: &str, profile: Value) -> Value {
    let mut update = event(MOVER);
    update["id"] = json!(id);
    update["time"] = json!(time);
    update["data"]["user"]["profile"] = profile;
    update
}

fn lines(events: &[Value]) -> String {
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    lines.join("\n")
}

async fn jane(store: &Store) -> IdentityRecord {
    store.identity(JANE).await.unwrap().unwrap()
}

fn counts(report: &Report) -> (usize, usize, usize, usize) {
    (
        report.read,
        report.merged,
        report.unchanged,
        report.refused(),
    )
}

#[tokio::test]
async fn events_merge_in_event_time_order_and_an_invalid_one_is_refused_by_its_line() {
    let (store, _dir) = store().await;
    let schema = IamSchema::compile().unwrap();
    let mut invalid = event(JOINER);
    invalid["data"]["user"]["email"] = json!("jane.doe.at.example.com");
    let older = update(
        "older-1",
        "2026-04-01T00:00:00Z",
        json!({"department": "Finance", "location": "Paris"}),
    );
    // The mover comes first and the older update last: the file's order is not the merge's.
    let file = lines(&[event(MOVER), invalid, event(JOINER), older]);

    let report = resync(&store, &schema, &file).await.unwrap();

    assert_eq!(counts(&report), (4, 3, 0, 1));
    let refusal = &report.refusals[0];
    assert_eq!(refusal.position, Position::Line(2));
    assert!(
        matches!(&refusal.reason, Refused::Invalid(IamPayloadError::Schema { field, .. })
        if field == "/data/user/email")
    );
    assert!(refusal.to_string().starts_with("line 2: /data/user/email"));
    assert!(!refusal.to_string().contains("jane"), "{refusal}");
    let profile = jane(&store).await.attributes["profile"].clone();
    assert_eq!(profile["department"], "Customer Success");
    assert_eq!(profile["title"], "Customer Success Manager");
    assert_eq!(profile["location"], "Paris");
    assert_eq!(profile["phone"], "+1 555 0100");
    let record = jane(&store).await;
    assert_eq!(record.status, "active");
    assert_eq!(record.email.as_deref(), Some("jane.doe@example.com"));
    assert_eq!(record.event_time, 1_780_295_402_000);
}

#[tokio::test]
async fn an_event_older_than_the_record_changes_nothing_and_others_are_refused_by_index() {
    let (store, _dir) = store().await;
    let schema = IamSchema::compile().unwrap();
    let first = lines(&[event(JOINER), event(MOVER)]);
    resync(&store, &schema, &first).await.unwrap();
    let before = jane(&store).await;
    let stale = update(
        "stale-1",
        "2026-01-01T00:00:00Z",
        json!({"department": "Legal", "title": "Intern"}),
    );
    let mut no_subject = event(MOVER);
    no_subject.as_object_mut().unwrap().remove("subject");
    let file = serde_json::to_string_pretty(&json!([stale, event(DECIDED), no_subject])).unwrap();

    let report = resync(&store, &schema, &file).await.unwrap();

    assert_eq!(counts(&report), (3, 0, 1, 2));
    assert_eq!(report.refusals[0].position, Position::Index(1));
    assert!(matches!(
        report.refusals[0].reason,
        Refused::NotAnIdentityEvent(_)
    ));
    assert_eq!(
        report.refusals[1].to_string().split(':').next(),
        Some("index 2")
    );
    assert!(report.refusals[1].to_string().contains("/subject"));
    assert_eq!(jane(&store).await, before);
}

#[tokio::test]
async fn a_re_enable_is_marked_and_an_older_one_does_not_move_the_mark() {
    let (store, _dir) = store().await;
    let schema = IamSchema::compile().unwrap();
    let mut older_enable = event(REENABLE);
    older_enable["id"] = json!("enable-older");
    older_enable["time"] = json!("2026-08-01T00:00:00Z");
    let file = lines(&[event(JOINER), event(DISABLE), event(REENABLE)]);

    let report = resync(&store, &schema, &file).await.unwrap();
    let later = resync(&store, &schema, &lines(&[older_enable]))
        .await
        .unwrap();

    assert_eq!(counts(&report), (3, 3, 0, 0));
    assert_eq!(counts(&later), (1, 0, 1, 0));
    let record = jane(&store).await;
    assert_eq!(record.status, "active");
    assert_eq!(record.enabled_at, Some(1_788_248_730_000));
}

#[tokio::test]
async fn files_are_read_as_arrays_single_events_or_lines() {
    let (store, _dir) = store().await;
    let schema = IamSchema::compile().unwrap();
    let pretty = serde_json::to_string_pretty(&event(JOINER)).unwrap();
    let cases = [
        (format!("\n\n{pretty}\n"), (1, 1, 0, 0), None),
        (
            format!("{}\n\n   \n{{oops\n", event(MOVER)),
            (2, 1, 0, 1),
            Some(Position::Line(4)),
        ),
        ("[]".to_string(), (0, 0, 0, 0), None),
        (String::new(), (0, 0, 0, 0), None),
    ];

    for (file, expected, refused_at) in cases {
        let report = resync(&store, &schema, &file).await.unwrap();

        assert_eq!(counts(&report), expected, "{file:.40}");
        assert_eq!(report.refusals.first().map(|r| r.position), refused_at);
    }
    assert!(matches!(
        resync(&store, &schema, "[{\"a\": 1},").await,
        Err(ResyncError::NotAnArray(_))
    ));
}
