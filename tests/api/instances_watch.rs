//! The lease gauge sampler of `instances`: every worker's `scheduler_lease_held`, ten times a
//! second, in the background: how often more than one worker held the lease, and who held it.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio_util::sync::CancellationToken;

use crate::instances_kit::{lease_held, Process};

/// Samples every worker's `scheduler_lease_held` gauge ten times a second: how often more
/// than one held it, and who held it, in order.
pub struct Watch {
    workers: Arc<Mutex<Vec<(String, String)>>>,
    overlaps: Arc<Mutex<usize>>,
    holders: Arc<Mutex<Vec<String>>>,
    stop: CancellationToken,
}

impl Watch {
    pub fn start(workers: &[Process]) -> Self {
        let watch = Self {
            workers: Arc::default(),
            overlaps: Arc::default(),
            holders: Arc::default(),
            stop: CancellationToken::new(),
        };
        watch.follow(workers);
        let (list, overlaps, holders) = (
            watch.workers.clone(),
            watch.overlaps.clone(),
            watch.holders.clone(),
        );
        let stop = watch.stop.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !stop.is_cancelled() {
                let workers = list.lock().unwrap().clone();
                let mut holding = Vec::new();
                for (name, addr) in workers {
                    if lease_held(&http, &addr).await == Some(true) {
                        holding.push(name);
                    }
                }
                if holding.len() > 1 {
                    *overlaps.lock().unwrap() += 1;
                }
                if let [one] = holding.as_slice() {
                    let mut seen = holders.lock().unwrap();
                    if seen.last() != Some(one) {
                        seen.push(one.clone());
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        watch
    }

    /// Watches these workers from now on.
    pub fn follow(&self, workers: &[Process]) {
        *self.workers.lock().unwrap() = workers
            .iter()
            .map(|w| (w.name.clone(), w.addr.clone()))
            .collect();
    }

    pub fn overlaps(&self) -> usize {
        *self.overlaps.lock().unwrap()
    }

    pub fn holders(&self) -> Vec<String> {
        self.holders.lock().unwrap().clone()
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }
}
