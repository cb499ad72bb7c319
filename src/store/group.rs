//! Group commit of the receivers' receipt writes: concurrent claims, releases and acceptances
//! share one transaction instead of racing for the database's write lock one by one.
//!
//! Each write joins a queue and then either finds it already written by the batch before it,
//! or takes the writer's turn and writes everything queued so far in one transaction. With
//! nothing to wait for, a write is a batch of one, as before. The batch runs in a task of its
//! own that holds the turn, so a request dropped mid-way (its sender hung up) cancels nothing
//! that other requests wait for. When a batch fails as a whole, each of its writes is tried
//! again alone, so one write's error is its own and never its neighbours'.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{oneshot, Mutex as Turn};

use super::{receipts, AuditEntry, Claim, StoreError};

/// One receipt write as a receiver asks for it.
#[derive(Debug)]
pub(super) enum Write {
    Claim { key: String, lease: Duration },
    Release { key: String },
    Accept { key: String, received: AuditEntry },
}

impl Write {
    fn key(&self) -> &str {
        match self {
            Write::Claim { key, .. } | Write::Release { key } | Write::Accept { key, .. } => key,
        }
    }
}

/// What a write answers.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Written {
    Claim(Claim),
    Done,
}

type Reply = oneshot::Sender<Result<Written, StoreError>>;

/// The queue of writes and the turn of whoever writes the next batch.
#[derive(Default)]
pub(super) struct Group {
    queue: Mutex<Vec<(Write, Reply)>>,
    turn: Arc<Turn<()>>,
    /// Batches and writes taken so far (tests read them).
    batches: AtomicU64,
    writes: AtomicU64,
}

impl Group {
    /// Writes `write`, alone or in a batch with the writes queued beside it.
    pub(super) async fn write(&self, pool: &AnyPool, write: Write) -> Result<Written, StoreError> {
        let (reply, mut written) = oneshot::channel();
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((write, reply));

        let turn = tokio::select! {
            // A batch that was taking its turn already carried this write.
            answer = &mut written => return answer.unwrap_or_else(|_| Err(interrupted())),
            turn = self.turn.clone().lock_owned() => turn,
        };

        // The batch before may have carried it while this request took the turn.
        if let Ok(answer) = written.try_recv() {
            return answer;
        }
        let batch = std::mem::take(
            &mut *self
                .queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let pool = pool.clone();
        tokio::spawn(async move {
            write_batch(&pool, batch).await;
            drop(turn);
        });
        written.await.unwrap_or_else(|_| Err(interrupted()))
    }
}

/// A batch task that ended without answering (its runtime stopped).
fn interrupted() -> StoreError {
    StoreError::Conflict("the receipt write was interrupted; retry".into())
}

/// Writes a batch in one transaction, or each write alone when the batch fails.
///
/// The writes go in the order of their keys (stable, so one key's writes keep their order):
/// two processes' batches on PostgreSQL then lock the same receipts in the same order, and
/// never wait for each other in a cycle that only the deadlock detector would break.
async fn write_batch(pool: &AnyPool, mut batch: Vec<(Write, Reply)>) {
    batch.sort_by(|(a, _), (b, _)| a.key().cmp(b.key()));

    if batch.len() > 1 {
        if let Ok(answers) = write_together(pool, &batch).await {
            for ((_, reply), answer) in batch.into_iter().zip(answers) {
                let _ = reply.send(Ok(answer));
            }
            return;
        }
    }

    for (write, reply) in batch {
        let answer = write_alone(pool, &write).await;
        let _ = reply.send(answer);
    }
}

async fn write_together(
    pool: &AnyPool,
    batch: &[(Write, Reply)],
) -> Result<Vec<Written>, StoreError> {
    let mut tx = pool.begin().await?;

    let mut answers = Vec::with_capacity(batch.len());
    for (write, _) in batch {
        answers.push(apply(&mut tx, write).await?);
    }

    tx.commit().await?;
    Ok(answers)
}

async fn write_alone(pool: &AnyPool, write: &Write) -> Result<Written, StoreError> {
    let mut tx = pool.begin().await?;
    let answer = apply(&mut tx, write).await?;
    tx.commit().await?;
    Ok(answer)
}

async fn apply(tx: &mut Transaction<'_, Any>, write: &Write) -> Result<Written, StoreError> {
    match write {
        Write::Claim { key, lease } => receipts::claim(tx, key, *lease).await.map(Written::Claim),
        Write::Release { key } => receipts::release(tx, key).await.map(|()| Written::Done),
        Write::Accept { key, received } => receipts::accept(tx, key, received)
            .await
            .map(|()| Written::Done),
    }
}

#[cfg(test)]
mod tests;
