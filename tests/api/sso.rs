//! `sso report` against the sandbox: an account nobody in the IAM has, an account re-added by
//! hand for a disabled person, an identity whose email changed in the IAM only, and the
//! router's own account (the workspace owner in the sandbox) set apart.

use clickup_iam_router::{
    clickup::ClickUpClient,
    operator::{sso, Format},
    sandbox::Role,
    store::Store,
};
use serde_json::{json, Value};

use crate::helpers::{fixture_json, spawn_app, TestApp};

const SAM: &str = "5a5a5a5a5a5a4a5a8a5a5a5a5a5a5a5a";

async fn send(app: &TestApp, event: &Value) -> String {
    let response = app.post_iam(&serde_json::to_vec(event).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202);
    app.wait_processed(event).await.outcome
}

/// `event` made about Sam instead of Jane, with its own event id.
fn about_sam(mut event: Value, id: &str) -> Value {
    event["id"] = json!(id);
    event["subject"] = json!(format!("user:{SAM}"));
    let user = &mut event["data"]["user"];
    user["id"] = json!(SAM);
    user["ids"] = json!({});
    user["dn"] = json!("cn=sam,ou=users,o=data");
    user["username"] = json!("sam");
    user["email"] = json!("sam.lee@example.com");
    if user["profile"]["email"].is_string() {
        user["profile"]["email"] = json!("sam.lee@example.com");
        user["profile"]["emails"] = json!([{"value": "sam.lee@example.com", "primary": true}]);
    }
    event
}

#[tokio::test]
async fn the_sso_report_lists_bypassing_accounts_inactive_people_with_access_and_mismatches() {
    let app = spawn_app().await;
    let state = app.sandbox.state();
    // Jane joins, then the IAM changes her email; ClickUp keeps the old one.
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;
    let mut renamed = fixture_json("iam/03-mover-dept-title-role.json");
    renamed["data"]["user"]["email"] = json!("jane.smith@example.com");
    assert_eq!(send(&app, &renamed).await, "applied");
    // Sam joins and is disabled; someone adds the account back by hand.
    let joiner = about_sam(fixture_json("iam/01-joiner-employee.json"), "sam-join-1");
    send(&app, &joiner).await;
    let disable = about_sam(fixture_json("iam/05-disable.json"), "sam-disable-1");
    assert_eq!(send(&app, &disable).await, "removed_member");
    let sam_again = state.add_member("Sam.Lee@example.com ", "Sam Lee", Role::Member);
    // Mark was never in the IAM.
    let mark = state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let jane = state.find_by_email("jane.doe@example.com").unwrap().id;
    let owner = state
        .find_by_email("router-service@example.com")
        .unwrap()
        .id;

    let store = Store::open_read_only(&app.settings.store).await.unwrap();
    let clickup = ClickUpClient::new(&app.settings.clickup).unwrap();
    let report = sso::report(&store, &clickup, app.team_id).await.unwrap();

    let bypass: Vec<(u64, Vec<String>)> = report
        .bypass
        .iter()
        .map(|b| (b.account.user_id, b.identities.clone()))
        .collect();
    assert_eq!(
        bypass,
        vec![
            (sam_again, vec![format!("{SAM} (disabled)")]),
            (mark, vec![])
        ]
    );
    let privileged: Vec<(u64, Vec<&str>)> = report
        .privileged
        .iter()
        .map(|p| (p.account.user_id, p.what.clone()))
        .collect();
    assert_eq!(
        privileged,
        vec![(owner, vec!["router account", "workspace owner"])]
    );
    let inactive = &report.inactive_with_access;
    assert_eq!(inactive.len(), 1);
    assert_eq!(
        (inactive[0].iam_id.as_str(), inactive[0].status.as_str()),
        (SAM, "disabled")
    );
    assert_eq!(
        inactive[0].account.as_ref().map(|a| a.user_id),
        Some(sam_again)
    );
    assert_eq!(inactive[0].open_grants, 0);
    let mismatches = &report.email_mismatches;
    assert_eq!(mismatches.len(), 1);
    assert_eq!(mismatches[0].iam_email, "jane.smith@example.com");
    assert_eq!(
        (
            mismatches[0].account.user_id,
            mismatches[0].account.email.as_deref()
        ),
        (jane, Some("jane.doe@example.com"))
    );

    let mut text = Vec::new();
    sso::write(&report, Format::Text, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.trim_end().ends_with(
            "counts: 2 bypass SSO, 1 inactive with access, 1 email mismatches, 1 router/owner"
        ),
        "{text}"
    );
    let mut json_out = Vec::new();
    sso::write(&report, Format::Json, &mut json_out).unwrap();
    let body: Value = serde_json::from_slice(&json_out).unwrap();
    assert_eq!(body["counts"]["bypass"], 2);
    app.stop().await;
}
