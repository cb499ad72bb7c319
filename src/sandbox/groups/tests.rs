//! Tests of the user group endpoints: create, member diffs, the flat-array refusal, delete,
//! the filtered read and the state helpers.

use reqwest::Method;
use serde_json::{json, Value};

use super::super::{
    testing::{call, keys, owner_id, send, start_default, start_on, TEAM, TOKEN},
    Plan, Role, SandboxGroup,
};

fn member_ids(group: &Value) -> Vec<u64> {
    group["members"]
        .as_array()
        .expect("members array")
        .iter()
        .filter_map(|member| member["id"].as_u64())
        .collect()
}

#[tokio::test]
async fn creating_a_group_returns_the_group_object_on_any_plan() {
    for plan in [Plan::Free, Plan::Business, Plan::Enterprise] {
        let sandbox = start_on(plan).await;
        let state = sandbox.state();
        let alice = state.add_member("alice@example.com", "Alice Admin", Role::Admin);
        let dave = state.add_guest("dave@example.com", "Dave Guest");
        let body = json!({ "name": "vpn-users", "handle": "vpnusers", "members": [alice, dave] });

        let reply = call(
            &sandbox,
            Method::POST,
            &format!("/v2/team/{TEAM}/group"),
            Some(body),
        )
        .await;

        assert_eq!(reply.status, 200, "{plan:?}: {:?}", reply.body);
        let group = &reply.body;
        let id = group["id"].as_str().expect("string id");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        assert_eq!(group["team_id"], TEAM);
        assert_eq!(group["userid"], json!(owner_id(&sandbox).await));
        assert_eq!(group["name"], "vpn-users");
        assert_eq!(group["handle"], "vpnusers");
        assert_eq!(group["initials"], "V");
        let created = group["date_created"].as_str().expect("ms string");
        assert!(created.len() >= 13 && created.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(member_ids(group), [alice, dave]);
        let required = [
            "avatar",
            "date_created",
            "handle",
            "id",
            "initials",
            "members",
            "name",
            "team_id",
            "userid",
        ];
        assert_eq!(keys(group), required);
        let member_fields = [
            "color",
            "email",
            "id",
            "initials",
            "profilePicture",
            "username",
        ];
        assert_eq!(keys(&group["members"][1]), member_fields);
        let first = &group["members"][0];
        assert_eq!(first["email"], "alice@example.com");
        assert_eq!(first["username"], "Alice Admin");
        assert_eq!(first["initials"], "AA");
        assert!(first["color"].is_string() && first["profilePicture"].is_null());
        assert_eq!(
            group["avatar"],
            json!({ "attachment_id": null, "color": null, "source": null, "icon": null })
        );
        assert_eq!(
            state.groups(),
            [SandboxGroup {
                id: id.to_owned(),
                name: "vpn-users".to_owned(),
                handle: "vpnusers".to_owned(),
                members: vec![alice, dave],
            }]
        );
        sandbox.stop().await;
    }
}

#[tokio::test]
async fn group_create_bodies_are_validated() {
    let sandbox = start_default().await;
    let bob = sandbox
        .state()
        .add_member("bob@example.com", "Bob", Role::Member);
    let path = format!("/v2/team/{TEAM}/group");
    let cases = [
        ("{}".to_owned(), 400, "INPUT_001"),
        (r#"{"name":"Ops"}"#.to_owned(), 400, "INPUT_001"),
        (r#"{"members":[]}"#.to_owned(), 400, "INPUT_001"),
        (r#"{"name":7,"members":[]}"#.to_owned(), 400, "INPUT_002"),
        (
            format!(r#"{{"name":"Ops","members":["{bob}"]}}"#),
            400,
            "INPUT_002",
        ),
        (
            format!(r#"{{"name":"Ops","members":{bob}}}"#),
            400,
            "INPUT_002",
        ),
        (r#"{"name":"  ","members":[]}"#.to_owned(), 400, "INPUT_004"),
        (
            format!(r#"{{"name":"Ops","members":[{bob},424242]}}"#),
            400,
            "GROUP_002",
        ),
        ("[1]".to_owned(), 400, "INPUT_003"),
    ];

    for (raw, status, ecode) in cases {
        let reply = send(
            &sandbox,
            Some(TOKEN),
            Method::POST,
            &path,
            Some(raw.clone()),
        )
        .await;

        assert_eq!(reply.status, status, "{raw}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{raw}");
    }
    let unknown = send(
        &sandbox,
        Some(TOKEN),
        Method::POST,
        &path,
        Some(format!(r#"{{"name":"Ops","members":[{bob},424242]}}"#)),
    )
    .await;
    assert_eq!(unknown.body["err"], "Users not in the Workspace: 424242");
    assert_eq!(sandbox.state().groups(), []);
    sandbox.stop().await;
}

#[tokio::test]
async fn groups_are_created_only_in_the_authorised_team() {
    let sandbox = start_default().await;
    let body = json!({ "name": "Ops", "members": [] });
    let cases = [
        ("/v2/team/1234/group", 401, "OAUTH_023"),
        ("/v2/team/12.5/group", 500, "SHARD_001"),
    ];

    for (path, status, ecode) in cases {
        let reply = call(&sandbox, Method::POST, path, Some(body.clone())).await;

        assert_eq!(reply.status, status, "{path}");
        assert_eq!(reply.body["ECODE"], ecode, "{path}");
    }
    assert_eq!(sandbox.state().groups(), []);
    sandbox.stop().await;
}

#[tokio::test]
async fn updating_a_group_applies_the_member_diff_and_renames() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let alice = state.add_member("alice@example.com", "Alice", Role::Admin);
    let bob = state.add_member("bob@example.com", "Bob", Role::Member);
    let carol = state.add_member("carol@example.com", "Carol", Role::Member);
    let id = state.add_group("VPN users", &[alice, bob]);
    let path = format!("/v2/group/{id}");
    let cases = [
        (
            json!({ "members": { "add": [carol], "rem": [bob] } }),
            vec![alice, carol],
        ),
        (
            json!({ "members": { "add": [alice], "rem": [] } }),
            vec![alice, carol],
        ),
        (
            json!({ "members": { "add": [], "rem": [424242, carol] } }),
            vec![alice],
        ),
        (
            json!({ "members": { "add": [bob, carol], "rem": [alice] } }),
            vec![bob, carol],
        ),
        (json!({ "name": "VPN admins" }), vec![bob, carol]),
    ];

    for (body, expected) in cases {
        let reply = call(&sandbox, Method::PUT, &path, Some(body.clone())).await;

        assert_eq!(reply.status, 200, "{body}: {:?}", reply.body);
        assert_eq!(member_ids(&reply.body), expected, "{body}");
        assert_eq!(state.group_members(&id), Some(expected), "{body}");
    }
    let renamed = call(
        &sandbox,
        Method::PUT,
        &path,
        Some(json!({ "handle": "vpn-admins" })),
    )
    .await;
    assert_eq!(renamed.body["name"], "VPN admins");
    assert_eq!(renamed.body["initials"], "VA");
    assert_eq!(renamed.body["handle"], "vpn-admins");
    assert_eq!(state.group_members("VPN admins"), Some(vec![bob, carol]));
    sandbox.stop().await;
}

#[tokio::test]
async fn a_flat_member_array_and_bad_diffs_are_refused_without_changes() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let alice = state.add_member("alice@example.com", "Alice", Role::Admin);
    let bob = state.add_member("bob@example.com", "Bob", Role::Member);
    let id = state.add_group("Ops", &[alice]);
    let cases = [
        (
            json!({ "name": "Renamed", "members": [bob] }),
            400,
            "INPUT_002",
        ),
        (json!({ "members": { "add": [bob] } }), 400, "INPUT_001"),
        (
            json!({ "members": { "add": [], "rem": [String::from("1")] } }),
            400,
            "INPUT_002",
        ),
        (
            json!({ "members": { "add": [424242], "rem": [] } }),
            400,
            "GROUP_002",
        ),
        (json!({ "handle": 5 }), 400, "INPUT_002"),
    ];

    for (body, status, ecode) in cases {
        let reply = call(
            &sandbox,
            Method::PUT,
            &format!("/v2/group/{id}"),
            Some(body.clone()),
        )
        .await;

        assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{body}");
    }
    let flat = call(
        &sandbox,
        Method::PUT,
        &format!("/v2/group/{id}"),
        Some(json!({ "members": [bob] })),
    )
    .await;
    assert_eq!(
        flat.body["err"],
        "members must be an object with add and rem arrays"
    );
    let group = &state.groups()[0];
    assert_eq!(
        (group.name.as_str(), group.members.clone()),
        ("Ops", vec![alice])
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn deleting_a_group_answers_an_empty_object_and_unknown_ids_are_404() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let keep = state.add_group("Keep", &[]);
    let gone = state.add_group("Gone", &[]);

    let deleted = call(&sandbox, Method::DELETE, &format!("/v2/group/{gone}"), None).await;
    let cases = [
        (Method::DELETE, format!("/v2/group/{gone}")),
        (Method::PUT, format!("/v2/group/{gone}")),
        (Method::PUT, "/v2/group/C9C58BE9".to_owned()),
    ];

    assert_eq!((deleted.status, deleted.body), (200, json!({})));
    for (method, path) in cases {
        let reply = call(
            &sandbox,
            method.clone(),
            &path,
            Some(json!({ "name": "X" })),
        )
        .await;

        assert_eq!(reply.status, 404, "{method} {path}");
        assert_eq!(reply.body["ECODE"], "GROUP_001", "{method} {path}");
    }
    let ids: Vec<String> = state.groups().into_iter().map(|group| group.id).collect();
    assert_eq!(ids, [keep]);
    sandbox.stop().await;
}

#[tokio::test]
async fn get_groups_requires_team_id_and_filters_by_group_ids() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let bob = state.add_member("bob@example.com", "Bob", Role::Member);
    let first = state.add_group("Product team", &[bob]);
    let second = state.add_group("HR department", &[]);
    let third = state.add_group("Finance", &[]);
    let upper = second.to_uppercase();
    let cases = [
        (
            format!("/v2/group?team_id={TEAM}"),
            vec![&first, &second, &third],
        ),
        (
            format!("/v2/group?team_id={TEAM}&group_ids={third}"),
            vec![&third],
        ),
        (
            format!("/v2/group?team_id={TEAM}&group_ids={upper}&group_ids={first}"),
            vec![&first, &second],
        ),
        (format!("/v2/group?team_id={TEAM}&group_ids=nope"), vec![]),
    ];

    for (path, expected) in cases {
        let reply = call(&sandbox, Method::GET, &path, None).await;

        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
        let ids: Vec<&str> = reply.body["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .filter_map(|group| group["id"].as_str())
            .collect();
        let expected: Vec<&str> = expected.into_iter().map(String::as_str).collect();
        assert_eq!(ids, expected, "{path}");
    }
    let listed = call(
        &sandbox,
        Method::GET,
        &format!("/v2/group?team_id={TEAM}"),
        None,
    )
    .await;
    assert_eq!(listed.body["groups"][0]["initials"], "PT");
    assert_eq!(member_ids(&listed.body["groups"][0]), [bob]);
    let errors = [
        ("/v2/group", 400, "INPUT_001"),
        ("/v2/group?group_ids=x", 400, "INPUT_001"),
        ("/v2/group?team_id=1234", 401, "OAUTH_023"),
        ("/v2/group?team_id=abc", 500, "SHARD_001"),
    ];
    for (path, status, ecode) in errors {
        let reply = call(&sandbox, Method::GET, path, None).await;

        assert_eq!(reply.status, status, "{path}");
        assert_eq!(reply.body["ECODE"], ecode, "{path}");
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn state_helpers_seed_groups_with_default_handles() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let bob = state.add_member("bob@example.com", "Bob", Role::Member);

    let id = state.add_group("VPN Users 2", &[bob, bob]);

    assert_eq!(state.group_members(&id), Some(vec![bob]));
    assert_eq!(state.group_members("VPN Users 2"), Some(vec![bob]));
    assert_eq!(state.group_members(&id.to_uppercase()), Some(vec![bob]));
    assert_eq!(state.group_members("nope"), None);
    assert_eq!(state.groups()[0].handle, "vpnusers2");
    let read = call(
        &sandbox,
        Method::GET,
        &format!("/v2/group?team_id={TEAM}"),
        None,
    )
    .await;
    assert_eq!(read.body["groups"][0]["handle"], "vpnusers2");
    sandbox.stop().await;
}
