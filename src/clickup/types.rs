//! ClickUp response shapes the router reads; ids tolerate string-or-number as ClickUp sends.

use serde::{Deserialize, Deserializer};

#[derive(Debug, Deserialize)]
pub struct Teams {
    pub teams: Vec<Team>,
}

#[derive(Debug, Deserialize)]
pub struct Team {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    #[serde(default)]
    pub members: Vec<TeamMember>,
}

#[derive(Debug, Deserialize)]
pub struct TeamMember {
    pub user: Member,
}

/// A workspace member or guest.
#[derive(Clone, Debug, Deserialize)]
pub struct Member {
    pub id: u64,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<u8>,
}

impl Member {
    pub fn role(&self) -> Role {
        Role::from_code(self.role.unwrap_or(3))
    }
}

/// Workspace roles by ClickUp's codes: 1 owner, 2 admin, 3 member, 4 guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Member,
    Guest,
}

impl Role {
    pub fn from_code(code: u8) -> Role {
        match code {
            1 => Role::Owner,
            2 => Role::Admin,
            4 => Role::Guest,
            _ => Role::Member,
        }
    }
}

/// `GET /v2/team/{team_id}/plan`.
#[derive(Clone, Debug, Deserialize)]
pub struct Plan {
    pub plan_name: String,
    #[serde(default, deserialize_with = "optional_string_or_number")]
    pub plan_id: Option<String>,
}

impl Plan {
    pub fn is_enterprise(&self) -> bool {
        self.plan_name.eq_ignore_ascii_case("enterprise")
    }
}

pub(crate) fn string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(u64),
    }
    Ok(match Id::deserialize(deserializer)? {
        Id::Text(text) => text,
        Id::Number(number) => number.to_string(),
    })
}

fn optional_string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    string_or_number(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_read_ids_as_strings_or_numbers_and_roles_by_code() {
        let body = r#"{"teams":[{"id":"9012345678","name":"Acme","members":[
            {"user":{"id":184,"username":"Ann","email":"ann@example.com","role":4}},
            {"user":{"id":185,"username":null,"email":"bo@example.com"}}]},
            {"id":333,"name":"Other"}]}"#;

        let teams: Teams = serde_json::from_str(body).unwrap();

        assert_eq!(teams.teams[0].id, "9012345678");
        assert_eq!(teams.teams[1].id, "333");
        assert_eq!(teams.teams[0].members[0].user.role(), Role::Guest);
        assert_eq!(teams.teams[0].members[1].user.role(), Role::Member);
        assert!(teams.teams[1].members.is_empty());
    }

    #[test]
    fn plans_by_name() {
        let cases = [
            (r#"{"plan_name":"Enterprise","plan_id":4}"#, true),
            (r#"{"plan_name":"Business","plan_id":"3"}"#, false),
            (r#"{"plan_name":"enterprise"}"#, true),
        ];
        for (body, enterprise) in cases {
            let plan: Plan = serde_json::from_str(body).unwrap();
            assert_eq!(plan.is_enterprise(), enterprise, "{body}");
        }
    }
}
