//! SCIM writes as identity events: each change of a User or Group becomes the v1 IAM events a
//! driver would have sent for it, validated by the same schema as `/webhooks/iam`.
//!
//! Created → joiner; `active` turned false → disable, turned true → enable; any other change
//! of what rules read → mover (or update); DELETE → leaver. A Group's member added or removed
//! → one membership event per member; a renamed Group re-announces its members under the new
//! name. The person's canonical id is the SCIM `id`, which the server assigns and never
//! changes; `externalId` travels in `ids` only.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::ingest::{
    envelope::Envelope,
    iam::{self, Framing, IamPayloadError, IamSchema},
};

mod profile;

pub use profile::{chosen_email, user_of};

/// Who wrote, and the write's own id.
pub struct Source<'a> {
    /// The name of the SCIM client's token (`SCIM_TOKENS`), not a secret.
    pub client: &'a str,
    /// Unique per write; every event of the write derives its id from it.
    pub request_id: &'a str,
    pub now: DateTime<Utc>,
}

/// One SCIM write, as the stored resources before and after it.
pub enum Change<'a> {
    UserCreated {
        new: &'a Value,
    },
    /// PUT and PATCH alike.
    UserReplaced {
        old: &'a Value,
        new: &'a Value,
    },
    UserDeleted {
        old: &'a Value,
    },
    GroupCreated {
        new: &'a Value,
    },
    GroupReplaced {
        old: &'a Value,
        new: &'a Value,
    },
    GroupDeleted {
        old: &'a Value,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// The resource cannot become a valid identity event (say, an e-mail address that is not
    /// one); the SCIM client is told which attribute, never its value.
    #[error("{attribute}: {detail}")]
    Invalid { attribute: String, detail: String },
    /// The router built an event its own schema refuses: a fault here, not the client's.
    #[error("the identity event could not be built: {0}")]
    Internal(String),
}

const TYPE_PREFIX: &str = "com.example.iam.";
const DATA_SCHEMA: &str = "https://schemas.example.com/iam/v1/iam-event.schema.json";

/// The events a change becomes, in the order they are to be published.
pub fn envelopes(
    schema: &IamSchema,
    change: &Change,
    source: &Source,
) -> Result<Vec<Envelope>, EventError> {
    let events = match change {
        Change::UserCreated { new } => vec![user_created(new)?],
        Change::UserReplaced { old, new } => user_replaced(old, new)?.into_iter().collect(),
        Change::UserDeleted { old } => vec![user_deleted(old)?],
        Change::GroupCreated { new } => membership(&Group::of(new), &[], &members(new)),
        Change::GroupReplaced { old, new } => group_replaced(old, new),
        Change::GroupDeleted { old } => membership(&Group::of(old), &members(old), &[])
            .into_iter()
            .collect(),
    };

    events
        .into_iter()
        .enumerate()
        .map(|(index, event)| seal(schema, event, source, index))
        .collect()
}

/// An event before its envelope: type suffix (`user.created`), lifecycle and the rest of data.
struct Draft {
    kind: &'static str,
    lifecycle: &'static str,
    user_id: String,
    data: Value,
}

fn user_created(new: &Value) -> Result<Draft, EventError> {
    let user = user_of(new)?;
    Ok(Draft {
        kind: "user.created",
        lifecycle: "joiner",
        user_id: user.id.clone(),
        data: json!({ "user": user.json, "snapshot": "full", "origin": origin("POST") }),
    })
}

fn user_replaced(old: &Value, new: &Value) -> Result<Option<Draft>, EventError> {
    let before = user_of(old)?;
    let after = user_of(new)?;
    let origin = origin("PUT/PATCH");

    let (kind, lifecycle) = match (before.active, after.active) {
        (true, false) => ("user.disabled", "disable"),
        (false, true) => ("user.enabled", "enable"),
        _ => {
            let changed = profile::changed(&before.json, &after.json);
            if changed.is_empty() {
                return Ok(None);
            }
            let lifecycle = if changed.iter().any(|c| profile::MOVER.contains(&c.as_str())) {
                "mover"
            } else {
                "update"
            };
            let changes: Vec<Value> = changed
                .iter()
                .map(|attribute| json!({ "attribute": attribute, "op": "set" }))
                .collect();
            return Ok(Some(Draft {
                kind: "user.updated",
                lifecycle,
                user_id: after.id.clone(),
                data: json!({
                    "user": after.json, "snapshot": "full",
                    "categories": profile::categories(&changed), "changes": changes,
                    "origin": origin,
                }),
            }));
        }
    };

    let changes = [json!({ "attribute": "status", "source_attribute": "active", "op": "set" })];
    Ok(Some(Draft {
        kind,
        lifecycle,
        user_id: after.id.clone(),
        data: json!({
            "user": after.json, "snapshot": "full", "categories": ["status"],
            "changes": changes, "origin": origin,
        }),
    }))
}

fn user_deleted(old: &Value) -> Result<Draft, EventError> {
    let user = user_of(old)?;
    let mut reference = user.json.clone();
    if let Some(fields) = reference.as_object_mut() {
        fields.remove("profile");
    }
    Ok(Draft {
        kind: "user.terminated",
        lifecycle: "leaver",
        user_id: user.id,
        data: json!({
            "user": reference, "snapshot": "none", "categories": ["status"],
            "origin": origin("DELETE"),
        }),
    })
}

/// A Group as the membership events name it.
struct Group {
    id: String,
    name: String,
}

impl Group {
    fn of(resource: &Value) -> Group {
        let id = text(resource, "id").unwrap_or_default();
        let name = text(resource, "displayName").unwrap_or_else(|| id.clone());
        Group { id, name }
    }
}

/// The user ids among a Group's members (nested Groups are not expanded).
fn members(resource: &Value) -> Vec<String> {
    let mut ids: Vec<String> = resource["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|member| {
            member["type"]
                .as_str()
                .is_none_or(|kind| kind.eq_ignore_ascii_case("user"))
        })
        .filter_map(|member| text(member, "value"))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn group_replaced(old: &Value, new: &Value) -> Vec<Draft> {
    let (before, after) = (Group::of(old), Group::of(new));
    let (was, is) = (members(old), members(new));
    if before.name != after.name {
        // Everyone still in the group is announced again under the new name; the id is the
        // same, so the newer announcement replaces the old one on each person.
        let gone: Vec<String> = was.iter().filter(|id| !is.contains(id)).cloned().collect();
        return membership(&after, &gone, &is);
    }
    let added: Vec<String> = is.iter().filter(|id| !was.contains(id)).cloned().collect();
    let removed: Vec<String> = was.iter().filter(|id| !is.contains(id)).cloned().collect();
    membership(&after, &removed, &added)
}

fn membership(group: &Group, removed: &[String], added: &[String]) -> Vec<Draft> {
    let reference = json!({ "id": group.id, "name": group.name, "kind": "group", "via": "direct" });
    let event = |kind, op, user_id: &String| Draft {
        kind,
        lifecycle: "update",
        user_id: user_id.clone(),
        data: json!({
            "user": { "id": user_id, "ids": { "scim_id": user_id } },
            "categories": ["group"],
            "group": reference,
            "changes": [{ "attribute": "groups", "source_attribute": "members", "op": op,
                          "new": [group.id] }],
            "origin": { "format": "scim", "operation": "PATCH", "object_class": "Group" },
        }),
    };
    removed
        .iter()
        .map(|id| event("membership.removed", "remove", id))
        .chain(added.iter().map(|id| event("membership.added", "add", id)))
        .collect()
}

fn origin(operation: &str) -> Value {
    json!({ "format": "scim", "operation": operation, "object_class": "User" })
}

/// The CloudEvent around a draft, passed through the IAM receiver's own validation.
fn seal(
    schema: &IamSchema,
    draft: Draft,
    source: &Source,
    index: usize,
) -> Result<Envelope, EventError> {
    let id = format!("{}:{index}", source.request_id);
    let subject = format!("user:{}", draft.user_id);
    let mut data = draft.data;
    data["lifecycle"] = json!(draft.lifecycle);
    let event = json!({
        "specversion": "1.0",
        "id": id,
        "source": format!("urn:scim:client:{}", source.client),
        "type": format!("{TYPE_PREFIX}{}.v1", draft.kind),
        "time": source.now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "subject": subject,
        "datacontenttype": "application/json",
        "dataschema": DATA_SCHEMA,
        "sourcekind": "scim",
        "sourceeventid": source.request_id,
        "partitionkey": subject,
        "correlationid": format!("scim:{}", source.request_id),
        "data": data,
    });

    let body = serde_json::to_vec(&event).map_err(|e| EventError::Internal(e.to_string()))?;
    let mut sealed =
        iam::normalise(schema, &body, Framing::Single, source.now).map_err(|e| match e {
            IamPayloadError::Schema { field, detail } => profile::blame(&field, detail),
            other => EventError::Internal(other.to_string()),
        })?;
    sealed
        .pop()
        .ok_or_else(|| EventError::Internal("no event came out of validation".into()))
}

fn text(value: &Value, key: &str) -> Option<String> {
    value[key]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

#[cfg(test)]
mod tests;
