//! What a ClickUp task event on the bus means for an access request: pure reading of the
//! envelope data (the delivery's ids plus one history item).
//!
//! The acting user is the history item's `user.id`; `parent_id` is the List. A task's
//! creation comes as a `task_creation` item and a `status` item whose `before` is the
//! "removed" placeholder: only the former counts, so a creation is taken in once.

use serde_json::Value;

/// One task event, reduced to what the approval worker acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskEvent {
    Created {
        task_id: String,
        list_id: Option<String>,
        actor: Option<u64>,
    },
    StatusChanged {
        task_id: String,
        actor: Option<u64>,
        from: Option<String>,
        to: String,
    },
    Commented {
        task_id: String,
        actor: Option<u64>,
        text: String,
    },
    FieldChanged {
        task_id: String,
        list_id: Option<String>,
        actor: Option<u64>,
    },
    Deleted {
        task_id: String,
    },
    /// Anything else (priorities, assignees, the creation's status item, other resources).
    Other,
}

impl TaskEvent {
    /// Reads the bus data of a ClickUp event.
    pub fn read(data: &Value) -> TaskEvent {
        let event = data["event"].as_str().unwrap_or_default();
        let Some(task_id) = id_text(&data["task_id"]) else {
            return TaskEvent::Other;
        };
        if event == "taskDeleted" {
            return TaskEvent::Deleted { task_id };
        }

        let item = &data["history_item"];
        let actor = item["user"]["id"].as_u64();
        let list_id = id_text(&item["parent_id"]);
        match item["field"].as_str().unwrap_or_default() {
            "task_creation" => TaskEvent::Created {
                task_id,
                list_id,
                actor,
            },
            "status" => {
                let from = item["before"]["status"].as_str().map(str::to_owned);
                let created = from.is_none() || item["before"]["type"] == "removed";
                match item["after"]["status"].as_str() {
                    Some(to) if !created => TaskEvent::StatusChanged {
                        task_id,
                        actor,
                        from,
                        to: to.to_owned(),
                    },
                    _ => TaskEvent::Other,
                }
            }
            "comment" => TaskEvent::Commented {
                task_id,
                actor,
                text: comment_text(item),
            },
            "custom_field" => TaskEvent::FieldChanged {
                task_id,
                list_id,
                actor,
            },
            _ => TaskEvent::Other,
        }
    }

    /// The task the event is about.
    pub fn task_id(&self) -> Option<&str> {
        match self {
            TaskEvent::Created { task_id, .. }
            | TaskEvent::StatusChanged { task_id, .. }
            | TaskEvent::Commented { task_id, .. }
            | TaskEvent::FieldChanged { task_id, .. }
            | TaskEvent::Deleted { task_id } => Some(task_id),
            TaskEvent::Other => None,
        }
    }

    /// The user who made the change, when the event says.
    pub fn actor(&self) -> Option<u64> {
        match self {
            TaskEvent::Created { actor, .. }
            | TaskEvent::StatusChanged { actor, .. }
            | TaskEvent::Commented { actor, .. }
            | TaskEvent::FieldChanged { actor, .. } => *actor,
            TaskEvent::Deleted { .. } | TaskEvent::Other => None,
        }
    }
}

/// The comment's plain text: `text_content`, else the rich-text ops joined.
fn comment_text(item: &Value) -> String {
    let comment = &item["comment"];
    if let Some(text) = comment["text_content"].as_str() {
        return text.to_owned();
    }
    comment["comment"]
        .as_array()
        .map(|ops| ops.iter().filter_map(|op| op["text"].as_str()).collect())
        .unwrap_or_default()
}

/// An id that may be a JSON string or integer.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) if number.is_u64() => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(field: &str, extra: Value) -> Value {
        let mut item = json!({"id": "2800763136717140001", "field": field, "parent_id": "901100000901",
            "user": {"id": 9001004, "username": "Approver"}});
        if let (Some(item), Some(extra)) = (item.as_object_mut(), extra.as_object()) {
            item.extend(extra.clone());
        }
        item
    }

    #[test]
    fn task_events_are_read_into_what_requests_act_on() {
        let removed = json!({"status": null, "type": "removed"});
        let cases = [
            (
                json!({"event": "taskCreated", "task_id": "86a1", "history_item": item("task_creation", json!({}))}),
                TaskEvent::Created {
                    task_id: "86a1".into(),
                    list_id: Some("901100000901".into()),
                    actor: Some(9001004),
                },
            ),
            (
                json!({"event": "taskCreated", "task_id": "86a1", "history_item": item("status", json!({"before": removed, "after": {"status": "to do"}}))}),
                TaskEvent::Other,
            ),
            (
                json!({"event": "taskStatusUpdated", "task_id": "86a1", "history_item": item("status", json!({"before": {"status": "pending approval", "type": "custom"}, "after": {"status": "approved"}}))}),
                TaskEvent::StatusChanged {
                    task_id: "86a1".into(),
                    actor: Some(9001004),
                    from: Some("pending approval".into()),
                    to: "approved".into(),
                },
            ),
            (
                json!({"event": "taskCommentPosted", "task_id": "86a1", "history_item": item("comment", json!({"comment": {"text_content": "/approve fine\n"}}))}),
                TaskEvent::Commented {
                    task_id: "86a1".into(),
                    actor: Some(9001004),
                    text: "/approve fine\n".into(),
                },
            ),
            (
                json!({"event": "taskCommentPosted", "task_id": "86a1", "history_item": item("comment", json!({"comment": {"comment": [{"text": "/deny "}, {"text": "no"}]}}))}),
                TaskEvent::Commented {
                    task_id: "86a1".into(),
                    actor: Some(9001004),
                    text: "/deny no".into(),
                },
            ),
            (
                json!({"event": "taskUpdated", "task_id": "86a1", "history_item": item("custom_field", json!({"after": "5048f827"}))}),
                TaskEvent::FieldChanged {
                    task_id: "86a1".into(),
                    list_id: Some("901100000901".into()),
                    actor: Some(9001004),
                },
            ),
            (
                json!({"event": "taskDeleted", "task_id": "86a1"}),
                TaskEvent::Deleted {
                    task_id: "86a1".into(),
                },
            ),
            (
                json!({"event": "taskPriorityUpdated", "task_id": "86a1", "history_item": item("priority", json!({}))}),
                TaskEvent::Other,
            ),
            (
                json!({"event": "listCreated", "list_id": "9011"}),
                TaskEvent::Other,
            ),
        ];

        for (data, expected) in cases {
            assert_eq!(TaskEvent::read(&data), expected, "{data}");
        }
    }

    #[test]
    fn the_actor_is_the_history_items_user() {
        let data = json!({"event": "taskStatusUpdated", "task_id": "86a1",
            "history_item": item("status", json!({"before": {"status": "a"}, "after": {"status": "b"}}))});

        assert_eq!(TaskEvent::read(&data).actor(), Some(9001004));
        assert_eq!(
            TaskEvent::Deleted {
                task_id: "x".into()
            }
            .actor(),
            None
        );
    }
}
