//! Task writes: `POST /v2/list/{list_id}/task` (CreateTask) here, `PUT /v2/task/{task_id}`
//! (UpdateTask) in `tasks/update.rs`, `DELETE /v2/task/{task_id}` in `tasks/delete.rs`, and
//! the comments in `tasks/comments.rs`. The task reads stay in `hierarchy`, whose task
//! object takes its status, assignee, priority and tag shapes from `tasks/render.rs`; both
//! writes answer with that same object. Each write is a function of the workspace and the
//! acting user, shared by the handler (acting as the token's owner) and `Sandbox::as_user`,
//! and publishes the webhook events of what it changed.
//!
//! Invariants: assignees are active members or guests and group assignees existing user
//! groups, each listed once; a task's status is one of its List's statuses; the creator is
//! the acting user. An update changes assignees only through the `{add, rem}` diff: a flat
//! array answers 200 and changes nothing, as ClickUp does, and is counted so tests can see
//! that it happened. A deleted task answers 404 wherever a task is looked up.

mod comments;
mod delete;
mod input;
pub(crate) mod render;
mod update;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::{
    access::{Level, ObjectKind},
    body::Body,
    errors::ApiError,
    events::{self, Change},
    fields::{self, read_values},
    hierarchy::{render_task, Task},
    routes::parse_id,
    state::{now_ms, SandboxState, Workspace},
    statuses::{self, Status},
};

pub use comments::SandboxComment;
pub(crate) use comments::{configure, post_comment, CommentRecord, Comments, Draft};
pub(crate) use delete::{delete, delete_task};
pub(crate) use input::{NewTask, SetChange, TaskChanges};
pub(crate) use update::{update, update_task};

/// A task as tests see it.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxTask {
    pub id: String,
    pub list_id: String,
    pub name: String,
    pub description: String,
    /// The status name as the List spells it.
    pub status: String,
    /// 1 (urgent) to 4 (low).
    pub priority: Option<u8>,
    pub due_date: Option<u64>,
    pub tags: Vec<String>,
    pub parent: Option<String>,
    pub assignees: Vec<u64>,
    pub group_assignees: Vec<String>,
    /// `(field id, value)` per Custom Field value, the value as a task read shows it: a
    /// drop-down's option orderindex, a number or date as a string.
    pub custom_fields: Vec<(String, Value)>,
}

impl SandboxTask {
    pub(crate) fn from_record(ws: &Workspace, task: &Task) -> Self {
        SandboxTask {
            id: task.id.clone(),
            list_id: task.list_id.clone(),
            name: task.name.clone(),
            description: task.description.clone(),
            status: task.status.clone(),
            priority: task.priority,
            due_date: task.due_date,
            tags: task.tags.clone(),
            parent: task.parent.clone(),
            assignees: task.assignees.clone(),
            group_assignees: task.group_assignees.clone(),
            custom_fields: read_values(&ws.fields, task),
        }
    }
}

/// The task with this id; a deleted task answers 404, an unknown one ClickUp's 401.
pub(crate) fn find_task<'a>(ws: &'a Workspace, task_id: &str) -> Result<&'a Task, ApiError> {
    ws.hierarchy.task(task_id).ok_or_else(|| {
        if ws.hierarchy.was_deleted(task_id) {
            ApiError::object_not_found(ObjectKind::Task)
        } else {
            ApiError::task_not_found()
        }
    })
}

/// Refuses user ids that name no active member or guest, listing them all.
pub(crate) fn ensure_assignable(ws: &Workspace, ids: &[u64]) -> Result<(), ApiError> {
    let unknown: Vec<u64> = ids
        .iter()
        .copied()
        .filter(|&id| ws.directory.get(id).is_none_or(|user| !user.active))
        .collect();

    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::assignees_not_in_workspace(&unknown))
    }
}

/// The groups' ids as stored (UUIDs match ignoring case); refuses ids that name no user
/// group, listing them all.
pub(crate) fn canonical_groups(ws: &Workspace, ids: &[String]) -> Result<Vec<String>, ApiError> {
    let (known, unknown): (Vec<_>, Vec<_>) = ids
        .iter()
        .map(|id| ws.groups.get(id).map(|group| group.id.clone()).ok_or(id))
        .partition(Result::is_ok);

    if unknown.is_empty() {
        Ok(known.into_iter().flatten().collect())
    } else {
        let unknown: Vec<String> = unknown
            .into_iter()
            .filter_map(Result::err)
            .cloned()
            .collect();
        Err(ApiError::group_assignees_not_found(&unknown))
    }
}

/// The List's status named `requested` (ignoring case), or its first status.
pub(super) fn resolve_status(
    ws: &Workspace,
    list_id: &str,
    requested: Option<&str>,
) -> Result<Status, ApiError> {
    let statuses = ws.hierarchy.list_statuses(list_id).unwrap_or_default();
    let found = match requested {
        Some(name) => statuses::find(statuses, name).map(|(_, status)| status),
        None => statuses.first(),
    };
    found.cloned().ok_or_else(ApiError::status_not_found)
}

/// A subtask's parent must be a task in the same List, as ClickUp's spec says.
fn check_parent(ws: &Workspace, list_id: &str, parent: Option<&str>) -> Result<(), ApiError> {
    let Some(parent) = parent else {
        return Ok(());
    };

    match ws.hierarchy.task(parent) {
        Some(task) if task.list_id == list_id => Ok(()),
        _ => Err(ApiError::invalid_value(
            "parent must be a task in the same List",
        )),
    }
}

/// The stored form of each value for a field on the List; values for other fields are
/// skipped, as ClickUp saves only applicable ones.
fn applicable_values(
    ws: &Workspace,
    list_id: &str,
    values: &[(String, Value)],
) -> Result<Vec<(String, Value)>, ApiError> {
    let mut stored = Vec::new();
    for (id, value) in values {
        if let Some(field) = ws.fields.applicable(list_id, id) {
            stored.push((field.definition.id.clone(), field.accept(value)?));
        }
    }
    Ok(stored)
}

pub(super) fn add_unique<T: PartialEq + Clone>(set: &mut Vec<T>, items: &[T]) {
    for item in items {
        if !set.contains(item) {
            set.push(item.clone());
        }
    }
}

/// Moves a task to `status`; `date_closed` is set on entering a closing status, kept while
/// moving between closing statuses, and cleared on reopening.
pub(super) fn move_to(task: &mut Task, status: Status, now: u64) {
    task.date_closed = status
        .kind
        .closes()
        .then(|| task.date_closed.unwrap_or(now));
    task.status = status.name;
}

/// The task object both writes answer with, plus `markdown_description` as CreateTask's
/// example shows it.
pub(super) fn task_answer(ws: &Workspace, task_id: &str) -> Result<HttpResponse, ApiError> {
    let task = find_task(ws, task_id)?;

    let mut answer = render_task(ws, task, Level::Create);
    answer["markdown_description"] = json!(task.markdown.as_deref().unwrap_or(&task.description));
    Ok(HttpResponse::Ok().json(answer))
}

pub(crate) async fn create_task(
    state: web::Data<SandboxState>,
    list_id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    parse_id(&list_id)?;
    let body = Body::parse(&bytes)?;
    let new_task = NewTask::parse(&body)?;

    state.with(|ws| {
        let owner = ws.owner_id;
        let id = create(ws, owner, &list_id, new_task)?;
        task_answer(ws, &id)
    })
}

/// Creates a task made by `actor` (not checked here) and publishes `taskCreated`; returns
/// its id. Nothing changes when the List, a status, person, parent or value is refused.
pub(crate) fn create(
    ws: &mut Workspace,
    actor: u64,
    list_id: &str,
    new_task: NewTask,
) -> Result<String, ApiError> {
    ws.hierarchy
        .list_statuses(list_id)
        .ok_or_else(ApiError::list_not_found)?;
    let status = resolve_status(ws, list_id, new_task.status.as_deref())?;
    ensure_assignable(ws, &new_task.assignees)?;
    let groups = canonical_groups(ws, &new_task.group_assignees)?;
    check_parent(ws, list_id, new_task.parent.as_deref())?;
    let values = applicable_values(ws, list_id, &new_task.custom_fields)?;

    let now = now_ms();
    let id = ws.hierarchy.add_task(list_id, &new_task.name, actor, now);
    let task = ws
        .hierarchy
        .task_mut(&id)
        .ok_or_else(ApiError::task_not_found)?;
    fill(
        task,
        NewTask {
            group_assignees: groups,
            ..new_task
        },
        status,
        values,
        now,
    );

    events::publish(ws, actor, &id, Change::Created);
    Ok(id)
}

fn fill(
    task: &mut Task,
    new_task: NewTask,
    status: Status,
    values: Vec<(String, Value)>,
    now: u64,
) {
    move_to(task, status, now);
    task.description = new_task.description;
    task.markdown = new_task.markdown;
    task.priority = new_task.priority;
    task.due_date = new_task.due_date;
    task.parent = new_task.parent;
    add_unique(&mut task.assignees, &new_task.assignees);
    add_unique(&mut task.group_assignees, &new_task.group_assignees);
    add_unique(&mut task.tags, &new_task.tags);

    for (field_id, stored) in values {
        fields::store_value(task, &field_id, stored);
    }
}

#[cfg(test)]
mod tests;
