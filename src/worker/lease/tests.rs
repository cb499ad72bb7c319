//! The lease: how a worker reads it and its renewals (tables), and workers sharing one store.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use super::*;
use crate::store::temp_store;

fn row(holder: &str, expires_at_ms: i64) -> LeaseRow {
    LeaseRow {
        holder: holder.into(),
        expires_at_ms,
    }
}

#[test]
fn a_lease_is_free_when_nobody_holds_it_or_its_time_ended() {
    let table = [
        (None, 100, Found::Free),
        (Some(row("me", 50)), 100, Found::Ours),
        (Some(row("me", 500)), 100, Found::Ours),
        (Some(row("other", 500)), 100, Found::Held),
        (Some(row("other", 101)), 100, Found::Held),
        (Some(row("other", 100)), 100, Found::Free),
        (Some(row("other", 20)), 100, Found::Free),
    ];
    for (current, now_ms, expected) in table {
        assert_eq!(
            found(current.as_ref(), "me", now_ms),
            expected,
            "{current:?} at {now_ms}"
        );
    }
}

#[test]
fn only_a_renewal_that_held_keeps_the_duties_running() {
    let store_error = StoreError::Conflict("gone".into());
    let table = [
        (Renewal::Renewed, None),
        (Renewal::Refused, Some("another worker holds the lease")),
        (
            Renewal::Failed(store_error),
            Some("the store did not renew the lease"),
        ),
        (
            Renewal::Late,
            Some("the renewal took longer than a third of the lease"),
        ),
    ];
    for (renewal, expected) in table {
        assert_eq!(lost_because(&renewal), expected, "{renewal:?}");
    }
}

/// Duties that count how many workers run them at once, and the most ever seen.
#[derive(Default)]
struct Running {
    now: AtomicUsize,
    most: AtomicUsize,
    runs: AtomicUsize,
}

impl Running {
    /// Runs until `shutdown`, counted as one runner meanwhile (also when dropped).
    async fn duties(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        struct Count(Arc<Running>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.now.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        self.runs.fetch_add(1, Ordering::SeqCst);
        let _count = Count(self.clone());
        shutdown.cancelled().await;
        Ok(())
    }
}

const LENGTH: Duration = Duration::from_millis(300);

/// A worker running counted duties under its own lease on `store`.
struct Worker {
    holder: String,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

fn worker(store: &Store, running: &Arc<Running>) -> Worker {
    let lease = Lease::new(store.clone(), SCHEDULER, LENGTH, Metrics::new());
    let holder = lease.holder().to_owned();
    let shutdown = CancellationToken::new();
    let (running, token) = (running.clone(), shutdown.clone());
    let task = tokio::spawn(run_until_stopped(
        lease,
        move || running.clone().duties(token.clone()),
        shutdown.clone(),
    ));
    Worker {
        holder,
        shutdown,
        task,
    }
}

impl Worker {
    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

async fn lease_row(store: &Store) -> Option<LeaseRow> {
    store.lease(SCHEDULER).await.unwrap()
}

/// Waits up to `within` for `holder` to hold the lease.
async fn wait_for_holder(store: &Store, holder: &str, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while lease_row(store).await.map(|row| row.holder).as_deref() != Some(holder) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{holder} never took the lease"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_second_worker_waits_and_takes_over_when_the_holder_stops() {
    let (store, _dir) = temp_store().await;
    let running = Arc::new(Running::default());
    let first = worker(&store, &running);
    wait_for_holder(&store, &first.holder, LENGTH).await;
    let second = worker(&store, &running);

    tokio::time::sleep(LENGTH * 3).await;
    assert_eq!(running.now.load(Ordering::SeqCst), 1);
    assert_eq!(
        running.runs.load(Ordering::SeqCst),
        1,
        "the second one waits"
    );

    first.stop().await;
    // Released at its stop: taken at the second worker's next attempt, a third of the lease.
    wait_for_holder(&store, &second.holder, LENGTH / 2).await;

    tokio::time::sleep(LENGTH / 10).await;
    assert_eq!(running.runs.load(Ordering::SeqCst), 2);
    assert_eq!(running.most.load(Ordering::SeqCst), 1, "never two at once");
    second.stop().await;
    assert_eq!(lease_row(&store).await, None, "released at shutdown");
    assert_eq!(running.now.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_killed_holders_lease_is_taken_over_only_once_it_ended() {
    let (store, _dir) = temp_store().await;
    let running = Arc::new(Running::default());
    let first = worker(&store, &running);
    wait_for_holder(&store, &first.holder, LENGTH).await;
    let second = worker(&store, &running);
    tokio::time::sleep(LENGTH).await;

    // Killed: no release, no further renewal.
    first.task.abort();
    let _ = first.task.await;
    let ends_at = lease_row(&store).await.unwrap().expires_at_ms;
    wait_for_holder(&store, &second.holder, LENGTH * 2).await;

    let taken_at: i64 =
        sqlx::query_scalar("SELECT MAX(at) FROM audit WHERE action = 'scheduler.lease_taken'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(
        taken_at >= ends_at,
        "taken at {taken_at}, before the end {ends_at}"
    );
    assert_eq!(running.runs.load(Ordering::SeqCst), 2);
    second.stop().await;
}

#[tokio::test]
async fn a_holder_whose_renewal_is_refused_drops_its_duties_before_the_lease_ends() {
    let (store, _dir) = temp_store().await;
    let running = Arc::new(Running::default());
    let first = worker(&store, &running);
    wait_for_holder(&store, &first.holder, LENGTH).await;
    assert_eq!(running.now.load(Ordering::SeqCst), 1);

    // Another holder got it (as after a pause longer than the lease).
    sqlx::query("UPDATE scheduler_leases SET holder = 'elsewhere', expires_at_ms = $1")
        .bind(Utc::now().timestamp_millis() + 60_000)
        .execute(store.pool())
        .await
        .unwrap();
    // The next renewal comes within a third of the lease and is refused.
    tokio::time::sleep(LENGTH / 3 + LENGTH / 5).await;

    assert_eq!(running.now.load(Ordering::SeqCst), 0, "duties dropped");
    assert_eq!(
        lease_row(&store).await.unwrap().holder,
        "elsewhere",
        "the worker waits for the other holder's lease to end"
    );
    first.stop().await;
    assert_eq!(running.runs.load(Ordering::SeqCst), 1);
}
