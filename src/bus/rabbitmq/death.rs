//! Reads RabbitMQ's dead-lettering headers into a [`Death`]: the newest `x-death` entry
//! (queue, reason, count, time), else `x-first-death-queue`/`-reason`, and
//! `x-delivery-count`. Integers may arrive in any AMQP width. A message the router
//! dead-lettered itself (retries exhausted, or a retried copy failing for good) says so in
//! its own headers (`x-cir-dead-*`, `x-cir-retry`), which win over the broker's: the
//! `x-death` it carries then only tells of its waits in the delay queues.

use lapin::types::{AMQPValue, FieldTable};

use super::retry::{DEAD_AT_HEADER, DEAD_QUEUE_HEADER, DEAD_REASON_HEADER, RETRY_HEADER};
use crate::bus::{dead::REPLAY_HEADER, Death};

/// What the headers say of the message's death; missing or odd headers give `None` fields.
pub(super) fn death_of(headers: Option<&FieldTable>) -> Death {
    let empty = FieldTable::default();
    let headers = headers.unwrap_or(&empty);
    let header = |name: &str| headers.inner().get(name);

    if let Some(reason) = header(DEAD_REASON_HEADER).and_then(text) {
        return Death {
            queue: header(DEAD_QUEUE_HEADER).and_then(text),
            reason: Some(reason),
            count: 1,
            first_at: header(DEAD_AT_HEADER)
                .and_then(integer)
                .and_then(|ms| i64::try_from(ms).ok()),
            delivery_count: header(RETRY_HEADER).and_then(integer),
            replay: header(REPLAY_HEADER).and_then(text),
        };
    }

    // RabbitMQ keeps the most recent death first.
    let newest = header("x-death")
        .and_then(AMQPValue::as_array)
        .and_then(|deaths| deaths.as_slice().first())
        .and_then(AMQPValue::as_field_table);
    let field = |name: &str| newest.and_then(|entry| entry.inner().get(name));

    Death {
        queue: field("queue")
            .or_else(|| header("x-first-death-queue"))
            .and_then(text),
        reason: field("reason")
            .or_else(|| header("x-first-death-reason"))
            .and_then(text),
        count: field("count").and_then(integer).unwrap_or(1).max(1),
        first_at: field("time").and_then(AMQPValue::as_timestamp).map(|secs| {
            i64::try_from(secs)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000)
        }),
        delivery_count: header("x-delivery-count").and_then(integer),
        replay: header(REPLAY_HEADER).and_then(text),
    }
}

fn text(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(s.to_string()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        _ => None,
    }
}

pub(super) fn integer(value: &AMQPValue) -> Option<u64> {
    let signed = match value {
        AMQPValue::ShortShortInt(v) => i64::from(*v),
        AMQPValue::ShortShortUInt(v) => i64::from(*v),
        AMQPValue::ShortInt(v) => i64::from(*v),
        AMQPValue::ShortUInt(v) => i64::from(*v),
        AMQPValue::LongInt(v) => i64::from(*v),
        AMQPValue::LongUInt(v) => i64::from(*v),
        AMQPValue::LongLongInt(v) => *v,
        _ => return None,
    };
    u64::try_from(signed).ok()
}

#[cfg(test)]
mod tests {
    use lapin::types::{FieldArray, LongString};

    use super::*;

    fn long(s: &str) -> AMQPValue {
        AMQPValue::LongString(LongString::from(s))
    }

    fn table(entries: Vec<(&str, AMQPValue)>) -> FieldTable {
        let mut table = FieldTable::default();
        for (key, value) in entries {
            table.insert(key.into(), value);
        }
        table
    }

    fn x_death(entries: Vec<FieldTable>) -> AMQPValue {
        AMQPValue::FieldArray(FieldArray::from(
            entries
                .into_iter()
                .map(AMQPValue::FieldTable)
                .collect::<Vec<_>>(),
        ))
    }

    #[test]
    fn deaths_are_read_from_the_headers_rabbitmq_sets() {
        let rejected = table(vec![
            ("queue", long("cir.deprovision")),
            ("reason", long("rejected")),
            ("count", AMQPValue::LongLongInt(1)),
            ("time", AMQPValue::Timestamp(1_767_225_600)),
        ]);
        let limited = table(vec![
            ("queue", long("cir.provision")),
            ("reason", long("delivery_limit")),
            ("count", AMQPValue::LongUInt(3)),
        ]);
        let older = table(vec![
            ("queue", long("cir.clickup")),
            ("reason", long("expired")),
        ]);
        let cases = [
            (
                "x-death",
                Some(table(vec![("x-death", x_death(vec![rejected]))])),
                Death {
                    queue: Some("cir.deprovision".into()),
                    reason: Some("rejected".into()),
                    count: 1,
                    first_at: Some(1_767_225_600_000),
                    delivery_count: None,
                    replay: None,
                },
            ),
            (
                "newest first, with a delivery count",
                Some(table(vec![
                    ("x-death", x_death(vec![limited, older])),
                    ("x-delivery-count", AMQPValue::LongLongInt(5)),
                ])),
                Death {
                    queue: Some("cir.provision".into()),
                    reason: Some("delivery_limit".into()),
                    count: 3,
                    first_at: None,
                    delivery_count: Some(5),
                    replay: None,
                },
            ),
            (
                "a replayed message",
                Some(table(vec![
                    ("x-first-death-reason", long("rejected")),
                    (REPLAY_HEADER, long("7:1767225600000")),
                ])),
                Death {
                    reason: Some("rejected".into()),
                    count: 1,
                    replay: Some("7:1767225600000".into()),
                    ..Death::default()
                },
            ),
            (
                "first-death headers only",
                Some(table(vec![
                    ("x-first-death-queue", long("cir.approvals")),
                    (
                        "x-first-death-reason",
                        AMQPValue::ShortString("rejected".into()),
                    ),
                ])),
                Death {
                    queue: Some("cir.approvals".into()),
                    reason: Some("rejected".into()),
                    count: 1,
                    ..Death::default()
                },
            ),
            (
                "odd types",
                Some(table(vec![
                    ("x-death", long("not an array")),
                    ("x-delivery-count", long("5")),
                ])),
                Death {
                    count: 1,
                    ..Death::default()
                },
            ),
            (
                "dead-lettered by the router after its retries",
                Some(table(vec![
                    (
                        "x-death",
                        x_death(vec![table(vec![
                            ("queue", long("cir.retry.10s")),
                            ("reason", long("expired")),
                        ])]),
                    ),
                    ("x-cir-dead-reason", long("retries_exhausted")),
                    ("x-cir-dead-queue", long("cir.deprovision")),
                    ("x-cir-dead-at", AMQPValue::LongLongInt(1_767_225_600_123)),
                    ("x-cir-retry", AMQPValue::LongLongInt(4)),
                    ("x-cir-replay", long("replay-2")),
                ])),
                Death {
                    queue: Some("cir.deprovision".into()),
                    reason: Some("retries_exhausted".into()),
                    count: 1,
                    first_at: Some(1_767_225_600_123),
                    delivery_count: Some(4),
                    replay: Some("replay-2".into()),
                },
            ),
            (
                "no headers",
                None,
                Death {
                    count: 1,
                    ..Death::default()
                },
            ),
        ];
        for (name, headers, expected) in cases {
            assert_eq!(death_of(headers.as_ref()), expected, "{name}");
        }
    }
}
