//! Removals held by the mass-removal brake (`held_removals`): a hold is written with its
//! `brake.hold` audit row in one transaction, and a hold of a bus message (a removal that came
//! through SCIM) with the message's processed row too, so a redelivery never holds it twice.

use chrono::Utc;
use sqlx::Row;

use super::{insert_audit, insert_processed, AuditEntry, Processed, Store, StoreError};

/// One hold to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewHold {
    pub iam_id: String,
    /// What would have been done, as the operator reads it (`Action::describe`).
    pub actions: Vec<String>,
    /// `<kind>: <reason>`; the kind decides how the hold is released.
    pub cause: String,
    /// The bus message the removal was held from, when the release needs it.
    pub envelope: Option<String>,
}

/// A person whose removals are held.
#[derive(Clone, Debug)]
pub struct Held {
    pub id: i64,
    pub iam_id: String,
    pub actions: Vec<String>,
    pub cause: String,
    pub held_at: i64,
    pub envelope: Option<String>,
}

impl Held {
    /// The cause kind of what was held (`event`, `rules-reload`, `reconcile` for a drift
    /// repair, `scim` for a removal that came through SCIM): the cause is `<kind>: <reason>`.
    pub fn kind(&self) -> &str {
        self.cause.split_once(':').map_or("", |(kind, _)| kind)
    }
}

impl Store {
    /// Records a hold and its audit row.
    pub async fn hold_removals(
        &self,
        hold: &NewHold,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool.begin().await?;

        insert_hold(&mut tx, now, hold).await?;
        insert_audit(&mut tx, now, audit).await?;

        tx.commit().await?;
        Ok(())
    }

    /// Records a message as processed with its hold and audit rows, once: a message already
    /// processed records nothing (returns `false`).
    pub async fn record_held(
        &self,
        key: &str,
        processed: &Processed,
        hold: &NewHold,
        audit: &[AuditEntry],
    ) -> Result<bool, StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool.begin().await?;

        sqlx::query("DELETE FROM message_failures WHERE message_key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        let inserted = insert_processed(&mut tx, key, processed, now).await?;
        if inserted {
            insert_hold(&mut tx, now, hold).await?;
            for entry in audit {
                insert_audit(&mut tx, now, entry).await?;
            }
        }

        tx.commit().await?;
        Ok(inserted)
    }

    /// Unreleased holds, oldest first.
    pub async fn open_holds(&self) -> Result<Vec<Held>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, iam_id, actions, cause, held_at, envelope FROM held_removals
             WHERE released_at IS NULL ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|row| Held {
                id: row.get(0),
                iam_id: row.get(1),
                actions: serde_json::from_str(row.get::<&str, _>(2)).unwrap_or_default(),
                cause: row.get(3),
                held_at: row.get(4),
                envelope: row.get(5),
            })
            .collect())
    }
}

async fn insert_hold(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    at: i64,
    hold: &NewHold,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO held_removals (iam_id, actions, cause, held_at, envelope)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&hold.iam_id)
    .bind(serde_json::json!(hold.actions).to_string())
    .bind(&hold.cause)
    .bind(at)
    .bind(&hold.envelope)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
