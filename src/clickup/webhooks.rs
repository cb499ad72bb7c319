//! The webhook and task reads reconciliation needs: the workspace's webhooks with their
//! health (`GET /v2/team/{team_id}/webhook`), bringing one back (`PUT /v2/webhook/{id}` with
//! `status: "active"`), and a List's tasks changed since a time (`GET /v2/list/{id}/task`).
//!
//! Answers are read tolerantly: unknown fields are ignored, ids are taken as strings or
//! integers, and a webhook without an id is skipped (nothing could be done with it).

use reqwest::Method;
use serde_json::{json, Value};

use super::{ClickUpClient, ClickUpError};

/// One webhook as the router reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub endpoint: String,
    pub events: Vec<String>,
    /// The List it watches, when its location is a List.
    pub list_id: Option<String>,
    /// `health.status`: `active`, `failing`, `suspended` (as ClickUp spells it).
    pub status: String,
    pub fail_count: u64,
}

impl Webhook {
    /// Whether ClickUp has stopped delivering to it, or is failing to.
    pub fn needs_reactivation(&self) -> bool {
        matches!(self.status.as_str(), "failing" | "suspended")
    }
}

impl ClickUpClient {
    /// `GET /v2/team/{team_id}/webhook`: the webhooks the token's user created.
    pub async fn webhooks(&self, team_id: u64) -> Result<Vec<Webhook>, ClickUpError> {
        let path = format!("/v2/team/{team_id}/webhook");
        let answer: Value = self.call(Method::GET, &path, None).await?;
        let webhooks = answer["webhooks"].as_array().ok_or_else(|| {
            ClickUpError::Contract("the webhook list has no webhooks array".into())
        })?;
        Ok(webhooks.iter().filter_map(read_webhook).collect())
    }

    /// `PUT /v2/webhook/{id}` with `status: "active"`; ClickUp wants the endpoint and events
    /// in every update, so the webhook's own are sent back unchanged.
    pub async fn reactivate_webhook(&self, webhook: &Webhook) -> Result<(), ClickUpError> {
        let body = json!({
            "endpoint": webhook.endpoint,
            "events": webhook.events,
            "status": "active",
        });
        let path = format!("/v2/webhook/{}", webhook.id);
        self.call::<Value>(Method::PUT, &path, Some(&body)).await?;
        Ok(())
    }

    /// Every task of a List (subtasks and closed ones included) updated after `after_ms`,
    /// page by page until ClickUp says it was the last (or a page comes back short).
    pub async fn list_tasks_updated_after(
        &self,
        list_id: &str,
        after_ms: i64,
    ) -> Result<Vec<Value>, ClickUpError> {
        let mut tasks = Vec::new();
        for page in 0.. {
            let path = format!(
                "/v2/list/{list_id}/task?date_updated_gt={after_ms}&include_closed=true&subtasks=true&page={page}"
            );
            let answer: Value = self.call(Method::GET, &path, None).await?;
            let found = answer["tasks"]
                .as_array()
                .ok_or_else(|| ClickUpError::Contract("a task page has no tasks array".into()))?;
            let short = found.len() < TASK_PAGE;
            tasks.extend(found.iter().cloned());
            if short || answer["last_page"].as_bool() == Some(true) {
                break;
            }
        }
        Ok(tasks)
    }
}

/// Tasks per page of `GET /v2/list/{id}/task`.
const TASK_PAGE: usize = 100;

/// Reads one webhook; `None` without an id.
pub fn read_webhook(value: &Value) -> Option<Webhook> {
    let text = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        _ => None,
    };
    let health = &value["health"];
    Some(Webhook {
        id: text(&value["id"])?,
        endpoint: value["endpoint"].as_str().unwrap_or_default().to_owned(),
        events: match &value["events"] {
            Value::Array(events) => events
                .iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect(),
            Value::String(all) => vec![all.clone()],
            _ => Vec::new(),
        },
        list_id: text(&value["list_id"]),
        status: health["status"].as_str().unwrap_or("active").to_owned(),
        fail_count: health["fail_count"]
            .as_u64()
            .or_else(|| health["fail_count"].as_str().and_then(|n| n.parse().ok()))
            .unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_are_read_tolerantly() {
        let cases = [
            (
                json!({"id": "w1", "endpoint": "https://r.example/webhooks/clickup", "events": ["*"],
                       "list_id": "901", "health": {"status": "suspended", "fail_count": 5}, "new": 1}),
                Some(("w1", Some("901"), "suspended", 5, true)),
            ),
            (
                json!({"id": "w2", "events": "*", "list_id": 902, "health": {"status": "failing", "fail_count": "3"}}),
                Some(("w2", Some("902"), "failing", 3, true)),
            ),
            (
                json!({"id": "w3", "events": ["taskCreated"], "list_id": null}),
                Some(("w3", None, "active", 0, false)),
            ),
            (json!({"endpoint": "https://r.example"}), None),
            (json!({"id": 1.5}), None),
        ];
        for (value, expected) in cases {
            let got = read_webhook(&value).map(|w| {
                let reactivate = w.needs_reactivation();
                (w.id, w.list_id, w.status, w.fail_count, reactivate)
            });
            let expected = expected.map(|(id, list, status, fails, reactivate)| {
                (
                    id.to_owned(),
                    list.map(str::to_owned),
                    status.to_owned(),
                    fails,
                    reactivate,
                )
            });
            assert_eq!(got, expected, "{value}");
        }
    }
}
