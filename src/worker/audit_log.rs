//! The ClickUp audit-log poller: every interval, reads the workspace's membership, guest,
//! role, user-group and sharing changes from ClickUp's v3 audit log (Enterprise only) and
//! records each as a `clickup.audit_log` row, correlated with the identity it concerns;
//! changes made by hand that the IAM does not entitle are `flagged`.
//!
//! The cursor of each log family (time and ids seen at that time) is written with each
//! row in one transaction, so a restart neither records a change twice nor skips one. A
//! plan or permission refusal turns polling off for the process, with one warning and one
//! audit row.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    clickup::{
        answers,
        audit_log::{AuditLogRecord, PageRequest, APPLICABILITIES},
        ClickUpClient, ClickUpError,
    },
    store::{AuditEntry, Near, Store, StoreError},
    worker::deprovision::ROUTER_ACTOR,
};

mod record;

pub use record::{Concerned, Context, Cursor};

/// Records read per page.
const PAGE_ROWS: u32 = 100;
/// The largest page asked for when one millisecond holds more than a page of records.
const MAX_PAGE_ROWS: u32 = 1_000;

/// How long after a router change its own row may be committed: a change of the router's
/// newer than this without a row is read again next time rather than left uncorrelated.
const ROW_LAG_MS: i64 = 60_000;

/// Why a pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    ClickUp(#[from] ClickUpError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored audit-log cursor is unreadable: {0}")]
    Cursor(String),
}

/// What a pass concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Rows written this pass.
    Recorded(usize),
    /// ClickUp refused the plan or the token: polling stops.
    Off(String),
}

pub struct AuditLogPoller {
    pub clickup: ClickUpClient,
    pub store: Store,
    pub team_id: u64,
    /// The router's own ClickUp account.
    pub router_user: u64,
    /// Where a log family with no stored cursor starts (ms): when the worker started.
    pub start_at: i64,
}

/// Polls every `every` until the token is cancelled or ClickUp refuses the plan or token.
pub async fn run_until_stopped(
    poller: Arc<AuditLogPoller>,
    every: Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        match answers::collect(poller.poll()).await {
            Ok(Pass::Recorded(0)) => {}
            Ok(Pass::Recorded(rows)) => info!(rows, "clickup audit log recorded"),
            Ok(Pass::Off(reason)) => {
                warn!(reason = %reason, "clickup audit-log polling turned off");
                return Ok(());
            }
            Err(e) => warn!(error = %e, "clickup audit-log pass failed; the next one tries again"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
    }
}

impl AuditLogPoller {
    /// One pass over every log family.
    pub async fn poll(&self) -> Result<Pass, PollError> {
        let plan = match self.clickup.plan(self.team_id).await {
            Ok(plan) => plan,
            Err(e) => return self.refused_or(e).await,
        };
        if !plan.is_enterprise() {
            let reason = format!(
                "the workspace is on the {} plan; ClickUp's audit log needs Enterprise",
                plan.plan_name
            );
            return self.turn_off(reason, None).await;
        }

        let mut recorded = 0;
        for applicability in APPLICABILITIES {
            match self.poll_family(applicability).await {
                Ok(rows) => recorded += rows,
                Err(PollError::ClickUp(e)) => return self.refused_or(e).await,
                Err(e) => return Err(e),
            }
        }
        Ok(Pass::Recorded(recorded))
    }

    /// Reads one family page by page from its cursor; each new record is written with the
    /// cursor that passes it.
    async fn poll_family(&self, applicability: &str) -> Result<usize, PollError> {
        let setting = format!("clickup_audit_log_cursor:{applicability}");
        let mut cursor = match self.store.setting(&setting).await? {
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| PollError::Cursor(e.to_string()))?
            }
            None => Cursor::starting_at(self.start_at),
        };

        let mut recorded = 0;
        let mut rows = PAGE_ROWS;
        loop {
            let page = PageRequest {
                applicability,
                after_ms: cursor.at,
                rows,
            };
            let mut records = self.clickup.audit_log_page(self.team_id, page).await?;
            records.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
            let full = records.len() >= rows as usize;

            let mut advanced = false;
            for record in &records {
                if !cursor.is_new(record) {
                    continue;
                }
                let Some(row) = self.row(record).await? else {
                    // The router's own change whose row is not committed yet: next pass.
                    return Ok(recorded);
                };
                cursor.admit(record);
                let value =
                    serde_json::to_string(&cursor).map_err(|e| PollError::Cursor(e.to_string()))?;
                self.store
                    .append_audit_with_setting(&row, &setting, &value)
                    .await?;
                recorded += 1;
                advanced = true;
            }
            if full && !advanced && rows < MAX_PAGE_ROWS {
                // A whole page within the cursor's millisecond, all seen: time alone cannot
                // page past it, so ask for a larger page of the same millisecond.
                rows = (rows * 4).min(MAX_PAGE_ROWS);
                continue;
            }
            if full && !advanced {
                warn!(
                    applicability,
                    at = cursor.at,
                    "more audit-log records in one millisecond than the largest page; the rest of that millisecond is skipped"
                );
                cursor.pass_millisecond();
                let value =
                    serde_json::to_string(&cursor).map_err(|e| PollError::Cursor(e.to_string()))?;
                self.store.set_setting(&setting, &value).await?;
                continue;
            }
            if !full || !advanced {
                return Ok(recorded);
            }
            rows = PAGE_ROWS;
        }
    }

    /// The row of one record, or `None` to wait for the router's own row of it.
    async fn row(&self, record: &AuditLogRecord) -> Result<Option<AuditEntry>, PollError> {
        let user_id = record
            .target_id
            .as_deref()
            .and_then(|id| id.parse::<i64>().ok());
        let iam_id = self
            .store
            .identity_of_account(user_id, record.target_email.as_deref())
            .await?;
        let by_router = record.actor_id.as_deref() == Some(self.router_user.to_string().as_str());
        let own_correlation = format!("clickup-audit:{}", record.id);

        let (correlation_id, flagged) = if by_router {
            let cause = match &iam_id {
                Some(iam_id) => {
                    let key = format!("user:{iam_id}");
                    let near = Near {
                        key: &key,
                        at: record.at,
                        before_ms: 2_000,
                        after_ms: ROW_LAG_MS,
                    };
                    self.store.router_correlation_near(&near).await?
                }
                None => None,
            };
            let recent = Utc::now().timestamp_millis() - record.at < ROW_LAG_MS;
            if cause.is_none() && iam_id.is_some() && recent {
                return Ok(None);
            }
            (cause.unwrap_or(own_correlation), None)
        } else {
            let identity = match &iam_id {
                Some(iam_id) => self.store.identity(iam_id).await?,
                None => None,
            };
            let grants = match &iam_id {
                Some(iam_id) => self.store.open_grants(iam_id).await?,
                None => Vec::new(),
            };
            let person = identity.as_ref().map(|identity| Concerned {
                iam_id: &identity.iam_id,
                status: &identity.status,
                grants: &grants,
            });
            (own_correlation, record::unentitled(record, person.as_ref()))
        };

        let context = Context {
            team_id: self.team_id,
            iam_id: iam_id.as_deref(),
            by_router,
            correlation_id,
            flagged,
        };
        Ok(Some(record::entry(record, &context)))
    }

    /// A plan or permission refusal turns polling off; anything else is an error.
    async fn refused_or(&self, error: ClickUpError) -> Result<Pass, PollError> {
        let refused = matches!(
            &error,
            ClickUpError::Api {
                status: 401 | 403,
                ..
            } | ClickUpError::EnterpriseRequired { .. }
        );
        if !refused {
            return Err(error.into());
        }
        let status = error.status();
        self.turn_off(format!("ClickUp refused the audit log: {error}"), status)
            .await
    }

    async fn turn_off(&self, reason: String, status: Option<u16>) -> Result<Pass, PollError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let entry = AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: "clickup.audit_log_off".into(),
            subject: None,
            object: Some(format!("workspace:{}", self.team_id)),
            outcome: "off".into(),
            correlation_id: format!("clickup-audit-off:{id}"),
            event_id: format!("clickup-audit-off:{id}"),
            detail: json!({ "reason": reason, "status": status }),
        };
        self.store.append_audit(&entry).await?;
        Ok(Pass::Off(reason))
    }
}
