//! The ClickUp task lane: each history item handled once (two webhooks on one List deliver
//! it under two ids), the router's own echoes recorded (`clickup.echo`, with the correlation
//! id of the router action that caused them) and left alone, access-request tasks to
//! `approvals`, everything else to `assign`. Reconciliation's `taskChanged` events (changes
//! no webhook delivered) go the same way without a history item. Every task event settled
//! (echoes and reconciled events included) records the task version it stands for
//! (`reconcile::versions`), so a reconcile pass publishes only the versions it did not see.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use serde_json::Value;

use super::{
    approvals::{ApprovalError, Approvals},
    assign::Assigner,
    lane::{self, Failure, Outcome},
};
use crate::{
    bus::{Disposition, Handler, Lane},
    ingest::envelope::Envelope,
    reconcile::versions,
    store::{Near, Store},
};

pub struct TaskLane {
    pub store: Store,
    /// The router's own ClickUp account: changes it makes echo back and are not acted on.
    pub router_user: u64,
    pub approvals: Option<Arc<Approvals>>,
    pub assigner: Option<Arc<Assigner>>,
}

#[async_trait]
impl Handler for TaskLane {
    async fn handle(&self, envelope: Envelope, _redelivered: bool) -> Disposition {
        let data: Value = serde_json::from_str(envelope.data.get()).unwrap_or_default();
        let key = item_key(&data, &envelope);
        let disposition = if data["history_item"]["user"]["id"].as_u64() == Some(self.router_user) {
            self.echo(&key, &data, envelope).await
        } else {
            lane::run(
                &self.store,
                &key,
                Lane::ClickUp,
                "clickup.event",
                &envelope,
                self.dispatch(&data, &envelope),
            )
            .await
        };

        // The task version seen, unless the event goes back to the queue: one dead-lettered
        // is the dead letters' to replay, not reconciliation's to publish again.
        let settled = !matches!(disposition, Disposition::Retry);
        if let (true, Some(version)) = (settled, versions::seen_in(&data)) {
            if let Err(e) = versions::record(&self.store, &version).await {
                tracing::warn!(error = %e, task_id = %version.task_id, "the task version seen was not recorded");
            }
        }
        disposition
    }
}

/// The key the task lane records an event's outcome under: its history item (so a
/// companion `taskUpdated` of the same item counts once), else the envelope's dedup key.
pub(crate) fn item_key(data: &Value, envelope: &Envelope) -> String {
    match data["history_item"]["id"].as_str() {
        Some(item) => format!("clickup-item:{item}"),
        None => envelope.dedup_key(),
    }
}

impl TaskLane {
    async fn dispatch(&self, data: &Value, envelope: &Envelope) -> Result<Outcome, TaskError> {
        if data["reconciled"] == true {
            return self.reconciled(data, envelope).await;
        }
        if let Some(approvals) = &self.approvals {
            let outcome = approvals.on_task_event(data).await?;
            if !outcome.is_ignored() {
                return Ok(outcome);
            }
        }
        if let Some(assigner) = &self.assigner {
            return Ok(assigner.on_task_event(data, envelope).await?);
        }
        Ok(Outcome::new("ignored", "no rule acts on this event"))
    }
}

impl TaskLane {
    /// A task change no webhook delivered (`clickup.reconcile.taskChanged`): with no history
    /// item, nothing that needs an actor is decided. An intake task is taken in or checked by
    /// the approvals; any other task the assignment rules cover and nobody has is assigned.
    async fn reconciled(&self, data: &Value, envelope: &Envelope) -> Result<Outcome, TaskError> {
        let Some((task_id, list_id)) = data["task_id"].as_str().zip(data["list_id"].as_str())
        else {
            return Ok(Outcome::new(
                "ignored",
                "a reconciliation event without a task",
            ));
        };
        if let Some(approvals) = &self.approvals {
            let outcome = approvals.on_reconciled(task_id, list_id).await?;
            if !outcome.is_ignored() {
                return Ok(outcome);
            }
        }
        if let Some(assigner) = &self.assigner {
            return Ok(assigner.on_reconciled(data, envelope).await?);
        }
        Ok(Outcome::new("ignored", "no rule acts on this task"))
    }
}

impl TaskLane {
    /// Records the router's own change as an echo of the action that caused it: the row
    /// takes that action's correlation id (see [`echo_cause`]); nothing else is done.
    async fn echo(&self, key: &str, data: &Value, envelope: Envelope) -> Disposition {
        match self.store.processed(key).await {
            Ok(Some(_)) => return Disposition::Ack,
            Ok(None) => {}
            Err(_) => return Disposition::Retry,
        }
        let changed_at = data["history_item"]["date"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .or_else(|| data["history_item"]["date"].as_i64())
            .unwrap_or_else(|| envelope.time.timestamp_millis());
        let cause = match &envelope.subject {
            Some(subject) => echo_cause(&self.store, subject, changed_at).await,
            None => None,
        };

        let (outcome, detail) = match &cause {
            Some(_) => ("echo", "the router's own change"),
            None => (
                "echo_uncorrelated",
                "the router's own change; no router action on record near it",
            ),
        };
        let mut echo = envelope;
        let event = echo.correlationid.clone();
        if let Some(cause) = cause {
            echo.correlationid = cause;
        }
        lane::run(
            &self.store,
            key,
            Lane::ClickUp,
            "clickup.echo",
            &echo,
            async move {
                Ok::<_, TaskError>(Outcome::new(
                    outcome,
                    format!("{detail} (ClickUp event {event})"),
                ))
            },
        )
        .await
    }
}

/// How long an echo waits for the row of the action that caused it: ClickUp may deliver the
/// echo before the router has committed that row.
const ECHO_WAIT: Duration = Duration::from_secs(2);

/// The correlation id of the router's action on `subject` (`task:<id>`) at `changed_at`: its
/// row is written just after ClickUp answered, so the first one after the change (within a
/// minute) is the cause. Only when none comes within [`ECHO_WAIT`] is a row up to 2 s
/// before the change accepted (clock skew between ClickUp and the router); waiting first
/// keeps an older action on the same task from being taken for the cause.
async fn echo_cause(store: &Store, subject: &str, changed_at: i64) -> Option<String> {
    let mut near = Near {
        key: subject,
        at: changed_at,
        before_ms: 0,
        after_ms: 60_000,
    };
    let deadline = tokio::time::Instant::now() + ECHO_WAIT;
    loop {
        match store.router_correlation_near(&near).await {
            Ok(Some(correlation)) => return Some(correlation),
            Ok(None) if near.before_ms > 0 => return None,
            Ok(None) if tokio::time::Instant::now() >= deadline => near.before_ms = 2_000,
            Ok(None) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => {
                tracing::warn!(error = %e, "store unavailable; the echo keeps its own correlation");
                return None;
            }
        }
    }
}

/// Why the task lane could not handle an event.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error(transparent)]
    Assign(#[from] super::assign::AssignError),
}

impl Failure for TaskError {
    fn is_transient(&self) -> bool {
        match self {
            TaskError::Approval(e) => e.is_transient(),
            TaskError::Assign(e) => e.is_transient(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            TaskError::Approval(e) => e.code(),
            TaskError::Assign(e) => e.code(),
        }
    }
}
