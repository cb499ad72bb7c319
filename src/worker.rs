//! Rule workers: consume the lanes and act on ClickUp; run the periodic duties while this
//! worker holds the scheduler's lease.
//!
//! Invariant: a delivery is acked only after its work is done and its outcome and audit rows
//! are committed; a message already recorded is acked without acting again.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::{
    bus::{Consumer, Lane},
    clickup::ClickUpClient,
    config::RulesSettings,
    iam::IamClient,
    rules::RuleSet,
    store::Store,
};

pub mod apply;
pub mod approvals;
pub mod assign;
pub mod audit_log;
pub mod brake;
pub mod dead_letters;
pub mod deprovision;
pub mod duties;
pub mod lane;
pub mod lease;
pub mod people;
pub mod provision;
pub mod receipts;
pub mod scheduler;
pub mod tasks;

pub use approvals::Approvals;
pub use assign::Assigner;
pub use deprovision::Deprovisioner;
pub use duties::Duties;
pub use provision::Provisioner;

use receipts::Received;

/// Runs the deprovision, provision, ClickUp task and approval lanes and the dead-letter
/// recorder, and, while this worker holds the scheduler's lease, the periodic duties
/// (`duties`: changed rules applied to everyone, expiries, reminders, request timeouts,
/// leavers' tasks, ClickUp's audit log, reconciliation), until the token is cancelled. Worker
/// metrics go to the registry `clickup` records into.
///
/// Without an access-request policy in the rules, the ClickUp task and approval lanes keep
/// their messages queued durably for the handlers that later issues add.
pub async fn run_until_stopped(
    consumer: Arc<dyn Consumer>,
    store: Store,
    workspace: Workspace,
    rules: LoadedRules,
    iam: Option<IamClient>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let started_at = Utc::now().timestamp_millis();
    let Workspace {
        clickup,
        team_id,
        audit_log_every,
        reconcile,
    } = workspace;
    let LoadedRules {
        rules: rule_set,
        sources,
        tick,
        lease: lease_length,
    } = rules;
    let provisioner = Arc::new(provisioner(
        clickup.clone(),
        store.clone(),
        team_id,
        rule_set,
    ));

    // The router's own account, whose changes echo back on the task lane: asked once.
    let rules_of_tasks = &provisioner.rules;
    let task_rules =
        rules_of_tasks.access_policy().is_some() || !rules_of_tasks.assignments().is_empty();
    let router_user = match task_rules || audit_log_every.is_some() {
        true => clickup.me().await?,
        false => 0,
    };
    let approvals = Approvals::start(
        clickup.clone(),
        store.clone(),
        provisioner.rules.clone(),
        provisioner.clone(),
        iam,
        router_user,
        tick * 6,
    )
    .await?
    .map(Arc::new);
    let assigner = match provisioner.rules.assignments().is_empty() {
        true => None,
        false => Some(Arc::new(
            Assigner::start(
                clickup.clone(),
                store.clone(),
                provisioner.rules.clone(),
                team_id,
                router_user,
            )
            .await?,
        )),
    };
    let tasks = async {
        if approvals.is_none() && assigner.is_none() {
            return Ok(());
        }
        let lane = Arc::new(tasks::TaskLane {
            store: store.clone(),
            router_user,
            approvals: approvals.clone(),
            assigner: assigner.clone(),
        });
        consumer
            .consume_until_stopped(
                Lane::ClickUp,
                Received::wrap(&store, lane),
                shutdown.clone(),
            )
            .await
    };
    let decisions = async {
        let Some(approvals) = approvals.clone() else {
            return Ok(());
        };
        let decisions = Received::wrap(&store, Arc::new(approvals::IamDecisions(approvals)));
        consumer
            .consume_until_stopped(Lane::Approvals, decisions, shutdown.clone())
            .await
    };

    let duties = Duties {
        provisioner: provisioner.clone(),
        tick,
        rules_fingerprint: scheduler::fingerprint(&sources),
        approvals: approvals.clone(),
        assigner: assigner.clone(),
        audit_log: audit_log_every.map(|every| {
            let poller = Arc::new(audit_log::AuditLogPoller {
                clickup: clickup.clone(),
                store: store.clone(),
                team_id,
                router_user,
                start_at: started_at,
            });
            (poller, every)
        }),
        reconcile: reconcile.map(|reconciling| {
            let context = crate::reconcile::Context {
                clickup: clickup.clone(),
                store: store.clone(),
                publisher: reconciling.publisher,
                team_id,
                webhook_ids: reconciling.webhook_ids,
                rules: provisioner.rules.clone(),
                apply: false,
            };
            (context, reconciling.every)
        }),
    };
    let lease = lease::Lease::new(
        store.clone(),
        lease::SCHEDULER,
        lease_length,
        clickup.metrics().clone(),
    );
    let periodic = lease::run_until_stopped(
        lease,
        || duties.run_until_stopped(shutdown.clone()),
        shutdown.clone(),
    );

    let deprovisioner = Arc::new(Deprovisioner::new(
        clickup.clone(),
        store.clone(),
        team_id,
        provisioner.brake.clone(),
    ));
    let recorder = Arc::new(dead_letters::DeadLetterRecorder {
        store: store.clone(),
        metrics: clickup.metrics().clone(),
        shutdown: shutdown.clone(),
    });
    let (deprovision, provision, tasks, decisions, dead, periodic) = tokio::join!(
        consumer.consume_until_stopped(
            Lane::Deprovision,
            Received::wrap(&store, deprovisioner),
            shutdown.clone()
        ),
        consumer.consume_until_stopped(
            Lane::Provision,
            Received::wrap(&store, provisioner.clone()),
            shutdown.clone()
        ),
        tasks,
        decisions,
        consumer.consume_dead_letters_until_stopped(recorder, shutdown.clone()),
        periodic,
    );
    deprovision
        .and(provision)
        .and(tasks)
        .and(decisions)
        .and(dead)
        .and(periodic)
}

/// The ClickUp workspace the worker manages, and how often it reads its audit log.
pub struct Workspace {
    pub clickup: ClickUpClient,
    pub team_id: u64,
    pub audit_log_every: Option<Duration>,
    /// Scheduled reconciliation passes, when on.
    pub reconcile: Option<Reconciling>,
}

/// How the worker reconciles: every `every`, publishing missed changes through `publisher`,
/// for the webhooks the router has a secret for.
pub struct Reconciling {
    pub every: Duration,
    pub publisher: Arc<dyn crate::bus::Publisher>,
    pub webhook_ids: Vec<String>,
}

/// A provisioner over the given rules.
pub fn provisioner(
    clickup: ClickUpClient,
    store: Store,
    team_id: u64,
    rules: RuleSet,
) -> Provisioner {
    let brake = brake::Brake {
        settings: rules.settings().brake.clone(),
    };
    Provisioner {
        clickup,
        store,
        team_id,
        rules: Arc::new(rules),
        brake,
    }
}

/// Compiled rules with their sources (for the fingerprint), the scheduler's tick and lease.
pub struct LoadedRules {
    pub rules: RuleSet,
    pub sources: Vec<(String, String)>,
    pub tick: Duration,
    pub lease: Duration,
}

/// Loads and compiles the rules folder, failing with the file, line and reason.
pub fn load_rules(settings: &RulesSettings) -> anyhow::Result<LoadedRules> {
    let rules = RuleSet::load_dir(&settings.rules_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut sources = Vec::new();
    let entries = std::fs::read_dir(&settings.rules_dir)
        .with_context(|| format!("reading {}", settings.rules_dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let is_rule = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if is_rule {
            // The file's name, not its path: the same rules copied to another folder are the
            // same rules, and must not re-plan everyone.
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            sources.push((name.into_owned(), std::fs::read_to_string(&path)?));
        }
    }
    sources.sort();
    info!(mappings = rules.mapping_names().len(), dir = %settings.rules_dir.display(), "rules loaded");
    Ok(LoadedRules {
        rules,
        sources,
        tick: Duration::from_millis(settings.scheduler_tick_ms),
        lease: settings.scheduler_lease,
    })
}

#[cfg(test)]
mod tests;
