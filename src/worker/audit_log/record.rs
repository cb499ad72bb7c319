//! No IO: the audit-log cursor, whether a change is entitled by the IAM, and the audit row a
//! ClickUp audit-log record becomes.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    clickup::audit_log::AuditLogRecord,
    store::{AuditEntry, Grant, GrantKind},
};

/// How far the poller has read one log family: the latest time recorded and the ids
/// already recorded at that time (ClickUp pages by time, so records sharing the boundary
/// time come again on the next page).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub at: i64,
    pub seen: Vec<String>,
}

impl Cursor {
    pub fn starting_at(at: i64) -> Cursor {
        Cursor {
            at,
            seen: Vec::new(),
        }
    }

    /// Whether the record is new; if so the cursor moves past it.
    pub fn admit(&mut self, record: &AuditLogRecord) -> bool {
        if record.at > self.at {
            self.at = record.at;
            self.seen = vec![record.id.clone()];
            return true;
        }
        if record.at == self.at && !self.seen.contains(&record.id) {
            self.seen.push(record.id.clone());
            return true;
        }
        false
    }

    /// Gives up on the rest of the current millisecond: only later records are new.
    pub fn pass_millisecond(&mut self) {
        self.at += 1;
        self.seen.clear();
    }

    /// Whether the record would be new, without moving.
    pub fn is_new(&self, record: &AuditLogRecord) -> bool {
        self.clone().admit(record)
    }
}

/// Who a record concerns, as the store knows them.
#[derive(Clone, Debug)]
pub struct Concerned<'a> {
    pub iam_id: &'a str,
    pub status: &'a str,
    pub grants: &'a [Grant],
}

/// Why a change made by someone other than the router is not entitled by the IAM, if it
/// gives access; `None` when it is entitled or gives nothing.
pub fn unentitled(record: &AuditLogRecord, person: Option<&Concerned<'_>>) -> Option<String> {
    let gives = match record.event_type.as_str() {
        "INVITE_TO_WORKSPACE"
        | "JOIN_WORKSPACE"
        | "SCIM_PROVISION"
        | "CHANGE_USER_ROLE"
        | "ROLE_CHANGE"
        | "TEAM_MEMBER_ADDED" => true,
        "SHARE_CHANGED" => record.level.is_some(),
        _ => false,
    };
    if !gives {
        return None;
    }
    let Some(person) = person else {
        return Some("no IAM identity has this ClickUp account or email".into());
    };
    if person.status != "active" {
        return Some(format!("the IAM identity is {}", person.status));
    }

    let open = |kind: GrantKind| person.grants.iter().filter(move |g| g.kind == kind);
    match record.event_type.as_str() {
        "TEAM_MEMBER_ADDED" => {
            let group = [&record.group_name, &record.group_id];
            let entitled = open(GrantKind::Group).any(|g| {
                group
                    .iter()
                    .any(|name| name.as_deref() == Some(g.object.as_str()))
            });
            (!entitled).then(|| "the IAM entitles no membership of this user group".into())
        }
        "SHARE_CHANGED" => {
            let given = record.level.as_deref().map(level_rank).unwrap_or(0);
            let entitled = open(GrantKind::Share)
                .filter(|g| Some(g.object.as_str()) == record.object.as_deref())
                .map(|g| level_rank(&g.level))
                .max();
            match entitled {
                None => Some("the IAM entitles no access to this object".into()),
                Some(rank) if rank < given => Some(format!(
                    "the IAM entitles a lower level than {}",
                    record.level.as_deref().unwrap_or("this")
                )),
                Some(_) => None,
            }
        }
        _ => {
            let Some(role) = open(GrantKind::Role).next() else {
                return Some("the IAM entitles no workspace membership".into());
            };
            match record.role.map(role_name) {
                Some(given) if given != role.level => Some(format!(
                    "the IAM entitles the {} role, not {given}",
                    role.level
                )),
                _ => None,
            }
        }
    }
}

/// What the poller knows about a record when it writes its row.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    pub team_id: u64,
    /// The IAM identity the record concerns.
    pub iam_id: Option<&'a str>,
    /// Whether the router's own account made the change.
    pub by_router: bool,
    pub correlation_id: String,
    /// Why the change is flagged.
    pub flagged: Option<String>,
}

/// The audit row of one record: ids, never emails.
pub fn entry(record: &AuditLogRecord, context: &Context<'_>) -> AuditEntry {
    let object = match (&record.object, &record.group_name, &record.target_id) {
        (Some(object), _, _) => Some(object.clone()),
        (None, Some(group), _) => Some(format!("group:{group}")),
        (None, None, Some(user)) => Some(format!("clickup:team:{}:user:{user}", context.team_id)),
        _ => None,
    };
    let mut detail = json!({
        "event_type": record.event_type,
        "record_id": record.id,
        "at": record.at,
        "clickup_actor_id": record.actor_id,
        "clickup_user_id": record.target_id,
        "by_router": context.by_router,
    });
    let optional = [
        ("event_status", record.status.clone()),
        ("role", record.role.map(|r| role_name(r).to_owned())),
        ("group_id", record.group_id.clone()),
        ("level", record.level.clone()),
        ("reason", context.flagged.clone()),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            detail[name] = json!(value);
        }
    }

    AuditEntry {
        actor: format!(
            "clickup-user:{}",
            record.actor_id.as_deref().unwrap_or("unknown")
        ),
        action: "clickup.audit_log".into(),
        subject: context.iam_id.map(|id| format!("user:{id}")),
        object,
        outcome: if context.flagged.is_some() {
            "flagged"
        } else {
            "recorded"
        }
        .into(),
        correlation_id: context.correlation_id.clone(),
        event_id: format!("clickup-audit:{}", record.id),
        detail,
    }
}

/// ClickUp's role codes as the router's grants name them.
fn role_name(code: u8) -> &'static str {
    match code {
        1 => "owner",
        2 => "admin",
        4 => "guest",
        _ => "member",
    }
}

fn level_rank(level: &str) -> u8 {
    match level {
        "read" => 1,
        "comment" => 2,
        "edit" => 3,
        "create" => 4,
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
