//! Requests waiting for someone: the pages' list of pending access requests.

use super::{request, AccessRequest, COLUMNS};
use crate::store::{Store, StoreError};

impl Store {
    /// Requests still to be decided (`pending`) or completed by the requester
    /// (`incomplete`), the longest waiting first.
    pub async fn open_requests(&self) -> Result<Vec<AccessRequest>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM access_requests WHERE state IN ('pending', 'incomplete')
             ORDER BY step_started_at, task_id"
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        Ok(rows.iter().map(request).collect())
    }
}
