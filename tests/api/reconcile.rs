//! Reconciliation end to end: a webhook ClickUp suspended or marks failing is brought back by
//! `clickup-iam-router reconcile` (the binary, against the sandbox, the broker and the test
//! router's store), and the task changes it never delivered are published and handled by the
//! running worker: assigned in the sandbox, audited, and not handled twice. `missed`: what
//! the task lane saw is never published again, and what it never got is, whatever came after.

use std::{process::Output, time::Duration};

use serde_json::{json, Value};

use clickup_iam_router::store::RequestState;

mod missed;

use crate::{
    helpers::{fixture_json, spawn_app_with, Options, TestApp, WEBHOOK_ID, WEBHOOK_SECRET},
    process::output_of,
    request_kit::{Kit, Variant, MANAGER},
};

pub(crate) const COMPLIANCE: &str = "901100000950";

/// A joiner in `department`; returns their ClickUp account once provisioned.
async fn join(app: &TestApp, n: u32, department: &str) -> u64 {
    let id = format!("cc{n:030}");
    let email = format!("reconcile{n}@example.com");
    let mut event = fixture_json("iam/01-joiner-employee.json");
    event["id"] = json!(format!("reconcile-joiner-{id}"));
    event["subject"] = json!(format!("user:{id}"));
    let user = &mut event["data"]["user"];
    user["id"] = json!(id);
    user["email"] = json!(email);
    user["username"] = json!(format!("reconcile{n}"));
    let profile = &mut user["profile"];
    profile["email"] = json!(email);
    profile["emails"] = json!([{ "value": email, "type": "work", "primary": true }]);
    profile["department"] = json!(department);

    let response = app.post_iam(&serde_json::to_vec(&event).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202);
    app.wait_processed(&event).await;
    let record = app.store.identity(&id).await.unwrap().unwrap();
    record.clickup_user_id.expect("provisioned") as u64
}

/// The test router with its ClickUp webhook, a Risk analyst to assign compliance reviews to,
/// and someone who creates tasks; returns the webhook id, the analyst and the author.
pub(crate) async fn world() -> (TestApp, String, u64, u64) {
    let app = spawn_app_with(Options {
        clickup_webhook: true,
        ..Options::default()
    })
    .await;
    let analyst = join(&app, 1, "Risk").await;
    let author = join(&app, 2, "Sales").await;
    let webhook = app.webhook_id.clone().unwrap();
    (app, webhook, analyst, author)
}

/// Runs `clickup-iam-router reconcile ARGS` with the test router's settings.
pub(crate) async fn reconcile(app: &TestApp, args: &[&str]) -> Output {
    let settings = &app.settings;
    let webhook = app.webhook_id.clone().unwrap();
    let (_, secret) = app.sandbox.state().webhook(&webhook).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"));
    command
        .arg("reconcile")
        .args(args)
        .env_clear()
        .env("AMQP_PREFIX", &settings.bus.amqp_prefix)
        .env("DATABASE_URL", settings.store.database_url.expose())
        .env("CLICKUP_API_URL", app.sandbox.base_url())
        .env("CLICKUP_TOKEN", settings.clickup.clickup_token.expose())
        .env("CLICKUP_TEAM_ID", app.team_id.to_string())
        .env(
            "CLICKUP_WEBHOOK_SECRETS",
            format!("{WEBHOOK_ID}={WEBHOOK_SECRET},{webhook}={secret}"),
        )
        .env("RULES_DIR", &settings.rules.rules_dir)
        .env("RUST_LOG", "error");
    // Without AMQP_URL the command publishes into the embedded engine of the test's store.
    if let Some(url) = &settings.bus.amqp_url {
        command.env("AMQP_URL", url.expose());
    }
    output_of(command).await
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The webhook as ClickUp (the sandbox) lists it.
pub(crate) async fn listed(app: &TestApp, id: &str) -> Value {
    let answer = sandbox_get(app, &format!("/v2/team/{}/webhook", app.team_id)).await;
    let webhooks = answer["webhooks"].as_array().unwrap();
    webhooks.iter().find(|w| w["id"] == id).unwrap().clone()
}

pub(crate) async fn sandbox_get(app: &TestApp, path: &str) -> Value {
    let token = app.settings.clickup.clickup_token.expose().to_owned();
    reqwest::Client::new()
        .get(format!("{}{path}", app.sandbox.base_url()))
        .header("Authorization", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub(crate) async fn audit_rows(app: &TestApp, action: &str) -> Vec<(String, Value)> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT outcome, detail FROM audit WHERE action = $1 ORDER BY seq")
            .bind(action)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    rows.into_iter()
        .map(|(outcome, detail)| (outcome, serde_json::from_str(&detail).unwrap()))
        .collect()
}

/// Waits until each task has an assignment on record; returns their assignees in ClickUp.
pub(crate) async fn assigned(app: &TestApp, tasks: &[String]) -> Vec<Vec<u64>> {
    for _ in 0..200 {
        let mut open = 0;
        for task in tasks {
            open += app.store.open_assignment(task).await.unwrap().is_some() as usize;
        }
        if open == tasks.len() {
            app.sandbox.settle().await;
            let state = app.sandbox.state();
            return tasks
                .iter()
                .map(|task| state.task(task).unwrap().assignees)
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the tasks were never all assigned");
}

#[tokio::test]
async fn reconcile_reactivates_a_suspended_webhook_and_processes_the_changes_it_never_delivered() {
    let (app, webhook, analyst, author) = world().await;
    assert!(app
        .sandbox
        .state()
        .set_webhook_health(&webhook, "suspended", 0));

    let mut tasks = Vec::new();
    for n in 1..=3 {
        let (task, delivered) = app
            .sandbox
            .as_user(author)
            .create_task(COMPLIANCE, &format!("Review {n}"), &[])
            .await
            .unwrap();
        assert_eq!(
            delivered,
            Vec::<u16>::new(),
            "nothing goes to a suspended webhook"
        );
        tasks.push(task);
    }
    app.sandbox.settle().await;
    for task in &tasks {
        assert!(app.store.open_assignment(task).await.unwrap().is_none());
    }

    let output = reconcile(&app, &[]).await;
    assert!(output.status.success(), "{output:?}");
    let report = stdout(&output);
    assert!(
        report.contains("changed=3 published=3 already_published=0 failed_lists=0"),
        "{report}"
    );
    assert!(
        report.contains("webhooks: checked=2 reactivated=1 missing=1 failed=0"),
        "{report}"
    );

    assert_eq!(
        listed(&app, &webhook).await["health"],
        json!({"status": "active", "fail_count": 0})
    );
    let assignees = assigned(&app, &tasks).await;
    assert_eq!(assignees, vec![vec![analyst]; 3]);

    let reactivated = audit_rows(&app, "clickup.webhook_reactivated").await;
    assert_eq!(reactivated.len(), 1);
    assert_eq!(reactivated[0].0, "reactivated");
    assert_eq!(reactivated[0].1["webhook_id"], json!(webhook));
    assert_eq!(reactivated[0].1["previous_status"], "suspended");
    let missing = audit_rows(&app, "clickup.webhook_missing").await;
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].1["webhook_id"], WEBHOOK_ID);
    let received: Vec<_> = audit_rows(&app, "event.received")
        .await
        .into_iter()
        .filter(|(_, detail)| detail["routing_key"] == "clickup.reconcile.taskChanged")
        .collect();
    assert_eq!(received.len(), 3);
    assert_eq!(audit_rows(&app, "task.assigned").await.len(), 3);

    let again = reconcile(&app, &[]).await;
    assert!(again.status.success(), "{again:?}");
    assert!(
        stdout(&again).contains("reactivated=0"),
        "{}",
        stdout(&again)
    );
    app.sandbox.settle().await;
    assert_eq!(assigned(&app, &tasks).await, vec![vec![analyst]; 3]);
    assert_eq!(audit_rows(&app, "task.assigned").await.len(), 3);
    assert_eq!(
        audit_rows(&app, "clickup.webhook_reactivated").await.len(),
        1
    );
    assert_eq!(
        audit_rows(&app, "clickup.webhook_missing").await.len(),
        1,
        "reported once"
    );
}

#[tokio::test]
async fn a_failing_webhook_is_reactivated_with_its_fail_count_on_record() {
    let (app, webhook, _, _) = world().await;
    assert!(app
        .sandbox
        .state()
        .set_webhook_health(&webhook, "failing", 3));

    let output = reconcile(&app, &["--only", "webhooks"]).await;

    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout(&output),
        "webhooks: checked=2 reactivated=1 missing=1 failed=0\n"
    );
    assert_eq!(
        listed(&app, &webhook).await["health"],
        json!({"status": "active", "fail_count": 0})
    );
    let rows = audit_rows(&app, "clickup.webhook_reactivated").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1["previous_status"], "failing");
    assert_eq!(rows[0].1["fail_count"], 3);
}

#[tokio::test]
async fn the_worker_reactivates_a_suspended_webhook_on_its_own() {
    let app = spawn_app_with(Options {
        clickup_webhook: true,
        reconcile_every: Some(Duration::from_millis(200)),
        ..Options::default()
    })
    .await;
    let webhook = app.webhook_id.clone().unwrap();
    assert!(app
        .sandbox
        .state()
        .set_webhook_health(&webhook, "suspended", 0));

    // The audit row is written after ClickUp answered the reactivation, so the test waits
    // for the row, not for the status (a status already active with no row yet is a pass
    // still under way, not a fault).
    for _ in 0..100 {
        let rows = audit_rows(&app, "clickup.webhook_reactivated").await;
        if let Some((outcome, detail)) = rows.first() {
            assert_eq!(outcome, "reactivated");
            assert_eq!(detail["previous_status"], "suspended");
            assert_eq!(
                listed(&app, &webhook).await["health"]["status"],
                "active",
                "a reactivation on record must show in ClickUp"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the worker never reactivated the webhook");
}

#[tokio::test]
async fn a_missed_decision_is_asked_again_and_a_missed_request_is_taken_in() {
    let kit = Kit::start(Variant::default()).await;
    let app = &kit.app;
    let manager = kit.user(MANAGER).await;
    let asked = kit.ask("Legal contracts", "comment", Some(json!(7))).await;
    kit.wait_state(&asked, RequestState::Pending).await;
    let webhook = app.webhook_id.clone().unwrap();
    assert!(app
        .sandbox
        .state()
        .set_webhook_health(&webhook, "suspended", 0));

    let delivered = app
        .sandbox
        .as_user(manager)
        .set_status(&asked, "approved")
        .await
        .unwrap();
    assert_eq!(delivered, Vec::<u16>::new());
    let missed = kit.ask("Legal contracts", "read", Some(json!(3))).await;
    assert!(app.store.request(&missed).await.unwrap().is_none());

    let output = reconcile(app, &["--only", "tasks"]).await;
    assert!(output.status.success(), "{output:?}");

    kit.wait_state(&missed, RequestState::Pending).await;
    let mut audited = Vec::new();
    for _ in 0..200 {
        audited = kit.audit(&asked).await;
        if audited.iter().any(|a| a == "reconcile.unverified_change") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        audited.iter().any(|a| a == "reconcile.unverified_change"),
        "{audited:?}"
    );
    assert!(
        !audited.iter().any(|a| a == "request.approved"),
        "{audited:?}"
    );
    let request = app.store.request(&asked).await.unwrap().unwrap();
    assert_eq!(request.state, RequestState::Pending);
    app.sandbox.settle().await;
    assert_eq!(kit.status(&asked), "pending approval");
    let comments = kit.comments(&asked).join("\n");
    assert!(comments.contains("please decide again"), "{comments}");
}
