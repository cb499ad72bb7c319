//! What the load generator sends: unique, correctly signed ClickUp deliveries (one history
//! item each, so one event and one publish per delivery) and IAM leaver events signed the
//! Standard Webhooks way, built from the shipped fixtures.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use clickup_iam_router::ingest::signature::{sign_clickup, StandardKey};
use serde_json::{json, Value};

use crate::load::Call;

pub const WEBHOOK_ID: &str = "b3c4d5e6-0000-4000-8000-0000000bench";
pub const WEBHOOK_SECRET: &str = "BENCHSECRET0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEF";
pub const IAM_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// The List the shipped assignment rules send to the risk function, round robin.
pub const COMPLIANCE_LIST: &str = "901100000950";

/// Unique ids for the whole process: every history item id differs, run after run.
static SEQ: AtomicU64 = AtomicU64::new(0);

fn next_id() -> u64 {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

pub fn fixture(path: &str) -> Value {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A ClickUp delivery as a text template: `@ITEM@` and `@TASK@` are filled in per request.
pub struct ClickUpTemplate {
    text: String,
}

impl ClickUpTemplate {
    /// `taskPriorityUpdated` on task `@TASK@` made by `author`: an event no shipped rule acts
    /// on, so `run`'s worker settles each without calling ClickUp. (The fixture's author is
    /// the workspace owner, whose token the router uses: its changes would be the router's
    /// own echoes, each waiting for the action that caused it.)
    pub fn priority(author: u64) -> Self {
        let mut event = fixture("clickup/event-taskPriorityUpdated.json");
        event["task_id"] = json!("@TASK@");
        event["webhook_id"] = json!(WEBHOOK_ID);
        event["history_items"][0]["id"] = json!("@ITEM@");
        event["history_items"][0]["user"]["id"] = json!(author);
        event["history_items"][0]["user"]["email"] = json!("bench.author@example.com");
        Self::from(event)
    }

    /// `taskCreated` in the compliance reviews List for task `@TASK@` made by `author`, with
    /// the `task_creation` item only: one assignment event per task.
    pub fn created(author: u64) -> Self {
        let mut event = fixture("clickup/event-taskCreated.json");
        event["task_id"] = json!("@TASK@");
        event["webhook_id"] = json!(WEBHOOK_ID);
        let mut item = event["history_items"][1].clone();
        item["id"] = json!("@ITEM@");
        item["parent_id"] = json!(COMPLIANCE_LIST);
        item["user"]["id"] = json!(author);
        item["user"]["email"] = json!("bench.author@example.com");
        event["history_items"] = json!([item]);
        Self::from(event)
    }

    fn from(event: Value) -> Self {
        Self {
            text: serde_json::to_string(&event).unwrap(),
        }
    }

    /// The delivery for `task`, with a history item id never sent before.
    pub fn body(&self, task: &str) -> Vec<u8> {
        let item = format!("88{:013}{:05}", std::process::id(), next_id());
        self.text
            .replace("@ITEM@", &item)
            .replace("@TASK@", task)
            .into_bytes()
    }

    /// A signed request carrying a fresh delivery about `task`.
    pub fn call(&self, task: &str) -> Call {
        let body = self.body(task);
        Call {
            path: "/webhooks/clickup",
            headers: vec![
                ("content-type", "application/json".into()),
                ("x-signature", sign_clickup(WEBHOOK_SECRET, &body)),
            ],
            body: Bytes::from(body),
        }
    }
}

/// A termination of the person with IAM id `iam_id` and this email, signed now.
pub fn leaver(iam_id: &str, email: &str) -> Call {
    let mut event = fixture("iam/04-leaver-terminated.json");
    event["id"] = json!(format!("bench-leaver-{iam_id}"));
    event["sourceeventid"] = event["id"].clone();
    event["subject"] = json!(format!("user:{iam_id}"));
    event["partitionkey"] = event["subject"].clone();
    event["time"] = json!(chrono::Utc::now().to_rfc3339());
    let user = &mut event["data"]["user"];
    user["id"] = json!(iam_id);
    user["email"] = json!(email);
    iam_call(&event)
}

/// A joiner in `department` from the shipped fixture.
pub fn joiner(iam_id: &str, email: &str, department: &str) -> Call {
    let mut event = fixture("iam/01-joiner-employee.json");
    event["id"] = json!(format!("bench-joiner-{iam_id}"));
    event["sourceeventid"] = event["id"].clone();
    event["subject"] = json!(format!("user:{iam_id}"));
    event["partitionkey"] = event["subject"].clone();
    let user = &mut event["data"]["user"];
    user["id"] = json!(iam_id);
    user["email"] = json!(email);
    let profile = &mut user["profile"];
    profile["email"] = json!(email);
    profile["emails"] = json!([{ "value": email, "type": "work", "primary": true }]);
    profile["department"] = json!(department);
    iam_call(&event)
}

fn iam_call(event: &Value) -> Call {
    let body = serde_json::to_vec(event).unwrap();
    let key = StandardKey::parse(IAM_SECRET).unwrap();
    let message_id = format!("msg_bench_{}_{}", std::process::id(), next_id());
    let timestamp = chrono::Utc::now().timestamp();
    Call {
        path: "/webhooks/iam",
        headers: vec![
            ("content-type", "application/cloudevents+json".into()),
            ("webhook-signature", key.sign(&message_id, timestamp, &body)),
            ("webhook-id", message_id),
            ("webhook-timestamp", timestamp.to_string()),
        ],
        body: Bytes::from(body),
    }
}
