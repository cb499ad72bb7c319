//! Discovery (RFC 7644 §4): what the service supports (`ServiceProviderConfig`), its resource
//! types and its schemas, rendered from `scim::schema`.

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{answer, list_response, request::base_url, MAX_RESULTS};
use crate::scim::{
    schema::{self, ResourceType},
    ScimError,
};

pub async fn service_provider_config(request: HttpRequest) -> HttpResponse {
    let base = base_url(&request);
    let config = json!({
        "schemas": [schema::SERVICE_PROVIDER_CONFIG.id],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A bearer token configured for the client in SCIM_TOKENS",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    });
    answer(StatusCode::OK, &config)
}

pub async fn resource_types(request: HttpRequest) -> HttpResponse {
    let base = base_url(&request);
    let types: Vec<Value> = ResourceType::ALL.iter().map(|t| t.render(&base)).collect();
    answer(StatusCode::OK, &list_response(types.len(), 1, types))
}

pub async fn resource_type(
    request: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let found = ResourceType::ALL
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(&name))
        .ok_or_else(|| ScimError::not_found("no such resource type"))?;
    Ok(answer(StatusCode::OK, &found.render(&base_url(&request))))
}

pub async fn schemas(request: HttpRequest) -> HttpResponse {
    let base = base_url(&request);
    let schemas: Vec<Value> = schema::ALL.iter().map(|s| s.render(&base)).collect();
    answer(StatusCode::OK, &list_response(schemas.len(), 1, schemas))
}

pub async fn schema(
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let found = schema::ALL
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(&id))
        .ok_or_else(|| ScimError::not_found("no such schema"))?;
    Ok(answer(StatusCode::OK, &found.render(&base_url(&request))))
}
