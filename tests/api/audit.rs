//! The audit trail end to end: an IAM event, the ClickUp calls it causes (with ClickUp's
//! status) and their echoes share one correlation id; a refused request is one row and
//! publishes nothing; ClickUp's audit log shows changes made by hand, flagged when the IAM
//! does not entitle them, and the router's own as the router's.

use std::time::Duration;

use clickup_iam_router::{sandbox::Role, store::AuditRecord};
use serde_json::{json, Value};

use crate::helpers::{fixture, fixture_json, spawn_app_with, Options, TestApp};

const COMPLIANCE: &str = "901100000950";

fn joiner(n: u32, department: &str) -> Value {
    let id = format!("cc{n:030}");
    let email = format!("audit{n}@example.com");
    let mut event = fixture_json("iam/01-joiner-employee.json");
    event["id"] = json!(format!("audit-joiner-{id}"));
    event["correlationid"] = json!(format!("hire-{id}"));
    event["subject"] = json!(format!("user:{id}"));
    let user = &mut event["data"]["user"];
    user["id"] = json!(id);
    user["email"] = json!(email);
    user["username"] = json!(format!("audit{n}"));
    let profile = &mut user["profile"];
    profile["email"] = json!(email);
    profile["emails"] = json!([{ "value": email, "type": "work", "primary": true }]);
    profile["department"] = json!(department);
    profile["title"] = json!("Analyst");
    event
}

async fn join(app: &TestApp, event: &Value) -> u64 {
    let response = app.post_iam(&serde_json::to_vec(event).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202);
    app.wait_processed(event).await;
    let id = event["data"]["user"]["id"].as_str().unwrap();
    let record = app.store.identity(id).await.unwrap().unwrap();
    record.clickup_user_id.expect("provisioned") as u64
}

async fn rows(app: &TestApp, action: &str) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT outcome, correlation_id, detail FROM audit WHERE action = $1 ORDER BY seq",
    )
    .bind(action)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

/// Waits until `check` holds for the audit rows of `action`.
async fn wait_rows(
    app: &TestApp,
    action: &str,
    check: impl Fn(&[(String, String, String)]) -> bool,
) -> Vec<(String, String, String)> {
    for _ in 0..200 {
        let found = rows(app, action).await;
        if check(&found) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no {action} rows as expected: {:?}",
        rows(app, action).await
    );
}

fn statuses(record: &AuditRecord) -> Vec<u64> {
    let detail: Value = serde_json::from_str(&record.detail).unwrap();
    detail["clickup"]
        .as_array()
        .map(|calls| calls.iter().filter_map(|c| c["status"].as_u64()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_leaver_its_clickup_calls_and_their_echoes_share_one_correlation_id() {
    let app = spawn_app_with(Options {
        clickup_webhook: true,
        ..Options::default()
    })
    .await;
    let leaver_account = join(&app, &joiner(1, "Risk")).await;
    join(&app, &joiner(2, "Risk")).await;
    let author = join(&app, &joiner(3, "Sales")).await;
    let mut task = None;
    for name in ["Compliance review: travel", "Compliance review: gifts"] {
        let (id, _) = app
            .sandbox
            .as_user(author)
            .create_task(COMPLIANCE, name, &[])
            .await
            .unwrap();
        let mut assigned = Vec::new();
        for _ in 0..150 {
            if app.store.open_assignment(&id).await.unwrap().is_some() {
                app.sandbox.settle().await;
                assigned = app.sandbox.state().task(&id).unwrap().assignees;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if assigned == [leaver_account] {
            task = Some(id);
        }
    }
    let task = task.expect("round robin gave the leaver one task");

    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    let iam_id = format!("cc{:030}", 1);
    leaver["subject"] = json!(format!("user:{iam_id}"));
    leaver["correlationid"] = json!("term-audit-1");
    leaver["data"]["user"]["id"] = json!(iam_id);
    leaver["data"]["user"]["email"] = json!("audit1@example.com");
    let response = app.post_iam(&serde_json::to_vec(&leaver).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202);
    app.wait_processed(&leaver).await;
    wait_rows(&app, "clickup.echo", |found| {
        found
            .iter()
            .any(|(_, correlation, _)| correlation == "term-audit-1")
    })
    .await;
    app.sandbox.settle().await;

    let trail = app
        .store
        .audit_by_correlation("term-audit-1")
        .await
        .unwrap();
    let with = |action: &'static str| trail.iter().filter(move |r| r.action == action);

    let received: Vec<_> = with("event.received").collect();
    assert_eq!(received.len(), 1, "{trail:#?}");
    assert!(received[0].actor.starts_with("iam:"));
    let removed = with("clickup.remove_member")
        .find(|r| r.outcome == "removed_member")
        .expect("the removal is on record");
    assert!(statuses(removed).contains(&200), "{removed:?}");
    let reassigned = with("task.assigned")
        .find(|r| r.object.as_deref() == Some(&*format!("task:{task}")))
        .expect("the reassignment is on record");
    assert!(!statuses(reassigned).is_empty(), "{reassigned:?}");
    assert!(statuses(reassigned).iter().all(|s| *s == 200));
    let echoes: Vec<_> = with("clickup.echo").collect();
    assert!(
        echoes
            .iter()
            .any(|e| e.subject.as_deref() == Some(&*format!("task:{task}")) && e.outcome == "echo"),
        "{echoes:#?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_refused_request_is_one_row_and_publishes_nothing() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let body = fixture("iam/01-joiner-employee.json");

    let response = app
        .post_iam_with(
            &body,
            &[
                ("webhook-id", "msg_forged".to_owned()),
                (
                    "webhook-timestamp",
                    chrono::Utc::now().timestamp().to_string(),
                ),
                (
                    "webhook-signature",
                    "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
                ),
            ],
        )
        .await;

    assert_eq!(response.status().as_u16(), 401);
    let refused = rows(&app, "event.refused").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    let detail: Value = serde_json::from_str(&refused[0].2).unwrap();
    assert_eq!(detail["reason"], "signature_rejected");
    assert_eq!(detail["status"], 401);
    assert_eq!(detail["message_id"], "msg_forged");
    assert!(
        !refused[0].2.contains("AAAAAAAA"),
        "no signature in the row"
    );
    assert!(rows(&app, "event.received").await.is_empty());
    let depth = app.depth(clickup_iam_router::bus::Lane::Provision).await;
    assert_eq!(depth, 0, "nothing was published");
    app.stop().await;
}

#[tokio::test]
async fn a_member_added_by_hand_is_flagged_without_any_webhook_and_once_across_a_restart() {
    let app = spawn_app_with(Options {
        audit_log_interval_secs: 1,
        ..Options::default()
    })
    .await;
    let admin = app
        .sandbox
        .state()
        .add_member("hand-admin@example.com", "Hand Admin", Role::Admin);

    let stranger = app
        .sandbox
        .as_user(admin)
        .invite("stranger@example.com", Role::Member)
        .unwrap();

    let found = wait_rows(&app, "clickup.audit_log", |found| !found.is_empty()).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let (outcome, correlation, detail) = &found[0];
    let detail: Value = serde_json::from_str(detail).unwrap();
    assert_eq!(outcome, "flagged");
    assert_eq!(detail["event_type"], "INVITE_TO_WORKSPACE");
    assert_eq!(detail["clickup_actor_id"], json!(admin.to_string()));
    assert_eq!(detail["clickup_user_id"], json!(stranger.to_string()));
    assert!(detail["reason"]
        .as_str()
        .unwrap()
        .contains("no IAM identity"));
    assert!(correlation.starts_with("clickup-audit:"));
    assert!(app.sandbox.state().deliveries().is_empty(), "no webhook");
    assert!(rows(&app, "event.received").await.is_empty());

    let path = format!("/api/v3/workspaces/{}/auditlogs", app.team_id);
    let app = app.restart(Duration::ZERO, |_| {}).await;
    let before = app.sandbox.state().count_calls("POST", &path);
    for _ in 0..100 {
        if app.sandbox.state().count_calls("POST", &path) >= before + 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app.sandbox.state().count_calls("POST", &path) >= before + 4);
    assert_eq!(
        rows(&app, "clickup.audit_log").await.len(),
        1,
        "no duplicate"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_member_the_iam_entitles_added_by_the_router_is_the_routers_not_flagged() {
    let app = spawn_app_with(Options {
        audit_log_interval_secs: 1,
        ..Options::default()
    })
    .await;
    let event = joiner(5, "Finance");

    let account = join(&app, &event).await;

    let found = wait_rows(&app, "clickup.audit_log", |found| {
        found
            .iter()
            .any(|(_, _, d)| d.contains("INVITE_TO_WORKSPACE"))
    })
    .await;
    let invite = found
        .iter()
        .find(|(_, _, d)| d.contains("INVITE_TO_WORKSPACE"))
        .unwrap();
    let detail: Value = serde_json::from_str(&invite.2).unwrap();
    assert_eq!(invite.0, "recorded");
    assert_eq!(invite.1, event["correlationid"].as_str().unwrap());
    assert_eq!(detail["by_router"], true);
    assert_eq!(detail["clickup_user_id"], json!(account.to_string()));
    assert!(found.iter().all(|(outcome, _, _)| outcome == "recorded"));
    app.stop().await;
}

#[tokio::test]
async fn a_workspace_below_enterprise_turns_polling_off_once() {
    let app = spawn_app_with(Options {
        audit_log_interval_secs: 1,
        plan: Some(clickup_iam_router::sandbox::Plan::Business),
        ..Options::default()
    })
    .await;

    let off = wait_rows(&app, "clickup.audit_log_off", |found| !found.is_empty()).await;
    let plans = app
        .sandbox
        .state()
        .count_calls("GET", &format!("/api/v2/team/{}/plan", app.team_id));
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    assert_eq!(off.len(), 1);
    assert!(off[0].2.contains("Enterprise"), "{}", off[0].2);
    assert_eq!(rows(&app, "clickup.audit_log_off").await.len(), 1);
    let path = format!("/api/v3/workspaces/{}/auditlogs", app.team_id);
    assert_eq!(app.sandbox.state().count_calls("POST", &path), 0);
    assert_eq!(
        app.sandbox
            .state()
            .count_calls("GET", &format!("/api/v2/team/{}/plan", app.team_id)),
        plans,
        "no further passes"
    );
    app.stop().await;
}
