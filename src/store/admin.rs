//! Reads for the admin API (requests and grants, keyset-paginated; the audit search is
//! `store::history`'s) and the
//! brake release an administrator asked for, waiting for the worker.
//!
//! Pages are keyset pages: `after` is the last row's key of the previous page, so a page
//! never repeats or skips a row written meanwhile.
//!
//! FIXME(#9): on PostgreSQL keys (identity columns, `rowid`) are taken at insert, not at
//! commit, so a row whose transaction commits after a later-numbered one was read can fall
//! behind a page already served (SQLite's one writer commits in key order); reading pages
//! only up to the oldest key still in flight (`pg_snapshot_xmin` against a per-row xid) or a
//! commit-ordered key would fix it. The audit search (`store::history`) pages the same way.

use serde::Serialize;
use sqlx::Row;

use super::{insert_audit, sql::Sql, AccessRequest, AuditEntry, Store, StoreError};

/// Name of the stored brake release request.
const BRAKE_RELEASE: &str = "brake_release_requested";

#[derive(Clone, Debug, Default)]
pub struct GrantQuery {
    pub iam_id: Option<String>,
    pub object: Option<String>,
    /// Only open (`Some(true)`) or only ended (`Some(false)`) grants.
    pub open: Option<bool>,
    pub after: Option<i64>,
    pub limit: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct GrantItem {
    pub id: i64,
    pub iam_id: String,
    pub kind: String,
    pub object: String,
    pub level: String,
    pub rule: String,
    pub since: i64,
    pub until: Option<i64>,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
}

/// A brake release waiting for the worker: who asked, when, under which correlation id.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, Serialize)]
pub struct ReleaseRequest {
    pub by: String,
    pub at: i64,
    pub correlation_id: String,
}

impl Store {
    /// Requests in creation order, each with its row key for the next page.
    pub async fn list_requests(
        &self,
        state: Option<&str>,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(i64, AccessRequest)>, StoreError> {
        let mut sql = Sql::new("SELECT rowid, task_id FROM access_requests WHERE 1 = 1");
        if let Some(state) = state {
            sql.push(" AND state = ").push_bind(state.to_owned());
        }
        if let Some(after) = after {
            sql.push(" AND rowid > ").push_bind(after);
        }
        sql.push(" ORDER BY rowid LIMIT ")
            .push_bind(i64::from(limit));
        let keys = sql.build()?.fetch_all(self.pool()).await?;

        let mut requests = Vec::with_capacity(keys.len());
        for row in keys {
            let task_id: String = row.get(1);
            if let Some(request) = self.request(&task_id).await? {
                requests.push((row.get(0), request));
            }
        }
        Ok(requests)
    }

    pub async fn list_grants(&self, query: &GrantQuery) -> Result<Vec<GrantItem>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, iam_id, kind, object, level, rule, since, until, ended_at, ended_by, \
             end_reason FROM grants WHERE 1 = 1",
        );
        if let Some(iam_id) = &query.iam_id {
            sql.push(" AND iam_id = ").push_bind(iam_id.clone());
        }
        if let Some(object) = &query.object {
            sql.push(" AND object = ").push_bind(object.clone());
        }
        match query.open {
            Some(true) => sql.push(" AND ended_at IS NULL"),
            Some(false) => sql.push(" AND ended_at IS NOT NULL"),
            None => &mut sql,
        };
        if let Some(after) = query.after {
            sql.push(" AND id > ").push_bind(after);
        }
        sql.push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(query.limit));
        Ok(sql.build_query_as()?.fetch_all(self.pool()).await?)
    }

    /// Records a release request with its audit row, unless one is already waiting; returns
    /// the waiting request and whether it is this one.
    pub async fn request_brake_release(
        &self,
        request: &ReleaseRequest,
        audit: &AuditEntry,
    ) -> Result<(ReleaseRequest, bool), StoreError> {
        let mut tx = self.pool().begin().await?;
        let value = serde_json::to_string(request).unwrap_or_default();
        let inserted = sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(BRAKE_RELEASE)
        .bind(&value)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            insert_audit(&mut tx, chrono::Utc::now().timestamp_millis(), audit).await?;
        }
        tx.commit().await?;

        match inserted {
            true => Ok((request.clone(), true)),
            false => Ok((
                self.pending_brake_release()
                    .await?
                    .unwrap_or(request.clone()),
                false,
            )),
        }
    }

    /// The release request waiting for the worker, if any.
    pub async fn pending_brake_release(&self) -> Result<Option<ReleaseRequest>, StoreError> {
        Ok(self
            .setting(BRAKE_RELEASE)
            .await?
            .and_then(|value| serde_json::from_str(&value).ok()))
    }

    /// Marks the request done: its audit row and the request's removal in one transaction.
    pub async fn finish_brake_release(&self, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM settings WHERE name = $1")
            .bind(BRAKE_RELEASE)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, chrono::Utc::now().timestamp_millis(), audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
