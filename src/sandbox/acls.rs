//! The v3 ACL endpoint, `PATCH /v3/workspaces/{workspace_id}/{object_type}/{object_id}/acls`:
//! sets the privacy of a Space, Folder, List or task and adds, changes or removes the levels
//! of users and user groups on it, answering 200 with `{}`.
//!
//! Levels are v3 numbers (1 read, 3 comment, 4 edit, 5 create, `null` removes) and ids are
//! strings for users and groups alike. A user entry may name a member or a guest, at any
//! level and on any object type: the contract limits neither, and it sends guests here for
//! Spaces (there is no v2 guest endpoint for a Space). Every entry is checked before any is applied, so a
//! refused request changes nothing. ClickUp documents neither a plan gate nor any error
//! answer for this endpoint: the errors here are the sandbox's, in the v2 error shape.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::{
    access::{Level, ObjectKind, Principal, Via},
    audit_log::Change,
    body::Body,
    errors::ApiError,
    routes::{authorise_team, parse_id, resource},
    state::{SandboxState, Workspace},
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v3/workspaces/{workspace_id}/{object_type}/{object_id}/acls")
            .route(web::patch().to(patch_acl)),
    );
}

/// One checked entry: whom it is for, and the level to set (`None` removes).
#[derive(Debug)]
struct Entry {
    principal: Principal,
    level: Option<Level>,
}

fn entry_str<'a>(
    fields: &'a serde_json::Map<String, Value>,
    label: &str,
    key: &str,
) -> Result<&'a str, ApiError> {
    let name = format!("{label}.{key}");
    match fields.get(key) {
        None | Some(Value::Null) => Err(ApiError::missing_field(&name)),
        Some(value) => value
            .as_str()
            .ok_or_else(|| ApiError::wrong_type(&name, "a string")),
    }
}

/// `permission_level` must be present: `null` removes, so the sandbox refuses an entry
/// that leaves it out rather than guess (the spec does not list it as required).
fn entry_level(
    fields: &serde_json::Map<String, Value>,
    label: &str,
) -> Result<Option<Level>, ApiError> {
    let name = format!("{label}.permission_level");
    let value = fields
        .get("permission_level")
        .ok_or_else(|| ApiError::missing_field(&name))?;
    if value.is_null() {
        return Ok(None);
    }

    let number = value
        .as_u64()
        .ok_or_else(|| ApiError::wrong_type(&name, "1, 3, 4, 5 or null"))?;
    Level::from_v3(number)
        .map(Some)
        .ok_or_else(|| ApiError::invalid_value(format!("{name} must be 1, 3, 4, 5 or null")))
}

/// Whom an entry names: an active member or guest, or an existing group.
fn entry_principal(
    ws: &Workspace,
    kind: &str,
    id: &str,
    label: &str,
) -> Result<Principal, ApiError> {
    match kind {
        "user" => {
            let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
            if !digits {
                return Err(ApiError::invalid_value(format!(
                    "{label}.id must be a user id such as \"184\""
                )));
            }
            let user = id
                .parse()
                .ok()
                .and_then(|id| ws.directory.get(id))
                .filter(|user| user.active)
                .ok_or_else(ApiError::user_not_found)?;
            Ok(Principal::User(user.id))
        }
        "group" => {
            let group = ws.groups.get(id).ok_or_else(ApiError::group_not_found)?;
            Ok(Principal::Group(group.id.clone()))
        }
        _ => Err(ApiError::invalid_value(format!(
            "{label}.kind must be user or group"
        ))),
    }
}

fn parse_entry(ws: &Workspace, index: usize, value: &Value) -> Result<Entry, ApiError> {
    let label = format!("entries[{index}]");
    let fields = value
        .as_object()
        .ok_or_else(|| ApiError::wrong_type(&label, "an object"))?;

    let kind = entry_str(fields, &label, "kind")?;
    let id = entry_str(fields, &label, "id")?;
    let level = entry_level(fields, &label)?;
    let principal = entry_principal(ws, kind, id, &label)?;
    Ok(Entry { principal, level })
}

async fn patch_acl(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String, String)>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (workspace_id, object_type, object_id) = path.into_inner();

    state.with(|ws| {
        authorise_team(ws, &workspace_id)?;
        let kind = ObjectKind::parse(&object_type)
            .ok_or_else(|| ApiError::object_type_unsupported(&object_type))?;
        if kind != ObjectKind::Task {
            parse_id(&object_id)?;
        }

        let body = Body::parse(&bytes)?;
        let private = body.optional_bool("private")?;
        let raw_entries = body.optional_array("entries")?.unwrap_or_default();
        if !ws.hierarchy.contains(kind, &object_id) {
            return Err(ApiError::object_not_found(kind));
        }
        let entries = raw_entries
            .iter()
            .enumerate()
            .map(|(index, value)| parse_entry(ws, index, value))
            .collect::<Result<Vec<_>, _>>()?;

        if let Some(private) = private {
            ws.access.set_private(kind, &object_id, private);
        }
        for Entry { principal, level } in entries {
            ws.log_api_change(|owner| Change {
                event_type: "SHARE_CHANGED",
                actor: owner,
                target: match &principal {
                    Principal::User(id) => Some(*id),
                    Principal::Group(_) => None,
                },
                group: match &principal {
                    Principal::Group(id) => Some(id.clone()),
                    Principal::User(_) => None,
                },
                object: Some((kind, object_id.clone(), level)),
            });
            match level {
                Some(level) => ws
                    .access
                    .grant(kind, &object_id, principal, level, Via::Acl),
                None => ws.access.revoke(kind, &object_id, &principal),
            }
        }
        tracing::debug!(kind = kind.as_str(), %object_id, "clickup sandbox patched an ACL");
        Ok(HttpResponse::Ok().json(json!({})))
    })
}

#[cfg(test)]
mod tests;
