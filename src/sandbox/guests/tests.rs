//! Tests of the guest endpoints: invite, read, edit, removal and not-found rules.

use reqwest::Method;
use serde_json::json;

use super::super::{
    state::OWNER_EMAIL,
    testing::{call, listed_emails, start_default, TEAM},
    Role,
};

fn guest_path(id: u64) -> String {
    format!("/v2/team/{TEAM}/guest/{id}")
}

#[tokio::test]
async fn inviting_a_guest_returns_role_4_and_the_permission_flags() {
    let sandbox = start_default().await;
    let body = json!({
        "email": "dave.guest@example.com",
        "can_edit_tags": true,
        "can_see_time_spent": false,
        "can_create_views": true
    });

    let reply = call(
        &sandbox,
        Method::POST,
        &format!("/v2/team/{TEAM}/guest"),
        Some(body),
    )
    .await;

    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let entry = &reply.body["team"]["members"][0];
    assert!(entry["user"]["id"].is_u64());
    assert_eq!(entry["user"]["role"], 4);
    assert_eq!(entry["user"]["email"], "dave.guest@example.com");
    assert_eq!(entry["invited_by"]["email"], OWNER_EMAIL);
    let flags = [
        ("can_edit_tags", true),
        ("can_see_time_spent", false),
        ("can_see_time_estimated", false),
        ("can_create_views", true),
        ("can_see_points_estimated", false),
    ];
    for (flag, value) in flags {
        assert_eq!(entry[flag], value, "{flag}");
    }
    assert!(reply.body["team"]["roles"].is_array());
    let guest = sandbox
        .state()
        .find_by_email("dave.guest@example.com")
        .expect("guest");
    assert_eq!(guest.role, Role::Guest);
    assert!(listed_emails(&sandbox).await.contains(&guest.email));
    sandbox.stop().await;
}

#[tokio::test]
async fn guest_invite_bodies_are_validated() {
    let sandbox = start_default().await;
    let path = format!("/v2/team/{TEAM}/guest");
    let cases = [
        (json!({}), "INPUT_001"),
        (
            json!({ "email": "g@example.com", "can_edit_tags": "yes" }),
            "INPUT_002",
        ),
        (
            json!({ "email": "g@example.com", "custom_role_id": 5 }),
            "ROLE_001",
        ),
        (json!({ "email": OWNER_EMAIL }), "USER_003"),
    ];

    for (body, ecode) in cases {
        let reply = call(&sandbox, Method::POST, &path, Some(body.clone())).await;

        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.body["ECODE"], ecode, "{body}");
    }
    assert_eq!(sandbox.state().find_by_email("g@example.com"), None);
    sandbox.stop().await;
}

#[tokio::test]
async fn get_and_edit_guest_show_the_guest_object() {
    let sandbox = start_default().await;
    let dave = sandbox.state().add_guest("dave@example.com", "Dave Guest");

    let read = call(&sandbox, Method::GET, &guest_path(dave), None).await;
    let edit = json!({ "can_see_time_estimated": true, "custom_role_id": 12345 });
    let edited = call(&sandbox, Method::PUT, &guest_path(dave), Some(edit)).await;
    let bad = call(
        &sandbox,
        Method::PUT,
        &guest_path(dave),
        Some(json!({ "can_edit_tags": 1 })),
    )
    .await;

    assert_eq!(read.status, 200);
    assert_eq!(read.body["guest"]["user"]["id"], json!(dave));
    assert_eq!(read.body["guest"]["can_see_time_estimated"], false);
    assert_eq!(read.body["guest"]["shared"]["lists"], json!([]));
    assert_eq!(edited.status, 200);
    assert_eq!(edited.body["guest"]["can_see_time_estimated"], true);
    assert_eq!(edited.body["guest"]["can_edit_tags"], false);
    assert_eq!(
        edited.body["guest"]["user"]["custom_role"]["name"],
        "guest custom"
    );
    assert_eq!(
        (bad.status, bad.body["ECODE"].clone()),
        (400, json!("INPUT_002"))
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn removing_a_guest_revokes_access_and_a_second_removal_is_not_found() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let dave = state.add_guest("dave@example.com", "Dave");

    let removed = call(&sandbox, Method::DELETE, &guest_path(dave), None).await;
    let again = call(&sandbox, Method::DELETE, &guest_path(dave), None).await;

    assert_eq!(removed.status, 200);
    assert_eq!(removed.body["team"]["id"], TEAM);
    assert_eq!(removed.body["team"]["members"], json!([]));
    assert_eq!(again.status, 404);
    assert_eq!(again.body["ECODE"], "GUEST_001");
    assert_eq!(listed_emails(&sandbox).await, [OWNER_EMAIL]);
    assert_eq!(state.find_by_email("dave@example.com"), None);
    sandbox.stop().await;
}

#[tokio::test]
async fn members_and_unknown_ids_are_not_found_on_the_guest_endpoints() {
    let sandbox = start_default().await;
    let bob = sandbox
        .state()
        .add_member("bob@example.com", "Bob", Role::Member);

    for (method, id) in [
        (Method::DELETE, bob),
        (Method::GET, bob),
        (Method::DELETE, 424_242),
    ] {
        let reply = call(&sandbox, method.clone(), &guest_path(id), None).await;

        assert_eq!(reply.status, 404, "{method} {id}");
        assert_eq!(reply.body["ECODE"], "GUEST_001", "{method} {id}");
    }
    assert!(sandbox.state().find_by_email("bob@example.com").is_some());
    sandbox.stop().await;
}
