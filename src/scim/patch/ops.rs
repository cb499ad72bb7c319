//! `add` and `replace` on one path of a stored resource, and what `remove` shares with them. Server-owned attributes
//! (`readOnly`) are refused with `mutability`, and so is changing an `immutable` value once
//! set. Values go through the same normalising as POST bodies.

use serde_json::{Map, Value};

use super::OpKind;
use crate::scim::{
    error::ScimError,
    filter::{Filter, Literal, Op, Scope},
    path::{PatchPath, Target},
    resource::value_of,
    schema::{find, Attribute, Kind, Mutability},
};

/// `add` or `replace` of `value` at `path`.
pub fn write(
    op: OpKind,
    resource: &mut Map<String, Value>,
    path: &PatchPath,
    value: &Value,
) -> Result<(), ScimError> {
    let target = match path {
        PatchPath::Extension(schema) => {
            let Value::Object(attributes) = value else {
                return Err(ScimError::invalid_value(format!(
                    "{} must be an object",
                    schema.id
                )));
            };
            // Some clients serialise an extension with its own `schemas`; it is not data.
            for (name, value) in attributes.iter().filter(|(name, _)| *name != "schemas") {
                let attribute = find(schema.attributes, name).ok_or_else(|| {
                    ScimError::invalid_path(format!("{}:{name} is not an attribute", schema.id))
                })?;
                let target = Target {
                    extension: Some(schema.id),
                    attribute,
                    filter: None,
                    sub: None,
                };
                write_target(op, resource, &target, value)?;
            }
            return Ok(());
        }
        PatchPath::Attribute(target) => target,
    };
    write_target(op, resource, target, value)
}

fn write_target(
    op: OpKind,
    resource: &mut Map<String, Value>,
    target: &Target,
    value: &Value,
) -> Result<(), ScimError> {
    refuse_read_only(target)?;
    let attribute = target.attribute;
    if attribute.mutability == Mutability::WriteOnly {
        // Accepted (its type checked) and never stored, as in POST and PUT.
        return value_of(attribute, value, attribute.name).map(|_| ());
    }
    let container = container(resource, target.extension);

    match (&target.filter, target.sub) {
        (None, None) => {
            let new = value_of(attribute, value, attribute.name)?;
            immutable(
                attribute,
                container.get(attribute.name),
                new.as_ref(),
                &target.text(),
            )?;
            let Some(new) = new else {
                if op == OpKind::Replace {
                    container.remove(attribute.name);
                }
                return Ok(());
            };
            match (op, attribute.multi_valued, attribute.kind) {
                (OpKind::Add, true, _) => {
                    let items = array(
                        container
                            .entry(attribute.name)
                            .or_insert_with(|| Value::Array(Vec::new())),
                    );
                    let added: Vec<Value> = new.as_array().cloned().unwrap_or_default();
                    if added.iter().any(is_primary) {
                        items.iter_mut().for_each(clear_primary);
                    }
                    for item in added {
                        if !items.contains(&item) {
                            items.push(item);
                        }
                    }
                }
                (_, false, Kind::Complex) => {
                    let existing = container
                        .entry(attribute.name)
                        .or_insert_with(|| Value::Object(Map::new()));
                    merge(existing, new);
                }
                _ => {
                    container.insert(attribute.name.to_owned(), new);
                }
            }
        }
        (None, Some(sub)) => {
            if attribute.multi_valued {
                return Err(ScimError::invalid_path(format!(
                    "{} is multi-valued: select its values with [filter]",
                    attribute.name
                )));
            }
            let name = target.text();
            let new = value_of(sub, value, &name)?;
            let object = container
                .entry(attribute.name)
                .or_insert_with(|| Value::Object(Map::new()));
            set_sub(op, object, sub, new, &name)?;
            if object.as_object().is_some_and(Map::is_empty) {
                container.remove(attribute.name);
            }
        }
        (Some(filter), sub) => {
            let items = array(
                container
                    .entry(attribute.name)
                    .or_insert_with(|| Value::Array(Vec::new())),
            );
            let mut matched = selected(filter, attribute, items);
            if matched.is_empty() {
                let seed = seed(filter, attribute)?.ok_or_else(|| {
                    ScimError::no_target(format!(
                        "no value of {} matches the filter",
                        attribute.name
                    ))
                })?;
                items.push(seed);
                matched.push(items.len() - 1);
            }
            for &index in &matched {
                write_element(op, attribute, sub, &mut items[index], value, &target.text())?;
            }
            if matched.iter().any(|&index| is_primary(&items[index])) {
                for (index, item) in items.iter_mut().enumerate() {
                    if !matched.contains(&index) {
                        clear_primary(item);
                    }
                }
            }
            items.retain(|item| item.as_object().is_some_and(|o| !o.is_empty()));
            if items.is_empty() {
                container.remove(attribute.name);
            }
        }
    }
    Ok(())
}

/// Writes into one selected value of a multi-valued complex attribute.
fn write_element(
    op: OpKind,
    attribute: &'static Attribute,
    sub: Option<&'static Attribute>,
    element: &mut Value,
    value: &Value,
    name: &str,
) -> Result<(), ScimError> {
    if let Some(sub) = sub {
        let new = value_of(sub, value, name)?;
        return set_sub(op, element, sub, new, name);
    }

    let new = value_of(attribute, value, name)?
        .and_then(|values| values.as_array().and_then(|v| v.first().cloned()));
    for sub in attribute.sub_attributes {
        if let Some(new) = &new {
            immutable(sub, element.get(sub.name), new.get(sub.name), name)?;
        }
    }
    match (op, new) {
        (OpKind::Add, Some(new)) => merge(element, new),
        (_, new) => *element = new.unwrap_or_else(|| Value::Object(Map::new())),
    }
    Ok(())
}

fn set_sub(
    op: OpKind,
    object: &mut Value,
    sub: &'static Attribute,
    new: Option<Value>,
    name: &str,
) -> Result<(), ScimError> {
    let Some(object) = object.as_object_mut() else {
        return Err(ScimError::new(
            500,
            None,
            "a stored complex value is not an object",
        ));
    };
    immutable(sub, object.get(sub.name), new.as_ref(), name)?;
    match new {
        Some(new) => {
            object.insert(sub.name.to_owned(), new);
        }
        None if op == OpKind::Replace => {
            object.remove(sub.name);
        }
        None => {}
    }
    Ok(())
}

pub(super) fn refuse_read_only(target: &Target) -> Result<(), ScimError> {
    let read_only = target.attribute.mutability == Mutability::ReadOnly
        || target
            .sub
            .is_some_and(|sub| sub.mutability == Mutability::ReadOnly);
    match read_only {
        true => Err(ScimError::mutability(format!(
            "{} is read-only",
            target.text()
        ))),
        false => Ok(()),
    }
}

/// An `immutable` attribute may be set once; changing or removing it is refused.
pub(super) fn immutable(
    attribute: &Attribute,
    old: Option<&Value>,
    new: Option<&Value>,
    name: &str,
) -> Result<(), ScimError> {
    match (attribute.mutability, old) {
        (Mutability::Immutable, Some(old)) if !old.is_null() && Some(old) != new => Err(
            ScimError::mutability(format!("{name} is immutable once set")),
        ),
        _ => Ok(()),
    }
}

/// The object holding top-level or extension attributes, created when missing.
pub(super) fn container<'r>(
    resource: &'r mut Map<String, Value>,
    extension: Option<&'static str>,
) -> &'r mut Map<String, Value> {
    let Some(urn) = extension else {
        return resource;
    };
    let slot = resource
        .entry(urn)
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("made an object above")
}

/// A multi-valued attribute's stored array (a stray single value becomes its only element).
pub(super) fn array(value: &mut Value) -> &mut Vec<Value> {
    if !value.is_array() {
        let single = std::mem::take(value);
        *value = Value::Array(if single.is_null() {
            vec![]
        } else {
            vec![single]
        });
    }
    value.as_array_mut().expect("made an array above")
}

fn selected(filter: &Filter, attribute: &'static Attribute, items: &[Value]) -> Vec<usize> {
    let scope = Scope::Complex(attribute);
    (0..items.len())
        .filter(|&index| filter.matches(scope, &items[index]))
        .collect()
}

/// The value a filter of `eq` comparisons joined by `and` describes, to be created when none
/// matches (`emails[type eq "work"].value` on a User without a work email); `None` for
/// other filters.
fn seed(filter: &Filter, attribute: &'static Attribute) -> Result<Option<Value>, ScimError> {
    let mut pairs = Vec::new();
    if !eq_pairs(filter, &mut pairs) {
        return Ok(None);
    }
    let mut element = Map::new();
    for (name, literal) in pairs {
        let Some(sub) = attribute.sub(&name) else {
            return Ok(None);
        };
        let value = match literal {
            Literal::String(text) => Value::String(text),
            Literal::Bool(flag) => Value::Bool(flag),
            Literal::Number(number) => Value::Number(number),
            Literal::Null => return Ok(None),
        };
        if let Some(value) = value_of(sub, &value, &format!("{}.{}", attribute.name, sub.name))? {
            element.insert(sub.name.to_owned(), value);
        }
    }
    Ok(Some(Value::Object(element)))
}

fn eq_pairs(filter: &Filter, pairs: &mut Vec<(String, Literal)>) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: Op::Eq,
            value,
        } if path.sub.is_none() && path.urn.is_none() => {
            pairs.push((path.name.clone(), value.clone()));
            true
        }
        Filter::And(left, right) => eq_pairs(left, pairs) && eq_pairs(right, pairs),
        _ => false,
    }
}

/// Sub-attributes of `new` replace those of `existing`; the others stay.
fn merge(existing: &mut Value, new: Value) {
    match (existing.as_object_mut(), new) {
        (Some(existing), Value::Object(new)) => existing.extend(new),
        (_, new) => *existing = new,
    }
}

fn is_primary(item: &Value) -> bool {
    item.get("primary") == Some(&Value::Bool(true))
}

fn clear_primary(item: &mut Value) {
    if is_primary(item) {
        item["primary"] = Value::Bool(false);
    }
}
