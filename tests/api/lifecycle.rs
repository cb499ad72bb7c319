//! Identity lifecycle by rules, through the real receivers and broker: joiner, mover, leaver,
//! re-enable and rehire, linking an existing account, events out of order. Contract ends are
//! in `lifecycle_ends`, role changes in `lifecycle_roles`, leavers and the brake in
//! `lifecycle_brake`.

use clickup_iam_router::{sandbox::Role, store::GrantKind};
use serde_json::{json, Value};

use crate::{
    helpers::{fixture_json, spawn_app},
    lifecycle_kit::{
        assert_has_the_employee_joiners_access, contractor_ending_in, groups_of, names,
        open_grants, role_grant, send, share, JANE, JANE_EMAIL,
    },
};

#[tokio::test]
async fn a_joiner_gets_exactly_the_access_the_shipped_rules_give() {
    let app = spawn_app().await;

    let outcome = send(&app, &fixture_json("iam/01-joiner-employee.json")).await;

    assert_eq!(outcome, "applied");
    let state = app.sandbox.state();
    let jane = state.find_by_email(JANE_EMAIL).expect("jane was invited");
    assert_eq!(jane.role, Role::Member);
    assert_has_the_employee_joiners_access(&app, jane.id).await;
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
    let jane = state.find_by_email(JANE_EMAIL).unwrap();
    assert_eq!(jane.role, Role::Member);
    assert_eq!(
        state.shares_of_user(jane.id),
        vec![
            share("list", "901100000310", "create", "acl"),
            share("space", "901100000100", "read", "acl")
        ]
    );
    assert_eq!(
        groups_of(&state, jane.id),
        names(&["All staff", "Approvers"])
    );
    assert_eq!(
        open_grants(&app, JANE).await,
        vec![
            role_grant(&app, "member"),
            (GrantKind::Group, "All staff".into(), "member".into()),
            (GrantKind::Group, "Approvers".into(), "member".into()),
            (
                GrantKind::Share,
                "list:901100000310".into(),
                "create".into()
            ),
            (GrantKind::Share, "space:901100000100".into(), "read".into()),
        ]
    );
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

/// Jane leaves as fixture 04's leaver does: terminated, her end date and time set with it.
fn jane_leaves() -> Value {
    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    leaver["subject"] = json!(format!("user:{JANE}"));
    leaver["data"]["user"] = json!({"id": JANE, "email": JANE_EMAIL, "profile": {
        "status": "terminated", "end_date": "2026-04-30", "end_at": "2026-04-30T22:00:00Z"}});
    leaver
}

/// Jane hired again: a `user.created` with lifecycle `rehire` and a partial profile that
/// carries neither a status nor an end.
fn jane_rehired() -> Value {
    let mut rehire = fixture_json("iam/01-joiner-employee.json");
    rehire["id"] = json!("ACMEIDV1#20261001080000#1#1:rehire-jane");
    rehire["time"] = json!("2026-10-01T08:00:00Z");
    rehire["correlationid"] = json!("rehire-2026-0007");
    rehire["data"]["lifecycle"] = json!("rehire");
    rehire["data"]["snapshot"] = json!("partial");
    let profile = rehire["data"]["user"]["profile"].as_object_mut().unwrap();
    profile.retain(|key, _| !matches!(key.as_str(), "status" | "end_date" | "end_at"));
    rehire
}

#[tokio::test]
async fn a_rehired_leaver_is_provisioned_again_with_the_rules_access() {
    let app = spawn_app().await;
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;
    let first = app.sandbox.state().find_by_email(JANE_EMAIL).unwrap().id;
    assert_eq!(send(&app, &jane_leaves()).await, "removed_member");
    assert!(app.sandbox.state().find_by_email(JANE_EMAIL).is_none());

    let outcome = send(&app, &jane_rehired()).await;

    assert_eq!(outcome, "applied");
    let state = app.sandbox.state();
    let jane = state.find_by_email(JANE_EMAIL).expect("jane is back");
    assert_eq!(
        (jane.id, jane.role),
        (first, Role::Member),
        "her account, reactivated"
    );
    assert_has_the_employee_joiners_access(&app, jane.id).await;
    let invited: Vec<String> = app
        .store
        .audit_by_correlation("rehire-2026-0007")
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.action)
        .filter(|action| action == "clickup.invite")
        .collect();
    assert_eq!(invited.len(), 1, "invited again, not linked");
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
    let guest = state.add_guest(JANE_EMAIL, "Jane Doe");

    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;

    assert_eq!(
        state.find_by_email(JANE_EMAIL).unwrap().id,
        guest,
        "not invited twice"
    );
    let team = app.team_id;
    for invite in [
        format!("/api/v2/team/{team}/user"),
        format!("/api/v2/team/{team}/guest"),
    ] {
        assert_eq!(state.count_calls("POST", &invite), 0, "POST {invite}");
    }
    let grants = open_grants(&app, JANE).await;
    assert!(grants.contains(&role_grant(&app, "guest")), "{grants:?}");
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
