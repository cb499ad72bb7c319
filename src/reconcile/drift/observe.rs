//! Reads what ClickUp shows: the workspace's accounts and roles (`GET /v2/team`) and user
//! groups (`GET /v2/group`) once per pass, then each account's Folder and List shares
//! (`GET` member or guest). Nothing here writes.

use std::collections::BTreeSet;

use super::compare::{Observed, ObservedAccount, Scope};
use crate::{
    clickup::{access::Group, shared::Shared, ClickUpClient, ClickUpError, Member, Role},
    rules::{Level, ObjectKind, ObjectRef, WorkspaceRole},
    store::IdentityRecord,
};

/// The workspace as one pass reads it.
pub(super) struct Workspace {
    accounts: Vec<Member>,
    groups: Vec<Group>,
}

impl Workspace {
    pub(super) async fn read(
        clickup: &ClickUpClient,
        team_id: u64,
    ) -> Result<Workspace, ClickUpError> {
        let team = clickup
            .teams()
            .await?
            .into_iter()
            .find(|team| team.id == team_id.to_string())
            .ok_or_else(|| {
                ClickUpError::Contract(format!("workspace {team_id} is not visible to the token"))
            })?;
        let accounts = team.members.into_iter().map(|m| m.user).collect();
        let groups = clickup.groups(team_id).await?;
        Ok(Workspace { accounts, groups })
    }

    /// The person's account: the one linked on record, else the one with their email.
    pub(super) fn account_of(&self, record: &IdentityRecord) -> Option<&Member> {
        let linked = record.clickup_user_id.map(|id| id as u64);
        let by_id = linked.and_then(|id| self.accounts.iter().find(|a| a.id == id));
        by_id.or_else(|| {
            let email = record.email.as_deref()?;
            self.accounts.iter().find(|account| {
                let theirs = account.email.as_deref();
                theirs.is_some_and(|theirs| theirs.eq_ignore_ascii_case(email))
            })
        })
    }

    /// What ClickUp shows for `account` within `scope` (groups by name).
    pub(super) async fn observe(
        &self,
        clickup: &ClickUpClient,
        team_id: u64,
        account: Option<&Member>,
        scope: &Scope,
    ) -> Result<Observed, ClickUpError> {
        let Some(account) = account else {
            return Ok(Observed::default());
        };
        let role = account.role();
        let observed_account = ObservedAccount {
            user_id: account.id,
            role: match role {
                Role::Guest => WorkspaceRole::Guest,
                Role::Member => WorkspaceRole::Member,
                Role::Admin | Role::Owner => WorkspaceRole::Admin,
            },
            owner: role == Role::Owner,
        };

        let in_group = |group: &&Group| group.members.iter().any(|m| m.id == account.id);
        let groups: BTreeSet<String> = self
            .groups
            .iter()
            .filter(in_group)
            .map(|group| group.name.clone())
            .filter(|name| scope.groups.contains(name))
            .collect();

        let shared = match role {
            Role::Guest => clickup.guest_shared(team_id, account.id).await?,
            _ => clickup.member_shared(team_id, account.id).await?,
        };
        let shared = shared.unwrap_or_default();
        Ok(Observed {
            account: Some(observed_account),
            groups,
            shares: shares(&shared),
        })
    }
}

/// The shares a `shared` object lists; an entry without a readable level is left out.
fn shares(shared: &Shared) -> std::collections::BTreeMap<ObjectRef, Level> {
    let folders = shared.folders.iter().map(|f| (ObjectKind::Folder, f));
    let lists = shared.lists.iter().map(|l| (ObjectKind::List, l));
    folders
        .chain(lists)
        .filter_map(|(kind, entry)| {
            let level = entry.permission_level.as_deref()?.parse().ok()?;
            Some((ObjectRef::new(kind, entry.id.clone()), level))
        })
        .collect()
}
