//! Carrying out a request's state in ClickUp and the IAM, each effect recorded when done:
//! a pending step is announced (assignees, status, comment); an approval is granted through
//! the requester's desired access, then commented and closed; every final outcome is
//! commented, given its status, and reported to the IAM when a request was opened there.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tracing::warn;

use super::{messages, ApprovalError, Approvals};
use crate::{
    iam::TaskAction,
    rules::DecideIn,
    store::{AccessRequest, RequestState},
};

impl Approvals {
    /// Does whatever the request's state still asks for; safe to call again at any time.
    pub(super) async fn drive(&self, mut request: AccessRequest) -> Result<(), ApprovalError> {
        if request.state == RequestState::Pending && request.announced_step < request.step {
            self.announce(&mut request).await?;
        }
        if request.state == RequestState::Approved {
            self.grant(&mut request).await?;
        }
        let finished = matches!(
            request.state,
            RequestState::Granted
                | RequestState::Denied
                | RequestState::Ineligible
                | RequestState::Expired
        );
        if finished && !request.outcome_done {
            self.announce_outcome(&mut request).await?;
        }
        let closed = finished || request.state == RequestState::Cancelled;
        if closed && request.reported_at.is_none() && request.iam_request_id.is_some() {
            self.report(&mut request).await?;
        }
        Ok(())
    }

    /// Assigns the step's approvers (and unassigns anyone else), sets the pending status and
    /// comments what is asked.
    async fn announce(&self, request: &mut AccessRequest) -> Result<(), ApprovalError> {
        let area = self.area(request)?;
        let Some(task) = self.clickup.task(&request.task_id).await? else {
            return Ok(());
        };

        let assigned: Vec<u64> = task["assignees"]
            .as_array()
            .map(|users| users.iter().filter_map(|u| u["id"].as_u64()).collect())
            .unwrap_or_default();
        let wanted: Vec<u64> = request.approvers.iter().map(|&id| id as u64).collect();
        let add: Vec<u64> = wanted
            .iter()
            .copied()
            .filter(|id| !assigned.contains(id))
            .collect();
        let rem: Vec<u64> = assigned
            .iter()
            .copied()
            .filter(|id| !wanted.contains(id))
            .collect();
        self.clickup
            .change_assignees(&request.task_id, &add, &rem)
            .await?;

        let status = task["status"]["status"].as_str().unwrap_or_default();
        if !status.eq_ignore_ascii_case(&self.statuses.pending) {
            self.clickup
                .set_task_status(&request.task_id, &self.statuses.pending)
                .await?;
        }

        let requester = self.name(request.requester_user).await?;
        let asked = messages::Asked {
            requester: &requester,
            level: request.level.as_deref().unwrap_or_default(),
            area: &area.name,
            object: request.object.as_deref().unwrap_or_default(),
            duration: request.duration_ms.map(Duration::milliseconds),
            justification: justification(&task, self)?,
        };
        let text = match area.decide_in {
            DecideIn::Iam => {
                messages::sent_to_iam(&asked, request.iam_request_id.as_deref().unwrap_or("?"))
            }
            DecideIn::ClickUp if request.escalated => {
                messages::escalated(&self.names(&request.approvers).await?)
            }
            DecideIn::ClickUp => {
                let step = request.step as usize;
                let name = area
                    .steps
                    .get(step)
                    .map(|s| s.name.as_str())
                    .unwrap_or_default();
                let approvers = self.names(&request.approvers).await?;
                let statuses = (
                    self.statuses.approved.as_str(),
                    self.statuses.denied.as_str(),
                );
                messages::routed(&asked, step, area.steps.len(), name, &approvers, statuses)
            }
        };
        self.clickup.comment(&request.task_id, &text).await?;

        request.announced_step = request.step;
        let audit = self.audit(request, "request.announced", "pending", json!({
            "step": request.step, "assigned": add, "unassigned": rem, "escalated": request.escalated,
        }));
        self.store.save_request(request, &[audit]).await?;
        Ok(())
    }

    /// Applies the approved access through the requester's desired state.
    async fn grant(&self, request: &mut AccessRequest) -> Result<(), ApprovalError> {
        if let Err(error) = self.reconcile_requester(request, Utc::now()).await {
            if error.is_transient() {
                return Err(error);
            }
            warn!(task_id = %request.task_id, "the grant of an approved request was refused");
            return self.grant_failed(request, &error.to_string()).await;
        }

        let iam_id = request.iam_id.clone().unwrap_or_default();
        let rule = format!("request:{}", request.task_id);
        let object = request.object.clone().unwrap_or_default();
        let open = self.store.open_grants(&iam_id).await?;
        let granted = open.iter().any(|g| g.object == object && g.rule == rule);
        let covered = open.iter().any(|g| g.object == object);
        if !granted && !covered {
            // The rules keep no account for the requester (disabled, ended, unmatched).
            let status = self.store.identity(&iam_id).await?.map(|r| r.status);
            let why = format!(
                "the requester has no ClickUp access the rules keep (IAM status {})",
                status.as_deref().unwrap_or("unknown")
            );
            return self.grant_failed(request, &why).await;
        }

        request.state = RequestState::Granted;
        request.granted_at = Some(Utc::now().timestamp_millis());
        let audit = self.audit(request, "request.granted", "applied", json!({
            "object": object, "level": request.level, "until": request.until, "by_request": granted,
        }));
        self.store.save_request(request, &[audit]).await?;
        Ok(())
    }

    /// An approval that cannot be applied closes the request with the reason, so it is not
    /// tried on every tick.
    async fn grant_failed(
        &self,
        request: &mut AccessRequest,
        why: &str,
    ) -> Result<(), ApprovalError> {
        request.state = RequestState::Ineligible;
        request.reason = Some(format!(
            "approved, but the access could not be applied: {why}"
        ));
        request.outcome_done = false;
        let audit = self.audit(
            request,
            "request.grant_failed",
            "refused",
            json!({ "why": why }),
        );
        self.store.save_request(request, &[audit]).await?;
        Ok(())
    }

    /// Comments the outcome and gives the task its final status.
    async fn announce_outcome(&self, request: &mut AccessRequest) -> Result<(), ApprovalError> {
        let decider = match request.decided_by.as_deref() {
            Some(by) => self.decider_name(by).await?,
            None => "the router".to_owned(),
        };
        let area = request.area.clone().unwrap_or_default();
        let text = match request.state {
            RequestState::Granted => messages::granted(
                &decider,
                request.level.as_deref().unwrap_or_default(),
                &area,
                request.until.and_then(DateTime::from_timestamp_millis),
            ),
            RequestState::Denied => messages::denied(&decider, request.reason.as_deref()),
            RequestState::Expired => messages::expired(),
            _ => {
                let reasons: Vec<String> = request.reason.iter().cloned().collect();
                messages::ineligible(&reasons)
            }
        };
        if self.clickup.task(&request.task_id).await?.is_none() {
            request.outcome_done = true;
            self.store.save_request(request, &[]).await?;
            return Ok(());
        }
        self.clickup.comment(&request.task_id, &text).await?;
        if let Some(status) = self.canonical_status(request) {
            self.clickup
                .set_task_status(&request.task_id, &status)
                .await?;
        }

        request.outcome_done = true;
        let audit = self.audit(
            request,
            "request.closed",
            request.state.as_str(),
            json!({ "status": self.canonical_status(request) }),
        );
        self.store.save_request(request, &[audit]).await?;
        Ok(())
    }

    /// Tells the IAM how a request decided in ClickUp ended, acting on its approval task as
    /// the approver.
    async fn report(&self, request: &mut AccessRequest) -> Result<(), ApprovalError> {
        let (Some(iam), Some(iam_request_id)) = (&self.iam, request.iam_request_id.clone()) else {
            return Ok(());
        };
        let area = self.area(request)?;
        let decided_in_iam = request
            .decided_by
            .as_deref()
            .is_some_and(|by| by.starts_with("iam:"));
        if area.decide_in == DecideIn::Iam && decided_in_iam {
            // The IAM decided it; there is nothing to tell it.
            request.reported_at = Some(Utc::now().timestamp_millis());
            self.store.save_request(request, &[]).await?;
            return Ok(());
        }

        let approved = request.state == RequestState::Granted;
        let action = if approved {
            TaskAction::Approve
        } else {
            TaskAction::Deny
        };
        let proxy = match request
            .decided_by
            .as_deref()
            .and_then(|by| by.strip_prefix("clickup:"))
        {
            Some(user) => {
                let record = self
                    .store
                    .identity_by_clickup_user(user.parse().unwrap_or_default())
                    .await?;
                record.and_then(|r| r.attributes["dn"].as_str().map(str::to_owned))
            }
            None => None,
        };
        let comment = format!(
            "{} in ClickUp task {}",
            request.state.as_str(),
            request.task_id
        );
        let tasks = iam.approval_tasks(&iam_request_id).await?;
        for task in &tasks {
            iam.act_on_task(&task.task_id, action, &comment, proxy.as_deref())
                .await?;
        }

        request.reported_at = Some(Utc::now().timestamp_millis());
        let audit = self.audit(request, "request.reported_to_iam", "applied", json!({
            "iam_request_id": iam_request_id, "tasks": tasks.len(), "action": if approved { "approve" } else { "deny" },
        }));
        self.store.save_request(request, &[audit]).await?;
        Ok(())
    }

    async fn decider_name(&self, decided_by: &str) -> Result<String, ApprovalError> {
        match decided_by
            .strip_prefix("clickup:")
            .and_then(|id| id.parse::<i64>().ok())
        {
            Some(user) => self.name(user).await,
            None => match decided_by.strip_prefix("iam:") {
                Some(id) => Ok(self
                    .store
                    .identity(id)
                    .await?
                    .map(|r| super::people::display_name(&r))
                    .unwrap_or_else(|| "the IAM's approver".to_owned())),
                None => Ok(decided_by.to_owned()),
            },
        }
    }
}

/// The justification as the task's form holds it (the routing comment repeats it).
fn justification<'a>(
    task: &'a serde_json::Value,
    approvals: &Approvals,
) -> Result<Option<&'a str>, ApprovalError> {
    let policy = approvals.policy()?;
    let Some(field) = &policy.intake.fields.justification else {
        return Ok(None);
    };
    let found = task["custom_fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| field.matches(f)));
    Ok(found.and_then(|f| f["value"].as_str()))
}
