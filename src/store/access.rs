//! Identities and grants: the router's record of each person and of the access it gave them.
//!
//! A grant is opened when an action is applied in ClickUp and closed when it is revoked; a
//! level change closes one row and opens another, so "who had what, when and why" stays
//! answerable. Each change is written with its audit row in one transaction.

use chrono::Utc;
use sqlx::Row;

use super::{insert_audit, AuditEntry, Store, StoreError};

/// What a grant gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GrantKind {
    /// A workspace role (`object` is `workspace:<team id>`, `level` the role).
    Role,
    /// Membership of a user group (`object` is the group name).
    Group,
    /// A share of a space, folder or list (`object` is `list:<id>`, `level` the permission).
    Share,
}

impl GrantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::Role => "role",
            GrantKind::Group => "group",
            GrantKind::Share => "share",
        }
    }

    pub(crate) fn parse(text: &str) -> GrantKind {
        match text {
            "role" => GrantKind::Role,
            "group" => GrantKind::Group,
            _ => GrantKind::Share,
        }
    }
}

/// An open grant as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub id: i64,
    pub iam_id: String,
    pub kind: GrantKind,
    pub object: String,
    pub level: String,
    pub custom_role_id: Option<i64>,
    pub rule: String,
    pub event_id: String,
    pub since: i64,
    pub until: Option<i64>,
}

/// A grant to open.
#[derive(Clone, Debug)]
pub struct NewGrant {
    pub iam_id: String,
    pub kind: GrantKind,
    pub object: String,
    pub level: String,
    pub custom_role_id: Option<i64>,
    pub rule: String,
    pub event_id: String,
    pub until: Option<i64>,
}

/// How a grant ended: by whom (rule, leaver event, expiry, ...) and why.
#[derive(Clone, Debug)]
pub struct GrantEnd {
    pub ended_by: String,
    pub reason: String,
}

/// One change of the record, applied with its audit row.
#[derive(Clone, Debug)]
pub enum GrantChange {
    Open(NewGrant),
    Close {
        iam_id: String,
        kind: GrantKind,
        object: String,
        end: GrantEnd,
    },
    Replace {
        end: GrantEnd,
        grant: NewGrant,
    },
}

/// A person as last seen in an IAM event.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentityRecord {
    pub iam_id: String,
    pub email: Option<String>,
    pub status: String,
    pub attributes: serde_json::Value,
    pub clickup_user_id: Option<i64>,
    pub event_time: i64,
    /// When the IAM last re-enabled or rehired the person (epoch ms of that event).
    pub enabled_at: Option<i64>,
}

impl Store {
    /// Stores a person's state, merged by the caller field by field in event-time order
    /// (`worker::people`); returns whether a row was written.
    pub async fn save_identity(&self, record: &IdentityRecord) -> Result<bool, StoreError> {
        let stored = sqlx::query(
            "INSERT INTO identities (iam_id, email, status, attributes, clickup_user_id, event_time, updated_at, enabled_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (iam_id) DO UPDATE SET email = excluded.email, status = excluded.status,
                 attributes = excluded.attributes,
                 event_time = CASE WHEN excluded.event_time > identities.event_time
                     THEN excluded.event_time ELSE identities.event_time END,
                 clickup_user_id = COALESCE(excluded.clickup_user_id, identities.clickup_user_id),
                 enabled_at = COALESCE(excluded.enabled_at, identities.enabled_at),
                 updated_at = excluded.updated_at",
        )
        .bind(&record.iam_id)
        .bind(&record.email)
        .bind(&record.status)
        .bind(record.attributes.to_string())
        .bind(record.clickup_user_id)
        .bind(record.event_time)
        .bind(Utc::now().timestamp_millis())
        .bind(record.enabled_at)
        .execute(self.pool())
        .await?;
        Ok(stored.rows_affected() == 1)
    }

    pub async fn identity(&self, iam_id: &str) -> Result<Option<IdentityRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT iam_id, email, status, attributes, clickup_user_id, event_time, enabled_at FROM identities WHERE iam_id = $1",
        )
        .bind(iam_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(identity_record))
    }

    /// People whose record changed at or after `since` (epoch ms; 0 for everyone), in one
    /// query, with the latest change time among them (for keeping a directory fresh).
    pub async fn identities_changed_since(
        &self,
        since: i64,
    ) -> Result<(Vec<IdentityRecord>, i64), StoreError> {
        let rows = sqlx::query(
            "SELECT iam_id, email, status, attributes, clickup_user_id, event_time, enabled_at, updated_at
             FROM identities WHERE updated_at >= $1 ORDER BY updated_at",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        let latest = rows
            .iter()
            .map(|row| row.get::<i64, _>(7))
            .max()
            .unwrap_or(since);
        Ok((rows.iter().map(identity_record).collect(), latest))
    }

    /// Every known person's id (for a rules reload).
    pub async fn identity_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT iam_id FROM identities ORDER BY iam_id")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Whether an action for this person failed permanently since `since` (epoch ms).
    pub async fn failed_since(&self, iam_id: &str, since: i64) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit WHERE subject = $1 AND action = 'plan.action_failed' AND at >= $2",
        )
        .bind(format!("user:{iam_id}"))
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        Ok(count > 0)
    }

    /// Identities linked to one ClickUp account.
    pub async fn identities_linked_to(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT iam_id FROM identities WHERE clickup_user_id = $1 ORDER BY iam_id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Sets the status on record, whatever the order of events (an account removal is a fact).
    pub async fn set_status(&self, iam_id: &str, status: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE identities SET status = $2, updated_at = $3 WHERE iam_id = $1")
            .bind(iam_id)
            .bind(status)
            .bind(Utc::now().timestamp_millis())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn set_clickup_user(
        &self,
        iam_id: &str,
        user_id: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE identities SET clickup_user_id = $2, updated_at = $3 WHERE iam_id = $1",
        )
        .bind(iam_id)
        .bind(user_id)
        .bind(Utc::now().timestamp_millis())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The open grants of a person.
    pub async fn open_grants(&self, iam_id: &str) -> Result<Vec<Grant>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, iam_id, kind, object, level, custom_role_id, rule, event_id, since, until
             FROM grants WHERE iam_id = $1 AND ended_at IS NULL ORDER BY kind, object",
        )
        .bind(iam_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(grant).collect())
    }

    /// People with an open grant whose end is due at `now` (epoch ms).
    pub async fn people_with_due_grants(&self, now: i64) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT iam_id FROM grants WHERE ended_at IS NULL AND until IS NOT NULL AND until <= $1",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    /// Open grants ending between now and `horizon` (epoch ms), for reminders.
    pub async fn grants_ending_before(&self, horizon: i64) -> Result<Vec<Grant>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, iam_id, kind, object, level, custom_role_id, rule, event_id, since, until
             FROM grants WHERE ended_at IS NULL AND until IS NOT NULL AND until <= $1 ORDER BY until",
        )
        .bind(horizon)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(grant).collect())
    }

    /// Whether the reminder for this person and end time was sent.
    pub async fn reminder_sent(&self, iam_id: &str, until: i64) -> Result<bool, StoreError> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM reminders WHERE iam_id = $1 AND until = $2")
                .bind(iam_id)
                .bind(until)
                .fetch_one(self.pool())
                .await?;
        Ok(count > 0)
    }

    /// Records a reminder once per person and end time; false when it was already sent.
    pub async fn record_reminder(&self, iam_id: &str, until: i64) -> Result<bool, StoreError> {
        let inserted = sqlx::query("INSERT INTO reminders (iam_id, until, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(iam_id)
            .bind(until)
            .bind(Utc::now().timestamp_millis())
            .execute(self.pool())
            .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// A named value kept between runs.
    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
            .bind(name)
            .bind(value)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Applies one change of the record together with its audit row.
    pub async fn change_grant(
        &self,
        change: &GrantChange,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut tx = self.pool().begin().await?;

        match change {
            GrantChange::Open(grant) => open(&mut tx, grant, now).await?,
            GrantChange::Close {
                iam_id,
                kind,
                object,
                end,
            } => close(&mut tx, iam_id, *kind, object, end, now).await?,
            GrantChange::Replace { end, grant } => {
                close(&mut tx, &grant.iam_id, grant.kind, &grant.object, end, now).await?;
                open(&mut tx, grant, now).await?;
            }
        }
        insert_audit(&mut tx, now, audit).await?;

        tx.commit().await?;
        Ok(())
    }
}

async fn open(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    grant: &NewGrant,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO grants (iam_id, kind, object, level, custom_role_id, rule, event_id, since, until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (iam_id, kind, object) WHERE ended_at IS NULL DO NOTHING",
    )
    .bind(&grant.iam_id)
    .bind(grant.kind.as_str())
    .bind(&grant.object)
    .bind(&grant.level)
    .bind(grant.custom_role_id)
    .bind(&grant.rule)
    .bind(&grant.event_id)
    .bind(now)
    .bind(grant.until)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn close(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    iam_id: &str,
    kind: GrantKind,
    object: &str,
    end: &GrantEnd,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE grants SET ended_at = $4, ended_by = $5, end_reason = $6
         WHERE iam_id = $1 AND kind = $2 AND object = $3 AND ended_at IS NULL",
    )
    .bind(iam_id)
    .bind(kind.as_str())
    .bind(object)
    .bind(now)
    .bind(&end.ended_by)
    .bind(&end.reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An identity row: iam_id, email, status, attributes, clickup_user_id, event_time,
/// enabled_at, in that order.
fn identity_record(row: &sqlx::any::AnyRow) -> IdentityRecord {
    IdentityRecord {
        iam_id: row.get(0),
        email: row.get(1),
        status: row.get(2),
        attributes: serde_json::from_str(row.get::<&str, _>(3)).unwrap_or_default(),
        clickup_user_id: row.get(4),
        event_time: row.get(5),
        enabled_at: row.get(6),
    }
}

fn grant(row: &sqlx::any::AnyRow) -> Grant {
    Grant {
        id: row.get(0),
        iam_id: row.get(1),
        kind: GrantKind::parse(row.get::<&str, _>(2)),
        object: row.get(3),
        level: row.get(4),
        custom_role_id: row.get(5),
        rule: row.get(6),
        event_id: row.get(7),
        since: row.get(8),
        until: row.get(9),
    }
}
