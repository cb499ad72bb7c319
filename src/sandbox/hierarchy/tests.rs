//! Tests of the hierarchy: seeding with generated and explicit ids, the Space, Folder, List
//! and task reads, and their not-found answers.

use reqwest::Method;
use serde_json::json;

use super::super::{
    testing::{call, start_default, TEAM},
    ListParent, SandboxConfig, SandboxState,
};

fn state() -> SandboxState {
    SandboxState::new(&SandboxConfig::default())
}

#[tokio::test]
async fn seeded_hierarchy_reads_back_with_clickup_id_types() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let space_id = state.add_space("Engineering");
    let list_id = state.add_list(&space_id, "Backlog");
    let task_id = state.add_task(&list_id, "Rotate keys");

    let spaces = call(&sandbox, Method::GET, "/v2/team/9012345678/space", None).await;
    let lists = call(
        &sandbox,
        Method::GET,
        &format!("/v2/space/{space_id}/list"),
        None,
    )
    .await;
    let tasks = call(
        &sandbox,
        Method::GET,
        &format!("/v2/list/{list_id}/task"),
        None,
    )
    .await;
    let task = call(&sandbox, Method::GET, &format!("/v2/task/{task_id}"), None).await;

    assert_eq!(spaces.body["spaces"][0]["id"], space_id.as_str());
    assert_eq!(spaces.body["spaces"][0]["private"], false);
    assert_eq!(lists.body["lists"][0]["id"], list_id.as_str());
    assert_eq!(lists.body["lists"][0]["task_count"], "1");
    assert_eq!(lists.body["lists"][0]["folder"]["hidden"], true);
    assert_eq!(tasks.body["tasks"][0]["id"], task_id.as_str());
    assert_eq!(task.body["name"], "Rotate keys");
    assert_eq!(task.body["list"]["id"], list_id.as_str());
    assert_eq!(task.body["space"]["id"], space_id.as_str());
    assert_eq!(task.body["team_id"], "9012345678");
    assert_eq!(task.body["permission_level"], "create");
    assert!(task.body["creator"]["id"].is_u64());
    assert!(task_id.starts_with("86abc") && task_id.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(space_id.parse::<u64>().is_ok() && list_id.parse::<u64>().is_ok());
    sandbox.stop().await;
}

#[tokio::test]
async fn folders_and_their_lists_read_back_in_clickup_shapes() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let space = state.add_space("Engineering");
    let folder = state.add_folder(&space, "Platform");
    let other = state.add_folder(&space, "Security");
    let first = state.add_list_in_folder(&folder, "Access Requests");
    let second = state.add_list_in_folder(&folder, "Audits");
    let folderless = state.add_list(&space, "Inbox");
    state.add_task(&first, "Grant VPN");
    state.add_task(&second, "Review");
    state.add_task(&second, "Sign off");

    let folders = call(
        &sandbox,
        Method::GET,
        &format!("/v2/space/{space}/folder"),
        None,
    )
    .await;
    let in_folder = call(
        &sandbox,
        Method::GET,
        &format!("/v2/folder/{folder}/list"),
        None,
    )
    .await;
    let in_space = call(
        &sandbox,
        Method::GET,
        &format!("/v2/space/{space}/list"),
        None,
    )
    .await;

    assert_eq!(folders.status, 200, "{:?}", folders.body);
    let listed = &folders.body["folders"];
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    let platform = &listed[0];
    assert_eq!(platform["id"], folder.as_str());
    assert_eq!(platform["name"], "Platform");
    assert_eq!(platform["orderindex"], 0);
    assert_eq!(platform["hidden"], false);
    assert_eq!(platform["override_statuses"], false);
    assert_eq!(platform["task_count"], "3");
    assert_eq!(
        platform["space"],
        json!({ "id": space, "name": "Engineering", "access": true })
    );
    assert_eq!(platform["lists"][1]["id"], second.as_str());
    assert_eq!(platform["lists"][1]["task_count"], "2");
    assert_eq!(
        (listed[1]["id"].clone(), listed[1]["orderindex"].clone()),
        (json!(other), json!(1))
    );

    let lists = in_folder.body["lists"].as_array().expect("lists");
    let ids: Vec<&str> = lists.iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);
    assert_eq!(
        lists[0]["folder"],
        json!({ "id": folder, "name": "Platform", "hidden": false, "access": true })
    );
    assert_eq!(lists[0]["space"]["id"], space.as_str());
    assert_eq!(lists[1]["orderindex"], 1);
    assert_eq!(in_space.body["lists"].as_array().map(Vec::len), Some(1));
    assert_eq!(in_space.body["lists"][0]["id"], folderless.as_str());
    sandbox.stop().await;
}

#[tokio::test]
async fn a_task_in_a_folder_list_names_the_folder_and_the_space() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let space = state.add_space("Ops");
    let folder = state.add_folder(&space, "Runbooks");
    let list = state.add_list_in_folder(&folder, "Pages");
    let task = state.add_task(&list, "Rotate pager");

    let reply = call(&sandbox, Method::GET, &format!("/v2/task/{task}"), None).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["folder"]["id"], folder.as_str());
    assert_eq!(reply.body["folder"]["hidden"], false);
    assert_eq!(reply.body["project"]["name"], "Runbooks");
    assert_eq!(reply.body["space"]["id"], space.as_str());
    sandbox.stop().await;
}

#[tokio::test]
async fn explicit_ids_are_served_as_given() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    state.insert_space("1427", "Rules Space").expect("space");
    state
        .insert_folder("457", "1427", "Rules Folder")
        .expect("folder");
    state
        .insert_list(
            "901100000001",
            ListParent::Folder("457".to_owned()),
            "Access Requests",
        )
        .expect("list in folder");
    state
        .insert_list("124", ListParent::Space("1427".to_owned()), "Folderless")
        .expect("folderless list");

    let folders = call(&sandbox, Method::GET, "/v2/space/1427/folder", None).await;
    let lists = call(&sandbox, Method::GET, "/v2/folder/457/list", None).await;
    let folderless = call(&sandbox, Method::GET, "/v2/space/1427/list", None).await;

    assert_eq!(folders.body["folders"][0]["id"], "457");
    assert_eq!(folders.body["folders"][0]["space"]["id"], "1427");
    assert_eq!(lists.body["lists"][0]["id"], "901100000001");
    assert_eq!(lists.body["lists"][0]["space"]["name"], "Rules Space");
    assert_eq!(folderless.body["lists"][0]["id"], "124");
    let generated = state.add_space("Generated");
    assert_ne!(generated, "1427");
    sandbox.stop().await;
}

#[test]
fn explicit_ids_that_clash_or_dangle_are_refused() {
    let state = state();
    state.insert_space("100", "Space").expect("space");
    state.insert_folder("200", "100", "Folder").expect("folder");
    state
        .insert_list("300", ListParent::Space("100".to_owned()), "List")
        .expect("list");
    let cases = [
        (
            "space again",
            state.insert_space("100", "Again"),
            "already in use",
        ),
        (
            "space not numeric",
            state.insert_space("12a", "X"),
            "numeric string",
        ),
        ("space empty", state.insert_space("", "X"), "numeric string"),
        (
            "folder again",
            state.insert_folder("200", "100", "X"),
            "already in use",
        ),
        (
            "folder without space",
            state.insert_folder("201", "999", "X"),
            "no Space 999",
        ),
        (
            "list again",
            state.insert_list("300", ListParent::Folder("200".to_owned()), "X"),
            "already in use",
        ),
        (
            "list without folder",
            state.insert_list("301", ListParent::Folder("999".to_owned()), "X"),
            "no Folder 999",
        ),
        (
            "list without space",
            state.insert_list("302", ListParent::Space("999".to_owned()), "X"),
            "no Space 999",
        ),
        (
            "list not numeric",
            state.insert_list("3.5", ListParent::Space("100".to_owned()), "X"),
            "numeric string",
        ),
    ];

    for (name, outcome, expected) in cases {
        let error = outcome.expect_err(name).to_string();
        assert!(error.contains(expected), "{name}: {error}");
    }
}

#[test]
fn generated_ids_skip_explicit_ones() {
    let state = state();
    // The explicit Space takes number 1 for its hidden folder, so the next generated Space
    // would be 90110000002 and the Folder after it 90130000005: both are taken here.
    state.insert_space("90110000002", "Taken").expect("space");
    state
        .insert_folder("90130000005", "90110000002", "Taken")
        .expect("folder");

    let space = state.add_space("Fresh");
    let folder = state.add_folder(&space, "Fresh");

    assert_eq!(space, "90110000003");
    assert_eq!(folder, "90130000006");
}

#[tokio::test]
async fn unknown_hierarchy_ids_answer_clickup_errors() {
    let sandbox = start_default().await;
    let cases = [
        ("/v2/space/123/list", 401, "OAUTH_023"),
        ("/v2/space/123/folder", 401, "OAUTH_023"),
        ("/v2/folder/123/list", 401, "OAUTH_023"),
        ("/v2/space/12.5/list", 500, "SHARD_001"),
        ("/v2/space/x/folder", 500, "SHARD_001"),
        ("/v2/folder/1e3/list", 500, "SHARD_001"),
        ("/v2/list/123/task", 404, "ITEM_015"),
        ("/v2/list/123", 404, "ITEM_015"),
        ("/v2/task/nope1", 401, "ITEM_013"),
    ];

    for (path, status, ecode) in cases {
        let reply = call(&sandbox, Method::GET, path, None).await;
        assert_eq!(reply.status, status, "{path}");
        assert_eq!(reply.body["ECODE"], ecode, "{path}");
    }
    let spaces = call(
        &sandbox,
        Method::GET,
        &format!("/v2/team/{TEAM}/space"),
        None,
    )
    .await;
    assert_eq!(spaces.body, json!({ "spaces": [] }));
    sandbox.stop().await;
}

#[tokio::test]
async fn a_folder_reads_back_with_its_space_and_an_unknown_one_is_not_authorised() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let space = state.add_space("Finance");
    let folder = state.add_folder(&space, "Close");
    let list = state.add_list_in_folder(&folder, "Ledger");

    let read = call(&sandbox, Method::GET, &format!("/v2/folder/{folder}"), None).await;
    let unknown = call(&sandbox, Method::GET, "/v2/folder/999999999", None).await;

    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(read.body["id"], folder.as_str());
    assert_eq!(read.body["space"]["id"], space.as_str());
    assert_eq!(read.body["lists"][0]["id"], list.as_str());
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.body["ECODE"], "OAUTH_023");
    sandbox.stop().await;
}
