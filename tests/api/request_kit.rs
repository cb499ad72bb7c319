//! The cast and props of the access-request tests: five employees provisioned through the IAM
//! receiver, approval policies written for the test, and helpers to ask, act and wait.

use std::{path::Path, time::Duration};

use clickup_iam_router::{
    sandbox::{iam::IamSandboxUser, CustomFieldType, SandboxShare},
    store::{AccessRequest, RequestState},
};
use serde_json::{json, Value};

use crate::helpers::{fixture_json, spawn_app_with, Options, TestApp};

pub const INTAKE: &str = "901100000901";
pub const REQUESTER: &str = "aa000000000000000000000000000001";
pub const MANAGER: &str = "aa000000000000000000000000000002";
pub const SECURITY: &str = "aa000000000000000000000000000003";
pub const CISO: &str = "aa000000000000000000000000000004";
pub const BYSTANDER: &str = "aa000000000000000000000000000005";
pub const FINANCE_PRD: &str = "cn=ClickUp-Finance,cn=RequestDefs,cn=AppConfig,o=system";
pub const LAUNCH_PRD: &str = "cn=ClickUp-Launch,cn=RequestDefs,cn=AppConfig,o=system";

const PEOPLE: [(&str, &str, &str); 5] = [
    (REQUESTER, "riley", "Riley Requester"),
    (MANAGER, "morgan", "Morgan Manager"),
    (SECURITY, "sasha", "Sasha Security"),
    (CISO, "casey", "Casey Ciso"),
    (BYSTANDER, "billie", "Billie Bystander"),
];

/// How the test's policies differ from the plain ones.
#[derive(Clone, Copy, Default)]
pub struct Variant {
    /// Legal contracts reminds after 1 s and escalates to the CISO after 3 s.
    pub timeout: bool,
    /// The duration is read from a text field "Duration" (so a test can ask for seconds).
    pub text_duration: bool,
    /// The IAM stand-in does not push its decisions; the router polls.
    pub iam_silent: bool,
}

pub struct Kit {
    pub app: TestApp,
    pub _rules: tempfile::TempDir,
}

pub fn dn(id: &str) -> String {
    let name = PEOPLE
        .iter()
        .find(|p| p.0 == id)
        .map(|p| p.1)
        .unwrap_or("x");
    format!("cn={name},ou=users,o=data")
}

fn email(id: &str) -> String {
    let name = PEOPLE
        .iter()
        .find(|p| p.0 == id)
        .map(|p| p.1)
        .unwrap_or("x");
    format!("{name}@example.com")
}

fn joiner(id: &str, manager: Option<&str>) -> Value {
    let (_, username, name) = PEOPLE.iter().find(|p| p.0 == id).copied().unwrap();
    let mut event = fixture_json("iam/01-joiner-employee.json");
    event["id"] = json!(format!("request-joiner-{id}"));
    event["subject"] = json!(format!("user:{id}"));
    let user = &mut event["data"]["user"];
    user["id"] = json!(id);
    user["dn"] = json!(dn(id));
    user["username"] = json!(username);
    user["email"] = json!(email(id));
    user["display_name"] = json!(name);
    user["profile"]["email"] = json!(email(id));
    user["profile"]["emails"] = json!([{ "value": email(id), "type": "work", "primary": true }]);
    user["profile"]["display_name"] = json!(name);
    user["profile"]["manager"] = match manager {
        Some(manager) => json!({ "id": manager, "dn": dn(manager), "email": email(manager) }),
        None => Value::Null,
    };
    event
}

fn write_rules(dir: &Path, variant: Variant) {
    let shipped = format!("{}/rules/employees.yaml", env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(shipped, dir.join("employees.yaml")).unwrap();
    let timeout = match variant.timeout {
        true => {
            r#"timeout: { remind_after: 1s, after: 3s, then: escalate, escalate_to: ["casey@example.com"] }"#
        }
        false => "",
    };
    let duration = match variant.text_duration {
        true => "Duration",
        false => "Duration (days)",
    };
    let policy = format!(
        r#"access_requests:
  intake:
    list: "{INTAKE}"
    fields: {{ area: "Area", level: "Access level", duration: "{duration}", justification: "Justification" }}
    statuses: {{ pending: "pending approval", approved: "approved", denied: "denied", closed: "closed" }}
  areas:
    - name: Legal contracts
      object: {{ folder: "901100000610" }}
      levels: [read, comment]
      max_duration: 30d
      may_ask: 'person.employment_type == "employee"'
      steps:
        - {{ name: manager, approvers: 'person.manager.email' }}
      decide_in: clickup
      {timeout}
    - name: Finance close
      object: {{ list: "901100000710" }}
      levels: [read, edit]
      approvers: ["sasha@example.com"]
      may_ask: 'true'
      steps:
        - {{ name: manager, approvers: 'person.manager.email' }}
        - {{ name: security, approvers: 'area.approvers' }}
      decide_in: clickup
      iam_prd: "{FINANCE_PRD}"
    - name: Product launch
      object: {{ list: "901100000430" }}
      levels: [edit]
      approvers: ["casey@example.com"]
      may_ask: 'true'
      steps:
        - {{ name: launch owners, approvers: 'area.approvers' }}
      decide_in: iam
      iam_prd: "{LAUNCH_PRD}"
"#
    );
    std::fs::write(dir.join("requests.yaml"), policy).unwrap();
}

impl Kit {
    /// The router with the test's policies, a ClickUp webhook, the IAM stand-in, and the five
    /// people provisioned (the requester reports to the manager).
    pub async fn start(variant: Variant) -> Kit {
        let rules = tempfile::tempdir().unwrap();
        write_rules(rules.path(), variant);
        let iam_users = PEOPLE
            .iter()
            .map(|(id, username, name)| IamSandboxUser {
                dn: dn(id),
                id: id.to_string(),
                username: username.to_string(),
                password: None,
                email: email(id),
                display_name: name.to_string(),
                roles: Vec::new(),
            })
            .collect();
        let options = Options {
            rules_dir: Some(rules.path().to_path_buf()),
            clickup_webhook: true,
            iam: Some(iam_users),
            iam_silent: variant.iam_silent,
            ..Options::default()
        };
        let app = if variant.text_duration {
            // The text field must exist before the worker checks the intake List.
            spawn_with_text_duration(options).await
        } else {
            spawn_app_with(options).await
        };
        let iam = app.iam.as_ref().unwrap();
        iam.add_prd(FINANCE_PRD, "ClickUp Finance close", &[&dn(SECURITY)]);
        iam.add_prd(LAUNCH_PRD, "ClickUp Product launch", &[&dn(CISO)]);

        let kit = Kit { app, _rules: rules };
        for (id, _, _) in PEOPLE {
            let manager = (id == REQUESTER).then_some(MANAGER);
            let event = joiner(id, manager);
            let response = kit.app.post_iam(&serde_json::to_vec(&event).unwrap()).await;
            assert_eq!(response.status().as_u16(), 202);
            kit.app.wait_processed(&event).await;
        }
        kit
    }

    /// The ClickUp account of a person.
    pub async fn user(&self, iam_id: &str) -> u64 {
        let record = self.app.store.identity(iam_id).await.unwrap().unwrap();
        record.clickup_user_id.expect("provisioned") as u64
    }

    /// The requester fills in the intake form; returns the task id.
    pub async fn ask(&self, area: &str, level: &str, duration: Option<Value>) -> String {
        let state = self.app.sandbox.state();
        let fields = state.custom_fields(INTAKE);
        let field = |name: &str| fields.iter().find(|f| f.name == name).unwrap();
        let option = |name: &str, value: &str| {
            let field = field(name);
            let option = field
                .options
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(value));
            (
                field.id.clone(),
                json!(option.map(|o| o.id.clone()).unwrap_or_default()),
            )
        };
        let mut values = vec![
            option("Area", area),
            option("Access level", level),
            (
                field("Justification").id.clone(),
                json!("Quarterly review of supplier contracts"),
            ),
        ];
        if let Some(duration) = duration {
            let name = if fields.iter().any(|f| f.name == "Duration") {
                "Duration"
            } else {
                "Duration (days)"
            };
            values.push((field(name).id.clone(), duration));
        }
        let values: Vec<(&str, Value)> = values
            .iter()
            .map(|(id, v)| (id.as_str(), v.clone()))
            .collect();

        let requester = self.user(REQUESTER).await;
        let (task_id, statuses) = self
            .app
            .sandbox
            .as_user(requester)
            .create_task(INTAKE, "Access to the contracts folder", &values)
            .await
            .unwrap();
        assert!(
            statuses.iter().all(|s| *s == 202 || *s == 200),
            "{statuses:?}"
        );
        task_id
    }

    /// Waits until the request reaches `state` (and its effects are done); panics after 20 s.
    pub async fn wait_state(&self, task_id: &str, state: RequestState) -> AccessRequest {
        for _ in 0..200 {
            if let Some(request) = self.app.store.request(task_id).await.unwrap() {
                let settled = match state {
                    RequestState::Pending => request.announced_step >= request.step,
                    RequestState::Granted
                    | RequestState::Denied
                    | RequestState::Ineligible
                    | RequestState::Expired => request.outcome_done,
                    _ => true,
                };
                if request.state == state && settled {
                    self.app.sandbox.settle().await;
                    return request;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let request = self.app.store.request(task_id).await.unwrap();
        panic!("request {task_id} never reached {state:?}: {request:#?}");
    }

    pub fn comments(&self, task_id: &str) -> Vec<String> {
        self.app
            .sandbox
            .state()
            .comments(task_id)
            .into_iter()
            .map(|c| c.text)
            .collect()
    }

    pub async fn shares(&self, iam_id: &str) -> Vec<SandboxShare> {
        self.app
            .sandbox
            .state()
            .shares_of_user(self.user(iam_id).await)
    }

    pub fn status(&self, task_id: &str) -> String {
        self.app
            .sandbox
            .state()
            .task(task_id)
            .map(|t| t.status)
            .unwrap_or_default()
    }

    pub fn assignees(&self, task_id: &str) -> Vec<u64> {
        self.app
            .sandbox
            .state()
            .task(task_id)
            .map(|t| t.assignees)
            .unwrap_or_default()
    }

    /// Audit actions recorded about this request, in order.
    pub async fn audit(&self, task_id: &str) -> Vec<String> {
        let rows = self
            .app
            .store
            .audit_by_correlation(&format!("request:{task_id}"))
            .await
            .unwrap();
        rows.into_iter().map(|r| r.action).collect()
    }
}

async fn spawn_with_text_duration(options: Options) -> TestApp {
    // Seeding happens inside spawn; a worker without the field would read no duration, so
    // the field is added through the sandbox before the first request, and the worker
    // reads fields per task, not at start.
    let app = spawn_app_with(options).await;
    app.sandbox
        .state()
        .add_custom_field(INTAKE, "Duration", CustomFieldType::ShortText, &[]);
    app
}
