//! The Enterprise-only guest endpoints: `POST /v2/team/{team_id}/guest` (invite) and
//! `GET|PUT|DELETE /v2/team/{team_id}/guest/{guest_id}`.
//!
//! Same order of checks as the member endpoints. A member id is "not found" here, as a
//! guest id is on the member endpoints; removing a guest revokes their workspace access,
//! their shares and their group memberships.

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use super::{
    audit_log::Change,
    body::Body,
    directory::{Enrollment, GuestPermissions, Role, UserRecord},
    errors::ApiError,
    members::{checked_custom_role, checked_email, invitation_json, removal_json},
    routes::{authorise_enterprise, parse_id, resource},
    shares::shared_json,
    state::{now_ms, SandboxState, Workspace},
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v2/team/{team_id}/guest").route(web::post().to(invite_guest)))
        .service(
            resource("/v2/team/{team_id}/guest/{guest_id}")
                .route(web::get().to(get_guest))
                .route(web::put().to(edit_guest))
                .route(web::delete().to(remove_guest)),
        );
}

pub(crate) fn active_guest(ws: &Workspace, guest_id: u64) -> Result<&UserRecord, ApiError> {
    ws.directory
        .get(guest_id)
        .filter(|user| user.active && user.role == Role::Guest)
        .ok_or_else(ApiError::guest_not_found)
}

/// A guest entry: `user`, `invited_by` and the `can_*` flags.
fn guest_entry(ws: &Workspace, guest: &UserRecord) -> Map<String, Value> {
    let mut entry = Map::new();
    entry.insert("user".to_owned(), guest.detail_json());
    entry.insert("invited_by".to_owned(), ws.directory.inviter_json(guest));
    guest.permissions.extend(&mut entry);
    entry
}

/// The `{guest: {…, shared}}` answer; `include_shared` false leaves `shared` empty.
pub(crate) fn guest_json(ws: &Workspace, guest: &UserRecord, include_shared: bool) -> Value {
    let mut entry = guest_entry(ws, guest);
    entry.insert(
        "shared".to_owned(),
        shared_json(ws, guest.id, include_shared),
    );
    json!({ "guest": entry })
}

/// The `can_*` flags present in `body`, type-checked.
fn permission_updates(body: &Body) -> Result<Vec<(&'static str, bool)>, ApiError> {
    let mut updates = Vec::new();
    for field in GuestPermissions::FIELDS {
        if let Some(value) = body.optional_bool(field)? {
            updates.push((field, value));
        }
    }
    Ok(updates)
}

fn apply_permissions(updates: &[(&str, bool)], permissions: &mut GuestPermissions) {
    for &(field, value) in updates {
        if let Some(flag) = permissions.flag_mut(field) {
            *flag = value;
        }
    }
}

async fn invite_guest(
    state: web::Data<SandboxState>,
    team_id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        authorise_enterprise(ws, &team_id)?;

        let body = Body::parse(&bytes)?;
        let email = checked_email(body.required_str("email")?)?;
        let mut permissions = GuestPermissions::default();
        apply_permissions(&permission_updates(&body)?, &mut permissions);
        let custom_role = checked_custom_role(body.optional_integer("custom_role_id")?)?;

        if ws.directory.find_active_by_email(email).is_some() {
            return Err(ApiError::already_in_workspace());
        }

        let id = ws.directory.enroll(Enrollment {
            email,
            username: None,
            role: Role::Guest,
            custom_role,
            invited_by: Some(ws.owner_id),
            joined: false,
            now_ms: now_ms(),
        });
        if let Some(guest) = ws.directory.get_mut(id) {
            guest.permissions = permissions;
        }
        ws.log_api_change(|owner| Change::of_user("INVITE_TO_WORKSPACE", owner, id));

        let guest = active_guest(ws, id)?;
        let entry = Value::Object(guest_entry(ws, guest));
        Ok(HttpResponse::Ok().json(invitation_json(ws, entry)))
    })
}

async fn get_guest(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (team_id, guest_id) = path.into_inner();
    let guest_id = parse_id(&guest_id)?;

    state.with(|ws| {
        authorise_enterprise(ws, &team_id)?;

        let guest = active_guest(ws, guest_id)?;
        Ok(HttpResponse::Ok().json(guest_json(ws, guest, true)))
    })
}

/// Every field is optional; an empty body changes nothing.
async fn edit_guest(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (team_id, guest_id) = path.into_inner();
    let guest_id = parse_id(&guest_id)?;

    state.with(|ws| {
        authorise_enterprise(ws, &team_id)?;

        let body = Body::parse(&bytes)?;
        let updates = permission_updates(&body)?;
        let custom_role = checked_custom_role(body.optional_integer("custom_role_id")?)?;

        active_guest(ws, guest_id)?;
        if let Some(guest) = ws.directory.get_mut(guest_id) {
            apply_permissions(&updates, &mut guest.permissions);
            guest.custom_role = custom_role.or(guest.custom_role);
        }

        let guest = active_guest(ws, guest_id)?;
        Ok(HttpResponse::Ok().json(guest_json(ws, guest, true)))
    })
}

async fn remove_guest(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (team_id, guest_id) = path.into_inner();
    let guest_id = parse_id(&guest_id)?;

    state.with(|ws| {
        authorise_enterprise(ws, &team_id)?;

        active_guest(ws, guest_id)?;
        if let Some(guest) = ws.directory.get_mut(guest_id) {
            guest.active = false;
        }
        ws.forget_user(guest_id);
        ws.log_api_change(|owner| Change::of_user("REMOVE_FROM_WORKSPACE", owner, guest_id));

        tracing::debug!(guest_id, "clickup sandbox removed a guest");
        Ok(HttpResponse::Ok().json(removal_json(ws)))
    })
}

#[cfg(test)]
mod tests;
