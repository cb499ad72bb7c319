//! `dlq list` and `dlq show ID`: the dead letters on record, read-only (the store is opened
//! read-only, nothing is replayed or dropped; those come with #7).

use anyhow::Context;
use chrono::{DateTime, SecondsFormat};

use crate::{
    config::StoreSettings,
    store::{DeadLetterDetail, DeadLetterRecord, Store},
};

/// `dlq list`: one line per dead letter, oldest first.
pub async fn list(settings: &StoreSettings, limit: u32, after: Option<i64>) -> anyhow::Result<()> {
    let store = open(settings).await?;

    let letters = store
        .dead_letters(limit, after)
        .await
        .context("reading the dead letters (has a worker of this version run on the store?)")?;

    print!("{}", format_list(&letters));
    Ok(())
}

/// `dlq show ID`: one dead letter; its envelope only when asked for.
pub async fn show(settings: &StoreSettings, id: i64, envelope: bool) -> anyhow::Result<()> {
    let store = open(settings).await?;

    let letter = store
        .dead_letter(id)
        .await
        .context("reading the dead letter")?
        .with_context(|| format!("no dead letter {id} on record"))?;

    print!("{}", format_detail(&letter, envelope));
    Ok(())
}

async fn open(settings: &StoreSettings) -> anyhow::Result<Store> {
    Store::open_read_only(settings)
        .await
        .with_context(|| format!("opening {} read-only", settings.database_url))
}

fn time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

/// The table `dlq list` prints.
pub fn format_list(letters: &[DeadLetterRecord]) -> String {
    if letters.is_empty() {
        return "no dead letters on record\n".into();
    }
    let mut out = format!(
        "{:<6} {:<20} {:<12} {:<15} {:<22} {:>8}  {}\n",
        "id", "recorded", "lane", "reason", "error", "attempts", "message"
    );
    for letter in letters {
        out.push_str(&format!(
            "{:<6} {:<20} {:<12} {:<15} {:<22} {:>8}  {}\n",
            letter.id,
            time(letter.recorded_at),
            or_dash(letter.lane.as_deref()),
            letter.reason,
            or_dash(letter.error_code.as_deref()),
            letter.attempts,
            or_dash(letter.message_id.as_deref()),
        ));
    }
    out
}

/// What `dlq show` prints.
pub fn format_detail(detail: &DeadLetterDetail, with_envelope: bool) -> String {
    let letter = &detail.record;
    let mut out = String::new();
    let mut line = |name: &str, value: &str| out.push_str(&format!("{name:<16} {value}\n"));
    line("id", &letter.id.to_string());
    line("message", or_dash(letter.message_id.as_deref()));
    line("lane", or_dash(letter.lane.as_deref()));
    line("queue", or_dash(letter.source_queue.as_deref()));
    line("routing key", &letter.routing_key);
    line("reason", &letter.reason);
    line("error code", or_dash(letter.error_code.as_deref()));
    line("error", or_dash(letter.error.as_deref()));
    line("attempts", &letter.attempts.to_string());
    line("first failure", &time(letter.first_failed_at));
    line("last failure", &time(letter.last_failed_at));
    line("recorded", &time(letter.recorded_at));

    if with_envelope {
        let pretty = serde_json::from_slice::<serde_json::Value>(&detail.envelope)
            .ok()
            .and_then(|json| serde_json::to_string_pretty(&json).ok())
            .unwrap_or_else(|| String::from_utf8_lossy(&detail.envelope).into_owned());
        out.push_str(&format!("envelope\n{pretty}\n"));
    } else {
        out.push_str("envelope         (not shown: add --envelope)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, lane: Option<&str>, error_code: Option<&str>) -> DeadLetterRecord {
        DeadLetterRecord {
            id,
            message_id: Some(format!("evt-{id}")),
            lane: lane.map(String::from),
            source_queue: lane.map(|l| format!("cir.{l}")),
            routing_key: "iam.user.terminated".into(),
            reason: "rejected".into(),
            error_code: error_code.map(String::from),
            error: error_code.map(|_| "workspace 9 is on the business plan".into()),
            attempts: 3,
            first_failed_at: 1_767_225_600_000,
            last_failed_at: 1_767_225_660_000,
            recorded_at: 1_767_225_661_000,
        }
    }

    #[test]
    fn the_list_has_one_line_per_letter_and_says_when_there_is_none() {
        let letters = [
            record(1, Some("deprovision"), Some("enterprise_required")),
            record(2, None, None),
        ];

        let table = format_list(&letters);
        let lines: Vec<&str> = table.lines().collect();

        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[1].starts_with("1 "), "{table}");
        for expected in [
            "2026-01-01T00:01:01Z",
            "deprovision",
            "enterprise_required",
            "evt-1",
        ] {
            assert!(lines[1].contains(expected), "{expected} in {table}");
        }
        assert!(lines[2].contains(" - "), "{table}");
        assert_eq!(format_list(&[]), "no dead letters on record\n");
    }

    #[test]
    fn the_envelope_is_shown_only_when_asked_for() {
        let detail = DeadLetterDetail {
            record: record(7, Some("provision"), Some("refused")),
            envelope: br#"{"id":"evt-7","data":{"email":"jane@example.com"}}"#.to_vec(),
        };
        let cases = [(false, false), (true, true)];
        for (asked, shown) in cases {
            let text = format_detail(&detail, asked);

            assert!(
                text.contains("first failure    2026-01-01T00:00:00Z"),
                "{text}"
            );
            assert!(text.contains("error code       refused"), "{text}");
            assert_eq!(text.contains("jane@example.com"), shown, "{text}");
        }
    }
}
