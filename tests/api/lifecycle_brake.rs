//! Leavers that arrive as updates, through the real receivers and broker: an IAM update that
//! terminates or disables a person, or carries an end already past, removes them at once even
//! while the mass-removal brake holds other removals; one that came through SCIM meets the
//! brake, as SCIM's removals do.

use clickup_iam_router::store::GrantKind;
use serde_json::{json, Value};

use crate::{
    helpers::{fixture_json, spawn_app_with, Options, TestApp},
    lifecycle_kit::{
        employee, end_reasons, open_grants, send, shipped_rules_with, update, JANE, JANE_EMAIL,
    },
};

/// An update of person `n` (`employee(n)`) carrying `profile`, at a time after the joiner's.
fn update_of(n: u32, iam_id: &str, profile: Value) -> Value {
    update(
        &format!("lifecycle-update-{n}"),
        iam_id,
        "2026-07-01T09:00:00Z",
        profile,
    )
}

/// The audit rows of one event's correlation id that carry a cause, with it.
async fn causes(app: &TestApp, correlation_id: &str) -> Vec<(String, String)> {
    let rows = app
        .store
        .audit_by_correlation(correlation_id)
        .await
        .unwrap();
    rows.into_iter()
        .filter_map(|row| {
            let detail: Value = serde_json::from_str(&row.detail).ok()?;
            let cause = detail["cause"].as_str()?.to_owned();
            Some((row.action, cause))
        })
        .collect()
}

#[tokio::test]
async fn leavers_by_update_are_removed_while_the_brake_holds_other_removals() {
    let rules = tempfile::tempdir().unwrap();
    shipped_rules_with(rules.path(), &[("max_people: 10", "max_people: 0")]);
    let app = spawn_app_with(Options {
        rules_dir: Some(rules.path().to_owned()),
        ..Options::default()
    })
    .await;
    send(&app, &fixture_json("iam/01-joiner-employee.json")).await;
    let mover = fixture_json("iam/03-mover-dept-title-role.json");
    assert_eq!(
        send(&app, &mover).await,
        "held_by_brake",
        "the brake engages"
    );
    let past_end = "2026-06-30T17:00:00Z";
    // (person, what the update carries, the reason every grant closes with)
    let leavers = [
        (1, json!({ "status": "terminated" }), "terminated"),
        (2, json!({ "status": "disabled" }), "disabled"),
        (3, json!({ "end_at": past_end }), "contract ended"),
    ];

    for (n, profile, reason) in leavers {
        let (iam_id, email, joiner) = employee(n);
        send(&app, &joiner).await;
        assert_eq!(open_grants(&app, &iam_id).await.len(), 5, "person {n}");

        let outcome = send(&app, &update_of(n, &iam_id, profile)).await;

        assert_eq!(outcome, "applied", "person {n}");
        assert!(app.sandbox.state().find_by_email(&email).is_none(), "{n}");
        assert!(open_grants(&app, &iam_id).await.is_empty(), "person {n}");
        assert_eq!(end_reasons(&app, &iam_id).await, vec![reason; 5], "{n}");
        let causes = causes(&app, &format!("lifecycle-update-{n}")).await;
        assert!(!causes.is_empty(), "person {n}");
        assert!(
            causes.iter().all(|(_, cause)| cause == "leaver"),
            "not counted as rule removals: {causes:?}"
        );
    }

    let holds = app.store.open_holds().await.unwrap();
    let held: Vec<&str> = holds.iter().map(|hold| hold.iam_id.as_str()).collect();
    assert_eq!(held, vec![JANE], "only the mover's removals are held");
    assert!(app.sandbox.state().find_by_email(JANE_EMAIL).is_some());
    assert!(open_grants(&app, JANE).await.contains(&(
        GrantKind::Group,
        "Contributors".into(),
        "member".into()
    )));
    app.stop().await;
}

#[tokio::test]
async fn a_leaver_by_update_through_scim_meets_the_brake() {
    let rules = tempfile::tempdir().unwrap();
    shipped_rules_with(rules.path(), &[("max_people: 10", "max_people: 0")]);
    let app = spawn_app_with(Options {
        rules_dir: Some(rules.path().to_owned()),
        ..Options::default()
    })
    .await;
    let (iam_id, email, joiner) = employee(4);
    send(&app, &joiner).await;
    let mut leaver = update_of(4, &iam_id, json!({ "status": "terminated" }));
    leaver["source"] = json!("urn:scim:client:okta");
    leaver["sourcekind"] = json!("scim");

    let outcome = send(&app, &leaver).await;

    assert_eq!(outcome, "held_by_brake");
    assert!(app.sandbox.state().find_by_email(&email).is_some());
    assert_eq!(open_grants(&app, &iam_id).await.len(), 5);
    app.stop().await;
}
