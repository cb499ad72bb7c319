//! `rules explain` for a ClickUp task event: which assignment rule covers the task (and why
//! the others do not), the conditions candidates must meet, each candidate considered with
//! kept or filtered and why, and the choice. Reads the store only when given, read-only.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use serde_json::Value;

use crate::{
    config::{RedactedUrl, StoreSettings},
    directory::{self, Attribute, Condition, Directory},
    rules::{choose, explain_assignment, Candidate, RuleSet, Strategy, TaskFacts},
    store::Store,
    worker::assign::specific_event,
};

/// Whether a JSON document is a ClickUp webhook delivery (not an IAM CloudEvent).
pub fn is_clickup_delivery(event: &Value) -> bool {
    event.get("specversion").is_none()
        && (event.get("webhook_id").is_some() || event.get("task_id").is_some())
}

pub async fn explain(
    rules: &RuleSet,
    delivery: &Value,
    task: Option<&Path>,
    database_url: Option<RedactedUrl>,
) -> anyhow::Result<()> {
    let mut data = delivery.clone();
    data["history_item"] = delivery["history_items"]
        .get(0)
        .cloned()
        .unwrap_or(Value::Null);
    let event = specific_event(&data);
    println!(
        "ClickUp {event} for task {}",
        delivery["task_id"].as_str().unwrap_or("?")
    );

    let Some(task) = task else {
        anyhow::bail!("a ClickUp event does not carry the task's fields: give --task FILE, the task as GET /v2/task/{{id}} returns it");
    };
    let text =
        std::fs::read_to_string(task).with_context(|| format!("reading {}", task.display()))?;
    let task: Value = serde_json::from_str(&text).context("the task is not JSON")?;
    anyhow::ensure!(
        task["id"].is_string() && task["list"]["id"].is_string(),
        "the --task file is not a task as GET /v2/task/{{id}} returns it (no `id` and `list.id`)"
    );
    let facts = TaskFacts::from_task(&event, &task);

    for rule in rules.assignments() {
        match rule.covers(&facts) {
            Ok(()) => println!("  covers    {}", rule.name),
            Err(why) => println!("  skips     {}: {why}", rule.name),
        }
    }
    let Some(rule) = rules.assignment_for(&facts) else {
        println!("no assignment rule covers the task: the router leaves it alone");
        return Ok(());
    };

    let conditions = match rule.conditions(&facts) {
        Ok(conditions) => conditions,
        Err(why) => {
            println!("{}", explain_assignment(rule, &[], None));
            println!("no candidates: {why}");
            return Ok(());
        }
    };
    let conditions: Vec<Condition> = conditions
        .into_iter()
        .filter_map(|(attribute, value)| {
            Attribute::parse(&attribute).map(|attribute| Condition { attribute, value })
        })
        .collect();
    let listed: Vec<String> = conditions
        .iter()
        .map(|c| format!("{} = {:?}", c.attribute.name(), c.value))
        .collect();
    println!("conditions: {}", listed.join(", "));

    let Some(url) = database_url else {
        println!(
            "rule {} ({}); candidates and the choice need the directory: give --database-url",
            rule.name,
            rule.strategy.as_str()
        );
        return Ok(());
    };
    let store = Store::open_read_only(&StoreSettings { database_url: url }).await?;
    let directory: Directory = directory::load(&store).await?;

    let now = Utc::now();
    let mut considered = Vec::new();
    let mut kept = Vec::new();
    for person in directory.select(&conditions) {
        let name = person
            .identity
            .display_name
            .clone()
            .unwrap_or_else(|| person.iam_id.clone());
        let verdict = rule.keeps(rules, &person.identity, now);
        if let Ok(true) = verdict {
            kept.push((
                Candidate {
                    user_id: person.clickup_user_id,
                    iam_id: person.iam_id.clone(),
                    load: 0,
                },
                name.clone(),
            ));
        }
        considered.push((name, verdict));
    }
    let ids: Vec<u64> = kept.iter().map(|(c, _)| c.user_id).collect();
    let loads = store.open_loads(&ids).await?;
    let cursor = match rule.strategy {
        Strategy::LeastLoaded => 0,
        _ => store.peek_cursor(&rule.name).await?,
    };
    kept.sort_by_key(|(c, _)| c.user_id);
    let candidates: Vec<Candidate> = kept
        .iter()
        .map(|(c, _)| Candidate {
            load: loads.get(&c.user_id).copied().unwrap_or(0),
            ..c.clone()
        })
        .collect();
    let chosen = choose(rule.strategy, &candidates, cursor).map(|index| kept[index].1.as_str());
    println!("{}", explain_assignment(rule, &considered, chosen));
    Ok(())
}
