//! Workspace role changes, through the real receivers and broker: a joiner the rules make an
//! admin, then movers back to member, to a custom role, off it and to admin again. ClickUp
//! shows the role each time and the role grant rows open and close with it.

use clickup_iam_router::sandbox::Role;
use serde_json::{json, Value};

use crate::{
    helpers::{fixture_json, spawn_app_with, Options, TestApp},
    lifecycle_kit::{send, update, JANE, JANE_EMAIL},
};

/// A custom role of the sandbox workspace that inherits member.
const MEMBER_CUSTOM: u64 = 998_877;

/// Directors administer, leads are members with a custom role, other employees members.
const ROLES: &str = r#"
mappings:
  - name: directors-administer
    when: person.status == "active" && person.title.contains("Director")
    role: admin
    groups: ["All staff"]
  - name: leads-custom-role
    when: person.status == "active" && person.title.contains("Lead")
    role: member
    custom_role_id: 998877
    groups: ["All staff"]
  - name: staff
    when: person.status == "active" && person.employment_type == "employee"
    role: member
    groups: ["All staff"]
"#;

/// Jane's role and custom role as ClickUp's member read shows them.
async fn role_in_clickup(app: &TestApp, user_id: u64) -> (Value, Value) {
    let token = app.settings.clickup.clickup_token.expose().to_owned();
    let answer: Value = reqwest::Client::new()
        .get(format!(
            "{}/v2/team/{}/user/{user_id}",
            app.sandbox.base_url(),
            app.team_id
        ))
        .header("Authorization", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user = &answer["member"]["user"];
    (user["role"].clone(), user["custom_role"]["id"].clone())
}

/// A role grant row as the grants table keeps it.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct RoleRow {
    level: String,
    custom_role_id: Option<i64>,
    ended_at: Option<i64>,
    end_reason: Option<String>,
}

/// Every role grant row of Jane's, oldest first: (level, custom role, open, end reason).
async fn role_rows(app: &TestApp) -> Vec<(String, Option<i64>, bool, Option<String>)> {
    let rows: Vec<RoleRow> = sqlx::query_as(
        "SELECT level, custom_role_id, ended_at, end_reason FROM grants
         WHERE iam_id = $1 AND kind = 'role' ORDER BY id",
    )
    .bind(JANE)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|row| {
            let open = row.ended_at.is_none();
            (row.level, row.custom_role_id, open, row.end_reason)
        })
        .collect()
}

#[tokio::test]
async fn role_changes_reach_clickup_and_the_role_grants_follow() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("roles.yaml"), ROLES).unwrap();
    let app = spawn_app_with(Options {
        rules_dir: Some(rules.path().to_owned()),
        ..Options::default()
    })
    .await;
    let mut joiner = fixture_json("iam/01-joiner-employee.json");
    joiner["data"]["user"]["profile"]["title"] = json!("Sales Director");
    assert_eq!(send(&app, &joiner).await, "applied");
    let jane = app.sandbox.state().find_by_email(JANE_EMAIL).unwrap();
    assert_eq!(jane.role, Role::Admin);
    let custom = MEMBER_CUSTOM as i64;
    let mut expected = vec![("admin".to_owned(), None, true, None)];
    assert_eq!(role_rows(&app).await, expected);
    // (title, role in ClickUp, custom role in ClickUp, the grant opened)
    let moves = [
        (
            "Account Executive",
            Role::Member,
            Value::Null,
            ("member", None),
        ),
        (
            "Team Lead",
            Role::Member,
            json!(MEMBER_CUSTOM),
            ("member", Some(custom)),
        ),
        (
            "Account Executive",
            Role::Member,
            Value::Null,
            ("member", None),
        ),
        ("Sales Director", Role::Admin, Value::Null, ("admin", None)),
    ];

    for (n, (title, role, custom_role, (level, custom_id))) in moves.into_iter().enumerate() {
        let time = format!("2026-0{}-01T09:00:00Z", n + 4);
        let mut mover = update(
            &format!("jane-move-{n}"),
            JANE,
            &time,
            json!({ "title": title }),
        );
        mover["data"]["lifecycle"] = json!("mover");

        assert_eq!(send(&app, &mover).await, "applied", "{title}");

        let shown = app.sandbox.state().find_by_email(JANE_EMAIL).unwrap();
        assert_eq!((shown.id, shown.role), (jane.id, role), "{title}");
        let in_clickup = role_in_clickup(&app, jane.id).await;
        assert_eq!(in_clickup, (json!(role.id()), custom_role), "{title}");
        let last = expected.last_mut().unwrap();
        (last.2, last.3) = (false, Some("role changed".to_owned()));
        expected.push((level.to_owned(), custom_id, true, None));
        assert_eq!(role_rows(&app).await, expected, "{title}");
    }
    app.stop().await;
}
