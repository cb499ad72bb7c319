//! Leavers' tasks, every scheduler tick from the store: the open tasks the router assigned
//! to a removed account are chosen for again by the same rules (never the leaver); the
//! leaver's other open tasks, which no rule covers, are reported in the audit trail.
//!
//! The deprovisioner notes each removed account before it acks, so nothing is lost to a
//! crash; a pass that fails is tried again on the next tick.

use std::{sync::Arc, time::Duration};

use serde_json::json;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{choice::Cause, AssignError, Assigner};
use crate::{
    clickup::answers,
    rules::TaskFacts,
    store::{AuditEntry, LeaverTasks},
    worker::deprovision::ROUTER_ACTOR,
};

/// Runs the leavers' pass every `every` until the token is cancelled.
pub async fn run_until_stopped(
    assigner: Arc<Assigner>,
    every: Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        if let Err(error) = answers::collect(assigner.reassign_leavers()).await {
            warn!(error = %error, "leavers' tasks pass failed; the next tick tries again");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
    }
}

impl Assigner {
    /// One pass over the leavers noted by the deprovisioner.
    pub async fn reassign_leavers(&self) -> Result<(), AssignError> {
        for leaver in self.store.leavers_with_tasks().await? {
            self.reassign(&leaver).await?;
        }
        Ok(())
    }

    async fn reassign(&self, leaver: &LeaverTasks) -> Result<(), AssignError> {
        let user_id = leaver.user_id as u64;
        let mut reassigned = Vec::new();
        let mut nobody = Vec::new();
        for open in self.store.open_assignments_of(leaver.user_id).await? {
            let Some(task) = self.clickup.task(&open.task_id).await? else {
                self.store.end_assignment(&open.task_id, "deleted").await?;
                continue;
            };
            if super::is_closed(&task) {
                self.store.end_assignment(&open.task_id, "closed").await?;
                continue;
            }
            let facts = TaskFacts::from_task("taskUpdated", &task);
            let rule = self
                .rules
                .assignments()
                .iter()
                .find(|r| r.name == open.rule);
            let Some(rule) = rule.or_else(|| self.rules.assignment_for(&facts)) else {
                self.store
                    .end_assignment(&open.task_id, "no rule covers it any more")
                    .await?;
                continue;
            };
            let cause = Cause {
                event_id: format!("leaver:{}:{}", leaver.iam_id, open.task_id),
                correlation_id: leaver.correlation_id.clone(),
                previous: Some(user_id),
                excluded: Some(user_id),
            };
            let outcome = self.assign(&task, &facts, rule, &cause).await?;
            match outcome.name {
                "assigned" | "fallback" => reassigned.push(open.task_id.clone()),
                _ => nobody.push(open.task_id.clone()),
            }
        }

        let still_theirs = self
            .clickup
            .team_tasks_assigned_to(self.team_id, user_id)
            .await?;
        let not_covered: Vec<String> = still_theirs
            .iter()
            .filter_map(|task| task["id"].as_str().map(str::to_owned))
            .filter(|id| !reassigned.contains(id) && !nobody.contains(id))
            .collect();

        let audit = AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: "task.leaver_reviewed".into(),
            subject: Some(format!("user:{}", leaver.iam_id)),
            object: Some(format!("clickup:user:{user_id}")),
            outcome: if not_covered.is_empty() && nobody.is_empty() {
                "reassigned"
            } else {
                "reported"
            }
            .into(),
            correlation_id: leaver.correlation_id.clone(),
            event_id: format!("leaver:{}:tasks", leaver.iam_id),
            detail: json!({
                "reassigned": reassigned,
                "nobody_qualified": nobody,
                "other_open_tasks": not_covered,
            }),
        };
        self.store.leaver_tasks_done(leaver, &audit).await?;
        info!(
            reassigned = reassigned.len(),
            not_covered = not_covered.len(),
            "leaver's tasks handled"
        );
        Ok(())
    }
}
