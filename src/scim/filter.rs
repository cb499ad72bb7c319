//! RFC 7644 §3.4.2.2 filters: parsed into an AST, checked against a resource type's schema
//! (every attribute known, every operator fit for its type), then evaluated over resources
//! (`eval`). Attribute names and operators are case-insensitive; errors are `invalidFilter`.

use serde_json::Number;

use super::{
    error::{bounded, ScimError},
    schema::{Attribute, Kind, Mutability, Resolved, ResourceType, Returned},
};

mod eval;
mod parse;
#[cfg(test)]
mod tests;

pub use parse::parse_attr_path;

/// Longest filter accepted, in bytes, and deepest nesting of parentheses, brackets and `not`.
pub const MAX_LENGTH: usize = 4096;
pub const MAX_DEPTH: usize = 32;

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: Op,
        value: Literal,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: an element of `path` matches `filter`.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// `[urn:…:]name[.sub]`, as written (the schema resolves the case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    pub fn parse(word: &str) -> Option<Op> {
        let ops = [
            ("eq", Op::Eq),
            ("ne", Op::Ne),
            ("co", Op::Co),
            ("sw", Op::Sw),
            ("ew", Op::Ew),
            ("gt", Op::Gt),
            ("ge", Op::Ge),
            ("lt", Op::Lt),
            ("le", Op::Le),
        ];
        ops.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|(_, op)| *op)
    }

    fn ordering(self) -> bool {
        matches!(self, Op::Gt | Op::Ge | Op::Lt | Op::Le)
    }

    fn substring(self) -> bool {
        matches!(self, Op::Co | Op::Sw | Op::Ew)
    }
}

/// A comparison value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

/// Where attribute names are looked up: a resource type, or the sub-attributes of a complex
/// attribute (inside `[...]`).
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    Resource(ResourceType),
    Complex(&'static Attribute),
}

impl Scope {
    /// The definition `path` names and the sub-attribute compared, when it names one.
    pub fn resolve(self, path: &AttrPath) -> Option<(Resolved, Option<&'static Attribute>)> {
        let resolved = match self {
            Scope::Resource(resource_type) => {
                let schema = match &path.urn {
                    Some(urn) => Some(
                        std::iter::once(resource_type.core())
                            .chain(resource_type.extensions().iter().copied())
                            .find(|schema| schema.id.eq_ignore_ascii_case(urn))?,
                    ),
                    None => None,
                };
                resource_type.resolve(schema, &path.name)?
            }
            Scope::Complex(parent) if path.urn.is_none() && path.sub.is_none() => Resolved {
                extension: None,
                attribute: parent.sub(&path.name)?,
            },
            Scope::Complex(_) => return None,
        };
        let sub = match &path.sub {
            Some(sub) => Some(resolved.attribute.sub(sub)?),
            None => None,
        };
        Some((resolved, sub))
    }
}

impl AttrPath {
    /// The path as written, for error details.
    pub fn text(&self) -> String {
        let mut text = String::new();
        if let Some(urn) = &self.urn {
            text.push_str(urn);
            text.push(':');
        }
        text.push_str(&self.name);
        if let Some(sub) = &self.sub {
            text.push('.');
            text.push_str(sub);
        }
        bounded(&text)
    }
}

impl Filter {
    /// Parses `text` (within [`MAX_LENGTH`] and [`MAX_DEPTH`]).
    pub fn parse(text: &str) -> Result<Filter, ScimError> {
        parse::parse(text)
    }

    /// Refuses a filter that names an attribute `scope` does not have, or compares one in a way
    /// its type does not allow.
    pub fn check(&self, scope: Scope) -> Result<(), ScimError> {
        match self {
            Filter::And(left, right) | Filter::Or(left, right) => {
                left.check(scope)?;
                right.check(scope)
            }
            Filter::Not(inner) => inner.check(scope),
            Filter::Present(path) => compared(scope, path).map(|_| ()),
            Filter::Compare { path, op, value } => {
                let attribute = compared(scope, path)?;
                check_comparison(attribute, path, *op, value)
            }
            Filter::ValuePath { path, filter } => {
                let (resolved, sub) = resolve(scope, path)?;
                if sub.is_some() || resolved.attribute.kind != Kind::Complex {
                    return Err(ScimError::invalid_filter(format!(
                        "{} is not a complex attribute; [...] filters its values",
                        path.text()
                    )));
                }
                filter.check(Scope::Complex(resolved.attribute))
            }
        }
    }

    /// Whether `resource` (a whole resource, or one value of a complex attribute when `scope`
    /// is one) matches. Call [`Filter::check`] first: unknown attributes match nothing.
    pub fn matches(&self, scope: Scope, resource: &serde_json::Value) -> bool {
        eval::matches(self, scope, resource)
    }
}

fn resolve(
    scope: Scope,
    path: &AttrPath,
) -> Result<(Resolved, Option<&'static Attribute>), ScimError> {
    scope.resolve(path).ok_or_else(|| {
        ScimError::invalid_filter(format!("{} is not an attribute here", path.text()))
    })
}

/// The attribute whose values a comparison reads: the sub-attribute, the `value` of a complex
/// attribute, or the attribute itself.
fn compared(scope: Scope, path: &AttrPath) -> Result<&'static Attribute, ScimError> {
    let (resolved, sub) = resolve(scope, path)?;
    let attribute = match sub {
        Some(sub) => sub,
        None if resolved.attribute.kind == Kind::Complex => {
            resolved.attribute.sub("value").ok_or_else(|| {
                ScimError::invalid_filter(format!(
                    "{} is complex; compare one of its sub-attributes",
                    path.text()
                ))
            })?
        }
        None => resolved.attribute,
    };
    if attribute.returned == Returned::Never || attribute.mutability == Mutability::WriteOnly {
        return Err(ScimError::invalid_filter(format!(
            "{} cannot be filtered on",
            path.text()
        )));
    }
    Ok(attribute)
}

fn check_comparison(
    attribute: &Attribute,
    path: &AttrPath,
    op: Op,
    value: &Literal,
) -> Result<(), ScimError> {
    let refuse = |why: &str| Err(ScimError::invalid_filter(format!("{}: {why}", path.text())));
    if *value == Literal::Null {
        return match op {
            Op::Eq | Op::Ne => Ok(()),
            _ => refuse("null compares with eq and ne only"),
        };
    }
    match attribute.kind {
        Kind::Boolean if op.ordering() || op.substring() => {
            refuse("a boolean compares with eq and ne only")
        }
        Kind::Binary if op.ordering() => refuse("binary values cannot be ordered"),
        Kind::Integer | Kind::Decimal if op.substring() => {
            refuse("a number compares with eq, ne, gt, ge, lt and le")
        }
        Kind::Boolean => match value {
            Literal::Bool(_) => Ok(()),
            Literal::String(text) if boolean_text(text).is_some() => Ok(()),
            _ => refuse("a boolean attribute compares with true or false"),
        },
        Kind::Integer | Kind::Decimal => match value {
            Literal::Number(_) => Ok(()),
            _ => refuse("a number attribute compares with a number"),
        },
        Kind::DateTime => match value {
            Literal::String(text) if op.substring() || parse_time(text).is_some() => Ok(()),
            _ => refuse("a dateTime attribute compares with an RFC 3339 time in quotes"),
        },
        _ => match value {
            Literal::String(_) => Ok(()),
            _ => refuse("a string attribute compares with a string in quotes"),
        },
    }
}

/// `"true"` and `"false"` whatever their case, as some clients send booleans.
pub fn boolean_text(text: &str) -> Option<bool> {
    match text {
        t if t.eq_ignore_ascii_case("true") => Some(true),
        t if t.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// An RFC 3339 time.
pub fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(text).ok()
}
