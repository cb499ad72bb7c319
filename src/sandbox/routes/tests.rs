//! Tests of the workspace reads, path-id checks and the JSON 404s.

use reqwest::Method;
use serde_json::json;

use super::super::{
    state::OWNER_EMAIL,
    testing::{call, listed_emails, owner_id, send, start, start_default, start_on, TEAM, TOKEN},
    Plan, Role, SandboxConfig,
};

#[tokio::test]
async fn get_user_returns_the_token_owner_with_an_integer_id() {
    let sandbox = start_default().await;

    let reply = call(&sandbox, Method::GET, "/v2/user", None).await;

    assert_eq!(reply.status, 200);
    let user = &reply.body["user"];
    assert!(user["id"].is_u64(), "{user}");
    assert_eq!(user["email"], OWNER_EMAIL);
    assert_eq!(user["username"], "Router Service");
    assert_eq!(user["initials"], "RS");
    assert_eq!(user["week_start_day"], 0);
    let owner = sandbox.state().find_by_email(OWNER_EMAIL).expect("owner");
    assert_eq!(user["id"].as_u64(), Some(owner.id));
    assert_eq!(owner.role, Role::Owner);
    sandbox.stop().await;
}

#[tokio::test]
async fn get_team_lists_members_and_guests_with_clickup_id_types() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let bob = state.add_member("bob@example.com", "Bob Builder", Role::Member);
    let dave = state.add_guest("dave@example.com", "Dave Guest");

    let reply = call(&sandbox, Method::GET, "/v2/team", None).await;

    assert_eq!(reply.status, 200);
    let team = &reply.body["teams"][0];
    assert_eq!(team["id"], json!(TEAM), "team id is a string");
    assert_eq!(team["name"], "Sandbox Workspace");
    let members = team["members"].as_array().expect("members");
    assert_eq!(members.len(), 3);
    let expected = [
        (owner_id(&sandbox).await, OWNER_EMAIL, 1),
        (bob, "bob@example.com", 3),
        (dave, "dave@example.com", 4),
    ];
    for (member, (id, email, role)) in members.iter().zip(expected) {
        let user = &member["user"];
        assert_eq!(user["id"], json!(id), "user id is an integer: {user}");
        assert_eq!(user["email"], email);
        assert_eq!(user["role"], role);
        for field in ["username", "color", "initials"] {
            assert!(user[field].is_string(), "{field} in {user}");
        }
        assert!(user.get("profilePicture").is_some(), "{user}");
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn plan_endpoint_reports_the_configured_plan() {
    let cases = [
        (Plan::Free, "Free Forever", 1),
        (Plan::Business, "Business", 3),
        (Plan::Enterprise, "Enterprise", 4),
    ];

    for (plan, name, id) in cases {
        let sandbox = start_on(plan).await;

        let reply = call(
            &sandbox,
            Method::GET,
            &format!("/v2/team/{TEAM}/plan"),
            None,
        )
        .await;

        assert_eq!(reply.status, 200, "{plan:?}");
        assert_eq!(reply.body, json!({ "plan_name": name, "plan_id": id }));
        sandbox.stop().await;
    }
}

#[tokio::test]
async fn seats_count_active_members_and_guests() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    state.add_member("bob@example.com", "Bob", Role::Admin);
    state.add_guest("dave@example.com", "Dave");

    let reply = call(
        &sandbox,
        Method::GET,
        &format!("/v2/team/{TEAM}/seats"),
        None,
    )
    .await;

    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({
            "members": {
                "filled_members_seats": 2,
                "total_member_seats": 2,
                "empty_member_seats": 0
            },
            "guests": {
                "filled_guest_seats": 1,
                "total_guest_seats": 10,
                "empty_guest_seats": 9
            }
        })
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn path_ids_are_checked_like_clickup() {
    let sandbox = start_default().await;
    let cases = [
        ("/v2/team/9012345678.0/plan", 500, "SHARD_001"),
        ("/v2/team/abc/seats", 500, "SHARD_001"),
        ("/v2/team/9012345678/user/12ab", 500, "SHARD_001"),
        ("/v2/team/-5/webhook", 500, "SHARD_001"),
        ("/v2/team/1234/plan", 401, "OAUTH_023"),
        ("/v2/team/1234/user/9001001", 401, "OAUTH_023"),
        ("/v2/team/1234/webhook", 401, "OAUTH_023"),
    ];

    for (path, status, ecode) in cases {
        let reply = call(&sandbox, Method::GET, path, None).await;

        assert_eq!(reply.status, status, "{path}: {:?}", reply.body);
        assert_eq!(reply.body["ECODE"], ecode, "{path}");
    }
    let reply = call(&sandbox, Method::GET, "/v2/team/9012345678.0/plan", None).await;
    assert_eq!(
        reply.body["err"],
        "invalid input syntax for integer: \"9012345678.0\""
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_a_json_404() {
    let sandbox = start_default().await;
    let cases = [
        (Method::GET, "/v2/nothing-here"),
        (Method::POST, "/v2/team"),
        (Method::PATCH, "/v2/webhook/abc"),
        (Method::GET, "/../outside"),
    ];

    for (method, path) in cases {
        let reply = call(&sandbox, method.clone(), path, None).await;

        assert_eq!(reply.status, 404, "{method} {path}");
        assert_eq!(reply.body["ECODE"], "ROUTE_001", "{method} {path}");
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn an_oauth_token_sees_the_same_workspace() {
    let sandbox = start(SandboxConfig {
        tokens: vec![TOKEN.to_owned(), "oauth_abc123".to_owned()],
        ..SandboxConfig::default()
    })
    .await;
    sandbox
        .state()
        .add_member("bob@example.com", "Bob", Role::Member);

    let reply = send(
        &sandbox,
        Some("Bearer oauth_abc123"),
        Method::GET,
        "/v2/team",
        None,
    )
    .await;

    assert_eq!(reply.status, 200);
    let emails = listed_emails(&sandbox).await;
    assert_eq!(emails, [OWNER_EMAIL, "bob@example.com"]);
    assert_eq!(
        reply.body["teams"][0]["members"].as_array().map(Vec::len),
        Some(2)
    );
    sandbox.stop().await;
}
