//! Mass removals through SCIM pass the brake (#8), through the real receiver and broker: SCIM
//! removals past the limit are held (nothing removed, `held_removals` rows, `brake.hold`) until
//! `brake release` deprovisions them; leavers from the IAM's REST driver are never held; a
//! release leaves a person who was re-enabled or created again after the hold.

use std::path::Path;

use clickup_iam_router::operator;
use serde_json::{json, Value};

use crate::helpers::{fixture_json, spawn_app_with, Options, TestApp};

const OKTA: &str = "urn:scim:client:okta";
const LIMIT: usize = 3;

/// The shipped lifecycle rules with the brake's limit at `max_people` (the share of managed
/// identities off: this small workspace would otherwise be limited to one person).
fn rules_with_limit(into: &Path, max_people: usize) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for name in ["employees.yaml", "externals.yaml"] {
        let text = std::fs::read_to_string(shipped.join(name)).unwrap();
        assert!(text.contains("max_people: 10, max_percent: 5,") || !text.contains("brake"));
        let text = text.replace(
            "max_people: 10, max_percent: 5,",
            &format!("max_people: {max_people}, max_percent: 100,"),
        );
        std::fs::write(into.join(name), text).unwrap();
    }
}

fn iam_id(n: usize) -> String {
    format!("5c1b{n:028x}")
}

fn email(n: usize) -> String {
    format!("scim-person{n}@example.com")
}

/// A joiner from the IAM's REST driver: person `n`, with `email`.
fn joiner(n: usize, email: &str) -> Value {
    let mut event = fixture_json("iam/01-joiner-employee.json");
    event["id"] = json!(format!("scim-brake-joiner-{n}"));
    event["subject"] = json!(format!("user:{}", iam_id(n)));
    event["correlationid"] = json!(format!("hire-{n}"));
    event["data"]["user"]["id"] = json!(iam_id(n));
    event["data"]["user"]["email"] = json!(email);
    event["data"]["user"]["profile"]["email"] = json!(email);
    event["data"]["user"]["profile"]["emails"][0]["value"] = json!(email);
    event
}

/// A SCIM client's PATCH `active: false` of person `n` (fixture 11), from `source`.
fn scim_disable(n: usize, source: &str) -> Value {
    let mut event = fixture_json("iam/11-from-scim-patch-active-false.json");
    event["id"] = json!(format!("scim-req-disable-{n}"));
    event["source"] = json!(source);
    event["subject"] = json!(format!("user:{}", iam_id(n)));
    event["data"]["user"]["id"] = json!(iam_id(n));
    event["data"]["user"]["ids"]["scim_id"] = json!(iam_id(n));
    event["data"]["user"]["username"] = json!(email(n));
    event
}

/// A DELETE of person `n` as a leaver (fixture 04's shape), from `source`.
fn leaver(n: usize, source: &str, sourcekind: &str) -> Value {
    let mut event = fixture_json("iam/04-leaver-terminated.json");
    event["id"] = json!(format!("scim-brake-leaver-{n}"));
    event["source"] = json!(source);
    event["sourcekind"] = json!(sourcekind);
    event["subject"] = json!(format!("user:{}", iam_id(n)));
    event["correlationid"] = json!(format!("leave-{n}"));
    event["data"]["user"] = json!({
        "id": iam_id(n),
        "email": email(n),
        "profile": { "status": "terminated" }
    });
    event
}

/// Half of the SCIM removals are disables, half deletions.
fn scim_removal(n: usize) -> Value {
    match n % 2 {
        0 => scim_disable(n, OKTA),
        _ => leaver(n, OKTA, "scim"),
    }
}

async fn send(app: &TestApp, event: &Value) -> String {
    let response = app.post_iam(&serde_json::to_vec(event).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202, "{}", event["id"]);
    app.wait_processed(event).await.outcome
}

async fn joined(rules: &Path, people: usize) -> TestApp {
    let app = spawn_app_with(Options {
        rules_dir: Some(rules.to_path_buf()),
        ..Options::default()
    })
    .await;
    for n in 0..people {
        assert_eq!(send(&app, &joiner(n, &email(n))).await, "applied");
    }
    app
}

async fn count(app: &TestApp, query: &str) -> i64 {
    sqlx::query_scalar(query)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

async fn open_grants(app: &TestApp, n: usize) -> usize {
    app.store.open_grants(&iam_id(n)).await.unwrap().len()
}

#[tokio::test]
async fn scim_removals_past_the_limit_are_held_until_a_release_carries_them_out() {
    let rules = tempfile::tempdir().unwrap();
    rules_with_limit(rules.path(), LIMIT);
    let people = 2 * LIMIT;
    let app = joined(rules.path(), people).await;
    let state = app.sandbox.state();

    let mut outcomes = Vec::new();
    for n in 0..people {
        outcomes.push(send(&app, &scim_removal(n)).await);
    }

    let removed = ["removed_member"; LIMIT];
    let held = ["held_by_brake"; LIMIT];
    assert_eq!(outcomes, [removed, held].concat());
    for n in 0..people {
        let present = state.find_by_email(&email(n)).is_some();
        assert_eq!(present, n >= LIMIT, "person {n} in the sandbox");
        assert_eq!(open_grants(&app, n).await > 0, n >= LIMIT, "person {n}");
    }
    let holds: Vec<(String, String)> = sqlx::query_as(
        "SELECT iam_id, cause FROM held_removals WHERE released_at IS NULL ORDER BY id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    let ids: Vec<&str> = holds.iter().map(|(id, _)| id.as_str()).collect();
    let expected: Vec<String> = (LIMIT..people).map(iam_id).collect();
    assert_eq!(ids, expected);
    assert!(holds.iter().all(|(_, cause)| cause.starts_with("scim: ")));
    let audit_holds = "SELECT COUNT(*) FROM audit WHERE action = 'brake.hold'
         AND json_extract(detail, '$.cause') = 'scim'";
    assert_eq!(count(&app, audit_holds).await, LIMIT as i64);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let gauge = format!("clickup_iam_router_brake_held_people {LIMIT}");
    assert!(metrics.contains(&gauge), "{metrics}");

    operator::release_brake(app.settings.clone(), "test-operator")
        .await
        .unwrap();

    for n in 0..people {
        assert!(
            state.find_by_email(&email(n)).is_none(),
            "person {n} removed"
        );
        assert_eq!(open_grants(&app, n).await, 0, "person {n}'s grants closed");
    }
    let released = "SELECT COUNT(*) FROM held_removals WHERE released_by = 'test-operator'";
    assert_eq!(count(&app, released).await, LIMIT as i64);
    let rows = "SELECT COUNT(*) FROM audit WHERE action = 'clickup.remove_member'
         AND outcome = 'removed_member'
         AND json_extract(detail, '$.cause') = 'brake-release'
         AND json_extract(detail, '$.released_by') = 'test-operator'";
    assert_eq!(count(&app, rows).await, LIMIT as i64);
    let ended = format!(
        "SELECT COUNT(DISTINCT iam_id) FROM grants WHERE iam_id IN ('{}')
         AND ended_by LIKE 'leaver:urn:scim:client:okta %'
         AND end_reason IN ('disabled', 'terminated')",
        expected.join("', '")
    );
    assert_eq!(count(&app, &ended).await, LIMIT as i64);

    let audit_rows = count(&app, "SELECT COUNT(*) FROM audit").await;
    operator::release_brake(app.settings.clone(), "test-operator")
        .await
        .unwrap();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit").await,
        audit_rows,
        "a second release finds nothing to do"
    );
    app.stop().await;
}

#[tokio::test]
async fn leavers_from_the_iam_rest_driver_are_removed_at_once_and_never_engage_the_brake() {
    let rules = tempfile::tempdir().unwrap();
    rules_with_limit(rules.path(), LIMIT);
    let people = 2 * LIMIT;
    let app = joined(rules.path(), people + 1).await;
    let state = app.sandbox.state();
    let rest = fixture_json("iam/04-leaver-terminated.json")["source"].clone();

    let mut outcomes = Vec::new();
    for n in 0..people {
        let event = leaver(n, rest.as_str().unwrap(), "idm-rest-driver");
        outcomes.push(send(&app, &event).await);
    }
    let after = send(&app, &scim_removal(people)).await;

    assert_eq!(outcomes, vec!["removed_member"; people]);
    assert_eq!(
        after, "removed_member",
        "IAM-driver leavers are not counted"
    );
    for n in 0..=people {
        assert!(
            state.find_by_email(&email(n)).is_none(),
            "person {n} removed"
        );
        assert_eq!(open_grants(&app, n).await, 0, "person {n}'s grants closed");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM held_removals").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_release_leaves_a_person_re_enabled_or_created_again_after_the_hold() {
    let rules = tempfile::tempdir().unwrap();
    rules_with_limit(rules.path(), 0);
    let app = joined(rules.path(), 2).await;
    let state = app.sandbox.state();
    assert_eq!(send(&app, &scim_disable(0, OKTA)).await, "held_by_brake");
    assert_eq!(send(&app, &leaver(1, OKTA, "scim")).await, "held_by_brake");

    // Person 0 is re-enabled by the SCIM client; person 1 is created again under a new id
    // with the same e-mail, and the router links the same ClickUp account to them.
    let mut enable = fixture_json("iam/06-reenable.json");
    enable["id"] = json!("scim-req-enable-0");
    enable["source"] = json!(OKTA);
    enable["sourcekind"] = json!("scim");
    enable["subject"] = json!(format!("user:{}", iam_id(0)));
    enable["data"]["user"] = json!({ "id": iam_id(0), "email": email(0) });
    assert_eq!(send(&app, &enable).await, "applied");
    let mut again = joiner(2, &email(1));
    again["source"] = json!(OKTA);
    again["sourcekind"] = json!("scim");
    assert_eq!(send(&app, &again).await, "applied");

    operator::release_brake(app.settings.clone(), "test-operator")
        .await
        .unwrap();

    for n in 0..2 {
        assert!(state.find_by_email(&email(n)).is_some(), "person {n} kept");
    }
    assert!(open_grants(&app, 2).await > 0);
    let stale = "SELECT COUNT(*) FROM audit WHERE action = 'deprovision' AND outcome = 'stale'
         AND json_extract(detail, '$.cause') = 'brake-release'";
    assert_eq!(count(&app, stale).await, 2);
    let open = "SELECT COUNT(*) FROM held_removals WHERE released_at IS NULL";
    assert_eq!(count(&app, open).await, 0, "both holds released");
    app.stop().await;
}
