//! The engine the settings choose: RabbitMQ when `AMQP_URL` is set, else the embedded one
//! in the store. [`Bus`] is what the application, the commands and the tests hold; it hands
//! itself out as the engine-neutral traits and keeps the few engine-specific steps (the
//! RabbitMQ publisher's link) in one place.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::{
    embedded::Embedded, rabbitmq::RabbitMq, topology::Names, Consumer, DeadLetterHandler, Handler,
    Lane, PublishError, Publisher, QueueDepths, Republish,
};
use crate::{
    config::BusSettings,
    ingest::envelope::Envelope,
    store::{Backend, Store},
};

/// One of the two engines.
pub enum Bus {
    RabbitMq(RabbitMq),
    Embedded(Embedded),
}

impl Bus {
    /// RabbitMQ when the settings name a broker, else the embedded engine over `store`,
    /// which needs a SQLite store: a PostgreSQL store without `AMQP_URL` is refused.
    pub fn from_settings(settings: &BusSettings, store: &Store) -> anyhow::Result<Self> {
        match &settings.amqp_url {
            Some(url) => {
                let broker = RabbitMq::new(url.clone(), settings.clone());
                broker
                    .names()
                    .check_retry_queues(settings.retry_tiers.tiers())
                    .map_err(|e| anyhow::anyhow!(e))?;
                Ok(Bus::RabbitMq(broker))
            }
            None if store.backend() == Backend::Postgres => Err(anyhow::anyhow!(
                "AMQP_URL is needed with a PostgreSQL DATABASE_URL: the embedded bus engine \
                 keeps its queues in a SQLite store only; set AMQP_URL to a RabbitMQ broker \
                 or DATABASE_URL to a sqlite:// file"
            )),
            None => Ok(Bus::Embedded(Embedded::new(store, settings.clone()))),
        }
    }

    /// `rabbitmq` or `embedded`, for logs and errors.
    pub fn engine(&self) -> &'static str {
        match self {
            Bus::RabbitMq(_) => "rabbitmq",
            Bus::Embedded(_) => "embedded",
        }
    }

    pub fn names(&self) -> &Names {
        match self {
            Bus::RabbitMq(broker) => broker.names(),
            Bus::Embedded(embedded) => embedded.names(),
        }
    }

    /// Opens RabbitMQ's publish link now, so `/readyz` reflects the broker before the first
    /// event (the embedded engine has no link).
    pub async fn connect_publisher(&self) -> Result<(), PublishError> {
        match self {
            Bus::RabbitMq(broker) => broker.connect_publisher().await,
            Bus::Embedded(_) => Ok(()),
        }
    }

    /// Keeps RabbitMQ's publish link open until `shutdown` (returns at once for the
    /// embedded engine).
    pub async fn supervise_publisher(&self, shutdown: CancellationToken) {
        if let Bus::RabbitMq(broker) = self {
            broker.supervise_publisher(shutdown).await;
        }
    }

    /// Closes RabbitMQ's publish link (at shutdown, once no publish is in flight).
    pub async fn close_publisher(&self) {
        if let Bus::RabbitMq(broker) = self {
            broker.close_publisher().await;
        }
    }

    /// Messages waiting in a queue by its name: a lane's, the dead letters' or a retry
    /// tier's (for the demo and tests).
    pub async fn queue_depth(&self, queue: &str) -> anyhow::Result<u32> {
        match self {
            Bus::RabbitMq(broker) => broker.queue_depth(queue).await,
            Bus::Embedded(embedded) => embedded.queue_depth(queue).await,
        }
    }

    /// Declares RabbitMQ's topology (the embedded queues are tables the migrations create).
    pub async fn declare_topology(&self) -> anyhow::Result<()> {
        match self {
            Bus::RabbitMq(broker) => broker.declare_topology().await,
            Bus::Embedded(_) => Ok(()),
        }
    }

    /// Deletes the prefix's queues and what they hold (demo and test clean-up).
    pub async fn delete_topology(&self) -> anyhow::Result<()> {
        match self {
            Bus::RabbitMq(broker) => broker.delete_topology().await,
            Bus::Embedded(embedded) => embedded.delete_queues().await,
        }
    }

    fn publisher(&self) -> &dyn Publisher {
        match self {
            Bus::RabbitMq(broker) => broker,
            Bus::Embedded(embedded) => embedded,
        }
    }

    fn consumer(&self) -> &dyn Consumer {
        match self {
            Bus::RabbitMq(broker) => broker,
            Bus::Embedded(embedded) => embedded,
        }
    }
}

#[async_trait]
impl Publisher for Bus {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        self.publisher().publish(envelope).await
    }

    async fn publish_in(
        &self,
        transaction: &mut sqlx::AnyConnection,
        envelope: &Envelope,
    ) -> Result<(), PublishError> {
        self.publisher().publish_in(transaction, envelope).await
    }

    async fn republish(&self, message: &Republish<'_>) -> Result<(), PublishError> {
        self.publisher().republish(message).await
    }

    async fn check_ready(&self) -> bool {
        self.publisher().check_ready().await
    }
}

#[async_trait]
impl Consumer for Bus {
    async fn consume_until_stopped(
        &self,
        lane: Lane,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        self.consumer()
            .consume_until_stopped(lane, handler, shutdown)
            .await
    }

    async fn consume_dead_letters_until_stopped(
        &self,
        handler: Arc<dyn DeadLetterHandler>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        self.consumer()
            .consume_dead_letters_until_stopped(handler, shutdown)
            .await
    }
}

#[async_trait]
impl QueueDepths for Bus {
    async fn queue_depths(&self, within: Duration) -> Vec<(&'static str, u32)> {
        match self {
            Bus::RabbitMq(broker) => broker.queue_depths(within).await,
            Bus::Embedded(embedded) => embedded.queue_depths(within).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::temp_store;

    /// The embedded engine's queues are tables of a SQLite store: without `AMQP_URL`, a
    /// PostgreSQL store is refused with the setting to add.
    #[tokio::test]
    async fn without_amqp_url_the_store_decides_the_engine() {
        let (store, _guard) = temp_store().await;
        let settings = BusSettings {
            amqp_url: None,
            amqp_prefix: "cir".into(),
            confirm_timeout_ms: 2500,
            prefetch: 1,
            delivery_limit: 5,
            retry_tiers: "10s".parse().unwrap(),
            visibility_timeout: Duration::from_secs(60),
        };

        let bus = Bus::from_settings(&settings, &store);

        match store.backend() {
            Backend::Sqlite => assert_eq!(bus.unwrap().engine(), "embedded"),
            Backend::Postgres => {
                let refusal = bus.err().map(|e| e.to_string()).unwrap_or_default();
                assert!(refusal.starts_with("AMQP_URL is needed"), "{refusal}");
            }
        }
    }
}
