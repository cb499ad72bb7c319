//! The dead-letter recorder: each message the broker dead-lettered becomes one row of
//! `dead_letters` (lane, the broker's reason, the worker's recorded failure, attempts, first
//! and last failure, the envelope as queued), then is acked.
//!
//! Invariant: a dead letter is acked only once it is on record; a redelivered one is found
//! by its fingerprint and recorded once. While the store is away the letter is held and the
//! write tried again, so it never burns its own queue's delivery limit.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

use crate::{
    bus::{DeadLetter, DeadLetterHandler, Disposition},
    ingest::envelope::Envelope,
    metrics::Metrics,
    store::{MessageFailure, NewDeadLetter, Store, StoreError},
};

/// Pause between attempts to record while the store does not answer.
const STORE_RETRY_PAUSE: Duration = Duration::from_secs(2);

pub struct DeadLetterRecorder {
    pub store: Store,
    pub metrics: Metrics,
    /// Ends the wait for an unavailable store; the letter then goes back to its queue.
    pub shutdown: CancellationToken,
}

#[async_trait]
impl DeadLetterHandler for DeadLetterRecorder {
    async fn handle(&self, letter: DeadLetter) -> Disposition {
        loop {
            match self.record(&letter).await {
                Ok(Some(id)) => {
                    self.metrics.dead_letter_recorded();
                    info!(dead_letter = id, "dead letter recorded");
                    return Disposition::Ack;
                }
                Ok(None) => {
                    debug!("dead letter already on record");
                    return Disposition::Ack;
                }
                Err(e) => error!(error = %e, "could not record a dead letter; trying again"),
            }
            tokio::select! {
                _ = self.shutdown.cancelled() => return Disposition::Retry,
                _ = tokio::time::sleep(STORE_RETRY_PAUSE) => {}
            }
        }
    }
}

impl DeadLetterRecorder {
    async fn record(&self, letter: &DeadLetter) -> Result<Option<i64>, StoreError> {
        let envelope = serde_json::from_slice::<Envelope>(&letter.body).ok();
        let lane = letter.lane();

        let failure = match (&envelope, lane) {
            (Some(envelope), Some(lane)) => {
                self.store
                    .message_failure(&envelope.dedup_key(), lane.name())
                    .await?
            }
            _ => None,
        };

        let row = describe(
            letter,
            envelope.as_ref(),
            failure,
            Utc::now().timestamp_millis(),
        );
        self.store.record_dead_letter(&row).await
    }
}

/// The row for a dead letter: the worker's failure when it kept one, else what the broker's
/// headers and the body say.
fn describe(
    letter: &DeadLetter,
    envelope: Option<&Envelope>,
    failure: Option<MessageFailure>,
    now: i64,
) -> NewDeadLetter {
    let death = &letter.death;
    let broker_attempts = death.delivery_count.map(|count| count as i64 + 1);
    let (error_code, error, attempts, first, last) = match (failure, envelope) {
        (Some(failure), _) => (
            Some(failure.error_code),
            Some(failure.error),
            failure.attempts.max(broker_attempts.unwrap_or(0)),
            failure.first_failed_at,
            failure.last_failed_at,
        ),
        (None, None) => (
            Some("undecodable".to_string()),
            Some("the message body is not a CloudEvents envelope".to_string()),
            broker_attempts.unwrap_or(1),
            death.first_at.unwrap_or(now),
            death.first_at.unwrap_or(now),
        ),
        (None, Some(_)) => (
            None,
            None,
            broker_attempts.unwrap_or(1),
            death.first_at.unwrap_or(now),
            death.first_at.unwrap_or(now),
        ),
    };

    NewDeadLetter {
        fingerprint: letter.fingerprint(),
        message_id: envelope
            .map(|e| e.id.clone())
            .or_else(|| letter.message_id.clone()),
        lane: letter.lane().map(|lane| lane.name().to_string()),
        source_queue: death.queue.clone(),
        routing_key: letter.routing_key.clone(),
        reason: death.reason.clone().unwrap_or_else(|| "unknown".into()),
        error_code,
        error,
        attempts,
        first_failed_at: first,
        last_failed_at: last,
        envelope: letter.body.clone(),
        failure_key: envelope.map(Envelope::dedup_key),
    }
}

pub mod replay;
#[cfg(test)]
mod tests;
