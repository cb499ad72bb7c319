//! A client's resource as stored: canonical attribute names from the schema whatever case the
//! client used, extension attributes under their URN, booleans coerced, `readOnly` input
//! ignored, the password dropped (accepted, never stored), types and required attributes
//! checked. Unknown attributes are refused (`invalidSyntax`, naming them), so a client's
//! mapping mistake shows at once instead of vanishing. Details name attributes, never values.

use serde_json::{Map, Value};

use super::{
    error::{bounded, ScimError},
    filter::{boolean_text, parse_time},
    schema::{find, Attribute, Kind, Mutability, ResourceType},
};

mod project;
#[cfg(test)]
mod tests;

pub use project::{render, Meta, Projection};

/// Turns a POST or PUT body into the stored form (without `id`, `meta` and the User's `groups`,
/// which the server owns) and checks it.
pub fn normalise(resource_type: ResourceType, input: &Value) -> Result<Value, ScimError> {
    let Value::Object(members) = input else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    check_schemas(resource_type, members)?;

    let mut out = Map::new();
    let mut unknown = Vec::new();
    for (key, value) in members {
        if ["schemas", "id", "meta"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key))
        {
            continue;
        }
        if let Some(extension) = resource_type.extension(key) {
            let Value::Object(attributes) = value else {
                if value.is_null() {
                    continue;
                }
                return Err(ScimError::invalid_value(format!(
                    "{} must be an object",
                    extension.id
                )));
            };
            // Some clients serialise an extension with its own `schemas`; it is not data.
            for (name, value) in attributes.iter().filter(|(name, _)| *name != "schemas") {
                match find(extension.attributes, name) {
                    Some(attribute) => {
                        set(&mut out, Some(extension.id), attribute, value)?;
                    }
                    None => unknown.push(format!("{}:{}", extension.id, bounded(name))),
                }
            }
            continue;
        }

        let resolved = resource_type
            .split_urn(key)
            .and_then(|(schema, name)| resource_type.resolve(schema, name));
        match resolved {
            Some(resolved) => set(&mut out, resolved.extension, resolved.attribute, value)?,
            None => unknown.push(bounded(key)),
        }
    }

    if !unknown.is_empty() {
        let names: Vec<&str> = unknown.iter().take(5).map(String::as_str).collect();
        return Err(ScimError::invalid_syntax(format!(
            "unknown attributes: {}",
            names.join(", ")
        )));
    }
    let mut out = Value::Object(out);
    settle(resource_type, &mut out);
    check(resource_type, &out)?;
    Ok(out)
}

/// Refuses a `schemas` that names a schema this server does not serve for `resource_type`
/// (`invalidValue`, naming the first such URI, cut) or leaves out the core one
/// (`invalidSyntax`). URIs compare whatever their case. A body without `schemas` is taken as
/// the core schema's: several provisioning clients leave it out.
fn check_schemas(
    resource_type: ResourceType,
    members: &Map<String, Value>,
) -> Result<(), ScimError> {
    let Some((_, schemas)) = members
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("schemas"))
    else {
        return Ok(());
    };
    let uris: Option<Vec<&str>> = schemas
        .as_array()
        .map(|items| items.iter().map(Value::as_str).collect())
        .unwrap_or(None);
    let Some(uris) = uris else {
        return Err(ScimError::invalid_syntax(
            "schemas must be a list of schema URIs",
        ));
    };

    let served = |uri: &str| {
        uri.eq_ignore_ascii_case(resource_type.core().id)
            || resource_type
                .extensions()
                .iter()
                .any(|extension| uri.eq_ignore_ascii_case(extension.id))
    };
    if let Some(unknown) = uris.iter().find(|uri| !served(uri)) {
        return Err(ScimError::invalid_value(format!(
            "schemas: {} is not a schema of {} here",
            bounded(unknown),
            resource_type.endpoint()
        )));
    }
    if !uris
        .iter()
        .any(|uri| uri.eq_ignore_ascii_case(resource_type.core().id))
    {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must include {}",
            resource_type.core().id
        )));
    }
    Ok(())
}

/// Sets `attribute` (of the extension `extension`, or top-level) from client input, unless
/// the server owns it (`readOnly`) or never keeps it (`writeOnly`).
fn set(
    out: &mut Map<String, Value>,
    extension: Option<&'static str>,
    attribute: &'static Attribute,
    value: &Value,
) -> Result<(), ScimError> {
    match attribute.mutability {
        Mutability::ReadOnly => return Ok(()),
        // Type-checked, then dropped: a password is accepted and never stored.
        Mutability::WriteOnly => return value_of(attribute, value, attribute.name).map(|_| ()),
        Mutability::ReadWrite | Mutability::Immutable => {}
    }

    let value = value_of(attribute, value, attribute.name)?;
    let container = match extension {
        Some(urn) => out
            .entry(urn)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("an extension's container is an object"),
        None => out,
    };
    match value {
        Some(value) => container.insert(attribute.name.to_owned(), value),
        None => container.remove(attribute.name),
    };
    Ok(())
}

/// One attribute's value from client input, in stored form; `None` when unassigned (null,
/// empty). `name` is the attribute's path for error details.
pub fn value_of(
    attribute: &'static Attribute,
    value: &Value,
    name: &str,
) -> Result<Option<Value>, ScimError> {
    if !attribute.multi_valued {
        return single(attribute, value, name);
    }

    let items = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    let mut values: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if let Some(item) = single(attribute, item, name)? {
            if !values.contains(&item) {
                values.push(item);
            }
        }
    }
    Ok((!values.is_empty()).then_some(Value::Array(values)))
}

/// One value (an element of a multi-valued attribute, or a single-valued attribute's).
fn single(
    attribute: &'static Attribute,
    value: &Value,
    name: &str,
) -> Result<Option<Value>, ScimError> {
    let wrong = |what: &str| Err(ScimError::invalid_value(format!("{name} must be {what}")));
    match (attribute.kind, value) {
        (_, Value::Null) => Ok(None),
        (Kind::Complex, Value::Object(members)) => {
            let mut out = Map::new();
            for (key, value) in members {
                let Some(sub) = attribute.sub(key) else {
                    return Err(ScimError::invalid_syntax(format!(
                        "{name}.{} is not an attribute",
                        bounded(key)
                    )));
                };
                if matches!(sub.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
                    continue;
                }
                if let Some(value) = value_of(sub, value, &format!("{name}.{}", sub.name))? {
                    out.insert(sub.name.to_owned(), value);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        // A manager given as its id alone, as Entra sends it: `{"value": id}`.
        (Kind::Complex, scalar) if !scalar.is_array() && attribute.sub("value").is_some() => {
            let value = attribute.sub("value").expect("checked above");
            Ok(single(value, scalar, &format!("{name}.value"))?
                .map(|v| Value::Object(Map::from_iter([("value".to_owned(), v)]))))
        }
        (Kind::Complex, _) => wrong("an object"),
        (Kind::Boolean, Value::Bool(_)) => Ok(Some(value.clone())),
        (Kind::Boolean, Value::String(text)) => match boolean_text(text) {
            Some(flag) => Ok(Some(Value::Bool(flag))),
            None => wrong("true or false"),
        },
        (Kind::Boolean, _) => wrong("true or false"),
        (Kind::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(value.clone())),
        (Kind::Integer, _) => wrong("an integer"),
        (Kind::Decimal, Value::Number(_)) => Ok(Some(value.clone())),
        (Kind::Decimal, _) => wrong("a number"),
        (Kind::DateTime, Value::String(text)) if parse_time(text).is_some() => {
            Ok(Some(value.clone()))
        }
        (Kind::DateTime, _) => wrong("an RFC 3339 time"),
        (Kind::String | Kind::Reference | Kind::Binary, Value::String(_)) => {
            Ok(Some(value.clone()))
        }
        (Kind::String | Kind::Reference | Kind::Binary, _) => wrong("a string"),
    }
}

/// Sets `schemas` from what the resource holds, drops empty extensions, and keeps one member
/// per id in a Group (the last one given, at the first one's place).
pub fn settle(resource_type: ResourceType, resource: &mut Value) {
    let Some(members) = resource.as_object_mut() else {
        return;
    };
    members.retain(|key, value| {
        resource_type.extension(key).is_none() || value.as_object().is_some_and(|o| !o.is_empty())
    });

    if resource_type == ResourceType::Group {
        if let Some(Value::Array(items)) = members.get_mut("members") {
            let mut kept: Vec<Value> = Vec::with_capacity(items.len());
            for item in items.drain(..) {
                match kept
                    .iter_mut()
                    .find(|k| k.get("value") == item.get("value"))
                {
                    Some(earlier) => *earlier = item,
                    None => kept.push(item),
                }
            }
            *items = kept;
        }
    }

    let mut schemas = vec![Value::from(resource_type.core().id)];
    for extension in resource_type.extensions() {
        if members.contains_key(extension.id) {
            schemas.push(Value::from(extension.id));
        }
    }
    members.insert("schemas".into(), Value::Array(schemas));
}

/// Refuses a resource without its required attributes, or a Group member without an id.
pub fn check(resource_type: ResourceType, resource: &Value) -> Result<(), ScimError> {
    for attribute in resource_type.core().attributes {
        let missing = match resource.get(attribute.name) {
            None | Some(Value::Null) => true,
            Some(Value::String(text)) => text.trim().is_empty(),
            Some(_) => false,
        };
        if attribute.required && missing {
            return Err(ScimError::invalid_value(format!(
                "{} is required",
                attribute.name
            )));
        }
    }

    let members = resource.get("members").and_then(Value::as_array);
    let nameless = members.into_iter().flatten().any(|member| {
        member
            .get("value")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    });
    if nameless {
        return Err(ScimError::invalid_value(
            "members: every member needs a value (the member's id)",
        ));
    }
    Ok(())
}
