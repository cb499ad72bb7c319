//! Seeding and inspection of the hierarchy, user groups and grants for tests and `demo`:
//! Spaces, Folders, Lists and tasks with generated or given ids, the groups with their
//! members, a user's or group's explicit shares, and the entries on one object.
//!
//! Shares are explicit grants only: a user's list leaves out what they reach through a
//! group, which [`SandboxState::shares_of_group`] shows.

use super::{
    super::{
        access::{Grant, ObjectKind, Principal, SandboxShare},
        groups::SandboxGroup,
        hierarchy::ListParent,
    },
    now_ms, SandboxState,
};

impl SandboxState {
    /// Adds a Space; returns its id (a numeric string).
    pub fn add_space(&self, name: &str) -> String {
        self.with(|ws| ws.hierarchy.add_space(name))
    }

    /// Adds a Folder to a Space; returns its id (a numeric string).
    pub fn add_folder(&self, space_id: &str, name: &str) -> String {
        self.with(|ws| ws.hierarchy.add_folder(space_id, name))
    }

    /// Adds a folderless List to a Space; returns its id (a numeric string).
    pub fn add_list(&self, space_id: &str, name: &str) -> String {
        let parent = ListParent::Space(space_id.to_owned());
        self.with(|ws| ws.hierarchy.add_list(parent, name))
    }

    /// Adds a List to a Folder; returns its id (a numeric string).
    pub fn add_list_in_folder(&self, folder_id: &str, name: &str) -> String {
        let parent = ListParent::Folder(folder_id.to_owned());
        self.with(|ws| ws.hierarchy.add_list(parent, name))
    }

    /// Adds a Space with a given id, e.g. one a rule file names. Fails when the id is not a
    /// numeric string or is already used by a Space.
    pub fn insert_space(&self, id: &str, name: &str) -> anyhow::Result<()> {
        self.with(|ws| ws.hierarchy.insert_space(id, name))
    }

    /// Adds a Folder with a given id to an existing Space; fails like [`Self::insert_space`].
    pub fn insert_folder(&self, id: &str, space_id: &str, name: &str) -> anyhow::Result<()> {
        self.with(|ws| ws.hierarchy.insert_folder(id, space_id, name))
    }

    /// Adds a List with a given id under an existing Space or Folder.
    pub fn insert_list(&self, id: &str, parent: ListParent, name: &str) -> anyhow::Result<()> {
        self.with(|ws| ws.hierarchy.insert_list(id, parent, name))
    }

    /// Adds a task created by the owner; returns its id (e.g. `"86abc0003"`).
    pub fn add_task(&self, list_id: &str, name: &str) -> String {
        self.with(|ws| {
            let creator = ws.owner_id;
            ws.hierarchy.add_task(list_id, name, creator, now_ms())
        })
    }

    /// Every user group, in the order they were created.
    pub fn groups(&self) -> Vec<SandboxGroup> {
        self.with(|ws| ws.groups.iter().map(|group| group.to_public()).collect())
    }

    /// Adds a user group created by the owner; returns its UUID. The member ids are stored
    /// as given (only active users show in the API), so tests can seed any state.
    pub fn add_group(&self, name: &str, members: &[u64]) -> String {
        self.with(|ws| {
            let creator = ws.owner_id;
            ws.groups.create(name, None, members, creator)
        })
    }

    /// The member ids of the group with this id, else of the first group with this name.
    pub fn group_members(&self, name_or_id: &str) -> Option<Vec<u64>> {
        self.with(|ws| {
            ws.groups
                .find(name_or_id)
                .map(|group| group.members.clone())
        })
    }

    /// The user's explicit shares, from the v3 ACL or the v2 guest endpoints, sorted.
    pub fn shares_of_user(&self, user_id: u64) -> Vec<SandboxShare> {
        self.shares_of(&Principal::User(user_id))
    }

    /// The group's shares (always `via: "acl"`), sorted.
    pub fn shares_of_group(&self, group_id: &str) -> Vec<SandboxShare> {
        let id = self.with(|ws| ws.groups.get(group_id).map(|group| group.id.clone()));
        id.map_or_else(Vec::new, |id| self.shares_of(&Principal::Group(id)))
    }

    fn shares_of(&self, principal: &Principal) -> Vec<SandboxShare> {
        let mut shares: Vec<SandboxShare> = self.with(|ws| {
            ws.access
                .grants_of(principal)
                .map(Grant::to_share)
                .collect()
        });
        shares.sort();
        shares
    }

    /// `(kind, id, level)` of every entry on an object, e.g. `("user", "9001002", "edit")`
    /// or `("group", "<uuid>", "read")`, sorted; empty for unknown types or objects.
    pub fn object_acl(&self, object_type: &str, object_id: &str) -> Vec<(String, String, String)> {
        let Some(kind) = ObjectKind::parse(object_type) else {
            return Vec::new();
        };

        let mut entries: Vec<(String, String, String)> = self.with(|ws| {
            ws.access
                .grants_on(kind, object_id)
                .map(|grant| {
                    let (kind, id) = grant.principal.parts();
                    (kind.to_owned(), id, grant.level.v2_name().to_owned())
                })
                .collect()
        });
        entries.sort();
        entries
    }

    /// Whether the v3 ACL endpoint last made this object private.
    pub fn is_private(&self, object_type: &str, object_id: &str) -> bool {
        ObjectKind::parse(object_type)
            .is_some_and(|kind| self.with(|ws| ws.access.is_private(kind, object_id)))
    }
}
