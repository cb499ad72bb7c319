//! Identity lifecycle by rules, through the real receivers and broker: joiner, mover,
//! leaver, contractor expiry (also across worker restarts), and the mass-removal brake.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use clickup_iam_router::{
    sandbox::{Role, SandboxShare},
    store::GrantKind,
};
use serde_json::{json, Value};

use crate::helpers::{fixture_json, spawn_app, TestApp};

const JANE: &str = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";
const CARLOS: &str = "1a2b3c4d5e6f47808192a3b4c5d6e7f8";

fn share(object_type: &str, object_id: &str, level: &str, via: &str) -> SandboxShare {
    SandboxShare {
        object_type: object_type.into(),
        object_id: object_id.into(),
        level: level.into(),
        via: via.into(),
    }
}

async fn send(app: &TestApp, event: &Value) -> String {
    let response = app.post_iam(&serde_json::to_vec(event).unwrap()).await;
    assert_eq!(
        response.status().as_u16(),
        202,
        "{}",
        response.text().await.unwrap()
    );
    app.wait_processed(event).await.outcome
}

async fn open_grants(app: &TestApp, iam_id: &str) -> Vec<(GrantKind, String, String)> {
    let grants = app.store.open_grants(iam_id).await.unwrap();
    let mut grants: Vec<_> = grants
        .into_iter()
        .map(|g| (g.kind, g.object, g.level))
        .collect();
    grants.sort();
    grants
}

#[tokio::test]
async fn a_joiner_gets_exactly_the_access_the_shipped_rules_give() {
    let app = spawn_app().await;

    let outcome = send(&app, &fixture_json("iam/01-joiner-employee.json")).await;

    assert_eq!(outcome, "applied");
    let state = app.sandbox.state();
    let jane = state
        .find_by_email("jane.doe@example.com")
        .expect("jane was invited");
    assert_eq!(jane.role, Role::Member);
    assert_eq!(
        state.shares_of_user(jane.id),
        vec![
            share("list", "901100000310", "edit", "acl"),
            share("space", "901100000100", "read", "acl")
        ]
    );
    assert_eq!(state.group_members("All staff"), Some(vec![jane.id]));
    assert_eq!(state.group_members("Contributors"), Some(vec![jane.id]));
    assert_eq!(state.group_members("Approvers"), Some(vec![]));
    assert_eq!(
        open_grants(&app, JANE).await,
        vec![
            (
                GrantKind::Role,
                format!("workspace:{}", app.team_id),
                "member".into()
            ),
            (GrantKind::Group, "All staff".into(), "member".into()),
            (GrantKind::Group, "Contributors".into(), "member".into()),
            (GrantKind::Share, "list:901100000310".into(), "edit".into()),
            (GrantKind::Share, "space:901100000100".into(), "read".into()),
        ]
    );
    let audit = app
        .store
        .audit_by_correlation("hire-2026-0001")
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| a.starts_with("clickup.")).count(),
        5,
        "{actions:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_mover_loses_what_no_rule_grants_and_gains_the_new() {
    let app = spawn_app().await;
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;

    let outcome = send(&app, &fixture_json("iam/03-mover-dept-title-role.json")).await;

    assert_eq!(outcome, "applied");
    let state = app.sandbox.state();
    let jane = state.find_by_email("jane.doe@example.com").unwrap();
    assert_eq!(
        state.shares_of_user(jane.id),
        vec![
            share("list", "901100000310", "create", "acl"),
            share("space", "901100000100", "read", "acl")
        ]
    );
    assert_eq!(state.group_members("Contributors"), Some(vec![]));
    assert_eq!(state.group_members("Approvers"), Some(vec![jane.id]));
    let grants = open_grants(&app, JANE).await;
    assert!(grants.contains(&(
        GrantKind::Share,
        "list:901100000310".into(),
        "create".into()
    )));
    assert!(grants.contains(&(GrantKind::Group, "Approvers".into(), "member".into())));
    assert!(!grants.iter().any(|g| g.1 == "Contributors"));
    app.stop().await;
}

#[tokio::test]
async fn a_leaver_ends_with_no_access_and_every_grant_closed() {
    let app = spawn_app().await;
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;
    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    leaver["subject"] = json!(format!("user:{JANE}"));
    leaver["data"]["user"] =
        json!({"id": JANE, "email": "jane.doe@example.com", "profile": {"status": "terminated"}});

    let outcome = send(&app, &leaver).await;

    assert_eq!(outcome, "removed_member");
    let state = app.sandbox.state();
    assert!(state.find_by_email("jane.doe@example.com").is_none());
    assert_eq!(state.group_members("All staff"), Some(vec![]));
    assert!(open_grants(&app, JANE).await.is_empty());
    let closed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM grants WHERE iam_id = $1 AND end_reason = 'terminated'",
    )
    .bind(JANE)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(closed, 5);
    app.stop().await;
}

/// The contractor fixture with its contract ending `seconds` from now.
fn contractor_ending_in(seconds: i64) -> Value {
    let mut event = fixture_json("iam/02-joiner-contractor-end-date.json");
    let end = Utc::now() + chrono::Duration::seconds(seconds);
    let profile = &mut event["data"]["user"]["profile"];
    profile["end_at"] = json!(end.to_rfc3339_opts(SecondsFormat::Secs, true));
    profile["end_date"] = Value::Null;
    event
}

/// Waits until the account is gone from the sandbox and its grants are closed on record.
async fn wait_until_removed(app: &TestApp, email: &str) {
    for _ in 0..300 {
        let gone = app.sandbox.state().find_by_email(email).is_none();
        if gone && open_grants(app, CARLOS).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{email} still has a ClickUp account");
}

#[tokio::test]
async fn a_contractor_becomes_a_guest_and_loses_access_at_the_end_date() {
    let app = spawn_app().await;

    send(&app, &contractor_ending_in(3)).await;

    let state = app.sandbox.state();
    let carlos = state
        .find_by_email("carlos.rivera@example.com")
        .expect("carlos was invited");
    assert_eq!(carlos.role, Role::Guest);
    assert_eq!(
        state.shares_of_user(carlos.id),
        vec![share("list", "901100000510", "edit", "guest")]
    );
    let until: Option<i64> = app
        .store
        .open_grants(CARLOS)
        .await
        .unwrap()
        .iter()
        .find(|g| g.kind == GrantKind::Share)
        .unwrap()
        .until;
    assert!(until.is_some(), "the share ends with the contract");

    wait_until_removed(&app, "carlos.rivera@example.com").await;

    assert!(open_grants(&app, CARLOS).await.is_empty());
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT end_reason FROM grants WHERE iam_id = $1")
            .bind(CARLOS)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
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
        app.sandbox
            .state()
            .find_by_email("carlos.rivera@example.com")
            .is_some(),
        "not yet due"
    );
    wait_until_removed(&app, "carlos.rivera@example.com").await;
    assert!(open_grants(&app, CARLOS).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_contract_end_that_passed_while_the_worker_was_down_is_applied_at_start() {
    let app = spawn_app().await;
    send(&app, &contractor_ending_in(2)).await;

    let app = app.restart(Duration::from_secs(3), |_| {}).await;

    wait_until_removed(&app, "carlos.rivera@example.com").await;
    assert!(open_grants(&app, CARLOS).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_re_enabled_person_is_provisioned_again() {
    let app = spawn_app().await;
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;
    assert_eq!(
        send(&app, &fixture_json("iam/05-disable.json")).await,
        "removed_member"
    );
    assert!(open_grants(&app, JANE).await.is_empty());

    let outcome = send(&app, &fixture_json("iam/06-reenable.json")).await;

    assert_eq!(outcome, "applied");
    let state = app.sandbox.state();
    let jane = state
        .find_by_email("jane.doe@example.com")
        .expect("jane is back");
    assert_eq!(state.shares_of_user(jane.id).len(), 2);
    assert_eq!(state.group_members("All staff"), Some(vec![jane.id]));
    assert_eq!(open_grants(&app, JANE).await.len(), 5);
    app.stop().await;
}

#[tokio::test]
async fn a_disable_older_than_the_re_enable_already_applied_removes_nothing() {
    let app = spawn_app().await;
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;
    send(&app, &fixture_json("iam/06-reenable.json")).await;

    let outcome = send(&app, &fixture_json("iam/05-disable.json")).await;

    assert_eq!(outcome, "stale");
    assert!(app
        .sandbox
        .state()
        .find_by_email("jane.doe@example.com")
        .is_some());
    assert_eq!(open_grants(&app, JANE).await.len(), 5);
    app.stop().await;
}

#[tokio::test]
async fn a_leaver_older_than_an_ordinary_update_still_removes() {
    let app = spawn_app().await;
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;
    send(&app, &fixture_json("iam/03-mover-dept-title-role.json")).await;
    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    leaver["time"] = json!("2026-05-01T00:00:00Z");
    leaver["subject"] = json!(format!("user:{JANE}"));
    leaver["data"]["user"] = json!({"id": JANE, "email": "jane.doe@example.com"});

    let outcome = send(&app, &leaver).await;

    assert_eq!(
        outcome, "removed_member",
        "clock skew never keeps a leaver's access"
    );
    assert!(app
        .sandbox
        .state()
        .find_by_email("jane.doe@example.com")
        .is_none());
    app.stop().await;
}

#[tokio::test]
async fn an_existing_guest_account_is_linked_as_the_guest_it_is() {
    let app = spawn_app().await;
    let state = app.sandbox.state();
    let guest = state.add_guest("jane.doe@example.com", "Jane Doe");

    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;

    assert_eq!(
        state.find_by_email("jane.doe@example.com").unwrap().id,
        guest,
        "not invited twice"
    );
    let grants = open_grants(&app, JANE).await;
    assert!(
        grants.contains(&(
            GrantKind::Role,
            format!("workspace:{}", app.team_id),
            "guest".into()
        )),
        "{grants:?}"
    );
    let linked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE action = 'clickup.link'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(linked, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_contractor_turned_employee_loses_the_contract_access_even_though_the_role_cannot_change()
{
    let app = spawn_app().await;
    send(&app, &contractor_ending_in(600)).await;
    let mut employee = fixture_json("iam/02-joiner-contractor-end-date.json");
    employee["id"] = json!("contractor-hired");
    employee["time"] = json!("2026-11-01T00:00:00Z");
    let profile = &mut employee["data"]["user"]["profile"];
    profile["employment_type"] = json!("employee");
    profile["end_at"] = Value::Null;
    profile["end_date"] = Value::Null;

    let outcome = send(&app, &employee).await;

    assert_eq!(
        outcome, "failed",
        "the guest-to-member change is refused and said so"
    );
    let state = app.sandbox.state();
    let carlos = state.find_by_email("carlos.rivera@example.com").unwrap();
    let shares = state.shares_of_user(carlos.id);
    assert!(
        !shares.iter().any(|s| s.object_id == "901100000510"),
        "{shares:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn removing_an_account_closes_the_grants_of_every_identity_linked_to_it() {
    let app = spawn_app().await;
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;

    let outcome = send(
        &app,
        &fixture_json("iam/10-from-ssf-risc-account-disabled.json"),
    )
    .await;

    assert_eq!(outcome, "removed_member");
    assert!(
        open_grants(&app, JANE).await.is_empty(),
        "jane's grants went with her account"
    );
    let linked = app
        .store
        .identity(JANE)
        .await
        .unwrap()
        .unwrap()
        .clickup_user_id;
    assert_eq!(linked, None);
    app.stop().await;
}

#[tokio::test]
async fn a_mover_that_arrives_before_the_joiner_ends_in_the_same_access() {
    let app = spawn_app().await;
    send(&app, &fixture_json("iam/03-mover-dept-title-role.json")).await;

    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;

    let state = app.sandbox.state();
    let jane = state.find_by_email("jane.doe@example.com").unwrap();
    assert_eq!(
        state.shares_of_user(jane.id),
        vec![
            share("list", "901100000310", "create", "acl"),
            share("space", "901100000100", "read", "acl")
        ],
        "the joiner's attributes fill in, the mover's newer ones stay"
    );
    assert_eq!(state.group_members("Approvers"), Some(vec![jane.id]));
    assert_eq!(state.group_members("Contributors"), Some(vec![]));
    app.stop().await;
}
