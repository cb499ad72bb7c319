//! `PUT /v2/task/{task_id}` (UpdateTask): name, description, status, priority, due date,
//! and assignees and group assignees through `{add, rem}` diffs.
//!
//! A flat array where the diff belongs is answered with 200 and changes nothing, as ClickUp
//! does (integrators report it; the fixture `api-task-update-assignees-WRONG-silently-
//! ignored.json` shows one); the workspace counts it so that tests can assert it happened.
//! A refused update changes nothing and counts nothing. An accepted one publishes one
//! change per field that really changed: setting a task's name to the name it has, or
//! adding an assignee it already has, fires nothing.

use actix_web::{web, HttpResponse};

use super::{
    super::{
        body::Body,
        errors::ApiError,
        events::{self, status_before, Change},
        hierarchy::Task,
        state::{now_ms, SandboxState, Workspace},
        statuses::Status,
    },
    add_unique, canonical_groups, ensure_assignable, find_task,
    input::{SetChange, TaskChanges},
    move_to, resolve_status, task_answer,
};

pub(crate) async fn update_task(
    state: web::Data<SandboxState>,
    task_id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = Body::parse(&bytes)?;
    let changes = TaskChanges::parse(&body)?;

    state.with(|ws| {
        let owner = ws.owner_id;
        update(ws, owner, &task_id, changes)?;
        task_answer(ws, &task_id)
    })
}

/// Applies an update made by `actor` (not checked here) and publishes what changed.
/// `assignees.rem` and `group_assignees.rem` may name anyone; `add` must name active users
/// and existing groups.
pub(crate) fn update(
    ws: &mut Workspace,
    actor: u64,
    task_id: &str,
    mut changes: TaskChanges,
) -> Result<(), ApiError> {
    let task = find_task(ws, task_id)?;
    let status = match changes.status.as_deref() {
        Some(name) => Some(resolve_status(ws, &task.list_id, Some(name))?),
        None => None,
    };
    ensure_assignable(ws, changes.assignees.added())?;
    let ignored = changes.ignored_arrays();
    changes.group_assignees = canonical_group_change(ws, changes.group_assignees)?;

    if ignored > 0 {
        tracing::debug!(task_id, "flat assignee array ignored, as ClickUp does");
        ws.ignored_assignee_arrays += ignored;
    }

    let before = find_task(ws, task_id)?.clone();
    let status_was = status_before(ws, &before);
    let task = ws
        .hierarchy
        .task_mut(task_id)
        .ok_or_else(ApiError::task_not_found)?;
    apply(task, changes, status, now_ms());
    let after = task.clone();

    for change in changes_between(&before, &after, status_was) {
        events::publish(ws, actor, task_id, change);
    }
    Ok(())
}

/// The changes from `before` to `after`, in the order ClickUp's history lists fields;
/// `status_was` is the status object of `before`.
fn changes_between(before: &Task, after: &Task, status_was: serde_json::Value) -> Vec<Change> {
    let mut changes = Vec::new();
    let added = |from: &Task, to: &Task| -> Vec<u64> {
        let new = to
            .assignees
            .iter()
            .filter(|id| !from.assignees.contains(id));
        new.copied().collect()
    };

    if before.name != after.name {
        changes.push(Change::Name {
            before: before.name.clone(),
        });
    }
    if before.description != after.description {
        changes.push(Change::Content {
            before: before.description.clone(),
        });
    }
    if before.status != after.status {
        changes.push(Change::Status { before: status_was });
    }
    if before.priority != after.priority {
        changes.push(Change::Priority {
            before: before.priority,
        });
    }
    if before.due_date != after.due_date {
        changes.push(Change::DueDate {
            before: before.due_date,
        });
    }
    let (gained, lost) = (added(before, after), added(after, before));
    if !gained.is_empty() {
        changes.push(Change::AssigneesAdded(gained));
    }
    if !lost.is_empty() {
        changes.push(Change::AssigneesRemoved(lost));
    }
    changes
}

fn apply(task: &mut Task, changes: TaskChanges, status: Option<Status>, now: u64) {
    if let Some(name) = changes.name {
        task.name = name;
    }
    if let Some((text, markdown)) = changes.description {
        task.description = text;
        task.markdown = markdown;
    }
    if let Some(status) = status {
        move_to(task, status, now);
    }
    if let Some(priority) = changes.priority {
        task.priority = priority;
    }
    if let Some(due_date) = changes.due_date {
        task.due_date = due_date;
    }

    apply_change(&mut task.assignees, &changes.assignees);
    apply_change(&mut task.group_assignees, &changes.group_assignees);
    task.date_updated = now;
}

/// A group diff with stored ids: `add` must name groups, `rem` may name anything.
fn canonical_group_change(
    ws: &Workspace,
    change: SetChange<String>,
) -> Result<SetChange<String>, ApiError> {
    let SetChange::Diff { add, rem } = change else {
        return Ok(change);
    };

    let rem = rem
        .into_iter()
        .map(|id| ws.groups.get(&id).map_or(id, |group| group.id.clone()))
        .collect();
    Ok(SetChange::Diff {
        add: canonical_groups(ws, &add)?,
        rem,
    })
}

fn apply_change<T: PartialEq + Clone>(set: &mut Vec<T>, change: &SetChange<T>) {
    if let SetChange::Diff { add, rem } = change {
        add_unique(set, add);
        set.retain(|item| !rem.contains(item));
    }
}

#[cfg(test)]
mod tests;
