//! Access drift (`reconcile::drift`): a person provisioned through a signed IAM joiner event,
//! then changed by hand in the sandbox; the report sees it without changing anything, the
//! repair brings ClickUp back to the desired state through the applier (grant and audit
//! rows), a second repair finds nothing, and the brake holds a repair that removes too much
//! until a `brake release` carries it out.

use std::time::Duration;

use clickup_iam_router::{
    operator,
    reconcile::drift::{self, DriftContext, DriftKind},
    rules::BrakeSettings,
    sandbox::{Role, SandboxShare},
    store::AuditRecord,
    worker::brake::Brake,
};
use serde_json::{json, Value};
use sqlx::Row;

use crate::{
    helpers::{fixture_json, spawn_app, spawn_app_with, Options, TestApp},
    reconcile::{reconcile, stdout},
};

const JANE: &str = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";
/// Desired for Jane (employees.yaml), removed by hand.
const DESIRED_LIST: &str = "901100000310";
/// Named by the rules, not for Jane, shared with her by hand.
const HAND_LIST: &str = "901100000210";

fn share(object_type: &str, object_id: &str, level: &str) -> SandboxShare {
    SandboxShare {
        object_type: object_type.into(),
        object_id: object_id.into(),
        level: level.into(),
        via: "acl".into(),
    }
}

/// Jane joins through the IAM; then the owner shares one list with her and unshares another
/// by hand. Returns her ClickUp id.
async fn jane_changed_by_hand(app: &TestApp) -> u64 {
    let joiner = fixture_json("iam/01-joiner-employee.json");
    let response = app.post_iam(&serde_json::to_vec(&joiner).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(app.wait_processed(&joiner).await.outcome, "applied");

    let state = app.sandbox.state();
    let jane = state.find_by_email("jane.doe@example.com").unwrap().id;
    let owner = state.users().into_iter().find(|u| u.role == Role::Owner);
    let hand = app.sandbox.as_user(owner.unwrap().id);
    hand.share("list", HAND_LIST, jane, "edit").unwrap();
    hand.unshare("list", DESIRED_LIST, jane).unwrap();
    jane
}

/// A drift context whose brake holds every removal.
async fn braked(app: &TestApp) -> DriftContext {
    let mut ctx = DriftContext::from_settings(&app.settings).await.unwrap();
    ctx.brake = Brake {
        settings: BrakeSettings {
            max_people: 0,
            max_percent: 100.0,
            window: Duration::from_secs(600),
        },
    };
    ctx
}

/// `(kind, object, desired, observed)` of each item.
fn items(items: &[drift::DriftItem]) -> Vec<(DriftKind, String, Option<String>, Option<String>)> {
    let row = |i: &drift::DriftItem| {
        (
            i.kind,
            i.object.clone(),
            i.desired.clone(),
            i.observed.clone(),
        )
    };
    items.iter().map(row).collect()
}

async fn audit_actions(app: &TestApp, run_id: &str) -> Vec<(String, String)> {
    let rows = app.store.audit_by_correlation(run_id).await.unwrap();
    rows.into_iter().map(|a| (a.action, a.outcome)).collect()
}

/// Every grant row of the object, oldest first: `(level, end reason, still open)`.
async fn grant_rows(app: &TestApp, object: &str) -> Vec<(String, Option<String>, bool)> {
    let rows = sqlx::query(
        // A truth value is an integer on SQLite and a boolean on PostgreSQL: read 0 or 1.
        "SELECT level, end_reason, CASE WHEN ended_at IS NULL THEN 1 ELSE 0 END FROM grants
         WHERE iam_id = $1 AND object = $2 ORDER BY id",
    )
    .bind(JANE)
    .bind(object)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get::<i64, _>(2) == 1))
        .collect()
}

#[tokio::test]
async fn drift_is_reported_read_only_then_repaired_once() {
    let app = spawn_app().await;
    let jane = jane_changed_by_hand(&app).await;
    let ctx = DriftContext::from_settings(&app.settings).await.unwrap();
    let shares_before = app.sandbox.state().shares_of_user(jane);
    let grants_before = app.store.open_grants(JANE).await.unwrap();

    let report = drift::run(&ctx, false).await.unwrap();

    let list = |id: &str| format!("list:{id}");
    let edit = || Some("edit".to_owned());
    assert_eq!(
        items(&report.items),
        vec![
            (DriftKind::Missing, list(DESIRED_LIST), edit(), None),
            (DriftKind::Unexpected, list(HAND_LIST), None, edit()),
        ]
    );
    assert!(report
        .items
        .iter()
        .all(|i| i.iam_id == JANE && i.clickup_user_id == Some(jane)));
    let unchecked: Vec<String> = report
        .unchecked
        .iter()
        .map(|u| u.object.to_string())
        .collect();
    assert_eq!(unchecked, vec!["space:901100000100"]);
    assert_eq!(app.sandbox.state().shares_of_user(jane), shares_before);
    assert_eq!(app.store.open_grants(JANE).await.unwrap(), grants_before);
    let summary = app
        .store
        .audit_by_correlation(&report.run_id)
        .await
        .unwrap();
    assert_eq!(summary.len(), 1);
    assert_eq!(
        (summary[0].action.as_str(), summary[0].outcome.as_str()),
        ("reconcile.drift", "reported")
    );
    let detail: Value = serde_json::from_str(&summary[0].detail).unwrap();
    assert_eq!(detail["counts"]["missing"], 1);
    assert_eq!(detail["counts"]["unexpected"], 1);
    let metrics =
        clickup_iam_router::metrics::render(ctx.clickup.metrics(), &ctx.store, None).await;
    for gauge in [
        "clickup_iam_router_drift_items{kind=\"missing\"} 1",
        "clickup_iam_router_drift_items{kind=\"unexpected\"} 1",
        "clickup_iam_router_drift_items{kind=\"level_differs\"} 0",
    ] {
        assert!(metrics.contains(gauge), "{gauge} in {metrics}");
    }
    let json = drift::to_json(&report).to_string();
    assert!(!json.contains("jane.doe"), "{json}");

    let repaired = drift::run(&ctx, true).await.unwrap();

    assert_eq!(repaired.items.len(), 2);
    assert_eq!(
        (repaired.applied, repaired.held.len(), repaired.failed.len()),
        (2, 0, 0)
    );
    assert!(repaired.remaining.is_empty(), "{:?}", repaired.remaining);
    assert_eq!(
        app.sandbox.state().shares_of_user(jane),
        vec![
            share("list", DESIRED_LIST, "edit"),
            share("space", "901100000100", "read")
        ]
    );
    assert_eq!(
        grant_rows(&app, &list(DESIRED_LIST)).await,
        vec![
            ("edit".into(), Some("missing in ClickUp".into()), false),
            ("edit".into(), None, true),
        ]
    );
    let actions = audit_actions(&app, &repaired.run_id).await;
    for expected in [
        ("reconcile.record_corrected", "recorded"),
        ("clickup.share", "applied"),
        ("clickup.unshare", "applied"),
        ("reconcile.drift", "applied"),
    ] {
        let expected = (expected.0.to_owned(), expected.1.to_owned());
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
    let rows = app
        .store
        .audit_by_correlation(&repaired.run_id)
        .await
        .unwrap();
    let share_row = rows.iter().find(|a| a.action == "clickup.share").unwrap();
    let detail: Value = serde_json::from_str(&share_row.detail).unwrap();
    assert_eq!(detail["cause"], "reconcile");

    let again = drift::run(&ctx, true).await.unwrap();

    assert!(again.items.is_empty(), "{:?}", again.items);
    assert_eq!(again.applied, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_repair_that_removes_past_the_brake_limit_is_held_and_additions_still_go_ahead() {
    let app = spawn_app().await;
    let jane = jane_changed_by_hand(&app).await;
    let ctx = braked(&app).await;

    let report = drift::run(&ctx, true).await.unwrap();

    assert_eq!(report.held.len(), 1);
    assert_eq!(report.held[0].iam_id, JANE);
    assert_eq!(
        report.held[0].actions,
        vec![format!("unshare list:{HAND_LIST}")]
    );
    assert_eq!(
        app.sandbox.state().shares_of_user(jane),
        vec![
            share("list", HAND_LIST, "edit"),
            share("list", DESIRED_LIST, "edit"),
            share("space", "901100000100", "read")
        ]
    );
    assert_eq!(
        items(&report.remaining),
        vec![(
            DriftKind::Unexpected,
            format!("list:{HAND_LIST}"),
            None,
            Some("edit".into())
        )]
    );
    let held = ctx.brake.held(&app.store).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].iam_id, JANE);
    let actions = audit_actions(&app, &report.run_id).await;
    assert!(
        actions.contains(&("brake.hold".into(), "held".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("reconcile.drift".into(), "held".into())),
        "{actions:?}"
    );
    assert!(
        !actions.iter().any(|(a, _)| a == "clickup.unshare"),
        "{actions:?}"
    );
    app.stop().await;
}

/// The held removal of a share added by hand is carried out by `brake release`: ClickUp is read
/// again and the share removed (cause `reconcile`, the releaser as actor); a release repeated
/// after a crash before the hold was marked removes nothing twice; a later report finds none.
#[tokio::test]
async fn a_released_drift_hold_removes_the_share_added_by_hand_once() {
    let app = spawn_app().await;
    let jane = jane_changed_by_hand(&app).await;
    let ctx = braked(&app).await;
    assert_eq!(drift::run(&ctx, true).await.unwrap().held.len(), 1);
    let correlation = drift::release_correlation_id(JANE);
    let unshares = || async {
        let rows = app.store.audit_by_correlation(&correlation).await.unwrap();
        let unshare = |a: &AuditRecord| a.action == "clickup.unshare";
        rows.into_iter().filter(unshare).collect::<Vec<_>>()
    };
    let released_by = || async {
        sqlx::query_scalar::<_, Option<String>>("SELECT released_by FROM held_removals")
            .fetch_all(app.store.pool())
            .await
            .unwrap()
    };

    operator::release_brake(app.settings.clone(), "test-operator")
        .await
        .unwrap();

    let left = [
        share("list", DESIRED_LIST, "edit"),
        share("space", "901100000100", "read"),
    ];
    assert_eq!(app.sandbox.state().shares_of_user(jane), left);
    assert_eq!(released_by().await, vec![Some("test-operator".to_owned())]);
    let rows = unshares().await;
    let detail: Value = serde_json::from_str(&rows[0].detail).unwrap();
    let row = (rows.len(), rows[0].actor.as_str(), rows[0].object.clone());
    let hand = Some(format!("list:{HAND_LIST}"));
    assert_eq!(
        (row, &detail["cause"]),
        ((1, "test-operator", hand), &json!("reconcile"))
    );

    sqlx::query("UPDATE held_removals SET released_at = NULL, released_by = NULL")
        .execute(app.store.pool())
        .await
        .unwrap();
    operator::release_brake(app.settings.clone(), "ops")
        .await
        .unwrap();

    assert_eq!(unshares().await.len(), 1);
    assert_eq!(released_by().await, vec![Some("ops".to_owned())]);
    let after = drift::run(&ctx, false).await.unwrap();
    assert!(after.items.is_empty(), "{:?}", after.items);
    app.stop().await;
}

#[tokio::test]
async fn an_account_given_back_by_hand_to_a_leaver_is_removed_whatever_the_brake() {
    let app = spawn_app().await;
    let jane = jane_changed_by_hand(&app).await;
    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    leaver["subject"] = json!(format!("user:{JANE}"));
    leaver["data"]["user"] = json!({"id": JANE, "email": "jane.doe@example.com"});
    let response = app.post_iam(&serde_json::to_vec(&leaver).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(app.wait_processed(&leaver).await.outcome, "removed_member");
    let state = app.sandbox.state();
    assert!(!state.users().iter().any(|u| u.id == jane && u.active));
    let owner = state.users().into_iter().find(|u| u.role == Role::Owner);
    let hand = app.sandbox.as_user(owner.unwrap().id);
    let again = hand.invite("jane.doe@example.com", Role::Member).unwrap();
    let ctx = braked(&app).await;

    let report = drift::run(&ctx, true).await.unwrap();

    assert_eq!(
        items(&report.items),
        vec![(
            DriftKind::Unexpected,
            format!("workspace:{}", app.team_id),
            None,
            Some("member".into())
        )]
    );
    assert!(report.held.is_empty(), "{:?}", report.held);
    assert!(report.remaining.is_empty(), "{:?}", report.remaining);
    let users = app.sandbox.state().users();
    assert!(!users.iter().any(|u| u.id == again && u.active));
    app.stop().await;
}

/// The acceptance through the command: `reconcile --only drift` reports a share added by hand
/// (and one taken away) and changes nothing; `--apply` repairs both; a third run finds none.
#[tokio::test]
async fn the_reconcile_command_reports_drift_and_repairs_it_with_apply() {
    let app = spawn_app_with(Options {
        clickup_webhook: true,
        ..Options::default()
    })
    .await;
    let jane = jane_changed_by_hand(&app).await;
    let shares_before = app.sandbox.state().shares_of_user(jane);

    let report = reconcile(&app, &["--only", "drift"]).await;

    assert!(report.status.success(), "{report:?}");
    let text = stdout(&report);
    let counts = text.lines().next().unwrap();
    assert!(
        counts.starts_with("drift: people=")
            && counts.contains(" missing=1 unexpected=1 level_differs=0 "),
        "{text}"
    );
    assert!(text.contains(&format!("list:{HAND_LIST}")), "{text}");
    assert!(!text.contains("@example.com"), "ids only: {text}");
    assert_eq!(app.sandbox.state().shares_of_user(jane), shares_before);

    let repair = reconcile(&app, &["--only", "drift", "--apply"]).await;

    assert!(repair.status.success(), "{repair:?}");
    assert!(
        stdout(&repair).contains(" remaining=0"),
        "{}",
        stdout(&repair)
    );
    let objects: Vec<String> = app
        .sandbox
        .state()
        .shares_of_user(jane)
        .iter()
        .map(|s| s.object_id.clone())
        .collect();
    assert!(objects.contains(&DESIRED_LIST.to_owned()), "{objects:?}");
    assert!(!objects.contains(&HAND_LIST.to_owned()), "{objects:?}");

    let again = reconcile(&app, &["--only", "drift"]).await;
    assert!(again.status.success(), "{again:?}");
    let again = stdout(&again);
    assert!(
        again.contains(" missing=0 unexpected=0 level_differs=0 "),
        "{again}"
    );
}
