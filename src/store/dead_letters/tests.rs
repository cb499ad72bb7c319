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
