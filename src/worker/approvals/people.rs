//! Who is who: requesters and approvers resolved from the IAM identities on record to ClickUp
//! accounts, and the names comments use.
//!
//! Approvers are active identities with a ClickUp account; the requester is never one of
//! them, whatever the policy's expression returns.

use serde_json::Value;

use super::{ApprovalError, Approvals};
use crate::{
    rules::{ApproverRef, Identity},
    store::{AccessRequest, IdentityRecord},
};

/// A person the router can assign and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Person {
    pub user_id: u64,
    pub iam_id: Option<String>,
    pub name: String,
    /// The IAM's distinguished name, for acting in Identity Applications on their behalf.
    pub dn: Option<String>,
}

/// The name comments use: display name, user name, or the IAM id.
pub(super) fn display_name(record: &IdentityRecord) -> String {
    let attributes = &record.attributes;
    attributes["display_name"]
        .as_str()
        .or(attributes["username"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| record.iam_id.clone())
}

impl Approvals {
    /// The requester's identity: by the ClickUp account that created the task, else by its
    /// email.
    pub(super) async fn requester(
        &self,
        task: &Value,
    ) -> Result<Option<IdentityRecord>, ApprovalError> {
        if let Some(user_id) = task["creator"]["id"].as_i64() {
            if let Some(record) = self.store.identity_by_clickup_user(user_id).await? {
                return Ok(Some(record));
            }
        }
        match task["creator"]["email"].as_str() {
            Some(email) => Ok(self.store.identity_by_email(email).await?),
            None => Ok(None),
        }
    }

    /// Resolves approver references to assignable people, in order, without duplicates, and
    /// without the requester.
    pub(super) async fn resolve(
        &self,
        refs: &[ApproverRef],
        request: &AccessRequest,
    ) -> Result<Vec<Person>, ApprovalError> {
        let mut records = Vec::new();
        for reference in refs {
            match reference {
                ApproverRef::Email(email) => {
                    records.extend(self.store.identity_by_email(email).await?)
                }
                ApproverRef::IamId(id) => records.extend(self.store.identity(id).await?),
                ApproverRef::Group(group) => records.extend(self.members_of(group).await?),
            }
        }

        let mut people: Vec<Person> = Vec::new();
        for record in records {
            let is_requester = request.iam_id.as_deref() == Some(record.iam_id.as_str());
            if record.status != "active" || is_requester {
                continue;
            }
            let Some(person) = self.person(&record).await? else {
                continue;
            };
            let seen = people.iter().any(|p| p.user_id == person.user_id);
            if !seen && person.user_id as i64 != request.requester_user {
                people.push(person);
            }
        }
        Ok(people)
    }

    /// Active identities in an IAM group (by name or id, case-insensitive).
    async fn members_of(&self, group: &str) -> Result<Vec<IdentityRecord>, ApprovalError> {
        let everyone = self.store.active_identities().await?;
        Ok(everyone
            .into_iter()
            .filter(|record| {
                Identity::from_iam_user(&record.attributes).is_ok_and(|identity| {
                    identity
                        .groups
                        .iter()
                        .any(|g| g.eq_ignore_ascii_case(group))
                })
            })
            .collect())
    }

    /// A person from an identity, with their ClickUp account (recorded, else found by email).
    pub(super) async fn person(
        &self,
        record: &IdentityRecord,
    ) -> Result<Option<Person>, ApprovalError> {
        let user_id = match record.clickup_user_id {
            Some(id) => Some(id as u64),
            None => match &record.email {
                Some(email) => {
                    let team_id = self.provisioner.team_id;
                    let found = self.clickup.find_member(team_id, email).await?;
                    found.map(|member| member.id)
                }
                None => None,
            },
        };
        Ok(user_id.map(|user_id| Person {
            user_id,
            iam_id: Some(record.iam_id.clone()),
            name: display_name(record),
            dn: record.attributes["dn"].as_str().map(str::to_owned),
        }))
    }

    /// Names of ClickUp accounts for comments (`user <id>` when nobody on record has it).
    pub(super) async fn names(&self, user_ids: &[i64]) -> Result<Vec<String>, ApprovalError> {
        let mut names = Vec::with_capacity(user_ids.len());
        for &user_id in user_ids {
            names.push(self.name(user_id).await?);
        }
        Ok(names)
    }

    pub(super) async fn name(&self, user_id: i64) -> Result<String, ApprovalError> {
        let record = self.store.identity_by_clickup_user(user_id).await?;
        Ok(record
            .as_ref()
            .map(display_name)
            .unwrap_or_else(|| format!("user {user_id}")))
    }
}
