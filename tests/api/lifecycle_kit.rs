//! What the lifecycle tests share: the people of the fixtures, sending an IAM event and
//! waiting for its outcome, reading the grants on record and the sandbox's groups, waiting
//! for a removal, and rule folders written for one test.

use std::{collections::BTreeSet, path::Path, time::Duration};

use chrono::{SecondsFormat, Utc};
use clickup_iam_router::{
    sandbox::{SandboxShare, SandboxState},
    store::GrantKind,
};
use serde_json::{json, Value};

use crate::helpers::{fixture_json, TestApp};

/// Jane Doe, the employee of fixtures 01, 03, 05 and 06.
pub const JANE: &str = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";
pub const JANE_EMAIL: &str = "jane.doe@example.com";
/// Carlos Rivera, the contractor of fixture 02.
pub const CARLOS: &str = "1a2b3c4d5e6f47808192a3b4c5d6e7f8";
pub const CARLOS_EMAIL: &str = "carlos.rivera@example.com";

pub fn share(object_type: &str, object_id: &str, level: &str, via: &str) -> SandboxShare {
    SandboxShare {
        object_type: object_type.into(),
        object_id: object_id.into(),
        level: level.into(),
        via: via.into(),
    }
}

/// Sends an IAM event (202 expected) and waits for the worker's outcome.
pub async fn send(app: &TestApp, event: &Value) -> String {
    let response = app.post_iam(&serde_json::to_vec(event).unwrap()).await;
    assert_eq!(
        response.status().as_u16(),
        202,
        "{}",
        response.text().await.unwrap()
    );
    app.wait_processed(event).await.outcome
}

/// The person's open grants as (kind, object, level), sorted.
pub async fn open_grants(app: &TestApp, iam_id: &str) -> Vec<(GrantKind, String, String)> {
    let grants = app.store.open_grants(iam_id).await.unwrap();
    let mut grants: Vec<_> = grants
        .into_iter()
        .map(|g| (g.kind, g.object, g.level))
        .collect();
    grants.sort();
    grants
}

/// The workspace role grant as the grants table records it.
pub fn role_grant(app: &TestApp, level: &str) -> (GrantKind, String, String) {
    (
        GrantKind::Role,
        format!("workspace:{}", app.team_id),
        level.into(),
    )
}

/// The names of every sandbox user group `user_id` is a member of.
pub fn groups_of(state: &SandboxState, user_id: u64) -> BTreeSet<String> {
    state
        .groups()
        .into_iter()
        .filter(|group| group.members.contains(&user_id))
        .map(|group| group.name)
        .collect()
}

/// The set of the given group names.
pub fn names(groups: &[&str]) -> BTreeSet<String> {
    groups.iter().map(|name| name.to_string()).collect()
}

/// The `end_reason` of every grant of the person closed so far.
pub async fn end_reasons(app: &TestApp, iam_id: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT end_reason FROM grants WHERE iam_id = $1 AND ended_at IS NOT NULL ORDER BY id",
    )
    .bind(iam_id)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

/// Waits until `email` has no ClickUp account and `iam_id` no open grant.
pub async fn wait_until_removed(app: &TestApp, iam_id: &str, email: &str) {
    for _ in 0..300 {
        let gone = app.sandbox.state().find_by_email(email).is_none();
        if gone && open_grants(app, iam_id).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{email} still has a ClickUp account or open grants");
}

/// Fixture 01's joiner as another employee, `n`: own IAM id, email and event id.
pub fn employee(n: u32) -> (String, String, Value) {
    let iam_id = format!("e1e1{n:028x}");
    let email = format!("employee{n}@example.com");
    let mut event = fixture_json("iam/01-joiner-employee.json");
    event["id"] = json!(format!("lifecycle-joiner-{n}"));
    event["subject"] = json!(format!("user:{iam_id}"));
    event["correlationid"] = json!(format!("hire-{n}"));
    let user = &mut event["data"]["user"];
    user["id"] = json!(iam_id);
    user["email"] = json!(email);
    user["profile"]["email"] = json!(email);
    user["profile"]["emails"][0]["value"] = json!(email);
    (iam_id, email, event)
}

/// A partial `user.updated` of `iam_id` at `time` carrying only `profile`.
pub fn update(id: &str, iam_id: &str, time: &str, profile: Value) -> Value {
    let mut event = fixture_json("iam/03-mover-dept-title-role.json");
    event["id"] = json!(id);
    event["time"] = json!(time);
    event["subject"] = json!(format!("user:{iam_id}"));
    event["correlationid"] = json!(id);
    event["data"]["lifecycle"] = json!("update");
    event["data"]["user"] = json!({ "id": iam_id, "profile": profile });
    event["data"]
        .as_object_mut()
        .unwrap()
        .retain(|key, _| !matches!(key.as_str(), "changes" | "categories"));
    event
}

/// Copies the shipped lifecycle rules into `into`, with `replace` applied to their text.
pub fn shipped_rules_with(into: &Path, replace: &[(&str, &str)]) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for name in ["employees.yaml", "externals.yaml"] {
        let mut text = std::fs::read_to_string(shipped.join(name)).unwrap();
        for (from, to) in replace {
            text = text.replace(from, to);
        }
        std::fs::write(into.join(name), text).unwrap();
    }
}

/// The contractor fixture with its contract ending `seconds` from now (`end_at` only).
pub fn contractor_ending_in(seconds: i64) -> Value {
    let mut event = fixture_json("iam/02-joiner-contractor-end-date.json");
    let end = Utc::now() + chrono::Duration::seconds(seconds);
    let profile = &mut event["data"]["user"]["profile"];
    profile["end_at"] = json!(end.to_rfc3339_opts(SecondsFormat::Secs, true));
    profile["end_date"] = Value::Null;
    event
}

/// Jane (account `user_id`) has exactly what the shipped rules give the employee of fixture
/// 01, in ClickUp and on record: member; "All staff" and "Contributors"; the Company space to
/// read and the handover list to edit, both through the ACL endpoint.
pub async fn assert_has_the_employee_joiners_access(app: &TestApp, user_id: u64) {
    let state = app.sandbox.state();

    assert_eq!(
        state.shares_of_user(user_id),
        vec![
            share("list", "901100000310", "edit", "acl"),
            share("space", "901100000100", "read", "acl")
        ]
    );
    assert_eq!(
        groups_of(&state, user_id),
        names(&["All staff", "Contributors"])
    );
    assert_eq!(
        open_grants(app, JANE).await,
        vec![
            role_grant(app, "member"),
            (GrantKind::Group, "All staff".into(), "member".into()),
            (GrantKind::Group, "Contributors".into(), "member".into()),
            (GrantKind::Share, "list:901100000310".into(), "edit".into()),
            (GrantKind::Share, "space:901100000100".into(), "read".into()),
        ]
    );
}
