//! Who may reach which Space, Folder, List and task: one grant table that both the v2 guest
//! share endpoints and the v3 ACL endpoint write, plus the privacy flag the ACL sets.
//!
//! Invariants: an object has at most one grant per user or group, whichever endpoint made
//! it last (`via` says which); levels are stored once, as [`Level`], and only turned into
//! ClickUp's v2 words or v3 numbers at the edges.

/// A shareable object type, as the v3 ACL path and the inspection helpers name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ObjectKind {
    Space,
    Folder,
    List,
    Task,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Space => "space",
            ObjectKind::Folder => "folder",
            ObjectKind::List => "list",
            ObjectKind::Task => "task",
        }
    }

    /// The kind a v3 `object_type` names, if the sandbox models it.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "space" => Some(ObjectKind::Space),
            "folder" => Some(ObjectKind::Folder),
            "list" => Some(ObjectKind::List),
            "task" => Some(ObjectKind::Task),
            _ => None,
        }
    }
}

/// A permission level; ClickUp's v2 guest endpoints spell it as a word, v3 ACLs as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Level {
    Read,
    Comment,
    Edit,
    Create,
}

impl Level {
    const ALL: [Level; 4] = [Level::Read, Level::Comment, Level::Edit, Level::Create];

    /// `read`, `comment`, `edit` or `create`, as the v2 guest endpoints take and show it.
    pub fn v2_name(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Comment => "comment",
            Level::Edit => "edit",
            Level::Create => "create",
        }
    }

    /// 1, 3, 4 or 5, as the v3 ACL entries take it (there is no 2).
    pub fn v3_number(self) -> u64 {
        match self {
            Level::Read => 1,
            Level::Comment => 3,
            Level::Edit => 4,
            Level::Create => 5,
        }
    }

    pub fn from_v2(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.v2_name() == name)
    }

    pub fn from_v3(number: u64) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|level| level.v3_number() == number)
    }
}

/// Whom a grant is for: a user (member or guest) or a user group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Principal {
    User(u64),
    Group(String),
}

impl Principal {
    /// `(kind, id)` as the v3 ACL entries spell them.
    pub fn parts(&self) -> (&'static str, String) {
        match self {
            Principal::User(id) => ("user", id.to_string()),
            Principal::Group(id) => ("group", id.clone()),
        }
    }
}

/// The endpoint family that made a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Acl,
    Guest,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Acl => "acl",
            Via::Guest => "guest",
        }
    }
}

/// One explicit grant on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub kind: ObjectKind,
    pub object_id: String,
    pub principal: Principal,
    pub level: Level,
    pub via: Via,
}

/// An explicit share as tests see it; `level` uses the v2 words whatever endpoint set it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SandboxShare {
    /// `space`, `folder`, `list` or `task`.
    pub object_type: String,
    pub object_id: String,
    /// `read`, `comment`, `edit` or `create`.
    pub level: String,
    /// `acl` (v3 ACL endpoint) or `guest` (v2 guest share endpoints).
    pub via: String,
}

impl Grant {
    pub fn to_share(&self) -> SandboxShare {
        SandboxShare {
            object_type: self.kind.as_str().to_owned(),
            object_id: self.object_id.clone(),
            level: self.level.v2_name().to_owned(),
            via: self.via.as_str().to_owned(),
        }
    }

    fn is_on(&self, kind: ObjectKind, object_id: &str) -> bool {
        self.kind == kind && self.object_id == object_id
    }
}

/// Every explicit grant in the workspace, in the order they were first made.
#[derive(Debug, Default)]
pub(crate) struct Access {
    grants: Vec<Grant>,
    private: Vec<(ObjectKind, String)>,
}

impl Access {
    /// Grants `level` to `principal`, replacing any grant it already had on the object.
    pub fn grant(
        &mut self,
        kind: ObjectKind,
        object_id: &str,
        principal: Principal,
        level: Level,
        via: Via,
    ) {
        let existing = self
            .grants
            .iter_mut()
            .find(|grant| grant.is_on(kind, object_id) && grant.principal == principal);

        match existing {
            Some(grant) => {
                grant.level = level;
                grant.via = via;
            }
            None => self.grants.push(Grant {
                kind,
                object_id: object_id.to_owned(),
                principal,
                level,
                via,
            }),
        }
    }

    /// Drops `principal`'s grant on the object; absent grants are fine.
    pub fn revoke(&mut self, kind: ObjectKind, object_id: &str, principal: &Principal) {
        self.grants
            .retain(|grant| !(grant.is_on(kind, object_id) && grant.principal == *principal));
    }

    /// Drops every grant of `principal`, as when a user leaves or a group is deleted.
    pub fn forget(&mut self, principal: &Principal) {
        self.grants.retain(|grant| grant.principal != *principal);
    }

    pub fn grants_of<'a>(&'a self, principal: &'a Principal) -> impl Iterator<Item = &'a Grant> {
        self.grants
            .iter()
            .filter(move |grant| grant.principal == *principal)
    }

    pub fn grants_on<'a>(
        &'a self,
        kind: ObjectKind,
        object_id: &'a str,
    ) -> impl Iterator<Item = &'a Grant> {
        self.grants
            .iter()
            .filter(move |grant| grant.is_on(kind, object_id))
    }

    pub fn set_private(&mut self, kind: ObjectKind, object_id: &str, private: bool) {
        self.private
            .retain(|(k, id)| !(*k == kind && id == object_id));
        if private {
            self.private.push((kind, object_id.to_owned()));
        }
    }

    pub fn is_private(&self, kind: ObjectKind, object_id: &str) -> bool {
        self.private
            .iter()
            .any(|(k, id)| *k == kind && id == object_id)
    }
}

#[cfg(test)]
mod tests;
