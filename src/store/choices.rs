//! Task assignment choices as units of work (`assignment_choices`): a choice is noted before
//! its ClickUp call, applied with its assignment and audit rows in one transaction, and
//! settled once its comment is posted, found on the task or given up. An attempt interrupted
//! anywhere (a crash, a lost answer) is carried on by the next one with the same choice.
//!
//! Invariants: a task has at most one unsettled choice (a unique index), so no second choice
//! is made while one is under way; a choice is applied once (`applied_at IS NULL` guards the
//! transaction) and settled once.

use chrono::Utc;
use sqlx::Row;

use super::{
    assignments::{end_assignment_in, open_assignment_in},
    insert_audit, AuditEntry, NewAssignment, Store, StoreError,
};

/// Whom a choice gives the task to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chosen {
    Person {
        user_id: i64,
        iam_id: Option<String>,
    },
    /// The rule's fallback user group.
    Group { id: String },
    /// Nobody: the task is taken from whoever the router chose before.
    Nobody { why: String },
}

/// A choice to note, before anything is changed in ClickUp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewChoice {
    pub task_id: String,
    /// The unit of work that made it (an event's dedup key, `leaver:<iam id>:<task>`).
    pub event_id: String,
    pub correlation_id: String,
    pub rule: String,
    pub strategy: String,
    pub chosen: Chosen,
    /// The account the router chose before, taken off the task.
    pub previous: Option<i64>,
    /// The comment that tells the task's people.
    pub comment: String,
}

/// A choice as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub id: i64,
    pub made: NewChoice,
    pub chosen_at: i64,
    /// ClickUp changed and the assignment recorded.
    pub applied_at: Option<i64>,
    /// The comment posted, found, or given up.
    pub settled_at: Option<i64>,
    pub comment_id: Option<String>,
}

const COLUMNS: &str = "id, task_id, event_id, correlation_id, rule, strategy, user_id, group_id,
    iam_id, previous, why, comment, chosen_at, applied_at, settled_at, comment_id";

impl Store {
    /// Notes a choice before its ClickUp call; fails with a conflict when the task already
    /// has an unsettled one (carry that one on instead).
    pub async fn note_choice(&self, new: &NewChoice) -> Result<Choice, StoreError> {
        let now = Utc::now().timestamp_millis();
        let (user_id, group_id, iam_id, why) = match &new.chosen {
            Chosen::Person { user_id, iam_id } => (Some(*user_id), None, iam_id.clone(), None),
            Chosen::Group { id } => (None, Some(id.clone()), None, None),
            Chosen::Nobody { why } => (None, None, None, Some(why.clone())),
        };

        let id: i64 = sqlx::query_scalar(
            "INSERT INTO assignment_choices (task_id, event_id, correlation_id, rule, strategy,
                 user_id, group_id, iam_id, previous, why, comment, chosen_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (task_id) WHERE settled_at IS NULL DO NOTHING
             RETURNING id",
        )
        .bind(&new.task_id)
        .bind(&new.event_id)
        .bind(&new.correlation_id)
        .bind(&new.rule)
        .bind(&new.strategy)
        .bind(user_id)
        .bind(group_id)
        .bind(iam_id)
        .bind(new.previous)
        .bind(why)
        .bind(&new.comment)
        .bind(now)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(format!("task {} has a choice under way", new.task_id))
        })?;
        Ok(Choice {
            id,
            made: new.clone(),
            chosen_at: now,
            applied_at: None,
            settled_at: None,
            comment_id: None,
        })
    }

    /// The task's choice under way (not settled), whichever unit of work made it.
    pub async fn pending_choice(&self, task_id: &str) -> Result<Option<Choice>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM assignment_choices WHERE task_id = $1 AND settled_at IS NULL"
        ))
        .bind(task_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(choice))
    }

    /// The latest choice a unit of work made for the task, settled or not.
    pub async fn choice_made_by(
        &self,
        task_id: &str,
        event_id: &str,
    ) -> Result<Option<Choice>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM assignment_choices WHERE task_id = $1 AND event_id = $2
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(task_id)
        .bind(event_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(choice))
    }

    /// Records what ClickUp accepted for a choice: its assignment opened (the previous one
    /// closed as reassigned), or for nobody the open one ended, with its audit row, once.
    pub async fn apply_choice(
        &self,
        choice: &Choice,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let now = Utc::now().timestamp_millis();
        let made = &choice.made;
        let mut tx = self.pool().begin().await?;

        let applied = sqlx::query(
            "UPDATE assignment_choices SET applied_at = $2 WHERE id = $1 AND applied_at IS NULL",
        )
        .bind(choice.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if applied.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "the choice for task {} was applied meanwhile",
                made.task_id
            )));
        }
        let assignment = |user_id, group_id, iam_id| NewAssignment {
            task_id: made.task_id.clone(),
            rule: made.rule.clone(),
            user_id,
            group_id,
            iam_id,
            event_id: made.event_id.clone(),
        };
        match &made.chosen {
            Chosen::Person { user_id, iam_id } => {
                let new = assignment(Some(*user_id), None, iam_id.clone());
                open_assignment_in(&mut tx, &new, now).await?;
            }
            Chosen::Group { id } => {
                let new = assignment(None, Some(id.clone()), None);
                open_assignment_in(&mut tx, &new, now).await?;
            }
            Chosen::Nobody { .. } => {
                end_assignment_in(&mut tx, &made.task_id, "nobody qualifies", now).await?;
            }
        }
        insert_audit(&mut tx, now, audit).await?;

        tx.commit().await?;
        Ok(())
    }

    /// Settles a choice: its comment posted or found (`Some` id), or given up (`None`).
    pub async fn settle_choice(
        &self,
        choice: &Choice,
        comment_id: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE assignment_choices SET settled_at = $2, comment_id = $3
             WHERE id = $1 AND settled_at IS NULL",
        )
        .bind(choice.id)
        .bind(Utc::now().timestamp_millis())
        .bind(comment_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

fn choice(row: &sqlx::any::AnyRow) -> Choice {
    let chosen = match (
        row.get::<Option<i64>, _>("user_id"),
        row.get::<Option<String>, _>("group_id"),
    ) {
        (Some(user_id), _) => Chosen::Person {
            user_id,
            iam_id: row.get("iam_id"),
        },
        (None, Some(id)) => Chosen::Group { id },
        (None, None) => Chosen::Nobody {
            why: row.get::<Option<String>, _>("why").unwrap_or_default(),
        },
    };
    Choice {
        id: row.get("id"),
        made: NewChoice {
            task_id: row.get("task_id"),
            event_id: row.get("event_id"),
            correlation_id: row.get("correlation_id"),
            rule: row.get("rule"),
            strategy: row.get("strategy"),
            chosen,
            previous: row.get("previous"),
            comment: row.get("comment"),
        },
        chosen_at: row.get("chosen_at"),
        applied_at: row.get("applied_at"),
        settled_at: row.get("settled_at"),
        comment_id: row.get("comment_id"),
    }
}

#[cfg(test)]
mod tests;
