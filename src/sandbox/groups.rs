//! User groups ("Teams" in ClickUp's UI), on every plan: `POST /v2/team/{team_id}/group`,
//! `PUT|DELETE /v2/group/{group_id}` and `GET /v2/group?team_id=…&group_ids=…`.
//!
//! Invariants: group ids are UUID strings; members are active users (members or guests)
//! listed once each, in the order they joined; a PUT changes members only through the
//! `{add, rem}` diff, never a flat array.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{
    access::Principal,
    audit_log::Change,
    body::Body,
    errors::ApiError,
    routes::{authorise_team, resource},
    state::{now_ms, SandboxState, Workspace},
};

/// A user group as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxGroup {
    pub id: String,
    pub name: String,
    pub handle: String,
    pub members: Vec<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct GroupRecord {
    pub id: String,
    pub name: String,
    pub handle: String,
    pub creator: u64,
    pub date_created: u64,
    pub members: Vec<u64>,
}

impl GroupRecord {
    pub fn to_public(&self) -> SandboxGroup {
        SandboxGroup {
            id: self.id.clone(),
            name: self.name.clone(),
            handle: self.handle.clone(),
            members: self.members.clone(),
        }
    }

    pub(crate) fn add_members(&mut self, ids: &[u64]) {
        for &id in ids {
            if !self.members.contains(&id) {
                self.members.push(id);
            }
        }
    }
}

/// Every user group in the workspace, in the order they were created.
#[derive(Debug, Default)]
pub(crate) struct UserGroups {
    groups: Vec<GroupRecord>,
}

impl UserGroups {
    /// Adds a group; the handle defaults to the name's letters and digits, lower-cased
    /// (`"VPN users"` → `"vpnusers"`), as in ClickUp's examples.
    pub fn create(
        &mut self,
        name: &str,
        handle: Option<&str>,
        members: &[u64],
        creator: u64,
    ) -> String {
        let mut group = GroupRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            handle: handle.map_or_else(|| default_handle(name), str::to_owned),
            creator,
            date_created: now_ms(),
            members: Vec::new(),
        };
        group.add_members(members);

        let id = group.id.clone();
        self.groups.push(group);
        id
    }

    /// The group with this id (UUIDs compare case-insensitively).
    pub fn get(&self, id: &str) -> Option<&GroupRecord> {
        self.groups
            .iter()
            .find(|group| group.id.eq_ignore_ascii_case(id))
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut GroupRecord> {
        self.groups
            .iter_mut()
            .find(|group| group.id.eq_ignore_ascii_case(id))
    }

    /// The group with this id, else the first with this name.
    pub fn find(&self, name_or_id: &str) -> Option<&GroupRecord> {
        self.get(name_or_id)
            .or_else(|| self.groups.iter().find(|group| group.name == name_or_id))
    }

    pub fn iter(&self) -> impl Iterator<Item = &GroupRecord> {
        self.groups.iter()
    }

    fn remove(&mut self, id: &str) {
        self.groups
            .retain(|group| !group.id.eq_ignore_ascii_case(id));
    }

    /// Takes a departing user out of every group.
    pub fn drop_member(&mut self, user_id: u64) {
        for group in &mut self.groups {
            group.members.retain(|&member| member != user_id);
        }
    }
}

fn default_handle(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// First letters of the first two words, as ClickUp shows a group without an avatar.
fn initials(name: &str) -> String {
    let initials: String = name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .collect();
    initials.to_uppercase()
}

/// The group object of every group endpoint.
fn group_json(ws: &Workspace, group: &GroupRecord) -> Value {
    let members: Vec<Value> = group
        .members
        .iter()
        .filter_map(|&id| ws.directory.get(id).filter(|user| user.active))
        .map(|user| user.group_member_json())
        .collect();

    json!({
        "id": group.id,
        "team_id": ws.team_id.to_string(),
        "userid": group.creator,
        "name": group.name,
        "handle": group.handle,
        "date_created": group.date_created.to_string(),
        "initials": initials(&group.name),
        "members": members,
        "avatar": { "attachment_id": null, "color": null, "source": null, "icon": null }
    })
}

/// Refuses ids that name no active member or guest, listing them all.
fn ensure_active_users(ws: &Workspace, ids: &[u64]) -> Result<(), ApiError> {
    let unknown: Vec<u64> = ids
        .iter()
        .copied()
        .filter(|&id| ws.directory.get(id).is_none_or(|user| !user.active))
        .collect();

    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::users_not_in_workspace(&unknown))
    }
}

fn checked_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_value("name must not be empty"));
    }
    Ok(name)
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v2/team/{team_id}/group").route(web::post().to(create_group)))
        .service(resource("/v2/group").route(web::get().to(get_groups)))
        .service(
            resource("/v2/group/{group_id}")
                .route(web::put().to(update_group))
                .route(web::delete().to(delete_group)),
        );
}

async fn create_group(
    state: web::Data<SandboxState>,
    team_id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        authorise_team(ws, &team_id)?;

        let body = Body::parse(&bytes)?;
        let name = checked_name(body.required_str("name")?)?;
        let handle = body.optional_str("handle")?;
        let members = body.required_integer_list("members")?;
        ensure_active_users(ws, &members)?;

        let creator = ws.owner_id;
        let id = ws.groups.create(name, handle, &members, creator);
        for &member in &members {
            ws.log_api_change(|owner| Change {
                group: Some(id.clone()),
                ..Change::of_user("TEAM_MEMBER_ADDED", owner, member)
            });
        }
        let group = ws.groups.get(&id).ok_or_else(ApiError::group_not_found)?;
        Ok(HttpResponse::Ok().json(group_json(ws, group)))
    })
}

/// `members.rem` may name users who are not in the group; `add` must name active users.
async fn update_group(
    state: web::Data<SandboxState>,
    group_id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        let body = Body::parse(&bytes)?;
        let name = body.optional_str("name")?.map(checked_name).transpose()?;
        let handle = body.optional_str("handle")?;
        let diff = body.optional_diff("members")?.unwrap_or_default();

        ws.groups
            .get(&group_id)
            .ok_or_else(ApiError::group_not_found)?;
        ensure_active_users(ws, &diff.add)?;

        let group = ws
            .groups
            .get_mut(&group_id)
            .ok_or_else(ApiError::group_not_found)?;
        if let Some(name) = name {
            group.name = name.to_owned();
        }
        if let Some(handle) = handle {
            group.handle = handle.to_owned();
        }
        let added: Vec<u64> = diff
            .add
            .iter()
            .copied()
            .filter(|id| !group.members.contains(id))
            .collect();
        let removed: Vec<u64> = diff
            .rem
            .iter()
            .copied()
            .filter(|id| group.members.contains(id))
            .collect();
        group.add_members(&diff.add);
        group.members.retain(|member| !diff.rem.contains(member));
        let changes = added
            .into_iter()
            .map(|id| ("TEAM_MEMBER_ADDED", id))
            .chain(removed.into_iter().map(|id| ("TEAM_MEMBER_REMOVED", id)));
        for (event_type, member) in changes {
            ws.log_api_change(|owner| Change {
                group: Some(group_id.to_string()),
                ..Change::of_user(event_type, owner, member)
            });
        }

        let group = ws
            .groups
            .get(&group_id)
            .ok_or_else(ApiError::group_not_found)?;
        Ok(HttpResponse::Ok().json(group_json(ws, group)))
    })
}

/// Deleting a group also drops the grants it held.
async fn delete_group(
    state: web::Data<SandboxState>,
    group_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.with(|ws| {
        let id = ws
            .groups
            .get(&group_id)
            .map(|group| group.id.clone())
            .ok_or_else(ApiError::group_not_found)?;

        ws.groups.remove(&id);
        ws.access.forget(&Principal::Group(id));
        Ok(HttpResponse::Ok().json(json!({})))
    })
}

/// `team_id` is a required query parameter; `group_ids` may repeat and filters the answer.
async fn get_groups(
    state: web::Data<SandboxState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut team_id = None;
    let mut wanted = Vec::new();
    for (key, value) in url::form_urlencoded::parse(request.query_string().as_bytes()) {
        match key.as_ref() {
            "team_id" => team_id = Some(value.into_owned()),
            "group_ids" => wanted.push(value.into_owned()),
            _ => {}
        }
    }
    let team_id = team_id.ok_or_else(|| ApiError::missing_field("team_id"))?;

    state.with(|ws| {
        authorise_team(ws, &team_id)?;

        let groups: Vec<Value> = ws
            .groups
            .iter()
            .filter(|group| {
                wanted.is_empty() || wanted.iter().any(|id| group.id.eq_ignore_ascii_case(id))
            })
            .map(|group| group_json(ws, group))
            .collect();
        Ok(HttpResponse::Ok().json(json!({ "groups": groups })))
    })
}

#[cfg(test)]
mod tests;
