//! Retry tiers through the real broker: a leaver whose removal fails transiently waits in the
//! tiers' delay queues and succeeds once ClickUp answers again, once; a leaver that fails in
//! every tier ends as a dead letter saying `retries_exhausted` and how many attempts it had.

use std::time::Duration;

use clickup_iam_router::{bus::Lane, sandbox::Role};
use serde_json::{json, Value};

use crate::helpers::{fixture, fixture_json, spawn_app_with, Options, TestApp};

/// A leaver nobody has an account for, so the worker is known to be consuming.
async fn warm_up(app: &TestApp) {
    let warm_up = fixture_json("iam/04-leaver-terminated.json");
    app.post_iam(&fixture("iam/04-leaver-terminated.json"))
        .await;
    assert_eq!(app.wait_processed(&warm_up).await.outcome, "already_absent");
}

fn leaver(id: &str) -> Value {
    let mut leaver = fixture_json("iam/04-leaver-terminated.json");
    leaver["id"] = json!(id);
    leaver
}

fn key(event: &Value) -> String {
    format!(
        "{} {}",
        event["source"].as_str().unwrap(),
        event["id"].as_str().unwrap()
    )
}

#[tokio::test]
async fn a_leaver_clickup_fails_for_two_attempts_goes_through_the_tiers_and_is_removed_once() {
    let app = spawn_app_with(Options {
        retry_tiers: Some("2s,3s"),
        ..Options::default()
    })
    .await;
    warm_up(&app).await;
    let state = app.sandbox.state();
    let mark = state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let attempts_failing = 2;
    state.set_fail_next(
        attempts_failing * app.settings.clickup.clickup_max_attempts as usize,
        503,
    );
    let leaver = leaver("term-tiers-1");
    let tiers = app.settings.bus.retry_tiers.tiers();
    let tier_queues: Vec<String> = tiers
        .iter()
        .map(|t| app.bus.names().retry_queue(*t))
        .collect();
    let first_tier = tier_queues[0].clone();

    app.post_iam(&serde_json::to_vec(&leaver).unwrap()).await;
    let mut seen_in_tiers = Vec::new();
    for (attempt, queue) in tier_queues.iter().enumerate() {
        for _ in 0..400 {
            if app.bus.queue_depth(queue).await.unwrap() == 1 {
                let failure = app
                    .store
                    .message_failure(&key(&leaver), Lane::Deprovision.name())
                    .await
                    .unwrap()
                    .expect("a waiting retry has its failures on record");
                assert_eq!(failure.error_code, "clickup_server_error");
                seen_in_tiers.push((queue.clone(), failure.attempts));
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(
            seen_in_tiers.len(),
            attempt + 1,
            "the copy never sat in {queue}"
        );
    }
    let processed = app.wait_processed(&leaver).await;

    assert_eq!(
        seen_in_tiers,
        vec![(tier_queues[0].clone(), 1), (tier_queues[1].clone(), 2)],
        "one failed attempt before each tier"
    );
    assert_eq!(processed.outcome, "removed_member");
    let failure = app
        .store
        .message_failure(&key(&leaver), Lane::Deprovision.name())
        .await
        .unwrap();
    assert_eq!(failure, None, "pruned with the outcome");
    let removals = state.count_calls(
        "DELETE",
        &format!("/api/v2/team/{}/user/{mark}", app.team_id),
    );
    assert_eq!(removals, 1);
    assert!(state.find_by_email("mark.lee@example.com").is_none());
    assert!(app
        .store
        .dead_letters(10, None, None)
        .await
        .unwrap()
        .is_empty());
    for queue in [first_tier, app.bus.names().queue(Lane::Deprovision)] {
        assert_eq!(app.bus.queue_depth(&queue).await.unwrap(), 0, "{queue}");
    }
    app.stop().await;
}
