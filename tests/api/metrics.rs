//! `/metrics` after real traffic: the text follows the exposition format, and each counter
//! moved by what the router did (each test has its own application, so its own registry).

use std::collections::BTreeMap;

use serde_json::json;

use crate::helpers::{fixture, fixture_json, iam_headers, spawn_app, TestApp};

const JANE: &str = "9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";

/// One sample: metric name, labels, value.
#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses the text exposition format, failing on any line that breaks its rules: a name of
/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, `{label="value",...}` with escaped quotes, a float value, and
/// a `# TYPE` line for the metric's family before its first sample.
pub fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut typed: Vec<String> = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (family, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            typed.push(family.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment: {line}");

        let name_end = line
            .find(['{', ' '])
            .expect("a name, then labels or a value");
        let name = &line[..name_end];
        let valid_name = name.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
        });
        assert!(valid_name && !name.is_empty(), "bad metric name in {line}");
        let family = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|family| typed.iter().any(|t| t == family))
            .unwrap_or(name);
        assert!(typed.iter().any(|t| t == family), "no # TYPE for {line}");

        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            let close = inner.rfind('}').expect("closing brace");
            for pair in split_labels(&inner[..close]) {
                let (key, value) = pair.split_once('=').expect("label=value");
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .expect("quoted label value");
                labels.insert(key.to_owned(), value.replace("\\\"", "\""));
            }
            rest = &inner[close + 1..];
        }
        let value: f64 = rest.trim().parse().expect("a float value");
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

/// Splits `a="x",b="y,z"` on the commas outside quotes.
fn split_labels(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            '\\' if quoted => escaped = !escaped,
            '"' if !escaped => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => escaped = false,
        }
    }
    if start < text.len() {
        parts.push(&text[start..]);
    }
    parts
}

/// The value of the sample with this name and exactly these labels.
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && s.labels.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

pub async fn scrape(app: &TestApp) -> Vec<Sample> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse_exposition(&response.text().await.unwrap())
}

#[tokio::test]
async fn after_a_joiner_a_leaver_and_a_refused_delivery_the_counters_moved_by_that_much() {
    let app = spawn_app().await;
    let joiner = fixture_json("iam/01-joiner-employee.json");
    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    leaver["subject"] = json!(format!("user:{JANE}"));
    leaver["data"]["user"] =
        json!({"id": JANE, "email": "jane.doe@example.com", "profile": {"status": "terminated"}});

    app.post_iam(&serde_json::to_vec(&joiner).unwrap()).await;
    assert_eq!(app.wait_processed(&joiner).await.outcome, "applied");
    app.post_iam(&serde_json::to_vec(&leaver).unwrap()).await;
    assert_eq!(app.wait_processed(&leaver).await.outcome, "removed_member");
    let body = fixture("iam/04-leaver-terminated.json");
    let stale = iam_headers(&body, chrono::Utc::now().timestamp() - 3600);
    let refused = app.post_iam_with(&body, &stale).await;
    assert_eq!(refused.status().as_u16(), 401);

    let samples = scrape(&app).await;
    let webhooks = |result: &str, reason: &str| {
        value(
            &samples,
            "clickup_iam_router_webhooks_total",
            &[("source", "iam"), ("result", result), ("reason", reason)],
        )
    };
    let calls = |kind: &str| {
        value(
            &samples,
            "clickup_iam_router_clickup_calls_total",
            &[("kind", kind), ("result", "ok")],
        )
    };

    assert_eq!(webhooks("accepted", "none"), Some(2.0));
    assert_eq!(webhooks("refused", "signature_rejected"), Some(1.0));
    assert_eq!(webhooks("duplicate", "none"), None);
    assert_eq!(
        value(
            &samples,
            "clickup_iam_router_broker_confirm_seconds_count",
            &[]
        ),
        Some(2.0)
    );
    assert_eq!(calls("invite_member"), Some(1.0));
    assert_eq!(calls("remove_member"), Some(1.0));
    assert_eq!(
        calls("member_share"),
        Some(2.0),
        "two shares for the joiner"
    );
    let failed_calls: f64 = samples
        .iter()
        .filter(|s| s.name == "clickup_iam_router_clickup_calls_total")
        .filter(|s| s.labels["result"] != "ok")
        .map(|s| s.value)
        .sum();
    assert_eq!(failed_calls, 0.0);
    assert_eq!(
        value(&samples, "clickup_iam_router_leaver_seconds_count", &[]),
        Some(1.0),
        "one leaver removed"
    );
    assert_eq!(
        value(
            &samples,
            "clickup_iam_router_clickup_rate_limited_total",
            &[]
        ),
        Some(0.0)
    );
    for queue in [
        "deprovision",
        "provision",
        "approvals",
        "clickup",
        "dead-letters",
    ] {
        assert_eq!(
            value(
                &samples,
                "clickup_iam_router_queue_messages",
                &[("queue", queue)]
            ),
            Some(0.0),
            "{queue}"
        );
    }
    assert_eq!(
        value(&samples, "clickup_iam_router_identities", &[]),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "clickup_iam_router_grants_open", &[]),
        Some(0.0)
    );
    app.stop().await;
}

#[test]
fn the_parser_refuses_what_the_format_forbids() {
    let good = "# TYPE a_total counter\na_total{k=\"x,\\\"y\"} 3\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n";
    let samples = parse_exposition(good);
    assert_eq!(value(&samples, "a_total", &[("k", "x,\"y")]), Some(3.0));
    assert_eq!(value(&samples, "h_bucket", &[("le", "+Inf")]), Some(1.0));

    let bad = [
        "a_total 1\n",
        "# TYPE 1a counter\n1a 1\n",
        "# TYPE a gauge\na{k=x} 1\n",
        "# TYPE a gauge\na one\n",
    ];
    for text in bad {
        let refused = std::panic::catch_unwind(|| parse_exposition(text)).is_err();
        assert!(refused, "accepted {text:?}");
    }
}

#[tokio::test]
async fn a_worker_without_receivers_serves_its_own_metrics_when_asked() {
    let receivers = crate::helpers::spawn_app_with(crate::helpers::Options {
        without_worker: true,
        ..Default::default()
    })
    .await;
    let mut settings = receivers.settings.clone();
    settings.http = None;
    settings.iam = None;
    settings.run_worker = true;
    settings.metrics_listen = Some("127.0.0.1:0".into());
    let worker = clickup_iam_router::app::Application::build(settings, None)
        .await
        .unwrap();
    let url = format!("http://{}", worker.metrics_addr().unwrap());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(worker.run_until_stopped(shutdown.clone()));
    receivers.sandbox.state().add_member(
        "mark.lee@example.com",
        "Mark Lee",
        clickup_iam_router::sandbox::Role::Member,
    );
    let leaver = fixture_json("iam/04-leaver-terminated.json");

    receivers
        .post_iam(&fixture("iam/04-leaver-terminated.json"))
        .await;
    assert_eq!(
        receivers.wait_processed(&leaver).await.outcome,
        "removed_member"
    );
    let http = reqwest::Client::new();
    let text = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let missing = http
        .get(format!("{url}/webhooks/iam"))
        .send()
        .await
        .unwrap();

    let samples = parse_exposition(&text);
    assert_eq!(
        value(&samples, "clickup_iam_router_leaver_seconds_count", &[]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "clickup_iam_router_clickup_calls_total",
            &[("kind", "remove_member"), ("result", "ok")]
        ),
        Some(1.0)
    );
    assert!(
        !samples
            .iter()
            .any(|s| s.name == "clickup_iam_router_webhooks_total"),
        "the worker received no webhook: its registry is its own"
    );
    assert_eq!(missing.status().as_u16(), 404);
    let receiver_side = scrape(&receivers).await;
    assert_eq!(
        value(
            &receiver_side,
            "clickup_iam_router_leaver_seconds_count",
            &[]
        ),
        Some(0.0)
    );
    shutdown.cancel();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(15), running).await;
    receivers.stop().await;
}
