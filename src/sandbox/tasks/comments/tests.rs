//! Tests of task comments: the create answer, the read shapes and order, paging with
//! `start_id`, and the body and task checks.

use reqwest::Method;
use serde_json::{json, Value};

use super::super::super::{
    testing::{call, keys, owner_id, seed_hierarchy, start_default, Reply},
    Role, Sandbox, SandboxComment,
};

fn task_of(sandbox: &Sandbox) -> String {
    let [.., (_, task)] = seed_hierarchy(sandbox);
    task
}

async fn post(sandbox: &Sandbox, task: &str, body: Value) -> Reply {
    let path = format!("/v2/task/{task}/comment");
    call(sandbox, Method::POST, &path, Some(body)).await
}

#[tokio::test]
async fn comments_round_trip_newest_first_in_clickup_shapes() {
    let sandbox = start_default().await;
    let task = task_of(&sandbox);
    let alice = sandbox
        .state()
        .add_member("alice@example.com", "Alice Admin", Role::Admin);
    let owner = owner_id(&sandbox).await;

    let first = post(
        &sandbox,
        &task,
        json!({ "comment_text": "Access granted by IdP sync", "assignee": alice, "notify_all": false }),
    )
    .await;
    let second = post(
        &sandbox,
        &task,
        json!({ "comment_text": "Revoked again", "notify_all": true }),
    )
    .await;
    let read = call(
        &sandbox,
        Method::GET,
        &format!("/v2/task/{task}/comment"),
        None,
    )
    .await;

    for created in [&first, &second] {
        assert_eq!(created.status, 200, "{:?}", created.body);
        assert_eq!(keys(&created.body), ["date", "hist_id", "id"]);
        let id = created.body["id"].as_str().expect("string id");
        assert!(id.parse::<u64>().is_ok(), "{id}");
        assert!(
            created.body["hist_id"].as_str().is_some(),
            "{:?}",
            created.body
        );
        assert!(created.body["date"].is_u64(), "date is an integer");
    }
    assert_eq!(read.status, 200);
    let comments = read.body["comments"].as_array().expect("comments");
    let order: Vec<&Value> = comments.iter().map(|c| &c["id"]).collect();
    assert_eq!(
        order,
        [&second.body["id"], &first.body["id"]],
        "newest first"
    );
    let granted = &comments[1];
    assert_eq!(
        granted["comment"],
        json!([{ "text": "Access granted by IdP sync" }])
    );
    assert_eq!(granted["comment_text"], "Access granted by IdP sync");
    assert_eq!(granted["user"]["id"], json!(owner));
    assert_eq!(granted["assignee"]["id"], json!(alice));
    assert_eq!(granted["assignee"]["email"], "alice@example.com");
    assert_eq!(granted["assigned_by"]["id"], json!(owner));
    assert_eq!(granted["resolved"], false);
    assert_eq!(granted["reactions"], json!([]));
    assert_eq!(
        granted["date"],
        json!(first.body["date"].to_string()),
        "a string"
    );
    assert_eq!(comments[0]["assignee"], Value::Null);
    assert_eq!(
        sandbox.state().comments(&task),
        [
            SandboxComment {
                id: first.body["id"].as_str().unwrap_or_default().to_owned(),
                user_id: owner,
                text: "Access granted by IdP sync".to_owned(),
                assignee: Some(alice),
            },
            SandboxComment {
                id: second.body["id"].as_str().unwrap_or_default().to_owned(),
                user_id: owner,
                text: "Revoked again".to_owned(),
                assignee: None,
            },
        ]
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn comment_reads_page_25_at_a_time_with_start_id() {
    let sandbox = start_default().await;
    let task = task_of(&sandbox);
    for n in 1..=30 {
        let body = json!({ "comment_text": format!("note {n}"), "notify_all": false });
        assert_eq!(post(&sandbox, &task, body).await.status, 200);
    }
    let path = format!("/v2/task/{task}/comment");

    let first = call(&sandbox, Method::GET, &path, None).await;
    let texts = |reply: &Reply| -> Vec<String> {
        let comments = reply.body["comments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        comments
            .iter()
            .filter_map(|c| c["comment_text"].as_str().map(str::to_owned))
            .collect()
    };
    let page = texts(&first);
    assert_eq!(page.len(), 25);
    assert_eq!((page[0].as_str(), page[24].as_str()), ("note 30", "note 6"));

    let last = &first.body["comments"][24];
    let query = format!(
        "{path}?start={}&start_id={}",
        last["date"].as_str().unwrap_or_default(),
        last["id"].as_str().unwrap_or_default()
    );
    let older = call(&sandbox, Method::GET, &query, None).await;
    assert_eq!(
        texts(&older),
        ["note 5", "note 4", "note 3", "note 2", "note 1"]
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn comment_bodies_and_tasks_are_checked() {
    let sandbox = start_default().await;
    let task = task_of(&sandbox);
    let cases = [
        (
            task.as_str(),
            json!({ "notify_all": false }),
            400,
            "INPUT_001",
        ),
        (
            task.as_str(),
            json!({ "comment_text": "hi" }),
            400,
            "INPUT_001",
        ),
        (
            task.as_str(),
            json!({ "comment_text": "hi", "notify_all": "no" }),
            400,
            "INPUT_002",
        ),
        (
            task.as_str(),
            json!({ "comment_text": 7, "notify_all": false }),
            400,
            "INPUT_002",
        ),
        (
            task.as_str(),
            json!({ "comment_text": " ", "notify_all": false }),
            400,
            "INPUT_004",
        ),
        (
            task.as_str(),
            json!({ "comment_text": "hi", "notify_all": false, "assignee": 404 }),
            400,
            "ASSIGNEE_001",
        ),
        (
            task.as_str(),
            json!({ "comment_text": "hi", "notify_all": false, "group_assignee": "nope" }),
            400,
            "ASSIGNEE_002",
        ),
        (
            "86abc9999",
            json!({ "comment_text": "hi", "notify_all": false }),
            401,
            "ITEM_013",
        ),
    ];

    for (task_id, body, status, ecode) in cases {
        let reply = post(&sandbox, task_id, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{body}");
    }
    let missing = call(&sandbox, Method::GET, "/v2/task/86abc9999/comment", None).await;
    assert_eq!(
        (missing.status, &missing.body["ECODE"]),
        (401, &json!("ITEM_013"))
    );
    assert!(sandbox.state().comments(&task).is_empty());
    sandbox.stop().await;
}
