//! The worker's periodic duties, run by the one worker that holds the scheduler's lease
//! (`worker::lease`): the scheduler (rules reload, expiries, reminders, brake releases asked
//! for through the API), access-request timeouts, leavers' tasks, ClickUp's audit log and
//! reconciliation. The lanes run on every worker; these run on one at a time.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use super::{
    approvals, assign, audit_log::AuditLogPoller, scheduler, Approvals, Assigner, Provisioner,
};

/// Everything the periodic duties work with; run again each time the lease is taken.
pub struct Duties {
    pub provisioner: Arc<Provisioner>,
    /// How often the scheduler, request timeouts and leavers' tasks run.
    pub tick: Duration,
    /// The fingerprint of the rules this worker loaded, applied to everyone when it changed.
    pub rules_fingerprint: String,
    pub approvals: Option<Arc<Approvals>>,
    pub assigner: Option<Arc<Assigner>>,
    /// The audit-log poller and how often it reads, when it is on.
    pub audit_log: Option<(Arc<AuditLogPoller>, Duration)>,
    /// The reconciliation context and how often it runs, when it is on.
    pub reconcile: Option<(crate::reconcile::Context, Duration)>,
}

impl Duties {
    /// Runs every duty until the token is cancelled (each finishes its pass first).
    pub async fn run_until_stopped(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let schedule = scheduler::run_until_stopped(
            self.provisioner.clone(),
            &self.rules_fingerprint,
            self.tick,
            shutdown.clone(),
        );
        let requests = async {
            match &self.approvals {
                Some(approvals) => {
                    approvals::timeouts::run_until_stopped(
                        approvals.clone(),
                        self.tick,
                        shutdown.clone(),
                    )
                    .await
                }
                None => Ok(()),
            }
        };
        let leavers = async {
            match &self.assigner {
                Some(assigner) => {
                    assign::run_until_stopped(assigner.clone(), self.tick, shutdown.clone()).await
                }
                None => Ok(()),
            }
        };
        let audit_log = async {
            match &self.audit_log {
                Some((poller, every)) => {
                    super::audit_log::run_until_stopped(poller.clone(), *every, shutdown.clone())
                        .await
                }
                None => Ok(()),
            }
        };
        let reconcile = async {
            match &self.reconcile {
                Some((context, every)) => {
                    scheduler::reconcile_until_stopped(context.clone(), *every, shutdown.clone())
                        .await
                }
                None => Ok(()),
            }
        };

        let (schedule, requests, leavers, audit_log, reconcile) =
            tokio::join!(schedule, requests, leavers, audit_log, reconcile);
        schedule
            .and(requests)
            .and(leavers)
            .and(audit_log)
            .and(reconcile)
    }
}
