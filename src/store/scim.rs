//! SCIM resources (#8): Users and Groups as canonical JSON rows, a Group's members in their
//! own rows so that a User's read-only `groups` is computed when read. Reads use the pool;
//! writes go through a [`ScimWrite`]: one transaction at a time (`BEGIN IMMEDIATE` on SQLite,
//! an advisory lock on PostgreSQL) that also takes the receipts of the write's events,
//! committed with them or not at all.

mod read;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Any, Transaction};

use super::{receipts::Receipts, Backend, Store, StoreError};
use crate::scim::{events::chosen_email, resource::Meta, schema::ResourceType};
use read::{load, resource_type};

/// One stored resource.
#[derive(Clone, Debug, PartialEq)]
pub struct ScimRecord {
    pub resource_type: ResourceType,
    pub id: String,
    /// The canonical resource: its stored attributes, `id`, a User's `groups` as
    /// `{value, display}`, a Group's `members` as given.
    pub resource: Value,
    pub meta: Meta,
}

impl Store {
    /// The resource `id` of `resource_type`, if there is one.
    pub async fn scim_resource(
        &self,
        resource_type: ResourceType,
        id: &str,
    ) -> Result<Option<ScimRecord>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        load(&mut connection, resource_type, Some(id))
            .await
            .map(|mut records| records.pop())
    }

    /// Every resource of `resource_type`, oldest first (created, then id). Filters are
    /// evaluated over these in Rust: fine for the directory sizes the router serves.
    pub async fn scim_resources(
        &self,
        resource_type: ResourceType,
    ) -> Result<Vec<ScimRecord>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        load(&mut connection, resource_type, None).await
    }

    /// Starts a write; nothing is visible to others until [`ScimWrite::commit`]. SCIM writes
    /// take turns across processes: on SQLite the transaction takes the write lock at once
    /// (`BEGIN IMMEDIATE`); on PostgreSQL it takes the SCIM writes' advisory lock, released
    /// by the commit or rollback.
    pub async fn scim_write(&self) -> Result<ScimWrite, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(SCIM_WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        };
        Ok(ScimWrite { tx })
    }
}

/// The PostgreSQL advisory lock key of SCIM writes (any fixed number the store uses once).
const SCIM_WRITE_LOCK: i64 = 0x5c1a_0008;

/// An open SCIM write (the SCIM writes' lock is held until commit or drop).
pub struct ScimWrite {
    tx: Transaction<'static, Any>,
}

impl ScimWrite {
    pub async fn resource(
        &mut self,
        resource_type: ResourceType,
        id: &str,
    ) -> Result<Option<ScimRecord>, StoreError> {
        load(&mut self.tx, resource_type, Some(id))
            .await
            .map(|mut records| records.pop())
    }

    /// The id of the User whose userName is `user_name` whatever its case.
    pub async fn user_name_holder(
        &mut self,
        user_name: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM scim_resources WHERE user_name = $1")
                .bind(user_name.to_lowercase())
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    /// The id of the User whose chosen e-mail address (see [`chosen_email`]) is `email`
    /// whatever its case.
    pub async fn email_holder(&mut self, email: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM scim_resources WHERE email = $1 ORDER BY created, id LIMIT 1",
        )
        .bind(email.to_lowercase())
        .fetch_optional(&mut *self.tx)
        .await?)
    }

    /// The type of each of `ids` that names a resource.
    pub async fn resource_types(
        &mut self,
        ids: &[&str],
    ) -> Result<HashMap<String, ResourceType>, StoreError> {
        let mut found = HashMap::new();
        for id in ids {
            let kind: Option<String> =
                sqlx::query_scalar("SELECT resource_type FROM scim_resources WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
            if let Some(kind) = kind {
                found.insert((*id).to_owned(), resource_type(&kind));
            }
        }
        Ok(found)
    }

    /// Stores a new resource (the canonical form; `id`, `groups`, `meta` are not kept).
    pub async fn insert(
        &mut self,
        resource_type: ResourceType,
        id: &str,
        resource: &Value,
        at: DateTime<Utc>,
    ) -> Result<Meta, StoreError> {
        let row = Columns::of(resource_type, resource);
        let at_ms = at.timestamp_millis();

        sqlx::query(
            "INSERT INTO scim_resources (id, resource_type, body, user_name, display_name,
             external_id, email, version, created, last_modified)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
        )
        .bind(id)
        .bind(resource_type.name())
        .bind(&row.body)
        .bind(&row.user_name)
        .bind(&row.display_name)
        .bind(&row.external_id)
        .bind(&row.email)
        .bind(at_ms)
        .execute(&mut *self.tx)
        .await?;
        self.set_members(id, &row.members).await?;

        Ok(Meta {
            created: at,
            last_modified: at,
            version: 1,
        })
    }

    /// Replaces `old` by `resource`; refused when it changed since it was read.
    pub async fn update(
        &mut self,
        old: &ScimRecord,
        resource: &Value,
        at: DateTime<Utc>,
    ) -> Result<Meta, StoreError> {
        let row = Columns::of(old.resource_type, resource);

        let updated = sqlx::query(
            "UPDATE scim_resources SET body = $3, user_name = $4, display_name = $5,
             external_id = $6, email = $7, version = version + 1, last_modified = $8
             WHERE id = $1 AND version = $2",
        )
        .bind(&old.id)
        .bind(old.meta.version)
        .bind(&row.body)
        .bind(&row.user_name)
        .bind(&row.display_name)
        .bind(&row.external_id)
        .bind(&row.email)
        .bind(at.timestamp_millis())
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Err(StoreError::Conflict(format!(
                "SCIM resource {} changed meanwhile",
                old.id
            )));
        }
        if old.resource_type == ResourceType::Group {
            self.set_members(&old.id, &row.members).await?;
        }

        Ok(Meta {
            created: old.meta.created,
            last_modified: at,
            version: old.meta.version + 1,
        })
    }

    /// Deletes `old`, taking it out of every Group it was a member of (those Groups get a new
    /// version).
    pub async fn delete(&mut self, old: &ScimRecord, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE scim_resources SET version = version + 1, last_modified = $2
             WHERE id IN (SELECT group_id FROM scim_group_members WHERE member_id = $1)",
        )
        .bind(&old.id)
        .bind(at.timestamp_millis())
        .execute(&mut *self.tx)
        .await?;
        for statement in [
            "DELETE FROM scim_group_members WHERE member_id = $1 OR group_id = $1",
            "DELETE FROM scim_resources WHERE id = $1",
        ] {
            sqlx::query(statement)
                .bind(&old.id)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn set_members(
        &mut self,
        group_id: &str,
        members: &[(String, String)],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1")
            .bind(group_id)
            .execute(&mut *self.tx)
            .await?;
        for (position, (member_id, member)) in members.iter().enumerate() {
            sqlx::query(
                "INSERT INTO scim_group_members (group_id, position, member_id, member)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(group_id)
            .bind(position as i64)
            .bind(member_id)
            .bind(member)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    /// Where the write's events claim and accept their receipts: this transaction.
    pub fn receipts(&mut self) -> &mut (dyn Receipts + 'static) {
        &mut self.tx
    }

    /// Makes the write and its receipts visible, all at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }
}

/// What a resource's row holds.
struct Columns {
    body: String,
    user_name: Option<String>,
    display_name: Option<String>,
    external_id: Option<String>,
    /// A User's chosen e-mail address, lowercased.
    email: Option<String>,
    /// A Group's members: id and the value's JSON, in order.
    members: Vec<(String, String)>,
}

impl Columns {
    fn of(resource_type: ResourceType, resource: &Value) -> Self {
        let text = |name: &str| {
            resource
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let members = resource
            .get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|member| {
                let id = member.get("value")?.as_str()?;
                Some((id.to_owned(), member.to_string()))
            })
            .collect();

        let mut body = resource.clone();
        if let Some(body) = body.as_object_mut() {
            for owned in ["id", "meta", "groups", "members"] {
                body.remove(owned);
            }
        }
        Self {
            body: body.to_string(),
            user_name: match resource_type {
                ResourceType::User => Some(text("userName").unwrap_or_default().to_lowercase()),
                ResourceType::Group => None,
            },
            display_name: text("displayName"),
            external_id: text("externalId"),
            email: match resource_type {
                ResourceType::User => chosen_email(resource).map(|email| email.to_lowercase()),
                ResourceType::Group => None,
            },
            members,
        }
    }
}
