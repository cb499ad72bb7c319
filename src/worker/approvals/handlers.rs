//! The access-request side of the two lanes: ClickUp task events (through the task lane)
//! and the IAM's decisions, each recorded before the ack (`worker::lane`); and the task
//! changes reconciliation found that no webhook delivered. Without their history item the
//! router cannot know who made those, so it takes in what needs no author (a new or still
//! incomplete request) and decides nothing that needs an approver's identity: a request
//! moved to a decision is audited (`reconcile.unverified_change`), put back to pending, and
//! the approvers are asked to decide again.

use std::sync::Arc;

use super::{event::TaskEvent, ApprovalError, Approvals};
use crate::{
    bus::{Disposition, Handler, Lane},
    ingest::envelope::Envelope,
    store::RequestState,
    worker::lane::{self, Failure, Outcome},
};
use async_trait::async_trait;
use serde_json::{json, Value};

impl Failure for ApprovalError {
    fn is_transient(&self) -> bool {
        ApprovalError::is_transient(self)
    }

    fn code(&self) -> &'static str {
        match self {
            ApprovalError::ClickUp(e) => e.code(),
            ApprovalError::Iam(e) if e.is_transient() => "iam_unavailable",
            ApprovalError::Iam(_) => "iam_refused",
            ApprovalError::Store(_) => "store_unavailable",
            ApprovalError::Apply(e) => e.code(),
            ApprovalError::Refused(_) => "refused",
        }
    }
}

/// Decisions taken in the IAM's own workflow (the `approvals` lane).
pub struct IamDecisions(pub Arc<Approvals>);

#[async_trait]
impl Handler for IamDecisions {
    async fn handle(&self, envelope: Envelope, _redelivered: bool) -> Disposition {
        let key = envelope.dedup_key();
        let approvals = &self.0;
        lane::run(
            &approvals.store,
            &key,
            Lane::Approvals,
            "approvals.event",
            &envelope,
            async {
                let data: Value = serde_json::from_str(envelope.data.get())
                    .map_err(|e| ApprovalError::Refused(format!("event data unreadable: {e}")))?;
                approvals.on_iam_decision(&data).await
            },
        )
        .await
    }
}

impl Approvals {
    /// Acts on a ClickUp task event when it concerns an access request; `ignored` otherwise.
    pub async fn on_task_event(&self, data: &Value) -> Result<Outcome, ApprovalError> {
        let event = TaskEvent::read(data);
        if event.actor() == Some(self.router_user) {
            return Ok(Outcome::new("echo", "the router's own change"));
        }
        let _held = match event.task_id() {
            Some(task_id) => Some(self.lock(task_id).await),
            None => None,
        };
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

impl Approvals {
    /// Acts on a reconciled change of `task_id` in `list_id`; `ignored` when it is no request.
    pub async fn on_reconciled(
        &self,
        task_id: &str,
        list_id: &str,
    ) -> Result<Outcome, ApprovalError> {
        let _held = self.lock(task_id).await;
        let in_intake = self.policy()?.intake.list_id == list_id;

        let Some(mut request) = self.store.request(task_id).await? else {
            return match in_intake {
                true => self.take_in(task_id).await,
                false => Ok(Outcome::new("ignored", "not an access request")),
            };
        };
        if !request.state.is_final() && request.announced_step < 0 {
            return self.take_in(task_id).await;
        }
        if request.state != RequestState::Pending {
            return Ok(Outcome::new(
                "ignored",
                format!("the request is {}", request.state.as_str()),
            ));
        }

        let Some(task) = self.clickup.task(task_id).await? else {
            return self.cancel(request, "the task was deleted").await;
        };
        let status = task["status"]["status"].as_str().unwrap_or_default();
        let statuses = &self.statuses;
        let decided = [&statuses.approved, &statuses.denied]
            .iter()
            .any(|decision| decision.eq_ignore_ascii_case(status));
        if !decided {
            return Ok(Outcome::new("ignored", "no decision to verify"));
        }

        self.clickup
            .set_task_status(task_id, &statuses.pending)
            .await?;
        let text = format!(
            "The status of this request was changed to \"{status}\" while the router was not \
             receiving ClickUp's events, so it cannot tell who made the change and has put it \
             back to \"{}\". Approvers, please decide again: move the status, or comment \
             /approve or /deny <reason>.",
            statuses.pending
        );
        self.clickup.comment(task_id, &text).await?;

        let audit = self.audit(
            &request,
            "reconcile.unverified_change",
            "unverified",
            json!({ "status": status, "status_put_back": statuses.pending }),
        );
        self.store.save_request(&mut request, &[audit]).await?;
        Ok(Outcome::new(
            "unverified",
            "a decision without its author: the approvers are asked again",
        ))
    }
}
