//! Access requests and their decisions: the durable state machine behind a ClickUp intake task.
//!
//! Invariants: one row per task (intake is `INSERT OR IGNORE`); one decision per request and
//! step (a primary key), written in the same transaction as the request's new state and its
//! audit rows, so a decision that arrives twice changes nothing the second time.

use chrono::Utc;
use sqlx::Row;

mod open;

use super::{insert_audit, AuditEntry, IdentityRecord, Store, StoreError};

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestState {
    /// The form lacks a field or holds an invalid value; waiting for the requester to fix it.
    Incomplete,
    /// Waiting for the current step's approvers (or the IAM's workflow).
    Pending,
    /// Finally approved; the grant is being applied.
    Approved,
    /// Access applied (until `until`, when set).
    Granted,
    /// Time-bound access that ended.
    Ended,
    Denied,
    /// Refused by policy before anyone was asked.
    Ineligible,
    /// Nobody decided in time.
    Expired,
    /// The task was deleted before a decision.
    Cancelled,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Incomplete => "incomplete",
            RequestState::Pending => "pending",
            RequestState::Approved => "approved",
            RequestState::Granted => "granted",
            RequestState::Ended => "ended",
            RequestState::Denied => "denied",
            RequestState::Ineligible => "ineligible",
            RequestState::Expired => "expired",
            RequestState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<RequestState> {
        let all = [
            RequestState::Incomplete,
            RequestState::Pending,
            RequestState::Approved,
            RequestState::Granted,
            RequestState::Ended,
            RequestState::Denied,
            RequestState::Ineligible,
            RequestState::Expired,
            RequestState::Cancelled,
        ];
        all.into_iter().find(|state| state.as_str() == text)
    }

    /// Whether nothing can be decided any more.
    pub fn is_final(self) -> bool {
        !matches!(self, RequestState::Incomplete | RequestState::Pending)
    }
}

/// One access request as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessRequest {
    pub task_id: String,
    pub list_id: String,
    pub requester_user: i64,
    pub iam_id: Option<String>,
    pub area: Option<String>,
    /// `list:<id>`, `folder:<id>` or `space:<id>`.
    pub object: Option<String>,
    pub level: Option<String>,
    pub duration_ms: Option<i64>,
    pub state: RequestState,
    pub step: i64,
    /// ClickUp user ids of the current step's approvers.
    pub approvers: Vec<i64>,
    /// IAM ids of the current step's approvers, for the audit trail and the IAM report.
    pub approver_iam_ids: Vec<String>,
    pub iam_request_id: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
    pub until: Option<i64>,
    pub step_started_at: i64,
    pub reminded_at: Option<i64>,
    pub escalated: bool,
    /// The step whose assignment, status and comment were made in ClickUp (-1: none yet).
    pub announced_step: i64,
    /// Whether the final outcome was commented and the task's status set.
    pub outcome_done: bool,
    pub granted_at: Option<i64>,
    pub reported_at: Option<i64>,
    pub correlation_id: String,
    /// The version read; a write succeeds only if nobody wrote since.
    pub version: i64,
}

impl AccessRequest {
    /// A request just taken in from the intake list.
    pub fn new(task_id: &str, list_id: &str, requester_user: i64, now: i64) -> AccessRequest {
        AccessRequest {
            task_id: task_id.to_owned(),
            list_id: list_id.to_owned(),
            requester_user,
            iam_id: None,
            area: None,
            object: None,
            level: None,
            duration_ms: None,
            state: RequestState::Incomplete,
            step: 0,
            approvers: Vec::new(),
            approver_iam_ids: Vec::new(),
            iam_request_id: None,
            decided_by: None,
            decided_at: None,
            reason: None,
            until: None,
            step_started_at: now,
            reminded_at: None,
            escalated: false,
            announced_step: -1,
            outcome_done: false,
            granted_at: None,
            reported_at: None,
            correlation_id: format!("request:{task_id}"),
            version: 0,
        }
    }
}

/// A decision to record once per request and step.
#[derive(Clone, Debug)]
pub struct Decision {
    pub task_id: String,
    pub step: i64,
    pub approved: bool,
    pub decided_by: String,
    /// `clickup-status`, `clickup-comment`, `iam-event`, `iam-poll`.
    pub via: String,
}

const COLUMNS: &str = "task_id, list_id, requester_user, iam_id, area, object, level, duration_ms, state, step,
    approvers, approver_iam_ids, iam_request_id, decided_by, decided_at, reason, until, step_started_at,
    reminded_at, escalated, announced_step, outcome_done, granted_at, reported_at, correlation_id, version";

impl Store {
    /// Records a new request; `false` when the task is already on record.
    pub async fn insert_request(&self, request: &AccessRequest) -> Result<bool, StoreError> {
        let now = Utc::now().timestamp_millis();
        let inserted = sqlx::query(
            "INSERT INTO access_requests (task_id, list_id, requester_user, state, step_started_at, correlation_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (task_id) DO NOTHING",
        )
        .bind(&request.task_id)
        .bind(&request.list_id)
        .bind(request.requester_user)
        .bind(request.state.as_str())
        .bind(request.step_started_at)
        .bind(&request.correlation_id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    pub async fn request(&self, task_id: &str) -> Result<Option<AccessRequest>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM access_requests WHERE task_id = $1");
        let row = sqlx::query(&sql)
            .bind(task_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(request))
    }

    pub async fn request_by_iam_id(
        &self,
        iam_request_id: &str,
    ) -> Result<Option<AccessRequest>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM access_requests WHERE iam_request_id = $1");
        let row = sqlx::query(&sql)
            .bind(iam_request_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(request))
    }

    /// Requests the scheduler still has work for: open ones, granted ones with an end or an
    /// effect left, and finished ones whose outcome is not yet commented or reported.
    pub async fn requests_to_tend(&self) -> Result<Vec<AccessRequest>, StoreError> {
        let effects_left =
            "(outcome_done = 0 OR (iam_request_id IS NOT NULL AND reported_at IS NULL))";
        let sql = format!(
            "SELECT {COLUMNS} FROM access_requests
             WHERE state IN ('pending', 'approved')
                OR (state = 'granted' AND (until IS NOT NULL OR {effects_left}))
                OR (state IN ('denied', 'ineligible', 'expired') AND {effects_left})
             ORDER BY created_at"
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        Ok(rows.iter().map(request).collect())
    }

    /// A person's approved or granted requests: part of their desired access. Requests
    /// decided before the IAM last re-enabled the person do not come back with them.
    pub async fn granted_requests(&self, iam_id: &str) -> Result<Vec<AccessRequest>, StoreError> {
        let columns: Vec<String> = COLUMNS
            .split(',')
            .map(|c| format!("r.{}", c.trim()))
            .collect();
        let sql = format!(
            "SELECT {} FROM access_requests r LEFT JOIN identities i ON i.iam_id = r.iam_id
             WHERE r.iam_id = $1 AND r.state IN ('approved', 'granted')
               AND (i.enabled_at IS NULL OR r.decided_at IS NULL OR r.decided_at >= i.enabled_at)
             ORDER BY r.created_at",
            columns.join(", ")
        );
        let rows = sqlx::query(&sql)
            .bind(iam_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(request).collect())
    }

    /// Writes the request's state with its audit rows in one transaction.
    /// Fails with [`StoreError::Conflict`] (writing nothing) when the request changed since
    /// it was read.
    pub async fn save_request(
        &self,
        request: &mut AccessRequest,
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool().begin().await?;
        update(&mut tx, request, now).await?;
        for entry in audit {
            insert_audit(&mut tx, now, entry).await?;
        }
        tx.commit().await?;
        request.version += 1;
        Ok(())
    }

    /// Records a decision with the request's new state and its audit rows; `false` (and
    /// nothing written) when this step was already decided.
    pub async fn decide(
        &self,
        decision: &Decision,
        request: &mut AccessRequest,
        audit: &[AuditEntry],
    ) -> Result<bool, StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool().begin().await?;

        let inserted = sqlx::query(
            "INSERT INTO request_decisions (task_id, step, decision, decided_by, via, at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (task_id, step) DO NOTHING",
        )
        .bind(&decision.task_id)
        .bind(decision.step)
        .bind(if decision.approved {
            "approved"
        } else {
            "denied"
        })
        .bind(&decision.decided_by)
        .bind(&decision.via)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }

        update(&mut tx, request, now).await?;
        for entry in audit {
            insert_audit(&mut tx, now, entry).await?;
        }
        tx.commit().await?;
        request.version += 1;
        Ok(true)
    }

    pub async fn identity_by_email(
        &self,
        email: &str,
    ) -> Result<Option<IdentityRecord>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT iam_id FROM identities WHERE lower(email) = lower($1) ORDER BY event_time DESC LIMIT 1",
        )
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        match id {
            Some(id) => self.identity(&id).await,
            None => Ok(None),
        }
    }

    pub async fn identity_by_clickup_user(
        &self,
        user_id: i64,
    ) -> Result<Option<IdentityRecord>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT iam_id FROM identities WHERE clickup_user_id = $1 ORDER BY event_time DESC LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        match id {
            Some(id) => self.identity(&id).await,
            None => Ok(None),
        }
    }

    /// Whether `who` already decided a step of this request (a redelivered decision).
    pub async fn decided_by(&self, task_id: &str, who: &str) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM request_decisions WHERE task_id = $1 AND decided_by = $2",
        )
        .bind(task_id)
        .bind(who)
        .fetch_one(self.pool())
        .await?;
        Ok(count > 0)
    }

    /// The identity with this IAM distinguished name (case-insensitive).
    pub async fn identity_by_dn(&self, dn: &str) -> Result<Option<IdentityRecord>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT iam_id FROM identities WHERE lower(json_extract(attributes, '$.dn')) = lower($1) LIMIT 1",
        )
        .bind(dn)
        .fetch_optional(self.pool())
        .await?;
        match id {
            Some(id) => self.identity(&id).await,
            None => Ok(None),
        }
    }

    /// Every active identity (for approvers named by IAM group).
    pub async fn active_identities(&self) -> Result<Vec<IdentityRecord>, StoreError> {
        let (everyone, _) = self.identities_changed_since(0).await?;
        Ok(everyone
            .into_iter()
            .filter(|r| r.status == "active")
            .collect())
    }
}

async fn update(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    r: &AccessRequest,
    now: i64,
) -> Result<(), StoreError> {
    let written = sqlx::query(
        "UPDATE access_requests SET iam_id = $2, area = $3, object = $4, level = $5, duration_ms = $6,
            state = $7, step = $8, approvers = $9, approver_iam_ids = $10, iam_request_id = $11,
            decided_by = $12, decided_at = $13, reason = $14, until = $15, step_started_at = $16,
            reminded_at = $17, escalated = $18, announced_step = $19, outcome_done = $20,
            granted_at = $21, reported_at = $22, updated_at = $23, version = version + 1
         WHERE task_id = $1 AND version = $24",
    )
    .bind(&r.task_id)
    .bind(&r.iam_id)
    .bind(&r.area)
    .bind(&r.object)
    .bind(&r.level)
    .bind(r.duration_ms)
    .bind(r.state.as_str())
    .bind(r.step)
    .bind(serde_json::to_string(&r.approvers).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::to_string(&r.approver_iam_ids).unwrap_or_else(|_| "[]".into()))
    .bind(&r.iam_request_id)
    .bind(&r.decided_by)
    .bind(r.decided_at)
    .bind(&r.reason)
    .bind(r.until)
    .bind(r.step_started_at)
    .bind(r.reminded_at)
    // Flags are stored as 0 or 1 (INTEGER on SQLite, BIGINT on PostgreSQL).
    .bind(i64::from(r.escalated))
    .bind(r.announced_step)
    .bind(i64::from(r.outcome_done))
    .bind(r.granted_at)
    .bind(r.reported_at)
    .bind(now)
    .bind(r.version)
    .execute(&mut **tx)
    .await?;
    if written.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "access request {} changed since it was read",
            r.task_id
        )));
    }
    Ok(())
}

fn request(row: &sqlx::any::AnyRow) -> AccessRequest {
    let json_list = |index: usize| row.get::<&str, _>(index).to_owned();
    AccessRequest {
        task_id: row.get(0),
        list_id: row.get(1),
        requester_user: row.get(2),
        iam_id: row.get(3),
        area: row.get(4),
        object: row.get(5),
        level: row.get(6),
        duration_ms: row.get(7),
        // The CHECK-free column only ever holds names written by `as_str`.
        state: RequestState::parse(row.get::<&str, _>(8)).unwrap_or(RequestState::Incomplete),
        step: row.get(9),
        approvers: serde_json::from_str(&json_list(10)).unwrap_or_default(),
        approver_iam_ids: serde_json::from_str(&json_list(11)).unwrap_or_default(),
        iam_request_id: row.get(12),
        decided_by: row.get(13),
        decided_at: row.get(14),
        reason: row.get(15),
        until: row.get(16),
        step_started_at: row.get(17),
        reminded_at: row.get(18),
        escalated: row.get::<i64, _>(19) != 0,
        announced_step: row.get(20),
        outcome_done: row.get::<i64, _>(21) != 0,
        granted_at: row.get(22),
        reported_at: row.get(23),
        correlation_id: row.get(24),
        version: row.get(25),
    }
}

#[cfg(test)]
mod tests;
