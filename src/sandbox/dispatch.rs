//! Asynchronous webhook delivery: the outbox that task changes queue deliveries in, the one
//! background task per sandbox that attempts them through `delivery::deliver`, and the log
//! of attempted deliveries that tests read. A test can have the next deliveries lost
//! ([`SandboxState::lose_next_deliveries`]), as ClickUp drops one for good after its retries.
//!
//! Invariants: deliveries are numbered from 1 in the order they are queued (always under
//! the workspace lock, so in the order the changes happened) and attempted one at a time in
//! that order; the progress counter is the number of the last attempted delivery, so every
//! delivery up to it has been attempted. Queueing never waits, so API handlers never wait
//! for a receiver.

use std::{collections::BTreeSet, ops::Range};

use serde_json::Value;
use tokio::{
    sync::{mpsc, oneshot, watch},
    task::JoinHandle,
};

use super::{delivery, state::SandboxState};

/// One attempted webhook delivery, as tests read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxDelivery {
    pub webhook_id: String,
    pub event: String,
    pub task_id: String,
    /// The `id`s of the payload's history items, in order; empty for `taskDeleted`.
    pub history_item_ids: Vec<String>,
    /// The receiver's HTTP status, or why no status came back (unreachable, timed out,
    /// not a loopback endpoint, webhook suspended or deleted in the meantime).
    pub outcome: Result<u16, String>,
}

/// A delivery waiting for the background task.
#[derive(Debug)]
pub(crate) struct Job {
    pub number: u64,
    pub webhook_id: String,
    pub event: &'static str,
    pub task_id: String,
    pub history_item_ids: Vec<String>,
    pub body: Value,
}

/// The worker's ends of the outbox, handed out once.
type WorkerEnds = (mpsc::UnboundedReceiver<Job>, watch::Sender<u64>);

/// The queue of deliveries and the log of attempted ones; lives in the workspace.
#[derive(Debug)]
pub(crate) struct Outbox {
    sender: mpsc::UnboundedSender<Job>,
    worker_ends: Option<WorkerEnds>,
    progress: watch::Receiver<u64>,
    queued: u64,
    log: Vec<(u64, SandboxDelivery)>,
    /// How many of the next queued deliveries are lost.
    lose_next: u64,
    /// The numbers of queued deliveries that are lost, until attempted.
    lost: BTreeSet<u64>,
}

impl Default for Outbox {
    fn default() -> Self {
        let (sender, jobs) = mpsc::unbounded_channel();
        let (attempted, progress) = watch::channel(0);

        Outbox {
            sender,
            worker_ends: Some((jobs, attempted)),
            progress,
            queued: 0,
            log: Vec::new(),
            lose_next: 0,
            lost: BTreeSet::new(),
        }
    }
}

impl Outbox {
    /// Queues a delivery; `job.number` is set here.
    pub fn queue(&mut self, mut job: Job) {
        self.queued += 1;
        job.number = self.queued;
        if self.lose_next > 0 {
            self.lose_next -= 1;
            self.lost.insert(job.number);
        }

        // Fails only once the worker has stopped, when nothing is delivered any more.
        if self.sender.send(job).is_err() {
            tracing::debug!("clickup sandbox dropped a delivery queued after it stopped");
        }
    }

    /// The number of the last queued delivery (0 before the first).
    pub fn queued(&self) -> u64 {
        self.queued
    }

    fn record(&mut self, number: u64, delivery: SandboxDelivery) {
        self.log.push((number, delivery));
    }

    /// Attempted deliveries, in the order they were attempted.
    pub fn deliveries(&self) -> Vec<SandboxDelivery> {
        self.log
            .iter()
            .map(|(_, delivery)| delivery.clone())
            .collect()
    }

    /// The statuses of the attempted deliveries numbered in `numbers`, in order; 0 stands
    /// for a delivery that got no HTTP answer.
    pub fn statuses(&self, numbers: Range<u64>) -> Vec<u16> {
        self.log
            .iter()
            .filter(|(number, _)| numbers.contains(number))
            .map(|(_, delivery)| delivery.outcome.as_ref().map_or(0, |status| *status))
            .collect()
    }
}

impl SandboxState {
    /// Loses the next `n` deliveries queued (`0` cancels): the receiver never gets them and
    /// each counts as a failed delivery of its webhook, as when ClickUp gives one up after
    /// its retries. Their log entries and statuses say so (status 0).
    pub fn lose_next_deliveries(&self, n: u64) {
        self.with(|ws| ws.outbox.lose_next = n);
    }
}

/// Waits until every delivery numbered up to `number` has been attempted, or until the
/// background task has stopped (then nothing more will be attempted).
pub(crate) async fn attempted(state: &SandboxState, number: u64) {
    let mut progress = state.with(|ws| ws.outbox.progress.clone());

    // An error means the worker is gone, and waiting longer would never end.
    let _ = progress.wait_for(|&attempted| attempted >= number).await;
}

/// The background task of one sandbox.
#[derive(Debug)]
pub(crate) struct Dispatcher {
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Dispatcher {
    /// Starts attempting the deliveries queued in `state`, on the current tokio runtime.
    /// A state's queue is worked by one dispatcher only: a second start works nothing.
    pub fn start(state: SandboxState, client: reqwest::Client) -> Dispatcher {
        let Some((jobs, attempted)) = state.with(|ws| ws.outbox.worker_ends.take()) else {
            tracing::warn!("the sandbox's deliveries are already being worked");
            return Dispatcher {
                shutdown: None,
                task: None,
            };
        };

        let (shutdown, stopped) = oneshot::channel();
        let task = tokio::spawn(work(state, client, jobs, attempted, stopped));
        Dispatcher {
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// Stops the task, abandoning a delivery in flight and any still queued.
    pub async fn stop(&mut self) {
        drop(self.shutdown.take());

        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::warn!(%error, "clickup sandbox delivery task failed");
            }
        }
    }
}

async fn work(
    state: SandboxState,
    client: reqwest::Client,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    attempted: watch::Sender<u64>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        let job = tokio::select! {
            biased;
            _ = &mut stopped => break,
            job = jobs.recv() => job,
        };
        let Some(job) = job else { break };

        let lost = state.with(|ws| ws.outbox.lost.remove(&job.number));
        let outcome = match lost {
            true => delivery::give_up(&state, &job.webhook_id),
            false => tokio::select! {
                biased;
                _ = &mut stopped => break,
                outcome = delivery::deliver(&state, &client, &job.webhook_id, &job.body) => outcome,
            },
        };
        let outcome = outcome.map_err(|error| format!("{error:#}"));
        tracing::debug!(
            webhook_id = %job.webhook_id,
            event = job.event,
            task_id = %job.task_id,
            status = outcome.as_ref().ok(),
            "clickup sandbox attempted a queued delivery"
        );

        let number = job.number;
        let delivery = SandboxDelivery {
            webhook_id: job.webhook_id,
            event: job.event.to_owned(),
            task_id: job.task_id,
            history_item_ids: job.history_item_ids,
            outcome,
        };
        state.with(|ws| ws.outbox.record(number, delivery));
        attempted.send_replace(number);
    }
}

#[cfg(test)]
mod tests;
