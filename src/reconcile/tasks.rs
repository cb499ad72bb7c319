//! Missed task changes: every watched List (the Lists the router's webhooks watch, the
//! access-request intake List, the Lists the assignment rules name) is read for tasks updated
//! after its cursor (`GET /v2/list/{id}/task?date_updated_gt=`, closed tasks and subtasks
//! included, every page). A task whose `date_updated` is newer than the version the router
//! has seen of it (`reconcile::versions`), or that it never saw, is a missed change: it is
//! published once per version as a `clickup.reconcile.taskChanged` event on the ClickUp lane,
//! which the task lane handles like a `taskCreated` or `taskUpdated` without a history item.
//!
//! Invariants: the event id is the task id and its `date_updated`, claimed in the receipts
//! before the publish as the receivers do, so a second pass (or the CLI racing the worker)
//! publishes nothing new; a List's cursor moves, only here, to the newest `date_updated`
//! read, and only after every missed change up to it was published, so a change whose
//! delivery ClickUp dropped is read by a pass whatever ClickUp delivered after it.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use serde_json::{json, value::RawValue, Value};

use super::{cursor, versions, Context, ReconcileError, Report as PartReport};
use crate::{
    clickup::webhooks::Webhook,
    ingest::envelope::Envelope,
    rules::RuleSet,
    store::{correlation::received, Claim},
};

/// The source of reconciliation events (their dedup key is `source` + id).
pub const SOURCE: &str = "urn:clickup:reconcile";
/// Their CloudEvents type and routing key.
pub const EVENT_TYPE: &str = "com.clickup.reconcile.taskChanged";
pub const ROUTING_KEY: &str = "clickup.reconcile.taskChanged";

/// How far back a List never read before is looked at.
pub const FIRST_LOOKBACK_MS: i64 = 24 * 3600 * 1000;

/// How long a claimed event id stays locked while its publish is in flight.
const CLAIM_LEASE: std::time::Duration = std::time::Duration::from_secs(10);

/// What the task part found and did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub lists: u64,
    /// Tasks read whose version the router had seen (delivered, or reconciled before).
    pub seen: u64,
    /// Tasks read whose version the router had not seen: the missed changes.
    pub changed: u64,
    pub published: u64,
    /// Changes published before (by an earlier pass or another process).
    pub already_published: u64,
    /// Lists that could not be read or published in full.
    pub failed_lists: u64,
}

impl PartReport for Report {
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("lists", self.lists),
            ("seen", self.seen),
            ("changed", self.changed),
            ("published", self.published),
            ("already_published", self.already_published),
            ("failed_lists", self.failed_lists),
        ]
    }

    fn failures(&self) -> u64 {
        self.failed_lists
    }
}

/// One task version read after a List's cursor, which the webhooks may have missed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub task_id: String,
    pub list_id: String,
    pub date_updated: i64,
    /// `taskCreated` when the task was created after the cursor, else `taskUpdated`.
    pub stands_for: &'static str,
}

/// Pure: the tasks of `list_id` updated after `cursor`, oldest change first. Tasks without an
/// id or an update time are left out (nothing could deduplicate them).
pub fn changed_since(list_id: &str, tasks: &[Value], cursor: i64) -> Vec<Change> {
    let mut changes: Vec<Change> = tasks
        .iter()
        .filter_map(|task| {
            let task_id = cursor::id_text(&task["id"])?;
            let date_updated = cursor::millis(&task["date_updated"])?;
            let created = cursor::millis(&task["date_created"]).unwrap_or(date_updated);
            let stands_for = match created > cursor {
                true => "taskCreated",
                false => "taskUpdated",
            };
            (date_updated > cursor).then(|| Change {
                task_id,
                list_id: list_id.to_owned(),
                date_updated,
                stands_for,
            })
        })
        .collect();
    changes.sort_by(|a, b| (a.date_updated, &a.task_id).cmp(&(b.date_updated, &b.task_id)));
    changes
}

/// Pure: the event id of a task version; the same version always has the same id.
pub fn event_id(task_id: &str, date_updated: i64) -> String {
    format!("{task_id}:{date_updated}")
}

/// Pure: the Lists to read: those of the known webhooks that watch a List, the intake List,
/// and the Lists the assignment rules name.
pub fn watched_lists(listed: &[Webhook], known: &[String], rules: &RuleSet) -> BTreeSet<String> {
    let webhooks = listed
        .iter()
        .filter(|webhook| known.contains(&webhook.id))
        .filter_map(|webhook| webhook.list_id.clone());
    let intake = rules.access_policy().map(|p| p.intake.list_id.clone());
    let assigned = rules
        .assignments()
        .iter()
        .filter_map(|rule| rule.list_id().map(str::to_owned));
    webhooks.chain(intake).chain(assigned).collect()
}

/// Pure: the envelope published for one change.
pub fn envelope(change: &Change) -> Envelope {
    let data = json!({
        "event": change.stands_for,
        "reconciled": true,
        "task_id": change.task_id,
        "list_id": change.list_id,
        "date_updated": change.date_updated.to_string(),
    });
    let id = event_id(&change.task_id, change.date_updated);
    Envelope {
        specversion: "1.0".into(),
        id: id.clone(),
        source: SOURCE.into(),
        event_type: EVENT_TYPE.into(),
        time: Utc
            .timestamp_millis_opt(change.date_updated)
            .single()
            .unwrap_or_else(Utc::now),
        subject: Some(format!("task:{}", change.task_id)),
        datacontenttype: "application/json".into(),
        correlationid: format!("reconcile:{id}"),
        routingkey: ROUTING_KEY.into(),
        acceptedat: None,
        data: RawValue::from_string(data.to_string()).unwrap_or_else(|_| empty()),
    }
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".into()).expect("{} is JSON")
}

pub async fn run(context: &Context) -> Result<Report, ReconcileError> {
    let listed = context.clickup.webhooks(context.team_id).await?;
    let lists = watched_lists(&listed, &context.webhook_ids, &context.rules);
    let mut report = Report::default();

    for list_id in &lists {
        report.lists += 1;
        if let Err(error) = catch_up(context, list_id, &mut report).await {
            report.failed_lists += 1;
            context.clickup.metrics().reconciled("tasks", "failed");
            tracing::warn!(list_id = %list_id, error = %error, "reconciling a List failed; the next pass tries again");
        }
    }
    Ok(report)
}

/// Publishes the List's changes since its cursor that the router has not seen, then moves
/// the cursor to the newest `date_updated` read and forgets the versions up to it.
async fn catch_up(
    context: &Context,
    list_id: &str,
    report: &mut Report,
) -> Result<(), ReconcileError> {
    let since = match cursor::get(&context.store, list_id).await? {
        Some(at) => at,
        None => Utc::now().timestamp_millis() - FIRST_LOOKBACK_MS,
    };
    let tasks = context
        .clickup
        .list_tasks_updated_after(list_id, since)
        .await?;
    let read = changed_since(list_id, &tasks, since);

    for change in &read {
        let seen = versions::seen(&context.store, &change.task_id).await?;
        if !versions::publishes(change.date_updated, seen) {
            report.seen += 1;
            continue;
        }
        report.changed += 1;
        match publish(context, change).await? {
            true => {
                report.published += 1;
                context.clickup.metrics().reconciled("tasks", "published");
            }
            false => report.already_published += 1,
        }
    }

    if let Some(newest) = read.iter().map(|c| c.date_updated).max() {
        cursor::advance(&context.store, list_id, newest).await?;
        versions::forget_up_to(&context.store, list_id, newest).await?;
    }
    Ok(())
}

/// Publishes one change unless its id was published before; `true` when this call did.
async fn publish(context: &Context, change: &Change) -> Result<bool, ReconcileError> {
    let mut envelope = envelope(change);
    let key = envelope.dedup_key();
    match context.store.claim_receipt(&key, CLAIM_LEASE).await? {
        Claim::New => {}
        Claim::Accepted => return Ok(false),
        Claim::InFlight => {
            return Err(ReconcileError::Incomplete(format!(
                "event {key} is being published by another process"
            )))
        }
    }

    envelope.acceptedat = Some(Utc::now().timestamp_millis());
    if let Err(error) = context.publisher.publish(&envelope).await {
        context.store.release_receipt(&key).await?;
        return Err(error.into());
    }
    context
        .store
        .accept_receipt_with(&key, &received(&envelope, "reconcile"))
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;

    fn change(task_id: &str, date_updated: i64, stands_for: &'static str) -> Change {
        Change {
            task_id: task_id.into(),
            list_id: "901".into(),
            date_updated,
            stands_for,
        }
    }

    #[test]
    fn only_tasks_updated_after_the_cursor_are_changes_oldest_first() {
        let cursor = 1_000;
        let tasks = [
            json!({"id": "late", "date_created": "900", "date_updated": "1300"}),
            json!({"id": "new", "date_created": "1100", "date_updated": "1200"}),
            json!({"id": "at_cursor", "date_created": "500", "date_updated": "1000"}),
            json!({"id": "old", "date_created": "500", "date_updated": "999"}),
            json!({"id": 123456789012345678_u64, "date_created": 1001, "date_updated": 1001}),
            json!({"id": "no_time", "date_created": "1100"}),
            json!({"date_updated": "1500"}),
            json!({"id": "float", "date_updated": 1.5e3}),
        ];
        let expected = vec![
            change("123456789012345678", 1001, "taskCreated"),
            change("new", 1200, "taskCreated"),
            change("late", 1300, "taskUpdated"),
        ];

        assert_eq!(changed_since("901", &tasks, cursor), expected);
    }

    #[test]
    fn a_task_version_has_one_event_id_and_another_version_another() {
        let cases = [
            (("86a1", 1_700_000_000_000), "86a1:1700000000000"),
            (("86a1", 1_700_000_000_001), "86a1:1700000000001"),
            (("86a2", 1_700_000_000_000), "86a2:1700000000000"),
        ];
        for ((task, at), expected) in cases {
            assert_eq!(event_id(task, at), expected);
        }

        let first = envelope(&change("86a1", 1_700_000_000_000, "taskCreated"));
        let again = envelope(&change("86a1", 1_700_000_000_000, "taskCreated"));
        assert_eq!(first.dedup_key(), again.dedup_key());
        assert_eq!(
            first.dedup_key(),
            "urn:clickup:reconcile 86a1:1700000000000"
        );
        assert_eq!(first.routingkey, "clickup.reconcile.taskChanged");
        assert_eq!(first.subject.as_deref(), Some("task:86a1"));
        let data: Value = serde_json::from_str(first.data.get()).unwrap();
        assert_eq!(
            data,
            json!({"event": "taskCreated", "reconciled": true, "task_id": "86a1",
                   "list_id": "901", "date_updated": "1700000000000"})
        );
    }

    #[test]
    fn watched_lists_are_the_known_webhooks_lists_the_intake_and_the_assignment_lists() {
        let rules =
            RuleSet::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap();
        let webhook = |id: &str, list: Option<&str>| Webhook {
            id: id.into(),
            endpoint: "https://router.example/webhooks/clickup".into(),
            events: vec!["*".into()],
            list_id: list.map(str::to_owned),
            status: "active".into(),
            fail_count: 0,
        };
        let listed = [
            webhook("ours", Some("111")),
            webhook("ours-too", None),
            webhook("someone-elses", Some("222")),
        ];
        let known = vec!["ours".to_owned(), "ours-too".to_owned()];

        let lists: Vec<String> = watched_lists(&listed, &known, &rules).into_iter().collect();

        let intake = rules.access_policy().unwrap().intake.list_id.clone();
        let mut expected = vec![
            "111".to_owned(),
            intake,
            "901100000950".into(),
            "901100000960".into(),
            "901100000970".into(),
        ];
        expected.sort();
        expected.dedup();
        assert_eq!(lists, expected);
    }
}
