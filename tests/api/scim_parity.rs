//! SCIM provisions through the rule pipeline (#8's acceptance): the same person created through
//! `/scim/v2` and arriving through `/webhooks/iam` gets the same ClickUp access in the sandbox
//! and the same grants on record, and `active: "False"` through SCIM deprovisions them as the
//! IAM's disable does. Each source runs against its own router and sandbox.

use std::time::Duration;

use clickup_iam_router::{
    sandbox::{Role, SandboxShare},
    store::GrantKind,
};
use serde_json::{json, Value};

use crate::{
    helpers::{fixture_json, spawn_app, Options, TestApp},
    scim_kit::{spawn_scim, Scim, CLIENT, CORE, ENTERPRISE},
};

/// The groups the shipped rules hand out.
const GROUPS: [&str; 4] = ["All staff", "Operations", "Contributors", "Approvers"];

/// One person, as the IAM's driver and a SCIM client would both describe them.
struct Person {
    iam_id: &'static str,
    user_name: &'static str,
    email: &'static str,
    title: &'static str,
    department: &'static str,
    location: &'static str,
    roles: &'static [&'static str],
}

const PEOPLE: [Person; 2] = [
    Person {
        iam_id: "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50",
        user_name: "jdoe",
        email: "jane.doe@example.com",
        title: "Account Executive",
        department: "Sales",
        location: "Boston",
        roles: &["Sales-Base"],
    },
    Person {
        iam_id: "3e0c6b2f9a8d4e71b5c4d3e2f1a0b9c8",
        user_name: "omar.ops",
        email: "omar.haddad@example.com",
        title: "Operations Manager",
        department: "Operations",
        location: "Leeds",
        roles: &["CS-Team"],
    },
];

/// What a person has: their role and shares in the sandbox ClickUp, the groups they are in,
/// and their open grants on record.
#[derive(Debug, PartialEq)]
struct Access {
    role: Role,
    shares: Vec<SandboxShare>,
    groups: Vec<&'static str>,
    grants: Vec<(GrantKind, String, String)>,
}

async fn access(app: &TestApp, person_id: &str, email: &str) -> Option<Access> {
    let state = app.sandbox.state();
    let user = state.find_by_email(email)?;
    let groups = GROUPS
        .into_iter()
        .filter(|group| {
            state
                .group_members(group)
                .is_some_and(|members| members.contains(&user.id))
        })
        .collect();
    let mut grants: Vec<_> = app
        .store
        .open_grants(person_id)
        .await
        .unwrap()
        .into_iter()
        .map(|grant| (grant.kind, grant.object, grant.level))
        .collect();
    grants.sort();
    Some(Access {
        role: user.role,
        shares: state.shares_of_user(user.id),
        groups,
        grants,
    })
}

/// The IAM driver's joiner for `person` (fixture 01's shape).
fn iam_joiner(person: &Person) -> Value {
    let mut event = fixture_json("iam/01-joiner-employee.json");
    event["id"] = json!(format!("parity-joiner-{}", person.user_name));
    event["subject"] = json!(format!("user:{}", person.iam_id));
    event["partitionkey"] = json!(format!("user:{}", person.iam_id));
    let user = &mut event["data"]["user"];
    user["id"] = json!(person.iam_id);
    user["username"] = json!(person.user_name);
    user["email"] = json!(person.email);
    let profile = &mut user["profile"];
    profile["email"] = json!(person.email);
    profile["emails"][0]["value"] = json!(person.email);
    profile["title"] = json!(person.title);
    profile["department"] = json!(person.department);
    profile["location"] = json!(person.location);
    profile["groups"] = json!([]);
    profile["roles"] = Value::from(
        person
            .roles
            .iter()
            .map(|role| json!({ "kind": "role", "id": role, "name": role }))
            .collect::<Vec<_>>(),
    );
    event
}

/// The IAM driver's disable for `person` (fixture 05's shape).
fn iam_disable(person: &Person) -> Value {
    let mut event = fixture_json("iam/05-disable.json");
    event["id"] = json!(format!("parity-disable-{}", person.user_name));
    event["subject"] = json!(format!("user:{}", person.iam_id));
    event["partitionkey"] = json!(format!("user:{}", person.iam_id));
    event["data"]["user"]["id"] = json!(person.iam_id);
    event["data"]["user"]["email"] = json!(person.email);
    event
}

/// The same person as a SCIM client creates them: core schema and the enterprise extension.
fn scim_user(person: &Person) -> Value {
    json!({
        "schemas": [CORE, ENTERPRISE],
        "userName": person.user_name,
        "externalId": person.iam_id,
        "active": true,
        "userType": "Employee",
        "title": person.title,
        "emails": [{ "value": person.email, "type": "work", "primary": true }],
        "addresses": [{ "type": "work", "locality": person.location }],
        "roles": person.roles.iter().map(|role| json!({ "value": role })).collect::<Vec<_>>(),
        ENTERPRISE: { "department": person.department, "employeeNumber": "E10231" }
    })
}

async fn send(app: &TestApp, event: &Value) -> String {
    let response = app.post_iam(&serde_json::to_vec(event).unwrap()).await;
    assert_eq!(response.status().as_u16(), 202, "{}", event["id"]);
    app.wait_processed(event).await.outcome
}

/// Waits until every event the SCIM client's writes published has an outcome, and returns
/// the outcomes, oldest first.
async fn scim_outcomes(app: &TestApp) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT event_id FROM audit WHERE action = 'event.received' AND actor = $1 ORDER BY seq",
        )
        .bind(format!("iam:urn:scim:client:{CLIENT}"))
        .fetch_all(app.store.pool())
        .await
        .unwrap();
        let mut outcomes = Vec::new();
        for key in &keys {
            if let Some(processed) = app.store.processed(key).await.unwrap() {
                outcomes.push(processed.outcome);
            }
        }
        if !keys.is_empty() && outcomes.len() == keys.len() {
            return outcomes;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {} SCIM events have an outcome",
            outcomes.len(),
            keys.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_person_created_through_scim_gets_what_the_iam_joiner_gets_and_a_false_active_removes_it()
{
    for person in &PEOPLE {
        let iam = spawn_app().await;
        let scim_app = spawn_scim(Options::default()).await;
        let scim = Scim::new(&scim_app);

        assert_eq!(send(&iam, &iam_joiner(person)).await, "applied");
        let created = scim.user(scim_user(person)).await;
        let scim_id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(scim_outcomes(&scim_app).await, ["applied"]);

        let through_iam = access(&iam, person.iam_id, person.email).await;
        let through_scim = access(&scim_app, &scim_id, person.email).await;
        assert!(
            through_iam.as_ref().is_some_and(|a| !a.grants.is_empty()),
            "{}: the IAM joiner provisioned nothing",
            person.user_name
        );
        assert_eq!(through_scim, through_iam, "{}", person.user_name);

        // What real clients send: `Replace` capitalised, no path, the boolean as a string.
        let disabled = scim
            .patch(
                &format!("/Users/{scim_id}"),
                json!([{ "op": "Replace", "value": { "active": "False" } }]),
            )
            .await;
        assert_eq!(disabled.status, 200, "{}", disabled.body);
        let iam_outcome = send(&iam, &iam_disable(person)).await;

        assert_eq!(iam_outcome, "removed_member");
        assert_eq!(
            scim_outcomes(&scim_app).await,
            ["applied", "removed_member"]
        );
        for (app, person_id) in [(&iam, person.iam_id), (&scim_app, scim_id.as_str())] {
            assert!(app.sandbox.state().find_by_email(person.email).is_none());
            assert!(app.store.open_grants(person_id).await.unwrap().is_empty());
        }
        iam.stop().await;
        scim_app.stop().await;
    }
}
