//! The admin API `/api/v1`: bearer tokens from the IAM's OIDC provider, a role per route
//! from the routing table below, JSON answers and errors.
//!
//! Invariant: every route reads its role from [`ROUTES`] through the [`Caller`] extractor;
//! a path missing from the table refuses everyone, so no route is open by omission.

mod brake;
mod caller;
mod dead_letters;
mod error;
mod history;
mod params;
mod views;

use std::sync::Arc;

use actix_web::{http::Method, web, FromRequest, Handler, HttpResponse, Responder};
use serde_json::json;

pub use caller::Caller;
pub use error::AdminError;

use crate::{
    auth::{Need, Role, Verifier},
    bus::Publisher,
    clickup::ClickUpClient,
    store::Store,
};
use caller::RouteNeed;

/// What the admin API shares.
pub struct AdminState {
    pub verifier: Arc<Verifier>,
    pub store: Store,
    /// Reads the folder and space above an object, so inherited access counts in a
    /// timeline; `None` when no ClickUp token is configured (the object's own grants only).
    pub clickup: Option<ClickUpClient>,
    /// The receivers' publisher: dead-letter replays go through it.
    pub publisher: Arc<dyn Publisher>,
}

const AUDITOR: Need = Need::AnyOf(&[Role::Auditor]);
const ADMIN: Need = Need::AnyOf(&[Role::Admin]);
const APPROVER_OR_AUDITOR: Need = Need::AnyOf(&[Role::Approver, Role::Auditor]);

/// Every admin path and the role it needs (admin includes auditor).
pub const ROUTES: &[(&str, Need)] = &[
    ("/whoami", Need::Token),
    ("/audit", AUDITOR),
    ("/requests", APPROVER_OR_AUDITOR),
    ("/requests/{task_id}", APPROVER_OR_AUDITOR),
    ("/grants", AUDITOR),
    ("/brake", AUDITOR),
    ("/brake/release", ADMIN),
    ("/timeline", AUDITOR),
    ("/dead-letters", ADMIN),
    ("/dead-letters/replay", ADMIN),
    ("/dead-letters/{id}", ADMIN),
    ("/dead-letters/{id}/replay", ADMIN),
    ("/dead-letters/{id}/drop", ADMIN),
];

/// Mounts `/api/v1`: the routes when `admin` is set, else a 503 saying it is not configured.
pub fn configure(config: &mut web::ServiceConfig, admin: Option<web::Data<AdminState>>) {
    let Some(admin) = admin else {
        config.service(web::scope("/api/v1").default_service(web::to(not_configured)));
        return;
    };
    config.service(
        web::scope("/api/v1")
            .app_data(admin)
            .configure(|scope| {
                route(scope, Method::GET, "/whoami", whoami);
                route(scope, Method::GET, "/audit", views::audit);
                route(scope, Method::GET, "/requests", views::requests);
                route(scope, Method::GET, "/requests/{task_id}", views::request);
                route(scope, Method::GET, "/grants", views::grants);
                route(scope, Method::GET, "/brake", brake::status);
                route(scope, Method::POST, "/brake/release", brake::release);
                route(scope, Method::GET, "/timeline", history::timeline);
                route(scope, Method::GET, "/dead-letters", dead_letters::list);
                // Before `{id}`: the first resource that matches a path takes it.
                let all = dead_letters::replay_all;
                route(scope, Method::POST, "/dead-letters/replay", all);
                route(scope, Method::GET, "/dead-letters/{id}", dead_letters::show);
                let one = dead_letters::replay_one;
                route(scope, Method::POST, "/dead-letters/{id}/replay", one);
                route(
                    scope,
                    Method::POST,
                    "/dead-letters/{id}/drop",
                    dead_letters::drop,
                );
            })
            .default_service(web::to(not_found)),
    );
}

/// Adds one route with the role its [`ROUTES`] entry names; other methods on its path are
/// answered 405 (one method per path: a second `route` of the same path would never match).
fn route<F, Args>(config: &mut web::ServiceConfig, method: Method, path: &str, handler: F)
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let need = ROUTES
        .iter()
        .find(|(known, _)| *known == path)
        .map(|(_, need)| RouteNeed(*need));
    let mut resource = super::routing::resource(path, std::slice::from_ref(&method));
    if let Some(need) = need {
        resource = resource.app_data(need);
    }
    config.service(resource.route(web::method(method).to(handler)));
}

async fn whoami(Caller(principal): Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "sub": principal.subject,
        "roles": principal.roles.names(),
        "checked_by": principal.checked_by,
    }))
}

async fn not_configured() -> Result<HttpResponse, AdminError> {
    Err(AdminError::NotConfigured)
}

async fn not_found() -> Result<HttpResponse, AdminError> {
    Err(AdminError::NotFound("no such admin API endpoint".into()))
}
