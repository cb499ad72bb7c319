//! What a SCIM write's new resource must agree with in the store before anything is
//! published: a userName and a chosen e-mail address no other User has, and Group members that
//! are Users or Groups of this service, typed as stored.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::query::unavailable;
use crate::{
    scim::{error::bounded, events::chosen_email, schema::ResourceType, ScimError},
    store::scim::ScimWrite,
};

/// A userName taken by another User (whatever its case) is 409, and so is a chosen e-mail
/// address the write gives a User when another User has it (ClickUp knows people by e-mail:
/// two Users would share one account); a User keeping the address it had is not refused, so
/// Users that shared one before the check existed can still be changed and disabled. A
/// Group's members must be Users or Groups of this service, and not the Group itself. Each
/// member's `type` becomes
/// the type stored for its id, whatever the client sent: a Group sent as a bare id (or as a
/// "User") is a nested Group, never a person whose IAM id is the Group's.
pub(super) async fn check_references(
    write: &mut ScimWrite,
    resource_type: ResourceType,
    id: &str,
    old: Option<&Value>,
    new: &mut Value,
) -> Result<(), ScimError> {
    if let Some(user_name) = new.get("userName").and_then(Value::as_str) {
        let holder = write
            .user_name_holder(user_name)
            .await
            .map_err(unavailable)?;
        if holder.is_some_and(|holder| holder != id) {
            return Err(ScimError::conflict(
                "userName is already taken by another User",
            ));
        }
    }
    let kept = |email: &String| {
        old.and_then(chosen_email)
            .is_some_and(|had| had.to_lowercase() == email.to_lowercase())
    };
    let given = chosen_email(new).filter(|email| !kept(email));
    if let Some(email) = given.filter(|_| resource_type == ResourceType::User) {
        let holder = write.email_holder(&email).await.map_err(unavailable)?;
        if holder.is_some_and(|holder| holder != id) {
            return Err(ScimError::conflict(
                "emails: the User's e-mail address (primary, else work, else first) is another User's",
            ));
        }
    }

    let members: Vec<String> = new
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|member| member.get("value").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    if resource_type == ResourceType::Group && members.iter().any(|member| member == id) {
        return Err(ScimError::invalid_value(
            "members: a Group cannot be its own member",
        ));
    }
    let ids: Vec<&str> = members.iter().map(String::as_str).collect();
    let known = write.resource_types(&ids).await.map_err(unavailable)?;
    if let Some(unknown) = ids.iter().find(|member| !known.contains_key(**member)) {
        return Err(ScimError::invalid_value(format!(
            "members: {} is not the id of a User or Group",
            bounded(unknown)
        )));
    }

    typed_members(new, &known);
    Ok(())
}

/// Sets each member's `type` to the stored type of its id (`known` holds every member's).
fn typed_members(resource: &mut Value, known: &HashMap<String, ResourceType>) {
    let members = resource.get_mut("members").and_then(Value::as_array_mut);
    for member in members.into_iter().flatten() {
        let kind = member
            .get("value")
            .and_then(Value::as_str)
            .and_then(|value| known.get(value));
        if let (Some(kind), Some(fields)) = (kind, member.as_object_mut()) {
            fields.insert("type".into(), json!(kind.name()));
        }
    }
}
