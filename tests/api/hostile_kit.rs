//! The hostile-input tables' row type and runner: each row is one bad request, sent as is
//! (over a raw socket when HTTP clients would correct it), and must get its status, a JSON
//! `error` naming the problem, no message on any queue, and its `event.refused` row.

use std::{collections::HashSet, time::Duration};

use clickup_iam_router::{bus::Lane, ingest::signature::sign_clickup};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{
    fixture, iam_headers, spawn_app_with, Options, TestApp, WEBHOOK_ID, WEBHOOK_SECRET,
};

pub const CLICKUP: &str = "/webhooks/clickup";
pub const IAM: &str = "/webhooks/iam";

/// One bad request and what it must get.
pub struct Row {
    pub name: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub headers: Vec<(&'static str, Vec<u8>)>,
    pub body: Vec<u8>,
    pub status: u16,
    pub error: &'static str,
    /// Sent over a raw socket, with exactly these headers (no Content-Length added).
    pub raw: bool,
}

impl Row {
    pub fn new(name: &'static str, method: &'static str, path: &'static str) -> Self {
        Row {
            name,
            method,
            path,
            headers: Vec::new(),
            body: Vec::new(),
            status: 0,
            error: "",
            raw: false,
        }
    }

    /// A ClickUp delivery with `content-type: application/json` and this X-Signature.
    pub fn clickup(name: &'static str, body: impl Into<Vec<u8>>, signature: Option<&str>) -> Self {
        let mut row = Row::new(name, "POST", CLICKUP).body(body);
        row = row.header("content-type", "application/json");
        match signature {
            Some(signature) => row.header("x-signature", signature),
            None => row,
        }
    }

    /// A ClickUp delivery signed with the configured webhook's secret.
    pub fn clickup_signed(name: &'static str, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let signature = sign_clickup(WEBHOOK_SECRET, &body);
        Row::clickup(name, body, Some(&signature))
    }

    /// An IAM delivery as `application/cloudevents+json` with these headers.
    pub fn iam(name: &'static str, body: impl Into<Vec<u8>>, headers: &[(&str, String)]) -> Self {
        let mut row = Row::new(name, "POST", IAM)
            .body(body)
            .header("content-type", "application/cloudevents+json");
        for (name, value) in headers {
            row = row.header(header_name(name), value.as_str());
        }
        row
    }

    /// An IAM delivery signed now with the configured secret.
    pub fn iam_signed(name: &'static str, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let headers = iam_headers(&body, chrono::Utc::now().timestamp());
        Row::iam(name, body, &headers)
    }

    pub fn header(mut self, name: &'static str, value: impl AsRef<[u8]>) -> Self {
        self.headers.push((name, value.as_ref().to_vec()));
        self
    }

    /// Drops every copy of header `name`.
    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Replaces every copy of header `name` with one `value`.
    pub fn replace(self, name: &'static str, value: impl AsRef<[u8]>) -> Self {
        self.without(name).header(name, value)
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn method(mut self, method: &'static str) -> Self {
        self.method = method;
        self
    }

    pub fn raw(mut self) -> Self {
        self.raw = true;
        self
    }

    pub fn expect(mut self, status: u16, error: &'static str) -> Self {
        self.status = status;
        self.error = error;
        self
    }
}

fn header_name(name: &str) -> &'static str {
    match name {
        "webhook-id" => "webhook-id",
        "webhook-timestamp" => "webhook-timestamp",
        "webhook-signature" => "webhook-signature",
        other => panic!("unexpected header {other}"),
    }
}

/// The status, headers and body of an answer.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Receivers only, so whatever reached a queue stays there to be counted.
pub async fn receivers_only() -> TestApp {
    spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await
}

/// Sends each row and checks its answer and that no queue got a message; then that the
/// process still answers and accepts good deliveries, and that every kind of refusal in the
/// table has its audit row.
pub async fn run_table(app: &TestApp, rows: Vec<Row>) {
    let names: HashSet<&str> = rows.iter().map(|row| row.name).collect();
    assert_eq!(names.len(), rows.len(), "row names are unique");

    let mut refused = HashSet::new();
    for row in &rows {
        let answer = send(app, row).await;

        let text = String::from_utf8_lossy(&answer.body).into_owned();
        assert_eq!(answer.status, row.status, "{}: {text}", row.name);
        let json: Value = serde_json::from_slice(&answer.body)
            .unwrap_or_else(|_| panic!("{}: the answer is not JSON: {text}", row.name));
        assert_eq!(json["error"], row.error, "{}: {json}", row.name);
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}: {json}",
            row.name
        );
        if row.status == 405 {
            let allow = answer.headers.iter().find(|(n, _)| n == "allow");
            assert_eq!(allow.map(|(_, v)| v.as_str()), Some("POST"), "{}", row.name);
        }
        for lane in Lane::ALL {
            assert_eq!(app.depth(lane).await, 0, "{}: queued on {lane:?}", row.name);
        }
        if row.path == CLICKUP || row.path == IAM {
            refused.insert((row.error, row.status));
        }
    }

    still_healthy(app).await;
    for (reason, status) in refused {
        if reason == "method_not_allowed" {
            continue;
        }
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT detail FROM audit WHERE action = 'event.refused' \
             AND json_extract(detail, '$.reason') = $1
             AND CAST(json_extract(detail, '$.status') AS BIGINT) = $2",
        )
        .bind(reason)
        .bind(i64::from(status))
        .fetch_all(app.store.pool())
        .await
        .unwrap();
        assert!(
            !rows.is_empty(),
            "no event.refused row for {reason} {status}"
        );
    }
}

/// `/healthz` answers and a good delivery to each receiver is still accepted.
async fn still_healthy(app: &TestApp) {
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);

    let clickup = app
        .post_clickup_signed(&fixture("clickup/event-taskCreated.json"))
        .await;
    assert_eq!(clickup.status().as_u16(), 202, "a good ClickUp delivery");
    let iam = app
        .post_iam(&fixture("iam/04-leaver-terminated.json"))
        .await;
    assert_eq!(iam.status().as_u16(), 202, "a good IAM delivery");
}

async fn send(app: &TestApp, row: &Row) -> Answer {
    if row.raw {
        return send_raw(app, row).await;
    }
    let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{}", app.url, row.path))
        .body(row.body.clone());
    for (name, value) in &row.headers {
        let value = reqwest::header::HeaderValue::from_bytes(value).unwrap();
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = response.bytes().await.unwrap().to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// Writes the request byte for byte (`Connection: close`) and reads the whole answer.
async fn send_raw(app: &TestApp, row: &Row) -> Answer {
    let address = app.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut request = format!(
        "{} {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
        row.method, row.path
    )
    .into_bytes();
    for (name, value) in &row.headers {
        request.extend_from_slice(format!("{name}: ").as_bytes());
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(&row.body);
    let _ = stream.write_all(&request).await;

    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer));
    let _ = read.await.expect("the router answered");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "{}: no answer: {:?}",
                row.name,
                String::from_utf8_lossy(&answer)
            )
        });
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    // Bytes a lying Content-Length left over are read by actix as a next request, whose
    // plain 400 follows: only the first answer is the router's.
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse::<usize>().unwrap())
        .unwrap_or(answer.len() - split - 4);
    Answer {
        status,
        headers,
        body: answer[split + 4..split + 4 + length].to_vec(),
    }
}

/// A ClickUp task delivery of the configured webhook, with `extra` spliced into the object.
pub fn task_delivery(extra: &str) -> Vec<u8> {
    format!(
        r#"{{"event":"taskCreated","webhook_id":"{WEBHOOK_ID}","task_id":"86abc0001","history_items":[{{"id":"2800000000000000001","date":"1733300000000"}}]{extra}}}"#
    )
    .into_bytes()
}
