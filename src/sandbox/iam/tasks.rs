//! Approval tasks: `GET /tasks/list` pages through the pending ones and `POST /tasks`
//! approves or denies them, optionally as a `proxyUser`.
//!
//! Invariants: every caller sees every pending task, as a provisioning administrator does;
//! with `proxyUser` a task is decided only when it is addressed to that user (else it is
//! listed under `failed`); an unknown or finished task refuses the whole call before any
//! task changes; a decision is pushed in the background, as the workflow's `rest-activity`
//! runs after the task closes. The stand-in implements `approve` and `deny` only and refuses
//! every other action, as the server refuses an unknown one.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::{
    fault::{self, Fault},
    gate::Caller,
    notify::Notifier,
    requests::{descending, index},
    state::{ActError, IamState},
    view::IamTaskState,
};

/// Tasks expire a week after they were created (the stand-in's choice).
const TASK_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

pub(super) async fn list(
    query: web::Query<HashMap<String, String>>,
    state: web::Data<IamState>,
) -> Result<HttpResponse, Fault> {
    let from_index = index(&query, "fromIndex", 1)?.max(1);
    let size = index(&query, "size", 10)?;
    let descending = descending(&query, false)?;
    let assigned_to = query.get("assignedTo").map(|dn| dn.to_lowercase());
    let recipient = query.get("recipient").map(|dn| dn.to_lowercase());

    let answer = state.with(|s| {
        let mut pending: Vec<Value> = Vec::new();
        for request in &s.requests {
            if recipient
                .as_ref()
                .is_some_and(|dn| request.view.recipient.to_lowercase() != *dn)
            {
                continue;
            }
            let recipient_name = s
                .user(&request.view.recipient)
                .map(|u| u.display_name.clone())
                .unwrap_or_default();
            let created = request.requested_at.timestamp_millis();
            for task in &request.view.tasks {
                if task.state != IamTaskState::Pending
                    || assigned_to
                        .as_ref()
                        .is_some_and(|dn| task.addressee.to_lowercase() != *dn)
                {
                    continue;
                }
                pending.push(json!({
                    "taskId": task.task_id,
                    "processName": request.prd_name,
                    "processId": request.view.id,
                    "activityName": task.activity,
                    "createTime": created,
                    "expirationTime": created + TASK_LIFETIME_MS,
                    "recipient": request.view.recipient,
                    "recipientName": recipient_name,
                    "initiator": request.requester,
                    "addressee": task.addressee,
                    "assignedTo": task.addressee,
                    "taskClaimed": false,
                    "priority": 5,
                    "confirmationNumber": request.view.confirmation_number,
                    "isNewForm": true,
                    "bulkApprovable": true,
                }));
            }
        }
        if descending {
            pending.reverse();
        }

        let total = pending.len();
        let page: Vec<Value> = pending
            .into_iter()
            .skip(from_index - 1)
            .take(size)
            .collect();
        json!({
            "tasks": page,
            "nextIndex": from_index + page.len(),
            "arraySize": total,
        })
    });
    Ok(HttpResponse::Ok().json(answer))
}

pub(super) async fn act(
    caller: web::ReqData<Caller>,
    body: web::Bytes,
    state: web::Data<IamState>,
    notifier: web::Data<Notifier>,
) -> Result<HttpResponse, Fault> {
    let caller = caller.into_inner().0;
    let fields = fault::object(&body)?;

    let task_ids = fault::objects(&fields, "tasks")?
        .unwrap_or_default()
        .into_iter()
        .map(|task| fault::text(task, "taskId").map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()?;
    if task_ids.is_empty() {
        return Err(Fault::invalid_input("tasks must name at least one taskId"));
    }
    let approve = match fault::text(&fields, "action")?
        .to_ascii_lowercase()
        .as_str()
    {
        "approve" => true,
        "deny" => false,
        _ => {
            return Err(Fault::application(
                "InvalidEnumValue",
                "the action is not one the sandbox carries out (approve, deny)",
            ))
        }
    };
    let comment = fault::optional_text(&fields, "comment")?.unwrap_or_default();
    let proxy = fault::optional_text(&fields, "proxyUser")?;

    let (succeeded, failed, events) = state.with(|s| {
        if let Some(proxy) = proxy {
            if s.user(proxy).is_none() {
                return Err(Fault::not_found("the proxy user does not exist"));
            }
        }
        if let Some(unknown) = task_ids.iter().find(|id| !s.is_pending(id)) {
            return Err(Fault::not_found(format!("task {unknown} not found")));
        }

        let actor = proxy.unwrap_or(&caller);
        let (mut succeeded, mut failed, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for id in &task_ids {
            match s.act(id, actor, proxy.is_some(), approve, comment) {
                Ok(event) => {
                    succeeded.push(json!({ "id": id }));
                    events.extend(event);
                }
                Err(error @ (ActError::NotAddressee | ActError::UnknownTask(_))) => {
                    failed.push(json!({ "id": id, "reason": error.to_string() }));
                }
                Err(ActError::UnknownUser) => {
                    return Err(Fault::not_found("the acting user does not exist"));
                }
            }
        }
        Ok((succeeded, failed, events))
    })?;

    for event in events {
        notifier.push_in_background(event);
    }
    Ok(HttpResponse::Ok().json(json!({
        "success": failed.is_empty(),
        "succeeded": succeeded,
        "failed": failed,
    })))
}
