//! Replaying and dropping dead letters, for `dlq replay|drop` and the admin API.
//!
//! A replay claims the open letter (a short lease: no second publish of it meanwhile),
//! deletes the message's failures and its `failed` outcome so the lane runs it again, then
//! republishes the envelope exactly as it was queued to the events exchange through the
//! receivers' [`Publisher`] (confirmed, mandatory, persistent): the lanes' own idempotence
//! (processed rows) still holds. The letter becomes `replayed` only after the confirm; a
//! failed publish leaves it open. Each replay carries a mark
//! ([`crate::bus::REPLAY_HEADER`]), so a second death is recorded as a new open letter.
//! Every replay and drop is audited (ids and routing key, never the body).

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use serde::Serialize;
use serde_json::json;

use crate::{
    bus::{Lane, PublishError, Publisher, Republish},
    ingest::envelope::Envelope,
    store::{AuditEntry, Claimed, DeadLetterRecord, LetterState, Settled, Store, StoreError},
};

/// How long a replay holds its letter: longer than a publish can take (confirm ≤ 3 s).
const CLAIM_LEASE: Duration = Duration::from_secs(30);

/// The most letters one `replay --all` batch (or `POST /dead-letters/replay`) publishes.
pub const REPLAY_BATCH: u32 = 100;

/// Why a replay or drop was refused or did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no dead letter {0} on record")]
    NotFound(i64),
    #[error("dead letter {id} is {state}, not open{}", since(.by, .at))]
    NotOpen {
        id: i64,
        state: LetterState,
        by: Option<String>,
        at: Option<i64>,
    },
    #[error("dead letter {0} is being replayed right now; look again in a moment")]
    Busy(i64),
    #[error("dead letter {0} holds no CloudEvents envelope, so it cannot be replayed (drop it)")]
    NotReplayable(i64),
    #[error("the broker did not take the replay of dead letter {id} ({source}); it stays open")]
    Publish { id: i64, source: PublishError },
    #[error("store error: {0}")]
    Store(#[from] StoreError),
}

fn since(by: &Option<String>, at: &Option<i64>) -> String {
    let at = at.and_then(chrono::DateTime::from_timestamp_millis);
    match (by, at) {
        (Some(by), Some(at)) => format!(" ({} by {by})", at.format("%Y-%m-%d %H:%M:%SZ")),
        _ => String::new(),
    }
}

/// A replay the broker confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Replayed {
    pub id: i64,
    pub message_id: Option<String>,
    pub routing_key: String,
    /// The how-manieth replay of this message.
    pub replays: i64,
}

/// What a batch did: replayed letters, those it left (with why), and whether it stopped
/// because the broker refused (the rest stay open).
#[derive(Debug, Default, Serialize)]
pub struct Batch {
    pub replayed: Vec<Replayed>,
    pub skipped: Vec<Skipped>,
    pub broker_error: Option<String>,
    /// Open letters after the batch.
    pub open: i64,
    /// The last id the batch looked at, and whether it was full (more may follow).
    pub last_id: i64,
    pub full: bool,
}

#[derive(Debug, Serialize)]
pub struct Skipped {
    pub id: i64,
    pub error: String,
}

/// Replays and drops dead letters; `via` (`cli`, `admin-api`) goes in the audit rows.
pub struct Replayer {
    pub store: Store,
    pub publisher: Arc<dyn Publisher>,
    pub via: &'static str,
}

impl Replayer {
    /// Replays one open dead letter as `actor`.
    pub async fn replay(&self, id: i64, actor: &str) -> Result<Replayed, ReplayError> {
        let letter = match self.store.claim_dead_letter(id, CLAIM_LEASE).await? {
            Claimed::Done(letter) => letter,
            refused => return Err(refusal(id, refused)),
        };
        let Ok(envelope) = serde_json::from_slice::<Envelope>(&letter.envelope) else {
            self.store
                .settle_replay(
                    id,
                    actor,
                    false,
                    &audit(&letter.record, None, actor, "refused", self.via),
                )
                .await?;
            return Err(ReplayError::NotReplayable(id));
        };

        let processed_key = processed_key(letter.record.lane.as_deref(), &envelope);
        self.store
            .clear_for_replay(&envelope.dedup_key(), &processed_key)
            .await?;

        let mark = format!("{id}:{}", Utc::now().timestamp_millis());
        let message = Republish {
            body: &letter.envelope,
            routing_key: &letter.record.routing_key,
            message_id: &envelope.id,
            correlation_id: &envelope.correlationid,
            replay: &mark,
        };
        let published = self.publisher.republish(&message).await;

        let outcome = if published.is_ok() {
            "replayed"
        } else {
            "failed"
        };
        let mut audit = audit(&letter.record, Some(&envelope), actor, outcome, self.via);
        if let Err(e) = &published {
            audit.detail["error"] = json!(e.to_string());
        }
        let settled = self
            .store
            .settle_replay(id, actor, published.is_ok(), &audit)
            .await?;
        match (settled, published) {
            (Settled::Replayed(replays), _) => {
                tracing::info!(dead_letter = id, replays, "dead letter replayed");
                Ok(Replayed {
                    id,
                    message_id: letter.record.message_id,
                    routing_key: letter.record.routing_key,
                    replays,
                })
            }
            (Settled::Failed, Err(source)) => Err(ReplayError::Publish { id, source }),
            (Settled::Failed, Ok(())) => Err(ReplayError::Busy(id)),
        }
    }

    /// Replays open letters after id `after` (oldest first), at most [`REPLAY_BATCH`];
    /// stops at the first publish the broker refuses.
    pub async fn replay_open(&self, after: i64, actor: &str) -> Result<Batch, StoreError> {
        let ids = self.store.open_dead_letter_ids(after, REPLAY_BATCH).await?;
        let mut batch = Batch {
            full: ids.len() == REPLAY_BATCH as usize,
            last_id: ids.last().copied().unwrap_or(after),
            ..Batch::default()
        };

        for id in ids {
            match self.replay(id, actor).await {
                Ok(replayed) => batch.replayed.push(replayed),
                Err(ReplayError::Store(e)) => return Err(e),
                Err(e @ ReplayError::Publish { .. }) => {
                    batch.broker_error = Some(e.to_string());
                    break;
                }
                Err(e) => batch.skipped.push(Skipped {
                    id,
                    error: e.to_string(),
                }),
            }
        }

        batch.open = self.store.open_dead_letters().await?;
        Ok(batch)
    }
}

/// Drops an open dead letter as `actor`: kept on record as `dropped`, never replayed.
pub async fn drop(
    store: &Store,
    id: i64,
    actor: &str,
    via: &'static str,
) -> Result<DeadLetterRecord, ReplayError> {
    let Some(found) = store.dead_letter(id).await? else {
        return Err(ReplayError::NotFound(id));
    };
    let envelope = serde_json::from_slice::<Envelope>(&found.envelope).ok();
    let audit = audit(&found.record, envelope.as_ref(), actor, "dropped", via);

    match store.drop_dead_letter(id, actor, &audit).await? {
        Claimed::Done(record) => {
            tracing::info!(dead_letter = id, "dead letter dropped");
            Ok(record)
        }
        refused => Err(refusal(id, refused)),
    }
}

/// The audit row of a replay or drop: the letter's ids and routing key, never its body.
fn audit(
    letter: &DeadLetterRecord,
    envelope: Option<&Envelope>,
    actor: &str,
    outcome: &str,
    via: &'static str,
) -> AuditEntry {
    let action = match outcome {
        "dropped" => "dead_letter.dropped",
        _ => "dead_letter.replayed",
    };
    let own = format!("dead-letter:{}", letter.id);
    AuditEntry {
        actor: actor.to_owned(),
        action: action.into(),
        subject: envelope.and_then(|e| e.subject.clone()),
        object: Some(own.clone()),
        outcome: outcome.into(),
        correlation_id: envelope.map_or(own.clone(), |e| e.correlationid.clone()),
        event_id: envelope.map_or(own, Envelope::dedup_key),
        detail: json!({
            "dead_letter_id": letter.id,
            "message_id": letter.message_id,
            "routing_key": letter.routing_key,
            "lane": letter.lane,
            "via": via,
        }),
    }
}

/// The key the letter's lane records the message's outcome under.
fn processed_key(lane: Option<&str>, envelope: &Envelope) -> String {
    match lane {
        Some(lane) if lane == Lane::ClickUp.name() => {
            let data = serde_json::from_str(envelope.data.get()).unwrap_or_default();
            crate::worker::tasks::item_key(&data, envelope)
        }
        _ => envelope.dedup_key(),
    }
}

fn refusal<T>(id: i64, claimed: Claimed<T>) -> ReplayError {
    match claimed {
        Claimed::NotFound => ReplayError::NotFound(id),
        Claimed::NotOpen(record) => {
            let (by, at) = match record.state {
                LetterState::Dropped => (record.dropped_by, record.dropped_at),
                _ => (record.replayed_by, record.replayed_at),
            };
            ReplayError::NotOpen {
                id,
                state: record.state,
                by,
                at,
            }
        }
        Claimed::Busy | Claimed::Done(_) => ReplayError::Busy(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(data: serde_json::Value) -> Envelope {
        serde_json::from_value(json!({
            "specversion": "1.0", "id": "w1:item-7", "source": "urn:clickup:webhook:w1",
            "type": "com.clickup.webhook.taskUpdated", "time": "2026-01-01T00:00:00Z",
            "datacontenttype": "application/json", "correlationid": "c",
            "routingkey": "clickup.task.taskUpdated", "data": data
        }))
        .unwrap()
    }

    /// The replay clears the `failed` outcome under the key the letter's lane recorded it.
    #[test]
    fn the_outcome_key_is_the_lanes() {
        let item = envelope(json!({ "history_item": { "id": "item-7" } }));
        let bare = envelope(json!({}));
        let cases = [
            (Some("clickup"), &item, "clickup-item:item-7".to_string()),
            (Some("clickup"), &bare, bare.dedup_key()),
            (Some("deprovision"), &item, item.dedup_key()),
            (None, &item, item.dedup_key()),
        ];
        for (lane, envelope, expected) in cases {
            assert_eq!(processed_key(lane, envelope), expected, "{lane:?}");
        }
    }
}
