//! Rule workers: consume the lanes and act on ClickUp.
//!
//! Invariant: a delivery is acked only after its work is done and its outcome and audit rows
//! are committed; a message already recorded is acked without acting again.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::{
    bus::{Consumer, Lane},
    clickup::ClickUpClient,
    store::Store,
};

pub mod deprovision;

pub use deprovision::Deprovisioner;

/// Runs every lane that has a handler until the token is cancelled.
///
/// Lanes without a handler yet (provision, approvals, ClickUp task events) keep their messages
/// queued durably for the handlers that later issues add.
pub async fn run_until_stopped(
    consumer: Arc<dyn Consumer>,
    store: Store,
    clickup: ClickUpClient,
    team_id: u64,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let deprovisioner = Arc::new(Deprovisioner::new(clickup, store, team_id));

    consumer
        .consume_until_stopped(Lane::Deprovision, deprovisioner, shutdown)
        .await
}
