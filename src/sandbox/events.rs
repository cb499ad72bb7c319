//! Task changes as the webhook deliveries ClickUp sends for them: which events a change
//! fires (with its companion `taskUpdated`), their history items, and which registered
//! webhooks hear them. The item shapes are in `events/items.rs`.
//!
//! Invariants: a change is published under the workspace lock right after it is applied,
//! so deliveries queue in the order the changes happened; a specific event and its
//! companion carry the very same history item (same `id`); history item ids are 19-digit
//! numeric strings never handed out twice; a webhook hears an event only when it is not
//! suspended, subscribes to the event or `"*"`, and its location contains the task.

mod items;

use rand::Rng;
use serde_json::{json, Value};

use super::{
    dispatch::Job,
    hierarchy::{Task, TaskScope},
    state::{now_ms, Workspace},
    tasks::render::priority_json,
};

/// History item ids lie between this and `HISTORY_ID_BASE + HISTORY_ID_SPREAD`, so they
/// all have 19 digits, like ClickUp's.
const HISTORY_ID_BASE: u64 = 2_800_000_000_000_000_000;
const HISTORY_ID_SPREAD: u64 = 100_000_000_000_000_000;

/// Hands out history item ids: consecutive numbers from a random start, so that two
/// sandboxes in one test run practically never share one.
#[derive(Debug)]
pub(crate) struct HistoryIds {
    last: u64,
}

impl Default for HistoryIds {
    fn default() -> Self {
        // Half the spread leaves room for more items than any sandbox will issue.
        let start = rand::rng().random_range(0..HISTORY_ID_SPREAD / 2);
        HistoryIds {
            last: HISTORY_ID_BASE + start,
        }
    }
}

impl HistoryIds {
    fn next_id(&mut self) -> String {
        self.last += 1;
        self.last.to_string()
    }
}

/// One change to a task; `before` values are what the task held before it, the task itself
/// holds the new ones.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    Created,
    Name {
        before: String,
    },
    Content {
        before: String,
    },
    /// The status before, as [`status_before`] captured it.
    Status {
        before: Value,
    },
    Priority {
        before: Option<u8>,
    },
    DueDate {
        before: Option<u64>,
    },
    AssigneesAdded(Vec<u64>),
    AssigneesRemoved(Vec<u64>),
    CommentPosted {
        comment_id: String,
    },
    /// A Custom Field value set, replaced or cleared; `before` in its stored form.
    Field {
        field_id: String,
        before: Option<Value>,
    },
    Deleted,
}

/// The task's status as the `before` of a later [`Change::Status`].
pub(crate) fn status_before(ws: &Workspace, task: &Task) -> Value {
    items::status_value(ws, task)
}

/// One event to send, with its history items (`None` for `taskDeleted`).
#[derive(Debug, Clone)]
struct Emission {
    event: &'static str,
    items: Option<Vec<Value>>,
}

impl Emission {
    fn new(event: &'static str, items: Vec<Value>) -> Self {
        Emission {
            event,
            items: Some(items),
        }
    }

    /// The specific event and the `taskUpdated` that repeats its items.
    fn with_companion(event: &'static str, items: Vec<Value>) -> Vec<Self> {
        vec![
            Emission::new(event, items.clone()),
            Emission::new("taskUpdated", items),
        ]
    }
}

/// Queues the deliveries of a change that `actor` made to the task with this id; a task
/// that does not exist fires nothing.
pub(crate) fn publish(ws: &mut Workspace, actor: u64, task_id: &str, change: Change) {
    let Some(task) = ws.hierarchy.task(task_id).cloned() else {
        tracing::warn!(task_id, "a change to an unknown task fires no webhook");
        return;
    };
    publish_for(ws, actor, &task, change);
}

/// As [`publish`], for a task already looked up (or already removed, for `Deleted`).
pub(crate) fn publish_for(ws: &mut Workspace, actor: u64, task: &Task, change: Change) {
    let scope = ws.hierarchy.scope_of(task);
    let emissions = emissions(ws, actor, task, change);

    for emission in &emissions {
        queue(ws, &scope, emission);
    }
}

fn emissions(ws: &mut Workspace, actor: u64, task: &Task, change: Change) -> Vec<Emission> {
    let stamp = items::Stamp::new(ws, actor, task, now_ms());
    let item = |ws: &mut Workspace, field: &str, data: Value, before: Option<Value>, after| {
        stamp.item(ws.history_ids.next_id(), field, data, before, after)
    };
    let no_data = || json!({});

    match change {
        Change::Created => {
            let after = items::status_value(ws, task);
            let data = json!({ "status_type": after["type"] });
            let status = item(ws, "status", data, Some(items::no_status()), after);
            let creation = item(
                ws,
                "task_creation",
                no_data(),
                Some(Value::Null),
                Value::Null,
            );
            vec![
                Emission::new("taskCreated", vec![status.clone(), creation]),
                Emission::new("taskStatusUpdated", vec![status]),
            ]
        }
        Change::Name { before } => {
            let after = json!(task.name);
            let name = item(ws, "name", no_data(), Some(json!(before)), after);
            vec![Emission::new("taskUpdated", vec![name])]
        }
        Change::Content { before } => {
            let (before, after) = (
                items::content_value(&before),
                items::content_value(&task.description),
            );
            let content = item(ws, "content", no_data(), Some(before), after);
            vec![Emission::new("taskUpdated", vec![content])]
        }
        Change::Status { before } => {
            let after = items::status_value(ws, task);
            let data = json!({ "status_type": after["type"] });
            let status = item(ws, "status", data, Some(before), after);
            Emission::with_companion("taskStatusUpdated", vec![status])
        }
        Change::Priority { before } => {
            let (before, after) = (priority_json(before), priority_json(task.priority));
            let priority = item(ws, "priority", no_data(), Some(before), after);
            Emission::with_companion("taskPriorityUpdated", vec![priority])
        }
        Change::DueDate { before } => {
            let data = json!({ "due_date_time": false, "old_due_date_time": false });
            let (before, after) = (
                items::due_date_value(before),
                items::due_date_value(task.due_date),
            );
            let due_date = item(ws, "due_date", data, Some(before), after);
            Emission::with_companion("taskDueDateUpdated", vec![due_date])
        }
        Change::AssigneesAdded(users) | Change::AssigneesRemoved(users) if users.is_empty() => {
            Vec::new()
        }
        Change::AssigneesAdded(users) => {
            let added = users
                .iter()
                .map(|&id| {
                    let after = items::user_value(ws, id);
                    item(ws, "assignee_add", no_data(), None, after)
                })
                .collect();
            Emission::with_companion("taskAssigneeUpdated", added)
        }
        Change::AssigneesRemoved(users) => {
            let removed = users
                .iter()
                .map(|&id| {
                    let before = items::user_value(ws, id);
                    item(ws, "assignee_rem", no_data(), Some(before), Value::Null)
                })
                .collect();
            Emission::with_companion("taskAssigneeUpdated", removed)
        }
        Change::CommentPosted { comment_id } => {
            let Some(comment) = ws.comments.get(&comment_id).cloned() else {
                return Vec::new();
            };
            let mut posted = item(
                ws,
                "comment",
                no_data(),
                Some(Value::Null),
                json!(comment.id),
            );
            posted["comment"] = items::comment_value(ws, &comment);
            Emission::with_companion("taskCommentPosted", vec![posted])
        }
        Change::Field { field_id, before } => {
            let Some(field) = ws.fields.get(&field_id).cloned() else {
                return Vec::new();
            };
            let stored = task
                .custom_fields
                .iter()
                .find(|(id, _)| *id == field.definition.id)
                .map(|(_, value)| value);
            let (before, after) = (
                items::field_value(&field, before.as_ref()),
                items::field_value(&field, stored),
            );
            let mut set = item(ws, "custom_field", no_data(), Some(before), after);
            set["custom_field"] = items::field_definition(ws, &field);
            vec![Emission::new("taskUpdated", vec![set])]
        }
        Change::Deleted => vec![Emission {
            event: "taskDeleted",
            items: None,
        }],
    }
}

/// Queues one delivery of `emission` per webhook that hears it, in registration order.
fn queue(ws: &mut Workspace, scope: &TaskScope, emission: &Emission) {
    let items = emission.items.as_deref().unwrap_or_default();
    let item_ids: Vec<String> = items
        .iter()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect();
    let listeners: Vec<String> = ws
        .webhooks
        .iter()
        .filter(|webhook| webhook.hears(emission.event, scope))
        .map(|webhook| webhook.id.clone())
        .collect();

    for webhook_id in listeners {
        let mut body = json!({
            "event": emission.event,
            "task_id": scope.task_id,
            "webhook_id": webhook_id
        });
        if let Some(items) = &emission.items {
            body["history_items"] = Value::Array(items.clone());
        }

        ws.outbox.queue(Job {
            number: 0,
            webhook_id,
            event: emission.event,
            task_id: scope.task_id.clone(),
            history_item_ids: item_ids.clone(),
            body,
        });
    }
}

#[cfg(test)]
mod tests;
