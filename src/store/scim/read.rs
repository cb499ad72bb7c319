//! Reading SCIM resources back: a row with its meta, and a User's groups or a Group's
//! members from their own rows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};

use super::ScimRecord;
use crate::{
    scim::{resource::Meta, schema::ResourceType},
    store::StoreError,
};

pub(super) fn resource_type(name: &str) -> ResourceType {
    match name {
        "Group" => ResourceType::Group,
        _ => ResourceType::User,
    }
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The resources of `resource_type` (or the one `id`), with their groups or members.
pub(super) async fn load(
    connection: &mut AnyConnection,
    resource_type: ResourceType,
    id: Option<&str>,
) -> Result<Vec<ScimRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, body, version, created, last_modified FROM scim_resources
         WHERE resource_type = $1 AND ($2 IS NULL OR id = $2) ORDER BY created, id",
    )
    .bind(resource_type.name())
    .bind(id)
    .fetch_all(&mut *connection)
    .await?;

    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.get(0);
        let body: String = row.get(1);
        let mut resource: Value = serde_json::from_str(&body)
            .map_err(|e| StoreError::Unreadable(format!("SCIM resource {id}: {e}")))?;
        resource["id"] = json!(id);
        records.push(ScimRecord {
            resource_type,
            id,
            resource,
            meta: Meta {
                version: row.get(2),
                created: time(row.get(3)),
                last_modified: time(row.get(4)),
            },
        });
    }
    if records.is_empty() {
        return Ok(records);
    }

    let (attribute, mut linked) = match resource_type {
        ResourceType::User => ("groups", groups_of(connection, id).await?),
        ResourceType::Group => ("members", members_of(connection, id).await?),
    };
    for record in &mut records {
        if let Some(values) = linked.remove(&record.id) {
            record.resource[attribute] = Value::Array(values);
        }
    }
    Ok(records)
}

/// The `{value, display}` of the Groups each User (or the one `member`) is a direct member of.
async fn groups_of(
    connection: &mut AnyConnection,
    member: Option<&str>,
) -> Result<HashMap<String, Vec<Value>>, StoreError> {
    let rows = sqlx::query(
        "SELECT m.member_id, m.group_id, g.display_name FROM scim_group_members m
         JOIN scim_resources g ON g.id = m.group_id
         WHERE $1 IS NULL OR m.member_id = $1 ORDER BY g.created, g.id",
    )
    .bind(member)
    .fetch_all(connection)
    .await?;

    let mut groups: HashMap<String, Vec<Value>> = HashMap::new();
    for row in rows {
        let mut group = json!({ "value": row.get::<String, _>(1) });
        if let Some(display) = row.get::<Option<String>, _>(2) {
            group["display"] = json!(display);
        }
        groups.entry(row.get(0)).or_default().push(group);
    }
    Ok(groups)
}

/// The members of each Group (or the one `group`), in order.
async fn members_of(
    connection: &mut AnyConnection,
    group: Option<&str>,
) -> Result<HashMap<String, Vec<Value>>, StoreError> {
    let rows = sqlx::query(
        "SELECT group_id, member FROM scim_group_members
         WHERE $1 IS NULL OR group_id = $1 ORDER BY group_id, position",
    )
    .bind(group)
    .fetch_all(connection)
    .await?;

    let mut members: HashMap<String, Vec<Value>> = HashMap::new();
    for row in rows {
        let group_id: String = row.get(0);
        let member: String = row.get(1);
        let member = serde_json::from_str(&member).map_err(|e| {
            StoreError::Unreadable(format!("a member of SCIM group {group_id}: {e}"))
        })?;
        members.entry(group_id).or_default().push(member);
    }
    Ok(members)
}
