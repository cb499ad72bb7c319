//! `POST /webhooks/iam` and the deprovisioning worker, end to end against the sandbox.

use clickup_iam_router::{
    bus::Lane,
    sandbox::{Plan, Role},
};
use serde_json::{json, Value};

use crate::helpers::{
    fixture, fixture_json, iam_headers, iam_headers_with_id, json_with_status, spawn_app,
    spawn_app_with, Options,
};

#[tokio::test]
async fn a_leaver_is_removed_from_clickup_and_audited() {
    let app = spawn_app().await;
    let state = app.sandbox.state();
    let mark = state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let leaver = fixture_json("iam/04-leaver-terminated.json");

    let body = json_with_status(
        app.post_iam(&fixture("iam/04-leaver-terminated.json"))
            .await,
        202,
    )
    .await;
    let processed = app.wait_processed(&leaver).await;

    assert_eq!(body["status"], "accepted");
    assert_eq!(processed.outcome, "removed_member");
    assert!(state.find_by_email("mark.lee@example.com").is_none());
    assert_eq!(
        state.count_calls(
            "DELETE",
            &format!("/api/v2/team/{}/user/{mark}", app.team_id)
        ),
        1
    );
    let (reviews, audit): (Vec<_>, Vec<_>) = app
        .store
        .audit_by_correlation("term-2026-0077")
        .await
        .unwrap()
        .into_iter()
        .partition(|row| row.action == "task.leaver_reviewed");
    // The scheduler's review of the leaver's tasks shares the correlation id; whether its
    // tick has come yet is a matter of timing, so it is checked apart.
    assert!(reviews.len() <= 1, "{reviews:?}");
    assert!(reviews
        .iter()
        .all(|r| r.subject.as_deref() == Some("user:c0ffee00c0ffee00c0ffee00c0ffee00")));
    assert_eq!(
        audit.len(),
        3,
        "the event received, the intent, then the outcome: {:?}",
        audit
            .iter()
            .map(|r| (&r.action, &r.outcome))
            .collect::<Vec<_>>()
    );
    assert_eq!(audit[0].action, "event.received");
    assert_eq!(audit[1].outcome, "attempting");
    let audit = &audit[2..];
    assert_eq!(audit[0].action, "clickup.remove_member");
    assert_eq!(audit[0].outcome, "removed_member");
    assert_eq!(
        audit[0].subject.as_deref(),
        Some("user:c0ffee00c0ffee00c0ffee00c0ffee00")
    );
    assert_eq!(
        audit[0].object,
        Some(format!("clickup:team:{}:user:{mark}", app.team_id))
    );
    assert!(
        !audit[0].detail.contains("mark.lee"),
        "no personal data in the audit detail"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_disabled_guest_is_removed_through_the_guest_endpoint() {
    let app = spawn_app().await;
    let state = app.sandbox.state();
    let jane = state.add_guest("jane.doe@example.com", "Jane Doe");
    let disable = fixture_json("iam/05-disable.json");

    app.post_iam(&serde_json::to_vec(&disable).unwrap()).await;
    let processed = app.wait_processed(&disable).await;

    assert_eq!(processed.outcome, "removed_guest");
    assert!(state.find_by_email("jane.doe@example.com").is_none());
    assert_eq!(
        state.count_calls(
            "DELETE",
            &format!("/api/v2/team/{}/guest/{jane}", app.team_id)
        ),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn a_clickup_outage_is_retried_until_the_removal_succeeds() {
    let app = spawn_app().await;
    let state = app.sandbox.state();
    state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    state.set_fail_next(2, 503);
    let leaver = fixture_json("iam/04-leaver-terminated.json");

    app.post_iam(&fixture("iam/04-leaver-terminated.json"))
        .await;
    let processed = app.wait_processed(&leaver).await;

    assert_eq!(processed.outcome, "removed_member");
    assert!(state.find_by_email("mark.lee@example.com").is_none());
    let failures = state.calls().iter().filter(|c| c.status == 503).count();
    assert_eq!(failures, 2);
    app.stop().await;
}

#[tokio::test]
async fn a_rate_limited_removal_waits_for_the_reset_and_then_succeeds() {
    let window = std::time::Duration::from_secs(2);
    let app = spawn_app_with(Options {
        rate_limit: Some((2, window)),
        ..Options::default()
    })
    .await;
    let state = app.sandbox.state();
    state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let leaver = fixture_json("iam/04-leaver-terminated.json");

    app.post_iam(&fixture("iam/04-leaver-terminated.json"))
        .await;
    let processed = app.wait_processed(&leaver).await;

    assert_eq!(processed.outcome, "removed_member");
    assert!(state.find_by_email("mark.lee@example.com").is_none());
    let statuses: Vec<u16> = state.calls().iter().map(|c| c.status).collect();
    assert!(
        statuses.contains(&429),
        "the third call hit the limit: {statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_workspace_below_enterprise_fails_the_leaver_with_a_message_that_says_so() {
    let app = spawn_app_with(Options {
        plan: Some(Plan::Business),
        ..Options::default()
    })
    .await;
    app.sandbox
        .state()
        .add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let leaver = fixture_json("iam/04-leaver-terminated.json");

    app.post_iam(&fixture("iam/04-leaver-terminated.json"))
        .await;
    let processed = app.wait_processed(&leaver).await;

    assert_eq!(processed.outcome, "failed");
    assert!(
        processed.detail.contains("Enterprise plan"),
        "{}",
        processed.detail
    );
    assert!(app
        .sandbox
        .state()
        .find_by_email("mark.lee@example.com")
        .is_some());
    let audit = app
        .store
        .audit_by_correlation("term-2026-0077")
        .await
        .unwrap();
    assert_eq!(audit[0].action, "event.received");
    assert_eq!(audit[1].outcome, "failed");
    // Dead-lettered, and the recorder took it off the dead-letter queue into the record.
    wait_for(|| async { app.store.dead_letters(10, None, None).await.unwrap().len() == 1 }).await;
    assert_eq!(app.dead_letters().await, 0);
    app.stop().await;
}

/// name, headers, expected status
type HeaderCase = (&'static str, Vec<(&'static str, String)>, u16);

#[tokio::test]
async fn bad_iam_deliveries_are_refused_and_change_nothing() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let body = fixture("iam/04-leaver-terminated.json");
    let now = chrono::Utc::now().timestamp();
    let mut tampered = iam_headers(&body, now);
    tampered[2].1 = tampered[2].1.replace("v1,", "v1,AAAA");
    let mut wrong_id = iam_headers(&body, now);
    wrong_id[0].1 = "msg_someone_else".into();
    let long_id = iam_headers_with_id(&body, now, format!("msg_{}", "x".repeat(10_000)));

    let cases: Vec<HeaderCase> = vec![
        ("no headers", vec![], 401),
        ("no signature", iam_headers(&body, now)[..2].to_vec(), 401),
        ("no id", iam_headers(&body, now)[1..].to_vec(), 401),
        ("stale", iam_headers(&body, now - 301), 401),
        ("far future", iam_headers(&body, now + 120), 401),
        ("tampered", tampered, 401),
        ("signed for another id", wrong_id, 401),
        ("an id of 10,000 characters", long_id, 401),
    ];
    for (name, headers, status) in cases {
        let response = app.post_iam_with(&body, &headers).await;

        assert_eq!(response.status().as_u16(), status, "{name}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["error"], "signature_rejected", "{name}");
        let message = json["message"].as_str().unwrap();
        assert!(message.len() < 200, "{name}");
        if name.starts_with("an id of") {
            assert!(message.contains("webhook-id must be"), "{message}");
        }
    }

    let mut event = fixture_json("iam/04-leaver-terminated.json");
    event["data"]["user"]["email"] = json!("not-an-email");
    let invalid = serde_json::to_vec(&event).unwrap();
    let refused = json_with_status(app.post_iam(&invalid).await, 400).await;
    assert_eq!(refused["field"], "/data/user/email");
    assert!(!refused["message"]
        .as_str()
        .unwrap()
        .contains("not-an-email"));

    // Valid against the schema, yet about someone else, or dated years ahead (it would
    // outrank every later event about the person).
    let jane = "user:9f2c4e1a7b3d4c5e8a6f0b1c2d3e4f50";
    let far_ahead = (chrono::Utc::now() + chrono::Duration::minutes(6)).to_rfc3339();
    let inconsistent = [
        ("subject", json!(jane), "/subject"),
        ("time", json!("2099-01-01T00:00:00Z"), "/time"),
        ("time", json!(far_ahead), "/time"),
    ];
    for (key, value, field) in inconsistent {
        let mut event = fixture_json("iam/04-leaver-terminated.json");
        event[key] = value;

        let refused = json_with_status(
            app.post_iam(&serde_json::to_vec(&event).unwrap()).await,
            400,
        )
        .await;

        assert_eq!(refused["error"], "invalid_event", "{field}");
        assert_eq!(refused["field"], field);
    }

    let malformed = json_with_status(app.post_iam(b"{\"specversion\":").await, 400).await;
    assert_eq!(malformed["error"], "malformed_json");

    assert_eq!(
        app.depth(Lane::Deprovision).await,
        0,
        "nothing refused reached the broker"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_re_enable_dated_years_ahead_is_refused_and_a_later_disable_still_removes() {
    let app = spawn_app().await;
    let state = app.sandbox.state();
    state.add_member("jane.doe@example.com", "Jane Doe", Role::Member);
    let mut re_enable = fixture_json("iam/06-reenable.json");
    re_enable["id"] = json!("reenable-from-a-clock-in-2099");
    re_enable["time"] = json!("2099-01-01T00:00:00Z");
    let mut disable = fixture_json("iam/05-disable.json");
    disable["time"] = json!(chrono::Utc::now().to_rfc3339());

    let refused = json_with_status(
        app.post_iam(&serde_json::to_vec(&re_enable).unwrap()).await,
        400,
    )
    .await;
    json_with_status(
        app.post_iam(&serde_json::to_vec(&disable).unwrap()).await,
        202,
    )
    .await;
    let processed = app.wait_processed(&disable).await;

    assert_eq!(refused["field"], "/time");
    assert_eq!(processed.outcome, "removed_member", "{}", processed.detail);
    assert!(state.find_by_email("jane.doe@example.com").is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_batch_queues_each_event_on_its_lane() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let body = fixture("iam/12-batch-membership.cloudevents-batch.json");
    let headers = iam_headers(&body, chrono::Utc::now().timestamp());
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/iam", app.url))
        .header("content-type", "application/cloudevents-batch+json")
        .header(headers[0].0, &headers[0].1)
        .header(headers[1].0, &headers[1].1)
        .header(headers[2].0, &headers[2].1)
        .body(body)
        .send()
        .await
        .unwrap();

    let json = json_with_status(response, 202).await;

    assert_eq!(json["accepted"].as_array().unwrap().len(), 2);
    assert_eq!(app.depth(Lane::Provision).await, 2);
    app.stop().await;
}

async fn wait_for<F, Fut>(condition: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if condition().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("condition not met in 10 s");
}
