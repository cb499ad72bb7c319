//! Task assignments made by rules, round-robin cursors, and leavers whose tasks wait to be
//! reassigned.
//!
//! Invariants: a task has at most one open assignment (a unique index); a new choice closes
//! the previous one in the same transaction as its audit row; cursors advance atomically.

use std::collections::HashMap;

use chrono::Utc;
use sqlx::Row;

use super::{insert_audit, AuditEntry, Store, StoreError};

/// An assignment as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskAssignment {
    pub task_id: String,
    pub rule: String,
    pub user_id: Option<i64>,
    pub group_id: Option<String>,
    pub iam_id: Option<String>,
    pub assigned_at: i64,
}

/// A choice to record.
#[derive(Clone, Debug)]
pub struct NewAssignment {
    pub task_id: String,
    pub rule: String,
    pub user_id: Option<i64>,
    pub group_id: Option<String>,
    pub iam_id: Option<String>,
    pub event_id: String,
}

/// A leaver whose open tasks wait to be reassigned or reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaverTasks {
    pub iam_id: String,
    pub user_id: i64,
    /// The correlation id of the leaver event, carried into the work it causes later.
    pub correlation_id: String,
}

impl Store {
    pub async fn open_assignment(
        &self,
        task_id: &str,
    ) -> Result<Option<TaskAssignment>, StoreError> {
        let row = sqlx::query(
            "SELECT task_id, rule, user_id, group_id, iam_id, assigned_at FROM task_assignments
             WHERE task_id = $1 AND ended_at IS NULL",
        )
        .bind(task_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(assignment))
    }

    /// Open assignments to one ClickUp account.
    pub async fn open_assignments_of(
        &self,
        user_id: i64,
    ) -> Result<Vec<TaskAssignment>, StoreError> {
        let rows = sqlx::query(
            "SELECT task_id, rule, user_id, group_id, iam_id, assigned_at FROM task_assignments
             WHERE user_id = $1 AND ended_at IS NULL ORDER BY assigned_at",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(assignment).collect())
    }

    /// Open tasks per account, for least-loaded choices.
    pub async fn open_loads(&self, user_ids: &[u64]) -> Result<HashMap<u64, u32>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, COUNT(*) FROM task_assignments WHERE ended_at IS NULL AND user_id IS NOT NULL GROUP BY user_id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut loads: HashMap<u64, u32> = user_ids.iter().map(|&id| (id, 0)).collect();
        for row in rows {
            let (user, count): (i64, i64) = (row.get(0), row.get(1));
            if let Some(load) = loads.get_mut(&(user as u64)) {
                *load = count as u32;
            }
        }
        Ok(loads)
    }

    /// Records a choice, closing the task's previous one, with its audit row.
    pub async fn record_assignment(
        &self,
        new: &NewAssignment,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool().begin().await?;

        open_assignment_in(&mut tx, new, now).await?;
        insert_audit(&mut tx, now, audit).await?;

        tx.commit().await?;
        Ok(())
    }

    /// Ends a task's open assignment (closed, deleted), if it has one.
    pub async fn end_assignment(&self, task_id: &str, reason: &str) -> Result<bool, StoreError> {
        let ended = sqlx::query(
            "UPDATE task_assignments SET ended_at = $2, end_reason = $3 WHERE task_id = $1 AND ended_at IS NULL",
        )
        .bind(task_id)
        .bind(Utc::now().timestamp_millis())
        .bind(reason)
        .execute(self.pool())
        .await?;
        Ok(ended.rows_affected() > 0)
    }

    /// The rule's round-robin position, advanced by one.
    pub async fn next_cursor(&self, rule: &str) -> Result<u64, StoreError> {
        let next: i64 = sqlx::query_scalar(
            "INSERT INTO rule_cursors (rule, next) VALUES ($1, 1)
             ON CONFLICT (rule) DO UPDATE SET next = rule_cursors.next + 1
             RETURNING next - 1",
        )
        .bind(rule)
        .fetch_one(self.pool())
        .await?;
        Ok(next as u64)
    }

    /// The rule's round-robin position, without advancing it (for dry runs).
    pub async fn peek_cursor(&self, rule: &str) -> Result<u64, StoreError> {
        let next: Option<i64> = sqlx::query_scalar("SELECT next FROM rule_cursors WHERE rule = $1")
            .bind(rule)
            .fetch_optional(self.pool())
            .await?;
        Ok(next.unwrap_or(0) as u64)
    }

    /// Opens again the assignment a close ended, when the task is reopened (the assignee still
    /// holds it, so it counts toward their load again).
    pub async fn reopen_assignment(&self, task_id: &str) -> Result<bool, StoreError> {
        let reopened = sqlx::query(
            "UPDATE task_assignments SET ended_at = NULL, end_reason = NULL
             WHERE id = (SELECT id FROM task_assignments WHERE task_id = $1 ORDER BY id DESC LIMIT 1)
               AND end_reason = 'closed'
               AND NOT EXISTS (SELECT 1 FROM task_assignments WHERE task_id = $1 AND ended_at IS NULL)",
        )
        .bind(task_id)
        .execute(self.pool())
        .await?;
        Ok(reopened.rows_affected() > 0)
    }

    /// Notes a removed account whose tasks must be reassigned, with the leaver event's
    /// correlation id; a person who leaves again after a re-enable is noted again.
    pub async fn note_leaver_tasks(
        &self,
        iam_id: &str,
        user_id: i64,
        correlation_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO leaver_tasks (iam_id, user_id, noted_at, correlation_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (iam_id, user_id) DO UPDATE SET noted_at = excluded.noted_at, done_at = NULL,
             correlation_id = excluded.correlation_id
             WHERE leaver_tasks.done_at IS NOT NULL",
        )
        .bind(iam_id)
        .bind(user_id)
        .bind(Utc::now().timestamp_millis())
        .bind(correlation_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn leavers_with_tasks(&self) -> Result<Vec<LeaverTasks>, StoreError> {
        let rows = sqlx::query(
            "SELECT iam_id, user_id, correlation_id FROM leaver_tasks WHERE done_at IS NULL ORDER BY noted_at",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|row| {
                let iam_id: String = row.get(0);
                // Rows noted before correlation ids were kept fall back to the old form.
                let correlation_id = row
                    .get::<Option<String>, _>(2)
                    .unwrap_or_else(|| format!("leaver:{iam_id}"));
                LeaverTasks {
                    iam_id,
                    user_id: row.get(1),
                    correlation_id,
                }
            })
            .collect())
    }

    /// Marks a leaver's tasks handled, with the audit row that reports them.
    pub async fn leaver_tasks_done(
        &self,
        leaver: &LeaverTasks,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE leaver_tasks SET done_at = $3 WHERE iam_id = $1 AND user_id = $2")
            .bind(&leaver.iam_id)
            .bind(leaver.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, now, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Opens a task's assignment, closing its previous one as reassigned.
pub(super) async fn open_assignment_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    new: &NewAssignment,
    now: i64,
) -> Result<(), StoreError> {
    end_assignment_in(tx, &new.task_id, "reassigned", now).await?;
    sqlx::query(
        "INSERT INTO task_assignments (task_id, rule, user_id, group_id, iam_id, event_id, assigned_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&new.task_id)
    .bind(&new.rule)
    .bind(new.user_id)
    .bind(&new.group_id)
    .bind(&new.iam_id)
    .bind(&new.event_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends a task's open assignment, if it has one.
pub(super) async fn end_assignment_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    task_id: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE task_assignments SET ended_at = $2, end_reason = $3
         WHERE task_id = $1 AND ended_at IS NULL",
    )
    .bind(task_id)
    .bind(now)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn assignment(row: &sqlx::any::AnyRow) -> TaskAssignment {
    TaskAssignment {
        task_id: row.get(0),
        rule: row.get(1),
        user_id: row.get(2),
        group_id: row.get(3),
        iam_id: row.get(4),
        assigned_at: row.get(5),
    }
}

#[cfg(test)]
mod tests;
