//! `directory resync --file FILE`: merges a file of IAM events into the identities on record,
//! as the provisioning worker merges them, and changes nothing in ClickUp.
//!
//! Invariants: each event passes the receiver's schema validation before anything is read
//! from it; valid events are merged in event-time order (file order on ties) with
//! `worker::people::merge`, so an older event never overwrites newer data, whether it is in
//! the file or already on record; refusals name the event's line or index and the field,
//! never a value, since values are personal data.

use std::{fmt, path::Path};

use anyhow::Context;
use serde_json::{value::RawValue, Value};

use crate::{
    bus::topology::Lane,
    config::StoreSettings,
    ingest::{
        envelope::Envelope,
        iam::{normalise, Framing, IamPayloadError, IamSchema},
    },
    rules::{Identity, IdentityError},
    store::{IdentityRecord, Store, StoreError},
    worker::people,
};

/// How many refusals the command prints.
const SHOWN_REFUSALS: usize = 5;

/// Where an event sits in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Position {
    /// One event per line (or a single event starting on this line), counted from 1.
    Line(usize),
    /// An element of a JSON array, counted from 0 as in the schema's `/0/...` pointers.
    Index(usize),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(line) => write!(f, "line {line}"),
            Position::Index(index) => write!(f, "index {index}"),
        }
    }
}

/// Why an event was not merged; names fields, never values.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("{0}")]
    Invalid(#[from] IamPayloadError),
    #[error("event type {0} does not describe an identity")]
    NotAnIdentityEvent(String),
    #[error("`data.user.id` is missing")]
    NoUser,
    #[error("the merged identity cannot be read: {0}")]
    Unreadable(#[from] IdentityError),
}

/// A refused event and where it is.
#[derive(Debug)]
pub struct Refusal {
    pub position: Position,
    pub reason: Refused,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.position, self.reason)
    }
}

/// Why a resync stopped.
#[derive(Debug, thiserror::Error)]
pub enum ResyncError {
    #[error("the file starts a JSON array but is not one: {0}")]
    NotAnArray(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a resync did.
#[derive(Debug, Default)]
pub struct Report {
    /// Events in the file.
    pub read: usize,
    /// Events that changed a person on record.
    pub merged: usize,
    /// Valid events that changed nothing: the record already held newer data.
    pub unchanged: usize,
    /// Refused events, in file order.
    pub refusals: Vec<Refusal>,
}

impl Report {
    pub fn refused(&self) -> usize {
        self.refusals.len()
    }
}

/// `directory resync`: reads `file`, merges it into the store, prints the counts and the first
/// few refusals.
pub async fn run(file: &Path, settings: &StoreSettings) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let schema = IamSchema::compile()?;
    let store = Store::open(settings).await?;

    let report = resync(&store, &schema, &text).await?;

    println!(
        "{} event(s) read: {} merged, {} unchanged (already on record, or older than the record), {} refused",
        report.read,
        report.merged,
        report.unchanged,
        report.refused()
    );
    for refusal in report.refusals.iter().take(SHOWN_REFUSALS) {
        println!("  refused {refusal}");
    }
    if report.refused() > SHOWN_REFUSALS {
        println!("  and {} more", report.refused() - SHOWN_REFUSALS);
    }
    println!("nothing was changed in ClickUp");
    Ok(())
}

/// Validates every event of `text`, then merges the valid ones in event-time order.
pub async fn resync(store: &Store, schema: &IamSchema, text: &str) -> Result<Report, ResyncError> {
    let events = split(text)?;
    let mut report = Report {
        read: events.len(),
        ..Report::default()
    };

    let mut valid: Vec<(Position, Envelope)> = Vec::with_capacity(events.len());
    for (position, raw) in events {
        match normalise(schema, raw.as_bytes(), Framing::Single, chrono::Utc::now()) {
            Ok(mut envelopes) => valid.extend(envelopes.pop().map(|e| (position, e))),
            Err(error) => report.refusals.push(Refusal {
                position,
                reason: error.into(),
            }),
        }
    }
    valid.sort_by_key(|(_, envelope)| envelope.time);

    for (position, envelope) in &valid {
        match merge(store, envelope).await? {
            Merged::Written => report.merged += 1,
            Merged::Unchanged => report.unchanged += 1,
            Merged::Refused(reason) => report.refusals.push(Refusal {
                position: *position,
                reason,
            }),
        }
    }

    report.refusals.sort_by_key(|refusal| refusal.position);
    Ok(report)
}

/// The events of a file: a JSON array, a single event, or one event per line (blank lines
/// skipped), each as its raw text.
fn split(text: &str) -> Result<Vec<(Position, &str)>, ResyncError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
            ResyncError::NotAnArray(format!("line {} column {}", e.line(), e.column()))
        })?;
        return Ok(items
            .into_iter()
            .enumerate()
            .map(|(index, raw)| (Position::Index(index), raw.get()))
            .collect());
    }

    if trimmed.starts_with('{') && serde_json::from_str::<&RawValue>(text).is_ok() {
        let first_line = text.len() - trimmed.len();
        let line = text[..first_line].matches('\n').count() + 1;
        return Ok(vec![(Position::Line(line), trimmed.trim_end())]);
    }

    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| (Position::Line(number + 1), line))
        .collect())
}

/// What merging one event did.
enum Merged {
    Written,
    Unchanged,
    Refused(Refused),
}

/// Merges one valid event into the person on record, as the provisioning worker does.
async fn merge(store: &Store, envelope: &Envelope) -> Result<Merged, StoreError> {
    let identity_lane = matches!(
        Lane::for_routing_key(&envelope.routingkey),
        Some(Lane::Provision | Lane::Deprovision)
    );
    if !identity_lane {
        let refused = Refused::NotAnIdentityEvent(envelope.event_type.clone());
        return Ok(Merged::Refused(refused));
    }
    let data: Value = match serde_json::from_str(envelope.data.get()) {
        Ok(data) => data,
        Err(e) => {
            return Ok(Merged::Refused(
                IamPayloadError::Malformed(e.to_string()).into(),
            ))
        }
    };
    let Some(iam_id) = data["user"]["id"].as_str() else {
        return Ok(Merged::Refused(Refused::NoUser));
    };
    let time = envelope.time.timestamp_millis();

    let stored = store.identity(iam_id).await?;
    let merged = people::merge(
        stored.as_ref().map(|s| &s.attributes),
        &envelope.event_type,
        &data,
        time,
    );
    if stored.as_ref().is_some_and(|s| s.attributes == merged) {
        return Ok(Merged::Unchanged);
    }

    let identity = match Identity::from_iam_user(&merged) {
        Ok(identity) => identity,
        Err(e) => return Ok(Merged::Refused(e.into())),
    };
    // Only a newer re-enable moves the mark a stale leaver is judged by.
    let enabled_before = stored.as_ref().and_then(|s| s.enabled_at);
    let enabled_at = (re_enables(&envelope.event_type, &data)
        && enabled_before.is_none_or(|at| time > at))
    .then_some(time);
    let record = IdentityRecord {
        iam_id: iam_id.to_string(),
        email: identity.email.clone(),
        status: identity.status.clone(),
        attributes: merged,
        clickup_user_id: None,
        event_time: time,
        enabled_at,
    };

    store.save_identity(&record).await?;
    Ok(Merged::Written)
}

/// Whether the event gives a disabled or departed person their access back (as the
/// provisioning worker reads it).
fn re_enables(event_type: &str, data: &Value) -> bool {
    let lifecycle = data["lifecycle"].as_str().unwrap_or_default();
    event_type.contains(".user.enabled.") || matches!(lifecycle, "enable" | "rehire")
}
