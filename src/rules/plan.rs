//! The difference between desired and recorded access, as actions in the order to apply them.
//!
//! Order: the invitation or role change first, then groups and shares added (and shares
//! raised), then removals (shares lowered, unshared, groups left), removal from the workspace
//! last. A share's `until` is the router's own record, so a changed end alone is a
//! `ChangeShare` with the same level.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::rules::{
    desired::{Desired, RoleGrant, ShareGrant},
    grant::{Level, ObjectRef, WorkspaceRole},
};

/// What the router has on record now for a person (from the grants table).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentAccess {
    pub role: Option<(WorkspaceRole, Option<u64>)>,
    pub groups: BTreeSet<String>,
    pub shares: BTreeMap<ObjectRef, (Level, Option<DateTime<Utc>>)>,
}

/// One change to a person's ClickUp access, with the rule that asks for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Invite {
        role: WorkspaceRole,
        custom_role_id: Option<u64>,
        rule: String,
    },
    ChangeRole {
        from: WorkspaceRole,
        to: WorkspaceRole,
        custom_role_id: Option<u64>,
        rule: String,
    },
    AddToGroup {
        group: String,
        rule: String,
    },
    RemoveFromGroup {
        group: String,
    },
    Share {
        object: ObjectRef,
        level: Level,
        until: Option<DateTime<Utc>>,
        rule: String,
    },
    ChangeShare {
        object: ObjectRef,
        from: Level,
        to: Level,
        until: Option<DateTime<Utc>>,
        rule: String,
    },
    Unshare {
        object: ObjectRef,
    },
    RemoveFromWorkspace,
}

impl Action {
    /// Whether the action takes access away (what the mass-removal brake counts).
    pub fn is_removal(&self) -> bool {
        match self {
            Action::RemoveFromGroup { .. } | Action::Unshare { .. } => true,
            Action::RemoveFromWorkspace => true,
            Action::ChangeShare { from, to, .. } => to < from,
            Action::ChangeRole { from, to, .. } => to < from,
            Action::Invite { .. } | Action::AddToGroup { .. } | Action::Share { .. } => false,
        }
    }

    /// The rule that asks for the action; removals are asked for by no rule.
    pub fn rule(&self) -> Option<&str> {
        match self {
            Action::Invite { rule, .. }
            | Action::ChangeRole { rule, .. }
            | Action::AddToGroup { rule, .. }
            | Action::Share { rule, .. }
            | Action::ChangeShare { rule, .. } => Some(rule),
            Action::RemoveFromGroup { .. } | Action::Unshare { .. } => None,
            Action::RemoveFromWorkspace => None,
        }
    }

    /// One line for people, e.g. `share list:901100000210 at edit until 2026-12-31T23:59:59Z`.
    pub fn describe(&self) -> String {
        match self {
            Action::Invite {
                role,
                custom_role_id,
                ..
            } => format!("invite as {role}{}", custom_role(*custom_role_id)),
            Action::ChangeRole {
                from,
                to,
                custom_role_id,
                ..
            } => format!(
                "change role from {from} to {to}{}",
                custom_role(*custom_role_id)
            ),
            Action::AddToGroup { group, .. } => format!("add to group {group:?}"),
            Action::RemoveFromGroup { group } => format!("remove from group {group:?}"),
            Action::Share {
                object,
                level,
                until,
                ..
            } => format!("share {object} at {level}{}", until_suffix(*until)),
            Action::ChangeShare {
                object,
                from,
                to,
                until,
                ..
            } if from == to => match until {
                Some(_) => format!("keep {object} at {to}, now{}", until_suffix(*until)),
                None => format!("keep {object} at {to}, now with no end"),
            },
            Action::ChangeShare {
                object,
                from,
                to,
                until,
                ..
            } => format!(
                "change {object} from {from} to {to}{}",
                until_suffix(*until)
            ),
            Action::Unshare { object } => format!("unshare {object}"),
            Action::RemoveFromWorkspace => "remove from the workspace".to_owned(),
        }
    }
}

/// The difference between desired and current, in apply order. Desired shares that end at or
/// before `now` count as not desired.
pub fn plan(desired: &Desired, current: &CurrentAccess, now: DateTime<Utc>) -> Vec<Action> {
    let Some(role) = &desired.role else {
        return plan_removal(current);
    };
    let mut actions = Vec::new();
    let mut removals = Vec::new();

    actions.extend(role_change(role, current.role));

    for (group, rule) in &desired.groups {
        if !current.groups.contains(group) {
            let (group, rule) = (group.clone(), rule.clone());
            actions.push(Action::AddToGroup { group, rule });
        }
    }

    let wanted: BTreeMap<&ObjectRef, &ShareGrant> = desired
        .shares
        .iter()
        .filter(|(_, grant)| grant.until.is_none_or(|until| until > now))
        .collect();
    for (object, grant) in &wanted {
        let change = share_change(object, grant, current.shares.get(*object));
        match change {
            Some(change) if change.is_removal() => removals.push(change),
            Some(change) => actions.push(change),
            None => {}
        }
    }

    let unshared = current
        .shares
        .keys()
        .filter(|object| !wanted.contains_key(object));
    removals.extend(unshared.map(|object| Action::Unshare {
        object: object.clone(),
    }));
    let left = current
        .groups
        .iter()
        .filter(|group| !desired.groups.contains_key(*group));
    removals.extend(left.map(|group| Action::RemoveFromGroup {
        group: group.clone(),
    }));
    actions.extend(removals);
    actions
}

/// For a leaver, a disable or a deletion: remove everything on record.
pub fn plan_removal(current: &CurrentAccess) -> Vec<Action> {
    let unshared = current.shares.keys().map(|object| Action::Unshare {
        object: object.clone(),
    });
    let left = current.groups.iter().map(|group| Action::RemoveFromGroup {
        group: group.clone(),
    });
    let removed = current.role.map(|_| Action::RemoveFromWorkspace);
    unshared.chain(left).chain(removed).collect()
}

/// The invitation, or the change of role or custom role, that `role` asks for, if any.
fn role_change(role: &RoleGrant, recorded: Option<(WorkspaceRole, Option<u64>)>) -> Option<Action> {
    let (to, custom_role_id, rule) = (role.role, role.custom_role_id, role.rule.clone());
    match recorded {
        None => Some(Action::Invite {
            role: to,
            custom_role_id,
            rule,
        }),
        Some(recorded) if recorded == (to, custom_role_id) => None,
        Some((from, _)) => Some(Action::ChangeRole {
            from,
            to,
            custom_role_id,
            rule,
        }),
    }
}

/// The action that brings a recorded share (if any) to `grant`, if it differs.
fn share_change(
    object: &ObjectRef,
    grant: &ShareGrant,
    recorded: Option<&(Level, Option<DateTime<Utc>>)>,
) -> Option<Action> {
    let (object, rule) = (object.clone(), grant.rule.clone());
    match recorded {
        None => Some(Action::Share {
            object,
            level: grant.level,
            until: grant.until,
            rule,
        }),
        Some(&(level, until)) if (level, until) == (grant.level, grant.until) => None,
        Some(&(from, _)) => Some(Action::ChangeShare {
            object,
            from,
            to: grant.level,
            until: grant.until,
            rule,
        }),
    }
}

fn custom_role(custom_role_id: Option<u64>) -> String {
    custom_role_id.map_or_else(String::new, |id| format!(" (custom role {id})"))
}

fn until_suffix(until: Option<DateTime<Utc>>) -> String {
    until.map_or_else(String::new, |until| {
        format!(
            " until {}",
            until.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    })
}
