//! The attribute definitions (RFC 7643) as Rust data: the User, enterprise User and Group
//! schemas, the discovery schemas, and the lookups that everything else is driven by
//! (canonical names, types, `caseExact`, mutability, `returned`, multi-valued).

use serde_json::{json, Value};

mod meta;
mod resources;

pub use meta::{COMMON, RESOURCE_TYPE, SCHEMA, SERVICE_PROVIDER_CONFIG};
pub use resources::{ENTERPRISE_USER, GROUP, USER};

/// An attribute's data type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
}

/// One attribute or sub-attribute.
#[derive(Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub kind: Kind,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [Attribute],
}

/// A readWrite, single-valued, optional, case-insensitive attribute; the builders below
/// change one property each.
pub const fn attr(name: &'static str, kind: Kind, description: &'static str) -> Attribute {
    Attribute {
        name,
        kind,
        multi_valued: false,
        description,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        canonical_values: &[],
        reference_types: &[],
        sub_attributes: &[],
    }
}

impl Attribute {
    pub const fn multi(self) -> Self {
        Self {
            multi_valued: true,
            ..self
        }
    }

    pub const fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    pub const fn case_exact(self) -> Self {
        Self {
            case_exact: true,
            ..self
        }
    }

    pub const fn mutability(self, mutability: Mutability) -> Self {
        Self { mutability, ..self }
    }

    pub const fn read_only(self) -> Self {
        self.mutability(Mutability::ReadOnly)
    }

    pub const fn returned(self, returned: Returned) -> Self {
        Self { returned, ..self }
    }

    pub const fn unique(self) -> Self {
        Self {
            uniqueness: Uniqueness::Server,
            ..self
        }
    }

    pub const fn canonical(self, canonical_values: &'static [&'static str]) -> Self {
        Self {
            canonical_values,
            ..self
        }
    }

    pub const fn refs(self, reference_types: &'static [&'static str]) -> Self {
        Self {
            reference_types,
            ..self
        }
    }

    pub const fn subs(self, sub_attributes: &'static [Attribute]) -> Self {
        Self {
            sub_attributes,
            ..self
        }
    }

    /// The sub-attribute named `name`, whatever its case.
    pub fn sub(&self, name: &str) -> Option<&'static Attribute> {
        find(self.sub_attributes, name)
    }

    /// The JSON of this definition as `/Schemas` publishes it.
    pub fn render(&self) -> Value {
        let mut out = json!({
            "name": self.name,
            "type": kind_name(self.kind),
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": match self.mutability {
                Mutability::ReadOnly => "readOnly",
                Mutability::ReadWrite => "readWrite",
                Mutability::Immutable => "immutable",
                Mutability::WriteOnly => "writeOnly",
            },
            "returned": match self.returned {
                Returned::Always => "always",
                Returned::Never => "never",
                Returned::Default => "default",
                Returned::Request => "request",
            },
            "uniqueness": match self.uniqueness {
                Uniqueness::None => "none",
                Uniqueness::Server => "server",
            },
        });
        if !self.canonical_values.is_empty() {
            out["canonicalValues"] = json!(self.canonical_values);
        }
        if !self.reference_types.is_empty() {
            out["referenceTypes"] = json!(self.reference_types);
        }
        if !self.sub_attributes.is_empty() {
            out["subAttributes"] = self.sub_attributes.iter().map(Attribute::render).collect();
        }
        out
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::String => "string",
        Kind::Boolean => "boolean",
        Kind::Decimal => "decimal",
        Kind::Integer => "integer",
        Kind::DateTime => "dateTime",
        Kind::Binary => "binary",
        Kind::Reference => "reference",
        Kind::Complex => "complex",
    }
}

/// The attribute of `attributes` named `name`, whatever its case.
pub fn find(attributes: &'static [Attribute], name: &str) -> Option<&'static Attribute> {
    attributes
        .iter()
        .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
}

/// A schema: its URN, name and attributes.
#[derive(Debug)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [Attribute],
}

impl Schema {
    /// The `/Schemas` document; `base` is the service's URL (`…/scim/v2`).
    pub fn render(&self, base: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(Attribute::render).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base}/Schemas/{}", self.id),
            },
        })
    }
}

/// Every schema `/Schemas` publishes.
pub const ALL: [&Schema; 6] = [
    &USER,
    &ENTERPRISE_USER,
    &GROUP,
    &SERVICE_PROVIDER_CONFIG,
    &RESOURCE_TYPE,
    &SCHEMA,
];

/// The resource types served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceType {
    User,
    Group,
}

/// Where an attribute lives in a resource: at the top level, or under an extension's URN.
#[derive(Clone, Copy, Debug)]
pub struct Resolved {
    /// The extension schema's URN (the resource's key holding it), `None` at the top level.
    pub extension: Option<&'static str>,
    pub attribute: &'static Attribute,
}

impl ResourceType {
    pub const ALL: [ResourceType; 2] = [ResourceType::User, ResourceType::Group];

    pub fn name(self) -> &'static str {
        match self {
            ResourceType::User => "User",
            ResourceType::Group => "Group",
        }
    }

    /// The collection's path segment (`Users`).
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceType::User => "Users",
            ResourceType::Group => "Groups",
        }
    }

    pub fn core(self) -> &'static Schema {
        match self {
            ResourceType::User => &USER,
            ResourceType::Group => &GROUP,
        }
    }

    pub fn extensions(self) -> &'static [&'static Schema] {
        match self {
            ResourceType::User => &[&ENTERPRISE_USER],
            ResourceType::Group => &[],
        }
    }

    /// The extension whose URN is `urn`, whatever its case.
    pub fn extension(self, urn: &str) -> Option<&'static Schema> {
        self.extensions()
            .iter()
            .copied()
            .find(|schema| schema.id.eq_ignore_ascii_case(urn))
    }

    /// Splits a URN-qualified name (`urn:…:User:name.givenName`) into its schema and the rest
    /// (`name.givenName`); an unqualified name has no schema. A URN of no schema of this type
    /// is `None`.
    pub fn split_urn(self, path: &str) -> Option<(Option<&'static Schema>, &str)> {
        if !path
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        {
            return Some((None, path));
        }
        let schemas = std::iter::once(self.core()).chain(self.extensions().iter().copied());
        for schema in schemas {
            let Some(head) = path.get(..schema.id.len()) else {
                continue;
            };
            let rest = &path[schema.id.len()..];
            if head.eq_ignore_ascii_case(schema.id) && rest.starts_with(':') {
                return Some((Some(schema), &rest[1..]));
            }
        }
        None
    }

    /// The attribute a (top-level) name designates in this type: common (`id`, `meta`), core,
    /// or an extension's when qualified by its URN.
    pub fn resolve(self, schema: Option<&'static Schema>, name: &str) -> Option<Resolved> {
        match schema {
            Some(schema) if schema.id != self.core().id => {
                find(schema.attributes, name).map(|attribute| Resolved {
                    extension: Some(schema.id),
                    attribute,
                })
            }
            _ => find(self.core().attributes, name)
                .or_else(|| find(&COMMON, name))
                .map(|attribute| Resolved {
                    extension: None,
                    attribute,
                }),
        }
    }

    /// The `/ResourceTypes` document.
    pub fn render(self, base: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name(),
            "name": self.name(),
            "endpoint": format!("/{}", self.endpoint()),
            "description": match self {
                ResourceType::User => "User accounts; the router turns their changes into identity events",
                ResourceType::Group => "Groups; membership changes become identity events of their members",
            },
            "schema": self.core().id,
            "schemaExtensions": self.extensions().iter()
                .map(|schema| json!({ "schema": schema.id, "required": false }))
                .collect::<Vec<_>>(),
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base}/ResourceTypes/{}", self.name()),
            },
        })
    }
}

#[cfg(test)]
mod tests;
