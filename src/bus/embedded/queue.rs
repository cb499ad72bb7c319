//! The embedded engine's queues in the store (`bus_messages`): SQL only, no policy. Every
//! change is one statement (or one transaction that starts by writing), so SQLite's single
//! writer serialises claims across the connections of one process and across processes on
//! the same file; a settle names the lease token it holds, so a consumer whose lease ran out
//! never settles the delivery another consumer now holds.
//!
//! Times are ms since the epoch, passed in, so that tests move the clock.

use std::time::Duration;

use sqlx::{AnyConnection, AnyPool, Row};

use crate::{bus::Death, store::StoreError};

/// A message to queue: in every queue named, in one transaction.
pub(super) struct NewMessage<'a> {
    pub body: &'a [u8],
    pub routing_key: &'a str,
    pub message_id: &'a str,
    pub correlation_id: &'a str,
    pub replay: Option<&'a str>,
}

/// A claimed delivery and the lease token that settles it.
#[derive(Clone, Debug)]
pub(super) struct Claimed {
    pub id: i64,
    pub token: String,
    pub body: Vec<u8>,
    pub routing_key: String,
    pub message_id: String,
    pub retries: u32,
    /// Deliveries of this copy, this one included.
    pub deliveries: i64,
    /// What the dead letters know of its death (rows of the dead-letter queue only).
    pub death: Death,
}

impl Claimed {
    /// Delivered before (a consumer took it and never settled it).
    pub fn redelivered(&self) -> bool {
        self.deliveries > 1
    }
}

/// Why a delivery goes to the dead letters.
pub(super) struct Dying<'a> {
    pub dead_queue: &'a str,
    pub reason: &'a str,
    /// Failed deliveries or retries before the death, when there were any.
    pub deliveries: Option<i64>,
}

/// Queues `message` once in each of `queues`; nothing when one insert fails.
pub(super) async fn insert(
    pool: &AnyPool,
    queues: &[String],
    message: &NewMessage<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    insert_in(&mut tx, queues, message, now).await?;
    tx.commit().await?;
    Ok(())
}

/// [`insert`] within the caller's transaction (visible once the caller commits).
pub(super) async fn insert_in(
    tx: &mut AnyConnection,
    queues: &[String],
    message: &NewMessage<'_>,
    now: i64,
) -> Result<(), StoreError> {
    for queue in queues {
        sqlx::query(
            "INSERT INTO bus_messages (queue, routing_key, message_id, correlation_id, body,
                                       replay, available_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(queue)
        .bind(message.routing_key)
        .bind(message.message_id)
        .bind(message.correlation_id)
        .bind(message.body)
        .bind(message.replay)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Moves the available messages of `queue` delivered more than `limit` times without being
/// settled (their consumers kept dying) to the dead letters, as `delivery_limit`; returns
/// how many.
pub(super) async fn sweep_over_limit(
    pool: &AnyPool,
    queue: &str,
    dead_queue: &str,
    limit: u32,
    now: i64,
) -> Result<u64, StoreError> {
    let moved = sqlx::query(
        "UPDATE bus_messages
         SET queue = $2, death_queue = queue, death_reason = 'delivery_limit', death_at = $4,
             death_deliveries = deliveries, deliveries = 0, lease_owner = NULL,
             lease_until = NULL, tier = NULL, available_at = $4
         WHERE queue = $1 AND deliveries > $3 AND available_at <= $4
           AND (lease_until IS NULL OR lease_until <= $4)",
    )
    .bind(queue)
    .bind(dead_queue)
    .bind(i64::from(limit))
    .bind(now)
    .execute(pool)
    .await?;
    Ok(moved.rows_affected())
}

/// Claims the oldest available message of `queue` delivered at most `limit` times, with a
/// lease of `lease` under a fresh token.
pub(super) async fn claim(
    pool: &AnyPool,
    queue: &str,
    limit: Option<u32>,
    lease: Duration,
    now: i64,
) -> Result<Option<Claimed>, StoreError> {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let row = sqlx::query(
        "UPDATE bus_messages
         SET lease_owner = $1, lease_until = $2, deliveries = deliveries + 1, tier = NULL,
             first_failed_at = CASE WHEN deliveries > 0 THEN COALESCE(first_failed_at, $3)
                                    ELSE first_failed_at END,
             last_failed_at = CASE WHEN deliveries > 0 THEN $3 ELSE last_failed_at END
         WHERE id = (SELECT id FROM bus_messages
                     WHERE queue = $4 AND available_at <= $3 AND deliveries <= $5
                       AND (lease_until IS NULL OR lease_until <= $3)
                     ORDER BY available_at, id LIMIT 1)
         RETURNING id, body, routing_key, message_id, retries, deliveries, replay,
                   death_queue, death_reason, death_at, death_deliveries",
    )
    .bind(&token)
    .bind(now + millis(lease))
    .bind(now)
    .bind(queue)
    .bind(limit.map_or(i64::MAX, i64::from))
    .fetch_optional(pool)
    .await?;

    Ok(row.map(|row| Claimed {
        id: row.get("id"),
        token,
        body: row.get("body"),
        routing_key: row.get("routing_key"),
        message_id: row.get("message_id"),
        retries: u32::try_from(row.get::<i64, _>("retries")).unwrap_or(u32::MAX),
        deliveries: row.get("deliveries"),
        death: Death {
            queue: row.get("death_queue"),
            reason: row.get("death_reason"),
            count: 1,
            first_at: row.get("death_at"),
            delivery_count: row
                .get::<Option<i64>, _>("death_deliveries")
                .and_then(|n| u64::try_from(n).ok()),
            replay: row.get("replay"),
        },
    }))
}

/// Extends the lease while the handler runs; `false` when the lease is no longer ours.
pub(super) async fn renew(
    pool: &AnyPool,
    claimed: &Claimed,
    lease: Duration,
    now: i64,
) -> Result<bool, StoreError> {
    let renewed =
        sqlx::query("UPDATE bus_messages SET lease_until = $3 WHERE id = $1 AND lease_owner = $2")
            .bind(claimed.id)
            .bind(&claimed.token)
            .bind(now + millis(lease))
            .execute(pool)
            .await?;
    Ok(renewed.rows_affected() == 1)
}

/// Done: the message leaves its queue. `false` when the lease is no longer ours.
pub(super) async fn ack(pool: &AnyPool, claimed: &Claimed) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM bus_messages WHERE id = $1 AND lease_owner = $2")
        .bind(claimed.id)
        .bind(&claimed.token)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Into a retry tier: retry number `retry`, waiting in `tier` (its delay queue's name)
/// until `until`; a fresh copy, so its deliveries start again.
pub(super) async fn delay(
    pool: &AnyPool,
    claimed: &Claimed,
    retry: u32,
    tier: &str,
    until: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let delayed = sqlx::query(
        "UPDATE bus_messages
         SET retries = $3, tier = $4, available_at = $5, deliveries = 0, lease_owner = NULL,
             lease_until = NULL, first_failed_at = COALESCE(first_failed_at, $6),
             last_failed_at = $6
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(claimed.id)
    .bind(&claimed.token)
    .bind(i64::from(retry))
    .bind(tier)
    .bind(until)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(delayed.rows_affected() == 1)
}

/// To the dead letters, saying from which queue, why and after how many deliveries.
pub(super) async fn kill(
    pool: &AnyPool,
    claimed: &Claimed,
    death: &Dying<'_>,
    now: i64,
) -> Result<bool, StoreError> {
    let killed = sqlx::query(
        "UPDATE bus_messages
         SET queue = $3, death_queue = queue, death_reason = $4, death_at = $5,
             death_deliveries = $6, deliveries = 0, lease_owner = NULL, lease_until = NULL,
             tier = NULL, available_at = $5,
             first_failed_at = COALESCE(first_failed_at, $5), last_failed_at = $5
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(claimed.id)
    .bind(&claimed.token)
    .bind(death.dead_queue)
    .bind(death.reason)
    .bind(now)
    .bind(death.deliveries)
    .execute(pool)
    .await?;
    Ok(killed.rows_affected() == 1)
}

/// Back to its queue, available again at `at`.
pub(super) async fn release(
    pool: &AnyPool,
    claimed: &Claimed,
    at: i64,
) -> Result<bool, StoreError> {
    let released = sqlx::query(
        "UPDATE bus_messages SET available_at = $3, lease_owner = NULL, lease_until = NULL
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(claimed.id)
    .bind(&claimed.token)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(released.rows_affected() == 1)
}

/// Messages ready for delivery in each queue that has any (neither waiting in a retry tier
/// nor held by a consumer), as RabbitMQ counts a queue's ready messages.
pub(super) async fn ready_by_queue(
    pool: &AnyPool,
    now: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT queue, COUNT(*) FROM bus_messages
         WHERE available_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
         GROUP BY queue",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Messages waiting in the retry tier `tier` (its delay queue's name).
pub(super) async fn waiting_in_tier(
    pool: &AnyPool,
    tier: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let waiting = sqlx::query_scalar(
        "SELECT COUNT(*) FROM bus_messages WHERE tier = $1 AND available_at > $2",
    )
    .bind(tier)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(waiting)
}

/// Deletes every message of `queues` (the demo's and tests' clean-up).
pub(super) async fn purge(pool: &AnyPool, queues: &[String]) -> Result<u64, StoreError> {
    let mut deleted = 0;
    for queue in queues {
        deleted += sqlx::query("DELETE FROM bus_messages WHERE queue = $1")
            .bind(queue)
            .execute(pool)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 2)
}
