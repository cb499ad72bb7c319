use super::*;

use crate::store::temp_store as store;

fn audit(action: &str) -> AuditEntry {
    AuditEntry {
        actor: "router".into(),
        action: action.into(),
        subject: None,
        object: None,
        outcome: "ok".into(),
        correlation_id: "c".into(),
        event_id: "e".into(),
        detail: serde_json::json!({}),
    }
}

fn choice(task: &str, user: i64) -> NewAssignment {
    NewAssignment {
        task_id: task.into(),
        rule: "compliance-reviews".into(),
        user_id: Some(user),
        group_id: None,
        iam_id: None,
        event_id: "e".into(),
    }
}

#[tokio::test]
async fn a_task_has_one_open_assignment_and_loads_count_open_ones() {
    let (store, _dir) = store().await;

    store
        .record_assignment(&choice("t1", 7), &audit("task.assigned"))
        .await
        .unwrap();
    store
        .record_assignment(&choice("t2", 7), &audit("task.assigned"))
        .await
        .unwrap();
    store
        .record_assignment(&choice("t1", 8), &audit("task.assigned"))
        .await
        .unwrap();
    store.end_assignment("t2", "closed").await.unwrap();

    assert_eq!(
        store.open_assignment("t1").await.unwrap().unwrap().user_id,
        Some(8)
    );
    assert_eq!(store.open_assignment("t2").await.unwrap(), None);
    let loads = store.open_loads(&[7, 8, 9]).await.unwrap();
    assert_eq!((loads[&7], loads[&8], loads[&9]), (0, 1, 0));
    assert_eq!(store.open_assignments_of(8).await.unwrap().len(), 1);
}

#[tokio::test]
async fn cursors_count_up_from_zero_per_rule() {
    let (store, _dir) = store().await;

    let a: Vec<u64> = [
        store.next_cursor("a").await.unwrap(),
        store.next_cursor("a").await.unwrap(),
        store.next_cursor("a").await.unwrap(),
    ]
    .to_vec();
    let b = store.next_cursor("b").await.unwrap();

    assert_eq!(a, [0, 1, 2]);
    assert_eq!(b, 0);
}

#[tokio::test]
async fn a_leaver_is_noted_once_and_done_once() {
    let (store, _dir) = store().await;

    store
        .note_leaver_tasks("aa01", 9001004, "term-1")
        .await
        .unwrap();
    store
        .note_leaver_tasks("aa01", 9001004, "term-2")
        .await
        .unwrap();
    let noted = store.leavers_with_tasks().await.unwrap();
    store
        .leaver_tasks_done(&noted[0], &audit("task.leaver_reviewed"))
        .await
        .unwrap();

    assert_eq!(
        noted,
        [LeaverTasks {
            iam_id: "aa01".into(),
            user_id: 9001004,
            correlation_id: "term-1".into(),
        }]
    );
    assert!(store.leavers_with_tasks().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_person_who_leaves_again_after_a_re_enable_is_noted_again() {
    let (store, _dir) = store().await;
    store
        .note_leaver_tasks("aa01", 9001004, "term-1")
        .await
        .unwrap();
    let first = store.leavers_with_tasks().await.unwrap();
    store
        .leaver_tasks_done(&first[0], &audit("task.leaver_reviewed"))
        .await
        .unwrap();

    store
        .note_leaver_tasks("aa01", 9001004, "term-1")
        .await
        .unwrap();

    assert_eq!(store.leavers_with_tasks().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_reopened_task_counts_again_for_its_assignee() {
    let (store, _dir) = store().await;
    store
        .record_assignment(&choice("t1", 7), &audit("task.assigned"))
        .await
        .unwrap();
    store.end_assignment("t1", "closed").await.unwrap();
    store
        .record_assignment(&choice("t2", 7), &audit("task.assigned"))
        .await
        .unwrap();
    store.end_assignment("t2", "deleted").await.unwrap();

    let reopened = store.reopen_assignment("t1").await.unwrap();
    let deleted_reopened = store.reopen_assignment("t2").await.unwrap();
    let again = store.reopen_assignment("t1").await.unwrap();

    assert!(reopened);
    assert!(!deleted_reopened, "only a close is undone by a reopen");
    assert!(!again, "already open");
    assert_eq!(store.open_loads(&[7]).await.unwrap()[&7], 1);
}
