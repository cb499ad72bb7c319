//! The RabbitMQ engine: confirmed, mandatory, persistent publishes; manual-ack consumers.
//!
//! The publisher keeps one connection with one confirm channel; its supervisor
//! (`supervise`) reconnects on its own after any loss, and a publish that finds no link opens
//! one, so a broker restart needs no router restart. Topology is declared on every
//! (re)connect; declarations are idempotent. lapin's automatic recovery is never turned on.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use lapin::{
    options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties,
};
use sha2::Digest;
use tokio::{sync::RwLock, time::timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

mod consume;
mod death;
mod declare;
mod retry;
mod supervise;

use super::{
    topology::{Lane, Names},
    Consumer, DeadLetterHandler, Handler, PublishError, Publisher, QueueDepths, Republish,
    REPLAY_HEADER,
};
use crate::{
    config::{BusSettings, RedactedUrl},
    ingest::envelope::Envelope,
};

/// Longest a readiness probe waits to read the publish link.
const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

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
    url: RedactedUrl,
    settings: BusSettings,
    names: Names,
    publish_link: RwLock<Option<Arc<Link>>>,
}

impl RabbitMq {
    /// The engine for the broker at `url`; the rest of `settings` (prefix, limits, tiers).
    pub fn new(url: RedactedUrl, settings: BusSettings) -> Self {
        let names = Names::new(&settings.amqp_prefix);
        Self {
            url,
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
        let link = self.connect().await?;
        let _ = link.connection.close(200, "topology declared".into()).await;
        Ok(())
    }

    /// Opens the publish link now, so `/readyz` reflects the broker before the first event.
    pub async fn connect_publisher(&self) -> Result<(), PublishError> {
        self.publish_link().await.map(|_| ())
    }

    /// Messages waiting in a queue (for the demo and tests).
    pub async fn queue_depth(&self, queue: &str) -> anyhow::Result<u32> {
        let link = self.connect().await?;
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
        let link = self.connect().await?;
        for lane in Lane::ALL {
            link.channel
                .queue_delete(self.names.queue(lane).into(), Default::default())
                .await?;
        }
        link.channel
            .queue_delete(self.names.dead_queue().into(), Default::default())
            .await?;
        for tier in self.settings.retry_tiers.tiers() {
            link.channel
                .queue_delete(self.names.retry_queue(*tier).into(), Default::default())
                .await?;
        }
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
        let link = self
            .connect()
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

    /// Publishes `body` to the events exchange (mandatory, persistent) and waits for the
    /// broker's confirm.
    async fn publish_confirmed(
        &self,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), PublishError> {
        let link = self.publish_link().await?;
        let properties = properties
            .with_delivery_mode(2)
            .with_content_type("application/cloudevents+json".into());
        let options = BasicPublishOptions {
            mandatory: true,
            immediate: false,
        };

        let confirm = link
            .channel
            .basic_publish(
                self.names.events_exchange().into(),
                routing_key.into(),
                options,
                body,
                properties,
            )
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;
        let confirmation = confirm
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;

        match confirmation {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(_)) => Err(PublishError::Unroutable(routing_key.to_owned())),
            Confirmation::Nack(_) => Err(PublishError::Nacked),
            Confirmation::NotRequested => Err(PublishError::Unavailable("confirms are off".into())),
        }
    }

    /// [`RabbitMq::publish_confirmed`] within the confirm timeout; a link that failed is
    /// dropped so the next publish starts from a fresh connection.
    async fn publish_bounded(
        &self,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), PublishError> {
        let outcome = timeout(
            self.settings.confirm_timeout(),
            self.publish_confirmed(routing_key, body, properties),
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
}

#[async_trait]
impl Publisher for RabbitMq {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        let properties = BasicProperties::default()
            .with_message_id(short_string(&envelope.id).into())
            .with_correlation_id(short_string(&envelope.correlationid).into());
        self.publish_bounded(&envelope.routingkey, &envelope.to_bytes(), properties)
            .await
    }

    async fn republish(&self, message: &Republish<'_>) -> Result<(), PublishError> {
        let mut headers = FieldTable::default();
        headers.insert(
            REPLAY_HEADER.into(),
            AMQPValue::LongString(message.replay.into()),
        );
        let properties = BasicProperties::default()
            .with_message_id(short_string(message.message_id).into())
            .with_correlation_id(short_string(message.correlation_id).into())
            .with_headers(headers);
        self.publish_bounded(message.routing_key, message.body, properties)
            .await
    }

    async fn check_ready(&self) -> bool {
        // The supervisor keeps the link: the probe only reads it, within one bound (a
        // reconnect in progress holds the link's lock for longer).
        let probe = async {
            self.publish_link
                .read()
                .await
                .as_ref()
                .is_some_and(|link| link.is_open())
        };
        timeout(READY_PROBE_TIMEOUT, probe).await.unwrap_or(false)
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
        let on = Arc::new(consume::LaneDeliveries { lane, handler });
        consume::until_stopped(self, on, shutdown).await
    }

    async fn consume_dead_letters_until_stopped(
        &self,
        handler: Arc<dyn DeadLetterHandler>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let on = Arc::new(consume::DeadDeliveries { handler });
        consume::until_stopped(self, on, shutdown).await
    }
}

#[async_trait]
impl QueueDepths for RabbitMq {
    async fn queue_depths(&self, within: Duration) -> Vec<(&'static str, u32)> {
        timeout(within, self.read_depths())
            .await
            .unwrap_or_else(|_| {
                debug!("queue depths not read in time");
                Vec::new()
            })
    }
}

impl RabbitMq {
    /// Passive declares on a connection of its own (no topology declared): a queue that is
    /// missing closes the channel, so each queue gets a fresh one.
    async fn read_depths(&self) -> Vec<(&'static str, u32)> {
        let connection =
            match Connection::connect(self.url.expose(), ConnectionProperties::default()).await {
                Ok(connection) => connection,
                Err(e) => {
                    debug!(error = %e, "queue depths not read: broker unavailable");
                    return Vec::new();
                }
            };
        let queues = Lane::ALL
            .into_iter()
            .map(|lane| (lane.name(), self.names.queue(lane)))
            .chain(std::iter::once(("dead-letters", self.names.dead_queue())));

        let mut depths = Vec::new();
        for (label, queue) in queues {
            let Ok(channel) = connection.create_channel().await else {
                break;
            };
            let passive = QueueDeclareOptions {
                passive: true,
                ..Default::default()
            };
            if let Ok(state) = channel
                .queue_declare(queue.as_str().into(), passive, FieldTable::default())
                .await
            {
                depths.push((label, state.message_count()));
                let _ = channel.close(200, "depth read".into()).await;
            }
        }
        let _ = connection.close(200, "depths read".into()).await;
        depths
    }
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

impl RabbitMq {
    /// Connects, opens a channel and declares the whole topology.
    async fn connect(&self) -> anyhow::Result<Link> {
        let connection = timeout(
            Duration::from_secs(5),
            Connection::connect(self.url.expose(), ConnectionProperties::default()),
        )
        .await
        .map_err(|_| anyhow::anyhow!("connecting to the broker timed out"))??;
        let channel = declare::topology(&connection, &self.names, &self.settings).await?;
        Ok(Link {
            connection,
            channel,
        })
    }
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

    /// A publish waiting for its confirm holds the link; readiness answers within its own
    /// bound anyway, and says not ready. (Before, `/readyz` waited behind the publish.)
    #[tokio::test]
    async fn readiness_does_not_wait_behind_a_held_link() {
        let url = "amqp://127.0.0.1:1/%2f".parse().unwrap();
        let broker = RabbitMq::new(
            url,
            BusSettings {
                amqp_url: None,
                amqp_prefix: "cir-unit".into(),
                confirm_timeout_ms: 2500,
                prefetch: 1,
                delivery_limit: 1,
                retry_tiers: Default::default(),
                visibility_timeout: Duration::from_secs(60),
            },
        );
        let held = broker.publish_link.write().await;

        let answer = timeout(READY_PROBE_TIMEOUT * 3, broker.check_ready()).await;

        assert_eq!(answer.ok(), Some(false));
        drop(held);
    }
}
