//! The access vocabulary rules grant: workspace roles, permission levels and shared objects.
//!
//! Roles and levels are ordered from least to most access, so "the highest wins" is `max`.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A ClickUp workspace role the router gives (never the owner).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceRole {
    Guest,
    Member,
    Admin,
}

impl WorkspaceRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            WorkspaceRole::Guest => "guest",
            WorkspaceRole::Member => "member",
            WorkspaceRole::Admin => "admin",
        }
    }

    /// ClickUp's role code: 2 admin, 3 member, 4 guest.
    pub fn as_code(&self) -> u8 {
        match self {
            WorkspaceRole::Admin => 2,
            WorkspaceRole::Member => 3,
            WorkspaceRole::Guest => 4,
        }
    }
}

impl fmt::Display for WorkspaceRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WorkspaceRole {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "guest" => Ok(WorkspaceRole::Guest),
            "member" => Ok(WorkspaceRole::Member),
            "admin" => Ok(WorkspaceRole::Admin),
            _ => Err(UnknownName::new("role", text, "guest, member, admin")),
        }
    }
}

/// A permission level on a shared object, in ClickUp's two vocabularies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Read,
    Comment,
    Edit,
    Create,
}

impl Level {
    /// The API v2 guest-share name: `read`, `comment`, `edit`, `create`.
    pub fn as_v2(&self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Comment => "comment",
            Level::Edit => "edit",
            Level::Create => "create",
        }
    }

    /// The API v3 ACL number: 1 read, 3 comment, 4 edit, 5 create.
    pub fn as_v3(&self) -> u8 {
        match self {
            Level::Read => 1,
            Level::Comment => 3,
            Level::Edit => 4,
            Level::Create => 5,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_v2())
    }
}

impl FromStr for Level {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "read" => Ok(Level::Read),
            "comment" => Ok(Level::Comment),
            "edit" => Ok(Level::Edit),
            "create" => Ok(Level::Create),
            _ => Err(UnknownName::new(
                "level",
                text,
                "read, comment, edit, create",
            )),
        }
    }
}

/// The kinds of ClickUp object a rule can share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Space,
    Folder,
    List,
}

impl ObjectKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ObjectKind::Space => "space",
            ObjectKind::Folder => "folder",
            ObjectKind::List => "list",
        }
    }
}

impl FromStr for ObjectKind {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "space" => Ok(ObjectKind::Space),
            "folder" => Ok(ObjectKind::Folder),
            "list" => Ok(ObjectKind::List),
            _ => Err(UnknownName::new("object kind", text, "space, folder, list")),
        }
    }
}

/// A shared ClickUp object, written `space:901100000100`; ids are ClickUp's numeric strings.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ObjectRef {
    pub kind: ObjectKind,
    pub id: String,
}

impl ObjectRef {
    pub fn new(kind: ObjectKind, id: impl Into<String>) -> ObjectRef {
        ObjectRef {
            kind,
            id: id.into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}

impl FromStr for ObjectRef {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, id) = text
            .split_once(':')
            .ok_or_else(|| UnknownName::new("object", text, "kind:id, e.g. list:901100000210"))?;
        if !is_numeric_id(id) {
            return Err(UnknownName::new("object id", id, "a numeric ClickUp id"));
        }
        Ok(ObjectRef::new(kind.parse()?, id))
    }
}

impl From<ObjectRef> for String {
    fn from(object: ObjectRef) -> String {
        object.to_string()
    }
}

impl TryFrom<String> for ObjectRef {
    type Error = UnknownName;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// Whether `id` looks like a ClickUp space, folder or list id (digits only).
pub fn is_numeric_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_digit())
}

/// A name that is not one of the accepted ones.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}`, expected {expected}")]
pub struct UnknownName {
    what: &'static str,
    given: String,
    expected: &'static str,
}

impl UnknownName {
    fn new(what: &'static str, given: &str, expected: &'static str) -> UnknownName {
        UnknownName {
            what,
            given: given.to_owned(),
            expected,
        }
    }
}
