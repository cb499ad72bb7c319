//! Decisions: a status move or an `/approve` / `/deny` comment in ClickUp, or the IAM's own
//! workflow. Each is checked (who acted, is the request still open, does the task still exist)
//! and recorded once per step; anything else is put back, answered and audited.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use super::{intake::set_approvers, messages, ApprovalError, Approvals};
use crate::worker::lane::Outcome;
use crate::{
    iam::RequestStatus,
    rules::{parse_decision_comment, CommentDecision, DecideIn, Identity},
    store::{AccessRequest, Decision, RequestState},
};

/// A decision about to be taken.
pub(super) struct Verdict {
    pub approved: bool,
    /// Who decided: a ClickUp user id (`clickup:<id>`) or the IAM approver.
    pub decided_by: String,
    /// Their name, for the comment.
    pub name: String,
    pub reason: Option<String>,
    pub via: &'static str,
}

impl Approvals {
    pub(super) async fn on_status(
        &self,
        request: AccessRequest,
        actor: Option<u64>,
        from: Option<String>,
        to: &str,
    ) -> Result<Outcome, ApprovalError> {
        if matches!(
            request.state,
            RequestState::Incomplete | RequestState::Cancelled
        ) {
            return Ok(Outcome::new("ignored", "the request is not routed"));
        }
        let statuses = &self.statuses;
        let canonical = self.canonical_status(&request);
        if canonical
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(to))
        {
            return Ok(Outcome::new("ignored", "the status the router keeps"));
        }
        let approved = to.eq_ignore_ascii_case(&statuses.approved);
        let denied = to.eq_ignore_ascii_case(&statuses.denied);

        if (approved || denied) && request.state == RequestState::Pending {
            match self.may_decide(&request, actor).await? {
                Ok(name) => {
                    let verdict = Verdict {
                        approved,
                        decided_by: format!("clickup:{}", actor.unwrap_or_default()),
                        name,
                        reason: None,
                        via: "clickup-status",
                    };
                    return self.decide(request, verdict).await;
                }
                Err(why) => return self.refuse(request, actor, &why, canonical.or(from)).await,
            }
        }
        let why = match request.state {
            RequestState::Pending => {
                "the status of an open request changes only by an approver's decision".to_owned()
            }
            state => format!("the request is already {}", state.as_str()),
        };
        self.refuse(request, actor, &why, canonical.or(from)).await
    }

    pub(super) async fn on_comment(
        &self,
        request: AccessRequest,
        actor: Option<u64>,
        text: &str,
    ) -> Result<Outcome, ApprovalError> {
        let Some(command) = parse_decision_comment(text) else {
            return Ok(Outcome::new("ignored", "a comment without a decision"));
        };
        if request.state != RequestState::Pending {
            let why = format!("the request is already {}", request.state.as_str());
            return self.refuse(request, actor, &why, None).await;
        }
        match self.may_decide(&request, actor).await? {
            Ok(name) => {
                let (approved, reason) = match command {
                    CommentDecision::Approve { note } => (true, note),
                    CommentDecision::Deny { reason } => (false, reason),
                };
                let verdict = Verdict {
                    approved,
                    decided_by: format!("clickup:{}", actor.unwrap_or_default()),
                    name,
                    reason,
                    via: "clickup-comment",
                };
                self.decide(request, verdict).await
            }
            Err(why) => self.refuse(request, actor, &why, None).await,
        }
    }

    /// A decision from the IAM's workflow (`iam.request.decided`).
    pub(super) async fn on_iam_decision(&self, data: &Value) -> Result<Outcome, ApprovalError> {
        let decided = &data["request"];
        let Some(iam_request_id) = decided["request_id"].as_str() else {
            return Err(ApprovalError::Refused(
                "the decision names no request_id".into(),
            ));
        };
        let Some(found) = self.store.request_by_iam_id(iam_request_id).await? else {
            return Ok(Outcome::new("ignored", "not a request the router opened"));
        };
        let _held = self.lock(&found.task_id).await;
        let Some(request) = self.store.request(&found.task_id).await? else {
            return Ok(Outcome::new("ignored", "not a request the router opened"));
        };
        if request.state != RequestState::Pending || self.area(&request)?.decide_in != DecideIn::Iam
        {
            return Ok(Outcome::new(
                "ignored",
                "the request is not waiting for the IAM",
            ));
        }
        // The event is only a signal: the IAM's own record of the request decides.
        let Some(verdict) = self.iam_verdict(&request, "iam-event").await? else {
            let said = decided["decision"].as_str().unwrap_or("?");
            return Ok(Outcome::new(
                "ignored",
                format!("the event says {said:?}, the IAM shows the request undecided"),
            ));
        };
        self.decide(request, verdict).await
    }

    /// The IAM's decision on a request it decides, from its request history: the approver
    /// named by their identity on record when their DN is known.
    pub(super) async fn iam_verdict(
        &self,
        request: &AccessRequest,
        via: &'static str,
    ) -> Result<Option<Verdict>, ApprovalError> {
        let (Some(iam), Some(id)) = (&self.iam, &request.iam_request_id) else {
            return Ok(None);
        };
        let (approved, approver_dn, comment) = match iam.request_status(id).await? {
            RequestStatus::Approved {
                approver_dn,
                comment,
            } => (true, approver_dn, comment),
            RequestStatus::Denied {
                approver_dn,
                comment,
            } => (false, approver_dn, comment),
            RequestStatus::Failed => (false, None, Some("the IAM's workflow failed".into())),
            RequestStatus::Pending | RequestStatus::NotFound => return Ok(None),
        };
        let approver = match &approver_dn {
            Some(dn) => self.store.identity_by_dn(dn).await?,
            None => None,
        };
        let decided_by = match (&approver, &approver_dn) {
            (Some(record), _) => format!("iam:{}", record.iam_id),
            (None, Some(dn)) => format!("iam:{dn}"),
            (None, None) => "iam:workflow".to_owned(),
        };
        let name = approver
            .as_ref()
            .map(super::people::display_name)
            .unwrap_or_else(|| "the IAM's approver".to_owned());
        Ok(Some(Verdict {
            approved,
            decided_by,
            name,
            reason: comment,
            via,
        }))
    }

    /// Whether `actor` may decide the current step: `Ok(name)`, or `Err(why not)`.
    async fn may_decide(
        &self,
        request: &AccessRequest,
        actor: Option<u64>,
    ) -> Result<Result<String, String>, ApprovalError> {
        let Some(actor) = actor else {
            return Ok(Err("the change names no user".into()));
        };
        if self.area(request)?.decide_in == DecideIn::Iam {
            return Ok(Err(
                "this area's requests are decided in the IAM's workflow".into(),
            ));
        }
        if actor as i64 == request.requester_user {
            return Ok(Err("a requester cannot decide their own request".into()));
        }
        if !request.approvers.contains(&(actor as i64)) {
            let approvers = self.names(&request.approvers).await?;
            return Ok(Err(format!(
                "only {} can decide this step",
                approvers.join(" or ")
            )));
        }
        if let Some(record) = self.store.identity_by_clickup_user(actor as i64).await? {
            if record.status != "active" {
                return Ok(Err(format!(
                    "the approver's IAM identity is {}",
                    record.status
                )));
            }
        }
        Ok(Ok(self.name(actor as i64).await?))
    }

    /// Records a verdict once for the current step and carries it out.
    pub(super) async fn decide(
        &self,
        request: AccessRequest,
        verdict: Verdict,
    ) -> Result<Outcome, ApprovalError> {
        if self.clickup.task(&request.task_id).await?.is_none() {
            return self.cancel(request, "the task was deleted").await;
        }
        let area = self.area(&request)?;
        if verdict.approved {
            // An approval that arrives after the requester left grants nothing.
            let iam_id = request.iam_id.clone().unwrap_or_default();
            let status = self.store.identity(&iam_id).await?.map(|r| r.status);
            if status.as_deref() != Some("active") {
                let status = status.unwrap_or_else(|| "unknown".into());
                let why = format!("the requester's IAM identity is now {status}");
                return self.ineligible(request, vec![why]).await;
            }
        }
        let now = Utc::now();
        let decision = Decision {
            task_id: request.task_id.clone(),
            step: request.step,
            approved: verdict.approved,
            decided_by: verdict.decided_by.clone(),
            via: verdict.via.into(),
        };

        let mut next = request.clone();
        let next_step = request.step as usize + 1;
        let more_steps =
            verdict.approved && next_step < area.steps.len() && area.decide_in == DecideIn::ClickUp;
        let (action, note) = if more_steps {
            let identity = self.requester_identity(&request).await?;
            let approvers = self.step_approvers(&request, &identity, next_step).await?;
            if approvers.is_empty() {
                let name = &area.steps[next_step].name;
                return self
                    .ineligible(
                        request,
                        vec![format!("no approver could be found for step \"{name}\"")],
                    )
                    .await;
            }
            let names: Vec<String> = approvers.iter().map(|p| p.name.clone()).collect();
            set_approvers(&mut next, &approvers);
            next.step = next_step as i64;
            next.step_started_at = now.timestamp_millis();
            next.reminded_at = None;
            next.escalated = false;
            let note = messages::step_approved(
                &verdict.name,
                &area.steps[request.step as usize].name,
                next_step,
                area.steps.len(),
                &area.steps[next_step].name,
                &names,
            );
            ("request.step_approved", Some(note))
        } else if verdict.approved {
            next.state = RequestState::Approved;
            next.until = request
                .duration_ms
                .map(|ms| (now + Duration::milliseconds(ms)).timestamp_millis());
            ("request.approved", None)
        } else {
            next.state = RequestState::Denied;
            next.reason = verdict.reason.clone();
            ("request.denied", None)
        };
        if !more_steps {
            next.decided_by = Some(verdict.decided_by.clone());
            next.decided_at = Some(now.timestamp_millis());
            next.reason = next.reason.or(verdict.reason.clone());
            next.outcome_done = false;
        }

        let audit = self.audit(
            &next,
            action,
            if verdict.approved {
                "approved"
            } else {
                "denied"
            },
            json!({
                "step": request.step, "decided_by": verdict.decided_by, "via": verdict.via,
                "next_step": more_steps.then_some(next_step), "until": next.until,
            }),
        );
        if !self.store.decide(&decision, &mut next, &[audit]).await? {
            return Ok(Outcome::new("duplicate", "this step was already decided"));
        }

        if let Some(note) = note {
            self.clickup.comment(&next.task_id, &note).await?;
        }
        self.drive(next).await?;
        Ok(Outcome::new(
            if verdict.approved {
                "approved"
            } else {
                "denied"
            },
            format!("step {} decided via {}", request.step + 1, verdict.via),
        ))
    }

    /// Puts the status back (when it was changed), answers, and audits the refusal.
    async fn refuse(
        &self,
        mut request: AccessRequest,
        actor: Option<u64>,
        why: &str,
        put_back: Option<String>,
    ) -> Result<Outcome, ApprovalError> {
        // A decision redelivered after it was recorded (a crash before the ack, a retry) is
        // the same decision again: finish its effects, do not tell its author it did not count.
        if let Some(actor) = actor {
            let who = format!("clickup:{actor}");
            if self.store.decided_by(&request.task_id, &who).await? {
                self.drive(request).await?;
                return Ok(Outcome::new(
                    "duplicate",
                    "this approver's decision was recorded",
                ));
            }
        }
        if let Some(status) = &put_back {
            self.clickup
                .set_task_status(&request.task_id, status)
                .await?;
        }
        let name = match actor {
            Some(actor) => self.name(actor as i64).await?,
            None => "someone".to_owned(),
        };
        self.clickup
            .comment(
                &request.task_id,
                &messages::decision_refused(&name, why, put_back.as_deref()),
            )
            .await?;

        let audit = self.audit(
            &request,
            "request.decision_refused",
            "refused",
            json!({
                "clickup_user_id": actor, "why": why, "status_put_back": put_back.is_some(),
            }),
        );
        self.store.save_request(&mut request, &[audit]).await?;
        Ok(Outcome::new("refused", why.to_owned()))
    }

    /// Closes a request whose task is gone; nothing is granted.
    pub(super) async fn cancel(
        &self,
        mut request: AccessRequest,
        why: &str,
    ) -> Result<Outcome, ApprovalError> {
        if request.state.is_final() {
            return Ok(Outcome::new(
                "ignored",
                format!("the request is already {}", request.state.as_str()),
            ));
        }
        request.state = RequestState::Cancelled;
        request.reason = Some(why.to_owned());
        request.outcome_done = true;
        let audit = self.audit(
            &request,
            "request.cancelled",
            "cancelled",
            json!({ "why": why }),
        );
        self.store.save_request(&mut request, &[audit]).await?;
        // An IAM request opened for it is withdrawn (its approval tasks denied).
        self.drive(request).await?;
        Ok(Outcome::new("cancelled", why.to_owned()))
    }

    /// The status the router keeps a request's task in.
    pub(super) fn canonical_status(&self, request: &AccessRequest) -> Option<String> {
        let s = &self.statuses;
        match request.state {
            RequestState::Pending => Some(s.pending.clone()),
            RequestState::Approved | RequestState::Granted | RequestState::Ended => {
                Some(s.closed.clone())
            }
            RequestState::Denied => Some(s.denied.clone()),
            RequestState::Ineligible | RequestState::Expired => Some(s.closed.clone()),
            RequestState::Incomplete | RequestState::Cancelled => None,
        }
    }

    pub(super) async fn requester_identity(
        &self,
        request: &AccessRequest,
    ) -> Result<Identity, ApprovalError> {
        let iam_id = request.iam_id.as_deref().unwrap_or_default();
        let record = self.store.identity(iam_id).await?.ok_or_else(|| {
            ApprovalError::Refused("the requester's identity is no longer on record".into())
        })?;
        Identity::from_iam_user(&record.attributes)
            .map_err(|e| ApprovalError::Refused(e.to_string()))
    }
}
