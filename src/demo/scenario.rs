//! The demo's events, how each is sent, and the outcome each must produce.

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;
use serde_json::{json, Value};

use crate::{
    ingest::signature::{sign_clickup, StandardKey},
    sandbox::{Role, Sandbox},
    store::Store,
};

const LEAVER: &str = include_str!("../../tests/fixtures/iam/04-leaver-terminated.json");
const TASK_CREATED: &str = include_str!("../../tests/fixtures/clickup/event-taskCreated.json");
const TASK_STATUS: &str = include_str!("../../tests/fixtures/clickup/event-taskStatusUpdated.json");
const TASK_COMPANION: &str =
    include_str!("../../tests/fixtures/clickup/event-taskUpdated-companion-of-status.json");
const TASK_COMMENT: &str =
    include_str!("../../tests/fixtures/clickup/event-taskCommentPosted.json");

/// One line of the demo's table.
pub struct Row {
    pub event: String,
    pub http: String,
    pub action: String,
    pub result: String,
    pub passed: bool,
}

impl Row {
    pub(super) fn new(event: &str, status: u16, expected: u16, action: &str) -> Self {
        let passed = status == expected;
        Row {
            event: event.into(),
            http: status.to_string(),
            action: action.into(),
            result: if passed {
                "ok".into()
            } else {
                format!("expected HTTP {expected}")
            },
            passed,
        }
    }

    /// Fails the row unless `held`; when it holds (and the HTTP answer was right) the result
    /// reads `result`.
    pub(super) fn check(&mut self, held: bool, result: &str) {
        if !self.passed {
            return;
        }
        self.passed = held;
        self.result = match held {
            true => result.to_owned(),
            false => format!("not as expected: {result}"),
        };
    }
}

pub struct Scenario<'a> {
    pub router_url: String,
    pub iam_secret: String,
    pub webhook_id: String,
    pub sandbox: &'a Sandbox,
    pub store: Store,
    pub timeout: Duration,
}

impl Scenario<'_> {
    /// Sends every event and checks what the router did with it.
    pub async fn play(&self) -> anyhow::Result<Vec<Row>> {
        let state = self.sandbox.state();
        let mark = state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
        let pat = state.add_guest("pat.reviewer@agency.example.com", "Pat Reviewer");

        let mut rows = super::lifecycle::rows(self).await?;

        let leaver: Value = serde_json::from_str(LEAVER)?;
        let status = self.post_iam(&serde_json::to_vec(&leaver)?).await?;
        rows.push(
            self.removal_row(
                "IAM leaver (member)",
                status,
                &leaver,
                mark,
                "removed_member",
            )
            .await?,
        );

        let guest = guest_leaver(&leaver);
        let status = self.post_iam(&serde_json::to_vec(&guest)?).await?;
        rows.push(
            self.removal_row(
                "IAM leaver (agency guest)",
                status,
                &guest,
                pat,
                "removed_guest",
            )
            .await?,
        );

        let replay = self.post_iam(&serde_json::to_vec(&leaver)?).await?;
        let removals = state.count_calls(
            "DELETE",
            &format!("/api/v2/team/{}/user/{mark}", self.team_id()),
        );
        let mut row = Row::new(
            "IAM leaver again (same event id)",
            replay,
            200,
            "duplicate: not queued again",
        );
        if removals != 1 {
            row.passed = false;
            row.result = format!("{removals} removal calls, expected 1");
        }
        rows.push(row);

        for (name, body) in [
            ("ClickUp taskCreated", TASK_CREATED),
            ("ClickUp taskStatusUpdated", TASK_STATUS),
            ("ClickUp taskCommentPosted", TASK_COMMENT),
        ] {
            let delivery = self.with_webhook(body)?;
            let items: Vec<String> = delivery["history_items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i["id"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let status = self.sandbox.deliver(&self.webhook_id, &delivery).await?;
            let action = format!("{} item(s) handled by the clickup lane", items.len());
            let mut row = Row::new(name, status, 202, &action);
            let outcomes = self.wait_items(&items).await?;
            // Not intake tasks, and made by the router's own account (the fixtures' user is
            // the sandbox's owner) with no router action behind them: recorded as uncorrelated
            // echoes, nothing done.
            let handled = outcomes
                .iter()
                .all(|o| matches!(o.as_str(), "ignored" | "echo" | "echo_uncorrelated"));
            let result = format!("recorded: {}", outcomes.join(", "));
            row.check(handled && outcomes.len() == items.len(), &result);
            rows.push(row);
        }
        let status = self
            .sandbox
            .deliver(&self.webhook_id, &self.with_webhook(TASK_COMPANION)?)
            .await?;
        rows.push(Row::new(
            "ClickUp taskUpdated (companion)",
            status,
            200,
            "duplicate of taskStatusUpdated",
        ));

        let status = self.post_reserialised(TASK_CREATED).await?;
        rows.push(Row::new(
            "ClickUp delivery re-serialised",
            status,
            403,
            "refused: signature does not match",
        ));
        Ok(rows)
    }

    fn team_id(&self) -> u64 {
        crate::sandbox::SandboxConfig::default().team_id
    }

    /// Checks a leaver: answered 202, handled with the expected outcome, gone from ClickUp.
    async fn removal_row(
        &self,
        name: &str,
        status: u16,
        event: &Value,
        user_id: u64,
        expected: &str,
    ) -> anyhow::Result<Row> {
        let mut row = Row::new(name, status, 202, &format!("remove ClickUp user {user_id}"));
        if !row.passed {
            return Ok(row);
        }

        let processed = self.wait_outcome(event).await?;

        let email = event["data"]["user"]["email"].as_str().unwrap_or("");
        let gone = self.sandbox.state().find_by_email(email).is_none();
        match processed {
            Some(p) if p.outcome == expected && gone => row.result = p.outcome,
            Some(p) => {
                row.passed = false;
                row.result = format!("{} (account still present: {})", p.outcome, !gone);
            }
            None => {
                row.passed = false;
                row.result = "no outcome before the timeout".into();
            }
        }
        Ok(row)
    }

    /// The worker's recorded outcome for an IAM event, waiting up to the demo's timeout.
    pub(super) async fn wait_outcome(
        &self,
        event: &Value,
    ) -> anyhow::Result<Option<crate::store::Processed>> {
        let key = format!(
            "{} {}",
            event["source"].as_str().unwrap_or(""),
            event["id"].as_str().unwrap_or("")
        );
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            if let Some(processed) = self.store.processed(&key).await? {
                return Ok(Some(processed));
            }
            if tokio::time::Instant::now() > deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The outcomes recorded for ClickUp history items, waiting up to the demo's timeout.
    async fn wait_items(&self, items: &[String]) -> anyhow::Result<Vec<String>> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut outcomes = Vec::new();
        for item in items {
            loop {
                if let Some(processed) = self
                    .store
                    .processed(&format!("clickup-item:{item}"))
                    .await?
                {
                    outcomes.push(processed.outcome);
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    return Ok(outcomes);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(outcomes)
    }

    pub(super) async fn post_iam(&self, body: &[u8]) -> anyhow::Result<u16> {
        let key = StandardKey::parse(&self.iam_secret).map_err(|e| anyhow::anyhow!("{e}"))?;
        let message_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let timestamp = chrono::Utc::now().timestamp();
        let response = reqwest::Client::new()
            .post(format!("{}/webhooks/iam", self.router_url))
            .header("content-type", "application/cloudevents+json")
            .header("webhook-id", &message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", key.sign(&message_id, timestamp, body))
            .body(body.to_vec())
            .send()
            .await?;
        Ok(response.status().as_u16())
    }

    /// Signs the compact body, then sends it pretty-printed with that signature.
    async fn post_reserialised(&self, fixture: &str) -> anyhow::Result<u16> {
        let value = self.with_webhook(fixture)?;
        let secret = self
            .sandbox
            .state()
            .webhook(&self.webhook_id)
            .map(|(_, secret)| secret)
            .unwrap_or_default();
        let signature = sign_clickup(&secret, &serde_json::to_vec(&value)?);
        let response = reqwest::Client::new()
            .post(format!("{}/webhooks/clickup", self.router_url))
            .header("content-type", "application/json")
            .header("x-signature", signature)
            .body(serde_json::to_vec_pretty(&value)?)
            .send()
            .await?;
        Ok(response.status().as_u16())
    }

    fn with_webhook(&self, fixture: &str) -> anyhow::Result<Value> {
        let mut value: Value = serde_json::from_str(fixture)?;
        value["webhook_id"] = json!(self.webhook_id);
        Ok(value)
    }
}

/// A second leaver: an agency reviewer who is a ClickUp guest.
fn guest_leaver(template: &Value) -> Value {
    let mut event = template.clone();
    event["id"] = json!("ACMEIDV1#20260501090000#1#2:5e5e5e5e-6f6f-4a4a-8b8b-7c7c7c7c7c7c");
    event["sourceeventid"] = event["id"].clone();
    event["subject"] = json!("user:a9e2c0de00000000a9e2c0de00000001");
    event["partitionkey"] = event["subject"].clone();
    event["correlationid"] = json!("term-2026-0078");
    let user = &mut event["data"]["user"];
    user["id"] = json!("a9e2c0de00000000a9e2c0de00000001");
    user["ids"] = json!({ "workforce_id": "X20031" });
    user["dn"] = json!("cn=previewer,ou=external,o=data");
    user["username"] = json!("previewer");
    user["email"] = json!("pat.reviewer@agency.example.com");
    user["display_name"] = json!("Pat Reviewer");
    event
}

/// Registers the router's endpoint as a webhook in the sandbox; returns its id and secret.
pub async fn register_webhook(
    base_url: &str,
    token: &str,
    team_id: u64,
    endpoint: &str,
) -> anyhow::Result<(String, String)> {
    let response: Value = reqwest::Client::new()
        .post(format!("{base_url}/v2/team/{team_id}/webhook"))
        .header("authorization", token)
        .json(&json!({ "endpoint": endpoint, "events": ["*"] }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = response["id"].as_str().unwrap_or_default().to_string();
    let secret = response["webhook"]["secret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    anyhow::ensure!(
        !id.is_empty() && !secret.is_empty(),
        "the sandbox returned no webhook id or secret"
    );
    Ok((id, secret))
}

/// A fresh `whsec_` secret for the demo's IAM.
pub fn new_iam_secret() -> String {
    let mut key = [0u8; 24];
    rand::rng().fill_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}
