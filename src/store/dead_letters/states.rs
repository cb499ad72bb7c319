//! A dead letter's state: `open` until it is replayed (after the broker confirmed the
//! republish) or dropped (kept, never deleted). A replay claims the letter first with a
//! short lease, so two operators cannot publish it twice; each change and its audit row are
//! written in one transaction.

use std::time::Duration;

use chrono::Utc;
use serde::Serialize;

use super::{dead_letter_record, DeadLetterDetail, DeadLetterRecord, ENVELOPE_COLUMN};
use crate::store::{insert_audit, AuditEntry, Store, StoreError};

/// Where a dead letter stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LetterState {
    Open,
    Replayed,
    Dropped,
}

impl LetterState {
    pub const ALL: [LetterState; 3] = [
        LetterState::Open,
        LetterState::Replayed,
        LetterState::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LetterState::Open => "open",
            LetterState::Replayed => "replayed",
            LetterState::Dropped => "dropped",
        }
    }

    pub fn parse(text: &str) -> Option<LetterState> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }
}

impl std::fmt::Display for LetterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to a claim for replay or a drop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claimed<T> {
    /// Done (a claim: the letter with its envelope, ours until the lease ends).
    Done(T),
    NotFound,
    /// Not open: replayed or dropped already.
    NotOpen(Box<DeadLetterRecord>),
    /// Open, but a replay of it is in progress.
    Busy,
}

/// How a claimed replay ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Confirmed by the broker: the letter is `replayed`, the message's `n`th replay.
    Replayed(i64),
    /// Not confirmed: the letter stays open.
    Failed,
}

impl Store {
    /// Claims an open dead letter for a replay for `lease`.
    pub async fn claim_dead_letter(
        &self,
        id: i64,
        lease: Duration,
    ) -> Result<Claimed<DeadLetterDetail>, StoreError> {
        let now = Utc::now().timestamp_millis();
        let sql = format!(
            "UPDATE dead_letters SET claimed_until = $2
             WHERE id = $1 AND state = 'open' AND (claimed_until IS NULL OR claimed_until < $3)
             RETURNING {}, envelope",
            super::RECORD_COLUMNS
        );
        let claimed = sqlx::query(&sql)
            .bind(id)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        if let Some(row) = claimed {
            return Ok(Claimed::Done(DeadLetterDetail {
                record: dead_letter_record(&row),
                envelope: sqlx::Row::get(&row, ENVELOPE_COLUMN),
            }));
        }
        self.why_not(id).await
    }

    /// Makes a claimed letter's message run again: its failures (so attempts count afresh)
    /// and its `failed` outcome (`processed_key`, which the lane would otherwise take for
    /// done) are deleted. Any other outcome stays: a message that was handled is not redone.
    pub async fn clear_for_replay(
        &self,
        failure_key: &str,
        processed_key: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM message_failures WHERE message_key = $1")
            .bind(failure_key)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM processed WHERE message_key = $1 AND outcome = 'failed'")
            .bind(processed_key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a claim: `replayed` (by whom, counting the message's replays) when the broker
    /// confirmed, else open again; with its audit row either way.
    pub async fn settle_replay(
        &self,
        id: i64,
        by: &str,
        confirmed: bool,
        audit: &AuditEntry,
    ) -> Result<Settled, StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool().begin().await?;

        let settled = if confirmed {
            let replays: i64 = sqlx::query_scalar(
                "UPDATE dead_letters SET state = 'replayed', replayed_at = $2, replayed_by = $3,
                     claimed_until = NULL,
                     replays = 1 + (SELECT COALESCE(MAX(d.replays), 0) FROM dead_letters d
                                    WHERE d.message_id = dead_letters.message_id)
                 WHERE id = $1 RETURNING replays",
            )
            .bind(id)
            .bind(now)
            .bind(by)
            .fetch_one(&mut *tx)
            .await?;
            Settled::Replayed(replays)
        } else {
            sqlx::query("UPDATE dead_letters SET claimed_until = NULL WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            Settled::Failed
        };
        let mut audit = audit.clone();
        if let Settled::Replayed(replays) = settled {
            audit.detail["replays"] = replays.into();
        }
        insert_audit(&mut tx, now, &audit).await?;

        tx.commit().await?;
        Ok(settled)
    }

    /// Drops an open dead letter (not one being replayed), with its audit row.
    pub async fn drop_dead_letter(
        &self,
        id: i64,
        by: &str,
        audit: &AuditEntry,
    ) -> Result<Claimed<DeadLetterRecord>, StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool().begin().await?;

        let sql = format!(
            "UPDATE dead_letters SET state = 'dropped', dropped_at = $2, dropped_by = $3
             WHERE id = $1 AND state = 'open' AND (claimed_until IS NULL OR claimed_until < $2)
             RETURNING {}",
            super::RECORD_COLUMNS
        );
        let dropped = sqlx::query(&sql)
            .bind(id)
            .bind(now)
            .bind(by)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = dropped else {
            drop(tx);
            return self.why_not(id).await;
        };
        insert_audit(&mut tx, now, audit).await?;

        tx.commit().await?;
        Ok(Claimed::Done(dead_letter_record(&row)))
    }

    /// Ids of open dead letters after `after`, oldest first, at most `limit`.
    pub async fn open_dead_letter_ids(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = sqlx::query_scalar(
            "SELECT id FROM dead_letters WHERE state = 'open' AND id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(ids)
    }

    /// Open dead letters on record.
    pub async fn open_dead_letters(&self) -> Result<i64, StoreError> {
        let count = sqlx::query_scalar("SELECT COUNT(*) FROM dead_letters WHERE state = 'open'")
            .fetch_one(self.pool())
            .await?;
        Ok(count)
    }

    /// Why a letter could not be claimed or dropped.
    async fn why_not<T>(&self, id: i64) -> Result<Claimed<T>, StoreError> {
        Ok(match self.dead_letter(id).await? {
            None => Claimed::NotFound,
            Some(found) if found.record.state != LetterState::Open => {
                Claimed::NotOpen(Box::new(found.record))
            }
            Some(_) => Claimed::Busy,
        })
    }
}
