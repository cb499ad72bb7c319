//! `remove` on one path of a stored resource: the attribute, the values a filter selects, a
//! sub-attribute, or the listed values (Entra removes members so). Removing what is not
//! there succeeds, so a client's retry does too.

use serde_json::{Map, Value};

use super::ops::{array, container, immutable, refuse_read_only};
use crate::scim::{error::ScimError, filter::Scope, path::PatchPath, resource::value_of};

/// `remove` at `path`; `value` lists the values to remove from a multi-valued attribute when
/// the path has no filter (Entra removes members so).
pub fn remove(
    resource: &mut Map<String, Value>,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let target = match path {
        PatchPath::Extension(schema) => {
            resource.remove(schema.id);
            return Ok(());
        }
        PatchPath::Attribute(target) => target,
    };
    refuse_read_only(target)?;
    let attribute = target.attribute;
    let name = target.text();
    let container = container(resource, target.extension);
    let Some(current) = container.get_mut(attribute.name) else {
        return Ok(());
    };

    match (&target.filter, target.sub) {
        (None, None) => {
            let listed = match value {
                Some(value) if attribute.multi_valued => value_of(attribute, value, &name)?,
                _ => None,
            };
            match listed {
                Some(Value::Array(listed)) => {
                    array(current).retain(|item| !listed.iter().any(|gone| holds(item, gone)));
                }
                _ => {
                    immutable(attribute, Some(current), None, &name)?;
                    container.remove(attribute.name);
                }
            }
        }
        (filter, sub) => {
            let elements: Vec<&mut Value> = match &mut *current {
                Value::Array(items) => items.iter_mut().collect(),
                single => vec![single],
            };
            let scope = Scope::Complex(attribute);
            for element in elements {
                if filter.as_ref().is_some_and(|f| !f.matches(scope, element)) {
                    continue;
                }
                match (sub, element.as_object_mut()) {
                    (Some(sub), Some(object)) => {
                        immutable(sub, object.get(sub.name), None, &name)?;
                        object.remove(sub.name);
                    }
                    _ => *element = Value::Null,
                }
            }
            if let Value::Array(items) = current {
                items.retain(|item| item.as_object().is_some_and(|o| !o.is_empty()));
            }
        }
    }

    let empty = match container.get(attribute.name) {
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(members)) => members.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        container.remove(attribute.name);
    }
    Ok(())
}

/// Whether `item` has every sub-attribute `gone` names, with the same value.
fn holds(item: &Value, gone: &Value) -> bool {
    match (item.as_object(), gone.as_object()) {
        (Some(item), Some(gone)) => gone.iter().all(|(key, value)| item.get(key) == Some(value)),
        _ => item == gone,
    }
}
