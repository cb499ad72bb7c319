use std::path::Path;

use serde_json::json;

use super::*;

fn change(task_id: &str, date_updated: i64, stands_for: &'static str) -> Change {
    Change {
        task_id: task_id.into(),
        list_id: "901".into(),
        date_updated,
        stands_for,
    }
}

#[test]
fn only_tasks_updated_after_the_cursor_are_changes_oldest_first() {
    let cursor = 1_000;
    let tasks = [
        json!({"id": "late", "date_created": "900", "date_updated": "1300"}),
        json!({"id": "new", "date_created": "1100", "date_updated": "1200"}),
        json!({"id": "at_cursor", "date_created": "500", "date_updated": "1000"}),
        json!({"id": "old", "date_created": "500", "date_updated": "999"}),
        json!({"id": 123456789012345678_u64, "date_created": 1001, "date_updated": 1001}),
        json!({"id": "no_time", "date_created": "1100"}),
        json!({"date_updated": "1500"}),
        json!({"id": "float", "date_updated": 1.5e3}),
    ];
    let expected = vec![
        change("123456789012345678", 1001, "taskCreated"),
        change("new", 1200, "taskCreated"),
        change("late", 1300, "taskUpdated"),
    ];

    assert_eq!(changed_since("901", &tasks, cursor), expected);
}

#[test]
fn a_task_version_has_one_event_id_and_another_version_another() {
    let cases = [
        (("86a1", 1_700_000_000_000), "86a1:1700000000000"),
        (("86a1", 1_700_000_000_001), "86a1:1700000000001"),
        (("86a2", 1_700_000_000_000), "86a2:1700000000000"),
    ];
    for ((task, at), expected) in cases {
        assert_eq!(event_id(task, at), expected);
    }

    let first = envelope(&change("86a1", 1_700_000_000_000, "taskCreated"));
    let again = envelope(&change("86a1", 1_700_000_000_000, "taskCreated"));
    assert_eq!(first.dedup_key(), again.dedup_key());
    assert_eq!(
        first.dedup_key(),
        "urn:clickup:reconcile 86a1:1700000000000"
    );
    assert_eq!(first.routingkey, "clickup.reconcile.taskChanged");
    assert_eq!(first.subject.as_deref(), Some("task:86a1"));
    let data: Value = serde_json::from_str(first.data.get()).unwrap();
    assert_eq!(
        data,
        json!({"event": "taskCreated", "reconciled": true, "task_id": "86a1",
               "list_id": "901", "date_updated": "1700000000000"})
    );
}

#[test]
fn watched_lists_are_the_known_webhooks_lists_the_intake_and_the_assignment_lists() {
    let rules = RuleSet::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap();
    let webhook = |id: &str, list: Option<&str>| Webhook {
        id: id.into(),
        endpoint: "https://router.example/webhooks/clickup".into(),
        events: vec!["*".into()],
        list_id: list.map(str::to_owned),
        status: "active".into(),
        fail_count: 0,
    };
    let listed = [
        webhook("ours", Some("111")),
        webhook("ours-too", None),
        webhook("someone-elses", Some("222")),
    ];
    let known = vec!["ours".to_owned(), "ours-too".to_owned()];

    let lists: Vec<String> = watched_lists(&listed, &known, &rules).into_iter().collect();

    let intake = rules.access_policy().unwrap().intake.list_id.clone();
    let mut expected = vec![
        "111".to_owned(),
        intake,
        "901100000950".into(),
        "901100000960".into(),
        "901100000970".into(),
    ];
    expected.sort();
    expected.dedup();
    assert_eq!(lists, expected);
}
