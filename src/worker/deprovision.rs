//! Leavers, disables and deletions: find the person's ClickUp account and remove it.
//!
//! Members are deactivated through the user endpoint, guests removed through the guest
//! endpoint. An account that is already gone counts as success. The workspace owner is never
//! removed. Transient ClickUp failures give the message back to the bus; permanent ones are
//! recorded and dead-lettered. A removal that came through SCIM passes the mass-removal brake
//! first (`scim`); the IAM's own drivers' never do.

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::OnceCell;
use tracing::{debug, error, info, warn};

use crate::{
    bus::{Disposition, Handler, Lane},
    clickup::{ClickUpClient, ClickUpError, Removal, Role},
    ingest::envelope::Envelope,
    store::{AuditEntry, Processed, Store},
    worker::{brake::Brake, lane, provision::PERSON_WAIT},
};

mod outcome;
mod record;
pub mod scim;

use outcome::Outcome;
pub(crate) use record::account_keys;
use scim::{Job, Mode};

/// The actor written in audit rows for the router's own actions.
pub const ROUTER_ACTOR: &str = "clickup-iam-router";

pub struct Deprovisioner {
    clickup: ClickUpClient,
    store: Store,
    team_id: u64,
    brake: Brake,
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

impl Deprovisioner {
    pub fn new(clickup: ClickUpClient, store: Store, team_id: u64, brake: Brake) -> Self {
        Self {
            clickup,
            store,
            team_id,
            brake,
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

    async fn deprovision(&self, job: &Job<'_>) -> Outcome {
        let envelope = job.envelope;
        let data: IdentityData = match serde_json::from_str(envelope.data.get()) {
            Ok(data) => data,
            Err(e) => {
                return self.failed(
                    "event_unreadable",
                    job,
                    None,
                    format!("event data unreadable: {e}"),
                )
            }
        };
        let raw: serde_json::Value = serde_json::from_str(envelope.data.get()).unwrap_or_default();
        let stored = match self.store.identity(&data.user.id).await {
            Ok(stored) => stored,
            Err(e) => return self.retry(e),
        };
        let re_enabled_later = stored
            .as_ref()
            .and_then(|s| s.enabled_at)
            .is_some_and(|at| at > envelope.time.timestamp_millis());
        if re_enabled_later {
            // Events cross lanes: a re-enable may be handled before an older disable. Only an
            // explicit re-enable outranks a removal; no other newer event does, so a leaver
            // is never skipped over clock skew between IAM sources.
            return self.stale(job, &data, "the IAM re-enabled the person after this event");
        }
        let (user_id, emails) = account_keys(&raw["user"], stored.as_ref());
        if user_id.is_none() && emails.is_empty() {
            return self.failed(
                "no_account_keys",
                job,
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
            Ok(None) => return self.done(job, &data, None, "already_absent"),
            Err(e) => return self.clickup_failed(job, &data, None, e),
        };
        if member.role() == Role::Owner {
            return self.failed(
                "workspace_owner",
                job,
                Some(&data),
                format!(
                    "ClickUp user {} owns the workspace and cannot be removed",
                    member.id
                ),
            );
        }
        // A removal through SCIM waits for the brake; a released one for nobody come back.
        if let Some(outcome) = self.before_removal(job, &data, &member).await {
            return outcome;
        }

        // Write the intent first: if recording the outcome fails after ClickUp removed the
        // account, the redelivery finds nobody, and the trail must still say who was removed.
        let intent = self.audit(job, &data, Some(&member), "attempting");
        if let Err(e) = self.store.append_audit(&intent).await {
            return self.retry(e);
        }
        let removal = match member.role() {
            Role::Guest => self.clickup.remove_guest(self.team_id, member.id).await,
            _ => self.clickup.remove_member(self.team_id, member.id).await,
        };
        match removal {
            Ok(removal) => {
                self.observe_latency(job);
                let outcome = match (member.role(), removal) {
                    (_, Removal::AlreadyGone) => "already_absent",
                    (Role::Guest, Removal::Removed) => "removed_guest",
                    (_, Removal::Removed) => "removed_member",
                };
                self.done(job, &data, Some(&member), outcome)
            }
            Err(e) => self.clickup_failed(job, &data, Some(&member), e),
        }
    }

    /// The time from the receiver's acceptance to now, when the envelope carries it; a
    /// released removal waited for a person, not for the router, and is not observed.
    fn observe_latency(&self, job: &Job) {
        let (Mode::Lane, Some(accepted_at)) = (job.mode, job.envelope.acceptedat) else {
            return;
        };
        let took_ms = (chrono::Utc::now().timestamp_millis() - accepted_at).max(0);
        self.clickup
            .metrics()
            .leaver_removed(std::time::Duration::from_millis(took_ms as u64));
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

        // One worker at a time per person (see `store::person_locks`), held until the
        // outcome is recorded.
        let _lock = match person_of(&envelope) {
            Some(iam_id) => match self.store.lock_person(&iam_id, PERSON_WAIT).await {
                Ok(lock) => Some(lock),
                Err(e) => {
                    warn!(error = %e, "person busy or store unavailable; the leaver goes back to the queue");
                    return Disposition::Retry;
                }
            },
            None => None,
        };

        let job = Job {
            envelope: &envelope,
            mode: Mode::Lane,
        };
        let mut outcome = self.deprovision(&job).await;
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
        if let Some(hold) = outcome.hold.take() {
            return self.record_hold(&key, outcome, &hold).await;
        }
        if outcome.removes() {
            if let Err(e) = self.close_record(&envelope, outcome.removed()).await {
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

#[cfg(test)]
mod tests;

/// The IAM id an identity event is about, when its data names one.
pub(crate) fn person_of(envelope: &Envelope) -> Option<String> {
    let data: serde_json::Value = serde_json::from_str(envelope.data.get()).ok()?;
    data["user"]["id"].as_str().map(String::from)
}
