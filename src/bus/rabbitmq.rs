//! The RabbitMQ engine: confirmed, mandatory, persistent publishes; manual-ack consumers.
//!
//! The publisher keeps one connection with one confirm channel and rebuilds it on the next
//! publish after any loss, so a broker restart needs no router restart. Topology is declared
//! on every (re)connect; declarations are idempotent.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::{
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
        BasicPublishOptions, BasicQosOptions, BasicRejectOptions, ConfirmSelectOptions,
        QueueDeclareOptions,
    },
    types::FieldTable,
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties,
};
use sha2::Digest;
use tokio::{sync::RwLock, time::timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn, Instrument};

mod declare;

use super::{
    topology::{Lane, Names},
    Consumer, Disposition, Handler, PublishError, Publisher,
};
use crate::{config::BusSettings, ingest::envelope::Envelope};

/// Longest a readiness probe waits for a fresh connection.
const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Pause before a delivery that failed transiently goes back to its queue.
const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// One connection with one channel.
struct Link {
    connection: Connection,
    channel: Channel,
}

impl Link {
    fn is_open(&self) -> bool {
        self.connection.status().connected() && self.channel.status().connected()
    }
}

/// The RabbitMQ engine.
pub struct RabbitMq {
    settings: BusSettings,
    names: Names,
    publish_link: RwLock<Option<Arc<Link>>>,
}

impl RabbitMq {
    pub fn new(settings: BusSettings) -> Self {
        let names = Names::new(&settings.amqp_prefix);
        Self {
            settings,
            names,
            publish_link: RwLock::new(None),
        }
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    /// Connects once and declares the topology, failing if the broker cannot be reached.
    pub async fn declare_topology(&self) -> anyhow::Result<()> {
        let link = connect(&self.settings, &self.names).await?;
        let _ = link.connection.close(200, "topology declared".into()).await;
        Ok(())
    }

    /// Opens the publish link now, so `/readyz` reflects the broker before the first event.
    pub async fn connect_publisher(&self) -> Result<(), PublishError> {
        self.publish_link().await.map(|_| ())
    }

    /// Messages waiting in a queue (for the demo and tests).
    pub async fn queue_depth(&self, queue: &str) -> anyhow::Result<u32> {
        let link = connect(&self.settings, &self.names).await?;
        let options = QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        let queue = link
            .channel
            .queue_declare(queue.into(), options, FieldTable::default())
            .await?;
        let _ = link.connection.close(200, "depth read".into()).await;
        Ok(queue.message_count())
    }

    /// Deletes every queue and exchange under the prefix (demo and test clean-up).
    pub async fn delete_topology(&self) -> anyhow::Result<()> {
        let link = connect(&self.settings, &self.names).await?;
        for lane in Lane::ALL {
            link.channel
                .queue_delete(self.names.queue(lane).into(), Default::default())
                .await?;
        }
        link.channel
            .queue_delete(self.names.dead_queue().into(), Default::default())
            .await?;
        link.channel
            .exchange_delete(self.names.events_exchange().into(), Default::default())
            .await?;
        link.channel
            .exchange_delete(self.names.dead_exchange().into(), Default::default())
            .await?;
        let _ = link.connection.close(200, "topology deleted".into()).await;
        Ok(())
    }

    /// The open publish link, reconnecting when there is none.
    async fn publish_link(&self) -> Result<Arc<Link>, PublishError> {
        if let Some(link) = self
            .publish_link
            .read()
            .await
            .as_ref()
            .filter(|l| l.is_open())
        {
            return Ok(link.clone());
        }

        let mut slot = self.publish_link.write().await;
        if let Some(link) = slot.as_ref().filter(|l| l.is_open()) {
            return Ok(link.clone());
        }
        let link = connect(&self.settings, &self.names)
            .await
            .map_err(|e| PublishError::Unavailable(format!("{e:#}")))?;
        link.channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;
        info!("publisher connected");
        let link = Arc::new(link);
        *slot = Some(link.clone());
        Ok(link)
    }

    async fn publish_confirmed(&self, envelope: &Envelope) -> Result<(), PublishError> {
        let link = self.publish_link().await?;
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/cloudevents+json".into())
            .with_message_id(short_string(&envelope.id).into())
            .with_correlation_id(short_string(&envelope.correlationid).into());
        let options = BasicPublishOptions {
            mandatory: true,
            immediate: false,
        };

        let confirm = link
            .channel
            .basic_publish(
                self.names.events_exchange().into(),
                envelope.routingkey.as_str().into(),
                options,
                &envelope.to_bytes(),
                properties,
            )
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;
        let confirmation = confirm
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;

        match confirmation {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(_)) => {
                Err(PublishError::Unroutable(envelope.routingkey.clone()))
            }
            Confirmation::Nack(_) => Err(PublishError::Nacked),
            Confirmation::NotRequested => Err(PublishError::Unavailable("confirms are off".into())),
        }
    }
}

#[async_trait]
impl Publisher for RabbitMq {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        let outcome = timeout(
            self.settings.confirm_timeout(),
            self.publish_confirmed(envelope),
        )
        .await
        .unwrap_or(Err(PublishError::ConfirmTimeout));

        let healthy = !matches!(
            outcome,
            Err(PublishError::Unavailable(_) | PublishError::ConfirmTimeout)
        );
        if !healthy {
            // Drop the link so the next publish starts from a fresh connection.
            if let Ok(mut slot) = self.publish_link.try_write() {
                *slot = None;
            }
        }
        outcome
    }

    async fn check_ready(&self) -> bool {
        let open = self
            .publish_link
            .read()
            .await
            .as_ref()
            .is_some_and(|link| link.is_open());
        if open {
            return true;
        }
        timeout(READY_PROBE_TIMEOUT, self.connect_publisher())
            .await
            .is_ok_and(|connected| connected.is_ok())
    }
}

#[async_trait]
impl Consumer for RabbitMq {
    async fn consume_until_stopped(
        &self,
        lane: Lane,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut backoff = Duration::from_millis(200);
        loop {
            let span = tracing::info_span!("consumer", queue = %self.names.queue(lane));
            let outcome = consume_once(self, lane, handler.clone(), shutdown.clone())
                .instrument(span)
                .await;
            if shutdown.is_cancelled() {
                return Ok(());
            }
            match outcome {
                Ok(()) => backoff = Duration::from_millis(200),
                Err(error) => {
                    warn!(queue = %self.names.queue(lane), error = %format!("{error:#}"), "consumer lost the broker; reconnecting")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
}

/// One consumer session: returns when the connection is lost or on shutdown.
async fn consume_once(
    bus: &RabbitMq,
    lane: Lane,
    handler: Arc<dyn Handler>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let link = connect(&bus.settings, &bus.names).await?;
    let queue = bus.names.queue(lane);
    link.channel
        .basic_qos(bus.settings.prefetch, BasicQosOptions::default())
        .await?;
    let tag = format!("{}-{}", lane.name(), uuid::Uuid::new_v4());
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
        let redelivered = delivery.redelivered;

        let disposition = match serde_json::from_slice::<Envelope>(&delivery.data) {
            Ok(envelope) => {
                let span = tracing::info_span!("delivery", message_id = %envelope.id, routing_key = %envelope.routingkey, redelivered);
                // Each message is one unit of work for the ClickUp answers its rows report.
                crate::clickup::answers::collect(handler.handle(envelope, redelivered))
                    .instrument(span)
                    .await
            }
            Err(error) => {
                warn!(error = %error, "undecodable message; dead-lettering");
                Disposition::DeadLetter
            }
        };

        let _settled = match disposition {
            Disposition::Ack => delivery.ack(BasicAckOptions::default()).await?,
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
                    .await?
            }
            Disposition::DeadLetter => {
                delivery
                    .reject(BasicRejectOptions { requeue: false })
                    .await?
            }
        };
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

/// AMQP short strings hold at most 255 bytes; a longer id is replaced by its SHA-256 (the
/// envelope in the body keeps the full id).
fn short_string(value: &str) -> String {
    if value.len() <= 255 {
        return value.to_string();
    }
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(value.as_bytes()))
    )
}

/// Connects, opens a channel and declares the whole topology.
async fn connect(settings: &BusSettings, names: &Names) -> anyhow::Result<Link> {
    let connection = timeout(
        Duration::from_secs(5),
        Connection::connect(settings.amqp_url.expose(), ConnectionProperties::default()),
    )
    .await
    .map_err(|_| anyhow::anyhow!("connecting to the broker timed out"))??;
    let channel = declare::topology(&connection, names, settings.delivery_limit).await?;
    Ok(Link {
        connection,
        channel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_ids_become_short_strings() {
        let cases = [
            ("abc".to_string(), "abc".to_string()),
            ("x".repeat(255), "x".repeat(255)),
        ];
        for (input, expected) in cases {
            assert_eq!(short_string(&input), expected);
        }

        let long = short_string(&"€".repeat(100));

        assert!(long.starts_with("sha256:") && long.len() == 71, "{long}");
        assert_ne!(long, short_string(&"€".repeat(101)));
    }
}
