//! Changes a test makes by hand as a ClickUp user, without the router: invite a member,
//! change a role, add someone to a user group, share an object. They pass ClickUp's checks
//! (the actor is an active admin or the owner; targets exist) and land in the audit log
//! like the API's changes, with the hand's user as the actor; they send no webhook, as in
//! ClickUp.

use super::Change;
use crate::sandbox::{
    access::{Level, ObjectKind, Principal, Via},
    actor::{ensure_active, ActError, Actor},
    directory::{Enrollment, Role},
    errors::ApiError,
    state::{now_ms, Workspace},
};

impl Actor<'_> {
    /// Invites `email` to the workspace with `role` (member, admin or guest); returns the
    /// new user's id.
    pub fn invite(&self, email: &str, role: Role) -> Result<u64, ActError> {
        self.change(|ws, actor| {
            if role == Role::Owner {
                return Err(ApiError::invalid_value("the owner role cannot be given").into());
            }
            if ws.directory.find_active_by_email(email).is_some() {
                return Err(ApiError::already_in_workspace().into());
            }
            let id = ws.directory.enroll(Enrollment {
                email,
                username: None,
                role,
                custom_role: None,
                invited_by: Some(actor),
                joined: false,
                now_ms: now_ms(),
            });
            ws.log_change(Change {
                event_type: "INVITE_TO_WORKSPACE",
                actor,
                target: Some(id),
                group: None,
                object: None,
            });
            Ok(id)
        })
    }

    /// Changes an active member's role to member or admin.
    pub fn change_role(&self, user_id: u64, role: Role) -> Result<(), ActError> {
        self.change(|ws, actor| {
            if !matches!(role, Role::Member | Role::Admin) {
                return Err(
                    ApiError::invalid_value("a member becomes a member or an admin").into(),
                );
            }
            let user = ws
                .directory
                .get_mut(user_id)
                .filter(|u| u.active && matches!(u.role, Role::Member | Role::Admin))
                .ok_or_else(ApiError::user_not_found)?;
            user.role = role;
            ws.log_change(Change {
                event_type: "CHANGE_USER_ROLE",
                actor,
                target: Some(user_id),
                group: None,
                object: None,
            });
            Ok(())
        })
    }

    /// Adds an active user to a user group.
    pub fn add_to_group(&self, group_id: &str, user_id: u64) -> Result<(), ActError> {
        self.change(|ws, actor| {
            if ws.directory.get(user_id).is_none_or(|u| !u.active) {
                return Err(ApiError::users_not_in_workspace(&[user_id]).into());
            }
            let group = ws
                .groups
                .get_mut(group_id)
                .ok_or_else(ApiError::group_not_found)?;
            group.add_members(&[user_id]);
            ws.log_change(Change {
                event_type: "TEAM_MEMBER_ADDED",
                actor,
                target: Some(user_id),
                group: Some(group_id.to_owned()),
                object: None,
            });
            Ok(())
        })
    }

    /// Shares a space, folder or list with an active user at `level` (`read`, `comment`,
    /// `edit`, `create`), as the sharing dialog does.
    pub fn share(
        &self,
        object_type: &str,
        object_id: &str,
        user_id: u64,
        level: &str,
    ) -> Result<(), ActError> {
        self.change(|ws, actor| {
            let kind = ObjectKind::parse(object_type)
                .ok_or_else(|| ApiError::object_type_unsupported(object_type))?;
            let level = Level::from_v2(level).ok_or_else(|| {
                ApiError::invalid_value("level must be read, comment, edit or create")
            })?;
            if !ws.hierarchy.contains(kind, object_id) {
                return Err(ApiError::object_not_found(kind).into());
            }
            if ws.directory.get(user_id).is_none_or(|u| !u.active) {
                return Err(ApiError::users_not_in_workspace(&[user_id]).into());
            }
            ws.access
                .grant(kind, object_id, Principal::User(user_id), level, Via::Acl);
            ws.log_change(Change {
                event_type: "SHARE_CHANGED",
                actor,
                target: Some(user_id),
                group: None,
                object: Some((kind, object_id.to_owned(), Some(level))),
            });
            Ok(())
        })
    }

    /// Removes a user's share of a space, folder or list, as the sharing dialog does; a share
    /// that does not exist is fine.
    pub fn unshare(
        &self,
        object_type: &str,
        object_id: &str,
        user_id: u64,
    ) -> Result<(), ActError> {
        self.change(|ws, actor| {
            let kind = ObjectKind::parse(object_type)
                .ok_or_else(|| ApiError::object_type_unsupported(object_type))?;
            if !ws.hierarchy.contains(kind, object_id) {
                return Err(ApiError::object_not_found(kind).into());
            }
            ws.access.revoke(kind, object_id, &Principal::User(user_id));
            ws.log_change(Change {
                event_type: "SHARE_CHANGED",
                actor,
                target: Some(user_id),
                group: None,
                object: Some((kind, object_id.to_owned(), None)),
            });
            Ok(())
        })
    }

    /// Checks that the actor is an active admin or the owner, then changes the workspace
    /// under the same lock.
    fn change<R>(
        &self,
        change: impl FnOnce(&mut Workspace, u64) -> Result<R, ActError>,
    ) -> Result<R, ActError> {
        let actor = self.user_id();
        self.sandbox().state().with(|ws| {
            ensure_active(ws, actor)?;
            let admin = ws
                .directory
                .get(actor)
                .is_some_and(|u| matches!(u.role, Role::Owner | Role::Admin));
            if !admin {
                return Err(ActError::Refused(format!(
                    "ClickUp user {actor} is not an admin of the workspace"
                )));
            }
            change(ws, actor)
        })
    }
}
