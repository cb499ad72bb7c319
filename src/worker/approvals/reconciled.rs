//! A change to an access-request task that no webhook delivered, found by reconciliation:
//! without the history item the router cannot know who made it, so it takes in what needs no
//! author (a new or still incomplete request) and decides nothing that needs an approver's
//! identity: a request whose status was moved to a decision is audited
//! (`reconcile.unverified_change`), put back to pending, and the approvers are asked to
//! decide again.

use serde_json::json;

use super::{ApprovalError, Approvals};
use crate::{store::RequestState, worker::lane::Outcome};

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
