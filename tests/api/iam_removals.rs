//! Leavers whose removal is not the plain case: the same delivery twice, an account gone
//! before the DELETE lands, a person with no ClickUp account.

use clickup_iam_router::{
    bus::Lane,
    sandbox::{CallFault, Role},
};

use crate::helpers::{fixture, fixture_json, json_with_status, spawn_app, spawn_app_with, Options};

/// The same delivery twice: one message on the bus (counted before any worker takes it),
/// one `event.received` row, and once a worker runs, one ClickUp removal.
#[tokio::test]
async fn the_same_leaver_twice_gives_one_message_and_one_clickup_removal() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let state = app.sandbox.state();
    let mark = state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let body = fixture("iam/04-leaver-terminated.json");

    let first = json_with_status(app.post_iam(&body).await, 202).await;
    let again = json_with_status(app.post_iam(&body).await, 200).await;
    let queued = app.depth(Lane::Deprovision).await;
    let app = app
        .restart(std::time::Duration::ZERO, |settings| {
            settings.run_worker = true
        })
        .await;
    let processed = app
        .wait_processed(&fixture_json("iam/04-leaver-terminated.json"))
        .await;

    assert_eq!(first["status"], "accepted");
    assert_eq!(again["status"], "duplicate");
    assert_eq!(queued, 1, "one message on the bus");
    assert_eq!(processed.outcome, "removed_member");
    assert_eq!(
        state.count_calls(
            "DELETE",
            &format!("/api/v2/team/{}/user/{mark}", app.team_id)
        ),
        1
    );
    assert_eq!(state.count_calls("DELETE", "/api/v2/team/"), 1);
    let received = app
        .store
        .audit_by_correlation("term-2026-0077")
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.action == "event.received")
        .count();
    assert_eq!(received, 1);
    assert_eq!(app.depth(Lane::Deprovision).await, 0);
    app.stop().await;
}

/// Removed by someone else between the router's lookup and its DELETE: ClickUp's 404 is the
/// outcome the router wanted, recorded as such, with no retry and no dead letter.
#[tokio::test]
async fn a_member_gone_before_the_delete_lands_is_a_success() {
    let app = spawn_app().await;
    let state = app.sandbox.state();
    let mark = state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let removal = format!("/api/v2/team/{}/user/{mark}", app.team_id);
    state.fail_call("DELETE", &removal, CallFault::Refuse(404));
    let leaver = fixture_json("iam/04-leaver-terminated.json");

    json_with_status(
        app.post_iam(&fixture("iam/04-leaver-terminated.json"))
            .await,
        202,
    )
    .await;
    let processed = app.wait_processed(&leaver).await;

    assert_eq!(processed.outcome, "already_absent");
    assert_eq!(state.count_calls("DELETE", &removal), 1);
    assert_eq!(app.dead_letters().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_leaver_without_a_clickup_account_is_a_success() {
    let app = spawn_app().await;
    let leaver = fixture_json("iam/04-leaver-terminated.json");

    app.post_iam(&fixture("iam/04-leaver-terminated.json"))
        .await;
    let processed = app.wait_processed(&leaver).await;

    assert_eq!(processed.outcome, "already_absent");
    assert_eq!(
        app.sandbox.state().count_calls("DELETE", "/api/v2/team/"),
        0
    );
    assert_eq!(app.dead_letters().await, 0);
    assert!(app
        .store
        .dead_letters(10, None, None)
        .await
        .unwrap()
        .is_empty());
    app.stop().await;
}
