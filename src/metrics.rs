//! The process's metrics in the Prometheus text format: one registry per process, shared by
//! its receivers and workers (`run` serves both on its HTTP port; `worker` alone on
//! `--metrics-listen`).
//!
//! Label values are `&'static str` from closed vocabularies (sources, result classes, call
//! kinds, lane names): never ids, emails or error text, for cardinality and privacy.

use std::{sync::Arc, time::Duration};

use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

mod scrape;

pub use scrape::{render, ScrapeCounts};

/// Prefix of every metric name.
const NAMESPACE: &str = "clickup_iam_router";

/// Seconds from a publish to the broker's confirm.
const CONFIRM_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Seconds from a leaver's acceptance to the ClickUp removal: seconds normally, hours when
/// ClickUp or the worker was away.
const LEAVER_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0,
];

/// The process's metrics: cheap to clone, every clone records into the same registry.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    webhooks: IntCounterVec,
    confirm_seconds: Histogram,
    actions: IntCounterVec,
    rate_limited: IntCounter,
    retries: IntCounterVec,
    leaver_seconds: Histogram,
    dead_letters_recorded: IntCounter,
    brake_holds: IntCounter,
    /// Set by each drift reconciliation: what it found, by kind.
    drift_items: IntGaugeVec,
    reconciled: IntCounterVec,
    /// Read at scrape time; a source that does not answer leaves its sample out.
    queue_messages: IntGaugeVec,
    dead_letters: IntGaugeVec,
    brake_held_people: IntGaugeVec,
    grants_open: IntGaugeVec,
    identities: IntGaugeVec,
    /// 1 while this worker holds the scheduler's lease (runs the periodic duties), else 0.
    scheduler_lease_held: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some(NAMESPACE.into()), None)
            .expect("the namespace is a valid metric name prefix");
        let inner = Inner {
            webhooks: counter_vec(
                &registry,
                "webhooks_total",
                "Webhook deliveries received, by source and result (reason: the refusal's error code, or none).",
                &["source", "result", "reason"],
            ),
            confirm_seconds: histogram(
                &registry,
                "broker_confirm_seconds",
                "Time from publishing an event to the broker's positive confirm.",
                CONFIRM_BUCKETS,
            ),
            actions: counter_vec(
                &registry,
                "clickup_calls_total",
                "ClickUp calls the workers made, by kind and result (ok, transient, permanent, refused), after retries.",
                &["kind", "result"],
            ),
            rate_limited: counter(
                &registry,
                "clickup_rate_limited_total",
                "ClickUp answers with status 429.",
            ),
            retries: counter_vec(
                &registry,
                "clickup_retries_total",
                "ClickUp calls tried again after a transient failure, by kind.",
                &["kind"],
            ),
            leaver_seconds: histogram(
                &registry,
                "leaver_seconds",
                "Time from the receiver accepting an IAM leaver event to the ClickUp removal call completing.",
                LEAVER_BUCKETS,
            ),
            dead_letters_recorded: counter(
                &registry,
                "dead_letters_recorded_total",
                "Dead letters this process recorded in the store.",
            ),
            brake_holds: counter(
                &registry,
                "brake_holds_total",
                "Removals held by the mass-removal brake (one per person and hold).",
            ),
            reconciled: counter_vec(
                &registry,
                "reconcile_total",
                "What reconciliation found and did, by part (webhooks, tasks) and result (reactivated, missing, failed, published).",
                &["part", "result"],
            ),
            queue_messages: gauge_vec(
                &registry,
                "queue_messages",
                "Messages waiting in each lane's queue and in the dead-letter queue, read from the broker at scrape time.",
                &["queue"],
            ),
            dead_letters: gauge_vec(
                &registry,
                "dead_letters",
                "Open dead letters on record (not yet replayed or dropped).",
                &[],
            ),
            brake_held_people: gauge_vec(
                &registry,
                "brake_held_people",
                "People whose removals the mass-removal brake holds.",
                &[],
            ),
            drift_items: gauge_vec(
                &registry,
                "drift_items",
                "Differences between the desired access and ClickUp found by the last drift reconciliation, by kind (missing, unexpected, level_differs).",
                &["kind"],
            ),
            grants_open: gauge_vec(&registry, "grants_open", "Open grants on record.", &[]),
            identities: gauge_vec(&registry, "identities", "Identities on record.", &[]),
            scheduler_lease_held: gauge_vec(
                &registry,
                "scheduler_lease_held",
                "1 while this worker holds the scheduler's lease and runs the periodic duties, else 0.",
                &[],
            ),
            registry,
        };
        Self(Arc::new(inner))
    }

    /// One webhook delivery answered; `reason` is the refusal's error code or `none`.
    pub fn webhook(&self, source: &'static str, result: &'static str, reason: &'static str) {
        self.0
            .webhooks
            .with_label_values(&[source, result, reason])
            .inc();
    }

    pub fn confirmed(&self, took: Duration) {
        self.0.confirm_seconds.observe(took.as_secs_f64());
    }

    /// One ClickUp call finished (after its retries).
    pub fn clickup_call(&self, kind: &'static str, result: &'static str) {
        self.0.actions.with_label_values(&[kind, result]).inc();
    }

    pub fn clickup_rate_limited(&self) {
        self.0.rate_limited.inc();
    }

    pub fn clickup_retry(&self, kind: &'static str) {
        self.0.retries.with_label_values(&[kind]).inc();
    }

    /// A leaver's ClickUp removal completed `took` after the receiver accepted the event.
    pub fn leaver_removed(&self, took: Duration) {
        self.0.leaver_seconds.observe(took.as_secs_f64());
    }

    pub fn dead_letter_recorded(&self) {
        self.0.dead_letters_recorded.inc();
    }

    pub fn brake_held(&self) {
        self.0.brake_holds.inc();
    }

    /// What the last drift reconciliation found of one kind (a closed vocabulary).
    pub fn drift_items(&self, kind: &'static str, count: usize) {
        self.0
            .drift_items
            .with_label_values(&[kind])
            .set(count as i64);
    }

    /// One finding of a reconciliation part: `part` is `webhooks` or `tasks`, `result` one of
    /// `reactivated`, `missing`, `failed`, `published`.
    pub fn reconciled(&self, part: &'static str, result: &'static str) {
        self.0.reconciled.with_label_values(&[part, result]).inc();
    }

    /// Whether this worker holds the scheduler's lease now.
    pub fn scheduler_lease_held(&self, held: bool) {
        self.0
            .scheduler_lease_held
            .with_label_values::<&str>(&[])
            .set(i64::from(held));
    }

    /// Every metric in the text exposition format.
    fn encode(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.0.registry.gather())
            .unwrap_or_default()
    }
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let metric = IntCounter::new(name, help).expect("a valid counter");
    registry
        .register(Box::new(metric.clone()))
        .expect("registered once");
    metric
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter");
    registry
        .register(Box::new(metric.clone()))
        .expect("registered once");
    metric
}

fn gauge_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let metric = IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid gauge");
    registry
        .register(Box::new(metric.clone()))
        .expect("registered once");
    metric
}

fn histogram(registry: &Registry, name: &str, help: &str, buckets: &[f64]) -> Histogram {
    let options = HistogramOpts::new(name, help).buckets(buckets.to_vec());
    let metric = Histogram::with_opts(options).expect("a valid histogram");
    registry
        .register(Box::new(metric.clone()))
        .expect("registered once");
    metric
}

#[cfg(test)]
mod tests;
