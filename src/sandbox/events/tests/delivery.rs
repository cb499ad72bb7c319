//! Tests of how fired webhooks are delivered: API calls never wait, `settle` does, failing
//! and unreachable receivers count against the webhook's health, and deleting a task fires
//! `taskDeleted` and answers 404 afterwards.

use std::time::Duration;

use futures_util::FutureExt;
use reqwest::Method;
use serde_json::json;

use crate::sandbox::{
    testing::{
        call, health, hook, register_webhook, seed_intake, send_raw, start_default, start_receiver,
    },
    SandboxDelivery,
};

/// How long a call may hang before the test calls it a deadlock; never a timing assertion.
const DEADLOCK: Duration = Duration::from_secs(30);

fn outcomes(deliveries: &[SandboxDelivery]) -> Vec<(&str, Result<u16, String>)> {
    deliveries
        .iter()
        .map(|d| (d.event.as_str(), d.outcome.clone()))
        .collect()
}

#[tokio::test]
async fn api_calls_answer_while_the_receiver_is_held_and_settle_waits_for_it() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let intake = seed_intake(&sandbox);
    let task = sandbox.state().add_task(&intake.list, "Grant VPN");
    hook(
        &sandbox,
        &receiver,
        "updates",
        json!({ "events": ["taskUpdated"] }),
    )
    .await;
    receiver.hold();

    let rename = json!({ "name": "Grant VPN to Carol" });
    let path = format!("/v2/task/{task}");
    let answer = tokio::time::timeout(DEADLOCK, call(&sandbox, Method::PUT, &path, Some(rename)))
        .await
        .expect("the API answers without waiting for the receiver");

    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["name"], "Grant VPN to Carol");
    assert!(sandbox.state().deliveries().is_empty(), "still held");
    let mut settled = Box::pin(sandbox.settle());
    assert!((&mut settled).now_or_never().is_none(), "settle waits");
    receiver.release();
    settled.await;
    assert_eq!(
        outcomes(&sandbox.state().deliveries()),
        [("taskUpdated", Ok(200))]
    );
    sandbox.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn failing_answers_raise_the_fail_count_and_410_suspends() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let intake = seed_intake(&sandbox);
    let task = sandbox.state().add_task(&intake.list, "Grant VPN");
    let webhook = hook(&sandbox, &receiver, "all", json!({ "events": ["*"] })).await;
    let path = format!("/v2/task/{task}");
    // (receiver answer, status to move to, outcomes (`Err(true)`: refused as suspended),
    // health afterwards)
    let cases = [
        (500, "approved", vec![Ok(500), Ok(500)], ("failing", 2)),
        (200, "requested", vec![Ok(200), Ok(200)], ("active", 0)),
        (410, "granted", vec![Ok(410), Err(true)], ("suspended", 1)),
        (200, "approved", vec![], ("suspended", 1)),
    ];

    for (answer, status, expected, (health_status, fail_count)) in cases {
        receiver.answer_with(answer);
        let already = sandbox.state().deliveries().len();

        let body = json!({ "status": status });
        call(&sandbox, Method::PUT, &path, Some(body)).await;
        sandbox.settle().await;

        let deliveries = sandbox.state().deliveries().split_off(already);
        let seen: Vec<Result<u16, bool>> = deliveries
            .into_iter()
            .map(|d| d.outcome.map_err(|error| error.contains("suspended")))
            .collect();
        assert_eq!(seen, expected, "answer {answer}");
        let (status, count) = health(&sandbox, &webhook).await;
        assert_eq!(
            (status.as_str(), count),
            (health_status, fail_count),
            "answer {answer}"
        );
    }
    sandbox.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn unreachable_endpoints_count_as_failures() {
    let sandbox = start_default().await;
    let intake = seed_intake(&sandbox);
    let task = sandbox.state().add_task(&intake.list, "Grant VPN");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!(
        "http://{}/hooks/clickup",
        closed.local_addr().expect("address")
    );
    drop(closed);
    let body = json!({ "endpoint": endpoint, "events": ["taskUpdated"] });
    let (webhook, _) = register_webhook(&sandbox, body).await;

    let rename = json!({ "name": "Grant VPN to Carol" });
    call(
        &sandbox,
        Method::PUT,
        &format!("/v2/task/{task}"),
        Some(rename),
    )
    .await;
    sandbox.settle().await;

    let deliveries = sandbox.state().deliveries();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].outcome.is_err(), "{deliveries:?}");
    assert_eq!(health(&sandbox, &webhook).await, ("failing".to_owned(), 1));
    sandbox.stop().await;
}

#[tokio::test]
async fn deleting_a_task_answers_204_fires_task_deleted_and_then_404() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let intake = seed_intake(&sandbox);
    let task = sandbox.state().add_task(&intake.list, "Onboard Carol");
    let body = json!({ "name": "VPN", "parent": task });
    let subtask = call(
        &sandbox,
        Method::POST,
        &format!("/v2/list/{}/task", intake.list),
        Some(body),
    )
    .await;
    let subtask = subtask.body["id"].as_str().expect("subtask id").to_owned();
    let webhook = hook(&sandbox, &receiver, "all", json!({ "events": ["*"] })).await;

    let (status, answer) = send_raw(&sandbox, Method::DELETE, &format!("/v2/task/{task}")).await;
    sandbox.settle().await;

    assert_eq!((status, answer.as_slice()), (204, &b""[..]));
    let bodies = receiver.bodies();
    assert_eq!(
        bodies,
        [
            json!({ "event": "taskDeleted", "task_id": task, "webhook_id": webhook }),
            json!({ "event": "taskDeleted", "task_id": subtask, "webhook_id": webhook })
        ]
    );
    assert!(sandbox.state().task(&task).is_none());
    let comment = json!({ "comment_text": "x", "notify_all": false });
    let cases = [
        (Method::DELETE, format!("/v2/task/{task}"), None, 404),
        (Method::GET, format!("/v2/task/{task}"), None, 404),
        (Method::GET, format!("/v2/task/{subtask}"), None, 404),
        (
            Method::PUT,
            format!("/v2/task/{task}"),
            Some(json!({ "name": "x" })),
            404,
        ),
        (
            Method::POST,
            format!("/v2/task/{task}/comment"),
            Some(comment),
            404,
        ),
        (Method::DELETE, "/v2/task/86abc9999".to_owned(), None, 404),
        (Method::GET, "/v2/task/86abc9999".to_owned(), None, 401),
    ];
    for (method, path, body, status) in cases {
        let reply = call(&sandbox, method.clone(), &path, body).await;
        assert_eq!(reply.status, status, "{method} {path}");
        assert_eq!(
            reply.body,
            json!({ "err": "Task not found", "ECODE": "ITEM_013" }),
            "{method} {path}"
        );
    }
    sandbox.settle().await;
    assert_eq!(receiver.bodies().len(), 2, "refused calls fire nothing");
    sandbox.stop().await;
    receiver.stop().await;
}
