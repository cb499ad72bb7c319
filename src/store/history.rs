//! Read-only queries over the record's history: grant rows open or closed (by person, by
//! object, overlapping a time range), the approvals behind access requests, and the audit
//! search. Timelines, exports, the admin API and the pages read through these.
//!
//! Times are epoch milliseconds. A grant row is the interval `[since, ended_at)`; an open row
//! has no `ended_at`.

use std::collections::HashMap;

use sqlx::Row;

use super::{
    access::GrantKind, audit_record, sql::Sql, AuditRecord, IdentityRecord, Store, StoreError,
};

/// The most audit rows one search page returns.
pub const MAX_AUDIT_PAGE: u32 = 1000;

/// A grant row with its whole life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    pub id: i64,
    pub iam_id: String,
    pub kind: GrantKind,
    pub object: String,
    pub level: String,
    /// The mapping's name, or `request:<task id>` for an approved access request.
    pub rule: String,
    pub event_id: String,
    pub since: i64,
    /// The planned end (time-bound access), if any.
    pub until: Option<i64>,
    pub ended_at: Option<i64>,
    /// `<cause kind>:<event id>` as the worker wrote it (`leaver:…`, `event:…`, `expiry:…`).
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
}

/// An approving decision of one step of an access request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    pub task_id: String,
    pub step: i64,
    /// `clickup:<user id>`, `iam:<iam id>`, `iam:<dn>` or `iam:workflow`.
    pub decided_by: String,
    /// `clickup-status`, `clickup-comment`, `iam-event`, `iam-poll`.
    pub via: String,
    pub at: i64,
}

/// Filters of the audit search; every one that is set must hold. Rows come oldest first,
/// after the `after_seq` cursor, at most `limit` (capped at [`MAX_AUDIT_PAGE`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub correlation_id: Option<String>,
    /// `user:<iam id>`, `task:<id>`, ...
    pub subject: Option<String>,
    /// `list:<id>`, a group name, `task:<id>`, ...
    pub object: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub outcome: Option<String>,
    /// Rows at or after this time.
    pub from: Option<i64>,
    /// Rows before this time.
    pub to: Option<i64>,
    /// Keyset cursor: rows with a larger `seq` only (the previous page's `next`).
    pub after_seq: Option<i64>,
    pub limit: u32,
}

/// One page of the audit search.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// The cursor for the next page (`after_seq`), when the page was full.
    pub next: Option<i64>,
}

const GRANT_COLUMNS: &str =
    "id, iam_id, kind, object, level, rule, event_id, since, until, ended_at, ended_by, end_reason";

impl Store {
    /// The person with this IAM id, else the latest one with this email (case-insensitive).
    pub async fn person(&self, key: &str) -> Result<Option<IdentityRecord>, StoreError> {
        match self.identity(key).await? {
            Some(found) => Ok(Some(found)),
            None if key.contains('@') => self.identity_by_email(key.trim()).await,
            None => Ok(None),
        }
    }

    /// Every grant row of a person, open and closed, in the order they began.
    pub async fn grant_history_of(&self, iam_id: &str) -> Result<Vec<GrantRecord>, StoreError> {
        let sql =
            format!("SELECT {GRANT_COLUMNS} FROM grants WHERE iam_id = $1 ORDER BY since, id");
        let rows = sqlx::query(&sql)
            .bind(iam_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(grant_record).collect())
    }

    /// Every grant row on any of `objects` (`list:<id>`, `workspace:<team>`, a group name),
    /// open and closed, in the order they began.
    pub async fn grant_history_on(
        &self,
        objects: &[String],
    ) -> Result<Vec<GrantRecord>, StoreError> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Sql::new(format!(
            "SELECT {GRANT_COLUMNS} FROM grants WHERE object IN ("
        ));
        query.push_list(objects).push(") ORDER BY since, id");
        let rows = query.build()?.fetch_all(self.pool()).await?;
        Ok(rows.iter().map(grant_record).collect())
    }

    /// Grant rows whose interval overlaps `[from, to)`: begun before `to`, and still open or
    /// ended after `from`.
    pub async fn grant_history_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM grants
             WHERE since < $2 AND (ended_at IS NULL OR ended_at > $1)
             ORDER BY iam_id, since, id"
        );
        let rows = sqlx::query(&sql)
            .bind(from)
            .bind(to)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(grant_record).collect())
    }

    /// Workspace role rows of admins and owners, open and closed: they see every object.
    pub async fn admin_role_history(&self) -> Result<Vec<GrantRecord>, StoreError> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM grants
             WHERE kind = 'role' AND level IN ('admin', 'owner') ORDER BY since, id"
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        Ok(rows.iter().map(grant_record).collect())
    }

    /// The approving decisions of these access requests (by task id), step by step.
    pub async fn request_approvals(
        &self,
        task_ids: &[String],
    ) -> Result<Vec<Approval>, StoreError> {
        if task_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Sql::new(
            "SELECT task_id, step, decided_by, via, at FROM request_decisions
             WHERE decision = 'approved' AND task_id IN (",
        );
        query.push_list(task_ids).push(") ORDER BY task_id, step");
        let rows = query.build()?.fetch_all(self.pool()).await?;
        Ok(rows
            .iter()
            .map(|row| Approval {
                task_id: row.get(0),
                step: row.get(1),
                decided_by: row.get(2),
                via: row.get(3),
                at: row.get(4),
            })
            .collect())
    }

    /// The emails on record of these people (those without one are left out).
    pub async fn emails_of(
        &self,
        iam_ids: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        if iam_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut query = Sql::new(
            "SELECT iam_id, email FROM identities WHERE email IS NOT NULL AND iam_id IN (",
        );
        query.push_list(iam_ids).push(")");
        let rows = query.build()?.fetch_all(self.pool()).await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    /// How many open grants each person holds (people with none are left out).
    pub async fn open_grant_counts(&self) -> Result<HashMap<String, i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT iam_id, COUNT(*) FROM grants WHERE ended_at IS NULL GROUP BY iam_id",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    /// Audit rows matching every filter set in `query`, oldest first, one page at a time.
    pub async fn audit_search(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let limit = query.limit.clamp(1, MAX_AUDIT_PAGE);
        let mut sql = Sql::new(
            "SELECT seq, at, actor, action, subject, object, outcome, correlation_id, event_id, detail
             FROM audit WHERE 1 = 1",
        );
        let texts = [
            ("correlation_id", &query.correlation_id),
            ("subject", &query.subject),
            ("object", &query.object),
            ("action", &query.action),
            ("actor", &query.actor),
            ("outcome", &query.outcome),
        ];
        for (column, value) in texts {
            if let Some(value) = value {
                sql.push(format!(" AND {column} = "))
                    .push_bind(value.clone());
            }
        }
        if let Some(from) = query.from {
            sql.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = query.to {
            sql.push(" AND at < ").push_bind(to);
        }
        if let Some(after) = query.after_seq {
            sql.push(" AND seq > ").push_bind(after);
        }
        sql.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));

        let rows = sql.build()?.fetch_all(self.pool()).await?;
        let records: Vec<AuditRecord> = rows.iter().map(audit_record).collect();
        let next = match records.len() as u32 == limit {
            true => records.last().map(|r| r.seq),
            false => None,
        };
        Ok(AuditPage { records, next })
    }
}

fn grant_record(row: &sqlx::any::AnyRow) -> GrantRecord {
    GrantRecord {
        id: row.get(0),
        iam_id: row.get(1),
        kind: GrantKind::parse(row.get::<&str, _>(2)),
        object: row.get(3),
        level: row.get(4),
        rule: row.get(5),
        event_id: row.get(6),
        since: row.get(7),
        until: row.get(8),
        ended_at: row.get(9),
        ended_by: row.get(10),
        end_reason: row.get(11),
    }
}

#[cfg(test)]
mod tests;
