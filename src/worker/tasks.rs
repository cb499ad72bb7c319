//! The ClickUp task lane: each history item handled once (two webhooks on one List deliver
//! it under two ids), the router's own echoes recorded and left alone, access-request tasks
//! to `approvals`, everything else to `assign`.

use std::sync::Arc;

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
    store::Store,
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
        let key = match data["history_item"]["id"].as_str() {
            Some(item) => format!("clickup-item:{item}"),
            None => envelope.dedup_key(),
        };
        lane::run(
            &self.store,
            &key,
            Lane::ClickUp,
            "clickup.event",
            &envelope,
            self.dispatch(&data, &envelope),
        )
        .await
    }
}

impl TaskLane {
    async fn dispatch(&self, data: &Value, envelope: &Envelope) -> Result<Outcome, TaskError> {
        if data["history_item"]["user"]["id"].as_u64() == Some(self.router_user) {
            return Ok(Outcome::new("echo", "the router's own change"));
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
