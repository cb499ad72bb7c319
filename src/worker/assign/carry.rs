//! Carrying a choice out from wherever an earlier attempt stopped: the choice is noted before
//! ClickUp is changed; the change is made against what the task shows (nobody added or
//! removed twice) with calls that are never repeated blindly; the assignment is recorded with
//! its audit row; then the comment, looked for on the task first when an earlier attempt may
//! have posted it.
//!
//! Invariant: wherever an attempt is interrupted (a crash, a lost answer, the store or ClickUp
//! failing), its redelivery carries on the same choice, so a task gets one assignee change
//! and one comment per choice, and the audit row of the change is written once.

use serde_json::{json, Value};
use tracing::warn;

use super::{assignees, choice::Cause, AssignError, Assigner};
use crate::{
    rules::{AssignmentRule, TaskFacts},
    store::{AuditEntry, Choice, Chosen},
    worker::{deprovision::ROUTER_ACTOR, lane::Outcome},
};

/// How long before its choice a comment found on the task may be dated and still be taken
/// for the choice's own: ClickUp's clock and the router's differ.
const CLOCK_SKEW_MS: i64 = 60_000;

/// Who carries a choice on: the attempt that made it, or a later one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempt {
    First,
    Later,
}

impl Assigner {
    /// Assigns the task by the rule, unless a choice for it is under way: that one is
    /// carried on instead of choosing again.
    pub(super) async fn assign(
        &self,
        task: &Value,
        facts: &TaskFacts,
        rule: &AssignmentRule,
        cause: &Cause,
    ) -> Result<Outcome, AssignError> {
        if let Some(pending) = self.store.pending_choice(&facts.task_id).await? {
            return self.carry_out(pending, task, Attempt::Later).await;
        }

        let new = self.choose(facts, rule, cause).await?;
        let choice = self.store.note_choice(&new).await?;
        self.carry_out(choice, task, Attempt::First).await
    }

    /// What an event finds on record for the task before it decides anything: a choice under
    /// way (carried on), or the choice this very event made and settled before it was
    /// delivered again (its outcome, nothing done).
    pub(super) async fn resume(
        &self,
        task: &Value,
        event_id: &str,
    ) -> Result<Option<Outcome>, AssignError> {
        let Some(task_id) = task["id"].as_str() else {
            return Ok(None);
        };
        if let Some(pending) = self.store.pending_choice(task_id).await? {
            return self
                .carry_out(pending, task, Attempt::Later)
                .await
                .map(Some);
        }
        let done = self.store.choice_made_by(task_id, event_id).await?;
        Ok(done.map(|done| {
            let detail = format!("rule {}, recorded by an earlier attempt", done.made.rule);
            Outcome::new(names(&done.made.chosen).1, detail)
        }))
    }

    async fn carry_out(
        &self,
        choice: Choice,
        task: &Value,
        attempt: Attempt,
    ) -> Result<Outcome, AssignError> {
        // An earlier attempt that recorded the change may have posted the comment too.
        let applied_before = choice.applied_at.is_some();
        if !applied_before {
            self.change_in_clickup(&choice, task).await?;
            self.store
                .apply_choice(&choice, &audit(&choice, attempt))
                .await?;
        }

        let comment_id = self.say(&choice, applied_before).await?;
        self.store
            .settle_choice(&choice, comment_id.as_deref())
            .await?;

        let detail = match attempt {
            Attempt::First => format!("rule {}", choice.made.rule),
            Attempt::Later => format!(
                "rule {}, carried on after an interrupted attempt",
                choice.made.rule
            ),
        };
        Ok(Outcome::new(names(&choice.made.chosen).1, detail))
    }

    /// Changes the task's assignees to the choice, against what the task shows: someone
    /// already assigned is not added again, someone no longer assigned not removed again.
    async fn change_in_clickup(&self, choice: &Choice, task: &Value) -> Result<(), AssignError> {
        let task_id = choice.made.task_id.as_str();
        let assigned = assignees(task);
        let previous: Vec<u64> = choice
            .made
            .previous
            .map(|p| p as u64)
            .filter(|p| assigned.contains(p))
            .into_iter()
            .collect();

        match &choice.made.chosen {
            Chosen::Person { user_id, .. } => {
                let user = *user_id as u64;
                let add: Vec<u64> = (!assigned.contains(&user))
                    .then_some(user)
                    .into_iter()
                    .collect();
                let rem: Vec<u64> = previous.into_iter().filter(|p| *p != user).collect();
                self.effects.change_assignees(task_id, &add, &rem).await?;
            }
            Chosen::Group { id } => {
                if !group_assignees(task).contains(id) {
                    self.effects
                        .change_group_assignees(task_id, std::slice::from_ref(id), &[])
                        .await?;
                }
                self.effects
                    .change_assignees(task_id, &[], &previous)
                    .await?;
            }
            // Whoever the router chose before (a leaver) does not keep the task.
            Chosen::Nobody { .. } => {
                self.effects
                    .change_assignees(task_id, &[], &previous)
                    .await?;
            }
        }
        Ok(())
    }

    /// Posts the choice's comment, unless `look_first` finds it on the task already; the id
    /// of the comment, or `None` when it is given up (a permanent failure: the comment is
    /// best effort and never causes a second choice). A transient failure is returned, so
    /// the event comes back and carries the choice on.
    async fn say(&self, choice: &Choice, look_first: bool) -> Result<Option<String>, AssignError> {
        let task_id = choice.made.task_id.as_str();
        if look_first {
            match self.own_comment(choice).await {
                Ok(Some(id)) => return Ok(Some(id)),
                Ok(None) => {}
                Err(error) if error.is_transient() => return Err(error.into()),
                Err(error) => {
                    warn!(%task_id, error = %error, "the task's comments could not be read; the assignment comment is given up");
                    return Ok(None);
                }
            }
        }

        match self.effects.comment(task_id, &choice.made.comment).await {
            Ok(id) => Ok(Some(id)),
            Err(error) if error.is_transient() => Err(error.into()),
            Err(error) => {
                warn!(%task_id, error = %error, "the assignment comment could not be posted");
                Ok(None)
            }
        }
    }

    /// The router's comment with the choice's text, posted since the choice was made.
    async fn own_comment(
        &self,
        choice: &Choice,
    ) -> Result<Option<String>, crate::clickup::ClickUpError> {
        let since = choice.chosen_at - CLOCK_SKEW_MS;
        let comments = self
            .clickup
            .comments_since(&choice.made.task_id, since)
            .await?;
        let text = choice.made.comment.trim();
        Ok(comments
            .into_iter()
            .find(|c| c.user_id == Some(self.router_user) && c.text.trim() == text)
            .map(|c| c.id))
    }
}

/// The audit action and the outcome of a kind of choice.
fn names(chosen: &Chosen) -> (&'static str, &'static str) {
    match chosen {
        Chosen::Person { .. } => ("task.assigned", "assigned"),
        Chosen::Group { .. } => ("task.assigned_fallback", "fallback"),
        Chosen::Nobody { .. } => ("task.unassigned", "nobody"),
    }
}

/// The audit row of a choice ClickUp accepted; `carried_on` when the attempt that made the
/// choice was interrupted (its ClickUp answers are then in no row).
fn audit(choice: &Choice, attempt: Attempt) -> AuditEntry {
    let made = &choice.made;
    let (action, outcome) = names(&made.chosen);
    let (user_id, group_id, why) = match &made.chosen {
        Chosen::Person { user_id, .. } => (Some(*user_id), None, None),
        Chosen::Group { id } => (None, Some(id.clone()), None),
        Chosen::Nobody { why } => (None, None, Some(why.clone())),
    };
    let mut detail = json!({
        "rule": made.rule,
        "strategy": made.strategy,
        "clickup_user_id": user_id,
        "group_id": group_id,
        "previous": made.previous,
        "why": why,
    });
    if attempt == Attempt::Later {
        detail["carried_on"] = json!(true);
    }
    AuditEntry {
        actor: ROUTER_ACTOR.into(),
        action: action.into(),
        subject: match &made.chosen {
            Chosen::Person {
                iam_id: Some(id), ..
            } => Some(format!("user:{id}")),
            _ => None,
        },
        object: Some(format!("task:{}", made.task_id)),
        outcome: outcome.into(),
        correlation_id: made.correlation_id.clone(),
        event_id: format!("{}:{action}", made.event_id),
        detail,
    }
}

fn group_assignees(task: &Value) -> Vec<String> {
    task["group_assignees"]
        .as_array()
        .map(|groups| {
            groups
                .iter()
                .filter_map(|g| g["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
