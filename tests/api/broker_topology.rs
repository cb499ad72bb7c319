//! The broker's side of publishing, on RabbitMQ (these skip under the embedded engine): what
//! it refuses (an unroutable key, a nack) and what the lanes are (quorum queues with a
//! dead-letter exchange, persistent messages).

use clickup_iam_router::bus::Lane;
use lapin::{
    options::{
        BasicGetOptions, BasicNackOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable},
    Channel, Connection, ConnectionProperties,
};

use crate::helpers::{
    amqp_url, fixture, json_with_status, skip_unless_rabbitmq, spawn_app_with, Options, TestApp,
};

/// The receivers alone (no worker), with the leavers' lane deleted on the broker through a
/// channel of the test's own: the app, that connection and channel, and the lane's name.
async fn serve_without_the_leavers_lane() -> (TestApp, Connection, Channel, String) {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let queue = app.bus.names().queue(Lane::Deprovision);
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    (app, connection, channel, queue)
}

#[tokio::test]
async fn an_unroutable_event_gets_503_and_is_not_marked_seen() {
    if skip_unless_rabbitmq("deletes a lane's queue on the broker (the embedded lanes are fixed; its unroutable key is a unit test)") {
        return;
    }
    let (app, connection, _channel, _queue) = serve_without_the_leavers_lane().await;
    let body = fixture("iam/04-leaver-terminated.json");

    let refused = json_with_status(app.post_iam(&body).await, 503).await;
    app.bus.declare_topology().await.unwrap();
    let accepted = json_with_status(app.post_iam(&body).await, 202).await;

    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains("iam.user.terminated"));
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(app.depth(Lane::Deprovision).await, 1);
    let _ = connection.close(200, "done".into()).await;
    app.stop().await;
}

/// A broker that nacks (a queue full under `reject-publish`): 503, the claim released, and
/// the sender's retry once the queue takes messages again is published, not a duplicate.
#[tokio::test]
async fn a_nacked_event_gets_503_and_is_not_marked_seen() {
    if skip_unless_rabbitmq("replaces a lane's queue on the broker with one that refuses") {
        return;
    }
    let (app, connection, channel, queue) = serve_without_the_leavers_lane().await;
    let names = app.bus.names();
    let mut full = FieldTable::default();
    full.insert("x-max-length".into(), AMQPValue::LongInt(0));
    full.insert(
        "x-overflow".into(),
        AMQPValue::LongString("reject-publish".into()),
    );
    channel
        .queue_declare(queue.as_str().into(), QueueDeclareOptions::default(), full)
        .await
        .unwrap();
    channel
        .queue_bind(
            queue.as_str().into(),
            names.events_exchange().as_str().into(),
            "iam.user.terminated".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let body = fixture("iam/04-leaver-terminated.json");

    let refused = json_with_status(app.post_iam(&body).await, 503).await;
    channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    app.bus.declare_topology().await.unwrap();
    let accepted = json_with_status(app.post_iam(&body).await, 202).await;

    assert_eq!(refused["error"], "broker_unavailable");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .ends_with("the broker refused the event; retry later"),
        "{refused}"
    );
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(app.depth(Lane::Deprovision).await, 1);
    let _ = connection.close(200, "done".into()).await;
    app.stop().await;
}

/// Every lane is a quorum queue (a redelivery carries the `x-delivery-count` only quorum
/// queues keep) that dead-letters to the router's exchange, and every event is published
/// persistent, as CloudEvents JSON.
#[tokio::test]
async fn lanes_are_quorum_queues_and_events_are_persistent() {
    if skip_unless_rabbitmq("reads the broker's queues and messages") {
        return;
    }
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let names = app.bus.names();
    let queue = names.queue(Lane::Deprovision);
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    json_with_status(
        app.post_iam(&fixture("iam/04-leaver-terminated.json"))
            .await,
        202,
    )
    .await;

    let channel = connection.create_channel().await.unwrap();
    let mut deliveries = Vec::new();
    for _ in 0..2 {
        let message = channel
            .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false })
            .await
            .unwrap()
            .expect("the leaver is on its lane");
        deliveries.push(message.delivery.properties.clone());
        message
            .delivery
            .nack(BasicNackOptions {
                requeue: true,
                ..BasicNackOptions::default()
            })
            .await
            .unwrap();
    }
    let mut refusals = Vec::new();
    for lane in Lane::ALL {
        // A bare declaration must clash with the lane's dead-letter setting.
        let probe = connection.create_channel().await.unwrap();
        let options = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        let clash = probe
            .queue_declare(
                names.queue(lane).as_str().into(),
                options,
                FieldTable::default(),
            )
            .await
            .expect_err("a lane redeclared without its arguments");
        refusals.push(clash.to_string());
    }

    let first = &deliveries[0];
    assert_eq!(first.delivery_mode(), &Some(2));
    assert_eq!(
        first.content_type().as_ref().map(|t| t.as_str()),
        Some("application/cloudevents+json")
    );
    let count = deliveries[1]
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get("x-delivery-count").cloned());
    assert!(
        matches!(
            count,
            Some(AMQPValue::LongLongInt(1) | AMQPValue::LongInt(1) | AMQPValue::LongUInt(1))
        ),
        "{count:?}"
    );
    for refusal in &refusals {
        assert!(refusal.contains("x-dead-letter-exchange"), "{refusal}");
        assert!(refusal.contains(&names.dead_exchange()), "{refusal}");
    }
    let _ = connection.close(200, "done".into()).await;
    app.stop().await;
}
