//! One process-wide cancellation token, cancelled by Ctrl-C or SIGTERM, and the bound on
//! how long the process may take to stop once it is (`SHUTDOWN_GRACE`).

use std::{future::Future, time::Duration};

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// A token that is cancelled when the process is asked to stop.
pub fn on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("shutdown requested");
        cancel.cancel();
    });
    token
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};

    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(stream) => stream,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs `work` to its end; once `shutdown` is cancelled it has `grace` to finish, after which
/// the process stops waiting (what is unacked then goes back to the broker's queues).
pub async fn within_grace(
    work: impl Future<Output = anyhow::Result<()>>,
    shutdown: &CancellationToken,
    grace: Duration,
) -> anyhow::Result<()> {
    let deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        outcome = work => outcome,
        _ = deadline => {
            warn!(grace_secs = grace.as_secs_f64(), "shutdown grace over; stopping with work unfinished (unacked messages are redelivered)");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_ends_on_its_own_or_at_the_grace_after_shutdown() {
        let shutdown = CancellationToken::new();
        let quick = within_grace(async { Ok(()) }, &shutdown, Duration::from_secs(5)).await;
        assert!(quick.is_ok());

        shutdown.cancel();
        let stuck = within_grace(
            std::future::pending::<anyhow::Result<()>>(),
            &shutdown,
            Duration::from_millis(50),
        );
        let bounded = tokio::time::timeout(Duration::from_secs(60), stuck).await;
        assert!(
            matches!(bounded, Ok(Ok(()))),
            "stopped waiting after the grace"
        );

        let failed = within_grace(
            async { Err(anyhow::anyhow!("broken")) },
            &shutdown,
            Duration::from_secs(5),
        )
        .await;
        assert!(failed.is_err(), "an error inside the grace is kept");
    }
}
