//! Read-only views: audit search, access requests and grants, each a keyset page
//! `{ "items": [...], "next": cursor|null }`. Times are epoch milliseconds, as stored.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{
    error::AdminError,
    params::{next_cursor, Params},
    AdminState, Caller,
};
use crate::store::{admin::GrantQuery, AccessRequest, AuditQuery, RequestState};

/// `GET /api/v1/audit?correlation_id&subject&object&action&actor&outcome&from&to&limit&after`
pub(super) async fn audit(
    _: Caller,
    request: HttpRequest,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let known = [
        "correlation_id",
        "subject",
        "object",
        "action",
        "actor",
        "outcome",
        "from",
        "to",
        "limit",
        "after",
    ];
    let params = Params::parse(request.query_string(), &known)?;
    let query = AuditQuery {
        correlation_id: params.text("correlation_id")?,
        subject: params.text("subject")?,
        object: params.audit_object()?,
        action: params.text("action")?,
        actor: params.text("actor")?,
        outcome: params.text("outcome")?,
        from: params.time("from")?,
        to: params.time("to")?,
        after_seq: params.cursor()?,
        limit: params.limit()?,
    };
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from >= to {
            return Err(AdminError::bad("to", "must be later than from"));
        }
    }

    let page = admin.store.audit_search(&query).await?;
    let next = next_cursor(
        page.records.iter().map(|r| r.seq),
        page.records.len(),
        query.limit,
    );
    let items: Vec<Value> = page
        .records
        .into_iter()
        .map(|row| {
            let detail =
                serde_json::from_str(&row.detail).unwrap_or(Value::String(row.detail.clone()));
            let mut item = serde_json::to_value(&row).unwrap_or_default();
            item["detail"] = detail;
            item
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next": next })))
}

/// `GET /api/v1/requests?state&limit&after`
pub(super) async fn requests(
    _: Caller,
    request: HttpRequest,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let params = Params::parse(request.query_string(), &["state", "limit", "after"])?;
    let state = params
        .text("state")?
        .map(|state| {
            RequestState::parse(&state)
                .map(RequestState::as_str)
                .ok_or_else(|| AdminError::bad("state", "not a request state"))
        })
        .transpose()?;
    let limit = params.limit()?;

    let rows = admin
        .store
        .list_requests(state, params.cursor()?, limit)
        .await?;
    let next = next_cursor(rows.iter().map(|(key, _)| *key), rows.len(), limit);
    let items: Vec<Value> = rows.iter().map(|(_, r)| request_json(r)).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next": next })))
}

/// `GET /api/v1/requests/{task_id}`
pub(super) async fn request(
    _: Caller,
    task_id: web::Path<String>,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    match admin.store.request(&task_id).await? {
        Some(found) => Ok(HttpResponse::Ok().json(request_json(&found))),
        None => Err(AdminError::NotFound(format!(
            "no access request for task {task_id}"
        ))),
    }
}

/// `GET /api/v1/grants?person&object&open&limit&after`; `person` is an IAM id or an email,
/// `object` as the timeline takes it (`list:ID`, ..., `group:NAME`).
pub(super) async fn grants(
    _: Caller,
    request: HttpRequest,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let params = Params::parse(
        request.query_string(),
        &["person", "object", "open", "limit", "after"],
    )?;
    let iam_id = match params.text("person")? {
        Some(person) if person.contains('@') => match admin.store.identity_by_email(&person).await?
        {
            Some(identity) => Some(identity.iam_id),
            None => return Err(AdminError::NotFound("no identity has this email".into())),
        },
        other => other,
    };
    let query = GrantQuery {
        iam_id,
        object: params.grant_object()?,
        open: params.flag("open")?,
        after: params.cursor()?,
        limit: params.limit()?,
    };

    let rows = admin.store.list_grants(&query).await?;
    let next = next_cursor(rows.iter().map(|g| g.id), rows.len(), query.limit);
    Ok(HttpResponse::Ok().json(json!({ "items": rows, "next": next })))
}

/// A request as the API shows it: ids, state and times, no form text.
fn request_json(request: &AccessRequest) -> Value {
    json!({
        "task_id": request.task_id,
        "list_id": request.list_id,
        "requester_user": request.requester_user,
        "iam_id": request.iam_id,
        "area": request.area,
        "object": request.object,
        "level": request.level,
        "duration_ms": request.duration_ms,
        "state": request.state.as_str(),
        "step": request.step,
        "approver_iam_ids": request.approver_iam_ids,
        "iam_request_id": request.iam_request_id,
        "decided_by": request.decided_by,
        "decided_at": request.decided_at,
        "reason": request.reason,
        "until": request.until,
        "granted_at": request.granted_at,
        "correlation_id": request.correlation_id,
    })
}
