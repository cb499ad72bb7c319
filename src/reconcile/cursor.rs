//! Each watched List's reconcile cursor: a time in ms in the store's `settings`
//! (`reconcile.list:<id>`), the newest `date_updated` a reconcile pass read on the List, so
//! the next pass reads what changed since. Only passes move it (the task lane records the
//! task versions it saw instead, `reconcile::versions`): a change ClickUp never delivered
//! stays after the cursor until a pass has read it, whatever was delivered after it. It only
//! ever moves forward, so two passes racing (the CLI and the worker) cannot move it back.

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
pub async fn advance(store: &Store, list_id: &str, at: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value
         WHERE CAST(settings.value AS BIGINT) < CAST(excluded.value AS BIGINT)",
    )
    .bind(setting_name(list_id))
    .bind(at.to_string())
    .execute(store.pool())
    .await?;
    Ok(())
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
    fn ids_and_times_are_read_from_strings_or_integers_never_floats() {
        let cases = [
            (json!("86a1"), Some("86a1"), None),
            (
                json!("1700000000123"),
                Some("1700000000123"),
                Some(1_700_000_000_123),
            ),
            (json!(901_u64), Some("901"), Some(901)),
            (json!(""), None, None),
            (json!(1.5), None, None),
            (json!(-3), None, Some(-3)),
            (json!(null), None, None),
        ];
        for (value, id, time) in cases {
            assert_eq!(id_text(&value).as_deref(), id, "{value}");
            assert_eq!(millis(&value), time, "{value}");
        }
    }

    #[tokio::test]
    async fn a_cursor_only_moves_forward() {
        let (store, _dir) = crate::store::temp_store().await;
        assert_eq!(get(&store, "901").await.unwrap(), None);

        for (at, expected) in [(100, 100), (1_000, 1_000), (999, 1_000), (1_000, 1_000)] {
            advance(&store, "901", at).await.unwrap();
            assert_eq!(get(&store, "901").await.unwrap(), Some(expected), "{at}");
        }
        assert_eq!(
            get(&store, "902").await.unwrap(),
            None,
            "one cursor per List"
        );
    }
}
