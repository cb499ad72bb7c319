//! Tests of the webhooks that API changes fire: shapes and companions per change, the
//! owner as actor, signatures and drop-down UUIDs. Which webhooks hear what is tested in
//! `events/tests/filters.rs`; delivery timing, health and deletion in
//! `events/tests/delivery.rs`.

mod delivery;
mod filters;

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};

use super::HistoryIds;
use crate::sandbox::{
    testing::{
        call, check_envelope, events, hook, owner_id, seed_intake, start_default, start_receiver,
        uncoloured, user_object, TEAM,
    },
    Sandbox,
};

async fn owner(sandbox: &Sandbox) -> Value {
    let id = owner_id(sandbox).await;
    user_object(id, "Router Service", "router-service@example.com", "RS")
}

#[test]
fn history_ids_have_19_digits_and_never_repeat() {
    let mut ids = HistoryIds::default();

    let issued: Vec<String> = (0..1_000).map(|_| ids.next_id()).collect();

    let unique: HashSet<&String> = issued.iter().collect();
    assert_eq!(unique.len(), issued.len());
    assert!(issued
        .iter()
        .all(|id| id.len() == 19 && id.bytes().all(|b| b.is_ascii_digit())));
}

#[tokio::test]
async fn creating_a_task_sends_task_created_and_a_status_update_sharing_its_item() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let intake = seed_intake(&sandbox);
    let webhook = hook(&sandbox, &receiver, "all", json!({ "events": ["*"] })).await;
    let body = json!({
        "name": "VPN for Carol",
        "custom_fields": [{ "id": intake.tier, "value": 1 }]
    });

    let path = format!("/v2/list/{}/task", intake.list);
    let created = call(&sandbox, Method::POST, &path, Some(body)).await;
    sandbox.settle().await;

    let task = created.body["id"].as_str().expect("task id");
    let bodies = receiver.bodies();
    assert_eq!(events(&bodies), ["taskCreated", "taskStatusUpdated"]);
    let actor = owner(&sandbox).await;
    for body in &bodies {
        let keys: Vec<&str> = body
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 4, "{body}");
        assert_eq!(body["task_id"], task);
        assert_eq!(body["webhook_id"], webhook.as_str());
    }
    let items = bodies[0]["history_items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "no Custom Field item: {items:?}");
    let (status, creation) = (&items[0], &items[1]);
    check_envelope(status, &intake.list, &actor);
    check_envelope(creation, &intake.list, &actor);
    assert_eq!(status["field"], "status");
    assert_eq!(status["data"], json!({ "status_type": "open" }));
    assert_eq!(
        status["before"],
        json!({ "status": null, "color": "#000000", "type": "removed", "orderindex": -1 })
    );
    assert_eq!(
        status["after"],
        json!({ "status": "requested", "color": "#d3d3d3", "orderindex": 0, "type": "open" })
    );
    assert_eq!(creation["field"], "task_creation");
    assert_eq!(
        (&creation["before"], &creation["after"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(
        bodies[1]["history_items"],
        json!([status]),
        "same status item"
    );
    assert!(receiver.seen().iter().all(|seen| seen.signature_valid));
    assert!(receiver
        .seen()
        .iter()
        .all(|seen| seen.content_type == "application/json"));
    let deliveries = sandbox.state().deliveries();
    let logged: Vec<(&str, &str, usize, Result<u16, String>)> = deliveries
        .iter()
        .map(|d| {
            (
                d.event.as_str(),
                d.task_id.as_str(),
                d.history_item_ids.len(),
                d.outcome.clone(),
            )
        })
        .collect();
    assert_eq!(
        logged,
        [
            ("taskCreated", task, 2, Ok(200)),
            ("taskStatusUpdated", task, 1, Ok(200))
        ]
    );
    assert_eq!(
        deliveries[0].history_item_ids[0],
        status["id"].as_str().expect("id")
    );
    sandbox.stop().await;
    receiver.stop().await;
}

/// A status as history items show it.
fn status(name: &str, color: &str, orderindex: u8, kind: &str) -> Value {
    json!({ "status": name, "color": color, "orderindex": orderindex, "type": kind })
}

/// What a case expects as the item's `after`.
enum After {
    Exactly(Value),
    /// The `id` the API answered with (a comment id).
    AnsweredId,
    /// A Quill delta string inserting this text.
    Delta(&'static str),
}

#[tokio::test]
async fn each_change_fires_its_event_and_a_task_updated_with_the_same_item() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let intake = seed_intake(&sandbox);
    let task = sandbox.state().add_task(&intake.list, "Grant VPN");
    hook(&sandbox, &receiver, "all", json!({ "events": ["*"] })).await;
    let actor = owner(&sandbox).await;
    let alice = user_object(intake.alice, "Alice Admin", "alice@example.com", "AA");
    let (put, post, delete) = (Method::PUT, Method::POST, Method::DELETE);
    let on_task = format!("/v2/task/{task}");
    let comment = format!("{on_task}/comment");
    let ticket = format!("{on_task}/field/{}", intake.ticket);
    // (method, path, body, events, field, before (None: no key), after), run in order on
    // one task, so each `before` is what the previous case left.
    let cases = [
        (
            &put,
            &on_task,
            json!({ "status": "Approved" }),
            &["taskStatusUpdated", "taskUpdated"][..],
            "status",
            Some(status("requested", "#d3d3d3", 0, "open")),
            After::Exactly(status("approved", "#4194f6", 1, "custom")),
        ),
        (
            &put,
            &on_task,
            json!({ "priority": 2 }),
            &["taskPriorityUpdated", "taskUpdated"],
            "priority",
            Some(Value::Null),
            After::Exactly(
                json!({ "color": "#ffcc00", "id": "2", "orderindex": "2", "priority": "high" }),
            ),
        ),
        (
            &put,
            &on_task,
            json!({ "due_date": 1_736_294_400_000_u64 }),
            &["taskDueDateUpdated", "taskUpdated"],
            "due_date",
            Some(Value::Null),
            After::Exactly(json!("1736294400000")),
        ),
        (
            &put,
            &on_task,
            json!({ "name": "Grant VPN to Carol" }),
            &["taskUpdated"],
            "name",
            Some(json!("Grant VPN")),
            After::Exactly(json!("Grant VPN to Carol")),
        ),
        (
            &put,
            &on_task,
            json!({ "description": "Needs VPN" }),
            &["taskUpdated"],
            "content",
            Some(Value::Null),
            After::Delta("Needs VPN"),
        ),
        (
            &put,
            &on_task,
            json!({ "assignees": { "add": [intake.alice], "rem": [] } }),
            &["taskAssigneeUpdated", "taskUpdated"],
            "assignee_add",
            None,
            After::Exactly(alice.clone()),
        ),
        (
            &put,
            &on_task,
            json!({ "assignees": { "add": [], "rem": [intake.alice] } }),
            &["taskAssigneeUpdated", "taskUpdated"],
            "assignee_rem",
            Some(alice.clone()),
            After::Exactly(Value::Null),
        ),
        (
            &post,
            &comment,
            json!({ "comment_text": "Please grant", "notify_all": false }),
            &["taskCommentPosted", "taskUpdated"],
            "comment",
            Some(Value::Null),
            After::AnsweredId,
        ),
        (
            &post,
            &ticket,
            json!({ "value": 1234 }),
            &["taskUpdated"],
            "custom_field",
            Some(Value::Null),
            After::Exactly(json!("1234")),
        ),
        (
            &delete,
            &ticket,
            Value::Null,
            &["taskUpdated"],
            "custom_field",
            Some(json!("1234")),
            After::Exactly(Value::Null),
        ),
    ];
    let mut item_ids = HashSet::new();

    for (method, path, body, expected_events, field, before, after) in cases {
        let label = format!("{method} {path} {body}");
        let already = receiver.seen().len();
        let body = (!body.is_null()).then_some(body);
        let answer = call(&sandbox, method.clone(), path, body).await;
        assert_eq!(answer.status, 200, "{label}: {:?}", answer.body);
        sandbox.settle().await;

        let bodies = receiver.bodies().split_off(already);
        assert_eq!(events(&bodies), expected_events, "{label}");
        let items = &bodies[0]["history_items"];
        assert!(
            bodies.iter().all(|b| b["history_items"] == *items),
            "{label}: same items"
        );
        assert_eq!(items.as_array().map(Vec::len), Some(1), "{label}");
        let item = &items[0];
        let id = check_envelope(item, &intake.list, &actor);
        assert!(item_ids.insert(id), "{label}: a fresh item id");
        assert_eq!(item["field"], field, "{label}");
        assert_eq!(item.get("before").map(uncoloured), before, "{label}");
        match after {
            After::Exactly(after) => assert_eq!(uncoloured(&item["after"]), after, "{label}"),
            After::AnsweredId => assert_eq!(item["after"], answer.body["id"], "{label}"),
            After::Delta(text) => {
                let delta: Value = serde_json::from_str(item["after"].as_str().expect("string"))
                    .expect("delta JSON");
                assert_eq!(delta["ops"][0]["insert"], text, "{label}");
            }
        }
    }
    assert!(receiver.seen().iter().all(|seen| seen.signature_valid));
    sandbox.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn a_drop_down_change_carries_the_option_uuid_and_the_field_definition() {
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
    let path = format!("/v2/task/{task}/field/{}", intake.tier);
    // (value written, before, after, orderindex a task read shows)
    let cases = [
        (json!(1), Value::Null, json!(intake.privileged), 1),
        (
            json!(intake.standard.to_uppercase()),
            json!(intake.privileged),
            json!(intake.standard),
            0,
        ),
    ];

    for (value, before, after, orderindex) in cases {
        let already = receiver.seen().len();
        call(
            &sandbox,
            Method::POST,
            &path,
            Some(json!({ "value": value })),
        )
        .await;
        sandbox.settle().await;

        let bodies = receiver.bodies().split_off(already);
        assert_eq!(events(&bodies), ["taskUpdated"], "{value}");
        let item = &bodies[0]["history_items"][0];
        assert_eq!(
            (&item["before"], &item["after"]),
            (&before, &after),
            "{value}"
        );
        let stored = sandbox.state().task(&task).expect("task").custom_fields;
        assert_eq!(
            stored,
            [(intake.tier.clone(), json!(orderindex))],
            "{value}"
        );
        let definition = &item["custom_field"];
        assert_eq!(definition["id"], intake.tier.as_str());
        assert_eq!(definition["type"], "drop_down");
        assert_eq!(
            definition["userid"],
            json!(owner_id(&sandbox).await.to_string())
        );
        assert_eq!(definition["team_id"], TEAM);
        let options: Vec<(&Value, &Value, &Value)> = definition["type_config"]["options"]
            .as_array()
            .expect("options")
            .iter()
            .map(|o| (&o["id"], &o["name"], &o["orderindex"]))
            .collect();
        assert_eq!(
            options,
            [
                (&json!(intake.standard), &json!("Standard"), &json!(0)),
                (&json!(intake.privileged), &json!("Privileged"), &json!(1))
            ]
        );
    }
    sandbox.stop().await;
    receiver.stop().await;
}
