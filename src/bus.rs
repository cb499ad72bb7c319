//! The message bus behind two small traits, so a second engine can sit beside RabbitMQ.
//!
//! Invariants: `publish` returns `Ok` only once the broker has confirmed that the message is
//! queued durably (routable, persistent, acked). A handler's [`Disposition`] is applied only
//! after the handler returns, so work and its record are done before the ack.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use tracing::{warn, Instrument};

use crate::ingest::envelope::Envelope;

pub mod dead;
pub mod embedded;
pub mod engine;
pub mod rabbitmq;
pub mod topology;

pub use dead::{DeadLetter, Death, REPLAY_HEADER};
pub use engine::Bus;
pub use topology::Lane;

/// Why a publish was not confirmed; every variant means "not queued, the sender must retry".
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    #[error("broker did not confirm in time")]
    ConfirmTimeout,
    #[error("broker refused the message (nack)")]
    Nacked,
    #[error("no queue is bound for routing key {0}")]
    Unroutable(String),
}

/// A message published again as it was queued (a dead-letter replay).
#[derive(Clone, Copy, Debug)]
pub struct Republish<'a> {
    /// The body byte for byte.
    pub body: &'a [u8],
    pub routing_key: &'a str,
    pub message_id: &'a str,
    pub correlation_id: &'a str,
    /// Marks this replay ([`REPLAY_HEADER`]), so a later death of it is a new dead letter.
    pub replay: &'a str,
}

/// Publishes envelopes with confirms.
#[async_trait]
pub trait Publisher: Send + Sync {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError>;

    /// Publishes `envelope` as part of the caller's open store transaction (a SCIM write, whose
    /// row and events commit together): an engine that lives in the store queues it in that
    /// transaction, so it is delivered once the caller commits and never if it rolls back;
    /// the others publish at once with confirm, as [`Publisher::publish`].
    async fn publish_in(
        &self,
        transaction: &mut sqlx::AnyConnection,
        envelope: &Envelope,
    ) -> Result<(), PublishError> {
        let _ = transaction;
        self.publish(envelope).await
    }

    /// Publishes a message again to the events exchange with the same guarantees as
    /// [`Publisher::publish`] (confirmed, mandatory, persistent).
    async fn republish(&self, message: &Republish<'_>) -> Result<(), PublishError>;

    /// Whether the broker can take a publish now: the link the engine keeps open on its own
    /// is open (for `/readyz`; answers within a short bound, never connects).
    async fn check_ready(&self) -> bool;
}

/// What to do with a delivery once its handler has finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Done and recorded.
    Ack,
    /// A transient failure: deliver again later.
    Retry,
    /// A permanent failure, already recorded: send to the dead letters.
    DeadLetter,
}

/// Handles the deliveries of one lane.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, envelope: Envelope, redelivered: bool) -> Disposition;
}

/// Handles what the broker dead-lettered, whatever lane it came from and whether or not its
/// body is an envelope.
#[async_trait]
pub trait DeadLetterHandler: Send + Sync {
    async fn handle(&self, letter: DeadLetter) -> Disposition;
}

/// Consumes a lane (or the dead letters) until the token is cancelled, reconnecting on broker
/// loss.
#[async_trait]
pub trait Consumer: Send + Sync {
    async fn consume_until_stopped(
        &self,
        lane: Lane,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()>;

    /// Consumes the dead-letter queue: each message with what the broker says of its death.
    async fn consume_dead_letters_until_stopped(
        &self,
        handler: Arc<dyn DeadLetterHandler>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()>;
}

/// Reads how many messages wait, for the metrics.
#[async_trait]
pub trait QueueDepths: Send + Sync {
    /// Messages in each lane's queue (by lane name) and in the dead-letter queue
    /// (`dead-letters`); a queue not read within `within` is left out.
    async fn queue_depths(&self, within: Duration) -> Vec<(&'static str, u32)>;
}

/// Runs a lane's handler on one message body, for every engine: the body decoded as an
/// envelope, the work done as one unit for the ClickUp answers its audit rows report, in a
/// span with the message's ids. An undecodable body is dead-lettered.
pub(crate) async fn handle_lane_message(
    handler: &dyn Handler,
    body: &[u8],
    redelivered: bool,
) -> Disposition {
    match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => {
            let span = tracing::info_span!("delivery", message_id = %envelope.id, routing_key = %envelope.routingkey, redelivered);
            crate::clickup::answers::collect(handler.handle(envelope, redelivered))
                .instrument(span)
                .await
        }
        Err(error) => {
            warn!(error = %error, "undecodable message; dead-lettering");
            Disposition::DeadLetter
        }
    }
}
