//! What ClickUp shows of one account's direct shares: `GET /v2/team/{team_id}/user/{id}` for a
//! member, `GET /v2/team/{team_id}/guest/{id}` for a guest (both Enterprise-only). Their
//! `shared` object lists the Folders and Lists shared with the account and the level of each,
//! whichever endpoint made the share (v3 ACL or v2 guest share). Spaces have no entry there,
//! and ClickUp's public API has no read of a Space's ACL.

use reqwest::Method;
use serde::Deserialize;

use super::{types::string_or_number, ClickUpClient, ClickUpError};

/// One shared Folder or List as the `shared` object lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct SharedObject {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// `read`, `comment`, `edit` or `create`; absent when ClickUp leaves it out.
    #[serde(default)]
    pub permission_level: Option<String>,
}

/// The Folders and Lists shared with one account.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Shared {
    #[serde(default)]
    pub folders: Vec<SharedObject>,
    #[serde(default)]
    pub lists: Vec<SharedObject>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    shared: Shared,
}

#[derive(Deserialize)]
struct MemberAnswer {
    member: Entry,
}

#[derive(Deserialize)]
struct GuestAnswer {
    guest: Entry,
}

impl ClickUpClient {
    /// The Folders and Lists shared with a member (or admin); `None` when ClickUp does not
    /// know the member (404).
    pub async fn member_shared(
        &self,
        team_id: u64,
        user_id: u64,
    ) -> Result<Option<Shared>, ClickUpError> {
        let path = format!("/v2/team/{team_id}/user/{user_id}?include_shared=true");
        let answer = self.call::<MemberAnswer>(Method::GET, &path, None).await;
        found(answer.map(|a| a.member.shared))
    }

    /// The Folders and Lists shared with a guest; `None` when ClickUp does not know the
    /// guest (404).
    pub async fn guest_shared(
        &self,
        team_id: u64,
        guest_id: u64,
    ) -> Result<Option<Shared>, ClickUpError> {
        let path = format!("/v2/team/{team_id}/guest/{guest_id}?include_shared=true");
        let answer = self.call::<GuestAnswer>(Method::GET, &path, None).await;
        found(answer.map(|a| a.guest.shared))
    }
}

fn found(answer: Result<Shared, ClickUpError>) -> Result<Option<Shared>, ClickUpError> {
    match answer {
        Ok(shared) => Ok(Some(shared)),
        Err(ClickUpError::Api { status: 404, .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_objects_read_ids_as_strings_or_numbers_and_levels_as_words() {
        let body = r#"{"member":{"user":{"id":184},"shared":{"tasks":[],
            "lists":[{"id":"901100000210","name":"A","permission_level":"edit"}],
            "folders":[{"id":901100000200,"permission_level":"read"},{"id":"5"}]}}}"#;

        let answer: MemberAnswer = serde_json::from_str(body).unwrap();

        let shared = answer.member.shared;
        assert_eq!(shared.lists[0].id, "901100000210");
        assert_eq!(shared.lists[0].permission_level.as_deref(), Some("edit"));
        assert_eq!(shared.folders[0].id, "901100000200");
        assert_eq!(shared.folders[1].permission_level, None);
        let empty: GuestAnswer = serde_json::from_str(r#"{"guest":{"user":{"id":1}}}"#).unwrap();
        assert!(empty.guest.shared.lists.is_empty());
    }
}
