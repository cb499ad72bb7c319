//! Tests of task creation: the task object with assignees, Custom Fields and creator, the
//! body, people and List checks, and the gate in front of every task write. The seeding and
//! call helpers here are shared with the update tests.

use reqwest::Method;
use serde_json::{json, Value};

use super::super::{
    testing::{call, keys, owner_id, send, start_default, Reply},
    CustomFieldType, Role, Sandbox,
};

/// A List in a Folder with two members, a group and two Custom Fields.
pub(super) struct Seeded {
    pub space: String,
    pub folder: String,
    pub list: String,
    pub alice: u64,
    pub carol: u64,
    pub group: String,
    pub tier: String,
    pub privileged: String,
    pub ticket: String,
}

pub(super) fn seed(sandbox: &Sandbox) -> Seeded {
    let state = sandbox.state();
    let space = state.add_space("Engineering");
    let folder = state.add_folder(&space, "Platform");
    let list = state.add_list_in_folder(&folder, "Access Requests");
    let alice = state.add_member("alice@example.com", "Alice Admin", Role::Admin);
    let carol = state.add_guest("carol@example.com", "Carol Contractor");
    let group = state.add_group("VPN users", &[alice]);
    let options = ["Standard", "Privileged"];
    let tier = state.add_custom_field(&list, "Access Tier", CustomFieldType::DropDown, &options);
    let ticket = state.add_custom_field(&list, "Ticket Number", CustomFieldType::Number, &[]);
    let privileged = state.custom_fields(&list)[0].options[1].id.clone();

    Seeded {
        space,
        folder,
        list,
        alice,
        carol,
        group,
        tier,
        privileged,
        ticket,
    }
}

pub(super) async fn create(sandbox: &Sandbox, list: &str, body: Value) -> Reply {
    call(
        sandbox,
        Method::POST,
        &format!("/v2/list/{list}/task"),
        Some(body),
    )
    .await
}

pub(super) async fn update(sandbox: &Sandbox, task: &str, body: Value) -> Reply {
    call(
        sandbox,
        Method::PUT,
        &format!("/v2/task/{task}"),
        Some(body),
    )
    .await
}

pub(super) fn ids(users: &Value) -> Vec<Value> {
    let users = users.as_array().map(Vec::as_slice).unwrap_or_default();
    users.iter().map(|user| user["id"].clone()).collect()
}

#[tokio::test]
async fn creating_a_task_answers_the_task_object_as_get_task_shows_it() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let body = json!({
        "name": "Grant VPN access to carol@example.com",
        "markdown_content": "Requested via IdP workflow **REQ-1234**",
        "assignees": [seeded.carol, seeded.alice],
        "group_assignees": [seeded.group.to_uppercase()],
        "tags": ["access-request"],
        "status": "To Do",
        "priority": 3,
        "due_date": 1_736_294_400_000_u64,
        "notify_all": false,
        "custom_fields": [
            { "id": seeded.tier, "value": seeded.privileged },
            { "id": seeded.ticket, "value": 1234 },
            { "id": "not-on-this-list", "value": "skipped" }
        ]
    });

    let created = create(&sandbox, &seeded.list, body).await;

    assert_eq!(created.status, 200, "{:?}", created.body);
    let task = &created.body;
    let id = task["id"].as_str().expect("string task id").to_owned();
    assert!(id.starts_with("86abc"), "{id}");
    assert_eq!(task["name"], "Grant VPN access to carol@example.com");
    assert_eq!(
        task["status"],
        json!({ "id": format!("p{}_0", seeded.list), "status": "to do",
                "color": "#d3d3d3", "orderindex": 0, "type": "open" })
    );
    assert_eq!(
        ids(&task["assignees"]),
        [json!(seeded.carol), json!(seeded.alice)]
    );
    let carol = &task["assignees"][0];
    let user_fields = [
        "color",
        "email",
        "id",
        "initials",
        "profilePicture",
        "username",
    ];
    assert_eq!(keys(carol), user_fields);
    assert_eq!(carol["username"], "Carol Contractor");
    assert_eq!(carol["email"], "carol@example.com");
    assert_eq!(carol["initials"], "CC");
    assert_eq!(ids(&task["group_assignees"]), [json!(seeded.group)]);
    assert_eq!(task["creator"]["id"], json!(owner_id(&sandbox).await));
    assert!(task["date_created"]
        .as_str()
        .is_some_and(|ms| ms.parse::<u64>().is_ok()));
    assert_eq!(task["list"]["id"], seeded.list.as_str());
    assert_eq!(task["folder"]["id"], seeded.folder.as_str());
    assert_eq!(task["space"]["id"], seeded.space.as_str());
    assert_eq!(task["url"], format!("https://app.clickup.com/t/{id}"));
    assert_eq!(task["priority"]["priority"], "normal");
    assert_eq!(task["priority"]["id"], "3");
    assert_eq!(task["due_date"], "1736294400000");
    assert_eq!(task["tags"][0]["name"], "access-request");
    assert_eq!(
        task["description"],
        "Requested via IdP workflow **REQ-1234**"
    );
    assert_eq!(task["markdown_description"], task["description"]);
    let fields = task["custom_fields"].as_array().expect("custom_fields");
    let values: Vec<(&Value, &Value)> = fields.iter().map(|f| (&f["name"], &f["value"])).collect();
    assert_eq!(
        values,
        [
            (&json!("Access Tier"), &json!(1)),
            (&json!("Ticket Number"), &json!("1234"))
        ]
    );

    let read = call(&sandbox, Method::GET, &format!("/v2/task/{id}"), None).await;
    let mut expected = created.body.clone();
    expected
        .as_object_mut()
        .map(|task| task.remove("markdown_description"));
    assert_eq!(read.body, expected);
    let stored = sandbox.state().task(&id).expect("task stored");
    assert_eq!(stored.assignees, [seeded.carol, seeded.alice]);
    assert_eq!(stored.group_assignees, [seeded.group.as_str()]);
    assert_eq!(stored.status, "to do");
    assert_eq!(stored.priority, Some(3));
    assert_eq!(
        stored.custom_fields,
        [
            (seeded.tier.clone(), json!(1)),
            (seeded.ticket.clone(), json!("1234"))
        ]
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn create_refuses_bad_bodies_unknown_people_and_unknown_lists() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let removed = sandbox
        .state()
        .add_member("gone@example.com", "Gone", Role::Member);
    sandbox.state().with(|ws| {
        ws.directory
            .get_mut(removed)
            .map(|user| user.active = false)
    });
    let list = seeded.list.as_str();
    let cases = [
        (
            list,
            json!({ "name": "x", "assignees": [9_999_999] }),
            400,
            "ASSIGNEE_001",
        ),
        (
            list,
            json!({ "name": "x", "assignees": [removed] }),
            400,
            "ASSIGNEE_001",
        ),
        (
            list,
            json!({ "name": "x", "group_assignees": ["no-such-group"] }),
            400,
            "ASSIGNEE_002",
        ),
        (
            list,
            json!({ "name": "x", "status": "granted" }),
            400,
            "CRTSK_001",
        ),
        (
            list,
            json!({ "assignees": [seeded.alice] }),
            400,
            "INPUT_001",
        ),
        (list, json!({ "name": "  " }), 400, "INPUT_004"),
        (
            list,
            json!({ "name": "x", "assignees": seeded.alice }),
            400,
            "INPUT_002",
        ),
        (list, json!({ "name": "x", "tags": [1] }), 400, "INPUT_002"),
        (
            list,
            json!({ "name": "x", "priority": 5 }),
            400,
            "INPUT_004",
        ),
        (
            list,
            json!({ "name": "x", "priority": "high" }),
            400,
            "INPUT_002",
        ),
        (
            list,
            json!({ "name": "x", "parent": "86abc9999" }),
            400,
            "INPUT_004",
        ),
        (
            list,
            json!({ "name": "x", "custom_fields": [{ "value": 1 }] }),
            400,
            "INPUT_001",
        ),
        (
            list,
            json!({ "name": "x", "custom_fields": [{ "id": seeded.tier, "value": "Standard" }] }),
            400,
            "FIELD_011",
        ),
        ("123", json!({ "name": "x" }), 404, "ITEM_015"),
        ("12.5", json!({ "name": "x" }), 500, "SHARD_001"),
    ];

    for (list_id, body, status, ecode) in cases {
        let reply = create(&sandbox, list_id, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{body}");
    }
    let tasks = call(
        &sandbox,
        Method::GET,
        &format!("/v2/list/{list}/task"),
        None,
    )
    .await;
    assert_eq!(tasks.body["tasks"], json!([]), "nothing was created");
    sandbox.stop().await;
}

#[tokio::test]
async fn subtasks_name_their_parent_and_the_top_of_the_chain() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let other_list = sandbox.state().add_list_in_folder(&seeded.folder, "Audits");
    let root = sandbox.state().add_task(&seeded.list, "Onboard Carol");
    let elsewhere = sandbox.state().add_task(&other_list, "Audit");

    let child = create(
        &sandbox,
        &seeded.list,
        json!({ "name": "VPN", "parent": root }),
    )
    .await;
    let child_id = child.body["id"].as_str().unwrap_or_default().to_owned();
    let grandchild = create(
        &sandbox,
        &seeded.list,
        json!({ "name": "VPN token", "parent": child_id }),
    )
    .await;
    let foreign = create(
        &sandbox,
        &seeded.list,
        json!({ "name": "x", "parent": elsewhere }),
    )
    .await;

    assert_eq!(
        (&child.body["parent"], &child.body["top_level_parent"]),
        (&json!(root), &json!(root))
    );
    assert_eq!(grandchild.body["parent"], json!(child_id));
    assert_eq!(grandchild.body["top_level_parent"], json!(root));
    assert_eq!(
        (foreign.status, &foreign.body["ECODE"]),
        (400, &json!("INPUT_004"))
    );
    let tasks = format!("/v2/list/{}/task", seeded.list);
    let cases = [(tasks.clone(), 1), (format!("{tasks}?subtasks=true"), 3)];
    for (path, count) in cases {
        let reply = call(&sandbox, Method::GET, &path, None).await;
        assert_eq!(
            reply.body["tasks"].as_array().map(Vec::len),
            Some(count),
            "{path}"
        );
    }
    let top = call(&sandbox, Method::GET, &format!("/v2/task/{root}"), None).await;
    assert_eq!(
        (&top.body["parent"], &top.body["top_level_parent"]),
        (&Value::Null, &Value::Null)
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn task_writes_pass_the_gate_and_the_call_log() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let task = sandbox.state().add_task(&seeded.list, "Grant VPN");
    let cases = [
        (Method::POST, format!("/v2/list/{}/task", seeded.list)),
        (Method::PUT, format!("/v2/task/{task}")),
        (Method::POST, format!("/v2/task/{task}/comment")),
        (Method::GET, format!("/v2/task/{task}/comment")),
        (
            Method::POST,
            format!("/v2/task/{task}/field/{}", seeded.tier),
        ),
        (Method::GET, format!("/v2/list/{}/field", seeded.list)),
    ];

    for (method, path) in cases {
        let body = Some(json!({ "name": "x" }).to_string());
        let reply = send(&sandbox, None, method.clone(), &path, body).await;
        assert_eq!(reply.status, 401, "{method} {path}");
        assert_eq!(reply.body["ECODE"], "OAUTH_017", "{method} {path}");
        assert_eq!(
            sandbox
                .state()
                .count_calls(method.as_str(), &format!("/api{path}")),
            1
        );
    }
    assert_eq!(
        sandbox.state().task(&task).map(|t| t.name),
        Some("Grant VPN".to_owned())
    );
    sandbox.stop().await;
}
