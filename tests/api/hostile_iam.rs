//! Hostile input against `POST /webhooks/iam`: one row per kind of bad request. Signature,
//! id and timestamp problems are 401 (Standard Webhooks); schema errors 400 naming the field.
//! CloudEvents extension attributes are accepted when the schema allows them (a lower-case
//! name, a scalar value); anything else outside the schema is refused.

use chrono::Utc;
use clickup_iam_router::ingest::signature::StandardKey;
use serde_json::{json, Value};

use crate::{
    helpers::{fixture, fixture_json, iam_headers, IAM_SECRET},
    hostile_kit::{receivers_only, run_table, Row, IAM},
};

fn sign(id: &str, timestamp: i64, body: &[u8]) -> String {
    StandardKey::parse(IAM_SECRET)
        .unwrap()
        .sign(id, timestamp, body)
}

fn headers(id: &str, timestamp: &str, signature: &str) -> Vec<(&'static str, String)> {
    vec![
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_owned()),
        ("webhook-signature", signature.to_owned()),
    ]
}

fn signature_rows(body: &[u8]) -> Vec<Row> {
    let now = Utc::now().timestamp();
    let good = sign("msg_1", now, body);
    let at = |ts: i64| headers("msg_1", &ts.to_string(), &sign("msg_1", ts, body));
    let with_sig = |signature: &str| headers("msg_1", &now.to_string(), signature);
    let with_ts = |ts: &str| headers("msg_1", ts, &good);
    let long_id = "m".repeat(300);
    let other_key = StandardKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let hundred = vec![good.replace("v1,", "v1,A"); 100].join(" ");
    let row = |name, headers: Vec<(&'static str, String)>| {
        Row::iam(name, body.to_vec(), &headers).expect(401, "signature_rejected")
    };
    let rows = vec![
        row("signature missing", with_sig("")).without("webhook-signature"),
        row("webhook-id missing", with_sig(&good)).without("webhook-id"),
        row("webhook-timestamp missing", with_sig(&good)).without("webhook-timestamp"),
        row(
            "webhook-id empty",
            headers("", &now.to_string(), &sign("", now, body)),
        ),
        row(
            "webhook-id 300 characters",
            headers(&long_id, &now.to_string(), &sign(&long_id, now, body)),
        ),
        row(
            "webhook-id with a space",
            headers("msg 1", &now.to_string(), &sign("msg 1", now, body)),
        ),
        row(
            "signature of another body",
            with_sig(&sign("msg_1", now, b"{}")),
        ),
        row("signature v1, without base64", with_sig("v1,")),
        row(
            "signature v1, with bad base64",
            with_sig("v1,!!not*base64!!"),
        ),
        row("signature v2,", with_sig(&good.replace("v1,", "v2,"))),
        row("signature only spaces", with_sig("     ")),
        row("signature with 100 wrong entries", with_sig(&hundred)),
        row("signature truncated", with_sig(&good[..20])),
        row("signature without the v1, prefix", with_sig(&good[3..])),
        row(
            "signature for another timestamp",
            with_sig(&sign("msg_1", now - 1, body)),
        ),
        row(
            "signature with another secret",
            with_sig(&other_key.sign("msg_1", now, body)),
        ),
        row("timestamp stale", at(now - 301)),
        row("timestamp far in the future", at(now + 3600)),
        row("timestamp in milliseconds", at(now * 1000)),
        row("timestamp negative", at(-1)),
        row("timestamp largest i64", at(i64::MAX)),
        row("timestamp not numeric", with_ts("soon")),
        row("timestamp beyond 64 bits", with_ts("99999999999999999999")),
        row("timestamp with a fraction", with_ts(&format!("{now}.5"))),
        row("timestamp empty", with_ts("")),
    ];
    let twice = |name, header: &'static str, value: &str| {
        Row::iam(name, body.to_vec(), &with_sig(&good))
            .header(header, value)
            .expect(400, "duplicate_header")
    };
    let mut rows = rows;
    rows.extend([
        twice("two webhook-signature", "webhook-signature", "v1,AAAA"),
        twice("two webhook-id", "webhook-id", "msg_2"),
        twice("two webhook-timestamp", "webhook-timestamp", "0"),
        Row::iam("a 64 KiB header", body.to_vec(), &with_sig(&good))
            .header("x-padding", "a".repeat(64 * 1024))
            .expect(431, "headers_too_large"),
    ]);
    rows
}

fn body_rows(body: &[u8]) -> Vec<Row> {
    let signed = |name, body: Vec<u8>| Row::iam_signed(name, body);
    let malformed = |name, body: Vec<u8>| signed(name, body).expect(400, "malformed_json");
    let top = |name, body: &[u8]| signed(name, body.to_vec()).expect(400, "invalid_event");
    let text = String::from_utf8(body.to_vec()).unwrap();
    let mut garbage = body.to_vec();
    garbage.extend_from_slice(b"]]");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let not_utf8: Vec<u8> = text.replacen("\"id\"", "\"i\u{e9}\"", 1).into_bytes();
    let not_utf8 = not_utf8
        .iter()
        .map(|&b| if b == 0xC3 { 0xFF } else { b })
        .collect();
    let lengthy = |declared: String| {
        Row::iam_signed("", body.to_vec())
            .header("content-length", declared)
            .raw()
    };

    vec![
        malformed("empty body", Vec::new()),
        malformed("truncated JSON", body[..body.len() / 2].to_vec()),
        malformed("JSON with trailing garbage", garbage),
        top("a JSON array at top level", b"[1,2,3]"),
        top("a JSON string at top level", b"\"iam.user.terminated\""),
        top("a JSON number at top level", b"42"),
        malformed("UTF-16 with a BOM", utf16),
        malformed("bytes that are not UTF-8", not_utf8),
        malformed(
            "a raw NUL byte in a string",
            text.replacen("\"id\"", "\"i\0d\"", 1).into(),
        ),
        malformed(
            "a lone surrogate in an escape",
            text.replacen("\"id\"", r#""\udc00""#, 1).into(),
        ),
        malformed(
            "a number beyond a double (1e400)",
            b"{\"id\":1e400}".to_vec(),
        ),
        signed("10,000 [ in the body", "[".repeat(10_000).into_bytes())
            .expect(400, "nesting_too_deep"),
        signed("body over the limit", vec![b' '; 70 * 1024]).expect(413, "payload_too_large"),
        Row {
            name: "Content-Length above the limit",
            ..lengthy("1048576".into()).expect(413, "payload_too_large")
        },
        Row {
            name: "Content-Length shorter than the body",
            ..lengthy((body.len() / 2).to_string()).expect(401, "signature_rejected")
        },
    ]
}

fn schema_rows() -> Vec<Row> {
    let leaver = fixture_json("iam/04-leaver-terminated.json");
    let changed = |name, change: &dyn Fn(&mut Value)| {
        let mut event = leaver.clone();
        change(&mut event);
        Row::iam_signed(name, serde_json::to_vec(&event).unwrap()).expect(400, "invalid_event")
    };
    let batch = |name, body: Vec<u8>| {
        Row::iam_signed(name, body)
            .replace("content-type", "application/cloudevents-batch+json")
            .expect(400, "invalid_event")
    };
    let ahead = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let many = serde_json::to_vec(&vec![json!({}); 101]).unwrap();

    vec![
        changed("specversion 0.3", &|e| e["specversion"] = json!("0.3")),
        changed("type unknown", &|e| {
            e["type"] = json!("com.example.iam.user.exploded.v1")
        }),
        changed("type a number", &|e| e["type"] = json!(7)),
        changed("time not RFC 3339", &|e| {
            e["time"] = json!("yesterday at noon")
        }),
        changed("time an hour ahead", &|e| e["time"] = json!(ahead)),
        changed("data missing", &|e| {
            e.as_object_mut().unwrap().remove("data");
        }),
        changed("data a string", &|e| e["data"] = json!("{}")),
        changed("id a float", &|e| e["id"] = json!(1.5)),
        changed("id empty", &|e| e["id"] = json!("")),
        changed("subject another person", &|e| {
            e["subject"] = json!("user:someone-else")
        }),
        changed(
            "an id with a line break that would forge a log line",
            &|e| e["id"] = json!("evt-1\nERROR forged: admin token=leaked"),
        ),
        changed("a correlation id with a terminal escape", &|e| {
            e["correlationid"] = json!("c\u{1b}[31m")
        }),
        changed("data.user an array", &|e| e["data"]["user"] = json!([])),
        changed("an extension attribute that is an object", &|e| {
            e["tenantinfo"] = json!({"a": 1})
        }),
        changed("an attribute name in upper case", &|e| {
            e["Tenant"] = json!("acme")
        }),
        batch("an empty batch", b"[]".to_vec()),
        batch("a batch of 101 events", many),
        batch(
            "a batch that is an object",
            fixture("iam/04-leaver-terminated.json"),
        ),
    ]
}

fn protocol_rows(body: &[u8]) -> Vec<Row> {
    let typed = |name, content_type: &str| {
        Row::iam_signed(name, body.to_vec())
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
        Row::new("GET on the receiver", "GET", IAM).expect(405, "method_not_allowed"),
        Row::iam_signed("PUT on the receiver", body.to_vec())
            .method("PUT")
            .expect(405, "method_not_allowed"),
        Row::new("POST to /webhooks", "POST", "/webhooks").expect(404, "not_found"),
    ]
}

#[tokio::test]
async fn hostile_iam_deliveries_are_refused_with_json_and_queue_nothing() {
    let app = receivers_only().await;
    let body = fixture("iam/04-leaver-terminated.json");
    let mut rows = signature_rows(&body);
    rows.extend(body_rows(&body));
    rows.extend(schema_rows());
    rows.extend(protocol_rows(&body));

    assert_eq!(rows.len(), 68, "kinds of bad request");
    run_table(&app, rows).await;
    app.stop().await;
}

#[tokio::test]
async fn a_good_signature_among_others_and_a_scalar_extension_are_accepted() {
    let app = receivers_only().await;
    let mut event = fixture_json("iam/05-disable.json");
    event["tenant2"] = json!("acme");
    let body = serde_json::to_vec(&event).unwrap();
    let mut headers = iam_headers(&body, Utc::now().timestamp());
    headers[2].1 = format!("v2,AAAA v1,AAAA {}", headers[2].1);

    let response = app.post_iam_with(&body, &headers).await;

    assert_eq!(response.status().as_u16(), 202);
    app.stop().await;
}
