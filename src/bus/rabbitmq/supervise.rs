//! The publisher's supervisor: keeps the publish link open on its own. It watches the
//! connection (lapin's connection events, and its status as a fallback), drops a link that
//! was lost and reconnects with exponential backoff and jitter, declaring the topology each
//! time, without waiting for a publish. `/readyz` reads the link it keeps. lapin's own
//! recovery stays off: a fresh connection is the only way back.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use lapin::Event;
use rand::Rng;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{Link, RabbitMq};

/// How often the supervisor also looks at the link's status (a lost link the connection
/// events did not report, or a link a failed publish dropped).
const STATUS_EVERY: Duration = Duration::from_millis(250);

/// How long a link must have lived for the backoff to start again from its shortest delay.
const STABLE_AFTER: Duration = Duration::from_secs(30);

/// Exponential backoff with jitter: each delay is a random part (half to all) of a ceiling
/// that doubles up to `max`.
pub(super) struct Backoff {
    min: Duration,
    max: Duration,
    ceiling: Duration,
}

impl Backoff {
    pub(super) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            ceiling: min,
        }
    }

    pub(super) fn reset(&mut self) {
        self.ceiling = self.min;
    }

    /// The next delay; the ceiling doubles for the one after.
    pub(super) fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling;
        self.ceiling = (self.ceiling * 2).min(self.max);
        ceiling.mul_f64(rand::rng().random_range(0.5..=1.0))
    }
}

/// The longest wait between two reconnection attempts, of the publisher and of every consumer:
/// short, so the leavers' lane resumes within seconds of the broker's return (each attempt is
/// one TCP connection to the broker, cheap against a leaver waiting).
pub(super) const RECONNECT_CAP: Duration = Duration::from_secs(5);

impl RabbitMq {
    /// Keeps the publish link open until `shutdown`: reconnects as soon as it is lost.
    pub async fn supervise_publisher(&self, shutdown: CancellationToken) {
        let mut backoff = Backoff::new(Duration::from_millis(200), RECONNECT_CAP);
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            match self.publish_link().await {
                Ok(link) => {
                    let since = Instant::now();
                    if !self.watch(&link, &shutdown).await {
                        return;
                    }
                    self.forget(&link).await;
                    // A link that dies as soon as it opens must not make a tight loop.
                    if since.elapsed() >= STABLE_AFTER {
                        backoff.reset();
                    }
                    warn!("publisher lost the broker; reconnecting");
                }
                Err(error) => debug!(error = %error, "publisher not connected; trying again"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff.next_delay()) => {}
            }
        }
    }

    /// Waits until the link is lost (`true`) or shutdown (`false`).
    async fn watch(&self, link: &Arc<Link>, shutdown: &CancellationToken) -> bool {
        let mut events = link.connection.events_listener();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return false,
                event = events.next() => match event {
                    Some(Event::Error(error)) => {
                        info!(error = %error, "publisher connection failed");
                        return true;
                    }
                    None => return true,
                    Some(_) => {}
                },
                _ = tokio::time::sleep(STATUS_EVERY) => {
                    if !link.is_open() || !self.holds(link).await {
                        return true;
                    }
                }
            }
        }
    }

    /// Whether `link` is still the publish link (a failed publish drops it).
    async fn holds(&self, link: &Arc<Link>) -> bool {
        self.publish_link
            .read()
            .await
            .as_ref()
            .is_some_and(|held| Arc::ptr_eq(held, link))
    }

    /// Drops `link` if it is still the publish link.
    async fn forget(&self, link: &Arc<Link>) {
        let mut slot = self.publish_link.write().await;
        if slot.as_ref().is_some_and(|held| Arc::ptr_eq(held, link)) {
            *slot = None;
        }
    }

    /// Closes the publish link (at shutdown, once no publish is in flight).
    pub async fn close_publisher(&self) {
        if let Some(link) = self.publish_link.write().await.take() {
            let _ = link.channel.close(200, "shutting down".into()).await;
            let _ = link.connection.close(200, "shutting down".into()).await;
            info!("publisher closed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(200), RECONNECT_CAP);
        let ceilings = [200, 400, 800, 1600, 3200, 5000, 5000, 5000];

        for ceiling in ceilings {
            let delay = backoff.next_delay();
            let ceiling = Duration::from_millis(ceiling);
            assert!(
                delay <= ceiling && delay >= ceiling / 2,
                "{delay:?} vs {ceiling:?}"
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(200));
    }
}
