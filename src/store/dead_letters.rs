//! Message failures (kept by the worker while a message fails) and dead letters (recorded
//! once each from the dead-letter queue), read by `dlq list`/`dlq show` and the admin API;
//! `states` moves a letter from `open` to `replayed` or `dropped`.
//!
//! Failure messages are stored without emails: [`non_personal`] replaces them. A message's
//! failures are deleted when its outcome is recorded (`Store::record`) or its dead letter is.

use chrono::Utc;
use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

mod states;

pub use states::{Claimed, LetterState, Settled};

/// Longest failure message kept, in characters.
const MAX_ERROR_CHARS: usize = 300;

/// What the worker knows of a message's failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageFailure {
    pub attempts: i64,
    pub first_failed_at: i64,
    pub last_failed_at: i64,
    /// A short reason from a closed vocabulary (`clickup_server_error`, `refused`, ...).
    pub error_code: String,
    pub error: String,
}

/// A dead letter to record.
#[derive(Clone, Debug)]
pub struct NewDeadLetter {
    /// One death of one message (see `bus::DeadLetter::fingerprint`).
    pub fingerprint: String,
    pub message_id: Option<String>,
    pub lane: Option<String>,
    pub source_queue: Option<String>,
    pub routing_key: String,
    /// The broker's reason: `rejected`, `delivery_limit`, `expired`, `maxlen` or `unknown`.
    pub reason: String,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub first_failed_at: i64,
    pub last_failed_at: i64,
    /// The message body exactly as it was queued.
    pub envelope: Vec<u8>,
    /// The key its failures are kept under (the envelope's dedup key), deleted with the
    /// letter's recording.
    pub failure_key: Option<String>,
}

/// A dead letter on record, without its envelope. Times are ms since the epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeadLetterRecord {
    pub id: i64,
    /// The CloudEvent id (or the AMQP message id of a body that is not an envelope).
    pub message_id: Option<String>,
    /// The lane it died in: `deprovision`, `provision`, `approvals`, `clickup`.
    pub lane: Option<String>,
    pub source_queue: Option<String>,
    pub routing_key: String,
    pub reason: String,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub first_failed_at: i64,
    pub last_failed_at: i64,
    pub recorded_at: i64,
    pub state: LetterState,
    /// When, by whom, and the how-manieth replay of its message this was (`replayed`).
    pub replayed_at: Option<i64>,
    pub replayed_by: Option<String>,
    pub replays: i64,
    /// When and by whom it was dropped (`dropped`).
    pub dropped_at: Option<i64>,
    pub dropped_by: Option<String>,
}

/// A dead letter with the message as it was queued (personal data: show it, never log it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetterDetail {
    pub record: DeadLetterRecord,
    pub envelope: Vec<u8>,
}

const RECORD_COLUMNS: &str =
    "id, message_id, lane, source_queue, routing_key, reason, error_code, \
     error, attempts, first_failed_at, last_failed_at, recorded_at, state, replayed_at, \
     replayed_by, replays, dropped_at, dropped_by";

/// The column after [`RECORD_COLUMNS`].
const ENVELOPE_COLUMN: usize = 18;

impl Store {
    /// Counts one more failed attempt at a message (`key`: the envelope's dedup key) on a
    /// lane, keeping the first failure's time and the latest reason. The row goes when the
    /// message's outcome is recorded (unless it failed for good) or its dead letter is.
    pub async fn note_failure(
        &self,
        key: &str,
        lane: &str,
        error_code: &str,
        error: &str,
    ) -> Result<(), StoreError> {
        let now = Utc::now().timestamp_millis();
        sqlx::query(
            "INSERT INTO message_failures
                 (message_key, lane, attempts, first_failed_at, last_failed_at, error_code, error)
             VALUES ($1, $2, 1, $3, $3, $4, $5)
             ON CONFLICT (message_key, lane) DO UPDATE SET attempts = message_failures.attempts + 1,
                 last_failed_at = $3, error_code = $4, error = $5",
        )
        .bind(key)
        .bind(lane)
        .bind(now)
        .bind(error_code)
        .bind(non_personal(error))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The failures on record for a message on a lane.
    pub async fn message_failure(
        &self,
        key: &str,
        lane: &str,
    ) -> Result<Option<MessageFailure>, StoreError> {
        let row = sqlx::query(
            "SELECT attempts, first_failed_at, last_failed_at, error_code, error
             FROM message_failures WHERE message_key = $1 AND lane = $2",
        )
        .bind(key)
        .bind(lane)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|row| MessageFailure {
            attempts: row.get(0),
            first_failed_at: row.get(1),
            last_failed_at: row.get(2),
            error_code: row.get(3),
            error: row.get(4),
        }))
    }

    /// Records a dead letter unless that death is on record; `Some(id)` when it was new. The
    /// message's failures go in the same transaction: the letter now says why it died.
    pub async fn record_dead_letter(
        &self,
        letter: &NewDeadLetter,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.pool().begin().await?;

        let id = sqlx::query_scalar(
            "INSERT INTO dead_letters (fingerprint, message_id, lane, source_queue, routing_key,
                 reason, error_code, error, attempts, first_failed_at, last_failed_at, envelope,
                 recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (fingerprint) DO NOTHING
             RETURNING id",
        )
        .bind(&letter.fingerprint)
        .bind(&letter.message_id)
        .bind(&letter.lane)
        .bind(&letter.source_queue)
        .bind(&letter.routing_key)
        .bind(&letter.reason)
        .bind(&letter.error_code)
        .bind(letter.error.as_deref().map(non_personal))
        .bind(letter.attempts)
        .bind(letter.first_failed_at)
        .bind(letter.last_failed_at)
        .bind(&letter.envelope)
        .bind(Utc::now().timestamp_millis())
        .fetch_optional(&mut *tx)
        .await?;
        if let (Some(_), Some(key)) = (id, &letter.failure_key) {
            sqlx::query("DELETE FROM message_failures WHERE message_key = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }

        tx.commit().await?;
        Ok(id)
    }

    /// Dead letters on record in the order they were recorded: at most `limit` (1 to 500),
    /// those after id `after` when given (pass the last id of a page for the next one), in
    /// `state` when given (all states otherwise).
    pub async fn dead_letters(
        &self,
        limit: u32,
        after: Option<i64>,
        state: Option<LetterState>,
    ) -> Result<Vec<DeadLetterRecord>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM dead_letters WHERE id > $1 AND ($3 IS NULL OR state = $3)
             ORDER BY id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(after.unwrap_or(0))
            .bind(i64::from(limit.clamp(1, 500)))
            .bind(state.map(LetterState::as_str))
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(dead_letter_record).collect())
    }

    /// One dead letter with its envelope.
    pub async fn dead_letter(&self, id: i64) -> Result<Option<DeadLetterDetail>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS}, envelope FROM dead_letters WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|row| DeadLetterDetail {
            record: dead_letter_record(&row),
            envelope: row.get(ENVELOPE_COLUMN),
        }))
    }
}

fn dead_letter_record(row: &sqlx::any::AnyRow) -> DeadLetterRecord {
    DeadLetterRecord {
        id: row.get(0),
        message_id: row.get(1),
        lane: row.get(2),
        source_queue: row.get(3),
        routing_key: row.get(4),
        reason: row.get(5),
        error_code: row.get(6),
        error: row.get(7),
        attempts: row.get(8),
        first_failed_at: row.get(9),
        last_failed_at: row.get(10),
        recorded_at: row.get(11),
        state: LetterState::parse(row.get(12)).unwrap_or(LetterState::Open),
        replayed_at: row.get(13),
        replayed_by: row.get(14),
        replays: row.get(15),
        dropped_at: row.get(16),
        dropped_by: row.get(17),
    }
}

/// A failure message fit to keep: every word with an `@` replaced by `[email]`, shortened.
pub fn non_personal(message: &str) -> String {
    let words: Vec<&str> = message
        .split(' ')
        .map(|word| if word.contains('@') { "[email]" } else { word })
        .collect();
    words.join(" ").chars().take(MAX_ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests;
