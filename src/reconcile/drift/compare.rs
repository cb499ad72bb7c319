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
    rules::{Action, Desired, Level, ObjectKind, ObjectRef, WorkspaceRole},
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
    let mut compared = Compared::default();
    if observed.account.is_some_and(|account| account.owner) {
        return compared;
    }
    let user_id = observed.account.map(|account| account.user_id);
    let item = |kind, what, object: String, desired: Option<String>, observed, fix| DriftItem {
        iam_id: iam_id.to_owned(),
        clickup_user_id: user_id,
        kind,
        what,
        object,
        desired,
        observed,
        fix,
    };
    let removed = desired.role.is_none() && observed.account.is_some();
    let groups_and_shares_fix = |fix: Action| (!removed).then_some(fix);

    let workspace = format!("workspace:{team_id}");
    let role = |role: WorkspaceRole| Some(role.as_str().to_owned());
    match (&desired.role, observed.account) {
        (Some(grant), None) => compared.items.push(item(
            DriftKind::Missing,
            GrantKind::Role,
            workspace,
            role(grant.role),
            None,
            Some(Action::Invite {
                role: grant.role,
                custom_role_id: grant.custom_role_id,
                rule: grant.rule.clone(),
            }),
        )),
        (None, Some(account)) => compared.items.push(item(
            DriftKind::Unexpected,
            GrantKind::Role,
            workspace,
            None,
            role(account.role),
            Some(Action::RemoveFromWorkspace),
        )),
        (Some(grant), Some(account)) if grant.role != account.role => {
            compared.items.push(item(
                DriftKind::LevelDiffers,
                GrantKind::Role,
                workspace,
                role(grant.role),
                role(account.role),
                Some(Action::ChangeRole {
                    from: account.role,
                    to: grant.role,
                    custom_role_id: grant.custom_role_id,
                    rule: grant.rule.clone(),
                }),
            ))
        }
        _ => {}
    }

    let member = || Some("member".to_owned());
    for (group, rule) in &desired.groups {
        if !observed.groups.contains(group) {
            let fix = Action::AddToGroup {
                group: group.clone(),
                rule: rule.clone(),
            };
            let missing = DriftKind::Missing;
            let fix = Some(fix);
            compared.items.push(item(
                missing,
                GrantKind::Group,
                group.clone(),
                member(),
                None,
                fix,
            ));
        }
    }
    let managed_groups = observed.groups.iter().filter(|g| scope.groups.contains(*g));
    for group in managed_groups.filter(|group| !desired.groups.contains_key(*group)) {
        let fix = groups_and_shares_fix(Action::RemoveFromGroup {
            group: group.clone(),
        });
        let kind = DriftKind::Unexpected;
        compared.items.push(item(
            kind,
            GrantKind::Group,
            group.clone(),
            None,
            member(),
            fix,
        ));
    }

    let wanted = desired
        .shares
        .iter()
        .filter(|(_, grant)| grant.until.is_none_or(|until| until > now));
    let level = |level: Level| Some(level.as_v2().to_owned());
    let mut wanted_objects = BTreeSet::new();
    for (object, grant) in wanted {
        wanted_objects.insert(object);
        if object.kind == ObjectKind::Space {
            compared.unchecked.push(object.clone());
            continue;
        }
        let (kind, fix) = match observed.shares.get(object) {
            None => (
                DriftKind::Missing,
                Action::Share {
                    object: object.clone(),
                    level: grant.level,
                    until: grant.until,
                    rule: grant.rule.clone(),
                },
            ),
            Some(&seen) if seen != grant.level => (
                DriftKind::LevelDiffers,
                Action::ChangeShare {
                    object: object.clone(),
                    from: seen,
                    to: grant.level,
                    until: grant.until,
                    rule: grant.rule.clone(),
                },
            ),
            Some(_) => continue,
        };
        let seen = observed.shares.get(object).copied().and_then(level);
        let object_text = object.to_string();
        let share = GrantKind::Share;
        compared.items.push(item(
            kind,
            share,
            object_text,
            level(grant.level),
            seen,
            Some(fix),
        ));
    }
    let managed_shares = observed
        .shares
        .iter()
        .filter(|(object, _)| scope.objects.contains(*object));
    for (object, seen) in managed_shares.filter(|(o, _)| !wanted_objects.contains(o)) {
        let fix = groups_and_shares_fix(Action::Unshare {
            object: object.clone(),
        });
        let kind = DriftKind::Unexpected;
        let seen = level(*seen);
        let share = GrantKind::Share;
        compared
            .items
            .push(item(kind, share, object.to_string(), None, seen, fix));
    }
    compared
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
