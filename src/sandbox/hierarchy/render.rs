//! The JSON shapes ClickUp renders hierarchy objects in: Spaces, Folders, Lists and tasks
//! for the read endpoints, and the `shared` entries of the guest and member objects.
//!
//! Fields the sandbox does not model (start dates, time tracking, checklists) keep their
//! empty values, with the JSON types the OpenAPI spec gives them. A task's status,
//! assignees, priority, tags and Custom Fields come from `tasks::render` and `fields`.

use serde_json::{json, Value};

use super::{
    super::{
        access::{Level, ObjectKind},
        fields::task_fields_json,
        state::Workspace,
        statuses::{default_statuses, statuses_json},
        tasks::render::{groups_json, priority_json, status_json, tags_json, users_json},
    },
    Folder, Hierarchy, List, ListParent, Space, Task,
};

/// Position of a List among the Lists of its parent, or of a Folder in its Space.
fn list_orderindex(hierarchy: &Hierarchy, list: &List) -> usize {
    hierarchy
        .lists_in(&list.parent)
        .position(|other| other.id == list.id)
        .unwrap_or(0)
}

fn folder_orderindex(hierarchy: &Hierarchy, folder: &Folder) -> usize {
    hierarchy
        .folders
        .iter()
        .filter(|other| other.space_id == folder.space_id)
        .position(|other| other.id == folder.id)
        .unwrap_or(0)
}

fn space_ref_json(space: Option<&Space>, fallback_id: &str) -> Value {
    json!({
        "id": space.map_or(fallback_id, |space| space.id.as_str()),
        "name": space.map(|space| space.name.as_str()),
        "access": true
    })
}

/// The `folder` reference of a List or task: its Folder, or its Space's hidden folder.
fn folder_ref_json(hierarchy: &Hierarchy, list: Option<&List>) -> Value {
    let folder = list.and_then(|list| hierarchy.folder_of(list));
    if let Some(folder) = folder {
        return json!({ "id": folder.id, "name": folder.name, "hidden": false, "access": true });
    }

    let space = list.and_then(|list| hierarchy.space_of(list));
    let hidden_id = space.map(|space| space.hidden_folder_id.as_str());
    json!({ "id": hidden_id, "name": "hidden", "hidden": true, "access": true })
}

pub(super) fn space_json(ws: &Workspace, space: &Space) -> Value {
    json!({
        "id": space.id,
        "name": space.name,
        "private": ws.access.is_private(ObjectKind::Space, &space.id),
        "color": null,
        "avatar": null,
        "admin_can_manage": true,
        "archived": false,
        "members": [],
        "statuses": statuses_json(&space.id, &default_statuses()),
        "multiple_assignees": true,
        "features": {
            "due_dates": {
                "enabled": true,
                "start_date": false,
                "remap_due_dates": false,
                "remap_closed_due_date": false
            },
            "time_tracking": { "enabled": true },
            "tags": { "enabled": true },
            "time_estimates": { "enabled": true },
            "checklists": { "enabled": true }
        }
    })
}

/// A List as `GET /v2/space/{id}/list` and `GET /v2/folder/{id}/list` show it.
pub(super) fn list_json(hierarchy: &Hierarchy, list: &List) -> Value {
    let space = hierarchy.space_of(list);
    let fallback_space = match &list.parent {
        ListParent::Space(space_id) => space_id.as_str(),
        ListParent::Folder(_) => "",
    };

    json!({
        "id": list.id,
        "name": list.name,
        "orderindex": list_orderindex(hierarchy, list),
        "content": "",
        "status": null,
        "priority": null,
        "assignee": null,
        "task_count": hierarchy.task_count(&list.id).to_string(),
        "due_date": null,
        "start_date": null,
        "folder": folder_ref_json(hierarchy, Some(list)),
        "space": space_ref_json(space, fallback_space),
        "archived": false,
        "override_statuses": overrides_statuses(list),
        "permission_level": "create"
    })
}

/// A List as `GET /v2/list/{list_id}` shows it: the List entry plus its statuses.
pub(super) fn list_detail_json(hierarchy: &Hierarchy, list: &List) -> Value {
    let mut detail = list_json(hierarchy, list);
    detail["statuses"] = statuses_json(&list.id, &list.statuses);
    detail
}

/// A List inside a Folder object or a `shared.lists` entry, with its permission level.
fn list_summary_json(hierarchy: &Hierarchy, list: &List, level: Level) -> Value {
    json!({
        "id": list.id,
        "name": list.name,
        "orderindex": list_orderindex(hierarchy, list),
        "status": null,
        "priority": null,
        "assignee": null,
        "task_count": hierarchy.task_count(&list.id).to_string(),
        "due_date": null,
        "start_date": null,
        "archived": false,
        "override_statuses": overrides_statuses(list),
        "statuses": statuses_json(&list.id, &list.statuses),
        "permission_level": level.v2_name()
    })
}

/// Whether a List has its own statuses rather than the ones it would inherit.
fn overrides_statuses(list: &List) -> bool {
    list.statuses != default_statuses()
}

fn folder_task_count(hierarchy: &Hierarchy, folder: &Folder) -> String {
    let parent = ListParent::Folder(folder.id.clone());
    let count: usize = hierarchy
        .lists_in(&parent)
        .map(|list| hierarchy.task_count(&list.id))
        .sum();
    count.to_string()
}

fn folder_lists_json(hierarchy: &Hierarchy, folder: &Folder) -> Vec<Value> {
    let parent = ListParent::Folder(folder.id.clone());
    hierarchy
        .lists_in(&parent)
        .map(|list| list_summary_json(hierarchy, list, Level::Create))
        .collect()
}

/// A Folder as `GET /v2/space/{space_id}/folder` shows it.
pub(super) fn folder_json(hierarchy: &Hierarchy, folder: &Folder) -> Value {
    json!({
        "id": folder.id,
        "name": folder.name,
        "orderindex": folder_orderindex(hierarchy, folder),
        "override_statuses": false,
        "hidden": false,
        "space": space_ref_json(hierarchy.space(&folder.space_id), &folder.space_id),
        "task_count": folder_task_count(hierarchy, folder),
        "lists": folder_lists_json(hierarchy, folder)
    })
}

/// A `shared.lists` entry of a guest or member object.
pub(crate) fn shared_list_json(
    hierarchy: &Hierarchy,
    list_id: &str,
    level: Level,
) -> Option<Value> {
    let list = hierarchy.list(list_id)?;
    Some(list_summary_json(hierarchy, list, level))
}

/// A `shared.folders` entry of a guest or member object.
pub(crate) fn shared_folder_json(
    hierarchy: &Hierarchy,
    folder_id: &str,
    level: Level,
) -> Option<Value> {
    let folder = hierarchy.folder(folder_id)?;

    Some(json!({
        "id": folder.id,
        "name": folder.name,
        "orderindex": folder_orderindex(hierarchy, folder),
        "override_statuses": false,
        "hidden": false,
        "task_count": folder_task_count(hierarchy, folder),
        "archived": false,
        "statuses": statuses_json(&folder.id, &default_statuses()),
        "lists": folder_lists_json(hierarchy, folder),
        "permission_level": level.v2_name()
    }))
}

/// A `shared.tasks` entry: the task as `GET /v2/task/{task_id}` shows it, with the
/// `permission_level` of the share.
pub(crate) fn shared_task_json(ws: &Workspace, task_id: &str, level: Level) -> Option<Value> {
    let hierarchy = &ws.hierarchy;
    let task = hierarchy.task(task_id)?;
    Some(render_task(ws, task, level))
}

/// A task as `GET /v2/task/{task_id}` shows it to a caller with `level`.
pub(crate) fn render_task(ws: &Workspace, task: &Task, level: Level) -> Value {
    let hierarchy = &ws.hierarchy;
    let list = hierarchy.list(&task.list_id);
    let space = list.and_then(|list| hierarchy.space_of(list));
    let creator = ws.directory.get(task.creator).map(|user| {
        json!({
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "color": null,
            "profilePicture": null
        })
    });
    let folder = folder_ref_json(hierarchy, list);
    let closed = task.date_closed.map(|ms| ms.to_string());

    json!({
        "id": task.id,
        "custom_id": null,
        "custom_item_id": 0,
        "name": task.name,
        "text_content": task.description,
        "description": task.description,
        "status": status_json(hierarchy, task),
        "orderindex": "1.00000000000000000000000000000000",
        "date_created": task.date_created.to_string(),
        "date_updated": task.date_updated.to_string(),
        "date_closed": closed,
        "date_done": closed,
        "archived": false,
        "creator": creator,
        "assignees": users_json(ws, &task.assignees),
        "group_assignees": groups_json(ws, &task.group_assignees),
        "watchers": [],
        "checklists": [],
        "tags": tags_json(task),
        "parent": task.parent,
        "top_level_parent": task.parent.as_ref().map(|_| top_level_parent(hierarchy, task)),
        "priority": priority_json(task.priority),
        "due_date": task.due_date.map(|ms| ms.to_string()),
        "start_date": null,
        "points": null,
        "time_estimate": null,
        "time_spent": 0,
        "custom_fields": task_fields_json(&ws.fields, task),
        "dependencies": [],
        "linked_tasks": [],
        "locations": [],
        "team_id": ws.team_id.to_string(),
        "url": format!("https://app.clickup.com/t/{}", task.id),
        "permission_level": level.v2_name(),
        "list": { "id": task.list_id, "name": list.map(|l| l.name.as_str()), "access": true },
        "project": folder,
        "folder": folder,
        "space": { "id": space.map(|s| s.id.as_str()) }
    })
}

/// The top of a subtask's parent chain (a chain that breaks or loops stops where it does).
fn top_level_parent(hierarchy: &Hierarchy, task: &Task) -> String {
    let mut top = task.id.clone();
    let mut seen = vec![task.id.clone()];

    while let Some(parent) = hierarchy.task(&top).and_then(|t| t.parent.clone()) {
        if seen.contains(&parent) || hierarchy.task(&parent).is_none() {
            break;
        }
        seen.push(parent.clone());
        top = parent;
    }
    top
}
