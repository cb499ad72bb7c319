//! The scheduler's part of access requests, run every tick from the store: reminders,
//! escalation or expiry when nobody decides in time, polling the IAM for decisions taken in
//! its workflow, the note on the task when time-bound access ended, and finishing effects a
//! crash or a refusal interrupted.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::{messages, ApprovalError, Approvals};
use crate::{
    clickup::answers,
    rules::{ApproverRef, DecideIn, OnTimeout},
    store::{AccessRequest, RequestState},
};

/// How long an approved request whose grant was refused waits before the next attempt.
const REFUSED_GRANT_BACKOFF: Duration = Duration::minutes(10);

/// Runs [`tick`] every `every` until the token is cancelled.
pub async fn run_until_stopped(
    approvals: Arc<Approvals>,
    every: std::time::Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        if let Err(error) = answers::collect(tick(&approvals, Utc::now())).await {
            warn!(error = %error, "access request pass failed; the next tick tries again");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// One pass over the open requests; failures are logged and tried again next tick.
pub async fn tick(approvals: &Approvals, now: DateTime<Utc>) -> Result<(), ApprovalError> {
    let open = approvals.store.requests_to_tend().await?;
    for listed in open {
        let task_id = listed.task_id.clone();
        // Read again under the request's lock: a lane may have changed it since the list.
        let _held = approvals.lock(&task_id).await;
        let Some(request) = approvals.store.request(&task_id).await? else {
            continue;
        };
        if let Err(error) = approvals.tend(request, now).await {
            warn!(%task_id, error = %error, "access request pass failed; tried again next tick");
        }
    }
    Ok(())
}

impl Approvals {
    async fn tend(&self, request: AccessRequest, now: DateTime<Utc>) -> Result<(), ApprovalError> {
        match request.state {
            RequestState::Pending => self.tend_pending(request, now).await,
            RequestState::Approved => {
                let backoff_since = (now - REFUSED_GRANT_BACKOFF).timestamp_millis();
                let iam_id = request.iam_id.clone().unwrap_or_default();
                if self.store.failed_since(&iam_id, backoff_since).await? {
                    return Ok(());
                }
                self.drive(request).await
            }
            RequestState::Granted => {
                let ended = request
                    .until
                    .is_some_and(|until| until <= now.timestamp_millis());
                if ended {
                    return self.note_end(request).await;
                }
                self.drive(request).await
            }
            _ => self.drive(request).await,
        }
    }

    async fn tend_pending(
        &self,
        mut request: AccessRequest,
        now: DateTime<Utc>,
    ) -> Result<(), ApprovalError> {
        let area = self.area(&request)?;
        if area.decide_in == DecideIn::Iam && self.poll_due(&request.task_id) {
            if let Some(outcome) = self.iam_verdict(&request, "iam-poll").await? {
                self.decide(request, outcome).await?;
                return Ok(());
            }
        }
        if request.announced_step < request.step {
            return self.drive(request).await;
        }
        let Some(timeout) = &area.timeout else {
            return Ok(());
        };

        let waited = now.timestamp_millis() - request.step_started_at;
        let since = DateTime::from_timestamp_millis(request.step_started_at).unwrap_or(now);
        if waited >= timeout.after.num_milliseconds() {
            match &timeout.then {
                OnTimeout::Escalate { to }
                    if !request.escalated && area.decide_in == DecideIn::ClickUp =>
                {
                    let refs: Vec<_> = to.iter().filter_map(|t| ApproverRef::parse(t)).collect();
                    let people = self.resolve(&refs, &request).await?;
                    if people.is_empty() {
                        return self.expire(request).await;
                    }
                    super::intake::set_approvers(&mut request, &people);
                    request.escalated = true;
                    request.step_started_at = now.timestamp_millis();
                    request.reminded_at = None;
                    request.announced_step = request.step - 1;
                    let audit = self.audit(
                        &request,
                        "request.escalated",
                        "pending",
                        json!({ "approvers": request.approver_iam_ids }),
                    );
                    self.store.save_request(&mut request, &[audit]).await?;
                    self.drive(request).await
                }
                _ => self.expire(request).await,
            }
        } else if waited >= timeout.remind_after.num_milliseconds() && request.reminded_at.is_none()
        {
            let names = match area.decide_in {
                DecideIn::Iam => vec!["the IAM's approval workflow".to_owned()],
                DecideIn::ClickUp => self.names(&request.approvers).await?,
            };
            self.clickup
                .comment(&request.task_id, &messages::reminder(&names, since))
                .await?;
            request.reminded_at = Some(now.timestamp_millis());
            let audit = self.audit(
                &request,
                "request.reminded",
                "pending",
                json!({ "approvers": request.approver_iam_ids }),
            );
            self.store
                .save_request(&mut request, &[audit])
                .await
                .map_err(ApprovalError::from)
        } else {
            Ok(())
        }
    }

    async fn expire(&self, mut request: AccessRequest) -> Result<(), ApprovalError> {
        request.state = RequestState::Expired;
        request.outcome_done = false;
        let audit = self.audit(
            &request,
            "request.expired",
            "expired",
            json!({ "step": request.step }),
        );
        self.store.save_request(&mut request, &[audit]).await?;
        self.drive(request).await
    }

    /// After the scheduler's expiry removed the access, says so on the task.
    async fn note_end(&self, mut request: AccessRequest) -> Result<(), ApprovalError> {
        let iam_id = request.iam_id.clone().unwrap_or_default();
        let rule = format!("request:{}", request.task_id);
        let still_open = self
            .store
            .open_grants(&iam_id)
            .await?
            .iter()
            .any(|g| g.rule == rule);
        if still_open {
            // The expiry pass has not revoked it yet (or ClickUp refused): next tick.
            return Ok(());
        }
        if self.clickup.task(&request.task_id).await?.is_some() {
            let area = request.area.clone().unwrap_or_default();
            self.clickup
                .comment(&request.task_id, &messages::ended(&area))
                .await?;
        }
        request.state = RequestState::Ended;
        let audit = self.audit(
            &request,
            "request.ended",
            "ended",
            json!({ "object": request.object, "until": request.until }),
        );
        self.store.save_request(&mut request, &[audit]).await?;
        Ok(())
    }
}
