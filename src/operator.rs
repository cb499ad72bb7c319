//! Operator commands: `rules check`, `rules explain`, `brake status`, `brake release`.
//!
//! `rules explain` touches nothing: it evaluates the event's person against the rules as if
//! the router had no record of them, and says which rule asks for each action.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use serde_json::Value;

use crate::{
    app::Settings,
    clickup::ClickUpClient,
    config::StoreSettings,
    rules::{self, CurrentAccess, Identity, RuleSet},
    store::Store,
    worker::{self, brake::Brake, people, provision::has_ended},
};

/// `rules check DIR`: loads and compiles the rules; the error names file, line and reason.
pub fn check_rules(dir: &Path) -> anyhow::Result<()> {
    let rules = RuleSet::load_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let names = rules.mapping_names();
    println!(
        "{}: {} mapping(s) valid: {}",
        dir.display(),
        names.len(),
        names.join(", ")
    );
    Ok(())
}

/// `rules explain --event FILE`: prints the plan and the rule behind each action.
pub fn explain_event(event: &Path, dir: &Path) -> anyhow::Result<()> {
    let rules = RuleSet::load_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let text =
        std::fs::read_to_string(event).with_context(|| format!("reading {}", event.display()))?;
    let event: Value = serde_json::from_str(&text).context("the event is not JSON")?;
    let event_type = event["type"].as_str().unwrap_or_default();

    let person = people::merge(None, event_type, &event["data"], 0);
    let identity = Identity::from_iam_user(&person).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = Utc::now();
    println!(
        "event {} ({event_type}) for user:{}",
        event["id"].as_str().unwrap_or("?"),
        identity.id
    );

    if has_ended(&identity, now) {
        println!(
            "lifecycle: access ends (status {}, end {:?})",
            identity.status, identity.end_at
        );
        println!("plan: remove the ClickUp account with the person's email (member deactivated, guest removed)");
        println!("      and close every open grant; leavers are never held by the brake");
        return Ok(());
    }
    let desired = rules
        .desired(&identity, now)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let plan = rules::plan(&desired, &CurrentAccess::default(), now);
    println!("plan against an empty record (a joiner's view):");
    println!("{}", rules::explain(&desired, &plan));
    Ok(())
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

/// `brake release`: applies every held removal against today's rules.
pub async fn release_brake(settings: Settings, by: &str) -> anyhow::Result<()> {
    let store = Store::open(&settings.store).await?;
    let loaded = worker::load_rules(&settings.rules)?;
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
