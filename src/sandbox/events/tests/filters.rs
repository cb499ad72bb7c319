//! Tests of which webhooks hear a task change: the event filter (named events or `"*"`),
//! the location (workspace, Space, Folder, List or task) and suspension.

use reqwest::Method;
use serde_json::json;

use crate::sandbox::testing::{call, hook, seed_intake, start_default, start_receiver};

#[tokio::test]
async fn webhooks_hear_only_their_events_in_their_location() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let intake = seed_intake(&sandbox);
    let task = sandbox.state().add_task(&intake.list, "Grant VPN");
    let other_task = sandbox.state().add_task(&intake.list, "Audit");
    let number = |id: &str| json!(id.parse::<u64>().expect("numeric id"));
    let both = &["taskStatusUpdated", "taskUpdated"][..];
    let cases = [
        ("workspace", json!({ "events": ["*"] }), both),
        (
            "status only",
            json!({ "events": ["taskStatusUpdated"] }),
            &["taskStatusUpdated"][..],
        ),
        (
            "updates on the list",
            json!({ "events": ["taskUpdated"], "list_id": number(&intake.list) }),
            &["taskUpdated"],
        ),
        (
            "comments only",
            json!({ "events": ["taskCommentPosted"] }),
            &[],
        ),
        (
            "other list",
            json!({ "events": ["*"], "list_id": number(&intake.other_list) }),
            &[],
        ),
        (
            "folder",
            json!({ "events": ["*"], "folder_id": number(&intake.folder) }),
            both,
        ),
        (
            "space",
            json!({ "events": ["*"], "space_id": number(&intake.space) }),
            both,
        ),
        (
            "other space",
            json!({ "events": ["*"], "space_id": number(&intake.other_space) }),
            &[],
        ),
        (
            "the task",
            json!({ "events": ["*"], "task_id": task }),
            both,
        ),
        (
            "another task",
            json!({ "events": ["*"], "task_id": other_task }),
            &[],
        ),
        ("suspended", json!({ "events": ["*"] }), &[]),
    ];
    let mut hooks = Vec::new();
    for (label, settings, _) in &cases {
        hooks.push(hook(&sandbox, &receiver, label, settings.clone()).await);
    }
    let suspend = json!({
        "endpoint": format!("{}?hook=suspended", receiver.url),
        "events": ["*"],
        "status": "suspended"
    });
    let path = format!("/v2/webhook/{}", hooks[hooks.len() - 1]);
    assert_eq!(
        call(&sandbox, Method::PUT, &path, Some(suspend))
            .await
            .status,
        200
    );

    let body = json!({ "status": "approved" });
    call(
        &sandbox,
        Method::PUT,
        &format!("/v2/task/{task}"),
        Some(body),
    )
    .await;
    sandbox.settle().await;

    let deliveries = sandbox.state().deliveries();
    for ((label, _, expected), webhook) in cases.iter().zip(&hooks) {
        let heard: Vec<&str> = deliveries
            .iter()
            .filter(|delivery| delivery.webhook_id == *webhook)
            .map(|delivery| delivery.event.as_str())
            .collect();
        assert_eq!(heard, *expected, "{label}");
    }
    assert!(
        deliveries.iter().all(|d| d.outcome == Ok(200)),
        "{deliveries:?}"
    );
    sandbox.stop().await;
    receiver.stop().await;
}
