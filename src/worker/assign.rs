//! Attribute-based task assignment: a task event that an assignment rule covers goes to a
//! person chosen among the directory's candidates (indexed conditions, then the rule's CEL
//! filter) by round robin, least load or a field's value, else to the rule's fallback.
//!
//! Invariants: assignees change only through `{add, rem}` integer ids; a task has one open
//! assignment on record (the router's current choice); the router's own echoes are never
//! acted on (the task lane skips its account's changes, and an assignee change that matches
//! the open assignment is recognised here); every choice, fallback and refusal is audited
//! with the rule that made it; a choice is noted before ClickUp is changed and carried on,
//! never made again, by whatever attempt comes after an interrupted one (`carry`).

mod carry;
mod choice;
mod leavers;

use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;

use super::lane::{Failure, Outcome};
use crate::{
    clickup::{ClickUpClient, ClickUpError},
    directory::Directory,
    ingest::envelope::Envelope,
    rules::{RuleSet, TaskFacts},
    store::{Store, StoreError},
};

pub use leavers::run_until_stopped;

/// Why an assignment could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    #[error("ClickUp: {0}")]
    ClickUp(#[from] ClickUpError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Refused(String),
}

impl AssignError {
    pub fn is_transient(&self) -> bool {
        match self {
            AssignError::ClickUp(e) => e.is_transient(),
            AssignError::Store(_) => true,
            AssignError::Refused(_) => false,
        }
    }
}

impl Failure for AssignError {
    fn is_transient(&self) -> bool {
        AssignError::is_transient(self)
    }

    fn code(&self) -> &'static str {
        match self {
            AssignError::ClickUp(e) => e.code(),
            AssignError::Store(_) => "store_unavailable",
            AssignError::Refused(_) => "refused",
        }
    }
}

/// The assignment worker, shared by the task lane and the leavers' pass.
pub struct Assigner {
    pub clickup: ClickUpClient,
    /// The same client for the calls whose repetition would be a second effect (assignee
    /// changes, comments): never repeated blindly, see `carry`.
    effects: ClickUpClient,
    pub store: Store,
    pub rules: Arc<RuleSet>,
    pub team_id: u64,
    /// The router's own ClickUp account, the author of its comments.
    router_user: u64,
    directory: RwLock<Directory>,
    /// The latest identity change the directory holds (epoch ms).
    seen: Mutex<i64>,
}

impl Assigner {
    /// Loads the directory of identities on record; `router_user` is the router's own
    /// ClickUp account.
    pub async fn start(
        clickup: ClickUpClient,
        store: Store,
        rules: Arc<RuleSet>,
        team_id: u64,
        router_user: u64,
    ) -> Result<Assigner, StoreError> {
        let (records, latest) = store.identities_changed_since(0).await?;
        let directory = Directory::from_records(records);
        tracing::info!(people = directory.len(), "directory loaded");
        Ok(Assigner {
            effects: clickup.clone().without_repeats(),
            clickup,
            store,
            rules,
            team_id,
            router_user,
            directory: RwLock::new(directory),
            seen: Mutex::new(latest),
        })
    }

    /// Brings the directory up to date with identities changed since it last looked (by any
    /// worker process: the store is the source).
    async fn refresh(&self) -> Result<(), StoreError> {
        let since = *self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (changed, latest) = self.store.identities_changed_since(since).await?;
        if changed.is_empty() {
            return Ok(());
        }
        let mut directory = self.directory.write().unwrap_or_else(|e| e.into_inner());
        for record in &changed {
            directory.upsert(record);
        }
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = latest;
        Ok(())
    }

    /// Acts on a task event the access-request worker left alone.
    pub async fn on_task_event(
        &self,
        data: &Value,
        envelope: &Envelope,
    ) -> Result<Outcome, AssignError> {
        let Some(task_id) = data["task_id"].as_str().map(str::to_owned) else {
            return Ok(Outcome::new("ignored", "not a task event"));
        };
        let event = specific_event(data);
        if event == "taskDeleted" {
            let ended = self.store.end_assignment(&task_id, "deleted").await?;
            return Ok(Outcome::new(
                if ended { "unassigned" } else { "ignored" },
                "the task was deleted",
            ));
        }
        let closed_now = matches!(
            data["history_item"]["after"]["type"].as_str(),
            Some("closed" | "done")
        );
        if event == "taskStatusUpdated" && closed_now {
            let ended = self.store.end_assignment(&task_id, "closed").await?;
            let outcome = if ended { "unassigned" } else { "ignored" };
            return Ok(Outcome::new(outcome, "the task was closed"));
        }
        let was_closed = matches!(
            data["history_item"]["before"]["type"].as_str(),
            Some("closed" | "done")
        );
        if event == "taskStatusUpdated"
            && was_closed
            && self.store.reopen_assignment(&task_id).await?
        {
            return Ok(Outcome::new(
                "reopened",
                "the task was reopened; its assignment counts again",
            ));
        }
        if let Some(echo) = self.echo_of_own_choice(&task_id, data).await? {
            return Ok(echo);
        }
        let wanted = |rule: &crate::rules::AssignmentRule| rule.listens_to(&event);
        if !self.rules.assignments().iter().any(wanted) {
            return Ok(Outcome::new(
                "ignored",
                "no assignment rule listens to this event",
            ));
        }

        let Some(task) = self.clickup.task(&task_id).await? else {
            return Ok(Outcome::new("ignored", "the task is gone"));
        };
        if is_closed(&task) {
            let ended = self.store.end_assignment(&task_id, "closed").await?;
            return Ok(Outcome::new(
                if ended { "unassigned" } else { "ignored" },
                "the task is closed",
            ));
        }
        // A redelivery (or the next event) carries on a choice an interrupted attempt made.
        if let Some(outcome) = self.resume(&task, &envelope.dedup_key()).await? {
            return Ok(outcome);
        }
        let facts = TaskFacts::from_task(&event, &task);
        let Some(rule) = self.rules.assignment_for(&facts) else {
            return Ok(Outcome::new(
                "ignored",
                "no assignment rule covers the task",
            ));
        };
        let open = self.store.open_assignment(&task_id).await?;
        if let Some(open) = &open {
            let still_assigned = open
                .user_id
                .is_some_and(|user| assignees(&task).contains(&(user as u64)));
            if open.rule == rule.name && (still_assigned || open.group_id.is_some()) {
                return Ok(Outcome::new(
                    "ignored",
                    format!("already assigned by rule {}", rule.name),
                ));
            }
        }

        let cause = choice::Cause {
            event_id: envelope.dedup_key(),
            correlation_id: envelope.correlationid.clone(),
            previous: open.and_then(|o| o.user_id).map(|u| u as u64),
            excluded: None,
        };
        self.assign(&task, &facts, rule, &cause).await
    }

    /// A task change no webhook delivered (reconciliation): a task the rules cover for the
    /// event it stands for (`taskCreated` or `taskUpdated`) that nobody has, the router's
    /// choice on record included, is assigned; a closed one ends its open assignment.
    pub async fn on_reconciled(
        &self,
        data: &Value,
        envelope: &Envelope,
    ) -> Result<Outcome, AssignError> {
        let Some(task_id) = data["task_id"].as_str() else {
            return Ok(Outcome::new("ignored", "not a task event"));
        };
        let Some(task) = self.clickup.task(task_id).await? else {
            let ended = self.store.end_assignment(task_id, "deleted").await?;
            let outcome = if ended { "unassigned" } else { "ignored" };
            return Ok(Outcome::new(outcome, "the task is gone"));
        };
        if is_closed(&task) {
            let ended = self.store.end_assignment(task_id, "closed").await?;
            let outcome = if ended { "unassigned" } else { "ignored" };
            return Ok(Outcome::new(outcome, "the task is closed"));
        }
        let has_groups = task["group_assignees"]
            .as_array()
            .is_some_and(|groups| !groups.is_empty());
        if !assignees(&task).is_empty() || has_groups {
            return Ok(Outcome::new("ignored", "the task has an assignee"));
        }
        if self.store.open_assignment(task_id).await?.is_some() {
            return Ok(Outcome::new(
                "ignored",
                "the task's assignment is on record",
            ));
        }

        let event = data["event"].as_str().unwrap_or("taskUpdated");
        let facts = TaskFacts::from_task(event, &task);
        let Some(rule) = self.rules.assignment_for(&facts) else {
            return Ok(Outcome::new(
                "ignored",
                "no assignment rule covers the task",
            ));
        };
        let cause = choice::Cause {
            event_id: envelope.dedup_key(),
            correlation_id: envelope.correlationid.clone(),
            previous: None,
            excluded: None,
        };
        self.assign(&task, &facts, rule, &cause).await
    }

    /// An assignee change that matches the choice on record: the echo of the router's own
    /// call, whoever ClickUp names as its author.
    async fn echo_of_own_choice(
        &self,
        task_id: &str,
        data: &Value,
    ) -> Result<Option<Outcome>, AssignError> {
        let item = &data["history_item"];
        if item["field"].as_str() != Some("assignee_add") {
            return Ok(None);
        }
        let added = item["after"]["id"].as_u64();
        let open = self.store.open_assignment(task_id).await?;
        let ours = open.and_then(|o| o.user_id).map(|u| u as u64);
        Ok((added.is_some() && added == ours)
            .then(|| Outcome::new("echo", "the assignment the router made")))
    }
}

/// The specific event a history item stands for, whichever of the specific event and its
/// companion `taskUpdated` arrived first.
pub fn specific_event(data: &Value) -> String {
    let event = data["event"].as_str().unwrap_or_default();
    let field = data["history_item"]["field"].as_str().unwrap_or_default();
    let specific = match field {
        "task_creation" => "taskCreated",
        // A new task's first status is set by its creation: the `task_creation` item is the
        // one that stands for `taskCreated`, so the creation is acted on once.
        "status" => "taskStatusUpdated",
        "assignee_add" | "assignee_rem" => "taskAssigneeUpdated",
        "comment" => "taskCommentPosted",
        "priority" => "taskPriorityUpdated",
        "due_date" => "taskDueDateUpdated",
        "tag" | "tag_removed" => "taskTagUpdated",
        "section_moved" => "taskMoved",
        "time_estimate" => "taskTimeEstimateUpdated",
        "time_spent" => "taskTimeTrackedUpdated",
        _ => event,
    };
    specific.to_owned()
}

fn assignees(task: &Value) -> Vec<u64> {
    task["assignees"]
        .as_array()
        .map(|users| users.iter().filter_map(|u| u["id"].as_u64()).collect())
        .unwrap_or_default()
}

fn is_closed(task: &Value) -> bool {
    matches!(task["status"]["type"].as_str(), Some("closed" | "done"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn history_items_stand_for_their_specific_event_whoever_arrived_first() {
        let cases = [
            (
                json!({"event": "taskUpdated", "history_item": {"field": "status", "before": {"status": "to do"}}}),
                "taskStatusUpdated",
            ),
            (
                json!({"event": "taskStatusUpdated", "history_item": {"field": "status", "before": {"status": "to do"}}}),
                "taskStatusUpdated",
            ),
            (
                json!({"event": "taskCreated", "history_item": {"field": "status", "before": {"type": "removed"}}}),
                "taskStatusUpdated",
            ),
            (
                json!({"event": "taskCreated", "history_item": {"field": "task_creation"}}),
                "taskCreated",
            ),
            (
                json!({"event": "taskUpdated", "history_item": {"field": "assignee_add"}}),
                "taskAssigneeUpdated",
            ),
            (
                json!({"event": "taskUpdated", "history_item": {"field": "custom_field"}}),
                "taskUpdated",
            ),
            (
                json!({"event": "taskUpdated", "history_item": {"field": "name"}}),
                "taskUpdated",
            ),
            (json!({"event": "taskDeleted"}), "taskDeleted"),
        ];
        for (data, expected) in cases {
            assert_eq!(specific_event(&data), expected, "{data}");
        }
    }

    #[test]
    fn done_and_closed_statuses_close_a_task() {
        let cases = [
            ("closed", true),
            ("done", true),
            ("open", false),
            ("custom", false),
        ];
        for (kind, closed) in cases {
            assert_eq!(
                is_closed(&json!({"status": {"type": kind}})),
                closed,
                "{kind}"
            );
        }
    }
}
