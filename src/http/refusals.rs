//! Refused deliveries in the audit trail, bounded: at most [`ROWS_PER_SECOND`] rows per
//! reason and second; the refusals over the bound are counted and the count travels in the
//! next row of that reason (`suppressed_before`), so a flood can neither fill the disk nor
//! slow the receiver, and nothing goes uncounted.
//!
//! A row holds the reason code, the HTTP status, the source, and the webhook id (only when it
//! names a configured webhook) or the IAM message id (only when it looks like an id): never
//! the body, a signature, or the client's address.

use std::{collections::HashMap, sync::Mutex};

use chrono::Utc;
use serde_json::json;
use tracing::error;

use super::ReceiverError;
use crate::store::{AuditEntry, Store};

/// Rows written per reason and second; further refusals are counted.
pub const ROWS_PER_SECOND: u32 = 5;

/// How many refusals of one reason, in the current second, have been written and skipped.
#[derive(Clone, Copy, Debug, Default)]
struct Window {
    second: i64,
    written: u32,
    suppressed: u64,
}

/// The bound on refusal rows, per reason.
#[derive(Debug, Default)]
pub struct RefusalBound {
    windows: Mutex<HashMap<&'static str, Window>>,
}

impl RefusalBound {
    /// Whether a refusal of `reason` at `now_ms` gets a row; `Some(n)` carries how many were
    /// suppressed before it (and resets that count), `None` means this one is counted only.
    pub fn admit(&self, reason: &'static str, now_ms: i64) -> Option<u64> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let window = windows.entry(reason).or_default();

        let second = now_ms.div_euclid(1000);
        if window.second != second {
            window.second = second;
            window.written = 0;
        }
        if window.written >= ROWS_PER_SECOND {
            window.suppressed += 1;
            return None;
        }

        window.written += 1;
        Some(std::mem::take(&mut window.suppressed))
    }
}

/// Who sent a refused delivery, as far as it is known.
#[derive(Clone, Debug, Default)]
pub struct Sender {
    pub source: &'static str,
    /// A configured ClickUp webhook id.
    pub webhook_id: Option<String>,
    /// The Standard Webhooks `webhook-id` header, when it looks like an id.
    pub message_id: Option<String>,
}

/// Appends the refusal's row unless the bound suppresses it.
pub async fn record(store: &Store, bound: &RefusalBound, sender: &Sender, refused: &ReceiverError) {
    let Some(status) = refused.refusal_status() else {
        return;
    };
    let reason = refused.code();
    let Some(suppressed_before) = bound.admit(reason, Utc::now().timestamp_millis()) else {
        return;
    };

    let id = uuid::Uuid::new_v4().simple().to_string();
    let actor = match (&sender.webhook_id, sender.source) {
        (Some(webhook_id), _) => format!("clickup:{webhook_id}"),
        (None, source) => format!("{source}:unverified"),
    };
    let mut detail = json!({
        "reason": reason,
        "status": status,
        "suppressed_before": suppressed_before,
    });
    if let ReceiverError::Invalid { field, .. } = refused {
        detail["field"] = json!(field);
    }
    if let Some(message_id) = &sender.message_id {
        detail["message_id"] = json!(message_id);
    }
    let entry = AuditEntry {
        actor,
        action: "event.refused".into(),
        subject: None,
        object: sender.webhook_id.as_ref().map(|id| format!("webhook:{id}")),
        outcome: "refused".into(),
        correlation_id: format!("refused:{id}"),
        event_id: sender
            .message_id
            .clone()
            .unwrap_or_else(|| format!("refused:{id}")),
        detail,
    };
    if let Err(e) = store.append_audit(&entry).await {
        error!(error = %e, "could not record a refused delivery");
    }
}

/// A header value kept as an id only when it is short and plain (`msg_…`, UUIDs).
pub fn plain_id(value: Option<&str>) -> Option<String> {
    value
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .filter(|v| {
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_bound_per_reason_and_second_with_the_rest_counted() {
        let bound = RefusalBound::default();
        let t = 1_700_000_000_000;
        // (reason, time, expected)
        let mut cases: Vec<(&'static str, i64, Option<u64>)> = Vec::new();
        for i in 0..ROWS_PER_SECOND {
            cases.push(("signature_rejected", t + i as i64, Some(0)));
        }
        cases.extend([
            ("signature_rejected", t + 10, None),
            ("signature_rejected", t + 999, None),
            // Another reason has its own bound.
            ("malformed_json", t + 999, Some(0)),
            // The next second writes again and carries the two suppressed.
            ("signature_rejected", t + 1_000, Some(2)),
            ("signature_rejected", t + 1_001, Some(0)),
        ]);

        for (n, (reason, at, expected)) in cases.into_iter().enumerate() {
            assert_eq!(
                bound.admit(reason, at),
                expected,
                "case {n}: {reason} at {at}"
            );
        }
    }

    #[test]
    fn a_flood_writes_a_bounded_number_of_rows() {
        let bound = RefusalBound::default();
        let start = 1_700_000_000_000;

        let written = (0..100_000)
            .filter(|i| bound.admit("payload_too_large", start + i / 100).is_some())
            .count();

        // 100,000 refusals over 1,000 ms: one second's worth of rows.
        assert_eq!(written, ROWS_PER_SECOND as usize);
    }

    #[test]
    fn only_plain_short_ids_are_kept() {
        let cases = [
            (Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"), true),
            (Some("a1b2c3d4-0000-4000-8000-00000000abcd"), true),
            (Some("someone@example.com"), false),
            (Some("<script>"), false),
            (Some(""), false),
            (None, false),
        ];
        for (value, kept) in cases {
            assert_eq!(plain_id(value).is_some(), kept, "{value:?}");
        }
        assert!(plain_id(Some(&"x".repeat(65))).is_none());
    }
}
