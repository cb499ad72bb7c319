//! Permission requests: `POST /requests/permissions/v2` starts a PRD's workflow per
//! recipient, `GET /requests/historylist` pages through every request, newest first by
//! default, and `POST /requests/history/item` shows one with its comments.
//!
//! Invariants: only the first permission counts, as on the server; an unknown PRD answers
//! 200 `success: false` like a PRD not yet in the permission index; recipients must be
//! known users (the stand-in does not expand groups or teams).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::{
    fault::{self, Fault},
    gate::Caller,
    state::{IamState, Inner, Request},
};

pub(super) async fn permissions_v2(
    caller: web::ReqData<Caller>,
    body: web::Bytes,
    state: web::Data<IamState>,
) -> Result<HttpResponse, Fault> {
    let caller = caller.into_inner().0;
    let fields = fault::object(&body)?;

    let permissions = fault::objects(&fields, "reqPermissions")?.unwrap_or_default();
    let Some(permission) = permissions.first() else {
        return Err(Fault::invalid_input("permission list empty"));
    };
    let prd = fault::text(permission, "id")?;
    if !fault::is_dn(prd) {
        return Err(Fault::application(
            "SecurityException",
            "the permission id is not a valid DN",
        ));
    }
    if !fault::text(permission, "entityType")?.eq_ignore_ascii_case("prd") {
        return Err(Fault::invalid_input(
            "this endpoint starts PRDs; use /requests/permissions/item for roles and resources",
        ));
    }
    let data = data_items(&fields)?;
    let recipients = recipients(&fields, &caller)?;

    state.with(|s| {
        if let Some(unknown) = recipients.iter().find(|dn| s.user(dn).is_none()) {
            return Err(Fault::not_found(format!(
                "recipient {unknown} does not exist"
            )));
        }
        let answer = match s.open(prd, &recipients, data, &caller) {
            Some(ids) => {
                let succeeded: Vec<Value> = ids
                    .iter()
                    .map(|id| json!({ "id": prd, "requestId": id }))
                    .collect();
                json!({
                    "success": true,
                    "OperationNodes": [
                        { "success": true, "userDn": caller, "succeeded": succeeded }
                    ],
                })
            }
            None => json!({
                "success": false,
                "OperationNodes": [{ "success": false, "userDn": caller }],
            }),
        };
        Ok(HttpResponse::Ok().json(answer))
    })
}

/// `data`: `[{key, value: [strings]}]`.
fn data_items(
    fields: &serde_json::Map<String, Value>,
) -> Result<Vec<(String, Vec<String>)>, Fault> {
    let items = fault::objects(fields, "data")?.unwrap_or_default();
    items
        .into_iter()
        .map(|item| {
            let key = fault::text(item, "key")?;
            let values = item
                .get("value")
                .and_then(Value::as_array)
                .and_then(|values| {
                    values
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| Fault::invalid_input("data[].value must be a list of strings"))?;
            Ok((key.to_owned(), values))
        })
        .collect()
}

/// `recipients`: `[{dn, type: "user"}]`; absent means the caller.
fn recipients(fields: &serde_json::Map<String, Value>, caller: &str) -> Result<Vec<String>, Fault> {
    let Some(items) = fault::objects(fields, "recipients")? else {
        return Ok(vec![caller.to_owned()]);
    };
    items
        .into_iter()
        .map(|item| {
            let dn = fault::text(item, "dn")?;
            match fault::optional_text(item, "type")? {
                None => Ok(dn.to_owned()),
                Some(kind) if kind.eq_ignore_ascii_case("user") => Ok(dn.to_owned()),
                Some(_) => Err(Fault::invalid_input(
                    "the sandbox starts requests for user recipients only",
                )),
            }
        })
        .collect()
}

pub(super) async fn history(
    query: web::Query<HashMap<String, String>>,
    state: web::Data<IamState>,
) -> Result<HttpResponse, Fault> {
    let next_index = index(&query, "nextIndex", 1)?.max(1);
    let size = index(&query, "size", 20)?;
    let descending = descending(&query, true)?;
    let search = query
        .get("q")
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty() && q != "*");

    let entries = state.with(|s| {
        let mut matching: Vec<&Request> = s
            .requests
            .iter()
            .filter(|r| {
                search.as_ref().is_none_or(|q| {
                    r.prd_name.to_lowercase().contains(q)
                        || r.view.confirmation_number.contains(q.as_str())
                })
            })
            .collect();
        if descending {
            matching.reverse();
        }
        matching
            .into_iter()
            .skip(next_index - 1)
            .take(size)
            .map(|r| entry(s, r))
            .collect::<Vec<_>>()
    });
    Ok(HttpResponse::Ok().json(json!({ "requests": entries })))
}

pub(super) async fn item(
    body: web::Bytes,
    state: web::Data<IamState>,
) -> Result<HttpResponse, Fault> {
    let fields = fault::object(&body)?;
    let id = fault::text(&fields, "id")?;

    state.with(|s| {
        let request = s
            .request(id)
            .ok_or_else(|| Fault::not_found(format!("request {id} does not exist")))?;
        let mut answer = entry(s, request);
        // The comment shape is the stand-in's choice; the lab notes show only that the
        // answer holds the request's comments.
        answer["comments"] = request
            .comments
            .iter()
            .map(|c| {
                json!({
                    "user": c.user,
                    "comment": c.text,
                    "activityName": c.activity,
                    "timeStamp": c.at.timestamp_millis(),
                    "type": "user",
                })
            })
            .collect();
        Ok(HttpResponse::Ok().json(answer))
    })
}

/// One history-list entry.
fn entry(inner: &Inner, request: &Request) -> Value {
    let (request_state, process_state) = request.view.state.pair();
    let recipient_name = inner
        .user(&request.view.recipient)
        .map(|u| u.display_name.clone())
        .unwrap_or_default();
    json!({
        "id": request.view.id,
        "name": request.prd_name,
        "entityType": "prd",
        "requestState": request_state,
        "processState": process_state,
        "requestStatus": request.view.state.status(),
        "requester": request.requester,
        "recipient": request.view.recipient,
        "recipientName": recipient_name,
        "recipientType": "user",
        "requestDate": request.requested_at.timestamp_millis(),
        "confirmationNumber": request.view.confirmation_number,
    })
}

/// A non-negative integer query parameter.
pub(super) fn index(
    query: &HashMap<String, String>,
    name: &str,
    default: usize,
) -> Result<usize, Fault> {
    match query.get(name) {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| Fault::invalid_input(format!("{name} must be a number"))),
    }
}

/// `sortOrder`: `asc` or `desc` (any case), else 489 as on the server.
pub(super) fn descending(query: &HashMap<String, String>, default: bool) -> Result<bool, Fault> {
    match query.get("sortOrder").map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(order) if order == "desc" => Ok(true),
        Some(order) if order == "asc" => Ok(false),
        Some(_) => Err(Fault::invalid_input("invalid sort order")),
    }
}
