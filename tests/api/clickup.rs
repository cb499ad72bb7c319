//! `POST /webhooks/clickup`: signatures, parsing, deduplication, queueing.

use std::collections::HashSet;

use clickup_iam_router::{bus::Lane, ingest::clickup::normalise};
use serde_json::Value;

use crate::helpers::{fixture, json_with_status, spawn_app_with, Options, TestApp, WEBHOOK_SECRET};

/// Receivers only: these tests count what reached the broker, so nothing may consume it.
async fn receivers_only() -> TestApp {
    spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await
}

fn event_fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = format!("{}/tests/fixtures/clickup", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("event-"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|name| (name.clone(), fixture(&format!("clickup/{name}"))))
        .collect()
}

#[tokio::test]
async fn every_clickup_event_is_accepted_and_queued_once_per_history_item() {
    let app = receivers_only().await;
    let mut keys = HashSet::new();
    let mut events = HashSet::new();

    for (name, body) in event_fixtures() {
        let fresh: Vec<String> = normalise(&body, chrono::Utc::now())
            .unwrap()
            .iter()
            .map(|e| e.dedup_key())
            .filter(|k| !keys.contains(k))
            .collect();
        let expected = if fresh.is_empty() { 200 } else { 202 };

        let response = app.post_clickup_signed(&body).await;

        assert_eq!(response.status().as_u16(), expected, "{name}");
        keys.extend(fresh);
        let value: Value = serde_json::from_slice(&body).unwrap();
        events.insert(value["event"].as_str().unwrap().to_string());
    }

    assert_eq!(events.len(), 28);
    assert_eq!(app.depth(Lane::ClickUp).await as usize, keys.len());
    app.stop().await;
}

#[tokio::test]
async fn a_reserialised_delivery_with_the_original_signature_is_refused_and_not_queued() {
    let app = receivers_only().await;
    let compact = fixture("clickup/event-taskStatusUpdated.json");
    let value: Value = serde_json::from_slice(&compact).unwrap();
    let compact = serde_json::to_vec(&value).unwrap();
    let signature = clickup_iam_router::ingest::signature::sign_clickup(WEBHOOK_SECRET, &compact);
    let pretty = serde_json::to_vec_pretty(&value).unwrap();

    let body = json_with_status(app.post_clickup(&pretty, Some(&signature)).await, 403).await;

    assert_eq!(body["error"], "signature_rejected");
    assert_eq!(app.depth(Lane::ClickUp).await, 0);
    let accepted = app.post_clickup(&compact, Some(&signature)).await;
    assert_eq!(
        accepted.status().as_u16(),
        202,
        "the compact original is accepted"
    );
    app.stop().await;
}

/// name, body, X-Signature, expected status, expected error code
type Refusal = (&'static str, Vec<u8>, Option<String>, u16, &'static str);

#[tokio::test]
async fn refusals_are_json_and_never_401_or_410() {
    let app = receivers_only().await;
    let body = fixture("clickup/event-taskCreated.json");
    let good = clickup_iam_router::ingest::signature::sign_clickup(WEBHOOK_SECRET, &body);
    let other_webhook = String::from_utf8(body.clone()).unwrap().replace(
        "a1b2c3d4-0000-4000-8000-00000000abcd",
        "ffffffff-0000-4000-8000-000000000000",
    );
    let other_signature = clickup_iam_router::ingest::signature::sign_clickup(
        WEBHOOK_SECRET,
        other_webhook.as_bytes(),
    );
    let no_webhook = br#"{"event":"taskCreated","task_id":"t1"}"#.to_vec();
    let unknown_event =
        br#"{"event":"userDeleted","webhook_id":"a1b2c3d4-0000-4000-8000-00000000abcd"}"#.to_vec();
    let unknown_signature =
        clickup_iam_router::ingest::signature::sign_clickup(WEBHOOK_SECRET, &unknown_event);
    let float_id = br#"{"event":"taskCreated","task_id":"t","webhook_id":"a1b2c3d4-0000-4000-8000-00000000abcd","history_items":[{"id":2.8e18}]}"#.to_vec();
    let float_signature =
        clickup_iam_router::ingest::signature::sign_clickup(WEBHOOK_SECRET, &float_id);
    let not_a_list = br#"{"event":"taskCreated","task_id":"t","webhook_id":"a1b2c3d4-0000-4000-8000-00000000abcd","history_items":"notalist"}"#.to_vec();
    let not_a_list_signature =
        clickup_iam_router::ingest::signature::sign_clickup(WEBHOOK_SECRET, &not_a_list);

    let cases: Vec<Refusal> = vec![
        (
            "missing signature",
            body.clone(),
            None,
            403,
            "signature_rejected",
        ),
        (
            "wrong signature",
            body.clone(),
            Some("00".repeat(32)),
            403,
            "signature_rejected",
        ),
        (
            "not hex",
            body.clone(),
            Some("zz".into()),
            403,
            "signature_rejected",
        ),
        (
            "unknown webhook",
            other_webhook.into_bytes(),
            Some(other_signature),
            403,
            "unknown_webhook",
        ),
        (
            "no webhook id",
            no_webhook,
            Some(good.clone()),
            403,
            "unknown_webhook",
        ),
        (
            "malformed json",
            b"{\"event\":".to_vec(),
            Some(good.clone()),
            400,
            "malformed_json",
        ),
        (
            "null",
            b"null".to_vec(),
            Some(good.clone()),
            400,
            "malformed_json",
        ),
        (
            "an array",
            b"[1,2]".to_vec(),
            Some(good.clone()),
            400,
            "malformed_json",
        ),
        (
            "history items not a list",
            not_a_list,
            Some(not_a_list_signature),
            400,
            "invalid_event",
        ),
        (
            "unknown event",
            unknown_event,
            Some(unknown_signature),
            400,
            "invalid_event",
        ),
        (
            "float history id",
            float_id,
            Some(float_signature),
            400,
            "invalid_event",
        ),
        (
            "too large",
            vec![b' '; 70 * 1024],
            Some(good.clone()),
            413,
            "payload_too_large",
        ),
    ];

    for (name, body, signature, status, code) in cases {
        let response = app.post_clickup(&body, signature.as_deref()).await;

        assert_eq!(response.status().as_u16(), status, "{name}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["error"], code, "{name}");
        let message = json["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains("WebhookRef") && !message.contains("notalist"),
            "{name}: {message}"
        );
    }

    assert_eq!(
        app.depth(Lane::ClickUp).await,
        0,
        "no refused delivery reached the broker"
    );
    let upper = app.post_clickup(&body, Some(&good.to_uppercase())).await;
    assert_eq!(upper.status().as_u16(), 202, "upper-case hex is accepted");
    app.stop().await;
}

#[tokio::test]
async fn the_same_delivery_twice_gives_one_message() {
    let app = receivers_only().await;
    let body = fixture("clickup/event-taskAssigneeUpdated-add.json");

    let first = json_with_status(app.post_clickup_signed(&body).await, 202).await;
    let second = json_with_status(app.post_clickup_signed(&body).await, 200).await;

    assert_eq!(first["status"], "accepted");
    assert_eq!(second["status"], "duplicate");
    assert_eq!(app.depth(Lane::ClickUp).await, 1);
    app.stop().await;
}
