//! The route table under `/api` (v2, plus the v3 ACL endpoint), the path checks ClickUp
//! applies before any work (integer syntax, authorised team, Enterprise plan), and the
//! workspace reads every plan has:
//! `GET /v2/user`, `GET /v2/team`, `GET /v2/team/{team_id}/plan` and `.../seats`.
//!
//! Unknown paths and methods answer a JSON 404, so the sandbox never answers without a body.

use actix_web::{web, HttpResponse, Resource, ResponseError};
use serde_json::{json, Value};

use super::{
    acls, audit_log,
    directory::Role,
    errors::ApiError,
    fields, groups, guests, hierarchy, members, shares,
    state::{SandboxState, Workspace},
    tasks, webhooks, Plan,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .service(resource("/v2/user").route(web::get().to(get_user)))
            .service(resource("/v2/team").route(web::get().to(get_teams)))
            .service(resource("/v2/team/{team_id}/plan").route(web::get().to(get_plan)))
            .service(resource("/v2/team/{team_id}/seats").route(web::get().to(get_seats)))
            .configure(members::configure)
            .configure(guests::configure)
            .configure(groups::configure)
            .configure(shares::configure)
            .configure(acls::configure)
            .configure(audit_log::configure)
            .configure(webhooks::configure)
            .configure(hierarchy::configure)
            .configure(tasks::configure)
            .configure(fields::configure),
    );
}

/// A resource whose unsupported methods answer like unknown routes.
pub(crate) fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(route_not_found))
}

pub(crate) async fn route_not_found() -> HttpResponse {
    ApiError::route_not_found().error_response()
}

/// Parses an integer path id the way ClickUp's database would.
pub(crate) fn parse_id(raw: &str) -> Result<u64, ApiError> {
    let digits_only = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());

    digits_only
        .then(|| raw.parse().ok())
        .flatten()
        .ok_or_else(|| ApiError::not_an_integer(raw))
}

/// Checks that the path's team id is an integer and the sandbox workspace.
pub(crate) fn authorise_team(ws: &Workspace, raw_team_id: &str) -> Result<(), ApiError> {
    if parse_id(raw_team_id)? != ws.team_id {
        return Err(ApiError::team_not_authorized());
    }
    Ok(())
}

/// Checks the team, then that its plan offers the Enterprise-only endpoints.
pub(crate) fn authorise_enterprise(ws: &Workspace, raw_team_id: &str) -> Result<(), ApiError> {
    authorise_team(ws, raw_team_id)?;
    require_enterprise(ws)
}

/// Checks that the plan offers the Enterprise-only endpoints, for paths without a team id.
pub(crate) fn require_enterprise(ws: &Workspace) -> Result<(), ApiError> {
    if ws.plan != Plan::Enterprise {
        return Err(ApiError::enterprise_required());
    }
    Ok(())
}

async fn get_user(state: web::Data<SandboxState>) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        let owner = ws
            .directory
            .get(ws.owner_id)
            .ok_or_else(ApiError::user_not_found)?;
        Ok(HttpResponse::Ok().json(json!({ "user": owner.profile_json() })))
    })
}

async fn get_teams(state: web::Data<SandboxState>) -> HttpResponse {
    state.with(|ws| {
        let members: Vec<Value> = ws
            .directory
            .active()
            .map(|user| user.team_member_json())
            .collect();
        HttpResponse::Ok().json(json!({ "teams": [ws.team_json(members)] }))
    })
}

async fn get_plan(
    state: web::Data<SandboxState>,
    team_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        authorise_team(ws, &team_id)?;

        Ok(HttpResponse::Ok().json(json!({
            "plan_name": ws.plan.name(),
            "plan_id": ws.plan.id()
        })))
    })
}

/// Members fill every member seat (ClickUp buys seats as members join); each member seat
/// brings five guest seats.
async fn get_seats(
    state: web::Data<SandboxState>,
    team_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        authorise_team(ws, &team_id)?;

        let (guests, members): (Vec<_>, Vec<_>) = ws
            .directory
            .active()
            .partition(|user| user.role == Role::Guest);
        let member_seats = members.len();
        let guest_seats = (member_seats * 5).max(guests.len());

        Ok(HttpResponse::Ok().json(json!({
            "members": {
                "filled_members_seats": member_seats,
                "total_member_seats": member_seats,
                "empty_member_seats": 0
            },
            "guests": {
                "filled_guest_seats": guests.len(),
                "total_guest_seats": guest_seats,
                "empty_guest_seats": guest_seats - guests.len()
            }
        })))
    })
}

#[cfg(test)]
mod tests;
