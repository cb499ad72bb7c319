//! What ClickUp answered during one unit of work (a bus message, a scheduler pass): each
//! call's method, path and HTTP status, kept in a task-local list while the work runs.
//!
//! The store attaches the answers collected so far to the next audit row it writes in that
//! task and empties the list, so every row says what ClickUp answered the calls that led to
//! it, success and failure alike, through the one record path. Paths carry ClickUp ids only
//! (never a query string, never a body).

use std::{cell::RefCell, future::Future};

use serde::Serialize;
use serde_json::{json, Value};

tokio::task_local! {
    static ANSWERS: RefCell<Vec<Answer>>;
}

/// One ClickUp call and its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// `METHOD /path`, e.g. `DELETE /v2/team/9012345678/user/7`.
    pub call: String,
    /// The HTTP status, or `None` when no answer came (timeout, connection failure).
    pub status: Option<u16>,
}

/// Runs `work` with its own list of answers.
pub async fn collect<F: Future>(work: F) -> F::Output {
    ANSWERS.scope(RefCell::new(Vec::new()), work).await
}

/// Notes an answer, when the caller runs inside [`collect`].
pub(crate) fn note(method: &reqwest::Method, path: &str, status: Option<u16>) {
    let path = path.split('?').next().unwrap_or(path);
    let answer = Answer {
        call: format!("{method} {path}"),
        status,
    };
    // Outside a unit of work (a CLI command, a start-up check) there is no row to attach to.
    let _ = ANSWERS.try_with(|answers| answers.borrow_mut().push(answer));
}

/// Takes the answers noted since the last take.
pub fn take() -> Vec<Answer> {
    ANSWERS
        .try_with(|answers| std::mem::take(&mut *answers.borrow_mut()))
        .unwrap_or_default()
}

/// Moves the answers noted so far into `detail["clickup"]` (nothing when there are none).
pub fn attach(detail: &mut Value) {
    let answers = take();
    if answers.is_empty() {
        return;
    }
    match detail {
        Value::Object(map) => {
            map.insert("clickup".into(), json!(answers));
        }
        other => {
            *other = json!({ "detail": other.clone(), "clickup": answers });
        }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::Method;

    use super::*;

    #[tokio::test]
    async fn answers_go_to_the_next_row_once() {
        collect(async {
            note(&Method::GET, "/v2/team", Some(200));
            note(&Method::DELETE, "/v2/team/1/user/7?x=1", Some(404));
            let mut first = json!({ "cause": "leaver" });
            let mut second = json!({});

            attach(&mut first);
            attach(&mut second);

            assert_eq!(
                first["clickup"],
                json!([
                    { "call": "GET /v2/team", "status": 200 },
                    { "call": "DELETE /v2/team/1/user/7", "status": 404 }
                ])
            );
            assert_eq!(first["cause"], "leaver");
            assert_eq!(second, json!({}));
        })
        .await;
    }

    #[tokio::test]
    async fn outside_a_unit_of_work_nothing_is_kept() {
        note(&Method::GET, "/v2/team", Some(200));

        assert!(take().is_empty());
    }

    #[tokio::test]
    async fn units_of_work_do_not_share_answers() {
        let one = collect(async {
            note(&Method::GET, "/v2/user", None);
            take()
        });
        let two = collect(async { take() });

        let (one, two) = tokio::join!(one, two);

        assert_eq!(one.len(), 1);
        assert_eq!(one[0].status, None);
        assert!(two.is_empty());
    }
}
