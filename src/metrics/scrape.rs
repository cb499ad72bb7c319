//! What is read at scrape time: queue depths from the broker and counts from the store.
//!
//! A source that does not answer leaves its samples out of that scrape (never a stale value,
//! never a hang): the broker is given a short timeout, the store its own busy timeout.

use std::time::Duration;

use prometheus::IntGaugeVec;

use super::Metrics;
use crate::{bus::QueueDepths, store::Store};

/// Longest a scrape waits for the broker's queue depths.
const DEPTH_TIMEOUT: Duration = Duration::from_millis(800);

/// Refreshes the scrape-time gauges and encodes every metric.
pub async fn render(metrics: &Metrics, store: &Store, queues: Option<&dyn QueueDepths>) -> String {
    let inner = &metrics.0;

    inner.queue_messages.reset();
    if let Some(queues) = queues {
        for (queue, depth) in queues.queue_depths(DEPTH_TIMEOUT).await {
            inner
                .queue_messages
                .with_label_values(&[queue])
                .set(i64::from(depth));
        }
    }

    let counts = store.scrape_counts().await;
    set_or_clear(&inner.dead_letters, counts.dead_letters);
    set_or_clear(&inner.brake_held_people, counts.brake_held_people);
    set_or_clear(&inner.grants_open, counts.grants_open);
    set_or_clear(&inner.identities, counts.identities);

    metrics.encode()
}

/// Sets a label-less gauge, or removes its sample when the value could not be read.
fn set_or_clear(gauge: &IntGaugeVec, value: Option<i64>) {
    match value {
        Some(value) => gauge.with_label_values::<&str>(&[]).set(value),
        None => gauge.reset(),
    }
}

/// Counts read from the store for one scrape; `None` where the store did not answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScrapeCounts {
    pub dead_letters: Option<i64>,
    pub brake_held_people: Option<i64>,
    pub grants_open: Option<i64>,
    pub identities: Option<i64>,
}

impl Store {
    /// The gauges the metrics read from the record.
    pub async fn scrape_counts(&self) -> ScrapeCounts {
        let count = |sql: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(self.pool())
                .await
                .ok()
        };
        ScrapeCounts {
            dead_letters: count("SELECT COUNT(*) FROM dead_letters WHERE state = 'open'").await,
            brake_held_people: count(
                "SELECT COUNT(DISTINCT iam_id) FROM held_removals WHERE released_at IS NULL",
            )
            .await,
            grants_open: count("SELECT COUNT(*) FROM grants WHERE ended_at IS NULL").await,
            identities: count("SELECT COUNT(*) FROM identities").await,
        }
    }
}
