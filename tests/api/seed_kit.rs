//! What the seed-case tests (`seed_cases`) compare and how they send: people made from the
//! IAM fixtures, what ClickUp shows for an account (role, groups, shares) and the grant rows
//! on record, open and closed.

use std::{collections::BTreeSet, time::Duration};

use clickup_iam_router::{
    sandbox::{Role, SandboxShare},
    store::GrantKind,
};
use serde_json::{json, Value};

pub use crate::lifecycle_kit::share;
use crate::{
    helpers::{fixture_json, TestApp},
    lifecycle_kit,
};

/// An open grant row as compared here: kind, object, level, rule, until (epoch ms).
pub type Row = (GrantKind, String, String, String, Option<i64>);

/// A closed grant row: kind, object, level, rule, why it ended.
pub type Ended = (GrantKind, String, String, String, String);

/// What ClickUp shows for one account: its role, its user groups and its shares, sorted.
#[derive(Debug, PartialEq)]
pub struct Seen {
    pub role: Role,
    pub groups: Vec<String>,
    pub shares: Vec<SandboxShare>,
}

pub fn row(kind: GrantKind, object: &str, level: &str, rule: &str, until: Option<i64>) -> Row {
    (kind, object.into(), level.into(), rule.into(), until)
}

pub fn ended(kind: GrantKind, object: &str, level: &str, rule: &str, reason: &str) -> Ended {
    (
        kind,
        object.into(),
        level.into(),
        rule.into(),
        reason.into(),
    )
}

/// `base` (a fixture) about another person: `iam_id`, `login` and `email`, with `profile`'s
/// fields set over the fixture's.
pub fn person(base: &str, iam_id: &str, login: &str, email: &str, profile: Value) -> Value {
    let mut event = fixture_json(base);
    event["id"] = json!(format!("seed-case:{iam_id}"));
    event["subject"] = json!(format!("user:{iam_id}"));
    event["partitionkey"] = json!(format!("user:{iam_id}"));
    event["correlationid"] = json!(format!("seed-{login}"));

    let user = &mut event["data"]["user"];
    user["id"] = json!(iam_id);
    user["ids"] = json!({ "edir_guid_hex": iam_id });
    user["dn"] = json!(format!("cn={login},ou=users,o=data"));
    user["username"] = json!(login);
    user["email"] = json!(email);
    user["profile"]["email"] = json!(email);
    user["profile"]["emails"] = json!([{ "value": email, "type": "work", "primary": true }]);
    for (key, value) in profile.as_object().expect("profile fields") {
        user["profile"][key] = value.clone();
    }
    event
}

pub async fn send(app: &TestApp, event: &Value) {
    assert_eq!(lifecycle_kit::send(app, event).await, "applied");
}

pub fn seen(app: &TestApp, email: &str) -> Seen {
    let state = app.sandbox.state();
    let user = state
        .find_by_email(email)
        .unwrap_or_else(|| panic!("{email} has no ClickUp account"));
    let mut groups: Vec<String> = state
        .groups()
        .into_iter()
        .filter(|group| group.members.contains(&user.id))
        .map(|group| group.name)
        .collect();
    groups.sort();
    Seen {
        role: user.role,
        groups,
        shares: state.shares_of_user(user.id),
    }
}

pub async fn open_rows(app: &TestApp, iam_id: &str) -> Vec<Row> {
    let grants = app.store.open_grants(iam_id).await.unwrap();
    let mut rows: Vec<Row> = grants
        .into_iter()
        .map(|g| (g.kind, g.object, g.level, g.rule, g.until))
        .collect();
    rows.sort();
    rows
}

/// Every closed grant row: kind, object, level, rule and why it ended.
pub async fn closed_rows(app: &TestApp, iam_id: &str) -> BTreeSet<Ended> {
    let history = app.store.grant_history_of(iam_id).await.unwrap();
    history
        .into_iter()
        .filter(|g| g.ended_at.is_some())
        .map(|g| {
            (
                g.kind,
                g.object,
                g.level,
                g.rule,
                g.end_reason.unwrap_or_default(),
            )
        })
        .collect()
}

pub fn workspace(app: &TestApp) -> String {
    format!("workspace:{}", app.team_id)
}

/// Waits until the account is gone from ClickUp and no grant of the person is open.
pub async fn wait_until_removed(app: &TestApp, iam_id: &str, email: &str) {
    for _ in 0..400 {
        let gone = app.sandbox.state().find_by_email(email).is_none();
        if gone && app.store.open_grants(iam_id).await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{email} still has access after the contract's end");
}
