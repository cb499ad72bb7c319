//! What the suites that run the router as a child process share (the chaos suite, the
//! black-box tests, the ingest benchmark): waiting for a process to answer, killing and
//! reaping one that is dropped, and running a command to its end off the caller's thread.

use std::{
    process::{Child, Command, Output},
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

/// Runs `command` to its end on a blocking thread. A test's app runs its worker on the test's
/// own thread: a command awaited there would freeze the worker, mid-transaction perhaps, and
/// hold SQLite's write lock against the command itself.
#[allow(dead_code)] // The chaos suite and the bench include this file but run no commands.
pub async fn output_of(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread")
        .expect("the command ran")
}
