//! The JSON inside webhook history items: the item envelope, and the `before`/`after`
//! values, Custom Field definition and comment object as ClickUp's payloads show them.
//!
//! These differ from the REST shapes on purpose: a status has no `id`, a drop-down value is
//! its option UUID (a task read shows the orderindex), numbers and dates are strings, and in
//! the field definition `userid` and `team_id` are strings.

use serde_json::{json, Value};

use super::super::{
    fields::{CustomFieldType, FieldRecord},
    hierarchy::Task,
    state::Workspace,
    tasks::{render::status_json, CommentRecord},
};

/// What every history item of one change shares: who made it, when, and in which List.
pub(super) struct Stamp {
    user: Value,
    list_id: String,
    date: String,
}

impl Stamp {
    /// The actor's user object; `null` if the directory does not know the id.
    pub fn new(ws: &Workspace, actor: u64, task: &Task, now_ms: u64) -> Self {
        Stamp {
            user: user_value(ws, actor),
            list_id: task.list_id.clone(),
            date: now_ms.to_string(),
        }
    }

    /// One history item; `before: None` leaves the key out, as `assignee_add` does.
    pub fn item(
        &self,
        id: String,
        field: &str,
        data: Value,
        before: Option<Value>,
        after: Value,
    ) -> Value {
        let mut item = json!({
            "id": id,
            "type": 1,
            "date": self.date,
            "field": field,
            "parent_id": self.list_id,
            "data": data,
            "source": null,
            "user": self.user
        });

        if let Some(before) = before {
            item["before"] = before;
        }
        item["after"] = after;
        item
    }
}

/// `{id, username, email, color, initials, profilePicture}`, with an integer id.
pub(super) fn user_value(ws: &Workspace, user_id: u64) -> Value {
    ws.directory
        .get(user_id)
        .map_or(Value::Null, |user| user.group_member_json())
}

/// The task's status as history items show it: the task read's status object without `id`.
pub(super) fn status_value(ws: &Workspace, task: &Task) -> Value {
    let mut status = status_json(&ws.hierarchy, task);
    if let Some(fields) = status.as_object_mut() {
        fields.remove("id");
    }
    status
}

/// The `before` of the status item of a task's creation.
pub(super) fn no_status() -> Value {
    json!({ "status": null, "color": "#000000", "type": "removed", "orderindex": -1 })
}

/// A Custom Field value as a history item shows it: a drop-down's option UUID, a number or
/// date as a string, text as it is; `null` when unset.
pub(super) fn field_value(field: &FieldRecord, stored: Option<&Value>) -> Value {
    match (field.definition.field_type, stored) {
        (_, None) => Value::Null,
        (CustomFieldType::DropDown, Some(stored)) => stored.clone(),
        (_, Some(stored)) => field.read_value(stored),
    }
}

/// The `custom_field` of a history item: the whole definition, with its options.
pub(super) fn field_definition(ws: &Workspace, field: &FieldRecord) -> Value {
    let definition = &field.definition;
    let type_config = match definition.field_type {
        CustomFieldType::DropDown => {
            let options: Vec<Value> = definition
                .options
                .iter()
                .map(|option| {
                    json!({
                        "id": option.id,
                        "name": option.name,
                        "value": option.name,
                        "type": "text",
                        "color": null,
                        "orderindex": option.orderindex
                    })
                })
                .collect();
            json!({ "default": 0, "placeholder": null, "new_drop_down": true, "options": options })
        }
        _ => json!({}),
    };

    json!({
        "id": definition.id,
        "name": definition.name,
        "type": definition.field_type.as_str(),
        "type_config": type_config,
        "values_set": null,
        "userid": ws.owner_id.to_string(),
        "date_created": field.date_created.to_string(),
        "hide_from_guests": false,
        "team_id": ws.team_id.to_string(),
        "deleted": false,
        "deleted_by": null,
        "pinned": false,
        "required": false,
        "required_on_subtasks": false,
        "linked_subcategory": null
    })
}

fn block_id() -> String {
    format!("block-{}", uuid::Uuid::new_v4())
}

/// A description as the `content` item shows it: a Quill delta serialised to a string, the
/// text followed by a line break carrying a block id; `null` for an empty description.
pub(super) fn content_value(text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }

    let delta = json!({ "ops": [
        { "insert": text },
        { "insert": "\n", "attributes": { "block-id": block_id() } }
    ]});
    Value::String(delta.to_string())
}

/// A due date as items show it: milliseconds as a string, or `null`.
pub(super) fn due_date_value(due_date: Option<u64>) -> Value {
    due_date.map_or(Value::Null, |ms| Value::String(ms.to_string()))
}

/// The `comment` object of a `comment` item.
pub(super) fn comment_value(ws: &Workspace, comment: &CommentRecord) -> Value {
    let user = user_value(ws, comment.user_id);

    json!({
        "id": comment.id,
        "date": comment.date.to_string(),
        "parent": comment.task_id,
        "type": 1,
        "comment": [
            { "text": comment.text, "attributes": {} },
            { "text": "\n", "attributes": { "block-id": block_id() } }
        ],
        "text_content": format!("{}\n", comment.text),
        "x": null,
        "y": null,
        "image_y": null,
        "image_x": null,
        "page": null,
        "comment_number": null,
        "page_id": null,
        "page_name": null,
        "view_id": null,
        "view_name": null,
        "team": null,
        "user": user,
        "new_thread_count": 0,
        "new_mentioned_thread_count": 0,
        "email_attachments": [],
        "threaded_users": [],
        "threaded_replies": 0,
        "threaded_assignees": 0,
        "threaded_assignees_members": [],
        "threaded_unresolved_count": 0,
        "thread_followers": [user],
        "group_thread_followers": [],
        "reactions": [],
        "emails": []
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_become_quill_delta_strings_and_empty_ones_null() {
        let cases = [
            ("Provisioned by IdP sync", Some("Provisioned by IdP sync")),
            ("", None),
        ];

        for (text, inserted) in cases {
            let value = content_value(text);

            match inserted {
                None => assert_eq!(value, Value::Null, "{text:?}"),
                Some(inserted) => {
                    let raw = value.as_str().expect("a JSON string");
                    let delta: Value = serde_json::from_str(raw).expect("delta JSON");
                    assert_eq!(delta["ops"][0], json!({ "insert": inserted }));
                    assert_eq!(delta["ops"][1]["insert"], "\n");
                    let block = delta["ops"][1]["attributes"]["block-id"].as_str();
                    assert!(block.is_some_and(|id| id.starts_with("block-")), "{raw}");
                }
            }
        }
    }

    #[test]
    fn due_dates_are_millisecond_strings_or_null() {
        let cases = [
            (Some(1_736_294_400_000), json!("1736294400000")),
            (None, Value::Null),
        ];

        for (due_date, expected) in cases {
            assert_eq!(due_date_value(due_date), expected, "{due_date:?}");
        }
    }
}
