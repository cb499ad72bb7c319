//! A SCIM User read as the IAM event's `data.user`: the same profile keys an IDM driver fills,
//! so rules cannot tell the two sources apart.

use serde_json::{json, Map, Value};

use super::{text, EventError};

/// The enterprise extension's key in a stored User.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Profile keys whose change makes a mover (access may follow them).
pub const MOVER: [&str; 10] = [
    "department",
    "title",
    "roles",
    "manager",
    "employment_type",
    "location",
    "groups",
    "division",
    "cost_center",
    "organization",
];

/// The IAM schema's employment types; any other `userType` is `unknown`.
const EMPLOYMENT_TYPES: [&str; 7] = [
    "employee",
    "contractor",
    "intern",
    "vendor",
    "partner",
    "service",
    "unknown",
];

/// A User as an identity.
pub struct ScimUser {
    pub id: String,
    pub active: bool,
    /// `data.user`: id, ids, username, email, display_name, profile.
    pub json: Value,
}

/// Reads a stored (canonical) User resource.
pub fn user_of(resource: &Value) -> Result<ScimUser, EventError> {
    let id = text(resource, "id").ok_or_else(|| EventError::Invalid {
        attribute: "id".into(),
        detail: "a stored User has no id".into(),
    })?;
    let active = resource["active"].as_bool().unwrap_or(true);
    let enterprise = &resource[ENTERPRISE];
    let name = &resource["name"];

    let emails = emails(resource);
    let email = chosen_email(resource);
    let display_name = text(resource, "displayName")
        .or_else(|| text(name, "formatted"))
        .or_else(|| {
            let parts: Vec<String> = ["givenName", "familyName"]
                .iter()
                .filter_map(|key| text(name, key))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });

    let mut profile = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            profile.insert(key.into(), value);
        }
    };
    put("given_name", text(name, "givenName").map(Value::from));
    put("family_name", text(name, "familyName").map(Value::from));
    put("display_name", display_name.clone().map(Value::from));
    put("email", email.clone().map(Value::from));
    put("emails", (!emails.is_empty()).then(|| Value::from(emails)));
    put(
        "phone",
        pick(&resource["phoneNumbers"]).and_then(|p| text(p, "value").map(Value::from)),
    );
    put("title", text(resource, "title").map(Value::from));
    put(
        "department",
        text(enterprise, "department").map(Value::from),
    );
    put("division", text(enterprise, "division").map(Value::from));
    put(
        "cost_center",
        text(enterprise, "costCenter").map(Value::from),
    );
    put(
        "organization",
        text(enterprise, "organization").map(Value::from),
    );
    put(
        "employee_number",
        text(enterprise, "employeeNumber").map(Value::from),
    );
    put(
        "employment_type",
        text(resource, "userType").map(|kind| Value::from(employment_type(&kind))),
    );
    put("manager", manager(&enterprise["manager"]));
    put(
        "location",
        pick(&resource["addresses"]).and_then(|a| text(a, "locality").map(Value::from)),
    );
    put("locale", text(resource, "locale").map(Value::from));
    put("time_zone", text(resource, "timezone").map(Value::from));
    put(
        "status",
        Some(Value::from(if active { "active" } else { "disabled" })),
    );
    put("groups", Some(groups(&resource["groups"])));
    put("roles", Some(roles(&resource["roles"])));

    let mut ids = json!({ "scim_id": id });
    if let Some(external) = text(resource, "externalId") {
        ids["scim_external_id"] = json!(external);
    }
    let mut user = json!({ "id": id, "ids": ids, "profile": profile });
    for (key, value) in [
        ("username", text(resource, "userName")),
        ("email", email),
        ("display_name", display_name),
    ] {
        if let Some(value) = value {
            user[key] = json!(value);
        }
    }
    Ok(ScimUser {
        id,
        active,
        json: user,
    })
}

/// The e-mail address a User is known by (`data.user.email`, and ClickUp's key for the
/// person): the primary one, else the `work` one, else the first, as given.
pub fn chosen_email(resource: &Value) -> Option<String> {
    pick(&resource["emails"]).and_then(|chosen| text(chosen, "value"))
}

/// The profile keys (and `username`) that differ between two `data.user` values, sorted.
pub fn changed(before: &Value, after: &Value) -> Vec<String> {
    let keys = |user: &Value| -> Vec<String> {
        user["profile"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut names: Vec<String> = keys(before).into_iter().chain(keys(after)).collect();
    names.sort();
    names.dedup();
    names.retain(|key| before["profile"].get(key) != after["profile"].get(key));
    if before.get("username") != after.get("username") {
        names.push("username".into());
    }
    names
}

/// The schema's change categories for changed profile keys.
pub fn categories(changed: &[String]) -> Vec<&'static str> {
    let mut categories: Vec<&'static str> = changed
        .iter()
        .map(|key| match key.as_str() {
            "given_name" | "family_name" | "display_name" => "name",
            "email" | "emails" => "email",
            "title" => "title",
            "department" => "department",
            "location" => "location",
            "manager" => "manager",
            "employment_type" => "employment_type",
            "status" => "status",
            "groups" => "group",
            "roles" => "role",
            "username" | "employee_number" => "identifier",
            _ => "custom",
        })
        .collect();
    categories.sort_unstable();
    categories.dedup();
    categories
}

/// The SCIM attribute to blame for a field the IAM schema refused.
pub fn blame(field: &str, detail: String) -> EventError {
    let key = field
        .strip_prefix("/data/user/profile/")
        .or_else(|| field.strip_prefix("/data/user/"))
        .and_then(|rest| rest.split('/').next());
    let attribute = match key {
        Some("email" | "emails") => "emails",
        Some("phone") => "phoneNumbers",
        Some("given_name") => "name.givenName",
        Some("family_name") => "name.familyName",
        Some("display_name") => "displayName",
        Some("location") => "addresses",
        Some("manager") => "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        Some("roles") => "roles",
        Some("groups") => "groups",
        Some("username") => "userName",
        _ => return EventError::Internal(format!("{field}: {detail}")),
    };
    EventError::Invalid {
        attribute: attribute.into(),
        detail,
    }
}

fn employment_type(user_type: &str) -> String {
    let kind = user_type.trim().to_lowercase();
    match EMPLOYMENT_TYPES.contains(&kind.as_str()) {
        true => kind,
        false => "unknown".into(),
    }
}

/// The value a multi-valued attribute offers first: the primary one, else `work`, else the
/// first with a value.
fn pick(values: &Value) -> Option<&Value> {
    let items = values.as_array()?;
    let with_value = || {
        items
            .iter()
            .filter(|item| text(item, "value").is_some() || item.is_object())
    };
    with_value()
        .find(|item| item["primary"].as_bool() == Some(true))
        .or_else(|| with_value().find(|item| item["type"].as_str() == Some("work")))
        .or_else(|| with_value().next())
}

fn emails(resource: &Value) -> Vec<Value> {
    let items = resource["emails"].as_array().into_iter().flatten();
    items
        .filter_map(|item| {
            let mut email = json!({ "value": text(item, "value")? });
            if let Some(kind) = text(item, "type") {
                email["type"] = json!(kind);
            }
            if let Some(primary) = item["primary"].as_bool() {
                email["primary"] = json!(primary);
            }
            Some(email)
        })
        .collect()
}

fn manager(value: &Value) -> Option<Value> {
    let id = match value {
        Value::String(id) => Some(id.trim().to_string()).filter(|id| !id.is_empty()),
        _ => text(value, "value"),
    }?;
    let mut manager = json!({ "id": id, "ids": { "scim_id": id } });
    if let Some(name) = text(value, "displayName") {
        manager["display_name"] = json!(name);
    }
    Some(manager)
}

fn groups(value: &Value) -> Value {
    let items = value.as_array().into_iter().flatten();
    let groups: Vec<Value> = items
        .filter_map(|group| {
            let id = text(group, "value")?;
            let name = text(group, "display").unwrap_or_else(|| id.clone());
            let via = match group["type"].as_str() {
                Some(kind) if kind.eq_ignore_ascii_case("indirect") => "nested",
                _ => "direct",
            };
            Some(json!({ "id": id, "name": name, "kind": "group", "via": via }))
        })
        .collect();
    Value::from(groups)
}

fn roles(value: &Value) -> Value {
    let items = value.as_array().into_iter().flatten();
    let roles: Vec<Value> = items
        .filter_map(|role| {
            // Rules name roles by value (`"Sales-Base" in person.roles`); `display` is a label.
            let id = text(role, "value")?;
            Some(json!({ "kind": "role", "id": id, "name": id }))
        })
        .collect();
    Value::from(roles)
}

#[cfg(test)]
mod chosen_email_tests {
    use serde_json::json;

    use super::chosen_email;

    #[test]
    fn the_primary_else_the_work_else_the_first_address_is_chosen() {
        let cases = [
            (json!({}), None),
            (json!({"emails": []}), None),
            (json!({"emails": [{"value": " a@x "}]}), Some("a@x")),
            (
                json!({"emails": [{"value": "h@x", "type": "home"}, {"value": "w@x", "type": "work"}]}),
                Some("w@x"),
            ),
            (
                json!({"emails": [{"value": "w@x", "type": "work"}, {"value": "P@x", "primary": true}]}),
                Some("P@x"),
            ),
            (
                json!({"emails": [{"primary": true}, {"value": "a@x"}]}),
                None,
            ),
        ];
        for (resource, chosen) in cases {
            assert_eq!(chosen_email(&resource).as_deref(), chosen, "{resource}");
        }
    }
}
