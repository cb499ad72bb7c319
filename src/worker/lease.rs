//! The scheduler's lease: the periodic duties run on one worker process at a time.
//!
//! A worker takes the lease (`store::leases`) when nobody holds it or its holder's time has
//! ended, renews it every third of its length and runs the duties while it holds it. A renewal
//! that fails, is refused (another holder has it) or takes longer than a third of the lease
//! stops the duties at once, dropping the pass in progress as a crash would, so they stop a
//! third of the lease before another worker could take it. A stopping worker lets the duties
//! finish their pass and releases the lease; a killed worker's lease ends and another worker
//! takes it over. Holder ids are per process, so a restarted worker is a new holder.

use std::{future::Future, time::Duration};

use chrono::Utc;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    metrics::Metrics,
    store::{AuditEntry, LeaseRow, Store, StoreError, TakeLease},
    worker::deprovision::ROUTER_ACTOR,
};

/// The lease of the worker's periodic duties.
pub const SCHEDULER: &str = "scheduler";

/// What a worker finds when it looks at the lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Nobody holds it, or its holder's time has ended: take it.
    Free,
    /// This worker holds it (a renewal after a failed one): renew it.
    Ours,
    /// Another worker holds it and its time has not ended.
    Held,
}

/// How a renewal went.
#[derive(Debug)]
pub enum Renewal {
    Renewed,
    /// Another worker holds the lease, or nobody does: it was taken or released meanwhile.
    Refused,
    Failed(StoreError),
    /// Not answered within a third of the lease.
    Late,
}

/// Reads the lease as stored for `holder` at `now_ms`.
pub fn found(current: Option<&LeaseRow>, holder: &str, now_ms: i64) -> Found {
    match current {
        None => Found::Free,
        Some(row) if row.holder == holder => Found::Ours,
        Some(row) if row.expires_at_ms <= now_ms => Found::Free,
        Some(_) => Found::Held,
    }
}

/// Why a renewal stops the duties, or `None` when the worker still holds the lease.
pub fn lost_because(renewal: &Renewal) -> Option<&'static str> {
    match renewal {
        Renewal::Renewed => None,
        Renewal::Refused => Some("another worker holds the lease"),
        Renewal::Failed(_) => Some("the store did not renew the lease"),
        Renewal::Late => Some("the renewal took longer than a third of the lease"),
    }
}

/// One worker's side of a lease.
pub struct Lease {
    store: Store,
    name: &'static str,
    holder: String,
    length: Duration,
    metrics: Metrics,
}

impl Lease {
    /// The lease `name` for this process, held `length` at a time.
    pub fn new(store: Store, name: &'static str, length: Duration, metrics: Metrics) -> Self {
        Self {
            store,
            name,
            holder: holder_id(),
            length,
            metrics,
        }
    }

    /// This process's holder id (`<host>:<pid>:<random>`).
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// How often the holder renews, and how long a renewal may take.
    fn every(&self) -> Duration {
        self.length / 3
    }

    /// Takes the lease if it is free, or renews it if it is already this worker's.
    pub async fn try_take(&self) -> Result<bool, StoreError> {
        let now_ms = Utc::now().timestamp_millis();
        let until_ms = now_ms + self.length.as_millis() as i64;
        let current = self.store.lease(self.name).await?;

        match found(current.as_ref(), &self.holder, now_ms) {
            Found::Held => Ok(false),
            Found::Ours => {
                self.store
                    .renew_lease(self.name, &self.holder, until_ms)
                    .await
            }
            Found::Free => {
                let audit = self.audit(
                    "scheduler.lease_taken",
                    "taken",
                    json!({
                        "holder": self.holder,
                        "until": until_ms,
                        "previous": current.as_ref().map(|row| json!({
                            "holder": row.holder,
                            "expired_at": row.expires_at_ms,
                        })),
                    }),
                );
                let take = TakeLease {
                    name: self.name,
                    holder: &self.holder,
                    now_ms,
                    until_ms,
                    seen: current.as_ref(),
                };
                self.store.take_lease(&take, &audit).await
            }
        }
    }

    /// Renews the lease once, within a third of its length.
    pub async fn renew(&self) -> Renewal {
        let until_ms = Utc::now().timestamp_millis() + self.length.as_millis() as i64;
        let renewal = self.store.renew_lease(self.name, &self.holder, until_ms);
        match tokio::time::timeout(self.every(), renewal).await {
            Ok(Ok(true)) => Renewal::Renewed,
            Ok(Ok(false)) => Renewal::Refused,
            Ok(Err(e)) => Renewal::Failed(e),
            Err(_) => Renewal::Late,
        }
    }

    /// Renews every third of the lease; returns why once a renewal does not hold it.
    async fn keep(&self) -> &'static str {
        loop {
            tokio::time::sleep(self.every()).await;
            let renewal = self.renew().await;
            if let Renewal::Failed(e) = &renewal {
                warn!(error = %e, lease = self.name, "lease renewal failed");
            }
            if let Some(reason) = lost_because(&renewal) {
                return reason;
            }
        }
    }

    /// Gives the lease up at shutdown, so another worker takes it without waiting.
    async fn release(&self) {
        let at_ms = Utc::now().timestamp_millis();
        let audit = self.audit(
            "scheduler.lease_released",
            "released",
            json!({ "holder": self.holder }),
        );
        match self
            .store
            .release_lease(self.name, &self.holder, at_ms, &audit)
            .await
        {
            Ok(true) => info!(lease = self.name, holder = %self.holder, "lease released"),
            Ok(false) => {}
            Err(e) => {
                warn!(error = %e, lease = self.name, "lease not released; it ends on its own")
            }
        }
    }

    fn audit(&self, action: &str, outcome: &str, detail: serde_json::Value) -> AuditEntry {
        AuditEntry {
            actor: ROUTER_ACTOR.into(),
            action: action.into(),
            subject: None,
            object: Some(format!("lease:{}", self.name)),
            outcome: outcome.into(),
            correlation_id: format!("lease:{}", self.name),
            event_id: format!("lease:{}:{}", self.name, self.holder),
            detail,
        }
    }
}

/// Runs `duties` whenever this worker holds the lease, until the token is cancelled: waits
/// for the lease (an attempt every third of it), runs the duties while renewals hold it, drops
/// them when one does not and waits again. At shutdown the duties finish their pass (they watch
/// the same token) and the lease is released.
pub async fn run_until_stopped<F, D>(
    lease: Lease,
    duties: F,
    shutdown: CancellationToken,
) -> anyhow::Result<()>
where
    F: Fn() -> D,
    D: Future<Output = anyhow::Result<()>>,
{
    lease.metrics.scheduler_lease_held(false);
    loop {
        if !wait_to_take(&lease, &shutdown).await {
            return Ok(());
        }
        lease.metrics.scheduler_lease_held(true);
        info!(lease = lease.name, holder = %lease.holder, "lease taken: running the periodic duties");

        let done = tokio::select! {
            done = duties() => Some(done),
            reason = lease.keep() => {
                warn!(lease = lease.name, reason, "lease lost: periodic duties stopped");
                None
            }
        };
        lease.metrics.scheduler_lease_held(false);

        if let Some(done) = done {
            lease.release().await;
            return done;
        }
    }
}

/// Tries to take the lease every third of it; `false` when the token is cancelled first.
async fn wait_to_take(lease: &Lease, shutdown: &CancellationToken) -> bool {
    loop {
        if shutdown.is_cancelled() {
            return false;
        }
        match lease.try_take().await {
            Ok(true) => return true,
            Ok(false) => {}
            Err(e) => warn!(error = %e, lease = lease.name, "lease not taken; tried again"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return false,
            _ = tokio::time::sleep(lease.every()) => {}
        }
    }
}

/// A holder id unique to this process: the host (`HOSTNAME`, a container's name), the process
/// id and a random part, so a restarted worker or a second one on the host is another holder.
fn holder_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &random[..8])
}

#[cfg(test)]
mod tests;
