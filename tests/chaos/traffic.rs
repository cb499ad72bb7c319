//! The steady stream: signed IAM joiners for unique people, leavers for people the sandbox
//! shows joined, and signed ClickUp `taskCreated` deliveries for new tasks in the compliance
//! reviews List. Each send is retried on 503 (and on a refused connection) as ClickUp and the
//! IAM retry: the same delivery, the same webhook id, so a retried event counts once.

use std::time::{Duration, Instant};

use clickup_iam_router::ingest::signature::{sign_clickup, StandardKey};
use serde_json::{json, Value};

use crate::router::{IAM_SECRET, WEBHOOK_ID, WEBHOOK_SECRET};

/// The List the shipped assignment rules send to the risk function, round robin.
pub const COMPLIANCE_LIST: &str = "901100000950";
/// How long one event is retried before the sender gives up on it.
const RETRY_FOR: Duration = Duration::from_secs(90);

/// What one event should do in the sandbox.
#[derive(Debug, Clone)]
pub enum Event {
    /// Person `n` joins: exactly one invite.
    Joiner { n: u32 },
    /// Person `n` (ClickUp user `user_id`) leaves: exactly one removal.
    Leaver { n: u32, user_id: u64 },
    /// A task was created in the compliance List: exactly one assignment.
    Task { task_id: String },
}

/// The sender's record of one event.
#[derive(Debug, Clone)]
pub struct Sent {
    pub event: Event,
    /// The last status, `None` when no answer ever came.
    pub status: Option<u16>,
    pub attempts: u32,
    pub refusals_503: u32,
    /// When the first and the last 503 came, if any did.
    pub refused_between: Option<(Instant, Instant)>,
}

impl Sent {
    pub fn accepted(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }
}

pub fn email(n: u32) -> String {
    format!("chaos.person{n}@example.com")
}

fn iam_id(n: u32) -> String {
    format!("cc{n:030}")
}

/// A joiner for person `n` in `department`, from the shipped fixture.
pub fn joiner(n: u32, department: &str) -> Value {
    let (id, email) = (iam_id(n), email(n));
    let mut event: Value = fixture("iam/01-joiner-employee.json");
    event["id"] = json!(format!("chaos-joiner-{id}"));
    event["sourceeventid"] = event["id"].clone();
    event["subject"] = json!(format!("user:{id}"));
    event["partitionkey"] = event["subject"].clone();
    let user = &mut event["data"]["user"];
    user["id"] = json!(id);
    user["email"] = json!(email);
    user["username"] = json!(format!("chaos{n}"));
    user["display_name"] = json!(format!("Chaos Person {n}"));
    let profile = &mut user["profile"];
    profile["email"] = json!(email);
    profile["emails"] = json!([{ "value": email, "type": "work", "primary": true }]);
    profile["display_name"] = json!(format!("Chaos Person {n}"));
    profile["department"] = json!(department);
    event
}

/// A termination of person `n`, from the shipped fixture.
pub fn leaver(n: u32) -> Value {
    let (id, email) = (iam_id(n), email(n));
    let mut event: Value = fixture("iam/04-leaver-terminated.json");
    event["id"] = json!(format!("chaos-leaver-{id}"));
    event["sourceeventid"] = event["id"].clone();
    event["subject"] = json!(format!("user:{id}"));
    event["partitionkey"] = event["subject"].clone();
    let user = &mut event["data"]["user"];
    user["id"] = json!(id);
    user["email"] = json!(email);
    user["username"] = json!(format!("chaos{n}"));
    user["display_name"] = json!(format!("Chaos Person {n}"));
    event
}

/// The `taskCreated` delivery ClickUp sends for a new task made by `author`; history item
/// ids are unique per task.
pub fn task_created(task_id: &str, seq: u32, author: u64) -> Value {
    let mut event: Value = fixture("clickup/event-taskCreated.json");
    event["task_id"] = json!(task_id);
    event["webhook_id"] = json!(WEBHOOK_ID);
    for (i, item) in event["history_items"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        item["id"] = json!(format!("77{seq:012}{i}"));
        item["parent_id"] = json!(COMPLIANCE_LIST);
        item["user"]["id"] = json!(author);
        item["user"]["email"] = json!("chaos.author@example.com");
        item["user"]["username"] = json!("Casey Author");
    }
    event
}

/// Posts one event to the receivers, retrying 503s and refused connections with the same
/// delivery id until a final answer or [`RETRY_FOR`] passes.
pub async fn send(http: &reqwest::Client, base: &str, event: Event, body: Value) -> Sent {
    let bytes = serde_json::to_vec(&body).unwrap();
    let message_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let started = Instant::now();
    let mut sent = Sent {
        event,
        status: None,
        attempts: 0,
        refusals_503: 0,
        refused_between: None,
    };

    loop {
        sent.attempts += 1;
        let request = match &sent.event {
            Event::Task { .. } => http
                .post(format!("{base}/webhooks/clickup"))
                .header("content-type", "application/json")
                .header("x-signature", sign_clickup(WEBHOOK_SECRET, &bytes)),
            _ => iam_request(http, base, &bytes, &message_id),
        };
        let answer = request
            .body(bytes.clone())
            .timeout(Duration::from_secs(15))
            .send()
            .await;

        let retry = match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                sent.status = Some(status);
                if status == 503 {
                    sent.refusals_503 += 1;
                    let now = Instant::now();
                    let first = sent.refused_between.map_or(now, |(first, _)| first);
                    sent.refused_between = Some((first, now));
                }
                status >= 500
            }
            Err(_) => true,
        };
        if !retry || started.elapsed() > RETRY_FOR {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// An IAM delivery signed now, for the same message id on every attempt.
fn iam_request(
    http: &reqwest::Client,
    base: &str,
    body: &[u8],
    message_id: &str,
) -> reqwest::RequestBuilder {
    let key = StandardKey::parse(IAM_SECRET).unwrap();
    let timestamp = chrono::Utc::now().timestamp();
    http.post(format!("{base}/webhooks/iam"))
        .header("content-type", "application/cloudevents+json")
        .header("webhook-id", message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", key.sign(message_id, timestamp, body))
}

fn fixture(path: &str) -> Value {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
