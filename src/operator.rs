//! Operator commands: `rules check`, `rules explain`, `brake status`, `brake release`,
//! `dlq list`, `dlq show` (`dlq`); `audit timeline|export|search` (`audit`), `sso report` (`sso`).
//!
//! `rules explain` touches nothing: it reads the store (when given) read-only and says what
//! the lane that would take the event would do, and which rule is behind each action
//! (`explain_iam`, `explain_task`).

pub mod audit;
pub mod dlq;
mod explain_iam;
mod explain_task;
pub(crate) mod render;
pub mod sso;

pub use audit::{ExportFormat, Subject};
pub use render::Format;

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use serde_json::Value;

use crate::{
    app::Settings,
    cli::AuditCommand,
    clickup::ClickUpClient,
    config::{ClickUpSettings, RedactedUrl, StoreSettings},
    rules::RuleSet,
    store::Store,
    worker::{self, brake::Brake},
};

/// `rules check DIR`: loads and compiles the rules, then names the mappings and the
/// access-request areas; the error names file, line and reason.
pub fn check_rules(dir: &Path) -> anyhow::Result<()> {
    let rules = RuleSet::load_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let names = rules.mapping_names();
    println!(
        "{}: {} mapping(s) valid: {}",
        dir.display(),
        names.len(),
        names.join(", ")
    );
    match rules.access_policy() {
        Some(policy) => {
            let areas: Vec<&str> = policy.areas.iter().map(|area| area.name.as_str()).collect();
            println!(
                "{}: {} access-request area(s): {}",
                dir.display(),
                areas.len(),
                areas.join(", ")
            );
        }
        None => println!("{}: no access-request areas", dir.display()),
    }
    let assignments: Vec<&str> = rules
        .assignments()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    println!(
        "{}: {} assignment rule(s): {}",
        dir.display(),
        assignments.len(),
        assignments.join(", ")
    );
    Ok(())
}

/// `rules explain --event FILE`: a ClickUp delivery's assignment, or an IAM event's (or
/// batch's) plan and the rule behind each action, against the record in `database_url`
/// (opened read-only) or none.
pub async fn explain_event(
    event: &Path,
    task: Option<&Path>,
    dir: &Path,
    database_url: Option<RedactedUrl>,
) -> anyhow::Result<()> {
    let rules = RuleSet::load_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let text =
        std::fs::read_to_string(event).with_context(|| format!("reading {}", event.display()))?;
    let parsed: Value = serde_json::from_str(&text).context("the event is not JSON")?;

    if explain_task::is_clickup_delivery(&parsed) {
        return explain_task::explain(&rules, &parsed, task, database_url).await;
    }
    explain_iam::explain(&rules, &text, parsed.is_array(), database_url).await
}

/// `brake status`: the removals held, per person.
pub async fn brake_status(store: &StoreSettings) -> anyhow::Result<()> {
    let store = Store::open(store).await?;
    let brake = Brake {
        settings: Default::default(),
    };
    let held = brake.held(&store).await?;
    if held.is_empty() {
        println!("brake released: no removal is held");
        return Ok(());
    }
    println!("{} person(s) with held removals:", held.len());
    for hold in held {
        println!(
            "  #{} user:{} ({}): {}",
            hold.id,
            hold.iam_id,
            hold.cause,
            hold.actions.join("; ")
        );
    }
    Ok(())
}

/// `brake release`: applies every held removal against today's rules (a drift hold against
/// what ClickUp shows now, `reconcile::drift::release`).
pub async fn release_brake(settings: Settings, by: &str) -> anyhow::Result<()> {
    let store = Store::open(&settings.store).await?;
    let loaded = worker::load_rules(&settings.rules)?;

    // Held removals are planned again against these rules: other rules than the workers'
    // would plan other removals, or none, and clear the holds without applying them.
    let here = worker::scheduler::fingerprint(&loaded.sources);
    let applied = worker::scheduler::applied_fingerprint(&store).await?;
    if let Some(applied) = applied.filter(|applied| *applied != here) {
        anyhow::bail!(
            "the rules in {} are not the rules the workers applied (fingerprint {} here, {} \
             on record): run brake release with the workers' RULES_DIR, or release through \
             POST /api/v1/brake/release; nothing was released",
            settings.rules.rules_dir.display(),
            &here[..12],
            &applied[..applied.len().min(12)]
        );
    }

    let clickup = ClickUpClient::new(&settings.clickup)?;
    let provisioner = worker::provisioner(
        clickup,
        store,
        settings.clickup.clickup_team_id,
        loaded.rules,
    );

    let released = worker::scheduler::release_brake(&provisioner, by, Utc::now()).await?;
    println!("brake released: {released} person(s) reconciled");
    Ok(())
}

/// `audit timeline|export|search`, against the store opened read-only, printed on stdout.
pub async fn audit_command(command: AuditCommand) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        AuditCommand::Timeline(args) => {
            let store = open_read_only(&args.store).await?;
            let subject = match (args.person, args.object) {
                (Some(person), _) => Subject::Person(person),
                (None, Some(object)) => Subject::Object(object),
                (None, None) => anyhow::bail!("give --person or --object"),
            };
            let clickup = match args.clickup.clickup_token.is_empty() {
                true => None,
                false => Some(ClickUpClient::new(&args.clickup)?),
            };
            audit::timeline(
                &store,
                clickup.as_ref(),
                &subject,
                args.at,
                args.format,
                &mut out,
            )
            .await
        }
        AuditCommand::Export(args) => {
            let store = open_read_only(&args.store).await?;
            let from = args.from;
            audit::export(&store, from, args.to, args.format, args.records, &mut out).await?;
            Ok(())
        }
        AuditCommand::Search(args) => {
            let store = open_read_only(&args.store).await?;
            let query = crate::store::AuditQuery {
                correlation_id: args.correlation_id,
                subject: args.subject,
                object: args.object,
                action: args.action,
                actor: args.actor,
                outcome: args.outcome,
                from: args.from.map(|t| t.timestamp_millis()),
                to: args.to.map(|t| t.timestamp_millis()),
                after_seq: args.after,
                limit: args.limit,
            };
            audit::search(&store, &query, args.format, &mut out).await
        }
    }
}

/// `sso report`: the workspace's accounts against the identities on record.
pub async fn sso_report(
    store: &StoreSettings,
    clickup: &ClickUpSettings,
    format: Format,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !clickup.clickup_token.is_empty() && clickup.clickup_team_id != 0,
        "sso report reads the ClickUp workspace: set CLICKUP_TOKEN and CLICKUP_TEAM_ID (and CLICKUP_API_URL)"
    );
    let store = open_read_only(store).await?;
    let client = ClickUpClient::new(clickup)?;
    let report = sso::report(&store, &client, clickup.clickup_team_id).await?;
    sso::write(&report, format, &mut std::io::stdout().lock())
}

async fn open_read_only(settings: &StoreSettings) -> anyhow::Result<Store> {
    Store::open_read_only(settings).await.context(
        "opening the store read-only (DATABASE_URL must name the router's existing database)",
    )
}
