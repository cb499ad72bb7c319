//! The "last event seen" on each watched List: a time in ms in the store's `settings`
//! (`reconcile.list:<id>`), as the audit-log poller keeps its cursor. The task lane moves it
//! with every ClickUp event it processes for the List (the history item's time), and each
//! reconcile pass to the newest `date_updated` it read; it only ever moves forward, whoever
//! writes, so a pass and the lane racing cannot move it back.

use serde_json::Value;

use crate::store::{Store, StoreError};

/// The setting holding a List's cursor.
pub fn setting_name(list_id: &str) -> String {
    format!("reconcile.list:{list_id}")
}

/// The List's cursor, when one was ever written.
pub async fn get(store: &Store, list_id: &str) -> Result<Option<i64>, StoreError> {
    let value = store.setting(&setting_name(list_id)).await?;
    Ok(value.and_then(|v| v.parse().ok()))
}

/// Moves the List's cursor to `at`, unless it is already there or later.
// FIXME(#7): a delivery ClickUp dropped (five failed tries) followed by one it delivered on
// the same List moves the cursor past the dropped change, so no pass reads it; keeping the
// task versions the lane saw and reading a window behind the cursor would fix it.
pub async fn advance(store: &Store, list_id: &str, at: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value
         WHERE CAST(settings.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
    )
    .bind(setting_name(list_id))
    .bind(at.to_string())
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The List and time of a task event on the bus (`history_item.parent_id` and `.date`), when
/// it has both; a reconciliation event carries them as `list_id` and `date_updated`.
pub fn seen_in(data: &Value) -> Option<(String, i64)> {
    let item = &data["history_item"];
    let (list, at) = match item.is_object() {
        true => (&item["parent_id"], &item["date"]),
        false => (&data["list_id"], &data["date_updated"]),
    };
    Some((id_text(list)?, millis(at)?))
}

/// A time in ms, from a JSON integer or a string of digits (ClickUp sends both).
pub fn millis(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
}

/// An id from a JSON string or integer, never through a float.
pub fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) if number.is_u64() => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_list_and_time_of_an_event_are_read_from_its_history_item() {
        let cases = [
            (
                json!({"task_id": "t1", "history_item": {"parent_id": "901", "date": "1700000000123"}}),
                Some(("901", 1_700_000_000_123)),
            ),
            (
                json!({"history_item": {"parent_id": 902, "date": 1700000000124_i64}}),
                Some(("902", 1_700_000_000_124)),
            ),
            (
                json!({"reconciled": true, "list_id": "903", "date_updated": "5"}),
                Some(("903", 5)),
            ),
            (json!({"history_item": {"parent_id": "901"}}), None),
            (
                json!({"history_item": {"parent_id": 1.5, "date": "1"}}),
                None,
            ),
            (json!({"event": "listCreated"}), None),
        ];
        for (data, expected) in cases {
            let expected = expected.map(|(list, at)| (list.to_owned(), at));
            assert_eq!(seen_in(&data), expected, "{data}");
        }
    }
}
