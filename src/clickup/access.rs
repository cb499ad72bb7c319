//! ClickUp calls that give and take access: invites, roles, user groups, shares.
//!
//! Members get shares through the v3 workspace ACL endpoint; guests through the v2 guest
//! endpoints (folders and lists), as the public API provides. Invites and guest endpoints are
//! Enterprise-only.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{types::Member, ClickUpClient, ClickUpError, Removal};

/// A user group as `GET /v2/group` returns it.
#[derive(Clone, Debug, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub members: Vec<GroupMember>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GroupMember {
    pub id: u64,
}

#[derive(Deserialize)]
struct Groups {
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct InviteAnswer {
    team: InvitedTeam,
}

#[derive(Deserialize)]
struct InvitedTeam {
    #[serde(default)]
    members: Vec<super::types::TeamMember>,
}

/// Where a share goes: the v3 object type and id (`list`, `folder`, `space`).
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub object_type: &'a str,
    pub object_id: &'a str,
}

impl ClickUpClient {
    /// `POST /v2/team/{team_id}/user`: invites a member (or admin) and returns their account.
    pub async fn invite_member(
        &self,
        team_id: u64,
        email: &str,
        admin: bool,
        custom_role_id: Option<u64>,
    ) -> Result<Member, ClickUpError> {
        let mut body = json!({ "email": email, "admin": admin });
        if let Some(role) = custom_role_id {
            body["custom_role_id"] = json!(role);
        }
        let answer: InviteAnswer = self
            .call(
                Method::POST,
                &format!("/v2/team/{team_id}/user"),
                Some(&body),
            )
            .await?;
        invited(answer, email)
    }

    /// `POST /v2/team/{team_id}/guest`: invites a guest (an invite alone grants nothing).
    pub async fn invite_guest(
        &self,
        team_id: u64,
        email: &str,
        custom_role_id: Option<u64>,
    ) -> Result<Member, ClickUpError> {
        let mut body = json!({ "email": email, "can_edit_tags": false, "can_see_time_spent": false,
            "can_see_time_estimated": false, "can_create_views": false });
        if let Some(role) = custom_role_id {
            body["custom_role_id"] = json!(role);
        }
        let answer: InviteAnswer = self
            .call(
                Method::POST,
                &format!("/v2/team/{team_id}/guest"),
                Some(&body),
            )
            .await?;
        invited(answer, email)
    }

    /// `PUT /v2/team/{team_id}/user/{user_id}`: sets a member's role (admin or member) and
    /// custom role.
    ///
    /// The spec requires all three of `username`, `admin` and an integer `custom_role_id`. A
    /// workspace's roles are one list of ids (the `roles` of the invite answers): the built-in
    /// ones (`custom: false`; 2 admin, 3 member) beside the custom ones. So a person with no
    /// custom role is sent the id of their built-in role, never `null`.
    pub async fn set_member_role(
        &self,
        team_id: u64,
        user_id: u64,
        username: &str,
        admin: bool,
        custom_role_id: Option<u64>,
    ) -> Result<(), ClickUpError> {
        let role_id = custom_role_id.unwrap_or_else(|| built_in_role_id(admin));
        let body = json!({ "username": username, "admin": admin, "custom_role_id": role_id });
        self.call::<serde_json::Value>(
            Method::PUT,
            &format!("/v2/team/{team_id}/user/{user_id}"),
            Some(&body),
        )
        .await
        .map(|_| ())
    }

    /// `GET /v2/group?team_id=...`: the workspace's user groups.
    pub async fn groups(&self, team_id: u64) -> Result<Vec<Group>, ClickUpError> {
        let groups: Groups = self
            .call(Method::GET, &format!("/v2/group?team_id={team_id}"), None)
            .await?;
        Ok(groups.groups)
    }

    /// `PUT /v2/group/{group_id}` with a `{add, rem}` member diff of integer ids.
    pub async fn change_group_members(
        &self,
        group_id: &str,
        add: &[u64],
        rem: &[u64],
    ) -> Result<(), ClickUpError> {
        let body = json!({ "members": { "add": add, "rem": rem } });
        self.call::<serde_json::Value>(Method::PUT, &format!("/v2/group/{group_id}"), Some(&body))
            .await
            .map(|_| ())
    }

    /// `PATCH /v3/workspaces/{team_id}/{type}/{id}/acls`: sets (or, with `None`, removes) one
    /// user's permission level (1 read, 3 comment, 4 edit, 5 create).
    pub async fn set_user_acl(
        &self,
        team_id: u64,
        target: Target<'_>,
        user_id: u64,
        level: Option<u8>,
    ) -> Result<(), ClickUpError> {
        let body = json!({ "entries": [{ "kind": "user", "id": user_id.to_string(), "permission_level": level }] });
        let path = format!(
            "/v3/workspaces/{team_id}/{}/{}/acls",
            target.object_type, target.object_id
        );
        self.call::<serde_json::Value>(Method::PATCH, &path, Some(&body))
            .await
            .map(|_| ())
    }

    /// `POST /v2/{list|folder}/{id}/guest/{guest_id}` with a v2 permission level.
    pub async fn share_with_guest(
        &self,
        target: Target<'_>,
        guest_id: u64,
        level: &str,
    ) -> Result<(), ClickUpError> {
        let path = format!(
            "/v2/{}/{}/guest/{guest_id}",
            target.object_type, target.object_id
        );
        let body = json!({ "permission_level": level });
        self.call::<serde_json::Value>(Method::POST, &path, Some(&body))
            .await
            .map(|_| ())
    }

    /// `DELETE /v2/{list|folder}/{id}/guest/{guest_id}`; a share already gone is a success.
    pub async fn unshare_guest(
        &self,
        target: Target<'_>,
        guest_id: u64,
    ) -> Result<Removal, ClickUpError> {
        let path = format!(
            "/v2/{}/{}/guest/{guest_id}",
            target.object_type, target.object_id
        );
        match self
            .call::<serde_json::Value>(Method::DELETE, &path, None)
            .await
        {
            Ok(_) => Ok(Removal::Removed),
            Err(ClickUpError::Api { status: 404, .. }) => Ok(Removal::AlreadyGone),
            Err(error) => Err(error),
        }
    }
}

/// The id of the built-in role `admin` names in a workspace's roles (2 admin, 3 member).
fn built_in_role_id(admin: bool) -> u64 {
    match admin {
        true => 2,
        false => 3,
    }
}

/// The invited account in an invite answer, found by email.
fn invited(answer: InviteAnswer, email: &str) -> Result<Member, ClickUpError> {
    answer
        .team
        .members
        .into_iter()
        .map(|m| m.user)
        .find(|user| {
            user.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .ok_or_else(|| {
            ClickUpError::Contract("the invite answer does not list the invited email".into())
        })
}

#[derive(Deserialize)]
struct CreatedTask {
    id: String,
}

impl ClickUpClient {
    /// `POST /v2/list/{list_id}/task`: creates a task (assignees are integer user ids).
    pub async fn create_task(
        &self,
        list_id: &str,
        name: &str,
        description: &str,
        assignee: Option<u64>,
    ) -> Result<String, ClickUpError> {
        let assignees: Vec<u64> = assignee.into_iter().collect();
        let body = json!({ "name": name, "description": description, "assignees": assignees, "notify_all": true });
        let task: CreatedTask = self
            .call(
                Method::POST,
                &format!("/v2/list/{list_id}/task"),
                Some(&body),
            )
            .await?;
        Ok(task.id)
    }
}
