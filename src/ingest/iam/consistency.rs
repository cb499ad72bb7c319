//! Checks on an IAM event that a JSON Schema cannot express: the event's `subject` names the
//! person its data is about, and its `time` is not ahead of the router's clock by more than a
//! small skew (a far-future time would outrank every later event about the person).

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::IamPayloadError;

/// How far an event's `time` may be ahead of the router's clock (skew between IAM sources).
pub const MAX_AHEAD: Duration = Duration::minutes(5);

/// The attributes the router writes to its logs and audit rows as ids: a line break or other
/// control character in one could forge log lines.
const LOGGED: [&str; 9] = [
    "/id",
    "/source",
    "/type",
    "/data/user/id",
    "/subject",
    "/correlationid",
    "/partitionkey",
    "/tenant",
    "/sourcekind",
];

/// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
fn is_control(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Refuses an event (already valid against the schema) whose subject or time cannot be right,
/// naming the field and never echoing its value.
pub fn check(event: &Value, prefix: &str, now: DateTime<Utc>) -> Result<(), IamPayloadError> {
    let refuse = |field: &str, detail: String| IamPayloadError::Schema {
        field: format!("{prefix}/{field}"),
        detail,
    };

    for pointer in LOGGED {
        let control = event
            .pointer(pointer)
            .and_then(Value::as_str)
            .is_some_and(|text| text.chars().any(is_control));
        if control {
            return Err(refuse(
                pointer.trim_start_matches('/'),
                "must not contain control characters (it is an id the router logs)".into(),
            ));
        }
    }

    if let Some(user_id) = event["data"]["user"]["id"].as_str() {
        let subject = event["subject"].as_str().unwrap_or_default();
        if subject.strip_prefix("user:") != Some(user_id) {
            return Err(refuse(
                "subject",
                "must be user:<data.user.id>, the person the event is about".into(),
            ));
        }
    }

    let time = event["time"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    if let Some(time) = time {
        if time.with_timezone(&Utc) > now + MAX_AHEAD {
            return Err(refuse(
                "time",
                format!(
                    "is more than {} minutes ahead of the router's clock",
                    MAX_AHEAD.num_minutes()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(subject: &str, user: Option<&str>, time: &str) -> Value {
        let mut event = json!({ "subject": subject, "time": time, "data": {} });
        if let Some(user) = user {
            event["data"]["user"] = json!({ "id": user });
        }
        event
    }

    #[test]
    fn subject_and_time_are_checked_against_the_data_and_the_clock() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let cases = [
            ("user:abc", Some("abc"), "2026-12-04T12:00:00Z", None),
            ("user:abc", None, "2026-12-04T12:00:00Z", None),
            ("user:abc", Some("abc"), "2020-01-01T00:00:00Z", None),
            ("user:abc", Some("abc"), "2026-12-04T12:05:00Z", None),
            ("user:abc", Some("abc"), "2026-12-04T13:04:59+01:00", None),
            (
                "user:abc",
                Some("abc"),
                "2026-12-04T12:05:01Z",
                Some("/0/time"),
            ),
            (
                "user:abc",
                Some("abc"),
                "2099-01-01T00:00:00Z",
                Some("/0/time"),
            ),
            (
                "user:xyz",
                Some("abc"),
                "2026-12-04T12:00:00Z",
                Some("/0/subject"),
            ),
            (
                "user:abcd",
                Some("abc"),
                "2026-12-04T12:00:00Z",
                Some("/0/subject"),
            ),
            (
                "abc",
                Some("abc"),
                "2026-12-04T12:00:00Z",
                Some("/0/subject"),
            ),
        ];

        for (subject, user, time, refused) in cases {
            let found = check(&event(subject, user, time), "/0", now);

            let field = found.err().map(|e| match e {
                IamPayloadError::Schema { field, detail } => {
                    assert!(!detail.contains(subject) && !detail.contains(time));
                    field
                }
                other => panic!("{other:?}"),
            });
            assert_eq!(field.as_deref(), refused, "{subject} {user:?} {time}");
        }
    }

    #[test]
    fn ids_the_router_logs_refuse_control_characters() {
        let now = Utc::now();
        let cases = [
            (
                "/id",
                "evt-1\nERROR forged: admin token=leaked",
                Some("/0/id"),
            ),
            ("/id", "evt-1\u{0}", Some("/0/id")),
            ("/source", "urn:x\r\ny", Some("/0/source")),
            ("/correlationid", "c\u{1b}[31m", Some("/0/correlationid")),
            ("/tenant", "acme\u{2028}prod", Some("/0/tenant")),
            ("/data/user/id", "abc\u{85}", Some("/0/data/user/id")),
            ("/id", "ACMEIDV1#20260302#1:4d7f-é-ü", None),
            (
                "/correlationid",
                "hire 2026\t0001",
                Some("/0/correlationid"),
            ),
        ];
        for (pointer, value, refused) in cases {
            let mut event = event("user:abc", Some("abc"), &now.to_rfc3339());
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            match parent.is_empty() {
                true => event[key] = json!(value),
                false => event.pointer_mut(parent).unwrap()[key] = json!(value),
            }
            if pointer == "/data/user/id" {
                event["subject"] = json!(format!("user:{value}"));
            }

            let found = check(&event, "/0", now);

            let field = found.err().map(|e| match e {
                IamPayloadError::Schema { field, .. } => field,
                other => panic!("{other:?}"),
            });
            assert_eq!(field.as_deref(), refused, "{pointer} {value:?}");
        }
    }
}
