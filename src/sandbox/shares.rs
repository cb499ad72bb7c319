//! The Enterprise-only guest shares, `POST|DELETE` on `/v2/task/{task_id}/guest/{guest_id}`,
//! `/v2/list/{list_id}/guest/{guest_id}` and `/v2/folder/{folder_id}/guest/{guest_id}`, and
//! the `shared` object that guest and member answers carry.
//!
//! Checks run in the member endpoints' order: integer path ids (task ids are strings), the
//! Enterprise plan, the body, the object, then the guest. A share is a grant with
//! `via = guest` in the same table the v3 ACL endpoint writes; removing one that does not
//! exist still answers 200.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{
    access::{Level, ObjectKind, Principal, Via},
    audit_log::Change,
    body::Body,
    errors::ApiError,
    guests::{active_guest, guest_json},
    hierarchy::{shared_folder_json, shared_list_json, shared_task_json},
    routes::{parse_id, require_enterprise, resource},
    state::{SandboxState, Workspace},
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v2/task/{task_id}/guest/{guest_id}")
            .route(web::post().to(share_task))
            .route(web::delete().to(unshare_task)),
    )
    .service(
        resource("/v2/list/{list_id}/guest/{guest_id}")
            .route(web::post().to(share_list))
            .route(web::delete().to(unshare_list)),
    )
    .service(
        resource("/v2/folder/{folder_id}/guest/{guest_id}")
            .route(web::post().to(share_folder))
            .route(web::delete().to(unshare_folder)),
    );
}

/// Whether `include_shared` asks for the shared items; ClickUp's default is `true`.
pub(crate) fn include_shared(request: &HttpRequest) -> bool {
    !url::form_urlencoded::parse(request.query_string().as_bytes())
        .any(|(key, value)| key == "include_shared" && value.eq_ignore_ascii_case("false"))
}

/// The `shared` object for a user: the tasks, Lists and Folders shared with them directly.
/// With `include` false the three arrays stay empty. Spaces have no v2 entry.
pub(crate) fn shared_json(ws: &Workspace, user_id: u64, include: bool) -> Value {
    let (mut tasks, mut lists, mut folders) = (Vec::new(), Vec::new(), Vec::new());
    if !include {
        return json!({ "tasks": tasks, "lists": lists, "folders": folders });
    }

    let principal = Principal::User(user_id);
    for grant in ws.access.grants_of(&principal) {
        let id = grant.object_id.as_str();
        match grant.kind {
            ObjectKind::Task => tasks.extend(shared_task_json(ws, id, grant.level)),
            ObjectKind::List => lists.extend(shared_list_json(&ws.hierarchy, id, grant.level)),
            ObjectKind::Folder => {
                folders.extend(shared_folder_json(&ws.hierarchy, id, grant.level))
            }
            ObjectKind::Space => {}
        }
    }
    json!({ "tasks": tasks, "lists": lists, "folders": folders })
}

fn requested_level(bytes: &[u8]) -> Result<Level, ApiError> {
    let body = Body::parse(bytes)?;
    let name = body.required_str("permission_level")?;

    Level::from_v2(name).ok_or_else(|| {
        ApiError::invalid_value("permission_level must be read, comment, edit or create")
    })
}

/// Shares the object with the guest at `bytes`' level, or with `bytes` absent revokes it.
fn change_share(
    state: &SandboxState,
    kind: ObjectKind,
    (object_id, guest_id): (String, String),
    request: &HttpRequest,
    bytes: Option<&[u8]>,
) -> Result<HttpResponse, ApiError> {
    if kind != ObjectKind::Task {
        parse_id(&object_id)?;
    }
    let guest_id = parse_id(&guest_id)?;

    state.with(|ws| {
        require_enterprise(ws)?;

        let level = bytes.map(requested_level).transpose()?;
        if !ws.hierarchy.contains(kind, &object_id) {
            return Err(ApiError::object_not_found(kind));
        }
        active_guest(ws, guest_id)?;

        let principal = Principal::User(guest_id);
        match level {
            Some(level) => ws
                .access
                .grant(kind, &object_id, principal, level, Via::Guest),
            None => ws.access.revoke(kind, &object_id, &principal),
        }
        ws.log_api_change(|owner| Change {
            object: Some((kind, object_id.clone(), level)),
            ..Change::of_user("SHARE_CHANGED", owner, guest_id)
        });
        let kind_name = kind.as_str();
        tracing::debug!(guest_id, kind_name, %object_id, ?level, "clickup sandbox shared");

        let guest = active_guest(ws, guest_id)?;
        Ok(HttpResponse::Ok().json(guest_json(ws, guest, include_shared(request))))
    })
}

async fn share_task(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    change_share(
        &state,
        ObjectKind::Task,
        path.into_inner(),
        &request,
        Some(&bytes),
    )
}

async fn unshare_task(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    change_share(&state, ObjectKind::Task, path.into_inner(), &request, None)
}

async fn share_list(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    change_share(
        &state,
        ObjectKind::List,
        path.into_inner(),
        &request,
        Some(&bytes),
    )
}

async fn unshare_list(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    change_share(&state, ObjectKind::List, path.into_inner(), &request, None)
}

async fn share_folder(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    change_share(
        &state,
        ObjectKind::Folder,
        path.into_inner(),
        &request,
        Some(&bytes),
    )
}

async fn unshare_folder(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    change_share(
        &state,
        ObjectKind::Folder,
        path.into_inner(),
        &request,
        None,
    )
}

#[cfg(test)]
mod tests;
