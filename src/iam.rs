//! Identity Applications (IDMProv) REST client for access-request approvals: open a PRD
//! request for a person, read its outcome from the request history, list its approval tasks
//! and approve or deny one on an approver's behalf.
//!
//! Invariants: every call carries an OSP bearer token cached in redacting types and renewed
//! shortly before it expires; transient failures are retried a few times with backoff, and
//! calls that create or decide something only when the server surely did not act on them;
//! logs name paths and statuses, never tokens, credentials, bodies or personal data.

mod error;
mod token;
mod transport;
mod wire;

#[cfg(test)]
mod retry_tests;
#[cfg(test)]
mod tests;

use std::{fmt, sync::Arc, time::Duration};

use anyhow::{ensure, Context};
use reqwest::Method;
use serde_json::{json, Value};

pub use error::{IamError, TransportKind};

use crate::config::Secret;
use token::Tokens;
use transport::{Call, Replay};
use wire::Outcome;

/// Entries asked for per page of the task and history lists.
const DEFAULT_PAGE_SIZE: usize = 50;

/// Pages read from one list before giving up.
const MAX_PAGES: usize = 200;

/// Where Identity Applications and its OSP live, and the service account the router uses.
#[derive(Clone, Debug)]
pub struct IamApiSettings {
    /// `https://<apps host>:8543`; the client appends `/osp/...` and `/IDMProv/...`.
    pub base_url: url::Url,
    /// OSP client id, e.g. `rbpmrest`.
    pub client_id: String,
    pub client_secret: Secret,
    /// The service account's login name.
    pub username: String,
    pub password: Secret,
    /// Timeout of one HTTP exchange.
    pub timeout: Duration,
}

/// Where a request stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestStatus {
    Pending,
    Approved {
        approver_dn: Option<String>,
        comment: Option<String>,
    },
    Denied {
        approver_dn: Option<String>,
        comment: Option<String>,
    },
    /// The workflow failed in the engine.
    Failed,
    /// The history list does not hold the request.
    NotFound,
}

/// A decision on an approval task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskAction {
    Approve,
    Deny,
}

impl TaskAction {
    /// The `action` value of `POST /tasks`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskAction::Approve => "approve",
            TaskAction::Deny => "deny",
        }
    }
}

/// A pending approval task of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalTask {
    pub task_id: String,
    /// The workflow activity, e.g. `approval_1`.
    pub activity: String,
    /// DN of the approver the task is addressed to.
    pub addressee: Option<String>,
    /// DN of the approver holding it now.
    pub assigned_to: Option<String>,
}

/// Identity Applications client; clones share the HTTP pool and the cached token.
#[derive(Clone)]
pub struct IamClient {
    http: reqwest::Client,
    base: String,
    tokens: Arc<Tokens>,
    page_size: usize,
}

impl IamClient {
    pub fn new(settings: &IamApiSettings) -> anyhow::Result<IamClient> {
        let scheme = settings.base_url.scheme();
        ensure!(
            scheme == "https" || scheme == "http",
            "the Identity Applications URL must be http(s), not {scheme}"
        );
        ensure!(
            settings.base_url.query().is_none(),
            "the Identity Applications URL must not carry a query"
        );

        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("clickup-iam-router/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("build the Identity Applications HTTP client")?;
        let base = settings.base_url.as_str().trim_end_matches('/').to_owned();
        let tokens = Tokens::new(
            http.clone(),
            &base,
            &settings.client_id,
            settings.client_secret.clone(),
            &settings.username,
            settings.password.clone(),
        );
        Ok(IamClient {
            http,
            base,
            tokens: Arc::new(tokens),
            page_size: DEFAULT_PAGE_SIZE,
        })
    }

    /// Reads the task and history lists `size` entries per page (at least 1).
    pub fn with_page_size(mut self, size: usize) -> IamClient {
        self.page_size = size.max(1);
        self
    }

    /// `POST /requests/permissions/v2`: starts the PRD's workflow for one user and returns
    /// the request (process) id. `data` are request-form fields, one value each.
    pub async fn open_request(
        &self,
        prd_dn: &str,
        recipient_dn: &str,
        data: &[(&str, String)],
    ) -> Result<String, IamError> {
        let path = "/requests/permissions/v2";
        let data: Vec<Value> = data
            .iter()
            .map(|(key, value)| json!({ "key": key, "value": [value] }))
            .collect();
        let body = json!({
            "reqPermissions": [{ "id": prd_dn, "entityType": "PRD" }],
            "data": data,
            "recipients": [{ "dn": recipient_dn, "type": "user" }],
        });

        let answer: wire::PermissionsAnswer = self
            .call(Call {
                method: Method::POST,
                path,
                query: &[],
                body: Some(&body),
                replay: Replay::IfUnprocessed,
            })
            .await?;

        if answer.nodes.iter().any(|node| node.success == Some(false)) {
            return Err(IamError::Unsuccessful {
                path: path.to_owned(),
                reason: "the request was not started for the recipient".to_owned(),
            });
        }
        answer
            .nodes
            .into_iter()
            .flat_map(|node| node.succeeded)
            .find_map(|started| started.request_id)
            .ok_or_else(|| IamError::Contract {
                path: path.to_owned(),
                detail: "success without a requestId".to_owned(),
            })
    }

    /// The request's state from `GET /requests/historylist` (paged until found), with
    /// `POST /requests/history/item` for the approver and comment once it is decided.
    pub async fn request_status(&self, request_id: &str) -> Result<RequestStatus, IamError> {
        let Some(entry) = self.find_in_history(request_id).await? else {
            return Ok(RequestStatus::NotFound);
        };

        match wire::outcome(entry.request_state, entry.process_state) {
            Outcome::Pending => Ok(RequestStatus::Pending),
            Outcome::Failed => Ok(RequestStatus::Failed),
            Outcome::Approved => {
                let (approver_dn, comment) = self.decision(request_id).await?;
                Ok(RequestStatus::Approved {
                    approver_dn,
                    comment,
                })
            }
            Outcome::Denied => {
                let (approver_dn, comment) = self.decision(request_id).await?;
                Ok(RequestStatus::Denied {
                    approver_dn,
                    comment,
                })
            }
        }
    }

    async fn find_in_history(
        &self,
        request_id: &str,
    ) -> Result<Option<wire::HistoryEntry>, IamError> {
        let path = "/requests/historylist";
        let mut next_index = 1;
        for _ in 0..MAX_PAGES {
            let query = [
                ("nextIndex", next_index.to_string()),
                ("size", self.page_size.to_string()),
                ("q", "*".to_owned()),
                ("sortOrder", "desc".to_owned()),
                ("sortBy", "requestDate".to_owned()),
            ];
            let page: wire::HistoryPage = self.read(path, &query).await?;

            let count = page.requests.len();
            if let Some(entry) = page.requests.into_iter().find(|r| r.id == request_id) {
                return Ok(Some(entry));
            }
            if count < self.page_size {
                return Ok(None);
            }
            next_index = advance(next_index, count, page.next_index);
        }
        Err(IamError::TooManyPages {
            path: path.to_owned(),
            pages: MAX_PAGES,
        })
    }

    async fn decision(
        &self,
        request_id: &str,
    ) -> Result<(Option<String>, Option<String>), IamError> {
        let body = json!({ "id": request_id });
        let item: wire::HistoryItem = self
            .call(Call {
                method: Method::POST,
                path: "/requests/history/item",
                query: &[],
                body: Some(&body),
                replay: Replay::Always,
            })
            .await?;
        Ok(item.decision())
    }

    /// Pending approval tasks of a request: `GET /tasks/list`, those whose `processId` is
    /// the request id.
    pub async fn approval_tasks(&self, request_id: &str) -> Result<Vec<ApprovalTask>, IamError> {
        let path = "/tasks/list";
        let mut tasks = Vec::new();
        let mut from_index = 1;
        for _ in 0..MAX_PAGES {
            let query = [
                ("fromIndex", from_index.to_string()),
                ("size", self.page_size.to_string()),
                ("q", "*".to_owned()),
                ("sortOrder", "asc".to_owned()),
                ("sortBy", "createTime".to_owned()),
            ];
            let page: wire::TaskPage = self.read(path, &query).await?;

            let count = page.tasks.len();
            tasks.extend(
                page.tasks
                    .into_iter()
                    .filter(|task| task.process_id.as_deref() == Some(request_id))
                    .map(|task| ApprovalTask {
                        task_id: task.task_id,
                        activity: task.activity_name,
                        addressee: task.addressee,
                        assigned_to: task.assigned_to,
                    }),
            );
            if count < self.page_size {
                return Ok(tasks);
            }
            from_index = advance(from_index, count, page.next_index);
        }
        Err(IamError::TooManyPages {
            path: path.to_owned(),
            pages: MAX_PAGES,
        })
    }

    /// `POST /tasks {tasks:[{taskId}], action, comment, proxyUser?}`: decides one task, as
    /// `proxy_user` (an approver's DN) when given.
    pub async fn act_on_task(
        &self,
        task_id: &str,
        action: TaskAction,
        comment: &str,
        proxy_user: Option<&str>,
    ) -> Result<(), IamError> {
        let path = "/tasks";
        let mut body = json!({
            "tasks": [{ "taskId": task_id }],
            "action": action.as_str(),
            "comment": comment,
        });
        if let Some(proxy_user) = proxy_user {
            body["proxyUser"] = Value::from(proxy_user);
        }

        let outcome: wire::TaskOutcome = self
            .call(Call {
                method: Method::POST,
                path,
                query: &[],
                body: Some(&body),
                replay: Replay::IfUnprocessed,
            })
            .await?;
        if !outcome.failed.is_empty() {
            return Err(IamError::Unsuccessful {
                path: path.to_owned(),
                reason: "the task is listed as failed".to_owned(),
            });
        }
        Ok(())
    }

    async fn read<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, IamError> {
        self.call(Call {
            method: Method::GET,
            path,
            query,
            body: None,
            replay: Replay::Always,
        })
        .await
    }
}

/// The 1-based index of the next page: the server's `nextIndex` when it moves forward,
/// else the index after the entries just read.
fn advance(current: u64, read: usize, reported: Option<u64>) -> u64 {
    let computed = current + read as u64;
    match reported {
        Some(next) if next > current => next,
        _ => computed,
    }
}

impl fmt::Debug for IamClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamClient")
            .field("base", &self.base)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}
