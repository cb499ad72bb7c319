//! Tests of the audit log: API and hand changes recorded with their actor, the owner and
//! plan gates, filters and pagination.

use reqwest::Method;
use serde_json::{json, Value};

use crate::sandbox::{
    testing::{call, owner_id, send, start_default, start_on, TEAM, TOKEN},
    Plan, Role,
};

const PATH: &str = "/v3/workspaces/9012345678/auditlogs";

fn types(reply: &Value) -> Vec<&str> {
    reply["data"]
        .as_array()
        .expect("a data array")
        .iter()
        .map(|e| e["eventType"].as_str().expect("a type"))
        .collect()
}

async fn query(sandbox: &crate::sandbox::Sandbox, body: Value) -> Value {
    let reply = call(sandbox, Method::POST, PATH, Some(body)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

#[tokio::test]
async fn api_and_hand_changes_are_logged_with_who_made_them() {
    let sandbox = start_default().await;
    let owner = owner_id(&sandbox).await;
    let state = sandbox.state();
    let admin = state.add_member("ada@example.com", "Ada Admin", Role::Admin);
    let group = state.add_group("finance", &[]);
    let list = state.add_list(&state.add_space("Finance"), "Budgets");

    let invited = call(
        &sandbox,
        Method::POST,
        &format!("/v2/team/{TEAM}/user"),
        Some(json!({ "email": "api@example.com", "admin": false })),
    )
    .await;
    assert_eq!(invited.status, 200);
    let by_hand = sandbox
        .as_user(admin)
        .invite("hand@example.com", Role::Member)
        .unwrap();
    sandbox
        .as_user(admin)
        .add_to_group(&group, by_hand)
        .unwrap();
    sandbox
        .as_user(admin)
        .share("list", &list, by_hand, "edit")
        .unwrap();
    sandbox
        .as_user(admin)
        .change_role(by_hand, Role::Admin)
        .unwrap();

    let auth = query(
        &sandbox,
        json!({ "applicability": "auth-and-security", "pagination": { "pageDirection": "after" } }),
    )
    .await;
    let hierarchy = query(&sandbox, json!({ "applicability": "hierarchy-activity" })).await;

    assert_eq!(
        types(&auth),
        [
            "INVITE_TO_WORKSPACE",
            "INVITE_TO_WORKSPACE",
            "TEAM_MEMBER_ADDED",
            "CHANGE_USER_ROLE"
        ]
    );
    let rows = auth["data"].as_array().unwrap();
    assert_eq!(rows[0]["actor"]["id"], json!(owner.to_string()));
    assert_eq!(rows[1]["actor"]["id"], json!(admin.to_string()));
    assert_eq!(rows[1]["target"]["id"], json!(by_hand.to_string()));
    assert_eq!(rows[1]["target"]["role"], json!(3));
    assert_eq!(rows[2]["group"], json!({ "id": group, "name": "finance" }));
    assert_eq!(rows[3]["target"]["role"], json!(2));
    assert_eq!(
        hierarchy["data"][0]["object"],
        json!({ "type": "list", "id": list, "permissionLevel": "edit" })
    );
    assert!(rows
        .iter()
        .all(|r| r["timestamp"].is_u64() && r["id"].is_string()));
}

#[tokio::test]
async fn a_member_without_admin_rights_cannot_act_by_hand() {
    let sandbox = start_default().await;
    let member = sandbox
        .state()
        .add_member("mo@example.com", "Mo Member", Role::Member);

    let refused = sandbox
        .as_user(member)
        .invite("x@example.com", Role::Member);

    assert!(refused.is_err());
    assert!(sandbox.state().audit_log_types().is_empty());
}

#[tokio::test]
async fn only_the_owner_on_enterprise_may_read_it() {
    let sandbox = start_on(Plan::Business).await;
    let body = json!({ "applicability": "auth-and-security" }).to_string();

    let on_business = send(
        &sandbox,
        Some(TOKEN),
        Method::POST,
        PATH,
        Some(body.clone()),
    )
    .await;

    assert_eq!(on_business.status, 403);
    assert_eq!(on_business.body["ECODE"], "PLAN_001");

    let sandbox = start_default().await;
    let member = sandbox
        .state()
        .add_member("mo@example.com", "Mo Member", Role::Admin);
    sandbox.state().add_user_token("pk_member_token", member);

    let not_owner = send(
        &sandbox,
        Some("pk_member_token"),
        Method::POST,
        PATH,
        Some(body),
    )
    .await;

    assert_eq!(not_owner.status, 401);
    assert_eq!(not_owner.body["ECODE"], "TEAM_025");
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_field() {
    let sandbox = start_default().await;
    let cases = [
        (json!({}), "applicability"),
        (json!({ "applicability": "everything" }), "applicability"),
        (
            json!({ "applicability": "auth-and-security", "pagination": { "pageRows": 0 } }),
            "pageRows",
        ),
        (
            json!({ "applicability": "auth-and-security", "pagination": { "pageDirection": "up" } }),
            "pageDirection",
        ),
        (
            json!({ "applicability": "auth-and-security", "filter": { "startTime": "today" } }),
            "startTime",
        ),
    ];
    for (body, field) in cases {
        let reply = call(&sandbox, Method::POST, PATH, Some(body.clone())).await;

        assert_eq!(reply.status, 400, "{body}");
        assert!(
            reply.body["err"].as_str().unwrap().contains(field),
            "{body}: {}",
            reply.body
        );
    }
}

#[tokio::test]
async fn filters_and_pages_follow_the_request() {
    let sandbox = start_default().await;
    let state = sandbox.state();
    let admin = state.add_member("ada@example.com", "Ada Admin", Role::Admin);
    let mut invited = Vec::new();
    for n in 0..5 {
        let id = sandbox
            .as_user(admin)
            .invite(&format!("p{n}@example.com"), Role::Member)
            .unwrap();
        invited.push(id);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    sandbox
        .as_user(admin)
        .change_role(invited[0], Role::Admin)
        .unwrap();

    let by_type = query(
        &sandbox,
        json!({ "applicability": "auth-and-security", "filter": { "eventType": "CHANGE_USER_ROLE" } }),
    )
    .await;
    let by_email = query(
        &sandbox,
        json!({ "applicability": "auth-and-security", "filter": { "userEmail": ["P3@example.com"] } }),
    )
    .await;
    let first_page = query(
        &sandbox,
        json!({ "applicability": "auth-and-security",
                "pagination": { "pageRows": 2, "pageTimestamp": 0, "pageDirection": "after" } }),
    )
    .await;
    let resume = first_page["pagination"]["pageTimestamp"].as_u64().unwrap();
    let second_page = query(
        &sandbox,
        json!({ "applicability": "auth-and-security",
                "pagination": { "pageRows": 2, "pageTimestamp": resume + 1, "pageDirection": "after" } }),
    )
    .await;
    let newest = query(
        &sandbox,
        json!({ "applicability": "auth-and-security", "pagination": { "pageRows": 1 } }),
    )
    .await;

    assert_eq!(types(&by_type), ["CHANGE_USER_ROLE"]);
    assert_eq!(by_email["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        by_email["data"][0]["target"]["id"],
        json!(invited[3].to_string())
    );
    assert_eq!(first_page["data"].as_array().unwrap().len(), 2);
    assert_eq!(first_page["pagination"]["hasMore"], true);
    assert_eq!(
        second_page["data"][0]["target"]["id"],
        json!(invited[2].to_string())
    );
    assert_eq!(types(&newest), ["CHANGE_USER_ROLE"]);
}
