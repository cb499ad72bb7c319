//! `rules explain` for the deprovision lane: a leaver, disable or deletion removes the
//! person's ClickUp account at once, whatever the mappings say. Names the built-in rule that
//! decides it and the event fields that triggered it, the account the lane would look up and
//! every open grant the removal closes, each with the rule that granted it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::record::{describe, Known, Person, Record};
use crate::{
    ingest::envelope::Envelope,
    rules::{ending_rule, Identity, RuleSet},
    store::IdentityRecord,
    worker::{
        deprovision::{account_keys, scim::is_scim},
        people,
    },
};

pub(super) async fn explain(
    rules: &RuleSet,
    record: &mut Record,
    envelope: &Envelope,
    data: &Value,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let iam_id = data["user"]["id"].as_str().unwrap_or_default();
    let time = envelope.time.timestamp_millis();
    let person = record.person(iam_id).await?;
    if let Some(enabled) = person.enabled_at.filter(|at| *at > time) {
        println!(
            "stale: the IAM re-enabled user:{iam_id} at {}, after this event; the deprovision \
             lane records it as stale and removes nothing",
            when(enabled)
        );
        return Ok(());
    }

    let merged = people::merge(person.attributes.as_ref(), &envelope.event_type, data, time);
    let identity = Identity::from_iam_user(&merged).map_err(|e| anyhow::anyhow!("{e}"))?;
    let desired = rules
        .desired(&identity, now)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("responsible:");
    match ending_rule(&desired) {
        Some(lines) => lines.iter().for_each(|line| println!("  {line}")),
        None => println!(
            "  the deprovision lane itself: every {} event removes the account, whatever the \
             status on record ({})",
            envelope.routingkey, identity.status
        ),
    }
    println!("  triggered by: {}", trigger(envelope, data));
    println!("brake: {}", brake(&envelope.source));

    let (account, linked) = account(record, iam_id, &person, data).await?;
    let closing: Vec<(String, Person)> = std::iter::once((iam_id.to_owned(), person.clone()))
        .chain(linked.iter().cloned())
        .collect();
    let grants: usize = closing.iter().map(|(_, p)| p.grants.len()).sum();
    let against = match (person.known, record.store().is_some()) {
        (Known::Record, _) => "the router's record".to_owned(),
        (Known::RecordAndEarlierEvents, _) => {
            "the router's record as this file's earlier events would change it".to_owned()
        }
        (Known::EarlierEvents, _) => "the record as this file's earlier events leave it".to_owned(),
        (Known::Nothing, true) => format!("the router's record, which has no user:{iam_id}"),
        (Known::Nothing, false) => "this event alone (no record given)".to_owned(),
    };
    println!("plan against {against}:");
    println!(
        "{}",
        if grants > 0 {
            "2 actions:"
        } else {
            "1 action:"
        }
    );
    println!(
        "1. remove the ClickUp account (a member is deactivated, a guest removed; never the workspace owner)"
    );
    println!("   {account}");
    if grants > 0 {
        println!("2. close {grants} open grant(s), ended by this leaver:");
        for (id, someone) in &closing {
            for grant in &someone.grants {
                println!(
                    "   - user:{id}: {} (granted by rule `{}`)",
                    describe(grant),
                    grant.rule
                );
            }
        }
    } else if record.store().is_some() {
        println!("No open grants on record to close.");
    } else {
        println!(
            "No open grants to close: no record given (give --database-url to list the grants this closes)."
        );
    }
    println!();

    record.removed(iam_id, person, merged, linked);
    Ok(())
}

/// How the lane finds the account, in words, and the other people on record linked to it
/// (whose grants the removal closes too).
async fn account(
    record: &mut Record,
    iam_id: &str,
    person: &Person,
    data: &Value,
) -> anyhow::Result<(String, Vec<(String, Person)>)> {
    let stored = IdentityRecord {
        iam_id: iam_id.to_owned(),
        email: person.email.clone(),
        status: String::new(),
        attributes: Value::Null,
        clickup_user_id: person.clickup_user_id,
        event_time: 0,
        enabled_at: None,
    };
    let (user_id, emails) = account_keys(&data["user"], Some(&stored));
    if user_id.is_none() && emails.is_empty() {
        let why = "the event names no email or ClickUp id and none is on record: the lane fails it (no_account_keys)";
        return Ok((why.to_owned(), Vec::new()));
    }

    let named = account_keys(&data["user"], None).0;
    let mut found = user_id.map(|id| {
        let whose = match named {
            Some(_) => "named by the event's ids.clickup_user_id".to_owned(),
            None => format!("on record for user:{iam_id}"),
        };
        (id as i64, format!("ClickUp user {id}, {whose}"))
    });
    for email in &emails {
        if found.is_some() {
            break;
        }
        if let Some((owner, id)) = record.by_email(email).await? {
            let words = format!(
                "found by the email {email}: ClickUp user {id}, on record for user:{owner}"
            );
            found = Some((id, words));
        }
    }
    let Some((user_id, words)) = found else {
        let words = format!("looked up in ClickUp by email {}", emails.join(", "));
        return Ok((words, Vec::new()));
    };

    let mut linked = Vec::new();
    for other in record.linked_to(user_id).await? {
        if other != iam_id {
            let person = record.person(&other).await?;
            linked.push((other, person));
        }
    }
    Ok((words, linked))
}

/// The event's fields that make it a removal.
fn trigger(envelope: &Envelope, data: &Value) -> String {
    let mut parts = vec![format!("type {}", envelope.routingkey)];
    if let Some(status) = people::status_of(&envelope.event_type) {
        parts[0].push_str(&format!(" (status={status})"));
    }
    let fields = [
        ("data.lifecycle", &data["lifecycle"]),
        (
            "data.user.profile.status",
            &data["user"]["profile"]["status"],
        ),
        ("data.reason.code", &data["reason"]["code"]),
    ];
    for (name, value) in fields {
        if let Some(value) = value.as_str() {
            parts.push(format!("{name} = {value:?}"));
        }
    }
    parts.join(", ")
}

/// How the mass-removal brake treats the removal.
fn brake(source: &str) -> &'static str {
    match is_scim(source) {
        true => "a removal through SCIM passes the brake (held when it would remove too many people at once)",
        false => "leavers from the IAM's drivers are never held by the brake",
    }
}

fn when(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| millis.to_string())
}
