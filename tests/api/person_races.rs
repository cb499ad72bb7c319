//! One person's events in two lanes at once: a leaver handled while the joiner's invite is
//! still on its way to ClickUp must still end with the person removed (the person lock makes
//! the deprovision lane wait for the provision lane's handler).

use std::time::Duration;

use clickup_iam_router::sandbox::CallFault;
use serde_json::{json, Value};

use crate::helpers::{fixture_json, spawn_app, TestApp};

const JANE: &str = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";
const EMAIL: &str = "jane.doe@example.com";

async fn accepted(app: &TestApp, event: &Value) {
    let response = app.post_iam(&serde_json::to_vec(event).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202, "{}", event["id"]);
}

/// Waits until the joiner's handler has saved the person and is about to invite them.
async fn joiner_in_flight(app: &TestApp) {
    for _ in 0..500 {
        if app.store.identity(JANE).await.unwrap().is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the joiner was never handled");
}

#[tokio::test]
async fn a_leaver_handled_during_the_joiners_invite_still_removes_the_person() {
    let app = spawn_app().await;
    let invite = format!("/api/v2/team/{}/user", app.team_id);
    app.sandbox
        .state()
        .fail_call("POST", &invite, CallFault::Delay(1_500));
    let joiner = fixture_json("iam/01-joiner-employee.json");
    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    leaver["time"] = json!("2026-03-02T09:00:00Z");
    leaver["subject"] = json!(format!("user:{JANE}"));
    leaver["data"]["user"] = json!({ "id": JANE, "email": EMAIL });

    accepted(&app, &joiner).await;
    joiner_in_flight(&app).await;
    accepted(&app, &leaver).await;

    assert_eq!(app.wait_processed(&joiner).await.outcome, "applied");
    assert_eq!(app.wait_processed(&leaver).await.outcome, "removed_member");
    assert!(app.sandbox.state().find_by_email(EMAIL).is_none());
    assert!(app.store.open_grants(JANE).await.unwrap().is_empty());
    let record = app.store.identity(JANE).await.unwrap().unwrap();
    assert_eq!(record.status, "terminated");
    app.stop().await;
}
