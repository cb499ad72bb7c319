//! Shared sandbox state: the workspace with its users, groups, hierarchy, grants, Custom
//! Fields, comments and webhooks, plus the call log, the rate limiter, scheduled failures
//! and the outbox of webhook deliveries.
//!
//! Everything sits behind one std mutex. Handlers lock it through [`SandboxState::with`] for
//! a few map operations and never across an `.await`; a poisoned lock is recovered, since a
//! panicking test must not take the other tests' sandbox views down with it.

mod seeding;
mod tasks;

use std::{
    fmt,
    sync::{Arc, Mutex},
    time::Instant,
};

use rand::Rng;
use serde_json::{json, Value};

use super::{
    access::{Access, Principal},
    audit_log::AuditLog,
    directory::{Directory, Enrollment, Role, SandboxUser},
    dispatch::Outbox,
    events::HistoryIds,
    fields::CustomFields,
    groups::UserGroups,
    hierarchy::Hierarchy,
    limits::{Quota, RateLimiter},
    tasks::Comments,
    webhooks::WebhookRecord,
    Plan, SandboxConfig,
};

/// The account that owns the workspace and every configured token.
pub(crate) const OWNER_EMAIL: &str = "router-service@example.com";
const OWNER_NAME: &str = "Router Service";
const TEAM_COLOR: &str = "#8D00D4";

/// One request the sandbox answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    pub method: String,
    /// The request path without the query string, e.g. `/api/v2/team`.
    pub path: String,
    pub status: u16,
    /// When the answer was ready to send (the benchmarks time leavers to the removal's end).
    pub answered: Instant,
}

#[derive(Debug, Clone, Copy)]
struct ScheduledFailure {
    remaining: usize,
    status: u16,
}

/// The workspace and the bookkeeping around it; reached through [`SandboxState::with`].
#[derive(Debug)]
pub(crate) struct Workspace {
    pub team_id: u64,
    pub team_name: String,
    pub plan: Plan,
    pub owner_id: u64,
    /// The `client_id` ClickUp shows on webhooks made with this workspace's tokens.
    pub client_id: String,
    pub directory: Directory,
    pub groups: UserGroups,
    pub hierarchy: Hierarchy,
    pub access: Access,
    pub fields: CustomFields,
    pub comments: Comments,
    /// Flat arrays sent as UpdateTask's `assignees` or `group_assignees` and ignored.
    pub ignored_assignee_arrays: usize,
    pub webhooks: Vec<WebhookRecord>,
    /// Webhook deliveries queued by task changes, and the log of attempted ones.
    pub outbox: Outbox,
    pub history_ids: HistoryIds,
    /// Membership, guest, role, group and sharing changes, for the v3 audit-log endpoint.
    pub audit_log: AuditLog,
    tokens: Vec<String>,
    /// Tokens of users other than the owner (to check owner-only endpoints).
    user_tokens: Vec<(String, u64)>,
    limiter: RateLimiter,
    calls: Vec<RecordedCall>,
    scheduled_failure: Option<ScheduledFailure>,
    /// Failures planned for particular calls (`SandboxState::fail_call`), in order.
    pub planned_faults: Vec<super::gate::PlannedFault>,
}

impl Workspace {
    /// The `team` object of the team responses, with the given members.
    pub fn team_json(&self, members: Vec<Value>) -> Value {
        json!({
            "id": self.team_id.to_string(),
            "name": self.team_name,
            "color": TEAM_COLOR,
            "avatar": null,
            "members": members
        })
    }

    pub fn accepts(&self, token: &str) -> bool {
        self.is_owner_token(token) || self.user_tokens.iter().any(|(t, _)| t == token)
    }

    /// Whether the token is one of the owner's (the configured ones).
    pub fn is_owner_token(&self, token: &str) -> bool {
        self.tokens.iter().any(|accepted| accepted == token)
    }

    /// Counts one request by `token` against the rate limit.
    pub fn admit(&mut self, token: &str) -> Quota {
        self.limiter.admit(token, Instant::now(), now_ms())
    }

    /// The status of the next scheduled failure, if one is due.
    pub fn take_scheduled_failure(&mut self) -> Option<u16> {
        let scheduled = self.scheduled_failure.as_mut()?;
        let status = scheduled.status;

        scheduled.remaining -= 1;
        if scheduled.remaining == 0 {
            self.scheduled_failure = None;
        }
        Some(status)
    }

    pub fn record(&mut self, call: RecordedCall) {
        self.calls.push(call);
    }

    /// Drops a departing user's grants and group memberships, as ClickUp does when a member
    /// or guest is removed from the workspace.
    pub fn forget_user(&mut self, user_id: u64) {
        self.access.forget(&Principal::User(user_id));
        self.groups.drop_member(user_id);
    }
}

/// Handle on the sandbox's state: seed users and hierarchy, inspect calls, schedule
/// failures. Cheap to clone.
#[derive(Clone)]
pub struct SandboxState {
    inner: Arc<Mutex<Workspace>>,
}

impl SandboxState {
    pub(crate) fn new(config: &SandboxConfig) -> Self {
        let mut directory = Directory::default();
        let owner_id = directory.enroll(Enrollment {
            email: OWNER_EMAIL,
            username: Some(OWNER_NAME),
            role: Role::Owner,
            custom_role: None,
            invited_by: None,
            joined: true,
            now_ms: now_ms(),
        });
        let limit = config
            .rate_limit_per_minute
            .unwrap_or(config.plan.requests_per_minute());

        let workspace = Workspace {
            team_id: config.team_id,
            team_name: config.team_name.clone(),
            plan: config.plan,
            owner_id,
            client_id: random_code(32),
            directory,
            groups: UserGroups::default(),
            hierarchy: Hierarchy::default(),
            access: Access::default(),
            fields: CustomFields::default(),
            comments: Comments::default(),
            ignored_assignee_arrays: 0,
            webhooks: Vec::new(),
            outbox: Outbox::default(),
            history_ids: HistoryIds::default(),
            audit_log: AuditLog::default(),
            tokens: config.tokens.clone(),
            user_tokens: Vec::new(),
            limiter: RateLimiter::new(limit, config.rate_window),
            calls: Vec::new(),
            scheduled_failure: None,
            planned_faults: Vec::new(),
        };
        SandboxState {
            inner: Arc::new(Mutex::new(workspace)),
        }
    }

    /// Runs `action` with the workspace locked.
    pub(crate) fn with<R>(&self, action: impl FnOnce(&mut Workspace) -> R) -> R {
        let mut workspace = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        action(&mut workspace)
    }

    /// Adds a user who has joined the workspace, invited by the owner; returns the new
    /// integer user id. An email seen before (even of a removed user) keeps its id.
    pub fn add_member(&self, email: &str, username: &str, role: Role) -> u64 {
        self.with(|ws| {
            let invited_by = Some(ws.owner_id);
            ws.directory.enroll(Enrollment {
                email,
                username: Some(username),
                role,
                custom_role: None,
                invited_by,
                joined: true,
                now_ms: now_ms(),
            })
        })
    }

    /// Accepts `token` as a personal token of `user_id`, who is not the owner. Endpoints
    /// other than the owner-only audit log treat every accepted token alike.
    pub fn add_user_token(&self, token: &str, user_id: u64) {
        self.with(|ws| ws.user_tokens.push((token.to_owned(), user_id)));
    }

    pub fn add_guest(&self, email: &str, username: &str) -> u64 {
        self.add_member(email, username, Role::Guest)
    }

    /// The active user with this email (compared case-insensitively).
    pub fn find_by_email(&self, email: &str) -> Option<SandboxUser> {
        self.with(|ws| {
            ws.directory
                .find_active_by_email(email)
                .map(|user| user.to_public())
        })
    }

    /// Active members (the owner included) and guests, in the order they were added.
    pub fn users(&self) -> Vec<SandboxUser> {
        self.with(|ws| ws.directory.active().map(|user| user.to_public()).collect())
    }

    /// Every request received so far, in the order the answers were sent.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.with(|ws| ws.calls.clone())
    }

    /// How many recorded calls used `method` on a path starting with `path_prefix`
    /// (e.g. `"DELETE", "/api/v2/team/9012345678/user/"`).
    pub fn count_calls(&self, method: &str, path_prefix: &str) -> usize {
        self.with(|ws| {
            ws.calls
                .iter()
                .filter(|call| call.method.eq_ignore_ascii_case(method))
                .filter(|call| call.path.starts_with(path_prefix))
                .count()
        })
    }

    /// Makes the next `n` authenticated API requests that are within the rate limit answer
    /// `status` with a ClickUp error body; `n = 0` cancels. Statuses outside 100..=999
    /// become 500.
    pub fn set_fail_next(&self, n: usize, status: u16) {
        self.with(|ws| {
            ws.scheduled_failure = (n > 0).then_some(ScheduledFailure {
                remaining: n,
                status,
            });
        });
    }

    /// `(endpoint, secret)` of a webhook, if it exists.
    pub fn webhook(&self, id: &str) -> Option<(String, String)> {
        self.with(|ws| {
            ws.webhooks
                .iter()
                .find(|webhook| webhook.id == id)
                .map(|webhook| (webhook.endpoint.clone(), webhook.secret.clone()))
        })
    }
}

impl fmt::Debug for SandboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxState").finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// Upper-case letters and digits, the alphabet of ClickUp's webhook secrets and client ids.
pub(crate) fn random_code(length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();

    (0..length)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> SandboxState {
        SandboxState::new(&SandboxConfig::default())
    }

    #[test]
    fn the_owner_is_seeded_as_an_active_owner() {
        let owner = state().find_by_email(OWNER_EMAIL).expect("owner seeded");

        assert_eq!(owner.role, Role::Owner);
        assert_eq!(owner.username, "Router Service");
        assert!(owner.active);
    }

    #[test]
    fn added_users_get_fresh_integer_ids_and_are_found_case_insensitively() {
        let state = state();

        let alice = state.add_member("Alice@Example.com", "Alice Admin", Role::Admin);
        let dave = state.add_guest("dave@example.com", "Dave Guest");

        assert_ne!(alice, dave);
        assert_eq!(
            state.find_by_email("alice@EXAMPLE.com").map(|u| u.id),
            Some(alice)
        );
        assert_eq!(
            state.find_by_email("dave@example.com").map(|u| u.role),
            Some(Role::Guest)
        );
        assert_eq!(state.users().len(), 3);
    }

    #[test]
    fn re_adding_a_removed_user_reactivates_the_same_id() {
        let state = state();
        let id = state.add_member("carol@example.com", "Carol", Role::Member);
        state.with(|ws| ws.directory.get_mut(id).map(|user| user.active = false));
        assert_eq!(state.find_by_email("carol@example.com"), None);

        let again = state.add_member("carol@example.com", "Carol C", Role::Admin);

        assert_eq!(again, id);
        let carol = state
            .find_by_email("carol@example.com")
            .expect("active again");
        assert_eq!(
            (carol.role, carol.username.as_str()),
            (Role::Admin, "Carol C")
        );
    }

    #[test]
    fn scheduled_failures_are_used_up_in_order() {
        let state = state();
        state.set_fail_next(2, 503);

        let taken: Vec<Option<u16>> = (0..3)
            .map(|_| state.with(|ws| ws.take_scheduled_failure()))
            .collect();

        assert_eq!(taken, [Some(503), Some(503), None]);
    }

    #[test]
    fn random_codes_are_upper_case_alphanumeric() {
        let code = random_code(64);

        assert_eq!(code.len(), 64);
        assert!(
            code.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
            "{code}"
        );
    }
}
