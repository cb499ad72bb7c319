//! What the deprovision handler concluded, before it is recorded, and the audit rows that say
//! so: every row names its cause (`leaver` from the IAM's drivers, `scim` through SCIM,
//! `brake-release` when a held SCIM removal is carried out), which the brake's window reads.

use serde_json::json;
use tracing::warn;

use super::{scim::Job, Deprovisioner, IdentityData, ROUTER_ACTOR};
use crate::{
    bus::Disposition,
    clickup::{ClickUpError, Member, Role},
    store::{AuditEntry, NewHold, StoreError},
    worker::apply::ApplyError,
};

pub(super) struct Outcome {
    pub outcome: &'static str,
    /// Why it failed, for the failure record (`None` on success).
    pub code: Option<&'static str>,
    pub detail: String,
    pub audit: Option<AuditEntry>,
    pub disposition: Disposition,
    /// The hold to record instead of removing (a SCIM removal the brake holds).
    pub hold: Option<NewHold>,
    /// What stopped a removal that is to be tried again (`Disposition::Retry`).
    pub error: Option<ApplyError>,
}

impl Outcome {
    /// Whether the account is gone (or was never there), so the record must say so.
    pub fn removes(&self) -> bool {
        self.disposition == Disposition::Ack && self.hold.is_none() && self.outcome != "stale"
    }

    /// The ClickUp account that was removed, when one was.
    pub fn removed(&self) -> Option<u64> {
        self.audit
            .as_ref()
            .and_then(|a| a.detail["clickup_user_id"].as_u64())
    }
}

impl Deprovisioner {
    /// The store did not answer: try again later.
    pub(super) fn retry(&self, error: StoreError) -> Outcome {
        warn!(error = %error, "the leaver goes back to the queue");
        Outcome {
            outcome: "retry",
            code: Some("store_unavailable"),
            detail: format!("store unavailable: {error}"),
            audit: None,
            disposition: Disposition::Retry,
            hold: None,
            error: Some(ApplyError::Store(error)),
        }
    }

    /// Nothing is removed: the person came back after the event.
    pub(super) fn stale(&self, job: &Job, data: &IdentityData, reason: &str) -> Outcome {
        let mut audit = self.audit(job, data, None, "stale");
        audit.detail["reason"] = json!(reason);
        Outcome {
            outcome: "stale",
            code: None,
            detail: reason.into(),
            audit: Some(audit),
            disposition: Disposition::Ack,
            hold: None,
            error: None,
        }
    }

    pub(super) fn done(
        &self,
        job: &Job,
        data: &IdentityData,
        member: Option<&Member>,
        outcome: &'static str,
    ) -> Outcome {
        let detail = match member {
            Some(member) => format!("ClickUp user {} ({:?})", member.id, member.role()),
            None => "no ClickUp account with the person's email".into(),
        };
        Outcome {
            outcome,
            code: None,
            detail,
            audit: Some(self.audit(job, data, member, outcome)),
            disposition: Disposition::Ack,
            hold: None,
            error: None,
        }
    }

    pub(super) fn clickup_failed(
        &self,
        job: &Job,
        data: &IdentityData,
        member: Option<&Member>,
        error: ClickUpError,
    ) -> Outcome {
        if error.is_transient() {
            warn!(error = %error, "clickup unavailable; the leaver goes back to the queue");
            return Outcome {
                outcome: "retry",
                code: Some(error.code()),
                detail: error.to_string(),
                audit: None,
                disposition: Disposition::Retry,
                hold: None,
                error: Some(ApplyError::ClickUp(error)),
            };
        }
        let mut audit = self.audit(job, data, member, "failed");
        audit.detail["error"] = json!(error.to_string());
        audit.detail["status"] = json!(error.status());
        Outcome {
            outcome: "failed",
            code: Some(error.code()),
            detail: error.to_string(),
            audit: Some(audit),
            disposition: Disposition::DeadLetter,
            hold: None,
            error: None,
        }
    }

    pub(super) fn failed(
        &self,
        code: &'static str,
        job: &Job,
        data: Option<&IdentityData>,
        reason: String,
    ) -> Outcome {
        let envelope = job.envelope;
        let mut detail = json!({
            "error": reason,
            "lifecycle": data.map(|d| d.lifecycle.as_str()),
            "event_type": envelope.event_type,
        });
        job.describe(&mut detail);
        let audit = AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: "deprovision".into(),
            subject: envelope.subject.clone(),
            object: None,
            outcome: "failed".into(),
            correlation_id: envelope.correlationid.clone(),
            event_id: envelope.dedup_key(),
            detail,
        };
        Outcome {
            outcome: "failed",
            code: Some(code),
            detail: reason,
            audit: Some(audit),
            disposition: Disposition::DeadLetter,
            hold: None,
            error: None,
        }
    }

    pub(super) fn audit(
        &self,
        job: &Job,
        data: &IdentityData,
        member: Option<&Member>,
        outcome: &str,
    ) -> AuditEntry {
        let action = match member.map(Member::role) {
            Some(Role::Guest) => "clickup.remove_guest",
            Some(_) => "clickup.remove_member",
            None => "deprovision",
        };
        let envelope = job.envelope;
        let mut detail = json!({
            "lifecycle": data.lifecycle,
            "event_type": envelope.event_type,
            "team_id": self.team_id.to_string(),
            "clickup_user_id": member.map(|m| m.id),
        });
        job.describe(&mut detail);
        AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: action.into(),
            subject: Some(format!("user:{}", data.user.id)),
            object: member.map(|m| format!("clickup:team:{}:user:{}", self.team_id, m.id)),
            outcome: outcome.into(),
            correlation_id: envelope.correlationid.clone(),
            event_id: envelope.dedup_key(),
            detail,
        }
    }
}
