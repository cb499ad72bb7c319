//! Tests of playing a ClickUp user: the changes land with that user as actor on every
//! history item, the call returns the statuses of its own deliveries only, and refused
//! changes say why and queue nothing.

use std::{future::Future, pin::Pin};

use reqwest::Method;
use serde_json::json;

use crate::sandbox::{
    testing::{
        call, check_envelope, events, hook, register_webhook, seed_intake, start_default,
        start_receiver, uncoloured, user_object,
    },
    Role,
};

#[tokio::test]
async fn a_played_user_works_a_task_and_every_item_names_them() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let intake = seed_intake(&sandbox);
    hook(&sandbox, &receiver, "all", json!({ "events": ["*"] })).await;
    let carol = user_object(intake.carol, "Carol Contractor", "carol@example.com", "CC");
    let alice = user_object(intake.alice, "Alice Admin", "alice@example.com", "AA");
    let form = [
        (intake.tier.as_str(), json!(1)),
        (intake.ticket.as_str(), json!("1234")),
    ];

    let (task, created) = sandbox
        .as_user(intake.carol)
        .create_task(&intake.list, "VPN for Carol", &form)
        .await
        .expect("created");
    let approver = sandbox.as_user(intake.alice);
    let moved = approver.set_status(&task, "APPROVED").await.expect("moved");
    let (comment_id, commented) = approver
        .comment(&task, "/approve")
        .await
        .expect("commented");
    let assigned = approver
        .assign(&task, intake.carol)
        .await
        .expect("assigned");
    let set = approver
        .set_field(&task, &intake.tier, json!(0))
        .await
        .expect("set");

    let two = vec![200, 200];
    assert_eq!(
        [created, moved, commented, assigned, set],
        [two.clone(), two.clone(), two.clone(), two, vec![200]]
    );
    let stored = sandbox.state().task(&task).expect("task");
    assert_eq!(stored.status, "approved");
    assert_eq!(stored.assignees, [intake.carol]);
    assert_eq!(
        stored.custom_fields,
        [
            (intake.tier.clone(), json!(0)),
            (intake.ticket.clone(), json!("1234"))
        ]
    );
    let read = call(&sandbox, Method::GET, &format!("/v2/task/{task}"), None).await;
    assert_eq!(read.body["creator"]["id"], intake.carol);
    let comments = sandbox.state().comments(&task);
    assert_eq!(
        (comments[0].user_id, comments[0].id.as_str()),
        (intake.alice, comment_id.as_str())
    );
    let bodies = receiver.bodies();
    assert_eq!(
        events(&bodies),
        [
            "taskCreated",
            "taskStatusUpdated",
            "taskStatusUpdated",
            "taskUpdated",
            "taskCommentPosted",
            "taskUpdated",
            "taskAssigneeUpdated",
            "taskUpdated",
            "taskUpdated"
        ]
    );
    for (index, body) in bodies.iter().enumerate() {
        let actor = if index < 2 { &carol } else { &alice };
        for item in body["history_items"].as_array().expect("items") {
            check_envelope(item, &intake.list, actor);
        }
    }
    let no_fields = bodies[0]["history_items"].as_array().expect("items").iter();
    assert!(no_fields
        .map(|item| &item["field"])
        .eq([&json!("status"), &json!("task_creation")]));
    let posted = &bodies[4]["history_items"][0];
    assert_eq!(posted["after"], comment_id.as_str());
    let comment = &posted["comment"];
    assert_eq!(comment["id"], comment_id.as_str());
    assert_eq!(comment["parent"], task.as_str());
    assert_eq!(comment["text_content"], "/approve\n");
    assert_eq!(comment["comment"][0]["text"], "/approve");
    assert_eq!(uncoloured(&comment["user"]), alice);
    assert!(comment["date"]
        .as_str()
        .is_some_and(|ms| ms.parse::<u64>().is_ok()));
    assert_eq!(uncoloured(&bodies[6]["history_items"][0]["after"]), carol);
    let field_item = &bodies[8]["history_items"][0];
    assert_eq!(
        (&field_item["before"], &field_item["after"]),
        (&json!(intake.privileged), &json!(intake.standard))
    );

    let deleted = sandbox
        .as_user(intake.carol)
        .delete_task(&task)
        .await
        .expect("deleted");
    assert_eq!(deleted, [200]);
    assert_eq!(
        receiver.bodies().last().map(|b| b["event"].clone()),
        Some(json!("taskDeleted"))
    );
    assert!(receiver.seen().iter().all(|seen| seen.signature_valid));
    sandbox.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn a_played_user_gets_the_statuses_of_their_own_deliveries_only() {
    let sandbox = start_default().await;
    let (accepting, failing) = (start_receiver().await, start_receiver().await);
    let intake = seed_intake(&sandbox);
    let task = sandbox.state().add_task(&intake.list, "Grant VPN");
    accepting.answer_with(202);
    failing.answer_with(500);
    hook(&sandbox, &accepting, "all", json!({ "events": ["*"] })).await;
    hook(
        &sandbox,
        &failing,
        "status",
        json!({ "events": ["taskStatusUpdated"] }),
    )
    .await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!(
        "http://{}/hooks/clickup",
        closed.local_addr().expect("address")
    );
    drop(closed);
    let body = json!({ "endpoint": endpoint, "events": ["taskUpdated"] });
    register_webhook(&sandbox, body).await;
    let rename = json!({ "name": "Grant VPN to Carol" });
    call(
        &sandbox,
        Method::PUT,
        &format!("/v2/task/{task}"),
        Some(rename),
    )
    .await;

    let statuses = sandbox
        .as_user(intake.alice)
        .set_status(&task, "approved")
        .await
        .expect("moved");

    assert_eq!(
        statuses,
        [202, 500, 202, 0],
        "status: all, status; updated: all, closed"
    );
    sandbox.settle().await;
    assert_eq!(
        sandbox.state().deliveries().len(),
        6,
        "the API's rename went to two hooks"
    );
    sandbox.stop().await;
    accepting.stop().await;
    failing.stop().await;
}

type Attempt<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>;

#[tokio::test]
async fn refused_changes_say_why_and_fire_nothing() {
    let sandbox = start_default().await;
    let receiver = start_receiver().await;
    let intake = seed_intake(&sandbox);
    hook(&sandbox, &receiver, "all", json!({ "events": ["*"] })).await;
    let state = sandbox.state();
    let task = state.add_task(&intake.list, "Grant VPN");
    let gone = state.add_task(&intake.list, "Old request");
    let left = state.add_member("left@example.com", "Left Already", Role::Member);
    state.with(|ws| ws.directory.get_mut(left).map(|user| user.active = false));
    state.with(|ws| ws.hierarchy.remove_task(&gone));
    let (alice, list) = (sandbox.as_user(intake.alice), intake.list.as_str());
    let cases: Vec<(&str, Attempt, &str)> = vec![
        (
            "unknown user",
            Box::pin(async { sandbox.as_user(42).comment(&task, "hi").await.map(drop) }),
            "no ClickUp user 42",
        ),
        (
            "removed user",
            Box::pin(async {
                sandbox
                    .as_user(left)
                    .set_status(&task, "approved")
                    .await
                    .map(drop)
            }),
            "not an active member",
        ),
        (
            "unknown status",
            Box::pin(async { alice.set_status(&task, "shipped").await.map(drop) }),
            "CRTSK_001",
        ),
        (
            "field elsewhere",
            Box::pin(async {
                alice
                    .set_field(&task, &intake.other_field, json!("x"))
                    .await
                    .map(drop)
            }),
            "is not on List",
        ),
        (
            "form field elsewhere",
            Box::pin(async {
                alice
                    .create_task(list, "x", &[(&intake.other_field, json!("x"))])
                    .await
                    .map(drop)
            }),
            "is not on List",
        ),
        (
            "option by name",
            Box::pin(async {
                alice
                    .create_task(list, "x", &[(&intake.tier, json!("Standard"))])
                    .await
                    .map(drop)
            }),
            "FIELD_011",
        ),
        (
            "no name",
            Box::pin(async { alice.create_task(list, " ", &[]).await.map(drop) }),
            "INPUT_004",
        ),
        (
            "unknown list",
            Box::pin(async { alice.create_task("90119999999", "x", &[]).await.map(drop) }),
            "ITEM_015",
        ),
        (
            "removed assignee",
            Box::pin(async { alice.assign(&task, left).await.map(drop) }),
            "ASSIGNEE_001",
        ),
        (
            "empty comment",
            Box::pin(async { alice.comment(&task, "  ").await.map(drop) }),
            "INPUT_004",
        ),
        (
            "unknown task",
            Box::pin(async { alice.delete_task("86abc9999").await.map(drop) }),
            "ITEM_013",
        ),
        (
            "deleted task",
            Box::pin(async { alice.set_status(&gone, "approved").await.map(drop) }),
            "404 Not Found ITEM_013",
        ),
    ];

    for (label, attempt, expected) in cases {
        let error = attempt.await.expect_err(label);

        assert!(error.to_string().contains(expected), "{label}: {error}");
    }
    sandbox.settle().await;
    assert!(sandbox.state().deliveries().is_empty());
    assert!(receiver.seen().is_empty());
    let unchanged = state.task(&task).expect("task");
    assert_eq!(
        (unchanged.status.as_str(), unchanged.assignees.len()),
        ("requested", 0)
    );
    assert!(state.comments(&task).is_empty());
    sandbox.stop().await;
    receiver.stop().await;
}
