//! `DELETE /v2/task/{task_id}` (DeleteTask): ClickUp answers 204 without a body.
//!
//! Invariants: the task goes with its subtasks, each firing `taskDeleted` (parent first);
//! an unknown or already deleted task answers 404 with the task-not-found body, and so does
//! every later request that names a deleted task.

use actix_web::{web, HttpResponse};

use super::{
    super::{
        access::ObjectKind,
        errors::ApiError,
        events::{self, Change},
        state::{SandboxState, Workspace},
    },
    find_task,
};

pub(crate) async fn delete_task(
    state: web::Data<SandboxState>,
    task_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        let owner = ws.owner_id;
        delete(ws, owner, &task_id)?;
        Ok(HttpResponse::NoContent().finish())
    })
}

/// Deletes a task and its subtasks as `actor` (not checked here), publishing `taskDeleted`
/// for each.
pub(crate) fn delete(ws: &mut Workspace, actor: u64, task_id: &str) -> Result<(), ApiError> {
    find_task(ws, task_id).map_err(|_| ApiError::object_not_found(ObjectKind::Task))?;

    for task in ws.hierarchy.remove_task(task_id) {
        tracing::debug!(task_id = %task.id, "clickup sandbox deleted a task");
        events::publish_for(ws, actor, &task, Change::Deleted);
    }
    Ok(())
}
