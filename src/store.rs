//! The store: receipts (receiver deduplication), processed messages and the audit trail.
//!
//! SQLite in a file (WAL mode) or PostgreSQL, as `DATABASE_URL` says (`db`); migrations of
//! both are embedded in the binary. Invariants: a receipt becomes
//! `accepted` only after a broker confirm; a processed row and its audit rows are written in
//! one transaction; audit rows are never updated or deleted (triggers refuse it).

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use sqlx::{any::AnyRow, AnyPool, Row};

use crate::config::StoreSettings;

pub mod access;
pub mod admin;
pub mod assignments;
pub mod choices;
pub mod correlation;
pub mod db;
pub mod dead_letters;
mod group;
pub mod history;
pub mod holds;
pub mod leases;
pub mod person_locks;
pub mod receipts;
pub mod requests;
pub mod scim;
pub mod scratch;
mod sql;
pub mod ui_sessions;

pub use access::{Grant, GrantChange, GrantEnd, GrantKind, IdentityRecord, NewGrant};
pub use assignments::{LeaverTasks, NewAssignment, TaskAssignment};
pub use choices::{Choice, Chosen, NewChoice};
pub use correlation::Near;
pub use db::Backend;
pub use dead_letters::{
    Claimed, DeadLetterDetail, DeadLetterRecord, LetterState, MessageFailure, NewDeadLetter,
    Settled,
};
pub use history::{Approval, AuditPage, AuditQuery, GrantRecord, MAX_AUDIT_PAGE};
pub use holds::{Held, NewHold};
pub use leases::{LeaseRow, TakeLease};
pub use person_locks::PersonLock;
pub use requests::{AccessRequest, Decision, RequestState};

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// `DATABASE_URL` names no database the store can use.
    #[error("{0}")]
    Url(String),
    /// A row changed between reading and writing it; read again and retry.
    #[error("write conflict: {0}")]
    Conflict(String),
    /// A stored value the code cannot read (hand-edited, or written by a newer version).
    #[error("unreadable row: {0}")]
    Unreadable(String),
}

/// The result of claiming a dedup key before publishing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Ours to publish.
    New,
    /// Already accepted earlier: a duplicate.
    Accepted,
    /// Another request is publishing it right now.
    InFlight,
}

/// One audit row to append.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub object: Option<String>,
    pub outcome: String,
    pub correlation_id: String,
    pub event_id: String,
    pub detail: serde_json::Value,
}

/// One audit row as read back.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub object: Option<String>,
    pub outcome: String,
    pub correlation_id: String,
    pub event_id: String,
    pub detail: String,
}

/// The outcome of a handled message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Processed {
    pub lane: String,
    pub outcome: String,
    pub detail: String,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The receivers' receipt writes, committed in groups.
    receipts: Arc<group::Group>,
}

impl Store {
    /// Opens (creating a SQLite file if needed) the database and runs the migrations.
    pub async fn open(settings: &StoreSettings) -> Result<Self, StoreError> {
        let (pool, backend) = db::open(settings.database_url.expose()).await?;
        Ok(Self::on(pool, backend))
    }

    /// Opens an existing database read-only, without migrating it (for dry runs).
    pub async fn open_read_only(settings: &StoreSettings) -> Result<Self, StoreError> {
        let (pool, backend) = db::open_read_only(settings.database_url.expose()).await?;
        Ok(Self::on(pool, backend))
    }

    fn on(pool: AnyPool, backend: Backend) -> Self {
        Self {
            pool,
            backend,
            receipts: Arc::default(),
        }
    }

    /// The database the store is in.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Claims a dedup key for publishing, with a lease that frees it if this process dies.
    pub async fn claim_receipt(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let write = group::Write::Claim {
            key: key.to_owned(),
            lease,
        };
        match self.receipts.write(&self.pool, write).await? {
            group::Written::Claim(claim) => Ok(claim),
            group::Written::Done => {
                Err(StoreError::Unreadable("a claim without its answer".into()))
            }
        }
    }

    /// Frees a claimed key after a failed publish, so a retry can publish it.
    pub async fn release_receipt(&self, key: &str) -> Result<(), StoreError> {
        let write = group::Write::Release {
            key: key.to_owned(),
        };
        self.receipts.write(&self.pool, write).await.map(drop)
    }

    /// Forgets accepted receipts older than `age` (senders stop retrying long before).
    pub async fn prune_receipts(&self, age: Duration) -> Result<u64, StoreError> {
        let cutoff = Utc::now().timestamp_millis() - age.as_millis() as i64;
        // Claims whose publisher died are free once their lease ends; forget those too.
        let result = sqlx::query(
            "DELETE FROM receipts WHERE (state = 'accepted' AND accepted_at < $1)
             OR (state = 'pending' AND locked_until < $1)",
        )
        .bind(cutoff)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }

    /// The recorded outcome of a message, if it was handled.
    pub async fn processed(&self, key: &str) -> Result<Option<Processed>, StoreError> {
        let row = sqlx::query("SELECT lane, outcome, detail FROM processed WHERE message_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| Processed {
            lane: row.get(0),
            outcome: row.get(1),
            detail: row.get(2),
        }))
    }

    /// Records a handled message and its audit rows in one transaction. Recording the same
    /// message twice keeps the first outcome and adds no audit rows.
    pub async fn record(
        &self,
        key: &str,
        processed: &Processed,
        audit: &[AuditEntry],
    ) -> Result<bool, StoreError> {
        self.record_message(key, key, processed, audit).await
    }

    /// [`Store::record`] for a message whose failures are kept under `failure_key` (its
    /// envelope's dedup key) when the outcome is kept under another `key`. Unless the outcome
    /// is `failed` (the dead-letter recorder still reads them), the message's failures are
    /// deleted in the same transaction.
    pub async fn record_message(
        &self,
        failure_key: &str,
        key: &str,
        processed: &Processed,
        audit: &[AuditEntry],
    ) -> Result<bool, StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool.begin().await?;

        if processed.outcome != "failed" {
            sqlx::query("DELETE FROM message_failures WHERE message_key = $1")
                .bind(failure_key)
                .execute(&mut *tx)
                .await?;
        }

        let inserted = insert_processed(&mut tx, key, processed, now).await?;
        if inserted {
            for entry in audit {
                insert_audit(&mut tx, now, entry).await?;
            }
        }

        tx.commit().await?;
        Ok(inserted)
    }

    /// Appends audit rows outside a processed record (refusals at the receivers, for example).
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_audit(&mut tx, Utc::now().timestamp_millis(), entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Audit rows of one correlation id, oldest first.
    pub async fn audit_by_correlation(
        &self,
        correlation_id: &str,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject, object, outcome, correlation_id, event_id, detail
             FROM audit WHERE correlation_id = $1 ORDER BY seq",
        )
        .bind(correlation_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(audit_record).collect())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// A fresh store for a test: a SQLite file in a temporary folder, or a new database in the
/// PostgreSQL cluster `TEST_POSTGRES_URL` names (an admin URL). Keep the guard alive with it.
#[cfg(test)]
pub(crate) async fn temp_store() -> (Store, scratch::TestStore) {
    scratch::TestStore::open().await
}

/// A fresh store in a SQLite file whatever `TEST_POSTGRES_URL` says, for tests of what runs
/// on SQLite only (the embedded bus engine).
#[cfg(test)]
pub(crate) async fn temp_sqlite_store() -> (Store, scratch::TestStore) {
    scratch::TestStore::open_sqlite().await
}

/// Records `key` as handled unless it is already; true when this call recorded it.
async fn insert_processed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &str,
    processed: &Processed,
    at: i64,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO processed (message_key, lane, outcome, detail, handled_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (message_key) DO NOTHING",
    )
    .bind(key)
    .bind(&processed.lane)
    .bind(&processed.outcome)
    .bind(&processed.detail)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    at: i64,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    // The row says what ClickUp answered the calls that led to it (see `clickup::answers`).
    let mut detail = entry.detail.clone();
    crate::clickup::answers::attach(&mut detail);
    sqlx::query(
        "INSERT INTO audit (at, actor, action, subject, object, outcome, correlation_id, event_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.subject)
    .bind(&entry.object)
    .bind(&entry.outcome)
    .bind(&entry.correlation_id)
    .bind(&entry.event_id)
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn audit_record(row: &AnyRow) -> AuditRecord {
    AuditRecord {
        seq: row.get(0),
        at: row.get(1),
        actor: row.get(2),
        action: row.get(3),
        subject: row.get(4),
        object: row.get(5),
        outcome: row.get(6),
        correlation_id: row.get(7),
        event_id: row.get(8),
        detail: row.get(9),
    }
}

#[cfg(test)]
mod tests;
