//! The two lanes' handlers: ClickUp task events and the IAM's decisions, each deduplicated,
//! handled, and recorded (processed row and audit row) before the ack.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use tracing::{error, info, warn};

use super::{event::TaskEvent, ApprovalError, Approvals};
use crate::{
    bus::{Disposition, Handler, Lane},
    ingest::envelope::Envelope,
    store::{AuditEntry, Processed},
    worker::deprovision::ROUTER_ACTOR,
};

/// What handling one message did, for the processed row and the audit trail.
pub(super) struct Outcome {
    pub name: &'static str,
    pub detail: String,
}

impl Outcome {
    pub fn new(name: &'static str, detail: impl Into<String>) -> Outcome {
        Outcome {
            name,
            detail: detail.into(),
        }
    }
}

/// ClickUp task events (the `clickup` lane).
pub struct TaskEvents(pub Arc<Approvals>);

/// Decisions taken in the IAM's own workflow (the `approvals` lane).
pub struct IamDecisions(pub Arc<Approvals>);

#[async_trait]
impl Handler for TaskEvents {
    async fn handle(&self, envelope: Envelope, _redelivered: bool) -> Disposition {
        let data: Value = serde_json::from_str(envelope.data.get()).unwrap_or_default();
        // Two webhooks on one List deliver the same history item under two ids: key on the
        // item, so it is handled once whichever arrives first.
        let key = match data["history_item"]["id"].as_str() {
            Some(item) => format!("clickup-item:{item}"),
            None => envelope.dedup_key(),
        };
        let approvals = &self.0;
        run(approvals, &key, Lane::ClickUp, &envelope, async {
            let event = TaskEvent::read(&data);
            approvals.on_task_event(event).await
        })
        .await
    }
}

#[async_trait]
impl Handler for IamDecisions {
    async fn handle(&self, envelope: Envelope, _redelivered: bool) -> Disposition {
        let key = envelope.dedup_key();
        let approvals = &self.0;
        run(approvals, &key, Lane::Approvals, &envelope, async {
            let data: Value = serde_json::from_str(envelope.data.get())
                .map_err(|e| ApprovalError::Refused(format!("event data unreadable: {e}")))?;
            approvals.on_iam_decision(&data).await
        })
        .await
    }
}

/// Skips what is recorded, runs the work, records its outcome, and says how to settle.
async fn run(
    approvals: &Approvals,
    key: &str,
    lane: Lane,
    envelope: &Envelope,
    work: impl std::future::Future<Output = Result<Outcome, ApprovalError>>,
) -> Disposition {
    match approvals.store.processed(key).await {
        Ok(Some(_)) => return Disposition::Ack,
        Ok(None) => {}
        Err(e) => {
            error!(error = %e, "store unavailable; the event goes back to the queue");
            return Disposition::Retry;
        }
    }

    let (outcome, disposition) = match work.await {
        Ok(outcome) => (outcome, Disposition::Ack),
        Err(e) if e.is_transient() => {
            warn!(error = %e, "access request interrupted; the event goes back to the queue");
            return Disposition::Retry;
        }
        Err(e) => (
            Outcome::new("failed", e.to_string()),
            Disposition::DeadLetter,
        ),
    };

    let processed = Processed {
        lane: lane.name().into(),
        outcome: outcome.name.into(),
        detail: outcome.detail.clone(),
    };
    let audit = AuditEntry {
        actor: ROUTER_ACTOR.into(),
        action: format!("{}.event", lane.name()),
        subject: envelope.subject.clone(),
        object: None,
        outcome: outcome.name.into(),
        correlation_id: envelope.correlationid.clone(),
        event_id: key.to_owned(),
        detail: json!({ "event_type": envelope.event_type, "detail": outcome.detail }),
    };
    match approvals.store.record(key, &processed, &[audit]).await {
        Ok(_) => {
            info!(outcome = outcome.name, "event handled");
            disposition
        }
        Err(e) => {
            error!(error = %e, "could not record the outcome; the event goes back to the queue");
            Disposition::Retry
        }
    }
}

impl Approvals {
    async fn on_task_event(&self, event: TaskEvent) -> Result<Outcome, ApprovalError> {
        if event.actor() == Some(self.router_user) {
            return Ok(Outcome::new("echo", "the router's own change"));
        }
        let intake_list = self.policy()?.intake.list_id.clone();

        match event {
            TaskEvent::Created {
                task_id, list_id, ..
            } => {
                if list_id.as_deref() != Some(intake_list.as_str()) {
                    return Ok(Outcome::new("ignored", "not an intake List"));
                }
                self.take_in(&task_id).await
            }
            TaskEvent::FieldChanged {
                task_id, list_id, ..
            } => {
                let known = self.store.request(&task_id).await?;
                let incomplete = known
                    .as_ref()
                    .is_some_and(|r| !r.state.is_final() && r.announced_step < 0);
                let new_in_intake =
                    known.is_none() && list_id.as_deref() == Some(intake_list.as_str());
                if incomplete || new_in_intake {
                    return self.take_in(&task_id).await;
                }
                Ok(Outcome::new(
                    "ignored",
                    "a field change on a routed request",
                ))
            }
            TaskEvent::StatusChanged {
                task_id,
                actor,
                from,
                to,
            } => {
                let Some(request) = self.store.request(&task_id).await? else {
                    return Ok(Outcome::new("ignored", "not an access request"));
                };
                self.on_status(request, actor, from, &to).await
            }
            TaskEvent::Commented {
                task_id,
                actor,
                text,
            } => {
                let Some(request) = self.store.request(&task_id).await? else {
                    return Ok(Outcome::new("ignored", "not an access request"));
                };
                self.on_comment(request, actor, &text).await
            }
            TaskEvent::Deleted { task_id } => {
                let Some(request) = self.store.request(&task_id).await? else {
                    return Ok(Outcome::new("ignored", "not an access request"));
                };
                self.cancel(request, "the task was deleted").await
            }
            TaskEvent::Other => Ok(Outcome::new("ignored", "nothing for access requests")),
        }
    }
}
