//! Workspace members and guests: the user records behind `GET /v2/team` and the user and
//! guest endpoints, and the JSON shapes ClickUp renders a user in.
//!
//! Invariants: user ids are integers that never change; an email belongs to one record, so
//! re-adding a removed user reactivates the same id, as ClickUp does with its global users.

use serde_json::{json, Map, Value};

/// A workspace role, with ClickUp's numeric ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner = 1,
    Admin = 2,
    Member = 3,
    Guest = 4,
}

impl Role {
    /// The `role` number ClickUp puts in JSON.
    pub fn id(self) -> u8 {
        self as u8
    }
}

/// A workspace user as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxUser {
    pub id: u64,
    pub email: String,
    /// Empty while an invitation made through the API is pending (ClickUp shows `null`).
    pub username: String,
    pub role: Role,
    pub active: bool,
}

/// A custom role the sandbox workspace defines (the ones in ClickUp's spec examples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CustomRole {
    pub id: u64,
    pub name: &'static str,
    pub inherited: Role,
}

pub(crate) const CUSTOM_ROLES: [CustomRole; 3] = [
    CustomRole {
        id: 998_877,
        name: "member custom",
        inherited: Role::Member,
    },
    CustomRole {
        id: 112_233,
        name: "admin custom",
        inherited: Role::Admin,
    },
    CustomRole {
        id: 12_345,
        name: "guest custom",
        inherited: Role::Guest,
    },
];

pub(crate) fn custom_role(id: u64) -> Option<CustomRole> {
    CUSTOM_ROLES.into_iter().find(|role| role.id == id)
}

/// The `roles` array of the invite responses.
pub(crate) fn roles_json() -> Value {
    let builtin = [Role::Owner, Role::Admin, Role::Member, Role::Guest]
        .into_iter()
        .zip(["owner", "admin", "member", "guest"])
        .map(|(role, name)| json!({ "id": role.id(), "name": name, "custom": false }));
    let custom = CUSTOM_ROLES.into_iter().map(|role| {
        json!({
            "id": role.id,
            "name": role.name,
            "inherited_role": role.inherited.id(),
            "custom": true
        })
    });
    Value::Array(builtin.chain(custom).collect())
}

/// What a guest may do, as the guest endpoints set and show it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct GuestPermissions {
    pub can_edit_tags: bool,
    pub can_see_time_spent: bool,
    pub can_see_time_estimated: bool,
    pub can_create_views: bool,
    pub can_see_points_estimated: bool,
}

impl GuestPermissions {
    pub const FIELDS: [&'static str; 5] = [
        "can_edit_tags",
        "can_see_time_spent",
        "can_see_time_estimated",
        "can_create_views",
        "can_see_points_estimated",
    ];

    pub fn flag_mut(&mut self, field: &str) -> Option<&mut bool> {
        match field {
            "can_edit_tags" => Some(&mut self.can_edit_tags),
            "can_see_time_spent" => Some(&mut self.can_see_time_spent),
            "can_see_time_estimated" => Some(&mut self.can_see_time_estimated),
            "can_create_views" => Some(&mut self.can_create_views),
            "can_see_points_estimated" => Some(&mut self.can_see_points_estimated),
            _ => None,
        }
    }

    /// Adds the `can_*` fields to a guest entry.
    pub fn extend(&self, entry: &mut Map<String, Value>) {
        let values = [
            self.can_edit_tags,
            self.can_see_time_spent,
            self.can_see_time_estimated,
            self.can_create_views,
            self.can_see_points_estimated,
        ];
        for (field, value) in Self::FIELDS.into_iter().zip(values) {
            entry.insert(field.to_owned(), Value::Bool(value));
        }
    }
}

const COLORS: [&str; 6] = [
    "#7b68ee", "#827718", "#FC575E", "#0388d1", "#8D00D4", "#ff7800",
];

/// One user as the sandbox stores it; timestamps are Unix milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct UserRecord {
    pub id: u64,
    pub email: String,
    pub username: Option<String>,
    pub role: Role,
    pub custom_role: Option<u64>,
    pub active: bool,
    pub invited_by: Option<u64>,
    pub date_invited: u64,
    pub date_joined: Option<u64>,
    pub permissions: GuestPermissions,
}

impl UserRecord {
    pub fn to_public(&self) -> SandboxUser {
        SandboxUser {
            id: self.id,
            email: self.email.clone(),
            username: self.username.clone().unwrap_or_default(),
            role: self.role,
            active: self.active,
        }
    }

    fn color(&self) -> &'static str {
        COLORS[(self.id % COLORS.len() as u64) as usize]
    }

    /// First letters of the first two words of the name, else of the email.
    fn initials(&self) -> String {
        let from_name: String = self
            .username
            .iter()
            .flat_map(|name| name.split_whitespace())
            .filter_map(|word| word.chars().next())
            .take(2)
            .collect();
        let initials = if from_name.is_empty() {
            self.email.chars().take(1).collect()
        } else {
            from_name
        };
        initials.to_uppercase()
    }

    /// An entry of `teams[].members` in `GET /v2/team`.
    pub fn team_member_json(&self) -> Value {
        json!({ "user": {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "color": self.color(),
            "profilePicture": null,
            "initials": self.initials(),
            "role": self.role.id()
        }})
    }

    /// The `user` object of `GET /v2/user`.
    pub fn profile_json(&self) -> Value {
        json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "color": self.color(),
            "profilePicture": null,
            "initials": self.initials(),
            "week_start_day": 0,
            "global_font_support": false,
            "timezone": "Etc/UTC"
        })
    }

    /// The `user` object of the user and guest endpoints.
    pub fn detail_json(&self) -> Value {
        let custom_role = self
            .custom_role
            .and_then(custom_role)
            .map(|role| json!({ "id": role.id, "name": role.name }));
        let joined = self.date_joined.map(|ms| ms.to_string());

        json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "color": null,
            "profilePicture": null,
            "initials": self.initials(),
            "role": self.role.id(),
            "custom_role": custom_role,
            "last_active": joined,
            "date_joined": joined,
            "date_invited": self.date_invited.to_string()
        })
    }

    /// An entry of a user group's `members`.
    pub fn group_member_json(&self) -> Value {
        json!({
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "color": self.color(),
            "initials": self.initials(),
            "profilePicture": null
        })
    }

    /// The `invited_by` object, describing this user as the inviter.
    fn inviter_json(&self) -> Value {
        json!({
            "id": self.id,
            "color": self.color(),
            "username": self.username,
            "email": self.email,
            "initials": self.initials(),
            "profilePicture": null
        })
    }
}

/// A new or returning user.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Enrollment<'a> {
    pub email: &'a str,
    pub username: Option<&'a str>,
    pub role: Role,
    pub custom_role: Option<u64>,
    pub invited_by: Option<u64>,
    /// Whether the user has already joined (seeded users) or only been invited.
    pub joined: bool,
    pub now_ms: u64,
}

/// Every user the workspace has known, active or not.
#[derive(Debug)]
pub(crate) struct Directory {
    users: Vec<UserRecord>,
    next_id: u64,
}

impl Default for Directory {
    fn default() -> Self {
        Directory {
            users: Vec::new(),
            next_id: 9_001_001,
        }
    }
}

impl Directory {
    /// Adds a user, or reactivates the record that already has this email; returns its id.
    pub fn enroll(&mut self, enrollment: Enrollment<'_>) -> u64 {
        let joined_at = enrollment.joined.then_some(enrollment.now_ms);
        let existing = self
            .users
            .iter_mut()
            .find(|user| user.email.eq_ignore_ascii_case(enrollment.email));

        if let Some(user) = existing {
            user.active = true;
            user.role = enrollment.role;
            user.custom_role = enrollment.custom_role;
            user.invited_by = enrollment.invited_by;
            user.date_invited = enrollment.now_ms;
            user.date_joined = joined_at.or(user.date_joined);
            user.permissions = GuestPermissions::default();
            if let Some(username) = enrollment.username {
                user.username = Some(username.to_owned());
            }
            return user.id;
        }

        let id = self.next_id;
        self.next_id += 1;
        self.users.push(UserRecord {
            id,
            email: enrollment.email.to_owned(),
            username: enrollment.username.map(str::to_owned),
            role: enrollment.role,
            custom_role: enrollment.custom_role,
            active: true,
            invited_by: enrollment.invited_by,
            date_invited: enrollment.now_ms,
            date_joined: joined_at,
            permissions: GuestPermissions::default(),
        });
        id
    }

    pub fn get(&self, id: u64) -> Option<&UserRecord> {
        self.users.iter().find(|user| user.id == id)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut UserRecord> {
        self.users.iter_mut().find(|user| user.id == id)
    }

    pub fn find_active_by_email(&self, email: &str) -> Option<&UserRecord> {
        self.active()
            .find(|user| user.email.eq_ignore_ascii_case(email))
    }

    pub fn active(&self) -> impl Iterator<Item = &UserRecord> {
        self.users.iter().filter(|user| user.active)
    }

    /// The `invited_by` object for `user`, or `null` for the workspace owner.
    pub fn inviter_json(&self, user: &UserRecord) -> Value {
        user.invited_by
            .and_then(|id| self.get(id))
            .map_or(Value::Null, UserRecord::inviter_json)
    }
}
