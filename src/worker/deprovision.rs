//! Leavers, disables and deletions: find the person's ClickUp account and remove it.
//!
//! Members are deactivated through the user endpoint, guests removed through the guest
//! endpoint. An account that is already gone counts as success. The workspace owner is never
//! removed. Transient ClickUp failures give the message back to the bus; permanent ones are
//! recorded and dead-lettered.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::OnceCell;
use tracing::{debug, error, info, warn};

use crate::{
    bus::{Disposition, Handler, Lane},
    clickup::{ClickUpClient, ClickUpError, Member, Removal, Role},
    ingest::envelope::Envelope,
    store::{AuditEntry, Processed, Store},
};

/// The actor written in audit rows for the router's own actions.
pub const ROUTER_ACTOR: &str = "clickup-iam-router";

pub struct Deprovisioner {
    clickup: ClickUpClient,
    store: Store,
    team_id: u64,
    enterprise: OnceCell<Result<(), String>>,
}

#[derive(Deserialize)]
struct IdentityData {
    lifecycle: String,
    user: IdentityUser,
}

#[derive(Deserialize)]
struct IdentityUser {
    id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    email: Option<String>,
}

/// What the handler concluded, before it is recorded.
struct Outcome {
    outcome: &'static str,
    detail: String,
    audit: Option<AuditEntry>,
    disposition: Disposition,
}

impl Deprovisioner {
    pub fn new(clickup: ClickUpClient, store: Store, team_id: u64) -> Self {
        Self {
            clickup,
            store,
            team_id,
            enterprise: OnceCell::new(),
        }
    }

    /// User and guest removal are Enterprise-only; checked once per process.
    async fn require_enterprise(&self) -> Result<(), ClickUpError> {
        let verdict = self
            .enterprise
            .get_or_try_init(|| async {
                let plan = self.clickup.plan(self.team_id).await?;
                Ok::<_, ClickUpError>(if plan.is_enterprise() {
                    Ok(())
                } else {
                    Err(plan.plan_name)
                })
            })
            .await?;
        verdict
            .clone()
            .map_err(|plan| ClickUpError::EnterpriseRequired {
                team_id: self.team_id,
                plan,
                what: "removing members and guests",
            })
    }

    async fn deprovision(&self, envelope: &Envelope) -> Outcome {
        let data: IdentityData = match serde_json::from_str(envelope.data.get()) {
            Ok(data) => data,
            Err(e) => return self.failed(envelope, None, format!("event data unreadable: {e}")),
        };
        let email = data
            .user
            .email
            .clone()
            .or_else(|| data.user.profile.as_ref().and_then(|p| p.email.clone()));
        let Some(email) = email else {
            return self.failed(
                envelope,
                Some(&data),
                "the event names no email to find the ClickUp account by".into(),
            );
        };

        let found = match self.require_enterprise().await {
            Ok(()) => self.clickup.find_member(self.team_id, &email).await,
            Err(e) => Err(e),
        };
        let member = match found {
            Ok(Some(member)) => member,
            Ok(None) => return self.done(envelope, &data, None, "already_absent"),
            Err(e) => return self.clickup_failed(envelope, &data, None, e),
        };
        if member.role() == Role::Owner {
            return self.failed(
                envelope,
                Some(&data),
                format!(
                    "ClickUp user {} owns the workspace and cannot be removed",
                    member.id
                ),
            );
        }

        let removal = match member.role() {
            Role::Guest => self.clickup.remove_guest(self.team_id, member.id).await,
            _ => self.clickup.remove_member(self.team_id, member.id).await,
        };
        match removal {
            Ok(removal) => {
                let outcome = match (member.role(), removal) {
                    (_, Removal::AlreadyGone) => "already_absent",
                    (Role::Guest, Removal::Removed) => "removed_guest",
                    (_, Removal::Removed) => "removed_member",
                };
                self.done(envelope, &data, Some(&member), outcome)
            }
            Err(e) => self.clickup_failed(envelope, &data, Some(&member), e),
        }
    }

    fn done(
        &self,
        envelope: &Envelope,
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
            detail,
            audit: Some(self.audit(envelope, data, member, outcome)),
            disposition: Disposition::Ack,
        }
    }

    fn clickup_failed(
        &self,
        envelope: &Envelope,
        data: &IdentityData,
        member: Option<&Member>,
        error: ClickUpError,
    ) -> Outcome {
        if error.is_transient() {
            warn!(error = %error, "clickup unavailable; the leaver goes back to the queue");
            return Outcome {
                outcome: "retry",
                detail: error.to_string(),
                audit: None,
                disposition: Disposition::Retry,
            };
        }
        let mut audit = self.audit(envelope, data, member, "failed");
        audit.detail["error"] = json!(error.to_string());
        audit.detail["status"] = json!(error.status());
        Outcome {
            outcome: "failed",
            detail: error.to_string(),
            audit: Some(audit),
            disposition: Disposition::DeadLetter,
        }
    }

    fn failed(&self, envelope: &Envelope, data: Option<&IdentityData>, reason: String) -> Outcome {
        let audit = AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: "deprovision".into(),
            subject: envelope.subject.clone(),
            object: None,
            outcome: "failed".into(),
            correlation_id: envelope.correlationid.clone(),
            event_id: envelope.dedup_key(),
            detail: json!({ "error": reason, "lifecycle": data.map(|d| d.lifecycle.as_str()), "event_type": envelope.event_type }),
        };
        Outcome {
            outcome: "failed",
            detail: reason,
            audit: Some(audit),
            disposition: Disposition::DeadLetter,
        }
    }

    fn audit(
        &self,
        envelope: &Envelope,
        data: &IdentityData,
        member: Option<&Member>,
        outcome: &str,
    ) -> AuditEntry {
        let action = match member.map(Member::role) {
            Some(Role::Guest) => "clickup.remove_guest",
            Some(_) => "clickup.remove_member",
            None => "deprovision",
        };
        AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: action.into(),
            subject: Some(format!("user:{}", data.user.id)),
            object: member.map(|m| format!("clickup:team:{}:user:{}", self.team_id, m.id)),
            outcome: outcome.into(),
            correlation_id: envelope.correlationid.clone(),
            event_id: envelope.dedup_key(),
            detail: json!({
                "lifecycle": data.lifecycle,
                "event_type": envelope.event_type,
                "team_id": self.team_id.to_string(),
                "clickup_user_id": member.map(|m| m.id),
            }),
        }
    }
}

#[async_trait]
impl Handler for Deprovisioner {
    async fn handle(&self, envelope: Envelope, redelivered: bool) -> Disposition {
        let key = envelope.dedup_key();
        match self.store.processed(&key).await {
            Ok(Some(done)) => {
                debug!(outcome = %done.outcome, "already handled; acking the duplicate");
                return Disposition::Ack;
            }
            Ok(None) => {}
            Err(e) => {
                error!(error = %e, "store unavailable; the leaver goes back to the queue");
                return Disposition::Retry;
            }
        }

        let outcome = self.deprovision(&envelope).await;
        if outcome.disposition == Disposition::Retry {
            return Disposition::Retry;
        }

        let processed = Processed {
            lane: Lane::Deprovision.name().into(),
            outcome: outcome.outcome.into(),
            detail: outcome.detail,
        };
        let audit: Vec<AuditEntry> = outcome.audit.into_iter().collect();
        match self.store.record(&key, &processed, &audit).await {
            Ok(_) => {
                info!(outcome = outcome.outcome, redelivered, "leaver handled");
                outcome.disposition
            }
            Err(e) => {
                error!(error = %e, "could not record the outcome; the leaver goes back to the queue");
                Disposition::Retry
            }
        }
    }
}
