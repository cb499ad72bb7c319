//! What the suites that run the router as a child process share (the chaos suite, the
//! several-instances test, the ingest benchmark): waiting for a process to answer, and
//! killing and reaping one that is dropped.

use std::{
    process::Child,
    time::{Duration, Instant},
};

/// Polls `url` every 100 ms until it answers 2xx; false when `within` passed first.
pub async fn answers_within(url: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;

    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(url).await {
            if response.status().is_success() {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// SIGKILL and reap, ignoring a process that already ended (for `Drop`).
pub fn kill_quietly(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
