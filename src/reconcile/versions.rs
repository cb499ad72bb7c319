//! The task versions the router has seen (`task_versions`): for each task, the time of the
//! newest change the task lane processed and the List it was on. The lane writes it for
//! every task event it settles (its history item's `date`, echoes of the router's own changes
//! included, since they move `date_updated` too) and for every reconciled event (its
//! `date_updated`); a reconcile pass publishes a task only when ClickUp shows a `date_updated`
//! newer than the version seen ([`publishes`]).
//!
//! Invariants: a task's version only ever moves forward, whoever writes (the lane on two
//! consumers, or a replay of an old event, cannot move it back); a version at or before its
//! List's cursor decides nothing any more (every task a later pass reads is newer than the
//! cursor), so a pass prunes those rows ([`forget_up_to`]).

use serde_json::Value;

use super::cursor::{id_text, millis};
use crate::store::{Store, StoreError};

/// One task version: the task, its List and the time of the change, in ms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub task_id: String,
    pub list_id: String,
    pub at: i64,
}

/// Pure: the version a task event on the bus stands for: `task_id` with its history item's
/// List (`parent_id`) and `date`; a reconciliation event carries them as `task_id`, `list_id`
/// and `date_updated`. `None` when a part is missing (a `taskDeleted`, or no task).
pub fn seen_in(data: &Value) -> Option<Version> {
    let item = &data["history_item"];
    let (list, at) = match item.is_object() {
        true => (&item["parent_id"], &item["date"]),
        false => (&data["list_id"], &data["date_updated"]),
    };
    Some(Version {
        task_id: id_text(&data["task_id"])?,
        list_id: id_text(list)?,
        at: millis(at)?,
    })
}

/// Pure: whether a pass publishes a task ClickUp shows updated at `date_updated`: only when
/// the router never saw the task, or saw an older version of it.
pub fn publishes(date_updated: i64, seen: Option<i64>) -> bool {
    seen.is_none_or(|seen_at| date_updated > seen_at)
}

/// Records `version` unless the task's recorded version is as new or newer.
pub async fn record(store: &Store, version: &Version) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO task_versions (task_id, list_id, seen_at) VALUES ($1, $2, $3)
         ON CONFLICT (task_id) DO UPDATE
         SET list_id = excluded.list_id, seen_at = excluded.seen_at
         WHERE task_versions.seen_at < excluded.seen_at",
    )
    .bind(&version.task_id)
    .bind(&version.list_id)
    .bind(version.at)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The time of the newest version of the task the router has seen, if any.
pub async fn seen(store: &Store, task_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT seen_at FROM task_versions WHERE task_id = $1")
            .bind(task_id)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Forgets the versions seen on the List at or before `cursor`; returns how many.
pub async fn forget_up_to(store: &Store, list_id: &str, cursor: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM task_versions WHERE list_id = $1 AND seen_at <= $2")
        .bind(list_id)
        .bind(cursor)
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_version_of_an_event_is_its_task_with_its_history_items_list_and_time() {
        let version = |task: &str, list: &str, at| {
            Some(Version {
                task_id: task.into(),
                list_id: list.into(),
                at,
            })
        };
        let cases = [
            (
                json!({"task_id": "t1", "history_item": {"parent_id": "901", "date": "1700000000123"}}),
                version("t1", "901", 1_700_000_000_123),
            ),
            (
                json!({"task_id": "t2", "history_item": {"parent_id": 902, "date": 1700000000124_i64}}),
                version("t2", "902", 1_700_000_000_124),
            ),
            (
                json!({"reconciled": true, "task_id": "t3", "list_id": "903", "date_updated": "5"}),
                version("t3", "903", 5),
            ),
            (
                json!({"task_id": "t1", "history_item": {"parent_id": "901"}}),
                None,
            ),
            (
                json!({"task_id": "t1", "history_item": {"parent_id": 1.5, "date": "1"}}),
                None,
            ),
            (
                json!({"history_item": {"parent_id": "901", "date": "1"}}),
                None,
            ),
            (json!({"event": "taskDeleted", "task_id": "t1"}), None),
            (json!({"event": "listCreated"}), None),
        ];
        for (data, expected) in cases {
            assert_eq!(seen_in(&data), expected, "{data}");
        }
    }

    #[test]
    fn a_pass_publishes_a_task_only_when_it_changed_after_the_version_seen() {
        let cases = [
            (1_000, None, true, "never seen"),
            (1_000, Some(999), true, "changed after the version seen"),
            (1_000, Some(1_000), false, "the version seen"),
            (
                1_000,
                Some(1_001),
                false,
                "an older version than the one seen",
            ),
            (0, None, true, "never seen, at the epoch"),
        ];
        for (date_updated, seen, expected, case) in cases {
            assert_eq!(publishes(date_updated, seen), expected, "{case}");
        }
    }

    #[tokio::test]
    async fn a_version_only_moves_forward_and_those_up_to_the_cursor_are_forgotten() {
        let (store, _dir) = crate::store::temp_store().await;
        let version = |task: &str, list: &str, at| Version {
            task_id: task.into(),
            list_id: list.into(),
            at,
        };
        let steps = [
            (version("x", "901", 10), 10),
            (version("x", "901", 30), 30),
            (version("x", "901", 20), 30),
            (version("x", "902", 40), 40),
        ];
        for (seen_now, expected) in steps {
            record(&store, &seen_now).await.unwrap();
            assert_eq!(
                seen(&store, "x").await.unwrap(),
                Some(expected),
                "{seen_now:?}"
            );
        }
        record(&store, &version("y", "901", 50)).await.unwrap();
        record(&store, &version("z", "901", 60)).await.unwrap();

        assert_eq!(forget_up_to(&store, "901", 50).await.unwrap(), 1);

        assert_eq!(
            seen(&store, "x").await.unwrap(),
            Some(40),
            "on another List now"
        );
        assert_eq!(seen(&store, "y").await.unwrap(), None);
        assert_eq!(seen(&store, "z").await.unwrap(), Some(60));
        assert_eq!(seen(&store, "never").await.unwrap(), None);
    }
}
