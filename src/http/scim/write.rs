//! Writes: POST (201 with `Location`), PUT, PATCH (200 with the resource), DELETE (204).
//!
//! Each write is one store transaction that SCIM writes take in turns (`ScimWrite`): read the resource
//! (404), `If-Match` (412), compute and check the new one (400; 409 for a userName or a chosen
//! e-mail address another User has, whatever its case; members typed as stored) before
//! anything is published; `scim::events` turns the change into
//! identity envelopes; the row is written; the envelopes go through `http::queue` with their
//! receipts in the same transaction; then it commits and answers. A failed publish answers
//! 503 and the rollback leaves the store as it was, so the client's retry is clean.

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use chrono::Utc;
use serde_json::{json, Value};
use tracing::{error, info, info_span, Instrument};
use uuid::Uuid;

use super::{
    answer,
    auth::ScimClient,
    query::{not_found, rendered, unavailable},
    references::check_references,
    request::{check_if_match, json_body, projection},
};
use crate::{
    http::{queue, ReceiverState},
    scim::{
        events::{self, Change, EventError, Source},
        patch::{self, Operation},
        resource::{normalise, Projection},
        schema::ResourceType,
        ScimError,
    },
    store::scim::ScimRecord,
};

/// What a request asks to change.
enum Edit {
    Create(Value),
    Replace(Value),
    Patch(Vec<Operation>),
    Delete,
}

pub async fn create(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReceiverState>,
    resource_type: web::Data<ResourceType>,
    client: web::ReqData<ScimClient>,
) -> Result<HttpResponse, ScimError> {
    let projection = projection(&request)?;
    let body = json_body(&request, payload, &state).await?;
    let new = normalise(**resource_type, &body)?;
    let id = Uuid::new_v4().to_string();

    let record = write(
        &state,
        &request,
        &client.0,
        **resource_type,
        &id,
        Edit::Create(new),
    )
    .await?;
    Ok(respond(StatusCode::CREATED, record, &request, &projection))
}

pub async fn replace(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReceiverState>,
    resource_type: web::Data<ResourceType>,
    client: web::ReqData<ScimClient>,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let projection = projection(&request)?;
    let body = json_body(&request, payload, &state).await?;
    let new = normalise(**resource_type, &body)?;

    let record = write(
        &state,
        &request,
        &client.0,
        **resource_type,
        &id,
        Edit::Replace(new),
    )
    .await?;
    Ok(respond(StatusCode::OK, record, &request, &projection))
}

pub async fn patch(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReceiverState>,
    resource_type: web::Data<ResourceType>,
    client: web::ReqData<ScimClient>,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let projection = projection(&request)?;
    let body = json_body(&request, payload, &state).await?;
    let operations = patch::operations(&body)?;

    let record = write(
        &state,
        &request,
        &client.0,
        **resource_type,
        &id,
        Edit::Patch(operations),
    )
    .await?;
    Ok(respond(StatusCode::OK, record, &request, &projection))
}

pub async fn delete(
    request: HttpRequest,
    state: web::Data<ReceiverState>,
    resource_type: web::Data<ResourceType>,
    client: web::ReqData<ScimClient>,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    write(
        &state,
        &request,
        &client.0,
        **resource_type,
        &id,
        Edit::Delete,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The written resource's representation, with its `ETag` (and `Location` when created).
fn respond(
    status: StatusCode,
    record: Option<ScimRecord>,
    request: &HttpRequest,
    projection: &Projection,
) -> HttpResponse {
    let Some(record) = record else {
        return HttpResponse::build(status).finish();
    };
    let full = rendered(&record, &super::request::base_url(request));
    let mut response = answer(status, &projection.apply(record.resource_type, &full));
    let headers = response.headers_mut();
    if let Ok(etag) = header::HeaderValue::from_str(&record.meta.etag()) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(Ok(location)) = full["meta"]["location"]
        .as_str()
        .map(header::HeaderValue::from_str)
    {
        if status == StatusCode::CREATED {
            headers.insert(header::LOCATION, location);
        }
    }
    response
}

/// Carries out one write (see the module's documentation); the resource as stored after it,
/// `None` once deleted.
async fn write(
    state: &ReceiverState,
    request: &HttpRequest,
    client: &str,
    resource_type: ResourceType,
    id: &str,
    edit: Edit,
) -> Result<Option<ScimRecord>, ScimError> {
    let request_id = Uuid::new_v4().to_string();
    let span = info_span!(
        "scim_write",
        request_id = %request_id,
        client,
        resource_type = resource_type.name(),
        resource_id = id
    );

    async move {
        let _turn = state.scim.writes.lock().await;
        let mut write = state.store.scim_write().await.map_err(unavailable)?;

        let old = match edit {
            Edit::Create(_) => None,
            _ => Some(
                write
                    .resource(resource_type, id)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| not_found(resource_type))?,
            ),
        };
        if let Some(old) = &old {
            check_if_match(request, &old.meta)?;
        }
        let mut new = new_resource(resource_type, id, old.as_ref(), edit)?;
        if let Some(new) = &mut new {
            let before = old.as_ref().map(|old| &old.resource);
            check_references(&mut write, resource_type, id, before, new).await?;
        }

        let now = Utc::now();
        let change = change(
            resource_type,
            old.as_ref().map(|o| &o.resource),
            new.as_ref(),
        )?;
        let source = Source {
            client,
            request_id: &request_id,
            now,
        };
        let mut envelopes =
            events::envelopes(&state.iam_schema, &change, &source).map_err(refused_event)?;

        let meta = match (&old, &new) {
            (None, Some(new)) => Some(write.insert(resource_type, id, new, now).await),
            (Some(old), Some(new)) => Some(write.update(old, new, now).await),
            (Some(old), None) => {
                write.delete(old, now).await.map_err(unavailable)?;
                None
            }
            (None, None) => None,
        };
        let meta = meta.transpose().map_err(unavailable)?;

        queue::queue(
            write.receipts(),
            state.publisher.as_ref(),
            &state.metrics,
            &mut envelopes,
        )
        .await
        .map_err(|e| ScimError::new(503, None, format!("the change was not made: {e}")))?;
        write.commit().await.map_err(unavailable)?;
        info!(events = envelopes.len(), "SCIM write committed");

        Ok(match (new, meta) {
            (Some(resource), Some(meta)) => Some(ScimRecord {
                resource_type,
                id: id.to_owned(),
                resource,
                meta,
            }),
            _ => None,
        })
    }
    .instrument(span)
    .await
}

/// The resource after `edit`, in canonical form with the server's `id` and a User's `groups`;
/// `None` for a deletion.
fn new_resource(
    resource_type: ResourceType,
    id: &str,
    old: Option<&ScimRecord>,
    edit: Edit,
) -> Result<Option<Value>, ScimError> {
    let mut new = match edit {
        Edit::Create(new) | Edit::Replace(new) => new,
        Edit::Patch(operations) => {
            let mut stored = old.map(|o| o.resource.clone()).unwrap_or_else(|| json!({}));
            if let Some(stored) = stored.as_object_mut() {
                stored.remove("id");
                stored.remove("groups");
            }
            patch::apply(resource_type, &mut stored, &operations)?;
            stored
        }
        Edit::Delete => return Ok(None),
    };

    new["id"] = json!(id);
    if let Some(groups) = old.and_then(|o| o.resource.get("groups")) {
        new["groups"] = groups.clone();
    }
    Ok(Some(new))
}

/// The change as `scim::events` reads it.
fn change<'a>(
    resource_type: ResourceType,
    old: Option<&'a Value>,
    new: Option<&'a Value>,
) -> Result<Change<'a>, ScimError> {
    Ok(match (resource_type, old, new) {
        (ResourceType::User, None, Some(new)) => Change::UserCreated { new },
        (ResourceType::User, Some(old), Some(new)) => Change::UserReplaced { old, new },
        (ResourceType::User, Some(old), None) => Change::UserDeleted { old },
        (ResourceType::Group, None, Some(new)) => Change::GroupCreated { new },
        (ResourceType::Group, Some(old), Some(new)) => Change::GroupReplaced { old, new },
        (ResourceType::Group, Some(old), None) => Change::GroupDeleted { old },
        (_, None, None) => return Err(ScimError::new(500, None, "a write without a resource")),
    })
}

/// A resource that cannot become a valid identity event is the client's to fix (400, naming
/// the attribute, never its value); an event the router built wrong is its own fault (500).
fn refused_event(error: EventError) -> ScimError {
    match error {
        EventError::Invalid { attribute, detail } => {
            ScimError::invalid_value(format!("{attribute}: {detail}"))
        }
        EventError::Internal(detail) => {
            error!(detail = %detail, "a SCIM write could not be turned into identity events");
            ScimError::new(
                500,
                None,
                "the change could not be turned into identity events",
            )
        }
    }
}
