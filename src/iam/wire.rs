//! Identity Applications JSON as the client reads it: answers turned into values or errors,
//! the shapes of the lists it pages through, and the request states it understands.
//!
//! Invariant: parse failures are described by kind and position only; serde's own text can
//! quote a value, and values here are DNs, names and tokens.

use serde::{de::DeserializeOwned, Deserialize};
use serde_json::Value;

use super::IamError;

/// What a request's `requestState`/`processState` pair says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Pending,
    Approved,
    Denied,
    Failed,
}

/// Reads the pair. The meanings are observations on one lab (Identity Manager 4.10.1 /
/// Identity Applications 24.4), not a documented contract: approved and completed (2, 3),
/// denied (1, 3), failed in the engine (4, 2). Any other pair is taken as still pending.
pub(super) fn outcome(request_state: Option<i64>, process_state: Option<i64>) -> Outcome {
    match (request_state, process_state) {
        (Some(2), Some(3)) => Outcome::Approved,
        (Some(1), Some(3)) => Outcome::Denied,
        (Some(4), _) => Outcome::Failed,
        _ => Outcome::Pending,
    }
}

/// Turns one answer into a value: 2xx bodies are parsed (a `"success": false` is an
/// error), 489/400/5xx `Fault` bodies become [`IamError::Fault`], other statuses
/// [`IamError::Status`].
pub(super) fn read_answer<T: DeserializeOwned>(
    path: &str,
    status: u16,
    body: &[u8],
) -> Result<T, IamError> {
    if !(200..300).contains(&status) {
        return Err(match fault(body) {
            Some((subcode, reason)) if status == 489 || status == 400 || status >= 500 => {
                IamError::Fault {
                    path: path.to_owned(),
                    status,
                    subcode,
                    reason,
                }
            }
            _ => IamError::Status {
                path: path.to_owned(),
                status,
            },
        });
    }

    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body).map_err(|e| contract(path, &e))?
    };
    if value.get("success").and_then(Value::as_bool) == Some(false) {
        return Err(IamError::Unsuccessful {
            path: path.to_owned(),
            reason: failure_reason(&value),
        });
    }
    T::deserialize(value).map_err(|e| contract(path, &e))
}

pub(super) fn contract(path: &str, error: &serde_json::Error) -> IamError {
    IamError::Contract {
        path: path.to_owned(),
        detail: describe(error),
    }
}

/// A serde error by kind and position, without the value it may quote.
pub(super) fn describe(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "unreadable body",
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Eof => "truncated JSON",
        serde_json::error::Category::Data => "unexpected shape",
    };
    if error.line() == 0 {
        kind.to_owned()
    } else {
        format!("{kind} at line {} column {}", error.line(), error.column())
    }
}

/// `Fault.Code.Subcode.Value` and `Fault.Reason.Text`, when the body is a Fault.
fn fault(body: &[u8]) -> Option<(String, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let fault = value.get("Fault")?;
    let subcode = fault
        .pointer("/Code/Subcode/Value")
        .or_else(|| fault.pointer("/Code/Value"))
        .and_then(Value::as_str)
        .unwrap_or("Unknown");
    let reason = fault
        .pointer("/Reason/Text")
        .and_then(Value::as_str)
        .unwrap_or("no reason given");
    Some((subcode.to_owned(), reason.to_owned()))
}

/// The first `reason` of a `failed` entry, at the top or in an `OperationNodes` entry.
fn failure_reason(value: &Value) -> String {
    let nodes = value.get("OperationNodes").and_then(Value::as_array);
    std::iter::once(value)
        .chain(nodes.into_iter().flatten())
        .filter_map(|node| node.get("failed").and_then(Value::as_array))
        .flatten()
        .find_map(|failed| failed.get("reason").and_then(Value::as_str))
        .unwrap_or("no reason given")
        .to_owned()
}

/// `POST /requests/permissions/v2` answer.
#[derive(Deserialize)]
pub(super) struct PermissionsAnswer {
    #[serde(rename = "OperationNodes", default)]
    pub nodes: Vec<OperationNode>,
}

#[derive(Deserialize)]
pub(super) struct OperationNode {
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub succeeded: Vec<Started>,
}

#[derive(Deserialize)]
pub(super) struct Started {
    #[serde(rename = "requestId")]
    pub request_id: Option<String>,
}

/// `GET /tasks/list` answer.
#[derive(Deserialize)]
pub(super) struct TaskPage {
    #[serde(default)]
    pub tasks: Vec<TaskEntry>,
    #[serde(rename = "nextIndex")]
    pub next_index: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TaskEntry {
    pub task_id: String,
    pub process_id: Option<String>,
    #[serde(default)]
    pub activity_name: String,
    pub addressee: Option<String>,
    pub assigned_to: Option<String>,
}

/// `GET /requests/historylist` answer.
#[derive(Deserialize)]
pub(super) struct HistoryPage {
    #[serde(default)]
    pub requests: Vec<HistoryEntry>,
    #[serde(rename = "nextIndex")]
    pub next_index: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HistoryEntry {
    pub id: String,
    pub request_state: Option<i64>,
    pub process_state: Option<i64>,
}

/// `POST /requests/history/item` answer: the request with its comments. The comment fields
/// (`user`, `comment`, `type`) are the stand-in's reading of "the request with its
/// comments" and are unconfirmed against a lab.
#[derive(Deserialize)]
pub(super) struct HistoryItem {
    #[serde(default)]
    pub comments: Vec<Comment>,
}

#[derive(Deserialize)]
pub(super) struct Comment {
    pub user: Option<String>,
    pub comment: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

impl HistoryItem {
    /// Who decided and what they wrote: the last comment left by a person.
    pub fn decision(self) -> (Option<String>, Option<String>) {
        let last = self
            .comments
            .into_iter()
            .filter(|c| c.kind.as_deref().is_none_or(|k| k != "system"))
            .rfind(|c| c.user.is_some());
        match last {
            Some(c) => (c.user, c.comment.filter(|text| !text.is_empty())),
            None => (None, None),
        }
    }
}

/// `POST /tasks` answer.
#[derive(Deserialize)]
pub(super) struct TaskOutcome {
    #[serde(default)]
    pub failed: Vec<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_state_pairs_map_to_outcomes() {
        let cases = [
            (Some(2), Some(3), Outcome::Approved),
            (Some(1), Some(3), Outcome::Denied),
            (Some(4), Some(2), Outcome::Failed),
            (Some(4), None, Outcome::Failed),
            (Some(2), Some(1), Outcome::Pending),
            (Some(0), Some(1), Outcome::Pending),
            (Some(1), Some(2), Outcome::Pending),
            (None, None, Outcome::Pending),
        ];

        for (request, process, expected) in cases {
            assert_eq!(
                outcome(request, process),
                expected,
                "{request:?}/{process:?}"
            );
        }
    }

    #[test]
    fn answers_become_values_or_errors() {
        let fault_body = br#"{"Fault":{"Code":{"Value":"Sender","Subcode":{"Value":"InvalidEnumValue"}},"Reason":{"Text":"No enum constant"}}}"#;
        let unindexed =
            br#"{"success":false,"OperationNodes":[{"success":false,"userDn":"cn=svc,o=data"}]}"#;
        let refused =
            br#"{"success":false,"succeeded":[],"failed":[{"id":"t1","reason":"not assigned"}]}"#;
        // status, body, expected Debug-free summary
        let cases: [(u16, &[u8], &str); 8] = [
            (200, br#"{"success":true}"#, "ok"),
            (200, b"", "ok"),
            (
                489,
                fault_body,
                "fault 489 InvalidEnumValue No enum constant",
            ),
            (
                400,
                fault_body,
                "fault 400 InvalidEnumValue No enum constant",
            ),
            (
                500,
                fault_body,
                "fault 500 InvalidEnumValue No enum constant",
            ),
            (200, unindexed, "unsuccessful no reason given"),
            (200, refused, "unsuccessful not assigned"),
            (404, b"<html>Not Found</html>", "status 404"),
        ];

        for (status, body, expected) in cases {
            let summary = match read_answer::<Value>("/x", status, body) {
                Ok(_) => "ok".to_owned(),
                Err(IamError::Fault {
                    status,
                    subcode,
                    reason,
                    ..
                }) => format!("fault {status} {subcode} {reason}"),
                Err(IamError::Unsuccessful { reason, .. }) => format!("unsuccessful {reason}"),
                Err(IamError::Status { status, .. }) => format!("status {status}"),
                Err(other) => format!("other {other}"),
            };
            assert_eq!(summary, expected, "{status}");
        }
    }

    #[test]
    fn parse_failures_never_quote_values() {
        let body = br#"{"tasks":[{"taskId":"cn=jdoe,ou=users,o=data"}]}"#;

        let error = read_answer::<HistoryPage>("/requests/historylist", 200, b"{\"requests\": 7}")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let shape = read_answer::<Vec<String>>("/tasks/list", 200, body)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();

        assert!(error.contains("unexpected shape"), "{error}");
        assert!(!shape.contains("jdoe"), "{shape}");
        assert!(shape.contains("/tasks/list"), "{shape}");
    }

    #[test]
    fn the_decision_comes_from_the_last_personal_comment() {
        let item: HistoryItem = serde_json::from_value(serde_json::json!({
            "comments": [
                {"user": "cn=a,o=data", "comment": "first", "type": "user"},
                {"user": "cn=b,o=data", "comment": "", "type": "user"},
                {"user": "cn=engine,o=system", "comment": "done", "type": "system"}
            ]
        }))
        .unwrap();

        assert_eq!(item.decision(), (Some("cn=b,o=data".to_owned()), None));
    }
}
