//! Person locks: a lease per person in the store, so the provision and deprovision lanes (and
//! several worker processes) never act on one person at the same time. A joiner and a leaver
//! of one person handled at once could otherwise each read the record before the other wrote
//! it: the leaver finds no account yet, the joiner then invites one, and a terminated person
//! keeps access. The lease is renewed while held and lapses when its holder dies.

use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;
use tracing::warn;

use super::{Store, StoreError};

/// How long a lease lasts without renewal: a dead holder blocks its person this long.
pub const LEASE: Duration = Duration::from_secs(10);
/// How often a live holder renews.
const RENEW_EVERY: Duration = Duration::from_secs(3);
/// How often a waiter asks again.
const POLL: Duration = Duration::from_millis(25);

/// A held person lock; dropping it releases the lease.
pub struct PersonLock {
    store: Store,
    iam_id: String,
    holder: String,
    renewal: JoinHandle<()>,
}

impl Store {
    /// Takes the lease on `iam_id` when it is free or lapsed, as `holder`; true when taken.
    pub async fn try_lock_person(
        &self,
        iam_id: &str,
        holder: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let taken = sqlx::query(
            "INSERT INTO person_locks (iam_id, holder, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (iam_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE person_locks.expires_at <= $4 OR person_locks.holder = excluded.holder",
        )
        .bind(iam_id)
        .bind(holder)
        .bind(now_ms + LEASE.as_millis() as i64)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Extends `holder`'s lease; false when it is no longer theirs.
    pub async fn renew_person_lock(
        &self,
        iam_id: &str,
        holder: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE person_locks SET expires_at = $3 WHERE iam_id = $1 AND holder = $2",
        )
        .bind(iam_id)
        .bind(holder)
        .bind(now_ms + LEASE.as_millis() as i64)
        .execute(self.pool())
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Gives `holder`'s lease up.
    pub async fn unlock_person(&self, iam_id: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM person_locks WHERE iam_id = $1 AND holder = $2")
            .bind(iam_id)
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Waits for the lease on `iam_id` (at most `wait`), then keeps it renewed until the
    /// returned lock is dropped. `Conflict` when another holder kept it all that time.
    pub async fn lock_person(
        &self,
        iam_id: &str,
        wait: Duration,
    ) -> Result<PersonLock, StoreError> {
        let holder = uuid::Uuid::new_v4().to_string();
        let deadline = tokio::time::Instant::now() + wait;
        while !self
            .try_lock_person(iam_id, &holder, Utc::now().timestamp_millis())
            .await?
        {
            if tokio::time::Instant::now() >= deadline {
                return Err(StoreError::Conflict(format!(
                    "person {iam_id} is being handled elsewhere"
                )));
            }
            tokio::time::sleep(POLL).await;
        }

        let renewal = tokio::spawn(renew(self.clone(), iam_id.to_string(), holder.clone()));
        Ok(PersonLock {
            store: self.clone(),
            iam_id: iam_id.to_string(),
            holder,
            renewal,
        })
    }
}

async fn renew(store: Store, iam_id: String, holder: String) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        match store
            .renew_person_lock(&iam_id, &holder, Utc::now().timestamp_millis())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                warn!(iam_id = %iam_id, "person lock lapsed while held");
                return;
            }
            Err(e) => warn!(iam_id = %iam_id, error = %e, "person lock not renewed"),
        }
    }
}

impl Drop for PersonLock {
    fn drop(&mut self) {
        self.renewal.abort();
        let (store, iam_id, holder) = (
            self.store.clone(),
            std::mem::take(&mut self.iam_id),
            std::mem::take(&mut self.holder),
        );
        // Without a runtime (shutting down) the lease simply lapses.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.unlock_person(&iam_id, &holder).await {
                    warn!(iam_id = %iam_id, error = %e, "person lock not released; it lapses");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StoreSettings;

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("locks.db").display());
        let settings = StoreSettings {
            database_url: url.parse().unwrap(),
        };
        (Store::open(&settings).await.unwrap(), dir)
    }

    /// Each row: who asks, at what time (ms), and whether they get the lease, after
    /// `a` took it at 0 (it lasts until LEASE).
    #[tokio::test]
    async fn a_lease_is_one_holders_until_it_lapses() {
        let lease = LEASE.as_millis() as i64;
        let cases = [
            ("b", 1, false),         // held by a
            ("a", 1, true),          // the holder again
            ("b", lease - 1, false), // not lapsed yet
            ("b", lease, true),      // lapsed: b takes over
        ];
        for (who, at, expected) in cases {
            let (store, _dir) = store().await;
            assert!(store.try_lock_person("p1", "a", 0).await.unwrap());
            assert!(store.try_lock_person("p2", "x", 0).await.unwrap());

            let taken = store.try_lock_person("p1", who, at).await.unwrap();

            assert_eq!(taken, expected, "{who} at {at}");
        }
    }

    #[tokio::test]
    async fn renewal_and_release_belong_to_the_holder() {
        let (store, _dir) = store().await;
        let lease = LEASE.as_millis() as i64;
        assert!(store.try_lock_person("p", "a", 0).await.unwrap());

        assert!(!store.renew_person_lock("p", "b", 10).await.unwrap());
        assert!(store.renew_person_lock("p", "a", 10).await.unwrap());
        assert!(!store.try_lock_person("p", "b", lease).await.unwrap());
        store.unlock_person("p", "b").await.unwrap();
        assert!(!store.try_lock_person("p", "b", 20).await.unwrap());
        store.unlock_person("p", "a").await.unwrap();
        assert!(store.try_lock_person("p", "b", 20).await.unwrap());
    }

    #[tokio::test]
    async fn a_waiter_gets_the_lock_when_it_is_dropped_and_not_before() {
        let (store, _dir) = store().await;
        let held = store.lock_person("p", LEASE).await.unwrap();

        let refused = store.lock_person("p", Duration::from_millis(100)).await;
        assert!(matches!(refused, Err(StoreError::Conflict(_))));

        let waiter = tokio::spawn({
            let store = store.clone();
            async move { store.lock_person("p", Duration::from_secs(5)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiter.is_finished());
        drop(held);
        assert!(waiter.await.unwrap().is_ok());
    }
}
