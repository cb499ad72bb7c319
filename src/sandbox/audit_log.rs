//! ClickUp's v3 workspace audit log: every membership, guest, role, user-group and sharing
//! change made through the API (by the token's owner) or by hand ([`super::Actor`]), with
//! the acting user and the time, served by `POST /v3/workspaces/{id}/auditlogs`.
//!
//! ClickUp documents the request (filter, applicability, pagination) but not the answer.
//! The answer here is the stand-in's choice:
//! `{"data": [{"id", "workspaceId", "eventType", "eventStatus", "applicability", "timestamp",
//! "actor": {"id", "email"}, "target": {"id", "email", "role"}, "group": {"id", "name"},
//! "object": {"type", "id", "permissionLevel"}}], "pagination": {"pageRows", "pageTimestamp",
//! "pageDirection", "hasMore"}}`, ids as strings, times in ms; `target`, `group` and `object`
//! appear when the change has them. `pageTimestamp` is inclusive: `after` answers records at
//! or after it, oldest first; `before` records at or before it, newest first. Sharing changes
//! use the type `SHARE_CHANGED` under `hierarchy-activity` (ClickUp's enum names none); the
//! others are under `auth-and-security`.
//!
//! Only the workspace owner's tokens may read it (401 `TEAM_025` otherwise, the sandbox's
//! code), and only on the Enterprise plan (the sandbox's usual 403 `PLAN_001`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{
    access::{Level, ObjectKind},
    errors::ApiError,
    routes::{authorise_enterprise, resource},
    state::{now_ms, SandboxState, Workspace},
};

mod hand;
mod query;

use query::Query;

/// A change to record, as the handler that made it knows it.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    pub event_type: &'static str,
    /// The ClickUp user who made the change.
    pub actor: u64,
    /// The user the change concerns.
    pub target: Option<u64>,
    /// The user group (id) the change concerns.
    pub group: Option<String>,
    /// The shared object and the level given (`None`: access removed).
    pub object: Option<(ObjectKind, String, Option<Level>)>,
}

/// One recorded change, with what it concerned as it was then.
#[derive(Clone, Debug)]
pub(crate) struct LogEntry {
    id: u64,
    at: u64,
    event_type: &'static str,
    actor: (u64, String),
    target: Option<(u64, String, u8)>,
    group: Option<(String, String)>,
    object: Option<(ObjectKind, String, Option<Level>)>,
}

impl LogEntry {
    fn applicability(&self) -> &'static str {
        match self.event_type {
            "SHARE_CHANGED" => "hierarchy-activity",
            _ => "auth-and-security",
        }
    }

    fn user_ids(&self) -> impl Iterator<Item = u64> + '_ {
        std::iter::once(self.actor.0).chain(self.target.as_ref().map(|t| t.0))
    }

    fn emails(&self) -> impl Iterator<Item = &str> + '_ {
        std::iter::once(self.actor.1.as_str()).chain(self.target.as_ref().map(|t| t.1.as_str()))
    }

    fn to_json(&self, team_id: u64) -> Value {
        let mut entry = json!({
            "id": self.id.to_string(),
            "workspaceId": team_id.to_string(),
            "eventType": self.event_type,
            "eventStatus": "success",
            "applicability": self.applicability(),
            "timestamp": self.at,
            "actor": { "id": self.actor.0.to_string(), "email": self.actor.1 },
        });
        if let Some((id, email, role)) = &self.target {
            entry["target"] = json!({ "id": id.to_string(), "email": email, "role": role });
        }
        if let Some((id, name)) = &self.group {
            entry["group"] = json!({ "id": id, "name": name });
        }
        if let Some((kind, id, level)) = &self.object {
            entry["object"] = json!({
                "type": kind.as_str(),
                "id": id,
                "permissionLevel": level.map(Level::v2_name),
            });
        }
        entry
    }
}

/// The workspace's audit log, oldest first.
#[derive(Debug, Default)]
pub(crate) struct AuditLog {
    entries: Vec<LogEntry>,
}

impl Change {
    /// A change concerning one user.
    pub fn of_user(event_type: &'static str, actor: u64, target: u64) -> Change {
        Change {
            event_type,
            actor,
            target: Some(target),
            group: None,
            object: None,
        }
    }
}

impl Workspace {
    /// Records a change made through the API, whose tokens are the owner's.
    pub fn log_api_change(&mut self, change: impl FnOnce(u64) -> Change) {
        let change = change(self.owner_id);
        self.log_change(change);
    }

    /// Records a change; the users and group are described as they are now.
    pub fn log_change(&mut self, change: Change) {
        let user = |id: u64| {
            self.directory
                .get(id)
                .map(|u| (u.id, u.email.clone(), u.role.id()))
        };
        let actor = user(change.actor).map_or((change.actor, String::new()), |u| (u.0, u.1));
        let target = change.target.and_then(user);
        let group = change.group.map(|id| {
            let name = self.groups.get(&id).map(|g| g.name.clone());
            (id, name.unwrap_or_default())
        });
        let entry = LogEntry {
            id: self.audit_log.entries.len() as u64 + 1,
            at: now_ms(),
            event_type: change.event_type,
            actor,
            target,
            group,
            object: change.object,
        };
        self.audit_log.entries.push(entry);
    }
}

impl SandboxState {
    /// The event types recorded so far, oldest first (for tests).
    pub fn audit_log_types(&self) -> Vec<String> {
        self.with(|ws| {
            ws.audit_log
                .entries
                .iter()
                .map(|e| e.event_type.to_owned())
                .collect()
        })
    }

    /// The event type and target user id of every entry, oldest first (for tests that count
    /// invites and removals per person).
    pub fn audit_log_targets(&self) -> Vec<(String, Option<u64>)> {
        self.with(|ws| {
            ws.audit_log
                .entries
                .iter()
                .map(|e| (e.event_type.to_owned(), e.target.as_ref().map(|t| t.0)))
                .collect()
        })
    }
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v3/workspaces/{workspace_id}/auditlogs").route(web::post().to(query_log)),
    );
}

async fn query_log(
    state: web::Data<SandboxState>,
    workspace_id: web::Path<String>,
    request: HttpRequest,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let token = super::gate::presented_token(request.headers())?;

    state.with(|ws| {
        authorise_enterprise(ws, &workspace_id)?;
        if !ws.is_owner_token(&token) {
            return Err(ApiError::owner_only());
        }

        let query = Query::parse(&bytes)?;
        let mut matching: Vec<&LogEntry> = ws
            .audit_log
            .entries
            .iter()
            .filter(|entry| query.matches(entry))
            .collect();
        if query.newest_first() {
            matching.reverse();
        }
        let has_more = matching.len() > query.rows;
        let page: Vec<Value> = matching
            .iter()
            .take(query.rows)
            .map(|entry| entry.to_json(ws.team_id))
            .collect();
        let last = page.last().and_then(|e| e["timestamp"].as_u64());

        Ok(HttpResponse::Ok().json(json!({
            "data": page,
            "pagination": {
                "pageRows": query.rows,
                "pageTimestamp": last,
                "pageDirection": query.direction(),
                "hasMore": has_more,
            }
        })))
    })
}

#[cfg(test)]
mod tests;
