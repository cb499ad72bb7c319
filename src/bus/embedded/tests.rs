//! The embedded engine against a temporary store: publish and routing, claims and leases,
//! the delivery limit, and each disposition settled as the RabbitMQ engine settles it.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::{now, queue, Embedded};
use crate::{
    bus::{
        Consumer, DeadLetter, DeadLetterHandler, Disposition, Handler, Lane, PublishError,
        Publisher, QueueDepths, Republish,
    },
    config::BusSettings,
    ingest::envelope::{Envelope, EventMeta, Origin},
    store::{scratch::TestStore, temp_sqlite_store, Store},
};

const LEASE: Duration = Duration::from_secs(60);

fn leaver(id: &str) -> Envelope {
    let meta = EventMeta {
        id: id.into(),
        source: "iam-test".into(),
        event_type: "com.example.iam.user.terminated.v1".into(),
        time: Utc::now(),
        subject: Some("user:u1".into()),
        correlation_id: format!("corr-{id}"),
    };
    let data = serde_json::value::to_raw_value(&serde_json::json!({"user": {"id": "u1"}}));
    Envelope::new(Origin::Iam, meta, data.unwrap()).unwrap()
}

async fn engine(tiers: &str, delivery_limit: u32) -> (Embedded, Store, TestStore) {
    let (store, dir) = temp_sqlite_store().await;
    let settings = BusSettings {
        amqp_url: None,
        amqp_prefix: "cir".into(),
        confirm_timeout_ms: 2500,
        prefetch: 1,
        delivery_limit,
        retry_tiers: tiers.parse().unwrap(),
        visibility_timeout: LEASE,
    };
    (Embedded::new(&store, settings), store, dir)
}

/// Answers each delivery with the next scripted disposition (then acks), noting what it saw.
struct Scripted {
    answers: Mutex<VecDeque<Disposition>>,
    seen: Mutex<Vec<(String, bool)>>,
}

impl Scripted {
    fn new(answers: &[Disposition]) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.iter().copied().collect()),
            seen: Mutex::default(),
        })
    }

    fn seen(&self) -> Vec<(String, bool)> {
        self.seen.lock().unwrap().clone()
    }

    fn done(&self, deliveries: usize) -> bool {
        self.seen().len() >= deliveries && self.answers.lock().unwrap().is_empty()
    }
}

#[async_trait]
impl Handler for Scripted {
    async fn handle(&self, envelope: Envelope, redelivered: bool) -> Disposition {
        self.seen.lock().unwrap().push((envelope.id, redelivered));
        let next = self.answers.lock().unwrap().pop_front();
        next.unwrap_or(Disposition::Ack)
    }
}

/// Keeps every dead letter it is handed.
#[derive(Default)]
struct Letters(Mutex<Vec<DeadLetter>>);

#[async_trait]
impl DeadLetterHandler for Letters {
    async fn handle(&self, letter: DeadLetter) -> Disposition {
        self.0.lock().unwrap().push(letter);
        Disposition::Ack
    }
}

/// Consumes `lane` with `handler` until `done` holds or ten seconds pass.
async fn consume_until(
    bus: &Embedded,
    lane: Lane,
    handler: Arc<dyn Handler>,
    done: impl Fn() -> bool,
) {
    let shutdown = CancellationToken::new();
    let consuming = bus.consume_until_stopped(lane, handler, shutdown.clone());
    let waiting = async {
        for _ in 0..1000 {
            match done() {
                true => break,
                false => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        shutdown.cancel();
    };
    let (consumed, ()) = tokio::join!(consuming, waiting);
    consumed.unwrap();
}

async fn rows(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM bus_messages")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_publish_queues_one_row_per_bound_lane_and_an_unroutable_key_writes_nothing() {
    let (bus, store, _dir) = engine("10s", 5).await;
    let mut stray = leaver("e2");
    stray.routingkey = "other.thing".into();

    bus.publish(&leaver("e1")).await.unwrap();
    let refused = bus.publish(&stray).await;

    assert!(matches!(refused, Err(PublishError::Unroutable(key)) if key == "other.thing"));
    assert_eq!(rows(&store).await, 1);
    let depths = bus.queue_depths(Duration::from_secs(1)).await;
    let expected = [
        ("deprovision", 1),
        ("provision", 0),
        ("approvals", 0),
        ("clickup", 0),
        ("dead-letters", 0),
    ];
    assert_eq!(depths, expected);
    assert!(bus.check_ready().await);
}

/// A claim holds the oldest available message under a lease; a consumer that died leaves it
/// to be claimed again once the lease ends, as a redelivery, and its late settle (with the
/// old token) changes nothing.
#[tokio::test]
async fn a_lease_hides_a_delivery_until_it_ends_and_a_stale_token_settles_nothing() {
    let (bus, _store, _dir) = engine("10s", 5).await;
    for id in ["first", "second"] {
        bus.publish(&leaver(id)).await.unwrap();
    }
    let queue = bus.names.queue(Lane::Deprovision);
    let t0 = now();
    let later = t0 + 61_000;

    let claim = |at| queue::claim(&bus.pool, &queue, Some(5), LEASE, at);
    let first = claim(t0).await.unwrap().unwrap();
    let second = claim(t0).await.unwrap().unwrap();
    let none = claim(t0).await;
    let again = claim(later).await.unwrap().unwrap();

    assert!(none.unwrap().is_none(), "both are leased");
    assert_eq!(first.message_id, "first");
    assert_eq!(second.message_id, "second");
    assert!(!first.redelivered());
    assert_eq!(
        (again.message_id.as_str(), again.redelivered()),
        ("first", true)
    );
    assert!(!queue::ack(&bus.pool, &first).await.unwrap(), "stale token");
    assert!(queue::ack(&bus.pool, &again).await.unwrap());
    assert_eq!(bus.queue_depth(&queue).await.unwrap(), 0);
}

/// Past the delivery limit, a message whose consumers keep dying is dead-lettered as
/// `delivery_limit` with its delivery count, never delivered again.
#[tokio::test]
async fn a_message_that_keeps_killing_its_consumer_is_dead_lettered_at_the_limit() {
    let limit = 2;
    let (bus, _store, _dir) = engine("10s", limit).await;
    bus.publish(&leaver("crash")).await.unwrap();
    let (queue, dead) = (bus.names.queue(Lane::Deprovision), bus.names.dead_queue());
    let mut at = now();
    let mut delivered = 0;

    for _ in 0..5 {
        queue::sweep_over_limit(&bus.pool, &queue, &dead, limit, at)
            .await
            .unwrap();
        let crashed = queue::claim(&bus.pool, &queue, Some(limit), LEASE, at).await;
        delivered += usize::from(crashed.unwrap().is_some());
        at += 61_000;
    }

    assert_eq!(
        delivered,
        limit as usize + 1,
        "returned `limit` times, then dead"
    );
    let letter = queue::claim(&bus.pool, &dead, None, LEASE, at)
        .await
        .unwrap()
        .expect("a dead letter");
    assert_eq!(letter.death.reason.as_deref(), Some("delivery_limit"));
    assert_eq!(letter.death.queue.as_deref(), Some("cir.deprovision"));
    assert_eq!(letter.death.delivery_count, Some(u64::from(limit) + 1));
}

/// What one scripted handler did to one message, and how the message ended.
struct Case {
    name: &'static str,
    answers: &'static [Disposition],
    deliveries: usize,
    /// The dead letter's reason and delivery count; `None`: acked and gone.
    death: Option<(&'static str, Option<u64>)>,
}

/// Consumes the dead letters until the first one: it, acked.
async fn first_dead_letter(bus: &Embedded) -> DeadLetter {
    let letters = Arc::new(Letters::default());
    let shutdown = CancellationToken::new();
    let (got, stop) = (letters.clone(), shutdown.clone());
    let waiting = async move {
        while got.0.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.cancel();
    };

    let (consumed, ()) = tokio::join!(
        bus.consume_dead_letters_until_stopped(letters.clone(), shutdown),
        waiting
    );

    consumed.unwrap();
    let first = letters.0.lock().unwrap().remove(0);
    first
}

/// Each disposition, settled as RabbitMQ's consumer settles it.
#[tokio::test]
async fn dispositions_ack_wait_in_a_tier_or_die_with_their_reason() {
    use Disposition::{Ack, DeadLetter, Retry};
    let cases = [
        Case {
            name: "ack",
            answers: &[Ack],
            deliveries: 1,
            death: None,
        },
        Case {
            name: "retry once",
            answers: &[Retry, Ack],
            deliveries: 2,
            death: None,
        },
        Case {
            name: "rejected",
            answers: &[DeadLetter],
            deliveries: 1,
            death: Some(("rejected", None)),
        },
        Case {
            name: "tiers used up",
            answers: &[Retry, Retry, Retry],
            deliveries: 3,
            death: Some(("retries_exhausted", Some(2))),
        },
    ];
    for Case {
        name,
        answers,
        deliveries,
        death,
    } in cases
    {
        let (bus, store, _dir) = engine("50ms,50ms", 5).await;
        bus.publish(&leaver(name)).await.unwrap();
        let (handler, done) = (Scripted::new(answers), |h: &Scripted| h.done(deliveries));

        consume_until(&bus, Lane::Deprovision, handler.clone(), || done(&handler)).await;

        assert_eq!(handler.seen().len(), deliveries, "{name}");
        assert!(handler.seen().iter().all(|(_, again)| !again), "{name}");
        let Some((reason, delivery_count)) = death else {
            assert_eq!(rows(&store).await, 0, "{name}: acked and gone");
            continue;
        };
        assert_eq!(bus.queue_depth(&bus.names.dead_queue()).await.unwrap(), 1);
        let letter = first_dead_letter(&bus).await;
        assert_eq!(letter.death.reason.as_deref(), Some(reason), "{name}");
        assert_eq!(letter.death.delivery_count, delivery_count, "{name}");
        assert_eq!(letter.lane(), Some(Lane::Deprovision), "{name}");
        assert_eq!(letter.message_id.as_deref(), Some(name));
        assert_eq!(rows(&store).await, 0, "{name}: the dead letter was acked");
    }
}

/// A retried message waits in its tier (counted there, not in its lane) until the tier's
/// delay has passed.
#[tokio::test]
async fn a_retry_waits_in_its_tier_then_comes_back_to_its_lane() {
    let (bus, _store, _dir) = engine("10s,1m", 5).await;
    bus.publish(&leaver("wait")).await.unwrap();
    let queue = bus.names.queue(Lane::Deprovision);
    let tier = bus.names.retry_queue(Duration::from_secs(10));
    let t0 = now();
    let claimed = queue::claim(&bus.pool, &queue, Some(5), LEASE, t0)
        .await
        .unwrap()
        .unwrap();

    let delayed = queue::delay(&bus.pool, &claimed, 1, &tier, t0 + 10_000, t0).await;

    assert!(delayed.unwrap());
    assert_eq!(bus.queue_depth(&tier).await.unwrap(), 1);
    assert_eq!(bus.queue_depth(&queue).await.unwrap(), 0);
    let early = queue::claim(&bus.pool, &queue, Some(5), LEASE, t0 + 9_000).await;
    assert!(early.unwrap().is_none());
    let back = queue::claim(&bus.pool, &queue, Some(5), LEASE, t0 + 10_000)
        .await
        .unwrap()
        .expect("back in its lane");
    assert_eq!((back.retries, back.redelivered()), (1, false));
}

/// A replay's mark comes back with the message's next death, so it is a new dead letter.
#[tokio::test]
async fn a_replayed_message_carries_its_mark_into_its_next_death() {
    let (bus, _store, _dir) = engine("10s", 5).await;
    let envelope = leaver("replayed");
    let body = envelope.to_bytes();
    bus.republish(&Republish {
        body: &body,
        routing_key: &envelope.routingkey,
        message_id: &envelope.id,
        correlation_id: &envelope.correlationid,
        replay: "7:1767225600000",
    })
    .await
    .unwrap();
    let handler = Scripted::new(&[Disposition::DeadLetter]);
    let counted = handler.clone();

    consume_until(&bus, Lane::Deprovision, handler, || {
        !counted.seen().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(20)).await;

    let dead = bus.names.dead_queue();
    let letter = queue::claim(&bus.pool, &dead, None, LEASE, now())
        .await
        .unwrap()
        .expect("a dead letter");
    assert_eq!(letter.death.replay.as_deref(), Some("7:1767225600000"));
    assert_eq!(letter.body, body, "byte for byte");
}

/// A consumer stopped while its handler runs lets the handler finish and settles.
#[tokio::test]
async fn shutdown_finishes_and_settles_the_delivery_in_hand() {
    struct Slow(CancellationToken);

    #[async_trait]
    impl Handler for Slow {
        async fn handle(&self, _: Envelope, _: bool) -> Disposition {
            self.0.cancel();
            tokio::time::sleep(Duration::from_millis(200)).await;
            Disposition::Ack
        }
    }

    let (bus, store, _dir) = engine("10s", 5).await;
    bus.publish(&leaver("slow")).await.unwrap();
    let shutdown = CancellationToken::new();

    let consumed = tokio::time::timeout(
        Duration::from_secs(10),
        bus.consume_until_stopped(
            Lane::Deprovision,
            Arc::new(Slow(shutdown.clone())),
            shutdown,
        ),
    )
    .await;

    assert!(matches!(consumed, Ok(Ok(()))));
    assert_eq!(rows(&store).await, 0, "acked before the consumer returned");
}
