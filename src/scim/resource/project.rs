//! The representation a client reads: the stored resource with `id`, `meta` and the links the
//! server owns (`render`), cut to what the request asked for (`Projection`: `attributes` or
//! `excludedAttributes`, and each attribute's `returned`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::scim::{
    error::ScimError,
    filter::{parse_attr_path, Scope},
    schema::{find, Attribute, ResourceType, Returned},
};

/// The server's bookkeeping of a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub version: i64,
}

impl Meta {
    /// The weak entity tag of this version, as `meta.version` and `ETag` carry it.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

/// The full representation of a stored resource (`stored` holds a User's `groups` as
/// `{value, display}`), with `meta.location` and the groups' `$ref` under `base` (`…/scim/v2`).
pub fn render(
    resource_type: ResourceType,
    id: &str,
    stored: &Value,
    meta: &Meta,
    base: &str,
) -> Value {
    let mut out = stored.clone();
    out["id"] = json!(id);
    out["meta"] = json!({
        "resourceType": resource_type.name(),
        "created": meta.created.to_rfc3339_opts(SecondsFormat::Millis, true),
        "lastModified": meta.last_modified.to_rfc3339_opts(SecondsFormat::Millis, true),
        "location": format!("{base}/{}/{id}", resource_type.endpoint()),
        "version": meta.etag(),
    });
    if let Some(Value::Array(groups)) = out.get_mut("groups") {
        for group in groups.iter_mut() {
            if let Some(group_id) = group.get("value").and_then(Value::as_str) {
                group["$ref"] = json!(format!("{base}/Groups/{group_id}"));
                group["type"] = json!("direct");
            }
        }
    }
    out
}

/// What a request asked to see: `attributes` or `excludedAttributes` (names as the client
/// wrote them; resolved per resource type, unknown ones ignored).
#[derive(Clone, Debug, Default)]
pub struct Projection {
    attributes: Vec<String>,
    excluded: Vec<String>,
}

/// One requested name, resolved.
#[derive(PartialEq)]
enum Target {
    Extension(&'static str),
    Attribute {
        extension: Option<&'static str>,
        name: &'static str,
        sub: Option<&'static str>,
    },
}

impl Projection {
    /// Both lists at once are refused (RFC 7644 makes them mutually exclusive).
    pub fn new(attributes: Vec<String>, excluded: Vec<String>) -> Result<Self, ScimError> {
        let clean = |list: Vec<String>| -> Vec<String> {
            list.iter()
                .flat_map(|item| item.split(','))
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let (attributes, excluded) = (clean(attributes), clean(excluded));
        if !attributes.is_empty() && !excluded.is_empty() {
            return Err(ScimError::invalid_syntax(
                "attributes and excludedAttributes cannot be given together",
            ));
        }
        Ok(Self {
            attributes,
            excluded,
        })
    }

    /// `resource` (a full representation) with only what this projection keeps.
    pub fn apply(&self, resource_type: ResourceType, resource: &Value) -> Value {
        let requested = resolve(resource_type, &self.attributes);
        let excluded = resolve(resource_type, &self.excluded);
        let Value::Object(members) = resource else {
            return resource.clone();
        };

        let mut out = Map::new();
        for (key, value) in members {
            if key == "schemas" || key == "id" {
                out.insert(key.clone(), value.clone());
                continue;
            }
            if let Some(extension) = resource_type.extension(key) {
                let mut kept = Map::new();
                for (name, value) in value.as_object().into_iter().flatten() {
                    let Some(attribute) = find(extension.attributes, name) else {
                        continue;
                    };
                    let pick = Pick {
                        extension: Some(extension.id),
                        attribute,
                    };
                    if let Some(value) = pick.keep(value, &requested, &excluded) {
                        kept.insert(name.clone(), value);
                    }
                }
                if !kept.is_empty() {
                    out.insert(key.clone(), Value::Object(kept));
                }
                continue;
            }
            let Some(resolved) = resource_type.resolve(None, key) else {
                continue;
            };
            let pick = Pick {
                extension: None,
                attribute: resolved.attribute,
            };
            if let Some(value) = pick.keep(value, &requested, &excluded) {
                out.insert(key.clone(), value);
            }
        }
        Value::Object(out)
    }
}

fn resolve(resource_type: ResourceType, names: &[String]) -> Vec<Target> {
    names
        .iter()
        .filter_map(|name| {
            if let Some(extension) = resource_type.extension(name) {
                return Some(Target::Extension(extension.id));
            }
            let path = parse_attr_path(name).ok()?;
            let (resolved, sub) = Scope::Resource(resource_type).resolve(&path)?;
            let sub = sub.map(|sub| sub.name);
            Some(Target::Attribute {
                extension: resolved.extension,
                name: resolved.attribute.name,
                sub,
            })
        })
        .collect()
}

/// One attribute of a resource, deciding what of its value is shown.
struct Pick {
    extension: Option<&'static str>,
    attribute: &'static Attribute,
}

impl Pick {
    fn keep(&self, value: &Value, requested: &[Target], excluded: &[Target]) -> Option<Value> {
        match self.attribute.returned {
            Returned::Never => return None,
            Returned::Always => return Some(value.clone()),
            Returned::Default | Returned::Request => {}
        }

        if !requested.is_empty() {
            if self.whole(requested) {
                return Some(value.clone());
            }
            let subs = self.subs(requested);
            return (!subs.is_empty()).then(|| only(value, &subs, true))?;
        }
        if self.attribute.returned == Returned::Request || self.whole(excluded) {
            return None;
        }
        let subs = self.subs(excluded);
        match subs.is_empty() {
            true => Some(value.clone()),
            false => only(value, &subs, false),
        }
    }

    fn whole(&self, targets: &[Target]) -> bool {
        targets.iter().any(|target| match target {
            Target::Extension(urn) => self.extension == Some(*urn),
            Target::Attribute {
                extension,
                name,
                sub: None,
            } => *extension == self.extension && *name == self.attribute.name,
            Target::Attribute { .. } => false,
        })
    }

    fn subs(&self, targets: &[Target]) -> Vec<&'static str> {
        targets
            .iter()
            .filter_map(|target| match target {
                Target::Attribute {
                    extension,
                    name,
                    sub: Some(sub),
                } if *extension == self.extension && *name == self.attribute.name => Some(*sub),
                _ => None,
            })
            .collect()
    }
}

/// A complex value (or each element of a multi-valued one) with only (`keep`) or without
/// (`!keep`) the sub-attributes `subs`; `None` when nothing is left.
fn only(value: &Value, subs: &[&str], keep: bool) -> Option<Value> {
    let cut = |element: &Value| -> Option<Value> {
        let members: Map<String, Value> = element
            .as_object()?
            .iter()
            .filter(|(name, _)| subs.contains(&name.as_str()) == keep)
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        (!members.is_empty()).then_some(Value::Object(members))
    };
    match value {
        Value::Array(items) => {
            let items: Vec<Value> = items.iter().filter_map(cut).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        other => cut(other),
    }
}
