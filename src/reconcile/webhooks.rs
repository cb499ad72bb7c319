//! Webhook health: every webhook the router has a secret for is looked up in ClickUp's list.
//! A `failing` or `suspended` one is brought back (`status: "active"`, endpoint and events
//! unchanged) and audited (`clickup.webhook_reactivated`, with its previous status and
//! `fail_count`). One ClickUp does not list is reported (`clickup.webhook_missing`, once until
//! it is listed again), never created: the router could not know the secret ClickUp would
//! mint for it.

use serde_json::json;

use super::{Context, ReconcileError, Report as PartReport};
use crate::{clickup::webhooks::Webhook, store::AuditEntry, worker::deprovision::ROUTER_ACTOR};

/// What the webhook part found and did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub checked: u64,
    pub reactivated: u64,
    pub missing: u64,
    /// Reactivations ClickUp refused or did not answer.
    pub failed: u64,
}

impl PartReport for Report {
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("checked", self.checked),
            ("reactivated", self.reactivated),
            ("missing", self.missing),
            ("failed", self.failed),
        ]
    }

    fn failures(&self) -> u64 {
        self.failed
    }
}

/// What to do about one webhook the router knows.
#[derive(Debug, PartialEq, Eq)]
pub enum Finding<'a> {
    Healthy,
    Reactivate(&'a Webhook),
    Missing,
}

/// Pure: the finding for `id` among the webhooks ClickUp listed.
pub fn finding<'a>(id: &str, listed: &'a [Webhook]) -> Finding<'a> {
    match listed.iter().find(|webhook| webhook.id == id) {
        Some(webhook) if webhook.needs_reactivation() => Finding::Reactivate(webhook),
        Some(_) => Finding::Healthy,
        None => Finding::Missing,
    }
}

/// The setting that notes a missing webhook was reported (cleared once it is listed again).
fn missing_setting(id: &str) -> String {
    format!("reconcile.webhook_missing:{id}")
}

pub async fn run(context: &Context) -> Result<Report, ReconcileError> {
    let listed = context.clickup.webhooks(context.team_id).await?;
    let metrics = context.clickup.metrics();
    let correlation = format!("reconcile:{}", uuid::Uuid::new_v4());
    let mut report = Report::default();

    for id in &context.webhook_ids {
        report.checked += 1;
        let missing_noted = missing_setting(id);

        let webhook = match finding(id, &listed) {
            Finding::Healthy => {
                context.store.set_setting(&missing_noted, "").await?;
                continue;
            }
            Finding::Missing => {
                report.missing += 1;
                metrics.reconciled("webhooks", "missing");
                let noted = context.store.setting(&missing_noted).await?;
                if noted.as_deref() != Some("reported") {
                    let detail = json!({ "webhook_id": id });
                    let entry = audit(
                        id,
                        "clickup.webhook_missing",
                        "missing",
                        &correlation,
                        detail,
                    );
                    context.store.append_audit(&entry).await?;
                    context
                        .store
                        .set_setting(&missing_noted, "reported")
                        .await?;
                }
                tracing::warn!(webhook_id = %id, "ClickUp does not list a webhook the router has a secret for");
                continue;
            }
            Finding::Reactivate(webhook) => webhook,
        };
        context.store.set_setting(&missing_noted, "").await?;

        let detail = json!({
            "webhook_id": webhook.id,
            "previous_status": webhook.status,
            "fail_count": webhook.fail_count,
        });
        match context.clickup.reactivate_webhook(webhook).await {
            Ok(()) => {
                report.reactivated += 1;
                metrics.reconciled("webhooks", "reactivated");
                let entry = audit(
                    id,
                    "clickup.webhook_reactivated",
                    "reactivated",
                    &correlation,
                    detail,
                );
                context.store.append_audit(&entry).await?;
                tracing::info!(webhook_id = %id, previous = %webhook.status, "webhook reactivated");
            }
            Err(error) => {
                report.failed += 1;
                metrics.reconciled("webhooks", "failed");
                let mut detail = detail;
                detail["error"] = json!(error.code());
                let entry = audit(
                    id,
                    "clickup.webhook_reactivated",
                    "failed",
                    &correlation,
                    detail,
                );
                context.store.append_audit(&entry).await?;
                tracing::warn!(webhook_id = %id, error = %error, "webhook reactivation failed");
            }
        }
    }
    Ok(report)
}

fn audit(
    id: &str,
    action: &str,
    outcome: &str,
    correlation: &str,
    detail: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor: ROUTER_ACTOR.into(),
        action: action.into(),
        subject: Some(format!("webhook:{id}")),
        object: None,
        outcome: outcome.into(),
        correlation_id: correlation.to_owned(),
        event_id: format!("{correlation}:webhook:{id}"),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(id: &str, status: &str) -> Webhook {
        Webhook {
            id: id.into(),
            endpoint: "https://router.example/webhooks/clickup".into(),
            events: vec!["*".into()],
            list_id: None,
            status: status.into(),
            fail_count: 0,
        }
    }

    #[test]
    fn each_known_webhook_is_healthy_reactivated_or_missing() {
        let listed = [
            webhook("active", "active"),
            webhook("failing", "failing"),
            webhook("suspended", "suspended"),
        ];
        let cases = [
            ("active", Finding::Healthy),
            ("failing", Finding::Reactivate(&listed[1])),
            ("suspended", Finding::Reactivate(&listed[2])),
            ("gone", Finding::Missing),
        ];
        for (id, expected) in cases {
            assert_eq!(finding(id, &listed), expected, "{id}");
        }
    }
}
