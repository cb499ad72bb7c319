//! Dead letters through the bus engine: a permanent failure, a message that keeps failing
//! until the retry tiers are used up, and a body that is no envelope each end as one
//! `dead_letters` row saying where and why; `dlq list` and `dlq show` read them. `replay`
//! replays and drops them.

mod replay;

use std::time::Duration;

use clickup_iam_router::{
    bus::Lane,
    sandbox::{Plan, Role},
    store::DeadLetterRecord,
};
use lapin::{options::BasicPublishOptions, BasicProperties, Connection, ConnectionProperties};
use serde_json::{json, Value};

use crate::{
    helpers::{
        amqp_url, embedded, fixture, fixture_json, spawn_app, spawn_app_with, Options, TestApp,
    },
    metrics::{scrape, value},
    process::output_of,
};

/// Waits for `count` dead letters on record.
async fn wait_for_dead_letters(app: &TestApp, count: usize) -> Vec<DeadLetterRecord> {
    for _ in 0..600 {
        let letters = app.store.dead_letters(50, None, None).await.unwrap();
        if letters.len() >= count {
            return letters;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{count} dead letter(s) not recorded in 30 s");
}

/// Runs the router's own binary against the test's store: (success, stdout, stderr).
async fn dlq_output(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let database = app.settings.store.database_url.expose();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_clickup-iam-router"));
    command
        .arg("dlq")
        .args(args)
        .args(["--database-url", database])
        .env_remove("DATABASE_URL")
        .env_remove("AMQP_URL")
        .env_remove("AMQP_PREFIX");
    let output = output_of(command).await;
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// [`dlq_output`] that must succeed: its stdout.
async fn dlq(app: &TestApp, args: &[&str]) -> String {
    let (ok, out, err) = dlq_output(app, args).await;
    assert!(ok, "{err}");
    out
}

#[tokio::test]
async fn a_leaver_that_fails_for_good_is_recorded_as_a_dead_letter_and_listed() {
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
    assert_eq!(app.wait_processed(&leaver).await.outcome, "failed");
    let letters = wait_for_dead_letters(&app, 1).await;

    let letter = &letters[0];
    assert_eq!(letter.message_id.as_deref(), leaver["id"].as_str());
    assert_eq!(letter.lane.as_deref(), Some("deprovision"));
    assert_eq!(
        letter.source_queue,
        Some(app.bus.names().queue(Lane::Deprovision))
    );
    assert_eq!(letter.routing_key, "iam.user.terminated");
    assert_eq!(letter.reason, "rejected");
    assert_eq!(letter.error_code.as_deref(), Some("enterprise_required"));
    assert!(
        letter.error.as_deref().unwrap().contains("Enterprise plan"),
        "{letter:?}"
    );
    assert_eq!(letter.attempts, 1);
    assert!(letter.first_failed_at <= letter.last_failed_at);
    let detail = app.store.dead_letter(letter.id).await.unwrap().unwrap();
    let envelope: Value = serde_json::from_slice(&detail.envelope).unwrap();
    assert_eq!(envelope["id"], leaver["id"]);
    assert!(envelope["acceptedat"].is_i64(), "{envelope}");

    let listed = dlq(&app, &["list"]).await;
    let line = listed.lines().nth(1).expect("one dead letter listed");
    for expected in ["open", "deprovision", "rejected", "enterprise_required"] {
        assert!(line.contains(expected), "{expected} in {listed}");
    }
    let shown = dlq(&app, &["show", &letter.id.to_string()]).await;
    assert!(shown.contains("Enterprise plan"), "{shown}");
    assert!(
        !shown.contains("mark.lee@example.com"),
        "no envelope unless asked"
    );
    // The counter moves just after the dead letter's row is committed.
    let mut samples = scrape(&app).await;
    for _ in 0..50 {
        let recorded = value(
            &samples,
            "clickup_iam_router_dead_letters_recorded_total",
            &[],
        );
        if recorded.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        samples = scrape(&app).await;
    }
    assert_eq!(
        value(
            &samples,
            "clickup_iam_router_dead_letters_recorded_total",
            &[]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "clickup_iam_router_dead_letters", &[]),
        Some(1.0)
    );
    assert_eq!(app.dead_letters().await, 0, "the dead letter was acked");
    app.stop().await;
}

#[tokio::test]
async fn a_leaver_clickup_keeps_failing_dies_when_the_retry_tiers_are_used_up_with_its_attempts() {
    let app = spawn_app_with(Options {
        retry_tiers: Some("1s,1s"),
        ..Options::default()
    })
    .await;
    let state = app.sandbox.state();
    // A leaver nobody has an account for, so the worker is known to be consuming.
    let warm_up = fixture_json("iam/04-leaver-terminated.json");
    app.post_iam(&fixture("iam/04-leaver-terminated.json"))
        .await;
    assert_eq!(app.wait_processed(&warm_up).await.outcome, "already_absent");
    state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    state.set_fail_next(100_000, 503);
    let mut leaver = warm_up.clone();
    leaver["id"] = json!("term-again-1");

    app.post_iam(&serde_json::to_vec(&leaver).unwrap()).await;
    let letters = wait_for_dead_letters(&app, 1).await;

    let letter = &letters[0];
    let failed_calls = state.calls().iter().filter(|c| c.status == 503).count();
    assert_eq!(letter.message_id.as_deref(), Some("term-again-1"));
    assert_eq!(letter.lane.as_deref(), Some("deprovision"));
    assert_eq!(
        letter.source_queue,
        Some(app.bus.names().queue(Lane::Deprovision))
    );
    assert_eq!(letter.routing_key, "iam.user.terminated");
    assert_eq!(letter.reason, "retries_exhausted");
    assert_eq!(letter.error_code.as_deref(), Some("clickup_server_error"));
    let tiers = app.settings.bus.retry_tiers.tiers().len() as i64;
    assert_eq!(
        letter.attempts,
        1 + tiers,
        "the first delivery and one per tier: {letter:?}"
    );
    assert_eq!(
        failed_calls as i64,
        letter.attempts * i64::from(app.settings.clickup.clickup_max_attempts),
        "every delivery failed after its retries, and each is counted once"
    );
    let retries = value(
        &scrape(&app).await,
        "clickup_iam_router_clickup_retries_total",
        &[("kind", "read_teams")],
    );
    assert_eq!(retries, Some((letter.attempts * 2) as f64));
    let shown = dlq(&app, &["show", &letter.id.to_string()]).await;
    assert!(shown.contains("retries_exhausted"), "{shown}");
    let attempts = shown
        .lines()
        .find(|line| line.trim_start().starts_with("attempts"))
        .unwrap_or_default();
    assert!(attempts.trim_end().ends_with(" 3"), "{shown}");
    assert_eq!(app.depth(Lane::Deprovision).await, 0);
    assert_eq!(app.dead_letters().await, 0, "the dead letter was acked");
    state.set_fail_next(0, 503);
    app.stop().await;
}

/// Queues a body that is no envelope straight into the provision lane, past the receivers.
async fn queue_garbled(app: &TestApp, body: &[u8], message_id: &str) {
    let queue = app.bus.names().queue(Lane::Provision);
    if embedded() {
        // The embedded engine's table, as a publisher from another process would fill it.
        sqlx::query(
            "INSERT INTO bus_messages (queue, routing_key, message_id, correlation_id, body,
                                       available_at, created_at)
             VALUES ($1, 'iam.user.created', $2, $2, $3, 0, 0)",
        )
        .bind(&queue)
        .bind(message_id)
        .bind(body)
        .execute(app.store.pool())
        .await
        .unwrap();
        return;
    }
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .basic_publish(
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions::default(),
            body,
            BasicProperties::default()
                .with_message_id(message_id.into())
                .with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let _ = connection.close(200, "done".into()).await;
}

#[tokio::test]
async fn a_body_that_is_no_envelope_is_recorded_as_undecodable() {
    let app = spawn_app().await;

    queue_garbled(&app, b"this is not json", "garbled-1").await;
    let letters = wait_for_dead_letters(&app, 1).await;

    let letter = &letters[0];
    assert_eq!(letter.message_id.as_deref(), Some("garbled-1"));
    assert_eq!(letter.lane.as_deref(), Some("provision"));
    assert_eq!(letter.reason, "rejected");
    assert_eq!(letter.error_code.as_deref(), Some("undecodable"));
    let detail = app.store.dead_letter(letter.id).await.unwrap().unwrap();
    assert_eq!(detail.envelope, b"this is not json");
    app.stop().await;
}

/// A dead letter whose body is no envelope (recorded directly).
fn garbled(message_id: &str) -> clickup_iam_router::store::NewDeadLetter {
    clickup_iam_router::store::NewDeadLetter {
        fingerprint: format!("test-{message_id}"),
        message_id: Some(message_id.into()),
        lane: Some("deprovision".into()),
        source_queue: None,
        routing_key: "iam.user.terminated".into(),
        reason: "rejected".into(),
        error_code: Some("undecodable".into()),
        error: None,
        attempts: 1,
        first_failed_at: 1,
        last_failed_at: 2,
        envelope: b"not json".to_vec(),
        failure_key: None,
    }
}
