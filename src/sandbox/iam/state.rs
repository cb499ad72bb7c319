//! The stand-in's data: users, PRDs, requests with their approval tasks and comments, live
//! tokens, recorded calls and scheduled failures, and the transitions between them.
//!
//! Invariants: ids and tokens are 32 lower-case hex; a request is decided once, by a deny or
//! by the last of its approvals, and its other tasks are then cancelled; the lock is held
//! only inside [`IamState::with`].

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;

use super::{
    notify,
    view::{IamRequestState, IamRequestView, IamTaskState, IamTaskView},
    IamSandboxConfig, IamSandboxUser,
};

/// How long a refresh token stays usable (the stand-in's choice).
const REFRESH_TTL: Duration = Duration::from_secs(8 * 3600);

/// A comment the history item lists.
#[derive(Clone, Debug)]
pub(super) struct Comment {
    pub user: String,
    pub text: String,
    pub activity: String,
    pub at: DateTime<Utc>,
}

pub(super) struct Prd {
    pub dn: String,
    pub name: String,
    pub approvers: Vec<String>,
}

pub(super) struct Request {
    pub view: IamRequestView,
    pub prd_name: String,
    pub requester: String,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub deciding_activity: Option<String>,
    pub comments: Vec<Comment>,
}

/// Why acting on a task was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(super) enum ActError {
    #[error("task {0} does not exist or is no longer pending")]
    UnknownTask(String),
    #[error("the acting user does not exist")]
    UnknownUser,
    #[error("the task is not addressed to the proxied user")]
    NotAddressee,
}

struct Grant {
    user_dn: String,
    expires: Instant,
}

pub(super) struct Inner {
    pub client_id: String,
    pub client_secret: String,
    pub users: Vec<IamSandboxUser>,
    pub token_ttl: Duration,
    pub prds: Vec<Prd>,
    pub requests: Vec<Request>,
    pub calls: Vec<(String, String, u16)>,
    pub failures: VecDeque<u16>,
    pub grants: Vec<String>,
    access: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
    confirmations: u64,
}

/// Shared handle on the stand-in's data.
#[derive(Clone)]
pub(crate) struct IamState(Arc<Mutex<Inner>>);

impl IamState {
    pub fn new(config: &IamSandboxConfig) -> Self {
        IamState(Arc::new(Mutex::new(Inner {
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            users: config.users.clone(),
            token_ttl: config.token_ttl,
            prds: Vec::new(),
            requests: Vec::new(),
            calls: Vec::new(),
            failures: VecDeque::new(),
            grants: Vec::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            confirmations: 0,
        })))
    }

    pub fn with<R>(&self, action: impl FnOnce(&mut Inner) -> R) -> R {
        // A panic in a test handler poisons the lock; the data is still consistent because
        // every transition completes before it returns.
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        action(&mut inner)
    }
}

pub(super) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Inner {
    pub fn user(&self, dn: &str) -> Option<&IamSandboxUser> {
        self.users.iter().find(|u| u.dn.eq_ignore_ascii_case(dn))
    }

    pub fn add_prd(&mut self, dn: &str, name: &str, approvers: &[&str]) {
        self.prds.retain(|prd| !prd.dn.eq_ignore_ascii_case(dn));
        self.prds.push(Prd {
            dn: dn.to_owned(),
            name: name.to_owned(),
            approvers: approvers.iter().map(|a| (*a).to_owned()).collect(),
        });
    }

    /// The DN of the user these credentials log in, if any.
    pub fn login(&self, username: &str, password: &str) -> Option<String> {
        self.users
            .iter()
            .find(|u| u.username == username && u.password.as_deref() == Some(password))
            .map(|u| u.dn.clone())
    }

    /// Issues an access and a refresh token for `user_dn`.
    pub fn issue(&mut self, user_dn: &str, grant_type: &str) -> (String, String) {
        let now = Instant::now();
        let access = new_id();
        let refresh = new_id();
        self.access.insert(
            access.clone(),
            Grant {
                user_dn: user_dn.to_owned(),
                expires: now + self.token_ttl,
            },
        );
        self.refresh.insert(
            refresh.clone(),
            Grant {
                user_dn: user_dn.to_owned(),
                expires: now + REFRESH_TTL,
            },
        );
        self.grants.push(grant_type.to_owned());
        (access, refresh)
    }

    /// Spends a refresh token (they are single-use here), returning its user.
    pub fn redeem(&mut self, refresh: &str) -> Option<String> {
        let grant = self.refresh.remove(refresh)?;
        (Instant::now() < grant.expires).then_some(grant.user_dn)
    }

    /// The user of a live access token.
    pub fn bearer(&self, token: &str) -> Option<String> {
        self.access
            .get(token)
            .filter(|grant| Instant::now() < grant.expires)
            .map(|grant| grant.user_dn.clone())
    }

    pub fn revoke_tokens(&mut self) {
        self.access.clear();
        self.refresh.clear();
    }

    /// Starts the PRD's workflow once per recipient; `None` when the PRD is not indexed.
    pub fn open(
        &mut self,
        prd_dn: &str,
        recipients: &[String],
        data: Vec<(String, Vec<String>)>,
        requester: &str,
    ) -> Option<Vec<String>> {
        let prd = self
            .prds
            .iter()
            .find(|prd| prd.dn.eq_ignore_ascii_case(prd_dn))?;
        let (prd_dn, prd_name, approvers) =
            (prd.dn.clone(), prd.name.clone(), prd.approvers.clone());

        let mut ids = Vec::new();
        for recipient in recipients {
            self.confirmations += 1;
            let requested_at = Utc::now().trunc_subsecs(3);
            let tasks: Vec<IamTaskView> = approvers
                .iter()
                .enumerate()
                .map(|(index, approver)| IamTaskView {
                    task_id: new_id(),
                    activity: format!("approval_{}", index + 1),
                    addressee: approver.clone(),
                    state: IamTaskState::Pending,
                })
                .collect();
            let state = if tasks.is_empty() {
                IamRequestState::Failed
            } else {
                IamRequestState::Pending
            };
            let id = new_id();
            self.requests.push(Request {
                view: IamRequestView {
                    id: id.clone(),
                    confirmation_number: format!(
                        "{}-{}",
                        requested_at.format("%Y%m%d"),
                        self.confirmations
                    ),
                    prd: prd_dn.clone(),
                    recipient: recipient.clone(),
                    data: data.clone(),
                    state,
                    approver: None,
                    comment: None,
                    tasks,
                },
                prd_name: prd_name.clone(),
                requester: requester.to_owned(),
                requested_at,
                decided_at: None,
                deciding_activity: None,
                comments: Vec::new(),
            });
            ids.push(id);
        }
        Some(ids)
    }

    pub fn request(&self, id: &str) -> Option<&Request> {
        self.requests.iter().find(|r| r.view.id == id)
    }

    /// Whether `task_id` is a pending task of some request.
    pub fn is_pending(&self, task_id: &str) -> bool {
        self.requests.iter().any(|r| {
            r.view
                .tasks
                .iter()
                .any(|t| t.task_id == task_id && t.state == IamTaskState::Pending)
        })
    }

    /// The pending task of the request addressed to `approver_dn`.
    pub fn pending_task_of(&self, request_id: &str, approver_dn: &str) -> Option<String> {
        self.request(request_id)?
            .view
            .tasks
            .iter()
            .find(|t| {
                t.state == IamTaskState::Pending && t.addressee.eq_ignore_ascii_case(approver_dn)
            })
            .map(|t| t.task_id.clone())
    }

    /// Decides one pending task as `actor` (the addressee itself when `as_addressee`, else
    /// an administrator acting for the workflow). Returns the decision event when this act
    /// decided the request.
    pub fn act(
        &mut self,
        task_id: &str,
        actor: &str,
        as_addressee: bool,
        approve: bool,
        comment: &str,
    ) -> Result<Option<Value>, ActError> {
        let actor = self.user(actor).ok_or(ActError::UnknownUser)?.dn.clone();
        let index = self
            .requests
            .iter()
            .position(|r| r.view.tasks.iter().any(|t| t.task_id == task_id))
            .ok_or_else(|| ActError::UnknownTask(task_id.to_owned()))?;
        let request = &mut self.requests[index];
        let task = request
            .view
            .tasks
            .iter_mut()
            .find(|t| t.task_id == task_id && t.state == IamTaskState::Pending)
            .ok_or_else(|| ActError::UnknownTask(task_id.to_owned()))?;
        if as_addressee && !task.addressee.eq_ignore_ascii_case(&actor) {
            return Err(ActError::NotAddressee);
        }

        task.state = if approve {
            IamTaskState::Approved
        } else {
            IamTaskState::Denied
        };
        let activity = task.activity.clone();
        let now = Utc::now().trunc_subsecs(0);
        request.comments.push(Comment {
            user: actor.clone(),
            text: comment.to_owned(),
            activity: activity.clone(),
            at: now,
        });

        let all_approved = request
            .view
            .tasks
            .iter()
            .all(|t| t.state == IamTaskState::Approved);
        if approve && !all_approved {
            return Ok(None);
        }
        for task in request.view.tasks.iter_mut() {
            if task.state == IamTaskState::Pending {
                task.state = IamTaskState::Cancelled;
            }
        }
        request.view.state = if approve {
            IamRequestState::Approved
        } else {
            IamRequestState::Denied
        };
        request.view.approver = Some(actor);
        request.view.comment = Some(comment.to_owned()).filter(|c| !c.is_empty());
        request.decided_at = Some(now);
        request.deciding_activity = Some(activity);

        Ok(Some(notify::event(self, &self.requests[index])))
    }

    pub fn views(&self) -> Vec<IamRequestView> {
        self.requests.iter().map(|r| r.view.clone()).collect()
    }
}
