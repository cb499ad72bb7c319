//! The embedded engine's consumers: one loop per queue, one delivery in hand at a time (as
//! the RabbitMQ consumer handles its deliveries), its lease renewed while the handler runs,
//! settled by what the handler decided. The loop is woken by a publish in this process and
//! polls for other processes'. On shutdown the delivery in hand is finished and settled
//! before the loop returns; the process's `SHUTDOWN_GRACE` bounds that, as for RabbitMQ.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn, Instrument};

use super::{
    now,
    queue::{self, Claimed, Dying},
    Embedded,
};
use crate::{
    bus::{
        topology::{next, Next},
        DeadLetter, DeadLetterHandler, Disposition, Handler, Lane,
    },
    store::StoreError,
};

/// How often a consumer looks for messages other processes queued (or whose retry tier or
/// lease ended); a publish in this process wakes it at once.
const POLL_EVERY: Duration = Duration::from_millis(250);

/// Pause before a dead letter the store could not take goes back to its queue, and between
/// attempts to reach a store that does not answer.
const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// Attempts to settle a delivery before leaving it to its lease.
const SETTLE_ATTEMPTS: u32 = 3;

/// What a loop consumes.
pub(super) enum On {
    Lane {
        lane: Lane,
        handler: Arc<dyn Handler>,
    },
    Dead {
        handler: Arc<dyn DeadLetterHandler>,
    },
}

impl On {
    fn queue(&self, bus: &Embedded) -> String {
        match self {
            On::Lane { lane, .. } => bus.names.queue(*lane),
            On::Dead { .. } => bus.names.dead_queue(),
        }
    }

    /// The delivery limit: the lanes' only (a dead letter waits for the store, never dies).
    fn limit(&self, bus: &Embedded) -> Option<u32> {
        match self {
            On::Lane { .. } => Some(bus.settings.delivery_limit),
            On::Dead { .. } => None,
        }
    }

    async fn handle(&self, claimed: &Claimed) -> Disposition {
        match self {
            On::Lane { handler, .. } => {
                crate::bus::handle_lane_message(
                    handler.as_ref(),
                    &claimed.body,
                    claimed.redelivered(),
                )
                .await
            }
            On::Dead { handler } => {
                let letter = DeadLetter {
                    body: claimed.body.clone(),
                    message_id: Some(claimed.message_id.clone()),
                    routing_key: claimed.routing_key.clone(),
                    death: claimed.death.clone(),
                };
                let span = tracing::info_span!("dead_letter", message_id = ?letter.message_id, routing_key = %letter.routing_key, reason = ?letter.death.reason);
                handler.handle(letter).instrument(span).await
            }
        }
    }
}

/// Consumes `on` until the token is cancelled.
pub(super) async fn until_stopped(
    bus: &Embedded,
    on: On,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let queue = on.queue(bus);
    let wake = bus.notify(&queue);
    let span = tracing::info_span!("consumer", queue = %queue);
    async {
        info!("consuming");
        while !shutdown.is_cancelled() {
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();

            match next_delivery(bus, &on, &queue).await {
                Ok(Some(claimed)) => {
                    deliver(bus, &on, claimed, &shutdown).await;
                    continue;
                }
                Ok(None) => {}
                Err(error) => {
                    warn!(error = %error, "the store did not answer; trying again");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(RETRY_PAUSE) => {}
                    }
                    continue;
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = woken => {}
                _ = tokio::time::sleep(POLL_EVERY) => {}
            }
        }
        Ok(())
    }
    .instrument(span)
    .await
}

/// Dead-letters what is over the delivery limit, then claims the next delivery.
async fn next_delivery(
    bus: &Embedded,
    on: &On,
    queue: &str,
) -> Result<Option<Claimed>, StoreError> {
    let limit = on.limit(bus);
    if let Some(limit) = limit {
        let dead_queue = bus.names.dead_queue();
        let moved = queue::sweep_over_limit(&bus.pool, queue, &dead_queue, limit, now()).await?;
        if moved > 0 {
            warn!(
                messages = moved,
                limit, "delivery limit reached (their consumers died); dead-lettered"
            );
            bus.wake(&dead_queue);
        }
    }
    let lease = bus.settings.visibility_timeout;
    queue::claim(&bus.pool, queue, limit, lease, now()).await
}

/// Runs the handler while renewing the lease, then settles.
async fn deliver(bus: &Embedded, on: &On, claimed: Claimed, shutdown: &CancellationToken) {
    let lease = bus.settings.visibility_timeout;
    let work = on.handle(&claimed);
    tokio::pin!(work);
    let mut renew = tokio::time::interval(lease / 3);
    renew.tick().await;

    // The handler finishes even when shutdown comes meanwhile: its work is recorded and the
    // delivery settled before the loop ends.
    let disposition = loop {
        tokio::select! {
            biased;
            disposition = &mut work => break disposition,
            _ = renew.tick() => match queue::renew(&bus.pool, &claimed, lease, now()).await {
                Ok(true) => {}
                Ok(false) => warn!("lease lost while handling; the message may be delivered again"),
                Err(error) => warn!(error = %error, "lease not renewed"),
            },
        }
    };

    settle(bus, on, &claimed, disposition, shutdown).await;
}

/// Applies the disposition, trying again while the store does not answer; a delivery that
/// cannot be settled is left to its lease (delivered again, its handler finds it recorded).
async fn settle(
    bus: &Embedded,
    on: &On,
    claimed: &Claimed,
    disposition: Disposition,
    shutdown: &CancellationToken,
) {
    for attempt in 1..=SETTLE_ATTEMPTS {
        match settle_once(bus, on, claimed, disposition).await {
            Ok(true) => {
                debug!(?disposition, "delivery settled");
                return;
            }
            Ok(false) => {
                warn!("lease lost before settling; the message is delivered again");
                return;
            }
            Err(error) if attempt < SETTLE_ATTEMPTS => {
                warn!(error = %error, attempt, "delivery not settled; trying again");
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(RETRY_PAUSE) => {}
                }
            }
            Err(error) => {
                warn!(error = %error, "delivery not settled; it is delivered again when its lease ends");
            }
        }
    }
}

async fn settle_once(
    bus: &Embedded,
    on: &On,
    claimed: &Claimed,
    disposition: Disposition,
) -> Result<bool, StoreError> {
    let now = now();
    match (on, disposition) {
        (_, Disposition::Ack) => queue::ack(&bus.pool, claimed).await,
        (On::Lane { .. }, Disposition::Retry) => retry(bus, claimed, now).await,
        (On::Lane { .. }, Disposition::DeadLetter) => {
            // RabbitMQ says how often a message was delivered before (`x-delivery-count`),
            // or the router its retries.
            let before = match claimed.retries {
                0 => (claimed.deliveries > 1).then_some(claimed.deliveries - 1),
                retries => Some(i64::from(retries)),
            };
            kill(bus, claimed, "rejected", before, now).await
        }
        (On::Dead { .. }, Disposition::Retry) => {
            let at = now + i64::try_from(RETRY_PAUSE.as_millis()).unwrap_or(i64::MAX / 2);
            queue::release(&bus.pool, claimed, at).await
        }
        (On::Dead { .. }, Disposition::DeadLetter) => {
            warn!("dead letter refused by its handler; dropped");
            queue::ack(&bus.pool, claimed).await
        }
    }
}

/// To the next retry tier, or to the dead letters when the tiers are used up.
async fn retry(bus: &Embedded, claimed: &Claimed, now: i64) -> Result<bool, StoreError> {
    let tiers = bus.settings.retry_tiers.tiers();
    match next(claimed.retries, tiers.len()) {
        Next::Delay { tier, retry } => {
            let queue = bus.names.retry_queue(tiers[tier]);
            let until = now + i64::try_from(tiers[tier].as_millis()).unwrap_or(i64::MAX / 2);
            let delayed = queue::delay(&bus.pool, claimed, retry, &queue, until, now).await?;
            if delayed {
                info!(retry, queue = %queue, "delivery retried later");
            }
            Ok(delayed)
        }
        Next::Exhausted { retries } => {
            warn!(retries, "retries exhausted; dead-lettering");
            kill(
                bus,
                claimed,
                "retries_exhausted",
                Some(i64::from(retries)),
                now,
            )
            .await
        }
    }
}

async fn kill(
    bus: &Embedded,
    claimed: &Claimed,
    reason: &str,
    deliveries: Option<i64>,
    now: i64,
) -> Result<bool, StoreError> {
    let dead_queue = bus.names.dead_queue();
    let dying = Dying {
        dead_queue: &dead_queue,
        reason,
        deliveries,
    };
    let killed = queue::kill(&bus.pool, claimed, &dying, now).await?;
    if killed {
        bus.wake(&dead_queue);
    }
    Ok(killed)
}
