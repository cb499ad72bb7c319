use super::*;

use crate::store::temp_store as store;

fn audit(action: &str) -> AuditEntry {
    AuditEntry {
        actor: "router".into(),
        action: action.into(),
        subject: None,
        object: Some("task:t1".into()),
        outcome: "ok".into(),
        correlation_id: "c".into(),
        event_id: "e".into(),
        detail: serde_json::json!({}),
    }
}

fn new(event: &str, chosen: Chosen) -> NewChoice {
    NewChoice {
        task_id: "t1".into(),
        event_id: event.into(),
        correlation_id: "c".into(),
        rule: "compliance-reviews".into(),
        strategy: "round_robin".into(),
        chosen,
        previous: None,
        comment: "Assigned to Rae Risk by the rule \"compliance-reviews\".".into(),
    }
}

fn rae() -> Chosen {
    Chosen::Person {
        user_id: 7,
        iam_id: Some("aa01".into()),
    }
}

async fn audit_rows(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_task_has_one_choice_under_way_and_it_is_read_back_as_noted() {
    let (store, _dir) = store().await;

    let noted = store.note_choice(&new("e1", rae())).await.unwrap();
    let second = store.note_choice(&new("e2", rae())).await;
    let pending = store.pending_choice("t1").await.unwrap();

    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    assert_eq!(pending, Some(noted));
}

#[tokio::test]
async fn a_choice_is_applied_once_with_its_assignment_and_audit_row() {
    let (store, _dir) = store().await;
    let noted = store.note_choice(&new("e1", rae())).await.unwrap();

    store
        .apply_choice(&noted, &audit("task.assigned"))
        .await
        .unwrap();
    let again = store.apply_choice(&noted, &audit("task.assigned")).await;

    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(
        audit_rows(&store).await,
        1,
        "the second apply wrote nothing"
    );
    let open = store.open_assignment("t1").await.unwrap().unwrap();
    assert_eq!(
        (open.user_id, open.iam_id.as_deref(), open.rule.as_str()),
        (Some(7), Some("aa01"), "compliance-reviews")
    );
    let pending = store.pending_choice("t1").await.unwrap().unwrap();
    assert!(pending.applied_at.is_some() && pending.settled_at.is_none());
}

#[tokio::test]
async fn each_kind_of_choice_leaves_its_assignment_on_record() {
    let cases = [
        (rae(), Some(7), None),
        (Chosen::Group { id: "g1".into() }, None, Some("g1")),
        (
            Chosen::Nobody {
                why: "nobody meets the rule's conditions".into(),
            },
            None,
            None,
        ),
    ];
    for (chosen, user_id, group_id) in cases {
        let (store, _dir) = store().await;
        let before = Chosen::Person {
            user_id: 3,
            iam_id: None,
        };
        let first = store.note_choice(&new("e0", before)).await.unwrap();
        store
            .apply_choice(&first, &audit("task.assigned"))
            .await
            .unwrap();
        store.settle_choice(&first, Some("c0")).await.unwrap();

        let noted = store.note_choice(&new("e1", chosen.clone())).await.unwrap();
        store.apply_choice(&noted, &audit("task.x")).await.unwrap();

        let open = store.open_assignment("t1").await.unwrap();
        let read = store.pending_choice("t1").await.unwrap().unwrap();
        assert_eq!(read.made.chosen, chosen);
        match (user_id, group_id) {
            (None, None) => assert_eq!(open, None, "{chosen:?} ends the open assignment"),
            _ => {
                let open = open.unwrap();
                assert_eq!(
                    (open.user_id, open.group_id.as_deref()),
                    (user_id, group_id),
                    "{chosen:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_settled_choice_is_found_by_its_event_and_makes_room_for_the_next() {
    let (store, _dir) = store().await;
    let noted = store.note_choice(&new("e1", rae())).await.unwrap();
    store
        .apply_choice(&noted, &audit("task.assigned"))
        .await
        .unwrap();

    store.settle_choice(&noted, Some("90110")).await.unwrap();
    store.settle_choice(&noted, None).await.unwrap();

    assert_eq!(store.pending_choice("t1").await.unwrap(), None);
    let done = store.choice_made_by("t1", "e1").await.unwrap().unwrap();
    assert_eq!(done.comment_id.as_deref(), Some("90110"), "settled once");
    assert_eq!(store.choice_made_by("t1", "e2").await.unwrap(), None);
    assert!(store.note_choice(&new("e2", rae())).await.is_ok());
}
