//! Audit rows written at the edges and looked up for correlation: the receipt accepted with
//! its `event.received` row, the router's row that caused an echo or a change in ClickUp's
//! audit log, and the correlation id of an event already on record.

use chrono::Utc;
use serde_json::json;
use sqlx::Row;

use super::{insert_audit, AuditEntry, Store, StoreError};
use crate::{ingest::envelope::Envelope, worker::deprovision::ROUTER_ACTOR};

/// Where to look for the router's row that caused something ClickUp reports at `at`.
#[derive(Clone, Debug)]
pub struct Near<'a> {
    /// `task:<id>` or `user:<iam id>`: matched against the row's subject or object.
    pub key: &'a str,
    /// When ClickUp made the change (ms).
    pub at: i64,
    /// How far before `at` a row may be (clock skew between ClickUp and the router).
    pub before_ms: i64,
    /// How far after `at` a row may be (the action is recorded after ClickUp answered).
    pub after_ms: i64,
}

/// The `event.received` row of an accepted event: ids and type, never the payload. The
/// actor is the sender: `clickup:<webhook id>` or `iam:<source>`; `recorded_by` says whether
/// the receiver wrote it with the confirm or the worker with the delivery (see
/// [`Store::adopt_receipt`]).
pub fn received(envelope: &Envelope, recorded_by: &str) -> AuditEntry {
    let actor = match envelope.source.strip_prefix(CLICKUP_SOURCE) {
        Some(webhook) => format!("clickup:{webhook}"),
        None if envelope.source == crate::reconcile::tasks::SOURCE => "clickup:reconcile".into(),
        None => format!("iam:{}", envelope.source),
    };
    AuditEntry {
        actor,
        action: "event.received".into(),
        subject: envelope.subject.clone(),
        object: None,
        outcome: "accepted".into(),
        correlation_id: envelope.correlationid.clone(),
        event_id: envelope.dedup_key(),
        detail: json!({
            "event_id": envelope.id,
            "event_type": envelope.event_type,
            "routing_key": envelope.routingkey,
            "time": envelope.time.timestamp_millis(),
            "recorded_by": recorded_by,
        }),
    }
}

/// The source of every ClickUp envelope, followed by its webhook id.
const CLICKUP_SOURCE: &str = "urn:clickup:webhook:";

impl Store {
    /// Takes over the acceptance of a delivered message whose receiver did not record it: the
    /// broker may confirm a publish after the receiver gave up waiting (and answered 503), or
    /// deliver it before the receiver has marked it. Exactly one `event.received` row results
    /// whichever side comes first; `true` when this call wrote it.
    pub async fn adopt_receipt(&self, received: &AuditEntry) -> Result<bool, StoreError> {
        let key = &received.event_id;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM receipts WHERE dedup_key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        if state.as_deref() == Some("accepted") {
            return Ok(false);
        }

        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool.begin().await?;
        // A receipt pruned long ago (a dead letter replayed days later) has its row already.
        let adopted = sqlx::query(
            "INSERT INTO receipts (dedup_key, state, locked_until, accepted_at)
             SELECT $1, 'accepted', 0, $2
             WHERE NOT EXISTS (SELECT 1 FROM audit WHERE event_id = $1 AND action = 'event.received')
             ON CONFLICT (dedup_key) DO UPDATE SET state = 'accepted', accepted_at = $2
             WHERE receipts.state = 'pending'",
        )
        .bind(key)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if adopted {
            insert_audit(&mut tx, now, received).await?;
        }
        tx.commit().await?;
        Ok(adopted)
    }

    /// Marks a claimed key accepted and appends its `event.received` row, in one
    /// transaction (shared with other receipt writes queued beside it): call only after the
    /// broker confirmed.
    pub async fn accept_receipt_with(
        &self,
        key: &str,
        received: &AuditEntry,
    ) -> Result<(), StoreError> {
        let write = super::group::Write::Accept {
            key: key.to_owned(),
            received: received.clone(),
        };
        self.receipts.write(&self.pool, write).await.map(drop)
    }

    /// The correlation id of the router's row on `near.key` closest to `near.at` (rows at or
    /// after it first, since the router records an action after ClickUp answered it); rows
    /// that are themselves echoes or ClickUp audit-log records never count.
    pub async fn router_correlation_near(
        &self,
        near: &Near<'_>,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT correlation_id FROM audit
             WHERE (object = $1 OR subject = $1) AND actor = $2
               AND action NOT IN ('clickup.echo', 'clickup.audit_log')
               AND at BETWEEN $3 - $4 AND $3 + $5
             ORDER BY CASE WHEN at >= $3 THEN at - $3 ELSE $5 + ($3 - at) END, seq
             LIMIT 1",
        )
        .bind(near.key)
        .bind(ROUTER_ACTOR)
        .bind(near.at)
        .bind(near.before_ms)
        .bind(near.after_ms)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| row.get(0)))
    }

    /// The IAM identity of a ClickUp account: linked by its user id, else by email (any
    /// case); the most recently updated when several match.
    pub async fn identity_of_account(
        &self,
        user_id: Option<i64>,
        email: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let iam_id = sqlx::query_scalar(
            "SELECT iam_id FROM identities
             WHERE ($1 IS NOT NULL AND clickup_user_id = $1)
                OR ($2 IS NOT NULL AND lower(email) = lower($2))
             ORDER BY (clickup_user_id IS NOT DISTINCT FROM $1) DESC, updated_at DESC LIMIT 1",
        )
        .bind(user_id)
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        Ok(iam_id)
    }

    /// Appends an audit row and sets a setting in one transaction (a cursor moves with the
    /// row it recorded).
    pub async fn append_audit_with_setting(
        &self,
        entry: &AuditEntry,
        name: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_audit(&mut tx, Utc::now().timestamp_millis(), entry).await?;
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The correlation id recorded with an event id (the first row that names it).
    pub async fn correlation_of_event(&self, event_id: &str) -> Result<Option<String>, StoreError> {
        let correlation = sqlx::query_scalar(
            "SELECT correlation_id FROM audit WHERE event_id = $1 ORDER BY seq LIMIT 1",
        )
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(correlation)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::{temp_store, Claim};

    fn row(action: &str, key: &str, correlation: &str) -> AuditEntry {
        AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: action.into(),
            subject: None,
            object: Some(key.into()),
            outcome: "applied".into(),
            correlation_id: correlation.into(),
            event_id: format!("e-{correlation}"),
            detail: json!({}),
        }
    }

    #[tokio::test]
    async fn the_receipt_and_its_row_are_written_once_and_together() {
        let (store, _dir) = temp_store().await;
        let received = row("event.received", "task:1", "c1");
        store
            .claim_receipt("k", std::time::Duration::from_secs(10))
            .await
            .unwrap();

        store.accept_receipt_with("k", &received).await.unwrap();
        store.accept_receipt_with("k", &received).await.unwrap();

        assert_eq!(store.audit_by_correlation("c1").await.unwrap().len(), 1);
        assert_eq!(
            store
                .claim_receipt("k", std::time::Duration::from_secs(10))
                .await
                .unwrap(),
            crate::store::Claim::Accepted
        );
    }

    /// What happened to the receipt before the worker got the message, and whether the worker
    /// writes the row; in every case exactly one row exists after both sides ran.
    #[tokio::test]
    async fn the_worker_adopts_only_receipts_nobody_recorded() {
        enum Before {
            /// The receiver is still waiting for the confirm.
            Pending,
            /// The receiver gave up (503) and released the key.
            Released,
            /// The receiver recorded it.
            Accepted,
            /// Recorded long ago, the receipt since pruned (a replayed dead letter).
            Pruned,
        }
        let lease = std::time::Duration::from_secs(10);
        // (before, the worker writes the row, what a sender's retry then finds)
        let cases = [
            (Before::Pending, true, Claim::Accepted),
            (Before::Released, true, Claim::Accepted),
            (Before::Accepted, false, Claim::Accepted),
            (Before::Pruned, false, Claim::New),
        ];

        for (index, (before, adopts, retried)) in cases.into_iter().enumerate() {
            let (store, _dir) = temp_store().await;
            let key = format!("k{index}");
            let mut received = row("event.received", "task:1", &format!("c{index}"));
            received.event_id = key.clone();
            store.claim_receipt(&key, lease).await.unwrap();
            match before {
                Before::Pending => {}
                Before::Released => store.release_receipt(&key).await.unwrap(),
                Before::Accepted => store.accept_receipt_with(&key, &received).await.unwrap(),
                Before::Pruned => {
                    store.accept_receipt_with(&key, &received).await.unwrap();
                    sqlx::query("DELETE FROM receipts")
                        .execute(store.pool())
                        .await
                        .unwrap();
                }
            }

            let adopted = store.adopt_receipt(&received).await.unwrap();
            store.accept_receipt_with(&key, &received).await.unwrap();
            let again = store.adopt_receipt(&received).await.unwrap();

            assert_eq!(adopted, adopts, "case {index}");
            assert!(!again, "case {index}");
            let rows = store.audit_by_correlation(&received.correlation_id).await;
            assert_eq!(rows.unwrap().len(), 1, "case {index}");
            let retry = store.claim_receipt(&key, lease).await.unwrap();
            assert_eq!(retry, retried, "a sender's retry, case {index}");
        }
    }

    #[tokio::test]
    async fn an_unclaimed_key_gets_no_row() {
        let (store, _dir) = temp_store().await;

        store
            .accept_receipt_with("never-claimed", &row("event.received", "x", "c0"))
            .await
            .unwrap();

        assert!(store.audit_by_correlation("c0").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_router_row_closest_after_the_change_wins() {
        let (store, _dir) = temp_store().await;
        store
            .append_audit(&row("task.assigned", "task:7", "leaver-1"))
            .await
            .unwrap();
        store
            .append_audit(&row("clickup.echo", "task:7", "echo-own"))
            .await
            .unwrap();
        store
            .append_audit(&row("task.assigned", "task:8", "other-task"))
            .await
            .unwrap();
        let now = Utc::now().timestamp_millis();
        let near = |key, at| Near {
            key,
            at,
            before_ms: 2_000,
            after_ms: 60_000,
        };

        let cases = [
            (near("task:7", now - 500), Some("leaver-1")),
            (near("task:7", now - 120_000), None),
            (near("task:7", now + 30_000), None),
            (near("task:9", now), None),
            (near("task:8", now - 10), Some("other-task")),
        ];
        for (near, expected) in cases {
            let found = store.router_correlation_near(&near).await.unwrap();
            assert_eq!(found.as_deref(), expected, "{near:?}");
        }
    }

    #[tokio::test]
    async fn an_events_correlation_is_found_by_its_id() {
        let (store, _dir) = temp_store().await;
        store
            .append_audit(&row("grant.open", "list:1", "joiner-7"))
            .await
            .unwrap();

        assert_eq!(
            store.correlation_of_event("e-joiner-7").await.unwrap(),
            Some("joiner-7".into())
        );
        assert_eq!(store.correlation_of_event("nope").await.unwrap(), None);
    }
}
