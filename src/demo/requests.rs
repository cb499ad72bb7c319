//! The demo's access requests: people join through the IAM, a requester asks in the ClickUp
//! intake List, a bystander's approval is refused, the manager approves in the task, a
//! two-step request ends reported to the IAM, and an area the IAM's workflow decides.

use std::time::Duration;

use serde_json::{json, Value};

use super::scenario::{Row, Scenario};
use crate::{
    sandbox::{example::INTAKE_LIST, iam::IamRequestState, iam::IamSandbox, iam::IamSandboxUser},
    store::{AccessRequest, RequestState},
};

const JOINER: &str = include_str!("../../tests/fixtures/iam/01-joiner-employee.json");
/// The IAM request definition the shipped "Product launch" area leaves its decision to.
pub const LAUNCH_PRD: &str = "cn=ClickUp-ProductLaunch,cn=RequestDefs,cn=AppConfig,cn=User Application Driver,cn=driverset1,o=system";
const FINANCE_PRD: &str = "cn=ClickUp-FinanceClose,cn=RequestDefs,cn=AppConfig,cn=User Application Driver,cn=driverset1,o=system";

/// `(IAM id, user name, display name, email)` of the demo's people.
pub const PEOPLE: [(&str, &str, &str, &str); 4] = [
    (
        "de000000000000000000000000000001",
        "riley",
        "Riley Requester",
        "riley@example.com",
    ),
    (
        "de000000000000000000000000000002",
        "morgan",
        "Morgan Manager",
        "morgan@example.com",
    ),
    (
        "de000000000000000000000000000003",
        "sasha",
        "Sasha Security",
        "sec-finance@example.com",
    ),
    (
        "de000000000000000000000000000004",
        "casey",
        "Casey Ciso",
        "ciso@example.com",
    ),
];
const RILEY: usize = 0;
const MORGAN: usize = 1;
const SASHA: usize = 2;
const CASEY: usize = 3;

pub fn dn(person: usize) -> String {
    format!("cn={},ou=users,o=data", PEOPLE[person].1)
}

/// The people as the IAM stand-in knows them.
pub fn iam_users() -> Vec<IamSandboxUser> {
    (0..PEOPLE.len())
        .map(|person| {
            let (id, username, name, email) = PEOPLE[person];
            IamSandboxUser {
                dn: dn(person),
                id: id.into(),
                username: username.into(),
                password: None,
                email: email.into(),
                display_name: name.into(),
                roles: Vec::new(),
            }
        })
        .collect()
}

pub async fn rows(scenario: &Scenario<'_>, iam: &IamSandbox) -> anyhow::Result<Vec<Row>> {
    iam.add_prd(FINANCE_PRD, "ClickUp Finance close", &[&dn(SASHA)]);
    iam.add_prd(LAUNCH_PRD, "ClickUp Product launch", &[&dn(CASEY)]);
    let mut users = Vec::new();
    for (person, (id, _, name, _)) in PEOPLE.iter().enumerate() {
        let event = joiner(person);
        scenario.post_iam(&serde_json::to_vec(&event)?).await?;
        scenario.wait_outcome(&event).await?;
        let user = scenario
            .store
            .identity(id)
            .await?
            .and_then(|r| r.clickup_user_id);
        users.push(
            user.map(|id| id as u64)
                .ok_or_else(|| anyhow::anyhow!("{name} was not provisioned"))?,
        );
    }
    let demo = Requests { scenario, users };
    let mut rows = Vec::new();

    let (legal, status) = demo.ask("Legal contracts", "read", Some(json!(14))).await?;
    let routed = demo
        .wait(&legal, |r| {
            r.state == RequestState::Pending && r.announced_step == 0
        })
        .await;
    let task = scenario.sandbox.state().task(&legal);
    let mut row = Row::new(
        "ClickUp access request (Legal contracts)",
        status,
        202,
        "assigned to the manager, status pending approval",
    );
    row.check(
        routed.is_some()
            && task.is_some_and(|t| {
                t.assignees == [demo.users[MORGAN]] && t.status == "pending approval"
            }),
        "routed to Morgan Manager",
    );
    rows.push(row);

    let answered = scenario
        .sandbox
        .as_user(demo.users[SASHA])
        .comment(&legal, "/approve")
        .await?
        .1;
    let refused = demo
        .wait_comment(&legal, "only Morgan Manager can decide this step")
        .await;
    let mut row = Row::new(
        "ClickUp /approve by someone else",
        first(&answered),
        202,
        "not counted: answered and audited",
    );
    let still_pending = scenario
        .store
        .request(&legal)
        .await?
        .is_some_and(|r| r.state == RequestState::Pending);
    row.check(refused && still_pending, "refused, request still pending");
    rows.push(row);

    let answered = scenario
        .sandbox
        .as_user(demo.users[MORGAN])
        .set_status(&legal, "approved")
        .await?;
    let granted = demo
        .wait(&legal, |r| {
            r.state == RequestState::Granted && r.outcome_done
        })
        .await;
    let shared = demo.has_share(RILEY, "folder", "901100000610", "read");
    let mut row = Row::new(
        "ClickUp status \"approved\" by the manager",
        first(&answered),
        202,
        "read folder 610 for 14 days; task closed",
    );
    row.check(
        granted.is_some() && shared && demo.status(&legal) == "closed",
        "granted until the end date",
    );
    rows.push(row);

    let (finance, status) = demo.ask("Finance close", "edit", Some(json!("30"))).await?;
    demo.wait(&finance, |r| {
        r.state == RequestState::Pending && r.announced_step == 0
    })
    .await;
    scenario
        .sandbox
        .as_user(demo.users[MORGAN])
        .set_status(&finance, "approved")
        .await?;
    demo.wait(&finance, |r| r.step == 1 && r.announced_step == 1)
        .await;
    scenario
        .sandbox
        .as_user(demo.users[SASHA])
        .comment(&finance, "/approve checked")
        .await?;
    let reported = demo.wait(&finance, |r| r.reported_at.is_some()).await;
    let in_iam = reported
        .as_ref()
        .and_then(|r| r.iam_request_id.clone())
        .is_some_and(|id| {
            iam.requests()
                .iter()
                .any(|r| r.id == id && r.state == IamRequestState::Approved)
        });
    let mut row = Row::new(
        "ClickUp request, two steps (Finance close)",
        status,
        202,
        "manager, then security; edit list 710",
    );
    row.check(
        in_iam && demo.has_share(RILEY, "list", "901100000710", "edit"),
        "granted, reported to the IAM",
    );
    rows.push(row);

    let (launch, _) = demo.ask("Product launch", "read", None).await?;
    let opened = demo
        .wait(&launch, |r| {
            r.state == RequestState::Pending && r.iam_request_id.is_some()
        })
        .await;
    let iam_request = opened.and_then(|r| r.iam_request_id).unwrap_or_default();
    let pushed = iam
        .decide(&iam_request, &dn(CASEY), true, "launch team confirmed")
        .await?
        .unwrap_or(0);
    let granted = demo
        .wait(&launch, |r| {
            r.state == RequestState::Granted && r.outcome_done
        })
        .await;
    let mut row = Row::new(
        "IAM workflow decision (Product launch)",
        pushed,
        202,
        "read list 430, decided in the IAM",
    );
    row.check(
        granted.is_some() && demo.has_share(RILEY, "list", "901100000430", "read"),
        "granted",
    );
    rows.push(row);
    Ok(rows)
}

struct Requests<'a, 'b> {
    scenario: &'a Scenario<'b>,
    users: Vec<u64>,
}

impl Requests<'_, '_> {
    /// Riley fills in the intake form; returns the task and the router's first answer.
    async fn ask(
        &self,
        area: &str,
        level: &str,
        duration: Option<Value>,
    ) -> anyhow::Result<(String, u16)> {
        let fields = self.scenario.sandbox.state().custom_fields(INTAKE_LIST);
        let field = |name: &str| fields.iter().find(|f| f.name == name);
        let option = |name: &str, value: &str| {
            let field = field(name)?;
            let option = field
                .options
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(value))?;
            Some((field.id.clone(), json!(option.id)))
        };
        let mut values: Vec<(String, Value)> =
            [option("Area", area), option("Access level", level)]
                .into_iter()
                .flatten()
                .collect();
        if let (Some(duration), Some(field)) = (duration, field("Duration (days)")) {
            values.push((field.id.clone(), duration));
        }
        if let Some(field) = field("Justification") {
            values.push((field.id.clone(), json!("Needed for the quarter's work")));
        }
        let values: Vec<(&str, Value)> = values
            .iter()
            .map(|(id, v)| (id.as_str(), v.clone()))
            .collect();

        let name = format!("Access to {area}");
        let (task, answered) = self
            .scenario
            .sandbox
            .as_user(self.users[RILEY])
            .create_task(INTAKE_LIST, &name, &values)
            .await?;
        Ok((task, first(&answered)))
    }

    async fn wait(
        &self,
        task: &str,
        done: impl Fn(&AccessRequest) -> bool,
    ) -> Option<AccessRequest> {
        let deadline = tokio::time::Instant::now() + self.scenario.timeout;
        while tokio::time::Instant::now() < deadline {
            if let Ok(Some(request)) = self.scenario.store.request(task).await {
                if done(&request) {
                    self.scenario.sandbox.settle().await;
                    return Some(request);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    async fn wait_comment(&self, task: &str, text: &str) -> bool {
        let deadline = tokio::time::Instant::now() + self.scenario.timeout;
        while tokio::time::Instant::now() < deadline {
            self.scenario.sandbox.settle().await;
            if self
                .scenario
                .sandbox
                .state()
                .comments(task)
                .iter()
                .any(|c| c.text.contains(text))
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    fn has_share(&self, person: usize, kind: &str, id: &str, level: &str) -> bool {
        let shares = self
            .scenario
            .sandbox
            .state()
            .shares_of_user(self.users[person]);
        shares
            .iter()
            .any(|s| s.object_type == kind && s.object_id == id && s.level == level)
    }

    fn status(&self, task: &str) -> String {
        self.scenario
            .sandbox
            .state()
            .task(task)
            .map(|t| t.status)
            .unwrap_or_default()
    }
}

/// The receiver's answer to the first delivery of an action (0: none).
fn first(answered: &[u16]) -> u16 {
    answered.first().copied().unwrap_or(0)
}

fn joiner(person: usize) -> Value {
    let (id, username, name, email) = PEOPLE[person];
    let mut event: Value = serde_json::from_str(JOINER).unwrap_or_default();
    event["id"] = json!(format!("demo-request-joiner-{id}"));
    event["subject"] = json!(format!("user:{id}"));
    let user = &mut event["data"]["user"];
    user["id"] = json!(id);
    user["dn"] = json!(dn(person));
    user["username"] = json!(username);
    user["email"] = json!(email);
    user["display_name"] = json!(name);
    user["profile"]["email"] = json!(email);
    user["profile"]["emails"] = json!([{ "value": email, "type": "work", "primary": true }]);
    user["profile"]["display_name"] = json!(name);
    user["profile"]["manager"] = match person {
        RILEY => {
            json!({ "id": PEOPLE[MORGAN].0, "dn": dn(MORGAN), "email": PEOPLE[MORGAN].3, "display_name": PEOPLE[MORGAN].2 })
        }
        _ => Value::Null,
    };
    event
}
