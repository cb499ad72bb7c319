//! Page sessions (`/ui`) on the server: a row per sign-in, keyed by the SHA-256 of the random
//! id in the session cookie, that every page checks. Ending the row ends the session for every
//! copy of the cookie.
//!
//! Invariants: a session is current only while its row exists, is not ended and has not
//! expired; rows hold the IAM id, never an email; expired rows are pruned at each sign-in.

use sha2::{Digest, Sha256};

use super::{Store, StoreError};

/// The stored key of a cookie's session id (the id itself is never stored).
fn key_of(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

impl Store {
    /// Records a new page session of `subject`, current until `expires_at` (ms), and deletes
    /// the rows of sessions that expired before `now` (ms).
    pub async fn start_ui_session(
        &self,
        session_id: &str,
        subject: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;

        sqlx::query("DELETE FROM ui_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;

        sqlx::query(
            "INSERT INTO ui_sessions (id, subject, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(key_of(session_id))
        .bind(subject)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the page session `session_id` of `subject` is current at `now` (ms).
    pub async fn ui_session_current(
        &self,
        session_id: &str,
        subject: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM ui_sessions
             WHERE id = $1 AND subject = $2 AND ended_at IS NULL AND expires_at > $3",
        )
        .bind(key_of(session_id))
        .bind(subject)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Ends the page session `session_id` at `now` (ms); true when it was current.
    pub async fn end_ui_session(&self, session_id: &str, now: i64) -> Result<bool, StoreError> {
        let ended = sqlx::query(
            "UPDATE ui_sessions SET ended_at = $2
             WHERE id = $1 AND ended_at IS NULL AND expires_at > $2",
        )
        .bind(key_of(session_id))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(ended.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::temp_store;

    const HOUR: i64 = 3_600_000;

    #[tokio::test]
    async fn a_session_is_current_until_it_ends_or_expires() {
        let (store, _dir) = temp_store().await;
        store
            .start_ui_session("s1", "iam-1", 0, HOUR)
            .await
            .unwrap();

        let cases = [
            ("s1", "iam-1", 0, true),
            ("s1", "iam-1", HOUR - 1, true),
            ("s1", "iam-1", HOUR, false),
            ("s1", "iam-2", 0, false),
            ("s2", "iam-1", 0, false),
        ];
        for (id, subject, at, expected) in cases {
            let found = store.ui_session_current(id, subject, at).await.unwrap();
            assert_eq!(found, expected, "{id} {subject} at {at}");
        }

        assert!(store.end_ui_session("s1", 10).await.unwrap());
        assert!(!store.ui_session_current("s1", "iam-1", 11).await.unwrap());
        assert!(!store.end_ui_session("s1", 12).await.unwrap(), "ended once");
    }

    #[tokio::test]
    async fn a_sign_in_prunes_expired_rows_and_the_id_is_not_stored() {
        let (store, _dir) = temp_store().await;
        store
            .start_ui_session("old", "iam-1", 0, HOUR)
            .await
            .unwrap();
        store
            .start_ui_session("ended", "iam-1", 0, 3 * HOUR)
            .await
            .unwrap();
        store.end_ui_session("ended", 1).await.unwrap();

        store
            .start_ui_session("new", "iam-2", 2 * HOUR, 10 * HOUR)
            .await
            .unwrap();

        let rows: Vec<(String, String, Option<i64>)> =
            sqlx::query_as("SELECT id, subject, ended_at FROM ui_sessions ORDER BY created_at")
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert_eq!(rows.len(), 2, "the expired row is gone: {rows:?}");
        assert_eq!((rows[0].1.as_str(), rows[0].2), ("iam-1", Some(1)));
        assert_eq!((rows[1].1.as_str(), rows[1].2), ("iam-2", None));
        assert!(rows.iter().all(|(id, ..)| id.len() == 64 && id != "new"));
    }
}
