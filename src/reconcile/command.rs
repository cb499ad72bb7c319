//! `clickup-iam-router reconcile [--apply] [--only PART]`: one pass from the command line,
//! against the worker's settings (ClickUp, store, broker, rules); the task lane of a running
//! worker handles what it publishes. Prints each part's counts; fails when a part failed.

use std::{path::Path, sync::Arc};

use anyhow::Context as _;

use super::{run, Context, Part, SCHEDULED};
use crate::{
    bus::rabbitmq::RabbitMq, cli::WorkerArgs, clickup::ClickUpClient, rules::RuleSet, store::Store,
};

/// The command's arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub worker: WorkerArgs,

    /// Change ClickUp where desired access and ClickUp differ (drift); without it drift is
    /// only reported. Webhooks and missed task changes are always mended.
    #[arg(long)]
    pub apply: bool,

    /// Run one part only: webhooks, tasks or drift.
    #[arg(long, value_enum)]
    pub only: Option<Part>,
}

/// Runs the pass, prints its report, and fails when a part did.
pub async fn execute(args: ReconcileArgs) -> anyhow::Result<()> {
    let settings = args.worker;
    anyhow::ensure!(
        settings.clickup.clickup_team_id != 0,
        "CLICKUP_TEAM_ID is required for reconcile"
    );
    anyhow::ensure!(
        !settings.clickup.clickup_token.is_empty(),
        "CLICKUP_TOKEN is required for reconcile"
    );
    let rules = RuleSet::load_dir(Path::new(&settings.rules.rules_dir))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = Store::open(&settings.store)
        .await
        .context("opening the store")?;

    let context = Context {
        clickup: ClickUpClient::new(&settings.clickup)?,
        store,
        publisher: Arc::new(RabbitMq::new(settings.bus.clone())),
        team_id: settings.clickup.clickup_team_id,
        webhook_ids: settings.clickup.clickup_webhook_secrets.ids(),
        rules: Arc::new(rules),
        apply: args.apply,
    };
    let only = args.only.map(|part| vec![part]);
    let summary = run(&context, only.as_deref().unwrap_or(SCHEDULED)).await;

    print!("{summary}");
    anyhow::ensure!(!summary.failed(), "reconciliation left something undone");
    Ok(())
}
