//! Intake and routing: a task in the intake List becomes a request; its form is read, the
//! requester resolved and checked against the area's policy, and the first step's approvers
//! (or the IAM's workflow) are asked.
//!
//! An incomplete form waits for the requester to fix it (one comment per distinct problem);
//! an ineligible request is closed with the reasons.

use chrono::Utc;
use serde_json::{json, Value};

use super::{people::Person, ApprovalError, Approvals};
use crate::worker::lane::Outcome;
use crate::{
    rules::{DecideIn, FormError, Identity},
    store::{AccessRequest, RequestState},
};

impl Approvals {
    /// Takes a task in (or again, while its form is incomplete).
    pub(super) async fn take_in(&self, task_id: &str) -> Result<Outcome, ApprovalError> {
        let policy = self.policy()?;
        let known = self.store.request(task_id).await?;
        if known
            .as_ref()
            .is_some_and(|r| r.state != RequestState::Incomplete)
        {
            return Ok(Outcome::new(
                "duplicate",
                "the request was already taken in",
            ));
        }
        let Some(task) = self.clickup.task(task_id).await? else {
            return Ok(Outcome::new("ignored", "the task is gone"));
        };
        if task["list"]["id"].as_str() != Some(policy.intake.list_id.as_str()) {
            return Ok(Outcome::new(
                "ignored",
                "the task is not in the intake List",
            ));
        }

        let now = Utc::now().timestamp_millis();
        let requester_user = task["creator"]["id"].as_i64().unwrap_or_default();
        let mut request = match known {
            Some(request) => request,
            None => {
                let request =
                    AccessRequest::new(task_id, &policy.intake.list_id, requester_user, now);
                self.store.insert_request(&request).await?;
                request
            }
        };

        let mut form = match policy.read_form(&task) {
            Ok(form) => form,
            Err(error) => return self.incomplete(request, error).await,
        };
        let Some(area) = policy.area(&form.area) else {
            return self
                .incomplete(
                    request,
                    FormError::Invalid(vec![format!("Area: {:?} is not an area", form.area)]),
                )
                .await;
        };
        // No duration asked for: the area's longest, so access asked "until further notice"
        // still ends.
        form.duration = form.duration.or(area.max_duration);
        request.area = Some(area.name.clone());
        request.object = Some(area.object.to_string());
        request.level = Some(form.level.to_string());
        request.duration_ms = form.duration.map(|d| d.num_milliseconds());
        request.reason = None;

        let Some(record) = self.requester(&task).await? else {
            return self
                .ineligible(
                    request,
                    vec!["your ClickUp account is not linked to an identity in the IAM".into()],
                )
                .await;
        };
        request.iam_id = Some(record.iam_id.clone());
        let identity = Identity::from_iam_user(&record.attributes).map_err(|e| {
            ApprovalError::Refused(format!("the requester's identity is unreadable: {e}"))
        })?;
        if record.status != "active" {
            return self
                .ineligible(
                    request,
                    vec![format!("the requester's IAM identity is {}", record.status)],
                )
                .await;
        }
        if let Err(reasons) = policy.check_eligible(area, &form, &identity, Utc::now()) {
            return self.ineligible(request, reasons).await;
        }

        match area.decide_in {
            DecideIn::Iam => self.route_to_iam(request, &record.attributes).await,
            DecideIn::ClickUp => self.route(request, &identity, &record.attributes).await,
        }
    }

    /// Asks the first step's approvers in ClickUp.
    async fn route(
        &self,
        mut request: AccessRequest,
        identity: &Identity,
        attributes: &Value,
    ) -> Result<Outcome, ApprovalError> {
        let area = self.area(&request)?;
        let approvers = self.step_approvers(&request, identity, 0).await?;
        if approvers.is_empty() {
            let step = area
                .steps
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            return self
                .ineligible(
                    request,
                    vec![format!("no approver could be found for step \"{step}\"")],
                )
                .await;
        }

        // The outcome is reported to the IAM when the area names a workflow for it.
        if let (Some(prd), Some(iam)) = (&area.iam_prd, &self.iam) {
            if request.iam_request_id.is_none() {
                let dn = requester_dn(attributes)?;
                let id = iam.open_request(prd, &dn, &request_data(&request)).await?;
                request.iam_request_id = Some(id);
            }
        }

        set_approvers(&mut request, &approvers);
        request.state = RequestState::Pending;
        request.step = 0;
        request.step_started_at = Utc::now().timestamp_millis();
        let audit = self.audit(
            &request,
            "request.routed",
            "pending",
            json!({
                "area": request.area, "object": request.object, "level": request.level,
                "duration_ms": request.duration_ms, "approvers": request.approver_iam_ids,
                "iam_request_id": request.iam_request_id,
            }),
        );
        self.store.save_request(&mut request, &[audit]).await?;

        self.drive(request).await?;
        Ok(Outcome::new(
            "routed",
            "waiting for the first step's approvers",
        ))
    }

    /// Leaves the decision to the IAM's workflow.
    async fn route_to_iam(
        &self,
        mut request: AccessRequest,
        attributes: &Value,
    ) -> Result<Outcome, ApprovalError> {
        let area = self.area(&request)?;
        let (Some(prd), Some(iam)) = (area.iam_prd.clone(), self.iam.clone()) else {
            return self.ineligible(request, vec!["this area is decided in the IAM, and the router has no IAM connection configured".into()]).await;
        };
        if request.iam_request_id.is_none() {
            let dn = requester_dn(attributes)?;
            let id = iam.open_request(&prd, &dn, &request_data(&request)).await?;
            request.iam_request_id = Some(id);
        }

        request.state = RequestState::Pending;
        request.step = 0;
        request.step_started_at = Utc::now().timestamp_millis();
        let audit = self.audit(
            &request,
            "request.sent_to_iam",
            "pending",
            json!({
                "area": request.area, "object": request.object, "level": request.level,
                "iam_request_id": request.iam_request_id,
            }),
        );
        self.store.save_request(&mut request, &[audit]).await?;

        self.drive(request).await?;
        Ok(Outcome::new("routed", "sent to the IAM's workflow"))
    }

    /// The approvers of `step` for this request, as assignable people.
    pub(super) async fn step_approvers(
        &self,
        request: &AccessRequest,
        identity: &Identity,
        step: usize,
    ) -> Result<Vec<Person>, ApprovalError> {
        let policy = self.policy()?;
        let area = self.area(request)?;
        let refs = policy
            .approvers(area, step, identity, Utc::now())
            .map_err(|e| {
                ApprovalError::Refused(format!(
                    "approvers of step {} could not be evaluated: {e}",
                    step + 1
                ))
            })?;
        self.resolve(&refs, request).await
    }

    async fn incomplete(
        &self,
        mut request: AccessRequest,
        error: FormError,
    ) -> Result<Outcome, ApprovalError> {
        let problems = match error {
            FormError::Missing(fields) => {
                fields.iter().map(|f| format!("{f} is missing")).collect()
            }
            FormError::Invalid(problems) => problems,
        };
        let reason = problems.join("; ");
        if request.reason.as_deref() == Some(reason.as_str()) {
            return Ok(Outcome::new("incomplete", "still incomplete, already said"));
        }

        self.clickup
            .comment(&request.task_id, &super::messages::incomplete(&problems))
            .await?;
        request.state = RequestState::Incomplete;
        request.reason = Some(reason);
        let audit = self.audit(
            &request,
            "request.incomplete",
            "waiting",
            json!({ "problems": problems.len() }),
        );
        self.store.save_request(&mut request, &[audit]).await?;
        Ok(Outcome::new("incomplete", "the form is incomplete"))
    }

    pub(super) async fn ineligible(
        &self,
        mut request: AccessRequest,
        reasons: Vec<String>,
    ) -> Result<Outcome, ApprovalError> {
        request.state = RequestState::Ineligible;
        request.reason = Some(reasons.join("; "));
        request.outcome_done = false;
        let audit = self.audit(
            &request,
            "request.ineligible",
            "refused",
            json!({ "reasons": reasons }),
        );
        self.store.save_request(&mut request, &[audit]).await?;

        self.drive(request).await?;
        Ok(Outcome::new("ineligible", reasons.join("; ")))
    }
}

/// Records the step's approvers on the request.
pub(super) fn set_approvers(request: &mut AccessRequest, approvers: &[Person]) {
    request.approvers = approvers.iter().map(|p| p.user_id as i64).collect();
    request.approver_iam_ids = approvers.iter().filter_map(|p| p.iam_id.clone()).collect();
}

fn requester_dn(attributes: &Value) -> Result<String, ApprovalError> {
    attributes["dn"].as_str().map(str::to_owned).ok_or_else(|| {
        ApprovalError::Refused("the requester's IAM identity has no dn to request for".into())
    })
}

/// The data items the IAM request carries (keys as the PRD's form names them).
fn request_data(request: &AccessRequest) -> Vec<(&'static str, String)> {
    let mut data = vec![
        ("clickupTaskId", request.task_id.clone()),
        ("clickupArea", request.area.clone().unwrap_or_default()),
        ("clickupObject", request.object.clone().unwrap_or_default()),
        ("accessLevel", request.level.clone().unwrap_or_default()),
    ];
    if let Some(ms) = request.duration_ms {
        data.push(("durationDays", format!("{}", ms / 86_400_000)));
    }
    data
}
