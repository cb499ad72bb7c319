use super::*;
use crate::store::temp_store;

fn letter(fingerprint: &str, message_id: &str) -> NewDeadLetter {
    NewDeadLetter {
        fingerprint: fingerprint.into(),
        message_id: Some(message_id.into()),
        lane: Some("deprovision".into()),
        source_queue: Some("cir.deprovision".into()),
        routing_key: "iam.user.terminated".into(),
        reason: "rejected".into(),
        error_code: Some("enterprise_required".into()),
        error: Some("mail jane.doe@example.com failed".into()),
        attempts: 2,
        first_failed_at: 1_000,
        last_failed_at: 2_000,
        envelope: br#"{"id":"e"}"#.to_vec(),
        failure_key: Some(format!("src {message_id}")),
    }
}

#[test]
fn failure_messages_lose_their_emails_and_length() {
    let long = "x".repeat(1000);
    let cases = [
        ("no account for jane@example.com", "no account for [email]"),
        ("(\"a@b.c\") and <d@e.f>", "[email] and [email]"),
        (
            "ClickUp answered 503 none: down",
            "ClickUp answered 503 none: down",
        ),
        ("", ""),
    ];
    for (input, expected) in cases {
        assert_eq!(non_personal(input), expected, "{input}");
    }
    assert_eq!(non_personal(&long).chars().count(), MAX_ERROR_CHARS);
}

#[tokio::test]
async fn failures_count_attempts_and_keep_the_first_time() {
    let (store, _dir) = temp_store().await;

    store
        .note_failure("src e1", "provision", "clickup_server_error", "503")
        .await
        .unwrap();
    store
        .note_failure("src e1", "provision", "refused", "to a@b.c: no")
        .await
        .unwrap();
    store
        .note_failure("src e1", "deprovision", "refused", "other lane")
        .await
        .unwrap();

    let failure = store
        .message_failure("src e1", "provision")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failure.attempts, 2);
    assert!(failure.first_failed_at <= failure.last_failed_at);
    assert_eq!(
        (failure.error_code.as_str(), failure.error.as_str()),
        ("refused", "to [email] no")
    );
    assert!(store
        .message_failure("src e2", "provision")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_dead_letter_is_recorded_once_and_read_back_in_pages() {
    let (store, _dir) = temp_store().await;

    let first = store.record_dead_letter(&letter("f1", "e1")).await.unwrap();
    let again = store.record_dead_letter(&letter("f1", "e1")).await.unwrap();
    let second = store.record_dead_letter(&letter("f2", "e2")).await.unwrap();
    let third = store.record_dead_letter(&letter("f3", "e3")).await.unwrap();

    assert!(first.is_some() && second.is_some() && third.is_some());
    assert_eq!(
        again, None,
        "a redelivered dead letter is not recorded twice"
    );
    let page = store.dead_letters(2, None, None).await.unwrap();
    let ids: Vec<&str> = page
        .iter()
        .filter_map(|d| d.message_id.as_deref())
        .collect();
    assert_eq!(ids, ["e1", "e2"]);
    let next = store.dead_letters(2, Some(page[1].id), None).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].message_id.as_deref(), Some("e3"));
    assert_eq!(
        next[0].error.as_deref(),
        Some("mail [email] failed"),
        "no email on record"
    );

    let shown = store.dead_letter(next[0].id).await.unwrap().unwrap();
    assert_eq!(shown.record, next[0]);
    assert_eq!(shown.envelope, br#"{"id":"e"}"#);
    assert_eq!(shown.record.attempts, 2);
    assert!(store.dead_letter(9_999).await.unwrap().is_none());
}

fn processed(outcome: &str) -> crate::store::Processed {
    crate::store::Processed {
        lane: "provision".into(),
        outcome: outcome.into(),
        detail: String::new(),
    }
}

fn audit(action: &str) -> crate::store::AuditEntry {
    crate::store::AuditEntry {
        actor: "cli:ops".into(),
        action: action.into(),
        subject: None,
        object: Some("dead-letter:1".into()),
        outcome: "replayed".into(),
        correlation_id: "c1".into(),
        event_id: "src e1".into(),
        detail: serde_json::json!({}),
    }
}

/// A message's failures go with its outcome (unless it failed for good,
/// when the dead-letter recorder still reads them) or with its dead letter.
#[tokio::test]
async fn failures_are_deleted_with_the_outcome_or_the_dead_letter() {
    let (store, _dir) = temp_store().await;
    for key in ["src e1", "src e2", "src e3"] {
        store
            .note_failure(key, "provision", "refused", "no")
            .await
            .unwrap();
    }

    store
        .record_message("src e1", "clickup-item:9", &processed("applied"), &[])
        .await
        .unwrap();
    store
        .record("src e2", &processed("failed"), &[])
        .await
        .unwrap();
    let kept = store.message_failure("src e2", "provision").await.unwrap();
    store.record_dead_letter(&letter("f2", "e2")).await.unwrap();
    store
        .record_dead_letter(&letter("f3", "other"))
        .await
        .unwrap();

    assert!(store
        .message_failure("src e1", "provision")
        .await
        .unwrap()
        .is_none());
    assert!(
        kept.is_some(),
        "a failed outcome keeps them for its dead letter"
    );
    assert!(store
        .message_failure("src e2", "provision")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .message_failure("src e3", "provision")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_letter_is_replayed_once_after_its_claim_or_dropped_and_kept() {
    let (store, _dir) = temp_store().await;
    let lease = std::time::Duration::from_secs(30);
    let first = store
        .record_dead_letter(&letter("f1", "e1"))
        .await
        .unwrap()
        .unwrap();
    let second = store
        .record_dead_letter(&letter("f2", "e1"))
        .await
        .unwrap()
        .unwrap();

    assert!(matches!(
        store.claim_dead_letter(first, lease).await.unwrap(),
        Claimed::Done(_)
    ));
    assert_eq!(
        store.claim_dead_letter(first, lease).await.unwrap(),
        Claimed::Busy
    );
    let failed = store
        .settle_replay(first, "cli:ops", false, &audit("dead_letter.replayed"))
        .await
        .unwrap();
    assert_eq!(failed, Settled::Failed);
    assert!(matches!(
        store.claim_dead_letter(first, lease).await.unwrap(),
        Claimed::Done(_)
    ));
    let replayed = store
        .settle_replay(first, "cli:ops", true, &audit("dead_letter.replayed"))
        .await
        .unwrap();
    store.claim_dead_letter(second, lease).await.unwrap();
    let again = store
        .settle_replay(second, "iam-sub", true, &audit("dead_letter.replayed"))
        .await
        .unwrap();

    assert_eq!(
        (replayed, again),
        (Settled::Replayed(1), Settled::Replayed(2)),
        "the message's replays count"
    );
    let record = store.dead_letter(first).await.unwrap().unwrap().record;
    assert_eq!(record.state, LetterState::Replayed);
    assert_eq!(record.replayed_by.as_deref(), Some("cli:ops"));
    assert!(matches!(
        store.claim_dead_letter(first, lease).await.unwrap(),
        Claimed::NotOpen(_)
    ));
    assert!(matches!(
        store
            .drop_dead_letter(first, "x", &audit("dead_letter.dropped"))
            .await
            .unwrap(),
        Claimed::NotOpen(_)
    ));
    assert_eq!(
        store.claim_dead_letter(99, lease).await.unwrap(),
        Claimed::NotFound
    );
    assert_eq!(
        store.audit_by_correlation("c1").await.unwrap().len(),
        3,
        "each settlement audited"
    );

    let third = store
        .record_dead_letter(&letter("f3", "e3"))
        .await
        .unwrap()
        .unwrap();
    let dropped = store
        .drop_dead_letter(third, "iam-sub", &audit("dead_letter.dropped"))
        .await
        .unwrap();
    let Claimed::Done(dropped) = dropped else {
        panic!("dropped: {dropped:?}")
    };
    assert_eq!(
        (dropped.state, dropped.dropped_by.as_deref()),
        (LetterState::Dropped, Some("iam-sub"))
    );
    assert!(
        store.dead_letter(third).await.unwrap().is_some(),
        "kept on record"
    );
    let cases = [
        (None, vec![first, second, third]),
        (Some(LetterState::Open), vec![]),
        (Some(LetterState::Replayed), vec![first, second]),
        (Some(LetterState::Dropped), vec![third]),
    ];
    for (state, ids) in cases {
        let listed: Vec<i64> = store
            .dead_letters(50, None, state)
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(listed, ids, "{state:?}");
    }
}

#[tokio::test]
async fn a_replay_clears_a_failed_outcome_but_never_a_done_one() {
    let (store, _dir) = temp_store().await;
    store
        .record("src e1", &processed("failed"), &[])
        .await
        .unwrap();
    store
        .record("src e2", &processed("applied"), &[])
        .await
        .unwrap();
    store
        .note_failure("src e1", "provision", "refused", "no")
        .await
        .unwrap();

    store.clear_for_replay("src e1", "src e1").await.unwrap();
    store.clear_for_replay("src e2", "src e2").await.unwrap();

    assert!(store.processed("src e1").await.unwrap().is_none());
    assert!(store
        .message_failure("src e1", "provision")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.processed("src e2").await.unwrap().unwrap().outcome,
        "applied"
    );
}
