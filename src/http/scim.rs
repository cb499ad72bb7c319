//! `/scim/v2`: the SCIM 2.0 service provider (RFC 7644) for IAMs that provision by SCIM.
//!
//! Every request first passes `auth` (no tokens configured: 404 "SCIM is not enabled"; a
//! missing or wrong bearer token: 401). Discovery (`discovery`), reads (`query`) and writes
//! (`write`: answered only after the write's identity events are confirmed by the broker)
//! answer `application/scim+json`; every refusal is a SCIM error, an unknown path (404) and
//! another method on a known path (405 with `Allow`) included. Logs carry ids only.

use actix_web::{
    http::{header, Method, StatusCode},
    middleware::from_fn,
    web, HttpRequest, HttpResponse, ResponseError,
};
use serde_json::Value;

use crate::{config::ScimTokens, scim::ScimError};

mod auth;
mod discovery;
mod query;
mod references;
mod request;
mod write;

pub use auth::ScimClient;

/// The media type of every SCIM answer.
pub const MEDIA_TYPE: &str = "application/scim+json";

/// The most resources one list answers with (advertised as `filter.maxResults`).
pub const MAX_RESULTS: usize = 200;

/// What the SCIM handlers keep beside the receivers' state.
#[derive(Default)]
pub struct ScimState {
    pub tokens: ScimTokens,
    /// One SCIM write at a time in this process: each holds the store's write lock while its
    /// events are published, and a queue here is fairer than the store's busy wait.
    writes: tokio::sync::Mutex<()>,
}

impl ScimState {
    pub fn new(tokens: ScimTokens) -> Self {
        Self {
            tokens,
            writes: tokio::sync::Mutex::new(()),
        }
    }
}

/// Mounts `/scim/v2` on the receivers' app.
pub fn configure(config: &mut web::ServiceConfig) {
    use crate::scim::schema::ResourceType::{Group, User};

    let get = || [Method::GET];
    config.service(
        web::scope("/scim/v2")
            .wrap(from_fn(auth::authenticate))
            .service(
                resource("/ServiceProviderConfig", &get())
                    .route(web::get().to(discovery::service_provider_config)),
            )
            .service(
                resource("/ResourceTypes", &get()).route(web::get().to(discovery::resource_types)),
            )
            .service(
                resource("/ResourceTypes/{name}", &get())
                    .route(web::get().to(discovery::resource_type)),
            )
            .service(resource("/Schemas", &get()).route(web::get().to(discovery::schemas)))
            .service(resource("/Schemas/{id}", &get()).route(web::get().to(discovery::schema)))
            .service(resource("/.search", &[Method::POST]).route(web::post().to(query::search_all)))
            .configure(|config| collection(config, User))
            .configure(|config| collection(config, Group))
            .default_service(web::to(not_found)),
    );
}

/// `/Users` or `/Groups`: list, create, search; one resource by id.
fn collection(config: &mut web::ServiceConfig, resource_type: crate::scim::schema::ResourceType) {
    let base = format!("/{}", resource_type.endpoint());
    let typed = move || web::Data::new(resource_type);
    config
        .service(
            resource(&base, &[Method::GET, Method::POST])
                .app_data(typed())
                .route(web::get().to(query::list))
                .route(web::post().to(write::create)),
        )
        .service(
            resource(&format!("{base}/.search"), &[Method::POST])
                .app_data(typed())
                .route(web::post().to(query::search)),
        )
        .service(
            resource(
                &format!("{base}/{{id}}"),
                &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
            )
            .app_data(typed())
            .route(web::get().to(query::get))
            .route(web::put().to(write::replace))
            .route(web::patch().to(write::patch))
            .route(web::delete().to(write::delete)),
        );
}

/// A path whose other methods are answered 405 with `Allow`, as a SCIM error.
fn resource(path: &str, allow: &[Method]) -> actix_web::Resource {
    let allow: Vec<&'static str> = allow.iter().map(method_name).collect();
    web::resource(path).default_service(web::to(move |request: HttpRequest| {
        let allow = allow.join(", ");
        async move {
            let detail = format!(
                "{} is not allowed here; this path allows {allow}",
                request.method()
            );
            let mut response = answer(
                StatusCode::METHOD_NOT_ALLOWED,
                &ScimError::new(405, None, detail).body(),
            );
            if let Ok(value) = header::HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
    }))
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "OPTIONS",
    }
}

async fn not_found() -> HttpResponse {
    ScimError::not_found("no such SCIM endpoint").error_response()
}

/// A SCIM answer: `body` as `application/scim+json`.
pub fn answer(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(MEDIA_TYPE)
        .body(body.to_string())
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = answer(self.status_code(), &self.body());
        if self.status == 401 {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        if self.status == 503 {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

/// A ListResponse of one page.
pub fn list_response(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
