//! Access requests: intake tasks in ClickUp, approvers from the IAM, decisions verified, access
//! granted through the same desired-state machinery as the lifecycle rules.
//!
//! Two lanes feed it: ClickUp task events (`clickup.#`) and the IAM's decisions
//! (`iam.request.*`); the scheduler adds timeouts, reminders, polling and expiry notes.
//!
//! Invariants: only a current-step approver's decision counts, never the requester's, and
//! never the router's own echo; one decision per request and step (a key in the store); every
//! side effect of a state is recorded when done (`announced_step`, `granted_at`,
//! `outcome_done`, `reported_at`), so a redelivered message or the scheduler finishes what a
//! crash interrupted without repeating what was done.

mod decide;
mod effects;
mod event;
mod handlers;
mod intake;
mod messages;
mod people;
pub mod timeouts;
mod wanted;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};

use super::{
    apply::ApplyError,
    provision::{BrakeMode, Provisioner},
};
use crate::{
    clickup::{ClickUpClient, ClickUpError},
    iam::{IamClient, IamError},
    rules::{AccessPolicy, Area, DecisionStatuses, RuleSet},
    store::{AccessRequest, AuditEntry, Store, StoreError},
    worker::deprovision::ROUTER_ACTOR,
};

pub use handlers::IamDecisions;
pub use wanted::add_requests;

/// Why handling a request stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("ClickUp: {0}")]
    ClickUp(#[from] ClickUpError),
    #[error("IAM: {0}")]
    Iam(#[from] IamError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("grant: {0}")]
    Apply(#[from] ApplyError),
    #[error("{0}")]
    Refused(String),
}

impl ApprovalError {
    pub fn is_transient(&self) -> bool {
        match self {
            ApprovalError::ClickUp(e) => e.is_transient(),
            ApprovalError::Iam(e) => e.is_transient(),
            ApprovalError::Store(_) => true,
            ApprovalError::Apply(e) => e.is_transient(),
            ApprovalError::Refused(_) => false,
        }
    }
}

/// The access-request worker: shared by both lanes and the scheduler.
pub struct Approvals {
    pub clickup: ClickUpClient,
    pub store: Store,
    pub rules: Arc<RuleSet>,
    pub provisioner: Arc<Provisioner>,
    pub iam: Option<IamClient>,
    /// The router's own ClickUp account: changes it makes echo back and are not acted on.
    pub router_user: u64,
    /// The decision statuses as the intake List spells them.
    pub statuses: DecisionStatuses,
    /// How often the IAM is asked about one request it decides (its push is the fast path).
    pub poll_every: Duration,
    /// When each request was last polled. Only paces the polls: after a restart every
    /// request is simply polled again, so no outcome depends on it.
    last_poll: Mutex<HashMap<String, Instant>>,
    /// One lock per request being handled, so a lane and the scheduler never act on one
    /// request at once in this process (the store's versions guard across processes).
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Approvals {
    /// Builds the worker when the rules have an access-request policy, checking that the
    /// intake List has the configured statuses; `router_user` is the router's own account.
    pub async fn start(
        clickup: ClickUpClient,
        store: Store,
        rules: Arc<RuleSet>,
        provisioner: Arc<Provisioner>,
        iam: Option<IamClient>,
        router_user: u64,
        poll_every: Duration,
    ) -> anyhow::Result<Option<Approvals>> {
        let Some(policy) = rules.access_policy() else {
            return Ok(None);
        };
        let available = clickup.list_statuses(&policy.intake.list_id).await?;
        let statuses = spell_statuses(&policy.intake.statuses, &available)
            .map_err(|missing| anyhow::anyhow!("the access-request List {} has no status {missing:?}; its statuses are {available:?}", policy.intake.list_id))?;

        let iam_areas = policy.areas.iter().filter(|a| a.iam_prd.is_some()).count();
        if iam_areas > 0 && iam.is_none() {
            tracing::warn!(
                areas = iam_areas,
                "access-request areas name an IAM workflow but no IAM API is configured; those requests are closed with a comment"
            );
        }
        Ok(Some(Approvals {
            clickup,
            store,
            rules,
            provisioner,
            iam,
            router_user,
            statuses,
            poll_every,
            last_poll: Mutex::default(),
            locks: Mutex::default(),
        }))
    }

    fn policy(&self) -> Result<&AccessPolicy, ApprovalError> {
        self.rules
            .access_policy()
            .ok_or_else(|| ApprovalError::Refused("the rules have no access-request policy".into()))
    }

    fn area(&self, request: &AccessRequest) -> Result<&Area, ApprovalError> {
        let name = request.area.as_deref().unwrap_or_default();
        self.policy()?.area(name).ok_or_else(|| {
            ApprovalError::Refused(format!("area {name:?} is no longer in the rules"))
        })
    }

    /// Waits for the request's lock; hold the guard while reading and changing it.
    pub(super) async fn lock(&self, task_id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            // Locks nobody holds or waits for are dropped as new ones are made.
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            locks.entry(task_id.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// Whether the IAM may be asked about this request now (and notes that it is).
    fn poll_due(&self, task_id: &str) -> bool {
        // A poisoned lock only loses pacing, never an outcome.
        let mut polled = self.last_poll.lock().unwrap_or_else(|e| e.into_inner());
        let due = polled
            .get(task_id)
            .is_none_or(|at| at.elapsed() >= self.poll_every);
        if due {
            polled.insert(task_id.to_owned(), Instant::now());
        }
        due
    }

    /// An audit row about a request.
    fn audit(
        &self,
        request: &AccessRequest,
        action: &str,
        outcome: &str,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: action.into(),
            subject: request.iam_id.as_ref().map(|id| format!("user:{id}")),
            object: Some(format!("task:{}", request.task_id)),
            outcome: outcome.into(),
            correlation_id: request.correlation_id.clone(),
            event_id: format!("{}:{action}", request.correlation_id),
            detail,
        }
    }

    /// Re-plans the requester with the request on record (approved requests are desired).
    async fn reconcile_requester(
        &self,
        request: &AccessRequest,
        now: DateTime<Utc>,
    ) -> Result<(), ApprovalError> {
        let iam_id = request.iam_id.as_deref().ok_or_else(|| {
            ApprovalError::Refused("the request has no requester identity".into())
        })?;
        self.provisioner
            .reconcile_stored(iam_id, "request", now, BrakeMode::Check)
            .await?;
        Ok(())
    }
}

/// The configured status names as the List spells them, or the first one it lacks.
fn spell_statuses(
    wanted: &DecisionStatuses,
    available: &[String],
) -> Result<DecisionStatuses, String> {
    let spell = |name: &String| {
        available
            .iter()
            .find(|status| status.eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| name.clone())
    };
    Ok(DecisionStatuses {
        pending: spell(&wanted.pending)?,
        approved: spell(&wanted.approved)?,
        denied: spell(&wanted.denied)?,
        closed: spell(&wanted.closed)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_take_the_lists_spelling_or_name_the_missing_one() {
        let wanted = DecisionStatuses {
            pending: "pending approval".into(),
            approved: "approved".into(),
            denied: "denied".into(),
            closed: "closed".into(),
        };
        let list = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();

        let spelt = spell_statuses(
            &wanted,
            &list(&["Open", "Pending Approval", "APPROVED", "denied", "Closed"]),
        );
        let missing = spell_statuses(
            &wanted,
            &list(&["open", "pending approval", "approved", "closed"]),
        );

        let spelt = spelt.expect("all present");
        assert_eq!(spelt.pending, "Pending Approval");
        assert_eq!(spelt.approved, "APPROVED");
        assert_eq!(spelt.closed, "Closed");
        assert_eq!(missing.err(), Some("denied".to_string()));
    }
}
