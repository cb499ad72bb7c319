//! Store behaviour against a real database: a SQLite file, or PostgreSQL when
//! `TEST_POSTGRES_URL` is set.

use std::collections::HashMap;

use super::*;

use super::temp_store as store;
use crate::scim::schema::ResourceType;

fn entry(action: &str) -> AuditEntry {
    AuditEntry {
        actor: "router".into(),
        action: action.into(),
        subject: Some("user:1".into()),
        object: None,
        outcome: "ok".into(),
        correlation_id: "corr-1".into(),
        event_id: "evt-1".into(),
        detail: serde_json::json!({"n": 1}),
    }
}

#[tokio::test]
async fn a_receipt_moves_from_claimed_to_accepted_and_then_counts_as_duplicate() {
    let (store, _dir) = store().await;
    let lease = Duration::from_secs(10);

    assert_eq!(store.claim_receipt("k", lease).await.unwrap(), Claim::New);
    assert_eq!(
        store.claim_receipt("k", lease).await.unwrap(),
        Claim::InFlight
    );

    store
        .accept_receipt_with("k", &entry("event.received"))
        .await
        .unwrap();

    assert_eq!(
        store.claim_receipt("k", lease).await.unwrap(),
        Claim::Accepted
    );
    store.release_receipt("k").await.unwrap();
    assert_eq!(
        store.claim_receipt("k", lease).await.unwrap(),
        Claim::Accepted
    );
}

#[tokio::test]
async fn a_released_or_expired_claim_can_be_claimed_again() {
    let (store, _dir) = store().await;

    assert_eq!(
        store
            .claim_receipt("k", Duration::from_secs(10))
            .await
            .unwrap(),
        Claim::New
    );
    store.release_receipt("k").await.unwrap();
    assert_eq!(
        store.claim_receipt("k", Duration::ZERO).await.unwrap(),
        Claim::New
    );

    tokio::time::sleep(Duration::from_millis(5)).await;

    assert_eq!(
        store
            .claim_receipt("k", Duration::from_secs(10))
            .await
            .unwrap(),
        Claim::New
    );
}

#[tokio::test]
async fn recording_a_message_twice_keeps_one_outcome_and_one_set_of_audit_rows() {
    let (store, _dir) = store().await;
    let first = Processed {
        lane: "deprovision".into(),
        outcome: "removed".into(),
        detail: "member 1".into(),
    };
    let second = Processed {
        outcome: "failed".into(),
        ..first.clone()
    };

    assert!(store
        .record("m1", &first, &[entry("remove_member")])
        .await
        .unwrap());
    assert!(!store
        .record("m1", &second, &[entry("remove_member")])
        .await
        .unwrap());

    assert_eq!(store.processed("m1").await.unwrap(), Some(first));
    let rows = store.audit_by_correlation("corr-1").await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].action, "remove_member");
    assert_eq!(rows[0].detail, r#"{"n":1}"#);
    assert_eq!(store.processed("m2").await.unwrap(), None);
}

#[tokio::test]
async fn audit_rows_cannot_be_changed_or_deleted() {
    let (store, _dir) = store().await;
    store.append_audit(&entry("refused")).await.unwrap();

    let update = sqlx::query("UPDATE audit SET outcome = 'rewritten'")
        .execute(store.pool())
        .await;
    let delete = sqlx::query("DELETE FROM audit").execute(store.pool()).await;

    assert!(update.unwrap_err().to_string().contains("append-only"));
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(store.audit_by_correlation("corr-1").await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_store_opened_read_only_reads_but_refuses_writes() {
    let (store, kept) = store().await;
    store.append_audit(&entry("written")).await.unwrap();
    let settings = StoreSettings {
        database_url: kept.url().parse().unwrap(),
    };

    let reader = Store::open_read_only(&settings).await.unwrap();

    assert_eq!(
        reader.audit_by_correlation("corr-1").await.unwrap().len(),
        1
    );
    assert!(reader.append_audit(&entry("refused")).await.is_err());
    assert_eq!(store.audit_by_correlation("corr-1").await.unwrap().len(), 1);
}

/// SCIM writes decide against what they read (userName taken, If-Match), so one waits for
/// the other: SQLite's write lock, PostgreSQL's advisory lock.
#[tokio::test]
async fn a_scim_write_waits_until_the_one_in_progress_ends() {
    let (store, _dir) = store().await;
    let first = store.scim_write().await.unwrap();

    let waiting = store.clone();
    let second = tokio::spawn(async move { waiting.scim_write().await.map(drop) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "both SCIM writes were open at once");

    first.commit().await.unwrap();

    let second = tokio::time::timeout(Duration::from_secs(5), second).await;
    assert!(matches!(second, Ok(Ok(Ok(())))), "{second:?}");
}

/// The migration that added `scim_resources.email` fills it for rows written before, by the
/// same rule the writes use (`scim::events::chosen_email`, lowercased): its backfill run over
/// rows whose column was emptied gives back what the writes stored.
#[tokio::test]
async fn the_email_backfill_picks_what_the_writes_pick() {
    let (store, _dir) = store().await;
    let users = [
        serde_json::json!({"userName": "a"}),
        serde_json::json!({"userName": "b", "emails": [{"value": " B@X "}]}),
        serde_json::json!({"userName": "c", "emails": [{"value": "h@x", "type": "home"},
                                                       {"value": "W@x", "type": "work"}]}),
        serde_json::json!({"userName": "d", "emails": [{"value": "w@x", "type": "work"},
                                                       {"value": "P@x", "primary": true}]}),
        serde_json::json!({"userName": "e", "emails": [{"primary": true}, {"value": "x@x"}]}),
    ];
    let mut write = store.scim_write().await.unwrap();
    for (n, user) in users.iter().enumerate() {
        write
            .insert(
                ResourceType::User,
                &format!("u{n}"),
                user,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
    }
    write.commit().await.unwrap();
    let emails = || async {
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT id, email FROM scim_resources ORDER BY id")
                .fetch_all(store.pool())
                .await
                .unwrap();
        rows
    };
    let written = emails().await;

    sqlx::query("UPDATE scim_resources SET email = NULL")
        .execute(store.pool())
        .await
        .unwrap();
    let migration = match store.backend {
        Backend::Sqlite => include_str!("../../migrations/sqlite/20261206000004_scim_email.sql"),
        Backend::Postgres => {
            include_str!("../../migrations/postgres/20261206000004_scim_email.sql")
        }
    };
    let start = migration.find("UPDATE scim_resources").unwrap();
    let end = start + migration[start..].find(';').unwrap();
    sqlx::query(&migration[start..end])
        .execute(store.pool())
        .await
        .unwrap();

    assert_eq!(emails().await, written);
    let expected = [None, Some("b@x"), Some("w@x"), Some("p@x"), None];
    let stored: Vec<Option<&str>> = written.iter().map(|(_, e)| e.as_deref()).collect();
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn old_accepted_receipts_are_pruned_and_pending_ones_kept() {
    let (store, _dir) = store().await;
    store
        .claim_receipt("old", Duration::from_secs(10))
        .await
        .unwrap();
    store
        .accept_receipt_with("old", &entry("event.received"))
        .await
        .unwrap();
    store
        .claim_receipt("pending", Duration::from_secs(10))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    assert_eq!(
        store
            .prune_receipts(Duration::from_millis(1))
            .await
            .unwrap(),
        1
    );

    assert_eq!(
        store
            .claim_receipt("old", Duration::from_secs(10))
            .await
            .unwrap(),
        Claim::New
    );
    assert_eq!(
        store
            .claim_receipt("pending", Duration::from_secs(10))
            .await
            .unwrap(),
        Claim::InFlight
    );
}

#[tokio::test]
async fn claims_whose_lease_ended_long_ago_are_pruned() {
    let (store, _dir) = store().await;
    store.claim_receipt("orphan", Duration::ZERO).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    assert_eq!(
        store
            .prune_receipts(Duration::from_millis(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .claim_receipt("orphan", Duration::from_secs(10))
            .await
            .unwrap(),
        Claim::New
    );
}

/// Every write pays for every index: no table may carry two indexes on the same columns.
#[tokio::test]
async fn no_table_has_two_indexes_on_the_same_columns() {
    let (store, _dir) = store().await;

    let mut seen: HashMap<(String, Vec<String>), String> = HashMap::new();
    for (table, index, columns) in indexes(&store).await {
        let twin = seen.insert((table.clone(), columns.clone()), index.clone());

        assert!(
            twin.is_none(),
            "{table}: {index} and {twin:?} both index {columns:?}"
        );
    }
    assert!(seen.len() > 10, "indexes read: {}", seen.len());
}

/// The indexes the migrations created (not those of primary keys and unique constraints):
/// table, index, columns in order.
async fn indexes(store: &Store) -> Vec<(String, String, Vec<String>)> {
    let named: Vec<(String, String, String)> = match store.backend() {
        Backend::Sqlite => {
            sqlx::query_as(
                "SELECT m.tbl_name, m.name, '' FROM sqlite_master m
                 WHERE m.type = 'index' AND m.name NOT LIKE 'sqlite_autoindex%'",
            )
            .fetch_all(store.pool())
            .await
            .unwrap()
        }
        Backend::Postgres => {
            sqlx::query_as(
                "SELECT t.relname::text, i.relname::text,
                        array_to_string(ARRAY(
                            SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k (attnum, n)
                            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                            ORDER BY k.n), ',')
                 FROM pg_index x
                 JOIN pg_class i ON i.oid = x.indexrelid
                 JOIN pg_class t ON t.oid = x.indrelid
                 JOIN pg_namespace s ON s.oid = t.relnamespace
                 WHERE s.nspname = current_schema()
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            )
            .fetch_all(store.pool())
            .await
            .unwrap()
        }
    };

    let mut indexes = Vec::with_capacity(named.len());
    for (table, index, columns) in named {
        let columns = match store.backend() {
            Backend::Sqlite => sqlx::query_scalar(&format!(
                "SELECT name FROM pragma_index_info('{index}') ORDER BY seqno"
            ))
            .fetch_all(store.pool())
            .await
            .unwrap(),
            Backend::Postgres => columns.split(',').map(str::to_owned).collect(),
        };
        indexes.push((table, index, columns));
    }
    indexes
}
