//! Contract ends, through the real receivers and broker: a contractor's access ends at the
//! end date (also across worker restarts), an end date without any rule's `until` still
//! becomes the expiry and the reminder, and an end date given after the joiner ends access.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use clickup_iam_router::{
    clickup::ClickUpClient,
    rules::RuleSet,
    sandbox::Role,
    store::{Grant, GrantKind},
    worker::{self, scheduler},
};
use serde_json::{json, Value};

use crate::{
    helpers::{fixture_json, spawn_app, spawn_app_with, Options, TestApp},
    lifecycle_kit::{
        contractor_ending_in, end_reasons, open_grants, send, share, update, wait_until_removed,
        CARLOS, CARLOS_EMAIL, JANE, JANE_EMAIL,
    },
};

/// The reminder list of the rules below (a seeded list of the sandbox).
const REMINDER_LIST: &str = "901100000900";

/// A Data Platform contractor's share with no `until`: only the person's end ends it.
const OPEN_ENDED: &str = r#"
settings:
  reminder: { before: 7d, list_id: "901100000900" }

mappings:
  - name: data-platform-contractor-open-ended
    when: person.employment_type == "contractor" && person.department == "Data Platform"
    role: guest
    shares:
      - { list: "901100000510", level: edit }
"#;

async fn open_grant(app: &TestApp, iam_id: &str, kind: GrantKind) -> Grant {
    let grants = app.store.open_grants(iam_id).await.unwrap();
    grants
        .into_iter()
        .find(|grant| grant.kind == kind)
        .unwrap_or_else(|| panic!("no open {kind:?} grant"))
}

#[tokio::test]
async fn a_contractor_becomes_a_guest_and_loses_access_at_the_end_date() {
    let app = spawn_app().await;

    send(&app, &contractor_ending_in(3)).await;

    let state = app.sandbox.state();
    let carlos = state
        .find_by_email(CARLOS_EMAIL)
        .expect("carlos was invited");
    assert_eq!(carlos.role, Role::Guest);
    assert_eq!(
        state.shares_of_user(carlos.id),
        vec![share("list", "901100000510", "edit", "guest")]
    );
    let until = open_grant(&app, CARLOS, GrantKind::Share).await.until;
    assert!(until.is_some(), "the share ends with the contract");

    wait_until_removed(&app, CARLOS, CARLOS_EMAIL).await;

    let reasons = end_reasons(&app, CARLOS).await;
    assert!(!reasons.is_empty());
    let ended = |r: &String| r == "contract ended" || r == "expired";
    assert!(reasons.iter().all(ended), "{reasons:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_contract_end_is_honoured_across_a_restart_before_it_is_due() {
    let app = spawn_app().await;
    send(&app, &contractor_ending_in(4)).await;

    let app = app.restart(Duration::ZERO, |_| {}).await;

    assert!(
        app.sandbox.state().find_by_email(CARLOS_EMAIL).is_some(),
        "not yet due"
    );
    wait_until_removed(&app, CARLOS, CARLOS_EMAIL).await;
    app.stop().await;
}

#[tokio::test]
async fn a_contract_end_that_passed_while_the_worker_was_down_is_applied_at_start() {
    let mut app = spawn_app().await;
    let contract = contractor_ending_in(5);
    let end: DateTime<Utc> = contract["data"]["user"]["profile"]["end_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    send(&app, &contract).await;

    app.halt().await;

    assert!(
        app.sandbox.state().find_by_email(CARLOS_EMAIL).is_some(),
        "the account was still there when the worker stopped"
    );
    assert!(!open_grants(&app, CARLOS).await.is_empty());
    let pause = (end - Utc::now() + chrono::Duration::seconds(1))
        .to_std()
        .unwrap_or_default();
    let app = app.restart(pause, |_| {}).await;

    wait_until_removed(&app, CARLOS, CARLOS_EMAIL).await;
    app.stop().await;
}

#[tokio::test]
async fn an_end_date_without_any_until_is_reminded_and_revoked_when_it_passes() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("contractors.yaml"), OPEN_ENDED).unwrap();
    let app = spawn_app_with(Options {
        rules_dir: Some(rules.path().to_owned()),
        ..Options::default()
    })
    .await;
    let last_day: NaiveDate = Utc::now().date_naive() + chrono::Days::new(1);
    let end = last_day.and_hms_opt(23, 59, 59).unwrap().and_utc();
    let mut contract = fixture_json("iam/02-joiner-contractor-end-date.json");
    let profile = &mut contract["data"]["user"]["profile"];
    profile["end_date"] = json!(last_day.to_string());
    profile["end_at"] = Value::Null;

    assert_eq!(send(&app, &contract).await, "applied");

    let state = app.sandbox.state();
    let carlos = state
        .find_by_email(CARLOS_EMAIL)
        .expect("carlos was invited");
    assert_eq!(
        state.shares_of_user(carlos.id),
        vec![share("list", "901100000510", "edit", "guest")]
    );
    assert_eq!(open_grant(&app, CARLOS, GrantKind::Share).await.until, None);
    let role = open_grant(&app, CARLOS, GrantKind::Role).await;
    assert_eq!(role.until, Some(end.timestamp_millis()), "the end date");

    let reminder = wait_for_reminder(&app, CARLOS).await;
    assert_eq!(reminder["until"], json!(end.timestamp_millis()));
    assert_eq!(
        state.count_calls("POST", &format!("/api/v2/list/{REMINDER_LIST}/task")),
        1
    );

    let rules = RuleSet::load_dir(rules.path()).unwrap();
    let clickup = ClickUpClient::new(&app.settings.clickup).unwrap();
    let provisioner = worker::provisioner(clickup, app.store.clone(), app.team_id, rules);
    let due = scheduler::expire_due(&provisioner, end + chrono::Duration::seconds(1))
        .await
        .unwrap();

    assert_eq!(due, 1);
    assert!(state.find_by_email(CARLOS_EMAIL).is_none(), "revoked");
    assert!(open_grants(&app, CARLOS).await.is_empty());
    let reasons = end_reasons(&app, CARLOS).await;
    assert_eq!(reasons, vec!["contract ended"; 2]);
    app.stop().await;
}

#[tokio::test]
async fn an_end_given_after_the_joiner_ends_the_access_when_it_passes() {
    let app = spawn_app().await;
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;
    assert_eq!(open_grant(&app, JANE, GrantKind::Role).await.until, None);
    let now = Utc::now();
    let end = now + chrono::Duration::seconds(5);
    let secs = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let ending = update(
        "jane-end-set",
        JANE,
        &secs(now),
        json!({ "end_at": secs(end) }),
    );

    assert_eq!(send(&app, &ending).await, "applied");
    let role = open_grant(&app, JANE, GrantKind::Role).await;
    assert_eq!(
        role.until,
        Some(end.timestamp() * 1000),
        "the role ends then"
    );

    wait_until_removed(&app, JANE, JANE_EMAIL).await;

    let mut reasons = vec!["role changed"];
    reasons.extend(["contract ended"; 5]);
    assert_eq!(end_reasons(&app, JANE).await, reasons);
    app.stop().await;
}

/// Waits for the `reminder.sent` row about `iam_id`; returns its detail.
async fn wait_for_reminder(app: &TestApp, iam_id: &str) -> Value {
    for _ in 0..200 {
        let detail: Option<String> = sqlx::query_scalar(
            "SELECT detail FROM audit WHERE action = 'reminder.sent' AND subject = $1",
        )
        .bind(format!("user:{iam_id}"))
        .fetch_optional(app.store.pool())
        .await
        .unwrap();
        if let Some(detail) = detail {
            return serde_json::from_str(&detail).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no reminder about {iam_id}");
}
