//! Consumer sessions: one queue, manual acks, each delivery settled by what its handler
//! decided, reconnecting with backoff when the broker goes away.
//!
//! Lanes hand envelopes to a [`Handler`] (an undecodable body is dead-lettered); the
//! dead-letter queue hands the raw message and its death headers to a [`DeadLetterHandler`].

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::{
    message::Delivery,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
        BasicQosOptions, BasicRejectOptions,
    },
    types::FieldTable,
};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn, Instrument};

use super::{connect, death::death_of, RabbitMq};
use crate::{
    bus::{DeadLetter, DeadLetterHandler, Disposition, Handler, Lane},
    ingest::envelope::Envelope,
};

/// Pause before a delivery that failed transiently goes back to its queue.
const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// What a session consumes and how it turns a delivery into a disposition.
#[async_trait]
pub(super) trait OnDelivery: Send + Sync {
    /// The queue's name under the bus's prefix.
    fn queue(&self, bus: &RabbitMq) -> String;

    /// A short, id-free name for consumer tags.
    fn tag(&self) -> &'static str;

    async fn on_delivery(&self, delivery: &Delivery) -> Disposition;
}

/// A lane's deliveries, as envelopes.
pub(super) struct LaneDeliveries {
    pub lane: Lane,
    pub handler: Arc<dyn Handler>,
}

#[async_trait]
impl OnDelivery for LaneDeliveries {
    fn queue(&self, bus: &RabbitMq) -> String {
        bus.names.queue(self.lane)
    }

    fn tag(&self) -> &'static str {
        self.lane.name()
    }

    async fn on_delivery(&self, delivery: &Delivery) -> Disposition {
        let redelivered = delivery.redelivered;
        match serde_json::from_slice::<Envelope>(&delivery.data) {
            Ok(envelope) => {
                let span = tracing::info_span!("delivery", message_id = %envelope.id, routing_key = %envelope.routingkey, redelivered);
                self.handler
                    .handle(envelope, redelivered)
                    .instrument(span)
                    .await
            }
            Err(error) => {
                warn!(error = %error, "undecodable message; dead-lettering");
                Disposition::DeadLetter
            }
        }
    }
}

/// The dead-letter queue's deliveries, with what the broker says of their death.
pub(super) struct DeadDeliveries {
    pub handler: Arc<dyn DeadLetterHandler>,
}

#[async_trait]
impl OnDelivery for DeadDeliveries {
    fn queue(&self, bus: &RabbitMq) -> String {
        bus.names.dead_queue()
    }

    fn tag(&self) -> &'static str {
        "dead-letters"
    }

    async fn on_delivery(&self, delivery: &Delivery) -> Disposition {
        let letter = DeadLetter {
            body: delivery.data.clone(),
            message_id: delivery
                .properties
                .message_id()
                .as_ref()
                .map(|id| id.to_string()),
            routing_key: delivery.routing_key.to_string(),
            death: death_of(delivery.properties.headers().as_ref()),
        };
        let span = tracing::info_span!("dead_letter", message_id = ?letter.message_id, routing_key = %letter.routing_key, reason = ?letter.death.reason);
        self.handler.handle(letter).instrument(span).await
    }
}

/// Consumes until the token is cancelled, reconnecting with backoff on broker loss.
pub(super) async fn until_stopped(
    bus: &RabbitMq,
    on: Arc<dyn OnDelivery>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut backoff = Duration::from_millis(200);
    loop {
        let queue = on.queue(bus);
        let span = tracing::info_span!("consumer", queue = %queue);
        let outcome = once(bus, on.clone(), shutdown.clone())
            .instrument(span)
            .await;
        if shutdown.is_cancelled() {
            return Ok(());
        }
        match outcome {
            Ok(()) => backoff = Duration::from_millis(200),
            Err(error) => {
                warn!(queue = %queue, error = %format!("{error:#}"), "consumer lost the broker; reconnecting")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// One consumer session: returns when the connection is lost or on shutdown.
async fn once(
    bus: &RabbitMq,
    on: Arc<dyn OnDelivery>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let link = connect(&bus.settings, &bus.names).await?;
    let queue = on.queue(bus);
    link.channel
        .basic_qos(bus.settings.prefetch, BasicQosOptions::default())
        .await?;
    let tag = format!("{}-{}", on.tag(), uuid::Uuid::new_v4());
    let mut deliveries = link
        .channel
        .basic_consume(
            queue.as_str().into(),
            tag.as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    info!("consuming");

    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => break,
            next = deliveries.next() => next,
        };
        let Some(delivery) = next else {
            anyhow::bail!("delivery stream ended");
        };
        let delivery = delivery?;

        let disposition = on.on_delivery(&delivery).await;

        let _settled = settle(&delivery, disposition, &shutdown).await?;
        debug!(?disposition, "delivery settled");
    }

    let _ = link
        .channel
        .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
        .await;
    let _ = link.channel.close(200, "shutting down".into()).await;
    let _ = link.connection.close(200, "shutting down".into()).await;
    Ok(())
}

async fn settle(
    delivery: &Delivery,
    disposition: Disposition,
    shutdown: &CancellationToken,
) -> lapin::Result<bool> {
    match disposition {
        Disposition::Ack => delivery.ack(BasicAckOptions::default()).await,
        Disposition::Retry => {
            // FIXME(#7): requeueing after a pause is a stand-in for the retry tiers (TTL
            // delay queues); until then the pause keeps an outage from burning the
            // delivery limit in seconds.
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(RETRY_PAUSE) => {}
            }
            delivery
                .nack(BasicNackOptions {
                    multiple: false,
                    requeue: true,
                })
                .await
        }
        Disposition::DeadLetter => delivery.reject(BasicRejectOptions { requeue: false }).await,
    }
}
