//! PATCH (RFC 7644 §3.5.2) applied to a stored resource, all operations or none. Accepts what
//! real clients send: `op` in any case, member names in any case, booleans as strings,
//! `add`/`replace` without `path` whose value is an object (keys may be URNs, dotted
//! `name.givenName` or an extension's URN), value-filter paths that create the value they name
//! when none matches (`emails[type eq "work"].value`), and Entra's member removal (`remove`
//! `members` with a value list).

use serde_json::{Map, Value};

use super::{error::ScimError, path, resource, schema::ResourceType};

mod ops;
mod remove;
#[cfg(test)]
mod tests;

/// The message schema of a PATCH body.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Most operations one PATCH may carry.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One operation as the client sent it.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub op: OpKind,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// A member of `object` named `name` whatever its case.
fn member<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// Reads a PATCH body's operations.
pub fn operations(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let Some(body) = body.as_object() else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    if let Some(schemas) = member(body, "schemas") {
        let listed = schemas.as_array().is_some_and(|schemas| {
            schemas
                .iter()
                .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP)))
        });
        if !listed {
            return Err(ScimError::invalid_syntax(format!(
                "schemas must list {PATCH_OP}"
            )));
        }
    }
    let items = match member(body, "Operations").and_then(Value::as_array) {
        Some(items) if !items.is_empty() && items.len() <= MAX_OPERATIONS => items,
        _ => {
            return Err(ScimError::invalid_syntax(format!(
                "Operations must list 1 to {MAX_OPERATIONS} operations"
            )))
        }
    };

    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let bad = |why: &str| ScimError::invalid_syntax(format!("Operations[{index}]: {why}"));
            let item = item.as_object().ok_or_else(|| bad("must be an object"))?;
            let op = match member(item, "op").and_then(Value::as_str) {
                Some(op) if op.eq_ignore_ascii_case("add") => OpKind::Add,
                Some(op) if op.eq_ignore_ascii_case("replace") => OpKind::Replace,
                Some(op) if op.eq_ignore_ascii_case("remove") => OpKind::Remove,
                _ => return Err(bad("op must be add, replace or remove")),
            };
            let path = match member(item, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(path)) => Some(path.clone()),
                Some(_) => return Err(bad("path must be a string")),
            };
            Ok(Operation {
                op,
                path,
                value: member(item, "value").cloned(),
            })
        })
        .collect()
}

/// Applies `operations` in order to `resource` (the stored form), then checks the result as a
/// POST body would be; on any error the caller keeps the original.
pub fn apply(
    resource_type: ResourceType,
    resource: &mut Value,
    operations: &[Operation],
) -> Result<(), ScimError> {
    let Some(object) = resource.as_object_mut() else {
        return Err(ScimError::new(
            500,
            None,
            "a stored resource is not an object",
        ));
    };

    for operation in operations {
        match (operation.op, &operation.path, &operation.value) {
            (OpKind::Remove, None, _) => {
                return Err(ScimError::no_target("remove needs a path"));
            }
            (OpKind::Remove, Some(path), value) => {
                let path = path::parse(resource_type, path)?;
                remove::remove(object, &path, value.as_ref())?;
            }
            (_, _, None) => {
                return Err(ScimError::invalid_syntax("add and replace need a value"));
            }
            (op, Some(path), Some(value)) => {
                let path = path::parse(resource_type, path)?;
                ops::write(op, object, &path, value)?;
            }
            (op, None, Some(Value::Object(members))) => {
                for (key, value) in members {
                    if key.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    let path = path::parse(resource_type, key)?;
                    ops::write(op, object, &path, value)?;
                }
            }
            (_, None, Some(_)) => {
                return Err(ScimError::invalid_syntax(
                    "add and replace without a path need an object of attributes as value",
                ));
            }
        }
    }

    resource::settle(resource_type, resource);
    resource::check(resource_type, resource)
}
