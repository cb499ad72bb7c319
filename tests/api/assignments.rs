//! Attribute-based task assignment end to end: people join through the IAM receiver, a
//! ClickUp user creates tasks in the shipped rules' Lists, and the router assigns them by
//! department, region or load, falls back when nobody qualifies, ignores its own echoes, and
//! reassigns a leaver's tasks.

use std::{collections::HashMap, time::Duration};

use serde_json::{json, Value};

use crate::helpers::{fixture_json, spawn_app_with, Options, TestApp};

pub(crate) const COMPLIANCE: &str = "901100000950";
const REGIONAL: &str = "901100000960";
const SECURITY: &str = "901100000970";

/// A person for the directory: id suffix, name, department, location, groups.
pub(crate) struct Person {
    n: u32,
    name: &'static str,
    department: &'static str,
    location: &'static str,
    groups: &'static [&'static str],
}

fn iam_id(n: u32) -> String {
    format!("bb{n:030}")
}

fn joiner(person: &Person) -> Value {
    let id = iam_id(person.n);
    let email = format!("person{}@example.com", person.n);
    let mut event = fixture_json("iam/01-joiner-employee.json");
    event["id"] = json!(format!("assign-joiner-{id}"));
    event["subject"] = json!(format!("user:{id}"));
    let user = &mut event["data"]["user"];
    user["id"] = json!(id);
    user["email"] = json!(email);
    user["display_name"] = json!(person.name);
    user["username"] = json!(format!("person{}", person.n));
    let profile = &mut user["profile"];
    profile["email"] = json!(email);
    profile["emails"] = json!([{ "value": email, "type": "work", "primary": true }]);
    profile["display_name"] = json!(person.name);
    profile["department"] = json!(person.department);
    profile["location"] = json!(person.location);
    profile["title"] = json!("Analyst");
    profile["groups"] = json!(person
        .groups
        .iter()
        .map(|g| json!({ "id": format!("cn={g},ou=groups,o=data"), "name": g, "kind": "group" }))
        .collect::<Vec<_>>());
    event
}

pub(crate) struct World {
    pub(crate) app: TestApp,
    /// ClickUp account per person number.
    pub(crate) users: HashMap<u32, u64>,
    /// Someone who creates tasks (not the router).
    author: u64,
}

impl World {
    pub(crate) async fn start(people: &[Person]) -> World {
        let app = spawn_app_with(Options {
            clickup_webhook: true,
            ..Options::default()
        })
        .await;
        let mut users = HashMap::new();
        let author = Person {
            n: 999,
            name: "Avery Author",
            department: "Sales",
            location: "Boston",
            groups: &[],
        };
        for person in people.iter().chain([&author]) {
            let event = joiner(person);
            let response = app.post_iam(&serde_json::to_vec(&event).unwrap()).await;
            assert_eq!(response.status().as_u16(), 202);
            app.wait_processed(&event).await;
            let record = app
                .store
                .identity(&iam_id(person.n))
                .await
                .unwrap()
                .unwrap();
            users.insert(
                person.n,
                record.clickup_user_id.expect("provisioned") as u64,
            );
        }
        let author = users[&999];
        World { app, users, author }
    }

    pub(crate) async fn create(&self, list: &str, name: &str, fields: &[(&str, Value)]) -> String {
        let (task, answered) = self
            .app
            .sandbox
            .as_user(self.author)
            .create_task(list, name, fields)
            .await
            .unwrap();
        assert!(
            answered.iter().all(|s| *s == 202 || *s == 200),
            "{answered:?}"
        );
        task
    }

    /// Waits until the task has an assignment on record, then for ClickUp to show it.
    async fn assigned(&self, task: &str) -> Vec<u64> {
        for _ in 0..150 {
            if self
                .app
                .store
                .open_assignment(task)
                .await
                .unwrap()
                .is_some()
            {
                self.app.sandbox.settle().await;
                return self.app.sandbox.state().task(task).unwrap().assignees;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("task {task} was never assigned");
    }

    /// Waits until a comment on the task contains `needle`; returns all its comments.
    async fn said_on(&self, task: &str, needle: &str) -> String {
        let mut said = String::new();
        for _ in 0..100 {
            said = self
                .app
                .sandbox
                .state()
                .comments(task)
                .iter()
                .map(|c| c.text.clone())
                .collect::<Vec<_>>()
                .join("\n");
            if said.contains(needle) {
                return said;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no comment on {task} says {needle:?}; the comments: {said}");
    }

    async fn audit_actions(&self, action: &str) -> usize {
        let rows = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit WHERE action = $1")
            .bind(action)
            .fetch_one(self.app.store.pool())
            .await
            .unwrap();
        rows as usize
    }

    fn region(&self, value: &str) -> (String, Value) {
        let fields = self.app.sandbox.state().custom_fields(REGIONAL);
        let region = fields.iter().find(|f| f.name == "Region").unwrap();
        let option = region.options.iter().find(|o| o.name == value).unwrap();
        (region.id.clone(), json!(option.id))
    }
}

pub(crate) const RISK_A: Person = Person {
    n: 1,
    name: "Rae Risk",
    department: "Risk",
    location: "London",
    groups: &[],
};
pub(crate) const RISK_B: Person = Person {
    n: 2,
    name: "Rob Risk",
    department: "Risk",
    location: "Boston",
    groups: &[],
};
const RISK_C: Person = Person {
    n: 3,
    name: "Ria Risk",
    department: "Risk",
    location: "Singapore",
    groups: &[],
};
const OPS_SG: Person = Person {
    n: 4,
    name: "Sam Singapore",
    department: "Operations",
    location: "Singapore",
    groups: &[],
};
const OPS_LDN: Person = Person {
    n: 5,
    name: "Lee London",
    department: "Operations",
    location: "London",
    groups: &[],
};
const SEC_A: Person = Person {
    n: 6,
    name: "Sec Alpha",
    department: "IT",
    location: "London",
    groups: &["clickup-security"],
};
const SEC_B: Person = Person {
    n: 7,
    name: "Sec Beta",
    department: "IT",
    location: "Boston",
    groups: &["clickup-security"],
};

#[tokio::test]
async fn a_compliance_review_goes_to_someone_in_risk_and_says_which_rule_chose() {
    let world = World::start(&[RISK_A, OPS_LDN]).await;

    let task = world
        .create(COMPLIANCE, "Compliance review: vendor contracts", &[])
        .await;

    assert_eq!(world.assigned(&task).await, [world.users[&1]]);
    // The comment is posted after the assignment is on record: wait for it.
    let said = world
        .said_on(
            &task,
            "Assigned to Rae Risk by the rule \"compliance-reviews\"",
        )
        .await;
    assert_eq!(said.matches("Assigned to").count(), 1, "{said}");
    let open = world
        .app
        .store
        .open_assignment(&task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (open.rule.as_str(), open.iam_id.as_deref()),
        ("compliance-reviews", Some(iam_id(1).as_str()))
    );
    world.app.stop().await;
}

#[tokio::test]
async fn round_robin_spreads_thirty_tasks_ten_to_each_of_three() {
    let world = World::start(&[RISK_A, RISK_B, RISK_C]).await;

    let mut tasks = Vec::new();
    for n in 0..30 {
        tasks.push(
            world
                .create(COMPLIANCE, &format!("Compliance review #{n}"), &[])
                .await,
        );
    }
    let mut counts: HashMap<u64, u32> = HashMap::new();
    for task in &tasks {
        for user in world.assigned(task).await {
            *counts.entry(user).or_default() += 1;
        }
    }

    let expected: HashMap<u64, u32> = [1, 2, 3].iter().map(|n| (world.users[n], 10)).collect();
    assert_eq!(counts, expected);
    world.app.stop().await;
}

#[tokio::test]
async fn a_regional_task_goes_to_the_person_whose_location_matches_its_region() {
    let world = World::start(&[OPS_SG, OPS_LDN]).await;
    let (field, apac) = world.region("APAC");
    let (_, emea) = world.region("EMEA");

    let asia = world
        .create(REGIONAL, "Warehouse audit", &[(&field, apac)])
        .await;
    let europe = world
        .create(REGIONAL, "Depot audit", &[(&field, emea)])
        .await;

    assert_eq!(world.assigned(&asia).await, [world.users[&4]]);
    assert_eq!(world.assigned(&europe).await, [world.users[&5]]);
    world.app.stop().await;
}

#[tokio::test]
async fn nobody_in_the_region_falls_back_to_the_group_and_is_audited() {
    let world = World::start(&[OPS_SG]).await;
    let (field, amer) = world.region("AMER");

    let task = world
        .create(REGIONAL, "Port audit", &[(&field, amer)])
        .await;
    world.assigned(&task).await;

    let open = world
        .app
        .store
        .open_assignment(&task)
        .await
        .unwrap()
        .unwrap();
    let operations = world
        .app
        .sandbox
        .state()
        .groups()
        .into_iter()
        .find(|g| g.name == "Operations")
        .unwrap();
    assert_eq!(open.group_id.as_deref(), Some(operations.id.as_str()));
    assert_eq!(
        world
            .app
            .sandbox
            .state()
            .task(&task)
            .unwrap()
            .group_assignees,
        [operations.id]
    );
    assert_eq!(world.audit_actions("task.assigned_fallback").await, 1);
    world.app.stop().await;
}

#[tokio::test]
async fn least_loaded_prefers_the_lightest() {
    let world = World::start(&[SEC_A, SEC_B]).await;
    let (a, b) = (world.users[&6], world.users[&7]);
    let (first_pick, second_pick) = (a.min(b), a.max(b));

    let first = world.create(SECURITY, "Access review 1", &[]).await;
    assert_eq!(
        world.assigned(&first).await,
        [first_pick],
        "a tie goes to the lower id"
    );
    let second = world.create(SECURITY, "Access review 2", &[]).await;
    assert_eq!(
        world.assigned(&second).await,
        [second_pick],
        "the other one is lighter"
    );
    world
        .app
        .sandbox
        .as_user(world.author)
        .set_status(&first, "complete")
        .await
        .unwrap();
    wait_until_unassigned(&world, &first).await;
    let third = world.create(SECURITY, "Access review 3", &[]).await;

    assert_eq!(
        world.assigned(&third).await,
        [first_pick],
        "closing a task lightens its assignee"
    );
    world.app.stop().await;
}

#[tokio::test]
async fn the_routers_own_assignment_echo_is_not_acted_on() {
    let world = World::start(&[RISK_A, RISK_B]).await;

    let task = world
        .create(COMPLIANCE, "Compliance review: payroll", &[])
        .await;
    world.assigned(&task).await;
    world.app.sandbox.settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    assert_eq!(world.audit_actions("task.assigned").await, 1);
    let puts = world
        .app
        .sandbox
        .state()
        .count_calls("PUT", &format!("/api/v2/task/{task}"));
    assert_eq!(puts, 1, "one assignment call");
    let echoes =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM processed WHERE outcome = 'echo'")
            .fetch_one(world.app.store.pool())
            .await
            .unwrap();
    assert!(
        echoes >= 2,
        "the assignee and comment echoes were recorded as echoes ({echoes})"
    );
    world.app.stop().await;
}

#[tokio::test]
async fn a_leavers_open_tasks_are_reassigned_and_the_rest_reported() {
    let world = World::start(&[RISK_A, RISK_B]).await;
    let (a, b) = (world.users[&1], world.users[&2]);
    let tasks = [
        world
            .create(COMPLIANCE, "Compliance review: travel", &[])
            .await,
        world
            .create(COMPLIANCE, "Compliance review: gifts", &[])
            .await,
    ];
    let mut leaver_task = None;
    for task in &tasks {
        if world.assigned(task).await == [a] {
            leaver_task = Some(task.clone());
        }
    }
    let leaver_task = leaver_task.expect("round robin gave Rae one task");
    let uncovered = world
        .create("901100000210", "Operations board chore", &[])
        .await;
    world
        .app
        .sandbox
        .as_user(world.author)
        .assign(&uncovered, a)
        .await
        .unwrap();

    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    leaver["subject"] = json!(format!("user:{}", iam_id(1)));
    leaver["data"]["user"]["id"] = json!(iam_id(1));
    leaver["data"]["user"]["email"] = json!("person1@example.com");
    assert_eq!(
        world
            .app
            .post_iam(&serde_json::to_vec(&leaver).unwrap())
            .await
            .status()
            .as_u16(),
        202
    );
    world.app.wait_processed(&leaver).await;
    let reviewed = wait_reviewed(&world).await;

    let open = world
        .app
        .store
        .open_assignment(&leaver_task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(open.user_id, Some(b as i64));
    world.app.sandbox.settle().await;
    assert_eq!(
        world
            .app
            .sandbox
            .state()
            .task(&leaver_task)
            .unwrap()
            .assignees,
        [b]
    );
    assert_eq!(reviewed["reassigned"], json!([leaver_task]));
    assert_eq!(reviewed["other_open_tasks"], json!([uncovered]));
    world.app.stop().await;
}

#[tokio::test]
async fn two_identities_of_one_account_get_one_turn() {
    let twin = Person {
        n: 11,
        name: "Rae Again",
        department: "Risk",
        location: "London",
        groups: &[],
    };
    let mut twin_event = joiner(&twin);
    let world = World::start(&[RISK_A, RISK_B]).await;
    // The second identity has Rae's email: the router links it to her account.
    twin_event["data"]["user"]["email"] = json!("person1@example.com");
    twin_event["data"]["user"]["profile"]["email"] = json!("person1@example.com");
    twin_event["data"]["user"]["profile"]["emails"] =
        json!([{ "value": "person1@example.com", "type": "work", "primary": true }]);
    assert_eq!(
        world
            .app
            .post_iam(&serde_json::to_vec(&twin_event).unwrap())
            .await
            .status()
            .as_u16(),
        202
    );
    world.app.wait_processed(&twin_event).await;

    let mut counts: HashMap<u64, u32> = HashMap::new();
    for n in 0..12 {
        let task = world
            .create(COMPLIANCE, &format!("Compliance review twin {n}"), &[])
            .await;
        for user in world.assigned(&task).await {
            *counts.entry(user).or_default() += 1;
        }
    }

    let expected: HashMap<u64, u32> = [1, 2].iter().map(|n| (world.users[n], 6)).collect();
    assert_eq!(counts, expected);
    world.app.stop().await;
}

#[tokio::test]
async fn nobody_qualifying_without_a_usable_fallback_is_said_once() {
    let world = World::start(&[OPS_LDN]).await;

    let task = world
        .create(COMPLIANCE, "Compliance review: nobody", &[])
        .await;
    for _ in 0..100 {
        if world.audit_actions("task.unassigned").await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    world.app.sandbox.settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    assert_eq!(world.audit_actions("task.unassigned").await, 1);
    let said: Vec<String> = world
        .app
        .sandbox
        .state()
        .comments(&task)
        .into_iter()
        .map(|c| c.text)
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("Nobody could be assigned by the rule \"compliance-reviews\""),
        "{said:?}"
    );
    world.app.stop().await;
}

#[tokio::test]
async fn a_leavers_task_nobody_can_take_is_taken_from_them_and_reported() {
    let world = World::start(&[RISK_A]).await;
    let task = world
        .create(COMPLIANCE, "Compliance review: sole", &[])
        .await;
    assert_eq!(world.assigned(&task).await, [world.users[&1]]);

    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    leaver["subject"] = json!(format!("user:{}", iam_id(1)));
    leaver["data"]["user"]["id"] = json!(iam_id(1));
    leaver["data"]["user"]["email"] = json!("person1@example.com");
    assert_eq!(
        world
            .app
            .post_iam(&serde_json::to_vec(&leaver).unwrap())
            .await
            .status()
            .as_u16(),
        202
    );
    world.app.wait_processed(&leaver).await;
    let reviewed = wait_reviewed(&world).await;
    world.app.sandbox.settle().await;

    assert_eq!(reviewed["reassigned"], json!([]));
    assert_eq!(reviewed["nobody_qualified"], json!([task]));
    assert!(world
        .app
        .sandbox
        .state()
        .task(&task)
        .unwrap()
        .assignees
        .is_empty());
    world.app.stop().await;
}

async fn wait_until_unassigned(world: &World, task: &str) {
    for _ in 0..150 {
        if world
            .app
            .store
            .open_assignment(task)
            .await
            .unwrap()
            .is_none()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("task {task} kept its assignment");
}

async fn wait_reviewed(world: &World) -> Value {
    for _ in 0..150 {
        let detail: Option<String> =
            sqlx::query_scalar("SELECT detail FROM audit WHERE action = 'task.leaver_reviewed'")
                .fetch_optional(world.app.store.pool())
                .await
                .unwrap();
        if let Some(detail) = detail {
            return serde_json::from_str(&detail).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the leaver's tasks were never reviewed");
}

#[tokio::test]
async fn rules_explain_shows_the_candidates_and_the_choice_for_a_task_event() {
    let world = World::start(&[RISK_A, RISK_B, OPS_LDN]).await;
    let task = world
        .create(COMPLIANCE, "Compliance review: expenses", &[])
        .await;
    world.assigned(&task).await;
    let files = tempfile::tempdir().unwrap();
    let delivery = json!({ "event": "taskCreated", "task_id": task, "webhook_id": "w",
        "history_items": [{ "id": "1", "field": "task_creation", "user": { "id": world.author } }] });
    let read: Value = reqwest::Client::new()
        .get(format!("{}/v2/task/{task}", world.app.sandbox.base_url()))
        .header(
            "Authorization",
            world.app.settings.clickup.clickup_token.expose(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (event_file, task_file) = (
        files.path().join("event.json"),
        files.path().join("task.json"),
    );
    std::fs::write(&event_file, delivery.to_string()).unwrap();
    std::fs::write(&task_file, read.to_string()).unwrap();
    let database = world.app.settings.store.database_url.expose().to_string();

    let output = crate::rules::router(&[
        "rules",
        "explain",
        "--event",
        event_file.to_str().unwrap(),
        "--task",
        task_file.to_str().unwrap(),
        "--database-url",
        &database,
    ]);
    let printed = String::from_utf8_lossy(&output.stdout);

    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.contains("covers    compliance-reviews"),
        "{printed}"
    );
    assert!(
        printed.contains("skips     regional-operations"),
        "{printed}"
    );
    assert!(printed.contains("department = \"Risk\""), "{printed}");
    assert!(
        printed.contains("Rae Risk") && printed.contains("Rob Risk"),
        "{printed}"
    );
    assert!(!printed.contains("Lee London"), "not in Risk: {printed}");
    assert!(printed.contains("Chosen: R"), "{printed}");
    world.app.stop().await;
}
