//! Consumer sessions: one queue, manual acks, each delivery settled by what its handler
//! decided, reconnecting with backoff when the broker goes away (a lost connection or channel
//! ends the session at once; the next one declares the topology again and resumes).
//!
//! A lane's transient failure goes to the next retry tier (see [`super::retry`]); the
//! original is acked only after the broker confirmed the copy, and a copy that cannot be
//! placed sends the original back to its queue after a pause, so nothing is lost.
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
        BasicQosOptions, BasicRejectOptions, ConfirmSelectOptions,
    },
    types::FieldTable,
    Channel, Event,
};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn, Instrument};

use super::{
    death::death_of,
    retry::{self, Next},
    supervise::Backoff,
    RabbitMq,
};
use crate::bus::{DeadLetter, DeadLetterHandler, Disposition, Handler, Lane};

/// Pause before a delivery goes back to its queue (a dead letter the store cannot take yet,
/// or a retry copy the broker did not confirm).
const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// What a session consumes and how it turns a delivery into a disposition.
#[async_trait]
pub(super) trait OnDelivery: Send + Sync {
    /// The queue's name under the bus's prefix.
    fn queue(&self, bus: &RabbitMq) -> String;

    /// A short, id-free name for consumer tags.
    fn tag(&self) -> &'static str;

    /// Whether a transient failure goes through the retry tiers (the lanes) rather than
    /// back to the queue after a pause (the dead letters: only the store can be missing).
    fn uses_retry_tiers(&self) -> bool;

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

    fn uses_retry_tiers(&self) -> bool {
        true
    }

    async fn on_delivery(&self, delivery: &Delivery) -> Disposition {
        crate::bus::handle_lane_message(self.handler.as_ref(), &delivery.data, delivery.redelivered)
            .await
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

    fn uses_retry_tiers(&self) -> bool {
        false
    }

    async fn on_delivery(&self, delivery: &Delivery) -> Disposition {
        let letter = DeadLetter {
            body: delivery.data.clone(),
            message_id: delivery
                .properties
                .message_id()
                .as_ref()
                .map(|id| id.to_string()),
            // A retry copy's first routing key names its delay queue; the header keeps the
            // key it was published with.
            routing_key: retry::original_routing_key(delivery),
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
    let mut backoff = Backoff::new(Duration::from_millis(200), super::supervise::RECONNECT_CAP);
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
            Ok(Session::Consumed) => backoff.reset(),
            Ok(Session::Stopped) => return Ok(()),
            Err(error) => {
                warn!(queue = %queue, error = %format!("{error:#}"), "consumer lost the broker; reconnecting")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

/// How a session ended without an error.
enum Session {
    /// It consumed, then the broker ended it (a cancelled consumer): start another.
    Consumed,
    /// Shutdown.
    Stopped,
}

/// What settling a delivery needs beyond the delivery.
struct Settler<'a> {
    bus: &'a RabbitMq,
    on: &'a dyn OnDelivery,
    /// A channel in confirm mode on the session's connection, for retry copies.
    confirms: &'a Channel,
    shutdown: &'a CancellationToken,
}

/// One consumer session: returns when the connection or channel is lost, or on shutdown.
async fn once(
    bus: &RabbitMq,
    on: Arc<dyn OnDelivery>,
    shutdown: CancellationToken,
) -> anyhow::Result<Session> {
    let link = bus.connect().await?;
    let queue = on.queue(bus);
    let mut events = link.connection.events_listener();
    link.channel
        .basic_qos(bus.settings.prefetch, BasicQosOptions::default())
        .await?;
    let confirms = link.connection.create_channel().await?;
    confirms
        .confirm_select(ConfirmSelectOptions::default())
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

    let settler = Settler {
        bus,
        on: on.as_ref(),
        confirms: &confirms,
        shutdown: &shutdown,
    };
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => break,
            event = events.next() => match event {
                Some(Event::Error(error)) => anyhow::bail!("connection lost: {error}"),
                None => anyhow::bail!("connection closed"),
                Some(_) => continue,
            },
            next = deliveries.next() => next,
        };
        let Some(delivery) = next else {
            if link.is_open() {
                return Ok(Session::Consumed);
            }
            anyhow::bail!("delivery stream ended");
        };
        let delivery = delivery?;

        // The handler finishes even when shutdown comes meanwhile: its work is recorded and
        // the delivery settled before the session closes.
        let disposition = on.on_delivery(&delivery).await;

        settler.settle(&delivery, disposition).await?;
        debug!(?disposition, "delivery settled");
    }

    let _ = link
        .channel
        .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
        .await;
    let _ = confirms.close(200, "shutting down".into()).await;
    let _ = link.channel.close(200, "shutting down".into()).await;
    let _ = link.connection.close(200, "shutting down".into()).await;
    Ok(Session::Stopped)
}

impl Settler<'_> {
    async fn settle(&self, delivery: &Delivery, disposition: Disposition) -> lapin::Result<bool> {
        match disposition {
            Disposition::Ack => delivery.ack(BasicAckOptions::default()).await,
            Disposition::Retry if self.on.uses_retry_tiers() => self.retry(delivery).await,
            Disposition::Retry => self.requeue_after_pause(delivery).await,
            Disposition::DeadLetter if retry::retries_of(delivery) > 0 => {
                // A retry copy's own routing keys name its delay queue: say where it died.
                self.dead_letter(delivery, "rejected").await
            }
            Disposition::DeadLetter => delivery.reject(BasicRejectOptions { requeue: false }).await,
        }
    }

    /// To the next tier's delay queue, or to the dead letters when the tiers are used up.
    async fn retry(&self, delivery: &Delivery) -> lapin::Result<bool> {
        let tiers = self.bus.settings.retry_tiers.tiers();
        match retry::next(retry::retries_of(delivery), tiers.len()) {
            Next::Delay { tier, retry } => {
                let queue = self.bus.names.retry_queue(tiers[tier]);
                let bound = self.bus.settings.confirm_timeout();
                match retry::delay(self.confirms, &queue, delivery, retry, bound).await {
                    Ok(()) => {
                        info!(retry, queue = %queue, "delivery retried later");
                        delivery.ack(BasicAckOptions::default()).await
                    }
                    Err(error) => {
                        warn!(error = %error, "retry copy not confirmed; the delivery goes back to its queue");
                        self.requeue_after_pause(delivery).await
                    }
                }
            }
            Next::Exhausted { retries } => {
                warn!(retries, "retries exhausted; dead-lettering");
                self.dead_letter(delivery, "retries_exhausted").await
            }
        }
    }

    async fn dead_letter(&self, delivery: &Delivery, reason: &str) -> lapin::Result<bool> {
        let bound = self.bus.settings.confirm_timeout();
        let queue = self.on.queue(self.bus);
        let names = &self.bus.names;
        match retry::dead_letter(self.confirms, names, &queue, delivery, reason, bound).await {
            Ok(()) => delivery.ack(BasicAckOptions::default()).await,
            Err(error) => {
                warn!(error = %error, "dead letter not confirmed; the delivery goes back to its queue");
                self.requeue_after_pause(delivery).await
            }
        }
    }

    /// Back to the queue after a pause (cut short by shutdown).
    async fn requeue_after_pause(&self, delivery: &Delivery) -> lapin::Result<bool> {
        tokio::select! {
            _ = self.shutdown.cancelled() => {}
            _ = tokio::time::sleep(RETRY_PAUSE) => {}
        }
        delivery
            .nack(BasicNackOptions {
                multiple: false,
                requeue: true,
            })
            .await
    }
}
