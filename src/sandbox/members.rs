//! The Enterprise-only member endpoints: `POST /v2/team/{team_id}/user` (invite) and
//! `GET|PUT|DELETE /v2/team/{team_id}/user/{user_id}`.
//!
//! Checks run in ClickUp's order: integer path ids, authorised team, Enterprise plan, body,
//! then the user. Removing deactivates the user and drops their shares and group
//! memberships; removed users and guests are "not found" here, and the workspace owner can
//! never be removed.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{
    audit_log::Change,
    body::Body,
    directory::{custom_role, roles_json, Enrollment, Role, UserRecord},
    errors::ApiError,
    routes::{authorise_enterprise, parse_id, resource},
    shares::{include_shared, shared_json},
    state::{now_ms, SandboxState, Workspace},
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v2/team/{team_id}/user").route(web::post().to(invite_member)))
        .service(
            resource("/v2/team/{team_id}/user/{user_id}")
                .route(web::get().to(get_member))
                .route(web::put().to(edit_member))
                .route(web::delete().to(remove_member)),
        );
}

/// Validates an email the way any sign-up form would: one `@` with text on both sides.
pub(crate) fn checked_email(email: &str) -> Result<&str, ApiError> {
    let email = email.trim();
    let valid = match email.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !domain.contains('@'),
        None => false,
    };

    if !valid || email.contains(char::is_whitespace) {
        return Err(ApiError::invalid_value("Email invalid"));
    }
    Ok(email)
}

/// A custom role id from a body must name one of the workspace's custom roles.
pub(crate) fn checked_custom_role(id: Option<u64>) -> Result<Option<u64>, ApiError> {
    match id {
        Some(id) if custom_role(id).is_none() => Err(ApiError::custom_role_not_found()),
        _ => Ok(id),
    }
}

/// The custom role an edit's `custom_role_id` gives: none for a member's or an admin's
/// built-in role, else one of the workspace's custom roles (the owner's and the guest's
/// built-in roles cannot be given here).
fn edited_custom_role(id: u64) -> Result<Option<u64>, ApiError> {
    let built_in = [Role::Admin, Role::Member].map(|role| u64::from(role.id()));
    match built_in.contains(&id) {
        true => Ok(None),
        false => checked_custom_role(Some(id)),
    }
}

/// The `{team: {…, members: [entry], roles}}` answer of the invite endpoints.
pub(crate) fn invitation_json(ws: &Workspace, entry: Value) -> Value {
    let mut team = ws.team_json(vec![entry]);
    team["roles"] = roles_json();
    json!({ "team": team })
}

/// The `{team: {…, members: []}}` answer of the remove endpoints.
pub(crate) fn removal_json(ws: &Workspace) -> Value {
    json!({ "team": ws.team_json(Vec::new()) })
}

fn active_member(ws: &Workspace, user_id: u64) -> Result<&UserRecord, ApiError> {
    ws.directory
        .get(user_id)
        .filter(|user| user.active && user.role != Role::Guest)
        .ok_or_else(ApiError::user_not_found)
}

/// The `{member: {…, shared}}` answer; `include_shared` false leaves `shared` empty.
fn member_json(ws: &Workspace, user: &UserRecord, include_shared: bool) -> Value {
    json!({ "member": {
        "user": user.detail_json(),
        "invited_by": ws.directory.inviter_json(user),
        "shared": shared_json(ws, user.id, include_shared)
    }})
}

async fn invite_member(
    state: web::Data<SandboxState>,
    team_id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        authorise_enterprise(ws, &team_id)?;

        let body = Body::parse(&bytes)?;
        let email = checked_email(body.required_str("email")?)?;
        let admin = body.required_bool("admin")?;
        let custom_role = checked_custom_role(body.optional_integer("custom_role_id")?)?;

        if ws.directory.find_active_by_email(email).is_some() {
            return Err(ApiError::already_in_workspace());
        }

        let id = ws.directory.enroll(Enrollment {
            email,
            username: None,
            role: if admin { Role::Admin } else { Role::Member },
            custom_role,
            invited_by: Some(ws.owner_id),
            joined: false,
            now_ms: now_ms(),
        });
        ws.log_api_change(|owner| Change::of_user("INVITE_TO_WORKSPACE", owner, id));
        let user = ws.directory.get(id).ok_or_else(ApiError::user_not_found)?;
        let entry = json!({
            "user": user.detail_json(),
            "invited_by": ws.directory.inviter_json(user)
        });
        Ok(HttpResponse::Ok().json(invitation_json(ws, entry)))
    })
}

async fn get_member(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (team_id, user_id) = path.into_inner();
    let user_id = parse_id(&user_id)?;

    state.with(|ws| {
        authorise_enterprise(ws, &team_id)?;

        let user = active_member(ws, user_id)?;
        Ok(HttpResponse::Ok().json(member_json(ws, user, include_shared(&request))))
    })
}

/// ClickUp's spec requires all of `username`, `admin` and an integer `custom_role_id`. A
/// built-in role's id there (2 admin, 3 member, as the workspace's `roles` list them beside the
/// custom ones) leaves the person with no custom role. The owner keeps the owner role whatever
/// `admin` says.
async fn edit_member(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (team_id, user_id) = path.into_inner();
    let user_id = parse_id(&user_id)?;

    state.with(|ws| {
        authorise_enterprise(ws, &team_id)?;

        let body = Body::parse(&bytes)?;
        let username = body.required_str("username")?;
        let admin = body.required_bool("admin")?;
        let custom_role = edited_custom_role(body.required_integer("custom_role_id")?)?;

        active_member(ws, user_id)?;
        let owner_id = ws.owner_id;
        let user = ws
            .directory
            .get_mut(user_id)
            .ok_or_else(ApiError::user_not_found)?;
        user.username = Some(username.to_owned());
        let before = (user.role, user.custom_role);
        user.custom_role = custom_role;
        if user.id != owner_id {
            user.role = if admin { Role::Admin } else { Role::Member };
        }
        if before != (user.role, user.custom_role) {
            ws.log_api_change(|owner| Change::of_user("CHANGE_USER_ROLE", owner, user_id));
        }

        let user = active_member(ws, user_id)?;
        Ok(HttpResponse::Ok().json(member_json(ws, user, true)))
    })
}

async fn remove_member(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (team_id, user_id) = path.into_inner();
    let user_id = parse_id(&user_id)?;

    state.with(|ws| {
        authorise_enterprise(ws, &team_id)?;

        let user = active_member(ws, user_id)?;
        if user.role == Role::Owner {
            return Err(ApiError::owner_not_removable());
        }

        if let Some(user) = ws.directory.get_mut(user_id) {
            user.active = false;
        }
        ws.forget_user(user_id);
        ws.log_api_change(|owner| Change::of_user("REMOVE_FROM_WORKSPACE", owner, user_id));
        tracing::debug!(user_id, "clickup sandbox deactivated a member");
        Ok(HttpResponse::Ok().json(removal_json(ws)))
    })
}

#[cfg(test)]
mod tests;
