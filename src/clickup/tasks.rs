//! Task calls the approval and assignment workers make: read a task, set its status, change
//! its assignees, comment and read its comments, and read a List's statuses; plus `GET
//! /v2/user` for the router's own account.
//!
//! Assignees always travel as the `{add, rem}` diff of integer ids: ClickUp answers 200 to a
//! flat array and ignores it.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ClickUpClient, ClickUpError};

#[derive(Deserialize)]
struct Me {
    user: MeUser,
}

#[derive(Deserialize)]
struct MeUser {
    id: u64,
}

#[derive(Deserialize)]
struct ListStatuses {
    #[serde(default)]
    statuses: Vec<StatusName>,
}

#[derive(Deserialize)]
struct StatusName {
    status: String,
}

/// Comments per page of `GET /v2/task/{id}/comment`.
const COMMENTS_PAGE: usize = 25;

/// A task comment: who wrote it, when, and its plain text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskComment {
    pub id: String,
    pub user_id: Option<u64>,
    pub text: String,
    /// Ms since the epoch.
    pub date: i64,
}

impl TaskComment {
    /// A comment object of the read (ids and dates as strings or numbers); one without an id
    /// or a date is skipped.
    fn read(comment: &Value) -> Option<TaskComment> {
        let text = |value: &Value| match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Some(TaskComment {
            id: text(&comment["id"])?,
            user_id: comment["user"]["id"].as_u64(),
            text: comment["comment_text"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            date: text(&comment["date"])?.parse().ok()?,
        })
    }
}

impl ClickUpClient {
    /// `GET /v2/user`: the id of the account the token belongs to (the router's own).
    pub async fn me(&self) -> Result<u64, ClickUpError> {
        let me: Me = self.call(Method::GET, "/v2/user", None).await?;
        Ok(me.user.id)
    }

    /// `GET /v2/task/{id}`: the task as ClickUp shows it, or `None` when it is gone.
    pub async fn task(&self, task_id: &str) -> Result<Option<Value>, ClickUpError> {
        let path = format!("/v2/task/{task_id}");
        match self.call::<Value>(Method::GET, &path, None).await {
            Ok(task) => Ok(Some(task)),
            Err(ClickUpError::Api { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `PUT /v2/task/{id}` with a status name of the task's List.
    pub async fn set_task_status(&self, task_id: &str, status: &str) -> Result<(), ClickUpError> {
        let body = json!({ "status": status });
        let path = format!("/v2/task/{task_id}");
        self.call::<Value>(Method::PUT, &path, Some(&body)).await?;
        Ok(())
    }

    /// `PUT /v2/task/{id}` adding and removing assignees (integer user ids).
    pub async fn change_assignees(
        &self,
        task_id: &str,
        add: &[u64],
        rem: &[u64],
    ) -> Result<(), ClickUpError> {
        if add.is_empty() && rem.is_empty() {
            return Ok(());
        }
        let body = json!({ "assignees": { "add": add, "rem": rem } });
        let path = format!("/v2/task/{task_id}");
        self.call::<Value>(Method::PUT, &path, Some(&body)).await?;
        Ok(())
    }

    /// `POST /v2/task/{id}/comment`; returns the comment id.
    pub async fn comment(&self, task_id: &str, text: &str) -> Result<String, ClickUpError> {
        let body = json!({ "comment_text": text, "notify_all": true });
        let path = format!("/v2/task/{task_id}/comment");
        let answer: Value = self.call(Method::POST, &path, Some(&body)).await?;
        match &answer["id"] {
            Value::String(id) => Ok(id.clone()),
            Value::Number(id) => Ok(id.to_string()),
            _ => Err(ClickUpError::Contract(
                "a comment answer without an id".into(),
            )),
        }
    }

    /// The task's comments dated at or after `since` (ms since the epoch), newest first, from
    /// as many pages of `GET /v2/task/{id}/comment` as reach back to `since`.
    pub async fn comments_since(
        &self,
        task_id: &str,
        since: i64,
    ) -> Result<Vec<TaskComment>, ClickUpError> {
        let mut comments = Vec::new();
        let mut path = format!("/v2/task/{task_id}/comment");
        loop {
            let page: Value = self.call(Method::GET, &path, None).await?;
            let read: Vec<TaskComment> = page["comments"]
                .as_array()
                .map(|all| all.iter().filter_map(TaskComment::read).collect())
                .unwrap_or_default();
            let Some(oldest) = read.last().cloned() else {
                return Ok(comments);
            };
            let full = read.len() >= COMMENTS_PAGE;
            comments.extend(read.into_iter().filter(|c| c.date >= since));
            if !full || oldest.date < since {
                return Ok(comments);
            }
            path = format!(
                "/v2/task/{task_id}/comment?start={}&start_id={}",
                oldest.date, oldest.id
            );
        }
    }

    /// The status names of a List, in workflow order, as the List spells them.
    pub async fn list_statuses(&self, list_id: &str) -> Result<Vec<String>, ClickUpError> {
        let path = format!("/v2/list/{list_id}");
        let list: ListStatuses = self.call(Method::GET, &path, None).await?;
        Ok(list.statuses.into_iter().map(|s| s.status).collect())
    }
}

impl ClickUpClient {
    /// `PUT /v2/task/{id}` adding and removing group assignees (user group UUIDs).
    pub async fn change_group_assignees(
        &self,
        task_id: &str,
        add: &[String],
        rem: &[String],
    ) -> Result<(), ClickUpError> {
        let body = json!({ "group_assignees": { "add": add, "rem": rem } });
        let path = format!("/v2/task/{task_id}");
        self.call::<Value>(Method::PUT, &path, Some(&body)).await?;
        Ok(())
    }

    /// Open tasks of the workspace assigned to `user_id`, every page of
    /// `GET /v2/team/{team_id}/task`.
    pub async fn team_tasks_assigned_to(
        &self,
        team_id: u64,
        user_id: u64,
    ) -> Result<Vec<Value>, ClickUpError> {
        let mut tasks = Vec::new();
        for page in 0.. {
            let path =
                format!("/v2/team/{team_id}/task?assignees[]={user_id}&subtasks=true&page={page}");
            let answer: Value = self.call(Method::GET, &path, None).await?;
            tasks.extend(answer["tasks"].as_array().cloned().unwrap_or_default());
            if answer["last_page"].as_bool() != Some(false) {
                break;
            }
        }
        Ok(tasks)
    }
}
