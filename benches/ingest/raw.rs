//! The limit: a raw lapin publisher with confirms against the same broker, exchange and
//! routing key as the router's publishes, with the same message (the envelope the router
//! would publish for one of the load's deliveries): one connection, one confirm channel,
//! `concurrency` publishers each waiting for its confirm before the next publish, as the
//! router's requests do. Persistent and mandatory, as the router publishes.

use std::time::{Duration, Instant};

use lapin::{
    options::{BasicPublishOptions, ConfirmSelectOptions, QueuePurgeOptions},
    BasicProperties, Confirmation, Connection, ConnectionProperties,
};

use crate::load::Outcome;

/// Where to publish: an events exchange and the routing key of the load's events.
#[derive(Clone)]
pub struct Target {
    pub amqp_url: String,
    pub exchange: String,
    pub routing_key: String,
    /// The queue the routing key fills; purged between runs.
    pub queue: String,
}

/// Publishes `body` back to back from `concurrency` tasks for `warmup`, then `measure`.
pub async fn publish_loop(
    target: &Target,
    body: &[u8],
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> Outcome {
    let connection = Connection::connect(&target.amqp_url, ConnectionProperties::default())
        .await
        .expect("connect to the bench node");
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let from = Instant::now() + warmup;
    let until = from + measure;
    let mut publishers = Vec::with_capacity(concurrency);

    for worker in 0..concurrency {
        let (channel, body) = (channel.clone(), body.to_vec());
        let (exchange, routing_key) = (target.exchange.clone(), target.routing_key.clone());
        publishers.push(tokio::spawn(async move {
            let mut outcome = Outcome::default();
            let options = BasicPublishOptions {
                mandatory: true,
                immediate: false,
            };
            for n in 0u64.. {
                let started = Instant::now();
                if started >= until {
                    break;
                }
                let properties = BasicProperties::default()
                    .with_message_id(format!("raw-{worker}-{n}").into())
                    .with_correlation_id(format!("raw-{worker}-{n}").into())
                    .with_delivery_mode(2)
                    .with_content_type("application/cloudevents+json".into());
                let confirm = channel
                    .basic_publish(
                        exchange.as_str().into(),
                        routing_key.as_str().into(),
                        options,
                        &body,
                        properties,
                    )
                    .await
                    .expect("publish");
                let acked = matches!(confirm.await, Ok(Confirmation::Ack(None)));
                if started >= from && Instant::now() <= until {
                    // 200 for a positive confirm without a return, as the router requires.
                    let answer = Ok(if acked { 200 } else { 0 });
                    outcome.note(answer, 200, started.elapsed());
                }
            }
            outcome
        }));
    }

    let mut outcome = Outcome {
        window: measure,
        ..Outcome::default()
    };
    for publisher in publishers {
        outcome.merge(publisher.await.unwrap());
    }
    let _ = connection.close(200, "bench done".into()).await;
    outcome
}

/// Empties the lane's queue, so each run starts on an empty queue.
pub async fn purge(target: &Target) {
    let connection = Connection::connect(&target.amqp_url, ConnectionProperties::default())
        .await
        .expect("connect to the bench node");
    let channel = connection.create_channel().await.unwrap();
    channel
        .queue_purge(target.queue.as_str().into(), QueuePurgeOptions::default())
        .await
        .expect("purge the lane's queue");
    let _ = connection.close(200, "purged".into()).await;
}
