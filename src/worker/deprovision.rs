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
    worker::lane,
};

mod record;

use record::account_keys;

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
}

/// What the handler concluded, before it is recorded.
struct Outcome {
    outcome: &'static str,
    /// Why it failed, for the failure record (`None` on success).
    code: Option<&'static str>,
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
            Err(e) => {
                return self.failed(
                    "event_unreadable",
                    envelope,
                    None,
                    format!("event data unreadable: {e}"),
                )
            }
        };
        let raw: serde_json::Value = serde_json::from_str(envelope.data.get()).unwrap_or_default();
        let stored = match self.store.identity(&data.user.id).await {
            Ok(stored) => stored,
            Err(e) => return self.retry(format!("store unavailable: {e}")),
        };
        let re_enabled_later = stored
            .as_ref()
            .and_then(|s| s.enabled_at)
            .is_some_and(|at| at > envelope.time.timestamp_millis());
        if re_enabled_later {
            // Events cross lanes: a re-enable may be handled before an older disable. Only an
            // explicit re-enable outranks a removal; no other newer event does, so a leaver
            // is never skipped over clock skew between IAM sources.
            let mut audit = self.audit(envelope, &data, None, "stale");
            audit.detail["reason"] = json!("the IAM re-enabled the person after this event");
            return Outcome {
                outcome: "stale",
                code: None,
                detail: "the IAM re-enabled the person after this event".into(),
                audit: Some(audit),
                disposition: Disposition::Ack,
            };
        }
        let (user_id, emails) = account_keys(&raw["user"], stored.as_ref());
        if user_id.is_none() && emails.is_empty() {
            return self.failed(
                "no_account_keys",
                envelope,
                Some(&data),
                "the event names no email or ClickUp id to find the account by, and none is on record"
                    .into(),
            );
        }

        let found = match self.require_enterprise().await {
            Ok(()) => {
                self.clickup
                    .find_account(self.team_id, user_id, &emails)
                    .await
            }
            Err(e) => Err(e),
        };
        let member = match found {
            Ok(Some(member)) => member,
            Ok(None) => return self.done(envelope, &data, None, "already_absent"),
            Err(e) => return self.clickup_failed(envelope, &data, None, e),
        };
        if member.role() == Role::Owner {
            return self.failed(
                "workspace_owner",
                envelope,
                Some(&data),
                format!(
                    "ClickUp user {} owns the workspace and cannot be removed",
                    member.id
                ),
            );
        }

        // Write the intent first: if recording the outcome fails after ClickUp removed the
        // account, the redelivery finds nobody, and the trail must still say who was removed.
        let intent = self.audit(envelope, &data, Some(&member), "attempting");
        if let Err(e) = self.store.append_audit(&intent).await {
            return self.retry(format!("store unavailable: {e}"));
        }
        let removal = match member.role() {
            Role::Guest => self.clickup.remove_guest(self.team_id, member.id).await,
            _ => self.clickup.remove_member(self.team_id, member.id).await,
        };
        match removal {
            Ok(removal) => {
                self.observe_latency(envelope);
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

    /// The time from the receiver's acceptance to now, when the envelope carries it.
    fn observe_latency(&self, envelope: &Envelope) {
        let Some(accepted_at) = envelope.acceptedat else {
            return;
        };
        let took_ms = (chrono::Utc::now().timestamp_millis() - accepted_at).max(0);
        self.clickup
            .metrics()
            .leaver_removed(std::time::Duration::from_millis(took_ms as u64));
    }

    /// The store did not answer: try again later.
    fn retry(&self, reason: String) -> Outcome {
        warn!(reason = %reason, "the leaver goes back to the queue");
        Outcome {
            outcome: "retry",
            code: Some("store_unavailable"),
            detail: reason,
            audit: None,
            disposition: Disposition::Retry,
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
            code: None,
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
                code: Some(error.code()),
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
            code: Some(error.code()),
            detail: error.to_string(),
            audit: Some(audit),
            disposition: Disposition::DeadLetter,
        }
    }

    fn failed(
        &self,
        code: &'static str,
        envelope: &Envelope,
        data: Option<&IdentityData>,
        reason: String,
    ) -> Outcome {
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
            code: Some(code),
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

        let mut outcome = self.deprovision(&envelope).await;
        // The removal's row carries ClickUp's answers, not the grant rows written before it.
        if let Some(audit) = outcome.audit.as_mut() {
            crate::clickup::answers::attach(&mut audit.detail);
        }
        if let Some(code) = outcome.code {
            lane::note_failure(
                &self.store,
                &envelope,
                Lane::Deprovision,
                code,
                &outcome.detail,
            )
            .await;
        }
        if outcome.disposition == Disposition::Retry {
            return Disposition::Retry;
        }
        if outcome.disposition == Disposition::Ack && outcome.outcome != "stale" {
            let removed = outcome
                .audit
                .as_ref()
                .and_then(|a| a.detail["clickup_user_id"].as_u64());
            if let Err(e) = self.close_record(&envelope, removed).await {
                error!(error = %e, "could not close the leaver's grants; the leaver goes back to the queue");
                return Disposition::Retry;
            }
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
