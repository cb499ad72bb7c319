//! `rules explain` for IAM deliveries: one CloudEvent, or a batch (a JSON array, as the
//! receiver takes `application/cloudevents-batch+json`), checked as the receiver checks it,
//! then each event explained in order by the lane that would handle it: the rules' plan
//! (provision), the account's removal (deprovision) or an access request's decision
//! (approvals). Touches nothing: the store is opened read-only, and what the file's earlier
//! events would change is kept in memory (`record`).

mod leaver;
mod record;
mod request;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;

use self::record::{granted_by, Known, Person, Record};
use crate::{
    bus::Lane,
    config::{RedactedUrl, StoreSettings},
    ingest::{
        envelope::Envelope,
        iam::{self, Framing, IamSchema},
    },
    rules::{self, Identity, RuleSet},
    store::Store,
    worker::{approvals::add_requests, people, provision::current_access},
};

/// Explains every event of `body` (a batch when it is a JSON array).
pub async fn explain(
    rules: &RuleSet,
    body: &str,
    batch: bool,
    database_url: Option<RedactedUrl>,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let (framing, what) = match batch {
        true => (Framing::Batch, "batch (application/cloudevents-batch+json)"),
        false => (Framing::Single, "event (application/cloudevents+json)"),
    };
    let schema = IamSchema::compile()?;
    let envelopes = iam::normalise(&schema, body.as_bytes(), framing, now)
        .map_err(|e| anyhow::anyhow!("the receiver would refuse this {what}: {e}"))?;
    let store = match database_url {
        Some(url) => Some(
            Store::open_read_only(&StoreSettings { database_url: url })
                .await
                .context("opening the store read-only (--database-url must name the router's existing database)")?,
        ),
        None => None,
    };

    let mut record = Record::new(store);
    let count = envelopes.len();
    if batch {
        println!(
            "batch of {count} event(s) (application/cloudevents-batch+json), explained in order: \
             each against the record as the ones before it would leave it"
        );
    }
    for (index, envelope) in envelopes.iter().enumerate() {
        if batch {
            println!("\n=== event {} of {count}", index + 1);
        }
        explain_one(rules, &mut record, envelope, now).await?;
    }
    Ok(())
}

async fn explain_one(
    rules: &RuleSet,
    record: &mut Record,
    envelope: &Envelope,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let data: Value = serde_json::from_str(envelope.data.get()).context("the event's data")?;
    let iam_id = data["user"]["id"].as_str().unwrap_or_default();
    println!(
        "event {} ({}) for user:{iam_id}",
        envelope.id, envelope.event_type
    );
    let lane = Lane::for_routing_key(&envelope.routingkey)
        .with_context(|| format!("no lane takes {}", envelope.routingkey))?;
    println!(
        "lane: {} (routing key {}): {}",
        lane.name(),
        envelope.routingkey,
        lane_role(lane)
    );

    match lane {
        Lane::Approvals => request::explain(rules, record, &data).await,
        Lane::Deprovision => leaver::explain(rules, record, envelope, &data, now).await,
        Lane::Provision => provision(rules, record, envelope, &data, now).await,
        Lane::ClickUp => anyhow::bail!("an IAM event routed to the ClickUp lane"),
    }
}

/// What the provision worker would do: the event merged into the person, the rules' desired
/// access (with approved requests) against the grants, the plan in words.
async fn provision(
    rules: &RuleSet,
    record: &mut Record,
    envelope: &Envelope,
    data: &Value,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let iam_id = data["user"]["id"].as_str().unwrap_or_default();
    let person = record.person(iam_id).await?;
    let merged = people::merge(
        person.attributes.as_ref(),
        &envelope.event_type,
        data,
        envelope.time.timestamp_millis(),
    );
    let identity = Identity::from_iam_user(&merged).map_err(|e| anyhow::anyhow!("{e}"))?;

    let full = is_full(data);
    let on_record = matches!(person.known, Known::Record | Known::RecordAndEarlierEvents);
    if !full && !person.full_snapshot && !on_record {
        println!(
            "{}",
            partial_note(data, &person, record.store().is_some(), iam_id)
        );
    }
    let against = match person.known {
        Known::Record => "the router's record",
        Known::RecordAndEarlierEvents => {
            "the router's record as this file's earlier events would change it"
        }
        Known::EarlierEvents => "the record as this file's earlier events leave it",
        Known::Nothing if full => "an empty record (a joiner's view)",
        Known::Nothing => "this event's attributes alone",
    };

    let mut desired = rules
        .desired(&identity, now)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    add_requests(&mut desired, &record.granted_requests(iam_id).await?, now);
    let plan = rules::plan(&desired, &current_access(&person.grants), now);
    println!("plan against {against}:");
    println!(
        "{}",
        rules::explain(&desired, &plan, &granted_by(&person.grants))
    );

    let person = Person {
        full_snapshot: person.full_snapshot || full,
        ..person
    };
    record.planned(iam_id, person, merged, &plan);
    Ok(())
}

/// What a lane does, in a few words.
fn lane_role(lane: Lane) -> &'static str {
    match lane {
        Lane::Deprovision => {
            "leavers, disables and deletions, on their own queue: the account is removed at once"
        }
        Lane::Provision => {
            "joiners, movers, re-enables, memberships: the rules' plan against the grants on record"
        }
        Lane::Approvals => "decisions on access requests taken in the IAM's workflow",
        Lane::ClickUp => "ClickUp task events",
    }
}

/// Whether the event's `user.profile` is the person's whole current state.
fn is_full(data: &Value) -> bool {
    data["snapshot"].as_str() == Some("full")
}

/// The warning above a plan computed from a partial snapshot with no record behind it.
fn partial_note(data: &Value, person: &Person, store: bool, iam_id: &str) -> String {
    let snapshot = match data["snapshot"].as_str() {
        Some(snapshot) => format!("data.snapshot = {snapshot:?}"),
        None => "no data.snapshot".to_owned(),
    };
    let carried: Vec<&str> = data["categories"]
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let carried = match carried.is_empty() {
        true => String::new(),
        false => format!(" ({})", carried.join(", ")),
    };
    let source = match person.known {
        Known::EarlierEvents => "this file's events",
        _ => "this event's attributes",
    };
    let remedy = match store {
        true => format!("the router has no record of user:{iam_id}, so"),
        false => "without --database-url".to_owned(),
    };
    let mut note = format!(
        "Note: this event is a partial snapshot ({snapshot}): it carries only what changed{carried}.\n\
         \x20     {} the plan below is computed from {source} alone, not from what the router knows of the person",
        capitalise(&remedy)
    );
    if !store {
        note.push_str(";\n      give --database-url to plan against the router's record");
    }
    note.push('.');
    note
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
