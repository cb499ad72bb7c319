//! Tests playing a ClickUp user: [`Actor`] changes tasks as that user would in ClickUp's
//! UI, with the API's checks, and waits until the webhook deliveries of its own change
//! have been attempted.
//!
//! Invariants: the user is checked (known, active member or guest) under the same lock as
//! the change, so a refused change queues nothing; an actor's deliveries are numbered
//! consecutively because they are queued under that lock, and only their statuses are
//! returned, in the order they were attempted.

use std::ops::Range;

use serde_json::Value;

use super::{
    dispatch,
    errors::ApiError,
    fields::{write_value, CustomFieldType},
    state::Workspace,
    tasks::{self, Draft, NewTask, SetChange, TaskChanges},
    Sandbox,
};

/// Why a user's change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error("no ClickUp user {0} in the sandbox")]
    UnknownUser(u64),
    #[error("ClickUp user {0} is not an active member or guest")]
    Inactive(u64),
    #[error("Custom Field {0} is not on List {1}")]
    FieldNotOnList(String, String),
    /// What the API would have answered, e.g. `400 CRTSK_001: Status not found`.
    #[error("ClickUp refused the change: {0}")]
    Refused(String),
}

impl From<ApiError> for ActError {
    fn from(error: ApiError) -> Self {
        ActError::Refused(error.to_string())
    }
}

/// A ClickUp user, played by a test; made by [`Sandbox::as_user`].
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    sandbox: &'a Sandbox,
    user_id: u64,
}

impl Sandbox {
    /// Acts as the user with this id; each change checks that the user is an active member
    /// or guest.
    pub fn as_user(&self, user_id: u64) -> Actor<'_> {
        Actor {
            sandbox: self,
            user_id,
        }
    }
}

impl<'a> Actor<'a> {
    /// The ClickUp user played.
    pub fn user_id(&self) -> u64 {
        self.user_id
    }

    pub(crate) fn sandbox(&self) -> &'a Sandbox {
        self.sandbox
    }
}

impl Actor<'_> {
    /// Creates a task as ClickUp's form does, with Custom Field values given by field id:
    /// a drop-down as option UUID or orderindex, a number as a number or a numeric string.
    /// Returns the task id and the statuses of the `taskCreated`/`taskStatusUpdated`
    /// deliveries; the field values are not in those payloads, as in ClickUp.
    pub async fn create_task(
        &self,
        list_id: &str,
        name: &str,
        custom_fields: &[(&str, Value)],
    ) -> anyhow::Result<(String, Vec<u16>)> {
        self.act(|ws, user| {
            let mut values = Vec::with_capacity(custom_fields.len());
            for (field_id, value) in custom_fields {
                values.push((
                    (*field_id).to_owned(),
                    form_value(ws, list_id, field_id, value)?,
                ));
            }

            let new_task = NewTask::from_form(name, values)?;
            Ok(tasks::create(ws, user, list_id, new_task)?)
        })
        .await
    }

    /// Moves a task to the status with this name (ignoring case) in its List.
    pub async fn set_status(&self, task_id: &str, status: &str) -> anyhow::Result<Vec<u16>> {
        let changes = TaskChanges {
            status: Some(status.to_owned()),
            ..TaskChanges::default()
        };
        self.update(task_id, changes).await
    }

    /// Adds an assignee (an active member or guest) to a task.
    pub async fn assign(&self, task_id: &str, user_id: u64) -> anyhow::Result<Vec<u16>> {
        let changes = TaskChanges {
            assignees: SetChange::Diff {
                add: vec![user_id],
                rem: Vec::new(),
            },
            ..TaskChanges::default()
        };
        self.update(task_id, changes).await
    }

    /// Posts a comment on a task; returns the comment id.
    pub async fn comment(&self, task_id: &str, text: &str) -> anyhow::Result<(String, Vec<u16>)> {
        self.act(|ws, user| {
            let draft = Draft {
                text: text.to_owned(),
                assignee: None,
                group_assignee: None,
            };
            Ok(tasks::post_comment(ws, user, task_id, draft)?.id)
        })
        .await
    }

    /// Sets a Custom Field value on a task, written as in [`Actor::create_task`].
    pub async fn set_field(
        &self,
        task_id: &str,
        field_id: &str,
        value: Value,
    ) -> anyhow::Result<Vec<u16>> {
        let (_, statuses) = self
            .act(|ws, user| {
                let list_id = tasks::find_task(ws, task_id)?.list_id.clone();
                let value = form_value(ws, &list_id, field_id, &value)?;
                Ok(write_value(ws, user, task_id, field_id, Some(&value))?)
            })
            .await?;
        Ok(statuses)
    }

    /// Deletes a task (with its subtasks).
    pub async fn delete_task(&self, task_id: &str) -> anyhow::Result<Vec<u16>> {
        let (_, statuses) = self
            .act(|ws, user| Ok(tasks::delete(ws, user, task_id)?))
            .await?;
        Ok(statuses)
    }

    async fn update(&self, task_id: &str, changes: TaskChanges) -> anyhow::Result<Vec<u16>> {
        let (_, statuses) = self
            .act(|ws, user| Ok(tasks::update(ws, user, task_id, changes)?))
            .await?;
        Ok(statuses)
    }

    /// Checks the user and makes the change under one lock, then waits for the deliveries
    /// the change queued and returns their statuses (0 where no HTTP answer came back).
    async fn act<R>(
        &self,
        change: impl FnOnce(&mut Workspace, u64) -> Result<R, ActError>,
    ) -> anyhow::Result<(R, Vec<u16>)> {
        let state = self.sandbox.state();
        let (outcome, numbers) = state.with(|ws| {
            let first = ws.outbox.queued() + 1;
            let outcome = ensure_active(ws, self.user_id).and_then(|()| change(ws, self.user_id));
            let numbers: Range<u64> = first..ws.outbox.queued() + 1;
            (outcome, numbers)
        });
        let result = outcome?;

        if !numbers.is_empty() {
            dispatch::attempted(&state, numbers.end - 1).await;
        }
        let statuses = state.with(|ws| ws.outbox.statuses(numbers));
        Ok((result, statuses))
    }
}

pub(crate) fn ensure_active(ws: &Workspace, user_id: u64) -> Result<(), ActError> {
    match ws.directory.get(user_id) {
        None => Err(ActError::UnknownUser(user_id)),
        Some(user) if !user.active => Err(ActError::Inactive(user_id)),
        Some(_) => Ok(()),
    }
}

/// A value as a form sends it: the field must be on the List, and a number field also
/// takes a numeric string. Other checks are the API's.
fn form_value(
    ws: &Workspace,
    list_id: &str,
    field_id: &str,
    value: &Value,
) -> Result<Value, ActError> {
    let field = ws
        .fields
        .applicable(list_id, field_id)
        .ok_or_else(|| ActError::FieldNotOnList(field_id.to_owned(), list_id.to_owned()))?;

    let numeric_text = match (field.definition.field_type, value) {
        (CustomFieldType::Number, Value::String(text)) => Some(text.trim()),
        _ => None,
    };
    let number = numeric_text.and_then(|text| {
        let integer = text.parse::<i64>().ok().map(Value::from);
        integer.or_else(|| {
            let float = text.parse::<f64>().ok()?;
            serde_json::Number::from_f64(float).map(Value::Number)
        })
    });
    Ok(number.unwrap_or_else(|| value.clone()))
}

#[cfg(test)]
mod tests;
