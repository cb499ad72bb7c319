//! `dlq list`, `dlq show ID` (read-only: the store is opened read-only), `dlq replay ID`,
//! `dlq replay --all` and `dlq drop ID` (through `worker::dead_letters::replay`, audited with
//! the actor `cli:<user>`).

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat};

use crate::{
    bus::Bus,
    config::{BusSettings, StoreSettings},
    store::{DeadLetterDetail, DeadLetterRecord, LetterState, Store},
    worker::dead_letters::replay::Replayer,
};

/// `dlq list`: one line per dead letter in `state` (every state when `None`), oldest first.
pub async fn list(
    settings: &StoreSettings,
    limit: u32,
    after: Option<i64>,
    state: Option<LetterState>,
) -> anyhow::Result<()> {
    let store = open(settings).await?;

    let letters = store
        .dead_letters(limit, after, state)
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

/// `dlq replay ID`, or every open letter (`None`), batch by batch until none is left or the
/// broker refuses.
pub async fn replay(
    store: &StoreSettings,
    bus: BusSettings,
    id: Option<i64>,
    by: &str,
) -> anyhow::Result<()> {
    let replayer = replayer(store, bus).await?;
    let actor = format!("cli:{by}");

    let Some(id) = id else {
        return replay_all(&replayer, &actor).await;
    };
    let replayed = replayer.replay(id, &actor).await?;
    println!(
        "dead letter {id} replayed ({}, routing key {}, replay {} of this message)",
        replayed.message_id.as_deref().unwrap_or("-"),
        replayed.routing_key,
        replayed.replays
    );
    Ok(())
}

async fn replay_all(replayer: &Replayer, actor: &str) -> anyhow::Result<()> {
    let (mut after, mut replayed, mut skipped) = (0, 0, 0);
    loop {
        let batch = replayer.replay_open(after, actor).await?;

        for letter in &batch.replayed {
            println!("dead letter {} replayed", letter.id);
        }
        for letter in &batch.skipped {
            println!("dead letter {} left open: {}", letter.id, letter.error);
        }
        replayed += batch.replayed.len();
        skipped += batch.skipped.len();
        if let Some(error) = batch.broker_error {
            anyhow::bail!("{error}; {replayed} replayed, {} still open", batch.open);
        }
        if !batch.full {
            println!(
                "{replayed} replayed, {skipped} left open, {} open",
                batch.open
            );
            return Ok(());
        }
        after = batch.last_id;
    }
}

/// `dlq drop ID`: the letter is kept as `dropped`, never replayed.
pub async fn drop(store: &StoreSettings, id: i64, by: &str) -> anyhow::Result<()> {
    let store = Store::open(store).await.context("opening the store")?;

    let dropped =
        crate::worker::dead_letters::replay::drop(&store, id, &format!("cli:{by}"), "cli").await?;
    println!(
        "dead letter {id} dropped ({})",
        dropped.message_id.as_deref().unwrap_or("-")
    );
    Ok(())
}

async fn replayer(store: &StoreSettings, bus: BusSettings) -> anyhow::Result<Replayer> {
    let store = Store::open(store).await.context("opening the store")?;
    // Without AMQP_URL, into the embedded engine's queues in this store, for its worker.
    let publisher = Arc::new(Bus::from_settings(&bus, &store)?);
    Ok(Replayer {
        store,
        publisher,
        via: "cli",
    })
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
        "{:<6} {:<8} {:<20} {:<12} {:<15} {:<22} {:>8}  {}\n",
        "id", "state", "recorded", "lane", "reason", "error", "attempts", "message"
    );
    for letter in letters {
        out.push_str(&format!(
            "{:<6} {:<8} {:<20} {:<12} {:<15} {:<22} {:>8}  {}\n",
            letter.id,
            letter.state.as_str(),
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

/// The state with when and by whom it was reached.
fn state_line(letter: &DeadLetterRecord) -> String {
    let by = |at: Option<i64>, by: &Option<String>| {
        format!(
            "{} by {}",
            at.map(time).unwrap_or_else(|| "-".into()),
            or_dash(by.as_deref())
        )
    };
    match letter.state {
        LetterState::Open => "open".into(),
        LetterState::Replayed => format!(
            "replayed {} (replay {} of this message)",
            by(letter.replayed_at, &letter.replayed_by),
            letter.replays
        ),
        LetterState::Dropped => format!("dropped {}", by(letter.dropped_at, &letter.dropped_by)),
    }
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
    line("state", &state_line(letter));

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
            state: LetterState::Open,
            replayed_at: None,
            replayed_by: None,
            replays: 0,
            dropped_at: None,
            dropped_by: None,
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
            "open",
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
    fn the_detail_says_the_state_when_and_by_whom() {
        let mut replayed = record(3, Some("provision"), None);
        replayed.state = LetterState::Replayed;
        replayed.replayed_at = Some(1_767_225_700_000);
        replayed.replayed_by = Some("cli:ops".into());
        replayed.replays = 2;
        let mut dropped = record(4, Some("provision"), None);
        dropped.state = LetterState::Dropped;
        dropped.dropped_at = Some(1_767_225_700_000);
        dropped.dropped_by = Some("iam-sub-1".into());
        let cases = [
            (record(2, None, None), "state            open\n"),
            (
                replayed,
                "state            replayed 2026-01-01T00:01:40Z by cli:ops (replay 2 of this message)\n",
            ),
            (
                dropped,
                "state            dropped 2026-01-01T00:01:40Z by iam-sub-1\n",
            ),
        ];
        for (record, expected) in cases {
            let detail = DeadLetterDetail {
                record,
                envelope: Vec::new(),
            };
            let text = format_detail(&detail, false);
            assert!(text.contains(expected), "{expected} in {text}");
        }
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
