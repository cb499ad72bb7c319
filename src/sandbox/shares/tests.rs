//! Tests of the guest share endpoints: sharing and unsharing Lists, Folders and tasks, the
//! `shared` object on the guest read, the 404 and 400 answers and the Enterprise gate.

use reqwest::Method;
use serde_json::{json, Value};

use super::super::{
    testing::{call, keys, share, start_default, start_on, TEAM},
    Plan, Role, Sandbox,
};

/// A Space with a Folder, a List in it and a task in the List.
struct Seeded {
    folder: String,
    list: String,
    task: String,
    dave: u64,
}

fn seed(sandbox: &Sandbox) -> Seeded {
    let state = sandbox.state();
    let space = state.add_space("Clients");
    let folder = state.add_folder(&space, "Acme");
    let list = state.add_list_in_folder(&folder, "Access Requests");
    let task = state.add_task(&list, "Grant VPN");
    let dave = state.add_guest("dave.guest@example.com", "Dave Guest");
    Seeded {
        folder,
        list,
        task,
        dave,
    }
}

fn ids(shared: &Value, key: &str) -> Vec<(String, String)> {
    shared[key]
        .as_array()
        .expect("shared array")
        .iter()
        .map(|item| {
            let id = item["id"].as_str().unwrap_or_default().to_owned();
            let level = item["permission_level"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (id, level)
        })
        .collect()
}

#[tokio::test]
async fn sharing_lists_folders_and_tasks_shows_them_with_their_levels() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let dave = seeded.dave;
    let cases = [
        ("list", seeded.list.as_str(), "comment", "lists"),
        ("folder", seeded.folder.as_str(), "read", "folders"),
        ("task", seeded.task.as_str(), "edit", "tasks"),
        ("list", seeded.list.as_str(), "create", "lists"),
    ];

    for (kind, id, level, key) in cases {
        let path = format!("/v2/{kind}/{id}/guest/{dave}");
        let reply = call(
            &sandbox,
            Method::POST,
            &path,
            Some(json!({ "permission_level": level })),
        )
        .await;

        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
        let guest = &reply.body["guest"];
        assert_eq!(guest["user"]["id"], json!(dave));
        assert_eq!(guest["user"]["role"], 4);
        let shared = ids(&guest["shared"], key);
        assert!(
            shared.contains(&(id.to_owned(), level.to_owned())),
            "{path}: {shared:?}"
        );
    }

    let read = call(
        &sandbox,
        Method::GET,
        &format!("/v2/team/{TEAM}/guest/{dave}"),
        None,
    )
    .await;
    let shared = &read.body["guest"]["shared"];
    assert_eq!(
        ids(shared, "lists"),
        [(seeded.list.clone(), "create".to_owned())]
    );
    assert_eq!(
        ids(shared, "folders"),
        [(seeded.folder.clone(), "read".to_owned())]
    );
    assert_eq!(
        ids(shared, "tasks"),
        [(seeded.task.clone(), "edit".to_owned())]
    );
    let guest_fields = [
        "can_create_views",
        "can_edit_tags",
        "can_see_points_estimated",
        "can_see_time_estimated",
        "can_see_time_spent",
        "invited_by",
        "shared",
        "user",
    ];
    assert_eq!(keys(&read.body["guest"]), guest_fields);
    let list = &shared["lists"][0];
    let list_fields = [
        "archived",
        "assignee",
        "due_date",
        "id",
        "name",
        "orderindex",
        "override_statuses",
        "permission_level",
        "priority",
        "start_date",
        "status",
        "statuses",
        "task_count",
    ];
    assert_eq!(keys(list), list_fields);
    assert_eq!(list["name"], "Access Requests");
    assert_eq!(list["task_count"], "1");
    assert!(list["statuses"].is_array() && list["archived"] == false);
    let folder = &shared["folders"][0];
    assert_eq!(folder["lists"][0]["id"], seeded.list.as_str());
    assert_eq!(folder["hidden"], false);
    let task = &shared["tasks"][0];
    assert_eq!(task["name"], "Grant VPN");
    assert_eq!(task["list"]["id"], seeded.list.as_str());
    assert_eq!(task["folder"]["id"], seeded.folder.as_str());
    assert_eq!(
        sandbox.state().shares_of_user(dave),
        [
            share("folder", &seeded.folder, "read", "guest"),
            share("list", &seeded.list, "create", "guest"),
            share("task", &seeded.task, "edit", "guest"),
        ]
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn removing_a_share_answers_the_guest_without_it() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let dave = seeded.dave;
    let state = sandbox.state();
    for (kind, id) in [
        ("list", &seeded.list),
        ("folder", &seeded.folder),
        ("task", &seeded.task),
    ] {
        let path = format!("/v2/{kind}/{id}/guest/{dave}");
        let added = call(
            &sandbox,
            Method::POST,
            &path,
            Some(json!({ "permission_level": "read" })),
        )
        .await;
        assert_eq!(added.status, 200, "{path}");
    }
    let cases = [
        ("list", seeded.list.clone(), 2),
        ("task", seeded.task.clone(), 1),
        ("task", seeded.task.clone(), 1),
        ("folder", seeded.folder.clone(), 0),
    ];

    for (kind, id, left) in cases {
        let path = format!("/v2/{kind}/{id}/guest/{dave}");
        let reply = call(&sandbox, Method::DELETE, &path, None).await;

        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
        assert_eq!(reply.body["guest"]["user"]["id"], json!(dave));
        let plural = format!("{kind}s");
        assert_eq!(
            reply.body["guest"]["shared"][plural.as_str()],
            json!([]),
            "{path}"
        );
        assert_eq!(state.shares_of_user(dave).len(), left, "{path}");
    }
    assert_eq!(
        reply_shared(&sandbox, dave).await,
        json!({ "tasks": [], "lists": [], "folders": [] })
    );
    sandbox.stop().await;
}

async fn reply_shared(sandbox: &Sandbox, guest: u64) -> Value {
    let path = format!("/v2/team/{TEAM}/guest/{guest}");
    call(sandbox, Method::GET, &path, None).await.body["guest"]["shared"].clone()
}

#[tokio::test]
async fn unknown_objects_non_guests_and_bad_levels_are_refused() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let (dave, list) = (seeded.dave, seeded.list.clone());
    let bob = sandbox
        .state()
        .add_member("bob@example.com", "Bob", Role::Member);
    let read = json!({ "permission_level": "read" });
    let cases = [
        (
            format!("/v2/list/999/guest/{dave}"),
            read.clone(),
            404,
            "ITEM_015",
        ),
        (
            format!("/v2/folder/999/guest/{dave}"),
            read.clone(),
            404,
            "FOLDER_001",
        ),
        (
            format!("/v2/task/nope1/guest/{dave}"),
            read.clone(),
            404,
            "ITEM_013",
        ),
        (
            format!("/v2/list/{list}/guest/{bob}"),
            read.clone(),
            404,
            "GUEST_001",
        ),
        (
            format!("/v2/list/{list}/guest/424242"),
            read.clone(),
            404,
            "GUEST_001",
        ),
        (
            format!("/v2/list/{list}/guest/{dave}"),
            json!({ "permission_level": "full" }),
            400,
            "INPUT_004",
        ),
        (
            format!("/v2/list/{list}/guest/{dave}"),
            json!({ "permission_level": 4 }),
            400,
            "INPUT_002",
        ),
        (
            format!("/v2/list/{list}/guest/{dave}"),
            json!({}),
            400,
            "INPUT_001",
        ),
        (
            format!("/v2/list/1.5/guest/{dave}"),
            read.clone(),
            500,
            "SHARD_001",
        ),
        (
            format!("/v2/list/{list}/guest/abc"),
            read.clone(),
            500,
            "SHARD_001",
        ),
    ];

    for (path, body, status, ecode) in cases {
        let reply = call(&sandbox, Method::POST, &path, Some(body.clone())).await;

        assert_eq!(reply.status, status, "{path} {body}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{path} {body}");
    }
    let unshare_member = call(
        &sandbox,
        Method::DELETE,
        &format!("/v2/task/{}/guest/{bob}", seeded.task),
        None,
    )
    .await;
    assert_eq!(
        (unshare_member.status, unshare_member.body["ECODE"].clone()),
        (404, json!("GUEST_001"))
    );
    assert_eq!(sandbox.state().shares_of_user(dave), []);
    assert_eq!(sandbox.state().shares_of_user(bob), []);
    sandbox.stop().await;
}

#[tokio::test]
async fn guest_shares_are_enterprise_only() {
    let sandbox = start_on(Plan::Business).await;
    let seeded = seed(&sandbox);
    let dave = seeded.dave;
    let body = Some(json!({ "permission_level": "edit" }));
    let cases = [
        (
            Method::POST,
            format!("/v2/list/{}/guest/{dave}", seeded.list),
            body.clone(),
        ),
        (
            Method::DELETE,
            format!("/v2/list/{}/guest/{dave}", seeded.list),
            None,
        ),
        (
            Method::POST,
            format!("/v2/folder/{}/guest/{dave}", seeded.folder),
            body.clone(),
        ),
        (
            Method::DELETE,
            format!("/v2/folder/{}/guest/{dave}", seeded.folder),
            None,
        ),
        (
            Method::POST,
            format!("/v2/task/{}/guest/{dave}", seeded.task),
            body.clone(),
        ),
        (
            Method::DELETE,
            format!("/v2/task/{}/guest/{dave}", seeded.task),
            None,
        ),
    ];

    for (method, path, body) in cases {
        let reply = call(&sandbox, method.clone(), &path, body).await;

        assert_eq!(reply.status, 403, "{method} {path}");
        assert_eq!(reply.body["ECODE"], "PLAN_001", "{method} {path}");
    }
    assert_eq!(sandbox.state().shares_of_user(dave), []);
    sandbox.stop().await;
}

#[tokio::test]
async fn include_shared_false_leaves_the_shared_arrays_empty() {
    let sandbox = start_default().await;
    let seeded = seed(&sandbox);
    let dave = seeded.dave;
    let path = format!("/v2/list/{}/guest/{dave}", seeded.list);
    let cases = [
        ("", 1),
        ("?include_shared=true", 1),
        ("?include_shared=false", 0),
        ("?include_shared=FALSE", 0),
    ];

    for (query, lists) in cases {
        let reply = call(
            &sandbox,
            Method::POST,
            &format!("{path}{query}"),
            Some(json!({ "permission_level": "comment" })),
        )
        .await;

        assert_eq!(reply.status, 200, "{query}");
        assert_eq!(
            reply.body["guest"]["shared"]["lists"]
                .as_array()
                .map(Vec::len),
            Some(lists),
            "{query}"
        );
    }
    assert_eq!(
        sandbox.state().shares_of_user(dave),
        [share("list", &seeded.list, "comment", "guest")]
    );
    sandbox.stop().await;
}
