//! Reads: one resource by id (`If-None-Match` answered 304), lists with a filter, a page
//! (`startIndex`, `count`) and a projection, over one resource type (`GET /Users`,
//! `POST /Users/.search`) or all of them (`POST /.search`). Filters are evaluated in Rust
//! over the stored resources, oldest first.

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use serde_json::Value;
use tracing::error;

use super::{
    answer, list_response,
    request::{base_url, json_body, not_modified, projection, ListQuery},
};
use crate::{
    http::ReceiverState,
    scim::{filter::Scope, resource::render, schema::ResourceType, ScimError},
    store::{scim::ScimRecord, StoreError},
};

pub async fn get(
    request: HttpRequest,
    state: web::Data<ReceiverState>,
    resource_type: web::Data<ResourceType>,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let resource_type = **resource_type;
    let record = state
        .store
        .scim_resource(resource_type, &id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| not_found(resource_type))?;

    let etag = (header::ETAG, record.meta.etag());
    if not_modified(&request, &record.meta) {
        return Ok(HttpResponse::NotModified().insert_header(etag).finish());
    }
    let projection = projection(&request)?;
    let rendered = rendered(&record, &base_url(&request));
    let mut response = answer(StatusCode::OK, &projection.apply(resource_type, &rendered));
    response.headers_mut().insert(
        header::ETAG,
        header::HeaderValue::from_str(&etag.1).expect("an entity tag is a header value"),
    );
    Ok(response)
}

pub async fn list(
    request: HttpRequest,
    state: web::Data<ReceiverState>,
    resource_type: web::Data<ResourceType>,
) -> Result<HttpResponse, ScimError> {
    let query = ListQuery::from_query(&request)?;
    answer_list(&request, &state, &[**resource_type], query).await
}

/// `POST /Users/.search`, `POST /Groups/.search`.
pub async fn search(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReceiverState>,
    resource_type: web::Data<ResourceType>,
) -> Result<HttpResponse, ScimError> {
    let body = json_body(&request, payload, &state).await?;
    let query = ListQuery::from_search(&body)?;
    answer_list(&request, &state, &[**resource_type], query).await
}

/// `POST /.search`: every resource type the filter can be asked of.
pub async fn search_all(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReceiverState>,
) -> Result<HttpResponse, ScimError> {
    let body = json_body(&request, payload, &state).await?;
    let query = ListQuery::from_search(&body)?;
    answer_list(&request, &state, &ResourceType::ALL, query).await
}

async fn answer_list(
    request: &HttpRequest,
    state: &ReceiverState,
    resource_types: &[ResourceType],
    query: ListQuery,
) -> Result<HttpResponse, ScimError> {
    let mut searched = Vec::new();
    let mut refused = None;
    for &resource_type in resource_types {
        match query.check(resource_type) {
            Ok(()) => searched.push(resource_type),
            Err(error) => refused = refused.or(Some(error)),
        }
    }
    if let (true, Some(error)) = (searched.is_empty(), refused) {
        return Err(error);
    }

    let mut records: Vec<ScimRecord> = Vec::new();
    for &resource_type in &searched {
        records.extend(
            state
                .store
                .scim_resources(resource_type)
                .await
                .map_err(unavailable)?,
        );
    }
    if searched.len() > 1 {
        records.sort_by(|a, b| (a.meta.created, &a.id).cmp(&(b.meta.created, &b.id)));
    }

    let base = base_url(request);
    let matched: Vec<(ResourceType, Value)> = records
        .iter()
        .map(|record| (record.resource_type, rendered(record, &base)))
        .filter(|(resource_type, resource)| match &query.filter {
            Some(filter) => filter.matches(Scope::Resource(*resource_type), resource),
            None => true,
        })
        .collect();
    let total = matched.len();
    let page: Vec<Value> = matched
        .iter()
        .skip(query.start_index - 1)
        .take(query.count)
        .map(|(resource_type, resource)| query.projection.apply(*resource_type, resource))
        .collect();
    Ok(answer(
        StatusCode::OK,
        &list_response(total, query.start_index, page),
    ))
}

/// The full representation of a stored resource.
pub fn rendered(record: &ScimRecord, base: &str) -> Value {
    render(
        record.resource_type,
        &record.id,
        &record.resource,
        &record.meta,
        base,
    )
}

pub fn not_found(resource_type: ResourceType) -> ScimError {
    ScimError::not_found(format!("no {} has this id", resource_type.name()))
}

/// The store failed: 503, the client retries.
pub fn unavailable(error: StoreError) -> ScimError {
    error!(error = %error, "SCIM store unavailable");
    ScimError::new(503, None, "the store is unavailable; retry later")
}
