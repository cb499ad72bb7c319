//! The embedded engine, used when no `AMQP_URL` is configured: durable queues kept in the
//! router's store (`bus_messages`), with the RabbitMQ engine's guarantees.
//!
//! A publish inserts one row per lane the routing key binds to, in one transaction; it is
//! confirmed once committed (within the confirm timeout; a busy or failed store is
//! `Unavailable`, nothing queued). Each lane's consumer claims the oldest available row with
//! a lease (the visibility timeout, renewed while the handler runs), runs the handler, then
//! settles as RabbitMQ's consumer does: ack deletes the row, a transient failure waits in the
//! next retry tier (`retries_exhausted` dead letter after the last), a permanent one becomes
//! a dead letter (`rejected`), a message whose consumer died is delivered again (redelivered)
//! and, past the delivery limit, dead-lettered (`delivery_limit`). Consumers are woken at
//! once by a publish in the same process and poll for other processes' (`serve` and `worker`
//! sharing the store's file: WAL and a busy timeout make that work).

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::Utc;
use sqlx::{AnyConnection, AnyPool};
use tokio::{sync::Notify, time::timeout};
use tokio_util::sync::CancellationToken;
use tracing::debug;

mod consume;
mod queue;
#[cfg(test)]
mod tests;

use super::{
    topology::{Lane, Names},
    Consumer, DeadLetterHandler, Handler, PublishError, Publisher, QueueDepths, Republish,
};
use crate::{config::BusSettings, ingest::envelope::Envelope, store::Store};

/// Longest a readiness probe waits for the store.
const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The embedded engine over one store.
pub struct Embedded {
    pool: AnyPool,
    settings: BusSettings,
    names: Names,
    /// Wakes the consumers of a queue (by name) when this process queues a message there.
    wake: HashMap<String, Arc<Notify>>,
}

impl Embedded {
    pub fn new(store: &Store, settings: BusSettings) -> Self {
        let names = Names::new(&settings.amqp_prefix);
        let wake = Lane::ALL
            .into_iter()
            .map(|lane| names.queue(lane))
            .chain(std::iter::once(names.dead_queue()))
            .map(|queue| (queue, Arc::new(Notify::new())))
            .collect();
        Self {
            pool: store.pool().clone(),
            settings,
            names,
            wake,
        }
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    /// Messages ready in a lane's queue or the dead letters, or waiting in a retry tier (by
    /// its delay queue's name), as the RabbitMQ engine reads them (for the demo and tests).
    pub async fn queue_depth(&self, queue: &str) -> anyhow::Result<u32> {
        let now = now();
        let tiers = self.settings.retry_tiers.tiers();
        let depth = if tiers.iter().any(|t| self.names.retry_queue(*t) == queue) {
            queue::waiting_in_tier(&self.pool, queue, now).await?
        } else if self.wake.contains_key(queue) {
            queue::ready_by_queue(&self.pool, now)
                .await?
                .into_iter()
                .find_map(|(name, ready)| (name == queue).then_some(ready))
                .unwrap_or(0)
        } else {
            anyhow::bail!("no queue {queue} in the embedded engine");
        };
        Ok(u32::try_from(depth).unwrap_or(u32::MAX))
    }

    /// Deletes every message of the prefix's queues (demo and test clean-up).
    pub async fn delete_queues(&self) -> anyhow::Result<()> {
        let queues: Vec<String> = self.wake.keys().cloned().collect();
        queue::purge(&self.pool, &queues).await?;
        Ok(())
    }

    /// The queues of every lane `routing_key` binds to (none: unroutable).
    fn queues_for(&self, routing_key: &str) -> Result<Vec<String>, PublishError> {
        let queues: Vec<String> = Lane::all_for_routing_key(routing_key)
            .into_iter()
            .map(|lane| self.names.queue(lane))
            .collect();
        match queues.is_empty() {
            true => Err(PublishError::Unroutable(routing_key.to_owned())),
            false => Ok(queues),
        }
    }

    /// Queues a message in every lane its routing key binds to, within the confirm timeout.
    async fn queue_bounded(&self, message: queue::NewMessage<'_>) -> Result<(), PublishError> {
        let queues = self.queues_for(message.routing_key)?;

        let inserted = timeout(
            self.settings.confirm_timeout(),
            queue::insert(&self.pool, &queues, &message, now()),
        )
        .await;

        match inserted {
            Err(_) => Err(PublishError::ConfirmTimeout),
            Ok(Err(e)) => Err(PublishError::Unavailable(e.to_string())),
            Ok(Ok(())) => {
                for queue in &queues {
                    self.wake(queue);
                }
                Ok(())
            }
        }
    }

    /// Wakes the consumers of `queue` in this process.
    fn wake(&self, queue: &str) {
        if let Some(notify) = self.wake.get(queue) {
            notify.notify_waiters();
        }
    }

    fn notify(&self, queue: &str) -> Arc<Notify> {
        self.wake.get(queue).cloned().unwrap_or_default()
    }
}

#[async_trait]
impl Publisher for Embedded {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        let body = envelope.to_bytes();
        self.queue_bounded(queue::NewMessage {
            body: &body,
            routing_key: &envelope.routingkey,
            message_id: &envelope.id,
            correlation_id: &envelope.correlationid,
            replay: None,
        })
        .await
    }

    /// Queued in the caller's transaction; the consumers find it by polling once the caller
    /// committed (waking them now would find nothing yet).
    async fn publish_in(
        &self,
        transaction: &mut AnyConnection,
        envelope: &Envelope,
    ) -> Result<(), PublishError> {
        let queues = self.queues_for(&envelope.routingkey)?;
        let body = envelope.to_bytes();
        let message = queue::NewMessage {
            body: &body,
            routing_key: &envelope.routingkey,
            message_id: &envelope.id,
            correlation_id: &envelope.correlationid,
            replay: None,
        };
        queue::insert_in(transaction, &queues, &message, now())
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))
    }

    async fn republish(&self, message: &Republish<'_>) -> Result<(), PublishError> {
        self.queue_bounded(queue::NewMessage {
            body: message.body,
            routing_key: message.routing_key,
            message_id: message.message_id,
            correlation_id: message.correlation_id,
            replay: Some(message.replay),
        })
        .await
    }

    /// Ready when the store answers.
    async fn check_ready(&self) -> bool {
        let probe = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(timeout(READY_PROBE_TIMEOUT, probe).await, Ok(Ok(_)))
    }
}

#[async_trait]
impl Consumer for Embedded {
    async fn consume_until_stopped(
        &self,
        lane: Lane,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        consume::until_stopped(self, consume::On::Lane { lane, handler }, shutdown).await
    }

    async fn consume_dead_letters_until_stopped(
        &self,
        handler: Arc<dyn DeadLetterHandler>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        consume::until_stopped(self, consume::On::Dead { handler }, shutdown).await
    }
}

#[async_trait]
impl QueueDepths for Embedded {
    async fn queue_depths(&self, within: Duration) -> Vec<(&'static str, u32)> {
        let ready = match timeout(within, queue::ready_by_queue(&self.pool, now())).await {
            Ok(Ok(ready)) => ready,
            Ok(Err(e)) => {
                debug!(error = %e, "queue depths not read: the store did not answer");
                return Vec::new();
            }
            Err(_) => {
                debug!("queue depths not read in time");
                return Vec::new();
            }
        };
        let depth = |queue: String| {
            ready
                .iter()
                .find_map(|(name, n)| (*name == queue).then_some(*n))
                .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        Lane::ALL
            .into_iter()
            .map(|lane| (lane.name(), depth(self.names.queue(lane))))
            .chain(std::iter::once((
                "dead-letters",
                depth(self.names.dead_queue()),
            )))
            .collect()
    }
}

fn now() -> i64 {
    Utc::now().timestamp_millis()
}
