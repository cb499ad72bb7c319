//! Who is signed in to the pages: one person per session, with the roles their ID token
//! carried, and which role each page needs. Reading roles from the claim is pure.
//!
//! Invariants: a [`SignedIn`] is written to the session only after a valid ID token, with at
//! least one role, into a renewed session, with a random session id recorded in the store
//! (`ui_sessions`); it counts only while that record is current (not signed out, not past
//! [`SESSION_TTL_SECS`]), so a copy of the cookie dies with the session.

use actix_session::Session;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    login::{random_value, PendingLogin},
    UiError,
};
use crate::{
    auth::{RoleNames, Roles},
    store::{Store, StoreError},
};

/// Longest a sign-in lasts before the provider is asked again.
pub const SESSION_TTL_SECS: i64 = 8 * 3600;

const USER_KEY: &str = "user";
const LOGIN_KEY: &str = "login";

/// A role the router knows in the roles claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Auditor,
    Approver,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Approver => "approver",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Auditor, Role::Approver]
            .into_iter()
            .find(|role| role.as_str() == text.trim())
    }
}

/// The roles a page may be opened with.
pub const AUDIT: &[Role] = &[Role::Admin, Role::Auditor];
pub const REQUESTS: &[Role] = &[Role::Admin, Role::Auditor, Role::Approver];
pub const ADMIN: &[Role] = &[Role::Admin];

/// The roles the ID token's `claim` gives, read as the admin API reads an access token's
/// (the configured role values; admin includes auditor).
pub fn roles_from(claims: &Value, claim: &str, names: &RoleNames) -> Vec<Role> {
    let roles = Roles::from_claims(claims, claim, names);
    let mut found: Vec<Role> = roles.names().into_iter().filter_map(Role::parse).collect();
    found.sort();
    found
}

/// The person signed in to this session.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignedIn {
    /// The ID token's `sub` (the IAM id).
    pub subject: String,
    /// What the header shows: the name, else the email, else the subject.
    pub display: String,
    pub roles: Vec<Role>,
    /// The token the sign-out form carries.
    pub csrf: String,
    /// Names the session's record in the store (random, never shown).
    pub session_id: String,
    pub signed_in_at: i64,
}

impl SignedIn {
    pub fn new(subject: String, display: String, roles: Vec<Role>, now: i64) -> SignedIn {
        SignedIn {
            subject,
            display,
            roles,
            csrf: random_value(),
            session_id: random_value(),
            signed_in_at: now,
        }
    }

    pub fn may(&self, allowed: &[Role]) -> bool {
        self.roles.iter().any(|role| allowed.contains(role))
    }

    pub fn role_names(&self) -> String {
        let names: Vec<&str> = self.roles.iter().map(|r| r.as_str()).collect();
        names.join(", ")
    }

    fn current(&self, now: i64) -> bool {
        now - self.signed_in_at <= SESSION_TTL_SECS && now >= self.signed_in_at - 60
    }
}

/// The signed-in person, when the session has one still current in the cookie and in the
/// store (`now` in seconds). A cookie whose record ended loses its person.
pub async fn signed_in(
    store: &Store,
    session: &Session,
    now: i64,
) -> Result<Option<SignedIn>, StoreError> {
    let cookie: Option<SignedIn> = session.get(USER_KEY).ok().flatten();
    let Some(user) = cookie.filter(|user| user.current(now)) else {
        return Ok(None);
    };

    match store
        .ui_session_current(&user.session_id, &user.subject, now * 1000)
        .await?
    {
        true => Ok(Some(user)),
        false => {
            session.remove(USER_KEY);
            Ok(None)
        }
    }
}

/// Starts a session for `user`: its record in the store, then a new session with nothing of
/// the sign-in kept.
pub async fn sign_in(store: &Store, session: &Session, user: &SignedIn) -> Result<(), UiError> {
    let since = user.signed_in_at * 1000;
    store
        .start_ui_session(
            &user.session_id,
            &user.subject,
            since,
            since + SESSION_TTL_SECS * 1000,
        )
        .await?;

    session.renew();
    session.clear();
    session
        .insert(USER_KEY, user)
        .map_err(|e| UiError::SignIn(e.to_string()))
}

/// Ends `user`'s session: its record first (so every copy of the cookie is refused), then
/// the cookie.
pub async fn sign_out(
    store: &Store,
    session: &Session,
    user: &SignedIn,
    now: i64,
) -> Result<(), StoreError> {
    store.end_ui_session(&user.session_id, now * 1000).await?;
    session.purge();
    Ok(())
}

/// Keeps a sign-in in progress (replacing any earlier one).
pub fn keep_login(session: &Session, login: &PendingLogin) -> Result<(), String> {
    session.insert(LOGIN_KEY, login).map_err(|e| e.to_string())
}

/// Takes the sign-in in progress: it can be used once, whatever the outcome.
pub fn take_login(session: &Session) -> Option<PendingLogin> {
    session
        .remove_as::<PendingLogin>(LOGIN_KEY)
        .and_then(Result::ok)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn roles_come_from_the_configured_claim_and_values() {
        let names = RoleNames {
            admin: "r-admin".into(),
            auditor: "r-auditor".into(),
            approver: "r-approver".into(),
        };
        let cases = [
            (
                json!({"roles": ["r-approver", "x"]}),
                "roles",
                vec![Role::Approver],
            ),
            (json!({"roles": "r-auditor"}), "roles", vec![Role::Auditor]),
            (
                json!({"roles": ["r-admin"]}),
                "roles",
                vec![Role::Admin, Role::Auditor],
            ),
            (json!({"roles": ["admin", "auditor"]}), "roles", vec![]),
            (json!({"groups": ["r-admin"]}), "roles", vec![]),
            (
                json!({"groups": ["r-approver"]}),
                "groups",
                vec![Role::Approver],
            ),
            (json!({"roles": [1, null]}), "roles", vec![]),
        ];
        for (claims, claim, expected) in cases {
            assert_eq!(roles_from(&claims, claim, &names), expected, "{claims:?}");
        }
    }

    #[test]
    fn each_page_admits_its_roles_only() {
        let person = |roles: Vec<Role>| SignedIn::new("id".into(), "n".into(), roles, 0);
        let cases = [
            (vec![Role::Admin], [true, true, true]),
            (vec![Role::Auditor], [true, true, false]),
            (vec![Role::Approver], [false, true, false]),
            (vec![], [false, false, false]),
        ];
        for (roles, expected) in cases {
            let user = person(roles.clone());
            let found = [user.may(AUDIT), user.may(REQUESTS), user.may(ADMIN)];
            assert_eq!(found, expected, "{roles:?}");
        }
    }

    #[test]
    fn a_session_ends_after_its_lifetime() {
        let user = SignedIn::new("id".into(), "n".into(), vec![Role::Admin], 1_000);

        assert!(user.current(1_000));
        assert!(user.current(1_000 + SESSION_TTL_SECS));
        assert!(!user.current(1_001 + SESSION_TTL_SECS));
        assert!(!user.current(0));
    }
}
