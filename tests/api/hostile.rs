//! Faults found by attacking the receivers, each held by a test.

use std::time::Duration;

use clickup_iam_router::{bus::Lane, sandbox::Role};
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{fixture, fixture_json, json_with_status, spawn_app, spawn_app_with, Options};

#[tokio::test]
async fn ids_longer_than_an_amqp_short_string_are_queued_not_crashed_on() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let mut long_id = fixture_json("iam/04-leaver-terminated.json");
    long_id["id"] = json!("x".repeat(256));
    let mut long_correlation = fixture_json("iam/05-disable.json");
    long_correlation["correlationid"] = json!("€".repeat(100));

    for event in [long_id, long_correlation] {
        let body = serde_json::to_vec(&event).unwrap();

        json_with_status(app.post_iam(&body).await, 202).await;
    }

    assert_eq!(app.depth(Lane::Deprovision).await, 2);
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_stalls_gets_408_and_the_connection_is_freed() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let address = app.url.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let head = "POST /webhooks/clickup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";

    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;

    assert!(read.is_ok(), "the router kept the stalled connection open");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_webhook_id_is_neither_echoed_nor_mistaken_for_a_signature_error() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let body = json!({"event": "taskCreated", "task_id": "t", "webhook_id": "jane.doe@example.com\u{1b}[31m"});

    let refused = json_with_status(
        app.post_clickup(&serde_json::to_vec(&body).unwrap(), Some("00"))
            .await,
        403,
    )
    .await;

    assert_eq!(refused["error"], "unknown_webhook");
    assert!(!refused.to_string().contains("jane.doe"), "{refused}");
    app.stop().await;
}

#[tokio::test]
async fn a_scim_disable_without_an_email_field_still_removes_the_person() {
    let app = spawn_app().await;
    let state = app.sandbox.state();
    state.add_member("jane.doe@example.com", "Jane Doe", Role::Member);
    let disable = fixture_json("iam/11-from-scim-patch-active-false.json");

    json_with_status(
        app.post_iam(&serde_json::to_vec(&disable).unwrap()).await,
        202,
    )
    .await;
    let processed = app.wait_processed(&disable).await;

    assert_eq!(processed.outcome, "removed_member", "{}", processed.detail);
    assert!(state.find_by_email("jane.doe@example.com").is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_changed_delivery_limit_keeps_the_existing_queues_working() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;

    let app = app
        .restart(Duration::ZERO, |settings| settings.bus.delivery_limit += 7)
        .await;
    let accepted = app
        .post_iam(&fixture("iam/04-leaver-terminated.json"))
        .await;

    assert_eq!(accepted.status().as_u16(), 202);
    assert_eq!(app.depth(Lane::Deprovision).await, 1);
    app.stop().await;
}

/// A router that cannot listen (the port is taken) stops before it creates or migrates its
/// store, so a mistyped address leaves no stray database behind.
#[tokio::test]
async fn a_taken_port_fails_the_start_before_the_store_is_created() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("never.db");
    let mut settings = app.settings.clone();
    settings.http.as_mut().unwrap().http_addr = taken.local_addr().unwrap().to_string();
    settings.store.database_url = format!("sqlite://{}", database.display()).parse().unwrap();

    let started = clickup_iam_router::app::Application::build(settings, None).await;

    let error = format!("{:#}", started.err().expect("the port is taken"));
    assert!(error.contains("binding"), "{error}");
    assert!(
        !database.exists(),
        "the store was created before the bind failed"
    );
    app.stop().await;
}
