//! The pure comparison: a person's desired access against what ClickUp shows, into drift
//! items, each with the action that repairs it.
//!
//! Only what the router manages is compared: the account and its role, the user groups the
//! rules name, and shares of the objects the rules (or the person's record) name. ClickUp shows
//! no Space shares, so a desired Space share is listed as unchecked. The workspace owner's
//! account is never compared (the router never changes it).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{
    rules::{Action, Desired, Level, ObjectKind, ObjectRef, ShareGrant, WorkspaceRole},
    store::GrantKind,
};

/// An account as ClickUp shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObservedAccount {
    pub user_id: u64,
    /// The owner shows as an admin, with `owner` set.
    pub role: WorkspaceRole,
    pub owner: bool,
}

/// What ClickUp shows for one person.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// `None`: no active account.
    pub account: Option<ObservedAccount>,
    /// The names of the user groups the account is in.
    pub groups: BTreeSet<String>,
    /// Folder and List shares of the account (ClickUp shows no Space shares).
    pub shares: BTreeMap<ObjectRef, Level>,
}

/// The groups and objects the router manages: others are not compared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub groups: BTreeSet<String>,
    pub objects: BTreeSet<ObjectRef>,
}

/// How ClickUp differs from the desired access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// Desired, not in ClickUp.
    Missing,
    /// In ClickUp on something the router manages, not desired (e.g. shared by hand).
    Unexpected,
    /// In ClickUp at another role or level than desired.
    LevelDiffers,
}

impl DriftKind {
    pub const ALL: [DriftKind; 3] = [
        DriftKind::Missing,
        DriftKind::Unexpected,
        DriftKind::LevelDiffers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::Missing => "missing",
            DriftKind::Unexpected => "unexpected",
            DriftKind::LevelDiffers => "level_differs",
        }
    }
}

/// One difference for one person and object. Ids only: no emails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DriftItem {
    pub iam_id: String,
    pub clickup_user_id: Option<u64>,
    pub kind: DriftKind,
    /// `role` (the account), `group` or `share`, as the grants table names them.
    pub what: GrantKind,
    /// As the grants table writes it: `workspace:<team id>`, the group's name, `list:<id>`.
    pub object: String,
    /// The desired role or level.
    pub desired: Option<String>,
    /// The role or level ClickUp shows.
    pub observed: Option<String>,
    /// The action that repairs it; none when another item's does (an account's removal
    /// takes its groups and shares with it).
    pub fix: Option<Action>,
}

/// The comparison of one person.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compared {
    pub items: Vec<DriftItem>,
    /// Desired objects ClickUp's API cannot show (Space shares).
    pub unchecked: Vec<ObjectRef>,
}

/// Compares `desired` (shares ending at or before `now` count as not desired) with
/// `observed`, within `scope`.
pub fn compare(
    iam_id: &str,
    team_id: u64,
    desired: &Desired,
    observed: &Observed,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Compared {
    if observed.account.is_some_and(|account| account.owner) {
        return Compared::default();
    }
    let mut found = Found {
        iam_id,
        user_id: observed.account.map(|account| account.user_id),
        // An account nobody should have: its removal takes its groups and shares with it.
        removing: desired.role.is_none() && observed.account.is_some(),
        compared: Compared::default(),
    };

    found.role(team_id, desired, observed);

    found.groups(desired, observed, scope);

    let wanted: BTreeMap<&ObjectRef, &ShareGrant> = desired
        .shares
        .iter()
        .filter(|(_, grant)| grant.until.is_none_or(|until| until > now))
        .collect();
    found.shares(&wanted, observed, scope);

    found.compared
}

/// The items found so far for one person.
struct Found<'a> {
    iam_id: &'a str,
    user_id: Option<u64>,
    removing: bool,
    compared: Compared,
}

fn role_name(role: WorkspaceRole) -> Option<String> {
    Some(role.as_str().to_owned())
}

fn level_name(level: Level) -> Option<String> {
    Some(level.as_v2().to_owned())
}

impl Found<'_> {
    fn push(
        &mut self,
        kind: DriftKind,
        what: GrantKind,
        object: String,
        desired: Option<String>,
        observed: Option<String>,
        fix: Option<Action>,
    ) {
        self.compared.items.push(DriftItem {
            iam_id: self.iam_id.to_owned(),
            clickup_user_id: self.user_id,
            kind,
            what,
            object,
            desired,
            observed,
            fix,
        });
    }

    /// A repair of a group or share, unless the account's removal does it.
    fn unless_removing(&self, fix: Action) -> Option<Action> {
        (!self.removing).then_some(fix)
    }

    fn role(&mut self, team_id: u64, desired: &Desired, observed: &Observed) {
        let workspace = format!("workspace:{team_id}");
        let (kind, fix) = match (&desired.role, observed.account) {
            (Some(grant), None) => (
                DriftKind::Missing,
                Action::Invite {
                    role: grant.role,
                    custom_role_id: grant.custom_role_id,
                    rule: grant.rule.clone(),
                },
            ),
            (None, Some(_)) => (DriftKind::Unexpected, Action::RemoveFromWorkspace),
            (Some(grant), Some(account)) if grant.role != account.role => (
                DriftKind::LevelDiffers,
                Action::ChangeRole {
                    from: account.role,
                    to: grant.role,
                    custom_role_id: grant.custom_role_id,
                    rule: grant.rule.clone(),
                },
            ),
            _ => return,
        };
        let wanted = desired
            .role
            .as_ref()
            .and_then(|grant| role_name(grant.role));
        let seen = observed.account.and_then(|account| role_name(account.role));
        self.push(kind, GrantKind::Role, workspace, wanted, seen, Some(fix));
    }

    fn groups(&mut self, desired: &Desired, observed: &Observed, scope: &Scope) {
        let member = || Some("member".to_owned());
        for (group, rule) in &desired.groups {
            if observed.groups.contains(group) {
                continue;
            }
            let (group, rule) = (group.clone(), rule.clone());
            let fix = Action::AddToGroup {
                group: group.clone(),
                rule,
            };
            let kind = DriftKind::Missing;
            self.push(kind, GrantKind::Group, group, member(), None, Some(fix));
        }

        let managed = observed.groups.iter().filter(|g| scope.groups.contains(*g));
        for group in managed.filter(|group| !desired.groups.contains_key(*group)) {
            let fix = self.unless_removing(Action::RemoveFromGroup {
                group: group.clone(),
            });
            let kind = DriftKind::Unexpected;
            self.push(kind, GrantKind::Group, group.clone(), None, member(), fix);
        }
    }

    fn shares(
        &mut self,
        wanted: &BTreeMap<&ObjectRef, &ShareGrant>,
        observed: &Observed,
        scope: &Scope,
    ) {
        for (object, grant) in wanted {
            if object.kind == ObjectKind::Space {
                self.compared.unchecked.push((*object).clone());
                continue;
            }
            let seen = observed.shares.get(*object).copied();
            let (kind, fix) = match seen {
                None => (
                    DriftKind::Missing,
                    Action::Share {
                        object: (*object).clone(),
                        level: grant.level,
                        until: grant.until,
                        rule: grant.rule.clone(),
                    },
                ),
                Some(seen) if seen != grant.level => (
                    DriftKind::LevelDiffers,
                    Action::ChangeShare {
                        object: (*object).clone(),
                        from: seen,
                        to: grant.level,
                        until: grant.until,
                        rule: grant.rule.clone(),
                    },
                ),
                Some(_) => continue,
            };
            let (wanted, seen) = (level_name(grant.level), seen.and_then(level_name));
            let share = GrantKind::Share;
            self.push(kind, share, object.to_string(), wanted, seen, Some(fix));
        }

        let managed = observed
            .shares
            .iter()
            .filter(|(object, _)| scope.objects.contains(*object));
        for (object, seen) in managed.filter(|(object, _)| !wanted.contains_key(object)) {
            let fix = self.unless_removing(Action::Unshare {
                object: object.clone(),
            });
            let (kind, seen) = (DriftKind::Unexpected, level_name(*seen));
            self.push(kind, GrantKind::Share, object.to_string(), None, seen, fix);
        }
    }
}

/// The repairs of `items`, in the order the provision worker applies a plan: invites and
/// role changes, additions, removals, the account last.
pub fn fixes(items: &[DriftItem]) -> Vec<Action> {
    let mut actions: Vec<Action> = items.iter().filter_map(|item| item.fix.clone()).collect();
    actions.sort_by_key(apply_order);
    actions
}

pub(super) fn apply_order(action: &Action) -> u8 {
    match action {
        Action::Invite { .. } | Action::ChangeRole { .. } => 0,
        Action::AddToGroup { .. } | Action::Share { .. } => 1,
        Action::ChangeShare { from, to, .. } if to >= from => 1,
        Action::ChangeShare { .. } | Action::RemoveFromGroup { .. } | Action::Unshare { .. } => 2,
        Action::RemoveFromWorkspace => 3,
    }
}

#[cfg(test)]
mod tests;
