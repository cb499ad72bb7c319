//! The one path from envelopes to the bus, shared by the receivers and the SCIM writes: claim
//! each event's receipt, publish it with confirm, mark it accepted with its `event.received`
//! row. A failed publish releases its claim (in a SCIM write's transaction, the rollback
//! does), so the sender's retry is not mistaken for a duplicate.

use std::time::{Duration, Instant};

use chrono::Utc;
use tracing::{debug, error, warn};

use crate::{
    bus::{PublishError, Publisher},
    ingest::envelope::Envelope,
    metrics::Metrics,
    store::{correlation::received, receipts::Receipts, Claim, StoreError},
};

/// How long a claimed key stays locked while its publish is in flight.
pub const CLAIM_LEASE: Duration = Duration::from_secs(10);

/// The ids of the events published now, and of those accepted before.
#[derive(Debug, Default)]
pub struct Queued {
    pub accepted: Vec<String>,
    pub duplicates: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the receipt store is unavailable")]
    Store(#[source] StoreError),
    #[error("the same event is being queued by another request")]
    InFlight,
    /// What the sender is told: no broker internals (queue names, vhost).
    #[error("{}", caller_safe(.0))]
    Publish(PublishError),
}

/// Publishes the events not seen before, in order, stopping at the first failure.
pub async fn queue(
    receipts: &mut (dyn Receipts + '_),
    publisher: &dyn Publisher,
    metrics: &Metrics,
    envelopes: &mut [Envelope],
) -> Result<Queued, QueueError> {
    let mut queued = Queued::default();

    for envelope in envelopes.iter_mut() {
        let key = envelope.dedup_key();
        let claim = receipts.claim(&key, CLAIM_LEASE).await.map_err(|e| {
            error!(error = %e, "receipt store unavailable");
            QueueError::Store(e)
        })?;
        match claim {
            Claim::Accepted => {
                queued.duplicates.push(envelope.id.clone());
                continue;
            }
            Claim::InFlight => return Err(QueueError::InFlight),
            Claim::New => {}
        }

        envelope.acceptedat = Some(Utc::now().timestamp_millis());
        let started = Instant::now();
        if let Err(publish_error) = receipts.publish(publisher, envelope).await {
            warn!(event_id = %envelope.id, error = %publish_error, "publish not confirmed");
            if let Err(e) = receipts.release(&key).await {
                error!(error = %e, "could not release a receipt; it frees itself when its lease ends");
            }
            return Err(QueueError::Publish(publish_error));
        }
        metrics.confirmed(started.elapsed());

        if let Err(e) = receipts.accept(&key, &received(envelope, "receiver")).await {
            // The event is queued; a redelivery is caught by the worker's own deduplication.
            error!(error = %e, "could not mark a queued event accepted");
        }
        debug!(event_id = %envelope.id, routing_key = %envelope.routingkey, "event queued");
        queued.accepted.push(envelope.id.clone());
    }
    Ok(queued)
}

fn caller_safe(error: &PublishError) -> String {
    match error {
        PublishError::Unavailable(_) | PublishError::ConfirmTimeout => {
            "the broker did not confirm the event in time; retry later".into()
        }
        PublishError::Nacked => "the broker refused the event; retry later".into(),
        PublishError::Unroutable(key) => format!("no queue takes routing key {key}; retry later"),
    }
}
