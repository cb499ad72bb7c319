//! Tests of the member endpoints: Enterprise gating, invite, edit, removal and not-found rules.

use reqwest::Method;
use serde_json::{json, Value};

use super::super::{
    state::OWNER_EMAIL,
    testing::{
        acl_path, call, entry, listed_emails, owner_id, send, start_default, start_on, TEAM, TOKEN,
    },
    Plan, Role,
};

fn user_path(id: u64) -> String {
    format!("/v2/team/{TEAM}/user/{id}")
}

#[tokio::test]
async fn enterprise_only_endpoints_are_refused_on_business() {
    let sandbox = start_on(Plan::Business).await;
    let bob = sandbox
        .state()
        .add_member("bob@example.com", "Bob", Role::Member);
    let dave = sandbox.state().add_guest("dave@example.com", "Dave");
    let invite = json!({ "email": "new@example.com", "admin": false });
    let edit = json!({ "username": "B", "admin": false, "custom_role_id": 998877 });
    let cases = [
        (Method::POST, format!("/v2/team/{TEAM}/user"), Some(invite)),
        (Method::GET, user_path(bob), None),
        (Method::PUT, user_path(bob), Some(edit)),
        (Method::DELETE, user_path(bob), None),
        (
            Method::POST,
            format!("/v2/team/{TEAM}/guest"),
            Some(json!({ "email": "g@example.com" })),
        ),
        (Method::GET, format!("/v2/team/{TEAM}/guest/{dave}"), None),
        (
            Method::PUT,
            format!("/v2/team/{TEAM}/guest/{dave}"),
            Some(json!({})),
        ),
        (
            Method::DELETE,
            format!("/v2/team/{TEAM}/guest/{dave}"),
            None,
        ),
    ];

    for (method, path, body) in cases {
        let reply = call(&sandbox, method.clone(), &path, body).await;

        assert_eq!(reply.status, 403, "{method} {path}");
        assert_eq!(reply.body["ECODE"], "PLAN_001", "{method} {path}");
        let message = reply.body["err"].as_str().unwrap_or_default();
        assert!(message.contains("Enterprise"), "{message}");
    }
    assert_eq!(sandbox.state().users().len(), 3, "nothing changed");
    let plan_read = call(
        &sandbox,
        Method::GET,
        &format!("/v2/team/{TEAM}/plan"),
        None,
    )
    .await;
    assert_eq!(plan_read.status, 200, "plan reads stay open on Business");
    sandbox.stop().await;
}

#[tokio::test]
async fn inviting_a_member_returns_the_team_with_the_pending_member() {
    let sandbox = start_default().await;
    let owner = owner_id(&sandbox).await;
    let body = json!({ "email": "carol@example.com", "admin": false, "custom_role_id": 998877 });

    let reply = call(
        &sandbox,
        Method::POST,
        &format!("/v2/team/{TEAM}/user"),
        Some(body),
    )
    .await;

    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let team = &reply.body["team"];
    assert_eq!(team["id"], TEAM);
    let member = &team["members"][0];
    let user = &member["user"];
    assert!(user["id"].is_u64(), "{user}");
    assert_eq!(user["username"], Value::Null);
    assert_eq!(user["initials"], "C");
    assert_eq!(user["role"], 3);
    assert_eq!(
        user["custom_role"],
        json!({ "id": 998877, "name": "member custom" })
    );
    assert_eq!(user["date_joined"], Value::Null);
    let invited = user["date_invited"].as_str().expect("ms string");
    assert!(invited.len() >= 13 && invited.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(member["invited_by"]["id"], json!(owner));
    assert_eq!(team["roles"].as_array().map(Vec::len), Some(7));
    let carol = sandbox
        .state()
        .find_by_email("CAROL@example.com")
        .expect("invited");
    assert_eq!(
        (Some(carol.id), carol.role),
        (user["id"].as_u64(), Role::Member)
    );

    let admin = json!({ "email": "erin@example.com", "admin": true });
    let reply = call(
        &sandbox,
        Method::POST,
        &format!("/v2/team/{TEAM}/user"),
        Some(admin),
    )
    .await;
    assert_eq!(reply.body["team"]["members"][0]["user"]["role"], 2);
    sandbox.stop().await;
}

#[tokio::test]
async fn inviting_an_active_email_again_is_refused() {
    let sandbox = start_default().await;
    sandbox
        .state()
        .add_member("bob@example.com", "Bob", Role::Member);
    let path = format!("/v2/team/{TEAM}/user");

    let reply = call(
        &sandbox,
        Method::POST,
        &path,
        Some(json!({ "email": "BOB@example.com", "admin": false })),
    )
    .await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["ECODE"], "USER_003");
    assert_eq!(sandbox.state().users().len(), 2);
    sandbox.stop().await;
}

#[tokio::test]
async fn invite_bodies_are_validated_like_clickup() {
    let sandbox = start_default().await;
    let path = format!("/v2/team/{TEAM}/user");
    let cases = [
        ("{}", "INPUT_001"),
        ("", "INPUT_001"),
        (r#"{"email":"x@example.com"}"#, "INPUT_001"),
        (r#"{"email":5,"admin":false}"#, "INPUT_002"),
        (r#"{"email":"x@example.com","admin":"no"}"#, "INPUT_002"),
        (
            r#"{"email":"x@example.com","admin":false,"custom_role_id":"998877"}"#,
            "INPUT_002",
        ),
        (r#"{"email":"not-an-email","admin":false}"#, "INPUT_004"),
        (
            r#"{"email":"x@example.com","admin":false,"custom_role_id":1}"#,
            "ROLE_001",
        ),
        ("[1]", "INPUT_003"),
        ("{broken", "INPUT_003"),
    ];

    for (raw, ecode) in cases {
        let reply = send(
            &sandbox,
            Some(TOKEN),
            Method::POST,
            &path,
            Some(raw.to_owned()),
        )
        .await;

        assert_eq!(reply.status, 400, "{raw}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{raw}");
    }
    assert_eq!(sandbox.state().find_by_email("x@example.com"), None);
    sandbox.stop().await;
}

#[tokio::test]
async fn editing_a_member_changes_name_role_and_custom_role() {
    let sandbox = start_default().await;
    let bob = sandbox
        .state()
        .add_member("bob@example.com", "Bob", Role::Member);
    let body = json!({ "username": "Robert Builder", "admin": true, "custom_role_id": 112233 });

    let reply = call(&sandbox, Method::PUT, &user_path(bob), Some(body)).await;

    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let user = &reply.body["member"]["user"];
    assert_eq!(user["id"], json!(bob));
    assert_eq!(user["username"], "Robert Builder");
    assert_eq!(user["initials"], "RB");
    assert_eq!(user["role"], 2);
    assert_eq!(user["custom_role"]["id"], 112233);
    assert_eq!(
        reply.body["member"]["shared"],
        json!({ "tasks": [], "lists": [], "folders": [] })
    );
    let stored = sandbox
        .state()
        .find_by_email("bob@example.com")
        .expect("bob");
    assert_eq!(
        (stored.role, stored.username.as_str()),
        (Role::Admin, "Robert Builder")
    );

    let incomplete = json!({ "username": "Bob", "admin": false });
    let reply = call(&sandbox, Method::PUT, &user_path(bob), Some(incomplete)).await;
    assert_eq!(
        (reply.status, reply.body["ECODE"].clone()),
        (400, json!("INPUT_001"))
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn a_built_in_role_id_changes_the_role_and_drops_the_custom_role() {
    let sandbox = start_default().await;
    let bob = sandbox
        .state()
        .add_member("bob@example.com", "Bob", Role::Member);
    let edit = |admin: bool, role_id: Value| json!({ "username": "Bob", "admin": admin, "custom_role_id": role_id });
    // (body, status, role and custom role shown after it, or the error code)
    let cases = [
        (edit(false, json!(998877)), 200, json!([3, 998877])),
        (edit(true, json!(2)), 200, json!([2, null])),
        (edit(false, json!(3)), 200, json!([3, null])),
        (edit(true, json!(1)), 400, json!("ROLE_001")),
        (edit(true, json!(4)), 400, json!("ROLE_001")),
        (edit(true, Value::Null), 400, json!("INPUT_001")),
    ];

    for (body, status, expected) in cases {
        let reply = call(&sandbox, Method::PUT, &user_path(bob), Some(body.clone())).await;

        assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        let user = &reply.body["member"]["user"];
        let shown = match status {
            200 => json!([user["role"], user["custom_role"]["id"]]),
            _ => reply.body["ECODE"].clone(),
        };
        assert_eq!(shown, expected, "{body}");
    }
    let stored = sandbox.state().find_by_email("bob@example.com").unwrap();
    assert_eq!(stored.role, Role::Member, "refused edits changed nothing");
    sandbox.stop().await;
}

#[tokio::test]
async fn get_member_shows_the_user_and_who_invited_them() {
    let sandbox = start_default().await;
    let bob = sandbox
        .state()
        .add_member("bob@example.com", "Bob Builder", Role::Member);

    let reply = call(&sandbox, Method::GET, &user_path(bob), None).await;

    assert_eq!(reply.status, 200);
    let member = &reply.body["member"];
    assert_eq!(member["user"]["email"], "bob@example.com");
    assert_eq!(member["user"]["role"], 3);
    assert!(member["user"]["date_joined"].is_string());
    assert_eq!(member["invited_by"]["email"], OWNER_EMAIL);
    sandbox.stop().await;
}

#[tokio::test]
async fn removing_a_member_deactivates_them_and_hides_them_from_the_team() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let bob = state.add_member("bob@example.com", "Bob", Role::Member);
    assert!(listed_emails(&sandbox)
        .await
        .contains(&"bob@example.com".to_owned()));

    let removed = call(&sandbox, Method::DELETE, &user_path(bob), None).await;
    let again = call(&sandbox, Method::DELETE, &user_path(bob), None).await;
    let read = call(&sandbox, Method::GET, &user_path(bob), None).await;

    assert_eq!(removed.status, 200);
    assert_eq!(
        removed.body,
        json!({ "team": {
            "id": TEAM,
            "name": "Sandbox Workspace",
            "color": "#8D00D4",
            "avatar": null,
            "members": []
        }})
    );
    assert_eq!(listed_emails(&sandbox).await, [OWNER_EMAIL]);
    assert_eq!(state.find_by_email("bob@example.com"), None);
    assert!(state.users().iter().all(|user| user.id != bob));
    for reply in [again, read] {
        assert_eq!(reply.status, 404);
        assert_eq!(reply.body["ECODE"], "USER_001");
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn guests_and_unknown_ids_are_not_found_on_the_member_endpoints() {
    let sandbox = start_default().await;
    let dave = sandbox.state().add_guest("dave@example.com", "Dave");

    for id in [dave, 424_242] {
        let reply = call(&sandbox, Method::DELETE, &user_path(id), None).await;

        assert_eq!(reply.status, 404, "{id}");
        assert_eq!(reply.body["ECODE"], "USER_001", "{id}");
    }
    assert!(sandbox.state().find_by_email("dave@example.com").is_some());
    sandbox.stop().await;
}

#[tokio::test]
async fn the_workspace_owner_cannot_be_removed() {
    let sandbox = start_default().await;
    let owner = owner_id(&sandbox).await;

    let reply = call(&sandbox, Method::DELETE, &user_path(owner), None).await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["ECODE"], "USER_002");
    assert!(sandbox.state().find_by_email(OWNER_EMAIL).is_some());
    sandbox.stop().await;
}

#[tokio::test]
async fn a_members_acl_shares_show_on_the_member_read_unless_excluded() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let space = state.add_space("Engineering");
    let list = state.add_list(&space, "Access Requests");
    let bob = state.add_member("bob@example.com", "Bob", Role::Member);
    let body = json!({ "entries": [entry("user", &bob.to_string(), json!(3))] });
    let patched = call(
        &sandbox,
        Method::PATCH,
        &acl_path("list", &list),
        Some(body),
    )
    .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    let cases = [
        ("?include_shared=true", Some("comment")),
        ("", Some("comment")),
        ("?include_shared=false", None),
    ];

    for (query, level) in cases {
        let path = format!("{}{query}", user_path(bob));
        let reply = call(&sandbox, Method::GET, &path, None).await;

        assert_eq!(reply.status, 200, "{path}");
        let shared = &reply.body["member"]["shared"];
        let lists = shared["lists"].as_array().expect("lists");
        assert_eq!(lists.len(), usize::from(level.is_some()), "{path}");
        if let Some(level) = level {
            assert_eq!(lists[0]["id"], list.as_str(), "{path}");
            assert_eq!(lists[0]["permission_level"], level, "{path}");
        }
        assert_eq!(shared["tasks"], json!([]), "{path}");
        assert_eq!(shared["folders"], json!([]), "{path}");
    }
    sandbox.stop().await;
}
