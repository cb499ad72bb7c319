//! What the provision, task and approval handlers do around their work: skip what is
//! recorded, run the work, record its outcome (processed row and audit row) in one
//! transaction, then say how to settle.
//!
//! Invariant: a message is acked only after its outcome is recorded; a transient failure
//! (see [`Failure::is_transient`]) keeps only the failed attempt and goes through the retry
//! tiers, a permanent one is recorded and dead-lettered.

use std::future::Future;

use serde_json::json;
use tracing::{error, info, warn};

use crate::{
    bus::{Disposition, Lane},
    ingest::envelope::Envelope,
    store::{AuditEntry, Processed, Store},
    worker::deprovision::ROUTER_ACTOR,
};

/// What handling one message did, for the processed row and the audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub name: &'static str,
    pub detail: String,
}

impl Outcome {
    pub fn new(name: &'static str, detail: impl Into<String>) -> Outcome {
        Outcome {
            name,
            detail: detail.into(),
        }
    }

    /// Whether the work found nothing to do (another handler may still want the message).
    pub fn is_ignored(&self) -> bool {
        self.name == "ignored"
    }
}

/// A failure that may or may not pass if tried again.
pub trait Failure: std::fmt::Display {
    /// Whether trying again later may succeed (5xx but ClickUp's malformed-id 500, 429,
    /// timeouts, connection errors, the store not answering): the message then goes through
    /// the retry tiers rather than to the dead letters.
    fn is_transient(&self) -> bool;

    /// A short, non-personal reason from a closed vocabulary, for the failure record.
    fn code(&self) -> &'static str;
}

/// Runs `work` for a message keyed `key` unless its outcome is already recorded; the outcome
/// is audited as `action` (e.g. `identity.event`).
pub async fn run<E: Failure>(
    store: &Store,
    key: &str,
    lane: Lane,
    action: &str,
    envelope: &Envelope,
    work: impl Future<Output = Result<Outcome, E>>,
) -> Disposition {
    match store.processed(key).await {
        Ok(Some(_)) => return Disposition::Ack,
        Ok(None) => {}
        Err(e) => {
            error!(error = %e, "store unavailable; the event goes back to the queue");
            return Disposition::Retry;
        }
    }

    let (outcome, disposition) = match work.await {
        Ok(outcome) => (outcome, Disposition::Ack),
        Err(e) if e.is_transient() => {
            warn!(error = %e, "handling interrupted; the event goes back to the queue");
            note_failure(store, envelope, lane, e.code(), &e.to_string()).await;
            return Disposition::Retry;
        }
        Err(e) => {
            note_failure(store, envelope, lane, e.code(), &e.to_string()).await;
            (
                Outcome::new("failed", e.to_string()),
                Disposition::DeadLetter,
            )
        }
    };

    let processed = Processed {
        lane: lane.name().into(),
        outcome: outcome.name.into(),
        detail: outcome.detail.clone(),
    };
    let audit = AuditEntry {
        actor: ROUTER_ACTOR.into(),
        action: action.into(),
        subject: envelope.subject.clone(),
        object: None,
        outcome: outcome.name.into(),
        correlation_id: envelope.correlationid.clone(),
        event_id: key.to_owned(),
        detail: json!({ "event_type": envelope.event_type, "detail": outcome.detail }),
    };
    match store
        .record_message(&envelope.dedup_key(), key, &processed, &[audit])
        .await
    {
        Ok(_) => {
            info!(outcome = outcome.name, "event handled");
            disposition
        }
        Err(e) => {
            error!(error = %e, "could not record the outcome; the event goes back to the queue");
            Disposition::Retry
        }
    }
}

/// Keeps a failed attempt at a message, so that its dead letter can say why; the message is
/// settled the same way whether or not this record is written.
pub async fn note_failure(
    store: &Store,
    envelope: &Envelope,
    lane: Lane,
    code: &'static str,
    error: &str,
) {
    if let Err(e) = store
        .note_failure(&envelope.dedup_key(), lane.name(), code, error)
        .await
    {
        warn!(error = %e, code, "could not keep the failure on record");
    }
}
