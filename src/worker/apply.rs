//! Applies a person's plan in ClickUp, one action at a time, recording each applied action as
//! a grant change with its audit row.
//!
//! Invariant: a grant is opened or closed only after ClickUp accepted the call, so the record
//! never claims access that was not given or taken. A failed action stops the plan; the next
//! attempt recomputes the difference and resumes.

use std::collections::HashMap;

use serde_json::json;

use crate::{
    clickup::{access::Target, ClickUpClient, ClickUpError, Role},
    rules::{Action, ObjectKind, ObjectRef, WorkspaceRole},
    store::{GrantChange, GrantKind, Store},
};

mod calls;
mod record;

/// Why a plan is being applied: the event (or scheduler) behind it, for grants and audit.
#[derive(Clone, Debug)]
pub struct Cause {
    pub iam_id: String,
    pub email: Option<String>,
    pub display_name: String,
    pub event_id: String,
    pub correlation_id: String,
    /// `event`, `expiry`, `rules-reload`, `brake-release`, `leaver`.
    pub kind: &'static str,
    /// When the person's access ends (the IAM's end date), epoch ms.
    pub ends_at: Option<i64>,
    /// Why all of the person's access ends, when it does (`terminated`, `disabled`,
    /// `deleted`, `contract ended`): the reason every grant this plan closes records.
    pub ending: Option<&'static str>,
    /// Who the audit rows name as actor: the person who asked for the change (the releaser of
    /// a drift hold), else the router.
    pub actor: Option<String>,
}

/// Why applying stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("ClickUp: {0}")]
    ClickUp(#[from] ClickUpError),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Refused(String),
}

impl ApplyError {
    pub fn is_transient(&self) -> bool {
        match self {
            ApplyError::ClickUp(e) => e.is_transient(),
            ApplyError::Store(_) => true,
            ApplyError::Refused(_) => false,
        }
    }
}

pub struct Applier<'a> {
    pub clickup: &'a ClickUpClient,
    pub store: &'a Store,
    pub team_id: u64,
}

/// The ClickUp account the plan acts on, found or created along the way.
struct Account {
    user_id: Option<u64>,
    guest: bool,
    username: String,
}

impl Applier<'_> {
    /// Applies `actions` in order; returns how many were applied.
    pub async fn apply(&self, cause: &Cause, actions: &[Action]) -> Result<usize, ApplyError> {
        let mut account = self.account(cause).await?;
        let mut groups: HashMap<String, String> = HashMap::new();

        // A refused action (one ClickUp's API cannot do) must not keep the rest of the plan,
        // removals above all, from being applied: note it and go on. A transient failure
        // stops the plan; the retry resumes from the record.
        let mut refused = Vec::new();
        for action in actions {
            if let Err(error) = self
                .apply_one(cause, action, &mut account, &mut groups)
                .await
            {
                self.audit_failure(cause, action, &error).await;
                if error.is_transient() {
                    return Err(error);
                }
                refused.push(format!("{}: {error}", action.describe()));
            }
        }
        if !refused.is_empty() {
            return Err(ApplyError::Refused(refused.join("; ")));
        }
        Ok(actions.len())
    }

    async fn account(&self, cause: &Cause) -> Result<Account, ApplyError> {
        let identity = self.store.identity(&cause.iam_id).await?;
        let grants = self.store.open_grants(&cause.iam_id).await?;
        let guest = grants
            .iter()
            .any(|g| g.kind == GrantKind::Role && g.level == "guest");
        Ok(Account {
            user_id: identity.and_then(|i| i.clickup_user_id).map(|id| id as u64),
            guest,
            username: cause.display_name.clone(),
        })
    }

    async fn apply_one(
        &self,
        cause: &Cause,
        action: &Action,
        account: &mut Account,
        groups: &mut HashMap<String, String>,
    ) -> Result<(), ApplyError> {
        match action {
            Action::Invite {
                role,
                custom_role_id,
                rule,
            } => {
                let (member, linked) = self.invite(cause, *role, *custom_role_id).await?;
                // A linked account keeps the role it has; a difference shows in the next plan.
                let actual = match member.role() {
                    Role::Guest => WorkspaceRole::Guest,
                    Role::Admin | Role::Owner => WorkspaceRole::Admin,
                    Role::Member => WorkspaceRole::Member,
                };
                let actual = if linked { actual } else { *role };
                account.user_id = Some(member.id);
                account.guest = actual == WorkspaceRole::Guest;
                self.store
                    .set_clickup_user(&cause.iam_id, Some(member.id as i64))
                    .await?;
                let grant = self.grant(
                    cause,
                    GrantKind::Role,
                    self.workspace(),
                    role_name(actual),
                    *custom_role_id,
                    rule,
                    cause.ends_at,
                );
                let action = if linked {
                    "clickup.link"
                } else {
                    "clickup.invite"
                };
                self.record(
                    cause,
                    GrantChange::Open(grant),
                    action,
                    Some(member.id),
                    json!({"role": role_name(actual), "asked": role_name(*role)}),
                )
                .await
            }
            Action::ChangeRole {
                from,
                to,
                custom_role_id,
                rule,
            } => {
                let user_id = require(account)?;
                if (*from == WorkspaceRole::Guest) != (*to == WorkspaceRole::Guest) {
                    return Err(ApplyError::Refused(format!(
                        "ClickUp's API cannot turn a {} into a {}; change the account by hand",
                        role_name(*from),
                        role_name(*to)
                    )));
                }
                self.clickup
                    .set_member_role(
                        self.team_id,
                        user_id,
                        &account.username,
                        *to == WorkspaceRole::Admin,
                        *custom_role_id,
                    )
                    .await?;
                let grant = self.grant(
                    cause,
                    GrantKind::Role,
                    self.workspace(),
                    role_name(*to),
                    *custom_role_id,
                    rule,
                    cause.ends_at,
                );
                let change = GrantChange::Replace {
                    end: self.end(cause, "role changed"),
                    grant,
                };
                self.record(
                    cause,
                    change,
                    "clickup.change_role",
                    Some(user_id),
                    json!({"from": role_name(*from), "to": role_name(*to)}),
                )
                .await
            }
            Action::AddToGroup { group, rule } => {
                let user_id = require(account)?;
                let group_id = self.group_id(group, groups).await?;
                self.clickup
                    .change_group_members(&group_id, &[user_id], &[])
                    .await?;
                let grant = self.grant(
                    cause,
                    GrantKind::Group,
                    group.clone(),
                    "member",
                    None,
                    rule,
                    None,
                );
                self.record(
                    cause,
                    GrantChange::Open(grant),
                    "clickup.add_to_group",
                    Some(user_id),
                    json!({"group_id": group_id}),
                )
                .await
            }
            Action::RemoveFromGroup { group } => {
                let user_id = require(account)?;
                let group_id = self.group_id(group, groups).await?;
                self.clickup
                    .change_group_members(&group_id, &[], &[user_id])
                    .await?;
                let reason = cause.ending.unwrap_or("no rule grants it");
                let change = self.close(cause, GrantKind::Group, group, reason);
                self.record(
                    cause,
                    change,
                    "clickup.remove_from_group",
                    Some(user_id),
                    json!({"group_id": group_id}),
                )
                .await
            }
            Action::Share {
                object,
                level,
                until,
                rule,
            } => {
                let user_id = require(account)?;
                let via = self.share(object, *level, user_id, account.guest).await?;
                let grant = self.grant(
                    cause,
                    GrantKind::Share,
                    object.to_string(),
                    level.as_v2(),
                    None,
                    rule,
                    until.map(|u| u.timestamp_millis()),
                );
                self.record(
                    cause,
                    GrantChange::Open(grant),
                    "clickup.share",
                    Some(user_id),
                    json!({"level": level.as_v2(), "via": via.as_str()}),
                )
                .await
            }
            Action::ChangeShare {
                object,
                from,
                to,
                until,
                rule,
            } => {
                let user_id = require(account)?;
                let via = self.share(object, *to, user_id, account.guest).await?;
                let grant = self.grant(
                    cause,
                    GrantKind::Share,
                    object.to_string(),
                    to.as_v2(),
                    None,
                    rule,
                    until.map(|u| u.timestamp_millis()),
                );
                let change = GrantChange::Replace {
                    end: self.end(cause, "level changed"),
                    grant,
                };
                // A lower level takes access away: the brake counts downgrades, not upgrades.
                let action = if to < from {
                    "clickup.downgrade_share"
                } else {
                    "clickup.change_share"
                };
                self.record(
                    cause,
                    change,
                    action,
                    Some(user_id),
                    json!({"from": from.as_v2(), "to": to.as_v2(), "via": via.as_str()}),
                )
                .await
            }
            Action::Unshare { object } => {
                let user_id = require(account)?;
                let via = self.unshare(object, user_id, account.guest).await?;
                let reason = match (cause.ending, cause.kind) {
                    (Some(ending), _) => ending,
                    (None, "expiry") => "expired",
                    (None, _) => "no rule grants it",
                };
                let change = self.close(cause, GrantKind::Share, &object.to_string(), reason);
                let detail = json!({"via": via.as_str()});
                self.record(cause, change, "clickup.unshare", Some(user_id), detail)
                    .await
            }
            Action::RemoveFromWorkspace => self.remove_account(cause, account).await,
        }
    }
}

fn require(account: &Account) -> Result<u64, ApplyError> {
    account
        .user_id
        .ok_or_else(|| ApplyError::Refused("the person has no ClickUp account on record".into()))
}

fn target(object: &ObjectRef) -> Target<'_> {
    let object_type = match object.kind {
        ObjectKind::Space => "space",
        ObjectKind::Folder => "folder",
        ObjectKind::List => "list",
    };
    Target {
        object_type,
        object_id: &object.id,
    }
}

pub fn role_name(role: WorkspaceRole) -> &'static str {
    match role {
        WorkspaceRole::Guest => "guest",
        WorkspaceRole::Member => "member",
        WorkspaceRole::Admin => "admin",
    }
}
