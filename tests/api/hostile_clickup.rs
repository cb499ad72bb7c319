//! Hostile input against `POST /webhooks/clickup`: one row per kind of bad request. ClickUp
//! adds fields to its payloads over time, so unknown fields are accepted; an unknown event
//! name is refused (400), since nothing downstream could route or act on it.

use clickup_iam_router::ingest::signature::sign_clickup;
use serde_json::Value;

use crate::{
    helpers::{fixture, json_with_status, WEBHOOK_ID, WEBHOOK_SECRET},
    hostile_kit::{receivers_only, run_table, task_delivery, Row, CLICKUP},
};

fn signature_rows(body: &[u8]) -> Vec<Row> {
    let good = sign_clickup(WEBHOOK_SECRET, body);
    let other = sign_clickup(WEBHOOK_SECRET, b"{}");
    let mut flipped = good.clone().into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    let mixed_wrong: String = String::from_utf8(flipped)
        .unwrap()
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    let base64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(hex::decode(&good).unwrap())
    };
    let row = |name, signature: Option<&str>| Row::clickup(name, body.to_vec(), signature);

    vec![
        row("signature missing", None).expect(403, "signature_rejected"),
        row("signature empty", Some("")).expect(403, "signature_rejected"),
        row("signature of another body", Some(&other)).expect(403, "signature_rejected"),
        row("signature truncated", Some(&good[..32])).expect(403, "signature_rejected"),
        row("signature not hex", Some(&"zz".repeat(32))).expect(403, "signature_rejected"),
        row("signature one byte too long", Some(&format!("{good}00")))
            .expect(403, "signature_rejected"),
        row("signature mixed case but wrong", Some(&mixed_wrong)).expect(403, "signature_rejected"),
        row(
            "signature with another secret",
            Some(&sign_clickup("another-secret", body)),
        )
        .expect(403, "signature_rejected"),
        row("signature only spaces", Some("      ")).expect(403, "signature_rejected"),
        row("signature in base64, not hex", Some(&base64)).expect(403, "signature_rejected"),
        row("signature with bytes outside ASCII", None)
            .header("x-signature", b"\xff\xfe\xfd")
            .expect(403, "signature_rejected"),
        row("two X-Signature, the good one first", Some(&good))
            .header("x-signature", &other)
            .expect(400, "duplicate_header"),
        row("two X-Signature, the good one last", Some(&other))
            .header("x-signature", &good)
            .expect(400, "duplicate_header"),
        row("a 64 KiB header", Some(&good))
            .header("x-padding", "a".repeat(64 * 1024))
            .expect(431, "headers_too_large"),
    ]
}

fn webhook_rows() -> Vec<Row> {
    let with_id =
        |id: &str| format!(r#"{{"event":"taskCreated","task_id":"86abc0001","webhook_id":{id}}}"#);
    let huge = format!("\"{}\"", "w".repeat(10 * 1024));
    let bad = Some("00");
    vec![
        Row::clickup("webhook_id unknown", with_id("\"ffff-unknown\""), bad)
            .expect(403, "unknown_webhook"),
        Row::clickup(
            "webhook_id missing",
            r#"{"event":"taskCreated","task_id":"t"}"#,
            bad,
        )
        .expect(403, "unknown_webhook"),
        Row::clickup("webhook_id empty", with_id("\"\""), bad).expect(403, "unknown_webhook"),
        Row::clickup("webhook_id 10 KiB long", with_id(&huge), bad).expect(403, "unknown_webhook"),
        Row::clickup("webhook_id a float", with_id("1.5e3"), bad).expect(403, "unknown_webhook"),
        Row::clickup("webhook_id an object", with_id("{}"), bad).expect(403, "unknown_webhook"),
    ]
}

fn shape_rows(body: &[u8]) -> Vec<Row> {
    let signed = |name, body: Vec<u8>| Row::clickup_signed(name, body);
    let malformed = |name, body: Vec<u8>| signed(name, body).expect(400, "malformed_json");
    let truncated = body[..body.len() / 2].to_vec();
    let mut garbage = body.to_vec();
    garbage.extend_from_slice(b" {\"more\": 1}");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in String::from_utf8_lossy(body).encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
    utf8_bom.extend_from_slice(body);
    let deep_data = task_delivery(&format!(
        r#","data":{}{}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    ));
    let big = task_delivery(&format!(r#","pad":"{}""#, "x".repeat(70 * 1024)));
    let short_length = format!("{}", body.len() / 3);

    vec![
        Row::clickup("empty body", Vec::new(), Some("00")).expect(400, "malformed_json"),
        malformed("truncated JSON", truncated),
        malformed("JSON with trailing garbage", garbage),
        malformed(
            "a JSON array at top level",
            b"[{\"webhook_id\":1}]".to_vec(),
        ),
        malformed("a JSON string at top level", b"\"taskCreated\"".to_vec()),
        malformed("a JSON number at top level", b"12345".to_vec()),
        malformed("UTF-16 with a BOM", utf16),
        malformed("UTF-8 with a BOM", utf8_bom),
        malformed(
            "bytes that are not UTF-8",
            task_delivery(",\"name\":\"caf\u{e9}\"")
                .iter()
                .map(|&b| if b == 0xC3 { 0xFF } else { b })
                .collect(),
        ),
        malformed(
            "a raw NUL byte in a string",
            task_delivery(",\"name\":\"a\0b\""),
        ),
        malformed(
            "a lone surrogate in an escape",
            task_delivery(r#","name":"\ud800""#),
        ),
        malformed(
            "a number beyond a double (1e400)",
            task_delivery(r#","points":1e400"#),
        ),
        signed("10,000 [ at top level", "[".repeat(10_000).into_bytes())
            .expect(400, "nesting_too_deep"),
        signed("10,000 [ inside the data", deep_data).expect(400, "nesting_too_deep"),
        signed("body over the limit", big).expect(413, "payload_too_large"),
        Row::clickup_signed("Content-Length above the limit", body.to_vec())
            .header("content-length", "1048576")
            .raw()
            .expect(413, "payload_too_large"),
        Row::clickup_signed("Content-Length shorter than the body", body.to_vec())
            .header("content-length", short_length)
            .raw()
            .expect(400, "malformed_json"),
    ]
}

fn type_rows() -> Vec<Row> {
    let invalid = |name, body: String| Row::clickup_signed(name, body).expect(400, "invalid_event");
    let with = |event: &str, rest: &str| {
        format!(r#"{{"event":{event},"webhook_id":"{WEBHOOK_ID}","task_id":"86abc0001"{rest}}}"#)
    };
    let items = |items: &str| with("\"taskCreated\"", &format!(r#","history_items":{items}"#));
    let item = |fields: &str| items(&format!("[{{{fields}}}]"));
    let task = |task_id: &str| {
        format!(r#"{{"event":"taskCreated","webhook_id":"{WEBHOOK_ID}"{task_id}}}"#)
    };

    vec![
        invalid("event a number", with("7", "")),
        invalid("event null", with("null", "")),
        invalid(
            "event missing",
            format!(r#"{{"webhook_id":"{WEBHOOK_ID}","task_id":"1"}}"#),
        ),
        invalid("event unknown", with("\"userDeleted\"", "")),
        invalid("event empty", with("\"\"", "")),
        invalid(
            "event with an escaped NUL",
            with(r#""taskCreated\u0000""#, ""),
        ),
        invalid("history_items a string", items("\"notalist\"")),
        invalid("history_items an object", items("{\"id\":\"1\"}")),
        invalid("a history item a number", items("[1]")),
        invalid("history item id a float", item(r#""id":2.8e18"#)),
        invalid("history item id missing", item(r#""date":"1733300000000""#)),
        invalid("history item id negative", item(r#""id":-5"#)),
        invalid("history date negative", item(r#""id":"1","date":"-1""#)),
        invalid(
            "history date not numeric",
            item(r#""id":"1","date":"yesterday""#),
        ),
        invalid(
            "history date beyond 64 bits",
            item(r#""id":"1","date":99999999999999999999999"#),
        ),
        invalid("task_id missing", task("")),
        invalid("task_id a float", task(r#","task_id":1.5"#)),
        invalid("task_id an object", task(r#","task_id":{"id":"1"}"#)),
        invalid("task_id empty", task(r#","task_id":"""#)),
        invalid(
            "a list event without list_id",
            format!(r#"{{"event":"listCreated","webhook_id":"{WEBHOOK_ID}","task_id":"1"}}"#),
        ),
    ]
}

fn protocol_rows(body: &[u8]) -> Vec<Row> {
    let typed = |name, content_type: &str| {
        Row::clickup_signed(name, body.to_vec())
            .replace("content-type", content_type)
            .expect(415, "unsupported_media_type")
    };
    vec![
        typed("content type text/plain", "text/plain"),
        typed(
            "content type form-encoded",
            "application/x-www-form-urlencoded",
        ),
        typed(
            "content type multipart",
            "multipart/form-data; boundary=xyz",
        ),
        Row::new("GET on the receiver", "GET", CLICKUP).expect(405, "method_not_allowed"),
        Row::clickup_signed("PUT on the receiver", body.to_vec())
            .method("PUT")
            .expect(405, "method_not_allowed"),
        Row::new("POST to an unknown path", "POST", "/webhooks/clickup/x").expect(404, "not_found"),
    ]
}

#[tokio::test]
async fn hostile_clickup_deliveries_are_refused_with_json_and_queue_nothing() {
    let app = receivers_only().await;
    let body = fixture("clickup/event-taskCreated.json");
    let mut rows = signature_rows(&body);
    rows.extend(webhook_rows());
    rows.extend(shape_rows(&body));
    rows.extend(type_rows());
    rows.extend(protocol_rows(&body));

    assert_eq!(rows.len(), 63, "kinds of bad request");
    run_table(&app, rows).await;
    app.stop().await;
}

#[tokio::test]
async fn unknown_fields_and_huge_integer_ids_are_accepted_exactly() {
    let app = receivers_only().await;
    let body = format!(
        r#"{{"event":"taskCreated","webhook_id":"{WEBHOOK_ID}","task_id":86123456789012345678,"added_by_clickup_later":{{"x":[1,2]}},"history_items":[{{"id":123456789012345678901234,"date":1733300000000}}]}}"#
    );

    let accepted = json_with_status(app.post_clickup_signed(body.as_bytes()).await, 202).await;
    let fresh = task_delivery(",\"fresh\":true");
    let without_type = reqwest::Client::new()
        .post(format!("{}{CLICKUP}", app.url))
        .header("x-signature", sign_clickup(WEBHOOK_SECRET, &fresh))
        .body(fresh)
        .send()
        .await
        .unwrap();

    assert_eq!(
        accepted["accepted"],
        Value::from(vec![format!("{WEBHOOK_ID}:123456789012345678901234")])
    );
    assert_eq!(without_type.status().as_u16(), 202);
    app.stop().await;
}
