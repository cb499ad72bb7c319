//! The four seed cases of issue #3 through the real receivers, the bus and the shipped rules:
//! each sends signed IAM events and compares, in full, what ClickUp shows (workspace role,
//! user groups, shares with their level and endpoint) and what the router recorded (grant
//! rows with their rule, level and end). A guest's space is given and taken back through the
//! v3 ACL (ClickUp has no v2 guest endpoint for spaces).

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveTime, SecondsFormat, Utc};
use clickup_iam_router::{sandbox::Role, store::GrantKind};
use serde_json::{json, Value};

use crate::{
    helpers::{fixture_json, spawn_app, TestApp},
    seed_kit::{
        closed_rows, ended, open_rows, person, row, seen, send, share, wait_until_removed,
        workspace, Seen,
    },
};

const MIA: &str = "3c5e7a9b1d2f40618293a4b5c6d7e8f9";

/// A marketing contractor joining, and the end of her contract: the last second of a day
/// sixty days ahead, given as `end_date` and as `end_at` alike.
fn marketing_contractor() -> (Value, DateTime<Utc>) {
    let last_day = (Utc::now() + chrono::Duration::days(60)).date_naive();
    let end = last_day
        .and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap())
        .and_utc();
    let profile = json!({
        "department": "Marketing",
        "title": "Campaign Copywriter",
        "employment_type": "contractor",
        "end_date": last_day.to_string(),
        "end_at": end.to_rfc3339_opts(SecondsFormat::Secs, true),
    });
    let event = person(
        "iam/02-joiner-contractor-end-date.json",
        MIA,
        "mlopez",
        "mia.lopez@example.com",
        profile,
    );
    (event, end)
}

/// The `via` of the first audit row of `action` under `correlation`.
async fn via_of(app: &TestApp, correlation: &str, action: &str) -> Value {
    let audit = app.store.audit_by_correlation(correlation).await.unwrap();
    let row = audit.iter().find(|a| a.action == action).unwrap();
    let detail: Value = serde_json::from_str(&row.detail).unwrap();
    detail["via"].clone()
}

#[tokio::test]
async fn a_marketing_contractor_is_a_guest_with_the_campaign_space_only() {
    let app = spawn_app().await;
    let (event, end) = marketing_contractor();

    send(&app, &event).await;

    let expected = Seen {
        role: Role::Guest,
        groups: vec![],
        shares: vec![share("space", "901100000400", "edit", "acl")],
    };
    assert_eq!(seen(&app, "mia.lopez@example.com"), expected);
    let rule = "marketing-contractor-campaign";
    let until = Some(end.timestamp_millis());
    assert_eq!(
        open_rows(&app, MIA).await,
        [
            row(GrantKind::Role, &workspace(&app), "guest", rule, until),
            row(GrantKind::Share, "space:901100000400", "edit", rule, until),
        ]
    );
    let via = via_of(&app, "seed-mlopez", "clickup.share").await;
    assert_eq!(via, "acl", "the space went through the v3 ACL");
    app.stop().await;
}

#[tokio::test]
async fn a_marketing_contractor_who_moves_on_loses_the_space_through_the_acl() {
    let app = spawn_app().await;
    let (joiner, end) = marketing_contractor();
    send(&app, &joiner).await;
    let mut mover = joiner.clone();
    mover["id"] = json!("seed-case:mlopez-moves");
    mover["type"] = json!("com.example.iam.user.updated.v1");
    mover["time"] = json!("2026-04-01T09:00:00Z");
    mover["correlationid"] = json!("seed-mlopez-moves");
    mover["data"]["lifecycle"] = json!("mover");
    mover["data"]["user"]["profile"]["department"] = json!("Data Platform");

    send(&app, &mover).await;

    let expected = Seen {
        role: Role::Guest,
        groups: vec![],
        shares: vec![share("list", "901100000510", "edit", "guest")],
    };
    assert_eq!(seen(&app, "mia.lopez@example.com"), expected);
    let until = Some(end.timestamp_millis());
    let (marketing, data) = ("marketing-contractor-campaign", "data-platform-contractor");
    assert_eq!(
        open_rows(&app, MIA).await,
        [
            row(GrantKind::Role, &workspace(&app), "guest", marketing, until),
            row(GrantKind::Share, "list:901100000510", "edit", data, until),
        ]
    );
    let space = "space:901100000400";
    let closed = ended(
        GrantKind::Share,
        space,
        "edit",
        marketing,
        "no rule grants it",
    );
    assert_eq!(closed_rows(&app, MIA).await, BTreeSet::from([closed]));
    let via = via_of(&app, "seed-mlopez-moves", "clickup.unshare").await;
    assert_eq!(via, "acl", "the space was taken back through the v3 ACL");
    app.stop().await;
}

#[tokio::test]
async fn an_operations_manager_gets_the_process_docs_and_the_task_boards() {
    let app = spawn_app().await;
    let iam_id = "7d1e2f3a4b5c46d7e8f90a1b2c3d4e5f";
    let profile = json!({
        "department": "Operations",
        "title": "Operations Manager",
        "roles": [],
        "groups": [],
    });
    let event = person(
        "iam/01-joiner-employee.json",
        iam_id,
        "ookafor",
        "olu.okafor@example.com",
        profile,
    );

    send(&app, &event).await;

    let expected = Seen {
        role: Role::Member,
        groups: vec!["All staff".into(), "Operations".into()],
        shares: vec![
            share("folder", "901100000200", "edit", "acl"),
            share("list", "901100000210", "edit", "acl"),
            share("list", "901100000211", "edit", "acl"),
            share("space", "901100000100", "read", "acl"),
        ],
    };
    assert_eq!(seen(&app, "olu.okafor@example.com"), expected);
    let (ops, staff, ws) = ("ops-manager-process-docs", "all-staff", workspace(&app));
    assert_eq!(
        open_rows(&app, iam_id).await,
        [
            row(GrantKind::Role, &ws, "member", staff, None),
            row(GrantKind::Group, "All staff", "member", staff, None),
            row(GrantKind::Group, "Operations", "member", ops, None),
            row(GrantKind::Share, "folder:901100000200", "edit", ops, None),
            row(GrantKind::Share, "list:901100000210", "edit", ops, None),
            row(GrantKind::Share, "list:901100000211", "edit", ops, None),
            row(GrantKind::Share, "space:901100000100", "read", staff, None),
        ]
    );
    app.stop().await;
}

/// `lifecycle::a_mover_loses_what_no_rule_grants_and_gains_the_new` checks the same events
/// with `contains`; this one compares everything, before and after, and what was closed.
#[tokio::test]
async fn a_contributor_who_becomes_an_approver_changes_group_and_level_and_nothing_else() {
    let app = spawn_app().await;
    let jane = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;
    let before = app.store.open_grants(jane).await.unwrap();

    send(&app, &fixture_json("iam/03-mover-dept-title-role.json")).await;

    let expected = Seen {
        role: Role::Member,
        groups: vec!["All staff".into(), "Approvers".into()],
        shares: vec![
            share("list", "901100000310", "create", "acl"),
            share("space", "901100000100", "read", "acl"),
        ],
    };
    assert_eq!(seen(&app, "jane.doe@example.com"), expected);
    let (approver, staff, ws) = ("handover-approvers", "all-staff", workspace(&app));
    let handover = "list:901100000310";
    assert_eq!(
        open_rows(&app, jane).await,
        [
            row(GrantKind::Role, &ws, "member", staff, None),
            row(GrantKind::Group, "All staff", "member", staff, None),
            row(GrantKind::Group, "Approvers", "member", approver, None),
            row(GrantKind::Share, handover, "create", approver, None),
            row(GrantKind::Share, "space:901100000100", "read", staff, None),
        ]
    );
    let contributor = "handover-contributors";
    let closed = [
        ended(
            GrantKind::Group,
            "Contributors",
            "member",
            contributor,
            "no rule grants it",
        ),
        ended(
            GrantKind::Share,
            handover,
            "edit",
            contributor,
            "level changed",
        ),
    ];
    assert_eq!(closed_rows(&app, jane).await, BTreeSet::from(closed));
    let after = app.store.open_grants(jane).await.unwrap();
    let kept: Vec<i64> = before
        .iter()
        .filter(|g| g.rule == staff)
        .map(|g| g.id)
        .collect();
    let still: Vec<i64> = after
        .iter()
        .filter(|g| g.rule == staff)
        .map(|g| g.id)
        .collect();
    assert_eq!(kept.len(), 3, "role, All staff and the Company space");
    assert_eq!(still, kept, "the all-staff rows were left as they were");
    app.stop().await;
}

#[tokio::test]
async fn an_agency_identity_comments_on_creative_review_until_its_contract_ends() {
    let app = spawn_app().await;
    let iam_id = "b4c5d6e7f8091a2b3c4d5e6f7a8b9c0d";
    let end: DateTime<Utc> = (Utc::now() + chrono::Duration::seconds(6))
        .to_rfc3339_opts(SecondsFormat::Secs, true)
        .parse()
        .unwrap();
    let profile = json!({
        "department": "Creative",
        "title": "Art Director",
        "company": "Brightline Agency",
        "employment_type": "partner",
        "end_at": end.to_rfc3339_opts(SecondsFormat::Secs, true),
        "end_date": null,
    });
    let event = person(
        "iam/02-joiner-contractor-end-date.json",
        iam_id,
        "ayoung",
        "ari.young@agency.example.com",
        profile,
    );

    send(&app, &event).await;

    let expected = Seen {
        role: Role::Guest,
        groups: vec![],
        shares: vec![share("list", "901100000420", "comment", "guest")],
    };
    assert_eq!(seen(&app, "ari.young@agency.example.com"), expected);
    let account = app
        .sandbox
        .state()
        .find_by_email("ari.young@agency.example.com");
    let account = account.unwrap().id;
    let (rule, until, ws) = (
        "agency-creative-review",
        Some(end.timestamp_millis()),
        workspace(&app),
    );
    let review = "list:901100000420";
    assert_eq!(
        open_rows(&app, iam_id).await,
        [
            row(GrantKind::Role, &ws, "guest", rule, until),
            row(GrantKind::Share, review, "comment", rule, until),
        ]
    );

    wait_until_removed(&app, iam_id, "ari.young@agency.example.com").await;

    assert_eq!(app.sandbox.state().shares_of_user(account), []);
    let closed = [
        ended(GrantKind::Role, &ws, "guest", rule, "contract ended"),
        ended(GrantKind::Share, review, "comment", rule, "contract ended"),
    ];
    assert_eq!(closed_rows(&app, iam_id).await, BTreeSet::from(closed));
    app.stop().await;
}
