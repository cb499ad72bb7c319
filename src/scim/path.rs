//! PATCH paths (RFC 7644 §3.5.2): `attr`, `attr.sub`, `urn:…:attr`, `attr[filter]`,
//! `attr[filter].sub`, and an extension's URN alone (the whole extension). Names resolve
//! against the resource type's schema whatever their case; errors are `invalidPath`.

use super::{
    error::{bounded, ScimError},
    filter::{parse_attr_path, Filter, Scope},
    schema::{Attribute, Kind, ResourceType, Schema},
};

/// What a PATCH operation's path designates.
#[derive(Debug)]
pub enum PatchPath {
    /// The extension's attributes as a whole.
    Extension(&'static Schema),
    Attribute(Target),
}

/// An attribute, the values of it a filter selects (multi-valued), and a sub-attribute of it.
#[derive(Debug)]
pub struct Target {
    /// The extension's URN when the attribute is an extension's.
    pub extension: Option<&'static str>,
    pub attribute: &'static Attribute,
    pub filter: Option<Filter>,
    pub sub: Option<&'static Attribute>,
}

impl Target {
    /// The path for error details.
    pub fn text(&self) -> String {
        match self.sub {
            Some(sub) => format!("{}.{}", self.attribute.name, sub.name),
            None => self.attribute.name.to_owned(),
        }
    }
}

pub fn parse(resource_type: ResourceType, text: &str) -> Result<PatchPath, ScimError> {
    let text = text.trim();
    if let Some(extension) = resource_type.extension(text) {
        return Ok(PatchPath::Extension(extension));
    }
    let invalid = |why: &str| ScimError::invalid_path(format!("{}: {why}", bounded(text)));

    let (head, filter, tail) = match text.find('[') {
        Some(open) => {
            let close = closing_bracket(text, open).ok_or_else(|| invalid("'[' is not closed"))?;
            let tail = &text[close + 1..];
            let tail = match tail {
                "" => None,
                tail => Some(
                    tail.strip_prefix('.')
                        .ok_or_else(|| invalid("only .subAttribute may follow ']'"))?,
                ),
            };
            (&text[..open], Some(&text[open + 1..close]), tail)
        }
        None => (text, None, None),
    };

    let path = parse_attr_path(head).map_err(|why| invalid(&why))?;
    if filter.is_some() && path.sub.is_some() {
        return Err(invalid(
            "a filter applies to an attribute, not a sub-attribute",
        ));
    }
    let (resolved, sub) = Scope::Resource(resource_type)
        .resolve(&path)
        .ok_or_else(|| invalid("no such attribute"))?;
    let sub = match tail {
        Some(name) => Some(
            resolved
                .attribute
                .sub(name)
                .ok_or_else(|| invalid("no such sub-attribute"))?,
        ),
        None => sub,
    };

    let filter = match filter {
        Some(text) => {
            if resolved.attribute.kind != Kind::Complex {
                return Err(invalid("only complex attributes take a filter"));
            }
            let filter = Filter::parse(text)
                .and_then(|f| f.check(Scope::Complex(resolved.attribute)).map(|_| f))
                .map_err(|e| invalid(&e.detail))?;
            Some(filter)
        }
        None => None,
    };
    Ok(PatchPath::Attribute(Target {
        extension: resolved.extension,
        attribute: resolved.attribute,
        filter,
        sub,
    }))
}

/// The `]` closing the `[` at `open`, skipping quoted strings.
fn closing_bracket(text: &str, open: usize) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (at, c) in text[open + 1..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ']' if !quoted => return Some(open + 1 + at),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::error::ScimType;

    fn shape(resource_type: ResourceType, text: &str) -> Result<String, ScimType> {
        match parse(resource_type, text) {
            Ok(PatchPath::Extension(schema)) => Ok(format!("ext {}", schema.name)),
            Ok(PatchPath::Attribute(t)) => Ok(format!(
                "{}{}{}{}",
                t.extension.map_or(String::new(), |_| "ext:".into()),
                t.attribute.name,
                if t.filter.is_some() { "[…]" } else { "" },
                t.sub.map_or(String::new(), |s| format!(".{}", s.name)),
            )),
            Err(e) => Err(e.scim_type.unwrap()),
        }
    }

    #[test]
    fn paths_resolve_to_their_attribute_filter_and_sub_attribute() {
        let user = ResourceType::User;
        let cases = [
            ("userName", Ok("userName")),
            ("USERNAME", Ok("userName")),
            ("name.givenName", Ok("name.givenName")),
            ("Name.GIVENNAME", Ok("name.givenName")),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:title",
                Ok("title"),
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
                Ok("name.familyName"),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                Ok("ext:department"),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                Ok("ext:manager.value"),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                Ok("ext EnterpriseUser"),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user",
                Ok("ext EnterpriseUser"),
            ),
            (r#"emails[type eq "work"]"#, Ok("emails[…]")),
            (r#"emails[type eq "work"].value"#, Ok("emails[…].value")),
            (
                r#"emails[type eq "wo]rk" and value co "@x"].Value"#,
                Ok("emails[…].value"),
            ),
            (
                r#"addresses[type eq "work"].streetAddress"#,
                Ok("addresses[…].streetAddress"),
            ),
            ("groups", Ok("groups")),
            ("nothing", Err(ScimType::InvalidPath)),
            ("name.nothing", Err(ScimType::InvalidPath)),
            ("name.givenName.x", Err(ScimType::InvalidPath)),
            (r#"emails[type eq "work"#, Err(ScimType::InvalidPath)),
            (r#"emails[type eq "work"]value"#, Err(ScimType::InvalidPath)),
            (
                r#"emails[type eq "work"].nothing"#,
                Err(ScimType::InvalidPath),
            ),
            (r#"emails[nothing eq "work"]"#, Err(ScimType::InvalidPath)),
            (r#"emails[type zz "work"]"#, Err(ScimType::InvalidPath)),
            (
                r#"emails.value[type eq "work"]"#,
                Err(ScimType::InvalidPath),
            ),
            (r#"userName[value eq "x"]"#, Err(ScimType::InvalidPath)),
            ("urn:example:other:attr", Err(ScimType::InvalidPath)),
            ("", Err(ScimType::InvalidPath)),
        ];
        for (text, expected) in cases {
            assert_eq!(shape(user, text), expected.map(str::to_owned), "{text}");
        }

        let group = ResourceType::Group;
        assert_eq!(
            shape(group, r#"members[value eq "u1"]"#),
            Ok("members[…]".into())
        );
        assert_eq!(shape(group, "members"), Ok("members".into()));
        assert_eq!(shape(group, "userName"), Err(ScimType::InvalidPath));
    }
}
