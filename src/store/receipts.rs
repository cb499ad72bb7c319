//! Receipts (the receivers' deduplication keys) written through [`Receipts`]: on the pool, each
//! step committed in a group with its neighbours' (the receivers, `super::group`), or inside an open transaction that commits them
//! with other rows (a SCIM write: its resource, its receipts and their `event.received` rows,
//! and with the embedded bus engine the queued messages too, together or none of them).

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use sqlx::{Any, AnyConnection, Transaction};

use super::{insert_audit, AuditEntry, Claim, Store, StoreError};
use crate::{
    bus::{PublishError, Publisher},
    ingest::envelope::Envelope,
};

/// Where a publish claims, releases and accepts its receipt, and is made.
#[async_trait]
pub trait Receipts: Send {
    /// Publishes `envelope`: at once with confirm on the pool; within the transaction
    /// otherwise ([`Publisher::publish_in`]).
    async fn publish(
        &mut self,
        publisher: &dyn Publisher,
        envelope: &Envelope,
    ) -> Result<(), PublishError>;
    /// Claims a dedup key for publishing, with a lease that frees it if the process dies.
    async fn claim(&mut self, key: &str, lease: Duration) -> Result<Claim, StoreError>;
    /// Frees a claimed key after a failed publish, so a retry can publish it.
    async fn release(&mut self, key: &str) -> Result<(), StoreError>;
    /// Marks a claimed key accepted with its `event.received` row: only after the confirm.
    async fn accept(&mut self, key: &str, received: &AuditEntry) -> Result<(), StoreError>;
}

#[async_trait]
impl Receipts for &Store {
    async fn publish(
        &mut self,
        publisher: &dyn Publisher,
        envelope: &Envelope,
    ) -> Result<(), PublishError> {
        publisher.publish(envelope).await
    }

    async fn claim(&mut self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.claim_receipt(key, lease).await
    }

    async fn release(&mut self, key: &str) -> Result<(), StoreError> {
        self.release_receipt(key).await
    }

    async fn accept(&mut self, key: &str, received: &AuditEntry) -> Result<(), StoreError> {
        self.accept_receipt_with(key, received).await
    }
}

#[async_trait]
impl Receipts for Transaction<'static, Any> {
    async fn publish(
        &mut self,
        publisher: &dyn Publisher,
        envelope: &Envelope,
    ) -> Result<(), PublishError> {
        publisher.publish_in(self, envelope).await
    }

    async fn claim(&mut self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        claim(self, key, lease).await
    }

    async fn release(&mut self, key: &str) -> Result<(), StoreError> {
        release(self, key).await
    }

    async fn accept(&mut self, key: &str, received: &AuditEntry) -> Result<(), StoreError> {
        accept(self, key, received).await
    }
}

pub(super) async fn claim(
    connection: &mut AnyConnection,
    key: &str,
    lease: Duration,
) -> Result<Claim, StoreError> {
    let now = Utc::now().timestamp_millis();
    let until = now + lease.as_millis() as i64;

    let claimed = sqlx::query(
        "INSERT INTO receipts (dedup_key, state, locked_until) VALUES ($1, 'pending', $2)
         ON CONFLICT (dedup_key) DO UPDATE SET locked_until = $2
         WHERE receipts.state = 'pending' AND receipts.locked_until < $3
         RETURNING dedup_key",
    )
    .bind(key)
    .bind(until)
    .bind(now)
    .fetch_optional(&mut *connection)
    .await?;
    if claimed.is_some() {
        return Ok(Claim::New);
    }

    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM receipts WHERE dedup_key = $1")
            .bind(key)
            .fetch_optional(&mut *connection)
            .await?;
    Ok(match state.as_deref() {
        Some("accepted") => Claim::Accepted,
        _ => Claim::InFlight,
    })
}

pub(super) async fn release(connection: &mut AnyConnection, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM receipts WHERE dedup_key = $1 AND state = 'pending'")
        .bind(key)
        .execute(connection)
        .await?;
    Ok(())
}

/// Marks `key` accepted and, when this call did, appends its `event.received` row; the caller
/// commits.
pub(super) async fn accept(
    tx: &mut Transaction<'_, Any>,
    key: &str,
    received: &AuditEntry,
) -> Result<(), StoreError> {
    let now = Utc::now().timestamp_millis();

    let marked = sqlx::query(
        "UPDATE receipts SET state = 'accepted', accepted_at = $2
         WHERE dedup_key = $1 AND state = 'pending'",
    )
    .bind(key)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    // Only the request that turned the claim into an acceptance records it.
    if marked == 1 {
        insert_audit(tx, now, received).await?;
    }
    Ok(())
}
