//! The parts of a task object that the task writes change, in ClickUp's shapes: the status
//! object, assignees as short user objects, group assignees, the priority object and tags.
//! `hierarchy::render_task` puts them into the task object every task read shows.
//!
//! ClickUp's spec gives no example of a non-empty `group_assignees`; the sandbox shows each
//! group as `{id, name, handle, color}`, a guess clients must not rely on.

use serde_json::{json, Value};

use super::super::{
    hierarchy::{Hierarchy, Task},
    state::Workspace,
    statuses::{self, Status, StatusType},
};

/// ClickUp's four priorities: `(id, name, colour)`.
const PRIORITIES: [(u8, &str, &str); 4] = [
    (1, "urgent", "#f50000"),
    (2, "high", "#ffcc00"),
    (3, "normal", "#6fddff"),
    (4, "low", "#d8d8d8"),
];

/// The colour ClickUp's tag examples use for both foreground and background.
const TAG_COLOR: &str = "#EA80FC";

/// The task's `status` object, from its List's status set. A status the List no longer has
/// (its set was replaced) shows as a `custom` status at the end of the set.
pub(crate) fn status_json(hierarchy: &Hierarchy, task: &Task) -> Value {
    let statuses = hierarchy.list_statuses(&task.list_id).unwrap_or_default();

    match statuses::find(statuses, &task.status) {
        Some((orderindex, status)) => statuses::status_json(&task.list_id, status, orderindex),
        None => {
            let orphan = Status {
                name: task.status.clone(),
                kind: StatusType::Custom,
            };
            statuses::status_json(&task.list_id, &orphan, statuses.len())
        }
    }
}

/// `assignees`: a short user object per id the directory knows, in assignment order.
pub(crate) fn users_json(ws: &Workspace, ids: &[u64]) -> Value {
    let users = ids
        .iter()
        .filter_map(|&id| ws.directory.get(id))
        .map(|user| user.group_member_json());
    Value::Array(users.collect())
}

/// `group_assignees`: one object per group that still exists.
pub(crate) fn groups_json(ws: &Workspace, ids: &[String]) -> Value {
    let groups = ids.iter().filter_map(|id| ws.groups.get(id)).map(|group| {
        json!({
            "id": group.id,
            "name": group.name,
            "handle": group.handle,
            "color": null
        })
    });
    Value::Array(groups.collect())
}

/// The `priority` object (ids and orderindexes are strings), or `null`.
pub(crate) fn priority_json(priority: Option<u8>) -> Value {
    let known = priority.and_then(|p| PRIORITIES.iter().find(|(id, _, _)| *id == p));
    let Some(&(id, name, color)) = known else {
        return Value::Null;
    };

    json!({
        "color": color,
        "id": id.to_string(),
        "orderindex": id.to_string(),
        "priority": name
    })
}

/// `tags`: the names the task was created with, each credited to the task's creator.
pub(crate) fn tags_json(task: &Task) -> Value {
    let tags = task.tags.iter().map(|name| {
        json!({
            "name": name,
            "tag_fg": TAG_COLOR,
            "tag_bg": TAG_COLOR,
            "creator": task.creator
        })
    });
    Value::Array(tags.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_render_as_clickup_objects_with_string_ids() {
        let cases = [
            (
                Some(1),
                json!({ "color": "#f50000", "id": "1", "orderindex": "1", "priority": "urgent" }),
            ),
            (
                Some(3),
                json!({ "color": "#6fddff", "id": "3", "orderindex": "3", "priority": "normal" }),
            ),
            (
                Some(4),
                json!({ "color": "#d8d8d8", "id": "4", "orderindex": "4", "priority": "low" }),
            ),
            (Some(9), Value::Null),
            (None, Value::Null),
        ];

        for (priority, expected) in cases {
            assert_eq!(priority_json(priority), expected, "{priority:?}");
        }
    }
}
