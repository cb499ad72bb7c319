//! Requests and decisions against a real store (SQLite, or PostgreSQL with `TEST_POSTGRES_URL`).

use super::*;

use crate::store::temp_store as store;

fn audit(action: &str) -> AuditEntry {
    AuditEntry {
        actor: "router".into(),
        action: action.into(),
        subject: None,
        object: Some("task:86a".into()),
        outcome: "ok".into(),
        correlation_id: "request:86a".into(),
        event_id: format!("request:86a:{action}"),
        detail: serde_json::json!({}),
    }
}

fn decision(step: i64, approved: bool, by: &str) -> Decision {
    Decision {
        task_id: "86a".into(),
        step,
        approved,
        decided_by: by.into(),
        via: "clickup-status".into(),
    }
}

#[tokio::test]
async fn a_task_is_taken_in_once_and_reads_back_as_written() {
    let (store, _dir) = store().await;
    let mut request = AccessRequest::new("86a", "901100000901", 9001004, 1_000);

    assert!(store.insert_request(&request).await.unwrap());
    assert!(
        !store.insert_request(&request).await.unwrap(),
        "the second intake is a no-op"
    );

    request.iam_id = Some("aa01".into());
    request.state = RequestState::Pending;
    request.approvers = vec![9001005, 9001006];
    request.approver_iam_ids = vec!["aa05".into(), "aa06".into()];
    request.iam_request_id = Some("361da2b0".into());
    request.announced_step = 0;
    store
        .save_request(&mut request, &[audit("request.routed")])
        .await
        .unwrap();

    assert_eq!(store.request("86a").await.unwrap(), Some(request.clone()));
    assert_eq!(
        store.request_by_iam_id("361da2b0").await.unwrap(),
        Some(request)
    );
    assert_eq!(
        store
            .audit_by_correlation("request:86a")
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn each_step_is_decided_once_and_a_second_decision_writes_nothing() {
    let (store, _dir) = store().await;
    let mut request = AccessRequest::new("86a", "901100000901", 9001004, 1_000);
    store.insert_request(&request).await.unwrap();
    request.state = RequestState::Approved;

    let first = store
        .decide(
            &decision(0, true, "clickup:9001005"),
            &mut request,
            &[audit("request.approved")],
        )
        .await
        .unwrap();
    let mut denied = request.clone();
    denied.state = RequestState::Denied;
    let second = store
        .decide(
            &decision(0, false, "clickup:9001006"),
            &mut denied,
            &[audit("request.denied")],
        )
        .await
        .unwrap();
    let next_step = store
        .decide(
            &decision(1, false, "clickup:9001006"),
            &mut denied,
            &[audit("request.denied")],
        )
        .await
        .unwrap();

    assert!(first);
    assert!(!second, "step 0 was decided");
    assert!(next_step, "step 1 is another decision");
    let actions: Vec<String> = store
        .audit_by_correlation("request:86a")
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["request.approved", "request.denied"]);
}

#[tokio::test]
async fn the_scheduler_sees_only_requests_with_work_left() {
    let (store, _dir) = store().await;
    let cases = [
        ("pending", RequestState::Pending, None, true, None, true),
        ("approved", RequestState::Approved, None, false, None, true),
        (
            "granted until",
            RequestState::Granted,
            Some(5_000),
            true,
            None,
            true,
        ),
        (
            "granted for good",
            RequestState::Granted,
            None,
            true,
            None,
            false,
        ),
        (
            "granted, not commented",
            RequestState::Granted,
            None,
            false,
            None,
            true,
        ),
        (
            "denied, done",
            RequestState::Denied,
            None,
            true,
            None,
            false,
        ),
        (
            "denied, not reported",
            RequestState::Denied,
            None,
            true,
            Some("iam-1"),
            true,
        ),
        ("ended", RequestState::Ended, Some(5_000), true, None, false),
        (
            "cancelled",
            RequestState::Cancelled,
            None,
            true,
            None,
            false,
        ),
        (
            "incomplete",
            RequestState::Incomplete,
            None,
            false,
            None,
            false,
        ),
    ];
    for (name, state, until, done, iam, _) in &cases {
        let mut request = AccessRequest::new(name, "901100000901", 1, 1_000);
        store.insert_request(&request).await.unwrap();
        request.state = *state;
        request.until = *until;
        request.outcome_done = *done;
        request.iam_request_id = iam.map(str::to_owned);
        store.save_request(&mut request, &[]).await.unwrap();
    }

    let tended: Vec<String> = store
        .requests_to_tend()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.task_id)
        .collect();

    for (name, .., expected) in cases {
        assert_eq!(tended.contains(&name.to_string()), expected, "{name}");
    }
}

#[tokio::test]
async fn requests_decided_before_a_re_enable_do_not_come_back() {
    let (store, _dir) = store().await;
    let identity = IdentityRecord {
        iam_id: "aa01".into(),
        email: None,
        status: "active".into(),
        attributes: serde_json::json!({ "id": "aa01" }),
        clickup_user_id: Some(9001004),
        event_time: 1,
        enabled_at: Some(2_000),
    };
    store.save_identity(&identity).await.unwrap();
    for (task, decided_at) in [("before", 1_000), ("after", 3_000)] {
        let mut request = AccessRequest::new(task, "901100000901", 9001004, 500);
        store.insert_request(&request).await.unwrap();
        request.iam_id = Some("aa01".into());
        request.state = RequestState::Granted;
        request.decided_at = Some(decided_at);
        store.save_request(&mut request, &[]).await.unwrap();
    }

    let granted: Vec<String> = store
        .granted_requests("aa01")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.task_id)
        .collect();

    assert_eq!(granted, ["after"]);
}

#[tokio::test]
async fn a_write_from_a_stale_copy_is_refused_and_changes_nothing() {
    let (store, _dir) = store().await;
    let mut request = AccessRequest::new("86a", "901100000901", 9001004, 1_000);
    store.insert_request(&request).await.unwrap();
    let mut stale = request.clone();

    request.state = RequestState::Granted;
    store.save_request(&mut request, &[]).await.unwrap();
    stale.state = RequestState::Expired;
    let refused = store
        .save_request(&mut stale, &[audit("request.expired")])
        .await;

    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let stored = store.request("86a").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.version), (RequestState::Granted, 1));
    assert!(store
        .audit_by_correlation("request:86a")
        .await
        .unwrap()
        .is_empty());
}
