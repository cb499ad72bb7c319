//! ClickUp's v3 workspace audit log (`POST /v3/workspaces/{id}/auditlogs`, Enterprise plan,
//! workspace owner's token only): the one trail of membership, guest, role, user-group and
//! sharing changes, which send no webhook.
//!
//! ClickUp documents the request but not the answer, so records are read tolerantly: a
//! `data` array of objects, unknown fields ignored, ids as strings or numbers, times in ms
//! (the sandbox's shape is documented in `sandbox::audit_log`).

use reqwest::Method;
use serde_json::{json, Value};

use super::{ClickUpClient, ClickUpError};

/// The event types the router records: membership, guests, roles, user groups, sharing.
pub const ACCESS_EVENT_TYPES: &[&str] = &[
    "INVITE_TO_WORKSPACE",
    "JOIN_WORKSPACE",
    "LEAVE_WORKSPACE",
    "REMOVE_FROM_WORKSPACE",
    "ROLE_CHANGE",
    "CHANGE_USER_ROLE",
    "TEAM_MEMBER_ADDED",
    "TEAM_MEMBER_REMOVED",
    "SCIM_PROVISION",
    "SCIM_DEPROVISION",
    "SCIM_UPDATE",
    "SHARE_CHANGED",
];

/// The log families those types are kept under.
pub const APPLICABILITIES: &[&str] = &["auth-and-security", "hierarchy-activity"];

/// One record as the router reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLogRecord {
    pub id: String,
    pub event_type: String,
    /// When ClickUp made the change (ms).
    pub at: i64,
    pub status: Option<String>,
    /// The ClickUp user who made the change.
    pub actor_id: Option<String>,
    /// The ClickUp user the change concerns, by id and email.
    pub target_id: Option<String>,
    pub target_email: Option<String>,
    /// The role code (1 owner, 2 admin, 3 member, 4 guest) given, when the change gives one.
    pub role: Option<u8>,
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    /// `list:<id>`, `folder:<id>`, `space:<id>` for a share.
    pub object: Option<String>,
    /// The share's level (`read`, `comment`, `edit`, `create`), `None` for a removal.
    pub level: Option<String>,
}

/// One page of records from `after_ms` on (inclusive), oldest first.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest<'a> {
    pub applicability: &'a str,
    pub after_ms: i64,
    pub rows: u32,
}

impl ClickUpClient {
    /// One page of the workspace's access changes; records without an id or a time are
    /// skipped (nothing could keep them from being recorded twice).
    pub async fn audit_log_page(
        &self,
        team_id: u64,
        page: PageRequest<'_>,
    ) -> Result<Vec<AuditLogRecord>, ClickUpError> {
        let body = json!({
            "applicability": page.applicability,
            "filter": {
                "workspaceId": team_id.to_string(),
                "eventType": ACCESS_EVENT_TYPES,
                "startTime": page.after_ms,
            },
            "pagination": {
                "pageRows": page.rows,
                "pageTimestamp": page.after_ms,
                "pageDirection": "after",
            },
        });
        let answer: Value = self
            .call(
                Method::POST,
                &format!("/v3/workspaces/{team_id}/auditlogs"),
                Some(&body),
            )
            .await?;
        let rows = answer["data"].as_array().ok_or_else(|| {
            ClickUpError::Contract("the audit log answer has no data array".into())
        })?;
        Ok(rows.iter().filter_map(read_record).collect())
    }
}

/// Reads one record; `None` without an id, a type or a time.
pub fn read_record(row: &Value) -> Option<AuditLogRecord> {
    let text = |v: &Value| id_text(v);
    Some(AuditLogRecord {
        id: text(&row["id"])?,
        event_type: row["eventType"].as_str()?.to_owned(),
        at: row["timestamp"]
            .as_i64()
            .or_else(|| row["timestamp"].as_str().and_then(|t| t.parse().ok()))?,
        status: row["eventStatus"].as_str().map(str::to_owned),
        actor_id: text(&row["actor"]["id"]),
        target_id: text(&row["target"]["id"]),
        target_email: row["target"]["email"].as_str().map(str::to_owned),
        role: row["target"]["role"]
            .as_u64()
            .or_else(|| row["target"]["role"].as_str().and_then(|r| r.parse().ok()))
            .and_then(|r| u8::try_from(r).ok()),
        group_id: text(&row["group"]["id"]),
        group_name: row["group"]["name"].as_str().map(str::to_owned),
        object: match (row["object"]["type"].as_str(), text(&row["object"]["id"])) {
            (Some(kind), Some(id)) => Some(format!("{kind}:{id}")),
            _ => None,
        },
        level: row["object"]["permissionLevel"].as_str().map(str::to_owned),
    })
}

/// An id as text, from a JSON string or integer (never a float).
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_tolerantly() {
        let cases = [
            (
                json!({"id": "r1", "eventType": "INVITE_TO_WORKSPACE", "timestamp": 1700000000000_i64,
                       "actor": {"id": 184}, "target": {"id": "185", "email": "a@example.com", "role": 3},
                       "somethingNew": {"x": 1}}),
                Some(("r1", Some("184"), Some("185"), Some(3), None)),
            ),
            (
                json!({"id": 77, "eventType": "SHARE_CHANGED", "timestamp": "1700000000001",
                       "actor": {"id": "9"}, "target": {"id": 12, "role": "4"},
                       "object": {"type": "list", "id": 901, "permissionLevel": "edit"}}),
                Some(("77", Some("9"), Some("12"), Some(4), Some("list:901"))),
            ),
            (json!({"eventType": "JOIN_WORKSPACE", "timestamp": 1}), None),
            (json!({"id": "r2", "eventType": "JOIN_WORKSPACE"}), None),
            (
                json!({"id": 1.5, "eventType": "JOIN_WORKSPACE", "timestamp": 1}),
                None,
            ),
        ];
        for (row, expected) in cases {
            let got = read_record(&row).map(|r| (r.id, r.actor_id, r.target_id, r.role, r.object));
            let expected = expected.map(|(id, actor, target, role, object)| {
                (
                    id.to_owned(),
                    actor.map(str::to_owned),
                    target.map(str::to_owned),
                    role,
                    object.map(str::to_owned),
                )
            });
            assert_eq!(got, expected, "{row}");
        }
    }
}
