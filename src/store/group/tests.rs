//! Group commit against a real database: concurrent writes share transactions, answer as if
//! each were alone, and one failing write fails only itself.

use std::{sync::atomic::Ordering, time::Duration};

use futures_util::future::join_all;

use super::super::{temp_sqlite_store, temp_store, AuditEntry, Claim, Store};

const LEASE: Duration = Duration::from_secs(10);

fn received(key: &str) -> AuditEntry {
    AuditEntry {
        actor: "receiver".into(),
        action: "event.received".into(),
        subject: None,
        object: None,
        outcome: "accepted".into(),
        correlation_id: format!("corr-{key}"),
        event_id: key.into(),
        detail: serde_json::json!({"event_id": key}),
    }
}

async fn received_rows(store: &Store, key: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit WHERE event_id = $1 AND action = 'event.received'",
    )
    .bind(key)
    .fetch_one(&store.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn concurrent_claims_share_transactions_and_each_gets_its_own_answer() {
    let (store, _dir) = temp_store().await;
    let keys: Vec<String> = (0..64).map(|n| format!("k{n}")).collect();

    let claims = join_all(keys.iter().map(|key| store.claim_receipt(key, LEASE))).await;

    assert!(
        claims.iter().all(|claim| matches!(claim, Ok(Claim::New))),
        "{claims:?}"
    );
    let batches = store.receipts.batches.load(Ordering::Relaxed);
    let writes = store.receipts.writes.load(Ordering::Relaxed);
    assert_eq!(writes, 64);
    assert!(
        batches < 8,
        "64 concurrent claims took {batches} transactions"
    );

    let accepts = join_all(
        keys.iter()
            .map(|key| async { store.accept_receipt_with(key, &received(key)).await }),
    )
    .await;
    assert!(accepts.iter().all(Result::is_ok), "{accepts:?}");
    for key in &keys {
        assert_eq!(received_rows(&store, key).await, 1, "{key}");
        assert_eq!(
            store.claim_receipt(key, LEASE).await.unwrap(),
            Claim::Accepted
        );
    }
}

#[tokio::test]
async fn writes_of_one_key_in_one_batch_answer_as_they_would_one_after_another() {
    let (store, _dir) = temp_store().await;

    let claims = join_all((0..5).map(|_| store.claim_receipt("same", LEASE))).await;
    let claims: Vec<Claim> = claims.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        claims,
        [
            Claim::New,
            Claim::InFlight,
            Claim::InFlight,
            Claim::InFlight,
            Claim::InFlight
        ]
    );

    // Two acceptances of one claim (a redelivered confirm) record it once.
    let entry = received("same");
    let accepts = join_all((0..2).map(|_| store.accept_receipt_with("same", &entry))).await;
    assert!(accepts.iter().all(Result::is_ok), "{accepts:?}");
    assert_eq!(received_rows(&store, "same").await, 1);

    // A release after acceptance frees nothing: the key stays a duplicate.
    store.release_receipt("same").await.unwrap();
    assert_eq!(
        store.claim_receipt("same", LEASE).await.unwrap(),
        Claim::Accepted
    );
}

#[tokio::test]
async fn a_write_the_database_refuses_fails_alone_and_its_neighbours_are_written() {
    let (store, _dir) = temp_sqlite_store().await;
    sqlx::query(
        "CREATE TRIGGER refuse_bad BEFORE INSERT ON receipts WHEN NEW.dedup_key = 'bad'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(&store.pool)
    .await
    .unwrap();
    let keys = ["good-1", "bad", "good-2", "good-3"];

    let claims = join_all(keys.iter().map(|key| store.claim_receipt(key, LEASE))).await;

    for (key, claim) in keys.iter().zip(&claims) {
        match *key {
            "bad" => assert!(claim.is_err(), "{claim:?}"),
            _ => assert!(matches!(claim, Ok(Claim::New)), "{key}: {claim:?}"),
        }
    }
    // The good claims were committed: claiming again finds them in flight.
    for key in ["good-1", "good-2", "good-3"] {
        assert_eq!(
            store.claim_receipt(key, LEASE).await.unwrap(),
            Claim::InFlight,
            "{key}"
        );
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM receipts")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(stored, 3);
}

#[tokio::test]
async fn a_request_dropped_while_its_batch_runs_leaves_the_batch_to_finish() {
    let (store, _dir) = temp_store().await;

    // The first claim takes the turn and its batch runs in a task of its own; the caller
    // gives up at once, as actix does when a sender hangs up.
    let first = store.claim_receipt("dropped", LEASE);
    let _ = tokio::time::timeout(Duration::ZERO, first).await;
    let second = store.claim_receipt("kept", LEASE).await.unwrap();

    assert_eq!(second, Claim::New);
    assert_eq!(
        store.claim_receipt("dropped", LEASE).await.unwrap(),
        Claim::InFlight,
        "the dropped request's claim was written all the same"
    );
}
