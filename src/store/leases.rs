//! Leases (`scheduler_leases`): which worker process runs the periodic duties. A lease is
//! taken when nobody holds it or its holder's time has ended, renewed by its holder only, and
//! released by it at shutdown; a change of holder is written with its audit row in one
//! transaction. Portable SQL (`$n` placeholders, `ON CONFLICT`, integer milliseconds): the
//! statements run unchanged on PostgreSQL.

use sqlx::Row;

use super::{insert_audit, AuditEntry, Store, StoreError};

/// A lease as stored: who holds it and until when (ms since the epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRow {
    pub holder: String,
    pub expires_at_ms: i64,
}

/// One attempt to take a lease: `seen` is the row read just before (none: no row), which the
/// attempt replaces only if it is still there unchanged and ended before `now_ms`.
#[derive(Clone, Debug)]
pub struct TakeLease<'a> {
    pub name: &'a str,
    pub holder: &'a str,
    pub now_ms: i64,
    pub until_ms: i64,
    pub seen: Option<&'a LeaseRow>,
}

impl Store {
    /// The lease of that name, if anyone took it and did not release it.
    pub async fn lease(&self, name: &str) -> Result<Option<LeaseRow>, StoreError> {
        let row = sqlx::query("SELECT holder, expires_at_ms FROM scheduler_leases WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| LeaseRow {
            holder: row.get(0),
            expires_at_ms: row.get(1),
        }))
    }

    /// Takes a lease nobody holds (no row) or whose holder's time ended, writing `audit` with
    /// it; a compare and set on the row `seen`, so of two workers racing for an ended lease one
    /// takes it. Returns whether this holder took it. A lease held and not ended is never taken.
    pub async fn take_lease(
        &self,
        take: &TakeLease<'_>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;

        // The first statement writes, so SQLite's write lock is taken at once (no upgrade).
        let taken = match take.seen {
            None => sqlx::query(
                "INSERT INTO scheduler_leases (name, holder, expires_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(take.name)
            .bind(take.holder)
            .bind(take.until_ms),
            Some(seen) => sqlx::query(
                "UPDATE scheduler_leases SET holder = $2, expires_at_ms = $3
                 WHERE name = $1 AND holder = $4 AND expires_at_ms = $5 AND expires_at_ms <= $6",
            )
            .bind(take.name)
            .bind(take.holder)
            .bind(take.until_ms)
            .bind(&seen.holder)
            .bind(seen.expires_at_ms)
            .bind(take.now_ms),
        }
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !taken {
            return Ok(false);
        }
        insert_audit(&mut tx, take.now_ms, audit).await?;

        tx.commit().await?;
        Ok(true)
    }

    /// Extends a lease this holder still holds to `until_ms`; `false` when another holder has
    /// it (or nobody: it was released). A holder may renew its own ended lease nobody took.
    pub async fn renew_lease(
        &self,
        name: &str,
        holder: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE scheduler_leases SET expires_at_ms = $3 WHERE name = $1 AND holder = $2",
        )
        .bind(name)
        .bind(holder)
        .bind(until_ms)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(renewed)
    }

    /// Gives a lease up, if this holder still holds it, with its audit row; another worker
    /// takes it at its next attempt instead of waiting for it to end.
    pub async fn release_lease(
        &self,
        name: &str,
        holder: &str,
        at_ms: i64,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;

        let released = sqlx::query("DELETE FROM scheduler_leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !released {
            return Ok(false);
        }
        insert_audit(&mut tx, at_ms, audit).await?;

        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
