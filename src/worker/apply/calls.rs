//! The ClickUp calls behind the actions that need more than one: inviting (or linking an
//! existing account), removing the account, sharing and unsharing an object by kind and
//! person type, and resolving a user group's id by name (cached per plan).
//!
//! Which endpoint shares what ([`Via::of`]): a guest's Folders and Lists go through the v2
//! guest endpoints; a guest's Space (ClickUp has no v2 guest endpoint for Spaces) and every
//! share of a member go through the v3 ACL endpoint.

use std::collections::HashMap;

use serde_json::json;

use super::{target, Account, Applier, ApplyError, Cause};
use crate::{
    clickup::{Member, Role},
    rules::{Level, ObjectKind, ObjectRef, WorkspaceRole},
};

/// The endpoint family a share goes through, as the audit rows name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Via {
    /// `PATCH /v3/workspaces/{id}/{type}/{id}/acls`.
    Acl,
    /// `POST|DELETE /v2/{folder|list}/{id}/guest/{guest_id}`.
    Guest,
}

impl Via {
    pub(super) fn of(object: &ObjectRef, guest: bool) -> Via {
        match (guest, object.kind) {
            (true, ObjectKind::Folder | ObjectKind::List) => Via::Guest,
            (true, ObjectKind::Space) | (false, _) => Via::Acl,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Via::Acl => "acl",
            Via::Guest => "guest",
        }
    }
}

impl Applier<'_> {
    pub(super) async fn invite(
        &self,
        cause: &Cause,
        role: WorkspaceRole,
        custom_role_id: Option<u64>,
    ) -> Result<(Member, bool), ApplyError> {
        let email = cause
            .email
            .as_deref()
            .ok_or_else(|| ApplyError::Refused("the person has no email to invite".into()))?;

        // Link an existing account with the same email instead of inviting twice.
        if let Some(existing) = self.clickup.find_member(self.team_id, email).await? {
            return Ok((existing, true));
        }
        let invited = match role {
            WorkspaceRole::Guest => {
                self.clickup
                    .invite_guest(self.team_id, email, custom_role_id)
                    .await
            }
            _ => {
                self.clickup
                    .invite_member(
                        self.team_id,
                        email,
                        role == WorkspaceRole::Admin,
                        custom_role_id,
                    )
                    .await
            }
        };

        match invited {
            Ok(member) => Ok((member, false)),
            // Refused because the account exists by now: another worker handling the same
            // person's other event invited it a moment ago (or someone did by hand). It is
            // linked as if it had been there, so the plan goes on: one invite took effect.
            Err(e)
                if e.status()
                    .is_some_and(|status| (400..500).contains(&status)) =>
            {
                match self.clickup.find_member(self.team_id, email).await? {
                    Some(existing) => Ok((existing, true)),
                    None => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn remove_account(
        &self,
        cause: &Cause,
        account: &mut Account,
    ) -> Result<(), ApplyError> {
        let emails: Vec<String> = cause.email.iter().cloned().collect();
        let member = self
            .clickup
            .find_account(self.team_id, account.user_id, &emails)
            .await?;
        let user_id = member.as_ref().map(|m| m.id).or(account.user_id);
        if let Some(member) = &member {
            if member.role() == Role::Owner {
                return Err(ApplyError::Refused(format!(
                    "ClickUp user {} owns the workspace and cannot be removed",
                    member.id
                )));
            }
            match member.role() {
                Role::Guest => self.clickup.remove_guest(self.team_id, member.id).await?,
                _ => self.clickup.remove_member(self.team_id, member.id).await?,
            };
        }

        // The account's groups and shares went with it: close every open grant.
        let reason = match (cause.ending, cause.kind) {
            (Some(ending), _) => ending,
            (None, "expiry") => "contract ended",
            (None, "leaver") => "leaver",
            (None, _) => "no rule grants access",
        };
        for grant in self.store.open_grants(&cause.iam_id).await? {
            let change = self.close(cause, grant.kind, &grant.object, reason);
            self.record(
                cause,
                change,
                "grant.close",
                user_id,
                json!({"kind": grant.kind.as_str()}),
            )
            .await?;
        }
        self.store.set_clickup_user(&cause.iam_id, None).await?;
        account.user_id = None;
        Ok(())
    }

    /// Shares `object` at `level`; returns the endpoint family that did it.
    pub(super) async fn share(
        &self,
        object: &ObjectRef,
        level: Level,
        user_id: u64,
        guest: bool,
    ) -> Result<Via, ApplyError> {
        let target = target(object);
        let via = Via::of(object, guest);

        match via {
            Via::Guest => {
                self.clickup
                    .share_with_guest(target, user_id, level.as_v2())
                    .await?;
            }
            Via::Acl => {
                self.clickup
                    .set_user_acl(self.team_id, target, user_id, Some(level.as_v3()))
                    .await?;
            }
        }
        Ok(via)
    }

    /// Takes `object` away, through the endpoint family that shared it; returns that family.
    pub(super) async fn unshare(
        &self,
        object: &ObjectRef,
        user_id: u64,
        guest: bool,
    ) -> Result<Via, ApplyError> {
        let target = target(object);
        let via = Via::of(object, guest);

        match via {
            Via::Guest => {
                self.clickup.unshare_guest(target, user_id).await?;
            }
            Via::Acl => {
                self.clickup
                    .set_user_acl(self.team_id, target, user_id, None)
                    .await?;
            }
        }
        Ok(via)
    }

    pub(super) async fn group_id(
        &self,
        name: &str,
        cache: &mut HashMap<String, String>,
    ) -> Result<String, ApplyError> {
        if cache.is_empty() {
            for group in self.clickup.groups(self.team_id).await? {
                cache.insert(group.name.clone(), group.id.clone());
            }
        }
        cache.get(name).cloned().ok_or_else(|| {
            ApplyError::Refused(format!("user group {name:?} does not exist in ClickUp"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Via;
    use crate::rules::ObjectRef;

    #[test]
    fn guests_take_folders_and_lists_through_v2_and_everything_else_goes_through_the_acl() {
        let cases = [
            ("space:1", true, Via::Acl),
            ("folder:1", true, Via::Guest),
            ("list:1", true, Via::Guest),
            ("space:1", false, Via::Acl),
            ("folder:1", false, Via::Acl),
            ("list:1", false, Via::Acl),
        ];

        for (object, guest, expected) in cases {
            let object: ObjectRef = object.parse().expect("object");
            assert_eq!(Via::of(&object, guest), expected, "{object} guest={guest}");
        }
    }
}
