//! Tests of the v3 ACL endpoint: adding, changing and removing user and group entries on
//! every object type, the level vocabularies, and validation.

use reqwest::Method;
use serde_json::{json, Value};

use super::super::{
    testing::{acl, acl_path, call, entry, seed_hierarchy, share, start_default, TEAM},
    Role,
};

#[tokio::test]
async fn the_reference_request_sets_privacy_adds_and_removes_entries() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let [_, _, (_, list), _] = seed_hierarchy(&sandbox);
    let bob = state.add_member("bob@example.com", "Bob", Role::Member);
    let carol = state.add_member("carol@example.com", "Carol", Role::Member);
    let group = state.add_group("vpn-users", &[bob]);
    let first = json!({ "entries": [entry("user", &bob.to_string(), json!(3))] });
    call(
        &sandbox,
        Method::PATCH,
        &acl_path("list", &list),
        Some(first),
    )
    .await;
    let body = json!({
        "private": true,
        "entries": [
            entry("user", &carol.to_string(), json!(4)),
            entry("group", &group, json!(1)),
            entry("user", &bob.to_string(), Value::Null)
        ]
    });

    let reply = call(
        &sandbox,
        Method::PATCH,
        &acl_path("list", &list),
        Some(body),
    )
    .await;

    assert_eq!((reply.status, reply.body), (200, json!({})));
    let mut expected = vec![
        acl("group", &group, "read"),
        acl("user", &carol.to_string(), "edit"),
    ];
    expected.sort();
    assert_eq!(state.object_acl("list", &list), expected);
    assert!(state.is_private("list", &list));
    assert_eq!(state.shares_of_user(bob), []);
    assert_eq!(
        state.shares_of_user(carol),
        [share("list", &list, "edit", "acl")]
    );
    assert_eq!(
        state.shares_of_group(&group),
        [share("list", &list, "read", "acl")]
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn entries_are_added_changed_and_removed_on_every_object_type() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let bob = state.add_member("bob@example.com", "Bob", Role::Member);
    let dave = state.add_guest("dave@example.com", "Dave");
    let group = state.add_group("Platform", &[bob]);
    let (bob, dave) = (bob.to_string(), dave.to_string());
    let steps = [
        (json!(1), json!(5), "read", "create"),
        (json!(4), json!(3), "edit", "comment"),
    ];

    for (kind, id) in seed_hierarchy(&sandbox) {
        for (user_level, group_level, user_word, group_word) in steps.clone() {
            let body = json!({ "entries": [
                entry("user", &bob, user_level.clone()),
                entry("user", &dave, user_level),
                entry("group", &group, group_level)
            ]});
            let reply = call(&sandbox, Method::PATCH, &acl_path(kind, &id), Some(body)).await;

            assert_eq!(reply.status, 200, "{kind}: {:?}", reply.body);
            let mut expected = vec![
                acl("group", &group, group_word),
                acl("user", &bob, user_word),
                acl("user", &dave, user_word),
            ];
            expected.sort();
            assert_eq!(state.object_acl(kind, &id), expected, "{kind}");
        }

        let removal = json!({ "entries": [
            entry("user", &bob, Value::Null),
            entry("group", &group, Value::Null)
        ]});
        let reply = call(&sandbox, Method::PATCH, &acl_path(kind, &id), Some(removal)).await;
        assert_eq!(reply.status, 200, "{kind}");
        assert_eq!(
            state.object_acl(kind, &id),
            [acl("user", &dave, "edit")],
            "{kind}"
        );
        assert!(!state.is_private(kind, &id), "{kind}");
    }
    let dave_id: u64 = dave.parse().expect("numeric id");
    assert_eq!(state.shares_of_user(dave_id).len(), 4);
    assert_eq!(state.shares_of_group(&group), []);
    sandbox.stop().await;
}

/// ClickUp has no v2 guest endpoint for Spaces and points to the v3 ACL instead; the contract
/// limits neither the levels a guest may hold there nor who may be an entry.
#[tokio::test]
async fn a_guest_holds_a_space_at_every_level_and_loses_it_with_null() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let [(_, space), ..] = seed_hierarchy(&sandbox);
    let dave = state.add_guest("dave@example.com", "Dave");
    let levels = [(1, "read"), (3, "comment"), (4, "edit"), (5, "create")];

    for (number, word) in levels {
        let body = json!({ "entries": [entry("user", &dave.to_string(), json!(number))] });
        let reply = call(
            &sandbox,
            Method::PATCH,
            &acl_path("space", &space),
            Some(body),
        )
        .await;

        assert_eq!((reply.status, reply.body), (200, json!({})), "{number}");
        assert_eq!(
            state.shares_of_user(dave),
            [share("space", &space, word, "acl")],
            "{number}"
        );
    }

    let removal = json!({ "entries": [entry("user", &dave.to_string(), Value::Null)] });
    let reply = call(
        &sandbox,
        Method::PATCH,
        &acl_path("space", &space),
        Some(removal),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(state.shares_of_user(dave), []);
    sandbox.stop().await;
}

#[tokio::test]
async fn v3_numbers_and_v2_words_are_one_level_scale() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let [_, (_, folder), (_, list), _] = seed_hierarchy(&sandbox);
    let dave = state.add_guest("dave@example.com", "Dave");
    let cases = [(1, "read"), (3, "comment"), (4, "edit"), (5, "create")];

    for (number, word) in cases {
        let body = json!({ "entries": [entry("user", &dave.to_string(), json!(number))] });
        call(
            &sandbox,
            Method::PATCH,
            &acl_path("list", &list),
            Some(body),
        )
        .await;

        let read = call(
            &sandbox,
            Method::GET,
            &format!("/v2/team/{TEAM}/guest/{dave}"),
            None,
        )
        .await;
        assert_eq!(
            read.body["guest"]["shared"]["lists"][0]["permission_level"], word,
            "{number}"
        );
        assert_eq!(
            state.shares_of_user(dave),
            [share("list", &list, word, "acl")],
            "{number}"
        );
    }

    let v2 = call(
        &sandbox,
        Method::POST,
        &format!("/v2/folder/{folder}/guest/{dave}"),
        Some(json!({ "permission_level": "comment" })),
    )
    .await;
    assert_eq!(v2.status, 200);
    assert_eq!(
        state.object_acl("folder", &folder),
        [acl("user", &dave.to_string(), "comment")]
    );
    let body = json!({ "entries": [entry("user", &dave.to_string(), json!(4))] });
    call(
        &sandbox,
        Method::PATCH,
        &acl_path("folder", &folder),
        Some(body),
    )
    .await;
    assert_eq!(
        state.shares_of_user(dave),
        [
            share("folder", &folder, "edit", "acl"),
            share("list", &list, "create", "acl")
        ]
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn bad_entries_are_refused_and_nothing_is_applied() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let [_, _, (_, list), _] = seed_hierarchy(&sandbox);
    let bob = state.add_member("bob@example.com", "Bob", Role::Member);
    let gone = state.add_member("gone@example.com", "Gone", Role::Member);
    call(
        &sandbox,
        Method::DELETE,
        &format!("/v2/team/{TEAM}/user/{gone}"),
        None,
    )
    .await;
    let group = state.add_group("Ops", &[]);
    let ok = entry("user", &bob.to_string(), json!(4));
    let cases = [
        (
            json!([ok, entry("user", "424242", json!(1))]),
            404,
            "USER_001",
        ),
        (
            json!([ok, entry("user", &gone.to_string(), json!(1))]),
            404,
            "USER_001",
        ),
        (
            json!([ok, entry("group", "C9C58BE9", json!(1))]),
            404,
            "GROUP_001",
        ),
        (
            json!([ok, { "kind": "user", "id": bob, "permission_level": 4 }]),
            400,
            "INPUT_002",
        ),
        (
            json!([ok, entry("user", &bob.to_string(), json!(2))]),
            400,
            "INPUT_004",
        ),
        (
            json!([ok, entry("user", &bob.to_string(), json!("4"))]),
            400,
            "INPUT_002",
        ),
        (
            json!([ok, entry("user", &bob.to_string(), json!(4.5))]),
            400,
            "INPUT_002",
        ),
        (
            json!([ok, { "kind": "user", "id": bob.to_string() }]),
            400,
            "INPUT_001",
        ),
        (
            json!([ok, entry("team", &group, json!(1))]),
            400,
            "INPUT_004",
        ),
        (
            json!([ok, entry("user", "bob", json!(1))]),
            400,
            "INPUT_004",
        ),
        (
            json!([ok, { "id": group, "permission_level": 1 }]),
            400,
            "INPUT_001",
        ),
        (json!([ok, "user"]), 400, "INPUT_002"),
        (json!({ "kind": "user" }), 400, "INPUT_002"),
    ];

    for (entries, status, ecode) in cases {
        let body = json!({ "private": true, "entries": entries });
        let reply = call(
            &sandbox,
            Method::PATCH,
            &acl_path("list", &list),
            Some(body.clone()),
        )
        .await;

        assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{body}");
    }
    assert_eq!(state.object_acl("list", &list), []);
    assert!(!state.is_private("list", &list));
    let numeric = call(
        &sandbox,
        Method::PATCH,
        &acl_path("list", &list),
        Some(json!({ "entries": [{ "kind": "user", "id": bob, "permission_level": 4 }] })),
    )
    .await;
    assert_eq!(numeric.body["err"], "entries[0].id must be a string");
    sandbox.stop().await;
}

#[tokio::test]
async fn paths_are_checked_before_the_body() {
    let sandbox = start_default().await;
    let [(_, space), _, (_, list), _] = seed_hierarchy(&sandbox);
    let body = json!({ "private": false, "entries": [] });
    let cases = [
        (
            format!("/v3/workspaces/{TEAM}/view/{list}/acls"),
            400,
            "ACL_001",
        ),
        (
            format!("/v3/workspaces/{TEAM}/goal/{list}/acls"),
            400,
            "ACL_001",
        ),
        (acl_path("list", "999"), 404, "ITEM_015"),
        (acl_path("folder", "999"), 404, "FOLDER_001"),
        (acl_path("space", "999"), 404, "SPACE_001"),
        (acl_path("task", "nope1"), 404, "ITEM_013"),
        (acl_path("list", "1.5"), 500, "SHARD_001"),
        (
            format!("/v3/workspaces/1234/list/{list}/acls"),
            401,
            "OAUTH_023",
        ),
        (
            format!("/v3/workspaces/12.0/space/{space}/acls"),
            500,
            "SHARD_001",
        ),
    ];

    for (path, status, ecode) in cases {
        let reply = call(&sandbox, Method::PATCH, &path, Some(body.clone())).await;

        assert_eq!(reply.status, status, "{path}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{path}");
    }
    let view = format!("/v3/workspaces/{TEAM}/view/{list}/acls");
    let unsupported = call(&sandbox, Method::PATCH, &view, Some(body.clone())).await;
    assert!(unsupported.body["err"]
        .as_str()
        .unwrap_or_default()
        .contains("\"view\""));
    let privacy_only = call(
        &sandbox,
        Method::PATCH,
        &acl_path("space", &space),
        Some(json!({ "private": true })),
    )
    .await;
    assert_eq!((privacy_only.status, privacy_only.body), (200, json!({})));
    assert!(sandbox.state().is_private("space", &space));
    let spaces = call(
        &sandbox,
        Method::GET,
        &format!("/v2/team/{TEAM}/space"),
        None,
    )
    .await;
    assert_eq!(spaces.body["spaces"][0]["private"], true);
    sandbox.stop().await;
}
