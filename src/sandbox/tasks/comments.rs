//! Task comments: `POST /v2/task/{task_id}/comment` and `GET /v2/task/{task_id}/comment`.
//!
//! The API writes comments as the token's owner, `Sandbox::as_user` as the chosen user;
//! either way `taskCommentPosted` is published. Reads list them newest first, 25 at a time;
//! `start_id` (sent with `start`, as ClickUp requires) pages to the older ones after that
//! comment. Comment ids and history ids are numeric strings, the create answer's `date` an
//! integer and the read's `date` a millisecond string, as in ClickUp's spec.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{
    super::{
        body::Body,
        errors::ApiError,
        events::{self, Change},
        routes::resource,
        state::{now_ms, SandboxState, Workspace},
    },
    canonical_groups, ensure_assignable, find_task,
};

/// Comments per page of `GET /v2/task/{task_id}/comment`.
const PAGE_SIZE: usize = 25;

/// A task comment as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxComment {
    pub id: String,
    pub user_id: u64,
    pub text: String,
    /// The user the comment was assigned to, if any.
    pub assignee: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct CommentRecord {
    pub id: String,
    pub hist_id: String,
    pub task_id: String,
    pub user_id: u64,
    pub text: String,
    pub assignee: Option<u64>,
    pub group_assignee: Option<String>,
    pub date: u64,
}

impl CommentRecord {
    pub fn to_public(&self) -> SandboxComment {
        SandboxComment {
            id: self.id.clone(),
            user_id: self.user_id,
            text: self.text.clone(),
            assignee: self.assignee,
        }
    }
}

/// Every comment on every task, oldest first.
#[derive(Debug)]
pub(crate) struct Comments {
    comments: Vec<CommentRecord>,
    next_number: u64,
}

impl Default for Comments {
    fn default() -> Self {
        Comments {
            comments: Vec::new(),
            next_number: 1,
        }
    }
}

impl Comments {
    fn add(&mut self, mut comment: CommentRecord) -> &CommentRecord {
        let number = self.next_number;
        self.next_number += 1;

        comment.id = format!("9011{number:013}");
        comment.hist_id = format!("26508{number:03}");
        self.comments.push(comment);
        &self.comments[self.comments.len() - 1]
    }

    /// The comment with this id.
    pub fn get(&self, id: &str) -> Option<&CommentRecord> {
        self.comments.iter().find(|comment| comment.id == id)
    }

    /// The comments on a task, oldest first.
    pub fn on_task<'a>(&'a self, task_id: &'a str) -> impl Iterator<Item = &'a CommentRecord> {
        self.comments
            .iter()
            .filter(move |comment| comment.task_id == task_id)
    }
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v2/task/{task_id}/comment")
            .route(web::post().to(create_comment))
            .route(web::get().to(get_comments)),
    );
}

/// A user as the comment objects show one (`user`, `assignee`, `assigned_by`).
fn user_json(ws: &Workspace, id: u64) -> Value {
    ws.directory
        .get(id)
        .map_or(Value::Null, |user| user.group_member_json())
}

fn comment_json(ws: &Workspace, comment: &CommentRecord) -> Value {
    let assigned = comment.assignee.is_some() || comment.group_assignee.is_some();
    let assigned_by = assigned.then(|| user_json(ws, comment.user_id));

    json!({
        "id": comment.id,
        "comment": [{ "text": comment.text }],
        "comment_text": comment.text,
        "user": user_json(ws, comment.user_id),
        "resolved": false,
        "assignee": comment.assignee.map(|id| user_json(ws, id)),
        "assigned_by": assigned_by,
        "reactions": [],
        "date": comment.date.to_string(),
        "reply_count": "0"
    })
}

/// A comment to post: its text and whom it is assigned to, if anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Draft {
    pub text: String,
    pub assignee: Option<u64>,
    pub group_assignee: Option<String>,
}

async fn create_comment(
    state: web::Data<SandboxState>,
    task_id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = Body::parse(&bytes)?;
    let text = body.required_str("comment_text")?;
    body.required_bool("notify_all")?;
    let draft = Draft {
        text: text.to_owned(),
        assignee: body.optional_integer("assignee")?,
        group_assignee: body.optional_str("group_assignee")?.map(str::to_owned),
    };

    state.with(|ws| {
        let owner = ws.owner_id;
        let comment = post_comment(ws, owner, &task_id, draft)?;
        Ok(HttpResponse::Ok().json(json!({
            "id": comment.id,
            "hist_id": comment.hist_id,
            "date": comment.date
        })))
    })
}

/// Posts a comment by `author` (not checked here) and publishes `taskCommentPosted`.
pub(crate) fn post_comment(
    ws: &mut Workspace,
    author: u64,
    task_id: &str,
    draft: Draft,
) -> Result<CommentRecord, ApiError> {
    if draft.text.trim().is_empty() {
        return Err(ApiError::invalid_value("comment_text must not be empty"));
    }
    find_task(ws, task_id)?;
    ensure_assignable(ws, draft.assignee.as_slice())?;
    let group_assignee = canonical_groups(ws, draft.group_assignee.as_slice())?.pop();

    let comment = ws
        .comments
        .add(CommentRecord {
            id: String::new(),
            hist_id: String::new(),
            task_id: task_id.to_owned(),
            user_id: author,
            text: draft.text,
            assignee: draft.assignee,
            group_assignee,
            date: now_ms(),
        })
        .clone();

    let comment_id = comment.id.clone();
    events::publish(ws, author, task_id, Change::CommentPosted { comment_id });
    Ok(comment)
}

async fn get_comments(
    state: web::Data<SandboxState>,
    task_id: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let start_id = url::form_urlencoded::parse(request.query_string().as_bytes())
        .find(|(key, _)| key == "start_id")
        .map(|(_, value)| value.into_owned());

    state.with(|ws| {
        find_task(ws, &task_id)?;

        let mut newest_first: Vec<&CommentRecord> = ws.comments.on_task(&task_id).collect();
        newest_first.reverse();
        let after = start_id
            .and_then(|id| newest_first.iter().position(|c| c.id == id))
            .map_or(0, |position| position + 1);

        let page: Vec<Value> = newest_first
            .iter()
            .skip(after)
            .take(PAGE_SIZE)
            .map(|comment| comment_json(ws, comment))
            .collect();
        Ok(HttpResponse::Ok().json(json!({ "comments": page })))
    })
}

#[cfg(test)]
mod tests;
