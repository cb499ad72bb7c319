//! Tests of webhook delivery against a loopback receiver that verifies the signature itself,
//! plus the signing, endpoint and health rules on their own.

use reqwest::Method;
use serde_json::{json, Value};

use super::{loopback_url, record_outcome, sign};
use crate::sandbox::{
    testing::{call, start_default, start_receiver, TEAM},
    webhooks::{Health, Location, WebhookRecord},
    Sandbox,
};

/// Registers a webhook for `endpoint` through the API and returns its id.
async fn register(sandbox: &Sandbox, endpoint: &str) -> String {
    let body = json!({ "endpoint": endpoint, "events": ["*"] });
    let reply = call(
        sandbox,
        Method::POST,
        &format!("/v2/team/{TEAM}/webhook"),
        Some(body),
    )
    .await;
    reply.body["id"].as_str().expect("webhook id").to_owned()
}

/// `(status, fail_count)` of a webhook as `GET /v2/team/{team_id}/webhook` reports it.
async fn health(sandbox: &Sandbox, id: &str) -> (String, u64) {
    let reply = call(
        sandbox,
        Method::GET,
        &format!("/v2/team/{TEAM}/webhook"),
        None,
    )
    .await;
    let webhooks = reply.body["webhooks"].as_array().expect("webhooks").clone();
    let webhook = webhooks
        .iter()
        .find(|webhook| webhook["id"] == id)
        .expect("listed");
    let status = webhook["health"]["status"]
        .as_str()
        .expect("status")
        .to_owned();
    (
        status,
        webhook["health"]["fail_count"].as_u64().expect("count"),
    )
}

#[tokio::test]
async fn delivery_is_signed_over_the_raw_compact_body_with_the_webhook_secret() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let id = register(&sandbox, &receiver.url).await;
    let (endpoint, secret) = sandbox.state().webhook(&id).expect("webhook");
    receiver.set_secret(&secret);
    let event = json!({
        "event": "taskCreated",
        "task_id": "86abc0001",
        "history_items": [{ "field": "name", "after": "Café ✓" }]
    });

    let status = sandbox.deliver(&id, &event).await.expect("delivered");

    assert_eq!(endpoint, receiver.url);
    assert_eq!(status, 200);
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert!(
        request.signature_valid,
        "receiver rejected {}",
        request.signature
    );
    assert_eq!(request.signature.len(), 64);
    assert!(request
        .signature
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert_eq!(request.content_type, "application/json");
    let body: Value = serde_json::from_slice(&request.body).expect("JSON body");
    assert_eq!(body["webhook_id"], id.as_str());
    assert_eq!(body["task_id"], "86abc0001");
    assert_eq!(
        request.body,
        serde_json::to_vec(&body).expect("compact"),
        "compact, as sent"
    );
    assert!(
        String::from_utf8_lossy(&request.body).contains("Café ✓"),
        "raw UTF-8, not \\u escapes"
    );
    assert_eq!(health(&sandbox, &id).await, ("active".to_owned(), 0));
    receiver.stop().await;
    sandbox.stop().await;
}

#[tokio::test]
async fn a_webhook_id_already_in_the_body_is_kept() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let id = register(&sandbox, &receiver.url).await;
    receiver.set_secret(&sandbox.state().webhook(&id).expect("webhook").1);

    let status = sandbox
        .deliver(
            &id,
            &json!({ "event": "listCreated", "webhook_id": "given" }),
        )
        .await;

    assert_eq!(status.expect("delivered"), 200);
    let body: Value = serde_json::from_slice(&receiver.seen()[0].body).expect("JSON body");
    assert_eq!(body["webhook_id"], "given");
    receiver.stop().await;
    sandbox.stop().await;
}

#[tokio::test]
async fn receiver_statuses_drive_webhook_health_until_suspension() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let id = register(&sandbox, &receiver.url).await;
    receiver.set_secret(&sandbox.state().webhook(&id).expect("webhook").1);
    let steps = [
        (500, "failing", 1),
        (503, "failing", 2),
        (200, "active", 0),
        (404, "failing", 1),
        (204, "active", 0),
        (401, "suspended", 1),
    ];

    for (answer, expected_status, expected_count) in steps {
        receiver.answer_with(answer);

        let status = sandbox
            .deliver(&id, &json!({ "event": "taskUpdated" }))
            .await;

        assert_eq!(status.expect("an answer came back"), answer);
        assert_eq!(
            health(&sandbox, &id).await,
            (expected_status.to_owned(), expected_count),
            "after {answer}"
        );
    }
    let refused = sandbox
        .deliver(&id, &json!({ "event": "taskUpdated" }))
        .await;
    assert!(
        refused.is_err(),
        "nothing is delivered to a suspended webhook"
    );
    assert_eq!(receiver.seen().len(), steps.len());

    let reactivate = json!({ "endpoint": receiver.url, "events": "*", "status": "active" });
    call(
        &sandbox,
        Method::PUT,
        &format!("/v2/webhook/{id}"),
        Some(reactivate),
    )
    .await;
    receiver.answer_with(200);
    let status = sandbox
        .deliver(&id, &json!({ "event": "taskUpdated" }))
        .await;
    assert_eq!(status.expect("delivered again"), 200);
    assert_eq!(health(&sandbox, &id).await, ("active".to_owned(), 0));
    receiver.stop().await;
    sandbox.stop().await;
}

#[tokio::test]
async fn a_signature_made_with_another_secret_is_rejected_and_counted() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let id = register(&sandbox, &receiver.url).await;
    receiver.set_secret("NOT-THE-WEBHOOK-SECRET");

    let status = sandbox
        .deliver(&id, &json!({ "event": "taskCreated" }))
        .await;

    assert_eq!(status.expect("an answer came back"), 403);
    assert!(!receiver.seen()[0].signature_valid);
    assert_eq!(health(&sandbox, &id).await, ("failing".to_owned(), 1));
    receiver.stop().await;
    sandbox.stop().await;
}

#[tokio::test]
async fn non_loopback_webhooks_are_refused_and_unknown_ones_never_contacted() {
    let sandbox = start_default().await;
    let local = register(&sandbox, "http://127.0.0.1:9/hooks/clickup").await;
    let remote_endpoints = [
        "https://idbridge.example.com/hooks/clickup",
        "http://169.254.169.254/latest",
        "http://10.0.0.1/h",
        "idbridge.example.com/h",
    ];

    for endpoint in remote_endpoints {
        let body = json!({ "endpoint": endpoint, "events": ["*"] });
        let path = format!("/v2/team/{TEAM}/webhook");

        let reply = call(&sandbox, Method::POST, &path, Some(body)).await;

        assert_eq!(reply.status, 400, "{endpoint}");
        assert!(
            reply.body["err"].as_str().unwrap().contains("loopback"),
            "{endpoint}: {}",
            reply.body
        );
    }
    let to_unknown = sandbox
        .deliver("no-such-hook", &json!({ "event": "taskCreated" }))
        .await;
    let not_an_object = sandbox.deliver(&local, &json!(["taskCreated"])).await;
    assert!(to_unknown.is_err());
    assert!(not_an_object.is_err());
    assert_eq!(
        health(&sandbox, &local).await,
        ("active".to_owned(), 0),
        "not a failure"
    );
    sandbox.stop().await;
}

#[test]
fn signatures_match_the_clickup_test_vectors() {
    let cases = [
        (
            "secret",
            concat!(
                r#"{"webhook_id":"7689a169-a000-4985-8676-6902b96d6627","#,
                r#""event":"taskCreated","task_id":"c0j"}"#
            ),
            "4830bf524f6e29a3e8da953936c6f21c1fea2b9669b825d3e1be293ef3416c8c",
        ),
        (
            "FAKESECRET0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH",
            concat!(
                r#"{"event":"taskUpdated","history_items":[{"id":"2800768061568220999","#,
                r#""field":"name","before":"Café","after":"Café ✓"}],"task_id":"86abc0001","#,
                r#""webhook_id":"a1b2c3d4-0000-4000-8000-00000000abcd"}"#
            ),
            "3da0e19439c77ae9b019f25dd4db175d5453f137b753bdef27c1199a353b736b",
        ),
    ];

    for (secret, body, expected) in cases {
        assert_eq!(
            sign(secret, body.as_bytes()).expect("signed"),
            expected,
            "{body}"
        );
    }
}

#[test]
fn only_loopback_endpoints_are_deliverable() {
    let cases = [
        ("http://127.0.0.1:8080/hooks", Some("http")),
        ("http://127.1.2.3/hooks", Some("http")),
        ("http://[::1]:8080/hooks", Some("http")),
        ("http://LOCALHOST:8080/hooks", Some("http")),
        ("127.0.0.1:8443/hooks", Some("https")),
        ("https://idbridge.example.com/hooks", None),
        ("http://169.254.169.254/latest", None),
        ("http://10.0.0.8/hooks", None),
        ("http://localhost.example.com/hooks", None),
        ("ftp://127.0.0.1/hooks", None),
    ];

    for (endpoint, scheme) in cases {
        let url = loopback_url(endpoint).ok();
        assert_eq!(url.as_ref().map(|url| url.scheme()), scheme, "{endpoint}");
    }
}

#[test]
fn outcomes_follow_clickup_health_rules() {
    let cases = [
        (Health::Active, 0, Some(200), Health::Active, 0),
        (Health::Failing, 7, Some(201), Health::Active, 0),
        (Health::Active, 0, Some(500), Health::Failing, 1),
        (Health::Failing, 3, None, Health::Failing, 4),
        (Health::Active, 0, Some(401), Health::Suspended, 1),
        (Health::Failing, 2, Some(410), Health::Suspended, 3),
        (Health::Failing, 98, Some(403), Health::Failing, 99),
        (Health::Failing, 99, Some(403), Health::Suspended, 100),
        (Health::Failing, 99, None, Health::Suspended, 100),
    ];

    for (health, fail_count, status, expected_health, expected_count) in cases {
        let mut webhook = WebhookRecord {
            id: "w".to_owned(),
            userid: 1,
            endpoint: "http://127.0.0.1:9/".to_owned(),
            events: vec!["*".to_owned()],
            location: Location::default(),
            health,
            fail_count,
            secret: "S".to_owned(),
        };

        record_outcome(&mut webhook, status);

        assert_eq!(
            (webhook.health, webhook.fail_count),
            (expected_health, expected_count),
            "{health:?} {fail_count} {status:?}"
        );
    }
}
