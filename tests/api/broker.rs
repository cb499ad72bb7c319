//! Broker failures at the receiver: outage, recovery, readiness. The
//! outages are RabbitMQ's (a proxy cuts the link): under the embedded engine they skip.

use std::time::{Duration, Instant};

use clickup_iam_router::{
    bus::{Lane, Publisher},
    ingest::iam::{normalise, Framing, IamSchema},
    sandbox::Role,
};
use lapin::{options::QueueDeleteOptions, Connection, ConnectionProperties};

use crate::helpers::{
    amqp_url, fixture, fixture_json, json_with_status, skip_unless_rabbitmq, spawn_app,
    spawn_app_with, Options,
};

/// The broker may confirm a publish after the receiver stopped waiting and answered 503 (a
/// link that stalls and comes back): the message is then delivered without the receiver's
/// record. The worker records its acceptance, once, and the sender's retry is a duplicate.
#[tokio::test]
async fn a_message_confirmed_after_the_receiver_gave_up_is_recorded_once_by_the_worker() {
    let app = spawn_app().await;
    app.sandbox
        .state()
        .add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let body = fixture("iam/04-leaver-terminated.json");
    let schema = IamSchema::compile().unwrap();
    let mut envelopes = normalise(&schema, &body, Framing::Single, chrono::Utc::now()).unwrap();
    let envelope = envelopes.remove(0);

    app.bus.publish(&envelope).await.unwrap();
    let processed = app
        .wait_processed(&fixture_json("iam/04-leaver-terminated.json"))
        .await;
    let retry = json_with_status(app.post_iam(&body).await, 200).await;

    assert_eq!(processed.outcome, "removed_member");
    assert_eq!(retry["status"], "duplicate");
    let received: Vec<_> = app
        .store
        .audit_by_correlation(&envelope.correlationid)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.action == "event.received")
        .collect();
    assert_eq!(received.len(), 1, "{received:?}");
    let detail: serde_json::Value = serde_json::from_str(&received[0].detail).unwrap();
    assert_eq!(detail["recorded_by"], "worker");
    assert_eq!(received[0].event_id, envelope.dedup_key());
    assert!(received[0].actor.starts_with("iam:"));
    app.stop().await;
}

#[tokio::test]
async fn with_the_broker_gone_a_post_gets_503_in_time_and_the_next_post_after_recovery_gets_202() {
    if skip_unless_rabbitmq("cuts the router's broker link with a proxy") {
        return;
    }
    let app = spawn_app_with(Options {
        through_proxy: true,
        without_worker: true,
        ..Options::default()
    })
    .await;
    let proxy = app.proxy.as_ref().unwrap();
    let first = fixture("clickup/event-taskAssigneeUpdated-add.json");
    let second = fixture("clickup/event-taskStatusUpdated.json");
    json_with_status(app.post_clickup_signed(&first).await, 202).await;

    proxy.cut();
    let started = Instant::now();
    let refused = json_with_status(app.post_clickup_signed(&second).await, 503).await;
    let elapsed = started.elapsed();
    let ready = app.get("/readyz").await.status().as_u16();
    proxy.restore().await;
    let accepted = app.post_clickup_signed(&second).await.status().as_u16();

    assert_eq!(refused["error"], "broker_unavailable");
    assert!(elapsed < Duration::from_secs(3), "503 took {elapsed:?}");
    assert_eq!(ready, 503, "not ready while the broker is gone");
    assert_eq!(
        accepted, 202,
        "the retry after recovery is queued, not taken for a duplicate"
    );
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
    assert_eq!(app.depth(Lane::ClickUp).await, 2);
    app.stop().await;
}

/// A link that hangs (bytes held, connection open) and comes back: the post gets 503, and
/// whether or not the held publish reaches the broker, the sender's retry leaves one removal
/// and one `event.received` row.
#[tokio::test]
async fn after_a_link_that_hangs_the_retried_leaver_has_one_effect_and_one_receipt_row() {
    if skip_unless_rabbitmq("stalls the router's broker link with a proxy") {
        return;
    }
    let app = spawn_app_with(Options {
        through_proxy: true,
        ..Options::default()
    })
    .await;
    let mark = app
        .sandbox
        .state()
        .add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let proxy = app.proxy.as_ref().unwrap();
    let body = fixture("iam/04-leaver-terminated.json");
    let leaver = fixture_json("iam/04-leaver-terminated.json");

    proxy.stall();
    let started = Instant::now();
    let refused = app.post_iam(&body).await;
    let elapsed = started.elapsed();
    proxy.resume();
    let retried = app.post_iam(&body).await.status().as_u16();
    let processed = app.wait_processed(&leaver).await;

    assert_eq!(refused.status().as_u16(), 503);
    assert!(elapsed < Duration::from_secs(3), "503 took {elapsed:?}");
    assert!(matches!(retried, 200 | 202), "{retried}");
    assert_eq!(processed.outcome, "removed_member");
    let removals = app.sandbox.state().count_calls(
        "DELETE",
        &format!("/api/v2/team/{}/user/{mark}", app.team_id),
    );
    assert_eq!(removals, 1);
    let received = app
        .store
        .audit_by_correlation("term-2026-0077")
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.action == "event.received")
        .count();
    assert_eq!(received, 1);
    app.stop().await;
}

#[tokio::test]
async fn health_and_readiness_answer_json() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;

    let live = json_with_status(app.get("/healthz").await, 200).await;
    let ready = json_with_status(app.get("/readyz").await, 200).await;
    let missing = json_with_status(app.get("/nothing-here").await, 404).await;

    assert_eq!(live["status"], "ok");
    assert_eq!(ready["broker"], true);
    assert_eq!(missing["error"], "not_found");
    for path in ["/healthz", "/readyz", "/metrics"] {
        let probe = reqwest::Client::new()
            .head(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(probe.status().as_u16(), 200, "HEAD {path}");
        assert!(probe.bytes().await.unwrap().is_empty(), "HEAD {path}");
    }
    app.stop().await;
}

/// The publisher's supervisor reconnects on its own: after the outage the router opens a
/// connection through the proxy before anyone asks it anything, and `/readyz` (which only
/// reads the link) says ready again.
#[tokio::test]
async fn readiness_follows_the_broker_without_any_traffic() {
    if skip_unless_rabbitmq("cuts the router's broker link with a proxy") {
        return;
    }
    let app = spawn_app_with(Options {
        through_proxy: true,
        without_worker: true,
        ..Options::default()
    })
    .await;
    let proxy = app.proxy.as_ref().unwrap();

    proxy.cut();
    let down = wait_for_ready_status(&app, 503).await;
    let before = proxy.connections();
    proxy.restore().await;
    let reconnected = wait_for(|| proxy.connections() > before).await;
    let up = wait_for_ready_status(&app, 200).await;

    assert!(down, "/readyz kept saying ready with the broker gone");
    assert!(
        reconnected,
        "the publisher did not reconnect before any request"
    );
    assert!(up, "/readyz did not recover without a publish");
    app.stop().await;
}

/// A lost connection ends the consumers' sessions; the next session declares the topology
/// again (the lane's queue was deleted meanwhile) and a leaver published after the outage is
/// handled.
#[tokio::test]
async fn consumers_come_back_after_an_outage_and_handle_what_is_published_after_it() {
    if skip_unless_rabbitmq("cuts the consumers' broker link with a proxy") {
        return;
    }
    let app = spawn_app_with(Options {
        through_proxy: true,
        ..Options::default()
    })
    .await;
    let mark = app
        .sandbox
        .state()
        .add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let proxy = app.proxy.as_ref().unwrap();

    proxy.cut();
    assert!(wait_for_ready_status(&app, 503).await);
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let queue = app.bus.names().queue(Lane::Deprovision);
    channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    proxy.restore().await;
    assert!(wait_for_ready_status(&app, 200).await);
    let accepted = json_with_status(
        app.post_iam(&fixture("iam/04-leaver-terminated.json"))
            .await,
        202,
    )
    .await;
    let processed = app
        .wait_processed(&fixture_json("iam/04-leaver-terminated.json"))
        .await;

    assert_eq!(accepted["status"], "accepted");
    assert_eq!(processed.outcome, "removed_member");
    let removals = app.sandbox.state().count_calls(
        "DELETE",
        &format!("/api/v2/team/{}/user/{mark}", app.team_id),
    );
    assert_eq!(removals, 1);
    let _ = connection.close(200, "done".into()).await;
    app.stop().await;
}

async fn wait_for_ready_status(app: &crate::helpers::TestApp, status: u16) -> bool {
    for _ in 0..100 {
        if app.get("/readyz").await.status().as_u16() == status {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Waits up to ten seconds for `condition`, asking the router nothing.
async fn wait_for(condition: impl Fn() -> bool) -> bool {
    for _ in 0..100 {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
